/* cap_coltype.c - column types in the schema history, checked against each TABLE_MAP. */
/*
 * Without FULL row metadata a TABLE_MAP has no column names, and capture
 * names its columns from the schema history (cap_schema.c). The TABLE_MAP
 * still says what the columns are: their count, binlog type and metadata
 * (lengths in bytes, DECIMAL precision and scale, fraction digits, ENUM and
 * SET sizes, BIT widths). It is the authority on the shape of the row; the
 * history only lends the names, and only where it describes the same shape.
 * A history that does not (the event is older than the history, a column
 * was dropped and re-added, a DDL the parser could not follow) is never
 * trusted to label the values: the caller stops, or with --allow-positional
 * names the columns @1, @2...
 *
 * A column's type in the history is a descriptor string made here from the
 * column definition text of a DDL statement or from information_schema's
 * COLUMN_TYPE: "BASE[(A[,B])][ unsigned][ bytes=N]", BASE one of the
 * canonical names below (synonyms folded), A,B the length or precision and
 * scale, the number of labels for enum and set; bytes the most bytes a
 * character column holds (from CHARACTER_OCTET_LENGTH, or from a charset
 * the definition names), absent when the charset is not known. A type it
 * does not recognise has no descriptor and is not checked (the column count
 * still is).
 *
 * What is compared, per column: the binlog type (with the real type of a
 * STRING: CHAR/BINARY vs ENUM vs SET); the byte length of BINARY, VARBINARY,
 * UUID (16), INET4 (4), INET6 (16); CHAR and VARCHAR lengths in bytes when
 * known, else that the byte length is 1-4 times the character length; BLOB
 * and TEXT size classes; DECIMAL precision and scale; TIME, DATETIME and
 * TIMESTAMP fraction digits (new formats); ENUM and SET storage sizes; BIT
 * widths. Signedness is not (MINIMAL metadata has it, older servers not).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cap_int.h"
#include "banned.h"

/* ---- a tokenizer for one column definition ---- */

struct tk {
	const char *p, *end;
	char w[64];		/* word, lowercased (truncated), or punctuation */
	int kind;		/* 0 end, 'w' word or number, 's' quoted string, 'p' punctuation */
};

static int tk_next(struct tk *t)
{
	size_t n = 0;

	while (t->p < t->end && isspace((unsigned char)*t->p))
		t->p++;
	t->w[0] = 0;
	if (t->p >= t->end)
		return t->kind = 0;
	if (*t->p == '\'' || *t->p == '"' || *t->p == '`') {
		char q = *t->p++;

		while (t->p < t->end) {
			if (*t->p == '\\' && q != '`' && t->end - t->p >= 2) {
				t->p += 2;
				continue;
			}
			if (*t->p == q) {
				if (t->end - t->p >= 2 && t->p[1] == q) {
					t->p += 2;	/* a doubled quote inside */
					continue;
				}
				t->p++;
				break;
			}
			t->p++;
		}
		return t->kind = q == '`' ? 'w' : 's';
	}
	if (isalnum((unsigned char)*t->p) || *t->p == '_' || *t->p == '$') {
		while (t->p < t->end && (isalnum((unsigned char)*t->p) || *t->p == '_' || *t->p == '$')) {
			if (n + 1 < sizeof(t->w))
				t->w[n++] = (char)tolower((unsigned char)*t->p);
			t->p++;
		}
		t->w[n] = 0;
		return t->kind = 'w';
	}
	t->w[0] = *t->p++;
	t->w[1] = 0;
	return t->kind = 'p';
}

static int tk_is(const struct tk *t, const char *w)
{
	return t->kind == 'w' && strcmp(t->w, w) == 0;
}

/* ---- descriptors ---- */

struct coltype {
	char base[16];
	int nargs;
	unsigned long a, b;
	int is_unsigned;
	unsigned long bytes;	/* 0: not known */
};

