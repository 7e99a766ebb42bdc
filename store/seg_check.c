/* seg_check.c - check a whole segment file and a whole stream directory (sluice verify --segments). */
#include "seg_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include "banned.h"

void seg__file_info_release(struct seg_file_info *fi)
{
	if (!fi)
		return;
	if (fi->hdr)
		sluice__segment_header__free_unpacked(fi->hdr, NULL);
	if (fi->footer)
		sluice__segment_footer__free_unpacked(fi->footer, NULL);
	fmt_position_free(fi->last_pos);
	memset(fi, 0, sizeof(*fi));
}

static void set_last_pos(Sluice__Position **dst, const Sluice__Position *p)
{
	fmt_position_free(*dst);
	*dst = p ? fmt_position_dup(p) : NULL;
}

int seg__summary(const char *dir, const struct seg_entry *e, int torn_ok, struct seg_file_info *fi,
		 struct sl_err *err)
{
	struct seg_entry ent = *e;
	char *path;
	uint64_t size = 0;
	uint32_t hl = 0;
	int fd = -1, rc;

	memset(fi, 0, sizeof(*fi));
	/* status and purge list DIR while capture runs and seals */
	if ((rc = seg__open_entry(dir, &ent, &path, &fd, &size, err)))
		goto out;
	e = &ent;
	rc = seg__header_read(fd, path, size, &fi->hdr, &hl, err);
	if (rc == 1 && e->sealed) {
		if (!(rc = seg__footer_read(fd, path, size, e->seq, &fi->footer, NULL, err))) {
			seg__counts_from_footer(&fi->n, fi->footer);
			fi->first_time = fi->footer->first_time;
			fi->last_time = fi->footer->last_time;
			set_last_pos(&fi->last_pos, fi->footer->end);
		}
	} else if (rc == 1) {
		sluice__segment_header__free_unpacked(fi->hdr, NULL);
		fi->hdr = NULL;
		rc = seg__check_file(fd, path, size, 0, fi, err);	/* reads it again */
	} else if (rc == 0 && !e->sealed && torn_ok) {
		rc = 0;		/* nothing written yet */
	} else if (rc == 0) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': torn header at offset 0", path);
	}
	fi->size = size;
	fi->header_len = hl;
	fi->sealed = e->sealed;
out:
	if (rc)
		seg__file_info_release(fi);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* Count the records of one decompressed frame into c (seg__record_count()),
 * starting after record skip_to (-1: all). Keeps the last position and
 * time. With full (verify --deep) every record is decoded the way the
 * reader decodes it (seg__record_decode), so whatever replay would refuse is
 * found here; without, only the records that are counted by more than
 * their tag (seg__tag_counted()) are. */
static int count_raw(const char *path, uint64_t off, const struct sl_buf *raw, long skip_to,
		     int full, struct seg_counts *c, uint64_t *first_time, uint64_t *last_time,
		     Sluice__Position **last_pos, struct sl_err *err)
{
	size_t pos = 0;
	long idx = 0;

	while (pos < raw->len) {
		uint64_t len;
		size_t hl = fmt_varint_get(raw->data + pos, raw->len - pos, &len);
		uint8_t tag;

		if (!hl || len > raw->len - pos - hl)
			return sl_err_set(err, -SL_ECORRUPT, "'%s': frame at offset %llu: record %ld overruns the frame",
					  path, (unsigned long long)off, idx);
		tag = len ? raw->data[pos + hl] : 0;
		if (idx > skip_to) {
			if (full || seg__tag_counted(tag)) {
				Sluice__Record *r = NULL;
				const Sluice__Position *p;
				uint64_t t = 0;
				size_t used;
				int rc = seg__record_decode(path, off, (uint32_t)idx, raw->data + pos,
							    raw->len - pos, &used, &r, err);

				if (rc)
					return rc;
				p = seg__record_count(c, r, &t);
				/* heartbeats' times never counted as commit times */
				if (r->body_case == SLUICE__RECORD__BODY_HEARTBEAT)
					t = 0;
				if (t) {
					if (first_time && !*first_time)
						*first_time = t;
					*last_time = t;
				}
				if (p && last_pos)
					set_last_pos(last_pos, p);
				fmt_record_free(r);
			} else if (tag == SEG_TAG_ROW) {
				c->rows++;
			}
		}
		pos += hl + (size_t)len;
		idx++;
	}
	return 0;
}

