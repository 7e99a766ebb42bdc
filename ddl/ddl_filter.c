/* ddl_filter.c - DDL under the filters and renames of formats/fmt.h: which statements pass, and their table names rewritten by tokens. */
#include "ddl_int.h"
#include "fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

#define NAME_MAX_LEN 256

/* A name the statement uses: tokens [a, b], a table ("db"."t" or "t") or a
 * database. */
struct ref {
	size_t a, b;
	int qualified, database;
	char db[NAME_MAX_LEN], t[NAME_MAX_LEN];
};

struct refs {
	struct ref v[64];
	size_t n;
	int overflow;
};

/* A table name at i: tokens [i, *next). 0 when there is none. */
static int table_at(const struct ddl_toks *k, size_t i, const char *dflt, struct refs *r,
		    size_t *next)
{
	struct ref *x;

	if (!ddl__is_name(k, i))
		return 0;
	if (r->n == sizeof(r->v) / sizeof(r->v[0])) {
		r->overflow = 1;
		return 0;
	}
	x = &r->v[r->n++];
	memset(x, 0, sizeof(*x));
	x->a = i;
	if (ddl__isp(k, i + 1, '.') && ddl__is_name(k, i + 2)) {
		x->qualified = 1;
		ddl__name(k, i, x->db, sizeof(x->db));
		ddl__name(k, i + 2, x->t, sizeof(x->t));
		x->b = i + 2;
	} else {
		snprintf(x->db, sizeof(x->db), "%s", dflt);
		ddl__name(k, i, x->t, sizeof(x->t));
		x->b = i;
	}
	*next = x->b + 1;
	return 1;
}

static void database_at(const struct ddl_toks *k, size_t i, struct refs *r)
{
	struct ref *x;

	if (!ddl__is_name(k, i) || r->n == sizeof(r->v) / sizeof(r->v[0]))
		return;
	x = &r->v[r->n++];
	memset(x, 0, sizeof(*x));
	x->a = x->b = i;
	x->database = 1;
	ddl__name(k, i, x->db, sizeof(x->db));
}

static size_t skip_words(const struct ddl_toks *k, size_t i, const char *const *w)
{
	for (int moved = 1; moved;) {
		moved = 0;
		for (size_t j = 0; w[j]; j++)
			if (ddl__is(k, i, w[j])) {
				i++;
				moved = 1;
			}
	}
	return i;
}

static size_t skip_if_exists(const struct ddl_toks *k, size_t i)
{
	if (ddl__is(k, i, "IF") && ddl__is(k, i + 1, "NOT") && ddl__is(k, i + 2, "EXISTS"))
		return i + 3;
	if (ddl__is(k, i, "IF") && ddl__is(k, i + 1, "EXISTS"))
		return i + 2;
	return i;
}

/* REFERENCES t, and in an ALTER TABLE (alter set) RENAME [TO|AS] t and
 * EXCHANGE PARTITION p WITH TABLE t, after i, at any depth. */
static void scan_tail(const struct ddl_toks *k, size_t i, const char *dflt, struct refs *r,
		      int alter)
{
	size_t next;

	for (; i < k->n; i++) {
		if (ddl__is(k, i, "REFERENCES") ||
		    (alter && ddl__is(k, i, "WITH") && ddl__is(k, i + 1, "TABLE"))) {
			i += ddl__is(k, i, "WITH");
			if (table_at(k, i + 1, dflt, r, &next))
				i = next - 1;
		} else if (alter && ddl__is(k, i, "RENAME") && !ddl__is(k, i + 1, "COLUMN") &&
			   !ddl__is(k, i + 1, "INDEX") && !ddl__is(k, i + 1, "KEY") &&
			   !ddl__is(k, i + 1, "CONSTRAINT")) {
			size_t j = i + 1 + (ddl__is(k, i + 1, "TO") || ddl__is(k, i + 1, "AS"));

			if (table_at(k, j, dflt, r, &next))
				i = next - 1;
		}
	}
}

/* The names of a statement the rewriter understands: 1 with r filled, 0
 * when it is of another kind. */
