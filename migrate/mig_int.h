/*
 * mig_int.h - private to migrate/: children, the watchers of DIR and the
 * destination, DIR's lock and state file.
 */
#ifndef MIG_INT_H
#define MIG_INT_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>
#include <mysql.h>

#include "mig.h"
#include "seg.h"
#include "sl.h"
#include "sl_progress.h"

/* ---- children (mig_child.c) ---- */

struct mig_argv {
	char **v;		/* NULL-terminated, each owned */
	size_t n;
};
void mig__argv_add(struct mig_argv *a, const char *s);
void mig__argv_release(struct mig_argv *a);

struct mig_env {
	const char *self;			/* the binary */
	const char *source_password;		/* NULL: none */
	const char *dest_password;
};

struct mig_child {
	char role[16];		/* "capture" ... : the prefix of its lines */
	struct mig_argv argv;
	pid_t pid;		/* 0: not running */
	int fd;			/* read end of its stdout+stderr; -1 */
	char line[4096];	/* a partial line */
	size_t len;
	char last[512];		/* the last line it printed */
	int exited, status;	/* wait status once it ended */
	uint64_t started_ms, next_start_ms;
	unsigned restarts, failures;
};

typedef void (*mig_line_fn)(void *ctx, const char *role, const char *line);

/* "mysql://u:secret@h/" -> "mysql://u@h/". Caller frees. */
char *mig__url_without_password(const char *url);
void mig__child_init(struct mig_child *c, const char *role);
/* Takes a's strings (a is emptied). */
void mig__child_set_argv(struct mig_child *c, struct mig_argv *a);
int mig__child_start(struct mig_child *c, const struct mig_env *env, struct sl_err *err);
/* Waits up to timeout_ms for output of any running child and copies it, a
 * line at a time, to out. */
void mig__children_pump(struct mig_child *const *v, size_t n, int timeout_ms, mig_line_fn out,
			void *ctx);
/* 1 when c has ended (c->status, c->exited set), else 0. */
int mig__child_reap(struct mig_child *c, mig_line_fn out, void *ctx);
/* Exit status, or -signal. */
int mig__child_code(const struct mig_child *c);
char *mig__child_how(const struct mig_child *c, char *out, size_t n);
/* SIGTERM, then SIGKILL after timeout_ms; returns mig__child_code(). */
int mig__child_stop(struct mig_child *c, unsigned timeout_ms, mig_line_fn out, void *ctx);
void mig__child_release(struct mig_child *c);

/* ---- watching DIR/snapshot (mig_watch.c) ---- */

struct mig_snapwatch {
	char *path;			/* DIR/snapshot */
	struct seg_reader *r;		/* NULL until the stream has a segment */
	uint8_t stream_id[16];
	int have_id;
	uint32_t runs;
	uint64_t est_rows;		/* rows done before the last run + its estimate */
	uint64_t rows, bytes, chunks;	/* chunks read, keyless restarts taken out */
	uint64_t tables_done, schema_objects;
	int ended;			/* SnapshotEnd read */
	/* per table (db.table): its chunks and rows so far, for restarts */
	struct mig_tab { char *name; uint64_t chunks, rows, bytes; } *tabs;
	size_t ntabs;
	char cur[520];			/* the open chunk's table */
	int in_chunk, cur_restart;
};
void mig__snapwatch_init(struct mig_snapwatch *w, const char *dir);
/* Reads every record written since the last call. 0, or < 0 on a damaged stream. */
int mig__snapwatch_poll(struct mig_snapwatch *w, struct sl_err *err);
void mig__snapwatch_release(struct mig_snapwatch *w);
/* "0123abcd..." (32 hex digits) of id into out[33]. */
void mig__hex_id(const uint8_t id[16], char out[33]);

/* ---- DIR's lock and state (mig_state.c) ---- */

struct mig_state {
	char phase[24];		/* "snapshot", "catch-up", "verify", "done", "follow" */
	pid_t pids[6];		/* capture, snapshot, replay, verify, and after a switchover
				 * the reverse capture and replay, of the run that wrote it */
	uint64_t runs;		/* runs of migrate on DIR so far */
	uint64_t first_started;	/* unix seconds of the first run */
	int verify;		/* last verify's status, -1: none */
};
/* Takes DIR/migrate.lock (flock, released when we die); -SL_ECONFIG when
 * another migrate holds it. *fd stays open for the run. */
