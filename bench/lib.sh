# shellcheck shell=bash
# bench/lib.sh - what the bench scripts share with bench/run: their figures as
# machine-readable lines, besides the report each prints for people.
#
# Sourced by every bench_*.sh after the harness. When BENCH_RESULTS names a
# file (bench/run sets it), each call below appends one JSON object on a line
# of its own; without it they do nothing, so a script run alone behaves as
# before. bench/report.py reads the lines back (medians, ratios, charts).
#
#   bench_result COMPARISON TOOL METRIC VALUE [UNIT]
#	one figure of one tool in one run. METRIC is one of the names
#	report.py knows (seconds, rows_per_s, mb_per_s, rss_mib, cpu_s, bytes,
#	pct_of_binlog, lag_p50_s, lag_p99_s, lag_max_s, downtime_s, ...); a
#	new name is reported as is. VALUE must be a number: a figure a run
#	could not measure is not reported at all.
#   bench_note COMPARISON TEXT
#	what the run measured (sizes, settings), once per run: the report
#	prints the first run's under the comparison's table.
#   bench_series COMPARISON TOOL FILE
#	a curve: FILE holds "X Y" lines (seconds since the load started, lag in
#	seconds), drawn as lag over time.
#
# The run a figure belongs to is BENCH_RUN (1 when unset): bench/run sets it
# for scripts it starts once per run, and a script that repeats its own
# rounds (BENCH_ROUNDS) sets it for each round before reporting it.

# python3, which the harness and the scripts call for their arithmetic,
# resolved once to the interpreter itself: a version manager's shim (pyenv's)
# costs about a second a call on a busy 2-CPU machine, and a report makes
# dozens of calls (outside the timed commands, but they stretch every run).
PYTHON3=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PYTHON3=python3
python3() { command "$PYTHON3" "$@"; }

# _bench_json_str TEXT: TEXT as a JSON string (quotes, backslashes and
# control characters escaped).
_bench_json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	s=${s//$'\r'/}
	printf '"%s"' "$s"
}

_bench_run() {
	local run=${BENCH_RUN:-1}
	[[ "$run" =~ ^[0-9]+$ ]] || { echo "bench_result: BENCH_RUN '$run' is not a number" >&2; return 2; }
	printf '%s' "$run"
}

