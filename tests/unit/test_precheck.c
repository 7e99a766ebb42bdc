/* test_precheck.c - unit suite for migrate/'s pure decisions: grants, retention, disk, local_infile, the server_id check row, password-free child URLs, progress lines. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "mig.h"
#include "mig_int.h"
#include "sl_progress.h"

/* The one check named name in r (its last, if several), or NULL. */
static const struct mig_check *find(const struct mig_report *r, const char *name)
{
	const struct mig_check *c = NULL;

	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].name, name))
			c = &r->v[i];
	return c;
}

/* Every check has a side, a name and a detail; a non-pass always has a fix. */
static void assert_sane(const struct mig_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		CU_ASSERT_TRUE(r->v[i].side[0] && r->v[i].name[0] && r->v[i].detail[0]);
		CU_ASSERT_EQUAL(r->v[i].outcome == MIG_PASS, r->v[i].fix[0] == 0);
	}
}

static void test_precheck__grants(void)
{
	const char *all[] = { "GRANT ALL PRIVILEGES ON *.* TO `sluice`@`127.0.0.1` IDENTIFIED BY PASSWORD '*AB'" };
	const char *some[] = {
		"GRANT USAGE ON *.* TO `u`@`%`",
		"GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `u`@`%`",
		"GRANT INSERT ON `app`.* TO `u`@`%`",
		"GRANT UPDATE (a, b), DELETE ON `app`.`t` TO `u`@`%`",
	};

	CU_ASSERT_TRUE(mig_grants_have(all, 1, "RELOAD", NULL));
	CU_ASSERT_TRUE(mig_grants_have(all, 1, "REPLICATION CLIENT", NULL));
	CU_ASSERT_TRUE(mig_grants_have(some, 4, "SELECT", NULL));
	CU_ASSERT_TRUE(mig_grants_have(some, 4, "REPLICATION SLAVE", NULL));
	/* MariaDB 10.5+ shows REPLICATION CLIENT as BINLOG MONITOR */
	CU_ASSERT_TRUE(mig_grants_have(some, 4, "REPLICATION CLIENT", NULL));
	CU_ASSERT_FALSE(mig_grants_have(some, 4, "RELOAD", NULL));
	/* a database grant counts for that database only, never for *.* */
	CU_ASSERT_FALSE(mig_grants_have(some, 4, "INSERT", NULL));
	CU_ASSERT_TRUE(mig_grants_have(some, 4, "INSERT", "app"));
	CU_ASSERT_FALSE(mig_grants_have(some, 4, "INSERT", "other"));
	/* a column list is not table access; a table grant is not *.* */
	CU_ASSERT_FALSE(mig_grants_have(some, 4, "UPDATE", "app"));
	CU_ASSERT_FALSE(mig_grants_have(some, 4, "DELETE", "app"));
	/* "SELECT" must not match inside another name */
	{
		const char *g[] = { "GRANT CREATE VIEW, SHOW VIEW ON *.* TO `u`@`%`" };

		CU_ASSERT_FALSE(mig_grants_have(g, 1, "CREATE", NULL));
		CU_ASSERT_TRUE(mig_grants_have(g, 1, "CREATE VIEW", NULL));
	}
	/* a role grant (no ON) is skipped, not misread */
	{
		const char *g[] = { "GRANT `dba` TO `u`@`%`" };

		CU_ASSERT_FALSE(mig_grants_have(g, 1, "SELECT", NULL));
	}
}

