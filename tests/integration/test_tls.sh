#!/usr/bin/env bash
# TLS: one policy for every connection (db/db_conn.c, README "URLs and
# passwords"). Both servers present a certificate signed by a test CA for
# the name wrong.example, not 127.0.0.1: a connection that checks the host
# name must refuse it, whichever command opens it; one that checks only the
# chain (ssl-mode=verify-ca) or nothing (required) connects; and the
# certificate is checked whenever an ssl-* file is given, also by replay
# with a client certificate and no CA (which used to connect unchecked).
# Every command that connects (capture, replay, verify, precheck, snapshot,
# migrate) refuses a wrong host name and a wrong CA. A third server has no
# TLS: ssl-mode=required, ssl-ca, and ssl-ca with verify-ca are each refused
# by every command (the last two used to fall back to plain text: issue 14).
# On the wire (faultproxy -r records the source's traffic): with ssl-ca no row
# text and no statement crosses in clear; without TLS they do.
set -euo pipefail
TEST_NAME=test_tls
# shellcheck source=tests/integration/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

export SLUICE_TIMEOUT=${SLUICE_TIMEOUT:-90}

# expect_refused NAME REGEX ARGS...: exit 2, the last stderr line matches.
expect_refused() {
	local name=$1 re=$2 rc=0 last
	shift 2
	run_sluice "$name" "$@" || rc=$?
	((rc == 2)) || { tail -n 5 "$WORK/$name.err" >&2; fail "$name: exit status $rc, want 2"; }
	last=$(grep -v '^[[:space:]]*$' "$WORK/$name.err" | tail -n 1 || true)
	grep -q -E -i -- "$re" <<<"$last" || fail "$name: want /$re/: $last"
	assert_no_password "$WORK/$name.out" "$WORK/$name.err"
	log "ok $name: $last"
}

