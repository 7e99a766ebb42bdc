#!/usr/bin/env bash
# A schema history that does not match the binlog (issue 9, item 6). With
# binlog_row_metadata=MINIMAL the table maps carry no column names, and
# capture names columns from its schema history (information_schema at
# capture start, then the stream's DDL). Every table map is checked against
# the history's version of its table: column count and each column's type
# (and length, precision, fraction digits where the map gives them).
#   - a history that matches (many column types, then DDL the stream
#     follows, across two runs): right names, replay equal to the source;
#   - events older than the history (--from-start after the table was
#     created, a column dropped and re-added since): capture exits 2 naming
#     the binlog file, offset, table and the column that disagrees, and
#     writes none of those rows;
#   - the same with --allow-positional: the old rows are named @1, @2...,
#     the rows after the DDL by their names.
set -euo pipefail
TEST_NAME=test_history_mismatch
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

HOK_T="CREATE TABLE hok.t (id INT PRIMARY KEY, ti TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT,
	bi BIGINT, dc DECIMAL(10,2), f FLOAT, d DOUBLE, dt DATE, tm TIME(3), dtm DATETIME(6),
	ts TIMESTAMP NULL, y YEAR, ch CHAR(5), vc VARCHAR(300), l1 CHAR(3) CHARACTER SET latin1,
	bn BINARY(4), vb VARBINARY(10), tx TEXT, bl BLOB, mt MEDIUMTEXT, lb LONGBLOB, js JSON,
	en ENUM('a','b'), st SET('x','y','z'), bt BIT(10), u UUID, i6 INET6, i4 INET4, g POINT,
	bo BOOL) ENGINE=InnoDB"

# Rotate and purge: --from-start then begins after everything so far. The
# server keeps a file its binlog checkpoint still needs: retry until gone.
rotate_purge() {
	local f i
	src_sql -e "FLUSH BINARY LOGS"
	f=$(src_sql -N -e "SHOW MASTER STATUS" | cut -f1)
	for i in $(seq 1 100); do
		src_sql -e "PURGE BINARY LOGS TO '$f'"
		[[ $(src_sql -N -e "SHOW BINARY LOGS" | head -n 1 | cut -f1) == "$f" ]] && return 0
		sleep 0.1
	done
	fail "could not purge the binlogs before $f"
}

main() {
	require_sluice
	start_servers 2
	src_sql -e "SET GLOBAL binlog_row_metadata = 'MINIMAL'"
	src_sql -e "CREATE DATABASE hok; $HOK_T; CREATE DATABASE hm;
		CREATE TABLE hm.t (a INT, b VARCHAR(10), c INT) ENGINE=InnoDB"
	dst_sql -e "CREATE DATABASE hok; $HOK_T"
	rotate_purge

	log "a history that matches: every type, then DDL the stream follows"
	src_sql -e "INSERT INTO hok.t VALUES (1, 200, -3, 70000, 1234567890123, 12.50, 1.5, 2.25,
		'2024-01-02', '10:11:12.345', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05', 2024,
		'abc', REPEAT('v', 20), 'l', UNHEX('01'), UNHEX('0203'), 'text', 'blob', 'mt', 'lb',
		'{\"k\": 1}', 'b', 'x,z', b'1010101010', '12345678-1234-1234-1234-123456789abc', '1::',
		'1.2.3.4', POINT(1, 2), TRUE),
		(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
	must_sluice okcap1 capture --source "$SRC_URL" --dir "$WORK/ok" --from-start
	src_sql -e "ALTER TABLE hok.t ADD COLUMN nd DECIMAL(8,3) DEFAULT 1.5 AFTER id,
			MODIFY vc VARCHAR(20) CHARACTER SET latin1, DROP COLUMN mt, ADD nb BINARY(16) FIRST;
		ALTER TABLE hok.t CHANGE COLUMN ti ti2 INT, ADD COLUMN e2 ENUM('p','q','r') DEFAULT 'q';
		INSERT INTO hok.t (id, vc, nb, ti2, e2) VALUES (3, 'short', UNHEX('FF'), -5, 'r');
		UPDATE hok.t SET nd = 2.25, vc = 'upd' WHERE id = 1"
	must_sluice okcap2 capture --source "$SRC_URL" --dir "$WORK/ok"
	must_sluice okrep replay --dir "$WORK/ok" --dest "$DST_URL"
	compare_db hok 1 2 || fail "history that matches: destination differs from the source"

	log "events older than the history: a column dropped and re-added since"
	rotate_purge
	src_sql -e "INSERT INTO hm.t VALUES (1, 'x', 10), (2, 'y', 20);
		ALTER TABLE hm.t DROP COLUMN b;
		ALTER TABLE hm.t ADD COLUMN b VARCHAR(10) AFTER c;
		INSERT INTO hm.t VALUES (3, 30, 'z')"
	local file rc=0
	file=$(src_sql -N -e "SHOW MASTER STATUS" | cut -f1)
	run_sluice bad capture --source "$SRC_URL" --dir "$WORK/bad" --from-start || rc=$?
	((rc == 2)) || { tail -n 5 "$WORK/bad.err" >&2; fail "mismatching history: capture exited $rc, want 2"; }
	local last
	last=$(grep -v '^[0-9]' "$WORK/bad.err" | grep -v '^[[:space:]]*$' || true)
	[[ $(wc -l <<<"$last") -eq 1 ]] || fail "want one error line, got: $last"
	grep -q -F "\`hm\`.\`t\`" <<<"$last" || fail "the error does not name the table: $last"
	grep -q -F "$file" <<<"$last" || fail "the error does not name the binlog file $file: $last"
	grep -q -E "offset [0-9]+" <<<"$last" || fail "the error does not name the offset: $last"
	grep -q -E "column 2" <<<"$last" || fail "the error does not name the column that disagrees: $last"
	grep -q -i "varchar" <<<"$last" || fail "the error does not say what disagrees: $last"
	log "ok: $last"
	must_sluice badinsp inspect "$WORK/bad"
	if grep -q "hm" "$WORK/badinsp.out"; then
		fail "rows of the mismatching table were written"
	fi

	log "--allow-positional: the old rows as @1.., the new ones by name"
	must_sluice poscap capture --source "$SRC_URL" --dir "$WORK/pos" --from-start --allow-positional
	grep -q "positional column names" "$WORK/poscap.err" || fail "no warning about positional names"
	must_sluice posinsp inspect "$WORK/pos" --json
	grep '"hm"' "$WORK/posinsp.out" >"$WORK/pos.rows" || fail "no rows of hm.t captured"
	grep -q '"@2":"x"' "$WORK/pos.rows" || fail "old row not named positionally: $(head -c 600 "$WORK/pos.rows")"
	grep -q '"b":"z"' "$WORK/pos.rows" || fail "new row not named by the history: $(head -c 600 "$WORK/pos.rows")"
	if grep -q '"c":"x"' "$WORK/pos.rows"; then
		fail "an old row was named by today's columns"
	fi
	src_sql -e "SET GLOBAL binlog_row_metadata = 'FULL'"
	log "PASS"
}

main "$@"
