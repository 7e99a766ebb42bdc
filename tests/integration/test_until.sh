#!/usr/bin/env bash
# Replay of history (issue 13 items 4, 6, 8): `replay --until` at a GTID, at a
# FILE:POS and at a time each leave the destination equal to a dump of the
# source taken at that point (one destination walked through the three
# points, and fresh ones), and a replay without --until goes on to the end;
# a point not in the stream, a point already passed, a bad value; `--from
# SEQ` starts a fresh destination at a segment; `--skip` leaves exactly one
# transaction out and records it (`sluice`.`skipped`, `status --dest`); a
# second replay of a consumer is refused at once (exit 2, one line); a run
# with nothing new exits 0 quickly; replays started while capture --follow
# writes apply only complete transactions.
set -euo pipefail
TEST_NAME=test_until
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# Phase N of the workload: keyed and keyless tables, inserts, updates,
# deletes, multi-statement transactions; DDL in phase 2.
phase_sql() {
	local n=$1
	cat <<SQL
USE hdb;
START TRANSACTION;
INSERT INTO t (id, v, n) SELECT $n * 1000 + seq, CONCAT('p$n-', seq), seq FROM seq_1_to_50;
UPDATE t SET n = n + $n WHERE id % 7 = $((n % 7));
COMMIT;
INSERT INTO ledger VALUES ($n, 'one'), ($n, 'two');
DELETE FROM t WHERE id % 11 = $((n % 11)) AND id < $n * 1000;
UPDATE t SET v = CONCAT(v, '+') WHERE id = $n * 1000 + 1;
SQL
	if ((n == 2)); then
		echo "ALTER TABLE t ADD COLUMN c$n INT DEFAULT $n;"
		echo "CREATE TABLE extra (id INT PRIMARY KEY, v VARCHAR(10));"
		echo "INSERT INTO extra VALUES (1, 'x'), (2, 'y');"
	fi
}

gtid_now() { src_sql -N -B -e "SELECT @@gtid_binlog_pos"; }
pos_now() { src_sql -N -B -e "SHOW MASTER STATUS" | awk '{print $1 ":" $2}'; }

# A fresh destination: no user database, no `sluice` schema.
reset_dest() {
	local db
	for db in $(user_databases 2) sluice; do
		dst_sql -e "DROP DATABASE IF EXISTS $(sql_ident "$db")"
	done
}

# The destination's hdb equals the dump taken at a point.
equal_dump() {
	local name=$1 want=$2
	dump_db 2 hdb >"$WORK/$name.got" || fail "$name: dump of the destination failed"
	if ! cmp -s "$want" "$WORK/$name.got"; then
		diff "$want" "$WORK/$name.got" | head -20 >&2
		fail "$name: the destination differs from the source's dump at that point"
	fi
}

