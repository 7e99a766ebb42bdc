#!/usr/bin/env bash
# Crash safety of capture and replay (RELIABILITY.md A1, C1): a workload
# writes to the source while capture --follow is killed with SIGKILL at random
# moments (10 trials) and restarted; in every other trial a replay --follow
# is killed too. Then capture catches up, replay drains, and source and
# destination must be equal row by row (a table without a primary key shows
# any duplicate), and verify --segments must find the stream clean.
set -euo pipefail
TEST_NAME=test_crash
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

TRIALS=${CRASH_TRIALS:-10}
require_sluice
start_servers

dir=$WORK/stream
must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 301
src_sql -e "CREATE DATABASE crash;
	CREATE TABLE crash.ledger (seq BIGINT PRIMARY KEY, v VARCHAR(64), n INT) ENGINE=InnoDB;
	CREATE TABLE crash.ledger_nopk (seq INT, v VARCHAR(64)) ENGINE=InnoDB;
	CREATE TABLE crash.bank (acct INT PRIMARY KEY, bal BIGINT) ENGINE=InnoDB;
	INSERT INTO crash.bank SELECT seq, 1000 FROM crash.seq_1_to_20;"

# The workload: one client, small transactions of 1-4 statements, paced.
workload() {
	local b=0 i
	while [[ ! -f "$WORK/stop" ]]; do
		b=$((b + 1))
		{
			for k in $(seq 1 50); do
				i=$((b * 50 + k))
				echo "BEGIN;"
				echo "INSERT INTO crash.ledger VALUES ($i, REPEAT('x', $((i % 50))), $i);"
				echo "INSERT INTO crash.ledger_nopk VALUES ($i, 'row $i');"
				if ((i % 3 == 0)); then
					echo "UPDATE crash.bank SET bal = bal - 5 WHERE acct = $((i % 20 + 1));"
					echo "UPDATE crash.bank SET bal = bal + 5 WHERE acct = $(((i + 7) % 20 + 1));"
				fi
				echo "COMMIT;"
				echo "DO SLEEP(0.004);"
			done
		} | src_sql || true
	done
}
# shellcheck disable=SC2034
workload &
wl_pid=$!
track_pid "$wl_pid"

cap_pid=
rep_pid=
start_capture() {
	"$SLUICE" capture --source "$SRC_URL" --dir "$dir" --server-id 301 --follow \
		--commit-interval 5 --segment-size 64K >>"$WORK/capture.log" 2>&1 &
	cap_pid=$!
	track_pid "$cap_pid"
}
start_replay() {
	"$SLUICE" replay --dir "$dir" --dest "$DST_URL" --follow >>"$WORK/replay.log" 2>&1 &
	rep_pid=$!
	track_pid "$rep_pid"
}

start_capture
for t in $(seq 1 "$TRIALS"); do
	if ((t % 2 == 0)); then
		start_replay
	fi
	# a random moment within 0.5-3.5 s
	sleep "$((RANDOM % 3)).$((RANDOM % 10))5"
	kill -9 "$cap_pid" 2>/dev/null || fail "capture died by itself (trial $t): $(tail -3 "$WORK/capture.log")"
	wait "$cap_pid" 2>/dev/null || true
	if [[ -n "$rep_pid" ]]; then
		sleep "0.$((RANDOM % 10))"
		kill -9 "$rep_pid" 2>/dev/null || fail "replay died by itself (trial $t): $(tail -3 "$WORK/replay.log")"
		wait "$rep_pid" 2>/dev/null || true
		rep_pid=
	fi
	log "trial $t: killed; segments $(find "$dir" -name '*.seg' | wc -l), $(grep -c 'cutting' "$WORK/capture.log" || true) cuts so far"
	start_capture
	sleep 0.3
done

touch "$WORK/stop"
wait "$wl_pid" || true
sleep 1
kill -TERM "$cap_pid" 2>/dev/null || true
wait "$cap_pid" 2>/dev/null || true
grep -q "cutting" "$WORK/capture.log" && log "recovery cut torn tails: $(grep -c cutting "$WORK/capture.log") times"
# catch up to the binlog end, then drain
must_sluice capfin capture --source "$SRC_URL" --dir "$dir" --server-id 301
must_sluice repfin replay --dir "$dir" --dest "$DST_URL"
run_sluice verify verify --segments "$dir" || fail "verify --segments: $(cat "$WORK/verify.out")"
compare_all || fail "source and destination differ after $TRIALS kill -9 trials"
n=$(src_sql -N -e "SELECT COUNT(*) FROM crash.ledger_nopk")
d=$(dst_sql -N -e "SELECT COUNT(*) - COUNT(DISTINCT seq) FROM crash.ledger_nopk")
[[ "$d" == 0 ]] || fail "$d duplicated rows in crash.ledger_nopk"
sum=$(dst_sql -N -e "SELECT SUM(bal) FROM crash.bank")
[[ "$sum" == 20000 ]] || fail "bank invariant broken at the destination: $sum"
log "RESULT A1/C1 trials=$TRIALS transactions=$n lost=0 dup=0"
echo "1 passed, 0 failed"
