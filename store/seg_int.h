/*
 * seg_int.h - shared by the store/ sources only: the byte layout of a segment
 * (store/FORMAT.md), the I/O backends, directory helpers and the frame
 * reader that both the writer's recovery and the reader use.
 *
 * Invariants: every multi-byte integer on disk is little-endian; a frame is
 * valid only when its header fields are in range and its CRC32C matches; a
 * DATA frame's payload is exactly one zstd frame whose content size is
 * raw_len; raw_len never exceeds SEG_RAW_MAX.
 * Ownership: struct seg_io objects are owned by whoever created them until
 * handed to seg__writer_open_io(), which takes them over (io->close()).
 * Errors: 0 / 1 or a negative code with err filled, naming file and offset.
 * Tests may include this header to inject a fault backend.
 */
#ifndef SEG_INT_H
#define SEG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "seg.h"

/* ---- segment header (FORMAT.md "Segment header") ---- */
#define SEG_MAGIC "SLUICESG"		/* 8 bytes, no NUL on disk */
#define SEG_VERSION 2			/* 1: no chain (refused since issue 3) */
#define SEG_HDR_FIXED 32		/* magic, version, length, seq, crc, reserved */
#define SEG_HDR_MAX 65536		/* a header longer than this is corrupt */

/* ---- frames (FORMAT.md "Frame") ---- */
#define SEG_FRAME_HDR 16
#define SEG_FRAME_DATA 1
#define SEG_FRAME_FOOTER 2
#define SEG_RAW_MAX FMT_RECORD_MAX	/* largest raw_len accepted */
/* Largest payload a valid frame can have: ZSTD_COMPRESSBOUND(SEG_RAW_MAX). */
#define SEG_PAYLOAD_MAX (SEG_RAW_MAX + (SEG_RAW_MAX >> 8) + 4096)
#define SEG_FOOTER_MAX 65536		/* FOOTER payload limit */

/* ---- trailer (FORMAT.md "Trailer") ---- */
#define SEG_TRAILER_MAGIC "SLUICEND"
#define SEG_TRAILER_LEN 24

#define SEG_NAME_LEN 26			/* 20 digits + ".open" + NUL */
#define SEG_HASH_LEN 32			/* SHA-256 */

/* ---- I/O backend (sqlite VFS style) ----
 * write() writes all n bytes at off, then, when sync is set, fdatasync()s
 * the file after the write has completed (io_uring: a linked pair). It
 * returns 0, -errno, or -SL_ETORN for a short write. sync() is fdatasync().
 * rename() is rename(2); sync_dir() opens the directory and fsync()s it (what
 * makes a create or a rename in it durable). Each returns 0 or -errno.
 * A failed call is never retried by the writer. */
struct seg_io {
	const char *name;
	int (*write)(struct seg_io *io, int fd, const void *buf, size_t n,
		     uint64_t off, int sync);
	int (*sync)(struct seg_io *io, int fd);
	int (*rename)(struct seg_io *io, const char *from, const char *to);
	int (*sync_dir)(struct seg_io *io, const char *dir);
	void (*close)(struct seg_io *io);
};

/* Plain pwrite()/fdatasync(). Never fails to create. */
struct seg_io *seg__io_pwrite(void);
/* io_uring (liburing): 0 and *io, or -errno when the ring cannot be set up. */
int seg__io_uring(struct seg_io **io);
/* Test backend over inner (which it owns): the fail_write-th write (1-based,
 * 0 = never) fails with -EIO, after writing half of its bytes when tear is
 * set; the fail_sync-th sync (a write with sync counts as one) fails with
 * -EIO. Every later call fails too, as a dead disk would. */
struct seg_io *seg__io_fault(struct seg_io *inner, unsigned fail_write,
			     unsigned fail_sync, int tear);
/* Also fail the fail_rename-th rename with -EIO (after renaming when
 * rename_done is set: the outcome of a failed rename is unknown) and the
 * fail_dir-th directory fsync (the directory change stays in the page
 * cache). io must come from seg__io_fault(). */
void seg__io_fault_dir(struct seg_io *io, unsigned fail_rename, int rename_done,
		       unsigned fail_dir);

