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

struct ddl_toks {
	const char *s;
	size_t len;
	struct ddl_tok *v;
	size_t n, cap;
};

/* Lexes s; -SL_EFORMAT naming the offset of an unterminated string,
 * identifier or comment. */
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

#endif
