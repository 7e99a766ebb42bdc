/* seg_writer.c - append records to a stream directory: frames, group commit, sealing and crash recovery. */
/*
 * State machine (sqlite pager.c style):
 *
 *                    seg_writer_open()
 *                   /                 \
 *    DIR new, newest sealed,        newest segment open:
 *    or torn open removed           recover_open() cuts the tail
 *                 v                     v
 *   +-------->  EMPTY  --------------> OPEN  <--- append / txn_end / flush
 *   |     no file; seq is the   create_segment()  (fd, seg_off, body_crc)
 *   |     next to create; start  (first append or       |
 *   |     is its start position   txn_end)              |
 *   +------------------------------ seal() <------------+
 *          footer frame + trailer, fdatasync,    txn_end() when the segment
 *          rename .open -> .seg, fsync DIR       reached segment_size (or
 *                                                age); seg_writer_seal()
 *
 *   any failed write, fdatasync, rename or create  --->  ERROR
 *   ERROR: every call fails with the first error; seg_writer_close() frees.
 *
 * What holds in every state except ERROR:
 *   - buf[0, txn_off) holds complete transactions, buf[txn_off, len) the
 *     records of the transaction being appended (counted in w->txn);
 *   - every frame written without SEG_FRAME_TXN_END holds records of one
 *     unfinished transaction only (make_room() first writes the complete
 *     part as a TXN_END frame), so what a crash cuts was never complete;
 *   - in OPEN, after drain(), seg_off is the file size, body_crc the CRC32C
 *     of the frame headers in [header_len, seg_off) (the body hash,
 *     FORMAT.md); w->seg counts the transactions in the frames submitted to
 *     the pipe and in buf[0, txn_off).
 *
 * Frames are compressed and written by the pipe's thread (seg_pipe.c) in
 * submission order while this thread packs the next records. Whenever the
 * exact file end matters (seal on size when it is close, seal, flush) the
 * writer first drains the pipe. Durability: flush() and close() return after
 * an fdatasync covering every complete transaction; with commit_interval_ms
 * 0 every txn_end() does too. With an interval the fdatasync is submitted at
 * the same moments as before, and completes behind the caller's back. An
 * error of the pipe's thread is picked up by the next call (or the drain)
 * and reported with the message the write itself would have given.
 */
#include "seg_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include "banned.h"

#define SEG_DEFAULT_SEGMENT ((uint64_t)64 << 20)
#define SEG_DEFAULT_FRAME ((size_t)1 << 20)
#define SEG_FRAME_MIN 256
#define SEG_FRAME_BYTES_MAX ((size_t)64 << 20)

enum seg_wstate { SEG_W_EMPTY, SEG_W_OPEN, SEG_W_ERROR };

struct seg_stats {
	struct seg_counts n;		/* seg_int.h: the footer's counts */
	uint64_t first_time, last_time;
	int has_time;
};

struct seg_writer {
	enum seg_wstate state;
	int err_code;			/* ERROR: the first failure */
	char *dir, *source;
	uint8_t stream_id[16];
	int lock_fd;
	struct seg_io *io;
	struct seg_pipe *pipe;		/* seg_pipe.c: compresses and writes the frames */
	uint64_t segment_size;
	uint64_t segment_age_ms;	/* 0: no seal on age */
	uint32_t interval_ms;
	size_t frame_bytes;

	uint64_t seq;			/* OPEN: the open segment; EMPTY: the next one */
	int fd;
	char *path;			/* OPEN: DIR/<seq>.open */
	uint64_t header_len, seg_off;	/* seg_off: as of the last drain() */
	uint64_t frames;		/* DATA frames in [header_len, seg_off) */
	uint64_t created_ms;		/* OPEN: when the segment was created or recovered */
	uint32_t body_crc;
	uint8_t prev_hash[SEG_HASH_LEN];	/* EMPTY: footer hash of segment seq - 1 */
	int have_prev;			/* EMPTY: prev_hash is set (seq > 1) */
	struct seg_stats seg;		/* complete transactions of the open segment */
	struct seg_stats txn;		/* the transaction being appended */
	int in_txn;			/* records appended since the last txn_end */

	Sluice__Position *start;	/* EMPTY: start of the next segment, NULL: unknown */
	Sluice__Position *pos;		/* after the last complete transaction */

	struct fmt_packer pk;		/* fmt_pack.c: sub-message sizes of the record */
	struct sl_buf buf;		/* packed records not yet handed to the pipe */
	size_t txn_off;
	struct sl_buf out;		/* segment header, footer frame + trailer */
	uint64_t last_sync_ms;		/* when the last fdatasync was submitted */
	int unsynced;			/* a TXN_END frame was submitted without fdatasync */
};

static inline int writer_ok(const struct seg_writer *w)
{
	return w->txn_off <= w->buf.len &&
	       (w->state != SEG_W_OPEN || (w->fd >= 0 && w->seg_off >= w->header_len)) &&
	       (w->state != SEG_W_EMPTY || (w->fd < 0 && w->txn_off == 0));
}

/* Enter ERROR with the message already in err. */
static int fail(struct seg_writer *w, int rc)
{
	w->state = SEG_W_ERROR;
	w->err_code = rc;
	return rc;
}

