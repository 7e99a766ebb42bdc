/* fmt_value.c - render one typed value as SQL literal, mysqlbinlog-style text or JSON. */
#include "fmt.h"

#include <iconv.h>
#include <inttypes.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

/*
 * Choices (the header gives the contract, these are the details):
 * - SQL: strings are `_charset X'hex'` so that no byte can be changed by
 *   escaping, sql_mode (NO_BACKSLASH_ESCAPES, ANSI_QUOTES) or the connection
 *   charset. Texts that come from our own decoders (DECIMAL, DATE, TIME,
 *   DATETIME) are checked against their alphabet before they go into SQL, so
 *   a corrupt record can never inject SQL: -SL_EFORMAT instead.
 * - JSON values are exact: text (STRING, ENUM/SET labels, JSON) is converted
 *   from its column's charset to UTF-8 with iconv (MySQL's latin1 is
 *   Windows-1252); bytes that are not text (BYTES, GEOMETRY, and text that
 *   is not valid in its charset) are {"hex":"C3A9"}, upper-case hex of
 *   every byte, so X'C3A9' and X'E9' never print alike; a kind this build
 *   does not know is {"unknown_kind":N}. Every value is valid JSON.
 *   Integers beyond +-2^53 and DECIMALs are JSON strings, so that JavaScript
 *   readers do not round them. fmt_json_str() (names, statements) keeps its
 *   \u00XX escape of bytes that are not UTF-8.
 * - ABSENT (a column not in a partial row image) renders as nothing in all
 *   three forms: -SL_EINVAL_ARG, so that no caller can mistake it for NULL.
 */

static const char hexdig[] = "0123456789ABCDEF";

int fmt_row_full(const Sluice__Row *r)
{
	if (!r)
		return 0;
	for (size_t i = 0; i < r->n_values; i++)
		if (r->values[i]->kind == SLUICE__VALUE__KIND__ABSENT)
			return 0;
	return 1;
}

int fmt_sql_hex(struct sl_buf *out, const void *v, size_t n)
{
	const uint8_t *p = v;
	int rc = sl_buf_reserve(out, 3 + 2 * n);

	if (rc)
		return rc;
	out->data[out->len++] = 'X';
	out->data[out->len++] = '\'';
	for (size_t i = 0; i < n; i++) {
		out->data[out->len++] = (uint8_t)hexdig[p[i] >> 4];
		out->data[out->len++] = (uint8_t)hexdig[p[i] & 15];
	}
	out->data[out->len++] = '\'';
	return 0;
}

int fmt_sql_str(struct sl_buf *out, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int rc;

	if (!n)
		return sl_buf_adds(out, "''");
	rc = sl_buf_adds(out, "_utf8mb4 ");
	return rc ? rc : fmt_sql_hex(out, s, n);
}

