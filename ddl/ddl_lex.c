/* ddl_lex.c - the tokens of a MySQL/MariaDB statement (strings, identifiers and comments never split or rewritten), and the edits that rewrite it. */
#include "ddl_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

static void push(struct ddl_toks *t, enum ddl_tk kind, unsigned group, size_t off, size_t len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		if (!t->v)
			abort();
	}
	t->v[t->n++] = (struct ddl_tok){ .kind = kind, .group = group, .off = off, .len = len };
}

static int word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* The end of the quoted run opening at s[i] (quote q): doubled quotes and,
 * for strings, backslash escapes stay inside. len when unterminated. */
static size_t quoted_end(const char *s, size_t len, size_t i, char q, int bs)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\' && q != '`' && bs) {
			i++;
			continue;
		}
		if (s[i] == q) {
			if (i + 1 < len && s[i + 1] == q) {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	return (size_t)-1;
}

/* bs: a backslash escapes the next character in strings (the default
 * sql_mode; NO_BACKSLASH_ESCAPES turns it off). */
static int lex(const char *s, size_t len, struct ddl_toks *t, int bs, struct sl_err *err)
{
	size_t i = 0;
	unsigned group = 0, groups = 0;

	t->s = s;
	t->len = len;
	t->n = 0;
	t->ng = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t j;

		if (isspace(c)) {
			i++;
			continue;
		}
		/* comments: -- needs a space or control char after it (MySQL) */
		if (c == '#' || (c == '-' && i + 1 < len && s[i + 1] == '-' &&
				 (i + 2 == len || (unsigned char)s[i + 2] <= ' '))) {
			while (i < len && s[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && i + 1 < len && s[i + 1] == '*') {
			size_t k = i + 2;

			if (!group && k < len && (s[k] == '!' || (s[k] == 'M' && k + 1 < len && s[k + 1] == '!'))) {
				struct ddl_group gr = { .open = i, .close = len, .mariadb = s[k] == 'M' };

				k += s[k] == 'M' ? 2 : 1;
				for (; k < len && isdigit((unsigned char)s[k]); k++)
					if (gr.version < 1000000)
						gr.version = gr.version * 10 + (unsigned)(s[k] - '0');
				gr.open_len = k - i;
				t->g = realloc(t->g, (t->ng + 1) * sizeof(*t->g));
				if (!t->g)
					abort();
				t->g[t->ng++] = gr;
				group = ++groups;	/* executable: its inside is code */
				i = k;
				continue;
			}
			for (j = i + 2; j + 1 < len && !(s[j] == '*' && s[j + 1] == '/'); j++)
				;
			if (j + 1 >= len)
				return sl_err_set(err, -SL_EFORMAT, "unterminated comment at offset %zu", i);
			i = j + 2;
			continue;
		}
		if (group && c == '*' && i + 1 < len && s[i + 1] == '/') {
			t->g[group - 1].close = i;
			group = 0;
			i += 2;
			continue;
		}
		if (c == '\'' || c == '"' || c == '`' ||
		    (strchr("xXbBnN", c) && i + 1 < len && s[i + 1] == '\'')) {
			size_t q = c == '\'' || c == '"' || c == '`' ? i : i + 1;

			j = quoted_end(s, len, q, s[q], bs);
			if (j == (size_t)-1)
				return sl_err_set(err, -SL_EFORMAT, "unterminated %s at offset %zu",
						  c == '`' ? "identifier" : "string", i);
			push(t, c == '`' ? DDL_TK_QIDENT : DDL_TK_STRING, group, i, j - i);
			i = j;
			continue;
		}
		if (isdigit(c) || (c == '.' && i + 1 < len && isdigit((unsigned char)s[i + 1]))) {
			for (j = i; j < len && (isalnum((unsigned char)s[j]) || s[j] == '.' || s[j] == '_' ||
						((s[j] == '+' || s[j] == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E')));
			     j++)
				;
			/* 1ab is a name in MySQL; treat digits-then-letters as a word */
			push(t, DDL_TK_NUMBER, group, i, j - i);
			i = j;
			continue;
		}
		if (word_char(c)) {
			for (j = i; j < len && word_char((unsigned char)s[j]); j++)
				;
			push(t, DDL_TK_WORD, group, i, j - i);
			i = j;
			continue;
		}
		if (c == '@' && i + 1 < len && (s[i + 1] == '@' || word_char((unsigned char)s[i + 1])) &&
		    i > 0 && !(t->n && t->v[t->n - 1].off + t->v[t->n - 1].len == i)) {
			/* @var at the start of a term; user@host keeps '@' as punctuation */
			for (j = i + 1; j < len && (s[j] == '@' || word_char((unsigned char)s[j]) || s[j] == '.'); j++)
				;
			push(t, DDL_TK_VAR, group, i, j - i);
			i = j;
			continue;
		}
		if (i + 1 < len && ((c == ':' && s[i + 1] == '=') || (c == '<' && s[i + 1] == '=') ||
				    (c == '>' && s[i + 1] == '=') || (c == '!' && s[i + 1] == '=') ||
				    (c == '<' && s[i + 1] == '>'))) {
			push(t, DDL_TK_PUNCT, group, i, 2);
			i += 2;
			continue;
		}
		push(t, DDL_TK_PUNCT, group, i, 1);
		i++;
	}
	return 0;
}

int ddl__lex(const char *s, size_t len, struct ddl_toks *t, struct sl_err *err)
{
	struct sl_err e2 = SL_ERR_INIT;
	int rc = lex(s, len, t, 1, err);

	/* a statement from a NO_BACKSLASH_ESCAPES session: 'C:\' ends there */
	if (rc && !lex(s, len, t, 0, &e2))
		return 0;
	return rc;
}

void ddl__toks_release(struct ddl_toks *t)
{
	free(t->v);
	free(t->g);
	t->v = NULL;
	t->g = NULL;
	t->n = t->cap = t->ng = 0;
}

int ddl__is(const struct ddl_toks *t, size_t i, const char *w)
{
	return i < t->n && t->v[i].kind == DDL_TK_WORD && strlen(w) == t->v[i].len &&
	       !strncasecmp(t->s + t->v[i].off, w, t->v[i].len);
}

int ddl__isp(const struct ddl_toks *t, size_t i, char c)
{
	return i < t->n && t->v[i].kind == DDL_TK_PUNCT && t->v[i].len == 1 && t->s[t->v[i].off] == c;
}

int ddl__is_name(const struct ddl_toks *t, size_t i)
{
	return i < t->n && (t->v[i].kind == DDL_TK_WORD || t->v[i].kind == DDL_TK_QIDENT);
}

const char *ddl__name(const struct ddl_toks *t, size_t i, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = 0;
	if (i >= t->n || !n)
		return buf;
	if (t->v[i].kind == DDL_TK_QIDENT || t->v[i].kind == DDL_TK_STRING) {
		const char *p = t->s + t->v[i].off, *e = p + t->v[i].len - 1;
		char q;

		while (*p != '\'' && *p != '"' && *p != '`')
			p++;
		q = *p++;
		for (; p < e && o + 1 < n; p++) {
			if (*p == q && p + 1 < e && p[1] == q)
				p++;
			else if (*p == '\\' && q != '`' && p + 1 < e)
				p++;
			buf[o++] = *p;
		}
		buf[o] = 0;
		return buf;
	}
	return ddl__text(t, i, buf, n);
}

const char *ddl__text(const struct ddl_toks *t, size_t i, char *buf, size_t n)
{
	size_t l;

	buf[0] = 0;
	if (i >= t->n || !n)
		return buf;
	l = t->v[i].len < n - 1 ? t->v[i].len : n - 1;
	memcpy(buf, t->s + t->v[i].off, l);
	buf[l] = 0;
	return buf;
}

size_t ddl__skip_group(const struct ddl_toks *t, size_t i)
{
	int depth = 0;

	for (; i < t->n; i++) {
		if (ddl__isp(t, i, '('))
			depth++;
		else if (ddl__isp(t, i, ')') && --depth <= 0)
			return i + 1;
	}
	return t->n;
}

/* ---- edits ---- */

static void add_edit(struct ddl_edits *e, size_t off, size_t len, const char *text)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->v = realloc(e->v, e->cap * sizeof(*e->v));
		if (!e->v)
			abort();
	}
	e->v[e->n++] = (struct ddl_edit){ .off = off, .len = len, .text = sl_xstrdup(text) };
}

