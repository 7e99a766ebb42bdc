/* rep_deps.c - conflict keys between transactions, so parallel workers never reorder two that touch the same row. */
#include "rep_int.h"

#include <stdlib.h>
#include <string.h>
#include "banned.h"

void rep__deps_init(struct rep_deps *d, unsigned bits)
{
	memset(d, 0, sizeof(*d));
	d->slot = sl_xcalloc((size_t)1 << bits, sizeof(*d->slot));
	d->mask = ((size_t)1 << bits) - 1;
}

void rep__deps_release(struct rep_deps *d)
{
	rep__deps_reset_tables(d);
	free(d->slot);
	free(d->tm);
	memset(d, 0, sizeof(*d));
}

void rep__deps_reset_tables(struct rep_deps *d)
{
	for (size_t i = 0; i < d->ntm; i++) {
		free(d->tm[i].keys);
		memset(&d->tm[i], 0, sizeof(d->tm[i]));
	}
}

void rep__deps_set_mode(struct rep_deps *d, uint32_t ref, uint8_t mode, uint64_t *keys, uint32_t n)
{
	if (ref >= d->ntm) {
		size_t cap = d->ntm ? d->ntm : 64;

		while (cap <= ref)
			cap *= 2;
		d->tm = sl_xrealloc(d->tm, cap * sizeof(*d->tm));
		memset(d->tm + d->ntm, 0, (cap - d->ntm) * sizeof(*d->tm));
		d->ntm = cap;
	}
	free(d->tm[ref].keys);
	d->tm[ref].mode = mode;
	d->tm[ref].keys = keys;
	d->tm[ref].n = n;
}

/* FNV-1a, then a final mix so the low bits (the slot index) vary. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t finish(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return (h ^ (h >> 33)) | 1;	/* never 0 */
}

static uint64_t names_hash(const char *db, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	db = db ? db : "";
	name = name ? name : "";
	h = mix(h, db, strlen(db) + 1);
	return mix(h, name, strlen(name) + 1);
}

static uint64_t table_hash(const Sluice__TableDef *td)
{
	return names_hash(td->db, td->name);
}

uint64_t rep__deps_table_key(const char *db, const char *name)
{
	return finish(names_hash(db, name));
}

/*
 * Character columns are left out of the key: the destination compares them
 * by collation ('a' = 'A', trailing spaces ignored), so two different byte
 * strings can be the same row. Leaving them out only merges keys, which is
 * safe. A key made of nothing but such columns is the table key.
 */
uint64_t rep__deps_key(const Sluice__TableDef *td, const Sluice__Row *row,
		       const Sluice__Row *fallback, int mode)
{
	uint64_t h0 = table_hash(td), h = h0;
	int used = 0;

	if (mode != 1 || !row)
		return finish(h0);
	for (size_t k = 0; k < td->n_primary_key; k++) {
		uint32_t c = td->primary_key[k];
		const Sluice__Value *v;
		double dv;

		if (c >= row->n_values || !(v = row->values[c]))
			return 0;
		if (v->kind == SLUICE__VALUE__KIND__ABSENT && fallback && c < fallback->n_values &&
		    fallback->values[c])
			v = fallback->values[c];	/* a key column the update left alone */
		h = mix(h, &v->kind, sizeof(v->kind));
		switch (v->kind) {
		case SLUICE__VALUE__KIND__ABSENT:
			return 0;
		case SLUICE__VALUE__KIND__STRING:
			continue;
		case SLUICE__VALUE__KIND__FLOAT:
		case SLUICE__VALUE__KIND__DOUBLE:
			dv = (v->kind == SLUICE__VALUE__KIND__FLOAT ? (double)v->f : v->d) + 0.0;
			h = mix(h, &dv, sizeof(dv));
			break;
		default:
			h = mix(h, &v->i, sizeof(v->i));
			h = mix(h, &v->u, sizeof(v->u));
			h = mix(h, &v->usec, sizeof(v->usec));
			h = mix(h, v->b.data ? v->b.data : (const uint8_t *)"", v->b.len);
			break;
		}
		used = 1;
	}
	return used ? finish(h ^ 0x5bd1e995) : finish(h0);
}
