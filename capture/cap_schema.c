/* cap_schema.c - the columns of tables (names and types), as the stream's own DDL defines them. */
/*
 * When a TABLE_MAP carries no column names (servers before MySQL 8.0.1 /
 * MariaDB 10.5, or binlog_row_metadata=MINIMAL), the decoder asks this
 * history. It starts from what the caller knows (live capture: every
 * table's columns from information_schema at capture start; files: nothing)
 * and then applies every DDL statement of the stream, in order, so a past
 * event is always named by the schema of its time, never the live one.
 * Each column also keeps its type (a descriptor from cap_coltype.c, or
 * unknown), which the decoder checks every TABLE_MAP against before it
 * lends the names (cap__tablemap_check()): a history that does not describe
 * the event's row is never used to label it.
 *
 * The parser is small and honest. It understands:
 *   CREATE TABLE [IF NOT EXISTS] t (col ..., col ..., KEY/INDEX/PRIMARY/
 *     UNIQUE/CONSTRAINT/FOREIGN/FULLTEXT/SPATIAL/CHECK/PERIOD ...)
 *   CREATE TABLE t LIKE u
 *   ALTER TABLE t ADD [COLUMN] c ... [FIRST | AFTER c], ADD [COLUMN] (c ..., ...),
 *     DROP [COLUMN] [IF EXISTS] c, CHANGE [COLUMN] [IF EXISTS] old new ...,
 *     MODIFY [COLUMN] c ... [FIRST | AFTER c], RENAME COLUMN a TO b,
 *     RENAME [TO | AS] u, and any index, key, constraint, option or
 *     partition clause (no column change)
 *   RENAME TABLE a TO b [, c TO d ...], DROP TABLE [IF EXISTS] a [, b ...],
 *   DROP DATABASE / SCHEMA d
 * Names may be quoted with backquotes and qualified with a schema.
 * Limits: a statement it cannot follow (CREATE TABLE ... SELECT without a
 * column list, an ALTER clause it does not know, executable comments that
 * change columns) makes the table unknown rather than wrong: its rows then
 * stop capture with an error naming the table (or get positional names
 * with --allow-positional). Table names compare case-sensitively, as on
 * Linux servers with lower_case_table_names=0.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cap_int.h"
#include "banned.h"

#define MAX_TABLES 100000

struct stable {
	char *db, *name;
	char **cols;
	char **types;		/* per column: descriptor or NULL */
	size_t n;
	uint64_t gen;
};

struct cap_schema {
	struct stable *t;
	size_t n, cap;
	uint64_t gen;
};

struct cap_schema *cap__schema_new(void)
{
	return sl_xcalloc(1, sizeof(struct cap_schema));
}

static void table_clear(struct stable *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->cols[i]);
		free(t->types[i]);
	}
	free(t->cols);
	free(t->types);
	t->cols = NULL;
	t->types = NULL;
	t->n = 0;
}

void cap__schema_free(struct cap_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		table_clear(&s->t[i]);
		free(s->t[i].db);
		free(s->t[i].name);
	}
	free(s->t);
	free(s);
}

static struct stable *find(const struct cap_schema *s, const char *db, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->t[i].db, db) == 0 && strcmp(s->t[i].name, name) == 0)
			return &s->t[i];
	return NULL;
}

static struct stable *get(struct cap_schema *s, const char *db, const char *name)
{
	struct stable *t = find(s, db, name);

	if (t)
		return t;
	if (s->n >= MAX_TABLES)
		return NULL;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->t = sl_xrealloc(s->t, s->cap * sizeof(*s->t));
	}
	t = &s->t[s->n++];
	memset(t, 0, sizeof(*t));
	t->db = sl_xstrdup(db);
	t->name = sl_xstrdup(name);
	return t;
}

static void drop(struct cap_schema *s, const char *db, const char *name)
{
	struct stable *t = find(s, db, name);

	if (!t)
		return;
	table_clear(t);
	free(t->db);
	free(t->name);
	*t = s->t[--s->n];
}

void cap__schema_set(struct cap_schema *s, const char *db, const char *name,
		     const char *const *cols, const char *const *types, size_t n)
{
	struct stable *t = get(s, db, name);

	if (!t)
		return;
	table_clear(t);
	t->cols = sl_xcalloc(n ? n : 1, sizeof(char *));
	t->types = sl_xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		t->cols[i] = sl_xstrdup(cols[i]);
		t->types[i] = types && types[i] && types[i][0] ? sl_xstrdup(types[i]) : NULL;
	}
	t->n = n;
	t->gen = ++s->gen;
}

