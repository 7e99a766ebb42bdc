/* ddl_split.c - a CREATE TABLE cut for a bulk load: the table with the keys it cannot be without (primary key, a key for the AUTO_INCREMENT column, the key InnoDB clusters a table without primary key by, unique keys of a partitioned table), its secondary indexes in one ALTER TABLE for after the rows, its foreign keys one ALTER TABLE each. */
#include "ddl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

void ddl_list_release(struct ddl_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void list_add(struct ddl_list *l, char *s)
{
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!l->v)
		abort();
	l->v[l->n++] = s;
}

static size_t part_start(const struct ddl_toks *t, const struct ddl_part *p)
{
	return t->v[p->first].off;
}

static size_t part_stop(const struct ddl_toks *t, const struct ddl_part *p)
{
	return t->v[p->end - 1].off + t->v[p->end - 1].len;
}

/* The first column of an index's key parts, unquoted, or "". */
static const char *first_key(const struct ddl_toks *t, const struct ddl_part *p, char *b, size_t n)
{
	b[0] = 0;
	if (p->keys && ddl__is_name(t, p->keys + 1))
		ddl__name(t, p->keys + 1, b, n);
	return b;
}

/* The word w at depth 0 in the tokens [a, b). */
static int has_word(const struct ddl_toks *t, size_t a, size_t b, const char *w)
{
	for (size_t i = a; i < b; i++) {
		if (ddl__isp(t, i, '('))
			i = ddl__skip_group(t, i) - 1;
		else if (ddl__is(t, i, w))
			return 1;
	}
	return 0;
}

/* The column definition p says NOT NULL. */
static int not_null(const struct ddl_toks *t, const struct ddl_part *p)
{
	for (size_t i = p->first + 1; i + 1 < p->end; i++) {
		if (ddl__isp(t, i, '('))
			i = ddl__skip_group(t, i) - 1;
		else if (ddl__is(t, i, "NOT") && ddl__is(t, i + 1, "NULL"))
			return 1;
	}
	return 0;
}

/* Foreign key p as "ALTER TABLE <table> ADD CONSTRAINT ..." into fks. */
static void add_fk(struct ddl_list *fks, const char *create, const struct ddl_toks *t,
		   const struct ddl_part *p, const char *table)
{
	list_add(fks, sl_xasprintf("ALTER TABLE %s ADD %.*s", table,
				   (int)(part_stop(t, p) - part_start(t, p)), create + part_start(t, p)));
}

/* The statement with the parts keep[] marks, and the text between them and
 * around them as it was, into base. */
static int put_kept(const char *create, size_t len, const struct ddl_stmt *st,
		    const unsigned char *keep, struct sl_buf *base)
{
	const struct ddl_toks *t = &st->t;
	size_t nkept = 0, last;
	int rc = 0;

	for (size_t i = 0; i < st->nparts && !rc; i++) {
		if (!keep[i])
			continue;
		if (!nkept++)
			rc = sl_buf_add(base, create, part_start(t, &st->parts[i]));
		else	/* the separator before it: ",\n  " */
			rc = sl_buf_add(base, create + part_stop(t, &st->parts[i - 1]),
					part_start(t, &st->parts[i]) - part_stop(t, &st->parts[i - 1]));
		if (!rc)
			rc = sl_buf_add(base, create + part_start(t, &st->parts[i]),
					part_stop(t, &st->parts[i]) - part_start(t, &st->parts[i]));
	}
	last = part_stop(t, &st->parts[st->nparts - 1]);
	return rc ? rc : sl_buf_add(base, create + last, len - last);
}

/* create parsed into *st; 1 when it is a CREATE TABLE with a list of parts
 * to cut, 0 when base got it as it is (LIKE, AS SELECT ...). */
static int parse_table(const char *create, size_t len, const char *table, struct ddl_stmt *st,
		       struct sl_buf *base, struct sl_err *err)
{
	int rc;

	if ((rc = ddl__parse(create, len, st, err))) {
		char m[sizeof(err->msg)];

		snprintf(m, sizeof(m), "%s", err->msg);
		return sl_err_set(err, rc, "table %s: cannot read its CREATE TABLE: %s", table, m);
	}
	if (st->kind != DDL_K_CREATE_TABLE || !st->open || !st->nparts)
		return (rc = sl_buf_add(base, create, len)) ? rc : 0;
	return 1;
}

int ddl_table_without_fks(const char *create, size_t len, const char *table, struct sl_buf *base,
			  struct ddl_list *fks, struct sl_err *err)
{
	struct ddl_stmt st;
	unsigned char *keep = NULL;
	int rc;

	fks->n = 0;
	fks->v = NULL;
	if ((rc = parse_table(create, len, table, &st, base, err)) <= 0)
		goto out;
	keep = calloc(st.nparts, 1);
	if (!keep)
		abort();
	for (size_t i = 0; i < st.nparts; i++) {
		if (st.parts[i].kind == DDL_P_FOREIGN)
			add_fk(fks, create, &st.t, &st.parts[i], table);
		else
			keep[i] = 1;
	}
	if ((rc = put_kept(create, len, &st, keep, base)))
		rc = sl_err_set(err, -SL_ETOOBIG, "table %s: statement too large", table);
out:
	if (rc)
		ddl_list_release(fks);
	free(keep);
	ddl__stmt_release(&st);
	return rc;
}

