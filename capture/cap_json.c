/* cap_json.c - MySQL binary JSON (JSON columns in row images) to JSON text. */
/*
 * The format (MySQL sql-common/json_binary.h): a value is a type byte and
 * its data. Objects and arrays come in a small form (2-byte counts and
 * offsets) and a large form (4-byte):
 *
 *   object: count, size, key entries (offset, 2-byte length), value entries
 *   array:  count, size, value entries
 *   value entry: type byte, then either the value itself (literals, 16-bit
 *                integers, and in the large form 32-bit ones) or the offset
 *                of the value from the start of the object/array
 *   string: variable-length size (7 bits a byte), utf8mb4 bytes
 *   opaque: MySQL field type byte, variable-length size, the bytes in that
 *           type's binary form (DECIMAL, DATE/TIME/DATETIME, BLOB, ...)
 *
 * The text is what MySQL prints (", " and ": " separators, doubles in their
 * shortest exact form, opaque temporal and decimal values as strings, other
 * opaque values as "base64:typeNN:..."). Every offset and length is checked
 * against the bytes given; nesting is limited to CAP_JSON_MAX_DEPTH.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap_int.h"
#include "banned.h"

#define CAP_JSON_MAX_DEPTH 100

enum {
	J_SMALL_OBJ = 0, J_LARGE_OBJ = 1, J_SMALL_ARR = 2, J_LARGE_ARR = 3, J_LITERAL = 4,
	J_INT16 = 5, J_UINT16 = 6, J_INT32 = 7, J_UINT32 = 8, J_INT64 = 9, J_UINT64 = 10,
	J_DOUBLE = 11, J_STRING = 12, J_OPAQUE = 15,
};

struct jctx {
	struct sl_buf *out;
	char *why;
	size_t whyn;
};

static int bad(struct jctx *j, const char *what)
{
	snprintf(j->why, j->whyn, "bad binary JSON: %s", what);
	return -SL_ECORRUPT;
}

static int put(struct jctx *j, const void *p, size_t n)
{
	if (sl_buf_add(j->out, p, n) < 0) {
		snprintf(j->why, j->whyn, "JSON text exceeds %zu bytes", j->out->max);
		return -SL_ETOOBIG;
	}
	return 0;
}

static int puts_(struct jctx *j, const char *s)
{
	return put(j, s, strlen(s));
}

/* Variable-length size: 7 bits per byte, low bits first, at most 5 bytes. */
static int read_varlen(const uint8_t *p, size_t n, uint32_t *v, size_t *used)
{
	uint64_t x = 0;

	for (size_t i = 0; i < 5 && i < n; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (x > UINT32_MAX)
				return -1;
			*v = (uint32_t)x;
			*used = i + 1;
			return 0;
		}
	}
	return -1;
}

static int put_escaped(struct jctx *j, const uint8_t *s, size_t n)
{
	int rc;

	if ((rc = put(j, "\"", 1)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		char e[8];
		const char *r = NULL;

		switch (c) {
		case '"': r = "\\\""; break;
		case '\\': r = "\\\\"; break;
		case '\n': r = "\\n"; break;
		case '\r': r = "\\r"; break;
		case '\t': r = "\\t"; break;
		case '\b': r = "\\b"; break;
		case '\f': r = "\\f"; break;
		default:
			if (c < 0x20) {
				snprintf(e, sizeof(e), "\\u%04x", c);
				r = e;
			}
		}
		rc = r ? puts_(j, r) : put(j, &c, 1);
		if (rc)
			return rc;
	}
	return put(j, "\"", 1);
}

static int put_double(struct jctx *j, double d)
{
	char t[40];

	if (!isfinite(d))
		return bad(j, "non-finite double");
	/* the shortest text that reads back as the same double */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(t, sizeof(t), "%.*g", prec, d);
		if (strtod(t, NULL) == d)
			break;
	}
	/* MySQL prints integral doubles with ".0" (e.g. 3.0); keep a marker of
	 * floating point when the text has no '.', 'e' or "inf". */
	if (!strpbrk(t, ".eE"))
		snprintf(t + strlen(t), sizeof(t) - strlen(t), ".0");
	return puts_(j, t);
}

