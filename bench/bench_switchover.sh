#!/usr/bin/env bash
# bench/bench_switchover.sh - the switchover under load (issue 12):
#
#   1. `sluice migrate --follow` from S to D, sysbench oltp_write_only on S at
#      --rate BENCH_RATE (default 500) transactions/s through an account
#      without SUPER, so that read_only stops it;
#   2. `sluice switchover --freeze-source`: the downtime is the journal's,
#      from the freeze of S to reverse sync running (`switchover --status
#      --json`, downtime_s); target under 5 s;
#   3. the same load then on D for BENCH_SECS (default 20) s, with a probe
#      row written on D every 20 ms (its commit time in it) and S polled
#      every 10 ms for new probes: reverse sync latency = first seen on S -
#      committed on D (poll period included), p50 / p99 / max; target p99
#      under 1 s.
#
#   bash bench/bench_switchover.sh
#   BENCH_RATE=200 BENCH_SECS=10 bash bench/bench_switchover.sh      (quick)
#
# Both servers and sluice share this machine's CPUs. Exit 0 report printed and
# S equal to D at the end, 1 a run failed or S differs, 77 sysbench or the
# servers are missing.
set -euo pipefail
TEST_NAME=bench_switchover
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/harness.sh
source "$BENCH_DIR/../tests/integration/harness.sh"

TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-10000}
RATE=${BENCH_RATE:-500}
SECS=${BENCH_SECS:-20}

command -v sysbench >/dev/null || skip "sysbench not installed (scripts/install-deps.sh installs it)"
require_sluice

start_servers 2
DIR=$WORK/stream
RDIR=$WORK/reverse

src_sql -e "CREATE DATABASE sbtest; CREATE USER 'app'@'localhost' IDENTIFIED BY 'app-pw-7';
	GRANT SELECT, INSERT, UPDATE, DELETE ON sbtest.* TO 'app'@'localhost';"
sb() { # SOCKET USER PASSWORD ARGS...
	local sock=$1 user=$2 pw=$3
	shift 3
	sysbench oltp_write_only --db-driver=mysql --mysql-socket="$sock" --mysql-user="$user" \
		--mysql-password="$pw" --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" \
		--rand-seed=11 "$@"
}
log "sysbench prepare: $TABLES x $TABLE_SIZE rows"
sb "$SRC_SOCK" root "" --threads=1 prepare >"$WORK/prepare.log" 2>&1 ||
	{ tail "$WORK/prepare.log" >&2; fail "sysbench prepare failed"; }
src_sql -e "CREATE TABLE sbtest.probe (id INT PRIMARY KEY, ts DATETIME(6) NOT NULL)"

start_bg task migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$DIR" --follow --no-progress
TASK=$BG_PID
wait_line task "$TASK" following 300

log "load on S: $RATE txn/s, then the switchover"
sb "$SRC_SOCK" app app-pw-7 --threads=4 --rate="$RATE" --time=$((SECS + 60)) --report-interval=0 \
	--mysql-ignore-errors=1290,1836 run >"$WORK/load-s.log" 2>&1 &
LOAD=$!
track_pid "$LOAD"
sleep 10
must_sluice switchover switchover --dir "$DIR" --source "$SRC_URL" --dest "$DST_URL" \
	--reverse-dir "$RDIR" --yes --freeze-source --timeout 60
kill "$LOAD" 2>/dev/null || true
wait "$LOAD" 2>/dev/null || true
"$SLUICE" switchover --dir "$DIR" --status --json >"$WORK/switch.json"
DOWN=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["downtime_s"])' "$WORK/switch.json")

log "load on D: $RATE txn/s for $SECS s, probes every 20 ms"
src_sql -e "CREATE DATABASE bench; CREATE TABLE bench.seen (id INT PRIMARY KEY, at DATETIME(6) NOT NULL)"
PROBES=$((SECS * 50))
sb "$DST_SOCK" root "" --threads=4 --rate="$RATE" --time="$SECS" --report-interval=0 run \
	>"$WORK/load-d.log" 2>&1 &
