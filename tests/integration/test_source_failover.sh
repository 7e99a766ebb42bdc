#!/usr/bin/env bash
# Source failover to a server with the same GTID history (issue 14 item 4):
# server 3 replicates from the source (server 1) by GTID with
# log_slave_updates. capture --follow on the source and replay --follow into
# the destination (server 2) run under a load whose every transaction adds a
# row to a keyless ledger; capture falls behind (SIGSTOP), the replica
# catches up, the source is killed with SIGKILL, the replica promoted and
# written on; capture is killed and started again with --source pointing to
# the replica, on the same DIR. It must continue after its last durable
# transaction by GTID (the replica's binlog files and offsets are not the
# source's): the destination equals the replica, every ledger row once.
#
# Capture keeps the stream's identity and continues after its last GTID on
# the promoted replica (capture/cap_source.c failover_check()).
#
#   FAILOVER_LOAD_S  seconds of load before the failover (default 4)
#   RESULT failover-gtid trials=1 lost=0 dup=0 txns=N resume_ms=N
set -euo pipefail
TEST_NAME=test_source_failover
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
LOAD_S=${FAILOVER_LOAD_S:-4}
start_servers 2
start_replica 3 1

D=$WORK/dir
start_bg cap capture --source "$SRC_URL" --dir "$D" --follow
CPID=$BG_PID
wait_line cap "$CPID" 'streaming from' 60
src_sql -e "CREATE DATABASE fo; CREATE TABLE fo.ledger (txn INT NOT NULL, at DATETIME(6));
	CREATE TABLE fo.acct (id INT PRIMARY KEY, bal BIGINT, note VARCHAR(100));
	INSERT INTO fo.acct VALUES (1, 0, ''), (2, 0, ''), (3, 0, '');"
start_bg rep replay --dir "$D" --dest "$DST_URL" --follow
RPID=$BG_PID

# txn N on server S: a ledger row and an account update, one transaction
txn() {
	srv_sql "$1" -e "START TRANSACTION; INSERT INTO fo.ledger VALUES ($2, NOW(6));
		UPDATE fo.acct SET bal = bal + $2, note = CONCAT('t', $2) WHERE id = 1 + $2 % 3; COMMIT;"
}

n=0
end=$((SECONDS + LOAD_S))
stop_at=$((SECONDS + LOAD_S / 2))
stopped=0
while ((SECONDS < end)); do
	n=$((n + 1))
	txn 1 "$n"
	if ((!stopped && SECONDS >= stop_at)); then
		kill -STOP "$CPID"	# capture falls behind the source
		stopped=1
	fi
done
((stopped)) || kill -STOP "$CPID"
replica_catch_up 3
behind=$(src_sql -N -B -e "SELECT COUNT(*) FROM fo.ledger")
log "$n transactions on the source; capture stopped behind it; the replica has them all ($behind)"

# the failover: source and capture die, the replica takes the writes
kill -9 "$CPID"
wait "$CPID" 2>/dev/null || true
kill_server 1
promote_replica 3
for i in 1 2 3 4 5; do
	txn 3 $((n + i))
done
n=$((n + 5))

t0=$(date +%s%N)
start_bg cap2 capture --source "$REPLICA_URL" --dir "$D" --follow
CPID=$BG_PID
for _ in $(seq 1 100); do
	grep -q 'streaming from' "$WORK/cap2.err" 2>/dev/null && break
	kill -0 "$CPID" 2>/dev/null || break
	sleep 0.2
done
if ! kill -0 "$CPID" 2>/dev/null; then
	rc=0
	wait "$CPID" || rc=$?
	why=$(grep -v '^[[:space:]]*$' "$WORK/cap2.err" | tail -n 1)
	fail "capture on the promoted replica exited $rc: $why"
fi
resume_ms=$((($(date +%s%N) - t0) / 1000000))
for i in 6 7 8; do
	txn 3 $((n - 5 + i))
done
n=$((n + 3))
wait_equal 120 3 2 || fail "the destination does not equal the promoted replica"
stop_bg "$RPID" rep TERM
stop_bg "$CPID" cap2 TERM

src=$(srv_sql 3 -N -B -e "SELECT COUNT(*) FROM fo.ledger")
dst=$(dst_sql -N -B -e "SELECT COUNT(*) FROM fo.ledger")
distinct=$(dst_sql -N -B -e "SELECT COUNT(DISTINCT txn) FROM fo.ledger")
lost=$((src - distinct)) dup=$((dst - distinct))
echo "RESULT failover-gtid trials=1 lost=$lost dup=$dup txns=$n resume_ms=$resume_ms"
((src == n)) || fail "the replica holds $src ledger rows, $n were written"
((lost == 0 && dup == 0)) || fail "$lost ledger rows lost, $dup applied twice"
assert_no_password "$WORK"/cap*.err "$WORK"/rep.err
log "PASS: $n transactions, capture resumed on the replica in $resume_ms ms"
