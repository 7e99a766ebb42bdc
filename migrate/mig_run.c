/* mig_run.c - `sluice migrate`: the task's phases in order, then the follow phase where a switchover runs. */
/*
 * mig_task.c holds the phases and the children, mig_switch.c the follow
 * phase and the switchover; this file only puts them in order, so neither
 * of the two calls the other back.
 */
#include "mig_int.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "banned.h"

/* --bidirectional: RDIR made and resolved; a switchover that named another
 * reverse stream wins (the forward direction may be over). */
static int bidirectional_dir(struct mig_task *t, struct sl_err *err)
{
	char path[PATH_MAX];

	if (mkdir(t->o->reverse_dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;

		return sl_err_set(err, -e, "cannot create '%s': %s", t->o->reverse_dir, strerror(e));
	}
	if (!realpath(t->o->reverse_dir, path)) {
		int e = errno;

		return sl_err_set(err, -e, "cannot resolve '%s': %s", t->o->reverse_dir, strerror(e));
	}
	if (!strcmp(path, t->dir))
		return sl_err_set(err, -SL_EINVAL_ARG, "--reverse-dir must not be DIR '%s'", t->dir);
	if (t->rdir[0] && strcmp(t->rdir, path))
		return sl_err_set(err, -SL_ECONFIG, "--reverse-dir '%s' is not the reverse stream '%s' "
				  "of the switchover in '%s'", path, t->rdir, t->dir);
	snprintf(t->rdir, sizeof(t->rdir), "%s", path);
	return 0;
}

int mig_run(const struct mig_opts *o, struct mig_summary *s, struct sl_err *err)
{
	struct mig_task t = { .o = o, .sum = s };
	int rc, lock = -1, had_state;

	memset(s, 0, sizeof(*s));
	s->verify = -1;
	t.t0 = sl_now_ms();
	if ((rc = mig__task_prepare(&t, err)) || (rc = mig__lock(t.dir, &lock, err)))
		goto out;
	if ((had_state = mig__state_read(t.dir, &t.st, err)) < 0) {
		rc = had_state;
		goto out;
	}
	if ((rc = mig__sw_journal_read(t.dir, &t.sw_j, err)) < 0)
		goto out;
	t.have_journal = rc;
	if (t.have_journal)
		snprintf(t.rdir, sizeof(t.rdir), "%s", t.sw_j.req.reverse_dir);
	if (o->bidirectional && (rc = bidirectional_dir(&t, err)))
		goto out;
	if (had_state) {
		mig__task_say(&t, SL_INFO, "continuing the migration in '%s' (phase %s of run %" PRIu64 ")", t.dir,
		    t.st.phase, t.st.runs);
		mig__state_reap_old(t.dir, t.rdir[0] ? t.rdir : NULL, &t.st, 30000);
		s->resumed = 1;
	} else {
		t.st.first_started = sl_wall_us() / 1000000;
		t.st.verify = -1;
	}
	t.st.runs++;
	memset(t.st.pids, 0, sizeof(t.st.pids));
	if (mig__switch_reverse_only(&t)) {
		/* switched over: the forward direction is over for good */
		if (!o->follow) {
			rc = sl_err_set(err, -SL_ECONFIG, "the migration in '%s' was switched over (sluice "
					"switchover --dir %s --status): run it with --follow to keep the reverse "
					"sync running", t.dir, t.dir);
			goto out;
		}
		s->verify = t.st.verify;
		if ((rc = mig__follow(&t, err)))
			goto out;
		mig__task_stop_all(&t);
		rc = mig__task_set_phase(&t, t.st.phase, err);
		goto out;
	}
	if ((rc = mig__task_set_phase(&t, "precheck", err)) || (rc = mig__task_precheck(&t, had_state, err)) ||
	    (rc = mig__task_set_phase(&t, "start", err)) || (rc = mig__task_record_start(&t, C_CAPTURE, err)) ||
	    (rc = mig__task_copy(&t, err)) < 0 || (!t.interrupted && (rc = mig__task_verify(&t, err)) < 0))
		goto out;
	rc = 0;
	if (o->follow && !t.interrupted && (rc = mig__follow(&t, err)))
		goto out;
	mig__task_stop_all(&t);
	mig__task_watch(&t, 1, err);
	rc = mig__task_set_phase(&t, o->follow ? t.st.phase : "done", err);
out:
	if (rc && t.dir[0] && lock >= 0) {
		struct sl_err e = SL_ERR_INIT;

		for (int i = 0; i < C_N; i++)
			t.st.pids[i] = 0;
		mig__state_write(t.dir, &t.st, &e);
	}
	mig__task_finish(&t);
	if (lock >= 0)
		close(lock);
	return rc;
}
