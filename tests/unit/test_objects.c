/* test_objects.c - switchover step 7 (migrate/mig_objects.c): deferred foreign keys and triggers created on the destination, AUTO_INCREMENT counters raised, the source's triggers parked and restored.
 * Without arguments: the cases that need no server (a missing or damaged saved-triggers file, no snapshot).
 * `test_objects --servers SRC_URL DST_URL DIR RDIR` is tests/integration/test_objects.sh's suite: DIR is what
 * `sluice migrate` left (no --follow), the schema is the script's; passwords come from SLUICE_SOURCE_PASSWORD
 * and SLUICE_DEST_PASSWORD. Every case checks a change on the servers that does not happen when its function
 * does nothing. */
#include <CUnit/Basic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "mig_int.h"

#define SQL_MODE "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"

static const char *src_url, *dst_url, *dir, *rdir;
static MYSQL *src, *dst;	/* the control sessions the functions get */
static MYSQL *srcw, *dstw;	/* the test's own: autocommit, foreign_key_checks on */

/* What SHOW CREATE TRIGGER said on the source before parking (Trigger,
 * sql_mode, statement, character_set_client, collation_connection, Database
 * Collation) and information_schema's ACTION_ORDER and DEFINER. */
#define NTRG 3
static const char *const trg_names[NTRG] = { "child_bi", "child_bi2", "parent_ai" };
static char *before[NTRG][8];

/* ---- helpers ---- */

static MYSQL *conn(const char *url, const char *pwenv, enum db_role role)
{
	struct sl_dsn d = { 0 };
	struct sl_err err = SL_ERR_INIT;
	struct db_opts o = { .role = role, .sql_mode = SQL_MODE };
	MYSQL *m = NULL;

	if (sl_dsn_parse(&d, url, pwenv, &err) || db_connect(&m, &d, &o, &err))
		fprintf(stderr, "connect: %s\n", err.msg);
	sl_dsn_release(&d);
	return m;
}

