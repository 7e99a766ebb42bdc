/* mig_journal.c - the switchover's files in DIR: the client's request, the task's journal of each step, the rollback ask, the position pair. */
/*
 * All are short text files of key=value lines written whole with
 * sl_write_file_atomic(), so a reader sees the old or the new one, never a
 * mix, and a crash at any moment leaves one of them. The request is the
 * client's (`sluice switchover`), the journal the task's: each file has one
 * writer. Unknown keys are ignored, so a newer sluice can add some.
 */
#include "mig_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "banned.h"

const char *const mig__sw_step_names[SW_NSTEPS] = {
	"confirm", "precheck", "reverse-capture", "freeze-source", "wait-forward", "stop-forward",
	"objects", "reverse-sync",
};

/* Values are one line: a newline in a note or an error would end it. */
static void add_kv(struct sl_buf *b, const char *k, const char *v)
{
	sl_buf_adds(b, k);
	sl_buf_addc(b, '=');
	for (const char *p = v; *p; p++)
		sl_buf_addc(b, *p == '\n' || *p == '\r' ? ' ' : *p);
	sl_buf_addc(b, '\n');
}

typedef void (*kv_fn)(void *ctx, const char *k, const char *v);

/* 1 read, 0 no file, < 0 err. */
static int read_kv(const char *path, kv_fn fn, void *ctx, struct sl_err *err)
{
	FILE *f = fopen(path, "re");
	char line[4608];

	if (!f) {
		int e = errno;

		return e == ENOENT ? 0 : sl_err_set(err, -e, "cannot read '%s': %s", path, strerror(e));
	}
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		if (line[0] == '#' || !eq)
			continue;
		*eq++ = 0;
		eq[strcspn(eq, "\n")] = 0;
		fn(ctx, line, eq);
	}
	fclose(f);
	return 1;
}

static int write_file(const char *dir, const char *name, const struct sl_buf *b, struct sl_err *err)
{
	char *path = sl_xasprintf("%s/%s", dir, name);
	int rc = sl_write_file_atomic(path, b->data, b->len, 0600, err);

	free(path);
	return rc;
}

/* ---- the request ---- */

static void add_request(struct sl_buf *b, const struct mig_sw_request *r)
{
	sl_buf_addf(b, "request=%" PRIu64 "\n", r->id);
	add_kv(b, "reverse_dir", r->reverse_dir);
	add_kv(b, "source", r->source);
	add_kv(b, "dest", r->dest);
	sl_buf_addf(b, "freeze=%d\nskip_verify=%d\nmax_lag=%u\ntimeout=%u\nquiet=%u\n", r->freeze,
		    r->skip_verify, r->max_lag_s, r->timeout_s, r->quiet_s);
}

static int request_kv(struct mig_sw_request *r, const char *k, const char *v)
{
	if (!strcmp(k, "request"))
		r->id = strtoull(v, NULL, 10);
	else if (!strcmp(k, "reverse_dir"))
		snprintf(r->reverse_dir, sizeof(r->reverse_dir), "%s", v);
	else if (!strcmp(k, "source"))
		snprintf(r->source, sizeof(r->source), "%s", v);
	else if (!strcmp(k, "dest"))
		snprintf(r->dest, sizeof(r->dest), "%s", v);
	else if (!strcmp(k, "freeze"))
		r->freeze = atoi(v);
	else if (!strcmp(k, "skip_verify"))
		r->skip_verify = atoi(v);
	else if (!strcmp(k, "max_lag"))
		r->max_lag_s = (unsigned)strtoul(v, NULL, 10);
	else if (!strcmp(k, "timeout"))
		r->timeout_s = (unsigned)strtoul(v, NULL, 10);
	else if (!strcmp(k, "quiet"))
		r->quiet_s = (unsigned)strtoul(v, NULL, 10);
	else
		return 0;
	return 1;
}

static void on_request(void *ctx, const char *k, const char *v)
{
	request_kv(ctx, k, v);
}

int mig__sw_request_read(const char *dir, struct mig_sw_request *r, struct sl_err *err)
{
	char *path = sl_xasprintf("%s/switchover.request", dir);
	int rc;

	memset(r, 0, sizeof(*r));
	rc = read_kv(path, on_request, r, err);
	free(path);
	return rc;
}

int mig__sw_request_write(const char *dir, const struct mig_sw_request *r, struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	sl_buf_adds(&b, "# sluice switchover: what the client asked the task to do\n");
	add_request(&b, r);
	rc = write_file(dir, "switchover.request", &b, err);
	sl_buf_release(&b);
	return rc;
}

/* ---- the journal ---- */

