/*
 * rep_int.h - shared by the .c files of replay/ only.
 *
 * Replay is a pipeline; a transaction goes through one file per stage:
 *   read      rep_read.c      DIR's records in order (rep_run(), the run
 *                             loop, filters, where to start), each handed on
 *   plan      rep_plan.c      transactions joined into batches, their row
 *                             changes into SQL in a worker's query, coalesced
 *                             per key where exact
 *   dispatch  rep_dispatch.c  a closed batch's query to a worker; the waits
 *                             that keep transactions touching a common row
 *                             in source order
 *   commit    rep_commit.c    what committed (the low-water mark), folded
 *                             into the checkpoint row
 * beside them: one destination connection and its thread (rep_worker.c),
 * conflict keys (rep_deps.c), DDL (rep_ddl.c, alone between batches), SQL
 * text (rep_sql.c, rep_checkpoint.c), messages (rep_msg.c), columns the
 * destination computes (rep_cols.c, rep_vers.c), destination triggers
 * (rep_triggers.c), filters (rep_filter.c), and the snapshot's load
 * before it all (rep_snapshot.c, rep_load.c, rep_safe.c).
 *
 * The SQL builders append to a struct sl_buf and never talk to a server, so
 * tests/unit/test_replay.c checks them without a database. They return 0 or
 * a negative code (-SL_ETOOBIG when the buffer's limit is hit, -SL_EFORMAT
 * for a value that cannot be rendered, -SL_EINVAL_ARG for a row that does
 * not match its TableDef, -SL_ECONFIG for a partial image that cannot
 * make its statement: see below).
 *
 * Statement shapes (identifiers always quoted, values from fmt_value_sql()):
 *   INSERT INTO `db`.`t` (`a`,`b`) VALUES (1,2),(3,4)
 *   UPDATE `db`.`t` SET `a`=1,`b`=2 WHERE `a`=1                  (with a PK)
 *   UPDATE `db`.`t` SET ... WHERE `a`<=>1 AND `b`<=>2 LIMIT 1    (no PK)
 *   DELETE FROM `db`.`t` WHERE `a` IN (1,3)          (one-column PK, batched)
 *   DELETE FROM `db`.`t` WHERE (`a`,`b`) IN ((1,2),(3,4))  (composite PK)
 *   DELETE FROM `db`.`t` WHERE `a`<=>1 AND `b`<=>2 LIMIT 1       (no PK)
 * FLOAT columns in a WHERE clause are compared with the exact double value
 * of the float ("%.17g"): the column is widened to double for the
 * comparison, so the 9-digit form would not match.
 */
#ifndef REP_INT_H
#define REP_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "fmt.h"
#include "seg.h"
#include "sl.h"

typedef struct st_mysql MYSQL;
struct ddl_target;

/*
 * The sql_mode of every replay session. MariaDB's own replication applies
 * row events without SQL, so any conversion on the way is a divergence:
 * STRICT_ALL_TABLES makes a value the destination would truncate, round or
 * refuse (a narrower column, an out-of-range number, a character its
 * charset lacks) an error instead of a warning; NO_AUTO_VALUE_ON_ZERO keeps
 * an explicit 0 id; ALLOW_INVALID_DATES stores a date such as 2020-02-30,
 * which the source held, as it is rather than refusing it;
 * NO_ENGINE_SUBSTITUTION never puts a table in another engine. What strict
 * mode leaves a note (a DECIMAL rounded to fewer digits, a DATE given a
 * time) is caught by the warning check (rep_worker.c): a row statement that
 * raises any warning or note is never committed. DDL runs with the source's
 * own sql_mode (rep_ddl.c).
 */
#define REP_SESSION_SQL_MODE \
	"STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,ALLOW_INVALID_DATES"

/* `db`.`table` */
int rep__sql_table(struct sl_buf *out, const Sluice__TableDef *td);
/*
 * Partial row images (binlog_row_image=MINIMAL/NOBLOB at the source; a
 * column missing from an image is a Value of kind ABSENT, formats/fmt.h):
 *   INSERT  names only the after image's present columns (the destination
 *           gives the others their defaults);
 *   UPDATE  SETs only the after image's present columns (none present:
 *           `k`=`k`, a no-op that still matches its row) and finds the row
 *           by the PK, every key column of which must be in the before
 *           image, or, without a PK, by the before image's present columns;
 *   DELETE  likewise finds the row by the PK or the present columns.
 * A before image that lacks a key column, or (no PK) has no column at all,
 * cannot name its row: the builders return -SL_ECONFIG, and
 * rep__row_missing_key() says which column for the message.
 * FULL images give exactly the statements above.
 *
 * Batching INSERTs: every row of one INSERT ... VALUES must have the same
 * present columns as the head it was opened with. The caller keeps the
 * shape (rep__row_shape()) of the open batch next to its table ref and
 * closes the batch before a row whose shape differs, opening the next one
 * with rep__sql_insert_head_row() for that row. Batched DELETEs by PK need
 * no such care: every key tuple has the same columns, or fails.
 */
