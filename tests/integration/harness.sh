# shellcheck shell=bash
# Integration test harness: sourced by every tests/integration/test_*.sh and by
# bench/. Starts throw-away MariaDB servers (Debian's mariadbd) on loopback
# ports it picks, in temporary directories, and tears everything down on exit,
# failure or signal.
#
#   source "$(dirname "$0")/harness.sh"
#   start_servers            # source (server 1) and destination (server 2)
#   src_sql -e 'CREATE DATABASE d'   /  dst_sql ...
#   "$SLUICE" capture --source "$SRC_URL" --dir "$WORK/dir"
#   compare_all              # every user database, row by row
#
# Exports after start_servers:
#   SRC_URL DST_URL                    mysql://sluice@127.0.0.1:PORT/
#   SLUICE_SOURCE_PASSWORD SLUICE_DEST_PASSWORD
#   SRC_PORT DST_PORT SRC_SOCK DST_SOCK
#   SRC_SQL DST_SQL                    "mariadb ... -S SOCK -uroot" (word-split them)
# and the functions src_sql / dst_sql / srv_sql N, which are the same clients.
# start_proxy NAME PORT puts a faultproxy in front of a server (PROXY_PORT),
# proxy_ctl NAME COMMAND drives it (see "fault proxies" below).
#
# Exit statuses: 0 pass, 1 fail (fail), 77 skip (skip; under CI=true a missing
# server binary is a failure, never a skip).

set -euo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SLUICE_SOURCE_DIR=${SLUICE_SOURCE_DIR:-$(cd "$HARNESS_DIR/../.." && pwd)}
SLUICE=${SLUICE_BIN:-$SLUICE_SOURCE_DIR/build/sluice}
export SLUICE_SOURCE_DIR SLUICE

# The password of the 'sluice' account on every server; tests check that it
# never shows up in any output or argv.
HARNESS_PASSWORD="Sl-pw.$$-$RANDOM-s3cr3t"

MARIADBD=${MARIADBD:-$(command -v mariadbd 2>/dev/null || true)}
if [[ -z "$MARIADBD" && -x /usr/sbin/mariadbd ]]; then
	MARIADBD=/usr/sbin/mariadbd
fi

declare -a _H_DIRS=() _H_PIDS=() _H_PORTS=() _H_SOCKS=() _H_CLEANUP=() _H_BG=()
_H_TEARDOWN_DONE=0

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${TEST_NAME:-test}" "$*" >&2; }

fail() {
	printf 'FAIL (%s): %s\n' "${TEST_NAME:-test}" "$*" >&2
	exit 1
}

skip() {
	printf 'SKIP (%s): %s\n' "${TEST_NAME:-test}" "$*" >&2
	exit 77
}

# A missing prerequisite: skip normally, fail under CI.
_require() {
	if [[ "${CI:-}" == "true" ]]; then
		fail "$* (CI=true: a missing prerequisite is a failure)"
	fi
	skip "$*"
}

# Runs CMD at teardown, before the servers stop (last registered first).
on_exit() { _H_CLEANUP+=("$*"); }

# Registers a background process id to be killed at teardown if still alive.
track_pid() { _H_BG+=("$1"); }

# Prints a free TCP port on 127.0.0.1.
free_port() {
	local port
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
		return
	fi
	for _ in $(seq 1 200); do
		port=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	fail "no free port found"
}

# Client for server N (1-based) as root over its socket.
srv_sql() {
	local n=$1
	shift
	mariadb --no-defaults -uroot -S "${_H_SOCKS[$((n - 1))]}" \
		--default-character-set=utf8mb4 --max-allowed-packet=1G "$@"
}
src_sql() { srv_sql 1 "$@"; }
dst_sql() { srv_sql 2 "$@"; }

_srv_cmd() {
	printf 'mariadb --no-defaults -uroot -S %s --default-character-set=utf8mb4 --max-allowed-packet=1G' "$1"
}

