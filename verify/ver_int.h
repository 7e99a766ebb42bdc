/*
 * ver_int.h - shared by the verify/ sources only: connections, table descriptions,
 * the list of differences.
 *
 * A struct ver_table is built once by the main thread (ver__tables_load())
 * and then only read by workers, except its counters, which only the worker
 * that owns the table writes and the progress line reads: both through the
 * atomic ver__count()/__atomic loads. The difference list (struct ver_diffs)
 * is shared and guarded by its mutex; the stop flag is atomic.
 *
 * Files, each calling only files above it (no circles):
 *   ver_sql.c     SQL text without a server: literals, values for people,
 *                 the row hash expression, key WHERE clauses
 *   ver_diffs.c   the shared list of differences
 *   ver_conn.c    the two connections (through db/), running a query
 *   ver_tables.c  table selection and pairing, schema comparison
 *   ver_diff.c    row diffs: range merge-joins, keyless multisets, rechecks
 *   ver_fix.c     correction SQL and applying it
 *   ver_chunk.c   one table: checksum ranges, then diffs where they differ
 *   ver_report.c, ver_run.c   the report; the run (threads, progress)
 */
#ifndef VER_INT_H
#define VER_INT_H

#include <mysql.h>
#include <pthread.h>

#include "db.h"
#include "ver.h"

struct ver_conn {
	MYSQL *db;
	const char *side;	/* "source" / "destination", for messages */
};

/* Opens a connection (db_connect(), role VERIFY_SOURCE or VERIFY_DEST by side:
 * utf8mb4, binary results, UTC). */
int ver__conn_open(struct ver_conn *c, const struct sl_dsn *d, const char *side,
		   struct sl_err *err);
void ver__conn_close(struct ver_conn *c);
/* Runs a statement that returns no rows (or discards them). */
int ver__exec(struct ver_conn *c, const char *sql, size_t len, struct sl_err *err);
/* Runs a query and stores the whole result (small results only). */
int ver__query(struct ver_conn *c, const char *sql, MYSQL_RES **res, struct sl_err *err);
int ver__db_error(struct ver_conn *c, const char *what, struct sl_err *err);

struct ver_col {
	char *name, *data_type, *column_type, *charset, *collation, *dflt, *extra;
	int nullable, has_default;
	unsigned long maxlen;	/* character_maximum_length */
	enum ver_enc enc;
	enum ver_lit lit;
	int convert;		/* charsets differ between the sides */
};

struct ver_table {
	char *sdb, *stbl, *ddb, *dtbl;
	char *sq, *dq;		/* `db`.`t` on each side */
	struct ver_col *cols;	/* columns both sides have, in source order */
	size_t ncols;
	size_t *key;		/* indexes into cols: the key used for ranges */
	size_t nkey;
	int int_key;		/* one integer column: arithmetic ranges */
	int unsigned_key;
	char *hash_expr;	/* ver_hash_sql() of cols (keyless tables: MD5 form) */
	char *select_list;	/* sort keys, values, previews (ver_shape order) */
	size_t nbig;
	size_t *big;		/* indexes of VER_ENC_BIG columns (previews) */
	enum ver_cmp *cmp;
	int only_src, only_dst;	/* the table exists on one side only */
	int schema_same;	/* no schema difference: CHECKSUM TABLE is comparable */
	int checksum_exact;	/* fewer than two variable-length columns: CHECKSUM TABLE
				 * hashes their bytes without lengths, so 'p','#q' and
				 * 'p#','q' give one sum; with two it proves nothing */
	int by_table_checksum;	/* found equal by CHECKSUM TABLE (rows are estimates) */
	/* written by the worker that owns the table */
	uint64_t rows_src, rows_dst, chunks, chunks_diff;
};

