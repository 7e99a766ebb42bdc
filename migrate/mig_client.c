/* mig_client.c - `sluice switchover` as a client of the running task: ask through DIR, follow the journal, print its status. */
#include "mig_int.h"
#include "fmt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "banned.h"

/* The task holds DIR/migrate.lock exclusively while it runs. */
static int task_running(const char *dir)
{
	char *path = sl_xasprintf("%s/migrate.lock", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), busy = 0;

	free(path);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		busy = 1;
	close(fd);
	return busy;
}

static void when(uint64_t ms, char *out, size_t n)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms) {
		snprintf(out, n, "-");
		return;
	}
	gmtime_r(&s, &tm);
	snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

static void json_kv(struct sl_buf *b, const char *k, const char *v, int comma)
{
	if (comma)
		sl_buf_addc(b, ',');
	fmt_json_str(b, k, strlen(k));
	sl_buf_addc(b, ':');
	fmt_json_str(b, v, strlen(v));
}

static double downtime_s(const struct mig_sw_journal *j)
{
	if (strcmp(j->state, "done") || !j->step[SW_FREEZE].start_ms)
		return -1;
	return (double)(j->step[SW_REVERSE].end_ms - j->step[SW_FREEZE].start_ms) / 1000;
}

static void print_journal(const struct mig_sw_journal *j, int json, FILE *out)
{
	char a[64], b[64];
	double down = downtime_s(j);

	if (json) {
		struct sl_buf s = SL_BUF_INIT(SL_BUF_UNLIMITED);

		sl_buf_addc(&s, '{');
		json_kv(&s, "state", j->state, 0);
		json_kv(&s, "error", j->error, 1);
		json_kv(&s, "reverse_dir", j->req.reverse_dir, 1);
		json_kv(&s, "source_final", j->source_final, 1);
		json_kv(&s, "dest_start", j->dest_start, 1);
		sl_buf_addf(&s, ",\"requested_ms\":%" PRIu64 ",\"freeze_source\":%s", j->req.id,
			    j->req.freeze ? "true" : "false");
		if (down >= 0)
			sl_buf_addf(&s, ",\"downtime_s\":%.3f", down);
		sl_buf_adds(&s, ",\"steps\":[");
		for (int i = 0; i < SW_NSTEPS; i++) {
			sl_buf_adds(&s, i ? ",{" : "{");
			json_kv(&s, "step", mig__sw_step_names[i], 0);
			json_kv(&s, "status", j->step[i].status, 1);
			sl_buf_addf(&s, ",\"start_ms\":%" PRIu64 ",\"end_ms\":%" PRIu64, j->step[i].start_ms,
				    j->step[i].end_ms);
			json_kv(&s, "note", j->step[i].note, 1);
			sl_buf_addc(&s, '}');
		}
		sl_buf_adds(&s, "]}\n");
		fwrite(s.data, 1, s.len, out);
		sl_buf_release(&s);
		return;
	}
	fprintf(out, "switchover: %s%s%s\n", j->state, j->error[0] ? ": " : "", j->error);
	fprintf(out, "reverse stream: %s\n", j->req.reverse_dir);
	if (j->source_final[0])
		fprintf(out, "source final position: %s\n", j->source_final);
	if (j->dest_start[0])
		fprintf(out, "destination start position: %s\n", j->dest_start);
	if (down >= 0)
		fprintf(out, "downtime (freeze to reverse sync running): %.2f s\n", down);
	for (int i = 0; i < SW_NSTEPS; i++) {
		const struct mig_sw_step_rec *s = &j->step[i];

		when(s->start_ms, a, sizeof(a));
		when(s->end_ms, b, sizeof(b));
		fprintf(out, "  %d %-16s %-8s %s .. %s%s%s\n", i + 1, mig__sw_step_names[i], s->status, a, b,
			s->note[0] ? "  " : "", s->note);
	}
}

int mig_switch_status(const char *dir, int json, FILE *out, struct sl_err *err)
{
	struct mig_sw_journal j;
	int rc = mig__sw_journal_read(dir, &j, err);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return sl_err_set(err, -ENOENT, "'%s': no switchover was asked for (no switchover.journal)",
				  dir);
	print_journal(&j, json, out);
	return 0;
}

