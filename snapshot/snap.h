/*
 * snap.h - the consistent snapshot: every selected table of the source read
 * at one binlog position into DIR/snapshot (issue 11).
 *
 * snap_run() writes the snapshot stream (CONTRACT11.md "Stream layout"),
 * a stream directory of its own in DIR/snapshot with the source identity
 * capture uses (db_source_identity()):
 *   SchemaObject ...        definitions, before any row (run 1; a rerun
 *                           writes only those still missing): databases,
 *                           tables without their foreign keys, procedures
 *                           and functions, views in dependency order, then
 *                           triggers, foreign keys and events (deferred:
 *                           created at switchover); each through
 *                           ddl_convert() when dest_dialect is given, every
 *                           conversion logged as a warning and recorded
 *   SnapshotBegin           one per run, with its P1
 *   [TableDef] SnapshotChunk RowChange(INSERT)* SnapshotChunkEnd   chunks
 *   SnapshotEnd             every table read; position = highest P1
 * Each unit ends with seg_writer_txn_end() at the run's P1, so every
 * finished chunk is durable on its own.
 *
 * Reading (snap_read.c): `threads` connections hold one consistent snapshot
 * (db_snapshot_open(): no lock on MariaDB when they agree on a position,
 * else a brief FLUSH TABLES WITH READ LOCK). Tables are cut into key ranges
 * (the primary key, else a NOT NULL unique key): a dense single integer key
 * by arithmetic over MIN..MAX, any other key (composite, strings in their
 * collation, temporal, a sparse integer key) by walking the index
 * (db_key_next_bound()). A key dense overall but skewed (a range that comes
 * back with under 1/8 of its planned rows) is walked from there on. Every reader takes the next range of whatever
 * table has work, so a big table is read by all of them. A range is read
 * with `ORDER BY key LIMIT n` and cut at SNAP_CHUNK_MAX_BYTES of rows as
 * read (or 4 times that in memory): what is left of it is the same reader's
 * next chunk. Chunk sizes start at 4 MiB of rows
 * by the table's AVG_ROW_LENGTH and follow the time each chunk took towards
 * chunk_ms (at most twice or half the rows each time). A reader holds at
 * most two chunks (one being written, one being read), never a table, and
 * the blocks of its written chunks for its next ones (snap_int.h, snap_pool).
 * A reader packs each row into its RowChange record as it reads it
 * (fmt_pack_insert(): the row's text is copied once, into the record); the
 * writer appends a chunk's packed records as they are (seg_writer_append_rows()).
 * Writing (snap_write.c, the calling thread): the chunks of one table are
 * written in key order (a reader whose chunk is ahead waits), so a table's
 * last SnapshotChunkEnd.next_key is its resume point.
 * Resume (snap_resume.c): a rerun reads DIR/snapshot, keeps every finished
 * chunk and continues each table after its last one in a new run (run + 1,
 * its own P1): no finished chunk is read again; each chunk read is logged
 * at INFO ("snapshot: `db`.`t` chunk 3 rows 10000 (run 2)"). A keyless
 * table is one streamed SELECT cut into chunks; a rerun reads it again from
 * its start (SnapshotChunk.restart, a warning says so). A stream with its
 * SnapshotEnd makes snap_run() a no-op that says so.
 * Tests: SLUICE_SNAPSHOT_CHUNK_ROWS=N in the environment fixes every chunk
 * at N rows (no adaptation), so a small table makes many chunks.
 * Load: --max-threads-running N pauses the readers while the source's
 * Threads_running is above N (looked at before the readers start, then
 * every 500 ms; logged once per pause; the probe's own query counts).
 * Stops: sl_stop_requested (SIGTERM/SIGINT) ends the run after the chunks in
 * flight (written when they are next in key order, else dropped): the
 * stream stays resumable; -SL_EINTR_STOP. A lost connection loses the
 * snapshot's view: an error (-SL_EDB) naming the table; a rerun resumes.
 * DDL on a table while it is read is an error too (the server refuses the
 * read: "table definition has changed").
 *
 * Errors: 0 or a negative code with err: one line naming the cause.
 * Threads: snap_run() starts `threads` readers and a Threads_running probe;
 * the caller's thread writes.
 */
#ifndef SNAP_H
#define SNAP_H

#include <stdint.h>

#include "fmt.h"
#include "sl.h"

#define SNAP_DEFAULT_THREADS 2
#define SNAP_DEFAULT_CHUNK_MS 500
#define SNAP_CHUNK_START_BYTES ((uint64_t)4 << 20)	/* first chunk: rows that fit */
#define SNAP_CHUNK_MAX_BYTES ((uint64_t)8 << 20)	/* a chunk never holds more */

