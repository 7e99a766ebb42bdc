/* ship_chunk.c - what every transport says the same way of a chunk. */
#include "ship_int.h"

#include <inttypes.h>
#include <stdio.h>
#include "banned.h"

const char *const ship_part_name[SHIP_PARTS] = { "seg", "snap" };

void ship_hex(char *out, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ship_unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(s[2 * i]), lo = hi < 0 ? -1 : nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return s[2 * n] ? -1 : 0;
}

/* The stream, the part, the segment and the offset name a chunk for good:
 * the same bytes always get the same id. */
void ship_chunk_msgid(const struct ship_chunk *c, char *out, size_t n)
{
	char sid[33];

	ship_hex(sid, c->stream_id, 16);
	snprintf(out, n, "%s-%s-%" PRIu64 "-%" PRIu64, sid, ship_part_name[c->part], c->seq, c->off);
}
