/* mig_task.c - the task's phases: precheck, then capture, snapshot, replay and verify as supervised children (mig_run.c runs them in order). */
/*
 * The phases (each written to DIR/migrate.state as it is entered):
 *
 *   precheck --fail--> error (-SL_ECONFIG)
 *      |
 *   start: a new DIR gets its start P0 (one `capture` to the binlog's end)
 *      |
 *   copy: capture --follow, snapshot (DIR/snapshot, P1 >= P0) and, once
 *      |  DIR/snapshot exists, replay --follow (loads chunks while they
 *      |  are written, then the changes from P0)
 *      |  caught up = SnapshotEnd read, every chunk in `sluice`.`snapshot_chunks`,
 *      |  replay's consumer 0 transactions behind capture's head (seg_status)
 *   verify: verify --recheck --dir DIR while capture and replay go on
 *      |
 *      +-- without --follow: SIGTERM replay and capture, summary, done
 *      +-- --follow ("follow"): keep capture and replay running, restart a
 *          child that dies (backoff 1 s doubling to 60 s, reset after a
 *          minute of running) until SIGTERM/SIGINT, then stop them
 *
 * A rerun after a crash (of migrate or of any child, at any point) takes the
 * lock, waits for the earlier run's children (their pids are in the state
 * file; PR_SET_PDEATHSIG sent them SIGTERM) and starts from "start" again:
 * capture resumes from DIR, snapshot keeps its finished chunks (a finished
 * snapshot is a no-op), replay skips loaded chunks and resumes at its
 * checkpoint. Nothing of the migration lives only in migrate's memory.
 */
#include "mig_int.h"
#include "db.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "banned.h"
#include "sl_progress.h"

/* Nothing moved for this long while copying: say so (a hung child is its
 * own bug, but the user should not stare at a frozen bar). */
#define MIG_STALL_MS 300000

/* ---- output ---- */

static void clear_bar(struct mig_task *t)
{
	if (t->bar_shown) {
		fputs("\r\033[K", stderr);
		t->bar_shown = 0;
	}
}

static void on_line(void *ctx, const char *role, const char *line)
{
	struct mig_task *t = ctx;

	clear_bar(t);
	fprintf(stderr, "[%s] %s\n", role, line);
	/* in catch-up, a line of replay's is news (a table's indexes added,
	 * the load's end): the next watch looks soon, not at its 100 ms tick */
	if (!strcmp(role, "replay") && !strcmp(t->st.phase, "catch-up"))
		t->watch_soon = 1;
}

#define say(t, lvl, ...) do { clear_bar(t); sl_log((lvl), "migrate", __VA_ARGS__); } while (0)

void mig__task_say(struct mig_task *t, enum sl_level lvl, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(t, lvl, "%s", msg);
}

static void draw(struct mig_task *t, const char *phase)
{
	char a[200], b[200];
	uint64_t now = sl_now_ms();

	if (t->tty) {
		if (now - t->last_draw_ms < 200)
			return;
		t->last_draw_ms = now;
		sl_progress_line(&t->p_snap, 16, a, sizeof(a));
		sl_progress_line(&t->p_load, 16, b, sizeof(b));
		fprintf(stderr, "\r\033[K%s | %s", a, b);
		if (t->have_lag && !strcmp(phase, "catch-up"))
			fprintf(stderr, " | %" PRIu64 " txns behind", t->lag.txns);
		fflush(stderr);
		t->bar_shown = 1;
		return;
	}
	if (now - t->last_log_ms < 10000)
		return;
	t->last_log_ms = now;
	sl_progress_line(&t->p_snap, 0, a, sizeof(a));
	sl_progress_line(&t->p_load, 0, b, sizeof(b));
	sl_log(SL_INFO, "migrate", "%s: %s; %s", phase, a, b);
	if (t->have_lag)
		sl_log(SL_INFO, "migrate", "replay is %" PRIu64 " transactions (%" PRIu64 " bytes) behind capture",
		       t->lag.txns, t->lag.bytes);
}

/* ---- state ---- */

/* The time since this run entered its current phase, into the summary's
 * entry of that phase (a phase entered twice adds up). Not before this run
 * entered one (st.phase may be the last run's), nor for "done". */
