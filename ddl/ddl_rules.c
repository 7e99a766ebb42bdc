/* ddl_rules.c - the dialect rule table: each row a name, the destinations it applies to, and a function that converts a statement (with a note per change) or refuses it; ddl_convert() runs every row. */
#include "ddl_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

#define D_MARIADB (1u << DDL_MARIADB)
#define D_MYSQL (1u << DDL_MYSQL)
#define D_OB (1u << DDL_OCEANBASE)
#define D_ALL (D_MARIADB | D_MYSQL | D_OB)

#define OB_KEY_MAX 767u	/* bytes of one index key part we let OceanBase take */

struct rule;

/* What a rule function sees: the statement, where it writes its edits, and
 * how it reports. */
struct rx {
	const struct ddl_target *t;
	const char *object;
	const struct rule *r;
	struct ddl_stmt *st;
	struct ddl_toks *k;	/* &st->t */
	struct ddl_edits *ed;
	ddl_note_fn note;
	void *ctx;
	struct sl_err *err;
	char noted[8][400];	/* the notes made by this rule on this statement */
	unsigned nnoted;
};

struct rule {
	const char *name;
	unsigned dialects;
	int (*fn)(struct rx *x);
};

static void note(struct rx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct rx *x, const char *fmt, ...)
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

static int refuse(struct rx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct rx *x, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sl_err_set(x->err, -SL_EFORMAT, "%s: rule %s: %s", x->object, x->r->name, what);
}

static const char *target_name(const struct ddl_target *t)
{
	return t->dialect == DDL_OCEANBASE ? "OceanBase" : t->dialect == DDL_MYSQL ? "MySQL" : "MariaDB";
}

static int ver_ge(const struct ddl_target *t, unsigned a, unsigned b, unsigned c)
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

static int is_index(enum ddl_part_kind k)
{
	return k == DDL_P_PRIMARY || k == DDL_P_UNIQUE || k == DDL_P_INDEX || k == DDL_P_FULLTEXT ||
	       k == DDL_P_SPATIAL;
}

/* The name of the index of part p ("PRIMARY" for the primary key). */
static const char *index_name(const struct rx *x, const struct ddl_part *p, char *buf, size_t n)
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
static const struct ddl_part *column(const struct rx *x, const char *name)
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
static size_t find_word(const struct ddl_toks *k, size_t a, size_t b, const char *w)
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
static int each_key_part(struct rx *x, const struct ddl_part *p,
			 int (*cb)(struct rx *x, const struct ddl_part *p, size_t a, size_t b))
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

/* ---- collation-0900 ---- */

static const char *collation_for(const struct ddl_target *t, const char *c)
{
	int bin = strlen(c) > 4 && (!strcasecmp(c + strlen(c) - 4, "_bin") ||
				    !strcasecmp(c + strlen(c) - 6, "_as_cs"));

	if (strncasecmp(c, "utf8mb4_", 8) || !strstr(c, "_0900_"))
		return NULL;
	switch (t->dialect) {
	case DDL_MARIADB:
		/* 11.4.5 takes utf8mb4_0900_ai_ci as an alias of its own */
		if (!strcasecmp(c, "utf8mb4_0900_ai_ci") && ver_ge(t, 11, 4, 5))
			return NULL;
		return bin ? "utf8mb4_bin" : "utf8mb4_unicode_520_ci";
	case DDL_MYSQL:
		return !t->major || t->major >= 8 ? NULL : bin ? "utf8mb4_bin" : "utf8mb4_unicode_520_ci";
	case DDL_OCEANBASE:
		return bin ? "utf8mb4_bin" : "utf8mb4_general_ci";
	}
	return NULL;
}

static int rule_collation(struct rx *x)
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
		note(x, "%s -> %s: keys that were distinct may now collide, and the order of "
		     "strings may change", c, to);
	}
	return 0;
}

/* ---- types: real, nchar, serial, mariadb-types ---- */

/* Each column definition of the statement: cb(x, p, type token). */
static int each_column(struct rx *x, int (*cb)(struct rx *x, const struct ddl_part *p, size_t ty))
{
	int rc;

	for (size_t i = 0; i < x->st->nparts; i++) {
		const struct ddl_part *p = &x->st->parts[i];

		if (p->kind == DDL_P_COLUMN && p->first + 1 < p->end &&
		    (x->st->kind == DDL_K_CREATE_TABLE || x->st->kind == DDL_K_ALTER_TABLE) &&
		    (rc = cb(x, p, p->first + 1)))
			return rc;
	}
	return 0;
}

