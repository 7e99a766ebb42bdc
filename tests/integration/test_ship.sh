#!/usr/bin/env bash
# Ship and receive through NATS JetStream (issue 15): capture --follow writes
# many small sealed segments (64K, sealed every 300 ms) while a workload runs
# (inserts, updates, deletes, a keyless ledger where a duplicate shows, an
# ALTER, 1.5 MB transactions whose segments travel in several messages);
# `ship --follow` publishes them to a 3-node R3 JetStream stream ORDERS while
# one node is killed with kill -9 and restarted, then while the whole cluster
# is down for 5 s (ship and receive must log their retries and resume). Site 1
# receives with --follow during all of it, site 2 once afterwards (a second
# run adds nothing). Each site is replayed into its own destination: both
# equal the source, every received segment is byte for byte the shipped one.
# Then: `status --nats` shows the shipped position and both receivers; a
# receiver pointed at another stream's NATS stream is refused and adds
# nothing; an unreachable URL gives up after --retry-for, a URL without a
# stream name is refused, credentials never show in any output.
set -euo pipefail
TEST_NAME=test_ship
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
# shellcheck source=tests/integration/nats.sh
source "$(dirname "${BASH_SOURCE[0]}")/nats.sh"
# shellcheck source=tests/integration/ship_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/ship_lib.sh"

LOAD_S=${SHIP_LOAD_S:-2}	# workload seconds before the node kill and after the outage
require_sluice
require_ship
start_servers 3
start_nats 3
D=$WORK/stream
R1=$WORK/site1
R2=$WORK/site2
ORDERS=$NATS_URL/ORDERS

