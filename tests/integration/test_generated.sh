#!/usr/bin/env bash
# Tables with generated columns (VIRTUAL and STORED/PERSISTENT, an index on
# one, a DOUBLE expression, a keyless table) through replay, against real
# servers. The destination computes those columns itself and refuses a
# statement that names them (MariaDB 1906, MySQL 3105), so replay leaves
# them out of every INSERT, UPDATE, REPLACE, WHERE and bulk load:
#  stream    capture of the CREATE TABLEs and of inserts, updates (of the
#            columns the generated ones follow) and deletes, then replay:
#            every table equal, verify equal; also a system-versioned table
#            with a generated column; then rows damaged on the destination
#            and repaired by verify --apply-fix (its REPLACE/INSERT leave the
#            generated columns out too)
#  load      `sluice snapshot` of the tables (P0 recorded by capture first,
#            writes before and after the snapshot), then replay: the chunks
#            by LOAD DATA LOCAL INFILE, the changes up to SnapshotEnd in
#            safe mode (REPLACE, delete+REPLACE), the rest strictly; equal
#  fallback  the same with local_infile=OFF on the destination: the chunks
#            by multi-row INSERTs; equal
# GC_CASES picks cases.
set -euo pipefail
TEST_NAME=test_generated
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-300}
require_sluice
start_servers 2
GC_CASES=${GC_CASES:-stream load fallback}

schema_sql() {
	cat <<'SQL'
CREATE DATABASE gc CHARACTER SET utf8mb4;
USE gc;
CREATE TABLE g (
  id INT NOT NULL PRIMARY KEY,
  a INT,
  b DOUBLE,
  s VARCHAR(40),
  v_sum INT AS (a + id) VIRTUAL,
  v_third DOUBLE AS (b / 3) VIRTUAL,
  p_tag VARCHAR(60) AS (CONCAT('t-', s, '-', a)) PERSISTENT,
  s_sq BIGINT AS (a * a) STORED,
  KEY k_v (v_sum),
  KEY k_p (p_tag)
) ENGINE=InnoDB;
CREATE TABLE nk (
  a INT,
  b DOUBLE,
  v DOUBLE AS (b * 1.1) VIRTUAL,
  p INT AS (a * 2) PERSISTENT
) ENGINE=InnoDB;
SQL
}

# Rows $1..$2 of g and nk.
rows_sql() {
	cat <<SQL
USE gc;
INSERT INTO gc.g (id, a, b, s) SELECT seq, seq % 97, seq / 7e0, CONCAT('s', seq) FROM seq_$1_to_$2;
INSERT INTO gc.nk (a, b) SELECT seq, seq / 3e0 FROM seq_$1_to_$2 WHERE seq % 50 = 0;
SQL
}

# Changes that touch generated columns' inputs, and deletes, on ids $1..$2.
changes_sql() {
	cat <<SQL
UPDATE gc.g SET a = a + 1000, b = b * 3 WHERE id BETWEEN $1 AND $2 AND id % 3 = 0;
UPDATE gc.g SET s = CONCAT(s, '-u') WHERE id BETWEEN $1 AND $2 AND id % 5 = 0;
DELETE FROM gc.g WHERE id BETWEEN $1 AND $2 AND id % 7 = 0;
UPDATE gc.nk SET b = b + 0.1 WHERE a BETWEEN $1 AND $2 AND a % 100 = 0;
DELETE FROM gc.nk WHERE a BETWEEN $1 AND $2 AND a % 150 = 0;
SQL
}

reset_dest() {
	dst_sql -e "DROP DATABASE IF EXISTS gc; DROP DATABASE IF EXISTS sluice"
}

reset_src() {
	src_sql -e "DROP DATABASE IF EXISTS gc"
}

check_equal() {
	compare_all || { tail -n 20 "$WORK/$1-replay.err" >&2; fail "$1: tables differ"; }
	must_sluice "$1-verify" verify --source "$SRC_URL" --dest "$DST_URL" --include gc
	must_sluice "$1-verify-rows" verify --source "$SRC_URL" --dest "$DST_URL" --include gc --no-table-checksum
	# the destination computed the generated columns itself
	[[ "$(dst_sql -N -B -e "SELECT COUNT(*) FROM gc.g WHERE v_sum <> a + id OR p_tag <> CONCAT('t-', s, '-', a)")" == 0 ]] ||
		fail "$1: generated columns on the destination do not follow their expressions"
}

