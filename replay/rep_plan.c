/* rep_plan.c - replay's plan stage: a batch's row changes become statements in the current worker's query, coalesced by primary key where that is exact. */
#include "rep.h"
#include "rep_int.h"
#include "rep_snap.h"
#include "rep_hist.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

/*
 * Row changes arrive in source order and go into x->cur's query q. Most go
 * in as they come (INSERTs of one table joined into one multi-row INSERT,
 * DELETEs by primary key into one DELETE ... IN, others one statement
 * each, rep_int.h). The changes of a "plain" table are planned instead:
 * held per primary key for the rest of the batch and coalesced to one net
 * change per key, then sent as three statements per table when the batch
 * closes (rep__plan_emit()):
 *   DELETE FROM t WHERE pk IN (...)   rows gone, or deleted and inserted again
 *   REPLACE INTO t VALUES (...),...   rows updated (the server updates them in
 *                                     place: PK the only unique key, no
 *                                     foreign key, no trigger)
 *   INSERT INTO t VALUES (...),...    new rows, and rows deleted and inserted
 * and every statement must match exactly its number of rows: a DELETE n,
 * an INSERT n, a REPLACE 2n (1 for the delete of an existing row that
 * differs, 1 for the insert). A row missing on the destination makes a
 * REPLACE count 1 and fails the batch, as the UPDATE would have. So an
 * update whose after image equals its before image (the count could not
 * tell "existed" from "missing") goes as DELETE + INSERT instead.
 *
 * Only with batches (--batch-txns 1 sends every change as it comes, and so
 * does the run that finds a failed batch's transaction, rep_run()).
 * Plain: the destination keys rows by the primary key alone (table_mode()
 * 1: no other unique key, no foreign key to or from it), no trigger may
 * fire (not --allow-dest-triggers), not system-versioned, not in safe mode,
 * every image FULL, and every key value of a kind whose SQL text is equal
 * exactly when the values are equal (integers, decimals, temporal values:
 * not strings, whose collation may call different texts equal, nor
 * floats). Since such rows share no key, foreign key or unique key with
 * anything else, the order between different keys does not matter; per
 * key the net change is exact. A change the plan cannot take (an INSERT of
 * a key already planned as present, ...) sends the table's plan first and
 * goes as it comes.
 *
 * Memory: the plan holds the rendered key and row tuples of the open batch,
 * which --batch-bytes bounds, and within one large transaction
 * REP_PLAN_MAX: past it the plan goes into q and starts again.
 */

enum { P_NONE, P_INS, P_UPD, P_DEL, P_DELINS };

/* Make sure n more bytes (plus separators and a guard) fit in q: send what
 * is there first when they would not (a transaction may span queries). */
int rep__make_room(struct rep_ctx *x, size_t n, uint32_t ref, const struct seg_cursor *cur,
		   struct sl_err *err)
{
	struct rep_worker *w = x->cur;
	char tn[200], wh[REP_WHERE_LEN];
	int rc;

	if (w->q.len && w->q.len + n + 64 > w->q_max) {
		if (x->in_txn && !x->serial && x->nworkers > 1) {
			/* The transaction goes out in parts, and between them its
			 * worker sits idle holding row locks. A statement of another
			 * worker can wait for those locks without sharing a key (a
			 * DELETE ... IN the optimizer runs as a table scan locks every
			 * row it reads), and if the coordinator then waits for that
			 * worker (depend(), rep__wait_all()) nobody moves until the lock
			 * wait times out. So run such a transaction alone: let every
			 * other worker finish first, before any part of it is sent,
			 * and commit it before the next one is handed out. */
			x->serial = 1;
			x->cur = NULL;
			rc = rep__wait_all(x, err);
			x->cur = w;
			if (rc)
				return rc;
		}
		if ((rc = rep__send(x, err)) || (rc = rep__wait_idle(x, w, err)))
			return rc;
		/* q held none of the current transaction's statements yet: the
		 * worker forgot its meta with q, so start it again (its first
		 * statement must be marked first, for retries and messages) */
		if (x->in_txn && !w->ntxns)
			rep__txn_meta(w, x->tno, x->gtid, x->txn_after, 0);
	}
	if (n + 64 > w->stmt_max)
		return sl_err_set(err, -SL_ETOOBIG, "statement of %zu bytes too large for the "
				  "destination's max_allowed_packet (%zu bytes): a row of %zu bytes in %s "
				  "at %s; raise max_allowed_packet on the destination", n + 64,
				  w->max_packet, x->row_size, rep__table_name(x, ref, tn, sizeof(tn)),
				  rep__where_str(x, cur, wh, sizeof(wh)));
	return 0;
}