static int col_real(struct rx *x, const struct ddl_part *p, size_t ty)
{
	char n[128];

	if (!ddl__is(x->k, ty, "REAL"))
		return 0;
	ddl__edit_replace(x->ed, x->k, ty, ty, "DOUBLE");
	note(x, "column `%s`: REAL -> DOUBLE", ddl__name(x->k, p->first, n, sizeof(n)));
	return 0;
}

static int rule_real(struct rx *x)
{
	return each_column(x, col_real);
}

static int col_nchar(struct rx *x, const struct ddl_part *p, size_t ty)
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
	note(x, "column `%s`: national character type -> %s CHARACTER SET utf8mb4",
	     ddl__name(k, p->first, n, sizeof(n)), to);
	return 0;
}

static int rule_nchar(struct rx *x)
{
	return each_column(x, col_nchar);
}

static int col_serial(struct rx *x, const struct ddl_part *p, size_t ty)
{
	const struct ddl_toks *k = x->k;
	char n[128];

	ddl__name(k, p->first, n, sizeof(n));
	if (ddl__is(k, ty, "SERIAL")) {
		ddl__edit_replace(x->ed, k, ty, ty, "BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE");
		note(x, "column `%s`: SERIAL -> BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE", n);
		return 0;
	}
	for (size_t i = ty + 1; i + 2 < p->end; i++)
		if (ddl__is(k, i, "SERIAL") && ddl__is(k, i + 1, "DEFAULT") && ddl__is(k, i + 2, "VALUE")) {
			ddl__edit_replace(x->ed, k, i, i + 2, "NOT NULL AUTO_INCREMENT UNIQUE");
			note(x, "column `%s`: SERIAL DEFAULT VALUE -> NOT NULL AUTO_INCREMENT UNIQUE", n);
		}
	return 0;
}

static int rule_serial(struct rx *x)
{
	return each_column(x, col_serial);
}

static int col_mariadb_type(struct rx *x, const struct ddl_part *p, size_t ty)
{
	char n[128], tn[32];

	if (ddl__is(x->k, ty, "INET6") || ddl__is(x->k, ty, "INET4") || ddl__is(x->k, ty, "UUID"))
		return refuse(x, "column `%s`: %s has no %s type", ddl__name(x->k, p->first, n, sizeof(n)),
			      target_name(x->t), ddl__text(x->k, ty, tn, sizeof(tn)));
	return 0;
}

static int rule_mariadb_types(struct rx *x)
{
	return each_column(x, col_mariadb_type);
}

static int col_compressed(struct rx *x, const struct ddl_part *p, size_t ty)
{
	const struct ddl_toks *k = x->k;
	char n[128];

	for (size_t i = ty + 1; i < p->end; i++) {
		if (ddl__isp(k, i, '(')) {
			i = ddl__skip_group(k, i) - 1;
			continue;
		}
		if (!ddl__is(k, i, "COMPRESSED") || ddl__is(k, i - 1, "COLUMN_FORMAT"))
			continue;
		ddl__edit_remove(x->ed, k, i, ddl__isp(k, i + 1, '=') && i + 2 < p->end ? i + 2 : i);
		note(x, "column `%s`: COMPRESSED removed (%s stores it uncompressed)",
		     ddl__name(k, p->first, n, sizeof(n)), target_name(x->t));
	}
	return 0;
}

static int rule_column_compressed(struct rx *x)
{
	return each_column(x, col_compressed);
}

/* ---- definer ---- */

static int rule_definer(struct rx *x)
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
		note(x, "DEFINER=%s removed: created with replay's account as definer (accounts are "
		     "not migrated)", who);
		i = last;
	}
	return 0;
}

/* ---- OceanBase: indexes ---- */

static int rule_ob_fulltext(struct rx *x)
{
	char n[128];

	for (size_t i = 0; i < x->st->nparts; i++) {
		const struct ddl_part *p = &x->st->parts[i];

		if (p->kind == DDL_P_FULLTEXT || p->kind == DDL_P_SPATIAL)
			return refuse(x, "OceanBase cannot take %s index `%s`",
				      p->kind == DDL_P_FULLTEXT ? "FULLTEXT" : "SPATIAL",
				      index_name(x, p, n, sizeof(n)));
	}
	return 0;
}

