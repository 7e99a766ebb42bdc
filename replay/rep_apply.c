/* rep_apply.c - rep_run(): read records from DIR and apply them to the destination exactly once. */
#include "rep.h"
#include "rep_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysql.h>
#include "banned.h"

/*
 * States of the applier (one connection, autocommit=0):
 *
 *   IDLE --TxnBegin--> IN_TXN --RowChange--> IN_TXN (rows go into q; q is sent
 *     ^                  |                          as one multi-statement query
 *     |                  |                          whenever it fills)
 *     +----TxnCommit-----+  q + checkpoint UPDATE + COMMIT, one round trip
 *   IDLE --Ddl--> mark pending (commit) -> run the statement -> checkpoint,
 *                 pending cleared (commit) -> IDLE
 *
 * In IN_TXN the destination has an open transaction holding every statement
 * sent so far; on any error it is rolled back and rep_run() returns, so the
 * checkpoint row still names the last committed transaction.
 *
 * Affected rows: each UPDATE and DELETE is followed in q by the guard
 *   SET @sluice_rc=~0+(ROW_COUNT()<>N)
 * which overflows BIGINT UNSIGNED (error 1690) when the statement did not
 * match exactly N rows (DO would only turn the error into a warning). A failed statement ends a multi-statement query, so
 * the COMMIT at its end never runs for a transaction with a missing row. The
 * client also checks mysql_affected_rows() of every statement (the
 * connection uses CLIENT_FOUND_ROWS: matched rows, not changed rows), which
 * gives the precise message.
 */

#define REP_BATCH_MAX ((size_t)4 << 20)	/* flush statements at 4 MiB */
#define REP_GROUP_TXNS 64		/* transactions per round trip at most */
#define REP_GROUP_BYTES ((size_t)256 << 10)
#define REP_SNIPPET 120
#define REP_WHERE_LEN 640		/* where_str(): cursor, gtid, position */
#define REP_SESSION_SQL_MODE "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"

enum rep_kind { K_INSERT = 1, K_UPDATE, K_DELETE, K_GUARD, K_CHECKPOINT, K_COMMIT, K_OTHER };

static const char *const kind_name[] = {
	"", "insert into", "update of", "delete from", "row count check", "checkpoint update",
	"commit", "statement",
};

/* One statement of the multi-statement query q. */
struct rep_part {
	size_t off, len;		/* its text in q */
	enum rep_kind kind;
	uint32_t ref;			/* table_ref for row statements */
	int64_t expect;			/* affected rows it must report; -1: any */
	struct seg_cursor cur;		/* the first row record it applies */
};

struct rep_ctx {
	MYSQL *db;
	const struct rep_opts *o;
	struct rep_stats *st;
	const char *consumer;
	char dest[256];			/* redacted DSN */
	int dest_mariadb;
	size_t stmt_max;		/* one query must stay below max_allowed_packet */
	size_t batch_max;		/* flush threshold */
	struct fmt_tables tables;
	struct rep_checkpoint cp;
	struct seg_cursor done;		/* what the checkpoint row says once q has run */
	struct seg_cursor durable;	/* what the destination has committed for sure */
	unsigned queued_txns;		/* complete transactions in q, not yet sent */
	char last_pos[300];		/* source position of the last commit, for messages */

	int in_txn;
	char gtid[128];
	struct sl_buf q;
	struct rep_part *parts;
	size_t nparts, capparts;
	enum rep_kind open_kind;	/* K_INSERT or K_DELETE (batched by PK), 0: none */
	uint32_t open_ref;
	int64_t open_rows;
	struct sl_buf row;		/* scratch: one row's SQL */
};

static const char *table_name(struct rep_ctx *x, uint32_t ref, char *out, size_t n)
{
	const Sluice__TableDef *td = fmt_tables_get(&x->tables, ref);

	if (!td)
		snprintf(out, n, "table ref %" PRIu32, ref);
	else
		snprintf(out, n, "`%s`.`%s`", td->db ? td->db : "", td->name ? td->name : "");
	return out;
}

static const char *where_str(struct rep_ctx *x, const struct seg_cursor *c, char *out, size_t n)
{
	snprintf(out, n, "segment %" PRIu64 " offset %" PRIu64 " record %" PRIu32
		 " (gtid %s, after source position %s)", c->seq, c->offset, c->index,
		 x->gtid[0] ? x->gtid : "none", x->last_pos);
	return out;
}

