#!/usr/bin/env bash
# tests/bench/test_report.sh - bench/lib.sh's result lines and bench/report.py's
# arithmetic, without running a benchmark: three runs of known figures go in
# through lib.sh, and results.json must hold their medians, min, max and the
# ratios; report.md their table rows; bad input must be refused with the file
# and line. bench/run's own argument checks too. Runs in about a second.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/test_report.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "test_report: FAIL: $*" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# Without BENCH_RESULTS the calls write nothing and succeed.
(unset BENCH_RESULTS; bench_result x y seconds 1) || fail "bench_result without BENCH_RESULTS failed"

export BENCH_RESULTS=$T/results.jsonl
: >"$BENCH_RESULTS"
# a value that is not a number is refused, and nothing is written
if bench_result replay "sluice replay" seconds n/a s 2>"$T/err"; then
	fail "bench_result took 'n/a'"
fi
grep -q "'n/a' is not a number" "$T/err" || fail "no reason for refusing 'n/a': $(cat "$T/err")"
[[ ! -s "$BENCH_RESULTS" ]] || fail "a refused figure was written"

# three runs: sluice at 30/10/20 thousand rows/s, the peer at 10/5/20
for run in 1 2 3; do
	export BENCH_RUN=$run
	bench_note replay "run $run: 4 x 2,000 rows"
	bench_result replay "sluice replay" rows_per_s $((run == 1 ? 30000 : run == 2 ? 10000 : 20000)) rows/s
	bench_result replay "sluice replay" seconds .$((run + 2)) s
	bench_result replay "mariadb-binlog | mariadb" rows_per_s $((run == 1 ? 10000 : run == 2 ? 5000 : 20000)) rows/s
	bench_result segment-size "sluice segments" pct_of_binlog 20 %
	bench_result segment-size "zstd -3" pct_of_binlog 25 %
	printf '0 0.1\n0.5 0.2\n1 0.05\n' >"$T/series"
	bench_series migrate-lag "sluice migrate --follow" "$T/series"
	bench_result migrate-lag "sluice migrate --follow" lag_p99_s 0.2 s
done
printf '{"kind": "invocation", "comparison": "replay", "script": "bench_replay.sh", "run": 1, "mode": "quick", "status": "ok", "exit": 0, "seconds": 12.5, "load_before": 0.5, "env": "", "reason": "", "log": "logs/x.log"}\n' >>"$BENCH_RESULTS"
printf '{"kind": "invocation", "comparison": "ship", "script": "bench_ship.sh", "run": 1, "mode": "quick", "status": "skipped", "exit": 77, "seconds": 0.1, "load_before": 0.5, "env": "", "reason": "nats-server not installed", "log": "logs/y.log"}\n' >>"$BENCH_RESULTS"
python3 "$ROOT/bench/report.py" machine >"$T/machine.json" || fail "report.py machine failed"
python3 "$ROOT/bench/report.py" build "$T" || fail "report.py build failed"

python3 - "$T/results.json" <<'EOF' || fail "results.json does not hold the figures"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["mode"] == "quick", r["mode"]
assert r["machine"]["cores"] >= 1
comps = {c["id"]: c for c in r["comparisons"]}
rep = {t["tool"]: t for t in comps["replay"]["tools"]}
s = rep["sluice replay"]["metrics"]["rows_per_s"]
assert s["runs"] == [30000, 10000, 20000], s
assert (s["median"], s["min"], s["max"]) == (20000, 10000, 30000), s
p = rep["mariadb-binlog | mariadb"]
assert p["metrics"]["rows_per_s"]["median"] == 10000
assert p["ratio"] == 2.0, p.get("ratio")          # 20,000 / 10,000 rows/s
assert rep["sluice replay"]["metrics"]["seconds"]["median"] == 0.4
seg = {t["tool"]: t for t in comps["segment-size"]["tools"]}
assert seg["zstd -3"]["ratio"] == 1.25, seg       # smaller is better: 25 % / 20 %
assert comps["replay"]["notes"][0] == "run 1: 4 x 2,000 rows"
sr = r["series"]
assert len(sr) == 3 and sr[0]["comparison"] == "migrate-lag", sr
assert sr[0]["x"] == [0, 0.5, 1] and sr[0]["y"] == [0.1, 0.2, 0.05], sr[0]
assert len(r["invocations"]) == 2
assert [t["tool"] for t in comps["replay"]["tools"]][0] == "sluice replay"
EOF

md=$T/report.md
# shellcheck disable=SC2016
grep -qF '| `sluice replay` | 0.400 (0.300-0.500) | 20,000 (10,000-30,000) | baseline |' "$md" ||
	fail "report.md lacks sluice's replay row: $(grep -F 'sluice replay' "$md" | head -3)"
grep -qF '| mariadb-binlog \| mariadb |  | 10,000 (5,000-20,000) | 2.00x |' "$md" ||
	fail "report.md lacks the peer's row (with its | escaped)"
grep -qF '**skipped** (exit 77): nats-server not installed' "$md" || fail "report.md does not list the skipped invocation"
grep -q 'spread by more than 25 %' "$md" || fail "report.md does not flag runs spread from 10,000 to 30,000"
if command -v gnuplot >/dev/null; then
	for png in chart-replay.png chart-segment-size.png lag-migrate-lag.png; do
		[[ "$(head -c 4 "$T/$png" | od -An -c | tr -d ' ')" == *PNG* ]] || fail "$png is not a PNG"
		grep -qF "]($png)" "$md" || fail "report.md does not show $png"
	done
else
	grep -q 'gnuplot is not installed' "$md" || fail "report.md does not say why it has no charts"
fi

# bad input: one line naming the file and line, exit 2
mkdir -p "$T/bad"
printf '{"kind": "note", "comparison": "c", "text": "t"}\nnot json\n' >"$T/bad/results.jsonl"
rc=0
python3 "$ROOT/bench/report.py" build "$T/bad" 2>"$T/err" || rc=$?
((rc == 2)) || fail "report.py on bad input: exit $rc, want 2"
grep -qE "results.jsonl:2: not JSON" "$T/err" || fail "report.py does not name the bad line: $(cat "$T/err")"
printf '{"kind": "result", "comparison": "c", "tool": "t", "metric": "m"}\n' >"$T/bad/results.jsonl"
rc=0
python3 "$ROOT/bench/report.py" build "$T/bad" 2>"$T/err" || rc=$?
if ((rc != 2)) || ! grep -qF 'results.jsonl:1: a line of kind result without "value"' "$T/err"; then
	fail "report.py on a result without a value: exit $rc, $(cat "$T/err")"
fi

# bench/run refuses bad arguments before building or starting anything
for args in "--runs 0" "--only nothing" "--bogus"; do
	rc=0
	# shellcheck disable=SC2086
	bash "$ROOT/bench/run" $args --out "$T/run" 2>"$T/err" || rc=$?
	((rc == 2)) || fail "bench/run $args: exit $rc, want 2"
	[[ $(wc -l <"$T/err") -eq 1 ]] || fail "bench/run $args: want one line, got: $(cat "$T/err")"
done
[[ ! -e "$T/run/results.jsonl" ]] || fail "bench/run wrote results on bad arguments"
echo "test_report: ok"
