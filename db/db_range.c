/* db_range.c - primary-key range planning: arithmetic over an integer key, boundaries walked over any other. */
#include "db.h"
#include "fmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

void db_int_ranges_plan(struct db_int_ranges *c, __int128 min, __int128 max, uint64_t rows,
			uint64_t chunk_rows)
{
	__int128 span;

	if (!chunk_rows)
		chunk_rows = DB_DEFAULT_CHUNK_ROWS;
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

void db_int_range(const struct db_int_ranges *c, uint64_t i, __int128 *lo, __int128 *hi,
		  int *open_lo, int *open_hi)
{
	*lo = c->min + (__int128)i * c->step;
	*hi = i + 1 == c->n ? c->max : *lo + c->step - 1;
	*open_lo = i == 0;
	*open_hi = i + 1 == c->n;
}

char *db_i128_str(__int128 v, char *buf, size_t n)
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

int db_int_range_where(struct sl_buf *out, const struct db_int_ranges *c, uint64_t i,
		       const char *ident)
{
	return db_int_span_where(out, c, i, i, ident);
}

int db_int_span_where(struct sl_buf *out, const struct db_int_ranges *c, uint64_t i, uint64_t j,
		      const char *ident)
{
	__int128 lo, hi, x;
	int olo, ohi, o;
	char a[64], b[64];

	db_int_range(c, i, &lo, &x, &olo, &o);
	db_int_range(c, j, &x, &hi, &o, &ohi);
	if (c->max < c->min || (olo && ohi))
		return sl_buf_adds(out, "1");
	if (olo)
		return sl_buf_addf(out, "%s <= %s", ident, db_i128_str(hi, b, sizeof(b)));
	if (ohi)
		return sl_buf_addf(out, "%s >= %s", ident, db_i128_str(lo, a, sizeof(a)));
	return sl_buf_addf(out, "%s BETWEEN %s AND %s", ident, db_i128_str(lo, a, sizeof(a)),
			   db_i128_str(hi, b, sizeof(b)));
}

static int query(MYSQL *m, const char *who, const char *sql, MYSQL_RES **res, struct sl_err *err)
{
	if (mysql_real_query(m, sql, strlen(sql)) || !(*res = mysql_store_result(m)))
		return db_stmt_error(err, m, who, sql, strlen(sql));
	return 0;
}

int db_int_ranges_query(MYSQL *m, const char *who, const char *table, const char *schema,
			const char *name, const char *ident, uint64_t chunk_rows,
			struct db_int_ranges *c, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	__int128 mn = 0, mx = -1;
	uint64_t est = 0;
	int rc;

	sl_buf_addf(&q, "SELECT MIN(%s), MAX(%s) FROM %s", ident, ident, table);
	if ((rc = query(m, who, sl_buf_cstr(&q), &res, err)))
		goto out;
	row = mysql_fetch_row(res);
	if (row && row[0] && row[1] && (parse_i128(row[0], &mn) || parse_i128(row[1], &mx))) {
		rc = sl_err_set(err, -SL_EDB, "%s: bad key bounds", table);
		goto out;
	}
	mysql_free_result(res);
	res = NULL;
	sl_buf_reset(&q);
	sl_buf_adds(&q, "SELECT table_rows FROM information_schema.tables WHERE table_schema = ");
	fmt_sql_str(&q, schema);
	sl_buf_adds(&q, " AND table_name = ");
	fmt_sql_str(&q, name);
	if ((rc = query(m, who, sl_buf_cstr(&q), &res, err)))
		goto out;
	if ((row = mysql_fetch_row(res)) && row[0])
		est = strtoull(row[0], NULL, 10);
	db_int_ranges_plan(c, mn, mx, est, chunk_rows);
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	return rc;
}

int db_key_cmp_sql(struct sl_buf *b, const struct db_key *k, const struct db_key_val *val, int gt)
{
	struct sl_buf lit = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc = 0;

	sl_buf_addc(b, '(');
	for (size_t i = 0; i < k->n && !rc; i++) {
		if (i)
			sl_buf_adds(b, " OR (");
		for (size_t j = 0; j <= i && !rc; j++) {
			sl_buf_reset(&lit);
			rc = k->lit(k->arg, j, &lit, val->v[j], val->len[j]);
			if (j)
				sl_buf_adds(b, " AND ");
			sl_buf_addf(b, "%s %s %s", k->ident[j],
				    j < i ? "=" : gt ? ">" : (i + 1 == k->n ? "<=" : "<"),
				    sl_buf_cstr(&lit));
		}
		if (i)
			sl_buf_addc(b, ')');
	}
	sl_buf_addc(b, ')');
	sl_buf_release(&lit);
	return rc;
}

void db_key_val_release(struct db_key_val *v, size_t n)
{
	if (!v->v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v->v[i]);
	free(v->v);
	free(v->len);
	v->v = NULL;
	v->len = NULL;
}

int db_key_next_bound(MYSQL *m, const char *who, const char *table, const struct db_key *k,
		      const struct db_key_val *last, uint64_t chunk_rows, struct db_key_val *next,
		      struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED), cols = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc;

	next->v = NULL;
	next->len = NULL;
	if (!chunk_rows)
		chunk_rows = DB_DEFAULT_CHUNK_ROWS;
	for (size_t i = 0; i < k->n; i++) {
		if (i)
			sl_buf_addc(&cols, ',');
		sl_buf_adds(&cols, k->ident[i]);
	}
	sl_buf_addf(&q, "SELECT %s FROM %s", sl_buf_cstr(&cols), table);
	if (last && last->v) {
		sl_buf_adds(&q, " WHERE ");
		if ((rc = db_key_cmp_sql(&q, k, last, 1)))
			goto out;
	}
	sl_buf_addf(&q, " ORDER BY %s LIMIT 1 OFFSET %" PRIu64, sl_buf_cstr(&cols), chunk_rows - 1);
	if ((rc = query(m, who, sl_buf_cstr(&q), &res, err)))
		goto out;
	if ((row = mysql_fetch_row(res))) {
		unsigned long *l = mysql_fetch_lengths(res);

		next->v = sl_xcalloc(k->n, sizeof(char *));
		next->len = sl_xcalloc(k->n, sizeof(unsigned long));
		for (size_t i = 0; i < k->n; i++) {
			next->v[i] = row[i] ? sl_xstrndup(row[i], l[i]) : NULL;
			next->len[i] = l[i];
		}
	}
	mysql_free_result(res);
out:
	sl_buf_release(&q);
	sl_buf_release(&cols);
	return rc;
}

int db_key_range_where(struct sl_buf *out, const struct db_key *k, const struct db_key_val *last,
		       const struct db_key_val *next)
{
	size_t start = out->len;
	int rc = 0;

	if (last && last->v && (rc = db_key_cmp_sql(out, k, last, 1)))
		return rc;
	if (next && next->v) {
		if (out->len > start)
			sl_buf_adds(out, " AND ");
		if ((rc = db_key_cmp_sql(out, k, next, 0)))
			return rc;
	}
	if (out->len == start)
		rc = sl_buf_adds(out, "1");
	return rc;
}
