#!/usr/bin/env bash
# bench/bench_replay.sh - replay speed against the server's own ways of
# applying the same binlog (issue 13, "Speed"): one captured sysbench stream
# applied, one tool at a time, into identical destinations by
#   1. sluice replay (defaults),
#   2. sluice replay --batch-txns 1 (when this build has the option),
#   3. MariaDB's parallel replication (slave_parallel_threads=4, optimistic),
#   4. mariadb-binlog --read-from-remote-server | mariadb.
# Every destination must then equal the source row by row. See bench/README.md.
#
#   bash bench/bench_replay.sh
#   BENCH_TABLE_SIZE=5000 BENCH_EVENTS=2000 bash bench/bench_replay.sh   (a quick run)
#
# Exit: 0 report printed and every destination equals the source (a missed
# target is reported as MISSED, never failed: this is a benchmark); 1 a run
# failed or a destination differs; 77 sysbench or the servers are missing.
set -euo pipefail
TEST_NAME=bench_replay
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The same for every server (the source and the four destinations): binlog on
# (the harness: ROW, FULL image), log_slave_updates on (so the replica writes
# what it applies to its binlog, as sluice's destination does), the data in
# the buffer pool; innodb_flush_log_at_trx_commit=1 and sync_binlog=0 are the
# harness's defaults. Override all with HARNESS_MARIADBD_ARGS.
export HARNESS_MARIADBD_ARGS="${HARNESS_MARIADBD_ARGS:---innodb-buffer-pool-size=256M --innodb-log-file-size=128M --log-slave-updates=ON}"
# shellcheck source=tests/integration/harness.sh
source "$BENCH_DIR/../tests/integration/harness.sh"

TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-50000}
EVENTS=${BENCH_EVENTS:-20000}
THREADS=${BENCH_THREADS:-4}
MAX_TIME=${BENCH_MAX_TIME:-300}
PAR_THREADS=${BENCH_PARALLEL_THREADS:-4}
PAR_MODE=${BENCH_PARALLEL_MODE:-optimistic}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}	# seconds per tool run
export SLUICE_TIMEOUT=$BENCH_TIMEOUT

command -v sysbench >/dev/null || skip "sysbench not installed (scripts/install-deps.sh installs it)"
command -v mariadb-binlog >/dev/null || skip "mariadb-binlog not installed"
[[ -n "$MARIADBD" && -x "$MARIADBD" ]] || skip "mariadbd not installed (scripts/install-deps.sh)"
require_sluice

ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.2f' % (a / b if b else float('inf')))" "$1" "$2"; }
verdict() {
	python3 -c '
import operator, sys
a, op, b = float(sys.argv[1]), sys.argv[2], float(sys.argv[3])
print("ok" if {"ge": operator.ge, "le": operator.le}[op](a, b) else "MISSED")' "$1" "$2" "$3"
}
now() { date +%s.%N; }
secs_since() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }

# timed NAME CMD...: runs CMD alone (output in $WORK/NAME.out/.err), its wall
# seconds in T_NAME; a failure fails the bench.
timed() {
	local name=$1 start rc=0
	shift
	start=$(now)
	timeout --kill-after=10 "$BENCH_TIMEOUT" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null || rc=$?
	printf -v "T_$name" '%s' "$(secs_since "$start")"
	if ((rc != 0)); then
		echo "--- $name: $* (stderr, tail) ---" >&2
		tail -n 20 "$WORK/$name.err" >&2
		fail "$name exited $rc"
	fi
}

