/*
 * snap_int.h - inside the snapshot: shared by the .c files of snapshot/ only.
 *
 * Files, each calling only those above it in this list:
 *   snap_value.c   column types and values (snap.h)
 *   snap_plan.c    tables, keys, chunk sizing, handing out the next range
 *   snap_resume.c  what an earlier run left in DIR/snapshot
 *   snap_write.c   the writer: units, the queue of read chunks, key order
 *   snap_schema.c  SchemaObject records (definitions, conversions)
 *   snap_read.c    reader threads and the Threads_running probe
 *   snap_run.c     snap_run(): connections, snapshot, the run
 * Locking: one mutex (ctx->mu) guards the planning state of every table and
 * the queue; a reader never holds it while it talks to the server.
 */
#ifndef SNAP_INT_H
#define SNAP_INT_H

#include <pthread.h>
#include <stdint.h>

#include "db.h"
#include "fmt.h"
#include "seg.h"
#include "snap.h"

/* A range of a table handed to a reader: (lo, hi], either side open (v NULL). */
struct snap_range {
	struct snap_table *t;
	uint64_t seq;			/* the table's ranges are numbered in key order */
	struct db_key_val lo, hi;	/* owned */
	uint64_t rows;			/* planned rows (the LIMIT) */
};

struct snap_table {
	const struct db_table *dt;
	uint32_t ref;
	char *qname;			/* `db`.`t` */
	struct snap_col *cols;
	size_t ncols;
	char **ident;			/* quoted column names */
	char *select;			/* "SELECT ... FROM `db`.`t`" */
	size_t nextra;			/* ENUM/SET "+0" expressions after the columns */
	size_t *extra_of;		/* column of each extra */
	struct db_key key;		/* nkey columns; key.n 0: keyless */
	const char **key_ident;
	Sluice__TableDef def;
	Sluice__ColumnDef **colp;
	uint32_t *pk;
	/* planning: under ctx->mu */
	int walk;			/* boundaries by walking the key (else arithmetic) */
	int arith_ready;		/* MIN/MAX known */
	__int128 imax, icur;		/* arithmetic: ranges so far end at icur */
	__int128 ispan;			/* arithmetic: the key span the row estimate covers */
	int lo_open;			/* the next range has no lower bound */
	struct db_key_val next_lo;	/* else its lower bound (exclusive) */
	int planned_all;		/* the last range is handed out */
	int planning;			/* a reader is finding the next boundary */
	const void *owner;		/* the reader that took it first (snap__next_range()) */
	uint64_t chunk_rows;		/* adaptive */
	uint64_t seq_next;
	/* writing: the writer only */
	uint64_t w_seq, w_sub;		/* the chunk to write next */
	uint64_t next_index;		/* SnapshotChunk.index across runs */
	int restart;			/* keyless, begun by an earlier run */
	uint64_t def_seq;		/* segment its TableDef was last written to */
	int done;			/* its last chunk is in the stream */
	uint64_t rows_total;		/* rows in the stream (this attempt of a keyless table) */
};

/* Memory of one chunk's rows: blocks that never move, each holding whole
 * packed records (SNAP_BLOCK bytes, or one larger record). */
struct snap_block {
	struct snap_block *next;
	size_t len, cap;
	uint8_t data[];
};
#define SNAP_BLOCK ((size_t)256 << 10)
/* A reader's free blocks: the blocks of its chunks once written, for its
 * next chunks (no fresh pages, no mmap/munmap per chunk). Only the reader's
 * thread touches it; it keeps at most SNAP_POOL_MAX blocks (the rows of
 * about two full chunks), so a reader holds at most its two chunks (the one
 * being read and the one being written) and that much besides. */
struct snap_pool {
	struct snap_block *free;
	size_t n;
};
#define SNAP_POOL_MAX (2 * SNAP_CHUNK_MAX_BYTES / SNAP_BLOCK)

/* One chunk read, handed from a reader to the writer. */
struct snap_chunk {
	struct snap_chunk *next;
	struct snap_table *t;
	uint64_t seq, sub;
	int range_done;			/* the range is read to its end */
	int table_done;
	char *where;
	struct db_key_val hi;		/* upper bound read (v NULL: none) */
	size_t nrows;
	/* nrows packed Records (varint size + RowChange INSERT, as the segment
	 * writer frames them: seg_writer_append_rows()) in block order */
	struct snap_block *blocks, *tail;
	struct snap_pool *pool;		/* its reader's, where its blocks go back (NULL: none) */
	uint64_t bytes;			/* row bytes as read */
	uint64_t mem;			/* bytes held */
	int written;
	int abandoned;			/* its reader stopped waiting: the writer frees it */
};

struct snap_ctx {
	const struct snap_opts *o;
	struct snap_table *t;		/* in reading order (largest first) */
	size_t nt;
	pthread_mutex_t mu;
	pthread_cond_t cv_ready, cv_written;
	struct snap_chunk *ready;	/* submitted, not yet written */
	unsigned readers;		/* still running */
	/* stop, paused and finished are read by threads that do not hold mu
	 * (polls between rows, the probe): atomics, so those reads are defined */
	atomic_int stop;
	int failed;
	struct sl_err err;		/* the first failure */
	atomic_int paused;		/* Threads_running above the limit */
	atomic_int finished;		/* the run is over (the probe stops) */
	/* the writer */
	struct seg_writer *w;
	Sluice__Position *p1;
	uint32_t run;
	struct snap_stats *st;
	uint64_t chunk_ms;
	uint64_t fixed_rows;		/* SLUICE_SNAPSHOT_CHUNK_ROWS (tests): rows per chunk */
};

