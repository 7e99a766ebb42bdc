/*
 * mig_int.h - private to migrate/: children, the watchers of DIR and the
 * destination, DIR's lock and state file.
 */
#ifndef MIG_INT_H
#define MIG_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "mig.h"
#include "seg.h"
#include "sl.h"

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
	pid_t pids[4];		/* capture, snapshot, replay, verify of the run that wrote it */
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
 * line is a sluice child on this DIR is touched. */
void mig__state_reap_old(const char *dir, const struct mig_state *s, unsigned timeout_ms);

/* ---- switchover objects (mig_objects.c) ----
 * Step 7 of the switchover (ISSUE12.md), called by its state machine. What
 * was migrated and what was deferred is what DIR/snapshot records (its
 * SchemaObjects). Each function is idempotent: after a crash it is called
 * again and does only what is left. The connections are the caller's; the
 * functions change their session only as each says, and set sql_log_bin,
 * sql_mode and the character set back. Each adds to *r (the caller zeroes
 * it) and returns 0 or a negative code with err naming the object and the
 * server in one line. */
#include <mysql.h>

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