const char *const *cap__schema_columns(const struct cap_schema *s, const char *db,
				       const char *name, size_t *n, uint64_t *gen)
{
	const struct stable *t = s ? find(s, db, name) : NULL;

	if (!t || t->n == 0)
		return NULL;
	*n = t->n;
	*gen = t->gen;
	return (const char *const *)t->cols;
}

const char *const *cap__schema_types(const struct cap_schema *s, const char *db,
				     const char *name)
{
	const struct stable *t = s ? find(s, db, name) : NULL;

	return t && t->n ? (const char *const *)t->types : NULL;
}

int cap__schema_table(const struct cap_schema *s, size_t i, const char **db, const char **name,
		      const char *const **cols, const char *const **types, size_t *n)
{
	if (i >= s->n)
		return 0;
	*db = s->t[i].db;
	*name = s->t[i].name;
	*cols = (const char *const *)s->t[i].cols;
	*types = (const char *const *)s->t[i].types;
	*n = s->t[i].n;
	return 1;
}

/* ---- a tokenizer for just enough SQL ---- */

enum tok { T_END, T_WORD, T_QUOTED, T_STR, T_PUNCT };

struct lex {
	const char *p, *end;
	const char *tok;	/* where the current token starts */
	enum tok t;
	char text[256];		/* identifier (unquoted) or punctuation */
	int truncated;
};

static void skip_space(struct lex *l)
{
	for (;;) {
		while (l->p < l->end && isspace((unsigned char)*l->p))
			l->p++;
		if (l->end - l->p >= 2 && l->p[0] == '/' && l->p[1] == '*') {
			if (l->end - l->p >= 3 && l->p[2] == '!') {
				/* executable comment: its body is code */
				l->p += 3;
				while (l->p < l->end && isdigit((unsigned char)*l->p))
					l->p++;
				continue;
			}
			l->p += 2;
			while (l->end - l->p >= 2 && !(l->p[0] == '*' && l->p[1] == '/'))
				l->p++;
			l->p = l->end - l->p >= 2 ? l->p + 2 : l->end;
			continue;
		}
		if (l->end - l->p >= 2 && l->p[0] == '*' && l->p[1] == '/') {
			l->p += 2;	/* end of an executable comment */
			continue;
		}
		if (l->p < l->end && (*l->p == '#' ||
				      (l->end - l->p >= 3 && l->p[0] == '-' && l->p[1] == '-' &&
				       isspace((unsigned char)l->p[2])))) {
			while (l->p < l->end && *l->p != '\n')
				l->p++;
			continue;
		}
		return;
	}
}

static enum tok next(struct lex *l)
{
	size_t n = 0;

	skip_space(l);
	l->tok = l->p;
	l->text[0] = 0;
	l->truncated = 0;
	if (l->p >= l->end)
		return l->t = T_END;
	if (*l->p == '`') {
		l->p++;
		while (l->p < l->end) {
			if (*l->p == '`') {
				if (l->end - l->p >= 2 && l->p[1] == '`') {
					l->p++;
				} else {
					l->p++;
					break;
				}
			}
			if (n + 1 < sizeof(l->text))
				l->text[n++] = *l->p;
			else
				l->truncated = 1;
			l->p++;
		}
		l->text[n] = 0;
		return l->t = T_QUOTED;
	}
	if (*l->p == '\'' || *l->p == '"') {
		char q = *l->p++;

		while (l->p < l->end && *l->p != q) {
			if (*l->p == '\\' && l->end - l->p >= 2)
				l->p++;
			l->p++;
		}
		if (l->p < l->end)
			l->p++;
		return l->t = T_STR;
	}
	if (isalnum((unsigned char)*l->p) || *l->p == '_' || *l->p == '$' || (unsigned char)*l->p >= 0x80) {
		while (l->p < l->end && (isalnum((unsigned char)*l->p) || *l->p == '_' || *l->p == '$' ||
					 (unsigned char)*l->p >= 0x80)) {
			if (n + 1 < sizeof(l->text))
				l->text[n++] = *l->p;
			else
				l->truncated = 1;
			l->p++;
		}
		l->text[n] = 0;
		return l->t = T_WORD;
	}
	l->text[0] = *l->p++;
	l->text[1] = 0;
	return l->t = T_PUNCT;
}

static int is_kw(const struct lex *l, const char *kw)
{
	return l->t == T_WORD && strcasecmp(l->text, kw) == 0;
}

