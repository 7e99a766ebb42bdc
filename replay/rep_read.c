/* rep_read.c - replay's read stage and rep_run(): DIR's records in order, each handed to the stage that takes it. */
#include "rep.h"
#include "rep_int.h"
#include "rep_snap.h"
#include "rep_hist.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <mysql.h>
#include "banned.h"

/*
 * One transaction, through the pipeline (rep_int.h names the files):
 *
 * read: run_loop() reads DIR from the checkpoint on, a record at a time,
 * through the filters (rep_filter.c), and apply_record() hands it on.
 *
 * plan (rep_plan.c): TxnBegin picks the worker being filled (x->cur) and
 * opens a batch there, or joins the open one; its first statement is the
 * INSERT into `sluice`.`applied` naming the transaction (so the
 * destination's binlog marks it as replay's at its first row event:
 * capture leaves such transactions out, cap_loop.c). Each row change
 * takes its conflict keys (rep_deps.c): when the key's last transaction is
 * on another worker, the read waits until that one committed, so
 * transactions touching a common row commit in source order. Then it goes
 * into the worker's query q as SQL, or into the plan that coalesces it per
 * key. TxnCommit closes the batch at --batch-txns or --batch-bytes.
 *
 * dispatch (rep_dispatch.c): a closed batch (plan, `applied` rows, COMMIT)
 * goes to the worker's thread (rep_worker.c), at once when another worker
 * is idle; with nothing more to read, every open batch closes and goes.
 *
 * commit (rep_commit.c): a worker that committed raises its done mark; the
 * low-water mark moves over every transaction committed, and about once a
 * second (and when idle, at a DDL, at the end) rep__fold() moves the
 * checkpoint row to it and deletes the `applied` rows it covers. A restart
 * reads both and skips the transactions whose TxnBegin is in `applied`.
 *
 * A DDL (rep_ddl.c) waits for every batch to commit, then runs alone on
 * the control connection; the checkpoint marks it pending before and done
 * after, so a restart between the two does not run it twice.
 */

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR && !sl_stop_requested)
		;
}

/* Wait for DIR to hold a segment (follow) and return its identity. */
static int dir_exists(const char *dir, struct sl_err *err)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		int e = errno;

		return sl_err_set(err, -e, "%s: stream directory '%s'", e == ENOENT ?
				  "no such directory" : strerror(e), dir);
	}
	if (!S_ISDIR(st.st_mode))
		return sl_err_set(err, -ENOTDIR, "not a directory: stream directory '%s'", dir);
	return 0;
}

static int dir_identity(struct rep_ctx *x, uint8_t sid[16], struct sl_err *err)
{
	for (;;) {
		char *source = NULL;
		int rc = seg_dir_identity(x->o->dir, &source, sid, err);

		free(source);
		if (rc != -ENOENT) {
			if (!rc)
				*err = (struct sl_err)SL_ERR_INIT;	/* no stale "holds no segment" */
			return rc;
		}
		if (!x->o->follow || sl_stop_requested)
			return -ENOENT;
		sleep_ms(x->o->poll_ms ? x->o->poll_ms : 20);
	}
}

/*
 * The checkpoint names the record it was moved over: its cursor (segment,
 * frame offset, index) and that record's source position. A DIR rolled back
 * to an older copy, or captured again, holds something else there (nothing,
 * a shorter segment, another record): reading on from that cursor would
 * skip or repeat transactions, or stop on a "truncated frame". Say that
 * the stream forked, and where, with what DIR holds there.
 */
static int forked(struct rep_ctx *x, const char *holds, struct sl_err *err)
{
	const struct seg_cursor *c = &x->folded;

	return sl_err_set(err, -SL_ESTREAM, "stream forked: consumer '%s' applied up to segment %"
			  PRIu64 " offset %" PRIu64 " record %" PRIu32 " (source position %s) but "
			  "'%s' holds %s there (was it rolled back to an older copy, or captured "
			  "again?): replaying from it would skip or repeat transactions",
			  x->consumer, c->seq, c->offset, c->index,
			  x->cp.source_file[0] ? x->last_pos : "unknown", x->o->dir, holds);
}

