/*
 * cap.h - capture: read a source's binlog (replication protocol through
 *         libmariadb) and write its committed transactions into segments.
 *
 * cap_run() connects, checks the source (binlog on, ROW format, FULL row
 * image, FULL row metadata), opens the stream directory (store/seg.h),
 * chooses the start position and streams:
 *   - DIR new, no --from/--from-start: the source's binlog end now
 *     (SHOW MASTER STATUS), recorded with a Heartbeat so the next run
 *     continues exactly there;
 *   - DIR holds a stream: after its last durable transaction (the stream
 *     must belong to the same source, else -SL_ESTREAM);
 *   - --from FILE:POS / --from-start (first binlog file, offset 4): only for
 *     a new DIR.
 * Without follow it stops at the binlog end as of its start and returns 0.
 * With follow it runs until sl_stop_requested, finishes the transaction in
 * hand and returns 0. Only complete transactions become durable.
 *
 * The event decoder (cap_int.h) is shared with archived binlog files: one
 * decoder for both paths.
 * Errors: 0 or a negative code with err naming the cause (never a password).
 */
#ifndef CAP_H
#define CAP_H

#include <stdint.h>

#include "sl.h"

struct cap_opts {
	const char *source_url;		/* mysql://...; password from SLUICE_SOURCE_PASSWORD */
	const char *dir;
	int follow;
	int from_start;
	const char *from;		/* "FILE:POS" or NULL */
	uint32_t server_id;		/* replica id to register as; 0: pick one */
	uint64_t segment_size;		/* 0: store default */
	uint32_t commit_interval_ms;	/* group commit delay; 0: default 10 ms */
	uint32_t heartbeat_ms;		/* idle heartbeat from the source; 0: 200 ms */
};

struct cap_stats {
	uint64_t events;		/* binlog events read */
	uint64_t binlog_bytes;		/* bytes of binlog events read */
	uint64_t transactions;		/* committed transactions written */
	uint64_t rows;			/* row changes written */
	uint64_t ddls;			/* DDL records written */
};

int cap_run(const struct cap_opts *o, struct cap_stats *st, struct sl_err *err);

#endif
