/* test_ddl.c - ddl/: the lexer, every dialect rule (converted text and its note, or the refusal), idempotence, untouched statements byte for byte, ddl_table_split on SHOW CREATE TABLE outputs of a real MariaDB 10.11, version detection. */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddl.h"
#include "../../ddl/ddl_int.h"

static const struct ddl_target MARIADB = { DDL_MARIADB, 10, 11, 6 };
static const struct ddl_target MARIADB_114 = { DDL_MARIADB, 11, 4, 5 };
static const struct ddl_target MYSQL = { DDL_MYSQL, 8, 0, 36 };
static const struct ddl_target MYSQL57 = { DDL_MYSQL, 5, 7, 44 };
static const struct ddl_target OB = { DDL_OCEANBASE, 4, 2, 1 };

/* ---- notes collected ---- */
static char notes[4096];
static unsigned nnotes;

static void collect(void *ctx, const char *rule, const char *object, const char *what)
{
	size_t l = strlen(notes);

	(void)ctx;
	snprintf(notes + l, sizeof(notes) - l, "[%s] %s: %s\n", rule, object, what);
	nnotes++;
}

/* Converts s for t: the text (static), notes in notes; NULL on refusal
 * with the message in last_err. */
static char last_err[600];
static const char *conv(const struct ddl_target *t, const char *s)
{
	static char out[8192];
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct sl_err err = SL_ERR_INIT;
	int rc;

	notes[0] = 0;
	nnotes = 0;
	last_err[0] = 0;
	rc = ddl_convert(t, "table `d`.`t`", s, strlen(s), &b, collect, NULL, &err);
	if (rc) {
		snprintf(last_err, sizeof(last_err), "%s", err.msg);
		sl_buf_release(&b);
		return NULL;
	}
	snprintf(out, sizeof(out), "%s", sl_buf_cstr(&b));
	sl_buf_release(&b);
	return out;
}

/* s converts to want with a note containing note_has, and converting the
 * result again changes nothing and notes nothing. */
static void expect_conv(const struct ddl_target *t, const char *s, const char *want, const char *note_has)
{
	const char *got = conv(t, s);
	char again_in[8192];

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	if (strcmp(got, want))
		fprintf(stderr, "\n  in:   %s\n  got:  %s\n  want: %s\n", s, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	if (!strstr(notes, note_has))
		fprintf(stderr, "\n  notes: %s  want: %s\n", notes, note_has);
	CU_ASSERT_PTR_NOT_NULL(strstr(notes, note_has));
	snprintf(again_in, sizeof(again_in), "%s", got);
	got = conv(t, again_in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got, again_in);	/* idempotent */
	CU_ASSERT_EQUAL(nnotes, 0);
}

static void expect_same(const struct ddl_target *t, const char *s)
{
	const char *got = conv(t, s);

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	if (strcmp(got, s))
		fprintf(stderr, "\n  changed: %s\n  into:    %s\n", s, got);
	CU_ASSERT_STRING_EQUAL(got, s);
	CU_ASSERT_EQUAL(nnotes, 0);
}

static void expect_refused(const struct ddl_target *t, const char *s, const char *err_has)
{
	CU_ASSERT_PTR_NULL(conv(t, s));
	if (!strstr(last_err, err_has))
		fprintf(stderr, "\n  error: %s\n  want:  %s\n", last_err, err_has);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_err, err_has));
}

/* ---- the lexer ---- */

