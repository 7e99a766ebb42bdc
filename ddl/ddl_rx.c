/* ddl_rx.c - what every dialect rule uses: notes and refusals worded one way, the target's version, and walks over a statement's columns, indexes and key parts. */
#include "ddl_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

void ddl__note(struct ddl_rx *x, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	for (unsigned i = 0; i < x->nnoted; i++)
		if (!strncmp(x->noted[i], what, sizeof(x->noted[i]) - 1))
			return;	/* one note per change, not per column */
	if (x->nnoted < 8)
		snprintf(x->noted[x->nnoted++], sizeof(x->noted[0]), "%s", what);
	if (x->note)
		x->note(x->ctx, x->r->name, x->object, what);
}

int ddl__refuse(struct ddl_rx *x, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sl_err_set(x->err, -SL_EFORMAT, "%s: rule %s: %s", x->object, x->r->name, what);
}

const char *ddl__target_name(const struct ddl_target *t)
{
	return t->dialect == DDL_OCEANBASE ? "OceanBase" : t->dialect == DDL_MYSQL ? "MySQL" : "MariaDB";
}

int ddl__ver_ge(const struct ddl_target *t, unsigned a, unsigned b, unsigned c)
{
	if (!t->major)
		return 0;	/* unknown: the oldest supported */
	if (t->major != a)
		return t->major > a;
	if (t->minor != b)
		return t->minor > b;
	return t->patch >= c;
}

/* ---- helpers over the parts of a statement ---- */

int ddl__is_index(enum ddl_part_kind k)
{
	return k == DDL_P_PRIMARY || k == DDL_P_UNIQUE || k == DDL_P_INDEX || k == DDL_P_FULLTEXT ||
	       k == DDL_P_SPATIAL;
}

/* The name of the index of part p ("PRIMARY" for the primary key). */
const char *ddl__index_name(const struct ddl_rx *x, const struct ddl_part *p, char *buf, size_t n)
{
	const struct ddl_toks *k = x->k;

	if (p->kind == DDL_P_PRIMARY)
		return snprintf(buf, n, "PRIMARY"), buf;
	if (x->st->kind == DDL_K_CREATE_INDEX)
		return ddl__name(k, x->st->name, buf, n);
	for (size_t i = p->first; i < (p->keys ? p->keys : p->end); i++) {
		if (ddl__is(k, i, "CONSTRAINT") && ddl__is_name(k, i + 1) && !ddl__is(k, i + 1, "UNIQUE") &&
		    !ddl__is(k, i + 1, "FOREIGN") && !ddl__is(k, i + 1, "PRIMARY"))
			return ddl__name(k, i + 1, buf, n);
		if ((ddl__is(k, i, "KEY") || ddl__is(k, i, "INDEX")) && ddl__is_name(k, i + 1) &&
		    !ddl__is(k, i + 1, "USING"))
			return ddl__name(k, i + 1, buf, n);
	}
	return snprintf(buf, n, "(unnamed)"), buf;
}

/* The column definition named name in a CREATE TABLE, or NULL. */
const struct ddl_part *ddl__column(const struct ddl_rx *x, const char *name)
{
	char b[256];

	for (size_t i = 0; i < x->st->nparts; i++) {
		const struct ddl_part *p = &x->st->parts[i];

		if (p->kind == DDL_P_COLUMN && !strcasecmp(ddl__name(x->k, p->first, b, sizeof(b)), name))
			return p;
	}
	return NULL;
}

/* The token index of word w in [a, b) at depth 0, or b. */
size_t ddl__find_word(const struct ddl_toks *k, size_t a, size_t b, const char *w)
{
	for (size_t i = a; i < b; i++) {
		if (ddl__isp(k, i, '('))
			i = ddl__skip_group(k, i) - 1;
		else if (ddl__is(k, i, w))
			return i;
	}
	return b;
}

/* Key parts of the index p: for each, cb(x, p, first, end) with tokens
 * [first, end) of one part ("`c`(10) DESC"). Stops on a non-zero return. */
int ddl__each_key_part(struct ddl_rx *x, const struct ddl_part *p,
			 int (*cb)(struct ddl_rx *x, const struct ddl_part *p, size_t a, size_t b))
{
	const struct ddl_toks *k = x->k;
	size_t close, a, i;
	int rc;

	if (!p->keys)
		return 0;
	close = ddl__skip_group(k, p->keys) - 1;
	for (a = i = p->keys + 1; i <= close; i++) {
		if (ddl__isp(k, i, '(') && i < close) {
			i = ddl__skip_group(k, i) - 1;
			continue;
		}
		if (ddl__isp(k, i, ',') || i == close) {
			if (i > a && (rc = cb(x, p, a, i)))
				return rc;
			a = i + 1;
		}
	}
	return 0;
}

int ddl__ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcasecmp(s + a - b, tail);
}

/* Each column definition of the statement: cb(x, p, type token). A type is
 * a word: a part whose second token is not one ("ADD c (x INT) ...", "ADD c
 * = 1") defines no column, and what follows is not its attributes. */
int ddl__each_column(struct ddl_rx *x, int (*cb)(struct ddl_rx *x, const struct ddl_part *p, size_t ty))
{
	int rc;

	for (size_t i = 0; i < x->st->nparts; i++) {
		const struct ddl_part *p = &x->st->parts[i];

		if (p->kind == DDL_P_COLUMN && p->first + 1 < p->end && x->k->v[p->first + 1].kind == DDL_TK_WORD &&
		    (x->st->kind == DDL_K_CREATE_TABLE || x->st->kind == DDL_K_ALTER_TABLE) &&
		    (rc = cb(x, p, p->first + 1)))
			return rc;
	}
	return 0;
}
