/* ver_diff.c - merge-join of key-ordered row streams, keyless multiset diff, rechecks, the difference list. */
#include "ver_int.h"
#include "fmt.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

/* ---- comparisons ---- */

/* Decimal text: sign, then integer digits by length, then the rest bytewise. */
static int num_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	int sa = na && a[0] == '-', sb = nb && b[0] == '-';
	size_t ia, ib;
	int r;

	if (sa != sb)
		return sa ? -1 : 1;
	if (sa) {
		a++, na--;
		b++, nb--;
	}
	while (na > 1 && a[0] == '0' && a[1] != '.')
		a++, na--;
	while (nb > 1 && b[0] == '0' && b[1] != '.')
		b++, nb--;
	for (ia = 0; ia < na && a[ia] != '.'; ia++)
		;
	for (ib = 0; ib < nb && b[ib] != '.'; ib++)
		;
	if (ia != ib)
		r = ia < ib ? -1 : 1;
	else {
		size_t n = na < nb ? na : nb;

		r = memcmp(a, b, n);
		if (!r && na != nb)
			r = na < nb ? -1 : 1;
		r = r < 0 ? -1 : r > 0;
	}
	return sa ? -r : r;
}

static int item_cmp(enum ver_cmp how, const char *a, unsigned long na, const char *b,
		    unsigned long nb)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);	/* NULL first, as ORDER BY does */
	switch (how) {
	case VER_CMP_INT:
	case VER_CMP_DEC:
		return num_cmp(a, na, b, nb);
	case VER_CMP_FLOAT: {
		char ba[64], bb[64];
		double x, y;

		snprintf(ba, sizeof(ba), "%.*s", (int)na, a);
		snprintf(bb, sizeof(bb), "%.*s", (int)nb, b);
		x = strtod(ba, NULL);
		y = strtod(bb, NULL);
		return x < y ? -1 : x > y;
	}
	case VER_CMP_BYTES:
	default: {
		int r = memcmp(a, b, na < nb ? na : nb);

		if (r)
			return r < 0 ? -1 : 1;
		return na < nb ? -1 : na > nb;
	}
	}
}

int ver_key_cmp(const struct ver_shape *s, const struct ver_row *a, const struct ver_row *b)
{
	for (size_t k = 0; k < s->nkey; k++) {
		int r = item_cmp(s->cmp[k], a->item[k], a->len[k], b->item[k], b->len[k]);

		if (r)
			return r;
	}
	return 0;
}

size_t ver_row_diff(const struct ver_shape *s, const struct ver_row *a, const struct ver_row *b,
		    size_t *cols)
{
	size_t n = 0;

	for (size_t i = 0; i < s->ncols; i++) {
		const char *x = a->item[s->nkey + i], *y = b->item[s->nkey + i];
		unsigned long lx = a->len[s->nkey + i], ly = b->len[s->nkey + i];

		if ((!x) != (!y) || (x && (lx != ly || memcmp(x, y, lx))))
			cols[n++] = i;
	}
	return n;
}

int ver_merge(const struct ver_shape *s, struct ver_cursor *src, struct ver_cursor *dst,
	      ver_emit_fn emit, void *arg, struct sl_err *err)
{
	struct ver_row a, b;
	int ha, hb, rc = 0;

	if ((ha = src->next(src->ctx, &a, err)) < 0)
		return ha;
	if ((hb = dst->next(dst->ctx, &b, err)) < 0)
		return hb;
	while (ha || hb) {
		int c = !ha ? 1 : !hb ? -1 : ver_key_cmp(s, &a, &b);

		if (c < 0) {
			if ((rc = emit(arg, VER_MISSING, &a, NULL, err)))
				return rc;
		} else if (c > 0) {
			if ((rc = emit(arg, VER_EXTRA, NULL, &b, err)))
				return rc;
		} else {
			size_t *cols = sl_xcalloc(s->ncols + 1, sizeof(size_t));
			size_t n = ver_row_diff(s, &a, &b, cols);

			free(cols);
			if (n && (rc = emit(arg, VER_CHANGED, &a, &b, err)))
				return rc;
		}
		if (c <= 0 && (ha = src->next(src->ctx, &a, err)) < 0)
			return ha;
		if (c >= 0 && (hb = dst->next(dst->ctx, &b, err)) < 0)
			return hb;
	}
	return 0;
}