static void test_ddl__lexer(void)
{
	static const char *s = "CREATE TABLE `a``b` (c INT DEFAULT 'it''s KEY \\' x', d CHAR(3) "
			       "DEFAULT _utf8mb4'COLLATE y' COMMENT \"a \"\"q\"\" #\") /* KEY k (c) */ "
			       "-- COLLATE z\n # x\n /*!50100 PARTITION BY HASH (c) */ X'0AFF' N'n' @@v @u";
	struct ddl_toks t = { 0 };
	struct sl_err err = SL_ERR_INIT;
	char b[64];
	size_t i;
	int keys = 0, group1 = 0;

	CU_ASSERT_EQUAL_FATAL(ddl__lex(s, strlen(s), &t, &err), 0);
	CU_ASSERT_EQUAL(t.v[2].kind, DDL_TK_QIDENT);
	CU_ASSERT_STRING_EQUAL(ddl__name(&t, 2, b, sizeof(b)), "a`b");
	for (i = 0; i < t.n; i++) {
		keys += ddl__is(&t, i, "KEY") || ddl__is(&t, i, "COLLATE");
		if (t.v[i].group == 1)
			group1++;
		if (ddl__is(&t, i, "PARTITION"))
			CU_ASSERT_EQUAL(t.v[i].group, 1);	/* executable comment: code */
	}
	CU_ASSERT_EQUAL(keys, 0);	/* all inside strings or comments */
	CU_ASSERT_EQUAL(group1, 6);
	for (i = 0; i < t.n && !ddl__is(&t, i, "DEFAULT"); i++)
		;
	CU_ASSERT_EQUAL(t.v[i + 1].kind, DDL_TK_STRING);
	CU_ASSERT_STRING_EQUAL(ddl__name(&t, i + 1, b, sizeof(b)), "it's KEY ' x");
	CU_ASSERT_EQUAL(t.v[t.n - 4].kind, DDL_TK_STRING);	/* X'0AFF' */
	CU_ASSERT_EQUAL(t.v[t.n - 3].kind, DDL_TK_STRING);	/* N'n' */
	CU_ASSERT_EQUAL(t.v[t.n - 2].kind, DDL_TK_VAR);
	CU_ASSERT_EQUAL(t.v[t.n - 1].kind, DDL_TK_VAR);
	/* user@host keeps '@' as punctuation */
	CU_ASSERT_EQUAL(ddl__lex("DEFINER=`u`@`h`", 15, &t, &err), 0);
	CU_ASSERT_EQUAL(t.n, 5);
	CU_ASSERT_TRUE(ddl__isp(&t, 3, '@'));
	CU_ASSERT_EQUAL(ddl__lex("SELECT 'x", 9, &t, &err), -SL_EFORMAT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unterminated string at offset 7"));
	CU_ASSERT_EQUAL(ddl__lex("SELECT /* x", 11, &t, &err), -SL_EFORMAT);
	/* NO_BACKSLASH_ESCAPES: 'C:\' is a whole string */
	CU_ASSERT_EQUAL(ddl__lex("COMMENT 'C:\\' COLLATE x", 23, &t, &err), 0);
	CU_ASSERT_EQUAL(t.n, 4);
	ddl__toks_release(&t);
	/* never rewritten inside strings or comments */
	expect_same(&MARIADB, "CREATE TABLE t (a VARCHAR(9) DEFAULT 'COLLATE utf8mb4_0900_ai_ci', "
		    "b INT COMMENT 'DEFINER=`x`@`y`') /* COLLATE utf8mb4_0900_ai_ci */ "
		    "-- COLLATE=utf8mb4_0900_ai_ci\n");
	expect_conv(&MARIADB, "CREATE TABLE t (a INT COMMENT 'C:\\') COLLATE=utf8mb4_0900_ai_ci",
		    "CREATE TABLE t (a INT COMMENT 'C:\\') COLLATE=utf8mb4_unicode_520_ci", "collide");
	expect_same(&OB, "CREATE TABLE t (a INT COMMENT 'REAL NCHAR SERIAL FULLTEXT KEY (a) DESC', "
		    "b INT) COMMENT='ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8'");
}

/* ---- untouched statements ---- */

static void test_ddl__untouched(void)
{
	static const char *const s[] = {
		"CREATE TABLE `t4` (\n  `a` int(11) DEFAULT NULL,\n  `b` varchar(5) DEFAULT NULL\n"
		") ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci",
		"ALTER TABLE t ADD COLUMN x INT NOT NULL DEFAULT 0 AFTER id, ADD KEY kx (x)",
		"DROP TABLE IF EXISTS `a`, `b` /* generated by server */",
		"CREATE DATABASE `d` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */",
		"RENAME TABLE a TO b",
		"TRUNCATE TABLE x",
		"CREATE VIEW v AS SELECT definer, 'DEFINER=a@b' FROM t",
		"create  table  x ( id int primary key ,v double ) engine = innodb",
		"",
	};
	const struct ddl_target *t[] = { &MARIADB, &MYSQL, &OB, &MYSQL57, &MARIADB_114 };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		for (size_t j = 0; j < sizeof(t) / sizeof(t[0]); j++)
			expect_same(t[j], s[i]);
}

/* ---- every rule ---- */

static void test_ddl__collation(void)
{
	expect_conv(&MARIADB, "CREATE TABLE t (a VARCHAR(10) COLLATE utf8mb4_0900_ai_ci) DEFAULT "
		    "CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci",
		    "CREATE TABLE t (a VARCHAR(10) COLLATE utf8mb4_unicode_520_ci) DEFAULT "
		    "CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci",
		    "[collation-0900] table `d`.`t`: utf8mb4_0900_ai_ci -> utf8mb4_unicode_520_ci: keys "
		    "that were distinct may now collide");
	CU_ASSERT_EQUAL(nnotes == 0, 1);	/* (set by the idempotence pass) */
	conv(&MARIADB, "CREATE TABLE t (a CHAR(1) COLLATE utf8mb4_0900_ai_ci, b CHAR(1) COLLATE "
	     "utf8mb4_0900_ai_ci)");
	CU_ASSERT_EQUAL(nnotes, 1);	/* one note per change, not per column */
	expect_conv(&MARIADB, "ALTER TABLE t MODIFY b VARCHAR(5) COLLATE `utf8mb4_0900_bin`, "
		    "MODIFY c TEXT COLLATE 'utf8mb4_0900_as_cs'",
		    "ALTER TABLE t MODIFY b VARCHAR(5) COLLATE `utf8mb4_bin`, "
		    "MODIFY c TEXT COLLATE 'utf8mb4_bin'", "utf8mb4_0900_as_cs -> utf8mb4_bin");
	expect_conv(&MARIADB, "CREATE TABLE t (a INT) /*!80000 COLLATE=utf8mb4_de_pb_0900_ai_ci */",
		    "CREATE TABLE t (a INT) /*!80000 COLLATE=utf8mb4_unicode_520_ci */",
		    "utf8mb4_de_pb_0900_ai_ci -> utf8mb4_unicode_520_ci");
	/* MariaDB 11.4.5 knows utf8mb4_0900_ai_ci; not the others */
	expect_same(&MARIADB_114, "CREATE TABLE t (a INT) COLLATE=utf8mb4_0900_ai_ci");
	expect_conv(&MARIADB_114, "CREATE TABLE t (a INT) COLLATE=utf8mb4_0900_bin",
		    "CREATE TABLE t (a INT) COLLATE=utf8mb4_bin", "utf8mb4_0900_bin -> utf8mb4_bin");
	expect_same(&MYSQL, "CREATE TABLE t (a INT) COLLATE=utf8mb4_0900_ai_ci");
	expect_conv(&MYSQL57, "CREATE TABLE t (a INT) COLLATE=utf8mb4_0900_ai_ci",
		    "CREATE TABLE t (a INT) COLLATE=utf8mb4_unicode_520_ci", "utf8mb4_0900_ai_ci ->");
	expect_conv(&OB, "CREATE TABLE t (a CHAR(2) COLLATE utf8mb4_0900_as_ci, b CHAR(2) COLLATE "
		    "utf8mb4_0900_bin) COLLATE utf8mb4_0900_ai_ci",
		    "CREATE TABLE t (a CHAR(2) COLLATE utf8mb4_general_ci, b CHAR(2) COLLATE "
		    "utf8mb4_bin) COLLATE utf8mb4_general_ci", "utf8mb4_0900_bin -> utf8mb4_bin");
}

static void test_ddl__types(void)
{
	expect_conv(&OB, "CREATE TABLE t (a REAL, b REAL(10,2) NOT NULL)",
		    "CREATE TABLE t (a DOUBLE, b DOUBLE(10,2) NOT NULL)", "[real] table `d`.`t`: column `a`: REAL -> DOUBLE");
	expect_same(&MARIADB, "CREATE TABLE t (a REAL)");
	expect_conv(&OB, "CREATE TABLE t (a NCHAR(10), b NATIONAL CHARACTER(3) NOT NULL, c NVARCHAR(20), "
		    "d NATIONAL VARCHAR(5), e NCHAR VARYING(4))",
		    "CREATE TABLE t (a CHAR(10) CHARACTER SET utf8mb4, b CHAR(3) CHARACTER SET utf8mb4 NOT NULL, "
		    "c VARCHAR(20) CHARACTER SET utf8mb4, d VARCHAR(5) CHARACTER SET utf8mb4, "
		    "e VARCHAR(4) CHARACTER SET utf8mb4)",
		    "[nchar] table `d`.`t`: column `a`: national character type -> CHAR CHARACTER SET utf8mb4");
	expect_conv(&OB, "ALTER TABLE t ADD COLUMN n NCHAR", "ALTER TABLE t ADD COLUMN n CHAR CHARACTER SET utf8mb4",
		    "column `n`");
	expect_conv(&OB, "CREATE TABLE t (id SERIAL, v INT)",
		    "CREATE TABLE t (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE, v INT)",
		    "[serial] table `d`.`t`: column `id`: SERIAL -> BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE");
	expect_conv(&OB, "ALTER TABLE t ADD c INT SERIAL DEFAULT VALUE",
		    "ALTER TABLE t ADD c INT NOT NULL AUTO_INCREMENT UNIQUE", "SERIAL DEFAULT VALUE ->");
	expect_refused(&MYSQL, "CREATE TABLE t (id INT PRIMARY KEY, ip INET6 NOT NULL)",
		       "table `d`.`t`: rule mariadb-types: column `ip`: MySQL has no INET6 type");
	expect_refused(&OB, "ALTER TABLE t ADD COLUMN u UUID", "rule mariadb-types: column `u`: OceanBase has no UUID type");
	expect_same(&MARIADB, "CREATE TABLE t (ip INET6, u UUID)");
	expect_conv(&MYSQL, "CREATE TABLE t (a BLOB COMPRESSED, b VARCHAR(100) COMPRESSED=zlib NOT NULL)",
		    "CREATE TABLE t (a BLOB, b VARCHAR(100) NOT NULL)",
		    "[column-compressed] table `d`.`t`: column `a`: COMPRESSED removed");
	expect_same(&MARIADB, "CREATE TABLE t (a BLOB COMPRESSED)");
}

static void test_ddl__definer(void)
{
	const struct ddl_target *t[] = { &MARIADB, &MYSQL, &OB };

	for (size_t i = 0; i < 3; i++) {
		expect_conv(t[i], "CREATE ALGORITHM=MERGE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW "
			    "`v1` AS select `t1`.`a` AS `definer` from `t1` where `t1`.`a` <> 'DEFINER=x'",
			    "CREATE ALGORITHM=MERGE SQL SECURITY DEFINER VIEW "
			    "`v1` AS select `t1`.`a` AS `definer` from `t1` where `t1`.`a` <> 'DEFINER=x'",
			    "[definer] table `d`.`t`: DEFINER=`root`@`localhost` removed");
		expect_conv(t[i], "CREATE DEFINER='app'@'%' TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
			    "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
			    "DEFINER='app'@'%' removed");
		expect_conv(t[i], "CREATE DEFINER=CURRENT_USER() PROCEDURE p() BEGIN SELECT 1; END",
			    "CREATE PROCEDURE p() BEGIN SELECT 1; END", "DEFINER=CURRENT_USER() removed");
		expect_conv(t[i], "CREATE DEFINER=u@h FUNCTION f() RETURNS INT RETURN 1",
			    "CREATE FUNCTION f() RETURNS INT RETURN 1", "DEFINER=u@h removed");
		expect_conv(t[i], "CREATE DEFINER=`e`@`%` EVENT ev ON SCHEDULE EVERY 1 DAY DO DELETE FROM t",
			    "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DO DELETE FROM t", "DEFINER=`e`@`%` removed");
		/* mysqldump's executable comment */
		expect_conv(t[i], "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` "
			    "SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select 1 AS `1` */",
			    "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 "
			    "SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select 1 AS `1` */", "removed");
	}
}

static void test_ddl__ob_indexes(void)
{
	expect_refused(&OB, "CREATE TABLE t (id INT PRIMARY KEY, c TEXT, FULLTEXT KEY `ft` (`c`))",
		       "table `d`.`t`: rule ob-fulltext: OceanBase cannot take FULLTEXT index `ft`");
	expect_refused(&OB, "CREATE SPATIAL INDEX sp ON t (g)", "rule ob-fulltext: OceanBase cannot take SPATIAL index `sp`");
	expect_refused(&OB, "ALTER TABLE t ADD FULLTEXT INDEX f2 (a, b)", "FULLTEXT index `f2`");
	expect_same(&MARIADB, "CREATE TABLE t (id INT PRIMARY KEY, c TEXT, FULLTEXT KEY `ft` (`c`))");
	expect_conv(&OB, "CREATE TABLE t (a INT, b INT, KEY `k` (`a` DESC,`b`), KEY k2 (b DESC))",
		    "CREATE TABLE t (a INT, b INT, KEY `k` (`a`,`b`), KEY k2 (b))",
		    "[ob-index-desc] table `d`.`t`: index `k`: descending key parts made ascending");
	expect_conv(&OB, "CREATE INDEX ix ON t (a DESC)", "CREATE INDEX ix ON t (a)", "index `ix`");
	/* a repeated order keyword goes in one pass (idempotence; found by fuzz_ddl) */
	expect_conv(&OB, "CREATE TABLE t (a INT, b INT, KEY k (a DESC DESC))",
		    "CREATE TABLE t (a INT, b INT, KEY k (a))", "index `k`");
	expect_same(&MARIADB, "CREATE TABLE t (a INT, KEY `k` (`a` DESC))");
	/* visibility */
	expect_conv(&OB, "CREATE TABLE t (a INT, KEY `k` (`a`) /*!80000 INVISIBLE */, KEY k2 (a) IGNORED)",
		    "CREATE TABLE t (a INT, KEY `k` (`a`) /*!80000 */, KEY k2 (a))",
		    "[index-visibility] table `d`.`t`: index `k`: INVISIBLE removed");
	expect_conv(&MARIADB, "ALTER TABLE t ADD INDEX k (a) INVISIBLE", "ALTER TABLE t ADD INDEX k (a) IGNORED",
		    "index `k`: INVISIBLE -> IGNORED");
	expect_conv(&MYSQL, "CREATE TABLE t (a INT, KEY k (a) IGNORED)", "CREATE TABLE t (a INT, KEY k (a) INVISIBLE)",
		    "IGNORED -> INVISIBLE");
	expect_conv(&MYSQL57, "CREATE TABLE t (a INT, KEY k (a) IGNORED)", "CREATE TABLE t (a INT, KEY k (a))",
		    "index `k`: IGNORED removed");
	{
		static const struct ddl_target m105 = { DDL_MARIADB, 10, 5, 20 };

		expect_conv(&m105, "ALTER TABLE t ADD KEY k (a) INVISIBLE", "ALTER TABLE t ADD KEY k (a)",
			    "INVISIBLE removed");
	}
	/* key parts over 767 bytes: a plain index gets a prefix, a unique one is refused */
	expect_conv(&OB, "CREATE TABLE t (a VARCHAR(300) NOT NULL, b VARCHAR(300) CHARACTER SET latin1, "
		    "c TEXT, KEY ka (a), KEY kb (b), KEY kc (c(500)), KEY kab (a(100), b)) DEFAULT CHARSET=utf8mb4",
		    "CREATE TABLE t (a VARCHAR(300) NOT NULL, b VARCHAR(300) CHARACTER SET latin1, "
		    "c TEXT, KEY ka (a(191)), KEY kb (b), KEY kc (c(191)), KEY kab (a(100), b)) DEFAULT CHARSET=utf8mb4",
		    "[ob-index-767] table `d`.`t`: index `ka`: key part `a` of 1200 bytes indexed by its first 191 characters");
	expect_conv(&OB, "CREATE TABLE t (a VARCHAR(300), KEY ka (a)) DEFAULT CHARSET=utf8mb3",
		    "CREATE TABLE t (a VARCHAR(300), KEY ka (a(255))) DEFAULT CHARSET=utf8mb3", "first 255 characters");
	expect_refused(&OB, "CREATE TABLE t (a VARCHAR(300) NOT NULL, UNIQUE KEY ua (a))",
		       "rule ob-index-767: key part `a` of unique key `ua` is 1200 bytes, over OceanBase's 767");
	expect_refused(&OB, "CREATE TABLE t (a VARBINARY(1000) NOT NULL, PRIMARY KEY (a))",
		       "key part `a` of unique key `PRIMARY` is 1000 bytes");
	expect_same(&MARIADB, "CREATE TABLE t (a VARCHAR(300) NOT NULL, UNIQUE KEY ua (a))");
}

static void test_ddl__ob_keys(void)
{
	expect_refused(&OB, "CREATE TABLE c (id INT PRIMARY KEY, p INT, CONSTRAINT `fk_p` FOREIGN KEY (`p`) "
		       "REFERENCES `parent` (`id`) ON DELETE CASCADE)",
		       "table `d`.`t`: rule ob-fk-cascade: OceanBase cannot take foreign key `fk_p` ON DELETE CASCADE");
	expect_refused(&OB, "ALTER TABLE c ADD FOREIGN KEY (p) REFERENCES parent (id) ON UPDATE CASCADE",
		       "foreign key `(unnamed)` ON UPDATE CASCADE");
	expect_same(&OB, "ALTER TABLE c ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES parent (id) ON DELETE SET NULL");
	expect_same(&MYSQL, "ALTER TABLE c ADD FOREIGN KEY (p) REFERENCES parent (id) ON DELETE CASCADE");
	expect_refused(&OB, "CREATE TABLE t (f DOUBLE NOT NULL, v INT, PRIMARY KEY (f))",
		       "rule ob-float-pk: OceanBase cannot take a primary key on DOUBLE column `f`");
	expect_refused(&OB, "CREATE TABLE t (f FLOAT PRIMARY KEY)", "primary key on FLOAT column `f`");
	expect_same(&OB, "CREATE TABLE t (f FLOAT, id INT PRIMARY KEY, UNIQUE KEY (f))");
	expect_same(&MARIADB, "CREATE TABLE t (f DOUBLE NOT NULL, PRIMARY KEY (f))");
}

static void test_ddl__table_options(void)
{
	expect_conv(&OB, "CREATE TABLE t (a INT) ENGINE=InnoDB ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8 "
		    "STATS_PERSISTENT=1 STATS_AUTO_RECALC=0 STATS_SAMPLE_PAGES=20 DEFAULT CHARSET=utf8mb4",
		    "CREATE TABLE t (a INT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
		    "[table-options] table `d`.`t`: table option ROW_FORMAT=COMPRESSED removed (OceanBase does not take it)");
	expect_same(&OB, "CREATE TABLE t (a INT) ROW_FORMAT=DYNAMIC");
	expect_conv(&MYSQL, "CREATE TABLE t (a INT) ENGINE=Aria PAGE_CHECKSUM=1 TRANSACTIONAL=1 ENCRYPTED=NO",
		    "CREATE TABLE t (a INT) ENGINE=Aria", "table option PAGE_CHECKSUM=1 removed (MySQL does not take it)");
	/* no blank before the first option: it takes the blank after it, the
	 * next one the blank before it, and both go (fuzz_ddl found one left) */
	expect_conv(&MYSQL, "CREATE TABLE t (a INT)PAGE_CHECKSUM=1 TRANSACTIONAL=1 ENCRYPTED=NO",
		    "CREATE TABLE t (a INT)", "table option TRANSACTIONAL=1 removed (MySQL does not take it)");
	expect_refused(&MYSQL, "CREATE TABLE t (a INT) ENCRYPTED=YES ENCRYPTION_KEY_ID=2",
		       "rule table-options: MySQL cannot take ENCRYPTED=YES");
	expect_refused(&MARIADB, "CREATE TABLE t (a INT) ENCRYPTION='Y'", "MariaDB cannot take ENCRYPTION='Y'");
	expect_conv(&MARIADB, "CREATE DATABASE d DEFAULT CHARACTER SET utf8mb4 DEFAULT ENCRYPTION='N'",
		    "CREATE DATABASE d DEFAULT CHARACTER SET utf8mb4", "ENCRYPTION='N' removed");
	expect_same(&MARIADB, "CREATE TABLE t (a INT) PAGE_CHECKSUM=1 TRANSACTIONAL=0");
	/* ALTER: an option spec that goes entirely takes its comma along */
	expect_conv(&MYSQL, "ALTER TABLE t ADD COLUMN b INT, PAGE_CHECKSUM=0", "ALTER TABLE t ADD COLUMN b INT",
		    "PAGE_CHECKSUM=0 removed");
	expect_conv(&MYSQL, "ALTER TABLE t PAGE_CHECKSUM=0, ADD COLUMN b INT", "ALTER TABLE t ADD COLUMN b INT",
		    "PAGE_CHECKSUM=0 removed");
	expect_conv(&OB, "ALTER TABLE t ENGINE=InnoDB KEY_BLOCK_SIZE=4", "ALTER TABLE t ENGINE=InnoDB",
		    "KEY_BLOCK_SIZE=4 removed");
	/* MariaDB-only objects */
	expect_refused(&MYSQL, "CREATE TABLE h (a INT) WITH SYSTEM VERSIONING",
		       "rule system-versioning: MySQL has no system-versioned tables");
	expect_refused(&OB, "ALTER TABLE h ADD SYSTEM VERSIONING", "rule system-versioning");
	expect_same(&MYSQL, "ALTER TABLE h DROP SYSTEM VERSIONING");
	expect_same(&MARIADB, "CREATE TABLE h (a INT) WITH SYSTEM VERSIONING");
	expect_refused(&MYSQL, "CREATE SEQUENCE s START WITH 1 INCREMENT BY 1", "rule sequence: MySQL has no sequences");
	expect_refused(&OB, "CREATE TABLE `s` (`next_not_cached_value` bigint(21) NOT NULL) ENGINE=InnoDB SEQUENCE=1",
		       "rule sequence");
	expect_same(&MARIADB, "CREATE SEQUENCE s");
}

static void test_ddl__forms(void)
{
	/* or-replace */
	expect_refused(&MYSQL, "CREATE OR REPLACE TABLE t (a INT)",
		       "rule or-replace: MySQL has no CREATE OR REPLACE TABLE");
	expect_refused(&OB, "CREATE OR REPLACE DEFINER=`u`@`h` PROCEDURE p() SELECT 1",
		       "rule or-replace: OceanBase has no CREATE OR REPLACE PROCEDURE/FUNCTION");
	expect_same(&MYSQL, "CREATE OR REPLACE VIEW v AS SELECT 1");
	expect_same(&MARIADB, "CREATE OR REPLACE TABLE t (a INT)");
	/* if-exists */
	expect_conv(&MYSQL, "ALTER TABLE t ADD COLUMN IF NOT EXISTS b INT, DROP INDEX IF EXISTS k, "
		    "ADD KEY IF NOT EXISTS kb (b)",
		    "ALTER TABLE t ADD COLUMN b INT, DROP INDEX k, ADD KEY kb (b)",
		    "[if-exists] table `d`.`t`: IF NOT EXISTS removed (MySQL has no such guard here");
	expect_conv(&OB, "ALTER TABLE IF EXISTS t DROP COLUMN IF EXISTS c", "ALTER TABLE t DROP COLUMN c",
		    "IF EXISTS removed");
	expect_conv(&MYSQL, "CREATE INDEX IF NOT EXISTS ix ON t (a)", "CREATE INDEX ix ON t (a)",
		    "IF NOT EXISTS removed");
	expect_conv(&MYSQL, "DROP INDEX IF EXISTS ix ON t", "DROP INDEX ix ON t", "IF EXISTS removed");
	expect_same(&MYSQL, "CREATE TABLE IF NOT EXISTS t (a INT CHECK (IF(a > 0, 1, 0)))");
	expect_same(&MYSQL, "DROP TABLE IF EXISTS t");
	expect_same(&MARIADB, "ALTER TABLE t ADD COLUMN IF NOT EXISTS b INT");
	/* functional-index */
	expect_refused(&MARIADB, "CREATE TABLE t (a VARCHAR(10), KEY `kl` ((lower(`a`))))",
		       "rule functional-index: MariaDB cannot take index `kl` on an expression");
	expect_refused(&MARIADB, "CREATE INDEX ix ON t ((a + 1))", "index `ix` on an expression");
	expect_same(&MYSQL, "CREATE TABLE t (a VARCHAR(10), KEY `kl` ((lower(`a`))))");
	expect_same(&MARIADB, "CREATE TABLE t (a VARCHAR(10), KEY `kl` (`a`(5)))");
	/* MySQL 8's SHOW CREATE DATABASE onto MariaDB */
	expect_conv(&MARIADB, "CREATE DATABASE `d` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE "
		    "utf8mb4_0900_ai_ci */ /*!80016 DEFAULT ENCRYPTION='N' */",
		    "CREATE DATABASE `d` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE "
		    "utf8mb4_unicode_520_ci */", "ENCRYPTION='N' removed");
	CU_ASSERT_PTR_NOT_NULL(conv(&MARIADB, "CREATE DATABASE `d` /*!80016 DEFAULT ENCRYPTION='N' */"));
	CU_ASSERT_PTR_NOT_NULL(strstr(notes, "[mysql-comments] table `d`.`t`: /*!80016 DEFAULT ENCRYPTION='N' */ "
				      "read as code (MariaDB ignores MySQL's versioned comments)"));
	expect_refused(&MARIADB, "CREATE DATABASE `d` /*!80016 DEFAULT ENCRYPTION='Y' */",
		       "rule table-options: MariaDB cannot take ENCRYPTION='Y'");
}

/* MySQL 8's SHOW CREATE TABLE onto MariaDB, which ignores /+!50700../+!99999
 * comments: what they hold becomes code it reads, or goes with a note. The
 * result was checked on a real MariaDB 10.11 (it creates the table). */
static void test_ddl__mysql_comments(void)
{
	static const char *m8 =
		"CREATE TABLE `m8` (\n"
		"  `id` int NOT NULL AUTO_INCREMENT,\n"
		"  `name` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_as_cs DEFAULT NULL,\n"
		"  `g` point NOT NULL /*!80003 SRID 4326 */,\n"
		"  `x` int DEFAULT NULL /*!80023 INVISIBLE */,\n"
		"  PRIMARY KEY (`id`),\n"
		"  KEY `kn` (`name`) /*!80000 INVISIBLE */,\n"
		"  CONSTRAINT `c1` CHECK ((`x` > 0)) /*!80016 NOT ENFORCED */,\n"
		"  CONSTRAINT `c2` CHECK ((`x` < 100))\n"
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci";
	static const char *ne = "CREATE TABLE t (a INT CHECK (a > 0) /*!80016 NOT ENFORCED */)";
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct sl_err err = SL_ERR_INIT;

	expect_conv(&MARIADB, m8,
		    "CREATE TABLE `m8` (\n"
		    "  `id` int NOT NULL AUTO_INCREMENT,\n"
		    "  `name` varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,\n"
		    "  `g` point REF_SYSTEM_ID=4326 NOT NULL,\n"
		    "  `x` int DEFAULT NULL INVISIBLE,\n"
		    "  PRIMARY KEY (`id`),\n"
		    "  KEY `kn` (`name`) IGNORED,\n"
		    "  CONSTRAINT `c2` CHECK ((`x` < 100))\n"
		    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci",
		    "[mysql-comments] table `d`.`t`: CHECK constraint `c1` removed: NOT ENFORCED on the source, "
		    "and MariaDB would enforce it");
	conv(&MARIADB, m8);
	CU_ASSERT_PTR_NOT_NULL(strstr(notes, "/*!80003 SRID 4326 */ -> REF_SYSTEM_ID=4326 after the type"));
	CU_ASSERT_PTR_NOT_NULL(strstr(notes, "/*!80000 INVISIBLE */ read as code"));
	CU_ASSERT_PTR_NOT_NULL(strstr(notes, "index `kn`: INVISIBLE -> IGNORED"));
	/* a column CHECK, and the last element */
	expect_conv(&MARIADB, "CREATE TABLE t (a INT CHECK (a > 0) /*!80016 NOT ENFORCED */, b INT)",
		    "CREATE TABLE t (a INT, b INT)", "CHECK constraint removed");
	expect_conv(&MARIADB, "CREATE TABLE t (a INT, CHECK (a > 0) /*!80016 NOT ENFORCED */)",
		    "CREATE TABLE t (a INT)", "CHECK constraint removed");
	/* MariaDB's own and older comments, and other MySQL contents: as they are */
	expect_same(&MARIADB, "CREATE TABLE t (a INT) /*!50100 PARTITION BY HASH (a) */ /*M!100500 COMMENT 'x' */");
	expect_same(&MARIADB, "CREATE TABLE t (a INT) /*!80013 TABLESPACE `ts` */");
	expect_same(&MYSQL, m8);
	/* a MariaDB source ignored them too: nothing to carry */
	CU_ASSERT_EQUAL(ddl_convert_from(&MARIADB, DDL_SOURCE_MARIADB, "t", ne, strlen(ne), &b, NULL, NULL,
					 &err), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), ne);
	sl_buf_release(&b);
	/* a comment's code longer than a note is carried whole, not cut */
	{
		char in[1024], want[1024], c[301];

		memset(c, 'c', sizeof(c) - 1);
		c[sizeof(c) - 1] = 0;
		snprintf(in, sizeof(in), "CREATE TABLE t (a INT) /*!80016 ENCRYPTION='N' COMMENT='%s' */", c);
		snprintf(want, sizeof(want), "CREATE TABLE t (a INT) COMMENT='%s'", c);
		expect_conv(&MARIADB, in, want, "ENCRYPTION='N' removed");
	}
}