static int io_fail(struct seg_writer *w, int rc, const char *what, uint64_t off,
		   struct sl_err *err)
{
	const char *base = w->path ? strrchr(w->path, '/') : NULL;

	/* The directory first: on ENOSPC that is what the operator must free. */
	sl_err_set(err, rc, "stream directory '%s': %s of '%s' at offset %llu failed: %s",
		   w->dir, what, base ? base + 1 : "?", (unsigned long long)off, sl_strerror(rc));
	return fail(w, rc);
}

static int check_usable(const struct seg_writer *w, struct sl_err *err)
{
	if (w->state == SEG_W_ERROR)
		return sl_err_set(err, w->err_code ? w->err_code : -EIO,
				  "'%s': writer stopped after an earlier i/o error (reopen to recover)",
				  w->dir);
	return 0;
}

static int sync_due(const struct seg_writer *w)
{
	return w->interval_ms == 0 || sl_now_ms() - w->last_sync_ms >= w->interval_ms;
}

/* Seal on age (--segment-age): only ever called at a transaction boundary. */
static int age_due(const struct seg_writer *w)
{
	return w->segment_age_ms && w->state == SEG_W_OPEN &&
	       sl_now_ms() - w->created_ms >= w->segment_age_ms;
}

static void stats_add(struct seg_stats *to, const struct seg_stats *from)
{
	seg__counts_add(&to->n, &from->n);
}

static void stats_time(struct seg_stats *s, uint64_t t)
{
	if (!s->has_time)
		s->first_time = t;
	s->last_time = t;
	s->has_time = 1;
}

static void set_pos(Sluice__Position **dst, const Sluice__Position *src)
{
	fmt_position_free(*dst);
	*dst = src ? fmt_position_dup(src) : NULL;
}

/* fsync DIR through the backend: a create or rename in it becomes durable. */
static int dir_sync(struct seg_writer *w, struct sl_err *err)
{
	int rc = w->io->sync_dir(w->io, w->dir);

	if (rc)
		sl_err_set(err, rc, "cannot fsync directory '%s': %s", w->dir, sl_strerror(rc));
	return rc;
}

/* rename through the backend: 0, or -errno with err set. */
static int seg_rename(struct seg_writer *w, const char *from, const char *to,
		      struct sl_err *err)
{
	int rc = w->io->rename(w->io, from, to);

	if (rc)
		sl_err_set(err, rc, "cannot rename '%s' to '%s': %s", from, to, sl_strerror(rc));
	return rc;
}

/* ---- the pipe ---- */

/* Wait until the pipe has written everything handed over: seg_off, frames
 * and body_crc are exact again. A failed write enters ERROR. */
static int drain(struct seg_writer *w, struct sl_err *err)
{
	struct seg_pipe_state st;
	int rc = seg__pipe_wait(w->pipe, &st);

	if (w->state == SEG_W_OPEN) {
		w->seg_off = st.off;
		w->frames = st.frames;
		w->body_crc = st.body_crc;
	}
	if (rc)
		return io_fail(w, rc, st.what ? st.what : "write", st.err_off, err);
	return 0;
}

/* A failure of the pipe's thread, reported at the next call. */
static int pipe_check(struct seg_writer *w, struct sl_err *err)
{
	return seg__pipe_failed(w->pipe) ? drain(w, err) : 0;
}

/* Seal on size: seg_off + buf.len >= segment_size, with seg_off the file
 * end after every frame handed over. Without a drain when the upper bound of
 * the frames in flight cannot reach the size. */
static int size_due(struct seg_writer *w, int *due, struct sl_err *err)
{
	uint64_t off, bound;
	int rc;

	seg__pipe_where(w->pipe, &off, &bound);
	if (off + bound + w->buf.len < w->segment_size) {
		*due = 0;
		return 0;
	}
	if (bound) {
		if ((rc = drain(w, err)))
			return rc;
		off = w->seg_off;
	}
	*due = off + w->buf.len >= w->segment_size;
	return 0;
}

/* ---- segment creation and frames ---- */

static int create_segment(struct seg_writer *w, struct sl_err *err)
{
	Sluice__SegmentHeader h = SLUICE__SEGMENT_HEADER__INIT;
	int rc;

	assert(w->state == SEG_W_EMPTY && w->start);
	w->path = seg__path(w->dir, w->seq, 0);
	/* O_EXCL: never through a symlink, never over an existing file. */
	w->fd = open(w->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		int e = errno;
		sl_err_set(err, -e, "stream directory '%s': cannot create '%s': %s", w->dir,
			   w->path, strerror(e));
		return fail(w, -e);
	}
	if (w->seq > 1 && !w->have_prev)
		sl_bug("segment %llu without its predecessor's footer hash", (unsigned long long)w->seq);
	h.stream_id.data = w->stream_id;
	h.stream_id.len = 16;
	h.source = w->source;
	h.seq = w->seq;
	h.start = w->start;
	h.created = (uint64_t)time(NULL);
	if (w->seq > 1) {
		h.prev_seq = w->seq - 1;
		h.prev_footer_hash.data = w->prev_hash;
		h.prev_footer_hash.len = SEG_HASH_LEN;
	}
	if ((rc = seg__header_encode(&h, &w->out))) {
		sl_err_set(err, rc, "'%s': segment header too large", w->path);
		return fail(w, rc);
	}
	if ((rc = w->io->write(w->io, w->fd, w->out.data, w->out.len, 0, 1)))
		return io_fail(w, rc, "header write", 0, err);
	if ((rc = dir_sync(w, err)))
		return fail(w, rc);
	w->header_len = w->out.len;
	w->seg_off = w->out.len;
	w->frames = 0;
	w->created_ms = sl_now_ms();
	w->body_crc = 0;
	seg__pipe_segment(w->pipe, w->fd, w->seg_off, 0, 0);
	memset(&w->seg, 0, sizeof(w->seg));
	w->last_sync_ms = sl_now_ms();
	w->unsynced = 0;
	set_pos(&w->start, NULL);
	w->state = SEG_W_OPEN;
	sl_log(SL_DEBUG, "store", "created '%s'", w->path);
	return 0;
}