/* ---- the difference list ---- */





/* ---- rows from the server ---- */

struct res_cursor {
	MYSQL_RES *res;
	struct ver_conn *c;
	const char *q;
};

static int res_next(void *ctx, struct ver_row *row, struct sl_err *err)
{
	struct res_cursor *rc = ctx;
	MYSQL_ROW r = mysql_fetch_row(rc->res);

	if (!r) {
		if (mysql_errno(rc->c->db))
			return ver__db_error(rc->c, rc->q, err);
		return 0;
	}
	row->item = (const char *const *)r;
	row->len = mysql_fetch_lengths(rc->res);
	return 1;
}

static void shape_of(const struct ver_table *t, struct ver_shape *s)
{
	s->nkey = t->nkey;
	s->ncols = t->ncols;
	s->cmp = t->cmp;
}

static int is_binary(const struct ver_col *c)
{
	return c->lit == VER_LIT_BIN || c->lit == VER_LIT_GEOM;
}

static int preview_index(const struct ver_table *t, size_t col)
{
	for (size_t b = 0; b < t->nbig; b++)
		if (t->big[b] == col)
			return (int)(t->nkey + t->ncols + b);
	return -1;
}

/* One side's value of column i for people. */
static void show_value(struct sl_buf *out, const struct ver_table *t, const struct ver_row *r,
		       size_t i)
{
	const struct ver_col *c = &t->cols[i];
	size_t at = t->nkey + i;
	int p = preview_index(t, i);

	if (p >= 0 && r->item[at]) {
		/* "len:md5": show the start of the value and its length */
		ver_value_show(out, r->item[p], r->len[p], is_binary(c), 48);
		sl_buf_addf(out, "...(%.*s)", (int)r->len[at], r->item[at]);
		return;
	}
	ver_value_show(out, r->item[at], r->len[at], is_binary(c), 64);
}

static void key_show(struct sl_buf *h, struct sl_buf *j, const struct ver_table *t,
		     char *const *key, const unsigned long *len)
{
	struct sl_buf v = SL_BUF_INIT(SL_BUF_UNLIMITED);

	sl_buf_addc(j, '{');
	for (size_t k = 0; k < t->nkey; k++) {
		const struct ver_col *c = &t->cols[t->key[k]];

		sl_buf_reset(&v);
		ver_value_show(&v, key[k], len[k], is_binary(c), 64);
		sl_buf_addf(h, "%s%s=%s", k ? "," : "", c->name, sl_buf_cstr(&v));
		if (k)
			sl_buf_addc(j, ',');
		fmt_json_str(j, c->name, strlen(c->name));
		sl_buf_addc(j, ':');
		if (key[k])
			fmt_json_str(j, key[k], len[k]);
		else
			sl_buf_adds(j, "null");
	}
	sl_buf_addc(j, '}');
	sl_buf_release(&v);
}