struct snap_opts {
	const char *source_url;		/* password from SLUICE_SOURCE_PASSWORD */
	const char *dir;		/* DIR: the stream goes into DIR/snapshot */
	unsigned threads;		/* readers; 0: SNAP_DEFAULT_THREADS */
	const char *include, *exclude;	/* table patterns (sl_table_selected()) */
	unsigned max_threads_running;	/* 0: never pause */
	const char *dest_dialect;	/* NULL: definitions as the source gives them */
	unsigned chunk_ms;		/* target time per chunk; 0: SNAP_DEFAULT_CHUNK_MS */
	uint64_t segment_size;		/* 0: store default */
};

struct snap_stats {
	uint32_t run;			/* this run's number (0: nothing was to do) */
	int already_complete;		/* the stream had its SnapshotEnd */
	uint64_t tables;		/* tables in the snapshot (all runs) */
	uint64_t tables_read;		/* tables this run read (some or all of) */
	uint64_t chunks, rows, bytes;	/* read by this run */
	uint64_t chunks_kept;		/* finished by earlier runs, not read again */
	uint64_t schema_objects;	/* written by this run */
	double seconds;
};

int snap_run(const struct snap_opts *o, struct snap_stats *st, struct sl_err *err);

/* ---- the value converter (snap_value.c), for tests ----
 * A column as information_schema describes it (db.h struct db_column)
 * becomes the ColumnDef capture writes for it (binlog type code, metadata,
 * charset, collation, labels); a value as the text protocol sends it with
 * character_set_results = NULL becomes the Value capture would decode from
 * the binlog. snap_select_expr() is what to select for the column (FLOAT
 * widened to DOUBLE so its text is exact); ENUM/SET columns need a second
 * expression, "col+0" (their index or bitmask: *extra 1). */
struct db_column;
enum snap_vkind {
	SNAP_V_INT, SNAP_V_UINT, SNAP_V_FLOAT, SNAP_V_DOUBLE, SNAP_V_DECIMAL, SNAP_V_STRING,
	SNAP_V_BYTES, SNAP_V_DATE, SNAP_V_TIME, SNAP_V_DATETIME, SNAP_V_TIMESTAMP, SNAP_V_YEAR,
	SNAP_V_BIT, SNAP_V_ENUM, SNAP_V_SET, SNAP_V_JSON, SNAP_V_GEOMETRY,
};
struct snap_col {
	Sluice__ColumnDef def;		/* pointers into the strings below */
	ProtobufCBinaryData *labels;	/* ENUM/SET labels */
	size_t nlabels;
	enum snap_vkind kind;		/* how a value converts */
	int key_lit;			/* SNAP_LIT_*: how a key value is quoted */
	char *name, *charset;
};
enum { SNAP_LIT_NUM, SNAP_LIT_STR, SNAP_LIT_BIN, SNAP_LIT_TEMPORAL, SNAP_LIT_NONE };
void snap_col_init(struct snap_col *c, const struct db_column *dc, int mariadb);
void snap_col_release(struct snap_col *c);
/* The SELECT expression(s) of column c (ident quoted) appended to out;
 * *extra = 1 when an "ident+0" expression must follow at the end. */
int snap_select_expr(const struct snap_col *c, const char *ident, struct sl_buf *out, int *extra);
/* Value v of column c from text t (len bytes; t NULL = SQL NULL) and, for
 * ENUM/SET, num (the "+0" text). Bytes v->b points into t (the caller
 * keeps t alive). 0 or -SL_EFORMAT naming the column. */
int snap_value_from_text(const struct snap_col *c, const char *t, unsigned long len,
			 const char *num, Sluice__Value *v, struct sl_err *err);
/* The SQL literal of a key value of column c (text as the server sent it):
 * numbers as they are, strings as _charset X'..' (the column's collation
 * decides the comparison), bytes as X'..', temporal values quoted. */
int snap_key_literal(const struct snap_col *c, struct sl_buf *out, const char *v,
		     unsigned long len);
/* "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) to seconds and microseconds. */
int snap_utc_seconds(const char *t, size_t len, int64_t *sec, uint32_t *usec);

/* ---- chunk sizing (snap_plan.c), for tests ----
 * Rows of the first chunk of a table with avg_row_len bytes per row, and
 * the rows of the next chunk after one of rows rows took ms milliseconds
 * (bytes of them): towards target_ms, at most x2 or /2, at most
 * SNAP_CHUNK_MAX_BYTES of rows, at least 1. */
uint64_t snap_chunk_rows_first(uint64_t avg_row_len);
uint64_t snap_chunk_rows_next(uint64_t rows, uint64_t ms, uint64_t bytes, uint64_t target_ms);
/* Is a single integer key with est rows over [min, max] dense enough for
 * arithmetic ranges (else its boundaries are walked)? */
int snap_int_key_dense(__int128 min, __int128 max, uint64_t est);

#endif
