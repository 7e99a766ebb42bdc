/* test_fmt_arena.c - CUnit suite for records decoded with arena memory (fmt_arena.c):
 * many records, reset, decode again in the same memory, a record bigger than a block,
 * release; and the row peek (table_ref, op) without decoding. Run under ASan too. */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "banned.h"

/* A packed RowChange record (without length prefix) of one INT and one
 * STRING of len bytes of fill, for table ref. */
static uint8_t *row_record(uint32_t ref, int op, int64_t id, size_t len, uint8_t fill, size_t *n)
{
	Sluice__Value v[2] = { SLUICE__VALUE__INIT, SLUICE__VALUE__INIT }, *vp[2] = { &v[0], &v[1] };
	Sluice__Row row = SLUICE__ROW__INIT;
	Sluice__RowChange rc = SLUICE__ROW_CHANGE__INIT;
	Sluice__Record rec = SLUICE__RECORD__INIT;
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
	rec.body_case = SLUICE__RECORD__BODY_ROW;
	rec.row = &rc;
	*n = sluice__record__get_packed_size(&rec);
	out = sl_xmalloc(*n);
	sluice__record__pack(&rec, out);
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
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
