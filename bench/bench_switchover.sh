#!/usr/bin/env bash
# bench/bench_switchover.sh - the migrate task under load, then the switchover
# (issues 12 and 16):
#
#   1. `sluice migrate --follow` from S to D, sysbench oltp_write_only on S at
#      --rate BENCH_RATE (default 500) transactions/s through an account
#      without SUPER, so that read_only stops it;
#   2. the forward phase, BENCH_LAG_SECS (default 30) s of that load: a
#      procedure inside S writes a probe row every 20 ms, each its own
#      transaction, with its time (SYSDATE(6)); a procedure inside D (READ
#      COMMITTED: it locks nothing replay writes) records every 10 ms when
#      each probe became visible there: the migrate task's lag = seen on D -
#      committed on S (poll period included), p50 / p99 / max, the load
#      achieved (txn/s) and the lag over time;
#   3. `sluice switchover --freeze-source`: the downtime is the journal's,
#      from the freeze of S to reverse sync running (`switchover --status
#      --json`, downtime_s); target under 5 s;
#   4. the same load then on D for BENCH_SECS (default 20) s, with a probe
#      row written on D every 20 ms (its commit time in it) and S polled
#      every 10 ms for new probes: reverse sync latency = first seen on S -
#      committed on D (poll period included), p50 / p99 / max; target p99
#      under 1 s.
#
#   bash bench/bench_switchover.sh
#   BENCH_RATE=200 BENCH_LAG_SECS=10 BENCH_SECS=10 BENCH_TABLE_SIZE=2000 bash bench/bench_switchover.sh   (quick)
#
# With BENCH_RESULTS set (bench/run), the figures go there through bench/lib.sh
# as comparisons `migrate-lag` and `switchover`, run BENCH_RUN.
#
# Both servers and sluice share this machine's CPUs. Exit 0 report printed and
# S equal to D at the end, 1 a run failed or S differs, 77 sysbench or the
# servers are missing.
set -euo pipefail
TEST_NAME=bench_switchover
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/harness.sh
source "$BENCH_DIR/../tests/integration/harness.sh"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-10000}
RATE=${BENCH_RATE:-500}
SECS=${BENCH_SECS:-20}
LAG_SECS=${BENCH_LAG_SECS:-30}
if ! [[ "$LAG_SECS" =~ ^[0-9]+$ ]] || ((LAG_SECS == 0)); then
	fail "BENCH_LAG_SECS '$LAG_SECS' is not a positive number of seconds"
fi

command -v sysbench >/dev/null || skip "sysbench not installed (scripts/install-deps.sh installs it)"
require_sluice

# lag_stats FILE SERIES: FILE holds "x-us lag-us" lines (microseconds since
# the load started, lag of one probe); prints "count p50 p99 max" in seconds
# ("0 - - -" when empty) and writes SERIES, "x-seconds lag-seconds" a line.
lag_stats() {
	python3 - "$1" "$2" <<'PY'
import sys
rows = [tuple(int(x) / 1e6 for x in l.split()) for l in open(sys.argv[1]) if l.strip()]
with open(sys.argv[2], "w") as out:
    for x, y in rows:
        out.write("%.3f %.6f\n" % (x, y))
v = sorted(y for _, y in rows)
if not v:
    print("0 - - -")
else:
    q = lambda f: v[min(len(v) - 1, int(f * len(v)))]
    print(len(v), "%.3f" % q(0.5), "%.3f" % q(0.99), "%.3f" % v[-1])
PY
}

