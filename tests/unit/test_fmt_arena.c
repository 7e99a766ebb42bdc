/* test_fmt_arena.c - CUnit suite for records decoded with arena memory (fmt_arena.c):
 * many records, reset, decode again in the same memory, a record bigger than a block,
 * release; the row peek (table_ref, op) without decoding; and rows read in place
 * (fmt_rowview.c) equal to protobuf-c's decoding. Run under ASan too. */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "banned.h"

/* A packed RowChange record (without length prefix) of one INT and one
 * STRING of len bytes of fill, for table ref. */
/* rc as a packed Record (malloc'd, *n bytes). */
static uint8_t *pack_row(Sluice__RowChange *rc, size_t *n)
{
	Sluice__Record rec = SLUICE__RECORD__INIT;
	uint8_t *out;

	rec.body_case = SLUICE__RECORD__BODY_ROW;
	rec.row = rc;
	*n = sluice__record__get_packed_size(&rec);
	out = sl_xmalloc(*n);
	sluice__record__pack(&rec, out);
	return out;
}

static uint8_t *row_record(uint32_t ref, int op, int64_t id, size_t len, uint8_t fill, size_t *n)
{
	Sluice__Value v[2] = { SLUICE__VALUE__INIT, SLUICE__VALUE__INIT }, *vp[2] = { &v[0], &v[1] };
	Sluice__Row row = SLUICE__ROW__INIT;
	Sluice__RowChange rc = SLUICE__ROW_CHANGE__INIT;
	uint8_t *s = sl_xmalloc(len + 1), *out;

	memset(s, fill, len);
	v[0].kind = SLUICE__VALUE__KIND__INT;
	v[0].i = id;
	v[1].kind = SLUICE__VALUE__KIND__STRING;
	v[1].b.data = s;
	v[1].b.len = len;
	row.n_values = 2;
	row.values = vp;
	rc.table_ref = ref;
	rc.op = (Sluice__RowChange__Op)op;
	rc.after = &row;
	out = pack_row(&rc, n);
	free(s);
	return out;
}

