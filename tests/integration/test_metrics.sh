#!/usr/bin/env bash
# --metrics FILE on capture --follow and replay --follow (issue 13 item 7):
# both files are Prometheus text that a strict parser (below, written here,
# not a library's lenient one) accepts; the counters equal what the workload
# wrote; on an idle source the lag stays small and the source time moves on
# (capture's heartbeats); both files are complete after SIGTERM; no password
# in them; status shows no lag seconds for a consumer with nothing to apply
# (and that its replay wrote its file just now), the seconds of a real lag;
# a FILE that cannot be written is refused with exit 2 before anything runs.
set -euo pipefail
TEST_NAME=test_metrics
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

# prom FILE [NAME]: parses FILE strictly (fails the test on any deviation)
# and prints "name value" per sample, or only NAME's value.
prom() {
	python3 - "$1" "${2:-}" <<'PY' || fail "$1 is not valid Prometheus text"
import math, re, sys
path, want = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
def bad(msg, n=None):
    sys.stderr.write("%s%s: %s\n" % (path, "" if n is None else ":%d" % n, msg))
    sys.exit(1)
if not text.endswith("\n"):
    bad("does not end with a newline (cut short)")
NAME = r"sluice_[a-z0-9_]+"
LABEL = r'([a-z_][a-z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"'
fams, order, samples, cur = {}, [], {}, None
for n, line in enumerate(text.split("\n")[:-1], 1):
    if line.startswith("#"):
        m = re.fullmatch(r"# (HELP|TYPE) (%s) (.*)" % NAME, line)
        if not m:
            bad("bad comment line %r" % line, n)
        kind, name, rest = m.groups()
        f = fams.setdefault(name, {})
        if kind == "HELP":
            if "help" in f or f:
                bad("HELP of %s twice or after its TYPE" % name, n)
            if re.search(r"\\[^\\n]", rest.replace("\\\\", "")):
                bad("bad escape in HELP", n)
            f["help"] = rest
        else:
            if "help" not in f or "type" in f:
                bad("TYPE of %s without HELP before it, or twice" % name, n)
            if rest not in ("counter", "gauge"):
                bad("type %r" % rest, n)
            if (rest == "counter") != name.endswith("_total"):
                bad("%s: counters and only counters end in _total" % name, n)
            f["type"] = rest
            order.append(name)
        cur = name
        continue
    m = re.fullmatch(r"(%s)(?:\{(.*)\})? (\S+)" % NAME, line)
    if not m:
        bad("bad sample line %r" % line, n)
    name, labels, value = m.groups()
    if name != cur or "type" not in fams.get(name, {}):
        bad("sample of %s outside its family" % name, n)
    if name in samples:
        bad("%s twice" % name, n)
    if labels is not None:
        pos, seen = 0, set()
        while pos < len(labels):
            lm = re.compile(LABEL).match(labels, pos)
            if not lm or lm.group(1) in seen:
                bad("bad label list %r" % labels, n)
            seen.add(lm.group(1))
            pos = lm.end()
            if pos < len(labels):
                if labels[pos] != ",":
                    bad("bad label list %r" % labels, n)
                pos += 1
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        bad("%s is %s" % (name, value), n)
    if fams[name]["type"] == "counter" and v < 0:
        bad("negative counter %s" % name, n)
    samples[name] = (labels, v)
for name in order:
    if name not in samples:
        bad("family %s without a sample" % name)
if want:
    if want not in samples:
        bad("no %s" % want)
    print(repr(samples[want][1]) if samples[want][1] != int(samples[want][1]) else int(samples[want][1]))
else:
    for name in order:
        print(name, samples[name][0], samples[name][1])
PY
}

# wait_metric FILE NAME VALUE [SECONDS]: until FILE's NAME is VALUE.
wait_metric() {
	local f=$1 name=$2 want=$3 deadline=$((SECONDS + ${4:-30})) v=""
	while ((SECONDS < deadline)); do
		if [[ -f "$f" ]]; then
			v=$(prom "$f" "$name" 2>/dev/null || true)
			[[ "$v" == "$want" ]] && return 0
		fi
		sleep 0.5
	done
	fail "$f: $name is '$v', want $want"
}

# stop_mark: a file whose mtime says when a stop signal was about to go.
# Files get their mtimes from the kernel's coarse clock, a tick behind
# time.time(): a write 0.2 ms after a wall-clock reading could carry an
# earlier mtime. The mark's mtime comes from the same clock.
stop_mark() { touch "$WORK/stop.mark"; }