/* Synonyms to canonical base names. */
static const char *const synonyms[][2] = {
	{ "bool", "tinyint" }, { "boolean", "tinyint" }, { "int1", "tinyint" },
	{ "int2", "smallint" }, { "int3", "mediumint" }, { "middleint", "mediumint" },
	{ "integer", "int" }, { "int4", "int" }, { "int8", "bigint" },
	{ "dec", "decimal" }, { "numeric", "decimal" }, { "fixed", "decimal" },
	{ "real", "double" }, { "float4", "float" }, { "float8", "double" },
	{ "character", "char" }, { "nchar", "char" }, { "nvarchar", "varchar" },
	{ "varcharacter", "varchar" }, { "point", "geometry" }, { "linestring", "geometry" },
	{ "polygon", "geometry" }, { "multipoint", "geometry" },
	{ "multilinestring", "geometry" }, { "multipolygon", "geometry" },
	{ "geometrycollection", "geometry" }, { "geomcollection", "geometry" },
};

static const char *const bases[] = {
	"tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double",
	"date", "time", "datetime", "timestamp", "year", "char", "varchar", "binary",
	"varbinary", "tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob",
	"mediumblob", "longblob", "json", "enum", "set", "bit", "geometry", "uuid",
	"inet4", "inet6", "vector", NULL,
};

/* The most bytes one character takes in a charset (by name or collation
 * name, whose prefix is the charset); 0 when not known. */
