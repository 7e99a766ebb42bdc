/*
 * db.h - the one place that opens a database connection, and what every
 * command needs to know about the server behind it.
 *
 * Floor 3 (DESIGN.md "Folders"): uses common/ and formats/ only; capture,
 * replay and verify (and the coming snapshot, precheck, migrate) use it.
 * Nothing else calls mysql_real_connect().
 *
 * Connections: db_connect(&m, &dsn, &opts, &err) with the parsed URL
 *   (sl_dsn_parse()) and a role. Every role gets the same TLS policy, its own
 *   timeouts and its own session set-up:
 *
 *   TLS (the URL's ssl-mode, sl_dsn_parse() resolves its default):
 *     disabled         plain text (the default when no ssl-* file is given)
 *     required         TLS or no connection; the certificate is not checked
 *                      (given ssl-ca, the library still checks its chain);
 *                      a server without TLS is refused (db_tls_check(): the
 *                      library alone would fall back to plain text)
 *     verify-ca        TLS; the certificate must chain to ssl-ca
 *     verify-identity  TLS; chain and host name checked (the default when any
 *                      of ssl-ca, ssl-cert, ssl-key is given)
 *
 *   Timeouts in seconds (connect / read / write). A read timeout bounds the
 *   wait for one answer from the server, so a dead server or a cut network
 *   ends in an error naming the server instead of a hang:
 *     DB_ROLE_SOURCE_STREAM   10 / max(15, 5 x heartbeat) / 60: the binlog
 *                             dump waits on an idle source, which sends a
 *                             heartbeat every --heartbeat-ms, so silence
 *                             past 5 periods is a dead source or a cut-off
 *                             network (no RST), and capture reconnects
 *     DB_ROLE_REPLAY_WORKER   30 / 3600 / 600: one batch of a big transaction
 *                             (lock waits included) and its COMMIT
 *     DB_ROLE_REPLAY_LOAD     30 / 600 / 600: one snapshot chunk per LOAD
 *                             DATA (lock waits and deadlock retries are
 *                             server-side errors well within it); silence
 *                             past it is a stuck server
 *     DB_ROLE_REPLAY_CONTROL  30 / 86400 / 600: DDL such as an ALTER TABLE of
 *                             a big table runs for hours
 *     DB_ROLE_VERIFY          20 / 86400 / 600: CHECKSUM TABLE or a keyless
 *                             table's GROUP BY reads a whole table
 *     DB_ROLE_SNAPSHOT        20 / 86400 / 600: a keyless table is one
 *                             streamed SELECT, read while the writer works
 *   Every TCP connection has keepalive on (10 s idle, 5 s interval, 3
 *   probes): a peer gone without a RST is noticed in about 25 s, also while
 *   a read waits out one of the long timeouts above.
 *   The client's max_allowed_packet is 1 GiB (the protocol's limit) for
 *   every role; the server's own limit still applies.
 *
 *   Session set-up (each role's statements, run once after connecting):
 *     SOURCE_STREAM   character set utf8mb4, nothing else (the dump sets its
 *                     own variables: capture/cap_source.c)
 *     REPLAY_*        CLIENT_FOUND_ROWS | CLIENT_MULTI_STATEMENTS;
 *                     SET NAMES utf8mb4; time_zone '+00:00', opts.sql_mode
 *                     (replay's REP_SESSION_SQL_MODE), sql_notes=1,
 *                     foreign_key_checks 1 for workers (the destination runs
 *                     ON DELETE/UPDATE actions, as the source did) and 0 for
 *                     the control connection (DDL), autocommit=0, READ
 *                     COMMITTED
 *     REPLAY_LOAD     as REPLAY_WORKER, read timeout 600 s (one chunk per
 *                     statement: longer means a stuck server), plus CLIENT_LOCAL_FILES
 *                     and MYSQL_OPT_LOCAL_INFILE (LOAD DATA LOCAL INFILE fed
 *                     from memory by replay), foreign_key_checks=0 and
 *                     unique_checks=0 (snapshot rows are consistent already)
 *     VERIFY          CLIENT_MULTI_RESULTS; SET NAMES utf8mb4,
 *                     character_set_results = NULL (raw bytes), time_zone
 *                     '+00:00', group_concat_max_len = 1048576 (its
 *                     sql_mode stays the server's: switchover re-creates
 *                     objects on these sessions with the session's mode)
 *     SNAPSHOT        SET NAMES utf8mb4, character_set_results = NULL (raw
 *                     bytes in each column's charset), time_zone '+00:00',
 *                     sql_mode DB_READ_SQL_MODE,
 *                     REPEATABLE READ (the consistent snapshot needs it),
 *                     net_write_timeout/net_read_timeout 3600 (a reader
 *                     may pause while the writer is busy)
 *
 * Errors: 0 or a negative code with err filled: one line naming the server
 *   by sl_dsn_redacted() (never a password) and the server's reason, e.g.
 *   "cannot connect to source mysql://u@[::1]:3306/: Access denied ...".
 *
 * Server: db_server_detect() reads the flavor (MariaDB, MySQL, an OceanBase
 *   MySQL tenant or binlog service) and the version; db_binlog_status() asks
 *   for the binary log's end with the statement that server knows
 *   (SHOW BINARY LOG STATUS on MySQL >= 8.2, which 8.4 requires; SHOW MASTER
 *   STATUS elsewhere). Server checks (db_checks.c) are a table that capture
 *   runs before streaming and precheck will print. The `sluice` schema on a
 *   destination (db_schema.c) and primary-key range planning (db_range.c)
 *   are below.
 * Threads: a MYSQL handle belongs to one thread; the functions keep no
 *   state of their own.
 */