case_stream() {
	reset_src
	reset_dest
	local D=$WORK/stream
	must_sluice stream-capture0 capture --source "$SRC_URL" --dir "$D"
	src_sql -e "$(schema_sql)"
	# a system-versioned table with a generated column: both kinds of
	# columns the destination computes, left out together
	src_sql -e "CREATE TABLE gc.vg (id INT PRIMARY KEY, a INT, v INT AS (a * 2) VIRTUAL,
		s TIMESTAMP(6) GENERATED ALWAYS AS ROW START, e TIMESTAMP(6) GENERATED ALWAYS AS ROW END,
		PERIOD FOR SYSTEM_TIME (s, e), KEY k_v (v)) ENGINE=InnoDB WITH SYSTEM VERSIONING"
	src_sql -e "$(rows_sql 1 3000)"
	src_sql -e "$(changes_sql 1 3000)"
	src_sql gc -e "INSERT INTO vg (id, a) SELECT seq, seq FROM seq_1_to_300;
		UPDATE vg SET a = a + 7 WHERE id % 4 = 0; DELETE FROM vg WHERE id % 9 = 0"
	src_sql -e "INSERT INTO gc.g (id, a, b, s) VALUES (5000, NULL, NULL, NULL);
		UPDATE gc.g SET a = 1 WHERE id = 5000; DELETE FROM gc.nk WHERE a IS NULL"
	must_sluice stream-capture1 capture --source "$SRC_URL" --dir "$D"
	must_sluice stream-replay replay --dir "$D" --dest "$DST_URL" --workers 4
	check_equal stream
	# verify's corrections write every column but the generated ones
	dst_sql -e "DELETE FROM gc.g WHERE id = 1; UPDATE gc.g SET a = a + 1, b = b * 2 WHERE id = 2;
		DELETE FROM gc.nk WHERE a = 100; DELETE FROM gc.vg WHERE id = 2"
	run_sluice stream-verify-diff verify --source "$SRC_URL" --dest "$DST_URL" --include gc || true
	[[ "$(cat "$WORK/stream-verify-diff.rc")" == 1 ]] || fail "stream: verify did not see the damage"
	must_sluice stream-verify-fix verify --source "$SRC_URL" --dest "$DST_URL" --include gc --apply-fix
	compare_all || fail "stream: verify --apply-fix did not repair the tables"
	log "ok stream"
}

# A snapshot with writes after P0 (safe mode) and after the snapshot (strict).
snapshot_case() {
	local name=$1 D=$WORK/$1
	reset_src
	reset_dest
	src_sql -e "$(schema_sql)"
	src_sql -e "$(rows_sql 1 20000)"
	must_sluice "$name-capture0" capture --source "$SRC_URL" --dir "$D"	# P0
	src_sql -e "$(changes_sql 1 2000)"
	src_sql -e "$(rows_sql 20001 20500)"
	must_sluice "$name-snapshot" snapshot --source "$SRC_URL" --dir "$D" --threads 2 --chunk-ms 5
	src_sql -e "$(changes_sql 2001 30000)"
	must_sluice "$name-capture1" capture --source "$SRC_URL" --dir "$D"
	must_sluice "$name-replay" replay --dir "$D" --dest "$DST_URL" --workers 2
	grep -q "changes up to it apply in safe mode" "$WORK/$name-replay.err" || fail "$name: no hand-off"
	check_equal "$name"
}

case_load() {
	snapshot_case load
	grep -q "LOAD DATA LOCAL)" "$WORK/load-replay.err" || fail "load: not loaded by LOAD DATA"
	log "ok load ($(grep -o 'loaded [0-9]* chunks, [0-9]* rows' "$WORK/load-replay.err"))"
}

case_fallback() {
	dst_sql -e "SET GLOBAL local_infile = 0"
	on_exit 'dst_sql -e "SET GLOBAL local_infile = 1" || true'
	snapshot_case fallback
	dst_sql -e "SET GLOBAL local_infile = 1"
	grep -q "INSERT)" "$WORK/fallback-replay.err" || fail "fallback: not loaded by INSERTs"
	log "ok fallback ($(grep -o 'loaded [0-9]* chunks, [0-9]* rows' "$WORK/fallback-replay.err"))"
}

for c in $GC_CASES; do
	"case_$c"
done
log "all cases passed: $GC_CASES"
