#!/usr/bin/env bash
# Fixed-length binary values (issue 9, item 2): the binlog stores BINARY(n)
# and MariaDB's UUID, INET4 and INET6 (all logged as STRING with the binary
# charset) without their trailing 0x00 bytes. Capture pads them back to the
# column's length from the table map, so the row images, and the keys that
# UPDATE and DELETE find rows by, hold the whole value. Checked for a live
# capture and for capture --binlog-files, each replayed into its own
# destination: equal to the source, replay exit 0. CHAR(n) with a character
# set is not padded: the server strips and re-adds trailing spaces itself,
# and a NO PAD collation key must still match (the kc table). Without
# charset metadata (binlog_row_metadata=NO_LOG) the schema history says
# which columns are binary.
set -euo pipefail
TEST_NAME=test_fixed_binary
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

workload() {
	cat <<'SQL'
CREATE DATABASE fb CHARACTER SET utf8mb4;
USE fb;
CREATE TABLE t (id BINARY(16) PRIMARY KEY, c4 BINARY(4), u UUID, i4 INET4, i6 INET6,
                ch CHAR(6), n INT) ENGINE=InnoDB;
CREATE TABLE ku (u UUID PRIMARY KEY, n INT) ENGINE=InnoDB;
CREATE TABLE k6 (i6 INET6 PRIMARY KEY, i4 INET4 UNIQUE, n INT) ENGINE=InnoDB;
CREATE TABLE kb (b BINARY(4) PRIMARY KEY, n INT) ENGINE=InnoDB;
CREATE TABLE nk (c4 BINARY(4), u UUID, i6 INET6, n INT) ENGINE=InnoDB;
CREATE TABLE kc (c CHAR(4) COLLATE utf8mb4_nopad_bin PRIMARY KEY, n INT) ENGINE=InnoDB;
INSERT INTO t VALUES
  (UNHEX('AB000000000000000000000000000000'), UNHEX('AB000000'),
   '12345678-1234-1234-1234-123400000000', '10.0.0.0', '1::', 'ab', 1),
  (UNHEX('00000000000000000000000000000000'), UNHEX('00000000'),
   '00000000-0000-0000-0000-000000000000', '0.0.0.0', '::', 'ab  ', 2),
  (UNHEX('CD'), UNHEX('CD00'), '12345678-1234-1234-9234-123400000000', '1.2.3.0', 'fe80::', 'x', 3);
UPDATE t SET n = n + 10 WHERE id = UNHEX('AB000000000000000000000000000000');
UPDATE t SET c4 = UNHEX('EE000000'), i6 = '2001:db8::', u = '00000000-0000-0000-0000-000000000001' WHERE n = 3;
DELETE FROM t WHERE id = UNHEX('00000000000000000000000000000000');
INSERT INTO ku VALUES ('12345678-1234-1234-1234-123400000000', 1),
  ('00000000-0000-0000-0000-000000000000', 2), ('ffffffff-ffff-1fff-8fff-ff0000000000', 3),
  ('12345678-1234-1234-9234-123400000000', 4);
UPDATE ku SET n = 20 WHERE n = 2;
DELETE FROM ku WHERE n = 1;
UPDATE ku SET u = '11111111-0000-0000-0000-000000000000' WHERE n = 3;
INSERT INTO k6 VALUES ('1::', '1.0.0.0', 1), ('::', '0.0.0.0', 2), ('ff00::', '255.0.0.0', 3);
UPDATE k6 SET n = 9 WHERE n = 1;
UPDATE k6 SET i6 = '2::', i4 = '2.0.0.0' WHERE n = 3;
DELETE FROM k6 WHERE n = 2;
INSERT INTO kb VALUES (UNHEX('00000000'), 1), (UNHEX('01000000'), 2), (UNHEX('02'), 3);
UPDATE kb SET n = 10 WHERE n = 1;
DELETE FROM kb WHERE n = 2;
INSERT INTO nk VALUES (UNHEX('AB000000'), '12345678-1234-1234-1234-123400000000', '1::', 1),
  (UNHEX('AB000000'), '12345678-1234-1234-1234-123400000000', '1::', 1),
  (UNHEX('00000000'), '00000000-0000-0000-0000-000000000000', '::', 2);
UPDATE nk SET n = 5 WHERE n = 1 LIMIT 1;
DELETE FROM nk WHERE n = 2;
INSERT INTO kc VALUES ('ab', 1), ('cd  ', 2), ('', 3);
UPDATE kc SET n = 10 WHERE c = 'ab';
DELETE FROM kc WHERE n = 2;
UPDATE kc SET c = 'e' WHERE n = 3;
SQL
}

main() {
	require_sluice
	start_servers 3
	local datadir=${_H_DIRS[0]}/data dir=$WORK/dir fdir=$WORK/fdir files=$WORK/binlogs
	mkdir -p "$files"

	src_sql -e "FLUSH BINARY LOGS"
	local first
	first=$(binlogs "$datadir" | tail -n 1)
	must_sluice cap0 capture --source "$SRC_URL" --dir "$dir"
	workload | src_sql
	src_sql -e "FLUSH BINARY LOGS"

	log "live capture, replay"
	must_sluice cap1 capture --source "$SRC_URL" --dir "$dir"
	must_sluice rep1 replay --dir "$dir" --dest "$DST_URL"
	compare_all 1 2 || fail "live capture: destination differs from the source"

	log "capture --binlog-files, replay into a second destination"
	local -a run=()
	local f started=0
	while IFS= read -r f; do
		[[ "$f" == "$first" ]] && started=1
		((started)) || continue
		cp "$f" "$files/"
		run+=("$files/$(basename "$f")")
	done < <(binlogs "$datadir" | head -n -1)
	((${#run[@]} >= 1)) || fail "no closed binlog file with the workload"
	must_sluice capf capture --binlog-files "${run[@]}" --dir "$fdir"
	must_sluice repf replay --dir "$fdir" --dest "$DST2_URL"
	compare_all 1 3 || fail "file capture: destination differs from the source"

	log "binlog_row_metadata=NO_LOG: which columns are binary comes from the schema history"
	src_sql -e "SET GLOBAL binlog_row_metadata = 'NO_LOG'"
	must_sluice capn0 capture --source "$SRC_URL" --dir "$WORK/nolog"
	src_sql -e "CREATE DATABASE fbn;
		CREATE TABLE fbn.k (b BINARY(4) PRIMARY KEY, u UUID, i6 INET6, ch CHAR(4), n INT) ENGINE=InnoDB;
		INSERT INTO fbn.k VALUES (UNHEX('AB000000'), '12345678-1234-1234-1234-123400000000', '1::', 'ab', 1),
			(UNHEX('00000000'), '00000000-0000-0000-0000-000000000000', '::', 'cd  ', 2);
		UPDATE fbn.k SET n = 10, i6 = 'fe80::' WHERE b = UNHEX('AB000000');
		DELETE FROM fbn.k WHERE n = 2;"
	src_sql -e "SET GLOBAL binlog_row_metadata = 'FULL'"
	must_sluice capn1 capture --source "$SRC_URL" --dir "$WORK/nolog"
	must_sluice repn replay --dir "$WORK/nolog" --dest "$DST_URL" --consumer nolog
	compare_all 1 2 || fail "NO_LOG metadata: destination differs from the source"
	log "PASS"
}

main "$@"
