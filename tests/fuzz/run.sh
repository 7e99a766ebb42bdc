#!/usr/bin/env bash
# run.sh - build the decoder fuzz target with clang (libFuzzer + ASan + UBSan)
# and run it for a fixed time, seeded with the binlog fixtures.
#
#   tests/fuzz/run.sh [SECONDS]        default 60
#
# Environment: CC (default clang), SLUICE_SHARED_DIR (default <repo>/../shared),
# FUZZ_WORK (default a temp dir, removed at the end unless it holds a crash).
# Exit: 0 no crash, 1 a crash (its input is kept and printed: make it a
# regression test in tests/regress/), 77 clang or libFuzzer missing (a
# failure under CI=true).
set -euo pipefail

SECS=${1:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SHARED=${SLUICE_SHARED_DIR:-$REPO/../shared}
CC=${CC:-clang}

missing() {
	echo "SKIP (fuzz_decoder): $*" >&2
	[[ "${CI:-}" == "true" ]] && exit 1
	exit 77
}
command -v "$CC" >/dev/null || missing "no $CC"
command -v protoc-c >/dev/null || missing "no protoc-c"

WORK=${FUZZ_WORK:-$(mktemp -d /tmp/sluice-fuzz.XXXXXX)}
mkdir -p "$WORK/gen" "$WORK/corpus" "$WORK/crashes"
protoc-c --proto_path="$REPO/formats" --c_out="$WORK/gen" "$REPO/formats/sluice.proto"

SRC=("$HERE/fuzz_decoder.c"
	"$REPO"/capture/cap_decode.c "$REPO"/capture/cap_value.c "$REPO"/capture/cap_charset.c
	"$REPO"/capture/cap_json.c "$REPO"/capture/cap_schema.c "$REPO"/capture/cap_gtid.c
	"$REPO"/capture/cap_file.c "$REPO"/capture/cap_crc32.c
	"$REPO"/formats/fmt_record.c "$REPO"/formats/fmt_value.c "$WORK/gen/sluice.pb-c.c"
	"$REPO"/common/sl_buf.c "$REPO"/common/sl_err.c "$REPO"/common/sl_log.c "$REPO"/common/sl_crc32c.c)
# shellcheck disable=SC2046
if ! "$CC" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined \
	-I"$REPO/capture" -I"$REPO/formats" -I"$REPO/common" -I"$WORK/gen" \
	$(pkg-config --cflags libprotobuf-c libzstd zlib) \
	"${SRC[@]}" -o "$WORK/fuzz_decoder" \
	$(pkg-config --libs libprotobuf-c libzstd zlib) -lm 2>"$WORK/build.log"; then
	if grep -q "fuzzer" "$WORK/build.log" && grep -qi "cannot find\|not found\|unsupported" "$WORK/build.log"; then
		missing "libFuzzer is not available to $CC"
	fi
	cat "$WORK/build.log" >&2
	exit 1
fi

# Seeds: every fixture binlog (first 64 KiB), plus the regression inputs.
if [[ -d "$SHARED/fixtures/binlogs" ]]; then
	i=0
	while IFS= read -r -d '' f; do
		if [[ "$(head -c4 "$f" | od -An -tx1 | tr -d ' \n')" == "fe62696e" ]]; then
			head -c 65536 "$f" >"$WORK/corpus/seed$i"
			i=$((i + 1))
		fi
	done < <(find "$SHARED/fixtures/binlogs" -type f ! -name '*.txt*' -print0)
fi
cp "$REPO"/tests/regress/fuzz-* "$WORK/corpus/" 2>/dev/null || true

set +e
SLUICE_LOG=error "$WORK/fuzz_decoder" -max_total_time="$SECS" -max_len=65536 -rss_limit_mb=2048 \
	-artifact_prefix="$WORK/crashes/" -print_final_stats=1 "$WORK/corpus" >"$WORK/fuzz.log" 2>&1
rc=$?
set -e
tail -n 12 "$WORK/fuzz.log" >&2
if [[ $rc -ne 0 ]] || compgen -G "$WORK/crashes/*" >/dev/null; then
	echo "FAIL (fuzz_decoder): crash inputs kept in $WORK/crashes" >&2
	exit 1
fi
[[ -z "${FUZZ_WORK:-}" ]] && rm -rf "$WORK"
exit 0
