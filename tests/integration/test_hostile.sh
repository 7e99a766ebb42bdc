#!/usr/bin/env bash
# Hostile identifiers and values (issue 14 item 5, RELIABILITY.md S4/S5):
# database, table and column names with a backtick, quotes, backslash,
# space, dot, dash, `;DROP TABLE sentinel;--`, reserved words, é, 中文 and
# 64 characters (48 中 for a table: its file name is 5 bytes a character),
# tables whose names differ in case only; values with NUL, backslash, quotes, GBK text ending in byte
# 0x5C, invalid UTF-8 in a BLOB. The destinations' global sql_mode has
# ANSI_QUOTES and NO_BACKSLASH_ESCAPES (what a session inherits): captured
# DDL and rows replayed, and the same database migrated (snapshot, load,
# verify), end equal, verify says equal, and the sentinel table is intact.
# Prints: RESULT hostile trials=2 lost=0 dup=0 tables=N
set -euo pipefail
TEST_NAME=test_hostile
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-180}

start_servers 2
for n in 2; do
	srv_sql "$n" -e "SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',ANSI_QUOTES,NO_BACKSLASH_ESCAPES')"
	srv_sql "$n" -e "CREATE DATABASE guard; CREATE TABLE guard.sentinel (id INT PRIMARY KEY);
		INSERT INTO guard.sentinel VALUES (42)"
done
src_sql -e "CREATE DATABASE guard; CREATE TABLE guard.sentinel (id INT PRIMARY KEY);
	INSERT INTO guard.sentinel VALUES (42)"

