/* cap_value.c - decode one column value of a binlog row image into a typed Value. */
#include <stdio.h>
#include <string.h>

#include "cap_int.h"
#include "banned.h"

#define NEED(k)                                                            \
	do {                                                               \
		if ((size_t)(k) > n)                                       \
			return short_value(c, (size_t)(k), n, err);        \
	} while (0)

static int short_value(const Sluice__ColumnDef *c, size_t need, size_t n, struct sl_err *err)
{
	return sl_err_set(err, -SL_ECORRUPT,
			  "column '%s' (type %u): value needs %zu bytes, %zu left in the row",
			  c->name ? c->name : "?", c->type, need, n);
}

static uint32_t be_n(const uint8_t *p, unsigned k)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < k; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t le_n(const uint8_t *p, unsigned k)
{
	uint64_t v = 0;

	for (unsigned i = k; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

/* Append text to scratch and point v->b at it. The caller (the decoder)
 * re-bases pointers into scratch after the row, since scratch may move. */
static int put_text(Sluice__Value *v, struct sl_buf *scratch, const char *s, size_t len,
		    struct sl_err *err)
{
	size_t off = scratch->len;

	if (sl_buf_add(scratch, s, len) < 0)
		return sl_err_set(err, -SL_ETOOBIG, "row text exceeds the %zu-byte row limit",
				  scratch->max);
	v->b.data = scratch->data + off;
	v->b.len = len;
	return 0;
}

/* The real type and length of a STRING column (CHAR, BINARY, ENUM, SET),
 * including the CHAR(>255 bytes) encoding that borrows two bits of the type. */
static void string_meta(uint32_t meta, uint32_t *real_type, uint32_t *len)
{
	uint32_t b0 = meta >> 8 & 0xff, b1 = meta & 0xff;

	if (b0 != 0 && (b0 & 0x30) != 0x30) {
		*len = b1 | (((b0 & 0x30) ^ 0x30) << 4);
		*real_type = b0 | 0x30;
	} else {
		*len = b1;
		*real_type = b0 ? b0 : FMT_TYPE_STRING;
	}
}

/* Fractional-seconds bytes for fsp digits. */
static unsigned frac_bytes(unsigned fsp)
{
	return (fsp + 1) / 2;
}

/* The fraction (in microseconds) stored big-endian in frac_bytes(fsp) bytes. */
static int32_t read_frac(const uint8_t *p, unsigned fsp, int is_signed)
{
	switch (frac_bytes(fsp)) {
	case 1:
		return (int32_t)p[0] * 10000;
	case 2: {
		uint32_t u = be_n(p, 2);
		int32_t s = is_signed && (u & 0x8000) ? (int32_t)u - 0x10000 : (int32_t)u;
		return s * 100;
	}
	case 3: {
		uint32_t u = be_n(p, 3);
		return is_signed && (u & 0x800000) ? (int32_t)u - 0x1000000 : (int32_t)u;
	}
	default:
		return 0;
	}
}

static size_t fmt_frac(char *out, size_t n, uint32_t usec, unsigned fsp)
{
	char digits[8];

	if (fsp == 0)
		return 0;
	snprintf(digits, sizeof(digits), "%06u", usec % 1000000);
	return (size_t)snprintf(out, n, ".%.*s", (int)fsp, digits);
}

static int decode_decimal(const Sluice__ColumnDef *c, const uint8_t *p, size_t n, size_t *used,
			  Sluice__Value *v, struct sl_buf *scratch, struct sl_err *err)
{
	char text[CAP_DECIMAL_TEXT_MAX];
	size_t tl;
	int rc = cap__decimal_text(c, p, n, used, text, &tl, err);

	if (rc)
		return rc;
	v->kind = SLUICE__VALUE__KIND__DECIMAL;
	return put_text(v, scratch, text, tl, err);
}

static int decode_time2(const Sluice__ColumnDef *c, const uint8_t *p, size_t n, size_t *used,
			Sluice__Value *v, struct sl_buf *scratch, struct sl_err *err)
{
	unsigned fsp = c->meta > 6 ? 6 : c->meta;
	size_t size = 3 + frac_bytes(fsp);
	int64_t packed, intpart;
	int64_t frac;
	char text[40];
	size_t tl;
	int neg;
	uint32_t hms;

	NEED(size);
	intpart = (int64_t)be_n(p, 3) - 0x800000;
	switch (frac_bytes(fsp)) {
	case 0:
		packed = intpart * ((int64_t)1 << 24);
		break;
	case 1:
		frac = p[3];
		if (intpart < 0 && frac) {
			intpart++;
			frac -= 0x100;
		}
		packed = intpart * ((int64_t)1 << 24) + frac * 10000;
		break;
	case 2:
		frac = be_n(p + 3, 2);
		if (intpart < 0 && frac) {
			intpart++;
			frac -= 0x10000;
		}
		packed = intpart * ((int64_t)1 << 24) + frac * 100;
		break;
	default:
		packed = (int64_t)(((uint64_t)be_n(p, 3) << 24) | be_n(p + 3, 3)) - 0x800000000000LL;
		break;
	}
	neg = packed < 0;
	if (neg)
		packed = -packed;
	hms = (uint32_t)(packed >> 24);
	tl = (size_t)snprintf(text, sizeof(text), "%s%02u:%02u:%02u", neg ? "-" : "",
			      (hms >> 12) % 1024, (hms >> 6) % 64, hms % 64);
	tl += fmt_frac(text + tl, sizeof(text) - tl, (uint32_t)(packed % (1 << 24)), fsp);
	*used = size;
	v->kind = SLUICE__VALUE__KIND__TIME;
	return put_text(v, scratch, text, tl, err);
}

static int decode_datetime2(const Sluice__ColumnDef *c, const uint8_t *p, size_t n,
			    size_t *used, Sluice__Value *v, struct sl_buf *scratch,
			    struct sl_err *err)
{
	unsigned fsp = c->meta > 6 ? 6 : c->meta;
	size_t size = 5 + frac_bytes(fsp);
	uint64_t raw;
	int64_t intpart, ymd, ym, hms;
	int32_t usec;
	char text[48];
	size_t tl;

	NEED(size);
	raw = (uint64_t)p[0] << 32 | be_n(p + 1, 4);
	intpart = (int64_t)raw - 0x8000000000LL;
	usec = read_frac(p + 5, fsp, 1);
	if (intpart < 0 || usec < 0)
		return sl_err_set(err, -SL_ECORRUPT, "column '%s': negative DATETIME value",
				  c->name ? c->name : "?");
	ymd = intpart >> 17;
	ym = ymd >> 5;
	hms = intpart % (1 << 17);
	tl = (size_t)snprintf(text, sizeof(text), "%04u-%02u-%02u %02u:%02u:%02u",
			      (unsigned)(ym / 13 % 10000), (unsigned)(ym % 13), (unsigned)(ymd % 32),
			      (unsigned)(hms >> 12), (unsigned)(hms >> 6 & 63), (unsigned)(hms & 63));
	tl += fmt_frac(text + tl, sizeof(text) - tl, (uint32_t)usec, fsp);
	*used = size;
	v->kind = SLUICE__VALUE__KIND__DATETIME;
	return put_text(v, scratch, text, tl, err);
}

/* ENUM index or SET bitmask of k bytes (little-endian), with labels when known. */
static int decode_enum_set(const Sluice__ColumnDef *c, int is_set, const uint8_t *p, size_t n,
			   unsigned k, size_t *used, Sluice__Value *v, struct sl_buf *scratch,
			   struct sl_err *err)
{
	uint64_t x;
	int rc;

	if (k == 0 || k > 8 || (!is_set && k > 2))
		return sl_err_set(err, -SL_ECORRUPT, "column '%s': bad %s pack length %u",
				  c->name ? c->name : "?", is_set ? "SET" : "ENUM", k);
	NEED(k);
	x = le_n(p, k);
	*used = k;
	v->kind = is_set ? SLUICE__VALUE__KIND__SET : SLUICE__VALUE__KIND__ENUM;
	v->u = x;
	if (c->n_enum_values == 0)
		return 0;
	if (!is_set) {
		if (x == 0 || x > c->n_enum_values) {
			v->has_b = 1;	/* the '' error value, or an index past the labels */
			v->b.data = NULL;
			v->b.len = 0;
			return 0;
		}
		v->has_b = 1;
		v->b = c->enum_values[x - 1];
		return 0;
	} else {
		size_t off = scratch->len;
		int first = 1;

		for (unsigned i = 0; i < 64 && i < c->n_enum_values; i++) {
			if (!(x >> i & 1))
				continue;
			if (!first && sl_buf_addc(scratch, ',') < 0)
				goto toobig;
			rc = sl_buf_add(scratch, c->enum_values[i].data, c->enum_values[i].len);
			if (rc < 0)
				goto toobig;
			first = 0;
		}
		v->has_b = 1;
		v->b.data = scratch->data ? scratch->data + off : NULL;
		v->b.len = scratch->len - off;
		return 0;
	}
toobig:
	return sl_err_set(err, -SL_ETOOBIG, "row text exceeds the %zu-byte row limit", scratch->max);
}

/* Length-prefixed bytes (VARCHAR, STRING, BLOB): k-byte little-endian length. */
static int decode_lenbytes(const Sluice__ColumnDef *c, const uint8_t *p, size_t n, unsigned k,
			   size_t *used, Sluice__Value *v, struct sl_err *err)
{
	uint64_t len;

	if (k == 0 || k > 4)
		return sl_err_set(err, -SL_ECORRUPT, "column '%s': bad length size %u",
				  c->name ? c->name : "?", k);
	NEED(k);
	len = le_n(p, k);
	NEED(k + len);
	v->b.data = (uint8_t *)(uintptr_t)(p + k);
	v->b.len = (size_t)len;
	*used = k + (size_t)len;
	return 0;
}

static int is_binary(const Sluice__ColumnDef *c)
{
	return c->collation == 63 || c->collation == 0;
}

/*
 * A fixed-length binary value (STRING with the binary charset: BINARY(n),
 * and MariaDB's UUID, INET4 and INET6, which it logs the same way) back to
 * its full length len. The server writes these without their trailing 0x00
 * bytes (Field_string::pack strips the charset's pad character, which for
 * binary is 0x00); sent short, the destination stores another value (a UUID
 * or INET6 of the wrong length becomes NULL or an error) and a key never
 * matches. Only a known binary collation (63) is padded: CHAR(n) with a
 * character set is stripped of trailing spaces instead, which the
 * destination adds back itself, and a NO PAD collation key must be sent
 * unpadded to match; collation 0 (no charset metadata, and no schema
 * history that says the column is binary) may be a CHAR.
 */
static int pad_binary(const Sluice__ColumnDef *c, uint32_t len, Sluice__Value *v,
		      struct sl_buf *scratch, struct sl_err *err)
{
	size_t off = scratch->len, have = v->b.len;

	if (have == len)
		return 0;
	if (have > len)
		return sl_err_set(err, -SL_ECORRUPT, "column '%s': %zu-byte value in a BINARY(%u)",
				  c->name ? c->name : "?", have, len);
	if (sl_buf_reserve(scratch, len) < 0)
		return sl_err_set(err, -SL_ETOOBIG, "row text exceeds the %zu-byte row limit",
				  scratch->max);
	sl_buf_add(scratch, v->b.data, have);
	memset(scratch->data + scratch->len, 0, len - have);
	scratch->len += len - have;
	v->b.data = scratch->data + off;
	v->b.len = len;
	return 0;
}

int cap_value_decode(const Sluice__ColumnDef *c, const uint8_t *p, size_t n, size_t *used,
		     Sluice__Value *v, struct sl_buf *scratch, struct sl_err *err)
{
	char text[64];
	size_t tl;
	uint64_t x;
	int rc = 0;

	v->kind = SLUICE__VALUE__KIND__NULL;
	v->has_b = 0;
	*used = 0;
	switch (c->type) {
	case FMT_TYPE_TINY:
	case FMT_TYPE_SHORT:
	case FMT_TYPE_INT24:
	case FMT_TYPE_LONG:
	case FMT_TYPE_LONGLONG: {
		unsigned k = c->type == FMT_TYPE_TINY ? 1 : c->type == FMT_TYPE_SHORT ? 2 : c->type == FMT_TYPE_INT24 ? 3
			   : c->type == FMT_TYPE_LONG ? 4 : 8;

		NEED(k);
		x = le_n(p, k);
		*used = k;
		if (c->is_unsigned) {
			v->kind = SLUICE__VALUE__KIND__UINT;
			v->u = x;
		} else {
			v->kind = SLUICE__VALUE__KIND__INT;
			if (k < 8 && (x >> (8 * k - 1) & 1))
				x |= ~(uint64_t)0 << (8 * k);
			v->i = (int64_t)x;
		}
		return 0;
	}
	case FMT_TYPE_FLOAT: {
		uint32_t u;

		NEED(4);
		u = sl_le32(p);
		memcpy(&v->f, &u, 4);
		v->kind = SLUICE__VALUE__KIND__FLOAT;
		*used = 4;
		return 0;
	}
	case FMT_TYPE_DOUBLE: {
		uint64_t u;

		NEED(8);
		u = sl_le64(p);
		memcpy(&v->d, &u, 8);
		v->kind = SLUICE__VALUE__KIND__DOUBLE;
		*used = 8;
		return 0;
	}
	case FMT_TYPE_NEWDECIMAL:
		return decode_decimal(c, p, n, used, v, scratch, err);
	case FMT_TYPE_YEAR:
		NEED(1);
		v->kind = SLUICE__VALUE__KIND__YEAR;
		v->u = p[0] ? 1900u + p[0] : 0;
		*used = 1;
		return 0;
	case FMT_TYPE_DATE:
	case FMT_TYPE_NEWDATE:
		NEED(3);
		x = sl_le24(p);
		tl = (size_t)snprintf(text, sizeof(text), "%04u-%02u-%02u", (unsigned)(x >> 9),
				      (unsigned)(x >> 5 & 15), (unsigned)(x & 31));
		*used = 3;
		v->kind = SLUICE__VALUE__KIND__DATE;
		return put_text(v, scratch, text, tl, err);
	case FMT_TYPE_TIME: {
		int32_t t;
		uint32_t a;

		NEED(3);
		x = sl_le24(p);
		t = (x & 0x800000) ? (int32_t)x - 0x1000000 : (int32_t)x;
		a = (uint32_t)(t < 0 ? -t : t);
		tl = (size_t)snprintf(text, sizeof(text), "%s%02u:%02u:%02u", t < 0 ? "-" : "",
				      a / 10000, a / 100 % 100, a % 100);
		*used = 3;
		v->kind = SLUICE__VALUE__KIND__TIME;
		return put_text(v, scratch, text, tl, err);
	}
	case FMT_TYPE_TIME2:
		return decode_time2(c, p, n, used, v, scratch, err);
	case FMT_TYPE_DATETIME: {
		uint64_t d, t;

		NEED(8);
		x = sl_le64(p);
		d = x / 1000000;
		t = x % 1000000;
		tl = (size_t)snprintf(text, sizeof(text), "%04u-%02u-%02u %02u:%02u:%02u",
				      (unsigned)(d / 10000 % 10000), (unsigned)(d / 100 % 100),
				      (unsigned)(d % 100), (unsigned)(t / 10000),
				      (unsigned)(t / 100 % 100), (unsigned)(t % 100));
		*used = 8;
		v->kind = SLUICE__VALUE__KIND__DATETIME;
		return put_text(v, scratch, text, tl, err);
	}
	case FMT_TYPE_DATETIME2:
		return decode_datetime2(c, p, n, used, v, scratch, err);
	case FMT_TYPE_TIMESTAMP:
		NEED(4);
		v->kind = SLUICE__VALUE__KIND__TIMESTAMP;
		v->i = sl_le32(p);
		v->usec = 0;
		*used = 4;
		return 0;
	case FMT_TYPE_TIMESTAMP2: {
		unsigned fsp = c->meta > 6 ? 6 : c->meta;
		int32_t us;

		NEED(4 + frac_bytes(fsp));
		us = read_frac(p + 4, fsp, 1);
		if (us < 0 || us > 999999)
			return sl_err_set(err, -SL_ECORRUPT, "column '%s': bad TIMESTAMP fraction",
					  c->name ? c->name : "?");
		v->kind = SLUICE__VALUE__KIND__TIMESTAMP;
		v->i = be_n(p, 4);
		v->usec = (uint32_t)us;
		*used = 4 + frac_bytes(fsp);
		return 0;
	}
	case FMT_TYPE_BIT: {
		unsigned bytes = (c->meta >> 8 & 0xff) + ((c->meta & 0xff) ? 1 : 0);

		if (bytes == 0 || bytes > 8)
			return sl_err_set(err, -SL_ECORRUPT, "column '%s': bad BIT metadata %u",
					  c->name ? c->name : "?", c->meta);
		NEED(bytes);
		x = 0;
		for (unsigned i = 0; i < bytes; i++)
			x = x << 8 | p[i];
		v->kind = SLUICE__VALUE__KIND__BIT;
		v->u = x;
		*used = bytes;
		return 0;
	}
	case FMT_TYPE_VARCHAR:
	case FMT_TYPE_VAR_STRING:
		rc = decode_lenbytes(c, p, n, c->meta > 255 ? 2 : 1, used, v, err);
		if (rc == 0)
			v->kind = is_binary(c) ? SLUICE__VALUE__KIND__BYTES : SLUICE__VALUE__KIND__STRING;
		return rc;
	case FMT_TYPE_STRING:
	case FMT_TYPE_ENUM:
	case FMT_TYPE_SET: {
		uint32_t real, len;

		string_meta(c->meta, &real, &len);
		if (c->type == FMT_TYPE_ENUM || c->type == FMT_TYPE_SET)
			real = c->type;
		if (real == FMT_TYPE_ENUM || real == FMT_TYPE_SET)
			return decode_enum_set(c, real == FMT_TYPE_SET, p, n, len, used, v, scratch, err);
		rc = decode_lenbytes(c, p, n, len > 255 ? 2 : 1, used, v, err);
		if (rc)
			return rc;
		v->kind = is_binary(c) ? SLUICE__VALUE__KIND__BYTES : SLUICE__VALUE__KIND__STRING;
		return c->collation == 63 ? pad_binary(c, len, v, scratch, err) : 0;
	}
	case FMT_TYPE_TINY_BLOB:
	case FMT_TYPE_MEDIUM_BLOB:
	case FMT_TYPE_LONG_BLOB:
	case FMT_TYPE_BLOB:
		rc = decode_lenbytes(c, p, n, c->meta, used, v, err);
		if (rc == 0)
			v->kind = is_binary(c) ? SLUICE__VALUE__KIND__BYTES : SLUICE__VALUE__KIND__STRING;
		return rc;
	case FMT_TYPE_JSON: {
		/* MySQL binary JSON, as JSON text (cap_json.c). MariaDB's JSON
		 * is a LONGTEXT (FMT_TYPE_BLOB) and never gets here. */
		size_t off = scratch->len;
		char why[160];

		rc = decode_lenbytes(c, p, n, c->meta ? c->meta : 4, used, v, err);
		if (rc)
			return rc;
		rc = cap_json_to_text(v->b.data, v->b.len, scratch, why, sizeof(why));
		if (rc)
			return sl_err_set(err, rc, "column '%s': %s", c->name ? c->name : "?", why);
		v->kind = SLUICE__VALUE__KIND__JSON;
		v->b.data = scratch->data + off;
		v->b.len = scratch->len - off;
		return 0;
	}
	case FMT_TYPE_VECTOR:
		/* MySQL 9 VECTOR: little-endian float32s, kept as bytes. */
		rc = decode_lenbytes(c, p, n, c->meta ? c->meta : 4, used, v, err);
		if (rc == 0)
			v->kind = SLUICE__VALUE__KIND__BYTES;
		return rc;
	case FMT_TYPE_GEOMETRY:
		rc = decode_lenbytes(c, p, n, c->meta ? c->meta : 4, used, v, err);
		if (rc == 0)
			v->kind = SLUICE__VALUE__KIND__GEOMETRY;
		return rc;
	default:
		return sl_err_set(err, -SL_EFORMAT, "column '%s': unsupported column type %u",
				  c->name ? c->name : "?", c->type);
	}
}
