/* snap_write.c - the snapshot's writer: units ended at P1, the queue of chunks from the readers, each table's chunks in key order. */
#include "snap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banned.h"

struct snap_chunk *snap__chunk_new(struct snap_table *t, uint64_t seq, uint64_t sub,
				   struct snap_pool *pool)
{
	struct snap_chunk *ch = sl_xcalloc(1, sizeof(*ch));

	ch->t = t;
	ch->seq = seq;
	ch->sub = sub;
	ch->pool = pool;
	return ch;
}

uint8_t *snap__chunk_alloc(struct snap_chunk *ch, size_t n)
{
	struct snap_block *b = ch->tail;
	uint8_t *p;

	if (!b || b->cap - b->len < n) {
		if (n <= SNAP_BLOCK && ch->pool && ch->pool->free) {
			b = ch->pool->free;
			ch->pool->free = b->next;
			ch->pool->n--;
		} else {
			size_t cap = n > SNAP_BLOCK ? n : SNAP_BLOCK;

			b = sl_xmalloc(sizeof(*b) + cap);
			b->cap = cap;
		}
		b->len = 0;
		b->next = NULL;
		if (ch->tail)
			ch->tail->next = b;
		else
			ch->blocks = b;
		ch->tail = b;
		ch->mem += b->cap;
	}
	p = b->data + b->len;
	b->len += n;
	return p;
}

static void chunk_free(struct snap_chunk *ch, struct snap_pool *pool)
{
	if (!ch)
		return;
	while (ch->blocks) {
		struct snap_block *b = ch->blocks;

		ch->blocks = b->next;
		if (pool && b->cap == SNAP_BLOCK && pool->n < SNAP_POOL_MAX) {
			b->next = pool->free;
			pool->free = b;
			pool->n++;
		} else {
			free(b);
		}
	}
	db_key_val_release(&ch->hi, ch->t ? ch->t->key.n : 0);
	free(ch->where);
	free(ch);
}

void snap__chunk_free(struct snap_chunk *ch)
{
	chunk_free(ch, NULL);
}

void snap__chunk_recycle(struct snap_chunk *ch)
{
	if (ch)
		chunk_free(ch, ch->pool);
}

void snap__pool_release(struct snap_pool *pool)
{
	while (pool->free) {
		struct snap_block *b = pool->free;

		pool->free = b->next;
		free(b);
	}
	pool->n = 0;
}

void snap__fail(struct snap_ctx *c, const struct sl_err *err)
{
	pthread_mutex_lock(&c->mu);
	if (!c->failed) {
		c->failed = 1;
		c->err = *err;
	}
	c->stop = 1;
	pthread_cond_broadcast(&c->cv_ready);
	pthread_cond_broadcast(&c->cv_written);
	pthread_mutex_unlock(&c->mu);
}

int snap__write_unit(struct snap_ctx *c, const Sluice__Record *rec, struct sl_err *err)
{
	int rc = seg_writer_append(c->w, rec, err);

	return rc ? rc : seg_writer_txn_end(c->w, c->p1, (uint64_t)time(NULL), err);
}

/* Under mu: wait until ch is written (0) or the run stops (1); frees or abandons it. */
static int wait_written(struct snap_ctx *c, struct snap_chunk *ch)
{
	int written;

	while (!ch->written && !c->stop)
		pthread_cond_wait(&c->cv_written, &c->mu);
	written = ch->written;
	if (written)
		snap__chunk_recycle(ch);	/* the writer leaves written chunks to their reader */
	else
		ch->abandoned = 1;	/* the writer frees it */
	return written ? 0 : 1;
}

