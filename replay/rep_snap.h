/*
 * rep_snap.h - shared by replay/'s snapshot files only: the bulk load of a
 *              snapshot stream (DIR/snapshot, formats/sluice.proto "snapshot
 *              stream") and the safe-mode hand-off to the change stream.
 *
 *   rep_load.c      one chunk's rows into LOAD DATA text (rep__load_text())
 *                   or multi-row INSERTs, and one chunk loaded on one
 *                   connection in one transaction with its
 *                   `sluice`.`snapshot_chunks` row (rep__load_chunk())
 *   rep_snapshot.c  rep__snapshot_phase(): schema objects, the reader that
 *                   follows DIR/snapshot, the load workers, deferred
 *                   indexes, keyless restarts, SnapshotEnd
 *   rep_safe.c      positions compared (rep__pos_cmp()) and which change
 *                   transactions apply in safe mode (rep__safe_*)
 *
 * LOAD DATA text (rep__load_text): FIELDS TERMINATED BY '\t' ESCAPED BY '\\'
 * LINES TERMINATED BY '\n', CHARACTER SET binary so every byte reaches the
 * column unchanged. In a field \ TAB LF and NUL are escaped (\\ \t \n \0),
 * NULL is \N. Values: numbers and temporal values as text (TIMESTAMP in
 * UTC, the session's time zone; YEAR 0 as 0000), strings and bytes raw.
 * Columns whose value needs an expression are read into a user variable
 * and set from it: BIT, and ENUM/SET given by number, as CAST(@v AS
 * UNSIGNED); JSON as CONVERT(@v USING utf8mb4) (MySQL refuses binary JSON
 * text); GEOMETRY (SRID + WKB, the server's own form) as @v. A chunk whose
 * rows do not fit one plan (a partial image, a column given both as label
 * and as number) returns -SL_EFORMAT from rep__load_plan_row(): it goes the
 * INSERT way, which takes anything replay takes. Columns the destination
 * computes (generated columns, rep_int.h rep__dest_cols()) are read into
 * @discard from a \N field (RL_DISCARD) and left out of the INSERTs.
 */
#ifndef REP_SNAP_H
#define REP_SNAP_H

#include "rep_int.h"

/* ---- one chunk (rep_load.c) ---- */

/* How each column of a chunk is loaded (see above). */
enum rep_lcol { RL_DIRECT = 0, RL_UNSIGNED, RL_JSON, RL_VAR, RL_DISCARD };

/* A chunk's rows are kept packed, as the stream holds them (the Record of
 * each, seg_reader_next_raw()), one after the other in raw: the reader
 * copies them without decoding, and the loader that takes the chunk
 * reads one row at a time (rep__chunk_row()), renders it
 * and drops it. The memory a queued chunk holds is what it says (bytes). */
struct rep_chunk {
	Sluice__TableDef *td;		/* owned */
	uint8_t *drop;			/* owned, per column of td: REP_DROP_* (the
					 * destination computes it); NULL: none */
	char *db, *table;		/* owned */
	uint64_t index, rows;
	uint32_t run;
	int restart, table_done;
	uint8_t *raw;			/* the rows' packed records, owned */
	size_t raw_len, raw_cap;
	size_t *off;			/* row r is raw[off[r] .. off[r + 1]), n + 1 of them */
	size_t n, off_cap;
	uint64_t bytes;			/* memory held by raw and off, for the memory bound */
	uint64_t maxrow;		/* packed size of its largest row (REP_LOAD_BIG_ROW) */
};
void rep__chunk_release(struct rep_chunk *c);
/* Append one packed row record to c (the reader). */
void rep__chunk_add(struct rep_chunk *c, const uint8_t *body, size_t len);
/* Row r of c (its RowChange's after image, which may be NULL), read in
 * place with rv (fmt_rowview_decode()) or, in a form that does not read,
 * decoded with a's memory: valid until the next call with rv and a, and a
 * reset of a. -SL_ECORRUPT naming the chunk and row when it does not decode. */
struct rep_rowdec {
	struct fmt_rowview view;
	struct fmt_arena arena;
};
void rep__rowdec_init(struct rep_rowdec *d);
void rep__rowdec_release(struct rep_rowdec *d);
int rep__chunk_row(const struct rep_chunk *c, size_t r, struct rep_rowdec *d,
		   const Sluice__Row **row, struct sl_err *err);

