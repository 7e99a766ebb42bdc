#!/usr/bin/env bash
# Reconnect and resume (issue 14 item 1; RELIABILITY.md A4, C3, C4):
# `capture --follow` and `replay --follow` run under a steady workload while
# the destination and the source are killed with kill -9 and restarted
# (RECONNECT_TRIALS times each), the destination turns read_only for a
# while, and a destination session holds a row lock replay needs. Both
# services must wait, reconnect, and resume where they were: each server's
# return to the service's "reconnected" line is measured (target: within
# 5 s), `status` shows "reconnecting" with the last error meanwhile, and
# at the end source and destination are equal, every acknowledged ledger
# row is there exactly once, and no ledger row is there twice. Then the
# limit: --retry-for 3s against a destination that stays down ends with
# exit 2 and one line, and status says "failed".
set -euo pipefail
TEST_NAME=test_reconnect
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
TRIALS=${RECONNECT_TRIALS:-2}
require_sluice
start_servers
dir=$WORK/stream

# replay as a user without SUPER / READ_ONLY ADMIN, so read_only holds it
dst_sql -e "CREATE USER 'replayer'@'127.0.0.1' IDENTIFIED BY '$HARNESS_PASSWORD';
	GRANT ALL PRIVILEGES ON *.* TO 'replayer'@'127.0.0.1';
	REVOKE SUPER, READ_ONLY ADMIN ON *.* FROM 'replayer'@'127.0.0.1';
	SET GLOBAL innodb_lock_wait_timeout = 2;"
REP_URL="mysql://replayer@127.0.0.1:$DST_PORT/"

must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 401
src_sql -e "CREATE DATABASE rc;
	CREATE TABLE rc.ledger (seq INT, v VARCHAR(40)) ENGINE=InnoDB;
	CREATE TABLE rc.acct (id INT PRIMARY KEY, bal BIGINT, n INT) ENGINE=InnoDB;
	INSERT INTO rc.acct SELECT seq, 1000, 0 FROM rc.seq_1_to_20;"

# The workload: one client at a time, each transaction one ledger row and a
# transfer; a seq is acknowledged (written to acked) only after its COMMIT
# returned OK. While the source is down the client fails and tries again.
workload() {
	local s=0
	while [[ ! -f "$WORK/stop" ]]; do
		s=$((s + 1))
		local a=$((s % 20 + 1)) b=$(((s * 7) % 20 + 1))
		if src_sql -e "START TRANSACTION;
			INSERT INTO rc.ledger VALUES ($s, 'txn $s');
			UPDATE rc.acct SET bal = bal - 1, n = n + 1 WHERE id = $a;
			UPDATE rc.acct SET bal = bal + 1, n = n + 1 WHERE id = $b;
			COMMIT;" 2>/dev/null; then
			echo "$s" >>"$WORK/acked"
		else
			sleep 0.2
		fi
		sleep 0.01
	done
}
workload &
wl_pid=$!
track_pid "$wl_pid"

start_bg capture capture --source "$SRC_URL" --dir "$dir" --server-id 401 --follow
cap_pid=$BG_PID
start_bg replay replay --dir "$dir" --dest "$REP_URL" --follow --workers 4
rep_pid=$BG_PID
wait_line capture "$cap_pid" "streaming from" 60
sleep 2

# count_lines NAME REGEX: lines of $WORK/NAME.err matching REGEX.
count_lines() { grep -c -- "$2" "$WORK/$1.err" 2>/dev/null || true; }

