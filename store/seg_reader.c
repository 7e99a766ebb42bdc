/* seg_reader.c - read the records of a segment in order, and follow a stream directory. */
#include "seg_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include "banned.h"

/* ---- the reader ----
 * Offsets in the current segment file (all frame starts):
 *   off       the frame to deliver next (or the loaded frame's start)
 *   safe_end  end of the last frame known to be followed by nothing but
 *             verified frames up to a SEG_FRAME_TXN_END frame: records of
 *             frames that end at or before it may be delivered
 *   scan_off  the next frame the look-ahead verifies
 * One frame is decompressed at a time (raw); the look-ahead only needs the
 * compressed payload for its CRC, which it reads into comp. */
struct seg_reader {
	char *dir;			/* NULL: a single file */
	char *path;			/* the file open in fd */
	int fd;
	int sealed;			/* opened as .seg, or footer seen */
	uint64_t seq;			/* segment in fd, or next to open */
	uint32_t header_len;
	Sluice__SegmentHeader *hdr;	/* of the segment in fd */
	Sluice__SegmentHeader *last_hdr;	/* of the last delivered record */
	uint8_t stream_id[16];
	int have_stream_id;
	/* the chain: the footer of the segment before the one in fd */
	uint8_t prev_hash[SEG_HASH_LEN];
	Sluice__Position *prev_end;
	uint64_t prev_seq;		/* 0: unknown (first segment read) */

	uint64_t off, safe_end, scan_off, footer_off;
	int footer_seen, done;		/* done: single file fully read */

	int loaded;			/* raw holds the frame at off */
	struct seg_frame cur;
	size_t pos;			/* next record in raw */
	uint32_t index;			/* its index */

	ZSTD_DCtx *dctx;
	struct sl_buf comp, raw;
};

static void free_hdr(struct seg_reader *r, Sluice__SegmentHeader *h)
{
	if (h && h != r->hdr && h != r->last_hdr)
		sluice__segment_header__free_unpacked(h, NULL);
}

static void close_segment(struct seg_reader *r)
{
	Sluice__SegmentHeader *h = r->hdr;

	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->hdr = NULL;
	free_hdr(r, h);
	free(r->path);
	r->path = NULL;
	r->loaded = 0;
	r->footer_seen = 0;
	r->sealed = 0;
}

static int file_size(struct seg_reader *r, uint64_t *size, struct sl_err *err)
{
	struct stat st;

	if (fstat(r->fd, &st) < 0) {
		int e = errno;
		return sl_err_set(err, -e, "cannot stat '%s': %s", r->path, strerror(e));
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Open path as segment r->seq (expect_seq 0: any). 1 opened, 0 not there (or
 * an open segment whose header is not complete yet), <0 error. */
static int open_file(struct seg_reader *r, char *path, int sealed, uint64_t expect_seq,
		     struct sl_err *err)
{
	Sluice__SegmentHeader *h = NULL;
	uint64_t size = 0;
	int rc;

	r->path = NULL;
	rc = seg__open_regular(path, 0, &r->fd, &size, err);
	if (rc) {
		if (rc == -ENOENT && r->dir) {
			free(path);
			return 0;
		}
		free(path);
		return rc;
	}
	r->path = path;
	if (sealed) {
		/* A sealed segment is trusted whole or not at all: check every frame,
		 * the footer and the trailer before delivering its first record. */
		struct seg_file_info fi;

		if ((rc = seg__check_file(r->fd, path, size, SEG_CHECK_SEALED, &fi, err)))
			goto fail;
		seg__file_info_release(&fi);
	}
	rc = seg__header_read(r->fd, path, size, &h, &r->header_len, err);
	if (rc == 0 && !sealed)
		goto fail;	/* being created: not yet */
	if (rc == 0)
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': torn header at offset 0", path);
	if (rc < 0)
		goto fail;
	if (expect_seq && h->seq != expect_seq) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': header names segment %llu",
				path, (unsigned long long)h->seq);
		goto fail;
	}
	if (r->have_stream_id && memcmp(r->stream_id, h->stream_id.data, 16)) {
		rc = sl_err_set(err, -SL_ESTREAM, "'%s': segment belongs to another stream", path);
		goto fail;
	}
	if ((rc = seg__chain_self_check(path, h, err)))
		goto fail;
	if (r->prev_seq && r->prev_seq + 1 == h->seq &&
	    (rc = seg__chain_check(path, h, r->prev_seq, r->prev_hash, r->prev_end, err)))
		goto fail;
	memcpy(r->stream_id, h->stream_id.data, 16);
	r->have_stream_id = 1;
	r->hdr = h;
	r->seq = h->seq;
	r->sealed = sealed;
	r->off = r->safe_end = r->scan_off = r->header_len;
	r->footer_seen = 0;
	r->loaded = 0;
	return 1;
fail:
	if (h)
		sluice__segment_header__free_unpacked(h, NULL);
	close(r->fd);
	r->fd = -1;
	free(path);
	r->path = NULL;
	return rc;
}

