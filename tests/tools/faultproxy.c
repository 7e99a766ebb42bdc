/* faultproxy.c - a loopback TCP proxy for tests that cuts, stalls, slows and corrupts on command. */
/*
 * Test-only (tests/CMakeLists.txt builds it, nothing installs it). One process,
 * one poll() loop, any number of connections.
 *
 *   faultproxy -t HOST:PORT [-l PORT] [-w PORTFILE] [-s SEED] [-r RECFILE]
 *       listens on 127.0.0.1:PORT (0 or absent: a free port) and forwards every
 *       connection to HOST:PORT; takes commands on a second loopback port (the
 *       control port, always picked free). When both listen, "PORT CTLPORT\n"
 *       is written to PORTFILE (atomically: temp file + rename) and to stdout.
 *       A log line per connection, cut and flip goes to stderr. With -r every
 *       byte read from either side is appended to RECFILE as it arrives (before
 *       any flip), so a test can look for plain text on the wire (test_tls.sh).
 *   faultproxy -c CTLPORT COMMAND [ARG...]
 *       sends one command, prints the reply line; exit 0 on "ok ...", 1 otherwise.
 *
 * Control protocol: one command per line, one reply line ("ok ..." or "err ...").
 *   pass                 no fault: clears blackhole, latency, throttle, a pending
 *                        cut and pending flips (the default state)
 *   cut rst|fin          close every connection now, both sides: RST (SO_LINGER 0)
 *                        or FIN (shutdown, then close)
 *   cut rst|fin K        the same once K more bytes went server->client (counted
 *                        over all connections; the K-th byte is the last one
 *                        delivered, so a cut lands inside a packet)
 *   blackhole            stop forwarding both ways; sockets stay open (no RST, no
 *                        FIN); bytes stay queued (in the kernel and here) and are
 *                        delivered intact after "pass"; new connections wait in
 *                        the listen queue
 *   latency MS           every chunk read is delivered MS ms later (both ways)
 *   throttle BPS         at most BPS bytes/s per connection and direction (0: off)
 *   flip N [SKIP]        in each of the next N connections that carry binlog events
 *                        (server->client MySQL packets "00 + event" whose event
 *                        size matches the packet, heartbeats excluded), skip
 *                        0..SKIP such events (uniform), then xor one byte at a random
 *                        offset of the next one (header, body or CRC) with a random
 *                        non-zero mask. At most one flip per connection, so a
 *                        client that drops the connection on the bad event and
 *                        re-fetches meets each flip once.
 *   flip N SKIP TYPE OFF MASK   the same, aimed: only events of type TYPE
 *                        (heartbeats too, if asked), the byte at event offset
 *                        OFF (negative: from the event's end, -1 = the last CRC
 *                        byte), xor MASK (decimal or 0x..)
 *   retarget HOST:PORT   new connections go to HOST:PORT (open ones stay)
 *   stats                "ok c2s=B s2c=B conns=N active=N flips=N flips_pending=N
 *                        cuts=N mode=pass|blackhole latency_ms=N throttle=N"
 *   quit                 exit 0 (open connections are closed with FIN)
 *
 * The packet parser follows MySQL framing from each connection's first byte
 * (3-byte length, sequence number); it assumes no TLS and no compression, as
 * the binlog dump over loopback in the tests has. Randomness: xorshift64 from
 * SEED (default time ^ pid), printed at start so a failing run can be repeated.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAX (256u * 1024)	/* per direction: stop reading beyond this */
#define CHUNK_MAX 16384
#define MAX_FDS 4096

struct chunk {
	struct chunk *next;
	uint64_t due_ms;
	size_t len, off;
	uint8_t data[];
};

/* One direction of a connection: chunks read from one side, not yet written to the other. */
struct dir {
	struct chunk *head, *tail;
	size_t queued;
	int eof;		/* the reading side ended: shut the writing side once drained */
	int shut;		/* the writing side was shut (SHUT_WR) */
	double tokens;		/* throttle bucket */
	uint64_t tok_ms;
};

/* MySQL packet framing of the server->client stream (for flip). */
struct framing {
	uint8_t hdr[4];
	unsigned hdr_have;
	uint32_t left;		/* payload bytes of the current packet still to come */
	uint32_t pos;		/* offset in the current payload */
	uint32_t len;
	int cont;		/* the current packet continues a 0xffffff one */
	int64_t flip_at;	/* payload offset to flip in the current packet, or -1 */
	uint8_t mask;
};

