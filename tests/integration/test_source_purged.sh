#!/usr/bin/env bash
# The binlog purged past a stream's position (RELIABILITY.md A6, issue 14
# item 4): capture stops at once with one line naming the purged file and
# the stream's position, exit 2, nothing skipped, DIR unchanged; the same
# on a --follow start, for a stream the source lost (RESET MASTER: the stream
# is ahead of the source), in `precheck --dir`, and for migrate --follow,
# whose task must stop with that error instead of restarting capture forever.
#
#   RESULT purged-<case> trials=1 lost=0 dup=0 refused=1
# (printed once the case's checks passed: refused with the line, DIR
# unchanged, so nothing skipped and nothing written twice)
set -euo pipefail
TEST_NAME=test_source_purged
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-90}
start_servers 2

sizes_of() { find "$1" -type f -printf '%P\t%s\n' | sort; }

# Rotates the binlog and purges every file before the new one: the file the
# stream stands in goes. A dump thread still on it (a capture just killed)
# makes PURGE keep it: retried until it is gone.
purge_all_but_newest() {
	local last first
	src_sql -e "FLUSH BINARY LOGS"
	last=$(src_sql -N -B -e "SHOW MASTER STATUS" | cut -f1)
	for _ in $(seq 1 100); do
		src_sql -e "PURGE BINARY LOGS TO '$last'" 2>/dev/null || true
		first=$(src_sql -N -B -e "SHOW BINARY LOGS" | head -n1 | cut -f1)
		[[ "$first" == "$last" ]] && return 0
		sleep 0.1
	done
	fail "could not purge the binlogs before $last (still: $first)"
}

result() { echo "RESULT purged-$1 trials=1 lost=0 dup=0 refused=1"; }

src_sql -e "CREATE DATABASE p; CREATE TABLE p.t (id INT PRIMARY KEY, v INT);
	INSERT INTO p.t VALUES (1, 1), (2, 2);"
D=$WORK/dir
must_sluice cap1 capture --source "$SRC_URL" --dir "$D"
pos=$(tail -n 5 "$WORK/cap1.err" | sed -n "s/.*starts at \(mysql-bin\.[0-9]*\):\([0-9]*\).*/\1:\2/p")
[[ -n "$pos" ]] || pos=$(grep -o 'mysql-bin\.[0-9]*:[0-9]*' "$WORK/cap1.err" | tail -n1)
file=${pos%%:*}
log "the stream stands at $pos"

# Writes the stream has not seen yet, then the file it stands in is purged.
src_sql -e "INSERT INTO p.t VALUES (3, 3); UPDATE p.t SET v = 20 WHERE id = 2;"
purge_all_but_newest
sizes_of "$D" >"$WORK/before"

# 1. capture (batch and --follow) refuses, naming the file and the position
expect_error purged_batch "binlog '$file' was purged: the stream is at ${pos//./\\.}.*oldest binlog left" \
	capture --source "$SRC_URL" --dir "$D"
expect_error purged_follow "binlog '$file' was purged: the stream is at ${pos//./\\.}" \
	capture --source "$SRC_URL" --dir "$D" --follow
sizes_of "$D" >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after" || { diff "$WORK/before" "$WORK/after" >&2; fail "a refused capture changed DIR"; }
result capture
result capture-follow

# 2. precheck --dir names it in its binlog retention check
rc=0
run_sluice pre precheck --source "$SRC_URL" --dir "$D" || rc=$?
((rc == 2)) || { cat "$WORK/pre.out" "$WORK/pre.err" >&2; fail "precheck exited $rc with the stream's binlog purged, want 2"; }
grep -E -i "fail.*binlog retention.*'$file' was purged.*${pos//./\\.}" "$WORK/pre.out" >/dev/null ||
	{ cat "$WORK/pre.out" >&2; fail "precheck's binlog retention check does not name the purged file and position"; }
result precheck

# 3. a source that lost what it had sent (RESET MASTER): the stream is ahead
D2=$WORK/dir2
must_sluice cap2 capture --source "$SRC_URL" --dir "$D2"
src_sql -e "FLUSH BINARY LOGS; FLUSH BINARY LOGS; INSERT INTO p.t VALUES (4, 4)"
must_sluice cap3 capture --source "$SRC_URL" --dir "$D2"
src_sql -e "RESET MASTER"
src_sql -e "INSERT INTO p.t VALUES (5, 5)"
sizes_of "$D2" >"$WORK/before2"
expect_error ahead "the stream is at mysql-bin\.[0-9]+:[0-9]+.*(past the source's newest binlog|ends at).*nothing was skipped" \
	capture --source "$SRC_URL" --dir "$D2"
sizes_of "$D2" >"$WORK/after2"
cmp -s "$WORK/before2" "$WORK/after2" || fail "a refused capture changed DIR (ahead case)"
result ahead

# 4. migrate --follow: capture's child ends on a purged binlog; the task stops
src_sql -e "DROP DATABASE p; CREATE DATABASE m; CREATE TABLE m.t (id INT PRIMARY KEY, v INT);
	INSERT INTO m.t VALUES (1, 1), (2, 2);"
MD=$WORK/mig
start_bg mig migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$MD" --follow --no-progress
MPID=$BG_PID
wait_line mig "$MPID" 'following: capture and replay keep running' 180
cpid=$(sed -n 's/^pid\.capture=//p' "$MD/migrate.state")
[[ -n "$cpid" && "$cpid" != 0 ]] || fail "no capture pid in migrate.state"
# the task held still while its capture dies and the binlog goes
kill -STOP "$MPID"
kill -9 "$cpid"
src_sql -e "INSERT INTO m.t VALUES (3, 3)"
purge_all_but_newest
kill -CONT "$MPID"
rc=0
for _ in $(seq 1 300); do
	kill -0 "$MPID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$MPID" 2>/dev/null; then
	tail -n 20 "$WORK/mig.err" >&2
	fail "migrate --follow still runs 30 s after its capture's binlog was purged (restarting capture forever)"
fi
wait "$MPID" || rc=$?
((rc == 2)) || { tail -n 20 "$WORK/mig.err" >&2; fail "migrate exited $rc, want 2"; }
last=$(grep -v '^[[:space:]]*$' "$WORK/mig.err" | tail -n 1)
grep -E -q "binlog 'mysql-bin\.[0-9]+' was purged: the stream is at mysql-bin\.[0-9]+:[0-9]+" <<<"$last" ||
	{ tail -n 20 "$WORK/mig.err" >&2; fail "migrate's last line does not name the purged binlog: $last"; }
restarts=$(grep -c 'capture .*restarting it' "$WORK/mig.err" || true)
((restarts <= 1)) || fail "the task restarted capture $restarts times"
assert_no_password "$WORK/mig.err" "$WORK/mig.out"
log "ok migrate: $last"
result migrate
log "PASS"
