/* rep_apply.c - rep_run(): the coordinator that reads DIR, turns records into SQL and hands whole transactions to the workers. */
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
 * The coordinator reads records in order and renders each transaction into
 * the query q of one worker (rep_worker.c): its rows as batched statements
 * with guards, then the INSERT into `sluice`.`applied` naming the
 * transaction, then COMMIT. Several small transactions may share a q (one
 * round trip), each still its own destination transaction; q goes to the
 * worker's thread when it holds REP_GROUP_TXNS transactions or
 * REP_GROUP_BYTES, or as soon as another worker is idle.
 *
 * Order: every row's key (rep_deps.c) remembers the newest transaction
 * (tno) that touched it. Before a row joins a transaction on worker A, the
 * coordinator waits until the key's last transaction, when it is on another
 * worker, has committed. So transactions that touch a common row commit in
 * source order; independent ones may commit in any order (--workers 1 keeps
 * the source's commit order for all).
 *
 * Exactly once: the `applied` row commits with its transaction. The
 * checkpoint row is the low-water mark: every transaction up to it
 * committed. fold() moves it (about once a second, when idle, at a DDL and
 * at the end) and deletes the applied rows it covers, in one destination
 * transaction. A restart reads both and skips the transactions whose
 * TxnBegin cursor is in `applied`.
 *
 * A DDL waits for every worker to finish, then runs on the control
 * connection: the checkpoint marks it pending before and done after, so a
 * restart between the two does not run it twice.
 */

#define REP_GROUP_TXNS 64		/* transactions per round trip at most */
#define REP_GROUP_BYTES ((size_t)256 << 10)
#define REP_RING 8192			/* transactions not known committed, at most */
#define REP_DEP_BITS 18			/* 256 Ki key slots, 2 MiB */
#define REP_FOLD_MS 1000
#define REP_SNIPPET 120
#define REP_WHERE_LEN 640
#define REP_DEFAULT_WORKERS 16
#define REP_SESSION_SQL_MODE "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"

static const char *const kind_name[] = {
	"", "insert into", "update of", "delete from", "row count check", "checkpoint update",
	"commit", "statement",
};

/* A transaction handed out and not yet known committed (by tno). */
struct rep_inflight {
	struct rep_worker *w;		/* NULL: committed before a restart, skipped */
	int closed;			/* its TxnCommit was read */
	struct seg_cursor cur;		/* of the TxnCommit */
	char file[256];
	char gtid[128];
	uint64_t offset, time;
};

struct rep_ctx {
	const struct rep_opts *o;
	struct rep_stats *st;
	const char *consumer;
	struct rep_worker ctl;		/* checkpoint, DDL, lookups; no thread */
	struct rep_pool pool;
	unsigned nworkers;
	struct fmt_tables tables;
	struct rep_deps deps;
	struct rep_checkpoint cp;
	struct seg_cursor *applied;	/* restart: TxnBegins committed after the checkpoint */
	size_t napplied, iapplied;

	struct rep_inflight *ring;	/* tnos ring_lo .. next_tno-1 */
	uint64_t ring_lo, next_tno;
	struct rep_inflight lwm;	/* everything up to it committed */
	struct seg_cursor folded;	/* what the checkpoint row says */
	uint64_t fold_ms;

	struct rep_worker *cur;		/* the worker being filled */
	int in_txn, skipping, serial;
	int loaded;			/* DIR holds what the checkpoint needs: register */
	uint64_t tno;
	char gtid[128];
	char last_pos[300];		/* source position of the last commit read */
	char txn_after[300];		/* last_pos when the current transaction began */
	struct sl_buf row;		/* scratch: one row's SQL */
	struct sl_buf shape;		/* scratch: rep__row_shape() of that row */
};

static int cursor_eq(const struct seg_cursor *a, const struct seg_cursor *b)
{
	return a->seq == b->seq && a->offset == b->offset && a->index == b->index;
}

static int cursor_cmp(const struct seg_cursor *a, const struct seg_cursor *b)
{
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static const char *table_name(struct rep_ctx *x, uint32_t ref, char *out, size_t n)
{
	const Sluice__TableDef *td = fmt_tables_get(&x->tables, ref);

	if (!td)
		snprintf(out, n, "table ref %" PRIu32, ref);
	else
		snprintf(out, n, "`%s`.`%s`", td->db ? td->db : "", td->name ? td->name : "");
	return out;
}

static const char *where_of(const struct seg_cursor *c, const char *gtid, const char *after,
			    char *out, size_t n)
{
	snprintf(out, n, "segment %" PRIu64 " offset %" PRIu64 " record %" PRIu32
		 " (gtid %s, after source position %s)", c->seq, c->offset, c->index,
		 gtid && gtid[0] ? gtid : "none", after && after[0] ? after : "(start)");
	return out;
}

static const char *where_str(struct rep_ctx *x, const struct seg_cursor *c, char *out, size_t n)
{
	return where_of(c, x->gtid, x->last_pos, out, n);
}

/* ---- failures of a worker's query, as one line ---- */

static int fail_message(struct rep_ctx *x, struct rep_worker *w, struct sl_err *err)
{
	const struct rep_fail *f = &w->fail;
	const struct rep_part *p;
	const struct rep_txn_meta *m;
	char what[700], tn[200], wh[REP_WHERE_LEN], snip[REP_SNIPPET + 8];

	if (f->part >= w->nparts)
		return sl_err_set(err, -SL_EDB, "destination %s: query failed: %s (%u)", w->dest,
				  f->msg, f->errnum);
	p = &w->parts[f->part];
	if (!f->count && p->kind == K_GUARD && f->part > 0)
		p--;	/* name the statement the guard checks */
	m = &w->txns[p->txn];
	if (f->count && p->kind == K_CHECKPOINT)
		snprintf(what, sizeof(what), "the checkpoint of consumer '%s' moved (is another "
			 "replay running?) in", x->consumer);
	else if (f->count)
		snprintf(what, sizeof(what), "matched %" PRIu64 " rows, not %lld in", f->aff,
			 (long long)p->expect);
	else if (f->errnum == 1690 && w->parts[f->part].kind == K_GUARD)
		snprintf(what, sizeof(what), "matched fewer or more rows than %lld in",
			 (long long)p->expect);
	else if (f->errnum == 1062 && p->kind == K_CHECKPOINT)
		snprintf(what, sizeof(what), "failed: %s (%u): the transaction is applied already "
			 "(is another replay of consumer '%s' running?) in", f->msg, f->errnum,
			 x->consumer);
	else
		snprintf(what, sizeof(what), "failed: %s (%u) in", f->msg, f->errnum);
	rep__sql_snippet((const char *)w->q.data + p->off, p->len, REP_SNIPPET, snip, sizeof(snip));
	where_of(&p->cur, m->gtid, m->after, wh, sizeof(wh));
	if (p->kind == K_INSERT || p->kind == K_UPDATE || p->kind == K_DELETE)
		return sl_err_set(err, -SL_EAPPLY, "%s %s at %s %s: %s", kind_name[p->kind],
				  table_name(x, p->ref, tn, sizeof(tn)), wh, what, snip);
	return sl_err_set(err, -SL_EAPPLY, "%s at %s %s: %s", kind_name[p->kind], wh, what, snip);
}

/* The first failed worker's message (call with pool.mu held). */
static int pool_failed(struct rep_ctx *x, struct sl_err *err)
{
	for (unsigned i = 0; i < x->pool.n; i++)
		if (x->pool.w[i].state == W_FAILED)
			return fail_message(x, &x->pool.w[i], err);
	return 0;
}

/* ---- handing out work ---- */

static int committed_locked(struct rep_ctx *x, uint64_t t)
{
	const struct rep_inflight *e;

	if (t < x->ring_lo)
		return 1;
	e = &x->ring[t % REP_RING];
	return e->closed && (!e->w || e->w->done_tno >= t);
}

/* Move the low-water mark over every transaction now committed. */
static void advance_lwm(struct rep_ctx *x)
{
	pthread_mutex_lock(&x->pool.mu);
	while (x->ring_lo < x->next_tno && committed_locked(x, x->ring_lo)) {
		x->lwm = x->ring[x->ring_lo % REP_RING];
		x->ring_lo++;
	}
	pthread_mutex_unlock(&x->pool.mu);
}

/* Give the current worker's q to its thread. */
static int dispatch(struct rep_ctx *x, struct sl_err *err)
{
	struct rep_worker *w = x->cur;
	int rc;

	if (!w)
		return 0;
	if ((rc = rep__close_open(w)))
		return sl_err_set(err, rc, "cannot close a statement: %s", sl_strerror(rc));
	if (!w->q.len) {
		if (!x->in_txn)
			x->cur = NULL;
		return 0;
	}
	pthread_mutex_lock(&x->pool.mu);
	w->state = W_BUSY;
	pthread_cond_signal(&w->go);
	pthread_mutex_unlock(&x->pool.mu);
	if (!x->in_txn)
		x->cur = NULL;
	return 0;
}

/* Wait until w is no longer busy (0), or report a failure of any worker. */
static int wait_idle(struct rep_ctx *x, struct rep_worker *w, struct sl_err *err)
{
	int rc;

	pthread_mutex_lock(&x->pool.mu);
	while (!(rc = pool_failed(x, err)) && w && w->state == W_BUSY)
		pthread_cond_wait(&x->pool.cv, &x->pool.mu);
	pthread_mutex_unlock(&x->pool.mu);
	return rc;
}

/* Every worker idle (or a failure). */
static int wait_all(struct rep_ctx *x, struct sl_err *err)
{
	int rc, busy;

	if ((rc = dispatch(x, err)))
		return rc;
	pthread_mutex_lock(&x->pool.mu);
	for (;;) {
		if ((rc = pool_failed(x, err)))
			break;
		busy = 0;
		for (unsigned i = 0; i < x->pool.n; i++)
			busy |= x->pool.w[i].state == W_BUSY;
		if (!busy)
			break;
		pthread_cond_wait(&x->pool.cv, &x->pool.mu);
	}
	pthread_mutex_unlock(&x->pool.mu);
	if (!rc)
		advance_lwm(x);
	return rc;
}

/* An idle worker to fill, waiting for one when all are busy. */
static int acquire(struct rep_ctx *x, struct sl_err *err)
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

static int other_idle(struct rep_ctx *x)
{
	int idle = 0;

	pthread_mutex_lock(&x->pool.mu);
	for (unsigned i = 0; i < x->pool.n && !idle; i++)
		idle = &x->pool.w[i] != x->cur && x->pool.w[i].state == W_IDLE;
	pthread_mutex_unlock(&x->pool.mu);
	return idle;
}

/* Wait until transaction t has committed (it is on another worker). */
static int wait_tno(struct rep_ctx *x, uint64_t t, struct sl_err *err)
{
	int rc;

	pthread_mutex_lock(&x->pool.mu);
	while (!(rc = pool_failed(x, err)) && !committed_locked(x, t))
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
	    (rc = wait_tno(x, t, err)))
		return rc;
	*s = x->tno;
	return 0;
}

/* 1: key rows by primary key; 2: one key for the whole table (no primary
 * key, or a unique key on the destination that rows could collide on). */
static int table_mode(struct rep_ctx *x, const Sluice__TableDef *td, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(4096);
	MYSQL_RES *res = NULL;
	int mode = 1, rc;

	if (td->ref < x->deps.ntable_mode && x->deps.table_mode[td->ref])
		return x->deps.table_mode[td->ref];
	if (!td->n_primary_key) {
		mode = 2;
	} else {
		if ((rc = sl_buf_adds(&q, "SELECT 1 FROM information_schema.STATISTICS WHERE "
				      "NON_UNIQUE=0 AND INDEX_NAME<>'PRIMARY' AND TABLE_SCHEMA=_utf8mb4 ")) ||
		    (rc = fmt_sql_hex(&q, td->db ? td->db : "", td->db ? strlen(td->db) : 0)) ||
		    (rc = sl_buf_adds(&q, " AND TABLE_NAME=_utf8mb4 ")) ||
		    (rc = fmt_sql_hex(&q, td->name ? td->name : "", td->name ? strlen(td->name) : 0)) ||
		    (rc = sl_buf_adds(&q, " LIMIT 1")))
			goto out;
		if (mysql_real_query(x->ctl.db, (const char *)q.data, q.len) ||
		    !(res = mysql_store_result(x->ctl.db))) {
			rc = rep__db_error(&x->ctl, "looking up unique keys", err);
			goto out;
		}
		if (mysql_num_rows(res))
			mode = 2;
		mysql_free_result(res);
		if ((rc = rep__exec(&x->ctl, "COMMIT", err)))
			goto out;
	}
	if (td->ref >= x->deps.ntable_mode) {
		size_t n = x->deps.ntable_mode ? x->deps.ntable_mode : 64;

		while (n <= td->ref)
			n *= 2;
		x->deps.table_mode = sl_xrealloc(x->deps.table_mode, n);
		memset(x->deps.table_mode + x->deps.ntable_mode, 0, n - x->deps.ntable_mode);
		x->deps.ntable_mode = n;
	}
	x->deps.table_mode[td->ref] = (uint8_t)mode;
	rc = mode;
out:
	sl_buf_release(&q);
	if (rc < 0 && !err->code)
		rc = sl_err_set(err, rc, "cannot build a unique key lookup: %s", sl_strerror(rc));
	return rc;
}

/* Order the current transaction after every earlier one that touched the
 * rows of this change. */
static int row_deps(struct rep_ctx *x, const Sluice__TableDef *td, const Sluice__RowChange *c,
		    struct sl_err *err)
{
	uint64_t k1 = 0, k2 = 0;
	int mode, rc;

	if (x->nworkers < 2)
		return 0;
	if ((mode = table_mode(x, td, err)) < 0)
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
			rc = wait_all(x, err);
			x->cur = keep;
			if (rc)
				return rc;
		}
		return depend(x, rep__deps_key(td, NULL, NULL, 2), err);
	}
	if (k1 && (rc = depend(x, k1, err)))
		return rc;
	if (k2 && k2 != k1 && (rc = depend(x, k2, err)))
		return rc;
	return 0;
}