static void test_precheck__source_grants(void)
{
	const char *g[] = { "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `u`@`%`" };
	struct mig_report r = { 0 };

	/* MariaDB: no FTWRL, so no RELOAD needed */
	mig_source_grants_decide(&r, g, 1, 0, 0, 0);
	CU_ASSERT_EQUAL(mig_report_count(&r, MIG_FAIL), 0);
	mig_report_release(&r);
	/* MySQL: the snapshot needs FLUSH TABLES WITH READ LOCK */
	mig_source_grants_decide(&r, g, 1, 1, 0, 0);
	CU_ASSERT_EQUAL(mig_report_count(&r, MIG_FAIL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(find(&r, "privileges")->detail, "RELOAD"));
	assert_sane(&r);
	mig_report_release(&r);
	/* nothing at all: three failures on MariaDB */
	mig_source_grants_decide(&r, NULL, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(mig_report_count(&r, MIG_FAIL), 3);
	assert_sane(&r);
	mig_report_release(&r);
	/* MariaDB: the position privilege is named as MariaDB spells it; views
	 * need SHOW VIEW */
	{
		const char *m[] = { "GRANT SELECT, REPLICATION SLAVE ON *.* TO `u`@`%`" };
		const char *mv[] = { "GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR, SHOW VIEW ON *.* TO `u`@`%`" };

		mig_source_grants_decide(&r, m, 1, 0, 1, 2);
		CU_ASSERT_EQUAL(mig_report_count(&r, MIG_FAIL), 2);
		for (size_t i = 0; i < r.n; i++)
			if (r.v[i].outcome == MIG_FAIL)
				CU_ASSERT(strstr(r.v[i].detail, "BINLOG MONITOR") || strstr(r.v[i].detail, "SHOW VIEW"));
		mig_report_release(&r);
		mig_source_grants_decide(&r, mv, 1, 0, 1, 2);
		CU_ASSERT_EQUAL(mig_report_count(&r, MIG_FAIL), 0);
		mig_report_release(&r);
	}
}

static void test_precheck__dest_grants(void)
{
	const char *ok[] = { "GRANT CREATE, DROP, ALTER, INDEX, INSERT, UPDATE, DELETE, SELECT, CREATE VIEW ON *.* TO `u`@`%`" };
	const char *lack[] = { "GRANT SELECT, INSERT ON *.* TO `u`@`%`" };
	const char *super[] = { "GRANT ALL PRIVILEGES ON *.* TO `u`@`%`" };
	struct mig_report r = { 0 };

	mig_dest_grants_decide(&r, ok, 1);
	CU_ASSERT_EQUAL(mig_report_count(&r, MIG_FAIL), 0);
	CU_ASSERT_EQUAL(find(&r, "binlog skip")->outcome, MIG_WARN);
	mig_report_release(&r);
	mig_dest_grants_decide(&r, lack, 1);
	CU_ASSERT_EQUAL(mig_report_count(&r, MIG_FAIL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(find(&r, "privileges")->detail, "CREATE, DROP, ALTER"));
	CU_ASSERT_PTR_NULL(strstr(find(&r, "privileges")->detail, "INSERT,"));
	assert_sane(&r);
	mig_report_release(&r);
	mig_dest_grants_decide(&r, super, 1);
	CU_ASSERT_EQUAL(mig_report_count(&r, MIG_PASS), 2);
	mig_report_release(&r);
}

static void test_precheck__retention(void)
{
	struct mig_report r = { 0 };

	mig_retention_decide(&r, "0", "0");		/* never purged */
	mig_retention_decide(&r, "0", "3600");		/* one hour */
	mig_retention_decide(&r, "7", "0");		/* expire_logs_days only (older servers) */
	mig_retention_decide(&r, "0.5", NULL);		/* half a day: MariaDB takes decimals */
	mig_retention_decide(&r, NULL, "86400");	/* exactly the floor */
	mig_retention_decide(&r, "30", "600");		/* the seconds variable wins when set */
	CU_ASSERT_EQUAL(r.n, 6);
	CU_ASSERT_EQUAL(r.v[0].outcome, MIG_PASS);
	CU_ASSERT_EQUAL(r.v[1].outcome, MIG_WARN);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.v[1].detail, "3600 s"));
	CU_ASSERT_EQUAL(r.v[2].outcome, MIG_PASS);
	CU_ASSERT_EQUAL(r.v[3].outcome, MIG_WARN);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.v[3].detail, "expire_logs_days"));
	CU_ASSERT_EQUAL(r.v[4].outcome, MIG_PASS);
	CU_ASSERT_EQUAL(r.v[5].outcome, MIG_WARN);
	assert_sane(&r);
	mig_report_release(&r);
}

