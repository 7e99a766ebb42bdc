#!/usr/bin/env bash
# Replay's batches (--batch-txns/--batch-bytes) and plan (rep_plan.c) are
# exact (issue 13, Tests): one captured stream, replayed into a fresh
# destination with --batch-txns 1 and the default batches, with --workers 1
# and 8, must give every table equal row by row. The stream (fixed seed):
#   - hot rows: a few keys inserted, updated several times, deleted and
#     inserted again, inside one transaction and across the transactions of
#     a batch; updates whose net change is nothing (v+1 then v-1), deletes
#     and re-inserts of the same row; DATETIME(3), DECIMAL, TIMESTAMP(6)
#     (written from a +05:30 session) and composite (INT, DATE) keys;
#   - a secondary UNIQUE key whose values rows swap through a temporary value
#     (in one transaction and across three);
#   - primary-key updates (id = id + 1000 and back, swaps through a free id),
#     mixed with planned value updates of the same keys;
#   - parent/child with ON DELETE CASCADE, a table without a key, a VARCHAR
#     primary key in a case-insensitive collation ('a' inserted, 'A' deleted);
#   - DDL mid-stream: ALTER ADD COLUMN, then ALTER ADD UNIQUE on a plain
#     table with planned changes before and after each;
#   - a 200,000-row transaction (INSERT ... SELECT) and an UPDATE of all of
#     it: replay's peak RSS stays under 300 MB (/usr/bin/time -v);
#   - a keyless ledger that every source transaction inserts its own number
#     into: a duplicate or a loss shows in it. It is 8 tables (transaction n
#     writes ledger<n % 8>) behind a view bt.ledger: a keyless table orders
#     every transaction that writes it after the one before, and one table
#     would make --workers 8 apply the whole stream in order.
# Then replay is killed with SIGKILL at random moments (BT_KILLS trials,
# default 5) and restarted: equal, the ledger without a duplicate. Last, a
# destination row removed by hand: replay stops with the message of
# --batch-txns 1 naming exactly the transaction whose UPDATE found no row,
# every transaction before it committed (the ledger's max), and after the
# row is put back, a rerun makes the sides equal.
set -euo pipefail
TEST_NAME=test_batch
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

require_sluice
[[ -x /usr/bin/time ]] || _require "/usr/bin/time not installed (GNU time, for the peak RSS)"
start_servers
dir=$WORK/stream
must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 601