static int is_p(const struct lex *l, char c)
{
	return l->t == T_PUNCT && l->text[0] == c;
}

static int is_ident(const struct lex *l)
{
	return (l->t == T_WORD || l->t == T_QUOTED) && !l->truncated;
}

/* [db.]name at the current token; advances past it. */
static int table_name(struct lex *l, const char *dflt, char *db, size_t dbn, char *name, size_t nn)
{
	if (!is_ident(l))
		return -1;
	snprintf(name, nn, "%s", l->text);
	snprintf(db, dbn, "%s", dflt ? dflt : "");
	next(l);
	if (is_p(l, '.')) {
		next(l);
		if (!is_ident(l))
			return -1;
		snprintf(db, dbn, "%s", name);
		snprintf(name, nn, "%s", l->text);
		next(l);
	}
	return db[0] ? 0 : -1;
}

/* Skip to the ',' or ')' that ends the current item at depth 0 (not consumed). */
static void skip_item(struct lex *l)
{
	int depth = 0;

	while (l->t != T_END) {
		if (is_p(l, '('))
			depth++;
		else if (is_p(l, ')')) {
			if (depth == 0)
				return;
			depth--;
		} else if (is_p(l, ',') && depth == 0)
			return;
		next(l);
	}
}

/* Does an index/constraint clause start here (not a column definition)?
 * The reserved words need no look-ahead; PERIOD and VECTOR are not
 * reserved, so "PERIOD FOR" and "VECTOR INDEX/KEY" are checked. */
static int is_constraint_start(const struct lex *l)
{
	static const char *const kws[] = { "PRIMARY", "KEY", "INDEX", "UNIQUE", "CONSTRAINT",
					   "FOREIGN", "FULLTEXT", "SPATIAL", "CHECK", NULL };
	struct lex peek;

	if (l->t != T_WORD)
		return 0;
	for (size_t i = 0; kws[i]; i++)
		if (strcasecmp(l->text, kws[i]) == 0)
			return 1;
	if (strcasecmp(l->text, "PERIOD") && strcasecmp(l->text, "VECTOR"))
		return 0;
	peek = *l;
	next(&peek);
	return is_kw(&peek, "FOR") || is_kw(&peek, "INDEX") || is_kw(&peek, "KEY");
}

/* A growable list of column names, with their type descriptors (or NULL). */
struct cols {
	char **v;
	char **t;
	size_t n;
};

static void cols_free(struct cols *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i]);
		free(c->t[i]);
	}
	free(c->v);
	free(c->t);
	c->v = NULL;
	c->t = NULL;
	c->n = 0;
}

static int cols_find(const struct cols *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcasecmp(c->v[i], name) == 0)	/* column names are case-insensitive */
			return (int)i;
	return -1;
}

/* Insert name at position at; type (a descriptor, or NULL) is taken over. */
static int cols_insert(struct cols *c, size_t at, const char *name, char *type)
{
	if (c->n >= CAP_SCHEMA_MAX_COLS || at > c->n) {
		free(type);
		return -1;
	}
	c->v = sl_xrealloc(c->v, (c->n + 1) * sizeof(char *));
	c->t = sl_xrealloc(c->t, (c->n + 1) * sizeof(char *));
	memmove(c->v + at + 1, c->v + at, (c->n - at) * sizeof(char *));
	memmove(c->t + at + 1, c->t + at, (c->n - at) * sizeof(char *));
	c->v[at] = sl_xstrdup(name);
	c->t[at] = type;
	c->n++;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? sl_xstrdup(s) : NULL;
}

/* The columns of a table in the history, as a list to edit. */
static void cols_load(struct cols *c, const char *const *names, const char *const *types, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cols_insert(c, c->n, names[i], dup_or_null(types ? types[i] : NULL));
}

static void cols_remove(struct cols *c, size_t at)
{
	free(c->v[at]);
	free(c->t[at]);
	memmove(c->v + at, c->v + at + 1, (c->n - at - 1) * sizeof(char *));
	memmove(c->t + at, c->t + at + 1, (c->n - at - 1) * sizeof(char *));
	c->n--;
}

/* The type descriptor of a column definition from start to the current token. */
static char *def_type(const struct lex *l, const char *start)
{
	return l->tok > start ? cap__coltype_norm(start, (size_t)(l->tok - start), 0) : NULL;
}

