#!/usr/bin/env bash
# Statements in binlog QUERY events, classified once (formats/fmt_stmt.c):
#   1. triggers: CREATE TRIGGER is recorded (inspect marks it) but replay does
#      not run it, so a source trigger's rows (already in the binlog as row
#      events) are not written twice; a destination table that has a trigger
#      stops replay (exit 2, naming trigger and table) unless
#      --allow-dest-triggers;
#   4. statement-format DML (a session with binlog_format=STATEMENT: RAND,
#      INSERT_ID, @variables, MyISAM autocommit, INSERT ... SELECT, LOAD DATA)
#      stops capture with exit 2 naming the binlog file and offset, records
#      nothing of it, and stops a later capture the same way; replay refuses
#      one found in an old stream;
#  11. account statements (CREATE/ALTER/RENAME/DROP USER, GRANT, REVOKE, SET
#      PASSWORD, roles; behind comments too) are never written: no trace of
#      their passwords in the segments or in inspect, counted in status, not
#      applied on the destination; replay refuses one found in an old stream
#      without printing it.
set -euo pipefail
TEST_NAME=test_statements
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-120}
TEST_CAPTURE=${SLUICE_TEST_CAPTURE:-$SLUICE_SOURCE_DIR/build/tests/test_capture}
CANARY="Canary-$$-$RANDOM-pw"

# The canary must be nowhere: raw segment bytes, inspect (text and JSON), outputs.
assert_no_canary() {
	local dir=$1 what=$2
	if grep -r -a -q -F -- "Canary" "$dir"; then
		fail "$what: 'Canary' appears in the raw bytes of $dir"
	fi
	"$SLUICE" inspect "$dir" >"$WORK/insp.txt" || fail "$what: inspect failed"
	"$SLUICE" inspect --json "$dir" >"$WORK/insp.json" || fail "$what: inspect --json failed"
	if grep -q -F -- "Canary" "$WORK/insp.txt" "$WORK/insp.json"; then
		fail "$what: a password reached the stream: $(grep -h -F Canary "$WORK/insp.txt" | head -n 2)"
	fi
	if grep -l -F -- "Canary" "$WORK"/*.out "$WORK"/*.err 2>/dev/null; then
		fail "$what: a password was printed"
	fi
}

status_field() {	# status_field DIR LABEL: the first number after "LABEL:"
	"$SLUICE" status "$1" | sed -n "s/^$2: *\([0-9][0-9]*\).*/\1/p"
}

# Binlog position (file<TAB>pos) of the source now.
src_pos() { src_sql -N -B -e "SHOW MASTER STATUS" | cut -f1,2; }

# Start offset of the first QUERY event after FILE:POS whose text has WORD.
query_offset() {
	src_sql -N -B -e "SHOW BINLOG EVENTS IN '$1' FROM $2" |
		awk -F'\t' -v w="$3" '($3 == "Query" || $3 == "Execute_load_query") && index($6, w) { print $2; exit }'
}

