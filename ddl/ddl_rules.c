/* ddl_rules.c - the dialect rule table: each row a name, the destinations it applies to, and a function that converts a statement (with a note per change) or refuses it; ddl_convert() runs every row. */
#include "ddl_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

/* ---- collation-0900 ---- */

static const char *collation_for(const struct ddl_target *t, const char *c)
{
	int bin = ddl__ends_with(c, "_bin") || ddl__ends_with(c, "_as_cs");

	if (strncasecmp(c, "utf8mb4_", 8) || !strstr(c, "_0900_"))
		return NULL;
	switch (t->dialect) {
	case DDL_MARIADB:
		/* 11.4.5 takes utf8mb4_0900_ai_ci as an alias of its own */
		if (!strcasecmp(c, "utf8mb4_0900_ai_ci") && ddl__ver_ge(t, 11, 4, 5))
			return NULL;
		return bin ? "utf8mb4_bin" : "utf8mb4_unicode_520_ci";
	case DDL_MYSQL:
		return !t->major || t->major >= 8 ? NULL : bin ? "utf8mb4_bin" : "utf8mb4_unicode_520_ci";
	case DDL_OCEANBASE:
		return bin ? "utf8mb4_bin" : "utf8mb4_general_ci";
	}
	return NULL;
}

static int rule_collation(struct ddl_rx *x)
{
	const struct ddl_toks *k = x->k;

	for (size_t i = 0; i + 1 < k->n; i++) {
		size_t v = i + 1;
		const char *to;
		char c[128], q[140];

		if (!ddl__is(k, i, "COLLATE"))
			continue;
		if (ddl__isp(k, v, '='))
			v++;
		if (v >= k->n || k->v[v].kind == DDL_TK_NUMBER || k->v[v].kind == DDL_TK_PUNCT)
			continue;
		ddl__name(k, v, c, sizeof(c));
		if (!(to = collation_for(x->t, c)))
			continue;
		if (k->v[v].kind == DDL_TK_WORD)
			snprintf(q, sizeof(q), "%s", to);
		else
			snprintf(q, sizeof(q), "%c%s%c", k->s[k->v[v].off], to, k->s[k->v[v].off]);
		ddl__edit_replace(x->ed, k, v, v, q);
		ddl__note(x, "%s -> %s: keys that were distinct may now collide, and the order of "
		     "strings may change", c, to);
	}
	return 0;
}

/* ---- types: real, nchar, serial, mariadb-types ---- */

static int col_real(struct ddl_rx *x, const struct ddl_part *p, size_t ty)
{
	char n[128];

	if (!ddl__is(x->k, ty, "REAL"))
		return 0;
	ddl__edit_replace(x->ed, x->k, ty, ty, "DOUBLE");
	ddl__note(x, "column `%s`: REAL -> DOUBLE", ddl__name(x->k, p->first, n, sizeof(n)));
	return 0;
}

static int rule_real(struct ddl_rx *x)
{
	return ddl__each_column(x, col_real);
}

static int col_nchar(struct ddl_rx *x, const struct ddl_part *p, size_t ty)
{
	const struct ddl_toks *k = x->k;
	size_t last = ty, after;
	const char *to = NULL;
	char n[128];

	if (ddl__is(k, ty, "NCHAR") || ddl__is(k, ty, "NATIONAL")) {
		last = ty + 1;
		if (ddl__is(k, ty, "NCHAR") && !ddl__is(k, last, "VARCHAR") && !ddl__is(k, last, "VARYING"))
			last = ty;
		if (ddl__is(k, last, "CHAR") || ddl__is(k, last, "CHARACTER") || last == ty)
			to = "CHAR";
		if (ddl__is(k, last, "VARCHAR"))
			to = "VARCHAR";
		if (ddl__is(k, last + 1, "VARYING")) {
			last++;
			to = "VARCHAR";
		} else if (ddl__is(k, last, "VARYING"))
			to = "VARCHAR";
	} else if (ddl__is(k, ty, "NVARCHAR")) {
		to = "VARCHAR";
	}
	if (!to)
		return 0;
	after = ddl__isp(k, last + 1, '(') ? ddl__skip_group(k, last + 1) - 1 : last;
	ddl__edit_replace(x->ed, k, ty, last, to);
	ddl__edit_after(x->ed, k, after, " CHARACTER SET utf8mb4");
	ddl__note(x, "column `%s`: national character type -> %s CHARACTER SET utf8mb4",
	     ddl__name(k, p->first, n, sizeof(n)), to);
	return 0;
}