static void set_last_pos(struct rep_ctx *x, const Sluice__Position *p)
{
	if (p)
		fmt_position_str(p, x->last_pos, sizeof(x->last_pos));
}

/* ---- talking to the server ---- */

static int db_error(struct rep_ctx *x, const char *what, struct sl_err *err)
{
	return sl_err_set(err, -SL_EDB, "destination %s: %s: %s (%u)", x->dest, what,
			  mysql_error(x->db), mysql_errno(x->db));
}

/* Drain the remaining results of a multi-statement query. */
static void drain(MYSQL *db)
{
	int st;

	while ((st = mysql_next_result(db)) == 0) {
		MYSQL_RES *res = mysql_store_result(db);

		if (res)
			mysql_free_result(res);
	}
}

/* Run sql (maybe several statements), discarding results. */
static int exec(struct rep_ctx *x, const char *sql, struct sl_err *err)
{
	int st;

	if (mysql_real_query(x->db, sql, strlen(sql)))
		return db_error(x, sql, err);
	do {
		MYSQL_RES *res = mysql_store_result(x->db);

		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(x->db))
			return db_error(x, sql, err);
	} while ((st = mysql_next_result(x->db)) == 0);
	if (st > 0)
		return db_error(x, sql, err);
	return 0;
}

static void rollback(struct rep_ctx *x)
{
	struct sl_err ignored = SL_ERR_INIT;

	drain(x->db);
	if (exec(x, "ROLLBACK", &ignored))
		sl_log(SL_WARN, "replay", "%s", ignored.msg);
}

static int part_error(struct rep_ctx *x, const struct rep_part *p, const char *what,
		      struct sl_err *err)
{
	char tn[200], w[REP_WHERE_LEN], snip[REP_SNIPPET + 8];

	rep__sql_snippet((const char *)x->q.data + p->off, p->len, REP_SNIPPET, snip, sizeof(snip));
	if (p->kind == K_INSERT || p->kind == K_UPDATE || p->kind == K_DELETE)
		return sl_err_set(err, -SL_EAPPLY, "%s %s at %s %s: %s", kind_name[p->kind],
				  table_name(x, p->ref, tn, sizeof(tn)),
				  where_str(x, &p->cur, w, sizeof(w)), what, snip);
	return sl_err_set(err, -SL_EAPPLY, "%s at %s %s: %s", kind_name[p->kind],
			  where_str(x, &p->cur, w, sizeof(w)), what, snip);
}

/* Send q as one query; check each statement's error and affected rows. */
static int run_q(struct rep_ctx *x, struct sl_err *err)
{
	char what[300];
	size_t i = 0;
	int st, rc = 0;

	if (!x->q.len)
		return 0;
	if (mysql_real_query(x->db, (const char *)x->q.data, x->q.len))
		goto server_error;
	for (;;) {
		MYSQL_RES *res = mysql_store_result(x->db);
		my_ulonglong aff;

		if (res) {
			mysql_free_result(res);
		} else if (mysql_field_count(x->db)) {
			goto server_error;
		}
		aff = mysql_affected_rows(x->db);
		if (i >= x->nparts)
			sl_bug("more results than statements (%zu)", x->nparts);
		if (x->parts[i].expect >= 0 && aff != (my_ulonglong)x->parts[i].expect) {
			if (x->parts[i].kind == K_CHECKPOINT)
				snprintf(what, sizeof(what), "the checkpoint row of consumer '%s' moved "
					 "(is another replay running?)", x->consumer);
			else
				snprintf(what, sizeof(what), "matched %llu rows, not %lld",
					 (unsigned long long)aff, (long long)x->parts[i].expect);
			rc = part_error(x, &x->parts[i], what, err);
			goto out;
		}
		st = mysql_next_result(x->db);
		if (st < 0)
			break;
		i++;
		if (st > 0)
			goto server_error;
	}
	if (i + 1 != x->nparts)
		sl_bug("%zu results for %zu statements", i + 1, x->nparts);
	x->durable = x->done;	/* every COMMIT in q has run */
	goto out;
server_error:
	if (i >= x->nparts)
		return db_error(x, "query", err);
	{
		const struct rep_part *p = &x->parts[i];

		/* A guard failed: name the statement it checks. */
		if (p->kind == K_GUARD && i > 0)
			p--;
		snprintf(what, sizeof(what), "failed: %s (%u) in", mysql_error(x->db), mysql_errno(x->db));
		if (mysql_errno(x->db) == 1690 && x->parts[i].kind == K_GUARD)
			snprintf(what, sizeof(what), "matched fewer or more rows than %lld in",
				 (long long)p->expect);
		rc = part_error(x, p, what, err);
	}
out:
	if (rc)
		rollback(x);
	sl_buf_reset(&x->q);
	x->nparts = 0;
	x->open_kind = 0;
	x->queued_txns = 0;
	return rc;
}

