#!/usr/bin/env bash
# Loop prevention (issue 12): what sluice replay writes on a server never
# comes back out of a capture of that server.
#   A (server 1) --capture--> D1 --replay (2 workers)--> B (server 2)
#   B --capture (started before replay)--> D2
# A workload on A (inserts, updates, deletes, one DDL) while the application
# writes on B to its own tables: D2 must hold exactly B's application writes
# (sluice inspect --json), none of replay's rows, applied/checkpoint rows or
# DDL. The head of D2 equals B's SHOW MASTER STATUS within 2 s after FLUSH
# BINARY LOGS, a write to a skipped schema and a replayed transaction on an
# otherwise idle B. capture --keep-replayed keeps replay's writes. A snapshot
# (from server 3) loaded into B through B's binlog is left out too. Then both
# directions at once (D2 replayed into A too): every write appears once on
# the other side and never comes back, and both streams stop growing when
# the writes stop.
set -euo pipefail
TEST_NAME=test_loop
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

TIMEOUT=${CATCHUP_TIMEOUT:-120}

# count_json DIR PATTERN: how many times PATTERN occurs in inspect --json of DIR
count_json() {
	local n
	n=$(grep -o -- "$2" "$WORK/$(basename "$1").json" | wc -l)
	echo "$n"
}

inspect_json() {
	local dir=$1
	"$SLUICE" inspect --json "$dir" >"$WORK/$(basename "$dir").json" 2>"$WORK/inspect.err" ||
		{ cat "$WORK/inspect.err" >&2; fail "inspect --json $dir failed"; }
}

# wait_json DIR PATTERN COUNT: until inspect --json of DIR holds PATTERN COUNT times
wait_json() {
	local deadline=$((SECONDS + TIMEOUT))
	while ((SECONDS < deadline)); do
		inspect_json "$1"
		(($(count_json "$1" "$2") >= $3)) && return 0
		sleep 0.3
	done
	fail "$(basename "$1") holds $(count_json "$1" "$2") of $2 after ${TIMEOUT}s, want $3"
}

# table_sum N TABLE: row count and a checksum of TABLE on server N
table_sum() {
	srv_sql "$1" -N -B -e "SELECT COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS('|', id, v, n))), 0) FROM $2"
}

# wait_table TABLE: until TABLE is the same on A and B
wait_table() {
	local deadline=$((SECONDS + TIMEOUT))
	while ((SECONDS < deadline)); do
		[[ "$(table_sum 1 "$1")" == "$(table_sum 2 "$1")" ]] && return 0
		sleep 0.3
	done
	fail "$1 differs between A ($(table_sum 1 "$1")) and B ($(table_sum 2 "$1")) after ${TIMEOUT}s"
}

# wait_rows N TABLE COUNT: until TABLE on server N holds COUNT rows
wait_rows() {
	local deadline=$((SECONDS + TIMEOUT))
	while ((SECONDS < deadline)); do
		[[ "$(srv_sql "$1" -N -B -e "SELECT COUNT(*) FROM $2")" == "$3" ]] && return 0
		sleep 0.3
	done
	fail "$2 on server $1 holds $(srv_sql "$1" -N -B -e "SELECT COUNT(*) FROM $2") rows after ${TIMEOUT}s, want $3"
}

head_of() {
	"$SLUICE" status "$1" 2>/dev/null | awk '/^head:/ {print $2}'
}

master_of() {
	srv_sql "$1" -N -B -e "SHOW MASTER STATUS" | awk '{print $1 ":" $2}'
}

# head_reaches N DIR WHAT: DIR's head equals server N's SHOW MASTER STATUS within 2 s
head_reaches() {
	local n=$1 dir=$2 what=$3 deadline h m
	deadline=$(($(date +%s%N) / 1000000 + 2000))
	while (($(date +%s%N) / 1000000 < deadline)); do
		m=$(master_of "$n")
		h=$(head_of "$dir")
		[[ "$h" == "$m" ]] && { log "head at $h after $what"; return 0; }
		sleep 0.1
	done
	fail "after $what the head of $(basename "$dir") is $h, not the binlog end $m, after 2 s"
}

# stream_size DIR: its head and its transactions (a heartbeat that moves the
# head counts; the one capture writes at the head every 2 s on an idle
# source adds bytes, never a transaction or a new head)
stream_size() {
	"$SLUICE" status "$1" 2>/dev/null |
		awk '/^head:/ {h = $2} /^segments:/ {s = $(NF - 1) " transactions"} END {print h "|" s}' |
		tr ' ' '_'
}

