/* ddl_rules_ob.c - the rules for OceanBase MySQL tenants: FULLTEXT/SPATIAL indexes, descending key parts, key parts over 767 bytes, cascading foreign keys, floating-point primary keys. */
#include "ddl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

#define OB_KEY_MAX 767u	/* bytes of one index key part we let OceanBase take */

/* ---- OceanBase: indexes ---- */

int ddl__rule_ob_fulltext(struct ddl_rx *x)
{
	char n[128];

	for (size_t i = 0; i < x->st->nparts; i++) {
		const struct ddl_part *p = &x->st->parts[i];

		if (p->kind == DDL_P_FULLTEXT || p->kind == DDL_P_SPATIAL)
			return ddl__refuse(x, "OceanBase cannot take %s index `%s`",
				      p->kind == DDL_P_FULLTEXT ? "FULLTEXT" : "SPATIAL",
				      ddl__index_name(x, p, n, sizeof(n)));
	}
	return 0;
}

static int kp_desc(struct ddl_rx *x, const struct ddl_part *p, size_t a, size_t b)
{
	char n[128];
	size_t s = b;

	/* the whole trailing run of ASC/DESC goes, so that a second pass
	 * finds nothing (fuzz_ddl: "KEY k (a DESC DESC)" took two) */
	while (s - a >= 2 && (ddl__is(x->k, s - 1, "DESC") || ddl__is(x->k, s - 1, "ASC")))
		s--;
	if (s < b && ddl__is(x->k, b - 1, "DESC")) {
		ddl__edit_remove(x->ed, x->k, s, b - 1);
		ddl__note(x, "index `%s`: descending key parts made ascending (the same lookups, "
		     "a backward scan for ORDER BY ... DESC)", ddl__index_name(x, p, n, sizeof(n)));
	}
	return 0;
}

int ddl__rule_ob_index_desc(struct ddl_rx *x)
{
	for (size_t i = 0; i < x->st->nparts; i++)
		if (ddl__is_index(x->st->parts[i].kind))
			ddl__each_key_part(x, &x->st->parts[i], kp_desc);
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

static int kp_767(struct ddl_rx *x, const struct ddl_part *p, size_t a, size_t b)
{
	const struct ddl_toks *k = x->k;
	const struct ddl_part *c;
	char n[128], ty[32], cs[64], in[128];
	unsigned mb = 1, chars;
	size_t bytes = 0, prefix = 0;
	int binary;

	if (!ddl__is_name(k, a) || !(c = ddl__column(x, ddl__name(k, a, n, sizeof(n)))))
		return 0;	/* an expression, or a column this statement does not define */
	ddl__text(k, c->first + 1, ty, sizeof(ty));
	binary = !strcasecmp(ty, "binary") || !strcasecmp(ty, "varbinary") || ddl__ends_with(ty, "blob");
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
		 c->first + 3 < k->n && k->v[c->first + 3].kind == DDL_TK_NUMBER)
		bytes = strtoul(k->s + k->v[c->first + 3].off, NULL, 10) * mb;
	if (bytes <= OB_KEY_MAX)
		return 0;
	ddl__index_name(x, p, in, sizeof(in));
	if (p->kind == DDL_P_PRIMARY || p->kind == DDL_P_UNIQUE)
		return ddl__refuse(x, "key part `%s` of unique key `%s` is %zu bytes, over OceanBase's %u "
			      "(a prefix would make distinct values collide)", n, in, bytes, OB_KEY_MAX);
	chars = OB_KEY_MAX / mb;
	snprintf(ty, sizeof(ty), "(%u)", chars);
	if (prefix)
		ddl__edit_replace(x->ed, k, a + 1, ddl__skip_group(k, a + 1) - 1, ty);
	else
		ddl__edit_after(x->ed, k, a, ty);
	ddl__note(x, "index `%s`: key part `%s` of %zu bytes indexed by its first %u characters", in, n,
	     bytes, chars);
	return 0;
}

int ddl__rule_ob_index_767(struct ddl_rx *x)
{
	int rc;

	if (x->st->kind != DDL_K_CREATE_TABLE)
		return 0;	/* ALTER and CREATE INDEX do not say the column's length */
	for (size_t i = 0; i < x->st->nparts; i++)
		if (ddl__is_index(x->st->parts[i].kind) && (rc = ddl__each_key_part(x, &x->st->parts[i], kp_767)))
			return rc;
	return 0;
}

/* ---- OceanBase: foreign keys, primary keys ---- */

int ddl__rule_ob_fk_cascade(struct ddl_rx *x)
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
				return ddl__refuse(x, "OceanBase cannot take foreign key `%s` ON %s CASCADE (the "
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

static int kp_float(struct ddl_rx *x, const struct ddl_part *p, size_t a, size_t b)
{
	const struct ddl_part *c;
	char n[128], ty[32];

	(void)p;
	(void)b;
	if (ddl__is_name(x->k, a) && (c = ddl__column(x, ddl__name(x->k, a, n, sizeof(n)))) &&
	    float_type(x->k, c->first + 1))
		return ddl__refuse(x, "OceanBase cannot take a primary key on %s column `%s`",
			      ddl__text(x->k, c->first + 1, ty, sizeof(ty)), n);
	return 0;
}

int ddl__rule_ob_float_pk(struct ddl_rx *x)
{
	const struct ddl_toks *k = x->k;
	char n[128], ty[32];
	int rc;

	for (size_t i = 0; i < x->st->nparts; i++) {
		const struct ddl_part *p = &x->st->parts[i];

		if (p->kind == DDL_P_PRIMARY && x->st->kind == DDL_K_CREATE_TABLE &&
		    (rc = ddl__each_key_part(x, p, kp_float)))
			return rc;
		if (p->kind == DDL_P_COLUMN && float_type(k, p->first + 1) &&
		    (ddl__find_word(k, p->first + 2, p->end, "PRIMARY") < p->end ||
		     (ddl__find_word(k, p->first + 2, p->end, "KEY") < p->end &&
		      !ddl__is(k, ddl__find_word(k, p->first + 2, p->end, "KEY") - 1, "UNIQUE"))))
			return ddl__refuse(x, "OceanBase cannot take a primary key on %s column `%s`",
				      ddl__text(k, p->first + 1, ty, sizeof(ty)),
				      ddl__name(k, p->first, n, sizeof(n)));
	}
	return 0;
}