int snap__submit(struct snap_ctx *c, struct snap_chunk **pending, struct snap_chunk *ch)
{
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	if (ch) {
		ch->next = c->ready;
		c->ready = ch;
		pthread_cond_broadcast(&c->cv_ready);
	}
	if (*pending)
		rc = wait_written(c, *pending);
	*pending = ch;
	if (!ch)
		rc = 0;
	else if (rc) {	/* stopping: this one is not waited for either */
		ch->abandoned = 1;	/* queued under this lock: not written yet */
		*pending = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

static int write_chunk(struct snap_ctx *c, struct snap_chunk *ch, struct sl_err *err)
{
	struct snap_table *t = ch->t;
	Sluice__Record rec = SLUICE__RECORD__INIT;
	Sluice__SnapshotChunk sc = SLUICE__SNAPSHOT_CHUNK__INIT;
	Sluice__SnapshotChunkEnd se = SLUICE__SNAPSHOT_CHUNK_END__INIT;
	struct sl_buf nw = SL_BUF_INIT(SL_BUF_UNLIMITED);
	ProtobufCBinaryData *nk = NULL;
	int rc;

	if (t->def_seq != seg_writer_seq(c->w)) {
		rec.body_case = SLUICE__RECORD__BODY_TABLE;
		rec.table = &t->def;
		if ((rc = seg_writer_append(c->w, &rec, err)))
			goto out;
		t->def_seq = seg_writer_seq(c->w);
	}
	sc.table_ref = t->ref;
	sc.db = t->dt->db;
	sc.table = t->dt->name;
	sc.index = t->next_index;
	sc.where = ch->where;
	sc.restart = t->restart;
	sc.run = c->run;
	rec.body_case = SLUICE__RECORD__BODY_CHUNK;
	rec.chunk = &sc;
	if ((rc = seg_writer_append(c->w, &rec, err)))
		goto out;
	for (const struct snap_block *b = ch->blocks; b; b = b->next) {
		if ((rc = seg_writer_append_rows(c->w, b->data, b->len, err)))
			goto out;
		sl_failpoint("snapshot.chunk.rows");	/* a chunk begun, not ended */
	}
	se.rows = ch->nrows;
	se.bytes = ch->bytes;
	se.table_done = ch->table_done;
	if (!ch->table_done && ch->hi.v) {
		struct db_key_val *hv = &ch->hi;

		if ((rc = db_key_cmp_sql(&nw, &t->key, hv, 1)))
			goto out;
		se.next_where = (char *)sl_buf_cstr(&nw);
		nk = sl_xcalloc(t->key.n, sizeof(*nk));
		for (size_t k = 0; k < t->key.n; k++) {
			nk[k].data = (uint8_t *)hv->v[k];
			nk[k].len = hv->len[k];
		}
		se.next_key = nk;
		se.n_next_key = t->key.n;
	} else {
		se.next_where = (char *)"";
	}
	rec.body_case = SLUICE__RECORD__BODY_CHUNK_END;
	rec.chunk_end = &se;
	if ((rc = seg_writer_append(c->w, &rec, err)) ||
	    (rc = seg_writer_txn_end(c->w, c->p1, (uint64_t)time(NULL), err)))
		goto out;
	sl_log(SL_INFO, "snapshot", "snapshot: %s chunk %llu rows %zu (run %u)%s", t->qname,
	       (unsigned long long)t->next_index, ch->nrows, c->run, ch->table_done ? " done" : "");
	t->next_index++;
	t->restart = 0;
	t->rows_total += ch->nrows;
	c->st->chunks++;
	c->st->rows += ch->nrows;
	c->st->bytes += ch->bytes;
	if (ch->table_done)
		t->done = 1;
	if (ch->range_done) {
		t->w_seq++;
		t->w_sub = 0;
	} else {
		t->w_sub++;
	}
out:
	free(nk);
	sl_buf_release(&nw);
	return rc;
}

/* Under mu: unlink and return the oldest chunk that is next in its table's
 * order. c->ready is newest first: taking the first writable one starved a
 * reader whose chunk waited behind another reader's newer ones (its next
 * chunk waits for that one to be written), and the stream held one table's
 * chunks after the other's instead of both interleaved. */
static struct snap_chunk *take_writable(struct snap_ctx *c)
{
	struct snap_chunk **found = NULL, *ch;

	for (struct snap_chunk **pp = &c->ready; *pp; pp = &(*pp)->next)
		if ((*pp)->seq == (*pp)->t->w_seq && (*pp)->sub == (*pp)->t->w_sub)
			found = pp;
	if (!found)
		return NULL;
	ch = *found;
	*found = ch->next;
	ch->next = NULL;
	return ch;
}

int snap__writer_loop(struct snap_ctx *c, struct sl_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct snap_chunk *ch = c->failed ? NULL : take_writable(c);

		if (ch) {
			pthread_mutex_unlock(&c->mu);
			rc = write_chunk(c, ch, err);
			pthread_mutex_lock(&c->mu);
			if (rc) {
				snap__chunk_free(ch);
				if (!c->failed) {
					c->failed = 1;
					c->err = *err;
				}
				c->stop = 1;
				pthread_cond_broadcast(&c->cv_written);
				continue;
			}
			ch->written = 1;
			if (ch->abandoned)
				snap__chunk_free(ch);
			pthread_cond_broadcast(&c->cv_written);
			continue;
		}
		if (!c->readers)
			break;
		if (sl_stop_requested && !c->stop) {
			c->stop = 1;
			pthread_cond_broadcast(&c->cv_written);
		}
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&c->cv_ready, &c->mu, &ts);
		}
	}
	/* every reader is gone: what is left could not be written in order */
	while (c->ready) {
		struct snap_chunk *ch = c->ready;

		c->ready = ch->next;
		snap__chunk_free(ch);
	}
	if (c->failed) {
		*err = c->err;
		rc = err->code ? err->code : -SL_EBUG;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}
