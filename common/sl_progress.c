/* sl_progress.c - rows done of a total, smoothed rate and ETA; a bar for terminals, a line for logs. */
#include "sl_progress.h"

#include <stdio.h>
#include <string.h>
#include "banned.h"

/* The rate's window: long enough to smooth bursts of chunks, short enough
 * that a stall shows within seconds. */
#define WINDOW_MS 5000

void sl_progress_init(struct sl_progress *p, const char *phase, uint64_t now_ms)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->phase, sizeof(p->phase), "%s", phase);
	p->start_ms = p->now_ms = p->mark_ms = p->logged_ms = now_ms;
	p->rate = -1;
}

void sl_progress_update(struct sl_progress *p, uint64_t done, uint64_t total, uint64_t now_ms)
{
	uint64_t span;

	if (p->finished)	/* its final rate stands */
		return;
	if (now_ms < p->now_ms)
		now_ms = p->now_ms;
	if (done < p->mark_done) {	/* counted again from lower (a restart): new window */
		p->mark_done = done;
		p->mark_ms = now_ms;
	}
	p->done = done;
	p->total = total;
	p->now_ms = now_ms;
	span = now_ms - p->mark_ms;
	if (span >= 1000) {
		double r = (double)(done - p->mark_done) * 1000.0 / (double)span;

		p->rate = p->rate < 0 ? r : 0.5 * p->rate + 0.5 * r;
		if (span >= WINDOW_MS) {
			p->mark_ms = now_ms;
			p->mark_done = done;
		}
	}
}

void sl_progress_finish(struct sl_progress *p, uint64_t now_ms)
{
	if (now_ms > p->start_ms)
		p->rate = (double)p->done * 1000.0 / (double)(now_ms - p->start_ms);
	p->now_ms = now_ms;
	if (p->total < p->done)
		p->total = p->done;
	p->finished = 1;
}

int64_t sl_progress_eta_s(const struct sl_progress *p)
{
	if (p->finished)
		return 0;
	if (!p->total || p->rate < 0.5)	/* stalled: no honest estimate */
		return -1;
	if (p->done >= p->total)
		return 0;
	return (int64_t)((double)(p->total - p->done) / p->rate + 0.5);
}

char *sl_progress_count(uint64_t v, char *out, size_t n)
{
	if (v >= 1000000000ULL)
		snprintf(out, n, "%.1fG", (double)v / 1e9);
	else if (v >= 1000000)
		snprintf(out, n, "%.1fM", (double)v / 1e6);
	else if (v >= 10000)
		snprintf(out, n, "%.1fk", (double)v / 1e3);
	else
		snprintf(out, n, "%llu", (unsigned long long)v);
	return out;
}

static void eta_text(int64_t s, char *out, size_t n)
{
	if (s < 0)
		snprintf(out, n, "-");
	else if (s >= 3600)
		snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, n, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(out, n, "%llds", (long long)s);
}

char *sl_progress_line(const struct sl_progress *p, int bar_width, char *out, size_t n)
{
	char eta[24], d[16], t[16], r[16], bar[128];
	int pct = -1;
	size_t len;

	if (p->total) {
		uint64_t done = p->done > p->total ? p->total : p->done;

		pct = (int)(done * 100 / p->total);
	}
	eta_text(sl_progress_eta_s(p), eta, sizeof(eta));
	if (bar_width <= 0) {
		char rate[32];

		if (p->rate < 0)
			snprintf(rate, sizeof(rate), "-");
		else
			snprintf(rate, sizeof(rate), "%.0f", p->rate);
		if (pct >= 0)
			snprintf(out, n, "%s %d%% %llu/%llu rows, %s rows/s, ETA %s%s", p->phase, pct,
				 (unsigned long long)p->done, (unsigned long long)p->total, rate, eta,
				 p->finished ? ", done" : "");
		else
			snprintf(out, n, "%s %llu rows, %s rows/s%s", p->phase, (unsigned long long)p->done,
				 rate, p->finished ? ", done" : "");
		return out;
	}
	if ((size_t)bar_width > sizeof(bar) - 3)
		bar_width = (int)sizeof(bar) - 3;
	len = 0;
	bar[len++] = '[';
	for (int i = 0; i < bar_width; i++)
		bar[len++] = pct >= 0 && i < pct * bar_width / 100 ? '#' : '.';
	bar[len++] = ']';
	bar[len] = 0;
	sl_progress_count(p->done, d, sizeof(d));
	sl_progress_count(p->total, t, sizeof(t));
	if (p->rate < 0)
		snprintf(r, sizeof(r), "-");
	else
		sl_progress_count((uint64_t)(p->rate + 0.5), r, sizeof(r));
	if (pct >= 0)
		snprintf(out, n, "%s %s %3d%% %s/%s rows %s rows/s ETA %s", p->phase, bar, pct, d, t, r,
			 p->finished ? "done" : eta);
	else
		snprintf(out, n, "%s %s rows %s rows/s", p->phase, d, r);
	return out;
}

int sl_progress_due(struct sl_progress *p, uint64_t interval_ms)
{
	if (p->finished || p->now_ms - p->logged_ms >= interval_ms) {
		p->logged_ms = p->now_ms;
		return 1;
	}
	return 0;
}