static void phase_time(struct mig_task *t, uint64_t now)
{
	struct mig_summary *s = t->sum;
	unsigned i;

	if (!t->phase_t0 || !strcmp(t->st.phase, "done"))
		return;
	for (i = 0; i < s->nphases && strcmp(s->phases[i].name, t->st.phase); i++)
		;
	if (i == s->nphases) {
		if (i == sizeof(s->phases) / sizeof(s->phases[0]))
			return;
		snprintf(s->phases[i].name, sizeof(s->phases[i].name), "%s", t->st.phase);
		s->nphases++;
	}
	s->phases[i].ms += now - t->phase_t0;
	t->phase_t0 = now;
}

int mig__task_set_phase(struct mig_task *t, const char *phase, struct sl_err *err)
{
	if (phase != t->st.phase) {
		if (strcmp(t->st.phase, phase)) {
			uint64_t now = sl_now_ms();

			say(t, SL_INFO, "phase %s", phase);
			phase_time(t, now);
			t->phase_t0 = now;
		}
		snprintf(t->st.phase, sizeof(t->st.phase), "%s", phase);
	}
	for (int i = 0; i < C_N; i++)
		t->st.pids[i] = t->ch[i].pid;
	return mig__state_write(t->dir, &t->st, err);
}

/* ---- children ---- */

/* --source, --dest (each when asked for) and --dir of one direction: S to D
 * into DIR, or, reverse, D to S through RDIR. */
static void add_direction(struct mig_task *t, struct mig_argv *a, int reverse, int source, int dest)
{
	if (source) {
		mig__argv_add(a, "--source");
		mig__argv_add(a, reverse ? t->dst_url : t->src_url);
	}
	if (dest) {
		mig__argv_add(a, "--dest");
		mig__argv_add(a, reverse ? t->src_url : t->dst_url);
	}
	mig__argv_add(a, "--dir");
	mig__argv_add(a, reverse ? t->rdir : t->dir);
}

static void add_common(struct mig_task *t, struct mig_argv *a, int source, int dest)
{
	add_direction(t, a, 0, source, dest);
}

static void add_reverse(struct mig_task *t, struct mig_argv *a, int source, int dest)
{
	add_direction(t, a, 1, source, dest);
}

static void add_filters(struct mig_task *t, struct mig_argv *a)
{
	if (t->o->include) {
		mig__argv_add(a, "--include");
		mig__argv_add(a, t->o->include);
	}
	if (t->o->exclude) {
		mig__argv_add(a, "--exclude");
		mig__argv_add(a, t->o->exclude);
	}
}

/* --metrics MDIR/NAME.prom for a capture or replay child, under migrate --metrics-dir MDIR. */
static void add_metrics(struct mig_task *t, struct mig_argv *a, const char *name)
{
	char *f;

	if (!t->o->metrics_dir)
		return;
	f = sl_xasprintf("%s/%s.prom", t->o->metrics_dir, name);
	mig__argv_add(a, "--metrics");
	mig__argv_add(a, f);
	free(f);
}

/* --retry-for of the task, for a capture or replay child. */
static void add_retry(struct mig_task *t, struct mig_argv *a)
{
	char ms[32];

	snprintf(ms, sizeof(ms), "%" PRIu64 "ms", t->o->retry_for_ms);
	mig__argv_add(a, "--retry-for");
	mig__argv_add(a, ms);
}