/* ---- ddl_table_split, on SHOW CREATE TABLE of a real MariaDB 10.11 ---- */

static void split(const char *create, const char *table, const char *want_base, const char *want_idx,
		  const char *want_fk)
{
	struct sl_buf base = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct ddl_list idx, fks;
	struct sl_err err = SL_ERR_INIT;

	CU_ASSERT_EQUAL_FATAL(ddl_table_split(create, strlen(create), table, &base, &idx, &fks, &err), 0);
	if (strcmp(sl_buf_cstr(&base), want_base))
		fprintf(stderr, "\n  base: %s\n  want: %s\n", sl_buf_cstr(&base), want_base);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&base), want_base);
	CU_ASSERT_EQUAL(idx.n, want_idx ? 1u : 0u);
	if (want_idx && idx.n) {
		if (strcmp(idx.v[0], want_idx))
			fprintf(stderr, "\n  idx: %s\n  want: %s\n", idx.v[0], want_idx);
		CU_ASSERT_STRING_EQUAL(idx.v[0], want_idx);
	}
	CU_ASSERT_EQUAL(fks.n, want_fk ? 1u : 0u);
	if (want_fk && fks.n)
		CU_ASSERT_STRING_EQUAL(fks.v[0], want_fk);
	ddl_list_release(&idx);
	ddl_list_release(&fks);
	sl_buf_release(&base);
}

