#!/usr/bin/env bash
# Least privilege (issue 14 item 5, RELIABILITY.md S4): accounts with exactly
# the grants README "Privileges" lists, per command (MariaDB names):
#   capture   source: REPLICATION SLAVE, BINLOG MONITOR
#   snapshot  source: SELECT, SHOW VIEW
#   replay    destination: SELECT, INSERT, UPDATE, DELETE, CREATE, DROP,
#             ALTER, INDEX, CREATE VIEW
#   verify    both: SELECT, SHOW VIEW
#   migrate   source: the union of capture's and snapshot's; destination:
#             replay's
# Each command works with them (the stream replayed and verified EQUAL).
# Then each grant is revoked in turn: precheck names it in a FAIL line;
# capture refuses naming it and writes no stream; replay refuses naming it
# and the destination holds no row of the stream.
# Prints: RESULT privileges trials=N lost=0 dup=0 revocations=N named=N
set -euo pipefail
TEST_NAME=test_privileges
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-120}
start_servers 2

PW="Pv-$$-$RANDOM"
CAP_GRANTS=("REPLICATION SLAVE" "BINLOG MONITOR")
SNAP_GRANTS=("SELECT" "SHOW VIEW")
REP_GRANTS=("SELECT" "INSERT" "UPDATE" "DELETE" "CREATE" "DROP" "ALTER" "INDEX" "CREATE VIEW")
VER_GRANTS=("SELECT" "SHOW VIEW")
join() { local IFS=,; echo "$*"; }
account() {	# account SERVER USER GRANTS...
	local n=$1 u=$2
	shift 2
	srv_sql "$n" -e "CREATE USER '$u'@'127.0.0.1' IDENTIFIED BY '$PW';
		GRANT $(join "$@") ON *.* TO '$u'@'127.0.0.1'"
}
account 1 cap "${CAP_GRANTS[@]}"
account 1 snap "${SNAP_GRANTS[@]}"
account 1 mig "${CAP_GRANTS[@]}" "${SNAP_GRANTS[@]}"
account 1 ver "${VER_GRANTS[@]}"
account 2 rep "${REP_GRANTS[@]}"
account 2 ver "${VER_GRANTS[@]}"
export SLUICE_SOURCE_PASSWORD=$PW SLUICE_DEST_PASSWORD=$PW
S="127.0.0.1:$SRC_PORT/"
D="127.0.0.1:$DST_PORT/"

src_sql <<'SQL'
CREATE DATABASE app;
CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO app.t VALUES (1, 'one'), (2, 'two');
CREATE VIEW app.v AS SELECT id FROM app.t;
SQL

# 1. with exactly the listed grants, every command works
must_sluice pre_ok precheck --source "mysql://mig@$S" --dest "mysql://rep@$D" --dir "$WORK/pd"
must_sluice cap0 capture --source "mysql://cap@$S" --dir "$WORK/s"
must_sluice snap snapshot --source "mysql://snap@$S" --dir "$WORK/s"
src_sql <<'SQL'
INSERT INTO app.t VALUES (3, 'three');
UPDATE app.t SET v = 'uno' WHERE id = 1;
DELETE FROM app.t WHERE id = 2;
CREATE TABLE app.u (id INT PRIMARY KEY, c INT);
ALTER TABLE app.u ADD COLUMN d INT;
CREATE INDEX ic ON app.u (c);
INSERT INTO app.u VALUES (1, 1, 1);
CREATE VIEW app.w AS SELECT id FROM app.u;
DROP VIEW app.w;
CREATE TABLE app.gone (id INT PRIMARY KEY);
DROP TABLE app.gone;
SQL
must_sluice cap1 capture --source "mysql://cap@$S" --dir "$WORK/s"
must_sluice rep replay --dir "$WORK/s" --dest "mysql://rep@$D"
must_sluice ver verify --source "mysql://ver@$S" --dest "mysql://ver@$D"
grep -q -x EQUAL "$WORK/ver.out" || { cat "$WORK/ver.out" >&2; fail "verify with SELECT only is not EQUAL"; }
compare_all
log "ok every command with its listed grants"

