/* cmd_verify_segments.c - `sluice verify --segments DIR`: integrity of a stream directory (cmd_verify() parses the options, then calls it). */
#include "cmd.h"
#include "seg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banned.h"

static void on_problem(void *ctx, const char *path, const char *msg)
{
	(void)ctx;
	(void)path;	/* msg names the file and offset */
	printf("problem: %s\n", msg);
}

static const char *utc(uint64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "-");
	return out;
}

/* One stream directory: its summary on stdout, its problems counted. 0, or
 * 2 after an error line when it cannot be read at all. */
static int verify_one(const char *dir, const char *label, unsigned flags, uint64_t *problems,
		      char **source)
{
	struct seg_verify_summary s;
	struct sl_err err = SL_ERR_INIT;
	char p1[256], p2[256], t1[32], t2[32];
	uint64_t t0;
	double secs;
	int rc;

	t0 = sl_now_ms();
	rc = seg_verify_dir(dir, flags, on_problem, NULL, &s, &err);
	if (rc)
		return cmd_fail("verify", &err);
	secs = (double)(sl_now_ms() - t0) / 1000.0;
	if (*source && s.source && strcmp(*source, s.source)) {
		printf("problem: '%s' is a snapshot of source '%s', not of '%s'\n", dir, s.source, *source);
		s.problems++;
	}
	if (!*source && s.source)
		*source = sl_xstrdup(s.source);
	if (label)
		printf("\n%s '%s':\n", label, dir);
	printf("stream:       %s\n", s.source ? s.source : "(no segment)");
	printf("segments:     %" PRIu64 " (%" PRIu64 " sealed), seq %" PRIu64 "..%" PRIu64 ", %" PRIu64 " bytes\n",
	       s.segments, s.sealed, s.first_seq, s.last_seq, s.bytes);
	printf("transactions: %" PRIu64 ", rows %" PRIu64 ", ddls %" PRIu64 "\n",
	       s.transactions, s.rows, s.ddls);
	if (s.chunks || s.schema_objects || s.snapshot_runs || s.snapshot_ends)
		printf("snapshot:     %" PRIu64 " schema objects, %" PRIu64 " runs, %" PRIu64 " chunks, %" PRIu64
		       " tables done, %s\n", s.schema_objects, s.snapshot_runs, s.chunks, s.tables_done,
		       s.snapshot_ends ? "finished" : "not finished");
	printf("positions:    %s .. %s\n",
	       s.first_pos ? fmt_position_str(s.first_pos, p1, sizeof(p1)) : "-",
	       s.last_pos ? fmt_position_str(s.last_pos, p2, sizeof(p2)) : "-");
	printf("time:         %s .. %s\n", utc(s.first_time, t1, sizeof(t1)), utc(s.last_time, t2, sizeof(t2)));
	printf("checked:      %.1f MB in %.3f s (%.0f MB/s)%s\n", (double)s.bytes / 1e6, secs,
	       secs > 0 ? (double)s.bytes / 1e6 / secs : 0.0, flags & SEG_VERIFY_DEEP ? ", deep" : "");
	printf("problems:     %" PRIu64 "\n", s.problems);
	*problems += s.problems;
	seg_verify_summary_release(&s);
	return 0;
}

int cmd_verify_segments(const char *dir, int deep)
{
	struct sl_err err = SL_ERR_INIT;
	unsigned flags = deep ? SEG_VERIFY_DEEP : 0;
	uint64_t problems = 0;
	char *source = NULL, *snap;
	int rc;

	if ((rc = verify_one(dir, NULL, flags, &problems, &source)))
		goto out;
	/* DIR/snapshot travels with DIR: checked with it (FORMAT.md "Snapshot streams") */
	if ((rc = seg_snapshot_exists(dir, &err)) < 0) {
		rc = cmd_fail("verify", &err);
		goto out;
	}
	if (rc == 1) {
		snap = seg_snapshot_path(dir);
		rc = verify_one(snap, "snapshot stream", flags, &problems, &source);
		free(snap);
		if (rc)
			goto out;
	}
	rc = problems ? 1 : 0;
out:
	free(source);
	return rc;
}
