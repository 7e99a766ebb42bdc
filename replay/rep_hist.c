/* rep_hist.c - replay of history while it runs: the --until gate before each record, --skip's transactions left out and recorded, the --from start, and the one-replay-per-consumer lock. */
#include "rep.h"
#include "rep_int.h"
#include "rep_hist.h"

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <mysql.h>
#include "banned.h"

/*
 * The coordinator renders a transaction's rows as it reads them, so whether
 * a transaction is applied at all (--until, --skip) must be known at its
 * TxnBegin; its end position, commit time and last cursor are in its
 * TxnCommit. A second reader (ahead) runs through the same records just in
 * front: at each TxnBegin it moves to that transaction's TxnCommit, decoding
 * only that record (the others are skipped undecoded). The main reader only
 * delivers complete transactions, so the TxnCommit is on disk already.
 */
struct rep_hist {
	struct rep_until until;
	struct rep_skip skip;
	struct seg_reader *ahead;
	struct fmt_arena arena;		/* the ahead reader's TxnCommit */
	int reach_after;		/* the unit being applied reaches the point */
	int reached;			/* nothing more is applied */
	char stop_at[400];		/* what ended the run, for the last message */
	uint64_t units;			/* transactions and DDL let through */
	struct rep_skip_item *skip_now;	/* the transaction being read is skipped */
	struct seg_cursor skip_begin, skip_commit;
	char who[320];
	uint8_t sid[16];
};

static void fill_who(struct rep_hist *h)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *user = pw && pw->pw_name ? pw->pw_name : getenv("USER");
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1))
		host[0] = 0;
	snprintf(h->who, sizeof(h->who), "%s@%s", user && *user ? user : "unknown",
		 host[0] ? host : "unknown");
}

int rep__hist_init(struct rep_ctx *x, struct sl_err *err)
{
	const struct rep_opts *o = x->o;
	struct rep_hist *h;
	int rc;

	if (!(o->until && o->until[0]) && !o->nskip && !o->from)
		return 0;
	h = sl_xcalloc(1, sizeof(*h));
	x->hist = h;
	fmt_arena_init(&h->arena);
	fill_who(h);
	if ((rc = rep__until_parse(o->until, &h->until, err)) ||
	    (rc = rep__skip_parse(&h->skip, o->skip, o->nskip, err)))
		return rc;
	return 0;
}

void rep__hist_release(struct rep_ctx *x)
{
	struct rep_hist *h = x->hist;

	if (!h)
		return;
	seg_reader_close(h->ahead);
	fmt_arena_release(&h->arena);
	rep__skip_release(&h->skip);
	free(h);
	x->hist = NULL;
}

/* ---- one replay per consumer ---- */

/* The connection id holding lock 0 of the consumer and what it does now
 * (PROCESSLIST.COMMAND): 1 when it is idle ("Sleep": a live client between
 * queries), 0 when it runs a query (maybe the last one of a replay that
 * died) or cannot be seen, <0 with err. */
static int holder_idle(struct rep_worker *w, const char *consumer, uint64_t *id, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(1024);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc = 0;

	*id = 0;
	if ((rc = sl_buf_adds(&q, "SELECT p.ID,p.COMMAND FROM information_schema.PROCESSLIST p WHERE "
			      "p.ID=IS_USED_LOCK(CONCAT('sluice:',LEFT(SHA1(_utf8mb4 ")) ||
	    (rc = fmt_sql_hex(&q, consumer, strlen(consumer))) ||
	    (rc = sl_buf_adds(&q, "),24),':0'))"))) {
		rc = sl_err_set(err, rc, "cannot build a lock statement: %s", sl_strerror(rc));
		goto out;
	}
	if (mysql_real_query(w->db, (const char *)q.data, q.len) || !(res = mysql_store_result(w->db))) {
		rc = rep__db_error(w, "looking up who holds the consumer lock", err);
		goto out;
	}
	if ((row = mysql_fetch_row(res)) && row[0]) {
		*id = strtoull(row[0], NULL, 10);
		rc = row[1] && !strcmp(row[1], "Sleep");
	}
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	return rc;
}

