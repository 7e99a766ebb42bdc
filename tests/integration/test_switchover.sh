#!/usr/bin/env bash
# sluice switchover (issue 12) on two real servers, S (server 1) and D
# (server 2), with `sluice migrate --follow` as the running task and the
# application writing to S through an account without SUPER:
#   1. refusals: no task on the directory, no --yes without a terminal, a
#      source other than the task's (precheck), --rollback with nothing under
#      way; each exit 2 with one line naming the cause;
#   2. timeout: forward replay held back by a lock on D -> the switchover
#      rolls back by itself (exit 2): S writable again, forward sync goes on;
#   3. --rollback while the task waits for forward replay: rolled back;
#   4. the task killed -9 while it waits for forward replay, started again:
#      the switchover continues, and a switchover client killed -9 and run
#      again follows it to the end (exit 0);
#   5. after it: S read-only, the pair in DIR and RDIR (status, inspect), D
#      has the deferred foreign key and trigger, S's trigger saved in RDIR
#      and dropped, AUTO_INCREMENT on D at least S's; then writes on D
#      (inserts firing D's trigger, a delete cascading through the foreign
#      key, a keyless table) reach S, and S equals D; nothing replay wrote
#      on D came back into RDIR;
#   6. SIGTERM stops the task (exit 0); started again it runs the reverse
#      direction only.
set -euo pipefail
TEST_NAME=test_switchover
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-300}

start_servers 2
DIR=$WORK/stream
RDIR=$WORK/reverse

src_sql <<'SQL'
CREATE DATABASE shop;
USE shop;
CREATE TABLE customer (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=InnoDB;
CREATE TABLE orders (
  id INT AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  amount DECIMAL(10,2) NOT NULL,
  CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE CASCADE
) ENGINE=InnoDB;
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT NOT NULL, note VARCHAR(40)) ENGINE=InnoDB;
CREATE TABLE notes (body VARCHAR(40), n INT) ENGINE=InnoDB;
CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW
  INSERT INTO audit (order_id, note) VALUES (NEW.id, 'new order');
INSERT INTO customer (name) VALUES ('ann'), ('bob'), ('cid');
INSERT INTO orders (customer_id, amount) VALUES (1, 10.50), (2, 20.00), (3, 1.25);
INSERT INTO notes VALUES ('first', 1), ('second', 2);
CREATE USER 'app'@'localhost' IDENTIFIED BY 'app-secret-1';
GRANT SELECT, INSERT, UPDATE, DELETE ON shop.* TO 'app'@'localhost';
SQL

app_sql() { mariadb --no-defaults -uapp -papp-secret-1 -S "$SRC_SOCK" shop "$@"; }

# The application: a row a tenth of a second into customer and orders while
# S is writable (read_only refuses it afterwards: errors are expected).
APP_PID=
start_app() {
	(
		i=0
		while :; do
			i=$((i + 1))
			app_sql -e "INSERT INTO customer (name) VALUES ('app$i');
				INSERT INTO orders (customer_id, amount) VALUES (LAST_INSERT_ID(), $i);" 2>/dev/null || true
			sleep 0.1
		done
	) &
	APP_PID=$!
	track_pid "$APP_PID"
}
stop_app() { [[ -n "$APP_PID" ]] && kill "$APP_PID" 2>/dev/null; wait "$APP_PID" 2>/dev/null || true; APP_PID=; }

