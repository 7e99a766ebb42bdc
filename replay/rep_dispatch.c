/* rep_dispatch.c - replay's dispatch stage: a batch's query to an idle worker, the waits that keep conflicting transactions in source order, and how tables are keyed. */
#include "rep.h"
#include "rep_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <mysql.h>
#include "banned.h"

/* The first failed worker's message (call with pool.mu held). */
static int pool_failed(struct rep_ctx *x, struct sl_err *err)
{
	for (unsigned i = 0; i < x->pool.n; i++)
		if (x->pool.w[i].state == W_FAILED)
			return rep__fail_message(x, &x->pool.w[i], err);
	return 0;
}

/* ---- handing out work ---- */

int rep__send(struct rep_ctx *x, struct sl_err *err)
{
	struct rep_worker *w = x->cur;
	int rc;

	if (!w)
		return 0;
	if ((rc = rep__close_open(w)))
		return sl_err_set(err, rc, "cannot close a statement: %s", sl_strerror(rc));
	if (!w->q.len)
		return 0;
	pthread_mutex_lock(&x->pool.mu);
	w->state = W_BUSY;
	pthread_cond_signal(&w->go);
	pthread_mutex_unlock(&x->pool.mu);
	return 0;
}

unsigned rep__default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 2 : n > 8 ? 16 : 2 * (unsigned)n;
}

int rep__any_busy_locked(const struct rep_ctx *x)
{
	for (unsigned i = 0; i < x->pool.n; i++)
		if (x->pool.w[i].state == W_BUSY)
			return 1;
	return 0;
}

/* Wait until w is no longer busy (0), or report a failure of any worker. */
int rep__wait_idle(struct rep_ctx *x, struct rep_worker *w, struct sl_err *err)
{
	int rc;

	pthread_mutex_lock(&x->pool.mu);
	while (!(rc = pool_failed(x, err)) && w && w->state == W_BUSY)
		pthread_cond_wait(&x->pool.cv, &x->pool.mu);
	pthread_mutex_unlock(&x->pool.mu);
	return rc;
}

/* Every worker idle (or a failure). */
int rep__wait_all(struct rep_ctx *x, struct sl_err *err)
{
	int rc;

	pthread_mutex_lock(&x->pool.mu);
	while (!(rc = pool_failed(x, err)) && rep__any_busy_locked(x))
		pthread_cond_wait(&x->pool.cv, &x->pool.mu);
	pthread_mutex_unlock(&x->pool.mu);
	if (!rc)
		rep__advance_lwm(x);
	return rc;
}

/* An idle worker to fill, waiting for one when all are busy. */
int rep__acquire(struct rep_ctx *x, struct sl_err *err)
{
	static unsigned next;
	int rc;

	pthread_mutex_lock(&x->pool.mu);
	for (;;) {
		if ((rc = pool_failed(x, err)))
			break;
		for (unsigned i = 0; i < x->pool.n && !x->cur; i++) {
			struct rep_worker *w = &x->pool.w[(next + i) % x->pool.n];

			if (w->state == W_IDLE)
				x->cur = w;
		}
		if (x->cur)
			break;
		pthread_cond_wait(&x->pool.cv, &x->pool.mu);
	}
	next++;
	pthread_mutex_unlock(&x->pool.mu);
	return rc;
}

int rep__other_idle(struct rep_ctx *x)
{
	int idle = 0;

	pthread_mutex_lock(&x->pool.mu);
	for (unsigned i = 0; i < x->pool.n && !idle; i++)
		idle = &x->pool.w[i] != x->cur && x->pool.w[i].state == W_IDLE;
	pthread_mutex_unlock(&x->pool.mu);
	return idle;
}

/* Wait until transaction t has committed (it is on another worker). */
int rep__wait_tno(struct rep_ctx *x, uint64_t t, struct sl_err *err)
{
	int rc;

	pthread_mutex_lock(&x->pool.mu);
	while (!(rc = pool_failed(x, err)) && !rep__committed_locked(x, t))
		pthread_cond_wait(&x->pool.cv, &x->pool.mu);
	pthread_mutex_unlock(&x->pool.mu);
	return rc;
}

/* The current transaction touches key: order it after the key's last one. */
static int depend(struct rep_ctx *x, uint64_t key, struct sl_err *err)
{
	uint64_t *s = &x->deps.slot[key & x->deps.mask], t = *s;
	int rc;

	if (t && t != x->tno && t >= x->ring_lo && x->ring[t % REP_RING].w != x->cur &&
	    (rc = rep__wait_tno(x, t, err)))
		return rc;
	*s = x->tno;
	return 0;
}

/* Run q on the control connection; *res its rows. */
static int lookup(struct rep_ctx *x, struct sl_buf *q, MYSQL_RES **res, const char *what,
		  struct sl_err *err)
{
	if (mysql_real_query(x->ctl.db, (const char *)q->data, q->len) ||
	    !(*res = mysql_store_result(x->ctl.db)))
		return rep__db_error(&x->ctl, what, err);
	return 0;
}