/* Open segment r->seq of the directory: 1, 0 (not there yet) or <0. */
static int open_segment(struct seg_reader *r, struct sl_err *err)
{
	int rc;

	/* .seg, then .open, then .seg again: the writer may rename in between. */
	if ((rc = open_file(r, seg__path(r->dir, r->seq, 1), 1, r->seq, err)))
		return rc;
	if ((rc = open_file(r, seg__path(r->dir, r->seq, 0), 0, r->seq, err)))
		return rc;
	return open_file(r, seg__path(r->dir, r->seq, 1), 1, r->seq, err);
}

/* The lowest segment of the directory (retention may have removed older). */
static int find_first(struct seg_reader *r, struct sl_err *err)
{
	struct seg_list l;
	int rc = seg__dir_scan(r->dir, &l, err);

	if (rc)
		return rc;
	r->seq = l.n ? l.v[0].seq : 0;
	seg__list_release(&l);
	return 0;
}

int seg_reader_open(struct seg_reader **rp, const char *path, struct sl_err *err)
{
	struct seg_reader *r = sl_xcalloc(1, sizeof(*r));
	struct stat st;
	int rc;

	*rp = NULL;
	r->fd = -1;
	sl_buf_init(&r->comp, SEG_PAYLOAD_MAX);
	sl_buf_init(&r->raw, SEG_RAW_MAX);
	r->dctx = ZSTD_createDCtx();
	if (!r->dctx)
		sl_bug("ZSTD_createDCtx failed");
	if (stat(path, &st) < 0) {
		int e = errno;
		rc = sl_err_set(err, -e, "cannot open '%s': %s", path, strerror(e));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		r->dir = sl_xstrdup(path);
		if ((rc = find_first(r, err)))
			goto fail;
	} else {
		size_t n = strlen(path);
		int sealed = !(n >= 5 && !strcmp(path + n - 5, ".open"));

		rc = open_file(r, sl_xstrdup(path), sealed, 0, err);
		if (rc == 0)
			rc = sl_err_set(err, -SL_ETORN, "'%s': header not complete", path);
		if (rc < 0)
			goto fail;
	}
	*rp = r;
	return 0;
fail:
	seg_reader_close(r);
	return rc;
}

int seg_reader_open_seq(struct seg_reader **rp, const char *dir, uint64_t seq,
			struct sl_err *err)
{
	struct seg_reader *r = NULL;
	int rc;

	*rp = NULL;
	if ((rc = seg_reader_open(&r, dir, err)))
		return rc;
	if (!r->dir) {
		seg_reader_close(r);
		return sl_err_set(err, -ENOTDIR, "'%s' is not a stream directory", dir);
	}
	/* read this one segment only: behave as if opened by its file name */
	r->seq = seq;
	rc = open_segment(r, err);
	if (rc == 0)
		rc = sl_err_set(err, -ENOENT, "'%s': no segment %llu", dir, (unsigned long long)seq);
	if (rc < 0) {
		seg_reader_close(r);
		return rc;
	}
	free(r->dir);
	r->dir = NULL;
	*rp = r;
	return 0;
}

