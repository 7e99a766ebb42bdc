/* test_verify.c - unit suite for verify/: patterns, maps, row-hash SQL, merge-join, SQL literals. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "ver.h"

static void test_verify__patterns(void)
{
	CU_ASSERT_TRUE(ver_pattern_match("shop.*", "shop", "orders"));
	CU_ASSERT_TRUE(ver_pattern_match("shop", "shop", "orders"));
	CU_ASSERT_FALSE(ver_pattern_match("shop", "shop2", "orders"));
	CU_ASSERT_TRUE(ver_pattern_match("shop.t%", "shop", "t1"));
	CU_ASSERT_FALSE(ver_pattern_match("shop.t%", "shop", "x1"));
	CU_ASSERT_TRUE(ver_pattern_match("%.orders", "any", "orders"));
	CU_ASSERT_TRUE(ver_pattern_match("s_op.o?ders", "shop", "orders"));
	CU_ASSERT_FALSE(ver_pattern_match("shop.orders", "shop", "Orders"));	/* case-sensitive */
	CU_ASSERT_TRUE(ver_pattern_match("a%b%c", "aXXbYYc", "t"));
	CU_ASSERT_FALSE(ver_pattern_match("a%b%c", "aXXbYY", "t"));
	CU_ASSERT_EQUAL(ver_patterns_match(NULL, "a", "b"), -1);
	CU_ASSERT_EQUAL(ver_patterns_match("x,y.*,a.b", "a", "b"), 1);
	CU_ASSERT_EQUAL(ver_patterns_match("x,y.*", "a", "b"), 0);
	CU_ASSERT_TRUE(ver_table_selected(NULL, NULL, "a", "b"));
	CU_ASSERT_TRUE(ver_table_selected("a", "a.c", "a", "b"));
	CU_ASSERT_FALSE(ver_table_selected("a", "a.b", "a", "b"));
	CU_ASSERT_FALSE(ver_table_selected("z", NULL, "a", "b"));
}

static void test_verify__map(void)
{
	char *s, *t;

	ver_map_name("a=b,a.x=c.y", "a", "t", &s, &t);
	CU_ASSERT_STRING_EQUAL(s, "b");
	CU_ASSERT_STRING_EQUAL(t, "t");
	free(s), free(t);
	ver_map_name("a.x=c.y,a=b", "a", "x", &s, &t);	/* table map wins */
	CU_ASSERT_STRING_EQUAL(s, "c");
	CU_ASSERT_STRING_EQUAL(t, "y");
	free(s), free(t);
	ver_map_name(NULL, "a", "x", &s, &t);
	CU_ASSERT_STRING_EQUAL(s, "a");
	CU_ASSERT_STRING_EQUAL(t, "x");
	free(s), free(t);
}

#define SEP "CAST(X'FF' AS BINARY)"
#define SEPC "X'FF' COLLATE `binary`"
#define MIX_A "(((CRC32(@ver_s:="
#define MIX_B ")*2654435761)<<32)|((CRC32C(@ver_s)*2246822519)&4294967295))"

