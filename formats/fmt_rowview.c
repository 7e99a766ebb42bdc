/* fmt_rowview.c - the after image of a packed RowChange record read in place: no protobuf-c, no malloc per row. */
/*
 * Replay's bulk load renders millions of rows and drops each right after:
 * protobuf_c_message_unpack() (a descriptor walk per field, a Value message
 * allocated per column) was most of its CPU. Here the wire bytes of Record
 * { row: RowChange { after: Row { repeated Value } } } are read directly
 * into Values held by the view and reused from row to row; bytes fields
 * point into the record. The result is what protobuf-c 1.4 gives for the
 * same bytes (proto3: absent fields are zero; the last of a repeated scalar
 * field wins; empty bytes have data NULL; uint32 and enum fields keep the
 * low 32 bits of their varint; bool is any non-zero varint).
 *
 * Whatever this code was not written for returns 1 and the caller decodes
 * with fmt_record_decode() instead: a field number it knows with another
 * wire type, a message field given twice (protobuf-c merges those), fields
 * after the record's body, a varint over 10 bytes, a length past the end,
 * and a Value whose descriptor no longer has the eight fields below
 * (checked once). Unknown fields are skipped, as protobuf-c keeps them
 * aside without changing the known ones.
 */
#include "fmt.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static inline size_t varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	size_t n = (size_t)(end - p);

	if (n && p[0] < 0x80) {
		*v = p[0];
		return 1;
	}
	for (size_t i = 0; i < n && i < 10; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

/* Skips a field of wire type wt whose tag was read: 0, or -1 when bad. */
static int skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
	uint64_t v;
	size_t k;

	switch (wt) {
	case 0:
		if (!(k = varint(*p, end, &v)))
			return -1;
		*p += k;
		return 0;
	case 1:
		v = 8;
		break;
	case 5:
		v = 4;
		break;
	case 2:
		if (!(k = varint(*p, end, &v)))
			return -1;
		*p += k;
		break;
	default:
		return -1;
	}
	if (v > (uint64_t)(end - *p))
		return -1;
	*p += v;
	return 0;
}

/* A length-delimited field's bounds after its tag: 0, or -1. */
static int sub(const uint8_t **p, const uint8_t *end, const uint8_t **s, const uint8_t **e)
{
	uint64_t v;
	size_t k = varint(*p, end, &v);

	if (!k || v > (uint64_t)(end - *p - k))
		return -1;
	*s = *p + k;
	*e = *s + v;
	*p = *e;
	return 0;
}

static int layout_ok(void)
{
	static const struct {
		uint32_t id;
		ProtobufCType type;
	} want[] = {
		{ 1, PROTOBUF_C_TYPE_ENUM }, { 2, PROTOBUF_C_TYPE_SINT64 },
		{ 3, PROTOBUF_C_TYPE_UINT64 }, { 4, PROTOBUF_C_TYPE_FLOAT },
		{ 5, PROTOBUF_C_TYPE_DOUBLE }, { 6, PROTOBUF_C_TYPE_BYTES },
		{ 7, PROTOBUF_C_TYPE_UINT32 }, { 8, PROTOBUF_C_TYPE_BOOL },
	};
	const ProtobufCMessageDescriptor *d = &sluice__value__descriptor;

	if (d->n_fields != sizeof(want) / sizeof(want[0]))
		return 0;
	for (size_t i = 0; i < d->n_fields; i++)
		if (d->fields[i].id != want[i].id || d->fields[i].type != want[i].type ||
		    d->fields[i].label != PROTOBUF_C_LABEL_NONE)
			return 0;
	return sluice__row__descriptor.n_fields == 1 && sluice__row_change__descriptor.n_fields == 5;
}