static int rule_nchar(struct ddl_rx *x)
{
	return ddl__each_column(x, col_nchar);
}

static int col_serial(struct ddl_rx *x, const struct ddl_part *p, size_t ty)
{
	const struct ddl_toks *k = x->k;
	char n[128];

	ddl__name(k, p->first, n, sizeof(n));
	if (ddl__is(k, ty, "SERIAL")) {
		ddl__edit_replace(x->ed, k, ty, ty, "BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE");
		ddl__note(x, "column `%s`: SERIAL -> BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE", n);
		return 0;
	}
	for (size_t i = ty + 1; i + 2 < p->end; i++)
		if (ddl__is(k, i, "SERIAL") && ddl__is(k, i + 1, "DEFAULT") && ddl__is(k, i + 2, "VALUE")) {
			ddl__edit_replace(x->ed, k, i, i + 2, "NOT NULL AUTO_INCREMENT UNIQUE");
			ddl__note(x, "column `%s`: SERIAL DEFAULT VALUE -> NOT NULL AUTO_INCREMENT UNIQUE", n);
		}
	return 0;
}

static int rule_serial(struct ddl_rx *x)
{
	return ddl__each_column(x, col_serial);
}

static int col_mariadb_type(struct ddl_rx *x, const struct ddl_part *p, size_t ty)
{
	char n[128], tn[32];

	if (ddl__is(x->k, ty, "INET6") || ddl__is(x->k, ty, "INET4") || ddl__is(x->k, ty, "UUID"))
		return ddl__refuse(x, "column `%s`: %s has no %s type", ddl__name(x->k, p->first, n, sizeof(n)),
			      ddl__target_name(x->t), ddl__text(x->k, ty, tn, sizeof(tn)));
	return 0;
}

static int rule_mariadb_types(struct ddl_rx *x)
{
	return ddl__each_column(x, col_mariadb_type);
}

static int col_compressed(struct ddl_rx *x, const struct ddl_part *p, size_t ty)
{
	const struct ddl_toks *k = x->k;
	char n[128];

	for (size_t i = ty + 1; i < p->end; i++) {
		if (ddl__isp(k, i, '(')) {
			i = ddl__skip_group(k, i) - 1;
			continue;
		}
		/* COLUMN_FORMAT COMPRESSED is MySQL's; after = it is an option's value */
		if (!ddl__is(k, i, "COMPRESSED") || ddl__is(k, i - 1, "COLUMN_FORMAT") || ddl__isp(k, i - 1, '='))
			continue;
		ddl__edit_remove(x->ed, k, i, ddl__isp(k, i + 1, '=') && i + 2 < p->end ? i + 2 : i);
		ddl__note(x, "column `%s`: COMPRESSED removed (%s stores it uncompressed)",
		     ddl__name(k, p->first, n, sizeof(n)), ddl__target_name(x->t));
	}
	return 0;
}

static int rule_column_compressed(struct ddl_rx *x)
{
	return ddl__each_column(x, col_compressed);
}

/* ---- definer ---- */

static int rule_definer(struct ddl_rx *x)
{
	const struct ddl_toks *k = x->k;
	enum ddl_kind kd = x->st->kind;
	size_t end = x->st->name ? x->st->name : 0;

	if (kd != DDL_K_VIEW && kd != DDL_K_TRIGGER && kd != DDL_K_ROUTINE && kd != DDL_K_EVENT)
		return 0;
	for (size_t i = 1; i + 2 < end; i++) {
		size_t last = i + 2;
		char who[200];

		if (!ddl__is(k, i, "DEFINER") || !ddl__isp(k, i + 1, '='))
			continue;
		if (ddl__isp(k, last + 1, '(') && ddl__isp(k, last + 2, ')'))
			last += 2;	/* CURRENT_USER() */
		if (ddl__isp(k, last + 1, '@') && last + 2 < end)
			last += 2;
		snprintf(who, sizeof(who), "%.*s", (int)(k->v[last].off + k->v[last].len - k->v[i + 2].off),
			 k->s + k->v[i + 2].off);
		ddl__edit_remove(x->ed, k, i, last);
		ddl__note(x, "DEFINER=%s removed: created with replay's account as definer (accounts are "
		     "not migrated)", who);
		i = last;
	}
	return 0;
}

