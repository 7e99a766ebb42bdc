/* test_filter.c - filters and renames: sl_map_name(), fmt_filter (formats/fmt.h) and ddl_filter_stmt() (ddl/ddl.h). */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "ddl.h"
#include "fmt.h"
#include "sl.h"

static void test_filter__map_name(void)
{
	char *s, *t;
	struct sl_err err = SL_ERR_INIT;

	CU_ASSERT_EQUAL(sl_map_name("a=b,a.x=c.y", 0, "a", "t", &s, &t), 1);
	CU_ASSERT_STRING_EQUAL(s, "b");
	CU_ASSERT_STRING_EQUAL(t, "t");
	free(s);
	free(t);
	CU_ASSERT_EQUAL(sl_map_name("a=b,a.x=c.y", 0, "a", "x", &s, &t), 2);
	CU_ASSERT_STRING_EQUAL(s, "c");
	CU_ASSERT_STRING_EQUAL(t, "y");
	free(s);
	free(t);
	CU_ASSERT_EQUAL(sl_map_name("a=b,a.x=c.y", 1, "c", "y", &s, &t), 2);	/* back */
	CU_ASSERT_STRING_EQUAL(s, "a");
	CU_ASSERT_STRING_EQUAL(t, "x");
	free(s);
	free(t);
	CU_ASSERT_EQUAL(sl_map_name("a=b", 0, "a", NULL, &s, NULL), 1);
	CU_ASSERT_STRING_EQUAL(s, "b");
	free(s);
	CU_ASSERT_EQUAL(sl_map_name(NULL, 0, "a", "x", &s, &t), 0);
	CU_ASSERT_STRING_EQUAL(s, "a");
	CU_ASSERT_STRING_EQUAL(t, "x");
	free(s);
	free(t);
	CU_ASSERT_EQUAL(sl_map_check("a=b,a.x=c.y", &err), 0);
	CU_ASSERT_EQUAL(sl_map_check("a=b,a.x=c", &err), -SL_EINVAL_ARG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad map entry 'a.x=c' (character 5)"));
	CU_ASSERT_EQUAL(sl_map_check("ab", &err), -SL_EINVAL_ARG);
	CU_ASSERT_EQUAL(sl_map_check("=b", &err), -SL_EINVAL_ARG);
	CU_ASSERT_EQUAL(sl_column_patterns_match("s.t.c%,x.y.z", "s", "t", "cx"), 1);
	CU_ASSERT_EQUAL(sl_column_patterns_match("s.t.c%", "s", "u", "cx"), 0);
	CU_ASSERT_EQUAL(sl_database_touched("s.t", NULL, "s"), 1);
	CU_ASSERT_EQUAL(sl_database_touched("s.t", NULL, "u"), 0);
	CU_ASSERT_EQUAL(sl_database_touched(NULL, "s.t", "s"), 1);	/* only one table */
	CU_ASSERT_EQUAL(sl_database_touched(NULL, "s", "s"), 0);
	CU_ASSERT_EQUAL(sl_database_touched(NULL, "s.%", "s"), 0);
}

static void test_filter__options(void)
{
	struct fmt_filter *f = (struct fmt_filter *)1;
	struct sl_err err = SL_ERR_INIT;
	struct fmt_filter_opts o = { 0 };

	CU_ASSERT_EQUAL(fmt_filter_open(&f, &o, NULL, &err), 0);
	CU_ASSERT_PTR_NULL(f);	/* nothing asked: no filter */
	o.ops = "insert,ddl,DELETE,update";
	CU_ASSERT_EQUAL(fmt_filter_open(&f, &o, NULL, &err), 0);
	CU_ASSERT_PTR_NULL(f);	/* all four: nothing to do */
	o.ops = "insert,upsert";
	CU_ASSERT_EQUAL(fmt_filter_open(&f, &o, NULL, &err), -SL_EINVAL_ARG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad operation 'upsert' in --ops"));
	o.ops = NULL;
	o.exclude_columns = "s.t";
	CU_ASSERT_EQUAL(fmt_filter_open(&f, &o, NULL, &err), -SL_EINVAL_ARG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad column pattern 's.t'"));
	o.exclude_columns = NULL;
	o.map = "s=";
	CU_ASSERT_EQUAL(fmt_filter_open(&f, &o, NULL, &err), -SL_EINVAL_ARG);
}

/* A table s.t (a INT key, b, c) as ref 7, and records of it. */
static Sluice__ColumnDef cols[3] = { SLUICE__COLUMN_DEF__INIT, SLUICE__COLUMN_DEF__INIT,
				     SLUICE__COLUMN_DEF__INIT };
static Sluice__ColumnDef *colp[3] = { &cols[0], &cols[1], &cols[2] };
static uint32_t pk[1] = { 2 };
static Sluice__TableDef def = SLUICE__TABLE_DEF__INIT;
static Sluice__Value vals[3] = { SLUICE__VALUE__INIT, SLUICE__VALUE__INIT, SLUICE__VALUE__INIT };
static Sluice__Value *valp[3] = { &vals[0], &vals[1], &vals[2] };
static Sluice__Row img = SLUICE__ROW__INIT;
static Sluice__RowChange rc_ = SLUICE__ROW_CHANGE__INIT;
static Sluice__TxnBegin beg = SLUICE__TXN_BEGIN__INIT;
static Sluice__TxnCommit com = SLUICE__TXN_COMMIT__INIT;

static void setup(void)
{
	cols[0].name = "a";
	cols[1].name = "b";
	cols[2].name = "c";
	def.ref = 7;
	def.db = "s";
	def.name = "t";
	def.n_columns = 3;
	def.columns = colp;
	def.n_primary_key = 1;
	def.primary_key = pk;	/* the key is column c */
	for (int i = 0; i < 3; i++) {
		vals[i].kind = SLUICE__VALUE__KIND__INT;
		vals[i].i = 10 + i;
	}
	img.n_values = 3;
	img.values = valp;
	rc_.table_ref = 7;
	rc_.op = SLUICE__ROW_CHANGE__OP__INSERT;
	rc_.after = &img;
	com.rows = 2;
}

static const Sluice__Record *pass(struct fmt_filter *f, Sluice__Record__BodyCase c, void *body)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	const Sluice__Record *out = NULL;
	struct sl_err err = SL_ERR_INIT;
	static Sluice__Record keep;

	r.body_case = c;
	r.begin = body;	/* the oneof: any member */
	keep = r;
	CU_ASSERT_EQUAL_FATAL(fmt_filter_record(f, &keep, &out, &err), 0);
	return out;
}

static void test_filter__tables_and_rows(void)
{
	struct fmt_filter *f;
	struct sl_err err = SL_ERR_INIT;
	struct fmt_filter_opts o = { .map = "s=s2,s.t=d.t2", .exclude_columns = "s.t.b",
				     .ops = "insert,ddl" };
	const Sluice__Record *out;

	setup();
	CU_ASSERT_EQUAL_FATAL(fmt_filter_open(&f, &o, NULL, &err), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL(pass(f, SLUICE__RECORD__BODY_BEGIN, &beg));
	out = pass(f, SLUICE__RECORD__BODY_TABLE, &def);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_STRING_EQUAL(out->table->db, "d");
	CU_ASSERT_STRING_EQUAL(out->table->name, "t2");
	CU_ASSERT_EQUAL_FATAL(out->table->n_columns, 2);
	CU_ASSERT_STRING_EQUAL(out->table->columns[0]->name, "a");
	CU_ASSERT_STRING_EQUAL(out->table->columns[1]->name, "c");
	CU_ASSERT_EQUAL_FATAL(out->table->n_primary_key, 1);
	CU_ASSERT_EQUAL(out->table->primary_key[0], 1);	/* c is now column 1 */
	CU_ASSERT_EQUAL(def.n_columns, 3);			/* the input is untouched */
	CU_ASSERT_STRING_EQUAL(def.db, "s");
	out = pass(f, SLUICE__RECORD__BODY_ROW, &rc_);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL_FATAL(out->row->after->n_values, 2);
	CU_ASSERT_EQUAL(out->row->after->values[0]->i, 10);
	CU_ASSERT_EQUAL(out->row->after->values[1]->i, 12);
	CU_ASSERT_EQUAL(img.n_values, 3);
	rc_.op = SLUICE__ROW_CHANGE__OP__DELETE;	/* not in --ops */
	rc_.before = &img;
	rc_.after = NULL;
	CU_ASSERT_PTR_NULL(pass(f, SLUICE__RECORD__BODY_ROW, &rc_));
	out = pass(f, SLUICE__RECORD__BODY_COMMIT, &com);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(out->commit->rows, 1);	/* one of two rows kept */
	CU_ASSERT_EQUAL(com.rows, 2);
	/* a row of a ref never defined */
	{
		Sluice__Record r = SLUICE__RECORD__INIT;

		rc_.table_ref = 8;
		r.body_case = SLUICE__RECORD__BODY_ROW;
		r.row = &rc_;
		CU_ASSERT_EQUAL(fmt_filter_record(f, &r, &out, &err), -SL_ECORRUPT);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "table ref 8 before its table definition"));
		rc_.table_ref = 7;
	}
	fmt_filter_close(f);

	/* a key column cannot be left out; an excluded table drops its rows */
	o = (struct fmt_filter_opts){ .exclude_columns = "s.t.c" };
	CU_ASSERT_EQUAL_FATAL(fmt_filter_open(&f, &o, NULL, &err), 0);
	{
		Sluice__Record r = SLUICE__RECORD__INIT;

		r.body_case = SLUICE__RECORD__BODY_TABLE;
		r.table = &def;
		CU_ASSERT_EQUAL(fmt_filter_record(f, &r, &out, &err), -SL_EINVAL_ARG);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "column `c` of `s`.`t` is in its primary key"));
	}
	fmt_filter_close(f);
	o = (struct fmt_filter_opts){ .include = "s.x%,u" };
	CU_ASSERT_EQUAL_FATAL(fmt_filter_open(&f, &o, NULL, &err), 0);
	CU_ASSERT_PTR_NULL(pass(f, SLUICE__RECORD__BODY_TABLE, &def));
	CU_ASSERT_PTR_NULL(pass(f, SLUICE__RECORD__BODY_ROW, &rc_));
	fmt_filter_close(f);
}