static void build_argv(struct mig_task *t, int which)
{
	struct mig_argv a = { 0 };
	char n[32];

	mig__argv_add(&a, "sluice");
	snprintf(n, sizeof(n), "%u", t->o->threads);
	switch (which) {
	case C_CAPTURE:
		mig__argv_add(&a, "capture");
		add_common(t, &a, 1, 0);
		mig__argv_add(&a, "--follow");
		add_retry(t, &a);
		add_metrics(t, &a, "capture");
		add_filters(t, &a);	/* the stream holds the snapshot's tables only */
		break;
	case C_SNAPSHOT:
		mig__argv_add(&a, "snapshot");
		add_common(t, &a, 1, 0);
		if (t->o->threads) {
			mig__argv_add(&a, "--threads");
			mig__argv_add(&a, n);
		}
		add_filters(t, &a);
		if (t->o->dest_dialect) {
			mig__argv_add(&a, "--dest-dialect");
			mig__argv_add(&a, t->o->dest_dialect);
		}
		break;
	case C_REPLAY:
		mig__argv_add(&a, "replay");
		add_common(t, &a, 0, 1);
		mig__argv_add(&a, "--follow");
		add_retry(t, &a);
		add_metrics(t, &a, "replay");
		if (t->o->threads) {
			mig__argv_add(&a, "--workers");
			mig__argv_add(&a, n);
		}
		if (t->o->dest_dialect) {
			mig__argv_add(&a, "--dest-dialect");
			mig__argv_add(&a, t->o->dest_dialect);
		}
		break;
	case C_VERIFY:
		mig__argv_add(&a, "verify");
		add_common(t, &a, 1, 1);
		mig__argv_add(&a, "--recheck");
		mig__argv_add(&a, "10");
		if (t->o->threads) {
			mig__argv_add(&a, "--threads");
			mig__argv_add(&a, n);
		}
		add_filters(t, &a);
		break;
	case C_RCAPTURE:
		mig__argv_add(&a, "capture");
		add_reverse(t, &a, 1, 0);
		mig__argv_add(&a, "--follow");
		add_retry(t, &a);
		add_metrics(t, &a, "reverse-capture");
		add_filters(t, &a);	/* D's other tables stay on D */
		break;
	case C_RREPLAY:
		mig__argv_add(&a, "replay");
		add_reverse(t, &a, 0, 1);
		mig__argv_add(&a, "--follow");
		add_retry(t, &a);
		add_metrics(t, &a, "reverse-replay");
		if (t->o->threads) {
			mig__argv_add(&a, "--workers");
			mig__argv_add(&a, n);
		}
		break;
	}
	mig__child_set_argv(&t->ch[which], &a);
}

static int start(struct mig_task *t, int which, struct sl_err *err)
{
	int rc;

	build_argv(t, which);
	clear_bar(t);
	if ((rc = mig__child_start(&t->ch[which], which >= C_RCAPTURE ? &t->renv : &t->env, err)))
		return rc;
	return mig__task_set_phase(t, t->st.phase, err);
}

int mig__task_start(struct mig_task *t, int which, struct sl_err *err)
{
	return start(t, which, err);
}

void mig__task_stop_all(struct mig_task *t)
{
	/* replay first: it settles its last batch while capture still runs */
	static const int order[] = { C_VERIFY, C_SNAPSHOT, C_REPLAY, C_CAPTURE, C_RREPLAY, C_RCAPTURE };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct mig_child *c = &t->ch[order[i]];
		char how[64];

		if (!c->pid)
			continue;
		clear_bar(t);
		mig__child_stop(c, 30000, on_line, t);
		say(t, SL_INFO, "%s stopped (%s)", c->role, mig__child_how(c, how, sizeof(how)));
	}
}

void mig__task_stop(struct mig_task *t, int which)
{
	struct mig_child *c = &t->ch[which];
	char how[64];
	struct sl_err e = SL_ERR_INIT;

	if (!c->pid) {
		c->next_start_ms = 0;
		return;
	}
	clear_bar(t);
	mig__child_stop(c, 30000, on_line, t);
	c->next_start_ms = 0;
	say(t, SL_INFO, "%s stopped (%s)", c->role, mig__child_how(c, how, sizeof(how)));
	mig__task_set_phase(t, t->st.phase, &e);
}

static void pump(struct mig_task *t, int timeout_ms)
{
	struct mig_child *v[C_N];

	for (int i = 0; i < C_N; i++)
		v[i] = &t->ch[i];
	mig__children_pump(v, C_N, timeout_ms, on_line, t);
}

void mig__task_pump(struct mig_task *t, int timeout_ms)
{
	pump(t, timeout_ms);
}

/* A child ended. follow: restart it after a backoff. Otherwise a clean exit
 * is the caller's to judge, a death by signal is restarted (it resumes by
 * itself) up to 3 times in a row, and an error status ends the migration. */
