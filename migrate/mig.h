/*
 * mig.h - the migration task: precheck, the migrate phases and the children
 * it supervises (issue 11).
 *
 * Floor 5 (DESIGN.md "Folders"): uses store/, db/, ddl/ and below. capture,
 * snapshot, replay and verify are never linked in: migrate runs them as
 * child processes of its own binary (/proc/self/exe) and watches them only
 * through DIR (segments: store/seg.h) and the destination's `sluice` schema.
 *
 * Precheck (mig_precheck.c queries the servers, mig_rules.c decides):
 *   mig_precheck(&o, &report, &err) fills report with one struct mig_check
 *   per check (side, name, pass/warn/fail, what was found, the fix) and
 *   returns 0 when every check could run; < 0 (err) when a server could not
 *   be asked at all. The caller prints the report (mig_report_print()) and
 *   fails on mig_report_count(r, MIG_FAIL) > 0. The decisions themselves
 *   are pure functions (mig_*_decide()) so tests/unit/test_precheck.c can
 *   give them any server's answers.
 *
 * Migrate (mig_task.c, state machine at its top):
 *   mig_run(&o, &summary, &err) takes DIR's lock (DIR/migrate.lock: a second
 *   migrate on DIR is refused), runs the precheck (a fail ends it, -SL_ECONFIG),
 *   then the children: capture (records P0 on a new DIR, then --follow),
 *   snapshot (DIR/snapshot), replay --follow (load, then changes) and, once
 *   replay's checkpoint is at capture's head with every chunk loaded, verify.
 *   Returns 0 with summary filled (summary.verify: 0 equal, 1 differences),
 *   or < 0 with err (a signal before the end: -SL_EINTR_STOP). With o.follow
 *   it then supervises capture and replay (restarting a child that dies,
 *   with backoff) until sl_stop_requested, stops them with SIGTERM and
 *   returns 0, also when the signal came before verify (summary.verify -1).
 *   State: DIR/migrate.state (sl_write_file_atomic()) names the phase
 *   reached and the children's process ids, so a rerun after a crash waits
 *   for an earlier run's children to end and continues: the children
 *   resume from DIR and the destination's checkpoint by themselves.
 * Children (mig_child.c): argv never holds a password (URLs are passed with
 *   theirs removed; the password goes in SLUICE_SOURCE_PASSWORD /
 *   SLUICE_DEST_PASSWORD of the child's environment). Each child's stdout and
 *   stderr lines are copied to migrate's stderr prefixed with its role
 *   ("[snapshot] ..."). A child gets SIGTERM when migrate dies (kill -9
 *   included: PR_SET_PDEATHSIG).
 * Errors: 0 or a negative code (common/sl.h) with err filled.
 * Threads: one; the children are processes.
 */
#ifndef MIG_H
#define MIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sl.h"

/* ---- precheck ---- */

enum mig_outcome { MIG_PASS, MIG_WARN, MIG_FAIL };

struct mig_check {
	char side[16];		/* "source", "destination", "disk" */
	char name[48];		/* "binlog_format", "privileges", "keyless tables" ... */
	enum mig_outcome outcome;
	char detail[640];	/* what was found */
	char fix[384];		/* what to do ("" on a pass) */
};

struct mig_report {
	struct mig_check *v;
	size_t n, cap;
};

