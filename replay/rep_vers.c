/* rep_vers.c - system-versioned tables (MariaDB WITH SYSTEM VERSIONING): replay applies their current rows. */
#include "rep.h"
#include "rep_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>
#include "banned.h"

/*
 * What the source's binlog holds for a versioned table: every row image
 * carries its ROW START and ROW END columns (implicit ones are named
 * row_start and row_end), and the primary key includes ROW END. A row is
 * current while its ROW END is the maximum of its type. The server logs
 *   INSERT             an INSERT of a current row;
 *   UPDATE             an UPDATE of the current row (a new ROW START), and
 *                      an INSERT of the history row (ROW END = that time);
 *   DELETE             an UPDATE that closes the current row (ROW END set);
 *   DELETE HISTORY     DELETEs of history rows.
 * SQL cannot write ROW START / ROW END on the destination (only with
 * system_versioning_insert_history and secure_timestamp, and even then an
 * UPDATE makes its own history row besides the one replayed), so replay
 * applies the current rows and lets the destination keep its own history:
 * those columns are left out, an UPDATE that closes the current row is a
 * DELETE of it, and a change to a history row is skipped. The current rows
 * end up equal to the source's, exactly once; the history on the
 * destination starts with the replay, at its own times.
 */

static const Sluice__Value *value_at(const Sluice__Row *r, int32_t i)
{
	return r && i >= 0 && (size_t)i < r->n_values ? r->values[i] : NULL;
}

/* 1: ROW END at its maximum (a current row), 0: a history row, -1: unknown. */
static int is_current(const Sluice__Row *r, int32_t end)
{
	const Sluice__Value *v = value_at(r, end);

	if (!v)
		return -1;
	/* TIMESTAMP(6): 2038-01-19 03:14:07.999999 (4294967295.999999 since
	 * MariaDB 11.5); transaction-precise: BIGINT UNSIGNED 2^64-1. A
	 * history row's ROW END is the time it was closed, never later. */
	if (v->kind == SLUICE__VALUE__KIND__TIMESTAMP)
		return v->i >= INT32_MAX;
	if (v->kind == SLUICE__VALUE__KIND__UINT)
		return v->u == UINT64_MAX;
	return -1;
}

void rep__vers_forget(struct rep_ctx *x, uint32_t ref)
{
	struct rep_vers *v;

	if (ref >= x->nvers)
		return;
	v = &x->vers[ref];
	if (v->td) {
		free(v->td->columns);
		free(v->td->primary_key);
		free(v->td);
	}
	free(v->vals);
	memset(v, 0, sizeof(*v));
}

void rep__vers_reset(struct rep_ctx *x)
{
	for (size_t i = 0; i < x->nvers; i++)
		rep__vers_forget(x, (uint32_t)i);
}

void rep__vers_release(struct rep_ctx *x)
{
	rep__vers_reset(x);
	free(x->vers);
	x->vers = NULL;
	x->nvers = 0;
}

static int32_t column_index(const Sluice__TableDef *td, const char *name)
{
	for (size_t i = 0; i < td->n_columns; i++)
		if (td->columns[i]->name && !strcmp(td->columns[i]->name, name))
			return (int32_t)i;
	return -1;
}

/* Ask the destination whether td's table is versioned, and by which
 * columns; fill v (start/end -1: not versioned). */
static int lookup(struct rep_ctx *x, const Sluice__TableDef *td, struct rep_vers *v,
		  struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(4096);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char start[200] = "row_start", end[200] = "row_end";
	int rc, versioned;

	v->start = v->end = -1;
	if ((rc = sl_buf_adds(&q, "SELECT 1 FROM information_schema.TABLES WHERE "
			      "TABLE_TYPE='SYSTEM VERSIONED' AND TABLE_SCHEMA=")) ||
	    (rc = fmt_sql_str(&q, td->db)) || (rc = sl_buf_adds(&q, " AND TABLE_NAME=")) ||
	    (rc = fmt_sql_str(&q, td->name)))
		goto out;
	if (mysql_real_query(x->ctl.db, (const char *)q.data, q.len) ||
	    !(res = mysql_store_result(x->ctl.db))) {
		rc = rep__db_error(&x->ctl, "looking up system versioning", err);
		goto out;
	}
	versioned = mysql_num_rows(res) > 0;
	mysql_free_result(res);
	res = NULL;
	if (versioned) {
		/* named period columns are listed; implicit ones are not */
		sl_buf_reset(&q);
		if ((rc = sl_buf_adds(&q, "SELECT COLUMN_NAME,GENERATION_EXPRESSION FROM "
				      "information_schema.COLUMNS WHERE GENERATION_EXPRESSION IN "
				      "('ROW START','ROW END') AND TABLE_SCHEMA=")) ||
		    (rc = fmt_sql_str(&q, td->db)) || (rc = sl_buf_adds(&q, " AND TABLE_NAME=")) ||
		    (rc = fmt_sql_str(&q, td->name)))
			goto out;
		if (mysql_real_query(x->ctl.db, (const char *)q.data, q.len) ||
		    !(res = mysql_store_result(x->ctl.db))) {
			rc = rep__db_error(&x->ctl, "looking up system versioning", err);
			goto out;
		}
		while ((row = mysql_fetch_row(res)))
			if (row[0] && row[1])
				snprintf(!strcmp(row[1], "ROW START") ? start : end, sizeof(start), "%s",
					 row[0]);
		v->start = column_index(td, start);
		v->end = column_index(td, end);
		if (v->start < 0 || v->end < 0)
			v->start = v->end = -1;	/* not versioned at the source */
	}
	rc = rep__exec(&x->ctl, "COMMIT", err);
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	if (rc < 0 && !err->code)
		rc = sl_err_set(err, rc, "cannot build a versioning lookup: %s", sl_strerror(rc));
	return rc;
}

