#!/usr/bin/env bash
# inspect --json is exact (issue 10, item 5): a stream with binary, BLOB,
# BIT, geometry, cp1251, gbk, latin1 and utf8mb4 columns, captured live,
# printed with `inspect --json`. Every line must parse as JSON (strict
# UTF-8), text must come out as the characters the source holds, and bytes
# as {"hex": ...}: X'C3A9' and X'E9' in a VARBINARY column must differ.
set -euo pipefail
TEST_NAME=test_inspect_json
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

workload() {
	cat <<'SQL'
CREATE DATABASE ij CHARACTER SET utf8mb4;
USE ij;
CREATE TABLE t (id INT PRIMARY KEY, vb VARBINARY(8), bl BLOB, bt BIT(12),
                g GEOMETRY, w VARCHAR(20) CHARACTER SET cp1251,
                z VARCHAR(20) CHARACTER SET gbk, l VARCHAR(20) CHARACTER SET latin1,
                u VARCHAR(20) CHARACTER SET utf8mb4,
                e ENUM('да', 'нет') CHARACTER SET cp1251) ENGINE=InnoDB;
INSERT INTO t VALUES
  (1, X'C3A9', X'00FF', b'101', ST_GeomFromText('POINT(1 2)'), 'Привет', '中文', 'café', 'é€😀', 'да'),
  (2, X'E9', X'', b'0', NULL, '', '', '', '"\\\n', 'нет');
SQL
}

check() {
	python3 - "$1" <<'PY'
import json, sys
rows = {}
with open(sys.argv[1], encoding="utf-8", errors="strict") as f:
    for i, line in enumerate(f, 1):
        try:
            rec = json.loads(line)
        except ValueError as e:
            sys.exit("line %d is not JSON: %s: %.200s" % (i, e, line))
        for c in rec.get("changes", []):
            if c["db"] == "ij" and c.get("after"):
                rows[c["after"]["id"]] = c["after"]
want = {
    1: {"vb": {"hex": "C3A9"}, "bl": {"hex": "00FF"}, "bt": 5, "w": "Привет", "z": "中文",
        "l": "café", "u": "é€😀", "e": "да"},
    2: {"vb": {"hex": "E9"}, "bl": {"hex": ""}, "bt": 0, "g": None, "w": "", "z": "", "l": "",
        "u": "\"\\\n", "e": "нет"},
}
for k, cols in want.items():
    if k not in rows:
        sys.exit("row %d not in inspect --json (rows: %r)" % (k, sorted(rows)))
    for c, v in cols.items():
        if rows[k].get(c) != v:
            sys.exit("row %d column %s: got %r, want %r" % (k, c, rows[k].get(c), v))
g = rows[1]["g"]
if not (isinstance(g, dict) and set(g) == {"hex"} and g["hex"].endswith("000000000000F03F0000000000000040")):
    sys.exit("row 1 geometry: got %r, want {'hex': SRID + WKB of POINT(1 2)}" % (g,))
print("ok: %d rows checked" % len(want))
PY
}

main() {
	require_sluice
	start_servers 1
	local dir=$WORK/dir
	must_sluice cap0 capture --source "$SRC_URL" --dir "$dir"
	workload | src_sql
	must_sluice cap1 capture --source "$SRC_URL" --dir "$dir"
	must_sluice insp inspect "$dir" --json
	# every line is JSON, whatever the input
	python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$WORK/insp.out" ||
		fail "inspect --json printed a line that is not JSON"
	check "$WORK/insp.out" >&2 || fail "inspect --json values are not exact"
	log "PASS"
}

main "$@"
