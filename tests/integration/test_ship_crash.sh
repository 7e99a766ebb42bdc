#!/usr/bin/env bash
# Crash safety of ship and receive (issue 15, item 3): capture --follow writes
# small segments (32K, sealed every 200 ms, and 1.2 MB ones that travel in
# several NATS messages) under a paced workload while `ship --follow` and
# `receive --follow` run through a 3-node JetStream cluster. Each trial kills
# one of them with kill -9 (ship and receive alternating) at a random moment
# and restarts it; the trial's recovery time is from the restart until the
# receiving directory holds the segment that was newest at the kill. At the
# end receive catches up once more, and: the received directory passes
# verify --segments, every segment is byte for byte the source's, the replayed
# destination equals the source, the keyless ledger has every transaction
# once, and a new reader from the start finds each chunk in the stream once
# (none published twice). Then each crash point of ship and receive (POINTS) once per
# SHIP_FP_REPS. SHIP_CRASH_TRIALS (default 3; make soak 20), SHIP_FP_REPS
# (default 1; soak 10).
set -euo pipefail
TEST_NAME=test_ship_crash
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
# shellcheck source=tests/integration/nats.sh
source "$(dirname "${BASH_SOURCE[0]}")/nats.sh"
# shellcheck source=tests/integration/ship_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/ship_lib.sh"

TRIALS=${SHIP_CRASH_TRIALS:-3}
require_sluice
require_ship
start_servers 2
start_nats 3
D=$WORK/stream
R=$WORK/recv
URL=$NATS_URL/CRASH

