#!/usr/bin/env bash
# Replay's bulk load of a snapshot stream (DIR/snapshot, issue 11 item 4),
# against real servers. The snapshot streams are written by `test_load
# mksnap` (tests/unit/test_load.c) from a captured change stream, with the
# schema objects read from the source by SHOW CREATE:
#  types     every column type at its edges through LOAD DATA LOCAL INFILE:
#            tables equal row by row, secondary indexes present after the
#            load (deferred), the view created, a deferred foreign key never
#            run, one snapshot_chunks row per chunk; a rerun loads nothing
#  fallback  the same with local_infile=OFF on the destination: multi-row
#            INSERTs, said once in the log, tables equal
#  kill      kill -9 of replay during the load of 100 chunks, then a rerun:
#            table equal, every chunk recorded once, the rerun skips the
#            loaded ones
#  safe      the change stream from before the snapshot (P0) applied on the
#            loaded rows: inserts, updates and deletes up to SnapshotEnd in
#            safe mode, strictly after it; a keyless table read again whole
#            in a second run (restart chunk); tables equal
#  follow    replay --follow loads chunks while the snapshot is being written
#  real      `sluice snapshot` of every type plus a table written to during
#            the snapshot (P0 recorded by capture first), then replay: the
#            load, the changes up to SnapshotEnd in safe mode, the rest
#            strictly; every table equal
#  partial   no SnapshotEnd and no --follow: loads what is there, exit 0,
#            "snapshot incomplete", no change applied
#  bigrow    rows of several MB on 4 and 2 connections with a 16 MB redo
#            log on the destination and a deferred index built meanwhile:
#            no hang (big rows load alone); a row over half the redo log
#            is refused naming its chunk
#  memory    400,000 sysbench-like rows on 2 connections: replay's peak
#            memory under 100 MB (rows held packed, few chunks queued)
# LT_CASES picks cases.
set -euo pipefail
TEST_NAME=test_load
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-300}
MKSNAP=${SLUICE_TEST_LOAD:-$SLUICE_SOURCE_DIR/build/tests/test_load}
[[ -x "$MKSNAP" ]] || MKSNAP=$(dirname "$SLUICE")/tests/test_load
[[ -x "$MKSNAP" ]] || skip "test_load helper not built"
require_sluice
start_servers 2
LT_CASES=${LT_CASES:-types fallback kill safe follow partial real bigrow memory}

mksnap() { mkdir -p "$2"; "$MKSNAP" mksnap "$SRC_URL" "$@"; }

# Commit count of a change stream (mksnap's transaction numbers).
txns_of() { "$SLUICE" inspect "$1" --json 2>/dev/null | grep -c '^{"type":"transaction"' || true; }

# Empties the destination: user databases and sluice's own tables.
reset_dest() {
	local db
	while IFS= read -r db; do
		dst_sql -e "DROP DATABASE $(sql_ident "$db")"
	done < <(user_databases 2)
	dst_sql -e "DROP DATABASE IF EXISTS sluice"
}

chunks_recorded() {
	dst_sql -N -B -e "SELECT COUNT(*) FROM sluice.snapshot_chunks WHERE chunk_index < 18446744073709551614 ${1:-}"
}

