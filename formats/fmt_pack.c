/* fmt_pack.c - pack a record exactly as protobuf_c_message_pack() does, but size every sub-message once. */
/*
 * protobuf_c_message_pack() writes a sub-message's length before its bytes,
 * so it calls get_packed_size() on every sub-message it packs, and that
 * recurses again: a Value inside Row inside RowChange inside Record is sized
 * four times and packed once, most of the packing time of a row. Here a
 * first pass sizes the message tree once and remembers each sub-message's
 * size in pre-order; the second pass packs and takes the sizes back in the
 * same order.
 *
 * The bytes are the same as protobuf-c 1.4's: fields in descriptor order,
 * the same rules for what is written (proto3 zero values, oneof cases,
 * optional has_ flags and defaults), packed repeated scalars, int32 and enum
 * negatives as 10-byte varints. A message with unknown fields or a field
 * type not handled here is left to protobuf-c (p->fallback). Debug builds
 * compare every record with protobuf_c_message_pack() (seg_writer.c).
 *
 * Value, one per column and most of a row's bytes, has its own sizing and
 * packing code (no per-field switch), used only while its descriptor still
 * has the eight fields that code was written for (value_layout_ok()); a
 * Value changed in formats/sluice.proto takes the generic path until that
 * code is updated.
 *
 * A snapshot row (fmt_pack_insert()) is written without its Record,
 * RowChange and Row: their bytes are a few tags and lengths around the
 * values, under the same kind of layout check (insert_layout_ok()).
 */
#include "fmt.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static size_t vsize(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline uint32_t zz32(int32_t v) { return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31); }
static inline uint64_t zz64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
/* int32 and enum: a negative value is its 64-bit sign extension (10 bytes). */
static inline uint64_t i32v(int32_t v) { return (uint64_t)(int64_t)v; }

static int wire_type(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 1;
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_BYTES: case PROTOBUF_C_TYPE_MESSAGE:
		return 2;
	case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
		return 5;
	default:
		return 0;
	}
}

static size_t elt_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

/* Size of one scalar value (not string, bytes or message) without its tag. */
static size_t scalar_size(ProtobufCType t, const void *m)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_ENUM:
		return vsize(i32v(*(const int32_t *)m));
	case PROTOBUF_C_TYPE_SINT32: return vsize(zz32(*(const int32_t *)m));
	case PROTOBUF_C_TYPE_UINT32: return vsize(*(const uint32_t *)m);
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_UINT64:
		return vsize(*(const uint64_t *)m);
	case PROTOBUF_C_TYPE_SINT64: return vsize(zz64(*(const int64_t *)m));
	case PROTOBUF_C_TYPE_BOOL: return 1;
	case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
		return 4;
	default: return 8;	/* sfixed64, fixed64, double */
	}
}

static size_t scalar_put(ProtobufCType t, const void *m, uint8_t *out)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_ENUM:
		return fmt_varint_put(out, i32v(*(const int32_t *)m));
	case PROTOBUF_C_TYPE_SINT32: return fmt_varint_put(out, zz32(*(const int32_t *)m));
	case PROTOBUF_C_TYPE_UINT32: return fmt_varint_put(out, *(const uint32_t *)m);
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_UINT64:
		return fmt_varint_put(out, *(const uint64_t *)m);
	case PROTOBUF_C_TYPE_SINT64: return fmt_varint_put(out, zz64(*(const int64_t *)m));
	case PROTOBUF_C_TYPE_BOOL:
		out[0] = *(const protobuf_c_boolean *)m ? 1 : 0;
		return 1;
	case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
		memcpy(out, m, 4);	/* x86-64 and every target we build for: little-endian */
		return 4;
	default:
		memcpy(out, m, 8);
		return 8;
	}
}

/* Is this proto3 (LABEL_NONE) field at its zero value (not written)? */
static int zeroish(const ProtobufCFieldDescriptor *f, const void *m)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL: return *(const protobuf_c_boolean *)m == 0;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)m == 0;
	case PROTOBUF_C_TYPE_FLOAT: return *(const float *)m == 0;
	case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)m == 0;
	case PROTOBUF_C_TYPE_STRING:
		return *(const char *const *)m == NULL || **(const char *const *)m == '\0';
	case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)m)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE: return *(const void *const *)m == NULL;
	default: return *(const uint32_t *)m == 0;
	}
}

