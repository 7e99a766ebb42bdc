#!/usr/bin/env bash
# sluice verify against real servers: a source with every column type is copied
# to the destination; three clean runs must find nothing; then more than 50
# known differences of every kind are injected into the destination and
# verify must report each one (recall 100 %) and nothing else; the correction
# SQL it writes makes the two sides equal again, and so does --apply-fix.
# Last, verify runs while capture and replay --follow carry a live workload:
# after --recheck with --dir, no false positive may remain.
set -euo pipefail
TEST_NAME=test_verify
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

schema_and_rows() {
	cat <<'SQL'
CREATE DATABASE vt CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
USE vt;
CREATE TABLE types (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  dc DECIMAL(30,10), f FLOAT, d DOUBLE,
  dt DATE, tm TIME(3), dtm DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR,
  c CHAR(10), vc VARCHAR(100), vl VARCHAR(50) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
  bn BINARY(8), vb VARBINARY(100), bl BLOB, tx TEXT, lb LONGBLOB,
  en ENUM('a','b','c'), st SET('x','y','z'), js JSON, g GEOMETRY, bt BIT(10)
) ENGINE=InnoDB;
INSERT INTO types SELECT seq,
  IF(seq = 1, -128, seq % 100), IF(seq = 1, 255, seq % 200),
  IF(seq = 1, -9223372036854775808, seq * 1000003), IF(seq = 1, 18446744073709551615, seq * 7),
  seq / 7, IF(seq = 1, 1.0, seq / 4), IF(seq = 1, 0.1, seq / 9),
  '2024-02-29' + INTERVAL seq DAY, SEC_TO_TIME(seq * 37.125), '2024-01-01 10:00:00.000001' + INTERVAL seq MINUTE,
  '2024-03-01 00:00:00.5' + INTERVAL seq SECOND, 1990 + seq % 50,
  CONCAT('c', seq), IF(seq % 10 = 0, NULL, IF(seq % 10 = 1, '', CONCAT('abc', seq))),
  CONCAT('latin', seq, CHAR(233 USING latin1)),
  UNHEX(LPAD(HEX(seq), 16, '0')), UNHEX(MD5(seq)),
  UNHEX(REPEAT(MD5(seq), 20)), REPEAT(CONCAT('text ', seq, ' '), 30), UNHEX(REPEAT(MD5(seq + 1), 4000)),
  ELT(seq % 3 + 1, 'a', 'b', 'c'), IF(seq % 2, 'x,z', 'y'), CONCAT('{"k": ', seq, ', "s": "v"}'),
  ST_GeomFromText(CONCAT('POINT(', seq, ' ', seq / 2, ')')), seq % 1024
FROM seq_1_to_200;
CREATE TABLE comp (a INT NOT NULL, b VARCHAR(20) NOT NULL, v INT, PRIMARY KEY (a, b)) ENGINE=InnoDB;
INSERT INTO comp SELECT seq % 10, CONCAT('k', seq), seq FROM seq_1_to_300;
CREATE TABLE skey (k VARCHAR(30) NOT NULL PRIMARY KEY, v INT DEFAULT 5) ENGINE=InnoDB;
INSERT INTO skey SELECT CONCAT('key-', LPAD(seq, 4, '0')), seq FROM seq_1_to_200;
CREATE TABLE flt (id INT PRIMARY KEY, f FLOAT, d DOUBLE) ENGINE=InnoDB;
INSERT INTO flt VALUES (1, 1.0, 0.1), (2, 1.0, 0.1), (3, 1.0, 0.1);
-- neighbouring strings that could trade bytes across the row hash's separator (0xFF):
-- utf8mb4 ones never hold it; latin1 and binary ones can, and get a LENGTH (but the
-- widest). One table each: a lone changed row must be found by the range's checksum.
CREATE TABLE sep1 (id INT PRIMARY KEY, a VARCHAR(20), b VARCHAR(20) NOT NULL) ENGINE=InnoDB;
INSERT INTO sep1 VALUES (1, 'p', '#q');
CREATE TABLE sep2 (id INT PRIMARY KEY, a VARCHAR(10) CHARACTER SET latin1,
  b VARCHAR(10) CHARACTER SET latin1) ENGINE=InnoDB;
INSERT INTO sep2 VALUES (1, CONCAT('l', _latin1 X'FF'), 'm');
CREATE TABLE sep3 (id INT PRIMARY KEY, a VARBINARY(10), b VARBINARY(10)) ENGINE=InnoDB;
INSERT INTO sep3 VALUES (1, X'01FF', X'02');
CREATE TABLE sep4 (id INT PRIMARY KEY, a VARCHAR(20), b VARCHAR(20) NOT NULL, n INT) ENGINE=InnoDB;
INSERT INTO sep4 VALUES (1, 'u', '', NULL);
CREATE TABLE nokey (x INT, y VARCHAR(10), f FLOAT) ENGINE=InnoDB;
INSERT INTO nokey SELECT seq % 40, CONCAT('y', seq % 40), 1.0 FROM seq_1_to_100;
SQL
}

