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
 * Events understood: FORMAT_DESCRIPTION (15, checksum algorithm; several per
 * file in relay logs), ROTATE (4), QUERY (2: BEGIN, COMMIT, ROLLBACK, DDL) and
 * QUERY_COMPRESSED (165), XID (16), TABLE_MAP (19, with optional metadata
 * when present), WRITE/UPDATE/DELETE_ROWS pre-GA (20-22, same layout as v1),
 * v1 (23-25) and v2 (30-32), PARTIAL_UPDATE_ROWS (39, JSON diffs applied to
 * the before image), MariaDB compressed rows (166-171), MySQL GTID (33),
 * ANONYMOUS_GTID (34), PREVIOUS_GTIDS (35), GTID_TAGGED (42),
 * TRANSACTION_PAYLOAD (40: zstd, inner events decoded in place, bounded by
 * CAP_PAYLOAD_MAX), ROWS_QUERY (29), MariaDB GTID (162), GTID_LIST (163),
 * BINLOG_CHECKPOINT (161), ANNOTATE_ROWS (160), HEARTBEAT (27) and
 * HEARTBEAT_V2 (41, network only), INCIDENT (26: an error, changes may be
 * missing), STOP (3). Other known statement-level events are skipped; an
 * unknown type is skipped with a warning when it is ignorable
 * (LOG_EVENT_IGNORABLE_F) or comes outside a rows statement, and is an error
 * when a table map is pending (it might carry rows). Event CRC32 checksums
 * are verified when the format description says they are present.
 *
 * Column names: from TABLE_MAP's COLUMN_NAME metadata; else from the schema
 * history (cap_decoder_schema(), cap_schema.c), which every DDL of the stream
 * updates in order, when its version of the table has the TABLE_MAP's shape
 * (column count and types: cap__tablemap_check(), cap_coltype.c); else an
 * error naming the table and what disagrees, or @1, @2... with
 * cap_decoder_opts.allow_positional. Without charset metadata, a column the
 * history calls binary (BINARY, UUID, INET6...) gets collation 63.
 *
 * Row images: each rows event carries a columns-present bitmap per image
 * (UPDATE: one for the before image, one for the after image). A column
 * left out (binlog_row_image=MINIMAL or NOBLOB, a hidden generated column)
 * becomes a Value of kind ABSENT, never NULL (formats/sluice.proto, Row).
 * The decoder accepts partial images from any origin; a live source is
 * held to binlog_row_image=FULL by its precheck (cap_source.c), so they
 * come from --binlog-files (a live session that sets its own
 * binlog_row_image still decodes, with one warning per decoder, outside
 * file mode). A PARTIAL_UPDATE_ROWS JSON diff whose
 * before image lacks the document cannot be applied: an error naming
 * file, offset, table and column.
 *
 * Positions: the decoder tracks the binlog file (from ROTATE or
 * cap_decoder_set_file()) and each event's log_pos (end position). In file
 * mode (cap_decoder_set_offset() called before each event) positions and
 * error offsets are the real offsets in the file instead, and ROTATE does
 * not change the file (relay logs carry the source's names and positions).
 * Errors: 0 or a negative code; err names the binlog file and the offset of
 * the event, and the table where one is involved.
 */
#ifndef CAP_INT_H
#define CAP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "sl.h"
#include "sl_metrics.h"

/* Binlog event type codes. */
enum cap_event_type {
	CAP_EV_UNKNOWN = 0, CAP_EV_START_V3 = 1, CAP_EV_QUERY = 2, CAP_EV_STOP = 3,
	CAP_EV_ROTATE = 4, CAP_EV_INTVAR = 5, CAP_EV_RAND = 13, CAP_EV_USER_VAR = 14,
	CAP_EV_FORMAT_DESCRIPTION = 15, CAP_EV_XID = 16, CAP_EV_TABLE_MAP = 19,
	CAP_EV_WRITE_ROWS_V1 = 23, CAP_EV_UPDATE_ROWS_V1 = 24, CAP_EV_DELETE_ROWS_V1 = 25,
	CAP_EV_INCIDENT = 26, CAP_EV_HEARTBEAT = 27, CAP_EV_ROWS_QUERY = 29,
	CAP_EV_WRITE_ROWS = 30, CAP_EV_UPDATE_ROWS = 31, CAP_EV_DELETE_ROWS = 32,
	CAP_EV_GTID = 33, CAP_EV_ANONYMOUS_GTID = 34, CAP_EV_PREVIOUS_GTIDS = 35,
	CAP_EV_PARTIAL_UPDATE_ROWS = 39, CAP_EV_TRANSACTION_PAYLOAD = 40,
	CAP_EV_HEARTBEAT_V2 = 41, CAP_EV_GTID_TAGGED = 42,
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
	int allow_positional;		/* no names anywhere: call columns @1, @2, ... */
	int keep_replayed;		/* keep what sluice replay wrote (cap_loop.c) */
};

/* The largest decompressed TRANSACTION_PAYLOAD accepted (MySQL's own limit
 * is max_allowed_packet, at most 1 GiB). */
#define CAP_PAYLOAD_MAX ((size_t)1 << 30)

struct cap_decoder;

struct cap_decoder *cap_decoder_new(const struct cap_decoder_opts *o);
void cap_decoder_free(struct cap_decoder *d);
/* The binlog file the next events belong to (until a ROTATE says otherwise). */
void cap_decoder_set_file(struct cap_decoder *d, const char *file);
/* The events come from a live binlog dump whose events carry a CRC32 when
 * crc (the dump's @master_binlog_checksum): every format description must
 * carry the checksum field (all servers sluice reads live write it), so a
 * version string damaged into an old server's cannot switch the CRC32 checks
 * off, and with crc the fake ROTATE that opens the dump (before any format
 * description) must pass its CRC32, so a damaged one cannot name another
 * file. Files (--binlog-files) may be an old server's and are not held to it.
 * cap__decoder_live() (cap_live.c) asks the source and calls this. */
void cap_decoder_set_live(struct cap_decoder *d, int crc);
struct st_mysql;
int cap__decoder_live(struct cap_decoder *d, struct st_mysql *m, const char *who, struct sl_err *err);
/* Decode one event (n bytes: 19-byte header + body + checksum if any). */
int cap_decoder_event(struct cap_decoder *d, const uint8_t *ev, size_t n,
		      const struct cap_sink *sink, struct sl_err *err);
/* File mode: the real offset in the file of the next event given. */
void cap_decoder_set_offset(struct cap_decoder *d, uint64_t off);
/* 1 when the last format description had LOG_EVENT_BINLOG_IN_USE_F (the
 * file was copied while its server still wrote it). */
int cap_decoder_in_use(const struct cap_decoder *d);
/* Server id in the header of the first format description seen, 0 before. */
uint32_t cap_decoder_server_id(const struct cap_decoder *d);
/* The schema history the decoder names columns from (owned by d). */
struct cap_schema *cap_decoder_schema(struct cap_decoder *d);
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

/* Binary DECIMAL (cap_decimal.c, below cap_value.c and cap_json.c, which
 * both use it): the value of DECIMAL column c (precision and scale in
 * c->meta) at p, at most n bytes, as text ("-123.4500") into text (*len
 * bytes, not terminated); *used gets the bytes consumed. 0 or -SL_ECORRUPT
 * naming the column. */
#define CAP_DECIMAL_TEXT_MAX 96
int cap__decimal_text(const Sluice__ColumnDef *c, const uint8_t *p, size_t n, size_t *used,
		      char text[CAP_DECIMAL_TEXT_MAX], size_t *len, struct sl_err *err);

/* MySQL binary JSON (p, n bytes) as JSON text appended to out; on error
 * why gets the reason. 0, -SL_ECORRUPT or -SL_ETOOBIG. */
int cap_json_to_text(const uint8_t *p, size_t n, struct sl_buf *out, char *why, size_t whyn);

/* Apply the JSON diffs of a PARTIAL_UPDATE_ROWS column (dn bytes) to the
 * before image's JSON text; the new text is appended to out. */
int cap_json_apply_diffs(const char *before, size_t bn, const uint8_t *diffs, size_t dn,
			 struct sl_buf *out, char *why, size_t whyn);
/* CRC-32 as zlib's crc32() computes it (cap_crc32.c: a PCLMULQDQ fast path). */
uint32_t cap__crc32(uint32_t crc, const uint8_t *p, size_t n);
/* Length-encoded integer (net_field_length): bytes used, 0 when bad/short.
 * Inline here, below the decoder, the JSON and the value code that all use it. */
static inline size_t cap__packed_int(const uint8_t *p, size_t n, uint64_t *v)
{
	if (n < 1)
		return 0;
	if (p[0] < 251) {
		*v = p[0];
		return 1;
	}
	if (p[0] == 252 && n >= 3) {
		*v = sl_le16(p + 1);
		return 3;
	}
	if (p[0] == 253 && n >= 4) {
		*v = sl_le24(p + 1);
		return 4;
	}
	if (p[0] == 254 && n >= 9) {
		*v = sl_le64(p + 1);
		return 9;
	}
	return 0;
}

/* Schema history (cap_schema.c): column names per table, kept up to date
 * by the stream's DDL. */
struct cap_schema;
struct cap_schema *cap__schema_new(void);
void cap__schema_free(struct cap_schema *s);
/* Apply one statement (default schema dflt_db); 1 if it was a table DDL. */
int cap__schema_apply(struct cap_schema *s, const char *dflt_db, const char *stmt, size_t n);
/* types: per column a descriptor (cap__coltype_norm()) or NULL; may be NULL. */
void cap__schema_set(struct cap_schema *s, const char *db, const char *name,
		     const char *const *cols, const char *const *types, size_t n);
/* NULL when unknown; *gen changes whenever the table's columns change. */
const char *const *cap__schema_columns(const struct cap_schema *s, const char *db,
				       const char *name, size_t *n, uint64_t *gen);
/* The type descriptors parallel to cap__schema_columns() (entries may be NULL). */
const char *const *cap__schema_types(const struct cap_schema *s, const char *db,
				     const char *name);
/* The i-th table of the history (any order): 1, or 0 past the last. */
int cap__schema_table(const struct cap_schema *s, size_t i, const char **db, const char **name,
		      const char *const **cols, const char *const **types, size_t *n);
/* The most columns a table of the history has. */
#define CAP_SCHEMA_MAX_COLS 4096

/* Column types (cap_coltype.c): the schema history's descriptor of a column
 * definition (DDL text after the column name, or information_schema's
 * COLUMN_TYPE with octets = CHARACTER_OCTET_LENGTH, 0 unknown); malloc'd,
 * NULL when the type is not recognised. */
char *cap__coltype_norm(const char *def, size_t n, uint64_t octets);
/* 1 when a descriptor names a binary string type (BINARY, VARBINARY, BLOB,
 * UUID, INET4, INET6). */
int cap__coltype_is_binary(const char *desc);
/* 1 when it names a type with a character set (CHAR, VARCHAR, TEXT, ENUM, SET, JSON). */
int cap__coltype_is_character(const char *desc);
/* Does TABLE_MAP t have the shape of the history's version of its table
 * (hn names and type descriptors; types may be NULL)? 0, or -1 with why
 * saying what disagrees (column count, or the first column whose type,
 * length, precision or fraction digits differ). */
int cap__tablemap_check(const Sluice__TableDef *t, const char *const *names,
			const char *const *types, size_t hn, int maria, char *why, size_t whyn);

/* The history across runs (DIR/capture-schema, cap_schema_file.c): saved at the end of a run
 * with the stream position it is valid for; loaded (*loaded = 1) only when
 * that position is (file, off), where the next run resumes. */
int cap__schema_save(const struct cap_schema *s, const char *dir, const char *file, uint64_t off,
		     struct sl_err *err);
int cap__schema_load(struct cap_schema *s, const char *dir, const char *file, uint64_t off,
		     int *loaded, struct sl_err *err);
/* While set, DDL statements do not change the schema history (a resumed
 * file run re-reads events before its resume offset). */
void cap_decoder_freeze_schema(struct cap_decoder *d, int frozen);

/* Collation id -> charset name ("utf8mb4", "latin1", "binary"); NULL if unknown. */
const char *cap_charset_of_collation(uint32_t id);

/* Archived binlog files (cap_file.c): feed every event of FILE to d, with
 * its real file offset (cap_decoder_set_offset()). Events that start before
 * skip_before are decoded (format description, table maps) but go to a sink
 * that drops them: that is how a resumed run continues inside a file (with
 * cap_decoder_freeze_schema() set by the caller, their DDL does not change
 * the schema history either; the first event at skip_before unfreezes it).
 * A file that ends inside an event is -SL_ETORN naming file and offset;
 * *end (may be NULL) gets the offset after the last whole event. */
int cap_file_feed_from(struct cap_decoder *d, const char *path, uint64_t skip_before,
		       const struct cap_sink *sink, uint64_t *end, struct sl_err *err);
int cap_file_feed(struct cap_decoder *d, const char *path,
		  const struct cap_sink *sink, struct sl_err *err);

/* A binlog dump the source ended with an error (cap_dump_err.c): one
 * line "source WHO: binlog dump failed after AT: <server's reason>". The
 * reasons that mean the stream's next event is no longer on the source
 * (error 1236 for a purged file or GTID state, a start past the file's end)
 * are -SL_EPURGED, which no retry can mend; everything else -SL_EDB. m is
 * the dump's connection (a MYSQL *), read for its last error only. */
struct st_mysql;
int cap__dump_error(struct st_mysql *m, const char *who, const char *at, struct sl_err *err);

/* The sink that writes records into segments (cap_sink.c), shared by live
 * and file capture: writes each TableDef once per segment, before its
 * first row there, and counts what it writes. */
struct cap_stats;
struct seg_writer;
struct cap_seg_sink {
	struct seg_writer *w;
	struct cap_decoder *d;
	struct cap_stats *st;
	uint64_t *emitted_seq;		/* by table_ref: the segment its def was last written to */
	size_t emitted_cap;
	uint64_t last_write_ms;
	struct fmt_filter *filter;	/* NULL: everything passes */
	uint64_t last_txn_time;		/* source commit time of the last transaction written */
};
/* Fill sink (callbacks) for s; s must outlive its use. filter (borrowed,
 * may be NULL) decides what reaches the segments: TableDefs, rows and DDL
 * as formats/fmt.h "Filters and renames" says. */
void cap__seg_sink_init(struct cap_seg_sink *s, struct seg_writer *w, struct cap_decoder *d,
			struct cap_stats *st, struct fmt_filter *filter, struct cap_sink *sink);
void cap__seg_sink_release(struct cap_seg_sink *s);
/* The source is idle (a heartbeat event between transactions): a Heartbeat
 * at the decoder's position when the decoder has read past the stream's
 * head (events left out: skipped schemas, sluice replay's writes, a binlog
 * rotate), so the head reaches the source's binlog end (what switchover
 * waits for); and when nothing was written for CAP_IDLE_HEARTBEAT_MS, one
 * at the head, so that the stream says how late the source is known to be
 * idle and replay can measure its lag on an idle source. */
#define CAP_IDLE_HEARTBEAT_MS 2000
int cap__seg_sink_catch_up(struct cap_seg_sink *s, struct sl_err *err);
/* A new stream: record where it starts (a heartbeat at start as its first,
 * durable transaction) before anything else; *resume: the writer's position. */
int cap__stream_start(struct seg_writer *w, Sluice__Position *start,
		      const Sluice__Position **resume, struct sl_err *err);

/* What capture leaves out and only counts: account statements (cap_stmt.c
 * has the table) and what sluice replay wrote (cap_loop.c). Those that
 * ended at pos become one Heartbeat with the counts, ending a transaction
 * of its own (so the position moves past them durably and no later run
 * counts them again). Nothing when every count is 0. */
struct cap_left_out {
	uint64_t accounts, replayed_txns, replayed_ddls;
};
int cap__left_out_write(const struct cap_sink *sink, Sluice__Position *pos, uint64_t time,
			const struct cap_left_out *n, struct sl_err *err);

/* Automatic retention while capture runs (cap_retain.c; cap.h has the
 * policy): seg_retain() when the writer has moved to a new segment since the
 * last run (a segment was sealed) or CAP_RETAIN_EVERY_MS have passed, never
 * more often than every CAP_RETAIN_MIN_MS; with final, now (end of a run).
 * It touches sealed segments only, so any point between two writer calls of
 * the writer's thread will do. It never fails: a retention error is a
 * warning (once per distinct message) and capture goes on. */
#define CAP_RETAIN_MIN_MS 500
#define CAP_RETAIN_EVERY_MS 3000
struct seg_writer;
/* --metrics FILE of live capture (cap_metrics.c): the counters of
 * cap_stats, the source commit time of the last transaction written (or,
 * when the source says it has nothing more, the time it said so), and
 * the lag: now minus that time. cap__metrics_tick() writes when the period
 * has passed (final: now, then releases m). */
struct cap_metrics {
	struct sl_metrics m;
	uint64_t idle_at;		/* wall seconds the source last said: at my end */
	int warned;
};
/* The first write is checked (a FILE that cannot be written: <0, err names
 * it); later failures are logged once and capture goes on. */
void cap__metrics_init(struct cap_metrics *cm, const char *path, const char *dir);
int cap__metrics_tick(struct cap_metrics *cm, const struct cap_stats *st,
		      const struct cap_seg_sink *sk, int final, struct sl_err *err);

struct cap_retain {
	const char *dir;
	int on;				/* --retain-bytes or --retain-age given */
	uint64_t keep_bytes, keep_age_s;
	uint64_t last_ms, last_seq;	/* the last run: when, the writer's segment then */
	int waiting_said;		/* "waits for a consumer" logged */
	char last_err[SL_ERR_LEN];	/* the last warning, not repeated */
};
void cap__retain_init(struct cap_retain *r, const char *dir, int on, uint64_t keep_bytes,
		      uint64_t keep_age_s);
void cap__retain_tick(struct cap_retain *r, const struct seg_writer *w, int final);

/* GTID sets (cap_gtid.c): MySQL "uuid[:tag]:a-b:c,uuid2:..." text to the
 * binary form of COM_BINLOG_DUMP_GTID and PREVIOUS_GTIDS (n_sids, then per
 * sid: uuid, [tag], n_intervals, [start, end) pairs, little-endian), and
 * the dump packet itself. */
int cap_gtid_set_encode(const char *text, struct sl_buf *out, struct sl_err *err);
int cap_gtid_set_decode(const uint8_t *p, size_t n, struct sl_buf *text, struct sl_err *err);
int cap_gtid_dump_packet(uint32_t server_id, const char *file, uint64_t pos,
			 const char *gtid_set, uint16_t flags, struct sl_buf *out,
			 struct sl_err *err);

/* ---- Inside the decoder ----
 * The decoder is split by event family; these files share struct cap_decoder:
 *   cap_decode.c    life cycle, TRANSACTION_PAYLOAD, the dispatch of one event
 *                   (cap_decoder_event()): calls the families, which never call it
 *   cap_txn.c       transaction state, positions, skipped schemas, MariaDB
 *                   compression: used by every family, uses none of them
 *   cap_events.c    FORMAT_DESCRIPTION, ROTATE, GTID (MariaDB, MySQL, tagged),
 *                   PREVIOUS_GTIDS
 *   cap_query.c     QUERY and QUERY_COMPRESSED
 *   cap_tablemap.c  TABLE_MAP: column definitions, de-duplicated by body
 *   cap_rows.c      WRITE/UPDATE/DELETE/PARTIAL_UPDATE rows events
 *   cap_loop.c      loop prevention: sluice replay's marks (rows, DDL)
 * The cap__on_*() handlers get the event body b (bl bytes, after the common
 * header, checksum removed) and return 0 or a negative code with err filled
 * (CAP_EV_ERR names origin, file and offset). */
#define CAP_HDR_LEN 19
#define CAP_LOG_EVENT_BINLOG_IN_USE_F 0x1
#define CAP_STMT_END_F 0x1
#define CAP_MAX_TMAPS 65536
#define CAP_MAX_UNCOMPRESSED ((size_t)1 << 30)	/* max_allowed_packet's ceiling */

/* MariaDB GTID flags. */
#define CAP_FL_STANDALONE 1
#define CAP_FL_GROUP_COMMIT_ID 2

#define CAP_REPLAY_THREADS 16	/* replay connections with a DDL pending (cap_loop.c) */

struct cap_dec_tmap {
	uint64_t table_id;
	uint32_t ref;		/* 0 when skipped */
	unsigned mark;		/* CAP_MARK_*: a table whose row marks replay's writes */
};

struct cap_dec_def {
	Sluice__TableDef *t;	/* fmt_tabledef_dup() copy */
	uint8_t *key;		/* TABLE_MAP body from db_len to the end */
	size_t key_len;
	uint32_t hash;
	uint64_t gen;		/* names from the schema history: its generation; else 0 */
};

struct cap_dec_image {
	Sluice__Value *v;
	Sluice__Value **vp;
	size_t *off;		/* offset of v[i].b in scratch, or SIZE_MAX */
};

struct cap_decoder {
	char *flavor, *origin;
	char **skip;
	size_t n_skip;

	char *file;
	uint64_t ev_off;		/* offset of the event being decoded */
	int file_mode;			/* offsets come from cap_decoder_set_offset() */
	uint64_t next_off;		/* file mode: offset of the next event */
	int in_payload;			/* decoding the events inside a TRANSACTION_PAYLOAD */
	int in_use;			/* last FDE had CAP_LOG_EVENT_BINLOG_IN_USE_F */
	uint32_t fde_server_id;		/* header server id of the first FDE */
	int allow_positional;
	int warned_partial;		/* live: a partial row image was seen (warned once) */
	int warned_account;		/* an account statement was left out (warned once) */
	uint64_t accounts;		/* account statements left out, not yet in a heartbeat */
	int keep_replayed;		/* capture --keep-replayed */
	int live, live_crc;		/* cap_decoder_set_live() */
	uint64_t replayed_txns, replayed_ddls;	/* left out (cap_loop.c), not yet in a heartbeat */
	uint32_t replay_threads[CAP_REPLAY_THREADS];	/* connections whose next DDL is replay's */
	unsigned n_replay_threads;
	struct cap_schema *schema;
	int schema_frozen;		/* DDL does not change the history (cap_decoder_freeze_schema) */
	int have_fde, crc;
	int maria;			/* the server is MariaDB (FDE; else the flavor) */
	uint8_t post_len[256];

	Sluice__Position pos;		/* after the last event; pos.gtid last committed */

	int in_txn, begun;
	int row_seen;			/* a rows event of the open transaction was read */
	int replayed;			/* the open transaction is sluice replay's: left out */
	int warned_mark;		/* the open transaction's late applied row was warned of */
	int implicit;			/* opened by a rows event (no BEGIN/GTID): ends at CAP_STMT_END_F */
	uint64_t cur_end;		/* position after the event being decoded */
	uint64_t rows, txn_time;
	uint32_t txn_server;
	char gtid[160];			/* GTID of the open transaction / next statement */
	int gtid_pending;		/* gtid names the next transaction or statement */

	struct cap_dec_tmap *maps;
	size_t n_maps, cap_maps;
	struct cap_dec_def *defs;		/* ref = index + 1 */
	size_t n_defs, cap_defs;
	uint32_t *htab;			/* open addressing: ref or 0 */
	size_t hcap;

	struct sl_buf unz, scratch, text, pay;
	struct cap_dec_image img[2];
	size_t img_cap;
};

static inline const char *cap__dec_file(const struct cap_decoder *d)
{
	return d->file ? d->file : "?";
}

/* Every decoder error names the origin, binlog file and event offset. */
#define CAP_EV_ERR(d, err, code, fmt, ...)                                             \
	sl_err_set((err), (code), "%s%sbinlog '%s' at offset %llu: " fmt,           \
		   (d)->origin ? (d)->origin : "", (d)->origin ? ": " : "",          \
		   cap__dec_file(d), (unsigned long long)(d)->ev_off, __VA_ARGS__)

/* cap_txn.c: state shared by the event families. */
void cap__set_str(char **dst, const char *s);
/* 1 when db (len bytes) is a schema whose rows and statements are dropped. */
int cap__dec_skipped(const struct cap_decoder *d, const char *db, size_t len);
void cap__txn_reset(struct cap_decoder *d);
void cap__txn_open(struct cap_decoder *d, uint32_t ts, uint32_t server_id);
void cap__fill_pos(struct cap_decoder *d, Sluice__Position *p, uint64_t log_pos,
		     uint32_t server_id);
/* What was left out up to log_pos (accounts, replay's writes): one heartbeat there. */
int cap__left_out_flush(struct cap_decoder *d, uint32_t ts, uint64_t log_pos, uint32_t server_id,
			const struct cap_sink *sink, struct sl_err *err);
int cap__txn_commit(struct cap_decoder *d, uint32_t ts, uint64_t xid, uint64_t log_pos,
		      uint32_t server_id, const struct cap_sink *sink, struct sl_err *err);
/* A MariaDB compressed body (p, n bytes) into d->unz. */
int cap__maria_uncompress(struct cap_decoder *d, const uint8_t *p, size_t n, struct sl_err *err);

/* The post-header length of an event type from the format description, else dflt. */
unsigned cap__post_len(const struct cap_decoder *d, unsigned type, unsigned dflt);

/* cap_events.c */
int cap__on_fde(struct cap_decoder *d, const uint8_t *ev, size_t n, struct sl_err *err);
int cap__on_rotate(struct cap_decoder *d, const uint8_t *b, size_t bl, uint32_t ts,
		     uint64_t log_pos, struct sl_err *err);
int cap__on_maria_gtid(struct cap_decoder *d, const uint8_t *b, size_t bl, uint32_t ts,
			 uint32_t server_id, struct sl_err *err);
int cap__on_mysql_gtid(struct cap_decoder *d, const uint8_t *b, size_t bl, struct sl_err *err);
int cap__on_tagged_gtid(struct cap_decoder *d, const uint8_t *b, size_t bl, struct sl_err *err);
int cap__on_previous_gtids(struct cap_decoder *d, const uint8_t *b, size_t bl, struct sl_err *err);

/* cap_query.c */
int cap__on_query(struct cap_decoder *d, int compressed, const uint8_t *b, size_t bl,
		    uint32_t ts, uint32_t server_id, uint64_t log_pos, const struct cap_sink *sink,
		    struct sl_err *err);

/* cap_tablemap.c */
int cap__on_table_map(struct cap_decoder *d, const uint8_t *b, size_t bl, struct sl_err *err);

/* cap_loop.c: loop prevention. The table a TABLE_MAP names (db, table:
 * their lengths) as a CAP_MARK_*; a rows event of table map mark: 1 when
 * its rows are left out (its transaction is sluice replay's). */
#define CAP_MARK_APPLIED 1		/* `sluice`.`applied` */
#define CAP_MARK_CHUNKS 2		/* `sluice`.`snapshot_chunks` */
unsigned cap__loop_mark(const char *db, size_t dbl, const char *tbl, size_t tl);
int cap__loop_rows(struct cap_decoder *d, unsigned mark);
/* A DDL s (n bytes) of connection thread that sluice replay ran
 * (FMT_REPLAY_MARK, or after FMT_REPLAY_BEACON): 1 when it is left out
 * (counted, flushed like an account statement). cap__loop_restart(): a
 * format description (a server start): thread ids start again. */
int cap__loop_ddl(struct cap_decoder *d, uint32_t thread, const char *s, size_t n);
void cap__loop_restart(struct cap_decoder *d);

/* cap_rows.c */
int cap__on_rows(struct cap_decoder *d, unsigned type, const uint8_t *b, size_t bl,
		   uint32_t ts, uint32_t server_id, const struct cap_sink *sink, struct sl_err *err);

/* Refuses (naming the privilege) a source account without REPLICATION
 * SLAVE before DIR is opened (cap_grants.c); a role or no SHOW GRANTS:
 * left to the server. */
struct st_mysql;
int cap__grants_check(struct st_mysql *m, const char *who, struct sl_err *err);

#endif