#ifndef DB_H
#define DB_H

#include <stdint.h>
#include <mysql.h>

#include "sl.h"

/* ---- connections (db_conn.c) ---- */

enum db_role {
	DB_ROLE_SOURCE_STREAM,	/* capture: checks, then the binlog dump */
	DB_ROLE_REPLAY_WORKER,	/* replay: applies transactions */
	DB_ROLE_REPLAY_CONTROL,	/* replay: checkpoint, locks, DDL */
	DB_ROLE_VERIFY_SOURCE,	/* verify and its fix: the source side */
	DB_ROLE_VERIFY_DEST,	/* verify and its fix: the destination side */
	DB_ROLE_REPLAY_LOAD,	/* replay: bulk load of snapshot chunks */
	DB_ROLE_SNAPSHOT,	/* snapshot: definitions and consistent reads */
};

struct db_opts {
	enum db_role role;
	const char *sql_mode;	/* REPLAY_*: the session's sql_mode (required) */
	unsigned heartbeat_ms;	/* SOURCE_STREAM: the heartbeat period asked for (0 = 200) */
};

struct db_timeouts {
	unsigned connect_s, read_s, write_s;
};

/* The role's timeouts (table above). */
void db_role_timeouts(const struct db_opts *o, struct db_timeouts *t);
/* "source" or "destination": how messages name the role's server. */
const char *db_role_side(enum db_role role);
/* Connects d as o->role says and sets up its session. *out is the open
 * handle (mysql_close() it), NULL on error. */
/*
 * The sql_mode of the sessions that read definitions (snapshot, precheck): none.
 * A server's global sql_mode is what a session inherits, and it changes what
 * is read: ANSI_QUOTES makes SHOW CREATE quote names with '"', which replay's
 * session reads as strings (test_hostile); PAD_CHAR_TO_FULL_LENGTH pads CHAR
 * values; PIPES_AS_CONCAT and the ORACLE/MSSQL modes change what a query
 * means. Definitions and rows are read in the one dialect replay executes.
 */
#define DB_READ_SQL_MODE ""
int db_connect(MYSQL **out, const struct sl_dsn *d, const struct db_opts *o, struct sl_err *err);
/* Called by db_connect() after the handshake (db_tls.c): when d's ssl-mode is
 * not disabled, a connection without a TLS cipher (a server that offers no
 * TLS, which the library then talks to in plain text) is an error naming the
 * server and the ssl-mode; the caller closes it. */