/* "INSERT INTO `db`.`t` (`a`,`b`) VALUES " naming the columns present in
 * row, in TableDef order (row NULL: every column). */
int rep__sql_insert_head_row(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row);
/* The same for every column: only for rows that are FULL (fmt_row_full()). */
int rep__sql_insert_head(struct sl_buf *out, const Sluice__TableDef *td);
/* "(1,2)": the columns present in row, in TableDef order (all for a FULL image). */
int rep__sql_row_tuple(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row);
/* Append the present-column set of row: nothing for a FULL image, else a
 * bitmap of (n_columns + 7) / 8 bytes (bit i set: column i present). Two
 * rows may share an INSERT batch when their shapes are byte-equal. */
int rep__row_shape(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row);
/* The index of the first primary key column absent from before, or -1. */
int rep__row_missing_key(const Sluice__TableDef *td, const Sluice__Row *before);
/* The whole UPDATE statement for one row change (before and after images). */
int rep__sql_update(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *before,
		    const Sluice__Row *after);
/* The whole single-row DELETE statement (any table; used for tables without PK). */
int rep__sql_delete_one(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *before);
/* Batched DELETE by primary key: head "DELETE FROM `t` WHERE (`a`,`b`) IN (",
 * then one key per row ("(1,2)" or "1" for a one-column key) joined by ',',
 * then ")". Only for tables with a primary key; -SL_ECONFIG when row lacks
 * a key column. */
int rep__sql_delete_in_head(struct sl_buf *out, const Sluice__TableDef *td);
int rep__sql_pk_tuple(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row);

/* sql_mode bit set (as the binlog stores it) to a comma-joined name list.
 * src_mysql: the bits come from MySQL (bit 4 and bits 32+ differ from
 * MariaDB's); dest_mariadb: drop names the destination does not know. */
int rep__sql_mode_names(struct sl_buf *out, uint64_t bits, int src_mysql, int dest_mariadb);

/* 1 when error number errnum from the destination means "this DDL already
 * ran" (table exists, unknown table on DROP, duplicate column, ...). */
int rep__ddl_already_done(unsigned errnum);

/* ---- a pending DDL: did it run? (rep_ddl_seen.c) ----
 * rep__ddl_intent_note(): before the DDL at cur is marked pending, store the
 * destination's schema fingerprint with cur in `sluice`.`ddl_intent`
 * (committed). rep__ddl_intent_ran(): at a restart that finds it pending,
 * *ran = 1 when the schema changed since (the DDL ran before the crash),
 * 0 when not or when there is no row. 0 or a negative code with err. */
struct rep_ctx;
int rep__ddl_intent_note(struct rep_ctx *x, const struct seg_cursor *cur, struct sl_err *err);
int rep__ddl_intent_ran(struct rep_ctx *x, const struct seg_cursor *cur, int *ran,
			struct sl_err *err);

/*
 * Every replay error that quotes a statement is one line in this order:
 * the cause (the server's reason and error number, or what sluice found),
 * then where (ctx: the position, the table, the destination), then the
 * statement abbreviated to REP_SNIPPET bytes and "...":
 *   "<cause> <ctx>: <first 120 bytes of sql>..."
 * so a long statement can never push the reason out of the message.
 * (db.h: db_reason() and db_sql_snippet() make the parts, for db/ too).
 */
int rep__stmt_error(struct sl_err *err, int code, const char *cause, const char *ctx,
		    const char *sql, size_t len);
/* 1 when the server's error errnum after a query of qlen bytes means the
 * query was too big for max_allowed_packet: ER_NET_PACKET_TOO_LARGE
 * (1153) always; CR_SERVER_GONE_ERROR (2006) and CR_SERVER_LOST (2013)
 * for a query of at least 1 MiB or of more than half of max_packet (the
 * server drops the connection on an oversized packet). */
int rep__packet_too_big(unsigned errnum, size_t qlen, size_t max_packet);

/* ---- the checkpoint table (rep_checkpoint.c) ---- */
struct rep_checkpoint {
	int found;			/* 0: no row for this consumer yet */
	uint8_t stream_id[16];
	struct seg_cursor cur;		/* seq 0: nothing applied yet */
	int ddl_pending;		/* 1: a DDL at ddl_cur may or may not have run */
	struct seg_cursor ddl_cur;
	char source_file[256];
	uint64_t source_offset;
	char source_gtid[128];		/* the source position's GTID ("" unknown) */
};

/* The tables (CREATE and migrations) are db/'s: db_sluice_schema_ensure().
 * One stream, one consumer per destination: a second consumer name would
 * apply every transaction again, so `stream_id` is a unique key. */