/* A charset name we are willing to put in an introducer. */
static const char *sql_charset(const Sluice__ColumnDef *c)
{
	const char *cs = c && c->charset && c->charset[0] ? c->charset : "utf8mb4";

	for (const char *p = cs; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return "utf8mb4";
	if (strlen(cs) > 32)
		return "utf8mb4";
	/* "utf8" means utf8mb3 everywhere; MariaDB 10.6+ and MySQL 8 both know the alias. */
	return cs;
}

static int add_charset_hex(struct sl_buf *out, const char *cs, const uint8_t *p, size_t n)
{
	int rc = sl_buf_addc(out, '_');

	if (!rc)
		rc = sl_buf_adds(out, cs);
	if (!rc)
		rc = sl_buf_addc(out, ' ');
	if (!rc)
		rc = n ? fmt_sql_hex(out, p, n) : sl_buf_adds(out, "''");
	return rc;
}

static int text_ok(const ProtobufCBinaryData *b, const char *alphabet)
{
	if (b->len == 0 || b->len > 80)
		return 0;
	for (size_t i = 0; i < b->len; i++)
		if (!b->data[i] || !strchr(alphabet, b->data[i]))
			return 0;
	return 1;
}

static unsigned col_fsp(const Sluice__ColumnDef *c)
{
	return c && c->precision <= 6 ? c->precision : 0;
}

static int add_double(struct sl_buf *out, double d, int digits, int sql)
{
	char tmp[40];

	if (!isfinite(d))
		return sql ? sl_buf_adds(out, "NULL") : sl_buf_adds(out, "null");
	if (d == 0 && signbit(d))
		/* "-0" would be the integer 0; the exponent makes it a double. */
		return sl_buf_adds(out, sql ? "-0e0" : "-0.0");
	/* the shortest form that reads back as the same value (as MySQL prints
	 * it: 0.142857142, not 0.14285714199999999). A server reads a FLOAT
	 * column's SQL literal as a double, refuses it above FLT_MAX in strict
	 * mode, then narrows it: so for SQL the double must be in range and
	 * narrow to the float (the shortest float text of FLT_MAX, 3.40282347e+38,
	 * is above it as a double); 17 digits are the float's exact value. */
	for (int p = digits > 9 ? 15 : 6; p <= 17; p++) {
		double back;

		snprintf(tmp, sizeof(tmp), "%.*g", p, d);
		back = strtod(tmp, NULL);
		if (digits > 9 ? back == d :
		    sql ? fabs(back) <= FLT_MAX && (float)back == (float)d :
			  p <= digits && strtof(tmp, NULL) == (float)d)
			break;
	}
	return sl_buf_adds(out, tmp);
}

int fmt_timestamp_str(int64_t sec, uint32_t usec, unsigned dec, char *out, size_t n)
{
	int64_t days, rem, y, m, d, era, doe, yoe, doy, mp;
	int len;

	if (dec > 6)
		dec = 6;
	if (sec == 0 && usec == 0) {
		len = snprintf(out, n, "0000-00-00 00:00:00%s%.*s", dec ? "." : "", (int)dec,
			       "000000");
		return len < 0 || (size_t)len >= n ? -SL_ETOOBIG : 0;
	}
	if (usec > 999999)
		return -SL_EINVAL_ARG;
	days = sec / 86400;
	rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* civil_from_days (H. Hinnant): proleptic Gregorian, no time_t, no gmtime. */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	if (y < 0 || y > 9999)
		return -SL_EINVAL_ARG;
	len = snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", (int)y, (int)m, (int)d,
		       (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	if (len < 0 || (size_t)len >= n)
		return -SL_ETOOBIG;
	if (dec) {
		static const uint32_t div[7] = { 1000000, 100000, 10000, 1000, 100, 10, 1 };
		int l2 = snprintf(out + len, n - (size_t)len, ".%0*u", (int)dec, usec / div[dec]);

		if (l2 < 0 || (size_t)(len + l2) >= n)
			return -SL_ETOOBIG;
	}
	return 0;
}

int fmt_sql_ident(struct sl_buf *out, const char *name)
{
	size_t n = strlen(name);
	int rc = sl_buf_reserve(out, 2 * n + 2);

	if (rc)
		return rc;
	out->data[out->len++] = '`';
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '`')
			out->data[out->len++] = '`';
		out->data[out->len++] = (uint8_t)name[i];
	}
	out->data[out->len++] = '`';
	return 0;
}

int fmt_value_sql(const Sluice__Value *v, const Sluice__ColumnDef *c, struct sl_buf *out)
{
	char tmp[64];
	const ProtobufCBinaryData *b = &v->b;
	int rc;

	switch (v->kind) {
	case SLUICE__VALUE__KIND__NULL:
		return sl_buf_adds(out, "NULL");
	case SLUICE__VALUE__KIND__INT:
		return sl_buf_addf(out, "%" PRId64, v->i);
	case SLUICE__VALUE__KIND__UINT:
	case SLUICE__VALUE__KIND__YEAR:
	case SLUICE__VALUE__KIND__BIT:
		return sl_buf_addf(out, "%" PRIu64, v->u);
	case SLUICE__VALUE__KIND__FLOAT:
		return add_double(out, (double)v->f, 9, 1);
	case SLUICE__VALUE__KIND__DOUBLE:
		return add_double(out, v->d, 17, 1);
	case SLUICE__VALUE__KIND__DECIMAL:
		if (!text_ok(b, "0123456789.-+eE"))
			return -SL_EFORMAT;
		return sl_buf_add(out, b->data, b->len);
	case SLUICE__VALUE__KIND__STRING:
		return add_charset_hex(out, sql_charset(c), b->data, b->len);
	case SLUICE__VALUE__KIND__BYTES:
	case SLUICE__VALUE__KIND__GEOMETRY:
		return b->len ? fmt_sql_hex(out, b->data, b->len) : sl_buf_adds(out, "''");
	case SLUICE__VALUE__KIND__DATE:
	case SLUICE__VALUE__KIND__TIME:
	case SLUICE__VALUE__KIND__DATETIME:
		if (!text_ok(b, "0123456789-:. "))
			return -SL_EFORMAT;
		if ((rc = sl_buf_addc(out, '\'')) || (rc = sl_buf_add(out, b->data, b->len)))
			return rc;
		return sl_buf_addc(out, '\'');
	case SLUICE__VALUE__KIND__TIMESTAMP:
		if ((rc = fmt_timestamp_str(v->i, v->usec, col_fsp(c), tmp, sizeof(tmp))))
			return rc;
		return sl_buf_addf(out, "'%s'", tmp);
	case SLUICE__VALUE__KIND__ENUM:
	case SLUICE__VALUE__KIND__SET:
		if (v->has_b)
			return add_charset_hex(out, sql_charset(c), b->data, b->len);
		return sl_buf_addf(out, "%" PRIu64, v->u);
	case SLUICE__VALUE__KIND__JSON:
		return add_charset_hex(out, "utf8mb4", b->data, b->len);
	case SLUICE__VALUE__KIND__ABSENT:
		return -SL_EINVAL_ARG;	/* not a value: the caller leaves the column out */
	default:
		return -SL_EFORMAT;
	}
}

