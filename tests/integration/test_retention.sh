#!/usr/bin/env bash
# Automatic retention (issue 3): `capture --follow --retain-bytes` removes,
# while it runs, the sealed segments every registered consumer has passed:
# nothing before a consumer registers, nothing a consumer still needs (no
# gap either), never the newest two. Replay resumes from its checkpoint in
# the purged directory, also live with --follow, and the destination equals
# the source row by row; verify --segments and status still pass. Then
# `--retain-age`: passed segments stay while their last commit is younger
# than the age and go once it is older; and the final pass of a batch run.
set -euo pipefail
TEST_NAME=test_retention
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# The sequence numbers of DIR's segment files (sealed and open), ascending.
seqs() {
	find "$1" -maxdepth 1 \( -name '*.seg' -o -name '*.open' \) -printf '%f\n' |
		sed 's/\..*//; s/^0*//' | sort -n
}
lowest() { seqs "$1" | head -n 1; }
highest() { seqs "$1" | tail -n 1; }

# no_gap DIR: the segments run from the lowest to the highest without a hole.
no_gap() {
	local lo hi n
	lo=$(lowest "$1")
	hi=$(highest "$1")
	n=$(seqs "$1" | wc -l)
	((n == hi - lo + 1)) || fail "segments of $1 have a gap: $(seqs "$1" | tr '\n' ' ')"
}

# bytes_after DIR SEQ: the bytes of DIR's segments after segment SEQ.
bytes_after() {
	local f s total=0
	for f in "$1"/*.seg "$1"/*.open; do
		[[ -e "$f" ]] || continue
		s=$(basename "$f")
		s=${s%%.*}
		((10#$s > $2)) && total=$((total + $(stat -c %s "$f")))
	done
	echo "$total"
}

# consumer_seq DIR NAME: the segment consumer NAME registered in DIR.
consumer_seq() {
	sed -n 's/.* seq=\([0-9]*\) .*/\1/p' "$1/consumers/$2"
}

# wait_lowest DIR SEQ TIMEOUT_S: until DIR's lowest segment is SEQ or more.
wait_lowest() {
	local deadline=$((SECONDS + $3))
	while ((SECONDS < deadline)); do
		(($(lowest "$1") >= $2)) && return 0
		sleep 0.5
	done
	return 1
}

# Batch N: 20 transactions of 100 rows each (a few 64K segments), an update
# and a delete.
batch() {
	local n=$1 i sql="USE ret;"
	for i in $(seq 1 20); do
		sql+="INSERT INTO t (id, a, b, n) SELECT $n * 100000 + $i * 1000 + seq,
			SHA2(CONCAT($n, '-', $i, '-', seq), 256), SHA2(CONCAT(seq, 'x', $n), 256), seq
			FROM seq_1_to_100;"
	done
	sql+="UPDATE t SET n = n + 1, a = UPPER(a) WHERE id % 7 = $((n % 7)) AND id > $n * 100000;
		DELETE FROM t WHERE id % 13 = $((n % 13)) AND id < $n * 100000;"
	src_sql -e "$sql"
}

require_sluice
start_servers 3
dir=$WORK/stream

log "part 1: --retain-bytes while capture --follow runs"
must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 601
start_bg cap capture --source "$SRC_URL" --dir "$dir" --server-id 601 --follow \
	--segment-size 64K --retain-bytes 128K
cap=$BG_PID
src_sql -e "CREATE DATABASE ret; CREATE TABLE ret.t (id INT PRIMARY KEY, a CHAR(64), b CHAR(64), n INT)"
for n in 1 2 3; do batch "$n"; done
deadline=$((SECONDS + 60))
until (($(find "$dir" -name '*.seg' | wc -l) >= 4)); do
	((SECONDS < deadline)) || fail "capture sealed fewer than 4 segments: $(seqs "$dir" | tr '\n' ' ')"
	sleep 0.5
done
sleep 4	# more than one retention period
(($(lowest "$dir") == 1)) || fail "a segment was removed before any consumer registered"
grep -q "retention waits for a consumer" "$WORK/cap.err" ||
	fail "capture did not say that retention waits for a consumer"

# A consumer that then stops: it is behind while the workload goes on.
must_sluice rep1 replay --dir "$dir" --dest "$DST_URL" --consumer slow
cseq=$(consumer_seq "$dir" slow)
((cseq >= 4)) || fail "consumer slow registered segment '$cseq'"
for n in 4 5 6 7 8; do batch "$n"; done
wait_lowest "$dir" "$cseq" 30 || fail "segments below the consumer's $cseq were not removed: $(seqs "$dir" | tr '\n' ' ')"
sleep 4	# another retention period: still nothing the consumer needs goes
(($(lowest "$dir") == cseq)) || fail "segment $cseq, which consumer slow has not passed, was removed"
(($(highest "$dir") >= cseq + 4)) || fail "the workload should have made several segments after $cseq"
no_gap "$dir"
log "consumer slow at segment $cseq: segments $(lowest "$dir")..$(highest "$dir") kept"
kill -0 "$cap" 2>/dev/null || fail "capture exited"
grep -Eq "info +store +removed '.*/0+1\.seg' \([0-9]+ bytes\)" "$WORK/cap.err" ||
	fail "no INFO line for the removal of segment 1: $(grep -i removed "$WORK/cap.err" | head -3)"