static void test_ddl__split(void)
{
	split("CREATE TABLE `t1` (\n"
	      "  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n"
	      "  `a` varchar(300) NOT NULL COMMENT 'name, KEY in a comment',\n"
	      "  `b` int(11) DEFAULT 5 CHECK (`b` > 0),\n"
	      "  `c` text DEFAULT NULL,\n"
	      "  `p` int(11) DEFAULT NULL,\n"
	      "  `g` int(11) GENERATED ALWAYS AS (`b` * 2) VIRTUAL,\n"
	      "  PRIMARY KEY (`id`),\n"
	      "  UNIQUE KEY `ua` (`a`),\n"
	      "  KEY `kb` (`b`,`p`),\n"
	      "  KEY `fk_p` (`p`),\n"
	      "  FULLTEXT KEY `ft` (`c`),\n"
	      "  CONSTRAINT `fk_p` FOREIGN KEY (`p`) REFERENCES `parent` (`id`) ON DELETE CASCADE,\n"
	      "  CONSTRAINT `chk` CHECK (`p` <> 7)\n"
	      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='KEY `x` (`y`), FOREIGN KEY'",
	      "`d`.`t1`",
	      "CREATE TABLE `t1` (\n"
	      "  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n"
	      "  `a` varchar(300) NOT NULL COMMENT 'name, KEY in a comment',\n"
	      "  `b` int(11) DEFAULT 5 CHECK (`b` > 0),\n"
	      "  `c` text DEFAULT NULL,\n"
	      "  `p` int(11) DEFAULT NULL,\n"
	      "  `g` int(11) GENERATED ALWAYS AS (`b` * 2) VIRTUAL,\n"
	      "  PRIMARY KEY (`id`),\n"
	      "  CONSTRAINT `chk` CHECK (`p` <> 7)\n"
	      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='KEY `x` (`y`), FOREIGN KEY'",
	      "ALTER TABLE `d`.`t1` ADD UNIQUE KEY `ua` (`a`), ADD KEY `kb` (`b`,`p`), ADD KEY `fk_p` (`p`), "
	      "ADD FULLTEXT KEY `ft` (`c`)",
	      "ALTER TABLE `d`.`t1` ADD CONSTRAINT `fk_p` FOREIGN KEY (`p`) REFERENCES `parent` (`id`) ON DELETE CASCADE");
	/* the AUTO_INCREMENT column is not first in the primary key: its key stays */
	split("CREATE TABLE `t2` (\n"
	      "  `k` int(11) NOT NULL,\n"
	      "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
	      "  `v` varchar(10) DEFAULT NULL,\n"
	      "  PRIMARY KEY (`k`,`id`),\n"
	      "  KEY `kid` (`id`),\n"
	      "  KEY `kv` (`v`)\n"
	      ") ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci",
	      "`t2`",
	      "CREATE TABLE `t2` (\n"
	      "  `k` int(11) NOT NULL,\n"
	      "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
	      "  `v` varchar(10) DEFAULT NULL,\n"
	      "  PRIMARY KEY (`k`,`id`),\n"
	      "  KEY `kid` (`id`)\n"
	      ") ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci",
	      "ALTER TABLE `t2` ADD KEY `kv` (`v`)", NULL);
	/* partitioned: unique keys stay */
	split("CREATE TABLE `t3` (\n"
	      "  `id` int(11) NOT NULL,\n"
	      "  `d` date NOT NULL,\n"
	      "  `u` int(11) DEFAULT NULL,\n"
	      "  PRIMARY KEY (`id`,`d`),\n"
	      "  UNIQUE KEY `ud` (`u`,`d`),\n"
	      "  KEY `kd` (`d`)\n"
	      ") ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci\n"
	      " PARTITION BY RANGE (year(`d`))\n"
	      "(PARTITION `p0` VALUES LESS THAN (2000) ENGINE = InnoDB,\n"
	      " PARTITION `p1` VALUES LESS THAN MAXVALUE ENGINE = InnoDB)",
	      "`t3`",
	      "CREATE TABLE `t3` (\n"
	      "  `id` int(11) NOT NULL,\n"
	      "  `d` date NOT NULL,\n"
	      "  `u` int(11) DEFAULT NULL,\n"
	      "  PRIMARY KEY (`id`,`d`),\n"
	      "  UNIQUE KEY `ud` (`u`,`d`)\n"
	      ") ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci\n"
	      " PARTITION BY RANGE (year(`d`))\n"
	      "(PARTITION `p0` VALUES LESS THAN (2000) ENGINE = InnoDB,\n"
	      " PARTITION `p1` VALUES LESS THAN MAXVALUE ENGINE = InnoDB)",
	      "ALTER TABLE `t3` ADD KEY `kd` (`d`)", NULL);
	/* nothing to defer: byte for byte */
	split("CREATE TABLE `t4` (\n  `a` int(11) DEFAULT NULL,\n  `b` varchar(5) DEFAULT NULL\n"
	      ") ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci", "`t4`",
	      "CREATE TABLE `t4` (\n  `a` int(11) DEFAULT NULL,\n  `b` varchar(5) DEFAULT NULL\n"
	      ") ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci", NULL, NULL);
	/* no primary key: the first key led by the AUTO_INCREMENT column stays */
	split("CREATE TABLE `t5` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `v` int(11),\n"
	      "  KEY `kv` (`v`),\n  UNIQUE KEY `uid` (`id`),\n  KEY `kid2` (`id`,`v`)\n) ENGINE=InnoDB", "`t5`",
	      "CREATE TABLE `t5` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `v` int(11),\n"
	      "  UNIQUE KEY `uid` (`id`)\n) ENGINE=InnoDB",
	      "ALTER TABLE `t5` ADD KEY `kv` (`v`), ADD KEY `kid2` (`id`,`v`)", NULL);
	/* no primary key: the first UNIQUE key over whole NOT NULL columns clusters the table */
	split("CREATE TABLE `t6` (\n  `a` varchar(20) NOT NULL,\n  `b` int(11) DEFAULT NULL,\n"
	      "  `c` int(11) NOT NULL,\n  `d` int(11) NOT NULL CHECK (`d` is not null),\n  `e` int(11) NOT NULL,\n"
	      "  UNIQUE KEY `u1` (`a`(10)),\n  UNIQUE KEY `u2` (`b`),\n  UNIQUE KEY `u3` (`c`,`d`),\n"
	      "  UNIQUE KEY `u4` (`e`)\n) ENGINE=InnoDB", "`t6`",
	      "CREATE TABLE `t6` (\n  `a` varchar(20) NOT NULL,\n  `b` int(11) DEFAULT NULL,\n"
	      "  `c` int(11) NOT NULL,\n  `d` int(11) NOT NULL CHECK (`d` is not null),\n  `e` int(11) NOT NULL,\n"
	      "  UNIQUE KEY `u3` (`c`,`d`)\n) ENGINE=InnoDB",
	      "ALTER TABLE `t6` ADD UNIQUE KEY `u1` (`a`(10)), ADD UNIQUE KEY `u2` (`b`), ADD UNIQUE KEY `u4` (`e`)",
	      NULL);
	/* not a table definition: as it is */
	split("CREATE TABLE `t7` LIKE `t6`", "`t7`", "CREATE TABLE `t7` LIKE `t6`", NULL, NULL);
}