/* 'text' as mysqlbinlog -vv quotes it: \' \\ and \xHH for control bytes. */
static int add_quoted(struct sl_buf *out, const uint8_t *p, size_t n)
{
	int rc = sl_buf_reserve(out, n + 2);

	if (rc)
		return rc;
	out->data[out->len++] = '\'';
	for (size_t i = 0; i < n && !rc; i++) {
		uint8_t ch = p[i];

		if (ch == '\'' || ch == '\\') {
			if (!(rc = sl_buf_addc(out, '\\')))
				rc = sl_buf_addc(out, ch);
		} else if (ch < 0x20 || ch == 0x7f) {
			rc = sl_buf_addf(out, "\\x%02x", ch);
		} else {
			rc = sl_buf_addc(out, ch);
		}
	}
	return rc ? rc : sl_buf_addc(out, '\'');
}

static unsigned bit_width(const Sluice__ColumnDef *c, uint64_t u)
{
	unsigned w = 0;

	if (c && c->meta) {
		/* TABLE_MAP metadata for BIT: (bytes << 8) | bits. */
		w = ((c->meta >> 8) & 0xff) * 8 + (c->meta & 0xff);
		if (w > 64)
			w = 64;
	}
	if (!w) {
		w = 1;
		while (w < 64 && (u >> w))
			w++;
	}
	return w;
}

