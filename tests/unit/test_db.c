/* test_db.c - unit suite for db/: server versions and the binlog status statement, the check table, range planning, the sluice schema, the TLS policy of URLs. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static void parse_is(const char *version, const char *comment, enum db_flavor f, unsigned major,
		     unsigned minor, unsigned patch, const char *status)
{
	struct db_server s;

	db_server_parse(&s, version, comment);
	CU_ASSERT_EQUAL(s.flavor, f);
	CU_ASSERT_EQUAL(s.major, major);
	CU_ASSERT_EQUAL(s.minor, minor);
	CU_ASSERT_EQUAL(s.patch, patch);
	CU_ASSERT_STRING_EQUAL(db_binlog_status_sql(&s), status);
	if (s.flavor != f || s.major != major || s.minor != minor || strcmp(db_binlog_status_sql(&s), status))
		fprintf(stderr, "\n  version '%s': flavor %d %u.%u.%u %s\n", version, (int)s.flavor,
			s.major, s.minor, s.patch, db_binlog_status_sql(&s));
}

/* MySQL 8.4 has no SHOW MASTER STATUS; 8.2 and later know SHOW BINARY LOG STATUS. */
static void test_db__versions(void)
{
	parse_is("10.11.6-MariaDB-log", "MariaDB Server", DB_MARIADB, 10, 11, 6, "SHOW MASTER STATUS");
	parse_is("5.5.5-10.6.16-MariaDB", NULL, DB_MARIADB, 10, 6, 16, "SHOW MASTER STATUS");
	parse_is("11.4.2-MariaDB", NULL, DB_MARIADB, 11, 4, 2, "SHOW MASTER STATUS");
	parse_is("8.0.36", "MySQL Community Server - GPL", DB_MYSQL, 8, 0, 36, "SHOW MASTER STATUS");
	parse_is("8.1.0", NULL, DB_MYSQL, 8, 1, 0, "SHOW MASTER STATUS");
	parse_is("8.2.0", NULL, DB_MYSQL, 8, 2, 0, "SHOW BINARY LOG STATUS");
	parse_is("8.4.3-log", NULL, DB_MYSQL, 8, 4, 3, "SHOW BINARY LOG STATUS");
	parse_is("9.1.0", NULL, DB_MYSQL, 9, 1, 0, "SHOW BINARY LOG STATUS");
	parse_is("5.7.44-log", NULL, DB_MYSQL, 5, 7, 44, "SHOW MASTER STATUS");
	parse_is("5.7.25-OceanBase_CE-v4.2.1.2", NULL, DB_OCEANBASE, 5, 7, 25, "SHOW MASTER STATUS");
	parse_is("5.7.25", "OceanBase 4.2.1 binlog service", DB_OCEANBASE, 5, 7, 25, "SHOW MASTER STATUS");
	parse_is("", NULL, DB_MYSQL, 0, 0, 0, "SHOW MASTER STATUS");
	parse_is("8", NULL, DB_MYSQL, 8, 0, 0, "SHOW MASTER STATUS");
	parse_is(NULL, NULL, DB_MYSQL, 0, 0, 0, "SHOW MASTER STATUS");
	{
		struct db_server s;

		db_server_parse(&s, "5.7.25-OceanBase-v4", NULL);
		CU_ASSERT_STRING_EQUAL(db_binlog_flavor(&s), "mysql");	/* speaks MySQL's binlog */
		CU_ASSERT_STRING_EQUAL(db_flavor_name(s.flavor), "oceanbase");
		CU_ASSERT_STRING_EQUAL(s.comment, "");
		db_server_parse(&s, "10.11.6-MariaDB", NULL);
		CU_ASSERT_STRING_EQUAL(db_binlog_flavor(&s), "mariadb");
		/* the comment is kept: OceanBase names its own version there, which the
		 * destination's DDL target needs (ddl_target_from_version) */
		db_server_parse(&s, "5.7.25", "OceanBase 4.2.5.0 (r1-abc)");
		CU_ASSERT_STRING_EQUAL(s.comment, "OceanBase 4.2.5.0 (r1-abc)");
	}
}

static const struct db_check *check_named(const char *name)
{
	for (size_t i = 0; i < db_source_nchecks; i++)
		if (!strcmp(db_source_checks[i].name, name))
			return &db_source_checks[i];
	return NULL;
}