static void without_fks(const char *create, const char *want_base, size_t want_nfk,
			const char *want_fk0)
{
	struct sl_buf base = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct ddl_list fks;
	struct sl_err err = SL_ERR_INIT;

	CU_ASSERT_EQUAL_FATAL(ddl_table_without_fks(create, strlen(create), "`d`.`c`", &base, &fks, &err), 0);
	if (strcmp(sl_buf_cstr(&base), want_base))
		fprintf(stderr, "\n  base: %s\n  want: %s\n", sl_buf_cstr(&base), want_base);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&base), want_base);
	CU_ASSERT_EQUAL(fks.n, want_nfk);
	if (want_fk0 && fks.n)
		CU_ASSERT_STRING_EQUAL(fks.v[0], want_fk0);
	ddl_list_release(&fks);
	sl_buf_release(&base);
}

/* The snapshot's TABLE object: only the foreign keys go (indexes stay for
 * replay to split), the same clauses ddl_table_split() gives. */
static void test_ddl__without_fks(void)
{
	without_fks("CREATE TABLE `c` (\n  `id` int(11) NOT NULL,\n  `p` int(11) DEFAULT NULL,\n"
		    "  `q` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  KEY `p` (`p`),\n"
		    "  CONSTRAINT `c_ibfk_1` FOREIGN KEY (`p`) REFERENCES `par` (`id`) ON DELETE CASCADE,\n"
		    "  CONSTRAINT `chk` CHECK (`q` <> 7),\n"
		    "  CONSTRAINT `c,2` FOREIGN KEY (`q`) REFERENCES `par` (`id`)\n"
		    ") ENGINE=InnoDB COMMENT='  CONSTRAINT `x` FOREIGN KEY (`y`)'",
		    "CREATE TABLE `c` (\n  `id` int(11) NOT NULL,\n  `p` int(11) DEFAULT NULL,\n"
		    "  `q` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  KEY `p` (`p`),\n"
		    "  CONSTRAINT `chk` CHECK (`q` <> 7)\n"
		    ") ENGINE=InnoDB COMMENT='  CONSTRAINT `x` FOREIGN KEY (`y`)'",
		    2, "ALTER TABLE `d`.`c` ADD CONSTRAINT `c_ibfk_1` FOREIGN KEY (`p`) REFERENCES `par` (`id`) "
		    "ON DELETE CASCADE");
	/* no foreign key: byte for byte */
	without_fks("CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  KEY `k` (`id`)\n)",
		    "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  KEY `k` (`id`)\n)", 0, NULL);
	without_fks("CREATE TABLE `t7` LIKE `t6`", "CREATE TABLE `t7` LIKE `t6`", 0, NULL);
}

