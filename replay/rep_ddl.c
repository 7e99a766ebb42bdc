/* rep_ddl.c - a DDL record: converted for the destination's dialect (ddl/), after every earlier transaction, alone on the control connection, marked pending before and done after; triggers, accounts and statement-format DML never run. */
#include "rep.h"
#include "rep_int.h"
#include "ddl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysql.h>
#include "banned.h"

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

/* Log the first warning of the statement just run on c, with the count. */
static void log_warnings(struct rep_ctx *x, struct rep_worker *c, const struct seg_cursor *cur)
{
	unsigned n = mysql_warning_count(c->db);
	char wh[REP_WHERE_LEN];
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (!n || mysql_real_query(c->db, "SHOW WARNINGS", 13) || !(res = mysql_store_result(c->db)))
		return;
	if ((row = mysql_fetch_row(res)) && mysql_num_fields(res) >= 3)
		sl_log(SL_WARN, "replay", "ddl at %s raised %u warning%s, the first: %s %s: %s (the "
		       "source ran it with the same sql_mode)", rep__where_str(x, cur, wh, sizeof(wh)),
		       n, n > 1 ? "s" : "", row[0] ? row[0] : "", row[1] ? row[1] : "",
		       row[2] ? row[2] : "");
	mysql_free_result(res);
}

/* ---- dialect conversion ---- */

int rep__dest_target(struct rep_ctx *x, struct ddl_target *t, struct sl_err *err)
{
	struct db_server s;
	int rc;

	if ((rc = db_server_detect(x->ctl.db, "destination", &s, err)))
		return rc;
	ddl_target_from_version(t, s.version, s.comment);
	return ddl_target_override(t, x->o->dest_dialect, err);
}

struct ddl_note_ctx {
	const char *where;
	const char *dialect;
};

static void ddl_note(void *ctx, const char *rule, const char *object, const char *what)
{
	const struct ddl_note_ctx *n = ctx;

	sl_log(SL_WARN, "replay", "ddl at %s converted for %s: %s: rule %s: %s", n->where, n->dialect,
	       object, rule, what);
}

/* stmt as the destination takes it, into out; a refusal names the position
 * and the rule. */
static int convert(struct rep_ctx *x, const Sluice__Ddl *d, const struct seg_cursor *cur,
		   const char *stmt, struct sl_buf *out, struct sl_err *err)
{
	struct ddl_target t;
	char wh[REP_WHERE_LEN], sp[300], object[300];
	struct ddl_note_ctx n;
	enum ddl_source src = DDL_SOURCE_UNKNOWN;
	struct sl_err e2 = SL_ERR_INIT;
	int rc;

	if ((rc = rep__dest_target(x, &t, err)))
		return rc;
	if (d->position && d->position->flavor)
		src = !strcmp(d->position->flavor, "mysql") ? DDL_SOURCE_MYSQL :
		      !strcmp(d->position->flavor, "mariadb") ? DDL_SOURCE_MARIADB : DDL_SOURCE_UNKNOWN;
	rep__where_str(x, cur, wh, sizeof(wh));
	n.where = wh;
	n.dialect = ddl_dialect_name(t.dialect);
	ddl_describe(stmt, strlen(stmt), d->db, object, sizeof(object));
	if ((rc = ddl_convert_from(&t, src, object, stmt, strlen(stmt), out, ddl_note, &n, &e2)))
		return sl_err_set(err, rc, "ddl at %s (source position %s) refused for destination "
				  "dialect %s: %s", wh,
				  d->position ? fmt_position_str(d->position, sp, sizeof(sp)) : "unknown",
				  n.dialect, e2.msg);
	return 0;
}

int rep__apply_ddl(struct rep_ctx *x, const Sluice__Ddl *d, const struct seg_cursor *cur,
		     struct sl_err *err)
{
	struct rep_worker *c = &x->ctl;
	struct sl_buf pre = SL_BUF_INIT(1 << 20), conv = SL_BUF_INIT(SL_BUF_UNLIMITED);
	char wh[REP_WHERE_LEN], snip[REP_SNIPPET + 8];
	const char *stmt = d->statement ? d->statement : "";
	int was_pending = x->cp.ddl_pending && rep__cursor_eq(&x->cp.ddl_cur, cur), ran = 0;
	int src_mysql = d->position && d->position->flavor && !strcmp(d->position->flavor, "mysql");
	struct sl_err e3 = SL_ERR_INIT;
	char *marked = NULL;
	enum fmt_stmt_kind kind = fmt_stmt_classify(stmt, strlen(stmt));
	int rc;