bench_result() { # COMPARISON TOOL METRIC VALUE [UNIT]
	[[ -n "${BENCH_RESULTS:-}" ]] || return 0
	local cmp=$1 tool=$2 metric=$3 value=$4 unit=${5:-} run
	if ! [[ "$value" =~ ^-?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]]; then
		echo "bench_result: $cmp / $tool / $metric: '$value' is not a number" >&2
		return 2
	fi
	[[ "$value" == .* ]] && value=0$value
	[[ "$value" == -.* ]] && value=-0${value#-}
	run=$(_bench_run) || return 2
	printf '{"kind": "result", "comparison": %s, "tool": %s, "metric": %s, "value": %s, "unit": %s, "run": %s}\n' \
		"$(_bench_json_str "$cmp")" "$(_bench_json_str "$tool")" "$(_bench_json_str "$metric")" \
		"$value" "$(_bench_json_str "$unit")" "$run" >>"$BENCH_RESULTS"
}

bench_note() { # COMPARISON TEXT
	[[ -n "${BENCH_RESULTS:-}" ]] || return 0
	local run
	run=$(_bench_run) || return 2
	printf '{"kind": "note", "comparison": %s, "text": %s, "run": %s}\n' \
		"$(_bench_json_str "$1")" "$(_bench_json_str "$2")" "$run" >>"$BENCH_RESULTS"
}

bench_series() { # COMPARISON TOOL FILE
	[[ -n "${BENCH_RESULTS:-}" ]] || return 0
	local cmp=$1 tool=$2 file=$3 run
	run=$(_bench_run) || return 2
	[[ -r "$file" ]] || { echo "bench_series: cannot read $file" >&2; return 2; }
	# through the environment: awk -v would undo the escapes
	_C=$(_bench_json_str "$cmp") _T=$(_bench_json_str "$tool") _R=$run awk '
		BEGIN { c = ENVIRON["_C"]; t = ENVIRON["_T"]; r = ENVIRON["_R"] }
		NF >= 2 && $1 ~ /^-?[0-9.]+$/ && $2 ~ /^-?[0-9.]+$/ {
			x = $1; y = $2
			if (x ~ /^\./) x = "0" x
			if (y ~ /^\./) y = "0" y
			printf "{\"kind\": \"series\", \"comparison\": %s, \"tool\": %s, \"x\": %s, \"y\": %s, \"run\": %s}\n", c, t, x, y, r
		}' "$file" >>"$BENCH_RESULTS"
}

# Lag probes, for the benches that measure source commit -> destination
# commit (bench_switchover.sh, bench_ship.sh). Each prints SQL for the mariadb
# client (bench_probe_writer_sql | src_sql).
#
# bench_probe_writer_sql: database lagbench on the source; CALL
# lagbench.probes(SECS) inserts a row every 20 ms for SECS seconds with its
# own time (SYSDATE(6), each INSERT its own transaction), then lagbench.done
# (1, count). Create it before the stream starts, so that the copy carries
# the tables and the stream only their rows.
bench_probe_writer_sql() {
	cat <<'SQL'
CREATE DATABASE lagbench;
CREATE TABLE lagbench.probe (id INT PRIMARY KEY, ts DATETIME(6) NOT NULL);
CREATE TABLE lagbench.done (id INT PRIMARY KEY, n INT NOT NULL);
DELIMITER //
CREATE PROCEDURE lagbench.probes(secs INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  DECLARE t_end DATETIME(6) DEFAULT SYSDATE(6) + INTERVAL secs SECOND;
  WHILE SYSDATE(6) < t_end DO
    SET i = i + 1;
    INSERT INTO lagbench.probe VALUES (i, SYSDATE(6));
    DO SLEEP(0.02);
  END WHILE;
  INSERT INTO lagbench.done VALUES (1, i);
END//
DELIMITER ;
SQL
}

# bench_probe_poller_sql: database lagseen on a destination; CALL
# lagseen.poll(SECS), in a READ COMMITTED session (it must not lock the rows
# and gaps replay inserts into), records every 10 ms, with the destination's
# time, the probes it has not seen yet. lo is the highest id up to which
# every probe has been seen, so each round reads only the few rows above it.
# It ends once lagbench.done says how many probes there are and it has seen
# them all, or after SECS. Lag = lagseen.seen.at - lagbench.probe.ts (one
# machine, one clock).
bench_probe_poller_sql() {
	cat <<'SQL'
CREATE DATABASE lagseen;
CREATE TABLE lagseen.seen (id INT PRIMARY KEY, at DATETIME(6) NOT NULL);
DELIMITER //
CREATE PROCEDURE lagseen.poll(secs INT)
BEGIN
  DECLARE t_end DATETIME(6) DEFAULT SYSDATE(6) + INTERVAL secs SECOND;
  DECLARE lo INT DEFAULT 0;
  DECLARE hi INT;
  WHILE SYSDATE(6) < t_end
    AND NOT EXISTS (SELECT 1 FROM lagbench.done WHERE id = 1 AND n <= lo) DO
    INSERT IGNORE INTO lagseen.seen SELECT id, SYSDATE(6) FROM lagbench.probe WHERE id > lo;
    SELECT MIN(s.id) INTO hi FROM lagseen.seen s WHERE s.id > lo
      AND NOT EXISTS (SELECT 1 FROM lagseen.seen s2 WHERE s2.id = s.id + 1);
    IF hi IS NOT NULL AND EXISTS (SELECT 1 FROM lagseen.seen WHERE id = lo + 1) THEN
      SET lo = hi;
    END IF;
    DO SLEEP(0.01);
  END WHILE;
END//
DELIMITER ;
SQL
}