# Server N finishes the background work of its load (dirty pages) before a
# tool is timed on it, so that no tool pays for the copy (at most 60 s).
quiesce() { # N
	local n=$1 d
	srv_sql "$n" -e "SET GLOBAL innodb_max_dirty_pages_pct = 0"
	for _ in $(seq 1 120); do
		d=$(srv_sql "$n" -N -B -e "SELECT variable_value FROM information_schema.global_status
			WHERE variable_name = 'INNODB_BUFFER_POOL_PAGES_DIRTY'")
		((d < 100)) && break
		sleep 0.5
	done
	srv_sql "$n" -e "SET GLOBAL innodb_max_dirty_pages_pct = DEFAULT"
}

sysbench_args() {
	printf '%s\n' oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK" --mysql-user=root \
		--mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" --rand-seed=7
}

# MariaDB's parallel replication on server N from the source at FILE:POS up to
# END_FILE:END_POS: set up (the password goes on stdin, never in argv), then
# timed from START SLAVE until MASTER_POS_WAIT says the SQL threads executed
# up to the end; then STOP SLAVE. T_parallel.
parallel_replication() { # N FILE POS END_FILE END_POS
	local n=$1 file=$2 pos=$3 end_file=$4 end_pos=$5 start r
	srv_sql "$n" <<SQL || fail "cannot set up replication on server $n"
SET GLOBAL slave_parallel_threads = $PAR_THREADS;
SET GLOBAL slave_parallel_mode = '$PAR_MODE';
CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $SRC_PORT, MASTER_USER = 'sluice',
  MASTER_PASSWORD = '$HARNESS_PASSWORD', MASTER_LOG_FILE = '$file', MASTER_LOG_POS = $pos,
  MASTER_USE_GTID = no;
SQL
	start=$(now)
	r=$(srv_sql "$n" -N -B -e "START SLAVE; SELECT MASTER_POS_WAIT('$end_file', $end_pos, $BENCH_TIMEOUT)") ||
		fail "replication on server $n failed"
	T_parallel=$(secs_since "$start")
	srv_sql "$n" -e "SHOW SLAVE STATUS\G" >"$WORK/parallel.status"
	srv_sql "$n" -e "STOP SLAVE"
	if [[ "$r" == NULL || "$r" == -1 ]]; then
		grep -E 'Last_(IO|SQL)_Error' "$WORK/parallel.status" >&2 || true
		fail "parallel replication did not reach $end_file:$end_pos (MASTER_POS_WAIT: $r)"
	fi
}

T_capture=0 T_sluice=0 T_batch1=0 T_parallel=0 T_peer=0

main() {
	local dir=$WORK/stream file pos end_file end_pos rows tps has_batch=no n
	start_servers 5
	log "sysbench prepare: $TABLES tables x $TABLE_SIZE rows on the source, the same copy on the four destinations"
	src_sql -e "CREATE DATABASE sbtest"
	mapfile -t sb < <(sysbench_args)
	sysbench "${sb[@]}" --threads=1 prepare >"$WORK/prepare.log" 2>&1 ||
		{ tail "$WORK/prepare.log" >&2; fail "sysbench prepare failed"; }
	mariadb-dump --no-defaults -uroot -S "$SRC_SOCK" --single-transaction --hex-blob \
		--databases sbtest >"$WORK/sbtest.sql"
	for n in 2 3 4 5; do
		srv_sql "$n" <"$WORK/sbtest.sql"
	done

	log "the position before the run: a first capture records it"
	mkdir -p "$dir"
	must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 501
	read -r file pos _ < <(src_sql -N -B -e "SHOW MASTER STATUS")

	log "sysbench run: $EVENTS events, $THREADS threads (at most ${MAX_TIME}s)"
	sysbench "${sb[@]}" --threads="$THREADS" --events="$EVENTS" --time="$MAX_TIME" \
		--report-interval=0 run >"$WORK/run.log" 2>&1 ||
		{ tail "$WORK/run.log" >&2; fail "sysbench run failed"; }
	read -r end_file end_pos _ < <(src_sql -N -B -e "SHOW MASTER STATUS")
	tps=$(awk '/transactions:/ { gsub(/[(]/, "", $3); print $3 }' "$WORK/run.log")
	mapfile -t logs < <(src_sql -N -B -e "SHOW BINARY LOGS" | awk -v f="$file" '$1 == f { on = 1 } on { print $1 }')
	mariadb-binlog --no-defaults --read-from-remote-server --socket="$SRC_SOCK" --user=root \
		--start-position="$pos" --base64-output=decode-rows -v "${logs[@]}" 2>/dev/null |
		grep -c -E '^### (INSERT INTO|UPDATE|DELETE FROM) ' >"$WORK/rows.count" || true
	rows=$(cat "$WORK/rows.count")
	((rows > 0)) || fail "no row events found in the binlog"

	log "sluice capture of the run ($file:$pos .. $end_file:$end_pos, $rows row events)"
	timed capture "$SLUICE" capture --source "$SRC_URL" --dir "$dir" --server-id 501
	if "$SLUICE" replay -h 2>&1 | grep -q -- '--batch-txns'; then
		has_batch=yes
	fi

	for n in 2 3 4 5; do quiesce "$n"; done
	log "1/4 sluice replay (defaults) into server 2"
	timed sluice "$SLUICE" replay --dir "$dir" --dest "mysql://sluice@127.0.0.1:${_H_PORTS[1]}/"
	if [[ "$has_batch" == yes ]]; then
		log "2/4 sluice replay --batch-txns 1 into server 3"
		timed batch1 "$SLUICE" replay --dir "$dir" --dest "mysql://sluice@127.0.0.1:${_H_PORTS[2]}/" \
			--batch-txns 1
	else
		log "2/4 this build has no --batch-txns: n/a"
	fi
	log "3/4 parallel replication ($PAR_THREADS threads, $PAR_MODE) into server 4"
	parallel_replication 4 "$file" "$pos" "$end_file" "$end_pos"
	log "4/4 mariadb-binlog | mariadb into server 5"
	# shellcheck disable=SC2016 # expanded by the inner bash
	timed peer bash -c 'set -o pipefail; mariadb-binlog --no-defaults --read-from-remote-server \
		--socket="$1" --user=root --start-position="$2" "${@:4}" |
		mariadb --no-defaults -uroot -S "$3" --max-allowed-packet=1G' peer \
		"$SRC_SOCK" "$pos" "${_H_SOCKS[4]}" "${logs[@]}"

	log "comparing every destination with the source, row by row"
	local eq_sluice=yes eq_batch1=n/a eq_parallel=yes eq_peer=yes
	compare_db sbtest 1 2 || eq_sluice=NO
	if [[ "$has_batch" == yes ]]; then
		eq_batch1=yes
		compare_db sbtest 1 3 || eq_batch1=NO
	fi
	compare_db sbtest 1 4 || eq_parallel=NO
	compare_db sbtest 1 5 || eq_peer=NO

	local r_par r_peer rps_batch1=n/a r_b1_par=n/a
	r_par=$(ratio "$T_parallel" "$T_sluice")
	r_peer=$(ratio "$T_peer" "$T_sluice")
	if [[ "$has_batch" == yes ]]; then
		rps_batch1=$(ratio "$rows" "$T_batch1")
		r_b1_par=$(ratio "$T_parallel" "$T_batch1")
	fi
	cat <<EOF

== sluice bench_replay ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(mariadbd --version | awk '{print $3}'))
workload     sysbench oltp_write_only, $TABLES tables x $TABLE_SIZE rows, $EVENTS events, $THREADS threads ($tps tps on the source)
row events   $rows in the binlog
servers      ${HARNESS_MARIADBD_ARGS} (harness: binlog ROW, sync_binlog=0, innodb_flush_log_at_trx_commit=1)

                                          seconds    rows/s     equal
sluice capture (for information)          $(printf '%-10.2f %-10s' "$T_capture" "$(ratio "$rows" "$T_capture")")
1 sluice replay (defaults)                $(printf '%-10.2f %-10s %s' "$T_sluice" "$(ratio "$rows" "$T_sluice")" "$eq_sluice")
2 sluice replay --batch-txns 1            $(if [[ "$has_batch" == yes ]]; then printf '%-10.2f %-10s %s' "$T_batch1" "$rps_batch1" "$eq_batch1"; else echo "n/a (no --batch-txns in this build)"; fi)
$(printf '%-42s' "3 parallel replication ($PAR_THREADS, $PAR_MODE)")$(printf '%-10.2f %-10s %s' "$T_parallel" "$(ratio "$rows" "$T_parallel")" "$eq_parallel")
4 mariadb-binlog | mariadb                $(printf '%-10.2f %-10s %s' "$T_peer" "$(ratio "$rows" "$T_peer")" "$eq_peer")

sluice / parallel replication   $r_par x   (target >= 1.5: $(verdict "$r_par" ge 1.5))
sluice / mariadb-binlog         $r_peer x   (target >= 3: $(verdict "$r_peer" ge 3))
--batch-txns 1 / parallel repl. $r_b1_par$([[ "$r_b1_par" == n/a ]] || echo " x")
EOF
	[[ "$eq_sluice" == yes && "$eq_parallel" == yes && "$eq_peer" == yes && "$eq_batch1" != NO ]] ||
		fail "a destination differs from the source"
}

main "$@"
