/* db_conn.c - opening a connection: TLS policy, timeouts and session set-up per role. */
#include "db.h"
#include "fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "banned.h"

#define DB_MAX_PACKET (1UL << 30)	/* the protocol's limit */

const char *db_role_side(enum db_role role)
{
	switch (role) {
	case DB_ROLE_SOURCE_STREAM:
	case DB_ROLE_VERIFY_SOURCE:
	case DB_ROLE_SNAPSHOT:
		return "source";
	case DB_ROLE_REPLAY_WORKER:
	case DB_ROLE_REPLAY_CONTROL:
	case DB_ROLE_REPLAY_LOAD:
	case DB_ROLE_VERIFY_DEST:
		return "destination";
	}
	return "server";
}

void db_role_timeouts(const struct db_opts *o, struct db_timeouts *t)
{
	switch (o->role) {
	case DB_ROLE_SOURCE_STREAM: {
		uint64_t hb = o->heartbeat_ms ? o->heartbeat_ms : 200;
		uint64_t r = (5 * hb + 999) / 1000;

		t->connect_s = 10;
		t->read_s = r > 15 ? (unsigned)(r > 86400 * 7 ? 86400 * 7 : r) : 15;
		t->write_s = 60;
		return;
	}
	case DB_ROLE_REPLAY_WORKER:
		t->connect_s = 30;
		t->read_s = 3600;
		t->write_s = 600;
		return;
	case DB_ROLE_REPLAY_LOAD:
		/* one chunk (at most ~8 MiB of rows, or one big row) per
		 * statement: a server silent for 10 minutes is stuck, and the
		 * error names the chunk (index builds run on a control-role
		 * connection, replay/rep_snapshot.c) */
		t->connect_s = 30;
		t->read_s = 600;
		t->write_s = 600;
		return;
	case DB_ROLE_REPLAY_CONTROL:
		t->connect_s = 30;
		t->read_s = 86400;
		t->write_s = 600;
		return;
	case DB_ROLE_VERIFY_SOURCE:
	case DB_ROLE_VERIFY_DEST:
	case DB_ROLE_SNAPSHOT:
		t->connect_s = 20;
		t->read_s = 86400;
		t->write_s = 600;
		return;
	}
	sl_bug("unknown role %d", (int)o->role);
}

int db_exec(MYSQL *m, const char *who, const char *sql, struct sl_err *err)
{
	int st;

	if (mysql_real_query(m, sql, strlen(sql)))
		goto fail;
	do {
		MYSQL_RES *res = mysql_store_result(m);

		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(m))
			goto fail;
	} while ((st = mysql_next_result(m)) == 0);
	if (st > 0)
		goto fail;
	return 0;
fail:
	return db_stmt_error(err, m, who, sql, strlen(sql));
}

/* Unknown names are left out (db.h). */
int db_set_sql_mode(MYSQL *m, const char *who, const char *mode, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED), kept = SL_BUF_INIT(SL_BUF_UNLIMITED);
	char *names = sl_xstrdup(mode), *p = names;
	int rc = 0;

	sl_buf_adds(&q, "SET SESSION sql_mode=");
	fmt_sql_str(&q, mode);
	if (mysql_real_query(m, sl_buf_cstr(&q), q.len) == 0)
		goto out;
	if (mysql_errno(m) != 1231) {	/* ER_WRONG_VALUE_FOR_VAR */
		rc = db_stmt_error(err, m, who, sl_buf_cstr(&q), q.len);
		goto out;
	}
	while (p && *p) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = 0;
		sl_buf_reset(&q);
		sl_buf_adds(&q, "SET SESSION sql_mode=");
		fmt_sql_str(&q, p);
		if (mysql_real_query(m, sl_buf_cstr(&q), q.len) == 0) {
			if (kept.len)
				sl_buf_addc(&kept, ',');
			sl_buf_adds(&kept, p);
		} else if (mysql_errno(m) == 1231) {
			sl_log(SL_WARN, "db", "sql_mode %s is unknown to %s: left out", p, who);
		} else {
			rc = db_stmt_error(err, m, who, sl_buf_cstr(&q), q.len);
			goto out;
		}
		p = comma ? comma + 1 : NULL;
	}
	sl_buf_reset(&q);
	sl_buf_adds(&q, "SET SESSION sql_mode=");
	fmt_sql_str(&q, kept.len ? sl_buf_cstr(&kept) : "");
	if (mysql_real_query(m, sl_buf_cstr(&q), q.len))
		rc = db_stmt_error(err, m, who, sl_buf_cstr(&q), q.len);
out:
	free(names);
	sl_buf_release(&q);
	sl_buf_release(&kept);
	return rc;
}