int mig__lock(const char *dir, int *fd, struct sl_err *err);
/* Reads DIR/migrate.state: 1 when there is one, 0 when not (s zeroed). */
int mig__state_read(const char *dir, struct mig_state *s, struct sl_err *err);
int mig__state_write(const char *dir, const struct mig_state *s, struct sl_err *err);
/* Waits (up to timeout_ms) for processes an earlier run left, by their
 * pids in s, and kills those still there. Only a process whose command
 * line is a sluice child on dir or rdir (NULL: none) is touched. */
void mig__state_reap_old(const char *dir, const char *rdir, const struct mig_state *s,
			 unsigned timeout_ms);

/* ---- switchover: request and journal files (mig_journal.c) ----
 * `sluice switchover` (a client) writes DIR/switchover.request; the task
 * walks the steps and journals each one in DIR/switchover.journal, both
 * with sl_write_file_atomic(). A rollback is asked for by
 * DIR/switchover.rollback. The pair (source's final position, destination's
 * start position) also goes to DIR/switchover.pair and RDIR/switchover.pair. */
enum mig_sw_step {
	SW_CONFIRM, SW_PRECHECK, SW_RCAPTURE, SW_FREEZE, SW_WAIT, SW_STOP_FORWARD, SW_OBJECTS,
	SW_REVERSE, SW_NSTEPS
};
struct mig_sw_request {
	uint64_t id;			/* wall ms when asked: a new request has a new id */
	char reverse_dir[PATH_MAX];
	char source[512], dest[512];	/* URLs without passwords, as the client named them */
	int freeze, skip_verify;
	unsigned max_lag_s, timeout_s, quiet_s;
};
struct mig_sw_step_rec {
	char status[12];		/* pending, running, done, failed, undone, skipped */
	uint64_t start_ms, end_ms;	/* wall clock */
	char note[640];
};
struct mig_sw_journal {
	struct mig_sw_request req;	/* the request it carries out */
	char state[16];			/* running, done, failed, rolled-back */
	char error[512];
	char source_final[320];		/* "mariadb mysql-bin.000002:1234 gtid 0-1-99" */
	char dest_start[320];
	int froze, read_only_before;	/* the task set S read-only; S's value before */
	struct mig_sw_step_rec step[SW_NSTEPS];
};
extern const char *const mig__sw_step_names[SW_NSTEPS];
/* 1 read, 0 no such file, < 0 err. */
int mig__sw_request_read(const char *dir, struct mig_sw_request *r, struct sl_err *err);
int mig__sw_request_write(const char *dir, const struct mig_sw_request *r, struct sl_err *err);
int mig__sw_journal_read(const char *dir, struct mig_sw_journal *j, struct sl_err *err);
int mig__sw_journal_write(const char *dir, const struct mig_sw_journal *j, struct sl_err *err);
/* DIR/switchover.rollback exists (its request id in *id): 1, else 0.
 * mig__sw_rollback_ask() writes it for request id, or with id 0 removes it. */
int mig__sw_rollback_ask(const char *dir, uint64_t id, struct sl_err *err);
int mig__sw_rollback_asked(const char *dir, uint64_t *id);
int mig__sw_pair_write(const char *dir, const struct mig_sw_journal *j, struct sl_err *err);
/* A journal has ended: done, failed or rolled-back. */
int mig__sw_ended(const struct mig_sw_journal *j);
/* "the forward sync is stopped": the steps from stop-forward on have begun. */
int mig__sw_forward_stopped(const struct mig_sw_journal *j);
/* Binlog positions: < 0, 0, > 0. "mysql-bin.000012" after "mysql-bin.000009"
 * (the number after the last dot when the names share the rest), then the
 * offset. */
int mig__pos_cmp(const char *fa, uint64_t oa, const char *fb, uint64_t ob);

/* ---- the stream against its source's binlogs (mig_binlogs.c) ----
 * mig__stream_on_source(): db_binlog_has() for the head of the stream in
 * dir (0 when dir holds none): -SL_EPURGED when it was purged or the source
 * lost it. mig__stream_lost(): the same over a connection of its own to
 * dsn, for the task when a capture child failed: -SL_EPURGED (err says
 * why) ends the task, since restarting capture cannot mend it; 0 for
 * anything else, an unreachable source included (capture is restarted). */
