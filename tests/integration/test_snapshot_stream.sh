#!/usr/bin/env bash
# The snapshot stream (DIR/snapshot) travels with DIR (issue 11, store side):
# status shows its progress, schema --print prints the recorded schema as SQL
# a real server runs (deferred objects marked, conversions as comments),
# inspect --snapshot reads it, verify --segments checks it with DIR, and
# pack/unpack carry it in the bundle's snapshot/ part: a damaged, tampered,
# foreign or unsigned part is refused with exit 2 before either directory
# gets a file; the rebuilt DIR/snapshot is byte-identical.
# DIR/snapshot is written by the store fixture (test_store_snapshot write:
# seg_writer and the snapshot records) until `sluice snapshot` exists.
set -euo pipefail
TEST_NAME=test_snapshot_stream
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

require_sluice
GEN=${SLUICE_TEST_STORE_SNAPSHOT:-$SLUICE_SOURCE_DIR/build/tests/test_store_snapshot}
[[ -x "$GEN" ]] || _require "snapshot fixture writer not found at $GEN"
start_servers
dir=$WORK/stream
recv=$WORK/received
key=$WORK/link.key
head -c 32 /dev/urandom >"$key"
chmod 600 "$key"

# A change stream from a real source, at rest (sealed).
must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 501
src_sql -e "CREATE DATABASE chg; CREATE TABLE chg.t (id INT PRIMARY KEY, v INT); INSERT INTO chg.t VALUES (1, 1), (2, 2);"
must_sluice cap1 capture --source "$SRC_URL" --dir "$dir" --server-id 501
must_sluice st0 status "$dir"
source_id=$(sed -n 's/^stream: *\(.*\) (id [0-9a-f]*)$/\1/p' "$WORK/st0.out")
[[ -n "$source_id" ]] || fail "no source identity in status: $(cat "$WORK/st0.out")"
grep -q '^snapshot:' "$WORK/st0.out" && fail "status reports a snapshot that is not there"

# No snapshot stream yet: schema --print and inspect --snapshot say so.
expect_error e_noschema "no snapshot stream" schema --dir "$dir" --print
expect_error e_noinspect "no snapshot stream" inspect --snapshot "$dir"

# An unfinished snapshot: status says in progress.
"$GEN" write "$dir/snapshot" "$source_id" unfinished || fail "fixture writer failed"
must_sluice st1 status "$dir"
grep -q '^snapshot:  in progress (run 1 ' "$WORK/st1.out" || fail "unfinished snapshot: $(cat "$WORK/st1.out")"
grep -q '4 chunks, 20 rows, 1 tables done, 7 schema objects' "$WORK/st1.out" ||
	fail "unfinished snapshot counts: $(cat "$WORK/st1.out")"
rm -rf "$dir/snapshot"

# The finished snapshot.
"$GEN" write "$dir/snapshot" "$source_id" || fail "fixture writer failed"
find "$dir/snapshot" -name '*.open' | grep . && fail "a finished snapshot left an open segment"
must_sluice st2 status "$dir"
grep -q '^snapshot:  finished, changes up to bin.000001:1000000 apply in safe mode' "$WORK/st2.out" ||
	fail "finished snapshot: $(cat "$WORK/st2.out")"
grep -q '2 runs, 5 chunks, 25 rows, 2 tables done, 7 schema objects' "$WORK/st2.out" ||
	fail "finished snapshot counts: $(cat "$WORK/st2.out")"

