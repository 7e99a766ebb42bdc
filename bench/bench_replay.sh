#!/usr/bin/env bash
# bench/bench_replay.sh - replay speed against the server's own ways of
# applying the same binlog (issues 13 and 16): one captured sysbench stream
# applied, one tool at a time, into identical destinations by
#   1. sluice replay (defaults),
#   2. sluice replay --batch-txns 1 (when this build has the option),
#   3. sluice replay --workers 1 (the source's commit order),
#   4. MariaDB replication with 0 parallel threads (one SQL thread),
#   5. MariaDB's parallel replication (slave_parallel_threads=4, optimistic),
#   6. mariadb-binlog --read-from-remote-server | mariadb.
# Every destination must then equal the source row by row. See bench/README.md.
# With BENCH_RESULTS set (bench/run), the figures also go there as JSON lines
# (bench/lib.sh, comparison "replay"); bench/run runs it once per BENCH_RUN.
#
#   bash bench/bench_replay.sh
#   BENCH_TABLE_SIZE=5000 BENCH_EVENTS=2000 bash bench/bench_replay.sh   (the quick size)
#
# Exit: 0 report printed and every destination equals the source (a missed
# target is reported as MISSED, never failed: this is a benchmark); 1 a run
# failed or a destination differs; 77 sysbench or the servers are missing.
set -euo pipefail
TEST_NAME=bench_replay
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The same for every server (the source and the six destinations): binlog on
# (the harness: ROW, FULL image), log_slave_updates on (so the replica writes
# what it applies to its binlog, as sluice's destination does), the data in
# the buffer pool; innodb_flush_log_at_trx_commit=1 and sync_binlog=0 are the
# harness's defaults. Override all with HARNESS_MARIADBD_ARGS.
export HARNESS_MARIADBD_ARGS="${HARNESS_MARIADBD_ARGS:---innodb-buffer-pool-size=256M --innodb-log-file-size=128M --log-slave-updates=ON}"
# shellcheck source=tests/integration/harness.sh
source "$BENCH_DIR/../tests/integration/harness.sh"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-50000}
EVENTS=${BENCH_EVENTS:-20000}
THREADS=${BENCH_THREADS:-4}
MAX_TIME=${BENCH_MAX_TIME:-300}
PAR_THREADS=${BENCH_PARALLEL_THREADS:-4}
PAR_MODE=${BENCH_PARALLEL_MODE:-optimistic}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}	# seconds per tool run
export SLUICE_TIMEOUT=$BENCH_TIMEOUT
CMP=replay	# the comparison's name in BENCH_RESULTS (bench/lib.sh)

command -v sysbench >/dev/null || skip "sysbench not installed (scripts/install-deps.sh installs it)"
command -v mariadb-binlog >/dev/null || skip "mariadb-binlog not installed"
[[ -n "$MARIADBD" && -x "$MARIADBD" ]] || skip "mariadbd not installed (scripts/install-deps.sh)"
require_sluice
[[ "$PAR_THREADS" =~ ^[1-9][0-9]*$ ]] ||
	fail "BENCH_PARALLEL_THREADS '$PAR_THREADS' is not a number of at least 1 (0 threads is a tool of its own already)"

# The tools, one destination each: key, server number, the tool's name in
# BENCH_RESULTS (the names bench/report.py tabulates; sluice's default first, the
# baseline) and in the human report.
KEYS=(sluice batch1 workers1 repl0 parallel peer)
declare -A SRV=([sluice]=2 [batch1]=3 [workers1]=4 [repl0]=5 [parallel]=6 [peer]=7)
declare -A TOOL=(
	[sluice]="sluice replay"
	[batch1]="sluice replay --batch-txns 1"
	[workers1]="sluice replay --workers 1"
	[repl0]="replication, 0 parallel threads"
	[parallel]="replication, $PAR_THREADS parallel threads"
	[peer]="mariadb-binlog | mariadb"
)
PEERS=(repl0 parallel peer)	# the server's ways, each a column of the ratio table
declare -A HEAD=([repl0]="/ repl. 0" [parallel]="/ repl. $PAR_THREADS" [peer]="/ mariadb-binlog")