static int exec(MYSQL *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int exec(MYSQL *m, const char *fmt, ...)
{
	char sql[4096];
	struct sl_err err = SL_ERR_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	rc = db_exec(m, "test", sql, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	return rc;
}

/* The first column of the first row, malloc'd; NULL for no row or SQL NULL. */
static char *value(MYSQL *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *value(MYSQL *m, const char *fmt, ...)
{
	char sql[4096], *out = NULL;
	MYSQL_RES *res;
	MYSQL_ROW row;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (mysql_query(m, sql) || !(res = mysql_store_result(m))) {
		fprintf(stderr, "%s: %s\n", sql, mysql_error(m));
		return NULL;
	}
	if ((row = mysql_fetch_row(res)) && row[0])
		out = strdup(row[0]);
	mysql_free_result(res);
	mysql_query(m, "COMMIT");
	return out;
}

static long long number(MYSQL *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long long number(MYSQL *m, const char *fmt, ...)
{
	char sql[4096], *v;
	long long n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	v = value(m, "%s", sql);
	n = v ? strtoll(v, NULL, 10) : -1;
	free(v);
	return n;
}

static long long counter(MYSQL *m, const char *table)
{
	return number(m, "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE "
		      "TABLE_SCHEMA='shop' AND TABLE_NAME='%s'", table);
}

static long long triggers_on(MYSQL *m, const char *table)
{
	return number(m, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE "
		      "EVENT_OBJECT_SCHEMA='shop' AND EVENT_OBJECT_TABLE='%s'", table);
}

/* SHOW CREATE TRIGGER's first six columns, ACTION_ORDER and DEFINER into out[8]. */
static int trigger_def(MYSQL *m, const char *name, char *out[8])
{
	char sql[256];
	MYSQL_RES *res;
	MYSQL_ROW row;

	memset(out, 0, 8 * sizeof(char *));
	snprintf(sql, sizeof(sql), "SHOW CREATE TRIGGER `shop`.`%s`", name);
	if (mysql_query(m, sql) || !(res = mysql_store_result(m)))
		return -1;
	if ((row = mysql_fetch_row(res)))
		for (int i = 0; i < 6; i++)
			out[i] = strdup(row[i] ? row[i] : "(null)");
	mysql_free_result(res);
	if (!out[0])
		return -1;
	out[6] = value(m, "SELECT ACTION_ORDER FROM information_schema.TRIGGERS WHERE "
		       "TRIGGER_SCHEMA='shop' AND TRIGGER_NAME='%s'", name);
	out[7] = value(m, "SELECT DEFINER FROM information_schema.TRIGGERS WHERE "
		       "TRIGGER_SCHEMA='shop' AND TRIGGER_NAME='%s'", name);
	return 0;
}

static void def_free(char *d[8])
{
	for (int i = 0; i < 8; i++) {
		free(d[i]);
		d[i] = NULL;
	}
}

/* "file:position" of m's binlog end. */
static char *binlog_end(MYSQL *m)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row = NULL;
	char *out;

	if (!mysql_query(m, "SHOW MASTER STATUS") && (res = mysql_store_result(m)))
		row = mysql_fetch_row(res);
	out = sl_xasprintf("%s:%s", row && row[0] ? row[0] : "?", row && row[1] ? row[1] : "?");
	if (res)
		mysql_free_result(res);
	return out;
}

static char *file_text(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static char *saved_path(const char *suffix)
{
	return sl_xasprintf("%s/source-triggers%s", rdir, suffix);
}

/* ---- with servers, in this order ---- */

static void test_objects__deferred_create(void)
{
	struct mig_objects_result r = { 0 };
	struct sl_err err = SL_ERR_INIT;
	char *pos0, *pos1, *mode0, *mode1, *d[8];
	long long table_id;

	/* what migrate left: no foreign key, no trigger on the destination */
	CU_ASSERT_EQUAL(number(dstw, "SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS "
			       "WHERE CONSTRAINT_SCHEMA='shop' AND CONSTRAINT_TYPE='FOREIGN KEY'"), 0);
	CU_ASSERT_EQUAL(triggers_on(dstw, "child") + triggers_on(dstw, "parent"), 0);
	pos0 = binlog_end(dstw);	/* created out of the binlog: it stays */
	/* a caller's session that checks foreign keys: the key is added
	 * without a table copy all the same (the table keeps its id) */
	CU_ASSERT_EQUAL_FATAL(exec(dst, "SET SESSION foreign_key_checks=1"), 0);
	table_id = number(dstw, "SELECT TABLE_ID FROM information_schema.INNODB_SYS_TABLES "
			  "WHERE NAME='shop/child'");
	CU_ASSERT_TRUE(table_id > 0);
	mode0 = value(dst, "SELECT CONCAT(@@SESSION.sql_mode, '/', IFNULL(DATABASE(), '-'))");

	CU_ASSERT_EQUAL_FATAL(mig__deferred_create(dir, dst, "destination", &r, &err), 0);
	if (err.code)
		fprintf(stderr, "deferred_create: %s\n", err.msg);
	/* one foreign key and three triggers */
	CU_ASSERT_EQUAL(r.created, 4);
	CU_ASSERT_EQUAL(r.present, 0);
	CU_ASSERT_EQUAL(number(dstw, "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS "
			       "WHERE CONSTRAINT_SCHEMA='shop' AND CONSTRAINT_NAME='child_parent' AND "
			       "TABLE_NAME='child' AND REFERENCED_TABLE_NAME='parent' AND "
			       "DELETE_RULE='CASCADE'"), 1);
	CU_ASSERT_EQUAL(triggers_on(dstw, "child"), 2);
	CU_ASSERT_EQUAL(triggers_on(dstw, "parent"), 1);
	/* in the source's firing order, with the source's definer */
	CU_ASSERT_EQUAL(trigger_def(dstw, "child_bi2", d), 0);
	CU_ASSERT_STRING_EQUAL(d[6] ? d[6] : "", "2");
	def_free(d);
	CU_ASSERT_EQUAL(trigger_def(dstw, "child_bi", d), 0);
	CU_ASSERT_STRING_EQUAL(d[7] ? d[7] : "", "appuser@%");
	/* under the sql_mode it had on the source (the stream records it) */
	CU_ASSERT_STRING_EQUAL(d[1] ? d[1] : "", "PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION");
	def_free(d);
	pos1 = binlog_end(dstw);
	CU_ASSERT_STRING_EQUAL(pos0, pos1);	/* the reverse capture never sees them */
	free(pos0);
	free(pos1);
	CU_ASSERT_EQUAL(number(dst, "SELECT @@SESSION.sql_log_bin"), 1);
	CU_ASSERT_EQUAL(number(dst, "SELECT @@SESSION.foreign_key_checks"), 1);
	CU_ASSERT_EQUAL(number(dstw, "SELECT TABLE_ID FROM information_schema.INNODB_SYS_TABLES "
			       "WHERE NAME='shop/child'"), table_id);
	/* the caller's session as it was */
	mode1 = value(dst, "SELECT CONCAT(@@SESSION.sql_mode, '/', IFNULL(DATABASE(), '-'))");
	CU_ASSERT_STRING_EQUAL(mode0 ? mode0 : "?", SQL_MODE "/-");
	CU_ASSERT_TRUE(mode1 && !strncmp(mode1, SQL_MODE "/", strlen(SQL_MODE) + 1));
	free(mode0);
	free(mode1);

	/* a rerun (after a crash) creates nothing */
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(mig__deferred_create(dir, dst, "destination", &r, &err), 0);
	CU_ASSERT_EQUAL(r.created, 0);
	CU_ASSERT_EQUAL(r.present, 4);
}

static void test_objects__autoinc_sync(void)
{
	struct mig_objects_result r = { 0 };
	struct sl_err err = SL_ERR_INIT;
	long long s_child, s_audit, d_ahead;

	/* the application went on writing on the source */
	CU_ASSERT_EQUAL_FATAL(exec(srcw, "INSERT INTO shop.child (parent_id, note) VALUES "
				   "(1,'x'),(2,'y'),(3,'z'),(1,'w'),(2,'v')"), 0);
	CU_ASSERT_EQUAL_FATAL(exec(srcw, "INSERT INTO shop.parent (id, name) VALUES (101,'p101'),"
				   "(102,'p102'),(103,'p103')"), 0);	/* parent_ai writes audit rows */
	CU_ASSERT_EQUAL_FATAL(exec(srcw, "DELETE FROM shop.child ORDER BY id DESC LIMIT 1"), 0);
	s_child = counter(srcw, "child");
	s_audit = counter(srcw, "audit");
	CU_ASSERT_TRUE(counter(dstw, "child") < s_child);
	CU_ASSERT_TRUE(counter(dstw, "audit") < s_audit);
	/* the destination's counter of `ahead` went past the source's */
	CU_ASSERT_EQUAL_FATAL(exec(dstw, "INSERT INTO shop.ahead (id, v) VALUES (5000, 0)"), 0);
	CU_ASSERT_EQUAL_FATAL(exec(dstw, "DELETE FROM shop.ahead WHERE id = 5000"), 0);
	d_ahead = counter(dstw, "ahead");
	CU_ASSERT_TRUE(d_ahead > counter(srcw, "ahead"));

	CU_ASSERT_EQUAL_FATAL(mig__autoinc_sync(dir, src, dst, &r, &err), 0);
	if (err.code)
		fprintf(stderr, "autoinc_sync: %s\n", err.msg);
	CU_ASSERT_EQUAL(r.changed, 2);	/* child, audit */
	CU_ASSERT_EQUAL(r.present, 1);	/* ahead: never lowered */
	CU_ASSERT_EQUAL(counter(dstw, "child"), s_child);
	CU_ASSERT_EQUAL(counter(dstw, "audit"), s_audit);
	CU_ASSERT_EQUAL(counter(dstw, "ahead"), d_ahead);
	/* `later` is not a migrated table: not looked at */
	CU_ASSERT_EQUAL(number(dstw, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
			       "TABLE_SCHEMA='shop' AND TABLE_NAME='later'"), 0);

	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(mig__autoinc_sync(dir, src, dst, &r, &err), 0);
	CU_ASSERT_EQUAL(r.changed, 0);
	CU_ASSERT_EQUAL(r.present, 3);
}

static void test_objects__park(void)
{
	struct mig_objects_result r = { 0 };
	struct sl_err err = SL_ERR_INIT;
	char *path = saved_path(""), *text1, *text2;

	for (int i = 0; i < NTRG; i++)
		CU_ASSERT_EQUAL_FATAL(trigger_def(srcw, trg_names[i], before[i]), 0);
	CU_ASSERT_STRING_EQUAL(before[0][1], "PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION");
	CU_ASSERT_EQUAL(access(path, F_OK), -1);

	CU_ASSERT_EQUAL_FATAL(mig__source_triggers_park(dir, rdir, src, &r, &err), 0);
	if (err.code)
		fprintf(stderr, "park: %s\n", err.msg);
	CU_ASSERT_EQUAL(r.saved, 3);
	CU_ASSERT_EQUAL(r.dropped, 3);
	CU_ASSERT_EQUAL(triggers_on(srcw, "child") + triggers_on(srcw, "parent"), 0);
	CU_ASSERT_EQUAL(triggers_on(srcw, "later"), 1);	/* not a migrated table */
	text1 = file_text(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text1);
	CU_ASSERT_PTR_NOT_NULL(strstr(text1, "PIPES_AS_CONCAT"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text1, "`appuser`@`%`"));
	/* with its triggers gone, the source no longer rewrites rows */
	CU_ASSERT_EQUAL(exec(srcw, "INSERT INTO shop.child (id, parent_id, note) VALUES (700, 1, 'n')"), 0);
	CU_ASSERT_EQUAL(number(srcw, "SELECT note = 'n' FROM shop.child WHERE id = 700"), 1);
	CU_ASSERT_EQUAL(exec(srcw, "DELETE FROM shop.child WHERE id = 700"), 0);

	/* a crash after the file was written and before parent_ai was dropped:
	 * a rerun keeps the file and drops what is left */
	CU_ASSERT_EQUAL_FATAL(exec(srcw, "USE shop"), 0);
	CU_ASSERT_EQUAL_FATAL(exec(srcw, "%s", before[2][2]), 0);
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(mig__source_triggers_park(dir, rdir, src, &r, &err), 0);
	CU_ASSERT_EQUAL(r.saved, 0);
	CU_ASSERT_EQUAL(r.dropped, 1);
	CU_ASSERT_EQUAL(triggers_on(srcw, "parent"), 0);
	/* and once more: nothing dropped */
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(mig__source_triggers_park(dir, rdir, src, &r, &err), 0);
	CU_ASSERT_EQUAL(r.saved, 0);
	CU_ASSERT_EQUAL(r.dropped, 0);
	text2 = file_text(path);
	CU_ASSERT_TRUE(text2 && !strcmp(text1, text2));
	free(text1);
	free(text2);
	free(path);
}

static void test_objects__restore(void)
{
	struct mig_objects_result r = { 0 };
	struct sl_err err = SL_ERR_INIT;
	char *path = saved_path(""), *done = saved_path(".restored"), *mode0, *mode1, *d[8];

	/* a mode this server does not know (a file from another flavor) is
	 * left out, the others kept */
	{
		static const char was[] = "sql_mode 38\nPIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION\n",
				  is[] = "sql_mode 51\nPIPES_AS_CONCAT,NO_SUCH_MODE,NO_ENGINE_SUBSTITUTION\n";
		char *text = file_text(path), *at = text ? strstr(text, was) : NULL;
		FILE *f;

		CU_ASSERT_PTR_NOT_NULL_FATAL(at);
		*at = 0;
		f = fopen(path, "we");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fprintf(f, "%s%s%s", text, is, at + strlen(was));
		fclose(f);
		free(text);
	}
	CU_ASSERT_EQUAL_FATAL(exec(srcw, "USE shop"), 0);
	CU_ASSERT_EQUAL_FATAL(exec(srcw, "%s", before[2][2]), 0);
	mode0 = value(src, "SELECT CONCAT(@@SESSION.sql_mode, '/', @@SESSION.character_set_client)");
	CU_ASSERT_EQUAL_FATAL(mig__source_triggers_restore(rdir, src, &r, &err), 0);
	if (err.code)
		fprintf(stderr, "restore: %s\n", err.msg);
	CU_ASSERT_EQUAL(r.restored, 2);
	CU_ASSERT_EQUAL(r.present, 1);	/* parent_ai: as if a restore had crashed after it */
	for (int i = 0; i < NTRG; i++) {
		CU_ASSERT_EQUAL_FATAL(trigger_def(srcw, trg_names[i], d), 0);
		for (int k = 0; k < 8; k++) {
			if (strcmp(before[i][k], d[k]))
				fprintf(stderr, "trigger %s column %d: was '%s', is '%s'\n", trg_names[i],
					k, before[i][k], d[k]);
			CU_ASSERT_STRING_EQUAL(before[i][k], d[k]);
		}
		def_free(d);
	}
	/* they work again, under their own sql_mode: || concatenates */
	CU_ASSERT_EQUAL(exec(srcw, "INSERT INTO shop.child (id, parent_id, note) VALUES (701, 1, 'n')"), 0);
	CU_ASSERT_EQUAL(number(srcw, "SELECT note = 'n!?' FROM shop.child WHERE id = 701"), 1);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	CU_ASSERT_EQUAL(access(done, F_OK), 0);
	/* the caller's session as it was */
	mode1 = value(src, "SELECT CONCAT(@@SESSION.sql_mode, '/', @@SESSION.character_set_client)");
	CU_ASSERT_TRUE(mode0 && mode1 && !strcmp(mode0, mode1));

	/* a second restore: no file, nothing done */
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(mig__source_triggers_restore(rdir, src, &r, &err), 0);
	CU_ASSERT_EQUAL(r.restored + r.present, 0);
	CU_ASSERT_EQUAL(triggers_on(srcw, "child"), 2);
	free(mode0);
	free(mode1);
	free(path);
	free(done);
}

/* The destination's new objects act as the source's did: the foreign key
 * cascades, the triggers fire under their sql_mode. */
static void test_objects__destination_objects_work(void)
{
	CU_ASSERT_EQUAL_FATAL(exec(dstw, "INSERT INTO shop.parent (id, name) VALUES (900, 'p900')"), 0);
	CU_ASSERT_EQUAL(number(dstw, "SELECT COUNT(*) FROM shop.audit WHERE msg = 'parent 900'"), 1);
	CU_ASSERT_EQUAL_FATAL(exec(dstw, "INSERT INTO shop.child (parent_id, note) VALUES (900, 'c')"), 0);
	CU_ASSERT_EQUAL(number(dstw, "SELECT COUNT(*) FROM shop.child WHERE parent_id = 900 AND "
			       "note = 'c!?'"), 1);
	CU_ASSERT_EQUAL(exec(dstw, "DELETE FROM shop.parent WHERE id = 900"), 0);
	CU_ASSERT_EQUAL(number(dstw, "SELECT COUNT(*) FROM shop.child WHERE parent_id = 900"), 0);
	/* a child of no parent is refused */
	CU_ASSERT_NOT_EQUAL(exec(dstw, "INSERT INTO shop.child (parent_id, note) VALUES (999999, 'o')"), 0);
}

/* ---- without servers ---- */

static char *tmpdir(void)
{
	char *t = sl_xasprintf("%s/test_objects.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");

	if (!mkdtemp(t)) {
		free(t);
		return NULL;
	}
	return t;
}

static void test_objects__no_saved_file(void)
{
	struct mig_objects_result r = { 0 };
	struct sl_err err = SL_ERR_INIT;
	char *t = tmpdir();
	MYSQL *m = mysql_init(NULL);	/* never connected: no statement may run */

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(mig__source_triggers_restore(t, m, &r, &err), 0);
	CU_ASSERT_EQUAL(r.restored + r.present, 0);
	/* no snapshot stream: named */
	CU_ASSERT_TRUE(mig__deferred_create(t, m, "destination", &r, &err) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no snapshot stream"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, t));
	mysql_close(m);
	rmdir(t);
	free(t);
}

static void test_objects__damaged_saved_file(void)
{
	static const char *const bad[] = {
		"sluice-source-triggers 2\ntriggers 0\nend\n",
		"sluice-source-triggers 1\ntriggers 1\ndb 4\nshop\ntable 3\nchild\n",
		"sluice-source-triggers 1\ntriggers 0\n",
		"sluice-source-triggers 1\ntriggers 1\ndb 99\nshop\n",
	};
	static const char *const want[] = { "offset 0:", "offset 46: trigger 1: field 'table'",
					    "offset 36:", "offset 36: trigger 1: field 'db'" };
	char *t = tmpdir();
	MYSQL *m = mysql_init(NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mig_objects_result r = { 0 };
		struct sl_err err = SL_ERR_INIT;
		char *p = sl_xasprintf("%s/source-triggers", t);
		FILE *f = fopen(p, "we");

		fputs(bad[i], f);
		fclose(f);
		CU_ASSERT_EQUAL(mig__source_triggers_restore(t, m, &r, &err), -SL_ECORRUPT);
		if (!strstr(err.msg, want[i]))
			fprintf(stderr, "case %zu: '%s' lacks '%s'\n", i, err.msg, want[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want[i]));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, p));
		CU_ASSERT_EQUAL(access(p, F_OK), 0);	/* kept */
		unlink(p);
		free(p);
	}
	mysql_close(m);
	rmdir(t);
	free(t);
}

int main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned failed;

	if (argc == 6 && !strcmp(argv[1], "--servers")) {
		src_url = argv[2];
		dst_url = argv[3];
		dir = argv[4];
		rdir = argv[5];
		src = conn(src_url, "SLUICE_SOURCE_PASSWORD", DB_ROLE_REPLAY_CONTROL);
		dst = conn(dst_url, "SLUICE_DEST_PASSWORD", DB_ROLE_REPLAY_CONTROL);
		srcw = conn(src_url, "SLUICE_SOURCE_PASSWORD", DB_ROLE_VERIFY_SOURCE);
		dstw = conn(dst_url, "SLUICE_DEST_PASSWORD", DB_ROLE_VERIFY_DEST);
		if (!src || !dst || !srcw || !dstw)
			return 1;
	} else if (argc != 1) {
		fprintf(stderr, "usage: test_objects [--servers SRC_URL DST_URL DIR RDIR]\n");
		return 2;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("migrate/objects", NULL, NULL);
	CU_add_test(s, "no saved-triggers file: nothing to restore", test_objects__no_saved_file);
	CU_add_test(s, "a damaged saved-triggers file is refused, naming the offset",
		    test_objects__damaged_saved_file);
	if (src) {
		CU_add_test(s, "deferred foreign keys and triggers created once", test_objects__deferred_create);
		CU_add_test(s, "AUTO_INCREMENT raised to the source's, never lowered", test_objects__autoinc_sync);
		CU_add_test(s, "the source's triggers saved and dropped once", test_objects__park);
		CU_add_test(s, "the source's triggers restored identical, once", test_objects__restore);
		CU_add_test(s, "the destination's new objects act", test_objects__destination_objects_work);
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	for (int i = 0; i < NTRG; i++)
		def_free(before[i]);
	if (src) {
		mysql_close(src);
		mysql_close(dst);
		mysql_close(srcw);
		mysql_close(dstw);
	}
	return failed ? 1 : 0;
}