# _srv_launch N PORT: starts mariadbd for server N on its datadir (made by
# start_server) in the background; sets _H_PIDS[N-1].
_srv_launch() {
	local n=$1 port=$2 dir=${_H_DIRS[$(($1 - 1))]}
	local sock=$dir/mysqld.sock
	local -a user=() extra=()
	read -r -a extra <<<"${HARNESS_MARIADBD_ARGS:-}"
	if [[ $(id -u) -eq 0 ]]; then
		user=(--user=root)
	fi
	"$MARIADBD" --no-defaults "${user[@]+"${user[@]}"}" \
		--datadir="$dir/data" --tmpdir="$dir/tmp" --socket="$sock" --port="$port" \
		--bind-address=127.0.0.1 --pid-file="$dir/mysqld.pid" \
		--log-error="$dir/error.log" \
		--log-bin=mysql-bin --binlog-format=ROW --binlog-row-metadata=FULL \
		--binlog-row-image=FULL --server-id="$n" \
		--innodb-buffer-pool-size=64M --innodb-log-file-size=48M \
		--skip-name-resolve --max-allowed-packet=256M \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
		"${extra[@]+"${extra[@]}"}" \
		>>"$dir/stdout.log" 2>&1 &
	_H_PIDS[n - 1]=$!
}

# kill_server N: kill -9 of server N (a crash); waits until it is gone.
kill_server() {
	local n=$1 pid=${_H_PIDS[$(($1 - 1))]}
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	log "server $n killed (kill -9)"
}

# restart_server N: starts server N again on its port and datadir (crash
# recovery after kill_server) and waits until it answers (60 s at most).
restart_server() {
	local n=$1 sock=${_H_SOCKS[$(($1 - 1))]} i
	_srv_launch "$n" "${_H_PORTS[$((n - 1))]}"
	for i in $(seq 1 600); do
		mariadb-admin --no-defaults -uroot -S "$sock" ping >/dev/null 2>&1 && break
		kill -0 "${_H_PIDS[$((n - 1))]}" 2>/dev/null || break
		sleep 0.1
	done
	mariadb-admin --no-defaults -uroot -S "$sock" ping >/dev/null 2>&1 || {
		tail -n 30 "${_H_DIRS[$((n - 1))]}/error.log" >&2
		fail "server $n did not come back"
	}
	log "server $n back on port ${_H_PORTS[$((n - 1))]}"
}

# Starts server number N (server-id N) and waits until it answers.
start_server() {
	local n=$1 dir port sock pid i
	[[ -n "$MARIADBD" && -x "$MARIADBD" ]] || _require "mariadbd not installed (scripts/install-deps.sh)"
	command -v mariadb-install-db >/dev/null || _require "mariadb-install-db not installed"
	command -v mariadb >/dev/null || _require "mariadb client not installed"

	dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it-srv$n.XXXXXX")
	_H_DIRS[n - 1]=$dir
	sock=$dir/mysqld.sock
	_H_SOCKS[n - 1]=$sock
	local -a user=()
	if [[ $(id -u) -eq 0 ]]; then
		user=(--user=root)
	fi
	# A private tmpdir: servers of concurrent runs must not share /tmp temp files.
	mkdir -p "$dir/tmp"
	if ! mariadb-install-db --no-defaults "${user[@]+"${user[@]}"}" --datadir="$dir/data" \
		--tmpdir="$dir/tmp" --auth-root-authentication-method=normal --skip-test-db \
		>"$dir/install.log" 2>&1; then
		cat "$dir/install.log" >&2
		fail "mariadb-install-db failed for server $n"
	fi

	# The port is picked free, then bound by mariadbd: retry on the rare race.
	for attempt in 1 2 3; do
		port=$(free_port)
		_srv_launch "$n" "$port"
		pid=${_H_PIDS[n - 1]}
		for i in $(seq 1 600); do
			if mariadb-admin --no-defaults -uroot -S "$sock" ping >/dev/null 2>&1; then
				break
			fi
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null && mariadb-admin --no-defaults -uroot -S "$sock" ping >/dev/null 2>&1; then
			break
		fi
		if kill -0 "$pid" 2>/dev/null; then
			tail -n 30 "$dir/error.log" >&2 || true
			fail "server $n did not answer within 60 s"
		fi
		if ((attempt == 3)) || ! grep -q -i "address already in use\|Do you already have another" "$dir/error.log"; then
			tail -n 30 "$dir/error.log" >&2 || true
			fail "server $n failed to start"
		fi
		log "port $port taken, retrying"
	done
	_H_PORTS[n - 1]=$port

	srv_sql "$n" -e "
		CREATE USER 'sluice'@'127.0.0.1' IDENTIFIED BY '$HARNESS_PASSWORD';
		GRANT ALL PRIVILEGES ON *.* TO 'sluice'@'127.0.0.1' WITH GRANT OPTION;
		GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'sluice'@'127.0.0.1';
		FLUSH PRIVILEGES;" || fail "could not create the sluice user on server $n"
	log "server $n up: port $port, dir $dir"
}