static int ensure_segment(struct seg_writer *w, struct sl_err *err)
{
	if (w->state == SEG_W_OPEN)
		return 0;
	if (!w->start)
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "'%s': a new stream needs a start position (opts.start) before its first frame",
				  w->dir);
	return create_segment(w, err);
}

/* Hand buf[0, len) to the pipe as one frame (written behind the caller's
 * back) and drop it from buf. With commit_interval_ms 0 a frame with an
 * fdatasync is waited for. */
static int write_frame(struct seg_writer *w, size_t len, uint8_t flags, int sync,
		       struct sl_err *err)
{
	int rc;

	assert(len > 0 && len <= w->buf.len && len <= SEG_RAW_MAX);
	if ((rc = ensure_segment(w, err)) || (rc = pipe_check(w, err)))
		return rc;
	seg__pipe_frame(w->pipe, &w->buf, len, flags, sync);
	if (sync) {
		w->last_sync_ms = sl_now_ms();
		w->unsynced = 0;
	} else if (flags & SEG_FRAME_TXN_END) {
		w->unsynced = 1;
	}
	w->txn_off = w->txn_off > len ? w->txn_off - len : 0;
	return sync && w->interval_ms == 0 ? drain(w, err) : 0;
}

/* An fdatasync of everything handed to the pipe (waited for with
 * commit_interval_ms 0). */
static int sync_frames(struct seg_writer *w, struct sl_err *err)
{
	seg__pipe_sync(w->pipe);
	w->unsynced = 0;
	w->last_sync_ms = sl_now_ms();
	return w->interval_ms == 0 ? drain(w, err) : 0;
}

/* Make room for need more bytes in the frame being built: write what is
 * complete as a TXN_END frame, then, if still too full, the unfinished
 * transaction's records as a frame without the flag. */
static int make_room(struct seg_writer *w, size_t need, struct sl_err *err)
{
	int rc;

	if (w->buf.len == 0 || w->buf.len + need <= w->frame_bytes)
		return 0;
	if (w->txn_off > 0 &&
	    (rc = write_frame(w, w->txn_off, SEG_FRAME_TXN_END, sync_due(w), err)))
		return rc;
	if (w->buf.len > 0 && w->buf.len + need > w->frame_bytes &&
	    (rc = write_frame(w, w->buf.len, 0, 0, err)))
		return rc;
	return 0;
}

/* Footer frame + trailer, fdatasync, rename, fsync DIR: OPEN -> EMPTY. */
static int seal(struct seg_writer *w, struct sl_err *err)
{
	Sluice__SegmentFooter f = SLUICE__SEGMENT_FOOTER__INIT;
	uint8_t hash[4];
	size_t n;
	uint64_t foff;
	char *sealed;
	int rc;

	assert(w->state == SEG_W_OPEN && w->txn_off == w->buf.len);
	if (w->buf.len > 0 && (rc = write_frame(w, w->buf.len, SEG_FRAME_TXN_END, 0, err)))
		return rc;
	if ((rc = drain(w, err)))	/* the pipe is idle from here on */
		return rc;
	sl_put_le32(hash, w->body_crc);
	f.seq = w->seq;
	f.end = w->pos;
	seg__counts_to_footer(&w->seg.n, &f);
	f.first_time = w->seg.first_time;
	f.last_time = w->seg.last_time;
	f.body_bytes = w->seg_off - w->header_len;
	f.body_hash.data = hash;
	f.body_hash.len = sizeof(hash);
	f.frames = w->frames;
	n = sluice__segment_footer__get_packed_size(&f);
	if (n > SEG_FOOTER_MAX) {
		sl_err_set(err, -SL_ETOOBIG, "'%s': footer too large", w->path);
		return fail(w, -SL_ETOOBIG);
	}
	sl_buf_reset(&w->out);
	if (sl_buf_reserve(&w->out, SEG_FRAME_HDR + n + SEG_TRAILER_LEN))
		sl_bug("footer buffer limit");
	sluice__segment_footer__pack(&f, w->out.data + SEG_FRAME_HDR);
	seg__frame_header(w->out.data, (uint32_t)n, (uint32_t)n, SEG_FRAME_FOOTER, 0,
			  w->out.data + SEG_FRAME_HDR);
	foff = w->seg_off;
	seg__trailer_encode(w->out.data + SEG_FRAME_HDR + n, foff, (uint32_t)(SEG_FRAME_HDR + n));
	w->out.len = SEG_FRAME_HDR + n + SEG_TRAILER_LEN;
	if ((rc = w->io->write(w->io, w->fd, w->out.data, w->out.len, foff, 1)))
		return io_fail(w, rc, "footer write and fdatasync", foff, err);
	/* The next segment's header names this footer (FORMAT.md "Chain"). */
	seg__sha256(w->out.data, SEG_FRAME_HDR + n, NULL, 0, w->prev_hash);
	w->have_prev = 1;
	close(w->fd);
	w->fd = -1;
	sealed = seg__path(w->dir, w->seq, 1);
	sl_failpoint("store.seal.before-rename");	/* footer written and synced */
	if ((rc = seg_rename(w, w->path, sealed, err))) {
		free(sealed);
		return fail(w, rc);
	}
	sl_failpoint("store.seal.before-dirsync");
	sl_log(SL_DEBUG, "store", "sealed '%s' (%llu bytes)", sealed,
	       (unsigned long long)(foff + SEG_FRAME_HDR + n + SEG_TRAILER_LEN));
	free(sealed);
	if ((rc = dir_sync(w, err)))
		return fail(w, rc);
	free(w->path);
	w->path = NULL;
	w->seq++;
	set_pos(&w->start, w->pos);
	w->state = SEG_W_EMPTY;
	w->unsynced = 0;
	return 0;
}