/* Is a singular field present (to be written)? */
static int present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)msg;
	const void *m = base + f->offset;
	int ptr_type = f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING;

	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return 1;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
			return 0;
		return !ptr_type || *(const void *const *)m != NULL;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		if (ptr_type) {
			const void *p = *(const void *const *)m;

			return p != NULL && p != f->default_value;
		}
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset) != 0;
	}
	return !zeroish(f, m);
}

static int supported(const ProtobufCFieldDescriptor *f)
{
	return f->type <= PROTOBUF_C_TYPE_MESSAGE && f->label <= PROTOBUF_C_LABEL_NONE;
}

/* ---- Value ---- */

static int value_layout_ok(void)
{
	static const struct {
		uint32_t id;
		ProtobufCType type;
		size_t off;
	} want[] = {
		{ 1, PROTOBUF_C_TYPE_ENUM, offsetof(Sluice__Value, kind) },
		{ 2, PROTOBUF_C_TYPE_SINT64, offsetof(Sluice__Value, i) },
		{ 3, PROTOBUF_C_TYPE_UINT64, offsetof(Sluice__Value, u) },
		{ 4, PROTOBUF_C_TYPE_FLOAT, offsetof(Sluice__Value, f) },
		{ 5, PROTOBUF_C_TYPE_DOUBLE, offsetof(Sluice__Value, d) },
		{ 6, PROTOBUF_C_TYPE_BYTES, offsetof(Sluice__Value, b) },
		{ 7, PROTOBUF_C_TYPE_UINT32, offsetof(Sluice__Value, usec) },
		{ 8, PROTOBUF_C_TYPE_BOOL, offsetof(Sluice__Value, has_b) },
	};
	const ProtobufCMessageDescriptor *d = &sluice__value__descriptor;

	if (d->n_fields != sizeof(want) / sizeof(want[0]))
		return 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = d->fields + i;

		if (f->id != want[i].id || f->type != want[i].type || f->offset != want[i].off ||
		    f->label != PROTOBUF_C_LABEL_NONE || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			return 0;
	}
	return 1;
}

static size_t value_size(const Sluice__Value *v)
{
	size_t n = 0;

	if (v->kind)
		n += 1 + vsize(i32v((int32_t)v->kind));
	if (v->i)
		n += 1 + vsize(zz64(v->i));
	if (v->u)
		n += 1 + vsize(v->u);
	if (v->f != 0)
		n += 5;
	if (v->d != 0)
		n += 9;
	if (v->b.len)
		n += 1 + vsize(v->b.len) + v->b.len;
	if (v->usec)
		n += 1 + vsize(v->usec);
	if (v->has_b)
		n += 2;
	return n;
}

static size_t value_put(const Sluice__Value *v, uint8_t *out)
{
	size_t n = 0;

	if (v->kind) {
		out[n++] = 1 << 3;
		n += fmt_varint_put(out + n, i32v((int32_t)v->kind));
	}
	if (v->i) {
		out[n++] = 2 << 3;
		n += fmt_varint_put(out + n, zz64(v->i));
	}
	if (v->u) {
		out[n++] = 3 << 3;
		n += fmt_varint_put(out + n, v->u);
	}
	if (v->f != 0) {
		out[n++] = 4 << 3 | 5;
		memcpy(out + n, &v->f, 4);
		n += 4;
	}
	if (v->d != 0) {
		out[n++] = 5 << 3 | 1;
		memcpy(out + n, &v->d, 8);
		n += 8;
	}
	if (v->b.len) {
		out[n++] = 6 << 3 | 2;
		n += fmt_varint_put(out + n, v->b.len);
		memcpy(out + n, v->b.data, v->b.len);
		n += v->b.len;
	}
	if (v->usec) {
		out[n++] = 7 << 3;
		n += fmt_varint_put(out + n, v->usec);
	}
	if (v->has_b) {
		out[n++] = 8 << 3;
		out[n++] = 1;
	}
	return n;
}

