#!/usr/bin/env bash
# bench/bench_decode.sh - decoding speed on archived binlogs: `sluice capture
# --binlog-files` (decode, build records, compress, write and fsync segments)
# against `mariadb-binlog --base64-output=decode-rows -vv FILE > /dev/null`
# (decode and print), over the same large binlog that sysbench writes on a
# local MariaDB; and the segments' size against `zstd -1` and `zstd -3` of the
# same binlog files. See bench/README.md.
#
#   bash bench/bench_decode.sh                 (SLUICE_BIN=path for another build;
#                                               use a build without sanitizers)
#   BENCH_EVENTS=20000 bash bench/bench_decode.sh   (a smaller binlog)
#   BENCH_ROUNDS=5 bash bench/bench_decode.sh  (rounds; BENCH_REPEAT is the older name)
#   BENCH_BINLOG_DIR=DIR bash bench/bench_decode.sh  (keep the generated binlog
#                                               files in DIR; reuse them when DIR
#                                               already holds mysql-bin.* files)
#
# Each round times, one after the other: sluice capture, mariadb-binlog, and
# (when the zstd CLI is installed) `zstd -1` and `zstd -3 --single-thread -c
# FILES > FILE`. Reports row events/s and MB/s of binlog for the two decoders
# and the ratio (target: sluice >= 3x), and for the segment-size comparison
# the bytes, % of the binlog and MB/s of binlog consumed (best of the rounds);
# every round's figures go to BENCH_RESULTS (bench/lib.sh) as comparisons
# `decode` and `segment-size`. Exit: 0 report printed (a missed target is
# reported, not failed), 1 a run failed (or a zstd output does not give the
# binlog back), 77 sysbench or the server is missing.
set -euo pipefail
TEST_NAME=bench_decode
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/harness.sh
source "$BENCH_DIR/../tests/integration/harness.sh"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-100000}
EVENTS=${BENCH_EVENTS:-60000}
THREADS=${BENCH_THREADS:-8}
MAX_TIME=${BENCH_MAX_TIME:-300}
REPEAT=${BENCH_ROUNDS:-${BENCH_REPEAT:-3}}	# BENCH_REPEAT: the older name

command -v sysbench >/dev/null || skip "sysbench not installed (scripts/install-deps.sh installs it)"
command -v mariadb-binlog >/dev/null || skip "mariadb-binlog not installed"
require_sluice

# timed NAME CMD...: runs CMD once, stdout to $WORK/NAME.out, stderr to
# $WORK/NAME.err; its wall seconds in T_LAST. A failure fails the script.
timed() {
	local name=$1 start end rc=0
	shift
	start=$EPOCHREALTIME
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
	end=$EPOCHREALTIME
	if ((rc != 0)); then
		tail -n 20 "$WORK/$name.err" >&2
		fail "$name exited $rc: $*"
	fi
	T_LAST=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }')
}

# per FORMAT SCALE A B: SCALE * A / B printed with the printf FORMAT (awk: no
# interpreter start-up for each figure)
per() {
	awk -v f="$1" -v k="$2" -v a="$3" -v b="$4" 'BEGIN { printf f "\n", k * a / b }'
}

# commas N: N with thousands separators
commas() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }

