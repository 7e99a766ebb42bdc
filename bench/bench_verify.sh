#!/usr/bin/env bash
# bench/bench_verify.sh - `sluice verify` against the peers on the same two
# servers and the same data: CHECKSUM TABLE on both sides (no row-level
# answer, the floor), and a chunked BIT_XOR(CRC32(CONCAT_WS(...))) comparison
# done the way pt-table-checksum does it, scripted with the mariadb client
# (10,000-row chunks: its index-walking boundary queries and REPLACE INTO
# percona.checksums, and a lean read-only variant over fixed id ranges).
#
#   bash bench/bench_verify.sh                 (SLUICE_BIN=path to use another build)
#   BENCH_TABLES=4 BENCH_TABLE_SIZE=20000 BENCH_ROUNDS=3 bash bench/bench_verify.sh
#     (the quick size)
#   BENCH_BASE_BIN=old/build/sluice bash bench/bench_verify.sh  (before/after: a
#     second build's --no-table-checksum timed in the same rounds)
#
# Prints seconds (median of BENCH_ROUNDS), rows/s, the servers' CPU seconds per
# method, ratios, and sluice's peak RSS. Targets: sluice >= 2x the pt-table-checksum
# way, within 1.5x of CHECKSUM TABLE, RSS < 256 MiB (issue 4); `verify
# --no-table-checksum` at least as fast as the lean chunked CRC (issue 11).
# Every round's figures of every method go to BENCH_RESULTS (bench/lib.sh) as
# comparison `verify`. Exit: 0 report printed and every method found the sides equal; 1 a run
# failed or a method saw a difference; 77 sysbench or the servers are missing.
set -euo pipefail
TEST_NAME=bench_verify
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Enough buffer pool that every method reads from memory, not from disk.
export HARNESS_MARIADBD_ARGS="${HARNESS_MARIADBD_ARGS:---innodb-buffer-pool-size=768M}"
# shellcheck source=tests/integration/harness.sh
source "$BENCH_DIR/../tests/integration/harness.sh"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

TABLES=${BENCH_TABLES:-8}
TABLE_SIZE=${BENCH_TABLE_SIZE:-100000}
CHUNK=${BENCH_CHUNK:-10000}
THREADS=${BENCH_VERIFY_THREADS:-4}
ROUNDS=${BENCH_ROUNDS:-5}
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-600}

command -v sysbench >/dev/null || skip "sysbench not installed (scripts/install-deps.sh installs it)"
require_sluice

# Wall clock and the differences below without an interpreter start-up for
# each figure (a few per method and round: they slowed the rounds down).
now() { printf '%s\n' "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
commas() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }	# N with thousands separators
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.2f' % (a / b if b else float('inf')))" "$1" "$2"; }
median() { python3 -c "import statistics, sys; print('%.3f' % statistics.median(map(float, sys.argv[1:])))" "$@"; }
# CPU seconds (user + system) both servers have used so far: the work a method
# costs them, which other load on the machine changes less than wall time
CLK_TCK=$(getconf CLK_TCK)
server_cpu() {
	local pid line t=0
	local -a f
	for pid in "${_H_PIDS[@]}"; do
		read -r line <"/proc/$pid/stat"
		read -ra f <<<"${line##*)}"	# after the command name: state, ppid, ...
		t=$((t + f[11] + f[12]))	# utime, stime (clock ticks)
	done
	awk -v t="$t" -v hz="$CLK_TCK" 'BEGIN { printf "%.3f\n", t / hz }'
}
verdict() {
	python3 -c '
import operator, sys
a, op, b = float(sys.argv[1]), sys.argv[2], float(sys.argv[3])
print("ok" if {"ge": operator.ge, "le": operator.le, "lt": operator.lt}[op](a, b) else "MISSED")' "$1" "$2" "$3"
}

tables_list() {
	local i sep=
	for i in $(seq 1 "$TABLES"); do printf '%ssbtest.sbtest%d' "$sep" "$i"; sep=,; done
}

# CHECKSUM TABLE on both sides at once; the checksums must match.
run_checksum() {
	local t
	t=$(tables_list)
	src_sql -N -B -e "CHECKSUM TABLE $t" >"$WORK/cks.src" &
	local p=$!
	dst_sql -N -B -e "CHECKSUM TABLE $t" >"$WORK/cks.dst"
	wait "$p"
	cmp -s "$WORK/cks.src" "$WORK/cks.dst" || fail "CHECKSUM TABLE differs"
}

