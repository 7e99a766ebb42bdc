/* snap_plan.c - tables and their keys, chunk sizes, and the next key range of whatever table has work. */
#include "snap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

uint64_t snap_chunk_rows_first(uint64_t avg_row_len)
{
	uint64_t avg = avg_row_len ? avg_row_len : 256, rows = SNAP_CHUNK_START_BYTES / avg;

	return rows ? rows : 1;
}

uint64_t snap_chunk_rows_next(uint64_t rows, uint64_t ms, uint64_t bytes, uint64_t target_ms)
{
	uint64_t next, cap;

	if (!rows)
		return 1;
	if (!ms)
		ms = 1;
	next = (uint64_t)((unsigned __int128)rows * target_ms / ms);
	if (next > rows * 2)
		next = rows * 2;
	if (next < rows / 2)
		next = rows / 2;
	if (bytes) {
		uint64_t per = bytes / rows ? bytes / rows : 1;

		cap = SNAP_CHUNK_MAX_BYTES / per;
		if (next > cap)
			next = cap;
	}
	return next ? next : 1;
}

int snap_int_key_dense(__int128 min, __int128 max, uint64_t est)
{
	__int128 span = max - min + 1;

	if (span <= 0)
		return 1;
	/* statistics are estimates: a key at most 4 values per row apart is dense */
	return span <= (__int128)(est ? est : 1) * 4 + 1024;
}

int snap__pos_cmp(const Sluice__Position *a, const Sluice__Position *b)
{
	const char *da = a->file ? strrchr(a->file, '.') : NULL, *db = b->file ? strrchr(b->file, '.') : NULL;
	uint64_t fa = da ? strtoull(da + 1, NULL, 10) : 0, fb = db ? strtoull(db + 1, NULL, 10) : 0;

	if (fa != fb)
		return fa < fb ? -1 : 1;
	return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static int key_lit(void *arg, size_t k, struct sl_buf *out, const char *v, unsigned long len)
{
	const struct snap_table *t = arg;

	return snap_key_literal(&t->cols[t->dt->key[k]], out, v, len);
}

static char *quote(const char *name)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	size_t n;

	fmt_sql_ident(&b, name);
	sl_buf_cstr(&b);
	return (char *)sl_buf_detach(&b, &n);
}

void snap__table_init(struct snap_table *t, const struct db_table *dt, uint32_t ref, int mariadb)
{
	struct sl_buf s = SL_BUF_INIT(SL_BUF_UNLIMITED);
	size_t n;
	int keyed = dt->nkey > 0;

	memset(t, 0, sizeof(*t));
	t->dt = dt;
	t->ref = ref;
	{
		char *a = quote(dt->db), *b = quote(dt->name);

		t->qname = sl_xasprintf("%s.%s", a, b);
		free(a);
		free(b);
	}
	t->ncols = dt->ncols;
	t->cols = sl_xcalloc(t->ncols ? t->ncols : 1, sizeof(*t->cols));
	t->ident = sl_xcalloc(t->ncols ? t->ncols : 1, sizeof(char *));
	t->extra_of = sl_xcalloc(t->ncols ? t->ncols : 1, sizeof(size_t));
	t->colp = sl_xcalloc(t->ncols ? t->ncols : 1, sizeof(*t->colp));
	sl_buf_adds(&s, "SELECT ");
	for (size_t i = 0; i < t->ncols; i++) {
		int extra = 0;

		snap_col_init(&t->cols[i], &dt->cols[i], mariadb);
		t->ident[i] = quote(dt->cols[i].name);
		t->colp[i] = &t->cols[i].def;
		if (i)
			sl_buf_addc(&s, ',');
		snap_select_expr(&t->cols[i], t->ident[i], &s, &extra);
		if (extra)
			t->extra_of[t->nextra++] = i;
	}
	for (size_t i = 0; i < t->nextra; i++)
		sl_buf_addf(&s, ",%s+0", t->ident[t->extra_of[i]]);
	sl_buf_addf(&s, " FROM %s", t->qname);
	sl_buf_cstr(&s);
	t->select = (char *)sl_buf_detach(&s, &n);
	for (size_t k = 0; k < dt->nkey; k++)
		if (t->cols[dt->key[k]].key_lit == SNAP_LIT_NONE)
			keyed = 0;	/* FLOAT, BIT, ENUM... keys: no exact ranges */
	if (keyed) {
		t->key_ident = sl_xcalloc(dt->nkey, sizeof(char *));
		t->pk = sl_xcalloc(dt->nkey, sizeof(uint32_t));
		for (size_t k = 0; k < dt->nkey; k++) {
			t->key_ident[k] = t->ident[dt->key[k]];
			t->pk[k] = (uint32_t)dt->key[k];
		}
		t->key.n = dt->nkey;
		t->key.ident = t->key_ident;
		t->key.lit = key_lit;
		t->key.arg = t;
		t->walk = !(dt->nkey == 1 && (t->cols[dt->key[0]].kind == SNAP_V_INT ||
					      t->cols[dt->key[0]].kind == SNAP_V_UINT));
	} else if (dt->nkey) {
		sl_log(SL_WARN, "snapshot", "table %s: its key has a column that cannot be ranged "
		       "exactly: read whole, like a table without a key", t->qname);
	}
	sluice__table_def__init(&t->def);
	t->def.ref = ref;
	t->def.db = dt->db;
	t->def.name = dt->name;
	t->def.columns = t->colp;
	t->def.n_columns = t->ncols;
	t->def.primary_key = t->pk;
	t->def.n_primary_key = t->key.n;
	t->lo_open = 1;
	t->chunk_rows = snap_chunk_rows_first(dt->avg_row_len);
}

