/* ver_fix.c - correction SQL and applying it. */
#include "ver_int.h"
#include "fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

/* ---- correction SQL ---- */

static const char fix_session[] = "SET NAMES utf8mb4, character_set_results = NULL, "
	"time_zone = '+00:00', SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES', "
	"foreign_key_checks = 0";

struct fixer {
	FILE *f;
	const char *path;
	struct ver_conn *dst;	/* apply: NULL otherwise */
	unsigned in_txn;
	struct ver_stats *st;
};

static int fix_stmt(struct fixer *fx, const char *sql, size_t n, struct sl_err *err)
{
	int rc;

	if (fx->f && (fwrite(sql, 1, n, fx->f) != n || fputs(";\n", fx->f) == EOF))
		return sl_err_set(err, -EIO, "cannot write '%s': %s", fx->path, strerror(errno));
	fx->st->fix_statements++;
	if (!fx->dst)
		return 0;
	if (!fx->in_txn && (rc = ver__exec(fx->dst, "START TRANSACTION", 17, err)))
		return rc;
	if ((rc = ver__exec(fx->dst, sql, n, err)))
		return rc;
	fx->st->fix_applied++;
	if (++fx->in_txn >= 200) {
		fx->in_txn = 0;
		return ver__exec(fx->dst, "COMMIT", 6, err);
	}
	return 0;
}

/* A generated column (EXTRA 'VIRTUAL GENERATED', 'STORED GENERATED'; MariaDB
 * 10.1 'VIRTUAL', 'PERSISTENT'; not MySQL's 'DEFAULT_GENERATED', an
 * expression default): compared like any column, since both sides compute
 * it, but never written: the destination refuses a value for it (MariaDB
 * 1906, MySQL 3105) and computes it from the others. */
static int generated(const struct ver_col *c)
{
	static const char *const words[] = { "VIRTUAL", "STORED GENERATED", "PERSISTENT" };

	for (const char *p = c->extra; p && *p; p++)
		for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (!strncasecmp(p, words[k], strlen(words[k])))
				return 1;
	return 0;
}

/* The SELECT list of every column, and in *cols_out the columns a
 * correction writes (not the generated ones). */
static char *fetch_list(const struct ver_table *t, char **cols_out)
{
	struct sl_buf sel = SL_BUF_INIT(SL_BUF_UNLIMITED), cols = SL_BUF_INIT(SL_BUF_UNLIMITED);

	for (size_t i = 0; i < t->ncols; i++) {
		const struct ver_col *c = &t->cols[i];

		if (i)
			sl_buf_addc(&sel, ',');
		if (!generated(c)) {
			if (cols.len)
				sl_buf_addc(&cols, ',');
			fmt_sql_ident(&cols, c->name);
		}
		if (c->enc == VER_ENC_FLOAT) {
			sl_buf_adds(&sel, "CAST(");
			fmt_sql_ident(&sel, c->name);
			sl_buf_adds(&sel, " AS DOUBLE)");
		} else {
			fmt_sql_ident(&sel, c->name);
		}
	}
	sl_buf_cstr(&sel);
	sl_buf_cstr(&cols);
	*cols_out = (char *)sl_buf_detach(&cols, NULL);
	return (char *)sl_buf_detach(&sel, NULL);
}

/* REPLACE/INSERT every row that q returns on the source, one row in memory at a time
 * (the statements go to the file and to the destination's own connection). */
static int copy_rows(struct fixer *fx, struct ver_table *t, struct ver_conn *src, const char *q,
		     const char *verb, const char *cols, struct sl_err *err)
{
	struct sl_buf s = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = 0;

	if (mysql_real_query(src->db, q, strlen(q)) || !(res = mysql_use_result(src->db)))
		return ver__db_error(src, q, err);
	while (!rc && (row = mysql_fetch_row(res))) {
		unsigned long *len = mysql_fetch_lengths(res);

		sl_buf_reset(&s);
		sl_buf_addf(&s, "%s INTO %s (%s) VALUES (", verb, t->dq, cols);
		for (size_t i = 0, n = 0; i < t->ncols && !rc; i++) {
			if (generated(&t->cols[i]))
				continue;
			if (n++)
				sl_buf_addc(&s, ',');
			rc = ver_sql_literal(&s, t->cols[i].lit, t->cols[i].charset, row[i], len[i]);
		}
		if (rc) {
			rc = sl_err_set(err, rc, "%s: a value cannot be rendered as SQL", t->sq);
			break;
		}
		sl_buf_addc(&s, ')');
		rc = fix_stmt(fx, (const char *)s.data, s.len, err);
	}
	if (!rc && mysql_errno(src->db))
		rc = ver__db_error(src, q, err);
	mysql_free_result(res);
	sl_buf_release(&s);
	return rc;
}

static int fix_one(struct fixer *fx, const struct ver_opts *o, struct ver_diff *d,
		   struct ver_conn *src, struct sl_err *err)
{
	struct ver_table *t = d->t;
	struct sl_buf w = SL_BUF_INIT(SL_BUF_UNLIMITED);
	char *cols = NULL, *sel = NULL, *q = NULL;
	int rc = 0;

