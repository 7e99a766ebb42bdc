/*
 * fmt.h - the event model (formats/sluice.proto, compiled by protobuf-c at
 * build time into sluice.pb-c.h) and the helpers every reader and writer of
 * records shares.
 *
 * Record framing: inside a frame, each record is a varint length followed by
 * that many bytes of a packed Sluice__Record (protobuf "length-delimited").
 * Calling sequence:
 *   writer: fmt_record_pack(&rec, &buf) ... (appends to buf)
 *   reader: fmt_record_unpack(p, n, &used, &rec, err) -> use rec -> fmt_record_free(rec)
 * Ownership: fmt_record_unpack() returns a record the caller frees with
 *   fmt_record_free(). fmt_tables keeps its own copies of TableDefs.
 * Errors: 0 or a negative code with err filled (common/sl.h).
 *
 * Values: fmt_value_text() renders a value as MySQL would print it
 *   (mariadb-binlog -vv style, strings quoted and escaped), fmt_value_json()
 *   as an exact JSON value (text converted from the column's charset to
 *   UTF-8; bytes that are not text as {"hex":"C3A9"}; an unknown kind as
 *   {"unknown_kind":N}: always valid JSON); fmt_value_sql() as an exact SQL literal for a session
 *   with time_zone='+00:00' (hex literals with charset introducers for
 *   strings, so no escaping bug can change a byte).
 *
 * Partial row images (sluice.proto, Row): a column missing from an image is
 *   a Value of kind SLUICE__VALUE__KIND__ABSENT, never NULL. It has no
 *   rendering: the three fmt_value_*() return -SL_EINVAL_ARG for it and
 *   append nothing. Whoever prints or applies a row leaves absent columns
 *   out: inspect lists only present columns (as mysqlbinlog -vv does, with
 *   their @N numbers kept), JSON omits their keys, replay's SQL names only
 *   present columns. fmt_row_full() says whether a row needs that care.
 */
#ifndef FMT_H
#define FMT_H

#include <stddef.h>
#include <stdint.h>

#include "sl.h"
#include "sluice.pb-c.h"

/* MySQL column type codes (enum_field_types) as the binlog's TABLE_MAP and
 * the records' ColumnDef.type carry them: the one list of them in the tree.
 * Whoever interprets a stream's column types uses these names; code that
 * reads a server's result sets may use libmariadb's MYSQL_TYPE_* instead
 * (same numbers, but a client-library type). */
enum fmt_type {
	FMT_TYPE_DECIMAL = 0, FMT_TYPE_TINY = 1, FMT_TYPE_SHORT = 2, FMT_TYPE_LONG = 3,
	FMT_TYPE_FLOAT = 4, FMT_TYPE_DOUBLE = 5, FMT_TYPE_NULL = 6, FMT_TYPE_TIMESTAMP = 7,
	FMT_TYPE_LONGLONG = 8, FMT_TYPE_INT24 = 9, FMT_TYPE_DATE = 10, FMT_TYPE_TIME = 11,
	FMT_TYPE_DATETIME = 12, FMT_TYPE_YEAR = 13, FMT_TYPE_NEWDATE = 14,
	FMT_TYPE_VARCHAR = 15, FMT_TYPE_BIT = 16, FMT_TYPE_TIMESTAMP2 = 17,
	FMT_TYPE_DATETIME2 = 18, FMT_TYPE_TIME2 = 19,
	FMT_TYPE_VECTOR = 242,		/* MySQL 9 */
	FMT_TYPE_JSON = 245, FMT_TYPE_NEWDECIMAL = 246, FMT_TYPE_ENUM = 247,
	FMT_TYPE_SET = 248, FMT_TYPE_TINY_BLOB = 249, FMT_TYPE_MEDIUM_BLOB = 250,
	FMT_TYPE_LONG_BLOB = 251, FMT_TYPE_BLOB = 252, FMT_TYPE_VAR_STRING = 253,
	FMT_TYPE_STRING = 254, FMT_TYPE_GEOMETRY = 255,
};