# Starts N servers (default 2). Server 1 is the source, server 2 the
# destination, server 3 (if any) a second destination (DST2_*).
start_servers() {
	local count=${1:-2} n
	for n in $(seq 1 "$count"); do
		start_server "$n"
	done
	SRC_PORT=${_H_PORTS[0]}
	SRC_SOCK=${_H_SOCKS[0]}
	SRC_URL="mysql://sluice@127.0.0.1:$SRC_PORT/"
	SRC_SQL=$(_srv_cmd "$SRC_SOCK")
	SLUICE_SOURCE_PASSWORD=$HARNESS_PASSWORD
	SLUICE_DEST_PASSWORD=$HARNESS_PASSWORD
	export SRC_PORT SRC_SOCK SRC_URL SRC_SQL SLUICE_SOURCE_PASSWORD SLUICE_DEST_PASSWORD
	if ((count >= 2)); then
		DST_PORT=${_H_PORTS[1]}
		DST_SOCK=${_H_SOCKS[1]}
		DST_URL="mysql://sluice@127.0.0.1:$DST_PORT/"
		DST_SQL=$(_srv_cmd "$DST_SOCK")
		export DST_PORT DST_SOCK DST_URL DST_SQL
	fi
	if ((count >= 3)); then
		DST2_PORT=${_H_PORTS[2]}
		DST2_SOCK=${_H_SOCKS[2]}
		DST2_URL="mysql://sluice@127.0.0.1:$DST2_PORT/"
		DST2_SQL=$(_srv_cmd "$DST2_SOCK")
		export DST2_PORT DST2_SOCK DST2_URL DST2_SQL
	fi
}

# start_replica N [OF]: starts server N (default server-id N) as a GTID
# replica of server OF (default 1) with log_slave_updates, so its binlog
# carries the same GTIDs as OF's from now on: the failover target a source
# is replaced by. N's own set-up (its accounts) is not in its binlog (RESET
# MASTER) and its replication starts at OF's gtid_binlog_pos now (OF's
# set-up is not replayed either): start it before the test writes. Exports
# REPLICA_PORT REPLICA_SOCK REPLICA_URL (mysql://sluice@127.0.0.1:PORT/, the
# same password). Waits until the replica's threads run.
start_replica() {
	local n=$1 of=${2:-1} pos io sql
	HARNESS_MARIADBD_ARGS="${HARNESS_MARIADBD_ARGS:-} --log-slave-updates --relay-log=relay-bin --skip-slave-start" \
		start_server "$n"
	pos=$(srv_sql "$of" -N -B -e "SELECT @@GLOBAL.gtid_binlog_pos")
	srv_sql "$n" -e "RESET MASTER; SET GLOBAL gtid_slave_pos = '$pos';
		CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${_H_PORTS[$((of - 1))]},
			MASTER_USER = 'sluice', MASTER_PASSWORD = '$HARNESS_PASSWORD',
			MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1;
		START SLAVE;" || fail "could not start replication on server $n from server $of"
	for _ in $(seq 1 100); do
		io=$(srv_sql "$n" -e "SHOW SLAVE STATUS\G" | sed -n 's/^ *Slave_IO_Running: //p')
		sql=$(srv_sql "$n" -e "SHOW SLAVE STATUS\G" | sed -n 's/^ *Slave_SQL_Running: //p')
		[[ "$io" == Yes && "$sql" == Yes ]] && break
		sleep 0.1
	done
	[[ "$io" == Yes && "$sql" == Yes ]] ||
		fail "server $n does not replicate from server $of (io $io, sql $sql): $(srv_sql "$n" -e 'SHOW SLAVE STATUS\G' | grep -i error | head -n 4 | tr '\n' ' ')"
	REPLICA_PORT=${_H_PORTS[$((n - 1))]}
	REPLICA_SOCK=${_H_SOCKS[$((n - 1))]}
	REPLICA_URL="mysql://sluice@127.0.0.1:$REPLICA_PORT/"
	export REPLICA_PORT REPLICA_SOCK REPLICA_URL
	log "server $n replicates from server $of by GTID from $pos"
}