/* ddl_filter_stmt() of stmt run in db: "" when dropped, "!message" on error,
 * else "db|statement". */
static char *ddl(const struct fmt_filter_opts *o, const char *db, const char *stmt)
{
	struct fmt_filter *f;
	struct sl_err err = SL_ERR_INIT;
	struct sl_buf out;
	char *odb = NULL, *res;
	int rc;

	sl_buf_init(&out, 1 << 20);
	if (fmt_filter_open(&f, o, ddl_filter_stmt, &err))
		return sl_xasprintf("!open: %s", err.msg);
	rc = ddl_filter_stmt(f, db, stmt, &out, &odb, &err);
	res = rc < 0 ? sl_xasprintf("!%s", err.msg)
		     : rc == 0 ? sl_xstrdup("") : sl_xasprintf("%s|%s", odb, sl_buf_cstr(&out));
	free(odb);
	sl_buf_release(&out);
	fmt_filter_close(f);
	return res;
}

#define DDL_IS(o, db, stmt, want)                                        \
	do {                                                             \
		char *got_ = ddl((o), (db), (stmt));                     \
		CU_ASSERT_STRING_EQUAL(got_, (want));                    \
		if (strcmp(got_, (want)))                                \
			fprintf(stderr, "\n  %s\n  got  %s\n  want %s\n", (stmt), got_, (want)); \
		free(got_);                                              \
	} while (0)