/* ---- building q ---- */

static struct rep_part *part_new(struct rep_ctx *x, enum rep_kind kind, uint32_t ref,
				 const struct seg_cursor *cur)
{
	struct rep_part *p;

	if (x->nparts == x->capparts) {
		x->capparts = x->capparts ? x->capparts * 2 : 64;
		x->parts = sl_xrealloc(x->parts, x->capparts * sizeof(*x->parts));
	}
	if (x->q.len && sl_buf_addc(&x->q, ';'))
		sl_bug("no room for a statement separator (make_room() reserves it)");
	p = &x->parts[x->nparts++];
	p->off = x->q.len;
	p->len = 0;
	p->kind = kind;
	p->ref = ref;
	p->expect = -1;
	p->cur = cur ? *cur : x->done;
	return p;
}

static void part_end(struct rep_ctx *x, struct rep_part *p)
{
	p->len = x->q.len - p->off;
}

/* Append a whole statement (text already rendered) as a part. */
static int add_stmt(struct rep_ctx *x, enum rep_kind kind, uint32_t ref,
		    const struct seg_cursor *cur, const void *sql, size_t len, int64_t expect)
{
	struct rep_part *p = part_new(x, kind, ref, cur);
	int rc = sl_buf_add(&x->q, sql, len);

	if (rc)
		return rc;
	p->expect = expect;
	part_end(x, p);
	return 0;
}

static int add_guard(struct rep_ctx *x, const struct seg_cursor *cur, int64_t n)
{
	char g[64];
	int len = snprintf(g, sizeof(g), "SET @sluice_rc=~0+(ROW_COUNT()<>%lld)", (long long)n);

	return add_stmt(x, K_GUARD, 0, cur, g, (size_t)len, -1);
}

/* Close the open batched statement (INSERT ... VALUES / DELETE ... IN). */
static int close_open(struct rep_ctx *x)
{
	struct rep_part *p;
	int rc = 0;

	if (!x->open_kind)
		return 0;
	p = &x->parts[x->nparts - 1];
	if (x->open_kind == K_DELETE)
		rc = sl_buf_addc(&x->q, ')');
	part_end(x, p);
	p->expect = x->open_rows;
	if (!rc && x->open_kind == K_DELETE)
		rc = add_guard(x, &p->cur, x->open_rows);
	x->open_kind = 0;
	return rc;
}

/* Make sure n more bytes (plus separators and a guard) fit in q: send what
 * is there first when they would not. */
static int make_room(struct rep_ctx *x, size_t n, uint32_t ref, const struct seg_cursor *cur,
		     struct sl_err *err)
{
	char tn[200], w[REP_WHERE_LEN];
	int rc;

	if (x->q.len && x->q.len + n + 64 > x->batch_max) {
		if ((rc = close_open(x)) || (rc = run_q(x, err)))
			return rc;
	}
	if (n + 64 > x->stmt_max)
		return sl_err_set(err, -SL_ETOOBIG, "%s at %s needs a statement of %zu bytes; "
				  "the destination's max_allowed_packet allows %zu",
				  table_name(x, ref, tn, sizeof(tn)), where_str(x, cur, w, sizeof(w)),
				  n, x->stmt_max);
	return 0;
}

static int render_error(struct rep_ctx *x, int rc, uint32_t ref, const struct seg_cursor *cur,
			struct sl_err *err)
{
	char tn[200], w[REP_WHERE_LEN];

	if (rc == -SL_ETOOBIG)
		return sl_err_set(err, rc, "%s at %s: row too large for one statement",
				  table_name(x, ref, tn, sizeof(tn)), where_str(x, cur, w, sizeof(w)));
	return sl_err_set(err, rc, "%s at %s: row does not match its table definition (%s)",
			  table_name(x, ref, tn, sizeof(tn)), where_str(x, cur, w, sizeof(w)),
			  sl_strerror(rc));
}

