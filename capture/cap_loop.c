/* cap_loop.c - loop prevention: what sluice replay wrote on the captured server is left out of the stream, and only counted. */
/*
 * When a server is both a replay destination and a capture source (the
 * reverse stream after a switchover, both directions at once), capture must
 * not take back what replay wrote there, or every change would go around
 * for ever. Replay marks what it writes (replay/rep_apply.c, rep_load.c):
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
 * follows it. Transactions on the `sluice` tables alone (replay's
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
	if (mark == CAP_MARK_APPLIED && !d->keep_replayed && !d->warned_mark) {
		d->warned_mark = 1;
		sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: a `sluice`.`applied` row after "
		       "other rows of transaction %s: written by a sluice replay older than this "
		       "capture (it marks its transactions at their end), so it is kept and may go "
		       "back to where it came from; upgrade that replay", cap__dec_file(d),
		       (unsigned long long)d->ev_off, d->gtid[0] ? d->gtid : "(no gtid)");
	}
	return 0;
}

int cap__loop_ddl(struct cap_decoder *d, const char *s, size_t n)
{
	if (d->keep_replayed || !fmt_stmt_replayed(s, n))
		return 0;
	sl_log(SL_DEBUG, "capture", "binlog '%s' at offset %llu: ddl written by sluice replay left "
	       "out: %.60s", cap__dec_file(d), (unsigned long long)d->ev_off, s);
	d->replayed_ddls++;
	return 1;
}