workload_a() {
	local n=$1
	src_sql -e "USE ldb;
		INSERT INTO t (id, v, n) SELECT $n * 1000 + seq, 'a$n', seq FROM seq_1_to_40;
		UPDATE t SET n = n + 1 WHERE id BETWEEN $n * 1000 + 1 AND $n * 1000 + 10;
		DELETE FROM t WHERE id BETWEEN $n * 1000 + 31 AND $n * 1000 + 35;
		INSERT INTO nopk_a VALUES ($n, 'a');"
}

workload_b() {
	local n=$1
	dst_sql -e "USE ldb;
		INSERT INTO b_app (id, v, n) SELECT $n * 1000 + seq, 'b$n', seq FROM seq_1_to_6;
		UPDATE b_app SET n = n + 10 WHERE id = $n * 1000 + 1;
		DELETE FROM b_app WHERE id = $n * 1000 + 6;
		INSERT INTO nopk_b VALUES ($n, 'b');"
}

main() {
	require_sluice
	start_servers 3
	local d1=$WORK/d1 d2=$WORK/d2 d3=$WORK/d3 d4=$WORK/d4 capa capb repb repa n

	log "the same application tables on A and B, before any capture"
	for s in 1 2; do
		srv_sql "$s" -e "CREATE DATABASE ldb;
			CREATE TABLE ldb.t (id INT PRIMARY KEY, v VARCHAR(20), n INT) ENGINE=InnoDB;
			CREATE TABLE ldb.b_app (id INT PRIMARY KEY, v VARCHAR(20), n INT) ENGINE=InnoDB;
			CREATE TABLE ldb.nopk_a (k INT, v VARCHAR(5)) ENGINE=InnoDB;
			CREATE TABLE ldb.nopk_b (k INT, v VARCHAR(5)) ENGINE=InnoDB;"
	done
	mkdir -p "$d1" "$d2" "$d3"
	must_sluice cap_a0 capture --source "$SRC_URL" --dir "$d1" --server-id 301
	must_sluice cap_b0 capture --source "$DST_URL" --dir "$d2" --server-id 302
	must_sluice cap_k0 capture --source "$DST_URL" --dir "$d3" --server-id 303

	log "capture A -> D1, capture B -> D2 (before replay), replay D1 -> B with 2 workers"
	start_bg capa capture --source "$SRC_URL" --dir "$d1" --follow --server-id 301
	capa=$BG_PID
	start_bg capb capture --source "$DST_URL" --dir "$d2" --follow --server-id 302
	capb=$BG_PID
	start_bg repb replay --dir "$d1" --dest "$DST_URL" --follow --workers 2
	repb=$BG_PID

	for n in 1 2 3 4; do
		workload_a "$n"
		workload_b "$n"
		if ((n == 2)); then
			# one DDL the server keeps as written, and some it rewrites
			# in its binlog (replay's mark is lost there)
			src_sql -e "ALTER TABLE ldb.t ADD COLUMN w INT DEFAULT 7;
				CREATE TABLE ldb.tmp1 (id INT PRIMARY KEY); DROP TABLE ldb.tmp1;
				CREATE VIEW ldb.v1 AS SELECT id, v FROM ldb.t"
		fi
	done
	wait_table ldb.t
	# each statement of a workload is its own transaction: nopk_a's last
	# insert commits after t's last change, so t matching says nothing of it
	wait_rows 2 ldb.nopk_a 4
	srv_sql 2 -N -B -e "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='ldb'
		AND TABLE_NAME='t' AND COLUMN_NAME='w'" | grep -qx 1 || fail "the DDL did not reach B"

	log "D2 holds B's application writes only"
	wait_json "$d2" '"op":"insert","db":"ldb","table":"b_app"' 24
	sleep 1
	inspect_json "$d2"
	local ins upd del other ddl
	ins=$(count_json "$d2" '"op":"insert","db":"ldb","table":"b_app"')
	upd=$(count_json "$d2" '"op":"update","db":"ldb","table":"b_app"')
	del=$(count_json "$d2" '"op":"delete","db":"ldb","table":"b_app"')
	[[ "$ins/$upd/$del" == "24/4/4" ]] || fail "D2 holds $ins/$upd/$del inserts/updates/deletes of b_app, want 24/4/4"
	[[ $(count_json "$d2" '"db":"ldb","table":"nopk_b"') == 4 ]] || fail "D2: nopk_b rows"
	other=$(grep -o '"op":"[a-z]*","db":"[^"]*","table":"[^"]*"' "$WORK/d2.json" |
		grep -v '"table":"b_app"\|"table":"nopk_b"' | sort | uniq -c || true)
	[[ -z "$other" ]] || fail "D2 holds rows replay wrote on B: $other
($(grep -c 'older than this capture' "$WORK/capb.err" || true) transactions warned of as an older replay's)"
	! grep -q 'older than this capture' "$WORK/capb.err" || fail "capture warned of an older replay"
	ddl=$(count_json "$d2" '"type":"ddl"')
	[[ "$ddl" == 0 ]] || fail "D2 holds $ddl DDL records (replay's), want none: $(grep '"type":"ddl"' "$WORK/d2.json" | head -3)"
	"$SLUICE" status "$d2" >"$WORK/status_d2.out"
	grep -q '^replayed: *[1-9][0-9]* transactions and [1-9][0-9]* DDL' "$WORK/status_d2.out" ||
		fail "status of D2 does not count replay's writes: $(grep replayed "$WORK/status_d2.out")"

	log "head of D2 at B's binlog end: after replay, FLUSH BINARY LOGS, a skipped schema, a replayed transaction"
	head_reaches 2 "$d2" "replay's writes"
	dst_sql -e "FLUSH BINARY LOGS"
	head_reaches 2 "$d2" "FLUSH BINARY LOGS"
	dst_sql -e "USE mysql; CREATE TABLE loop_probe (a INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO loop_probe VALUES (1)"
	head_reaches 2 "$d2" "a write to a skipped schema"
	src_sql -e "INSERT INTO ldb.t (id, v, n) VALUES (99999, 'probe', 1)"
	wait_table ldb.t
	head_reaches 2 "$d2" "a replayed transaction"

	log "capture --keep-replayed keeps them"
	must_sluice cap_k1 capture --source "$DST_URL" --dir "$d3" --server-id 303 --keep-replayed
	inspect_json "$d3"
	# 4 x 40 inserts and the probe, 4 x 5 of them deleted again: replay's
	# batches coalesce an insert and a delete of one key, so B's binlog
	# holds between the 141 rows that remain and all 161
	local kept
	kept=$(count_json "$d3" '"op":"insert","db":"ldb","table":"t"')
	((kept >= 141 && kept <= 161)) ||
		fail "D3 (--keep-replayed) holds $kept inserts of t, want 141 to 161"
	grep -q '"type":"ddl".*sluice:replay.*ALTER TABLE' "$WORK/d3.json" || fail "D3 lacks replay's ALTER TABLE"
	grep -q 'written by sluice replay left out' "$WORK/cap_k1.err" || fail "no summary of what was left out"
	grep -q '0 transactions and 0 DDL written by sluice replay left out' "$WORK/cap_k1.err" ||
		fail "--keep-replayed left something out: $(grep 'left out' "$WORK/cap_k1.err")"

	log "a snapshot loaded into B through its binlog (an account that may not skip it) is left out too"
	srv_sql 3 -e "CREATE DATABASE sdb; USE sdb; CREATE TABLE sdb.s (id INT PRIMARY KEY, v VARCHAR(20), n INT) ENGINE=InnoDB;
		INSERT INTO sdb.s SELECT seq, 's', seq FROM seq_1_to_3000"
	mkdir -p "$d4"
	must_sluice snap4 capture --snapshot --source "$DST2_URL" --dir "$d4" --server-id 304 --include 'sdb.*'
	dst_sql -e "CREATE USER 'lim'@'127.0.0.1' IDENTIFIED BY $(sql_str "$SLUICE_DEST_PASSWORD");
		GRANT ALL ON sdb.* TO 'lim'@'127.0.0.1'; GRANT ALL ON sluice.* TO 'lim'@'127.0.0.1'"
	must_sluice rep4 replay --dir "$d4" --dest "${DST_URL/sluice@/lim@}" --consumer snap --workers 2
	grep -q "cannot turn the binary log off" "$WORK/rep4.err" || fail "the snapshot load did not go to B's binlog"
	[[ "$(srv_sql 2 -N -B -e "SELECT COUNT(*) FROM sdb.s")" == 3000 ]] || fail "sdb.s not loaded on B"
	(($(dst_sql -N -B -e "SHOW BINLOG EVENTS IN '$(master_of 2 | cut -d: -f1)'" | grep -c 'Table_map.*(sdb\.' || true) > 0)) ||
		fail "the load is not in B's binlog"
	head_reaches 2 "$d2" "the snapshot load"
	inspect_json "$d2"
	[[ $(count_json "$d2" '"db":"sdb"') == 0 ]] || fail "D2 holds $(count_json "$d2" '"db":"sdb"') rows or DDL of the snapshot load"
	[[ $(count_json "$d2" '"type":"ddl"') == 0 ]] || fail "D2 holds DDL of the snapshot load: $(grep '"type":"ddl"' "$WORK/d2.json" | head -3)"
	# A never had it: B forgets it without its binlog
	dst_sql -e "SET SESSION sql_log_bin=0; DROP DATABASE sdb; DELETE FROM sluice.checkpoint WHERE consumer='snap'"

	log "both directions at once: replay D2 -> A too, writes on both sides"
	start_bg repa replay --dir "$d2" --dest "$SRC_URL" --follow --workers 2
	repa=$BG_PID
	for n in 5 6 7 8; do
		workload_a "$n"
		workload_b "$n"
		sleep 0.2
	done
	wait_table ldb.t
	wait_table ldb.b_app
	wait_equal "$TIMEOUT" 1 2 || fail "A and B differ"
	for s in 1 2; do
		[[ "$(srv_sql "$s" -N -B -e "SELECT COUNT(*) FROM ldb.nopk_a")" == 8 ]] ||
			fail "server $s has $(srv_sql "$s" -N -B -e "SELECT COUNT(*) FROM ldb.nopk_a") rows in nopk_a, want 8 (a write came back)"
		[[ "$(srv_sql "$s" -N -B -e "SELECT COUNT(*) FROM ldb.nopk_b")" == 8 ]] ||
			fail "server $s has $(srv_sql "$s" -N -B -e "SELECT COUNT(*) FROM ldb.nopk_b") rows in nopk_b, want 8 (a write came back)"
	done

	log "both streams stop growing once the writes stop"
	local s1 s2 t1 t2 quiet=0 deadline=$((SECONDS + 30))
	while ((SECONDS < deadline)); do
		s1=$(stream_size "$d1")
		s2=$(stream_size "$d2")
		sleep 4
		t1=$(stream_size "$d1")
		t2=$(stream_size "$d2")
		if [[ "$s1/$s2" == "$t1/$t2" ]]; then
			quiet=1
			break
		fi
		log "still growing: D1 $s1 -> $t1, D2 $s2 -> $t2"
	done
	((quiet)) || fail "the streams keep growing with no writes: D1 $s1 -> $t1, D2 $s2 -> $t2"
	head_reaches 1 "$d1" "the writes stopped (A)"
	head_reaches 2 "$d2" "the writes stopped (B)"
	# each replay has passed the heartbeat-only units at the end of its stream
	local d lag
	for d in "$d1" "$d2"; do
		lag=$("$SLUICE" status "$d" | grep -o 'lag [0-9]* transactions' || true)
		[[ "$lag" == "lag 0 transactions" ]] || fail "consumer of $(basename "$d"): '$lag', want lag 0 transactions"
	done

	inspect_json "$d1"
	other=$(grep -o '"op":"[a-z]*","db":"[^"]*","table":"[^"]*"' "$WORK/d1.json" |
		grep -v '"table":"t"\|"table":"nopk_a"' | sort | uniq -c || true)
	[[ -z "$other" ]] || fail "D1 holds rows replay wrote on A: $other"
	inspect_json "$d2"
	other=$(grep -o '"op":"[a-z]*","db":"[^"]*","table":"[^"]*"' "$WORK/d2.json" |
		grep -v '"table":"b_app"\|"table":"nopk_b"' | sort | uniq -c || true)
	[[ -z "$other" ]] || fail "D2 holds rows replay wrote on B: $other"
	[[ $(count_json "$d2" '"op":"insert","db":"ldb","table":"b_app"') == 48 ]] || fail "D2: b_app inserts"

	stop_bg "$repa" repa TERM
	stop_bg "$repb" repb TERM
	stop_bg "$capa" capa TERM
	stop_bg "$capb" capb TERM
	grep -q 'transactions and [0-9]* DDL written by sluice replay left out' "$WORK/capb.err" ||
		fail "capture's summary does not count replay's writes"
	assert_no_password "$WORK"/*.out "$WORK"/*.err
	log "PASS"
}

main "$@"