/* "SELECT consumer FROM `sluice`.`checkpoint` WHERE stream_id=.. AND
 * consumer<>.. LIMIT 1": another consumer of the same stream. */
int rep__sql_checkpoint_others(struct sl_buf *out, const char *consumer, const uint8_t stream_id[16]);
/* "UPDATE `sluice`.`checkpoint` SET ... WHERE consumer=... AND seq=.. AND
 * frame_offset=.. AND record_index=.." moving prev to cur with the source
 * position pos (may be NULL: kept) and ddl_pending set to pending (NULL:
 * cleared). The WHERE clause on the old cursor makes a second replay on
 * the same consumer match no row instead of applying twice. */
int rep__sql_checkpoint_update(struct sl_buf *out, const char *consumer,
			       const struct seg_cursor *prev, const struct seg_cursor *cur,
			       const Sluice__Position *pos, const struct seg_cursor *pending);
/* `sluice`.`applied`: one row per transaction committed after the
 * checkpoint row's cursor, keyed by the cursor of its TxnBegin record and
 * inserted in that transaction. Parallel workers commit out of order; the
 * checkpoint row is the low-water mark below which everything committed,
 * and rep__sql_applied_fold() moves it and deletes the rows it covers. */
/* "INSERT INTO `sluice`.`applied` VALUES (consumer, seq, offset, index)";
 * the tuple alone, for the rest of a batch's transactions (rep_plan.c) */
#define REP_APPLIED_INSERT "INSERT INTO `sluice`.`applied` VALUES "
int rep__sql_applied_insert(struct sl_buf *out, const char *consumer, const struct seg_cursor *begin);
int rep__sql_applied_tuple(struct sl_buf *out, const char *consumer, const struct seg_cursor *begin);
/* "DELETE FROM `sluice`.`applied` WHERE consumer=.. AND cursor <= upto" */
int rep__sql_applied_delete(struct sl_buf *out, const char *consumer, const struct seg_cursor *upto);
/* "SELECT seq,frame_offset,record_index FROM `sluice`.`applied` WHERE consumer=.. ORDER BY ..." */
int rep__sql_applied_select(struct sl_buf *out, const char *consumer);
/* "INSERT IGNORE INTO ... VALUES (consumer, stream_id, 0, 0, 0, ...)" */
int rep__sql_checkpoint_insert(struct sl_buf *out, const char *consumer,
			       const uint8_t stream_id[16]);
/* "SELECT ... FROM `sluice`.`checkpoint` WHERE consumer=..." */
int rep__sql_checkpoint_select(struct sl_buf *out, const char *consumer);
/* Fill cp from the row of rep__sql_checkpoint_select (fields as strings,
 * NULL for SQL NULL). -SL_ECORRUPT when a field does not parse. */
int rep__checkpoint_parse(struct rep_checkpoint *cp, char **row, unsigned nfields,
			  struct sl_err *err);

/* ---- one destination connection and its query (rep_worker.c) ---- */

enum rep_kind { K_INSERT = 1, K_UPDATE, K_DELETE, K_GUARD, K_CHECKPOINT, K_COMMIT, K_OTHER,
	K_REPLACE };

/* One statement of the multi-statement query q. */
struct rep_part {
	size_t off, len;		/* its text in q */
	enum rep_kind kind;
	uint32_t ref;			/* table_ref for row statements */
	uint32_t txn;			/* index in the worker's txns[] */
	int first;			/* the first statement of its transaction in q */
	int64_t expect;			/* affected rows it must report; -1: any */
	struct seg_cursor cur;		/* the first row record it applies */
};

/* What error messages say about a transaction in q. */
struct rep_txn_meta {
	uint64_t tno;
	char gtid[128];
	char after[300];		/* source position of the commit before it */
};

/* Why a query failed, kept raw by the worker thread; the coordinator turns
 * it into the message (it alone reads the table definitions). */
struct rep_fail {
	size_t part;			/* statement index; SIZE_MAX: the query as a whole */
	int count;			/* 1: affected rows were aff, not the part's expect */
	unsigned warnings;		/* >0: the statement raised that many warnings
					 * (msg: the first, "Level Code: text") */
	uint64_t aff;
	unsigned errnum;
	size_t qlen;			/* bytes of the query that failed */
	char msg[512];
};

enum rep_wstate { W_IDLE, W_BUSY, W_FAILED };

/*
 * A connection with its query under construction. The coordinator builds q
 * while the worker is W_IDLE; W_BUSY hands q to the worker's thread, which
 * sends it, checks every result, and goes back to W_IDLE (q empty, done_tno
 * raised) or W_FAILED (q kept, fail set, the open transaction rolled back).
 * A deadlock or lock wait timeout is retried from the start of the
 * transaction it hit, when that start is in q. The control connection
 * (DDL, checkpoint) has no thread: the coordinator calls rep__run_q().
 */
