/*
 * ddl_int.h - shared by the files of ddl/ only: the token list of one statement, the
 * edits the rules make to it, and the statement's structure.
 *
 * Calling sequence: ddl__lex() -> ddl__parse() -> rules read tokens and add
 *   edits (ddl__edit_*) -> ddl__edits_apply() writes the new text. Tokens
 *   point into the statement (offsets), never copy it.
 * Files, bottom up: ddl_lex.c (tokens, edits) <- ddl_parse.c (structure)
 *   <- ddl_rules.c (the rule table, ddl_convert) and ddl_split.c.
 */
#ifndef DDL_INT_H
#define DDL_INT_H

#include <stddef.h>

#include "ddl.h"

/* ---- tokens (ddl_lex.c) ----
 * Whitespace and comments are not tokens. An executable comment
 * (/+!NNNNN ... +/, /+M!NNNNNN ... +/) is code: its opener and closer are
 * skipped and the tokens inside carry group = its number (1, 2, ...);
 * tokens outside have group 0. */
enum ddl_tk {
	DDL_TK_WORD,	/* keyword or unquoted identifier: letters, digits, _ $ */
	DDL_TK_QIDENT,	/* `back quoted`, `` inside */
	DDL_TK_STRING,	/* '..' ".." and X'..' B'..' N'..' (prefix included) */
	DDL_TK_NUMBER,
	DDL_TK_PUNCT,	/* one character; @ included; also := <= >= != <> */
	DDL_TK_VAR,	/* @name or @@name (user or system variable) */
};

struct ddl_tok {
	enum ddl_tk kind;
	unsigned group;
	size_t off, len;
};

/* An executable comment: group number i + 1 is v[i]. */
struct ddl_group {
	size_t open, open_len;	/* "/+!80016" */
	size_t close;		/* offset of its closing "+/", len when it has none */
	unsigned long version;	/* NNNNN; 0 without */
	int mariadb;		/* /+M!: MariaDB's own */
};

struct ddl_toks {
	const char *s;
	size_t len;
	struct ddl_tok *v;
	size_t n, cap;
	struct ddl_group *g;
	size_t ng;
};

/* Lexes s (a backslash escapes in strings; when that leaves a string
 * unterminated, as NO_BACKSLASH_ESCAPES reads it); -SL_EFORMAT naming the
 * offset of an unterminated string, identifier or comment. */
int ddl__lex(const char *s, size_t len, struct ddl_toks *t, struct sl_err *err);
void ddl__toks_release(struct ddl_toks *t);

/* Token i is the word w (case-insensitive); 0 when i >= n. */
int ddl__is(const struct ddl_toks *t, size_t i, const char *w);
/* Token i is the punctuation c. */
int ddl__isp(const struct ddl_toks *t, size_t i, char c);
/* Token i names something: a word or a back-quoted identifier. */
int ddl__is_name(const struct ddl_toks *t, size_t i);
/* The name token i stands for (unquoted, `` undone) into buf (size n). */
const char *ddl__name(const struct ddl_toks *t, size_t i, char *buf, size_t n);
/* The index after the parenthesis group opening at i ('('), or n. */
size_t ddl__skip_group(const struct ddl_toks *t, size_t i);
/* The text of token i as a NUL-terminated copy in buf. */
const char *ddl__text(const struct ddl_toks *t, size_t i, char *buf, size_t n);

/* ---- edits (ddl_lex.c) ---- */
struct ddl_edit {
	size_t off, len;	/* bytes of the statement replaced */
	char *text;		/* malloc'd replacement, "" to remove */
};

struct ddl_edits {
	struct ddl_edit *v;
	size_t n, cap;
};

/* Replace the bytes [off, off + len) by text. */
void ddl__edit_bytes(struct ddl_edits *e, size_t off, size_t len, const char *text);
/* Replace tokens [a, b] (inclusive) by text. */
void ddl__edit_replace(struct ddl_edits *e, const struct ddl_toks *t, size_t a, size_t b,
		       const char *text);
/* Insert text right after token a. */
void ddl__edit_after(struct ddl_edits *e, const struct ddl_toks *t, size_t a, const char *text);
/* Remove tokens [a, b] with the whitespace before them (after them when
 * there is none before). */
void ddl__edit_remove(struct ddl_edits *e, const struct ddl_toks *t, size_t a, size_t b);
/* The statement with the edits applied, appended to out (overlapping edits:
 * the first one wins). */
int ddl__edits_apply(const struct ddl_edits *e, const char *s, size_t len, struct sl_buf *out);
void ddl__edits_release(struct ddl_edits *e);
/* Every edit of from appended to to; from left empty. */
void ddl__edits_move(struct ddl_edits *to, struct ddl_edits *from);