/* Column definitions "(a INT, b TEXT, KEY (a))"; the '(' is the current token. */
static int parse_col_list(struct lex *l, struct cols *c)
{
	next(l);
	while (l->t != T_END) {
		if (is_constraint_start(l)) {
			skip_item(l);
		} else if (is_ident(l)) {
			char col[256];
			const char *start;

			snprintf(col, sizeof(col), "%s", l->text);
			next(l);
			start = l->tok;
			skip_item(l);
			if (cols_insert(c, c->n, col, def_type(l, start)) < 0)
				return -1;
		} else {
			return -1;
		}
		if (is_p(l, ')'))
			return 0;
		if (!is_p(l, ','))
			return -1;
		next(l);
	}
	return -1;
}

static void set_cols(struct cap_schema *s, const char *db, const char *name, const struct cols *c)
{
	cap__schema_set(s, db, name, (const char *const *)c->v, (const char *const *)c->t, c->n);
}

/* Position for ADD/CHANGE/MODIFY: FIRST, AFTER x, or the end (-1: unknown x).
 * Scans the rest of the clause, which ends at a ',' at depth 0 or the end. */
static long clause_position(struct lex *l, const struct cols *c, long dflt)
{
	long at = dflt;
	int depth = 0;

	while (l->t != T_END) {
		if (is_p(l, '('))
			depth++;
		else if (is_p(l, ')'))
			depth--;
		else if (is_p(l, ',') && depth <= 0)
			break;
		else if (depth == 0 && is_kw(l, "FIRST"))
			at = 0;
		else if (depth == 0 && is_kw(l, "AFTER")) {
			int k;

			next(l);
			if (!is_ident(l) || (k = cols_find(c, l->text)) < 0)
				return -1;
			at = k + 1;
		}
		next(l);
	}
	return at;
}

static void skip_optional(struct lex *l, const char *kw)
{
	if (is_kw(l, kw))
		next(l);
}

static void skip_if_exists(struct lex *l)
{
	if (is_kw(l, "IF")) {
		next(l);
		skip_optional(l, "NOT");
		skip_optional(l, "EXISTS");
	}
}

/* One ALTER TABLE clause; the current token is its first word. 0, or -1
 * when the clause is not understood. */
