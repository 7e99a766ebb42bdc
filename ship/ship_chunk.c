/* ship_chunk.c - what every transport says the same way of a chunk: its part and id. */
#include "ship_int.h"

#include <inttypes.h>
#include <stdio.h>
#include "banned.h"

const char *const ship_part_name[SHIP_PARTS] = { "seg", "snap" };

/* The stream, the part, the segment and the offset name a chunk for good:
 * the same bytes always get the same id. */
void ship_chunk_msgid(const struct ship_chunk *c, char *out, size_t n)
{
	char sid[33];

	sl_hex(sid, c->stream_id, 16);
	snprintf(out, n, "%s-%s-%" PRIu64 "-%" PRIu64, sid, ship_part_name[c->part], c->seq, c->off);
}
