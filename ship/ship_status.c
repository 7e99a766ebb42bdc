/* ship_status.c - what `sluice status --nats URL` shows of a shipped stream (ship.h). */
#include "ship.h"
#include "ship_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "banned.h"

static void print_chunk(FILE *out, const struct ship_chunk *c)
{
	if (c->off + c->len == c->size || !c->len)
		fprintf(out, "segment %" PRIu64 " whole", c->seq);
	else
		fprintf(out, "segment %" PRIu64 " up to offset %" PRIu64 " of %" PRIu64, c->seq, c->off + c->len,
			c->size);
}

int ship_status_print(FILE *out, const char *url, struct sl_err *err)
{
	const struct xp_ops *ops = xp_find(url, err);
	struct xp *x = NULL;
	struct xp_info in;
	int rc;

	if (!ops)
		return -SL_EINVAL_ARG;
	memset(&in, 0, sizeof(in));
	if ((rc = ops->open(&x, url, err)) || (rc = ops->info(x, &in, err)))
		goto out;
	fprintf(out, "nats:      %s: %" PRIu64 " messages (%" PRIu64 "..%" PRIu64 "), %" PRIu64
		" bytes, %d replicas", ops->name(x), in.messages, in.first_id, in.last_id, in.bytes, in.replicas);
	if (in.max_age_s)
		fprintf(out, ", max-age %" PRIu64 " s", in.max_age_s);
	if (in.max_bytes)
		fprintf(out, ", max-bytes %" PRIu64, in.max_bytes);
	fprintf(out, "\n");
	for (int k = 0; k < SHIP_PARTS; k++) {
		struct ship_chunk c;
		int has = ops->last(x, k, &c, err);

		if (has < 0) {
			rc = has;
			goto out;
		}
		if (!has && k)
			continue;
		fprintf(out, "  shipped%s: ", k ? " snapshot" : "");
		if (has)
			print_chunk(out, &c);
		else
			fprintf(out, "nothing yet");
		fprintf(out, "\n");
	}
	for (size_t i = 0; i < in.nreaders; i++) {
		const struct xp_reader *r = &in.readers[i];
		size_t n = strlen(r->name);

		/* a receiver's snapshot reader, when there is no snapshot: not worth a line */
		if (!r->has_chunk && !r->pending && n > 5 && !strcmp(r->name + n - 5, "-snap"))
			continue;
		fprintf(out, "  receiver %s: ", r->name);
		if (r->has_chunk)
			print_chunk(out, &r->chunk);
		else
			fprintf(out, "nothing acked");
		fprintf(out, "; %" PRIu64 " messages not acked\n", r->pending);
	}
out:
	xp_info_release(&in);
	if (x)
		ops->close(x);
	return rc;
}