static int understand(const struct ddl_toks *k, const char *dflt, struct refs *r)
{
	static const char *const create_pre[] = { "OR", "REPLACE", "TEMPORARY", NULL };
	static const char *const alter_pre[] = { "ONLINE", "OFFLINE", "IGNORE", NULL };
	static const char *const index_pre[] = { "UNIQUE", "FULLTEXT", "SPATIAL", "ONLINE",
						 "OFFLINE", NULL };
	size_t i, next;

	if (ddl__is(k, 0, "CREATE")) {
		i = skip_words(k, 1, create_pre);
		if (ddl__is(k, i, "TABLE")) {
			if (!table_at(k, skip_if_exists(k, i + 1), dflt, r, &next))
				return 0;
			/* CREATE TABLE t LIKE s, CREATE TABLE t (LIKE s) */
			if (ddl__is(k, next, "LIKE"))
				table_at(k, next + 1, dflt, r, &next);
			else if (ddl__isp(k, next, '(') && ddl__is(k, next + 1, "LIKE"))
				table_at(k, next + 2, dflt, r, &next);
			scan_tail(k, next, dflt, r, 0);
			return 1;
		}
		if (ddl__is(k, i, "DATABASE") || ddl__is(k, i, "SCHEMA")) {
			database_at(k, skip_if_exists(k, i + 1), r);
			return r->n == 1;
		}
		i = skip_words(k, i, index_pre);
		if (ddl__is(k, i, "INDEX")) {
			size_t on = ddl__find_word(k, i, k->n, "ON");

			return on < k->n && table_at(k, on + 1, dflt, r, &next);
		}
		return 0;
	}
	if (ddl__is(k, 0, "ALTER")) {
		i = skip_words(k, 1, alter_pre);
		if (ddl__is(k, i, "TABLE")) {
			if (!table_at(k, skip_if_exists(k, i + 1), dflt, r, &next))
				return 0;
			scan_tail(k, next, dflt, r, 1);
			return 1;
		}
		if (ddl__is(k, i, "DATABASE") || ddl__is(k, i, "SCHEMA")) {
			/* without a name: the default database */
			if (ddl__is_name(k, i + 1) && !ddl__is(k, i + 1, "DEFAULT") &&
			    !ddl__is(k, i + 1, "CHARACTER") && !ddl__is(k, i + 1, "CHARSET") &&
			    !ddl__is(k, i + 1, "COLLATE") && !ddl__is(k, i + 1, "COMMENT") &&
			    !ddl__is(k, i + 1, "UPGRADE") && !ddl__is(k, i + 1, "READ"))
				database_at(k, i + 1, r);
			return 1;
		}
		return 0;
	}
	if (ddl__is(k, 0, "DROP")) {
		i = skip_words(k, 1, create_pre);
		if (ddl__is(k, i, "TABLE") || ddl__is(k, i, "TABLES")) {
			i = skip_if_exists(k, i + 1);
			/* MariaDB: DROP TABLE t WAIT n / NOWAIT, RESTRICT, CASCADE end it */
			while (table_at(k, i, dflt, r, &next)) {
				if (!ddl__isp(k, next, ','))
					break;
				i = next + 1;
			}
			return r->n > 0;
		}
		if (ddl__is(k, i, "DATABASE") || ddl__is(k, i, "SCHEMA")) {
			database_at(k, skip_if_exists(k, i + 1), r);
			return r->n == 1;
		}
		i = skip_words(k, i, index_pre);
		if (ddl__is(k, i, "INDEX")) {
			size_t on = ddl__find_word(k, i, k->n, "ON");

			return on < k->n && table_at(k, on + 1, dflt, r, &next);
		}
		return 0;
	}
	if (ddl__is(k, 0, "RENAME") && (ddl__is(k, 1, "TABLE") || ddl__is(k, 1, "TABLES"))) {
		i = 2;
		for (;;) {
			i = skip_if_exists(k, i);
			if (!table_at(k, i, dflt, r, &next) || !ddl__is(k, next, "TO") ||
			    !table_at(k, next + 1, dflt, r, &next))
				return 0;
			if (!ddl__isp(k, next, ','))
				return 1;
			i = next + 1;
		}
	}
	if (ddl__is(k, 0, "TRUNCATE")) {
		i = 1 + ddl__is(k, 1, "TABLE");
		return table_at(k, i, dflt, r, &next);
	}
	return 0;
}

/* `a`.`b` or `a` into out. */
static void quoted(struct sl_buf *out, const char *db, const char *t)
{
	sl_buf_reset(out);
	if (db) {
		fmt_sql_ident(out, db);
		sl_buf_addc(out, '.');
	}
	fmt_sql_ident(out, t);
}

/* A statement of a kind the rewriter does not know (views, routines,
 * events, triggers ...): dropped when its default database is left out as
 * a whole; else its qualified names `db`.`x` are renamed where the map
 * names that table or that database. Unqualified names inside it are not
 * seen (README "Filters and renames"). */
static void rename_qualified(const struct fmt_filter *f, const struct ddl_toks *k,
			     struct ddl_edits *ed, struct sl_buf *tmp)
{
	char a[NAME_MAX_LEN], b[NAME_MAX_LEN];