/* The hard limit for one packed record (a row with several large BLOBs). */
#define FMT_RECORD_MAX ((size_t)256 << 20)

/* Append varint(len) + packed record to out. 0 or -SL_ETOOBIG. */
int fmt_record_pack(const Sluice__Record *rec, struct sl_buf *out);

/* Fast packing (fmt_pack.c), for the segment writer:
 * fmt_pack_size() sizes a message and remembers every sub-message's size;
 * fmt_pack() then packs that same message into out (fmt_pack_size() bytes),
 * byte for byte what protobuf_c_message_pack() writes, without sizing the
 * sub-messages again. The packer's memory is reused from record to record. */
struct fmt_packer {
	size_t *sizes;			/* sub-message sizes, in pre-order */
	size_t n, cap, next;
	int fallback;			/* protobuf-c packs this one (unknown fields) */
	int value_ok;			/* Value's own code applies: 1; no: -1; not known: 0 */
	int insert_ok;			/* the same for fmt_pack_insert()'s Record/RowChange/Row */
	const Sluice__Value **vp;	/* fmt_pack_insert()'s generic path: the values */
	size_t vp_cap;
};
size_t fmt_pack_size(struct fmt_packer *p, const ProtobufCMessage *m);
size_t fmt_pack(struct fmt_packer *p, const ProtobufCMessage *m, uint8_t *out);
/* The Record of a RowChange INSERT of table_ref whose after image is the n
 * values of v (contiguous, as a snapshot reader holds them), without building
 * the Record, RowChange, Row and pointer array around them:
 * fmt_pack_insert_size() sizes it, fmt_pack_insert() then packs the same
 * values into out (that many bytes), byte for byte what fmt_pack() and
 * protobuf_c_message_pack() write for that Record. */
size_t fmt_pack_insert_size(struct fmt_packer *p, uint32_t table_ref, const Sluice__Value *v,
			    size_t n);
size_t fmt_pack_insert(struct fmt_packer *p, uint32_t table_ref, const Sluice__Value *v, size_t n,
		       uint8_t *out);
void fmt_packer_release(struct fmt_packer *p);

/* The body of the length-delimited record at p (n bytes available): 0 with
 * *body and *len (the packed Record) and *used (prefix and body), or
 * -SL_ECORRUPT when the varint is bad or the record runs past n or
 * FMT_RECORD_MAX. */
int fmt_record_body(const uint8_t *p, size_t n, const uint8_t **body, size_t *len, size_t *used);
/* Decode one length-delimited record at p (n bytes available). On success
 * *used is the bytes consumed and *rec the record (free with fmt_record_free).
 * -SL_ECORRUPT when the varint or the message is bad or runs past n, or the
 * record holds no known body (fmt_record_decode() below, with malloc). */
int fmt_record_unpack(const uint8_t *p, size_t n, size_t *used,
		      Sluice__Record **rec, struct sl_err *err);
void fmt_record_free(Sluice__Record *rec);

/* Records decoded with memory from an arena (fmt_arena.c; fmt_record_decode()
 * in fmt_record.c), for readers that decode many
 * records and drop them together (replay's bulk load: a chunk's rows):
 *   fmt_arena_init(&a); fmt_record_decode(body, len, &a, &rec, err) ...
 *   fmt_arena_reset(&a) drops every record decoded since the last reset at
 *   once (never fmt_record_free() one of them); fmt_arena_release(&a) at the end.
 * fmt_record_decode() takes a record's body without its length prefix (what
 * seg_reader_next_raw() gives); a NULL arena decodes with malloc (free it
 * with fmt_record_free()). -SL_ECORRUPT when it does not decode or holds no
 * known body. An arena is one thread's. */
struct fmt_arena_block;
struct fmt_arena {
	ProtobufCAllocator pa;
	struct fmt_arena_block *head, *cur;
	size_t bytes;			/* held */
};
void fmt_arena_init(struct fmt_arena *a);
void fmt_arena_reset(struct fmt_arena *a);
void fmt_arena_release(struct fmt_arena *a);
int fmt_record_decode(const uint8_t *p, size_t len, struct fmt_arena *a, Sluice__Record **rec,
		      struct sl_err *err);