	if (d->resolved || d->kind == VER_SCHEMA || d->kind == VER_MISSING_TABLE ||
	    d->kind == VER_EXTRA_TABLE)
		return 0;
	if (d->kind == VER_EXTRA && !o->fix_extra)
		return 0;
	sel = fetch_list(t, &cols);
	if (d->keyless) {
		if (d->kind == VER_EXTRA) {
			q = sl_xasprintf("DELETE FROM %s WHERE %s = %" PRIu64 " LIMIT %" PRId64, t->dq,
					 t->hash_expr, d->hash, -d->count);
			rc = fix_stmt(fx, q, strlen(q), err);
		} else {
			q = sl_xasprintf("SELECT %s FROM %s WHERE %s = %" PRIu64 " LIMIT %" PRId64, sel, t->sq,
					 t->hash_expr, d->hash, d->count);
			rc = copy_rows(fx, t, src, q, "INSERT", cols, err);
		}
		goto out;
	}
	if ((rc = ver__key_where(&w, t, d->key, d->keylen))) {
		rc = sl_err_set(err, rc, "%s: a key value cannot be rendered as SQL", t->sq);
		goto out;
	}
	if (d->kind == VER_EXTRA) {
		q = sl_xasprintf("DELETE FROM %s WHERE %s", t->dq, sl_buf_cstr(&w));
		rc = fix_stmt(fx, q, strlen(q), err);
	} else {
		q = sl_xasprintf("SELECT %s FROM %s WHERE %s", sel, t->sq, sl_buf_cstr(&w));
		rc = copy_rows(fx, t, src, q, "REPLACE", cols, err);
	}
out:
	free(q);
	free(sel);
	free(cols);
	sl_buf_release(&w);
	return rc;
}

int ver__fix(const struct ver_opts *o, struct ver_diffs *diffs, int crc, struct ver_conn *src,
	     struct ver_conn *dst, struct ver_stats *st, struct sl_err *err)
{
	struct fixer fx = { NULL, o->fix_sql_path, o->apply_fix ? dst : NULL, 0, st };
	int rc = 0;

	(void)crc;
	if (o->fix_sql_path) {
		fx.f = fopen(o->fix_sql_path, "w");
		if (!fx.f)
			return sl_err_set(err, -errno, "cannot create '%s': %s", o->fix_sql_path, strerror(errno));
		fprintf(fx.f, "-- sluice verify: correction SQL for the destination\n%s;\n", fix_session);
	}
	if (fx.dst && (rc = ver__exec(fx.dst, fix_session, sizeof(fix_session) - 1, err)))
		goto out;
	for (size_t i = 0; i < diffs->n && !rc; i++)
		rc = fix_one(&fx, o, &diffs->v[i], src, err);
	if (!rc && fx.dst && fx.in_txn)
		rc = ver__exec(fx.dst, "COMMIT", 6, err);
	if (rc && fx.dst && fx.in_txn)
		ver__exec(fx.dst, "ROLLBACK", 8, NULL);
out:
	if (fx.f) {
		if (fclose(fx.f) && !rc)
			rc = sl_err_set(err, -EIO, "cannot write '%s': %s", o->fix_sql_path, strerror(errno));
	}
	return rc;
}

int ver__describe_keyless(struct ver_diff *d, struct ver_conn *src, struct ver_conn *dst,
			  struct sl_err *err)
{
	struct ver_table *t = d->t;
	struct ver_conn *c = d->kind == VER_MISSING ? src : dst;
	struct sl_buf h = SL_BUF_INIT(SL_BUF_UNLIMITED), j = SL_BUF_INIT(SL_BUF_UNLIMITED),
		v = SL_BUF_INIT(SL_BUF_UNLIMITED);
	char *cols, *sel = fetch_list(t, &cols);
	char *q = sl_xasprintf("SELECT %s FROM %s WHERE %s = %" PRIu64 " LIMIT 1", sel,
			       c == src ? t->sq : t->dq, t->hash_expr, d->hash);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc = ver__query(c, q, &res, err);

	if (rc)
		goto out;
	sl_buf_addf(&j, "{\"count\":%" PRId64 ",\"row\":{", d->count < 0 ? -d->count : d->count);
	sl_buf_addf(&h, "%" PRId64 " cop%s of (", d->count < 0 ? -d->count : d->count,
		    (d->count == 1 || d->count == -1) ? "y" : "ies");
	if ((row = mysql_fetch_row(res))) {
		unsigned long *len = mysql_fetch_lengths(res);

		for (size_t i = 0; i < t->ncols; i++) {
			const struct ver_col *col = &t->cols[i];

			sl_buf_reset(&v);
			ver_value_show(&v, row[i], len[i], col->lit == VER_LIT_BIN || col->lit == VER_LIT_GEOM, 64);
			sl_buf_addf(&h, "%s%s=%s", i ? ", " : "", col->name, sl_buf_cstr(&v));
			if (i)
				sl_buf_addc(&j, ',');
			fmt_json_str(&j, col->name, strlen(col->name));
			sl_buf_addc(&j, ':');
			fmt_json_str(&j, v.data, v.len);
		}
	}
	sl_buf_adds(&j, "}}");
	sl_buf_addc(&h, ')');
	free(d->detail);
	free(d->human);
	sl_buf_cstr(&j);
	sl_buf_cstr(&h);
	d->detail = (char *)sl_buf_detach(&j, NULL);
	d->human = (char *)sl_buf_detach(&h, NULL);
out:
	if (res)
		mysql_free_result(res);
	free(q);
	free(sel);
	free(cols);
	sl_buf_release(&h);
	sl_buf_release(&j);
	sl_buf_release(&v);
	return rc;
}
