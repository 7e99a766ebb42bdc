/* test_formats.c - CUnit suite for formats/: value renderings (SQL, text, JSON) and record round trips. */
#include <CUnit/Basic.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "banned.h"

/* The sl_buf invariants (sl.h), checked after every rendering. */
static void assert_sane_buf(const struct sl_buf *b)
{
	CU_ASSERT(b->len <= b->cap || (b->len == 0 && b->cap == 0));
	CU_ASSERT(b->len <= b->max);
	CU_ASSERT(b->data != NULL || b->cap == 0);
}

typedef int (*render_fn)(const Sluice__Value *, const Sluice__ColumnDef *, struct sl_buf *);

/* Render v with fn and compare with want; returns 1 when equal. */
static int check(render_fn fn, const Sluice__Value *v, const Sluice__ColumnDef *c, const char *want)
{
	struct sl_buf b = SL_BUF_INIT(1 << 20);
	int rc = fn(v, c, &b), ok;

	assert_sane_buf(&b);
	ok = rc == 0 && strcmp(sl_buf_cstr(&b), want) == 0;
	if (!ok)
		fprintf(stderr, "\n  rc=%d got [%s] want [%s]\n", rc, b.data ? (char *)b.data : "", want);
	sl_buf_release(&b);
	return ok;
}

static Sluice__Value val(Sluice__Value__Kind kind)
{
	Sluice__Value v = SLUICE__VALUE__INIT;

	v.kind = kind;
	return v;
}

static Sluice__Value valb(Sluice__Value__Kind kind, const void *p, size_t n)
{
	Sluice__Value v = val(kind);

	v.b.data = (uint8_t *)p;
	v.b.len = n;
	return v;
}

static void test_formats__sql_integers(void)
{
	Sluice__Value v = val(SLUICE__VALUE__KIND__INT);

	CU_ASSERT(check(fmt_value_sql, &v, NULL, "0"));
	v.i = INT64_MIN;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "-9223372036854775808"));
	v.i = INT64_MAX;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "9223372036854775807"));
	v = val(SLUICE__VALUE__KIND__UINT);
	v.u = UINT64_MAX;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "18446744073709551615"));
	v = val(SLUICE__VALUE__KIND__YEAR);
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "0"));
	v.u = 2155;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "2155"));
	v = val(SLUICE__VALUE__KIND__BIT);
	v.u = 0x8000000000000001ULL;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "9223372036854775809"));
	v = val(SLUICE__VALUE__KIND__NULL);
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "NULL"));
}

static void test_formats__sql_floats_round_trip(void)
{
	Sluice__Value v = val(SLUICE__VALUE__KIND__DOUBLE);
	double ds[] = { 0.1, 1.0 / 3, -2.5e-308, 1.7976931348623157e308, 4.9e-324, 123456789012345678.0 };
	float fs[] = { 0.1f, 1.0f / 3, 3.4028235e38f, 1.4e-45f, -7.25f };
	struct sl_buf b = SL_BUF_INIT(256);

	for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
		v.d = ds[i];
		sl_buf_reset(&b);
		CU_ASSERT_EQUAL(fmt_value_sql(&v, NULL, &b), 0);
		CU_ASSERT(strtod(sl_buf_cstr(&b), NULL) == ds[i]);
	}
	v = val(SLUICE__VALUE__KIND__FLOAT);
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		v.f = fs[i];
		sl_buf_reset(&b);
		CU_ASSERT_EQUAL(fmt_value_sql(&v, NULL, &b), 0);
		/* as a server reads it: a double, in range, narrowed */
		CU_ASSERT(fabs(strtod(sl_buf_cstr(&b), NULL)) <= FLT_MAX);
		CU_ASSERT((float)strtod(sl_buf_cstr(&b), NULL) == fs[i]);
	}
	sl_buf_release(&b);
	v.f = 0.5f;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "0.5"));
	v.f = -0.0f;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "-0e0"));
	v = val(SLUICE__VALUE__KIND__DOUBLE);
	v.d = -0.0;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "-0e0"));
	CU_ASSERT(check(fmt_value_json, &v, NULL, "-0.0"));
	/* the shortest text that reads back as the same double */
	v.d = 1e300;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "1e+300"));
	v.d = 1.0 / 7;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "0.14285714285714285"));
	v.d = 0.142857142;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "0.142857142"));
	v.d = 5e-324;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "4.94065645841247e-324"));
}