static unsigned mbmaxlen(const char *cs)
{
	static const struct { const char *name; unsigned n; } t[] = {
		{ "utf8mb4", 4 }, { "utf8mb3", 3 }, { "utf8", 3 }, { "utf16le", 4 }, { "utf16", 4 },
		{ "utf32", 4 }, { "ucs2", 2 }, { "gb18030", 4 }, { "ujis", 3 }, { "eucjpms", 3 },
		{ "big5", 2 }, { "gbk", 2 }, { "gb2312", 2 }, { "euckr", 2 }, { "cp932", 2 },
		{ "sjis", 2 }, { "latin1", 1 }, { "latin2", 1 }, { "latin5", 1 }, { "latin7", 1 },
		{ "ascii", 1 }, { "binary", 1 }, { "cp1250", 1 }, { "cp1251", 1 }, { "cp1256", 1 },
		{ "cp1257", 1 }, { "cp850", 1 }, { "cp852", 1 }, { "cp866", 1 }, { "dec8", 1 },
		{ "greek", 1 }, { "hebrew", 1 }, { "hp8", 1 }, { "keybcs2", 1 }, { "koi8r", 1 },
		{ "koi8u", 1 }, { "swe7", 1 }, { "tis620", 1 }, { "armscii8", 1 }, { "geostd8", 1 },
		{ "macce", 1 }, { "macroman", 1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t l = strlen(t[i].name);

		if (strncmp(cs, t[i].name, l) == 0 && (cs[l] == 0 || cs[l] == '_'))
			return t[i].n;
	}
	return 0;
}

static int is_char_base(const char *b)
{
	return strcmp(b, "char") == 0 || strcmp(b, "varchar") == 0;
}

char *cap__coltype_norm(const char *def, size_t n, uint64_t octets)
{
	struct tk t = { def, def + n, { 0 }, 0 };
	struct coltype ct;
	char out[96];
	size_t ol;
	int national = 0, depth = 0;	/* depth: inside ( ) of a default or expression */
	unsigned mb = 0;

	memset(&ct, 0, sizeof(ct));
	tk_next(&t);
	if (tk_is(&t, "national")) {
		national = 1;
		tk_next(&t);
	}
	if (t.kind != 'w')
		return NULL;
	snprintf(ct.base, sizeof(ct.base), "%.15s", t.w);	/* type names are short: a longer word is no type */
	tk_next(&t);
	/* two-word names */
	if (strcmp(ct.base, "double") == 0 && tk_is(&t, "precision")) {
		tk_next(&t);
	} else if ((strcmp(ct.base, "char") == 0 || strcmp(ct.base, "character") == 0) &&
		   tk_is(&t, "varying")) {
		snprintf(ct.base, sizeof(ct.base), "varchar");
		tk_next(&t);
	} else if (strcmp(ct.base, "long") == 0) {
		if (tk_is(&t, "varbinary")) {
			snprintf(ct.base, sizeof(ct.base), "mediumblob");
			tk_next(&t);
		} else {
			if (tk_is(&t, "varchar"))
				tk_next(&t);
			snprintf(ct.base, sizeof(ct.base), "mediumtext");
		}
	} else if (strcmp(ct.base, "serial") == 0) {
		snprintf(ct.base, sizeof(ct.base), "bigint");
		ct.is_unsigned = 1;
	}
	for (size_t i = 0; i < sizeof(synonyms) / sizeof(synonyms[0]); i++)
		if (strcmp(ct.base, synonyms[i][0]) == 0)
			snprintf(ct.base, sizeof(ct.base), "%s", synonyms[i][1]);
	{
		int known = 0;

		for (size_t i = 0; bases[i]; i++)
			known |= strcmp(ct.base, bases[i]) == 0;
		if (!known)
			return NULL;
	}
	if (t.kind == 'p' && t.w[0] == '(') {
		int is_labels = strcmp(ct.base, "enum") == 0 || strcmp(ct.base, "set") == 0;
		unsigned long labels = 0;

		for (tk_next(&t); t.kind && !(t.kind == 'p' && t.w[0] == ')'); tk_next(&t)) {
			if (is_labels) {
				labels += t.kind == 's';
			} else if (t.kind == 'w' && isdigit((unsigned char)t.w[0]) && ct.nargs < 2) {
				if (ct.nargs++ == 0)
					ct.a = strtoul(t.w, NULL, 10);
				else
					ct.b = strtoul(t.w, NULL, 10);
			}
		}
		if (!t.kind)
			return NULL;
		if (is_labels) {
			ct.nargs = 1;
			ct.a = labels;
		}
		tk_next(&t);
	}
	/* attributes: signedness, and the charset of a character column */
	for (; t.kind; tk_next(&t)) {
		if (t.kind == 'p' && t.w[0] == '(')
			depth++;
		else if (t.kind == 'p' && t.w[0] == ')')
			depth--;
		if (depth)
			continue;
		if (tk_is(&t, "unsigned")) {
			ct.is_unsigned = 1;
		} else if (tk_is(&t, "byte") && strcmp(ct.base, "char") == 0) {
			snprintf(ct.base, sizeof(ct.base), "binary");
		} else if (tk_is(&t, "character") || tk_is(&t, "charset") || tk_is(&t, "collate")) {
			if (tk_is(&t, "character"))
				tk_next(&t);	/* SET */
			tk_next(&t);
			if (t.kind == 'w' && !mb)
				mb = mbmaxlen(t.w);
		} else if (tk_is(&t, "ascii") || tk_is(&t, "unicode")) {
			mb = mb ? mb : tk_is(&t, "ascii") ? 1 : 2;
		}
	}
	if (national && !mb)
		mb = 3;
	/* defaults the server fills in */
	if ((strcmp(ct.base, "char") == 0 || strcmp(ct.base, "binary") == 0 ||
	     strcmp(ct.base, "bit") == 0) && ct.nargs == 0) {
		ct.nargs = 1;
		ct.a = 1;
	}
	if (strcmp(ct.base, "decimal") == 0) {
		if (ct.nargs == 0)
			ct.a = 10;
		if (ct.nargs < 2)
			ct.b = 0;
		ct.nargs = 2;
	}
	if (strcmp(ct.base, "float") == 0 && ct.nargs == 1 && ct.a > 24)
		snprintf(ct.base, sizeof(ct.base), "double");
	if (strcmp(ct.base, "float") == 0 || strcmp(ct.base, "double") == 0 ||
	    strcmp(ct.base, "tinyint") == 0 || strcmp(ct.base, "smallint") == 0 ||
	    strcmp(ct.base, "mediumint") == 0 || strcmp(ct.base, "int") == 0 ||
	    strcmp(ct.base, "bigint") == 0 || strcmp(ct.base, "year") == 0)
		ct.nargs = 0;	/* display widths and float digits: not in the binlog */
	if (is_char_base(ct.base) && ct.nargs == 1)
		ct.bytes = octets ? (unsigned long)octets : mb ? ct.a * mb : 0;
	ol = (size_t)snprintf(out, sizeof(out), "%s", ct.base);
	if (ct.nargs == 1)
		ol += (size_t)snprintf(out + ol, sizeof(out) - ol, "(%lu)", ct.a);
	else if (ct.nargs == 2)
		ol += (size_t)snprintf(out + ol, sizeof(out) - ol, "(%lu,%lu)", ct.a, ct.b);
	if (ct.is_unsigned)
		ol += (size_t)snprintf(out + ol, sizeof(out) - ol, " unsigned");
	if (ct.bytes)
		snprintf(out + ol, sizeof(out) - ol, " bytes=%lu", ct.bytes);
	return sl_xstrdup(out);
}

static int parse_desc(const char *d, struct coltype *ct)
{
	const char *p;
	size_t k = 0;

	memset(ct, 0, sizeof(*ct));
	while (d[k] && (isalnum((unsigned char)d[k])) && k + 1 < sizeof(ct->base)) {
		ct->base[k] = d[k];
		k++;
	}
	ct->base[k] = 0;
	if (!k)
		return -1;
	p = d + k;
	if (*p == '(') {
		char *e;

		ct->a = strtoul(p + 1, &e, 10);
		ct->nargs = 1;
		if (*e == ',') {
			ct->b = strtoul(e + 1, &e, 10);
			ct->nargs = 2;
		}
		p = e;
	}
	ct->is_unsigned = strstr(p, " unsigned") != NULL;
	if ((p = strstr(p, " bytes=")) != NULL)
		ct->bytes = strtoul(p + 7, NULL, 10);
	return 0;
}

int cap__coltype_is_binary(const char *desc)
{
	static const char *const bin[] = { "binary", "varbinary", "tinyblob", "blob", "mediumblob",
					   "longblob", "uuid", "inet4", "inet6", NULL };
	struct coltype ct;

	if (!desc || parse_desc(desc, &ct) < 0)
		return 0;
	for (size_t i = 0; bin[i]; i++)
		if (strcmp(ct.base, bin[i]) == 0)
			return 1;
	return 0;
}

int cap__coltype_is_character(const char *desc)
{
	static const char *const chr[] = { "char", "varchar", "tinytext", "text", "mediumtext",
					   "longtext", "json", "enum", "set", NULL };
	struct coltype ct;

	if (!desc || parse_desc(desc, &ct) < 0)
		return 0;
	for (size_t i = 0; chr[i]; i++)
		if (strcmp(ct.base, chr[i]) == 0)
			return 1;
	return 0;
}

/* ---- the check ---- */

/* The binlog's view of column c, for messages: "VARCHAR(40 bytes)". */
static void binlog_text(const Sluice__ColumnDef *c, char *out, size_t n)
{
	static const struct { uint32_t t; const char *name; } names[] = {
		{ FMT_TYPE_DECIMAL, "DECIMAL (old)" }, { FMT_TYPE_TINY, "TINYINT" }, { FMT_TYPE_SHORT, "SMALLINT" },
		{ FMT_TYPE_LONG, "INT" }, { FMT_TYPE_FLOAT, "FLOAT" }, { FMT_TYPE_DOUBLE, "DOUBLE" }, { 6, "NULL" },
		{ FMT_TYPE_TIMESTAMP, "TIMESTAMP" }, { FMT_TYPE_LONGLONG, "BIGINT" }, { FMT_TYPE_INT24, "MEDIUMINT" },
		{ FMT_TYPE_DATE, "DATE" }, { FMT_TYPE_TIME, "TIME" }, { FMT_TYPE_DATETIME, "DATETIME" }, { FMT_TYPE_YEAR, "YEAR" },
		{ FMT_TYPE_NEWDATE, "DATE" }, { FMT_TYPE_VARCHAR, "VARCHAR" }, { FMT_TYPE_BIT, "BIT" },
		{ FMT_TYPE_TIMESTAMP2, "TIMESTAMP" }, { FMT_TYPE_DATETIME2, "DATETIME" }, { FMT_TYPE_TIME2, "TIME" },
		{ FMT_TYPE_VECTOR, "VECTOR" }, { FMT_TYPE_JSON, "JSON" }, { FMT_TYPE_NEWDECIMAL, "DECIMAL" },
		{ FMT_TYPE_ENUM, "ENUM" }, { FMT_TYPE_SET, "SET" }, { 249, "TINYBLOB" }, { 250, "MEDIUMBLOB" },
		{ 251, "LONGBLOB" }, { FMT_TYPE_BLOB, "BLOB" }, { FMT_TYPE_VAR_STRING, "VARCHAR" },
		{ FMT_TYPE_STRING, "CHAR" }, { FMT_TYPE_GEOMETRY, "GEOMETRY" },
	};
	const char *name = NULL;
	uint32_t ty = c->type, b0 = c->meta >> 8 & 0xff, len = c->meta & 0xff;

	if (ty == FMT_TYPE_STRING && b0 != 0 && (b0 & 0x30) != 0x30) {
		len |= ((b0 & 0x30) ^ 0x30) << 4;
		b0 |= 0x30;
	}
	if (ty == FMT_TYPE_STRING && (b0 == FMT_TYPE_ENUM || b0 == FMT_TYPE_SET))
		ty = b0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == ty)
			name = names[i].name;
	switch (ty) {
	case FMT_TYPE_STRING:
		snprintf(out, n, "%s(%u bytes)", c->collation == 63 ? "BINARY" : "CHAR", len);
		break;
	case FMT_TYPE_VARCHAR:
	case FMT_TYPE_VAR_STRING:
		snprintf(out, n, "%s(%u bytes)", c->collation == 63 ? "VARBINARY" : "VARCHAR", c->meta);
		break;
	case FMT_TYPE_NEWDECIMAL:
		snprintf(out, n, "DECIMAL(%u,%u)", c->meta >> 8, c->meta & 0xff);
		break;
	case FMT_TYPE_BLOB:
		snprintf(out, n, "BLOB/TEXT (%u-byte length)", c->meta);
		break;
	case FMT_TYPE_TIME2:
	case FMT_TYPE_DATETIME2:
	case FMT_TYPE_TIMESTAMP2:
		snprintf(out, n, "%s(%u)", name, c->meta);
		break;
	case FMT_TYPE_ENUM:
	case FMT_TYPE_SET:
		snprintf(out, n, "%s (%u bytes)", name, len);
		break;
	case FMT_TYPE_BIT:
		snprintf(out, n, "BIT(%u)", (c->meta >> 8) * 8 + (c->meta & 0xff));
		break;
	default:
		if (name)
			snprintf(out, n, "%s", name);
		else
			snprintf(out, n, "type %u", ty);
		break;
	}
}

