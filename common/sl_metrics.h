/*
 * sl_metrics.h - a Prometheus text exposition file (format 0.0.4) that a
 * long-running command rewrites every few seconds and at exit (--metrics FILE),
 * for a node_exporter textfile collector or any scraper that reads a file.
 *
 * Invariants: every metric is named sluice_[a-z0-9_]+ in base units (seconds,
 * bytes), counters end in _total and never go down within one process; every
 * family is written with its HELP and TYPE lines, then one sample per family
 * carrying the file's labels (e.g. consumer="default"). Label values are
 * escaped (backslash, double quote, newline), so a name cannot break a line.
 * The file is replaced whole with sl_write_file_atomic(): a reader sees the
 * previous version or the next, never a part.
 * Calling sequence: sl_metrics_init(&m, path, period_ms) ->
 *   sl_metrics_label(&m, "consumer", name)... ->
 *   { sl_metrics_set(&m, SL_METRIC_COUNTER, name, help, value)... ;
 *     if (sl_metrics_due(&m, now_ms)) sl_metrics_write(&m, now_ms, &err); }... ->
 *   sl_metrics_write() once more at exit -> sl_metrics_release(&m).
 * A path of NULL or "" disables it: every call does nothing and returns 0.
 * Values are doubles; whole numbers below 2^53 print without a fraction.
 * Ownership: names and help texts are copied. Errors: sl_metrics_set() aborts
 * on a name that breaks the rules above (a programming error);
 * sl_metrics_write() returns 0 or a negative errno with err naming the file.
 * Threads: none; one struct per process, owned by its caller.
 */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct sl_err;

enum sl_metric_type { SL_METRIC_COUNTER, SL_METRIC_GAUGE };

#define SL_METRICS_MAX 32		/* families per file */
#define SL_METRICS_LABELS 4		/* labels per file */
#define SL_METRICS_PERIOD_MS 2000	/* the default rewrite period */

struct sl_metric {
	char name[80];
	char *help;
	enum sl_metric_type type;
	double value;
};

struct sl_metrics {
	char *path;			/* NULL: disabled */
	uint64_t period_ms, written_ms;
	unsigned n, nlabels;
	struct sl_metric m[SL_METRICS_MAX];
	char *label_name[SL_METRICS_LABELS], *label_value[SL_METRICS_LABELS];
};

void sl_metrics_init(struct sl_metrics *m, const char *path, uint64_t period_ms);
/* A label on every sample (name: [a-z_][a-z0-9_]*). */
void sl_metrics_label(struct sl_metrics *m, const char *name, const char *value);
/* Define the family name (first call) or update its value; a counter's value
 * that would go down is kept where it was. */
void sl_metrics_set(struct sl_metrics *m, enum sl_metric_type type, const char *name,
		    const char *help, double value);
/* 1 when the period since the last write has passed (and m is enabled). */
int sl_metrics_due(const struct sl_metrics *m, uint64_t now_ms);
/* The exposition text of m into *out (malloc'd, NUL-terminated), its length returned. */
size_t sl_metrics_render(const struct sl_metrics *m, char **out);
int sl_metrics_write(struct sl_metrics *m, uint64_t now_ms, struct sl_err *err);
void sl_metrics_release(struct sl_metrics *m);
/* An option check (common/sl_opt.h .check) for --metrics FILE: FILE is not
 * a directory and its directory exists and is writable; else -SL_EINVAL_ARG
 * with err naming the path and why. */
int sl_metrics_path_check(const char *path, struct sl_err *err);

#endif