/* A Value the fast code may pack (else the generic code does). */
static inline int fast_value(const struct fmt_packer *p, const ProtobufCMessage *m)
{
	return m->descriptor == &sluice__value__descriptor && p->value_ok > 0 &&
	       m->n_unknown_fields == 0;
}

/* ---- any message ---- */

static size_t msg_size(struct fmt_packer *p, const ProtobufCMessage *msg);

/* Size of one length-delimited value (string, bytes, message) without its
 * tag; a message's size is remembered. */
static size_t ld_size(struct fmt_packer *p, ProtobufCType t, const void *m)
{
	size_t n;

	if (t == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(const char *const *)m;

		n = s ? strlen(s) : 0;
	} else if (t == PROTOBUF_C_TYPE_BYTES) {
		n = ((const ProtobufCBinaryData *)m)->len;
	} else {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)m;
		size_t slot;

		if (!sub)
			return 1;	/* protobuf-c writes an empty message */
		if (fast_value(p, sub)) {
			n = value_size((const Sluice__Value *)sub);
			return vsize(n) + n;
		}
		if (p->n == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 256;
			p->sizes = sl_xrealloc(p->sizes, p->cap * sizeof(*p->sizes));
		}
		slot = p->n++;
		n = msg_size(p, sub);
		p->sizes[slot] = n;
	}
	return vsize(n) + n;
}

static size_t msg_size(struct fmt_packer *p, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	size_t rv = 0;

	if (msg->n_unknown_fields)
		p->fallback = 1;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = d->fields + i;
		const char *m = (const char *)msg + f->offset;
		size_t tag = vsize((uint64_t)f->id << 3);

		if (!supported(f)) {
			p->fallback = 1;
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t count = *(const size_t *)((const char *)msg + f->quantifier_offset), body = 0;
			const char *a = *(const char *const *)m, *e;
			size_t es = elt_size(f->type);

			if (count == 0)
				continue;
			for (e = a; e < a + count * es; e += es)
				body += wire_type(f->type) == 2 ? ld_size(p, f->type, e)
								 : scalar_size(f->type, e);
			if (f->flags & PROTOBUF_C_FIELD_FLAG_PACKED)
				rv += tag + vsize(body) + body;
			else
				rv += tag * count + body;
			continue;
		}
		if (!present(msg, f))
			continue;
		rv += tag + (wire_type(f->type) == 2 ? ld_size(p, f->type, m) : scalar_size(f->type, m));
	}
	return rv;
}

static size_t msg_put(struct fmt_packer *p, const ProtobufCMessage *msg, uint8_t *out);

static size_t ld_put(struct fmt_packer *p, ProtobufCType t, const void *m, uint8_t *out)
{
	size_t n, h;

	if (t == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(const char *const *)m;

		n = s ? strlen(s) : 0;
		h = fmt_varint_put(out, n);
		if (n)
			memcpy(out + h, s, n);
		return h + n;
	}
	if (t == PROTOBUF_C_TYPE_BYTES) {
		const ProtobufCBinaryData *b = m;

		h = fmt_varint_put(out, b->len);
		if (b->len)
			memcpy(out + h, b->data, b->len);
		return h + b->len;
	}
	{
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)m;

		if (!sub) {
			out[0] = 0;
			return 1;
		}
		if (fast_value(p, sub)) {
			const Sluice__Value *v = (const Sluice__Value *)sub;

			n = value_size(v);
			h = fmt_varint_put(out, n);
			return h + value_put(v, out + h);
		}
		n = p->sizes[p->next++];
		h = fmt_varint_put(out, n);
		if (msg_put(p, sub, out + h) != n)
			sl_bug("fmt_pack: %s changed size while packed", sub->descriptor->name);
		return h + n;
	}
}

