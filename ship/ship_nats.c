/* ship_nats.c - the NATS JetStream transport (ship_int.h).
 *
 * URL: nats://[USER@]HOST:PORT[,HOST:PORT...]/NAME. The password of USER
 * comes only from SLUICE_NATS_PASSWORD (never argv). NAME is the JetStream
 * stream, file storage, subjects sluice.NAME.seg and sluice.NAME.snap.
 * A message carries one chunk in its body and says what it is in headers:
 * Sluice-Stream (stream id, hex), Sluice-Source, Sluice-Seq, Sluice-Off,
 * Sluice-Size and, on a segment's last chunk, Sluice-Sha; its Nats-Msg-Id
 * (ship_chunk_msgid()) lets JetStream drop a re-publish within its
 * duplicate window. Up to PUB_WINDOW publishes are in flight, each
 * expecting the stream's last message to be the one before it (the first
 * of a segment, the stream's last as asked then): a failed publish fails
 * every one after it, so the log never gets a hole, and two writers never
 * interleave. ship waits for every ack at each segment's end (flush).
 * nats.c reconnects by itself are off: a lost connection ends the caller's
 * round (-SL_ETRANSIENT) and the next round connects again, to any node.
 * A reader is a durable pull consumer NAME-<reader>-seg|snap with AckAll;
 * it is recreated at each subscribe from the message after its ack floor,
 * so what a crashed reader had fetched and not acked comes again at once
 * instead of after the ack wait.
 */
#include "ship_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <nats/nats.h>

#include "banned.h"

#define NATS_WAIT_MS 5000		/* publish acks */
#define NATS_API_MS 2000		/* JetStream API calls: a cluster electing after a
					 * restart answers sooner to a new ask than to one
					 * that waits longer */
#define PUB_WINDOW 16			/* publishes in flight */
#define DUP_WINDOW_S (2 * 3600)		/* JetStream's duplicate window for our ids */

struct xp {
	char name[300];			/* URL without user, for messages */
	char stream[65];
	char subj[SHIP_PARTS][100];
	int nservers;
	natsConnection *nc;
	jsCtx *js;
	int last_known[SHIP_PARTS];	/* last() was asked since the last failed publish */
	natsSubscription *sub[SHIP_PARTS];
	natsMsgList list[SHIP_PARTS];
	int next[SHIP_PARTS];		/* index in list of the next message */
	natsMsg *cur[SHIP_PARTS];	/* fetched last (in list) */
	natsMsg *held;			/* last()'s message */
	uint64_t next_seq;		/* the stream number the next publish gets, 0: ask */
};

/* Errors a new round cannot cure; every other one can (a lost connection,
 * no server, no leader, a timeout, a JetStream API error while the cluster
 * elects or catches up), so a service waits for it (--retry-for). */
static int permanent_status(natsStatus s)
{
	switch (s) {
	case NATS_NOT_PERMITTED:	/* authorization */
	case NATS_INVALID_ARG:
	case NATS_INVALID_SUBJECT:
	case NATS_INVALID_SUBSCRIPTION:
	case NATS_SECURE_CONNECTION_WANTED:
	case NATS_SECURE_CONNECTION_REQUIRED:
	case NATS_NO_MEMORY:
	case NATS_MAX_PAYLOAD:
		return 1;
	default:
		return 0;
	}
}

static int js_permanent(jsErrCode j)
{
	switch ((int)j) {
	case 10039:	/* JSNotEnabledErr: JetStream is off on the server */
	case 10052:	/* JSStreamInvalidConfigErr */
	case 10054:	/* JSStreamMessageExceedsMaximumErr */
	case 10058:	/* JSStreamNameExistErr: another config under our name */
		return 1;
	default:
		return 0;
	}
}

static int transient_status(natsStatus s)
{
	return !permanent_status(s);
}

static int nats_fail(struct xp *x, struct sl_err *err, natsStatus s, jsErrCode j, const char *what)
{
	const char *text = nats_GetLastError(NULL);
	int code = !permanent_status(s) && !js_permanent(j) ? -SL_ETRANSIENT : -EIO;

	if (!text || !*text)
		text = natsStatus_GetText(s);
	if (j)
		return sl_err_set(err, code, "nats %s: %s: %s (jetstream error %d)", x->name, what, text, (int)j);
	return sl_err_set(err, code, "nats %s: %s: %s", x->name, what, text);
}