static void test_formats__sql_strings_are_hex_with_charset(void)
{
	Sluice__ColumnDef c = SLUICE__COLUMN_DEF__INIT;
	Sluice__Value v = valb(SLUICE__VALUE__KIND__STRING, "a'\\\0z", 5);

	CU_ASSERT(check(fmt_value_sql, &v, NULL, "_utf8mb4 X'61275C007A'"));
	c.charset = "latin1";
	CU_ASSERT(check(fmt_value_sql, &v, &c, "_latin1 X'61275C007A'"));
	c.charset = "x'; DROP";	/* never trusted into SQL */
	CU_ASSERT(check(fmt_value_sql, &v, &c, "_utf8mb4 X'61275C007A'"));
	v.b.len = 0;
	c.charset = "utf8mb3";
	CU_ASSERT(check(fmt_value_sql, &v, &c, "_utf8mb3 ''"));
	v = valb(SLUICE__VALUE__KIND__BYTES, "\xff\x00", 2);
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "X'FF00'"));
	v.b.len = 0;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "''"));
	v = valb(SLUICE__VALUE__KIND__GEOMETRY, "\0\0\0\0\1", 5);
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "X'0000000001'"));
	v = valb(SLUICE__VALUE__KIND__JSON, "{}", 2);
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "_utf8mb4 X'7B7D'"));
}

static void test_formats__sql_decimal_and_temporal(void)
{
	Sluice__ColumnDef c = SLUICE__COLUMN_DEF__INIT;
	Sluice__Value v = valb(SLUICE__VALUE__KIND__DECIMAL, "-12.3400", 8);
	struct sl_buf b = SL_BUF_INIT(256);

	CU_ASSERT(check(fmt_value_sql, &v, NULL, "-12.3400"));
	v.b.data = (uint8_t *)"1;DROP";
	v.b.len = 6;
	CU_ASSERT_EQUAL(fmt_value_sql(&v, NULL, &b), -SL_EFORMAT);
	v = valb(SLUICE__VALUE__KIND__DATE, "0000-00-00", 10);
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "'0000-00-00'"));
	v = valb(SLUICE__VALUE__KIND__TIME, "-838:59:59.000000", 17);
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "'-838:59:59.000000'"));
	v = valb(SLUICE__VALUE__KIND__DATETIME, "2024-02-29 23:59:59.5", 21);
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "'2024-02-29 23:59:59.5'"));
	v.b.data = (uint8_t *)"2024' OR 1";
	v.b.len = 10;
	CU_ASSERT_EQUAL(fmt_value_sql(&v, NULL, &b), -SL_EFORMAT);
	v = val(SLUICE__VALUE__KIND__TIMESTAMP);
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "'0000-00-00 00:00:00'"));
	c.precision = 3;
	CU_ASSERT(check(fmt_value_sql, &v, &c, "'0000-00-00 00:00:00.000'"));
	v.i = 2147483647;
	v.usec = 123456;
	CU_ASSERT(check(fmt_value_sql, &v, &c, "'2038-01-19 03:14:07.123'"));
	c.precision = 6;
	v.i = 1;
	v.usec = 7;
	CU_ASSERT(check(fmt_value_sql, &v, &c, "'1970-01-01 00:00:01.000007'"));
	c.precision = 0;
	v.i = 951782400;	/* 2000-02-29 */
	v.usec = 0;
	CU_ASSERT(check(fmt_value_sql, &v, &c, "'2000-02-29 00:00:00'"));
	sl_buf_release(&b);
}