int seg__check_file(int fd, const char *path, uint64_t size, unsigned flags,
		    struct seg_file_info *fi, struct sl_err *err)
{
	struct sl_buf payload = SL_BUF_INIT(SEG_PAYLOAD_MAX), raw = SL_BUF_INIT(SEG_RAW_MAX);
	ZSTD_DCtx *d = NULL;
	uint64_t off, txn_end = 0, frames = 0, t0 = 0, t1 = 0, v_frames = 0, v_t1 = 0;
	struct seg_counts n = { 0 }, v_n = { 0 };
	uint32_t hl = 0, body_crc = 0;
	int rc, last_txn_end = 1, deep;

	memset(fi, 0, sizeof(*fi));
	fi->size = size;
	rc = seg__header_read(fd, path, size, &fi->hdr, &hl, err);
	if (rc == 0)
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': torn header at offset 0", path);
	if (rc < 0)
		goto out;
	if ((rc = seg__chain_self_check(path, fi->hdr, err)))
		goto out;
	fi->header_len = hl;
	fi->valid_end = hl;
	txn_end = hl;
	set_last_pos(&fi->last_pos, fi->hdr->start);
	/* The trailer tells a sealed file from the outside; the walk checks it. */
	{
		Sluice__SegmentFooter *f = NULL;
		struct sl_err e2 = SL_ERR_INIT;

		if (!seg__footer_read(fd, path, size, fi->hdr->seq, &f, fi->footer_hash, &e2)) {
			fi->footer = f;
			fi->sealed = 1;
		}
	}
	if ((flags & SEG_CHECK_SEALED) && !fi->sealed) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': not sealed: no valid trailer and footer at offset %llu",
				path, (unsigned long long)(size >= SEG_TRAILER_LEN ? size - SEG_TRAILER_LEN : 0));
		goto out;
	}
	deep = (flags & SEG_CHECK_DEEP) || !fi->sealed;
	if (deep && !(d = ZSTD_createDCtx()))
		sl_bug("ZSTD_createDCtx failed");
	off = hl;
	for (;;) {
		struct seg_frame f;
		/* the reader's judgement (seg_reader.c), so verify rejects what replay rejects */
		int fr = seg__frame_judge(fd, path, off, &size, fi->sealed, &f, &payload, err);

		if (fr == SEG_FRAME_SHORT)
			break;	/* open: a write in progress, or nothing more */
		if (fr < 0) {
			rc = fr;
			goto out;
		}
		if (f.type == SEG_FRAME_FOOTER) {
			if (!fi->sealed || off + (f.end - f.off) + SEG_TRAILER_LEN != size) {
				/* open: a seal in progress (footer without a complete trailer) */
				if (!fi->sealed && f.end + SEG_TRAILER_LEN >= size)
					break;
				rc = sl_err_set(err, -SL_ECORRUPT, "'%s': footer frame at offset %llu is not the last frame",
						path, (unsigned long long)off);
				goto out;
			}
			if (!last_txn_end) {
				rc = sl_err_set(err, -SL_ECORRUPT,
						"'%s': footer at offset %llu follows a frame that does not end a transaction",
						path, (unsigned long long)off);
				goto out;
			}
			break;
		}
		if (deep) {
			if ((rc = seg__frame_decompress(d, path, &f, &payload, &raw, err)))
				goto out;
			if ((rc = count_raw(path, off, &raw, -1, !!(flags & SEG_CHECK_DEEP), &n, &t0, &t1,
					    fi->sealed ? NULL : &fi->last_pos, err)))
				goto out;
		} else {
			/* One zstd frame of raw_len bytes, read from its headers only. */
			unsigned long long cs = ZSTD_getFrameContentSize(payload.data, payload.len);

			if (cs != f.raw_len ||
			    ZSTD_findFrameCompressedSize(payload.data, payload.len) != payload.len) {
				rc = sl_err_set(err, -SL_ECORRUPT,
						"'%s': frame at offset %llu is not one zstd frame of %u bytes",
						path, (unsigned long long)off, f.raw_len);
				goto out;
			}
		}
		body_crc = sl_crc32c(body_crc, f.hdr, SEG_FRAME_HDR);
		frames++;
		off = f.end;
		last_txn_end = !!(f.flags & SEG_FRAME_TXN_END);
		if (last_txn_end) {
			txn_end = off;
			v_frames = frames;
			v_n = n;
			v_t1 = t1;
		}
	}
	fi->valid_end = txn_end;
	fi->frames = fi->sealed ? frames : v_frames;
	if (fi->sealed) {
		const Sluice__SegmentFooter *ft = fi->footer;
		uint8_t h4[4];

		sl_put_le32(h4, body_crc);
		if (off != txn_end || ft->body_bytes != off - hl || ft->frames != frames ||
		    ft->body_hash.len != 4 || memcmp(ft->body_hash.data, h4, 4) || !ft->end) {
			rc = sl_err_set(err, -SL_ECORRUPT,
					"'%s': footer at offset %llu does not describe the body (bytes, frames or body hash)",
					path, (unsigned long long)off);
			goto out;
		}
		seg__counts_from_footer(&fi->n, ft);
		if (deep && !seg__counts_equal(&fi->n, &n)) {
			rc = sl_err_set(err, -SL_ECORRUPT,
					"'%s': footer at offset %llu counts %llu transactions, %llu rows and %llu chunks, "
					"the body holds %llu, %llu and %llu (or other counts differ)",
					path, (unsigned long long)off, (unsigned long long)ft->transactions,
					(unsigned long long)ft->rows, (unsigned long long)ft->chunks,
					(unsigned long long)n.transactions, (unsigned long long)n.rows,
					(unsigned long long)n.chunks);
			goto out;
		}
		fi->first_time = ft->first_time;
		fi->last_time = ft->last_time;
		set_last_pos(&fi->last_pos, ft->end);
	} else {
		fi->n = v_n;
		fi->first_time = t0;
		fi->last_time = v_t1;
	}
	rc = 0;