case_triggers() {
	local dir=$WORK/trg
	# a stream that starts before the schema
	must_sluice trg_cap0 capture --source "$SRC_URL" --dir "$dir"
	src_sql -e "CREATE DATABASE trg;
		CREATE TABLE trg.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, note VARCHAR(40));
		CREATE TABLE trg.audit (id INT AUTO_INCREMENT PRIMARY KEY, t_id INT, what VARCHAR(10),
			v INT, UNIQUE KEY (t_id, what, v));"
	src_sql trg -e "
		CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW
			INSERT INTO audit (t_id, what, v) VALUES (NEW.id, 'insert', NEW.v);
		CREATE DEFINER=CURRENT_USER TRIGGER t_bu BEFORE UPDATE ON t FOR EACH ROW
			SET NEW.v = NEW.v * 2, NEW.note = CONCAT(IFNULL(NEW.note, ''), '+');"
	src_sql trg -e "INSERT INTO t (v) VALUES (1), (2), (3);
		UPDATE t SET v = v + 1 WHERE id = 2;
		INSERT INTO t (v, note) VALUES (10, 'x');
		BEGIN; UPDATE t SET v = 5, note = 'y' WHERE id = 1; INSERT INTO t (v) VALUES (7); COMMIT;"
	must_sluice trg_cap capture --source "$SRC_URL" --dir "$dir"
	# recorded and shown as triggers
	"$SLUICE" inspect --json "$dir" >"$WORK/trg.json"
	[[ $(grep -c '"kind":"trigger","deferred":"switchover"' "$WORK/trg.json") == 2 ]] ||
		fail "inspect does not mark the two CREATE TRIGGER records as deferred triggers"
	"$SLUICE" inspect "$dir" | grep 'trigger: deferred to switchover' >/dev/null ||
		fail "inspect text does not mark the trigger"
	must_sluice trg_rep replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "triggers: the destination differs from the source (a trigger fired twice?)"
	[[ $(dst_sql -N -B -e "SELECT COUNT(*) FROM information_schema.TRIGGERS
		WHERE TRIGGER_SCHEMA = 'trg'") == 0 ]] || fail "replay created a trigger on the destination"
	log "ok triggers: recorded, not replayed, destination equal"

	# a destination table with a trigger of its own: replay stops before its rows
	dst_sql trg -e "CREATE TRIGGER dst_only BEFORE INSERT ON t FOR EACH ROW SET NEW.note = NEW.note"
	src_sql trg -e "INSERT INTO t (v, note) VALUES (20, 'z')"
	must_sluice trg_cap2 capture --source "$SRC_URL" --dir "$dir"
	dump_db 2 sluice >"$WORK/trg.cp.before"
	expect_error trg_dest_trigger 'trigger `dst_only`.*`trg`\.`t`|`trg`\.`t`.*trigger `dst_only`' \
		replay --dir "$dir" --dest "$DST_URL"
	dump_db 2 sluice >"$WORK/trg.cp.after"
	cmp -s "$WORK/trg.cp.before" "$WORK/trg.cp.after" || fail "the checkpoint moved although replay refused"
	[[ $(dst_sql -N -B -e "SELECT COUNT(*) FROM trg.t") == 5 ]] || fail "replay applied rows before refusing"
	# explicitly allowed: applied (this trigger changes nothing), with a warning
	must_sluice trg_allow replay --dir "$dir" --dest "$DST_URL" --allow-dest-triggers
	grep -q 'dst_only' "$WORK/trg_allow.err" || fail "--allow-dest-triggers gave no warning naming the trigger"
	dst_sql trg -e "DROP TRIGGER dst_only"
	compare_all || fail "triggers: destination differs after --allow-dest-triggers"
	log "ok destination trigger: refused (exit 2), then allowed explicitly"
}

# A session with binlog_format=STATEMENT writes SQL at FILE:POS; a capture
# from there must stop at that statement, twice, recording nothing.
sbr_case() {
	local name=$1 word=$2 sql=$3 file pos off dir=$WORK/sbr-$1 tx0 tx1
	shift 3
	read -r file pos < <(src_pos)
	src_sql "$@" sbr -e "SET SESSION binlog_format=STATEMENT; $sql"
	off=$(query_offset "$file" "$pos" "$word")
	[[ -n "$off" ]] || fail "$name: no statement event with '$word' after $file:$pos"
	expect_error "sbr_$name" "statement-format DML" \
		capture --source "$SRC_URL" --dir "$dir" --from "$file:$pos"
	grep -q -E "binlog '$file' at offset $off:.*statement-format DML" "$WORK/sbr_$name.err" ||
		fail "$name: the error does not name $file offset $off: $(tail -n 1 "$WORK/sbr_$name.err")"
	# the stream itself (status's service lines say how long ago: they move)
	tx0=$("$SLUICE" status "$dir" | grep -v -E '^(capture:|replay )')
	if "$SLUICE" inspect --json "$dir" 2>/dev/null | grep '"db":"sbr"' >/dev/null; then
		fail "$name: part of the statement's transaction was recorded"
	fi
	# a later capture does not skip it
	expect_error "sbr_${name}_again" "statement-format DML" capture --source "$SRC_URL" --dir "$dir"
	grep -q "at offset $off:" "$WORK/sbr_${name}_again.err" || fail "$name: the second capture stopped elsewhere"
	tx1=$("$SLUICE" status "$dir" | grep -v -E '^(capture:|replay )')
	[[ "$tx0" == "$tx1" ]] || fail "$name: the failed capture changed the stream"
	log "ok statement-format $name stops capture at $file:$off"
}

# LOAD DATA in statement format (BEGIN_LOAD_QUERY + EXECUTE_LOAD_QUERY
# events). Over the network libmariadb's replication reader itself rejects
# BEGIN_LOAD_QUERY ("Malformed packet", exit 2 all the same), so the events
# are read from the binlog file, by sluice's own reader.
sbr_load() {
	local file off dir=$WORK/sbr-load data
	data=$(dirname "$SRC_SOCK")/data
	src_sql -e "FLUSH BINARY LOGS"
	file=$(src_pos | cut -f1)
	src_sql --local-infile=1 sbr -e "SET SESSION binlog_format=STATEMENT;
		LOAD DATA LOCAL INFILE '$WORK/load.tsv' INTO TABLE t (v, s)"
	src_sql -e "FLUSH BINARY LOGS"
	off=$(query_offset "$file" 4 "LOAD DATA")
	[[ -n "$off" ]] || fail "load: no Execute_load_query event in $file"
	mkdir -p "$WORK/binlogs"
	cp "$data/$file" "$WORK/binlogs/"
	expect_error sbr_load "statement-format DML \\(LOAD DATA" \
		capture --binlog-files "$WORK/binlogs/$file" --dir "$dir"
	grep -q "binlog '$file' at offset $off:" "$WORK/sbr_load.err" ||
		fail "load: the error does not name $file offset $off"
	if "$SLUICE" inspect --json "$dir" 2>/dev/null | grep '"db":"sbr"' >/dev/null; then
		fail "load: part of its transaction was recorded"
	fi
	expect_error sbr_load_again "statement-format DML \\(LOAD DATA" \
		capture --binlog-files "$WORK/binlogs/$file" --dir "$dir"
	log "ok statement-format LOAD DATA stops capture at $file:$off"
}

case_statement_dml() {
	src_sql -e "CREATE DATABASE sbr;
		CREATE TABLE sbr.t (id INT AUTO_INCREMENT PRIMARY KEY, v DOUBLE, s VARCHAR(20)) ENGINE=InnoDB;
		CREATE TABLE sbr.m (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=MyISAM;
		INSERT INTO sbr.t (v, s) VALUES (1, 'a');"
	printf '1\tfrom-file\n' >"$WORK/load.tsv"
	sbr_case rand_var "RAND()" "SET @x = 'hello'; INSERT INTO t (v, s) VALUES (RAND(), @x)"
	sbr_case myisam "INTO m" "INSERT INTO m (v) VALUES (1)"
	sbr_case insert_select "SELECT v" "INSERT INTO t (v, s) SELECT v, s FROM t"
	sbr_case update "UPDATE t" "UPDATE t SET v = v + 1"
	sbr_case replace "REPLACE" "/* tool */ REPLACE INTO t (id, v, s) VALUES (1, 2, 'b')"
	sbr_load
	# replay of an old stream holding one refuses it, naming its position
	"$TEST_CAPTURE" --old-stream "$WORK/old-dml" sbr "INSERT INTO t (v) VALUES (RAND())" ||
		fail "cannot write the old stream"
	expect_error old_dml 'statement-format DML at .*old-bin\.000001:1234.*refused' \
		replay --dir "$WORK/old-dml" --dest "$DST_URL" --consumer old_dml
	src_sql -e "DROP DATABASE sbr"
}

case_accounts() {
	local dir=$WORK/acct n
	must_sluice acct_cap0 capture --source "$SRC_URL" --dir "$dir"
	src_sql -e "CREATE USER 'canary_a'@'%' IDENTIFIED BY '$CANARY-1';
		GRANT SELECT ON *.* TO 'canary_a'@'%';
		ALTER USER 'canary_a'@'%' IDENTIFIED BY '$CANARY-2';
		SET PASSWORD FOR 'canary_a'@'%' = PASSWORD('$CANARY-3');
		CREATE ROLE canary_role;
		GRANT canary_role TO 'canary_a'@'%';
		SET DEFAULT ROLE canary_role FOR 'canary_a'@'%';
		REVOKE SELECT ON *.* FROM 'canary_a'@'%';
		CREATE USER 'canary_b'@'%' IDENTIFIED BY '$CANARY-4';
		RENAME USER 'canary_b'@'%' TO 'canary_c'@'%';
		DROP USER 'canary_c'@'%';
		CREATE DATABASE acct; CREATE TABLE acct.t (id INT PRIMARY KEY, v VARCHAR(10));
		INSERT INTO acct.t VALUES (1, 'row');"
	# comments before the keyword, kept by the client (--comments)
	src_sql --comments -e "/* rotate */ ALTER USER 'canary_a'@'%' IDENTIFIED BY '$CANARY-5';
		/*!100000 GRANT SELECT ON acct.* TO 'canary_a'@'%' */;"
	mariadb-binlog --no-defaults "$(dirname "$SRC_SOCK")/data/$(src_pos | cut -f1)" 2>/dev/null |
		grep -F "$CANARY-5" >/dev/null || fail "the source did not log the password (test premise)"
	must_sluice acct_cap capture --source "$SRC_URL" --dir "$dir"
	assert_no_canary "$dir" "capture"
	[[ $(grep -c 'account statement left out' "$WORK/acct_cap.err") == 1 ]] ||
		fail "capture should log once that account statements were left out"
	n=$(status_field "$dir" accounts)
	[[ "$n" == 13 ]] || fail "status counts $n account statements, want 13: $("$SLUICE" status "$dir")"
	# a second capture adds nothing and counts nothing twice
	must_sluice acct_cap2 capture --source "$SRC_URL" --dir "$dir"
	[[ $(status_field "$dir" accounts) == 13 ]] || fail "a second capture changed the account count"
	must_sluice acct_rep replay --dir "$dir" --dest "$DST_URL" --consumer acct
	[[ $(dst_sql -N -B -e "SELECT COUNT(*) FROM mysql.user WHERE user LIKE 'canary%'") == 0 ]] ||
		fail "replay created the source's accounts on the destination"
	compare_db acct || fail "accounts: acct differs"
	assert_no_canary "$dir" "replay"
	log "ok accounts: 13 left out, counted in status, not replayed, no password anywhere"

	# an old stream that holds one: replay refuses, naming the position, not the text
	"$TEST_CAPTURE" --old-stream "$WORK/old-acct" acct \
		"CREATE USER 'canary_old'@'%' IDENTIFIED BY '$CANARY-old'" || fail "cannot write the old stream"
	expect_error old_acct 'account statement at .*old-bin\.000001:1234.*refused' \
		replay --dir "$WORK/old-acct" --dest "$DST_URL" --consumer old_acct
	[[ $(dst_sql -N -B -e "SELECT COUNT(*) FROM mysql.user WHERE user = 'canary_old'") == 0 ]] ||
		fail "replay ran the account statement of an old stream"
	"$SLUICE" inspect "$WORK/old-acct" | grep 'account statement redacted' >/dev/null ||
		fail "inspect of an old stream does not redact the account statement"
	if "$SLUICE" inspect --json "$WORK/old-acct" | grep -F "$CANARY" >/dev/null; then
		fail "inspect printed the account statement of an old stream"
	fi
	if grep -q -F "Canary" "$WORK/old_acct.err" "$WORK/old_acct.out"; then
		fail "replay echoed the account statement"
	fi
	log "ok old stream with an account statement: refused, redacted"
}

main() {
	require_sluice
	[[ -x "$TEST_CAPTURE" ]] || _require "test_capture not built at $TEST_CAPTURE (it writes the old streams)"
	start_servers 2
	case_triggers
	case_statement_dml
	case_accounts
	assert_no_password "$WORK"/*.out "$WORK"/*.err
	log "PASS"
}

main "$@"