static void on_journal(void *ctx, const char *k, const char *v)
{
	struct mig_sw_journal *j = ctx;

	if (request_kv(&j->req, k, v))
		return;
	if (!strcmp(k, "state"))
		snprintf(j->state, sizeof(j->state), "%s", v);
	else if (!strcmp(k, "error"))
		snprintf(j->error, sizeof(j->error), "%s", v);
	else if (!strcmp(k, "source_final"))
		snprintf(j->source_final, sizeof(j->source_final), "%s", v);
	else if (!strcmp(k, "dest_start"))
		snprintf(j->dest_start, sizeof(j->dest_start), "%s", v);
	else if (!strcmp(k, "froze"))
		j->froze = atoi(v);
	else if (!strcmp(k, "read_only_before"))
		j->read_only_before = atoi(v);
	else if (!strncmp(k, "step.", 5)) {
		for (int i = 0; i < SW_NSTEPS; i++) {
			struct mig_sw_step_rec *s = &j->step[i];
			int n = 0;

			if (strcmp(k + 5, mig__sw_step_names[i]))
				continue;
			/* "STATUS START END NOTE..." */
			if (sscanf(v, "%11s %" SCNu64 " %" SCNu64 " %n", s->status, &s->start_ms, &s->end_ms,
				   &n) >= 3 && n > 0)
				snprintf(s->note, sizeof(s->note), "%s", v + n);
		}
	}
}

int mig__sw_journal_read(const char *dir, struct mig_sw_journal *j, struct sl_err *err)
{
	char *path = sl_xasprintf("%s/switchover.journal", dir);
	int rc;

	memset(j, 0, sizeof(*j));
	for (int i = 0; i < SW_NSTEPS; i++)
		snprintf(j->step[i].status, sizeof(j->step[i].status), "pending");
	rc = read_kv(path, on_journal, j, err);
	free(path);
	return rc;
}

int mig__sw_journal_write(const char *dir, const struct mig_sw_journal *j, struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	sl_buf_adds(&b, "# sluice switchover: the task's journal, one line per step "
		    "(status, start and end in unix ms, note)\n");
	add_request(&b, &j->req);
	add_kv(&b, "state", j->state);
	add_kv(&b, "error", j->error);
	add_kv(&b, "source_final", j->source_final);
	add_kv(&b, "dest_start", j->dest_start);
	sl_buf_addf(&b, "froze=%d\nread_only_before=%d\n", j->froze, j->read_only_before);
	for (int i = 0; i < SW_NSTEPS; i++) {
		char k[48], v[800];

		snprintf(k, sizeof(k), "step.%s", mig__sw_step_names[i]);
		snprintf(v, sizeof(v), "%s %" PRIu64 " %" PRIu64 " %s", j->step[i].status,
			 j->step[i].start_ms, j->step[i].end_ms, j->step[i].note);
		add_kv(&b, k, v);
	}
	rc = write_file(dir, "switchover.journal", &b, err);
	sl_buf_release(&b);
	return rc;
}

int mig__sw_rollback_asked(const char *dir, uint64_t *id)
{
	char *path = sl_xasprintf("%s/switchover.rollback", dir);
	struct mig_sw_request r;
	struct sl_err e = SL_ERR_INIT;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = read_kv(path, on_request, &r, &e);
	free(path);
	*id = r.id;
	return rc == 1;
}

int mig__sw_rollback_ask(const char *dir, uint64_t id, struct sl_err *err)
{
	char *path = sl_xasprintf("%s/switchover.rollback", dir);
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc = 0;

	if (id) {
		sl_buf_addf(&b, "request=%" PRIu64 "\n", id);
		rc = sl_write_file_atomic(path, b.data, b.len, 0600, err);
	} else if (unlink(path) < 0 && errno != ENOENT) {
		rc = sl_err_set(err, -errno, "cannot remove '%s': %s", path, strerror(errno));
	}
	sl_buf_release(&b);
	free(path);
	return rc;
}

int mig__sw_pair_write(const char *dir, const struct mig_sw_journal *j, struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	sl_buf_adds(&b, "# sluice switchover: forward sync ended at source_final; reverse sync "
		    "starts at dest_start\n");
	add_kv(&b, "source_final", j->source_final);
	add_kv(&b, "dest_start", j->dest_start);
	sl_buf_addf(&b, "time=%" PRIu64 "\nrequest=%" PRIu64 "\n",
		    j->step[SW_STOP_FORWARD].end_ms / 1000, j->req.id);
	rc = write_file(dir, "switchover.pair", &b, err);
	sl_buf_release(&b);
	return rc;
}

int mig__sw_ended(const struct mig_sw_journal *j)
{
	return !strcmp(j->state, "done") || !strcmp(j->state, "failed") ||
	       !strcmp(j->state, "rolled-back");
}

int mig__sw_forward_stopped(const struct mig_sw_journal *j)
{
	return strcmp(j->step[SW_STOP_FORWARD].status, "pending") != 0;
}

/* "mysql-bin.000012" vs "mysql-bin.000009": by the number after the last
 * dot when both have one, else as text; then the offset. */
int mig__pos_cmp(const char *fa, uint64_t oa, const char *fb, uint64_t ob)
{
	const char *da = strrchr(fa, '.'), *db = strrchr(fb, '.');
	int c;

	if (da && db && (size_t)(da - fa) == (size_t)(db - fb) && !strncmp(fa, fb, (size_t)(da - fa))) {
		unsigned long long na = strtoull(da + 1, NULL, 10), nb = strtoull(db + 1, NULL, 10);

		c = na < nb ? -1 : na > nb;
	} else {
		c = strcmp(fa, fb);
	}
	if (c)
		return c;
	return oa < ob ? -1 : oa > ob;
}
