/*
 * seg.h - write and read the segment files of a stream directory
 *         (every byte is specified in store/FORMAT.md).
 *
 * A stream directory (DIR) holds numbered segment files. The newest may be
 * open (being appended to); every other one is sealed and never changes.
 * Sequence numbers start at 1, never repeat and have no gaps. A segment
 * starts and ends on a transaction boundary.
 *
 * A segment body is a series of frames: a 16-byte frame header (lengths,
 * type, flags, CRC32C) and a zstd-compressed block of length-delimited
 * Records (formats/fmt.h). A frame is the unit of durability (one fdatasync,
 * submitted through io_uring) and of corruption detection. A frame whose
 * flag SEG_FRAME_TXN_END is set ends on a transaction boundary; a large
 * transaction may span several frames, only the last of which has the flag.
 *
 * Writer calling sequence:
 *   seg_writer_open(&w, &opts, err)     lock DIR, recover the open segment
 *                                       (cut a torn/corrupt tail back to the
 *                                       last SEG_FRAME_TXN_END frame; a torn
 *                                       header with no segment before it is
 *                                       refused, -SL_ECORRUPT: DIR never
 *                                       silently becomes a new stream)
 *   seg_writer_position(w)              where the stream ends (NULL: DIR is new)
 *   seg_writer_append(w, rec, err)...   records of one transaction, in order
 *   seg_writer_txn_end(w, pos, t, err)  after the last record of a transaction
 *                                       (TxnCommit, Ddl or Heartbeat): may write
 *                                       a frame, fdatasync (group commit) and
 *                                       seal on size
 *   seg_writer_flush(w, err)            make everything appended durable now
 *   seg_writer_seal(w, err)             optional: seal the open segment now (a
 *                                       stream at rest is then all sealed, so
 *                                       pack takes it whole); the next record
 *                                       goes to a new segment
 *   seg_writer_close(w)                 flush; the open segment stays open
 * Frames are compressed, checksummed and written by a second thread of the
 * writer while the caller goes on appending (at most 3 frames in flight, in
 * order). Durability: when seg_writer_flush() or seg_writer_close() returns
 * 0, every complete transaction is covered by a completed fdatasync; with
 * commit_interval_ms 0 so is every transaction when its txn_end returns 0.
 * With an interval, txn_end submits the group's fdatasync without waiting.
 * A write or fdatasync that fails in that thread is returned (with its own
 * message: file and offset) by the next append, txn_end or flush.
 * The first seg_writer_txn_end() into a new DIR creates segment 1 with
 * opts.start as its start position.
 *
 * Reader calling sequence:
 *   seg_reader_open(&r, path, err)      a DIR, or one segment file
 *   seg_reader_seek_after(r, &cur, err) optional: continue after a record
 *   (or seg_reader_seek_start(r, seq, err): from the start of segment seq)
 *   seg_reader_next(r, &rec, &cur, err) 1: a record; 0: no complete
 *                                       transaction beyond this point yet
 *                                       (call again later to follow);
 *                                       <0: error (file and offset in err)
 *   fmt_record_free(rec)
 *   seg_reader_close(r)
 * Chain (format 2): each header names its predecessor's seq and the SHA-256
 * of its FOOTER frame, and starts where that footer ends; the writer checks
 * the chain of DIR at open, the reader whenever it moves to the next segment.
 * A sealed segment is checked whole before the reader delivers its first
 * record, so a damaged sealed segment delivers nothing.
 * The reader verifies every CRC and delivers only records of frames up to
 * the last SEG_FRAME_TXN_END frame it has verified, so it never delivers part
 * of a transaction that is not yet durable in full. It moves from a sealed
 * segment to the next one by itself. A frame that fails its CRC is an error,
 * except an incomplete frame at the very end of the open segment, which is
 * treated as not yet written (0).
 *
 * Ownership: records passed to seg_writer_append() are packed (copied)
 *   before it returns. Records from seg_reader_next() belong to the caller.
 * Errors: 0 or a negative code (common/sl.h) with err filled, naming the
 *   file and offset. After an I/O error the writer refuses every further
 *   call (it must be reopened, which recovers the tail); a failed fsync is
 *   never retried.
 * Threads: one writer per DIR (enforced with a lock file), called from one
 *   thread at a time; it runs its own frame thread. Readers may run in other
 *   processes at the same time.
 */