/* ---- rendering rows into the current worker's q ---- */

/* Make sure n more bytes (plus separators and a guard) fit in q: send what
 * is there first when they would not (a transaction may span queries). */
static int make_room(struct rep_ctx *x, size_t n, uint32_t ref, const struct seg_cursor *cur,
		     struct sl_err *err)
{
	struct rep_worker *w = x->cur;
	char tn[200], wh[REP_WHERE_LEN];
	int rc;

	if (w->q.len && w->q.len + n + 64 > w->batch_max) {
		if (x->in_txn && !x->serial && x->nworkers > 1) {
			/* The transaction goes out in parts, and between them its
			 * worker sits idle holding row locks. A statement of another
			 * worker can wait for those locks without sharing a key (a
			 * DELETE ... IN the optimizer runs as a table scan locks every
			 * row it reads), and if the coordinator then waits for that
			 * worker (depend(), wait_all()) nobody moves until the lock
			 * wait times out. So run such a transaction alone: let every
			 * other worker finish first, before any part of it is sent,
			 * and commit it before the next one is handed out. */
			x->serial = 1;
			x->cur = NULL;
			rc = wait_all(x, err);
			x->cur = w;
			if (rc)
				return rc;
		}
		if ((rc = dispatch(x, err)) || (rc = wait_idle(x, w, err)))
			return rc;
		/* q held none of the current transaction's statements yet: the
		 * worker forgot its meta with q, so start it again (its first
		 * statement must be marked first, for retries and messages) */
		if (x->in_txn && !w->ntxns)
			rep__txn_meta(w, x->tno, x->gtid, x->txn_after);
	}
	if (n + 64 > w->stmt_max)
		return sl_err_set(err, -SL_ETOOBIG, "%s at %s needs a statement of %zu bytes; "
				  "the destination's max_allowed_packet allows %zu",
				  table_name(x, ref, tn, sizeof(tn)), where_str(x, cur, wh, sizeof(wh)),
				  n, w->stmt_max);
	return 0;
}