# replica_catch_up N [OF] [SECONDS]: waits (default 60 s) until replica N
# has applied everything in OF's binlog now (MASTER_GTID_WAIT).
replica_catch_up() {
	local n=$1 of=${2:-1} secs=${3:-60} pos r
	pos=$(srv_sql "$of" -N -B -e "SELECT @@GLOBAL.gtid_binlog_pos")
	r=$(srv_sql "$n" -N -B -e "SELECT MASTER_GTID_WAIT('$pos', $secs)")
	[[ "$r" == 0 ]] || fail "replica $n did not reach $pos of server $of within $secs s: $(srv_sql "$n" -e 'SHOW SLAVE STATUS\G' | grep -i 'error\|running' | head -n 6 | tr '\n' ' ')"
}

# promote_replica N: N stops replicating and takes writes (a failover: its
# source is gone or fenced). Its binlog goes on with the GTIDs it had.
promote_replica() {
	local n=$1
	srv_sql "$n" -e "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF;" ||
		fail "could not promote server $n"
	log "server $n promoted: $(srv_sql "$n" -N -B -e 'SELECT @@GLOBAL.gtid_binlog_pos')"
}

# Stops every server this harness started and removes their directories.
stop_servers() {
	local i pid sock dir
	# By directory: a server that failed to install has a dir but no pid.
	for i in "${!_H_DIRS[@]}"; do
		pid=${_H_PIDS[$i]:-}
		sock=${_H_SOCKS[$i]:-}
		dir=${_H_DIRS[$i]}
		if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
			mariadb-admin --no-defaults -uroot -S "$sock" --shutdown-timeout=20 shutdown >/dev/null 2>&1 || true
			for _ in $(seq 1 100); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			if kill -0 "$pid" 2>/dev/null; then
				kill -TERM "$pid" 2>/dev/null || true
				sleep 2
				kill -KILL "$pid" 2>/dev/null || true
			fi
			wait "$pid" 2>/dev/null || true
		fi
		if [[ -n "$dir" && -d "$dir" && "${SLUICE_KEEP:-0}" != "1" ]]; then
			rm -rf -- "$dir"
		fi
	done
	_H_PIDS=()
	_H_DIRS=()
}

# Prints the tail of each server's error log (called on failure).
_dump_server_logs() {
	local i
	for i in "${!_H_DIRS[@]}"; do
		if [[ -f "${_H_DIRS[$i]}/error.log" ]]; then
			if grep -q -E 'got signal|\[ERROR\]|Assertion' "${_H_DIRS[$i]}/error.log"; then
				echo "--- server $((i + 1)) error.log (errors) ---" >&2
				grep -E -A 12 'got signal|\[ERROR\]|Assertion' "${_H_DIRS[$i]}/error.log" |
					head -n 60 >&2 || true
			else
				echo "--- server $((i + 1)) error.log (tail) ---" >&2
				grep -v '^\s*$' "${_H_DIRS[$i]}/error.log" | tail -n 5 >&2 || true
			fi
		fi
	done
}