int fmt_value_text(const Sluice__Value *v, const Sluice__ColumnDef *c, struct sl_buf *out)
{
	char tmp[64];
	const ProtobufCBinaryData *b = &v->b;
	int rc;

	switch (v->kind) {
	case SLUICE__VALUE__KIND__NULL:
		return sl_buf_adds(out, "NULL");
	case SLUICE__VALUE__KIND__INT:
		return sl_buf_addf(out, "%" PRId64, v->i);
	case SLUICE__VALUE__KIND__UINT:
	case SLUICE__VALUE__KIND__YEAR:
		return sl_buf_addf(out, "%" PRIu64, v->u);
	case SLUICE__VALUE__KIND__FLOAT:
		return add_double(out, (double)v->f, 9, 0);
	case SLUICE__VALUE__KIND__DOUBLE:
		return add_double(out, v->d, 17, 0);
	case SLUICE__VALUE__KIND__DECIMAL:
		return sl_buf_add(out, b->data, b->len);
	case SLUICE__VALUE__KIND__TIMESTAMP:
		if ((rc = fmt_timestamp_str(v->i, v->usec, col_fsp(c), tmp, sizeof(tmp))))
			return rc;
		return sl_buf_addf(out, "'%s'", tmp);
	case SLUICE__VALUE__KIND__BIT: {
		unsigned w = bit_width(c, v->u);

		if ((rc = sl_buf_adds(out, "b'")))
			return rc;
		for (unsigned i = w; i-- > 0;)
			if ((rc = sl_buf_addc(out, (v->u >> i) & 1 ? '1' : '0')))
				return rc;
		return sl_buf_addc(out, '\'');
	}
	case SLUICE__VALUE__KIND__ENUM:
	case SLUICE__VALUE__KIND__SET:
		if (v->has_b)
			return add_quoted(out, b->data, b->len);
		return sl_buf_addf(out, "%" PRIu64, v->u);
	case SLUICE__VALUE__KIND__STRING:
	case SLUICE__VALUE__KIND__BYTES:
	case SLUICE__VALUE__KIND__GEOMETRY:
	case SLUICE__VALUE__KIND__DATE:
	case SLUICE__VALUE__KIND__TIME:
	case SLUICE__VALUE__KIND__DATETIME:
	case SLUICE__VALUE__KIND__JSON:
		return add_quoted(out, b->data, b->len);
	case SLUICE__VALUE__KIND__ABSENT:
		return -SL_EINVAL_ARG;
	default:
		return -SL_EFORMAT;
	}
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int fmt_json_str(struct sl_buf *out, const void *s, size_t n)
{
	const uint8_t *p = s;
	int rc = sl_buf_reserve(out, n + 2);

	if (rc)
		return rc;
	out->data[out->len++] = '"';
	for (size_t i = 0; i < n && !rc;) {
		uint8_t ch = p[i];
		size_t l = utf8_len(p + i, n - i);

		if (l > 1) {
			rc = sl_buf_add(out, p + i, l);
			i += l;
			continue;
		}
		i++;
		if (l == 0 || ch < 0x20 || ch == 0x7f) {
			switch (ch) {
			case '\n': rc = sl_buf_adds(out, "\\n"); break;
			case '\t': rc = sl_buf_adds(out, "\\t"); break;
			case '\r': rc = sl_buf_adds(out, "\\r"); break;
			default: rc = sl_buf_addf(out, "\\u%04x", ch); break;
			}
		} else if (ch == '"' || ch == '\\') {
			if (!(rc = sl_buf_addc(out, '\\')))
				rc = sl_buf_addc(out, ch);
		} else {
			rc = sl_buf_addc(out, ch);
		}
	}
	return rc ? rc : sl_buf_addc(out, '"');
}

#define JSON_SAFE_INT ((uint64_t)1 << 53)

/* {"hex":"..."}: bytes that are not text, exact and unambiguous. */
static int json_hex(struct sl_buf *out, const uint8_t *p, size_t n)
{
	int rc = sl_buf_reserve(out, 2 * n + 11);

	if (rc)
		return rc;
	sl_buf_adds(out, "{\"hex\":\"");
	for (size_t i = 0; i < n; i++) {
		out->data[out->len++] = (uint8_t)hexdig[p[i] >> 4];
		out->data[out->len++] = (uint8_t)hexdig[p[i] & 15];
	}
	return sl_buf_adds(out, "\"}");
}

static int utf8_valid(const uint8_t *p, size_t n)
{
	for (size_t i = 0, l; i < n; i += l)
		if (!(l = utf8_len(p + i, n - i)))
			return 0;
	return 1;
}

/* The iconv name of a MySQL character set; NULL: it is UTF-8 already,
 * "" : no conversion known. */
static const char *iconv_name(const char *cs)
{
	static const struct {
		const char *mysql, *iconv;
	} map[] = {
		{ "armscii8", "ARMSCII-8" }, { "ascii", "ASCII" }, { "big5", "BIG5" },
		{ "cp1250", "CP1250" }, { "cp1251", "CP1251" }, { "cp1256", "CP1256" },
		{ "cp1257", "CP1257" }, { "cp850", "CP850" }, { "cp852", "CP852" },
		{ "cp866", "CP866" }, { "cp932", "CP932" }, { "eucjpms", "EUC-JP-MS" },
		{ "euckr", "EUC-KR" }, { "gb18030", "GB18030" }, { "gb2312", "GB2312" },
		{ "gbk", "GBK" }, { "geostd8", "GEORGIAN-PS" }, { "greek", "ISO-8859-7" },
		{ "hebrew", "ISO-8859-8" }, { "hp8", "HP-ROMAN8" }, { "koi8r", "KOI8-R" },
		{ "koi8u", "KOI8-U" }, { "latin1", "CP1252" }, { "latin2", "ISO-8859-2" },
		{ "latin5", "ISO-8859-9" }, { "latin7", "ISO-8859-13" }, { "macce", "MAC-CENTRALEUROPE" },
		{ "macroman", "MACINTOSH" }, { "sjis", "SHIFT_JIS" }, { "tis620", "TIS-620" },
		{ "ucs2", "UCS-2BE" }, { "ujis", "EUC-JP" }, { "utf16", "UTF-16BE" },
		{ "utf16le", "UTF-16LE" }, { "utf32", "UTF-32BE" },
	};

	if (!cs || !cs[0] || !strcmp(cs, "utf8mb4") || !strcmp(cs, "utf8mb3") || !strcmp(cs, "utf8"))
		return NULL;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].mysql, cs))
			return map[i].iconv;
	return "";
}

/* Text in charset cs as a JSON string; {"hex"} when it is not valid in
 * that charset or the charset is binary or unknown to us. */
