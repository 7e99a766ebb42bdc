#!/usr/bin/env bash
# demo.sh - the main job on a built-in default: two throwaway local MariaDB
# servers, a sample schema with data and views on the source, a workload
# writing while `sluice migrate` moves it, then migrate's verify result and a
# row-by-row comparison of both sides. Servers and files are removed at the
# end (set SLUICE_DEMO_KEEP=1 to keep the stream directory for a look).
# A build without `sluice snapshot` (issue 11 not complete) runs the older
# demo: capture -> segments -> replay of the changes.
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

sample_schema() {
	cat <<'SQL'
CREATE DATABASE shop;
USE shop;
CREATE TABLE customer (id INT PRIMARY KEY, name VARCHAR(64) CHARACTER SET utf8mb4, city VARCHAR(32),
                       balance DECIMAL(12,2), created DATETIME(6), photo BLOB, KEY by_city (city));
CREATE TABLE orders (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, customer_id INT, total DOUBLE,
                     status ENUM('new','paid','shipped'), placed TIMESTAMP(3), note JSON, KEY (customer_id));
INSERT INTO customer SELECT seq, CONCAT('customer ', seq, ' 🚀'), ELT(1 + seq % 4, 'Oslo', 'Lyon', 'Kyoto', 'Lima'),
       seq * 1.25, '2026-01-01 00:00:00' + INTERVAL seq SECOND, UNHEX(REPEAT('00FF', seq % 50)) FROM seq_1_to_200000;
INSERT INTO orders (customer_id, total, status, placed, note)
       SELECT 1 + seq % 200000, seq / 7, ELT(1 + seq % 3, 'new', 'paid', 'shipped'), '2026-02-01 12:00:00.123',
              JSON_OBJECT('items', seq % 9, 'gift', seq % 2 = 0) FROM seq_1_to_100000;
CREATE VIEW paid_orders AS SELECT id, customer_id, total FROM orders WHERE status = 'paid';
CREATE VIEW revenue_by_city AS SELECT c.city, SUM(o.total) AS revenue
       FROM paid_orders o JOIN customer c ON c.id = o.customer_id GROUP BY c.city;
SQL
}

# Writes to the source until $WORK/stop appears: new orders, balance
# updates, deletes, a new customer now and then.
workload() {
	local i=0
	while [[ ! -e $WORK/stop ]]; do
		i=$((i + 1))
		src_sql -e "
			INSERT INTO shop.orders (customer_id, total, status, placed, note)
			       VALUES (1 + $i * 7 % 200000, $i / 3, 'new', NOW(3), JSON_OBJECT('during', $i));
			UPDATE shop.customer SET balance = balance + 1 WHERE id = 1 + $i * 13 % 200000;
			UPDATE shop.orders SET status = 'paid' WHERE id = 1 + $i * 17 % 100000;
			DELETE FROM shop.orders WHERE id = 1 + $i * 101 % 100000;
			INSERT INTO shop.customer VALUES (200000 + $i, 'new customer', 'Oslo', 0, NOW(6), NULL);" 2>/dev/null || true
		sleep 0.05
	done
	echo "$i" >"$WORK/workload.count"
}

if ! "$SLUICE" snapshot -h >/dev/null 2>&1; then
	say "this build has no 'sluice snapshot' yet: the changes-only demo (capture -> replay)"
	"$SLUICE" capture --source "$SRC_URL" --dir "$DIR"
	sample_schema | src_sql
	"$SLUICE" capture --source "$SRC_URL" --dir "$DIR"
	"$SLUICE" replay --dir "$DIR" --dest "$DST_URL"
	compare_all && echo "source and destination are equal"
	exit 0
fi

say "1. a sample database on the source: 200,000 customers, 100,000 orders, two views"
sample_schema | src_sql
src_sql -e "SELECT table_name, table_type, table_rows FROM information_schema.tables WHERE table_schema = 'shop'"

say "2. precheck: what the migration needs, on both servers and the disk"
"$SLUICE" precheck --source "$SRC_URL" --dest "$DST_URL" --dir "$DIR"

say "3. a workload writes to the source during the migration"
workload &
WL=$!
track_pid "$WL"
# It stops once the migration has caught up, so verify compares a source at rest.
( while [[ ! -e $WORK/stop ]]; do
	grep -q '^phase=verify' "$DIR/migrate.state" 2>/dev/null && touch "$WORK/stop"
	sleep 0.2
  done ) &
track_pid $!

say "4. sluice migrate: precheck, capture, snapshot, load, changes, verify"
rc=0
"$SLUICE" migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$DIR" --threads 2 || rc=$?
touch "$WORK/stop"
wait "$WL" 2>/dev/null || true
echo "(the workload ran $(cat "$WORK/workload.count" 2>/dev/null || echo '?') rounds of writes during the migration)"
((rc == 0)) || fail "sluice migrate exited $rc"

say "5. a second look, row by row, with the test harness's own comparison"
if compare_all; then
	echo "source and destination are equal"
else
	fail "source and destination differ"
fi
src_sql -e "SELECT * FROM shop.revenue_by_city" >"$WORK/view.src"
dst_sql -e "SELECT * FROM shop.revenue_by_city" >"$WORK/view.dst"
cmp -s "$WORK/view.src" "$WORK/view.dst" && echo "the views answer the same on both sides"
if [[ "${SLUICE_DEMO_KEEP:-}" == 1 ]]; then
	cp -r "$DIR" ./demo-stream && echo "stream directory kept in ./demo-stream"
fi
say "done"
