#!/usr/bin/env bash
# Partial row images: a MariaDB source whose sessions write
# binlog_row_image=MINIMAL (and NOBLOB), its closed binlog files given to
# `sluice capture --binlog-files`. Columns left out of an image are absent,
# not NULL: inspect prints only the present ones, and replay inserts only
# present columns (the destination fills in the defaults), updates only the
# changed ones and finds rows by their key (or, without a key, by every
# logged column). Both servers end up equal. A live capture still refuses a
# source whose global binlog_row_image is not FULL (test_errors).
set -euo pipefail
TEST_NAME=test_partial_images
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

workload() {
	cat <<'SQL'
CREATE DATABASE pi CHARACTER SET utf8mb4;
USE pi;
CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT 7, b VARCHAR(20) DEFAULT 'dflt', c TEXT,
                d DATETIME DEFAULT '2020-01-02 03:04:05') ENGINE=InnoDB;
CREATE TABLE k2 (x INT, y VARCHAR(10), v INT, z BLOB, PRIMARY KEY (x, y)) ENGINE=InnoDB;
CREATE TABLE nopk (a INT, b VARCHAR(10), c INT) ENGINE=InnoDB;
SET SESSION binlog_row_image = 'MINIMAL';
INSERT INTO t (id) VALUES (1), (2);
INSERT INTO t (id, b) VALUES (3, 'three');
INSERT INTO t VALUES (4, NULL, NULL, 'text', NULL), (5, 5, 'five', NULL, '1999-12-31 23:59:59');
INSERT INTO t (id, c) VALUES (6, 'six');
BEGIN;
UPDATE t SET a = 70 WHERE id = 1;
UPDATE t SET b = NULL, c = 'c2' WHERE id = 3;
UPDATE t SET id = 20 WHERE id = 2;
DELETE FROM t WHERE id = 5;
COMMIT;
INSERT INTO k2 VALUES (1, 'a', 1, 'blob1'), (1, 'b', 2, NULL), (2, 'a', 3, 'blob3');
UPDATE k2 SET v = v + 10 WHERE x = 1;
DELETE FROM k2 WHERE y = 'b';
INSERT INTO nopk VALUES (1, 'x', 1), (1, 'x', 1), (2, NULL, 3);
UPDATE nopk SET c = 9 WHERE a = 2;
DELETE FROM nopk WHERE a = 1 LIMIT 1;
SET SESSION binlog_row_image = 'NOBLOB';
UPDATE k2 SET v = 99 WHERE x = 2;
INSERT INTO k2 (x, y, v) VALUES (3, 'c', 3);
UPDATE k2 SET z = 'blob-new' WHERE x = 3;
DELETE FROM k2 WHERE x = 1;
SQL
}

main() {
	require_sluice
	start_servers 2
	local datadir=${_H_DIRS[0]}/data dir=$WORK/dir files=$WORK/binlogs
	mkdir -p "$files"

	# Files from here on: the harness's own account setup stays in the first.
	src_sql -e "FLUSH BINARY LOGS"
	local first
	first=$(binlogs "$datadir" | tail -n 1)
	log "workload with binlog_row_image=MINIMAL and NOBLOB sessions"
	workload | src_sql
	src_sql -e "FLUSH BINARY LOGS"

	local -a run=()
	local f started=0
	while IFS= read -r f; do
		[[ "$f" == "$first" ]] && started=1
		((started)) || continue
		cp "$f" "$files/"
		run+=("$files/$(basename "$f")")
	done < <(binlogs "$datadir" | head -n -1)
	((${#run[@]} == 1)) || fail "expected 1 closed binlog file, got ${#run[@]}"

	log "capture --binlog-files ${run[*]##*/}"
	must_sluice cap capture --binlog-files "${run[@]}" --dir "$dir"

	# MINIMAL: an update logs the key before and the changed column after,
	# a delete the key alone
	must_sluice insp inspect "$dir"
	must_sluice inspj inspect "$dir" --json
	grep -q '"op":"update","db":"pi","table":"t","before":{"id":1},"after":{"a":70}}' "$WORK/inspj.out" ||
		{ grep '"pi"' "$WORK/inspj.out" | head -n 5 >&2; fail "the MINIMAL update of t is not before {id} / after {a} in JSON"; }
	grep -q '"op":"delete","db":"pi","table":"t","before":{"id":5}}' "$WORK/inspj.out" ||
		fail "the MINIMAL delete of t does not list the key alone"

	log "replay, then both servers equal"
	must_sluice rep replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "destination differs after replaying partial row images"
	log "PASS"
}

main "$@"
