#!/usr/bin/env bash
# bench/bench_pipeline.sh - sluice capture + replay against the naive peer
# `mariadb-binlog --read-from-remote-server | mariadb`, on the same machine,
# the same workload and identical destinations. See bench/README.md.
#
#   bash bench/bench_pipeline.sh            (SLUICE_BIN=path to use another build)
#   BENCH_EVENTS=5000 bash bench/bench_pipeline.sh   (a quicker run)
#
# Exit: 0 report printed and both destinations equal the source (targets
# missed are reported, not failed: this is a benchmark); 1 a run failed or a
# destination differs; 77 sysbench or the servers are missing.
set -euo pipefail
TEST_NAME=bench
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/harness.sh
source "$BENCH_DIR/../tests/integration/harness.sh"

TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-10000}
EVENTS=${BENCH_EVENTS:-20000}
THREADS=${BENCH_THREADS:-4}
MAX_TIME=${BENCH_MAX_TIME:-120}
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-300}

command -v sysbench >/dev/null || skip "sysbench not installed (scripts/install-deps.sh installs it)"
command -v mariadb-binlog >/dev/null || skip "mariadb-binlog not installed"
require_sluice

# measure NAME CMD...: runs CMD (a shell pipeline string is not allowed: use
# bash -c), records wall seconds in T_NAME and peak RSS (KiB) in RSS_NAME.
measure() {
	local name=$1 start end rc=0 rss=0
	shift
	start=$(date +%s.%N)
	if [[ -x /usr/bin/time ]]; then
		/usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
		rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/$name.time")
	else
		"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
		local pid=$! hwm
		while kill -0 "$pid" 2>/dev/null; do
			hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
			[[ -n "$hwm" && "$hwm" -gt "$rss" ]] && rss=$hwm
			sleep 0.05
		done
		wait "$pid" || rc=$?
	fi
	end=$(date +%s.%N)
	if ((rc != 0)); then
		echo "--- $name: $* (stderr, tail) ---" >&2
		tail -n 20 "$WORK/$name.err" >&2
		fail "$name exited $rc"
	fi
	printf -v "T_$name" '%s' "$(python3 -c "print('%.3f' % ($end - $start))")"
	printf -v "RSS_$name" '%s' "${rss:-0}"
}

sysbench_args() {
	local sock=$1
	printf '%s\n' oltp_write_only --db-driver=mysql --mysql-socket="$sock" --mysql-user=root \
		--mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" --rand-seed=7
}

binlog_bytes_since() { # FILE POS: bytes of the source's binlog after FILE:POS
	local file=$1 pos=$2
	src_sql -N -B -e "SHOW BINARY LOGS" | awk -v f="$file" -v p="$pos" '
		$1 == f { on = 1; sum += $2 - p; next }
		on { sum += $2 }
		END { print sum + 0 }'
}

# verdict A OP B: "ok" if A OP B (OP one of ge, le, lt), else "MISSED".
verdict() {
	python3 -c '
import operator, sys
a, op, b = float(sys.argv[1]), sys.argv[2], float(sys.argv[3])
print("ok" if {"ge": operator.ge, "le": operator.le, "lt": operator.lt}[op](a, b) else "MISSED")' "$1" "$2" "$3"
}

ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.2f' % (a / b if b else float('inf')))" "$1" "$2"; }

T_capture=0 T_replay=0 T_serial=0 T_peer=0 RSS_capture=0 RSS_replay=0 RSS_serial=0
WORKERS=${BENCH_WORKERS:-16}

