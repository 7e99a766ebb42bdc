/* sl_retry.c - waiting out what passes: backoff, one log line per attempt, a limit, and a state file for status. */
#include "sl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "banned.h"

enum { ST_NONE, ST_RUNNING, ST_RECONNECTING, ST_STOPPED, ST_FAILED };
static const char *const state_name[] = { "", "running", "reconnecting", "stopped", "failed" };

#define FIRST_DELAY_MS 100
#define MAX_DELAY_MS 2000

static void write_state(struct sl_retry *r, int state)
{
	char buf[SL_ERR_LEN + 200];
	struct sl_err e = SL_ERR_INIT;
	int n;

	r->state = state;
	/* a command refused before it ran leaves DIR as it was */
	if (!r->state_path || (!r->written && state != ST_RECONNECTING && state != ST_RUNNING))
		return;
	r->written = 1;
	n = snprintf(buf, sizeof(buf), "state %s\npid %ld\nsince %llu\nattempt %u\nerror %s\n",
		     state_name[state], (long)getpid(), (unsigned long long)(sl_wall_us() / 1000000),
		     r->attempt, r->last);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	/* status is a convenience: a read-only DIR must not stop the work */
	if (sl_write_file_atomic(r->state_path, buf, (size_t)n, 0644, &e))
		sl_log(SL_DEBUG, r->module, "%s", e.msg);
}

void sl_retry_init(struct sl_retry *r, const char *module, const char *what, uint64_t limit_ms,
		   const char *state_path)
{
	memset(r, 0, sizeof(*r));
	r->module = module;
	r->what = what;
	r->limit_ms = limit_ms;
	r->state_path = state_path ? sl_xstrdup(state_path) : NULL;
	r->delay_ms = FIRST_DELAY_MS;
}

static const char *dur(uint64_t ms, char *buf, size_t n)
{
	if (ms % 3600000 == 0 && ms)
		snprintf(buf, n, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0 && ms)
		snprintf(buf, n, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, n, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, n, "%.1fs", (double)ms / 1000.0);
	return buf;
}

/* Progress since the last failure: the clock starts again at the next. */
static void progress(struct sl_retry *r)
{
	r->first_ms = 0;
	r->attempt = 0;
	r->delay_ms = FIRST_DELAY_MS;
}

/* err holds a transient failure: 0 waited, run again; 1 a stop was
 * requested while waiting; <0 the limit passed (err rewritten). */
static int wait_out(struct sl_retry *r, struct sl_err *err)
{
	uint64_t now = sl_now_ms(), end;
	char lim[32], spent[32], wait[32];

	snprintf(r->last, sizeof(r->last), "%s", err->msg);
	if (!r->first_ms)
		r->first_ms = now;	/* attempt and delay are at their start (init, progress()) */
	if (r->limit_ms == 0 || now - r->first_ms >= r->limit_ms) {
		char msg[SL_ERR_LEN];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		if (r->limit_ms)
			sl_err_set(err, -SL_EDB, "gave up after %s of retries (--retry-for %s): %s",
				   dur(now - r->first_ms, spent, sizeof(spent)),
				   dur(r->limit_ms, lim, sizeof(lim)), msg);
		else
			err->code = -SL_EDB;	/* --retry-for 0: the error as it is */
		return err->code;
	}
	r->attempt++;
	sl_log(SL_WARN, r->module, "reconnecting to %s in %s (attempt %u, failing for %s of %s): %s",
	       r->what, dur(r->delay_ms, wait, sizeof(wait)), r->attempt,
	       dur(now - r->first_ms, spent, sizeof(spent)), dur(r->limit_ms, lim, sizeof(lim)), err->msg);
	write_state(r, ST_RECONNECTING);
	end = now + r->delay_ms;
	while (!sl_stop_requested && (now = sl_now_ms()) < end) {
		uint64_t left = end - now < 50 ? end - now : 50;
		struct timespec ts = { 0, (long)left * 1000000L };

		nanosleep(&ts, NULL);
	}
	r->delay_ms = r->delay_ms * 2 > MAX_DELAY_MS ? MAX_DELAY_MS : r->delay_ms * 2;
	*err = (struct sl_err)SL_ERR_INIT;
	return sl_stop_requested ? 1 : 0;
}

int sl_retry_again(struct sl_retry *r, int *rc, int progressed, int may_wait, struct sl_err *err)
{
	int w;

	if (progressed)
		progress(r);
	if (*rc != -SL_ETRANSIENT)
		return 0;
	if (!may_wait) {
		err->code = *rc = -SL_EDB;
		return 0;
	}
	if ((w = wait_out(r, err)) != 0) {
		*rc = w > 0 ? 0 : w;
		return 0;
	}
	return 1;
}

void sl_retry_up(struct sl_retry *r)
{
	if (r->state == ST_RECONNECTING)
		sl_log(SL_INFO, r->module, "reconnected to %s (attempt %u)", r->what, r->attempt);
	if (r->state != ST_RUNNING)
		write_state(r, ST_RUNNING);
}


void sl_retry_end(struct sl_retry *r, int rc, const struct sl_err *err)
{
	if (rc && err && err->msg[0])
		snprintf(r->last, sizeof(r->last), "%s", err->msg);
	write_state(r, rc ? ST_FAILED : ST_STOPPED);
}

void sl_retry_release(struct sl_retry *r)
{
	free(r->state_path);
	r->state_path = NULL;
}

int sl_retry_state_read(const char *path, struct sl_retry_state *s)
{
	char line[SL_ERR_LEN + 32];
	FILE *f = fopen(path, "re");

	memset(s, 0, sizeof(*s));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\n");
		char *v = strchr(line, ' ');

		line[n] = 0;
		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(line, "state"))
			snprintf(s->state, sizeof(s->state), "%s", v);
		else if (!strcmp(line, "pid"))
			s->pid = strtoll(v, NULL, 10);
		else if (!strcmp(line, "since"))
			s->since = strtoll(v, NULL, 10);
		else if (!strcmp(line, "attempt"))
			s->attempt = strtoll(v, NULL, 10);
		else if (!strcmp(line, "error"))
			snprintf(s->error, sizeof(s->error), "%s", v);
	}
	fclose(f);
	return 0;
}