# Each injection: SQL for the destination, and the difference(s) it makes as
# "kind table key column" lines (key as verify prints it in JSON, '-' = none).
EXPECT=$WORK/expected
INJECT=$WORK/inject.sql
: >"$EXPECT"
: >"$INJECT"
inj() { echo "$1;" >>"$INJECT"; shift; for e in "$@"; do echo "$e" >>"$EXPECT"; done; }

inject_all() {
	local c i=1
	# one changed column per row of `types`, every type
	for c in "ti=ti+1" "tiu=254" "bi=bi-1" "biu=biu-1" "dc=dc+0.0000000001" \
		"f=1.0000001192092896e0" "d=0.10000000000000002e0" "dt=dt+INTERVAL 1 DAY" \
		"tm=ADDTIME(tm,'0:0:0.001')" "dtm='2024-01-01 10:10:00.000002'" \
		"ts=ts+INTERVAL 1 SECOND" "yr=yr+1" "c=CONCAT(c,'x')" "vl=UPPER(vl)" \
		"bn=UNHEX('00000000000000FF')" "vb=UNHEX('00')" \
		"bl=CONCAT(LEFT(bl,100),X'FF',SUBSTRING(bl,102))" "tx=CONCAT(tx,'!')" \
		"lb=CONCAT(LEFT(lb,30000),X'00',SUBSTRING(lb,30002))" "en='c'" "st='x'" \
		"js='{\"k\": 0}'" "g=ST_GeomFromText('POINT(0 0)')" "bt=1023"; do
		inj "UPDATE types SET $c WHERE id = $((i + 20))" "changed types $((i + 20)) ${c%%=*}"
		i=$((i + 1))
	done
	inj "UPDATE types SET f = 1.0000001192092896e0 WHERE id = 1" "changed types 1 f"
	inj "UPDATE types SET d = 0.10000000000000002e0 WHERE id = 1" # same row: one difference
	# case-only, trailing space, NULL vs '' and back
	inj "UPDATE types SET vc = UPPER(vc) WHERE id = 52" "changed types 52 vc"
	inj "UPDATE types SET vc = CONCAT(vc, ' ') WHERE id = 53" "changed types 53 vc"
	inj "UPDATE types SET vc = '' WHERE id = 60" "changed types 60 vc"
	inj "UPDATE types SET vc = NULL WHERE id = 61" "changed types 61 vc"
	inj "UPDATE types SET vl = CONCAT(vl, ' ') WHERE id = 62" "changed types 62 vl"
	# missing and extra rows
	for i in 150 151 152 153 154 155; do inj "DELETE FROM types WHERE id = $i" "missing types $i -"; done
	for i in 1000 1001 1002 1003 -5; do
		inj "INSERT INTO types (id, vc) VALUES ($i, 'extra')" "extra types $i -"
	done
	# composite key
	inj "UPDATE comp SET v = -1 WHERE a = 3 AND b = 'k13'" "changed comp 3,k13 v"
	inj "UPDATE comp SET b = 'K14' WHERE a = 4 AND b = 'k14'" "changed comp 4,k14 b"
	inj "DELETE FROM comp WHERE a = 5 AND b = 'k15'" "missing comp 5,k15 -"
	inj "INSERT INTO comp VALUES (5, 'k15x', 1)" "extra comp 5,k15x -"
	inj "INSERT INTO comp VALUES (99, 'zz', 1)" "extra comp 99,zz -"
	# string key
	inj "UPDATE skey SET v = v + 1 WHERE k = 'key-0007'" "changed skey key-0007 v"
	inj "UPDATE skey SET k = 'KEY-0008' WHERE k = 'key-0008'" "changed skey key-0008 k"
	inj "DELETE FROM skey WHERE k = 'key-0100'" "missing skey key-0100 -"
	inj "INSERT INTO skey VALUES ('key-0100a', 1)" "extra skey key-0100a -"
	inj "INSERT INTO skey VALUES ('', 1)" "extra skey '' -"
	inj "UPDATE skey SET v = NULL WHERE k = 'key-0150'" "changed skey key-0150 v"
	# a value swapped between two rows of one range, nothing else changed in it: the
	# XOR of two CRCs of strings of one length is unchanged by it, their sum is not
	inj "UPDATE skey SET v = 103 - v WHERE k IN ('key-0051', 'key-0052')" \
		"changed skey key-0051 v" "changed skey key-0052 v"
	# bytes moved between neighbouring strings, their concatenation unchanged: a
	# '#' in utf8mb4 ones, the separator byte 0xFF in latin1 and binary ones
	inj "UPDATE sep1 SET a = 'p#', b = 'q'" "changed sep1 1 a"
	inj "UPDATE sep2 SET a = 'l', b = CONCAT(_latin1 X'FF', 'm')" "changed sep2 1 a"
	inj "UPDATE sep3 SET a = X'01', b = X'FF02'" "changed sep3 1 a"
	# NULL vs '' next to a string (NULLs skipped, the flags differ)
	inj "UPDATE sep4 SET a = NULL, b = 'u'" "changed sep4 1 a"
	# no key: a duplicated row, a lost copy, a changed row (one missing + one extra)
	inj "INSERT INTO nokey VALUES (7, 'y7', 1.0)" "extra nokey - -"
	inj "UPDATE nokey SET f = 1.0000001192092896e0 WHERE x = 11 LIMIT 1" "extra nokey - -" "missing nokey - -"
	# float and double last bit alone in a table (no other change shares the range)
	inj "UPDATE flt SET f = 1.0000001192092896e0 WHERE id = 2" "changed flt 2 f"
	inj "UPDATE flt SET d = 0.10000000000000002e0 WHERE id = 3" "changed flt 3 d"
	inj "DELETE FROM nokey WHERE x = 8 LIMIT 1" "missing nokey - -"
	inj "UPDATE nokey SET y = 'Y9' WHERE x = 9 LIMIT 1" "extra nokey - -" "missing nokey - -"
	# schema
	inj "ALTER TABLE skey ALTER v SET DEFAULT 7" "schema skey - -"
	inj "ALTER TABLE comp ADD INDEX iv (v)" "schema comp - -"
	inj "CREATE TABLE onlydst (i INT PRIMARY KEY)" "extra_table onlydst - -"
}

