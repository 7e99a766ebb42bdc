#!/usr/bin/env bash
# sluice snapshot against real servers (issue 11, items 1 and 3).
# 1. A source with several databases and tables (integer key, composite key,
#    string keys in non-binary collations, a skewed integer key, a unique key
#    only, a keyless table, every common type, views over views, a foreign key
#    and a trigger) is read by `sluice snapshot --threads 2` while a writer
#    changes it. The expected state at the snapshot's position P1 is built
#    independently: a dump taken at P0 (before the writer) on server 2, plus
#    the source's own binlog from P0 to P1 (mariadb-binlog). The stream's
#    definitions and rows, loaded into an empty server 3 by this test's own
#    reader (test_snapshot --load), must equal it table by table and row by
#    row: every row of the source at P1 is there exactly once.
# 2. kill -9 in the middle of a snapshot, then a rerun: every chunk logged by
#    the first run is kept (none is read again, the log proves it), the
#    second run goes on after them, and the result equals the source.
# 3. A finished snapshot makes a rerun a no-op; SIGTERM stops cleanly and a
#    rerun completes; `capture --snapshot` records P0, the snapshot, then the
#    change stream.
set -euo pipefail
TEST_NAME=test_snapshot
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
LOADER=${SLUICE_TEST_SNAPSHOT:-$SLUICE_SOURCE_DIR/build/tests/test_snapshot}
[[ -x "$LOADER" ]] || _require "test_snapshot not built at $LOADER"