/* The body a packed record holds, from its first byte (the field tag of the
 * oneof: (number << 3) | 2); SLUICE__RECORD__BODY__NOT_SET when it is none. */
static inline Sluice__Record__BodyCase fmt_record_peek(const uint8_t *p, size_t len)
{
	return len && (p[0] & 7) == 2 && p[0] >> 3 >= 1 && p[0] >> 3 <= 15 ?
	       (Sluice__Record__BodyCase)(p[0] >> 3) : SLUICE__RECORD__BODY__NOT_SET;
}

/* The table_ref and op of a packed RowChange record (what fmt_record_peek()
 * says is SLUICE__RECORD__BODY_ROW), read from its top-level fields without
 * decoding it: 0, or -SL_ECORRUPT when its framing is bad (fmt_arena.c). */
int fmt_row_peek(const uint8_t *p, size_t len, uint32_t *table_ref, int *op);

/* The after image of a packed RowChange record read in place (fmt_rowview.c),
 * for readers of many rows that render each and drop it (replay's bulk
 * load): no protobuf-c, no malloc per row. *after (NULL when the record has
 * none) is valid until the next decode into rv and while p lives (bytes
 * point into it). 0, or 1 when the record is not in the form this reads
 * (decode it with fmt_record_decode(): same row, or its error). */
struct fmt_rowview {
	Sluice__Row row;
	Sluice__Value *vals, **ptrs;
	size_t cap;
	int layout;			/* Value as the code knows it: 1, no: -1, not checked: 0 */
};
int fmt_rowview_decode(struct fmt_rowview *rv, const uint8_t *p, size_t len,
		       const Sluice__Row **after);
void fmt_rowview_release(struct fmt_rowview *rv);

/* Varints (protobuf encoding). get returns bytes consumed, 0 when bad/short. */
static inline size_t fmt_varint_put(uint8_t *p, uint64_t v)	/* p needs 10 bytes */
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}
size_t fmt_varint_get(const uint8_t *p, size_t n, uint64_t *v);
static inline size_t fmt_varint_len(uint64_t v)	/* bytes fmt_varint_put() writes */
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Deep copies of messages (pack + unpack), freed with the matching __free_unpacked. */
Sluice__TableDef *fmt_tabledef_dup(const Sluice__TableDef *t);
Sluice__Position *fmt_position_dup(const Sluice__Position *p);
void fmt_position_free(Sluice__Position *p);

/* "file:offset" (and " gtid X" when known) into out (size n). */
char *fmt_position_str(const Sluice__Position *p, char *out, size_t n);

/* A map from table_ref to the newest TableDef with that ref. */
struct fmt_tables {
	Sluice__TableDef **defs;	/* indexed by ref; NULL where unknown */
	size_t cap;
};
void fmt_tables_init(struct fmt_tables *t);
/* Store a copy of def (replacing any older one with the same ref). */
void fmt_tables_put(struct fmt_tables *t, const Sluice__TableDef *def);
const Sluice__TableDef *fmt_tables_get(const struct fmt_tables *t, uint32_t ref);
void fmt_tables_release(struct fmt_tables *t);

/* 1 when v is not in its image (kind ABSENT). */
static inline int fmt_value_absent(const Sluice__Value *v)
{
	return v->kind == SLUICE__VALUE__KIND__ABSENT;
}
/* 1 when every value of r is present (a FULL image); 0 for NULL r. */
int fmt_row_full(const Sluice__Row *r);

/* Renderings of one value of column c (c may be NULL: rendered from the
 * value alone). An ABSENT value: -SL_EINVAL_ARG, nothing appended. */
