#!/usr/bin/env bash
# Clock skew between the source and sluice (RELIABILITY.md F1, issue 14 item
# 4): capture --follow and replay --follow run under libfaketime (the servers
# keep the real clock) at -1 h, at +1 h, and with a backward step of 10 min
# in the middle of the load. Each case: a keyless ledger gets one row per
# source transaction, so the destination shows any row lost or applied twice;
# capture runs with retention (--retain-age 1s, small segments sealed every
# second) while replay stands still (SIGSTOP) for the middle third of the
# load, and must never remove a segment replay has not passed: order is
# by sequence, never by wall-clock time; the lag in both --metrics files is
# never negative. CLOCK_MONOTONIC is left alone (DONT_FAKE_MONOTONIC=1), as
# NTP leaves it.
#
#   SKEW_LOAD_S   seconds of load per case (default 4)
#   SKEW_CASES    cases to run (default "minus1h plus1h step")
#   RESULT skew-<case> trials=1 lost=0 dup=0 txns=N removed_segments=N
#          max_capture_lag_s=N max_replay_lag_s=N min_lag_s=N
set -euo pipefail
TEST_NAME=test_clock_skew
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
LOAD_S=${SKEW_LOAD_S:-4}
CASES=${SKEW_CASES:-minus1h plus1h step}