static int ended(struct mig_task *t, int which, int follow, struct sl_err *err)
{
	struct mig_child *c = &t->ch[which];
	char how[64];
	int code = mig__child_code(c);
	uint64_t ran = sl_now_ms() - c->started_ms, backoff;

	mig__child_how(c, how, sizeof(how));
	/* it waited out what passes for --retry-for already (sl.h) */
	if (code == 2 && strstr(c->last, "gave up after "))
		return sl_err_set(err, -SL_EDB, "%s %s: %s", c->role, how, c->last);
	/* no restart brings back a purged binlog: stop with the cause */
	if (code > 0 && (which == C_CAPTURE || which == C_RCAPTURE) &&
	    mig__stream_lost(which == C_CAPTURE ? &t->sdsn : &t->ddsn, which == C_CAPTURE ? t->dir : t->rdir,
			     err))
		return -SL_EPURGED;
	if (!follow && (code > 0 || c->failures >= 3))
		return sl_err_set(err, -SL_EAPPLY, "%s %s: %s", c->role, how,
				  c->last[0] ? c->last : "(no output)");
	c->failures = ran > 60000 ? 1 : c->failures + 1;
	backoff = 1000ULL << (c->failures - 1 < 6 ? c->failures - 1 : 6);
	if (backoff > 60000)
		backoff = 60000;
	c->next_start_ms = sl_now_ms() + backoff;
	c->restarts++;
	say(t, SL_WARN, "%s %s%s%s; restarting it in %" PRIu64 " s (restart %u)", c->role, how,
	    c->last[0] ? ": " : "", c->last, backoff / 1000, c->restarts);
	return 0;
}

/* ---- watching ---- */

static void dst_close(struct mig_task *t)
{
	if (t->dst)
		mysql_close(t->dst);
	t->dst = NULL;
}

/* Chunks of DIR/snapshot the destination has loaded. */
static void count_loaded(struct mig_task *t)
{
	struct db_opts dop = { .role = DB_ROLE_VERIFY_DEST };
	struct sl_err e = SL_ERR_INIT;
	char hex[33], sql[512];
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (!t->sw.have_id || t->chunks_unknown)
		return;
	if (!t->dst) {
		if (sl_now_ms() < t->dst_retry_ms)
			return;
		if (db_connect(&t->dst, &t->ddsn, &dop, &e)) {
			t->dst = NULL;
			t->dst_retry_ms = sl_now_ms() + 5000;
			say(t, SL_DEBUG, "progress: %s", e.msg);
			return;
		}
	}
	mig__hex_id(t->sw.stream_id, hex);
	/* chunk rows, not replay's marks (DB_CHUNK_KEYLESS and above, db/db.h);
	 * the mark of a snapshot loaded whole: db = tbl = '', DB_CHUNK_INDEXES */
	snprintf(sql, sizeof(sql), "SELECT COALESCE(SUM(`chunk_index` < %" PRIu64 "),0), "
		 "COALESCE(SUM(IF(`chunk_index` < %" PRIu64 ", `rows`, 0)),0), "
		 "COALESCE(SUM(`db` = '' AND `tbl` = '' AND `chunk_index` = %" PRIu64 "),0) "
		 "FROM `sluice`.`snapshot_chunks` WHERE `stream_id`='%s'", (uint64_t)DB_CHUNK_KEYLESS,
		 (uint64_t)DB_CHUNK_KEYLESS, (uint64_t)DB_CHUNK_INDEXES, hex);
	if (mysql_query(t->dst, sql) || !(res = mysql_store_result(t->dst))) {
		unsigned no = mysql_errno(t->dst);

		if (no == 1054) {	/* the table has another shape: cannot count */
			say(t, SL_WARN, "cannot count loaded chunks (%s): catch-up waits for replay's lag alone",
			    mysql_error(t->dst));
			t->chunks_unknown = 1;
		} else if (no != 1146 && no != 1049) {	/* not there yet is 0 */
			dst_close(t);
		}
		return;
	}
	if ((row = mysql_fetch_row(res)) && row[0] && row[1] && row[2]) {
		t->loaded_chunks = strtoull(row[0], NULL, 10);
		t->loaded_rows = strtoull(row[1], NULL, 10);
		t->loaded_whole = strtoull(row[2], NULL, 10) > 0;
	}
	mysql_free_result(res);
	mysql_commit(t->dst);
}