/* A character column's length in bytes agrees with n characters. */
static int char_bytes_ok(const struct coltype *ct, uint32_t len)
{
	if (ct->bytes)
		return len == ct->bytes;
	if (ct->a == 0)
		return len == 0;
	return len % ct->a == 0 && len / ct->a >= 1 && len / ct->a <= 4;
}

/* 1 when column c of a TABLE_MAP can be the history's type ct. */
static int agrees(const struct coltype *ct, const Sluice__ColumnDef *c, int maria)
{
	const char *b = ct->base;
	uint32_t ty = c->type, meta = c->meta, rt = ty, len = 0;

	if (ty == FMT_TYPE_STRING) {
		uint32_t b0 = meta >> 8 & 0xff;

		len = meta & 0xff;
		if (b0 != 0 && (b0 & 0x30) != 0x30) {
			len |= ((b0 & 0x30) ^ 0x30) << 4;
			b0 |= 0x30;
		}
		rt = b0 == FMT_TYPE_ENUM || b0 == FMT_TYPE_SET ? b0 : FMT_TYPE_STRING;
	} else if (ty == FMT_TYPE_ENUM || ty == FMT_TYPE_SET) {
		len = meta & 0xff;
	}
	if (!strcmp(b, "tinyint"))
		return ty == FMT_TYPE_TINY;
	if (!strcmp(b, "smallint"))
		return ty == FMT_TYPE_SHORT;
	if (!strcmp(b, "mediumint"))
		return ty == FMT_TYPE_INT24;
	if (!strcmp(b, "int"))
		return ty == FMT_TYPE_LONG;
	if (!strcmp(b, "bigint"))
		return ty == FMT_TYPE_LONGLONG;
	if (!strcmp(b, "float"))
		return ty == FMT_TYPE_FLOAT;
	if (!strcmp(b, "double"))
		return ty == FMT_TYPE_DOUBLE;
	if (!strcmp(b, "decimal"))
		return (ty == FMT_TYPE_NEWDECIMAL && meta >> 8 == ct->a && (meta & 0xff) == ct->b) ||
		       ty == FMT_TYPE_DECIMAL;
	if (!strcmp(b, "date"))
		return ty == FMT_TYPE_DATE || ty == FMT_TYPE_NEWDATE;
	if (!strcmp(b, "time") || !strcmp(b, "datetime") || !strcmp(b, "timestamp")) {
		uint32_t t2 = !strcmp(b, "time") ? FMT_TYPE_TIME2 : !strcmp(b, "datetime") ? FMT_TYPE_DATETIME2
			    : FMT_TYPE_TIMESTAMP2;
		uint32_t t1 = t2 == FMT_TYPE_TIME2 ? FMT_TYPE_TIME : t2 == FMT_TYPE_DATETIME2 ? FMT_TYPE_DATETIME : FMT_TYPE_TIMESTAMP;
		unsigned long fsp = ct->nargs ? ct->a : 0;

		return (ty == t2 && meta == fsp) || ty == t1;
	}
	if (!strcmp(b, "year"))
		return ty == FMT_TYPE_YEAR;
	if (!strcmp(b, "char"))
		return rt == FMT_TYPE_STRING && char_bytes_ok(ct, len);
	if (!strcmp(b, "binary"))
		return rt == FMT_TYPE_STRING && len == ct->a;
	if (!strcmp(b, "uuid") || !strcmp(b, "inet6"))
		return rt == FMT_TYPE_STRING && len == 16;
	if (!strcmp(b, "inet4"))
		return rt == FMT_TYPE_STRING && len == 4;
	if (!strcmp(b, "varchar"))
		return (ty == FMT_TYPE_VARCHAR || ty == FMT_TYPE_VAR_STRING) && char_bytes_ok(ct, meta);
	if (!strcmp(b, "varbinary"))
		return (ty == FMT_TYPE_VARCHAR || ty == FMT_TYPE_VAR_STRING) && meta == ct->a;
	if (!strcmp(b, "tinytext") || !strcmp(b, "tinyblob"))
		return ty == FMT_TYPE_BLOB && meta == 1;
	if (!strcmp(b, "text") || !strcmp(b, "blob"))	/* TEXT(n), BLOB(n): the size n needs */
		return ty == FMT_TYPE_BLOB && (ct->nargs ? meta >= 1 && meta <= 4 : meta == 2);
	if (!strcmp(b, "mediumtext") || !strcmp(b, "mediumblob"))
		return ty == FMT_TYPE_BLOB && meta == 3;
	if (!strcmp(b, "longtext") || !strcmp(b, "longblob"))
		return ty == FMT_TYPE_BLOB && meta == 4;
	if (!strcmp(b, "json"))		/* MariaDB: a LONGTEXT */
		return maria ? ty == FMT_TYPE_BLOB && meta == 4 : ty == FMT_TYPE_JSON;
	if (!strcmp(b, "enum"))
		return rt == FMT_TYPE_ENUM && len == (ct->a < 256 ? 1u : 2u);
	if (!strcmp(b, "set")) {
		unsigned long k = (ct->a + 7) / 8;

		return rt == FMT_TYPE_SET && len == (k > 4 ? 8u : k == 0 ? 1u : (uint32_t)k);
	}
	if (!strcmp(b, "bit"))
		return ty == FMT_TYPE_BIT && (meta >> 8) * 8 + (meta & 0xff) == ct->a;
	if (!strcmp(b, "geometry"))
		return ty == FMT_TYPE_GEOMETRY;
	if (!strcmp(b, "vector"))
		return maria || ty == FMT_TYPE_VECTOR;	/* MariaDB 11.7 VECTOR: not checked */
	return 1;
}

int cap__tablemap_check(const Sluice__TableDef *t, const char *const *names,
			const char *const *types, size_t hn, int maria, char *why, size_t whyn)
{
	if (hn != t->n_columns) {
		snprintf(why, whyn, "the binlog has %zu columns, the schema history %zu", t->n_columns, hn);
		return -1;
	}
	for (size_t i = 0; types && i < hn; i++) {
		struct coltype ct;
		char bt[64];

		if (!types[i] || parse_desc(types[i], &ct) < 0 || agrees(&ct, t->columns[i], maria))
			continue;
		binlog_text(t->columns[i], bt, sizeof(bt));
		snprintf(why, whyn, "column %zu is `%s` %s in the schema history but %s in the binlog",
			 i + 1, names[i], types[i], bt);
		return -1;
	}
	return 0;
}