# written_after FILE: FILE was replaced at or after the stop mark (the
# write at exit, since nothing is written between a stop signal and it)
written_after() {
	python3 -c 'import os, sys; sys.exit(0 if os.stat(sys.argv[1]).st_mtime_ns >= os.stat(sys.argv[2]).st_mtime_ns else 1)' "$1" "$WORK/stop.mark" ||
		fail "$1 was not written at exit (mtime $(stat -c %y "$1"), stop mark $(stat -c %y "$WORK/stop.mark"))"
}

# in_range LABEL V LO HI
in_range() {
	python3 -c 'import sys; v, lo, hi = map(float, sys.argv[2:]); sys.exit(0 if lo <= v <= hi else 1)' "$@" ||
		fail "$1 = $2, want within [$3, $4]"
}

main() {
	require_sluice
	start_servers 3
	local dir=$WORK/stream capm=$WORK/capture.prom repm=$WORK/replay.prom cap rep
	local txns=0 rows=0 i t1 t2 now lag

	log "a FILE that cannot be written: exit 2 before anything runs"
	expect_error metrics_dir "metrics file .*/no/such/dir/m.prom.*does not exist" \
		replay --dir "$dir" --dest "$DST_URL" --metrics "$WORK/no/such/dir/m.prom"
	expect_error metrics_isdir "metrics file .* names a directory" \
		capture --source "$SRC_URL" --dir "$dir" --metrics "$WORK"
	[[ ! -e "$dir" ]] || fail "a refused --metrics created '$dir'"

	mkdir -p "$dir"
	must_sluice cap0 capture --source "$SRC_URL" --dir "$dir" --server-id 401
	start_bg capf capture --source "$SRC_URL" --dir "$dir" --follow --server-id 401 --metrics "$capm"
	cap=$BG_PID
	start_bg repf replay --dir "$dir" --dest "$DST_URL" --follow --consumer met.1 --metrics "$repm"
	rep=$BG_PID

	log "workload: 3 DDL, 40 transactions of known row counts"
	src_sql -e "CREATE DATABASE mdb;
		CREATE TABLE mdb.t (id INT PRIMARY KEY, v VARCHAR(20));
		CREATE TABLE mdb.nopk (a INT, b VARCHAR(20));"
	for i in $(seq 1 30); do
		src_sql -e "INSERT INTO mdb.t SELECT $i * 100 + seq, 'r' FROM mdb.seq_1_to_10"
		txns=$((txns + 1)) rows=$((rows + 10))
	done
	for i in $(seq 1 9); do
		src_sql -e "UPDATE mdb.t SET v = 'u$i' WHERE id BETWEEN $i * 100 + 1 AND $i * 100 + 5"
		txns=$((txns + 1)) rows=$((rows + 5))
	done
	src_sql -e "START TRANSACTION; DELETE FROM mdb.t WHERE id BETWEEN 2001 AND 2007;
		INSERT INTO mdb.nopk VALUES (1, 'x'), (1, 'x'); COMMIT"
	txns=$((txns + 1)) rows=$((rows + 9))
	wait_equal 60 || fail "the destination did not catch up"

	log "counters: $txns transactions, $rows rows, 3 ddls on both sides"
	wait_metric "$capm" sluice_captured_transactions_total "$txns"
	wait_metric "$capm" sluice_captured_rows_total "$rows"
	wait_metric "$capm" sluice_captured_ddls_total 3
	wait_metric "$repm" sluice_applied_transactions_total "$txns"
	wait_metric "$repm" sluice_applied_rows_total "$rows"
	wait_metric "$repm" sluice_applied_ddls_total 3
	prom "$repm" >"$WORK/rep.samples"
	grep -q '^sluice_applied_rows_total consumer="met.1",dir="'"$dir"'" ' "$WORK/rep.samples" ||
		fail "labels of replay's samples: $(head -n 3 "$WORK/rep.samples")"
	in_range "applied bytes" "$(prom "$repm" sluice_applied_bytes_total)" 1 \
		"$(find "$dir" -maxdepth 1 -type f \( -name '*.seg' -o -name '*.open' \) -printf '%s\n' | awk '{ s += $1 } END { print s }')"
	in_range "captured bytes" "$(prom "$capm" sluice_captured_bytes_total)" 1 1e9

	log "idle source: the lag stays small and the source time moves on (heartbeats)"
	sleep 3
	t1=$(prom "$repm" sluice_source_position_timestamp_seconds)
	sleep 6
	now=$(date +%s)
	t2=$(prom "$repm" sluice_source_position_timestamp_seconds)
	lag=$(prom "$repm" sluice_replication_lag_seconds)
	in_range "source time moved on while idle (t2 - t1)" "$((t2 - t1))" 2 10
	in_range "replay lag on an idle source" "$lag" 0 6
	in_range "replay source time vs now" "$((now - t2))" -1 6
	in_range "capture lag on an idle source" "$(prom "$capm" sluice_capture_lag_seconds)" 0 3
	run_sluice st status "$dir"
	grep -q -E "met.1 .*lag 0 transactions, [0-9]+ bytes, 0 s; written [0-3] s ago" "$WORK/st.out" ||
		fail "status of a running consumer with nothing to apply: $(grep met.1 "$WORK/st.out")"

	log "SIGTERM to replay: its file complete and final"
	stop_mark
	stop_bg "$rep" repf TERM
	written_after "$repm"
	[[ "$(prom "$repm" sluice_applied_transactions_total)" == "$txns" ]] || fail "replay's final count"
	[[ "$(prom "$repm" sluice_applied_rows_total)" == "$rows" ]] || fail "replay's final rows"

	log "a real lag: a transaction 4 s old not applied shows in status"
	src_sql -e "INSERT INTO mdb.t VALUES (9001, 'late')"
	sleep 5
	run_sluice st2 status "$dir"
	grep "met.1 " "$WORK/st2.out" | grep -q -E "lag 1 transactions, [0-9]+ bytes, ([4-9]|[1-9][0-9]) s" ||
		fail "status of a consumer 1 transaction behind: $(grep met.1 "$WORK/st2.out")"
	start_bg repf2 replay --dir "$dir" --dest "$DST_URL" --follow --consumer met.1 --metrics "$repm"
	rep=$BG_PID
	wait_equal 30 || fail "the destination did not catch up after the pause"
	wait_metric "$repm" sluice_applied_transactions_total 1
	txns=$((txns + 1)) rows=$((rows + 1))

	log "SIGTERM: both files complete and final"
	stop_mark
	stop_bg "$cap" capf TERM
	stop_bg "$rep" repf2 TERM
	written_after "$capm"
	written_after "$repm"
	[[ "$(prom "$capm" sluice_captured_transactions_total)" == "$txns" ]] || fail "capture's final count"
	[[ "$(prom "$repm" sluice_applied_transactions_total)" == 1 ]] || fail "replay's final count"
	[[ "$(prom "$repm" sluice_applied_rows_total)" == 1 ]] || fail "replay's final rows"
	for f in "$capm" "$repm"; do
		prom "$f" sluice_source_position_timestamp_seconds >/dev/null
		[[ ! -e "$WORK/.$(basename "$f").tmp" ]] || fail "a temp file was left beside $f"
	done
	prom "$repm" sluice_replication_lag_seconds >/dev/null
	prom "$capm" sluice_capture_lag_seconds >/dev/null
	assert_no_password "$capm" "$repm" "$WORK/capf.err" "$WORK/repf.err" "$WORK/repf2.err"
	grep -q "127.0.0.1:$SRC_PORT\|sluice@" "$capm" "$repm" && fail "a URL in the metrics files"

	log "migrate --metrics-dir: its capture and replay children write their files"
	mkdir -p "$WORK/mm"
	must_sluice mig migrate --source "$SRC_URL" --dest "$DST2_URL" --dir "$WORK/mdir" \
		--metrics-dir "$WORK/mm" --no-progress
	compare_all 1 3 || fail "migrate: the destination differs"
	prom "$WORK/mm/capture.prom" sluice_captured_transactions_total >/dev/null
	[[ "$(prom "$WORK/mm/replay.prom" sluice_applied_snapshot_rows_total)" == \
		"$(src_sql -N -B -e "SELECT (SELECT COUNT(*) FROM mdb.t) + (SELECT COUNT(*) FROM mdb.nopk)")" ]] ||
		fail "migrate's replay: snapshot rows $(prom "$WORK/mm/replay.prom" sluice_applied_snapshot_rows_total)"
	assert_no_password "$WORK/mm/capture.prom" "$WORK/mm/replay.prom"
	log "ok"
}

main "$@"
