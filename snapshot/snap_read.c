/* snap_read.c - reader threads: the next range of whatever table has work, read into one bounded chunk at a time; the Threads_running probe. */
#include "snap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "banned.h"

static void wait_paused(struct snap_ctx *c)
{
	while (c->paused && !c->stop && !sl_stop_requested)
		usleep(100 * 1000);
}

/* One row of the result into ch, packed at once as its record (the row's
 * text is read where libmariadb holds it, copied once, into the record). */
static int add_row(struct snap_reader *rd, struct snap_chunk *ch, MYSQL_ROW row,
		   const unsigned long *len, struct sl_err *err)
{
	struct snap_table *t = ch->t;
	size_t sz, hl;
	uint64_t bytes = 0;
	uint8_t *p;

	if (t->ncols > rd->vals_cap) {
		rd->vals_cap = t->ncols;
		rd->vals = sl_xrealloc(rd->vals, rd->vals_cap * sizeof(*rd->vals));
	}
	for (size_t j = 0, e = 0; j < t->ncols; j++) {
		const char *num = NULL;

		if (e < t->nextra && t->extra_of[e] == j)
			num = row[t->ncols + e++];
		if (snap_value_from_text(&t->cols[j], row[j], len[j], num, &rd->vals[j], err))
			return sl_err_prefix(err, "table %s", t->qname);
		bytes += len[j];
	}
	sz = fmt_pack_insert_size(&rd->pk, t->ref, rd->vals, t->ncols);
	hl = fmt_varint_len(sz);
	p = snap__chunk_alloc(ch, hl + sz);
	fmt_varint_put(p, sz);
	if (fmt_pack_insert(&rd->pk, t->ref, rd->vals, t->ncols, p + hl) != sz)
		sl_bug("snapshot row packed to another size than computed");
	ch->bytes += bytes;
	ch->nrows++;
	return 0;
}

/* A chunk is full at SNAP_CHUNK_MAX_BYTES of rows as read, or when what it
 * holds in memory (its packed rows) reaches 4 times that. */
static int chunk_full(const struct snap_chunk *ch)
{
	return ch->nrows && (ch->bytes >= SNAP_CHUNK_MAX_BYTES || ch->mem >= 4 * SNAP_CHUNK_MAX_BYTES);
}

/* The key of the row just read into rd->last, kept as text (the resume
 * point if the chunk stops there), in buffers kept from row to row. */
static void keep_key(struct snap_reader *rd, const struct snap_table *t, MYSQL_ROW row,
		     const unsigned long *len)
{
	struct db_key_val *k = &rd->last;

	if (rd->last_n < t->key.n) {
		db_key_val_release(k, rd->last_n);
		free(rd->last_cap);
		rd->last_n = t->key.n;
		k->v = sl_xcalloc(rd->last_n, sizeof(char *));
		k->len = sl_xcalloc(rd->last_n, sizeof(unsigned long));
		rd->last_cap = sl_xcalloc(rd->last_n, sizeof(size_t));
	}
	for (size_t i = 0; i < t->key.n; i++) {
		size_t col = t->dt->key[i];

		if (len[col] + 1 > rd->last_cap[i]) {
			rd->last_cap[i] = len[col] + 1 > 64 ? len[col] + 1 : 64;
			k->v[i] = sl_xrealloc(k->v[i], rd->last_cap[i]);
		}
		if (len[col])
			memcpy(k->v[i], row[col], len[col]);
		k->v[i][len[col]] = 0;
		k->len[i] = len[col];
	}
}