struct rep_worker {
	int id;				/* 0: control connection */
	int load;			/* a bulk-load connection (rep_load.c) */
	MYSQL *db;
	uint64_t session;		/* the server's id of db (CONNECTION_ID()) */
	struct rep_pool *pool;
	pthread_t thread;
	int has_thread;
	char dest[256];			/* redacted DSN */
	int dest_mariadb;
	size_t max_packet;		/* the destination's max_allowed_packet, read at connect */
	size_t stmt_max;		/* one query must stay below max_allowed_packet */
	size_t q_max;		/* flush threshold */

	struct sl_buf q;
	struct rep_part *parts;
	size_t nparts, capparts;
	struct rep_txn_meta *txns;
	size_t ntxns, captxns;
	enum rep_kind open_kind;	/* K_INSERT, K_REPLACE or K_DELETE (by PK), 0: none */
	int open_safe;			/* the open batch is safe mode's (any row count) */
	uint32_t open_ref;
	int64_t open_rows;
	struct sl_buf open_shape;	/* rep__row_shape() of the open INSERT's rows */
	int next_first;			/* the next part starts a transaction */
	unsigned queued_txns;		/* complete transactions in q */
	uint64_t q_tno;			/* highest tno whose COMMIT is in q */
	int txn_open;			/* a transaction has statements but no COMMIT sent */
	/* The batch: consecutive source transactions applied as one
	 * destination transaction (rep_opts.batch_txns). Complete ones whose
	 * COMMIT is not in q yet, the last one's tno, and the bytes of q
	 * they took (q may have been sent in parts meanwhile). */
	unsigned batch_txns;
	uint64_t batch_tno;
	size_t batch_bytes;
	int split_commits;		/* no guards: each COMMIT is sent alone, after the
					 * client checked its transaction's statements */

	/* under pool->mu */
	pthread_cond_t go;		/* the coordinator made it W_BUSY, or quit */
	enum rep_wstate state;
	uint64_t done_tno;		/* every transaction of this worker up to it committed */
	struct rep_fail fail;
};

struct rep_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* a worker finished (only the coordinator waits) */
	int quit;
	int split_commits;		/* for every worker (see struct rep_worker) */
	unsigned n;
	struct rep_worker *w;		/* n workers, ids 1..n */
};

/* Connect w to url (session: utf8mb4, UTC, sql_mode, autocommit=0, READ
 * COMMITTED, foreign_key_checks=0). Password from SLUICE_DEST_PASSWORD. */
int rep__conn_open(struct rep_worker *w, const char *url, struct sl_err *err);
/* Refuses an account whose grants are all on *.* and lack one that replay
 * needs, naming it, before anything is written (rep_grants.c); grants on
 * databases or tables, roles, or no SHOW GRANTS: left to the server. */
int rep__grants_check(struct rep_worker *w, struct sl_err *err);
void rep__conn_close(struct rep_worker *w);
/* Run sql (maybe several statements), discarding results. */
/* sql with FMT_REPLAY_MARK before it, for a DDL replay runs (a capture of
 * the destination leaves it out); the caller frees it. */
char *rep__ddl_marked(const char *sql);
/* FMT_REPLAY_BEACON on w: run just before each DDL, so a capture of the
 * destination knows the DDL as replay's where the server rewrites it. */
int rep__ddl_beacon(struct rep_worker *w, struct sl_err *err);
int rep__exec(struct rep_worker *w, const char *sql, struct sl_err *err);
/* Drain pending results, then ROLLBACK (failures only logged). */
void rep__rollback(struct rep_worker *w);
/* "destination DSN: what: error (errno)" */
int rep__db_error(struct rep_worker *w, const char *what, struct sl_err *err);

/* Building q. part_new starts a statement (a ';' separator first). */
struct rep_part *rep__part_new(struct rep_worker *w, enum rep_kind kind, uint32_t ref,
			       const struct seg_cursor *cur);
void rep__part_end(struct rep_worker *w, struct rep_part *p);
int rep__add_stmt(struct rep_worker *w, enum rep_kind kind, uint32_t ref,
		  const struct seg_cursor *cur, const void *sql, size_t len, int64_t expect);
/* "SET @sluice_rc=~0+(ROW_COUNT()<>n OR @@warning_count<>0)": fails unless
 * the statement before matched n rows and raised no warning (a SET leaves
 * the warnings of the statement before it in place, the next row
 * statement clears them). */
int rep__add_guard(struct rep_worker *w, const struct seg_cursor *cur, int64_t n);
/* Close the open batched statement (INSERT ... VALUES / DELETE ... IN); a
 * REPLACE's rows count twice (rep_plan.c). */
int rep__close_open(struct rep_worker *w);
/* Start the meta of a new source transaction in q (parts added next belong
 * to it). starts: its first statement also starts a destination
 * transaction (a retry after a deadlock begins there); 0 when it joins the
 * open batch. */
