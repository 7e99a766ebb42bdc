/* test_snapshot.c - unit suite for the snapshot: column types and values as capture writes them, key literals and chunk boundaries (composite, string keys in their collation, skewed integer keys), chunk sizes, view order, foreign keys split out.
 * `test_snapshot --load DIR/snapshot URL` is the integration test's own reader: it creates the recorded definitions and inserts every chunk's rows (fmt_value_sql(), as replay renders values). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fmt.h"
#include "seg.h"
#include "snap.h"

static struct db_column dcol(const char *type, const char *ctype, const char *charset, int uns,
			     unsigned prec, unsigned scale, uint64_t maxlen, uint64_t octets)
{
	struct db_column c = { 0 };

	c.name = (char *)"c";
	c.data_type = (char *)type;
	c.column_type = (char *)ctype;
	c.charset = (char *)charset;
	c.collation = NULL;
	c.collation_id = charset ? 45 : 0;
	c.is_unsigned = uns;
	c.nullable = 1;
	c.precision = prec;
	c.scale = scale;
	c.max_len = maxlen;
	c.octet_len = octets;
	return c;
}

static void conv(const char *type, const char *ctype, const char *charset, int uns, const char *text,
		 const char *num, Sluice__Value *v, struct snap_col *c)
{
	struct db_column d = dcol(type, ctype, charset, uns, 6, 2, 10, 40);
	struct sl_err err = SL_ERR_INIT;

	snap_col_init(c, &d, 1);
	CU_ASSERT_EQUAL(snap_value_from_text(c, text, text ? strlen(text) : 0, num, v, &err), 0);
	if (err.code)
		fprintf(stderr, "\n  %s '%s': %s\n", type, text ? text : "NULL", err.msg);
}

static void sql_is(const Sluice__Value *v, const struct snap_col *c, const char *want)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);

	CU_ASSERT_EQUAL(fmt_value_sql(v, &c->def, &b), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), want);
	if (strcmp(sl_buf_cstr(&b), want))
		fprintf(stderr, "\n  got %s, want %s\n", sl_buf_cstr(&b), want);
	sl_buf_release(&b);
}

/* Integers short enough to skip strtoll() and the ones that take it give
 * what strtoll()/strtoull() give; what they refuse stays refused. */
static void test_snapshot__integers_either_path(void)
{
	static const char *const sgn[] = { "0", "-0", "7", "-7", "999999999999999999",
		"-999999999999999999", "1000000000000000000", "-1000000000000000000",
		"9223372036854775807", "-9223372036854775808", "0000000000000000000042" };
	static const char *const uns[] = { "0", "42", "999999999999999999", "1000000000000000000",
		"9999999999999999999", "18446744073709551615", "00000000000000000000000001" };
	static const char *const bad[] = { "-", "1-2", "12x", "9223372036854775808",
		"-9223372036854775809", "" };
	static const char *const ubad[] = { "-1", "-0", "18446744073709551616", "1.5", "x" };
	struct sl_err err = SL_ERR_INIT;
	struct snap_col c;
	Sluice__Value v;

	for (size_t i = 0; i < sizeof(sgn) / sizeof(sgn[0]); i++) {
		conv("bigint", "bigint(20)", NULL, 0, sgn[i], NULL, &v, &c);
		CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__INT);
		CU_ASSERT_EQUAL(v.i, strtoll(sgn[i], NULL, 10));
		CU_ASSERT_PTR_NULL(v.b.data);
		for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++)
			CU_ASSERT_EQUAL(snap_value_from_text(&c, bad[j], strlen(bad[j]), NULL, &v, &err),
					-SL_EFORMAT);
		snap_col_release(&c);
	}
	for (size_t i = 0; i < sizeof(uns) / sizeof(uns[0]); i++) {
		conv("bigint", "bigint(20) unsigned", NULL, 1, uns[i], NULL, &v, &c);
		CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__UINT);
		CU_ASSERT_EQUAL(v.u, strtoull(uns[i], NULL, 10));
		for (size_t j = 0; j < sizeof(ubad) / sizeof(ubad[0]); j++)
			CU_ASSERT_EQUAL(snap_value_from_text(&c, ubad[j], strlen(ubad[j]), NULL, &v, &err),
					-SL_EFORMAT);
		snap_col_release(&c);
	}
	conv("year", "year(4)", NULL, 0, "2155", NULL, &v, &c);
	CU_ASSERT(v.kind == SLUICE__VALUE__KIND__YEAR && v.u == 2155);
	snap_col_release(&c);
}

