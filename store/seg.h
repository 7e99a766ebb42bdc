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
 *                                       last SEG_FRAME_TXN_END frame)
 *   seg_writer_position(w)              where the stream ends (NULL: DIR is new)
 *   seg_writer_append(w, rec, err)...   records of one transaction, in order
 *   seg_writer_txn_end(w, pos, t, err)  after the last record of a transaction
 *                                       (TxnCommit, Ddl or Heartbeat): may write
 *                                       a frame, fdatasync (group commit) and
 *                                       seal on size
 *   seg_writer_flush(w, err)            make everything appended durable now
 *   seg_writer_close(w)                 flush; the open segment stays open
 * The first seg_writer_txn_end() into a new DIR creates segment 1 with
 * opts.start as its start position.
 *
 * Reader calling sequence:
 *   seg_reader_open(&r, path, err)      a DIR, or one segment file
 *   seg_reader_seek_after(r, &cur, err) optional: continue after a record
 *   seg_reader_next(r, &rec, &cur, err) 1: a record; 0: no complete
 *                                       transaction beyond this point yet
 *                                       (call again later to follow);
 *                                       <0: error (file and offset in err)
 *   fmt_record_free(rec)
 *   seg_reader_close(r)
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
 * Threads: one writer per DIR (enforced with a lock file); readers may run in
 *   other processes at the same time.
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
int seg_writer_txn_end(struct seg_writer *w, const Sluice__Position *pos,
		       uint64_t commit_time, struct sl_err *err);
int seg_writer_flush(struct seg_writer *w, struct sl_err *err);
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
/* Position the reader so that the next record is the one after cur. */
int seg_reader_seek_after(struct seg_reader *r, const struct seg_cursor *cur,
			  struct sl_err *err);
int seg_reader_next(struct seg_reader *r, Sluice__Record **rec,
		    struct seg_cursor *cur, struct sl_err *err);
/* The header of the segment the last record came from (NULL before any). */
const Sluice__SegmentHeader *seg_reader_header(const struct seg_reader *r);
void seg_reader_close(struct seg_reader *r);

/* Stream identity of DIR (from its newest segment): 0, or -ENOENT when DIR
 * holds no segment. *source and *stream_id are malloc'd (caller frees). */
int seg_dir_identity(const char *dir, char **source, uint8_t stream_id[16],
		     struct sl_err *err);

#endif
