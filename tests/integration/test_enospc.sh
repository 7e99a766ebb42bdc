#!/usr/bin/env bash
# A full disk (RELIABILITY.md E1): capture writes its stream into a 4 MiB
# tmpfs while the source produces incompressible rows. When the disk fills,
# capture must stop within a second with exit status 2 and a one-line error
# naming the directory and "No space left on device"; every sealed segment
# stays valid (verify --segments). After the tmpfs is grown, a restart
# continues where the durable stream ended, and replay makes the destination
# equal to the source: nothing lost, nothing twice.
# Needs root for mount; skipped otherwise (under CI=true: fails).
set -euo pipefail
TEST_NAME=test_enospc
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

require_sluice
mnt=$WORK/mnt
mkdir -p "$mnt"
if [[ $(id -u) -ne 0 ]] || ! mount -t tmpfs -o size=4m,mode=0700 tmpfs "$mnt" 2>"$WORK/mount.err"; then
	_require "cannot mount a tmpfs (needs root): $(cat "$WORK/mount.err" 2>/dev/null)"
fi
on_exit "umount '$mnt' 2>/dev/null || umount -l '$mnt' 2>/dev/null || true"
start_servers

dir=$mnt/stream
must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 401
src_sql -e "CREATE DATABASE full1;
	CREATE TABLE full1.blobs (id INT PRIMARY KEY, b VARBINARY(2000)) ENGINE=InnoDB;"

# Incompressible rows, ~100 KB per transaction, until told to stop.
workload() {
	local b=0
	while [[ ! -f "$WORK/stop" ]]; do
		b=$((b + 1))
		src_sql -e "INSERT INTO full1.blobs SELECT $b * 1000 + seq, RANDOM_BYTES(1000)
			FROM full1.seq_1_to_100; DO SLEEP(0.01);" || true
	done
}

"$SLUICE" capture --source "$SRC_URL" --dir "$dir" --server-id 401 --follow \
	--segment-size 512K --commit-interval 5 >"$WORK/cap.out" 2>"$WORK/cap.err" &
cap_pid=$!
track_pid "$cap_pid"
workload &
wl_pid=$!
track_pid "$wl_pid"

# Wait for capture to stop by itself; note when.
deadline=$((SECONDS + 120))
while kill -0 "$cap_pid" 2>/dev/null; do
	((SECONDS < deadline)) || fail "capture did not stop on a full disk within 120 s"
	sleep 0.05
done
stopped=$(date +%s.%N)
rc=0
wait "$cap_pid" || rc=$?
touch "$WORK/stop"
wait "$wl_pid" || true
log "capture exited $rc: $(tail -1 "$WORK/cap.err")"
((rc == 2)) || fail "capture exited $rc on a full disk, not 2: $(tail -3 "$WORK/cap.err")"
grep -q "No space left on device" "$WORK/cap.err" || fail "the error does not name the cause: $(tail -1 "$WORK/cap.err")"
grep -q -F "$dir" "$WORK/cap.err" || fail "the error does not name the directory: $(tail -1 "$WORK/cap.err")"
# The last write attempt is the newest mtime in DIR: exit within a second of it.
last=$(find "$dir" -maxdepth 1 -type f -printf '%T@\n' | sort -n | tail -1)
lag=$(awk -v a="$stopped" -v b="$last" 'BEGIN { printf "%.2f", a - b }')
log "stopped ${lag}s after the last write"
awk -v l="$lag" 'BEGIN { exit !(l < 1.0) }' || fail "capture took ${lag}s to stop after the disk filled"
sealed=$(find "$dir" -name '*.seg' | wc -l)
((sealed >= 1)) || fail "no segment was sealed before the disk filled"
run_sluice verify1 verify --segments "$dir" || fail "a full disk left a bad stream: $(cat "$WORK/verify1.out")"

# Free space: grow the tmpfs (contents stay), restart, catch up.
mount -o remount,size=64m "$mnt" || fail "cannot grow the tmpfs"
must_sluice cap2 capture --source "$SRC_URL" --dir "$dir" --server-id 401
grep -q "cutting" "$WORK/cap2.err" && log "restart cut a torn tail: $(grep cutting "$WORK/cap2.err" | tail -1)"
run_sluice verify2 verify --segments "$dir" || fail "verify after restart: $(cat "$WORK/verify2.out")"
must_sluice rep replay --dir "$dir" --dest "$DST_URL"
compare_all || fail "source and destination differ after ENOSPC and restart"
n=$(dst_sql -N -e "SELECT COUNT(*) FROM full1.blobs")
log "RESULT E1 stop_after=${lag}s sealed=$sealed rows=$n lost=0 dup=0"
echo "1 passed, 0 failed"