static int render_error(struct rep_ctx *x, int rc, uint32_t ref, const struct seg_cursor *cur,
			struct sl_err *err)
{
	char tn[200], wh[REP_WHERE_LEN];

	if (err->code)
		return err->code;
	if (rc == -SL_ETOOBIG)	/* the row's SQL hit the limit of x->row (stmt_max) */
		return sl_err_set(err, rc, "row of %zu bytes too large for the destination's "
				  "max_allowed_packet (%zu bytes; its statement would be larger still) "
				  "in %s at %s; raise max_allowed_packet on the destination",
				  x->row_size, x->ctl.max_packet, rep__table_name(x, ref, tn, sizeof(tn)),
				  rep__where_str(x, cur, wh, sizeof(wh)));
	if (rc == -SL_ECONFIG)
		return sl_err_set(err, rc, "%s at %s: the before image cannot name its row: it lacks "
				  "a primary key column, or holds no column of a table without one "
				  "(binlog_row_image=MINIMAL or NOBLOB at the source)",
				  rep__table_name(x, ref, tn, sizeof(tn)), rep__where_str(x, cur, wh, sizeof(wh)));
	return sl_err_set(err, rc, "%s at %s: row does not match its table definition (%s)",
			  rep__table_name(x, ref, tn, sizeof(tn)), rep__where_str(x, cur, wh, sizeof(wh)),
			  sl_strerror(rc));
}

/* Add the row in x->row to a batched statement kind (K_INSERT, K_REPLACE or
 * K_DELETE by PK; row NULL: a FULL image). safe (safe mode, rep_safe.c):
 * REPLACE for INSERT, any row count. */
static int add_batched(struct rep_ctx *x, enum rep_kind kind, const Sluice__TableDef *td,
		       const Sluice__Row *row, const struct seg_cursor *cur, int safe,
		       struct sl_err *err)
{
	struct rep_worker *w = x->cur;
	struct sl_buf head = SL_BUF_INIT(4096 + 260 * (size_t)td->n_columns + 1024);
	struct rep_part *p;
	int rc;

