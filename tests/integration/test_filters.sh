#!/usr/bin/env bash
# Filters and renames (issue 13 item 5), at capture and at replay, one syntax:
# --include/--exclude (db.table patterns), --map SRC=DST (databases and
# tables), --exclude-columns db.t.c, --ops. A workload on the source creates
# two databases; fa.t is renamed fb.t2 (and altered mid-stream: the ALTER must
# run under its new name), fa's other tables go to fb, fa.skip% and fx are
# left out, fa.t.secret is left out of every row.
#   1. capture with the filters: the left-out data is not in the segments
#      (inspect --json), and a plain replay gives exactly the chosen tables
#      under their new names, equal to the source's under the mapping;
#   2. capture --follow without filters, replay with the same filters (other
#      names) twice, the second resuming inside the segment the first left
#      (after the table definitions it needs): the same result; a stream ending in a transaction the filters empty
#      leaves the checkpoint at the source's last GTID, and a rerun applies
#      nothing;
#   3. capture --ops insert,ddl: no update or delete in the segments, and
#      the rows as they were inserted, before any update or delete (a dump of
#      the source taken at that point);
#   4. refusals (exit 2, one line): a bad map, a key column left out, a
#      rename with --snapshot, a DDL naming a kept and a left-out table.
set -euo pipefail
TEST_NAME=test_filters
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