static void test_db__checks(void)
{
	const struct db_check *c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c = check_named("log_bin"));
	CU_ASSERT_TRUE(db_check_passes(c, "ON"));
	CU_ASSERT_TRUE(db_check_passes(c, "1"));
	CU_ASSERT_FALSE(db_check_passes(c, "OFF"));
	CU_ASSERT_FALSE(db_check_passes(c, NULL));
	CU_ASSERT_EQUAL(c->severity, DB_FAIL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c = check_named("binlog_format"));
	CU_ASSERT_TRUE(db_check_passes(c, "row"));
	CU_ASSERT_FALSE(db_check_passes(c, "MIXED"));
	CU_ASSERT_FALSE(db_check_passes(c, "ROWS"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c = check_named("binlog_row_image"));
	CU_ASSERT_TRUE(db_check_passes(c, NULL));	/* OceanBase: always full */
	CU_ASSERT_FALSE(db_check_passes(c, "MINIMAL"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c = check_named("binlog_row_metadata"));
	CU_ASSERT_EQUAL(c->severity, DB_WARN);	/* README: a warning, names from the schema history */
	CU_ASSERT_FALSE(db_check_passes(c, NULL));
	for (size_t i = 0; i < db_source_nchecks; i++)
		CU_ASSERT_TRUE(db_source_checks[i].fix && db_source_checks[i].fix[0]);
}

/* The ranges cover every integer exactly once, in order, open at both ends. */
static void check_ranges(__int128 min, __int128 max, uint64_t rows, uint64_t chunk)
{
	struct db_int_ranges c;
	__int128 prev_hi = 0, lo, hi;
	int olo, ohi;

	db_int_ranges_plan(&c, min, max, rows, chunk);
	CU_ASSERT_TRUE_FATAL(c.n >= 1);
	for (uint64_t i = 0; i < c.n; i++) {
		db_int_range(&c, i, &lo, &hi, &olo, &ohi);
		CU_ASSERT_EQUAL(olo, i == 0);
		CU_ASSERT_EQUAL(ohi, i + 1 == c.n);
		if (max < min)
			continue;
		CU_ASSERT_TRUE(lo <= hi);
		CU_ASSERT_TRUE(i == 0 ? lo == min : lo == prev_hi + 1);
		prev_hi = hi;
	}
	CU_ASSERT_TRUE(max < min || prev_hi == max);
}

static void test_db__int_ranges(void)
{
	struct db_int_ranges c;
	struct sl_buf b = SL_BUF_INIT(4096);

	check_ranges(1, 100000, 100000, 10000);
	db_int_ranges_plan(&c, 1, 100000, 100000, 10000);
	CU_ASSERT_EQUAL(c.n, 10);
	check_ranges(1, 1, 1, 10000);
	check_ranges(5, 4, 0, 10000);		/* empty table: one open range */
	check_ranges(-100, 100, 0, 7);		/* no estimate: the span */
	check_ranges(1, 1000000000, 10, 3);	/* sparse: few ranges */
	db_int_ranges_plan(&c, 1, 1000000000, 10, 3);
	CU_ASSERT_EQUAL(c.n, 4);
	check_ranges(-(((__int128)1) << 63), (((__int128)1) << 64) - 1, 1000000, 1000);	/* limits */
	check_ranges(1, 10, 1000, 3);		/* estimate above the span */

	db_int_ranges_plan(&c, -5, 24, 30, 10);
	CU_ASSERT_EQUAL_FATAL(c.n, 3);
	db_int_range_where(&b, &c, 0, "`id`");
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "`id` <= 4");
	sl_buf_reset(&b);
	db_int_range_where(&b, &c, 1, "`id`");
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "`id` BETWEEN 5 AND 14");
	sl_buf_reset(&b);
	db_int_range_where(&b, &c, 2, "`id`");
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "`id` >= 15");
	sl_buf_reset(&b);
	db_int_span_where(&b, &c, 1, 1, "`id`");	/* one range: the same as above */
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "`id` BETWEEN 5 AND 14");
	sl_buf_reset(&b);
	db_int_span_where(&b, &c, 0, 1, "`id`");
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "`id` <= 14");
	sl_buf_reset(&b);
	db_int_span_where(&b, &c, 1, 2, "`id`");
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "`id` >= 5");
	sl_buf_reset(&b);
	db_int_span_where(&b, &c, 0, 2, "`id`");
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "1");
	sl_buf_reset(&b);
	db_int_ranges_plan(&c, 1, 0, 0, 10);
	db_int_range_where(&b, &c, 0, "`id`");
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "1");
	sl_buf_release(&b);
}

static int quote_lit(void *arg, size_t k, struct sl_buf *out, const char *v, unsigned long len)
{
	(void)arg;
	(void)k;
	return v ? sl_buf_addf(out, "'%.*s'", (int)len, v) : sl_buf_adds(out, "NULL");
}