	/* the rows of one INSERT name the same columns (partial images differ) */
	sl_buf_reset(&x->shape);
	if (kind == K_INSERT && row && (rc = rep__row_shape(&x->shape, td, row)))
		return render_error(x, rc, td->ref, cur, err);
	if (w->open_kind == kind && w->open_ref == td->ref && w->open_safe == safe &&
	    (kind != K_INSERT || (x->shape.len == w->open_shape.len &&
				  (!x->shape.len ||
				   !memcmp(x->shape.data, w->open_shape.data, x->shape.len)))) &&
	    w->q.len + x->row.len + 64 <= w->q_max) {
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
	rc = kind == K_DELETE ? rep__sql_delete_in_head(&head, td) :
				rep__sql_insert_head_row(&head, td, row);
	if (rc)
		goto render;
	if ((safe && kind == K_INSERT) || kind == K_REPLACE) {	/* "INSERT INTO" -> "REPLACE INTO" */
		if ((rc = sl_buf_reserve(&head, 1)))
			goto render;
		memmove(head.data + 7, head.data + 6, head.len - 6);
		memcpy(head.data, "REPLACE", 7);
		head.len++;
	}
	if ((rc = rep__make_room(x, head.len + x->row.len, td->ref, cur, err)))
		goto out;
	p = rep__part_new(w, kind, td->ref, cur);
	if ((rc = sl_buf_add(&w->q, head.data, head.len)) ||
	    (rc = sl_buf_add(&w->q, x->row.data, x->row.len)))
		goto render;
	rep__part_end(w, p);
	w->open_kind = kind;
	w->open_ref = td->ref;
	w->open_rows = 1;
	w->open_safe = safe;
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

/* ---- the plan ---- */

static int emit(struct rep_ctx *x, uint32_t ref, struct sl_err *err);

static int key_kind_ok(const Sluice__TableDef *td, const Sluice__Row *r)
{
	for (size_t k = 0; k < td->n_primary_key; k++) {
		uint32_t c = td->primary_key[k];

		if (c >= r->n_values || !r->values[c])
			return 0;
		switch (r->values[c]->kind) {
		case SLUICE__VALUE__KIND__INT:
		case SLUICE__VALUE__KIND__UINT:
		case SLUICE__VALUE__KIND__DECIMAL:
		case SLUICE__VALUE__KIND__DATE:
		case SLUICE__VALUE__KIND__TIME:
		case SLUICE__VALUE__KIND__DATETIME:
		case SLUICE__VALUE__KIND__TIMESTAMP:
		case SLUICE__VALUE__KIND__YEAR:
			break;
		default:
			return 0;
		}
	}
	return 1;
}

/* 1 when c may be planned, 0 when it goes as it comes, <0 error. */
static int plannable(struct rep_ctx *x, const Sluice__TableDef *td, const Sluice__RowChange *c,
		     struct sl_err *err)
{
	const struct rep_tcols *t = td->ref < x->ntcols ? &x->tcols[td->ref] : NULL;
	int mode;

	if (x->batch_txns == 1 || x->safe_txn || x->o->allow_dest_triggers || !td->n_primary_key || !t || !t->checked ||
	    t->start >= 0)
		return 0;
	if ((c->before && (!fmt_row_full(c->before) || !key_kind_ok(td, c->before))) ||
	    (c->after && (!fmt_row_full(c->after) || !key_kind_ok(td, c->after))))
		return 0;
	if ((mode = rep__table_mode(x, td, err)) < 0)
		return mode;
	return mode == 1;
}

static struct rep_pchange *find(struct rep_plan *pl, uint32_t ref, uint64_t h, const void *key,
				size_t len)
{
	for (uint32_t i = pl->head[h & pl->mask]; i; i = pl->v[i - 1].next) {
		struct rep_pchange *e = &pl->v[i - 1];

		if (e->hash == h && e->ref == ref && e->key_len == len &&
		    !memcmp(pl->text.data + e->key, key, len))
			return e;
	}
	return NULL;
}

static void rehash(struct rep_plan *pl, size_t buckets)
{
	free(pl->head);
	pl->head = sl_xcalloc(buckets, sizeof(*pl->head));
	pl->mask = buckets - 1;
	for (size_t i = 0; i < pl->n; i++) {
		struct rep_pchange *e = &pl->v[i];

		e->next = pl->head[e->hash & pl->mask];
		pl->head[e->hash & pl->mask] = (uint32_t)i + 1;
	}
}

/* Append the tuple text of row (key: its primary key) to the plan's text. */
static int add_text(struct rep_ctx *x, const Sluice__TableDef *td, const Sluice__Row *row, int key,
		    size_t *off, size_t *len)
{
	struct rep_plan *pl = &x->plan;
	int rc;

	*off = pl->text.len;
	rc = key ? rep__sql_pk_tuple(&pl->text, td, row) : rep__sql_row_tuple(&pl->text, td, row);
	*len = pl->text.len - *off;
	return rc;
}

/*
 * Plan change c: 1 planned, 0 not (the caller applies it as it comes), <0
 * error. The net change of a key, by what comes next:
 *   (none)  INSERT a: INS a     UPDATE b>a: UPD b>a     DELETE b: DEL b
 *   INS a   UPDATE a>c: INS c   DELETE: (none)
 *   UPD b>a UPDATE a>c: UPD b>c DELETE: DEL b
 *   DEL b   INSERT a: DELINS b>a
 *   DELINS  UPDATE a>c: DELINS b>c   DELETE: DEL b
 * Anything else (an INSERT of a key planned present, ...) is not planned.
 */
static int plan_change(struct rep_ctx *x, const Sluice__TableDef *td, const Sluice__RowChange *c,
		       const struct seg_cursor *cur, struct sl_err *err)
{
	struct rep_plan *pl = &x->plan;
	const Sluice__Row *kr;
	struct rep_pchange *e;
	size_t k0, kl, a0 = 0, al = 0, b0 = 0, bl = 0, mark;
	uint64_t h;
	int rc, op = c->op;

	if (!pl->head)
		rehash(pl, 1024);
	if ((rc = plannable(x, td, c, err)) <= 0)
		return rc;
	/* a large transaction: what is planned goes into q now (the batch
	 * stays open), so the plan never holds more than about this */
	if (pl->text.len >= REP_PLAN_MAX && (rc = emit(x, UINT32_MAX, err)))
		return rc;
	kr = op == SLUICE__ROW_CHANGE__OP__INSERT ? c->after : c->before;
	if (!kr || (op == SLUICE__ROW_CHANGE__OP__UPDATE && !c->after))
		return 0;
	mark = pl->text.len;
	if ((rc = add_text(x, td, kr, 1, &k0, &kl)))
		goto render;
	if (op == SLUICE__ROW_CHANGE__OP__UPDATE) {
		size_t n0, nl;

		/* a new primary key: as it comes */
		if ((rc = add_text(x, td, c->after, 1, &n0, &nl)))
			goto render;
		if (nl != kl || memcmp(pl->text.data + k0, pl->text.data + n0, kl)) {
			pl->text.len = mark;
			return 0;
		}
		pl->text.len = n0;
	}
	h = rep__deps_key(td, kr, NULL, 1);
	e = find(pl, td->ref, h, pl->text.data + k0, kl);
	if (e && e->state != P_NONE) {
		/* the key stays where it was first written */
		pl->text.len = mark;
		k0 = e->key;
	}
	if (c->after && (rc = add_text(x, td, c->after, 0, &a0, &al)))
		goto render;
	if (c->before && op != SLUICE__ROW_CHANGE__OP__INSERT &&
	    (!e || e->state == P_NONE) && (rc = add_text(x, td, c->before, 0, &b0, &bl)))
		goto render;
	if (!e || e->state == P_NONE) {
		if (!e) {
			if (pl->n == pl->cap) {
				pl->cap = pl->cap ? pl->cap * 2 : 256;
				pl->v = sl_xrealloc(pl->v, pl->cap * sizeof(*pl->v));
			}
			e = &pl->v[pl->n++];
			memset(e, 0, sizeof(*e));
			e->ref = td->ref;
			e->hash = h;
			e->key = k0;
			e->key_len = kl;
			e->next = pl->head[h & pl->mask];
			pl->head[h & pl->mask] = (uint32_t)pl->n;
			if (pl->n * 2 > pl->mask + 1)
				rehash(pl, (pl->mask + 1) * 2);
		}
		if (td->ref >= pl->nref) {
			size_t n = pl->nref ? pl->nref : 64;

			while (n <= td->ref)
				n *= 2;
			pl->nref_of = sl_xrealloc(pl->nref_of, n * sizeof(*pl->nref_of));
			memset(pl->nref_of + pl->nref, 0, (n - pl->nref) * sizeof(*pl->nref_of));
			pl->nref = n;
		}
		pl->nref_of[td->ref] = 1;
		e->td = td;
		e->cur = *cur;
		e->before = b0;
		e->before_len = bl;
		e->after = a0;
		e->after_len = al;
		e->state = op == SLUICE__ROW_CHANGE__OP__INSERT ? P_INS :
			   op == SLUICE__ROW_CHANGE__OP__UPDATE ? P_UPD : P_DEL;
		return 1;
	}
	switch (op) {
	case SLUICE__ROW_CHANGE__OP__INSERT:
		if (e->state != P_DEL)
			goto not_planned;
		e->state = P_DELINS;
		break;
	case SLUICE__ROW_CHANGE__OP__UPDATE:
		if (e->state == P_DEL)
			goto not_planned;
		break;
	default:
		if (e->state == P_DEL)
			goto not_planned;
		e->state = e->state == P_INS ? P_NONE : P_DEL;
		break;
	}
	e->after = a0;
	e->after_len = al;
	return 1;
not_planned:
	pl->text.len = mark;
	return 0;
render:
	pl->text.len = mark;
	return render_error(x, rc, td->ref, cur, err);
}

/* Add the plan's entry e to statement kind (tuple at off, len). */
static int emit_one(struct rep_ctx *x, const struct rep_pchange *e, enum rep_kind kind, size_t off,
		    size_t len, struct sl_err *err)
{
	int rc;

	sl_buf_reset(&x->row);
	if ((rc = sl_buf_add(&x->row, x->plan.text.data + off, len)))
		return render_error(x, rc, e->ref, &e->cur, err);
	return add_batched(x, kind, e->td, NULL, &e->cur, 0, err);
}

static int changed(const struct rep_plan *pl, const struct rep_pchange *e)
{
	return e->before_len != e->after_len ||
	       memcmp(pl->text.data + e->before, pl->text.data + e->after, e->after_len);
}

/* The planned changes of table ref as three statements (see the top). */
static int emit_ref(struct rep_ctx *x, uint32_t ref, size_t from, struct sl_err *err)
{
	struct rep_plan *pl = &x->plan;
	int rc = 0;

	for (int pass = 0; pass < 3 && !rc; pass++)
		for (size_t i = from; i < pl->n && !rc; i++) {
			const struct rep_pchange *e = &pl->v[i];
			int upd = e->state == P_UPD, chg = upd && changed(pl, e);

			if (e->ref != ref)
				continue;
			if (pass == 0 && (e->state == P_DEL || e->state == P_DELINS || (upd && !chg)))
				rc = emit_one(x, e, K_DELETE, e->key, e->key_len, err);
			else if (pass == 1 && chg)
				rc = emit_one(x, e, K_REPLACE, e->after, e->after_len, err);
			else if (pass == 2 && (e->state == P_INS || e->state == P_DELINS || (upd && !chg)))
				rc = emit_one(x, e, K_INSERT, e->after, e->after_len, err);
		}
	return rc;
}

int rep__plan_applied(struct rep_ctx *x, const struct seg_cursor *begin, struct sl_err *err)
{
	struct rep_plan *pl = &x->plan;
	int rc;

	if (!pl->napplied++)
		pl->applied_cur = *begin;
	else if ((rc = sl_buf_addc(&pl->applied, ',')))
		goto fail;
	if (!(rc = rep__sql_applied_tuple(&pl->applied, x->consumer, begin)))
		return 0;
fail:
	return sl_err_set(err, rc, "cannot build the start of the transaction at %s: %s", x->last_pos,
			  sl_strerror(rc));
}

/* The batch's later transactions' `applied` rows, one INSERT. */
static int emit_applied(struct rep_ctx *x, struct sl_err *err)
{
	struct rep_plan *pl = &x->plan;
	struct rep_worker *w = x->cur;
	static const char head[] = REP_APPLIED_INSERT;
	struct rep_part *p;
	int rc;

	if (!pl->napplied)
		return 0;
	if ((rc = rep__close_open(w)) ||
	    (rc = rep__make_room(x, sizeof(head) + pl->applied.len + 16, 0, &pl->applied_cur, err)))
		return err->code ? rc : render_error(x, rc, 0, &pl->applied_cur, err);
	p = rep__part_new(w, K_CHECKPOINT, 0, &pl->applied_cur);
	if ((rc = sl_buf_add(&w->q, head, sizeof(head) - 1)) ||
	    (rc = sl_buf_add(&w->q, pl->applied.data, pl->applied.len)))
		return render_error(x, rc, 0, &pl->applied_cur, err);
	rep__part_end(w, p);
	p->expect = pl->napplied;
	if ((rc = rep__add_guard(w, &pl->applied_cur, pl->napplied)))
		return render_error(x, rc, 0, &pl->applied_cur, err);
	pl->napplied = 0;
	sl_buf_reset(&pl->applied);
	return 0;
}

static void plan_reset(struct rep_plan *pl)
{
	if (pl->head)
		memset(pl->head, 0, (pl->mask + 1) * sizeof(*pl->head));
	if (pl->nref_of)
		memset(pl->nref_of, 0, pl->nref * sizeof(*pl->nref_of));
	pl->n = 0;
	if (pl->text.cap > ((size_t)64 << 20))
		sl_buf_release(&pl->text);
	else
		sl_buf_reset(&pl->text);
}

/* Send the plan of table ref (UINT32_MAX: of every table) into q. The plan
 * is kept whole until all of it is sent, then forgotten at once. */
static int emit(struct rep_ctx *x, uint32_t ref, struct sl_err *err)
{
	struct rep_plan *pl = &x->plan;
	int rc = 0;

	if (ref == UINT32_MAX && (rc = emit_applied(x, err)))
		return rc;
	if (!pl->n)
		return 0;
	if (ref != UINT32_MAX) {
		if ((rc = emit_ref(x, ref, 0, err)))
			return rc;
		/* forget ref's entries: the rest stay planned */
		for (size_t i = 0; i < pl->n; i++)
			if (pl->v[i].ref == ref)
				pl->v[i].state = P_NONE;
		pl->nref_of[ref] = 0;
		return 0;
	}
	for (size_t i = 0; i < pl->n && !rc; i++) {
		uint32_t r = pl->v[i].ref;

		if (!pl->nref_of[r])
			continue;	/* sent already */
		rc = emit_ref(x, r, i, err);
		pl->nref_of[r] = 0;
	}
	if (!rc)
		rc = rep__close_open(x->cur);
	plan_reset(pl);
	return rc;
}

int rep__plan_emit(struct rep_ctx *x, struct sl_err *err)
{
	return emit(x, UINT32_MAX, err);
}

void rep__plan_release(struct rep_ctx *x)
{
	struct rep_plan *pl = &x->plan;

	free(pl->v);
	free(pl->head);
	free(pl->nref_of);
	sl_buf_release(&pl->text);
	sl_buf_release(&pl->applied);
	memset(pl, 0, sizeof(*pl));
}

/* Safe mode's UPDATE (rep_safe.c): the before image's row deleted if it is
 * there, then the after image REPLACEd in: an upsert. */
static int safe_update(struct rep_ctx *x, const Sluice__TableDef *td, const Sluice__RowChange *c,
		       const struct seg_cursor *cur, struct sl_err *err)
{
	int rc;

	sl_buf_reset(&x->row);
	if ((rc = rep__sql_delete_one(&x->row, td, c->before)) ||
	    (rc = rep__close_open(x->cur)) || (rc = rep__make_room(x, x->row.len + 32, td->ref, cur, err)) ||
	    (rc = rep__add_stmt(x->cur, K_DELETE, td->ref, cur, x->row.data, x->row.len, -1)) ||
	    (rc = rep__add_guard(x->cur, cur, -1)))
		return err->code ? rc : render_error(x, rc, td->ref, cur, err);
	sl_buf_reset(&x->row);
	if ((rc = rep__sql_row_tuple(&x->row, td, c->after)))
		return render_error(x, rc, td->ref, cur, err);
	return add_batched(x, K_INSERT, td, c->after, cur, 1, err);
}

int rep__apply_row(struct rep_ctx *x, const Sluice__RowChange *c, const struct seg_cursor *cur,
		   struct sl_err *err)
{
	const Sluice__TableDef *td = fmt_tables_get(&x->tables, c->table_ref);
	char wh[REP_WHERE_LEN];
	int rc;

	if (!td)
		return sl_err_set(err, -SL_ECORRUPT, "row for unknown table ref %" PRIu32 " at %s",
				  c->table_ref, rep__where_str(x, cur, wh, sizeof(wh)));
	x->row_size = sluice__row_change__get_packed_size(c);
	x->cur->batch_bytes += x->row_size;
	if ((rc = rep__cols_map(x, &td, &c, cur, err)) <= 0)
		return rc;	/* 0: a history row of a versioned table */
	if ((rc = rep__row_deps(x, td, c, err)))
		return rc;
	if (x->safe_txn && rep__safe_skip_row(x, td))
		return 0;	/* a keyless table read after this transaction */
	if (c->no_fk_checks && !x->fk_off) {
		/* as the source session ran it; back on after the COMMIT */
		static const char off[] = "SET SESSION foreign_key_checks=0";

		if ((rc = rep__close_open(x->cur)) || (rc = rep__make_room(x, sizeof(off) + 8, td->ref, cur, err)) ||
		    (rc = rep__add_stmt(x->cur, K_OTHER, td->ref, cur, off, sizeof(off) - 1, -1)))
			return err->code ? rc : render_error(x, rc, td->ref, cur, err);
		x->fk_off = 1;
	}
	if ((rc = plan_change(x, td, c, cur, err)))
		return rc < 0 ? rc : 0;
	/* applied as it comes: this table's planned changes go first */
	if (td->ref < x->plan.nref && x->plan.nref_of[td->ref] && (rc = emit(x, td->ref, err)))
		return rc;
	sl_buf_reset(&x->row);
	switch (c->op) {
	case SLUICE__ROW_CHANGE__OP__INSERT:
		if ((rc = rep__sql_row_tuple(&x->row, td, c->after)))
			return render_error(x, rc, td->ref, cur, err);
		return add_batched(x, K_INSERT, td, c->after, cur, x->safe_txn, err);
	case SLUICE__ROW_CHANGE__OP__DELETE:
		if (td->n_primary_key) {
			if ((rc = rep__sql_pk_tuple(&x->row, td, c->before)))
				return render_error(x, rc, td->ref, cur, err);
			return add_batched(x, K_DELETE, td, c->before, cur, x->safe_txn, err);
		}
		rc = rep__sql_delete_one(&x->row, td, c->before);
		break;
	case SLUICE__ROW_CHANGE__OP__UPDATE:
		if (x->safe_txn && fmt_row_full(c->after))
			return safe_update(x, td, c, cur, err);
		rc = rep__sql_update(&x->row, td, c->before, c->after);
		break;
	default:
		return sl_err_set(err, -SL_ECORRUPT, "row change with unknown op %d at %s",
				  (int)c->op, rep__where_str(x, cur, wh, sizeof(wh)));
	}
	if (rc)
		return render_error(x, rc, td->ref, cur, err);
	if ((rc = rep__close_open(x->cur)) || (rc = rep__make_room(x, x->row.len + 32, td->ref, cur, err)))
		return rc ? render_error(x, rc, td->ref, cur, err) : 0;
	rc = rep__add_stmt(x->cur, c->op == SLUICE__ROW_CHANGE__OP__UPDATE ? K_UPDATE : K_DELETE,
			   td->ref, cur, x->row.data, x->row.len, x->safe_txn ? -1 : 1);
	if (!rc)
		rc = rep__add_guard(x->cur, cur, x->safe_txn ? -1 : 1);
	return rc ? render_error(x, rc, td->ref, cur, err) : 0;
}

static int batch_close(struct rep_ctx *x, struct sl_err *err);

/*
 * The transaction's `applied` row is its first statement: the destination's
 * binlog then shows, at the first row event of the transaction, that sluice
 * replay wrote it, and a capture of the destination leaves it out whole
 * (cap_loop.c) without holding it back. Its place changes nothing for
 * exactly-once: the row commits with the transaction either way, and a retry
 * runs the transaction again from this statement (its first).
 */
static int mark_txn(struct rep_ctx *x, const struct seg_cursor *begin, struct sl_err *err)
{
	struct rep_worker *w = x->cur;
	int rc;

	if (w->batch_txns) {
		/* joins the open batch, whose first statement is an `applied` row */
		rep__txn_meta(w, x->tno, x->gtid, x->txn_after, 0);
		return rep__plan_applied(x, begin, err);
	}
	sl_buf_reset(&x->row);
	if ((rc = rep__sql_applied_insert(&x->row, x->consumer, begin)) || (rc = rep__close_open(w)))
		goto out;
	/* the transactions before it go first when q is full (this one has
	 * nothing in q yet: no meta, no row lock held); an open batch goes on
	 * in the next q */
	if (w->q.len && w->q.len + x->row.len + 64 > w->q_max &&
	    ((rc = rep__send(x, err)) || (rc = rep__wait_idle(x, w, err))))
		goto out;
	rep__txn_meta(w, x->tno, x->gtid, x->txn_after, !w->batch_txns);
	rc = rep__add_stmt(w, K_CHECKPOINT, 0, begin, x->row.data, x->row.len, 1);
out:
	if (rc && !err->code)
		rc = sl_err_set(err, rc, "cannot build the start of the transaction at %s: %s",
				x->last_pos, sl_strerror(rc));
	return rc;
}

int rep__txn_begin(struct rep_ctx *x, const Sluice__TxnBegin *b, const struct seg_cursor *cur,
		   struct sl_err *err)
{
	struct rep_inflight *e;
	int rc;

	snprintf(x->gtid, sizeof(x->gtid), "%s", b->gtid ? b->gtid : "");
	while (x->iapplied < x->napplied && rep__cursor_cmp(&x->applied[x->iapplied], cur) < 0)
		x->iapplied++;
	x->skipping = x->iapplied < x->napplied && rep__cursor_eq(&x->applied[x->iapplied], cur);
	x->skipping = rep__hist_skip_begin(x, cur, x->skipping);
	if ((rc = rep__room_in_ring(x, err)))
		return rc;
	if (!x->skipping && !x->cur && (rc = rep__acquire(x, err)))
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
	x->safe_txn = 0;
	if (!x->skipping && x->safe && (rc = rep__safe_begin(x, cur, err)))
		return rc;
	snprintf(x->txn_after, sizeof(x->txn_after), "%s", x->last_pos);
	if (x->skipping)
		return rc;
	return mark_txn(x, cur, err);
}

int rep__txn_commit(struct rep_ctx *x, const Sluice__TxnCommit *c, const struct seg_cursor *cur,
		    struct sl_err *err)
{
	struct rep_inflight *e = &x->ring[x->tno % REP_RING];
	struct rep_worker *w = x->cur;
	int rc = 0;

	if (!x->skipping) {
		if ((rc = rep__close_open(w)))
			goto out;
		if (x->fk_off) {
			/* back on for the next transaction of the batch */
			static const char on[] = "SET SESSION foreign_key_checks=1";

			if ((rc = rep__make_room(x, sizeof(on) + 8, 0, cur, err)) ||
			    (rc = rep__add_stmt(w, K_OTHER, 0, cur, on, sizeof(on) - 1, -1)))
				goto out;
			x->fk_off = 0;
		}
		w->batch_txns++;
		w->batch_tno = x->tno;
		x->st->transactions++;
		if (w->batch_txns >= x->batch_txns || w->batch_bytes >= x->batch_bytes || x->serial)
			rc = batch_close(x, err);
		if (rc)
			goto out;
	} else {
		x->st->skipped++;
		if ((rc = rep__hist_skip_commit(x, c, err)))
			goto out;
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
		rc = rep__plan_drain(x, err);
	else if (!w->batch_txns &&	/* a batch fills up under a backlog */
		 (w->queued_txns >= REP_GROUP_TXNS || w->q.len >= REP_GROUP_BYTES ||
		  (x->nworkers > 1 && rep__other_idle(x))))
		rc = rep__plan_flush(x, err);
out:
	if (rc && !err->code)
		rc = sl_err_set(err, rc, "cannot build the commit of the transaction at %s: %s",
				x->last_pos, sl_strerror(rc));
	return rc;
}

/* End x->cur's open batch: the plan, then its COMMIT into q (nothing when
 * none is open). */
static int batch_close(struct rep_ctx *x, struct sl_err *err)
{
	struct rep_worker *w = x->cur;
	int rc;

	if (!w->batch_txns)
		return 0;
	if ((rc = rep__plan_emit(x, err)))
		return rc;
	if ((rc = rep__close_open(w)) || (rc = rep__add_stmt(w, K_COMMIT, 0, NULL, "COMMIT", 6, -1)))
		return sl_err_set(err, rc, "cannot close a batch: %s", sl_strerror(rc));
	w->q_tno = w->batch_tno;
	w->queued_txns++;
	w->batch_txns = 0;
	w->batch_bytes = 0;
	return 0;
}

/* Give the current worker's q to its thread; between transactions, with
 * its open batch closed (committed), and fill another worker next. */
int rep__plan_flush(struct rep_ctx *x, struct sl_err *err)
{
	int rc;

	if (!x->cur)
		return 0;
	if (!x->in_txn && (rc = batch_close(x, err)))
		return rc;
	if ((rc = rep__send(x, err)))
		return rc;
	if (!x->in_txn)
		x->cur = NULL;
	return 0;
}

int rep__plan_drain(struct rep_ctx *x, struct sl_err *err)
{
	int rc = rep__plan_flush(x, err);

	return rc ? rc : rep__wait_all(x, err);
}

int rep__room_in_ring(struct rep_ctx *x, struct sl_err *err)
{
	int rc;

	while (x->next_tno - x->ring_lo >= REP_RING) {
		rep__advance_lwm(x);
		if (x->next_tno - x->ring_lo < REP_RING)
			break;
		if ((rc = rep__plan_flush(x, err)) || (rc = rep__wait_tno(x, x->ring_lo, err)))
			return rc;
	}
	return 0;
}