static void test_formats__timestamp_str(void)
{
	char out[40];

	CU_ASSERT_EQUAL(fmt_timestamp_str(0, 0, 0, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "0000-00-00 00:00:00");
	CU_ASSERT_EQUAL(fmt_timestamp_str(86399, 999999, 2, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "1970-01-01 23:59:59.99");
	CU_ASSERT_EQUAL(fmt_timestamp_str(4102444800LL, 0, 0, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "2100-01-01 00:00:00");
	CU_ASSERT_EQUAL(fmt_timestamp_str(-1, 0, 0, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "1969-12-31 23:59:59");
	CU_ASSERT_EQUAL(fmt_timestamp_str(1, 0, 0, out, 5), -SL_ETOOBIG);
}

static void test_formats__sql_enum_set(void)
{
	Sluice__ColumnDef c = SLUICE__COLUMN_DEF__INIT;
	Sluice__Value v = valb(SLUICE__VALUE__KIND__ENUM, "b", 1);

	v.u = 2;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "2"));
	CU_ASSERT(check(fmt_value_text, &v, NULL, "2"));
	v.has_b = 1;
	c.charset = "latin1";
	CU_ASSERT(check(fmt_value_sql, &v, &c, "_latin1 X'62'"));
	CU_ASSERT(check(fmt_value_json, &v, &c, "\"b\""));
	v = valb(SLUICE__VALUE__KIND__SET, "a,c", 3);
	v.u = 5;
	v.has_b = 1;
	CU_ASSERT(check(fmt_value_sql, &v, NULL, "_utf8mb4 X'612C63'"));
	CU_ASSERT(check(fmt_value_text, &v, NULL, "'a,c'"));
}

static void test_formats__sql_ident(void)
{
	struct sl_buf b = SL_BUF_INIT(64);

	CU_ASSERT_EQUAL(fmt_sql_ident(&b, "a`b``"), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "`a``b`````");
	sl_buf_reset(&b);
	CU_ASSERT_EQUAL(fmt_sql_ident(&b, ""), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "``");
	sl_buf_release(&b);
	b.max = 4;
	CU_ASSERT_EQUAL(fmt_sql_ident(&b, "abcdef"), -SL_ETOOBIG);
	CU_ASSERT_EQUAL(b.len, 0);
	sl_buf_release(&b);
}

static void test_formats__text(void)
{
	Sluice__ColumnDef c = SLUICE__COLUMN_DEF__INIT;
	Sluice__Value v = valb(SLUICE__VALUE__KIND__STRING, "it's\\\n\xc3\xa9", 8);

	CU_ASSERT(check(fmt_value_text, &v, NULL, "'it\\'s\\\\\\x0a\xc3\xa9'"));
	v = val(SLUICE__VALUE__KIND__NULL);
	CU_ASSERT(check(fmt_value_text, &v, NULL, "NULL"));
	v = val(SLUICE__VALUE__KIND__INT);
	v.i = -5;
	CU_ASSERT(check(fmt_value_text, &v, NULL, "-5"));
	v = val(SLUICE__VALUE__KIND__BIT);
	v.u = 5;
	CU_ASSERT(check(fmt_value_text, &v, NULL, "b'101'"));
	c.meta = 0x0100 | 2;	/* BIT(10): 1 byte + 2 bits */
	CU_ASSERT(check(fmt_value_text, &v, &c, "b'0000000101'"));
	v = valb(SLUICE__VALUE__KIND__DECIMAL, "1.50", 4);
	CU_ASSERT(check(fmt_value_text, &v, NULL, "1.50"));
	v = val(SLUICE__VALUE__KIND__TIMESTAMP);
	v.i = 86400;
	CU_ASSERT(check(fmt_value_text, &v, NULL, "'1970-01-02 00:00:00'"));
}

static void test_formats__json(void)
{
	Sluice__Value v = val(SLUICE__VALUE__KIND__INT);

	v.i = 9007199254740992LL;	/* 2^53: still exact */
	CU_ASSERT(check(fmt_value_json, &v, NULL, "9007199254740992"));
	v.i = 9007199254740993LL;
	CU_ASSERT(check(fmt_value_json, &v, NULL, "\"9007199254740993\""));
	v.i = INT64_MIN;
	CU_ASSERT(check(fmt_value_json, &v, NULL, "\"-9223372036854775808\""));
	v = val(SLUICE__VALUE__KIND__UINT);
	v.u = UINT64_MAX;
	CU_ASSERT(check(fmt_value_json, &v, NULL, "\"18446744073709551615\""));
	v = val(SLUICE__VALUE__KIND__NULL);
	CU_ASSERT(check(fmt_value_json, &v, NULL, "null"));
	v = valb(SLUICE__VALUE__KIND__DECIMAL, "0.10", 4);
	CU_ASSERT(check(fmt_value_json, &v, NULL, "\"0.10\""));
	v = valb(SLUICE__VALUE__KIND__JSON, "{\"a\":[1]}", 9);
	CU_ASSERT(check(fmt_value_json, &v, NULL, "\"{\\\"a\\\":[1]}\""));
	v = valb(SLUICE__VALUE__KIND__BYTES, "\xff\x01\xe2\x82\xac", 5);
	CU_ASSERT(check(fmt_value_json, &v, NULL, "{\"hex\":\"FF01E282AC\"}"));
	v = val(SLUICE__VALUE__KIND__DOUBLE);
	v.d = 0.1;
	CU_ASSERT(check(fmt_value_json, &v, NULL, "0.1"));
	v = val(SLUICE__VALUE__KIND__TIMESTAMP);
	CU_ASSERT(check(fmt_value_json, &v, NULL, "\"0000-00-00 00:00:00\""));
}

/* inspect --json is exact: bytes are never confused with characters, text
 * in any charset comes out as UTF-8, and every value is valid JSON. */
static void test_formats__json_exact(void)
{
	Sluice__ColumnDef bin = SLUICE__COLUMN_DEF__INIT, cp1251 = SLUICE__COLUMN_DEF__INIT,
			  gbk = SLUICE__COLUMN_DEF__INIT, latin1 = SLUICE__COLUMN_DEF__INIT,
			  utf8 = SLUICE__COLUMN_DEF__INIT;
	Sluice__Value v;

	bin.collation = 63;
	bin.charset = (char *)"binary";
	cp1251.collation = 51;
	cp1251.charset = (char *)"cp1251";
	gbk.collation = 28;
	gbk.charset = (char *)"gbk";
	latin1.collation = 8;
	latin1.charset = (char *)"latin1";
	utf8.collation = 45;
	utf8.charset = (char *)"utf8mb4";
	/* X'C3A9' and X'E9' of a binary column: two different values */
	v = valb(SLUICE__VALUE__KIND__BYTES, "\xc3\xa9", 2);
	CU_ASSERT(check(fmt_value_json, &v, &bin, "{\"hex\":\"C3A9\"}"));
	v = valb(SLUICE__VALUE__KIND__BYTES, "\xe9", 1);
	CU_ASSERT(check(fmt_value_json, &v, &bin, "{\"hex\":\"E9\"}"));
	/* text in its charset, as UTF-8 */
	v = valb(SLUICE__VALUE__KIND__STRING, "\xcf\xf0\xe8\xe2\xe5\xf2", 6);	/* cp1251 */
	CU_ASSERT(check(fmt_value_json, &v, &cp1251, "\"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\""));
	v = valb(SLUICE__VALUE__KIND__STRING, "\xd6\xd0\xce\xc4", 4);	/* gbk */
	CU_ASSERT(check(fmt_value_json, &v, &gbk, "\"\xe4\xb8\xad\xe6\x96\x87\""));
	v = valb(SLUICE__VALUE__KIND__STRING, "caf\xe9", 4);	/* latin1 */
	CU_ASSERT(check(fmt_value_json, &v, &latin1, "\"caf\xc3\xa9\""));
	v = valb(SLUICE__VALUE__KIND__STRING, "caf\xc3\xa9\n\"", 7);
	CU_ASSERT(check(fmt_value_json, &v, &utf8, "\"caf\xc3\xa9\\n\\\"\""));
	/* text that is not valid in its charset: its bytes */
	v = valb(SLUICE__VALUE__KIND__STRING, "caf\xe9", 4);
	CU_ASSERT(check(fmt_value_json, &v, &utf8, "{\"hex\":\"636166E9\"}"));
	v = valb(SLUICE__VALUE__KIND__STRING, "\xd6", 1);	/* half a gbk character */
	CU_ASSERT(check(fmt_value_json, &v, &gbk, "{\"hex\":\"D6\"}"));
	/* an ENUM label in its column's charset */
	v = valb(SLUICE__VALUE__KIND__ENUM, "\xcf", 1);
	v.has_b = 1;
	CU_ASSERT(check(fmt_value_json, &v, &cp1251, "\"\xd0\x9f\""));
	v = valb(SLUICE__VALUE__KIND__GEOMETRY, "\0\0\0\0\x01", 5);
	CU_ASSERT(check(fmt_value_json, &v, NULL, "{\"hex\":\"0000000001\"}"));
	/* a kind this build does not know: valid JSON naming it */
	v = val((Sluice__Value__Kind)99);
	CU_ASSERT(check(fmt_value_json, &v, NULL, "{\"unknown_kind\":99}"));
}

static void test_formats__json_str_invalid_utf8(void)
{
	struct sl_buf b = SL_BUF_INIT(256);
	/* overlong '/', a surrogate, a truncated sequence, a 4-byte emoji, tab, quote */
	const char in[] = "\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xf0\x9f\x98\x80|\t\"";

	CU_ASSERT_EQUAL(fmt_json_str(&b, in, sizeof(in) - 1), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b),
			       "\"\\u00c0\\u00af|\\u00ed\\u00a0\\u0080|\\u00e2\\u0082|\xf0\x9f\x98\x80|\\t\\\"\"");
	sl_buf_release(&b);
}

/* fmt_pack_insert() writes what protobuf-c writes for the same Record
 * (RowChange INSERT of the values): every field of Value set and unset,
 * lengths of one and more varint bytes, table_ref 0 (not written) and
 * large, no values and more values than the packer first sizes for. */
static void test_formats__pack_insert_matches_protobuf(void)
{
	static const uint32_t refs[] = { 0, 1, 127, 128, 300000, UINT32_MAX };
	static uint8_t big[20000];
	struct fmt_packer pk = { 0 };
	Sluice__Value v[300];
	Sluice__Value *vp[300];
	size_t nv[] = { 0, 1, 4, 300 };

	memset(big, 'x', sizeof(big));
	for (size_t i = 0; i < 300; i++) {
		v[i] = val((Sluice__Value__Kind)(i % 20));
		switch (i % 10) {
		case 0: v[i].i = -(int64_t)i * 1000003; break;
		case 1: v[i].u = UINT64_MAX - i; break;
		case 2: v[i].f = (float)i / 3; break;
		case 3: v[i].d = -(double)i / 7; break;
		case 4: v[i].b.data = big; v[i].b.len = i * 60; break;
		case 5: v[i].usec = 999999 - (uint32_t)i; v[i].i = INT64_MIN; break;
		case 6: v[i].has_b = 1; v[i].u = 3; v[i].b.data = big; v[i].b.len = 1; break;
		case 7: v[i].b.data = big; v[i].b.len = i == 7 ? sizeof(big) : 127; break;
		case 8: v[i].d = -0.0; v[i].f = -0.0f; break;	/* zero: not written */
		default: break;	/* only the kind (NULL, or kind 0: an empty Value) */
		}
		vp[i] = &v[i];
	}
	for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
		for (size_t k = 0; k < sizeof(nv) / sizeof(nv[0]); k++) {
			Sluice__Record rec = SLUICE__RECORD__INIT;
			Sluice__RowChange rc = SLUICE__ROW_CHANGE__INIT;
			Sluice__Row after = SLUICE__ROW__INIT;
			size_t want, got;
			uint8_t *a, *b;

			after.n_values = nv[k];
			after.values = vp;
			rc.table_ref = refs[r];
			rc.op = SLUICE__ROW_CHANGE__OP__INSERT;
			rc.after = &after;
			rec.body_case = SLUICE__RECORD__BODY_ROW;
			rec.row = &rc;
			want = sluice__record__get_packed_size(&rec);
			got = fmt_pack_insert_size(&pk, refs[r], v, nv[k]);
			CU_ASSERT_EQUAL_FATAL(got, want);
			a = malloc(want);
			b = malloc(want);
			CU_ASSERT_EQUAL(sluice__record__pack(&rec, a), want);
			CU_ASSERT_EQUAL(fmt_pack_insert(&pk, refs[r], v, nv[k], b), want);
			CU_ASSERT(memcmp(a, b, want) == 0);
			free(a);
			free(b);
		}
	}
	fmt_packer_release(&pk);
}