void seg_reader_close(struct seg_reader *r)
{
	if (!r)
		return;
	close_segment(r);
	fmt_position_free(r->prev_end);
	if (r->last_hdr)
		sluice__segment_header__free_unpacked(r->last_hdr, NULL);
	ZSTD_freeDCtx(r->dctx);
	sl_buf_release(&r->comp);
	sl_buf_release(&r->raw);
	free(r->dir);
	free(r);
}

const Sluice__SegmentHeader *seg_reader_header(const struct seg_reader *r)
{
	return r->last_hdr;
}

uint64_t seg_reader_seq(const struct seg_reader *r)
{
	return r->seq;
}

/* Decompress the frame whose verified payload is in comp into raw. */
static int load(struct seg_reader *r, const struct seg_frame *f, struct sl_err *err)
{
	int rc = seg__frame_decompress(r->dctx, r->path, f, &r->comp, &r->raw, err);

	if (rc)
		return rc;
	r->cur = *f;
	r->off = f->off;
	r->pos = 0;
	r->index = 0;
	r->loaded = 1;
	return 0;
}

/* The footer frame (verified, payload in comp) at f: check it and the trailer. */
static int see_footer(struct seg_reader *r, const struct seg_frame *f, uint64_t size,
		      struct sl_err *err)
{
	Sluice__SegmentFooter *ft;
	uint8_t tr[SEG_TRAILER_LEN];
	uint64_t foff;
	uint32_t flen;

	if (size < f->end + SEG_TRAILER_LEN && !r->sealed)
		return 0;	/* the writer is sealing: not yet */
	if (size != f->end + SEG_TRAILER_LEN ||
	    seg__pread_full(r->fd, tr, sizeof(tr), f->end) ||
	    !seg__trailer_decode(tr, &foff, &flen) || foff != f->off ||
	    (uint64_t)flen != f->end - f->off)
		return sl_err_set(err, -SL_ECORRUPT, "'%s': bad trailer at offset %llu",
				  r->path, (unsigned long long)f->end);
	ft = sluice__segment_footer__unpack(NULL, r->comp.len, r->comp.data);
	if (!ft || ft->seq != r->seq || !ft->end) {
		if (ft)
			sluice__segment_footer__free_unpacked(ft, NULL);
		return sl_err_set(err, -SL_ECORRUPT, "'%s': bad footer at offset %llu",
				  r->path, (unsigned long long)f->off);
	}
	/* what the next segment's header must name (FORMAT.md "Chain") */
	seg__sha256(f->hdr, SEG_FRAME_HDR, r->comp.data, r->comp.len, r->prev_hash);
	fmt_position_free(r->prev_end);
	r->prev_end = fmt_position_dup(ft->end);
	r->prev_seq = r->seq;
	sluice__segment_footer__free_unpacked(ft, NULL);
	if (r->safe_end != f->off)
		return sl_err_set(err, -SL_ECORRUPT,
				  "'%s': footer at offset %llu follows a frame that does not end a transaction",
				  r->path, (unsigned long long)f->off);
	r->footer_seen = 1;
	r->footer_off = f->off;
	r->sealed = 1;
	return 1;
}

/* Verify frames from scan_off until a TXN_END frame or the footer. 1:
 * progress (safe_end moved or footer seen), 0: nothing more yet, <0. */
static int scan(struct seg_reader *r, struct sl_err *err)
{
	uint64_t size = 0, base;
	int rc, retried = 0;

	if (r->footer_seen)
		return sl_err_set(err, -SL_ECORRUPT, "'%s': frames before the footer do not end a transaction",
				  r->path);
	if ((rc = file_size(r, &size, err)))
		return rc;
	base = r->loaded ? r->cur.end : r->off;
	if (base < r->safe_end)
		base = r->safe_end;
	/* A writer that crashed cuts frames that no TXN_END frame covered and
	 * writes new ones there: what we verified beyond base may be gone. */
	if (r->scan_off < base || r->scan_off > size)
		r->scan_off = base;
	for (;;) {
		struct seg_frame f;

		/* the same judgement as verify --segments (seg_check.c) */
		rc = seg__frame_judge(r->fd, r->path, r->scan_off, &size, r->sealed, &f, &r->comp, err);
		if (rc < 0 && r->scan_off > base && !retried) {
			r->scan_off = base;
			retried = 1;
			continue;
		}
		if (rc != 1)
			return rc;	/* SEG_FRAME_SHORT: not written yet (0) */
		if (f.type == SEG_FRAME_FOOTER)
			return see_footer(r, &f, size, err);
		r->scan_off = f.end;
		if (!(f.flags & SEG_FRAME_TXN_END))
			continue;
		r->safe_end = f.end;
		/* the common case: the next frame to deliver ends a transaction */
		if (!r->loaded && f.off == r->off && (rc = load(r, &f, err)))
			return rc;
		return 1;
	}
}

