/* cap_metrics.c - capture --metrics FILE: what capture wrote, and how late the source is known to be. */
/*
 * Families (Prometheus text, common/sl_metrics.h), labelled dir="DIR":
 *   sluice_captured_transactions_total, _rows_total, _ddls_total   written to DIR
 *   sluice_captured_events_total, sluice_captured_bytes_total     binlog events and bytes read
 *   sluice_source_position_timestamp_seconds   the source time the stream is known
 *       complete up to: the commit time of the last transaction written, or, when
 *       the source has said it has nothing more (its heartbeat between
 *       transactions), the time it said so, whichever is later
 *   sluice_capture_lag_seconds                 now minus that; never negative
 * Commit times are the source's clock (seconds, as in the binlog), "now" and
 * the idle time capture's: skew between the two machines shows in the lag.
 */
#include "cap.h"
#include "cap_int.h"

#include <string.h>
#include "banned.h"

void cap__metrics_init(struct cap_metrics *cm, const char *path, const char *dir)
{
	memset(cm, 0, sizeof(*cm));
	sl_metrics_init(&cm->m, path, 0);
	sl_metrics_label(&cm->m, "dir", dir);
}

int cap__metrics_tick(struct cap_metrics *cm, const struct cap_stats *st,
		      const struct cap_seg_sink *sk, int final, struct sl_err *err)
{
	struct sl_metrics *m = &cm->m;
	struct sl_err e = SL_ERR_INIT;
	uint64_t now = sl_now_ms(), wall = sl_wall_us() / 1000000, at;
	int first = !m->written_ms, rc;

	if (!m->path || (!final && !sl_metrics_due(m, now)))
		return 0;
	at = sk->last_txn_time > cm->idle_at ? sk->last_txn_time : cm->idle_at;
	sl_metrics_set(m, SL_METRIC_COUNTER, "sluice_captured_transactions_total",
		       "Source transactions written to the stream directory.", (double)st->transactions);
	sl_metrics_set(m, SL_METRIC_COUNTER, "sluice_captured_rows_total",
		       "Row changes written to the stream directory.", (double)st->rows);
	sl_metrics_set(m, SL_METRIC_COUNTER, "sluice_captured_ddls_total",
		       "DDL statements written to the stream directory.", (double)st->ddls);
	sl_metrics_set(m, SL_METRIC_COUNTER, "sluice_captured_events_total",
		       "Binlog events read from the source.", (double)st->events);
	sl_metrics_set(m, SL_METRIC_COUNTER, "sluice_captured_bytes_total",
		       "Bytes of binlog events read from the source.", (double)st->binlog_bytes);
	if (at) {
		sl_metrics_set(m, SL_METRIC_GAUGE, "sluice_source_position_timestamp_seconds",
			       "Source time the stream is complete up to: commit time of the last "
			       "transaction written, or when the source last said it had nothing more.",
			       (double)at);
		sl_metrics_set(m, SL_METRIC_GAUGE, "sluice_capture_lag_seconds",
			       "Now minus sluice_source_position_timestamp_seconds (never negative).",
			       wall > at ? (double)(wall - at) : 0.0);
	}
	sl_metrics_set(m, SL_METRIC_GAUGE, "sluice_metrics_written_timestamp_seconds",
		       "When capture wrote this file (it is not rewritten while capture waits "
		       "for the source's next event: at most its heartbeat period).", (double)wall);
	rc = sl_metrics_write(m, now, first ? err : &e);
	if (rc && !first && !cm->warned) {
		cm->warned = 1;
		sl_log(SL_WARN, "capture", "--metrics: %s (capture goes on; logged once)", e.msg);
	}
	if (final)
		sl_metrics_release(m);
	return first ? rc : 0;
}
