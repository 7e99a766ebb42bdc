#!/usr/bin/env bash
# Network faults (issue 14 item 3; RELIABILITY.md A5, A7, C3): `capture --follow`
# reads the source through one faultproxy and `replay --follow` writes the
# destination through another while a steady workload runs on the source (a
# keyless ledger with one unique seq per transaction, a table with a primary
# key, bulk multi-row events). Both processes run from the first case to the
# last and must reconnect by themselves. Cases (NF_CASES picks, in this order):
#   selftest   the proxy itself: forwarding, retarget, stats, a cut, a blackhole
#   cut        cut after a random number of server->client bytes (lands inside
#              an event or reply), RST and FIN, source and destination side
#              alternating; NETFAULT_TRIALS trials (default 4)
#   blackhole  each side in turn stops forwarding without RST/FIN: the read
#              timeouts must fire (detect_ms), then pass (resume_ms)
#   latency    200 ms on both links for NF_HOLD seconds
#   throttle   64 KB/s on both links for NF_HOLD seconds
#   flip       a byte flipped in NETFAULT_FLIPS binlog events (default 5), one
#              per source connection: each must be detected (the binlog CRC32)
#              and re-fetched; nothing corrupt applied
#   flipaim    three aimed flips a random one rarely makes, each of which once
#              went through unseen: a WRITE_ROWS type byte turned HEARTBEAT, the
#              format description's checksum field CRC32 -> NONE, a byte of the
#              dump's opening fake ROTATE (its file name); each must be detected
# After each case: the workload pauses, the destination drains to equal
# (compare_all), the ledger has lost 0 and dup 0, and `verify --segments --deep`
# finds the stream clean; one "RESULT <id> trials=N lost=0 dup=0 ..." line each.
set -euo pipefail
TEST_NAME=test_netfaults
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

NF_CASES=${NF_CASES:-selftest cut blackhole latency throttle flip flipaim}
TRIALS=${NETFAULT_TRIALS:-4}
# as many flips as cut trials (make soak: 200), at least 5
FLIPS=${NETFAULT_FLIPS:-$((TRIALS > 5 ? TRIALS : 5))}
NF_HOLD=${NF_HOLD:-3}
# The destination side is held this long at most, waiting for replay to notice.
BH_DST_MAX=${NF_BLACKHOLE_DST_SECONDS:-4}
# How the processes are told to retry and to time out reads (README: Reconnect).
NF_CAPTURE_ARGS=${NF_CAPTURE_ARGS-"--retry-for 5m"}
NF_REPLAY_ARGS=${NF_REPLAY_ARGS-"--retry-for 5m"}
RECONNECT_RE=${NF_RECONNECT_RE:-reconnecting}
DRAIN_TIMEOUT=${NF_DRAIN_TIMEOUT:-120}

now_ms() { date +%s%3N; }

# Epoch ms of a log line's leading timestamp (sl_log: 2026-12-06T19:49:57.123Z), else now.
line_ms() {
	local ts=${1%% *}
	if [[ "$ts" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]; then
		date -d "$ts" +%s%3N 2>/dev/null && return
	fi
	now_ms
}

# p50 and max of the numbers given, "p50 max".
p50_max() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "0 0"; exit } print v[int((NR + 1) / 2)], v[NR] }'
}

require_sluice
start_servers 2
start_proxy src "$SRC_PORT"
SRCP_PORT=$PROXY_PORT
start_proxy dst "$DST_PORT"
DSTP_PORT=$PROXY_PORT
CAP_URL="mysql://sluice@127.0.0.1:$SRCP_PORT/"
REP_URL="mysql://sluice@127.0.0.1:$DSTP_PORT/"
dir=$WORK/stream

# A client over TCP through a proxy (the password from the environment, not argv).
via() {
	local port=$1
	shift
	MYSQL_PWD=$HARNESS_PASSWORD mariadb --no-defaults -h 127.0.0.1 -P "$port" -u sluice -N -B "$@"
}

