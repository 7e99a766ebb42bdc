/* test_replay_hist.c - CUnit suite for replay's history options without a server: --until parsing and the "past the point?" test (rep_until.c), --skip parsing, matching and its record (rep_skip.c). */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rep.h"
#include "rep_hist.h"
#include "banned.h"

static Sluice__Position pos(const char *file, uint64_t off)
{
	Sluice__Position p = SLUICE__POSITION__INIT;

	p.file = (char *)file;
	p.offset = off;
	return p;
}

static void test_until__parse_kinds(void)
{
	struct rep_until u;
	struct sl_err err = SL_ERR_INIT;

	CU_ASSERT_EQUAL(rep__until_parse("0-1-42", &u, &err), 0);
	CU_ASSERT_EQUAL(u.kind, REP_UNTIL_GTID);
	CU_ASSERT(!u.gtid.mysql && u.gtid.domain == 0 && u.gtid.server == 1 && u.gtid.seq == 42);
	CU_ASSERT_EQUAL(rep__until_parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:23", &u, &err), 0);
	CU_ASSERT_EQUAL(u.kind, REP_UNTIL_GTID);
	CU_ASSERT(u.gtid.mysql && u.gtid.seq == 23);
	CU_ASSERT_STRING_EQUAL(u.gtid.uuid, "3e11fa47-71ca-11e1-9e33-c80aa9429562");
	CU_ASSERT_EQUAL(rep__until_parse("mysql-bin.000003:1234", &u, &err), 0);
	CU_ASSERT_EQUAL(u.kind, REP_UNTIL_POS);
	CU_ASSERT_STRING_EQUAL(u.file, "mysql-bin.000003");
	CU_ASSERT_EQUAL(u.pos, 1234);
	CU_ASSERT_EQUAL(rep__until_parse("2024-02-29 13:14:15Z", &u, &err), 0);
	CU_ASSERT_EQUAL(u.kind, REP_UNTIL_TIME);
	CU_ASSERT_EQUAL(u.time, 1709212455);
	CU_ASSERT_EQUAL(rep__until_parse("2024-02-29T15:14:15+02:00", &u, &err), 0);
	CU_ASSERT_EQUAL(u.time, 1709212455);
	CU_ASSERT_EQUAL(rep__until_parse("2024-02-29 08:44:15-04:30", &u, &err), 0);
	CU_ASSERT_EQUAL(u.time, 1709212455);
	CU_ASSERT_EQUAL(rep__until_parse(NULL, &u, &err), 0);
	CU_ASSERT_EQUAL(u.kind, REP_UNTIL_NONE);
}

/* A time without a zone is the machine's local time (as mysqlbinlog takes it). */
static void test_until__local_time(void)
{
	struct rep_until u;
	struct sl_err err = SL_ERR_INIT;
	const char *old = getenv("TZ");
	char keep[64] = "";

	if (old)
		snprintf(keep, sizeof(keep), "%s", old);
	setenv("TZ", "UTC+3", 1);	/* POSIX: three hours behind UTC */
	tzset();
	CU_ASSERT_EQUAL(rep__until_parse("2024-02-29 10:14:15", &u, &err), 0);
	CU_ASSERT_EQUAL(u.time, 1709212455);
	if (old)
		setenv("TZ", keep, 1);
	else
		unsetenv("TZ");
	tzset();
}

static void test_until__parse_errors(void)
{
	static const char *const bad[] = {
		"yesterday", "0-1", "0-1-x", "1-2-3-4", "2024-13-01 00:00:00", "2024-02-30 00:00:00",
		"2024-02-01 24:00:00", "2024-02-01 00:00:00+1", "2024-02-01 00:00:00 UTC",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:", "3e11fa47-71ca-11e1-9e33-c80aa9429562:0",
		"mysql-bin.000003:", ":123", "dir/mysql-bin.000003:12", "mysql-bin.000003:12x",
		"0-1-99999999999999999999999",
	};
	struct rep_until u;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_err err = SL_ERR_INIT;

		CU_ASSERT_EQUAL(rep__until_parse(bad[i], &u, &err), -SL_EINVAL_ARG);
		CU_ASSERT(strstr(err.msg, bad[i]) != NULL);	/* names the value */
		CU_ASSERT(!strchr(err.msg, '\n'));
		CU_ASSERT_EQUAL(u.kind, REP_UNTIL_NONE);
	}
}