static int kp_desc(struct rx *x, const struct ddl_part *p, size_t a, size_t b)
{
	char n[128];

	if (b - a >= 2 && ddl__is(x->k, b - 1, "DESC")) {
		ddl__edit_remove(x->ed, x->k, b - 1, b - 1);
		note(x, "index `%s`: descending key parts made ascending (the same lookups, "
		     "a backward scan for ORDER BY ... DESC)", index_name(x, p, n, sizeof(n)));
	}
	return 0;
}

static int rule_ob_index_desc(struct rx *x)
{
	for (size_t i = 0; i < x->st->nparts; i++)
		if (is_index(x->st->parts[i].kind))
			each_key_part(x, &x->st->parts[i], kp_desc);
	return 0;
}

/* INVISIBLE (MySQL) and IGNORED (MariaDB >= 10.6) in the options after an
 * index's key parts: OceanBase takes neither (removed: the index is used),
 * MariaDB says IGNORED, MySQL says INVISIBLE. */
static int rule_index_visibility(struct rx *x)
{
	const struct ddl_toks *k = x->k;
	char n[128];

	for (size_t i = 0; i < x->st->nparts; i++) {
		const struct ddl_part *p = &x->st->parts[i];

		if (!is_index(p->kind) || !p->keys)
			continue;
		for (size_t j = ddl__skip_group(k, p->keys); j < p->end; j++) {
			int inv = ddl__is(k, j, "INVISIBLE"), ign = ddl__is(k, j, "IGNORED");

			if (!inv && !ign)
				continue;
			index_name(x, p, n, sizeof(n));
			if (x->t->dialect == DDL_OCEANBASE) {
				ddl__edit_remove(x->ed, k, j, j);
				note(x, "index `%s`: %s removed, the optimizer uses it", n, inv ? "INVISIBLE" : "IGNORED");
			} else if (x->t->dialect == DDL_MARIADB && inv) {
				ddl__edit_replace(x->ed, k, j, j, "IGNORED");
				note(x, "index `%s`: INVISIBLE -> IGNORED", n);
			} else if (x->t->dialect == DDL_MYSQL && ign) {
				ddl__edit_replace(x->ed, k, j, j, "INVISIBLE");
				note(x, "index `%s`: IGNORED -> INVISIBLE", n);
			}
		}
	}
	return 0;
}

/* Bytes per character of a column (its CHARACTER SET or COLLATE, else the
 * table's default, else utf8mb4). */
static unsigned charset_bytes(const char *cs)
{
	static const struct { const char *name; unsigned n; } m[] = {
		{ "latin1", 1 }, { "ascii", 1 }, { "binary", 1 }, { "latin2", 1 }, { "cp1250", 1 },
		{ "cp1251", 1 }, { "cp1256", 1 }, { "cp1257", 1 }, { "greek", 1 }, { "hebrew", 1 },
		{ "latin5", 1 }, { "latin7", 1 }, { "koi8r", 1 }, { "koi8u", 1 }, { "tis620", 1 },
		{ "swe7", 1 }, { "hp8", 1 }, { "dec8", 1 }, { "cp850", 1 }, { "cp852", 1 },
		{ "cp866", 1 }, { "macroman", 1 }, { "macce", 1 }, { "armscii8", 1 }, { "geostd8", 1 },
		{ "keybcs2", 1 }, { "ucs2", 2 }, { "gbk", 2 }, { "big5", 2 }, { "sjis", 2 },
		{ "cp932", 2 }, { "euckr", 2 }, { "gb2312", 2 }, { "utf8", 3 }, { "utf8mb3", 3 },
		{ "ujis", 3 }, { "eucjpms", 3 }, { "utf8mb4", 4 }, { "utf16", 4 }, { "utf16le", 4 },
		{ "utf32", 4 }, { "gb18030", 4 },
	};
	char b[64];
	size_t l = strcspn(cs, "_");

	snprintf(b, sizeof(b), "%.*s", (int)l, cs);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcasecmp(m[i].name, b))
			return m[i].n;
	return 4;
}

