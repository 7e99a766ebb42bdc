#!/usr/bin/env bash
# bench/bench_migrate.sh - a full migration (definitions + existing rows) of one
# source into fresh destinations, in one invocation, by three tools:
#
#   (a) sluice migrate --threads N          (snapshot + load + verify; until
#       `migrate` exists: sluice snapshot + sluice replay + sluice verify)
#   (b) mydumper --threads N + myloader --threads N
#   (c) mariadb-dump --single-transaction | mariadb
#
#   bash bench/bench_migrate.sh                              (8 x 100,000 rows)
#   BENCH_ROUNDS=3 BENCH_TABLES=4 BENCH_TABLE_SIZE=20000 bash bench/bench_migrate.sh  (quick)
#
# Every tool gets its own destination server, started with the same settings
# as the others (harness, HARNESS_MARIADBD_ARGS), and runs alone on the machine.
# Prints wall seconds (median of BENCH_ROUNDS), rows/s, peak RSS (sum over the
# tool's process tree, sampled), the CPU seconds the tool (its whole process
# tree), the source server and the tool's destination server used, and the
# ratios sluice / peer. All servers share this machine's CPUs with the tool, so
# the wall time follows the sum of the three; where source, destination and
# tool are separate machines the destination's CPU is what bounds a load. Each destination
# must equal the source (table list, COUNT(*) and CHECKSUM TABLE per table).
# With BENCH_RESULTS set (bench/run), every round's figures of every tool whose
# destination came out equal are also written there (bench/lib.sh): comparison
# "full-copy", the round as BENCH_RUN; one note a round (sizes, settings).
# Exit: 0 report printed, every tool that ran left its destination equal to the
# source; 1 a tool failed or left a destination that differs; 77 sysbench or the
# servers are missing. sluice without `migrate` and without `snapshot`/`replay`
# is skipped (the peers still run), with a message saying so.
set -euo pipefail
TEST_NAME=bench_migrate
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The same for every server: the data fits the buffer pool; the rest of the
# settings are the harness's (binlog ROW on, innodb_flush_log_at_trx_commit=1,
# sync_binlog=0, doublewrite on). Override with HARNESS_MARIADBD_ARGS.
export HARNESS_MARIADBD_ARGS="${HARNESS_MARIADBD_ARGS:---innodb-buffer-pool-size=512M --innodb-log-file-size=256M}"
# shellcheck source=tests/integration/harness.sh
source "$BENCH_DIR/../tests/integration/harness.sh"
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

TABLES=${BENCH_TABLES:-8}
TABLE_SIZE=${BENCH_TABLE_SIZE:-100000}
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-1}
TOOLS=${BENCH_TOOLS:-sluice mydumper dump}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}	# seconds per tool run

command -v sysbench >/dev/null || skip "sysbench not installed (scripts/install-deps.sh installs it)"

# thousands N: N with thousands separators (800,000)
thousands() {
	local n=$1 out=
	while ((${#n} > 3)); do out=",${n: -3}$out" n=${n:0:${#n}-3}; done
	printf '%s\n' "$n$out"
}

# drop_tool TOOL: TOOLS without the word TOOL ("dump" is part of "mydumper")
drop_tool() {
	local t kept=
	for t in $TOOLS; do [[ $t == "$1" ]] || kept+="$t "; done
	TOOLS=$kept
}

median() { python3 -c "import statistics, sys; print('%.3f' % statistics.median(map(float, sys.argv[1:])))" "$@"; }
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.2f' % (a / b if b else float('inf')))" "$1" "$2"; }
verdict() {
	python3 -c '
import operator, sys
a, op, b = float(sys.argv[1]), sys.argv[2], float(sys.argv[3])
print("ok" if {"ge": operator.ge, "lt": operator.lt}[op](a, b) else "MISSED")' "$1" "$2" "$3"
}

# Runs CMD (a command line, in its own bash) with its output in LOG; sets
# RUN_SECS (its wall time) and RUN_RSS_KIB (the peak of the summed VmRSS of it
# and all its descendants, sampled every 100 ms: /usr/bin/time -v gives one
# process's peak, not the sum of a tree running at once); returns its status.
# The sampler starts the command itself, so that no short run escapes it.
measure() { # LOG CMD DEST_SERVER
	local rc=0
	python3 - "$1" "$2" "$WORK/measure.out" "$BENCH_TIMEOUT" "${_H_PIDS[0]}" "${_H_PIDS[$3 - 1]}" <<'EOF' || rc=$?
import os, resource, signal, subprocess, sys, time
log, cmd, out, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
servers = sys.argv[5:7]
def server_cpu():
    t = []
    for pid in servers:
        with open('/proc/%s/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        t.append((int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK'))
    return t
def own_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
def tree_rss(root):
    kids = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    todo, total = [root], 0
    while todo:
        p = todo.pop()
        try:
            with open('/proc/%d/status' % p) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1])
        except OSError:
            pass
        todo += kids.get(p, [])
    return total
cpu0, own0 = server_cpu(), own_cpu()
with open(log, 'w') as lf:
    t0 = time.monotonic()
    p = subprocess.Popen(['bash', '-c', cmd], stdout=lf, stderr=subprocess.STDOUT,
                         start_new_session=True)
    peak = 0
    while p.poll() is None:
        peak = max(peak, tree_rss(p.pid))
        if time.monotonic() - t0 > limit:
            lf.write('bench_migrate: timed out after %.0f s (BENCH_TIMEOUT)\n' % limit)
            os.killpg(p.pid, signal.SIGKILL)
        time.sleep(0.1)
    secs = time.monotonic() - t0
cpu1, own1 = server_cpu(), own_cpu()
with open(out, 'w') as f:
    f.write('%.3f %d %.2f %.2f %.2f\n' % (secs, peak, own1 - own0, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]))
