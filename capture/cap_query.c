/* cap_query.c - QUERY and QUERY_COMPRESSED events: BEGIN/COMMIT/ROLLBACK, DDL and the schema history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap_int.h"
#include "banned.h"

/* ---- QUERY ---- */

struct qinfo {
	uint64_t sql_mode;
	int has_sql_mode;
	uint32_t client_cs;
};

/* Status variables, as far as they can be parsed: an unknown code stops
 * the walk (the server does the same), and only sql_mode and the client
 * charset, which come first, are needed. */
static void parse_status(const uint8_t *p, size_t n, struct qinfo *q)
{
	size_t i = 0;

	while (i < n) {
		uint8_t code = p[i++];
		size_t need;

		switch (code) {
		case 0: need = 4; break;			/* Q_FLAGS2 */
		case 1:						/* Q_SQL_MODE */
			if (i + 8 > n)
				return;
			q->sql_mode = sl_le64(p + i);
			q->has_sql_mode = 1;
			need = 8;
			break;
		case 2: need = i < n ? 1u + p[i] + 1 : 1; break;	/* Q_CATALOG */
		case 3: need = 4; break;			/* Q_AUTO_INCREMENT */
		case 4:						/* Q_CHARSET */
			if (i + 6 > n)
				return;
			q->client_cs = sl_le16(p + i);
			need = 6;
			break;
		case 5:						/* Q_TIME_ZONE */
		case 6: need = i < n ? 1u + p[i] : 1; break;	/* Q_CATALOG_NZ */
		case 7: need = 2; break;			/* Q_LC_TIME_NAMES */
		case 8: need = 2; break;			/* Q_CHARSET_DATABASE */
		case 9: need = 8; break;			/* Q_TABLE_MAP_FOR_UPDATE */
		case 10: need = 4; break;			/* Q_MASTER_DATA_WRITTEN */
		case 11: {					/* Q_INVOKER */
			size_t u;

			if (i >= n)
				return;
			u = 1u + p[i];
			if (i + u >= n)
				return;
			need = u + 1u + p[i + u];
			break;
		}
		case 12: {					/* Q_UPDATED_DB_NAMES */
			size_t j;
			unsigned cnt;

			if (i >= n)
				return;
			cnt = p[i];
			j = i + 1;
			if (cnt != 254)
				for (unsigned k = 0; k < cnt; k++) {
					while (j < n && p[j])
						j++;
					j++;
				}
			need = j - i;
			break;
		}
		case 13: need = 3; break;			/* Q_MICROSECONDS */
		case 16: need = 1; break;			/* Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP */
		case 17: need = 8; break;			/* Q_DDL_LOGGED_WITH_XID */
		case 18: need = 2; break;			/* Q_DEFAULT_COLLATION_FOR_UTF8MB4 */
		case 19: need = 1; break;			/* Q_SQL_REQUIRE_PRIMARY_KEY */
		case 20: need = 1; break;			/* Q_DEFAULT_TABLE_ENCRYPTION */
		case 128: need = 3; break;			/* Q_HRNOW (MariaDB) */
		case 129: need = 8; break;			/* Q_XID (MariaDB) */
		default:
			return;
		}
		if (need > n - i)
			return;
		i += need;
	}
}

int cap__on_query(struct cap_decoder *d, int compressed, const uint8_t *b, size_t bl,
		    uint32_t ts, uint32_t server_id, uint64_t log_pos, const struct cap_sink *sink,
		    struct sl_err *err)
{
	unsigned ph = cap__post_len(d, compressed ? CAP_EV_MARIA_QUERY_COMPRESSED : CAP_EV_QUERY, 13);
	struct qinfo q = { 0, 0, 0 };
	size_t status_len = 0, db_len, off;
	const uint8_t *qp;
	size_t qn;
	char db[256];
	const char *s;
	enum fmt_stmt_kind kind;
	int rc;