/* every type: the Value kind capture decodes, rendered back exactly */
static void test_snapshot__values(void)
{
	struct snap_col c;
	Sluice__Value v;

	conv("bigint", "bigint(20)", NULL, 0, "-9223372036854775808", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__INT);
	CU_ASSERT_EQUAL(v.i, INT64_MIN);
	CU_ASSERT_EQUAL(c.def.type, FMT_TYPE_LONGLONG);
	snap_col_release(&c);
	conv("bigint", "bigint(20) unsigned", NULL, 1, "18446744073709551615", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__UINT);
	CU_ASSERT_EQUAL(v.u, UINT64_MAX);
	CU_ASSERT_TRUE(c.def.is_unsigned);
	snap_col_release(&c);
	conv("tinyint", "tinyint(4)", NULL, 0, "-128", NULL, &v, &c);
	CU_ASSERT_EQUAL(c.def.type, FMT_TYPE_TINY);
	CU_ASSERT_EQUAL(v.i, -128);
	snap_col_release(&c);
	/* FLOAT is read as the exact DOUBLE of it */
	conv("float", "float", NULL, 0, "1.2345677614212036", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__FLOAT);
	CU_ASSERT_EQUAL(v.f, 1.2345678f);
	snap_col_release(&c);
	conv("double", "double", NULL, 0, "0.1", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.d, 0.1);
	snap_col_release(&c);
	/* the least subnormal DOUBLE as a server prints it: strtod() says
	 * ERANGE, the value is still exact */
	conv("double", "double", NULL, 0, "5e-324", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.d, 4.9406564584124654e-324);
	snap_col_release(&c);
	conv("double", "double", NULL, 0, "-2.2250738585072014e-308", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.d, -2.2250738585072014e-308);
	snap_col_release(&c);
	conv("decimal", "decimal(30,10)", NULL, 0, "-12345678901234567890.0123456789", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__DECIMAL);
	CU_ASSERT_EQUAL(c.def.type, FMT_TYPE_NEWDECIMAL);
	CU_ASSERT_EQUAL(c.def.meta, 6u << 8 | 2);
	sql_is(&v, &c, "-12345678901234567890.0123456789");
	snap_col_release(&c);
	conv("date", "date", NULL, 0, "0000-00-00", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__DATE);
	sql_is(&v, &c, "'0000-00-00'");
	snap_col_release(&c);
	conv("time", "time(3)", NULL, 0, "-838:59:59.000", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__TIME);
	CU_ASSERT_EQUAL(c.def.type, FMT_TYPE_TIME2);
	sql_is(&v, &c, "'-838:59:59.000'");
	snap_col_release(&c);
	conv("datetime", "datetime(6)", NULL, 0, "2024-02-29 23:59:59.000001", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__DATETIME);
	CU_ASSERT_EQUAL(c.def.precision, 6);
	snap_col_release(&c);
	conv("timestamp", "timestamp(6)", NULL, 0, "2038-01-19 03:14:08.500000", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__TIMESTAMP);
	CU_ASSERT_EQUAL(v.i, 2147483648LL);
	CU_ASSERT_EQUAL(v.usec, 500000);
	sql_is(&v, &c, "'2038-01-19 03:14:08.500000'");
	snap_col_release(&c);
	conv("timestamp", "timestamp", NULL, 0, "0000-00-00 00:00:00", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.i, 0);
	CU_ASSERT_EQUAL(v.usec, 0);
	snap_col_release(&c);
	conv("year", "year(4)", NULL, 0, "0000", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__YEAR);
	CU_ASSERT_EQUAL(v.u, 0);
	snap_col_release(&c);
	conv("bit", "bit(10)", NULL, 0, "\x02\xff", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__BIT);
	CU_ASSERT_EQUAL(v.u, 0x2ff);
	snap_col_release(&c);
	conv("enum", "enum('a','it''s','c')", "utf8mb4", 0, "it's", "2", &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__ENUM);
	CU_ASSERT_EQUAL(v.u, 2);
	CU_ASSERT_TRUE(v.has_b);
	CU_ASSERT_EQUAL(c.nlabels, 3);
	CU_ASSERT_EQUAL(c.labels[1].len, 4);
	CU_ASSERT_EQUAL(memcmp(c.labels[1].data, "it's", 4), 0);
	CU_ASSERT_EQUAL(c.def.type, FMT_TYPE_STRING);
	CU_ASSERT_EQUAL(c.def.meta, (uint32_t)FMT_TYPE_ENUM << 8 | 1);
	sql_is(&v, &c, "_utf8mb4 X'69742773'");
	snap_col_release(&c);
	conv("set", "set('x','y','z')", "utf8mb4", 0, "x,z", "5", &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__SET);
	CU_ASSERT_EQUAL(v.u, 5);
	snap_col_release(&c);
	conv("varchar", "varchar(10)", "latin1", 0, "caf\xe9", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__STRING);
	CU_ASSERT_STRING_EQUAL(c.def.charset, "latin1");
	CU_ASSERT_EQUAL(c.def.meta, 40);	/* the octet length, as TABLE_MAP has it */
	sql_is(&v, &c, "_latin1 X'636166E9'");
	snap_col_release(&c);
	conv("varbinary", "varbinary(10)", NULL, 0, "a\x01", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__BYTES);
	CU_ASSERT_EQUAL(c.def.collation, 63);
	sql_is(&v, &c, "X'6101'");
	snap_col_release(&c);
	conv("longtext", "longtext", "utf8mb4", 0, "{\"k\": 1}", NULL, &v, &c);	/* MariaDB JSON */
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__STRING);
	CU_ASSERT_EQUAL(c.def.type, FMT_TYPE_BLOB);
	CU_ASSERT_EQUAL(c.def.meta, 4);
	snap_col_release(&c);
	conv("point", "point", NULL, 0, "\0\0\0\0\x01", NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__GEOMETRY);
	snap_col_release(&c);
	conv("int", "int(11)", NULL, 0, NULL, NULL, &v, &c);
	CU_ASSERT_EQUAL(v.kind, SLUICE__VALUE__KIND__NULL);
	snap_col_release(&c);
	{	/* text that cannot be the type's is refused, naming the column */
		struct db_column d = dcol("int", "int(11)", NULL, 0, 0, 0, 0, 0);
		struct sl_err err = SL_ERR_INIT;

		snap_col_init(&c, &d, 1);
		CU_ASSERT_EQUAL(snap_value_from_text(&c, "12x", 3, NULL, &v, &err), -SL_EFORMAT);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "column `c`"));
		snap_col_release(&c);
	}
	{	/* CHAR(100) utf8mb4: 400 bytes, TABLE_MAP's split length encoding */
		struct db_column d = dcol("char", "char(100)", "utf8mb4", 0, 0, 0, 100, 400);

		snap_col_init(&c, &d, 1);
		CU_ASSERT_EQUAL(c.def.meta, (uint32_t)(FMT_TYPE_STRING ^ ((400 & 0x300) >> 4)) << 8 | (400 & 0xff));
		snap_col_release(&c);
	}
}