/* An opaque value: temporal and decimal types as MySQL prints them, others
 * as base64. */
static int put_opaque(struct jctx *j, uint8_t ftype, const uint8_t *p, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char t[128];
	int rc;

	switch (ftype) {
	case FMT_TYPE_NEWDECIMAL: {	/* precision, scale, then the binary decimal */
		Sluice__ColumnDef c = SLUICE__COLUMN_DEF__INIT;
		struct sl_err e = SL_ERR_INIT;
		char text[CAP_DECIMAL_TEXT_MAX];
		size_t used, tl;

		if (n < 2)
			return bad(j, "short opaque DECIMAL");
		c.name = (char *)"json";
		c.type = FMT_TYPE_NEWDECIMAL;
		c.meta = (uint32_t)p[0] << 8 | p[1];
		rc = cap__decimal_text(&c, p + 2, n - 2, &used, text, &tl, &e);
		if (rc == 0)
			rc = put(j, text, tl);	/* a JSON number, as MySQL prints it */
		else
			snprintf(j->why, j->whyn, "%s", e.msg);
		return rc;
	}
	case FMT_TYPE_DATE: case FMT_TYPE_NEWDATE: case FMT_TYPE_TIMESTAMP: case FMT_TYPE_DATETIME:
	case FMT_TYPE_TIME: case FMT_TYPE_TIMESTAMP2: case FMT_TYPE_DATETIME2: case FMT_TYPE_TIME2: {
		/* DATE, NEWDATE, TIMESTAMP, DATETIME, TIME (and their *2 forms):
		 * a packed 8-byte integer, as in MySQL's TIME_to_longlong_packed. */
		int64_t x;
		uint64_t ux, frac;
		int neg;

		if (n < 8)
			return bad(j, "short opaque temporal value");
		x = (int64_t)sl_le64(p);
		neg = x < 0;
		ux = neg ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x;
		frac = ux % (1ull << 24);
		ux >>= 24;
		if (ftype == FMT_TYPE_TIME || ftype == FMT_TYPE_TIME2) {
			unsigned hms = (unsigned)(ux % (1ull << 24) & 0xffffff);
			/* TIME: hours in bits 12.., minutes 6.., seconds 0.. */
			snprintf(t, sizeof(t), "\"%s%02u:%02u:%02u.%06u\"", neg ? "-" : "",
				 (unsigned)((ux >> 12) & 0x3ff), (unsigned)((hms >> 6) & 63),
				 (unsigned)(hms & 63), (unsigned)frac);
		} else {
			uint64_t ymd = ux >> 17, ym = ymd >> 5, hms = ux % (1 << 17);

			if (ftype == FMT_TYPE_DATE || ftype == FMT_TYPE_NEWDATE)
				snprintf(t, sizeof(t), "\"%04u-%02u-%02u\"", (unsigned)(ym / 13 % 10000),
					 (unsigned)(ym % 13), (unsigned)(ymd % 32));
			else
				snprintf(t, sizeof(t), "\"%04u-%02u-%02u %02u:%02u:%02u.%06u\"",
					 (unsigned)(ym / 13 % 10000), (unsigned)(ym % 13),
					 (unsigned)(ymd % 32), (unsigned)(hms >> 12),
					 (unsigned)(hms >> 6 & 63), (unsigned)(hms & 63), (unsigned)frac);
		}
		return puts_(j, t);
	}
	default:
		break;
	}
	snprintf(t, sizeof(t), "\"base64:type%u:", ftype);
	if ((rc = puts_(j, t)))
		return rc;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63],
			      i + 1 < n ? b64[v >> 6 & 63] : '=', i + 2 < n ? b64[v & 63] : '=' };

		if ((rc = put(j, q, 4)))
			return rc;
	}
	return put(j, "\"", 1);
}

static int value(struct jctx *j, uint8_t type, const uint8_t *p, size_t n, int depth);

/* An object or array at p (n bytes: everything up to the end of the
 * enclosing document, since offsets are relative to p). */
