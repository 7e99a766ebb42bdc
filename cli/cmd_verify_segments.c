/* cmd_verify_segments.c - `sluice verify --segments DIR`: integrity of a stream directory (cmd_verify() parses the options, then calls it). */
#include "cmd.h"
#include "seg.h"

#include <inttypes.h>
#include <stdio.h>
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

int cmd_verify_segments(const char *dir, int deep)
{
	struct seg_verify_summary s;
	struct sl_err err = SL_ERR_INIT;
	unsigned flags = deep ? SEG_VERIFY_DEEP : 0;
	char p1[256], p2[256], t1[32], t2[32];
	uint64_t t0;
	double secs;
	int rc;

	t0 = sl_now_ms();
	rc = seg_verify_dir(dir, flags, on_problem, NULL, &s, &err);
	if (rc)
		return cmd_fail("verify", &err);
	secs = (double)(sl_now_ms() - t0) / 1000.0;
	printf("stream:       %s\n", s.source ? s.source : "(no segment)");
	printf("segments:     %" PRIu64 " (%" PRIu64 " sealed), seq %" PRIu64 "..%" PRIu64 ", %" PRIu64 " bytes\n",
	       s.segments, s.sealed, s.first_seq, s.last_seq, s.bytes);
	printf("transactions: %" PRIu64 ", rows %" PRIu64 ", ddls %" PRIu64 "\n",
	       s.transactions, s.rows, s.ddls);
	printf("positions:    %s .. %s\n",
	       s.first_pos ? fmt_position_str(s.first_pos, p1, sizeof(p1)) : "-",
	       s.last_pos ? fmt_position_str(s.last_pos, p2, sizeof(p2)) : "-");
	printf("time:         %s .. %s\n", utc(s.first_time, t1, sizeof(t1)), utc(s.last_time, t2, sizeof(t2)));
	printf("checked:      %.1f MB in %.3f s (%.0f MB/s)%s\n", (double)s.bytes / 1e6, secs,
	       secs > 0 ? (double)s.bytes / 1e6 / secs : 0.0, flags & SEG_VERIFY_DEEP ? ", deep" : "");
	printf("problems:     %" PRIu64 "\n", s.problems);
	rc = s.problems ? 1 : 0;
	seg_verify_summary_release(&s);
	return rc;
}