/* INVISIBLE (MySQL >= 8.0) and IGNORED (MariaDB >= 10.6) in the options
 * after an index's key parts: OceanBase and older servers take neither
 * (removed: the index is used), MariaDB says IGNORED, MySQL INVISIBLE. */
static int rule_index_visibility(struct ddl_rx *x)
{
	const struct ddl_toks *k = x->k;
	char n[128];

	for (size_t i = 0; i < x->st->nparts; i++) {
		const struct ddl_part *p = &x->st->parts[i];

		if (!ddl__is_index(p->kind) || !p->keys)
			continue;
		for (size_t j = ddl__skip_group(k, p->keys); j < p->end; j++) {
			int inv = ddl__is(k, j, "INVISIBLE"), ign = ddl__is(k, j, "IGNORED");

			if (!inv && !ign)
				continue;
			ddl__index_name(x, p, n, sizeof(n));
			if (x->t->dialect == DDL_OCEANBASE ||
			    (x->t->major && x->t->dialect == DDL_MARIADB && !ddl__ver_ge(x->t, 10, 6, 0)) ||
			    (x->t->major && x->t->dialect == DDL_MYSQL && x->t->major < 8)) {
				ddl__edit_remove(x->ed, k, j, j);
				ddl__note(x, "index `%s`: %s removed, the optimizer uses it", n, inv ? "INVISIBLE" : "IGNORED");
			} else if (x->t->dialect == DDL_MARIADB && inv) {
				ddl__edit_replace(x->ed, k, j, j, "IGNORED");
				ddl__note(x, "index `%s`: INVISIBLE -> IGNORED", n);
			} else if (x->t->dialect == DDL_MYSQL && ign) {
				ddl__edit_replace(x->ed, k, j, j, "INVISIBLE");
				ddl__note(x, "index `%s`: IGNORED -> INVISIBLE", n);
			}
		}
	}
	return 0;
}

/* ---- table options ---- */

enum opt_do { OPT_DROP, OPT_DROP_UNLESS_YES, OPT_DROP_COMPRESSED };

static const struct table_opt {
	const char *name;
	unsigned dialects;
	enum opt_do act;
} table_opts[] = {
	{ "ROW_FORMAT", DDL_D_OB, OPT_DROP_COMPRESSED },
	{ "KEY_BLOCK_SIZE", DDL_D_OB, OPT_DROP },
	{ "PAGE_CHECKSUM", DDL_D_MYSQL | DDL_D_OB, OPT_DROP },
	{ "TRANSACTIONAL", DDL_D_MYSQL | DDL_D_OB, OPT_DROP },
	{ "PAGE_COMPRESSED", DDL_D_MYSQL | DDL_D_OB, OPT_DROP },
	{ "PAGE_COMPRESSION_LEVEL", DDL_D_MYSQL | DDL_D_OB, OPT_DROP },
	{ "IETF_QUOTES", DDL_D_MYSQL | DDL_D_OB, OPT_DROP },
	{ "ENCRYPTED", DDL_D_MYSQL | DDL_D_OB, OPT_DROP_UNLESS_YES },
	{ "ENCRYPTION_KEY_ID", DDL_D_MYSQL | DDL_D_OB, OPT_DROP },
	{ "ENCRYPTION", DDL_D_MARIADB | DDL_D_OB, OPT_DROP_UNLESS_YES },
	{ "STATS_PERSISTENT", DDL_D_OB, OPT_DROP },
	{ "STATS_AUTO_RECALC", DDL_D_OB, OPT_DROP },
	{ "STATS_SAMPLE_PAGES", DDL_D_OB, OPT_DROP },
	{ "AUTOEXTEND_SIZE", DDL_D_MARIADB | DDL_D_OB, OPT_DROP },
	{ "SECONDARY_ENGINE", DDL_D_MARIADB | DDL_D_OB, OPT_DROP },
};

