#!/usr/bin/env bash
# demo.sh - the main job on a built-in default: two throwaway local MariaDB
# servers, a sample workload on the source, then capture -> segments -> replay,
# and a row-by-row comparison of both sides. Servers and files are removed at
# the end (set SLUICE_DEMO_KEEP=1 to keep the stream directory for a look).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

TEST_NAME=demo
# shellcheck source=../tests/integration/harness.sh
source tests/integration/harness.sh
start_servers 2
DIR="$WORK/stream"

say() { printf '\n== %s\n' "$*"; }

say "1. capture into an empty stream directory: records where the source's binlog ends now"
"$SLUICE" capture --source "$SRC_URL" --dir "$DIR"

say "2. a sample workload on the source (schema, 20,000-row load, updates, deletes, DDL)"
src_sql <<'SQL'
CREATE DATABASE shop;
USE shop;
CREATE TABLE customer (id INT PRIMARY KEY, name VARCHAR(64) CHARACTER SET utf8mb4, city VARCHAR(32),
                       balance DECIMAL(12,2), created DATETIME(6), photo BLOB);
CREATE TABLE orders (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, customer_id INT, total DOUBLE,
                     status ENUM('new','paid','shipped'), placed TIMESTAMP(3), note JSON);
INSERT INTO customer SELECT seq, CONCAT('customer ', seq, ' 🚀'), ELT(1 + seq % 4, 'Oslo', 'Lyon', 'Kyoto', 'Lima'),
       seq * 1.25, '2026-01-01 00:00:00' + INTERVAL seq SECOND, UNHEX(REPEAT('00FF', seq % 50)) FROM seq_1_to_20000;
INSERT INTO orders (customer_id, total, status, placed, note)
       SELECT 1 + seq % 20000, seq / 7, ELT(1 + seq % 3, 'new', 'paid', 'shipped'), '2026-02-01 12:00:00.123',
              JSON_OBJECT('items', seq % 9, 'gift', seq % 2 = 0) FROM seq_1_to_5000;
BEGIN; UPDATE customer SET balance = balance + 10 WHERE id % 10 = 0; DELETE FROM orders WHERE status = 'new' AND id % 4 = 0; COMMIT;
ALTER TABLE customer ADD COLUMN vip BOOLEAN NOT NULL DEFAULT 0;
UPDATE customer SET vip = 1 WHERE balance > 20000;
SQL

say "3. capture: the source's binlog into zstd-compressed, CRC-checked segments"
"$SLUICE" capture --source "$SRC_URL" --dir "$DIR"
ls -l "$DIR"

say "4. inspect the first records (sluice inspect DIR --json | head)"
{ "$SLUICE" inspect "$DIR" --json || true; } | head -n 6 | cut -c1-240
echo

say "5. replay the segments into the destination, exactly once"
"$SLUICE" replay --dir "$DIR" --dest "$DST_URL"

say "6. compare source and destination row by row"
if compare_all; then
	echo "source and destination are equal"
else
	fail "source and destination differ"
fi

say "7. replay again: nothing is applied twice"
"$SLUICE" replay --dir "$DIR" --dest "$DST_URL"
compare_all && echo "still equal"
if [[ "${SLUICE_DEMO_KEEP:-}" == 1 ]]; then
	cp -r "$DIR" ./demo-stream && echo "stream directory kept in ./demo-stream"
fi
say "done"