/* ---- URL ---- */
static int bad_url(struct sl_err *err, const char *url, const char *why)
{
	(void)url;
	return sl_err_set(err, -SL_EINVAL_ARG, "nats url: %s (want nats://[USER@]HOST:PORT[,HOST:PORT...]/NAME)", why);
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 59)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* Parse url into servers ("nats://host:port", malloc'd), user and x's names. */
static int parse_url(struct xp *x, const char *url, char ***servers, char **user, struct sl_err *err)
{
	const char *p, *slash, *at, *hosts;
	char *list = NULL, *save = NULL, *tok;
	int rc = 0;

	*servers = NULL;
	*user = NULL;
	if (strncmp(url, "nats://", 7))
		return bad_url(err, url, "it does not start with nats://");
	p = url + 7;
	slash = strchr(p, '/');
	if (!slash)
		return bad_url(err, url, "no /NAME after the servers");
	if (!name_ok(slash + 1))
		return bad_url(err, url, "NAME must be 1 to 59 letters, digits, '-' or '_'");
	at = memchr(p, '@', (size_t)(slash - p));
	hosts = at ? at + 1 : p;
	if (at) {
		if (memchr(p, ':', (size_t)(at - p)))
			return bad_url(err, url, "a password in the url is refused: give it in SLUICE_NATS_PASSWORD");
		if (at == p)
			return bad_url(err, url, "empty user before '@'");
		*user = sl_xstrndup(p, (size_t)(at - p));
	}
	snprintf(x->stream, sizeof(x->stream), "%s", slash + 1);
	for (int i = 0; i < SHIP_PARTS; i++)
		snprintf(x->subj[i], sizeof(x->subj[i]), "sluice.%s.%s", x->stream, ship_part_name[i]);
	snprintf(x->name, sizeof(x->name), "nats://%.*s/%s", (int)(slash - hosts), hosts, x->stream);
	list = sl_xstrndup(hosts, (size_t)(slash - hosts));
	*servers = sl_xcalloc(strlen(list) + 2, sizeof(char *));
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(tok, ':');
		char *end = NULL;
		unsigned long port;

		if (!colon || colon == tok) {
			rc = bad_url(err, url, "each server must be HOST:PORT");
			break;
		}
		port = strtoul(colon + 1, &end, 10);
		if (!*(colon + 1) || *end || port == 0 || port > 65535) {
			rc = bad_url(err, url, "a port must be 1 to 65535");
			break;
		}
		(*servers)[x->nservers++] = sl_xasprintf("nats://%s", tok);
	}
	if (!rc && !x->nservers)
		rc = bad_url(err, url, "no server");
	free(list);
	if (rc) {
		for (int i = 0; i < x->nservers; i++)
			free((*servers)[i]);
		free(*servers);
		*servers = NULL;
		free(*user);
		*user = NULL;
	}
	return rc;
}

static void nats_close(struct xp *x)
{
	if (!x)
		return;
	/* the connection first: its threads stop delivering to subscriptions
	 * and ack handlers, which may only then go (destroying a subscription
	 * the read loop still delivers to is a use after free in nats.c) */
	if (x->nc)
		natsConnection_Close(x->nc);
	jsCtx_Destroy(x->js);
	for (int i = 0; i < SHIP_PARTS; i++) {
		natsMsgList_Destroy(&x->list[i]);
		if (x->sub[i])
			natsSubscription_Destroy(x->sub[i]);
	}
	natsMsg_Destroy(x->held);
	if (x->nc)
		natsConnection_Destroy(x->nc);
	free(x);
}

/* The answers to publishes in flight come on a nats thread, which may still
 * deliver one after the round that sent it ended: what it writes lives for
 * the process, and an answer to an earlier connection (gen) is dropped. */