must_sluice cap0 capture --source "$SRC_URL" --dir "$D" --server-id 601
src_sql -e "CREATE DATABASE shipdb;
	CREATE TABLE shipdb.t (id BIGINT PRIMARY KEY, v VARCHAR(100), n BIGINT) ENGINE=InnoDB;
	CREATE TABLE shipdb.ledger_nopk (seq BIGINT, v VARCHAR(40)) ENGINE=InnoDB;
	CREATE TABLE shipdb.big (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB;"

# The workload: batches of 20 small transactions (insert, some updates and
# deletes, one ledger row each), an ALTER in batch 4, and every 10th batch a
# 1.5 MB incompressible row (a segment larger than NATS's 1 MB max payload).
workload() {
	local b=0 i k
	while [[ ! -f "$WORK/stop" ]]; do
		b=$((b + 1))
		{
			for k in $(seq 1 20); do
				i=$((b * 20 + k))
				echo "BEGIN;"
				echo "INSERT INTO shipdb.t (id, v, n) VALUES ($i, REPEAT('v', $((i % 90))), $i);"
				echo "INSERT INTO shipdb.ledger_nopk VALUES ($i, 'txn $i');"
				if ((i % 5 == 0)); then
					echo "UPDATE shipdb.t SET n = n + 1, v = 'upd' WHERE id = $((i - 3));"
				fi
				if ((i % 7 == 0)); then
					echo "DELETE FROM shipdb.t WHERE id = $((i - 6));"
				fi
				echo "COMMIT;"
				echo "DO SLEEP(0.01);"
			done
			if ((b == 4)); then
				echo "ALTER TABLE shipdb.t ADD COLUMN extra INT DEFAULT 7;"
			fi
			if ((b % 10 == 3)); then
				echo "SET SESSION group_concat_max_len = 4194304;"
				echo "INSERT INTO shipdb.big SELECT $b, GROUP_CONCAT(RANDOM_BYTES(1024) SEPARATOR '') FROM shipdb.seq_1_to_1500;"
			fi
		} | src_sql 2>>"$WORK/workload.err" || true
	done
}

bg_sluice capture capture --source "$SRC_URL" --dir "$D" --server-id 601 --follow \
	--segment-size 64K --segment-age 300ms
cap_pid=$BG_PID
workload &
wl_pid=$!
track_pid "$wl_pid"

# A first one-shot ship creates the stream and ships what is sealed so far;
# ship --follow then resumes after it.
first=$(wait_seg "$D" 2 60)
must_sluice ship0 ship "$D" --to "$ORDERS"
grep -E -q "^shipped segments 0*1\.\.[0-9]+ \([0-9]+ bytes in [0-9]+ messages\) to (nats://[^ ]*/)?ORDERS$" "$WORK/ship0.out" ||
	fail "one-shot ship did not say what it shipped: $(cat "$WORK/ship0.out" "$WORK/ship0.err")"
log "first segments sealed in $first ms; $(cat "$WORK/ship0.out")"
[[ -f "$D/consumers/ship-ORDERS" ]] || fail "ship did not register its consumer file $D/consumers/ship-ORDERS: $(ls "$D/consumers" 2>&1)"
bg_sluice ship ship "$D" --to "$ORDERS" --follow
ship_pid=$BG_PID
bg_sluice rcv1 receive "$ORDERS" --into "$R1" --follow --reader site1
rcv1_pid=$BG_PID
sleep "$LOAD_S"

# A node killed with kill -9 mid-way, back 2 s later: the R3 stream loses nothing.
node=$((RANDOM % 3 + 1))
s_kill=$(newest_seq "$D")
t_kill=$(now_ms)
kill_nats "$node"
sleep 2
restart_nats "$node"
wait_seg "$R1" "$s_kill" 60 "ship:$ship_pid" "rcv1:$rcv1_pid" >/dev/null
node_ms=$(($(now_ms) - t_kill))
log "node $node killed at segment $s_kill: site 1 had it $node_ms ms after the kill"
sleep 1

# The whole cluster down for 5 s while capture goes on sealing segments.
retries_ship0=$(grep -c -i -E -- "$RETRY_RE" "$WORK/ship.err" || true)
retries_rcv0=$(grep -c -i -E -- "$RETRY_RE" "$WORK/rcv1.err" || true)
for i in 1 2 3; do stop_nats "$i"; done
# Meanwhile status shows ship waiting (its state file, as capture's and
# replay's); a publish in flight may first wait out its 5 s timeout.
t_down=$(now_ms)
seen=0
while (($(now_ms) - t_down < 5000)) || ((!seen && $(now_ms) - t_down < 10000)); do
	sleep 0.5
	if ((!seen)); then
		must_sluice stdown status "$D"
		grep -E -q "ship.*ORDERS.*reconnecting" "$WORK/stdown.out" && seen=$(($(now_ms) - t_down))
	fi
done
((seen)) || fail "status does not show ship reconnecting 10 s into the outage: $(grep -i ship "$WORK/stdown.out")"
s_down=$(newest_seq "$D")
for i in 1 2 3; do restart_nats "$i"; done
t_up=$(now_ms)
wait_seg "$R1" "$s_down" 90 "ship:$ship_pid" "rcv1:$rcv1_pid" >/dev/null
resume_ms=$(($(now_ms) - t_up))
retries_ship=$(($(grep -c -i -E -- "$RETRY_RE" "$WORK/ship.err" || true) - retries_ship0))
retries_rcv=$(($(grep -c -i -E -- "$RETRY_RE" "$WORK/rcv1.err" || true) - retries_rcv0))
log "cluster down $(((t_up - t_down) / 1000)) s (status said ship reconnecting after $seen ms): site 1 had segment $s_down $resume_ms ms after the restart; retry lines: ship $retries_ship, receive $retries_rcv"
((retries_ship > 0)) || fail "ship logged no retry while the cluster was down: $(tail -n 5 "$WORK/ship.err")"
((retries_rcv > 0)) || fail "receive logged no retry while the cluster was down: $(tail -n 5 "$WORK/rcv1.err")"
kill -0 "$ship_pid" 2>/dev/null || fail "ship --follow ended during the outage: $(tail -n 5 "$WORK/ship.err")"
kill -0 "$rcv1_pid" 2>/dev/null || fail "receive --follow ended during the outage: $(tail -n 5 "$WORK/rcv1.err")"
sleep "$LOAD_S"

# The end of the workload: capture stops, a batch capture seals the rest.
touch "$WORK/stop"
wait "$wl_pid" || true
stop_bg "$cap_pid" capture TERM
must_sluice capfin capture --source "$SRC_URL" --dir "$D" --server-id 601
[[ -z $(find "$D" -maxdepth 1 -name '*.open') ]] || fail "the final batch capture left an open segment: $(ls "$D")"
s_last=$(newest_seq "$D")
n_segs=$(sealed_segs "$D" | wc -l)
wait_seg "$R1" "$s_last" 60 "ship:$ship_pid" "rcv1:$rcv1_pid" >/dev/null
stop_bg "$ship_pid" ship TERM
stop_bg "$rcv1_pid" rcv1 TERM
log "stream of $n_segs sealed segments (newest $s_last) shipped and received at site 1"

# Nothing left to ship: a one-shot ship after --follow publishes nothing again.
must_sluice ship1 ship "$D" --to "$ORDERS"
grep -q "^nothing to ship" "$WORK/ship1.out" || fail "a second ship published again: $(cat "$WORK/ship1.out")"

# Site 2: a one-shot catch-up after the workload, twice.
must_sluice rcv2a receive "$ORDERS" --into "$R2" --reader site2
grep -E -q "^received segments 0*1\.\.0*$s_last into .*\($n_segs added[,)]" "$WORK/rcv2a.out" ||
	fail "site 2 did not receive segments 1..$s_last ($n_segs): $(cat "$WORK/rcv2a.out" "$WORK/rcv2a.err")"
msgs=$(check_messages rcv2a "$D")
seg_state "$R2" >"$WORK/r2.before"
must_sluice rcv2b receive "$ORDERS" --into "$R2" --reader site2
grep -E -q "\(0 added[,)]|nothing new" "$WORK/rcv2b.out" || fail "a second receive at site 2 added segments: $(cat "$WORK/rcv2b.out")"
seg_state "$R2" | cmp -s - "$WORK/r2.before" || fail "a second receive at site 2 changed its segments"

# Byte for byte the shipped files; clean; each site replayed into its own destination.
log "site 2 received; comparing"
n1=$(same_segments "$D" "$R1")
n2=$(same_segments "$D" "$R2")
must_sluice ver1 verify --segments "$R1"
must_sluice ver2 verify --segments "$R2"
# the two sites' replays side by side, each into its own destination
run_sluice rep1 replay --dir "$R1" --dest "$DST_URL" &
rep1=$!
run_sluice rep2 replay --dir "$R2" --dest "$DST2_URL" &
rep2=$!
wait "$rep1" || fail "replay of site 1 exited $(cat "$WORK/rep1.rc"): $(tail -n 5 "$WORK/rep1.err")"
wait "$rep2" || fail "replay of site 2 exited $(cat "$WORK/rep2.rc"): $(tail -n 5 "$WORK/rep2.err")"
log "both sites replayed"
compare_all 1 2 || fail "site 1's destination differs from the source"
compare_all 1 3 || fail "site 2's destination differs from the source"
fig1=$(ledger_figures shipdb.ledger_nopk 2)
fig2=$(ledger_figures shipdb.ledger_nopk 3)
read -r lost1 dup1 <<<"$fig1"
read -r lost2 dup2 <<<"$fig2"
txns=$(src_sql -N -B -e "SELECT COUNT(*) FROM shipdb.ledger_nopk")
lost=$((lost1 + lost2))
dup=$((dup1 + dup2))
log "segments identical: $n1 at site 1, $n2 at site 2; $txns ledger transactions, lost $lost, dup $dup"

# status --nats: the stream with the segment shipped last, and both receivers.
must_sluice st status "$D" --nats "$ORDERS"
last_re="(^|[^0-9])0*$s_last([^0-9]|$)"
grep -w "ORDERS" "$WORK/st.out" | grep -q -E -- "[0-9]+ messages.*3 replicas" ||
	fail "status --nats does not show the stream ORDERS (messages, 3 replicas): $(cat "$WORK/st.out")"
grep -i "shipped" "$WORK/st.out" | grep -q -E -- "$last_re" ||
	fail "status --nats does not show ORDERS shipped through segment $s_last: $(cat "$WORK/st.out")"
for r in site1 site2; do
	grep -w -- "$r" "$WORK/st.out" | grep -q -E -- "$last_re" ||
		fail "status --nats does not show receiver $r at segment $s_last: $(cat "$WORK/st.out")"
done
must_sluice st0 status "$D"
grep -q "ship-ORDERS" "$WORK/st0.out" || fail "status does not list ship's consumer: $(cat "$WORK/st0.out")"

# A receiver pointed at another stream: a second stream directory (its own
# stream id) shipped to OTHER; receiving it into site 1 is refused, nothing added.
must_sluice capo capture --source "$SRC_URL" --dir "$WORK/other" --server-id 602 --segment-size 4K
src_sql -e "CREATE DATABASE odb; CREATE TABLE odb.p (id INT PRIMARY KEY, b VARBINARY(1024));
	INSERT INTO odb.p SELECT seq, RANDOM_BYTES(1000) FROM odb.seq_1_to_12;"
must_sluice capo2 capture --source "$SRC_URL" --dir "$WORK/other" --server-id 602 --segment-size 4K
must_sluice shipo ship "$WORK/other" --to "$NATS_URL/OTHER"
seg_state "$R1" >"$WORK/r1.before"
find "$R1" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort >"$WORK/r1.ls.before"
expect_error foreign '(^|[^a-z])OTHER([^a-z]|$)' receive "$NATS_URL/OTHER" --into "$R1" --reader site1
seg_state "$R1" | cmp -s - "$WORK/r1.before" || fail "a refused receive changed site 1's segments"
find "$R1" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort | cmp -s - "$WORK/r1.ls.before" ||
	fail "a refused receive added files to site 1: $(find "$R1" -mindepth 1 -maxdepth 1 -newer "$WORK/r1.ls.before")"

# Bad inputs: one line, exit 2, no password anywhere. The cases that wait out
# --retry-for 2s run side by side.
port=$(free_port)
URL_PASSWORD="NatsPw-$$-n0tPr1nted"
# gave_up NAME ARGS...: sluice ARGS must give up (exit 2, one line) after about 2 s.
gave_up() {
	local name=$1 t0 el
	shift
	t0=$(now_ms)
	expect_error "$name" 'gave up' "$@"
	el=$(($(now_ms) - t0))
	((el >= 1500 && el < 30000)) || fail "$name: gave up after $el ms with --retry-for 2s"
}
pids=()
gave_up ship_unreach ship "$D" --to "nats://127.0.0.1:$port/NOWHERE" --follow --retry-for 2s &
pids+=("$!")
gave_up rcv_unreach receive "nats://127.0.0.1:$port/NOWHERE" --into "$WORK/r3" --follow --retry-for 2s &
pids+=("$!")
SLUICE_NATS_PASSWORD=$HARNESS_PASSWORD gave_up ship_user \
	ship "$D" --to "nats://shipper@127.0.0.1:$port/NOWHERE" --follow --retry-for 2s &
pids+=("$!")
SLUICE_NATS_PASSWORD=$HARNESS_PASSWORD gave_up rcv_user \
	receive "nats://shipper@127.0.0.1:$port/NOWHERE" --into "$WORK/r5" --follow --retry-for 2s &
pids+=("$!")
# a password in the URL is refused (it would be in argv): SLUICE_NATS_PASSWORD only
expect_error ship_pwurl 'password' \
	ship "$D" --to "nats://shipper:$URL_PASSWORD@127.0.0.1:$port/NOWHERE" --follow --retry-for 2s
expect_error rcv_pwurl 'password' \
	receive "nats://shipper:$URL_PASSWORD@127.0.0.1:$port/NOWHERE" --into "$WORK/r6" --follow --retry-for 2s
expect_error ship_noname 'url|name|stream' ship "$D" --to "nats://127.0.0.1:$port"
expect_error ship_emptyname 'url|name|stream' ship "$D" --to "nats://127.0.0.1:$port/"
expect_error rcv_noname 'url|name|stream' receive "nats://127.0.0.1:$port" --into "$WORK/r4"
expect_error rcv_scheme 'url|nats|scheme' receive "http://127.0.0.1:$port/ORDERS" --into "$WORK/r4"
for p in "${pids[@]}"; do
	wait "$p" || fail "a --retry-for case failed (its line is above)"
done
for r in r3 r4 r5 r6; do
	[[ -z $(sealed_segs "$WORK/$r") ]] || fail "a refused receive added segments to $WORK/$r"
done
for f in "$WORK"/*.out "$WORK"/*.err "$D"/consumers/*; do
	assert_no_password "$f"
	if grep -q -F -- "$URL_PASSWORD" "$f" 2>/dev/null; then fail "the URL's password appears in $f"; fi
done

echo "RESULT ship_node_kill trials=1 lost=$lost dup=$dup recovery_ms=$node_ms segments=$n_segs stream_msgs=$msgs"
echo "RESULT ship_cluster_down trials=1 lost=$lost dup=$dup resume_ms=$resume_ms status_reconnecting_ms=$seen ship_retries=$retries_ship receive_retries=$retries_rcv"
((lost == 0 && dup == 0)) || fail "lost $lost, duplicated $dup ledger transactions"
echo "1 passed, 0 failed"