# resume_after NAME PID N: waits until NAME has more than N "reconnected"
# lines; prints the milliseconds it took.
resume_after() {
	local name=$1 pid=$2 before=$3 t0 t1
	t0=$(date +%s%N)
	while (($(count_lines "$name" "reconnected to") <= before)); do
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$WORK/$name.err" >&2; fail "$name exited while the server was away"; }
		(($(date +%s%N) - t0 < 60000000000)) || { tail -n 20 "$WORK/$name.err" >&2; fail "$name did not reconnect within 60 s"; }
		sleep 0.05
	done
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# status_says REGEX: `sluice status DIR` shows it (within 10 s).
status_says() {
	local re=$1 i
	for i in $(seq 1 50); do
		run_sluice status status "$dir" || true
		grep -q -E -- "$re" "$WORK/status.out" && return 0
		sleep 0.2
	done
	cat "$WORK/status.out" >&2
	fail "status did not show /$re/"
}

# crash_trial N SERVICE PID STATUS_RE: kill -9 of server N under SERVICE,
# status shows STATUS_RE meanwhile; sets MS to the time from the server's
# return to SERVICE's "reconnected" line.
crash_trial() {
	local n=$1 svc=$2 pid=$3 re=$4 before
	before=$(count_lines "$svc" "reconnected to")
	kill_server "$n"
	status_says "$re"
	sleep 1
	restart_server "$n"
	MS=$(resume_after "$svc" "$pid" "$before")
	sleep 1
}

dst_ms=() src_ms=()
for t in $(seq 1 "$TRIALS"); do
	crash_trial 2 replay "$rep_pid" "replay +default: +reconnecting .*(attempt [0-9]+).*(Lost connection|connect|gone away|shutdown)"
	dst_ms+=("$MS")
	log "trial $t: replay resumed $MS ms after the destination came back"
	crash_trial 1 capture "$cap_pid" "capture: +reconnecting .*(attempt [0-9]+)"
	src_ms+=("$MS")
	log "trial $t: capture resumed $MS ms after the source came back"
done
status_says "capture: +running"

# read_only on the destination for 3 s: replay is refused, retries, resumes
n=$(count_lines replay "read-only")
dst_sql -e "SET GLOBAL read_only = 1"
sleep 3
dst_sql -e "SET GLOBAL read_only = 0"
(($(count_lines replay "read-only") > n)) || fail "replay never met read_only (no retry line)"
log "read_only: retried $(($(count_lines replay "read-only") - n)) times"

# a destination session holds a row replay must change, for 3 s (lock wait
# timeout 2 s): the worker retries, or the round does
dst_sql -e "START TRANSACTION; SELECT * FROM rc.acct WHERE id = 2 FOR UPDATE; DO SLEEP(3); COMMIT;" >/dev/null

touch "$WORK/stop"
wait "$wl_pid" || true
wait_equal 120 || fail "source and destination differ after the faults"
stop_bg "$cap_pid" capture TERM
stop_bg "$rep_pid" replay TERM

# the ledger: every acknowledged seq once, none twice
dups=$(dst_sql -N -e "SELECT COUNT(*) FROM (SELECT seq FROM rc.ledger GROUP BY seq HAVING COUNT(*) > 1) d")
dst_sql -N -e "SELECT seq FROM rc.ledger" | sort -n >"$WORK/dst_seqs"
sort -n "$WORK/acked" >"$WORK/acked_sorted"
lost=$(comm -23 "$WORK/acked_sorted" "$WORK/dst_seqs" | wc -l)
((dups == 0)) || fail "$dups ledger rows applied twice"
((lost == 0)) || fail "$lost acknowledged ledger rows missing at the destination"
acked=$(wc -l <"$WORK/acked")
sum=$(dst_sql -N -e "SELECT SUM(bal) FROM rc.acct")
((sum == 20000)) || fail "the accounts' sum is $sum, not 20000"
must_sluice vseg verify --segments "$dir"

p50() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
max() { printf '%s\n' "$@" | sort -n | tail -n 1; }
echo "RESULT C3 replay-dst-restart trials=$TRIALS lost=$lost dup=$dups acked=$acked resume_p50_ms=$(p50 "${dst_ms[@]}") resume_max_ms=$(max "${dst_ms[@]}")"
echo "RESULT A4 cap-source-crash trials=$TRIALS lost=$lost dup=$dups resume_p50_ms=$(p50 "${src_ms[@]}") resume_max_ms=$(max "${src_ms[@]}")"
echo "RESULT C4 replay-dst-errors cases=read_only,lock_wait lost=$lost dup=$dups"
for ms in "${dst_ms[@]}" "${src_ms[@]}"; do
	((ms <= 5000)) || fail "a service resumed $ms ms after its server came back (target 5 s)"
done

# the limit: a destination that stays down; a one-shot run fails at once,
# a service gives up after --retry-for with one line, and status says so
kill_server 2
rc=0
run_sluice once replay --dir "$dir" --dest "$REP_URL" --retry-for 3s || rc=$?
((rc == 2)) || fail "replay against a dead destination: exit $rc, want 2"
grep -q "cannot connect" "$WORK/once.err" || fail "replay against a dead destination: $(tail -n 1 "$WORK/once.err")"
t0=$SECONDS
rc=0
run_sluice giveup replay --dir "$dir" --dest "$REP_URL" --follow --retry-for 3s || rc=$?
((rc == 2)) || fail "replay --follow --retry-for 3s: exit $rc, want 2"
last=$(tail -n 1 "$WORK/giveup.err")
[[ "$last" == "sluice replay: gave up after "*"(--retry-for 3s): "*"cannot connect"* ]] ||
	fail "replay --retry-for: last line: $last"
((SECONDS - t0 <= 10)) || fail "replay --retry-for 3s took $((SECONDS - t0)) s"
status_says "replay +default: +failed .*gave up after"
restart_server 2

# the migrate task: its children wait out a destination restart; one that
# gives up (--retry-for) ends the task with its line, exit 2. (Its replay
# is consumer "default" of another stream: the one above is done with.)
dst_sql -e "DROP DATABASE sluice"
src_sql -e "CREATE DATABASE mg; CREATE TABLE mg.t (id INT PRIMARY KEY, v INT);
	INSERT INTO mg.t SELECT seq, seq FROM mg.seq_1_to_500;"
start_bg mig migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$WORK/mdir" --include mg \
	--follow --no-progress --retry-for 4s
mig_pid=$BG_PID
wait_line mig "$mig_pid" "following: capture and replay keep running" 120
kill_server 2
sleep 1
restart_server 2
src_sql -e "INSERT INTO mg.t SELECT seq, seq FROM mg.seq_501_to_600;"
wait_equal 60 || fail "migrate --follow did not carry writes after a destination restart"
grep -q "replay.*restarting it" "$WORK/mig.err" && fail "migrate restarted replay: it should have reconnected by itself"
kill_server 2
# an idle replay does not need its destination: give it work
src_sql -e "INSERT INTO mg.t VALUES (601, 601)"
t0=$SECONDS
for _ in $(seq 1 300); do
	kill -0 "$mig_pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$mig_pid" 2>/dev/null && fail "migrate --retry-for 4s still runs 30 s after its destination went away"
rc=0
wait "$mig_pid" || rc=$?
((rc == 2)) || fail "migrate after its replay gave up: exit $rc, want 2"
last=$(grep -v '^[[:space:]]*$' "$WORK/mig.err" | tail -n 1)
[[ "$last" == *"gave up after"*"--retry-for 4s"* ]] || fail "migrate's last line: $last"
log "migrate stopped $((SECONDS - t0)) s after its destination went away: $last"
assert_no_password "$WORK"/*.err "$WORK"/*.out "$dir"/*.state "$WORK"/mdir/*.state
restart_server 2
echo "1 passed, 0 failed"