LIBFT=
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 /usr/lib/*/faketime/libfaketimeMT.so.1 \
	/usr/lib/faketime/libfaketimeMT.so.1 /usr/local/lib/faketime/libfaketimeMT.so.1; do
	[[ -f "$f" ]] && { LIBFT=$f; break; }
done
[[ -n "$LIBFT" ]] || _require "libfaketime not installed (scripts/install-deps.sh: faketime)"
start_servers 2
REAL_SLUICE=$SLUICE

# skewed CASE: a sluice that reads its wall clock through $WORK/ft-CASE,
# re-read at every call ("+0", "-1h", "-600"...)
skewed() {
	local w=$WORK/sluice-$1
	cat >"$w" <<EOF
#!/bin/sh
export LD_PRELOAD=$LIBFT FAKETIME_TIMESTAMP_FILE=$WORK/ft-$1 FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1
exec "$REAL_SLUICE" "\$@"
EOF
	chmod +x "$w"
	echo "$w"
}

# gauge FILE NAME: the value of a metric family in a Prometheus text file
gauge() { sed -n "s/^$2{[^}]*} //p" "$1" 2>/dev/null | head -n1; }

# lags_watch CASE: every 0.3 s, the lag gauges of both files into $WORK/lags-CASE
lags_watch() {
	local c=$1
	while [[ ! -e $WORK/stop-watch-$c ]]; do
		echo "cap $(gauge "$WORK/cap-$c.prom" sluice_capture_lag_seconds)" >>"$WORK/lags-$c"
		echo "rep $(gauge "$WORK/rep-$c.prom" sluice_replication_lag_seconds)" >>"$WORK/lags-$c"
		sleep 0.3
	done
}

run_case() {
	local c=$1 spec=$2 db=skew_$1 D=$WORK/d-$1 n=0 cpid rpid wpid end step_at src dst dst_distinct removed
	echo "$spec" >"$WORK/ft-$c"
	SLUICE=$(skewed "$c")
	log "case $c: sluice's clock $spec$([[ $c == step ]] && echo ", then 10 min back")"
	start_bg "cap-$c" capture --source "$SRC_URL" --dir "$D" --follow --segment-size 8K --segment-age 1s \
		--retain-age 1s --metrics "$WORK/cap-$c.prom"
	cpid=$BG_PID
	wait_line "cap-$c" "$cpid" 'streaming from' 60
	src_sql -e "CREATE DATABASE $db; CREATE TABLE $db.ledger (txn INT NOT NULL, at DATETIME(6));
		CREATE TABLE $db.acct (id INT PRIMARY KEY, bal BIGINT, note VARCHAR(200));
		INSERT INTO $db.acct VALUES (1, 0, ''), (2, 0, ''), (3, 0, '');"
	start_bg "rep-$c" replay --dir "$D" --dest "$DST_URL" --follow --consumer "skew-$c" --metrics "$WORK/rep-$c.prom"
	rpid=$BG_PID
	lags_watch "$c" &
	wpid=$!
	track_pid "$wpid"
	end=$((SECONDS + LOAD_S))
	step_at=$((SECONDS + LOAD_S / 2))
	# replay stands still for the middle third: segments it has not passed
	# age past --retain-age (at once at +1 h) and must stay
	pause_at=$((SECONDS + LOAD_S / 3))
	resume_at=$((SECONDS + 2 * LOAD_S / 3 + 1))
	local paused=0
	while ((SECONDS < end)); do
		if ((paused == 0 && SECONDS >= pause_at)); then
			kill -STOP "$rpid"
			paused=1
		elif ((paused == 1 && SECONDS >= resume_at)); then
			kill -CONT "$rpid"
			paused=2
		fi
		n=$((n + 1))
		src_sql -e "START TRANSACTION; INSERT INTO $db.ledger VALUES ($n, NOW(6));
			UPDATE $db.acct SET bal = bal + $n, note = REPEAT('x', $n % 200) WHERE id = 1 + $n % 3; COMMIT;"
		if [[ $c == step && $SECONDS -ge $step_at && ! -e $WORK/stepped ]]; then
			echo "-600" >"$WORK/ft-$c"
			touch "$WORK/stepped"
			log "case $c: sluice's clock stepped back 10 min after $n transactions"
		fi
	done
	((paused == 1)) && kill -CONT "$rpid"
	# drained: the destination holds every ledger row (or the time is up)
	for _ in $(seq 1 300); do
		dst=$(dst_sql -N -B -e "SELECT COUNT(*) FROM $db.ledger" 2>/dev/null || echo 0)
		((dst >= n)) && break
		kill -0 "$rpid" 2>/dev/null || break
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.2
	done
	sleep 2.5	# a metrics write after the last transaction
	touch "$WORK/stop-watch-$c"
	wait "$wpid" 2>/dev/null || true
	stop_bg "$rpid" "rep-$c" TERM
	stop_bg "$cpid" "cap-$c" TERM
	SLUICE=$REAL_SLUICE

	src=$(src_sql -N -B -e "SELECT COUNT(*) FROM $db.ledger")
	dst=$(dst_sql -N -B -e "SELECT COUNT(*) FROM $db.ledger")
	dst_distinct=$(dst_sql -N -B -e "SELECT COUNT(DISTINCT txn) FROM $db.ledger")
	removed=$(grep -c "removed '" "$WORK/cap-$c.err" || true)
	local lost=$((src - dst_distinct)) dup=$((dst - dst_distinct)) minlag maxc maxr
	minlag=$(awk '$2 != "" { if (m == "" || $2 < m) m = $2 } END { print m == "" ? "none" : m }' "$WORK/lags-$c")
	maxc=$(awk '$1 == "cap" && $2 != "" { if ($2 > m) m = $2 } END { print m + 0 }' "$WORK/lags-$c")
	maxr=$(awk '$1 == "rep" && $2 != "" { if ($2 > m) m = $2 } END { print m + 0 }' "$WORK/lags-$c")
	echo "RESULT skew-$c trials=1 lost=$lost dup=$dup txns=$n removed_segments=$removed max_capture_lag_s=$maxc max_replay_lag_s=$maxr min_lag_s=$minlag"
	((lost == 0 && dup == 0)) || fail "case $c: $lost ledger rows lost, $dup applied twice"
	compare_db "$db" || fail "case $c: source and destination differ"
	[[ "$minlag" != none ]] || fail "case $c: no lag gauge was ever written"
	awk '$2 != "" && $2 < 0 { bad = 1 } END { exit bad }' "$WORK/lags-$c" ||
		fail "case $c: a negative lag in --metrics: $(awk '$2 != "" && $2 < 0' "$WORK/lags-$c" | head -n3 | tr '\n' ' ')"
	if grep -q -i 'behind retention\|gap\|missing segment' "$WORK/rep-$c.err"; then
		fail "case $c: retention removed a segment replay had not passed: $(grep -i 'retention\|gap\|missing' "$WORK/rep-$c.err" | head -n2)"
	fi
	# every segment below the consumer's was fair game; none at or after it went
	"$REAL_SLUICE" verify --segments "$D" >"$WORK/verify-$c.out" 2>&1 ||
		{ cat "$WORK/verify-$c.out" >&2; fail "case $c: verify --segments"; }
	log "ok case $c: $n transactions, $removed segments removed by retention, lag $minlag..$maxc/$maxr s"
}

for c in $CASES; do
	case $c in
	minus1h) run_case minus1h "-1h" ;;
	plus1h) run_case plus1h "+1h" ;;
	step) run_case step "+0" ;;
	*) fail "unknown case '$c' (SKEW_CASES)" ;;
	esac
done
log "PASS"