/* ---- version detection ---- */

static void test_ddl__versions(void)
{
	struct ddl_target t;
	enum ddl_dialect d;
	struct sl_err err = SL_ERR_INIT;

	ddl_target_from_version(&t, "10.11.6-MariaDB-log", "MariaDB Server");
	CU_ASSERT_TRUE(t.dialect == DDL_MARIADB && t.major == 10 && t.minor == 11 && t.patch == 6);
	ddl_target_from_version(&t, "5.5.5-10.6.12-MariaDB-0ubuntu0.22.04.1", NULL);
	CU_ASSERT_TRUE(t.dialect == DDL_MARIADB && t.major == 10 && t.minor == 6 && t.patch == 12);
	ddl_target_from_version(&t, "11.4.5-MariaDB", NULL);
	CU_ASSERT_TRUE(t.dialect == DDL_MARIADB && t.major == 11 && t.minor == 4 && t.patch == 5);
	ddl_target_from_version(&t, "8.0.36-0ubuntu0.22.04.1", "(Ubuntu)");
	CU_ASSERT_TRUE(t.dialect == DDL_MYSQL && t.major == 8 && t.minor == 0 && t.patch == 36);
	ddl_target_from_version(&t, "8.4.3", "MySQL Community Server - GPL");
	CU_ASSERT_TRUE(t.dialect == DDL_MYSQL && t.major == 8 && t.minor == 4 && t.patch == 3);
	ddl_target_from_version(&t, "5.7.25-OceanBase-v4.2.1.2", NULL);
	CU_ASSERT_TRUE(t.dialect == DDL_OCEANBASE && t.major == 4 && t.minor == 2 && t.patch == 1);
	ddl_target_from_version(&t, "5.7.25-OceanBase_CE-v4.3.0.1", "OceanBase_CE 4.3.0.1 (r100000)");
	CU_ASSERT_TRUE(t.dialect == DDL_OCEANBASE && t.major == 4 && t.minor == 3 && t.patch == 0);
	ddl_target_from_version(&t, "5.7.25", "OceanBase 4.2.5.0 (r1-abc) (Built Jan 1 2025)");
	CU_ASSERT_TRUE(t.dialect == DDL_OCEANBASE && t.major == 4 && t.minor == 2 && t.patch == 5);
	ddl_target_from_version(&t, "garbage", NULL);
	CU_ASSERT_TRUE(t.dialect == DDL_MYSQL && t.major == 0);
	ddl_target_from_version(&t, NULL, NULL);
	CU_ASSERT_TRUE(t.dialect == DDL_MYSQL && t.major == 0);
	CU_ASSERT_EQUAL(ddl_dialect_parse("OceanBase", &d, &err), 0);
	CU_ASSERT_EQUAL(d, DDL_OCEANBASE);
	CU_ASSERT_STRING_EQUAL(ddl_dialect_name(d), "oceanbase");
	CU_ASSERT_EQUAL(ddl_dialect_parse("postgres", &d, &err), -SL_EINVAL_ARG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown dialect 'postgres'"));

	/* --dest-dialect over the server's answer (replay and precheck alike):
	 * the version stays only for the server's own dialect */
	ddl_target_from_version(&t, "10.11.6-MariaDB-log", "MariaDB Server");
	CU_ASSERT_EQUAL(ddl_target_override(&t, NULL, &err), 0);
	CU_ASSERT_TRUE(t.dialect == DDL_MARIADB && t.major == 10 && t.minor == 11);
	CU_ASSERT_EQUAL(ddl_target_override(&t, "", &err), 0);
	CU_ASSERT_TRUE(t.dialect == DDL_MARIADB && t.major == 10 && t.minor == 11);
	CU_ASSERT_EQUAL(ddl_target_override(&t, "MariaDB", &err), 0);
	CU_ASSERT_TRUE(t.dialect == DDL_MARIADB && t.major == 10 && t.minor == 11);
	CU_ASSERT_EQUAL(ddl_target_override(&t, "mysql", &err), 0);
	CU_ASSERT_TRUE(t.dialect == DDL_MYSQL && t.major == 0 && t.minor == 0 && t.patch == 0);
	CU_ASSERT_EQUAL(ddl_target_override(&t, "db2", &err), -SL_EINVAL_ARG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown dialect 'db2'"));
}

/* Every prefix of statements that exercise every rule, through every
 * dialect and the split: an error or a text, never a crash; a text changed
 * only with a note, and converting it again changes nothing. */
static void test_ddl__prefixes(void)
{
	static const char *const s[] = {
		"CREATE DEFINER=`u`@`h` VIEW v AS SELECT a COLLATE utf8mb4_0900_ai_ci FROM t",
		"CREATE TABLE t (id SERIAL, a REAL, b NCHAR(3), c VARCHAR(300) COLLATE utf8mb4_0900_bin, "
		"d INET6, e BLOB COMPRESSED=zlib, f DOUBLE PRIMARY KEY, KEY k (c DESC) INVISIBLE, "
		"UNIQUE KEY u (c(400)), FULLTEXT KEY ft (c), CONSTRAINT fk FOREIGN KEY (a) REFERENCES p (x) "
		"ON DELETE CASCADE) ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8 PAGE_CHECKSUM=1 ENCRYPTED=YES "
		"WITH SYSTEM VERSIONING PARTITION BY HASH (id) PARTITIONS 2",
		"ALTER TABLE IF EXISTS t ADD COLUMN IF NOT EXISTS (a REAL, b NCHAR), CHANGE x y SERIAL, "
		"PAGE_CHECKSUM=0, ADD KEY (a), ADD INDEX IF NOT EXISTS f ((a + 1)) IGNORED",
		"CREATE OR REPLACE TABLE t (a INT NOT NULL, b INT, UNIQUE KEY (a), KEY (b), FOREIGN KEY (b) "
		"REFERENCES p (x)) PARTITION BY KEY (a)",
		"CREATE TABLE `m8` (`g` point NOT NULL /*!80003 SRID 4326 */, `x` int /*!80023 INVISIBLE */, "
		"KEY `kn` (`x`) /*!80000 INVISIBLE */, CONSTRAINT `c1` CHECK ((`x` > 0)) /*!80016 NOT ENFORCED */, "
		"CHECK (x < 9) /*!80016 NOT ENFORCED */) /*!80016 DEFAULT ENCRYPTION='N' */",
	};
	const struct ddl_target *t[] = { &MARIADB, &MYSQL, &OB, &MYSQL57 };
	char buf[1024], out_s[2048];

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		for (size_t l = 0; l <= strlen(s[i]); l++) {
			struct sl_buf base = SL_BUF_INIT(SL_BUF_UNLIMITED);
			struct ddl_list idx, fks;
			struct sl_err err = SL_ERR_INIT;

			memcpy(buf, s[i], l);
			buf[l] = 0;
			for (size_t j = 0; j < sizeof(t) / sizeof(t[0]); j++) {
				const char *once;

				if (!(once = conv(t[j], buf)))
					continue;
				if (!nnotes && strcmp(once, buf))
					fprintf(stderr, "\n  changed without a note: %s\n  into: %s\n", buf, once);
				CU_ASSERT_TRUE(nnotes || !strcmp(once, buf));
				snprintf(out_s, sizeof(out_s), "%s", once);
				once = conv(t[j], out_s);
				CU_ASSERT_PTR_NOT_NULL(once);
				if (once && (nnotes || strcmp(once, out_s)))
					fprintf(stderr, "\n  not idempotent (%s): %s\n  then: %s\n  notes: %s", ddl_dialect_name(t[j]->dialect), out_s, once, notes);
				CU_ASSERT_TRUE(once && !nnotes && !strcmp(once, out_s));
			}
			if (!ddl_table_split(buf, l, "`t`", &base, &idx, &fks, &err)) {
				ddl_list_release(&idx);
				ddl_list_release(&fks);
			}
			ddl_describe(buf, l, "d", (char[64]){ 0 }, 64);
			sl_buf_release(&base);
		}
	CU_PASS("no crash");
}

/* A rule whose edit makes another statement for a rule that ran before it:
 * the rules run again until a pass changes nothing, so the first
 * conversion is the last one (fuzz_ddl, soak 2026-12-06: if-exists took a
 * guard off, and on the next conversion column-compressed saw a column). */
static void test_ddl__passes(void)
{
	expect_conv(&OB, "ALTER TABLE t ADD c IF NOT EXISTS REAL", "ALTER TABLE t ADD c DOUBLE",
		    "[real] table `d`.`t`: column `c`: REAL -> DOUBLE");
	CU_ASSERT_PTR_NOT_NULL(conv(&OB, "ALTER TABLE t ADD c IF NOT EXISTS REAL"));
	CU_ASSERT_PTR_NOT_NULL(strstr(notes, "[if-exists] table `d`.`t`: IF NOT EXISTS removed"));
	/* a parenthesis where the type should be is no column definition: its
	 * contents are not the column's attributes */
	expect_same(&MYSQL, "ALTER TABLE t ADD c (x INT) ROW_FORMAT=COMPRESSED");
	/* a value after = is never the COMPRESSED attribute */
	expect_same(&MYSQL, "ALTER TABLE t ADD c BLOB COMMENT=COMPRESSED");
}

/* Every DDL input fuzz_ddl ever stopped on (tests/regress/fuzz-ddl-*),
 * checked as fuzz_ddl checks it, for the same destinations: a text or an
 * error; a text changed only with a note; converting it again changes
 * nothing and notes nothing. */
static void test_ddl__fuzz_regressions(void)
{
	const struct ddl_target *t[] = { &MARIADB, &MARIADB_114, &MYSQL, &MYSQL57, &OB };
	char dir[1024];
	unsigned seen = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/regress", SLUICE_SOURCE_DIR);
	d = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((e = readdir(d))) {
		char path[2048], in[65536];
		size_t n;
		FILE *f;

		if (strncmp(e->d_name, "fuzz-ddl-", 9))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		n = fread(in, 1, sizeof(in), f);
		fclose(f);
		seen++;
		for (size_t j = 0; j < sizeof(t) / sizeof(t[0]); j++) {
			struct sl_buf a = SL_BUF_INIT(SL_BUF_UNLIMITED), b = SL_BUF_INIT(SL_BUF_UNLIMITED);
			struct sl_err err = SL_ERR_INIT;
			unsigned once;
			int ok;

			notes[0] = 0;
			nnotes = 0;
			if (ddl_convert(t[j], "x", in, n, &a, collect, NULL, &err)) {
				/* the start only: a refusal may quote a name that says it */
				static const char unsettled[] = "x: " DDL_UNSETTLED;

				CU_ASSERT_NOT_EQUAL(strncmp(err.msg, unsettled, sizeof(unsettled) - 1), 0);
				sl_buf_release(&a);
				continue;
			}
			CU_ASSERT_TRUE(nnotes || (a.len == n && !memcmp(a.data, in, n)));
			once = nnotes;
			nnotes = 0;
			ok = !ddl_convert(t[j], "x", (const char *)a.data, a.len, &b, collect, NULL, &err) &&
			     !nnotes && a.len == b.len && !memcmp(a.data, b.data, a.len);
			if (!ok)
				fprintf(stderr, "\n  %s, %s: not idempotent (%u notes, then %u)\n  once:  %.*s\n  twice: %.*s\n",
					e->d_name, ddl_dialect_name(t[j]->dialect), once, nnotes, (int)a.len,
					(const char *)a.data, (int)b.len, (const char *)b.data);
			CU_ASSERT_TRUE(ok);
			sl_buf_release(&a);
			sl_buf_release(&b);
		}
	}
	closedir(d);
	CU_ASSERT_TRUE(seen > 0);
}

static void test_ddl__describe(void)
{
	static const struct { const char *stmt, *db, *want; } c[] = {
		{ "CREATE TABLE `a`.`b` (x INT)", "d", "table `a`.`b`" },
		{ "ALTER TABLE t ADD x INT", "d", "table `d`.`t`" },
		{ "CREATE DEFINER=`r`@`h` VIEW v AS SELECT 1", NULL, "view `v`" },
		{ "CREATE UNIQUE INDEX ix ON t (a)", "d", "index `d`.`ix`" },
		{ "CREATE DATABASE IF NOT EXISTS `x`", "d", "database `x`" },
		{ "DROP TABLE t", "d", "statement" },
	};
	char b[200];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ddl_describe(c[i].stmt, strlen(c[i].stmt), c[i].db, b, sizeof(b));
		CU_ASSERT_STRING_EQUAL(b, c[i].want);
	}
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("ddl", NULL, NULL);
	CU_add_test(s, "lexer: strings, comments, executable comments", test_ddl__lexer);
	CU_add_test(s, "untouched statements byte for byte", test_ddl__untouched);
	CU_add_test(s, "collation-0900", test_ddl__collation);
	CU_add_test(s, "real, nchar, serial, mariadb-types, column-compressed", test_ddl__types);
	CU_add_test(s, "definer", test_ddl__definer);
	CU_add_test(s, "ob-fulltext, ob-index-desc, index-visibility, ob-index-767", test_ddl__ob_indexes);
	CU_add_test(s, "ob-fk-cascade, ob-float-pk", test_ddl__ob_keys);
	CU_add_test(s, "table-options, system-versioning, sequence", test_ddl__table_options);
	CU_add_test(s, "or-replace, if-exists, functional-index", test_ddl__forms);
	CU_add_test(s, "mysql-comments", test_ddl__mysql_comments);
	CU_add_test(s, "table split of SHOW CREATE TABLE", test_ddl__split);
	CU_add_test(s, "foreign keys cut off a SHOW CREATE TABLE", test_ddl__without_fks);
	CU_add_test(s, "dialect from version()", test_ddl__versions);
	CU_add_test(s, "the object a statement names", test_ddl__describe);
	CU_add_test(s, "every prefix of every rule's input", test_ddl__prefixes);
	CU_add_test(s, "rules run until a pass changes nothing", test_ddl__passes);
	CU_add_test(s, "inputs fuzz_ddl stopped on", test_ddl__fuzz_regressions);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