/* ---- snap_plan.c ---- */
/* Sets t up for dt (columns, key, SELECT, TableDef with ref); mariadb: the flavor. */
void snap__table_init(struct snap_table *t, const struct db_table *dt, uint32_t ref, int mariadb);
void snap__table_release(struct snap_table *t);
/* Resume point: the next range starts after key (n values), or at the start. */
void snap__table_resume(struct snap_table *t, char *const *key, const unsigned long *len, size_t n);
/* Under ctx->mu: the next range of a table with work into *r (1), or 0 when
 * no table has work now (*wait 1: some table is being planned, try again).
 * A walked boundary or a first MIN/MAX is queried on m with ctx->mu released. */
int snap__next_range(struct snap_ctx *c, const void *owner, MYSQL *m, const char *who, struct snap_range *r,
		     int *wait, struct sl_err *err);
void snap__range_release(struct snap_range *r);
/* Under ctx->mu: a chunk of t took ms for rows rows of bytes bytes. */
void snap__table_measured(struct snap_ctx *c, struct snap_table *t, uint64_t rows, uint64_t ms,
			  uint64_t bytes);
/* Under ctx->mu: an arithmetic range (not the last) gave rows of planned:
 * far fewer (a skewed key) and the table walks its key from now on. */
void snap__table_sparse(struct snap_ctx *c, struct snap_table *t, uint64_t rows, uint64_t planned);
/* "(key > lo) AND (key <= hi)" of a range into out ("1" when both are open). */
int snap__range_where(struct sl_buf *out, const struct snap_table *t, const struct db_key_val *lo,
		      const struct db_key_val *hi);
void snap__key_val_copy(struct db_key_val *dst, const struct db_key_val *src, size_t n);
/* Positions of one source in order: by binlog file number, then offset. */
int snap__pos_cmp(const Sluice__Position *a, const Sluice__Position *b);

/* ---- snap_resume.c ---- */
struct snap_prev_table {
	char *db, *name;
	uint64_t next_index, rows;
	int done, had_chunks;
	char **next_key;		/* NULL: none */
	unsigned long *next_len;
	size_t nkey;
};
struct snap_prev {
	int exists;			/* DIR/snapshot holds a stream */
	int has_begin, has_end;
	uint32_t last_run;
	Sluice__Position *max_p1;	/* owned */
	char **objects;			/* "kind\tdb\tname\ttable" of each SchemaObject */
	size_t nobjects;
	struct snap_prev_table *tables;
	size_t ntables;
};
int snap__prev_read(const char *sdir, struct snap_prev *p, struct sl_err *err);
const struct snap_prev_table *snap__prev_table(const struct snap_prev *p, const char *db,
					       const char *name);
int snap__prev_has_object(const struct snap_prev *p, int kind, const char *db, const char *name,
			  const char *table);
void snap__prev_release(struct snap_prev *p);

/* ---- snap_write.c ---- */
/* One record as a unit of its own, ended at the run's P1. */
int snap__write_unit(struct snap_ctx *c, const Sluice__Record *rec, struct sl_err *err);
/* A reader hands over ch (the queue owns it from now on) and waits until
 * its chunk before, *pending, is written: a reader reads its next chunk
 * while the writer writes its last one, and holds at most two. *pending
 * becomes ch. ch NULL: only wait for *pending (the reader's end). 0, or 1
 * when the run is stopping or failed (nothing left pending). */
int snap__submit(struct snap_ctx *c, struct snap_chunk **pending, struct snap_chunk *ch);
/* The writer's loop: writes chunks in each table's key order until every
 * reader is gone; then drops what could not be written. */
int snap__writer_loop(struct snap_ctx *c, struct sl_err *err);
/* Records a failure (the first one wins) and stops the run. */
void snap__fail(struct snap_ctx *c, const struct sl_err *err);
/* Chunk memory. snap__chunk_alloc() returns n contiguous bytes after the
 * chunk's last ones (from pool when it has a block). snap__chunk_free()
 * frees a chunk in any thread; snap__chunk_recycle() only in the thread
 * that owns ch->pool: its blocks go back there. */
struct snap_chunk *snap__chunk_new(struct snap_table *t, uint64_t seq, uint64_t sub,
				   struct snap_pool *pool);
uint8_t *snap__chunk_alloc(struct snap_chunk *ch, size_t n);
void snap__chunk_free(struct snap_chunk *ch);
void snap__chunk_recycle(struct snap_chunk *ch);
void snap__pool_release(struct snap_pool *pool);

/* ---- snap_schema.c ---- */
/* Writes the SchemaObjects prev does not have yet; *written counts them. */
int snap__schema_write(struct snap_ctx *c, const struct db_objects *objs,
		       const struct snap_prev *prev, uint64_t *written, struct sl_err *err);

/* ---- snap_read.c ---- */
struct snap_reader {
	struct snap_ctx *c;
	MYSQL *m;
	const char *who;
	struct snap_chunk *pending;	/* handed over, maybe not yet written */
	pthread_t th;
	int started;
	/* the reader thread's own */
	struct snap_pool pool;		/* its chunks' blocks, once written */
	Sluice__Value *vals;		/* one row's values, packed at once */
	size_t vals_cap;
	struct fmt_packer pk;
	struct db_key_val last;		/* key of the last row read (buffers reused) */
	size_t *last_cap;
	size_t last_n;
};
void *snap__reader_main(void *arg);
struct snap_probe {
	struct snap_ctx *c;
	MYSQL *m;
	const char *who;
	pthread_t th;
	int started;
};
/* One look at Threads_running: sets c->paused (logged when it changes);
 * -1 when it cannot be read (no limit from then on). The probe thread
 * looks every 500 ms; snap_run looks once before the readers start. */
int snap__probe_once(struct snap_probe *p);
void *snap__probe_main(void *arg);

#endif