_harness_teardown() {
	local rc=$? i pid
	((_H_TEARDOWN_DONE)) && return 0
	_H_TEARDOWN_DONE=1
	set +e
	for ((i = ${#_H_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${_H_CLEANUP[$i]}" >/dev/null 2>&1
	done
	for pid in "${_H_BG[@]+"${_H_BG[@]}"}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			sleep 0.5
			kill -KILL "$pid" 2>/dev/null
		fi
	done
	if ((rc != 0 && rc != 77)); then
		_dump_server_logs
	fi
	stop_servers
	if [[ -n "${WORK:-}" && -d "$WORK" && "${SLUICE_KEEP:-0}" != "1" ]]; then
		rm -rf -- "$WORK"
	elif [[ -n "${WORK:-}" ]]; then
		echo "kept $WORK and server dirs (SLUICE_KEEP=1)" >&2
	fi
	return "$rc"
}
trap _harness_teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# A scratch directory for the test (segment dirs, outputs), removed at exit.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it-work.XXXXXX")
export WORK

# The sluice binary must exist; it is built by CMake before CTest runs.
require_sluice() {
	[[ -x "$SLUICE" ]] || _require "sluice binary not found at $SLUICE (build first, or set SLUICE_BIN)"
}

# Quotes a string as an SQL string literal (for names used in WHERE clauses).
sql_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\'/\'\'}
	printf "'%s'" "$s"
}

# Quotes an identifier with backticks, doubling inner backticks.
sql_ident() {
	local s=$1
	# shellcheck disable=SC2016 # literal backticks
	printf '`%s`' "${s//\`/\`\`}"
}

# Prints the user databases of server N (not system schemas, not sluice's own).
user_databases() {
	srv_sql "$1" -N -B -r -e "SELECT schema_name FROM information_schema.schemata
		WHERE schema_name NOT IN ('mysql','information_schema','performance_schema','sys','sluice')
		ORDER BY schema_name"
}

# Prints the SELECT that dumps table DB.T exactly: every column as exact text
# (QUOTE()d bytes for strings so NULL and 'NULL' differ, HEX for binary and
# geometry, floats widened to double, BIT as an unsigned number), ordered by
# every column. Built from server N's information_schema. A system-versioned
# table is dumped by its current rows without the ROW START / ROW END columns
# (each server's own times; replay applies current rows, README).
_dump_query() {
	local n=$1 db=$2 t=$3
	srv_sql "$n" -N -B -r -e "
	SET SESSION group_concat_max_len = 16777216;
	SELECT CONCAT('SELECT ',
	  GROUP_CONCAT(
	    CASE
	      WHEN data_type IN ('binary','varbinary','tinyblob','blob','mediumblob','longblob',
	                         'geometry','point','linestring','polygon','multipoint',
	                         'multilinestring','multipolygon','geometrycollection')
	        THEN CONCAT('HEX(', q, ')')
	      WHEN data_type = 'float' THEN CONCAT('CAST(', q, ' AS DOUBLE)')
	      WHEN data_type = 'bit' THEN CONCAT('CAST(', q, ' AS UNSIGNED)')
	      WHEN character_set_name IS NOT NULL THEN CONCAT('QUOTE(CONVERT(', q, ' USING binary))')
	      ELSE q
	    END ORDER BY ordinal_position SEPARATOR ', '),
	  ' FROM ', $(sql_str "$(sql_ident "$db")"), '.', $(sql_str "$(sql_ident "$t")"),
	  ' ORDER BY ', GROUP_CONCAT(ordinal_position ORDER BY ordinal_position SEPARATOR ','))
	FROM (SELECT CONCAT('\`', REPLACE(column_name, '\`', '\`\`'), '\`') AS q,
	             data_type, character_set_name, ordinal_position
	      FROM information_schema.columns
	      WHERE table_schema = $(sql_str "$db") AND table_name = $(sql_str "$t")
	        AND IFNULL(generation_expression, '') NOT IN ('ROW START', 'ROW END')) c"
}

# Column definitions of DB.T on server N, one line per column.
_columns_of() {
	srv_sql "$1" -N -B -e "SELECT ordinal_position, column_name, column_type, is_nullable,
		IFNULL(column_default,'<none>'), IFNULL(character_set_name,''), IFNULL(collation_name,''),
		column_key, extra
		FROM information_schema.columns
		WHERE table_schema = $(sql_str "$2") AND table_name = $(sql_str "$3")
		ORDER BY ordinal_position"
}

# Shows the first differing lines of two files (long lines cut).
_show_diff() {
	diff -- "$1" "$2" | head -n "${3:-10}" | cut -c1-400 >&2 || true
}

# compare_db DB [SRC_N DST_N]: every table of DB on the two servers (default
# 1 and 2) must have the same columns and exactly the same rows. Prints the
# first differences and returns 1 if they differ.
compare_db() {
	local db=$1 a=${2:-1} b=${3:-2} t q ca cb out rc=0
	out=$WORK/compare
	mkdir -p "$out"
	# Every query is checked: a failed dump on both sides must not read as equal.
	srv_sql "$a" -N -B -r -e "SELECT table_name, table_type FROM information_schema.tables
		WHERE table_schema = $(sql_str "$db") ORDER BY BINARY table_name" >"$out/tables.a" || return 1
	srv_sql "$b" -N -B -r -e "SELECT table_name, table_type FROM information_schema.tables
		WHERE table_schema = $(sql_str "$db") ORDER BY BINARY table_name" >"$out/tables.b" || return 1
	if ! cmp -s "$out/tables.a" "$out/tables.b"; then
		echo "compare_db $db: table lists differ (< server $a, > server $b):" >&2
		_show_diff "$out/tables.a" "$out/tables.b"
		return 1
	fi
	while IFS=$'\t' read -r t _; do
		_columns_of "$a" "$db" "$t" >"$out/cols.a" || return 1
		_columns_of "$b" "$db" "$t" >"$out/cols.b" || return 1
		if ! cmp -s "$out/cols.a" "$out/cols.b"; then
			echo "compare_db $db.$t: columns differ (< server $a, > server $b):" >&2
			_show_diff "$out/cols.a" "$out/cols.b"
			rc=1
			continue
		fi
		ca=$(srv_sql "$a" -N -B -e "SELECT COUNT(*) FROM $(sql_ident "$db").$(sql_ident "$t")") || return 1
		cb=$(srv_sql "$b" -N -B -e "SELECT COUNT(*) FROM $(sql_ident "$db").$(sql_ident "$t")") || return 1
		if [[ "$ca" != "$cb" ]]; then
			echo "compare_db $db.$t: row counts differ: $ca on server $a, $cb on server $b" >&2
			rc=1
		fi
		q=$(_dump_query "$a" "$db" "$t") && [[ -n "$q" ]] || return 1
		# UTC so TIMESTAMP columns print the stored instant on both sides.
		srv_sql "$a" -N -B --quick -e "SET time_zone = '+00:00'; $q" >"$out/rows.a" || return 1
		srv_sql "$b" -N -B --quick -e "SET time_zone = '+00:00'; $q" >"$out/rows.b" || return 1
		if ! cmp -s "$out/rows.a" "$out/rows.b"; then
			echo "compare_db $db.$t: rows differ (< server $a, > server $b):" >&2
			_show_diff "$out/rows.a" "$out/rows.b"
			rc=1
		fi
	done <"$out/tables.a"
	return "$rc"
}

# dump_db N DB: prints every table of DB on server N exactly (name, then rows),
# for before/after snapshots such as the checkpoint table.
dump_db() {
	local n=$1 db=$2 t q
	srv_sql "$n" -N -B -r -e "SELECT table_name FROM information_schema.tables
		WHERE table_schema = $(sql_str "$db") ORDER BY table_name" >"$WORK/dump_db.tables"
	while IFS= read -r t; do
		echo "== $t"
		q=$(_dump_query "$n" "$db" "$t") || return 1
		srv_sql "$n" -N -B --quick -e "SET time_zone = '+00:00'; $q" || return 1
	done <"$WORK/dump_db.tables"
}

# compare_all [SRC_N DST_N]: the same user databases on both servers, each equal.
compare_all() {
	local a=${1:-1} b=${2:-2} db rc=0
	user_databases "$a" >"$WORK/dbs.a" || return 1
	user_databases "$b" >"$WORK/dbs.b" || return 1
	if ! cmp -s "$WORK/dbs.a" "$WORK/dbs.b"; then
		echo "compare_all: database lists differ (< server $a, > server $b):" >&2
		_show_diff "$WORK/dbs.a" "$WORK/dbs.b"
		return 1
	fi
	while IFS= read -r db; do
		compare_db "$db" "$a" "$b" || rc=1
	done <"$WORK/dbs.a"
	return "$rc"
}

# wait_equal TIMEOUT_S [SRC_N DST_N]: polls compare_all until equal.
wait_equal() {
	local deadline=$((SECONDS + $1)) a=${2:-1} b=${3:-2}
	while ((SECONDS < deadline)); do
		if compare_all "$a" "$b" 2>/dev/null; then
			return 0
		fi
		sleep 1
	done
	compare_all "$a" "$b"
}

# run_sluice NAME ARGS...: runs sluice (killed after SLUICE_TIMEOUT seconds,
# default 600: status 124), output in $WORK/NAME.out/.err, status in
# $WORK/NAME.rc; returns sluice's status.
run_sluice() {
	local name=$1 rc=0
	shift
	timeout --kill-after=10 "${SLUICE_TIMEOUT:-600}" "$SLUICE" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null || rc=$?
	echo "$rc" >"$WORK/$name.rc"
	return "$rc"
}

# must_sluice NAME ARGS...: runs sluice and fails the test unless it exits 0.
must_sluice() {
	local name=$1 rc=0
	run_sluice "$@" || rc=$?
	if ((rc != 0)); then
		echo "--- sluice ${*:2} (stderr, tail) ---" >&2
		tail -n 20 "$WORK/$name.err" >&2
		fail "sluice $2 exited $rc"
	fi
}

# start_bg NAME ARGS...: starts sluice in the background (output in
# $WORK/NAME.out/.err) with SIGINT/SIGTERM at their defaults (a
# non-interactive shell would start it with SIGINT ignored); sets BG_PID.
start_bg() {
	local name=$1
	shift
	local -a pre=()
	if env --default-signal=INT true 2>/dev/null; then
		pre=(env "--default-signal=INT,TERM")
	fi
	"${pre[@]+"${pre[@]}"}" "$SLUICE" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	BG_PID=$!
	track_pid "$BG_PID"
}

# wait_line NAME PID REGEX [SECONDS]: waits (default 120 s) until
# $WORK/NAME.err has a line matching REGEX (grep); fails when PID ends first
# or the time runs out, with the tail of that file.
wait_line() {
	local name=$1 pid=$2 re=$3 secs=${4:-120}
	local deadline=$((SECONDS + secs))
	while ((SECONDS < deadline)); do
		grep -q -- "$re" "$WORK/$name.err" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$WORK/$name.err" >&2; fail "$name ended before it said '$re'"; }
		sleep 0.2
	done
	tail -n 20 "$WORK/$name.err" >&2
	fail "$name did not say '$re' within $secs s"
}

# stop_bg PID NAME SIGNAL: signals PID and expects exit 0 within 30 s.
stop_bg() {
	local pid=$1 name=$2 sig=$3 rc=0
	kill -0 "$pid" 2>/dev/null || {
		wait "$pid" || rc=$?
		tail -n 20 "$WORK/$name.err" >&2
		fail "$name exited early (status $rc) before $sig"
	}
	kill -s "$sig" "$pid"
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$name did not exit within 30 s of SIG$sig"
	fi
	wait "$pid" || rc=$?
	if ((rc != 0)); then
		tail -n 20 "$WORK/$name.err" >&2
		fail "$name exited $rc after SIG$sig, want 0"
	fi
}

# ---- fault proxies (tests/tools/faultproxy.c) ----
# start_proxy NAME PORT [HOST [RECFILE]]: starts a faultproxy on a free
# loopback port forwarding to HOST:PORT (default 127.0.0.1) and sets
# PROXY_PORT to the port to connect to; its log goes to $WORK/proxy-NAME.log
# (PROXY_SEED fixes its randomness); with RECFILE it records every byte it
# carries there (plain text on the wire, test_tls.sh). It is killed at teardown, on failure too, before the servers
# stop. proxy_ctl NAME COMMAND... sends a command (pass, cut rst|fin [K],
# blackhole, latency MS, throttle BPS, flip N [SKIP], retarget HOST:PORT,
# stats; see the top of faultproxy.c) and prints the reply, failing the test
# on an error reply; proxy_stat NAME KEY prints one figure of "stats".
FAULTPROXY=${SLUICE_FAULTPROXY:-$SLUICE_SOURCE_DIR/build/tests/faultproxy}
declare -A _H_PROXY_CTL=() _H_PROXY_PID=()
start_proxy() {
	local name=$1 port=$2 host=${3:-127.0.0.1} rec=${4:-} pf pid ctl
	[[ -x "$FAULTPROXY" ]] || _require "faultproxy not found at $FAULTPROXY (build first, or set SLUICE_FAULTPROXY)"
	pf=$WORK/proxy-$name.ports
	rm -f -- "$pf"
	local -a seed=()
	[[ -n "${PROXY_SEED:-}" ]] && seed=(-s "$PROXY_SEED")
	[[ -n "$rec" ]] && seed+=(-r "$rec")
	"$FAULTPROXY" -t "$host:$port" -w "$pf" "${seed[@]+"${seed[@]}"}" >/dev/null 2>>"$WORK/proxy-$name.log" &
	pid=$!
	track_pid "$pid"
	for _ in $(seq 1 100); do
		[[ -s "$pf" ]] && break
		kill -0 "$pid" 2>/dev/null || { cat "$WORK/proxy-$name.log" >&2; fail "faultproxy $name did not start"; }
		sleep 0.05
	done
	[[ -s "$pf" ]] || fail "faultproxy $name wrote no port file"
	read -r PROXY_PORT ctl <"$pf"
	_H_PROXY_CTL[$name]=$ctl
	_H_PROXY_PID[$name]=$pid
	log "proxy $name up: 127.0.0.1:$PROXY_PORT -> $host:$port (control $ctl, $(grep -o 'seed [0-9]*' "$WORK/proxy-$name.log" | tail -n 1))"
}
proxy_ctl() {
	local name=$1 out rc=0
	shift
	[[ -n "${_H_PROXY_CTL[$name]:-}" ]] || fail "no proxy named '$name'"
	out=$("$FAULTPROXY" -c "${_H_PROXY_CTL[$name]}" "$@") || rc=$?
	((rc == 0)) || fail "proxy $name: '$*' answered: $out"
	printf '%s\n' "$out"
}
proxy_stat() {
	proxy_ctl "$1" stats | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# The password must never appear in a file.
assert_no_password() {
	local f
	for f in "$@"; do
		if [[ -f "$f" ]] && grep -q -F -- "$HARNESS_PASSWORD" "$f"; then
			fail "the password appears in $f"
		fi
	done
}

# Prints the binlog files of a server's datadir, oldest first, as paths
# (from its mysql-bin.index).
binlogs() {
	local datadir=$1
	sed 's|^\./||' "$datadir/mysql-bin.index" | while IFS= read -r f; do
		printf '%s/%s\n' "$datadir" "$(basename "$f")"
	done
}

# expect_error NAME REGEX ARGS...: sluice ARGS must exit 2; its last stderr
# line must match REGEX (extended, case-insensitive) and be the only line
# that is not a log line (log lines start with a timestamp digit); no
# password (the harness's, or URL_PASSWORD when a test sets one) in any
# output. Counts the cases in NCASE.
expect_error() {
	local name=$1 re=$2 rc=0 last others
	shift 2
	NCASE=$((${NCASE:-0} + 1))
	run_sluice "$name" "$@" || rc=$?
	if ((rc != 2)); then
		echo "--- stderr of sluice $* ---" >&2
		tail -n 10 "$WORK/$name.err" >&2
		fail "$name: exit status $rc, want 2 (sluice $*)"
	fi
	last=$(grep -v '^[[:space:]]*$' "$WORK/$name.err" | tail -n 1 || true)
	[[ -n "$last" ]] || fail "$name: exit 2 but nothing on stderr"
	if ! grep -q -E -i -- "$re" <<<"$last"; then
		fail "$name: message does not name the cause (want /$re/): $last"
	fi
	others=$(grep -v '^[[:space:]]*$' "$WORK/$name.err" | grep -c -v '^[0-9]' || true)
	if ((others != 1)); then
		echo "--- stderr ---" >&2
		cat "$WORK/$name.err" >&2
		fail "$name: want one error line on stderr, got $others non-log lines"
	fi
	assert_no_password "$WORK/$name.out" "$WORK/$name.err"
	if [[ -n "${URL_PASSWORD:-}" ]] && grep -q -F -- "$URL_PASSWORD" "$WORK/$name.out" "$WORK/$name.err"; then
		fail "$name: the password given in the URL was printed"
	fi
	log "ok $name: $last"
}