/* The source position of a record that ends a transaction, or NULL. */
static const Sluice__Position *end_position(const Sluice__Record *rec)
{
	if (rec->body_case == SLUICE__RECORD__BODY_COMMIT && rec->commit)
		return rec->commit->position;
	if (rec->body_case == SLUICE__RECORD__BODY_DDL && rec->ddl)
		return rec->ddl->position;
	return NULL;
}

/*
 * seg_reader_seek_after() skips the TableDefs that precede the checkpoint in
 * its segment, and a segment repeats a definition only before its first use
 * there. So read the checkpoint's segment from its start up to the
 * checkpoint, keeping only TableDefs, and check on the way that the
 * checkpoint's record is there (forked() when not).
 */
static int prime_tables(struct rep_ctx *x, struct sl_err *err)
{
	struct seg_reader *r = NULL;
	struct seg_cursor last = { 0 };
	char holds[400], pos[300];
	int trc = 0, found = 0, rc = seg_reader_open_seq(&r, x->o->dir, x->folded.seq, err);

	if (rc == -ENOENT) {
		/* below DIR's lowest segment: purged (run_loop says so); else DIR
		 * ends before it (segment numbers have no gaps) */
		struct sl_err e2 = SL_ERR_INIT;

		if (!seg_reader_open(&r, x->o->dir, &e2) && seg_reader_seq(r) &&
		    seg_reader_seq(r) <= x->folded.seq) {
			seg_reader_close(r);
			snprintf(holds, sizeof(holds), "no segment %" PRIu64, x->folded.seq);
			return forked(x, holds, err);
		}
		seg_reader_close(r);
		return 0;
	}
	if (rc)
		return sl_err_prefix(err, "reading the table definitions before the checkpoint");
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;
		int cmp;

		rc = seg_reader_next(r, &rec, &cur, err);
		if (rc <= 0)
			break;
		if (rec->body_case == SLUICE__RECORD__BODY_TABLE) {
			const Sluice__Record *use;

			/* the filter learns it too (and renames or drops it) */
			if (!(trc = rep__filter(x, rec, &use, &cur, err)) && use) {
				fmt_tables_put(&x->tables, use->table);
				trc = rep__check_triggers(x, use->table, err);
			}
		}
		cmp = rep__cursor_cmp(&cur, &x->folded);
		if (!trc && cmp > 0)
			snprintf(holds, sizeof(holds), "no record (the first one after it is at offset %"
				 PRIu64 " record %" PRIu32 ")", cur.offset, cur.index);
		if (!trc && cmp == 0) {
			const Sluice__Position *p = end_position(rec);

			found = 1;
			if (x->cp.source_file[0] && p && p->file && p->file[0] &&
			    (strcmp(p->file, x->cp.source_file) || p->offset != x->cp.source_offset)) {
				found = -1;
				snprintf(holds, sizeof(holds), "a record of source position %s",
					 fmt_position_str(p, pos, sizeof(pos)));
			}
		}
		fmt_record_free(rec);
		last = cur;
		if (trc || cmp >= 0)
			break;
	}
	seg_reader_close(r);
	if (trc)
		return trc;
	if (rc < 0)
		return sl_err_prefix(err, "reading the table definitions before the checkpoint");
	if (found == 1)
		return 0;
	if (!found && rep__cursor_cmp(&last, &x->folded) < 0) {
		if (last.seq)
			snprintf(holds, sizeof(holds), "nothing (segment %" PRIu64 " ends after offset %"
				 PRIu64 " record %" PRIu32 ")", x->folded.seq, last.offset, last.index);
		else
			snprintf(holds, sizeof(holds), "nothing (segment %" PRIu64 " holds no record)",
				 x->folded.seq);
	}
	return forked(x, holds, err);
}

static int apply_record(struct rep_ctx *x, const Sluice__Record *rec, const struct seg_cursor *cur,
			struct sl_err *err)
{
	char wh[REP_WHERE_LEN];
	int rc;

