/* test_coltype.c - CUnit suite for column types in the schema history and the TABLE_MAP check. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "cap_int.h"
#include "banned.h"

#define TDIR_TAG "coltype"
#include "test_tdir.h"

/* The descriptor of def (octets: information_schema's octet length). */
static void norm_is(const char *def, uint64_t octets, const char *want)
{
	char *got = cap__coltype_norm(def, strlen(def), octets);

	if (!want) {
		CU_ASSERT_PTR_NULL(got);
	} else {
		CU_ASSERT_PTR_NOT_NULL(got);
		if (got)
			CU_ASSERT_STRING_EQUAL(got, want);
	}
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want)))
		fprintf(stderr, "\n  '%s': got '%s', want '%s'\n", def, got ? got : "NULL",
			want ? want : "NULL");
	free(got);
}

static void test_coltype__norm(void)
{
	/* DDL column definitions (what follows the name) */
	norm_is("INT(11) NOT NULL AUTO_INCREMENT", 0, "int");
	norm_is("int unsigned DEFAULT 7", 0, "int unsigned");
	norm_is("INTEGER", 0, "int");
	norm_is("BOOL", 0, "tinyint");
	norm_is("serial", 0, "bigint unsigned");
	norm_is("DECIMAL(10,2)", 0, "decimal(10,2)");
	norm_is("NUMERIC(7)", 0, "decimal(7,0)");
	norm_is("dec", 0, "decimal(10,0)");
	norm_is("FLOAT(30)", 0, "double");
	norm_is("double precision", 0, "double");
	norm_is("VARCHAR(10) NOT NULL DEFAULT 'a,b' COMMENT 'x'", 0, "varchar(10)");
	norm_is("VARCHAR(10) CHARACTER SET latin1", 0, "varchar(10) bytes=10");
	norm_is("char(3) collate utf8mb4_bin", 0, "char(3) bytes=12");
	norm_is("national varchar(5)", 0, "varchar(5) bytes=15");
	norm_is("character varying(7) charset ascii", 0, "varchar(7) bytes=7");
	norm_is("CHAR", 0, "char(1)");
	norm_is("BINARY(16)", 0, "binary(16)");
	norm_is("char(4) byte", 0, "binary(4)");
	norm_is("ENUM('a','b''c','d,e') DEFAULT 'a'", 0, "enum(3)");
	norm_is("set('x','y')", 0, "set(2)");
	norm_is("BIT", 0, "bit(1)");
	norm_is("DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6)", 0, "datetime(6)");
	norm_is("TIMESTAMP NULL", 0, "timestamp");
	norm_is("POINT NOT NULL", 0, "geometry");
	norm_is("LONG VARBINARY", 0, "mediumblob");
	norm_is("uuid", 0, "uuid");
	norm_is("INET6 PRIMARY KEY", 0, "inet6");
	norm_is("INT AS (a + 1) VIRTUAL", 0, "int");
	norm_is("xmltype", 0, NULL);
	norm_is("", 0, NULL);
	norm_is("enum('a'", 0, NULL);	/* unterminated */
	/* information_schema COLUMN_TYPE with CHARACTER_OCTET_LENGTH */
	norm_is("varchar(10)", 40, "varchar(10) bytes=40");
	norm_is("char(5)", 20, "char(5) bytes=20");
	norm_is("bigint(20) unsigned", 0, "bigint unsigned");
	norm_is("longtext", 4294967295ULL, "longtext");
	CU_ASSERT_TRUE(cap__coltype_is_binary("binary(4)"));
	CU_ASSERT_TRUE(cap__coltype_is_binary("inet4"));
	CU_ASSERT_FALSE(cap__coltype_is_binary("char(4) bytes=4"));
	CU_ASSERT_FALSE(cap__coltype_is_binary(NULL));
	CU_ASSERT_TRUE(cap__coltype_is_character("varchar(4)"));
	CU_ASSERT_FALSE(cap__coltype_is_character("int"));
}

/* A TABLE_MAP's view of n columns: type and meta pairs. */
struct tm {
	Sluice__TableDef t;
	Sluice__ColumnDef c[8];
	Sluice__ColumnDef *cp[8];
};

static void tm_init(struct tm *m, size_t n, const uint32_t *type_meta)
{
	sluice__table_def__init(&m->t);
	m->t.db = (char *)"d";
	m->t.name = (char *)"t";
	for (size_t i = 0; i < n; i++) {
		sluice__column_def__init(&m->c[i]);
		m->c[i].type = type_meta[2 * i];
		m->c[i].meta = type_meta[2 * i + 1];
		m->cp[i] = &m->c[i];
	}
	m->t.columns = m->cp;
	m->t.n_columns = n;
}

