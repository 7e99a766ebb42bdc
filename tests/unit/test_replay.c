/* test_replay.c - CUnit suite for replay/: SQL text of row changes, checkpoint statements, sql_mode names. */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rep_int.h"
#include "banned.h"

/* A table `d`.`t` (id INT, name VARCHAR latin1, f FLOAT) with primary key pk. */
static Sluice__ColumnDef col_id = SLUICE__COLUMN_DEF__INIT, col_name = SLUICE__COLUMN_DEF__INIT,
			 col_f = SLUICE__COLUMN_DEF__INIT;
static Sluice__ColumnDef *cols[3] = { &col_id, &col_name, &col_f };
static uint32_t pk1[1] = { 0 }, pk2[2] = { 0, 1 };

static void table(Sluice__TableDef *td, size_t npk)
{
	Sluice__TableDef init = SLUICE__TABLE_DEF__INIT;

	*td = init;
	col_id.name = "id";
	col_name.name = "na`me";
	col_name.charset = "latin1";
	col_f.name = "f";
	td->ref = 3;
	td->db = "d";
	td->name = "t";
	td->n_columns = 3;
	td->columns = cols;
	td->n_primary_key = npk;
	td->primary_key = npk == 2 ? pk2 : pk1;
}

struct row3 {
	Sluice__Row row;
	Sluice__Value v[3];
	Sluice__Value *p[3];
};

static Sluice__Row *row(struct row3 *r, int64_t id, const char *name, float f)
{
	Sluice__Row ri = SLUICE__ROW__INIT;
	Sluice__Value vi = SLUICE__VALUE__INIT;

	r->row = ri;
	for (int i = 0; i < 3; i++) {
		r->v[i] = vi;
		r->p[i] = &r->v[i];
	}
	r->v[0].kind = SLUICE__VALUE__KIND__INT;
	r->v[0].i = id;
	if (name) {
		r->v[1].kind = SLUICE__VALUE__KIND__STRING;
		r->v[1].b.data = (uint8_t *)name;
		r->v[1].b.len = strlen(name);
	}
	r->v[2].kind = SLUICE__VALUE__KIND__FLOAT;
	r->v[2].f = f;
	r->row.n_values = 3;
	r->row.values = r->p;
	return &r->row;
}

static int buf_is(struct sl_buf *b, const char *want)
{
	const char *got = sl_buf_cstr(b);
	int ok = strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "\n  got  [%s]\n  want [%s]\n", got, want);
	CU_ASSERT(b->len <= b->max);
	sl_buf_reset(b);
	return ok;
}

static void test_replay__insert_multi_row(void)
{
	Sluice__TableDef td;
	struct row3 a, b2;
	struct sl_buf b = SL_BUF_INIT(1 << 20);

	table(&td, 1);
	CU_ASSERT_EQUAL(rep__sql_insert_head(&b, &td), 0);
	CU_ASSERT_EQUAL(rep__sql_row_tuple(&b, &td, row(&a, 1, "x", 0.5f)), 0);
	CU_ASSERT_EQUAL(sl_buf_addc(&b, ','), 0);
	CU_ASSERT_EQUAL(rep__sql_row_tuple(&b, &td, row(&b2, -2, NULL, 0.1f)), 0);
	CU_ASSERT(buf_is(&b, "INSERT INTO `d`.`t` (`id`,`na``me`,`f`) VALUES "
			 "(1,_latin1 X'78',0.5),(-2,NULL,0.1)"));
	/* a row with the wrong number of values is refused */
	a.row.n_values = 2;
	CU_ASSERT_EQUAL(rep__sql_row_tuple(&b, &td, &a.row), -SL_EINVAL_ARG);
	sl_buf_release(&b);
}