static void test_until__binlog_order(void)
{
	CU_ASSERT(rep__binlog_cmp("mysql-bin.000009", 900, "mysql-bin.000010", 4) < 0);
	CU_ASSERT(rep__binlog_cmp("mysql-bin.999999", 4, "mysql-bin.1000000", 4) < 0);
	CU_ASSERT(rep__binlog_cmp("b.000002", 100, "b.000002", 100) == 0);
	CU_ASSERT(rep__binlog_cmp("b.000002", 101, "b.000002", 100) > 0);
}

/* GTID: up to and including it; a later number of its domain (the GTID is
 * not in the stream) is past; another domain is not. */
static void test_until__gtid_boundary(void)
{
	struct rep_until u;
	struct sl_err err = SL_ERR_INIT;

	CU_ASSERT_EQUAL(rep__until_parse("0-1-42", &u, &err), 0);
	CU_ASSERT(!rep__until_past(&u, "0-1-41", NULL, 0));
	CU_ASSERT(!rep__until_past(&u, "0-1-42", NULL, 0));
	CU_ASSERT(rep__until_at(&u, "0-1-42", NULL));
	CU_ASSERT(!rep__until_at(&u, "0-1-41", NULL));
	CU_ASSERT(!rep__until_at(&u, "0-2-42", NULL));	/* another server's 42 */
	CU_ASSERT(rep__until_past(&u, "0-1-43", NULL, 0));
	CU_ASSERT(rep__until_past(&u, "0-2-50", NULL, 0));	/* same domain, after a switch */
	CU_ASSERT(!rep__until_past(&u, "1-1-500", NULL, 0));	/* another domain */
	CU_ASSERT(!rep__until_at(&u, "1-1-42", NULL));
	CU_ASSERT(!rep__until_past(&u, "", NULL, 0));
	CU_ASSERT_EQUAL(rep__until_parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:23", &u, &err), 0);
	CU_ASSERT(rep__until_at(&u, "3E11FA47-71CA-11E1-9E33-C80AA9429562:23", NULL));
	CU_ASSERT(rep__until_past(&u, "3e11fa47-71ca-11e1-9e33-c80aa9429562:24", NULL, 0));
	CU_ASSERT(!rep__until_past(&u, "4e11fa47-71ca-11e1-9e33-c80aa9429562:99", NULL, 0));
	CU_ASSERT(!rep__until_past(&u, "0-1-99", NULL, 0));
}

/* FILE:POS: units ending at or before POS; TIME: committed before it. */
static void test_until__pos_and_time_boundary(void)
{
	struct rep_until u;
	struct sl_err err = SL_ERR_INIT;
	Sluice__Position a = pos("bin.000002", 500), b = pos("bin.000002", 501),
			 c = pos("bin.000001", 9000), d = pos("bin.000003", 4), none = pos("", 0);

	CU_ASSERT_EQUAL(rep__until_parse("bin.000002:500", &u, &err), 0);
	CU_ASSERT(!rep__until_past(&u, "0-1-1", &a, 0));
	CU_ASSERT(rep__until_at(&u, "0-1-1", &a));
	CU_ASSERT(rep__until_past(&u, "0-1-1", &b, 0));
	CU_ASSERT(!rep__until_past(&u, "0-1-1", &c, 0));
	CU_ASSERT(rep__until_past(&u, "0-1-1", &d, 0));
	CU_ASSERT(!rep__until_past(&u, "0-1-1", &none, 0));
	CU_ASSERT(!rep__until_beat(&u, &c, 0));
	CU_ASSERT(rep__until_beat(&u, &a, 0));
	CU_ASSERT(rep__until_beat(&u, &d, 0));

	CU_ASSERT_EQUAL(rep__until_parse("2024-02-29 13:14:15Z", &u, &err), 0);
	CU_ASSERT(!rep__until_past(&u, "", &a, 1709212454));
	CU_ASSERT(rep__until_past(&u, "", &a, 1709212455));	/* < T, as --stop-datetime */
	CU_ASSERT(!rep__until_at(&u, "", &a));
	CU_ASSERT(!rep__until_beat(&u, &a, 1709212454));
	CU_ASSERT(rep__until_beat(&u, &a, 1709212455));
}

static void test_skip__parse_and_match(void)
{
	static const char *const vals[] = { "0-1-7,3:4096", "2:100:5" };
	struct rep_skip s = { 0 };
	struct sl_err err = SL_ERR_INIT;
	struct seg_cursor b1 = { 3, 4000, 2 }, c1 = { 3, 4096, 1 }, b2 = { 3, 4096, 2 }, c2 = { 3, 5000, 0 };
	struct seg_cursor b3 = { 2, 100, 0 }, c3 = { 2, 100, 9 };

	CU_ASSERT_EQUAL(rep__skip_parse(&s, vals, 2, &err), 0);
	CU_ASSERT_EQUAL(s.n, 3);
	CU_ASSERT(s.v[0].by_gtid && !s.v[1].by_gtid && !s.v[2].by_gtid);
	CU_ASSERT_PTR_EQUAL(rep__skip_match(&s, "0-1-7", &c2, &c2), &s.v[0]);
	CU_ASSERT_PTR_NULL(rep__skip_match(&s, "0-2-7", &c2, &c2));
	/* 3:4096 is record 0 of that frame: in the first transaction only */
	CU_ASSERT_PTR_EQUAL(rep__skip_match(&s, "0-1-1", &b1, &c1), &s.v[1]);
	CU_ASSERT_PTR_NULL(rep__skip_match(&s, "0-1-2", &b2, &c2));
	CU_ASSERT_PTR_EQUAL(rep__skip_match(&s, "0-1-3", &b3, &c3), &s.v[2]);
	rep__skip_release(&s);

	{
		static const char *const bad[] = { "", "x", "0:5", "1:2:3:4", "1:-2", "0-1-2,,3:4" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct sl_err e = SL_ERR_INIT;

			CU_ASSERT_EQUAL(rep_skip_check(bad[i], &e), -SL_EINVAL_ARG);
			CU_ASSERT(e.msg[0] && !strchr(e.msg, '\n'));
		}
	}
}

static void test_skip__record_sql(void)
{
	uint8_t sid[16];
	Sluice__Position p = pos("bin.000002", 777);
	struct rep_skip_row r = { 0 };
	struct sl_buf b = SL_BUF_INIT(1 << 16);
	const char *q;

	memset(sid, 0xab, sizeof(sid));
	p.gtid = "0-1-7";
	r.consumer = "default";
	r.stream_id = sid;
	r.begin = (struct seg_cursor){ 3, 4000, 2 };
	r.commit = (struct seg_cursor){ 3, 4096, 1 };
	r.gtid = "0-1-7";
	r.end = &p;
	r.rows = 12;
	r.time = 1709212455;
	r.who = "o'neil@host";
	r.given = "0-1-7";
	CU_ASSERT_EQUAL(rep__skip_sql(&b, &r), 0);
	q = sl_buf_cstr(&b);
	CU_ASSERT(strstr(q, "INSERT IGNORE INTO `sluice`.`skipped`") != NULL);
	/* strings as hex literals (fmt_sql_str()): "0-1-7", "o'neil@host" */
	CU_ASSERT(strstr(q, "'abababababababababababababababab',3,4000,2,3,4096,1,"
			    "_utf8mb4 X'302D312D37',") != NULL);
	CU_ASSERT(strstr(q, ",12,FROM_UNIXTIME(1709212455),_utf8mb4 X'6F276E65696C40686F7374',"
			    "_utf8mb4 X'302D312D37');") != NULL);
	CU_ASSERT(strstr(q, "INSERT INTO `sluice`.`applied` VALUES (_utf8mb4 X'64656661756C74',3,4000,2)")
		  != NULL);
	r.time = 0;	/* no commit time: NULL, not the epoch */
	sl_buf_reset(&b);
	CU_ASSERT_EQUAL(rep__skip_sql(&b, &r), 0);
	CU_ASSERT(strstr(sl_buf_cstr(&b), ",12,NULL,") != NULL);
	sl_buf_release(&b);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("replay/history", NULL, NULL);
	CU_add_test(s, "until: the three kinds of point", test_until__parse_kinds);
	CU_add_test(s, "until: a time without zone is local", test_until__local_time);
	CU_add_test(s, "until: bad values, one line each", test_until__parse_errors);
	CU_add_test(s, "until: binlog files in order", test_until__binlog_order);
	CU_add_test(s, "until: gtid boundary, domains", test_until__gtid_boundary);
	CU_add_test(s, "until: file:pos and time boundary", test_until__pos_and_time_boundary);
	CU_add_test(s, "skip: parse and match", test_skip__parse_and_match);
	CU_add_test(s, "skip: its record", test_skip__record_sql);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