static int container(struct jctx *j, int is_obj, int large, const uint8_t *p, size_t n, int depth)
{
	size_t w = large ? 4 : 2, hdr = 2 * w, ksz = w + 2, vsz = 1 + w;
	uint32_t count, size;
	int rc;

	if (depth > CAP_JSON_MAX_DEPTH)
		return bad(j, "nested too deeply");
	if (n < hdr)
		return bad(j, "container header overruns the value");
	count = large ? sl_le32(p) : sl_le16(p);
	size = large ? sl_le32(p + w) : sl_le16(p + w);
	if (size > n || size < hdr)
		return bad(j, "container size overruns the value");
	n = size;
	if ((uint64_t)count * ((is_obj ? ksz : 0) + vsz) > n - hdr)
		return bad(j, "container entries overrun the value");
	if ((rc = put(j, is_obj ? "{" : "[", 1)))
		return rc;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *ve = p + hdr + (is_obj ? (size_t)count * ksz : 0) + (size_t)i * vsz;
		uint8_t vt = ve[0];
		int inlined;

		if (i && (rc = put(j, ", ", 2)))
			return rc;
		if (is_obj) {
			const uint8_t *ke = p + hdr + (size_t)i * ksz;
			uint32_t ko = large ? sl_le32(ke) : sl_le16(ke);
			uint16_t kl = sl_le16(ke + w);

			if (ko > n || kl > n - ko)
				return bad(j, "object key overruns the value");
			if ((rc = put_escaped(j, p + ko, kl)) || (rc = put(j, ": ", 2)))
				return rc;
		}
		inlined = vt == J_LITERAL || vt == J_INT16 || vt == J_UINT16 ||
			  (large && (vt == J_INT32 || vt == J_UINT32));
		if (inlined) {
			rc = value(j, vt, ve + 1, w, depth + 1);
		} else {
			uint32_t vo = large ? sl_le32(ve + 1) : sl_le16(ve + 1);

			if (vo >= n)
				return bad(j, "value offset overruns the container");
			rc = value(j, vt, p + vo, n - vo, depth + 1);
		}
		if (rc)
			return rc;
	}
	return put(j, is_obj ? "}" : "]", 1);
}

static int value(struct jctx *j, uint8_t type, const uint8_t *p, size_t n, int depth)
{
	char t[32];

	switch (type) {
	case J_SMALL_OBJ: case J_LARGE_OBJ:
		return container(j, 1, type == J_LARGE_OBJ, p, n, depth);
	case J_SMALL_ARR: case J_LARGE_ARR:
		return container(j, 0, type == J_LARGE_ARR, p, n, depth);
	case J_LITERAL:
		if (n < 1)
			return bad(j, "short literal");
		if (p[0] > 2)
			return bad(j, "unknown literal");
		return puts_(j, p[0] == 0 ? "null" : p[0] == 1 ? "true" : "false");
	case J_INT16: case J_UINT16:
		if (n < 2)
			return bad(j, "short 16-bit integer");
		if (type == J_INT16)
			snprintf(t, sizeof(t), "%d", (int)(int16_t)sl_le16(p));
		else
			snprintf(t, sizeof(t), "%u", (unsigned)sl_le16(p));
		return puts_(j, t);
	case J_INT32: case J_UINT32:
		if (n < 4)
			return bad(j, "short 32-bit integer");
		if (type == J_INT32)
			snprintf(t, sizeof(t), "%d", (int32_t)sl_le32(p));
		else
			snprintf(t, sizeof(t), "%u", sl_le32(p));
		return puts_(j, t);
	case J_INT64: case J_UINT64:
		if (n < 8)
			return bad(j, "short 64-bit integer");
		if (type == J_INT64)
			snprintf(t, sizeof(t), "%lld", (long long)(int64_t)sl_le64(p));
		else
			snprintf(t, sizeof(t), "%llu", (unsigned long long)sl_le64(p));
		return puts_(j, t);
	case J_DOUBLE: {
		uint64_t u;
		double d;

		if (n < 8)
			return bad(j, "short double");
		u = sl_le64(p);
		memcpy(&d, &u, 8);
		return put_double(j, d);
	}
	case J_STRING: {
		uint32_t len;
		size_t k;

		if (read_varlen(p, n, &len, &k) || len > n - k)
			return bad(j, "string overruns the value");
		return put_escaped(j, p + k, len);
	}
	case J_OPAQUE: {
		uint32_t len;
		size_t k;

		if (n < 1 || read_varlen(p + 1, n - 1, &len, &k) || len > n - 1 - k)
			return bad(j, "opaque value overruns the value");
		return put_opaque(j, p[0], p + 1 + k, len);
	}
	default:
		snprintf(t, sizeof(t), "type %u", type);
		return bad(j, t);
	}
}