main() {
	local dir=$WORK/stream file pos end_file end_pos
	start_servers 4
	local dst3_url="mysql://sluice@127.0.0.1:${_H_PORTS[3]}/"
	log "sysbench prepare: $TABLES tables x $TABLE_SIZE rows on the source, copied to both destinations"
	src_sql -e "CREATE DATABASE sbtest"
	mapfile -t sb < <(sysbench_args "$SRC_SOCK")
	sysbench "${sb[@]}" --threads=1 prepare >"$WORK/prepare.log" 2>&1 ||
		{ tail "$WORK/prepare.log" >&2; fail "sysbench prepare failed"; }
	mariadb-dump --no-defaults -uroot -S "$SRC_SOCK" --single-transaction --hex-blob \
		--databases sbtest >"$WORK/sbtest.sql"
	srv_sql 2 <"$WORK/sbtest.sql"
	srv_sql 3 <"$WORK/sbtest.sql"
	srv_sql 4 <"$WORK/sbtest.sql"

	log "first capture records the binlog end"
	mkdir -p "$dir"
	must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 301
	read -r file pos _ < <(src_sql -N -B -e "SHOW MASTER STATUS")

	log "sysbench run: $EVENTS events, $THREADS threads (at most ${MAX_TIME}s)"
	sysbench "${sb[@]}" --threads="$THREADS" --events="$EVENTS" --time="$MAX_TIME" \
		--report-interval=0 run >"$WORK/run.log" 2>&1 ||
		{ tail "$WORK/run.log" >&2; fail "sysbench run failed"; }
	read -r end_file end_pos _ < <(src_sql -N -B -e "SHOW MASTER STATUS")
	local tps binlog_b rows
	tps=$(awk '/transactions:/ { gsub(/[(]/, "", $3); print $3 }' "$WORK/run.log")
	binlog_b=$(binlog_bytes_since "$file" "$pos")

	log "counting row events in the binlog ($file:$pos .. $end_file:$end_pos)"
	mapfile -t logs < <(src_sql -N -B -e "SHOW BINARY LOGS" | awk -v f="$file" '$1 == f { on = 1 } on { print $1 }')
	mariadb-binlog --no-defaults --read-from-remote-server --socket="$SRC_SOCK" --user=root \
		--start-position="$pos" --base64-output=decode-rows -v "${logs[@]}" 2>/dev/null |
		grep -c -E '^### (INSERT INTO|UPDATE|DELETE FROM) ' >"$WORK/rows.count" || true
	rows=$(cat "$WORK/rows.count")
	((rows > 0)) || fail "no row events found in the binlog"

	log "sluice capture"
	measure capture "$SLUICE" capture --source "$SRC_URL" --dir "$dir" --server-id 301
	log "sluice replay into destination A ($WORKERS workers)"
	measure replay "$SLUICE" replay --dir "$dir" --dest "$DST_URL" --workers "$WORKERS"
	log "sluice replay into destination C (1 worker: the source's commit order)"
	measure serial "$SLUICE" replay --dir "$dir" --dest "$dst3_url" --workers 1
	log "peer: mariadb-binlog | mariadb into destination B"
	# shellcheck disable=SC2016 # expanded by the inner bash
	measure peer bash -c 'mariadb-binlog --no-defaults --read-from-remote-server --socket="$1" \
		--user=root --start-position="$2" "${@:4}" | mariadb --no-defaults -uroot -S "$3" \
		--max-allowed-packet=1G' peer "$SRC_SOCK" "$pos" "$DST2_SOCK" "${logs[@]}"

	log "verifying both destinations against the source"
	local eq_a=yes eq_b=yes eq_c=yes
	compare_db sbtest 1 2 || eq_a=NO
	compare_db sbtest 1 3 || eq_b=NO
	compare_db sbtest 1 4 || eq_c=NO

	local seg_b inspect_rows=""
	seg_b=$(find "$dir" -type f \( -name '*.seg' -o -name '*.open' \) -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	if ((seg_b == 0)); then
		seg_b=$(du -sb "$dir" | cut -f1)
	fi
	if run_sluice insp inspect "$dir" --json; then
		inspect_rows=$(python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if line.strip():
        r = json.loads(line)
        n += len(r.get("changes", []) or [])
print(n)' "$WORK/insp.out" 2>/dev/null || echo "?")
	fi

	local rps_cap rps_rep rps_ser rps_peer
	rps_cap=$(ratio "$rows" "$T_capture")
	rps_rep=$(ratio "$rows" "$T_replay")
	rps_ser=$(ratio "$rows" "$T_serial")
	rps_peer=$(ratio "$rows" "$T_peer")
	local r_rep_peer r_ser_peer r_cap_rep r_seg
	r_rep_peer=$(ratio "$T_peer" "$T_replay")
	r_ser_peer=$(ratio "$T_peer" "$T_serial")
	r_cap_rep=$(ratio "$T_replay" "$T_capture")
	r_seg=$(ratio "$seg_b" "$binlog_b")

	cat <<EOF

== sluice bench_pipeline ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(mariadbd --version | awk '{print $3}'))
workload        sysbench oltp_write_only, $TABLES tables x $TABLE_SIZE rows, $EVENTS events, $THREADS threads ($tps tps on the source)
row events      $rows in the binlog${inspect_rows:+ ($inspect_rows changes in sluice inspect)}
binlog          $(ratio "$binlog_b" 1048576) MB
segments        $(ratio "$seg_b" 1048576) MB   segments/binlog = $r_seg   (target <= 0.40: $(verdict "$r_seg" le 0.40))

                seconds   rows/s     peak RSS MiB
sluice capture  $(printf '%-9.2f %-10s %s' "$T_capture" "$rps_cap" "$(ratio "$RSS_capture" 1024)")
sluice replay   $(printf '%-9.2f %-10s %s' "$T_replay" "$rps_rep" "$(ratio "$RSS_replay" 1024)")  ($WORKERS workers)
sluice replay   $(printf '%-9.2f %-10s %s' "$T_serial" "$rps_ser" "$(ratio "$RSS_serial" 1024)")  (--workers 1)
peer (binlog|mariadb) $(printf '%-9.2f %-10s' "$T_peer" "$rps_peer")

replay vs peer     $r_rep_peer x   (target >= 1.0: $(verdict "$r_rep_peer" ge 1.0))
  --workers 1      $r_ser_peer x   (the source's commit order for every transaction)
capture vs replay  $r_cap_rep x   (target >= 5: $(verdict "$r_cap_rep" ge 5))
RSS under 256 MiB  capture $(verdict "$RSS_capture" lt 262144), replay $(verdict "$RSS_replay" lt 262144)
destination A (sluice) equals source: $eq_a
destination B (peer)   equals source: $eq_b
destination C (sluice, --workers 1) equals source: $eq_c
EOF
	[[ "$eq_a" == yes && "$eq_b" == yes && "$eq_c" == yes ]] || fail "a destination differs from the source"
}

main "$@"
