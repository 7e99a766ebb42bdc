#!/usr/bin/env bash
# Credentials canary (issue 14 item 5, RELIABILITY.md S3): one unique
# password, given through the URL, through SLUICE_SOURCE_PASSWORD /
# SLUICE_DEST_PASSWORD and through ?password-file=, must occur zero times in
# /proc/PID/cmdline of sluice and of migrate's children, in the output at
# SLUICE_LOG=debug (a failed login's error included), in segments (decoded
# with inspect: the source's binlog holds the canary in clear, in an account
# statement), pack bundles, status output, --metrics files and migrate's
# state and journal files. Every sluice process runs with core dumps off:
# RLIMIT_CORE 0 (/proc/PID/limits) and not dumpable (/proc/PID/* owned by
# root for a process of another user: ptrace access rules).
# Prints: RESULT canary trials=N lost=0 dup=0 occurrences=0 ...
set -euo pipefail
TEST_NAME=test_canary
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
require_sluice
export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-120}
export SLUICE_LOG=debug

CANARY="cAnAry-$$-$RANDOM$RANDOM-zq"
SECRET=$(mktemp -d "${TMPDIR:-/tmp}/sluice-canary-secret.XXXXXX")	# the password file: not scanned
on_exit "rm -rf '$SECRET'"
printf '%s\n' "$CANARY" >"$SECRET/pw"
chmod 600 "$SECRET/pw"
SCAN=$WORK/scan	# everything sluice printed or wrote that must not hold the canary
mkdir -p "$SCAN"
NPROC=0 NFILES=0

# A soft core limit above 0, so "0 in sluice" is sluice's doing, not the shell's.
ulimit -S -c "$(ulimit -H -c)" 2>/dev/null || true
SHELL_CORE=$(ulimit -S -c)

start_servers 2
for n in 1 2; do
	srv_sql "$n" -e "CREATE USER 'canary'@'127.0.0.1' IDENTIFIED BY '$CANARY';
		GRANT ALL PRIVILEGES ON *.* TO 'canary'@'127.0.0.1'"
done
src_sql <<'SQL'
CREATE DATABASE app;
CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(40));
INSERT INTO app.t VALUES (1, 'one'), (2, 'two');
SQL
HOSTSRC="127.0.0.1:$SRC_PORT/"
HOSTDST="127.0.0.1:$DST_PORT/"
URLSRC="mysql://canary:$CANARY@$HOSTSRC"
URLDST="mysql://canary:$CANARY@$HOSTDST"
FILESRC="mysql://canary@$HOSTSRC?password-file=$SECRET/pw"
FILEDST="mysql://canary@$HOSTDST?password-file=$SECRET/pw"
ENVSRC="mysql://canary@$HOSTSRC"
ENVDST="mysql://canary@$HOSTDST"
# only the mode under test gives the password
unset SLUICE_SOURCE_PASSWORD SLUICE_DEST_PASSWORD

# check_proc PID LABEL: the canary is not in its argv; core dumps are off.
check_proc() {
	local pid=$1 label=$2 core
	[[ -r /proc/$pid/cmdline ]] || return 0
	tr '\0' ' ' <"/proc/$pid/cmdline" >"$SCAN/cmdline.$label.$pid" || true
	grep -q 'sluice' "$SCAN/cmdline.$label.$pid" || return 0
	core=$(awk '/^Max core file size/ {print $5}' "/proc/$pid/limits")
	[[ "$core" == 0 ]] || fail "$label (pid $pid) may dump core: RLIMIT_CORE soft limit $core (the shell's: $SHELL_CORE)"
	NPROC=$((NPROC + 1))
}

# check_tree PID LABEL: PID and every descendant.
check_tree() {
	local pid=$1 label=$2 c
	check_proc "$pid" "$label"
	for c in $(pgrep -P "$pid" || true); do
		check_tree "$c" "$label"
	done
}

# 1. the URL: migrate --follow, whose children get the password through
#    their environment; an account statement with the canary in clear goes
#    through the source's binlog meanwhile
D1=$WORK/d1
mkdir -p "$WORK/mx"
start_bg mig migrate --source "$URLSRC" --dest "$URLDST" --dir "$D1" --metrics-dir "$WORK/mx" --follow --no-progress
MPID=$BG_PID
wait_line mig "$MPID" 'following: capture and replay keep running' 120
src_sql -e "CREATE USER 'other'@'%' IDENTIFIED BY '$CANARY'; ALTER USER 'other'@'%' IDENTIFIED BY '$CANARY';
	INSERT INTO app.t VALUES (3, 'three')"
wait_equal 60 || fail "migrate --follow did not carry the insert"
kids=$(pgrep -P "$MPID" | wc -l)
((kids >= 2)) || fail "migrate --follow runs $kids children, want capture and replay"
check_tree "$MPID" migrate
stop_bg "$MPID" mig TERM
cp "$WORK"/mig.* "$SCAN/"
cp -r "$WORK/mx" "$SCAN/metrics-mig"