#ifndef SEG_H
#define SEG_H

#include <stdint.h>

#include "fmt.h"
#include "sl.h"

#define SEG_FRAME_TXN_END 0x01

struct seg_writer_opts {
	const char *dir;
	const char *source;		/* source identity; DIR must match */
	const Sluice__Position *start;	/* start position when DIR is new */
	uint64_t segment_size;		/* seal at the first txn end past it; 0: 64 MiB */
	uint32_t segment_age_ms;	/* seal at the first txn end (or idle flush) after
					 * the segment is this old; 0: never on age */
	uint32_t commit_interval_ms;	/* group commit delay; 0: sync each txn */
	uint32_t frame_bytes;		/* uncompressed frame target; 0: 1 MiB */
	int zstd_level;			/* 0: 1 */
	int no_uring;			/* 1: plain pwrite/fdatasync (fallback) */
};

struct seg_writer;

int seg_writer_open(struct seg_writer **w, const struct seg_writer_opts *opts,
		    struct sl_err *err);
/* Position after the last complete transaction in DIR; NULL when DIR is new. */
const Sluice__Position *seg_writer_position(const struct seg_writer *w);
/* Sequence number of the segment the next record goes to (1 when new). */
uint64_t seg_writer_seq(const struct seg_writer *w);
int seg_writer_append(struct seg_writer *w, const Sluice__Record *rec,
		      struct sl_err *err);
/* Appends records packed by the caller: recs[0, len) is a run of
 * varint(size) + packed Record, each a RowChange (Record.row, first byte
 * 0x12: a snapshot's rows, fmt_pack_insert()), copied as they are. The same
 * frames and counts as seg_writer_append() of each. -SL_EINVAL_ARG for a
 * run that does not parse so (nothing of it appended past the bad record). */
int seg_writer_append_rows(struct seg_writer *w, const uint8_t *recs, size_t len,
			   struct sl_err *err);
int seg_writer_txn_end(struct seg_writer *w, const Sluice__Position *pos,
		       uint64_t commit_time, struct sl_err *err);
int seg_writer_flush(struct seg_writer *w, struct sl_err *err);
/* Seal the open segment at the last transaction end (footer, trailer,
 * fdatasync, rename, fsync DIR), as a seal on size does; 0 and nothing done
 * when no segment is open. Refused (-SL_EINVAL_ARG) while a transaction is
 * being appended. A later writer continues in segment seq + 1. */
int seg_writer_seal(struct seg_writer *w, struct sl_err *err);
/* Flushes, then frees. Returns the flush result. w may be NULL. */
int seg_writer_close(struct seg_writer *w, struct sl_err *err);

/* Where a record lies: replay's checkpoint. A record is identified by the
 * segment, the offset of its frame and its index inside the frame. */
struct seg_cursor {
	uint64_t seq;
	uint64_t offset;
	uint32_t index;
};

struct seg_reader;

int seg_reader_open(struct seg_reader **r, const char *path, struct sl_err *err);
/* A reader of one segment of DIR, by sequence number (whether it is sealed
 * or still open): it ends at that segment's end. -ENOENT when it is missing. */
int seg_reader_open_seq(struct seg_reader **r, const char *dir, uint64_t seq,
			struct sl_err *err);
/* Position the reader so that the next record is the one after cur. */
int seg_reader_seek_after(struct seg_reader *r, const struct seg_cursor *cur,
			  struct sl_err *err);
/* Position a DIR reader at the first record of segment seq (it reads on
 * into the segments after it): replay --from. -ENOENT when it is missing. */
int seg_reader_seek_start(struct seg_reader *r, uint64_t seq, struct sl_err *err);
int seg_reader_next(struct seg_reader *r, Sluice__Record **rec,
		    struct seg_cursor *cur, struct sl_err *err);