# target VALUE LIMIT: ok when VALUE < LIMIT, MISSED when not or unmeasured
target() {
	python3 -c "import sys
try: print('ok' if float(sys.argv[1]) < float(sys.argv[2]) else 'MISSED')
except ValueError: print('MISSED')" "$1" "$2"
}
num() { [[ "$1" =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

start_servers 2
DIR=$WORK/stream
RDIR=$WORK/reverse

src_sql -e "CREATE DATABASE sbtest; CREATE USER 'app'@'localhost' IDENTIFIED BY 'app-pw-7';
	GRANT SELECT, INSERT, UPDATE, DELETE ON sbtest.* TO 'app'@'localhost';"
# sb_args SOCKET USER PASSWORD: sysbench's arguments, one a line. sysbench is
# started as a plain command (never through a shell function), so that $! is
# its pid and `kill $!` stops it: a function run with & is a subshell, and
# killing that left the load on S running through the whole reverse phase,
# spinning on read_only errors (about 20,000 a second) on the shared CPUs.
sb_args() {
	printf '%s\n' oltp_write_only --db-driver=mysql --mysql-socket="$1" --mysql-user="$2" \
		--mysql-password="$3" --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" \
		--rand-seed=11
}
mapfile -t SB_ROOT_S < <(sb_args "$SRC_SOCK" root "")
mapfile -t SB_APP_S < <(sb_args "$SRC_SOCK" app app-pw-7)
mapfile -t SB_ROOT_D < <(sb_args "$DST_SOCK" root "")
log "sysbench prepare: $TABLES x $TABLE_SIZE rows"
sysbench "${SB_ROOT_S[@]}" --threads=1 prepare >"$WORK/prepare.log" 2>&1 ||
	{ tail "$WORK/prepare.log" >&2; fail "sysbench prepare failed"; }
src_sql -e "CREATE TABLE sbtest.probe (id INT PRIMARY KEY, ts DATETIME(6) NOT NULL)"
# The forward probes: the writer runs inside S, every 20 ms for secs a row
# with its time (SYSDATE(6): the statement's own time; each INSERT its own
# transaction), then lagbench.done (1, count). The tables exist before the
# migration, so the task copies them and its stream carries only their rows.
bench_probe_writer_sql | src_sql

start_bg task migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$DIR" --follow --no-progress
TASK=$BG_PID
wait_line task "$TASK" following 300

# The forward poller runs inside D: every 10 ms it records, with D's time, the
# probes it has not seen yet (READ COMMITTED: it must not lock the rows and
# gaps replay inserts into). lo is the highest id up to which every probe has
# been seen, so each round reads only the few rows above it. It ends once
# lagbench.done says how many probes there are and it has seen them all (or
# after secs). lagseen is D's own: dropped before the switchover.
bench_probe_poller_sql | dst_sql
dst_sql -e "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; CALL lagseen.poll($((LAG_SECS + 120)))" &
POLL=$!
track_pid "$POLL"

log "forward phase: load on S at $RATE txn/s for $LAG_SECS s, a probe every 20 ms; then the switchover"
T0=$(src_sql -N -B -e "SELECT SYSDATE(6)")
# one load for the forward phase and the switchover (killed after it); its
# per-second reports give the rate achieved during the forward phase. Errors
# it retries: sysbench's own defaults (1213 deadlock, 1020, 1205 lock wait:
# 4 threads on small tables deadlock now and then, which ended a quick run)
# and read_only's refusals of the freeze (1290, 1836).
sysbench "${SB_APP_S[@]}" --threads=4 --rate="$RATE" --time=$((LAG_SECS + SECS + 60)) --report-interval=1 \
	--mysql-ignore-errors=1213,1020,1205,1290,1836 run >"$WORK/load-s.log" 2>&1 &
LOAD=$!
track_pid "$LOAD"
src_sql -e "CALL lagbench.probes($LAG_SECS)" || fail "the probe writer on S failed"
wait "$POLL" || fail "the poller on D failed"
kill -0 "$LOAD" 2>/dev/null || fail "sysbench on S ended early: $(tail -n 3 "$WORK/load-s.log")"
FWD_PROBES=$(src_sql -N -B -e "SELECT n FROM lagbench.done WHERE id = 1")
dst_sql -N -B -e "SELECT TIMESTAMPDIFF(MICROSECOND, '$T0', p.ts), TIMESTAMPDIFF(MICROSECOND, p.ts, s.at)
	FROM lagseen.seen s JOIN lagbench.probe p USING (id) ORDER BY p.id" >"$WORK/lag-fwd.us"
dst_sql -e "DROP DATABASE lagseen"
read -r FN FP50 FP99 FMAX < <(lag_stats "$WORK/lag-fwd.us" "$WORK/lag-fwd.series")
# the load achieved: the mean of sysbench's per-second tps over the forward
# phase ("[ 12s ] thds: 4 tps: 499.87 qps: ...")
TPS_S=$(awk -v s="$LAG_SECS" '/^\[ *[0-9]+s \]/ && / tps: / {
		t = $0; sub(/^\[ */, "", t); sub(/s \].*/, "", t)
		if (t + 0 > s) next
		for (i = 1; i < NF; i++) if ($i == "tps:") { sum += $(i + 1); n++ }
	} END { if (n) printf "%.1f", sum / n }' "$WORK/load-s.log")

must_sluice switchover switchover --dir "$DIR" --source "$SRC_URL" --dest "$DST_URL" \
	--reverse-dir "$RDIR" --yes --freeze-source --timeout 60
kill "$LOAD" 2>/dev/null || true
wait "$LOAD" 2>/dev/null || true
# from here the load runs on D only
"$SLUICE" switchover --dir "$DIR" --status --json >"$WORK/switch.json"
DOWN=$(python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["downtime_s"])' "$WORK/switch.json")

log "load on D: $RATE txn/s for $SECS s, probes every 20 ms"
src_sql -e "CREATE DATABASE bench; CREATE TABLE bench.seen (id INT PRIMARY KEY, at DATETIME(6) NOT NULL)"
PROBES=$((SECS * 50))
TD0=$(dst_sql -N -B -e "SELECT SYSDATE(6)")
sysbench "${SB_ROOT_D[@]}" --threads=4 --rate="$RATE" --time="$SECS" --report-interval=0 run \
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
src_sql -N -B -e "SELECT TIMESTAMPDIFF(MICROSECOND, '$TD0', p.ts), TIMESTAMPDIFF(MICROSECOND, p.ts, s.at)
	FROM bench.seen s JOIN sbtest.probe p USING (id) ORDER BY p.id" >"$WORK/lag-rev.us"
[[ -n "${BENCH_KEEP:-}" ]] && src_sql -N -B -e "SELECT p.id, TIMESTAMPDIFF(MICROSECOND, p.ts, s.at) FROM bench.seen s
	JOIN sbtest.probe p USING (id) ORDER BY p.id" >"$BENCH_KEEP"
read -r N P50 P99 MAX < <(lag_stats "$WORK/lag-rev.us" "$WORK/lag-rev.series")
TPS_D=$(sed -n 's/.*transactions: *[0-9]* *(\([0-9.]*\) per sec.*/\1/p' "$WORK/load-d.log")

# S must equal D once reverse sync has caught up (bench.seen is S's own)
src_sql -e "DROP DATABASE bench"
wait_equal 60 || fail "the source differs from the destination after reverse sync"
stop_bg "$TASK" task TERM

# The figures for bench/run, only now that S equals D (a wrong run reports
# nothing); a figure not measured is left out.
bench_note migrate-lag "$TABLES tables x $TABLE_SIZE rows, sysbench oltp_write_only --rate $RATE (4 threads) on S for $LAG_SECS s; a probe every 20 ms on S, polled every 10 ms on D; $FN of $FWD_PROBES probes seen"
if ((FN > 0)); then
	bench_result migrate-lag "sluice migrate --follow" lag_p50_s "$FP50" s
	bench_result migrate-lag "sluice migrate --follow" lag_p99_s "$FP99" s
	bench_result migrate-lag "sluice migrate --follow" lag_max_s "$FMAX" s
	bench_series migrate-lag "sluice migrate --follow" "$WORK/lag-fwd.series"
fi
bench_result migrate-lag "sluice migrate --follow" probes "$FN" ""
if num "${TPS_S:-}"; then bench_result migrate-lag "sluice migrate --follow" txn_per_s "$TPS_S" txn/s; fi
bench_note switchover "$TABLES tables x $TABLE_SIZE rows, sysbench oltp_write_only --rate $RATE (4 threads) on S, switchover --freeze-source; then the load on D for $SECS s (${TPS_D:-?} txn/s), a probe every 20 ms on D, polled every 10 ms on S; $N of $PROBES probes seen"
if num "$DOWN"; then bench_result switchover "sluice switchover" downtime_s "$DOWN" s; fi
if ((N > 0)); then
	bench_result switchover "reverse sync" lag_p50_s "$P50" s
	bench_result switchover "reverse sync" lag_p99_s "$P99" s
	bench_result switchover "reverse sync" lag_max_s "$MAX" s
	bench_series switchover "reverse sync" "$WORK/lag-rev.series"
fi

cat <<EOF

switchover under load (sysbench oltp_write_only, $TABLES x $TABLE_SIZE rows, --rate $RATE, 4 threads)
  migrate --follow lag S commit -> D visible:      p50 $FP50 s, p99 $FP99 s, max $FMAX s over $FN of $FWD_PROBES probes ($LAG_SECS s)
  load on S meanwhile:                             ${TPS_S:-?} txn/s
  downtime, freeze of S to reverse sync running:   $DOWN s   (target < 5 s: $(target "$DOWN" 5))
  reverse sync latency D commit -> S visible:      p50 $P50 s, p99 $P99 s, max $MAX s over $N probes (target p99 < 1 s: $(target "$P99" 1))
  load on D meanwhile:                             ${TPS_D:-?} txn/s
  reverse replay's own last progress line:         $(grep -o '[0-9]* transactions/s.*' "$WORK/task.err" | tail -n 1)
  (latencies include the 10 ms poll period; all on one machine: both servers and sluice share its CPUs)
EOF