	/* The renderers tell "err already says why" by err->code (a lookup on
	 * the destination that failed) from a bare code they must explain: a
	 * message left by an earlier call that succeeded in the end (the
	 * reader's "cannot open" of a segment not written yet, "holds no
	 * segment") must not stand for this record's failure. */
	*err = (struct sl_err)SL_ERR_INIT;
	switch (rec->body_case) {
	case SLUICE__RECORD__BODY_BEGIN:
		if (x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "transaction begins inside another at %s",
					  rep__where_str(x, cur, wh, sizeof(wh)));
		return rep__txn_begin(x, rec->begin, cur, err);
	case SLUICE__RECORD__BODY_TABLE:
		/* the plan points at the definition this one replaces */
		if (x->cur && (rc = rep__plan_emit(x, err)))
			return rc;
		fmt_tables_put(&x->tables, rec->table);
		rep__cols_forget(x, rec->table->ref);
		return rep__check_triggers(x, rec->table, err);
	case SLUICE__RECORD__BODY_ROW:
		if (!x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "row change outside a transaction at %s",
					  rep__where_str(x, cur, wh, sizeof(wh)));
		if (x->skipping)
			return 0;
		x->st->rows++;
		return rep__apply_row(x, rec->row, cur, err);
	case SLUICE__RECORD__BODY_COMMIT:
		if (!x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "commit outside a transaction at %s",
					  rep__where_str(x, cur, wh, sizeof(wh)));
		return rep__txn_commit(x, rec->commit, cur, err);
	case SLUICE__RECORD__BODY_DDL:
		if (x->in_txn)
			return sl_err_set(err, -SL_ECORRUPT, "ddl inside a transaction at %s",
					  rep__where_str(x, cur, wh, sizeof(wh)));
		return rep__apply_ddl(x, rec->ddl, cur, err);
	case SLUICE__RECORD__BODY_HEARTBEAT:
		x->hb_time = rec->heartbeat->time;	/* rep_metrics.c: lag on an idle source */
		return 0;
	default:
		return sl_err_set(err, -SL_ECORRUPT, "unknown record type %d at %s",
				  (int)rec->body_case, rep__where_str(x, cur, wh, sizeof(wh)));
	}
}

/* --follow's progress line, every REP_RATE_MS while transactions arrive:
 * rates, the stream's bytes read (frame offsets moved through: compressed,
 * as on disk), and the latency of the last committed transaction (now minus
 * its commit time on the source, in seconds) - for a reverse sync after a
 * switchover, D's commit to S's. */
#define REP_RATE_MS 10000
struct rep_rate {
	uint64_t ms, bytes, txns, rows;
	uint64_t total;			/* bytes since the start, for --metrics */
	struct seg_cursor last;
};

static void rate_note(struct rep_rate *r, const struct seg_cursor *cur)
{
	uint64_t n;

	if (cur->seq == r->last.seq)
		n = cur->offset > r->last.offset ? cur->offset - r->last.offset : 0;
	else
		n = cur->offset;
	r->bytes += n;
	r->total += n;
	r->last = *cur;
}

static void rate_report(struct rep_ctx *x, struct rep_rate *r)
{
	uint64_t now = sl_now_ms(), txns = x->st->transactions - r->txns, rows = x->st->rows - r->rows;
	uint64_t wall;
	double secs = (double)(now - r->ms) / 1000;

	rep__metrics_tick(x, r->total, 0);	/* --metrics FILE, every few seconds */
	if (now - r->ms < REP_RATE_MS)
		return;
	wall = sl_wall_us() / 1000000;
	if (x->o->follow && (txns || rows))
		sl_log(SL_INFO, "replay", "%.0f transactions/s, %.0f rows/s, %.2f MB/s of stream; latency %" PRIu64
		       " s (commit on the source to commit here)", (double)txns / secs, (double)rows / secs,
		       (double)r->bytes / 1e6 / secs, x->lwm.time && wall > x->lwm.time ? wall - x->lwm.time : 0);
	r->ms = now;
	r->bytes = 0;
	r->txns = x->st->transactions;
	r->rows = x->st->rows;
}

/* Everything handed out committed, and the checkpoint row says so. */
static int settle(struct rep_ctx *x, struct sl_err *err)
{
	int rc = rep__plan_drain(x, err);

	return rc ? rc : rep__fold(x, NULL, err);
}

