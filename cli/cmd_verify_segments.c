/* cmd_verify_segments.c - `sluice verify --segments DIR`: integrity of a stream directory (cmd_verify() dispatches here). */
#include "cmd.h"
#include "seg.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "banned.h"

static const char usage[] =
	"usage: sluice verify --segments DIR [--deep]\n"
	"\n"
	"  --segments DIR   check every segment of DIR: each frame's CRC32C and zstd frame\n"
	"                   header, each footer (body hash, counts, trailer), the chain of\n"
	"                   segments (sequence, predecessor's footer hash, positions)\n"
	"  --deep           also decompress every frame and decode its records, and check\n"
	"                   the footers' transaction and row counts against them\n"
	"Prints a summary and one line per problem (file and offset).\n"
	"Exit status: 0 clean, 1 a problem was found, 2 an error (DIR unreadable, usage).\n";

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

int cmd_verify_segments(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "deep", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "segments", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct seg_verify_summary s;
	struct sl_err err = SL_ERR_INIT;
	const char *dir = NULL;
	unsigned flags = 0;
	char p1[256], p2[256], t1[32], t2[32];
	uint64_t t0;
	double secs;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'D': flags |= SEG_VERIFY_DEEP; break;
		case 'h': fputs(usage, stdout); return 0;
		case 's': dir = optarg; break;
		default:
			return cmd_usage_error("verify", usage, "unknown option '%s' with --segments",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error("verify", usage, "unexpected argument '%s'", argv[optind]);
	if (!dir || !*dir)
		return cmd_usage_error("verify", usage, "--segments needs a directory");
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
