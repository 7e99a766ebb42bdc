/*
 * cap_int.h - inside capture: the binlog event decoder and its record sink.
 *             Shared by the .c files of capture/ only.
 *
 * The decoder turns raw binlog events (common header + body, as in a binlog
 * file or a replication packet without its leading OK byte) into Records
 * (formats/sluice.proto) and hands them to a sink, in order:
 *     TxnBegin, (RowChange)*, TxnCommit      for each committed transaction
 *     Ddl                                    for each non-transactional statement
 * and calls sink->txn_end() after each TxnCommit and Ddl with the position
 * after it. TableDefs are not sent as records: the sink asks for them with
 * cap_decoder_table() when a RowChange names a ref it has not yet written to
 * the current segment.
 *
 * Events understood: FORMAT_DESCRIPTION (15, checksum algorithm), ROTATE (4),
 * QUERY (2: BEGIN, COMMIT, ROLLBACK, DDL) and QUERY_COMPRESSED (165), XID (16),
 * TABLE_MAP (19, with binlog_row_metadata=FULL optional metadata), WRITE/
 * UPDATE/DELETE_ROWS v1 (23-25) and v2 (30-32), MariaDB compressed rows
 * (166-171), MariaDB GTID (162), GTID_LIST (163), BINLOG_CHECKPOINT (161),
 * ANNOTATE_ROWS (160), HEARTBEAT (27, network only), STOP (3). Others are
 * skipped (debug log). Event CRC32 checksums are verified when the format
 * description says they are present.
 *
 * Positions: the decoder tracks the binlog file (from ROTATE or
 * cap_decoder_set_file()) and each event's log_pos (end position).
 * Errors: 0 or a negative code; err names the binlog file and the offset of
 * the event, and the table where one is involved.
 */
#ifndef CAP_INT_H
#define CAP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "sl.h"

/* Binlog event type codes. */
enum cap_event_type {
	CAP_EV_UNKNOWN = 0, CAP_EV_START_V3 = 1, CAP_EV_QUERY = 2, CAP_EV_STOP = 3,
	CAP_EV_ROTATE = 4, CAP_EV_INTVAR = 5, CAP_EV_RAND = 13, CAP_EV_USER_VAR = 14,
	CAP_EV_FORMAT_DESCRIPTION = 15, CAP_EV_XID = 16, CAP_EV_TABLE_MAP = 19,
	CAP_EV_WRITE_ROWS_V1 = 23, CAP_EV_UPDATE_ROWS_V1 = 24, CAP_EV_DELETE_ROWS_V1 = 25,
	CAP_EV_INCIDENT = 26, CAP_EV_HEARTBEAT = 27, CAP_EV_ROWS_QUERY = 29,
	CAP_EV_WRITE_ROWS = 30, CAP_EV_UPDATE_ROWS = 31, CAP_EV_DELETE_ROWS = 32,
	CAP_EV_GTID = 33, CAP_EV_ANONYMOUS_GTID = 34, CAP_EV_PREVIOUS_GTIDS = 35,
	CAP_EV_TRANSACTION_PAYLOAD = 40,
	CAP_EV_MARIA_ANNOTATE_ROWS = 160, CAP_EV_MARIA_BINLOG_CHECKPOINT = 161,
	CAP_EV_MARIA_GTID = 162, CAP_EV_MARIA_GTID_LIST = 163,
	CAP_EV_MARIA_START_ENCRYPTION = 164, CAP_EV_MARIA_QUERY_COMPRESSED = 165,
	CAP_EV_MARIA_WRITE_ROWS_COMPRESSED_V1 = 166,
	CAP_EV_MARIA_UPDATE_ROWS_COMPRESSED_V1 = 167,
	CAP_EV_MARIA_DELETE_ROWS_COMPRESSED_V1 = 168,
	CAP_EV_MARIA_WRITE_ROWS_COMPRESSED = 169,
	CAP_EV_MARIA_UPDATE_ROWS_COMPRESSED = 170,
	CAP_EV_MARIA_DELETE_ROWS_COMPRESSED = 171,
};

struct cap_sink {
	void *ctx;
	/* One record, in stream order. The record and everything it points to
	 * is only valid during the call. */
	int (*record)(void *ctx, const Sluice__Record *rec, struct sl_err *err);
	/* A transaction boundary: after a TxnCommit or Ddl record. */
	int (*txn_end)(void *ctx, const Sluice__Position *pos, uint64_t time,
		       struct sl_err *err);
};

struct cap_decoder_opts {
	const char *flavor;		/* "mariadb" (default) or "mysql" */
	/* Schemas whose rows and statements are dropped (NULL-terminated);
	 * NULL: mysql, sys, performance_schema, information_schema, sluice. */
	const char *const *skip_schemas;
	const char *origin;		/* "file 'x'" or "source 'host:port'", for messages */
};

struct cap_decoder;

struct cap_decoder *cap_decoder_new(const struct cap_decoder_opts *o);
void cap_decoder_free(struct cap_decoder *d);
/* The binlog file the next events belong to (until a ROTATE says otherwise). */
void cap_decoder_set_file(struct cap_decoder *d, const char *file);
/* Decode one event (n bytes: 19-byte header + body + checksum if any). */
int cap_decoder_event(struct cap_decoder *d, const uint8_t *ev, size_t n,
		      const struct cap_sink *sink, struct sl_err *err);
/* The definition behind a table_ref given in a RowChange. */
const Sluice__TableDef *cap_decoder_table(const struct cap_decoder *d, uint32_t ref);
/* Position after the last event decoded (file, log_pos). */
const Sluice__Position *cap_decoder_position(const struct cap_decoder *d);
/* 1 while inside a transaction (between its begin and its commit). */
int cap_decoder_in_txn(const struct cap_decoder *d);

/* Column values (cap_value.c): decode the value of column c (TABLE_MAP type
 * and meta) at p, at most n bytes; *used gets the bytes consumed. */
int cap_value_decode(const Sluice__ColumnDef *c, const uint8_t *p, size_t n,
		     size_t *used, Sluice__Value *v, struct sl_buf *scratch,
		     struct sl_err *err);

/* Collation id -> charset name ("utf8mb4", "latin1", "binary"); NULL if unknown. */
const char *cap_charset_of_collation(uint32_t id);

/* Archived binlog files (cap_file.c): feed every event of FILE to d. */
int cap_file_feed(struct cap_decoder *d, const char *path,
		  const struct cap_sink *sink, struct sl_err *err);

#endif