static int json_text(struct sl_buf *out, const char *cs, const uint8_t *p, size_t n)
{
	/* one converter per thread, kept for the next value of the same charset */
	static _Thread_local iconv_t cd = (iconv_t)-1;
	static _Thread_local const char *cd_for;
	const char *name = iconv_name(cs);
	struct sl_buf u = SL_BUF_INIT(out->max);
	char *in = (char *)(uintptr_t)p, *o;
	size_t inleft = n, outleft;
	int rc;

	if (!name)
		return utf8_valid(p, n) ? fmt_json_str(out, p, n) : json_hex(out, p, n);
	if (!name[0])
		return json_hex(out, p, n);
	if (cd_for != name) {
		if (cd != (iconv_t)-1)
			iconv_close(cd);
		cd_for = NULL;
		if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1)
			return json_hex(out, p, n);
		cd_for = name;
	}
	iconv(cd, NULL, NULL, NULL, NULL);
	/* 4 UTF-8 bytes per input byte is enough for every charset above */
	if (n > (SIZE_MAX - 4) / 4 || (rc = sl_buf_reserve(&u, 4 * n + 4)))
		return json_hex(out, p, n);
	o = (char *)u.data;
	outleft = u.cap;
	if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1 || inleft ||
	    iconv(cd, NULL, NULL, &o, &outleft) == (size_t)-1) {
		sl_buf_release(&u);
		return json_hex(out, p, n);
	}
	u.len = u.cap - outleft;
	rc = utf8_valid(u.data, u.len) ? fmt_json_str(out, u.data, u.len) : json_hex(out, p, n);
	sl_buf_release(&u);
	return rc;
}

static const char *col_charset(const Sluice__ColumnDef *c)
{
	if (c && c->collation == 63)
		return "binary";
	return c && c->charset && c->charset[0] ? c->charset : NULL;
}

int fmt_value_json(const Sluice__Value *v, const Sluice__ColumnDef *c, struct sl_buf *out)
{
	char tmp[64];
	const ProtobufCBinaryData *b = &v->b;
	int rc;

	switch (v->kind) {
	case SLUICE__VALUE__KIND__NULL:
		return sl_buf_adds(out, "null");
	case SLUICE__VALUE__KIND__INT:
		if (v->i > (int64_t)JSON_SAFE_INT || v->i < -(int64_t)JSON_SAFE_INT)
			return sl_buf_addf(out, "\"%" PRId64 "\"", v->i);
		return sl_buf_addf(out, "%" PRId64, v->i);
	case SLUICE__VALUE__KIND__UINT:
	case SLUICE__VALUE__KIND__BIT:
		if (v->u > JSON_SAFE_INT)
			return sl_buf_addf(out, "\"%" PRIu64 "\"", v->u);
		return sl_buf_addf(out, "%" PRIu64, v->u);
	case SLUICE__VALUE__KIND__YEAR:
		return sl_buf_addf(out, "%" PRIu64, v->u);
	case SLUICE__VALUE__KIND__FLOAT:
		return add_double(out, (double)v->f, 9, 0);
	case SLUICE__VALUE__KIND__DOUBLE:
		return add_double(out, v->d, 17, 0);
	case SLUICE__VALUE__KIND__TIMESTAMP:
		if ((rc = fmt_timestamp_str(v->i, v->usec, col_fsp(c), tmp, sizeof(tmp))))
			return rc;
		return fmt_json_str(out, tmp, strlen(tmp));
	case SLUICE__VALUE__KIND__ENUM:
	case SLUICE__VALUE__KIND__SET:
		if (v->has_b)
			return json_text(out, col_charset(c), b->data, b->len);
		return sl_buf_addf(out, "%" PRIu64, v->u);
	case SLUICE__VALUE__KIND__STRING:
		return json_text(out, col_charset(c), b->data, b->len);
	case SLUICE__VALUE__KIND__JSON:
		return json_text(out, NULL, b->data, b->len);
	case SLUICE__VALUE__KIND__BYTES:
	case SLUICE__VALUE__KIND__GEOMETRY:
		return json_hex(out, b->data, b->len);
	case SLUICE__VALUE__KIND__DECIMAL:
	case SLUICE__VALUE__KIND__DATE:
	case SLUICE__VALUE__KIND__TIME:
	case SLUICE__VALUE__KIND__DATETIME:
		/* ASCII from our decoders (a corrupt one is shown, not trusted) */
		for (size_t i = 0; i < b->len; i++)
			if (b->data[i] >= 0x80)
				return json_hex(out, b->data, b->len);
		return fmt_json_str(out, b->data, b->len);
	case SLUICE__VALUE__KIND__ABSENT:
		return -SL_EINVAL_ARG;
	default:
		/* a kind this build does not know (a newer writer): named, valid JSON */
		return sl_buf_addf(out, "{\"unknown_kind\":%d}", (int)v->kind);
	}
}
