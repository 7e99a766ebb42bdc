#!/usr/bin/env bash
# sluice precheck: every check prints pass/warn/FAIL with its fix, exit 2 on
# any fail. A well-configured pair passes; then the source is misconfigured
# (binlog_format=STATEMENT, short binlog retention, a keyless table) and the
# destination has a table in the way with a trigger on it: each shows up with
# its fix, the exit status is 2 with one error line, and no password is
# printed. migrate refuses to start on the same failure.
set -euo pipefail
TEST_NAME=test_precheck
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-120}
start_servers 2

src_sql <<'SQL'
CREATE DATABASE app;
CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20));
CREATE TABLE app.u (a INT, b VARCHAR(10), UNIQUE KEY (a));
INSERT INTO app.t VALUES (1, 'one'), (2, 'two');
CREATE VIEW app.v AS SELECT id FROM app.t;
SQL

# 1. well configured: everything passes (warnings allowed), exit 0
must_sluice ok precheck --source "$SRC_URL" --dest "$DST_URL" --dir "$WORK/dir"
out=$WORK/ok.out
for want in 'pass +source +log_bin' 'pass +source +binlog_format: ROW' 'pass +source +binlog_row_image' \
	'pass +source +binlog_row_metadata' 'pass +source +server_id: 1' 'pass +source +binlog retention' \
	'pass +source +privileges: REPLICATION SLAVE' 'pass +source +keys' 'pass +source +definitions' \
	'pass +destination +privileges' 'pass +destination +tables' 'pass +destination +triggers' \
	'pass +disk +space' 'precheck: [0-9]+ passed, [0-9]+ warnings, 0 failed'; do
	grep -q -E -- "$want" "$out" || { cat "$out" >&2; fail "precheck output lacks /$want/"; }
done
assert_no_password "$WORK/ok.out" "$WORK/ok.err"

# 2. misconfigured source and a destination in the way
src_sql -e "SET GLOBAL binlog_format='STATEMENT'; SET GLOBAL binlog_expire_logs_seconds=3600;
	CREATE TABLE app.nokey (a INT, b TEXT); INSERT INTO app.nokey VALUES (1, 'x');"
dst_sql -e "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20));
	CREATE TABLE app.audit (n INT);
	CREATE TRIGGER app.t_ins AFTER INSERT ON app.t FOR EACH ROW INSERT INTO app.audit VALUES (NEW.id);"
rc=0
run_sluice bad precheck --source "$SRC_URL" --dest "$DST_URL" --dir "$WORK/dir" || rc=$?
((rc == 2)) || { cat "$WORK/bad.out" "$WORK/bad.err" >&2; fail "precheck exited $rc on a STATEMENT binlog, want 2"; }
out=$WORK/bad.out
grep -q -E 'FAIL +source +binlog_format: binlog_format is STATEMENT, must be ROW' "$out" ||
	{ cat "$out" >&2; fail "the STATEMENT binlog is not reported as a failure"; }
grep -A1 -E 'FAIL +source +binlog_format' "$out" | grep -q "fix: SET GLOBAL binlog_format='ROW'" ||
	fail "the binlog_format failure has no fix"
grep -q -E 'warn +source +binlog retention: binlog_expire_logs_seconds keeps binary logs 3600 s' "$out" ||
	fail "short binlog retention is not a warning"
grep -q -E 'warn +source +keys: 1 table without a primary or unique key.*`app`.`nokey`' "$out" ||
	fail "the keyless table is not reported"
grep -q -E 'FAIL +destination +triggers: table `app`.`t` has trigger `t_ins`' "$out" ||
	fail "the destination's trigger is not reported"
grep -q -E 'FAIL +destination +tables: 1 tables and views already exist.*`app`.`t`' "$out" ||
	fail "the table in the way is not reported"
[[ $(grep -c -v '^[0-9]' "$WORK/bad.err") == 1 ]] && grep -q 'sluice precheck: 3 checks failed' "$WORK/bad.err" ||
	{ cat "$WORK/bad.err" >&2; fail "want one error line counting the failures"; }
assert_no_password "$WORK/bad.out" "$WORK/bad.err"

# 3. migrate runs the precheck first and does not start on a failure
rc=0
run_sluice mig migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$WORK/mdir" || rc=$?
((rc == 2)) || { cat "$WORK/mig.err" >&2; fail "migrate exited $rc on a failing precheck, want 2"; }
grep -q 'binlog_format' "$WORK/mig.out" "$WORK/mig.err" || fail "migrate does not say which check failed"
[[ ! -e "$WORK/mdir/snapshot" ]] || fail "migrate started the snapshot despite the failed precheck"
assert_no_password "$WORK/mig.out" "$WORK/mig.err"

# 4. a bad URL is one error line, exit 2
expect_error badurl 'cannot connect to source' precheck --source "mysql://sluice@127.0.0.1:1/"
# 5. an unknown --dest-dialect is refused by the option itself, before any
#    server is asked (the same check as replay, snapshot and capture)
expect_error baddialect "option '--dest-dialect': unknown dialect 'postgres'" \
	precheck --source "mysql://sluice@127.0.0.1:1/" --dest-dialect postgres
expect_error baddialect2 "option '--dest-dialect': unknown dialect 'postgres'" \
	migrate --source "mysql://sluice@127.0.0.1:1/" --dest "mysql://sluice@127.0.0.1:1/" \
	--dir "$WORK/bd" --dest-dialect postgres
log "ok"