/* The TableDef without the period columns. */
static Sluice__TableDef *strip_def(const Sluice__TableDef *td, int32_t a, int32_t b)
{
	Sluice__TableDef *d = sl_xcalloc(1, sizeof(*d));
	size_t n = 0;

	*d = *td;
	d->columns = sl_xcalloc(td->n_columns + 1, sizeof(*d->columns));
	for (size_t i = 0; i < td->n_columns; i++)
		if ((int32_t)i != a && (int32_t)i != b)
			d->columns[n++] = td->columns[i];
	d->n_columns = n;
	d->primary_key = sl_xcalloc(td->n_primary_key + 1, sizeof(*d->primary_key));
	n = 0;
	for (size_t i = 0; i < td->n_primary_key; i++) {
		int32_t k = (int32_t)td->primary_key[i];

		if (k == a || k == b)
			continue;
		d->primary_key[n++] = (uint32_t)(k - (k > a) - (k > b));
	}
	d->n_primary_key = n;
	return d;
}

/* r without the period columns, its values in vals (pointers into r). */
static Sluice__Row *strip_row(const Sluice__Row *r, int32_t a, int32_t b, Sluice__Row *out,
			      Sluice__Value **vals)
{
	size_t n = 0;

	if (!r)
		return NULL;
	*out = *r;
	for (size_t i = 0; i < r->n_values; i++)
		if ((int32_t)i != a && (int32_t)i != b)
			vals[n++] = r->values[i];
	out->values = vals;
	out->n_values = n;
	return out;
}

int rep__vers_map(struct rep_ctx *x, const Sluice__TableDef **td, const Sluice__RowChange **c,
		  const struct seg_cursor *cur, struct sl_err *err)
{
	const Sluice__TableDef *t = *td;
	const Sluice__RowChange *rc0 = *c;
	struct rep_vers *v;
	char tn[200], wh[REP_WHERE_LEN];
	int bc, ac, rc;

	if (t->ref >= x->nvers) {
		size_t n = x->nvers ? x->nvers : 64;

		while (n <= t->ref)
			n *= 2;
		x->vers = sl_xrealloc(x->vers, n * sizeof(*x->vers));
		memset(x->vers + x->nvers, 0, (n - x->nvers) * sizeof(*x->vers));
		x->nvers = n;
	}
	v = &x->vers[t->ref];
	if (!v->checked) {
		if ((rc = lookup(x, t, v, err)))
			return rc;
		v->checked = 1;
		if (v->start >= 0) {
			v->td = strip_def(t, v->start, v->end);
			v->vals = sl_xcalloc(2 * t->n_columns + 2, sizeof(*v->vals));
		}
	}
	if (v->start < 0)
		return 1;
	bc = rc0->before ? is_current(rc0->before, v->end) : 1;
	ac = rc0->after ? is_current(rc0->after, v->end) : 1;
	if (bc < 0 || ac < 0)
		return sl_err_set(err, -SL_ECORRUPT, "%s at %s: system-versioned table whose row end "
				  "column `%s` holds neither a timestamp nor a transaction id",
				  rep__table_name(x, t->ref, tn, sizeof(tn)),
				  rep__where_str(x, cur, wh, sizeof(wh)), t->columns[v->end]->name);
	if ((rc0->before && rc0->before->n_values != t->n_columns) ||
	    (rc0->after && rc0->after->n_values != t->n_columns))
		return sl_err_set(err, -SL_EINVAL_ARG, "%s at %s: row does not match its table "
				  "definition", rep__table_name(x, t->ref, tn, sizeof(tn)),
				  rep__where_str(x, cur, wh, sizeof(wh)));
	v->change = *rc0;
	switch (rc0->op) {
	case SLUICE__ROW_CHANGE__OP__INSERT:
		if (!ac)
			return 0;	/* a history row */
		break;
	case SLUICE__ROW_CHANGE__OP__UPDATE:
		if (!bc && !ac)
			return 0;	/* a change to history */
		if (!bc) {		/* a row made current again */
			v->change.op = SLUICE__ROW_CHANGE__OP__INSERT;
			v->change.before = NULL;
		} else if (!ac) {	/* the current row closed: deleted */
			v->change.op = SLUICE__ROW_CHANGE__OP__DELETE;
			v->change.after = NULL;
		}
		break;
	case SLUICE__ROW_CHANGE__OP__DELETE:
		if (!bc)
			return 0;	/* DELETE HISTORY */
		break;
	default:
		break;
	}
	v->change.before = strip_row(v->change.before, v->start, v->end, &v->rows[0], v->vals);
	v->change.after = strip_row(v->change.after, v->start, v->end, &v->rows[1],
				    v->vals + t->n_columns + 1);
	*td = v->td;
	*c = &v->change;
	return 1;
}