main() {
	require_sluice
	start_servers 2
	local dir=$WORK/stream gA pB tC t0 lines ms

	mkdir -p "$dir"
	must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 301
	src_sql -e "CREATE DATABASE hdb;
		CREATE TABLE hdb.t (id BIGINT PRIMARY KEY, v VARCHAR(100), n BIGINT) ENGINE=InnoDB;
		CREATE TABLE hdb.ledger (b INT, note VARCHAR(20)) ENGINE=InnoDB;
		CREATE TABLE hdb.skipme (id INT PRIMARY KEY, note VARCHAR(20)) ENGINE=InnoDB;"

	log "phases, a point after each: GTID, FILE:POS, time"
	phase_sql 1 | src_sql
	gA=$(gtid_now)
	dump_db 1 hdb >"$WORK/A.dump"
	phase_sql 2 | src_sql
	pB=$(pos_now)
	dump_db 1 hdb >"$WORK/B.dump"
	# segment 3 starts at B (--from 3 below)
	must_sluice capB capture --source "$SRC_URL" --dir "$dir" --server-id 301
	phase_sql 3 | src_sql
	dump_db 1 hdb >"$WORK/C.dump"
	# the time point: the first second after phase 3's last commit; phase 4
	# commits in that very second (commit time = TIME: not applied)
	t0=$(date +%s)
	while (($(date +%s) == t0)); do sleep 0.01; done
	tC=$(date +%s)
	phase_sql 4 | src_sql
	[[ $(date +%s) == "$tC" ]] || log "phase 4 ran into the next second: the boundary case is weaker"
	src_sql -e "INSERT INTO hdb.skipme VALUES (1, 'bad'), (2, 'bad'), (3, 'bad')"
	gS=$(gtid_now)
	phase_sql 5 | src_sql
	must_sluice cap1 capture --source "$SRC_URL" --dir "$dir" --server-id 301
	log "points: gtid $gA, position $pB, time $tC ($(date -d "@$tC" '+%F %T') local); skip $gS"

	log "one destination walked through the points, then to the end"
	must_sluice untilA replay --dir "$dir" --dest "$DST_URL" --until "$gA"
	grep -q "until $gA reached" "$WORK/untilA.err" || fail "untilA: no 'reached' line"
	equal_dump untilA "$WORK/A.dump"
	must_sluice untilA2 replay --dir "$dir" --dest "$DST_URL" --until "$gA"
	grep -q "until $gA reached" "$WORK/untilA2.err" || fail "untilA2: no 'reached' line"
	equal_dump untilA2 "$WORK/A.dump"
	must_sluice untilB replay --dir "$dir" --dest "$DST_URL" --until "$pB" --workers 4
	equal_dump untilB "$WORK/B.dump"
	must_sluice untilC replay --dir "$dir" --dest "$DST_URL" --until "$(date -d "@$tC" '+%F %T')"
	equal_dump untilC "$WORK/C.dump"
	must_sluice rest replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "not equal to the source after a replay without --until"

	log "fresh destinations: each point alone"
	reset_dest
	must_sluice freshC replay --dir "$dir" --dest "$DST_URL" \
		--until "$(TZ=UTC date -d "@$tC" '+%F %T')Z"
	equal_dump freshC "$WORK/C.dump"
	reset_dest
	must_sluice freshB replay --dir "$dir" --dest "$DST_URL" --until "$pB"
	equal_dump freshB "$WORK/B.dump"

	log "a point not in the stream: all of it applied, exit 0 and a warning"
	must_sluice far replay --dir "$dir" --dest "$DST_URL" --until 0-1-999999
	grep -q "until 0-1-999999 not reached" "$WORK/far.err" || fail "far: no 'not reached' warning"
	compare_all || fail "far: not equal to the source"
	must_sluice pastA replay --dir "$dir" --dest "$DST_URL" --until "$gA"
	grep -q "until $gA reached by an earlier run" "$WORK/pastA.err" || fail "pastA: not 'reached by an earlier run'"
	must_sluice pastB replay --dir "$dir" --dest "$DST_URL" --until "$pB"
	grep -q "until $pB reached by an earlier run" "$WORK/pastB.err" || fail "pastB: not 'reached by an earlier run'"
	expect_error badtime 'no such time' replay --dir "$dir" --dest "$DST_URL" --until '2024-02-30 10:00:00'
	expect_error badpoint 'not a gtid' replay --dir "$dir" --dest "$DST_URL" --until 'yesterday'
	expect_error badskip 'not a gtid' replay --dir "$dir" --dest "$DST_URL" --skip '0-1-2,x'

	log "--from: a destination holding the source as at segment 3's start"
	reset_dest
	must_sluice fromB0 replay --dir "$dir" --dest "$DST_URL" --until "$pB" --consumer seed
	dst_sql -e "DROP DATABASE sluice"
	# segments 1 and 2 purged: --from 3 reads nothing before segment 3
	cp -a "$dir" "$WORK/purged"
	must_sluice purge3 purge "$WORK/purged" --keep-bytes 1 --force
	ls "$WORK/purged" | grep -q '^0*[12]\.seg$' && fail "purge left segment 1 or 2: $(ls "$WORK/purged")"
	must_sluice from3 replay --dir "$WORK/purged" --dest "$DST_URL" --from 3
	compare_all || fail "--from 3: not equal to the source"
	expect_error from3again 'has a checkpoint already' replay --dir "$WORK/purged" --dest "$DST_URL" --from 3
	must_sluice from3rest replay --dir "$WORK/purged" --dest "$DST_URL"
	log "--from 3 on the full DIR"
	reset_dest
	must_sluice fromB1 replay --dir "$dir" --dest "$DST_URL" --until "$pB" --consumer seed
	dst_sql -e "DROP DATABASE sluice"
	must_sluice from3full replay --dir "$dir" --dest "$DST_URL" --from 3
	compare_all || fail "--from 3 (full DIR): not equal to the source"
	expect_error from3again 'has a checkpoint already' replay --dir "$dir" --dest "$DST_URL" --from 3
	must_sluice from3rest replay --dir "$dir" --dest "$DST_URL"
	reset_dest
	expect_error from9 'has no segment 9' replay --dir "$dir" --dest "$DST_URL" --from 9

	log "--skip: exactly that transaction left out, and recorded"
	reset_dest
	must_sluice skip1 replay --dir "$dir" --dest "$DST_URL" --skip "$gS,0-1-999999"
	[[ $(dst_sql -N -B -e "SELECT COUNT(*) FROM hdb.skipme") == 0 ]] ||
		fail "the skipped transaction's rows arrived"
	without_skipme <(dump_db 1 hdb) >"$WORK/skip.want"
	without_skipme <(dump_db 2 hdb) >"$WORK/skip.got"
	cmp -s "$WORK/skip.want" "$WORK/skip.got" || fail "--skip: other tables differ"
	grep -q "skipped the transaction $gS" "$WORK/skip1.err" || fail "skip1: no skip line"
	at=$(sed -n "s/.*skipped the transaction $gS at segment \([0-9]*\) offset \([0-9]*\) record \([0-9]*\) .*/\1:\2:\3/p" "$WORK/skip1.err")
	[[ -n "$at" ]] || fail "skip1: the skip line names no cursor"
	grep -q "skip 0-1-999999 matched no transaction" "$WORK/skip1.err" ||
		fail "skip1: no warning for a --skip that matched nothing"
	[[ $(dst_sql -N -B -e "SELECT CONCAT(gtid,'|',row_count,'|',skipped_by,'|',given)
		FROM sluice.skipped") == "$gS|3|$(id -un)@$(hostname)|$gS" ]] ||
		fail "sluice.skipped: $(dst_sql -N -B -e 'SELECT * FROM sluice.skipped')"
	must_sluice status1 status "$dir" --dest "$DST_URL"
	grep -q "^skipped:   1 transactions" "$WORK/status1.out" || fail "status --dest: no skipped count"
	grep -q "$gS at seq .* 3 rows; by $(id -un)@" "$WORK/status1.out" || fail "status --dest: no skip line"
	must_sluice status2 status "$dir"
	grep -q '^skipped:   recorded on the destination' "$WORK/status2.out" ||
		fail "status without --dest: does not say where skips are"
	assert_no_password "$WORK"/status*.out "$WORK"/status*.err

	log "--skip SEG:OFFSET:RECORD naming a row of the transaction ($at, one record on)"
	reset_dest
	must_sluice skip2 replay --dir "$dir" --dest "$DST_URL" --skip "${at%:*}:$((${at##*:} + 1))"
	[[ $(dst_sql -N -B -e "SELECT COUNT(*) FROM hdb.skipme") == 0 ]] ||
		fail "skip2: the skipped transaction's rows arrived"
	without_skipme <(dump_db 2 hdb) >"$WORK/skip2.got"
	cmp -s "$WORK/skip.want" "$WORK/skip2.got" || fail "skip2: other tables differ"
	[[ $(dst_sql -N -B -e "SELECT CONCAT(gtid,'|',seq,':',frame_offset,':',record_index) FROM sluice.skipped") == "$gS|$at" ]] ||
		fail "skip2: sluice.skipped: $(dst_sql -N -B -e 'SELECT * FROM sluice.skipped')"

	scheduled "$dir"
}

# Item 8: scheduled batch sync.
scheduled() {
	local dir=$1 rep t0 ms i bad
	reset_dest
	must_sluice whole replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "whole: not equal to the source"
	log "a second replay of the consumer is refused at once"
	start_bg repf replay --dir "$dir" --dest "$DST_URL" --follow
	rep=$BG_PID
	sleep 2
	t0=$(date +%s%N)
	expect_error second 'consumer .default. is in use.*another replay of it is running' \
		replay --dir "$dir" --dest "$DST_URL"
	ms=$((($(date +%s%N) - t0) / 1000000))
	log "refused in $ms ms"
	((ms < 3000)) || fail "the second replay took $ms ms to refuse (want < 3 s)"
	stop_bg "$rep" repf TERM

	log "a run with nothing new"
	t0=$(date +%s%N)
	must_sluice empty replay --dir "$dir" --dest "$DST_URL"
	ms=$((($(date +%s%N) - t0) / 1000000))
	log "nothing new: exit 0 in $ms ms"
	((ms < 3000)) || fail "a run with nothing new took $ms ms (want < 3 s)"
	grep -q "applied 0 transactions" "$WORK/empty.err" || fail "empty: applied something"

	log "replays from cron while capture --follow writes: whole transactions only"
	src_sql -e "CREATE TABLE hdb.batch (b INT, i INT, PRIMARY KEY (b, i)) ENGINE=InnoDB;
		CREATE TABLE hdb.total (id INT PRIMARY KEY, n INT) ENGINE=InnoDB;
		INSERT INTO hdb.total VALUES (1, 0);"
	start_bg capf capture --source "$SRC_URL" --dir "$dir" --follow --server-id 301 --commit-interval 1
	local cap=$BG_PID
	(
		for b in $(seq 1 60); do
			src_sql -e "START TRANSACTION;
				INSERT INTO hdb.batch SELECT $b, seq FROM hdb.seq_1_to_3000;
				UPDATE hdb.total SET n = n + 3000 WHERE id = 1;
				COMMIT;"
		done
	) &
	local wl=$!
	track_pid "$wl"
	bad=0
	for i in $(seq 1 8); do
		must_sluice cron$i replay --dir "$dir" --dest "$DST_URL"
		# every batch whole, and the total in step with the rows
		bad=$(dst_sql -N -B -e "SELECT
			(SELECT COUNT(*) FROM (SELECT b FROM hdb.batch GROUP BY b HAVING COUNT(*) <> 3000) x) +
			((SELECT COUNT(*) FROM hdb.batch) <> (SELECT COALESCE(MAX(n), 0) FROM hdb.total))" 2>/dev/null || echo 0)
		((bad == 0)) || fail "cron$i: a transaction arrived in part ($bad)"
		sleep 0.3
	done
	wait "$wl"
	for i in $(seq 1 60); do
		must_sluice cronlast replay --dir "$dir" --dest "$DST_URL"
		compare_all >/dev/null 2>&1 && break
		sleep 1
	done
	compare_all || fail "cron: not equal after the workload ended"

	log "--follow --until a GTID not written yet: waits for it, stops there"
	local seq0 g
	seq0=$(gtid_now)
	seq0=${seq0##*-}
	g=0-1-$((seq0 + 3))
	start_bg repu replay --dir "$dir" --dest "$DST_URL" --follow --until "$g"
	rep=$BG_PID
	sleep 1
	kill -0 "$rep" 2>/dev/null || fail "replay --follow --until $g ended before its point was written"
	for i in 1 2 3 4 5; do
		src_sql -e "INSERT INTO hdb.skipme VALUES (100 + $i, 'follow')"
	done
	for i in $(seq 1 300); do
		kill -0 "$rep" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$rep" 2>/dev/null && fail "replay --follow --until $g did not stop at its point"
	wait "$rep" || fail "replay --follow --until $g exited $?"
	grep -q "until $g reached" "$WORK/repu.err" || fail "repu: no 'reached' line"
	[[ $(dst_sql -N -B -e "SELECT GROUP_CONCAT(id ORDER BY id) FROM hdb.skipme WHERE note = 'follow'") == "101,102,103" ]] ||
		fail "--follow --until $g: want rows 101..103 on the destination"
	stop_bg "$cap" capf TERM
}

# A dump_db output without the section of table skipme.
without_skipme() { awk '/^== /{keep = ($2 != "skipme")} keep' "$1"; }

main "$@"