int mig__stream_on_source(MYSQL *m, const char *who, const char *dir, struct sl_err *err);
int mig__stream_lost(const struct sl_dsn *dsn, const char *dir, struct sl_err *err);
/* precheck --dir: a "binlog retention" row for the stream in dir (none
 * when dir holds no stream): FAIL naming the purged file and the stream's
 * position, else PASS with the position. < 0 only when the source cannot
 * answer. */
int mig__stream_retention(MYSQL *m, const char *who, const char *dir, struct mig_report *r,
			  struct sl_err *err);

/* ---- the task: its phases and children (mig_task.c), run in order by
 * mig_run() (mig_run.c); the follow phase and the switchover steps in
 * mig_switch.c. mig_task.c calls neither of the other two. ---- */

enum { C_CAPTURE, C_SNAPSHOT, C_REPLAY, C_VERIFY, C_RCAPTURE, C_RREPLAY, C_N };

struct mig_task {
	const struct mig_opts *o;
	struct mig_summary *sum;
	char dir[PATH_MAX];
	char *src_url, *dst_url;	/* without passwords */
	struct sl_dsn sdsn, ddsn;
	struct mig_env env;
	struct mig_env renv;		/* the reverse direction: D is its source, S its destination */
	struct mig_child ch[C_N];
	struct mig_snapwatch sw;
	struct mig_state st;
	MYSQL *dst;
	uint64_t dst_retry_ms;
	uint64_t loaded_chunks, loaded_rows;	/* `sluice`.`snapshot_chunks` of DIR/snapshot */
	int loaded_whole;			/* replay marked the snapshot loaded */
	int chunks_unknown;		/* the destination cannot say: lag alone decides */
	struct seg_consumer_lag lag;
	int have_lag;
	struct sl_progress p_snap, p_load;
	int tty, bar_shown;
	int interrupted;		/* --follow stopped by a signal before the follow phase */
	uint64_t t0, last_watch_ms, last_draw_ms, last_log_ms;
	int watch_soon;			/* replay said something in catch-up: watch in 20 ms */
	uint64_t phase_t0;		/* when this run entered the phase in st.phase; 0: none yet */
	uint64_t moved_ms, moved_sig;	/* when rows read, rows loaded or the lag last changed */
	/* switchover */
	struct mig_sw_journal sw_j;
	int have_journal;
	char rdir[PATH_MAX];		/* "" until a switchover names it */
	/* a child's end that no restart mends (mig__stream_lost()): the
	 * follow phase and the switchover's waits stop with it */
	int fatal_rc;
	struct sl_err fatal;
};

/* Set-up from t->o (dir, URLs, children); precheck (a fail: -SL_ECONFIG). */
int mig__task_prepare(struct mig_task *t, struct sl_err *err);
int mig__task_precheck(struct mig_task *t, int resuming, struct sl_err *err);
/* The phase in DIR/migrate.state, with the children's pids. */
int mig__task_set_phase(struct mig_task *t, const char *phase, struct sl_err *err);
/* copy: capture, snapshot and replay until caught up; verify while capture
 * and replay go on. < 0 an error; t->interrupted when a signal ended copy
 * of a --follow task. */
int mig__task_copy(struct mig_task *t, struct sl_err *err);
int mig__task_verify(struct mig_task *t, struct sl_err *err);
/* DIR/snapshot and the destination's progress, at most every 100 ms-1 s
 * unless force. */
