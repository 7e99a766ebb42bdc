/* rep_vers.c - system-versioned tables (MariaDB WITH SYSTEM VERSIONING): replay applies their current rows. */
#include "rep.h"
#include "rep_int.h"

#include <stdint.h>
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
 * destination starts with the replay, at its own times. Which columns are
 * the period columns, and leaving them out, is rep_cols.c's, with the
 * generated columns.
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

int rep__vers_change(struct rep_ctx *x, const Sluice__TableDef *t, struct rep_tcols *v,
		     const struct seg_cursor *cur, struct sl_err *err)
{
	const Sluice__RowChange *rc0 = &v->change;
	char tn[200], wh[REP_WHERE_LEN];
	int bc, ac;

	bc = rc0->before ? is_current(rc0->before, v->end) : 1;
	ac = rc0->after ? is_current(rc0->after, v->end) : 1;
	if (bc < 0 || ac < 0)
		return sl_err_set(err, -SL_ECORRUPT, "%s at %s: system-versioned table whose row end "
				  "column `%s` holds neither a timestamp nor a transaction id",
				  rep__table_name(x, t->ref, tn, sizeof(tn)),
				  rep__where_str(x, cur, wh, sizeof(wh)), t->columns[v->end]->name);
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
	return 1;
}