static void lit_is(const char *type, const char *charset, const char *v, size_t n, const char *want)
{
	struct db_column d = dcol(type, type, charset, 0, 0, 0, 10, 40);
	struct snap_col c;
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);

	snap_col_init(&c, &d, 1);
	if (want) {
		CU_ASSERT_EQUAL(snap_key_literal(&c, &b, v, (unsigned long)n), 0);
		CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), want);
	} else {
		CU_ASSERT_NOT_EQUAL(snap_key_literal(&c, &b, v, (unsigned long)n), 0);
	}
	sl_buf_release(&b);
	snap_col_release(&c);
}

/* key values as literals that compare in the column's own collation */
static void test_snapshot__key_literals(void)
{
	lit_is("int", NULL, "-42", 3, "-42");
	lit_is("decimal", NULL, "1.50", 4, "1.50");
	lit_is("varchar", "utf8mb4", "B'1", 3, "_utf8mb4 X'422731'");
	lit_is("char", "latin1", "\xe9", 1, "_latin1 X'E9'");
	lit_is("varbinary", NULL, "\x00\xff", 2, "X'00FF'");
	lit_is("datetime", NULL, "2024-01-01 10:00:00.5", 21, "'2024-01-01 10:00:00.5'");
	lit_is("int", NULL, "1 OR 1", 6, NULL);	/* never SQL from a value */
	lit_is("date", NULL, "2024'", 5, NULL);
	lit_is("float", NULL, "1.5", 3, NULL);	/* no exact ranges over FLOAT keys */
}