static int run_loop(struct rep_ctx *x, struct sl_err *err)
{
	struct rep_rate rate = { .ms = sl_now_ms() };
	struct seg_reader *r = NULL;
	struct seg_cursor registered = { 0 };
	uint64_t registered_ms = 0, need;
	int rc;

	if ((rc = seg_reader_open(&r, x->o->dir, err)))
		goto out;
	/* The checkpoint's segment (segment 1 for a new consumer) must still be there. */
	need = x->folded.seq ? x->folded.seq : 1;
	if (seg_reader_seq(r) > need) {
		rc = sl_err_set(err, -SL_ESTREAM, "'%s' begins at segment %" PRIu64 " (older ones were "
				"removed by purge or retention) but consumer '%s' needs segment %" PRIu64
				": replaying from here would skip transactions", x->o->dir,
				seg_reader_seq(r), x->consumer, need);
		goto out;
	}
	x->loaded = 1;
	rep__register_consumer(x);	/* retention keeps what it needs from now on */
	if ((rc = rep__hist_seek(x, r, err)))
		goto out;
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;

		if (!x->in_txn && sl_stop_requested)
			break;
		rc = seg_reader_next(r, &rec, &cur, err);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			if (x->in_txn) {
				/* The reader only delivers whole transactions. */
				rc = sl_err_set(err, -SL_ECORRUPT, "stream '%s' ends inside a transaction "
						"(gtid %s)", x->o->dir, x->gtid[0] ? x->gtid : "none");
				goto out;
			}
			/* nothing more for now: everything sent, committed, recorded */
			if ((rc = settle(x, err)))
				goto out;
			if (x->folded.seq && !rep__cursor_eq(&x->folded, &registered)) {
				rep__register_consumer(x);
				registered = x->folded;
				registered_ms = sl_now_ms();
			}
			if (!x->o->follow || sl_stop_requested)
				break;
			rate_report(x, &rate);
			sleep_ms(x->o->poll_ms ? x->o->poll_ms : 20);
			continue;
		}
		rate_note(&rate, &cur);
		x->read_upto = cur;
		{
			const Sluice__Record *use;

			rc = rep__filter(x, rec, &use, &cur, err);
			if (!rc && use)
				rc = rep__hist_gate(x, use, &cur, err);
			if (!rc && use)
				rc = apply_record(x, use, &cur, err);
		}
		fmt_record_free(rec);
		if (rc > 0 || (!rc && rep__hist_done(x)))
			break;	/* --until: the point is reached */
		if (rc)
			goto out;
		if (!x->in_txn && x->stop.seq && rep__cursor_cmp(&cur, &x->stop) >= 0)
			break;
		if (!x->in_txn && sl_now_ms() - x->fold_ms >= REP_FOLD_MS) {
			/* The open batch goes out (committed) first: a batch or
			 * transaction sent in parts holds its `applied` rows while
			 * its worker waits for the rest in q, and the fold's DELETE
			 * of the rows below the mark would wait for their locks
			 * until the lock wait timeout. It also bounds a batch's
			 * life to about a second. */
			if (x->cur && (rc = rep__plan_flush(x, err)))
				goto out;
			rep__advance_lwm(x);
			if ((rc = rep__fold(x, NULL, err)))
				goto out;
		}
		if (!x->in_txn)
			rate_report(x, &rate);	/* also under a backlog that never ends */
		/* Retention: tell DIR how far we are, about once a second. */
		if (!x->in_txn && x->folded.seq && sl_now_ms() - registered_ms >= 1000) {
			rep__register_consumer(x);
			registered = x->folded;
			registered_ms = sl_now_ms();
		}
	}
	rc = settle(x, err);
out:
	rep__metrics_tick(x, rate.total, 1);	/* the file complete at the end */
	seg_reader_close(r);
	return rc;
}

/* One run: stop (seq 0: none) ends it after the record there; *read_upto
 * tells where reading got to. */
static int run(const struct rep_opts *o, struct rep_round *rd, const struct seg_cursor *stop,
	       struct seg_cursor *read_upto, struct rep_stats *st, struct sl_err *err)
{
	struct rep_ctx x = { 0 };
	uint8_t sid[16];
	uint64_t t0 = sl_now_ms(), rows0;
	double secs;
	int rc;

