#!/usr/bin/env bash
# Switchover step 7, "process objects" (issue 12): migrate/mig_objects.c
# against two real servers. A source with a foreign key (ON DELETE CASCADE),
# three triggers (one under a non-default sql_mode with another definer, one
# that FOLLOWS it, one writing an audit table) and AUTO_INCREMENT tables is
# migrated by `sluice migrate` (no --follow); then tests/unit/test_objects.c
# (--servers) calls the functions on those servers. Before them:
#   0. a function created under PIPES_AS_CONCAT concatenates on the
#      destination too (replay creates it under its recorded sql_mode);
#   1. mig__deferred_create() creates the foreign key and the triggers on the
#      destination, out of its binlog; a second call creates nothing;
#   2. mig__autoinc_sync() raises the destination's counters to the source's
#      after more inserts there, never lowers one, looks at migrated tables
#      only; a second call changes nothing;
#   3. mig__source_triggers_park() saves the source's triggers on migrated
#      tables to RDIR/source-triggers and drops them (a trigger on a table
#      created after the migration stays); a rerun after a crash between
#      the file and the drops drops what is left; another changes nothing;
#   4. mig__source_triggers_restore() creates them again identical (SHOW
#      CREATE TRIGGER, firing order, definer; one already back, as after a
#      crash, is counted present), renames the file; a second restore does
#      nothing;
#   5. the destination's new foreign key cascades and its triggers fire.
set -euo pipefail
TEST_NAME=test_objects
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
SUITE=${SLUICE_TEST_OBJECTS:-$SLUICE_SOURCE_DIR/build/tests/test_objects}
[[ -x "$SUITE" ]] || _require "test_objects not built at $SUITE"

start_servers 2
for n in 1 2; do
	srv_sql "$n" <<'SQL'
CREATE USER 'appuser'@'%' IDENTIFIED BY 'app-secret-0';
GRANT ALL PRIVILEGES ON shop.* TO 'appuser'@'%';
SQL
done
src_sql <<'SQL'
CREATE DATABASE shop;
USE shop;
CREATE TABLE parent (id INT NOT NULL PRIMARY KEY, name VARCHAR(40)) ENGINE=InnoDB;
CREATE TABLE child (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  parent_id INT NOT NULL,
  note VARCHAR(40),
  CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE
) ENGINE=InnoDB;
CREATE TABLE audit (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(80)) ENGINE=InnoDB;
CREATE TABLE ahead (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB;
INSERT INTO parent VALUES (1, 'one'), (2, 'two'), (3, 'three');
INSERT INTO child (parent_id, note) VALUES (1, 'a'), (1, 'b'), (2, 'c'), (3, 'd');
INSERT INTO audit (msg) VALUES ('start');
INSERT INTO ahead (v) VALUES (1), (2), (3);
SET SESSION sql_mode = 'PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION';
CREATE DEFINER = 'appuser'@'%' TRIGGER child_bi BEFORE INSERT ON child
  FOR EACH ROW SET NEW.note = NEW.note || '!';
CREATE FUNCTION cat2(a VARCHAR(20), b VARCHAR(20)) RETURNS VARCHAR(40) DETERMINISTIC RETURN a || b;
SET SESSION sql_mode = DEFAULT;
CREATE TRIGGER child_bi2 BEFORE INSERT ON child FOR EACH ROW FOLLOWS child_bi
  SET NEW.note = CONCAT(NEW.note, '?');
DELIMITER //
CREATE TRIGGER parent_ai AFTER INSERT ON parent FOR EACH ROW
BEGIN
  INSERT INTO audit (msg) VALUES (CONCAT('parent ', NEW.id));
END//
DELIMITER ;
SQL

DIR=$WORK/stream
must_sluice migrate migrate --source "$SRC_URL" --dest "$DST_URL" --dir "$DIR"
compare_db shop || fail "migrate left the destination different from the source"
# A routine runs under the sql_mode it was created with, on either side.
[[ $(src_sql -N -e "SELECT shop.cat2('a', 'b')") == ab ]] || fail "the source's cat2() does not concatenate"
got=$(dst_sql -N -e "SELECT shop.cat2('a', 'b')")
[[ $got == ab ]] || fail "the destination's cat2() gives '$got', not 'ab': created under another sql_mode"

# The snapshot recorded each stored program's sql_mode; schema --print sets it.
must_sluice schema schema --dir "$DIR" --print
grep -q "^SET @sluice_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = 'PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION';$" \
	"$WORK/schema.out" || fail "schema --print does not set the trigger's sql_mode: $(cat "$WORK/schema.out")"
grep -q '^SET SESSION sql_mode = @sluice_sql_mode;$' "$WORK/schema.out" ||
	fail "schema --print does not set the client's sql_mode back"

# Created after the migration: not a migrated table, its trigger is not parked.
src_sql <<'SQL'
CREATE TABLE shop.later (id INT PRIMARY KEY, v INT) ENGINE=InnoDB;
CREATE TRIGGER shop.later_bi BEFORE INSERT ON shop.later FOR EACH ROW SET NEW.v = 1;
SQL

"$SUITE" --servers "$SRC_URL" "$DST_URL" "$DIR" "$WORK/reverse" >"$WORK/suite.out" 2>&1 || {
	cat "$WORK/suite.out" >&2
	fail "test_objects --servers failed"
}
grep -E 'asserts|tests ' "$WORK/suite.out" >&2
assert_no_password "$WORK/reverse/source-triggers.restored" "$WORK/suite.out"
log "pass"