void snap__table_resume(struct snap_table *t, char *const *key, const unsigned long *len, size_t n)
{
	struct db_key_val v = { (char **)(uintptr_t)key, (unsigned long *)(uintptr_t)len };

	if (!key || n != t->key.n || !n)
		return;
	snap__key_val_copy(&t->next_lo, &v, n);
	t->lo_open = 0;
}

void snap__table_release(struct snap_table *t)
{
	for (size_t i = 0; i < t->ncols; i++) {
		snap_col_release(&t->cols[i]);
		free(t->ident[i]);
	}
	free(t->cols);
	free(t->ident);
	free(t->extra_of);
	free(t->colp);
	free(t->key_ident);
	free(t->pk);
	free(t->select);
	free(t->qname);
	db_key_val_release(&t->next_lo, t->key.n);
	memset(t, 0, sizeof(*t));
}

void snap__key_val_copy(struct db_key_val *dst, const struct db_key_val *src, size_t n)
{
	dst->v = NULL;
	dst->len = NULL;
	if (!src || !src->v)
		return;
	dst->v = sl_xcalloc(n, sizeof(char *));
	dst->len = sl_xcalloc(n, sizeof(unsigned long));
	for (size_t i = 0; i < n; i++) {
		dst->v[i] = src->v[i] ? sl_xstrndup(src->v[i], src->len[i]) : NULL;
		dst->len[i] = src->len[i];
	}
}

void snap__range_release(struct snap_range *r)
{
	if (r->t) {
		db_key_val_release(&r->lo, r->t->key.n);
		db_key_val_release(&r->hi, r->t->key.n);
	}
	memset(r, 0, sizeof(*r));
}

int snap__range_where(struct sl_buf *out, const struct snap_table *t, const struct db_key_val *lo,
		      const struct db_key_val *hi)
{
	if (!t->key.n)
		return sl_buf_adds(out, "1");
	return db_key_range_where(out, &t->key, lo, hi);
}

static void int_val(struct db_key_val *v, __int128 x)
{
	char buf[64];

	db_i128_str(x, buf, sizeof(buf));
	v->v = sl_xcalloc(1, sizeof(char *));
	v->len = sl_xcalloc(1, sizeof(unsigned long));
	v->v[0] = sl_xstrdup(buf);
	v->len[0] = strlen(buf);
}

static int parse_i128(const char *s, size_t n, __int128 *v)
{
	int neg = n && *s == '-';
	__int128 r = 0;
	size_t i = neg;

	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		r = r * 10 + (s[i] - '0');
	}
	*v = neg ? -r : r;
	return 0;
}

/* MIN and MAX of an integer key past the resume point, on m (mu released). */
static int int_bounds(struct snap_table *t, MYSQL *m, const char *who, int *empty, __int128 *mn,
		      __int128 *mx, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	const char *id = t->key.ident[0];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = 0;

	*empty = 1;
	sl_buf_addf(&q, "SELECT MIN(%s), MAX(%s) FROM %s", id, id, t->qname);
	if (!t->lo_open) {
		sl_buf_adds(&q, " WHERE ");
		if ((rc = db_key_cmp_sql(&q, &t->key, &t->next_lo, 1)))
			goto out;
	}
	if (mysql_query(m, sl_buf_cstr(&q)) || !(res = mysql_store_result(m))) {
		rc = db_stmt_error(err, m, who, sl_buf_cstr(&q), q.len);
		goto out;
	}
	if ((row = mysql_fetch_row(res)) && row[0] && row[1]) {
		unsigned long *l = mysql_fetch_lengths(res);

		if (parse_i128(row[0], l[0], mn) || parse_i128(row[1], l[1], mx))
			rc = sl_err_set(err, -SL_EDB, "%s: table %s: bad key bounds", who, t->qname);
		else
			*empty = 0;
	}
	mysql_free_result(res);
out:
	sl_buf_release(&q);
	return rc;
}

/* Under mu, with t->planning set by the caller: plan the next range of t. */
static int plan_range(struct snap_ctx *c, struct snap_table *t, MYSQL *m, const char *who,
		      struct snap_range *r, struct sl_err *err)
{
	int rc = 0;