must_sluice st1 status "$dir"
grep -q "slow" "$WORK/st1.out" || fail "status does not show consumer slow: $(cat "$WORK/st1.out")"
must_sluice ver1 verify --segments "$dir"

# The consumer resumes from its checkpoint in the purged directory, then
# follows live while capture goes on removing what it has passed.
must_sluice rep2 replay --dir "$dir" --dest "$DST_URL" --consumer slow
compare_all || fail "destination differs from source after replay in a purged directory"
start_bg rep3 replay --dir "$dir" --dest "$DST_URL" --consumer slow --follow
rep=$BG_PID
low=$(lowest "$dir")
for n in 9 10 11 12; do batch "$n"; done
wait_equal 120 || {
	tail -n 20 "$WORK/rep3.err" >&2
	kill -0 "$rep" 2>/dev/null || echo "(replay --follow has exited)" >&2
	fail "replay --follow did not catch up"
}
(($(lowest "$dir") > low)) || fail "nothing was removed while replay followed"
stop_bg "$rep" rep3 TERM	# its last registration names where it stopped
cseq=$(consumer_seq "$dir" slow)
# Retention settles where the consumer, the newest two segments or the 128K
# floor stop it.
deadline=$((SECONDS + 30))
until (($(lowest "$dir") >= cseq - 1 || $(bytes_after "$dir" "$(lowest "$dir")") < 131072)); do
	((SECONDS < deadline)) || fail "segments the consumer passed (it is at $cseq) were kept: $(seqs "$dir" | tr '\n' ' ')"
	sleep 0.5
done
(($(lowest "$dir") <= cseq)) || fail "a segment the consumer needs was removed"
log "consumer slow at segment $cseq: segments $(lowest "$dir")..$(highest "$dir") kept"
stop_bg "$cap" cap TERM
no_gap "$dir"
compare_all || fail "destination differs from source"
must_sluice ver2 verify --segments "$dir"
must_sluice st2 status "$dir"
grep -q "behind retention" "$WORK/st2.out" && fail "status: the consumer fell behind retention: $(cat "$WORK/st2.out")"

# A batch run applies the policy once at its end: with no floor only the
# newest two segments stay (the newest one sealed, the open one after it).
must_sluice cap2 capture --source "$SRC_URL" --dir "$dir" --server-id 601 --retain-bytes 0
n=$(seqs "$dir" | wc -l)
((n <= 2)) || fail "a batch capture with --retain-bytes 0 left $n segments: $(seqs "$dir" | tr '\n' ' ')"
must_sluice ver3 verify --segments "$dir"
must_sluice rep4 replay --dir "$dir" --dest "$DST_URL" --consumer slow
compare_all || fail "destination differs from source after the batch purge"
# A new consumer (on a fresh destination: a second consumer of the stream on
# the same one is refused first) would start at segment 1, which is gone:
# refused, not skipped.
rc=0
run_sluice newc replay --dir "$dir" --dest "$DST2_URL" --consumer newcomer || rc=$?
((rc == 2)) || fail "a new consumer on a purged directory exited $rc, want 2"
grep -q "begins at segment .* consumer 'newcomer' needs segment 1" "$WORK/newc.err" ||
	fail "a new consumer on a purged directory: $(cat "$WORK/newc.err")"
[[ ! -e "$dir/consumers/newcomer" ]] || fail "the refused consumer registered itself (it would hold retention back)"

log "part 2: --retain-age"
dir2=$WORK/aged
age=10
must_sluice acap0 capture --source "$SRC_URL" --dir "$dir2" --server-id 602
start_bg acap capture --source "$SRC_URL" --dir "$dir2" --server-id 602 --follow \
	--segment-size 64K --retain-age "${age}s"
acap=$BG_PID
t0=$(date +%s)
for n in 21 22 23; do batch "$n"; done
# capture --follow makes the batches durable within its commit interval
deadline=$((SECONDS + 30))
while :; do
	must_sluice arep1 replay --dir "$dir2" --dest "$DST_URL" --consumer aged
	cseq=$(consumer_seq "$dir2" aged)
	((${cseq:-0} >= 3 || SECONDS > deadline)) && break
	sleep 0.5
done
((cseq >= 3)) || fail "consumer aged registered segment '$cseq'"
# Every passed segment holds commits made after t0: none may go before t0 + age.
log "consumer aged at segment $cseq, $(($(date +%s) - t0)) s after the first commit"
while (($(date +%s) < t0 + age - 1)); do
	(($(lowest "$dir2") == 1)) || fail "a segment younger than --retain-age $age s was removed"
	sleep 0.5
done
batch 24	# the consumer's segment is not among the newest two any more
wait_lowest "$dir2" "$cseq" $((age + 30)) ||
	fail "segments older than --retain-age that consumer aged passed were not removed: $(seqs "$dir2" | tr '\n' ' ')"
log "segments below $cseq removed $(($(date +%s) - t0)) s after the first commit"
sleep 4
(($(lowest "$dir2") == cseq)) || fail "segment $cseq, which consumer aged has not passed, was removed"
no_gap "$dir2"
stop_bg "$acap" acap TERM
must_sluice arep2 replay --dir "$dir2" --dest "$DST_URL" --consumer aged
compare_all || fail "destination differs from source after the --retain-age part"
must_sluice aver verify --segments "$dir2"
assert_no_password "$WORK"/*.out "$WORK"/*.err
echo "1 passed, 0 failed"
