/* rep_apply.c - rep_run(): the coordinator that reads DIR, turns records into SQL and hands whole transactions to the workers. */
#include "rep.h"
#include "rep_int.h"
#include "rep_snap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <mysql.h>
#include "banned.h"

/*
 * The coordinator reads records in order and renders each transaction into
 * the query q of one worker (rep_worker.c): the INSERT into
 * `sluice`.`applied` naming the transaction first (so the destination's
 * binlog marks the transaction as replay's at its first row event: capture
 * leaves such transactions out, cap_loop.c), then its rows as batched
 * statements with guards, then COMMIT. Several small transactions may share
 * a q (one round trip), each still its own destination transaction; q goes to the
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
 * committed. rep__fold() moves it (about once a second, when idle, at a DDL and
 * at the end) and deletes the applied rows it covers, in one destination
 * transaction. A restart reads both and skips the transactions whose
 * TxnBegin cursor is in `applied`.
 *
 * A DDL waits for every worker to finish, then runs on the control
 * connection: the checkpoint marks it pending before and done after, so a
 * restart between the two does not run it twice.
 */

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
		if ((rc = rep__dispatch(x, err)) || (rc = rep__wait_idle(x, w, err)))
			return rc;
		/* q held none of the current transaction's statements yet: the
		 * worker forgot its meta with q, so start it again (its first
		 * statement must be marked first, for retries and messages) */
		if (x->in_txn && !w->ntxns)
			rep__txn_meta(w, x->tno, x->gtid, x->txn_after);
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

/* Add the row in x->row to a batched statement kind (K_INSERT or K_DELETE by
 * PK). safe (safe mode, rep_safe.c): REPLACE for INSERT, any row count. */
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
	if (kind == K_INSERT && (rc = rep__row_shape(&x->shape, td, row)))
		return render_error(x, rc, td->ref, cur, err);
	if (w->open_kind == kind && w->open_ref == td->ref && w->open_safe == safe &&
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
	if (safe && kind == K_INSERT) {	/* "INSERT INTO" -> "REPLACE INTO" */
		if ((rc = sl_buf_reserve(&head, 1)))
			goto render;
		memmove(head.data + 7, head.data + 6, head.len - 6);
		memcpy(head.data, "REPLACE", 7);
		head.len++;
	}
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

/* Safe mode's UPDATE (rep_safe.c): the before image's row deleted if it is
 * there, then the after image REPLACEd in: an upsert. */
static int safe_update(struct rep_ctx *x, const Sluice__TableDef *td, const Sluice__RowChange *c,
		       const struct seg_cursor *cur, struct sl_err *err)
{
	int rc;

	sl_buf_reset(&x->row);
	if ((rc = rep__sql_delete_one(&x->row, td, c->before)) ||
	    (rc = rep__close_open(x->cur)) || (rc = make_room(x, x->row.len + 32, td->ref, cur, err)) ||
	    (rc = rep__add_stmt(x->cur, K_DELETE, td->ref, cur, x->row.data, x->row.len, -1)) ||
	    (rc = rep__add_guard(x->cur, cur, -1)))
		return err->code ? rc : render_error(x, rc, td->ref, cur, err);
	sl_buf_reset(&x->row);
	if ((rc = rep__sql_row_tuple(&x->row, td, c->after)))
		return render_error(x, rc, td->ref, cur, err);
	return add_batched(x, K_INSERT, td, c->after, cur, 1, err);
}

static int apply_row(struct rep_ctx *x, const Sluice__RowChange *c, const struct seg_cursor *cur,
		     struct sl_err *err)
{
	const Sluice__TableDef *td = fmt_tables_get(&x->tables, c->table_ref);
	char wh[REP_WHERE_LEN];
	int rc;

	if (!td)
		return sl_err_set(err, -SL_ECORRUPT, "row for unknown table ref %" PRIu32 " at %s",
				  c->table_ref, rep__where_str(x, cur, wh, sizeof(wh)));
	x->row_size = sluice__row_change__get_packed_size(c);
	if ((rc = rep__cols_map(x, &td, &c, cur, err)) <= 0)
		return rc;	/* 0: a history row of a versioned table */
	if ((rc = rep__row_deps(x, td, c, err)))
		return rc;
	if (x->safe_txn && rep__safe_skip_row(x, td))
		return 0;	/* a keyless table read after this transaction */
	if (c->no_fk_checks && !x->fk_off) {
		/* as the source session ran it; back on after the COMMIT */
		static const char off[] = "SET SESSION foreign_key_checks=0";

		if ((rc = rep__close_open(x->cur)) || (rc = make_room(x, sizeof(off) + 8, td->ref, cur, err)) ||
		    (rc = rep__add_stmt(x->cur, K_OTHER, td->ref, cur, off, sizeof(off) - 1, -1)))
			return err->code ? rc : render_error(x, rc, td->ref, cur, err);
		x->fk_off = 1;
	}
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
	if ((rc = rep__close_open(x->cur)) || (rc = make_room(x, x->row.len + 32, td->ref, cur, err)))
		return rc ? render_error(x, rc, td->ref, cur, err) : 0;
	rc = rep__add_stmt(x->cur, c->op == SLUICE__ROW_CHANGE__OP__UPDATE ? K_UPDATE : K_DELETE,
			   td->ref, cur, x->row.data, x->row.len, x->safe_txn ? -1 : 1);
	if (!rc)
		rc = rep__add_guard(x->cur, cur, x->safe_txn ? -1 : 1);
	return rc ? render_error(x, rc, td->ref, cur, err) : 0;
}

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

	sl_buf_reset(&x->row);
	if ((rc = rep__sql_applied_insert(&x->row, x->consumer, begin)) || (rc = rep__close_open(w)))
		goto out;
	/* the transactions before it go first when q is full (this one has
	 * nothing in q yet: no meta, no row lock held) */
	if (w->q.len && w->q.len + x->row.len + 64 > w->batch_max &&
	    ((rc = rep__dispatch(x, err)) || (rc = rep__wait_idle(x, w, err))))
		goto out;
	rep__txn_meta(w, x->tno, x->gtid, x->txn_after);
	rc = rep__add_stmt(w, K_CHECKPOINT, 0, begin, x->row.data, x->row.len, 1);
out:
	if (rc && !err->code)
		rc = sl_err_set(err, rc, "cannot build the start of the transaction at %s: %s",
				x->last_pos, sl_strerror(rc));
	return rc;
}