/*
 * After a transient failure (rep_run()'s next round): the sessions of the
 * failed round that still hold one of the consumer's locks are ended (KILL
 * CONNECTION). A network cut off without a RST leaves them on the server,
 * idle or mid-statement, holding the locks and row locks the new round
 * needs. Only a session whose id was ours and that holds our lock is
 * ended: after a server restart ids are reused, and those sessions hold
 * none of our locks.
 */
int rep__hist_end_orphans(struct rep_ctx *x, struct sl_err *err)
{
	struct rep_round *rd = x->round;
	struct sl_buf q = SL_BUF_INIT(1 << 16);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc = 0;

	if (!rd || !rd->nids)
		return 0;
	rc = sl_buf_adds(&q, "SELECT ");
	for (unsigned i = 0; i <= REP_MAX_WORKERS && !rc; i++)
		if (!(rc = sl_buf_adds(&q, i ? ",IS_USED_LOCK(CONCAT('sluice:',LEFT(SHA1(_utf8mb4 " :
					      "IS_USED_LOCK(CONCAT('sluice:',LEFT(SHA1(_utf8mb4 ")) &&
		    !(rc = fmt_sql_hex(&q, x->consumer, strlen(x->consumer))))
			rc = sl_buf_addf(&q, "),24),':%u'))", i);
	if (rc) {
		rc = sl_err_set(err, rc, "cannot build a lock statement: %s", sl_strerror(rc));
		goto out;
	}
	if (mysql_real_query(x->ctl.db, (const char *)q.data, q.len) || !(res = mysql_store_result(x->ctl.db))) {
		rc = rep__db_error(&x->ctl, "looking up the sessions of the failed round", err);
		goto out;
	}
	if (!(row = mysql_fetch_row(res)))
		goto out;
	for (unsigned i = 0; i < mysql_num_fields(res); i++) {
		uint64_t id = row[i] ? strtoull(row[i], NULL, 10) : 0;
		char kill[64];

		for (unsigned k = 0; id && k < rd->nids; k++) {
			if (rd->ids[k] != id)
				continue;
			sl_log(SL_INFO, "replay", "ending session %" PRIu64 " of the failed round on "
			       "destination %s (it holds the consumer's lock %u)", id, x->ctl.dest, i);
			snprintf(kill, sizeof(kill), "KILL CONNECTION %" PRIu64, id);
			if (mysql_query(x->ctl.db, kill) && mysql_errno(x->ctl.db) != 1094) {
				rc = rep__db_error(&x->ctl, kill, err);
				goto out;
			}
			rd->ids[k] = 0;
		}
	}
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	return rc;
}

/*
 * Lock 0 of the consumer (rep_int.h rep__conn_lock()). Held by a live
 * replay, it is refused at once: its control connection sits idle between
 * queries, which a session whose client died never does (the server ends
 * it when it next reads). A holder running a query may be the last query
 * of a replay that was killed: wait for it, up to timeout_s.
 */