/* ---- structure (ddl_parse.c) ---- */
enum ddl_kind {
	DDL_K_OTHER,
	DDL_K_CREATE_TABLE,
	DDL_K_ALTER_TABLE,
	DDL_K_CREATE_INDEX,
	DDL_K_VIEW,		/* CREATE/ALTER VIEW */
	DDL_K_TRIGGER,
	DDL_K_ROUTINE,		/* PROCEDURE, FUNCTION */
	DDL_K_EVENT,
	DDL_K_SEQUENCE,		/* CREATE/ALTER SEQUENCE, CREATE TABLE ... SEQUENCE=1 */
	DDL_K_DATABASE,		/* CREATE/ALTER DATABASE|SCHEMA */
};

enum ddl_part_kind {
	DDL_P_COLUMN,		/* first: the column's name, first + 1: its type */
	DDL_P_PRIMARY,
	DDL_P_UNIQUE,
	DDL_P_INDEX,		/* KEY / INDEX */
	DDL_P_FULLTEXT,
	DDL_P_SPATIAL,
	DDL_P_FOREIGN,
	DDL_P_CHECK,
	DDL_P_PERIOD,
	DDL_P_OTHER,		/* ALTER: DROP, RENAME, a table option ... */
};

struct ddl_part {
	enum ddl_part_kind kind;
	size_t first, end;	/* tokens [first, end); ALTER: after ADD/MODIFY/CHANGE x */
	size_t keys;		/* index kinds: the '(' of the key parts, or 0 */
};

struct ddl_stmt {
	struct ddl_toks t;
	enum ddl_kind kind;
	size_t name, name_end;	/* the object's name: tokens [name, name_end) */
	size_t open, close;	/* CREATE TABLE: ( and ) of the definitions; 0 when none */
	size_t opts, opts_end;	/* table options: tokens [opts, opts_end) (CREATE TABLE) */
	size_t partition;	/* CREATE TABLE: PARTITION of PARTITION BY, or 0 */
	struct ddl_part *parts;
	size_t nparts;
};

int ddl__parse(const char *s, size_t len, struct ddl_stmt *st, struct sl_err *err);
void ddl__stmt_release(struct ddl_stmt *st);

/* ---- rules (ddl_rx.c helpers, ddl_rules_ob.c, ddl_rules.c) ---- */
#define DDL_D_MARIADB (1u << DDL_MARIADB)
#define DDL_D_MYSQL (1u << DDL_MYSQL)
#define DDL_D_OB (1u << DDL_OCEANBASE)
#define DDL_D_ALL (DDL_D_MARIADB | DDL_D_MYSQL | DDL_D_OB)

struct ddl_rule;

/* What a rule function sees: the statement, where it writes its edits, and
 * how it reports. */
struct ddl_rx {
	const struct ddl_target *t;
	enum ddl_source source;
	const char *object;
	const struct ddl_rule *r;
	struct ddl_stmt *st;
	struct ddl_toks *k;	/* &st->t */
	struct ddl_edits *ed;
	ddl_note_fn note;
	void *ctx;
	struct sl_err *err;
	char noted[8][400];	/* the notes made by this rule on this statement */
	unsigned nnoted;
};

struct ddl_rule {
	const char *name;
	unsigned dialects;
	int (*fn)(struct ddl_rx *x);
};


/* One note per distinct change (not per column) to x->note. */
void ddl__note(struct ddl_rx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* -SL_EFORMAT: "<object>: rule <name>: <what>". */
int ddl__refuse(struct ddl_rx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *ddl__target_name(const struct ddl_target *t);	/* "MariaDB" ... */
/* The target's version is known and >= a.b.c. */
int ddl__ver_ge(const struct ddl_target *t, unsigned a, unsigned b, unsigned c);
int ddl__ends_with(const char *s, const char *tail);		/* case-insensitive */
int ddl__is_index(enum ddl_part_kind k);
/* The name of the index of part p ("PRIMARY" for the primary key). */
const char *ddl__index_name(const struct ddl_rx *x, const struct ddl_part *p, char *buf, size_t n);
/* The column definition named name in a CREATE TABLE, or NULL. */
const struct ddl_part *ddl__column(const struct ddl_rx *x, const char *name);
/* The token index of word w in [a, b) at depth 0, or b. */
size_t ddl__find_word(const struct ddl_toks *k, size_t a, size_t b, const char *w);
/* cb for each key part of index p: tokens [a, b) ("`c`(10) DESC"); stops
 * on a non-zero return. */
int ddl__each_key_part(struct ddl_rx *x, const struct ddl_part *p,
		       int (*cb)(struct ddl_rx *x, const struct ddl_part *p, size_t a, size_t b));
/* cb for each column definition of a CREATE/ALTER TABLE with its type token. */
int ddl__each_column(struct ddl_rx *x, int (*cb)(struct ddl_rx *x, const struct ddl_part *p, size_t ty));

/* OceanBase rules (ddl_rules_ob.c), rows of the table in ddl_rules.c. */
int ddl__rule_ob_fulltext(struct ddl_rx *x);
int ddl__rule_ob_index_desc(struct ddl_rx *x);
int ddl__rule_ob_index_767(struct ddl_rx *x);
int ddl__rule_ob_fk_cascade(struct ddl_rx *x);
int ddl__rule_ob_float_pk(struct ddl_rx *x);

#endif