/* The next record undecoded: *body and *len are its packed Record (without
 * the length prefix), valid until the next call on r. For readers that
 * decode only some records (fmt_record_peek()) or decode them elsewhere
 * (fmt_record_decode()). Same results and cursor as seg_reader_next(). */
int seg_reader_next_raw(struct seg_reader *r, const uint8_t **body, size_t *len,
			struct seg_cursor *cur, struct sl_err *err);
/* The header of the segment the last record came from (NULL before any). */
const Sluice__SegmentHeader *seg_reader_header(const struct seg_reader *r);
/* The segment the reader is in: right after seg_reader_open() on a
 * directory, its lowest segment (above 1 once purge or retention ran). */
uint64_t seg_reader_seq(const struct seg_reader *r);
void seg_reader_close(struct seg_reader *r);

/* Stream identity of DIR (from its newest segment): 0, or -ENOENT when DIR
 * holds no segment. *source and *stream_id are malloc'd (caller frees).
 * Safe beside a running writer: an open segment sealed (renamed) between
 * the scan and the open is read under its sealed name. */
int seg_dir_identity(const char *dir, char **source, uint8_t stream_id[16],
		     struct sl_err *err);

/* ---- verify (seg_check.c): every frame CRC, footer, trailer, chain ----
 * seg_verify_dir() returns 0 when it could look at DIR (problems are counted
 * in s->problems and reported through cb, one line each naming the file and
 * offset) and <0 only when DIR cannot be read at all. Without
 * SEG_VERIFY_DEEP the DATA payloads of sealed segments are checked by CRC
 * and their zstd frame headers, not decompressed; counts come from footers. */
#define SEG_VERIFY_DEEP 1
typedef void (*seg_problem_fn)(void *ctx, const char *path, const char *msg);
struct seg_verify_summary {
	uint64_t segments, sealed, problems;
	uint64_t transactions, rows, ddls, bytes;
	/* a snapshot stream's units (FORMAT.md "Snapshot streams") */
	uint64_t chunks, schema_objects, snapshot_runs, tables_done, snapshot_ends;
	uint64_t first_seq, last_seq;
	uint64_t first_time, last_time;		/* commit times, unix seconds */
	Sluice__Position *first_pos, *last_pos;	/* owned */
	char *source;				/* owned */
	uint8_t stream_id[16];
};
int seg_verify_dir(const char *dir, unsigned flags, seg_problem_fn cb, void *ctx,
		   struct seg_verify_summary *s, struct sl_err *err);
void seg_verify_summary_release(struct seg_verify_summary *s);

/* ---- consumers and retention (seg_retain.c) ----
 * A consumer (a replay, by name) registers how far it has got in
 * DIR/consumers/NAME, written atomically (temp file, fsync, rename, fsync of
 * the directory). NAME: sl_consumer_name_check() (common/sl.h).
 * The file may lag the consumer's real checkpoint, never lead it: callers
 * write it only after the transaction it names is committed. A cursor at
 * offset 0 stands before the first record of segment seq (sluice ship's,
 * "ship-NAME": every segment below seq is shipped). */
struct seg_consumer {
	char name[65];
	struct seg_cursor cur;
	uint64_t txn_time;		/* commit time of the last applied transaction */
	uint64_t updated;		/* unix seconds the file was written */
};
int seg_consumer_update(const char *dir, const char *name, const struct seg_cursor *cur,
			uint64_t txn_time, struct sl_err *err);
/* All consumers of DIR (sorted by name); *v malloc'd, caller frees. */
int seg_consumer_list(const char *dir, struct seg_consumer **v, size_t *n,
		      struct sl_err *err);

/* Remove the oldest sealed segments that every registered consumer has
 * passed (its cursor is in a later segment) and that the policy releases:
 * at least keep_bytes of segments stay, and none whose last commit is
 * younger than keep_age_s. The newest segment is never removed, sealed or
 * open; removal goes from the lowest number up so no gap is ever made.
 * Without a registered consumer nothing is removed unless force; force
 * ignores consumers, never the policy. */