static void test_precheck__disk_and_infile(void)
{
	struct mig_report r = { 0 };
	uint64_t mib = 1024 * 1024;

	mig_disk_decide(&r, "/d", 100 * mib, 80 * mib);
	mig_disk_decide(&r, "/d", 30 * mib, 80 * mib);	/* compressed, it will likely fit */
	mig_disk_decide(&r, "/d", 10 * mib, 80 * mib);	/* even a 4x compression does not */
	mig_disk_decide(&r, "/d", 0, 0);		/* nothing to copy */
	CU_ASSERT_EQUAL(r.v[0].outcome, MIG_PASS);
	CU_ASSERT_EQUAL(r.v[1].outcome, MIG_WARN);
	CU_ASSERT_EQUAL(r.v[2].outcome, MIG_FAIL);
	CU_ASSERT_EQUAL(r.v[3].outcome, MIG_PASS);
	mig_local_infile_decide(&r, "ON");
	mig_local_infile_decide(&r, "OFF");
	mig_local_infile_decide(&r, NULL);
	CU_ASSERT_EQUAL(r.v[4].outcome, MIG_PASS);
	CU_ASSERT_EQUAL(r.v[5].outcome, MIG_WARN);
	CU_ASSERT_EQUAL(r.v[6].outcome, MIG_WARN);
	assert_sane(&r);
	mig_report_release(&r);
}

/* The server_id row of db/db_checks.c: 0 fails, anything else passes. */
static void test_precheck__server_id_row(void)
{
	const struct db_check *c = NULL;
	struct db_check neg = { "x", "x", "!OFF|0", 0, DB_FAIL, "fix" };

	for (size_t i = 0; i < db_source_nchecks; i++)
		if (!strcmp(db_source_checks[i].name, "server_id"))
			c = &db_source_checks[i];
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->severity, DB_FAIL);
	CU_ASSERT_FALSE(db_check_passes(c, "0"));
	CU_ASSERT_TRUE(db_check_passes(c, "1"));
	CU_ASSERT_TRUE(db_check_passes(c, "4294967295"));
	CU_ASSERT_FALSE(db_check_passes(c, NULL));
	CU_ASSERT_FALSE(db_check_passes(&neg, "off"));
	CU_ASSERT_FALSE(db_check_passes(&neg, "0"));
	CU_ASSERT_TRUE(db_check_passes(&neg, "ON"));
}

/* Children get URLs without the password (it goes in their environment). */
static void test_precheck__child_urls(void)
{
	struct { const char *in, *out; } cases[] = {
		{ "mysql://u:secret@h:3306/db", "mysql://u@h:3306/db" },
		{ "mysql://u@h:3306/", "mysql://u@h:3306/" },
		{ "mysql://u:p%40ss@[::1]:3306/?ssl-mode=required", "mysql://u@[::1]:3306/?ssl-mode=required" },
		{ "mysql://u@localhost/?socket=/tmp/s.sock", "mysql://u@localhost/?socket=/tmp/s.sock" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u = mig__url_without_password(cases[i].in);

		CU_ASSERT_STRING_EQUAL(u, cases[i].out);
		if (strcmp(u, cases[i].out))
			fprintf(stderr, "\n  '%s' -> '%s', want '%s'\n", cases[i].in, u, cases[i].out);
		free(u);
	}
}

static void test_precheck__progress(void)
{
	struct sl_progress p;
	char line[200];

	sl_progress_init(&p, "snapshot", 1000);
	CU_ASSERT_EQUAL(sl_progress_eta_s(&p), -1);	/* no rate yet */
	sl_progress_update(&p, 0, 1000000, 1000);
	sl_progress_update(&p, 100000, 1000000, 3000);	/* 50k rows/s */
	CU_ASSERT_DOUBLE_EQUAL(p.rate, 50000.0, 0.5);
	CU_ASSERT_EQUAL(sl_progress_eta_s(&p), 18);
	sl_progress_line(&p, 10, line, sizeof(line));
	CU_ASSERT_STRING_EQUAL(line, "snapshot [#.........]  10% 100.0k/1.0M rows 50.0k rows/s ETA 18s");
	sl_progress_line(&p, 0, line, sizeof(line));
	CU_ASSERT_STRING_EQUAL(line, "snapshot 10% 100000/1000000 rows, 50000 rows/s, ETA 18s");
	/* a stall shows as a falling rate */
	sl_progress_update(&p, 100000, 1000000, 5000);
	CU_ASSERT_TRUE(p.rate < 50000.0);
	/* done past the estimate: 100%, never more */
	sl_progress_update(&p, 1200000, 1000000, 9000);
	sl_progress_line(&p, 10, line, sizeof(line));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "[##########] 100%"));
	sl_progress_finish(&p, 11000);
	CU_ASSERT_EQUAL(sl_progress_eta_s(&p), 0);
	CU_ASSERT_EQUAL(p.total, 1200000);
	CU_ASSERT_DOUBLE_EQUAL(p.rate, 120000.0, 0.5);	/* 1.2M rows in 10 s */
	sl_progress_update(&p, 1200000, 1200000, 20000);	/* no decay once finished */
	CU_ASSERT_DOUBLE_EQUAL(p.rate, 120000.0, 0.5);
	/* unknown total: no bar, no percentage */
	sl_progress_init(&p, "load", 0);
	sl_progress_update(&p, 5, 0, 0);
	sl_progress_line(&p, 10, line, sizeof(line));
	CU_ASSERT_STRING_EQUAL(line, "load 5 rows - rows/s");
	CU_ASSERT_FALSE(sl_progress_due(&p, 10000));
	sl_progress_update(&p, 6, 0, 10000);
	CU_ASSERT_TRUE(sl_progress_due(&p, 10000));
	CU_ASSERT_FALSE(sl_progress_due(&p, 10000));
}