TASK=(migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$DIR" --follow --no-progress)
SW=(switchover --dir "$DIR" --source "$SRC_URL" --dest "$DST_URL" --reverse-dir "$RDIR")

start_task() { # NAME
	start_bg "$1" "${TASK[@]}"
	TASK_PID=$BG_PID
	wait_line "$1" "$TASK_PID" following
}

read_only() { src_sql -N -B -e "SELECT @@global.read_only"; }
# Waits until the task waits for forward replay (step wait-forward running).
until_waiting() {
	for _ in $(seq 1 100); do [[ "$(journal_step wait-forward)" == running ]] && return 0; sleep 0.2; done
	fail "the switchover never waited for forward replay"
}
journal_state() { sed -n 's/^state=//p' "$DIR/switchover.journal" 2>/dev/null; }
journal_step() { sed -n "s/^step\\.$1=\\([a-z-]*\\) .*/\\1/p" "$DIR/switchover.journal" 2>/dev/null; }

# A lock on D that holds forward replay back for SECONDS: the next row on
# S for customer waits behind it.
HOLD_PID=
hold_dest() {
	dst_sql -e "LOCK TABLES shop.customer WRITE; SELECT SLEEP($1);" >/dev/null 2>&1 &
	HOLD_PID=$!
	track_pid "$HOLD_PID"
	sleep 0.5
}
release_dest() { [[ -n "$HOLD_PID" ]] && kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null || true; HOLD_PID=
	# the client's death does not end its SLEEP at once: kill the query too
	dst_sql -N -B -e "SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP%'" |
		while read -r id; do dst_sql -e "KILL $id" 2>/dev/null || true; done; }

# ---- 1. refusals ----
mkdir -p "$WORK/empty"
expect_error no-task 'no migrate task runs on' switchover --dir "$WORK/empty" --source "$SRC_URL" \
	--dest "$DST_URL" --reverse-dir "$RDIR" --yes
# a source account that may read the binlog but not write: reverse replay could not run
src_sql -e "CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY '$HARNESS_PASSWORD';
	GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'reader'@'127.0.0.1'"
READER_URL="mysql://reader@127.0.0.1:$SRC_PORT/"
start_bg task0 migrate --source "$READER_URL" --dest "$DST_URL" --dir "$WORK/stream0" --follow --no-progress
TASK_PID=$BG_PID
wait_line task0 "$TASK_PID" following
expect_error no-write-grants 'reverse replay could not write to the source: .*INSERT' switchover --dir "$WORK/stream0" \
	--source "$READER_URL" --dest "$DST_URL" --reverse-dir "$WORK/reverse0" --yes
stop_bg "$TASK_PID" task0 TERM
dst_sql -e "DROP DATABASE shop; DROP DATABASE sluice"
start_task task1
start_app
expect_error no-yes 'confirm with --yes' "${SW[@]}"
expect_error other-source 'the switchover names source' switchover --dir "$DIR" \
	--source "mysql://sluice@127.0.0.1:1/" --dest "$DST_URL" --reverse-dir "$RDIR" --yes --skip-verify
[[ "$(journal_state)" == failed ]] || fail "a refused precheck is not journaled as failed"
expect_error nothing-to-roll-back 'no switchover under way' switchover --dir "$DIR" --rollback

# ---- 2. timeout: forward replay cannot reach the final position ----
hold_dest 60
run_sluice timeout-sw "${SW[@]}" --yes --freeze-source --timeout 3 --max-lag 3600 || true
[[ "$(cat "$WORK/timeout-sw.rc")" == 2 ]] || { cat "$WORK/timeout-sw.out" "$WORK/timeout-sw.err" >&2; fail "a timed-out switchover did not exit 2"; }
grep -q 'did not reach the source' "$WORK/timeout-sw.err" || fail "the timeout is not named: $(tail -n 2 "$WORK/timeout-sw.err")"
[[ "$(read_only)" == 0 ]] || fail "the source stayed read-only after the timeout"
[[ "$(journal_step freeze-source)" == undone ]] || fail "the freeze is not journaled as undone"
release_dest
stop_app
"$SLUICE" switchover --dir "$DIR" --status >"$WORK/status1.out"
grep -q 'switchover: failed' "$WORK/status1.out" || fail "status does not say failed: $(head -n 2 "$WORK/status1.out")"
wait_equal 60 || fail "forward sync does not go on after the timeout"

# ---- 3. --rollback while the task waits ----
start_app
hold_dest 60
start_bg rb-sw "${SW[@]}" --yes --freeze-source --timeout 120 --max-lag 3600
RB_PID=$BG_PID
until_waiting
[[ "$(read_only)" == 1 ]] || fail "the source is not read-only while the switchover waits"
must_sluice rollback switchover --dir "$DIR" --rollback
grep -q 'rolled back' "$WORK/rollback.out" || fail "--rollback did not say rolled back"
wait "$RB_PID" && fail "the rolled-back switchover exited 0" || true
[[ "$(journal_state)" == rolled-back ]] || fail "the journal does not say rolled-back"
[[ "$(read_only)" == 0 ]] || fail "the source stayed read-only after --rollback"
release_dest
stop_app
wait_equal 60 || fail "forward sync does not go on after the rollback"

# ---- 4. the task killed while it waits; the client killed and rerun ----
start_app
hold_dest 60
start_bg sw-a "${SW[@]}" --yes --freeze-source --timeout 60 --max-lag 3600
SWA=$BG_PID
until_waiting
kill -9 "$TASK_PID"
wait "$TASK_PID" 2>/dev/null || true
wait "$SWA" 2>/dev/null || true		# the client: "the migrate task ... stopped"
grep -q 'stopped during the switchover' "$WORK/sw-a.err" || fail "the client did not say the task stopped"
release_dest
stop_app
start_task task2
start_bg sw-b "${SW[@]}" --yes --freeze-source
SWB=$BG_PID
sleep 0.3
kill -9 "$SWB"
wait "$SWB" 2>/dev/null || true
must_sluice sw-c "${SW[@]}" --yes --freeze-source
grep -q 'switched over\|already switched over' "$WORK/sw-c.out" || fail "the rerun client did not see the end: $(cat "$WORK/sw-c.out")"
[[ "$(journal_state)" == done ]] || fail "the journal does not say done"

# ---- 5. after the switchover ----
[[ "$(read_only)" == 1 ]] || fail "the source is not read-only after the switchover"
[[ -f "$DIR/switchover.pair" && -f "$RDIR/switchover.pair" ]] || fail "the position pair is not in DIR and RDIR"
"$SLUICE" status "$DIR" | grep -q 'switchover: forward sync ended at source' || fail "status does not show the pair"
# into a file: grep -q stops reading at the match, and under pipefail a
# longer output (idle heartbeats) would fail inspect with SIGPIPE
"$SLUICE" inspect "$RDIR" >"$WORK/rdir.inspect"
grep -q '# switchover: forward sync ended' "$WORK/rdir.inspect" || fail "inspect does not show the pair"
"$SLUICE" switchover --dir "$DIR" --status --json >"$WORK/status.json"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["state"]=="done", j; assert all(s["status"]=="done" for s in j["steps"]), j["steps"]; assert j["downtime_s"] >= 0' "$WORK/status.json" ||
	fail "status --json is not a done switchover: $(cat "$WORK/status.json")"
[[ "$(dst_sql -N -B -e "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema='shop'")" == 1 ]] ||
	fail "the deferred trigger is not on the destination"
[[ "$(dst_sql -N -B -e "SELECT COUNT(*) FROM information_schema.referential_constraints WHERE constraint_schema='shop'")" == 1 ]] ||
	fail "the deferred foreign key is not on the destination"
[[ "$(src_sql -N -B -e "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema='shop'")" == 0 ]] ||
	fail "the source's trigger was not dropped"
grep -q 'orders_audit' "$RDIR/source-triggers" || fail "the source's trigger is not saved in RDIR"
s_ai=$(src_sql -N -B -e "SELECT AUTO_INCREMENT FROM information_schema.tables WHERE table_schema='shop' AND table_name='customer'")
d_ai=$(dst_sql -N -B -e "SELECT AUTO_INCREMENT FROM information_schema.tables WHERE table_schema='shop' AND table_name='customer'")
((d_ai >= s_ai)) || fail "AUTO_INCREMENT of customer on D ($d_ai) is below S's ($s_ai)"
app_sql -e "INSERT INTO customer (name) VALUES ('refused')" 2>/dev/null && fail "the application could still write to the frozen source"

dst_sql shop <<'SQL'
INSERT INTO customer (name) VALUES ('dee'), ('eve');
INSERT INTO orders (customer_id, amount) SELECT id, 99.99 FROM customer WHERE name IN ('dee', 'eve');
DELETE FROM customer WHERE name = 'bob';
INSERT INTO notes VALUES ('third', 3);
DELETE FROM notes WHERE n = 1;
UPDATE customer SET name = 'ANN' WHERE name = 'ann';
SQL
[[ "$(dst_sql -N -B -e "SELECT COUNT(*) FROM shop.audit WHERE order_id IN (SELECT id FROM shop.orders WHERE amount = 99.99)")" == 2 ]] ||
	fail "D's trigger did not fire"
wait_equal 60 || fail "the destination's writes did not reach the source"
# nothing forward replay wrote on D came back: RDIR holds D's own writes only
"$SLUICE" inspect --json "$RDIR" >"$WORK/rdir.json"
python3 - "$WORK/rdir.json" <<'PY' || fail "RDIR holds more than the destination's own writes"
import json, sys
ins = dels = upd = 0
for line in open(sys.argv[1]):
    for c in json.loads(line).get("changes", []):
        assert c["db"] == "shop", c
        op = c["op"]
        ins += op == "insert"; dels += op == "delete"; upd += op == "update"
# 2 customers, 2 orders, 2 audit rows, 1 note; bob deleted (his orders by
# the cascade, which the binlog may not hold), 1 note; ann renamed
assert ins == 7, ("inserts", ins)
assert upd == 1, ("updates", upd)
assert 2 <= dels <= 3, ("deletes", dels)
PY

# ---- 6. SIGTERM; a restarted task runs the reverse direction only ----
stop_bg "$TASK_PID" task2 TERM
start_bg task3 "${TASK[@]}"
TASK_PID=$BG_PID
wait_line task3 "$TASK_PID" 'following in reverse' 60
grep -q '\[capture\]\|\[replay\]' "$WORK/task3.err" && fail "the restarted task ran the forward direction"
dst_sql -e "INSERT INTO shop.notes VALUES ('after restart', 4)"
wait_equal 60 || fail "reverse sync does not carry writes after the task's restart"
stop_bg "$TASK_PID" task3 TERM
assert_no_password "$WORK"/*.out "$WORK"/*.err "$DIR/switchover.journal" "$DIR/switchover.request" "$RDIR/switchover.pair"
log "ok"