struct seg_purge_opts {
	uint64_t keep_bytes;		/* 0: no byte floor */
	uint64_t keep_age_s;		/* 0: no age floor */
	int force;
	int dry_run;
};
struct seg_purge_result {
	uint64_t removed, removed_bytes, kept, kept_bytes;
	uint64_t first_kept_seq;
	const char *why;		/* static: what stopped the removal */
};
int seg_purge(const char *dir, const struct seg_purge_opts *o, struct seg_purge_result *res,
	      struct sl_err *err);

/* Automatic retention for the process that writes DIR (capture
 * --retain-bytes/--retain-age, capture/cap_retain.c): seg_purge() with
 * keep_bytes and keep_age_s, never forced, never a dry run, with one more
 * rule: while the newest segment is open, the newest sealed one stays too.
 * The open segment's header chains to it, and should a crash tear that
 * header, recovery removes the open segment and resumes from the newest
 * sealed footer; with that one gone the stream's position would be unknown
 * and the writer would refuse DIR. So the newest two segments are always kept.
 * A purged prefix stays a valid DIR: verify --segments checks the chain from
 * the lowest segment present, status reports consumers below it as gone,
 * and a replay whose checkpoint is past it seeks straight to its segment.
 * *consumers: how many consumers are registered; with none nothing is
 * removed and the directory is not read beyond DIR/consumers (res counts
 * nothing kept). Each removal is logged at INFO (file, bytes). */
int seg_retain(const char *dir, uint64_t keep_bytes, uint64_t keep_age_s,
	       struct seg_purge_result *res, size_t *consumers, struct sl_err *err);

/* ---- status ---- */
struct seg_consumer_lag {
	struct seg_consumer c;
	uint64_t txns, bytes, secs;	/* behind the head; secs: the head's time minus
					 * the consumer's, 0 when no transaction is left */
	int gone;			/* the segment it needs next (its cursor's; segment 1 when
					 * it applied nothing) was removed */
};
struct seg_status {
	char *source;			/* owned */
	uint8_t stream_id[16];
	uint64_t segments, sealed, bytes, first_seq, last_seq;
	uint64_t transactions, head_time;
	uint64_t account_statements;	/* left out by capture (FORMAT.md): the segments
					 * still in DIR, purged ones not counted */
	/* written by sluice replay on the source, left out by capture (loop
	 * prevention), counted like account_statements */
	uint64_t replayed_transactions, replayed_ddls;
	Sluice__Position *head;		/* owned: after the last complete transaction */
	struct seg_consumer_lag *consumers;	/* owned */
	size_t nconsumers;
};
int seg_status(const char *dir, struct seg_status *st, struct sl_err *err);
void seg_status_release(struct seg_status *st);

/* ---- snapshot streams (seg_snap.c; FORMAT.md "Snapshot streams") ----
 * DIR/snapshot is a stream directory of its own, written by the snapshot
 * process, that travels with DIR (status, verify --segments, pack, unpack).
 * seg_snapshot_path(): malloc'd "DIR/snapshot". seg_snapshot_exists(): 1
 * when it holds a segment, 0 when it is missing or empty, <0 when it cannot
 * be read (err names it). seg_snapshot_status(): its progress from the
 * footers of sealed segments and a scan of the open one (complete units
 * only); -ENOENT when it holds no segment. */
#define SEG_SNAPSHOT_DIR "snapshot"
struct seg_snapshot_status {
	char *source;			/* owned */
	uint64_t segments, sealed, bytes;
	uint64_t schema_objects, runs, chunks, rows, tables_done, ends;
	Sluice__Position *position;	/* owned: where its last unit stands (the last
					 * run's P1, or SnapshotEnd's) */
};
char *seg_snapshot_path(const char *dir);
int seg_snapshot_exists(const char *dir, struct sl_err *err);
int seg_snapshot_status(const char *dir, struct seg_snapshot_status *st, struct sl_err *err);
void seg_snapshot_status_release(struct seg_snapshot_status *st);