/*
 * Grants (db_grants.c): what SHOW GRANTS FOR CURRENT_USER() says.
 * db_grants_read() returns its lines (free with db_grants_free()).
 * db_grants_have(): does a line give priv (upper case, "REPLICATION SLAVE")
 * on *.*, or, db not NULL, on `db`.*? ALL PRIVILEGES gives every one;
 * MariaDB's BINLOG MONITOR (REPLICA MONITOR, SLAVE MONITOR) is MySQL's
 * REPLICATION CLIENT and REPLICATION REPLICA its REPLICATION SLAVE; a
 * column-level grant gives no table access. db_grants_roles(): 1 when a line
 * grants a role, whose privileges the lines do not show (a check must then
 * leave the decision to the server). db_grant_name(): the privilege's name
 * on that server (REPLICATION CLIENT is BINLOG MONITOR on MariaDB 10.5+).
 */
struct db_server;
int db_grants_read(MYSQL *m, const char *who, char ***out, size_t *n, struct sl_err *err);
void db_grants_free(char **v, size_t n);
int db_grants_have(const char *const *grants, size_t n, const char *priv, const char *db);
int db_grants_roles(const char *const *grants, size_t n);
const char *db_grant_name(const char *priv, const struct db_server *s);
int db_tls_check(MYSQL *m, const struct sl_dsn *d, const char *who, struct sl_err *err);

/* Runs sql (may hold several statements) and discards any results. who
 * names the server in the error ("destination mysql://..."). */
int db_exec(MYSQL *m, const char *who, const char *sql, struct sl_err *err);

/*
 * Every error that quotes a statement (here and in replay) is one line, the
 * cause first, so a long statement can never push the reason out:
 *   "<server message> (error N) on <who>: <first DB_SNIPPET bytes of sql>..."
 * db_reason() writes "<server message> (error N)" into out, its first letter
 * lowercased when it begins a sentence ("Duplicate entry" -> "duplicate
 * entry"; "InnoDB" stays). db_sql_snippet() copies at most max bytes of sql
 * as one printable line, with "..." when cut, without the mark replay puts
 * before its DDL (FMT_REPLAY_MARK). Both return out.
 * db_stmt_error() fills err from m's last error that way; returns
 * db_code(m).
 *
 * Which errors pass (sl.h "retrying what passes"): db_transient() is 1 for
 * an error that the same statement may not meet again once the server or
 * the network is back: the connection lost, refused or timed out
 * (2002 2003 2006 2013 2027 2055), the server shutting down or the session
 * killed (1053 1152 1317 1927 4031), too many connections (1040), network
 * errors the server saw (1158-1161), a deadlock or lock wait timeout (1213
 * 1205), a read-only server (1290 naming read-only, 1836), and Connector/C
 * refusing a binlog dump event it parses (5017 5020 5021: damaged in
 * transit, as a bad CRC32 is; a real one stops after --retry-for). Everything
 * else (a rejected statement, a missing table, access denied, a purged
 * binlog) stops at once. db_code() is -SL_ETRANSIENT or -SL_EDB for m's
 * last error.
 */
#define DB_SNIPPET 120
char *db_reason(const char *msg, unsigned errnum, char *out, size_t n);
char *db_sql_snippet(const char *sql, size_t len, size_t max, char *out, size_t n);
int db_stmt_error(struct sl_err *err, MYSQL *m, const char *who, const char *sql, size_t len);
int db_transient(unsigned errnum, const char *msg);
int db_code(MYSQL *m);
/* One global variable by name (SHOW GLOBAL VARIABLES LIKE: every flavor and
 * version answers it, with no row for an unknown name). *out is malloc'd,
 * or NULL when the server has no such variable. */
int db_variable(MYSQL *m, const char *who, const char *name, char **out, struct sl_err *err);
/* SET SESSION sql_mode = mode (comma-separated names, as SHOW CREATE and
 * @@sql_mode give them). A mode recorded on another flavor may name modes
 * this server does not know (MySQL's and MariaDB's lists differ): those are
 * left out, each with a warning naming it and who, the rest set. Stored
 * programs are created under their own mode this way (the snapshot's
 * SchemaObject.sql_mode). */
int db_set_sql_mode(MYSQL *m, const char *who, const char *mode, struct sl_err *err);