static int value(Sluice__Value *v, const uint8_t *p, const uint8_t *end)
{
	static const Sluice__Value init = SLUICE__VALUE__INIT;
	uint64_t x, tag;
	size_t k;

	*v = init;
	while (p < end) {
		if (!(k = varint(p, end, &tag)))
			return -1;
		p += k;
		switch (tag) {
		case (1 << 3) | 0:
		case (2 << 3) | 0:
		case (3 << 3) | 0:
		case (7 << 3) | 0:
		case (8 << 3) | 0:
			if (!(k = varint(p, end, &x)))
				return -1;
			p += k;
			switch (tag >> 3) {
			case 1:
				v->kind = (Sluice__Value__Kind)(int32_t)(uint32_t)x;
				break;
			case 2:
				v->i = (int64_t)((x >> 1) ^ (~(x & 1) + 1));
				break;
			case 3:
				v->u = x;
				break;
			case 7:
				v->usec = (uint32_t)x;
				break;
			default:
				v->has_b = x != 0;
				break;
			}
			break;
		case (4 << 3) | 5:
			if (end - p < 4)
				return -1;
			memcpy(&v->f, p, 4);	/* little-endian hosts (as protobuf-c) */
			p += 4;
			break;
		case (5 << 3) | 1:
			if (end - p < 8)
				return -1;
			memcpy(&v->d, p, 8);
			p += 8;
			break;
		case (6 << 3) | 2: {
			const uint8_t *s, *e;

			if (sub(&p, end, &s, &e))
				return -1;
			v->b.data = e > s ? (uint8_t *)s : NULL;
			v->b.len = (size_t)(e - s);
			break;
		}
		default:
			if ((tag >> 3) >= 1 && (tag >> 3) <= 8)
				return -1;	/* a known field, another wire type */
			if (skip(&p, end, (unsigned)(tag & 7)))
				return -1;
		}
	}
	return 0;
}

static int row(struct fmt_rowview *rv, const uint8_t *p, const uint8_t *end)
{
	uint64_t tag;
	size_t k, n = 0;

	while (p < end) {
		const uint8_t *s, *e;

		if (!(k = varint(p, end, &tag)))
			return -1;
		p += k;
		if (tag != ((1 << 3) | 2)) {
			if ((tag >> 3) == 1 || skip(&p, end, (unsigned)(tag & 7)))
				return -1;
			continue;
		}
		if (sub(&p, end, &s, &e))
			return -1;
		if (n == rv->cap) {
			rv->cap = rv->cap ? 2 * rv->cap : 64;
			rv->vals = sl_xrealloc(rv->vals, rv->cap * sizeof(*rv->vals));
			rv->ptrs = sl_xrealloc(rv->ptrs, rv->cap * sizeof(*rv->ptrs));
		}
		if (value(&rv->vals[n], s, e))
			return -1;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		rv->ptrs[i] = &rv->vals[i];
	sluice__row__init(&rv->row);
	rv->row.n_values = n;
	rv->row.values = rv->ptrs;
	return 0;
}

int fmt_rowview_decode(struct fmt_rowview *rv, const uint8_t *p, size_t len,
		       const Sluice__Row **after)
{
	const uint8_t *end = p + len, *s, *e, *as = NULL, *ae = NULL;
	uint64_t tag;
	size_t k;

	*after = NULL;
	if (!rv->layout)
		rv->layout = layout_ok() ? 1 : -1;
	if (rv->layout < 0 || fmt_record_peek(p, len) != SLUICE__RECORD__BODY_ROW)
		return 1;
	p++;
	if (sub(&p, end, &s, &e) || p != end)
		return 1;	/* more than the body: protobuf-c's rules */
	while (s < e) {
		if (!(k = varint(s, e, &tag)))
			return 1;
		s += k;
		switch (tag) {
		case (1 << 3) | 0:
		case (2 << 3) | 0:
		case (5 << 3) | 0:
			if (skip(&s, e, 0))
				return 1;
			break;
		case (3 << 3) | 2:
			if (skip(&s, e, 2))
				return 1;
			break;
		case (4 << 3) | 2:
			if (as || sub(&s, e, &as, &ae))
				return 1;	/* twice: protobuf-c merges them */
			break;
		default:
			if ((tag >> 3) >= 1 && (tag >> 3) <= 5)
				return 1;
			if (skip(&s, e, (unsigned)(tag & 7)))
				return 1;
		}
	}
	if (!as)
		return 0;	/* no after image */
	if (row(rv, as, ae))
		return 1;
	*after = &rv->row;
	return 0;
}

void fmt_rowview_release(struct fmt_rowview *rv)
{
	free(rv->vals);
	free(rv->ptrs);
	memset(rv, 0, sizeof(*rv));
}
