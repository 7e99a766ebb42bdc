/* rep_metrics.c - replay --metrics FILE: what replay applied, and its lag behind the source. */
/*
 * Families (Prometheus text, common/sl_metrics.h), labelled
 * consumer="NAME",dir="DIR":
 *   sluice_applied_transactions_total, _rows_total, _ddls_total
 *       source transactions, row changes and DDL sent to the destination by
 *       this process (a transaction is counted when its COMMIT is handed to a
 *       worker: while a backlog is applied the count runs at most the
 *       transactions in flight ahead of the commits; at rest and at exit it is
 *       what committed)
 *   sluice_applied_snapshot_rows_total   rows of DIR/snapshot loaded
 *   sluice_applied_bytes_total           bytes of stream read (segment bytes,
 *                                        compressed, as on disk)
 *   sluice_source_position_timestamp_seconds   rep__source_time()
 *   sluice_replication_lag_seconds     now minus that, never negative
 * The lag families appear once the time is known (a transaction applied or a
 * heartbeat read). Commit times are the source's clock, heartbeat times
 * capture's, now is replay's: clock skew between machines shows in the lag.
 */
#include "rep.h"
#include "rep_int.h"
#include "sl_metrics.h"

#include <stdlib.h>
#include "banned.h"

struct rep_metrics {
	struct sl_metrics m;
	int warned;
};

uint64_t rep__source_time(const struct rep_ctx *x)
{
	uint64_t t = x->lwm.time;

	/* a heartbeat read after every transaction read so far committed
	 * here: the source had nothing more at that time */
	if (!x->in_txn && x->ring_lo == x->next_tno && x->hb_time > t)
		t = x->hb_time;
	return t;
}

void rep__metrics_tick(struct rep_ctx *x, uint64_t stream_bytes, int final)
{
	struct rep_metrics *rm = x->metrics;
	struct sl_err err = SL_ERR_INIT;
	uint64_t now, wall, at;

	/* called after every transaction: nothing more without --metrics */
	if (!x->o->metrics || !x->o->metrics[0])
		return;
	now = sl_now_ms();
	wall = sl_wall_us() / 1000000;
	if (!rm) {
		rm = x->metrics = sl_xcalloc(1, sizeof(*rm));
		sl_metrics_init(&rm->m, x->o->metrics, 0);
		sl_metrics_label(&rm->m, "consumer", x->consumer);
		sl_metrics_label(&rm->m, "dir", x->o->dir);
	}
	if (!final && !sl_metrics_due(&rm->m, now))
		return;
	sl_metrics_set(&rm->m, SL_METRIC_COUNTER, "sluice_applied_transactions_total",
		       "Source transactions sent to the destination (counted at their COMMIT).",
		       (double)x->st->transactions);
	sl_metrics_set(&rm->m, SL_METRIC_COUNTER, "sluice_applied_rows_total",
		       "Row changes of source transactions sent to the destination.", (double)x->st->rows);
	sl_metrics_set(&rm->m, SL_METRIC_COUNTER, "sluice_applied_ddls_total",
		       "DDL statements applied to the destination.", (double)x->st->ddls);
	sl_metrics_set(&rm->m, SL_METRIC_COUNTER, "sluice_applied_snapshot_rows_total",
		       "Rows of the snapshot stream (DIR/snapshot) loaded.", (double)x->st->chunk_rows);
	sl_metrics_set(&rm->m, SL_METRIC_COUNTER, "sluice_applied_bytes_total",
		       "Bytes of stream read and applied (segment bytes, compressed).", (double)stream_bytes);
	if ((at = rep__source_time(x))) {
		sl_metrics_set(&rm->m, SL_METRIC_GAUGE, "sluice_source_position_timestamp_seconds",
			       "Source time the destination is complete up to: commit time of the last "
			       "transaction applied in order, or of the last heartbeat when idle.",
			       (double)at);
		sl_metrics_set(&rm->m, SL_METRIC_GAUGE, "sluice_replication_lag_seconds",
			       "Now minus sluice_source_position_timestamp_seconds (never negative).",
			       wall > at ? (double)(wall - at) : 0.0);
	}
	sl_metrics_set(&rm->m, SL_METRIC_GAUGE, "sluice_metrics_written_timestamp_seconds",
		       "When replay wrote this file (it is not rewritten while replay waits "
		       "for the destination: compare with the time to see a stall).", (double)wall);
	if (sl_metrics_write(&rm->m, now, &err) && !rm->warned) {
		rm->warned = 1;
		sl_log(SL_WARN, "replay", "--metrics: %s (replay goes on; logged once)", err.msg);
	}
	if (final) {
		sl_metrics_release(&rm->m);
		free(rm);
		x->metrics = NULL;
	}
}