int fmt_value_text(const Sluice__Value *v, const Sluice__ColumnDef *c, struct sl_buf *out);
int fmt_value_json(const Sluice__Value *v, const Sluice__ColumnDef *c, struct sl_buf *out);
int fmt_value_sql(const Sluice__Value *v, const Sluice__ColumnDef *c, struct sl_buf *out);

/* JSON string escaping of arbitrary bytes (invalid UTF-8 becomes \uFFFD-free
 * \u00XX escapes of the raw bytes, so nothing is lost). */
int fmt_json_str(struct sl_buf *out, const void *s, size_t n);
/* X'..' hex literal of n bytes (exact for any bytes). */
int fmt_sql_hex(struct sl_buf *out, const void *p, size_t n);
/* A NUL-terminated string (a name, a position) as an exact utf8mb4 literal:
 * _utf8mb4 X'..', or '' when empty. */
int fmt_sql_str(struct sl_buf *out, const char *s);
/* `identifier` with backticks doubled. */
int fmt_sql_ident(struct sl_buf *out, const char *name);

/* TIMESTAMP value to "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC with dec digits. */
int fmt_timestamp_str(int64_t sec, uint32_t usec, unsigned dec, char *out, size_t n);

/* Records as text or JSON lines (fmt_render.c), for inspect and whoever
 * else shows records to people or tools (status, reports, the task).
 * Calling sequence: fmt_render_init() -> fmt_render_record()... (each
 * appends to b; the caller writes b out and resets it when it likes) ->
 * fmt_render_release(). TableDef records are remembered (tables), not
 * printed; a transaction's JSON object spans its TxnBegin..TxnCommit
 * records and ends with a newline at the commit. seq and offset are where
 * the record lies (segment, frame offset), printed with it.
 * JSON values: fmt_value_json(). */
struct fmt_render {
	struct sl_buf b;		/* the output so far (unlimited) */
	int json;			/* JSON lines, else mysqlbinlog-style text */
	int in_txn;
	unsigned nchanges;
	struct fmt_tables tables;	/* TableDefs seen, by ref */
	char *use_db;			/* text: the database of the last USE written */
};
void fmt_render_init(struct fmt_render *o, int json);
void fmt_render_record(struct fmt_render *o, const Sluice__Record *r, uint64_t seq,
		       uint64_t offset);
void fmt_render_release(struct fmt_render *o);
/* Snapshot streams (store/FORMAT.md "Snapshot streams") render too:
 * - SchemaObject: JSON {"type":"schema","kind":"table",...,"deferred":
 *   "switchover" when deferred,"conversions":[...]}; text: the runnable SQL
 *   of fmt_render_schema_sql();
 * - a chunk (SnapshotChunk, its RowChange INSERTs, SnapshotChunkEnd) is one
 *   JSON object {"type":"chunk",...,"changes":[...],"rows":N,...} like a
 *   transaction; in text, "# chunk" comments around the ### INSERT rows;
 * - SnapshotBegin / SnapshotEnd: {"type":"snapshot_begin"|"snapshot_end",...}
 *   or a "# snapshot ..." comment line.
 * fmt_render_schema_sql() appends one schema object as SQL a client runs as
 * is: "-- " comments first (its order, kind and name, "-- deferred to
 * switchover" when deferred, one "-- conversion: ..." per conversion and the
 * source's statement when a conversion changed it), USE `db` when the
 * database differs from the last one written (o->use_db), the statement
 * ended with ";", and for triggers, routines and events (whose bodies hold
 * ";") DELIMITER lines around it. */
void fmt_render_schema_sql(struct fmt_render *o, const Sluice__SchemaObject *so);
/* "database", "table", "view", "trigger", "foreign_key", "routine", "event". */
const char *fmt_schema_kind_name(int kind);
/* How messages and conversion notes name a schema object: "database `db`",
 * "table `db`.`t`", "foreign key `db`.`fk` on `t`" (table given, not empty).
 * The caller frees it. */
char *fmt_schema_object_label(int kind, const char *db, const char *name, const char *table);