static size_t msg_put(struct fmt_packer *p, const ProtobufCMessage *msg, uint8_t *out)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	size_t rv = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = d->fields + i;
		const char *m = (const char *)msg + f->offset;
		int wt = wire_type(f->type);

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t count = *(const size_t *)((const char *)msg + f->quantifier_offset);
			const char *a = *(const char *const *)m, *e;
			size_t es = elt_size(f->type);

			if (count == 0)
				continue;
			if (f->flags & PROTOBUF_C_FIELD_FLAG_PACKED) {
				size_t body = 0;

				for (e = a; e < a + count * es; e += es)
					body += scalar_size(f->type, e);
				rv += fmt_varint_put(out + rv, (uint64_t)f->id << 3 | 2);
				rv += fmt_varint_put(out + rv, body);
				for (e = a; e < a + count * es; e += es)
					rv += scalar_put(f->type, e, out + rv);
				continue;
			}
			for (e = a; e < a + count * es; e += es) {
				rv += fmt_varint_put(out + rv, (uint64_t)f->id << 3 | (uint64_t)wt);
				rv += wt == 2 ? ld_put(p, f->type, e, out + rv) : scalar_put(f->type, e, out + rv);
			}
			continue;
		}
		if (!present(msg, f))
			continue;
		rv += fmt_varint_put(out + rv, (uint64_t)f->id << 3 | (uint64_t)wt);
		rv += wt == 2 ? ld_put(p, f->type, m, out + rv) : scalar_put(f->type, m, out + rv);
	}
	return rv;
}

size_t fmt_pack_size(struct fmt_packer *p, const ProtobufCMessage *m)
{
	size_t n;

	p->n = p->next = 0;
	p->fallback = 0;
	if (!p->value_ok)
		p->value_ok = value_layout_ok() ? 1 : -1;
	n = msg_size(p, m);
	return p->fallback ? protobuf_c_message_get_packed_size(m) : n;
}

size_t fmt_pack(struct fmt_packer *p, const ProtobufCMessage *m, uint8_t *out)
{
	size_t n;

	if (p->fallback)
		return protobuf_c_message_pack(m, out);
	p->next = 0;
	n = msg_put(p, m, out);
	if (p->next != p->n)
		sl_bug("fmt_pack: %zu of %zu sub-message sizes used", p->next, p->n);
	return n;
}

/* ---- a snapshot row: Record{row: RowChange{table_ref, INSERT, after: Row{values}}} ---- */

static const ProtobufCFieldDescriptor *field(const ProtobufCMessageDescriptor *d, uint32_t id)
{
	for (unsigned i = 0; i < d->n_fields; i++)
		if (d->fields[i].id == id)
			return d->fields + i;
	return NULL;
}

/* The messages around the values still have the fields the code below
 * writes by hand: Record.row = 2 (in the oneof), RowChange exactly
 * table_ref = 1, op = 2, before = 3, after = 4, no_fk_checks = 5 (a new
 * field there takes the generic path until this code knows it), Row
 * exactly values = 1; and Value's own code applies. Record's other fields
 * are never set here, and an unset proto3 field is never written. */
static int insert_layout_ok(void)
{
	static const struct {
		uint32_t id;
		ProtobufCType type;
		const void *sub;
	} want[] = {
		{ 1, PROTOBUF_C_TYPE_UINT32, NULL },
		{ 2, PROTOBUF_C_TYPE_ENUM, NULL },
		{ 3, PROTOBUF_C_TYPE_MESSAGE, &sluice__row__descriptor },
		{ 4, PROTOBUF_C_TYPE_MESSAGE, &sluice__row__descriptor },
		{ 5, PROTOBUF_C_TYPE_BOOL, NULL },
	};
	const ProtobufCMessageDescriptor *rc = &sluice__row_change__descriptor;
	const ProtobufCMessageDescriptor *row = &sluice__row__descriptor;
	const ProtobufCFieldDescriptor *f = field(&sluice__record__descriptor, 2);

	if (!value_layout_ok() || !f || f->type != PROTOBUF_C_TYPE_MESSAGE ||
	    !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->descriptor != rc)
		return 0;
	if (rc->n_fields != sizeof(want) / sizeof(want[0]))
		return 0;
	for (unsigned i = 0; i < rc->n_fields; i++) {
		f = rc->fields + i;
		if (f->id != want[i].id || f->type != want[i].type ||
		    f->label != PROTOBUF_C_LABEL_NONE || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
		    (want[i].sub && f->descriptor != want[i].sub))
			return 0;
	}
	f = row->fields;
	return row->n_fields == 1 && f->id == 1 && f->type == PROTOBUF_C_TYPE_MESSAGE &&
	       f->label == PROTOBUF_C_LABEL_REPEATED && f->descriptor == &sluice__value__descriptor;
}