/* ---- the API ---- */

int seg_writer_append(struct seg_writer *w, const Sluice__Record *rec,
		      struct sl_err *err)
{
	size_t sz, hl;
	int rc;

	if ((rc = check_usable(w, err)) || (rc = pipe_check(w, err)))
		return rc;
	assert(writer_ok(w));
	sz = fmt_pack_size(&w->pk, &rec->base);
	if (sz > SEG_RAW_MAX - 10)
		return sl_err_set(err, -SL_ETOOBIG, "'%s': record of %zu bytes exceeds the limit of %zu",
				  w->dir, sz, (size_t)SEG_RAW_MAX - 10);
	if (w->state == SEG_W_EMPTY && w->start && (rc = create_segment(w, err)))
		return rc;
	if ((rc = make_room(w, sz + 10, err)))
		return rc;
	if (sl_buf_reserve(&w->buf, sz + 10))
		sl_bug("record buffer limit");
	hl = fmt_varint_put(w->buf.data + w->buf.len, sz);
	if (fmt_pack(&w->pk, &rec->base, w->buf.data + w->buf.len + hl) != sz)
		sl_bug("record packed to another size than computed");
#ifndef NDEBUG
	{	/* the packer writes what protobuf-c writes */
		uint8_t *chk = sl_xmalloc(sz ? sz : 1);

		if (sluice__record__pack(rec, chk) != sz ||
		    memcmp(chk, w->buf.data + w->buf.len + hl, sz))
			sl_bug("fmt_pack differs from protobuf-c for a record of kind %d",
			       (int)rec->body_case);
		free(chk);
	}
#endif
	w->buf.len += hl + sz;
	w->in_txn = 1;
	(void)seg__record_count(&w->txn.n, rec, NULL);
	return 0;
}

#ifndef NDEBUG
/* A packed row decodes to a RowChange record that packs back to the same bytes. */
static void check_packed_row(const uint8_t *body, size_t sz)
{
	Sluice__Record *rec = sluice__record__unpack(NULL, sz, body);
	uint8_t *chk;

	if (!rec || rec->body_case != SLUICE__RECORD__BODY_ROW)
		sl_bug("seg_writer_append_rows: a record that is not a RowChange");
	chk = sl_xmalloc(sz ? sz : 1);
	if (sluice__record__pack(rec, chk) != sz || memcmp(chk, body, sz))
		sl_bug("seg_writer_append_rows: a row packed otherwise than protobuf-c packs it");
	free(chk);
	sluice__record__free_unpacked(rec, NULL);
}
#endif

int seg_writer_append_rows(struct seg_writer *w, const uint8_t *recs, size_t len,
			   struct sl_err *err)
{
	size_t off = 0;
	int rc;

	if ((rc = check_usable(w, err)) || (rc = pipe_check(w, err)))
		return rc;
	assert(writer_ok(w));
	while (off < len) {
		uint64_t sz;
		size_t hl = fmt_varint_get(recs + off, len - off, &sz);

		if (!hl || sz > len - off - hl || sz == 0 || recs[off + hl] != SEG_TAG_ROW)
			return sl_err_set(err, -SL_EINVAL_ARG, "'%s': packed rows: bad record at "
					  "byte %zu of %zu", w->dir, off, len);
		if (sz > SEG_RAW_MAX - 10)
			return sl_err_set(err, -SL_ETOOBIG, "'%s': record of %llu bytes exceeds the "
					  "limit of %zu", w->dir, (unsigned long long)sz,
					  (size_t)SEG_RAW_MAX - 10);
#ifndef NDEBUG
		check_packed_row(recs + off + hl, sz);
#endif
		if (w->state == SEG_W_EMPTY && w->start && (rc = create_segment(w, err)))
			return rc;
		if ((rc = make_room(w, sz + 10, err)))
			return rc;
		if (sl_buf_add(&w->buf, recs + off, hl + sz))
			sl_bug("record buffer limit");
		w->in_txn = 1;
		w->txn.n.rows++;
		off += hl + sz;
	}
	return 0;
}