/* ---- frame pipeline (seg_pipe.c): the writer's second thread ----
 * seg__pipe_frame() hands raw.data[0, len) over as one DATA frame (flags,
 * fdatasync after it when sync): *raw is swapped for an empty buffer of the
 * pool into which raw's bytes [len, raw->len) are copied, and the thread
 * compresses, checksums and writes the frame at the open segment's end. It
 * waits only when SEG_PIPE_DEPTH jobs are queued. Jobs run in order.
 * seg__pipe_wait() waits until every queued job is done and returns 0 or the
 * first write/fdatasync error (st->what, st->err_off say which; later jobs
 * were dropped). seg__pipe_where() is the segment end after the finished
 * frames and an upper bound of what the queued ones will add.
 * seg__pipe_segment() and any use of the struct seg_io by the caller only
 * while the pipe is idle (after seg__pipe_wait()). */
#define SEG_PIPE_DEPTH 3
struct seg_pipe;
struct seg_pipe_state {
	uint64_t off, frames;		/* segment end, DATA frames in its body */
	uint32_t body_crc;		/* CRC32C of the frame headers (FORMAT.md) */
	const char *what;		/* on error: "frame write", "fdatasync", ... */
	uint64_t err_off;
};
/* 0, or -errno when the thread cannot start. buf_max: limit of the raw
 * buffers; one that grew past buf_keep is freed when its frame is written. */
int seg__pipe_start(struct seg_pipe **p, struct seg_io *io, int zstd_level, size_t buf_max,
		    size_t buf_keep);
/* Finishes (or, after an error, drops) the queued jobs, joins, frees. p may be NULL. */
void seg__pipe_stop(struct seg_pipe *p);
void seg__pipe_segment(struct seg_pipe *p, int fd, uint64_t off, uint64_t frames,
		       uint32_t body_crc);
void seg__pipe_frame(struct seg_pipe *p, struct sl_buf *raw, size_t len, uint8_t flags,
		     int sync);
void seg__pipe_sync(struct seg_pipe *p);	/* an fdatasync job */
void seg__pipe_where(struct seg_pipe *p, uint64_t *off, uint64_t *bound);
int seg__pipe_failed(struct seg_pipe *p);	/* 1 once a job failed (no lock) */
int seg__pipe_wait(struct seg_pipe *p, struct seg_pipe_state *st);


/* seg_writer_open() with a chosen backend (taken over, even on failure). */
int seg__writer_open_io(struct seg_writer **w, const struct seg_writer_opts *opts,
			struct seg_io *io, struct sl_err *err);

/* ---- directory ---- */
struct seg_entry {
	uint64_t seq;
	int sealed;			/* 1: <seq>.seg, 0: <seq>.open */
};
struct seg_list {
	struct seg_entry *v;
	size_t n;
};
/* "<20-digit seq>.seg" or ".open" into out (SEG_NAME_LEN bytes). */
/* 1 when name is exactly a segment name ("<20 digits>.seg|.open", seq > 0). */
int seg__parse_name(const char *name, uint64_t *seq, int *sealed);
void seg__name(char *out, uint64_t seq, int sealed);
/* malloc'd "dir/name" */
char *seg__path(const char *dir, uint64_t seq, int sealed);
/* Segments of dir in seq order. Checks: no gap, no seq twice, only the last
 * one open, and every segment name is a regular file (a symlink, FIFO,
 * device or directory under a segment name is refused, never followed).
 * -ENOENT when dir does not exist. */
int seg__dir_scan(const char *dir, struct seg_list *l, struct sl_err *err);
/* Opens the segment of a scan's entry for reading: 0 with *fd, *size and
 * *path (malloc'd, the name opened; also set on failure). An open segment
 * sealed (renamed to .seg) by its writer since the scan is opened under its
 * sealed name and e->sealed set: every reader of a live DIR lists, then
 * opens. Errors as seg__open_regular(). */
int seg__open_entry(const char *dir, struct seg_entry *e, char **path, int *fd, uint64_t *size,
		    struct sl_err *err);
void seg__list_release(struct seg_list *l);
/* Create dir (0700) if missing and take dir/LOCK (flock EX|NB). */
int seg__dir_lock(const char *dir, int *lock_fd, struct sl_err *err);
int seg__fsync_dir(const char *dir, struct sl_err *err);
/* Open an existing file for reading (or O_RDWR) without following a symlink
 * or blocking on a FIFO; refuse anything but a regular file. 0 with *fd and
 * *size, or -errno / -SL_ECORRUPT with err ('path' named). -ENOENT as is. */
