#!/usr/bin/env bash
# live_seeds.sh - segments captured live, as seeds for fuzz_segment: a real
# MariaDB server (tests/integration/harness.sh) runs a workload with every
# record kind the reader meets in the field, `sluice capture` and `sluice
# snapshot` write it, and each segment (sealed and open, the first
# FUZZ_SEED_MAX bytes, default 262144 = run.sh's -max_len) is copied to OUT.
#
#   tests/fuzz/live_seeds.sh OUT
#
# Record kinds: stream start, TableDef, row inserts/updates/deletes of many
# column types (DECIMAL, BIT, ENUM/SET, JSON, TIME(6), YEAR, BLOB, GEOMETRY),
# DDL (CREATE, ALTER, RENAME, DROP), a big row (~200 KB, in a segment of its
# own at the small segment size), heartbeats; in OUT/snapshot-*: SchemaObject,
# SnapshotBegin, chunks with their rows, ChunkEnd, SnapshotEnd.
# SLUICE_BIN: the sluice to run (run.sh passes its fuzz tree's). Exit 0 with
# seeds in OUT, 77 without mariadbd (run.sh then seeds from fixtures only).
set -euo pipefail
OUT=$1
mkdir -p "$OUT"
TEST_NAME=fuzz-live-seeds
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/harness.sh"
[[ -n "$MARIADBD" && -x "$MARIADBD" ]] || { echo "live_seeds: no mariadbd" >&2; exit 77; }
require_sluice
start_server 1
SRC_URL="mysql://sluice@127.0.0.1:${_H_PORTS[0]}/"
export SLUICE_SOURCE_PASSWORD=$HARNESS_PASSWORD SLUICE_LOG=error
MAX=${FUZZ_SEED_MAX:-262144}

src_sql -e "
	CREATE DATABASE f;
	CREATE TABLE f.kinds (id INT PRIMARY KEY, d DECIMAL(20,6), b BIT(13), e ENUM('a','b','c'),
		s SET('x','y','z'), j JSON, t TIME(6), y YEAR, bl BLOB, g GEOMETRY, dt DATETIME(6),
		f FLOAT, v VARCHAR(40) CHARACTER SET latin1, u TEXT CHARACTER SET utf8mb4);
	CREATE TABLE f.big (id INT PRIMARY KEY, payload LONGBLOB);
	CREATE TABLE f.nokey (a INT, b VARCHAR(10));
	INSERT INTO f.kinds VALUES
		(1, -12345.678901, b'1010101010101', 'b', 'x,z', '{\"k\": [1, 2, {\"n\": null}]}',
		 '-838:59:59.000001', 2155, x'00ff5c27', ST_GeomFromText('POINT(1 2)'),
		 '2026-12-06 12:34:56.789012', -0.0, 'caf\\xe9', '中文 é'),
		(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	INSERT INTO f.nokey VALUES (1, 'a'), (1, 'a'), (2, NULL);"
D=$WORK/live
"$SLUICE" capture --source "$SRC_URL" --dir "$D" --segment-size 64K >/dev/null 2>&1
# the changes the stream sees: rows, DDL, a big row, a multi-statement transaction
src_sql -e "
	INSERT INTO f.kinds (id, d, e, j, u) VALUES (3, 1.5, 'c', '[]', 'x');
	UPDATE f.kinds SET d = d * 2, s = 'y', bl = REPEAT('ab', 300) WHERE id IN (1, 3);
	DELETE FROM f.kinds WHERE id = 2;
	ALTER TABLE f.kinds ADD COLUMN extra INT DEFAULT 7 AFTER d, DROP COLUMN f;
	CREATE TABLE f.later (k VARCHAR(20) PRIMARY KEY, n BIGINT UNSIGNED);
	INSERT INTO f.later VALUES ('a', 18446744073709551615), ('b', 0);
	RENAME TABLE f.later TO f.renamed;
	START TRANSACTION;
	INSERT INTO f.nokey VALUES (3, 'c');
	UPDATE f.nokey SET b = 'z' WHERE a = 1;
	DELETE FROM f.renamed WHERE k = 'b';
	COMMIT;
	INSERT INTO f.big VALUES (1, RANDOM_BYTES(1024)), (2, REPEAT(SHA2('x', 512), 1600));
	INSERT INTO f.big SELECT 3, CONCAT(RANDOM_BYTES(1024), RANDOM_BYTES(1024)) ;
	UPDATE f.big SET payload = CONCAT(payload, RANDOM_BYTES(1024)) WHERE id = 1;
	DROP TABLE f.renamed;"
"$SLUICE" capture --source "$SRC_URL" --dir "$D" --segment-size 64K >/dev/null 2>&1
"$SLUICE" snapshot --source "$SRC_URL" --dir "$D" --segment-size 16K --threads 1 >/dev/null 2>&1
n=0
for s in "$D"/*.seg "$D"/*.open "$D"/snapshot/*.seg "$D"/snapshot/*.open; do
	[[ -f "$s" ]] || continue
	p=live-
	[[ "$s" == "$D/snapshot/"* ]] && p=snapshot-
	head -c "$MAX" "$s" >"$OUT/$p$(basename "$s")"
	n=$((n + 1))
done
((n > 0)) || fail "no segment was written"
echo "live_seeds: $n segments" >&2