verify_json() {	# name, then extra args; sets VRC
	VRC=0
	run_sluice "$1" verify --source "$SRC_URL" --dest "$DST_URL" --include vt --chunk-rows 37 \
		--json "$WORK/$1.json" "${@:2}" || VRC=$?
}

check_recall() {
	local json=$1 kind tbl key col n_exp n_got miss=0
	while read -r kind tbl key col; do
		local q
		if [[ $kind == schema || $kind == extra_table || $kind == missing_table ]]; then
			q="[.differences[] | select(.kind==\"$kind\" and ((.table|test(\"\`$tbl\`\")) or (.dest_table|test(\"\`$tbl\`\"))))] | length"
		elif [[ $key == - ]]; then
			q="[.differences[] | select(.kind==\"$kind\" and (.table|test(\"\`$tbl\`\")))] | length"
		else
			[[ $key == "''" ]] && key=
			q="[.differences[] | select(.kind==\"$kind\" and (.table|test(\"\`$tbl\`\")) and
				((.row.key | [.[]] | join(\",\")) == \"$key\")"
			if [[ $col != - ]]; then
				q="$q and ([.row.columns[].column] | index(\"$col\") != null)"
			fi
			q="$q)] | length"
		fi
		if [[ $(jq "$q" "$json") -lt 1 ]]; then
			echo "not reported: $kind $tbl $key $col" >&2
			miss=$((miss + 1))
		fi
	done <"$EXPECT"
	((miss == 0)) || fail "$miss injected differences were not reported (recall < 100%)"
	# no false positives: per kind, the counts match exactly
	for kind in missing extra changed schema extra_table missing_table; do
		n_exp=$(grep -c "^$kind " "$EXPECT" || true)
		n_got=$(jq ".differences_by_kind.$kind" "$json")
		[[ "$n_exp" == "$n_got" ]] || fail "$kind: $n_got reported, $n_exp injected (false positive or duplicate)"
	done
}

main() {
	start_servers 2
	require_sluice
	command -v jq >/dev/null || _require "jq not installed"
	schema_and_rows | src_sql
	mariadb-dump --no-defaults -uroot -S "$SRC_SOCK" --hex-blob --databases vt | dst_sql
	compare_all || fail "the copy is not equal before the test"

	log "three clean runs: no difference"
	for n in 1 2 3; do
		local -a more=()
		((n == 3)) && more=(--no-table-checksum --progress)
		verify_json "clean$n" --threads $((n + 1)) "${more[@]+"${more[@]}"}"
		((VRC == 0)) || { cat "$WORK/clean$n.out" >&2; fail "clean run $n exited $VRC"; }
		[[ $(jq .equal "$WORK/clean$n.json") == true ]] || fail "clean run $n: equal is not true"
	done
	# MariaDB 10.8+: the CRC row hash, its self-check passed (else verify falls back to MD5)
	[[ $(jq -r .row_hash "$WORK/clean3.json") == crc32+crc32c ]] ||
		fail "row hash $(jq -r .row_hash "$WORK/clean3.json"), want crc32+crc32c"
	[[ $(jq .rows_source "$WORK/clean3.json") == 807 ]] || fail "rows_source $(jq .rows_source "$WORK/clean3.json"), want 807 (exact without the fast path)"

	log "inject differences"
	inject_all
	dst_sql vt <"$INJECT"
	log "$(wc -l <"$EXPECT") differences injected"
	(($(wc -l <"$EXPECT") >= 50)) || fail "fewer than 50 injected differences"
	verify_json diff1 --fix-sql "$WORK/fix.sql" --fix-extra
	((VRC == 1)) || { tail "$WORK/diff1.err" >&2; fail "verify exited $VRC with differences, want 1"; }
	check_recall "$WORK/diff1.json"
	# the same without the CHECKSUM TABLE fast path: every range by row hash
	verify_json diff2 --no-table-checksum --threads 1 --chunk-rows 7
	((VRC == 1)) || { tail "$WORK/diff2.err" >&2; fail "verify --no-table-checksum exited $VRC, want 1"; }
	check_recall "$WORK/diff2.json"
	grep -q "^changed " "$WORK/diff1.out" || fail "the human report lists no changed row"

	log "the correction SQL repairs the rows"
	dst_sql vt <"$WORK/fix.sql" || fail "the fix SQL failed"
	dst_sql vt -e "ALTER TABLE skey ALTER v SET DEFAULT 5; ALTER TABLE comp DROP INDEX iv; DROP TABLE onlydst"
	verify_json after_fix
	((VRC == 0)) || { cat "$WORK/after_fix.out" >&2; fail "verify after the fix exited $VRC"; }
	compare_all || fail "harness compare disagrees with verify after the fix"

	log "--apply-fix repairs in place"
	dst_sql vt -e "UPDATE types SET vc = UPPER(vc) WHERE id = 70; DELETE FROM comp WHERE a = 1 LIMIT 2;
		INSERT INTO nokey VALUES (1, 'y1', 1); UPDATE types SET lb = NULL WHERE id = 71"
	verify_json apply --apply-fix --fix-extra
	((VRC == 0)) || { cat "$WORK/apply.out" >&2; fail "verify --apply-fix exited $VRC"; }
	verify_json after_apply
	((VRC == 0)) || fail "verify after --apply-fix exited $VRC"
	compare_all || fail "not equal after --apply-fix"

	log "errors: bad URL is exit 2 with one line"
	VRC=0
	run_sluice bad verify --source "mysql://sluice@127.0.0.1:1/" --dest "$DST_URL" || VRC=$?
	((VRC == 2)) || fail "unreachable source exited $VRC, want 2"
	[[ $(wc -l <"$WORK/bad.err") == 1 ]] || fail "error output is not one line"

	log "verify during a live workload (capture + replay --follow)"
	live_test
	assert_no_password "$WORK"/*.out "$WORK"/*.err "$WORK"/*.json "$WORK/fix.sql"
	log "PASS"
}

live_test() {
	local dir=$WORK/stream cap rep wl
	mkdir -p "$dir"
	must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 301
	src_sql -e "CREATE DATABASE live; CREATE TABLE live.t (id INT PRIMARY KEY, v VARCHAR(40), n BIGINT) ENGINE=InnoDB;
		INSERT INTO live.t SELECT seq, CONCAT('v', seq), seq FROM live.seq_1_to_5000;
		CREATE TABLE live.log (b INT, note VARCHAR(20)) ENGINE=InnoDB;"
	"$SLUICE" capture --source "$SRC_URL" --dir "$dir" --follow --server-id 301 >"$WORK/capf.out" 2>"$WORK/capf.err" &
	cap=$!
	track_pid "$cap"
	"$SLUICE" replay --dir "$dir" --dest "$DST_URL" --follow >"$WORK/repf.out" 2>"$WORK/repf.err" &
	rep=$!
	track_pid "$rep"
	wait_equal 120 || fail "replay did not catch up before the live verify"
	(
		i=0
		while :; do
			i=$((i + 1))
			src_sql -e "UPDATE live.t SET v = CONCAT('u', $i), n = n + 1 WHERE id % 97 = $((i % 97));
				INSERT INTO live.t VALUES ($((100000 + i)), 'new', $i);
				DELETE FROM live.t WHERE id = $((i * 13 % 5000 + 1));
				INSERT INTO live.log VALUES ($i, 'w')" 2>/dev/null || exit 0
			sleep 0.05
		done
	) &
	wl=$!
	track_pid "$wl"
	sleep 2
	for n in 1 2; do
		VRC=0
		run_sluice "live$n" verify --source "$SRC_URL" --dest "$DST_URL" --include live \
			--chunk-rows 500 --recheck 10 --dir "$dir" --json "$WORK/live$n.json" || VRC=$?
		if ((VRC != 0)); then
			cat "$WORK/live$n.out" "$WORK/live$n.err" >&2
			fail "verify during the workload exited $VRC (false positive after rechecks)"
		fi
		log "live run $n: $(jq -c '{found_first_pass, rechecks, rows_source}' "$WORK/live$n.json")"
	done
	kill "$wl" 2>/dev/null || true
	wait "$wl" 2>/dev/null || true
	kill -TERM "$cap" "$rep" 2>/dev/null || true
	wait "$cap" "$rep" 2>/dev/null || true
}

main "$@"