struct keyfix {
	struct snap_col col[2];
};

static int lit2(void *arg, size_t k, struct sl_buf *out, const char *v, unsigned long len)
{
	struct keyfix *f = arg;

	return snap_key_literal(&f->col[k], out, v, len);
}

/* chunk boundaries over a composite key (int, string in its collation) */
static void test_snapshot__boundaries(void)
{
	struct db_column a = dcol("int", "int(11)", NULL, 0, 0, 0, 0, 0);
	struct db_column b = dcol("varchar", "varchar(20)", "utf8mb4", 0, 0, 0, 20, 80);
	struct keyfix f;
	const char *ident[] = { "`a`", "`b`" };
	struct db_key k = { 2, ident, lit2, &f };
	char *lo_v[] = { (char *)"3", (char *)"k1" }, *hi_v[] = { (char *)"7", (char *)"Z" };
	unsigned long lo_l[] = { 1, 2 }, hi_l[] = { 1, 1 };
	struct db_key_val lo = { lo_v, lo_l }, hi = { hi_v, hi_l }, none = { 0 };
	struct sl_buf w = SL_BUF_INIT(SL_BUF_UNLIMITED);

	snap_col_init(&f.col[0], &a, 1);
	snap_col_init(&f.col[1], &b, 1);
	CU_ASSERT_EQUAL(db_key_range_where(&w, &k, &lo, &hi), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&w),
		"(`a` > 3 OR (`a` = 3 AND `b` > _utf8mb4 X'6B31')) AND "
		"(`a` < 7 OR (`a` = 7 AND `b` <= _utf8mb4 X'5A'))");
	sl_buf_reset(&w);
	CU_ASSERT_EQUAL(db_key_range_where(&w, &k, &none, &hi), 0);	/* the first range */
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&w), "(`a` < 7 OR (`a` = 7 AND `b` <= _utf8mb4 X'5A'))");
	sl_buf_reset(&w);
	CU_ASSERT_EQUAL(db_key_range_where(&w, &k, &lo, &none), 0);	/* the last range */
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&w), "(`a` > 3 OR (`a` = 3 AND `b` > _utf8mb4 X'6B31'))");
	sl_buf_reset(&w);
	CU_ASSERT_EQUAL(db_key_range_where(&w, &k, &none, &none), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&w), "1");
	sl_buf_release(&w);
	snap_col_release(&f.col[0]);
	snap_col_release(&f.col[1]);

	/* skew: integer keys with a huge gap are walked, not cut by arithmetic */
	CU_ASSERT_TRUE(snap_int_key_dense(1, 100000, 100000));
	CU_ASSERT_TRUE(snap_int_key_dense(1, 150000, 100000));	/* gaps of a few values */
	CU_ASSERT_FALSE(snap_int_key_dense(1, (__int128)1000000000000000LL, 2000));
	CU_ASSERT_FALSE(snap_int_key_dense(-(__int128)9223372036854775807LL, 9223372036854775807LL, 10));
	CU_ASSERT_TRUE(snap_int_key_dense(5, 5, 0));
	CU_ASSERT_TRUE(snap_int_key_dense(7, 3, 0));	/* empty */
}