/* Add one row to a batched statement kind (K_INSERT or K_DELETE by PK). */
static int add_batched(struct rep_ctx *x, enum rep_kind kind, const Sluice__TableDef *td,
		       const struct seg_cursor *cur, struct sl_err *err)
{
	struct sl_buf head = SL_BUF_INIT(4096 + 260 * (size_t)td->n_columns + 1024);
	struct rep_part *p;
	int rc;

	if (x->open_kind == kind && x->open_ref == td->ref &&
	    x->q.len + x->row.len + 64 <= x->batch_max) {
		rc = sl_buf_addc(&x->q, ',');
		if (!rc)
			rc = sl_buf_add(&x->q, x->row.data, x->row.len);
		if (rc)
			return render_error(x, rc, td->ref, cur, err);
		x->open_rows++;
		return 0;
	}
	if ((rc = close_open(x)))
		goto render;
	rc = kind == K_INSERT ? rep__sql_insert_head(&head, td) : rep__sql_delete_in_head(&head, td);
	if (rc)
		goto render;
	if ((rc = make_room(x, head.len + x->row.len, td->ref, cur, err)))
		goto out;
	p = part_new(x, kind, td->ref, cur);
	if ((rc = sl_buf_add(&x->q, head.data, head.len)) ||
	    (rc = sl_buf_add(&x->q, x->row.data, x->row.len)))
		goto render;
	part_end(x, p);
	x->open_kind = kind;
	x->open_ref = td->ref;
	x->open_rows = 1;
	goto out;
render:
	rc = render_error(x, rc, td->ref, cur, err);
out:
	sl_buf_release(&head);
	return rc;
}

static int apply_row(struct rep_ctx *x, const Sluice__RowChange *rc_, const struct seg_cursor *cur,
		     struct sl_err *err)
{
	const Sluice__TableDef *td = fmt_tables_get(&x->tables, rc_->table_ref);
	char w[REP_WHERE_LEN];
	int rc;

	if (!td)
		return sl_err_set(err, -SL_ECORRUPT, "row for unknown table ref %" PRIu32 " at %s",
				  rc_->table_ref, where_str(x, cur, w, sizeof(w)));
	sl_buf_reset(&x->row);
	switch (rc_->op) {
	case SLUICE__ROW_CHANGE__OP__INSERT:
		if ((rc = rep__sql_row_tuple(&x->row, td, rc_->after)))
			return render_error(x, rc, td->ref, cur, err);
		return add_batched(x, K_INSERT, td, cur, err);
	case SLUICE__ROW_CHANGE__OP__DELETE:
		if (td->n_primary_key) {
			if ((rc = rep__sql_pk_tuple(&x->row, td, rc_->before)))
				return render_error(x, rc, td->ref, cur, err);
			return add_batched(x, K_DELETE, td, cur, err);
		}
		rc = rep__sql_delete_one(&x->row, td, rc_->before);
		break;
	case SLUICE__ROW_CHANGE__OP__UPDATE:
		rc = rep__sql_update(&x->row, td, rc_->before, rc_->after);
		break;
	default:
		return sl_err_set(err, -SL_ECORRUPT, "row change with unknown op %d at %s",
				  (int)rc_->op, where_str(x, cur, w, sizeof(w)));
	}
	if (rc)
		return render_error(x, rc, td->ref, cur, err);
	if ((rc = close_open(x)) || (rc = make_room(x, x->row.len + 32, td->ref, cur, err)))
		return rc;
	rc = add_stmt(x, rc_->op == SLUICE__ROW_CHANGE__OP__UPDATE ? K_UPDATE : K_DELETE, td->ref,
		      cur, x->row.data, x->row.len, 1);
	if (!rc)
		rc = add_guard(x, cur, 1);
	return rc ? render_error(x, rc, td->ref, cur, err) : 0;
}

/* Checkpoint UPDATE + its guard (+ COMMIT) appended to q. */
static int add_checkpoint(struct rep_ctx *x, const struct seg_cursor *cur,
			  const Sluice__Position *pos, const struct seg_cursor *pending,
			  int commit, struct sl_err *err)
{
	struct sl_buf u = SL_BUF_INIT(8192);
	int rc;

	rc = rep__sql_checkpoint_update(&u, x->consumer, &x->done, cur, pos, pending);
	if (!rc && (rc = close_open(x)) == 0 && (rc = make_room(x, u.len + 80, 0, cur, err)) == 0) {
		if (!(rc = add_stmt(x, K_CHECKPOINT, 0, cur, u.data, u.len, 1)) &&
		    !(rc = add_guard(x, cur, 1)) && commit)
			rc = add_stmt(x, K_COMMIT, 0, cur, "COMMIT", 6, -1);
	}
	if (rc && !err->code)
		rc = sl_err_set(err, rc, "cannot build the checkpoint update: %s", sl_strerror(rc));
	sl_buf_release(&u);
	return rc;
}