static void test_formats__record_round_trip(void)
{
	Sluice__Record rec = SLUICE__RECORD__INIT, *back = NULL;
	Sluice__RowChange rc = SLUICE__ROW_CHANGE__INIT;
	Sluice__Row after = SLUICE__ROW__INIT;
	Sluice__Value v1 = val(SLUICE__VALUE__KIND__INT), v2 = valb(SLUICE__VALUE__KIND__BYTES, "\0x", 2);
	Sluice__Value *vals[2] = { &v1, &v2 };
	struct sl_buf b = SL_BUF_INIT(1 << 20), t1 = SL_BUF_INIT(256), t2 = SL_BUF_INIT(256);
	struct sl_err err = SL_ERR_INIT;
	size_t used = 0;

	v1.i = -42;
	after.n_values = 2;
	after.values = vals;
	rc.table_ref = 7;
	rc.op = SLUICE__ROW_CHANGE__OP__INSERT;
	rc.after = &after;
	rec.body_case = SLUICE__RECORD__BODY_ROW;
	rec.row = &rc;
	CU_ASSERT_EQUAL(fmt_record_pack(&rec, &b), 0);
	CU_ASSERT_EQUAL(fmt_record_pack(&rec, &b), 0);
	CU_ASSERT_EQUAL(fmt_record_unpack(b.data, b.len, &used, &back, &err), 0);
	CU_ASSERT_EQUAL(used * 2, b.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL(back->body_case, SLUICE__RECORD__BODY_ROW);
	CU_ASSERT_EQUAL(back->row->table_ref, 7);
	CU_ASSERT_EQUAL_FATAL(back->row->after->n_values, 2);
	for (int i = 0; i < 2; i++) {
		sl_buf_reset(&t1);
		sl_buf_reset(&t2);
		CU_ASSERT_EQUAL(fmt_value_sql(vals[i], NULL, &t1), 0);
		CU_ASSERT_EQUAL(fmt_value_sql(back->row->after->values[i], NULL, &t2), 0);
		CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&t1), sl_buf_cstr(&t2));
	}
	fmt_record_free(back);
	back = NULL;
	/* A cut record is corrupt, never a short success. */
	CU_ASSERT_EQUAL(fmt_record_unpack(b.data, used - 1, &used, &back, &err), -SL_ECORRUPT);
	CU_ASSERT_PTR_NULL(back);
	sl_buf_release(&b);
	sl_buf_release(&t1);
	sl_buf_release(&t2);
}