static int yes_value(const struct ddl_toks *k, size_t v)
{
	char b[16];

	ddl__name(k, v, b, sizeof(b));
	return !strcasecmp(b, "YES") || !strcasecmp(b, "Y") || !strcmp(b, "1");
}

/* Table options in tokens [a, b): each one the target lacks removed (or
 * refused). Returns the number of tokens removed through *gone. */
static int options_in(struct ddl_rx *x, size_t a, size_t b, size_t *gone)
{
	const struct ddl_toks *k = x->k;
	unsigned dm = 1u << x->t->dialect;
	char b1[64], b2[64];

	for (size_t i = a; i < b; i++) {
		size_t v, from = i;
		const struct table_opt *o = NULL;

		if (ddl__isp(k, i, '(')) {
			i = ddl__skip_group(k, i) - 1;
			continue;
		}
		for (size_t j = 0; j < sizeof(table_opts) / sizeof(table_opts[0]); j++)
			if (ddl__is(k, i, table_opts[j].name) && (table_opts[j].dialects & dm))
				o = &table_opts[j];
		if (!o)
			continue;
		if (i > a && ddl__is(k, i - 1, "DEFAULT"))
			from = i - 1;	/* DEFAULT ENCRYPTION='N' (CREATE DATABASE) */
		v = ddl__isp(k, i + 1, '=') ? i + 2 : i + 1;
		if (v >= b)
			continue;
		ddl__name(k, v, b2, sizeof(b2));
		if (o->act == OPT_DROP_COMPRESSED && strcasecmp(b2, "COMPRESSED"))
			continue;
		if (o->act == OPT_DROP_UNLESS_YES && yes_value(k, v))
			return ddl__refuse(x, "%s cannot take %s=%s (the table would be stored unencrypted)",
				      ddl__target_name(x->t), o->name, ddl__text(k, v, b2, sizeof(b2)));
		ddl__edit_remove(x->ed, k, from, v);
		*gone += v - from + 1;
		ddl__note(x, "table option %s=%s removed (%s does not take it)",
		     ddl__text(k, i, b1, sizeof(b1)), ddl__text(k, v, b2, sizeof(b2)), ddl__target_name(x->t));
		i = v;
	}
	return 0;
}

static int rule_table_options(struct ddl_rx *x)
{
	struct ddl_stmt *st = x->st;
	const struct ddl_toks *k = x->k;
	struct ddl_edits one = { 0 }, *all = x->ed;
	size_t gone = 0;
	int rc = 0;

	if (st->kind == DDL_K_CREATE_TABLE)
		return options_in(x, st->opts, st->opts_end, &gone);
	if (st->kind == DDL_K_DATABASE)
		return options_in(x, st->name_end, k->n, &gone);
	if (st->kind != DDL_K_ALTER_TABLE)
		return 0;
	for (size_t i = 0; i < st->nparts; i++) {
		const struct ddl_part *p = &st->parts[i];
		static const char *const verbs[] = { "ADD", "DROP", "ALTER", "MODIFY", "CHANGE", "RENAME",
						     "CONVERT", "ORDER", "DISABLE", "ENABLE", "DISCARD",
						     "IMPORT", "PARTITION", "REMOVE", "FORCE", "ALGORITHM",
						     "LOCK", "WITH", "WITHOUT", "COALESCE", "REORGANIZE",
						     "EXCHANGE", "ANALYZE", "CHECK", "OPTIMIZE", "REBUILD",
						     "REPAIR", "TRUNCATE", "UPGRADE", NULL };
		int verb = 0;

		if (p->kind != DDL_P_OTHER)
			continue;
		for (const char *const *v = verbs; *v; v++)
			verb |= ddl__is(k, p->first, *v);
		if (verb)
			continue;
		gone = 0;
		x->ed = &one;
		rc = options_in(x, p->first, p->end, &gone);
		x->ed = all;
		if (rc)
			break;
		if (gone == p->end - p->first && (ddl__isp(k, p->end, ',') ||
						  (p->first && ddl__isp(k, p->first - 1, ',')))) {
			/* the whole spec goes, with one of its commas */
			if (ddl__isp(k, p->end, ','))
				ddl__edit_remove(all, k, p->first, p->end);
			else
				ddl__edit_remove(all, k, p->first - 1, p->end - 1);
		} else {
			ddl__edits_move(all, &one);
		}
		ddl__edits_release(&one);
	}
	ddl__edits_release(&one);
	return rc;
}