out:
	if (rc)
		seg__file_info_release(fi);
	ZSTD_freeDCtx(d);
	sl_buf_release(&payload);
	sl_buf_release(&raw);
	return rc;
}

int seg__count_after(int fd, const char *path, uint64_t size, uint64_t offset,
		     uint32_t index, uint64_t *txns, uint64_t *last_time, struct sl_err *err)
{
	struct sl_buf payload = SL_BUF_INIT(SEG_PAYLOAD_MAX), raw = SL_BUF_INIT(SEG_RAW_MAX);
	ZSTD_DCtx *d = ZSTD_createDCtx();
	struct seg_counts n = { 0 };
	uint64_t off = offset;
	int rc = 0, first = 1;

	*txns = 0;
	if (!d)
		sl_bug("ZSTD_createDCtx failed");
	for (;;) {
		struct seg_frame f;
		int fr = seg__frame_read(fd, path, off, size, &f, &payload, err);

		if (fr != 1 || f.type != SEG_FRAME_DATA)
			break;	/* the end of what is valid */
		if ((rc = seg__frame_decompress(d, path, &f, &payload, &raw, err)) ||
		    (rc = count_raw(path, off, &raw, first ? (long)index : -1, 0, &n, NULL,
				    last_time, NULL, err)))
			break;
		*txns = n.transactions;
		first = 0;
		off = f.end;
	}
	ZSTD_freeDCtx(d);
	sl_buf_release(&payload);
	sl_buf_release(&raw);
	return rc;
}

/* ---- a whole directory ---- */

struct vctx {
	seg_problem_fn cb;
	void *ctx;
	struct seg_verify_summary *s;
};

static void problem(struct vctx *v, const char *path, const char *msg)
{
	v->s->problems++;
	if (v->cb)
		v->cb(v->ctx, path, msg);
}

int seg_verify_dir(const char *dir, unsigned flags, seg_problem_fn cb, void *ctx,
		   struct seg_verify_summary *s, struct sl_err *err)
{
	struct vctx v = { cb, ctx, s };
	struct seg_list l;
	uint8_t prev_hash[SEG_HASH_LEN], sid[16];
	Sluice__Position *prev_end = NULL;
	char *source = NULL;
	uint64_t prev_seq = 0;
	int have_prev = 0, rc;

