#!/usr/bin/env bash
# run.sh - build every libFuzzer target (tests/fuzz/fuzz_*.c) in a clang tree
# configured with -DSLUICE_FUZZ=ON (libFuzzer + ASan + UBSan) and run each
# for a fixed time with its seeds:
#   fuzz_decoder   the binlog fixtures (first 64 KiB of each) and tests/regress/fuzz-*
#   fuzz_segment   real segments, written by that tree's own sluice from the fixtures
#   fuzz_ddl       the CREATE/ALTER statements of tests/unit/test_ddl.c
#
#   tests/fuzz/run.sh [SECONDS]        default 60, per target
#
# Environment: CC (default clang), SLUICE_SHARED_DIR (default <repo>/../shared),
# FUZZ_BUILD (default <repo>/build-fuzz), FUZZ_WORK (default a temp dir,
# removed at the end unless it holds a crash).
# Exit: 0 no crash, 1 a crash (its input is kept and printed: make it a
# regression test in tests/regress/), 77 clang or libFuzzer missing (a
# failure under CI=true).
set -euo pipefail

SECS=${1:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SHARED=${SLUICE_SHARED_DIR:-$REPO/../shared}
BUILD=${FUZZ_BUILD:-$REPO/build-fuzz}
export CC=${CC:-clang}

missing() {
	echo "SKIP (fuzz): $*" >&2
	[[ "${CI:-}" == "true" ]] && exit 1
	exit 77
}
command -v "$CC" >/dev/null || missing "no $CC"
echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return d && n < 0; }' >"${TMPDIR:-/tmp}/lf$$.c"
if ! "$CC" -fsanitize=fuzzer "${TMPDIR:-/tmp}/lf$$.c" -o "${TMPDIR:-/tmp}/lf$$" 2>/dev/null; then
	rm -f "${TMPDIR:-/tmp}/lf$$"*
	missing "libFuzzer is not available to $CC"
fi
rm -f "${TMPDIR:-/tmp}/lf$$"*

WORK=${FUZZ_WORK:-$(mktemp -d /tmp/sluice-fuzz.XXXXXX)}
mkdir -p "$WORK/decoder" "$WORK/segment" "$WORK/crashes" "$WORK/tmp"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DSLUICE_FUZZ=ON >/dev/null
targets=()
for src in "$HERE"/fuzz_*.c; do
	targets+=("$(basename "$src" .c)")
done
cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" --target sluice "${targets[@]}" >"$WORK/build.log" 2>&1 ||
	{ tail -n 30 "$WORK/build.log" >&2; exit 1; }

# Seeds: every fixture binlog (first 64 KiB) for the decoder; the segments
# that capturing a few of them writes for the segment reader.
if [[ -d "$SHARED/fixtures/binlogs" ]]; then
	i=0
	while IFS= read -r -d '' f; do
		if [[ "$(head -c4 "$f" | od -An -tx1 | tr -d ' \n')" == "fe62696e" ]]; then
			head -c 65536 "$f" >"$WORK/decoder/seed$i"
			if ((i % 8 == 0)); then
				SLUICE_LOG=error "$BUILD/sluice" capture --binlog-files "$f" --dir "$WORK/cap$i" \
					--allow-positional >/dev/null 2>&1 || true
				for s in "$WORK/cap$i"/*.seg "$WORK/cap$i"/*.open; do
					[[ -f "$s" ]] && head -c 262144 "$s" >"$WORK/segment/seed$i-$(basename "$s")"
				done
			fi
			i=$((i + 1))
		fi
	done < <(find "$SHARED/fixtures/binlogs" -type f ! -name '*.txt*' -print0 | sort -z)
fi
cp "$REPO"/tests/regress/fuzz-* "$WORK/decoder/" 2>/dev/null || true
# one seed per C string literal of test_ddl.c that starts a statement
mkdir -p "$WORK/ddl"
python3 - "$REPO/tests/unit/test_ddl.c" "$WORK/ddl" <<'PY' || true
import re, sys
src = open(sys.argv[1]).read()
for i, m in enumerate(re.finditer(r'"((?:CREATE|ALTER|/\*!)(?:[^"\\]|\\.)*)"', src)):
    open("%s/seed%d" % (sys.argv[2], i), "w").write(bytes(m.group(1), "utf-8").decode("unicode_escape"))
PY
compgen -G "$WORK/segment/*" >/dev/null || missing "no seed segments (fixtures not found in $SHARED)"

# fuzz_segment writes each input as a file: on tmpfs when there is one
ftmp=$WORK/tmp
if [[ -d /dev/shm && -w /dev/shm ]]; then
	ftmp=$(mktemp -d /dev/shm/sluice-fuzz.XXXXXX)
	trap 'rm -rf "$ftmp"' EXIT
fi
status=0
for t in "${targets[@]}"; do
	corpus=$WORK/${t#fuzz_}
	mkdir -p "$corpus"
	set +e
	TMPDIR=$ftmp SLUICE_LOG=error "$BUILD/tests/$t" -max_total_time="$SECS" -max_len=262144 \
		-rss_limit_mb=2048 -artifact_prefix="$WORK/crashes/$t-" -print_final_stats=1 \
		"$corpus" >"$WORK/$t.log" 2>&1
	rc=$?
	set -e
	echo "== $t: $(grep -c . <(ls "$corpus")) inputs in the corpus" >&2
	tail -n 6 "$WORK/$t.log" >&2
	if [[ $rc -ne 0 ]] || compgen -G "$WORK/crashes/$t-*" >/dev/null; then
		echo "FAIL ($t): crash inputs kept in $WORK/crashes" >&2
		status=1
	fi
done
if ((status == 0)) && [[ -z "${FUZZ_WORK:-}" ]]; then
	rm -rf "$WORK"
fi
exit "$status"
