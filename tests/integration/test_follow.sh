#!/usr/bin/env bash
# Follow mode: `capture --follow` and `replay --follow` run in the background
# while a workload arrives in batches; the destination must catch up, both
# must exit 0 on SIGTERM (and, in a second round, SIGINT), and a later
# non-follow capture + replay must resume with nothing lost and nothing doubled.
set -euo pipefail
TEST_NAME=test_follow
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

CATCHUP_TIMEOUT=${CATCHUP_TIMEOUT:-120}

# Batch N of the workload: inserts, updates, deletes, a no-PK table (where a
# doubled apply shows as extra rows), and DDL now and then.
batch_sql() {
	local n=$1
	cat <<SQL
USE fdb;
START TRANSACTION;
INSERT INTO t (id, v, n, b) SELECT $n * 100000 + seq, CONCAT('b$n-', seq), seq * $n, NULL FROM seq_1_to_500;
UPDATE t SET v = CONCAT(v, '+'), n = n + 1 WHERE id % 10 = $((n % 10)) AND id < $n * 100000;
DELETE FROM t WHERE id % 17 = $((n % 17)) AND id < $n * 100000;
COMMIT;
INSERT INTO log_nopk VALUES ($n, 'batch', NOW(6)), ($n, 'batch', NOW(6));
UPDATE log_nopk SET note = 'seen' WHERE b = $((n - 1)) LIMIT 1;
INSERT INTO t (id, v, n, b) VALUES ($n * 100000 + 999, 'single', $n, x'00ff$(printf '%02x' "$n")');
SQL
	if ((n % 3 == 0)); then
		cat <<SQL
CREATE TABLE ddl_$n (id INT PRIMARY KEY, v VARCHAR(10));
INSERT INTO ddl_$n VALUES (1, 'x$n'), (2, 'y$n');
ALTER TABLE t ADD COLUMN c$n INT DEFAULT $n;
SQL
	fi
}

main() {
	require_sluice
	start_servers 2
	local dir=$WORK/stream cap rep n

	mkdir -p "$dir"
	log "first capture records the binlog end"
	must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 201

	src_sql -e "CREATE DATABASE fdb;
		CREATE TABLE fdb.t (id BIGINT PRIMARY KEY, v VARCHAR(100), n BIGINT, b VARBINARY(10)) ENGINE=InnoDB;
		CREATE TABLE fdb.log_nopk (b INT, note VARCHAR(20), at DATETIME(6)) ENGINE=InnoDB;"

	log "round 1: follow capture and replay, workload in batches"
	start_bg capf1 capture --source "$SRC_URL" --dir "$dir" --follow --server-id 201
	cap=$BG_PID
	start_bg repf1 replay --dir "$dir" --dest "$DST_URL" --follow
	rep=$BG_PID
	for n in 1 2 3 4 5 6; do
		batch_sql "$n" | src_sql
		sleep 0.5
	done
	# one large transaction while both follow
	src_sql -e "INSERT INTO fdb.t (id, v, n) SELECT 9000000 + seq, 'bulk', seq FROM fdb.seq_1_to_20000"
	log "waiting for the destination to catch up (<= ${CATCHUP_TIMEOUT}s)"
	wait_equal "$CATCHUP_TIMEOUT" || fail "destination did not catch up in follow mode"
	log "caught up; SIGTERM to both"
	stop_bg "$cap" capf1 TERM
	stop_bg "$rep" repf1 TERM
	compare_all || fail "not equal after follow processes stopped"

	log "changes while nothing runs, then a non-follow resume"
	for n in 7 8 9; do
		batch_sql "$n" | src_sql
	done
	must_sluice cap2 capture --source "$SRC_URL" --dir "$dir" --server-id 201
	must_sluice rep2 replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "not equal after the non-follow resume"
	must_sluice rep3 replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "a repeated replay changed the destination"

	log "round 2: follow again, stopped with SIGINT"
	start_bg capf2 capture --source "$SRC_URL" --dir "$dir" --follow --server-id 201
	cap=$BG_PID
	start_bg repf2 replay --dir "$dir" --dest "$DST_URL" --follow
	rep=$BG_PID
	for n in 10 11 12; do
		batch_sql "$n" | src_sql
		sleep 0.3
	done
	wait_equal "$CATCHUP_TIMEOUT" || fail "destination did not catch up in the second follow round"
	stop_bg "$cap" capf2 INT
	stop_bg "$rep" repf2 INT

	log "a last batch after SIGINT, resumed without follow"
	batch_sql 13 | src_sql
	must_sluice cap4 capture --source "$SRC_URL" --dir "$dir" --server-id 201
	must_sluice rep4 replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "not equal after the final resume"
	local rows
	rows=$(dst_sql -N -B -e "SELECT COUNT(*) FROM fdb.log_nopk")
	[[ "$rows" == "26" ]] || fail "log_nopk has $rows rows on the destination, want 26 (lost or doubled)"
	assert_no_password "$WORK"/*.out "$WORK"/*.err
	log "PASS"
}

main "$@"