int cap_json_to_text(const uint8_t *p, size_t n, struct sl_buf *out, char *why, size_t whyn)
{
	struct jctx j = { out, why, whyn };

	/* An empty document is what MySQL writes for a JSON NULL-ish empty value. */
	if (n == 0)
		return puts_(&j, "null");
	return value(&j, p[0], p + 1, n - 1, 0);
}

/* ---- partial updates: JSON diffs applied to a document's text ---- */
/*
 * PARTIAL_UPDATE_ROWS carries, for a JSON column, a list of diffs instead
 * of the new document: operation (1 byte: 0 REPLACE, 1 INSERT, 2 REMOVE),
 * path (packed length + text such as $.a[2]."b c"), and for REPLACE and
 * INSERT the new value (packed length + binary JSON). They are applied to
 * the before image's text through a small tree whose leaves keep their
 * text; objects keep MySQL's key order (length, then bytes).
 */

struct jnode {
	char kind;		/* 'o' object, 'a' array, 's' scalar (text kept) */
	const char *key;	/* member name as written between its quotes */
	size_t keylen;
	const char *text;	/* scalar text */
	size_t textlen;
	struct jnode **kids;
	size_t n;
};

static void jfree(struct jnode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		jfree(n->kids[i]);
	free(n->kids);
	free(n);
}