void rep__txn_meta(struct rep_worker *w, uint64_t tno, const char *gtid, const char *after,
		   int starts);
/* Send q and check it (see struct rep_worker). 0, or -SL_EAPPLY with w->fail set. */
int rep__run_q(struct rep_worker *w);
/* Forget q (after success or after the failure was reported). */
void rep__q_reset(struct rep_worker *w);

/* Threads: start one per worker (ids 1..n), stop and join them all. */
int rep__pool_start(struct rep_pool *p, unsigned n, const char *url, const char *consumer,
		    struct sl_err *err);
/*
 * Named locks "sluice:<sha1(consumer)>:<i>": the control connection holds
 * i = 0 and worker i holds i for as long as it is connected. A replay that
 * was killed leaves its sessions running on the server until the query in
 * hand is done (MariaDB and MySQL finish a multi-statement query, COMMITs
 * included, after the client is gone), and they keep their locks until
 * then; so a new replay takes lock 0, then waits for every worker lock
 * once, before it reads the checkpoint and `applied`.
 * keep 0: take it and release it again (a wait). -SL_EDB on timeout.
 */
#define REP_MAX_WORKERS 64
int rep__conn_lock(struct rep_worker *w, const char *consumer, unsigned i, int timeout_s, int keep,
		   struct sl_err *err);
void rep__pool_stop(struct rep_pool *p);

/* ---- conflicts between transactions (rep_deps.c) ---- */

/* ---- a batch's planned row changes (rep_plan.c) ---- */

/* One primary key's net change in the open batch; texts in plan.text. */
struct rep_pchange {
	uint32_t ref;
	uint8_t state;			/* rep_plan.c P_* */
	uint32_t next;			/* hash chain: index + 1, 0 ends it */
	uint64_t hash;
	const Sluice__TableDef *td;
	size_t key, key_len;		/* the key tuple */
	size_t before, before_len;	/* the first before image's row tuple */
	size_t after, after_len;	/* the last after image's */
	struct seg_cursor cur;		/* of the first change (messages) */
};

struct rep_plan {
	struct rep_pchange *v;
	size_t n, cap;
	uint32_t *head;			/* buckets: index + 1 */
	size_t mask;
	uint8_t *nref_of;		/* by table_ref: has planned changes */
	size_t nref;
	struct sl_buf text;
	struct sl_buf applied;		/* `applied` tuples of the batch's later transactions */
	unsigned napplied;
	struct seg_cursor applied_cur;	/* the first of them */
};


/*
 * A fixed table of slots, each holding the tno of the newest transaction
 * that touched any key hashing to it (a key: table name plus primary key
 * values, or the table name alone for tables whose rows cannot be told
 * apart safely). Collisions only add waits, never lose one.
 */
/* How a table's rows are keyed (by table_ref), with the table keys of the
 * tables it has foreign keys with. */
struct rep_tmode {
	uint8_t mode;			/* 0 unknown, 1 row keys, 2 table key */
	uint32_t n;
	uint64_t *keys;
};

struct rep_deps {
	uint64_t *slot;
	size_t mask;
	struct rep_tmode *tm;
	size_t ntm;
};
void rep__deps_init(struct rep_deps *d, unsigned bits);
void rep__deps_release(struct rep_deps *d);
/* Forget per-table modes (after DDL). */
void rep__deps_reset_tables(struct rep_deps *d);
/* Record ref's mode and related-table keys (keys malloc'd, taken over). */
void rep__deps_set_mode(struct rep_deps *d, uint32_t ref, uint8_t mode, uint64_t *keys, uint32_t n);
/* The table key of `db`.`name` (what rep__deps_key() gives in mode 2). */
uint64_t rep__deps_table_key(const char *db, const char *name);
/* The key hash of row (a before or after image) of td; mode as above. A key
 * column absent from row is taken from fallback (an update's before image);
 * 0 when a key column is in neither. row NULL or mode 2: the table key. */
uint64_t rep__deps_key(const Sluice__TableDef *td, const Sluice__Row *row,
		       const Sluice__Row *fallback, int mode);

/* ---- the pipeline's state: one struct rep_ctx, its fields by stage ---- */

#define REP_GROUP_TXNS 64		/* transactions per round trip at most */
#define REP_GROUP_BYTES ((size_t)256 << 10)
#define REP_RING 8192			/* transactions not known committed, at most */
#define REP_DEP_BITS 18			/* 256 Ki key slots, 2 MiB */
#define REP_FOLD_MS 1000
#define REP_SNIPPET DB_SNIPPET
#define REP_WHERE_LEN 640
/* --workers by default: 2 per CPU of this machine, 2 to 16. With batches
 * a worker keeps the destination busy for a whole batch, and more of them
 * than the destination has CPUs to run them only add lock waits: on the
 * issue-13 stream (2 CPUs shared with the destination) 16 workers took 2.2 s,
 * 4 took 1.7 s. */
