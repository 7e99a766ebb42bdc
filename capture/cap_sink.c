/* cap_sink.c - the decoder's sink into segments, shared by live and file capture. */
#include <stdlib.h>
#include <string.h>

#include "cap.h"
#include "cap_int.h"
#include "seg.h"
#include "banned.h"

/* A RowChange needs its TableDef earlier in the same segment (every segment
 * is readable on its own): write it before the first row that uses it. */
static int sink_record(void *ctx, const Sluice__Record *rec, struct sl_err *err)
{
	struct cap_seg_sink *c = ctx;
	int rc;

	if (rec->body_case == SLUICE__RECORD__BODY_ROW) {
		uint32_t ref = rec->row->table_ref;
		uint64_t seq = seg_writer_seq(c->w);

		if (ref >= c->emitted_cap) {
			size_t cap = c->emitted_cap ? c->emitted_cap : 64;

			while (cap <= ref)
				cap *= 2;
			c->emitted_seq = sl_xrealloc(c->emitted_seq, cap * sizeof(*c->emitted_seq));
			memset(c->emitted_seq + c->emitted_cap, 0,
			       (cap - c->emitted_cap) * sizeof(*c->emitted_seq));
			c->emitted_cap = cap;
		}
		if (c->emitted_seq[ref] != seq) {
			Sluice__Record tr = SLUICE__RECORD__INIT;
			const Sluice__TableDef *def = cap_decoder_table(c->d, ref);

			if (!def)
				return sl_err_set(err, -SL_EBUG, "no table definition for ref %u", ref);
			/* the filter learns the table here, and renames or cuts it */
			if (c->filter && (rc = fmt_filter_tabledef(c->filter, def, &def, err)))
				return rc;
			tr.body_case = SLUICE__RECORD__BODY_TABLE;
			tr.table = (Sluice__TableDef *)def;
			if (def && (rc = seg_writer_append(c->w, &tr, err)))
				return rc;
			c->emitted_seq[ref] = seq;
		}
	}
	/* --include, --exclude, --map, --exclude-columns, --ops (fmt.h): what
	 * they leave out never reaches the segments */
	if (c->filter && rec->body_case != SLUICE__RECORD__BODY_TABLE &&
	    ((rc = fmt_filter_record(c->filter, rec, &rec, err)) || !rec))
		return rc;
	if (rec->body_case == SLUICE__RECORD__BODY_ROW) {
		c->st->rows++;
	} else if (rec->body_case == SLUICE__RECORD__BODY_COMMIT) {
		c->st->transactions++;
	} else if (rec->body_case == SLUICE__RECORD__BODY_DDL) {
		c->st->ddls++;
	} else if (rec->body_case == SLUICE__RECORD__BODY_HEARTBEAT) {
		c->st->replayed_txns += rec->heartbeat->replayed_transactions;
		c->st->replayed_ddls += rec->heartbeat->replayed_ddls;
	}
	return seg_writer_append(c->w, rec, err);
}

static int sink_txn_end(void *ctx, const Sluice__Position *pos, uint64_t t, struct sl_err *err)
{
	struct cap_seg_sink *c = ctx;

	c->last_write_ms = sl_now_ms();
	c->last_txn_time = t;
	sl_failpoint("capture.txn.before-end");	/* every record of it appended, no end yet */
	return seg_writer_txn_end(c->w, pos, t, err);
}

void cap__seg_sink_init(struct cap_seg_sink *s, struct seg_writer *w, struct cap_decoder *d,
			struct cap_stats *st, struct fmt_filter *filter, struct cap_sink *sink)
{
	memset(s, 0, sizeof(*s));
	s->filter = filter;
	s->w = w;
	s->d = d;
	s->st = st;
	sink->ctx = s;
	sink->record = sink_record;
	sink->txn_end = sink_txn_end;
}

int cap__seg_sink_catch_up(struct cap_seg_sink *s, struct sl_err *err)
{
	const Sluice__Position *at = cap_decoder_position(s->d), *w = seg_writer_position(s->w);
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
	Sluice__Position p, *head = NULL;
	int rc;

	if (cap_decoder_in_txn(s->d) || !at->file || !at->file[0] || at->offset < 4)
		return 0;
	/* the decoder only moves forward: another file is a later one; at the
	 * head, a heartbeat once a while says the source is idle, and since when */
	if (w && w->file && !strcmp(w->file, at->file) && w->offset >= at->offset) {
		if (sl_now_ms() - s->last_write_ms < CAP_IDLE_HEARTBEAT_MS)
			return 0;
		/* idle at the head: the heartbeat stays there. A copy: the
		 * writer frees its own position when it takes the new one. */
		at = head = fmt_position_dup(w);
	}
	p = *at;
	hb.position = &p;
	hb.time = sl_wall_us() / 1000000;
	r.body_case = SLUICE__RECORD__BODY_HEARTBEAT;
	r.heartbeat = &hb;
	if (!(rc = seg_writer_append(s->w, &r, err)) && !(rc = seg_writer_txn_end(s->w, &p, hb.time, err)))
		s->last_write_ms = sl_now_ms();
	fmt_position_free(head);
	return rc;
}

void cap__seg_sink_release(struct cap_seg_sink *s)
{
	if (!s)
		return;
	free(s->emitted_seq);
	s->emitted_seq = NULL;
	s->emitted_cap = 0;
}

int cap__stream_start(struct seg_writer *w, Sluice__Position *start,
		      const Sluice__Position **resume, struct sl_err *err)
{
	int rc;

	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;

	hb.position = start;
	hb.time = sl_wall_us() / 1000000;
	r.body_case = SLUICE__RECORD__BODY_HEARTBEAT;
	r.heartbeat = &hb;
	if ((rc = seg_writer_append(w, &r, err)) || (rc = seg_writer_txn_end(w, start, hb.time, err)) ||
	    (rc = seg_writer_flush(w, err)))
		return rc;
	*resume = seg_writer_position(w);
	return 0;
}
