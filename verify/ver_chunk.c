/* ver_chunk.c - the row hash, key-range chunking and per-range checksums on both sides at once. */
#include "ver_int.h"
#include "fmt.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

int ver_hash_sql(struct sl_buf *out, const struct ver_hash_col *cols, size_t ncols, int crc)
{
	struct sl_buf s = SL_BUF_INIT(SL_BUF_UNLIMITED), id = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc = 0;

	sl_buf_adds(&s, "CONCAT_WS('#'");
	for (size_t i = 0; i < ncols; i++) {
		const struct ver_hash_col *c = &cols[i];

		sl_buf_reset(&id);
		if (c->convert && (c->enc == VER_ENC_STR || c->enc == VER_ENC_BIG)) {
			sl_buf_adds(&id, "CONVERT(");
			fmt_sql_ident(&id, c->name);
			sl_buf_adds(&id, " USING utf8mb4)");
		} else {
			fmt_sql_ident(&id, c->name);
		}
		if (c->enc == VER_ENC_BIG)
			sl_buf_addf(&s, ",MD5(%s)", sl_buf_cstr(&id));
		else if (c->enc == VER_ENC_FLOAT)	/* FLOAT text has 6 digits; DOUBLE's is exact */
			sl_buf_addf(&s, ",CAST(%s AS DOUBLE)", sl_buf_cstr(&id));
		else
			sl_buf_addf(&s, ",%s", sl_buf_cstr(&id));
	}
	/* lengths of byte strings and NULL flags: no separator can shift, NULL != '' */
	for (size_t i = 0; i < ncols; i++) {
		const struct ver_hash_col *c = &cols[i];

		sl_buf_reset(&id);
		fmt_sql_ident(&id, c->name);
		if (c->enc == VER_ENC_STR || c->enc == VER_ENC_BIN || c->enc == VER_ENC_BIG)
			sl_buf_addf(&s, ",IFNULL(LENGTH(%s),'N')", sl_buf_cstr(&id));
		else if (c->nullable)
			sl_buf_addf(&s, ",ISNULL(%s)", sl_buf_cstr(&id));
	}
	sl_buf_addc(&s, ')');
	if (crc)
		rc = sl_buf_addf(out, "(CRC32(@ver_s:=%s)<<32|CRC32C(@ver_s))", sl_buf_cstr(&s));
	else
		rc = sl_buf_addf(out, "CAST(CONV(LEFT(MD5(%s),16),16,10) AS UNSIGNED)", sl_buf_cstr(&s));
	sl_buf_release(&s);
	sl_buf_release(&id);
	return rc;
}

void ver_int_chunks_plan(struct ver_int_chunks *c, __int128 min, __int128 max, uint64_t rows,
			 uint64_t chunk_rows)
{
	__int128 span;

	if (!chunk_rows)
		chunk_rows = VER_DEFAULT_CHUNK_ROWS;
	c->min = min;
	c->max = max;
	if (max < min) {
		c->n = 1;
		c->step = 1;
		return;
	}
	span = max - min + 1;
	if (!rows || (__int128)rows > span)
		rows = span > (__int128)UINT64_MAX ? UINT64_MAX : (uint64_t)span;
	c->n = (rows + chunk_rows - 1) / chunk_rows;
	if (!c->n)
		c->n = 1;
	c->step = (span + (__int128)c->n - 1) / (__int128)c->n;
	/* with the rounded-up step fewer ranges may suffice */
	c->n = (uint64_t)((span + c->step - 1) / c->step);
}

void ver_int_range(const struct ver_int_chunks *c, uint64_t i, __int128 *lo, __int128 *hi,
		   int *open_lo, int *open_hi)
{
	*lo = c->min + (__int128)i * c->step;
	*hi = i + 1 == c->n ? c->max : *lo + c->step - 1;
	*open_lo = i == 0;
	*open_hi = i + 1 == c->n;
}

static char *i128_str(__int128 v, char *buf, size_t n)
{
	char tmp[64];
	size_t k = 0;
	int neg = v < 0;
	unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;

	do {
		tmp[k++] = (char)('0' + (int)(u % 10));
		u /= 10;
	} while (u && k < sizeof(tmp) - 1);
	if (neg)
		tmp[k++] = '-';
	for (size_t i = 0; i < k && i < n - 1; i++)
		buf[i] = tmp[k - 1 - i];
	buf[k < n ? k : n - 1] = 0;
	return buf;
}

