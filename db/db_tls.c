/* db_tls.c - after connecting: a connection whose ssl-mode wants TLS is encrypted, or it is closed. */
#include "db.h"

#include "banned.h"

/*
 * MariaDB Connector/C 3.3 enforces TLS only together with the host name
 * check: with MYSQL_OPT_SSL_ENFORCE and no MYSQL_OPT_SSL_VERIFY_SERVER_CERT
 * (ssl-mode=required, verify-ca) a server that does not offer TLS gets a
 * plain-text connection (libmariadb plugins/auth/my_auth.c: "use_ssl= 0").
 * So every connection that was asked for TLS is checked here, once, after the
 * handshake: no cipher means plain text, and the connection is refused before
 * any statement runs on it. The handshake itself already ran in plain text:
 * the password did not cross (mysql_native_password sends a scramble, and
 * the library refuses clear-text plugins), but that scramble did.
 */
int db_tls_check(MYSQL *m, const struct sl_dsn *d, const char *who, struct sl_err *err)
{
	const char *cipher;

	if (d->ssl_mode == SL_SSL_DISABLED)
		return 0;
	cipher = mysql_get_ssl_cipher(m);
	if (cipher && cipher[0])
		return 0;
	return sl_err_set(err, -SL_EDB,
			  "cannot connect to %s: the server does not offer TLS and ssl-mode=%s wants it: "
			  "refusing a plain-text connection", who, sl_ssl_mode_name(d->ssl_mode));
}