/* chunk sizes: from the statistics, towards the target time, bounded */
static void test_snapshot__sizes(void)
{
	CU_ASSERT_EQUAL(snap_chunk_rows_first(100), (4u << 20) / 100);
	CU_ASSERT_EQUAL(snap_chunk_rows_first(0), (4u << 20) / 256);
	CU_ASSERT_EQUAL(snap_chunk_rows_first(64ull << 20), 1);	/* huge rows: one at a time */
	CU_ASSERT_EQUAL(snap_chunk_rows_next(1000, 100, 100000, 500), 2000);	/* at most x2 */
	CU_ASSERT_EQUAL(snap_chunk_rows_next(1000, 250, 100000, 500), 2000);
	CU_ASSERT_EQUAL(snap_chunk_rows_next(1000, 400, 100000, 500), 1250);
	CU_ASSERT_EQUAL(snap_chunk_rows_next(1000, 5000, 100000, 500), 500);	/* at least /2 */
	CU_ASSERT_EQUAL(snap_chunk_rows_next(1000, 0, 0, 500), 2000);
	/* 8 MiB of rows at most: 1000 rows of 8 KiB took 1 ms -> 1024, not 2000 */
	CU_ASSERT_EQUAL(snap_chunk_rows_next(1000, 1, 8192000, 500), (8u << 20) / 8192);
	CU_ASSERT_EQUAL(snap_chunk_rows_next(1, 10000, 10, 500), 1);
}

static void test_snapshot__views_fks(void)
{
	const char *db[] = { "d", "d", "d", "e" };
	const char *name[] = { "v0", "v1", "v2", "w" };
	const char *def[] = { "select `d`.`v1`.`a` from `d`.`v1`", "select `a` from `d`.`t`",
			      "select * from `v0` join `e`.`w`", "select 1" };
	size_t order[4];

	db_views_order(4, db, name, def, order);
	CU_ASSERT_EQUAL(order[0], 1);	/* v1 first: v0 uses it */
	CU_ASSERT_EQUAL(order[1], 3);	/* w uses nothing */
	CU_ASSERT_EQUAL(order[2], 0);	/* v0 after v1 */
	CU_ASSERT_EQUAL(order[3], 2);	/* v2 after v0 and w */
	{	/* a cycle keeps the given order instead of looping */
		const char *cdef[] = { "select * from `d`.`v1`", "select * from `d`.`v0`" };

		db_views_order(2, db, name, cdef, order);
		CU_ASSERT_EQUAL(order[0], 0);
		CU_ASSERT_EQUAL(order[1], 1);
	}
	/* the patterns snapshot shares with verify */
	CU_ASSERT_TRUE(sl_table_selected(NULL, NULL, "a", "b"));
	CU_ASSERT_TRUE(sl_table_selected("shop.*", NULL, "shop", "t"));
	CU_ASSERT_FALSE(sl_table_selected("shop.*", "%.tmp%", "shop", "tmp1"));
	CU_ASSERT_FALSE(sl_table_selected("shop", NULL, "other", "t"));
}

/* ---- the integration test's reader: definitions and rows into a server ---- */