static struct {
	pthread_mutex_t mu;
	uintptr_t gen;			/* the connection publishes belong to */
	natsStatus status;		/* its first failed publish */
	jsErrCode jerr;
	char what[200];
} pub = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* Keep the first failure. A failed publish fails every later one in flight
 * too (each expects the one before it as the stream's last), so the log
 * never gets a hole. */
static void on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)js;
	(void)pa;
	pthread_mutex_lock(&pub.mu);
	if (pae && (uintptr_t)closure == pub.gen && pub.status == NATS_OK) {
		const char *seq = NULL, *off = NULL;

		pub.status = pae->Err != NATS_OK ? pae->Err : NATS_ERR;
		pub.jerr = pae->ErrCode;
		(void)natsMsgHeader_Get(m, "Sluice-Seq", &seq);
		(void)natsMsgHeader_Get(m, "Sluice-Off", &off);
		snprintf(pub.what, sizeof(pub.what), "publish segment %s offset %s: %s", seq ? seq : "?",
			 off ? off : "?", pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
	}
	pthread_mutex_unlock(&pub.mu);
	natsMsg_Destroy(m);
}

static int nats_open(struct xp **xp, const char *url, struct sl_err *err)
{
	struct xp *x = sl_xcalloc(1, sizeof(*x));
	natsOptions *o = NULL;
	char **servers = NULL, *user = NULL;
	const char *pass = getenv("SLUICE_NATS_PASSWORD");
	jsOptions jo;
	natsStatus s;
	int rc;

	*xp = NULL;
	if ((rc = parse_url(x, url, &servers, &user, err)))
		goto out;
	if (!user && pass && *pass) {
		rc = sl_err_set(err, -SL_EINVAL_ARG, "nats url: SLUICE_NATS_PASSWORD is set but the url names no user");
		goto out;
	}
	if ((s = natsOptions_Create(&o)) != NATS_OK ||
	    (s = natsOptions_SetServers(o, (const char **)servers, x->nservers)) != NATS_OK ||
	    (s = natsOptions_SetTimeout(o, 2000)) != NATS_OK ||
	    (s = natsOptions_SetAllowReconnect(o, false)) != NATS_OK ||
	    (s = natsOptions_SetName(o, "sluice")) != NATS_OK ||
	    (user && (s = natsOptions_SetUserInfo(o, user, pass ? pass : "")) != NATS_OK)) {
		rc = nats_fail(x, err, s, 0, "options");
		goto out;
	}
	if ((s = natsConnection_Connect(&x->nc, o)) != NATS_OK) {
		rc = sl_err_set(err, transient_status(s) ? -SL_ETRANSIENT : -EIO, "nats %s: cannot connect: %s",
				x->name, natsStatus_GetText(s));
		goto out;
	}
	jsOptions_Init(&jo);
	jo.Wait = NATS_API_MS;
	jo.PublishAsync.MaxPending = PUB_WINDOW;
	jo.PublishAsync.StallWait = NATS_WAIT_MS;	/* a full window waits for an ack */
	pthread_mutex_lock(&pub.mu);
	pub.gen++;
	pub.status = NATS_OK;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = (void *)pub.gen;
	pthread_mutex_unlock(&pub.mu);
	if ((s = natsConnection_JetStream(&x->js, x->nc, &jo)) != NATS_OK)
		rc = nats_fail(x, err, s, 0, "jetstream");
out:
	for (int i = 0; servers && i < x->nservers; i++)
		free(servers[i]);
	free(servers);
	free(user);
	natsOptions_Destroy(o);
	if (rc)
		nats_close(x);
	else
		*xp = x;
	return rc;
}

static const char *nats_name(const struct xp *x)
{
	return x->name;
}

static size_t nats_max_chunk(const struct xp *x)
{
	int64_t m = natsConnection_GetMaxPayload(x->nc);

	/* headers travel in the payload too */
	return m > 8192 ? (size_t)(m - 4096) : 4096;
}