/* The "default" consumer's lag on dir, and the bytes of dir's segments. */
static int lag_of(const char *dir, struct seg_consumer_lag *lag, uint64_t *bytes)
{
	struct seg_status st;
	struct sl_err e = SL_ERR_INIT;
	int found = 0;

	if (seg_status(dir, &st, &e))
		return 0;
	for (size_t i = 0; i < st.nconsumers; i++)
		if (!strcmp(st.consumers[i].c.name, "default")) {
			*lag = st.consumers[i];
			found = 1;
		}
	if (bytes)
		*bytes = st.bytes;
	seg_status_release(&st);
	return found;
}

void mig__task_lag(struct mig_task *t)
{
	struct seg_consumer_lag l;

	t->have_lag = lag_of(t->dir, &l, NULL);
	if (t->have_lag)
		t->lag = l;
}

/* Every chunk of the finished snapshot is in the destination. */
static int loaded(const struct mig_task *t)
{
	return t->loaded_whole || t->chunks_unknown || t->loaded_chunks >= t->sw.chunks;
}

/* How often mig__task_watch() looks, in ms: once a second while the
 * snapshot is read, then every 100 ms for the end of the load, and every
 * 20 ms in the moment between the load's end and replay's first record
 * in DIR (replay registers as the stream's consumer right after the
 * load: a gap of milliseconds that a 100 ms tick would make the tail of
 * a small migration). */
static unsigned watch_every(const struct mig_task *t)
{
	if (!t->sw.ended)
		return 1000;
	return t->watch_soon || (loaded(t) && !t->have_lag) ? 20 : 100;
}

int mig__task_watch(struct mig_task *t, int force, struct sl_err *err)
{
	uint64_t now = sl_now_ms(), rows_loaded;
	int rc;

	/* once the snapshot is read, the end of the load is what is waited for */
	if (!force && now - t->last_watch_ms < watch_every(t))
		return 0;
	t->last_watch_ms = now;
	t->watch_soon = 0;
	if ((rc = mig__snapwatch_poll(&t->sw, err)))
		return rc;
	count_loaded(t);
	mig__task_lag(t);
	sl_progress_update(&t->p_snap, t->sw.rows, t->sw.est_rows, now);
	/* a keyless table read again leaves its earlier chunks' rows counted */
	rows_loaded = t->loaded_rows < t->sw.rows ? t->loaded_rows : t->sw.rows;
	sl_progress_update(&t->p_load, rows_loaded, t->sw.est_rows, now);
	if (t->sw.ended && !t->p_snap.finished)
		sl_progress_finish(&t->p_snap, now);
	{
		uint64_t sig = t->sw.rows * 31 + t->loaded_rows * 17 + t->loaded_chunks + (t->have_lag ? t->lag.txns : 7);

		if (sig != t->moved_sig || !t->moved_ms) {
			t->moved_sig = sig;
			t->moved_ms = now;
		} else if (now - t->moved_ms >= MIG_STALL_MS) {
			say(t, SL_WARN, "no progress for %" PRIu64 " s in phase %s (snapshot %s, replay %s): "
			    "look at their last lines above", (now - t->moved_ms) / 1000, t->st.phase,
			    t->ch[C_SNAPSHOT].pid ? "running" : "not running",
			    t->ch[C_REPLAY].pid ? "running" : "not running");
			t->moved_ms = now;
		}
	}
	if (t->sw.ended && loaded(t) && !t->p_load.finished) {
		sl_progress_update(&t->p_load, t->sw.rows, t->sw.rows, now);
		sl_progress_finish(&t->p_load, now);
	}
	return 0;
}

static int caught_up(struct mig_task *t)
{
	return t->sw.ended && !t->ch[C_SNAPSHOT].pid && loaded(t) && t->have_lag && !t->lag.gone &&
	       t->lag.txns == 0 && t->ch[C_REPLAY].pid;
}

