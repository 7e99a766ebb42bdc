/* rep_cols.c - columns the destination computes itself (generated columns, system-versioning period columns): found once per table, left out of every statement. */
#include "rep.h"
#include "rep_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <mysql.h>
#include "banned.h"

/*
 * information_schema.COLUMNS says which columns are generated:
 *   MariaDB 10.2+  EXTRA 'VIRTUAL GENERATED' / 'STORED GENERATED' (10.1:
 *                  'VIRTUAL' / 'PERSISTENT'), GENERATION_EXPRESSION the
 *                  expression (NULL for other columns); the period columns
 *                  of a versioned table are 'STORED GENERATED' with the
 *                  expression 'ROW START' / 'ROW END' (implicit ones are
 *                  not listed at all)
 *   MySQL 5.7+     EXTRA 'VIRTUAL GENERATED' / 'STORED GENERATED',
 *                  GENERATION_EXPRESSION '' for other columns; EXTRA
 *                  'DEFAULT_GENERATED' is an expression DEFAULT, an
 *                  ordinary column that replay writes
 * A column the destination computes is left out even where the source
 * stored it as a plain column, and written where the destination stores it
 * plainly: the destination's definition decides.
 */

static int contains(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; s && *s; s++)
		if (!strncasecmp(s, word, n))
			return 1;
	return 0;
}

/* REP_DROP_* for a column of the destination, or 0. */
static uint8_t computed(const char *extra, const char *expr)
{
	if (expr && (!strcmp(expr, "ROW START") || !strcmp(expr, "ROW END")))
		return REP_DROP_PERIOD;
	if (contains(extra, "VIRTUAL") || contains(extra, "STORED GENERATED") ||
	    contains(extra, "PERSISTENT"))
		return REP_DROP_GENERATED;
	if (expr && expr[0] && !contains(extra, "DEFAULT_GENERATED"))
		return REP_DROP_GENERATED;
	return 0;
}

static int32_t column_index(const Sluice__TableDef *td, const char *name)
{
	for (size_t i = 0; i < td->n_columns; i++)
		if (td->columns[i]->name && !strcmp(td->columns[i]->name, name))
			return (int32_t)i;
	/* column names are case-insensitive */
	for (size_t i = 0; i < td->n_columns; i++)
		if (td->columns[i]->name && !strcasecmp(td->columns[i]->name, name))
			return (int32_t)i;
	return -1;
}

static int query(struct rep_worker *w, struct sl_buf *q, const char *select, const char *db,
		 const char *table, MYSQL_RES **res, struct sl_err *err)
{
	int rc;

	sl_buf_reset(q);
	if ((rc = sl_buf_adds(q, select)) || (rc = sl_buf_adds(q, " TABLE_SCHEMA=")) ||
	    (rc = fmt_sql_str(q, db)) || (rc = sl_buf_adds(q, " AND TABLE_NAME=")) ||
	    (rc = fmt_sql_str(q, table)))
		return sl_err_set(err, rc, "cannot look up the columns of `%s`.`%s`: %s", db, table,
				  sl_strerror(rc));
	if (mysql_real_query(w->db, (const char *)q->data, q->len) || !(*res = mysql_store_result(w->db))) {
		rc = rep__db_error(w, "looking up generated and system-versioning columns", err);
		return sl_err_prefix(err, "`%s`.`%s`", db, table);
	}
	return 0;
}

int rep__dest_cols(struct rep_worker *w, const char *db, const char *table,
		   const Sluice__TableDef *td, uint8_t *drop, int32_t *start, int32_t *end,
		   struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(4096);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char sname[200] = "row_start", ename[200] = "row_end";
	int rc, versioned, n = 0;

	memset(drop, 0, td->n_columns);
	*start = *end = -1;
	if ((rc = query(w, &q, "SELECT 1 FROM information_schema.TABLES WHERE "
			"TABLE_TYPE='SYSTEM VERSIONED' AND", db, table, &res, err)))
		goto out;
	versioned = mysql_num_rows(res) > 0;
	mysql_free_result(res);
	res = NULL;
	if ((rc = query(w, &q, "SELECT COLUMN_NAME,EXTRA,GENERATION_EXPRESSION FROM "
			"information_schema.COLUMNS WHERE", db, table, &res, err)))
		goto out;
	while ((row = mysql_fetch_row(res))) {
		uint8_t k;
		int32_t i;

		if (!row[0] || !(k = computed(row[1], row[2])))
			continue;
		if (k == REP_DROP_PERIOD) {
			/* named period columns are listed; implicit ones are not */
			if (versioned)
				snprintf(!strcmp(row[2], "ROW START") ? sname : ename, sizeof(sname), "%s",
					 row[0]);
			continue;
		}
		if ((i = column_index(td, row[0])) >= 0 && !drop[i]) {
			drop[i] = k;
			n++;
		}
	}
	if (versioned) {
		*start = column_index(td, sname);
		*end = column_index(td, ename);
		if (*start < 0 || *end < 0 || *start == *end || drop[*start] || drop[*end]) {
			*start = *end = -1;	/* not versioned at the source */
		} else {
			drop[*start] = drop[*end] = REP_DROP_PERIOD;
			n += 2;
		}
	}
	rc = rep__exec(w, "COMMIT", err);	/* end the read (autocommit is off) */
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	return rc ? rc : n;
}

