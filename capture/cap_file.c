/* cap_file.c - read an archived binlog file event by event and feed the decoder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cap_int.h"
#include "banned.h"

#define BINLOG_MAGIC "\xfe" "bin"
#define EVENT_HEADER_LEN 19
/* The largest event we accept: a row event is bounded by max_allowed_packet (1 GiB). */
#define EVENT_MAX ((size_t)1 << 30)

/* Read exactly n bytes at the current offset; *got gets what was read. */
static int read_full(int fd, uint8_t *p, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t r = read(fd, p + *got, n - *got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

int cap_file_feed(struct cap_decoder *d, const char *path, const struct cap_sink *sink,
		  struct sl_err *err)
{
	struct sl_buf ev = SL_BUF_INIT(EVENT_MAX);
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
	if ((rc = read_full(fd, magic, 4, &got)) < 0) {
		rc = sl_err_set(err, rc, "cannot read binlog '%s': %s", path, strerror(-rc));
		goto out;
	}
	if (got != 4 || memcmp(magic, BINLOG_MAGIC, 4) != 0) {
		rc = sl_err_set(err, -SL_EFORMAT, "'%s' is not a binlog file (no fe 62 69 6e magic at offset 0)",
				path);
		goto out;
	}
	cap_decoder_set_file(d, base);
	for (;;) {
		uint32_t len;

		if (sl_stop_requested) {
			rc = sl_err_set(err, -SL_EINTR_STOP, "reading binlog '%s' stopped at offset %llu",
					path, (unsigned long long)off);
			goto out;
		}
		sl_buf_reset(&ev);
		if (sl_buf_reserve(&ev, EVENT_HEADER_LEN) < 0)
			sl_bug("cannot reserve an event header");
		if ((rc = read_full(fd, ev.data, EVENT_HEADER_LEN, &got)) < 0) {
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
		len = sl_le32(ev.data + 9);
		if (len < EVENT_HEADER_LEN || len > EVENT_MAX) {
			rc = sl_err_set(err, -SL_ECORRUPT, "binlog '%s': bad event length %u at offset %llu",
					path, len, (unsigned long long)off);
			goto out;
		}
		if (sl_buf_reserve(&ev, len) < 0) {
			rc = sl_err_set(err, -SL_ETOOBIG, "binlog '%s': event of %u bytes at offset %llu is too large",
					path, len, (unsigned long long)off);
			goto out;
		}
		ev.len = EVENT_HEADER_LEN;
		if ((rc = read_full(fd, ev.data + EVENT_HEADER_LEN, len - EVENT_HEADER_LEN, &got)) < 0) {
			rc = sl_err_set(err, rc, "cannot read binlog '%s' at offset %llu: %s", path,
					(unsigned long long)off, strerror(-rc));
			goto out;
		}
		if (got < len - EVENT_HEADER_LEN) {
			rc = sl_err_set(err, -SL_ETORN, "binlog '%s': truncated event at offset %llu (%zu of %u bytes)",
					path, (unsigned long long)off, got + EVENT_HEADER_LEN, len);
			goto out;
		}
		ev.len = len;
		rc = cap_decoder_event(d, ev.data, len, sink, err);
		if (rc < 0)
			goto out;
		off += len;
	}
out:
	sl_buf_release(&ev);
	close(fd);
	return rc;
}