static int apply_commit(struct rep_ctx *x, const Sluice__TxnCommit *c, const struct seg_cursor *cur,
			struct sl_err *err)
{
	int rc;

	if ((rc = add_checkpoint(x, cur, c->position, NULL, 1, err)))
		return rc;
	/* Several small transactions share one round trip: each is still its
	 * own destination transaction ending in its checkpoint and COMMIT, and
	 * a failing statement stops the query before the rest run. */
	x->done = *cur;
	set_last_pos(x, c->position);
	x->in_txn = 0;
	x->st->transactions++;
	if (++x->queued_txns >= REP_GROUP_TXNS || x->q.len >= REP_GROUP_BYTES)
		return run_q(x, err);
	return 0;
}

/* ---- DDL ---- */

static int name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 32)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return 1;
}

static int cursor_eq(const struct seg_cursor *a, const struct seg_cursor *b)
{
	return a->seq == b->seq && a->offset == b->offset && a->index == b->index;
}

static int apply_ddl(struct rep_ctx *x, const Sluice__Ddl *d, const struct seg_cursor *cur,
		     struct sl_err *err)
{
	struct sl_buf pre = SL_BUF_INIT(1 << 20);
	char w[REP_WHERE_LEN], snip[REP_SNIPPET + 8];
	const char *stmt = d->statement ? d->statement : "";
	int was_pending = x->cp.ddl_pending && cursor_eq(&x->cp.ddl_cur, cur);
	int src_mysql = d->position && d->position->flavor && !strcmp(d->position->flavor, "mysql");
	int rc, st;

	x->gtid[0] = 0;
	/* 1. mark it pending, durably */
	if ((rc = add_checkpoint(x, &x->done, NULL, cur, 1, err)) || (rc = run_q(x, err)))
		goto out;
	/* 2. its session: default database, sql_mode, charset, timestamp */
	if (d->db && d->db[0]) {
		if ((rc = sl_buf_adds(&pre, "USE ")) || (rc = fmt_sql_ident(&pre, d->db)))
			goto too_big;
		struct sl_err e2 = SL_ERR_INIT;

		if (exec(x, sl_buf_cstr(&pre), &e2)) {
			if (mysql_errno(x->db) != 1049) {	/* ER_BAD_DB_ERROR */
				rc = sl_err_set(err, e2.code, "ddl at %s: %s",
						where_str(x, cur, w, sizeof(w)), e2.msg);
				goto out;
			}
			sl_log(SL_WARN, "replay", "ddl at %s: default database `%s` does not exist "
			       "on the destination; running without it",
			       where_str(x, cur, w, sizeof(w)), d->db);
		}
		sl_buf_reset(&pre);
	}
	if ((rc = sl_buf_adds(&pre, "SET SESSION sql_mode='")))
		goto too_big;
	if (d->has_sql_mode)
		rc = rep__sql_mode_names(&pre, d->sql_mode, src_mysql, x->dest_mariadb);
	else
		rc = sl_buf_adds(&pre, REP_SESSION_SQL_MODE);
	if (rc || (rc = sl_buf_addf(&pre, "',timestamp=%" PRIu64, d->time)))
		goto too_big;
	if (name_ok(d->charset) && (rc = sl_buf_addf(&pre, ";SET NAMES %s", d->charset)))
		goto too_big;
	if ((rc = exec(x, sl_buf_cstr(&pre), err)))
		goto out;
	/* 3. the statement itself */
	if (mysql_real_query(x->db, stmt, strlen(stmt)) == 0) {
		do {
			MYSQL_RES *res = mysql_store_result(x->db);

			if (res)
				mysql_free_result(res);
		} while ((st = mysql_next_result(x->db)) == 0);
	} else {
		st = 1;
	}
	if (st > 0) {
		unsigned e = mysql_errno(x->db);

		rep__sql_snippet(stmt, strlen(stmt), REP_SNIPPET, snip, sizeof(snip));
		if (was_pending && rep__ddl_already_done(e)) {
			sl_log(SL_WARN, "replay", "ddl at %s was already applied before a restart "
			       "(%s (%u)): %s", where_str(x, cur, w, sizeof(w)), mysql_error(x->db), e, snip);
		} else {
			rc = sl_err_set(err, -SL_EAPPLY, "ddl at %s failed: %s (%u) in: %s",
					where_str(x, cur, w, sizeof(w)), mysql_error(x->db), e, snip);
			drain(x->db);
			goto out;
		}
	}
	/* 4. back to our session, move the checkpoint past it, clear pending */
	if ((rc = exec(x, "SET SESSION sql_mode='" REP_SESSION_SQL_MODE "',timestamp=DEFAULT;"
		       "SET NAMES utf8mb4", err)))
		goto out;
	if ((rc = add_checkpoint(x, cur, d->position, NULL, 1, err)) || (rc = run_q(x, err)))
		goto out;
	x->done = *cur;
	x->durable = *cur;
	x->cp.ddl_pending = 0;
	set_last_pos(x, d->position);
	x->st->ddls++;
	goto out;
too_big:
	rc = sl_err_set(err, rc, "ddl at %s: cannot build its session settings: %s",
			where_str(x, cur, w, sizeof(w)), sl_strerror(rc));
out:
	sl_buf_release(&pre);
	return rc;
}