types_schema() {
	cat <<'SQL'
CREATE DATABASE lt CHARACTER SET utf8mb4;
USE lt;
CREATE TABLE ints (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
  mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED,
  b1 BIT(1), b7 BIT(7), b64 BIT(64), bo BOOLEAN,
  KEY k_i (i), UNIQUE KEY u_bi (bi)
) ENGINE=InnoDB;
CREATE TABLE nums (
  id INT NOT NULL PRIMARY KEY,
  d65 DECIMAL(65,30), d10 DECIMAL(10,2), d55 DECIMAL(5,5), du DECIMAL(20,6) UNSIGNED,
  f FLOAT, dbl DOUBLE, fp FLOAT(7,3)
) ENGINE=InnoDB;
CREATE TABLE temporal (
  id INT NOT NULL PRIMARY KEY,
  d DATE, t0 TIME, t6 TIME(6), dt0 DATETIME, dt3 DATETIME(3), dt6 DATETIME(6),
  ts0 TIMESTAMP NULL, ts3 TIMESTAMP(3) NULL, ts6 TIMESTAMP(6) NULL, y YEAR,
  KEY k_dt (dt6, d)
) ENGINE=InnoDB;
CREATE TABLE zero_dates (
  id INT NOT NULL PRIMARY KEY,
  d DATE, dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP NULL, y YEAR
) ENGINE=InnoDB;
CREATE TABLE strs (
  id INT NOT NULL PRIMARY KEY,
  c CHAR(10), vc VARCHAR(300), tx TEXT, ltx LONGTEXT,
  c_l CHAR(10) CHARACTER SET latin1, vc_l VARCHAR(300) CHARACTER SET latin1,
  c_bin VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  e ENUM('a','b','ünï','x y','','7'), s SET('r','w','x','ñ'),
  j JSON,
  KEY k_vc (vc(20)), FULLTEXT KEY ft (tx)
) ENGINE=InnoDB;
CREATE TABLE bins (
  id INT NOT NULL PRIMARY KEY,
  bn BINARY(8), vb VARBINARY(300), bl BLOB, lb LONGBLOB
) ENGINE=InnoDB;
CREATE TABLE geo (
  id INT NOT NULL PRIMARY KEY,
  g GEOMETRY, p POINT, ls LINESTRING, pg POLYGON, gc GEOMETRYCOLLECTION
) ENGINE=InnoDB;
CREATE TABLE nopk (a INT, b VARCHAR(20), c BLOB, KEY k_a (a)) ENGINE=InnoDB;
CREATE TABLE comp (
  a INT NOT NULL, b VARCHAR(20) NOT NULL, c DATE NOT NULL, v INT,
  PRIMARY KEY (b, a, c), KEY k_v (v)
) ENGINE=InnoDB COMMENT 'composite key';
CREATE TABLE empty_t (id INT PRIMARY KEY, v INT, KEY k_v (v)) ENGINE=InnoDB;
CREATE VIEW v_comp AS SELECT a, b, v FROM comp WHERE v > 1;
SQL
}