void ddl__edit_bytes(struct ddl_edits *e, size_t off, size_t len, const char *text)
{
	add_edit(e, off, len, text);
}

void ddl__edit_replace(struct ddl_edits *e, const struct ddl_toks *t, size_t a, size_t b,
		       const char *text)
{
	add_edit(e, t->v[a].off, t->v[b].off + t->v[b].len - t->v[a].off, text);
}

void ddl__edit_after(struct ddl_edits *e, const struct ddl_toks *t, size_t a, const char *text)
{
	add_edit(e, t->v[a].off + t->v[a].len, 0, text);
}

void ddl__edit_remove(struct ddl_edits *e, const struct ddl_toks *t, size_t a, size_t b)
{
	size_t from = t->v[a].off, to = t->v[b].off + t->v[b].len;

	if (from && isspace((unsigned char)t->s[from - 1])) {
		while (from && isspace((unsigned char)t->s[from - 1]))
			from--;
	} else {
		while (to < t->len && isspace((unsigned char)t->s[to]))
			to++;
	}
	add_edit(e, from, to - from, "");
}

static int cmp_edit(const void *a, const void *b)
{
	const struct ddl_edit *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off ? 1 : 0;
}

int ddl__edits_apply(const struct ddl_edits *e, const char *s, size_t len, struct sl_buf *out)
{
	size_t at = 0;
	int rc = 0, removed = 0;

	if (e->n)	/* qsort(NULL, 0, ...) is undefined */
		qsort(e->v, e->n, sizeof(*e->v), cmp_edit);
	for (size_t i = 0; i < e->n && !rc; i++) {
		if (e->v[i].off < at) {
			/* removals that overlap remove their union (two table options
			 * side by side, one taking the blank after it, the next the
			 * blank before it); anything else that overlaps the edit
			 * before is left for the next pass */
			if (removed && !e->v[i].text[0] && e->v[i].off + e->v[i].len > at)
				at = e->v[i].off + e->v[i].len;
			continue;
		}
		removed = !e->v[i].text[0];
		if ((rc = sl_buf_add(out, s + at, e->v[i].off - at)) ||
		    (rc = sl_buf_adds(out, e->v[i].text)))
			break;
		at = e->v[i].off + e->v[i].len;
	}
	if (!rc)
		rc = sl_buf_add(out, s + at, len - at);
	return rc;
}

void ddl__edits_release(struct ddl_edits *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

void ddl__edits_move(struct ddl_edits *to, struct ddl_edits *from)
{
	for (size_t i = 0; i < from->n; i++) {
		add_edit(to, from->v[i].off, from->v[i].len, from->v[i].text);
		free(from->v[i].text);
	}
	from->n = 0;
}