int seg_writer_txn_end(struct seg_writer *w, const Sluice__Position *pos,
		       uint64_t commit_time, struct sl_err *err)
{
	int rc, due;

	if ((rc = check_usable(w, err)) || (rc = pipe_check(w, err)))
		return rc;
	assert(writer_ok(w));
	if (!pos)
		return sl_err_set(err, -SL_EINVAL_ARG, "'%s': transaction end without a position", w->dir);
	if (w->state == SEG_W_EMPTY && !w->start)
		set_pos(&w->start, pos);	/* the first transaction of a new DIR */
	if ((rc = ensure_segment(w, err)))
		return rc;
	w->txn_off = w->buf.len;
	w->in_txn = 0;
	stats_add(&w->seg, &w->txn);
	memset(&w->txn, 0, sizeof(w->txn));
	stats_time(&w->seg, commit_time);
	set_pos(&w->pos, pos);
	if ((rc = size_due(w, &due, err)))
		return rc;
	if (due || age_due(w))
		return seal(w, err);
	due = sync_due(w);
	if (w->buf.len > 0 && (due || w->buf.len >= w->frame_bytes))
		return write_frame(w, w->buf.len, SEG_FRAME_TXN_END, due, err);
	if (w->unsynced && due && (rc = sync_frames(w, err)))
		return rc;
	if (due && w->buf.len == 0) {
		w->unsynced = 0;
		w->last_sync_ms = sl_now_ms();
	}
	return 0;
}

int seg_writer_flush(struct seg_writer *w, struct sl_err *err)
{
	int rc;

	if ((rc = check_usable(w, err)) || (rc = pipe_check(w, err)))
		return rc;
	assert(writer_ok(w));
	if (w->state != SEG_W_OPEN)
		return 0;
	/* An idle source still gets its segment sealed on age, at a boundary. */
	if (w->txn_off == w->buf.len && age_due(w)) {
		uint64_t off, bound;

		seg__pipe_where(w->pipe, &off, &bound);
		if (off + bound > w->header_len || w->buf.len > 0)
			return seal(w, err);
	}
	if (w->txn_off > 0)
		rc = write_frame(w, w->txn_off, SEG_FRAME_TXN_END, 1, err);
	else if (w->unsynced)
		rc = sync_frames(w, err);
	/* also waits for an fdatasync submitted earlier by txn_end() */
	return rc ? rc : drain(w, err);
}

int seg_writer_seal(struct seg_writer *w, struct sl_err *err)
{
	int rc;

	if ((rc = check_usable(w, err)) || (rc = pipe_check(w, err)))
		return rc;
	assert(writer_ok(w));
	if (w->in_txn)
		return sl_err_set(err, -SL_EINVAL_ARG, "'%s': cannot seal inside a transaction", w->dir);
	if (w->state != SEG_W_OPEN)
		return 0;
	return seal(w, err);
}

const Sluice__Position *seg_writer_position(const struct seg_writer *w)
{
	return w->pos;
}

uint64_t seg_writer_seq(const struct seg_writer *w)
{
	return w->seq;
}

static void writer_free(struct seg_writer *w)
{
	seg__pipe_stop(w->pipe);	/* before the fd and the backend it writes to */
	if (w->fd >= 0)
		close(w->fd);
	if (w->lock_fd >= 0)
		close(w->lock_fd);	/* releases the flock */
	if (w->io)
		w->io->close(w->io);
	fmt_position_free(w->start);
	fmt_position_free(w->pos);
	fmt_packer_release(&w->pk);
	sl_buf_release(&w->buf);
	sl_buf_release(&w->out);
	free(w->dir);
	free(w->source);
	free(w->path);
	free(w);
}

int seg_writer_close(struct seg_writer *w, struct sl_err *err)
{
	int rc;

	if (!w)
		return 0;
	/* Records after the last txn_end are dropped: never half a transaction. */
	rc = seg_writer_flush(w, err);
	writer_free(w);
	return rc;
}

/* ---- open and recovery ---- */

/* What the scan of an open segment found up to its last TXN_END frame. */
struct recovery {
	uint64_t cut;			/* end of the last TXN_END frame */
	uint64_t frames;		/* DATA frames before cut */
	uint32_t crc;
	struct seg_stats stats;
	Sluice__Record *last;		/* last record with a position, up to cut */
};

/* Walk the records of one decompressed frame. The record with a position
 * (seg__record_count(): commit, ddl, heartbeat, snapshot begin and end)
 * seen last goes to *run (freeing the previous one unless keep). */
static int count_records(const struct sl_buf *raw, struct seg_stats *st,
			 Sluice__Record **run, const Sluice__Record *keep)
{
	size_t pos = 0;

	while (pos < raw->len) {
		uint64_t len;
		size_t hl = fmt_varint_get(raw->data + pos, raw->len - pos, &len);
		uint8_t tag;

		if (!hl || len > raw->len - pos - hl)
			return -SL_ECORRUPT;
		tag = len ? raw->data[pos + hl] : 0;
		if (tag == SEG_TAG_ROW)
			st->n.rows++;
		if (seg__tag_counted(tag)) {
			Sluice__Record *r = sluice__record__unpack(NULL, (size_t)len, raw->data + pos + hl);
			uint64_t t = 0;

			if (!r)
				return -SL_ECORRUPT;
			if (!seg__record_count(&st->n, r, &t)) {
				fmt_record_free(r);	/* counted; carries no position */
			} else {
				stats_time(st, t);
				if (*run && *run != keep)
					fmt_record_free(*run);
				*run = r;
			}
		}
		pos += hl + (size_t)len;
	}
	return 0;
}