static int load(const char *sdir, const char *url)
{
	struct sl_dsn dsn = { 0 };
	struct sl_err err = SL_ERR_INIT;
	struct db_opts o = { .role = DB_ROLE_REPLAY_CONTROL,
			     .sql_mode = "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION" };
	struct seg_reader *r = NULL;
	struct fmt_tables tables;
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL *m = NULL;
	const Sluice__TableDef *td = NULL;
	uint64_t rows = 0, chunks = 0;
	int rc, n = 0;

	fmt_tables_init(&tables);
	if ((rc = sl_dsn_parse(&dsn, url, "SLUICE_DEST_PASSWORD", &err)) ||
	    (rc = db_connect(&m, &dsn, &o, &err)) || (rc = seg_reader_open(&r, sdir, &err)))
		goto out;
	for (;;) {
		Sluice__Record *rec;
		struct seg_cursor cur;

		if ((rc = seg_reader_next(r, &rec, &cur, &err)) <= 0)
			break;
		rc = 0;
		sl_buf_reset(&q);
		switch (rec->body_case) {
		case SLUICE__RECORD__BODY_SCHEMA:
			if (rec->schema->deferred) {	/* created at switchover: listed */
				printf("deferred %d `%s`.`%s` on `%s`: %s\n", (int)rec->schema->kind,
				       rec->schema->db, rec->schema->name, rec->schema->table,
				       rec->schema->statement);
				break;
			}
			if (rec->schema->kind != SLUICE__SCHEMA_OBJECT__KIND__DATABASE) {
				sl_buf_adds(&q, "USE ");
				fmt_sql_ident(&q, rec->schema->db);
				sl_buf_adds(&q, ";");
			}
			sl_buf_adds(&q, rec->schema->statement);
			rc = db_exec(m, "load", sl_buf_cstr(&q), &err);
			break;
		case SLUICE__RECORD__BODY_TABLE:
			fmt_tables_put(&tables, rec->table);
			break;
		case SLUICE__RECORD__BODY_CHUNK:
			td = fmt_tables_get(&tables, rec->chunk->table_ref);
			if (td && rec->chunk->restart) {	/* a keyless table read again */
				sl_buf_addf(&q, "DELETE FROM `%s`.`%s`", td->db, td->name);
				rc = db_exec(m, "load", sl_buf_cstr(&q), &err);
			}
			n = 0;
			break;
		case SLUICE__RECORD__BODY_ROW: {
			const Sluice__Row *row = rec->row->after;

			td = fmt_tables_get(&tables, rec->row->table_ref);
			sl_buf_addf(&q, "INSERT INTO `%s`.`%s` VALUES (", td->db, td->name);
			for (size_t i = 0; i < row->n_values && !rc; i++) {
				if (i)
					sl_buf_addc(&q, ',');
				rc = fmt_value_sql(row->values[i], td->columns[i], &q);
				if (rc)
					sl_err_set(&err, rc, "`%s`.`%s` column %s: value of kind %d has no SQL",
						   td->db, td->name, td->columns[i]->name, (int)row->values[i]->kind);
			}
			sl_buf_addc(&q, ')');
			if (!rc)
				rc = db_exec(m, "load", sl_buf_cstr(&q), &err);
			rows++;
			n++;
			break;
		}
		case SLUICE__RECORD__BODY_CHUNK_END:
			if ((uint64_t)n != rec->chunk_end->rows) {
				fprintf(stderr, "chunk says %llu rows, holds %d\n",
					(unsigned long long)rec->chunk_end->rows, n);
				rc = -1;
			}
			if (!rc)
				rc = db_exec(m, "load", "COMMIT", &err);
			chunks++;
			break;
		default:
			break;
		}
		fmt_record_free(rec);
		if (rc)
			break;
	}
	if (!rc)
		rc = db_exec(m, "load", "COMMIT", &err);
out:
	if (rc)
		fprintf(stderr, "load: %s\n", err.msg[0] ? err.msg : "failed");
	else
		printf("loaded %llu rows in %llu chunks\n", (unsigned long long)rows,
		       (unsigned long long)chunks);
	if (r)
		seg_reader_close(r);
	if (m)
		mysql_close(m);
	sl_dsn_release(&dsn);
	fmt_tables_release(&tables);
	sl_buf_release(&q);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned failed;

	if (argc == 4 && !strcmp(argv[1], "--load"))
		return load(argv[2], argv[3]);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("snapshot", NULL, NULL);
	CU_add_test(s, "every column type as capture writes it", test_snapshot__values);
	CU_add_test(s, "integers: the short path and strtoll agree", test_snapshot__integers_either_path);
	CU_add_test(s, "key literals in the column's collation", test_snapshot__key_literals);
	CU_add_test(s, "chunk boundaries: composite, string and skewed keys", test_snapshot__boundaries);
	CU_add_test(s, "chunk sizes", test_snapshot__sizes);
	CU_add_test(s, "views in dependency order; table patterns", test_snapshot__views_fks);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
