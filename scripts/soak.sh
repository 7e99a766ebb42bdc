#!/usr/bin/env bash
# soak.sh - the long fault runs (`make soak`), outside CI: the fault tests of
# tests/integration with their trial counts raised, and each fuzz target for
# an hour, then a report in reports/soak-<date>.md with every RESULT line
# (trials, lost, duplicated, recovery times), each suite's wall time and
# status. RELIABILITY.md tier T2; CI runs the same tests with small counts.
#
#   scripts/soak.sh [--scale F]       F multiplies every trial count (default 1;
#                                     0.05 is a quick check of the soak itself)
#
# Environment: SOAK_TESTS (regex of ctest names, default the fault suites),
# SOAK_FUZZ_SECONDS (per target, default 3600; 0 skips fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=1
if [[ "${1:-}" == "--scale" ]]; then
	scale=$2
fi
n() { awk -v a="$1" -v s="$scale" 'BEGIN { v = int(a * s + 0.5); print (v < 1 ? 1 : v) }'; }

# The 200-trial versions: kill -9 of capture, of replay and of both
# (test_crash), of each server (test_reconnect), of replay mid-batch
# (test_batch), every failpoint x10, the proxy faults; kill -9 of ship and
# receive (test_ship_crash, 20 trials, each of their failpoints x10).
export CRASH_TRIALS=$(n 200) RECONNECT_TRIALS=$(n 200) BT_KILLS=$(n 200)
export FAILPOINT_REPS=$(n 10) NETFAULT_TRIALS=$(n 200) NETFAULT_FLIPS=$(n 200)
SHIP_CRASH_TRIALS=$(n 20)
SHIP_FP_REPS=$(n 10)
export SHIP_CRASH_TRIALS SHIP_FP_REPS
tests=${SOAK_TESTS:-'integration/test_(crash|reconnect|batch|failpoints|netfaults|source_failover|source_purged|clock_skew|switchover_crash|canary|ship_crash)$'}
fuzz_secs=${SOAK_FUZZ_SECONDS:-$(n 3600)}

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
date=$(date -u +%Y-%m-%d)
mkdir -p reports
report=reports/soak-$date.md
[[ "$scale" == 1 ]] || report=reports/soak-$date-scale$scale.md
log=$(mktemp -d "${TMPDIR:-/tmp}/sluice-soak.XXXXXX")
t0=$SECONDS
status=0
(cd build && ctest --output-on-failure -V --timeout 14400 -R "$tests") >"$log/ctest.log" 2>&1 || status=1
fuzz_status=skipped
if ((fuzz_secs > 0)); then
	if bash tests/fuzz/run.sh "$fuzz_secs" >"$log/fuzz.log" 2>&1; then fuzz_status=passed; else fuzz_status=failed; status=1; fi
fi

{
	echo "# Soak run $date"
	echo
	echo "\`scripts/soak.sh --scale $scale\` (\`make soak\`), commit $(git rev-parse --short HEAD), $(nproc) CPUs,"
	echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr), $(mariadbd --version 2>/dev/null | awk '{print $3}')."
	echo "Trials: CRASH_TRIALS=$CRASH_TRIALS RECONNECT_TRIALS=$RECONNECT_TRIALS BT_KILLS=$BT_KILLS"
	echo "FAILPOINT_REPS=$FAILPOINT_REPS NETFAULT_TRIALS=$NETFAULT_TRIALS NETFAULT_FLIPS=$NETFAULT_FLIPS SHIP_CRASH_TRIALS=$SHIP_CRASH_TRIALS SHIP_FP_REPS=$SHIP_FP_REPS;"
	echo "fuzzing ${fuzz_secs} CPU s per target."
	echo "Wall time: $(((SECONDS - t0) / 60)) min."
	echo
	echo "## Suites"
	echo
	echo "| suite | status | seconds |"
	echo "|---|---|---|"
	grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: ' "$log/ctest.log" |
		sed -E 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) [ .*]*(Passed|Failed|\*\*\*Failed|Timeout|Not Run)[^0-9]*([0-9.]+) sec.*/| \1 | \2 | \3 |/'
	echo "| fuzz (tests/fuzz/run.sh $fuzz_secs) | $fuzz_status | |"
	echo
	echo "## Figures (every RESULT line)"
	echo
	echo '```'
	grep -h -o 'RESULT .*' "$log/ctest.log" || echo "(none)"
	echo '```'
	if [[ -f "$log/fuzz.log" ]]; then
		echo
		echo "## Fuzzing"
		echo
		echo '```'
		grep -E 'stat::|Done [0-9]+ runs|cov:.*exec/s|crash|SUMMARY' "$log/fuzz.log" | tail -n 20 || true
		echo '```'
	fi
} >"$report"
echo "soak: $report (logs in $log)"
exit "$status"
