/*
 * rep_hist.h - replay of history (issue 13 items 4, 6, 8): where a run stops
 *              (--until), where a fresh destination starts (--from), the
 *              transactions it leaves out on purpose (--skip), and the one
 *              replay per consumer rule.
 *
 *   rep_until.c  parsing --until and the "past the point?" test: pure, no
 *                server, no DIR (tests/unit/test_replay_hist.c);
 *   rep_skip.c   parsing --skip and matching it; the `sluice`.`skipped` row;
 *   rep_hist.c   the run: a look-ahead reader that finds a transaction's
 *                TxnCommit when its TxnBegin is read, the gate before each
 *                record, the --from start, the consumer lock.
 *
 * The "units" of a stream are its transactions (TxnBegin .. TxnCommit) and
 * its Ddl records. Each has a GTID, an end position (the source position
 * after it: TxnCommit.position, Ddl.position) and a commit time
 * (TxnCommit.time, Ddl.time, seconds).
 *
 * --until, the boundary (README "Point in time"):
 *   GTID       up to and including the unit of that GTID. A MariaDB GTID
 *              D-S-N: a later unit of domain D with a sequence number above N
 *              (the GTID is not in the stream) also ends the run before it.
 *              A MySQL UUID:N likewise with UUID's numbers. Units of other
 *              domains or UUIDs are applied as long as they come before it
 *              in the stream (the source's binlog order): the destination
 *              ends as the source was when it logged that GTID.
 *   FILE:POS   units whose end position is at or before POS of FILE (binlog
 *              files compare by their numeric suffix): SHOW MASTER STATUS
 *              and mariadb-binlog's end_log_pos both name such ends.
 *   TIME       units committed strictly before TIME (commit time < TIME), as
 *              mysqlbinlog --stop-datetime; a time without a zone is local.
 *   The run stops at the first unit past the point, even when a later one
 *   would not be (the stream's order is the source's), and never applies a
 *   part of a transaction.
 */
#ifndef REP_HIST_H
#define REP_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "seg.h"
#include "sl.h"

/* ---- --until (rep_until.c) ---- */

enum rep_until_kind { REP_UNTIL_NONE, REP_UNTIL_GTID, REP_UNTIL_POS, REP_UNTIL_TIME };

/* A GTID: MariaDB domain-server-seq, or MySQL uuid:gno. */
struct rep_gtid {
	int mysql;
	char uuid[37];			/* lowercase */
	uint32_t domain, server;
	uint64_t seq;			/* MariaDB seq_no or MySQL gno */
};

struct rep_until {
	enum rep_until_kind kind;
	char text[300];			/* as given, for messages */
	struct rep_gtid gtid;
	char file[256];
	uint64_t pos;
	int64_t time;			/* unix seconds */
};

/* 0, or -SL_EINVAL_ARG with one line in err. "" or NULL: 0, kind NONE. */
int rep__gtid_parse(const char *s, struct rep_gtid *g);
int rep__until_parse(const char *s, struct rep_until *u, struct sl_err *err);
/* "mysql-bin.000003" before "mysql-bin.000010": <0, 0, >0. */
int rep__binlog_cmp(const char *a, uint64_t apos, const char *b, uint64_t bpos);
/* A unit (gtid, end position, commit time; any may be empty/NULL/0):
 * 1 when it lies past the point (stop before it), else 0. */
int rep__until_past(const struct rep_until *u, const char *gtid, const Sluice__Position *end,
		    uint64_t time);
/* 1 when applying that unit reaches the point exactly (the GTID itself, a
 * unit ending at POS): nothing after it is applied. */
int rep__until_at(const struct rep_until *u, const char *gtid, const Sluice__Position *end);
/* 1 when a heartbeat there proves the stream holds nothing more before the
 * point (TIME: its time >= TIME; FILE:POS: its position >= POS). */
int rep__until_beat(const struct rep_until *u, const Sluice__Position *pos, uint64_t time);

/* ---- --skip (rep_skip.c) ---- */

/* GTID, or SEG:OFFSET[:RECORD]: a record of the transaction, as replay's
 * messages and `sluice inspect` print it ("segment S offset O record I";
 * RECORD 0 when left out). */
struct rep_skip_item {
	char text[160];
	int by_gtid;
	struct rep_gtid gtid;
	struct seg_cursor at;
	unsigned matched;
};

struct rep_skip {
	struct rep_skip_item *v;
	size_t n;
};

/* Parse a list of values, each a comma list; 0 or -SL_EINVAL_ARG. */
int rep__skip_parse(struct rep_skip *s, const char *const *values, size_t n, struct sl_err *err);
void rep__skip_release(struct rep_skip *s);
/* The item matching the transaction of gtid whose records run from begin to
 * commit (cursors), or NULL. */
struct rep_skip_item *rep__skip_match(struct rep_skip *s, const char *gtid,
				      const struct seg_cursor *begin, const struct seg_cursor *commit);

/* "INSERT IGNORE INTO `sluice`.`skipped` ..." and the `applied` row that
 * makes a restart skip it too, for one skipped transaction. */
struct rep_skip_row {
	const char *consumer;
	const uint8_t *stream_id;	/* 16 bytes */
	struct seg_cursor begin, commit;
	const char *gtid;
	const Sluice__Position *end;	/* may be NULL */
	uint64_t rows, time;
	const char *who;		/* "user@host" */
	const char *given;		/* the --skip value that matched */
};
int rep__skip_sql(struct sl_buf *out, const struct rep_skip_row *r);

/* ---- the run (rep_hist.c); each is a single call from the coordinator ----
 * rep__hist_init       rep_run(), first: parse --until/--skip (x->hist stays
 *                      NULL without --until, --skip and --from)
 * rep__hist_end_orphans rep_run(), after a transient failure: end the
 *                      failed round's sessions that still hold our locks
 * rep__hist_lock       rep_run(): lock 0 of the consumer, refused at once
 *                      while a live replay holds it (-EBUSY, one line)
 * rep__hist_start      after rep__load_checkpoint(): --from
 * rep__hist_seek       run_loop(): the reader(s) to the checkpoint (a
 *                      cursor of offset 0 is "before segment seq")
 * rep__hist_gate       run_loop(), before apply_record(): 1 stop before it
 * rep__hist_done       run_loop(), after apply_record(): 1 the point reached
 * rep__hist_skip_begin begin_txn(): whether the transaction is left out
 * rep__hist_skip_commit commit_txn() of a transaction left out: record it
 * rep__hist_finish     rep_run() after a run that succeeded: the messages
 * rep__hist_release    rep_run()'s end */
struct rep_ctx;
struct seg_reader;
int rep__hist_init(struct rep_ctx *x, struct sl_err *err);
int rep__hist_end_orphans(struct rep_ctx *x, struct sl_err *err);
int rep__hist_lock(struct rep_ctx *x, int timeout_s, struct sl_err *err);
int rep__hist_start(struct rep_ctx *x, const uint8_t sid[16], struct sl_err *err);
int rep__hist_seek(struct rep_ctx *x, struct seg_reader *r, struct sl_err *err);
int rep__hist_gate(struct rep_ctx *x, const Sluice__Record *rec, const struct seg_cursor *cur,
		   struct sl_err *err);
int rep__hist_done(struct rep_ctx *x);
int rep__hist_skip_begin(struct rep_ctx *x, const struct seg_cursor *cur, int already);
int rep__hist_skip_commit(struct rep_ctx *x, const Sluice__TxnCommit *c, struct sl_err *err);
void rep__hist_finish(struct rep_ctx *x);
void rep__hist_release(struct rep_ctx *x);

#endif