/* The charset named in tokens [a, b) (CHARACTER SET x, CHARSET x, COLLATE x). */
static const char *charset_in(const struct ddl_toks *k, size_t a, size_t b, char *buf, size_t n)
{
	for (size_t i = a; i < b; i++) {
		size_t v = 0;

		if (ddl__is(k, i, "CHARSET") || ddl__is(k, i, "COLLATE"))
			v = i + 1;
		else if (ddl__is(k, i, "CHARACTER") && ddl__is(k, i + 1, "SET"))
			v = i + 2;
		if (!v)
			continue;
		if (ddl__isp(k, v, '='))
			v++;
		if (v < b && ddl__is_name(k, v) && !ddl__is(k, v, "DEFAULT"))
			return ddl__name(k, v, buf, n);
	}
	return NULL;
}

static int kp_767(struct rx *x, const struct ddl_part *p, size_t a, size_t b)
{
	const struct ddl_toks *k = x->k;
	const struct ddl_part *c;
	char n[128], ty[32], cs[64], in[128];
	unsigned mb = 1, chars;
	size_t bytes = 0, prefix = 0;
	int binary;

	if (!ddl__is_name(k, a) || !(c = column(x, ddl__name(k, a, n, sizeof(n)))))
		return 0;	/* an expression, or a column this statement does not define */
	ddl__text(k, c->first + 1, ty, sizeof(ty));
	binary = !strcasecmp(ty, "binary") || !strcasecmp(ty, "varbinary") ||
		 (strlen(ty) >= 4 && !strcasecmp(ty + strlen(ty) - 4, "blob"));
	if (!binary) {
		const char *s = charset_in(k, c->first + 2, c->end, cs, sizeof(cs));

		if (!s)
			s = charset_in(k, x->st->opts, x->st->opts_end, cs, sizeof(cs));
		mb = charset_bytes(s ? s : "utf8mb4");
	}
	if (ddl__isp(k, a + 1, '(') && a + 2 < b && k->v[a + 2].kind == DDL_TK_NUMBER)
		prefix = strtoul(k->s + k->v[a + 2].off, NULL, 10);
	if (prefix)
		bytes = prefix * mb;
	else if ((!strcasecmp(ty, "char") || !strcasecmp(ty, "varchar") || !strcasecmp(ty, "binary") ||
		  !strcasecmp(ty, "varbinary")) && ddl__isp(k, c->first + 2, '(') &&
		 k->v[c->first + 3].kind == DDL_TK_NUMBER)
		bytes = strtoul(k->s + k->v[c->first + 3].off, NULL, 10) * mb;
	if (bytes <= OB_KEY_MAX)
		return 0;
	index_name(x, p, in, sizeof(in));
	if (p->kind == DDL_P_PRIMARY || p->kind == DDL_P_UNIQUE)
		return refuse(x, "key part `%s` of unique key `%s` is %zu bytes, over OceanBase's %u "
			      "(a prefix would make distinct values collide)", n, in, bytes, OB_KEY_MAX);
	chars = OB_KEY_MAX / mb;
	snprintf(ty, sizeof(ty), "(%u)", chars);
	if (prefix)
		ddl__edit_replace(x->ed, k, a + 1, ddl__skip_group(k, a + 1) - 1, ty);
	else
		ddl__edit_after(x->ed, k, a, ty);
	note(x, "index `%s`: key part `%s` of %zu bytes indexed by its first %u characters", in, n,
	     bytes, chars);
	return 0;
}

static int rule_ob_index_767(struct rx *x)
{
	int rc;

	if (x->st->kind != DDL_K_CREATE_TABLE)
		return 0;	/* ALTER and CREATE INDEX do not say the column's length */
	for (size_t i = 0; i < x->st->nparts; i++)
		if (is_index(x->st->parts[i].kind) && (rc = each_key_part(x, &x->st->parts[i], kp_767)))
			return rc;
	return 0;
}

/* ---- OceanBase: foreign keys, primary keys ---- */