# The pt-table-checksum way, lean: per chunk COUNT(*) and BIT_XOR(CRC32(CONCAT_WS(...)))
# with NULL flags over fixed id ranges; one client per side running every chunk
# query in turn, both sides in parallel, nothing written.
crc_expr="BIT_XOR(CAST(CRC32(CONCAT_WS('#', id, k, c, pad,
	CONCAT(ISNULL(id), ISNULL(k), ISNULL(c), ISNULL(pad)))) AS UNSIGNED))"
crc_sql() {
	local i lo
	for i in $(seq 1 "$TABLES"); do
		for ((lo = 1; lo <= TABLE_SIZE; lo += CHUNK)); do
			echo "SELECT $i, $lo, COUNT(*), $crc_expr FROM sbtest.sbtest$i
				WHERE id BETWEEN $lo AND $((lo + CHUNK - 1));"
		done
	done
}
run_crc() {
	src_sql -N -B <"$WORK/crc.sql" >"$WORK/crc.src" &
	local p=$!
	dst_sql -N -B <"$WORK/crc.sql" >"$WORK/crc.dst"
	wait "$p"
	cmp -s "$WORK/crc.src" "$WORK/crc.dst" || fail "chunked CRC differs"
}

# As pt-table-checksum really runs it: on the source, per chunk a boundary query
# walking the PRIMARY index (its "nibble") and REPLACE INTO percona.checksums ...
# SELECT COUNT(*), BIT_XOR(CRC32(...)); the replica runs the same REPLACE for the
# same boundaries (here: in parallel, as replication would); then the stored
# checksums of both sides are compared.
pt_setup() {
	echo "CREATE DATABASE IF NOT EXISTS percona;
	CREATE TABLE IF NOT EXISTS percona.checksums (db CHAR(64) NOT NULL, tbl CHAR(64) NOT NULL,
	  chunk INT NOT NULL, lower_boundary TEXT, upper_boundary TEXT, this_crc CHAR(40) NOT NULL,
	  this_cnt INT NOT NULL, ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	  PRIMARY KEY (db, tbl, chunk)) ENGINE=InnoDB;"
}
pt_sql() { # SIDE: src walks the index for the upper boundary, dst gets it as a constant
	local side=$1 i lo n
	for i in $(seq 1 "$TABLES"); do
		n=0
		for ((lo = 1; lo <= TABLE_SIZE; lo += CHUNK)); do
			n=$((n + 1))
			if [[ $side == src ]]; then
				echo "SET @lb = $lo, @ub = NULL;
				SELECT id INTO @ub FROM sbtest.sbtest$i FORCE INDEX(PRIMARY) WHERE id >= @lb
				  ORDER BY id LIMIT $((CHUNK - 1)), 1;
				SET @ub = IFNULL(@ub, $((lo + CHUNK - 1)));"
			else
				echo "SET @lb = $lo, @ub = $((lo + CHUNK - 1));"
			fi
			echo "REPLACE INTO percona.checksums (db, tbl, chunk, lower_boundary, upper_boundary,
			  this_cnt, this_crc) SELECT 'sbtest', 'sbtest$i', $n, @lb, @ub, COUNT(*),
			  COALESCE(LOWER(CONV($crc_expr, 10, 16)), 0) FROM sbtest.sbtest$i FORCE INDEX(PRIMARY)
			  WHERE id >= @lb AND id <= @ub;"
		done
	done
}
run_pt() {
	src_sql <"$WORK/pt.src.sql" &
	local p=$!
	dst_sql <"$WORK/pt.dst.sql"
	wait "$p"
	local q="SELECT tbl, chunk, this_cnt, this_crc FROM percona.checksums ORDER BY tbl, chunk"
	src_sql -N -B -e "$q" >"$WORK/pt.src" &
	p=$!
	dst_sql -N -B -e "$q" >"$WORK/pt.dst"
	wait "$p"
	cmp -s "$WORK/pt.src" "$WORK/pt.dst" || fail "pt-style checksums differ"
}

run_sluice_verify() {
	local -a extra=()
	[[ -n "${SLUICE_VERIFY_EXTRA:-}" ]] && extra=("$SLUICE_VERIFY_EXTRA")
	/usr/bin/time -v -o "$WORK/verify.time" "$SLUICE" verify --source "$SRC_URL" --dest "$DST_URL" \
		--include sbtest --threads "$THREADS" --chunk-rows "$CHUNK" --json "$WORK/verify.json" \
		"${extra[@]+"${extra[@]}"}" \
		>"$WORK/verify.out" 2>"$WORK/verify.err" || {
		cat "$WORK/verify.out" "$WORK/verify.err" >&2
		fail "sluice verify did not find the sides equal"
	}
	awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/verify.time" >"$WORK/verify.rss"
}

