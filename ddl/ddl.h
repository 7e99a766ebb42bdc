/*
 * ddl.h - DDL text: a lexer over MySQL/MariaDB statements, and the dialect
 * rules that turn a definition from one server into one another server takes.
 *
 * Floor 3 (DESIGN.md "Folders"): uses common/ and formats/ only. The
 * snapshot (schema migration), replay (DDL captured later, and the bulk
 * load's deferred indexes) and precheck use it; nothing here talks to a
 * server.
 *
 * Dialects: a destination is MariaDB, MySQL or an OceanBase MySQL tenant,
 *   with a version (rules depend on it: MariaDB 11.4 knows some MySQL 8
 *   collations, MySQL 8.0 drops others). ddl_target_from_version() reads it
 *   from the destination's version() text (OceanBase tenants say
 *   "OceanBase" there or in @@version_comment); --dest-dialect overrides.
 *
 * Rules: one table (ddl_rules.c), each row a name ("collation-0900",
 *   "definer", "ob-index-767" ...), the dialects it applies to, and either a
 *   conversion or a refusal. ddl_convert() runs every row over one statement:
 *   - a conversion rewrites the text and calls note(ctx, rule, object, what)
 *     once per change ("utf8mb4_0900_ai_ci -> utf8mb4_unicode_520_ci: keys
 *     that were distinct may now collide"); the caller prints it as a
 *     warning and records it in the stream (SchemaObject.conversions);
 *   - a refusal returns -SL_EFORMAT with err naming the object and the rule:
 *     "table `db`.`t`: rule ob-fulltext: OceanBase cannot take FULLTEXT index `ft`".
 *   A statement the rules do not touch comes out unchanged, byte for byte;
 *   converting a converted statement changes nothing more: the table runs
 *   again, pass after pass, until a pass changes nothing (a row's edit can
 *   make work for a row before it), and a statement still changing after 8
 *   passes is refused ("the dialect rules do not settle"). Text inside
 *   strings and ordinary comments is never rewritten; executable comments
 *   (/+!NNNNN ... +/) are code. The rows and what each does: README.md
 *   "Dialect rules". Convert a CREATE TABLE before splitting it: rules
 *   such as ob-index-767 need the column definitions beside the keys.
 *
 * Tables: ddl_table_split() cuts a CREATE TABLE (as SHOW CREATE TABLE gives
 *   it) into the statement to create it with (primary key kept, and any key
 *   an AUTO_INCREMENT column needs; without a primary key, the first UNIQUE
 *   key over whole NOT NULL columns, which InnoDB clusters the table by; in
 *   a partitioned table every UNIQUE key; CHECK constraints, comments and
 *   the PARTITION BY clause stay), the secondary indexes to add after its
 *   rows are in (one ALTER TABLE ... ADD ... statement for all of them, so
 *   the server builds them in one pass), and its foreign keys (one ALTER
 *   TABLE ... ADD CONSTRAINT each, created at switchover).
 *   ddl_table_without_fks() cuts only the foreign keys off.
 *
 * Errors: 0 or a negative code (common/sl.h) with err filled.
 * Threads: no state; every function is safe from any thread.
 */
#ifndef DDL_H
#define DDL_H

#include <stddef.h>

#include "sl.h"

enum ddl_dialect { DDL_MARIADB, DDL_MYSQL, DDL_OCEANBASE };

/* Where a statement was written, when the caller knows (replay does: the
 * stream's source flavor). A MariaDB source ignored what MySQL's versioned
 * comments (/+!50700 .. /+!99999) hold, so rule mysql-comments leaves them. */
enum ddl_source { DDL_SOURCE_UNKNOWN, DDL_SOURCE_MARIADB, DDL_SOURCE_MYSQL };

struct ddl_target {
	enum ddl_dialect dialect;
	unsigned major, minor, patch;	/* 0.0.0: unknown, rules assume the oldest supported */
};

/* "mariadb", "mysql", "oceanbase". */
const char *ddl_dialect_name(enum ddl_dialect d);
/* The name as above (case-insensitive) into *d; -SL_EINVAL_ARG otherwise. */
int ddl_dialect_parse(const char *name, enum ddl_dialect *d, struct sl_err *err);
/* The destination from the text of version() and @@version_comment (may be
 * NULL). Pure. */