int mig__task_watch(struct mig_task *t, int force, struct sl_err *err);
void mig__task_stop_all(struct mig_task *t);
/* Every child stopped, the summary filled, t's resources released. */
void mig__task_finish(struct mig_task *t);
/* The reverse stream's latency and MB/s, logged (every 10 s by the caller). */
void mig__task_reverse_report(struct mig_task *t, uint64_t *last_bytes, uint64_t *last_ms);
void mig__task_say(struct mig_task *t, enum sl_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mig__task_pump(struct mig_task *t, int timeout_ms);
int mig__task_start(struct mig_task *t, int which, struct sl_err *err);
/* SIGTERM (then SIGKILL after 30 s) to one child, said in the log. */
void mig__task_stop(struct mig_task *t, int which);
/* Reaps the children in [first, last] that ended and restarts those due
 * (backoff), as the follow phase does. A child that cannot go on (a
 * capture whose stream's position is gone from the source, a capture or
 * replay that gave up after --retry-for) is not restarted: t->fatal_rc and
 * t->fatal say why, and mig__task_fatal() (0 when unset) hands it on. */
void mig__task_supervise(struct mig_task *t, int first, int last);
int mig__task_fatal(const struct mig_task *t, struct sl_err *err);
/* Replay's lag on DIR (t->lag, t->have_lag). */
void mig__task_lag(struct mig_task *t);
/* One-shot capture recording where url's binlog ends now into dir, when dir
 * holds no stream yet. */
int mig__task_record_start(struct mig_task *t, int which, struct sl_err *err);

/* The switchover in the task (mig_switch.c). Called from the follow phase:
 * takes a new request, walks the steps of a running journal (blocking,
 * pumping children), answers a rollback. 0, or < 0 when the task itself
 * cannot go on. */
int mig__switch_poll(struct mig_task *t, struct sl_err *err);
/* The journal says forward sync was stopped: the task runs the reverse
 * direction only. */
int mig__switch_reverse_only(struct mig_task *t);
/* The follow phase: forward capture and replay (and with --bidirectional the
 * reverse ones), or after a switchover the reverse ones only, restarted when
 * they die, until SIGTERM/SIGINT; a switchover asked for meanwhile runs from
 * here (mig__switch_poll()). */
int mig__follow(struct mig_task *t, struct sl_err *err);

/* ---- switchover objects (mig_objects.c) ----
 * Step 7 of the switchover (ISSUE12.md), called by its state machine. What
 * was migrated and what was deferred is what DIR/snapshot records (its
 * SchemaObjects). Each function is idempotent: after a crash it is called
 * again and does only what is left. The connections are the caller's; the
 * functions change their session only as each says, and set sql_log_bin,
 * sql_mode and the character set back. Each adds to *r (the caller zeroes
 * it) and returns 0 or a negative code with err naming the object and the
 * server in one line. */
struct mig_objects_result {
	size_t created, present, changed, saved, dropped, restored;
};
/* Creates on dst every deferred FOREIGN_KEY and TRIGGER of DIR/snapshot in
 * the stream's order, each in its database, a trigger under its recorded
 * sql_mode (SchemaObject.sql_mode; a stream without it: the session's), with
 * sql_log_bin off so the reverse capture never carries them (BINLOG ADMIN or
 * SUPER on dst). One already there (by name) counts in present and is
 * skipped: a rerun is a no-op. Foreign keys are added with
 * foreign_key_checks off: the rows are the source's, which had the keys,
 * and checking them makes MariaDB copy the table (minutes of downtime).
 * who names dst in errors. The session's sql_mode, foreign_key_checks,
 * character set and default database are set back (a session with no
 * default database keeps the last one used). */
int mig__deferred_create(const char *dir, MYSQL *dst, const char *who,
			 struct mig_objects_result *r, struct sl_err *err);
/* For every TABLE of DIR/snapshot with an AUTO_INCREMENT column on src:
 * raises dst's counter to src's next value, the larger of
 * information_schema.TABLES.AUTO_INCREMENT and MAX(col) + 1 (changed, with
 * sql_log_bin off on dst); a counter already as high counts in present and
 * is never lowered. A migrated table on src and missing on dst is an error. */
int mig__autoinc_sync(const char *dir, MYSQL *src, MYSQL *dst, struct mig_objects_result *r,
		      struct sl_err *err);
/* Saves src's triggers on the tables of DIR/snapshot (SHOW CREATE TRIGGER:
 * statement with its definer, sql_mode, character sets) to
 * RDIR/source-triggers (sl_write_file_atomic(); RDIR made when missing;
 * saved), then drops each (dropped). A file already there is kept, and only
 * the triggers it names still on src are dropped. Trigger statements stay
 * in src's binlog: replay never runs one. */
int mig__source_triggers_park(const char *dir, const char *rdir, MYSQL *src,
			      struct mig_objects_result *r, struct sl_err *err);
/* Creates again on src every trigger of RDIR/source-triggers not there
 * (restored; present when it is), in the saved order, each with its saved
 * sql_mode, character set, database and definer (SUPER or SET USER on src
 * for another definer); the session's sql_mode, character set and default
 * database are set back. Then renames the file to source-triggers.restored.
 * No file: 0 and nothing done. */
int mig__source_triggers_restore(const char *rdir, MYSQL *src, struct mig_objects_result *r,
				 struct sl_err *err);

#endif
