#!/usr/bin/env bash
# test.sh - the one test command: install what is missing, build, run every test
# (unit suites and integration suites against real MariaDB servers that each
# test starts on free loopback ports and stops), then the unit suites and the
# end-to-end pipeline, parallel replay, snapshot and migrate tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, then the threaded suites (the
# segment writer's thread, replay's workers and loaders, verify's workers, the
# snapshot's readers) under ThreadSanitizer.
#
# Fuzzing runs beside all of that: tests/fuzz/run.sh starts first, in the
# background under `nice -n 19`, builds its clang tree and fuzzes each target
# for a budget of CPU time (5 CPU-minutes for fuzz_decoder and fuzz_segment,
# 1 for fuzz_ddl: FUZZ_SECS_DECODER, FUZZ_SECS_SEGMENT, FUZZ_SECS_DDL) on
# the CPU the builds and the server-bound integration tests leave idle; its
# result is collected at the end (any wait left is the budget not yet used).
# FUZZ=0 leaves it out. Its output: build-fuzz.log; crashes are kept in
# build-fuzz-work/crashes.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
bash scripts/install-deps.sh

fuzz_pid=
if [[ "${FUZZ:-1}" != 0 ]]; then
	echo "== fuzzing in the background (nice 19): build-fuzz.log"
	rm -rf build-fuzz-work
	FUZZ_BUILD=$PWD/build-fuzz FUZZ_WORK=$PWD/build-fuzz-work \
		FUZZ_SECS_DECODER=${FUZZ_SECS_DECODER:-300} FUZZ_SECS_SEGMENT=${FUZZ_SECS_SEGMENT:-300} \
		FUZZ_SECS_DDL=${FUZZ_SECS_DDL:-60} \
		setsid nice -n 19 bash tests/fuzz/run.sh >build-fuzz.log 2>&1 &
	fuzz_pid=$!
	# its own process group: a test.sh that stops early stops the fuzzers too
	trap 'kill -- "-$fuzz_pid" 2>/dev/null || true' EXIT
fi

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"

echo "== build (ThreadSanitizer)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_TSAN=ON >/dev/null
cmake --build build-tsan -j"$jobs"

status=0
echo "== tests: unit + integration"
# slow/fuzz is the background run above
# two at a time: most suites wait on their servers (each test has its own,
# on free ports, in its own temp dirs)
(cd build && ctest -j"$jobs" --output-on-failure --timeout 900 -LE slow) || status=1

echo "== tests under ASan + UBSan: unit, the pipeline, parallel replay, snapshot, migrate"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest -j"$jobs" --output-on-failure --timeout 900 -R 'unit/|integration/test_(pipeline|parallel_replay|snapshot|migrate|switchover)$') || status=1

echo "== tests under ThreadSanitizer: the threaded suites (ship: nats.c delivers acks on its own threads)"
# A race makes sluice exit 66 (TSan's exit code), which every test treats as
# a failure; the report itself is in the test's output.
unset ASAN_OPTIONS UBSAN_OPTIONS
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
(cd build-tsan && ctest -j"$jobs" --output-on-failure --timeout 900 -R 'unit/test_store|integration/test_(parallel_replay|verify|snapshot|generated|ship)$') || status=1

if [[ -n "$fuzz_pid" ]]; then
	echo "== fuzzing: waiting for the budget's rest ($(date +%H:%M:%S))"
	frc=0
	wait "$fuzz_pid" || frc=$?
	grep -E '^(RESULT|FAIL|SKIP|== fuzz_)' build-fuzz.log || tail -n 30 build-fuzz.log
	echo "== fuzzing: exit $frc ($(date +%H:%M:%S))"
	# 77: no clang/libFuzzer, a skip (run.sh fails under CI=true itself)
	if ((frc != 0 && frc != 77)); then
		status=1
	fi
fi

exit "$status"