# The tool each method's figures are reported as in BENCH_RESULTS (comparison
# `verify`: the names bench/report.py tabulates); base (BENCH_BASE_BIN, a second
# build for before/after) is printed here only.
declare -A TOOL=(
	[sluice]="sluice verify"
	[full]="sluice verify --no-table-checksum"
	[cks]="CHECKSUM TABLE"
	[pt]="chunked CRC (pt-table-checksum way)"
	[crc]="lean chunked CRC"
)
timed() { # NAME FN: appends the wall seconds of FN to T_NAME and the servers' CPU seconds to C_NAME
	local s e v c0 c1 t c
	c0=$(server_cpu)
	s=$(now)
	"$2"
	e=$(now)
	c1=$(server_cpu)
	t=$(secs "$s" "$e")
	c=$(secs "$c0" "$c1")
	v="T_$1"
	printf -v "T_$1" '%s %s' "${!v:-}" "$t"
	v="C_$1"
	printf -v "C_$1" '%s %s' "${!v:-}" "$c"
	# this round's figures (BENCH_RUN: the round), for bench/run
	[[ -n "${TOOL[$1]:-}" ]] || return 0
	bench_result verify "${TOOL[$1]}" seconds "$t" s
	bench_result verify "${TOOL[$1]}" rows_per_s \
		"$(awk -v n="$((TABLES * TABLE_SIZE))" -v t="$t" 'BEGIN { printf "%.1f\n", n / t }')" rows/s
	bench_result verify "${TOOL[$1]}" cpu_servers_s "$c" s
	if [[ $1 == sluice || $1 == full ]]; then	# run_sluice_verify measured its peak RSS
		bench_result verify "${TOOL[$1]}" rss_mib \
			"$(awk -v k="$(cat "$WORK/verify.rss")" 'BEGIN { printf "%.1f\n", k / 1024 }')" MiB
	fi
}
run_full() { SLUICE_VERIFY_EXTRA=--no-table-checksum run_sluice_verify; }
# BENCH_BASE_BIN: another build (e.g. the commit before a change), same options as run_full
run_base() {
	"$BENCH_BASE_BIN" verify --source "$SRC_URL" --dest "$DST_URL" --include sbtest --threads "$THREADS" \
		--chunk-rows "$CHUNK" --no-table-checksum >"$WORK/base.out" 2>&1 || {
		cat "$WORK/base.out" >&2
		fail "$BENCH_BASE_BIN verify did not find the sides equal"
	}
}

