/* ver_sql.c - SQL text without a server: exact literals, values for people, the row hash expression, key WHERE clauses. */
#include "ver_int.h"
#include "fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

/* The separator byte 0xFF as a binary string that wins the collation
 * aggregation of CONCAT_WS (so no value is converted). The MD5 form (any
 * server) casts it; the crc form (MariaDB 10.8+, proven per server by
 * ver_hash_check_sql()) gives it an explicit collation instead, which the
 * server returns as is for every row where a CAST copies it each time. */
#define VER_HASH_SEP "CAST(X'FF' AS BINARY)"
#define VER_HASH_SEP_CRC "X'FF' COLLATE `binary`"
/* The 64-bit mix of CRC32(A) and CRC32C(B) (see ver_hash_sql()). The high
 * half needs no mask: << 32 drops the bits of the product above 32. */
#define VER_HASH_MIX(A, B) \
	"(((CRC32(" A ")*2654435761)<<32)|((CRC32C(" B ")*2246822519)&4294967295))"


static int only(const char *v, unsigned long n, const char *alphabet)
{
	if (!n || n > 100)
		return 0;
	for (unsigned long i = 0; i < n; i++)
		if (!v[i] || !strchr(alphabet, v[i]))
			return 0;
	return 1;
}

static const char *charset_ok(const char *cs)
{
	if (!cs || !*cs || strlen(cs) > 32)
		return "utf8mb4";
	for (const char *p = cs; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return "utf8mb4";
	return cs;
}

int ver_sql_literal(struct sl_buf *out, enum ver_lit lit, const char *charset, const char *v,
		    unsigned long len)
{
	if (!v)
		return sl_buf_adds(out, "NULL");
	switch (lit) {
	case VER_LIT_NUM:
		if (!only(v, len, "0123456789.-+eE"))
			return -SL_EFORMAT;
		return sl_buf_add(out, v, len);
	case VER_LIT_FLOAT:
		if (!only(v, len, "0123456789.-+eE"))
			return -SL_EFORMAT;
		sl_buf_add(out, v, len);
		if (!memchr(v, 'e', len) && !memchr(v, 'E', len))
			return sl_buf_adds(out, "e0");
		return 0;
	case VER_LIT_TEMPORAL:
		if (!only(v, len, "0123456789-: ."))
			return -SL_EFORMAT;
		sl_buf_addc(out, '\'');
		sl_buf_add(out, v, len);
		return sl_buf_addc(out, '\'');
	case VER_LIT_STR:
		sl_buf_addf(out, "_%s ", charset_ok(charset));
		return len ? fmt_sql_hex(out, v, len) : sl_buf_adds(out, "''");
	case VER_LIT_BIN:
		return fmt_sql_hex(out, v, len);
	case VER_LIT_GEOM:
		if (len < 4)
			return -SL_EFORMAT;
		sl_buf_adds(out, "ST_GeomFromWKB(");
		fmt_sql_hex(out, v + 4, len - 4);
		return sl_buf_addf(out, ", %" PRIu32 ")", sl_le32((const uint8_t *)v));
	case VER_LIT_JSON:
		sl_buf_adds(out, "CAST(_utf8mb4 ");
		if (len)
			fmt_sql_hex(out, v, len);
		else
			sl_buf_adds(out, "''");
		return sl_buf_adds(out, " AS JSON)");
	}
	return -SL_EFORMAT;
}

int ver_value_show(struct sl_buf *out, const char *v, unsigned long len, int binary, size_t max)
{
	unsigned long n = len;

	if (!v)
		return sl_buf_adds(out, "NULL");
	if (binary) {
		if (n > max / 2)
			n = max / 2;
		sl_buf_adds(out, "0x");
		for (unsigned long i = 0; i < n; i++)
			sl_buf_addf(out, "%02X", (uint8_t)v[i]);
	} else {
		if (n > max)
			n = max;
		sl_buf_addc(out, '\'');
		for (unsigned long i = 0; i < n; i++) {
			uint8_t c = (uint8_t)v[i];

			if (c < 0x20 || c == 0x7f || c == '\\')
				sl_buf_addf(out, "\\x%02X", c);
			else if (c == '\'')
				sl_buf_adds(out, "\\'");
			else
				sl_buf_addc(out, c);
		}
		sl_buf_addc(out, '\'');
	}
	if (n < len)
		sl_buf_addf(out, "...(%lu bytes)", len);
	return 0;
}

/* The column as it enters the row hash: its bytes, converted to utf8mb4 when the sides' charsets differ. */
static void hash_ident(struct sl_buf *id, const struct ver_hash_col *c)
{
	sl_buf_reset(id);
	if (c->convert && (c->enc == VER_ENC_STR || c->enc == VER_ENC_BIG)) {
		sl_buf_adds(id, "CONVERT(");
		fmt_sql_ident(id, c->name);
		sl_buf_adds(id, " USING utf8mb4)");
	} else {
		fmt_sql_ident(id, c->name);
	}
}

/* May the column's bytes hold the separator 0xFF? (Well-formed UTF-8 never does.) */
static int any_bytes(const struct ver_hash_col *c)
{
	return (c->enc == VER_ENC_STR && !c->utf8 && !c->convert) || c->enc == VER_ENC_BIN;
}

/*
 * The row as one string s, injective (two rows that differ in any byte of any
 * value, or in NULL-ness, give different strings), built with as few function
 * calls per row as that allows (each one costs the server more than the CRCs):
 *
 *   CONCAT_WS(0xFF, v1, ..., vn, LENGTH(b1), ..., ISNULL(x1), ...)
 *
 * The separator is the byte 0xFF (binary, so that no value is converted):
 * no field but a byte string can hold it. vi: numbers and temporal values as
 * text, FLOAT/DOUBLE as DOUBLE text, long values (VER_ENC_BIG) as their MD5
 * in hex, strings in utf8mb3/utf8mb4/ascii (or converted to utf8mb4) as they
 * are: well-formed UTF-8 never holds 0xFF, and the server stores nothing else
 * in those charsets. Every other string or byte string (binary, latin1, ...)
 * is followed by its LENGTH, except one, which needs none (the fields before
 * it are read from the left, those after it from the right): the one with the
 * largest maximum length (the last of equals), since LENGTH() evaluates the
 * column again and a CHAR(n) value is unpadded each time. A NOT NULL column
 * has no flag; a nullable one has ISNULL(x) (CONCAT_WS skips a NULL value and
 * its NULL LENGTH; the flags, a fixed number of one-digit fields at the end,
 * say which ones were skipped).
 */
int ver_hash_sql(struct sl_buf *out, const struct ver_hash_col *cols, size_t ncols, int crc)
{
	struct sl_buf s = SL_BUF_INIT(SL_BUF_UNLIMITED), id = SL_BUF_INIT(SL_BUF_UNLIMITED);
	size_t free_col = ncols;	/* the byte string that needs no length */
	int rc = 0;

	for (size_t i = 0; i < ncols; i++)	/* the widest: LENGTH() re-reads (and unpads) it */
		if (any_bytes(&cols[i]) && (free_col == ncols || cols[i].maxlen >= cols[free_col].maxlen))
			free_col = i;
	sl_buf_adds(&s, crc ? "CONCAT_WS(" VER_HASH_SEP_CRC : "CONCAT_WS(" VER_HASH_SEP);
	for (size_t i = 0; i < ncols; i++) {
		const struct ver_hash_col *c = &cols[i];

		hash_ident(&id, c);
		if (c->enc == VER_ENC_BIG)
			sl_buf_addf(&s, ",MD5(%s)", sl_buf_cstr(&id));
		else if (c->enc == VER_ENC_FLOAT)	/* FLOAT text has 6 digits; DOUBLE's is exact */
			sl_buf_addf(&s, ",CAST(%s AS DOUBLE)", sl_buf_cstr(&id));
		else
			sl_buf_addf(&s, ",%s", sl_buf_cstr(&id));
	}
	for (size_t i = 0; i < ncols; i++) {
		if (!any_bytes(&cols[i]) || i == free_col)
			continue;
		hash_ident(&id, &cols[i]);
		sl_buf_addf(&s, ",LENGTH(%s)", sl_buf_cstr(&id));
	}
	for (size_t i = 0; i < ncols; i++) {
		if (!cols[i].nullable)
			continue;
		sl_buf_reset(&id);
		fmt_sql_ident(&id, cols[i].name);
		sl_buf_addf(&s, ",ISNULL(%s)", sl_buf_cstr(&id));
	}
	sl_buf_addc(&s, ')');
	/* a = CRC32(s), b = CRC32C(s) (s computed once: @ver_s), mixed into
	 * (a*K1 mod 2^32) << 32 | (b*K2 mod 2^32) with odd K1, K2: a bijection
	 * of (a, b), so as exact as a << 32 | b, but the carries of the products
	 * make it nonlinear: CRCs are linear, so the XOR of the plain CRC pairs
	 * of two rows of one length stays the same when a value is swapped
	 * between them. No product exceeds 2^64 (BIGINT UNSIGNED). The order:
	 * the server must evaluate | left to right, or CRC32C reads the previous
	 * row's @ver_s (MariaDB does for |, not for ^): ver_hash_check_sql()
	 * proves it on each server before this form is used. */
	if (crc)
		rc = sl_buf_addf(out, VER_HASH_MIX("@ver_s:=%s", "@ver_s"), sl_buf_cstr(&s));
	else
		rc = sl_buf_addf(out, "CAST(CONV(LEFT(MD5(%s),16),16,10) AS UNSIGNED)", sl_buf_cstr(&s));
	sl_buf_release(&s);
	sl_buf_release(&id);
	return rc;
}

int ver_hash_check_sql(struct sl_buf *out)
{
	/* rows of a materialized (UNION) table, so that c is a column, as in a
	 * real range; the second form computes s twice instead of through @ver_s */
	return sl_buf_adds(out, "SELECT COUNT(*) FROM (SELECT _utf8mb4'ab#c' AS c UNION ALL "
			   "SELECT _utf8mb4'x' UNION ALL SELECT _utf8mb4'' ) t WHERE "
			   VER_HASH_MIX("@ver_s:=CONCAT_WS(" VER_HASH_SEP_CRC ",c)", "@ver_s") " <=> "
			   VER_HASH_MIX("CONCAT_WS(" VER_HASH_SEP ",c)", "CONCAT_WS(" VER_HASH_SEP ",c)"));
}

int ver__key_where(struct sl_buf *out, const struct ver_table *t, char *const *key,
		   const unsigned long *len)
{
	int rc = 0;

	for (size_t k = 0; k < t->nkey && !rc; k++) {
		const struct ver_col *c = &t->cols[t->key[k]];

		if (k)
			sl_buf_adds(out, " AND ");
		fmt_sql_ident(out, c->name);
		if (!key[k]) {
			sl_buf_adds(out, " IS NULL");
			continue;
		}
		sl_buf_adds(out, " = ");
		rc = ver_sql_literal(out, c->lit, c->convert ? "utf8mb4" : c->charset, key[k], len[k]);
	}
	return rc;
}