static int rule_ob_fk_cascade(struct rx *x)
{
	const struct ddl_toks *k = x->k;
	char n[128];

	for (size_t i = 0; i < x->st->nparts; i++) {
		const struct ddl_part *p = &x->st->parts[i];

		if (p->kind != DDL_P_FOREIGN)
			continue;
		for (size_t j = p->first; j + 2 < p->end; j++)
			if (ddl__is(k, j, "ON") && (ddl__is(k, j + 1, "DELETE") || ddl__is(k, j + 1, "UPDATE")) &&
			    ddl__is(k, j + 2, "CASCADE")) {
				n[0] = 0;
				if (ddl__is(k, p->first, "CONSTRAINT") && !ddl__is(k, p->first + 1, "FOREIGN"))
					ddl__name(k, p->first + 1, n, sizeof(n));
				return refuse(x, "OceanBase cannot take foreign key `%s` ON %s CASCADE (the "
					      "application would lose the cascade after switchover)",
					      n[0] ? n : "(unnamed)", ddl__is(k, j + 1, "DELETE") ? "DELETE" : "UPDATE");
			}
	}
	return 0;
}

static int float_type(const struct ddl_toks *k, size_t ty)
{
	return ddl__is(k, ty, "FLOAT") || ddl__is(k, ty, "DOUBLE") || ddl__is(k, ty, "REAL") ||
	       ddl__is(k, ty, "FLOAT4") || ddl__is(k, ty, "FLOAT8");
}

static int kp_float(struct rx *x, const struct ddl_part *p, size_t a, size_t b)
{
	const struct ddl_part *c;
	char n[128], ty[32];

	(void)p;
	(void)b;
	if (ddl__is_name(x->k, a) && (c = column(x, ddl__name(x->k, a, n, sizeof(n)))) &&
	    float_type(x->k, c->first + 1))
		return refuse(x, "OceanBase cannot take a primary key on %s column `%s`",
			      ddl__text(x->k, c->first + 1, ty, sizeof(ty)), n);
	return 0;
}

static int rule_ob_float_pk(struct rx *x)
{
	const struct ddl_toks *k = x->k;
	char n[128], ty[32];
	int rc;

	for (size_t i = 0; i < x->st->nparts; i++) {
		const struct ddl_part *p = &x->st->parts[i];

		if (p->kind == DDL_P_PRIMARY && x->st->kind == DDL_K_CREATE_TABLE &&
		    (rc = each_key_part(x, p, kp_float)))
			return rc;
		if (p->kind == DDL_P_COLUMN && float_type(k, p->first + 1) &&
		    (find_word(k, p->first + 2, p->end, "PRIMARY") < p->end ||
		     (find_word(k, p->first + 2, p->end, "KEY") < p->end &&
		      !ddl__is(k, find_word(k, p->first + 2, p->end, "KEY") - 1, "UNIQUE"))))
			return refuse(x, "OceanBase cannot take a primary key on %s column `%s`",
				      ddl__text(k, p->first + 1, ty, sizeof(ty)),
				      ddl__name(k, p->first, n, sizeof(n)));
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
	{ "ROW_FORMAT", D_OB, OPT_DROP_COMPRESSED },
	{ "KEY_BLOCK_SIZE", D_OB, OPT_DROP },
	{ "PAGE_CHECKSUM", D_MYSQL | D_OB, OPT_DROP },
	{ "TRANSACTIONAL", D_MYSQL | D_OB, OPT_DROP },
	{ "PAGE_COMPRESSED", D_MYSQL | D_OB, OPT_DROP },
	{ "PAGE_COMPRESSION_LEVEL", D_MYSQL | D_OB, OPT_DROP },
	{ "IETF_QUOTES", D_MYSQL | D_OB, OPT_DROP },
	{ "ENCRYPTED", D_MYSQL | D_OB, OPT_DROP_UNLESS_YES },
	{ "ENCRYPTION_KEY_ID", D_MYSQL | D_OB, OPT_DROP },
	{ "ENCRYPTION", D_MARIADB | D_OB, OPT_DROP_UNLESS_YES },
	{ "STATS_PERSISTENT", D_OB, OPT_DROP },
	{ "STATS_AUTO_RECALC", D_OB, OPT_DROP },
	{ "STATS_SAMPLE_PAGES", D_OB, OPT_DROP },
	{ "AUTOEXTEND_SIZE", D_MARIADB | D_OB, OPT_DROP },
	{ "SECONDARY_ENGINE", D_MARIADB | D_OB, OPT_DROP },
};

static int yes_value(const struct ddl_toks *k, size_t v)
{
	char b[16];

	ddl__name(k, v, b, sizeof(b));
	return !strcasecmp(b, "YES") || !strcasecmp(b, "Y") || !strcmp(b, "1");
}

/* Table options in tokens [a, b): each one the target lacks removed (or
 * refused). Returns the number of tokens removed through *gone. */
static int options_in(struct rx *x, size_t a, size_t b, size_t *gone)
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
			return refuse(x, "%s cannot take %s=%s (the table would be stored unencrypted)",
				      target_name(x->t), o->name, b2);
		ddl__edit_remove(x->ed, k, from, v);
		*gone += v - from + 1;
		note(x, "table option %s=%s removed (%s does not take it)",
		     ddl__text(k, i, b1, sizeof(b1)), ddl__text(k, v, b2, sizeof(b2)), target_name(x->t));
		i = v;
	}
	return 0;
}

