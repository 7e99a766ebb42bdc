/*
 * ver.h - verify that a destination equals its source: chunked checksums,
 * row diffs, schema comparison, rechecks, correction SQL and reports.
 *
 * What is compared: every base table of the source that the include/exclude
 * patterns select (system schemas and `sluice` are never compared) against
 * the table of the same name on the destination, or the name --map gives.
 * Tables present on only one side, and differences in columns (name, type,
 * nullability, default, charset, collation, extra), primary keys and indexes
 * are reported as schema differences. Rows are compared on the columns both
 * sides have.
 *
 * How (one pass):
 *   1. A table with a primary key (or a UNIQUE key on NOT NULL columns) is cut
 *      into key ranges (db.h, db_range.c): a single integer key by arithmetic over MIN..MAX, any
 *      other key by walking the source's index (`... WHERE key > last ORDER BY
 *      key LIMIT 1 OFFSET chunk_rows-1`). The first range has no lower bound
 *      and the last none above, so rows that exist only on the destination
 *      fall in some range too.
 *   2. For each range both servers compute, at the same time (one connection
 *      per side, queries sent before either answer is read), COUNT(*) and the
 *      BIT_XOR of a 64-bit hash of every row (ver_hash_sql()). The row hash
 *      is byte-exact whatever the collation: it hashes the stored bytes of
 *      strings (so 'a' and 'A', 'x' and 'x ' differ), the shortest exact text
 *      of FLOAT/DOUBLE, temporal values with their fractions, NULL flags (NULL
 *      differs from ''), the byte 0xFF between fields and the length of every
 *      string that may hold 0xFF but one (so no separator can be shifted
 *      between columns; UTF-8 text never holds 0xFF). Values that may be longer
 *      than 64 KiB (BLOB, TEXT, JSON, geometry) enter the row hash as MD5.
 *      CRCs are linear, so a value swapped between two rows of one range
 *      leaves the XOR of their plain CRCs unchanged: the two CRCs are mixed
 *      by multiplications (a bijection of the 64 bits) before the XOR.
 *   3. A range whose counts or checksums differ is read in key order from both
 *      sides (mysql_use_result: one row at a time) and merge-joined
 *      (ver_merge()): rows only in the source ("missing"), only in the
 *      destination ("extra"), and rows whose columns differ ("changed", each
 *      column with both values, abbreviated).
 *   0. Fast path: when both servers are the same flavor and version and a
 *      table's schema is identical on both sides, CHECKSUM TABLE runs on both
 *      at once (the server's own CRC over every field's bytes and NULL flags,
 *      summed over rows: 32 bits per table, and the bytes of VARCHAR/BLOB
 *      fields without their lengths, so only tables with fewer than two
 *      variable-length columns take it). Equal sums end the table (its row count is then the server's
 *      estimate); different sums send it down steps 1-3. no_table_checksum
 *      turns this off, so that every range gets the 64-bit row hash.
 *   4. A table with no usable key is compared as a multiset: both sides stream
 *      `hash, COUNT(*) GROUP BY hash ORDER BY hash` and the streams are merged;
 *      a hash with more copies on one side is a missing or extra row.
 * Then, for --recheck N, only the differing rows are read again (after
 * --recheck-delay, or, with --dir, once replay's checkpoint in the
 * destination's `sluice`.`checkpoint` has passed the source's binlog position
 * read before the recheck), up to N times; only what persists is reported.
 * Correction SQL (REPLACE for missing/changed rows, DELETE for extra rows when
 * fix_extra) is generated from rows re-read from the source; apply_fix runs it
 * on the destination in transactions and rechecks the touched rows.
 *
 * Memory: bounded by the chunk and row sizes, never by the table: rows are
 * streamed, large values are compared by hash and shown abbreviated. The list
 * of differences keeps at most VER_MAX_KEPT_DIFFS entries (the rest are only
 * counted). Fix statements hold one source row at a time.
 *
 * Calling sequence: fill struct ver_opts, ver_run(&o, &st, &err); print or
 * inspect st. ver_run() writes the human summary to o.out (if not NULL), the
 * JSON report to o.json_path, the fix SQL to o.fix_sql_path.
 * Errors: 0 (whether or not differences were found: see st.differences) or a
 *   negative code with err filled with one line naming the cause. Passwords
 *   come from SLUICE_SOURCE_PASSWORD / SLUICE_DEST_PASSWORD (sl_dsn_parse())
 *   and are never printed.
 * Threads: ver_run() starts o.threads workers, each with one connection per
 *   side, that take whole tables; the pure helpers below are thread-safe.
 */
#ifndef VER_H
#define VER_H

