#!/usr/bin/env bash
# The switchover survives a crash of the task at every step (issue 12): for
# each step, the task is killed (SIGKILL, through the failpoints
# switchover.<step>.before, journaled running with nothing done, and
# .after, done but not journaled) while it walks the switchover; started again, it
# continues, the client run again exits 0, and then writes on D reach S
# and S equals D. The same two servers serve every trial: each starts from
# a fresh source database and fresh stream directories.
# SWITCHOVER_CRASH_POINTS overrides the list ("freeze-source.after ..."). One
# RESULT line per point (a keyless ledger written across the crash: lost 0, dup 0).
set -euo pipefail
TEST_NAME=test_switchover_crash
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-300}

STEPS=(confirm precheck reverse-capture freeze-source wait-forward stop-forward objects reverse-sync)
if [[ -n "${SWITCHOVER_CRASH_POINTS:-}" ]]; then
	read -r -a POINTS <<<"$SWITCHOVER_CRASH_POINTS"
else
	POINTS=()
	for s in "${STEPS[@]}"; do POINTS+=("$s.before" "$s.after"); done
fi

start_servers 2

fresh_source() {
	src_sql -e "SET GLOBAL read_only=0; DROP DATABASE IF EXISTS shop; DROP DATABASE IF EXISTS sluice;"
	dst_sql -e "DROP DATABASE IF EXISTS shop; DROP DATABASE IF EXISTS sluice;"
	src_sql <<'SQL'
CREATE DATABASE shop;
USE shop;
CREATE TABLE customer (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=InnoDB;
CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL,
  CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE CASCADE) ENGINE=InnoDB;
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT NOT NULL) ENGINE=InnoDB;
CREATE TABLE ledger (seq INT NOT NULL) ENGINE=InnoDB;
CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit (order_id) VALUES (NEW.id);
INSERT INTO customer (name) VALUES ('ann'), ('bob');
INSERT INTO orders (customer_id) VALUES (1), (2);
SQL
}

trial=0
for point in "${POINTS[@]}"; do
	trial=$((trial + 1))
	fresh_source
	DIR=$WORK/stream.$trial
	RDIR=$WORK/reverse.$trial
	TASK=(migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$DIR" --follow --no-progress)
	SW=(switchover --dir "$DIR" --source "$SRC_URL" --dest "$DST_URL" --reverse-dir "$RDIR" --yes --freeze-source)

	SLUICE_FAILPOINT="switchover.$point" start_bg "task$trial.a" "${TASK[@]}"
	PID=$BG_PID
	wait_line "task$trial.a" "$PID" 'following'
	src_sql -e "INSERT INTO shop.customer (name) VALUES ('before $point'); INSERT INTO shop.ledger VALUES (1), (2)"
	rc=0
	run_sluice "sw$trial.a" "${SW[@]}" || rc=$?
	wait "$PID" 2>/dev/null || true
	grep -q "failpoint.*switchover.$point" "$WORK/task$trial.a.err" ||
		fail "$point: the task did not die at its failpoint (client exit $rc): $(tail -n 3 "$WORK/task$trial.a.err")"
	((rc == 2)) || fail "$point: the client exited $rc when the task died, want 2"

	start_bg "task$trial.b" "${TASK[@]}"
	PID=$BG_PID
	wait_line "task$trial.b" "$PID" 'following'
	must_sluice "sw$trial.b" "${SW[@]}"
	[[ "$(sed -n 's/^state=//p' "$DIR/switchover.journal")" == done ]] || fail "$point: the journal does not say done"
	[[ "$(src_sql -N -B -e 'SELECT @@global.read_only')" == 1 ]] || fail "$point: the source is not read-only"
	[[ "$(dst_sql -N -B -e "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema='shop'")" == 1 ]] ||
		fail "$point: the deferred trigger is not on the destination"
	dst_sql shop -e "INSERT INTO customer (name) VALUES ('after $point');
		INSERT INTO orders (customer_id) SELECT MAX(id) FROM customer; DELETE FROM customer WHERE name = 'bob';
		INSERT INTO ledger VALUES (3);"
	wait_equal 60 || fail "$point: the destination's writes did not reach the source"
	# the keyless ledger: each seq once on both sides (wait_equal compared every row)
	[[ "$(src_sql -N -B -e "SELECT GROUP_CONCAT(seq ORDER BY seq) FROM shop.ledger")" == 1,2,3 ]] ||
		fail "$point: the ledger lost or doubled a row"
	echo "RESULT switchover.$point trials=1 lost=0 dup=0"
	stop_bg "$PID" "task$trial.b" TERM
	log "ok $point"
done
log "ok: ${#POINTS[@]} crash points"