/* ---- MariaDB-only objects: system versioning, sequences ---- */

static int rule_system_versioning(struct ddl_rx *x)
{
	const struct ddl_toks *k = x->k;

	if (x->st->kind != DDL_K_CREATE_TABLE && x->st->kind != DDL_K_ALTER_TABLE)
		return 0;
	for (size_t i = 0; i + 1 < k->n; i++) {
		if ((ddl__is(k, i, "SYSTEM") && ddl__is(k, i + 1, "VERSIONING") && !ddl__is(k, i - 1, "WITHOUT") &&
		     !(i > 0 && ddl__is(k, i - 1, "DROP"))) ||
		    (ddl__is(k, i, "PERIOD") && ddl__is(k, i + 1, "FOR") && ddl__is(k, i + 2, "SYSTEM_TIME")) ||
		    (ddl__is(k, i, "AS") && ddl__is(k, i + 1, "ROW") &&
		     (ddl__is(k, i + 2, "START") || ddl__is(k, i + 2, "END"))))
			return ddl__refuse(x, "%s has no system-versioned tables (the history rows cannot be "
				      "carried)", ddl__target_name(x->t));
	}
	return 0;
}

static int rule_sequence(struct ddl_rx *x)
{
	if (x->st->kind == DDL_K_SEQUENCE)
		return ddl__refuse(x, "%s has no sequences (MariaDB CREATE SEQUENCE)", ddl__target_name(x->t));
	return 0;
}

/* ---- mysql-comments ---- */

/* The [CONSTRAINT name] CHECK (...) that ends right before token b, or b. */
static size_t check_before(const struct ddl_toks *k, size_t b)
{
	size_t i, depth = 0;

	if (!b || !ddl__isp(k, b - 1, ')'))
		return b;
	for (i = b - 1; i > 0; i--) {
		if (ddl__isp(k, i, ')'))
			depth++;
		else if (ddl__isp(k, i, '(') && --depth == 0)
			break;
	}
	if (!i || !ddl__is(k, i - 1, "CHECK"))
		return b;
	i--;
	if (i >= 2 && ddl__is(k, i - 2, "CONSTRAINT"))
		i -= 2;
	else if (i >= 1 && ddl__is(k, i - 1, "CONSTRAINT"))
		i -= 1;
	return i;
}

/* One MySQL executable comment g, whose code is tokens [a, b] (n of them,
 * the text in): made code MariaDB reads where it changes what the table
 * takes or does, left alone where it does not. */