# Arithmetic in awk, not python: a python start costs up to half a second
# on a busy machine, and the report makes some forty of them.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "inf"; else printf "%.2f\n", a / b }'; }
# rate ROWS SECONDS: rows per second with one decimal, empty when SECONDS is 0
# (a figure not measured is not reported).
rate() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.1f\n", a / b }'; }
# thousands N: 20000 -> 20,000
thousands() {
	awk -v n="$1" 'BEGIN {
		s = sprintf("%d", n); o = ""
		while (length(s) > 3) { o = "," substr(s, length(s) - 2) o; s = substr(s, 1, length(s) - 3) }
		print s o }'
}
verdict() { # A ge|le B: ok or MISSED
	awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
		ok = (op == "ge") ? (a + 0 >= b + 0) : (a + 0 <= b + 0)
		print ok ? "ok" : "MISSED" }'
}
now() { date +%s.%N; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f\n", b - a }'; }

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

# replication KEY PARALLEL FILE POS END_FILE END_POS: MariaDB replication on
# the server of KEY from the source at FILE:POS up to END_FILE:END_POS with
# PARALLEL slave_parallel_threads (0: the SQL thread applies every event
# itself): set up (the password goes on stdin, never in argv), then timed from
# START SLAVE until MASTER_POS_WAIT says the SQL thread(s) executed up to the
# end; then STOP SLAVE. T_KEY.
replication() { # KEY PARALLEL FILE POS END_FILE END_POS
	local key=$1 par=$2 file=$3 pos=$4 end_file=$5 end_pos=$6 n start r
	n=${SRV[$key]}
	srv_sql "$n" <<SQL || fail "cannot set up replication on server $n"
SET GLOBAL slave_parallel_threads = $par;
SET GLOBAL slave_parallel_mode = '$PAR_MODE';
CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $SRC_PORT, MASTER_USER = 'sluice',
  MASTER_PASSWORD = '$HARNESS_PASSWORD', MASTER_LOG_FILE = '$file', MASTER_LOG_POS = $pos,
  MASTER_USE_GTID = no;
SQL
	start=$(now)
	r=$(srv_sql "$n" -N -B -e "START SLAVE; SELECT MASTER_POS_WAIT('$end_file', $end_pos, $BENCH_TIMEOUT)") ||
		fail "replication on server $n failed"
	printf -v "T_$key" '%s' "$(secs_since "$start")"
	srv_sql "$n" -e "SHOW SLAVE STATUS\G" >"$WORK/$key.status"
	srv_sql "$n" -e "STOP SLAVE"
	if [[ "$r" == NULL || "$r" == -1 ]]; then
		grep -E 'Last_(IO|SQL)_Error' "$WORK/$key.status" >&2 || true
		fail "${TOOL[$key]} did not reach $end_file:$end_pos (MASTER_POS_WAIT: $r)"
	fi
}

# shellcheck disable=SC2034 # read as ${!t} with t=T_KEY
T_capture=0 T_sluice=0 T_batch1=0 T_workers1=0 T_repl0=0 T_parallel=0 T_peer=0
declare -A EQ=()

# dest_url KEY: the sluice URL of KEY's destination.
dest_url() { printf 'mysql://sluice@127.0.0.1:%s/' "${_H_PORTS[$((${SRV[$1]} - 1))]}"; }

main() {
	local dir=$WORK/stream file pos end_file end_pos rows tps help has_batch=no k p t s i=0
	local n_tools=${#KEYS[@]}
	start_servers $((n_tools + 1))
	log "sysbench prepare: $TABLES tables x $TABLE_SIZE rows on the source, the same copy on the $n_tools destinations"
	src_sql -e "CREATE DATABASE sbtest"
	mapfile -t sb < <(sysbench_args)
	sysbench "${sb[@]}" --threads=1 prepare >"$WORK/prepare.log" 2>&1 ||
		{ tail "$WORK/prepare.log" >&2; fail "sysbench prepare failed"; }
	mariadb-dump --no-defaults -uroot -S "$SRC_SOCK" --single-transaction --hex-blob \
		--databases sbtest >"$WORK/sbtest.sql"
	for k in "${KEYS[@]}"; do
		srv_sql "${SRV[$k]}" <"$WORK/sbtest.sql"
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
	# Not `sluice replay -h | grep -q`: grep leaves at the first match, sluice
	# then dies of SIGPIPE writing the rest, and pipefail made that a "no".
	help=$("$SLUICE" replay -h 2>&1 || true)
	[[ "$help" != *--batch-txns* ]] || has_batch=yes

	# One tool at a time, each on its own destination. Every destination is
	# flushed before the first, and each again after its tool, so that no tool
	# is timed while another server writes back the copy or the previous tool.
	for k in "${KEYS[@]}"; do quiesce "${SRV[$k]}"; done
	for k in "${KEYS[@]}"; do
		i=$((i + 1))
		if [[ "$k" == batch1 && "$has_batch" != yes ]]; then
			log "$i/$n_tools this build has no --batch-txns: n/a"
			continue
		fi
		log "$i/$n_tools ${TOOL[$k]} into server ${SRV[$k]}"
		case $k in
		sluice) timed sluice "$SLUICE" replay --dir "$dir" --dest "$(dest_url sluice)" ;;
		batch1) timed batch1 "$SLUICE" replay --dir "$dir" --dest "$(dest_url batch1)" --batch-txns 1 ;;
		workers1) timed workers1 "$SLUICE" replay --dir "$dir" --dest "$(dest_url workers1)" --workers 1 ;;
		repl0) replication repl0 0 "$file" "$pos" "$end_file" "$end_pos" ;;
		parallel) replication parallel "$PAR_THREADS" "$file" "$pos" "$end_file" "$end_pos" ;;
		peer)
			# shellcheck disable=SC2016 # expanded by the inner bash
			timed peer bash -c 'set -o pipefail; mariadb-binlog --no-defaults --read-from-remote-server \
				--socket="$1" --user=root --start-position="$2" "${@:4}" |
				mariadb --no-defaults -uroot -S "$3" --max-allowed-packet=1G' peer \
				"$SRC_SOCK" "$pos" "${_H_SOCKS[SRV[peer] - 1]}" "${logs[@]}"
			;;
		esac
		quiesce "${SRV[$k]}"
	done

	log "comparing every destination with the source, row by row"
	local differs=()
	for k in "${KEYS[@]}"; do
		if [[ "$k" == batch1 && "$has_batch" != yes ]]; then
			EQ[$k]=n/a
			continue
		fi
		EQ[$k]=yes
		compare_db sbtest 1 "${SRV[$k]}" || { EQ[$k]=NO; differs+=("${TOOL[$k]}"); }
		log "server ${SRV[$k]} (${TOOL[$k]}): equal ${EQ[$k]}"
	done

	# The figures of this run (BENCH_RUN), of every tool whose destination
	# equals the source: a wrong result has no speed.
	local workers_default
	workers_default=$(($(nproc) * 2))
	((workers_default < 2)) && workers_default=2
	((workers_default > 16)) && workers_default=16
	bench_note "$CMP" "$TABLES tables x $(thousands "$TABLE_SIZE") rows, $(thousands "$EVENTS") sysbench oltp_write_only events ($THREADS threads, $tps tps on the source); $(thousands "$rows") row events; sluice defaults: $workers_default workers, 100 txns per batch; replication: slave_parallel_mode=$PAR_MODE, IO thread fetching over loopback included; every server: binlog ROW, log_slave_updates, innodb_flush_log_at_trx_commit=1, sync_binlog=0"
	for k in "${KEYS[@]}"; do
		[[ "${EQ[$k]}" == yes ]] || continue
		t=T_$k
		bench_result "$CMP" "${TOOL[$k]}" seconds "${!t}" s
		s=$(rate "$rows" "${!t}")
		[[ -z "$s" ]] || bench_result "$CMP" "${TOOL[$k]}" rows_per_s "$s" rows/s
	done

	local r_par r_peer
	r_par=$(ratio "$T_parallel" "$T_sluice")
	r_peer=$(ratio "$T_peer" "$T_sluice")
	{
		cat <<EOF

== sluice bench_replay ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(mariadbd --version | awk '{print $3}'))
workload     sysbench oltp_write_only, $TABLES tables x $TABLE_SIZE rows, $EVENTS events, $THREADS threads ($tps tps on the source)
row events   $rows in the binlog
servers      ${HARNESS_MARIADBD_ARGS} (harness: binlog ROW, sync_binlog=0, innodb_flush_log_at_trx_commit=1)

                                          seconds    rows/s     equal
