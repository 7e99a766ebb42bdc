/* ddl_parse.c - the structure of one DDL statement: its kind, its object's name, and the parts the rules look at (columns, keys, foreign keys, table options). */
#include "ddl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static void add_part(struct ddl_stmt *st, enum ddl_part_kind kind, size_t first, size_t end)
{
	const struct ddl_toks *t = &st->t;
	struct ddl_part *p;

	st->parts = realloc(st->parts, (st->nparts + 1) * sizeof(*st->parts));
	if (!st->parts)
		abort();
	p = &st->parts[st->nparts++];
	p->kind = kind;
	p->first = first;
	p->end = end;
	p->keys = 0;
	if (kind != DDL_P_COLUMN && kind != DDL_P_CHECK && kind != DDL_P_OTHER) {
		for (size_t i = first; i < end; i++)
			if (ddl__isp(t, i, '(')) {
				p->keys = i;
				break;
			}
	}
}

/* The kind of a definition starting at i (a CREATE TABLE element, or what
 * follows ADD in an ALTER TABLE). */
static enum ddl_part_kind part_kind(const struct ddl_toks *t, size_t i, size_t end)
{
	if (ddl__is(t, i, "CONSTRAINT")) {
		i++;
		if (i < end && !ddl__is(t, i, "PRIMARY") && !ddl__is(t, i, "UNIQUE") &&
		    !ddl__is(t, i, "FOREIGN") && !ddl__is(t, i, "CHECK"))
			i++;	/* its name */
	}
	if (ddl__is(t, i, "PRIMARY"))
		return DDL_P_PRIMARY;
	if (ddl__is(t, i, "UNIQUE"))
		return DDL_P_UNIQUE;
	if (ddl__is(t, i, "FOREIGN"))
		return DDL_P_FOREIGN;
	if (ddl__is(t, i, "CHECK"))
		return DDL_P_CHECK;
	if (ddl__is(t, i, "KEY") || ddl__is(t, i, "INDEX"))
		return DDL_P_INDEX;
	if (ddl__is(t, i, "FULLTEXT"))
		return DDL_P_FULLTEXT;
	if (ddl__is(t, i, "SPATIAL"))
		return DDL_P_SPATIAL;
	if (ddl__is(t, i, "PERIOD"))
		return DDL_P_PERIOD;
	return DDL_P_COLUMN;
}

/* A qualified name at *i: name [. name]. */
static void skip_name(const struct ddl_toks *t, size_t *i)
{
	if (!ddl__is_name(t, *i))
		return;
	(*i)++;
	while (ddl__isp(t, *i, '.') && ddl__is_name(t, *i + 1))
		*i += 2;
}

static void skip_if_exists(const struct ddl_toks *t, size_t *i)
{
	if (ddl__is(t, *i, "IF") && ddl__is(t, *i + 1, "NOT") && ddl__is(t, *i + 2, "EXISTS"))
		*i += 3;
	else if (ddl__is(t, *i, "IF") && ddl__is(t, *i + 1, "EXISTS"))
		*i += 2;
}

/* Comma-separated items at depth 0 in [i, end): cb for each. */
static void split_commas(struct ddl_stmt *st, size_t i, size_t end,
			 void (*cb)(struct ddl_stmt *st, size_t a, size_t b))
{
	const struct ddl_toks *t = &st->t;
	size_t a = i;

	while (i < end) {
		if (ddl__isp(t, i, '(')) {
			i = ddl__skip_group(t, i);
			continue;
		}
		if (ddl__isp(t, i, ',')) {
			if (i > a)
				cb(st, a, i);
			a = ++i;
			continue;
		}
		i++;
	}
	if (end > a)
		cb(st, a, end);
}

static void create_element(struct ddl_stmt *st, size_t a, size_t b)
{
	add_part(st, part_kind(&st->t, a, b), a, b);
}

static void alter_spec(struct ddl_stmt *st, size_t a, size_t b)
{
	const struct ddl_toks *t = &st->t;
	size_t i = a;

	if (ddl__is(t, i, "ADD")) {
		enum ddl_part_kind k;

		i++;
		if (ddl__is(t, i, "COLUMN"))
			i++;
		skip_if_exists(t, &i);
		if (ddl__isp(t, i, '(')) {	/* ADD (a INT, b INT) */
			size_t close = ddl__skip_group(t, i) - 1;

			split_commas(st, i + 1, close < b ? close : b, create_element);
			return;
		}
		k = part_kind(t, i, b);
		/* ADD CONSTRAINT IF NOT EXISTS ... is rare; the name rule above covers the rest */
		add_part(st, k, i, b);
		return;
	}
	if (ddl__is(t, i, "MODIFY") || ddl__is(t, i, "CHANGE")) {
		int change = ddl__is(t, i, "CHANGE");

		i++;
		if (ddl__is(t, i, "COLUMN"))
			i++;
		skip_if_exists(t, &i);
		if (change)
			i++;	/* the old name */
		add_part(st, DDL_P_COLUMN, i, b);
		return;
	}
	add_part(st, DDL_P_OTHER, a, b);
}

