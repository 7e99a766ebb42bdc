#!/usr/bin/env bash
# TLS: one policy for every connection (db/db_conn.c, README "URLs and
# passwords"). Both servers present a certificate signed by a test CA for
# the name wrong.example, not 127.0.0.1: a connection that checks the host
# name must refuse it, whichever command opens it; one that checks only the
# chain (ssl-mode=verify-ca) or nothing (required) connects; and the
# certificate is checked whenever an ssl-* file is given, also by replay
# with a client certificate and no CA (which used to connect unchecked).
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
	log "PASS"
}

main "$@"