/* ---- the server (db_server.c) ---- */

enum db_flavor { DB_MYSQL, DB_MARIADB, DB_OCEANBASE };

struct db_server {
	enum db_flavor flavor;
	unsigned major, minor, patch;	/* 0.0.0 when the text has no version */
	char version[64];		/* as the server said it */
	char comment[128];		/* @@version_comment (db_server_detect), else "" */
};

/* From the text of version() (and @@version_comment, may be NULL): MariaDB
 * when version holds "MariaDB" (a "5.5.5-" replication prefix is skipped),
 * OceanBase when either holds "OceanBase", else MySQL. Pure. */
void db_server_parse(struct db_server *s, const char *version, const char *comment);
/* The statement that reports the binary log's current file and position. */
const char *db_binlog_status_sql(const struct db_server *s);
/* "mariadb", "mysql", "oceanbase". */
const char *db_flavor_name(enum db_flavor f);
/* The binlog dialect the server speaks: "mariadb" or "mysql" (OceanBase
 * speaks MySQL's). Stream positions record it. */
const char *db_binlog_flavor(const struct db_server *s);
int db_server_detect(MYSQL *m, const char *who, struct db_server *s, struct sl_err *err);
/* The binary log's end now: *file (malloc'd) and *pos. -SL_ECONFIG when the
 * server answers with no row (binary log off). */
int db_binlog_status(MYSQL *m, const char *who, const struct db_server *s, char **file,
		     uint64_t *pos, struct sl_err *err);

/* ---- a stream's position against the source's binlogs (db_binlogs.c) ----
 * db_binlog_has(): is FILE:POS, where a stream stands, still in the source's
 * binary logs (SHOW BINARY LOGS)? 0 when FILE is listed and POS <= its size.
 * Otherwise -SL_EPURGED with one line naming the stream's position and, by
 * the list's order (same base name, zero-padded index), the case:
 *   - FILE sorts before the oldest listed: purged (PURGE BINARY LOGS,
 *     binlog_expire_logs_seconds); the first missing file is FILE itself
 *   - FILE sorts after the newest listed, or POS is past FILE's size: the
 *     source lost binlog data it had sent (a crash without sync_binlog=1, a
 *     restore, RESET MASTER): the stream is ahead of the source
 *   - neither (another base name, a gap): FILE is not on the source
 * Nothing can be streamed from there without skipping events, so callers
 * stop (capture, its reconnect, the migrate task) and never retry it.
 * who names the server in the message ("source mysql://u@h:p/"). An empty
 * FILE (a --from-gtid stream before its first transaction) is not checked,
 * nor is a server that refuses SHOW BINARY LOGS (the dump then says it:
 * capture/cap_dump_err.c); a lost connection is -SL_EDB. */
int db_binlog_has(MYSQL *m, const char *who, const char *file, uint64_t pos, struct sl_err *err);

/* ---- server checks (db_checks.c) ----
 * One row per requirement on a server: the global variable it reads, the
 * values that pass, and what to do when it does not. Capture runs
 * db_source_checks before it streams (a DB_FAIL stops it, a DB_WARN is
 * logged); precheck will print each as pass/warn/fail with its fix. */

enum db_severity { DB_WARN, DB_FAIL };
enum db_outcome { DB_PASS, DB_WARNED, DB_FAILED };

struct db_check {
	const char *name;	/* what is checked: "binlog_format" */
	const char *variable;	/* the global variable read */
	const char *expected;	/* values that pass, '|'-separated, case-insensitive;
				 * "!a|b": every value but these passes */
	int absent_passes;	/* a server without the variable passes */
	enum db_severity severity;
	const char *fix;	/* what to do, for people */
};
extern const struct db_check db_source_checks[];
extern const size_t db_source_nchecks;

struct db_check_result {
	const struct db_check *check;
	enum db_outcome outcome;
	char value[128];	/* the server's value, "" when it has none */
	char message[384];	/* "binlog_format is STATEMENT, must be ROW (fix)" */
};
/* Does value (NULL: the server has no such variable) pass c? Pure. */
int db_check_passes(const struct db_check *c, const char *value);
/* Runs n checks on m into res[n]; 0, or < 0 when a query failed (then err).
 * Outcomes do not make it fail: the caller decides. */