sys.exit(p.returncode)
EOF
	read -r RUN_SECS RUN_RSS_KIB RUN_CPU_TOOL RUN_CPU_SRC RUN_CPU_DST <"$WORK/measure.out" ||
		{ RUN_SECS=0 RUN_RSS_KIB=0 RUN_CPU_TOOL=0 RUN_CPU_SRC=0 RUN_CPU_DST=0; }
	return "$rc"
}

tables_list() {
	local i sep=
	for i in $(seq 1 "$TABLES"); do printf '%ssbtest.sbtest%d' "$sep" "$i"; sep=,; done
}

# Server N holds exactly the source's sbtest: same tables, same row counts,
# same CHECKSUM TABLE (same server version and table definitions on both).
check_equal() { # N
	local n=$1 q t
	q="SELECT table_name FROM information_schema.tables WHERE table_schema = 'sbtest' ORDER BY 1"
	srv_sql 1 -N -B -e "$q" >"$WORK/eq.tables.src" || return 1
	srv_sql "$n" -N -B -e "$q" >"$WORK/eq.tables.dst" || return 1
	cmp -s "$WORK/eq.tables.src" "$WORK/eq.tables.dst" || { echo "table lists differ" >&2; return 1; }
	t=$(tables_list)
	q="CHECKSUM TABLE $t"
	for i in $(seq 1 "$TABLES"); do q="$q; SELECT COUNT(*) FROM sbtest.sbtest$i"; done
	srv_sql 1 -N -B -e "$q" >"$WORK/eq.src" || return 1
	srv_sql "$n" -N -B -e "$q" >"$WORK/eq.dst" || return 1
	if ! cmp -s "$WORK/eq.src" "$WORK/eq.dst"; then
		diff "$WORK/eq.src" "$WORK/eq.dst" | head -n 10 >&2
		return 1
	fi
}

# Empties server N for the next round: the migrated database and sluice's own.
reset_dest() { # N
	srv_sql "$1" -e "DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS sluice"
}