	if (ph < 11 || bl < ph)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "query event too short (%zu bytes)", bl);
	db_len = b[8];
	if (ph >= 13)
		status_len = sl_le16(b + 11);
	off = ph;
	if (status_len > bl - off)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "query status block of %zu bytes overruns the event",
			      status_len);
	parse_status(b + off, status_len, &q);
	off += status_len;
	if (db_len + 1 > bl - off)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "query database name of %zu bytes overruns the event",
			      db_len);
	memcpy(db, b + off, db_len);
	db[db_len] = 0;
	off += db_len + 1;
	qp = b + off;
	qn = bl - off;
	if (compressed) {
		rc = cap__maria_uncompress(d, qp, qn, err);
		if (rc < 0)
			return rc;
		qp = d->unz.data;
		qn = d->unz.len;
	}
	sl_buf_reset(&d->text);
	if (sl_buf_add(&d->text, qp, qn) < 0)
		return CAP_EV_ERR(d, err, -SL_ETOOBIG, "statement of %zu bytes", qn);
	s = sl_buf_cstr(&d->text);
	while (qn && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')) {
		s++;
		qn--;
	}

	/* One classifier for capture, replay and inspect (cap_stmt.c says what each kind becomes). */
	kind = fmt_stmt_classify(s, qn);
	if (kind == FMT_STMT_BEGIN) {
		if (!d->in_txn || d->begun)
			cap__txn_open(d, ts, server_id);
		return 0;
	}
	if (kind == FMT_STMT_COMMIT)
		return cap__txn_commit(d, ts, 0, log_pos, server_id, sink, err);
	if (kind == FMT_STMT_ROLLBACK) {
		/* Rows already in the binlog were changes to non-transactional
		 * tables: the source kept them, so they are committed here too. */
		if (d->begun)
			sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: ROLLBACK after %llu row changes to non-transactional tables; keeping them",
			       cap__dec_file(d), (unsigned long long)d->ev_off, (unsigned long long)d->rows);
		return cap__txn_commit(d, ts, 0, log_pos, server_id, sink, err);
	}
	if (kind == FMT_STMT_TXN_OTHER)
		return 0;
	if (kind == FMT_STMT_ACCOUNT) {
		/* Never written, never logged (it may hold a password): counted. */
		if (!d->warned_account)
			sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: account statement left out "
			       "of the stream (it may carry a password); such statements are only counted "
			       "(sluice status)", cap__dec_file(d), (unsigned long long)d->ev_off);
		d->warned_account = 1;
		d->accounts++;
		if (d->in_txn && d->begun)
			return 0;	/* the heartbeat follows the commit */
		return cap__left_out_flush(d, ts, log_pos, server_id, sink, err);
	}
	if (kind == FMT_STMT_DML && (d->in_txn && d->begun ? 1 :
				     !(db_len && cap__dec_skipped(d, db, db_len) && !memchr(s, '.', qn))))
		return CAP_EV_ERR(d, err, -SL_ECONFIG, "statement-format DML in transaction %s (its session "
			      "ran with binlog_format=STATEMENT or MIXED): it cannot be applied without "
			      "its INSERT_ID, RAND and variable context, so capture stops here and records "
			      "nothing of that transaction; write it with binlog_format=ROW",
			      d->gtid[0] ? d->gtid : "(no gtid)");
	if (d->in_txn && d->begun) {
		sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: statement inside a transaction skipped: %.80s",
		       cap__dec_file(d), (unsigned long long)d->ev_off, s);
		return 0;
	}
	/* The schema history follows every table DDL, in stream order. */
	if (!d->schema_frozen)
		cap__schema_apply(d->schema, db, s, qn);
	/* A DDL sluice replay ran here: left out, counted (cap_loop.c); its
	 * beacon first, whose event names the `sluice` schema. */
	if (cap__loop_ddl(d, sl_le32(b), s, qn))
		return cap__left_out_flush(d, ts, log_pos, server_id, sink, err);
	/* Statements in a skipped schema that name no other (no qualified names). */
	if (db_len && cap__dec_skipped(d, db, db_len) && !memchr(s, '.', qn)) {
		sl_log(SL_DEBUG, "capture", "statement in skipped schema %s: %.60s", db, s);
		if (!d->in_txn)
			d->gtid_pending = 0;
		return 0;
	}
	{
		Sluice__Record rec = SLUICE__RECORD__INIT;
		Sluice__Ddl ddl = SLUICE__DDL__INIT;
		Sluice__Position p;
		const char *cs = q.client_cs ? cap_charset_of_collation(q.client_cs) : NULL;

		if (!d->in_txn && !d->gtid_pending)
			d->gtid[0] = 0;
		cap__fill_pos(d, &p, log_pos, server_id);
		ddl.position = &p;
		ddl.time = ts;
		ddl.db = db;
		ddl.statement = (char *)(uintptr_t)s;
		ddl.sql_mode = q.sql_mode;
		ddl.has_sql_mode = q.has_sql_mode;
		ddl.charset = (char *)(uintptr_t)(cs ? cs : "");
		rec.body_case = SLUICE__RECORD__BODY_DDL;
		rec.ddl = &ddl;
		rc = sink->record(sink->ctx, &rec, err);
		if (rc == 0)
			rc = sink->txn_end(sink->ctx, &p, ts, err);
		if (rc == 0)
			cap__set_str(&d->pos.gtid, d->gtid);
		if (!d->in_txn)
			d->gtid_pending = 0;
		return rc;
	}
}
