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
	int rc = fmt_record_unpack(p, n, used, rec, err);

	if (!rc && (*rec)->body_case == SLUICE__RECORD__BODY__NOT_SET) {
		fmt_record_free(*rec);
		*rec = NULL;
		rc = sl_err_set(err, -SL_ECORRUPT, "record of no known type");
	}
	if (rc)
		return sl_err_prefix(err, "'%s': frame at offset %llu, record %u", path,
				     (unsigned long long)frame_off, index);
	return 0;
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