static int row_is(const Sluice__Record *r, int64_t id, size_t len, uint8_t fill)
{
	const Sluice__Row *row;

	if (!r || r->body_case != SLUICE__RECORD__BODY_ROW || !(row = r->row->after) ||
	    row->n_values != 2 || row->values[0]->i != id || row->values[1]->b.len != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (row->values[1]->b.data[i] != fill)
			return 0;
	return 1;
}

#define NREC 3000

static void test_fmt_arena__many_reset_again(void)
{
	struct fmt_arena a;
	struct sl_err e = SL_ERR_INIT;
	Sluice__Record **recs = sl_xcalloc(NREC, sizeof(*recs));
	uint8_t *p[NREC];
	size_t n[NREC], held;
	int ok = 1;

	fmt_arena_init(&a);
	for (int i = 0; i < NREC; i++)
		p[i] = row_record(7, 0, i - 5, (size_t)(i % 300), (uint8_t)('a' + i % 26), &n[i]);
	/* many records at once: all stay valid until the reset */
	for (int i = 0; i < NREC; i++)
		CU_ASSERT_EQUAL(fmt_record_decode(p[i], n[i], &a, &recs[i], &e), 0);
	for (int i = 0; i < NREC; i++)
		ok &= row_is(recs[i], i - 5, (size_t)(i % 300), (uint8_t)('a' + i % 26));
	CU_ASSERT(ok);
	held = a.bytes;
	CU_ASSERT(held > 0 && held <= (size_t)8 << 20);
	/* reset: the same decodes again fit in the memory kept */
	for (int round = 0; round < 3; round++) {
		fmt_arena_reset(&a);
		for (int i = NREC - 1; i >= 0; i--)
			CU_ASSERT_EQUAL(fmt_record_decode(p[i], n[i], &a, &recs[i], &e), 0);
		ok = 1;
		for (int i = 0; i < NREC; i++)
			ok &= row_is(recs[i], i - 5, (size_t)(i % 300), (uint8_t)('a' + i % 26));
		CU_ASSERT(ok);
		CU_ASSERT_EQUAL(a.bytes, held);
	}
	/* one at a time with a reset each: one block is enough */
	for (int i = 0; i < NREC; i++) {
		fmt_arena_reset(&a);
		CU_ASSERT_EQUAL(fmt_record_decode(p[i], n[i], &a, &recs[0], &e), 0);
		CU_ASSERT(row_is(recs[0], i - 5, (size_t)(i % 300), (uint8_t)('a' + i % 26)));
	}
	CU_ASSERT_EQUAL(a.bytes, held);
	fmt_arena_release(&a);
	CU_ASSERT_EQUAL(a.bytes, 0);
	CU_ASSERT_PTR_NULL(a.head);
	for (int i = 0; i < NREC; i++)
		free(p[i]);
	free(recs);
}

static void test_fmt_arena__big_record(void)
{
	struct fmt_arena a;
	struct sl_err e = SL_ERR_INIT;
	Sluice__Record *r, *small;
	size_t nbig, nsmall, held;
	const size_t big = (size_t)9 << 20;	/* above a block and above what a reset keeps */
	uint8_t *pbig = row_record(1, 0, 42, big, 'x', &nbig), *psmall = row_record(1, 0, 1, 10, 'y', &nsmall);

	fmt_arena_init(&a);
	CU_ASSERT_EQUAL(fmt_record_decode(psmall, nsmall, &a, &small, &e), 0);
	held = a.bytes;
	CU_ASSERT_EQUAL(fmt_record_decode(pbig, nbig, &a, &r, &e), 0);
	CU_ASSERT(row_is(r, 42, big, 'x'));
	CU_ASSERT(row_is(small, 1, 10, 'y'));	/* not moved by the big one */
	CU_ASSERT(a.bytes >= held + big);
	/* a reset drops the big block, keeps the small one */
	fmt_arena_reset(&a);
	CU_ASSERT_EQUAL(a.bytes, held);
	CU_ASSERT_EQUAL(fmt_record_decode(psmall, nsmall, &a, &small, &e), 0);
	CU_ASSERT(row_is(small, 1, 10, 'y'));
	CU_ASSERT_EQUAL(fmt_record_decode(pbig, nbig, &a, &r, &e), 0);
	CU_ASSERT(row_is(r, 42, big, 'x'));
	fmt_arena_release(&a);
	CU_ASSERT_EQUAL(a.bytes, 0);
	free(pbig);
	free(psmall);
}

static void test_fmt_arena__bad_input(void)
{
	struct fmt_arena a;
	struct sl_err e = SL_ERR_INIT;
	Sluice__Record *r;
	size_t n;
	uint8_t *p = row_record(3, 0, 9, 50, 'z', &n);
	static const uint8_t junk[] = { 0x12, 0x7f, 0x01 };	/* a row whose length runs past */

	fmt_arena_init(&a);
	CU_ASSERT_EQUAL(fmt_record_decode(junk, sizeof(junk), &a, &r, &e), -SL_ECORRUPT);
	CU_ASSERT_EQUAL(fmt_record_decode(p, n - 1, &a, &r, &e), -SL_ECORRUPT);
	CU_ASSERT_EQUAL(fmt_record_decode(p, 0, &a, &r, &e), -SL_ECORRUPT);	/* no body */
	/* after failures the arena still works */
	CU_ASSERT_EQUAL(fmt_record_decode(p, n, &a, &r, &e), 0);
	CU_ASSERT(row_is(r, 9, 50, 'z'));
	fmt_arena_release(&a);
	/* no arena: malloc, freed with fmt_record_free() */
	CU_ASSERT_EQUAL(fmt_record_decode(p, n, NULL, &r, &e), 0);
	CU_ASSERT(row_is(r, 9, 50, 'z'));
	fmt_record_free(r);
	free(p);
}

static void test_fmt_arena__row_peek(void)
{
	size_t n, np;
	uint8_t *u = row_record(77, 2, 5, 3, 'r', &n), *p = row_record(12345, 0, 1, 20, 'q', &np);
	uint32_t ref = 99;
	int op = 99;

	CU_ASSERT_EQUAL(fmt_row_peek(u, n, &ref, &op), 0);
	CU_ASSERT_EQUAL(ref, 77);
	CU_ASSERT_EQUAL(op, SLUICE__ROW_CHANGE__OP__DELETE);
	free(u);
	CU_ASSERT_EQUAL(fmt_record_peek(p, np), SLUICE__RECORD__BODY_ROW);
	CU_ASSERT_EQUAL(fmt_row_peek(p, np, &ref, &op), 0);
	CU_ASSERT_EQUAL(ref, 12345);
	CU_ASSERT_EQUAL(op, SLUICE__ROW_CHANGE__OP__INSERT);
	/* cut anywhere inside: bad framing, never a read past the end (ASan) */
	for (size_t k = 0; k < np; k++) {
		uint8_t *cut = sl_xmalloc(k ? k : 1);

		memcpy(cut, p, k);
		CU_ASSERT_EQUAL(fmt_row_peek(cut, k, &ref, &op), -SL_ECORRUPT);
		free(cut);
	}
	/* not a row record */
	p[0] = (uint8_t)((SLUICE__RECORD__BODY_BEGIN << 3) | 2);
	CU_ASSERT_EQUAL(fmt_row_peek(p, np, &ref, &op), -SL_ECORRUPT);
	free(p);
}

/* ---- fmt_rowview: the same Values as protobuf-c ---- */

static int same_value(const Sluice__Value *a, const Sluice__Value *b)
{
	return a->kind == b->kind && a->i == b->i && a->u == b->u &&
	       !memcmp(&a->f, &b->f, sizeof(a->f)) && !memcmp(&a->d, &b->d, sizeof(a->d)) &&
	       a->usec == b->usec && a->has_b == b->has_b && a->b.len == b->b.len &&
	       (a->b.data == NULL) == (b->b.data == NULL) &&
	       (!a->b.len || !memcmp(a->b.data, b->b.data, a->b.len));
}

/* 0: the view reads p as protobuf-c does; 1: it said "not my form"; -1: differs */
static int view_vs_protobuf(struct fmt_rowview *rv, const uint8_t *p, size_t n)
{
	struct sl_err e = SL_ERR_INIT;
	const Sluice__Row *got;
	Sluice__Record *rec;
	const Sluice__Row *want;
	int rc = fmt_rowview_decode(rv, p, n, &got), ret = 0;

	if (rc)
		return 1;
	if (fmt_record_decode(p, n, NULL, &rec, &e))
		return -1;	/* the view read what protobuf-c refuses */
	want = rec->row->after;
	if (!want != !got)
		ret = -1;
	else if (want && want->n_values != got->n_values)
		ret = -1;
	for (size_t i = 0; !ret && want && i < want->n_values; i++)
		if (!same_value(want->values[i], got->values[i]))
			ret = -1;
	fmt_record_free(rec);
	return ret;
}

static uint8_t *pack_values(Sluice__Value *v, size_t nv, int with_after, size_t *n)
{
	Sluice__Value **vp = sl_xcalloc(nv + 1, sizeof(*vp));
	Sluice__Row row = SLUICE__ROW__INIT;
	Sluice__RowChange rc = SLUICE__ROW_CHANGE__INIT;
	uint8_t *out;

	for (size_t i = 0; i < nv; i++)
		vp[i] = &v[i];
	row.n_values = nv;
	row.values = vp;
	rc.table_ref = 3;
	rc.no_fk_checks = 1;
	rc.before = with_after ? NULL : &row;
	rc.op = with_after ? SLUICE__ROW_CHANGE__OP__INSERT : SLUICE__ROW_CHANGE__OP__DELETE;
	rc.after = with_after ? &row : NULL;
	out = pack_row(&rc, n);
	free(vp);
	return out;
}

/* tag + varint(len) + body */
static size_t wrap(uint8_t *out, uint8_t tag, const uint8_t *body, size_t len)
{
	size_t k = 1;

	out[0] = tag;
	k += fmt_varint_put(out + 1, len);
	memmove(out + k, body, len);
	return k + len;
}

static void test_fmt_arena__rowview_same_as_protobuf(void)
{
	static uint8_t bytes[300];
	Sluice__Value v[20];
	struct fmt_rowview rv = { 0 };
	const Sluice__Row *got;
	uint8_t *p, buf[64], tmp[64];
	size_t n, k;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)i;
	for (int i = 0; i < 20; i++)
		sluice__value__init(&v[i]);
	v[0].kind = SLUICE__VALUE__KIND__NULL;
	v[1].kind = SLUICE__VALUE__KIND__INT, v[1].i = INT64_MIN;
	v[2].kind = SLUICE__VALUE__KIND__INT, v[2].i = INT64_MAX;
	v[3].kind = SLUICE__VALUE__KIND__INT, v[3].i = -1;
	v[4].kind = SLUICE__VALUE__KIND__UINT, v[4].u = UINT64_MAX;
	v[5].kind = SLUICE__VALUE__KIND__FLOAT, v[5].f = -0.1f;
	v[6].kind = SLUICE__VALUE__KIND__DOUBLE, v[6].d = -0.0;
	v[7].kind = SLUICE__VALUE__KIND__DECIMAL, v[7].b.data = (uint8_t *)"-12.3400", v[7].b.len = 8;
	v[8].kind = SLUICE__VALUE__KIND__STRING, v[8].b.data = bytes, v[8].b.len = sizeof(bytes);
	v[9].kind = SLUICE__VALUE__KIND__BYTES, v[9].b.data = bytes, v[9].b.len = 0;	/* empty */
	v[10].kind = SLUICE__VALUE__KIND__TIMESTAMP, v[10].i = 2147483647, v[10].usec = 999999;
	v[11].kind = SLUICE__VALUE__KIND__YEAR, v[11].u = 2155;
	v[12].kind = SLUICE__VALUE__KIND__BIT, v[12].u = 1ULL << 63;
	v[13].kind = SLUICE__VALUE__KIND__ENUM, v[13].u = 2, v[13].has_b = 1;
	v[13].b.data = (uint8_t *)"b\tc", v[13].b.len = 3;
	v[14].kind = SLUICE__VALUE__KIND__SET, v[14].u = 5;
	v[15].kind = SLUICE__VALUE__KIND__JSON, v[15].b.data = (uint8_t *)"{}", v[15].b.len = 2;
	v[16].kind = SLUICE__VALUE__KIND__GEOMETRY, v[16].b.data = bytes, v[16].b.len = 25;
	v[17].kind = SLUICE__VALUE__KIND__ABSENT;
	v[18].kind = SLUICE__VALUE__KIND__DATETIME, v[18].b.data = (uint8_t *)"0000-00-00 00:00:00";
	v[18].b.len = 19;
	v[19].kind = (Sluice__Value__Kind)77;	/* a kind from a newer writer */
	p = pack_values(v, 20, 1, &n);
	CU_ASSERT_EQUAL(view_vs_protobuf(&rv, p, n), 0);
	CU_ASSERT_EQUAL(fmt_rowview_decode(&rv, p, n, &got), 0);
	CU_ASSERT(got && got->n_values == 20);
	/* cut anywhere: never read past the end (ASan), never a row protobuf-c refuses */
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *c = sl_xmalloc(cut ? cut : 1);

		memcpy(c, p, cut);
		CU_ASSERT(view_vs_protobuf(&rv, c, cut) != -1);
		free(c);
	}
	free(p);
	/* no after image (a DELETE), and no values */
	p = pack_values(v, 3, 0, &n);
	CU_ASSERT_EQUAL(fmt_rowview_decode(&rv, p, n, &got), 0);
	CU_ASSERT_PTR_NULL(got);
	free(p);
	p = pack_values(v, 0, 1, &n);
	CU_ASSERT_EQUAL(view_vs_protobuf(&rv, p, n), 0);
	free(p);

	/* an unknown field in a Value (field 20, varint) is skipped: the same row */
	{
		static const uint8_t val[] = { 0x08, 0x01, 0x10, 0x03, 0xa0, 0x01, 0x05 };

		k = wrap(tmp, 0x0a, val, sizeof(val));		/* Row.values */
		k = wrap(buf, 0x22, tmp, k);			/* RowChange.after */
		k = wrap(tmp, 0x12, buf, k);			/* Record.row */
		CU_ASSERT_EQUAL(view_vs_protobuf(&rv, tmp, k), 0);
		CU_ASSERT(!fmt_rowview_decode(&rv, tmp, k, &got) && got && got->n_values == 1 &&
			  got->values[0]->i == -2);
	}
	/* a known field with another wire type: not read here (protobuf-c decides) */
	{
		static const uint8_t val[] = { 0x08, 0x01, 0x12, 0x01, 0x00 };	/* i as bytes */

		k = wrap(tmp, 0x0a, val, sizeof(val));
		k = wrap(buf, 0x22, tmp, k);
		k = wrap(tmp, 0x12, buf, k);
		CU_ASSERT_EQUAL(fmt_rowview_decode(&rv, tmp, k, &got), 1);
	}
	/* the after image twice (protobuf-c merges them): not read here */
	{
		static const uint8_t val[] = { 0x08, 0x01 };
		size_t m;

		m = wrap(tmp, 0x0a, val, sizeof(val));
		k = wrap(buf, 0x22, tmp, m);
		memcpy(buf + k, buf, k);
		k = wrap(tmp, 0x12, buf, 2 * k);
		CU_ASSERT_EQUAL(fmt_rowview_decode(&rv, tmp, k, &got), 1);
		CU_ASSERT_EQUAL(view_vs_protobuf(&rv, tmp, k), 1);
	}
	/* not a row record */
	buf[0] = (SLUICE__RECORD__BODY_BEGIN << 3) | 2;
	buf[1] = 0;
	CU_ASSERT_EQUAL(fmt_rowview_decode(&rv, buf, 2, &got), 1);
	fmt_rowview_release(&rv);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("formats/fmt_arena", NULL, NULL);
	CU_add_test(s, "many records, reset, decode again in the same memory", test_fmt_arena__many_reset_again);
	CU_add_test(s, "a record bigger than a block, dropped by the reset", test_fmt_arena__big_record);
	CU_add_test(s, "bad input, and decoding without an arena", test_fmt_arena__bad_input);
	CU_add_test(s, "row peek: table_ref and op without decoding", test_fmt_arena__row_peek);
	CU_add_test(s, "rows read in place are protobuf-c's rows", test_fmt_arena__rowview_same_as_protobuf);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
