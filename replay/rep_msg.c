/* rep_msg.c - what replay's messages say: table names, positions, and a worker's failed statement as one line. */
#include "rep.h"
#include "rep_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "banned.h"

const char *const rep__kind_name[] = {
	"", "insert into", "update of", "delete from", "row count check", "checkpoint update",
	"commit", "statement", "replace into",
};

const char *rep__table_name(struct rep_ctx *x, uint32_t ref, char *out, size_t n)
{
	const Sluice__TableDef *td = fmt_tables_get(&x->tables, ref);

	if (!td)
		snprintf(out, n, "table ref %" PRIu32, ref);
	else
		snprintf(out, n, "`%s`.`%s`", td->db ? td->db : "", td->name ? td->name : "");
	return out;
}

const char *rep__where_of(const struct seg_cursor *c, const char *gtid, const char *after,
			    char *out, size_t n)
{
	snprintf(out, n, "segment %" PRIu64 " offset %" PRIu64 " record %" PRIu32
		 " (gtid %s, after source position %s)", c->seq, c->offset, c->index,
		 gtid && gtid[0] ? gtid : "none", after && after[0] ? after : "(start)");
	return out;
}

const char *rep__where_str(struct rep_ctx *x, const struct seg_cursor *c, char *out, size_t n)
{
	return rep__where_of(c, x->gtid, x->last_pos, out, n);
}

int rep__fail_message(struct rep_ctx *x, struct rep_worker *w, struct sl_err *err)
{
	const struct rep_fail *f = &w->fail;
	const struct rep_part *p;
	const struct rep_txn_meta *m;
	/* a lost connection, a deadlock, read_only: the same statement may pass
	 * later (rep_run() retries from the checkpoint); a lost connection on a
	 * query near max_allowed_packet is that limit */
	int transient = !f->count && !f->warnings && db_transient(f->errnum, f->msg) &&
			!(w->max_packet && f->qlen > w->max_packet / 2);
	char cause[1400], reason[600], stmt[300], tn[200], wh[REP_WHERE_LEN], ctx[REP_WHERE_LEN + 40];

	db_reason(f->msg, f->errnum, reason, sizeof(reason));
	if (f->part >= w->nparts) {
		snprintf(ctx, sizeof(ctx), "on destination %s", w->dest);
		return rep__stmt_error(err, transient ? -SL_ETRANSIENT : -SL_EDB,
				       reason, ctx, (const char *)w->q.data, w->q.len);
	}
	p = &w->parts[f->part];
	if (!f->count && p->kind == K_GUARD && f->part > 0)
		p--;	/* name the statement the guard checks */
	m = &w->txns[p->txn];
	if (p->kind == K_INSERT || p->kind == K_UPDATE || p->kind == K_DELETE || p->kind == K_REPLACE)
		snprintf(stmt, sizeof(stmt), "%s %s", rep__kind_name[p->kind],
			 rep__table_name(x, p->ref, tn, sizeof(tn)));
	else
		snprintf(stmt, sizeof(stmt), "%s", rep__kind_name[p->kind]);
	/* what sluice found reads "<statement> <what>"; a server error is
	 * "<reason> in <statement>" */
	if (f->count && p->kind == K_CHECKPOINT)
		snprintf(cause, sizeof(cause), "the checkpoint of consumer '%s' moved (is another "
			 "replay running?) in %s", x->consumer, stmt);
	else if (f->count)
		snprintf(cause, sizeof(cause), "%s matched %" PRIu64 " rows, not %lld,", stmt, f->aff,
			 (long long)p->expect);
	else if (f->warnings)
		snprintf(cause, sizeof(cause), "%s raised %u warning%s (%s), so it was not committed: "
			 "the destination would store a different value (a narrower or different "
			 "column type or charset?),", stmt, f->warnings,
			 f->warnings > 1 ? "s, the first" : "", f->msg[0] ? f->msg : "run it again to see it");
	else if (f->errnum == 1690 && w->parts[f->part].kind == K_GUARD)
		snprintf(cause, sizeof(cause), "%s matched fewer or more rows than %lld, or raised a "
			 "warning,", stmt, (long long)p->expect);
	else if (f->errnum == 1062 && p->kind == K_CHECKPOINT)
		snprintf(cause, sizeof(cause), "%s: the transaction is applied already (is another "
			 "replay of consumer '%s' running?) in %s", reason, x->consumer, stmt);
	else if (!transient && rep__packet_too_big(f->errnum, f->qlen, w->max_packet))
		snprintf(cause, sizeof(cause), "query of %zu bytes too large for the destination's "
			 "max_allowed_packet (%zu bytes when replay connected; lowered since, or a "
			 "proxy's limit?): %s, in %s", f->qlen, w->max_packet, reason, stmt);
	else
		snprintf(cause, sizeof(cause), "%s in %s", reason, stmt);
	snprintf(ctx, sizeof(ctx), "at %s", rep__where_of(&p->cur, m->gtid, m->after, wh, sizeof(wh)));
	return rep__stmt_error(err, transient ? -SL_ETRANSIENT : -SL_EAPPLY, cause, ctx,
			       (const char *)w->q.data + p->off, p->len);
}