int seg__open_regular(const char *path, int rw, int *fd, uint64_t *size, struct sl_err *err);
/* SHA-256 of a then b (b may be NULL). */
void seg__sha256(const void *a, size_t na, const void *b, size_t nb,
		 uint8_t out[SEG_HASH_LEN]);
/* 1 when both positions pack to the same bytes (both NULL counts). */
int seg__pos_equal(const Sluice__Position *a, const Sluice__Position *b);
/* Check that header h (of path) follows the segment prev_seq whose footer
 * hashes to prev_hash and ends at prev_end (FORMAT.md "Chain"). */
int seg__chain_check(const char *path, const Sluice__SegmentHeader *h, uint64_t prev_seq,
		     const uint8_t prev_hash[SEG_HASH_LEN], const Sluice__Position *prev_end,
		     struct sl_err *err);
/* The checks a header must pass on its own: seq 1 has no predecessor,
 * seq > 1 names seq - 1 and a 32-byte footer hash. */
int seg__chain_self_check(const char *path, const Sluice__SegmentHeader *h,
			  struct sl_err *err);

/* ---- header and trailer codecs ---- */
/* Encode the whole header into out (reset first). */
int seg__header_encode(const Sluice__SegmentHeader *h, struct sl_buf *out);
/* Read the header of fd. 1: *h (free with sluice__segment_header__free_unpacked)
 * and *len; 0: the file is shorter than the header claims (or than the fixed
 * part); <0: corrupt. */
int seg__header_read(int fd, const char *path, uint64_t size,
		     Sluice__SegmentHeader **h, uint32_t *len, struct sl_err *err);
void seg__trailer_encode(uint8_t out[SEG_TRAILER_LEN], uint64_t footer_off,
			 uint32_t footer_len);
/* 1: valid trailer naming a footer frame at *footer_off of *footer_len bytes. */
int seg__trailer_decode(const uint8_t in[SEG_TRAILER_LEN], uint64_t *footer_off,
			uint32_t *footer_len);
/* Footer of a sealed segment file via its trailer: 0 and *f, or <0. When
 * hash is not NULL it receives the footer hash: SHA-256 of the FOOTER frame
 * (its 16-byte header and payload). */
int seg__footer_read(int fd, const char *path, uint64_t size, uint64_t seq,
		     Sluice__SegmentFooter **f, uint8_t *hash, struct sl_err *err);
/* The footer of dir's sealed segment seq (*f, caller frees), its hash (when
 * fhash is not NULL) and the whole file's SHA-256 (when sha is not NULL). */
int seg__sealed_footer(const char *dir, uint64_t seq, Sluice__SegmentFooter **f, uint8_t *fhash,
		       uint8_t *sha, struct sl_err *err);

/* ---- what each record kind counts for (seg_frame.c) ----
 * The one table of record kinds the store counts and takes positions from:
 * the writer (live and in recovery), verify --segments and status all go
 * through it, so a record kind added to sluice.proto is added here once.
 * Records that carry a source position: TxnCommit, Ddl, Heartbeat,
 * SnapshotBegin, SnapshotEnd (FORMAT.md "Snapshot streams"). Footer counts:
 * transactions (TxnCommit), rows (RowChange), ddls, account_statements,
 * replayed_transactions and replayed_ddls (Heartbeat), and for snapshot streams chunks (SnapshotChunkEnd),
 * schema_objects, snapshot_runs (SnapshotBegin), tables_done
 * (SnapshotChunkEnd.table_done) and snapshot_ends (SnapshotEnd). */
struct seg_counts {
	uint64_t transactions, rows, ddls, account_statements;
	uint64_t replayed_transactions, replayed_ddls;
	uint64_t chunks, schema_objects, snapshot_runs, tables_done, snapshot_ends;
};
#define SEG_TAG_ROW 0x12		/* Record.row: counted from its tag alone */
/* 1 when a record whose first byte is tag must be decoded to be counted
 * (or for its position): every counted kind but RowChange. */
int seg__tag_counted(uint8_t tag);
/* Count r into c (c may be NULL). Returns the source position r carries (NULL
 * when none) and in *t (may be NULL) its time, 0 when it has none. */
const Sluice__Position *seg__record_count(struct seg_counts *c, const Sluice__Record *r,
					  uint64_t *t);