static int render_error(struct rep_ctx *x, int rc, uint32_t ref, const struct seg_cursor *cur,
			struct sl_err *err)
{
	char tn[200], wh[REP_WHERE_LEN];

	if (err->code)
		return err->code;
	if (rc == -SL_ETOOBIG)
		return sl_err_set(err, rc, "%s at %s: row too large for one statement",
				  table_name(x, ref, tn, sizeof(tn)), where_str(x, cur, wh, sizeof(wh)));
	if (rc == -SL_ECONFIG)
		return sl_err_set(err, rc, "%s at %s: the before image cannot name its row: it lacks "
				  "a primary key column, or holds no column of a table without one "
				  "(binlog_row_image=MINIMAL or NOBLOB at the source)",
				  table_name(x, ref, tn, sizeof(tn)), where_str(x, cur, wh, sizeof(wh)));
	return sl_err_set(err, rc, "%s at %s: row does not match its table definition (%s)",
			  table_name(x, ref, tn, sizeof(tn)), where_str(x, cur, wh, sizeof(wh)),
			  sl_strerror(rc));
}

/* Add the row in x->row to a batched statement kind (K_INSERT or K_DELETE by PK). */
static int add_batched(struct rep_ctx *x, enum rep_kind kind, const Sluice__TableDef *td,
		       const Sluice__Row *row, const struct seg_cursor *cur, struct sl_err *err)
{
	struct rep_worker *w = x->cur;
	struct sl_buf head = SL_BUF_INIT(4096 + 260 * (size_t)td->n_columns + 1024);
	struct rep_part *p;
	int rc;

	/* the rows of one INSERT name the same columns (partial images differ) */
	sl_buf_reset(&x->shape);
	if (kind == K_INSERT && (rc = rep__row_shape(&x->shape, td, row)))
		return render_error(x, rc, td->ref, cur, err);
	if (w->open_kind == kind && w->open_ref == td->ref &&
	    (kind != K_INSERT || (x->shape.len == w->open_shape.len &&
				  (!x->shape.len ||
				   !memcmp(x->shape.data, w->open_shape.data, x->shape.len)))) &&
	    w->q.len + x->row.len + 64 <= w->batch_max) {
		rc = sl_buf_addc(&w->q, ',');
		if (!rc)
			rc = sl_buf_add(&w->q, x->row.data, x->row.len);
		if (rc)
			return render_error(x, rc, td->ref, cur, err);
		w->open_rows++;
		return 0;
	}
	if ((rc = rep__close_open(w)))
		goto render;
	rc = kind == K_INSERT ? rep__sql_insert_head_row(&head, td, row) :
				rep__sql_delete_in_head(&head, td);
	if (rc)
		goto render;
	if ((rc = make_room(x, head.len + x->row.len, td->ref, cur, err)))
		goto out;
	p = rep__part_new(w, kind, td->ref, cur);
	if ((rc = sl_buf_add(&w->q, head.data, head.len)) ||
	    (rc = sl_buf_add(&w->q, x->row.data, x->row.len)))
		goto render;
	rep__part_end(w, p);
	w->open_kind = kind;
	w->open_ref = td->ref;
	w->open_rows = 1;
	sl_buf_reset(&w->open_shape);
	if (kind == K_INSERT && (rc = sl_buf_add(&w->open_shape, x->shape.data, x->shape.len)))
		goto render;
	goto out;
render:
	rc = render_error(x, rc, td->ref, cur, err);
out:
	sl_buf_release(&head);
	return rc;
}