static int rule_table_options(struct rx *x)
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

static int rule_system_versioning(struct rx *x)
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
			return refuse(x, "%s has no system-versioned tables (the history rows cannot be "
				      "carried)", target_name(x->t));
	}
	return 0;
}

static int rule_sequence(struct rx *x)
{
	if (x->st->kind == DDL_K_SEQUENCE)
		return refuse(x, "%s has no sequences (MariaDB CREATE SEQUENCE)", target_name(x->t));
	return 0;
}

/* ---- the table ---- */

static const struct rule rules[] = {
	{ "definer", D_ALL, rule_definer },
	{ "collation-0900", D_ALL, rule_collation },
	{ "real", D_OB, rule_real },
	{ "nchar", D_OB, rule_nchar },
	{ "serial", D_OB, rule_serial },
	{ "mariadb-types", D_MYSQL | D_OB, rule_mariadb_types },
	{ "column-compressed", D_MYSQL | D_OB, rule_column_compressed },
	{ "system-versioning", D_MYSQL | D_OB, rule_system_versioning },
	{ "sequence", D_MYSQL | D_OB, rule_sequence },
	{ "table-options", D_ALL, rule_table_options },
	{ "index-visibility", D_ALL, rule_index_visibility },
	{ "ob-fulltext", D_OB, rule_ob_fulltext },
	{ "ob-index-desc", D_OB, rule_ob_index_desc },
	{ "ob-index-767", D_OB, rule_ob_index_767 },
	{ "ob-fk-cascade", D_OB, rule_ob_fk_cascade },
	{ "ob-float-pk", D_OB, rule_ob_float_pk },
};

int ddl_convert(const struct ddl_target *t, const char *object, const char *stmt, size_t len,
		struct sl_buf *out, ddl_note_fn note_fn, void *ctx, struct sl_err *err)
{
	struct sl_buf cur = SL_BUF_INIT(SL_BUF_UNLIMITED), next = SL_BUF_INIT(SL_BUF_UNLIMITED);
	const char *text = stmt;
	size_t n = len;
	int rc = 0;

	if (!object)
		object = "statement";
	for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]) && !rc; r++) {
		struct ddl_stmt st;
		struct ddl_edits ed = { 0 };
		struct rx x = { .t = t, .object = object, .r = &rules[r], .st = &st, .k = &st.t,
				.ed = &ed, .note = note_fn, .ctx = ctx, .err = err };

		if (!(rules[r].dialects & (1u << t->dialect)))
			continue;
		if ((rc = ddl__parse(text, n, &st, err))) {
			char m[sizeof(err->msg)];

			snprintf(m, sizeof(m), "%s", err->msg);
			rc = sl_err_set(err, rc, "%s: cannot read the statement: %s", object, m);
			ddl__stmt_release(&st);
			break;
		}
		rc = rules[r].fn(&x);
		if (!rc && ed.n) {
			sl_buf_reset(&next);
			if ((rc = ddl__edits_apply(&ed, text, n, &next)))
				rc = sl_err_set(err, rc, "%s: statement too large", object);
			else {
				struct sl_buf tmp = cur;

				cur = next;
				next = tmp;
				text = (const char *)cur.data;
				n = cur.len;
			}
		}
		ddl__edits_release(&ed);
		ddl__stmt_release(&st);
	}
	if (!rc && sl_buf_add(out, text, n))
		rc = sl_err_set(err, -SL_ETOOBIG, "%s: statement too large", object);
	sl_buf_release(&cur);
	sl_buf_release(&next);
	return rc;
}
