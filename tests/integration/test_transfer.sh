#!/usr/bin/env bash
# Air-gapped transfer (RELIABILITY.md S7): capture -> pack (with an HMAC key)
# -> unpack into a new directory -> replay from there -> equal. A second
# bundle continues the first; running unpack twice changes nothing; a
# tampered, truncated, unsigned, foreign or older bundle is refused with exit
# 2 and nothing is added. Also status and purge on the receiving side.
set -euo pipefail
TEST_NAME=test_transfer
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

require_sluice
start_servers
dir=$WORK/stream
recv=$WORK/received
key=$WORK/link.key
head -c 32 /dev/urandom >"$key"
chmod 600 "$key"

must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 501
src_sql -e "CREATE DATABASE xfer;
	CREATE TABLE xfer.t (id INT PRIMARY KEY, v VARCHAR(200), d DECIMAL(20,4), ts DATETIME(6)) ENGINE=InnoDB;
	INSERT INTO xfer.t SELECT seq, REPEAT(CHAR(65 + seq % 26), seq % 200), seq / 7, NOW(6)
		FROM xfer.seq_1_to_20000;
	UPDATE xfer.t SET v = 'changed' WHERE id % 10 = 0;
	DELETE FROM xfer.t WHERE id % 97 = 0;"
# A heartbeat-only segment is sealed when the next one starts: seal on size.
must_sluice cap1 capture --source "$SRC_URL" --dir "$dir" --server-id 501 --segment-size 64K
n_sealed=$(find "$dir" -name '*.seg' | wc -l)
((n_sealed >= 2)) || fail "expected several sealed segments, got $n_sealed"

must_sluice pack1 pack "$dir" --out "$WORK/b1" --key "$key"
grep -q '^hmac ' "$WORK/b1/MANIFEST" || fail "manifest has no hmac"

# Refusals first: nothing may be added by any of them.
cp -r "$WORK/b1" "$WORK/bad"
f=$(find "$WORK/bad" -name '*.seg' | sort | sed -n 2p)
printf '\x01' | dd of="$f" bs=1 seek=200 conv=notrunc status=none
run_sluice t1 unpack "$WORK/bad" --into "$recv" --key "$key" && fail "a tampered bundle was accepted"
[[ $(cat "$WORK/t1.rc") == 2 ]] || fail "tampered bundle: exit $(cat "$WORK/t1.rc"), want 2"
grep -q "sha-256" "$WORK/t1.err" || fail "tampering not named: $(cat "$WORK/t1.err")"
rm -rf "$WORK/bad" && cp -r "$WORK/b1" "$WORK/bad"
f=$(find "$WORK/bad" -name '*.seg' | sort | tail -1)
truncate -s -10 "$f"
run_sluice t2 unpack "$WORK/bad" --into "$recv" --key "$key" && fail "a truncated bundle was accepted"
run_sluice t3 unpack "$WORK/b1" --into "$recv" && fail "a signed bundle was accepted without its key"
rm -rf "$WORK/bad" && cp -r "$WORK/b1" "$WORK/bad"
ln -s /etc/passwd "$WORK/bad/00000000000000009999.seg"
run_sluice t4 unpack "$WORK/bad" --into "$recv" --key "$key" && fail "a bundle with a foreign file was accepted"
if [[ -d "$recv" ]] && find "$recv" -name '*.seg' | grep . >/dev/null; then
	fail "a refused unpack added files"
fi

# The real transfer, twice.
must_sluice unpack1 unpack "$WORK/b1" --into "$recv" --key "$key"
must_sluice unpack1b unpack "$WORK/b1" --into "$recv" --key "$key"
grep -q "already there" "$WORK/unpack1b.out" || fail "second unpack was not a no-op: $(cat "$WORK/unpack1b.out")"
must_sluice ver1 verify --segments "$recv"

# More changes, an incremental bundle from the next segment on.
src_sql -e "INSERT INTO xfer.t SELECT 100000 + seq, 'second', seq, NOW(6) FROM xfer.seq_1_to_5000;"
must_sluice cap2 capture --source "$SRC_URL" --dir "$dir" --server-id 501 --segment-size 64K
next=$(($(find "$recv" -name '*.seg' | wc -l) + 1))
must_sluice pack2 pack "$dir" --out "$WORK/b2" --from-seq "$next" --key "$key"
run_sluice t5 unpack "$WORK/b1" --into "$recv" --key "$key" || true
must_sluice unpack2 unpack "$WORK/b2" --into "$recv" --key "$key"
run_sluice t6 unpack "$WORK/b1" --into "$recv" --key "$key" && fail "an older bundle was accepted"
grep -q "older" "$WORK/t6.err" || fail "older bundle not named: $(cat "$WORK/t6.err")"