	for (size_t i = 0; i + 2 < k->n; i++) {
		char *nd = NULL, *nt = NULL;

		if (!ddl__is_name(k, i) || !ddl__isp(k, i + 1, '.') || !ddl__is_name(k, i + 2) ||
		    (i && ddl__isp(k, i - 1, '.')))
			continue;
		ddl__name(k, i, a, sizeof(a));
		ddl__name(k, i + 2, b, sizeof(b));
		if (fmt_filter_table(f, a, b, &nd, &nt) && (strcmp(nd, a) || strcmp(nt, b))) {
			quoted(tmp, nd, nt);
			ddl__edit_replace(ed, k, i, i + 2, sl_buf_cstr(tmp));
		}
		free(nd);
		free(nt);
		i += 2;
	}
}

int ddl_filter_stmt(const struct fmt_filter *f, const char *db, const char *stmt,
		    struct sl_buf *out, char **out_db, struct sl_err *err)
{
	struct ddl_toks k = { 0 };
	struct ddl_edits ed = { 0 };
	struct refs *r = sl_xcalloc(1, sizeof(*r));
	struct sl_buf tmp;
	size_t kept = 0, gone = 0, first_kept = 0, first_gone = 0;
	int rc;

	*out_db = NULL;
	sl_buf_init(&tmp, 4 * NAME_MAX_LEN);
	if ((rc = ddl__lex(stmt, strlen(stmt), &k, err)))
		goto out;
	/* the default database: a database left out as a whole takes its
	 * statements with it unless they name their tables */
	if (db[0] && !fmt_filter_database(f, db, out_db))
		*out_db = NULL;
	if (!understand(&k, db, r)) {
		if (db[0] && !*out_db) {
			rc = 0;
			goto out;
		}
		rename_qualified(f, &k, &ed, &tmp);
		goto write;
	}
	if (r->overflow) {
		rc = sl_err_set(err, -SL_EFORMAT, "it names more than %zu tables: too many for the "
				"filters to check", sizeof(r->v) / sizeof(r->v[0]));
		goto out;
	}
	for (size_t i = 0; i < r->n; i++) {
		struct ref *x = &r->v[i];
		char *nd = NULL, *nt = NULL;
		int keep;

		if (!x->database && !x->db[0]) {
			rc = sl_err_set(err, -SL_EFORMAT, "table `%s` has no database (no default "
					"database): the filters cannot place it", x->t);
			goto out;
		}
		keep = x->database ? fmt_filter_database(f, x->db, &nd)
				   : fmt_filter_table(f, x->db, x->t, &nd, &nt);
		if (keep) {
			if (!kept++)
				first_kept = i;
			if (x->database) {
				if (strcmp(nd, x->db)) {
					quoted(&tmp, NULL, nd);
					ddl__edit_replace(&ed, &k, x->a, x->b, sl_buf_cstr(&tmp));
				}
			} else if (strcmp(nd, x->db) || strcmp(nt, x->t)) {
				/* a new database is always written out: the statement
				 * may run with another default */
				quoted(&tmp, x->qualified || strcmp(nd, x->db) ? nd : NULL, nt);
				ddl__edit_replace(&ed, &k, x->a, x->b, sl_buf_cstr(&tmp));
			}
		} else if (!gone++) {
			first_gone = i;
		}
		free(nd);
		free(nt);
	}
	if (!r->n && *out_db)	/* ALTER DATABASE of the default database */
		goto write;
	if (!kept) {
		rc = 0;
		goto out;
	}
	if (gone) {
		const struct ref *a = &r->v[first_kept], *b = &r->v[first_gone];

		rc = sl_err_set(err, -SL_EFORMAT, "it names `%s`%s%s%s (kept) and `%s`%s%s%s (left out "
				"by the filters): a statement cannot be split",
				a->db, a->database ? "" : ".`", a->database ? "" : a->t,
				a->database ? "" : "`", b->db, b->database ? "" : ".`",
				b->database ? "" : b->t, b->database ? "" : "`");
		goto out;
	}
write:
	/* kept, with a default database left out as a whole: its names are
	 * all qualified (an unqualified one would be left out too) */
	if (!*out_db)
		*out_db = sl_xstrdup("");
	if ((rc = ddl__edits_apply(&ed, stmt, strlen(stmt), out)))
		goto out;
	sl_buf_cstr(out);
	rc = 1;
out:
	if (rc <= 0) {
		free(*out_db);
		*out_db = NULL;
	}
	ddl__edits_release(&ed);
	ddl__toks_release(&k);
	sl_buf_release(&tmp);
	free(r);
	return rc;
}