unsigned rep__default_workers(void);
#define REP_PLAN_MAX ((size_t)8 << 20)	/* bytes of planned text, at most about */
#define REP_DEFAULT_BATCH_TXNS 100
#define REP_DEFAULT_BATCH_BYTES ((uint64_t)1 << 20)

/* A transaction handed out and not yet known committed (by tno). */
struct rep_inflight {
	struct rep_worker *w;		/* NULL: committed before a restart, skipped */
	int closed;			/* its TxnCommit was read */
	struct seg_cursor cur;		/* of the TxnCommit */
	char file[256];
	char gtid[128];
	uint64_t offset, time;
};

/* What the destination computes itself in a table, by table_ref
 * (rep_cols.c): its generated columns, and a system-versioned table's
 * period columns (rep_vers.c). */
struct rep_tcols {
	int checked;
	int32_t start, end;		/* ROW START / ROW END column; -1: not versioned */
	uint8_t *drop;			/* per column: REP_DROP_*, left out of every
					 * statement; NULL: none */
	Sluice__TableDef *td;		/* the definition without them */
	Sluice__RowChange change;	/* the change being applied, without them */
	Sluice__Row rows[2];
	Sluice__Value **vals;
};

/* What one round of rep_run() hands the next after a transient failure
 * (rep_read.c): the retry clock, and the connection ids of the round that
 * failed, so that its sessions still holding the consumer's locks (a
 * network cut off without a RST leaves them on the server) are ended. */
struct rep_round {
	struct sl_retry *retry;
	uint64_t ids[1 + REP_MAX_WORKERS];
	unsigned nids;
	int connected;			/* a round reached the destination */
};

struct rep_ctx {
	/* the run, and what every stage knows of the tables */
	const struct rep_opts *o;
	struct rep_round *round;	/* rep_run()'s rounds (rep_read.c) */
	struct rep_stats *st;
	const char *consumer;
	struct rep_worker ctl;		/* checkpoint, DDL, lookups; no thread */
	struct fmt_tables tables;
	struct rep_tcols *tcols;	/* by table_ref (rep_cols.c) */
	size_t ntcols;
	uint64_t *trig_seen;		/* tables checked for triggers (rep_triggers.c) */
	size_t trig_cap, trig_n;
	struct rep_safe *safe;		/* a snapshot was loaded: its hand-off (rep_safe.c) */

	/* read (rep_read.c) */
	struct seg_cursor stop;		/* seq 0, or stop after the record there */
	struct seg_cursor read_upto;	/* the last record read */
	int loaded;			/* DIR holds what the checkpoint needs: register */
	char last_pos[300];		/* source position of the last commit read */

	/* plan (rep_plan.c): the transaction being read and its batch */
	unsigned batch_txns;		/* close a batch at this many transactions */
	uint64_t batch_bytes;		/* ... or at this many bytes of row changes */
	struct rep_worker *cur;		/* the worker being filled */
	struct rep_plan plan;		/* its batch's planned row changes */
	struct seg_cursor *applied;	/* restart: TxnBegins committed after the checkpoint */
	size_t napplied, iapplied;
	int in_txn, skipping, serial;
	int fk_off;			/* this transaction turned foreign_key_checks off */
	uint64_t tno;
	char gtid[128];
	char txn_after[300];		/* last_pos when the current transaction began */
	size_t row_size;		/* packed bytes of the row change being rendered */
	struct sl_buf row;		/* scratch: one row's SQL */
	struct sl_buf shape;		/* scratch: rep__row_shape() of that row */
	int safe_txn;			/* this transaction applies in safe mode */
	int safe_skip;			/* ... and its rows of keyless tables loaded after it: skipped */
	const Sluice__Position *txn_pos;	/* its commit position (safe window only) */

	/* dispatch (rep_dispatch.c) */
	struct rep_pool pool;
	unsigned nworkers;
	struct rep_deps deps;

	/* commit (rep_commit.c) */
	struct rep_checkpoint cp;
	struct rep_inflight *ring;	/* tnos ring_lo .. next_tno-1 */
	uint64_t ring_lo, next_tno;
	struct rep_inflight lwm;	/* everything up to it committed */
	struct seg_cursor folded;	/* what the checkpoint row says */
	uint64_t fold_ms;
	struct rep_hist *hist;		/* --until, --skip, --from (rep_hist.c); NULL: none */
	uint64_t hb_time;		/* time of the last Heartbeat read (capture's clock) */
	struct rep_metrics *metrics;	/* --metrics (rep_metrics.c); NULL until the first write */
};

static inline int rep__cursor_eq(const struct seg_cursor *a, const struct seg_cursor *b)
{
	return a->seq == b->seq && a->offset == b->offset && a->index == b->index;
}

