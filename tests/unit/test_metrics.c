/* test_metrics.c - unit suite for common/sl_metrics.c: the Prometheus text of --metrics. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl.h"
#include "sl_metrics.h"

static char *render(const struct sl_metrics *m)
{
	char *s;

	sl_metrics_render(m, &s);
	return s;
}

/* HELP, TYPE and one labelled sample per family, in the order defined. */
static void test_metrics__exposition(void)
{
	struct sl_metrics m;
	char *s;

	sl_metrics_init(&m, "/nonexistent/never-written", 0);
	sl_metrics_label(&m, "consumer", "default");
	sl_metrics_set(&m, SL_METRIC_COUNTER, "sluice_applied_rows_total", "Rows applied.", 42);
	sl_metrics_set(&m, SL_METRIC_GAUGE, "sluice_replication_lag_seconds", "Lag.", 0.25);
	s = render(&m);
	CU_ASSERT_STRING_EQUAL(s,
			       "# HELP sluice_applied_rows_total Rows applied.\n"
			       "# TYPE sluice_applied_rows_total counter\n"
			       "sluice_applied_rows_total{consumer=\"default\"} 42\n"
			       "# HELP sluice_replication_lag_seconds Lag.\n"
			       "# TYPE sluice_replication_lag_seconds gauge\n"
			       "sluice_replication_lag_seconds{consumer=\"default\"} 0.250000\n");
	free(s);
	/* an update changes the value, not the families */
	sl_metrics_set(&m, SL_METRIC_COUNTER, "sluice_applied_rows_total", "Rows applied.", 1e15);
	s = render(&m);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "sluice_applied_rows_total{consumer=\"default\"} 1000000000000000\n"));
	CU_ASSERT_EQUAL(strncmp(s, "# HELP sluice_applied_rows_total Rows applied.\n"
				"# TYPE sluice_applied_rows_total counter\n", 88), 0);
	free(s);
	sl_metrics_release(&m);
}

/* A counter never goes down; a gauge does; NaN and infinities are not written. */
static void test_metrics__counter_monotonic(void)
{
	struct sl_metrics m;
	char *s;

	sl_metrics_init(&m, "x", 0);
	sl_metrics_set(&m, SL_METRIC_COUNTER, "sluice_c_total", "c", 10);
	sl_metrics_set(&m, SL_METRIC_COUNTER, "sluice_c_total", "c", 9);
	sl_metrics_set(&m, SL_METRIC_GAUGE, "sluice_g", "g", 10);
	sl_metrics_set(&m, SL_METRIC_GAUGE, "sluice_g", "g", 3);
	sl_metrics_set(&m, SL_METRIC_GAUGE, "sluice_g", "g", 0.0 / 0.0);
	s = render(&m);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\nsluice_c_total 10\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\nsluice_g 3\n"));
	free(s);
	sl_metrics_release(&m);
}

/* A label value cannot end its line or its quotes; nor can a HELP text. */
static void test_metrics__escaping(void)
{
	struct sl_metrics m;
	char *s;

	sl_metrics_init(&m, "x", 0);
	sl_metrics_label(&m, "consumer", "a\"b\\c\nd");
	sl_metrics_label(&m, "stream", "s");
	sl_metrics_set(&m, SL_METRIC_GAUGE, "sluice_g", "two\nlines \\ here", 1);
	s = render(&m);
	CU_ASSERT_STRING_EQUAL(s, "# HELP sluice_g two\\nlines \\\\ here\n# TYPE sluice_g gauge\n"
			       "sluice_g{consumer=\"a\\\"b\\\\c\\nd\",stream=\"s\"} 1\n");
	free(s);
	sl_metrics_release(&m);
}

/* No path: nothing is due, written or kept. */
static void test_metrics__disabled(void)
{
	struct sl_metrics m;
	struct sl_err err = SL_ERR_INIT;

	sl_metrics_init(&m, NULL, 0);
	sl_metrics_label(&m, "consumer", "x");
	sl_metrics_set(&m, SL_METRIC_GAUGE, "sluice_g", "g", 1);
	CU_ASSERT_EQUAL(m.n, 0);
	CU_ASSERT_FALSE(sl_metrics_due(&m, 123456));
	CU_ASSERT_EQUAL(sl_metrics_write(&m, 123456, &err), 0);
	sl_metrics_release(&m);
}

/* Written whole, due again after the period; a file that cannot be written
 * is an error naming it. */
static void test_metrics__write(void)
{
	char root[] = "/tmp/sluice-metrics-XXXXXX", path[128], buf[256];
	struct sl_metrics m;
	struct sl_err err = SL_ERR_INIT;
	FILE *f;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/sluice.prom", root);
	sl_metrics_init(&m, path, 5000);
	CU_ASSERT_TRUE(sl_metrics_due(&m, 1000));
	sl_metrics_set(&m, SL_METRIC_COUNTER, "sluice_applied_transactions_total", "t", 7);
	CU_ASSERT_EQUAL_FATAL(sl_metrics_write(&m, 1000, &err), 0);
	CU_ASSERT_FALSE(sl_metrics_due(&m, 5999));
	CU_ASSERT_TRUE(sl_metrics_due(&m, 6000));
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "# HELP sluice_applied_transactions_total t\n"
			       "# TYPE sluice_applied_transactions_total counter\n"
			       "sluice_applied_transactions_total 7\n");
	sl_metrics_release(&m);
	unlink(path);
	rmdir(root);
	snprintf(path, sizeof(path), "%s/sluice.prom", root);
	sl_metrics_init(&m, path, 0);
	CU_ASSERT_TRUE(sl_metrics_write(&m, 1, &err) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, root));
	sl_metrics_release(&m);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("metrics", NULL, NULL);
	CU_add_test(s, "exposition: help, type, labelled sample", test_metrics__exposition);
	CU_add_test(s, "counters never go down", test_metrics__counter_monotonic);
	CU_add_test(s, "escaping of label values and help", test_metrics__escaping);
	CU_add_test(s, "disabled without a path", test_metrics__disabled);
	CU_add_test(s, "written atomically, period, errors", test_metrics__write);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
