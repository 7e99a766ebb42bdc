#!/usr/bin/env bash
# Archived binlogs: a workload on a real MariaDB source, its binlog files
# copied out of the datadir, `sluice capture --binlog-files` into a DIR,
# replay into the destination, both equal. Then more work, one more closed
# file plus the open one (copied while the server writes it, marked in
# use): a second capture over all the files resumes after the last ingested
# transaction (files before it skipped), replay, equal again; a third
# capture over the same files adds nothing.
set -euo pipefail
TEST_NAME=test_binlog_files
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

must_sluice() {
	local name=$1 rc=0
	shift
	"$SLUICE" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
	if ((rc != 0)); then
		tail -n 20 "$WORK/$name.err" >&2
		fail "sluice $* exited $rc"
	fi
}

workload1() {
	cat <<'SQL'
CREATE DATABASE bf CHARACTER SET utf8mb4;
USE bf;
CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40), amount DECIMAL(12,2), at DATETIME(3),
                doc JSON, flags SET('a','b','c'), kind ENUM('x','y')) ENGINE=InnoDB;
CREATE TABLE nopk (a INT, b TEXT) ENGINE=InnoDB;
INSERT INTO t VALUES (1, 'one', 1.50, '2024-01-02 03:04:05.678', '{"k": [1, 2]}', 'a,c', 'x'),
                     (2, 'two', -2.25, NULL, NULL, '', 'y'), (3, 'ñandú', 0, '1999-12-31 23:59:59', '[]', 'b', NULL);
INSERT INTO nopk VALUES (1, 'x'), (1, 'x'), (2, NULL);
BEGIN; UPDATE t SET amount = amount * 2 WHERE id <= 2; DELETE FROM t WHERE id = 3; COMMIT;
SQL
}

workload2() {
	cat <<'SQL'
USE bf;
ALTER TABLE t ADD COLUMN note VARCHAR(10) DEFAULT 'n' AFTER name;
INSERT INTO t (id, name, amount) VALUES (4, 'four', 4), (5, 'five', 5);
UPDATE t SET note = 'changed' WHERE id = 1;
DELETE FROM nopk WHERE b IS NULL;
SQL
}

workload3() {
	cat <<'SQL'
USE bf;
INSERT INTO t (id, name, amount) VALUES (6, 'six', 6);
UPDATE nopk SET b = 'y' WHERE a = 1 LIMIT 1;
SQL
}

main() {
	require_sluice
	start_servers 2
	local datadir=${_H_DIRS[0]}/data dir=$WORK/dir files=$WORK/binlogs
	mkdir -p "$files"

	# Files from here on: the harness's own account setup stays in the
	# first file, which is not given to sluice.
	src_sql -e "FLUSH BINARY LOGS"
	local first
	first=$(binlogs "$datadir" | tail -n 1)

	log "workload 1, rotate, workload 2, rotate"
	workload1 | src_sql
	src_sql -e "FLUSH BINARY LOGS"
	workload2 | src_sql
	src_sql -e "FLUSH BINARY LOGS"

	local -a run1=()
	local f started=0
	while IFS= read -r f; do
		[[ "$f" == "$first" ]] && started=1
		((started)) || continue
		cp "$f" "$files/"
		run1+=("$files/$(basename "$f")")
	done < <(binlogs "$datadir" | head -n -1)
	((${#run1[@]} == 2)) || fail "expected 2 closed binlog files, got ${#run1[@]}"

	log "capture --binlog-files ${run1[*]##*/}"
	must_sluice cap1 capture --binlog-files "${run1[@]}" --dir "$dir"
	must_sluice rep1 replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "destination differs after the first files"
	log "equal after the first files"

	log "workload 3 (rotated), more work in the open file"
	workload3 | src_sql
	src_sql -e "FLUSH BINARY LOGS"
	src_sql -e "INSERT INTO bf.t (id, name) VALUES (7, 'open file')"
	local -a run2=()
	started=0
	while IFS= read -r f; do
		[[ "$f" == "$first" ]] && started=1
		((started)) || continue
		cp "$f" "$files/"
		run2+=("$files/$(basename "$f")")
	done < <(binlogs "$datadir")
	((${#run2[@]} == 4)) || fail "expected 4 binlog files, got ${#run2[@]}"

	log "capture resumes over ${run2[*]##*/} (sorted by name, given in reverse)"
	local -a rev=()
	for ((i = ${#run2[@]} - 1; i >= 0; i--)); do rev+=("${run2[i]}"); done
	must_sluice cap2 capture --dir "$dir" --sort-files --binlog-files "${rev[@]}"
	grep -q "wholly before" "$WORK/cap2.err" || fail "the first file was not skipped on resume"
	must_sluice rep2 replay --dir "$dir" --dest "$DST_URL"
	compare_all || fail "destination differs after resuming with newer files"
	log "equal after resuming"

	must_sluice cap3 capture --dir "$dir" --binlog-files "${run2[@]}"
	grep -q "captured 0 transactions, 0 rows, 0 ddls" "$WORK/cap3.err" ||
		{ cat "$WORK/cap3.err" >&2; fail "a third capture over the same files added something"; }

	log "a file of another stream, and garbage: clear errors"
	head -c 300 "${run2[1]}" >"$files/cut.000009"
	if "$SLUICE" capture --dir "$WORK/dir2" --binlog-files "$files/cut.000009" 2>"$WORK/cut.err"; then
		fail "a truncated file was accepted"
	fi
	grep -q "cut.000009.*offset" "$WORK/cut.err" || { cat "$WORK/cut.err" >&2; fail "the error does not name file and offset"; }
	printf 'not a binlog' >"$files/garbage"
	if "$SLUICE" capture --dir "$WORK/dir3" --binlog-files "$files/garbage" 2>"$WORK/garbage.err"; then
		fail "garbage was accepted"
	fi
	grep -q "is not a binlog file" "$WORK/garbage.err" || fail "garbage: unclear error"
	log "PASS"
}

main "$@"