/* Fills d (kind, key, detail) from the rows of both sides. */
static void diff_fill(struct ver_diff *d, struct ver_table *t, enum ver_kind kind,
		      const struct ver_row *a, const struct ver_row *b)
{
	const struct ver_row *kr = a ? a : b;
	struct sl_buf h = SL_BUF_INIT(SL_BUF_UNLIMITED), j = SL_BUF_INIT(SL_BUF_UNLIMITED),
		v = SL_BUF_INIT(SL_BUF_UNLIMITED);

	d->kind = kind;
	d->t = t;
	if (!d->key) {
		d->key = sl_xcalloc(t->nkey, sizeof(char *));
		d->keylen = sl_xcalloc(t->nkey, sizeof(unsigned long));
		for (size_t k = 0; k < t->nkey; k++) {
			size_t at = t->nkey + t->key[k];

			d->key[k] = kr->item[at] ? sl_xstrndup(kr->item[at], kr->len[at]) : NULL;
			d->keylen[k] = kr->len[at];
		}
	}
	free(d->detail);
	free(d->human);
	d->detail = d->human = NULL;
	sl_buf_adds(&j, "{\"key\":");
	key_show(&h, &j, t, d->key, d->keylen);
	if (kind == VER_CHANGED) {
		struct ver_shape s;
		size_t *cols = sl_xcalloc(t->ncols + 1, sizeof(size_t)), n;

		shape_of(t, &s);
		n = ver_row_diff(&s, a, b, cols);
		sl_buf_adds(&j, ",\"columns\":[");
		sl_buf_adds(&h, ":");
		for (size_t i = 0; i < n; i++) {
			const char *name = t->cols[cols[i]].name;

			sl_buf_addf(&j, "%s{\"column\":", i ? "," : "");
			fmt_json_str(&j, name, strlen(name));
			sl_buf_adds(&j, ",\"source\":");
			sl_buf_reset(&v);
			show_value(&v, t, a, cols[i]);
			fmt_json_str(&j, v.data, v.len);
			sl_buf_addf(&h, " %s: %s", name, sl_buf_cstr(&v));
			sl_buf_adds(&j, ",\"dest\":");
			sl_buf_reset(&v);
			show_value(&v, t, b, cols[i]);
			fmt_json_str(&j, v.data, v.len);
			sl_buf_addf(&h, " vs %s;", sl_buf_cstr(&v));
			sl_buf_addc(&j, '}');
		}
		sl_buf_addc(&j, ']');
		free(cols);
	}
	sl_buf_addc(&j, '}');
	sl_buf_cstr(&j);
	sl_buf_cstr(&h);
	d->detail = (char *)sl_buf_detach(&j, NULL);
	d->human = (char *)sl_buf_detach(&h, NULL);
	sl_buf_release(&v);
}

struct emit_ctx {
	struct ver_ctx *x;
	struct ver_table *t;
};

static int emit_diff(void *arg, enum ver_kind kind, const struct ver_row *src,
		     const struct ver_row *dst, struct sl_err *err)
{
	struct emit_ctx *e = arg;
	struct ver_diff d;

	(void)err;
	memset(&d, 0, sizeof(d));
	diff_fill(&d, e->t, kind, src, dst);
	ver__diffs_add(e->x->diffs, &d);
	return ver__stopped(e->x->stop) ? -SL_EINTR_STOP : 0;
}

static int open_stream(struct ver_conn *c, MYSQL_RES **res, const char *q, struct sl_err *err)
{
	if (mysql_read_query_result(c->db) || !(*res = mysql_use_result(c->db)))
		return ver__db_error(c, q, err);
	return 0;
}

static int send_both(struct ver_conn *a, struct ver_conn *b, const char *qa, const char *qb,
		     MYSQL_RES **ra, MYSQL_RES **rb, struct sl_err *err)
{
	int rc;

	*ra = *rb = NULL;
	if (mysql_send_query(a->db, qa, strlen(qa)))
		return ver__db_error(a, qa, err);
	if (mysql_send_query(b->db, qb, strlen(qb))) {
		rc = ver__db_error(b, qb, err);
		if (!open_stream(a, ra, qa, NULL)) {
			mysql_free_result(*ra);
			*ra = NULL;
		}
		return rc;
	}
	rc = open_stream(a, ra, qa, err);
	if (open_stream(b, rb, qb, rc ? NULL : err) && !rc)
		rc = err ? err->code : -SL_EDB;
	if (rc) {
		if (*ra)
			mysql_free_result(*ra);
		if (*rb)
			mysql_free_result(*rb);
		*ra = *rb = NULL;
	}
	return rc;
}