int db_checks_run(MYSQL *m, const char *who, const struct db_check *checks, size_t n,
		  struct db_check_result *res, struct sl_err *err);

/* ---- triggers (db_triggers.c) ----
 * The first trigger on table schema.table (information_schema.TRIGGERS, in
 * the order the server fires them): 1 with its name in name[n], 0 when the
 * table has none, < 0 on error. Replay refuses such a destination table
 * (replay/rep_triggers.c: it would fire again on replayed rows) and
 * precheck reports it before a migration starts. */
int db_table_trigger(MYSQL *m, const char *schema, const char *table, char *name, size_t n,
		     struct sl_err *err);

/* ---- the `sluice` schema on a destination (db_schema.c) ----
 * `sluice`.`checkpoint`  one row per consumer: the stream, its cursor and
 *                        source position (replay/rep_checkpoint.c writes it);
 *                        one consumer per stream (unique `stream_id`)
 * `sluice`.`applied`     transactions committed above the checkpoint row
 * `sluice`.`snapshot_chunks`  one row per snapshot chunk loaded by replay
 *                        (stream_id of DIR/snapshot, db, tbl, chunk_index,
 *                        run, rows, restart), inserted in the transaction
 *                        that loads the chunk's rows; chunk_index
 *                        DB_CHUNK_INDEXES marks the table's deferred
 *                        indexes as created, DB_CHUNK_KEYLESS a keyless
 *                        table's snapshot position (`position`), and the
 *                        row with db = tbl = '' and DB_CHUNK_INDEXES a
 *                        snapshot loaded whole, at `position` (its end)
 * `sluice`.`skipped`    one row per transaction replay --skip left out
 *                        (replay/rep_skip.c): its cursors, GTID, source
 *                        position, row count, source commit time, who
 *                        (OS user@host) and when; committed with the
 *                        transaction's `applied` row
 * `sluice`.`switchover`  reserved for the switchover state machine (the
 *                        migrate issue): its CREATE TABLE goes into
 *                        db_sql_sluice_schema like the others, and any
 *                        change to a table made by an older sluice into
 *                        db_sluice_schema_ensure() as a migration step
 * db_sluice_schema_ensure() creates what is missing and migrates tables made
 * by an older sluice (the unique key one_consumer_per_stream, added when
 * missing; two consumers of one stream already there refuse it). The
 * statements that read and move the rows stay with their writer (replay). */
#define DB_CHUNK_INDEXES UINT64_MAX
#define DB_CHUNK_KEYLESS (UINT64_MAX - 1)
extern const char db_sql_sluice_schema[];	/* CREATE DATABASE / TABLEs, multi-statement */
int db_sluice_schema_ensure(MYSQL *m, const char *who, struct sl_err *err);

/* ---- primary-key range planning (db_range.c) ----
 * A table with a key is cut into ranges of about chunk_rows rows each. The
 * first range has no lower bound and the last none above, so rows that
 * exist only on another server compared with these ranges fall in some range
 * too. Used by verify and the snapshot reader.
 *
 * A single integer key: ranges by arithmetic over [min, max] with about
 * `rows` rows. Range i (0-based) of n is lo_i .. hi_i inclusive; the first
 * also takes every value below min and the last every value above max
 * (open_lo, open_hi). n >= 1; adjacent ranges touch with no gap. */
#define DB_DEFAULT_CHUNK_ROWS 10000
struct db_int_ranges {
	__int128 min, max, step;
	uint64_t n;
};
void db_int_ranges_plan(struct db_int_ranges *c, __int128 min, __int128 max, uint64_t rows,
			uint64_t chunk_rows);
void db_int_range(const struct db_int_ranges *c, uint64_t i, __int128 *lo, __int128 *hi,
		  int *open_lo, int *open_hi);
/* The WHERE condition of range i over the key column ident (quoted):
 * "1", "`id` <= hi", "`id` >= lo" or "`id` BETWEEN lo AND hi". */
