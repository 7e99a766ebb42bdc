#!/usr/bin/env bash
# Installs the Debian packages sluice needs to build, test and benchmark,
# only the ones that are missing. Idempotent and quick when all are present
# (one dpkg-query, no network).
#
#   scripts/install-deps.sh            build + test packages (bench packages too, best effort:
#                                      sysbench, mydumper for bench/bench_migrate.sh's peer, zstd and
#                                      gnuplot-nox for bench/run's segment-size peer and charts)
#   scripts/install-deps.sh --no-bench skip the bench packages
set -euo pipefail

required=(
	cmake gcc make pkg-config
	libmariadb-dev libzstd-dev liburing-dev
	libprotobuf-c-dev protobuf-c-compiler
	libcunit1-dev zlib1g-dev libssl-dev
	mariadb-server mariadb-client
	python3 clang libclang-rt-14-dev
	faketime
	nats-server libnats-dev
)
optional=(sysbench mydumper zstd gnuplot-nox)

if [[ "${1:-}" == "--no-bench" ]]; then
	optional=()
fi

# Prints the names of the given packages that are not fully installed.
missing_of() {
	local pkg status
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		if [[ "$status" != "installed" ]]; then
			printf '%s\n' "$pkg"
		fi
	done
}

mapfile -t need < <(missing_of "${required[@]}")
mapfile -t want < <(missing_of "${optional[@]+"${optional[@]}"}")

if ((${#need[@]} == 0 && ${#want[@]} == 0)); then
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "install-deps: missing packages (${need[*]} ${want[*]}) and not root" >&2
		exit 2
	fi
else
	SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${need[*]} ${want[*]}" >&2
"${SUDO[@]+"${SUDO[@]}"}" apt-get update -qq
if ((${#need[@]} > 0)); then
	"${SUDO[@]+"${SUDO[@]}"}" apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if ((${#want[@]} > 0)); then
	# Only the benchmark uses these: a failure here is not fatal.
	"${SUDO[@]+"${SUDO[@]}"}" apt-get install -y -qq --no-install-recommends "${want[@]}" ||
		echo "install-deps: optional packages ${want[*]} not installed (bench only)" >&2
fi

mapfile -t still < <(missing_of "${required[@]}")
if ((${#still[@]} > 0)); then
	echo "install-deps: still missing after apt-get: ${still[*]}" >&2
	exit 2
fi
