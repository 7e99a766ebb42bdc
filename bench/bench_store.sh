#!/usr/bin/env bash
# bench/bench_store.sh - the segment store: capture's segment write throughput
# (MB/s of segment written and of binlog consumed) next to this disk's own
# sequential write+fdatasync throughput measured in the same run, the
# compression ratio segment bytes / binlog bytes on sysbench data, and
# `verify --segments` MB/s (CRC pass, and --deep with decompression).
#
#   bash bench/bench_store.sh                 (SLUICE_BIN=path for another build;
#                                              use a build without sanitizers)
#   BENCH_EVENTS=5000 bash bench/bench_store.sh
#
# Targets (issue 3): segments <= 30% of the binlog; capture >= 50% of the
# disk limit when the source is faster than the disk; verify >= 500 MB/s per
# core. Exit 0 with the report (a missed target is reported, not failed),
# 1 a run failed, 77 sysbench or the servers are missing.
set -euo pipefail
TEST_NAME=bench_store
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/harness.sh
source "$BENCH_DIR/../tests/integration/harness.sh"

TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-25000}
EVENTS=${BENCH_EVENTS:-20000}
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-600}
command -v sysbench >/dev/null || skip "sysbench not installed (scripts/install-deps.sh installs it)"
require_sluice
start_servers