static int alter_clause(struct lex *l, struct cols *c, struct cap_schema *s, char *db, size_t dbn,
			char *name, size_t nn)
{
	if (is_kw(l, "ADD")) {
		next(l);
		if (is_constraint_start(l) || is_kw(l, "PARTITION")) {
			skip_item(l);
			return 0;
		}
		skip_optional(l, "COLUMN");
		skip_if_exists(l);
		if (is_p(l, '(')) {
			if (parse_col_list(l, c) < 0)
				return -1;
			next(l);
			return 0;
		}
		if (!is_ident(l))
			return -1;
		{
			char col[256];
			const char *start;
			long at;

			snprintf(col, sizeof(col), "%s", l->text);
			next(l);
			start = l->tok;
			at = clause_position(l, c, (long)c->n);
			if (at < 0)
				return -1;
			if (cols_find(c, col) >= 0)
				return 0;	/* ADD COLUMN IF NOT EXISTS of an existing one */
			return cols_insert(c, (size_t)at, col, def_type(l, start));
		}
	}
	if (is_kw(l, "DROP")) {
		int k;

		next(l);
		if (is_constraint_start(l) || is_kw(l, "PARTITION") || is_kw(l, "SYSTEM")) {
			skip_item(l);
			return 0;
		}
		skip_optional(l, "COLUMN");
		if (is_kw(l, "IF")) {
			next(l);
			skip_optional(l, "EXISTS");
		}
		if (!is_ident(l))
			return -1;
		k = cols_find(c, l->text);
		if (k >= 0)
			cols_remove(c, (size_t)k);
		next(l);
		skip_item(l);
		return 0;
	}
	if (is_kw(l, "CHANGE") || is_kw(l, "MODIFY")) {
		int change = is_kw(l, "CHANGE"), k;
		char col[256], to[256];
		const char *start;
		long at;

		next(l);
		skip_optional(l, "COLUMN");
		skip_if_exists(l);
		if (!is_ident(l) || (k = cols_find(c, l->text)) < 0)
			return -1;
		snprintf(col, sizeof(col), "%s", l->text);
		snprintf(to, sizeof(to), "%s", l->text);
		next(l);
		if (change) {
			if (!is_ident(l))
				return -1;
			snprintf(to, sizeof(to), "%s", l->text);
			next(l);
		}
		cols_remove(c, (size_t)k);
		start = l->tok;
		at = clause_position(l, c, k);
		if (at < 0)
			return -1;
		return cols_insert(c, (size_t)at, to, def_type(l, start));
	}
	if (is_kw(l, "RENAME")) {
		next(l);
		if (is_kw(l, "COLUMN")) {
			int k;

			next(l);
			if (!is_ident(l) || (k = cols_find(c, l->text)) < 0)
				return -1;
			next(l);
			if (!is_kw(l, "TO"))
				return -1;
			next(l);
			if (!is_ident(l))
				return -1;
			free(c->v[k]);
			c->v[k] = sl_xstrdup(l->text);
			next(l);
			return 0;
		}
		if (is_kw(l, "INDEX") || is_kw(l, "KEY")) {
			skip_item(l);
			return 0;
		}
		if (is_kw(l, "TO") || is_kw(l, "AS"))
			next(l);
		{
			char ndb[256], nname[256];

			if (table_name(l, db, ndb, sizeof(ndb), nname, sizeof(nname)) < 0)
				return -1;
			drop(s, db, name);
			snprintf(db, dbn, "%s", ndb);
			snprintf(name, nn, "%s", nname);
		}
		return 0;
	}
	/* ALTER [COLUMN] c SET/DROP DEFAULT, options, ENGINE=, CONVERT TO,
	 * ALGORITHM=, LOCK=, FORCE, ORDER BY, partition maintenance, ...:
	 * no change to the list of columns. */
	{
		static const char *const ok[] = { "ALTER", "ENGINE", "DEFAULT", "CHARACTER", "CHARSET",
						  "COLLATE", "CONVERT", "ALGORITHM", "LOCK", "FORCE",
						  "ORDER", "COMMENT", "AUTO_INCREMENT", "ROW_FORMAT",
						  "KEY_BLOCK_SIZE", "STATS_PERSISTENT", "STATS_AUTO_RECALC",
						  "STATS_SAMPLE_PAGES", "PACK_KEYS", "CHECKSUM",
						  "ENABLE", "DISABLE", "DISCARD", "IMPORT", "TRUNCATE",
						  "COALESCE", "REORGANIZE", "EXCHANGE", "ANALYZE", "CHECK",
						  "OPTIMIZE", "REBUILD", "REPAIR", "REMOVE", "PARTITION",
						  "PARTITIONS", "UPGRADE", "WITH", "WITHOUT", "VALIDATION",
						  "ENCRYPTION", "COMPRESSION", "INSERT_METHOD", "MAX_ROWS",
						  "MIN_ROWS", "TABLESPACE", "SECONDARY_ENGINE",
						  "PAGE_CHECKSUM", "TRANSACTIONAL", "STATS_PERSISTENT", NULL };

		for (size_t i = 0; ok[i]; i++)
			if (is_kw(l, ok[i])) {
				if (is_kw(l, "CONVERT")) {
					/* new charset: character columns' byte lengths
					 * (and TEXT sizes) change: their types become
					 * unknown, never wrong */
					for (size_t k = 0; k < c->n; k++)
						if (c->t[k] && cap__coltype_is_character(c->t[k])) {
							free(c->t[k]);
							c->t[k] = NULL;
						}
				}
				if (is_kw(l, "ALTER")) {
					/* ALTER [COLUMN] c ...: must name a known column
					 * unless it is ALTER INDEX / CHECK / CONSTRAINT */
					next(l);
				}
				skip_item(l);
				return 0;
			}
	}
	return -1;
}