/* A column absent from a partial row image (binlog_row_image=MINIMAL) is
 * not NULL: no rendering at all, and it survives a round trip as ABSENT. */
static void test_formats__absent(void)
{
	Sluice__Record rec = SLUICE__RECORD__INIT, *back = NULL;
	Sluice__RowChange rc = SLUICE__ROW_CHANGE__INIT;
	Sluice__Row before = SLUICE__ROW__INIT, after = SLUICE__ROW__INIT;
	Sluice__Value k = val(SLUICE__VALUE__KIND__INT), a = val(SLUICE__VALUE__KIND__ABSENT),
		      n = val(SLUICE__VALUE__KIND__NULL);
	Sluice__Value *bv[3] = { &k, &a, &a }, *av[3] = { &a, &n, &a };
	render_fn fns[3] = { fmt_value_sql, fmt_value_text, fmt_value_json };
	struct sl_buf b = SL_BUF_INIT(1 << 20);
	struct sl_err err = SL_ERR_INIT;
	size_t used = 0;

	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(fns[i](&a, NULL, &b), -SL_EINVAL_ARG);
		CU_ASSERT_EQUAL(b.len, 0);
	}
	CU_ASSERT(fmt_value_absent(&a));
	CU_ASSERT(!fmt_value_absent(&n));
	CU_ASSERT(check(fmt_value_sql, &n, NULL, "NULL"));

	k.i = 4;
	before.n_values = after.n_values = 3;
	before.values = bv;
	after.values = av;
	CU_ASSERT(!fmt_row_full(&before));
	CU_ASSERT(!fmt_row_full(NULL));
	rc.table_ref = 2;
	rc.op = SLUICE__ROW_CHANGE__OP__UPDATE;
	rc.before = &before;
	rc.after = &after;
	rec.body_case = SLUICE__RECORD__BODY_ROW;
	rec.row = &rc;
	CU_ASSERT_EQUAL(fmt_record_pack(&rec, &b), 0);
	CU_ASSERT_EQUAL(fmt_record_unpack(b.data, b.len, &used, &back, &err), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL_FATAL(back->row->before->n_values, 3);
	CU_ASSERT_EQUAL_FATAL(back->row->after->n_values, 3);
	CU_ASSERT_EQUAL(back->row->before->values[0]->kind, SLUICE__VALUE__KIND__INT);
	CU_ASSERT_EQUAL(back->row->before->values[0]->i, 4);
	CU_ASSERT_EQUAL(back->row->before->values[1]->kind, SLUICE__VALUE__KIND__ABSENT);
	CU_ASSERT_EQUAL(back->row->after->values[0]->kind, SLUICE__VALUE__KIND__ABSENT);
	CU_ASSERT_EQUAL(back->row->after->values[1]->kind, SLUICE__VALUE__KIND__NULL);
	CU_ASSERT_EQUAL(back->row->after->values[2]->kind, SLUICE__VALUE__KIND__ABSENT);
	/* FULL rows: no ABSENT value anywhere */
	bv[1] = bv[2] = &n;
	CU_ASSERT(fmt_row_full(&before));
	fmt_record_free(back);
	sl_buf_release(&b);
}