	x.o = o;
	x.round = rd;
	x.stop = *stop;
	x.st = st;
	x.consumer = o->consumer && o->consumer[0] ? o->consumer : "default";
	x.nworkers = o->workers ? o->workers : rep__default_workers();
	x.batch_txns = o->batch_txns ? o->batch_txns : REP_DEFAULT_BATCH_TXNS;
	x.batch_bytes = o->batch_bytes ? o->batch_bytes : REP_DEFAULT_BATCH_BYTES;
	x.next_tno = x.ring_lo = 1;
	x.fold_ms = sl_now_ms();
	snprintf(x.last_pos, sizeof(x.last_pos), "(start)");
	fmt_tables_init(&x.tables);
	rep__deps_init(&x.deps, REP_DEP_BITS);
	x.ring = sl_xcalloc(REP_RING, sizeof(*x.ring));
	sl_buf_init(&x.row, 1);
	sl_buf_init(&x.shape, 1 << 16);
	sl_buf_init(&x.plan.text, SIZE_MAX);
	sl_buf_init(&x.plan.applied, SIZE_MAX);
	if ((rc = rep__hist_init(&x, err)))
		goto out;
	/* An empty DIR has nothing to apply yet (capture has not written);
	 * a missing one is a mistyped path, not an empty stream. */
	if ((rc = dir_exists(o->dir, err)))
		goto out;
	if ((rc = rep__conn_open(&x.ctl, o->dest_url, err)) || (rc = rep__grants_check(&x.ctl, err)))
		goto out;
	rd->connected = 1;
	sl_buf_release(&x.row);
	sl_buf_init(&x.row, x.ctl.stmt_max);
	/* a replay of this consumer that died may still have queries running */
	if ((rc = rep__hist_end_orphans(&x, err)) || (rc = rep__hist_lock(&x, 10, err)))
		goto out;
	for (unsigned i = 1; i <= REP_MAX_WORKERS; i++)
		if ((rc = rep__conn_lock(&x.ctl, x.consumer, i, 60, 0, err)))
			goto out;
	/* DIR/snapshot: schema and rows first (rep_snapshot.c) */
	if ((rc = rep__snapshot_phase(&x, err)))
		goto out;
	if (st->snapshot_incomplete)
		goto out;
	rc = dir_identity(&x, sid, err);
	if (rc == -ENOENT) {
		sl_log(SL_INFO, "replay", "'%s' holds no segment yet: nothing to apply", o->dir);
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	if ((rc = rep__load_checkpoint(&x, sid, err)) || (rc = rep__hist_start(&x, sid, err)))
		goto out;
	/* offset 0: before the first record of the segment (--from) */
	if (x.folded.seq && x.folded.offset && (rc = prime_tables(&x, err)))
		goto out;
	/* several workers: one more round trip per transaction (its COMMIT)
	 * costs the destination less than the guard statements; one worker
	 * keeps the guards and sends many transactions per round trip */
	x.pool.split_commits = x.nworkers > 1;
	if ((rc = rep__pool_start(&x.pool, x.nworkers, o->dest_url, x.consumer, err)))
		goto out;
	sl_retry_up(rd->retry);
	rows0 = st->rows;
	if ((rc = run_loop(&x, err)))
		goto out;
	*err = (struct sl_err)SL_ERR_INIT;
	rep__hist_finish(&x);
	secs = (double)(sl_now_ms() - t0) / 1000.0;
	sl_log(SL_INFO, "replay", "applied %" PRIu64 " transactions, %" PRIu64 " rows, %" PRIu64
	       " ddls in %.2f s (%.0f rows/s, %u workers)", st->transactions, st->rows, st->ddls,
	       secs, secs > 0 ? (double)(st->rows - rows0) / secs : 0.0, x.nworkers);
out:
	/* the sessions a next round may have to end (rep__hist_end_orphans) */
	rd->nids = 0;
	if (x.ctl.db)
		rd->ids[rd->nids++] = x.ctl.session;
	for (unsigned i = 0; x.pool.w && i < x.pool.n && rd->nids < 1 + REP_MAX_WORKERS; i++)
		if (x.pool.w[i].session)
			rd->ids[rd->nids++] = x.pool.w[i].session;
	if (x.pool.w) {
		/* let the workers finish what they hold; on an error, commit what
		 * committed and record it, so a restart repeats nothing */
		struct sl_err e2 = SL_ERR_INIT;

		if (rc) {
			x.cur = NULL;
			x.in_txn = 0;
			pthread_mutex_lock(&x.pool.mu);
			while (rep__any_busy_locked(&x))
				pthread_cond_wait(&x.pool.cv, &x.pool.mu);
			pthread_mutex_unlock(&x.pool.mu);
			rep__advance_lwm(&x);
			if (x.ctl.db && rep__fold(&x, NULL, &e2))
				sl_log(SL_WARN, "replay", "%s", e2.msg);
		}
		rep__pool_stop(&x.pool);
	}
	if (x.loaded && x.ctl.db)
		rep__register_consumer(&x);
	rep__conn_close(&x.ctl);
	fmt_tables_release(&x.tables);
	rep__triggers_release(&x);
	rep__deps_release(&x.deps);
	rep__cols_release(&x);
	rep__plan_release(&x);
	sl_buf_release(&x.row);
	sl_buf_release(&x.shape);
	free(x.ring);
	free(x.applied);
	rep__safe_release(x.safe);
	rep__hist_release(&x);
	*read_upto = x.read_upto;
	return rc;
}

/*
 * A failed statement rolls back its whole batch, the transactions before
 * the failed one too, and the message names the statement's, whatever
 * batch it was in. So when a batch fails, replay runs again from the
 * checkpoint one transaction per destination transaction up to where it
 * had read: a failure then stops exactly at its transaction, with every
 * one before it committed, as --batch-txns 1 would; when nothing fails
 * (the cause was passing), it goes on in batches.
 */
/* One round: the run, and after a failed batch the rerun one transaction at
 * a time up to where it had read, then on in batches. */
static int round_once(const struct rep_opts *o, struct rep_round *rd, struct rep_stats *st,
		      struct sl_err *err)
{
	struct seg_cursor none = { 0 }, upto = { 0 };
	struct rep_opts one = *o;
	int rc;