static const Sluice__Position *record_position(const Sluice__Record *r)
{
	return r ? seg__record_count(NULL, r, NULL) : NULL;
}

/* Scan the frames of the open segment fd from header_len. Returns 1 when
 * the file holds a complete footer and trailer after its last TXN_END
 * frame (sealed but not renamed), else 0 with rec filled; *why describes
 * what stopped the scan. */
static int scan_open(struct seg_writer *w, int fd, uint64_t header_len, uint64_t size,
		     struct recovery *rec, char *why, size_t why_len, struct sl_err *err)
{
	struct sl_buf payload = SL_BUF_INIT(SEG_PAYLOAD_MAX), raw = SL_BUF_INIT(SEG_RAW_MAX);
	ZSTD_DCtx *d = ZSTD_createDCtx();
	struct sl_err e = SL_ERR_INIT;
	struct seg_stats run;
	Sluice__Record *last = NULL;
	uint64_t off = header_len, nframes = 0;
	uint32_t crc = 0;
	int rc = 0;

	if (!d)
		sl_bug("ZSTD_createDCtx failed");
	memset(rec, 0, sizeof(*rec));
	rec->cut = header_len;
	memset(&run, 0, sizeof(run));
	snprintf(why, why_len, "end of file");
	for (;;) {
		struct seg_frame f;
		int fr = seg__frame_read(fd, w->path, off, size, &f, &payload, &e);

		if (fr == SEG_FRAME_SHORT) {
			if (off < size)
				snprintf(why, why_len, "incomplete frame at offset %llu", (unsigned long long)off);
			break;
		}
		if (fr < 0) {
			snprintf(why, why_len, "%s", e.msg);
			break;
		}
		if (f.type == SEG_FRAME_FOOTER) {
			uint8_t tr[SEG_TRAILER_LEN];
			uint64_t foff;
			uint32_t flen;
			Sluice__SegmentFooter *ft;

			if (off == rec->cut && size == f.end + SEG_TRAILER_LEN &&
			    !seg__pread_full(fd, tr, sizeof(tr), f.end) &&
			    seg__trailer_decode(tr, &foff, &flen) && foff == off &&
			    (ft = sluice__segment_footer__unpack(NULL, payload.len, payload.data))) {
				int ok = ft->seq == w->seq;

				sluice__segment_footer__free_unpacked(ft, NULL);
				if (ok) {
					rc = 1;
					break;
				}
			}
			snprintf(why, why_len, "incomplete footer at offset %llu", (unsigned long long)off);
			break;
		}
		if (seg__frame_decompress(d, w->path, &f, &payload, &raw, &e) ||
		    count_records(&raw, &run, &last, rec->last)) {
			snprintf(why, why_len, "undecodable frame at offset %llu", (unsigned long long)off);
			break;
		}
		crc = sl_crc32c(crc, f.hdr, SEG_FRAME_HDR);
		off = f.end;
		nframes++;
		if (f.flags & SEG_FRAME_TXN_END) {
			rec->cut = off;
			rec->frames = nframes;
			rec->crc = crc;
			rec->stats = run;
			if (rec->last != last)
				fmt_record_free(rec->last);
			rec->last = last;
		}
	}
	if (last != rec->last)
		fmt_record_free(last);
	ZSTD_freeDCtx(d);
	sl_buf_release(&payload);
	sl_buf_release(&raw);
	(void)err;
	return rc;
}

static int check_identity(struct seg_writer *w, const char *path,
			  const Sluice__SegmentHeader *h, int *have_id, struct sl_err *err)
{
	if (strcmp(h->source, w->source))
		return sl_err_set(err, -SL_ESTREAM,
				  "'%s' holds the stream of source '%s', not of '%s' (segment '%s')",
				  w->dir, h->source, w->source, path);
	if (*have_id && memcmp(w->stream_id, h->stream_id.data, 16))
		return sl_err_set(err, -SL_ESTREAM, "'%s': segment '%s' belongs to another stream",
				  w->dir, path);
	memcpy(w->stream_id, h->stream_id.data, 16);
	*have_id = 1;
	return 0;
}

/* Read the header of one segment file and check it belongs here. 1: *h and
 * *fd (O_RDWR when rw); 0: torn header (only for open segments); <0. */
static int open_checked(struct seg_writer *w, const char *path, int rw, uint64_t seq,
			int *have_id, int *fdp, uint64_t *size, Sluice__SegmentHeader **h,
			uint32_t *hl, struct sl_err *err)
{
	int fd = -1, rc;

	*h = NULL;
	if ((rc = seg__open_regular(path, rw, &fd, size, err)))
		goto out;
	rc = seg__header_read(fd, path, *size, h, hl, err);
	if (rc <= 0)
		goto out;
	if ((*h)->seq != seq) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': header names segment %llu", path,
				(unsigned long long)(*h)->seq);
		goto out;
	}
	if ((rc = check_identity(w, path, *h, have_id, err)))
		goto out;
	if ((rc = seg__chain_self_check(path, *h, err)))
		goto out;
	rc = 1;