static int parse_i128(const char *s, __int128 *v)
{
	int neg = *s == '-';
	__int128 r = 0;

	if (neg || *s == '+')
		s++;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		r = r * 10 + (*s - '0');
	}
	*v = neg ? -r : r;
	return 0;
}

/* Sends q on both connections, then reads both answers (the servers work in parallel). */
static int both_send(struct ver_conn *a, struct ver_conn *b, const char *qa, const char *qb,
		     struct sl_err *err)
{
	if (mysql_send_query(a->db, qa, strlen(qa)))
		return ver__db_error(a, qa, err);
	if (mysql_send_query(b->db, qb, strlen(qb))) {
		int rc = ver__db_error(b, qb, err);

		if (!mysql_read_query_result(a->db)) {
			MYSQL_RES *r = mysql_store_result(a->db);
			if (r)
				mysql_free_result(r);
		}
		return rc;
	}
	return 0;
}

static int read_sum(struct ver_conn *c, const char *q, uint64_t *count, char *sum, size_t n,
		    struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (mysql_read_query_result(c->db) || !(res = mysql_store_result(c->db)))
		return ver__db_error(c, q, err);
	row = mysql_fetch_row(res);
	*count = row && row[0] ? strtoull(row[0], NULL, 10) : 0;
	snprintf(sum, n, "%s", row && row[1] ? row[1] : "0");
	mysql_free_result(res);
	return 0;
}

/* Checks one range: both checksums; on a difference, the row diff. */
static int check_range(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		       struct ver_conn *dst, const char *where, struct sl_err *err)
{
	char *qs, *qd, ss[32], sd[32];
	uint64_t cs = 0, cd = 0;
	int rc, rc2;

	qs = sl_xasprintf("SELECT COUNT(*), BIT_XOR(%s) FROM %s WHERE %s", t->hash_expr, t->sq, where);
	qd = sl_xasprintf("SELECT COUNT(*), BIT_XOR(%s) FROM %s WHERE %s", t->hash_expr, t->dq, where);
	if ((rc = both_send(src, dst, qs, qd, err)))
		goto out;
	rc = read_sum(src, qs, &cs, ss, sizeof(ss), err);
	rc2 = read_sum(dst, qd, &cd, sd, sizeof(sd), rc ? NULL : err);
	if (rc || (rc = rc2))
		goto out;
	__atomic_add_fetch(&t->chunks, 1, __ATOMIC_RELAXED);
	ver__count(&t->rows_src, cs);
	t->rows_dst += cd;
	if (cs != cd || strcmp(ss, sd)) {
		t->chunks_diff++;
		rc = ver__range_diff(x, t, src, dst, where, err);
	}
out:
	free(qs);
	free(qd);
	return rc;
}

/* `a` > lits (or <=) over the key, expanded so that any server uses the index. */
static int key_cmp_sql(struct sl_buf *b, const struct ver_table *t, char **v,
		       unsigned long *len, int gt)
{
	struct sl_buf lit = SL_BUF_INIT(SL_BUF_UNLIMITED), id = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc = 0;

	sl_buf_addc(b, '(');
	for (size_t k = 0; k < t->nkey && !rc; k++) {
		if (k)
			sl_buf_adds(b, " OR (");
		for (size_t j = 0; j <= k && !rc; j++) {
			const struct ver_col *c = &t->cols[t->key[j]];

			sl_buf_reset(&lit);
			sl_buf_reset(&id);
			fmt_sql_ident(&id, c->name);
			rc = ver_sql_literal(&lit, c->lit, c->charset, v[j], len[j]);
			if (j)
				sl_buf_adds(b, " AND ");
			sl_buf_addf(b, "%s %s %s", sl_buf_cstr(&id),
				    j < k ? "=" : gt ? ">" : (k + 1 == t->nkey ? "<=" : "<"),
				    sl_buf_cstr(&lit));
		}
		if (k)
			sl_buf_addc(b, ')');
	}
	sl_buf_addc(b, ')');
	sl_buf_release(&lit);
	sl_buf_release(&id);
	return rc;
}