/* ---- connection and checkpoint ---- */

static int connect_dest(struct rep_ctx *x, struct sl_err *err)
{
	struct sl_dsn dsn = { 0 };
	unsigned timeout = 30;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	unsigned long long map = 0;
	int rc;

	if ((rc = sl_dsn_parse(&dsn, x->o->dest_url, "SLUICE_DEST_PASSWORD", err)))
		return rc;
	sl_dsn_redacted(&dsn, x->dest, sizeof(x->dest));
	x->db = mysql_init(NULL);
	if (!x->db)
		sl_bug("mysql_init failed");
	mysql_options(x->db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(x->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (dsn.ssl_ca || dsn.ssl_cert || dsn.ssl_key) {
		my_bool verify = dsn.ssl_ca ? 1 : 0;

		mysql_ssl_set(x->db, dsn.ssl_key, dsn.ssl_cert, dsn.ssl_ca, NULL, NULL);
		mysql_options(x->db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
	}
	if (!mysql_real_connect(x->db, dsn.host, dsn.user, dsn.password, NULL, dsn.port,
				dsn.socket, CLIENT_FOUND_ROWS | CLIENT_MULTI_STATEMENTS)) {
		rc = sl_err_set(err, -SL_EDB, "cannot connect to destination %s: %s", x->dest,
				mysql_error(x->db));
		goto out;
	}
	x->dest_mariadb = strstr(mysql_get_server_info(x->db), "MariaDB") != NULL;
	if ((rc = exec(x, "SET NAMES utf8mb4;SET SESSION time_zone='+00:00',sql_mode='"
		       REP_SESSION_SQL_MODE "',foreign_key_checks=0,autocommit=0;"
		       "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", err)))
		goto out;
	if (mysql_real_query(x->db, "SELECT @@max_allowed_packet", 27) ||
	    !(res = mysql_store_result(x->db))) {
		rc = db_error(x, "SELECT @@max_allowed_packet", err);
		goto out;
	}
	if ((row = mysql_fetch_row(res)) && row[0])
		map = strtoull(row[0], NULL, 10);
	if (map < 64 << 10)
		map = 1 << 20;
	x->stmt_max = (size_t)map - 4096;
	x->batch_max = x->stmt_max < REP_BATCH_MAX ? x->stmt_max : REP_BATCH_MAX;
	sl_buf_init(&x->q, x->stmt_max);
	sl_buf_init(&x->row, x->stmt_max);
out:
	if (res)
		mysql_free_result(res);
	sl_dsn_release(&dsn);
	return rc;
}

static int load_checkpoint(struct rep_ctx *x, const uint8_t sid[16], struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(4096);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	if ((rc = exec(x, rep__sql_checkpoint_ddl, err)))
		goto out;
	if ((rc = rep__sql_checkpoint_insert(&b, x->consumer, sid)) ||
	    (rc = sl_buf_adds(&b, ";COMMIT")))
		goto out;
	if ((rc = exec(x, sl_buf_cstr(&b), err)))
		goto out;
	sl_buf_reset(&b);
	if ((rc = rep__sql_checkpoint_select(&b, x->consumer)))
		goto out;
	if (mysql_real_query(x->db, (const char *)b.data, b.len) ||
	    !(res = mysql_store_result(x->db))) {
		rc = db_error(x, "reading the checkpoint", err);
		goto out;
	}
	if (!(row = mysql_fetch_row(res))) {
		rc = sl_err_set(err, -SL_EDB, "destination %s: checkpoint row of '%s' is missing",
				x->dest, x->consumer);
		goto out;
	}
	if ((rc = rep__checkpoint_parse(&x->cp, row, mysql_num_fields(res), err)))
		goto out;
	if (memcmp(x->cp.stream_id, sid, 16)) {
		rc = sl_err_set(err, -SL_ESTREAM, "destination checkpoint '%s' belongs to another stream",
				x->consumer);
		goto out;
	}
	x->done = x->cp.cur;
	x->durable = x->cp.cur;
	if (x->cp.source_file[0])
		snprintf(x->last_pos, sizeof(x->last_pos), "%s:%" PRIu64, x->cp.source_file,
			 x->cp.source_offset);
	/* End the read-only transaction the SELECT opened. */
	mysql_free_result(res);
	res = NULL;
	rc = exec(x, "COMMIT", err);
out:
	if (res)
		mysql_free_result(res);
	if (rc && !err->code)
		rc = sl_err_set(err, rc, "cannot build checkpoint statements: %s", sl_strerror(rc));
	sl_buf_release(&b);
	return rc;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR && !sl_stop_requested)
		;
}

/* Wait for DIR to hold a segment (follow) and return its identity. */
static int dir_identity(struct rep_ctx *x, uint8_t sid[16], struct sl_err *err)
{
	for (;;) {
		char *source = NULL;
		int rc = seg_dir_identity(x->o->dir, &source, sid, err);

		free(source);
		if (rc != -ENOENT)
			return rc;
		if (!x->o->follow || sl_stop_requested)
			return -ENOENT;
		sleep_ms(x->o->poll_ms ? x->o->poll_ms : 20);
	}
}

static int cursor_le(const struct seg_cursor *a, const struct seg_cursor *b)
{
	if (a->seq != b->seq)
		return a->seq < b->seq;
	if (a->offset != b->offset)
		return a->offset < b->offset;
	return a->index <= b->index;
}

/*
 * seg_reader_seek_after() skips the TableDefs that precede the checkpoint in
 * its segment, and a segment repeats a definition only before its first use
 * there. So read the checkpoint's segment from its start up to the
 * checkpoint, keeping only TableDefs.
 */
static int prime_tables(struct rep_ctx *x, struct sl_err *err)
{
	struct seg_reader *r = NULL;
	int rc = seg_reader_open_seq(&r, x->o->dir, x->done.seq, err);

	if (rc)
		return sl_err_prefix(err, "reading the table definitions before the checkpoint");
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;

		rc = seg_reader_next(r, &rec, &cur, err);
		if (rc <= 0)
			break;
		if (rec->body_case == SLUICE__RECORD__BODY_TABLE)
			fmt_tables_put(&x->tables, rec->table);
		fmt_record_free(rec);
		if (!cursor_le(&cur, &x->done) || (cur.offset == x->done.offset &&
						   cur.index == x->done.index))
			break;
	}
	seg_reader_close(r);
	if (rc < 0)
		return sl_err_prefix(err, "reading the table definitions before the checkpoint");
	return 0;
}

static int apply_record(struct rep_ctx *x, const Sluice__Record *rec, const struct seg_cursor *cur,
			struct sl_err *err)
{
	char w[REP_WHERE_LEN];

	switch (rec->body_case) {
	case SLUICE__RECORD__BODY_BEGIN:
		if (x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "transaction begins inside another at %s",
					  where_str(x, cur, w, sizeof(w)));
		x->in_txn = 1;
		snprintf(x->gtid, sizeof(x->gtid), "%s", rec->begin->gtid ? rec->begin->gtid : "");
		return 0;
	case SLUICE__RECORD__BODY_TABLE:
		fmt_tables_put(&x->tables, rec->table);
		return 0;
	case SLUICE__RECORD__BODY_ROW:
		if (!x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "row change outside a transaction at %s",
					  where_str(x, cur, w, sizeof(w)));
		x->st->rows++;
		return apply_row(x, rec->row, cur, err);
	case SLUICE__RECORD__BODY_COMMIT:
		if (!x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "commit outside a transaction at %s",
					  where_str(x, cur, w, sizeof(w)));
		return apply_commit(x, rec->commit, cur, err);
	case SLUICE__RECORD__BODY_DDL:
		if (x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "ddl inside a transaction at %s",
					  where_str(x, cur, w, sizeof(w)));
		return apply_ddl(x, rec->ddl, cur, err);
	case SLUICE__RECORD__BODY_HEARTBEAT:
		return 0;
	default:
		return sl_err_set(err, -SL_ECORRUPT, "unknown record type %d at %s",
				  (int)rec->body_case, where_str(x, cur, w, sizeof(w)));
	}
}

/* The checkpoint in DIR/consumers/ (store/seg.h) is advisory, for retention:
 * it trails the destination's checkpoint. A failure only warns. */
static void register_consumer(struct rep_ctx *x, uint64_t txn_time)
{
	struct sl_err e = SL_ERR_INIT;

	if (seg_consumer_update(x->o->dir, x->consumer, &x->durable, txn_time, &e))
		sl_log(SL_WARN, "replay", "cannot register consumer '%s' for retention: %s", x->consumer, e.msg);
}

int rep_run(const struct rep_opts *o, struct rep_stats *st, struct sl_err *err)
{
	struct rep_ctx x = { 0 };
	struct seg_reader *r = NULL;
	uint8_t sid[16];
	uint64_t t0 = sl_now_ms(), rows0, registered_ms = 0, txn_time = 0;
	double secs;
	int rc;

	memset(st, 0, sizeof(*st));
	x.o = o;
	x.st = st;
	x.consumer = o->consumer && o->consumer[0] ? o->consumer : "default";
	snprintf(x.last_pos, sizeof(x.last_pos), "(start)");
	fmt_tables_init(&x.tables);
	if ((rc = connect_dest(&x, err)))
		goto out;
	rc = dir_identity(&x, sid, err);
	if (rc == -ENOENT) {
		sl_log(SL_INFO, "replay", "'%s' holds no segment yet: nothing to apply", o->dir);
		rc = 0;
		goto out;
	}
	if (rc || (rc = load_checkpoint(&x, sid, err)))
		goto out;
	if (x.done.seq && (rc = prime_tables(&x, err)))
		goto out;
	if ((rc = seg_reader_open(&r, o->dir, err)))
		goto out;
	if (x.done.seq && (rc = seg_reader_seek_after(r, &x.done, err)))
		goto out;
	rows0 = st->rows;
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;

		if (!x.in_txn && sl_stop_requested)
			break;
		rc = seg_reader_next(r, &rec, &cur, err);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			if (x.in_txn) {
				/* The reader only delivers whole transactions. */
				rc = sl_err_set(err, -SL_ECORRUPT, "stream '%s' ends inside a transaction "
						"(gtid %s)", o->dir, x.gtid[0] ? x.gtid : "none");
				goto out;
			}
			/* nothing more for now: send what is queued */
			if ((rc = run_q(&x, err)))
				goto out;
			if (!o->follow || sl_stop_requested)
				break;
			sleep_ms(o->poll_ms ? o->poll_ms : 20);
			continue;
		}
		if (rec->body_case == SLUICE__RECORD__BODY_COMMIT)
			txn_time = rec->commit->time;
		else if (rec->body_case == SLUICE__RECORD__BODY_DDL)
			txn_time = rec->ddl->time;
		rc = apply_record(&x, rec, &cur, err);
		fmt_record_free(rec);
		if (rc)
			goto out;
		/* Retention: tell DIR how far we are, after the commit, about once a second. */
		if (!x.in_txn && x.durable.seq && sl_now_ms() - registered_ms >= 1000) {
			register_consumer(&x, txn_time);
			registered_ms = sl_now_ms();
		}
	}
	rc = 0;
	*err = (struct sl_err)SL_ERR_INIT;
	secs = (double)(sl_now_ms() - t0) / 1000.0;
	sl_log(SL_INFO, "replay", "applied %" PRIu64 " transactions, %" PRIu64 " rows, %" PRIu64
	       " ddls in %.2f s (%.0f rows/s)", st->transactions, st->rows, st->ddls, secs,
	       secs > 0 ? (double)(st->rows - rows0) / secs : 0.0);
out:
	if (rc && x.db && x.in_txn)
		rollback(&x);
	if (x.durable.seq)
		register_consumer(&x, txn_time);
	seg_reader_close(r);
	if (x.db)
		mysql_close(x.db);
	fmt_tables_release(&x.tables);
	sl_buf_release(&x.q);
	sl_buf_release(&x.row);
	free(x.parts);
	return rc;
}