static void test_verify__hash_sql(void)
{
	struct ver_hash_col cols[] = {
		{ "id", VER_ENC_NUM, 0, 0, 0, 0 },
		{ "v", VER_ENC_STR, 1, 0, 0, 0 },
		{ "f", VER_ENC_FLOAT, 1, 0, 0, 0 },
		{ "b`q", VER_ENC_BIG, 1, 0, 0, 0 },
		{ "l", VER_ENC_STR, 1, 1, 0, 0 },
		{ "bn", VER_ENC_BIN, 0, 0, 8, 0 },
	};
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	const char *s;

	/* values; a LENGTH for each string that may hold 0xFF (v: latin1, bn: binary) but the
	 * widest (bn, 8 > unknown), none for l (converted to utf8mb4); a flag per nullable column */
	CU_ASSERT_EQUAL_FATAL(ver_hash_sql(&b, cols, 6, 0), 0);
	s = sl_buf_cstr(&b);
	CU_ASSERT_STRING_EQUAL(s, "CAST(CONV(LEFT(MD5(CONCAT_WS(" SEP ",`id`,`v`,CAST(`f` AS DOUBLE),MD5(`b``q`),"
			       "CONVERT(`l` USING utf8mb4),`bn`,LENGTH(`v`),ISNULL(`v`),ISNULL(`f`),"
			       "ISNULL(`b``q`),ISNULL(`l`))),16),16,10) AS UNSIGNED)");
	sl_buf_reset(&b);
	/* one byte string: it needs no LENGTH */
	CU_ASSERT_EQUAL_FATAL(ver_hash_sql(&b, cols, 5, 0), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "CAST(CONV(LEFT(MD5(CONCAT_WS(" SEP ",`id`,`v`,CAST(`f` AS DOUBLE),"
			       "MD5(`b``q`),CONVERT(`l` USING utf8mb4),ISNULL(`v`),ISNULL(`f`),"
			       "ISNULL(`b``q`),ISNULL(`l`))),16),16,10) AS UNSIGNED)");
	sl_buf_reset(&b);
	CU_ASSERT_EQUAL_FATAL(ver_hash_sql(&b, cols, 1, 1), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), MIX_A "CONCAT_WS(" SEPC ",`id`)" MIX_B);
	sl_buf_reset(&b);
	{
		/* sysbench's table, NOT NULL everywhere */
		struct ver_hash_col sb[] = {
			{ "id", VER_ENC_NUM, 0, 0, 0, 0 }, { "k", VER_ENC_NUM, 0, 0, 0, 0 },
			{ "c", VER_ENC_STR, 0, 0, 120, 0 }, { "pad", VER_ENC_STR, 0, 0, 60, 0 },
		};

		/* latin1: c CHAR(120) is the widest, pad gets the LENGTH */
		CU_ASSERT_EQUAL_FATAL(ver_hash_sql(&b, sb, 4, 1), 0);
		CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), MIX_A "CONCAT_WS(" SEPC ",`id`,`k`,`c`,`pad`,"
				       "LENGTH(`pad`))" MIX_B);
		sl_buf_reset(&b);
		sb[3].maxlen = 120;	/* equal: the last one goes without */
		CU_ASSERT_EQUAL_FATAL(ver_hash_sql(&b, sb, 4, 1), 0);
		CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), MIX_A "CONCAT_WS(" SEPC ",`id`,`k`,`c`,`pad`,"
				       "LENGTH(`c`))" MIX_B);
		sl_buf_reset(&b);
		/* utf8mb4 (sysbench's default): no 0xFF inside, no LENGTH at all */
		sb[2].utf8 = sb[3].utf8 = 1;
		CU_ASSERT_EQUAL_FATAL(ver_hash_sql(&b, sb, 4, 1), 0);
		CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), MIX_A "CONCAT_WS(" SEPC ",`id`,`k`,`c`,`pad`)" MIX_B);
		sl_buf_reset(&b);
		/* converted (charsets differ): utf8mb4 too */
		sb[2].utf8 = sb[3].utf8 = 0;
		sb[2].convert = sb[3].convert = 1;
		CU_ASSERT_EQUAL_FATAL(ver_hash_sql(&b, sb, 4, 1), 0);
		CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), MIX_A "CONCAT_WS(" SEPC ",`id`,`k`,"
				       "CONVERT(`c` USING utf8mb4),CONVERT(`pad` USING utf8mb4))" MIX_B);
	}
	sl_buf_release(&b);
	CU_ASSERT_EQUAL(ver_enc_of("varchar"), VER_ENC_STR);
	CU_ASSERT_EQUAL(ver_enc_of("longblob"), VER_ENC_BIG);
	CU_ASSERT_EQUAL(ver_enc_of("json"), VER_ENC_BIG);
	CU_ASSERT_EQUAL(ver_enc_of("bit"), VER_ENC_BIN);
	CU_ASSERT_EQUAL(ver_enc_of("double"), VER_ENC_FLOAT);
	CU_ASSERT_EQUAL(ver_enc_of("datetime"), VER_ENC_TEMPORAL);
	CU_ASSERT_EQUAL(ver_enc_of("bigint"), VER_ENC_NUM);
}

/* A synthetic stream: rows of 3 items (key, value, nothing else). */
struct arr {
	const char *(*rows)[2];
	size_t n, i;
	unsigned long len[2];
};

static int arr_next(void *ctx, struct ver_row *row, struct sl_err *err)
{
	struct arr *a = ctx;

	(void)err;
	if (a->i == a->n)
		return 0;
	row->item = a->rows[a->i];
	for (int k = 0; k < 2; k++)
		a->len[k] = a->rows[a->i][k] ? strlen(a->rows[a->i][k]) : 0;
	row->len = a->len;
	a->i++;
	return 1;
}

struct seen {
	char log[512];
};

static int record(void *arg, enum ver_kind kind, const struct ver_row *src, const struct ver_row *dst,
		  struct sl_err *err)
{
	struct seen *s = arg;
	const struct ver_row *r = src ? src : dst;
	size_t n = strlen(s->log);

	(void)err;
	snprintf(s->log + n, sizeof(s->log) - n, "%s:%s ", ver_kind_name(kind), r->item[0]);
	return 0;
}

static void test_verify__merge(void)
{
	static const enum ver_cmp cmp[] = { VER_CMP_INT };
	const char *src[][2] = { { "-10", "a" }, { "-2", "b" }, { "3", "c" }, { "9", NULL },
				 { "10", "e" }, { "100", "f" } };
	const char *dst[][2] = { { "-10", "a" }, { "3", "C" }, { "4", "x" }, { "9", "" },
				 { "10", "e" }, { "1000", "g" } };
	struct arr a = { src, 6, 0, { 0 } }, b = { dst, 6, 0, { 0 } };
	struct ver_cursor ca = { arr_next, &a }, cb = { arr_next, &b };
	struct ver_shape s = { 1, 1, cmp };
	struct seen seen = { { 0 } };
	struct sl_err err = SL_ERR_INIT;

	CU_ASSERT_EQUAL(ver_merge(&s, &ca, &cb, record, &seen, &err), 0);
	CU_ASSERT_STRING_EQUAL(seen.log, "missing:-2 changed:3 extra:4 changed:9 missing:100 extra:1000 ");
	/* empty against non-empty */
	a.n = 0, a.i = 0, b.i = 0;
	seen.log[0] = 0;
	CU_ASSERT_EQUAL(ver_merge(&s, &ca, &cb, record, &seen, &err), 0);
	CU_ASSERT_STRING_EQUAL(seen.log, "extra:-10 extra:3 extra:4 extra:9 extra:10 extra:1000 ");
}

