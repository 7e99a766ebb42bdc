#!/usr/bin/env bash
# The failpoint matrix (issue 14 item 2; RELIABILITY.md A2, C2): every named
# crash point (tests/integration/README.md "Failpoints") is armed in turn,
# SLUICE_FAILPOINT=<point>@N with N drawn so the crash lands mid-stream, in
# the process that has it, while a paced workload writes to the source:
#   capture points:  capture --follow is the victim, replay drains after;
#   replay points:   capture --follow feeds replay --follow, the victim;
#   snapshot points: sluice snapshot (chunk rows) and replay's chunk load.
# Each trial asserts that the process died by SIGKILL at that point (exit
# 137 and its "failpoint <point>" line: a point never reached fails the
# test), restarts it without the point, drains, and checks: source and
# destination equal (table definitions with their indexes, CHECKSUM TABLE,
# compare_all when the sums differ and at the end), `verify --segments`
# clean, and the keyless ledger (one unique seq per source transaction) has
# lost 0 and dup 0 (the source is never crashed here: what it holds is what
# its client was told committed), the bank sum kept.
# One line per point: RESULT <point> trials=N lost=0 dup=0 recovery_p50_ms=..
# (the restart's run time). The switchover's points run in
# test_switchover_crash.sh.
#   FAILPOINT_REPS    trials per point (default 1; make soak: 10)
#   FAILPOINT_POINTS  the points to run (default: all of the table below)
#   FAILPOINT_N       arm every point at this hit instead of a random one
#                     (replay.ddl.after-ddl with 4: after the unnamed index)
set -euo pipefail
TEST_NAME=test_failpoints
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice

REPS=${FAILPOINT_REPS:-1}
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-60}

# point  victim  highest N (the point is surely reached that often per trial)
MATRIX="
store.frame.before-write   capture 12
store.frame.after-write    capture 2
store.sync.after           capture 12
store.seal.before-rename   capture 3
store.seal.before-dirsync  capture 3
capture.txn.before-end     capture 40
replay.batch.before-commit replay  12
replay.batch.after-commit  replay  12
replay.fold.before         replay  4
replay.fold.after          replay  4
replay.ddl.after-intent    replay  4
replay.ddl.after-ddl       replay  4
snapshot.chunk.rows        snapshot 12
replay.load.before-commit  snapshot 12
"
declare -A VICTIM MAXN
ALL=()
while read -r p v n; do
	[[ -n "$p" ]] || continue
	VICTIM[$p]=$v
	MAXN[$p]=$n
	ALL+=("$p")
done <<<"$MATRIX"
if [[ -n "${FAILPOINT_POINTS:-}" ]]; then
	read -r -a POINTS <<<"$FAILPOINT_POINTS"
else
	POINTS=("${ALL[@]}")
fi
for p in "${POINTS[@]}"; do
	[[ -n "${VICTIM[$p]:-}" ]] || fail "no such point in the matrix: $p"
done

# A name that is not a failpoint, or a bad count, is refused before any
# command runs: a trial can never arm a point that does not exist.
SLUICE_FAILPOINT=store.no-such-point expect_error fp-unknown "unknown failpoint 'store.no-such-point'" status "$WORK"
SLUICE_FAILPOINT=store.sync.after@0 expect_error fp-count0 "bad count in 'store.sync.after@0'" status "$WORK"
SLUICE_FAILPOINT=replay.fold.before,store.sync.after@x expect_error fp-countx "bad count" status "$WORK"

start_servers

S=$WORK/stream
SEQ=0	# the last ledger seq written
TRIAL=0
CAPTURE=(capture --source "$SRC_URL" --dir "$S" --server-id 401 --include 'fp.*'
	--commit-interval 3 --segment-size 4K)
