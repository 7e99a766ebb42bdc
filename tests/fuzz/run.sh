#!/usr/bin/env bash
# run.sh - build every libFuzzer target (tests/fuzz/fuzz_*.c) in a clang tree
# configured with -DSLUICE_FUZZ=ON (libFuzzer + ASan + UBSan) and run each
# for a budget of CPU seconds with its seeds:
#   fuzz_decoder   the binlog fixtures (first 64 KiB of each) and tests/regress/fuzz-*
#   fuzz_segment   real segments: written by that tree's own sluice from the
#                  fixtures, and captured live from a MariaDB server
#                  (live_seeds.sh: rows of many types, DDL, a big row,
#                  snapshot chunks) when mariadbd is installed
#   fuzz_ddl       the CREATE/ALTER statements of tests/unit/test_ddl.c and
#                  tests/regress/fuzz-ddl-* (the decoder gets the other fuzz-*)
#
#   tests/fuzz/run.sh [SECONDS]        CPU seconds per target (default $FUZZ_SECS, else 60)
#
# The budget is CPU time (user + system of the fuzzer, read from /proc),
# not wall time: a fuzzer run at `nice -n 19` beside the integration tests
# (scripts/test.sh) still does its whole budget, however long that takes;
# it is stopped with SIGINT once it has used it. Per target:
# FUZZ_SECS_DECODER, FUZZ_SECS_SEGMENT, FUZZ_SECS_DDL (the target's name
# after fuzz_, upper case) override SECONDS; 0 skips that target.
# FUZZ_JOBS (default 2) targets run at once. FUZZ_WALL_MAX (default 3 x the
# largest budget + 1800 s: at nice 19 on a busy machine a fuzzer gets a
# small share) bounds the wall time of one target: a target stopped by it
# before its budget fails.
# Each target prints one line:
#   RESULT fuzz_<t> trials=EXECS crashes=0 slow_units=N cpu_s=S wall_s=W exec_per_s=E exec_per_cpu_s=C edges=COV features=FT corpus=N
# (exec_per_s is libFuzzer's, per second of wall time; exec_per_cpu_s per
# second of the CPU it had; edges: libFuzzer's "cov", features its "ft")
#
# Environment: CC (default clang), SLUICE_SHARED_DIR (default <repo>/../shared),
# FUZZ_BUILD (default <repo>/build-fuzz), FUZZ_WORK (default a temp dir,
# removed at the end unless it holds a crash).
# Exit: 0 no crash, 1 a crash (its input is kept and printed: make it a
# regression test in tests/regress/) or a budget not reached, 77 clang or
# libFuzzer missing (a failure under CI=true).
set -euo pipefail

SECS=${1:-${FUZZ_SECS:-60}}
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

WORK=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/sluice-fuzz.XXXXXX")}
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
# live segments: every record kind, as a server writes them today
if [[ "${FUZZ_LIVE_SEEDS:-1}" != 0 ]]; then
	lrc=0
	SLUICE_BIN="$BUILD/sluice" bash "$HERE/live_seeds.sh" "$WORK/segment" >"$WORK/live_seeds.log" 2>&1 || lrc=$?
	if ((lrc == 77)); then
		echo "fuzz: no live seeds (no mariadbd): fixture segments only" >&2
	elif ((lrc != 0)); then
		tail -n 20 "$WORK/live_seeds.log" >&2
		echo "FAIL (fuzz): live_seeds.sh exited $lrc" >&2
		exit 1
	fi
fi
# every input a target stopped on is replayed first: fuzz-ddl-* by fuzz_ddl,
# the other fuzz-* by fuzz_decoder
mkdir -p "$WORK/ddl"
for f in "$REPO"/tests/regress/fuzz-*; do
	[[ -f "$f" ]] || continue
	case ${f##*/} in
	fuzz-ddl-*) cp "$f" "$WORK/ddl/" ;;
	*) cp "$f" "$WORK/decoder/" ;;
	esac
