/* seg_frame.c - validate, decompress and decode the frames of a segment (below the reader, the directory and the checker, which all use it). */
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

int seg__pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -SL_ETORN;
		p += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- frames (shared with the writer's recovery) ---- */

void seg__frame_header(uint8_t hdr[SEG_FRAME_HDR], uint32_t payload_len,
		       uint32_t raw_len, uint8_t type, uint8_t flags,
		       const void *payload)
{
	uint32_t crc;

	sl_put_le32(hdr, payload_len);
	sl_put_le32(hdr + 4, raw_len);
	hdr[8] = type;
	hdr[9] = flags;
	hdr[10] = hdr[11] = 0;
	crc = sl_crc32c(0, hdr, 12);
	sl_put_le32(hdr + 12, sl_crc32c(crc, payload, payload_len));
}

int seg__frame_read(int fd, const char *path, uint64_t off, uint64_t size,
		    struct seg_frame *f, struct sl_buf *payload, struct sl_err *err)
{
	uint8_t h[SEG_FRAME_HDR];
	uint32_t crc;
	int rc;

	memset(f, 0, sizeof(*f));
	f->off = off;
	if (off + SEG_FRAME_HDR > size)
		return SEG_FRAME_SHORT;
	if ((rc = seg__pread_full(fd, h, sizeof(h), off)))
		return rc == -SL_ETORN ? SEG_FRAME_SHORT :
		       sl_err_set(err, rc, "cannot read '%s' at offset %llu: %s", path,
				  (unsigned long long)off, sl_strerror(rc));
	memcpy(f->hdr, h, sizeof(h));
	f->payload_len = sl_le32(h);
	f->raw_len = sl_le32(h + 4);
	f->type = h[8];
	f->flags = h[9];
	f->end = off + SEG_FRAME_HDR + f->payload_len;
	if (f->end > size)
		return SEG_FRAME_SHORT;
	if ((f->type != SEG_FRAME_DATA && f->type != SEG_FRAME_FOOTER) ||
	    (f->flags & ~(f->type == SEG_FRAME_DATA ? SEG_FRAME_TXN_END : 0)) ||
	    h[10] || h[11] || f->payload_len == 0)
		return sl_err_set(err, -SL_ECORRUPT, "'%s': bad frame header at offset %llu",
				  path, (unsigned long long)off);
	/* Checked before anything is allocated for the frame. */
	if (f->type == SEG_FRAME_DATA && (f->raw_len == 0 || f->raw_len > SEG_RAW_MAX))
		return sl_err_set(err, -SL_ECORRUPT,
				  "'%s': frame at offset %llu declares a raw length of %u bytes (limit %zu)",
				  path, (unsigned long long)off, f->raw_len, (size_t)SEG_RAW_MAX);
	if (f->type == SEG_FRAME_DATA ? f->payload_len > ZSTD_COMPRESSBOUND((size_t)f->raw_len) :
	    f->payload_len != f->raw_len || f->payload_len > SEG_FOOTER_MAX)
		return sl_err_set(err, -SL_ECORRUPT,
				  "'%s': frame at offset %llu declares %u payload bytes for %u raw bytes",
				  path, (unsigned long long)off, f->payload_len, f->raw_len);
	sl_buf_reset(payload);
	if ((rc = sl_buf_reserve(payload, f->payload_len)))
		return sl_err_set(err, rc, "'%s': frame at offset %llu too large", path,
				  (unsigned long long)off);
	if ((rc = seg__pread_full(fd, payload->data, f->payload_len, off + SEG_FRAME_HDR)))
		return rc == -SL_ETORN ? SEG_FRAME_SHORT :
		       sl_err_set(err, rc, "cannot read '%s' at offset %llu: %s", path,
				  (unsigned long long)off, sl_strerror(rc));
	payload->len = f->payload_len;
	crc = sl_crc32c(sl_crc32c(0, h, 12), payload->data, payload->len);
	if (crc != sl_le32(h + 12))
		return sl_err_set(err, -SL_ECORRUPT, "'%s': bad frame crc at offset %llu",
				  path, (unsigned long long)off);
	f->crc_ok = 1;
	return 1;
}

int seg__frame_judge(int fd, const char *path, uint64_t off, uint64_t *size, int sealed,
		     struct seg_frame *f, struct sl_buf *payload, struct sl_err *err)
{
	int rc, settled = 0;

	for (;;) {
		struct stat st;

		rc = seg__frame_read(fd, path, off, *size, f, payload, err);
		if (rc == 1)
			return 1;
		if (rc == SEG_FRAME_SHORT)
			return sealed ? sl_err_set(err, -SL_ECORRUPT, "'%s': truncated frame at offset %llu",
						   path, (unsigned long long)off) : SEG_FRAME_SHORT;
		/* Invalid. Only a whole frame at the very end of an open file can
		 * still be a write landing: look again a few times; if the file
		 * has not moved, it is damage. */
		if (sealed || f->crc_ok || !f->end || f->end != *size || settled >= SEG_SETTLE_LOOKS)
			break;
		{
			struct timespec ts = { 0, SEG_SETTLE_MS * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
		if (fstat(fd, &st) < 0) {
			int e = errno;
			return sl_err_set(err, -e, "cannot stat '%s': %s", path, strerror(e));
		}
		if ((uint64_t)st.st_size != *size) {
			*size = (uint64_t)st.st_size;
			settled = 0;
		} else {
			settled++;
		}
	}
	if (!sealed && f->end == *size) {
		char why[SL_ERR_LEN];

		snprintf(why, sizeof(why), "%s", err->msg);
		return sl_err_set(err, rc, "%s (the open segment's last frame, unchanged for %d ms: "
				  "damaged; the next capture cuts it)", why,
				  SEG_SETTLE_LOOKS * SEG_SETTLE_MS);
	}
	return rc;
}

int seg__record_decode(const char *path, uint64_t frame_off, uint32_t index, const uint8_t *p,
		       size_t n, size_t *used, Sluice__Record **rec, struct sl_err *err)
{
	int rc = fmt_record_unpack(p, n, used, rec, err);	/* a known body too */

	if (rc)
		return sl_err_prefix(err, "'%s': frame at offset %llu, record %u", path,
				     (unsigned long long)frame_off, index);
	return 0;
}

int seg__tag_counted(uint8_t tag)
{
	switch (tag) {
	case 0x1a:	/* commit = 3 */
	case 0x2a:	/* ddl = 5 */
	case 0x32:	/* heartbeat = 6 */
	case 0x3a:	/* schema = 7 */
	case 0x42:	/* snapshot_begin = 8 */
	case 0x52:	/* chunk_end = 10 */
	case 0x5a:	/* snapshot_end = 11 */
		return 1;
	default:
		return 0;
	}
}

const Sluice__Position *seg__record_count(struct seg_counts *c, const Sluice__Record *r,
					  uint64_t *t)
{
	struct seg_counts dummy;
	const Sluice__Position *p = NULL;
	uint64_t tm = 0;

	if (!c)
		c = &dummy;
	switch (r->body_case) {
	case SLUICE__RECORD__BODY_ROW:
		c->rows++;
		break;
	case SLUICE__RECORD__BODY_COMMIT:
		c->transactions++;
		p = r->commit->position;
		tm = r->commit->time;
		break;
	case SLUICE__RECORD__BODY_DDL:
		c->ddls++;
		p = r->ddl->position;
		tm = r->ddl->time;
		break;
	case SLUICE__RECORD__BODY_HEARTBEAT:
		c->account_statements += r->heartbeat->account_statements;
		c->replayed_transactions += r->heartbeat->replayed_transactions;
		c->replayed_ddls += r->heartbeat->replayed_ddls;
		p = r->heartbeat->position;
		tm = r->heartbeat->time;
		break;
	case SLUICE__RECORD__BODY_SCHEMA:
		c->schema_objects++;
		break;
	case SLUICE__RECORD__BODY_SNAPSHOT_BEGIN:
		c->snapshot_runs++;
		p = r->snapshot_begin->position;
		tm = r->snapshot_begin->time;
		break;
	case SLUICE__RECORD__BODY_CHUNK_END:
		c->chunks++;
		c->tables_done += r->chunk_end->table_done ? 1 : 0;
		break;
	case SLUICE__RECORD__BODY_SNAPSHOT_END:
		c->snapshot_ends++;
		p = r->snapshot_end->position;
		tm = r->snapshot_end->time;
		break;
	default:
		break;
	}
	if (t)
		*t = tm;
	return p;
}

void seg__counts_add(struct seg_counts *to, const struct seg_counts *from)
{
	to->transactions += from->transactions;
	to->rows += from->rows;
	to->ddls += from->ddls;
	to->account_statements += from->account_statements;
	to->replayed_transactions += from->replayed_transactions;
	to->replayed_ddls += from->replayed_ddls;
	to->chunks += from->chunks;
	to->schema_objects += from->schema_objects;
	to->snapshot_runs += from->snapshot_runs;
	to->tables_done += from->tables_done;
	to->snapshot_ends += from->snapshot_ends;
}

void seg__counts_to_footer(const struct seg_counts *c, Sluice__SegmentFooter *f)
{
	f->transactions = c->transactions;
	f->rows = c->rows;
	f->ddls = c->ddls;
	f->account_statements = c->account_statements;
	f->replayed_transactions = c->replayed_transactions;
	f->replayed_ddls = c->replayed_ddls;
	f->chunks = c->chunks;
	f->schema_objects = c->schema_objects;
	f->snapshot_runs = c->snapshot_runs;
	f->tables_done = c->tables_done;
	f->snapshot_ends = c->snapshot_ends;
}

void seg__counts_from_footer(struct seg_counts *c, const Sluice__SegmentFooter *f)
{
	memset(c, 0, sizeof(*c));
	c->transactions = f->transactions;
	c->rows = f->rows;
	c->ddls = f->ddls;
	c->account_statements = f->account_statements;
	c->replayed_transactions = f->replayed_transactions;
	c->replayed_ddls = f->replayed_ddls;
	c->chunks = f->chunks;
	c->schema_objects = f->schema_objects;
	c->snapshot_runs = f->snapshot_runs;
	c->tables_done = f->tables_done;
	c->snapshot_ends = f->snapshot_ends;
}

int seg__counts_equal(const struct seg_counts *a, const struct seg_counts *b)
{
	return a->transactions == b->transactions && a->rows == b->rows && a->ddls == b->ddls &&
	       a->account_statements == b->account_statements &&
	       a->replayed_transactions == b->replayed_transactions &&
	       a->replayed_ddls == b->replayed_ddls && a->chunks == b->chunks &&
	       a->schema_objects == b->schema_objects && a->snapshot_runs == b->snapshot_runs &&
	       a->tables_done == b->tables_done && a->snapshot_ends == b->snapshot_ends;
}

int seg__frame_decompress(struct ZSTD_DCtx_s *d, const char *path,
			  const struct seg_frame *f, const struct sl_buf *payload,
			  struct sl_buf *raw, struct sl_err *err)
{
	unsigned long long cs = ZSTD_getFrameContentSize(payload->data, payload->len);
	size_t n;
	int rc;

	/* raw_len <= SEG_RAW_MAX was checked before we get here: allocate now. */
	if (cs != f->raw_len ||
	    ZSTD_findFrameCompressedSize(payload->data, payload->len) != payload->len)
		return sl_err_set(err, -SL_ECORRUPT,
				  "'%s': frame at offset %llu is not one zstd frame of %u bytes",
				  path, (unsigned long long)f->off, f->raw_len);
	sl_buf_reset(raw);
	if ((rc = sl_buf_reserve(raw, f->raw_len)))
		return sl_err_set(err, rc, "'%s': frame at offset %llu too large", path,
				  (unsigned long long)f->off);
	n = ZSTD_decompressDCtx(d, raw->data, f->raw_len, payload->data, payload->len);
	if (ZSTD_isError(n) || n != f->raw_len)
		return sl_err_set(err, -SL_ECORRUPT, "'%s': frame at offset %llu does not decompress: %s",
				  path, (unsigned long long)f->off,
				  ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short output");
	raw->len = n;
	return 0;
}