must_sluice cap0 "${CAPTURE[@]}"	# the stream starts here, before the schema
src_sql -e "CREATE DATABASE fp;
	CREATE TABLE fp.ledger_nopk (seq BIGINT NOT NULL, v VARCHAR(64)) ENGINE=InnoDB;
	CREATE TABLE fp.ledger (seq BIGINT PRIMARY KEY, v VARCHAR(64), n INT) ENGINE=InnoDB;
	CREATE TABLE fp.bank (acct INT PRIMARY KEY, bal BIGINT) ENGINE=InnoDB;
	CREATE TABLE fp.wide (id INT PRIMARY KEY, v VARCHAR(64)) ENGINE=InnoDB;
	CREATE TABLE fp.big (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB;
	INSERT INTO fp.bank SELECT seq, 1000 FROM fp.seq_1_to_20;
	INSERT INTO fp.wide SELECT seq, 'w' FROM fp.seq_1_to_10;
	INSERT INTO fp.big SELECT seq, '' FROM fp.seq_1_to_600;"
must_sluice cap1 "${CAPTURE[@]}"
must_sluice rep0 replay --dir "$S" --dest "$DST_URL"

# burst N: N paced source transactions, one ledger seq each; at a third a
# DROP TABLE (the last trial's) and a CREATE TABLE, at two thirds an ALTER
# that adds a column (and drops the last trial's) and one that adds an
# unnamed index on it (the DDL points; few tables and columns, so
# compare_all stays quick), halfway one
# transaction of about 3 MB of row images (frames of an unfinished
# transaction reach the file: store.frame.after-write).
burst() {
	local n=$1 t=$TRIAL i s
	{
		for ((i = 1; i <= n; i++)); do
			s=$((SEQ + i))
			echo "BEGIN;"
			echo "INSERT INTO fp.ledger_nopk VALUES ($s, SHA2($s, 256));"
			echo "INSERT INTO fp.ledger VALUES ($s, MD5($s), $t);"
			if ((i % 3 == 0)); then
				echo "UPDATE fp.bank SET bal = bal - 7 WHERE acct = $((s % 20 + 1));"
				echo "UPDATE fp.bank SET bal = bal + 7 WHERE acct = $(((s + 9) % 20 + 1));"
			fi
			if ((i == n / 2)); then
				echo "UPDATE fp.big SET v = REPEAT(SHA2(CONCAT(id, '.', $s), 256), 40);"
			fi
			echo "COMMIT;"
			if ((i == n / 3)); then
				echo "DROP TABLE IF EXISTS fp.d_$((t - 1));"
				echo "CREATE TABLE fp.d_$t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;"
				echo "INSERT INTO fp.d_$t VALUES (1, $s);"
			elif ((i == 2 * n / 3)); then
				echo "ALTER TABLE fp.wide ADD COLUMN c_$t INT NOT NULL DEFAULT $t, DROP COLUMN IF EXISTS c_$((t - 1));"
				# an unnamed index: a second run is not refused, it adds c_N_2
				echo "ALTER TABLE fp.wide ADD INDEX (c_$t);"
			fi
			echo "DO SLEEP(0.004);"
		done
	} | src_sql
}

# ledger_check NAME: lost = source seqs missing at the destination, dup =
# destination rows beyond one per source seq (the table has no key).
LOST=0
DUP=0
ledger_check() {
	local db=$1 a=$WORK/seq.src b=$WORK/seq.dst
	src_sql -N -B -e "SELECT seq FROM $db.ledger_nopk" | sort >"$a"
	dst_sql -N -B -e "SELECT seq FROM $db.ledger_nopk" | sort >"$b"
	LOST=$(comm -23 "$a" <(sort -u "$b") | wc -l)
	DUP=$(($(wc -l <"$b") - $(comm -12 "$a" <(sort -u "$b") | wc -l)))
}

# victim NAME POINT@N ARGS...: runs sluice ARGS in the background with the
# point armed; sets VPID.
victim() {
	local name=$1 armed=$2
	shift 2
	SLUICE_FAILPOINT="$armed" start_bg "$name" "$@"
	VPID=$BG_PID
}

# reap NAME PID SECONDS: waits for the victim to end, at most SECONDS (a
# point not reached fails here, not at a timeout), and keeps its status.
reap() {
	local name=$1 pid=$2 deadline=$((SECONDS + $3)) rc=0
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		wait "$pid" 2>/dev/null || true
		fail "$name: alive $3 s after the workload: the point was not reached: $(tail -n 2 "$WORK/$name.err")"
	fi
	wait "$pid" 2>/dev/null || rc=$?
	echo "$rc" >"$WORK/$name.rc"
}

# died NAME POINT: sluice run NAME must have been killed by SIGKILL at POINT.
died() {
	local name=$1 point=$2 rc
	rc=$(cat "$WORK/$name.rc")
	grep -q "failpoint $point: killing" "$WORK/$name.err" ||
		fail "$point: the process did not die at its failpoint (exit $rc): $(tail -n 3 "$WORK/$name.err")"
	((rc == 137)) || fail "$point: exit status $rc after the failpoint, want 137 (SIGKILL)"
}

now_ms() { date +%s%3N; }

# must_restart NAME ARGS...: the restart after a crash must succeed; when it
# does not, the destination's sluice sessions are shown too (a session of
# the dead process still running is the usual suspect).
must_restart() {
	local name=$1
	if ! run_sluice "$@"; then
		tail -n 5 "$WORK/$name.err" >&2
		dst_sql -e "SELECT id, command, time, state, LEFT(info, 120) AS info
			FROM information_schema.processlist WHERE user = 'sluice'" >&2 || true
		fail "the restart after the crash failed: sluice ${2:-} exited $(cat "$WORK/$name.rc")"
	fi
}

# quick_equal: the user tables' definitions (columns, indexes: a DDL run
# twice shows here, e.g. an unnamed index doubled) must be equal, and
# CHECKSUM TABLE of every one, on both servers, a few queries a side;
# compare_all (row by row, slower, columns only) decides when the sums
# differ, and runs at the end.
quick_equal() {
	local n out=$WORK/quick
	mkdir -p "$out"
	for n in 1 2; do
		srv_sql "$n" -N -B -e "SELECT c.table_schema, c.table_name, c.ordinal_position, c.column_name,
				c.column_type, c.is_nullable, IFNULL(c.column_default, '-')
			FROM information_schema.columns c WHERE c.table_schema IN ('fp', 'fps')
			ORDER BY 1, 2, 3;
			SELECT table_schema, table_name, index_name, seq_in_index, column_name, non_unique
			FROM information_schema.statistics WHERE table_schema IN ('fp', 'fps') ORDER BY 1, 2, 3, 4" \
			>"$out/defs.$n" || return 1
		srv_sql "$n" -N -B -e "SELECT GROUP_CONCAT(CONCAT(table_schema, '.', table_name) ORDER BY 1)
			FROM information_schema.tables WHERE table_schema IN ('fp', 'fps')" >"$out/tables.$n" || return 1
		srv_sql "$n" -N -B -e "CHECKSUM TABLE $(cat "$out/tables.$n")" >"$out/sums.$n" || return 1
	done
	if ! cmp -s "$out/defs.1" "$out/defs.2"; then
		_show_diff "$out/defs.1" "$out/defs.2"
		fail "table definitions differ (< source, > destination) after trial $TRIAL"
	fi
	cmp -s "$out/sums.1" "$out/sums.2"
}

# check POINT: equal, segments clean, ledger exact.
check() {
	local point=$1 db=${2:-fp} dir=${3:-$S}
	run_sluice "verify.$TRIAL" verify --segments "$dir" ||
		fail "$point: verify --segments: $(tail -n 3 "$WORK/verify.$TRIAL.out" "$WORK/verify.$TRIAL.err")"
	quick_equal || compare_all || fail "$point: source and destination differ (trial $TRIAL)"
	ledger_check "$db"
	if ((LOST || DUP)); then
		echo "RESULT $point trials=$TRIAL lost=$LOST dup=$DUP"
		fail "$point: ledger lost $LOST, duplicated $DUP"
	fi
	[[ "$(dst_sql -N -B -e "SELECT SUM(bal) FROM fp.bank")" == 20000 ]] ||
		fail "$point: the bank sum is broken at the destination"
}

# trial_capture POINT N: capture --follow dies at POINT@N under the burst.
trial_capture() {
	local point=$1 n=$2 bpid t0
	burst 80 &
	bpid=$!
	track_pid "$bpid"
	victim "victim.$TRIAL" "$point@$n" "${CAPTURE[@]}" --follow
	wait "$bpid" || fail "$point: the workload failed"
	reap "victim.$TRIAL" "$VPID" 10
	died "victim.$TRIAL" "$point"
	t0=$(now_ms)
	must_restart "restart.$TRIAL" "${CAPTURE[@]}"
	REC_MS=$(($(now_ms) - t0))
	must_sluice "drain.$TRIAL" replay --dir "$S" --dest "$DST_URL"
}

# trial_replay POINT N: replay --follow dies at POINT@N, fed by capture --follow.
trial_replay() {
	local point=$1 n=$2 bpid cpid t0 workers=1
	[[ "$point" == replay.batch.before-commit ]] && workers=2	# COMMIT sent alone
	((TRIAL % 2 == 0)) && workers=2
	start_bg "cap.$TRIAL" "${CAPTURE[@]}" --follow
	cpid=$BG_PID
	burst 80 &
	bpid=$!
	track_pid "$bpid"
	victim "victim.$TRIAL" "$point@$n" replay --dir "$S" --dest "$DST_URL" \
		--follow --poll 20 --workers "$workers" --batch-txns 4
	wait "$bpid" || fail "$point: the workload failed"
	reap "victim.$TRIAL" "$VPID" 10
	died "victim.$TRIAL" "$point"
	stop_bg "$cpid" "cap.$TRIAL" TERM
	must_sluice "capfin.$TRIAL" "${CAPTURE[@]}"
	t0=$(now_ms)
	must_restart "restart.$TRIAL" replay --dir "$S" --dest "$DST_URL" --workers "$workers"
	REC_MS=$(($(now_ms) - t0))
}

# trial_snapshot POINT N: a snapshot of fps (a keyed and a keyless table,
# changes before and after it) into its own stream; POINT@N kills the
# snapshot (snapshot.chunk.rows) or replay's load (replay.load.before-commit).
trial_snapshot() {
	local point=$1 n=$2 ss=$WORK/snap.$TRIAL t0 victim
	src_sql -e "DROP DATABASE IF EXISTS fps; CREATE DATABASE fps;
		CREATE TABLE fps.items (id INT PRIMARY KEY, v VARCHAR(80)) ENGINE=InnoDB;
		CREATE TABLE fps.ledger_nopk (seq BIGINT NOT NULL, v VARCHAR(64)) ENGINE=InnoDB;
		INSERT INTO fps.items SELECT seq, SHA2(seq, 256) FROM fps.seq_1_to_3000;
		INSERT INTO fps.ledger_nopk SELECT seq, MD5(seq) FROM fps.seq_1_to_1500;"
	dst_sql -e "DROP DATABASE IF EXISTS fps"
	local SCAP=(capture --source "$SRC_URL" --dir "$ss" --server-id 402 --include 'fps.*')
	must_sluice "scap0.$TRIAL" "${SCAP[@]}"	# P0
	src_sql -e "INSERT INTO fps.ledger_nopk SELECT seq, 'p0' FROM fps.seq_1501_to_1600;
		UPDATE fps.items SET v = 'changed after P0' WHERE id % 10 = 0;"
	victim=(snapshot --source "$SRC_URL" --dir "$ss" --include 'fps.*' --threads 2)
	if [[ "$point" == snapshot.chunk.rows ]]; then
		SLUICE_SNAPSHOT_CHUNK_ROWS=200 SLUICE_FAILPOINT="$point@$n" \
			run_sluice "victim.$TRIAL" "${victim[@]}" || true
		died "victim.$TRIAL" "$point"
		t0=$(now_ms)
	fi
	SLUICE_SNAPSHOT_CHUNK_ROWS=200 must_restart "snap.$TRIAL" "${victim[@]}"
	[[ "$point" == snapshot.chunk.rows ]] && REC_MS=$(($(now_ms) - t0))
	src_sql -e "INSERT INTO fps.ledger_nopk SELECT seq, 'p1' FROM fps.seq_1601_to_1700;
		DELETE FROM fps.items WHERE id % 7 = 0;"
	must_sluice "scap1.$TRIAL" "${SCAP[@]}"
	if [[ "$point" == replay.load.before-commit ]]; then
		SLUICE_FAILPOINT="$point@$n" run_sluice "victim.$TRIAL" replay --dir "$ss" --dest "$DST_URL" --consumer "snap$TRIAL" || true
		died "victim.$TRIAL" "$point"
	fi
	t0=$(now_ms)
	must_restart "srep.$TRIAL" replay --dir "$ss" --dest "$DST_URL" --consumer "snap$TRIAL"
	[[ "$point" == replay.load.before-commit ]] && REC_MS=$(($(now_ms) - t0))
	check "$point" fps "$ss"
}

for point in "${POINTS[@]}"; do
	recs=()
	for ((r = 1; r <= REPS; r++)); do
		TRIAL=$((TRIAL + 1))
		n=${FAILPOINT_N:-$((1 + RANDOM % MAXN[$point]))}
		REC_MS=0
		case ${VICTIM[$point]} in
		capture) trial_capture "$point" "$n" ;;
		replay) trial_replay "$point" "$n" ;;
		snapshot) trial_snapshot "$point" "$n" ;;
		esac
		[[ ${VICTIM[$point]} == snapshot ]] || { SEQ=$((SEQ + 80)); check "$point"; }
		recs+=("$REC_MS")
		log "trial $TRIAL: $point@$n ok (restart ${REC_MS} ms)"
	done
	mapfile -t sorted < <(printf '%s\n' "${recs[@]}" | sort -n)
	echo "RESULT $point trials=$REPS lost=0 dup=0 recovery_p50_ms=${sorted[$(((REPS - 1) / 2))]} recovery_max_ms=${sorted[$((REPS - 1))]}"
done
compare_all || fail "source and destination differ at the end"
log "ok: ${#POINTS[@]} points x $REPS"
echo "${#POINTS[@]} passed, 0 failed"