static void mysql_comment(struct ddl_rx *x, const struct ddl_group *g, size_t a, size_t b, size_t n,
			  const char *in)
{
	const struct ddl_toks *k = x->k;
	size_t end = g->close + 2;
	char buf[220];

	if (n == 1 && (ddl__is(k, a, "INVISIBLE") || ddl__is(k, a, "VISIBLE"))) {
		ddl__edit_bytes(x->ed, g->open, end - g->open, in);
	} else if (n == 2 && ddl__is(k, a, "SRID") && k->v[b].kind == DDL_TK_NUMBER) {
		/* MariaDB takes it right after the type only */
		const struct ddl_part *p = NULL;
		size_t ty, from = g->open;

		for (size_t i = 0; i < x->st->nparts; i++)
			if (x->st->parts[i].kind == DDL_P_COLUMN && x->st->parts[i].first < a &&
			    a < x->st->parts[i].end)
				p = &x->st->parts[i];
		if (!p)
			return;
		ty = p->first + 1;
		if (ddl__isp(k, ty + 1, '('))
			ty = ddl__skip_group(k, ty + 1) - 1;
		snprintf(buf, sizeof(buf), " REF_SYSTEM_ID=%.*s", (int)k->v[b].len, k->s + k->v[b].off);
		ddl__edit_after(x->ed, k, ty, buf);
		while (from && (k->s[from - 1] == ' ' || k->s[from - 1] == '\t'))
			from--;
		ddl__edit_bytes(x->ed, from, end - from, "");
		ddl__note(x, "/*!%lu %s */ ->%s after the type (MariaDB ignores MySQL's versioned "
			  "comments)", g->version, in, buf);
		return;
	} else if ((ddl__is(k, a, "DEFAULT") && ddl__is(k, a + 1, "ENCRYPTION")) || ddl__is(k, a, "ENCRYPTION")) {
		ddl__edit_bytes(x->ed, g->open, end - g->open, in);	/* table-options judges it */
	} else if (n == 2 && ddl__is(k, a, "NOT") && ddl__is(k, b, "ENFORCED")) {
		size_t c = check_before(k, a), from, to = end;
		char name[128] = "";

		if (c == a)
			return;
		if (ddl__is(k, c, "CONSTRAINT") && !ddl__is(k, c + 1, "CHECK"))
			ddl__name(k, c + 1, name, sizeof(name));
		from = k->v[c].off;
		if (c && ddl__isp(k, c - 1, ',')) {
			from = k->v[c - 1].off;	/* a table element: with its comma */
		} else if (ddl__isp(k, b + 1, ',') && c && ddl__isp(k, c - 1, '(')) {
			to = k->v[b + 1].off + 1;
			while (to < k->len && (k->s[to] == ' ' || k->s[to] == '\n'))
				to++;
		} else {
			while (from && (k->s[from - 1] == ' ' || k->s[from - 1] == '\t'))
				from--;
		}
		ddl__edit_bytes(x->ed, from, to - from, "");
		ddl__note(x, "CHECK constraint%s%s%s removed: NOT ENFORCED on the source, and MariaDB "
			  "would enforce it", name[0] ? " `" : "", name, name[0] ? "`" : "");
		return;
	} else {
		return;	/* MariaDB ignores it, as before */
	}
	ddl__note(x, "/*!%lu %s */ read as code (MariaDB ignores MySQL's versioned comments)", g->version, in);
}

/* MySQL 5.7/8 executable comments (/+!50700 .. /+!99999) are ignored by
 * MariaDB, but the MySQL source ran them: the ones that change what the
 * table takes or does become code MariaDB reads. */
static int rule_mysql_comments(struct ddl_rx *x)
{
	const struct ddl_toks *k = x->k;

	if (x->source == DDL_SOURCE_MARIADB)
		return 0;	/* the source ignored them too */
	for (size_t gi = 0; gi < k->ng; gi++) {
		const struct ddl_group *g = &k->g[gi];
		size_t a = 0, b = 0, n = 0;
		char *in;

		if (g->mariadb || g->version < 50700 || g->version > 99999 || g->close >= k->len)
			continue;
		for (size_t i = 0; i < k->n; i++)
			if (k->v[i].group == gi + 1) {
				if (!n++)
					a = i;
				b = i;
			}
		if (!n)
			continue;
		/* the code whole, however long: it becomes the statement's text */
		in = sl_xstrndup(k->s + k->v[a].off, k->v[b].off + k->v[b].len - k->v[a].off);
		mysql_comment(x, g, a, b, n, in);
		free(in);
	}
	return 0;
}

/* ---- statement forms: OR REPLACE, IF [NOT] EXISTS, functional key parts ---- */

/* MariaDB's CREATE OR REPLACE of anything but a view. */
static int rule_or_replace(struct ddl_rx *x)
{
	const struct ddl_toks *k = x->k;
	static const char *const what[] = {
		[DDL_K_OTHER] = "", [DDL_K_CREATE_TABLE] = "TABLE", [DDL_K_ALTER_TABLE] = "",
		[DDL_K_CREATE_INDEX] = "INDEX", [DDL_K_VIEW] = "VIEW", [DDL_K_TRIGGER] = "TRIGGER",
		[DDL_K_ROUTINE] = "PROCEDURE/FUNCTION", [DDL_K_EVENT] = "EVENT",
		[DDL_K_SEQUENCE] = "SEQUENCE", [DDL_K_DATABASE] = "DATABASE",
	};

	if (!ddl__is(k, 0, "CREATE") || !ddl__is(k, 1, "OR") || !ddl__is(k, 2, "REPLACE") ||
	    x->st->kind == DDL_K_VIEW)
		return 0;
	return ddl__refuse(x, "%s has no CREATE OR REPLACE %s (it would need a DROP first)",
			   ddl__target_name(x->t), what[x->st->kind]);
}