static int begin_txn(struct rep_ctx *x, const Sluice__TxnBegin *b, const struct seg_cursor *cur,
		     struct sl_err *err)
{
	struct rep_inflight *e;
	int rc;

	snprintf(x->gtid, sizeof(x->gtid), "%s", b->gtid ? b->gtid : "");
	while (x->iapplied < x->napplied && rep__cursor_cmp(&x->applied[x->iapplied], cur) < 0)
		x->iapplied++;
	x->skipping = x->iapplied < x->napplied && rep__cursor_eq(&x->applied[x->iapplied], cur);
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

static int commit_txn(struct rep_ctx *x, const Sluice__TxnCommit *c, const struct seg_cursor *cur,
		      struct sl_err *err)
{
	struct rep_inflight *e = &x->ring[x->tno % REP_RING];
	struct rep_worker *w = x->cur;
	int rc = 0;

	if (!x->skipping) {
		if ((rc = rep__close_open(w)) || (rc = make_room(x, 16, 0, cur, err)) ||
		    (rc = rep__add_stmt(w, K_COMMIT, 0, cur, "COMMIT", 6, -1)))
			goto out;
		if (x->fk_off) {
			static const char on[] = "SET SESSION foreign_key_checks=1";

			if ((rc = rep__add_stmt(w, K_OTHER, 0, cur, on, sizeof(on) - 1, -1)))
				goto out;
			x->fk_off = 0;
		}
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
		rc = rep__wait_all(x, err);
	else if (w->queued_txns >= REP_GROUP_TXNS || w->q.len >= REP_GROUP_BYTES ||
		 (x->nworkers > 1 && rep__other_idle(x)))
		rc = rep__dispatch(x, err);
out:
	if (rc && !err->code)
		rc = sl_err_set(err, rc, "cannot build the commit of the transaction at %s: %s",
				x->last_pos, sl_strerror(rc));
	return rc;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR && !sl_stop_requested)
		;
}

/* Wait for DIR to hold a segment (follow) and return its identity. */
static int dir_exists(const char *dir, struct sl_err *err)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		int e = errno;

		return sl_err_set(err, -e, "%s: stream directory '%s'", e == ENOENT ?
				  "no such directory" : strerror(e), dir);
	}
	if (!S_ISDIR(st.st_mode))
		return sl_err_set(err, -ENOTDIR, "not a directory: stream directory '%s'", dir);
	return 0;
}