static int load_at(struct seg_reader *r, uint64_t off, struct sl_err *err)
{
	struct seg_frame f;
	uint64_t size = 0;
	int rc;

	if ((rc = file_size(r, &size, err)))
		return rc;
	rc = seg__frame_read(r->fd, r->path, off, size, &f, &r->comp, err);
	if (rc == SEG_FRAME_SHORT)
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': truncated frame at offset %llu",
				r->path, (unsigned long long)off);
	if (rc < 0)
		return rc;
	if (f.type != SEG_FRAME_DATA)
		return sl_err_set(err, -SL_ECORRUPT, "'%s': no data frame at offset %llu",
				  r->path, (unsigned long long)off);
	return load(r, &f, err);
}

/* Move to the segment after the current one. 1 moved, 0 not there yet. */
static int next_segment(struct seg_reader *r, struct sl_err *err)
{
	uint64_t seq = r->seq + 1;
	int rc;

	if (!r->dir) {
		r->done = 1;
		return 0;
	}
	close_segment(r);
	r->seq = seq;
	rc = open_segment(r, err);
	if (rc == 0) {
		/* not there: not written yet, or removed by purge/retention
		 * while this reader still needed it (a higher one exists) */
		struct seg_list l;
		uint64_t top = 0;

		if ((rc = seg__dir_scan(r->dir, &l, err)))
			return rc;
		if (l.n)
			top = l.v[l.n - 1].seq;
		seg__list_release(&l);
		if (top > seq)
			return sl_err_set(err, -SL_ESTREAM, "'%s': segment %llu is missing while "
					  "segment %llu exists (removed by purge or retention before "
					  "this reader read it?)", r->dir, (unsigned long long)seq,
					  (unsigned long long)top);
	}
	return rc;
}

/* Moves r to its next record: 1 with *p and *n its bytes (a varint length
 * and the body) in the loaded frame, 0 when there is none yet, <0. */
static int next_record(struct seg_reader *r, const uint8_t **p, size_t *n, struct sl_err *err)
{
	int rc;

	*p = NULL;	/* find_first() and load_at() return 0 or <0: a */
	*n = 0;		/* Release build cannot prove it */
	for (;;) {
		if (r->loaded && r->pos < r->raw.len) {
			if (r->cur.end > r->safe_end) {
				if ((rc = scan(r, err)) <= 0)
					return rc;
				continue;
			}
			*p = r->raw.data + r->pos;
			*n = r->raw.len - r->pos;
			return 1;
		}
		if (r->loaded) {
			r->loaded = 0;
			r->off = r->cur.end;
		}
		if (r->done)
			return 0;
		if (r->fd < 0) {
			if (r->seq == 0 && (rc = find_first(r, err)))
				return rc;
			if (r->seq == 0)
				return 0;
			if ((rc = open_segment(r, err)) <= 0)
				return rc;
		}
		if (r->footer_seen && r->off == r->footer_off) {
			if ((rc = next_segment(r, err)) <= 0)
				return rc;
			continue;
		}
		if (r->off < r->safe_end) {
			if ((rc = load_at(r, r->off, err)))
				return rc;
			continue;
		}
		if ((rc = scan(r, err)) <= 0)
			return rc;
	}
}

/* The record at p was delivered: its cursor, and the reader past it. */
static void delivered(struct seg_reader *r, size_t used, struct seg_cursor *cur)
{
	cur->seq = r->seq;
	cur->offset = r->cur.off;
	cur->index = r->index++;
	r->pos += used;
	if (r->last_hdr != r->hdr) {
		Sluice__SegmentHeader *old = r->last_hdr;

		r->last_hdr = r->hdr;
		free_hdr(r, old);
	}
}