/* The TLS policy (db.h): one mapping from the URL's ssl-mode to the library. */
static void set_tls(MYSQL *m, const struct sl_dsn *d)
{
	my_bool on = 1, verify;

	if (d->ssl_mode == SL_SSL_DISABLED)
		return;
	/* With a CA the library checks the chain during the handshake; the
	 * "verify server cert" switch adds the host name check (and, with no
	 * CA, fails on a certificate it cannot trust). */
	mysql_ssl_set(m, d->ssl_key, d->ssl_cert, d->ssl_ca, NULL, NULL);
	mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
	verify = d->ssl_mode == SL_SSL_VERIFY_IDENTITY;
	mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
}

static int session(MYSQL *m, const char *who, const struct db_opts *o, struct sl_err *err)
{
	char sql[512];

	switch (o->role) {
	case DB_ROLE_SOURCE_STREAM:
		return 0;
	case DB_ROLE_REPLAY_WORKER:
	case DB_ROLE_REPLAY_CONTROL:
		if (!o->sql_mode)
			sl_bug("a replay connection needs its sql_mode");
		/* Workers check foreign keys like the source did, so the
		 * destination runs its ON DELETE/UPDATE actions (the binlog does
		 * not carry the rows they change); the control connection (DDL)
		 * does not. */
		snprintf(sql, sizeof(sql), "SET NAMES utf8mb4;SET SESSION time_zone='+00:00',sql_mode='%s'"
			 ",sql_notes=1,foreign_key_checks=%d,autocommit=0;"
			 "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", o->sql_mode,
			 o->role == DB_ROLE_REPLAY_WORKER ? 1 : 0);
		return db_exec(m, who, sql, err);
	case DB_ROLE_REPLAY_LOAD:
		if (!o->sql_mode)
			sl_bug("a replay connection needs its sql_mode");
		snprintf(sql, sizeof(sql), "SET NAMES utf8mb4;SET SESSION time_zone='+00:00',sql_mode='%s'"
			 ",sql_notes=1,foreign_key_checks=0,unique_checks=0,autocommit=0;"
			 "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", o->sql_mode);
		return db_exec(m, who, sql, err);
	case DB_ROLE_VERIFY_SOURCE:
	case DB_ROLE_VERIFY_DEST:
		return db_exec(m, who, "SET NAMES utf8mb4, character_set_results = NULL, "
			       "time_zone = '+00:00', SESSION group_concat_max_len = 1048576", err);
	case DB_ROLE_SNAPSHOT:
		return db_exec(m, who, "SET NAMES utf8mb4, character_set_results = NULL, "
			       "time_zone = '+00:00', SESSION sql_mode = '" DB_READ_SQL_MODE "', "
			       "SESSION net_write_timeout = 3600, "
			       "SESSION net_read_timeout = 3600;"
			       "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err);
	}
	return 0;
}

static unsigned long client_flags(enum db_role role)
{
	switch (role) {
	case DB_ROLE_REPLAY_WORKER:
	case DB_ROLE_REPLAY_CONTROL:
		return CLIENT_FOUND_ROWS | CLIENT_MULTI_STATEMENTS;
	case DB_ROLE_REPLAY_LOAD:
		return CLIENT_FOUND_ROWS | CLIENT_MULTI_STATEMENTS | CLIENT_LOCAL_FILES;
	case DB_ROLE_VERIFY_SOURCE:
	case DB_ROLE_VERIFY_DEST:
		return CLIENT_MULTI_RESULTS;
	case DB_ROLE_SNAPSHOT:
		return CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS;
	case DB_ROLE_SOURCE_STREAM:
		break;
	}
	return 0;
}

/* TCP keepalive on the connection: a peer that vanished without a RST (a
 * host down, a network partition) is noticed within about 25 s even while
 * a read waits for a long statement (the read timeouts are far longer).
 * Best effort: a Unix socket has none. */
static void keepalive(MYSQL *m)
{
	int fd = (int)mysql_get_socket(m), on = 1, idle = 10, intvl = 5, cnt = 3;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)))
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