# Lets server N finish its background work (dirty pages of an earlier load or
# drop, purge) before a tool is timed on it, so that a later round does not pay
# for the one before (at most 60 s).
quiesce() { # N
	local n=$1 i d
	srv_sql "$n" -e "SET GLOBAL innodb_max_dirty_pages_pct = 0"
	for i in $(seq 1 120); do
		d=$(srv_sql "$n" -N -B -e "SELECT variable_value FROM information_schema.global_status
			WHERE variable_name = 'INNODB_BUFFER_POOL_PAGES_DIRTY'")
		((d < 100)) && break
		sleep 0.5
	done
	srv_sql "$n" -e "SET GLOBAL innodb_max_dirty_pages_pct = DEFAULT"
}

# What this sluice build can do: migrate, steps (snapshot + replay + verify), or none.
sluice_mode() {
	local cmds
	[[ -x "$SLUICE" ]] || { echo none; return; }
	cmds=$("$SLUICE" help 2>&1 || true)
	if grep -qE '^  migrate ' <<<"$cmds"; then
		echo migrate
	elif grep -qE '^  snapshot ' <<<"$cmds" && grep -qE '^  replay ' <<<"$cmds"; then
		echo steps
	else
		echo none
	fi
}

run_sluice() { # ROUND
	local dir=$WORK/sluice.dir.$1 cmd
	rm -rf "$dir"
	if [[ $SLUICE_MODE == migrate ]]; then
		cmd="'$SLUICE' migrate --source '$SRC_URL' --dest '$DST_URL' --dir '$dir' --threads $THREADS"
	else
		cmd="'$SLUICE' snapshot --source '$SRC_URL' --dir '$dir' --threads $THREADS &&
		     '$SLUICE' replay --dir '$dir' --dest '$DST_URL' --workers $THREADS &&
		     '$SLUICE' verify --source '$SRC_URL' --dest '$DST_URL' --include sbtest --threads 4"
	fi
	measure "$WORK/sluice.log.$1" "$cmd" 2
}

run_mydumper() { # ROUND
	local out=$WORK/mydumper.$1
	rm -rf "$out"
	measure "$WORK/mydumper.log.$1" \
		"mydumper -S '$SRC_SOCK' -u root -B sbtest --threads $THREADS -o '$out' &&
		 myloader -S '${_H_SOCKS[2]}' -u root -d '$out' --threads $THREADS" 3
}

run_dump() { # ROUND
	measure "$WORK/dump.log.$1" \
		"set -o pipefail; mariadb-dump --no-defaults -uroot -S '$SRC_SOCK' --single-transaction \
		   --databases sbtest | mariadb --no-defaults -uroot -S '${_H_SOCKS[3]}'" 4
}

# report_round TOOL: the figures of the run just measured (measure's RUN_*),
# for bench/run; only a run whose destination equals the source reports.
report_round() {
	local rows=$((TABLES * TABLE_SIZE))
	bench_result full-copy "$1" seconds "$RUN_SECS" s
	bench_result full-copy "$1" rows_per_s "$(awk -v r="$rows" -v s="$RUN_SECS" 'BEGIN { printf "%.0f", r / (s > 0.001 ? s : 0.001) }')" rows/s
	bench_result full-copy "$1" rss_mib "$(awk -v k="$RUN_RSS_KIB" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
	bench_result full-copy "$1" cpu_s "$RUN_CPU_TOOL" s
	bench_result full-copy "$1" cpu_src_s "$RUN_CPU_SRC" s
	bench_result full-copy "$1" cpu_dst_s "$RUN_CPU_DST" s
}

main() {
	local tool r n status=0
	declare -A SERVER=([sluice]=2 [mydumper]=3 [dump]=4) T=() RSS=() OK=() CT=() CS=() CD=()
	for tool in $TOOLS; do
		[[ -n "${SERVER[$tool]:-}" ]] || fail "unknown tool '$tool' in BENCH_TOOLS (sluice mydumper dump)"
	done
	SLUICE_MODE=$(sluice_mode)
	if [[ " $TOOLS " == *" sluice "* && $SLUICE_MODE == none ]]; then
		log "SKIP sluice: $SLUICE has neither 'migrate' nor 'snapshot'+'replay' (build a branch that has them; SLUICE_BIN=...)"
		drop_tool sluice
	fi
	if [[ " $TOOLS " == *" mydumper "* ]] && ! { command -v mydumper && command -v myloader; } >/dev/null; then
		log "SKIP mydumper: mydumper/myloader not installed (scripts/install-deps.sh installs them)"
		drop_tool mydumper
	fi
	if [[ " $TOOLS " == *" dump "* ]] && ! { command -v mariadb-dump && command -v mariadb; } >/dev/null; then
		log "SKIP dump: mariadb-dump/mariadb not installed (the MariaDB client package)"
		drop_tool dump
	fi
	# the names bench/run reports them under (bench/lib.sh); sluice first: the baseline
	local -A NAME=([sluice]="sluice migrate" [mydumper]="mydumper + myloader" [dump]="mariadb-dump | mariadb")
	[[ $SLUICE_MODE == steps ]] && NAME[sluice]="sluice snapshot + replay + verify"
	local note
	note="$(thousands "$TABLES") tables x $(thousands "$TABLE_SIZE") rows (sysbench oltp_read_only prepare), $(thousands $((TABLES * TABLE_SIZE))) rows;"
	note+=" --threads $THREADS for every tool; source and destinations on this machine ($(nproc) CPUs), mariadbd $HARNESS_MARIADBD_ARGS;"
	note+=" one tool at a time, each destination fresh and both servers flushed before it; sluice's time includes its verify"
	start_servers 4
	log "sysbench prepare: $TABLES tables x $TABLE_SIZE rows on the source"
	src_sql -e "CREATE DATABASE sbtest"
	sysbench oltp_read_only --db-driver=mysql --mysql-socket="$SRC_SOCK" --mysql-user=root \
		--mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" --threads="$TABLES" \
		prepare >"$WORK/prepare.log" 2>&1 || { tail "$WORK/prepare.log" >&2; fail "sysbench prepare failed"; }
	# read the source once so that every tool finds it in the buffer pool
	src_sql -N -B -e "CHECKSUM TABLE $(tables_list)" >/dev/null
	for r in $(seq 1 "$ROUNDS"); do
		BENCH_RUN=$r
		bench_note full-copy "$note"
		for tool in $TOOLS; do
			n=${SERVER[$tool]}
			((r == 1)) || reset_dest "$n"
			quiesce 1
			quiesce "$n"
			log "round $r: $tool"
			if "run_$tool" "$r"; then
				if check_equal "$n"; then
					OK[$tool]=${OK[$tool]:-yes}
					report_round "${NAME[$tool]}"
				else
					log "$tool: destination differs from the source"
					OK[$tool]=DIFFERS
					status=1
				fi
			else
				log "$tool failed (exit status); its log:"
				tail -n 20 "$WORK/$tool.log.$r" >&2
				OK[$tool]=FAILED
				status=1
			fi
			T[$tool]="${T[$tool]:-} $RUN_SECS"
			CT[$tool]="${CT[$tool]:-} $RUN_CPU_TOOL"
			CS[$tool]="${CS[$tool]:-} $RUN_CPU_SRC"
			CD[$tool]="${CD[$tool]:-} $RUN_CPU_DST"
			if [[ -z "${RSS[$tool]:-}" || $RUN_RSS_KIB -gt ${RSS[$tool]} ]]; then
				RSS[$tool]=$RUN_RSS_KIB
			fi
		done
	done
	local rows=$((TABLES * TABLE_SIZE))
	local -A MED CPU MED_CD LABEL=(
		[sluice]="sluice $SLUICE_MODE --threads $THREADS"
		[mydumper]="mydumper + myloader --threads $THREADS"
		[dump]="mariadb-dump --single-transaction | mariadb")
	[[ $SLUICE_MODE == steps ]] && LABEL[sluice]="sluice snapshot+replay+verify ($THREADS)"
	echo
	echo "== migrate benchmark: $TABLES tables x $TABLE_SIZE rows (sysbench), source and destinations on this machine ($(nproc) CPUs), median of $ROUNDS round(s) =="
	printf '%-44s %8s %9s %9s  %-33s %s\n' tool seconds rows/s "peak RSS" "CPU s tool/src/dest (CPUs busy)" "dest = source"
	for tool in sluice mydumper dump; do
		[[ " $TOOLS " == *" $tool "* ]] || continue
		# shellcheck disable=SC2086 # lists of numbers
		MED[$tool]=$(median ${T[$tool]})
		# shellcheck disable=SC2086
		CPU[$tool]="$(median ${CT[$tool]}) / $(median ${CS[$tool]}) / $(median ${CD[$tool]})"
		# shellcheck disable=SC2086
		MED_CD[$tool]=$(median ${CD[$tool]})
		# how much of the machine the three kept busy: idle CPUs are time lost
		# shellcheck disable=SC2086
		CPU[$tool]+=" ($(python3 -c "import sys; a = [float(x) for x in sys.argv[1:]]; print('%d%%' % (100 * (a[0] + a[1] + a[2]) / max(a[3] * a[4], 0.001)))" \
			"$(median ${CT[$tool]})" "$(median ${CS[$tool]})" "${MED_CD[$tool]}" "${MED[$tool]}" "$(nproc)") busy)"
		printf '%-44s %8s %9s %6s MiB  %-33s %s\n' "${LABEL[$tool]}" "${MED[$tool]}" \
			"$(python3 -c "print(int($rows / max(${MED[$tool]}, 0.001)))")" \
			"$((RSS[$tool] / 1024))" "${CPU[$tool]}" "${OK[$tool]}"
	done
	echo "each round, seconds:$(for tool in $TOOLS; do printf ' %s:%s |' "$tool" "${T[$tool]}"; done)"
	if [[ -n "${MED[sluice]:-}" ]]; then
		[[ -n "${MED[mydumper]:-}" ]] && echo "sluice vs mydumper+myloader: $(ratio "${MED[mydumper]}" "${MED[sluice]}")x its speed (target >= 1.5x: $(verdict "$(ratio "${MED[mydumper]}" "${MED[sluice]}")" ge 1.5); aim 2x)"
		[[ -n "${MED[dump]:-}" ]] && echo "sluice vs mariadb-dump|mariadb: $(ratio "${MED[dump]}" "${MED[sluice]}")x its speed"
		[[ -n "${MED[mydumper]:-}" ]] && echo "destination server CPU: sluice needs $(ratio "${MED_CD[sluice]}" "${MED_CD[mydumper]}")x what myloader needs (what bounds a migration whose servers are separate machines)"
		echo "sluice peak RSS (process tree): $((RSS[sluice] / 1024)) MiB (target < 512 MiB: $(verdict "${RSS[sluice]}" lt 524288))"
	else
		echo "sluice not run: ratios not available"
		[[ -n "${MED[mydumper]:-}" && -n "${MED[dump]:-}" ]] &&
			echo "mydumper+myloader vs mariadb-dump|mariadb: $(ratio "${MED[dump]}" "${MED[mydumper]}")x its speed"
	fi
	return "$status"
}

main "$@"