done
# one seed per C string literal of test_ddl.c that starts a statement
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
# budget_of TARGET: its CPU seconds (FUZZ_SECS_<NAME> or SECS)
budget_of() {
	local v="FUZZ_SECS_$(tr '[:lower:]' '[:upper:]' <<<"${1#fuzz_}")"
	echo "${!v:-$SECS}"
}
max_budget=0
for t in "${targets[@]}"; do
	b=$(budget_of "$t")
	((b > max_budget)) && max_budget=$b
done
WALL_MAX=${FUZZ_WALL_MAX:-$((3 * max_budget + 1800))}
TCK=$(getconf CLK_TCK)

# cpu_ticks PID: user + system time of PID, in clock ticks (fields 14, 15
# of /proc/PID/stat, counted after the ")" that ends the command name)
cpu_ticks() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || { echo -1; return; }
	st=${st##*) }
	read -r -a f <<<"$st"
	echo $((f[11] + f[12]))
}

# fuzz_one TARGET: runs it until it has used its CPU budget (then SIGINT:
# libFuzzer prints its final stats and exits 72), a crash, or WALL_MAX;
# writes $WORK/TARGET.rc ("ok", "crash RC" or "short CPU_S") and the
# RESULT line into $WORK/TARGET.result.
fuzz_one() {
	local t=$1 budget corpus pid rc=0 ticks=0 t0 wall stopped=0 execs eps cov ft n bad k
	budget=$(budget_of "$t")
	corpus=$WORK/${t#fuzz_}
	mkdir -p "$corpus"
	t0=$SECONDS
	TMPDIR=$ftmp SLUICE_LOG=error "$BUILD/tests/$t" -max_total_time="$WALL_MAX" -max_len=262144 \
		-rss_limit_mb=2048 -artifact_prefix="$WORK/crashes/$t-" -print_final_stats=1 \
		"$corpus" >"$WORK/$t.log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		ticks=$(cpu_ticks "$pid")
		if ((ticks >= budget * TCK)); then
			stopped=1
			kill -INT "$pid" 2>/dev/null || true
			break
		fi
		sleep 1
	done
	wait "$pid" || rc=$?
	wall=$((SECONDS - t0))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t.log" | tail -n1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$WORK/$t.log" | tail -n1)
	cov=$(grep -o 'cov: [0-9]*' "$WORK/$t.log" | tail -n1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$WORK/$t.log" | tail -n1 | cut -d' ' -f2)
	n=$(find "$corpus" -type f | wc -l)
	# crash-, leak-, timeout-, oom- artifacts fail; slow-unit- ones (a unit
	# over 10 s of wall time: at nice 19 on a busy machine, often the
	# scheduler's doing) are kept and counted, not failures
	bad=0
	for k in crash leak timeout oom; do
		compgen -G "$WORK/crashes/$t-$k-*" >/dev/null && bad=1
	done
	if ((bad)) || { ((rc != 0)) && ! ((stopped && rc == 72)); }; then
		echo "crash $rc" >"$WORK/$t.rc"
	elif ((!stopped)); then
		echo "short $((ticks / TCK))" >"$WORK/$t.rc"
	else
		echo ok >"$WORK/$t.rc"
	fi
	echo "RESULT $t trials=${execs:-0} crashes=$(find "$WORK/crashes" -name "$t-*" ! -name "$t-slow-unit-*" | wc -l) slow_units=$(find "$WORK/crashes" -name "$t-slow-unit-*" | wc -l) cpu_s=$((ticks / TCK)) wall_s=$wall exec_per_s=${eps:-0} exec_per_cpu_s=$((${execs:-0} * TCK / (ticks > 0 ? ticks : 1))) edges=${cov:-0} features=${ft:-0} corpus=$n" >"$WORK/$t.result"
}

# report_crash TARGET: what a remote CI run needs to reproduce a crash,
# as FAIL lines (the lines scripts/test.sh shows of this run): the
# sanitizer's or libFuzzer's summary, the first frames whose source is
# in the repository, and each input (up to 4 KiB) in base64; here,
#   base64 -d >in; build-fuzz/tests/TARGET in
# reproduces it
report_crash() {
	local t=$1 f
	grep -E '(ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: |deadly signal)' \
		"$WORK/$t.log" | head -n 4 | sed "s/^/FAIL ($t): /"
	grep -E '^ +#[0-9]+ ' "$WORK/$t.log" | grep -F " $REPO/" | head -n 8 | sed "s/^ */FAIL ($t):   /"
	for f in "$WORK/crashes/$t"-*; do
		[[ -f "$f" && "$f" != *slow-unit-* ]] || continue
		if (($(stat -c %s "$f") <= 4096)); then
			echo "FAIL ($t): input ${f##*/} base64 $(base64 -w0 "$f")"
		else
			echo "FAIL ($t): input ${f##*/} is $(stat -c %s "$f") bytes: too long to print"
		fi
	done
}

# the biggest budgets first: with two at once they share the run
mapfile -t targets < <(for t in "${targets[@]}"; do echo "$(budget_of "$t") $t"; done | sort -k1,1nr -k2 | cut -d' ' -f2)
status=0
running=()
for t in "${targets[@]}"; do
	if (($(budget_of "$t") == 0)); then
		echo "== $t: skipped (budget 0)" >&2
		continue
	fi
	while ((${#running[@]} >= ${FUZZ_JOBS:-2})); do
		wait -n 2>/dev/null || true
		alive=()
		for p in "${running[@]}"; do
			kill -0 "$p" 2>/dev/null && alive+=("$p")
		done
		running=("${alive[@]+"${alive[@]}"}")
	done
	fuzz_one "$t" &
	running+=("$!")
done
wait
for t in "${targets[@]}"; do
	[[ -f "$WORK/$t.rc" ]] || continue
	echo "== $t: $(cat "$WORK/$t.rc"), budget $(budget_of "$t") CPU s" >&2
	tail -n 6 "$WORK/$t.log" >&2
	cat "$WORK/$t.result"
	case $(cat "$WORK/$t.rc") in
	ok) ;;
	crash*)
		echo "FAIL ($t): crash inputs kept in $WORK/crashes" >&2
		report_crash "$t" >&2
		status=1 ;;
	short*)
		echo "FAIL ($t): stopped after $WALL_MAX s of wall time before its CPU budget (FUZZ_WALL_MAX)" >&2
		status=1 ;;
	esac
done
if ((status == 0)) && [[ -z "${FUZZ_WORK:-}" ]]; then
	rm -rf "$WORK"
fi
exit "$status"