src_sql -e "CREATE DATABASE bt;
 CREATE TABLE bt.hot (id INT PRIMARY KEY, v INT, s VARCHAR(64)) ENGINE=InnoDB;
 CREATE TABLE bt.tk (t DATETIME(3) PRIMARY KEY, v INT) ENGINE=InnoDB;
 CREATE TABLE bt.dk (d DECIMAL(10,3) PRIMARY KEY, v INT) ENGINE=InnoDB;
 CREATE TABLE bt.tsk (ts TIMESTAMP(6) NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB;
 CREATE TABLE bt.ck (a INT, d DATE, v INT, PRIMARY KEY (a, d)) ENGINE=InnoDB;
 CREATE TABLE bt.uk (id INT PRIMARY KEY, u INT NULL, v INT, UNIQUE KEY (u)) ENGINE=InnoDB;
 CREATE TABLE bt.pk (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
 CREATE TABLE bt.par (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
 CREATE TABLE bt.chi (id INT PRIMARY KEY, pid INT, v INT,
   FOREIGN KEY (pid) REFERENCES bt.par (id) ON DELETE CASCADE) ENGINE=InnoDB;
 CREATE TABLE bt.nokey (a INT, b INT) ENGINE=InnoDB;
 CREATE TABLE bt.ci (k VARCHAR(8) PRIMARY KEY, v INT)
   ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
 CREATE TABLE bt.alt (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
 CREATE TABLE bt.big (id INT PRIMARY KEY, v INT, pad CHAR(40)) ENGINE=InnoDB;
$(for i in 0 1 2 3 4 5 6 7; do echo "CREATE TABLE bt.ledger$i (n INT NOT NULL, at VARCHAR(8)) ENGINE=InnoDB;"; done)
 CREATE VIEW bt.ledger AS $(for i in 0 1 2 3 4 5 6 7; do ((i)) && printf ' UNION ALL '; printf 'SELECT * FROM bt.ledger%s' $i; done);
 INSERT INTO bt.uk SELECT seq, seq * 10, 0 FROM bt.seq_1_to_6;
 INSERT INTO bt.pk SELECT seq, 0 FROM bt.seq_1_to_20;"

# ---- the workload: bash's RANDOM seeded; no $(...) (a subshell reseeds) ----
LEDGER=0	# the last ledger number written
ALT=0		# 0: alt (id, v); 1: column w added; 2: w unique
CIK=(a A b B c 'C ')
begin() {
	LEDGER=$((LEDGER + 1))
	echo "BEGIN; INSERT INTO ledger$((LEDGER % 8)) VALUES ($LEDGER, '$1');" >&3
}
commit() { echo "COMMIT;" >&3; }
change() {
	local k=$((1 + RANDOM % 6)) k2=$((1 + RANDOM % 6)) r=$((RANDOM % 1000)) i=$((1 + RANDOM % 20))
	case $((RANDOM % 17)) in
	0) echo "DELETE FROM hot WHERE id=$k; INSERT INTO hot VALUES ($k,$r,'a');
		UPDATE hot SET v=v+1 WHERE id=$k; UPDATE hot SET s=CONCAT(s,'b') WHERE id=$k;
		UPDATE hot SET v=v*2 WHERE id=$k; DELETE FROM hot WHERE id=$k;
		INSERT INTO hot VALUES ($k,$r,'c');" ;;
	1) echo "UPDATE hot SET v=v+1, s=CONCAT(LEFT(s,40),'u') WHERE id=$k;" ;;
	2) echo "DELETE FROM hot WHERE id=$k;" ;;
	3) echo "INSERT IGNORE INTO hot VALUES ($k,$r,'i');" ;;
	4) echo "UPDATE hot SET v=v+1 WHERE id=$k; UPDATE hot SET v=v-1 WHERE id=$k;" ;;
	5) echo "DELETE FROM hot WHERE id=$k; INSERT INTO hot VALUES ($k,5,'same');" ;;
	6) echo "SET @a=(SELECT u FROM uk WHERE id=$k), @b=(SELECT u FROM uk WHERE id=$k2);
		UPDATE uk SET u=NULL WHERE id=$k; UPDATE uk SET u=@a WHERE id=$k2;
		UPDATE uk SET u=@b, v=v+1 WHERE id=$k;" ;;
	7) echo "UPDATE pk SET v=v+1 WHERE id=$i; UPDATE IGNORE pk SET id=id+1000 WHERE id=$i;
		UPDATE pk SET v=v+1 WHERE id=$i+1000;" ;;
	8) echo "UPDATE IGNORE pk SET id=id-1000 WHERE id=$i+1000; UPDATE pk SET v=v+2 WHERE id=$i;" ;;
	9) echo "UPDATE pk SET v=v+1 WHERE id=$i; UPDATE IGNORE pk SET id=999 WHERE id=$i;
		UPDATE IGNORE pk SET id=$i WHERE id=$k2; UPDATE IGNORE pk SET id=$k2 WHERE id=999;
		UPDATE pk SET v=v+1 WHERE id IN ($i,$k2);" ;;
	10) echo "INSERT IGNORE INTO par VALUES ($k,$r); INSERT IGNORE INTO chi VALUES ($i,$k,0),($((i + 20)),$k,1);
		UPDATE chi SET v=v+1 WHERE pid=$k2; DELETE FROM par WHERE id=$k2;" ;;
	11) echo "INSERT INTO nokey VALUES ($((k % 3)),$r),($((k % 3)),$r); DELETE FROM nokey WHERE a=$((k2 % 3)) LIMIT 1;
		UPDATE nokey SET b=b+1 WHERE a=$((k % 3)) LIMIT 1;" ;;
	12) local c=${CIK[RANDOM % 6]} c2=${CIK[RANDOM % 6]}
		echo "INSERT IGNORE INTO ci VALUES ('$c',$r); DELETE FROM ci WHERE k='$c2';
		INSERT IGNORE INTO ci VALUES ('$c2',$r); UPDATE IGNORE ci SET k='$c' WHERE k='$c2';
		UPDATE ci SET v=v+1 WHERE k='$c';" ;;
	13) echo "INSERT IGNORE INTO tk VALUES ('2026-01-0$k 00:00:00.5$k', $r);
		UPDATE tk SET v=v+1 WHERE t='2026-01-0$k2 00:00:00.5$k2';
		DELETE FROM tk WHERE t='2026-01-0$k2 00:00:00.5$k2' AND v % 3 = 0;
		INSERT IGNORE INTO dk VALUES ($k.25, $r); UPDATE dk SET v=v+1 WHERE d=$k2.250;
		DELETE FROM dk WHERE d=$k2.25 AND v % 2 = 0;
		INSERT IGNORE INTO tsk VALUES (FROM_UNIXTIME(1700000000.25 + $k), $r);
		UPDATE tsk SET v=v+1 WHERE ts=FROM_UNIXTIME(1700000000.25 + $k2);
		DELETE FROM tsk WHERE ts=FROM_UNIXTIME(1700000000.25 + $k2) AND v % 3 = 0;
		INSERT INTO ck VALUES ($((k % 2)), '2026-02-0$k', $r) ON DUPLICATE KEY UPDATE v=v+1;
		UPDATE ck SET v=v+1 WHERE a=$((k2 % 2)); DELETE FROM ck WHERE d='2026-02-0$k2' AND v % 5 = 0;" ;;
	*) case $ALT in
		0) echo "INSERT IGNORE INTO alt (id, v) VALUES ($k,$r); UPDATE alt SET v=v+1 WHERE id=$k2;
			DELETE FROM alt WHERE id=$k2 AND v % 4 = 0;" ;;
		1) echo "INSERT IGNORE INTO alt (id, v, w) VALUES ($k,$r,$r); UPDATE alt SET v=v+1, w=w+1 WHERE id=$k2;
			DELETE FROM alt WHERE id=$k2 AND v % 4 = 0;" ;;
		*) echo "INSERT IGNORE INTO alt (id, v, w) VALUES ($k,$r,$((k + 100)));
			SET @a=(SELECT w FROM alt WHERE id=$k), @b=(SELECT w FROM alt WHERE id=$k2);
			UPDATE alt SET w=-1 WHERE id=$k; UPDATE alt SET w=@a, v=v+1 WHERE id=$k2;
			UPDATE alt SET w=@b WHERE id=$k;" ;;
		esac ;;
	esac
}
workload() {	# workload FILE TXNS
	local t n
	RANDOM=1313
	exec 3>"$1"
	# a session zone off UTC: TIMESTAMP keys are planned by their text
	echo "USE bt; SET time_zone='+05:30';" >&3
	for ((t = 1; t <= $2; t++)); do
		case $t in
		200)	# 200,000 rows in one transaction, then all of them updated
			begin big
			echo "INSERT INTO big SELECT seq, seq, 'x' FROM seq_1_to_200000;" >&3
			commit
			begin big
			echo "UPDATE hot SET v=v+7 WHERE id=1; UPDATE big SET v=v+1, pad='y';" >&3
			commit ;;
		350)	# a UNIQUE swap through NULL across three transactions of one batch
			begin swap
			echo "SET @a=(SELECT u FROM uk WHERE id=1), @b=(SELECT u FROM uk WHERE id=2);
				UPDATE uk SET u=NULL WHERE id=1;" >&3
			commit
			begin swap; echo "UPDATE uk SET u=@a, v=v+1 WHERE id=2;" >&3; commit
			begin swap; echo "UPDATE uk SET u=@b WHERE id=1;" >&3; commit ;;
		450)	# DDL after and before planned changes of the same table (and a batch)
			begin ddl
			echo "INSERT IGNORE INTO alt (id, v) VALUES (50, 1); UPDATE alt SET v=v+1 WHERE id=50;" >&3
			commit
			echo "ALTER TABLE alt ADD COLUMN w INT NOT NULL DEFAULT 7;" >&3
			ALT=1
			begin ddl
			echo "UPDATE alt SET v=v+1 WHERE id=50; UPDATE alt SET w=w+1 WHERE id=50;" >&3
			commit ;;
		650)	# alt gets a second unique key: no longer planned by key alone
			begin ddl; echo "UPDATE alt SET w=id+100;" >&3; commit
			echo "ALTER TABLE alt ADD UNIQUE KEY (w);" >&3
			ALT=2 ;;
		esac
		begin w
		for ((n = RANDOM % 4; n >= 0; n--)); do
			change >&3
		done
		commit
	done
	exec 3>&-
}
workload "$WORK/w1.sql" 850
src_sql --force <"$WORK/w1.sql" >/dev/null 2>"$WORK/w1.err" || true
[[ $(src_sql -N -e "SELECT COUNT(*) FROM bt.big WHERE v = id + 1") == 200000 ]] ||
	fail "the workload's 200,000-row transactions did not run: $(head -3 "$WORK/w1.err")"
