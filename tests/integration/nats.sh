# nats.sh - a NATS JetStream cluster on loopback for the ship/receive tests
# and bench/bench_ship.sh. Source it after harness.sh:
#
#   start_nats 3        three nats-server nodes with JetStream (file storage
#                       in temp dirs, free client and route ports), clustered;
#                       sets NATS_URL=nats://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3
#                       (a stream's URL is "$NATS_URL/NAME") and waits until
#                       the cluster has a JetStream meta leader
#   kill_nats I         kill -9 of node I (1-based)
#   stop_nats I         a clean stop (SIGTERM) of node I
#   restart_nats I      start node I again on its ports and store (after kill/stop)
#   nats_alive I        0 when node I runs
# Every node is stopped and its directory removed at teardown (on failure too).

declare -a _N_DIRS=() _N_PIDS=() _N_PORTS=() _N_ROUTES=()

_nats_require() {
	command -v nats-server >/dev/null 2>&1 ||
		_require "nats-server not installed (scripts/install-deps.sh installs it)"
}

# _nats_launch I: starts node I from its config in the background.
_nats_launch() {
	local i=$1 dir=${_N_DIRS[$(($1 - 1))]}
	nats-server -c "$dir/nats.conf" >>"$dir/nats.log" 2>&1 &
	_N_PIDS[i - 1]=$!
}

# _nats_wait_port I: until node I accepts connections (20 s).
_nats_wait_port() {
	local i=$1 port=${_N_PORTS[$(($1 - 1))]}
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		kill -0 "${_N_PIDS[$((i - 1))]}" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "${_N_DIRS[$((i - 1))]}/nats.log" >&2 || true
	fail "nats node $i did not start on port $port"
}

# _nats_js_ready: until some node reports a JetStream meta leader (30 s).
_nats_js_ready() {
	local i
	for _ in $(seq 1 300); do
		for i in "${!_N_DIRS[@]}"; do
			if grep -q -E 'JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader' \
				"${_N_DIRS[$i]}/nats.log" 2>/dev/null; then
				return 0
			fi
		done
		sleep 0.1
	done
	fail "the nats cluster elected no JetStream meta leader in 30 s"
}

start_nats() {
	local n=${1:-3} i j dir routes urls=""
	_nats_require
	for ((i = 1; i <= n; i++)); do
		_N_PORTS[i - 1]=$(free_port)
		_N_ROUTES[i - 1]=$(free_port)
		_N_DIRS[i - 1]=$(mktemp -d "${TMPDIR:-/tmp}/sluice-nats$i.XXXXXX")
	done
	for ((i = 1; i <= n; i++)); do
		dir=${_N_DIRS[$((i - 1))]}
		routes=""
		for ((j = 1; j <= n; j++)); do
			((j == i)) || routes+="${routes:+, }\"nats-route://127.0.0.1:${_N_ROUTES[$((j - 1))]}\""
		done
		{
			echo "server_name: n$i"
			echo "listen: 127.0.0.1:${_N_PORTS[$((i - 1))]}"
			echo "jetstream { store_dir: \"$dir/js\", max_file_store: 4G, max_memory_store: 64M }"
			if ((n > 1)); then
				echo "cluster { name: sluice, listen: 127.0.0.1:${_N_ROUTES[$((i - 1))]}, routes: [ $routes ] }"
			fi
		} >"$dir/nats.conf"
		_nats_launch "$i"
		urls+="${urls:+,}127.0.0.1:${_N_PORTS[$((i - 1))]}"
	done
	for ((i = 1; i <= n; i++)); do
		_nats_wait_port "$i"
	done
	# a single node is no cluster: it elects no meta leader, it is ready
	((n > 1)) && _nats_js_ready
	NATS_URL="nats://$urls"
	export NATS_URL
	log "nats cluster of $n up: $NATS_URL"
}

nats_alive() {
	local pid=${_N_PIDS[$(($1 - 1))]:-}
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

kill_nats() {
	local pid=${_N_PIDS[$(($1 - 1))]}
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	log "nats node $1 killed (kill -9)"
}

stop_nats() {
	local pid=${_N_PIDS[$(($1 - 1))]}
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	log "nats node $1 stopped"
}

restart_nats() {
	_nats_launch "$1"
	_nats_wait_port "$1"
	log "nats node $1 restarted"
}

_nats_teardown() {
	local i pid
	for i in "${!_N_DIRS[@]}"; do
		pid=${_N_PIDS[$i]:-}
		if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
		if [[ "${SLUICE_KEEP:-0}" != "1" ]]; then
			rm -rf -- "${_N_DIRS[$i]}"
		fi
	done
}
on_exit _nats_teardown