void ddl_target_from_version(struct ddl_target *t, const char *version, const char *comment);
/* --dest-dialect name (NULL or "": nothing) over t as the server said it:
 * t keeps its version only when name is its dialect, else 0.0.0 (the
 * oldest supported). -SL_EINVAL_ARG for an unknown name. */
int ddl_target_override(struct ddl_target *t, const char *name, struct sl_err *err);

/* A conversion made: rule name, the object ("table `db`.`t`"), what changed. */
typedef void (*ddl_note_fn)(void *ctx, const char *rule, const char *object, const char *what);

/* Converts stmt (len bytes, any DDL statement) for t into out (appended).
 * object names the statement's object in notes and errors. note may be NULL.
 * Rules that never stop changing the statement (a bug in the rule table)
 * give the error "OBJECT: " DDL_UNSETTLED " ..."; the tests look for it. */
#define DDL_UNSETTLED "the dialect rules do not settle"
int ddl_convert(const struct ddl_target *t, const char *object, const char *stmt, size_t len,
		struct sl_buf *out, ddl_note_fn note, void *ctx, struct sl_err *err);

/* What stmt creates or changes, for notes and errors: "table `db`.`t`",
 * "view `v`", "index `i`", ... qualified with db (may be NULL) when the
 * statement does not say its database; "statement" when it is none of
 * these. Into buf (n bytes). */
void ddl_describe(const char *stmt, size_t len, const char *db, char *buf, size_t n);

/* ddl_convert() for a statement written on a source of the given kind
 * (ddl_convert() is this with DDL_SOURCE_UNKNOWN). */
int ddl_convert_from(const struct ddl_target *t, enum ddl_source source, const char *object,
		     const char *stmt, size_t len, struct sl_buf *out, ddl_note_fn note, void *ctx,
		     struct sl_err *err);

/* A list of statements, each NUL-terminated and malloc'd. */
struct ddl_list {
	char **v;
	size_t n;
};
void ddl_list_release(struct ddl_list *l);

/* See "Tables" above. create is one CREATE TABLE statement; base gets the
 * statement to create the table with, *indexes the ALTER TABLE that adds
 * the deferred secondary indexes (n 0 or 1), *fks one ALTER TABLE per
 * foreign key. table is the quoted name the ALTERs use ("`db`.`t`"). */
int ddl_table_split(const char *create, size_t len, const char *table, struct sl_buf *base,
		    struct ddl_list *indexes, struct ddl_list *fks, struct sl_err *err);
/* The same cut for foreign keys only: base gets create without its FOREIGN
 * KEY clauses (every index and key stays), *fks one ALTER TABLE ... ADD
 * CONSTRAINT per foreign key, as ddl_table_split() gives them. A snapshot
 * writes the table this way; replay splits the indexes off later. */
int ddl_table_without_fks(const char *create, size_t len, const char *table, struct sl_buf *base,
			  struct ddl_list *fks, struct sl_err *err);

/* DDL under the filters and renames of formats/fmt.h (ddl_filter.c), the
 * fmt_filter_ddl_fn that capture and replay give fmt_filter_open(). The
 * statement is read by tokens (ddl_lex.c), never by string search:
 *   understood: CREATE/ALTER/DROP TABLE (with LIKE, REFERENCES, ALTER ...
 *     RENAME TO), CREATE/DROP INDEX ... ON, RENAME TABLE a TO b, ...,
 *     TRUNCATE [TABLE], CREATE/ALTER/DROP DATABASE|SCHEMA. Each table it
 *     names is placed in its database (the default one db when the name
 *     has none) and decided by fmt_filter_table(): all left out, the
 *     statement is dropped; all kept, the renamed ones are rewritten
 *     (`newdb`.`newt` when the database changes, else `newt`, quoted); some
 *     kept and some left out, an error that names one of each (a statement
 *     cannot be split);
 *   any other DDL (views, routines, events, triggers ...): dropped when its
 *     default database is left out as a whole, else it passes with its
 *     qualified names `db`.`t` renamed by the map; unqualified names inside
 *     it are not seen.
 * The default database is renamed by the map's database entries; when it
 * is left out as a whole, a kept statement runs without one (*out_db "").
 * Returns 1 (kept: out gets the statement, NUL-terminated; *out_db
 * malloc'd), 0 (dropped) or a negative code with err. */
struct fmt_filter;
int ddl_filter_stmt(const struct fmt_filter *f, const char *db, const char *stmt,
		    struct sl_buf *out, char **out_db, struct sl_err *err);

#endif