static void test_verify__key_cmp(void)
{
	static const enum ver_cmp ci[] = { VER_CMP_INT }, cd[] = { VER_CMP_DEC }, cb[] = { VER_CMP_BYTES };
	struct ver_shape si = { 1, 0, ci }, sd = { 1, 0, cd }, sb = { 1, 0, cb };
	const char *x[1], *y[1];
	unsigned long lx[1], ly[1];
	struct ver_row a = { x, lx }, b = { y, ly };
#define SET(u, v) (x[0] = (u), y[0] = (v), lx[0] = strlen(u), ly[0] = strlen(v))

	SET("-5", "3");
	CU_ASSERT_TRUE(ver_key_cmp(&si, &a, &b) < 0);
	SET("-5", "-30");
	CU_ASSERT_TRUE(ver_key_cmp(&si, &a, &b) > 0);
	SET("18446744073709551615", "9223372036854775807");
	CU_ASSERT_TRUE(ver_key_cmp(&si, &a, &b) > 0);
	SET("10", "9");
	CU_ASSERT_TRUE(ver_key_cmp(&si, &a, &b) > 0);
	SET("1.50", "1.05");
	CU_ASSERT_TRUE(ver_key_cmp(&sd, &a, &b) > 0);
	SET("-0.50", "0.10");
	CU_ASSERT_TRUE(ver_key_cmp(&sd, &a, &b) < 0);
	SET("ab", "abc");
	CU_ASSERT_TRUE(ver_key_cmp(&sb, &a, &b) < 0);
	SET("7", "7");
	CU_ASSERT_EQUAL(ver_key_cmp(&si, &a, &b), 0);
	x[0] = NULL;	/* NULL sorts first */
	CU_ASSERT_TRUE(ver_key_cmp(&sb, &a, &b) < 0);
#undef SET
}

static void lit(enum ver_lit l, const char *cs, const char *v, unsigned long n, const char *want)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);

	CU_ASSERT_EQUAL(ver_sql_literal(&b, l, cs, v, n), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), want);
	sl_buf_release(&b);
}

static void test_verify__literals(void)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	const char geo[] = { 0, 0, 0, 0, 1, 2 };

	lit(VER_LIT_NUM, NULL, "-9223372036854775808", 20, "-9223372036854775808");
	lit(VER_LIT_FLOAT, NULL, "0.1", 3, "0.1e0");
	lit(VER_LIT_FLOAT, NULL, "1e300", 5, "1e300");
	lit(VER_LIT_TEMPORAL, NULL, "2024-01-01 00:00:00.000001", 26, "'2024-01-01 00:00:00.000001'");
	lit(VER_LIT_STR, "latin1", "a' ", 3, "_latin1 X'612720'");
	lit(VER_LIT_STR, "utf8mb4", "", 0, "_utf8mb4 ''");
	lit(VER_LIT_STR, "bad cs;", "A", 1, "_utf8mb4 X'41'");
	lit(VER_LIT_BIN, NULL, "\0\xff", 2, "X'00FF'");
	lit(VER_LIT_JSON, NULL, "{}", 2, "CAST(_utf8mb4 X'7B7D' AS JSON)");
	lit(VER_LIT_GEOM, NULL, geo, 6, "ST_GeomFromWKB(X'0102', 0)");
	lit(VER_LIT_NUM, NULL, NULL, 0, "NULL");
	CU_ASSERT_NOT_EQUAL(ver_sql_literal(&b, VER_LIT_NUM, NULL, "1;DROP", 6), 0);
	CU_ASSERT_NOT_EQUAL(ver_sql_literal(&b, VER_LIT_TEMPORAL, NULL, "1'", 2), 0);
	sl_buf_reset(&b);
	ver_value_show(&b, "abcdefgh", 8, 0, 4);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "'abcd'...(8 bytes)");
	sl_buf_reset(&b);
	ver_value_show(&b, "\x01\x02", 2, 1, 64);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "0x0102");
	sl_buf_reset(&b);
	ver_value_show(&b, NULL, 0, 0, 64);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "NULL");
	sl_buf_release(&b);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("verify", NULL, NULL);
	CU_add_test(s, "include/exclude patterns", test_verify__patterns);
	CU_add_test(s, "name maps", test_verify__map);
	CU_add_test(s, "row-hash SQL", test_verify__hash_sql);
	CU_add_test(s, "merge-join finds missing, extra, changed", test_verify__merge);
	CU_add_test(s, "key ordering", test_verify__key_cmp);
	CU_add_test(s, "exact SQL literals and shown values", test_verify__literals);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