static int dir_identity(struct rep_ctx *x, uint8_t sid[16], struct sl_err *err)
{
	for (;;) {
		char *source = NULL;
		int rc = seg_dir_identity(x->o->dir, &source, sid, err);

		free(source);
		if (rc != -ENOENT) {
			if (!rc)
				*err = (struct sl_err)SL_ERR_INIT;	/* no stale "holds no segment" */
			return rc;
		}
		if (!x->o->follow || sl_stop_requested)
			return -ENOENT;
		sleep_ms(x->o->poll_ms ? x->o->poll_ms : 20);
	}
}

/*
 * The checkpoint names the record it was moved over: its cursor (segment,
 * frame offset, index) and that record's source position. A DIR rolled back
 * to an older copy, or captured again, holds something else there (nothing,
 * a shorter segment, another record): reading on from that cursor would
 * skip or repeat transactions, or stop on a "truncated frame". Say that
 * the stream forked, and where, with what DIR holds there.
 */
static int forked(struct rep_ctx *x, const char *holds, struct sl_err *err)
{
	const struct seg_cursor *c = &x->folded;

	return sl_err_set(err, -SL_ESTREAM, "stream forked: consumer '%s' applied up to segment %"
			  PRIu64 " offset %" PRIu64 " record %" PRIu32 " (source position %s) but "
			  "'%s' holds %s there (was it rolled back to an older copy, or captured "
			  "again?): replaying from it would skip or repeat transactions",
			  x->consumer, c->seq, c->offset, c->index,
			  x->cp.source_file[0] ? x->last_pos : "unknown", x->o->dir, holds);
}

/* The source position of a record that ends a transaction, or NULL. */
static const Sluice__Position *end_position(const Sluice__Record *rec)
{
	if (rec->body_case == SLUICE__RECORD__BODY_COMMIT && rec->commit)
		return rec->commit->position;
	if (rec->body_case == SLUICE__RECORD__BODY_DDL && rec->ddl)
		return rec->ddl->position;
	return NULL;
}

/*
 * seg_reader_seek_after() skips the TableDefs that precede the checkpoint in
 * its segment, and a segment repeats a definition only before its first use
 * there. So read the checkpoint's segment from its start up to the
 * checkpoint, keeping only TableDefs, and check on the way that the
 * checkpoint's record is there (forked() when not).
 */
static int prime_tables(struct rep_ctx *x, struct sl_err *err)
{
	struct seg_reader *r = NULL;
	struct seg_cursor last = { 0 };
	char holds[400], pos[300];
	int trc = 0, found = 0, rc = seg_reader_open_seq(&r, x->o->dir, x->folded.seq, err);

	if (rc == -ENOENT) {
		/* below DIR's lowest segment: purged (run_loop says so); else DIR
		 * ends before it (segment numbers have no gaps) */
		struct sl_err e2 = SL_ERR_INIT;

		if (!seg_reader_open(&r, x->o->dir, &e2) && seg_reader_seq(r) &&
		    seg_reader_seq(r) <= x->folded.seq) {
			seg_reader_close(r);
			snprintf(holds, sizeof(holds), "no segment %" PRIu64, x->folded.seq);
			return forked(x, holds, err);
		}
		seg_reader_close(r);
		return 0;
	}
	if (rc)
		return sl_err_prefix(err, "reading the table definitions before the checkpoint");
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;
		int cmp;

		rc = seg_reader_next(r, &rec, &cur, err);
		if (rc <= 0)
			break;
		if (rec->body_case == SLUICE__RECORD__BODY_TABLE) {
			fmt_tables_put(&x->tables, rec->table);
			trc = rep__check_triggers(x, rec->table, err);
		}
		cmp = rep__cursor_cmp(&cur, &x->folded);
		if (!trc && cmp > 0)
			snprintf(holds, sizeof(holds), "no record (the first one after it is at offset %"
				 PRIu64 " record %" PRIu32 ")", cur.offset, cur.index);
		if (!trc && cmp == 0) {
			const Sluice__Position *p = end_position(rec);

			found = 1;
			if (x->cp.source_file[0] && p && p->file && p->file[0] &&
			    (strcmp(p->file, x->cp.source_file) || p->offset != x->cp.source_offset)) {
				found = -1;
				snprintf(holds, sizeof(holds), "a record of source position %s",
					 fmt_position_str(p, pos, sizeof(pos)));
			}
		}
		fmt_record_free(rec);
		last = cur;
		if (trc || cmp >= 0)
			break;
	}
	seg_reader_close(r);
	if (trc)
		return trc;
	if (rc < 0)
		return sl_err_prefix(err, "reading the table definitions before the checkpoint");
	if (found == 1)
		return 0;
	if (!found && rep__cursor_cmp(&last, &x->folded) < 0) {
		if (last.seq)
			snprintf(holds, sizeof(holds), "nothing (segment %" PRIu64 " ends after offset %"
				 PRIu64 " record %" PRIu32 ")", x->folded.seq, last.offset, last.index);
		else
			snprintf(holds, sizeof(holds), "nothing (segment %" PRIu64 " holds no record)",
				 x->folded.seq);
	}
	return forked(x, holds, err);
}

