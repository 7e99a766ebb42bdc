/* fmt_record.c - length-delimited record framing, deep copies and the table map. */
#include "fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"


size_t fmt_varint_get(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t r = 0;

	for (size_t i = 0; i < n && i < 10; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

int fmt_record_pack(const Sluice__Record *rec, struct sl_buf *out)
{
	size_t len = sluice__record__get_packed_size(rec), hl;
	uint8_t hdr[10];
	int rc;

	if (len > FMT_RECORD_MAX)
		return -SL_ETOOBIG;
	hl = fmt_varint_put(hdr, len);
	if ((rc = sl_buf_reserve(out, hl + len)))
		return rc;
	memcpy(out->data + out->len, hdr, hl);
	sluice__record__pack(rec, out->data + out->len + hl);
	out->len += hl + len;
	return 0;
}

int fmt_record_decode(const uint8_t *p, size_t len, struct fmt_arena *a, Sluice__Record **rec,
		      struct sl_err *err)
{
	*rec = sluice__record__unpack(a ? &a->pa : NULL, len, p);
	if (!*rec)
		return sl_err_set(err, -SL_ECORRUPT, "record does not decode");
	if ((*rec)->body_case == SLUICE__RECORD__BODY__NOT_SET) {
		if (!a)
			sluice__record__free_unpacked(*rec, NULL);
		*rec = NULL;
		return sl_err_set(err, -SL_ECORRUPT, "record of no known type");
	}
	return 0;
}

int fmt_record_body(const uint8_t *p, size_t n, const uint8_t **body, size_t *len, size_t *used)
{
	uint64_t l;
	size_t hl = fmt_varint_get(p, n, &l);

	if (!hl || l > FMT_RECORD_MAX || l > n - hl)
		return -SL_ECORRUPT;
	*body = p + hl;
	*len = (size_t)l;
	*used = hl + (size_t)l;
	return 0;
}

int fmt_record_unpack(const uint8_t *p, size_t n, size_t *used,
		      Sluice__Record **rec, struct sl_err *err)
{
	const uint8_t *body;
	size_t len;
	int rc;

	if (fmt_record_body(p, n, &body, &len, used))
		return sl_err_set(err, -SL_ECORRUPT, "bad record length");
	if ((rc = fmt_record_decode(body, len, NULL, rec, err)))
		return rc;
	return 0;
}

void fmt_record_free(Sluice__Record *rec)
{
	if (rec)
		sluice__record__free_unpacked(rec, NULL);
}

Sluice__TableDef *fmt_tabledef_dup(const Sluice__TableDef *t)
{
	size_t n = sluice__table_def__get_packed_size(t);
	uint8_t *buf = sl_xmalloc(n);
	Sluice__TableDef *c;

	sluice__table_def__pack(t, buf);
	c = sluice__table_def__unpack(NULL, n, buf);
	free(buf);
	if (!c)
		sl_bug("table definition does not survive a copy");
	return c;
}

Sluice__Position *fmt_position_dup(const Sluice__Position *p)
{
	size_t n = sluice__position__get_packed_size(p);
	uint8_t *buf = sl_xmalloc(n);
	Sluice__Position *c;

	sluice__position__pack(p, buf);
	c = sluice__position__unpack(NULL, n, buf);
	free(buf);
	if (!c)
		sl_bug("position does not survive a copy");
	return c;
}

void fmt_position_free(Sluice__Position *p)
{
	if (p)
		sluice__position__free_unpacked(p, NULL);
}

char *fmt_position_str(const Sluice__Position *p, char *out, size_t n)
{
	if (!p)
		snprintf(out, n, "(none)");
	else if (p->gtid && p->gtid[0])
		snprintf(out, n, "%s:%llu gtid %s", p->file, (unsigned long long)p->offset, p->gtid);
	else
		snprintf(out, n, "%s:%llu", p->file, (unsigned long long)p->offset);
	return out;
}

void fmt_tables_init(struct fmt_tables *t)
{
	t->defs = NULL;
	t->cap = 0;
}

void fmt_tables_put(struct fmt_tables *t, const Sluice__TableDef *def)
{
	if (def->ref >= t->cap) {
		size_t cap = t->cap ? t->cap : 64;

		while (cap <= def->ref)
			cap *= 2;
		t->defs = sl_xrealloc(t->defs, cap * sizeof(*t->defs));
		memset(t->defs + t->cap, 0, (cap - t->cap) * sizeof(*t->defs));
		t->cap = cap;
	}
	if (t->defs[def->ref])
		sluice__table_def__free_unpacked(t->defs[def->ref], NULL);
	t->defs[def->ref] = fmt_tabledef_dup(def);
}

const Sluice__TableDef *fmt_tables_get(const struct fmt_tables *t, uint32_t ref)
{
	return ref < t->cap ? t->defs[ref] : NULL;
}

void fmt_tables_release(struct fmt_tables *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->defs[i])
			sluice__table_def__free_unpacked(t->defs[i], NULL);
	free(t->defs);
	t->defs = NULL;
	t->cap = 0;
}