int mig_switch_pair(const char *dir, char *out, size_t n)
{
	char *path = sl_xasprintf("%s/switchover.pair", dir), line[512], sf[512] = "", ds[512] = "";
	FILE *f = fopen(path, "re");

	free(path);
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "source_final=", 13))
			snprintf(sf, sizeof(sf), "%s", line + 13);
		else if (!strncmp(line, "dest_start=", 11))
			snprintf(ds, sizeof(ds), "%s", line + 11);
	}
	fclose(f);
	snprintf(out, n, "forward sync ended at source %s; reverse sync starts at destination %s", sf, ds);
	return 1;
}

/* Prints the steps that changed since *seen; returns 1 when j has ended. */
static void print_changes(const struct mig_sw_journal *j, struct mig_sw_journal *seen)
{
	for (int i = 0; i < SW_NSTEPS; i++) {
		const struct mig_sw_step_rec *s = &j->step[i];

		if (!strcmp(s->status, seen->step[i].status) && s->end_ms == seen->step[i].end_ms)
			continue;
		if (strcmp(s->status, "pending"))
			printf("step %d/%d %s: %s%s%s\n", i + 1, SW_NSTEPS, mig__sw_step_names[i], s->status,
			       s->note[0] ? ": " : "", s->note);
		seen->step[i] = *s;
	}
	fflush(stdout);
}

/* Follows the journal of request id until it ends. */
static int follow(const char *dir, uint64_t id, struct sl_err *err)
{
	struct mig_sw_journal j, seen;
	uint64_t asked = sl_now_ms();
	int said_wait = 0, rc;

	memset(&seen, 0, sizeof(seen));
	for (;;) {
		if (sl_stop_requested)
			return sl_err_set(err, -SL_EINTR_STOP, "stopped following; the switchover goes on in "
					  "the task: sluice switchover --dir %s --status", dir);
		if ((rc = mig__sw_journal_read(dir, &j, err)) < 0)
			return rc;
		if (rc == 1 && j.req.id == id) {
			print_changes(&j, &seen);
			if (!strcmp(j.state, "done")) {
				double down = downtime_s(&j);

				printf("switched over: the application may write to the destination; reverse "
				       "sync runs (downtime %.2f s)\n", down);
				return 0;
			}
			if (mig__sw_ended(&j))
				return sl_err_set(err, -SL_EAPPLY, "switchover %s: %s", j.state, j.error);
			for (int i = SW_STOP_FORWARD; i < SW_NSTEPS; i++)
				if (!strcmp(j.step[i].status, "failed"))
					return sl_err_set(err, -SL_EAPPLY, "switchover step %s failed: %s; the "
							  "task retries it, fix the cause", mig__sw_step_names[i],
							  j.step[i].note);
		} else if (!said_wait && sl_now_ms() - asked > 5000) {
			printf("waiting for the task to take the request\n");
			fflush(stdout);
			said_wait = 1;
		}
		if (!task_running(dir))
			return sl_err_set(err, -SL_EAPPLY, "the migrate task on '%s' stopped during the "
					  "switchover: start it again (sluice migrate ... --follow) and it "
					  "continues the switchover", dir);
		usleep(200 * 1000);
	}
}

static int confirm(const struct mig_switch_opts *o, struct sl_err *err)
{
	char line[64];

	if (o->yes)
		return 0;
	if (!isatty(STDIN_FILENO))
		return sl_err_set(err, -SL_ECONFIG, "confirm with --yes (stdin is not a terminal)");
	fprintf(stderr, "Switch the application's writes from %s to %s, with reverse sync into "
		"the source%s? Type yes: ", o->source_url, o->dest_url,
		o->freeze ? " (the source becomes read-only)" : "");
	if (!fgets(line, (int)sizeof(line), stdin) || strcmp(line, "yes\n"))
		return sl_err_set(err, -SL_ECONFIG, "not confirmed: nothing done");
	return 0;
}