static void test_replay__update_by_pk(void)
{
	Sluice__TableDef td;
	struct row3 before, after;
	struct sl_buf b = SL_BUF_INIT(1 << 20);

	table(&td, 1);
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, row(&before, 1, "x", 1.0f), row(&after, 2, "y", 2.0f)), 0);
	CU_ASSERT(buf_is(&b, "UPDATE `d`.`t` SET `id`=2,`na``me`=_latin1 X'79',`f`=2 WHERE `id`=1"));
	table(&td, 2);
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, row(&before, 1, "x", 1.0f), row(&after, 1, "x", 3.0f)), 0);
	/* only the changed columns are set */
	CU_ASSERT(buf_is(&b, "UPDATE `d`.`t` SET `f`=3 WHERE `id`=1 AND `na``me`=_latin1 X'78'"));
	/* nothing changed: a no-op assignment still matches the row */
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, row(&before, 1, "x", 1.0f), row(&after, 1, "x", 1.0f)), 0);
	CU_ASSERT(buf_is(&b, "UPDATE `d`.`t` SET `id`=`id` WHERE `id`=1 AND `na``me`=_latin1 X'78'"));
	/* a DATETIME/TIMESTAMP column is always set (ON UPDATE CURRENT_TIMESTAMP) */
	uint32_t type = td.columns[2]->type;

	td.columns[2]->type = 18;
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, row(&before, 1, "x", 1.0f), row(&after, 1, "y", 1.0f)), 0);
	CU_ASSERT(buf_is(&b, "UPDATE `d`.`t` SET `na``me`=_latin1 X'79',`f`=1 WHERE `id`=1 AND `na``me`=_latin1 X'78'"));
	td.columns[2]->type = type;
	sl_buf_release(&b);
}

static void test_replay__no_pk_uses_null_safe_compare_and_limit(void)
{
	Sluice__TableDef td;
	struct row3 before, after;
	struct sl_buf b = SL_BUF_INIT(1 << 20);

	table(&td, 0);
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, row(&before, 1, NULL, 0.1f), row(&after, 1, "z", 0.1f)), 0);
	/* FLOAT compares with the exact double of the float, not its 9-digit form */
	CU_ASSERT(buf_is(&b, "UPDATE `d`.`t` SET `na``me`=_latin1 X'7A' "
			 "WHERE `id`<=>1 AND `na``me`<=>NULL AND `f`<=>0.10000000149011612 LIMIT 1"));
	CU_ASSERT_EQUAL(rep__sql_delete_one(&b, &td, row(&before, 5, "", 0)), 0);
	CU_ASSERT(buf_is(&b, "DELETE FROM `d`.`t` WHERE `id`<=>5 AND `na``me`<=>_latin1 '' "
			 "AND `f`<=>0 LIMIT 1"));
	CU_ASSERT_EQUAL(rep__sql_delete_in_head(&b, &td), -SL_EINVAL_ARG);
	sl_buf_release(&b);
}

static void test_replay__delete_batched_by_pk(void)
{
	Sluice__TableDef td;
	struct row3 a, c;
	struct sl_buf b = SL_BUF_INIT(1 << 20);

	table(&td, 1);
	CU_ASSERT_EQUAL(rep__sql_delete_in_head(&b, &td), 0);
	CU_ASSERT_EQUAL(rep__sql_pk_tuple(&b, &td, row(&a, 1, "x", 0)), 0);
	CU_ASSERT_EQUAL(sl_buf_addc(&b, ','), 0);
	CU_ASSERT_EQUAL(rep__sql_pk_tuple(&b, &td, row(&c, 3, "y", 0)), 0);
	CU_ASSERT_EQUAL(sl_buf_addc(&b, ')'), 0);
	CU_ASSERT(buf_is(&b, "DELETE FROM `d`.`t` WHERE `id` IN (1,3)"));
	table(&td, 2);
	CU_ASSERT_EQUAL(rep__sql_delete_in_head(&b, &td), 0);
	CU_ASSERT_EQUAL(rep__sql_pk_tuple(&b, &td, row(&a, 1, "x", 0)), 0);
	CU_ASSERT_EQUAL(sl_buf_addc(&b, ','), 0);
	CU_ASSERT_EQUAL(rep__sql_pk_tuple(&b, &td, row(&c, 3, "y", 0)), 0);
	CU_ASSERT_EQUAL(sl_buf_addc(&b, ')'), 0);
	CU_ASSERT(buf_is(&b, "DELETE FROM `d`.`t` WHERE (`id`,`na``me`) IN "
			 "((1,_latin1 X'78'),(3,_latin1 X'79'))"));
	/* a primary key naming a column that does not exist is refused */
	pk2[1] = 9;
	CU_ASSERT_EQUAL(rep__sql_delete_in_head(&b, &td), -SL_EINVAL_ARG);
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, &a.row, &a.row), -SL_EINVAL_ARG);
	pk2[1] = 1;
	sl_buf_release(&b);
}