static int apply_row(struct rep_ctx *x, const Sluice__RowChange *c, const struct seg_cursor *cur,
		     struct sl_err *err)
{
	const Sluice__TableDef *td = fmt_tables_get(&x->tables, c->table_ref);
	char wh[REP_WHERE_LEN];
	int rc;

	if (!td)
		return sl_err_set(err, -SL_ECORRUPT, "row for unknown table ref %" PRIu32 " at %s",
				  c->table_ref, where_str(x, cur, wh, sizeof(wh)));
	if ((rc = row_deps(x, td, c, err)))
		return rc;
	sl_buf_reset(&x->row);
	switch (c->op) {
	case SLUICE__ROW_CHANGE__OP__INSERT:
		if ((rc = rep__sql_row_tuple(&x->row, td, c->after)))
			return render_error(x, rc, td->ref, cur, err);
		return add_batched(x, K_INSERT, td, c->after, cur, err);
	case SLUICE__ROW_CHANGE__OP__DELETE:
		if (td->n_primary_key) {
			if ((rc = rep__sql_pk_tuple(&x->row, td, c->before)))
				return render_error(x, rc, td->ref, cur, err);
			return add_batched(x, K_DELETE, td, c->before, cur, err);
		}
		rc = rep__sql_delete_one(&x->row, td, c->before);
		break;
	case SLUICE__ROW_CHANGE__OP__UPDATE:
		rc = rep__sql_update(&x->row, td, c->before, c->after);
		break;
	default:
		return sl_err_set(err, -SL_ECORRUPT, "row change with unknown op %d at %s",
				  (int)c->op, where_str(x, cur, wh, sizeof(wh)));
	}
	if (rc)
		return render_error(x, rc, td->ref, cur, err);
	if ((rc = rep__close_open(x->cur)) || (rc = make_room(x, x->row.len + 32, td->ref, cur, err)))
		return rc ? render_error(x, rc, td->ref, cur, err) : 0;
	rc = rep__add_stmt(x->cur, c->op == SLUICE__ROW_CHANGE__OP__UPDATE ? K_UPDATE : K_DELETE,
			   td->ref, cur, x->row.data, x->row.len, 1);
	if (!rc)
		rc = rep__add_guard(x->cur, cur, 1);
	return rc ? render_error(x, rc, td->ref, cur, err) : 0;
}

/* ---- transactions ---- */