types_rows() {
	cat <<'SQL'
USE lt;
INSERT INTO ints VALUES
 (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, b'0', b'0000000', 0, FALSE),
 (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
     b'1', b'1111111', b'1111111111111111111111111111111111111111111111111111111111111111', TRUE),
 (3, -1, 128, -1, 32768, -1, 8388608, -1, 2147483648, -1, 9223372036854775808, b'1', b'1000000', b'1000000000000000000000000000000000000000000000000000000000000001', 42),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO nums VALUES
 (1, 99999999999999999999999999999999999.999999999999999999999999999999, 99999999.99, 0.99999, 99999999999999.999999,
     3.4028234e38, 1.7976931348623157e308, 9999.999),
 (2, -99999999999999999999999999999999999.999999999999999999999999999999, -99999999.99, -0.99999, 0,
     -3.4028234e38, -1.7976931348623157e308, -9999.999),
 (3, 0.000000000000000000000000000001, 0.01, 0.00001, 0.000001, 1.17549435e-38, 2.2250738585072014e-308, 0.001),
 (4, -0.000000000000000000000000000001, -0.5, -0.00001, 1.5, 1.401298e-45, 4.9e-324, -0.001),
 (5, 1234.5678, 0, 0.5, 2, 0.1, 0.30000000000000004, 1.5),
 (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SET time_zone = '+05:30';
INSERT INTO temporal VALUES
 (1, '1000-01-01', '-838:59:59', '-838:59:59.999999', '1000-01-01 00:00:00', '1000-01-01 00:00:00.000',
     '1000-01-01 00:00:00.000000', '1970-01-01 05:30:01', '1970-01-01 05:30:01.000', '1970-01-01 05:30:01.000000', 1901),
 (2, '9999-12-31', '838:59:59', '838:59:59.999999', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999',
     '9999-12-31 23:59:59.999999', '2038-01-19 08:44:07', '2038-01-19 08:44:07.999', '2038-01-19 08:44:07.999999', 2155),
 (3, '2024-02-29', '-00:00:01', '-00:00:00.000001', '2024-02-29 12:34:56', '2024-02-29 12:34:56.123',
     '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56', '2024-02-29 12:34:56.5', '2024-02-29 12:34:56.000001', 0),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SET time_zone = SYSTEM;
SET SESSION sql_mode = '';
INSERT INTO zero_dates VALUES
 (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', 0),
 (2, '2000-01-00', '2000-00-01 10:00:00', '0000-01-01 00:00:00.5', NULL, 1999),
 (3, NULL, NULL, NULL, NULL, NULL);
INSERT INTO strs (id, e) VALUES (9, 0);
SET SESSION sql_mode = DEFAULT;
INSERT INTO strs VALUES
 (1, '😀𝄞', REPEAT('😀', 300), 'text 😀 中文', REPEAT(CONCAT('😀x', CHAR(0 USING utf8mb4), 'ñ\tline\n\\N\r'), 20000),
     'café', REPEAT('ÿ', 300), 'Case', 'ünï', 'r,w,ñ', '{"a": [1, 2.5, "ü😀", null], "b": "x\\"y\\t"}'),
 (2, 'a', 'NULL', '', '', 'a', '', 'case', 'x y', '', '[]'),
 (3, 'tail  ', 'back\\slash ''q'' \\N', CONCAT('nul', CHAR(0 USING utf8mb4), 'in'), '\\', 'ß', NULL, 'CASE', '', 'r,w,x,ñ', '{"k": 1}'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '7', NULL, NULL),
 (5, '\t', '\n', '\r\n', '\\N', '\t', '\\', '\\t', 'a', 'x', '"\\\\"');
INSERT INTO bins VALUES
 (1, x'0001', x'00', x'00ff00ff0a090d5c4e', REPEAT(CONCAT(x'00', 'abc', x'ff', x'0d0a5c09'), 200000)),
 (2, x'ffffffffffffffff', REPEAT(x'00', 300), REPEAT(x'5c', 65535), x'5c4e'),
 (3, '', '', '', ''),
 (4, NULL, NULL, NULL, NULL);
INSERT INTO geo VALUES
 (1, ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))'), POINT(1.5, -2.25),
     ST_GeomFromText('LINESTRING(0 0, 1e10 -1e-10, 3 3)'), ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'),
     ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1))')),
 (2, ST_GeomFromText('POINT(179.999999 -89.999999)', 4326), ST_GeomFromText('POINT(0 0)', 4326), NULL, NULL, NULL),
 (3, NULL, NULL, NULL, NULL, NULL);
INSERT INTO nopk VALUES (1, 'dup', x'00'), (1, 'dup', x'00'), (NULL, NULL, NULL), (NULL, NULL, NULL), (2, '\t\n', x'0a09');
INSERT INTO comp SELECT seq % 97, CONCAT('k', seq % 13), '2020-01-01' + INTERVAL seq DAY, seq FROM seq_1_to_3000;
SQL
}

TYPES_OBJS="D:lt T:lt.ints T:lt.nums T:lt.temporal T:lt.zero_dates T:lt.strs T:lt.bins T:lt.geo T:lt.nopk T:lt.comp T:lt.empty_t V:lt.v_comp K:lt.comp"

# The source with the types schema and rows, its change stream in $WORK/types.
setup_types() {
	[[ -d "$WORK/types" ]] && return 0
	src_sql -e "$(types_schema)"
	must_sluice types-capture0 capture --source "$SRC_URL" --dir "$WORK/types"
	src_sql -e "$(types_rows)"
	must_sluice types-capture1 capture --source "$SRC_URL" --dir "$WORK/types"
	TYPES_TXNS=$(txns_of "$WORK/types")
	log "types stream: $TYPES_TXNS transactions"
}

# Secondary indexes of every table in lt, as SHOW INDEX would list them.
indexes_of() {
	srv_sql "$1" -N -B -e "SELECT table_name, index_name, seq_in_index, column_name, non_unique, index_type
		FROM information_schema.statistics WHERE table_schema='lt' ORDER BY 1,2,3"
}