make_certs() {
	local c=$1
	command -v openssl >/dev/null || _require "openssl not installed"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sluice test CA" \
		-keyout "$c/ca-key.pem" -out "$c/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=wrong.example" \
		-keyout "$c/server-key.pem" -out "$c/server.csr" 2>/dev/null
	printf 'subjectAltName=DNS:wrong.example\n' >"$c/ext.cnf"
	openssl x509 -req -in "$c/server.csr" -CA "$c/ca.pem" -CAkey "$c/ca-key.pem" \
		-CAcreateserial -days 2 -extfile "$c/ext.cnf" -out "$c/server.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=sluice client" \
		-keyout "$c/client-key.pem" -out "$c/client.csr" 2>/dev/null
	openssl x509 -req -in "$c/client.csr" -CA "$c/ca.pem" -CAkey "$c/ca-key.pem" \
		-CAcreateserial -days 2 -out "$c/client.pem" 2>/dev/null
	chmod 644 "$c"/*.pem
}

main() {
	local c d q
	require_sluice
	c=$(mktemp -d "${TMPDIR:-/tmp}/sluice-tls.XXXXXX")
	on_exit "rm -rf '$c'"
	make_certs "$c"
	export HARNESS_MARIADBD_ARGS="--ssl-ca=$c/ca.pem --ssl-cert=$c/server.pem --ssl-key=$c/server-key.pem"
	start_servers 2
	d=$WORK/stream
	mkdir -p "$d"

	# capture: the host name is checked by default when ssl-ca is given
	expect_refused cap_identity 'cannot connect to source.*(certificate|ssl|tls|valid)' \
		capture --source "${SRC_URL}?ssl-ca=$c/ca.pem" --dir "$d"
	expect_refused cap_wrong_ca 'cannot connect to source.*(certificate|ssl|tls|verif)' \
		capture --source "${SRC_URL}?ssl-ca=$c/client.pem&ssl-mode=verify-ca" --dir "$d"
	must_sluice cap_ca capture --source "${SRC_URL}?ssl-ca=$c/ca.pem&ssl-mode=verify-ca" --dir "$d"
	src_sql -e "CREATE DATABASE tls; CREATE TABLE tls.t (id INT PRIMARY KEY, v VARCHAR(10));
		INSERT INTO tls.t VALUES (1,'a'),(2,'b')"
	must_sluice cap_required capture --source "${SRC_URL}?ssl-mode=required" --dir "$d"

	# replay: the same policy (it used to skip the check without ssl-ca)
	q="ssl-cert=$c/client.pem&ssl-key=$c/client-key.pem"
	expect_refused rep_cert_no_ca 'cannot connect to destination.*(certificate|ssl|tls|verif)' \
		replay --dir "$d" --dest "${DST_URL}?$q"
	expect_refused rep_identity 'cannot connect to destination.*(certificate|ssl|tls|valid)' \
		replay --dir "$d" --dest "${DST_URL}?ssl-ca=$c/ca.pem"
	expect_refused rep_disabled_with_ca 'ssl-mode=disabled' \
		replay --dir "$d" --dest "${DST_URL}?ssl-ca=$c/ca.pem&ssl-mode=disabled"
	must_sluice rep_ca replay --dir "$d" --dest "${DST_URL}?ssl-ca=$c/ca.pem&$q&ssl-mode=verify-ca"

	# verify: the same policy again
	expect_refused ver_identity 'cannot connect to (the )?source.*(certificate|ssl|tls|valid)' \
		verify --source "${SRC_URL}?ssl-ca=$c/ca.pem" --dest "${DST_URL}?ssl-mode=required"
	must_sluice ver_ca verify --source "${SRC_URL}?ssl-ca=$c/ca.pem&ssl-mode=verify-ca" \
		--dest "${DST_URL}?ssl-ca=$c/ca.pem&ssl-mode=verify-ca"
	compare_all

	# precheck, snapshot and migrate: the same policy (one db_connect)
	expect_refused pre_identity 'cannot connect to source.*(certificate|ssl|tls|valid)' \
		precheck --source "${SRC_URL}?ssl-ca=$c/ca.pem" --dest "${DST_URL}?ssl-ca=$c/ca.pem&ssl-mode=verify-ca"
	expect_refused pre_dest_wrong_ca 'cannot connect to destination.*(certificate|ssl|tls|verif)' \
		precheck --source "${SRC_URL}?ssl-ca=$c/ca.pem&ssl-mode=verify-ca" \
		--dest "${DST_URL}?ssl-ca=$c/client.pem&ssl-mode=verify-ca"
	expect_refused snap_identity 'cannot connect to source.*(certificate|ssl|tls|valid)' \
		snapshot --source "${SRC_URL}?ssl-ca=$c/ca.pem" --dir "$WORK/snap0"
	expect_refused snap_wrong_ca 'cannot connect to source.*(certificate|ssl|tls|verif)' \
		snapshot --source "${SRC_URL}?ssl-ca=$c/client.pem&ssl-mode=verify-ca" --dir "$WORK/snap0"
	expect_refused mig_identity 'cannot connect to (the )?source.*(certificate|ssl|tls|valid)' \
		migrate --source "${SRC_URL}?ssl-ca=$c/ca.pem" --dest "${DST_URL}?ssl-mode=required" \
		--dir "$WORK/mig0" --no-progress
	[[ ! -e $WORK/mig0/snapshot ]] || fail "migrate started a snapshot on a refused source"

	# TLS wanted, the server has none: refused, never plain text
	export HARNESS_MARIADBD_ARGS=""
	start_server 3
	local plain="mysql://sluice@127.0.0.1:${_H_PORTS[2]}/" m k=0
	for m in "ssl-mode=required" "ssl-ca=$c/ca.pem" "ssl-ca=$c/ca.pem&ssl-mode=verify-ca"; do
		k=$((k + 1))
		expect_refused "cap_notls$k" 'cannot connect to source.*(ssl|tls)' \
			capture --source "$plain?$m" --dir "$WORK/notls"
		expect_refused "rep_notls$k" 'cannot connect to destination.*(ssl|tls)' \
			replay --dir "$d" --dest "$plain?$m"
		expect_refused "ver_notls$k" 'cannot connect to (the )?destination.*(ssl|tls)' \
			verify --source "${SRC_URL}?ssl-mode=required" --dest "$plain?$m"
		expect_refused "pre_notls$k" 'cannot connect to source.*(ssl|tls)' \
			precheck --source "$plain?$m"
		expect_refused "snap_notls$k" 'cannot connect to source.*(ssl|tls)' \
			snapshot --source "$plain?$m" --dir "$WORK/notls-snap"
		expect_refused "mig_notls$k" 'cannot connect to (the )?source.*(ssl|tls)' \
			migrate --source "$plain?$m" --dest "${DST_URL}?ssl-mode=required" --dir "$WORK/notls-mig" \
			--no-progress
	done
	[[ -z $(find "$WORK/notls" "$WORK/notls-snap" "$WORK/notls-mig" \( -name '*.seg' -o -name '*.open' \) 2>/dev/null) ]] ||
		fail "a refused connection left segments behind"
	wire_check "$c"
	log "PASS"
}

# On the wire: the source's traffic through the fault proxy recording what
# it carries (faultproxy -r). With ssl-ca none of a row's text shows
# (migrate's snapshot and capture children, capture of the binlog); the same
# proxy without TLS shows it, so the check can see plain text.
wire_check() {
	local c=$1 tap=$WORK/tap marker="wire-marker-$RANDOM$RANDOM" url
	mkdir -p "$tap"
	start_proxy wiretls "$SRC_PORT" 127.0.0.1 "$tap/tls.bin"
	url="mysql://sluice@127.0.0.1:$PROXY_PORT/?ssl-ca=$c/ca.pem&ssl-mode=verify-ca"
	src_sql -e "CREATE DATABASE wire; CREATE TABLE wire.t (id INT PRIMARY KEY, v VARCHAR(60));
		INSERT INTO wire.t VALUES (1, '$marker')"
	must_sluice wire_mig migrate --source "$url" --dest "mysql://sluice@127.0.0.1:${_H_PORTS[2]}/" \
		--dir "$WORK/wire-mig" --include wire --no-progress
	must_sluice wire_cap capture --source "$url" --dir "$WORK/wire-cap" --from-start
	[[ $(stat -c %s "$tap/tls.bin") -gt 10000 ]] || fail "the proxy carried almost nothing: $(stat -c %s "$tap/tls.bin") bytes"
	! grep -q -a -F -- "$marker" "$tap/tls.bin" || fail "a row's text crossed the wire in clear with ssl-ca"
	! grep -q -a -F -- "wire.t" "$tap/tls.bin" || fail "a statement crossed the wire in clear with ssl-ca"
	start_proxy wireplain "$SRC_PORT" 127.0.0.1 "$tap/plain.bin"
	must_sluice wire_plain capture --source "mysql://sluice@127.0.0.1:$PROXY_PORT/" \
		--dir "$WORK/wire-plain" --from-start
	grep -q -a -F -- "$marker" "$tap/plain.bin" || fail "the proxy does not see plain text: the check is blind"
	log "ok on the wire: $(stat -c %s "$tap/tls.bin") bytes with ssl-ca, no plain text"
}

main "$@"
