/* ship_recv.c - sluice receive: rebuild shipped segments in DIR (ship.h). */
#include "ship.h"
#include "ship_int.h"
#include "seg.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

#define READER_FILE "receiver"		/* DIR/receiver: this directory's reader name */

/* One part's receiving end: its directory and the segment being rebuilt. */
struct part {
	char *dir;
	struct seg_adopter *a;		/* opened at its first chunk */
	int fd;				/* the segment being rebuilt, -1: none */
	uint64_t seq, have, size;
	uint64_t target;		/* without follow: the log's last message at the start */
	uint64_t done_id;		/* the last message handled */
	uint64_t quiet_until;		/* found empty: not asked again before (ms) */
};

struct receiver {
	const struct receive_opts *o;
	const struct xp_ops *ops;
	struct xp *x;
	char reader[80];
	struct part p[SHIP_PARTS];
	struct receive_stats *st;
};

/* The reader name kept in DIR (made at the first run): one durable reader
 * per receiving directory, wherever it lives. */
static int reader_name(struct receiver *r, struct sl_err *err)
{
	char *path = sl_xasprintf("%s/%s", r->o->into, READER_FILE), buf[80];
	uint8_t rnd[8];
	ssize_t n;
	int fd, rc = 0;

	if (r->o->reader) {
		snprintf(r->reader, sizeof(r->reader), "%s", r->o->reader);
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		snprintf(r->reader, sizeof(r->reader), "%s", buf);
		if (!*r->reader)
			rc = sl_err_set(err, -SL_ECORRUPT, "'%s' names no reader", path);
		goto out;
	}
	if (errno != ENOENT) {
		rc = sl_err_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		sl_bug("getrandom failed");
	memcpy(buf, "recv-", 5);
	sl_hex(buf + 5, rnd, sizeof(rnd));
	snprintf(r->reader, sizeof(r->reader), "%s", buf);
	buf[5 + 2 * sizeof(rnd)] = '\n';
	rc = sl_write_file_atomic(path, buf, 6 + 2 * sizeof(rnd), 0600, err);
out:
	free(path);
	if (!rc)
		for (const char *c = r->reader; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			      *c == '-' || *c == '_'))
				return sl_err_set(err, -SL_EINVAL_ARG,
						  "reader name '%s': use letters, digits, '-' and '_'", r->reader);
	return rc;
}

static void part_drop(struct part *p)
{
	if (p->fd >= 0) {
		char *tmp = seg_adopt_tmp(p->a, p->seq);

		close(p->fd);
		(void)unlink(tmp);
		free(tmp);
	}
	p->fd = -1;
}

static int gap(struct receiver *r, const struct ship_chunk *c, const char *dir, const char *what,
	       struct sl_err *err)
{
	return sl_err_set(err, -SL_ESTREAM, "%s: message %" PRIu64 " holds segment %" PRIu64 " from offset %" PRIu64
			  ", %s ('%s')", r->ops->name(r->x), c->id, c->seq, c->off, what, dir);
}

/* One chunk of part k: write it, and add the segment once it is whole. */
static int take(struct receiver *r, int k, const struct ship_chunk *c, struct sl_err *err)
{
	struct part *p = &r->p[k];
	struct receive_part_stats *ps = &r->st->part[k];
	const uint8_t *sid;
	const char *src;
	uint64_t head;
	char a[33], b[33];
	int rc;

	if (!p->a && (rc = seg_adopt_open(&p->a, p->dir, err)))
		return rc;
	head = seg_adopt_head(p->a, &src, &sid);
	if (sid && (memcmp(sid, c->stream_id, 16) || strcmp(src, c->source))) {
		sl_hex(a, c->stream_id, 16);
		sl_hex(b, sid, 16);
		return sl_err_set(err, -SL_ESTREAM, "%s holds stream %s (source '%s'), '%s' holds stream %s (source '%s'): refused",
				  r->ops->name(r->x), a, c->source, p->dir, b, src);
	}
	ps->messages++;
	if (c->seq <= head) {		/* had it already: a re-delivery */
		ps->skipped++;
		return p->fd < 0 ? r->ops->ack(r->x, k, err) : 0;
	}
	if (p->fd < 0) {
		char *tmp;

		if (c->off) {
			if (!head) {		/* the log's start was removed: begin at a whole segment */
				ps->skipped++;
				return r->ops->ack(r->x, k, err);
			}
			return gap(r, c, p->dir, "the directory has nothing of that segment (gap)", err);
		}
		if (head && c->seq != head + 1)
			return gap(r, c, p->dir, "the directory ends at the segment before the previous one: "
				   "removed by the log's limits? (gap)", err);
		tmp = seg_adopt_tmp(p->a, c->seq);
		(void)unlink(tmp);
		p->fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (p->fd < 0) {
			rc = sl_err_set(err, -errno, "cannot create '%s': %s", tmp, strerror(errno));
			free(tmp);
			return rc;
		}
		free(tmp);
		p->seq = c->seq;
		p->size = c->size;
		p->have = 0;
	}
	if (c->seq != p->seq || c->size != p->size || c->off > p->have)
		return gap(r, c, p->dir, "not the next bytes of the segment being rebuilt (gap)", err);
	if (c->off < p->have) {		/* a re-delivery of what is written */
		ps->skipped++;
		return 0;
	}
	for (size_t w = 0; w < c->len;) {
		ssize_t n = pwrite(p->fd, c->data + w, c->len - w, (off_t)(c->off + w));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sl_err_set(err, n < 0 ? -errno : -ENOSPC, "cannot write segment %" PRIu64 " in '%s': %s",
					  c->seq, p->dir, strerror(n < 0 ? errno : ENOSPC));
		w += (size_t)n;
	}
	p->have += c->len;
	ps->bytes += c->len;
	if (p->have < p->size)
		return 0;
	close(p->fd);
	p->fd = -1;
	if ((rc = seg_adopt_add(p->a, p->seq, p->size, c->sha, err)))
		return sl_err_prefix(err, "%s message %" PRIu64, r->ops->name(r->x), c->id);
	sl_failpoint("receive.add.before-ack");
	sl_log(SL_DEBUG, "receive", "added segment %" PRIu64 " (%" PRIu64 " bytes) to '%s'", p->seq, p->size, p->dir);
	ps->added++;
	if (!ps->first_seq)
		ps->first_seq = p->seq;
	ps->last_seq = p->seq;
	return r->ops->ack(r->x, k, err);
}