# schema --print: runnable SQL, in order, deferred objects and conversions marked.
must_sluice schema1 schema --dir "$dir" --print
s=$WORK/schema1.out
(($(grep -c -- '^-- deferred to switchover$' "$s") == 2)) || fail "want 2 deferred objects: $(cat "$s")"
grep -q -- '^-- conversion: collation: utf8mb4_0900_ai_ci -> utf8mb4_general_ci' "$s" || fail "conversion not shown"
grep -q -- '^-- source: CREATE TABLE `t1`' "$s" || fail "source statement not shown"
grep -q '^DELIMITER ;;$' "$s" || fail "no DELIMITER around the trigger and routine"
grep -q -- '^-- 7 objects, 2 deferred to switchover$' "$s" || fail "summary line missing"
order=$(sed -n 's/^-- \([0-9]*\)\. .*/\1/p' "$s" | tr '\n' ' ')
[[ $order == "1 2 3 4 5 6 7 " ]] || fail "objects out of order: $order"
dst_sql <"$s" || fail "the printed schema does not run on a real server"
[[ $(dst_sql -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'd'") == 3 ]] ||
	fail "tables/view not created by the printed schema"
[[ $(dst_sql -N -e "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = 'd'") == 1 ]] ||
	fail "trigger not created"
[[ $(dst_sql -N -e "SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = 'd'") == 1 ]] ||
	fail "procedure not created"
dst_sql -N -e "SELECT table_collation FROM information_schema.tables WHERE table_schema = 'd' AND table_name = 't1'" |
	grep -q utf8mb4_general_ci || fail "t1 not created with the converted collation"
must_sluice schema2 schema --dir "$dir" --print --json
(($(grep -c '^{"type":"schema",' "$WORK/schema2.out") == 7)) || fail "json: want 7 schema objects"
(($(grep -c '"deferred":"switchover"' "$WORK/schema2.out") == 2)) || fail "json: want 2 deferred"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$WORK/schema2.out" ||
	fail "schema --json is not JSON lines"

# inspect: DIR says the snapshot is there; --snapshot prints it (rows as INSERTs).
must_sluice in1 inspect "$dir"
head -n 1 "$WORK/in1.out" | grep -q 'holds a snapshot stream' || fail "inspect DIR does not mention the snapshot"
must_sluice in2 inspect --snapshot --json "$dir"
python3 - "$WORK/in2.out" <<'PY' || fail "inspect --snapshot --json"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
kinds = [r["type"] for r in recs]
assert kinds.count("schema") == 7 and kinds.count("snapshot_begin") == 2, kinds
chunks = [r for r in recs if r["type"] == "chunk"]
assert len(chunks) == 5 and sum(c["rows"] for c in chunks) == 25, chunks
assert all(len(c["changes"]) == c["rows"] and all(x["op"] == "insert" for x in c["changes"]) for c in chunks)
assert sum(c["table_done"] for c in chunks) == 2
assert kinds[-1] == "snapshot_end" and recs[-1]["position"]["offset"] == 1000000, recs[-1]
PY
must_sluice in3 inspect "$dir/snapshot"
grep -q '^# snapshot end at bin.000001:1000000' "$WORK/in3.out" || fail "inspect DIR/snapshot: no end"

# verify --segments checks DIR/snapshot with DIR.
must_sluice v1 verify --segments "$dir" --deep
grep -q "^snapshot stream '$dir/snapshot':" "$WORK/v1.out" || fail "verify did not check DIR/snapshot"
grep -q '^snapshot:     7 schema objects, 2 runs, 5 chunks, 2 tables done, finished$' "$WORK/v1.out" ||
	fail "verify snapshot counts: $(cat "$WORK/v1.out")"
cp -r "$dir" "$WORK/damaged"
f=$(find "$WORK/damaged/snapshot" -name '*.seg' | sort | head -1)
printf '\x01' | dd of="$f" bs=1 seek=300 conv=notrunc status=none
run_sluice v2 verify --segments "$WORK/damaged" && fail "a damaged snapshot segment passed verify"
[[ $(cat "$WORK/v2.rc") == 1 ]] || fail "damaged snapshot: verify exit $(cat "$WORK/v2.rc"), want 1"
grep -q "problem: '$f'" "$WORK/v2.out" || fail "the damaged snapshot segment is not named: $(cat "$WORK/v2.out")"
# a snapshot of another source is a problem of DIR
rm -rf "$WORK/damaged/snapshot"
"$GEN" write "$WORK/damaged/snapshot" "mariadb:server_id=99:other" || fail "fixture writer failed"
run_sluice v3 verify --segments "$WORK/damaged" && fail "a foreign snapshot passed verify"
grep -q "is a snapshot of source 'mariadb:server_id=99:other'" "$WORK/v3.out" || fail "foreign snapshot not named"
expect_error e_foreignpack "snapshot of source" pack "$WORK/damaged" --out "$WORK/bf"

# pack carries DIR/snapshot as snapshot/ with its own manifest, named in MANIFEST.
must_sluice pack1 pack "$dir" --out "$WORK/b1" --key "$key"
grep -q '^packed snapshot segments 1\.\.2 ' "$WORK/pack1.out" || fail "pack: $(cat "$WORK/pack1.out")"
[[ -f "$WORK/b1/snapshot/MANIFEST" ]] || fail "no snapshot/MANIFEST in the bundle"
sha=$(sha256sum "$WORK/b1/snapshot/MANIFEST" | cut -d' ' -f1)
grep -q "^snapshot $sha\$" "$WORK/b1/MANIFEST" || fail "MANIFEST does not name snapshot/MANIFEST by its sha-256"
grep -q '^hmac ' "$WORK/b1/snapshot/MANIFEST" || fail "snapshot manifest has no hmac"

# Refusals: nothing added to either directory.
no_files() {
	if [[ -d "$recv" ]] && find "$recv" -name '*.seg' | grep . >/dev/null; then
		fail "a refused unpack added files: $(find "$recv" -name '*.seg')"
	fi
}
cp -r "$WORK/b1" "$WORK/bad"
f=$(find "$WORK/bad/snapshot" -name '*.seg' | sort | tail -1)
printf '\x01' | dd of="$f" bs=1 seek=200 conv=notrunc status=none
expect_error e_tamper "sha-256" unpack "$WORK/bad" --into "$recv" --key "$key"
no_files
rm -rf "$WORK/bad" && cp -r "$WORK/b1" "$WORK/bad"
sed -i 's/^first 1$/first 2/' "$WORK/bad/snapshot/MANIFEST"
expect_error e_submanifest "sha-256 does not match the bundle's manifest" unpack "$WORK/bad" --into "$recv" --key "$key"
no_files
rm -rf "$WORK/bad" && cp -r "$WORK/b1" "$WORK/bad"
rm "$WORK/bad/snapshot/00000000000000000002.seg"
expect_error e_missing "00000000000000000002.seg" unpack "$WORK/bad" --into "$recv" --key "$key"
no_files
rm -rf "$WORK/bad" && cp -r "$WORK/b1" "$WORK/bad"
sed -i '/^snapshot /d' "$WORK/bad/MANIFEST"
expect_error e_unnamed "hmac does not match|does not name" unpack "$WORK/bad" --into "$recv" --key "$key"
no_files
rm -rf "$WORK/bad" && mkdir -p "$WORK/bad2" && cp -r "$WORK/b1" "$WORK/bad2/b"
rm -rf "$WORK/bad2/b/snapshot" && ln -s "$WORK/b1/snapshot" "$WORK/bad2/b/snapshot"
expect_error e_symlink "not a directory" unpack "$WORK/bad2/b" --into "$recv" --key "$key"
no_files

# The real transfer, twice; the rebuilt snapshot is byte-identical.
must_sluice un1 unpack "$WORK/b1" --into "$recv" --key "$key"
grep -q "^snapshot segments 1\.\.2 checked; 2 added to '$recv/snapshot'" "$WORK/un1.out" || fail "unpack: $(cat "$WORK/un1.out")"
must_sluice un2 unpack "$WORK/b1" --into "$recv" --key "$key"
grep -q "snapshot segments 1\.\.2 checked; 0 added .*(already there)" "$WORK/un2.out" || fail "second unpack: $(cat "$WORK/un2.out")"
for f in "$dir"/snapshot/*.seg; do
	cmp -s "$f" "$recv/snapshot/$(basename "$f")" || fail "$(basename "$f") differs after the transfer"
done
must_sluice v4 verify --segments "$recv" --deep
must_sluice schema3 schema --dir "$recv" --print
sed 1d "$WORK/schema1.out" >"$WORK/a.sql"
sed 1d "$WORK/schema3.out" >"$WORK/b.sql"
cmp -s "$WORK/a.sql" "$WORK/b.sql" || fail "schema --print differs after the transfer"
must_sluice st3 status "$recv"
grep -q '^snapshot:  finished' "$WORK/st3.out" || fail "received snapshot not finished"

# A bundle without the snapshot, and the receiving snapshot of another stream.
must_sluice pack2 pack "$dir" --out "$WORK/b2" --no-snapshot
[[ -e "$WORK/b2/snapshot" ]] && fail "--no-snapshot packed the snapshot"
grep -q '^snapshot ' "$WORK/b2/MANIFEST" && fail "--no-snapshot names a snapshot"
rm -rf "$WORK/r2" && mkdir -p "$WORK/r2"
"$GEN" write "$WORK/r2/snapshot" "$source_id" || fail "fixture writer failed"
expect_error e_otherstream "another stream" unpack "$WORK/b1" --into "$WORK/r2" --key "$key"
find "$WORK/r2" -maxdepth 1 -name '*.seg' | grep . && fail "a refused unpack added change segments"
# End to end with `sluice snapshot` (helper i11-snapshot), when this build has it:
# a real source's snapshot travels with its DIR and rebuilds the schema.
if "$SLUICE" snapshot -h >/dev/null 2>&1; then
	live=$WORK/live
	src_sql -e "CREATE DATABASE live;
		CREATE TABLE live.a (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
		CREATE TABLE live.b (id INT PRIMARY KEY, a_id INT, FOREIGN KEY (a_id) REFERENCES live.a (id)) ENGINE=InnoDB;
		INSERT INTO live.a SELECT seq, CONCAT('v', seq) FROM live.seq_1_to_3000;
		INSERT INTO live.b SELECT seq, seq FROM live.seq_1_to_1000;
		CREATE VIEW live.va AS SELECT id FROM live.a;
		CREATE TRIGGER live.tr BEFORE INSERT ON live.a FOR EACH ROW SET NEW.v = NEW.v;"
	must_sluice lcap capture --source "$SRC_URL" --dir "$live" --server-id 502
	must_sluice lsnap snapshot --source "$SRC_URL" --dir "$live" --include live --segment-size 4K
	must_sluice lst status "$live"
	grep -q '^snapshot:  finished' "$WORK/lst.out" || fail "live snapshot not finished: $(cat "$WORK/lst.out")"
	grep -q ' 4000 rows, 2 tables done' "$WORK/lst.out" || fail "live snapshot counts: $(cat "$WORK/lst.out")"
	find "$live/snapshot" -name '*.open' | grep . && fail "sluice snapshot left its segment open (pack takes sealed ones)"
	must_sluice lschema schema --dir "$live" --print
	(($(grep -c -- '^-- deferred to switchover$' "$WORK/lschema.out") == 2)) ||
		fail "live schema: want the foreign key and the trigger deferred: $(cat "$WORK/lschema.out")"
	must_sluice lver verify --segments "$live" --deep
	must_sluice lpack pack "$live" --out "$WORK/lb"
	must_sluice lun unpack "$WORK/lb" --into "$WORK/lrecv"
	must_sluice lver2 verify --segments "$WORK/lrecv" --deep
	must_sluice lschema2 schema --dir "$WORK/lrecv" --print
	diff <(sed 1d "$WORK/lschema.out") <(sed 1d "$WORK/lschema2.out") >/dev/null ||
		fail "live schema differs after the transfer"
	dst_sql <"$WORK/lschema2.out" || fail "the live schema does not run on the destination"
	[[ $(dst_sql -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'live'") == 3 ]] ||
		fail "live tables/view not created from the carried schema"
else
	log "sluice snapshot not in this build: end-to-end part skipped"
fi
log "ok: $NCASE refusals"