/* Reads range r in chunks: 0 done, 1 stopped, < 0 error. */
static int read_range(struct snap_reader *rd, struct snap_range *r, struct sl_err *err)
{
	struct snap_ctx *c = rd->c;
	struct snap_table *t = r->t;
	struct db_key_val lo = { 0 };
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED), w = SL_BUF_INIT(SL_BUF_UNLIMITED);
	uint64_t sub = 0;
	int rc = 0;

	snap__key_val_copy(&lo, &r->lo, t->key.n);
	for (;;) {
		uint64_t cap = r->rows + r->rows / 2 + 1, t0;
		struct snap_chunk *ch;
		MYSQL_RES *res;
		MYSQL_ROW row;
		int by_bytes = 0;

		wait_paused(c);
		if (c->stop || sl_stop_requested) {
			rc = 1;
			break;
		}
		sl_buf_reset(&q);
		sl_buf_reset(&w);
		snap__range_where(&w, t, &lo, &r->hi);
		sl_buf_addf(&q, "%s WHERE %s ORDER BY ", t->select, sl_buf_cstr(&w));
		for (size_t i = 0; i < t->key.n; i++)
			sl_buf_addf(&q, "%s%s", i ? "," : "", t->key.ident[i]);
		sl_buf_addf(&q, " LIMIT %llu", (unsigned long long)cap);
		t0 = sl_now_ms();
		ch = snap__chunk_new(t, r->seq, sub, &rd->pool);
		if (mysql_real_query(rd->m, (const char *)q.data, q.len) ||
		    !(res = mysql_use_result(rd->m))) {
			rc = db_stmt_error(err, rd->m, rd->who, (const char *)q.data, q.len);
			sl_err_prefix(err, "table %s", t->qname);
			snap__chunk_free(ch);
			break;
		}
		while ((row = mysql_fetch_row(res))) {
			unsigned long *len = mysql_fetch_lengths(res);

			if (chunk_full(ch)) {
				by_bytes = 1;	/* the rest of the range is the next chunk */
				break;
			}
			if ((rc = add_row(rd, ch, row, len, err)))
				break;
			keep_key(rd, t, row, len);
		}
		if (!rc && !by_bytes && mysql_errno(rd->m)) {
			rc = db_stmt_error(err, rd->m, rd->who, (const char *)q.data, q.len);
			sl_err_prefix(err, "table %s", t->qname);
		}
		mysql_free_result(res);
		if (rc) {
			snap__chunk_free(ch);
			break;
		}
		if (by_bytes || ch->nrows == cap) {
			snap__key_val_copy(&ch->hi, &rd->last, t->key.n);
		} else {
			snap__key_val_copy(&ch->hi, &r->hi, t->key.n);
			ch->range_done = 1;
			ch->table_done = r->hi.v == NULL;
		}
		sl_buf_reset(&w);
		snap__range_where(&w, t, &lo, &ch->hi);
		ch->where = sl_xstrdup(sl_buf_cstr(&w));
		pthread_mutex_lock(&c->mu);
		snap__table_measured(c, t, ch->nrows, sl_now_ms() - t0, ch->bytes);
		if (ch->range_done && r->hi.v && sub == 0)
			snap__table_sparse(c, t, ch->nrows, r->rows);
		pthread_mutex_unlock(&c->mu);
		{
			int done = ch->range_done;

			db_key_val_release(&lo, t->key.n);
			if (!done)
				snap__key_val_copy(&lo, &ch->hi, t->key.n);
			if (snap__submit(c, &rd->pending, ch)) {
				rc = 1;
				break;
			}
			if (done)
				break;
		}
		sub++;
	}
	db_key_val_release(&lo, t->key.n);
	sl_buf_release(&q);
	sl_buf_release(&w);
	return rc;
}