int mig_switchover(const struct mig_switch_opts *o, struct sl_err *err)
{
	char dir[PATH_MAX];
	struct mig_sw_journal j;
	struct mig_sw_request q;
	struct mig_state st;
	int rc, have;

	if (!realpath(o->dir, dir)) {
		int e = errno;

		return sl_err_set(err, -e, "cannot resolve '%s': %s", o->dir, strerror(e));
	}
	if (!task_running(dir))
		return sl_err_set(err, -SL_ECONFIG, "no migrate task runs on '%s': start `sluice migrate "
				  "--source S --dest D --dir %s --follow` first", dir, o->dir);
	if ((have = mig__sw_journal_read(dir, &j, err)) < 0)
		return have;
	if (o->rollback) {
		if (!have || mig__sw_ended(&j))
			return sl_err_set(err, -SL_ECONFIG, "'%s': no switchover under way to roll back%s%s%s", dir,
					  have ? " (the last one " : "", have ? j.state : "", have ? ")" : "");
		if (mig__sw_forward_stopped(&j))
			return sl_err_set(err, -SL_ECONFIG, "forward sync was stopped at the source's %s: "
					  "the switchover can no longer be rolled back (reverse sync carries "
					  "the destination's writes to the source)", j.source_final);
		if ((rc = mig__sw_rollback_ask(dir, j.req.id, err)))
			return rc;
		rc = follow(dir, j.req.id, err);
		if (rc && (mig__sw_journal_read(dir, &j, err) == 1) && !strcmp(j.state, "rolled-back")) {
			printf("rolled back: forward sync goes on, the source is writable as before\n");
			return 0;
		}
		return rc;
	}
	if (have && !strcmp(j.state, "done")) {
		printf("already switched over at %s; reverse sync runs\n", j.source_final);
		return 0;
	}
	if (have && !strcmp(j.state, "running")) {
		printf("a switchover is under way: following it\n");
		return follow(dir, j.req.id, err);
	}
	if ((rc = mig__state_read(dir, &st, err)) < 0)
		return rc;
	if (strcmp(st.phase, "follow"))
		return sl_err_set(err, -SL_ECONFIG, "the migrate task on '%s' is in phase %s: switch over "
				  "once it follows (its phase is follow after verify)", dir,
				  st.phase[0] ? st.phase : "(none)");
	if ((rc = confirm(o, err)))
		return rc;
	memset(&q, 0, sizeof(q));
	q.id = sl_wall_us() / 1000;
	if (have && q.id <= j.req.id)
		q.id = j.req.id + 1;
	if (!realpath(o->reverse_dir, q.reverse_dir)) {
		/* a new RDIR: its parent must be there */
		char *slash;

		snprintf(q.reverse_dir, sizeof(q.reverse_dir), "%s", o->reverse_dir);
		if (q.reverse_dir[0] != '/') {
			char cwd[PATH_MAX / 2];

			if (!getcwd(cwd, sizeof(cwd)))
				return sl_err_set(err, -errno, "cannot read the current directory");
			snprintf(q.reverse_dir, sizeof(q.reverse_dir), "%s/%s", cwd, o->reverse_dir);
		}
		if ((slash = strrchr(q.reverse_dir, '/')) && slash != q.reverse_dir) {
			char parent[PATH_MAX];

			snprintf(parent, sizeof(parent), "%.*s", (int)(slash - q.reverse_dir), q.reverse_dir);
			if (access(parent, W_OK) < 0)
				return sl_err_set(err, -errno, "--reverse-dir '%s': cannot write its parent '%s': %s",
						  o->reverse_dir, parent, strerror(errno));
		}
	}
	if (!strcmp(q.reverse_dir, dir))
		return sl_err_set(err, -SL_EINVAL_ARG, "--reverse-dir must not be the forward stream '%s'", dir);
	{
		char *s = mig__url_without_password(o->source_url), *d = mig__url_without_password(o->dest_url);

		snprintf(q.source, sizeof(q.source), "%s", s);
		snprintf(q.dest, sizeof(q.dest), "%s", d);
		free(s);
		free(d);
	}
	q.freeze = o->freeze;
	q.skip_verify = o->skip_verify;
	q.max_lag_s = o->max_lag_s;
	q.timeout_s = o->timeout_s;
	q.quiet_s = o->quiet_s;
	if ((rc = mig__sw_rollback_ask(dir, 0, err)) || (rc = mig__sw_request_write(dir, &q, err)))
		return rc;
	printf("switchover asked of the task on %s\n", dir);
	fflush(stdout);
	return follow(dir, q.id, err);
}