#include <stdint.h>
#include <stdio.h>

#include "sl.h"

#define VER_MAX_KEPT_DIFFS 100000
#define VER_DEFAULT_CHUNK_ROWS 10000	/* = DB_DEFAULT_CHUNK_ROWS */

/* Kinds of difference, in report order. */
#define VER_KIND_MAP(X)                                  \
	X(MISSING, "missing", "rows only in the source")       \
	X(EXTRA, "extra", "rows only in the destination")      \
	X(CHANGED, "changed", "rows whose columns differ")     \
	X(SCHEMA, "schema", "schema differences")              \
	X(MISSING_TABLE, "missing_table", "tables only in the source") \
	X(EXTRA_TABLE, "extra_table", "tables only in the destination")

enum ver_kind {
#define VER_X_(name, json, text) VER_##name,
	VER_KIND_MAP(VER_X_)
#undef VER_X_
	VER_NKINDS
};
const char *ver_kind_name(enum ver_kind k);	/* the JSON name, "missing" ... */

struct ver_opts {
	const char *source_url, *dest_url;
	const char *include, *exclude;	/* comma-separated patterns, may be NULL */
	const char *map;		/* comma-separated SRC=DST (db or db.table), may be NULL */
	unsigned threads;		/* 0 = 4 */
	uint64_t chunk_rows;		/* 0 = VER_DEFAULT_CHUNK_ROWS */
	const char *json_path;		/* may be NULL */
	const char *fix_sql_path;	/* may be NULL */
	int fix_extra;			/* DELETE rows only in the destination */
	int apply_fix;			/* run the fix on the destination, then recheck */
	unsigned recheck;		/* re-read differing rows up to N times */
	unsigned recheck_delay_ms;	/* 0 = 1000 */
	const char *dir;		/* stream directory: wait for replay's checkpoint */
	const char *consumer;		/* checkpoint row (NULL: any row); checked
					 * with sl_consumer_name_check() */
	unsigned checkpoint_wait_s;	/* 0 = 120: give up waiting and recheck anyway */
	int no_table_checksum;		/* never take the CHECKSUM TABLE fast path */
	int progress;			/* draw a progress line on stderr */
	FILE *out;			/* human report (NULL: none) */
	unsigned show;			/* differences listed in the human report (0 = 50) */
};

struct ver_stats {
	uint64_t tables;		/* table pairs compared (rows) */
	uint64_t rows_source, rows_dest;
	uint64_t chunks, chunks_differing;
	uint64_t by_kind[VER_NKINDS];	/* after rechecks */
	uint64_t differences;		/* sum of by_kind */
	uint64_t found_first_pass;	/* before rechecks */
	unsigned rechecks_done;
	uint64_t fix_statements, fix_applied;
	double seconds;
	int hash_crc;			/* 1: CRC32+CRC32C row hash, 0: MD5 */
};

int ver_run(const struct ver_opts *o, struct ver_stats *st, struct sl_err *err);

/* ---- pure helpers (exposed for tests/unit/test_verify.c) ---- */

/*
 * Does schema.table match one pattern? A pattern is "db", "db.table" or with
 * wildcards % or * (any run) and _ or ? (one character) in either part:
 * "shop.*", "shop.t%", "%.orders". "db" alone means every table of db.
 * Matching is case-sensitive (table names are on Linux).
 */
int ver_pattern_match(const char *pattern, const char *schema, const char *table);
/* Matches any of the comma-separated patterns in list (NULL/empty: -1). */
int ver_patterns_match(const char *list, const char *schema, const char *table);
/* Selected when it matches include (or include is empty) and not exclude. */
int ver_table_selected(const char *include, const char *exclude, const char *schema,
		       const char *table);
/* Applies map ("a=b,c.t=d.u") to schema.table; writes the destination names
 * (owned, free()) into *dschema, *dtable. Table maps win over schema maps. */
void ver_map_name(const char *map, const char *schema, const char *table, char **dschema,
		  char **dtable);

/*
 * The row hash. A column as ver_hash_sql() needs it: name and how its value
 * is encoded (VER_ENC_*: from information_schema DATA_TYPE).
 */