int db_connect(MYSQL **out, const struct sl_dsn *d, const struct db_opts *o, struct sl_err *err)
{
	struct db_timeouts t;
	unsigned long maxpkt = DB_MAX_PACKET;
	char red[512], who[560];
	MYSQL *m;
	int rc;

	*out = NULL;
	sl_dsn_redacted(d, red, sizeof(red));
	snprintf(who, sizeof(who), "%s %s", db_role_side(o->role), red);
	db_role_timeouts(o, &t);
	if (!(m = mysql_init(NULL)))
		return sl_err_set(err, -ENOMEM, "%s: cannot allocate a connection", who);
	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &t.connect_s);
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &t.read_s);
	mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &t.write_s);
	mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxpkt);
	set_tls(m, d);
	if (o->role == DB_ROLE_REPLAY_LOAD) {
		unsigned infile = 1;

		mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &infile);
	}
	if (!mysql_real_connect(m, d->host, d->user, d->password ? d->password : "", NULL, d->port,
				d->socket, client_flags(o->role))) {
		rc = sl_err_set(err, db_code(m), "cannot connect to %s: %s", who, mysql_error(m));
		mysql_close(m);
		return rc;
	}
	keepalive(m);
	if ((rc = db_tls_check(m, d, who, err)) || (rc = session(m, who, o, err))) {
		mysql_close(m);
		return rc;
	}
	*out = m;
	return 0;
}

int db_variable(MYSQL *m, const char *who, const char *name, char **out, struct sl_err *err)
{
	char sql[160];
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned long *len;

	*out = NULL;
	snprintf(sql, sizeof(sql), "SHOW GLOBAL VARIABLES LIKE '%s'", name);
	if (mysql_query(m, sql) || !(res = mysql_store_result(m)))
		return db_stmt_error(err, m, who, sql, strlen(sql));
	if ((row = mysql_fetch_row(res)) && mysql_num_fields(res) >= 2 && row[1]) {
		len = mysql_fetch_lengths(res);
		*out = sl_xstrndup(row[1], len[1]);
	}
	mysql_free_result(res);
	return 0;
}


/* ---- errors that quote a statement: the reason first (db.h) ---- */

char *db_sql_snippet(const char *sql, size_t len, size_t max, char *out, size_t n)
{
	static const char mark[] = FMT_REPLAY_MARK;
	size_t o = 0, i;

	if (!n)
		return out;
	for (i = 0; i < len && i < max && o + 4 < n; i++) {
		unsigned char ch = (unsigned char)sql[i];

		/* the mark replay puts on its DDL is not the user's statement */
		if (ch == '/' && len - i >= sizeof(mark) - 1 && !memcmp(sql + i, mark, sizeof(mark) - 1)) {
			i += sizeof(mark) - 2;
			max += sizeof(mark) - 1;
			continue;
		}

		out[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	if (i < len && o + 4 <= n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = 0;
	return out;
}

char *db_reason(const char *msg, unsigned errnum, char *out, size_t n)
{
	const unsigned char *m = (const unsigned char *)(msg && msg[0] ? msg : "no message");

	if (!n)
		return out;
	snprintf(out, n, "%s (error %u)", (const char *)m, errnum);
	/* "Duplicate entry" begins a sentence; "InnoDB" or "MySQL" do not */
	if (m[0] >= 'A' && m[0] <= 'Z') {
		size_t i = 1;

		while (m[i] >= 'a' && m[i] <= 'z')
			i++;
		if (i > 1 && !(m[i] >= 'A' && m[i] <= 'Z') && !(m[i] >= '0' && m[i] <= '9'))
			out[0] = (char)(m[0] - 'A' + 'a');
	}
	return out;
}

int db_stmt_error(struct sl_err *err, MYSQL *m, const char *who, const char *sql, size_t len)
{
	char reason[512], snip[DB_SNIPPET + 8];

	db_reason(mysql_error(m), mysql_errno(m), reason, sizeof(reason));
	db_sql_snippet(sql ? sql : "", sql ? len : 0, DB_SNIPPET, snip, sizeof(snip));
	return sl_err_set(err, db_code(m), "%s on %s: %s", reason, who, snip);
}

int db_transient(unsigned errnum, const char *msg)
{
	switch (errnum) {
	case 2002: case 2003: case 2006: case 2013: case 2027: case 2055:	/* client side */
	case 1040: case 1053: case 1152: case 1158: case 1159: case 1160: case 1161:
	case 1205: case 1213: case 1317: case 1836: case 1927: case 4031:
	/* Connector/C's own parse of a binlog dump event failing (uncompress,
	 * unknown event, "Malformed packet"): bytes damaged on the way, like a
	 * bad CRC32, before sluice's decoder sees them; fetched again */
	case 5017: case 5020: case 5021:
		return 1;
	case 1290:	/* ER_OPTION_PREVENTS_STATEMENT: only read_only passes */
		return msg && (strstr(msg, "read-only") || strstr(msg, "read_only"));
	default:
		return 0;
	}
}

int db_code(MYSQL *m)
{
	return db_transient(mysql_errno(m), mysql_error(m)) ? -SL_ETRANSIENT : -SL_EDB;
}