static char *order_by(const struct ver_table *t)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);

	for (size_t k = 0; k < t->nkey; k++) {
		if (k)
			sl_buf_addc(&b, ',');
		fmt_sql_ident(&b, t->cols[t->key[k]].name);
	}
	sl_buf_cstr(&b);
	return (char *)sl_buf_detach(&b, NULL);
}

int ver__range_diff(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		    struct ver_conn *dst, const char *where, struct sl_err *err)
{
	char *ob = order_by(t);
	char *qs = sl_xasprintf("SELECT %s FROM %s WHERE %s ORDER BY %s", t->select_list, t->sq, where, ob);
	char *qd = sl_xasprintf("SELECT %s FROM %s WHERE %s ORDER BY %s", t->select_list, t->dq, where, ob);
	struct res_cursor cs = { NULL, src, qs }, cd = { NULL, dst, qd };
	struct ver_cursor a = { res_next, &cs }, b = { res_next, &cd };
	struct ver_shape s;
	struct emit_ctx e = { x, t };
	int rc;

	shape_of(t, &s);
	if (!(rc = send_both(src, dst, qs, qd, &cs.res, &cd.res, err))) {
		rc = ver_merge(&s, &a, &b, emit_diff, &e, err);
		/* drain what is left so the connections stay usable */
		mysql_free_result(cs.res);
		mysql_free_result(cd.res);
	}
	free(ob);
	free(qs);
	free(qd);
	return rc;
}

/* ---- keyless tables: multisets of row hashes ---- */

struct keyless_ctx {
	struct ver_ctx *x;
	struct ver_table *t;
};

static int emit_keyless(void *arg, enum ver_kind kind, const struct ver_row *src,
			const struct ver_row *dst, struct sl_err *err)
{
	struct keyless_ctx *k = arg;
	struct ver_diff d;
	int64_t cs = src ? strtoll(src->item[1], NULL, 10) : 0;
	int64_t cd = dst ? strtoll(dst->item[1], NULL, 10) : 0;
	const struct ver_row *r = src ? src : dst;

	(void)err;
	(void)kind;
	memset(&d, 0, sizeof(d));
	d.t = k->t;
	d.keyless = 1;
	d.hash = strtoull(r->item[0], NULL, 10);
	d.count = cs - cd;
	d.kind = d.count > 0 ? VER_MISSING : VER_EXTRA;
	ver__diffs_add(k->x->diffs, &d);
	return ver__stopped(k->x->stop) ? -SL_EINTR_STOP : 0;
}

struct count_cursor {
	struct res_cursor rc;
	uint64_t *rows;
};

static int count_next(void *ctx, struct ver_row *row, struct sl_err *err)
{
	struct count_cursor *c = ctx;
	int r = res_next(&c->rc, row, err);

	if (r == 1 && row->item[1])
		ver__count(c->rows, strtoull(row->item[1], NULL, 10));
	return r;
}

int ver__keyless_diff(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		      struct ver_conn *dst, struct sl_err *err)
{
	static const enum ver_cmp cmp[] = { VER_CMP_INT };
	char *qs = sl_xasprintf("SELECT h, COUNT(*) FROM (SELECT %s AS h FROM %s) x GROUP BY h ORDER BY h",
				t->hash_expr, t->sq);
	char *qd = sl_xasprintf("SELECT h, COUNT(*) FROM (SELECT %s AS h FROM %s) x GROUP BY h ORDER BY h",
				t->hash_expr, t->dq);
	struct count_cursor cs = { { NULL, src, qs }, &t->rows_src }, cd = { { NULL, dst, qd }, &t->rows_dst };
	struct ver_cursor a = { count_next, &cs }, b = { count_next, &cd };
	struct ver_shape s = { 1, 1, cmp };
	struct keyless_ctx k = { x, t };
	uint64_t rs0 = t->rows_src, rd0 = t->rows_dst;
	int rc;

	if (!(rc = send_both(src, dst, qs, qd, &cs.rc.res, &cd.rc.res, err))) {
		rc = ver_merge(&s, &a, &b, emit_keyless, &k, err);
		mysql_free_result(cs.rc.res);
		mysql_free_result(cd.rc.res);
	}
	ver__count(&t->chunks, 1);
	if (t->rows_src - rs0 != t->rows_dst - rd0)
		t->chunks_diff++;
	free(qs);
	free(qd);
	return rc;
}