/* ---- air-gapped transfer (seg_bundle.c over seg_transfer.c) ----
 * A bundle is a directory: the chosen sealed segments, unchanged, and
 * MANIFEST (FORMAT.md "Bundle"). With a key file the manifest carries an
 * HMAC-SHA256. seg_unpack() checks the manifest, every file's size and
 * SHA-256, every segment whole and the chain (to DIR's newest segment too)
 * before it adds a single file, then adds them atomically in order. Running
 * it again with the same bundle changes nothing and succeeds. A stream
 * directory's snapshot stream (DIR/snapshot) travels in the same bundle as
 * its sub-directory snapshot/ (a bundle of its own, named in MANIFEST): pack
 * takes its sealed segments too, unless no_snapshot; unpack checks both
 * parts, and both receiving directories, before it adds a file to either. */
struct seg_pack_opts {
	const char *dir, *out, *key_file;
	uint64_t from_seq;		/* 0: the lowest sealed segment */
	/* DIR/snapshot (FORMAT.md "Bundle"): its sealed segments go into
	 * out/snapshot, a bundle of its own that MANIFEST names by SHA-256 */
	int no_snapshot;		/* leave DIR/snapshot out */
	uint64_t snapshot_from_seq;	/* 0: its lowest sealed segment */
};
struct seg_unpack_opts {
	const char *bundle, *into, *key_file;
};
struct seg_transfer_result {
	uint64_t first_seq, last_seq, files, bytes, added;
	struct seg_transfer_snap {
		int present;		/* the bundle carries (or got) a snapshot part */
		uint64_t first_seq, last_seq, files, bytes, added;
	} snapshot;
};
int seg_pack(const struct seg_pack_opts *o, struct seg_transfer_result *res,
	     struct sl_err *err);
int seg_unpack(const struct seg_unpack_opts *o, struct seg_transfer_result *res,
	       struct sl_err *err);

/* ---- one segment at a time, for a shipping transport (seg_adopt.c) ----
 * ship/ sends DIR's sealed segment files as they are; receive/ rebuilds them
 * at another site and adds each only when it is whole and chained, with the
 * checks unpack makes of a bundle's file (the SHA-256 the sender computed,
 * every frame CRC, header, footer and trailer, the stream, the chain to DIR's
 * newest segment).
 * seg_sealed_range(): the lowest segment DIR holds and its highest sealed one
 * with no gap below (0 and 0 when none); a missing DIR holds none.
 * seg_sealed_open(): sealed segment seq of DIR for reading (fd, size).
 * seg_sealed_time(): the commit time of the last transaction in sealed
 * segment seq (its footer), 0 when it holds none. */
#define SEG_SHA_LEN 32
int seg_sealed_range(const char *dir, uint64_t *lowest, uint64_t *last_sealed, struct sl_err *err);
int seg_sealed_open(const char *dir, uint64_t seq, int *fd, uint64_t *size, struct sl_err *err);
int seg_sealed_time(const char *dir, uint64_t seq, uint64_t *last_time, struct sl_err *err);

/* The receiving side: seg_adopt_open() locks into (created 0700 when missing;
 * the same lock a capture takes) and reads its newest segment; an open one is
 * refused (a capture writes here). seg_adopt_head(): the newest sealed
 * segment (0 when into holds none) and into's stream (source and id, NULL
 * when none yet). seg_adopt_tmp(): the path the caller writes segment seq's
 * bytes to (inside into, so the rename is atomic; a leftover of a crash is
 * replaced). seg_adopt_add(): checks that file whole (size, sha, the segment
 * checks above; seq must be head + 1, or anything into a DIR that holds none)
 * and renames it into place, fsyncs it and into; the file is removed when it
 * fails a check (-SL_ECORRUPT, -SL_ESTREAM with file and offset). */
struct seg_adopter;
int seg_adopt_open(struct seg_adopter **a, const char *into, struct sl_err *err);
uint64_t seg_adopt_head(const struct seg_adopter *a, const char **source, const uint8_t **stream_id);
char *seg_adopt_tmp(const struct seg_adopter *a, uint64_t seq);
int seg_adopt_add(struct seg_adopter *a, uint64_t seq, uint64_t size, const uint8_t sha[SEG_SHA_LEN],
		  struct sl_err *err);
void seg_adopt_close(struct seg_adopter *a);

#endif