/* ---- the phases ---- */

/* A new DIR: record where the source's binlog ends now (P0). */
int mig__task_record_start(struct mig_task *t, int which, struct sl_err *err)
{
	struct sl_err e = SL_ERR_INIT;
	char *source = NULL;
	uint8_t sid[16];
	struct mig_child *c = &t->ch[which];
	struct mig_argv a = { 0 };
	int reverse = which == C_RCAPTURE;

	if (!seg_dir_identity(reverse ? t->rdir : t->dir, &source, sid, &e)) {
		free(source);
		if (!reverse)
			t->sum->resumed = 1;
		return 0;
	}
	mig__argv_add(&a, "sluice");
	mig__argv_add(&a, "capture");
	if (reverse)
		add_reverse(t, &a, 1, 0);
	else
		add_common(t, &a, 1, 0);
	mig__child_set_argv(c, &a);
	if (mig__child_start(c, reverse ? &t->renv : &t->env, err))
		return err->code;
	while (!mig__child_reap(c, on_line, t))
		pump(t, 20);	/* it takes milliseconds: do not wait longer */
	if (mig__child_code(c) != 0) {
		char how[64];

		return sl_err_set(err, -SL_EAPPLY, "capture %s: %s", mig__child_how(c, how, sizeof(how)),
				  c->last[0] ? c->last : "(no output)");
	}
	return 0;
}

/* SIGTERM/SIGINT before the end: the task (--follow) stops cleanly (0), a
 * one-shot migration reports that it did not finish (2). Either way a rerun
 * continues. */
static int stopped(struct mig_task *t, struct sl_err *err)
{
	if (t->o->follow) {
		say(t, SL_INFO, "stopping on a signal in phase %s: run the same command again to continue",
		    t->st.phase);
		t->interrupted = 1;
		return 1;
	}
	return sl_err_set(err, -SL_EINTR_STOP, "stopped by a signal in phase %s: run the same "
			  "command again to continue the migration", t->st.phase);
}

int mig__task_copy(struct mig_task *t, struct sl_err *err)
{
	int rc;

	if ((rc = mig__task_set_phase(t, "copy", err)) || (rc = start(t, C_CAPTURE, err)) ||
	    (rc = start(t, C_SNAPSHOT, err)))
		return rc;
	for (;;) {
		if (sl_stop_requested)
			return stopped(t, err);
		/* replay starts as soon as DIR/snapshot exists: look often until
		 * then, and once the snapshot is read, for the end of the load */
		pump(t, !t->ch[C_REPLAY].pid ? 20 : t->sw.ended ? (watch_every(t) < 50 ? 20 : 50) : 200);
		if (!t->sw.have_id && (rc = mig__snapwatch_poll(&t->sw, err)))
			return rc;
		for (int i = C_CAPTURE; i <= C_REPLAY; i++) {
			struct mig_child *c = &t->ch[i];

			if (c->pid && mig__child_reap(c, on_line, t)) {
				if (i == C_SNAPSHOT && mig__child_code(c) == 0) {
					say(t, SL_INFO, "snapshot finished");
					mig__task_watch(t, 1, err);
					continue;
				}
				/* the task restarts capture and replay whatever ended them */
				if ((rc = ended(t, i, t->o->follow && i != C_SNAPSHOT, err)))
					return rc;
			}
			if (!c->pid && c->next_start_ms && sl_now_ms() >= c->next_start_ms) {
				c->next_start_ms = 0;
				if ((rc = start(t, i, err)))
					return rc;
			}
		}
		if ((rc = mig__task_watch(t, 0, err)))
			return rc;
		/* replay only once DIR/snapshot exists: before it, it would take
		 * DIR for a stream without a snapshot */
		if (!t->ch[C_REPLAY].pid && !t->ch[C_REPLAY].next_start_ms && t->sw.have_id &&
		    (rc = start(t, C_REPLAY, err)))
			return rc;
		if (t->sw.ended && strcmp(t->st.phase, "catch-up") && (rc = mig__task_set_phase(t, "catch-up", err)))
			return rc;
		draw(t, t->st.phase);
		if (caught_up(t))
			break;
	}
	clear_bar(t);
	say(t, SL_INFO, "caught up: every chunk loaded, replay at capture's head");
	return 0;
}