out:
	if (rc != 1) {
		if (*h)
			sluice__segment_header__free_unpacked(*h, NULL);
		*h = NULL;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	*fdp = fd;
	return rc;
}

/* Recover the newest segment, which is open. 1: it stays OPEN; 0: it was
 * removed (torn header) or sealed (renamed): the caller continues as if
 * the newest segment were the one before, or this one sealed (*sealed).
 * A torn header is removed only when the segment before it is there (has_prev):
 * the stream then resumes at that one's footer. Without it the torn header
 * held the only record of where the stream starts; removing it would make
 * DIR look new and the next capture would start over at the source's binlog
 * end, skipping whatever the segment had been written for. */
static int recover_open(struct seg_writer *w, uint64_t seq, int *have_id, int *sealed,
			int has_prev, const Sluice__Position *prev_end, struct sl_err *err)
{
	Sluice__SegmentHeader *h = NULL;
	struct recovery rec = { 0 };
	char why[SL_ERR_LEN];
	uint64_t size = 0;
	uint32_t hl = 0;
	int fd = -1, rc;

	*sealed = 0;
	w->path = seg__path(w->dir, seq, 0);
	w->seq = seq;
	rc = open_checked(w, w->path, 1, seq, have_id, &fd, &size, &h, &hl, err);
	if (rc == 0 && !has_prev) {
		rc = sl_err_set(err, -SL_ECORRUPT,
				"'%s': torn header (%llu bytes) and no segment before it: where the stream "
				"starts is unknown; remove the file if it held nothing and start the stream "
				"again at a chosen position (capture --from FILE:POS)",
				w->path, (unsigned long long)size);
		goto out;
	}
	if (rc == 0) {
		sl_log(SL_WARN, "store", "'%s': removing a segment whose header is torn (%llu bytes)",
		       w->path, (unsigned long long)size);
		if (unlink(w->path) < 0) {
			int e = errno;
			rc = sl_err_set(err, -e, "cannot remove '%s': %s", w->path, strerror(e));
			goto out;
		}
		rc = dir_sync(w, err);
		goto out;
	}
	if (rc < 0)
		goto out;
	if (prev_end && (rc = seg__chain_check(w->path, h, seq - 1, w->prev_hash, prev_end, err)))
		goto out;
	if (scan_open(w, fd, hl, size, &rec, why, sizeof(why), err) == 1) {
		char *to = seg__path(w->dir, seq, 1);

		sl_log(SL_WARN, "store", "'%s': sealed but not renamed: finishing the seal", w->path);
		rc = seg_rename(w, w->path, to, err);
		free(to);
		if (!rc)
			rc = dir_sync(w, err);
		*sealed = 1;
		goto out;
	}
	if (rec.cut < size) {
		if (!strcmp(why, "end of file"))
			snprintf(why, sizeof(why), "the frames after it end no transaction");
		sl_log(SL_WARN, "store", "'%s': cutting %llu bytes at offset %llu after the last complete transaction (%s)",
		       w->path, (unsigned long long)(size - rec.cut), (unsigned long long)rec.cut, why);
		if (ftruncate(fd, (off_t)rec.cut) < 0 || fsync(fd) < 0) {
			int e = errno;
			rc = sl_err_set(err, -e, "cannot cut '%s' at offset %llu: %s", w->path,
					(unsigned long long)rec.cut, strerror(e));
			goto out;
		}
	}
	w->fd = fd;
	fd = -1;
	w->header_len = hl;
	w->seg_off = rec.cut;
	w->frames = rec.frames;
	w->created_ms = sl_now_ms();
	w->body_crc = rec.crc;
	w->seg = rec.stats;
	set_pos(&w->pos, record_position(rec.last) ? record_position(rec.last) : h->start);
	w->state = SEG_W_OPEN;
	rc = 1;
out:
	if (rc != 1) {
		free(w->path);
		w->path = NULL;
	}
	fmt_record_free(rec.last);
	if (h)
		sluice__segment_header__free_unpacked(h, NULL);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The newest segment is sealed: the stream ends at its footer. */
static int after_sealed(struct seg_writer *w, uint64_t seq, struct sl_err *err)
{
	char *path = seg__path(w->dir, seq, 1);
	Sluice__SegmentFooter *f = NULL;
	uint64_t size = 0;
	int fd = -1, rc;

	if ((rc = seg__open_regular(path, 0, &fd, &size, err)))
		goto out;
	if ((rc = seg__footer_read(fd, path, size, seq, &f, w->prev_hash, err)))
		goto out;
	w->have_prev = 1;
	if (!f->end) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': footer has no end position", path);
		goto out;
	}
	set_pos(&w->pos, f->end);
	set_pos(&w->start, f->end);
	w->seq = seq + 1;
	w->state = SEG_W_EMPTY;
out:
	if (f)
		sluice__segment_footer__free_unpacked(f, NULL);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static int recover(struct seg_writer *w, const struct seg_writer_opts *opts,
		   struct sl_err *err)
{
	struct seg_list l;
	Sluice__Position *prev_end = NULL;
	int rc, have_id = 0, sealed = 0;
	size_t n;

	if ((rc = seg__dir_scan(w->dir, &l, err)))
		return rc;
	/* Every header must belong here and chain to the footer before it, so a
	 * missing, swapped, duplicated or foreign segment stops the writer. */
	for (size_t i = 0; i < l.n; i++) {
		char *path = seg__path(w->dir, l.v[i].seq, l.v[i].sealed);
		Sluice__SegmentHeader *h;
		Sluice__SegmentFooter *f = NULL;
		uint64_t size;
		uint32_t hl;
		int fd;

		if (!l.v[i].sealed) {	/* the newest: recover_open() checks it */
			free(path);
			break;
		}
		rc = open_checked(w, path, 0, l.v[i].seq, &have_id, &fd, &size, &h, &hl, err);
		if (rc == 0)
			rc = sl_err_set(err, -SL_ECORRUPT, "'%s': torn header at offset 0", path);
		if (rc > 0 && i > 0)
			rc = seg__chain_check(path, h, l.v[i - 1].seq, w->prev_hash, prev_end, err);
		if (rc >= 0)
			rc = seg__footer_read(fd, path, size, l.v[i].seq, &f, w->prev_hash, err);
		free(path);
		if (rc >= 0) {
			fmt_position_free(prev_end);
			prev_end = f->end ? fmt_position_dup(f->end) : NULL;
			sluice__segment_footer__free_unpacked(f, NULL);
		}
		if (h)
			sluice__segment_header__free_unpacked(h, NULL);
		if (fd >= 0)
			close(fd);
		if (rc < 0)
			goto out;
	}
	n = l.n;
	if (n && !l.v[n - 1].sealed) {
		rc = recover_open(w, l.v[n - 1].seq, &have_id, &sealed, n > 1, n > 1 ? prev_end : NULL,
				  err);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			rc = 0;
			goto out;
		}
		if (!sealed)
			n--;	/* removed */
	}
	if (n) {
		rc = after_sealed(w, l.v[n - 1].seq, err);
		goto out;
	}
	/* a new stream */
	if (getrandom(w->stream_id, sizeof(w->stream_id), 0) != (ssize_t)sizeof(w->stream_id)) {
		int e = errno;
		rc = sl_err_set(err, -e, "getrandom failed: %s", strerror(e));
		goto out;
	}
	w->seq = 1;
	w->state = SEG_W_EMPTY;
	set_pos(&w->start, opts->start);
	rc = 0;
out:
	fmt_position_free(prev_end);
	seg__list_release(&l);
	return rc;
}