/* Mark columns of r absent from its image (a partial row image: MINIMAL). */
static Sluice__Row *absent(struct row3 *r, int c0, int c1)
{
	r->v[c0].kind = SLUICE__VALUE__KIND__ABSENT;
	if (c1 >= 0)
		r->v[c1].kind = SLUICE__VALUE__KIND__ABSENT;
	return &r->row;
}

/* row() with columns c0 and c1 (-1: none) absent. */
static Sluice__Row *prow(struct row3 *r, int64_t id, const char *name, float f, int c0, int c1)
{
	row(r, id, name, f);
	return absent(r, c0, c1);
}

static void test_replay__partial_images(void)
{
	Sluice__TableDef td;
	struct row3 a, c;
	struct sl_buf b = SL_BUF_INIT(1 << 20), s1 = SL_BUF_INIT(64), s2 = SL_BUF_INIT(64);

	table(&td, 1);
	/* INSERT: only the present columns, head and tuple alike */
	CU_ASSERT_EQUAL(rep__sql_insert_head_row(&b, &td, prow(&a, 1, "x", 0, 2, -1)), 0);
	CU_ASSERT_EQUAL(rep__sql_row_tuple(&b, &td, &a.row), 0);
	CU_ASSERT(buf_is(&b, "INSERT INTO `d`.`t` (`id`,`na``me`) VALUES (1,_latin1 X'78')"));
	/* ... an absent column is not NULL: a NULL one is named */
	CU_ASSERT_EQUAL(rep__sql_insert_head_row(&b, &td, prow(&a, 1, NULL, 0, 2, -1)), 0);
	CU_ASSERT_EQUAL(rep__sql_row_tuple(&b, &td, &a.row), 0);
	CU_ASSERT(buf_is(&b, "INSERT INTO `d`.`t` (`id`,`na``me`) VALUES (1,NULL)"));
	/* ... a FULL row (or none given) names every column */
	CU_ASSERT_EQUAL(rep__sql_insert_head_row(&b, &td, row(&a, 1, "x", 0)), 0);
	CU_ASSERT(buf_is(&b, "INSERT INTO `d`.`t` (`id`,`na``me`,`f`) VALUES "));
	CU_ASSERT_EQUAL(rep__sql_insert_head_row(&b, &td, NULL), 0);
	CU_ASSERT(buf_is(&b, "INSERT INTO `d`.`t` (`id`,`na``me`,`f`) VALUES "));
	/* ... and no column at all is still a valid INSERT */
	row(&a, 1, "x", 0);
	absent(&a, 0, 1);
	absent(&a, 2, -1);
	CU_ASSERT_EQUAL(rep__sql_insert_head_row(&b, &td, &a.row), 0);
	CU_ASSERT_EQUAL(rep__sql_row_tuple(&b, &td, &a.row), 0);
	CU_ASSERT(buf_is(&b, "INSERT INTO `d`.`t` () VALUES ()"));

	/* shapes: empty for FULL rows, a bitmap otherwise; equal shapes batch */
	CU_ASSERT_EQUAL(rep__row_shape(&s1, &td, row(&a, 1, "x", 0)), 0);
	CU_ASSERT_EQUAL(s1.len, 0);
	CU_ASSERT_EQUAL(rep__row_shape(&s1, &td, prow(&a, 1, "x", 0, 1, -1)), 0);
	CU_ASSERT_EQUAL(s1.len, 1);
	CU_ASSERT_EQUAL(s1.data[0], 0x05);
	CU_ASSERT_EQUAL(rep__row_shape(&s2, &td, prow(&c, 9, NULL, 2, 1, -1)), 0);
	CU_ASSERT(s1.len == s2.len && memcmp(s1.data, s2.data, s1.len) == 0);
	sl_buf_reset(&s2);
	CU_ASSERT_EQUAL(rep__row_shape(&s2, &td, prow(&c, 9, NULL, 2, 2, -1)), 0);
	CU_ASSERT(memcmp(s1.data, s2.data, s1.len) != 0);

	/* UPDATE (MINIMAL): SET the after image's present columns, WHERE the key */
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, prow(&a, 1, NULL, 0, 1, 2),
					prow(&c, 1, NULL, 2.5f, 0, 1)), 0);
	CU_ASSERT(buf_is(&b, "UPDATE `d`.`t` SET `f`=2.5 WHERE `id`=1"));
	/* ... NOBLOB-like: the before image has more than the key: still the key */
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, prow(&a, 1, "x", 0, 2, -1),
					prow(&c, 2, "y", 0, 2, -1)), 0);
	CU_ASSERT(buf_is(&b, "UPDATE `d`.`t` SET `id`=2,`na``me`=_latin1 X'79' WHERE `id`=1"));
	/* ... an empty after image: a no-op that still matches its row */
	row(&c, 1, "x", 0);
	absent(&c, 0, 1);
	absent(&c, 2, -1);
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, prow(&a, 7, NULL, 0, 1, 2), &c.row), 0);
	CU_ASSERT(buf_is(&b, "UPDATE `d`.`t` SET `id`=`id` WHERE `id`=7"));
	/* ... a before image without its key column cannot name the row */
	CU_ASSERT_EQUAL(rep__row_missing_key(&td, prow(&a, 1, "x", 0, 0, -1)), 0);
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, &a.row, row(&c, 1, "y", 0)), -SL_ECONFIG);
	sl_buf_reset(&b);
	CU_ASSERT_EQUAL(rep__sql_pk_tuple(&b, &td, &a.row), -SL_ECONFIG);
	CU_ASSERT_EQUAL(rep__sql_delete_one(&b, &td, &a.row), -SL_ECONFIG);
	sl_buf_reset(&b);
	CU_ASSERT_EQUAL(rep__row_missing_key(&td, row(&a, 1, "x", 0)), -1);
	table(&td, 2);
	CU_ASSERT_EQUAL(rep__row_missing_key(&td, prow(&a, 1, "x", 0, 1, -1)), 1);

	/* DELETE by key: the key tuple of a MINIMAL before image */
	table(&td, 1);
	CU_ASSERT_EQUAL(rep__sql_pk_tuple(&b, &td, prow(&a, 4, NULL, 0, 1, 2)), 0);
	CU_ASSERT(buf_is(&b, "4"));

	/* no primary key: match the before image's present columns */
	table(&td, 0);
	CU_ASSERT_EQUAL(rep__sql_delete_one(&b, &td, prow(&a, 4, NULL, 0.5f, 0, -1)), 0);
	CU_ASSERT(buf_is(&b, "DELETE FROM `d`.`t` WHERE `na``me`<=>NULL AND `f`<=>0.5 LIMIT 1"));
	CU_ASSERT_EQUAL(rep__sql_update(&b, &td, prow(&a, 4, "x", 0, 2, -1),
					prow(&c, 5, NULL, 0, 1, 2)), 0);
	CU_ASSERT(buf_is(&b, "UPDATE `d`.`t` SET `id`=5 WHERE `id`<=>4 AND `na``me`<=>_latin1 X'78' LIMIT 1"));
	row(&a, 1, "x", 0);
	absent(&a, 0, 1);
	absent(&a, 2, -1);
	CU_ASSERT_EQUAL(rep__sql_delete_one(&b, &td, &a.row), -SL_ECONFIG);
	sl_buf_reset(&b);

	/* an absent value has no literal: the value renderers refuse it */
	CU_ASSERT_EQUAL(fmt_value_sql(&a.v[0], td.columns[0], &b), -SL_EINVAL_ARG);
	CU_ASSERT_EQUAL(b.len, 0);
	sl_buf_release(&b);
	sl_buf_release(&s1);
	sl_buf_release(&s2);
}