static inline int rep__cursor_cmp(const struct seg_cursor *a, const struct seg_cursor *b)
{
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

extern const char *const rep__kind_name[];
/* "`db`.`table`" of ref (or "table ref N") into out. */
const char *rep__table_name(struct rep_ctx *x, uint32_t ref, char *out, size_t n);
/* "segment S offset O record I (gtid G, after source position P)" */
const char *rep__where_of(const struct seg_cursor *c, const char *gtid, const char *after,
			  char *out, size_t n);
/* The same for the transaction being read. */
const char *rep__where_str(struct rep_ctx *x, const struct seg_cursor *c, char *out, size_t n);
/* rep_filter.c: in through o->filter (formats/fmt.h "Filters and renames"):
 * 0 with *out the record to apply (in itself, or a view valid until the
 * next call while in lives) or NULL when the filter drops it (counted in
 * st->filtered); <0 with err naming the position. A transaction whose rows
 * are all dropped still commits, empty, so its checkpoint moves. */
int rep__filter(struct rep_ctx *x, const Sluice__Record *in, const Sluice__Record **out,
		const struct seg_cursor *cur, struct sl_err *err);
/* The one-line message for w's failed query (w->fail). */
int rep__fail_message(struct rep_ctx *x, struct rep_worker *w, struct sl_err *err);

/* --metrics FILE (rep_metrics.c). rep__metrics_tick(): when the period has
 * passed (or final), the counters of x->st, the stream bytes read, and the
 * lag: now minus the source time the destination is known complete up to
 * (rep__source_time()). final writes, then frees x->metrics. A failed write
 * is logged once; replay goes on. */
void rep__metrics_tick(struct rep_ctx *x, uint64_t stream_bytes, int final);
/* The source time everything committed here is complete up to: the commit
 * time of the low-water mark, or, when everything read is committed, the
 * last Heartbeat's time if later (an idle source). 0: unknown. */
uint64_t rep__source_time(const struct rep_ctx *x);

/* The dispatch stage (rep_dispatch.c). Each returns 0, or the first failure of
 * any worker as err. */
/* The same without closing the batch, and x->cur stays (a query in parts). */
int rep__send(struct rep_ctx *x, struct sl_err *err);
/* 1 rows keyed by primary key, 2 one key for the table (see rep_dispatch.c). */
int rep__table_mode(struct rep_ctx *x, const Sluice__TableDef *td, struct sl_err *err);
int rep__wait_idle(struct rep_ctx *x, struct rep_worker *w, struct sl_err *err);
int rep__wait_all(struct rep_ctx *x, struct sl_err *err);	/* everything sent committed */
int rep__acquire(struct rep_ctx *x, struct sl_err *err);	/* an idle worker as x->cur */
int rep__other_idle(struct rep_ctx *x);
int rep__any_busy_locked(const struct rep_ctx *x);	/* with pool.mu held */
int rep__wait_tno(struct rep_ctx *x, uint64_t t, struct sl_err *err);
/* Order the current transaction after every earlier one touching c's rows. */
int rep__row_deps(struct rep_ctx *x, const Sluice__TableDef *td, const Sluice__RowChange *c,
		  struct sl_err *err);

/* The plan stage (rep_plan.c): a transaction's start (into the open batch
 * of x->cur, or a new one) and its end (which may close the batch); a row
 * change into x->cur's query, planned or as it comes; the plan into q (before the batch's COMMIT, a TableDef
 * that replaces a planned table's, a DDL); make room in q for n bytes,
 * sending what it holds first. */
int rep__txn_begin(struct rep_ctx *x, const Sluice__TxnBegin *b, const struct seg_cursor *cur,
		   struct sl_err *err);
int rep__txn_commit(struct rep_ctx *x, const Sluice__TxnCommit *c, const struct seg_cursor *cur,
		    struct sl_err *err);
int rep__apply_row(struct rep_ctx *x, const Sluice__RowChange *c, const struct seg_cursor *cur,
		   struct sl_err *err);
int rep__plan_emit(struct rep_ctx *x, struct sl_err *err);
/* Plan the `applied` row of a transaction joining the open batch (its
 * first statement is the batch's first transaction's). */
int rep__plan_applied(struct rep_ctx *x, const struct seg_cursor *begin, struct sl_err *err);
void rep__plan_release(struct rep_ctx *x);
/* Hand x->cur's query to the dispatch stage (rep__send()); between
 * transactions with its batch closed, and another worker is filled next.
 * drain: that, then wait until everything sent committed. */
int rep__plan_flush(struct rep_ctx *x, struct sl_err *err);
int rep__plan_drain(struct rep_ctx *x, struct sl_err *err);
/* Room in the ring of transactions not known committed for one more. */
int rep__room_in_ring(struct rep_ctx *x, struct sl_err *err);
int rep__make_room(struct rep_ctx *x, size_t n, uint32_t ref, const struct seg_cursor *cur,
		   struct sl_err *err);

/* The commit stage (rep_commit.c): the low-water mark over what committed
 * (committed_locked: transaction t is, with pool.mu held); the checkpoint
 * row: read it and `applied` at the start, fold the low-water mark into it
 * (pending: mark that DDL pending); register: tell DIR/consumers/ (retention) how far
 * the checkpoint is, advisory (a failure warns). */
void rep__advance_lwm(struct rep_ctx *x);
int rep__committed_locked(struct rep_ctx *x, uint64_t t);
int rep__load_checkpoint(struct rep_ctx *x, const uint8_t sid[16], struct sl_err *err);
int rep__fold(struct rep_ctx *x, const struct seg_cursor *pending, struct sl_err *err);
void rep__register_consumer(struct rep_ctx *x);

/*
 * Columns the destination computes itself (rep_cols.c): generated columns
 * (VIRTUAL, STORED/PERSISTENT) and a system-versioned table's ROW START /
 * ROW END. The source's binlog carries their values, but the destination
 * refuses a statement that names them (MariaDB 1906, MySQL 3105) and
 * computes them from the other columns, so replay leaves them out of every
 * statement: INSERT and REPLACE column lists, UPDATE SET lists, WHERE
 * conditions (a VIRTUAL DOUBLE expression need not compare equal to its
 * binlog value) and the bulk load. The destination is asked once per
 * table definition (table_ref), and again after a DDL.
 *
 * rep__dest_cols(): asks about `db`.`table` on w (autocommit off: ends with
 * COMMIT); drop[i] = REP_DROP_GENERATED or REP_DROP_PERIOD for each column
 * of td the destination computes, 0 for the others,
 * *start / *end the period columns (-1: not versioned). Returns how many
 * columns are dropped, or <0 with err set.
 */
#define REP_DROP_GENERATED 1
#define REP_DROP_PERIOD 2
int rep__dest_cols(struct rep_worker *w, const char *db, const char *table,
		   const Sluice__TableDef *td, uint8_t *drop, int32_t *start, int32_t *end,
		   struct sl_err *err);
/* td without the columns drop marks (columns and key renumbered). Period
 * columns just leave the key (the destination's current rows are unique
 * without them); a key that loses a generated column is dropped whole
 * (*key_lost = 1, MySQL only: MariaDB refuses such a key): the remaining
 * columns find a row, since the generated ones follow from them. */
Sluice__TableDef *rep__def_strip(const Sluice__TableDef *td, const uint8_t *drop, int *key_lost);
void rep__def_strip_free(Sluice__TableDef *d);
/* r without the columns drop marks, into *out with its values in vals
 * (pointers into r; room for r->n_values). r NULL: NULL. */
Sluice__Row *rep__row_strip(const Sluice__Row *r, const uint8_t *drop, Sluice__Row *out,
			    Sluice__Value **vals);

/* The change to apply for c on *td: 1 apply *c on *td (both replaced when
 * the table has columns the destination computes; valid until the next
 * call), 0 skip it (a history row of a versioned table), <0 error. Asks
 * the destination once per table_ref; forget() after a TableDef for ref,
 * reset() after a DDL. */
int rep__cols_map(struct rep_ctx *x, const Sluice__TableDef **td, const Sluice__RowChange **c,
		  const struct seg_cursor *cur, struct sl_err *err);
void rep__cols_forget(struct rep_ctx *x, uint32_t ref);
void rep__cols_reset(struct rep_ctx *x);
void rep__cols_release(struct rep_ctx *x);

/* System-versioned tables (rep_vers.c): v->change (a copy of the change
 * for table t, period columns v->start / v->end) becomes the current-row
 * change to apply. 1: apply it, 0: skip it (a history row), <0: error. */
int rep__vers_change(struct rep_ctx *x, const Sluice__TableDef *t, struct rep_tcols *v,
		     const struct seg_cursor *cur, struct sl_err *err);

/* Before the first row of td's table in this run: refuse a destination
 * table with a trigger (rep_triggers.c; rep.h rep_dest_trigger()). */
int rep__check_triggers(struct rep_ctx *x, const Sluice__TableDef *td, struct sl_err *err);
void rep__triggers_release(struct rep_ctx *x);

/* The destination's dialect and version for ddl_convert (rep_ddl.c): its
 * version() and @@version_comment, with --dest-dialect over them (the
 * version kept only when the server is of that dialect). Captured DDL and
 * the snapshot's schema objects both convert for this target. */
int rep__dest_target(struct rep_ctx *x, struct ddl_target *t, struct sl_err *err);

/* A DDL record, alone, after every earlier transaction (rep_ddl.c). */
int rep__apply_ddl(struct rep_ctx *x, const Sluice__Ddl *d, const struct seg_cursor *cur,
		   struct sl_err *err);

#endif