# Lets the servers finish the background work of the load (dirty pages,
# purge) before anything is timed, so that it lands in no method's figures.
quiesce() {
	local n i d
	for n in 1 2; do srv_sql "$n" -e "SET GLOBAL innodb_max_dirty_pages_pct = 0"; done
	for i in $(seq 1 60); do
		d=0
		for n in 1 2; do
			d=$((d + $(srv_sql "$n" -N -B -e "SELECT variable_value FROM information_schema.global_status
				WHERE variable_name = 'INNODB_BUFFER_POOL_PAGES_DIRTY'")))
		done
		((d < 100)) && break
		sleep 0.5
	done
	for n in 1 2; do srv_sql "$n" -e "SET GLOBAL innodb_max_dirty_pages_pct = DEFAULT"; done
}

main() {
	[[ -x /usr/bin/time ]] || skip "/usr/bin/time not installed (peak RSS)"
	start_servers 2
	log "sysbench prepare: $TABLES tables x $TABLE_SIZE rows on the source, copied to the destination"
	src_sql -e "CREATE DATABASE sbtest"
	sysbench oltp_read_only --db-driver=mysql --mysql-socket="$SRC_SOCK" --mysql-user=root \
		--mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" --threads="$TABLES" \
		prepare >"$WORK/prepare.log" 2>&1 || { tail "$WORK/prepare.log" >&2; fail "sysbench prepare failed"; }
	dst_sql -e "CREATE DATABASE sbtest"
	mariadb-dump --no-defaults -uroot -S "$SRC_SOCK" --single-transaction sbtest | dst_sql sbtest
	crc_sql >"$WORK/crc.sql"
	pt_setup | src_sql
	pt_setup | dst_sql
	pt_sql src >"$WORK/pt.src.sql"
	pt_sql dst >"$WORK/pt.dst.sql"
	log "warm-up (every method once)"
	run_checksum
	run_crc
	run_pt
	run_sluice_verify
	[[ -n "${BENCH_BASE_BIN:-}" ]] && run_base
	quiesce
	local r rss m methods="cks crc pt sluice full"
	T_cks='' T_crc='' T_pt='' T_sluice='' T_full='' T_base='' RSS_MAX=''
	C_cks='' C_crc='' C_pt='' C_sluice='' C_full='' C_base=''
	[[ -n "${BENCH_BASE_BIN:-}" ]] && methods="$methods base"
	BENCH_RUN=1
	bench_note verify "$TABLES tables x $(commas "$TABLE_SIZE") rows (sysbench) on both servers, equal; $(commas "$CHUNK")-row chunks, sluice verify --threads $THREADS; both servers on this machine ($(nproc) CPUs); $ROUNDS rounds; rows/s per side, cpu_servers_s: both mariadbd's user+system seconds"
	for r in $(seq 1 "$ROUNDS"); do
		BENCH_RUN=$r
		log "round $r"
		# the two figures of issue 11 back to back, each first in turn
		if ((r % 2)); then
			timed crc run_crc
			timed full run_full
			[[ -n "${BENCH_BASE_BIN:-}" ]] && timed base run_base
		else
			[[ -n "${BENCH_BASE_BIN:-}" ]] && timed base run_base
			timed full run_full
			timed crc run_crc
		fi
		rss=$(cat "$WORK/verify.rss")
		[[ -z "$RSS_MAX" || "$rss" -gt "$RSS_MAX" ]] && RSS_MAX=$rss
		timed cks run_checksum
		timed pt run_pt
		timed sluice run_sluice_verify
		rss=$(cat "$WORK/verify.rss")
		[[ "$rss" -gt "$RSS_MAX" ]] && RSS_MAX=$rss
	done
	local rows=$((TABLES * TABLE_SIZE))
	local -A T C
	for m in $methods; do
		local tv="T_$m" cv="C_$m"
		# shellcheck disable=SC2086 # lists of numbers
		T[$m]=$(median ${!tv})
		# shellcheck disable=SC2086
		C[$m]=$(median ${!cv})
	done
	row() { # LABEL METHOD NOTE
		printf '%-40s %7s  %8s  %7s   %s\n' "$1" "${T[$2]}" "$(python3 -c "print(int($rows / ${T[$2]}))")" \
			"${C[$2]}" "$3"
	}
	local full_ratio cpu_ratio
	full_ratio=$(ratio "${T[crc]}" "${T[full]}")
	cpu_ratio=$(ratio "${C[crc]}" "${C[full]}")
	cat <<EOF

== verify benchmark: $TABLES tables x $TABLE_SIZE rows (sysbench), both servers on this machine ($(nproc) CPUs), median of $ROUNDS rounds ==
method                                   seconds  rows/s(1)  CPU s(2)
$(row "sluice verify --no-table-checksum" full "64-bit row hash per range, every row")
$(row "chunked BIT_XOR(CRC32(CONCAT_WS)), lean" crc "fixed $CHUNK-row ranges, 32-bit, nothing written")
$(row "sluice verify (default)" sluice "CHECKSUM TABLE fast path when servers/schemas match")
$(row "CHECKSUM TABLE, both sides" cks "no row-level answer: the floor")
$(row "pt-table-checksum way (nibble+REPLACE)" pt "")
$([[ -n "${BENCH_BASE_BIN:-}" ]] && row "base build --no-table-checksum" base "$BENCH_BASE_BIN")
(1) per side  (2) user+system seconds of both mariadbd processes during the method
row hash used by sluice: $(jq -r .row_hash "$WORK/verify.json")
each round, seconds: --no-table-checksum:$T_full | lean CRC:$T_crc${T_base:+ | base build:$T_base}

--no-table-checksum vs lean CRC: ${full_ratio}x its speed (target >= 1.0: $(verdict "$full_ratio" ge 1.0)); servers' CPU: ${cpu_ratio}x (lean's / sluice's)
$([[ -n "${BENCH_BASE_BIN:-}" ]] && echo "base build vs lean CRC:          $(ratio "${T[crc]}" "${T[base]}")x its speed; servers' CPU: $(ratio "${C[crc]}" "${C[base]}")x")
default vs pt way:          $(ratio "${T[pt]}" "${T[sluice]}")x its speed   (target >= 2x: $(verdict "$(ratio "${T[pt]}" "${T[sluice]}")" ge 2))
default vs CHECKSUM TABLE:  $(ratio "${T[sluice]}" "${T[cks]}")x its time   (target <= 1.5x: $(verdict "$(ratio "${T[sluice]}" "${T[cks]}")" le 1.5))
sluice peak RSS:            $((RSS_MAX / 1024)) MiB   (target < 256 MiB: $(verdict "$RSS_MAX" lt 262144))
EOF
}

main "$@"