D64=$(printf 'd%.0s' $(seq 1 64))
C64=$(printf 'c%.0s' $(seq 1 64))
H64=$(printf '中%.0s' $(seq 1 64))
H48=$(printf '中%.0s' $(seq 1 48))	# a table is a file: 48 x "@4e2d" + ".ibd" fits NAME_MAX
# The hostile schema, written by the source's client in its own default
# sql_mode (backslash escapes on). Each statement goes to the binlog too.
hostile_sql() {
	cat <<SQL
CREATE DATABASE \`we\`\`ird db\`;
CREATE DATABASE \`quo'te"db\`;
CREATE DATABASE \`;DROP TABLE sentinel;--\`;
CREATE DATABASE \`$D64\`;
CREATE DATABASE \`dot.dash-db é中文\`;
CREATE TABLE \`we\`\`ird db\`.\`ta\`\`ble\` (
	\`id\` INT PRIMARY KEY,
	\`co\`\`l\` VARCHAR(40),
	\`"dq"\` VARCHAR(40),
	\`'sq'\` VARCHAR(40),
	\`back\\\\slash\` VARCHAR(40),
	\`sp ace\` VARCHAR(40),
	\`select\` INT,
	\`from\` INT,
	\`é中文\` VARCHAR(40),
	\`$C64\` INT,
	\`;DROP TABLE sentinel;--\` VARCHAR(40));
CREATE TABLE \`quo'te"db\`.\`"ansi"\` (\`key\` INT PRIMARY KEY, \`order\` VARBINARY(40), \`desc\` BLOB,
	g VARCHAR(10) CHARACTER SET gbk, t TEXT);
CREATE TABLE \`;DROP TABLE sentinel;--\`.\`;DROP TABLE sentinel;--\` (
	\`';DROP TABLE sentinel;--\` INT PRIMARY KEY, v VARCHAR(60), KEY \`k;--\` (v));
CREATE TABLE \`$D64\`.\`$H48\` (\`$C64\` INT PRIMARY KEY, \`$H64\` VARCHAR(64));
CREATE TABLE \`dot.dash-db é中文\`.\`t.a-b le\` (id INT PRIMARY KEY, \`a.b\` INT, \`x-y\` VARCHAR(10));
CREATE TABLE \`dot.dash-db é中文\`.\`defaults\` (id INT PRIMARY KEY COMMENT 'it''s a \\\\ "key"',
	s VARCHAR(20) DEFAULT 'a\\\\b''c"d', e ENUM('x\\\\', 'y''z', '"w"') DEFAULT 'y''z',
	\`Case\` INT, \`case2\` INT) COMMENT 'tab\\\\le ''c'' "d"';
CREATE TABLE \`dot.dash-db é中文\`.\`Mixed\` (id INT PRIMARY KEY);
CREATE TABLE \`dot.dash-db é中文\`.\`mixed\` (id INT PRIMARY KEY, \`ID2\` INT);
CREATE TABLE \`dot.dash-db é中文\`.\`nokey\` (\`é\` VARCHAR(20), \`n\`\`k\` BLOB);
SQL
	# rows: the first half before capture starts (snapshot), then more
	# (capture); the same statements written twice with other keys
	local k
	for k in 1 2; do
		cat <<SQL
INSERT INTO \`we\`\`ird db\`.\`ta\`\`ble\` VALUES
	($k, 'a\`b', 'x"y', 'it''s', 'c:\\\\dir\\\\', ' lead', 1, 2, 'é中文', 64, ';DROP TABLE sentinel;--'),
	(1$k, 'nul\\0inside', '\\\\', '\\\\''', '\\\\"', 'tab\\tnl\\n', NULL, NULL, '中', 0, '";DROP TABLE sentinel;--');
INSERT INTO \`quo'te"db\`.\`"ansi"\` VALUES
	($k, X'00275C22', X'C328FF00FE5C', _gbk X'D55C', 'ends in \\\\'),
	(1$k, X'5C', X'5C27', _gbk X'B9A6C4DCB1EDD55C', '\\\\''; DROP TABLE guard.sentinel; --');
INSERT INTO \`;DROP TABLE sentinel;--\`.\`;DROP TABLE sentinel;--\` VALUES
	($k, '\\'); DROP TABLE guard.sentinel; --'), (1$k, '"); DROP TABLE guard.sentinel; --');
INSERT INTO \`$D64\`.\`$H48\` VALUES ($k, '$H64');
INSERT INTO \`dot.dash-db é中文\`.\`t.a-b le\` VALUES ($k, $k, 'a-b');
INSERT INTO \`dot.dash-db é中文\`.\`defaults\` (id) VALUES ($k);
INSERT INTO \`dot.dash-db é中文\`.\`Mixed\` VALUES ($k);
INSERT INTO \`dot.dash-db é中文\`.\`mixed\` VALUES ($k + 100, $k);
INSERT INTO \`dot.dash-db é中文\`.\`nokey\` VALUES ('é$k', X'5C00'), ('é$k', X'5C00');
SQL
	done
	cat <<SQL
UPDATE \`we\`\`ird db\`.\`ta\`\`ble\` SET \`co\`\`l\` = 'upd\\\\', \`"dq"\` = NULL WHERE id = 1;
UPDATE \`quo'te"db\`.\`"ansi"\` SET g = _gbk X'D55CD55C', \`desc\` = X'FFFE5C' WHERE \`key\` = 1;
DELETE FROM \`;DROP TABLE sentinel;--\`.\`;DROP TABLE sentinel;--\` WHERE \`';DROP TABLE sentinel;--\` = 11;
UPDATE \`dot.dash-db é中文\`.\`nokey\` SET \`n\`\`k\` = X'27' WHERE \`é\` = 'é1' LIMIT 1;
ALTER TABLE \`we\`\`ird db\`.\`ta\`\`ble\` ADD COLUMN \`new\`\`col"\` VARCHAR(10) DEFAULT 'd\\\\';
RENAME TABLE \`dot.dash-db é中文\`.\`t.a-b le\` TO \`dot.dash-db é中文\`.\`t.a-b le 2\`;
INSERT INTO \`dot.dash-db é中文\`.\`t.a-b le 2\` VALUES (3, 3, '\\\\');
CREATE VIEW \`dot.dash-db é中文\`.\`v;--\` AS SELECT id, \`a.b\` AS \`"a"\` FROM \`dot.dash-db é中文\`.\`t.a-b le 2\`;
SQL
}

sentinel_intact() {
	local n=$1 v
	v=$(srv_sql "$n" -N -e "SELECT id FROM guard.sentinel" 2>&1) || fail "server $n: guard.sentinel is gone: $v"
	[[ "$v" == 42 ]] || fail "server $n: guard.sentinel holds '$v', want 42"
}

# 1. capture from the binlog's end (after the sentinel): every DDL and row
#    through the stream, replayed into destination 2
must_sluice cap0 capture --source "$SRC_URL" --dir "$WORK/s"
hostile_sql >"$WORK/hostile.sql"
src_sql <"$WORK/hostile.sql"
must_sluice cap capture --source "$SRC_URL" --dir "$WORK/s"
must_sluice rep replay --dir "$WORK/s" --dest "$DST_URL"
sentinel_intact 2
compare_all 1 2 || fail "the replayed destination differs from the source"
must_sluice ver verify --source "$SRC_URL" --dest "$DST_URL"
grep -q -x 'EQUAL' "$WORK/ver.out" || { cat "$WORK/ver.out" >&2; fail "verify does not say EQUAL"; }

# 2. migrate the same databases into the emptied destination: snapshot,
#    load, verify;
#    now the source's sessions default to ANSI_QUOTES and NO_BACKSLASH_ESCAPES
#    too (SHOW CREATE TABLE follows the session's sql_mode)
src_sql -e "SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',ANSI_QUOTES,NO_BACKSLASH_ESCAPES')"
while IFS= read -r db; do
	[[ $db == guard ]] || dst_sql -e "DROP DATABASE $(sql_ident "$db")"
done < <(user_databases 2)
dst_sql -e "DROP DATABASE sluice"
must_sluice mig migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$WORK/m" --no-progress \
	--exclude guard
sentinel_intact 2
sentinel_intact 1
compare_all 1 2 || fail "the migrated destination differs from the source"
ntab=$(src_sql -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema NOT IN
	('mysql','sys','information_schema','performance_schema','guard','sluice')")
echo "RESULT hostile trials=2 lost=0 dup=0 tables=$ntab"
log "PASS"