/* Without follow: every part has reached what the log held at the start. */
static int all_done(const struct receiver *r)
{
	for (int k = 0; k < SHIP_PARTS; k++)
		if (r->p[k].done_id < r->p[k].target)
			return 0;
	return 1;
}

static int receive_once(struct receiver *r, struct sl_retry *rt, int *connected, struct sl_err *err)
{
	const struct receive_opts *o = r->o;
	int rc, idle = 0;

	if ((rc = r->ops->open(&r->x, o->url, err)))
		goto out;
	*connected = 1;
	if ((rc = r->ops->exists(r->x, err))) {
		if (rc == -ENOENT && o->follow)
			rc = -SL_ETRANSIENT;	/* ship has not made it yet: wait for it */
		goto out;
	}
	for (int k = 0; k < SHIP_PARTS; k++) {
		if ((rc = r->ops->subscribe(r->x, k, r->reader, &r->p[k].done_id, err)))
			goto out;
		if (!o->follow && (rc = r->ops->last_id(r->x, k, &r->p[k].target, err)))
			goto out;
	}
	sl_retry_up(rt);
	sl_log(SL_DEBUG, "receive", "reading %s as %s", r->ops->name(r->x), r->reader);
	while (!sl_stop_requested && (o->follow || !all_done(r))) {
		uint64_t now = sl_now_ms();
		int got = 0;

		for (int k = 0; k < SHIP_PARTS && !rc; k++) {
			struct ship_chunk c;
			int n;

			/* a part done (without follow), or found empty a moment
			 * ago while the other is busy, is not asked: each ask
			 * that finds nothing costs a fetch's short wait */
			if ((!o->follow && r->p[k].done_id >= r->p[k].target) || (!idle && now < r->p[k].quiet_until))
				continue;
			/* wait on the change log only when both parts were idle */
			n = r->ops->fetch(r->x, k, idle && k == SHIP_LOG ? 100 : 0, &c, err);
			if (n < 0) {
				rc = n;
				break;
			}
			if (n == 0) {
				r->p[k].quiet_until = now + 250;
				continue;
			}
			got = 1;
			r->p[k].done_id = c.id;
			rc = take(r, k, &c, err);
		}
		if (rc)
			break;
		idle = !got;
	}
out:
	for (int k = 0; k < SHIP_PARTS; k++)
		part_drop(&r->p[k]);
	if (r->x)
		r->ops->close(r->x);
	r->x = NULL;
	return rc;
}

static uint64_t received(const struct receive_stats *st)
{
	return st->part[0].bytes + st->part[1].bytes + st->part[0].skipped + st->part[1].skipped;
}

int receive_run(const struct receive_opts *o, struct receive_stats *st, struct sl_err *err)
{
	struct receiver r = { .o = o, .st = st };
	struct sl_retry rt;
	char *state = NULL;
	uint64_t done;
	int rc, connected = 0;

	memset(st, 0, sizeof(*st));
	for (int k = 0; k < SHIP_PARTS; k++)
		r.p[k].fd = -1;
	if (!(r.ops = xp_find(o->url, err)))
		return -SL_EINVAL_ARG;
	if (mkdir(o->into, 0700) < 0 && errno != EEXIST)
		return sl_err_set(err, -errno, "cannot create '%s': %s", o->into, strerror(errno));
	r.p[SHIP_LOG].dir = sl_xstrdup(o->into);
	r.p[SHIP_SNAP].dir = seg_snapshot_path(o->into);
	/* the lock now: a directory a capture writes is refused before any fetch */
	if ((rc = seg_adopt_open(&r.p[SHIP_LOG].a, o->into, err)) || (rc = reader_name(&r, err)))
		goto out;
	state = sl_xasprintf("%s/receive.state", o->into);
	sl_retry_init(&rt, "receive", o->url, o->retry_for_ms, state);
	do {
		done = received(st);
		rc = receive_once(&r, &rt, &connected, err);
	} while (sl_retry_again(&rt, &rc, received(st) != done, connected || o->follow, err));
	sl_retry_end(&rt, rc, err);
	sl_retry_release(&rt);
out:
	for (int k = 0; k < SHIP_PARTS; k++) {
		seg_adopt_close(r.p[k].a);
		free(r.p[k].dir);
	}
	free(state);
	return rc;
}