workload_1() {
	cat <<'SQL'
CREATE DATABASE fa;
CREATE DATABASE fx;
USE fa;
CREATE TABLE t (id INT PRIMARY KEY, a INT, secret VARCHAR(40), b VARCHAR(20)) ENGINE=InnoDB;
CREATE TABLE keep2 (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
CREATE TABLE skip_me (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;
CREATE TABLE fx.other (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB;
INSERT INTO t VALUES (1, 10, 'SECRETMARK-1', 'one'), (2, 20, 'SECRETMARK-2', 'two'),
  (3, 30, 'SECRETMARK-3', 'three');
INSERT INTO keep2 VALUES (1, 100), (2, 200), (3, 300);
INSERT INTO skip_me VALUES (1, 'SKIPMARK-1');
INSERT INTO fx.other VALUES (1, 'FXMARK-1');
BEGIN;
INSERT INTO t VALUES (4, 40, 'SECRETMARK-4', 'four');
INSERT INTO skip_me VALUES (2, 'SKIPMARK-2');
COMMIT;
SQL
}

# After the inserts: updates, deletes, DDL on the renamed table mid-stream.
workload_2() {
	cat <<'SQL'
USE fa;
UPDATE t SET a = a + 1, secret = 'SECRETMARK-U' WHERE id <= 2;
DELETE FROM t WHERE id = 3;
UPDATE keep2 SET v = v + 1 WHERE id = 1;
DELETE FROM keep2 WHERE id = 2;
ALTER TABLE t ADD COLUMN c INT NULL AFTER b;
INSERT INTO t VALUES (5, 50, 'SECRETMARK-5', 'five', 555);
UPDATE t SET c = id * 11 WHERE id <> 5;
CREATE TABLE tcopy LIKE t;
INSERT INTO tcopy SELECT * FROM t WHERE id = 1;
ALTER TABLE skip_me ADD COLUMN z INT;
UPDATE skip_me SET v = 'SKIPMARK-U';
ALTER TABLE fx.other ADD COLUMN z INT;
DROP TABLE skip_me;
-- the last transaction touches only left-out tables: the filters empty it
BEGIN;
INSERT INTO fx.other VALUES (2, 'FXMARK-2', 2);
COMMIT;
SQL
}

FILTERS=(--exclude 'fa.skip%,fx' --exclude-columns 'fa.t%.secret')

# same_table SRC_DB.T DST_DB.T COLUMNS: the rows of the source table and of
# the destination table are the same over COLUMNS (comma-separated).
same_table() {
	local a b
	a=$(src_sql -N -B -e "SELECT $3 FROM $1 ORDER BY 1") || fail "cannot read $1 on the source"
	b=$(dst_sql -N -B -e "SELECT $3 FROM $2 ORDER BY 1") || fail "cannot read $2 on the destination"
	[[ -n "$a" ]] || fail "$1 is empty on the source"
	if [[ "$a" != "$b" ]]; then
		diff <(echo "$a") <(echo "$b") | head -n 10 >&2 || true
		fail "$2 on the destination differs from $1 on the source over ($3)"
	fi
}

# check_mapped DB: the destination's DB holds exactly t2, keep2 and tcopy:
# fa.t's rows without secret (NULL there), and fa.t's new column c (the ALTER
# ran as ALTER TABLE DB.t2); fa.skip_me and fx nowhere.
check_mapped() {
	local db=$1 tables
	tables=$(dst_sql -N -B -e "SELECT GROUP_CONCAT(table_name ORDER BY table_name)
		FROM information_schema.tables WHERE table_schema = '$db'")
	[[ "$tables" == "keep2,t2,tcopy" ]] || fail "$db holds tables '$tables', want keep2,t2,tcopy"
	same_table fa.t "$db.t2" "id, a, b, c"
	same_table fa.keep2 "$db.keep2" "id, v"
	same_table fa.tcopy "$db.tcopy" "id, a, b, c"
	[[ $(dst_sql -N -B -e "SELECT 1 FROM $db.t2 WHERE secret IS NOT NULL UNION ALL SELECT 1 FROM $db.tcopy WHERE secret IS NOT NULL" | wc -l) == 0 ]] ||
		fail "$db.t2: excluded column secret arrived"
	[[ $(dst_sql -N -B -e "SELECT COUNT(*) FROM information_schema.schemata
		WHERE schema_name IN ('fa', 'fx')") == 0 ]] || fail "fa or fx exists on the destination"
}

# in_stream DIR MARK: waits until inspect --json shows MARK in DIR.
in_stream() {
	local deadline=$((SECONDS + 60))
	while ((SECONDS < deadline)); do
		"$SLUICE" inspect "$1" --json 2>/dev/null | grep -q "$2" && return 0
		sleep 0.2
	done
	fail "$2 did not reach $1 within 60 s"
}

main() {
	require_sluice
	start_servers 2
	local d1=$WORK/filtered d2=$WORK/plain d3=$WORK/inserts d4=$WORK/plain4 cap2

	log "streams start: one captured with filters, one without"
	must_sluice cap1 capture --source "$SRC_URL" --dir "$d1" "${FILTERS[@]}" --map 'fa=fb,fa.t=fb.t2'
	start_bg cap2 capture --source "$SRC_URL" --dir "$d2" --follow
	cap2=$BG_PID
	wait_line cap2 "$cap2" "new stream in"
	must_sluice cap3 capture --source "$SRC_URL" --dir "$d3" --include 'fa.keep2,fa.t,fa.tcopy' \
		--map fa=fd --ops insert,ddl --exclude-columns 'fa.t%.secret'
	must_sluice cap4 capture --source "$SRC_URL" --dir "$d4"
	workload_1 | src_sql
	# the source at this point: every row inserted, none updated or deleted yet
	src_sql -N -B -e "SELECT id, v FROM fa.keep2 ORDER BY id" >"$WORK/keep2.inserted"
	src_sql -N -B -e "SELECT id, a, b FROM fa.t ORDER BY id" >"$WORK/t.inserted"
	# replay with filters the first half of the stream capture --follow
	# writes: the second replay resumes inside the same segment, after the
	# table definitions its rows use
	in_stream "$d2" SKIPMARK-2
	must_sluice rep2a replay --dir "$d2" --dest "$DST_URL" --consumer c2 "${FILTERS[@]}" \
		--map fa=fc --map fa.t=fc.t2
	workload_2 | src_sql
	in_stream "$d2" FXMARK-2
	stop_bg "$cap2" cap2 TERM

	log "1. capture with the filters"
	must_sluice cap1b capture --source "$SRC_URL" --dir "$d1" "${FILTERS[@]}" --map 'fa=fb,fa.t=fb.t2'
	must_sluice insp1 inspect "$d1" --json
	must_sluice insp2 inspect "$d2" --json
	for mark in SECRETMARK SKIPMARK FXMARK; do
		grep -q "$mark" "$WORK/insp2.out" || fail "the unfiltered stream lacks $mark: the check proves nothing"
		if grep -q "$mark" "$WORK/insp1.out"; then
			fail "$mark reached the segments of the filtered capture"
		fi
	done
	grep -q '"table":"t2"' "$WORK/insp1.out" || fail "no row of fb.t2 in the filtered stream"
	if grep -q '"db":"fa"' "$WORK/insp1.out"; then
		fail "the filtered stream still names database fa"
	fi
	must_sluice rep1 replay --dir "$d1" --dest "$DST_URL" --consumer c1
	check_mapped fb

	log "2. capture --follow without filters, replay with them"
	must_sluice rep2 replay --dir "$d2" --dest "$DST_URL" --consumer c2 "${FILTERS[@]}" \
		--map fa=fc --map fa.t=fc.t2
	check_mapped fc
	local want got
	want=$(src_sql -N -B -e "SELECT @@gtid_binlog_pos")
	got=$(dst_sql -N -B -e "SELECT gtid FROM sluice.checkpoint WHERE consumer = 'c2'")
	[[ "$got" == "$want" ]] || fail "checkpoint of c2 at gtid '$got', want the source's last '$want'"
	dst_sql -N -B -e "SELECT * FROM fc.t2 ORDER BY id" >"$WORK/fc.before"
	must_sluice rep2b replay --dir "$d2" --dest "$DST_URL" --consumer c2 "${FILTERS[@]}" \
		--map fa=fc --map fa.t=fc.t2
	dst_sql -N -B -e "SELECT * FROM fc.t2 ORDER BY id" | cmp -s - "$WORK/fc.before" ||
		fail "a second replay changed fc.t2"

	log "3. --ops insert,ddl"
	must_sluice cap3b capture --source "$SRC_URL" --dir "$d3" --include 'fa.keep2,fa.t,fa.tcopy' \
		--map fa=fd --ops insert,ddl --exclude-columns 'fa.t%.secret'
	must_sluice insp3 inspect "$d3" --json
	if grep -q -E '"op":"(update|delete)"' "$WORK/insp3.out"; then
		fail "--ops insert,ddl at capture let an update or a delete into the segments"
	fi
	must_sluice rep3 replay --dir "$d3" --dest "$DST_URL" --consumer c3
	dst_sql -N -B -e "SELECT id, v FROM fd.keep2 ORDER BY id" | cmp -s - "$WORK/keep2.inserted" ||
		fail "fd.keep2 is not the source's fa.keep2 as inserted"
	# t: the inserted rows (no update, no delete) plus id 5, inserted after the ALTER
	dst_sql -N -B -e "SELECT id, a, b FROM fd.t WHERE id < 5 ORDER BY id" | cmp -s - "$WORK/t.inserted" ||
		fail "fd.t is not the source's fa.t as inserted"
	[[ $(dst_sql -N -B -e "SELECT CONCAT_WS(',', id, a, b, c) FROM fd.t WHERE id = 5") == "5,50,five,555" ]] ||
		fail "fd.t lacks the row inserted after the ALTER"

	log "4. refusals"
	expect_error bad_map "bad map entry 'fa=fb\.x'" replay --dir "$d2" --dest "$DST_URL" --map 'fa=fb.x'
	expect_error bad_ops "bad operation 'upsert'" replay --dir "$d2" --dest "$DST_URL" --ops insert,upsert
	must_sluice cap4b capture --source "$SRC_URL" --dir "$d4"
	expect_error key_column "column .id. of .fa.\..t. is in its primary key" \
		replay --dir "$d4" --dest "$DST_URL" --consumer c4 --exclude-columns 'fa.t.id' --map fa=fe
	expect_error snap_map "do not apply to --snapshot" \
		capture --source "$SRC_URL" --dir "$WORK/snap" --snapshot --map fa=fb
	# CREATE TABLE tcopy LIKE t names fa.tcopy (kept) and fa.t (left out)
	expect_error mixed "ddl at .*names .fa.\..tcopy. \(kept\) and .fa.\..t. \(left out" \
		replay --dir "$d4" --dest "$DST_URL" --consumer c4 --exclude 'fa.t,fx' --map fa=fe

	log "5. migrate --exclude: its capture keeps the left-out tables out of the stream too"
	local d5=$WORK/s5 mpid
	src_sql -e "CREATE DATABASE mk; CREATE TABLE mk.t (id INT PRIMARY KEY, v VARCHAR(10));
		CREATE DATABASE mx; CREATE TABLE mx.t (id INT PRIMARY KEY, v VARCHAR(10));
		INSERT INTO mk.t VALUES (1,'k1'); INSERT INTO mx.t VALUES (1,'x1')"
	start_bg mig5 migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$d5" --include 'mk,mx' \
		--exclude mx --follow --no-progress
	mpid=$BG_PID
	wait_line mig5 "$mpid" 'following' 120
	src_sql -e "INSERT INTO mk.t VALUES (2,'k2'); INSERT INTO mx.t VALUES (2,'x2-marker')"
	for _ in $(seq 1 100); do
		[[ $(dst_sql -N -B -e "SELECT COUNT(*) FROM mk.t" 2>/dev/null) == 2 ]] && break
		sleep 0.2
	done
	stop_bg "$mpid" mig5 TERM
	[[ $(dst_sql -N -B -e "SELECT GROUP_CONCAT(v ORDER BY id) FROM mk.t") == "k1,k2" ]] ||
		fail "migrate --exclude: mk.t did not arrive whole"
	[[ -z $(dst_sql -N -B -e "SHOW DATABASES LIKE 'mx'") ]] || fail "migrate --exclude mx: mx reached the destination"
	must_sluice insp5 inspect "$d5" --json
	! grep -q 'x2-marker' "$WORK/insp5.out" || fail "migrate --exclude mx: its capture wrote mx's rows into the stream"
	log "ok"
}

main "$@"
