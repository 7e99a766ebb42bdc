#!/usr/bin/env bash
# Dialect rules on DDL captured in a stream (issue 11 item 2, ddl/ddl_rules.c):
#   1. a CREATE TABLE written by MySQL 8 (COLLATE utf8mb4_0900_ai_ci, which
#      MariaDB 10.11 does not know; the stream is written by test_capture
#      --old-stream as a MySQL 8 capture records it) replays onto MariaDB
#      with utf8mb4_unicode_520_ci, a warning naming rule collation-0900;
#   2. a view captured from a real MariaDB source with DEFINER=`ghost`@`%`
#      (an account that is not migrated) is created with replay's account
#      as definer, a warning naming rule definer; the tables equal;
#   3. --dest-dialect oceanbase: a FULLTEXT index in a captured CREATE TABLE
#      stops replay with exit 2 naming the position and rule ob-fulltext,
#      nothing created, the checkpoint unmoved; the same stream without the
#      option (MariaDB detected) replays.
set -euo pipefail
TEST_NAME=test_ddl_rules
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-120}
TEST_CAPTURE=${SLUICE_TEST_CAPTURE:-$SLUICE_SOURCE_DIR/build/tests/test_capture}

case_collation() {
	dst_sql -e "CREATE DATABASE rules"
	"$TEST_CAPTURE" --old-stream "$WORK/c0900" rules \
		"CREATE TABLE rules.t (id INT PRIMARY KEY, s VARCHAR(20) COLLATE utf8mb4_0900_ai_ci) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci" ||
		fail "cannot write the stream"
	must_sluice c0900 replay --dir "$WORK/c0900" --dest "$DST_URL" --consumer c0900
	local got
	got=$(dst_sql -N -B -e "SELECT COLLATION_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = 'rules' AND TABLE_NAME = 't' AND COLUMN_NAME = 's'")
	[[ "$got" == utf8mb4_unicode_520_ci ]] || fail "column s has collation '$got', want utf8mb4_unicode_520_ci"
	got=$(dst_sql -N -B -e "SELECT TABLE_COLLATION FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = 'rules' AND TABLE_NAME = 't'")
	[[ "$got" == utf8mb4_unicode_520_ci ]] || fail "table t has collation '$got', want utf8mb4_unicode_520_ci"
	grep -q 'converted for mariadb: table `rules`.`t`: rule collation-0900: utf8mb4_0900_ai_ci -> utf8mb4_unicode_520_ci: keys that were distinct may now collide' \
		"$WORK/c0900.err" || fail "no warning naming rule collation-0900: $(cat "$WORK/c0900.err")"
	log "ok collation-0900: converted on replay, warned"
}

case_definer() {
	local dir=$WORK/def got
	must_sluice def_cap0 capture --source "$SRC_URL" --dir "$dir"
	src_sql -e "CREATE DATABASE rules2; CREATE TABLE rules2.t (id INT PRIMARY KEY, v VARCHAR(10));
		INSERT INTO rules2.t VALUES (1, 'a'), (2, 'b');
		CREATE DEFINER=\`ghost\`@\`%\` SQL SECURITY INVOKER VIEW rules2.v AS
			SELECT id, v AS definer FROM rules2.t WHERE v <> 'DEFINER=x';" 2>/dev/null
	[[ $(src_sql -N -B -e "SELECT DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'rules2'") == 'ghost@%' ]] ||
		fail "the source view has no ghost definer (test premise)"
	must_sluice def_cap capture --source "$SRC_URL" --dir "$dir"
	must_sluice def_rep replay --dir "$dir" --dest "$DST_URL" --consumer def
	got=$(dst_sql -N -B -e "SELECT DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'rules2' AND TABLE_NAME = 'v'")
	[[ "$got" == 'sluice@127.0.0.1' ]] || fail "view rules2.v has definer '$got', want replay's account sluice@127.0.0.1"
	grep -q 'rule definer: DEFINER=`ghost`@`%` removed' "$WORK/def_rep.err" ||
		fail "no warning naming rule definer: $(cat "$WORK/def_rep.err")"
	[[ $(dst_sql -N -B -e "SELECT COUNT(*) FROM rules2.v WHERE definer IN ('a', 'b')") == 2 ]] ||
		fail "the view's body changed"
	compare_db rules2 || fail "rules2 differs"
	log "ok definer: removed on replay, warned, view works"
}

case_refused() {
	local dir=$WORK/ft cp0 cp1
	"$TEST_CAPTURE" --old-stream "$dir" rules \
		"CREATE TABLE rules.f (id INT PRIMARY KEY, c TEXT, FULLTEXT KEY \`ft\` (c))" ||
		fail "cannot write the stream"
	expect_error ft_ob 'ddl at .*old-bin\.000001:1234.*refused for destination dialect oceanbase: table `rules`.`f`: rule ob-fulltext: oceanbase cannot take fulltext index `ft`' \
		replay --dir "$dir" --dest "$DST_URL" --consumer ft --dest-dialect oceanbase
	[[ $(dst_sql -N -B -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'rules' AND TABLE_NAME = 'f'") == 0 ]] ||
		fail "the refused table was created"
	cp0=$(dst_sql -N -B -e "SELECT COUNT(*) FROM sluice.checkpoint WHERE consumer = 'ft' AND ddl_pending_seq IS NOT NULL")
	[[ "$cp0" == 0 ]] || fail "a refused ddl was marked pending"
	expect_error bad_dialect "option '--dest-dialect': unknown dialect 'postgres'" \
		replay --dir "$dir" --dest "$DST_URL" --consumer ft --dest-dialect postgres
	must_sluice ft_maria replay --dir "$dir" --dest "$DST_URL" --consumer ft
	cp1=$(dst_sql -N -B -e "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'rules' AND TABLE_NAME = 'f' AND INDEX_TYPE = 'FULLTEXT'")
	[[ "$cp1" == 1 ]] || fail "without --dest-dialect the FULLTEXT index was not created"
	log "ok ob-fulltext: refused with the position and the rule, nothing run; MariaDB takes it"
}

main() {
	require_sluice
	[[ -x "$TEST_CAPTURE" ]] || _require "test_capture not built at $TEST_CAPTURE (it writes the streams)"
	start_servers 2
	case_collation
	case_definer
	case_refused
	assert_no_password "$WORK"/*.out "$WORK"/*.err
	log "PASS"
}
main "$@"
