/* test_switch.c - unit suite for the switchover's files (migrate/mig_journal.c): request, journal, rollback ask and position pair round trips, the journal's states, binlog position order. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig.h"
#include "mig_int.h"

static char *tmp_dir(void)
{
	char *d = sl_xstrdup("/tmp/test_switch.XXXXXX");

	if (getenv("TMPDIR")) {
		free(d);
		d = sl_xasprintf("%s/test_switch.XXXXXX", getenv("TMPDIR"));
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(d));
	return d;
}

static void rm_dir(char *d)
{
	char *cmd = sl_xasprintf("rm -rf '%s'", d);

	CU_ASSERT_EQUAL(system(cmd), 0);
	free(cmd);
	free(d);
}

static void test_switch__request(void)
{
	char *d = tmp_dir();
	struct mig_sw_request a = { .id = 1765000000123ULL, .freeze = 1, .skip_verify = 0,
				    .max_lag_s = 5, .timeout_s = 30, .quiet_s = 3 }, b;
	struct sl_err e = SL_ERR_INIT;

	snprintf(a.reverse_dir, sizeof(a.reverse_dir), "/srv/rdir");
	snprintf(a.source, sizeof(a.source), "mysql://u@h:1/");
	snprintf(a.dest, sizeof(a.dest), "mysql://u@h:2/?ssl-ca=/x");
	CU_ASSERT_EQUAL(mig__sw_request_read(d, &b, &e), 0);	/* none yet */
	CU_ASSERT_EQUAL(mig__sw_request_write(d, &a, &e), 0);
	CU_ASSERT_EQUAL(mig__sw_request_read(d, &b, &e), 1);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	rm_dir(d);
}

static void test_switch__journal(void)
{
	char *d = tmp_dir(), pair[1200];
	struct mig_sw_journal a, b;
	struct sl_err e = SL_ERR_INIT;
	uint64_t id = 0;

	memset(&a, 0, sizeof(a));
	a.req.id = 42;
	a.req.timeout_s = 30;
	snprintf(a.req.reverse_dir, sizeof(a.req.reverse_dir), "/r");
	snprintf(a.state, sizeof(a.state), "running");
	snprintf(a.error, sizeof(a.error), "two\nlines");	/* a newline must not end the value */
	snprintf(a.source_final, sizeof(a.source_final), "mysql-bin.000002:1234 gtid 0-1-9");
	snprintf(a.dest_start, sizeof(a.dest_start), "mysql-bin.000001:385");
	a.froze = 1;
	for (int i = 0; i < SW_NSTEPS; i++) {
		snprintf(a.step[i].status, sizeof(a.step[i].status), i < SW_FREEZE ? "done" : "pending");
		a.step[i].start_ms = 1000 + i;
		a.step[i].end_ms = 2000 + i;
		snprintf(a.step[i].note, sizeof(a.step[i].note), "note %d with spaces", i);
	}
	CU_ASSERT_EQUAL(mig__sw_journal_read(d, &b, &e), 0);
	CU_ASSERT_STRING_EQUAL(b.step[SW_OBJECTS].status, "pending");	/* no file: every step pending */
	CU_ASSERT_EQUAL(mig__sw_journal_write(d, &a, &e), 0);
	CU_ASSERT_EQUAL(mig__sw_journal_read(d, &b, &e), 1);
	CU_ASSERT_STRING_EQUAL(b.error, "two lines");
	snprintf(a.error, sizeof(a.error), "two lines");
	CU_ASSERT_EQUAL(memcmp(&a.req, &b.req, sizeof(a.req)), 0);
	CU_ASSERT_STRING_EQUAL(a.state, b.state);
	CU_ASSERT_STRING_EQUAL(a.source_final, b.source_final);
	CU_ASSERT_STRING_EQUAL(a.dest_start, b.dest_start);
	CU_ASSERT_EQUAL(a.froze, b.froze);
	for (int i = 0; i < SW_NSTEPS; i++) {
		CU_ASSERT_STRING_EQUAL(a.step[i].status, b.step[i].status);
		CU_ASSERT_STRING_EQUAL(a.step[i].note, b.step[i].note);
		CU_ASSERT_EQUAL(a.step[i].start_ms, b.step[i].start_ms);
		CU_ASSERT_EQUAL(a.step[i].end_ms, b.step[i].end_ms);
	}
	CU_ASSERT_FALSE(mig__sw_ended(&b));
	CU_ASSERT_FALSE(mig__sw_forward_stopped(&b));
	snprintf(a.step[SW_STOP_FORWARD].status, sizeof(a.step[0].status), "running");
	CU_ASSERT_TRUE(mig__sw_forward_stopped(&a));
	snprintf(a.state, sizeof(a.state), "rolled-back");
	CU_ASSERT_TRUE(mig__sw_ended(&a));
	/* the rollback ask and the pair */
	CU_ASSERT_FALSE(mig__sw_rollback_asked(d, &id));
	{
		char *p = sl_xasprintf("%s/switchover.rollback", d);

		CU_ASSERT_EQUAL(sl_write_file_atomic(p, "request=42\n", 11, 0600, &e), 0);
		free(p);
	}
	CU_ASSERT_TRUE(mig__sw_rollback_asked(d, &id));
	CU_ASSERT_EQUAL(id, 42);
	CU_ASSERT_EQUAL(mig_switch_pair(d, pair, sizeof(pair)), 0);
	CU_ASSERT_EQUAL(mig__sw_pair_write(d, &a, &e), 0);
	CU_ASSERT_EQUAL(mig_switch_pair(d, pair, sizeof(pair)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(pair, "source mysql-bin.000002:1234 gtid 0-1-9"));
	CU_ASSERT_PTR_NOT_NULL(strstr(pair, "destination mysql-bin.000001:385"));
	rm_dir(d);
}

static void test_switch__positions(void)
{
	CU_ASSERT_TRUE(mig__pos_cmp("mysql-bin.000010", 4, "mysql-bin.000009", 9999) > 0);
	CU_ASSERT_TRUE(mig__pos_cmp("mysql-bin.999999", 4, "mysql-bin.1000000", 4) < 0);
	CU_ASSERT_TRUE(mig__pos_cmp("mysql-bin.000002", 100, "mysql-bin.000002", 100) == 0);
	CU_ASSERT_TRUE(mig__pos_cmp("mysql-bin.000002", 99, "mysql-bin.000002", 100) < 0);
	CU_ASSERT_TRUE(mig__pos_cmp("b.000001", 1, "a.000002", 1) > 0);	/* other names: as text */
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("migrate/switchover files", NULL, NULL);
	CU_add_test(s, "request round trip", test_switch__request);
	CU_add_test(s, "journal, rollback ask, pair", test_switch__journal);
	CU_add_test(s, "binlog position order", test_switch__positions);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