dir=$WORK/stream
must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 601
read -r bfile bpos < <(src_sql -N -B -e "SHOW MASTER STATUS" | awk '{ print $1, $2 }')
src_sql -e "CREATE DATABASE sbtest"
sb=(oltp_write_only --db-driver=mysql --mysql-socket="$SRC_SOCK" --mysql-user=root
	--mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" --rand-seed=7)
log "sysbench prepare ($TABLES x $TABLE_SIZE) and run ($EVENTS events) on the source"
sysbench "${sb[@]}" --threads=1 prepare >"$WORK/prepare.log" 2>&1 || fail "sysbench prepare failed"
sysbench "${sb[@]}" --threads=4 --events="$EVENTS" --time=0 run >"$WORK/run.log" 2>&1 || fail "sysbench run failed"
binlog=$(src_sql -N -B -e "SHOW BINARY LOGS" | awk -v f="$bfile" -v p="$bpos" '
	$1 == f { on = 1; sum += $2 - p; next } on { sum += $2 } END { print sum + 0 }')

# The disk: sequential 1 MiB writes, each made durable (what a frame costs).
ddout=$(dd if=/dev/zero of="$WORK/dd.bin" bs=1M count=256 oflag=dsync 2>&1 | tail -1)
disk_mbs=$(awk -v s="$(stat -c %s "$WORK/dd.bin")" -v l="$ddout" 'BEGIN {
	n = split(l, a, ","); split(a[n - 1], t, " "); printf "%.1f", s / 1e6 / t[1] }')
rm -f "$WORK/dd.bin"

# Capture: the binlog is all there, so the source is faster than the disk.
t0=$(date +%s.%N)
must_sluice cap capture --source "$SRC_URL" --dir "$dir" --server-id 601 --segment-size 4M
t1=$(date +%s.%N)
seg=$(find "$dir" -maxdepth 1 \( -name '*.seg' -o -name '*.open' \) -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
seg_mbs=$(awk -v b="$seg" -v s="$secs" 'BEGIN { printf "%.1f", b / 1e6 / s }')
bin_mbs=$(awk -v b="$binlog" -v s="$secs" 'BEGIN { printf "%.1f", b / 1e6 / s }')
ratio=$(awk -v a="$seg" -v b="$binlog" 'BEGIN { printf "%.3f", a / b }')

# The same server's binlog files, read from the page cache: a source that
# is surely faster than the disk, so what is left is capture's own work.
src_sql -e "FLUSH BINARY LOGS"
datadir=${_H_DIRS[0]}/data
mkdir -p "$WORK/binlogs"
files=()
while read -r f; do
	cp "$datadir/$(basename "$f")" "$WORK/binlogs/"
	files+=("$WORK/binlogs/$(basename "$f")")
done < <(head -n -1 "$datadir/mysql-bin.index")
fbytes=$(cat "${files[@]}" | wc -c)
t0=$(date +%s.%N)
must_sluice fcap capture --binlog-files "${files[@]}" --dir "$WORK/fstream" --segment-size 4M
t1=$(date +%s.%N)
fseg=$(find "$WORK/fstream" -maxdepth 1 \( -name '*.seg' -o -name '*.open' \) -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
fsecs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
fseg_mbs=$(awk -v b="$fseg" -v s="$fsecs" 'BEGIN { printf "%.1f", b / 1e6 / s }')
fbin_mbs=$(awk -v b="$fbytes" -v s="$fsecs" 'BEGIN { printf "%.1f", b / 1e6 / s }')

# Rows zstd cannot shrink (random LONGBLOBs): here the segment bytes are the
# binlog bytes, and the disk could be the limit; this is the row the disk
# target is judged on.
BLOB_ROWS=${BENCH_BLOB_ROWS:-2100}
log "incompressible rows: $BLOB_ROWS x 64 KiB random LONGBLOBs"
dir3=$WORK/blobs
must_sluice bcap0 capture --source "$SRC_URL" --dir "$dir3" --server-id 603
src_sql -e "CREATE DATABASE blobs; CREATE TABLE blobs.t (id INT PRIMARY KEY, p LONGBLOB) ENGINE=InnoDB"
for ((i = 0; i < BLOB_ROWS; i += 300)); do
	src_sql -e "SET SESSION group_concat_max_len = 1048576;
		INSERT INTO blobs.t SELECT s.seq + $i, (SELECT GROUP_CONCAT(RANDOM_BYTES(1024) SEPARATOR '')
			FROM blobs.seq_1_to_64 x WHERE x.seq > s.seq * 0) FROM blobs.seq_1_to_300 s"
done
t0=$(date +%s.%N)
must_sluice bcap capture --source "$SRC_URL" --dir "$dir3" --server-id 603 --segment-size 64M
t1=$(date +%s.%N)
bseg=$(find "$dir3" -maxdepth 1 \( -name '*.seg' -o -name '*.open' \) -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
bsecs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
bseg_mbs=$(awk -v b="$bseg" -v s="$bsecs" 'BEGIN { printf "%.1f", b / 1e6 / s }')

# verify --segments: best of 3 (warm cache), one core.
best() {
	local mode=$1 b=0 r
	for _ in 1 2 3; do
		# shellcheck disable=SC2086
		taskset -c 0 "$SLUICE" verify --segments "$dir" $mode >"$WORK/ver.out" || fail "verify --segments found problems"
		r=$(grep -o '[0-9.]* MB/s' "$WORK/ver.out" | awk '{ print $1 }')
		b=$(awk -v a="$b" -v c="$r" 'BEGIN { print (c > a ? c : a) }')
	done
	echo "$b"
}
ver_mbs=$(best "")
deep_mbs=$(best --deep)
v() { awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN { ok = op == "ge" ? a >= b : a <= b; print ok ? "ok" : "MISSED" }'; }
half=$(awk -v d="$disk_mbs" 'BEGIN { print d / 2 }')
cat <<REPORT
== bench_store ($TABLES x $TABLE_SIZE rows, $EVENTS oltp_write_only events)
binlog consumed         $(awk -v b="$binlog" 'BEGIN { printf "%.1f", b / 1e6 }') MB
segments written        $(awk -v b="$seg" 'BEGIN { printf "%.1f", b / 1e6 }') MB ($(find "$dir" -name '*.seg' | wc -l) sealed)
capture wall time       ${secs} s
capture throughput      ${seg_mbs} MB/s of segment, ${bin_mbs} MB/s of binlog
disk write+fdatasync    ${disk_mbs} MB/s (dd bs=1M oflag=dsync, same filesystem)
  sysbench rows         $(awk -v a="$seg_mbs" -v d="$disk_mbs" 'BEGIN { printf "%.0f%%", 100 * a / d }') of the disk limit in segment bytes, $(awk -v a="$bin_mbs" -v d="$disk_mbs" 'BEGIN { printf "%.0f%%", 100 * a / d }') in binlog bytes (zstd shrinks them ~5x: CPU-bound, not disk-bound)
capture --binlog-files  ${fseg_mbs} MB/s of segment, ${fbin_mbs} MB/s of binlog ($(awk -v b="$fbytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB of files in ${fsecs} s, $(awk -v a="$fbin_mbs" -v d="$disk_mbs" 'BEGIN { printf "%.0f%%", 100 * a / d }') of the disk in binlog bytes)
capture, incompressible ${bseg_mbs} MB/s of segment ($(awk -v b="$bseg" 'BEGIN { printf "%.1f", b / 1e6 }') MB in ${bsecs} s, $BLOB_ROWS random 64 KiB BLOBs)
capture vs disk         $(awk -v a="$bseg_mbs" -v d="$disk_mbs" 'BEGIN { printf "%.0f%%", 100 * a / d }') of the disk limit (incompressible rows)   [target >= 50%: $(v "$bseg_mbs" ge "$half")]
segment / binlog        ${ratio}   [target <= 0.30: $(v "$ratio" le 0.30)]
verify --segments       ${ver_mbs} MB/s per core (CRC + zstd headers)   [target >= 500: $(v "$ver_mbs" ge 500)]
verify --segments --deep ${deep_mbs} MB/s per core (decompress + decode)
REPORT