	memset(s, 0, sizeof(*s));
	if ((rc = seg__dir_scan(dir, &l, err))) {
		/* a gap, a duplicate or a hostile entry is a finding, not a usage error */
		if (rc == -SL_ECORRUPT) {
			problem(&v, dir, err->msg);
			*err = (struct sl_err)SL_ERR_INIT;
			return 0;
		}
		return rc;
	}
	for (size_t i = 0; i < l.n; i++) {
		char *path;
		struct seg_file_info fi;
		struct sl_err e = SL_ERR_INIT;
		uint64_t size = 0;
		int fd = -1;

		s->segments++;
		/* verify --segments of a DIR capture is writing: sealed since the scan */
		rc = seg__open_entry(dir, &l.v[i], &path, &fd, &size, &e);
		if (!rc)
			rc = seg__check_file(fd, path, size,
					     (flags & SEG_VERIFY_DEEP ? SEG_CHECK_DEEP : 0) |
					     (l.v[i].sealed ? SEG_CHECK_SEALED : 0), &fi, &e);
		if (fd >= 0)
			close(fd);
		s->bytes += size;
		if (rc) {
			problem(&v, path, e.msg);
			have_prev = 0;
			free(path);
			continue;
		}
		if (fi.hdr->seq != l.v[i].seq) {
			snprintf(e.msg, sizeof(e.msg), "'%s': header names segment %llu (offset 16)", path,
				 (unsigned long long)fi.hdr->seq);
			problem(&v, path, e.msg);
		} else if (source && (strcmp(source, fi.hdr->source) || memcmp(sid, fi.hdr->stream_id.data, 16))) {
			snprintf(e.msg, sizeof(e.msg), "'%s': segment of another stream (offset %d)", path,
				 SEG_HDR_FIXED);
			problem(&v, path, e.msg);
		} else if (have_prev && prev_seq + 1 == fi.hdr->seq &&
			   seg__chain_check(path, fi.hdr, prev_seq, prev_hash, prev_end, &e)) {
			problem(&v, path, e.msg);
		}
		if (!source) {
			source = sl_xstrdup(fi.hdr->source);
			memcpy(sid, fi.hdr->stream_id.data, 16);
			s->source = sl_xstrdup(source);
			memcpy(s->stream_id, sid, 16);
		}
		if (fi.sealed)
			s->sealed++;
		if (!s->first_seq) {
			s->first_seq = fi.hdr->seq;
			s->first_pos = fmt_position_dup(fi.hdr->start);
		}
		s->last_seq = fi.hdr->seq;
		if (fi.last_pos) {
			fmt_position_free(s->last_pos);
			s->last_pos = fmt_position_dup(fi.last_pos);
		}
		s->transactions += fi.n.transactions;
		s->rows += fi.n.rows;
		s->ddls += fi.n.ddls;
		s->chunks += fi.n.chunks;
		s->schema_objects += fi.n.schema_objects;
		s->snapshot_runs += fi.n.snapshot_runs;
		s->tables_done += fi.n.tables_done;
		s->snapshot_ends += fi.n.snapshot_ends;
		if (fi.first_time && (!s->first_time || fi.first_time < s->first_time))
			s->first_time = fi.first_time;
		if (fi.last_time > s->last_time)
			s->last_time = fi.last_time;
		have_prev = fi.sealed;
		prev_seq = fi.hdr->seq;
		memcpy(prev_hash, fi.footer_hash, SEG_HASH_LEN);
		fmt_position_free(prev_end);
		prev_end = fi.footer && fi.footer->end ? fmt_position_dup(fi.footer->end) : NULL;
		seg__file_info_release(&fi);
		free(path);
	}
	fmt_position_free(prev_end);
	free(source);
	seg__list_release(&l);
	return 0;
}

void seg_verify_summary_release(struct seg_verify_summary *s)
{
	if (!s)
		return;
	fmt_position_free(s->first_pos);
	fmt_position_free(s->last_pos);
	free(s->source);
	memset(s, 0, sizeof(*s));
}