int db_int_range_where(struct sl_buf *out, const struct db_int_ranges *c, uint64_t i,
		       const char *ident);
/* The same for planned ranges i..j (i <= j) taken as one. */
int db_int_span_where(struct sl_buf *out, const struct db_int_ranges *c, uint64_t i, uint64_t j,
		      const char *ident);
/* Plans the ranges of table (quoted `db`.`t`, schema and name unquoted for
 * information_schema) by its single integer key column ident: MIN and MAX
 * of the key and the table_rows estimate. */
int db_int_ranges_query(MYSQL *m, const char *who, const char *table, const char *schema,
			const char *name, const char *ident, uint64_t chunk_rows,
			struct db_int_ranges *c, struct sl_err *err);
/* Decimal text of v into buf (n >= 42). Returns buf. */
char *db_i128_str(__int128 v, char *buf, size_t n);

/*
 * Any other key: boundaries found by walking the table's key in order,
 * chunk_rows at a time (`SELECT key FROM t WHERE key > last ORDER BY key
 * LIMIT 1 OFFSET chunk_rows-1`). The key's literals are the caller's to
 * render (its columns' types and charsets), through lit().
 */
struct db_key {
	size_t n;		/* columns */
	const char *const *ident;	/* quoted column names */
	/* Appends the SQL literal of column k's value v (len bytes, NULL = SQL NULL). */
	int (*lit)(void *arg, size_t k, struct sl_buf *out, const char *v, unsigned long len);
	void *arg;
};
/* A key value: n columns (NULL = SQL NULL) and their lengths. */
struct db_key_val {
	char **v;
	unsigned long *len;
};
/* (key > val) (gt = 1) or (key <= val) over the whole key, expanded as
 * (a > x) OR (a = x AND b > y) ... so that any server uses the index. */
int db_key_cmp_sql(struct sl_buf *out, const struct db_key *k, const struct db_key_val *val,
		   int gt);
/* The next boundary after *last (last->v NULL: from the start): *next is
 * the key of the chunk_rows-th row, or next->v NULL when fewer rows are left
 * (the last range). */
int db_key_next_bound(MYSQL *m, const char *who, const char *table, const struct db_key *k,
		      const struct db_key_val *last, uint64_t chunk_rows, struct db_key_val *next,
		      struct sl_err *err);
/* The WHERE condition of the range (last, next]: either side may be absent
 * (v NULL); "1" when both are. */
int db_key_range_where(struct sl_buf *out, const struct db_key *k, const struct db_key_val *last,
		       const struct db_key_val *next);
void db_key_val_release(struct db_key_val *v, size_t n);

/* ---- what to migrate (db_objects.c) ----
 * db_objects_read() lists, for the include/exclude patterns (sl.h
 * sl_table_selected(); system schemas and `sluice` never): databases
 * (SHOW CREATE DATABASE), base tables (SHOW CREATE TABLE; temporary tables
 * are never in information_schema), views in dependency order (a view after
 * every view its definition names), triggers (SHOW CREATE TRIGGER), and per
 * table its columns, its key and its statistics; stored procedures and
 * functions (SHOW CREATE PROCEDURE/FUNCTION) and events (SHOW CREATE EVENT),
 * selected by the patterns as db.name. A database is listed when
 * the patterns select it as a whole or select any of its tables.
 * The key: the primary key, else the first UNIQUE key (by name) whose
 * columns are all NOT NULL and not prefixes; none: a keyless table. */
enum db_obj_kind { DB_OBJ_DATABASE, DB_OBJ_TABLE, DB_OBJ_VIEW, DB_OBJ_TRIGGER, DB_OBJ_ROUTINE,
		   DB_OBJ_EVENT };
