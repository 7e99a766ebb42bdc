/* mig_switch.c - the switchover as the task walks it: precheck, reverse capture, freeze, wait, stop forward, objects, reverse sync; each step journaled. */
/*
 * The client (`sluice switchover`, mig_client.c) only writes a request into
 * DIR and follows the journal; the task, which holds the children and the
 * passwords, carries the request out here, step by step:
 *
 *   confirm          the client confirmed (the request exists)
 *   precheck         replay's lag under --max-lag, replay running without
 *                    recent restarts, the last verify equal (or
 *                    --skip-verify), D's binlog ROW/FULL/FULL, D's account
 *                    may read its binlog, S's account may write (through
 *                    read_only when the source is frozen)
 *   reverse-capture  capture D -> RDIR from D's binlog end now (dest_start)
 *   freeze-source    SET GLOBAL read_only=1 on S (read_only's value before is
 *                    journaled first), or S's binlog still for --quiet;
 *                    then S's binlog end: source_final
 *   wait-forward     DIR's head at source_final and replay 0 transactions
 *                    behind, within --timeout; else undo: read_only back,
 *                    reverse capture stopped, forward sync goes on
 *   stop-forward     forward replay and capture stopped; the pair
 *                    (source_final, dest_start) in DIR and RDIR
 *   objects          on D the deferred foreign keys and triggers, AUTO_INCREMENT
 *                    raised to S's; S's triggers saved in RDIR and dropped
 *   reverse-sync     replay RDIR -> S started: done
 *
 * Every step is idempotent and journaled (mig_journal.c) before and after
 * it runs, so a task killed at any moment and started again continues at
 * the step it was in. Until stop-forward a rollback (the client's
 * --rollback, a failed step, a timeout) undoes the freeze and the reverse
 * capture; from stop-forward on the task only goes forward, and a step that
 * fails there (objects) is retried every 30 s, since the application may
 * already write to D.
 */
#include "mig_int.h"
#include "db.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "banned.h"

#define RETRY_MS 30000

static uint64_t wall_ms(void)
{
	return sl_wall_us() / 1000;
}

static int journal(struct mig_task *t, struct sl_err *err)
{
	return mig__sw_journal_write(t->dir, &t->sw_j, err);
}

static void step_begin(struct mig_task *t, enum mig_sw_step s)
{
	struct mig_sw_step_rec *r = &t->sw_j.step[s];
	struct sl_err e = SL_ERR_INIT;

	if (strcmp(r->status, "running")) {
		snprintf(r->status, sizeof(r->status), "running");
		r->start_ms = wall_ms();
		r->end_ms = 0;
		r->note[0] = 0;
		mig__task_say(t, SL_INFO, "switchover: %s", mig__sw_step_names[s]);
	}
	if (journal(t, &e))
		mig__task_say(t, SL_WARN, "switchover journal: %s", e.msg);
}