/* MariaDB's guards inside ALTER TABLE (ADD COLUMN IF NOT EXISTS, DROP INDEX
 * IF EXISTS ...), ALTER TABLE IF EXISTS, CREATE INDEX IF NOT EXISTS and
 * DROP INDEX IF EXISTS: MySQL has none of them. Replay runs a statement
 * once, so the guard goes (with a note). */
static int rule_if_exists(struct ddl_rx *x)
{
	const struct ddl_toks *k = x->k;
	int drop_index = ddl__is(k, 0, "DROP") && ddl__is(k, 1, "INDEX");

	if (x->st->kind != DDL_K_ALTER_TABLE && x->st->kind != DDL_K_CREATE_INDEX && !drop_index)
		return 0;
	for (size_t i = 1; i + 1 < k->n; i++) {
		size_t last = ddl__is(k, i + 1, "NOT") ? i + 2 : i + 1;

		if (ddl__isp(k, i, '(')) {
			i = ddl__skip_group(k, i) - 1;
			continue;
		}
		if (!ddl__is(k, i, "IF") || !ddl__is(k, last, "EXISTS"))
			continue;
		if (x->st->kind == DDL_K_CREATE_INDEX && i > x->st->name)
			break;
		ddl__edit_remove(x->ed, k, i, last);
		ddl__note(x, "IF %sEXISTS removed (%s has no such guard here; replay runs the statement once)",
			  last == i + 2 ? "NOT " : "", ddl__target_name(x->t));
		i = last;
	}
	return 0;
}

static int kp_functional(struct ddl_rx *x, const struct ddl_part *p, size_t a, size_t b)
{
	char n[128];

	(void)b;
	if (ddl__isp(x->k, a, '('))
		return ddl__refuse(x, "%s cannot take index `%s` on an expression (a functional key part)",
				   ddl__target_name(x->t), ddl__index_name(x, p, n, sizeof(n)));
	return 0;
}

/* MySQL 8.0.13's functional key parts: KEY k ((lower(a))). */
static int rule_functional_index(struct ddl_rx *x)
{
	int rc;

	if (x->t->dialect == DDL_MYSQL && (!x->t->major || x->t->major >= 8) &&
	    !(x->t->major == 8 && x->t->minor == 0 && x->t->patch < 13))
		return 0;
	for (size_t i = 0; i < x->st->nparts; i++)
		if (ddl__is_index(x->st->parts[i].kind) &&
		    (rc = ddl__each_key_part(x, &x->st->parts[i], kp_functional)))
			return rc;
	return 0;
}

/* ---- the table ---- */

static const struct ddl_rule rules[] = {
	{ "definer", DDL_D_ALL, rule_definer },
	{ "mysql-comments", DDL_D_MARIADB, rule_mysql_comments },
	{ "collation-0900", DDL_D_ALL, rule_collation },
	{ "real", DDL_D_OB, rule_real },
	{ "nchar", DDL_D_OB, rule_nchar },
	{ "serial", DDL_D_OB, rule_serial },
	{ "mariadb-types", DDL_D_MYSQL | DDL_D_OB, rule_mariadb_types },
	{ "column-compressed", DDL_D_MYSQL | DDL_D_OB, rule_column_compressed },
	{ "system-versioning", DDL_D_MYSQL | DDL_D_OB, rule_system_versioning },
	{ "sequence", DDL_D_MYSQL | DDL_D_OB, rule_sequence },
	{ "or-replace", DDL_D_MYSQL | DDL_D_OB, rule_or_replace },
	{ "if-exists", DDL_D_MYSQL | DDL_D_OB, rule_if_exists },
	{ "functional-index", DDL_D_MARIADB | DDL_D_MYSQL, rule_functional_index },
	{ "table-options", DDL_D_ALL, rule_table_options },
	{ "index-visibility", DDL_D_ALL, rule_index_visibility },
	{ "ob-fulltext", DDL_D_OB, ddl__rule_ob_fulltext },
	{ "ob-index-desc", DDL_D_OB, ddl__rule_ob_index_desc },
	{ "ob-index-767", DDL_D_OB, ddl__rule_ob_index_767 },
	{ "ob-fk-cascade", DDL_D_OB, ddl__rule_ob_fk_cascade },
	{ "ob-float-pk", DDL_D_OB, ddl__rule_ob_float_pk },
};

