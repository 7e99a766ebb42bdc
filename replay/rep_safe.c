/* rep_safe.c - the hand-off from a loaded snapshot to the change stream: positions compared, and which transactions apply in safe mode. */
#include "rep.h"
#include "rep_snap.h"

#include <stdlib.h>
#include <string.h>
#include "banned.h"

/*
 * The snapshot's rows are the source's at P1 (each run's own; SnapshotEnd
 * holds the highest). A change transaction that committed at or before
 * SnapshotEnd.position may be in the loaded rows already, or not (a chunk
 * read by an earlier run): it applies in safe mode, where each statement
 * gives the same result whether or not the row is there (rep_plan.c):
 *   INSERT  REPLACE INTO
 *   DELETE  delete if present (any count)
 *   UPDATE  DELETE of the before image's row (any count), then REPLACE of
 *           the after image: an upsert
 * After it every transaction applies strictly, as without a snapshot.
 *
 * Rows are rendered before their TxnCommit is read, so the commit position
 * comes from a second reader of DIR that runs ahead (peek) while the window
 * is open: at each TxnBegin it reads on to the commit after it. Once one
 * commit lies past the end the window is closed for good and the peek
 * reader is closed.
 *
 * A keyless table cannot take safe mode (REPLACE without a key is an
 * INSERT: the row would be there twice). Such a table is read whole by one
 * snapshot run, so its rows are the source's at that run's P1: changes up
 * to that P1 are skipped for it, later ones apply strictly.
 */

/* The binlog file's sequence number: the digits after the last '.'; -1 when none. */
static long long file_seq(const char *f)
{
	const char *dot = f ? strrchr(f, '.') : NULL;
	long long n = 0;

	if (!dot || !dot[1])
		return -1;
	for (const char *p = dot + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
		if (n > (1LL << 50))
			return -1;
	}
	return n;
}

int rep__pos_cmp(const Sluice__Position *a, const Sluice__Position *b)
{
	long long sa = file_seq(a->file), sb = file_seq(b->file);

	if (sa >= 0 && sb >= 0) {
		if (sa != sb)
			return sa < sb ? -1 : 1;
	} else {
		int c = strcmp(a->file ? a->file : "", b->file ? b->file : "");

		if (c)
			return c < 0 ? -1 : 1;
	}
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return 0;
}

void rep__safe_release(struct rep_safe *s)
{
	if (!s)
		return;
	if (s->end)
		fmt_position_free(s->end);
	if (s->pos)
		fmt_position_free(s->pos);
	seg_reader_close(s->peek);
	for (size_t i = 0; i < s->nkeyless; i++) {
		free(s->keyless[i].db);
		free(s->keyless[i].name);
		fmt_position_free(s->keyless[i].p1);
	}
	free(s->keyless);
	free(s);
}

static void close_window(struct rep_safe *s)
{
	s->over = 1;
	seg_reader_close(s->peek);
	s->peek = NULL;
	sl_log(SL_INFO, "replay", "past the snapshot's position: strict apply from here on");
}

int rep__safe_begin(struct rep_ctx *x, const struct seg_cursor *cur, struct sl_err *err)
{
	struct rep_safe *s = x->safe;
	int rc;

	x->safe_txn = 0;
	x->txn_pos = NULL;
	if (!s || s->over)
		return 0;
	if (!s->opened) {
		s->opened = 1;
		if ((rc = seg_reader_open(&s->peek, x->o->dir, err)) ||
		    (x->folded.seq && (rc = seg_reader_seek_after(s->peek, &x->folded, err))))
			return sl_err_prefix(err, "reading ahead for safe mode");
	}
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor pc;
		const Sluice__Position *p = NULL;

		rc = seg_reader_next(s->peek, &rec, &pc, err);
		if (rc < 0)
			return sl_err_prefix(err, "reading ahead for safe mode");
		if (rc == 0)	/* the coordinator only sees whole transactions */
			return sl_err_set(err, -SL_ECORRUPT, "reading ahead for safe mode: the "
					  "transaction at segment %llu offset %llu has no commit",
					  (unsigned long long)cur->seq, (unsigned long long)cur->offset);
		if (rep__cursor_cmp(&pc, cur) > 0 && rec->body_case == SLUICE__RECORD__BODY_COMMIT) {
			p = rec->commit->position;
			if (!p || !p->file || !p->file[0]) {
				/* no position: it may be in the snapshot, safe mode */
				fmt_record_free(rec);
				x->safe_txn = 1;
				return 0;
			}
		}
		if (p) {
			if (rep__pos_cmp(p, s->end) > 0) {
				fmt_record_free(rec);
				close_window(s);
				return 0;
			}
			if (s->pos)
				fmt_position_free(s->pos);
			s->pos = fmt_position_dup(p);
			fmt_record_free(rec);
			x->safe_txn = 1;
			x->txn_pos = s->pos;
			return 0;
		}
		fmt_record_free(rec);
	}
}

int rep__safe_skip_row(struct rep_ctx *x, const Sluice__TableDef *td)
{
	const struct rep_safe *s = x->safe;

	if (!x->safe_txn || !x->txn_pos || td->n_primary_key)
		return 0;
	for (size_t i = 0; i < s->nkeyless; i++)
		if (!strcmp(s->keyless[i].db, td->db) && !strcmp(s->keyless[i].name, td->name))
			return rep__pos_cmp(x->txn_pos, s->keyless[i].p1) <= 0;
	return 0;
}