static void test_formats__tables_map(void)
{
	Sluice__TableDef td = SLUICE__TABLE_DEF__INIT;
	struct fmt_tables t;

	fmt_tables_init(&t);
	td.ref = 300;
	td.db = "d";
	td.name = "one";
	fmt_tables_put(&t, &td);
	td.name = "two";
	fmt_tables_put(&t, &td);
	CU_ASSERT_PTR_NULL(fmt_tables_get(&t, 1));
	CU_ASSERT_PTR_NULL(fmt_tables_get(&t, 100000));
	CU_ASSERT_STRING_EQUAL(fmt_tables_get(&t, 300)->name, "two");
	fmt_tables_release(&t);
}

/* Snapshot records (fmt_render.c): schema objects as runnable SQL whose
 * comments a quoted name cannot end, a delimiter the body does not hold,
 * and chunks as one JSON object with their rows. */
static void test_formats__render_snapshot(void)
{
	struct fmt_render o;
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__SchemaObject so = SLUICE__SCHEMA_OBJECT__INIT;
	Sluice__SnapshotChunk ch = SLUICE__SNAPSHOT_CHUNK__INIT;
	Sluice__SnapshotChunkEnd ce = SLUICE__SNAPSHOT_CHUNK_END__INIT;
	Sluice__SnapshotEnd se = SLUICE__SNAPSHOT_END__INIT;
	Sluice__Position p = SLUICE__POSITION__INIT;
	char *conv[] = { "collation: a -> b\nDROP DATABASE x;" };
	const char *out;

	fmt_render_init(&o, 0);
	so.kind = SLUICE__SCHEMA_OBJECT__KIND__TRIGGER;
	so.db = "d";
	so.name = "t\nDROP DATABASE d; --";
	so.table = "x";
	so.statement = "CREATE TRIGGER `t` BEFORE INSERT ON `x` FOR EACH ROW BEGIN SET @a = ';;'; END;\n";
	so.deferred = 1;
	so.order = 3;
	so.n_conversions = 1;
	so.conversions = conv;
	so.sql_mode = "PIPES_AS_CONCAT,ANSI_QUOTES";
	r.body_case = SLUICE__RECORD__BODY_SCHEMA;
	r.schema = &so;
	fmt_render_schema_sql(&o, &so);
	sl_buf_addc(&o.b, 0);
	out = (const char *)o.b.data;
	/* no line outside a comment but USE, DELIMITER and the statement */
	CU_ASSERT(strstr(out, "\nDROP DATABASE") == NULL);
	CU_ASSERT(strstr(out, "-- deferred to switchover\n") != NULL);
	CU_ASSERT(strstr(out, "-- conversion: collation: a -> b\n--   DROP DATABASE x;\n") != NULL);
	/* created under its own sql_mode, the client's set back after it */
	CU_ASSERT(strstr(out, "USE `d`;\nSET @sluice_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = "
			 "'PIPES_AS_CONCAT,ANSI_QUOTES';\nDELIMITER $$\nCREATE TRIGGER") != NULL);
	CU_ASSERT(strstr(out, "END$$\nDELIMITER ;\nSET SESSION sql_mode = @sluice_sql_mode;\n") != NULL);
	sl_buf_reset(&o.b);
	/* for MySQL, without the modes it would refuse */
	so.dest_dialect = "mysql";
	so.sql_mode = "STRICT_TRANS_TABLES,NO_AUTO_CREATE_USER,PIPES_AS_CONCAT,SIMULTANEOUS_ASSIGNMENT";
	fmt_render_schema_sql(&o, &so);
	sl_buf_addc(&o.b, 0);
	CU_ASSERT(strstr((const char *)o.b.data, "SESSION sql_mode = 'STRICT_TRANS_TABLES,PIPES_AS_CONCAT';\n")
		  != NULL);
	sl_buf_reset(&o.b);
	so.dest_dialect = "";
	so.sql_mode = "PIPES_AS_CONCAT,ANSI_QUOTES";
	fmt_render_release(&o);

	fmt_render_init(&o, 1);
	fmt_render_record(&o, &r, 1, 99);
	sl_buf_addc(&o.b, 0);
	out = (const char *)o.b.data;
	CU_ASSERT(strncmp(out, "{\"type\":\"schema\",\"kind\":\"trigger\",\"order\":3,", 43) == 0);
	CU_ASSERT(strstr(out, "\"deferred\":\"switchover\"") != NULL);
	CU_ASSERT(strstr(out, "\"sql_mode\":\"PIPES_AS_CONCAT,ANSI_QUOTES\"") != NULL);
	CU_ASSERT(strstr(out, "\"conversions\":[\"collation: a -> b\\nDROP DATABASE x;\"]") != NULL);
	sl_buf_reset(&o.b);
	ch.db = "d";
	ch.table = "x";
	ch.index = 4;
	ch.where = "`id` >= 7";
	ch.run = 2;
	r.body_case = SLUICE__RECORD__BODY_CHUNK;
	r.chunk = &ch;
	fmt_render_record(&o, &r, 2, 10);
	ce.rows = 0;
	ce.table_done = 1;
	r.body_case = SLUICE__RECORD__BODY_CHUNK_END;
	r.chunk_end = &ce;
	fmt_render_record(&o, &r, 2, 10);
	p.file = "bin.000002";
	p.offset = 42;
	se.position = &p;
	se.tables = 1;
	r.body_case = SLUICE__RECORD__BODY_SNAPSHOT_END;
	r.snapshot_end = &se;
	fmt_render_record(&o, &r, 2, 20);
	sl_buf_addc(&o.b, 0);
	CU_ASSERT_STRING_EQUAL((const char *)o.b.data,
		"{\"type\":\"chunk\",\"db\":\"d\",\"table\":\"x\",\"index\":4,\"run\":2,\"where\":\"`id` >= 7\","
		"\"segment\":2,\"offset\":10,\"changes\":[],\"rows\":0,\"bytes\":0,\"table_done\":true,"
		"\"next_where\":\"\"}\n"
		"{\"type\":\"snapshot_end\",\"tables\":1,\"rows\":0,\"time\":0,\"segment\":2,\"offset\":20,"
		"\"position\":{\"file\":\"bin.000002\",\"offset\":42,\"gtid\":\"\",\"server_id\":0}}\n");
	fmt_render_release(&o);
}

