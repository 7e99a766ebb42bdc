#!/usr/bin/env bash
# test.sh - the one test command: install what is missing, build, run every test
# (unit suites and integration suites against real MariaDB servers that each
# test starts on free loopback ports and stops), then the unit suites and the
# end-to-end pipeline, parallel replay, snapshot and migrate tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, then the threaded suites (the
# segment writer's thread, replay's workers and loaders, verify's workers, the
# snapshot's readers) under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
bash scripts/install-deps.sh

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
(cd build && ctest --output-on-failure --timeout 900) || status=1

echo "== tests under ASan + UBSan: unit, the pipeline, parallel replay, snapshot, migrate"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure --timeout 900 -R 'unit/|integration/test_(pipeline|parallel_replay|snapshot|migrate|switchover)$') || status=1

echo "== tests under ThreadSanitizer: the threaded suites"
# A race makes sluice exit 66 (TSan's exit code), which every test treats as
# a failure; the report itself is in the test's output.
unset ASAN_OPTIONS UBSAN_OPTIONS
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
(cd build-tsan && ctest --output-on-failure --timeout 900 -R 'unit/test_store|integration/test_(parallel_replay|verify|snapshot|generated)$') || status=1

exit "$status"
