#!/usr/bin/env bash
# sluice migrate --follow --bidirectional (issue 12, loop prevention): once
# the task follows, the destination's own changes are captured into RDIR and
# replayed into the source while forward sync goes on. Writes on either side
# (inserts, updates, deletes, on different rows) appear once on the other
# and never come back: both sides equal, each stream holds only the writes
# made on its own side, and neither stream grows once the writes stop.
# Then a switchover on the same task takes the running reverse direction
# as it is (the same RDIR; another one is refused).
set -euo pipefail
TEST_NAME=test_bidirectional
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-300}

start_servers 2
DIR=$WORK/stream
RDIR=$WORK/reverse
src_sql <<'SQL'
CREATE DATABASE app;
CREATE TABLE app.t (id INT PRIMARY KEY, side CHAR(1) NOT NULL, v INT NOT NULL) ENGINE=InnoDB;
CREATE TABLE app.log (msg VARCHAR(40)) ENGINE=InnoDB;
INSERT INTO app.t VALUES (1, 's', 0), (2, 'd', 0);
SQL

expect_error no-rdir 'bidirectional needs --reverse-dir' migrate --source "$SRC_URL" --dest "$DST_URL" \
	--dir "$DIR" --follow --bidirectional
start_bg task migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$DIR" --follow --bidirectional \
	--reverse-dir "$RDIR" --no-progress
TASK=$BG_PID
wait_line task "$TASK" 'bidirectional: the destination'

# S writes rows 100.., D writes rows 200..; each side updates and deletes its own
for i in $(seq 1 20); do
	src_sql -e "INSERT INTO app.t VALUES ($((100 + i)), 's', $i); UPDATE app.t SET v = v + 1 WHERE id = 1;
		INSERT INTO app.log VALUES ('s$i')"
	dst_sql -e "INSERT INTO app.t VALUES ($((200 + i)), 'd', $i); UPDATE app.t SET v = v + 1 WHERE id = 2;
		INSERT INTO app.log VALUES ('d$i')"
done
src_sql -e "DELETE FROM app.t WHERE id = 101"
dst_sql -e "DELETE FROM app.t WHERE id = 201"
wait_equal 60 || fail "the two sides differ"
[[ "$(src_sql -N -B -e "SELECT COUNT(*), SUM(v) FROM app.t WHERE id IN (1, 2)")" == "2	40" ]] ||
	fail "an update came back or went missing: $(src_sql -N -B -e 'SELECT * FROM app.t WHERE id IN (1, 2)')"
[[ "$(src_sql -N -B -e "SELECT COUNT(*) FROM app.log")" == 40 ]] || fail "a keyless row came back or went missing"

# each stream holds its own side's writes only, and stops growing
count_rows() { "$SLUICE" inspect --json "$1" | python3 -c 'import json, sys
n = 0
for line in sys.stdin:
    n += len(json.loads(line).get("changes", []))
print(n)'; }
sleep 2
f=$(count_rows "$DIR")
r=$(count_rows "$RDIR")
# per side: 20 inserts, 20 updates, 20 log rows, 1 delete (the forward stream also
# holds the 3 rows of the start, which the snapshot carried, not the changes)
((f == 61)) || fail "the forward stream holds $f changes, want 61 (S's own)"
((r == 61)) || fail "the reverse stream holds $r changes, want 61 (D's own)"
sleep 3
[[ "$(count_rows "$DIR") $(count_rows "$RDIR")" == "$f $r" ]] || fail "a stream kept growing: changes came back"

# a switchover on this task: another RDIR is refused, the running one is kept
expect_error other-rdir 'give --reverse-dir' switchover --dir "$DIR" --source "$SRC_URL" --dest "$DST_URL" \
	--reverse-dir "$WORK/other" --yes --freeze-source
must_sluice switchover switchover --dir "$DIR" --source "$SRC_URL" --dest "$DST_URL" --reverse-dir "$RDIR" \
	--yes --freeze-source
dst_sql -e "INSERT INTO app.t VALUES (300, 'd', 1)"
wait_equal 60 || fail "reverse sync stopped after the switchover"
stop_bg "$TASK" task TERM
log "ok"