static void test_filter__ddl(void)
{
	struct fmt_filter_opts m = { .map = "s.t=d.t2,u=u2", .exclude = "s.x%,gone" };

	/* renamed tables, by tokens: strings and comments stay */
	DDL_IS(&m, "s", "ALTER TABLE t ADD COLUMN z INT COMMENT 's.t t'",
	       "s|ALTER TABLE `d`.`t2` ADD COLUMN z INT COMMENT 's.t t'");
	DDL_IS(&m, "", "alter table `s`.`t` add z int /* t */",
	       "|alter table `d`.`t2` add z int /* t */");
	DDL_IS(&m, "s", "CREATE TABLE IF NOT EXISTS t (a INT PRIMARY KEY)",
	       "s|CREATE TABLE IF NOT EXISTS `d`.`t2` (a INT PRIMARY KEY)");
	DDL_IS(&m, "u", "CREATE TABLE t (a INT, FOREIGN KEY (a) REFERENCES p (a))",
	       "u2|CREATE TABLE `u2`.`t` (a INT, FOREIGN KEY (a) REFERENCES `u2`.`p` (a))");
	DDL_IS(&m, "s", "RENAME TABLE t TO t_old, u.a TO u.b",
	       "s|RENAME TABLE `d`.`t2` TO t_old, `u2`.`a` TO `u2`.`b`");
	DDL_IS(&m, "s", "TRUNCATE t", "s|TRUNCATE `d`.`t2`");
	DDL_IS(&m, "s", "CREATE TABLE IF NOT EXISTS other LIKE t",
	       "s|CREATE TABLE IF NOT EXISTS other LIKE `d`.`t2`");
	DDL_IS(&m, "s", "CREATE TABLE other (a VARCHAR(9), CHECK (a LIKE t))",
	       "s|CREATE TABLE other (a VARCHAR(9), CHECK (a LIKE t))");	/* t: a column */
	DDL_IS(&m, "s", "ALTER TABLE other EXCHANGE PARTITION p WITH TABLE t",
	       "s|ALTER TABLE other EXCHANGE PARTITION p WITH TABLE `d`.`t2`");
	DDL_IS(&m, "s", "ALTER TABLE other RENAME COLUMN t TO t2, RENAME TO t",
	       "s|ALTER TABLE other RENAME COLUMN t TO t2, RENAME TO `d`.`t2`");
	DDL_IS(&m, "s", "ALTER TABLE other RENAME TO xa",
	       "!it names `s`.`other` (kept) and `s`.`xa` (left out by the filters): a statement "
	       "cannot be split");
	DDL_IS(&m, "s", "DROP TABLE IF EXISTS t, other", "s|DROP TABLE IF EXISTS `d`.`t2`, other");
	DDL_IS(&m, "s", "CREATE INDEX i ON t (a)", "s|CREATE INDEX i ON `d`.`t2` (a)");
	DDL_IS(&m, "s", "DROP INDEX i ON s.t", "s|DROP INDEX i ON `d`.`t2`");
	DDL_IS(&m, "", "CREATE DATABASE u", "|CREATE DATABASE `u2`");
	DDL_IS(&m, "", "DROP DATABASE IF EXISTS u", "|DROP DATABASE IF EXISTS `u2`");
	DDL_IS(&m, "u", "ALTER DATABASE CHARACTER SET utf8mb4", "u2|ALTER DATABASE CHARACTER SET utf8mb4");
	/* left out: the table, its database */
	DDL_IS(&m, "s", "ALTER TABLE xa ADD b INT", "");
	DDL_IS(&m, "", "DROP TABLE s.xa, s.xb", "");
	DDL_IS(&m, "", "CREATE DATABASE gone", "");
	DDL_IS(&m, "gone", "CREATE VIEW v AS SELECT 1", "");
	/* kept and left out together: refused, naming both */
	DDL_IS(&m, "s", "RENAME TABLE t TO xt",
	       "!it names `s`.`t` (kept) and `s`.`xt` (left out by the filters): a statement "
	       "cannot be split");
	/* other kinds pass, their qualified names renamed */
	DDL_IS(&m, "u", "CREATE VIEW v AS SELECT a FROM s.t JOIN u.w",
	       "u2|CREATE VIEW v AS SELECT a FROM `d`.`t2` JOIN `u2`.`w`");
	/* kept, in a default database left out: runs without one */
	DDL_IS(&m, "gone", "ALTER TABLE s.t ADD b INT", "|ALTER TABLE `d`.`t2` ADD b INT");
	DDL_IS(&m, "", "ALTER TABLE t ADD b INT",
	       "!table `t` has no database (no default database): the filters cannot place it");
	/* untouched names come out byte for byte */
	DDL_IS(&m, "s", "ALTER  TABLE  other\tADD b INT", "s|ALTER  TABLE  other\tADD b INT");
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("formats/filter", NULL, NULL);
	CU_add_test(s, "maps, column patterns, databases", test_filter__map_name);
	CU_add_test(s, "options checked", test_filter__options);
	CU_add_test(s, "tables renamed and cut, rows, ops, commit count", test_filter__tables_and_rows);
	CU_add_test(s, "ddl follows the filters by tokens", test_filter__ddl);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