/* One migrate per DIR; the state file round-trips. */
static void test_precheck__lock_and_state(void)
{
	char dir[] = "/tmp/sluice-test-mig.XXXXXX";
	struct sl_err err = SL_ERR_INIT;
	struct mig_state a = { 0 }, b;
	int fd1 = -1, fd2 = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_EQUAL(mig__state_read(dir, &b, &err), 0);	/* none yet */
	CU_ASSERT_EQUAL(b.verify, -1);
	CU_ASSERT_EQUAL(mig__lock(dir, &fd1, &err), 0);
	CU_ASSERT_EQUAL(mig__lock(dir, &fd2, &err), -SL_ECONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "another sluice migrate"));
	CU_ASSERT_EQUAL(fd2, -1);
	close(fd1);
	CU_ASSERT_EQUAL(mig__lock(dir, &fd2, &err), 0);	/* released with its holder */
	close(fd2);
	snprintf(a.phase, sizeof(a.phase), "catch-up");
	a.pids[0] = 12;
	a.pids[2] = 34;
	a.runs = 3;
	a.first_started = 1700000000;
	a.verify = 1;
	CU_ASSERT_EQUAL(mig__state_write(dir, &a, &err), 0);
	CU_ASSERT_EQUAL(mig__state_read(dir, &b, &err), 1);
	CU_ASSERT_STRING_EQUAL(b.phase, "catch-up");
	CU_ASSERT_EQUAL(b.pids[0], 12);
	CU_ASSERT_EQUAL(b.pids[1], 0);
	CU_ASSERT_EQUAL(b.pids[2], 34);
	CU_ASSERT_EQUAL(b.runs, 3);
	CU_ASSERT_EQUAL(b.first_started, 1700000000);
	CU_ASSERT_EQUAL(b.verify, 1);
	{
		char *p1 = sl_xasprintf("%s/migrate.state", dir), *p2 = sl_xasprintf("%s/migrate.lock", dir);

		unlink(p1);
		unlink(p2);
		free(p1);
		free(p2);
	}
	rmdir(dir);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("migrate/precheck", NULL, NULL);
	CU_add_test(s, "grants", test_precheck__grants);
	CU_add_test(s, "source grants", test_precheck__source_grants);
	CU_add_test(s, "destination grants", test_precheck__dest_grants);
	CU_add_test(s, "binlog retention", test_precheck__retention);
	CU_add_test(s, "disk space and local_infile", test_precheck__disk_and_infile);
	CU_add_test(s, "server_id check row", test_precheck__server_id_row);
	CU_add_test(s, "child URLs without passwords", test_precheck__child_urls);
	CU_add_test(s, "progress lines", test_precheck__progress);
	CU_add_test(s, "DIR lock and state file", test_precheck__lock_and_state);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
