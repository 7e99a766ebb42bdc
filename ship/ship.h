/*
 * ship.h - carry a stream directory to other sites through a replicated log
 *          (NATS JetStream; the transport is private, ship_int.h).
 *
 * ship_run() publishes DIR's sealed segments, and DIR/snapshot's, to the log
 * named by a URL ("nats://HOST:PORT[,HOST:PORT...]/NAME"), in order, one
 * message per chunk of a file (FORMAT.md "Shipping"). It records how far it
 * got as the consumer "ship-NAME" of DIR (so retention keeps what is not
 * shipped yet, and status shows it) but resumes from what the log holds:
 * after a crash the next run starts after the log's last chunk, so nothing
 * is published twice, and the message ids dedupe a re-publish besides.
 * Segments removed from DIR before they were shipped are a gap: refused.
 *
 * receive_run() rebuilds the segments at another site: a durable reader per
 * receiving directory, each file written beside DIR's segments and added
 * only when it is whole, its SHA-256 matches the sender's and it passes
 * every check unpack makes (seg.h seg_adopt_add()). A log that holds
 * another stream than DIR is refused before anything is written. After a
 * crash the half-built file is dropped and fetched again.
 *
 * Both: without follow they do what there is and return; with follow they
 * go on until sl_stop_requested. Transient failures (no server, no leader,
 * a lost connection) wait and resume as capture and replay do (sl_retry,
 * retry_for_ms). Errors: 0 or a negative code with err filled.
 */
#ifndef SHIP_H
#define SHIP_H

#include <stdint.h>
#include <stdio.h>

#include "sl.h"

struct ship_opts {
	const char *dir, *url;
	int follow;
	int replicas;			/* 0: 3 when the url names 3 servers or more, else 1 */
	uint64_t max_age_s, max_bytes;	/* the log's limits when ship creates it; 0: none */
	uint64_t retry_for_ms;
	uint32_t poll_ms;		/* follow: how often DIR is looked at; 0: 200 */
};
struct ship_part_stats {
	uint64_t first_seq, last_seq, segments, bytes, messages;
};
struct ship_stats {
	struct ship_part_stats part[2];	/* DIR, DIR/snapshot */
};
int ship_run(const struct ship_opts *o, struct ship_stats *st, struct sl_err *err);

struct receive_opts {
	const char *url, *into;
	const char *reader;		/* durable reader name; NULL: the one kept in DIR */
	int follow;
	uint64_t retry_for_ms;
};
struct receive_part_stats {
	uint64_t first_seq, last_seq, added, bytes, messages, skipped;
};
struct receive_stats {
	struct receive_part_stats part[2];
};
int receive_run(const struct receive_opts *o, struct receive_stats *st, struct sl_err *err);

/* status --nats: the log's size and limits, how far ship got (the last
 * segment whose last chunk the log holds) and each reader's acked segment,
 * printed as "nats: ..." lines. */
int ship_status_print(FILE *out, const char *url, struct sl_err *err);

/* Release what the transport's library keeps for the process (its threads
 * and buffers), once, before the command returns. */
void ship_library_close(void);

#endif