static void test_coltype__tablemap_check(void)
{
	/* a INT, b VARCHAR(10) utf8mb4, c INT, as a binlog writes them */
	static const uint32_t abc[] = { 3, 0, 15, 40, 3, 0 };
	static const char *const names[] = { "a", "b", "c" };
	static const char *const now[] = { "int", "varchar(10) bytes=40", "int" };
	static const char *const swapped[] = { "int", "int", "varchar(10)" };
	static const char *const longer[] = { "int", "varchar(20) bytes=80", "int" };
	static const char *const loose[] = { "int", "varchar(10)", "int" };
	static const char *const unknown[] = { NULL, NULL, NULL };
	struct tm m;
	char why[300];

	tm_init(&m, 3, abc);
	CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, names, now, 3, 1, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, names, loose, 3, 1, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, names, unknown, 3, 1, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, names, NULL, 3, 1, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, names, swapped, 3, 1, why, sizeof(why)), -1);
	CU_ASSERT(strstr(why, "column 2 is `b` int in the schema history but VARCHAR(40 bytes) in the binlog") != NULL);
	CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, names, longer, 3, 1, why, sizeof(why)), -1);
	CU_ASSERT(strstr(why, "column 2") != NULL);
	CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, names, now, 2, 1, why, sizeof(why)), -1);
	CU_ASSERT(strstr(why, "the binlog has 3 columns, the schema history 2") != NULL);
	{
		/* BINARY(4), UUID, INET4 (STRING 254 with byte lengths), DECIMAL(10,2),
		 * DATETIME(3), ENUM of 3 (1 byte), SET of 9 (2 bytes), BIT(10) */
		static const uint32_t tms[] = { 254, 0xfe04, 254, 0xfe10, 254, 0xfe04, 246, 0x0a02,
						18, 3, 254, 0xf701, 254, 0xf802, 16, 0x0102 };
		static const char *const n8[] = { "b", "u", "i", "d", "dt", "e", "s", "bt" };
		static const char *const ok[] = { "binary(4)", "uuid", "inet4", "decimal(10,2)",
						  "datetime(3)", "enum(3)", "set(9)", "bit(10)" };
		static const char *const bad[][2] = {
			{ "binary(5)", "column 1" }, { "inet6", "column 3" }, { "decimal(10,3)", "column 4" },
			{ "datetime", "column 5" }, { "set(3)", "column 7" }, { "bit(9)", "column 8" },
			{ "char(1)", "column 6" },
		};
		static const int at[] = { 0, 2, 3, 4, 6, 7, 5 };

		tm_init(&m, 8, tms);
		CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, n8, ok, 8, 1, why, sizeof(why)), 0);
		if (cap__tablemap_check(&m.t, n8, ok, 8, 1, why, sizeof(why)))
			fprintf(stderr, "\n  %s\n", why);
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			const char *t2[8];

			memcpy(t2, ok, sizeof(t2));
			t2[at[i]] = bad[i][0];
			CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, n8, t2, 8, 1, why, sizeof(why)), -1);
			CU_ASSERT(strstr(why, bad[i][1]) != NULL);
		}
	}
	{
		/* JSON: a LONGTEXT on MariaDB, its own type on MySQL */
		static const uint32_t jm[] = { 252, 4 }, jy[] = { 245, 4 };
		static const char *const jn[] = { "j" }, *const jt[] = { "json" };

		tm_init(&m, 1, jm);
		CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, jn, jt, 1, 1, why, sizeof(why)), 0);
		CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, jn, jt, 1, 0, why, sizeof(why)), -1);
		tm_init(&m, 1, jy);
		CU_ASSERT_EQUAL(cap__tablemap_check(&m.t, jn, jt, 1, 0, why, sizeof(why)), 0);
	}
}