/* ---- rechecks ---- */


static int fetch_one(struct ver_conn *c, const char *q, MYSQL_RES **res, struct ver_row *row,
		     int *found, struct sl_err *err)
{
	MYSQL_ROW r;

	if (mysql_real_query(c->db, q, strlen(q)) || !(*res = mysql_store_result(c->db)))
		return ver__db_error(c, q, err);
	r = mysql_fetch_row(*res);
	*found = r != NULL;
	if (r) {
		row->item = (const char *const *)r;
		row->len = mysql_fetch_lengths(*res);
	}
	return 0;
}

int ver__recheck_one(struct ver_ctx *x, struct ver_diff *d, struct ver_conn *src,
		     struct ver_conn *dst, struct sl_err *err)
{
	struct sl_buf w = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL_RES *ra = NULL, *rb = NULL;
	struct ver_row a, b;
	int fa = 0, fb = 0, rc;
	char *qs = NULL, *qd = NULL;
	struct ver_table *t = d->t;

	(void)x;
	if (d->kind == VER_SCHEMA || d->kind == VER_MISSING_TABLE || d->kind == VER_EXTRA_TABLE)
		return 0;
	if (d->keyless) {
		uint64_t cs = 0, cd = 0;

		qs = sl_xasprintf("SELECT COUNT(*) FROM %s WHERE %s = %" PRIu64, t->sq, t->hash_expr, d->hash);
		qd = sl_xasprintf("SELECT COUNT(*) FROM %s WHERE %s = %" PRIu64, t->dq, t->hash_expr, d->hash);
		if ((rc = fetch_one(src, qs, &ra, &a, &fa, err)) || (rc = fetch_one(dst, qd, &rb, &b, &fb, err)))
			goto out;
		cs = fa && a.item[0] ? strtoull(a.item[0], NULL, 10) : 0;
		cd = fb && b.item[0] ? strtoull(b.item[0], NULL, 10) : 0;
		d->count = (int64_t)cs - (int64_t)cd;
		d->resolved = d->count == 0;
		if (!d->resolved)
			d->kind = d->count > 0 ? VER_MISSING : VER_EXTRA;
		goto out;
	}
	if ((rc = ver__key_where(&w, t, d->key, d->keylen)))
		goto out;
	qs = sl_xasprintf("SELECT %s FROM %s WHERE %s", t->select_list, t->sq, sl_buf_cstr(&w));
	qd = sl_xasprintf("SELECT %s FROM %s WHERE %s", t->select_list, t->dq, sl_buf_cstr(&w));
	if ((rc = fetch_one(src, qs, &ra, &a, &fa, err)) || (rc = fetch_one(dst, qd, &rb, &b, &fb, err)))
		goto out;
	if (!fa && !fb) {
		d->resolved = 1;
	} else if (fa && fb) {
		struct ver_shape s;
		size_t *cols = sl_xcalloc(t->ncols + 1, sizeof(size_t));

		shape_of(t, &s);
		if (!ver_row_diff(&s, &a, &b, cols))
			d->resolved = 1;
		else
			diff_fill(d, t, VER_CHANGED, &a, &b);
		free(cols);
	} else {
		diff_fill(d, t, fa ? VER_MISSING : VER_EXTRA, fa ? &a : NULL, fb ? &b : NULL);
	}
out:
	if (ra)
		mysql_free_result(ra);
	if (rb)
		mysql_free_result(rb);
	free(qs);
	free(qd);
	sl_buf_release(&w);
	return rc;
}