check_types_equal() {
	compare_all || fail "$1: tables differ after the load"
	indexes_of 1 >"$WORK/idx.src"
	indexes_of 2 >"$WORK/idx.dst"
	cmp -s "$WORK/idx.src" "$WORK/idx.dst" || { _show_diff "$WORK/idx.src" "$WORK/idx.dst"; fail "$1: indexes differ"; }
	[[ "$(dst_sql -N -B -e "SELECT COUNT(*) FROM lt.v_comp")" == "$(src_sql -N -B -e "SELECT COUNT(*) FROM lt.v_comp")" ]] ||
		fail "$1: the view is missing or differs"
	[[ "$(dst_sql -N -B -e "SELECT COUNT(*) FROM information_schema.referential_constraints WHERE constraint_schema='lt'")" == 0 ]] ||
		fail "$1: a deferred foreign key was created"
}

case_types() {
	setup_types
	reset_dest
	local S=$WORK/snap-types n
	mksnap "$WORK/types" "$S" 700 "$TYPES_TXNS" "$TYPES_TXNS" 1 $TYPES_OBJS
	must_sluice types-replay replay --dir "$S" --dest "$DST_URL" --workers 3
	grep -q "LOAD DATA LOCAL" "$WORK/types-replay.err" || fail "types: the load did not go through LOAD DATA"
	grep -q '`lt`.`ints`: deferred indexes added' "$WORK/types-replay.err" || fail "types: indexes not deferred"
	grep -q "1 foreign keys\|left for switchover" "$WORK/types-replay.err" || fail "types: deferred objects not reported"
	check_types_equal types
	# sql_log_bin=0: no row of the load in the destination's binlog
	[[ "$(dst_sql -N -B -e "SHOW BINLOG EVENTS" | grep -c 'Table_map.*(lt\.' || true)" == 0 ]] ||
		fail "types: the loaded rows went to the destination's binlog"
	n=$(chunks_recorded)
	# comp: 3000 rows in chunks of 700 = 5; every other table 1
	((n == 14)) || fail "types: $n chunks recorded, want 14"
	must_sluice types-rerun replay --dir "$S" --dest "$DST_URL"
	grep -q "loaded whole before (14 chunks" "$WORK/types-rerun.err" ||
		{ cat "$WORK/types-rerun.err" >&2; fail "types: a rerun loaded again"; }
	check_types_equal types-rerun
	log "ok types"
}

case_fallback() {
	setup_types
	reset_dest
	local S=$WORK/snap-fallback
	mksnap "$WORK/types" "$S" 700 "$TYPES_TXNS" "$TYPES_TXNS" 1 $TYPES_OBJS
	dst_sql -e "SET GLOBAL local_infile = 0"
	on_exit 'dst_sql -e "SET GLOBAL local_infile = 1" || true'
	# an account that may not skip the binlog: the load is logged, and says so
	dst_sql -e "RESET MASTER; CREATE USER IF NOT EXISTS 'lim'@'127.0.0.1' IDENTIFIED BY $(sql_str "$SLUICE_DEST_PASSWORD");
		GRANT ALL ON lt.* TO 'lim'@'127.0.0.1'; GRANT ALL ON sluice.* TO 'lim'@'127.0.0.1'"
	must_sluice fallback-replay replay --dir "$S" --dest "${DST_URL/sluice@/lim@}" --workers 2 --no-defer-indexes
	grep -q "cannot turn the binary log off" "$WORK/fallback-replay.err" || fail "fallback: the logged load not said"
	(($(dst_sql -N -B -e "SHOW BINLOG EVENTS" | grep -c 'Table_map.*(lt\.' || true) > 0)) ||
		fail "fallback: the load is not in the destination's binlog, yet replay said it would be"
	dst_sql -e "SET GLOBAL local_infile = 1"
	[[ "$(grep -c "refuses LOAD DATA LOCAL" "$WORK/fallback-replay.err")" == 1 ]] ||
		{ cat "$WORK/fallback-replay.err" >&2; fail "fallback: the INSERT fallback not logged once"; }
	grep -q "INSERT)" "$WORK/fallback-replay.err" || fail "fallback: summary does not say INSERT"
	! grep -q "deferred indexes added" "$WORK/fallback-replay.err" || fail "fallback: --no-defer-indexes deferred"
	check_types_equal fallback
	log "ok fallback"
}