static void jskip_ws(const char **p, const char *e)
{
	while (*p < e && (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r'))
		(*p)++;
}

static int jstring_end(const char *p, const char *e, const char **end)
{
	/* p at the opening quote */
	for (p++; p < e; p++) {
		if (*p == '\\') {
			p++;
			continue;
		}
		if (*p == '"') {
			*end = p + 1;
			return 0;
		}
	}
	return -1;
}

static void jadd(struct jnode *parent, size_t at, struct jnode *kid)
{
	parent->kids = sl_xrealloc(parent->kids, (parent->n + 1) * sizeof(*parent->kids));
	memmove(parent->kids + at + 1, parent->kids + at, (parent->n - at) * sizeof(*parent->kids));
	parent->kids[at] = kid;
	parent->n++;
}

static struct jnode *jparse(const char **p, const char *e, int depth)
{
	struct jnode *n;

	jskip_ws(p, e);
	if (*p >= e || depth > CAP_JSON_MAX_DEPTH)
		return NULL;
	n = sl_xcalloc(1, sizeof(*n));
	if (**p == '{' || **p == '[') {
		int obj = **p == '{';
		char close = obj ? '}' : ']';

		n->kind = obj ? 'o' : 'a';
		(*p)++;
		jskip_ws(p, e);
		if (*p < e && **p == close) {
			(*p)++;
			return n;
		}
		for (;;) {
			const char *k = NULL, *ke = NULL;
			struct jnode *kid;

			jskip_ws(p, e);
			if (obj) {
				if (*p >= e || **p != '"' || jstring_end(*p, e, &ke))
					goto bad;
				k = *p + 1;
				*p = ke;
				jskip_ws(p, e);
				if (*p >= e || **p != ':')
					goto bad;
				(*p)++;
			}
			kid = jparse(p, e, depth + 1);
			if (!kid)
				goto bad;
			if (obj) {
				kid->key = k;
				kid->keylen = (size_t)(ke - 1 - k);
			}
			jadd(n, n->n, kid);
			jskip_ws(p, e);
			if (*p < e && **p == ',') {
				(*p)++;
				continue;
			}
			if (*p < e && **p == close) {
				(*p)++;
				return n;
			}
			goto bad;
		}
	}
	n->kind = 's';
	n->text = *p;
	if (**p == '"') {
		const char *end;

		if (jstring_end(*p, e, &end))
			goto bad;
		*p = end;
	} else {
		while (*p < e && **p != ',' && **p != '}' && **p != ']' && **p != ' ' && **p != '\n')
			(*p)++;
	}
	n->textlen = (size_t)(*p - n->text);
	if (n->textlen == 0)
		goto bad;
	return n;
bad:
	jfree(n);
	return NULL;
}

static int jwrite(struct jctx *j, const struct jnode *n)
{
	int rc;

	if (n->kind == 's')
		return put(j, n->text, n->textlen);
	if ((rc = put(j, n->kind == 'o' ? "{" : "[", 1)))
		return rc;
	for (size_t i = 0; i < n->n; i++) {
		if (i && (rc = put(j, ", ", 2)))
			return rc;
		if (n->kind == 'o' && ((rc = put(j, "\"", 1)) || (rc = put(j, n->kids[i]->key, n->kids[i]->keylen)) ||
				       (rc = put(j, "\": ", 3))))
			return rc;
		if ((rc = jwrite(j, n->kids[i])))
			return rc;
	}
	return put(j, n->kind == 'o' ? "}" : "]", 1);
}

/* One path leg: a member name (key, keylen) or an array index (idx >= 0). */
struct leg {
	const char *key;
	size_t keylen;
	long idx;
};

static int next_leg(const char **p, const char *e, struct leg *l)
{
	l->key = NULL;
	l->keylen = 0;
	l->idx = -1;
	if (*p >= e)
		return 0;
	if (**p == '.') {
		(*p)++;
		if (*p < e && **p == '"') {
			const char *end;

			if (jstring_end(*p, e, &end))
				return -1;
			l->key = *p + 1;
			l->keylen = (size_t)(end - 1 - l->key);
			*p = end;
		} else {
			l->key = *p;
			while (*p < e && **p != '.' && **p != '[')
				(*p)++;
			l->keylen = (size_t)(*p - l->key);
		}
		return l->keylen ? 1 : -1;
	}
	if (**p == '[') {
		char *end;

		l->idx = strtol(*p + 1, &end, 10);
		if (end >= e || *end != ']' || l->idx < 0)
			return -1;
		*p = end + 1;
		return 1;
	}
	return -1;
}

static int key_before(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return an < bn;
	return memcmp(a, b, an) < 0;
}

static long find_member(const struct jnode *o, const struct leg *l)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->kids[i]->keylen == l->keylen && memcmp(o->kids[i]->key, l->key, l->keylen) == 0)
			return (long)i;
	return -1;
}

int cap_json_apply_diffs(const char *before, size_t bn, const uint8_t *diffs, size_t dn,
			 struct sl_buf *out, char *why, size_t whyn)
{
	struct jctx j = { out, why, whyn };
	struct sl_buf vals;
	struct jnode *root;
	const char *bp = before;
	size_t i = 0;
	int rc = 0;