/* The plan of a chunk's rows: one rep_lcol per column into
 * plan[td->n_columns], row by row: rep__load_plan_init() (drop: the
 * columns the destination computes, or NULL; seen: td->n_columns bytes of
 * scratch), then rep__load_plan_row() for every row, which returns
 * -SL_EFORMAT when LOAD DATA cannot take the rows so far (use INSERTs). */
void rep__load_plan_init(const Sluice__TableDef *td, const uint8_t *drop, enum rep_lcol *plan,
			 uint8_t *seen);
int rep__load_plan_row(const Sluice__TableDef *td, const Sluice__Row *row, enum rep_lcol *plan,
		       uint8_t *seen);
/* "LOAD DATA LOCAL INFILE 'sluice-chunk' INTO TABLE `db`.`t` CHARACTER SET
 * binary FIELDS ... (`a`,@v1) SET `b`=CAST(@v1 AS UNSIGNED)" */
int rep__load_stmt(struct sl_buf *out, const Sluice__TableDef *td, const enum rep_lcol *plan);
/* One row as a line of LOAD DATA text, appended to out. */
int rep__load_text(struct sl_buf *out, const Sluice__TableDef *td, const enum rep_lcol *plan,
		   const Sluice__Row *row);

/* What rep__load_chunk() needs besides the chunk. */
struct rep_loader {
	struct rep_worker w;		/* the connection (DB_ROLE_REPLAY_LOAD) */
	char sid[33];			/* hex stream id of DIR/snapshot */
	int *no_local;			/* shared: the server refused LOAD DATA LOCAL */
	pthread_mutex_t *mu;		/* guards *no_local */
	struct sl_buf text, sql;	/* scratch, kept from chunk to chunk */
	struct rep_rowdec dec;		/* the row being rendered (rep__chunk_row()) */
	const uint8_t *feed;		/* the local-infile callbacks read from here */
	size_t feed_len, feed_off;
};
int rep__loader_open(struct rep_loader *l, const char *url, const char *consumer, unsigned id,
		     struct sl_err *err);
void rep__loader_close(struct rep_loader *l);
/* Load c in one transaction with its snapshot_chunks row (and, for a
 * restart, the forgetting of the table's earlier rows there). 0 when
 * loaded, 1 when another session had recorded it (nothing changed), <0. */
int rep__load_chunk(struct rep_loader *l, const struct rep_chunk *c, struct sl_err *err);

/* ---- the snapshot phase (rep_snapshot.c) ---- */

/* See rep.h. Leaves x->safe set (SnapshotEnd read) or NULL (no snapshot,
 * or incomplete: st->snapshot_incomplete). */
int rep__snapshot_phase(struct rep_ctx *x, struct sl_err *err);

/* ---- positions and safe mode (rep_safe.c) ---- */

/* A keyless table read whole by one snapshot run: its rows are the source's
 * at that run's position, so changes up to it are in them already. */
struct rep_safe_table {
	char *db, *name;
	Sluice__Position *p1;
};

struct rep_safe {
	Sluice__Position *end;		/* SnapshotEnd.position */
	struct seg_reader *peek;	/* reads ahead of the coordinator for commit positions */
	int opened, over;		/* over: a commit past end was seen, strict from then on */
	Sluice__Position *pos;		/* the commit position of the transaction being applied */
	struct rep_safe_table *keyless;
	size_t nkeyless;
};
void rep__safe_release(struct rep_safe *s);
/* At a TxnBegin at cur: sets x->safe_txn (and x->txn_pos) for it. */
int rep__safe_begin(struct rep_ctx *x, const struct seg_cursor *cur, struct sl_err *err);
/* In the safe window, a row of td: 1 when it is to be skipped (a keyless
 * table whose rows were read after this transaction), else 0. */
int rep__safe_skip_row(struct rep_ctx *x, const Sluice__TableDef *td);

/* Compare two positions of one source: binlog file sequence number (the
 * digits after the last '.' of the file name), then offset. A file with no
 * number compares by name. */
int rep__pos_cmp(const Sluice__Position *a, const Sluice__Position *b);

#endif