/* The generic path: the messages built around the values. */
static void insert_build(struct fmt_packer *p, uint32_t table_ref, const Sluice__Value *v,
			 size_t n, Sluice__Record *rec, Sluice__RowChange *rc, Sluice__Row *row)
{
	if (n > p->vp_cap) {
		p->vp_cap = n;
		p->vp = sl_xrealloc(p->vp, n * sizeof(*p->vp));
	}
	for (size_t i = 0; i < n; i++)
		p->vp[i] = v + i;
	row->n_values = n;
	row->values = (Sluice__Value **)p->vp;
	rc->table_ref = table_ref;
	rc->op = SLUICE__ROW_CHANGE__OP__INSERT;
	rc->after = row;
	rec->body_case = SLUICE__RECORD__BODY_ROW;
	rec->row = rc;
}

size_t fmt_pack_insert_size(struct fmt_packer *p, uint32_t table_ref, const Sluice__Value *v,
			    size_t n)
{
	size_t row = 0, rc;

	if (!p->insert_ok) {
		if (!p->value_ok)
			p->value_ok = value_layout_ok() ? 1 : -1;
		p->insert_ok = insert_layout_ok() ? 1 : -1;
	}
	if (p->insert_ok < 0) {
		Sluice__Record rec = SLUICE__RECORD__INIT;
		Sluice__RowChange rchg = SLUICE__ROW_CHANGE__INIT;
		Sluice__Row r = SLUICE__ROW__INIT;

		insert_build(p, table_ref, v, n, &rec, &rchg, &r);
		return fmt_pack_size(p, &rec.base);
	}
	if (n + 2 > p->cap) {
		p->cap = n + 2 > 256 ? n + 2 : 256;
		p->sizes = sl_xrealloc(p->sizes, p->cap * sizeof(*p->sizes));
	}
	for (size_t i = 0; i < n; i++) {
		size_t s = value_size(v + i);

		p->sizes[2 + i] = s;
		row += 1 + vsize(s) + s;
	}
	rc = (table_ref ? 1 + vsize(table_ref) : 0) + 1 + vsize(row) + row;
	p->sizes[0] = rc;
	p->sizes[1] = row;
	p->n = n + 2;
	return 1 + vsize(rc) + rc;
}

size_t fmt_pack_insert(struct fmt_packer *p, uint32_t table_ref, const Sluice__Value *v, size_t n,
		       uint8_t *out)
{
	size_t o = 0;

	if (p->insert_ok < 0) {
		Sluice__Record rec = SLUICE__RECORD__INIT;
		Sluice__RowChange rchg = SLUICE__ROW_CHANGE__INIT;
		Sluice__Row r = SLUICE__ROW__INIT;

		insert_build(p, table_ref, v, n, &rec, &rchg, &r);
		return fmt_pack(p, &rec.base, out);
	}
	if (p->n != n + 2)
		sl_bug("fmt_pack_insert: sized for %zu values, packing %zu", p->n - 2, n);
	out[o++] = 2 << 3 | 2;			/* Record.row */
	o += fmt_varint_put(out + o, p->sizes[0]);
	if (table_ref) {
		out[o++] = 1 << 3;		/* RowChange.table_ref; op INSERT is 0: not written */
		o += fmt_varint_put(out + o, table_ref);
	}
	out[o++] = 4 << 3 | 2;			/* RowChange.after */
	o += fmt_varint_put(out + o, p->sizes[1]);
	for (size_t i = 0; i < n; i++) {
		out[o++] = 1 << 3 | 2;		/* Row.values */
		o += fmt_varint_put(out + o, p->sizes[2 + i]);
		o += value_put(v + i, out + o);
	}
	return o;
}

void fmt_packer_release(struct fmt_packer *p)
{
	free(p->sizes);
	free(p->vp);
	memset(p, 0, sizeof(*p));
}