enum ver_enc {
	VER_ENC_NUM,	/* integers, DECIMAL, YEAR: exact decimal text */
	VER_ENC_FLOAT,	/* FLOAT/DOUBLE: shortest exact text (FLOAT widened to DOUBLE) */
	VER_ENC_TEMPORAL,	/* DATE, TIME, DATETIME, TIMESTAMP (UTC session): text with fraction */
	VER_ENC_STR,	/* CHAR, VARCHAR, ENUM, SET: stored bytes + length */
	VER_ENC_BIN,	/* BINARY, VARBINARY, BIT: bytes + length */
	VER_ENC_BIG,	/* TEXT, BLOB, JSON, geometry: MD5 + length */
};
struct ver_hash_col {
	const char *name;
	enum ver_enc enc;
	int nullable;
	int convert;	/* the two sides' charsets differ: compare as utf8mb4 */
	unsigned long maxlen;	/* character_maximum_length (0: unknown): the widest
				 * byte string is the one hashed without a LENGTH */
	int utf8;	/* VER_ENC_STR in utf8mb3/utf8mb4/ascii (or converted): its
			 * bytes never hold 0xFF, the row hash's separator */
};
enum ver_enc ver_enc_of(const char *data_type);
/* The SQL expression, as one BIGINT UNSIGNED, of the row hash of ncols
 * columns. crc = 1: (CRC32(s) << 32 | CRC32C(s)) (MariaDB 10.8+), else the
 * first 64 bits of MD5(s); s is described in ver_sql.c. Appends to out. */
int ver_hash_sql(struct sl_buf *out, const struct ver_hash_col *cols, size_t ncols, int crc);
/* A query that answers 3 when a server computes the crc = 1 form right (it
 * reads s through a user variable, so it relies on the server evaluating
 * the expression left to right; verify falls back to MD5 where it does not). */
int ver_hash_check_sql(struct sl_buf *out);

/*
 * The merge-join of two key-ordered row streams. A row is an array of items:
 * nkey sort keys, then ncols values (compare values: exact bytes, or
 * "length:md5" for VER_ENC_BIG), then one preview per VER_ENC_BIG column.
 * items[i] == NULL is SQL NULL. Sort keys compare by cmp[] (below), which
 * reproduces the server's ORDER BY for that key type.
 */
enum ver_cmp {
	VER_CMP_INT,	/* decimal integer text, signed */
	VER_CMP_DEC,	/* decimal text with the same scale on both sides */
	VER_CMP_FLOAT,	/* strtod */
	VER_CMP_BYTES,	/* memcmp, shorter prefix first (binary, WEIGHT_STRING, temporal text) */
};
struct ver_row {
	const char *const *item;
	const unsigned long *len;
};
struct ver_cursor {
	/* 1 and *row filled (valid until the next call), 0 at the end, or < 0 */
	int (*next)(void *ctx, struct ver_row *row, struct sl_err *err);
	void *ctx;
};
struct ver_shape {
	size_t nkey, ncols;
	const enum ver_cmp *cmp;	/* nkey entries */
};
int ver_key_cmp(const struct ver_shape *s, const struct ver_row *a, const struct ver_row *b);
/* Columns (0-based, < ncols) whose values differ between a and b, into
 * cols[] (room for ncols). Returns how many. */
size_t ver_row_diff(const struct ver_shape *s, const struct ver_row *a, const struct ver_row *b,
		    size_t *cols);
/* emit(arg, kind, src, dst): kind VER_MISSING (dst NULL), VER_EXTRA (src NULL)
 * or VER_CHANGED; returns 0 or < 0 to stop. ver_merge returns 0 or < 0. */
typedef int (*ver_emit_fn)(void *arg, enum ver_kind kind, const struct ver_row *src,
			   const struct ver_row *dst, struct sl_err *err);
int ver_merge(const struct ver_shape *s, struct ver_cursor *src, struct ver_cursor *dst,
	      ver_emit_fn emit, void *arg, struct sl_err *err);

/*
 * An exact SQL literal for a value as the server sent it with
 * character_set_results = binary: numbers as text, FLOAT/DOUBLE as a double
 * literal (1.5e0), temporal values quoted (checked against their alphabet),
 * strings as _charset X'..', bytes as X'..', geometry (SRID + WKB) as
 * ST_GeomFromWKB(X'..', srid), JSON as CAST(_utf8mb4 X'..' AS JSON), NULL.
 * charset may be NULL (utf8mb4). 0 or -SL_EFORMAT for text that cannot be
 * what the server sends for that encoding.
 */
enum ver_lit {
	VER_LIT_NUM, VER_LIT_FLOAT, VER_LIT_TEMPORAL, VER_LIT_STR, VER_LIT_BIN,
	VER_LIT_GEOM, VER_LIT_JSON,
};
int ver_sql_literal(struct sl_buf *out, enum ver_lit lit, const char *charset, const char *v,
		    unsigned long len);
/* A value for people: NULL, text (bytes that are not printable escaped) or
 * 0x.. hex for binary; cut at max bytes with "...(N bytes)". */
int ver_value_show(struct sl_buf *out, const char *v, unsigned long len, int binary, size_t max);

#endif