static void test_db__key_ranges(void)
{
	const char *const ident[] = { "`a`", "`b`" };
	struct db_key k = { 2, ident, quote_lit, NULL };
	char *lv[] = { "x", "1" }, *hv[] = { "y", "2" };
	unsigned long ll[] = { 1, 1 }, hl[] = { 1, 1 };
	struct db_key_val last = { lv, ll }, next = { hv, hl }, none = { 0 };
	struct sl_buf b = SL_BUF_INIT(4096);

	db_key_range_where(&b, &k, &none, &none);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "1");
	sl_buf_reset(&b);
	db_key_range_where(&b, &k, &none, &next);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "(`a` < 'y' OR (`a` = 'y' AND `b` <= '2'))");
	sl_buf_reset(&b);
	db_key_range_where(&b, &k, &last, &next);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "(`a` > 'x' OR (`a` = 'x' AND `b` > '1')) AND "
			       "(`a` < 'y' OR (`a` = 'y' AND `b` <= '2'))");
	sl_buf_reset(&b);
	db_key_range_where(&b, &k, &last, NULL);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "(`a` > 'x' OR (`a` = 'x' AND `b` > '1'))");
	sl_buf_release(&b);
}

static void test_db__schema(void)
{
	CU_ASSERT_PTR_NOT_NULL(strstr(db_sql_sluice_schema, "CREATE DATABASE IF NOT EXISTS `sluice`"));
	CU_ASSERT_PTR_NOT_NULL(strstr(db_sql_sluice_schema, "PRIMARY KEY (`consumer`)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(db_sql_sluice_schema, "UNIQUE KEY `one_consumer_per_stream` (`stream_id`)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(db_sql_sluice_schema, "`sluice`.`applied`"));
}

/* The read timeout of a binlog dump stays above the heartbeat period, and
 * short enough that a source cut off without a RST is noticed in seconds. */
static void test_db__timeouts(void)
{
	struct db_opts o = { DB_ROLE_SOURCE_STREAM, NULL, 0 };
	struct db_timeouts t;

	db_role_timeouts(&o, &t);
	CU_ASSERT_EQUAL(t.connect_s, 10);
	CU_ASSERT_TRUE(t.read_s >= 15 && t.read_s <= 30);
	o.heartbeat_ms = 600000;	/* 10 minutes */
	db_role_timeouts(&o, &t);
	CU_ASSERT_TRUE(t.read_s * 1000ull > 2ull * o.heartbeat_ms);
	CU_ASSERT_TRUE(db_transient(2013, "Lost connection to server during query"));
	CU_ASSERT_TRUE(db_transient(1290, "The MariaDB server is running with the --read-only option"));
	CU_ASSERT_FALSE(db_transient(1290, "The MariaDB server is running with the --secure-file-priv option"));
	CU_ASSERT_FALSE(db_transient(1146, "Table 'a.b' doesn't exist"));
	/* Connector/C refusing a damaged dump event (test_netfaults' flips) */
	CU_ASSERT_TRUE(db_transient(5021, "Binary log error (File: mysql-bin.000001 start_pos=6243030): Malformed packet."));
	CU_ASSERT_FALSE(db_transient(1236, "Could not find first log file name in binary log index file"));
	for (int r = DB_ROLE_SOURCE_STREAM; r <= DB_ROLE_VERIFY_DEST; r++) {
		o.role = (enum db_role)r;
		db_role_timeouts(&o, &t);
		CU_ASSERT_TRUE(t.connect_s > 0 && t.read_s > 0 && t.write_s > 0);
	}
	o.role = DB_ROLE_REPLAY_WORKER;
	db_role_timeouts(&o, &t);
	CU_ASSERT_EQUAL(t.connect_s, 30);
	o.role = DB_ROLE_VERIFY_SOURCE;
	db_role_timeouts(&o, &t);
	CU_ASSERT_EQUAL(t.connect_s, 20);
	/* a load statement is one chunk: a stuck server ends in an error
	 * within minutes, not after the control role's hours */
	o.role = DB_ROLE_REPLAY_LOAD;
	db_role_timeouts(&o, &t);
	CU_ASSERT_TRUE(t.read_s > 0 && t.read_s <= 900);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("db", NULL, NULL);
	CU_add_test(s, "flavor, version and the binlog status statement", test_db__versions);
	CU_add_test(s, "the source check table", test_db__checks);
	CU_add_test(s, "integer key ranges cover everything once", test_db__int_ranges);
	CU_add_test(s, "key ranges by boundaries", test_db__key_ranges);
	CU_add_test(s, "the sluice schema", test_db__schema);
	CU_add_test(s, "timeouts per role", test_db__timeouts);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
