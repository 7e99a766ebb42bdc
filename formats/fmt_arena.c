/* fmt_arena.c - decoding records with memory from an arena: many records, one reset, no per-field malloc/free. */
#include "fmt.h"

#include <stdlib.h>
#include <string.h>
#include "banned.h"

#define ARENA_BLOCK ((size_t)256 << 10)
#define ARENA_KEEP ((size_t)8 << 20)	/* what a reset keeps for reuse */

struct fmt_arena_block {
	struct fmt_arena_block *next;
	size_t cap, used;
	_Alignas(16) unsigned char data[];
};

static void *arena_alloc(void *ctx, size_t n)
{
	struct fmt_arena *a = ctx;
	struct fmt_arena_block *b = a->cur;

	n = (n + 15) & ~(size_t)15;
	while (b && b->cap - b->used < n) {
		b = b->next;	/* blocks after cur are empty (kept by a reset) */
		if (b)
			a->cur = b;
	}
	if (!b) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = sl_xmalloc(sizeof(*b) + cap);
		b->cap = cap;
		b->used = 0;
		b->next = NULL;
		if (a->cur)
			a->cur->next = b;
		else
			a->head = b;
		a->cur = b;
		a->bytes += cap;
	}
	b->used += n;
	return b->data + b->used - n;
}

static void arena_free(void *ctx, void *p)
{
	(void)ctx;
	(void)p;	/* all at once, in fmt_arena_reset() */
}

void fmt_arena_init(struct fmt_arena *a)
{
	memset(a, 0, sizeof(*a));
	a->pa.alloc = arena_alloc;
	a->pa.free = arena_free;
	a->pa.allocator_data = a;
}

void fmt_arena_reset(struct fmt_arena *a)
{
	struct fmt_arena_block **pb = &a->head;
	size_t kept = 0;

	while (*pb) {
		struct fmt_arena_block *b = *pb;

		if (kept + b->cap > ARENA_KEEP) {	/* a big row's block, or too many */
			*pb = b->next;
			a->bytes -= b->cap;
			free(b);
			continue;
		}
		kept += b->cap;
		b->used = 0;
		pb = &b->next;
	}
	a->cur = a->head;
}

void fmt_arena_release(struct fmt_arena *a)
{
	while (a->head) {
		struct fmt_arena_block *b = a->head;

		a->head = b->next;
		free(b);
	}
	fmt_arena_init(a);
}

/* One field of a message at p[*i..n): its number and wire type, the value
 * of a varint in *v, the field skipped. 0, or -1 when it runs past n. */
static int wire_field(const uint8_t *p, size_t n, size_t *i, uint32_t *num, uint64_t *v)
{
	uint64_t tag, len;
	size_t k = fmt_varint_get(p + *i, n - *i, &tag);

	if (!k)
		return -1;
	*i += k;
	*num = (uint32_t)(tag >> 3);
	*v = 0;
	switch (tag & 7) {
	case 0:
		k = fmt_varint_get(p + *i, n - *i, v);
		if (!k)
			return -1;
		*i += k;
		return 0;
	case 1:
		len = 8;
		break;
	case 5:
		len = 4;
		break;
	case 2:
		k = fmt_varint_get(p + *i, n - *i, &len);
		if (!k)
			return -1;
		*i += k;
		break;
	default:
		return -1;
	}
	if (len > n - *i)
		return -1;
	*i += (size_t)len;
	return 0;
}

int fmt_row_peek(const uint8_t *p, size_t len, uint32_t *table_ref, int *op)
{
	size_t i, end;
	uint64_t v;
	uint32_t num;

	*table_ref = 0;
	*op = 0;
	if (fmt_record_peek(p, len) != SLUICE__RECORD__BODY_ROW)
		return -SL_ECORRUPT;
	/* the record's first field: the RowChange, length-delimited */
	i = 1;
	if (!(end = fmt_varint_get(p + i, len - i, &v)) || v > len - i - end)
		return -SL_ECORRUPT;
	i += end;
	end = i + (size_t)v;
	while (i < end) {
		if (wire_field(p, end, &i, &num, &v))
			return -SL_ECORRUPT;
		if (num == 1)
			*table_ref = (uint32_t)v;
		else if (num == 2)
			*op = (int)v;
	}
	return 0;
}
