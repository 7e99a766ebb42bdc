#!/usr/bin/env bash
# bench/bench_decode.sh - decoding speed on archived binlogs: `sluice capture
# --binlog-files` (decode, build records, compress, write and fsync segments)
# against `mariadb-binlog --base64-output=decode-rows -vv FILE > /dev/null`
# (decode and print), over the same large binlog that sysbench writes on a
# local MariaDB. See bench/README.md.
#
#   bash bench/bench_decode.sh                 (SLUICE_BIN=path for another build;
#                                               use a build without sanitizers)
#   BENCH_EVENTS=20000 bash bench/bench_decode.sh   (a smaller binlog)
#   BENCH_BINLOG_DIR=DIR bash bench/bench_decode.sh  (keep the generated binlog
#                                               files in DIR; reuse them when DIR
#                                               already holds mysql-bin.* files)
#
# Reports row events/s and MB/s of binlog for both, and the ratio (target:
# sluice >= 3x). Exit: 0 report printed (a missed target is reported, not
# failed), 1 a run failed, 77 sysbench or the server is missing.
set -euo pipefail
TEST_NAME=bench_decode
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/harness.sh
source "$BENCH_DIR/../tests/integration/harness.sh"

TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-100000}
EVENTS=${BENCH_EVENTS:-60000}
THREADS=${BENCH_THREADS:-8}
MAX_TIME=${BENCH_MAX_TIME:-300}
REPEAT=${BENCH_REPEAT:-3}

command -v sysbench >/dev/null || skip "sysbench not installed (scripts/install-deps.sh installs it)"
command -v mariadb-binlog >/dev/null || skip "mariadb-binlog not installed"
require_sluice

# best NAME CMD...: runs CMD REPEAT times, keeps the best wall time in T_NAME.
best() {
	local name=$1 i start end t rc
	shift
	printf -v "T_$name" '%s' 1e9
	for ((i = 1; i <= REPEAT; i++)); do
		[[ "$name" == sluice ]] && rm -rf "$WORK/stream"
		start=$(date +%s.%N)
		rc=0
		"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
		end=$(date +%s.%N)
		if ((rc != 0)); then
			tail -n 20 "$WORK/$name.err" >&2
			fail "$name exited $rc: $*"
		fi
		t=$(python3 -c "print('%.3f' % ($end - $start))")
		local cur="T_$name"
		if python3 -c "import sys; sys.exit(0 if float('$t') < float('${!cur}') else 1)"; then
			printf -v "T_$name" '%s' "$t"
		fi
	done
}

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

T_sluice=0 T_peer=0

main() {
	local bdir=${BENCH_BINLOG_DIR:-$WORK/binlogs}
	if ! compgen -G "$bdir/mysql-bin.[0-9]*" >/dev/null; then
		generate "$bdir"
	else
		log "reusing the binlog files in $bdir"
	fi
	local -a files=()
	local f
	for f in "$bdir"/mysql-bin.[0-9]*; do files+=("$f"); done	# glob order: sorted
	local bytes
	bytes=$(cat "${files[@]}" | wc -c)
	sync

	log "sluice capture --binlog-files (${#files[@]} files, $bytes bytes), best of $REPEAT"
	best sluice "$SLUICE" capture --binlog-files "${files[@]}" --dir "$WORK/stream"
	local rows
	rows=$(sed -n 's/.*captured [0-9]* transactions, \([0-9]*\) rows.*/\1/p' "$WORK/sluice.err" | tail -n 1)
	[[ -n "$rows" && "$rows" -gt 0 ]] || fail "sluice reported no rows"
	local seg_bytes
	seg_bytes=$(du -sb "$WORK/stream" | cut -f1)

	log "mariadb-binlog --base64-output=decode-rows -vv > /dev/null, best of $REPEAT"
	best peer bash -c 'mariadb-binlog --no-defaults --base64-output=decode-rows -vv "$@" >/dev/null' _ "${files[@]}"
	local peer_rows
	peer_rows=$(mariadb-binlog --no-defaults --base64-output=decode-rows -v "${files[@]}" 2>/dev/null |
		grep -c -E '^### (INSERT INTO|UPDATE|DELETE FROM) ' || true)

	python3 - "$rows" "$peer_rows" "$bytes" "$seg_bytes" "$T_sluice" "$T_peer" <<'PY'
import sys
rows, peer_rows, b, seg, ts, tp = (float(x) for x in sys.argv[1:])
mb = b / 1e6
print("decode benchmark: %d binlog bytes (%.1f MB), %d row events (mariadb-binlog counts %d)" % (b, mb, rows, peer_rows))
print("  %-44s %8.3f s  %12.0f rows/s  %8.1f MB/s" % ("sluice capture --binlog-files (+ segments)", ts, rows / ts, mb / ts))
print("  %-44s %8.3f s  %12.0f rows/s  %8.1f MB/s" % ("mariadb-binlog -vv > /dev/null", tp, rows / tp, mb / tp))
r = tp / ts
print("  ratio (peer time / sluice time): %.2fx  target >= 3x: %s" % (r, "ok" if r >= 3 else "MISSED"))
print("  segments: %.1f MB (%.2fx smaller than the binlog)" % (seg / 1e6, b / seg if seg else 0))
if rows != peer_rows:
    print("  WARNING: row event counts differ")
PY
}

main "$@"