static int apply_record(struct rep_ctx *x, const Sluice__Record *rec, const struct seg_cursor *cur,
			struct sl_err *err)
{
	char wh[REP_WHERE_LEN];

	/* The renderers tell "err already says why" by err->code (a lookup on
	 * the destination that failed) from a bare code they must explain: a
	 * message left by an earlier call that succeeded in the end (the
	 * reader's "cannot open" of a segment not written yet, "holds no
	 * segment") must not stand for this record's failure. */
	*err = (struct sl_err)SL_ERR_INIT;
	switch (rec->body_case) {
	case SLUICE__RECORD__BODY_BEGIN:
		if (x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "transaction begins inside another at %s",
					  rep__where_str(x, cur, wh, sizeof(wh)));
		return begin_txn(x, rec->begin, cur, err);
	case SLUICE__RECORD__BODY_TABLE:
		fmt_tables_put(&x->tables, rec->table);
		rep__cols_forget(x, rec->table->ref);
		return rep__check_triggers(x, rec->table, err);
	case SLUICE__RECORD__BODY_ROW:
		if (!x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "row change outside a transaction at %s",
					  rep__where_str(x, cur, wh, sizeof(wh)));
		if (x->skipping)
			return 0;
		x->st->rows++;
		return apply_row(x, rec->row, cur, err);
	case SLUICE__RECORD__BODY_COMMIT:
		if (!x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "commit outside a transaction at %s",
					  rep__where_str(x, cur, wh, sizeof(wh)));
		return commit_txn(x, rec->commit, cur, err);
	case SLUICE__RECORD__BODY_DDL:
		if (x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "ddl inside a transaction at %s",
					  rep__where_str(x, cur, wh, sizeof(wh)));
		return rep__apply_ddl(x, rec->ddl, cur, err);
	case SLUICE__RECORD__BODY_HEARTBEAT:
		x->hb_time = rec->heartbeat->time;	/* rep_metrics.c: lag on an idle source */
		return 0;
	default:
		return sl_err_set(err, -SL_ECORRUPT, "unknown record type %d at %s",
				  (int)rec->body_case, rep__where_str(x, cur, wh, sizeof(wh)));
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
	int rc = rep__wait_all(x, err);

	return rc ? rc : rep__fold(x, NULL, err);
}

/* --follow's progress line, every REP_RATE_MS while transactions arrive:
 * rates, the stream's bytes read (frame offsets moved through: compressed,
 * as on disk), and the latency of the last committed transaction (now minus
 * its commit time on the source, in seconds) - for a reverse sync after a
 * switchover, D's commit to S's. */
#define REP_RATE_MS 10000
struct rep_rate {
	uint64_t ms, bytes, txns, rows;
	uint64_t total;			/* bytes since the start, for --metrics */
	struct seg_cursor last;
};

static void rate_note(struct rep_rate *r, const struct seg_cursor *cur)
{
	uint64_t n;

	if (cur->seq == r->last.seq)
		n = cur->offset > r->last.offset ? cur->offset - r->last.offset : 0;
	else
		n = cur->offset;
	r->bytes += n;
	r->total += n;
	r->last = *cur;
}

static void rate_report(struct rep_ctx *x, struct rep_rate *r)
{
	uint64_t now = sl_now_ms(), txns = x->st->transactions - r->txns, rows = x->st->rows - r->rows;
	uint64_t wall = sl_wall_us() / 1000000;
	double secs = (double)(now - r->ms) / 1000;

	rep__metrics_tick(x, r->total, 0);	/* --metrics FILE, every few seconds */
	if (now - r->ms < REP_RATE_MS)
		return;
	if (x->o->follow && (txns || rows))
		sl_log(SL_INFO, "replay", "%.0f transactions/s, %.0f rows/s, %.2f MB/s of stream; latency %" PRIu64
		       " s (commit on the source to commit here)", (double)txns / secs, (double)rows / secs,
		       (double)r->bytes / 1e6 / secs, x->lwm.time && wall > x->lwm.time ? wall - x->lwm.time : 0);
	r->ms = now;
	r->bytes = 0;
	r->txns = x->st->transactions;
	r->rows = x->st->rows;
}

static int run_loop(struct rep_ctx *x, struct sl_err *err)
{
	struct rep_rate rate = { .ms = sl_now_ms() };
	struct seg_reader *r = NULL;
	struct seg_cursor registered = { 0 };
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
			if (x->folded.seq && !rep__cursor_eq(&x->folded, &registered)) {
				register_consumer(x);
				registered = x->folded;
				registered_ms = sl_now_ms();
			}
			if (!x->o->follow || sl_stop_requested)
				break;
			rate_report(x, &rate);
			sleep_ms(x->o->poll_ms ? x->o->poll_ms : 20);
			continue;
		}
		rate_note(&rate, &cur);
		rc = apply_record(x, rec, &cur, err);
		fmt_record_free(rec);
		if (rc)
			goto out;
		if (!x->in_txn && sl_now_ms() - x->fold_ms >= REP_FOLD_MS) {
			/* A transaction sent in parts holds its `applied` row (its
			 * first statement) while its worker waits for the rest in
			 * q; the fold's DELETE of the rows below the mark waits
			 * for that row's lock: send the rest first, or both wait
			 * for the lock wait timeout. */
			if (x->cur && x->cur->txn_open && (rc = rep__dispatch(x, err)))
				goto out;
			rep__advance_lwm(x);
			if ((rc = rep__fold(x, NULL, err)))
				goto out;
		}
		if (!x->in_txn)
			rate_report(x, &rate);	/* also under a backlog that never ends */
		/* Retention: tell DIR how far we are, about once a second. */
		if (!x->in_txn && x->folded.seq && sl_now_ms() - registered_ms >= 1000) {
			register_consumer(x);
			registered = x->folded;
			registered_ms = sl_now_ms();
		}
	}
	rc = settle(x, err);