	root = jparse(&bp, before + bn, 0);
	if (!root)
		return bad(&j, "before image is not JSON text");
	/* the values' texts live in vals; it must not move while nodes point in */
	sl_buf_init(&vals, (size_t)1 << 30);
	while (i < dn) {
		uint8_t op = diffs[i++];
		uint64_t plen = 0, vlen = 0;
		const char *path, *pp, *pe;
		struct jnode *parent = root, *val = NULL;
		struct leg l, last;
		int k;

		if (op > 2 || !(k = (int)cap__packed_int(diffs + i, dn - i, &plen)) || plen > dn - i - (size_t)k) {
			rc = bad(&j, "malformed JSON diff");
			goto out;
		}
		i += (size_t)k;
		path = (const char *)diffs + i;
		i += (size_t)plen;
		if (op != 2) {
			size_t off;
			const char *vp;

			if (!(k = (int)cap__packed_int(diffs + i, dn - i, &vlen)) || vlen > dn - i - (size_t)k) {
				rc = bad(&j, "malformed JSON diff value");
				goto out;
			}
			i += (size_t)k;
			/* reserve generously once so earlier value texts never move */
			if (vals.cap == 0 && sl_buf_reserve(&vals, dn * 8 + 4096) < 0) {
				rc = bad(&j, "JSON diffs too large");
				goto out;
			}
			off = vals.len;
			{
				struct sl_buf tmp;

				sl_buf_init(&tmp, vals.cap - vals.len);
				if ((rc = cap_json_to_text(diffs + i, (size_t)vlen, &tmp, why, whyn)) == 0)
					memcpy(vals.data + vals.len, tmp.data, tmp.len), vals.len += tmp.len;
				sl_buf_release(&tmp);
				if (rc)
					goto out;
			}
			i += (size_t)vlen;
			vp = (const char *)vals.data + off;
			val = jparse(&vp, (const char *)vals.data + vals.len, 0);
			if (!val) {
				rc = bad(&j, "JSON diff value");
				goto out;
			}
		}
		if (plen < 1 || path[0] != '$') {
			jfree(val);
			rc = bad(&j, "JSON diff path does not start with $");
			goto out;
		}
		pp = path + 1;
		pe = path + plen;
		if ((k = next_leg(&pp, pe, &last)) <= 0) {
			if (k == 0 && op == 0) {	/* replace the whole document */
				jfree(root);
				root = val;
				continue;
			}
			jfree(val);
			rc = bad(&j, "JSON diff path");
			goto out;
		}
		/* walk to the parent of the last leg */
		while ((k = next_leg(&pp, pe, &l)) == 1) {
			long at = last.key ? (parent->kind == 'o' ? find_member(parent, &last) : -1)
				 : (parent->kind == 'a' && last.idx < (long)parent->n ? last.idx : -1);

			if (at < 0) {
				jfree(val);
				rc = bad(&j, "JSON diff path names a missing value");
				goto out;
			}
			parent = parent->kids[at];
			last = l;
		}
		if (k < 0) {
			jfree(val);
			rc = bad(&j, "JSON diff path");
			goto out;
		}
		if (last.key) {
			long at;

			if (parent->kind != 'o') {
				jfree(val);
				rc = bad(&j, "JSON diff names a member of a non-object");
				goto out;
			}
			at = find_member(parent, &last);
			if (op == 2) {
				if (at >= 0) {
					jfree(parent->kids[at]);
					memmove(parent->kids + at, parent->kids + at + 1,
						(parent->n - (size_t)at - 1) * sizeof(*parent->kids));
					parent->n--;
				}
			} else if (at >= 0) {
				val->key = parent->kids[at]->key;
				val->keylen = parent->kids[at]->keylen;
				jfree(parent->kids[at]);
				parent->kids[at] = val;
			} else {
				size_t pos = 0;

				val->key = last.key;
				val->keylen = last.keylen;
				while (pos < parent->n && key_before(parent->kids[pos]->key, parent->kids[pos]->keylen,
								     val->key, val->keylen))
					pos++;
				jadd(parent, pos, val);
			}
		} else {
			size_t at = (size_t)last.idx;

			if (parent->kind != 'a') {
				jfree(val);
				rc = bad(&j, "JSON diff names an element of a non-array");
				goto out;
			}
			if (op == 2) {
				if (at < parent->n) {
					jfree(parent->kids[at]);
					memmove(parent->kids + at, parent->kids + at + 1,
						(parent->n - at - 1) * sizeof(*parent->kids));
					parent->n--;
				}
			} else if (op == 0 && at < parent->n) {
				jfree(parent->kids[at]);
				parent->kids[at] = val;
			} else {
				jadd(parent, at < parent->n ? at : parent->n, val);
			}
		}
	}
	rc = jwrite(&j, root);
out:
	jfree(root);
	sl_buf_release(&vals);
	return rc;
}