int rep__hist_lock(struct rep_ctx *x, int timeout_s, struct sl_err *err)
{
	uint64_t t0 = sl_now_ms(), id = 0, idle_id = 0;
	int rc;

	for (;;) {
		struct sl_err e = SL_ERR_INIT;

		if (!rep__conn_lock(&x->ctl, x->consumer, 0, 0, 1, &e))
			return 0;
		if (e.code != -SL_EDB || strstr(e.msg, "taking the consumer lock")) {
			*err = e;
			return e.code;
		}
		if ((rc = holder_idle(&x->ctl, x->consumer, &id, err)) < 0)
			return rc;
		/* idle twice in a row, 100 ms apart: a live replay */
		if (rc && id == idle_id)
			return sl_err_set(err, -EBUSY, "consumer '%s' is in use on destination %s: "
					  "another replay of it is running (connection %" PRIu64 "); "
					  "two replays of one consumer never run at once", x->consumer,
					  x->ctl.dest, id);
		idle_id = rc ? id : 0;
		if (sl_now_ms() - t0 >= (uint64_t)timeout_s * 1000)
			return sl_err_set(err, -EBUSY, "consumer '%s' is in use on destination %s: "
					  "connection %" PRIu64 " held its lock for %d s (another replay "
					  "is running, or the queries of one that died still are)",
					  x->consumer, x->ctl.dest, id, timeout_s);
		{
			struct timespec ts = { 0, 100 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
}

/* ---- --from: a fresh destination starts at a segment ---- */

/* The source position segment seq starts at (its header's), or none. */
static void segment_start(const char *dir, uint64_t seq, char *file, size_t n, uint64_t *off)
{
	struct seg_reader *r = NULL;
	struct sl_err e = SL_ERR_INIT;
	const uint8_t *body;
	size_t len;
	struct seg_cursor c;
	const Sluice__SegmentHeader *hd;

	file[0] = 0;
	*off = 0;
	if (seg_reader_open_seq(&r, dir, seq, &e))
		return;
	if (seg_reader_next_raw(r, &body, &len, &c, &e) >= 0 && (hd = seg_reader_header(r)) &&
	    hd->start && hd->start->file) {
		snprintf(file, n, "%s", hd->start->file);
		*off = hd->start->offset;
	}
	seg_reader_close(r);
}

/* The GTID of the checkpoint row into x->lwm.gtid (what it stands after),
 * for "--until reached by an earlier run". */
static int checkpoint_gtid(struct rep_ctx *x, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(1024);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	if ((rc = sl_buf_adds(&q, "SELECT `gtid` FROM `sluice`.`checkpoint` WHERE `consumer`=")) ||
	    (rc = fmt_sql_str(&q, x->consumer))) {
		sl_buf_release(&q);
		return sl_err_set(err, rc, "cannot build the checkpoint query: %s", sl_strerror(rc));
	}
	if (mysql_real_query(x->ctl.db, (const char *)q.data, q.len) ||
	    !(res = mysql_store_result(x->ctl.db)))
		rc = rep__db_error(&x->ctl, "reading the checkpoint's gtid", err);
	else if ((row = mysql_fetch_row(res)) && row[0])
		snprintf(x->lwm.gtid, sizeof(x->lwm.gtid), "%s", row[0]);
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	return rc ? rc : rep__exec(&x->ctl, "COMMIT", err);	/* end the read */
}

/*
 * After the checkpoint row was read: with --from SEQ, refuse a consumer
 * that applied anything already, else move its row to "before the first
 * record of segment SEQ" (cursor SEQ, offset 0, record 0: offset 0 is the
 * segment header's, never a record's) so that a restart, with or without
 * --from, goes on from there.
 */
int rep__hist_start(struct rep_ctx *x, const uint8_t sid[16], struct sl_err *err)
{
	struct rep_hist *h = x->hist;
	struct sl_buf b = SL_BUF_INIT(4096);
	struct seg_cursor to = { 0 };
	Sluice__Position pos = SLUICE__POSITION__INIT;
	char file[256];
	uint64_t lo = 0;
	int rc;

	if (!h)
		return 0;
	memcpy(h->sid, sid, 16);
	if (h->until.kind == REP_UNTIL_GTID && x->cp.cur.seq && (rc = checkpoint_gtid(x, err)))
		return rc;
	if (!x->o->from)
		return 0;
	if (x->cp.cur.seq || x->napplied || x->cp.ddl_pending)
		return sl_err_set(err, -SL_ESTREAM, "--from %" PRIu64 ": consumer '%s' on destination %s "
				  "has a checkpoint already (segment %" PRIu64 " offset %" PRIu64 " record %"
				  PRIu32 "): --from starts a fresh destination only; replay without --from "
				  "goes on from the checkpoint", x->o->from, x->consumer, x->ctl.dest,
				  x->cp.cur.seq, x->cp.cur.offset, x->cp.cur.index);
	if (x->safe)
		return sl_err_set(err, -SL_ECONFIG, "--from %" PRIu64 ": '%s' holds a snapshot "
				  "(DIR/snapshot), which loads the destination from its own start",
				  x->o->from, x->o->dir);
	{
		struct seg_reader *r = NULL;
		int orc = seg_reader_open_seq(&r, x->o->dir, x->o->from, err);

		seg_reader_close(r);
		if (orc == -ENOENT) {
			struct seg_status st;
			struct sl_err e2 = SL_ERR_INIT;

			if (!seg_status(x->o->dir, &st, &e2)) {
				lo = st.last_seq;
				rc = sl_err_set(err, -SL_EINVAL_ARG, "--from %" PRIu64 ": '%s' has no "
						"segment %" PRIu64 " (it holds %" PRIu64 "..%" PRIu64 ")",
						x->o->from, x->o->dir, x->o->from, st.first_seq, lo);
				seg_status_release(&st);
				return rc;
			}
			return sl_err_set(err, -SL_EINVAL_ARG, "--from %" PRIu64 ": '%s' has no segment %"
					  PRIu64, x->o->from, x->o->dir, x->o->from);
		}
		if (orc)
			return orc;
	}
	to.seq = x->o->from;
	segment_start(x->o->dir, to.seq, file, sizeof(file), &pos.offset);
	pos.file = file;
	pos.gtid = (char *)"";
	if ((rc = rep__sql_checkpoint_update(&b, x->consumer, &x->cp.cur, &to, file[0] ? &pos : NULL,
					     NULL)) ||
	    (rc = sl_buf_adds(&b, ";COMMIT"))) {
		sl_buf_release(&b);
		return sl_err_set(err, rc, "cannot build the checkpoint update: %s", sl_strerror(rc));
	}
	rc = rep__exec(&x->ctl, sl_buf_cstr(&b), err);
	sl_buf_release(&b);
	if (rc)
		return rc;
	x->cp.cur = x->folded = x->lwm.cur = to;
	snprintf(x->lwm.file, sizeof(x->lwm.file), "%s", file);
	x->lwm.offset = pos.offset;
	if (file[0])
		snprintf(x->last_pos, sizeof(x->last_pos), "%s:%" PRIu64, file, pos.offset);
	sl_log(SL_INFO, "replay", "--from %" PRIu64 ": consumer '%s' starts at segment %" PRIu64
	       " (source position %s); the destination must hold the source as it was there",
	       to.seq, x->consumer, to.seq, file[0] ? x->last_pos : "unknown");
	return 0;
}

/* ---- reading ---- */

static int seek(struct seg_reader *r, const struct seg_cursor *c, struct sl_err *err)
{
	if (!c->seq)
		return 0;
	if (!c->offset)		/* --from: before the segment's first record */
		return seg_reader_seek_start(r, c->seq, err);
	return seg_reader_seek_after(r, c, err);
}

int rep__hist_seek(struct rep_ctx *x, struct seg_reader *r, struct sl_err *err)
{
	struct rep_hist *h = x->hist;
	int rc;

	if ((rc = seek(r, &x->folded, err)))
		return rc;
	if (!h || (!h->until.kind && !h->skip.n))
		return 0;
	if ((rc = seg_reader_open(&h->ahead, x->o->dir, err)))
		return rc;
	return seek(h->ahead, &x->folded, err);
}

/* The TxnCommit of the transaction whose TxnBegin is at begin. */
static int ahead_commit(struct rep_ctx *x, const struct seg_cursor *begin,
			const Sluice__TxnCommit **c, struct seg_cursor *at, struct sl_err *err)
{
	struct rep_hist *h = x->hist;
	uint64_t t0 = sl_now_ms();

	fmt_arena_reset(&h->arena);
	for (;;) {
		const uint8_t *body;
		size_t len;
		Sluice__Record *rec;
		int rc = seg_reader_next_raw(h->ahead, &body, &len, at, err);

		if (rc < 0)
			return sl_err_prefix(err, "reading ahead for the end of a transaction");
		if (rc == 0) {
			struct timespec ts = { 0, 10 * 1000000L };

			if (sl_now_ms() - t0 > 10000)
				return sl_err_set(err, -SL_ESTREAM, "'%s': no end found for the "
						  "transaction at segment %" PRIu64 " offset %" PRIu64
						  " record %" PRIu32, x->o->dir, begin->seq, begin->offset,
						  begin->index);
			nanosleep(&ts, NULL);
			continue;
		}
		if (rep__cursor_cmp(at, begin) <= 0 ||
		    fmt_record_peek(body, len) != SLUICE__RECORD__BODY_COMMIT)
			continue;
		if ((rc = fmt_record_decode(body, len, &h->arena, &rec, err)))
			return rc;
		*c = rec->commit;
		return 0;
	}
}

/* "2026-12-06 16:35:01 UTC" */
static const char *utc(uint64_t t, char *out, size_t n)
{
	time_t v = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&v, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(out, n, "an unknown time");
	return out;
}

static void stopped(struct rep_hist *h, const char *what, const char *gtid,
		    const Sluice__Position *p, uint64_t time)
{
	char pos[300] = "-", when[64];

	if (p)
		fmt_position_str(p, pos, sizeof(pos));
	snprintf(h->stop_at, sizeof(h->stop_at), "stopped before %s%s%s (source position %s, "
		 "committed %s)", what, gtid && gtid[0] ? " " : "", gtid ? gtid : "", pos,
		 utc(time, when, sizeof(when)));
	h->reached = 1;
}

/*
 * Before each record outside a transaction: 1 when the run ends before it
 * (a unit past the --until point), 0 to apply it, <0 with err. At a
 * TxnBegin it also decides --skip.
 */
int rep__hist_gate(struct rep_ctx *x, const Sluice__Record *rec, const struct seg_cursor *cur,
		   struct sl_err *err)
{
	struct rep_hist *h = x->hist;
	const struct rep_until *u;
	int rc;

	if (!h || x->in_txn)
		return 0;
	u = &h->until;
	if (h->reached)
		return 1;
	switch (rec->body_case) {
	case SLUICE__RECORD__BODY_BEGIN: {
		const Sluice__TxnCommit *c = NULL;
		struct seg_cursor at;
		const char *g = rec->begin->gtid ? rec->begin->gtid : "";

		if (!h->ahead)
			return 0;
		*err = (struct sl_err)SL_ERR_INIT;
		if ((rc = ahead_commit(x, cur, &c, &at, err)))
			return rc;
		if (rep__until_past(u, g, c->position, c->time)) {
			stopped(h, "the transaction", g, c->position, c->time);
			return 1;
		}
		h->reach_after = rep__until_at(u, g, c->position);
		h->skip_now = rep__skip_match(&h->skip, g, cur, &at);
		h->skip_begin = *cur;
		h->skip_commit = at;
		h->units++;
		return 0;
	}
	case SLUICE__RECORD__BODY_DDL: {
		const Sluice__Ddl *d = rec->ddl;
		const char *g = d->position && d->position->gtid ? d->position->gtid : "";

		if (rep__until_past(u, g, d->position, d->time)) {
			stopped(h, "the ddl", g, d->position, d->time);
			return 1;
		}
		h->reach_after = rep__until_at(u, g, d->position);
		h->units++;
		return 0;
	}
	case SLUICE__RECORD__BODY_HEARTBEAT:
		if (rec->heartbeat && rep__until_beat(u, rec->heartbeat->position, rec->heartbeat->time)) {
			char pos[300] = "-", when[64];

			if (rec->heartbeat->position)
				fmt_position_str(rec->heartbeat->position, pos, sizeof(pos));
			snprintf(h->stop_at, sizeof(h->stop_at), "a heartbeat of the source at %s, %s, "
				 "shows nothing more comes before it", pos,
				 utc(rec->heartbeat->time, when, sizeof(when)));
			h->reached = 1;
		}
		return 0;
	default:
		return 0;
	}
}

/* After a record was applied: 1 when the run is over (the point reached). */
int rep__hist_done(struct rep_ctx *x)
{
	struct rep_hist *h = x->hist;

	if (!h || x->in_txn)
		return 0;
	if (h->reach_after && !h->reached) {
		h->reached = 1;
		snprintf(h->stop_at, sizeof(h->stop_at), "applied up to and including it");
	}
	return h->reached;
}

/* At a TxnBegin: 1 when the transaction is left out (already: it was
 * committed before a restart; or --skip names it). */
int rep__hist_skip_begin(struct rep_ctx *x, const struct seg_cursor *cur, int already)
{
	struct rep_hist *h = x->hist;

	if (!h || !h->skip_now || !rep__cursor_eq(cur, &h->skip_begin))
		return already;
	h->skip_now->matched++;
	if (already)		/* skipped and recorded by a run before */
		h->skip_now = NULL;
	return 1;
}

/* At the TxnCommit of a transaction left out: record a --skip. */
int rep__hist_skip_commit(struct rep_ctx *x, const Sluice__TxnCommit *c, struct sl_err *err)
{
	struct rep_hist *h = x->hist;
	struct rep_skip_row r = { 0 };
	struct sl_buf b = SL_BUF_INIT(8192);
	char pos[300] = "-";
	int rc;

	if (!h || !h->skip_now)
		return 0;
	r.consumer = x->consumer;
	r.stream_id = h->sid;
	r.begin = h->skip_begin;
	r.commit = h->skip_commit;
	r.gtid = x->gtid;
	r.end = c->position;
	r.rows = c->rows;
	r.time = c->time;
	r.who = h->who;
	r.given = h->skip_now->text;
	if ((rc = rep__skip_sql(&b, &r)) || (rc = sl_buf_adds(&b, ";COMMIT"))) {
		sl_buf_release(&b);
		return sl_err_set(err, rc, "cannot build the skip record: %s", sl_strerror(rc));
	}
	rc = rep__exec(&x->ctl, sl_buf_cstr(&b), err);
	sl_buf_release(&b);
	if (rc)
		return rc;
	if (c->position)
		fmt_position_str(c->position, pos, sizeof(pos));
	sl_log(SL_WARN, "replay", "skipped the transaction %s%sat segment %" PRIu64 " offset %" PRIu64
	       " record %" PRIu32 " (source position %s, %" PRIu64 " rows) as --skip %s asks; "
	       "recorded in `sluice`.`skipped`", x->gtid[0] ? x->gtid : "", x->gtid[0] ? " " : "",
	       r.begin.seq, r.begin.offset, r.begin.index, pos, r.rows, r.given);
	h->skip_now = NULL;
	return 0;
}

/* Nothing let through in this run, and the checkpoint (its position, or
 * the GTID of the last transaction read) at or past the point already. */
static int passed_before(struct rep_ctx *x)
{
	const struct rep_until *u = &x->hist->until;
	Sluice__Position p = SLUICE__POSITION__INIT;

	if (x->hist->units)
		return 0;
	p.file = x->lwm.file;
	p.offset = x->lwm.offset;
	if (u->kind == REP_UNTIL_POS)
		return p.file[0] && rep__binlog_cmp(p.file, p.offset, u->file, u->pos) >= 0;
	if (u->kind == REP_UNTIL_GTID)
		return x->lwm.gtid[0] && (rep__until_at(u, x->lwm.gtid, NULL) ||
					  rep__until_past(u, x->lwm.gtid, NULL, 0));
	return 0;
}

/* At the end of a run that succeeded: say where --until left it, and warn
 * of a --skip that matched nothing. */
void rep__hist_finish(struct rep_ctx *x)
{
	struct rep_hist *h = x->hist;

	if (!h)
		return;
	rep__hist_done(x);
	if (h->until.kind) {
		if (h->reached)
			sl_log(SL_INFO, "replay", "--until %s reached: %s; the checkpoint is at source "
			       "position %s", h->until.text, h->stop_at, x->last_pos);
		else if (passed_before(x))
			sl_log(SL_INFO, "replay", "--until %s reached by an earlier run: the checkpoint "
			       "is at source position %s, past it or at it; nothing applied",
			       h->until.text, x->last_pos);
		else
			sl_log(SL_WARN, "replay", "--until %s not reached: '%s' ends before it; applied "
			       "everything there, up to source position %s", h->until.text, x->o->dir,
			       x->last_pos);
	}
	for (size_t i = 0; i < h->skip.n; i++)
		if (!h->skip.v[i].matched)
			sl_log(SL_WARN, "replay", "--skip %s matched no transaction read in this run "
			       "(after the checkpoint%s)", h->skip.v[i].text,
			       h->reached ? ", before --until" : "");
}