int cap__schema_apply(struct cap_schema *s, const char *dflt_db, const char *stmt, size_t n)
{
	struct lex l = { stmt, stmt + n, stmt, T_END, { 0 }, 0 };
	char db[256], name[256];

	next(&l);
	if (is_kw(&l, "CREATE")) {
		next(&l);
		if (is_kw(&l, "OR")) {		/* CREATE OR REPLACE TABLE (MariaDB) */
			next(&l);
			skip_optional(&l, "REPLACE");
		}
		skip_optional(&l, "TEMPORARY");
		if (!is_kw(&l, "TABLE"))
			return 0;
		next(&l);
		skip_if_exists(&l);
		if (table_name(&l, dflt_db, db, sizeof(db), name, sizeof(name)) < 0)
			return 0;
		if (is_kw(&l, "LIKE") || (is_p(&l, '(') && (next(&l), is_kw(&l, "LIKE")))) {
			char sdb[256], sname[256];
			const char *const *src;
			size_t sn;
			uint64_t gen;

			next(&l);
			if (table_name(&l, dflt_db, sdb, sizeof(sdb), sname, sizeof(sname)) == 0 &&
			    (src = cap__schema_columns(s, sdb, sname, &sn, &gen)) != NULL) {
				struct cols c = { NULL, NULL, 0 };

				cols_load(&c, src, cap__schema_types(s, sdb, sname), sn);
				set_cols(s, db, name, &c);
				cols_free(&c);
			} else {
				drop(s, db, name);
			}
			return 1;
		}
		if (l.t == T_END || !(is_p(&l, '(') || l.t == T_WORD || l.t == T_QUOTED)) {
			drop(s, db, name);
			return 1;
		}
		/* we may have consumed the '(' while looking for LIKE: restart */
		l.p = stmt;
		l.end = stmt + n;
		while (next(&l) != T_END && !is_p(&l, '('))
			;
		{
			struct cols c = { NULL, NULL, 0 };

			if (is_p(&l, '(') && parse_col_list(&l, &c) == 0 && c.n > 0)
				set_cols(s, db, name, &c);
			else
				drop(s, db, name);	/* CREATE ... SELECT etc.: unknown */
			cols_free(&c);
		}
		return 1;
	}
	if (is_kw(&l, "ALTER")) {
		const char *const *cur;
		struct cols c = { NULL, NULL, 0 };
		size_t cn;
		uint64_t gen;
		int ok = 0;

		next(&l);
		skip_optional(&l, "ONLINE");
		skip_optional(&l, "IGNORE");
		if (!is_kw(&l, "TABLE"))
			return 0;
		next(&l);
		skip_if_exists(&l);
		if (table_name(&l, dflt_db, db, sizeof(db), name, sizeof(name)) < 0)
			return 0;
		cur = cap__schema_columns(s, db, name, &cn, &gen);
		if (!cur) {
			/* unknown before: still follow a rename */
			if (is_kw(&l, "RENAME")) {
				drop(s, db, name);
				return 1;
			}
			return 0;
		}
		cols_load(&c, cur, cap__schema_types(s, db, name), cn);
		for (;;) {
			if (l.t == T_END) {
				ok = 1;
				break;
			}
			if (alter_clause(&l, &c, s, db, sizeof(db), name, sizeof(name)) < 0)
				break;
			if (l.t == T_END) {
				ok = 1;
				break;
			}
			if (!is_p(&l, ','))
				break;
			next(&l);
		}
		if (ok && c.n > 0)
			set_cols(s, db, name, &c);
		else
			drop(s, db, name);
		cols_free(&c);
		return 1;
	}
	if (is_kw(&l, "RENAME")) {
		next(&l);
		if (!is_kw(&l, "TABLE") && !is_kw(&l, "TABLES"))
			return 0;
		next(&l);
		for (;;) {
			char ndb[256], nname[256];
			const char *const *cur;
			size_t cn;
			uint64_t gen;

			if (table_name(&l, dflt_db, db, sizeof(db), name, sizeof(name)) < 0)
				return 1;
			if (!is_kw(&l, "TO"))
				return 1;
			next(&l);
			if (table_name(&l, dflt_db, ndb, sizeof(ndb), nname, sizeof(nname)) < 0) {
				drop(s, db, name);
				return 1;
			}
			cur = cap__schema_columns(s, db, name, &cn, &gen);
			if (cur) {
				struct cols c = { NULL, NULL, 0 };

				cols_load(&c, cur, cap__schema_types(s, db, name), cn);
				drop(s, db, name);
				set_cols(s, ndb, nname, &c);
				cols_free(&c);
			} else {
				drop(s, ndb, nname);
			}
			if (!is_p(&l, ','))
				return 1;
			next(&l);
		}
	}
	if (is_kw(&l, "DROP")) {
		next(&l);
		skip_optional(&l, "TEMPORARY");
		if (is_kw(&l, "DATABASE") || is_kw(&l, "SCHEMA")) {
			next(&l);
			skip_if_exists(&l);
			if (!is_ident(&l))
				return 0;
			for (size_t i = s->n; i > 0; i--)
				if (strcmp(s->t[i - 1].db, l.text) == 0)
					drop(s, s->t[i - 1].db, s->t[i - 1].name);
			return 1;
		}
		if (!is_kw(&l, "TABLE"))
			return 0;
		next(&l);
		skip_if_exists(&l);
		while (table_name(&l, dflt_db, db, sizeof(db), name, sizeof(name)) == 0) {
			drop(s, db, name);
			if (!is_p(&l, ','))
				break;
			next(&l);
		}
		return 1;
	}
	return 0;
}