/* Appends one check; detail is printf-style. */
void mig_report_add(struct mig_report *r, const char *side, const char *name,
		    enum mig_outcome o, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
size_t mig_report_count(const struct mig_report *r, enum mig_outcome o);
/* "pass  source  binlog_format: ROW", "FAIL  ... \n      fix: ..." lines. */
void mig_report_print(const struct mig_report *r, FILE *f);
void mig_report_release(struct mig_report *r);
const char *mig_outcome_name(enum mig_outcome o);	/* "pass", "warn", "FAIL" */

struct mig_precheck_opts {
	const char *source_url;		/* required */
	const char *dest_url;		/* NULL: no destination checks */
	const char *dir;		/* NULL: no disk check */
	const char *include, *exclude;	/* comma-separated db / db.table patterns
					 * (sl_table_selected(), common/sl.h) */
	const char *dest_dialect;	/* NULL: from the destination's version() */
	int resuming;			/* tables of an earlier run of this migration are
					 * expected on the destination */
};
int mig_precheck(const struct mig_precheck_opts *o, struct mig_report *r, struct sl_err *err);

/* Pure decisions (mig_rules.c). grants: the lines SHOW GRANTS returned. */
/* Does a grant line give priv (upper case, "REPLICATION SLAVE") on *.*, or,
 * db not NULL, on `db`.*? (db_grants_have(), db/db.h) */
int mig_grants_have(const char *const *grants, size_t n, const char *priv, const char *db);
/* Source: REPLICATION SLAVE, REPLICATION CLIENT (named BINLOG MONITOR when
 * mariadb), SELECT, SHOW VIEW when views are migrated, and RELOAD when the
 * snapshot needs FLUSH TABLES WITH READ LOCK (ftwrl: a MySQL source). */
void mig_source_grants_decide(struct mig_report *r, const char *const *grants, size_t n, int ftwrl,
			      int mariadb, size_t views);
/* Destination: what the load and replay run (CREATE, DROP, ALTER, INDEX,
 * INSERT, UPDATE, DELETE, CREATE VIEW); skipping the load's binlog needs
 * SUPER or BINLOG ADMIN (a warning: the load then goes to its binlog). */
void mig_dest_grants_decide(struct mig_report *r, const char *const *grants, size_t n);
/* Binary log retention: binlog_expire_logs_seconds when set and nonzero,
 * else expire_logs_days (either may be NULL). 0 everywhere = never purged.
 * Shorter than min_s warns: a migration that outlives the binlog cannot
 * catch up. */
#define MIG_RETENTION_MIN_S (24u * 3600u)
void mig_retention_decide(struct mig_report *r, const char *expire_days, const char *expire_secs);
/* Disk space for DIR: avail bytes free vs need (the source's data_length +
 * index_length of the migrated tables). Segments are zstd-compressed, so
 * need/4 free is the floor (fail below it) and need the comfortable
 * amount (warn below it). */
void mig_disk_decide(struct mig_report *r, const char *dir, uint64_t avail, uint64_t need);
/* local_infile (NULL: unknown) on the destination: OFF warns (the load
 * falls back to multi-row INSERTs). */
void mig_local_infile_decide(struct mig_report *r, const char *value);

/* ---- migrate ---- */

struct mig_opts {
	const char *source_url, *dest_url, *dir;	/* required */
	unsigned threads;		/* snapshot readers, replay workers, verify threads;
					 * 0: each command's default */
	const char *include, *exclude;
	const char *dest_dialect;	/* NULL: detected */
	int follow;			/* the long-running task */
	int bidirectional;		/* with follow: D's changes replayed into S as well,
					 * through reverse_dir, while forward sync runs */
	const char *reverse_dir;	/* bidirectional: RDIR */
	int progress;			/* 1: bars (a terminal), 0: log lines */
	const char *self;		/* the binary to run children of; NULL: /proc/self/exe */
	const char *metrics_dir;	/* capture and replay children write --metrics
					 * MDIR/{capture,replay,reverse-capture,reverse-replay}.prom;
					 * NULL: none */
	uint64_t retry_for_ms;		/* capture and replay children wait out transient
					 * failures this long (--retry-for); one that gives
					 * up ends the task with its error */
};

struct mig_summary {
	uint64_t tables, chunks, rows, bytes;	/* the snapshot */
	uint64_t ms;			/* wall time of this run */
	uint64_t lag_txns, lag_bytes, lag_s;	/* replay behind capture at the end */
	int verify;			/* verify's exit status: 0 equal, 1 differences */
	int resumed;			/* DIR held an earlier run */
	/* the wall time of each phase this run went through, in order (the
	 * "done" phase, which takes none, left out) */
	struct mig_phase_time {
		char name[24];	/* as mig_state.phase */
		uint64_t ms;
	} phases[8];
	unsigned nphases;
};
int mig_run(const struct mig_opts *o, struct mig_summary *s, struct sl_err *err);
/* The summary block (mig_summary.c). */
void mig_summary_print(const struct mig_summary *s, FILE *f);

/* ---- switchover (issue 12) ----
 * mig_switchover() is the client (mig_client.c): it asks the running task
 * (`migrate --follow` on o.dir, which holds DIR/migrate.lock) for a
 * switchover by writing DIR/switchover.request, then prints each step the
 * task journals (DIR/switchover.journal) until the switchover is done (0) or
 * failed or rolled back (< 0, err says why). No task running, a task not in
 * its follow phase, or no confirmation: -SL_ECONFIG. Killed, it can be run
 * again: it follows the switchover under way. The steps themselves run in
 * the task (mig_switch.c). o.rollback asks the task to undo a switchover
 * whose forward sync is not stopped yet. mig_switch_status() prints the
 * journal (text or one JSON object); -ENOENT when there is none. */
struct mig_switch_opts {
	const char *dir;			/* required */
	const char *source_url, *dest_url;	/* the task's, to check they match */
	const char *reverse_dir;		/* RDIR: the reverse stream */
	int yes, freeze, skip_verify, rollback;
	unsigned max_lag_s, timeout_s, quiet_s;
};
int mig_switchover(const struct mig_switch_opts *o, struct sl_err *err);
int mig_switch_status(const char *dir, int json, FILE *out, struct sl_err *err);
/* "source_final X, destination start Y" from DIR/switchover.pair, into out;
 * 0 when DIR has none. */
int mig_switch_pair(const char *dir, char *out, size_t n);

#endif