static int step_end(struct mig_task *t, enum mig_sw_step s, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int step_end(struct mig_task *t, enum mig_sw_step s, const char *status, const char *fmt, ...)
{
	struct mig_sw_step_rec *r = &t->sw_j.step[s];
	struct sl_err e = SL_ERR_INIT;
	va_list ap;
	int rc;

	snprintf(r->status, sizeof(r->status), "%s", status);
	r->end_ms = wall_ms();
	if (!r->start_ms)
		r->start_ms = r->end_ms;
	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
	mig__task_say(t, strcmp(status, "failed") ? SL_INFO : SL_ERROR, "switchover: %s %s%s%s",
		      mig__sw_step_names[s], status, r->note[0] ? ": " : "", r->note);
	if ((rc = journal(t, &e)))
		mig__task_say(t, SL_WARN, "switchover journal: %s", e.msg);
	return rc;
}

static int step_done(const struct mig_task *t, enum mig_sw_step s)
{
	return !strcmp(t->sw_j.step[s].status, "done") || !strcmp(t->sw_j.step[s].status, "skipped");
}

/* ---- servers ---- */

/* The session of step 7 (mig_objects.c sets each object's own sql_mode). */
#define OBJECTS_SQL_MODE "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"

/* control: a session that runs DDL (autocommit off, foreign_key_checks 0),
 * else a plain one for queries and SET GLOBAL. */
static int connect_as(struct mig_task *t, int source, int control, MYSQL **m, char *who, size_t n,
		      struct sl_err *err)
{
	struct db_opts o = { .role = control ? DB_ROLE_REPLAY_CONTROL :
				     source ? DB_ROLE_VERIFY_SOURCE : DB_ROLE_VERIFY_DEST,
			     .sql_mode = OBJECTS_SQL_MODE };
	const struct sl_dsn *d = source ? &t->sdsn : &t->ddsn;
	char red[256];

	snprintf(who, n, "%s %s", source ? "source" : "destination", sl_dsn_redacted(d, red, sizeof(red)));
	return db_connect(m, d, &o, err);
}

static int connect_side(struct mig_task *t, int source, MYSQL **m, char *who, size_t n,
			struct sl_err *err)
{
	return connect_as(t, source, 0, m, who, n, err);
}

/* FILE:POS of m's binlog end, with the GTID state after it. */
static int binlog_end(MYSQL *m, const char *who, char *out, size_t n, struct sl_err *err)
{
	struct db_server srv;
	char *file = NULL, *gtid = NULL;
	uint64_t pos = 0;
	int rc;

	if ((rc = db_server_detect(m, who, &srv, err)) ||
	    (rc = db_binlog_status(m, who, &srv, &file, &pos, err)))
		return rc;
	rc = db_variable(m, who, srv.flavor == DB_MARIADB ? "gtid_binlog_pos" : "gtid_executed",
			 &gtid, err);
	if (!rc)
		snprintf(out, n, "%s:%" PRIu64 "%s%s", file, pos, gtid && gtid[0] ? " gtid " : "",
			 gtid && gtid[0] ? gtid : "");
	free(file);
	free(gtid);
	return rc;
}

/* ---- waiting ---- */

/* Keeps the children going for ms; 1 when a signal or a rollback asks us to
 * stop waiting. */
static int idle(struct mig_task *t, int ms)
{
	uint64_t id = 0;

	mig__task_pump(t, ms);
	mig__task_supervise(t, C_CAPTURE, C_RREPLAY);
	if (sl_stop_requested || t->fatal_rc)
		return 1;
	return !mig__sw_forward_stopped(&t->sw_j) && mig__sw_rollback_asked(t->dir, &id) &&
	       id == t->sw_j.req.id;
}

/* ---- undo (before stop-forward) ---- */

static void undo(struct mig_task *t, const char *state, const char *why)
{
	struct mig_sw_journal *j = &t->sw_j;
	struct sl_err e = SL_ERR_INIT;

	if (j->froze && !j->read_only_before) {
		MYSQL *m = NULL;
		char who[320];

		if (connect_side(t, 1, &m, who, sizeof(who), &e) ||
		    db_exec(m, who, "SET GLOBAL read_only=0", &e)) {
			mig__task_say(t, SL_ERROR, "switchover: cannot make the source writable again: %s "
				      "(run SET GLOBAL read_only=0 on it)", e.msg);
		} else {
			j->froze = 0;
			snprintf(j->step[SW_FREEZE].status, sizeof(j->step[SW_FREEZE].status), "undone");
			mig__task_say(t, SL_INFO, "switchover: the source is writable again (read_only=0)");
		}
		if (m)
			mysql_close(m);
	}
	if (!t->o->bidirectional)	/* else it ran before and goes on */
		mig__task_stop(t, C_RCAPTURE);
	snprintf(j->state, sizeof(j->state), "%s", state);
	snprintf(j->error, sizeof(j->error), "%s", why);
	if (journal(t, &e))
		mig__task_say(t, SL_WARN, "switchover journal: %s", e.msg);
	mig__task_say(t, SL_WARN, "switchover %s: %s; forward sync goes on", state, why);
}

/* ---- the steps: 0 done, < 0 failed (err) ---- */

/* S as reverse replay's destination: the grants a forward destination needs
 * (mig_dest_grants_decide()), and with --freeze-source a way through
 * read_only. */
static int source_grants(struct mig_task *t, MYSQL *m, const char *who, const struct db_server *srv,
			 struct sl_err *err)
{
	const char *sql = "SHOW GRANTS FOR CURRENT_USER()";
	const char *through = srv->flavor == DB_MARIADB ? "READ_ONLY ADMIN" : "CONNECTION_ADMIN";
	struct mig_report r = { 0 };
	MYSQL_RES *res;
	MYSQL_ROW row;
	char **g = NULL;
	size_t n = 0;
	int rc = 0;

	if (mysql_query(m, sql) || !(res = mysql_store_result(m)))
		return db_stmt_error(err, m, who, sql, strlen(sql));
	while ((row = mysql_fetch_row(res)))
		if (row[0]) {
			g = sl_xrealloc(g, (n + 1) * sizeof(*g));
			g[n++] = sl_xstrdup(row[0]);
		}
	mysql_free_result(res);
	mig_dest_grants_decide(&r, (const char *const *)g, n);
	for (size_t i = 0; i < r.n && !rc; i++)
		if (r.v[i].outcome == MIG_FAIL)
			rc = sl_err_set(err, -SL_ECONFIG, "reverse replay could not write to the source: %s "
					"(fix: %s)", r.v[i].detail, r.v[i].fix);
	if (!rc && t->sw_j.req.freeze && !mig_grants_have((const char *const *)g, n, through, NULL) &&
	    !mig_grants_have((const char *const *)g, n, "SUPER", NULL))
		rc = sl_err_set(err, -SL_ECONFIG, "the source account cannot write through read_only, so "
				"reverse replay could not run on a frozen source: GRANT %s ON *.* TO it", through);
	mig_report_release(&r);
	for (size_t i = 0; i < n; i++)
		free(g[i]);
	free(g);
	return rc;
}

static int do_precheck(struct mig_task *t, struct sl_err *err)
{
	const struct mig_sw_request *q = &t->sw_j.req;
	const struct mig_child *r = &t->ch[C_REPLAY];
	struct db_check_result res[16];
	struct db_server srv;
	MYSQL *m = NULL;
	char who[320];
	int rc;

	if (strcmp(q->source, t->src_url) || strcmp(q->dest, t->dst_url))
		return sl_err_set(err, -SL_ECONFIG, "the switchover names source %s and destination %s, "
				  "but the task migrates %s to %s", q->source, q->dest, t->src_url, t->dst_url);
	if (strcmp(q->reverse_dir, t->rdir))
		return sl_err_set(err, -SL_ECONFIG, "the task replays the destination's changes through "
				  "'%s' already (--bidirectional): give --reverse-dir %s", t->rdir, t->rdir);
	mig__task_lag(t);
	if (!t->have_lag)
		return sl_err_set(err, -SL_ECONFIG, "forward replay has no position in '%s' yet", t->dir);
	if (t->lag.gone || t->lag.secs > q->max_lag_s)
		return sl_err_set(err, -SL_ECONFIG, "forward replay is %" PRIu64 " s (%" PRIu64
				  " transactions) behind, more than --max-lag %u s: wait, or raise --max-lag",
				  t->lag.secs, t->lag.txns, q->max_lag_s);
	if (!r->pid)
		return sl_err_set(err, -SL_ECONFIG, "forward replay is not running (its last line: %s)",
				  r->last[0] ? r->last : "none");
	if (r->restarts && sl_now_ms() - r->started_ms < 60000)
		return sl_err_set(err, -SL_ECONFIG, "forward replay restarted %u times, the last one %" PRIu64
				  " s ago (%s): fix its error first", r->restarts,
				  (sl_now_ms() - r->started_ms) / 1000, r->last[0] ? r->last : "no output");
	if (!q->skip_verify && t->st.verify != 0)
		return sl_err_set(err, -SL_ECONFIG, "the last verify %s: run `sluice verify` until it is "
				  "clean, or give --skip-verify", t->st.verify < 0 ? "did not run" :
				  "found differences");
	/* D is the reverse stream's source: binlog on, ROW, FULL image and metadata */
	if ((rc = connect_side(t, 0, &m, who, sizeof(who), err)) ||
	    (rc = db_checks_run(m, who, db_source_checks, db_source_nchecks, res, err)))
		goto out;
	for (size_t i = 0; i < db_source_nchecks; i++)
		if (res[i].outcome == DB_FAILED) {
			rc = sl_err_set(err, -SL_ECONFIG, "the destination cannot be captured: %s",
					res[i].message);
			goto out;
		}
	mysql_close(m);
	m = NULL;
	/* S takes the reverse replay's writes, through read_only when frozen */
	if ((rc = connect_side(t, 1, &m, who, sizeof(who), err)) ||
	    (rc = db_server_detect(m, who, &srv, err)))
		goto out;
	if ((rc = source_grants(t, m, who, &srv, err)))
		goto out;
out:
	if (m)
		mysql_close(m);
	return rc;
}

static int do_rcapture(struct mig_task *t, struct sl_err *err)
{
	struct seg_status st;
	int rc;

	if (mkdir(t->rdir, 0700) < 0 && errno != EEXIST) {
		int e = errno;

		return sl_err_set(err, -e, "cannot create '%s': %s", t->rdir, strerror(e));
	}
	if ((rc = mig__task_record_start(t, C_RCAPTURE, err)))
		return rc;
	if (!t->ch[C_RCAPTURE].pid && (rc = mig__task_start(t, C_RCAPTURE, err)))
		return rc;
	if ((rc = seg_status(t->rdir, &st, err)))
		return rc;
	if (st.head)
		snprintf(t->sw_j.dest_start, sizeof(t->sw_j.dest_start), "%s:%" PRIu64 "%s%s",
			 st.head->file ? st.head->file : "", st.head->offset,
			 st.head->gtid && st.head->gtid[0] ? " gtid " : "", st.head->gtid ? st.head->gtid : "");
	seg_status_release(&st);
	return 0;
}

static int do_freeze(struct mig_task *t, struct sl_err *err)
{
	struct mig_sw_journal *j = &t->sw_j;
	MYSQL *m = NULL;
	char who[320], *v = NULL;
	int rc;

	if ((rc = connect_side(t, 1, &m, who, sizeof(who), err)))
		return rc;
	if (j->req.freeze) {
		if (!j->froze) {
			if ((rc = db_variable(m, who, "read_only", &v, err)))
				goto out;
			j->read_only_before = v && (!strcasecmp(v, "ON") || !strcmp(v, "1"));
			j->froze = 1;
			/* journaled before it is done: an undo must know what to restore */
			if ((rc = journal(t, err)))
				goto out;
		}
		if ((rc = db_exec(m, who, "SET GLOBAL read_only=1", err)))
			goto out;
	} else {
		/* the application stopped writing by itself: S's binlog stands still */
		char last[320] = "", now[320];
		uint64_t still_since = sl_now_ms(), deadline = sl_now_ms() + (uint64_t)j->req.timeout_s * 1000;

		for (;;) {
			if ((rc = binlog_end(m, who, now, sizeof(now), err)))
				goto out;
			if (strcmp(now, last)) {
				snprintf(last, sizeof(last), "%s", now);
				still_since = sl_now_ms();
			} else if (sl_now_ms() - still_since >= (uint64_t)j->req.quiet_s * 1000) {
				break;
			}
			if (sl_now_ms() > deadline) {
				rc = sl_err_set(err, -ETIMEDOUT, "the source is still written (its binlog "
						"moved to %s within the last %u s): stop the application's "
						"writes, or give --freeze-source", now, j->req.quiet_s);
				goto out;
			}
			if (idle(t, 250)) {
				rc = mig__task_fatal(t, err) ? t->fatal_rc :
				     sl_err_set(err, -SL_EINTR_STOP, "stopped while waiting for the source to be quiet");
				goto out;
			}
		}
	}
	rc = binlog_end(m, who, j->source_final, sizeof(j->source_final), err);
out:
	free(v);
	mysql_close(m);
	return rc;
}

/* DIR's head at source_final and replay with nothing left to apply. */
static int forward_reached(struct mig_task *t, char *where, size_t n)
{
	char file[256] = "";
	unsigned long long off = 0;
	struct seg_status st;
	struct sl_err e = SL_ERR_INIT;
	int ok = 0;

	if (sscanf(t->sw_j.source_final, "%255[^:]:%llu", file, &off) != 2 || seg_status(t->dir, &st, &e))
		return 0;
	mig__task_lag(t);
	if (st.head) {
		snprintf(where, n, "capture at %s:%" PRIu64 ", replay %" PRIu64 " transactions behind",
			 st.head->file ? st.head->file : "", st.head->offset, t->have_lag ? t->lag.txns : 0);
		ok = mig__pos_cmp(st.head->file ? st.head->file : "", st.head->offset, file, off) >= 0 &&
		     t->have_lag && !t->lag.gone && t->lag.txns == 0;
	}
	seg_status_release(&st);
	return ok;
}

static int do_wait(struct mig_task *t, struct sl_err *err)
{
	/* the time already spent (the step may have begun before a restart)
	 * comes from the journal's wall clock, clamped to [0, --timeout]; the
	 * rest is counted on the monotonic clock, so a clock step (NTP, a VM
	 * resumed) neither times the wait out at once nor stretches it */
	uint64_t limit = (uint64_t)t->sw_j.req.timeout_s * 1000, now = wall_ms();
	uint64_t spent = now > t->sw_j.step[SW_WAIT].start_ms ? now - t->sw_j.step[SW_WAIT].start_ms : 0;
	uint64_t deadline = sl_now_ms() + (spent < limit ? limit - spent : 0);
	char where[400] = "capture has not written yet";

	while (!forward_reached(t, where, sizeof(where))) {
		if (sl_now_ms() > deadline)
			return sl_err_set(err, -ETIMEDOUT, "forward replay did not reach the source's final "
					  "position %s within --timeout %u s (%s)", t->sw_j.source_final,
					  t->sw_j.req.timeout_s, where);
		if (idle(t, 50))
			return mig__task_fatal(t, err) ? t->fatal_rc :
			       sl_err_set(err, -SL_EINTR_STOP, "stopped while waiting for forward replay");
	}
	return 0;
}

static int do_stop_forward(struct mig_task *t, struct sl_err *err)
{
	int rc;

	mig__task_stop(t, C_REPLAY);
	mig__task_stop(t, C_CAPTURE);
	if ((rc = mig__sw_pair_write(t->dir, &t->sw_j, err)) ||
	    (rc = mig__sw_pair_write(t->rdir, &t->sw_j, err)))
		return rc;
	return 0;
}

static int do_objects(struct mig_task *t, char *note, size_t n, struct sl_err *err)
{
	MYSQL *s = NULL, *d = NULL;
	struct mig_objects_result r = { 0 };
	char swho[320], dwho[320];
	int rc;

	if ((rc = connect_as(t, 1, 1, &s, swho, sizeof(swho), err)) ||
	    (rc = connect_as(t, 0, 1, &d, dwho, sizeof(dwho), err)) ||
	    (rc = mig__deferred_create(t->dir, d, dwho, &r, err)) ||
	    (rc = mig__autoinc_sync(t->dir, s, d, &r, err)) ||
	    (rc = mig__source_triggers_park(t->dir, t->rdir, s, &r, err)))
		goto out;
	snprintf(note, n, "destination: %zu deferred objects created (%zu there already), %zu "
		 "AUTO_INCREMENT counters raised; source: %zu triggers saved in RDIR/source-triggers and "
		 "dropped", r.created, r.present, r.changed, r.dropped);
out:
	if (s)
		mysql_close(s);
	if (d)
		mysql_close(d);
	return rc;
}

static int do_reverse(struct mig_task *t, struct sl_err *err)
{
	uint64_t until = sl_now_ms() + 1000;
	int rc;

	if (!t->ch[C_RREPLAY].pid && (rc = mig__task_start(t, C_RREPLAY, err)))
		return rc;
	/* a replay that cannot start says so at once */
	while (sl_now_ms() < until && t->ch[C_RREPLAY].pid)
		idle(t, 100);
	if (!t->ch[C_RREPLAY].pid)
		return sl_err_set(err, -SL_EAPPLY, "reverse replay ended at once: %s",
				  t->ch[C_RREPLAY].last[0] ? t->ch[C_RREPLAY].last : "no output");
	return 0;
}

/* ---- walking the journal ---- */

/* The crash points of the crash test: "switchover.<step>.before" (journaled
 * running, nothing done) and ".after" (done, not journaled yet). */
static void failpoint(enum mig_sw_step s, const char *when)
{
	char name[64];

	snprintf(name, sizeof(name), "switchover.%s.%s", mig__sw_step_names[s], when);
	sl_failpoint(name);
}

static void fail_before_stop(struct mig_task *t, enum mig_sw_step s, const struct sl_err *e)
{
	step_end(t, s, "failed", "%s", e->msg);
	undo(t, e->code == -SL_EINTR_STOP && !sl_stop_requested ? "rolled-back" : "failed", e->msg);
}

static int walk(struct mig_task *t)
{
	struct mig_sw_journal *j = &t->sw_j;
	struct sl_err e = SL_ERR_INIT;
	char note[1024];
	uint64_t id = 0;
	int rc;

	while (!mig__sw_ended(j) && !sl_stop_requested) {
		enum mig_sw_step s = SW_CONFIRM;

		while (s < SW_NSTEPS && step_done(t, s))
			s++;
		if (s == SW_NSTEPS) {
			snprintf(j->state, sizeof(j->state), "done");
			j->error[0] = 0;
			journal(t, &e);
			mig__task_say(t, SL_INFO, "switchover done in %.2f s of downtime: the application "
				      "writes to the destination, reverse sync runs (%s -> %s)",
				      (double)(j->step[SW_REVERSE].end_ms - j->step[SW_FREEZE].start_ms) / 1000,
				      t->dst_url, t->src_url);
			return 0;
		}
		if (!mig__sw_forward_stopped(j) && mig__sw_rollback_asked(t->dir, &id) && id == j->req.id) {
			step_end(t, s, "undone", "rollback asked");
			undo(t, "rolled-back", "rollback asked by sluice switchover --rollback");
			return 0;
		}
		if (!strcmp(j->step[s].status, "failed")) {
			/* only from stop-forward on: retried after a pause */
			uint64_t now = wall_ms();

			if (now >= j->step[s].end_ms && now - j->step[s].end_ms < RETRY_MS)
				return 0;
		}
		step_begin(t, s);
		failpoint(s, "before");
		e.code = 0;
		e.msg[0] = 0;
		note[0] = 0;
		switch (s) {
		case SW_CONFIRM:
			rc = 0;
			snprintf(note, sizeof(note), "asked at %" PRIu64 " (unix ms)", j->req.id);
			break;
		case SW_PRECHECK:
			if (!(rc = do_precheck(t, &e)))
				snprintf(note, sizeof(note), "replay %" PRIu64 " s behind, verify %s, destination "
					 "binlog ready, source account may write", t->lag.secs,
					 j->req.skip_verify ? "skipped" : "equal");
			break;
		case SW_RCAPTURE:
			if (!(rc = do_rcapture(t, &e)))
				snprintf(note, sizeof(note), "capture of the destination from %s", j->dest_start);
			break;
		case SW_FREEZE:
			if (!(rc = do_freeze(t, &e)))
				snprintf(note, sizeof(note), "%s; source final position %s",
					 j->req.freeze ? "read_only=1" : "no writes seen", j->source_final);
			break;
		case SW_WAIT:
			if (!(rc = do_wait(t, &e)))
				snprintf(note, sizeof(note), "forward replay applied everything up to %s",
					 j->source_final);
			break;
		case SW_STOP_FORWARD:
			if (!(rc = do_stop_forward(t, &e)))
				snprintf(note, sizeof(note), "forward capture and replay stopped; source final %s, "
					 "destination start %s", j->source_final, j->dest_start);
			break;
		case SW_OBJECTS:
			rc = do_objects(t, note, sizeof(note), &e);
			break;
		case SW_REVERSE:
			if (!(rc = do_reverse(t, &e)))
				snprintf(note, sizeof(note), "replay of the reverse stream into the source runs");
			break;
		case SW_NSTEPS:
			rc = 0;
			break;
		}
		if (!rc) {
			failpoint(s, "after");
			step_end(t, s, "done", "%s", note);
			continue;
		}
		if (s >= SW_STOP_FORWARD && !sl_stop_requested) {
			/* the application may write to D already: no way back, try again */
			step_end(t, s, "failed", "%s (retried in %d s)", e.msg, RETRY_MS / 1000);
			return 0;
		}
		if (sl_stop_requested) {
			/* the task is stopping: the step runs again when it restarts */
			snprintf(j->step[s].status, sizeof(j->step[s].status), "pending");
			journal(t, &e);
			return 0;
		}
		fail_before_stop(t, s, &e);
	}
	return 0;
}

/* After a restart: the children the journal says run. */
static void ensure_children(struct mig_task *t)
{
	struct mig_sw_journal *j = &t->sw_j;
	struct sl_err e = SL_ERR_INIT;
	int alive = !strcmp(j->state, "running") || !strcmp(j->state, "done");

	if (alive && step_done(t, SW_RCAPTURE) && !t->ch[C_RCAPTURE].pid && !t->ch[C_RCAPTURE].next_start_ms &&
	    mig__task_start(t, C_RCAPTURE, &e))
		mig__task_say(t, SL_WARN, "%s", e.msg);
	if (alive && step_done(t, SW_REVERSE) && !t->ch[C_RREPLAY].pid && !t->ch[C_RREPLAY].next_start_ms &&
	    mig__task_start(t, C_RREPLAY, &e))
		mig__task_say(t, SL_WARN, "%s", e.msg);
}

int mig__switch_poll(struct mig_task *t, struct sl_err *err)
{
	struct mig_sw_request q;
	int rc;

	if (!t->have_journal || mig__sw_ended(&t->sw_j)) {
		if ((rc = mig__sw_request_read(t->dir, &q, err)) < 0)
			return rc;
		if (rc == 1 && q.id && q.id != t->sw_j.req.id && strcmp(t->sw_j.state, "done")) {
			memset(&t->sw_j, 0, sizeof(t->sw_j));
			t->sw_j.req = q;
			snprintf(t->sw_j.state, sizeof(t->sw_j.state), "running");
			for (int i = 0; i < SW_NSTEPS; i++)
				snprintf(t->sw_j.step[i].status, sizeof(t->sw_j.step[i].status), "pending");
			if (!t->o->bidirectional)	/* else the task's RDIR: precheck compares */
				snprintf(t->rdir, sizeof(t->rdir), "%s", q.reverse_dir);
			t->have_journal = 1;
			mig__task_say(t, SL_INFO, "switchover asked for: reverse stream in '%s'", t->rdir);
			if ((rc = journal(t, err)))
				return rc;
		}
	}
	if (!t->have_journal)
		return 0;
	ensure_children(t);
	if (!strcmp(t->sw_j.state, "running"))
		walk(t);
	return 0;
}

int mig__switch_reverse_only(struct mig_task *t)
{
	return t->have_journal && mig__sw_forward_stopped(&t->sw_j);
}

/* ---- the follow phase ---- */

int mig__follow(struct mig_task *t, struct sl_err *err)
{
	uint64_t last_report = sl_now_ms(), rbytes = 0, rms = 0;
	int rc, reverse = mig__switch_reverse_only(t);

	if ((rc = mig__task_set_phase(t, reverse ? "reverse" : "follow", err)))
		return rc;
	if (t->o->bidirectional && !reverse) {
		/* both ways at once: D's own changes from now on go to S too (what
		 * replay writes on either side is marked and never comes back) */
		if ((rc = mig__task_record_start(t, C_RCAPTURE, err)) ||
		    (!t->ch[C_RCAPTURE].pid && (rc = mig__task_start(t, C_RCAPTURE, err))) ||
		    (!t->ch[C_RREPLAY].pid && (rc = mig__task_start(t, C_RREPLAY, err))))
			return rc;
		mig__task_say(t, SL_INFO, "bidirectional: the destination's changes go to the source through '%s'",
		    t->rdir);
	}
	mig__task_say(t, SL_INFO, "following%s: capture and replay keep running until SIGTERM or SIGINT",
	    reverse ? " in reverse (destination to source)" : "");
	while (!sl_stop_requested) {
		mig__task_pump(t, 200);
		mig__task_supervise(t, C_CAPTURE, C_RREPLAY);
		if ((rc = mig__task_fatal(t, err)) || (rc = mig__switch_poll(t, err)))
			return rc;
		if (!reverse && mig__switch_reverse_only(t)) {
			reverse = 1;
			if ((rc = mig__task_set_phase(t, "reverse", err)))
				return rc;
		}
		if (sl_now_ms() - last_report >= (reverse ? 10000u : 60000u)) {
			last_report = sl_now_ms();
			if (reverse) {
				mig__task_reverse_report(t, &rbytes, &rms);
				continue;
			}
			mig__task_lag(t);
			if (t->have_lag)
				mig__task_say(t, SL_INFO, "replay is %" PRIu64 " transactions (%" PRIu64 " bytes, %" PRIu64
				    " s) behind capture", t->lag.txns, t->lag.bytes, t->lag.secs);
		}
	}
	return 0;
}