schema_and_rows() {
	cat <<'SQL'
CREATE DATABASE s1 CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE DATABASE s2 CHARACTER SET latin1;
USE s1;
CREATE TABLE ints (id INT NOT NULL PRIMARY KEY, v INT, pad VARCHAR(64)) ENGINE=InnoDB;
INSERT INTO ints SELECT seq, seq * 3, REPEAT('p', seq % 50) FROM il.seq_1_to_6000;
CREATE TABLE comp (a INT NOT NULL, b VARCHAR(20) NOT NULL, v INT, PRIMARY KEY (a, b)) ENGINE=InnoDB;
INSERT INTO comp SELECT seq % 7, CONCAT(IF(seq % 2, 'k', 'K'), seq), seq FROM seq_1_to_2000;
CREATE TABLE skey (k VARCHAR(30) NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB COLLATE utf8mb4_general_ci;
INSERT INTO skey SELECT CONCAT(ELT(seq % 4 + 1, 'a', 'B', 'é', 'Z'), LPAD(seq, 5, '0')), seq FROM seq_1_to_2500;
CREATE TABLE skew (id BIGINT NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO skew SELECT seq, seq FROM seq_1_to_800;
INSERT INTO skew SELECT 1000000000000000 + seq, seq FROM seq_1_to_800;
INSERT INTO skew SELECT CAST(seq AS SIGNED) - 9000000000000000000, seq FROM seq_1_to_50;
CREATE TABLE skew2 (id INT NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO skew2 SELECT seq, seq FROM seq_1_to_12000;
INSERT INTO skew2 SELECT 12000 + seq * 100, seq FROM seq_1_to_300;
ANALYZE TABLE skew2;
CREATE TABLE nokey (v INT, s VARCHAR(10)) ENGINE=InnoDB;
INSERT INTO nokey SELECT seq % 100, 'dup' FROM seq_1_to_1500;
CREATE TABLE types (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, mi MEDIUMINT,
  dc DECIMAL(30,10), f FLOAT, d DOUBLE,
  dt DATE, tm TIME(3), dtm DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR,
  c CHAR(10), vc VARCHAR(100), vl VARCHAR(50) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
  bn BINARY(8), vb VARBINARY(100), bl BLOB, tx TEXT, lb LONGBLOB,
  en ENUM('a','b','c'), st SET('x','y','z'), js JSON, g GEOMETRY, bt BIT(10)
) ENGINE=InnoDB COMMENT 'every type';
INSERT INTO types SELECT seq,
  IF(seq = 1, -128, seq % 100), IF(seq = 1, 255, seq % 200),
  IF(seq = 1, -9223372036854775808, seq * 1000003), IF(seq = 1, 18446744073709551615, seq * 7),
  IF(seq = 2, -8388608, seq),
  seq / 7, IF(seq = 1, 1.0, seq / 4), IF(seq = 1, 0.1, seq / 9),
  IF(seq = 3, '0000-00-00', '2024-02-29' + INTERVAL seq DAY),
  IF(seq = 4, '-838:59:59', SEC_TO_TIME(seq * 37.125)),
  '2024-01-01 10:00:00.000001' + INTERVAL seq MINUTE,
  IF(seq = 5, NULL, '2024-03-01 00:00:00.5' + INTERVAL seq SECOND), IF(seq = 6, 0, 1990 + seq % 50),
  CONCAT('c', seq), IF(seq % 10 = 0, NULL, IF(seq % 10 = 1, '', CONCAT('abc', seq))),
  CONCAT('latin', seq, CHAR(233 USING latin1)),
  UNHEX(LPAD(HEX(seq), 16, '0')), IF(seq = 7, '', UNHEX(MD5(seq))),
  UNHEX(REPEAT(MD5(seq), 20)), REPEAT(CONCAT('text ', seq, ' '), 30), UNHEX(REPEAT(MD5(seq + 1), 4000)),
  ELT(seq % 3 + 1, 'a', 'b', 'c'), IF(seq % 2, 'x,z', 'y'), CONCAT('{"k": ', seq, ', "s": "v"}'),
  ST_GeomFromText(CONCAT('POINT(', seq, ' ', seq / 2, ')')), seq % 1024
FROM seq_1_to_150;
CREATE VIEW v1 AS SELECT id, v FROM ints WHERE id < 100;
CREATE VIEW v0 AS SELECT id FROM v1;
CREATE TRIGGER ints_bi BEFORE INSERT ON ints FOR EACH ROW SET NEW.pad = IFNULL(NEW.pad, 'trg');
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
CREATE VIEW a_fn AS SELECT id, twice(v) AS v2 FROM ints WHERE id < 50;
CREATE EVENT ev_purge ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM s1.nokey WHERE v < 0;
USE s2;
CREATE TABLE lat (k VARCHAR(20) NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB COLLATE latin1_swedish_ci;
INSERT INTO lat SELECT CONCAT(ELT(seq % 3 + 1, 'a', 'Ä', 'z'), seq), seq FROM seq_1_to_900;
CREATE TABLE uq (id INT NOT NULL, u VARCHAR(10) NOT NULL, UNIQUE KEY u (u)) ENGINE=InnoDB;
INSERT INTO uq SELECT seq, CONCAT('u', seq) FROM seq_1_to_700;
CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO parent SELECT seq FROM seq_1_to_20;
CREATE TABLE child (id INT PRIMARY KEY, p INT, CONSTRAINT fk_p FOREIGN KEY (p) REFERENCES parent (id)) ENGINE=InnoDB;
INSERT INTO child SELECT seq, seq % 20 + 1 FROM seq_1_to_100;
SQL
}

# A writer: single-row transactions on the tables above until $WORK/stop exists.
writer() {
	local i=0
	while [[ ! -e "$WORK/stop" ]]; do
		i=$((i + 1))
		src_sql -e "
			INSERT INTO s1.ints VALUES (100000 + $i, $i, NULL);
			UPDATE s1.ints SET v = v + 1 WHERE id = $((i * 37 % 6000 + 1));
			DELETE FROM s1.ints WHERE id = $((i * 53 % 6000 + 1));
			INSERT INTO s1.comp VALUES ($i % 7, CONCAT('w', $i), $i);
			UPDATE s1.skey SET v = v + 1 WHERE k = CONCAT('a', LPAD($((i * 4 % 2500)), 5, '0'));
			INSERT INTO s1.skew VALUES (500000000000 + $i, $i);
			INSERT INTO s1.nokey VALUES ($i, 'w');
			DELETE FROM s1.nokey WHERE v = $((i % 100)) LIMIT 1;
			UPDATE s1.types SET vc = CONCAT('w', $i), ts = NOW(6) WHERE id = $((i % 150 + 1));
			INSERT INTO s2.lat VALUES (CONCAT('w', $i), $i);" || true
	done
}

binlog_pos() {	# FILE POS of server N now
	srv_sql "$1" -N -B -e "SHOW MASTER STATUS" | awk '{print $1, $2}'
}

start_servers 3
schema_and_rows | src_sql

# ---- 1. a snapshot while a writer runs, checked against the source at P1 ----
read -r P0_FILE P0_POS < <(binlog_pos 1)
mariadb-dump --no-defaults -uroot -S "$SRC_SOCK" --single-transaction --triggers --routines --events --skip-dump-date \
	--databases s1 s2 >"$WORK/p0.sql"
srv_sql 2 <"$WORK/p0.sql"
writer &
WRITER=$!
track_pid "$WRITER"
sleep 1
SLUICE_SNAPSHOT_CHUNK_ROWS=300 must_sluice snap1 snapshot --source "$SRC_URL" --dir "$WORK/d1" \
	--threads 2 --chunk-ms 50
sleep 0.5
touch "$WORK/stop"
wait "$WRITER" || true
grep -q 'consistent snapshot at' "$WORK/snap1.err" || fail "no snapshot position logged"
read -r P1_FILE P1_POS < <(sed -n 's/.*consistent snapshot at \([^:]*\):\([0-9]*\).*/\1 \2/p' "$WORK/snap1.err" | head -n 1)
[[ "$P1_FILE" == "$P0_FILE" ]] || fail "binlog rotated between P0 and P1 ($P0_FILE, $P1_FILE)"
((P1_POS > P0_POS)) || fail "the writer did not write before P1 ($P0_POS, $P1_POS)"
log "P0 $P0_FILE:$P0_POS, P1 $P1_FILE:$P1_POS"
# the source after P1 changed again: the snapshot must not hold those rows
[[ $(src_sql -N -B -e "SELECT COUNT(*) FROM s1.ints WHERE id > 100000") -gt 0 ]] || fail "no writes"
DATADIR=$(srv_sql 1 -N -B -e "SELECT @@datadir")
mariadb-binlog --no-defaults --start-position="$P0_POS" --stop-position="$P1_POS" \
	"$DATADIR/$P1_FILE" | srv_sql 2
# the skewed key was walked, big tables were cut into chunks across both readers
grep -q 'table `s1`.`skew`: key `id` is sparse' "$WORK/snap1.err" || fail "the skewed key was not detected"
grep -q 'table `s1`.`skew2`: a range held .* the key is sparse from here' "$WORK/snap1.err" ||
	fail "a key dense at first and sparse later was not detected"
chunks=$(grep -c 'snapshot: `s1`.`ints` chunk' "$WORK/snap1.err")
((chunks >= 10)) || fail "s1.ints in $chunks chunks, want many"
grep -q 'table `s1`.`nokey` has no primary or unique NOT NULL key' "$WORK/snap1.err" || fail "no keyless warning"
"$LOADER" --load "$WORK/d1/snapshot" "$DST2_URL" >"$WORK/load1.out" 2>&1 || { cat "$WORK/load1.out" >&2; fail "load failed"; }
compare_all 2 3 || fail "the snapshot differs from the source at P1"
log "ok: every row of the source at P1 exactly once ($(tail -n 1 "$WORK/load1.out"))"
# deferred objects are recorded, not created: the trigger and the foreign key
grep -q '^deferred 3 `s1`.`ints_bi` on `ints`: CREATE .*TRIGGER' "$WORK/load1.out" || fail "the trigger is not in the stream"
grep -q '^deferred 4 `s2`.`fk_p` on `child`: ALTER TABLE `s2`.`child` ADD CONSTRAINT `fk_p` FOREIGN KEY' "$WORK/load1.out" ||
	fail "the foreign key is not in the stream as a deferred ALTER TABLE"
grep -q '^deferred 6 `s1`.`ev_purge` on ``: CREATE .*EVENT' "$WORK/load1.out" || fail "the event is not deferred"
[[ $(srv_sql 3 -N -B -e "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA='s1'") == 1 ]] ||
	fail "the function (used by a view) was not created before its view"
[[ $(srv_sql 3 -N -B -e "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA='s2'") == 0 ]] ||
	fail "a deferred foreign key was created with its table"
[[ $(srv_sql 3 -N -B -e "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA='s1'") == 0 ]] ||
	fail "a deferred trigger was created"
"$SLUICE" verify --segments "$WORK/d1/snapshot" >"$WORK/vseg.out" 2>&1 || { cat "$WORK/vseg.out" >&2; fail "verify --segments"; }

# a rerun of a finished snapshot does nothing
before=$(find "$WORK/d1/snapshot" -type f -name '*.seg*' -exec md5sum {} + | sort)
must_sluice snap1b snapshot --source "$SRC_URL" --dir "$WORK/d1"
grep -q 'is complete.*nothing to do' "$WORK/snap1b.err" || fail "a rerun did not say it had nothing to do"
after=$(find "$WORK/d1/snapshot" -type f -name '*.seg*' -exec md5sum {} + | sort)
[[ "$before" == "$after" ]] || fail "a rerun of a finished snapshot changed it"

# ---- 2. kill -9 mid-snapshot, rerun: no finished chunk read twice ----
# (FLOAT at full precision here: the dump behind server 2 prints 6 digits)
src_sql -e "CREATE DATABASE big; USE big; CREATE TABLE big.t (id INT PRIMARY KEY, s VARCHAR(200), f FLOAT) ENGINE=InnoDB;
	INSERT INTO big.t SELECT seq, REPEAT('x', 100), seq / 3 FROM seq_1_to_40000;
	CREATE TABLE big.nk (v INT) ENGINE=InnoDB; INSERT INTO big.nk SELECT seq FROM seq_1_to_3000;
	CREATE TABLE big.cs (a VARCHAR(10) NOT NULL, b INT NOT NULL, PRIMARY KEY (a, b)) ENGINE=InnoDB;
	INSERT INTO big.cs SELECT CONCAT('k', seq % 13), seq FROM seq_1_to_8000;"
for db in s1 s2; do srv_sql 3 -e "DROP DATABASE $db"; done
export SLUICE_SNAPSHOT_CHUNK_ROWS=100
start_bg snap2 snapshot --source "$SRC_URL" --dir "$WORK/d2" --threads 2 --include big
pid=$BG_PID
for _ in $(seq 1 600); do
	n=$(grep -c 'snapshot: `big`.`t` chunk' "$WORK/snap2.err" || true)
	((n >= 20)) && break
	sleep 0.02
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
unset SLUICE_SNAPSHOT_CHUNK_ROWS
grep -q 'snapshot complete' "$WORK/snap2.err" && fail "the snapshot finished before the kill"
logged1=$(grep -c 'snapshot: `big`.`[a-z]*` chunk' "$WORK/snap2.err" || true)
log "killed after $logged1 chunks"
SLUICE_SNAPSHOT_CHUNK_ROWS=500 must_sluice snap3 snapshot --source "$SRC_URL" --dir "$WORK/d2" --threads 2 --include big
grep -q 'run 2:' "$WORK/snap3.err" || fail "the rerun is not run 2"
kept=$(sed -n 's/.*, \([0-9]*\) chunks\{0,1\} kept from earlier runs.*/\1/p' "$WORK/snap3.err")
((kept >= logged1)) || fail "the rerun kept $kept chunks, the first run logged $logged1 as written"
# every chunk index of a keyed table is read once across both runs
for t in t cs; do
	dup=$(cat "$WORK/snap2.err" "$WORK/snap3.err" | sed -n "s/.*snapshot: \`big\`.\`$t\` chunk \([0-9]*\) .*/\1/p" | sort -n | uniq -d)
	[[ -z "$dup" ]] || fail "big.$t chunks read twice: $dup"
	first2=$(sed -n "s/.*snapshot: \`big\`.\`$t\` chunk \([0-9]*\) .*/\1/p" "$WORK/snap3.err" | sort -n | head -n 1)
	last1=$(sed -n "s/.*snapshot: \`big\`.\`$t\` chunk \([0-9]*\) .*/\1/p" "$WORK/snap2.err" | sort -n | tail -n 1)
	if [[ -n "$last1" && -n "$first2" ]]; then
		((first2 > last1)) || fail "big.$t: run 2 began at chunk $first2, run 1 had reached $last1"
	fi
done
"$LOADER" --load "$WORK/d2/snapshot" "$DST2_URL" >"$WORK/load2.out" 2>&1 || { cat "$WORK/load2.out" >&2; fail "load after kill -9 failed"; }
compare_db big 1 3 || fail "the resumed snapshot differs from the source"
log "ok: kill -9 and rerun: $kept chunks kept, nothing read twice ($(tail -n 1 "$WORK/load2.out"))"

# Waits (at most 12 s) until the snapshot logging to $WORK/NAME.err has
# written chunk 5 of big.t.
wait_chunk5() { # NAME
	for _ in $(seq 1 600); do
		grep -q 'snapshot: `big`.`t` chunk 5 ' "$WORK/$1.err" && return 0
		sleep 0.02
	done
}

# ---- 3. SIGTERM stops cleanly; a rerun completes ----
export SLUICE_SNAPSHOT_CHUNK_ROWS=100
start_bg snap4 snapshot --source "$SRC_URL" --dir "$WORK/d3" --threads 2 --include big
pid=$BG_PID
wait_chunk5 snap4
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
unset SLUICE_SNAPSHOT_CHUNK_ROWS
((rc == 2)) || fail "SIGTERM: exit $rc, want 2 (not complete)"
grep -q 'stopped by signal' "$WORK/snap4.err" || fail "SIGTERM: no message"
# the rerun takes the MySQL path: a brief global read lock while its readers open
SLUICE_SNAPSHOT_LOCK=1 must_sluice snap5 snapshot --source "$SRC_URL" --dir "$WORK/d3" --threads 2 --include big
grep -q 'FLUSH TABLES WITH READ LOCK while they opened' "$WORK/snap5.err" || fail "the lock path was not taken"
grep -q 'run 2:' "$WORK/snap5.err" || fail "the rerun after SIGTERM is not run 2"
srv_sql 3 -e "DROP DATABASE big"
"$LOADER" --load "$WORK/d3/snapshot" "$DST2_URL" >"$WORK/load3.out" 2>&1 || { cat "$WORK/load3.out" >&2; fail "load after SIGTERM failed"; }
compare_db big 1 3 || fail "the snapshot after SIGTERM differs from the source"

# ---- a lost connection ends the run (exit 2, one line naming the server); a rerun resumes ----
export SLUICE_SNAPSHOT_CHUNK_ROWS=50
start_bg snap7 snapshot --source "$SRC_URL" --dir "$WORK/d6" --threads 1 --include big
pid=$BG_PID
wait_chunk5 snap7
unset SLUICE_SNAPSHOT_CHUNK_ROWS
src_sql -N -B -e "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'sluice'" |
	while read -r id; do src_sql -e "KILL CONNECTION $id" 2>/dev/null || true; done
rc=0
wait "$pid" || rc=$?
((rc == 2)) || fail "a killed connection: exit $rc, want 2"
last=$(grep -v '^[0-9]' "$WORK/snap7.err" | tail -n 1)
grep -q -E '^sluice snapshot: table `big`.`[a-z]+`: .*source mysql://sluice@' <<<"$last" || fail "a killed connection: $last"
[[ $(grep -c -v '^[0-9]' "$WORK/snap7.err") == 1 ]] || fail "a killed connection: more than one error line"
must_sluice snap8 snapshot --source "$SRC_URL" --dir "$WORK/d6" --threads 1 --include big
grep -q 'on 1 connection (no lock' "$WORK/snap8.err" || fail "one reader on MariaDB took a lock"
grep -q 'run 2:' "$WORK/snap8.err" || fail "the rerun after a lost connection is not run 2"
srv_sql 3 -e "DROP DATABASE big"
"$LOADER" --load "$WORK/d6/snapshot" "$DST2_URL" >"$WORK/load6.out" 2>&1 || { cat "$WORK/load6.out" >&2; fail "load after a lost connection failed"; }
compare_db big 1 3 || fail "the snapshot after a lost connection differs from the source"
log "ok: a lost connection: $last"

# ---- --max-threads-running: readers pause while the source is busy ----
src_sql -e "SELECT SLEEP(4)" >/dev/null &
sleeper1=$!
track_pid "$sleeper1"
src_sql -e "SELECT SLEEP(4)" >/dev/null &
sleeper2=$!
track_pid "$sleeper2"
sleep 0.5
t0=$SECONDS
must_sluice snap6 snapshot --source "$SRC_URL" --dir "$WORK/d5" --include s2 --max-threads-running 2
grep -q 'Threads_running [0-9]* is above 2: readers pause' "$WORK/snap6.err" || fail "the readers did not pause"
grep -q 'readers go on' "$WORK/snap6.err" || fail "the readers did not go on"
((SECONDS - t0 >= 2)) || fail "the snapshot did not wait for the busy source"
wait "$sleeper1" "$sleeper2" || true

# ---- readers take different tables: the stream interleaves them ----
# (replay's loaders load different tables at once; two sessions inserting
# into one InnoDB table take hardly less time than one)
src_sql -e "CREATE DATABASE il; CREATE TABLE il.a (id INT PRIMARY KEY, v VARCHAR(40));
	CREATE TABLE il.b LIKE il.a;
	INSERT INTO il.a SELECT seq, REPEAT('x', 40) FROM il.seq_1_to_6000;
	INSERT INTO il.b SELECT * FROM il.a; ANALYZE TABLE il.a, il.b" >/dev/null
SLUICE_SNAPSHOT_CHUNK_ROWS=500 must_sluice snap10 snapshot --source "$SRC_URL" --dir "$WORK/d8" --include il --threads 2
a_before_b=$(awk '/snapshot: `il`.`b` chunk/ { exit } /snapshot: `il`.`a` chunk/ { n++ } END { print n + 0 }' "$WORK/snap10.err")
b_chunks=$(grep -c 'snapshot: `il`.`b` chunk' "$WORK/snap10.err" || true)
a_chunks=$(grep -c 'snapshot: `il`.`a` chunk' "$WORK/snap10.err" || true)
# ranges hold the rows asked for (they shrank by 8 % each, to 27 chunks)
((a_chunks >= 11 && a_chunks <= 14 && b_chunks >= 11 && b_chunks <= 14)) ||
	fail "6000 rows in chunks of 500 took $a_chunks and $b_chunks chunks, expected about 12"
((a_before_b < 6)) || fail "the readers did not take different tables: $a_before_b chunks of il.a before the first of il.b"
log "ok: two readers, two tables: $a_before_b chunks of il.a before the first of il.b"

# ---- capture --snapshot: P0, the snapshot, then the change stream ----
must_sluice cap1 capture --snapshot --source "$SRC_URL" --dir "$WORK/d4" --include s2
[[ -d "$WORK/d4/snapshot" ]] || fail "capture --snapshot wrote no DIR/snapshot"
grep -q 'snapshot complete' "$WORK/cap1.err" || fail "capture --snapshot did not complete the snapshot"
"$SLUICE" status "$WORK/d4" >"$WORK/status4.out" 2>&1 || { cat "$WORK/status4.out" >&2; fail "capture --snapshot left no change stream"; }
grep -q "new stream in .* starts at" "$WORK/cap1.err" || fail "capture --snapshot did not record P0 first"
expect_error snap9 "unknown dialect 'db2'" snapshot --source "$SRC_URL" --dir "$WORK/d7" --dest-dialect db2
[[ ! -e "$WORK/d7/snapshot" ]] || fail "a refused --dest-dialect wrote DIR/snapshot"
expect_error cap2 'already holds a stream without a snapshot' capture --snapshot --source "$SRC_URL" --dir "$WORK/d2/snapshot"
assert_no_password "$WORK"/*.err "$WORK"/*.out
log "ok: test_snapshot"