# 2. the environment: capture, replay and verify with --metrics, at debug
D2=$WORK/d2
export SLUICE_SOURCE_PASSWORD=$CANARY SLUICE_DEST_PASSWORD=$CANARY
dst_sql -e "DROP DATABASE app; DROP DATABASE IF EXISTS sluice"
start_bg cap capture --source "$ENVSRC" --dir "$D2" --from-start --follow --metrics "$SCAN/cap.prom"
CPID=$BG_PID
wait_line cap "$CPID" '.' 30
sleep 1
check_tree "$CPID" capture-env
src_sql -e "INSERT INTO app.t VALUES (4, 'four'); SET PASSWORD FOR 'other'@'%' = PASSWORD('$CANARY')"
stop_bg "$CPID" cap TERM
must_sluice cap_env2 capture --source "$ENVSRC" --dir "$D2" --metrics "$SCAN/cap2.prom"	# up to the binlog's end
cp "$WORK"/cap.* "$SCAN/"
must_sluice rep_env replay --dir "$D2" --dest "$ENVDST" --metrics "$SCAN/rep.prom"
must_sluice ver_env verify --source "$ENVSRC" --dest "$ENVDST"
must_sluice st_env status "$D2" --dest "$ENVDST"
run_sluice pre_env precheck --source "$ENVSRC" --dest "$ENVDST" --dir "$WORK/pd" || true	# tables in the way: 2
grep -q -E 'pass +source +privileges' "$WORK/pre_env.out" || fail "precheck with the env password did not log in"
unset SLUICE_SOURCE_PASSWORD SLUICE_DEST_PASSWORD

# 3. the password file: capture, snapshot, replay, verify, status
D3=$WORK/d3
start_bg capf capture --source "$FILESRC" --dir "$D3" --follow
FPID=$BG_PID
wait_line capf "$FPID" '.' 30
sleep 1
check_tree "$FPID" capture-file
stop_bg "$FPID" capf TERM
cp "$WORK"/capf.* "$SCAN/"
must_sluice snap_file snapshot --source "$FILESRC" --dir "$D3"
must_sluice ver_file verify --source "$FILESRC" --dest "$FILEDST"
must_sluice st_file status "$D3" --dest "$FILEDST"

# 4. a failed login in each mode (an account that does not exist, with the
#    canary as its password): one error line, no canary
for m in url env file; do
	case $m in
	url) u="mysql://ghost:$CANARY@$HOSTSRC" ;;
	env) u="mysql://ghost@$HOSTSRC"; export SLUICE_SOURCE_PASSWORD=$CANARY ;;
	file) u="mysql://ghost@$HOSTSRC?password-file=$SECRET/pw" ;;
	esac
	expect_error "login_$m" 'cannot connect to source.*access denied' capture --source "$u" --dir "$WORK/dl"
	expect_error "vlogin_$m" 'access denied' verify --source "$u" --dest "$URLDST"
	unset SLUICE_SOURCE_PASSWORD
done

# a password file group or others may read is refused before it is read
install -m 644 "$SECRET/pw" "$SECRET/pw644"
expect_error pwfile_mode "password file '.*pw644' is readable by group or others \(mode 0644\)" \
	capture --source "mysql://canary@$HOSTSRC?password-file=$SECRET/pw644" --dir "$WORK/dm"
[[ ! -e $WORK/dm ]] || fail "capture with a readable password file created its DIR"

# 5. what was written: segments decoded, bundles, status, state and journal
for d in "$D1" "$D2" "$D3"; do
	must_sluice "inspect_$(basename "$d")" inspect "$d"
	if [[ -d $d/snapshot ]]; then
		must_sluice "inspect_snap_$(basename "$d")" inspect "$d" --snapshot
	fi
	must_sluice "status_$(basename "$d")" status "$d"
done
must_sluice pack pack "$D1" --out "$SCAN/bundle"
cp "$WORK"/*.out "$WORK"/*.err "$SCAN/" 2>/dev/null || true
cp -r "$D1" "$D2" "$D3" "$SCAN/"
grep -q -E 'accounts' "$WORK/status_d2.out" || fail "status of the env run does not count account statements"

NFILES=$(find "$SCAN" -type f | wc -l)
occ=$(grep -r -a -o -F -- "$CANARY" "$SCAN" | wc -l || true)
if ((occ != 0)); then
	grep -r -a -l -F -- "$CANARY" "$SCAN" >&2 || true
fi
# the check can find it: the same scan over the password file counts 1
probe=$(grep -a -o -F -- "$CANARY" "$SECRET/pw" | wc -l)
((probe == 1)) || fail "the scan does not find the canary where it is ($probe)"
echo "RESULT canary trials=3 lost=0 dup=0 occurrences=$occ processes=$NPROC files=$NFILES"
((occ == 0)) || fail "the canary password occurs $occ times in sluice's argv, output or files"
((NPROC >= 4)) || fail "only $NPROC sluice processes were checked"

# 6. not dumpable: a process of another user has its /proc/PID files owned
#    by root (a dumpable one: by its own user), so neither a core file nor a
#    same-user reader gets its memory or environment
if command -v setpriv >/dev/null && [[ $(id -u) == 0 ]]; then
	D4=$(mktemp -d "${TMPDIR:-/tmp}/sluice-canary-nobody.XXXXXX")
	on_exit "rm -rf '$D4'"
	chmod 777 "$D4"
	SLUICE_SOURCE_PASSWORD=$CANARY setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SLUICE" capture --source "$ENVSRC" --dir "$D4/s" --follow >"$WORK/nobody.out" 2>"$WORK/nobody.err" &
	NPID=$!
	track_pid "$NPID"
	for _ in $(seq 1 50); do
		[[ -s $WORK/nobody.err ]] && break
		sleep 0.1
	done
	kill -0 "$NPID" 2>/dev/null || { cat "$WORK/nobody.err" >&2; fail "capture as nobody ended early"; }
	owner=$(stat -c %U "/proc/$NPID/environ")
	kill -TERM "$NPID"
	wait "$NPID" || true
	[[ "$owner" == root ]] || fail "sluice is dumpable: /proc/PID/environ of a capture run as nobody is owned by $owner"
	log "ok not dumpable: /proc/PID/environ of a capture run as nobody is owned by $owner"
else
	log "not root or no setpriv: the dumpable check is left out"
fi
log "PASS"
