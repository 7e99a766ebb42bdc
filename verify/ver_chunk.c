/* ver_chunk.c - the row hash and per-range checksums on both sides at once (the ranges: db/db_range.c). */
#include "ver_int.h"
#include "fmt.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"


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
	char *qs, *qd, ss[64], sd[64];
	uint64_t cs = 0, cd = 0;
	int rc, rc2;

	/* BIT_XOR over a row hash that is not linear in the row's bytes (see
	 * ver_hash_sql()): an exact SUM would do too, but costs the servers more */
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

/* The key's literals for db/'s range planning: each column by its type and charset. */
static int key_lit(void *arg, size_t k, struct sl_buf *out, const char *v, unsigned long len)
{
	const struct ver_table *t = arg;
	const struct ver_col *c = &t->cols[t->key[k]];

	return ver_sql_literal(out, c->lit, c->charset, v, len);
}

/* Any key: walk the source's index chunk_rows at a time (db_key_next_bound()). */
static int walk_ranges(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		       struct ver_conn *dst, struct sl_err *err)
{
	struct sl_buf w = SL_BUF_INIT(SL_BUF_UNLIMITED);
	char **ident = sl_xcalloc(t->nkey, sizeof(char *));
	struct db_key key = { t->nkey, (const char *const *)ident, key_lit, t };
	struct db_key_val last = { 0 }, hi;
	int rc = 0;

	for (size_t k = 0; k < t->nkey; k++) {
		struct sl_buf id = SL_BUF_INIT(4096);

		fmt_sql_ident(&id, t->cols[t->key[k]].name);
		sl_buf_cstr(&id);
		ident[k] = (char *)sl_buf_detach(&id, NULL);
	}
	for (;;) {
		if (ver__stopped(x->stop) || sl_stop_requested) {
			rc = sl_err_set(err, -SL_EINTR_STOP, "stopped");
			break;
		}
		if ((rc = db_key_next_bound(src->db, src->side, t->sq, &key, &last, x->o->chunk_rows,
					    &hi, err)))
			break;
		sl_buf_reset(&w);
		if ((rc = db_key_range_where(&w, &key, &last, &hi))) {
			db_key_val_release(&hi, t->nkey);
			break;
		}
		rc = check_range(x, t, src, dst, sl_buf_cstr(&w), err);
		db_key_val_release(&last, t->nkey);
		last = hi;
		if (rc || !hi.v)
			break;
	}
	db_key_val_release(&last, t->nkey);
	for (size_t k = 0; k < t->nkey; k++)
		free(ident[k]);
	free(ident);
	sl_buf_release(&w);
	return rc;
}

/* A single integer key: ranges by arithmetic over the source's MIN..MAX.
 * Equal ranges let the next one grow (1, 2, 4 ... VER_SPAN_MAX planned
 * ranges per query: fewer queries for the servers to parse and plan), a
 * differing one starts again at one, so that a row diff reads little. */
#define VER_SPAN_MAX 8
static int int_ranges(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		      struct ver_conn *dst, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED), id = SL_BUF_INIT(4096);
	struct db_int_ranges ch;
	int rc;

	fmt_sql_ident(&id, t->cols[t->key[0]].name);
	if ((rc = db_int_ranges_query(src->db, src->side, t->sq, t->sdb, t->stbl, sl_buf_cstr(&id),
				      x->o->chunk_rows, &ch, err)))
		goto out;
	for (uint64_t i = 0, span = 1, j; i < ch.n && !rc; i = j + 1) {
		uint64_t differing = t->chunks_diff;

		if (ver__stopped(x->stop) || sl_stop_requested) {
			rc = sl_err_set(err, -SL_EINTR_STOP, "stopped");
			break;
		}
		j = ch.n - i > span ? i + span - 1 : ch.n - 1;
		sl_buf_reset(&q);
		if ((rc = db_int_span_where(&q, &ch, i, j, sl_buf_cstr(&id))))
			break;
		rc = check_range(x, t, src, dst, sl_buf_cstr(&q), err);
		span = t->chunks_diff != differing ? 1 : span < VER_SPAN_MAX ? span * 2 : span;
	}
out:
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
	if (x->table_checksum && t->schema_same && t->checksum_exact &&
	    (rc = table_checksum(t, src, dst, err)))
		return rc < 0 ? rc : 0;
	if (!t->nkey)
		return ver__keyless_diff(x, t, src, dst, err);
	if (t->int_key)
		return int_ranges(x, t, src, dst, err);
	return walk_ranges(x, t, src, dst, err);
}