LOAD=$!
track_pid "$LOAD"
python3 -c 'import sys
for i in range(1, int(sys.argv[1]) + 1):
    print("INSERT INTO sbtest.probe VALUES (%d, NOW(6)); DO SLEEP(0.02);" % i)' "$PROBES" | dst_sql &
PROBE=$!
track_pid "$PROBE"
# the poller runs in S itself: every 10 ms the probes not seen yet, with S's
# time, until every probe is seen or SECS + 15 s have passed
src_sql <<SQL
DELIMITER //
CREATE PROCEDURE bench.poll(n INT, secs INT)
BEGIN
  DECLARE t0 DATETIME(6) DEFAULT NOW(6);
  WHILE (SELECT COUNT(*) FROM bench.seen) < n AND TIMESTAMPDIFF(SECOND, t0, NOW(6)) < secs DO
    INSERT IGNORE INTO bench.seen SELECT id, NOW(6) FROM sbtest.probe;
    DO SLEEP(0.01);
  END WHILE;
END//
DELIMITER ;
SQL
# READ COMMITTED: the INSERT ... SELECT must not lock probe rows and gaps
# that reverse replay is inserting into
src_sql -e "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; CALL bench.poll($PROBES, $((SECS + 15)))" &
POLL=$!
track_pid "$POLL"
wait "$LOAD" || fail "sysbench on D failed: $(tail -n 3 "$WORK/load-d.log")"
wait "$PROBE" || fail "the probe writer on D failed"
wait "$POLL" || fail "the poller on S failed"
src_sql -N -B -e "SELECT TIMESTAMPDIFF(MICROSECOND, p.ts, s.at) FROM bench.seen s JOIN sbtest.probe p USING (id)" \
	>"$WORK/latency.us"
[[ -n "${BENCH_KEEP:-}" ]] && src_sql -N -B -e "SELECT p.id, TIMESTAMPDIFF(MICROSECOND, p.ts, s.at) FROM bench.seen s
	JOIN sbtest.probe p USING (id) ORDER BY p.id" >"$BENCH_KEEP"
read -r N P50 P99 MAX < <(python3 -c 'import sys
v = sorted(int(x) / 1e6 for x in open(sys.argv[1]))
q = lambda f: v[min(len(v) - 1, int(f * len(v)))]
print(len(v), "%.3f" % q(0.5), "%.3f" % q(0.99), "%.3f" % v[-1])' "$WORK/latency.us")
TPS_D=$(sed -n 's/.*transactions: *[0-9]* *(\([0-9.]*\) per sec.*/\1/p' "$WORK/load-d.log")

# S must equal D once reverse sync has caught up (bench.seen is S's own)
src_sql -e "DROP DATABASE bench"
wait_equal 60 || fail "the source differs from the destination after reverse sync"
stop_bg "$TASK" task TERM

cat <<EOF

switchover under load (sysbench oltp_write_only, $TABLES x $TABLE_SIZE rows, --rate $RATE, 4 threads)
  downtime, freeze of S to reverse sync running:   $DOWN s   (target < 5 s: $(python3 -c "import sys; print('ok' if float(sys.argv[1]) < 5 else 'MISSED')" "$DOWN"))
  reverse sync latency D commit -> S visible:      p50 $P50 s, p99 $P99 s, max $MAX s over $N probes (target p99 < 1 s: $(python3 -c "import sys; print('ok' if float(sys.argv[1]) < 1 else 'MISSED')" "$P99"))
  load on D meanwhile:                             ${TPS_D:-?} txn/s
  reverse replay's own last progress line:         $(grep -o '[0-9]* transactions/s.*' "$WORK/task.err" | tail -n 1)
  (latency includes the 10 ms poll period; all on one machine: both servers and sluice share its CPUs)
EOF