/* One name per schema object kind, for messages and conversion notes of
 * snapshot, replay and precheck alike. */
static void test_formats__schema_object_label(void)
{
	static const struct {
		int kind;
		const char *table, *want;
	} cases[] = {
		{ SLUICE__SCHEMA_OBJECT__KIND__DATABASE, NULL, "database `d`" },
		{ SLUICE__SCHEMA_OBJECT__KIND__TABLE, NULL, "table `d`.`n`" },
		{ SLUICE__SCHEMA_OBJECT__KIND__VIEW, "", "view `d`.`n`" },
		{ SLUICE__SCHEMA_OBJECT__KIND__FOREIGN_KEY, "t", "foreign key `d`.`n` on `t`" },
		{ SLUICE__SCHEMA_OBJECT__KIND__TRIGGER, "t", "trigger `d`.`n` on `t`" },
		{ SLUICE__SCHEMA_OBJECT__KIND__ROUTINE, NULL, "routine `d`.`n`" },
		{ SLUICE__SCHEMA_OBJECT__KIND__EVENT, NULL, "event `d`.`n`" },
		{ 99, NULL, "unknown `d`.`n`" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = fmt_schema_object_label(cases[i].kind, "d", "n", cases[i].table);

		CU_ASSERT_STRING_EQUAL(got, cases[i].want);
		free(got);
	}
	CU_ASSERT_STRING_EQUAL(fmt_schema_kind_name(SLUICE__SCHEMA_OBJECT__KIND__FOREIGN_KEY),
			       "foreign_key");
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("formats/fmt", NULL, NULL);
	CU_add_test(s, "sql integers", test_formats__sql_integers);
	CU_add_test(s, "sql floats round trip", test_formats__sql_floats_round_trip);
	CU_add_test(s, "sql strings are hex with charset", test_formats__sql_strings_are_hex_with_charset);
	CU_add_test(s, "sql decimal and temporal", test_formats__sql_decimal_and_temporal);
	CU_add_test(s, "timestamp str", test_formats__timestamp_str);
	CU_add_test(s, "sql enum and set", test_formats__sql_enum_set);
	CU_add_test(s, "sql ident", test_formats__sql_ident);
	CU_add_test(s, "text", test_formats__text);
	CU_add_test(s, "json", test_formats__json);
	CU_add_test(s, "json str invalid utf8", test_formats__json_str_invalid_utf8);
	CU_add_test(s, "json values are exact (bytes, charsets, unknown kinds)", test_formats__json_exact);
	CU_add_test(s, "record round trip", test_formats__record_round_trip);
	CU_add_test(s, "pack insert matches protobuf-c", test_formats__pack_insert_matches_protobuf);
	CU_add_test(s, "tables map", test_formats__tables_map);
	CU_add_test(s, "absent values (partial row images)", test_formats__absent);
	CU_add_test(s, "snapshot records render (schema sql, chunks)", test_formats__render_snapshot);
	CU_add_test(s, "schema object labels", test_formats__schema_object_label);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