case_kill() {
	reset_dest
	local D=$WORK/kill S=$WORK/snap-kill pid n i total
	src_sql -e "CREATE DATABASE lk; CREATE TABLE lk.big (id INT PRIMARY KEY, v VARCHAR(60), n BIGINT, r DOUBLE, KEY k_v (v), KEY k_n (n)) ENGINE=InnoDB"
	must_sluice kill-capture0 capture --source "$SRC_URL" --dir "$D"
	src_sql lk -e "INSERT INTO lk.big SELECT seq, CONCAT('row-', seq, '-ü', REPEAT('x', seq % 30)), seq * seq, seq / 7e0 FROM seq_1_to_200000"
	must_sluice kill-capture1 capture --source "$SRC_URL" --dir "$D"
	n=$(txns_of "$D")
	mksnap "$D" "$S" 2000 "$n" "$n" 1 D:lk T:lk.big
	start_bg kill-replay1 replay --dir "$S" --dest "$DST_URL" --workers 2
	pid=$BG_PID
	for i in $(seq 1 600); do
		total=$(chunks_recorded 2>/dev/null || echo 0)
		((total >= 8)) && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null || fail "kill: replay ended before it could be killed ($total chunks)"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	total=$(chunks_recorded)
	((total < 100)) || fail "kill: every chunk was loaded before the kill"
	log "killed replay with $total of 100 chunks recorded"
	must_sluice kill-replay2 replay --dir "$S" --dest "$DST_URL" --workers 2
	grep -q -E "chunks, 200000 rows|[1-9][0-9]* chunks loaded before, skipped" "$WORK/kill-replay2.err" ||
		{ cat "$WORK/kill-replay2.err" >&2; fail "kill: the rerun did not skip loaded chunks"; }
	[[ "$(chunks_recorded)" == 100 ]] || fail "kill: $(chunks_recorded) chunks recorded, want 100"
	[[ "$(dst_sql -N -B -e "SELECT COUNT(*), SUM(\`rows\`) FROM sluice.snapshot_chunks WHERE tbl='big' AND chunk_index < 18446744073709551614")" == $'100\t200000' ]] ||
		fail "kill: snapshot_chunks rows do not add up to 200000 rows in 100 chunks"
	compare_db lk || fail "kill: the table differs after the rerun"
	src_sql -e "DROP DATABASE lk"
	dst_sql -e "DROP DATABASE lk"
	log "ok kill"
}

case_safe() {
	reset_dest
	local D=$WORK/safe cut end n
	src_sql -e "CREATE DATABASE ls;
		CREATE TABLE ls.k (id INT PRIMARY KEY, v VARCHAR(20), n INT, KEY k_n (n)) ENGINE=InnoDB;
		CREATE TABLE ls.c (a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (a, b)) ENGINE=InnoDB;
		CREATE TABLE ls.nk (a INT, b VARCHAR(10)) ENGINE=InnoDB"
	must_sluice safe-capture0 capture --source "$SRC_URL" --dir "$D"
	# P0 .. cut: the rows the snapshot holds (and their changes)
	src_sql ls -e "INSERT INTO k SELECT seq, CONCAT('v', seq), seq FROM seq_1_to_2000;
		INSERT INTO c SELECT seq, 'x', seq FROM seq_1_to_500;
		INSERT INTO nk VALUES (1, 'a'), (1, 'a'), (2, NULL);
		UPDATE k SET v = 'early' WHERE id <= 10;
		DELETE FROM k WHERE id BETWEEN 11 AND 20;"
	must_sluice safe-capture1 capture --source "$SRC_URL" --dir "$D"
	cut=$(txns_of "$D")
	# cut .. end: changes the snapshot may or may not hold (safe mode)
	src_sql ls -e "INSERT INTO k VALUES (5000, 'new', 1);
		UPDATE k SET v = 'mid', n = -n WHERE id BETWEEN 100 AND 150;
		UPDATE k SET id = id + 10000 WHERE id BETWEEN 200 AND 210;
		DELETE FROM k WHERE id BETWEEN 300 AND 320;
		DELETE FROM c WHERE a <= 50;
		UPDATE c SET b = 'y' WHERE a BETWEEN 60 AND 70;
		INSERT INTO c VALUES (9999, 'z', 1);"
	must_sluice safe-capture2 capture --source "$SRC_URL" --dir "$D"
	end=$(txns_of "$D")
	# after end: strict
	src_sql ls -e "UPDATE k SET v = 'late' WHERE id <= 5; DELETE FROM k WHERE id = 6;
		INSERT INTO k VALUES (6000, 'late', 6);
		INSERT INTO nk VALUES (3, 'late'); DELETE FROM nk WHERE a = 1 LIMIT 1; UPDATE nk SET b = 'u' WHERE a = 2;"
	must_sluice safe-capture3 capture --source "$SRC_URL" --dir "$D"
	n=$(txns_of "$D")
	log "safe: cut $cut end $end of $n transactions"
	# the snapshot in D itself: rows of transactions before cut, two runs
	# (the keyed tables' chunks in both, the keyless one read again whole)
	mksnap "$D" "$D" 300 "$cut" "$end" 2 D:ls T:ls.k T:ls.c T:ls.nk
	must_sluice safe-replay replay --dir "$D" --dest "$DST_URL" --workers 4
	grep -q "safe mode" "$WORK/safe-replay.err" || fail "safe: no safe-mode hand-off logged"
	grep -q "strict apply from here on" "$WORK/safe-replay.err" || fail "safe: the window never closed"
	grep -q "read again from its start" "$WORK/safe-replay.err" || fail "safe: no keyless restart"
	compare_db ls || fail "safe: tables differ after safe mode"
	# a rerun: nothing loaded or applied again
	must_sluice safe-rerun replay --dir "$D" --dest "$DST_URL"
	compare_db ls || fail "safe: tables differ after a rerun"
	src_sql -e "DROP DATABASE ls"
	dst_sql -e "DROP DATABASE ls"
	log "ok safe"
}

case_follow() {
	setup_types
	reset_dest
	local S=$WORK/snap-follow mk seen=0 i
	mkdir -p "$S"
	MKSNAP_SLEEP_MS=300 "$MKSNAP" mksnap "$SRC_URL" "$WORK/types" "$S" 200 "$TYPES_TXNS" "$TYPES_TXNS" 1 $TYPES_OBJS &
	mk=$!
	track_pid "$mk"
	for i in $(seq 1 100); do
		[[ -d "$S/snapshot" ]] && break
		sleep 0.1
	done
	start_bg follow-replay replay --dir "$S" --dest "$DST_URL" --follow --poll 50
	for i in $(seq 1 200); do
		if kill -0 "$mk" 2>/dev/null && (($(chunks_recorded 2>/dev/null || echo 0) > 0)); then
			seen=1
			break
		fi
		kill -0 "$mk" 2>/dev/null || break
		sleep 0.1
	done
	wait "$mk" || fail "follow: mksnap failed"
	((seen)) || fail "follow: no chunk was loaded while the snapshot was being written"
	wait_equal 60 || fail "follow: tables differ"
	stop_bg "$BG_PID" follow-replay TERM
	log "ok follow"
}

case_partial() {
	setup_types
	reset_dest
	local S=$WORK/snap-partial rc=0
	MKSNAP_NO_END=1 mksnap "$WORK/types" "$S" 700 "$TYPES_TXNS" "$TYPES_TXNS" 1 $TYPES_OBJS
	# a change stream beside it that must not be applied yet
	cp -r "$WORK/types/." "$S/"
	run_sluice partial-replay replay --dir "$S" --dest "$DST_URL" || rc=$?
	((rc == 0)) || { cat "$WORK/partial-replay.err" >&2; fail "partial: exit $rc, want 0"; }
	grep -q "snapshot incomplete" "$WORK/partial-replay.err" || fail "partial: not said incomplete"
	[[ "$(dst_sql -N -B -e "SELECT COUNT(*) FROM sluice.checkpoint")" == 0 ]] ||
		fail "partial: the change stream was applied before the snapshot's end"
	compare_all || fail "partial: the loaded tables differ"
	log "ok partial"
}

# A writer of inserts, updates and deletes on lw.w until $WORK/stop-writer exists.
writer() {
	local i=0
	while [[ ! -e "$WORK/stop-writer" ]]; do
		i=$((i + 1))
		src_sql lw -e "INSERT INTO w VALUES ($((100000 + i)), 'new $i', $i);
			UPDATE w SET v = CONCAT('upd ', $i), n = n + 1 WHERE id = $(((i * 7919) % 20000 + 1));
			DELETE FROM w WHERE id = $(((i * 104729) % 20000 + 1));
			UPDATE w SET id = id + 200000 WHERE id = $(((i * 3571) % 20000 + 1))" || return 1
	done
}

case_real() {
	setup_types
	reset_dest
	local D=$WORK/real wpid
	# i11-snapshot's reader refuses the denormal double 4.9e-324 ('5e-324'):
	# the mksnap cases load it, this one takes the smallest normal one
	src_sql -e "UPDATE lt.nums SET dbl = 2.2250738585072014e-308 WHERE id = 4"
	src_sql -e "CREATE DATABASE lw; CREATE TABLE lw.w (id INT PRIMARY KEY, v VARCHAR(40), n INT, KEY k_n (n)) ENGINE=InnoDB"
	src_sql lw -e "INSERT INTO w SELECT seq, CONCAT('w', seq), seq FROM seq_1_to_20000"
	must_sluice real-capture0 capture --source "$SRC_URL" --dir "$D"	# P0
	writer &
	wpid=$!
	track_pid "$wpid"
	sleep 1
	must_sluice real-snapshot snapshot --source "$SRC_URL" --dir "$D" --threads 2 --chunk-ms 5
	sleep 1
	touch "$WORK/stop-writer"
	wait "$wpid" || fail "real: the writer failed"
	must_sluice real-capture1 capture --source "$SRC_URL" --dir "$D"
	must_sluice real-replay replay --dir "$D" --dest "$DST_URL" --workers 4
	grep -q "changes up to it apply in safe mode" "$WORK/real-replay.err" || fail "real: no hand-off"
	compare_all || { tail -n 20 "$WORK/real-replay.err" >&2; fail "real: tables differ after snapshot, load and changes"; }
	check_types_equal real
	src_sql -e "DROP DATABASE lw"
	log "ok real ($(grep -o 'loaded [0-9]* chunks, [0-9]* rows' "$WORK/real-replay.err"))"
}

# Rows of several MB loaded on 4 connections while another table's chunks
# load and its deferred index is built, with the destination's redo log at
# 16 MB: InnoDB writes a row's BLOB pages holding the latch of the page the
# row went to, so when the other loaders fill the redo log meanwhile no
# checkpoint can pass that page and the server hangs for good (LOAD DATA in
# "Reading file", the ALTER in "Committing alter table"). Each replay must
# end within 120 s with the tables equal; a row over half the redo log is
# refused with an error naming its chunk.
case_bigrow() {
	reset_dest
	local D=$WORK/bigrow w logsz
	logsz=$(dst_sql -N -B -e "SELECT @@innodb_log_file_size")
	src_sql -e "DROP DATABASE IF EXISTS lh; CREATE DATABASE lh;
		CREATE TABLE lh.bins (id INT NOT NULL PRIMARY KEY, mb MEDIUMBLOB, lb LONGBLOB) ENGINE=InnoDB;
		CREATE TABLE lh.big (id INT NOT NULL PRIMARY KEY, v VARCHAR(60), n BIGINT, r DOUBLE, KEY k_n (n)) ENGINE=InnoDB"
	src_sql lh -e "INSERT INTO bins SELECT seq, REPEAT(x'00ff7f80', 100000), REPEAT(CONCAT(x'5c0a09', seq), 1500000) FROM seq_1_to_8;
		INSERT INTO bins VALUES (20, '', ''), (21, NULL, NULL);
		INSERT INTO big SELECT seq, CONCAT('row ', seq), seq * 1000003 % 999983, seq / 3e0 FROM seq_1_to_100000"
	must_sluice bigrow-capture0 capture --source "$SRC_URL" --dir "$D"
	must_sluice bigrow-snapshot snapshot --source "$SRC_URL" --dir "$D" --threads 2 --chunk-ms 5 --include 'lh.*'
	dst_sql -e "SET GLOBAL innodb_log_file_size = 16 * 1024 * 1024"
	for w in 4 2; do
		reset_dest
		SLUICE_TIMEOUT=120 run_sluice "bigrow-replay$w" replay --dir "$D" --dest "$DST_URL" --workers "$w" || {
			tail -n 5 "$WORK/bigrow-replay$w.err" >&2
			dst_sql -e "SELECT id, time, state, LEFT(info, 70) FROM information_schema.processlist WHERE command = 'Query'" >&2 || true
			fail "bigrow: replay --workers $w did not end well (status $(cat "$WORK/bigrow-replay$w.rc"))"
		}
		compare_db lh || fail "bigrow: tables differ after the load with --workers $w"
		[[ "$(dst_sql -N -B -e "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema='lh' AND index_name='k_n'")" == 1 ]] ||
			fail "bigrow: the deferred index of lh.big is missing"
	done
	# a row over half the redo log (9 MB of 16): refused, naming the chunk, no hang
	reset_dest
	src_sql -e "CREATE TABLE lh.huge (id INT NOT NULL PRIMARY KEY, lb LONGBLOB) ENGINE=InnoDB;
		INSERT INTO lh.huge VALUES (1, REPEAT('h', 9000000))"
	must_sluice bigrow-capture2 capture --source "$SRC_URL" --dir "$D.huge"
	must_sluice bigrow-snapshot2 snapshot --source "$SRC_URL" --dir "$D.huge" --include 'lh.huge'
	SLUICE_TIMEOUT=120 run_sluice bigrow-refused replay --dir "$D.huge" --dest "$DST_URL" --workers 4 || true
	[[ "$(cat "$WORK/bigrow-refused.rc")" == 2 ]] || fail "bigrow: a row over half the redo log: status $(cat "$WORK/bigrow-refused.rc"), want 2"
	grep -q 'chunk [0-9]* of `lh`.`huge` holds a row of [0-9]* bytes, more than half of the destination.s redo log' "$WORK/bigrow-refused.err" ||
		{ cat "$WORK/bigrow-refused.err" >&2; fail "bigrow: the refusal does not name the chunk"; }
	dst_sql -e "SET GLOBAL innodb_log_file_size = $logsz"
	reset_dest
	src_sql -e "DROP DATABASE lh"
	log "ok bigrow"
}

# The load holds rows packed, one chunk per loader and one more queued:
# 400,000 sysbench-like rows on 2 connections stay under 100 MB of peak
# memory (rows decoded on every queued chunk, as before, took about 150 MB).
case_memory() {
	reset_dest
	local D=$WORK/memory rss
	src_sql -e "CREATE DATABASE lm; CREATE TABLE lm.sb (id INT PRIMARY KEY, k INT NOT NULL,
		c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, KEY k_k (k)) ENGINE=InnoDB;
		USE lm; INSERT INTO sb SELECT seq, seq * 7 % 100000, REPEAT(CONCAT(LPAD(seq, 11, '0'), '-'), 10),
		REPEAT(CONCAT(LPAD(seq * 3, 11, '0'), '-'), 5) FROM seq_1_to_400000 AS s"
	must_sluice memory-snapshot snapshot --source "$SRC_URL" --dir "$D" --include 'lm.*' --threads 2
	/usr/bin/time -f %M -o "$WORK/memory.rss" "$SLUICE" replay --dir "$D" --dest "$DST_URL" \
		--workers 2 >"$WORK/memory.out" 2>"$WORK/memory.err" </dev/null ||
		{ tail -5 "$WORK/memory.err" >&2; fail "memory: replay failed"; }
	rss=$(tail -n 1 "$WORK/memory.rss")
	log "memory: replay's peak RSS $rss KiB for 400000 rows"
	((rss < 100 * 1024)) || fail "memory: replay's peak RSS $rss KiB, want under 100 MB"
	compare_db lm || fail "memory: the table differs after the load"
	src_sql -e "DROP DATABASE lm"
	reset_dest
	log "ok memory"
}

for c in $LT_CASES; do
	"case_$c"
done
log "all cases passed: $LT_CASES"
