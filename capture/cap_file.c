/* cap_file.c - read an archived binlog file event by event and feed the decoder. */
/*
 * Offsets given to the decoder are the real ones in the file (never
 * log_pos arithmetic, which relay logs and payload-inner events break), so
 * every error names the file and the byte where the bad event starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cap_int.h"
#include "banned.h"

#define BINLOG_MAGIC "\xfe" "bin"
#define EVENT_HEADER_LEN 19
/* The largest event we accept: a row event is bounded by max_allowed_packet (1 GiB). */
#define EVENT_MAX ((size_t)1 << 30)

/* A read-ahead buffer: one read() per RB_CAP bytes instead of two per event. */
#define RB_CAP ((size_t)1 << 20)

struct rbuf {
	int fd;
	uint8_t *b;
	size_t pos, len;
	int eof;
};

/* Copy exactly n bytes from the file into p; *got gets what was copied
 * (less only at the end of the file). 0 or -errno. */
static int rb_read(struct rbuf *r, uint8_t *p, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		size_t k;

		if (r->pos == r->len) {
			ssize_t rd;

			if (r->eof)
				break;
			if (n - *got >= RB_CAP) {
				/* a large event: straight into the caller's buffer */
				rd = read(r->fd, p + *got, n - *got);
				if (rd < 0) {
					if (errno == EINTR)
						continue;
					return -errno;
				}
				if (rd == 0)
					r->eof = 1;
				*got += (size_t)rd;
				continue;
			}
			rd = read(r->fd, r->b, RB_CAP);
			if (rd < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			r->pos = 0;
			r->len = (size_t)rd;
			if (rd == 0) {
				r->eof = 1;
				break;
			}
		}
		k = r->len - r->pos < n - *got ? r->len - r->pos : n - *got;
		memcpy(p + *got, r->b + r->pos, k);
		r->pos += k;
		*got += k;
	}
	return 0;
}

/* Make n bytes (n <= RB_CAP) readable at r->b + r->pos without copying
 * them out; *avail gets how many are (fewer only at the end of the file). */
static int rb_need(struct rbuf *r, size_t n, size_t *avail)
{
	if (r->len - r->pos < n && !r->eof) {
		memmove(r->b, r->b + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
		while (r->len < n && !r->eof) {
			ssize_t rd = read(r->fd, r->b + r->len, RB_CAP - r->len);

			if (rd < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if (rd == 0)
				r->eof = 1;
			r->len += (size_t)rd;
		}
	}
	*avail = r->len - r->pos < n ? r->len - r->pos : n;
	return 0;
}

static int drop_record(void *ctx, const Sluice__Record *rec, struct sl_err *err)
{
	(void)ctx;
	(void)rec;
	(void)err;
	return 0;
}

static int drop_txn_end(void *ctx, const Sluice__Position *pos, uint64_t t, struct sl_err *err)
{
	(void)ctx;
	(void)pos;
	(void)t;
	(void)err;
	return 0;
}

static const struct cap_sink drop_sink = { NULL, drop_record, drop_txn_end };

int cap_file_feed(struct cap_decoder *d, const char *path, const struct cap_sink *sink,
		  struct sl_err *err)
{
	return cap_file_feed_from(d, path, 0, sink, NULL, err);
}

int cap_file_feed_from(struct cap_decoder *d, const char *path, uint64_t skip_before,
		       const struct cap_sink *sink, uint64_t *end, struct sl_err *err)
{
	struct sl_buf ev = SL_BUF_INIT(EVENT_MAX);
	struct rbuf rb = { -1, NULL, 0, 0, 0 };
	const char *base = strrchr(path, '/');
	uint8_t magic[4];
	uint64_t off = 4;
	size_t got;
	int rc = 0, fd;

	base = base ? base + 1 : path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		return sl_err_set(err, -e, "cannot open binlog '%s': %s", path, strerror(e));
	}
	rb.fd = fd;
	rb.b = sl_xmalloc(RB_CAP);
	if ((rc = rb_read(&rb, magic, 4, &got)) < 0) {
		rc = sl_err_set(err, rc, "cannot read binlog '%s': %s", path, strerror(-rc));
		goto out;
	}
	if (got != 4 || memcmp(magic, BINLOG_MAGIC, 4) != 0) {
		rc = sl_err_set(err, -SL_EFORMAT, "'%s' is not a binlog file (no fe 62 69 6e magic at offset 0)",
				path);
		goto out;
	}
	cap_decoder_set_file(d, base);
	if (end)
		*end = off;
	for (;;) {
		uint32_t len;

		if (sl_stop_requested) {
			rc = sl_err_set(err, -SL_EINTR_STOP, "reading binlog '%s' stopped at offset %llu",
					path, (unsigned long long)off);
			goto out;
		}
		const uint8_t *evp;

		if ((rc = rb_need(&rb, EVENT_HEADER_LEN, &got)) < 0) {
			rc = sl_err_set(err, rc, "cannot read binlog '%s' at offset %llu: %s", path,
					(unsigned long long)off, strerror(-rc));
			goto out;
		}
		if (got == 0)
			break;	/* clean end of file */
		if (got < EVENT_HEADER_LEN) {
			rc = sl_err_set(err, -SL_ETORN, "binlog '%s': truncated event header at offset %llu (%zu of %d bytes)",
					path, (unsigned long long)off, got, EVENT_HEADER_LEN);
			goto out;
		}
		len = sl_le32(rb.b + rb.pos + 9);
		if (len < EVENT_HEADER_LEN || len > EVENT_MAX) {
			rc = sl_err_set(err, -SL_ECORRUPT, "binlog '%s': bad event length %u at offset %llu",
					path, len, (unsigned long long)off);
			goto out;
		}
		if (len <= RB_CAP) {
			/* the common case: decode the event where it was read */
			rc = rb_need(&rb, len, &got);
			evp = rb.b + rb.pos;
		} else {
			sl_buf_reset(&ev);
			if (sl_buf_reserve(&ev, len) < 0) {
				rc = sl_err_set(err, -SL_ETOOBIG, "binlog '%s': event of %u bytes at offset %llu is too large",
						path, len, (unsigned long long)off);
				goto out;
			}
			rc = rb_read(&rb, ev.data, len, &got);
			ev.len = len;
			evp = ev.data;
		}
		if (rc < 0) {
			rc = sl_err_set(err, rc, "cannot read binlog '%s' at offset %llu: %s", path,
					(unsigned long long)off, strerror(-rc));
			goto out;
		}
		if (got < len) {
			rc = sl_err_set(err, -SL_ETORN, "binlog '%s': truncated event at offset %llu (%zu of %u bytes)",
					path, (unsigned long long)off, got, len);
			goto out;
		}
		if (len <= RB_CAP)
			rb.pos += len;
		cap_decoder_set_offset(d, off);
		if (off >= skip_before)
			cap_decoder_freeze_schema(d, 0);	/* past the resume point: DDL counts again */
		rc = cap_decoder_event(d, evp, len, off < skip_before ? &drop_sink : sink, err);
		if (rc < 0)
			goto out;
		off += len;
		if (end)
			*end = off;
	}
out:
	sl_buf_release(&ev);
	free(rb.b);
	close(fd);
	return rc;
}