struct conn {
	struct conn *next;
	unsigned id;
	int cfd, sfd;
	int connecting;
	struct dir up, down;	/* up: client -> server; down: server -> client */
	struct framing fr;
	int flip_chosen;	/* this connection had its flip */
	int skip_left;		/* events to let pass before the flip, -1 = not drawn */
	int dead;
};

struct ctl {
	struct ctl *next;
	int fd;
	char buf[512];
	size_t len;
	int dead;
};

static struct {
	char host[256], port[16];
	int lfd, cfd_listen;
	struct conn *conns;
	struct ctl *ctls;
	unsigned next_id;
	int blackhole;
	unsigned latency_ms;
	unsigned long throttle;
	int cut_armed, cut_rst;
	uint64_t cut_left;
	unsigned flips_pending, flip_skip;
	int flip_type;			/* -1: any event but heartbeats */
	long flip_off;			/* with flip_type: event offset (<0 from the end) */
	uint8_t flip_mask;
	uint64_t c2s, s2c, conns_total, flips, cuts;
	uint64_t rng;
	int quit;
	int rec;			/* -r RECFILE, or -1 */
} P;

static void plog(const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char t[32];
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld faultproxy: ", t, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t rnd(void)
{
	P.rng ^= P.rng << 13;
	P.rng ^= P.rng >> 7;
	P.rng ^= P.rng << 17;
	return P.rng;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int listen_on(unsigned port)
{
	struct sockaddr_in a;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 128) || set_nonblock(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

static unsigned bound_port(int fd)
{
	struct sockaddr_in a;
	socklen_t n = sizeof(a);

	return getsockname(fd, (struct sockaddr *)&a, &n) ? 0 : ntohs(a.sin_port);
}

static int parse_target(const char *t)
{
	const char *colon = strrchr(t, ':');
	size_t hl;

	if (!colon || colon == t || !colon[1] || strlen(colon + 1) >= sizeof(P.port))
		return -1;
	hl = (size_t)(colon - t);
	if (hl >= sizeof(P.host))
		return -1;
	memcpy(P.host, t, hl);
	P.host[hl] = 0;
	memcpy(P.port, colon + 1, strlen(colon + 1) + 1);	/* length checked above */
	return 0;
}

/* A non-blocking connect to the current target: the fd, or -1. */
static int connect_upstream(void)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(P.host, P.port, &hints, &res))
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void dir_free(struct dir *d)
{
	struct chunk *c, *n;

	for (c = d->head; c; c = n) {
		n = c->next;
		free(c);
	}
	memset(d, 0, sizeof(*d));
}

static void close_fd(int fd, int rst)
{
	char junk[4096];

	if (fd < 0)
		return;
	if (rst) {
		struct linger l = { 1, 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	} else {
		/* FIN first; unread input at close() would turn it into an RST */
		shutdown(fd, SHUT_WR);
		while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
	}
	close(fd);
}

static void conn_close(struct conn *c, int rst, const char *why)
{
	if (c->dead)
		return;
	plog("conn %u closed (%s, %s): c2s queued %zu, s2c queued %zu", c->id, why, rst ? "rst" : "fin",
	     c->up.queued, c->down.queued);
	close_fd(c->cfd, rst);
	close_fd(c->sfd, rst);
	c->cfd = c->sfd = -1;
	dir_free(&c->up);
	dir_free(&c->down);
	c->dead = 1;
}

static void cut_all(int rst, const char *why)
{
	struct conn *c;

	P.cuts++;
	P.cut_armed = 0;
	for (c = P.conns; c; c = c->next)
		conn_close(c, rst, why);
}

static void accept_conns(void)
{
	for (;;) {
		int fd = accept4(P.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		int one = 1;

		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close_fd(fd, 1);
			continue;
		}
		c->id = ++P.next_id;
		c->cfd = fd;
		c->skip_left = -1;
		c->fr.flip_at = -1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->sfd = connect_upstream();
		if (c->sfd < 0) {
			plog("conn %u: cannot connect to %s:%s", c->id, P.host, P.port);
			close_fd(fd, 1);
			free(c);
			continue;
		}
		setsockopt(c->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->connecting = 1;
		c->next = P.conns;
		P.conns = c;
		P.conns_total++;
		plog("conn %u accepted, to %s:%s", c->id, P.host, P.port);
	}
}

/* Is this (decided at a packet's start, with >= 14 payload bytes at p) a binlog event worth a flip? */
static int event_packet(const uint8_t *p, uint32_t len)
{
	uint32_t size;

	if (len < 20 || p[0] != 0)
		return 0;
	size = (uint32_t)p[10] | (uint32_t)p[11] << 8 | (uint32_t)p[12] << 16 | (uint32_t)p[13] << 24;
	if (size != len - 1)
		return 0;
	if (P.flip_type >= 0)
		return p[5] == P.flip_type &&
		       (P.flip_off >= 0 ? P.flip_off < (long)size : -P.flip_off <= (long)size);
	return p[5] != 27 && p[5] != 35;	/* HEARTBEAT, HEARTBEAT_V2 */
}

/* Follow the framing over n bytes read server->client; apply a chosen flip in place. */
static void frame_scan(struct conn *c, uint8_t *p, size_t n)
{
	struct framing *f = &c->fr;
	size_t i = 0;

	while (i < n) {
		if (f->left == 0) {
			f->hdr[f->hdr_have++] = p[i++];
			if (f->hdr_have < 4)
				continue;
			f->cont = f->len == 0xffffff;
			f->len = (uint32_t)f->hdr[0] | (uint32_t)f->hdr[1] << 8 | (uint32_t)f->hdr[2] << 16;
			f->left = f->len;
			f->pos = 0;
			f->hdr_have = 0;
			f->flip_at = -1;
			if (f->left && !f->cont && P.flips_pending && !c->flip_chosen && n - i >= 14 &&
			    event_packet(p + i, f->len)) {
				if (c->skip_left < 0)
					c->skip_left = (int)(rnd() % (P.flip_skip + 1));
				if (c->skip_left > 0) {
					c->skip_left--;
				} else {
					c->flip_chosen = 1;
					P.flips_pending--;
					if (P.flip_type >= 0) {
						f->flip_at = 1 + (P.flip_off >= 0 ? P.flip_off
										   : (int64_t)(f->len - 1) + P.flip_off);
						f->mask = P.flip_mask;
					} else {
						f->flip_at = 1 + (int64_t)(rnd() % (f->len - 1));
						f->mask = (uint8_t)(1 + rnd() % 255);
					}
					plog("conn %u: flip chosen: event type %u, %u bytes, event offset %lld, mask %02x",
					     c->id, p[i + 5], f->len - 1, (long long)f->flip_at - 1, f->mask);
				}
			}
			continue;
		}
		{
			size_t take = n - i < f->left ? n - i : f->left;

			if (f->flip_at >= f->pos && f->flip_at < (int64_t)f->pos + (int64_t)take) {
				p[i + (size_t)(f->flip_at - f->pos)] ^= f->mask;
				f->flip_at = -1;
				P.flips++;
			}
			f->pos += (uint32_t)take;
			f->left -= (uint32_t)take;
			i += take;
		}
	}
}

/* Read what the side has into dir d (toward the other side). 0 ok, -1 the connection is done. */
static int pump_in(struct conn *c, int fd, struct dir *d, int down)
{
	uint8_t buf[CHUNK_MAX];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	struct chunk *ch;

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (n == 0) {
		d->eof = 1;
		return 0;
	}
	if (P.rec >= 0 && write(P.rec, buf, (size_t)n) != n) {
		fprintf(stderr, "faultproxy: cannot record: %s\n", strerror(errno));
		exit(2);
	}
	if (down)
		frame_scan(c, buf, (size_t)n);
	ch = malloc(sizeof(*ch) + (size_t)n);
	if (!ch)
		return -1;
	ch->next = NULL;
	ch->len = (size_t)n;
	ch->off = 0;
	ch->due_ms = now_ms() + P.latency_ms;
	memcpy(ch->data, buf, (size_t)n);
	if (d->tail)
		d->tail->next = ch;
	else
		d->head = ch;
	d->tail = ch;
	d->queued += (size_t)n;
	return 0;
}

/* Bytes dir d may write now (latency, throttle, a pending cut), and when it could next (*wake). */
static size_t writable(struct dir *d, int down, uint64_t now, uint64_t *wake)
{
	size_t n;

	if (!d->head || P.blackhole)
		return 0;
	if (d->head->due_ms > now) {
		if (d->head->due_ms < *wake)
			*wake = d->head->due_ms;
		return 0;
	}
	n = d->head->len - d->head->off;
	if (P.throttle) {
		double cap = P.throttle / 20.0 < 512 ? 512 : P.throttle / 20.0;

		d->tokens += (double)(now - d->tok_ms) * (double)P.throttle / 1000.0;
		d->tok_ms = now;
		if (d->tokens > cap)
			d->tokens = cap;
		if (d->tokens < 1) {
			uint64_t t = now + 1 + (uint64_t)((1 - d->tokens) * 1000.0 / (double)P.throttle);

			if (t < *wake)
				*wake = t;
			return 0;
		}
		if ((double)n > d->tokens)
			n = (size_t)d->tokens;
	}
	if (down && P.cut_armed && n > P.cut_left)
		n = (size_t)P.cut_left;
	return n;
}

/* Write what dir d may write to fd. 0 ok, -1 the connection is done. */
static int pump_out(int fd, struct dir *d, int down)
{
	uint64_t wake = UINT64_MAX, now = now_ms();
	size_t n = writable(d, down, now, &wake);
	ssize_t w;

	if (n == 0) {
		if (down && P.cut_armed && P.cut_left == 0)
			cut_all(P.cut_rst, "cut after bytes");
		return 0;
	}
	w = send(fd, d->head->data + d->head->off, n, MSG_NOSIGNAL);
	if (w < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (P.throttle)
		d->tokens -= (double)w;
	if (down) {
		P.s2c += (uint64_t)w;
		if (P.cut_armed) {
			P.cut_left -= (uint64_t)w;
			if (P.cut_left == 0) {
				d->head->off += (size_t)w;
				cut_all(P.cut_rst, "cut after bytes");
				return 0;
			}
		}
	} else {
		P.c2s += (uint64_t)w;
	}
	d->head->off += (size_t)w;
	d->queued -= (size_t)w;
	if (d->head->off == d->head->len) {
		struct chunk *c = d->head;

		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		free(c);
	}
	return 0;
}

static unsigned active_conns(void)
{
	unsigned n = 0;

	for (struct conn *c = P.conns; c; c = c->next)
		n += !c->dead;
	return n;
}

static void reply(struct ctl *k, const char *fmt, ...)
{
	char out[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, sizeof(out) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(out) - 2)
		n = (int)sizeof(out) - 2;
	out[n++] = '\n';
	/* replies are short; the control client waits for them */
	if (send(k->fd, out, (size_t)n, MSG_NOSIGNAL) != n)
		k->dead = 1;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end || errno ? -1 : 0;
}

static void command(struct ctl *k, char *line)
{
	char *argv[8] = { 0 }, *save = NULL, *t;
	int argc = 0;
	uint64_t a = 0, b = 0;

	plog("command: %s", line);
	for (t = strtok_r(line, " \t\r", &save); t && argc < 8; t = strtok_r(NULL, " \t\r", &save))
		argv[argc++] = t;
	if (argc == 0)
		return reply(k, "err empty command");

	if (!strcmp(argv[0], "pass") && argc == 1) {
		P.blackhole = 0;
		P.latency_ms = 0;
		P.throttle = 0;
		P.cut_armed = 0;
		P.flips_pending = 0;
		return reply(k, "ok");
	}
	if (!strcmp(argv[0], "cut") && (argc == 2 || argc == 3) &&
	    (!strcmp(argv[1], "rst") || !strcmp(argv[1], "fin"))) {
		int rst = argv[1][0] == 'r';

		if (argc == 2) {
			cut_all(rst, "cut");
			return reply(k, "ok");
		}
		if (parse_u64(argv[2], &a) || a == 0)
			return reply(k, "err cut: bad byte count '%s'", argv[2]);
		P.cut_armed = 1;
		P.cut_rst = rst;
		P.cut_left = a;
		return reply(k, "ok");
	}
	if (!strcmp(argv[0], "blackhole") && argc == 1) {
		P.blackhole = 1;
		return reply(k, "ok");
	}
	if (!strcmp(argv[0], "latency") && argc == 2 && !parse_u64(argv[1], &a) && a <= 600000) {
		P.latency_ms = (unsigned)a;
		return reply(k, "ok");
	}
	if (!strcmp(argv[0], "throttle") && argc == 2 && !parse_u64(argv[1], &a)) {
		P.throttle = (unsigned long)a;
		for (struct conn *c = P.conns; c; c = c->next)
			c->up.tok_ms = c->down.tok_ms = now_ms();
		return reply(k, "ok");
	}
	if (!strcmp(argv[0], "flip") && (argc == 2 || argc == 3 || argc == 6) && !parse_u64(argv[1], &a) &&
	    (argc == 2 || !parse_u64(argv[2], &b)) && a < 1000000 && b < 1000000) {
		int type = -1;
		long off = 0, mask = 0;

		if (argc == 6) {
			char *e1, *e2, *e3;

			type = (int)strtol(argv[3], &e1, 0);
			off = strtol(argv[4], &e2, 0);
			mask = strtol(argv[5], &e3, 0);
			if (*e1 || *e2 || *e3 || type < 0 || type > 255 || mask < 1 || mask > 255)
				return reply(k, "err flip: bad TYPE OFFSET MASK");
		}
		P.flips_pending = (unsigned)a;
		P.flip_skip = (unsigned)b;
		P.flip_type = type;
		P.flip_off = off;
		P.flip_mask = (uint8_t)mask;
		/* open connections had no flip armed: they are candidates from now on */
		for (struct conn *c = P.conns; c; c = c->next) {
			c->flip_chosen = 0;
			c->skip_left = -1;
		}
		return reply(k, "ok");
	}
	if (!strcmp(argv[0], "retarget") && argc == 2) {
		char host[sizeof(P.host)], port[sizeof(P.port)];

		memcpy(host, P.host, sizeof(host));
		memcpy(port, P.port, sizeof(port));
		if (parse_target(argv[1])) {
			memcpy(P.host, host, sizeof(host));
			memcpy(P.port, port, sizeof(port));
			return reply(k, "err retarget: expected HOST:PORT, got '%s'", argv[1]);
		}
		return reply(k, "ok");
	}
	if (!strcmp(argv[0], "stats") && argc == 1)
		return reply(k, "ok c2s=%llu s2c=%llu conns=%llu active=%u flips=%llu flips_pending=%u cuts=%llu "
			     "mode=%s latency_ms=%u throttle=%lu",
			     (unsigned long long)P.c2s, (unsigned long long)P.s2c,
			     (unsigned long long)P.conns_total, active_conns(), (unsigned long long)P.flips,
			     P.flips_pending, (unsigned long long)P.cuts, P.blackhole ? "blackhole" : "pass",
			     P.latency_ms, P.throttle);
	if (!strcmp(argv[0], "quit") && argc == 1) {
		P.quit = 1;
		return reply(k, "ok");
	}
	reply(k, "err unknown command or bad arguments: '%s'", argv[0]);
}

static void ctl_read(struct ctl *k)
{
	ssize_t n = recv(k->fd, k->buf + k->len, sizeof(k->buf) - 1 - k->len, 0);
	char *nl;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			k->dead = 1;
		return;
	}
	k->len += (size_t)n;
	k->buf[k->len] = 0;
	while ((nl = memchr(k->buf, '\n', k->len))) {
		size_t used = (size_t)(nl - k->buf) + 1;

		*nl = 0;
		command(k, k->buf);
		memmove(k->buf, k->buf + used, k->len - used);
		k->len -= used;
		k->buf[k->len] = 0;
	}
	if (k->len == sizeof(k->buf) - 1) {
		reply(k, "err line too long");
		k->dead = 1;
	}
}

static void reap(void)
{
	struct conn **pc = &P.conns;
	struct ctl **pk = &P.ctls;

	while (*pc) {
		struct conn *c = *pc;

		if (c->dead) {
			*pc = c->next;
			free(c);
		} else {
			pc = &c->next;
		}
	}
	while (*pk) {
		struct ctl *k = *pk;

		if (k->dead) {
			close(k->fd);
			*pk = k->next;
			free(k);
		} else {
			pk = &k->next;
		}
	}
}

/* After poll: move bytes for connection c given its fds' revents. */
static void conn_step(struct conn *c, short cre, short sre)
{
	if (c->connecting && (sre & (POLLOUT | POLLERR | POLLHUP))) {
		int e = 0;
		socklen_t el = sizeof(e);

		getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e) {
			plog("conn %u: connect to %s:%s failed: %s", c->id, P.host, P.port, strerror(e));
			return conn_close(c, 1, "upstream refused");
		}
		c->connecting = 0;
	}
	if (c->connecting)
		return;
	if ((cre | sre) & POLLERR)
		return conn_close(c, 1, cre & POLLERR ? "client reset" : "server reset");
	if (!P.blackhole) {
		if ((cre & (POLLIN | POLLHUP | POLLERR)) && !c->up.eof && c->up.queued < QUEUE_MAX &&
		    pump_in(c, c->cfd, &c->up, 0))
			return conn_close(c, 1, "client error");
		if ((sre & (POLLIN | POLLHUP | POLLERR)) && !c->down.eof && c->down.queued < QUEUE_MAX &&
		    pump_in(c, c->sfd, &c->down, 1))
			return conn_close(c, 1, "server error");
		if (c->dead)
			return;
		if ((sre & POLLOUT) && pump_out(c->sfd, &c->up, 0))
			return conn_close(c, 1, "server write error");
		if (c->dead)
			return;
		if ((cre & POLLOUT) && pump_out(c->cfd, &c->down, 1))
			return conn_close(c, 1, "client write error");
		if (c->dead)
			return;
	}
	/* an ended side whose bytes are all delivered: pass its FIN on */
	if (c->up.eof && !c->up.head && !c->up.shut) {
		shutdown(c->sfd, SHUT_WR);
		c->up.shut = 1;
	}
	if (c->down.eof && !c->down.head && !c->down.shut) {
		shutdown(c->cfd, SHUT_WR);
		c->down.shut = 1;
	}
	if (c->up.shut && c->down.shut)
		conn_close(c, 0, "both sides ended");
}

static int run(void)
{
	static struct pollfd pfd[MAX_FDS];
	static void *who[MAX_FDS];
	static int side[MAX_FDS];

	while (!P.quit) {
		nfds_t n = 0;
		uint64_t wake = UINT64_MAX, now = now_ms();
		int timeout;

		if (!P.blackhole) {
			pfd[n] = (struct pollfd){ .fd = P.lfd, .events = POLLIN };
			who[n] = NULL;
			side[n++] = 0;
		}
		pfd[n] = (struct pollfd){ .fd = P.cfd_listen, .events = POLLIN };
		who[n] = NULL;
		side[n++] = 1;
		for (struct ctl *k = P.ctls; k && n < MAX_FDS; k = k->next) {
			pfd[n] = (struct pollfd){ .fd = k->fd, .events = POLLIN };
			who[n] = k;
			side[n++] = 2;
		}
		for (struct conn *c = P.conns; c && n + 2 <= MAX_FDS; c = c->next) {
			short ce = 0, se = 0;

			if (c->connecting) {
				se = POLLOUT;
			} else if (!P.blackhole) {
				if (!c->up.eof && c->up.queued < QUEUE_MAX)
					ce |= POLLIN;
				if (!c->down.eof && c->down.queued < QUEUE_MAX)
					se |= POLLIN;
				if (writable(&c->up, 0, now, &wake))
					se |= POLLOUT;
				if (writable(&c->down, 1, now, &wake))
					ce |= POLLOUT;
			}
			/* in a blackhole the sockets are not even watched: a reset stays unseen */
			pfd[n] = (struct pollfd){ .fd = P.blackhole ? -1 : c->cfd, .events = ce };
			who[n] = c;
			side[n++] = 3;
			pfd[n] = (struct pollfd){ .fd = P.blackhole && !c->connecting ? -1 : c->sfd, .events = se };
			who[n] = c;
			side[n++] = 4;
		}
		timeout = wake == UINT64_MAX ? 1000 : (int)(wake > now ? (wake - now < 1000 ? wake - now : 1000) : 0);
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			perror("faultproxy: poll");
			return 1;
		}
		for (nfds_t i = 0; i < n; i++) {
			if (side[i] == 0 && pfd[i].revents) {
				accept_conns();
			} else if (side[i] == 1 && pfd[i].revents) {
				int fd = accept4(P.cfd_listen, NULL, NULL, SOCK_CLOEXEC);
				struct ctl *k;

				if (fd >= 0 && (k = calloc(1, sizeof(*k)))) {
					k->fd = fd;
					k->next = P.ctls;
					P.ctls = k;
				} else if (fd >= 0) {
					close(fd);
				}
			} else if (side[i] == 2 && pfd[i].revents) {
				ctl_read(who[i]);
			} else if (side[i] == 3) {
				struct conn *c = who[i];

				if (!c->dead)
					conn_step(c, pfd[i].revents, pfd[i + 1].revents);
				i++;	/* the server fd was handled with it */
			}
		}
		/* cuts armed with 0 left, and chunks whose latency ran out, need no event */
		reap();
	}
	for (struct conn *c = P.conns; c; c = c->next)
		conn_close(c, 0, "quit");
	reap();
	return 0;
}

static int client(const char *port, int argc, char **argv)
{
	struct sockaddr_in a;
	char line[512], out[512];
	size_t len = 0, got = 0;
	int fd, i;
	ssize_t r;

	for (i = 0; i < argc; i++) {
		int w = snprintf(line + len, sizeof(line) - len, "%s%s", i ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= sizeof(line) - len - 1) {
			fprintf(stderr, "faultproxy: command too long\n");
			return 2;
		}
		len += (size_t)w;
	}
	line[len++] = '\n';
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)atoi(port));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "faultproxy: cannot reach the control port %s: %s\n", port, strerror(errno));
		return 2;
	}
	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len) {
		fprintf(stderr, "faultproxy: cannot send the command: %s\n", strerror(errno));
		return 2;
	}
	while (got < sizeof(out) - 1 && (r = recv(fd, out + got, sizeof(out) - 1 - got, 0)) > 0) {
		got += (size_t)r;
		if (memchr(out, '\n', got))
			break;
	}
	close(fd);
	out[got] = 0;
	fputs(out, stdout);
	if (!got || out[got - 1] != '\n')
		fputc('\n', stdout);
	return strncmp(out, "ok", 2) ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: faultproxy -t HOST:PORT [-l PORT] [-w PORTFILE] [-s SEED] [-r RECFILE]\n"
			"       faultproxy -c CTLPORT COMMAND [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *target = NULL, *portfile = NULL, *recfile = NULL;
	unsigned long lport = 0;
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	int opt;

	if (argc >= 3 && !strcmp(argv[1], "-c"))
		return argc >= 4 ? client(argv[2], argc - 3, argv + 3) : (usage(), 2);
	while ((opt = getopt(argc, argv, "t:l:w:s:r:")) != -1) {
		switch (opt) {
		case 't': target = optarg; break;
		case 'l': lport = strtoul(optarg, NULL, 10); break;
		case 'w': portfile = optarg; break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'r': recfile = optarg; break;
		default: usage();
		}
	}
	if (!target || optind != argc || lport > 65535 || parse_target(target))
		usage();
	signal(SIGPIPE, SIG_IGN);
	P.rng = seed ? seed : 88172645463325252ull;
	P.flip_type = -1;
	P.rec = -1;
	if (recfile && (P.rec = open(recfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "faultproxy: cannot open '%s': %s\n", recfile, strerror(errno));
		return 2;
	}
	P.lfd = listen_on((unsigned)lport);
	P.cfd_listen = listen_on(0);
	if (P.lfd < 0 || P.cfd_listen < 0) {
		fprintf(stderr, "faultproxy: cannot listen on 127.0.0.1:%lu: %s\n", lport, strerror(errno));
		return 2;
	}
	if (portfile) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u %u\n", bound_port(P.lfd), bound_port(P.cfd_listen)) < 0 || fclose(f) ||
		    rename(tmp, portfile)) {
			fprintf(stderr, "faultproxy: cannot write '%s': %s\n", portfile, strerror(errno));
			return 2;
		}
	}
	printf("%u %u\n", bound_port(P.lfd), bound_port(P.cfd_listen));
	fflush(stdout);
	plog("listening on 127.0.0.1:%u (control %u), forwarding to %s:%s, seed %llu", bound_port(P.lfd),
	     bound_port(P.cfd_listen), P.host, P.port, (unsigned long long)seed);
	return run();
}
