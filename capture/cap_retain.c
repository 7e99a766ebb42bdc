/* cap_retain.c - capture's opt-in automatic retention (--retain-bytes, --retain-age). */
#include "cap_int.h"
#include "seg.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "banned.h"

void cap__retain_init(struct cap_retain *r, const char *dir, int on, uint64_t keep_bytes,
		      uint64_t keep_age_s)
{
	memset(r, 0, sizeof(*r));
	r->dir = dir;
	r->on = on;
	r->keep_bytes = keep_bytes;
	r->keep_age_s = keep_age_s;
	r->last_ms = sl_now_ms();
}

void cap__retain_tick(struct cap_retain *r, const struct seg_writer *w, int final)
{
	struct seg_purge_result res;
	struct sl_err err = SL_ERR_INIT;
	uint64_t now, seq;
	size_t consumers = 0;

	if (!r->on || !w)
		return;
	now = sl_now_ms();
	seq = seg_writer_seq(w);
	if (!final) {
		uint64_t since = now - r->last_ms;

		/* a segment was sealed (the writer moved on), or it is time */
		if (since < CAP_RETAIN_MIN_MS || (seq == r->last_seq && since < CAP_RETAIN_EVERY_MS))
			return;
	}
	r->last_ms = now;
	r->last_seq = seq;
	if (seg_retain(r->dir, r->keep_bytes, r->keep_age_s, &res, &consumers, &err)) {
		/* retention never stops capture: say it once per distinct cause */
		if (strcmp(err.msg, r->last_err)) {
			sl_log(SL_WARN, "capture", "retention: %s", err.msg);
			snprintf(r->last_err, sizeof(r->last_err), "%s", err.msg);
		}
		return;
	}
	r->last_err[0] = 0;
	if (!consumers) {
		if (!r->waiting_said)
			sl_log(SL_INFO, "capture", "retention waits for a consumer: none is registered in '%s/consumers' (replay registers there), so every segment is kept",
			       r->dir);
		r->waiting_said = 1;
		return;
	}
	r->waiting_said = 0;
	if (res.removed)
		sl_log(SL_INFO, "capture", "retention removed %" PRIu64 " segments (%" PRIu64
		       " bytes); kept %" PRIu64 " (%" PRIu64 " bytes) from segment %" PRIu64 ": %s",
		       res.removed, res.removed_bytes, res.kept, res.kept_bytes, res.first_kept_seq,
		       res.why);
}