struct db_column {
	char *name;
	char *data_type;	/* information_schema DATA_TYPE, lowercase: "varchar" */
	char *column_type;	/* COLUMN_TYPE: "int(10) unsigned", "enum('a','b')" */
	char *charset, *collation;	/* NULL for non-character columns */
	uint32_t collation_id;	/* 0 when unknown or not a character column */
	int nullable, is_unsigned;
	unsigned precision, scale;	/* NUMERIC_PRECISION/SCALE, or DATETIME_PRECISION */
	uint64_t max_len;	/* CHARACTER_MAXIMUM_LENGTH, or BIT's width */
	uint64_t octet_len;	/* CHARACTER_OCTET_LENGTH */
};
struct db_table {
	char *db, *name;
	char *create;		/* SHOW CREATE TABLE, as the server gave it */
	struct db_column *cols;
	size_t ncols;
	size_t *key;		/* key column indexes (into cols), in key order */
	size_t nkey;		/* 0: no usable key */
	uint64_t est_rows;	/* information_schema TABLE_ROWS (an estimate) */
	uint64_t avg_row_len;	/* AVG_ROW_LENGTH, 0 when unknown */
};
struct db_object {
	enum db_obj_kind kind;	/* DATABASE, VIEW or TRIGGER */
	char *db, *name;	/* name "" for DATABASE */
	char *table;		/* TRIGGER: its table, else NULL */
	char *create;		/* the server's CREATE statement */
	char *sql_mode;		/* TRIGGER, ROUTINE, EVENT: the sql_mode it was
				 * created under (its body is parsed and runs
				 * under it), as SHOW CREATE says; else NULL */
};
struct db_objects {
	struct db_object *dbs;	/* databases, by name */
	size_t ndbs;
	struct db_table *tables;	/* base tables, by db then name */
	size_t ntables;
	struct db_object *views;	/* in creation (dependency) order */
	size_t nviews;
	struct db_object *triggers;	/* by db, table, then creation order */
	size_t ntriggers;
	struct db_object *routines;	/* procedures and functions (table: "PROCEDURE"
					 * or "FUNCTION"), by db and name */
	size_t nroutines;
	struct db_object *events;	/* by db and name */
	size_t nevents;
};
int db_objects_read(MYSQL *m, const char *who, const char *include, const char *exclude,
		    struct db_objects *o, struct sl_err *err);
void db_objects_release(struct db_objects *o);
/* Orders n views (db, name, definition text) so that each comes after
 * every other it names as `db`.`name` (or `name` in its own db); a cycle
 * keeps the remaining ones in their given order. order[] gets indexes.
 * Pure (tests). */
void db_views_order(size_t n, const char *const *db, const char *const *name,
		    const char *const *def, size_t *order);

/* ---- consistent snapshots (db_snapshot.c) ----
 * db_snapshot_open() gives n connections (DB_ROLE_SNAPSHOT, already
 * connected) one view of the data and the binlog position P1 of that view:
 *   MariaDB, one connection: START TRANSACTION WITH CONSISTENT SNAPSHOT and
 *     SHOW STATUS LIKE 'binlog_snapshot_%': no lock at all;
 *   MariaDB, n > 1: the same on every connection, accepted when all report
 *     the same binlog_snapshot position (the same commits are visible in
 *     each); after 5 attempts that disagree (a busy source), as MySQL:
 *   MySQL (and the fallback): FLUSH TABLES WITH READ LOCK on ctl, START
 *     TRANSACTION WITH CONSISTENT SNAPSHOT on every connection, the binlog
 *     position (db_binlog_status()), UNLOCK TABLES: writes wait for as long
 *     as n transactions take to open (milliseconds), plus the wait for the
 *     lock itself (long-running statements finish first).
 * ctl is a connection of its own for the lock (may be the first of m only
 * when n == 1). *file is malloc'd; *gtid (malloc'd, may be "") is the
 * MariaDB GTID position of P1 (BINLOG_GTID_POS), "" elsewhere; *locked says
 * whether the global lock was taken. */
int db_snapshot_open(MYSQL *ctl, MYSQL **m, size_t n, const char *who, const struct db_server *s,
		     char **file, uint64_t *pos, char **gtid, int *locked, struct sl_err *err);
/* The source's Threads_running now. */
int db_threads_running(MYSQL *m, const char *who, uint64_t *out, struct sl_err *err);
/* The identity string of a source as capture records it in every segment
 * header: "<binlog flavor>:server_id=N:host=H:port=P". */
int db_source_identity(MYSQL *m, const char *who, const struct db_server *s, char *out,
		       size_t n, struct sl_err *err);

#endif