generate() {
	local out=$1
	start_servers 1
	local datadir=${_H_DIRS[0]}/data
	log "sysbench prepare ($TABLES x $TABLE_SIZE rows) and run ($EVENTS events, $THREADS threads)"
	src_sql -e "CREATE DATABASE sbtest"
	local -a sb=(oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK" --mysql-user=root
		--mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" --rand-seed=7)
	sysbench "${sb[@]}" --threads=1 prepare >"$WORK/prepare.log" 2>&1 ||
		{ tail "$WORK/prepare.log" >&2; fail "sysbench prepare failed"; }
	sysbench "${sb[@]}" --threads="$THREADS" --events="$EVENTS" --time="$MAX_TIME" \
		--report-interval=0 run >"$WORK/run.log" 2>&1 ||
		{ tail "$WORK/run.log" >&2; fail "sysbench run failed"; }
	src_sql -e "FLUSH BINARY LOGS"
	mkdir -p "$out"
	local f
	while IFS= read -r f; do
		cp "$datadir/$(basename "$f")" "$out/"
	done < <(head -n -1 "$datadir/mysql-bin.index")
	stop_servers
}

# One line per figure of a round in $WORK/rounds: "NAME SECONDS BYTES" (BYTES:
# the output's size for the segment-size comparison, else 0).
main() {
	local bdir=${BENCH_BINLOG_DIR:-$WORK/binlogs} generated=0
	if ! compgen -G "$bdir/mysql-bin.[0-9]*" >/dev/null; then
		generate "$bdir"
		generated=1
	else
		log "reusing the binlog files in $bdir"
	fi
	local -a files=()
	local f
	for f in "$bdir"/mysql-bin.[0-9]*; do files+=("$f"); done	# glob order: sorted
	local bytes
	bytes=$(cat "${files[@]}" | wc -c)
	local have_zstd=1
	command -v zstd >/dev/null || {
		have_zstd=0
		log "zstd not installed (package zstd): the segment-size comparison has no zstd rows"
	}
	sync

	local peer_rows
	peer_rows=$(mariadb-binlog --no-defaults --base64-output=decode-rows -v "${files[@]}" 2>/dev/null |
		grep -c -E '^### (INSERT INTO|UPDATE|DELETE FROM) ' || true)
	# the raw binlog bytes zstd must give back (checked in round 1, outside the timing)
	((have_zstd)) && cat "${files[@]}" >"$WORK/binlog.raw"

	local r rows='' round_rows seg_bytes zb level mb_s nseg=0 nopen
	: >"$WORK/rounds"
	for ((r = 1; r <= REPEAT; r++)); do
		BENCH_RUN=$r
		log "round $r of $REPEAT: sluice capture --binlog-files (${#files[@]} files, $bytes bytes)"
		rm -rf "$WORK/stream"
		timed sluice "$SLUICE" capture --binlog-files "${files[@]}" --dir "$WORK/stream"
		local t_sluice=$T_LAST
		round_rows=$(sed -n 's/.*captured [0-9]* transactions, \([0-9]*\) rows.*/\1/p' "$WORK/sluice.err" | tail -n 1)
		[[ -n "$round_rows" && "$round_rows" -gt 0 ]] || fail "sluice reported no rows"
		[[ -z "$rows" || "$rows" == "$round_rows" ]] || fail "sluice captured $round_rows rows in round $r, $rows before"
		rows=$round_rows
		# the sealed segments: capture seals at rest, so an .open left over is a bug
		nopen=$(find "$WORK/stream" -maxdepth 1 -name '*.open' | wc -l)
		((nopen == 0)) || fail "capture left $nopen open segment(s) in $WORK/stream"
		nseg=$(find "$WORK/stream" -maxdepth 1 -name '*.seg' | wc -l)
		((nseg > 0)) || fail "capture wrote no sealed segment"
		seg_bytes=$(find "$WORK/stream" -maxdepth 1 -name '*.seg' -printf '%s\n' | awk '{ s += $1 } END { print s }')
		echo "sluice $t_sluice $seg_bytes" >>"$WORK/rounds"
		mb_s=$(per %.3f 1e-6 "$bytes" "$t_sluice")
		bench_result decode "sluice capture --binlog-files" seconds "$t_sluice" s
		bench_result decode "sluice capture --binlog-files" rows_per_s "$(per %.1f 1 "$rows" "$t_sluice")" rows/s
		bench_result decode "sluice capture --binlog-files" mb_per_s "$mb_s" MB/s
		bench_result segment-size "sluice segments" bytes "$seg_bytes" B
		bench_result segment-size "sluice segments" pct_of_binlog "$(per %.2f 100 "$seg_bytes" "$bytes")" %
		bench_result segment-size "sluice segments" mb_per_s "$mb_s" MB/s

		log "round $r of $REPEAT: mariadb-binlog --base64-output=decode-rows -vv > /dev/null"
		timed peer bash -c 'mariadb-binlog --no-defaults --base64-output=decode-rows -vv "$@" >/dev/null' _ "${files[@]}"
		echo "peer $T_LAST 0" >>"$WORK/rounds"
		bench_result decode "mariadb-binlog -vv" seconds "$T_LAST" s
		bench_result decode "mariadb-binlog -vv" rows_per_s "$(per %.1f 1 "$rows" "$T_LAST")" rows/s
		bench_result decode "mariadb-binlog -vv" mb_per_s "$(per %.3f 1e-6 "$bytes" "$T_LAST")" MB/s

		((have_zstd)) || continue
		for level in 1 3; do
			# to the disk of the segments ($WORK), one thread, timed alone
			log "round $r of $REPEAT: zstd -$level --single-thread -c FILES > FILE"
			rm -f "$WORK/zstd$level.zst"
			# shellcheck disable=SC2016 # expanded by the inner bash
			timed "zstd$level" bash -c 'zstd -q -"$1" --single-thread -c "${@:3}" >"$2"' _ \
				"$level" "$WORK/zstd$level.zst" "${files[@]}"
			zb=$(stat -c %s "$WORK/zstd$level.zst")
			if ((r == 1)); then
				zstd -q -d -c "$WORK/zstd$level.zst" | cmp -s - "$WORK/binlog.raw" ||
					fail "zstd -$level output does not decompress to the binlog files"
			fi
			echo "zstd$level $T_LAST $zb" >>"$WORK/rounds"
			bench_result segment-size "zstd -$level" bytes "$zb" B
			bench_result segment-size "zstd -$level" pct_of_binlog "$(per %.2f 100 "$zb" "$bytes")" %
			bench_result segment-size "zstd -$level" mb_per_s "$(per %.3f 1e-6 "$bytes" "$T_LAST")" MB/s
		done
	done
	rm -f "$WORK/binlog.raw" "$WORK"/zstd?.zst

	BENCH_RUN=1
	local note
	note="$(commas "$bytes") bytes of binlog (${#files[@]} file(s)"
	if ((generated)); then
		note="$note: $TABLES tables x $(commas "$TABLE_SIZE") rows, $(commas "$EVENTS") sysbench oltp_write_only events ($THREADS threads))"
	else
		note="$note reused from $bdir)"
	fi
	note="$note; $(commas "$rows") row events; $REPEAT rounds"
	bench_note decode "$note; sluice writes and fsyncs segments, mariadb-binlog -vv prints to /dev/null"
	bench_note segment-size "$note; $nseg sealed segment(s) per capture; zstd --single-thread -c FILES > FILE on the segments' disk, timed alone$( ((have_zstd)) || echo '; zstd not installed: no zstd rows')"

	python3 - "$rows" "$peer_rows" "$bytes" "$REPEAT" "$WORK/rounds" <<'PY'
import sys
rows, peer_rows, b = (float(x) for x in sys.argv[1:4])
repeat = int(sys.argv[4])
t, size = {}, {}
for line in open(sys.argv[5]):
    name, secs, out = line.split()
    t.setdefault(name, []).append(float(secs))
    size[name] = int(out)
mb = b / 1e6
best = {k: min(v) for k, v in t.items()}
ts, tp = best["sluice"], best["peer"]
print("decode benchmark: %d binlog bytes (%.1f MB), %d row events (mariadb-binlog counts %d), best of %d" % (b, mb, rows, peer_rows, repeat))
print("  %-44s %8.3f s  %12.0f rows/s  %8.1f MB/s" % ("sluice capture --binlog-files (+ segments)", ts, rows / ts, mb / ts))
print("  %-44s %8.3f s  %12.0f rows/s  %8.1f MB/s" % ("mariadb-binlog -vv > /dev/null", tp, rows / tp, mb / tp))
r = tp / ts
print("  ratio (peer time / sluice time): %.2fx  target >= 3x: %s" % (r, "ok" if r >= 3 else "MISSED"))
print("  each round, seconds: sluice %s | mariadb-binlog %s" % (" ".join("%.3f" % x for x in t["sluice"]), " ".join("%.3f" % x for x in t["peer"])))
print("segment size: the same %d binlog bytes; MB/s of binlog consumed, best of %d" % (b, repeat))
print("  %-44s %14s  %8s  %8s" % ("", "bytes", "% binlog", "MB/s"))
for name, label in (("sluice", "sluice segments (capture, fsync'd)"), ("zstd1", "zstd -1 --single-thread"), ("zstd3", "zstd -3 --single-thread")):
    if name not in size:
        print("  %-44s %s" % (label, "not measured (zstd not installed)"))
        continue
    print("  %-44s %14d  %7.2f%%  %8.1f" % (label, size[name], 100.0 * size[name] / b, mb / best[name]))
if "zstd1" in size:
    print("  sluice segments / zstd -1 bytes: %.2fx, / zstd -3 bytes: %.2fx" % (size["sluice"] / size["zstd1"], size["sluice"] / size["zstd3"]))
if rows != peer_rows:
    print("  WARNING: row event counts differ")
PY
}

main "$@"