int mig__task_verify(struct mig_task *t, struct sl_err *err)
{
	struct mig_child *v = &t->ch[C_VERIFY];
	int rc, code;

	if ((rc = mig__task_set_phase(t, "verify", err)) || (rc = start(t, C_VERIFY, err)))
		return rc;
	for (;;) {
		if (sl_stop_requested)
			return stopped(t, err);
		pump(t, 200);
		if (mig__child_reap(v, on_line, t))
			break;
		for (int i = C_CAPTURE; i <= C_REPLAY; i += 2) {	/* capture and replay go on */
			struct mig_child *c = &t->ch[i];

			if (c->pid && mig__child_reap(c, on_line, t) && (rc = ended(t, i, t->o->follow, err)))
				return rc;
			if (!c->pid && c->next_start_ms && sl_now_ms() >= c->next_start_ms) {
				c->next_start_ms = 0;
				if ((rc = start(t, i, err)))
					return rc;
			}
		}
	}
	code = mig__child_code(v);
	if (code != 0 && code != 1) {
		char how[64];

		return sl_err_set(err, -SL_EAPPLY, "verify %s: %s", mig__child_how(v, how, sizeof(how)),
				  v->last[0] ? v->last : "(no output)");
	}
	t->sum->verify = code;
	t->st.verify = code;
	say(t, code ? SL_WARN : SL_INFO, "verify: %s", code ? "differences found" : "every table equal");
	return 0;
}

int mig__task_fatal(const struct mig_task *t, struct sl_err *err)
{
	return t->fatal_rc ? sl_err_set(err, t->fatal_rc, "%s", t->fatal.msg) : 0;
}

void mig__task_supervise(struct mig_task *t, int first, int last)
{
	struct sl_err e = SL_ERR_INIT;
	int rc;

	for (int i = first; i <= last; i++) {
		struct mig_child *c = &t->ch[i];

		if (i == C_SNAPSHOT || i == C_VERIFY)
			continue;	/* one-shot children: never restarted here */
		if (c->pid && mig__child_reap(c, on_line, t) && (rc = ended(t, i, 1, &e)) && !t->fatal_rc) {
			t->fatal_rc = rc;
			t->fatal = e;
		}
		if (!c->pid && c->next_start_ms && sl_now_ms() >= c->next_start_ms && !sl_stop_requested) {
			c->next_start_ms = 0;
			if (start(t, i, &e)) {
				say(t, SL_WARN, "%s", e.msg);
				c->next_start_ms = sl_now_ms() + 60000;
			}
		}
	}
}

/* Reverse sync's latency (how far S's replay is behind D's last captured
 * commit) and traffic (the reverse stream's growth), every 10 s. */
void mig__task_reverse_report(struct mig_task *t, uint64_t *last_bytes, uint64_t *last_ms)
{
	struct seg_consumer_lag l;
	uint64_t bytes = 0, now = sl_now_ms();

	if (!t->rdir[0] || !lag_of(t->rdir, &l, &bytes)) {
		say(t, SL_INFO, "reverse sync: replay has no position in '%s' yet", t->rdir);
		return;
	}
	say(t, SL_INFO, "reverse sync: %" PRIu64 " s latency, %" PRIu64 " transactions behind, %.2f MB/s "
	    "into the source", l.secs, l.txns,
	    *last_ms && now > *last_ms && bytes >= *last_bytes ?
	    (double)(bytes - *last_bytes) / 1e6 / ((double)(now - *last_ms) / 1000) : 0.0);
	*last_bytes = bytes;
	*last_ms = now;
}

/* ---- set-up ---- */