NREV=0 NNAMED=0
# named CASE REGEX FILE: FILE has a line matching REGEX
named() {
	NREV=$((NREV + 1))
	grep -q -E -- "$2" "$3" || { cat "$3" >&2; fail "$1: /$2/ not found"; }
	NNAMED=$((NNAMED + 1))
	log "ok $1: $(grep -m1 -E -- "$2" "$3")"
}

# 2. precheck names each missing source grant of the migration account
for g in "${CAP_GRANTS[@]}" "${SNAP_GRANTS[@]}"; do
	src_sql -e "REVOKE $g ON *.* FROM 'mig'@'127.0.0.1'"
	rc=0
	run_sluice "pre_src_$NREV" precheck --source "mysql://mig@$S" --dest "mysql://rep@$D" --dir "$WORK/pd" || rc=$?
	((rc == 2)) || fail "precheck without $g on the source exited $rc, want 2"
	named "precheck source -$g" "^FAIL +source +privileges: .*$g" "$WORK/pre_src_$NREV.out"
	src_sql -e "GRANT $g ON *.* TO 'mig'@'127.0.0.1'"
done

# 3. precheck names each missing destination grant
for g in "${REP_GRANTS[@]}"; do
	dst_sql -e "REVOKE $g ON *.* FROM 'rep'@'127.0.0.1'"
	rc=0
	run_sluice "pre_dst_$NREV" precheck --source "mysql://mig@$S" --dest "mysql://rep@$D" --dir "$WORK/pd" || rc=$?
	((rc == 2)) || fail "precheck without $g on the destination exited $rc, want 2"
	named "precheck destination -$g" "^FAIL +destination +privileges: (.*, )?$g(,| on)" "$WORK/pre_dst_$NREV.out"
	dst_sql -e "GRANT $g ON *.* TO 'rep'@'127.0.0.1'"
done

# 4. capture refuses without each of its grants, naming it, and writes no
#    stream (a new DIR) and nothing more (the existing stream)
for g in "${CAP_GRANTS[@]}"; do
	src_sql -e "REVOKE $g ON *.* FROM 'cap'@'127.0.0.1'"
	before=$(find "$WORK/s" -maxdepth 1 -name '*.seg' -o -maxdepth 1 -name '*.open' | sort | xargs cat | md5sum)
	src_sql -e "INSERT INTO app.t VALUES (100 + $NREV, 'late')"
	expect_error "cap_new_$NREV" "$g" capture --source "mysql://cap@$S" --dir "$WORK/new$NREV"
	[[ -z $(find "$WORK/new$NREV" \( -name '*.seg' -o -name '*.open' \) 2>/dev/null) ]] ||
		fail "capture without $g wrote a new stream"
	NREV=$((NREV + 1)) NNAMED=$((NNAMED + 1))
	expect_error "cap_old_$NREV" "$g" capture --source "mysql://cap@$S" --dir "$WORK/s"
	after=$(find "$WORK/s" -maxdepth 1 -name '*.seg' -o -maxdepth 1 -name '*.open' | sort | xargs cat | md5sum)
	[[ "$before" == "$after" ]] || fail "capture without $g changed the stream"
	NREV=$((NREV + 1)) NNAMED=$((NNAMED + 1))
	src_sql -e "GRANT $g ON *.* TO 'cap'@'127.0.0.1'"
done
must_sluice cap2 capture --source "mysql://cap@$S" --dir "$WORK/s"

# 5. replay into an empty destination refuses without each grant it needs,
#    naming it, and leaves no row of the stream behind
for g in "${REP_GRANTS[@]}"; do
	dst_sql -e "DROP DATABASE IF EXISTS app; DROP DATABASE IF EXISTS sluice;
		REVOKE $g ON *.* FROM 'rep'@'127.0.0.1'"
	expect_error "rep_$NREV" "$g" replay --dir "$WORK/s" --dest "mysql://rep@$D"
	rows=$(dst_sql -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'app'")
	((rows == 0)) || fail "replay without $g created $rows tables of the stream"
	NREV=$((NREV + 1)) NNAMED=$((NNAMED + 1))
	dst_sql -e "GRANT $g ON *.* TO 'rep'@'127.0.0.1'"
done

echo "RESULT privileges trials=1 lost=0 dup=0 revocations=$NREV named=$NNAMED"
((NREV == NNAMED)) || fail "$((NREV - NNAMED)) revocations were not named"
log "PASS"