out:
	rep__metrics_tick(x, rate.total, 1);	/* the file complete at the end */
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
	/* before anything else: a bad name would be a broken checkpoint row and an
	 * unregistered consumer that retention does not protect */
	if (o->consumer && o->consumer[0] && (rc = sl_consumer_name_check(o->consumer, err)))
		return rc;
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
	/* An empty DIR has nothing to apply yet (capture has not written);
	 * a missing one is a mistyped path, not an empty stream. */
	if ((rc = dir_exists(o->dir, err)))
		goto out;
	if ((rc = rep__conn_open(&x.ctl, o->dest_url, err)))
		goto out;
	sl_buf_release(&x.row);
	sl_buf_init(&x.row, x.ctl.stmt_max);
	/* a replay of this consumer that died may still have queries running */
	if ((rc = rep__conn_lock(&x.ctl, x.consumer, 0, 10, 1, err)))
		goto out;
	for (unsigned i = 1; i <= REP_MAX_WORKERS; i++)
		if ((rc = rep__conn_lock(&x.ctl, x.consumer, i, 60, 0, err)))
			goto out;
	/* DIR/snapshot: schema and rows first (rep_snapshot.c) */
	if ((rc = rep__snapshot_phase(&x, err)))
		goto out;
	if (st->snapshot_incomplete)
		goto out;
	rc = dir_identity(&x, sid, err);
	if (rc == -ENOENT) {
		sl_log(SL_INFO, "replay", "'%s' holds no segment yet: nothing to apply", o->dir);
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	if ((rc = rep__load_checkpoint(&x, sid, err)))
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
			while (rep__any_busy_locked(&x))
				pthread_cond_wait(&x.pool.cv, &x.pool.mu);
			pthread_mutex_unlock(&x.pool.mu);
			rep__advance_lwm(&x);
			if (x.ctl.db && rep__fold(&x, NULL, &e2))
				sl_log(SL_WARN, "replay", "%s", e2.msg);
		}
		rep__pool_stop(&x.pool);
	}
	if (x.loaded && x.ctl.db)
		register_consumer(&x);
	rep__conn_close(&x.ctl);
	fmt_tables_release(&x.tables);
	rep__triggers_release(&x);
	rep__deps_release(&x.deps);
	rep__cols_release(&x);
	sl_buf_release(&x.row);
	sl_buf_release(&x.shape);
	free(x.ring);
	free(x.applied);
	rep__safe_release(x.safe);
	return rc;
}