static void free_vals(char **v, unsigned long *len, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(len);
}

/* Any key: walk the source's index chunk_rows at a time. */
static int walk_ranges(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		       struct ver_conn *dst, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED), w = SL_BUF_INIT(SL_BUF_UNLIMITED),
		cols = SL_BUF_INIT(SL_BUF_UNLIMITED);
	char **last = NULL;
	unsigned long *lastlen = NULL;
	uint64_t chunk = x->o->chunk_rows ? x->o->chunk_rows : VER_DEFAULT_CHUNK_ROWS;
	int rc = 0;

	for (size_t k = 0; k < t->nkey; k++) {
		if (k)
			sl_buf_addc(&cols, ',');
		fmt_sql_ident(&cols, t->cols[t->key[k]].name);
	}
	for (;;) {
		MYSQL_RES *res;
		MYSQL_ROW row;
		char **hi = NULL;
		unsigned long *hilen = NULL;

		if (ver__stopped(x->stop) || sl_stop_requested) {
			rc = sl_err_set(err, -SL_EINTR_STOP, "stopped");
			break;
		}
		sl_buf_reset(&q);
		sl_buf_addf(&q, "SELECT %s FROM %s", sl_buf_cstr(&cols), t->sq);
		if (last) {
			sl_buf_adds(&q, " WHERE ");
			if ((rc = key_cmp_sql(&q, t, last, lastlen, 1)))
				break;
		}
		sl_buf_addf(&q, " ORDER BY %s LIMIT 1 OFFSET %" PRIu64, sl_buf_cstr(&cols), chunk - 1);
		if ((rc = ver__query(src, sl_buf_cstr(&q), &res, err)))
			break;
		if ((row = mysql_fetch_row(res))) {
			unsigned long *l = mysql_fetch_lengths(res);

			hi = sl_xcalloc(t->nkey, sizeof(char *));
			hilen = sl_xcalloc(t->nkey, sizeof(unsigned long));
			for (size_t k = 0; k < t->nkey; k++) {
				hi[k] = row[k] ? sl_xstrndup(row[k], l[k]) : NULL;
				hilen[k] = l[k];
			}
		}
		mysql_free_result(res);
		sl_buf_reset(&w);
		if (last && (rc = key_cmp_sql(&w, t, last, lastlen, 1)))
			break;
		if (hi) {
			if (last)
				sl_buf_adds(&w, " AND ");
			if ((rc = key_cmp_sql(&w, t, hi, hilen, 0)))
				break;
		}
		if (!w.len)
			sl_buf_adds(&w, "1");
		rc = check_range(x, t, src, dst, sl_buf_cstr(&w), err);
		free_vals(last, lastlen, t->nkey);
		last = hi;
		lastlen = hilen;
		if (rc || !hi)
			break;
	}
	free_vals(last, lastlen, t->nkey);
	sl_buf_release(&q);
	sl_buf_release(&w);
	sl_buf_release(&cols);
	return rc;
}