int ddl__parse(const char *s, size_t len, struct ddl_stmt *st, struct sl_err *err)
{
	struct ddl_toks *t = &st->t;
	size_t i = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = ddl__lex(s, len, t, err)))
		return rc;
	if (ddl__is(t, 0, "CREATE") || ddl__is(t, 0, "ALTER")) {
		int create = ddl__is(t, 0, "CREATE");

		i = 1;
		/* the words that may come between CREATE/ALTER and the object kind */
		for (;;) {
			if (ddl__is(t, i, "OR") && ddl__is(t, i + 1, "REPLACE"))
				i += 2;
			else if (ddl__is(t, i, "DEFINER") && ddl__isp(t, i + 1, '=')) {
				i += 3;
				if (ddl__isp(t, i, '(') && ddl__isp(t, i + 1, ')'))
					i += 2;	/* CURRENT_USER() */
				if (ddl__isp(t, i, '@'))
					i += 2;
			} else if ((ddl__is(t, i, "ALGORITHM") || ddl__is(t, i, "LOCK")) &&
				   ddl__isp(t, i + 1, '='))
				i += 3;
			else if (ddl__is(t, i, "SQL") && ddl__is(t, i + 1, "SECURITY"))
				i += 3;
			else if (ddl__is(t, i, "TEMPORARY") || ddl__is(t, i, "ONLINE") ||
				 ddl__is(t, i, "OFFLINE") || ddl__is(t, i, "IGNORE") ||
				 ddl__is(t, i, "AGGREGATE") || ddl__is(t, i, "UNIQUE") ||
				 ddl__is(t, i, "FULLTEXT") || ddl__is(t, i, "SPATIAL"))
				i++;
			else
				break;
		}
		if (ddl__is(t, i, "TABLE")) {
			st->kind = create ? DDL_K_CREATE_TABLE : DDL_K_ALTER_TABLE;
			i++;
			skip_if_exists(t, &i);
			st->name = i;
			skip_name(t, &i);
			st->name_end = i;
			if (!create) {
				split_commas(st, i, t->n, alter_spec);
				return 0;
			}
			if (ddl__isp(t, i, '(') && !ddl__is(t, i + 1, "SELECT")) {
				st->open = i;
				st->close = ddl__skip_group(t, i) - 1;
				split_commas(st, i + 1, st->close, create_element);
				i = st->close + 1;
			}
			st->opts = i;
			while (i < t->n && !ddl__is(t, i, "PARTITION") && !ddl__is(t, i, "AS") &&
			       !ddl__is(t, i, "SELECT") && !ddl__is(t, i, "IGNORE") &&
			       !ddl__is(t, i, "REPLACE") && !ddl__isp(t, i, '(')) {
				if (ddl__is(t, i, "SEQUENCE"))
					st->kind = DDL_K_SEQUENCE;
				i++;
			}
			st->opts_end = i;
			if (ddl__is(t, i, "PARTITION"))
				st->partition = i;
			return 0;
		}
		if (ddl__is(t, i, "INDEX") || ddl__is(t, i, "KEY")) {
			size_t k = i - 1;
			enum ddl_part_kind pk = ddl__is(t, k, "UNIQUE") ? DDL_P_UNIQUE :
						ddl__is(t, k, "FULLTEXT") ? DDL_P_FULLTEXT :
						ddl__is(t, k, "SPATIAL") ? DDL_P_SPATIAL : DDL_P_INDEX;

			st->kind = DDL_K_CREATE_INDEX;
			i++;
			skip_if_exists(t, &i);
			st->name = i;
			skip_name(t, &i);
			st->name_end = i;
			while (i < t->n && !ddl__is(t, i, "ON"))
				i++;
			add_part(st, pk, i, t->n);
			return 0;
		}
		st->kind = ddl__is(t, i, "VIEW") ? DDL_K_VIEW :
			   ddl__is(t, i, "TRIGGER") ? DDL_K_TRIGGER :
			   ddl__is(t, i, "PROCEDURE") || ddl__is(t, i, "FUNCTION") ? DDL_K_ROUTINE :
			   ddl__is(t, i, "EVENT") ? DDL_K_EVENT :
			   ddl__is(t, i, "SEQUENCE") ? DDL_K_SEQUENCE :
			   ddl__is(t, i, "DATABASE") || ddl__is(t, i, "SCHEMA") ? DDL_K_DATABASE : DDL_K_OTHER;
		if (st->kind != DDL_K_OTHER) {
			i++;
			skip_if_exists(t, &i);
			st->name = i;
			skip_name(t, &i);
			st->name_end = i;
		}
	}
	return 0;
}

void ddl__stmt_release(struct ddl_stmt *st)
{
	ddl__toks_release(&st->t);
	free(st->parts);
	st->parts = NULL;
	st->nparts = 0;
}

void ddl_describe(const char *stmt, size_t len, const char *db, char *buf, size_t n)
{
	static const char *const kinds[] = {
		[DDL_K_OTHER] = "statement", [DDL_K_CREATE_TABLE] = "table", [DDL_K_ALTER_TABLE] = "table",
		[DDL_K_CREATE_INDEX] = "index", [DDL_K_VIEW] = "view", [DDL_K_TRIGGER] = "trigger",
		[DDL_K_ROUTINE] = "routine", [DDL_K_EVENT] = "event", [DDL_K_SEQUENCE] = "sequence",
		[DDL_K_DATABASE] = "database",
	};
	struct ddl_stmt st;
	struct sl_err err = SL_ERR_INIT;
	char a[130], b[130];

	if (!n)
		return;
	snprintf(buf, n, "statement");
	if (ddl__parse(stmt, len, &st, &err) || st.kind == DDL_K_OTHER || !ddl__is_name(&st.t, st.name)) {
		ddl__stmt_release(&st);
		return;
	}
	ddl__name(&st.t, st.name, a, sizeof(a));
	if (st.name_end == st.name + 3)	/* db . name */
		snprintf(buf, n, "%s `%s`.`%s`", kinds[st.kind], a, ddl__name(&st.t, st.name + 2, b, sizeof(b)));
	else if (db && *db && st.kind != DDL_K_DATABASE)
		snprintf(buf, n, "%s `%s`.`%s`", kinds[st.kind], db, a);
	else
		snprintf(buf, n, "%s `%s`", kinds[st.kind], a);
	ddl__stmt_release(&st);
}
