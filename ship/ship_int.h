/* ship_int.h - private to ship/: the transport a shipped stream travels by.
 *
 * A transport is a replicated log of messages, named by a URL
 * ("nats://HOST:PORT[,HOST:PORT...]/NAME"), holding two parts: the stream
 * directory's segments (SHIP_LOG) and its snapshot stream's (SHIP_SNAP). A
 * message is one chunk of one sealed segment file (struct ship_chunk), the
 * chunks of a part in file order. ship_send.c and ship_recv.c know only
 * these operations; ship_nats.c implements them over NATS JetStream. A
 * second transport (Kafka, say) is a second table of xp_ops that
 * xp_find() returns for its URL scheme.
 *
 * Errors: 0 or a negative code with err filled; what a retry can cure (a
 * lost connection, no leader, a timeout) is -SL_ETRANSIENT, so the caller's
 * rounds (sl_retry) wait and resume from the log's durable state.
 */
#ifndef SHIP_INT_H
#define SHIP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sl.h"

enum { SHIP_LOG = 0, SHIP_SNAP = 1, SHIP_PARTS = 2 };
extern const char *const ship_part_name[SHIP_PARTS];	/* "seg", "snap" */

/* One message: where its bytes sit in which segment of which stream. */
struct ship_chunk {
	int part;
	uint8_t stream_id[16];
	const char *source;		/* the stream's source identity */
	uint64_t seq, off, size;	/* segment, offset of data, whole file size */
	int has_sha;			/* the last chunk: sha is the file's SHA-256 */
	uint8_t sha[32];
	const uint8_t *data;
	size_t len;
	uint64_t id;			/* the log's own number for the message */
};

/* Limits of a log created by ship. */
struct xp_create {
	int replicas;			/* 0: 3 when the cluster has 3 nodes or more, else 1 */
	uint64_t max_age_s, max_bytes;	/* 0: none */
};

/* What status shows of a log. */
struct xp_reader {
	char name[128];
	uint64_t acked;			/* the log's number of the last message acked, 0: none */
	uint64_t pending;		/* messages not delivered yet */
	int has_chunk;			/* chunk: the message acked last (data not kept) */
	struct ship_chunk chunk;
	char source[256];
};
struct xp_info {
	uint64_t messages, bytes, first_id, last_id;
	int replicas;
	uint64_t max_age_s, max_bytes;
	struct xp_reader *readers;	/* malloc'd */
	size_t nreaders;
};

struct xp;
struct xp_ops {
	const char *scheme;		/* "nats" */
	/* parse url, connect (transient when no server answers) */
	int (*open)(struct xp **x, const char *url, struct sl_err *err);
	/* url without credentials, for messages */
	const char *(*name)(const struct xp *x);
	/* the largest chunk a message may carry */
	size_t (*max_chunk)(const struct xp *x);
	/* create the log when missing (ship); 1 created, 0 there already */
	int (*create)(struct xp *x, const struct xp_create *c, struct sl_err *err);
	/* 0 when the log exists, -ENOENT (message set) when not */
	int (*exists)(struct xp *x, struct sl_err *err);
	/* the last chunk of part in the log: 1 (c's pointers valid until the
	 * next call on x), 0 none */
	int (*last)(struct xp *x, int part, struct ship_chunk *c, struct sl_err *err);
	/* append c (c->data copied before it returns; the append may still be
	 * in flight); refused when another writer appended to part since this
	 * one's last append or last(): an append after a failed one fails too */
	int (*publish)(struct xp *x, const struct ship_chunk *c, struct sl_err *err);
	/* wait until every append is durable in the log: 0, or the first failure */
	int (*flush)(struct xp *x, struct sl_err *err);
	/* read part through the durable reader name (created when missing),
	 * from the message after the last one acked (*acked: its id, 0: none) */
	int (*subscribe)(struct xp *x, int part, const char *name, uint64_t *acked, struct sl_err *err);
	/* the next chunk of part: 1 (valid until the next fetch of part), 0 none
	 * within wait_ms */
	int (*fetch)(struct xp *x, int part, int wait_ms, struct ship_chunk *c, struct sl_err *err);
	/* ack part's reader through the chunk fetched last */
	int (*ack)(struct xp *x, int part, struct sl_err *err);
	/* the id of the last message of part now (0: none) */
	int (*last_id)(struct xp *x, int part, uint64_t *id, struct sl_err *err);
	int (*info)(struct xp *x, struct xp_info *i, struct sl_err *err);
	void (*close)(struct xp *x);
	/* the library's process-wide state, after the last close */
	void (*library_close)(void);
};

/* The transport for url's scheme; NULL (err set, -SL_EINVAL_ARG) when none. */
const struct xp_ops *xp_find(const char *url, struct sl_err *err);
void xp_info_release(struct xp_info *i);

/* ship_chunk.c: the message id that makes a re-publish a no-op. */
void ship_chunk_msgid(const struct ship_chunk *c, char *out, size_t n);

#endif
