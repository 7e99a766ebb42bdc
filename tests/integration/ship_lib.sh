# shellcheck shell=bash
# ship_lib.sh - helpers shared by test_ship.sh and test_ship_crash.sh (issue 15,
# `sluice ship` / `sluice receive` through NATS JetStream). Source it after
# harness.sh and nats.sh:
#
#   require_ship              fails (never skips) when the build has no ship/receive
#   bg_sluice NAME ARGS...    sluice in the background, output appended to
#                             $WORK/NAME.{out,err} (restarts keep the log); BG_PID
#   sealed_segs DIR           the sealed segment file names of DIR, sorted
#   newest_seq DIR            the sequence number of DIR's newest sealed segment (0: none)
#   wait_seg DIR SEQ SECS [NAME:PID...]  waits until DIR holds sealed segment SEQ;
#                             prints the milliseconds it took; fails after SECS, or
#                             as soon as a PID (a --follow service) has ended, with
#                             the tail of each $WORK/NAME.err
#   same_segments A B         the same sealed segment names in A and B, each file
#                             byte for byte equal (SHA-256); prints how many
#   seg_state DIR             the names and SHA-256 of DIR's sealed segments (to
#                             show that a command added or changed nothing)
#   ledger_figures TABLE N    lost and dup of the keyless ledger TABLE (column seq)
#                             on server N against the source: prints "LOST DUP"
#   check_messages OUT DIR    a receive that read the whole stream (its output
#                             in $WORK/OUT.out: "(K added, B bytes, M messages)")
#                             read exactly the chunks of DIR's sealed segments:
#                             one more is a chunk published twice. Prints M
#   now_ms                    a millisecond clock
#   p50 FILE                  the median of the numbers in FILE, one per line
# RETRY_RE matches the line a command logs per retry attempt (the backoff of
# capture and replay, README "Reconnecting").

# shellcheck disable=SC2034 # read by the tests that source this file
RETRY_RE='reconnect|retry|retrying|attempt'

require_ship() {
	local c
	for c in ship receive; do
		if ! "$SLUICE" "$c" --help >/dev/null 2>&1; then
			fail "sluice $c is not in this build ($SLUICE $c --help fails)"
		fi
	done
}

bg_sluice() {
	local name=$1
	shift
	local -a pre=()
	if env --default-signal=INT true 2>/dev/null; then
		pre=(env "--default-signal=INT,TERM")
	fi
	"${pre[@]+"${pre[@]}"}" "$SLUICE" "$@" >>"$WORK/$name.out" 2>>"$WORK/$name.err" </dev/null &
	BG_PID=$!
	track_pid "$BG_PID"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

sealed_segs() {
	[[ -d "$1" ]] || return 0
	find "$1" -maxdepth 1 -name '*.seg' -printf '%f\n' | LC_ALL=C sort
}

newest_seq() {
	local last
	last=$(sealed_segs "$1" | tail -n 1)
	if [[ -z "$last" ]]; then
		echo 0
	else
		echo $((10#${last%.seg}))
	fi
}

wait_seg() {
	local dir=$1 seq=$2 secs=$3 t0 f w why=
	shift 3
	f=$dir/$(printf '%020d.seg' "$seq")
	t0=$(now_ms)
	while [[ ! -f "$f" ]]; do
		for w in "$@"; do
			if [[ "$w" == *:* ]] && ! kill -0 "${w#*:}" 2>/dev/null; then
				why="${w%%:*} (pid ${w#*:}) ended"
			fi
		done
		if [[ -z "$why" ]] && (($(now_ms) - t0 > secs * 1000)); then
			why="$secs s passed"
		fi
		if [[ -n "$why" ]]; then
			for w in "$@"; do
				echo "--- ${w%%:*} (stderr, tail) ---" >&2
				tail -n 15 "$WORK/${w%%:*}.err" >&2 || true
			done
			fail "segment $seq did not arrive in $dir: $why (newest there: $(newest_seq "$dir"))"
		fi
		sleep 0.05
	done
	echo $(($(now_ms) - t0))
}

same_segments() {
	local a=$1 b=$2
	seg_state "$a" >"$WORK/segs.a"
	seg_state "$b" >"$WORK/segs.b"
	if ! cmp -s "$WORK/segs.a" "$WORK/segs.b"; then
		diff "$WORK/segs.a" "$WORK/segs.b" | head -n 6 >&2 || true
		fail "$b does not hold the same sealed segments as $a, byte for byte (SHA-256 above)"
	fi
	grep -c -v ' open$' "$WORK/segs.a" || true
}

# One line per sealed segment, "NAME SHA-256", then "NAME open" per open one.
seg_state() {
	local -a segs
	mapfile -t segs < <(sealed_segs "$1")
	if ((${#segs[@]})); then
		(cd "$1" && sha256sum -- "${segs[@]}") | awk '{ print $2, $1 }'
	fi
	find "$1" -maxdepth 1 -name '*.open' -printf '%f open\n' 2>/dev/null | LC_ALL=C sort
}

check_messages() {
	local out=$WORK/$1.out dir=$2 m lo hi
	m=$(sed -n -E 's/.*[(, ]([0-9]+) messages\).*/\1/p' "$out" | tail -n 1)
	[[ -n "$m" ]] || fail "receive did not say how many messages it read: $(cat "$out")"
	# a chunk is at most 1 MiB and at least 900,000 bytes (the server's max
	# payload, 1 MiB by default, less the headers)
	read -r lo hi < <(find "$dir" -maxdepth 1 -name '*.seg' -printf '%s\n' |
		awk '{ lo += int(($1 + 1048575) / 1048576); hi += int(($1 + 899999) / 900000) } END { print lo + 0, hi + 0 }')
	((m >= lo && m <= hi)) ||
		fail "the stream holds $m messages for the $lo to $hi chunks of $dir's segments: a chunk published twice, or one missing"
	echo "$m"
}

ledger_figures() {
	local table=$1 n=$2 a b lost dup
	a=$WORK/ledger.src
	b=$WORK/ledger.dst$n
	src_sql -N -B -e "SELECT seq FROM $table" | LC_ALL=C sort -u >"$a" || fail "cannot read $table on the source"
	srv_sql "$n" -N -B -e "SELECT seq FROM $table" | LC_ALL=C sort >"$b" || fail "cannot read $table on server $n"
	lost=$(LC_ALL=C comm -23 "$a" <(LC_ALL=C sort -u "$b") | wc -l)
	dup=$(($(wc -l <"$b") - $(LC_ALL=C sort -u "$b" | wc -l)))
	echo "$lost $dup"
}

p50() {
	LC_ALL=C sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'
}