/* Statements of binlog QUERY events (fmt_stmt.c), by their leading keywords
 * after white space, comments and executable-comment markers:
 *   BEGIN        BEGIN, START TRANSACTION, XA START
 *   COMMIT       COMMIT, XA PREPARE
 *   ROLLBACK     ROLLBACK alone
 *   TXN_OTHER    SAVEPOINT, ROLLBACK TO, RELEASE, other XA
 *   DML          INSERT, UPDATE, DELETE, REPLACE, LOAD DATA/XML, CALL, DO,
 *                SELECT, WITH: a row change logged as a statement
 *                (binlog_format=STATEMENT in that session); it needs context
 *                (INSERT_ID, RAND seeds, user variables) a record lacks
 *   ACCOUNT      CREATE/ALTER/DROP/RENAME USER, CREATE/DROP ROLE, GRANT,
 *                REVOKE, SET PASSWORD, SET ROLE, SET DEFAULT ROLE: they may
 *                hold a password and are never written into segments
 *   TRIGGER      CREATE [OR REPLACE] [DEFINER=...] TRIGGER, DROP TRIGGER:
 *                recorded, never replayed (the rows a trigger wrote are in
 *                the binlog already); created at switchover
 *   OTHER        everything else (DDL): replayed as it is; also DELETE HISTORY
 *                FROM t [BEFORE SYSTEM_TIME ...], which touches only history
 *                rows of a system-versioned table
 * MariaDB's SET STATEMENT ... FOR stmt is classified by stmt. */
enum fmt_stmt_kind {
	FMT_STMT_OTHER = 0, FMT_STMT_BEGIN, FMT_STMT_COMMIT, FMT_STMT_ROLLBACK,
	FMT_STMT_TXN_OTHER, FMT_STMT_DML, FMT_STMT_ACCOUNT, FMT_STMT_TRIGGER,
};
enum fmt_stmt_kind fmt_stmt_classify(const char *s, size_t n);
/* "ddl", "trigger", "account statement", "statement-format DML", ... */
const char *fmt_stmt_kind_name(enum fmt_stmt_kind k);

/* The comment sluice replay puts first in every DDL it runs on a destination
 * (stream DDL, snapshot schema, its own `sluice` tables). MariaDB and MySQL
 * keep a leading comment in the binlog's QUERY event for most DDL, so a
 * capture of that destination knows the statement as replay's and leaves it
 * out (README "Loop prevention" lists what the servers rewrite and lose). */
#define FMT_REPLAY_MARK "/* sluice:replay */ "
/* The server rewrites some DDL in its binlog and drops the comment (MariaDB
 * 10.11: DROP TABLE, CREATE TABLE ... SELECT, CREATE VIEW, CREATE TRIGGER).
 * So replay runs this marked no-op on the same connection just before each
 * DDL: capture takes the next DDL of that connection (the QUERY event's
 * thread id) as replay's, marked or not. */
#define FMT_REPLAY_NEXT "/* sluice:next */"
#define FMT_REPLAY_BEACON FMT_REPLAY_MARK "CREATE DATABASE IF NOT EXISTS `sluice` " FMT_REPLAY_NEXT
/* 1 when s (n bytes) begins, after white space, with FMT_REPLAY_MARK; 2
 * when it is FMT_REPLAY_BEACON. */
int fmt_stmt_replayed(const char *s, size_t n);