/* The history keeps each column's type through DDL, and across runs. */
static void test_coltype__history_types(void)
{
	struct cap_schema *h = cap__schema_new(), *h2 = cap__schema_new();
	const char *const *names, *const *types;
	size_t n;
	uint64_t gen;
	int loaded = 0;
	struct sl_err err = SL_ERR_INIT;
	struct tdir td;
	static const char *const ddl[] = {
		"CREATE TABLE d.t (a INT, b VARCHAR(10) CHARACTER SET latin1, c INT, KEY (a))",
		"ALTER TABLE d.t DROP COLUMN b",
		"ALTER TABLE d.t ADD COLUMN b VARCHAR(10) AFTER c, MODIFY a BIGINT FIRST, CHANGE c c2 DECIMAL(5,1)",
		"ALTER TABLE d.t RENAME COLUMN c2 TO c3, ADD (e ENUM('x','y'), f TEXT)",
		"ALTER TABLE d.t CONVERT TO CHARACTER SET utf8mb4",
		"CREATE TABLE d.u LIKE d.t",
	};

	cap__schema_apply(h, "d", ddl[0], strlen(ddl[0]));
	names = cap__schema_columns(h, "d", "t", &n, &gen);
	types = cap__schema_types(h, "d", "t");
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(types);
	CU_ASSERT_STRING_EQUAL(types[0], "int");
	CU_ASSERT_STRING_EQUAL(types[1], "varchar(10) bytes=10");
	cap__schema_apply(h, "d", ddl[1], strlen(ddl[1]));
	cap__schema_apply(h, "d", ddl[2], strlen(ddl[2]));
	names = cap__schema_columns(h, "d", "t", &n, &gen);
	types = cap__schema_types(h, "d", "t");
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(names[0], "a");
	CU_ASSERT_STRING_EQUAL(types[0], "bigint");
	CU_ASSERT_STRING_EQUAL(names[1], "c2");
	CU_ASSERT_STRING_EQUAL(types[1], "decimal(5,1)");
	CU_ASSERT_STRING_EQUAL(names[2], "b");
	CU_ASSERT_STRING_EQUAL(types[2], "varchar(10)");
	cap__schema_apply(h, "d", ddl[3], strlen(ddl[3]));
	names = cap__schema_columns(h, "d", "t", &n, &gen);
	types = cap__schema_types(h, "d", "t");
	CU_ASSERT_EQUAL_FATAL(n, 5);
	CU_ASSERT_STRING_EQUAL(names[1], "c3");
	CU_ASSERT_STRING_EQUAL(types[1], "decimal(5,1)");
	CU_ASSERT_STRING_EQUAL(types[3], "enum(2)");
	CU_ASSERT_STRING_EQUAL(types[4], "text");
	/* a new charset: character columns become unknown, the rest stay */
	cap__schema_apply(h, "d", ddl[4], strlen(ddl[4]));
	types = cap__schema_types(h, "d", "t");
	CU_ASSERT_PTR_NULL(types[2]);
	CU_ASSERT_PTR_NULL(types[4]);
	CU_ASSERT_STRING_EQUAL(types[1], "decimal(5,1)");
	cap__schema_apply(h, "d", ddl[5], strlen(ddl[5]));
	types = cap__schema_types(h, "d", "u");
	CU_ASSERT_PTR_NOT_NULL_FATAL(types);
	CU_ASSERT_STRING_EQUAL(types[0], "bigint");

	/* saved and loaded: names and types, unknown types stay unknown */
	tdir_new(&td);
	CU_ASSERT_EQUAL_FATAL(cap__schema_save(h, td.root, "b.000001", 1234, &err), 0);
	CU_ASSERT_EQUAL(cap__schema_load(h2, td.root, "b.000001", 1234, &loaded, &err), 0);
	CU_ASSERT_TRUE(loaded);
	names = cap__schema_columns(h2, "d", "t", &n, &gen);
	types = cap__schema_types(h2, "d", "t");
	CU_ASSERT_EQUAL_FATAL(n, 5);
	CU_ASSERT_STRING_EQUAL(names[1], "c3");
	CU_ASSERT_STRING_EQUAL(types[1], "decimal(5,1)");
	CU_ASSERT_PTR_NULL(types[2]);
	/* a version 1 file (names only) still loads, its types unknown */
	{
		char path[256];
		FILE *f;

		snprintf(path, sizeof(path), "%s/capture-schema", td.root);
		f = fopen(path, "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs("sluice-schema-history 1\tb.000001\t99\nd\tv\tx\ty\n", f);
		fclose(f);
		cap__schema_free(h2);
		h2 = cap__schema_new();
		CU_ASSERT_EQUAL(cap__schema_load(h2, td.root, "b.000001", 99, &loaded, &err), 0);
		CU_ASSERT_TRUE(loaded);
		names = cap__schema_columns(h2, "d", "v", &n, &gen);
		types = cap__schema_types(h2, "d", "v");
		CU_ASSERT_EQUAL_FATAL(n, 2);
		CU_ASSERT_STRING_EQUAL(names[1], "y");
		CU_ASSERT_PTR_NULL(types[1]);
	}
	tdir_free(&td);
	cap__schema_free(h);
	cap__schema_free(h2);
}

/* A schema history that cannot be written whole (the disk fills: write(2)
 * returns a short count) is an error, never a silently truncated file. */
static void test_coltype__history_save_short_write(void)
{
	struct cap_schema *h = cap__schema_new();
	struct sl_err err = SL_ERR_INIT;
	struct rlimit old, lim;
	struct tdir td;
	char path[256];
	int rc;

	cap__schema_apply(h, "d", "CREATE TABLE t (id bigint, c3 decimal(5,1), name varchar(200))", 62);
	tdir_new(&td);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 16;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	errno = 0;
	rc = cap__schema_save(h, td.root, "b.000001", 1234, &err);
	setrlimit(RLIMIT_FSIZE, &old);
	CU_ASSERT_TRUE(rc < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot write"));
	snprintf(path, sizeof(path), "%s/capture-schema", td.root);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);	/* nothing half-written in its place */
	tdir_free(&td);
	cap__schema_free(h);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("coltype", NULL, NULL);
	CU_add_test(s, "descriptors from DDL and information_schema", test_coltype__norm);
	CU_add_test(s, "a TABLE_MAP against the history's types", test_coltype__tablemap_check);
	CU_add_test(s, "the history keeps types through DDL and across runs", test_coltype__history_types);
	CU_add_test(s, "a short write of the history is an error", test_coltype__history_save_short_write);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