sluice capture (for information)          $(printf '%-10.2f %-10s' "$T_capture" "$(ratio "$rows" "$T_capture")")
EOF
		i=0
		for k in "${KEYS[@]}"; do
			i=$((i + 1))
			t=T_$k
			printf '%-42s' "$i ${TOOL[$k]}"
			if [[ "${EQ[$k]}" == n/a ]]; then
				echo "n/a (no --batch-txns in this build)"
			else
				printf '%-10.2f %-10s %s\n' "${!t}" "$(ratio "$rows" "${!t}")" "${EQ[$k]}"
			fi
		done
		echo
		echo "sluice is N x faster: the peer's seconds / sluice's seconds"
		printf '%-42s' ""
		for p in "${PEERS[@]}"; do printf '%-18s' "${HEAD[$p]}"; done
		echo
		for k in sluice batch1 workers1; do
			[[ "${EQ[$k]}" != n/a ]] || continue
			t=T_$k
			printf '%-42s' "${TOOL[$k]}"
			for p in "${PEERS[@]}"; do
				s=T_$p
				printf '%-18s' "$(ratio "${!s}" "${!t}") x"
			done
			echo
		done
		cat <<EOF

sluice / parallel replication   $r_par x   (target >= 1.5: $(verdict "$r_par" ge 1.5))
sluice / mariadb-binlog         $r_peer x   (target >= 3: $(verdict "$r_peer" ge 3))
EOF
	}
	log "report printed"
	((${#differs[@]} == 0)) || fail "a destination differs from the source: $(
		IFS=,
		echo "${differs[*]}"
	)"
}

main "$@"
