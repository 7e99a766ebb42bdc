#!/usr/bin/env bash
# binlog_row_metadata=MINIMAL on a live source: TABLE_MAPs carry no column
# names, so capture names columns from the schema history: information_schema
# at capture start, then every DDL of the stream in order (never the live
# schema for past events). A column renamed and one added between the
# captured events must name each event's values right; replay must give a
# destination equal to the source.
set -euo pipefail
TEST_NAME=test_minimal_metadata
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

must_sluice() {
	local name=$1 rc=0
	shift
	"$SLUICE" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
	if ((rc != 0)); then
		tail -n 20 "$WORK/$name.err" >&2
		fail "sluice $* exited $rc"
	fi
}

main() {
	require_sluice
	start_servers 2
	local dir=$WORK/dir
	src_sql -e "SET GLOBAL binlog_row_metadata = 'MINIMAL'"
	# the table exists before capture starts: its names come from information_schema
	src_sql -e "CREATE DATABASE mm; CREATE TABLE mm.t (id INT PRIMARY KEY, a VARCHAR(10), b INT)"
	dst_sql -e "CREATE DATABASE mm; CREATE TABLE mm.t (id INT PRIMARY KEY, a VARCHAR(10), b INT)"
	must_sluice cap0 capture --source "$SRC_URL" --dir "$dir"
	grep -q "binlog_row_metadata is MINIMAL" "$WORK/cap0.err" || fail "no warning about MINIMAL metadata"

	# rows, then DDL that changes names and order, then more rows; the live
	# schema at the next capture is the last one, the events need each their own
	src_sql -e "
		INSERT INTO mm.t VALUES (1, 'x', 10), (2, 'y', 20);
		ALTER TABLE mm.t CHANGE COLUMN a a2 VARCHAR(10), ADD COLUMN c INT DEFAULT 7 FIRST;
		INSERT INTO mm.t (id, a2, b) VALUES (3, 'z', 30);
		UPDATE mm.t SET b = b + 1 WHERE id = 1;
		CREATE TABLE mm.n (k INT PRIMARY KEY, v TEXT);
		INSERT INTO mm.n VALUES (1, 'new table');
		ALTER TABLE mm.t DROP COLUMN c;
		DELETE FROM mm.t WHERE id = 2;"
	must_sluice cap1 capture --source "$SRC_URL" --dir "$dir"
	must_sluice insp inspect "$dir"
	grep -q "a2" "$WORK/insp.out" || fail "the renamed column does not appear"
	must_sluice rep replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "destination differs from the source"

	# a table that neither information_schema (at start) nor the DDL names:
	# created while capture was not looking is impossible here, so use a
	# new DIR that starts after a table was created and altered... the
	# start-of-capture schema covers it; the failure case is unit-tested
	# (test_capture: minimal metadata) and in test_binlog_fixtures.
	src_sql -e "SET GLOBAL binlog_row_metadata = 'FULL'"
	log "PASS"
}

main "$@"