must_sluice cap0 capture --source "$SRC_URL" --dir "$D" --server-id 611
src_sql -e "CREATE DATABASE crash;
	CREATE TABLE crash.ledger (seq BIGINT PRIMARY KEY, v VARCHAR(64), n INT) ENGINE=InnoDB;
	CREATE TABLE crash.ledger_nopk (seq BIGINT, v VARCHAR(64)) ENGINE=InnoDB;
	CREATE TABLE crash.bank (acct INT PRIMARY KEY, bal BIGINT) ENGINE=InnoDB;
	CREATE TABLE crash.big (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB;
	INSERT INTO crash.bank SELECT seq, 1000 FROM crash.seq_1_to_20;"

# The workload: one client, small transactions (two ledgers, a transfer now
# and then), paced; every 10th batch a 1.2 MB incompressible row.
workload() {
	local b=0 i k
	while [[ ! -f "$WORK/stop" ]]; do
		b=$((b + 1))
		{
			for k in $(seq 1 25); do
				i=$((b * 25 + k))
				echo "BEGIN;"
				echo "INSERT INTO crash.ledger VALUES ($i, REPEAT('x', $((i % 50))), $i);"
				echo "INSERT INTO crash.ledger_nopk VALUES ($i, 'row $i');"
				if ((i % 3 == 0)); then
					echo "UPDATE crash.bank SET bal = bal - 5 WHERE acct = $((i % 20 + 1));"
					echo "UPDATE crash.bank SET bal = bal + 5 WHERE acct = $(((i + 7) % 20 + 1));"
				fi
				echo "COMMIT;"
				echo "DO SLEEP(0.008);"
			done
			if ((b % 10 == 2)); then
				echo "SET SESSION group_concat_max_len = 4194304;"
				echo "INSERT INTO crash.big SELECT $b, GROUP_CONCAT(RANDOM_BYTES(1024) SEPARATOR '') FROM crash.seq_1_to_1200;"
			fi
		} | src_sql 2>>"$WORK/workload.err" || true
	done
}

bg_sluice capture capture --source "$SRC_URL" --dir "$D" --server-id 611 --follow \
	--segment-size 32K --segment-age 200ms
cap_pid=$BG_PID
workload &
wl_pid=$!
track_pid "$wl_pid"
wait_seg "$D" 1 60 >/dev/null
must_sluice ship0 ship "$D" --to "$URL"

ship_pid=
rcv_pid=
start_ship() {
	bg_sluice ship ship "$D" --to "$URL" --follow
	ship_pid=$BG_PID
}
start_receive() {
	bg_sluice receive receive "$URL" --into "$R" --follow --reader crashsite
	rcv_pid=$BG_PID
}
start_ship
start_receive

kills_ship=0
kills_rcv=0
: >"$WORK/recover_ms"
for t in $(seq 1 "$TRIALS"); do
	# a random moment 0.1-1.6 s after the last recovery
	sleep "$(printf '%d.%03d' $((RANDOM % 2)) $((RANDOM % 1000)))"
	if ((t % 2 == 1)); then
		victim=ship
		pid=$ship_pid
		kills_ship=$((kills_ship + 1))
	else
		victim=receive
		pid=$rcv_pid
		kills_rcv=$((kills_rcv + 1))
	fi
	kill -9 "$pid" 2>/dev/null || fail "$victim died by itself (trial $t): $(tail -n 5 "$WORK/$victim.err")"
	wait "$pid" 2>/dev/null || true
	s=$(newest_seq "$D")
	if [[ $victim == ship ]]; then start_ship; else start_receive; fi
	ms=$(wait_seg "$R" "$s" 60 "ship:$ship_pid" "receive:$rcv_pid")
	echo "$ms" >>"$WORK/recover_ms"
	log "trial $t: $victim killed (kill -9) at segment $s; received again $ms ms after the restart"
done

# The crash points of ship and receive (README "Failpoints"; scripts/
# check_failpoints.py reads POINTS): the service stops cleanly, starts again
# armed at its N-th pass (N drawn 1-4) so the crash lands mid-stream, must
# die there by SIGKILL, and is started once more without it.
POINTS=(ship.chunk.after-publish receive.add.before-ack)
FP_REPS=${SHIP_FP_REPS:-1}
for point in "${POINTS[@]}"; do
	: >"$WORK/fp_ms.$point"
	for _ in $(seq 1 "$FP_REPS"); do
		at=$((RANDOM % 4 + 1))
		if [[ $point == ship.* ]]; then
			victim=ship
			stop_bg "$ship_pid" ship TERM
			SLUICE_FAILPOINT="$point@$at" start_ship
			pid=$ship_pid
		else
			victim=receive
			stop_bg "$rcv_pid" receive TERM
			SLUICE_FAILPOINT="$point@$at" start_receive
			pid=$rcv_pid
		fi
		t0=$(now_ms)
		while kill -0 "$pid" 2>/dev/null; do
			(($(now_ms) - t0 < 60000)) || fail "$point@$at: $victim did not reach its failpoint in 60 s: $(tail -n 3 "$WORK/$victim.err")"
			sleep 0.05
		done
		rc=0
		wait "$pid" || rc=$?
		grep -q "failpoint $point: killing" "$WORK/$victim.err" ||
			fail "$point@$at: $victim did not die at its failpoint (exit $rc): $(tail -n 3 "$WORK/$victim.err")"
		((rc == 137)) || fail "$point@$at: exit status $rc after the failpoint, want 137 (SIGKILL)"
		s=$(newest_seq "$D")
		if [[ $victim == ship ]]; then start_ship; else start_receive; fi
		ms=$(wait_seg "$R" "$s" 60 "ship:$ship_pid" "receive:$rcv_pid")
		echo "$ms" >>"$WORK/fp_ms.$point"
		log "$point@$at: $victim died there at segment $s; received again $ms ms after the restart"
	done
done

# The end: the workload stops, a batch capture seals the rest, ship and
# receive stop cleanly, then a one-shot ship and a one-shot receive catch up.
touch "$WORK/stop"
wait "$wl_pid" || true
stop_bg "$cap_pid" capture TERM
must_sluice capfin capture --source "$SRC_URL" --dir "$D" --server-id 611
[[ -z $(find "$D" -maxdepth 1 -name '*.open') ]] || fail "the final batch capture left an open segment: $(ls "$D")"
s_last=$(newest_seq "$D")
stop_bg "$ship_pid" ship TERM
stop_bg "$rcv_pid" receive TERM
must_sluice shipfin ship "$D" --to "$URL"
must_sluice rcvfin receive "$URL" --into "$R" --reader crashsite
[[ -f "$R/$(printf '%020d.seg' "$s_last")" ]] || fail "the last receive did not catch up to segment $s_last: $(cat "$WORK/rcvfin.out")"

# a new reader from the start: the stream holds each chunk once
must_sluice rcvnew receive "$URL" --into "$WORK/recv2" --reader fresh
msgs=$(check_messages rcvnew "$D")
n2=$(same_segments "$D" "$WORK/recv2")
run_sluice ver verify --segments "$R" || fail "verify --segments of the received directory: $(cat "$WORK/ver.out" "$WORK/ver.err")"
n=$(same_segments "$D" "$R")
must_sluice rep replay --dir "$R" --dest "$DST_URL"
compare_all || fail "the destination replayed from the received directory differs from the source"
fig=$(ledger_figures crash.ledger_nopk 2)
read -r lost dup <<<"$fig"
sum=$(dst_sql -N -B -e "SELECT SUM(bal) FROM crash.bank")
[[ "$sum" == 20000 ]] || fail "bank invariant broken at the destination: $sum"
txns=$(src_sql -N -B -e "SELECT COUNT(*) FROM crash.ledger_nopk")
assert_no_password "$WORK"/*.out "$WORK"/*.err
echo "RESULT ship_crash trials=$TRIALS lost=$lost dup=$dup recover_p50_ms=$(p50 "$WORK/recover_ms") recover_max_ms=$(sort -n "$WORK/recover_ms" | tail -n 1) ship_kills=$kills_ship receive_kills=$kills_rcv segments=$n transactions=$txns stream_msgs=$msgs fresh_reader_segments=$n2"
for point in "${POINTS[@]}"; do
	echo "RESULT $point trials=$FP_REPS lost=$lost dup=$dup recovery_p50_ms=$(p50 "$WORK/fp_ms.$point")"
done
((lost == 0 && dup == 0)) || fail "lost $lost, duplicated $dup ledger transactions after $TRIALS kill -9 trials and the crash points"
echo "1 passed, 0 failed"