static void test_replay__statement_respects_buffer_limit(void)
{
	Sluice__TableDef td;
	struct row3 a;
	char big[2000];
	struct sl_buf b = SL_BUF_INIT(1000);

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	table(&td, 1);
	CU_ASSERT_EQUAL(rep__sql_row_tuple(&b, &td, row(&a, 1, big, 0)), -SL_ETOOBIG);
	CU_ASSERT(b.len <= b.max);
	sl_buf_release(&b);
}

static void test_replay__table_without_db(void)
{
	Sluice__TableDef td;
	struct sl_buf b = SL_BUF_INIT(256);

	table(&td, 1);
	td.db = "";
	CU_ASSERT_EQUAL(rep__sql_table(&b, &td), 0);
	CU_ASSERT(buf_is(&b, "`t`"));
	sl_buf_release(&b);
}

static void test_replay__sql_mode_names(void)
{
	struct sl_buf b = SL_BUF_INIT(4096);
	/* STRICT_TRANS_TABLES | NO_ZERO_IN_DATE | NO_ZERO_DATE | ERROR_FOR_DIVISION_BY_ZERO |
	 * NO_AUTO_CREATE_USER | NO_ENGINE_SUBSTITUTION: MySQL 5.7's default */
	uint64_t m57 = 1ULL << 21 | 1ULL << 23 | 1ULL << 24 | 1ULL << 26 | 1ULL << 28 | 1ULL << 30;

	CU_ASSERT_EQUAL(rep__sql_mode_names(&b, m57, 1, 1), 0);
	CU_ASSERT(buf_is(&b, "STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
			 "ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"));
	CU_ASSERT_EQUAL(rep__sql_mode_names(&b, m57, 1, 0), 0);
	CU_ASSERT(buf_is(&b, "STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
			 "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"));
	/* MariaDB ORACLE mode is kept from a MariaDB source, dropped from MySQL's */
	CU_ASSERT_EQUAL(rep__sql_mode_names(&b, 1ULL << 9 | 1ULL << 2, 0, 1), 0);
	CU_ASSERT(buf_is(&b, "ANSI_QUOTES,ORACLE"));
	CU_ASSERT_EQUAL(rep__sql_mode_names(&b, 1ULL << 9 | 1ULL << 2 | 1ULL << 32, 1, 1), 0);
	CU_ASSERT(buf_is(&b, "ANSI_QUOTES"));
	CU_ASSERT_EQUAL(rep__sql_mode_names(&b, 1ULL << 34 | 1ULL << 60, 0, 1), 0);
	CU_ASSERT(buf_is(&b, "TIME_ROUND_FRACTIONAL"));
	CU_ASSERT_EQUAL(rep__sql_mode_names(&b, 0, 0, 1), 0);
	CU_ASSERT(buf_is(&b, ""));
	sl_buf_release(&b);
}