	r->t = t;
	r->rows = t->chunk_rows;
	if (!t->key.n) {
		t->planned_all = 1;
		goto take;
	}
	if (!t->walk && !t->arith_ready) {
		__int128 mn = 0, mx = 0;
		int empty;

		pthread_mutex_unlock(&c->mu);
		rc = int_bounds(t, m, who, &empty, &mn, &mx, err);
		pthread_mutex_lock(&c->mu);
		if (rc)
			return sl_err_prefix(err, "table %s", t->qname);
		t->arith_ready = 1;
		if (empty) {
			t->imax = 0;
			t->icur = 0;
			t->planned_all = 1;	/* one open range: whatever is past the resume point */
			goto take;
		}
		if (!snap_int_key_dense(mn, mx, t->dt->est_rows)) {
			char a[64], b[64];

			sl_log(SL_INFO, "snapshot", "table %s: key %s is sparse (%llu rows estimated "
			       "in %s..%s): ranges by walking the key", t->qname, t->key.ident[0],
			       (unsigned long long)t->dt->est_rows, db_i128_str(mn, a, sizeof(a)),
			       db_i128_str(mx, b, sizeof(b)));
			t->walk = 1;
		} else {
			t->imax = mx;
			if (t->lo_open)
				t->icur = mn - 1;
			else if (parse_i128(t->next_lo.v[0], t->next_lo.len[0], &t->icur))
				return sl_err_set(err, -SL_EFORMAT, "table %s: bad resume key", t->qname);
			t->ispan = t->imax - t->icur;
		}
	}
	if (t->walk) {
		struct db_key_val nb = { 0 };
		uint64_t want = t->chunk_rows;	/* other readers' measurements move it, under mu */

		pthread_mutex_unlock(&c->mu);
		rc = db_key_next_bound(m, who, t->qname, &t->key, t->lo_open ? NULL : &t->next_lo,
				       want, &nb, err);
		pthread_mutex_lock(&c->mu);
		if (rc)
			return sl_err_prefix(err, "table %s", t->qname);
		if (!t->lo_open)
			snap__key_val_copy(&r->lo, &t->next_lo, t->key.n);
		if (nb.v) {
			snap__key_val_copy(&r->hi, &nb, t->key.n);
			db_key_val_release(&t->next_lo, t->key.n);
			t->next_lo = nb;
			t->lo_open = 0;
		} else {
			t->planned_all = 1;
		}
	} else {
		/* keys per row over the span the estimate covers, not over what is
		 * left of it: that shrank every range (ranges of 503, 461, 422 ...
		 * rows for 500 asked), until one came back so short that the key
		 * looked sparse and the table was walked */
		__int128 est = t->dt->est_rows ? t->dt->est_rows : 1;
		__int128 step = (__int128)t->chunk_rows * t->ispan / est;

		if (step < 1)
			step = 1;
		if (!t->lo_open)
			int_val(&r->lo, t->icur);
		if (t->icur + step >= t->imax) {
			t->planned_all = 1;
		} else {
			t->icur += step;
			int_val(&r->hi, t->icur);
		}
		t->lo_open = 0;
	}
	r->rows = t->chunk_rows;
take:
	r->seq = t->seq_next++;
	return 0;
}

int snap__next_range(struct snap_ctx *c, const void *owner, MYSQL *m, const char *who,
		     struct snap_range *r, int *wait, struct sl_err *err)
{
	*wait = 0;
	memset(r, 0, sizeof(*r));
	/* The reader's own table (the one it took first), else a table no
	 * reader has taken, else any (a big table split across the readers).
	 * Readers in different tables interleave the tables in the stream, so
	 * that replay's loaders, which take different tables at once, load in
	 * parallel: two sessions inserting into one InnoDB table take hardly
	 * less time than one. */
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < c->nt; i++) {
			struct snap_table *t = &c->t[i];
			int rc;

			if (t->planned_all || t->done || (pass == 0 && t->owner != owner) ||
			    (pass == 1 && t->owner))
				continue;
			if (t->planning) {
				*wait = 1;
				continue;
			}
			t->planning = 1;
			rc = plan_range(c, t, m, who, r, err);
			t->planning = 0;
			if (rc) {
				snap__range_release(r);
				return rc;
			}
			if (!t->owner)
				t->owner = owner;
			return 1;
		}
	return 0;
}

void snap__table_measured(struct snap_ctx *c, struct snap_table *t, uint64_t rows, uint64_t ms,
			  uint64_t bytes)
{
	if (c->fixed_rows)
		t->chunk_rows = c->fixed_rows;
	else if (rows >= t->chunk_rows / 2)	/* a short remainder says little about speed */
		t->chunk_rows = snap_chunk_rows_next(rows, ms, bytes, c->chunk_ms);
}

void snap__table_sparse(struct snap_ctx *c, struct snap_table *t, uint64_t rows, uint64_t planned)
{
	char a[64];

	(void)c;
	if (t->walk || !t->arith_ready || t->planned_all || rows * 8 >= planned)
		return;
	/* arithmetic ranges here come back nearly empty: walk from where they end */
	t->walk = 1;
	db_key_val_release(&t->next_lo, t->key.n);
	int_val(&t->next_lo, t->icur);
	t->lo_open = 0;
	sl_log(SL_INFO, "snapshot", "table %s: a range held %llu of %llu rows planned: the key is "
	       "sparse from here, ranges by walking it after %s", t->qname, (unsigned long long)rows,
	       (unsigned long long)planned, db_i128_str(t->icur, a, sizeof(a)));
}