/* A single integer key: ranges by arithmetic over the source's MIN..MAX. */
static int int_ranges(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		      struct ver_conn *dst, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED), id = SL_BUF_INIT(4096);
	struct ver_int_chunks ch;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	__int128 mn = 0, mx = -1;
	uint64_t est = 0;
	int rc;

	fmt_sql_ident(&id, t->cols[t->key[0]].name);
	sl_buf_addf(&q, "SELECT MIN(%s), MAX(%s) FROM %s", sl_buf_cstr(&id), sl_buf_cstr(&id), t->sq);
	if ((rc = ver__query(src, sl_buf_cstr(&q), &res, err)))
		goto out;
	row = mysql_fetch_row(res);
	if (row && row[0] && row[1] && (parse_i128(row[0], &mn) || parse_i128(row[1], &mx))) {
		rc = sl_err_set(err, -SL_EDB, "%s: bad key bounds", t->sq);
		goto out;
	}
	mysql_free_result(res);
	res = NULL;
	sl_buf_reset(&q);
	sl_buf_adds(&q, "SELECT table_rows FROM information_schema.tables WHERE table_schema = ");
	ver_sql_literal(&q, VER_LIT_STR, "utf8mb4", t->sdb, strlen(t->sdb));
	sl_buf_adds(&q, " AND table_name = ");
	ver_sql_literal(&q, VER_LIT_STR, "utf8mb4", t->stbl, strlen(t->stbl));
	if ((rc = ver__query(src, sl_buf_cstr(&q), &res, err)))
		goto out;
	if ((row = mysql_fetch_row(res)) && row[0])
		est = strtoull(row[0], NULL, 10);
	ver_int_chunks_plan(&ch, mn, mx, est, x->o->chunk_rows);
	for (uint64_t i = 0; i < ch.n && !rc; i++) {
		__int128 lo, hi;
		int olo, ohi;
		char a[64], b[64];

		if (ver__stopped(x->stop) || sl_stop_requested) {
			rc = sl_err_set(err, -SL_EINTR_STOP, "stopped");
			break;
		}
		ver_int_range(&ch, i, &lo, &hi, &olo, &ohi);
		sl_buf_reset(&q);
		if (mx < mn)
			sl_buf_adds(&q, "1");
		else if (olo && ohi)
			sl_buf_adds(&q, "1");
		else if (olo)
			sl_buf_addf(&q, "%s <= %s", sl_buf_cstr(&id), i128_str(hi, b, sizeof(b)));
		else if (ohi)
			sl_buf_addf(&q, "%s >= %s", sl_buf_cstr(&id), i128_str(lo, a, sizeof(a)));
		else
			sl_buf_addf(&q, "%s BETWEEN %s AND %s", sl_buf_cstr(&id), i128_str(lo, a, sizeof(a)),
				    i128_str(hi, b, sizeof(b)));
		rc = check_range(x, t, src, dst, sl_buf_cstr(&q), err);
	}
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	sl_buf_release(&id);
	return rc;
}

/* 1 when CHECKSUM TABLE is equal on both sides (rows: the source's estimate), 0 if not. */
static int table_checksum(struct ver_table *t, struct ver_conn *src, struct ver_conn *dst,
			  struct sl_err *err)
{
	char *qs = sl_xasprintf("CHECKSUM TABLE %s", t->sq), *qd = sl_xasprintf("CHECKSUM TABLE %s", t->dq);
	char cs[32], cd[32];
	uint64_t dummy;
	int rc, rc2;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);

	if ((rc = both_send(src, dst, qs, qd, err)))
		goto out;
	/* CHECKSUM TABLE answers (name, checksum): read_sum takes column 0 and 1 */
	rc = read_sum(src, qs, &dummy, cs, sizeof(cs), err);
	rc2 = read_sum(dst, qd, &dummy, cd, sizeof(cd), rc ? NULL : err);
	if (rc || (rc = rc2))
		goto out;
	if (strcmp(cs, cd) || !strcmp(cs, "0"))
		goto out;	/* rc = 0: not proven equal */
	sl_buf_adds(&q, "SELECT table_rows FROM information_schema.tables WHERE table_schema = ");
	ver_sql_literal(&q, VER_LIT_STR, "utf8mb4", t->sdb, strlen(t->sdb));
	sl_buf_adds(&q, " AND table_name = ");
	ver_sql_literal(&q, VER_LIT_STR, "utf8mb4", t->stbl, strlen(t->stbl));
	if ((rc = ver__query(src, sl_buf_cstr(&q), &res, err)))
		goto out;
	if ((row = mysql_fetch_row(res)) && row[0])
		__atomic_store_n(&t->rows_src, t->rows_dst = strtoull(row[0], NULL, 10), __ATOMIC_RELAXED);
	ver__count(&t->chunks, 1);
	t->by_table_checksum = 1;
	rc = 1;
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	free(qs);
	free(qd);
	return rc;
}

int ver__table_check(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		     struct ver_conn *dst, struct sl_err *err)
{
	int rc;

	if (t->only_src || t->only_dst)
		return 0;
	if (x->table_checksum && t->schema_same && (rc = table_checksum(t, src, dst, err)))
		return rc < 0 ? rc : 0;
	if (!t->nkey)
		return ver__keyless_diff(x, t, src, dst, err);
	if (t->int_key)
		return int_ranges(x, t, src, dst, err);
	return walk_ranges(x, t, src, dst, err);
}