[[ $(src_sql -N -e "SELECT COUNT(*) FROM information_schema.statistics
	WHERE table_schema='bt' AND table_name='alt' AND column_name='w'") == 1 ]] ||
	fail "the workload's DDL did not run: $(head -3 "$WORK/w1.err")"
for t in hot tk dk tsk ck uk pk par chi nokey ci alt; do
	[[ $(src_sql -N -e "SELECT COUNT(*) > 0 FROM bt.$t") == 1 ]] ||
		fail "the workload left bt.$t empty: $(head -3 "$WORK/w1.err")"
done
# the swaps happened (after ADD UNIQUE, w starts as id + 100; u as id * 10)
[[ $(src_sql -N -e "SELECT (SELECT COUNT(*) FROM bt.alt WHERE w <> id + 100) > 0 AND
	(SELECT COUNT(*) FROM bt.uk WHERE u <> id * 10) > 0") == 1 ]] ||
	fail "the workload swapped no unique values: $(head -3 "$WORK/w1.err")"
must_sluice cap1 capture --source "$SRC_URL" --dir "$dir" --server-id 601 --segment-size 1M
NTXN=$LEDGER
log "stream: $NTXN source transactions with ledger rows"

reset_dest() {
	dst_sql -e "DROP DATABASE IF EXISTS bt; DROP DATABASE IF EXISTS sluice"
}
# ledger_upto BAD WHAT: 1..BAD-1 once each, not BAD, nothing twice (later
# ones may be in: parallel workers commit independent transactions early)
ledger_upto() {
	local got
	got=$(dst_sql -N -B -e "SELECT CONCAT(SUM(n < $1), ' ', COUNT(DISTINCT IF(n < $1, n, NULL)), ' ',
		SUM(n = $1), ' ', COUNT(*) - COUNT(DISTINCT n)) FROM bt.ledger")
	[[ "$got" == "$(($1 - 1)) $(($1 - 1)) 0 0" ]] ||
		fail "$2: ledger (below $1, distinct below, $1 itself, twice) = $got, want $(($1 - 1)) $(($1 - 1)) 0 0"
}
# ledger_ok WANT: the destination's ledger holds 1..WANT exactly once each
ledger_ok() {
	local got
	got=$(dst_sql -N -B -e "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT n), ' ', IFNULL(MIN(n),0), ' ',
		IFNULL(MAX(n),0)) FROM bt.ledger")
	[[ "$got" == "$1 $1 1 $1" || ("$1" == 0 && "$got" == "0 0 0 0") ]] ||
		fail "$2: ledger (count, distinct, min, max) = $got, want $1 once each from 1"
}
MAXRSS=0
# timed NAME ARGS...: must_sluice under /usr/bin/time -v; peak RSS in MAXRSS (kB)
timed() {
	local name=$1 rc=0 kb
	shift
	timeout --kill-after=10 600 /usr/bin/time -v -o "$WORK/$name.time" "$SLUICE" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null || rc=$?
	if ((rc != 0)); then
		tail -n 20 "$WORK/$name.err" >&2
		fail "$name: sluice exited $rc"
	fi
	kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$name.time")
	((kb > MAXRSS)) && MAXRSS=$kb
	((kb < 300 * 1024)) || fail "$name: replay's peak RSS $((kb / 1024)) MB, want < 300 MB"
}

# ---- 1. every combination of batches and workers: equal ----
# BT_CFGS picks combinations ("BATCH WORKERS [BYTES],...", batch 0: the
# default); the last cuts batches at odd places (7 transactions or 64 KB)
IFS=, read -r -a cfgs <<<"${BT_CFGS:-1 1,1 8,0 1,0 8,7 8 64K}"
FULL_SECS=6
for cfg in "${cfgs[@]}"; do
	bb=
	read -r bt w bb <<<"$cfg"
	reset_dest
	args=(replay --dir "$dir" --dest "$DST_URL" --workers "$w")
	((bt)) && args+=(--batch-txns "$bt")
	[[ -n "$bb" ]] && args+=(--batch-bytes "$bb")
	t0=$SECONDS
	timed "rep-$bt-$w" "${args[@]}"
	took=$((SECONDS - t0))
	compare_all || fail "batch-txns ${bt/0/default}, workers $w: source and destination differ"
	# a batch the plan got wrong fails and is applied again one by one
	# (rep_run()): equal, but the plan's fault hidden; none may fail here
	if grep -q "a batch failed" "$WORK/rep-$bt-$w.err"; then
		fail "batch-txns ${bt/0/default}, workers $w: $(grep -m1 "a batch failed" "$WORK/rep-$bt-$w.err" | cut -c1-400)"
	fi
	ledger_ok "$NTXN" "batch-txns ${bt/0/default}, workers $w"
	cp0=$(dst_sql -N -e "SELECT seq, frame_offset, record_index FROM sluice.checkpoint")
	must_sluice "again-$bt-$w" "${args[@]}"
	grep -q "applied 0 transactions" "$WORK/again-$bt-$w.err" ||
		fail "a second replay applied something: $(tail -1 "$WORK/again-$bt-$w.err")"
	[[ "$(dst_sql -N -e "SELECT seq, frame_offset, record_index FROM sluice.checkpoint")" == "$cp0" ]] ||
		fail "a second replay moved the checkpoint"
	log "batch-txns ${bt/0/default}, workers $w: equal in $took s"
	if ((bt == 0 && w == 8)); then FULL_SECS=$took; fi
done
log "peak RSS of replay: $((MAXRSS / 1024)) MB"

# ---- 2. kill -9 at random moments, restart: equal, nothing twice ----
quiet_dest() {
	local n
	for _ in $(seq 1 100); do
		n=$(dst_sql -N -e "SELECT COUNT(*) FROM information_schema.processlist
			WHERE user='sluice' AND command='Query'")
		[[ "$n" == 0 ]] && return 0
		sleep 0.1
	done
	fail "sessions of a killed replay still running after 10 s"
}
reset_dest
RANDOM=$$	# random moments, logged
# Kill at random points of the stream: when the destination's ledger reaches
# a random target, then after a random 0-0.1 s more (the first right before
# the 200,000-row transactions, after 0-1.5 s more: inside them); a kill that
# comes after replay ended by itself is logged as such.
ledger_count() { dst_sql -N -e "SELECT COUNT(*) FROM bt.ledger" 2>/dev/null || echo 0; }
target=0
live=0
for ((k = 1; k <= ${BT_KILLS:-5}; k++)); do
	w=$((k % 2 ? 8 : 1))
	if ((k == 1)); then
		target=195 ms=$((RANDOM % 1500))
	else
		target=$((target + 1 + RANDOM % ((NTXN - target) / 3 + 1))) ms=$((RANDOM % 100))
	fi
	"$SLUICE" replay --dir "$dir" --dest "$DST_URL" --workers "$w" >>"$WORK/killed.log" 2>&1 &
	pid=$!
	track_pid "$pid"
	while kill -0 "$pid" 2>/dev/null && (($(ledger_count) < target)); do sleep 0.05; done
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	how=killed
	if kill -9 "$pid" 2>/dev/null; then live=$((live + 1)); else how="ended before the kill"; fi
	wait "$pid" 2>/dev/null || true
	quiet_dest
	dup=$(dst_sql -N -e "SELECT COUNT(*) - COUNT(DISTINCT n) FROM bt.ledger" 2>/dev/null || echo 0)
	[[ "$dup" == 0 ]] || fail "kill $k: $dup ledger rows applied twice"
	log "kill $k (workers $w) at ledger $target + $ms ms: $how, $(ledger_count) of $NTXN transactions in the ledger"
done
((live > 0)) || fail "no kill came while replay ran"
must_sluice rep-after-kills replay --dir "$dir" --dest "$DST_URL" --workers 8
compare_all || fail "after ${BT_KILLS:-5} kills and restarts: source and destination differ"
ledger_ok "$NTXN" "after ${BT_KILLS:-5} kills"
log "kill -9 and restart: equal, nothing twice"

# ---- 3. a failing batch stops at exactly its transaction ----
src_sql -e "INSERT INTO bt.hot VALUES (77, 0, 'victim')"
must_sluice cap2 capture --source "$SRC_URL" --dir "$dir" --server-id 601
must_sluice rep-victim replay --dir "$dir" --dest "$DST_URL"
dst_sql -e "DELETE FROM bt.hot WHERE id = 77"
FIRST=$((LEDGER + 1))
BAD=$((LEDGER + 137))
exec 3>"$WORK/w2.sql"
echo "USE bt;" >&3
RANDOM=77
for ((t = 1; t <= 250; t++)); do
	begin fail
	echo "UPDATE hot SET v=v+1 WHERE id=$((1 + RANDOM % 6)); INSERT INTO pk VALUES ($((5000 + t)), $t);" >&3
	if ((LEDGER == BAD)); then echo "UPDATE hot SET v=v+1 WHERE id=77;" >&3; fi
	commit
	if ((LEDGER == BAD)); then echo "SELECT CONCAT('GTID=', @@last_gtid);" >&3; fi
done
exec 3>&-
src_sql -N <"$WORK/w2.sql" >"$WORK/w2.out"
bad_gtid=$(sed -n 's/^GTID=//p' "$WORK/w2.out")
[[ -n "$bad_gtid" ]] || fail "no GTID for the failing transaction"
must_sluice cap3 capture --source "$SRC_URL" --dir "$dir" --server-id 601
msg_of() { grep -v '^[[:space:]]*$' "$WORK/$1.err" | grep -v '^[0-9]' | tail -n 1; }
# workers 1 first: it commits nothing past the failing transaction, so the
# ledger is exactly 1..BAD-1 after it. 8 workers may commit independent
# transactions after it (in batches on other workers), which a later
# check with workers 1 would count against it.
for w in 1 8; do
	expect_error "fail-$w" "UPDATE .*hot.* matched 0 rows, not 1.*$bad_gtid" \
		replay --dir "$dir" --dest "$DST_URL" --workers "$w"
	if ((w == 1)); then
		ledger_ok $((BAD - 1)) "the failing batch (workers $w)"
	else
		ledger_upto "$BAD" "the failing batch (workers $w)"
	fi
	grep -q "a batch failed" "$WORK/fail-$w.err" || ((w == 1)) ||
		fail "the batch run did not say that a batch failed"
done
expect_error fail-one "UPDATE .*hot.* matched 0 rows" \
	replay --dir "$dir" --dest "$DST_URL" --batch-txns 1
[[ "$(msg_of fail-8)" == "$(msg_of fail-one)" ]] ||
	fail "batches and --batch-txns 1 name the failure differently:
  batches: $(msg_of fail-8)
  one:     $(msg_of fail-one)"
ledger_upto "$BAD" "after --batch-txns 1"
dst_sql -e "INSERT INTO bt.hot VALUES (77, 0, 'victim')"
must_sluice rep-fixed replay --dir "$dir" --dest "$DST_URL" --workers 8
compare_all || fail "after the row was put back: source and destination differ"
ledger_ok "$LEDGER" "after the row was put back"
log "a failing batch: stopped at transaction $BAD ($bad_gtid) of $FIRST..$LEDGER, every one before committed"
echo "1 passed, 0 failed"
