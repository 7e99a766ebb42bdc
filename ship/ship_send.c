/* ship_send.c - sluice ship: DIR's sealed segments into the log (ship.h). */
#include "ship.h"
#include "ship_int.h"
#include "seg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <poll.h>
#include <sys/inotify.h>

#include <openssl/evp.h>

#include "banned.h"

/* Where a part stands in the log, asked once a round: the writer is the
 * only one (each publish expects the one before it), so afterwards it is
 * known without asking again at every look at DIR. */
struct part_pos {
	int known;
	uint64_t seq, off;		/* the next chunk to publish */
	char *source;			/* the directory's stream */
	uint8_t sid[16];
};

struct sender {
	const struct ship_opts *o;
	const struct xp_ops *ops;
	struct xp *x;
	const char *stream;		/* NAME, for the consumer file */
	uint8_t *buf;
	size_t chunk;
	struct ship_stats *st;
	struct part_pos pos[SHIP_PARTS];	/* this round's */
};

/* Sleep ms unless a stop is requested. */
static void nap(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (!sl_stop_requested && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Until something is renamed into a watched directory, or ms pass (a
 * signal ends the wait too: the caller looks at sl_stop_requested). */
static void wait_for_seal(int ino, uint32_t ms)
{
	struct pollfd p = { .fd = ino, .events = POLLIN };
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (poll(&p, 1, (int)ms) > 0)
		while (read(ino, buf, sizeof(buf)) > 0)
			;
}

static int read_at(int fd, uint8_t *buf, size_t n, uint64_t off, const char *dir, uint64_t seq,
		   struct sl_err *err)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, buf + got, n - got, (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return sl_err_set(err, k < 0 ? -errno : -SL_ECORRUPT,
					  "'%s': segment %" PRIu64 ": cannot read at offset %" PRIu64 ": %s", dir, seq,
					  off + got, k < 0 ? strerror(errno) : "shorter than it was");
		got += (size_t)k;
	}
	return 0;
}

/* Publish segment seq of dir from offset off on (what is before off is in
 * the log already: it is only hashed). 1: stopped before its end. */
static int ship_segment(struct sender *s, int part, const char *dir, uint64_t seq, uint64_t off,
			const uint8_t sid[16], const char *source, struct sl_err *err)
{
	struct ship_part_stats *ps = &s->st->part[part];
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	uint64_t size = 0, pos = 0;
	unsigned int hl = 0;
	int fd = -1, rc;

	if (!h || !EVP_DigestInit_ex(h, EVP_sha256(), NULL))
		sl_bug("sha-256 init failed");
	if ((rc = seg_sealed_open(dir, seq, &fd, &size, err)))
		goto out;
	if (off >= size) {
		rc = sl_err_set(err, -SL_ESTREAM, "%s holds segment %" PRIu64 " of '%s' up to offset %" PRIu64
				", the file has %" PRIu64 " bytes: not the same file", s->ops->name(s->x), seq, dir,
				off, size);
		goto out;
	}
	for (; pos < off; pos += s->chunk) {
		size_t n = off - pos < s->chunk ? (size_t)(off - pos) : s->chunk;

		if ((rc = read_at(fd, s->buf, n, pos, dir, seq, err)))
			goto out;
		EVP_DigestUpdate(h, s->buf, n);
	}
	for (pos = off; pos < size;) {
		struct ship_chunk c = { .part = part, .source = source, .seq = seq, .off = pos, .size = size };
		size_t n = size - pos < s->chunk ? (size_t)(size - pos) : s->chunk;

		if (sl_stop_requested) {
			rc = s->ops->flush(s->x, err);
			rc = rc ? rc : 1;
			goto out;
		}
		if ((rc = read_at(fd, s->buf, n, pos, dir, seq, err)))
			goto out;
		EVP_DigestUpdate(h, s->buf, n);
		memcpy(c.stream_id, sid, 16);
		c.data = s->buf;
		c.len = n;
		if (pos + n == size) {
			c.has_sha = 1;
			if (!EVP_DigestFinal_ex(h, c.sha, &hl))
				sl_bug("sha-256 final failed");
		}
		if ((rc = s->ops->publish(s->x, &c, err)))
			goto out;
		sl_failpoint("ship.chunk.after-publish");
		pos += n;
		ps->bytes += n;
		ps->messages++;
	}
	if ((rc = s->ops->flush(s->x, err)))
		goto out;
	if (!ps->first_seq)
		ps->first_seq = seq;
	ps->last_seq = seq;
	ps->segments++;
out:
	EVP_MD_CTX_free(h);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Record that every segment below next is shipped (consumer "ship-NAME"). */
static int mark_shipped(struct sender *s, const char *dir, uint64_t next, struct sl_err *err)
{
	struct seg_cursor cur = { .seq = next, .offset = 0, .index = 0 };
	uint64_t t = 0;
	char name[SL_CONSUMER_NAME_MAX + 1];
	struct sl_err e = SL_ERR_INIT;

	(void)seg_sealed_time(dir, next - 1, &t, &e);
	snprintf(name, sizeof(name), "ship-%s", s->stream);
	return seg_consumer_update(dir, name, &cur, t, err);
}

/* Ask the log where part stands and check it holds dir's stream, no more
 * than dir has sealed (last) and no segment dir has lost (below lowest). */
static int ask_log(struct sender *s, int part, const char *dir, uint64_t lowest, uint64_t last,
		   struct sl_err *err)
{
	struct part_pos *p = &s->pos[part];
	struct ship_chunk lc;
	char a[33], b[33];
	int rc, has;

	if ((rc = seg_dir_identity(dir, &p->source, p->sid, err)))
		return rc;
	if ((has = s->ops->last(s->x, part, &lc, err)) < 0)
		return has;
	if (has && (memcmp(lc.stream_id, p->sid, 16) || strcmp(lc.source, p->source))) {
		sl_hex(a, lc.stream_id, 16);
		sl_hex(b, p->sid, 16);
		return sl_err_set(err, -SL_ESTREAM, "%s holds stream %s (source '%s'), '%s' is stream %s (source '%s'): refused",
				  s->ops->name(s->x), a, lc.source, dir, b, p->source);
	}
	if (!has) {
		p->seq = lowest;
		p->off = 0;
	} else if (lc.off + lc.len == lc.size) {
		p->seq = lc.seq + 1;
		p->off = 0;
	} else {
		p->seq = lc.seq;
		p->off = lc.off + lc.len;
	}
	if (p->seq > last + 1 || (p->off && p->seq > last))
		return sl_err_set(err, -SL_ESTREAM, "%s holds segment %" PRIu64 " of this stream, '%s' has sealed only up to %"
				  PRIu64 ": an older copy of the directory? refused", s->ops->name(s->x),
				  p->off ? p->seq : p->seq - 1, dir, last);
	p->known = 1;
	return 0;
}

/* Everything sealed in one part's directory that the log lacks. 1: stopped. */
static int ship_part(struct sender *s, int part, const char *dir, struct sl_err *err)
{
	struct part_pos *p = &s->pos[part];
	uint64_t lowest, last;
	int rc;

	if ((rc = seg_sealed_range(dir, &lowest, &last, err)) || !last)
		return rc;
	if (!p->known && (rc = ask_log(s, part, dir, lowest, last, err)))
		return rc;
	if (p->seq < lowest)
		return sl_err_set(err, -SL_ESTREAM, "segment %" PRIu64 " of '%s' was removed before it was shipped to %s "
				  "(which holds up to segment %" PRIu64 "): refused", p->seq, dir, s->ops->name(s->x),
				  p->seq - 1);
	for (; p->seq <= last; p->seq++, p->off = 0) {
		if ((rc = ship_segment(s, part, dir, p->seq, p->off, p->sid, p->source, err)))
			return rc;
		if ((rc = mark_shipped(s, dir, p->seq + 1, err)))
			return rc;
	}
	return 0;
}

/* One round: connect, create the log, ship what there is (and with follow
 * what comes) until done, stopped or failed. */
static int ship_once(struct sender *s, struct sl_retry *r, int *connected, struct sl_err *err)
{
	const struct ship_opts *o = s->o;
	struct xp_create cr = { .replicas = o->replicas, .max_age_s = o->max_age_s, .max_bytes = o->max_bytes };
	char *snap = seg_snapshot_path(o->dir);
	int rc, ino = -1, snap_watched = 0;

	if ((rc = s->ops->open(&s->x, o->url, err)))
		goto out;
	*connected = 1;
	if ((rc = s->ops->create(s->x, &cr, err)) < 0)
		goto out;
	if (rc == 1)
		sl_log(SL_INFO, "ship", "created %s", s->ops->name(s->x));
	sl_retry_up(r);
	s->chunk = s->ops->max_chunk(s->x);
	if (s->chunk > 1024 * 1024)
		s->chunk = 1024 * 1024;
	/* a segment sealed is a rename into DIR (or DIR/snapshot): wake on it,
	 * and look every poll_ms anyway (a snapshot directory made later, an
	 * inotify queue overflow, a file system without inotify) */
	if (o->follow && (ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0)
		(void)inotify_add_watch(ino, o->dir, IN_MOVED_TO | IN_CLOSE_WRITE);
	for (;;) {
		if (ino >= 0 && !snap_watched && access(snap, F_OK) == 0)
			snap_watched = inotify_add_watch(ino, snap, IN_MOVED_TO | IN_CLOSE_WRITE) >= 0;
		if ((rc = ship_part(s, SHIP_LOG, o->dir, err)) ||
		    (rc = ship_part(s, SHIP_SNAP, snap, err)))
			break;
		if (!o->follow || sl_stop_requested)
			break;
		if (ino >= 0)
			wait_for_seal(ino, o->poll_ms ? o->poll_ms : 200);
		else
			nap(o->poll_ms ? o->poll_ms : 200);
		if (sl_stop_requested)
			break;
	}
	if (ino >= 0)
		close(ino);
	if (rc == 1)
		rc = 0;
out:
	if (s->x)
		s->ops->close(s->x);
	s->x = NULL;
	for (int k = 0; k < SHIP_PARTS; k++) {
		free(s->pos[k].source);
		memset(&s->pos[k], 0, sizeof(s->pos[k]));
	}
	free(snap);
	return rc;
}

static uint64_t sent(const struct ship_stats *st)
{
	return st->part[0].messages + st->part[1].messages;
}

int ship_run(const struct ship_opts *o, struct ship_stats *st, struct sl_err *err)
{
	struct sender s = { .o = o, .st = st };
	struct sl_retry r;
	const char *slash;
	char *state;
	uint64_t done;
	int rc, connected = 0;

	memset(st, 0, sizeof(*st));
	if (!(s.ops = xp_find(o->url, err)))
		return -SL_EINVAL_ARG;
	slash = strrchr(o->url, '/');
	s.stream = slash ? slash + 1 : "";
	if (strlen(s.stream) > SL_CONSUMER_NAME_MAX - 5)
		return sl_err_set(err, -SL_EINVAL_ARG, "nats url: NAME longer than %d characters",
				  SL_CONSUMER_NAME_MAX - 5);
	if (access(o->dir, F_OK) < 0)
		return sl_err_set(err, -errno, "'%s': %s", o->dir, strerror(errno));
	s.buf = sl_xmalloc(1024 * 1024);
	state = sl_xasprintf("%s/ship-%s.state", o->dir, s.stream);
	sl_retry_init(&r, "ship", s.stream, o->retry_for_ms, state);
	free(state);
	do {
		done = sent(st);
		rc = ship_once(&s, &r, &connected, err);
	} while (sl_retry_again(&r, &rc, sent(st) != done, connected || o->follow, err));
	sl_retry_end(&r, rc, err);
	sl_retry_release(&r);
	free(s.buf);
	return rc;
}