/* A table without a usable key: one streamed SELECT cut into chunks. */
static int read_keyless(struct snap_reader *rd, struct snap_range *r, struct sl_err *err)
{
	struct snap_ctx *c = rd->c;
	struct snap_table *t = r->t;
	MYSQL_RES *res;
	MYSQL_ROW row;
	uint64_t sub = 0, t0;
	struct snap_chunk *ch;
	int rc = 0, end = 0;

	wait_paused(c);
	if (c->stop || sl_stop_requested)
		return 1;
	if (mysql_query(rd->m, t->select) || !(res = mysql_use_result(rd->m))) {
		db_stmt_error(err, rd->m, rd->who, t->select, strlen(t->select));
		return sl_err_prefix(err, "table %s", t->qname);
	}
	while (!end) {
		uint64_t limit;

		pthread_mutex_lock(&c->mu);	/* snap__table_measured() moves it */
		limit = t->chunk_rows;
		pthread_mutex_unlock(&c->mu);

		t0 = sl_now_ms();
		ch = snap__chunk_new(t, r->seq, sub, &rd->pool);
		ch->where = sl_xstrdup("1");
		for (;;) {
			unsigned long *len;

			if (ch->nrows >= limit || chunk_full(ch))
				break;
			if (!(row = mysql_fetch_row(res))) {
				if (mysql_errno(rd->m)) {
					db_stmt_error(err, rd->m, rd->who, t->select, strlen(t->select));
					rc = sl_err_prefix(err, "table %s", t->qname);
				}
				end = 1;
				break;
			}
			len = mysql_fetch_lengths(res);
			if ((rc = add_row(rd, ch, row, len, err)))
				break;
		}
		if (rc) {
			snap__chunk_free(ch);
			break;
		}
		ch->range_done = end;
		ch->table_done = end;
		pthread_mutex_lock(&c->mu);
		snap__table_measured(c, t, ch->nrows, sl_now_ms() - t0, ch->bytes);
		pthread_mutex_unlock(&c->mu);
		if (snap__submit(c, &rd->pending, ch)) {
			rc = 1;
			break;
		}
		if (!end) {
			wait_paused(c);
			if (c->stop || sl_stop_requested) {
				rc = 1;
				break;
			}
		}
		sub++;
	}
	if (!end)	/* do not read the rest of the table only to drop it */
		mariadb_cancel(rd->m);
	mysql_free_result(res);
	return rc;
}

void *snap__reader_main(void *arg)
{
	struct snap_reader *rd = arg;
	struct snap_ctx *c = rd->c;
	struct sl_err err = SL_ERR_INIT;

	sl_block_stop_signals();
	for (;;) {
		struct snap_range r;
		int wait = 0, got, rc;

		pthread_mutex_lock(&c->mu);
		got = c->stop ? 0 : snap__next_range(c, rd, rd->m, rd->who, &r, &wait, &err);
		pthread_mutex_unlock(&c->mu);
		if (got < 0) {
			snap__fail(c, &err);
			break;
		}
		if (!got) {
			if (wait && !c->stop) {
				usleep(20 * 1000);
				continue;
			}
			break;
		}
		rc = r.t->key.n ? read_range(rd, &r, &err) : read_keyless(rd, &r, &err);
		snap__range_release(&r);
		if (rc < 0) {
			snap__fail(c, &err);
			break;
		}
		if (rc > 0)
			break;
	}
	snap__submit(c, &rd->pending, NULL);	/* the last chunk is written, or the run stops */
	snap__pool_release(&rd->pool);
	free(rd->vals);
	fmt_packer_release(&rd->pk);
	db_key_val_release(&rd->last, rd->last_n);
	free(rd->last_cap);
	pthread_mutex_lock(&c->mu);
	c->readers--;
	pthread_cond_broadcast(&c->cv_ready);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int snap__probe_once(struct snap_probe *p)
{
	struct snap_ctx *c = p->c;
	struct sl_err err = SL_ERR_INIT;
	uint64_t tr = 0;
	int above;

	if (db_threads_running(p->m, p->who, &tr, &err)) {
		sl_log(SL_WARN, "snapshot", "%s: cannot read Threads_running, readers go on "
		       "without the limit: %s", p->who, err.msg);
		c->paused = 0;
		return -1;
	}
	above = tr > c->o->max_threads_running;
	if (above && !c->paused)
		sl_log(SL_INFO, "snapshot", "source Threads_running %llu is above %u: readers pause",
		       (unsigned long long)tr, c->o->max_threads_running);
	else if (!above && c->paused)
		sl_log(SL_INFO, "snapshot", "source Threads_running %llu: readers go on",
		       (unsigned long long)tr);
	c->paused = above;
	return 0;
}

void *snap__probe_main(void *arg)
{
	struct snap_probe *p = arg;
	struct snap_ctx *c = p->c;

	sl_block_stop_signals();
	while (!c->finished) {
		for (int i = 0; i < 10 && !c->finished; i++)
			usleep(50 * 1000);
		if (!c->finished && snap__probe_once(p))
			return NULL;
	}
	return NULL;
}