static int nats_create(struct xp *x, const struct xp_create *c, struct sl_err *err)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode j = 0;
	const char *subjects[SHIP_PARTS] = { x->subj[0], x->subj[1] };
	natsStatus s = js_GetStreamInfo(&si, x->js, x->stream, NULL, &j);
	int replicas = c->replicas;

	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return 0;
	}
	if (s != NATS_NOT_FOUND)
		return nats_fail(x, err, s, j, "stream info");
	if (!replicas)
		replicas = x->nservers >= 3 ? 3 : 1;
	jsStreamConfig_Init(&cfg);
	cfg.Name = x->stream;
	cfg.Description = "sluice segments (sluice ship)";
	cfg.Subjects = subjects;
	cfg.SubjectsLen = SHIP_PARTS;
	cfg.Storage = js_FileStorage;
	cfg.Replicas = replicas;
	cfg.Retention = js_LimitsPolicy;
	cfg.Discard = js_DiscardOld;
	cfg.MaxAge = (int64_t)c->max_age_s * 1000000000LL;
	cfg.MaxBytes = c->max_bytes ? (int64_t)c->max_bytes : -1;
	cfg.Duplicates = (int64_t)DUP_WINDOW_S * 1000000000LL;
	if (cfg.MaxAge && cfg.Duplicates > cfg.MaxAge)
		cfg.Duplicates = cfg.MaxAge;
	j = 0;
	s = js_AddStream(&si, x->js, &cfg, NULL, &j);
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK)
		return nats_fail(x, err, s, j, "create stream");
	return 1;
}

static int nats_exists(struct xp *x, struct sl_err *err)
{
	jsStreamInfo *si = NULL;
	jsErrCode j = 0;
	natsStatus s = js_GetStreamInfo(&si, x->js, x->stream, NULL, &j);

	jsStreamInfo_Destroy(si);
	if (s == NATS_NOT_FOUND)
		return sl_err_set(err, -ENOENT, "nats %s: no such stream (has sluice ship run?)", x->name);
	return s == NATS_OK ? 0 : nats_fail(x, err, s, j, "stream info");
}

static const char *hdr(natsMsg *m, const char *key)
{
	const char *v = NULL;

	return natsMsgHeader_Get(m, key, &v) == NATS_OK ? v : NULL;
}