selftest() {
	local out before
	log "selftest: forwarding, retarget, stats, cut, blackhole"
	out=$(via "$SRCP_PORT" -e "SELECT @@server_id") || fail "selftest: no query through the source proxy"
	[[ "$out" == 1 ]] || fail "selftest: the source proxy reached server_id $out, want 1"
	proxy_ctl src retarget "127.0.0.1:$DST_PORT" >/dev/null
	out=$(via "$SRCP_PORT" -e "SELECT @@server_id")
	[[ "$out" == 2 ]] || fail "selftest: after retarget the proxy reached server_id $out, want 2"
	proxy_ctl src retarget "127.0.0.1:$SRC_PORT" >/dev/null
	[[ $(proxy_stat src conns) -ge 2 && $(proxy_stat src s2c) -gt 0 && $(proxy_stat src c2s) -gt 0 ]] ||
		fail "selftest: stats do not count: $(proxy_ctl src stats)"
	# a cut after 2,000 bytes of a 200 kB result: the client loses the connection
	before=$(proxy_stat src cuts)
	proxy_ctl src cut rst 2000 >/dev/null
	if via "$SRCP_PORT" -e "SELECT REPEAT('x', 200000)" >/dev/null 2>"$WORK/selftest.err"; then
		fail "selftest: a query survived a cut after 2000 bytes"
	fi
	[[ $(proxy_stat src cuts) -eq $((before + 1)) ]] || fail "selftest: the cut was not counted"
	# a blackhole: no answer at all, then pass and it works again
	proxy_ctl src blackhole >/dev/null
	local rc=0
	timeout 2 bash -c "MYSQL_PWD='$HARNESS_PASSWORD' mariadb --no-defaults -h 127.0.0.1 -P $SRCP_PORT -u sluice -e 'SELECT 1'" \
		>/dev/null 2>&1 || rc=$?
	((rc == 124)) || fail "selftest: a client through a blackhole ended with status $rc, want a hang (124)"
	proxy_ctl src pass >/dev/null
	out=$(via "$SRCP_PORT" -e "SELECT 1") || fail "selftest: no query after pass"
	echo "RESULT netfault-selftest trials=1 lost=0 dup=0"
}

# ---- the workload: paced small transactions straight into the source ----
workload() {
	local b=0 s k
	while [[ ! -f "$WORK/stop" ]]; do
		if [[ -f "$WORK/pause" ]]; then
			touch "$WORK/paused"
			sleep 0.05
			continue
		fi
		rm -f "$WORK/paused"
		b=$((b + 1))
		{
			for k in $(seq 1 20); do
				s=$((b * 20 + k))
				echo "BEGIN;"
				echo "INSERT INTO nf.ledger VALUES ($s, REPEAT('l', $((s % 40))));"
				echo "INSERT INTO nf.acct VALUES ($((s % 64)), 1, REPEAT('a', $((s % 200))))" \
					"ON DUPLICATE KEY UPDATE bal = bal + 1, pad = VALUES(pad);"
				if ((s % 8 == 0)); then
					echo "INSERT INTO nf.bulk SELECT $s * 100 + seq, REPEAT(CHAR(65 + seq % 26), 300) FROM nf.seq_1_to_40;"
					echo "DELETE FROM nf.bulk WHERE id < ($s - 400) * 100 LIMIT 20;"
				fi
				echo "COMMIT;"
				echo "DO SLEEP(0.01);"
			done
		} | src_sql || true
	done
}

src_seq() { src_sql -N -B -e "SELECT IFNULL(MAX(seq), 0) FROM nf.ledger"; }
dst_seq() { dst_sql -N -B -e "SELECT IFNULL(MAX(seq), 0) FROM nf.ledger" 2>/dev/null || echo 0; }

cap_pid=
rep_pid=
alive() {
	kill -0 "$cap_pid" 2>/dev/null || { tail -n 15 "$WORK/cap.err" >&2; fail "capture exited during $1"; }
	kill -0 "$rep_pid" 2>/dev/null || { tail -n 15 "$WORK/rep.err" >&2; fail "replay exited during $1"; }
}

# wait_seq SEQ SECONDS CASE: until the destination holds ledger seq >= SEQ.
wait_seq() {
	local want=$1 deadline=$((SECONDS + $2))
	while ((SECONDS < deadline)); do
		(($(dst_seq) >= want)) && return 0
		alive "$3"
		sleep 0.1
	done
	fail "$3: the destination did not reach ledger seq $want within $2 s (at $(dst_seq))"
}