static void test_replay__ddl_already_done(void)
{
	unsigned yes[] = { 1007, 1008, 1050, 1051, 1054, 1060, 1061, 1091, 1146 };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		CU_ASSERT(rep__ddl_already_done(yes[i]));
	CU_ASSERT(!rep__ddl_already_done(1064));	/* syntax error */
	CU_ASSERT(!rep__ddl_already_done(1062));	/* duplicate entry */
	CU_ASSERT(!rep__ddl_already_done(2013));	/* lost connection */
}

static void test_replay__checkpoint_statements(void)
{
	struct sl_buf b = SL_BUF_INIT(4096);
	struct seg_cursor prev = { 2, 4096, 7 }, cur = { 3, 16, 0 }, pend = { 3, 16, 1 };
	Sluice__Position pos = SLUICE__POSITION__INIT;
	uint8_t sid[16];

	for (int i = 0; i < 16; i++)
		sid[i] = (uint8_t)(i * 17);
	CU_ASSERT_EQUAL(rep__sql_checkpoint_insert(&b, "default", sid), 0);
	CU_ASSERT(buf_is(&b, "INSERT IGNORE INTO `sluice`.`checkpoint` (`consumer`,`stream_id`,"
			 "`seq`,`frame_offset`,`record_index`) VALUES (_utf8mb4 X'64656661756C74',"
			 "'00112233445566778899aabbccddeeff',0,0,0)"));
	pos.file = "bin.000002";
	pos.offset = 1234;
	pos.gtid = "0-1-9";
	CU_ASSERT_EQUAL(rep__sql_checkpoint_update(&b, "c", &prev, &cur, &pos, NULL), 0);
	CU_ASSERT(buf_is(&b, "UPDATE `sluice`.`checkpoint` SET `seq`=3,`frame_offset`=16,"
			 "`record_index`=0,`source_file`=_utf8mb4 X'62696E2E303030303032',"
			 "`source_offset`=1234,`gtid`=_utf8mb4 X'302D312D39',`ddl_pending_seq`=NULL,"
			 "`ddl_pending_offset`=NULL,`ddl_pending_index`=NULL,`updated_at`=NOW(6) "
			 "WHERE `consumer`=_utf8mb4 X'63' AND `seq`=2 AND `frame_offset`=4096 "
			 "AND `record_index`=7"));
	CU_ASSERT_EQUAL(rep__sql_checkpoint_update(&b, "c", &prev, &prev, NULL, &pend), 0);
	CU_ASSERT(buf_is(&b, "UPDATE `sluice`.`checkpoint` SET `seq`=2,`frame_offset`=4096,"
			 "`record_index`=7,`ddl_pending_seq`=3,`ddl_pending_offset`=16,"
			 "`ddl_pending_index`=1,`updated_at`=NOW(6) WHERE `consumer`=_utf8mb4 X'63' "
			 "AND `seq`=2 AND `frame_offset`=4096 AND `record_index`=7"));
	CU_ASSERT_EQUAL(rep__sql_checkpoint_select(&b, "c"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_buf_cstr(&b), "FROM `sluice`.`checkpoint` WHERE `consumer`="));
	sl_buf_release(&b);
}