int seg_reader_next(struct seg_reader *r, Sluice__Record **rec,
		    struct seg_cursor *cur, struct sl_err *err)
{
	const uint8_t *p;
	size_t n, used;
	int rc;

	*rec = NULL;
	if ((rc = next_record(r, &p, &n, err)) <= 0)
		return rc;
	if ((rc = seg__record_decode(r->path, r->cur.off, r->index, p, n, &used, rec, err)))
		return rc;
	delivered(r, used, cur);
	return 1;
}

int seg_reader_next_raw(struct seg_reader *r, const uint8_t **body, size_t *len,
			struct seg_cursor *cur, struct sl_err *err)
{
	const uint8_t *p;
	size_t n, used;
	int rc;

	if ((rc = next_record(r, &p, &n, err)) <= 0)
		return rc;
	if (fmt_record_body(p, n, body, len, &used))
		return sl_err_set(err, -SL_ECORRUPT, "'%s': frame at offset %llu, record %u: bad "
				  "record length", r->path, (unsigned long long)r->cur.off, r->index);
	delivered(r, used, cur);
	return 1;
}

/* Skip the first n records of the loaded frame without decoding them. */
static int skip_records(struct seg_reader *r, uint32_t n, struct sl_err *err)
{
	while (n--) {
		uint64_t len;
		size_t hl;

		hl = fmt_varint_get(r->raw.data + r->pos, r->raw.len - r->pos, &len);
		if (!hl || len > r->raw.len - r->pos - hl)
			return sl_err_set(err, -SL_ECORRUPT,
					  "'%s': frame at offset %llu has no record %u",
					  r->path, (unsigned long long)r->cur.off, r->index);
		r->pos += hl + (size_t)len;
		r->index++;
	}
	return 0;
}

int seg_reader_seek_start(struct seg_reader *r, uint64_t seq, struct sl_err *err)
{
	int rc;

	if (!r->dir)
		return sl_err_set(err, -SL_EINVAL_ARG, "'%s' is one segment, not a stream directory",
				  r->path);
	close_segment(r);
	r->done = 0;
	r->prev_seq = 0;
	r->seq = seq;
	rc = open_segment(r, err);
	if (rc == 0)
		rc = sl_err_set(err, -ENOENT, "'%s': segment %llu not found", r->dir,
				(unsigned long long)seq);
	return rc < 0 ? rc : 0;
}

int seg_reader_seek_after(struct seg_reader *r, const struct seg_cursor *cur,
			  struct sl_err *err)
{
	int rc;

	if (r->dir) {
		close_segment(r);
		r->done = 0;
		r->prev_seq = 0;
		r->seq = cur->seq;
		rc = open_segment(r, err);
		if (rc == 0)
			rc = sl_err_set(err, -ENOENT, "'%s': segment %llu not found", r->dir,
					(unsigned long long)cur->seq);
		if (rc < 0)
			return rc;
	} else {
		if (cur->seq != r->seq)
			return sl_err_set(err, -SL_EINVAL_ARG, "'%s' is segment %llu, not %llu",
					  r->path, (unsigned long long)r->seq,
					  (unsigned long long)cur->seq);
		r->loaded = 0;
		r->done = 0;
		r->footer_seen = 0;
	}
	if (cur->offset < r->header_len)
		return sl_err_set(err, -SL_EINVAL_ARG, "'%s': offset %llu is inside the header",
				  r->path, (unsigned long long)cur->offset);
	if ((rc = load_at(r, cur->offset, err)))
		return rc;
	if ((rc = skip_records(r, cur->index + 1, err)))
		return rc;
	/* The records before the cursor were delivered, so their frames were
	 * safe; the rest of this frame is safe only if it ends a transaction. */
	r->scan_off = r->cur.end;
	r->safe_end = (r->cur.flags & SEG_FRAME_TXN_END) ? r->cur.end : r->cur.off;
	return 0;
}