/* The UNIQUE key p covers whole NOT NULL columns only: without a primary
 * key, InnoDB clusters the table by the first such key, and adding it
 * after the rows would rebuild the table. */
static int clusters(const struct ddl_stmt *st, const struct ddl_part *p)
{
	const struct ddl_toks *t = &st->t;
	size_t close, i;
	char a[256], b[256];

	if (p->kind != DDL_P_UNIQUE || !p->keys)
		return 0;
	close = ddl__skip_group(t, p->keys) - 1;
	for (i = p->keys + 1; i < close; i++) {
		size_t c;

		if (!ddl__is_name(t, i))
			return 0;	/* an expression */
		ddl__name(t, i, a, sizeof(a));
		for (c = 0; c < st->nparts; c++)
			if (st->parts[c].kind == DDL_P_COLUMN &&
			    !strcasecmp(ddl__name(t, st->parts[c].first, b, sizeof(b)), a))
				break;
		if (c == st->nparts || !not_null(t, &st->parts[c]))
			return 0;
		i++;
		if (ddl__is(t, i, "ASC") || ddl__is(t, i, "DESC"))
			i++;
		if (i < close && !ddl__isp(t, i, ','))
			return 0;	/* a prefix: (10) */
	}
	return 1;
}

int ddl_table_split(const char *create, size_t len, const char *table, struct sl_buf *base,
		    struct ddl_list *indexes, struct ddl_list *fks, struct sl_err *err)
{
	struct ddl_stmt st;
	const struct ddl_toks *t = &st.t;
	struct sl_buf alter = SL_BUF_INIT(SL_BUF_UNLIMITED);
	char ai[256] = "", b[256];
	unsigned char *keep = NULL;
	int pk_ai = 0, ai_kept = 0, has_pk = 0, cluster_kept = 0, rc;

	indexes->n = fks->n = 0;
	indexes->v = fks->v = NULL;
	if ((rc = parse_table(create, len, table, &st, base, err)) <= 0)
		goto out;
	rc = 0;
	/* the AUTO_INCREMENT column, and whether the primary key starts with it */
	for (size_t i = 0; i < st.nparts; i++) {
		const struct ddl_part *p = &st.parts[i];

		if (p->kind == DDL_P_COLUMN && has_word(t, p->first + 1, p->end, "AUTO_INCREMENT")) {
			ddl__name(t, p->first, ai, sizeof(ai));
			pk_ai = has_word(t, p->first + 1, p->end, "PRIMARY");
		}
	}
	for (size_t i = 0; i < st.nparts; i++) {
		const struct ddl_part *p = &st.parts[i];

		if (p->kind == DDL_P_PRIMARY) {
			has_pk = 1;
			pk_ai = ai[0] && !strcasecmp(first_key(t, p, b, sizeof(b)), ai);
		} else if (p->kind == DDL_P_COLUMN && has_word(t, p->first + 1, p->end, "PRIMARY")) {
			has_pk = 1;
		}
	}
	keep = calloc(st.nparts, 1);
	if (!keep)
		abort();
	for (size_t i = 0; i < st.nparts; i++) {
		const struct ddl_part *p = &st.parts[i];

		switch (p->kind) {
		case DDL_P_FOREIGN:
			add_fk(fks, create, t, p, table);
			continue;
		case DDL_P_UNIQUE:
		case DDL_P_INDEX:
		case DDL_P_FULLTEXT:
		case DDL_P_SPATIAL:
			/* partitioning rules: every unique key must cover the partitioning
			 * columns, and the server checks it when the key is added; kept */
			if (p->kind == DDL_P_UNIQUE && st.partition)
				break;
			if (!has_pk && !cluster_kept && clusters(&st, p)) {
				cluster_kept = 1;
				ai_kept |= ai[0] && !strcasecmp(first_key(t, p, b, sizeof(b)), ai);
				break;
			}
			/* an AUTO_INCREMENT column must lead some key */
			if (ai[0] && !pk_ai && !ai_kept && p->kind != DDL_P_FULLTEXT &&
			    p->kind != DDL_P_SPATIAL && !strcasecmp(first_key(t, p, b, sizeof(b)), ai)) {
				ai_kept = 1;
				break;
			}
			if ((rc = sl_buf_adds(&alter, alter.len ? ", ADD " : "ADD ")) ||
			    (rc = sl_buf_add(&alter, create + part_start(t, p), part_stop(t, p) - part_start(t, p))))
				goto too_big;
			continue;
		default:
			break;
		}
		keep[i] = 1;
	}
	if ((rc = put_kept(create, len, &st, keep, base)))
		goto too_big;
	if (alter.len)
		list_add(indexes, sl_xasprintf("ALTER TABLE %s %s", table, sl_buf_cstr(&alter)));
	goto out;
too_big:
	rc = sl_err_set(err, -SL_ETOOBIG, "table %s: statement too large", table);
out:
	if (rc) {
		ddl_list_release(indexes);
		ddl_list_release(fks);
	}
	free(keep);
	sl_buf_release(&alter);
	ddl__stmt_release(&st);
	return rc;
}