void seg__counts_add(struct seg_counts *to, const struct seg_counts *from);
/* Footer fields <-> counts; 1 from seg__counts_equal() when they match. */
void seg__counts_to_footer(const struct seg_counts *c, Sluice__SegmentFooter *f);
void seg__counts_from_footer(struct seg_counts *c, const Sluice__SegmentFooter *f);
int seg__counts_equal(const struct seg_counts *a, const struct seg_counts *b);
/* ---- whole-file check (seg_check.c) ----
 * Reads a segment frame by frame and checks every rule of FORMAT.md that
 * does not need its neighbours: header, each frame's header fields and CRC,
 * that each DATA payload is one zstd frame of raw_len bytes (from the zstd
 * frame and block headers, without decompressing), and for a sealed file the
 * footer (seq, body_bytes, frames, body_hash), the trailer and that the
 * frame before the footer ends a transaction. With deep, or for an open
 * segment, DATA frames are also decompressed and their records counted.
 * An open segment may end in an incomplete frame or in frames that end no
 * transaction (a write in progress): not a problem; valid_end marks where
 * its complete transactions end. */
struct seg_file_info {
	Sluice__SegmentHeader *hdr;	/* owned */
	Sluice__SegmentFooter *footer;	/* owned; NULL when open */
	uint8_t footer_hash[SEG_HASH_LEN];
	uint64_t size, header_len, valid_end, frames;
	int sealed;
	struct seg_counts n;		/* what its complete transactions hold (footer counts) */
	uint64_t first_time, last_time;
	Sluice__Position *last_pos;	/* owned: last position seen (deep/open), else footer end */
};
#define SEG_CHECK_DEEP 1		/* decompress and parse every record */
#define SEG_CHECK_SEALED 2		/* the file must be sealed */
int seg__check_file(int fd, const char *path, uint64_t size, unsigned flags,
		    struct seg_file_info *fi, struct sl_err *err);
void seg__file_info_release(struct seg_file_info *fi);
/* One segment of dir as status and purge see it, without reading a sealed
 * one's body: sealed, its header and footer (fi->n its counts, last_pos its
 * end, first/last_time); open, a scan of its complete units
 * (seg__check_file). fi->size and fi->sealed always. An open segment whose
 * header is not written yet (just created) holds nothing: 0 with fi->hdr
 * NULL when torn_ok (a segment before it tells where the stream is), else
 * -SL_ECORRUPT. */
int seg__summary(const char *dir, const struct seg_entry *e, int torn_ok, struct seg_file_info *fi,
		 struct sl_err *err);
/* Count TxnCommit records after (offset, index) of an open or sealed file,
 * up to its last valid frame, and the commit time of the last one. */
int seg__count_after(int fd, const char *path, uint64_t size, uint64_t offset,
		     uint32_t index, uint64_t *txns, uint64_t *last_time, struct sl_err *err);

/* ---- one stream's bundle (seg_transfer.c), put together by seg_bundle.c ----
 * seg__load_key(): the --key file into key (16..4096 bytes, mode 0600).
 * seg__bundle_out(): create out (0700), or accept it when it is an empty
 * directory. seg__pack_stream(): pack o->dir's sealed segments from
 * o->from_seq into the existing empty o->out, MANIFEST last (with a
 * "snapshot" line when snapshot_sha is given, an hmac under key when key is
 * not NULL); *manifest_sha: SHA-256 of the MANIFEST written; -ENOENT
 * (message set) when there is no sealed segment to pack.
 * seg__unpack_check() does every check of an unpack (manifest, its SHA-256
 * when manifest_sha is given, every file whole, the chain, the receiving
 * directory into) and adds nothing; with lazy an into that does not exist
 * is neither created nor locked until seg__unpack_add(), which copies the
 * new segments in. seg__unpack_snapshot(): 1 and the SHA-256 of
 * snapshot/MANIFEST when the manifest names a snapshot bundle. */
struct seg_unpack_state;
/* Copy (when to >= 0) or only hash n bytes of from, from offset 0. The file
 * must hold exactly n bytes: a longer one is refused (endless data). */
int seg__hash_copy(int from, const char *fpath, uint64_t n, int to, const char *tpath,
		   uint8_t sha[SEG_HASH_LEN], struct sl_err *err);