/*
 * 1: key rows by primary key; 2: one key for the whole table: no primary
 * key, a unique key on the destination that rows could collide on, or a
 * foreign key to or from it (the destination checks and cascades them, so
 * transactions on related tables keep their order: the table's changes also
 * take the table keys of every table it is related to).
 */
int rep__table_mode(struct rep_ctx *x, const Sluice__TableDef *td, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(4096);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	uint64_t *nk = NULL;
	uint32_t nn = 0;
	int mode = 1, rc;

	if (td->ref < x->deps.ntm && x->deps.tm[td->ref].mode)
		return x->deps.tm[td->ref].mode;
	if (!td->n_primary_key)
		mode = 2;
	if (mode == 1) {
		if ((rc = sl_buf_adds(&q, "SELECT 1 FROM information_schema.STATISTICS WHERE "
				      "NON_UNIQUE=0 AND INDEX_NAME<>'PRIMARY' AND TABLE_SCHEMA=")) ||
		    (rc = fmt_sql_str(&q, td->db)) || (rc = sl_buf_adds(&q, " AND TABLE_NAME=")) ||
		    (rc = fmt_sql_str(&q, td->name)) || (rc = sl_buf_adds(&q, " LIMIT 1")))
			goto out;
		if ((rc = lookup(x, &q, &res, "looking up unique keys", err)))
			goto out;
		if (mysql_num_rows(res))
			mode = 2;
		mysql_free_result(res);
		res = NULL;
	}
	sl_buf_reset(&q);
	if ((rc = sl_buf_adds(&q, "SELECT UNIQUE_CONSTRAINT_SCHEMA,REFERENCED_TABLE_NAME FROM "
			      "information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA=")) ||
	    (rc = fmt_sql_str(&q, td->db)) || (rc = sl_buf_adds(&q, " AND TABLE_NAME=")) ||
	    (rc = fmt_sql_str(&q, td->name)) ||
	    (rc = sl_buf_adds(&q, " UNION SELECT CONSTRAINT_SCHEMA,TABLE_NAME FROM "
			      "information_schema.REFERENTIAL_CONSTRAINTS WHERE UNIQUE_CONSTRAINT_SCHEMA=")) ||
	    (rc = fmt_sql_str(&q, td->db)) || (rc = sl_buf_adds(&q, " AND REFERENCED_TABLE_NAME=")) ||
	    (rc = fmt_sql_str(&q, td->name)))
		goto out;
	if ((rc = lookup(x, &q, &res, "looking up foreign keys", err)))
		goto out;
	while ((row = mysql_fetch_row(res))) {
		if (!row[0] || !row[1])
			continue;
		nk = sl_xrealloc(nk, (nn + 1) * sizeof(*nk));
		nk[nn++] = rep__deps_table_key(row[0], row[1]);
		mode = 2;
	}
	if ((rc = rep__exec(&x->ctl, "COMMIT", err)))
		goto out;
	rep__deps_set_mode(&x->deps, td->ref, (uint8_t)mode, nk, nn);
	nk = NULL;
	rc = mode;
out:
	if (res)
		mysql_free_result(res);
	free(nk);
	sl_buf_release(&q);
	if (rc < 0 && !err->code)
		rc = sl_err_set(err, rc, "cannot build a key lookup: %s", sl_strerror(rc));
	return rc;
}

/* Order the current transaction after every earlier one that touched the
 * rows of this change. */
int rep__row_deps(struct rep_ctx *x, const Sluice__TableDef *td, const Sluice__RowChange *c,
		    struct sl_err *err)
{
	uint64_t k1 = 0, k2 = 0;
	int mode, rc;

	if (x->nworkers < 2)
		return 0;
	if ((mode = rep__table_mode(x, td, err)) < 0)
		return mode;
	if (c->before)
		k1 = rep__deps_key(td, c->before, NULL, mode);
	if (c->after)
		k2 = rep__deps_key(td, c->after, c->before, mode);
	if ((c->before && !k1) || (c->after && !k2)) {
		/* a key column missing from the image: run this transaction alone */
		if (!x->serial) {
			x->serial = 1;
			struct rep_worker *keep = x->cur;

			x->cur = NULL;
			rc = rep__wait_all(x, err);
			x->cur = keep;
			if (rc)
				return rc;
		}
		return depend(x, rep__deps_key(td, NULL, NULL, 2), err);
	}
	if (mode == 2) {
		/* the tables it has foreign keys with */
		const struct rep_tmode *m = &x->deps.tm[td->ref];

		for (uint32_t i = 0; i < m->n; i++)
			if ((rc = depend(x, m->keys[i], err)))
				return rc;
	}
	if (k1 && (rc = depend(x, k1, err)))
		return rc;
	if (k2 && k2 != k1 && (rc = depend(x, k2, err)))
		return rc;
	return 0;
}

/* ---- transactions ---- */