# reconnects FILE [OFFSET]: reconnect lines of a log after byte OFFSET.
reconnects() { tail -c +$((${2:-0} + 1)) "$1" | grep -c -E -- "$RECONNECT_RE" || true; }
logsize() { stat -c %s "$1"; }

# drain_check ID trials=N FIGURES...: pause the workload, drain, check, print the RESULT line.
drain_check() {
	local id=$1 n d lost dup
	shift
	alive "$id"
	touch "$WORK/pause"
	for _ in $(seq 1 200); do
		[[ -f "$WORK/paused" ]] && break
		sleep 0.05
	done
	[[ -f "$WORK/paused" ]] || fail "$id: the workload did not pause"
	wait_equal "$DRAIN_TIMEOUT" || fail "$id: the destination did not drain to equal within $DRAIN_TIMEOUT s"
	alive "$id"
	n=$(src_sql -N -B -e "SELECT COUNT(*) FROM nf.ledger")
	d=$(dst_sql -N -B -e "SELECT COUNT(DISTINCT seq) FROM nf.ledger")
	dup=$(dst_sql -N -B -e "SELECT COUNT(*) - COUNT(DISTINCT seq) FROM nf.ledger")
	lost=$((n - d))
	((lost == 0 && dup == 0)) || fail "$id: ledger lost $lost dup $dup"
	run_sluice "verify-$id" verify --segments "$dir" --deep ||
		fail "$id: verify --segments: $(grep -m 3 problem "$WORK/verify-$id.out" "$WORK/verify-$id.err" || tail -n 3 "$WORK/verify-$id.err")"
	# the soak report reads "RESULT <id> trials=N lost=0 dup=0 ...": trials first
	local figs="$*" first rest=""
	first=${figs%% *}
	[[ "$figs" == *" "* ]] && rest=${figs#* }
	echo "RESULT $id $first lost=$lost dup=$dup transactions=$n $rest"
	rm -f "$WORK/pause"
}

case_cut() {
	local t side mode k cuts0 r0 log t0 seq rec=() rc_src=0 rc_dst=0
	for t in $(seq 1 "$TRIALS"); do
		if ((t % 2 == 1)); then side=src log=$WORK/cap.err; else side=dst log=$WORK/rep.err; fi
		if (((t - 1) / 2 % 2 == 0)); then mode=rst; else mode=fin; fi
		if [[ $side == src ]]; then k=$(((RANDOM * 32768 + RANDOM) % 65536 + 1)); else k=$((RANDOM % 4096 + 1)); fi
		cuts0=$(proxy_stat "$side" cuts)
		r0=$(reconnects "$log")
		proxy_ctl "$side" cut "$mode" "$k" >/dev/null
		for _ in $(seq 1 600); do
			(($(proxy_stat "$side" cuts) > cuts0)) && break
			alive "cut trial $t"
			sleep 0.05
		done
		(($(proxy_stat "$side" cuts) > cuts0)) || fail "cut trial $t: $k bytes never went through the $side proxy in 30 s"
		t0=$(now_ms)
		seq=$(src_seq)
		wait_seq "$seq" 60 "cut trial $t ($side $mode after $k bytes)"
		rec+=($(($(now_ms) - t0)))
		# the cut connection is noticed at the next read or write: at the latest when the load goes on
		for _ in $(seq 1 300); do
			(($(reconnects "$log") > r0)) && break
			alive "cut trial $t"
			sleep 0.1
		done
		(($(reconnects "$log") > r0)) || fail "cut trial $t: no '$RECONNECT_RE' line from $side's process after the cut"
		if [[ $side == src ]]; then rc_src=$((rc_src + 1)); else rc_dst=$((rc_dst + 1)); fi
		log "cut trial $t: $side $mode after $k bytes, caught up in ${rec[-1]} ms"
	done
	read -r p50 pmax < <(p50_max "${rec[@]}")
	drain_check netfault-cut "trials=$TRIALS source_cuts=$rc_src dest_cuts=$rc_dst recovery_p50_ms=$p50 recovery_max_ms=$pmax"
}

# Capture must notice a silent source (its read timeout, README "Timeouts":
# max(15 s, 5 heartbeats)); replay's worker reads wait up to 3600 s (a batch
# under lock waits), so on the destination side detection is measured when it
# comes within NF_BLACKHOLE_DST_SECONDS and "none" otherwise; both sides must
# resume after pass with nothing lost or doubled.
case_blackhole() {
	local side log r0 t0 t1 det first seq res max figs=""
	for side in src dst; do
		if [[ $side == src ]]; then log=$WORK/cap.err max=90; else log=$WORK/rep.err max=$BH_DST_MAX; fi
		r0=$(logsize "$log")
		t0=$(now_ms)
		proxy_ctl "$side" blackhole >/dev/null
		det=none
		while (($(now_ms) - t0 < max * 1000)); do
			first=$(tail -c +$((r0 + 1)) "$log" | grep -m 1 -E -- "$RECONNECT_RE" || true)
			if [[ -n "$first" ]]; then
				det=$(($(line_ms "$first") - t0))
				break
			fi
			alive "blackhole $side"
			sleep 0.1
		done
		[[ $side == dst || $det != none ]] ||
			fail "blackhole $side: no read timeout fired in $max s (no '$RECONNECT_RE' line)"
		seq=$(src_seq)
		proxy_ctl "$side" pass >/dev/null
		t1=$(now_ms)
		wait_seq "$seq" 120 "blackhole $side"
		res=$(($(now_ms) - t1))
		log "blackhole $side: detected after $det ms, resumed $res ms after pass"
		figs+=" ${side}_detect_ms=$det ${side}_resume_ms=$res"
	done
	drain_check netfault-blackhole "trials=2$figs"
}

# case_slow ID COMMAND ARG: both links slowed for NF_HOLD seconds (no
# reconnect expected, none counted as a failure: the figures say), then pass;
# behind_txns is how many source transactions the destination lacked then.
case_slow() {
	local id=$1 rc0 rr0 behind
	shift
	rc0=$(reconnects "$WORK/cap.err")
	rr0=$(reconnects "$WORK/rep.err")
	proxy_ctl src "$@" >/dev/null
	proxy_ctl dst "$@" >/dev/null
	sleep "$NF_HOLD"
	alive "$id"
	behind=$(($(src_seq) - $(dst_seq)))
	proxy_ctl src pass >/dev/null
	proxy_ctl dst pass >/dev/null
	drain_check "$id" "trials=1 hold_s=$NF_HOLD behind_txns=$behind capture_reconnects=$(($(reconnects "$WORK/cap.err") - rc0)) replay_reconnects=$(($(reconnects "$WORK/rep.err") - rr0))"
}

case_flip() {
	local off t0 flips det crc
	off=$(logsize "$WORK/cap.err")
	proxy_ctl src flip "$FLIPS" 30 >/dev/null
	t0=$SECONDS
	while (($(proxy_stat src flips) < FLIPS)); do
		alive flip
		((SECONDS - t0 < 30 + 10 * FLIPS)) ||
			fail "flip: $(proxy_stat src flips) of $FLIPS flips done in $((SECONDS - t0)) s (an undetected flip keeps its connection)"
		sleep 0.1
	done
	proxy_ctl src pass >/dev/null
	# the last flip's detection may still be on its way
	for _ in $(seq 1 100); do
		(($(reconnects "$WORK/cap.err" "$off") >= FLIPS)) && break
		alive flip
		sleep 0.1
	done
	flips=$(proxy_stat src flips)
	det=$(reconnects "$WORK/cap.err" "$off")
	crc=$(tail -c +$((off + 1)) "$WORK/cap.err" | grep -E -- "$RECONNECT_RE" | grep -c -i 'crc' || true)
	((det == flips)) || {
		tail -c +$((off + 1)) "$WORK/cap.err" | grep -E -- "$RECONNECT_RE" >&2 || true
		fail "flip: $flips bytes flipped, $det detections (reconnects) in capture's log"
	}
	drain_check netfault-flip "trials=$flips flips=$flips detected=$det detected_crc=$crc corrupt_applied=0"
}

# Aimed flips (faultproxy "flip 1 0 TYPE OFFSET MASK"): the rows event on the
# open connection, the format description and the fake ROTATE on the one after
# a cut (a dump opens with them).
case_flipaim() {
	local off spec n=0 det
	off=$(logsize "$WORK/cap.err")
	local -a specs=("23 4 12" "15 -5 1" "4 30 1")
	[[ -n "${NF_FLIPAIM_SPECS:-}" ]] && IFS=, read -r -a specs <<<"$NF_FLIPAIM_SPECS"
	for spec in "${specs[@]}"; do
		n=$((n + 1))
		# shellcheck disable=SC2086 # TYPE OFFSET MASK
		proxy_ctl src flip 1 0 $spec >/dev/null
		[[ $spec == "23 "* ]] || proxy_ctl src cut rst >/dev/null	# a new dump opens with them
		for _ in $(seq 1 300); do
			(($(proxy_stat src flips_pending) == 0)) && break
			alive flipaim
			sleep 0.1
		done
		(($(proxy_stat src flips_pending) == 0)) || fail "flipaim: no event of type ${spec%% *} came to flip in 30 s"
		for _ in $(seq 1 100); do
			(($(tail -c +$((off + 1)) "$WORK/cap.err" | grep -E -- "$RECONNECT_RE" | grep -c -E 'CRC32|malformed' || true) >= n)) && break
			alive flipaim
			sleep 0.1
		done
		det=$(tail -c +$((off + 1)) "$WORK/cap.err" | grep -E -- "$RECONNECT_RE" | grep -c -E 'CRC32|malformed' || true)
		((det >= n)) || fail "flipaim: the flip 'type offset mask' $spec was not detected (no reconnect naming a bad CRC32)"
		off=$(logsize "$WORK/cap.err")
		n=0
	done
	drain_check netfault-flipaim "trials=${#specs[@]} flips=${#specs[@]} detected=${#specs[@]} corrupt_applied=0"
}

main() {
	local c wl_pid
	for c in $NF_CASES; do
		[[ $c == selftest ]] && selftest
	done

	mkdir -p "$dir"
	must_sluice cap0 capture --source "$CAP_URL" --dir "$dir" --server-id 401
	src_sql -e "CREATE DATABASE nf;
		CREATE TABLE nf.ledger (seq BIGINT NOT NULL, v VARCHAR(64)) ENGINE=InnoDB;
		CREATE TABLE nf.acct (id INT PRIMARY KEY, bal BIGINT, pad VARCHAR(255)) ENGINE=InnoDB;
		CREATE TABLE nf.bulk (id BIGINT PRIMARY KEY, pad VARCHAR(400)) ENGINE=InnoDB;"
	# shellcheck disable=SC2086 # the option strings are word lists
	start_bg cap capture --source "$CAP_URL" --dir "$dir" --server-id 401 --follow $NF_CAPTURE_ARGS
	cap_pid=$BG_PID
	# shellcheck disable=SC2086
	start_bg rep replay --dir "$dir" --dest "$REP_URL" --follow $NF_REPLAY_ARGS
	rep_pid=$BG_PID
	workload &
	wl_pid=$!
	track_pid "$wl_pid"
	wait_seq 20 60 start
	log "capture and replay follow through the proxies; cases: $NF_CASES"

	for c in $NF_CASES; do
		case $c in
		selftest) ;;
		cut) case_cut ;;
		blackhole) case_blackhole ;;
		latency) case_slow netfault-latency latency 200 ;;
		throttle) case_slow netfault-throttle throttle 65536 ;;
		flip) case_flip ;;
		flipaim) case_flipaim ;;
		*) fail "unknown case '$c'" ;;
		esac
	done

	touch "$WORK/stop"
	wait "$wl_pid" || true
	wait_equal "$DRAIN_TIMEOUT" || fail "the destination did not drain to equal at the end"
	stop_bg "$cap_pid" cap TERM
	stop_bg "$rep_pid" rep TERM
	compare_all || fail "not equal at the end"
	assert_no_password "$WORK"/*.out "$WORK"/*.err "$WORK"/proxy-*.log
	log "PASS"
	echo "1 passed, 0 failed"
}

main "$@"