static int room_in_ring(struct rep_ctx *x, struct sl_err *err)
{
	int rc;

	while (x->next_tno - x->ring_lo >= REP_RING) {
		advance_lwm(x);
		if (x->next_tno - x->ring_lo < REP_RING)
			break;
		if ((rc = dispatch(x, err)) || (rc = wait_tno(x, x->ring_lo, err)))
			return rc;
	}
	return 0;
}

static int begin_txn(struct rep_ctx *x, const Sluice__TxnBegin *b, const struct seg_cursor *cur,
		     struct sl_err *err)
{
	struct rep_inflight *e;
	int rc;

	snprintf(x->gtid, sizeof(x->gtid), "%s", b->gtid ? b->gtid : "");
	while (x->iapplied < x->napplied && cursor_cmp(&x->applied[x->iapplied], cur) < 0)
		x->iapplied++;
	x->skipping = x->iapplied < x->napplied && cursor_eq(&x->applied[x->iapplied], cur);
	if ((rc = room_in_ring(x, err)))
		return rc;
	if (!x->skipping && !x->cur && (rc = acquire(x, err)))
		return rc;
	x->tno = x->next_tno;
	e = &x->ring[x->tno % REP_RING];
	memset(e, 0, sizeof(*e));
	e->w = x->skipping ? NULL : x->cur;
	pthread_mutex_lock(&x->pool.mu);
	x->next_tno++;
	pthread_mutex_unlock(&x->pool.mu);
	x->in_txn = 1;
	x->serial = 0;
	snprintf(x->txn_after, sizeof(x->txn_after), "%s", x->last_pos);
	if (!x->skipping)
		rep__txn_meta(x->cur, x->tno, x->gtid, x->txn_after);
	return rc;
}

static int commit_txn(struct rep_ctx *x, const Sluice__TxnCommit *c, const struct seg_cursor *cur,
		      const struct seg_cursor *begin, struct sl_err *err)
{
	struct rep_inflight *e = &x->ring[x->tno % REP_RING];
	struct rep_worker *w = x->cur;
	struct sl_buf u = SL_BUF_INIT(4096);
	int rc = 0;

	if (!x->skipping) {
		if ((rc = rep__sql_applied_insert(&u, x->consumer, begin)) ||
		    (rc = rep__close_open(w)) || (rc = make_room(x, u.len + 16, 0, cur, err)) ||
		    (rc = rep__add_stmt(w, K_CHECKPOINT, 0, cur, u.data, u.len, 1)) ||
		    (rc = rep__add_stmt(w, K_COMMIT, 0, cur, "COMMIT", 6, -1)))
			goto out;
		w->q_tno = x->tno;
		w->queued_txns++;
		x->st->transactions++;
	} else {
		x->st->skipped++;
	}
	e->cur = *cur;
	if (c->position) {
		snprintf(e->file, sizeof(e->file), "%s", c->position->file ? c->position->file : "");
		snprintf(e->gtid, sizeof(e->gtid), "%s", c->position->gtid ? c->position->gtid : "");
		e->offset = c->position->offset;
		fmt_position_str(c->position, x->last_pos, sizeof(x->last_pos));
	}
	e->time = c->time;
	pthread_mutex_lock(&x->pool.mu);
	e->closed = 1;
	pthread_mutex_unlock(&x->pool.mu);
	x->in_txn = 0;
	x->skipping = 0;
	if (!w)
		goto out;
	if (x->serial)
		rc = wait_all(x, err);
	else if (w->queued_txns >= REP_GROUP_TXNS || w->q.len >= REP_GROUP_BYTES ||
		 (x->nworkers > 1 && other_idle(x)))
		rc = dispatch(x, err);
out:
	if (rc && !err->code)
		rc = sl_err_set(err, rc, "cannot build the commit of the transaction at %s: %s",
				x->last_pos, sl_strerror(rc));
	sl_buf_release(&u);
	return rc;
}

/* ---- the checkpoint row ---- */

/* Move the checkpoint row to the low-water mark (and mark a DDL pending or
 * not), deleting the applied rows it covers; one transaction on ctl. */
