/* mig_summary.c - what a migrate run did, in a few lines on stdout. */
#include "mig.h"

#include <inttypes.h>
#include <stdio.h>
#include "banned.h"

void mig_summary_print(const struct mig_summary *s, FILE *f)
{
	double secs = (double)s->ms / 1000.0;

	fprintf(f, "migrate:  %s\n", s->verify == 0 ? "done, source and destination are equal" :
		s->verify == 1 ? "done, verify found differences" : "not finished");
	fprintf(f, "tables:   %" PRIu64 " (%" PRIu64 " chunks)\n", s->tables, s->chunks);
	fprintf(f, "rows:     %" PRIu64 " (%" PRIu64 " bytes read from the source)\n", s->rows, s->bytes);
	fprintf(f, "time:     %.1f s%s\n", secs, s->resumed ? " (this run; it continued an earlier one)" : "");
	if (s->nphases) {
		fprintf(f, "phases:  ");
		for (unsigned i = 0; i < s->nphases; i++)
			fprintf(f, "%s %s %.2f s", i ? "," : "", s->phases[i].name, (double)s->phases[i].ms / 1000.0);
		fprintf(f, "\n");
	}
	fprintf(f, "rate:     %.0f rows/s\n", secs > 0 ? (double)s->rows / secs : 0.0);
	fprintf(f, "lag:      %" PRIu64 " transactions, %" PRIu64 " bytes, %" PRIu64 " s\n", s->lag_txns,
		s->lag_bytes, s->lag_s);
	fprintf(f, "verify:   %s\n", s->verify == 0 ? "equal" : s->verify == 1 ? "differences (see above)" :
		"not run");
}