/* One difference. Keys and values are copies (abbreviated for display). */
struct ver_diff {
	enum ver_kind kind;
	struct ver_table *t;
	char **key;		/* nkey raw key values (exact; for SQL), NULL = SQL NULL */
	unsigned long *keylen;
	char *detail;		/* schema text, or the differing columns as JSON (owned) */
	char *human;		/* the differing columns for people (owned, may be NULL) */
	uint64_t hash;		/* keyless tables: row hash */
	int64_t count;		/* keyless: copies more on one side */
	int keyless;
	int resolved;
};

struct ver_diffs {
	pthread_mutex_t mu;
	struct ver_diff *v;
	size_t n, cap;
	uint64_t dropped;	/* beyond VER_MAX_KEPT_DIFFS */
};

/* The shared stop flag and the progress counters are read by other threads
 * while their owner writes them: every access is atomic (relaxed: they
 * carry no other data). */
static inline int ver__stopped(const int *stop) { return __atomic_load_n(stop, __ATOMIC_RELAXED); }
static inline void ver__stop(int *stop) { __atomic_store_n(stop, 1, __ATOMIC_RELAXED); }
static inline void ver__count(uint64_t *counter, uint64_t n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}
size_t ver__diffs_count(struct ver_diffs *d);	/* n, under the mutex */

void ver__diffs_add(struct ver_diffs *d, struct ver_diff *x);	/* takes x's contents */
void ver__diff_release(struct ver_diff *x);
void ver__diffs_release(struct ver_diffs *d);

/* ---- schema (ver_conn.c) ---- */
struct ver_tables {
	struct ver_table *v;
	size_t n;
};
/* Lists both sides, pairs tables, compares their schemas (differences into
 * diffs) and prepares the SQL of each pair. */
int ver__tables_load(const struct ver_opts *o, struct ver_conn *src, struct ver_conn *dst,
		     int crc, struct ver_tables *tt, struct ver_diffs *diffs, struct sl_err *err);
void ver__tables_release(struct ver_tables *tt);

/* ---- chunks and diffs (ver_chunk.c, ver_diff.c) ---- */
struct ver_ctx {
	const struct ver_opts *o;
	struct ver_diffs *diffs;
	int crc;
	int table_checksum;	/* same server flavor and version: try CHECKSUM TABLE first */
	int *stop;		/* set by any thread: ver__stopped()/ver__stop() only */
};
/* Compares one table pair on the two connections. */
int ver__table_check(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		     struct ver_conn *dst, struct sl_err *err);
/* Reads and merge-joins the range WHERE where (may be "1") of a keyed table. */
int ver__range_diff(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		    struct ver_conn *dst, const char *where, struct sl_err *err);
/* Compares hash groups of a keyless table. */
int ver__keyless_diff(struct ver_ctx *x, struct ver_table *t, struct ver_conn *src,
		      struct ver_conn *dst, struct sl_err *err);
/* Reads the row of d again on both sides; d->resolved = 1 if equal now
 * (a changed difference gets its new detail). */
int ver__recheck_one(struct ver_ctx *x, struct ver_diff *d, struct ver_conn *src,
		     struct ver_conn *dst, struct sl_err *err);
/* `k1`=lit AND `k2`=lit for the key of d. */
int ver__key_where(struct sl_buf *out, const struct ver_table *t, char *const *key,
		   const unsigned long *len);

/* ---- fix (ver_fix.c) ---- */
int ver__fix(const struct ver_opts *o, struct ver_diffs *diffs, int crc, struct ver_conn *src,
	     struct ver_conn *dst, struct ver_stats *st, struct sl_err *err);

/* Fills the detail of a keyless difference with one of its rows. */
int ver__describe_keyless(struct ver_diff *d, struct ver_conn *src, struct ver_conn *dst,
			  struct sl_err *err);

/* ---- reports (ver_report.c) ---- */
void ver__report_human(const struct ver_opts *o, const struct ver_stats *st,
		       const struct ver_diffs *diffs, const struct ver_tables *tt);
int ver__report_json(const struct ver_opts *o, const struct ver_stats *st,
		     const struct ver_diffs *diffs, const struct ver_tables *tt,
		     struct sl_err *err);

#endif
