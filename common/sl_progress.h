/*
 * sl_progress.h - progress of a long phase: rows done of a total, the rate
 * and the time left, drawn as a bar on a terminal and as plain log lines
 * otherwise.
 *
 * Calling sequence: sl_progress_init(&p, "snapshot", tty) ->
 *   sl_progress_update(&p, done, total, now_ms)... -> sl_progress_line(&p, buf)
 *   whenever a line is wanted (a bar redraw, or a log line every few seconds:
 *   sl_progress_due() says when).
 * The rate is smoothed over the updates of the last few seconds, so a pause
 * shows as a falling rate, and the ETA is (total - done) / rate; both are
 * unknown (printed "-") until two updates a second apart exist. A total of
 * 0 is unknown: the line shows the count and the rate without a bar.
 * After sl_progress_finish() the rate is the phase's average and updates
 * change nothing.
 * Pure except for what the caller passes: now_ms comes from the caller
 * (sl_now_ms()), so tests give their own clock.
 * Threads: none; one struct per phase, owned by the caller.
 */
#ifndef SL_PROGRESS_H
#define SL_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct sl_progress {
	char phase[24];
	uint64_t done, total;
	uint64_t start_ms, now_ms;
	uint64_t mark_ms, mark_done;	/* the rate's window start */
	double rate;			/* per second, smoothed; < 0: unknown */
	uint64_t logged_ms;		/* last plain log line */
	int finished;
};

void sl_progress_init(struct sl_progress *p, const char *phase, uint64_t now_ms);
void sl_progress_update(struct sl_progress *p, uint64_t done, uint64_t total, uint64_t now_ms);
void sl_progress_finish(struct sl_progress *p, uint64_t now_ms);
/* Seconds left, or -1 when unknown. */
int64_t sl_progress_eta_s(const struct sl_progress *p);
/* One line, no newline: with bar_width > 0
 *   "snapshot [#########.........]  45%  1.2M/2.7M rows  310k rows/s  ETA 5s"
 * and without (log lines)
 *   "snapshot 45% 1234567/2712345 rows, 310123 rows/s, ETA 5s". Returns out. */
char *sl_progress_line(const struct sl_progress *p, int bar_width, char *out, size_t n);
/* Whether a plain log line is due (every interval_ms, and once on finish);
 * marks it printed when it returns 1. */
int sl_progress_due(struct sl_progress *p, uint64_t interval_ms);
/* "1.2M", "310k", "999" into out. Returns out. */
char *sl_progress_count(uint64_t v, char *out, size_t n);

#endif