	x->gtid[0] = 0;
	/* 0. what it is: some statements are never run (formats/fmt.h) */
	if (kind == FMT_STMT_ACCOUNT || kind == FMT_STMT_DML) {
		char sp[300];

		return sl_err_set(err, kind == FMT_STMT_ACCOUNT ? -SL_ESTREAM : -SL_ECONFIG,
				  "%s at %s (source position %s) refused: %s", fmt_stmt_kind_name(kind),
				  rep__where_str(x, cur, wh, sizeof(wh)),
				  d->position ? fmt_position_str(d->position, sp, sizeof(sp)) : "unknown",
				  kind == FMT_STMT_ACCOUNT ?
				  "accounts are never replayed (it may carry a password; this stream was "
				  "written by a capture that kept it: capture it again)" :
				  "it cannot be applied without its INSERT_ID, RAND and variable context "
				  "(binlog_format=STATEMENT at the source)");
	}
	if (kind == FMT_STMT_TRIGGER) {
		/* The rows a trigger wrote are in the stream: created at switchover. */
		sl_log(SL_INFO, "replay", "trigger statement at %s not run (triggers are created at "
		       "switchover)", rep__where_str(x, cur, wh, sizeof(wh)));
		return 0;
	}
	/* 1. as the destination's dialect takes it (a refusal stops here, before
	 * anything is marked) */
	if ((rc = convert(x, d, cur, stmt, &conv, err)))
		goto out;
	stmt = sl_buf_cstr(&conv);
	/* 2. every transaction before it committed, then mark it pending,
	 * durably, with the schema it found (rep_ddl_seen.c); after a crash
	 * with it pending, a schema changed since says it ran */
	if (was_pending && (rc = rep__ddl_intent_ran(x, cur, &ran, err)))
		goto out;
	if ((rc = rep__plan_drain(x, err)) || (!was_pending && (rc = rep__ddl_intent_note(x, cur, err))) ||
	    (rc = rep__fold(x, cur, err)))
		goto out;
	sl_failpoint("replay.ddl.after-intent");
	/* 3. its session: default database, sql_mode, charset, timestamp */
	if (d->db && d->db[0]) {
		struct sl_err e2 = SL_ERR_INIT;

		if ((rc = sl_buf_adds(&pre, "USE ")) || (rc = fmt_sql_ident(&pre, d->db)))
			goto too_big;
		if (rep__exec(c, sl_buf_cstr(&pre), &e2)) {
			if (mysql_errno(c->db) != 1049) {	/* ER_BAD_DB_ERROR */
				rc = sl_err_set(err, e2.code, "%s (before the ddl at %s)", e2.msg,
						rep__where_str(x, cur, wh, sizeof(wh)));
				goto out;
			}
			sl_log(SL_WARN, "replay", "ddl at %s: default database `%s` does not exist "
			       "on the destination; running without it",
			       rep__where_str(x, cur, wh, sizeof(wh)), d->db);
		}
		sl_buf_reset(&pre);
	}
	if ((rc = sl_buf_adds(&pre, "SET SESSION sql_mode='")))
		goto too_big;
	if (d->has_sql_mode)
		rc = rep__sql_mode_names(&pre, d->sql_mode, src_mysql, c->dest_mariadb);
	else
		rc = sl_buf_adds(&pre, REP_SESSION_SQL_MODE);
	if (rc || (rc = sl_buf_addf(&pre, "',timestamp=%" PRIu64, d->time)))
		goto too_big;
	if (name_ok(d->charset) && (rc = sl_buf_addf(&pre, ";SET NAMES %s", d->charset)))
		goto too_big;
	if ((rc = rep__exec(c, sl_buf_cstr(&pre), err)))
		goto out;
	/* 4. the statement itself, marked as replay's (a capture of the
	 * destination leaves it out) */
	marked = rep__ddl_marked(stmt);
	if (ran) {
		db_sql_snippet(stmt, strlen(stmt), REP_SNIPPET, snip, sizeof(snip));
		sl_log(SL_WARN, "replay", "ddl at %s was already applied before a restart (the "
		       "destination's schema changed since it was marked pending): %s",
		       rep__where_str(x, cur, wh, sizeof(wh)), snip);
	} else if ((rc = rep__ddl_beacon(c, err))) {
		goto out;
	} else if (rep__exec(c, marked, &e3)) {
		unsigned e = mysql_errno(c->db);
		char reason[600], ctx[REP_WHERE_LEN + 16];

		db_reason(mysql_error(c->db), e, reason, sizeof(reason));
		snprintf(ctx, sizeof(ctx), "in ddl at %s", rep__where_str(x, cur, wh, sizeof(wh)));
		if (was_pending && rep__ddl_already_done(e)) {
			db_sql_snippet(stmt, strlen(stmt), REP_SNIPPET, snip, sizeof(snip));
			sl_log(SL_WARN, "replay", "ddl at %s was already applied before a restart "
			       "(%s): %s", wh, reason, snip);
		} else {
			rc = rep__stmt_error(err, -SL_EAPPLY, reason, ctx, stmt, strlen(stmt));
			rep__rollback(c);
			goto out;
		}
	}
	/* A DDL's warnings (a column shortened, a note that a table exists)
	 * are the source's own: it ran the same statement with the same
	 * sql_mode on the same rows, so they are logged, not refused. */
	if (!ran)
		log_warnings(x, c, cur);
	sl_failpoint("replay.ddl.after-ddl");	/* ran, still marked pending */
	/* 5. back to our session, move the checkpoint past it, clear pending */
	if ((rc = rep__exec(c, "SET SESSION sql_mode='" REP_SESSION_SQL_MODE "',timestamp=DEFAULT;"
			    "SET NAMES utf8mb4", err)))
		goto out;
	memset(&x->lwm, 0, sizeof(x->lwm));
	x->lwm.cur = *cur;
	if (d->position) {
		snprintf(x->lwm.file, sizeof(x->lwm.file), "%s", d->position->file ? d->position->file : "");
		snprintf(x->lwm.gtid, sizeof(x->lwm.gtid), "%s", d->position->gtid ? d->position->gtid : "");
		x->lwm.offset = d->position->offset;
		fmt_position_str(d->position, x->last_pos, sizeof(x->last_pos));
	}
	x->lwm.time = d->time;
	if ((rc = rep__fold(x, NULL, err)))
		goto out;
	rep__deps_reset_tables(&x->deps);
	rep__cols_reset(x);
	x->st->ddls++;
	goto out;
too_big:
	rc = sl_err_set(err, rc, "ddl at %s: cannot build its session settings: %s",
			rep__where_str(x, cur, wh, sizeof(wh)), sl_strerror(rc));
out:
	free(marked);
	sl_buf_release(&pre);
	sl_buf_release(&conv);
	return rc;
}