Sluice__TableDef *rep__def_strip(const Sluice__TableDef *td, const uint8_t *drop, int *key_lost)
{
	Sluice__TableDef *d = sl_xcalloc(1, sizeof(*d));
	size_t n = 0;

	*key_lost = 0;
	*d = *td;
	d->columns = sl_xcalloc(td->n_columns + 1, sizeof(*d->columns));
	for (size_t i = 0; i < td->n_columns; i++)
		if (!drop[i])
			d->columns[n++] = td->columns[i];
	d->n_columns = n;
	d->primary_key = sl_xcalloc(td->n_primary_key + 1, sizeof(*d->primary_key));
	n = 0;
	for (size_t i = 0; i < td->n_primary_key; i++) {
		uint32_t k = td->primary_key[i], before = 0;

		if (k >= td->n_columns) {	/* rep_sql.c refuses it */
			d->primary_key[n++] = k;
			continue;
		}
		if (drop[k] == REP_DROP_GENERATED)
			*key_lost = 1;
		if (drop[k])
			continue;
		for (uint32_t j = 0; j < k; j++)
			before += drop[j] != 0;
		d->primary_key[n++] = k - before;
	}
	d->n_primary_key = *key_lost ? 0 : n;
	return d;
}

void rep__def_strip_free(Sluice__TableDef *d)
{
	if (!d)
		return;
	free(d->columns);
	free(d->primary_key);
	free(d);
}

Sluice__Row *rep__row_strip(const Sluice__Row *r, const uint8_t *drop, Sluice__Row *out,
			    Sluice__Value **vals)
{
	size_t n = 0;

	if (!r)
		return NULL;
	*out = *r;
	for (size_t i = 0; i < r->n_values; i++)
		if (!drop[i])
			vals[n++] = r->values[i];
	out->values = vals;
	out->n_values = n;
	return out;
}

/* ---- the cache by table_ref (the change stream) ---- */

void rep__cols_forget(struct rep_ctx *x, uint32_t ref)
{
	struct rep_tcols *v;

	if (ref >= x->ntcols)
		return;
	v = &x->tcols[ref];
	rep__def_strip_free(v->td);
	free(v->drop);
	free(v->vals);
	memset(v, 0, sizeof(*v));
}

void rep__cols_reset(struct rep_ctx *x)
{
	for (size_t i = 0; i < x->ntcols; i++)
		rep__cols_forget(x, (uint32_t)i);
}

void rep__cols_release(struct rep_ctx *x)
{
	rep__cols_reset(x);
	free(x->tcols);
	x->tcols = NULL;
	x->ntcols = 0;
}

static int lookup(struct rep_ctx *x, const Sluice__TableDef *t, struct rep_tcols *v,
		  struct sl_err *err)
{
	uint8_t *drop = sl_xcalloc(t->n_columns + 1, 1);
	int n, key_lost = 0;

	v->start = v->end = -1;
	n = t->db && t->name ? rep__dest_cols(&x->ctl, t->db, t->name, t, drop, &v->start, &v->end,
					      err) : 0;
	if (n <= 0) {
		free(drop);
		return n;
	}
	v->drop = drop;
	v->td = rep__def_strip(t, drop, &key_lost);
	v->vals = sl_xcalloc(2 * t->n_columns + 2, sizeof(*v->vals));
	if (key_lost)
		sl_log(SL_WARN, "replay", "`%s`.`%s`: its primary key has a generated column on the "
		       "destination: updates and deletes find their row by every other column (no "
		       "index for that)", t->db, t->name);
	return 0;
}

int rep__cols_map(struct rep_ctx *x, const Sluice__TableDef **td, const Sluice__RowChange **c,
		  const struct seg_cursor *cur, struct sl_err *err)
{
	const Sluice__TableDef *t = *td;
	const Sluice__RowChange *rc0 = *c;
	struct rep_tcols *v;
	char tn[200], wh[REP_WHERE_LEN];
	int rc;

	if (t->ref >= x->ntcols) {
		size_t n = x->ntcols ? x->ntcols : 64;

		while (n <= t->ref)
			n *= 2;
		x->tcols = sl_xrealloc(x->tcols, n * sizeof(*x->tcols));
		memset(x->tcols + x->ntcols, 0, (n - x->ntcols) * sizeof(*x->tcols));
		x->ntcols = n;
	}
	v = &x->tcols[t->ref];
	if (!v->checked) {
		if ((rc = lookup(x, t, v, err)))
			return rc;
		v->checked = 1;
	}
	if (!v->td)
		return 1;
	if ((rc0->before && rc0->before->n_values != t->n_columns) ||
	    (rc0->after && rc0->after->n_values != t->n_columns))
		return sl_err_set(err, -SL_EINVAL_ARG, "%s at %s: row does not match its table "
				  "definition", rep__table_name(x, t->ref, tn, sizeof(tn)),
				  rep__where_str(x, cur, wh, sizeof(wh)));
	v->change = *rc0;
	if (v->start >= 0 && (rc = rep__vers_change(x, t, v, cur, err)) <= 0)
		return rc;	/* 0: a history row */
	v->change.before = rep__row_strip(v->change.before, v->drop, &v->rows[0], v->vals);
	v->change.after = rep__row_strip(v->change.after, v->drop, &v->rows[1],
					 v->vals + t->n_columns + 1);
	*td = v->td;
	*c = &v->change;
	return 1;
}