int seg__writer_open_io(struct seg_writer **wp, const struct seg_writer_opts *opts,
			struct seg_io *io, struct sl_err *err)
{
	struct seg_writer *w;
	int rc;

	*wp = NULL;
	if (!opts->dir || !opts->source) {
		if (io)
			io->close(io);
		return sl_err_set(err, -SL_EINVAL_ARG, "a stream directory and a source identity are required");
	}
	w = sl_xcalloc(1, sizeof(*w));
	w->fd = -1;
	w->lock_fd = -1;
	w->io = io;
	w->dir = sl_xstrdup(opts->dir);
	w->source = sl_xstrdup(opts->source);
	w->segment_size = opts->segment_size ? opts->segment_size : SEG_DEFAULT_SEGMENT;
	w->interval_ms = opts->commit_interval_ms;
	w->segment_age_ms = opts->segment_age_ms;
	w->frame_bytes = opts->frame_bytes ? opts->frame_bytes : SEG_DEFAULT_FRAME;
	if (w->frame_bytes < SEG_FRAME_MIN)
		w->frame_bytes = SEG_FRAME_MIN;
	if (w->frame_bytes > SEG_FRAME_BYTES_MAX)
		w->frame_bytes = SEG_FRAME_BYTES_MAX;
	sl_buf_init(&w->buf, w->frame_bytes + SEG_RAW_MAX);
	sl_buf_init(&w->out, SL_BUF_UNLIMITED);
	if ((rc = seg__dir_lock(w->dir, &w->lock_fd, err)))
		goto fail;
	if ((rc = recover(w, opts, err)))
		goto fail;
	rc = seg__pipe_start(&w->pipe, w->io, opts->zstd_level ? opts->zstd_level : 1,
			     w->frame_bytes + SEG_RAW_MAX, 2 * w->frame_bytes + 65536);
	if (rc) {
		sl_err_set(err, rc, "'%s': cannot start the writer thread: %s", w->dir, sl_strerror(rc));
		goto fail;
	}
	if (w->state == SEG_W_OPEN)
		seg__pipe_segment(w->pipe, w->fd, w->seg_off, w->frames, w->body_crc);
	w->last_sync_ms = sl_now_ms();
	assert(writer_ok(w));
	*wp = w;
	return 0;
fail:
	writer_free(w);
	return rc;
}

int seg_writer_open(struct seg_writer **w, const struct seg_writer_opts *opts,
		    struct sl_err *err)
{
	struct seg_io *io = NULL;

	if (!opts->no_uring) {
		int rc = seg__io_uring(&io);

		if (rc < 0) {
			sl_log(SL_WARN, "store", "io_uring unavailable (%s): using pwrite",
			       sl_strerror(rc));
			io = NULL;
		}
	}
	if (!io)
		io = seg__io_pwrite();
	return seg__writer_open_io(w, opts, io, err);
}