	rc = run(o, rd, &none, &upto, st, err);
	if (rc != -SL_EAPPLY || o->batch_txns == 1 || !upto.seq)
		return rc;
	sl_log(SL_WARN, "replay", "a batch failed: %s", err->msg);
	sl_log(SL_INFO, "replay", "applying its transactions one by one, up to segment %" PRIu64
	       " offset %" PRIu64 ", to stop at the failing one", upto.seq, upto.offset);
	*err = (struct sl_err)SL_ERR_INIT;
	one.batch_txns = 1;
	one.follow = 0;
	one.from = 0;	/* the first run set the checkpoint there */
	if ((rc = run(&one, rd, &upto, &upto, st, err)))
		return rc;
	one = *o;
	one.from = 0;
	return run(&one, rd, &none, &upto, st, err);
}

/*
 * Rounds until done: a transient failure (sl.h "retrying what passes": the
 * destination lost or restarting, read_only, a deadlock the worker could not
 * retry itself) ends a round as a crash would, with what committed
 * recorded, and the next round starts from the checkpoint plus `applied`,
 * so nothing is applied twice or left out. --from applies to the first
 * round only (it set the checkpoint). Before the first connection of the
 * process a failure is retried only with --follow.
 */
int rep_run(const struct rep_opts *o, struct rep_stats *st, struct sl_err *err)
{
	struct rep_round rd = { 0 };
	struct sl_retry r;
	struct rep_opts again = *o;
	struct sl_dsn dsn;
	char who[600], red[512], *state;
	uint64_t done;
	int rc;

	memset(st, 0, sizeof(*st));
	/* before anything else: a bad name would be a broken checkpoint row and an
	 * unregistered consumer that retention does not protect */
	if (o->consumer && o->consumer[0] && (rc = sl_consumer_name_check(o->consumer, err)))
		return rc;
	if ((rc = sl_dsn_parse(&dsn, o->dest_url, "SLUICE_DEST_PASSWORD", err)))
		return rc;
	sl_dsn_redacted(&dsn, red, sizeof(red));
	sl_dsn_release(&dsn);
	snprintf(who, sizeof(who), "destination %s", red);
	state = sl_xasprintf("%s/replay-%s.state", o->dir, o->consumer && o->consumer[0] ? o->consumer : "default");
	sl_retry_init(&r, "replay", who, o->retry_for_ms, state);
	free(state);
	rd.retry = &r;
	do {
		done = st->transactions + st->ddls + st->skipped;
		rc = round_once(&again, &rd, st, err);
		again.from = 0;	/* the first round set the checkpoint there */
	} while (sl_retry_again(&r, &rc, st->transactions + st->ddls + st->skipped != done,
				rd.connected || o->follow, err));
	sl_retry_end(&r, rc, err);
	sl_retry_release(&r);
	return rc;
}