static int fold(struct rep_ctx *x, const struct seg_cursor *pending, struct sl_err *err)
{
	struct sl_buf u = SL_BUF_INIT(8192);
	Sluice__Position pos = SLUICE__POSITION__INIT;
	const struct seg_cursor *to = &x->lwm.cur;
	int rc;

	x->fold_ms = sl_now_ms();
	/* a DDL marked pending stays so until the mark moves past it */
	if (!pending && cursor_eq(to, &x->folded))
		return 0;
	pos.file = x->lwm.file;
	pos.offset = x->lwm.offset;
	pos.gtid = x->lwm.gtid;
	rc = rep__sql_checkpoint_update(&u, x->consumer, &x->folded, to, x->lwm.file[0] ? &pos : NULL,
					pending);
	if (!rc)
		rc = rep__add_stmt(&x->ctl, K_CHECKPOINT, 0, to, u.data, u.len, 1);
	if (!rc)
		rc = rep__add_guard(&x->ctl, to, 1);
	sl_buf_reset(&u);
	if (!rc)
		rc = rep__sql_applied_delete(&u, x->consumer, to);
	if (!rc)
		rc = rep__add_stmt(&x->ctl, K_OTHER, 0, to, u.data, u.len, -1);
	if (!rc)
		rc = rep__add_stmt(&x->ctl, K_COMMIT, 0, to, "COMMIT", 6, -1);
	sl_buf_release(&u);
	if (rc) {
		rep__q_reset(&x->ctl);
		return sl_err_set(err, rc, "cannot build the checkpoint update: %s", sl_strerror(rc));
	}
	if (rep__run_q(&x->ctl)) {
		rc = fail_message(x, &x->ctl, err);
		rep__q_reset(&x->ctl);
		return rc;
	}
	x->folded = *to;
	x->cp.ddl_pending = pending != NULL;
	if (pending)
		x->cp.ddl_cur = *pending;
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

static int apply_ddl(struct rep_ctx *x, const Sluice__Ddl *d, const struct seg_cursor *cur,
		     struct sl_err *err)
{
	struct rep_worker *c = &x->ctl;
	struct sl_buf pre = SL_BUF_INIT(1 << 20);
	char wh[REP_WHERE_LEN], snip[REP_SNIPPET + 8];
	const char *stmt = d->statement ? d->statement : "";
	int was_pending = x->cp.ddl_pending && cursor_eq(&x->cp.ddl_cur, cur);
	int src_mysql = d->position && d->position->flavor && !strcmp(d->position->flavor, "mysql");
	int rc, st;

	x->gtid[0] = 0;
	/* 1. every transaction before it committed, then mark it pending, durably */
	if ((rc = wait_all(x, err)) || (rc = fold(x, cur, err)))
		goto out;
	/* 2. its session: default database, sql_mode, charset, timestamp */
	if (d->db && d->db[0]) {
		struct sl_err e2 = SL_ERR_INIT;

		if ((rc = sl_buf_adds(&pre, "USE ")) || (rc = fmt_sql_ident(&pre, d->db)))
			goto too_big;
		if (rep__exec(c, sl_buf_cstr(&pre), &e2)) {
			if (mysql_errno(c->db) != 1049) {	/* ER_BAD_DB_ERROR */
				rc = sl_err_set(err, e2.code, "ddl at %s: %s",
						where_str(x, cur, wh, sizeof(wh)), e2.msg);
				goto out;
			}
			sl_log(SL_WARN, "replay", "ddl at %s: default database `%s` does not exist "
			       "on the destination; running without it",
			       where_str(x, cur, wh, sizeof(wh)), d->db);
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
	/* 3. the statement itself */
	if (mysql_real_query(c->db, stmt, strlen(stmt)) == 0) {
		do {
			MYSQL_RES *res = mysql_store_result(c->db);

			if (res)
				mysql_free_result(res);
		} while ((st = mysql_next_result(c->db)) == 0);
	} else {
		st = 1;
	}
	if (st > 0) {
		unsigned e = mysql_errno(c->db);

		rep__sql_snippet(stmt, strlen(stmt), REP_SNIPPET, snip, sizeof(snip));
		if (was_pending && rep__ddl_already_done(e)) {
			sl_log(SL_WARN, "replay", "ddl at %s was already applied before a restart "
			       "(%s (%u)): %s", where_str(x, cur, wh, sizeof(wh)), mysql_error(c->db), e, snip);
		} else {
			rc = sl_err_set(err, -SL_EAPPLY, "ddl at %s failed: %s (%u) in: %s",
					where_str(x, cur, wh, sizeof(wh)), mysql_error(c->db), e, snip);
			rep__rollback(c);
			goto out;
		}
	}
	/* 4. back to our session, move the checkpoint past it, clear pending */
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
	if ((rc = fold(x, NULL, err)))
		goto out;
	rep__deps_reset_tables(&x->deps);
	x->st->ddls++;
	goto out;
too_big:
	rc = sl_err_set(err, rc, "ddl at %s: cannot build its session settings: %s",
			where_str(x, cur, wh, sizeof(wh)), sl_strerror(rc));
out:
	sl_buf_release(&pre);
	return rc;
}

/* ---- start: checkpoint, applied set, table definitions ---- */

static int load_checkpoint(struct rep_ctx *x, const uint8_t sid[16], struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(4096);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	if ((rc = rep__exec(&x->ctl, rep__sql_checkpoint_ddl, err)) ||
	    (rc = rep__exec(&x->ctl, rep__sql_applied_ddl, err)))
		goto out;
	if ((rc = rep__sql_checkpoint_insert(&b, x->consumer, sid)) ||
	    (rc = sl_buf_adds(&b, ";COMMIT")))
		goto out;
	if ((rc = rep__exec(&x->ctl, sl_buf_cstr(&b), err)))
		goto out;
	sl_buf_reset(&b);
	if ((rc = rep__sql_checkpoint_select(&b, x->consumer)))
		goto out;
	if (mysql_real_query(x->ctl.db, (const char *)b.data, b.len) ||
	    !(res = mysql_store_result(x->ctl.db))) {
		rc = rep__db_error(&x->ctl, "reading the checkpoint", err);
		goto out;
	}
	if (!(row = mysql_fetch_row(res))) {
		rc = sl_err_set(err, -SL_EDB, "destination %s: checkpoint row of '%s' is missing",
				x->ctl.dest, x->consumer);
		goto out;
	}
	if ((rc = rep__checkpoint_parse(&x->cp, row, mysql_num_fields(res), err)))
		goto out;
	if (memcmp(x->cp.stream_id, sid, 16)) {
		rc = sl_err_set(err, -SL_ESTREAM, "destination checkpoint '%s' belongs to another stream",
				x->consumer);
		goto out;
	}
	mysql_free_result(res);
	res = NULL;
	/* transactions committed after the checkpoint by parallel workers */
	sl_buf_reset(&b);
	if ((rc = rep__sql_applied_select(&b, x->consumer)))
		goto out;
	if (mysql_real_query(x->ctl.db, (const char *)b.data, b.len) ||
	    !(res = mysql_store_result(x->ctl.db))) {
		rc = rep__db_error(&x->ctl, "reading the applied transactions", err);
		goto out;
	}
	x->napplied = 0;
	x->applied = sl_xcalloc((size_t)mysql_num_rows(res) + 1, sizeof(*x->applied));
	while ((row = mysql_fetch_row(res))) {
		struct seg_cursor *c = &x->applied[x->napplied];

		if (!row[0] || !row[1] || !row[2])
			continue;
		c->seq = strtoull(row[0], NULL, 10);
		c->offset = strtoull(row[1], NULL, 10);
		c->index = (uint32_t)strtoul(row[2], NULL, 10);
		if (cursor_cmp(c, &x->cp.cur) > 0)
			x->napplied++;
	}
	if (x->napplied)
		sl_log(SL_INFO, "replay", "%zu transactions after the checkpoint were committed "
		       "before a restart; they are skipped", x->napplied);
	x->folded = x->cp.cur;
	x->lwm.cur = x->cp.cur;
	snprintf(x->lwm.file, sizeof(x->lwm.file), "%s", x->cp.source_file);
	x->lwm.offset = x->cp.source_offset;
	if (x->cp.source_file[0])
		snprintf(x->last_pos, sizeof(x->last_pos), "%s:%" PRIu64, x->cp.source_file,
			 x->cp.source_offset);
	mysql_free_result(res);
	res = NULL;
	rc = rep__exec(&x->ctl, "COMMIT", err);	/* end the read-only transaction */
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

/*
 * seg_reader_seek_after() skips the TableDefs that precede the checkpoint in
 * its segment, and a segment repeats a definition only before its first use
 * there. So read the checkpoint's segment from its start up to the
 * checkpoint, keeping only TableDefs.
 */
static int prime_tables(struct rep_ctx *x, struct sl_err *err)
{
	struct seg_reader *r = NULL;
	int rc = seg_reader_open_seq(&r, x->o->dir, x->folded.seq, err);

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
		if (cursor_cmp(&cur, &x->folded) >= 0)
			break;
	}
	seg_reader_close(r);
	if (rc < 0)
		return sl_err_prefix(err, "reading the table definitions before the checkpoint");
	return 0;
}

static int apply_record(struct rep_ctx *x, const Sluice__Record *rec, const struct seg_cursor *cur,
			struct seg_cursor *begin, struct sl_err *err)
{
	char wh[REP_WHERE_LEN];

	switch (rec->body_case) {
	case SLUICE__RECORD__BODY_BEGIN:
		if (x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "transaction begins inside another at %s",
					  where_str(x, cur, wh, sizeof(wh)));
		*begin = *cur;
		return begin_txn(x, rec->begin, cur, err);
	case SLUICE__RECORD__BODY_TABLE:
		fmt_tables_put(&x->tables, rec->table);
		return 0;
	case SLUICE__RECORD__BODY_ROW:
		if (!x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "row change outside a transaction at %s",
					  where_str(x, cur, wh, sizeof(wh)));
		if (x->skipping)
			return 0;
		x->st->rows++;
		return apply_row(x, rec->row, cur, err);
	case SLUICE__RECORD__BODY_COMMIT:
		if (!x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "commit outside a transaction at %s",
					  where_str(x, cur, wh, sizeof(wh)));
		return commit_txn(x, rec->commit, cur, begin, err);
	case SLUICE__RECORD__BODY_DDL:
		if (x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "ddl inside a transaction at %s",
					  where_str(x, cur, wh, sizeof(wh)));
		return apply_ddl(x, rec->ddl, cur, err);
	case SLUICE__RECORD__BODY_HEARTBEAT:
		return 0;
	default:
		return sl_err_set(err, -SL_ECORRUPT, "unknown record type %d at %s",
				  (int)rec->body_case, where_str(x, cur, wh, sizeof(wh)));
	}
}

/* The checkpoint in DIR/consumers/ (store/seg.h) is advisory, for retention:
 * it trails the destination's checkpoint row. A failure only warns. */
static void register_consumer(struct rep_ctx *x)
{
	struct sl_err e = SL_ERR_INIT;

	if (seg_consumer_update(x->o->dir, x->consumer, &x->folded, x->lwm.time, &e))
		sl_log(SL_WARN, "replay", "cannot register consumer '%s' for retention: %s", x->consumer, e.msg);
}

/* Everything handed out committed, and the checkpoint row says so. */
static int settle(struct rep_ctx *x, struct sl_err *err)
{
	int rc = wait_all(x, err);

	return rc ? rc : fold(x, NULL, err);
}

static int run_loop(struct rep_ctx *x, struct sl_err *err)
{
	struct seg_reader *r = NULL;
	struct seg_cursor begin = { 0 }, registered = { 0 };
	uint64_t registered_ms = 0, need;
	int rc;

	if ((rc = seg_reader_open(&r, x->o->dir, err)))
		goto out;
	/* The checkpoint's segment (segment 1 for a new consumer) must still be there. */
	need = x->folded.seq ? x->folded.seq : 1;
	if (seg_reader_seq(r) > need) {
		rc = sl_err_set(err, -SL_ESTREAM, "'%s' begins at segment %" PRIu64 " (older ones were "
				"removed by purge or retention) but consumer '%s' needs segment %" PRIu64
				": replaying from here would skip transactions", x->o->dir,
				seg_reader_seq(r), x->consumer, need);
		goto out;
	}
	x->loaded = 1;
	register_consumer(x);	/* retention keeps what it needs from now on */
	if (x->folded.seq && (rc = seg_reader_seek_after(r, &x->folded, err)))
		goto out;
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;

		if (!x->in_txn && sl_stop_requested)
			break;
		rc = seg_reader_next(r, &rec, &cur, err);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			if (x->in_txn) {
				/* The reader only delivers whole transactions. */
				rc = sl_err_set(err, -SL_ECORRUPT, "stream '%s' ends inside a transaction "
						"(gtid %s)", x->o->dir, x->gtid[0] ? x->gtid : "none");
				goto out;
			}
			/* nothing more for now: everything sent, committed, recorded */
			if ((rc = settle(x, err)))
				goto out;
			if (x->folded.seq && !cursor_eq(&x->folded, &registered)) {
				register_consumer(x);
				registered = x->folded;
				registered_ms = sl_now_ms();
			}
			if (!x->o->follow || sl_stop_requested)
				break;
			sleep_ms(x->o->poll_ms ? x->o->poll_ms : 20);
			continue;
		}
		rc = apply_record(x, rec, &cur, &begin, err);
		fmt_record_free(rec);
		if (rc)
			goto out;
		if (!x->in_txn && sl_now_ms() - x->fold_ms >= REP_FOLD_MS) {
			advance_lwm(x);
			if ((rc = fold(x, NULL, err)))
				goto out;
		}
		/* Retention: tell DIR how far we are, about once a second. */
		if (!x->in_txn && x->folded.seq && sl_now_ms() - registered_ms >= 1000) {
			register_consumer(x);
			registered = x->folded;
			registered_ms = sl_now_ms();
		}
	}
	rc = settle(x, err);
out:
	seg_reader_close(r);
	return rc;
}

int rep_run(const struct rep_opts *o, struct rep_stats *st, struct sl_err *err)
{
	struct rep_ctx x = { 0 };
	uint8_t sid[16];
	uint64_t t0 = sl_now_ms(), rows0;
	double secs;
	int rc;

	memset(st, 0, sizeof(*st));
	x.o = o;
	x.st = st;
	x.consumer = o->consumer && o->consumer[0] ? o->consumer : "default";
	x.nworkers = o->workers ? o->workers : REP_DEFAULT_WORKERS;
	x.next_tno = x.ring_lo = 1;
	x.fold_ms = sl_now_ms();
	snprintf(x.last_pos, sizeof(x.last_pos), "(start)");
	fmt_tables_init(&x.tables);
	rep__deps_init(&x.deps, REP_DEP_BITS);
	x.ring = sl_xcalloc(REP_RING, sizeof(*x.ring));
	sl_buf_init(&x.row, 1);
	sl_buf_init(&x.shape, 1 << 16);
	if ((rc = rep__conn_open(&x.ctl, o->dest_url, err)))
		goto out;
	sl_buf_release(&x.row);
	sl_buf_init(&x.row, x.ctl.stmt_max);
	rc = dir_identity(&x, sid, err);
	if (rc == -ENOENT) {
		sl_log(SL_INFO, "replay", "'%s' holds no segment yet: nothing to apply", o->dir);
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	/* a replay of this consumer that died may still have queries running */
	if ((rc = rep__conn_lock(&x.ctl, x.consumer, 0, 10, 1, err)))
		goto out;
	for (unsigned i = 1; i <= REP_MAX_WORKERS; i++)
		if ((rc = rep__conn_lock(&x.ctl, x.consumer, i, 60, 0, err)))
			goto out;
	if ((rc = load_checkpoint(&x, sid, err)))
		goto out;
	if (x.folded.seq && (rc = prime_tables(&x, err)))
		goto out;
	/* several workers: one more round trip per transaction (its COMMIT)
	 * costs the destination less than the guard statements; one worker
	 * keeps the guards and sends many transactions per round trip */
	x.pool.split_commits = x.nworkers > 1;
	if ((rc = rep__pool_start(&x.pool, x.nworkers, o->dest_url, x.consumer, err)))
		goto out;
	rows0 = st->rows;
	if ((rc = run_loop(&x, err)))
		goto out;
	*err = (struct sl_err)SL_ERR_INIT;
	secs = (double)(sl_now_ms() - t0) / 1000.0;
	sl_log(SL_INFO, "replay", "applied %" PRIu64 " transactions, %" PRIu64 " rows, %" PRIu64
	       " ddls in %.2f s (%.0f rows/s, %u workers)", st->transactions, st->rows, st->ddls,
	       secs, secs > 0 ? (double)(st->rows - rows0) / secs : 0.0, x.nworkers);
out:
	if (x.pool.w) {
		/* let the workers finish what they hold; on an error, commit what
		 * committed and record it, so a restart repeats nothing */
		struct sl_err e2 = SL_ERR_INIT;

		if (rc) {
			x.cur = NULL;
			x.in_txn = 0;
			pthread_mutex_lock(&x.pool.mu);
			for (;;) {
				int busy = 0;

				for (unsigned i = 0; i < x.pool.n; i++)
					busy |= x.pool.w[i].state == W_BUSY;
				if (!busy)
					break;
				pthread_cond_wait(&x.pool.cv, &x.pool.mu);
			}
			pthread_mutex_unlock(&x.pool.mu);
			advance_lwm(&x);
			if (x.ctl.db && fold(&x, NULL, &e2))
				sl_log(SL_WARN, "replay", "%s", e2.msg);
		}
		rep__pool_stop(&x.pool);
	}
	if (x.loaded && x.ctl.db)
		register_consumer(&x);
	rep__conn_close(&x.ctl);
	fmt_tables_release(&x.tables);
	rep__deps_release(&x.deps);
	sl_buf_release(&x.row);
	sl_buf_release(&x.shape);
	free(x.ring);
	free(x.applied);
	return rc;
}
