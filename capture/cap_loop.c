/* cap_loop.c - loop prevention: what sluice replay wrote on the captured server is left out of the stream, and only counted. */
/*
 * When a server is both a replay destination and a capture source (the
 * reverse stream after a switchover, both directions at once), capture must
 * not take back what replay wrote there, or every change would go around
 * for ever. Replay marks what it writes (replay/rep_plan.c, rep_load.c):
 *   a transaction   its first statement inserts its `sluice`.`applied` row
 *                   (a snapshot chunk: its `sluice`.`snapshot_chunks` row),
 *                   so its first rows event is on that table
 *   a DDL           begins with FMT_REPLAY_MARK (the comment sluice:replay),
 *                   which the server keeps in the QUERY event (README
 *                   "Loop prevention" lists the statements it rewrites)
 * Capture reads the mark at the first rows event, before it has written
 * anything of the transaction (it streams, and cannot take records back),
 * and leaves the whole transaction out: only its end moves the stream, as a
 * Heartbeat counting it (replayed_transactions), like an account statement.
 * A marked DDL is left out alike (replayed_ddls); the schema history still
 * follows it. The server rewrites a few DDL and loses the mark (fmt.h
 * FMT_REPLAY_BEACON): replay runs a marked no-op just before each DDL, and
 * the next DDL of that connection (the QUERY event's thread id) is replay's.
 * Thread ids start again when the server does: a format description event
 * forgets them. Transactions on the `sluice` tables alone (replay's
 * checkpoint) are left out as a skipped schema already.
 *
 * A replay older than this marks at the end of its transactions: an
 * `applied` row after other rows. Such a transaction is kept, and a
 * warning names its position. capture --keep-replayed keeps everything.
 */
#include <string.h>

#include "cap_int.h"
#include "banned.h"

static int is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

unsigned cap__loop_mark(const char *db, size_t dbl, const char *tbl, size_t tl)
{
	if (!is(db, dbl, "sluice"))
		return 0;
	if (is(tbl, tl, "applied"))
		return CAP_MARK_APPLIED;
	if (is(tbl, tl, "snapshot_chunks"))
		return CAP_MARK_CHUNKS;
	return 0;
}

int cap__loop_rows(struct cap_decoder *d, unsigned mark)
{
	if (!d->row_seen) {
		d->row_seen = 1;
		d->replayed = mark && !d->keep_replayed;
		return d->replayed;
	}
	if (d->replayed)
		return 1;
	/* after data rows written (replay's own checkpoint transaction
	 * deletes applied rows after its checkpoint row: not a data row) */
	if (mark == CAP_MARK_APPLIED && d->begun && !d->keep_replayed && !d->warned_mark) {
		d->warned_mark = 1;
		sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: a `sluice`.`applied` row after "
		       "other rows of transaction %s: written by a sluice replay older than this "
		       "capture (it marks its transactions at their end), so it is kept and may go "
		       "back to where it came from; upgrade that replay", cap__dec_file(d),
		       (unsigned long long)d->ev_off, d->gtid[0] ? d->gtid : "(no gtid)");
	}
	return 0;
}

/* The index of thread t among those whose next DDL is replay's, or -1. */
static int pending(const struct cap_decoder *d, uint32_t t)
{
	for (unsigned i = 0; i < d->n_replay_threads; i++)
		if (d->replay_threads[i] == t)
			return (int)i;
	return -1;
}

int cap__loop_ddl(struct cap_decoder *d, uint32_t thread, const char *s, size_t n)
{
	int marked = fmt_stmt_replayed(s, n), i = pending(d, thread);

	if (d->keep_replayed)
		return 0;
	if (marked == 2) {
		/* the next DDL of this connection is replay's (the server may rewrite it) */
		if (i < 0) {
			if (d->n_replay_threads == CAP_REPLAY_THREADS)
				memmove(d->replay_threads, d->replay_threads + 1,
					(CAP_REPLAY_THREADS - 1) * sizeof(*d->replay_threads));
			else
				d->n_replay_threads++;
			d->replay_threads[d->n_replay_threads - 1] = thread;
		}
		return 1;	/* not counted: it stands for the next one */
	}
	if (!marked && i < 0)
		return 0;
	if (i >= 0) {
		d->n_replay_threads--;
		memmove(d->replay_threads + i, d->replay_threads + i + 1,
			(d->n_replay_threads - (unsigned)i) * sizeof(*d->replay_threads));
	}
	sl_log(SL_DEBUG, "capture", "binlog '%s' at offset %llu: ddl written by sluice replay left "
	       "out%s: %.60s", cap__dec_file(d), (unsigned long long)d->ev_off,
	       marked ? "" : " (rewritten by the server, after its beacon)", s);
	d->replayed_ddls++;
	return 1;
}

void cap__loop_restart(struct cap_decoder *d)
{
	d->n_replay_threads = 0;
}