int ddl_convert(const struct ddl_target *t, const char *object, const char *stmt, size_t len,
		struct sl_buf *out, ddl_note_fn note_fn, void *ctx, struct sl_err *err)
{
	return ddl_convert_from(t, DDL_SOURCE_UNKNOWN, object, stmt, len, out, note_fn, ctx, err);
}

/* Passes over the rule table before a statement that still changes is
 * refused. A rule's edit can make a statement for a rule that ran before it
 * (if-exists takes a guard off, and what follows reads as a column for
 * real); a further pass applies that, and a pass that changes nothing ends
 * the conversion, so converting its text again changes nothing and notes
 * nothing. A statement no row changes takes one pass; a changed one takes
 * at least two (the last finds nothing). */
#define DDL_PASSES_MAX 8

/* One pass of every row for t over *text (n bytes); a row that changes the
 * text leaves the new text in *cur (text then points into it) and its name
 * in *changed. */
static int convert_pass(const struct ddl_target *t, enum ddl_source source, const char *object,
			const char **text, size_t *n, struct sl_buf *cur, struct sl_buf *next,
			const char **changed, ddl_note_fn note_fn, void *ctx, struct sl_err *err)
{
	int rc = 0;

	for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]) && !rc; r++) {
		struct ddl_stmt st;
		struct ddl_edits ed = { 0 };
		struct ddl_rx x = { .t = t, .source = source, .object = object, .r = &rules[r], .st = &st, .k = &st.t,
				.ed = &ed, .note = note_fn, .ctx = ctx, .err = err };

		if (!(rules[r].dialects & (1u << t->dialect)))
			continue;
		if ((rc = ddl__parse(*text, *n, &st, err))) {
			char m[sizeof(err->msg)];

			snprintf(m, sizeof(m), "%s", err->msg);
			rc = sl_err_set(err, rc, "%s: cannot read the statement: %s", object, m);
			ddl__stmt_release(&st);
			break;
		}
		rc = rules[r].fn(&x);
		if (!rc && ed.n) {
			sl_buf_reset(next);
			if ((rc = ddl__edits_apply(&ed, *text, *n, next)))
				rc = sl_err_set(err, rc, "%s: statement too large", object);
			else if (next->len != *n || memcmp(next->data, *text, *n)) {
				struct sl_buf tmp = *cur;

				*cur = *next;
				*next = tmp;
				*text = (const char *)cur->data;
				*n = cur->len;
				*changed = rules[r].name;
			}
		}
		ddl__edits_release(&ed);
		ddl__stmt_release(&st);
	}
	return rc;
}

int ddl_convert_from(const struct ddl_target *t, enum ddl_source source, const char *object,
		     const char *stmt, size_t len, struct sl_buf *out, ddl_note_fn note_fn, void *ctx,
		     struct sl_err *err)
{
	struct sl_buf cur = SL_BUF_INIT(SL_BUF_UNLIMITED), next = SL_BUF_INIT(SL_BUF_UNLIMITED);
	const char *text = stmt, *changed = NULL;
	size_t n = len;
	int rc = 0;

	if (!object)
		object = "statement";
	for (unsigned pass = 0; !rc; pass++) {
		const char *last = changed;

		if (pass == DDL_PASSES_MAX) {
			rc = sl_err_set(err, -SL_EFORMAT, "%s: " DDL_UNSETTLED " on the statement "
					"(rule %s still changes it after %u passes)", object, last, pass);
			break;
		}
		changed = NULL;
		rc = convert_pass(t, source, object, &text, &n, &cur, &next, &changed, note_fn, ctx, err);
		if (!changed)
			break;
	}
	if (!rc && sl_buf_add(out, text, n))
		rc = sl_err_set(err, -SL_ETOOBIG, "%s: statement too large", object);
	sl_buf_release(&cur);
	sl_buf_release(&next);
	return rc;
}