static void test_replay__checkpoint_parse(void)
{
	struct sl_buf b = SL_BUF_INIT(256);
	struct rep_checkpoint cp;
	struct sl_err err = SL_ERR_INIT;
	char *ok[9] = { "00112233445566778899aabbccddeeff", "2", "4096", "7", NULL, NULL, NULL,
			"bin.000001", "99" };
	char *pend[9] = { "00112233445566778899AABBCCDDEEFF", "2", "4096", "7", "3", "16", "1", "", "0" };
	char *bad[9] = { "0011", "2", "4096", "7", NULL, NULL, NULL, "", "0" };

	CU_ASSERT_EQUAL(rep__checkpoint_parse(&cp, ok, 9, &err), 0);
	CU_ASSERT(cp.found && !cp.ddl_pending);
	CU_ASSERT_EQUAL(cp.stream_id[15], 0xff);
	CU_ASSERT(cp.cur.seq == 2 && cp.cur.offset == 4096 && cp.cur.index == 7);
	CU_ASSERT_STRING_EQUAL(cp.source_file, "bin.000001");
	CU_ASSERT_EQUAL(cp.source_offset, 99);
	CU_ASSERT_EQUAL(rep__checkpoint_parse(&cp, pend, 9, &err), 0);
	CU_ASSERT(cp.ddl_pending && cp.ddl_cur.seq == 3 && cp.ddl_cur.offset == 16 && cp.ddl_cur.index == 1);
	CU_ASSERT_EQUAL(rep__checkpoint_parse(&cp, bad, 9, &err), -SL_ECORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "checkpoint"));
	CU_ASSERT_STRING_EQUAL(cp.source_gtid, "");
	{
		/* the GTID of the source position is read back (10th column) */
		char *g[10] = { "00112233445566778899aabbccddeeff", "2", "4096", "7", NULL, NULL, NULL,
				"bin.000001", "99", "0-1-42" };

		CU_ASSERT_EQUAL(rep__checkpoint_parse(&cp, g, 10, &err), 0);
		CU_ASSERT_STRING_EQUAL(cp.source_gtid, "0-1-42");
		CU_ASSERT_EQUAL(rep__sql_checkpoint_select(&b, "c"), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(sl_buf_cstr(&b), "`source_offset`,`gtid` FROM"));
		sl_buf_release(&b);
	}
	ok[3] = "x";
	CU_ASSERT_EQUAL(rep__checkpoint_parse(&cp, ok, 9, &err), -SL_ECORRUPT);
}