int mig__task_prepare(struct mig_task *t, struct sl_err *err)
{
	const struct mig_opts *o = t->o;
	int rc;

	if (mkdir(o->dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		return sl_err_set(err, -e, "cannot create '%s': %s", o->dir, strerror(e));
	}
	if (!realpath(o->dir, t->dir)) {
		int e = errno;
		return sl_err_set(err, -e, "cannot resolve '%s': %s", o->dir, strerror(e));
	}
	if ((rc = sl_dsn_parse(&t->sdsn, o->source_url, "SLUICE_SOURCE_PASSWORD", err)))
		return sl_err_prefix(err, "source URL");
	if ((rc = sl_dsn_parse(&t->ddsn, o->dest_url, "SLUICE_DEST_PASSWORD", err)))
		return sl_err_prefix(err, "destination URL");
	t->src_url = mig__url_without_password(o->source_url);
	t->dst_url = mig__url_without_password(o->dest_url);
	t->env.self = o->self ? o->self : "/proc/self/exe";
	t->env.source_password = t->sdsn.password;
	t->env.dest_password = t->ddsn.password;
	t->renv.self = t->env.self;
	t->renv.source_password = t->ddsn.password;
	t->renv.dest_password = t->sdsn.password;
	mig__child_init(&t->ch[C_CAPTURE], "capture");
	mig__child_init(&t->ch[C_SNAPSHOT], "snapshot");
	mig__child_init(&t->ch[C_REPLAY], "replay");
	mig__child_init(&t->ch[C_VERIFY], "verify");
	mig__child_init(&t->ch[C_RCAPTURE], "rcapture");
	mig__child_init(&t->ch[C_RREPLAY], "rreplay");
	mig__snapwatch_init(&t->sw, t->dir);
	sl_progress_init(&t->p_snap, "snapshot", sl_now_ms());
	sl_progress_init(&t->p_load, "load", sl_now_ms());
	t->tty = o->progress;
	t->last_log_ms = sl_now_ms();
	return 0;
}

int mig__task_precheck(struct mig_task *t, int resuming, struct sl_err *err)
{
	struct mig_precheck_opts po = {
		.source_url = t->o->source_url, .dest_url = t->o->dest_url, .dir = t->dir,
		.include = t->o->include, .exclude = t->o->exclude, .dest_dialect = t->o->dest_dialect,
		.resuming = resuming,
	};
	struct mig_report r = { 0 };
	int rc;

	if ((rc = mig_precheck(&po, &r, err)))
		goto out;
	for (size_t i = 0; i < r.n; i++)
		if (r.v[i].outcome != MIG_PASS)
			say(t, r.v[i].outcome == MIG_FAIL ? SL_ERROR : SL_WARN, "precheck %s %s: %s%s%s",
			    r.v[i].side, r.v[i].name, r.v[i].detail, r.v[i].fix[0] ? " (fix: " : "",
			    r.v[i].fix[0] ? r.v[i].fix : "");
	if (mig_report_count(&r, MIG_FAIL)) {
		size_t i = 0;

		while (r.v[i].outcome != MIG_FAIL)
			i++;
		rc = sl_err_set(err, -SL_ECONFIG, "precheck failed (%zu check%s): %s %s: %s",
				mig_report_count(&r, MIG_FAIL), mig_report_count(&r, MIG_FAIL) == 1 ? "" : "s",
				r.v[i].side, r.v[i].name, r.v[i].detail);
	} else {
		say(t, SL_INFO, "precheck: %zu passed, %zu warnings", mig_report_count(&r, MIG_PASS),
		    mig_report_count(&r, MIG_WARN));
	}
out:
	mig_report_release(&r);
	return rc;
}

void mig__task_finish(struct mig_task *t)
{
	struct mig_summary *s = t->sum;

	mig__task_stop_all(t);
	clear_bar(t);
	s->tables = t->sw.tables_done;
	s->chunks = t->sw.chunks;
	s->rows = t->sw.rows;
	s->bytes = t->sw.bytes;
	s->ms = sl_now_ms() - t->t0;
	phase_time(t, t->t0 + s->ms);
	if (t->have_lag) {
		s->lag_txns = t->lag.txns;
		s->lag_bytes = t->lag.bytes;
		s->lag_s = t->lag.secs;
	}
	for (int i = 0; i < C_N; i++)
		mig__child_release(&t->ch[i]);
	mig__snapwatch_release(&t->sw);
	dst_close(t);
	sl_dsn_release(&t->sdsn);
	sl_dsn_release(&t->ddsn);
	free(t->src_url);
	free(t->dst_url);
}