static int u64_of(const char *s, uint64_t *v)
{
	char *end = NULL;

	if (!s || !*s || *s == '-')
		return 0;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

/* Fill c from message m of part (m stays owned by the caller). */
static int chunk_of(struct xp *x, natsMsg *m, int part, struct ship_chunk *c, struct sl_err *err)
{
	const char *sid = hdr(m, "Sluice-Stream"), *sha = hdr(m, "Sluice-Sha");
	uint64_t id = natsMsg_GetSequence(m);

	memset(c, 0, sizeof(*c));
	c->part = part;
	c->source = hdr(m, "Sluice-Source");
	c->data = (const uint8_t *)natsMsg_GetData(m);
	c->len = (size_t)natsMsg_GetDataLength(m);
	if (!id) {
		jsMsgMetaData *md = NULL;

		if (natsMsg_GetMetaData(&md, m) == NATS_OK)
			id = md->Sequence.Stream;
		jsMsgMetaData_Destroy(md);
	}
	c->id = id;
	if (!sid || !c->source || sl_unhex(sid, c->stream_id, 16) ||
	    !u64_of(hdr(m, "Sluice-Seq"), &c->seq) || !u64_of(hdr(m, "Sluice-Off"), &c->off) ||
	    !u64_of(hdr(m, "Sluice-Size"), &c->size) || !c->seq || c->off + c->len > c->size ||
	    (sha && sl_unhex(sha, c->sha, 32)))
		return sl_err_set(err, -SL_ECORRUPT,
				  "nats %s: message %" PRIu64 " on %s is not a sluice segment chunk (its headers)",
				  x->name, id, x->subj[part]);
	c->has_sha = sha != NULL;
	if (c->has_sha != (c->off + c->len == c->size))
		return sl_err_set(err, -SL_ECORRUPT,
				  "nats %s: message %" PRIu64 " (segment %" PRIu64 " offset %" PRIu64
				  "): the sha belongs to a segment's last chunk only", x->name, id, c->seq, c->off);
	return 0;
}

static int nats_last(struct xp *x, int part, struct ship_chunk *c, struct sl_err *err)
{
	jsErrCode j = 0;
	natsStatus s;
	int rc;

	natsMsg_Destroy(x->held);
	x->held = NULL;
	s = js_GetLastMsg(&x->held, x->js, x->stream, x->subj[part], NULL, &j);
	if (s == NATS_NOT_FOUND) {
		x->last_known[part] = 1;
		return 0;
	}
	if (s != NATS_OK)
		return nats_fail(x, err, s, j, "last message");
	if ((rc = chunk_of(x, x->held, part, c, err)))
		return rc;
	x->last_known[part] = 1;
	return 1;
}

static int nats_publish(struct xp *x, const struct ship_chunk *c, struct sl_err *err)
{
	char id[64], sid[33], sha[65], num[3][24], msgid[128];
	natsMsg *m = NULL;
	jsPubOptions po;
	jsErrCode j = 0;
	natsStatus s;

	if (!x->last_known[c->part])
		sl_bug("publish before last()");
	if (strpbrk(c->source, "\r\n"))
		return sl_err_set(err, -SL_EINVAL_ARG, "segment %" PRIu64 ": its source holds a line break", c->seq);
	sl_hex(sid, c->stream_id, 16);
	snprintf(num[0], sizeof(num[0]), "%" PRIu64, c->seq);
	snprintf(num[1], sizeof(num[1]), "%" PRIu64, c->off);
	snprintf(num[2], sizeof(num[2]), "%" PRIu64, c->size);
	ship_chunk_msgid(c, msgid, sizeof(msgid));
	if ((s = natsMsg_Create(&m, x->subj[c->part], NULL, (const char *)c->data, (int)c->len)) != NATS_OK ||
	    (s = natsMsgHeader_Set(m, "Sluice-Stream", sid)) != NATS_OK ||
	    (s = natsMsgHeader_Set(m, "Sluice-Source", c->source)) != NATS_OK ||
	    (s = natsMsgHeader_Set(m, "Sluice-Seq", num[0])) != NATS_OK ||
	    (s = natsMsgHeader_Set(m, "Sluice-Off", num[1])) != NATS_OK ||
	    (s = natsMsgHeader_Set(m, "Sluice-Size", num[2])) != NATS_OK)
		goto fail;
	if (c->has_sha) {
		sl_hex(sha, c->sha, 32);
		if ((s = natsMsgHeader_Set(m, "Sluice-Sha", sha)) != NATS_OK)
			goto fail;
	}
	if (!x->next_seq) {
		/* the window starts: the number the stream gives next */
		jsStreamInfo *si = NULL;

		if ((s = js_GetStreamInfo(&si, x->js, x->stream, NULL, &j)) != NATS_OK) {
			natsMsg_Destroy(m);
			return nats_fail(x, err, s, j, "stream info");
		}
		x->next_seq = si->State.LastSeq + 1;
		jsStreamInfo_Destroy(si);
	}
	jsPubOptions_Init(&po);
	po.MsgId = msgid;
	po.MaxWait = NATS_WAIT_MS;
	/* the stream's last message must be the one before: a clustered
	 * stream checks this against publishes still in flight too (the
	 * per-subject check of nats-server 2.9 does not) */
	po.ExpectLastSeq = x->next_seq - 1;
	s = js_PublishMsgAsync(x->js, &m, &po);
	natsMsg_Destroy(m);		/* NULL when the library took it */
	if (s != NATS_OK) {
		x->last_known[c->part] = 0;
		snprintf(id, sizeof(id), "publish segment %" PRIu64 " offset %" PRIu64, c->seq, c->off);
		return nats_fail(x, err, s, 0, id);
	}
	x->next_seq++;
	return 0;
fail:
	natsMsg_Destroy(m);
	return nats_fail(x, err, s, 0, "message");
}

static int nats_flush(struct xp *x, struct sl_err *err)
{
	jsPubOptions po;
	natsStatus s;
	int rc = 0;

	jsPubOptions_Init(&po);
	po.MaxWait = 2 * NATS_WAIT_MS;
	s = js_PublishAsyncComplete(x->js, &po);
	x->next_seq = 0;
	pthread_mutex_lock(&pub.mu);
	if (pub.status != NATS_OK) {
		rc = sl_err_set(err, !permanent_status(pub.status) && !js_permanent(pub.jerr) ? -SL_ETRANSIENT : -EIO,
				"nats %s: %s", x->name, pub.what);
		pub.status = NATS_OK;
	}
	pthread_mutex_unlock(&pub.mu);
	if (!rc && s != NATS_OK)
		rc = nats_fail(x, err, s, 0, "waiting for publish acks");
	if (rc)
		for (int k = 0; k < SHIP_PARTS; k++)
			x->last_known[k] = 0;
	return rc;
}

/* The durable name of reader name for part. */
static void durable_of(int part, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s-%s", name, ship_part_name[part]);
}

/* The last message a reader is done with: its ack floor, or, for one just
 * recreated that has acked nothing yet, the message before its start. */
static uint64_t floor_of(const jsConsumerInfo *ci)
{
	uint64_t f = ci->AckFloor.Stream;

	if (ci->Config && ci->Config->DeliverPolicy == js_DeliverByStartSequence && ci->Config->OptStartSeq > f + 1)
		f = ci->Config->OptStartSeq - 1;
	return f;
}

static int nats_subscribe(struct xp *x, int part, const char *name, uint64_t *acked, struct sl_err *err)
{
	char durable[160];
	jsConsumerInfo *ci = NULL;
	jsSubOptions so;
	jsErrCode j = 0;
	uint64_t start = 0;
	natsStatus s;

	*acked = 0;
	durable_of(part, name, durable, sizeof(durable));
	s = js_GetConsumerInfo(&ci, x->js, x->stream, durable, NULL, &j);
	if (s == NATS_OK) {
		*acked = floor_of(ci);
		start = *acked + 1;
		jsConsumerInfo_Destroy(ci);
		j = 0;
		if ((s = js_DeleteConsumer(x->js, x->stream, durable, NULL, &j)) != NATS_OK && s != NATS_NOT_FOUND)
			return nats_fail(x, err, s, j, "recreate reader");
	} else if (s != NATS_NOT_FOUND) {
		return nats_fail(x, err, s, j, "reader info");
	}
	jsSubOptions_Init(&so);
	so.Stream = x->stream;
	so.Config.Durable = durable;
	so.Config.AckPolicy = js_AckAll;
	so.Config.AckWait = 120LL * 1000000000LL;
	so.Config.MaxAckPending = 100000;
	so.Config.FilterSubject = x->subj[part];
	if (start > 1) {
		so.Config.DeliverPolicy = js_DeliverByStartSequence;
		so.Config.OptStartSeq = start;
	} else {
		so.Config.DeliverPolicy = js_DeliverAll;
	}
	j = 0;
	s = js_PullSubscribe(&x->sub[part], x->js, x->subj[part], durable, NULL, &so, &j);
	if (s != NATS_OK)
		return nats_fail(x, err, s, j, "subscribe");
	return 0;
}

static int nats_fetch(struct xp *x, int part, int wait_ms, struct ship_chunk *c, struct sl_err *err)
{
	natsMsgList *l = &x->list[part];

	if (x->next[part] >= l->Count) {
		jsErrCode j = 0;
		natsStatus s;

		/* messages dropped unacked are acked by a later ack (AckAll) */
		x->cur[part] = NULL;
		natsMsgList_Destroy(l);
		memset(l, 0, sizeof(*l));
		x->next[part] = 0;
		/* Fetch returns at once with a full batch, else at the timeout
		 * with what came: a short one when the caller does not wait, and
		 * a batch of one when it waits (an idle reader), so the first
		 * message to come returns at once */
		s = natsSubscription_Fetch(l, x->sub[part], wait_ms > 0 ? 1 : 16, wait_ms > 0 ? wait_ms : 20, &j);
		if (s == NATS_TIMEOUT || (s == NATS_NOT_FOUND))
			return 0;
		if (s != NATS_OK)
			return nats_fail(x, err, s, j, "fetch");
		if (!l->Count)
			return 0;
	}
	x->cur[part] = l->Msgs[x->next[part]++];
	return chunk_of(x, x->cur[part], part, c, err) < 0 ? -SL_ECORRUPT : 1;
}

static int nats_ack(struct xp *x, int part, struct sl_err *err)
{
	jsErrCode j = 0;
	natsStatus s;

	if (!x->cur[part])
		return 0;
	s = natsMsg_AckSync(x->cur[part], NULL, &j);
	if (s != NATS_OK)
		return nats_fail(x, err, s, j, "ack");
	return 0;
}

static int nats_last_id(struct xp *x, int part, uint64_t *id, struct sl_err *err)
{
	struct ship_chunk c;
	int has = nats_last(x, part, &c, err);

	*id = has > 0 ? c.id : 0;
	return has < 0 ? has : 0;
}

static int nats_info(struct xp *x, struct xp_info *in, struct sl_err *err)
{
	jsStreamInfo *si = NULL;
	jsConsumerInfoList *cl = NULL;
	jsErrCode j = 0;
	natsStatus s;

	memset(in, 0, sizeof(*in));
	if ((s = js_GetStreamInfo(&si, x->js, x->stream, NULL, &j)) != NATS_OK) {
		if (s == NATS_NOT_FOUND)
			return sl_err_set(err, -ENOENT, "nats %s: no such stream", x->name);
		return nats_fail(x, err, s, j, "stream info");
	}
	in->messages = si->State.Msgs;
	in->bytes = si->State.Bytes;
	in->first_id = si->State.FirstSeq;
	in->last_id = si->State.LastSeq;
	in->replicas = (int)si->Config->Replicas;
	in->max_age_s = (uint64_t)(si->Config->MaxAge / 1000000000LL);
	in->max_bytes = si->Config->MaxBytes > 0 ? (uint64_t)si->Config->MaxBytes : 0;
	jsStreamInfo_Destroy(si);
	j = 0;
	if ((s = js_Consumers(&cl, x->js, x->stream, NULL, &j)) != NATS_OK && s != NATS_NOT_FOUND)
		return nats_fail(x, err, s, j, "readers");
	in->readers = sl_xcalloc(cl && cl->Count ? (size_t)cl->Count : 1, sizeof(*in->readers));
	for (int i = 0; cl && i < cl->Count; i++) {
		jsConsumerInfo *c = cl->List[i];
		struct xp_reader *r = &in->readers[in->nreaders++];
		natsMsg *m = NULL;

		snprintf(r->name, sizeof(r->name), "%s", c->Name);
		r->acked = floor_of(c);
		r->pending = c->NumPending + (uint64_t)c->NumAckPending;
		if (r->acked && js_GetMsg(&m, x->js, x->stream, r->acked, NULL, NULL) == NATS_OK) {
			struct sl_err e = SL_ERR_INIT;
			int part = c->Config && c->Config->FilterSubject &&
				   !strcmp(c->Config->FilterSubject, x->subj[SHIP_SNAP]) ? SHIP_SNAP : SHIP_LOG;

			if (!chunk_of(x, m, part, &r->chunk, &e)) {
				r->has_chunk = 1;
				snprintf(r->source, sizeof(r->source), "%s", r->chunk.source);
				r->chunk.source = r->source;
				r->chunk.data = NULL;
			}
			natsMsg_Destroy(m);
		}
	}
	jsConsumerInfoList_Destroy(cl);
	return 0;
}

static int nats_used;

static void nats_library_close(void)
{
	if (nats_used)
		nats_CloseAndWait(2000);
	nats_used = 0;
}

static const struct xp_ops nats_ops = {
	.scheme = "nats",
	.open = nats_open,
	.name = nats_name,
	.max_chunk = nats_max_chunk,
	.create = nats_create,
	.exists = nats_exists,
	.last = nats_last,
	.publish = nats_publish,
	.flush = nats_flush,
	.subscribe = nats_subscribe,
	.fetch = nats_fetch,
	.ack = nats_ack,
	.last_id = nats_last_id,
	.info = nats_info,
	.close = nats_close,
	.library_close = nats_library_close,
};

const struct xp_ops *xp_find(const char *url, struct sl_err *err)
{
	if (!strncmp(url, "nats://", 7)) {
		nats_used = 1;
		return &nats_ops;
	}
	sl_err_set(err, -SL_EINVAL_ARG, "'%.40s': not a transport url (nats://HOST:PORT/NAME)",
		   strstr(url, "@") ? "(url with credentials)" : url);
	return NULL;
}

void xp_info_release(struct xp_info *i)
{
	free(i->readers);
	memset(i, 0, sizeof(*i));
}

void ship_library_close(void)
{
	nats_ops.library_close();
}
