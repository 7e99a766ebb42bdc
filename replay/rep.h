/*
 * rep.h - replay: apply the transactions of a stream directory to a
 *         MySQL-protocol destination, exactly once.
 *
 * rep_run() connects to the destination, creates the schema `sluice` with
 * its tables `checkpoint` and `applied` when missing, reads the consumer's
 * checkpoint (a store/seg.h cursor plus the source position, one row per
 * consumer and stream), and applies every complete transaction after it:
 *   - each source transaction becomes one destination transaction that also
 *     inserts its row in `applied`, so a crash of replay or of the
 *     destination neither loses nor repeats a transaction;
 *   - o->workers connections apply in parallel: transactions that touch a
 *     common row (same table and primary key; the same table when it has no
 *     primary key or a unique secondary key on the destination) commit in
 *     source order, independent ones in any order; workers = 1 keeps the
 *     source's commit order for all;
 *   - the checkpoint row is a low-water mark (every transaction up to it
 *     committed), moved about once a second and always before returning;
 *   - rows are applied as batched statements with exact literals
 *     (fmt_value_sql()), identifiers always quoted; an UPDATE or DELETE that
 *     matches no row is an error naming the table and the position;
 *   - a Ddl record is converted for the destination's dialect
 *     (o->dest_dialect, else detected from its version(); ddl/ddl.h rules,
 *     each conversion logged as a warning, a refusal stops replay naming
 *     the position and the rule), waits for every earlier transaction,
 *     then runs alone with its default database and sql_mode; the checkpoint marks it
 *     pending before and done after, so a restart does not run it twice;
 *   - statements are classified (formats/fmt.h fmt_stmt_classify()):
 *     CREATE/DROP TRIGGER is not run (triggers are created at switchover;
 *     the rows they wrote are in the stream); an account statement or a
 *     statement-format DML found in a stream (written by an older capture)
 *     is refused, naming its position, never its text;
 *   - before the first row of each table it checks the destination table
 *     for triggers (rep_dest_trigger()) and refuses when it has one, unless
 *     o->allow_dest_triggers.
 * Snapshot (DIR/snapshot exists, written by `sluice snapshot`): before any
 * change, rep__snapshot_phase() (rep_snapshot.c) creates its schema objects
 * (deferred ones never), loads its chunks on up to 4 connections (LOAD DATA
 * LOCAL INFILE from memory, or multi-row INSERTs when the server refuses it;
 * each chunk with its `sluice`.`snapshot_chunks` row in one transaction, so
 * a rerun skips it), adds each table's deferred indexes after its last chunk,
 * and follows the snapshot stream until its SnapshotEnd. The change stream
 * then applies in safe mode up to SnapshotEnd's position, strictly after it
 * (rep_safe.c). Without follow and without SnapshotEnd it loads what is there
 * and returns 0 with st->snapshot_incomplete set.
 * Without follow it returns 0 after the last complete transaction. With
 * follow it waits for new frames until sl_stop_requested.
 * History (rep_hist.h): o->until stops before the first transaction or DDL
 * past a point (GTID, FILE:POS, time) and returns 0; o->from starts a
 * consumer without a checkpoint at segment o->from; o->skip leaves
 * transactions out, each recorded in `sluice`.`skipped`. A second replay of
 * the consumer on the destination fails at once (-EBUSY).
 * Errors: 0 or a negative code with err naming the cause (table, position,
 * the destination's error); the checkpoint never moves past a transaction
 * that was not committed. Passwords never appear in messages.
 */
#ifndef REP_H
#define REP_H

#include <stdint.h>
#include <stdio.h>

#include "sl.h"

struct fmt_filter;
struct rep_opts {
	const char *dir;
	const char *dest_url;		/* password from SLUICE_DEST_PASSWORD */
	int follow;
	const char *consumer;		/* checkpoint name; NULL or "": "default";
					 * else sl_consumer_name_check() or an error */
	uint32_t poll_ms;		/* follow: wait between looks; 0: 20 ms */
	unsigned workers;		/* parallel connections; 0: 2 per CPU, 2 to 16 */
	unsigned batch_txns;		/* source transactions per destination transaction
					 * at most; 0: REP_DEFAULT_BATCH_TXNS, 1: one to one */
	uint64_t batch_bytes;		/* ... and packed row bytes; 0: the default */
	int allow_dest_triggers;	/* a destination table with a trigger: warn, not refuse */
	int no_defer_indexes;		/* snapshot tables created whole, not indexed after the load */
	const char *dest_dialect;	/* "mariadb", "mysql", "oceanbase"; NULL: from the
					 * destination's version() (ddl/ddl.h) */
	struct fmt_filter *filter;	/* borrowed; NULL: apply everything. Else each
					 * record of the change stream passes it
					 * (formats/fmt.h "Filters and renames"):
					 * tables, columns, operations left out,
					 * names and DDL renamed */
	/* history (rep_hist.h): stop at a point, start a fresh destination at a
	 * segment, leave transactions out */
	const char *until;		/* GTID, FILE:POS or 'YYYY-MM-DD HH:MM:SS[+HH:MM|Z]'; NULL: none */
	uint64_t from;			/* segment; 0: from the checkpoint */
	const char *const *skip;	/* GTID or SEG:OFFSET[:RECORD] values, each a comma list */
	size_t nskip;
	const char *metrics;		/* --metrics FILE: Prometheus text, rewritten every
					 * few seconds and at the end (rep_metrics.c); NULL: none */
	uint64_t retry_for_ms;		/* --retry-for: how long a lost connection, a
					 * destination restart, read_only, a deadlock are
					 * retried from the checkpoint (sl.h); 0: not at all */
};

struct rep_stats {
	uint64_t transactions;
	uint64_t rows;
	uint64_t ddls;
	uint64_t skipped;		/* records at or before the checkpoint */
	uint64_t filtered;		/* records o->filter dropped */
	uint64_t chunks, chunk_rows;	/* snapshot chunks loaded now, their rows */
	uint64_t chunks_skipped;	/* snapshot chunks a run before had loaded */
	int snapshot_incomplete;	/* DIR/snapshot has no SnapshotEnd yet (no --follow):
					 * loaded what is there, changes not applied */
};

int rep_run(const struct rep_opts *o, struct rep_stats *st, struct sl_err *err);

/* Option checks for cli/ (rep_until.c, rep_skip.c): 0, or -SL_EINVAL_ARG
 * with one line saying what the value should be. */
int rep_until_check(const char *value, struct sl_err *err);
int rep_skip_check(const char *value, struct sl_err *err);

/* `sluice status DIR --dest URL` (rep_skip.c): the transactions replay
 * --skip left out of stream sid on that destination (`sluice`.`skipped`),
 * a line each, to out. 0, or <0 with err (password from SLUICE_DEST_PASSWORD). */
int rep_skipped_print(const char *dest_url, const uint8_t sid[16], FILE *out, struct sl_err *err);

/* A trigger on the destination table `schema`.`table`
 * (information_schema.TRIGGERS), which would fire again on replayed rows:
 * 1 with its name in name (n bytes), 0 when there is none, <0 with err
 * when the lookup failed. db is a connected MYSQL handle. For replay (before
 * a table's first row) and for a precheck. */
struct st_mysql;
int rep_dest_trigger(struct st_mysql *db, const char *schema, const char *table, char *name,
		     size_t n, struct sl_err *err);

#endif