static void test_replay__sql_snippet(void)
{
	char out[32];

	CU_ASSERT_STRING_EQUAL(db_sql_snippet("SELECT\n1", 8, 100, out, sizeof(out)), "SELECT 1");
	CU_ASSERT_STRING_EQUAL(db_sql_snippet("abcdefghij", 10, 4, out, sizeof(out)), "abcd...");
	CU_ASSERT(strlen(db_sql_snippet("abcdefghijabcdefghijabcdefghijabcdefghij", 40, 100, out,
					  sizeof(out))) < sizeof(out));
}

/* A statement error: the server's reason first, then where, then the
 * statement cut to REP_SNIPPET bytes, whatever the statement's length. */
static void test_replay__stmt_error(void)
{
	struct sl_err err = SL_ERR_INIT;
	char reason[200], sql[600];
	const char *ro = "The MariaDB server is running with the --read-only option so it cannot "
			 "execute this statement";

	memset(sql, 'x', sizeof(sql));
	memcpy(sql, "CREATE TABLE t (", 16);
	CU_ASSERT_STRING_EQUAL(db_reason(ro, 1290, reason, sizeof(reason)),
			       "the MariaDB server is running with the --read-only option so it "
			       "cannot execute this statement (error 1290)");
	CU_ASSERT_STRING_EQUAL(db_reason("InnoDB is out of space", 1, reason, sizeof(reason)),
			       "InnoDB is out of space (error 1)");
	CU_ASSERT_STRING_EQUAL(db_reason("MySQL server has gone away", 2006, reason, sizeof(reason)),
			       "MySQL server has gone away (error 2006)");
	CU_ASSERT_EQUAL(rep__stmt_error(&err, -SL_EDB, db_reason(ro, 1290, reason, sizeof(reason)),
					"on destination mysql://u@h:1/", sql, sizeof(sql)), -SL_EDB);
	CU_ASSERT(strncmp(err.msg, "the MariaDB server is running", 29) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "(error 1290) on destination mysql://u@h:1/: CREATE TABLE t (x"));
	CU_ASSERT(strlen(err.msg) < strlen(reason) + 40 + REP_SNIPPET + 8);
	CU_ASSERT(strcmp(err.msg + strlen(err.msg) - 3, "...") == 0);

	CU_ASSERT(rep__packet_too_big(1153, 10, 1 << 20));
	CU_ASSERT(rep__packet_too_big(2006, 20 << 20, 16 << 20));
	CU_ASSERT(rep__packet_too_big(2013, 9 << 20, 16 << 20));
	CU_ASSERT(!rep__packet_too_big(2006, 1000, 16 << 20));
	CU_ASSERT(!rep__packet_too_big(1062, 20 << 20, 16 << 20));
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("replay/sql", NULL, NULL);
	CU_add_test(s, "insert multi row", test_replay__insert_multi_row);
	CU_add_test(s, "update by pk", test_replay__update_by_pk);
	CU_add_test(s, "no pk: null-safe compare and limit", test_replay__no_pk_uses_null_safe_compare_and_limit);
	CU_add_test(s, "delete batched by pk", test_replay__delete_batched_by_pk);
	CU_add_test(s, "partial row images (MINIMAL)", test_replay__partial_images);
	CU_add_test(s, "statement respects buffer limit", test_replay__statement_respects_buffer_limit);
	CU_add_test(s, "table without db", test_replay__table_without_db);
	CU_add_test(s, "sql_mode names", test_replay__sql_mode_names);
	CU_add_test(s, "ddl already done", test_replay__ddl_already_done);
	CU_add_test(s, "checkpoint statements", test_replay__checkpoint_statements);
	CU_add_test(s, "checkpoint parse", test_replay__checkpoint_parse);
	CU_add_test(s, "sql snippet", test_replay__sql_snippet);
	CU_add_test(s, "statement error: reason first", test_replay__stmt_error);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
