/*
 * cap.h - capture: read a source's binlog (replication protocol through
 *         libmariadb) and write its committed transactions into segments.
 *
 * cap_run() connects, checks the source with its flavor's variable names
 * (MariaDB, MySQL 5.6-9.x, the OceanBase binlog service: binlog on, ROW
 * format, FULL row image; FULL row metadata where the server has it, else
 * column names from the schema history below), opens the stream directory
 * (store/seg.h), chooses the start position and streams:
 *   - DIR new, no --from/--from-start: the source's binlog end now
 *     (db_binlog_status(), with the statement that server knows), recorded
 *     with a Heartbeat so the next run continues exactly there;
 *   - DIR holds a stream: after its last durable transaction (the stream
 *     must belong to the same source, else -SL_ESTREAM);
 *   - --from FILE:POS / --from-start (first binlog file, offset 4): only for
 *     a new DIR.
 * Without follow it stops at the binlog end as of its start and returns 0.
 * With follow it runs until sl_stop_requested, finishes the transaction in
 * hand and returns 0. Only complete transactions become durable.
 *
 *   - --from-gtid SET (MySQL, OceanBase; new DIR only): COM_BINLOG_DUMP_GTID
 *     after that GTID set; the stream's start position is ("", 4, SET) until
 *     its first transaction names the real file.
 * Schema history (without FULL row metadata): names come from
 * information_schema when the stream starts, then from every DDL of the
 * stream in order; each run saves it to DIR/capture-schema with the position
 * it is valid for, and the next run loads it when it resumes there. Without
 * a matching save (older DIR, crash), today's information_schema is used and
 * a warning says so: an event whose column count differs is an error naming
 * the table, never mislabelled silently unless names changed and counts did
 * not. --allow-positional names unknown tables' columns @1, @2, ...
 *
 * Retention (opt-in, retain set by --retain-bytes/--retain-age; the same
 * policy as `sluice purge --keep-bytes/--keep-age`, through seg_retain() in
 * store/seg.h): while capture runs, after a segment is sealed and at least
 * every few seconds (cap_int.h, CAP_RETAIN_*), and once more at the end of
 * every successful run (batch, --follow stopped by a signal, --binlog-files
 * also after each file), capture removes the oldest sealed segments that
 * every registered consumer (DIR/consumers/, written by replay) has passed,
 * keeping at least retain_bytes of segments and every segment whose last
 * commit is younger than retain_age_s. It never removes the open segment,
 * the newest sealed one or a segment a registered consumer has not passed.
 * With no registered consumer it removes nothing (a replay that has not yet
 * registered could still need everything) and says so once at INFO; each
 * removal is logged at INFO with file and bytes. A retention error is a
 * warning and never stops capture.
 *
 * The event decoder (cap_int.h) is shared with archived binlog files: one
 * decoder for both paths.
 * Errors: 0 or a negative code with err naming the cause (never a password).
 */
#ifndef CAP_H
#define CAP_H

#include <stdint.h>

#include "sl.h"

struct fmt_filter;
struct cap_opts {
	const char *source_url;		/* mysql://...; password from SLUICE_SOURCE_PASSWORD */
	const char *dir;
	int follow;
	int from_start;
	const char *from;		/* "FILE:POS" or NULL */
	uint32_t server_id;		/* replica id to register as; 0: pick one */
	uint64_t segment_size;		/* 0: store default */
	uint32_t commit_interval_ms;	/* group commit delay; 0: default 10 ms */
	uint32_t segment_age_ms;	/* seal segments this old at a txn boundary; 0: never */
	uint32_t heartbeat_ms;		/* idle heartbeat from the source; 0: 200 ms */
	int allow_positional;		/* tables without known column names: @1, @2... */
	int keep_replayed;		/* keep what sluice replay wrote (cap_loop.c) */
	const char *from_gtid;		/* MySQL/OceanBase: start with COM_BINLOG_DUMP_GTID
					 * from this GTID set (new DIR only) */
	int retain;			/* automatic retention on (see above) */
	uint64_t retain_bytes;		/* keep at least this much; 0: no byte floor */
	uint64_t retain_age_s;		/* keep segments younger; 0: no age floor */
	struct fmt_filter *filter;	/* borrowed; NULL: every table, column and
					 * operation (formats/fmt.h "Filters and
					 * renames"): what it leaves out never
					 * reaches the segments */
	int start_only;			/* record where a new DIR starts (P0, the
					 * Heartbeat) and return without streaming:
					 * capture --snapshot runs the snapshot next */
	const char *metrics;		/* --metrics FILE: Prometheus text, rewritten
					 * every few seconds and at the end (cap_metrics.c);
					 * NULL: none */
	uint64_t retry_for_ms;		/* --retry-for: how long transient failures
					 * (sl.h) are retried; 0: not at all */
};

struct cap_stats {
	uint64_t events;		/* binlog events read */
	uint64_t binlog_bytes;		/* bytes of binlog events read */
	uint64_t transactions;		/* committed transactions written */
	uint64_t rows;			/* row changes written */
	uint64_t ddls;			/* DDL records written */
	uint64_t replayed_txns;		/* written by sluice replay: left out */
	uint64_t replayed_ddls;
};

int cap_run(const struct cap_opts *o, struct cap_stats *st, struct sl_err *err);

/*
 * cap_run_files() - the same capture from binlog files on disk (archived
 * binlogs, a backup, relay logs, a copy carried across an air gap).
 *
 * Files are read in the order given (sorted by name with sort), each
 * event with its real offset: positions are (file basename, offset after
 * the event), so relay logs and copies keep their own coordinates. The
 * stream identity of DIR is "binlog-files:server_id=N", N being the server
 * id in the header of the first format description of the first file (the
 * server that wrote the files; stable across runs over newer files).
 * A new DIR starts at (first file, 4). An existing DIR resumes: files whose
 * name sorts before the resume file are skipped whole; inside the resume
 * file, events before the resume offset are decoded (format description,
 * table maps) but not written. A file that ends inside an event is an
 * error naming file and offset, except for the last file when it is still
 * marked in use (LOG_EVENT_BINLOG_IN_USE_F): its complete transactions are
 * kept and a warning says where it stopped. Only complete transactions
 * ever reach DIR.
 */
struct cap_files_opts {
	const char *dir;
	const char *const *files;
	size_t n_files;
	int sort;			/* sort the files by name (length, then bytes) */
	int allow_positional;
	int keep_replayed;
	uint64_t segment_size;
	uint32_t commit_interval_ms;
	int retain;			/* as in cap_opts */
	uint64_t retain_bytes, retain_age_s;
	struct fmt_filter *filter;	/* as in cap_opts */
};

int cap_run_files(const struct cap_files_opts *o, struct cap_stats *st, struct sl_err *err);

#endif