# The open segment never travels: pad the stream so every real change is in
# a sealed segment (each ~5 KB transaction seals a 4 KB segment).
src_sql -e "CREATE DATABASE pad; CREATE TABLE pad.p (id INT PRIMARY KEY, b BLOB);"
for i in 1 2 3; do
	src_sql -e "INSERT INTO pad.p VALUES ($i, RANDOM_BYTES(1000)), ($i + 10, RANDOM_BYTES(1000)),
		($i + 20, RANDOM_BYTES(1000)), ($i + 30, RANDOM_BYTES(1000)), ($i + 40, RANDOM_BYTES(1000))"
done
must_sluice cap3 capture --source "$SRC_URL" --dir "$dir" --server-id 501 --segment-size 4K
next=$(($(find "$recv" -name '*.seg' | wc -l) + 1))
must_sluice pack3 pack "$dir" --out "$WORK/b3" --from-seq "$next" --key "$key"
must_sluice unpack3 unpack "$WORK/b3" --into "$recv" --key "$key"
must_sluice rep replay --dir "$recv" --dest "$DST_URL"
src_sql -e "DROP DATABASE pad"
dst_sql -e "DROP DATABASE IF EXISTS pad"
compare_all || fail "destination differs from source after pack/unpack/replay"

# A foreign stream is refused.
must_sluice capo capture --source "$SRC_URL" --dir "$WORK/other" --server-id 502 --segment-size 4K
src_sql -e "CREATE DATABASE o1; CREATE TABLE o1.p (id INT PRIMARY KEY, b BLOB);
	INSERT INTO o1.p SELECT seq, RANDOM_BYTES(1000) FROM o1.seq_1_to_8;
	INSERT INTO o1.p SELECT 100 + seq, RANDOM_BYTES(1000) FROM o1.seq_1_to_8;"
must_sluice capo2 capture --source "$SRC_URL" --dir "$WORK/other" --server-id 502 --segment-size 4K
must_sluice packo pack "$WORK/other" --out "$WORK/bo"
run_sluice t7 unpack "$WORK/bo" --into "$recv" && fail "a foreign stream was accepted"
grep -q "another stream" "$WORK/t7.err" || fail "foreign stream not named: $(cat "$WORK/t7.err")"

# Receiving side: status shows the consumer, purge respects it.
must_sluice st status "$recv"
grep -q "default" "$WORK/st.out" || fail "status does not show the replay consumer: $(cat "$WORK/st.out")"
must_sluice pu purge "$recv"
must_sluice ver2 verify --segments "$recv"
# Issue 9 item 13: a stream directory at rest is packable whole. A batch
# capture (no --follow) seals what it wrote when it exits, so a bundle made
# right after it holds every transaction, even when the stream has only one
# segment; the next capture continues in a new segment and pack --from-seq
# carries it. (On main the only segment stayed open: pack refused it.)
src_sql -e "DROP DATABASE o1"
dst_sql -e "DROP DATABASE IF EXISTS o1"
read -r bfile bpos < <(src_sql -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')
src_sql -e "CREATE DATABASE batch; CREATE TABLE batch.t (id INT PRIMARY KEY, v VARCHAR(100));
	INSERT INTO batch.t SELECT seq, CONCAT('first ', seq) FROM batch.seq_1_to_300;
	UPDATE batch.t SET v = 'updated' WHERE id % 7 = 0;"
s13=$WORK/s13
r13=$WORK/r13
must_sluice cap13a capture --source "$SRC_URL" --dir "$s13" --server-id 513 --from "$bfile:$bpos"
[[ $(find "$s13" -name '*.seg' | wc -l) == 1 && -z $(find "$s13" -name '*.open') ]] ||
	fail "batch capture did not leave one sealed segment: $(ls "$s13")"
must_sluice pack13a pack "$s13" --out "$WORK/b13a"
must_sluice unpack13a unpack "$WORK/b13a" --into "$r13"
must_sluice rep13a replay --dir "$r13" --dest "$DST_URL" --consumer c13
compare_all || fail "destination differs after a bundle of a one-segment batch capture"
src_sql -e "INSERT INTO batch.t SELECT 1000 + seq, 'second' FROM batch.seq_1_to_200;
	DELETE FROM batch.t WHERE id % 11 = 0;"
must_sluice cap13b capture --source "$SRC_URL" --dir "$s13" --server-id 513
[[ -f $s13/00000000000000000002.seg && -z $(find "$s13" -name '*.open') ]] ||
	fail "the second batch capture did not continue in a new sealed segment: $(ls "$s13")"
must_sluice ver13 verify --segments "$s13"
must_sluice pack13b pack "$s13" --out "$WORK/b13b" --from-seq 2
must_sluice unpack13b unpack "$WORK/b13b" --into "$r13"
must_sluice rep13b replay --dir "$r13" --dest "$DST_URL" --consumer c13
compare_all || fail "destination differs after the second bundle (pack --from-seq)"
log "RESULT S7 $(head -1 "$WORK/pack1.out")"
echo "1 passed, 0 failed"