int seg__load_key(const char *path, struct sl_buf *key, struct sl_err *err);
int seg__bundle_out(const char *out, struct sl_err *err);
int seg__pack_stream(const struct seg_pack_opts *o, const struct sl_buf *key,
		     const uint8_t *snapshot_sha, uint8_t manifest_sha[SEG_HASH_LEN],
		     struct seg_transfer_result *res, struct sl_err *err);
int seg__unpack_check(const char *bundle, const char *into, const struct sl_buf *key,
		      const uint8_t *manifest_sha, int lazy, struct seg_unpack_state **u,
		      struct seg_transfer_result *res, struct sl_err *err);
int seg__unpack_snapshot(const struct seg_unpack_state *u, uint8_t sha[SEG_HASH_LEN]);
const char *seg__unpack_source(const struct seg_unpack_state *u);
int seg__unpack_add(struct seg_unpack_state *u, struct seg_transfer_result *res, struct sl_err *err);
void seg__unpack_free(struct seg_unpack_state *u);
/* ---- frames (seg_frame.c: below seg_dir.c, seg_check.c and seg_reader.c) ---- */
struct seg_frame {
	uint64_t off;			/* frame start in the file */
	uint64_t end;			/* off + SEG_FRAME_HDR + payload_len */
	uint32_t payload_len, raw_len;
	uint8_t type, flags;
	uint8_t hdr[SEG_FRAME_HDR];	/* the header bytes as read */
	int crc_ok;			/* the CRC matched: the frame is complete */
};
/* Frame results besides 1 (valid frame read into payload). */
#define SEG_FRAME_SHORT 0		/* the frame runs past size */
/* Read and verify the frame at off of a file of size bytes. 1: valid, the
 * payload in *payload; SEG_FRAME_SHORT: incomplete (f->end set when the
 * header could be read, else 0); <0: invalid (f filled as far as read). */
int seg__frame_read(int fd, const char *path, uint64_t off, uint64_t size,
		    struct seg_frame *f, struct sl_buf *payload, struct sl_err *err);
/* The one judgement of a frame that every reader of DIR makes (the reader,
 * hence replay and inspect, and verify --segments, seg_check.c), so that
 * verify rejects exactly what replay rejects. Like seg__frame_read(), with:
 * - an incomplete frame: SEG_FRAME_SHORT in a segment that is not sealed
 *   (not written yet), an error in a sealed one;
 * - an invalid whole frame that ends exactly at the end of an open file: a
 *   write may still be landing, so it is read again while the file grows
 *   (*size follows it) and judged damaged (<0, err names file and offset)
 *   once the file has not moved for SEG_SETTLE_LOOKS * SEG_SETTLE_MS;
 * - any other invalid frame: <0 at once. */
#define SEG_SETTLE_LOOKS 5
#define SEG_SETTLE_MS 20
int seg__frame_judge(int fd, const char *path, uint64_t off, uint64_t *size, int sealed,
		     struct seg_frame *f, struct sl_buf *payload, struct sl_err *err);
/* Decode one length-delimited record of a decompressed frame (index-th of
 * the frame at frame_off): fmt_record_unpack(), which wants a known record
 * type, as replay does. The reader and verify --segments --deep both decode
 * through here. 0 with *rec and *used, or -SL_ECORRUPT naming file, frame
 * offset and record index. */
int seg__record_decode(const char *path, uint64_t frame_off, uint32_t index, const uint8_t *p,
		       size_t n, size_t *used, Sluice__Record **rec, struct sl_err *err);
/* Decompress a verified DATA frame's payload into raw (reset first). */
struct ZSTD_DCtx_s;
int seg__frame_decompress(struct ZSTD_DCtx_s *d, const char *path,
			  const struct seg_frame *f, const struct sl_buf *payload,
			  struct sl_buf *raw, struct sl_err *err);
/* Encode a frame header (crc over hdr[0..12) + payload). */
void seg__frame_header(uint8_t hdr[SEG_FRAME_HDR], uint32_t payload_len,
		       uint32_t raw_len, uint8_t type, uint8_t flags,
		       const void *payload);

/* Read exactly n bytes at off (seg_frame.c): 0, -errno, or SEG_FRAME_SHORT-like
 * -SL_ETORN when the file ends first. */
int seg__pread_full(int fd, void *buf, size_t n, uint64_t off);

#endif