/* Filters and renames (fmt_filter.c), the one set of rules capture and
 * replay apply to the records they pass on (--include, --exclude, --map,
 * --exclude-columns, --ops). Every name is the source's: patterns and
 * column patterns match the names a TableDef or a DDL has in the stream,
 * before --map renames them.
 *   include/exclude  table patterns (common/sl.h sl_table_selected())
 *   map              SRC=DST list (sl_map_name()): TableDefs and DDL leave
 *                    under the new names
 *   exclude_columns  "db.table.column" patterns: the columns are taken out
 *                    of TableDefs and of every row image; the other
 *                    columns keep their order and the primary key's column
 *                    indexes are renumbered. A primary key column cannot be
 *                    left out (an error naming it).
 *   ops              "insert,update,delete,ddl" (any of them): the row
 *                    changes and DDL passed; NULL: all four.
 * Decisions per record (fmt_filter_record()):
 *   TableDef   dropped when its table is not selected, else renamed and its
 *              columns cut; the decision is kept by ref for its rows;
 *   RowChange  dropped with its table or when its op is not in ops, else
 *              its images cut like its TableDef (a row whose ref has no
 *              TableDef yet is an error);
 *   TxnCommit  its rows count is that of the rows kept (a transaction whose
 *              rows were all dropped stays, empty: its position and
 *              checkpoint still move);
 *   Ddl        dropped when ops lacks ddl; else given to the ddl callback
 *              (ddl/ddl.h ddl_filter_stmt(): tables it names are dropped,
 *              renamed or refused by the same rules, by tokens); an error
 *              names the statement's position;
 *   the rest   passed as they are.
 * Calling sequence: fmt_filter_open() (NULL *f when no option is given:
 *   nothing to do) -> fmt_filter_record()... -> fmt_filter_close().
 * Ownership: the filter borrows o's strings until it is closed. The record
 *   fmt_filter_record() gives back is the input or a view of it (its own
 *   structs and arrays, pointing at the input's values, column
 *   definitions and strings): valid until the next call and while the
 *   input lives; never free it. A filter is one thread's. */
struct fmt_filter;
struct fmt_filter_opts {
	const char *include, *exclude;	/* table patterns, NULL: all / none */
	const char *map;		/* "a=b,a.t=c.u", NULL: no renames */
	const char *exclude_columns;	/* "db.t.c,..." NULL: none */
	const char *ops;		/* "insert,update,delete,ddl" NULL: all */
};
#define FMT_OP_INSERT 1u
#define FMT_OP_UPDATE 2u
#define FMT_OP_DELETE 4u
#define FMT_OP_DDL 8u
#define FMT_OP_ALL 15u
/* A DDL statement (stmt) run with default database db ("" none) under f:
 * 1 kept with the statement to run appended to out (NUL-terminated) and
 * *out_db its default database (malloc'd), 0 dropped, or a negative code
 * with err saying why (fmt_filter_record() adds the position). */
typedef int (*fmt_filter_ddl_fn)(const struct fmt_filter *f, const char *db, const char *stmt,
				 struct sl_buf *out, char **out_db, struct sl_err *err);
/* Checks o (a bad map, column pattern or op: -SL_EINVAL_ARG naming it);
 * *f NULL when o sets nothing. ddl may be NULL: DDL then passes unchanged
 * unless ops drops it. */
int fmt_filter_open(struct fmt_filter **f, const struct fmt_filter_opts *o, fmt_filter_ddl_fn ddl,
		    struct sl_err *err);
void fmt_filter_close(struct fmt_filter *f);
/* 0 with *out the record to pass on, or NULL to drop it; <0 with err. */
int fmt_filter_record(struct fmt_filter *f, const Sluice__Record *in, const Sluice__Record **out,
		      struct sl_err *err);
/* The TableDef record of def through fmt_filter_record(), for a writer
 * that holds definitions apart from its records (capture): *out the view
 * or NULL when the table is dropped. */
int fmt_filter_tabledef(struct fmt_filter *f, const Sluice__TableDef *def,
			const Sluice__TableDef **out, struct sl_err *err);
/* A table under f: 1 kept, with its new names in *ndb, *nt (malloc'd); 0
 * dropped (*ndb, *nt NULL). For the DDL rewriter. */
int fmt_filter_table(const struct fmt_filter *f, const char *db, const char *t, char **ndb,
		     char **nt);
/* A database as a whole (CREATE/DROP DATABASE, a DDL's default database):
 * 1 kept (sl_database_touched()) with its new name in *ndb, else 0. */
int fmt_filter_database(const struct fmt_filter *f, const char *db, char **ndb);
/* 1 when f renames anything (--map given). */
int fmt_filter_renames(const struct fmt_filter *f);

#endif
