/* cmd_purge.c - `sluice purge`: remove old sealed segments every registered consumer has passed. */
#include "cmd.h"
#include "seg.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static const char usage[] =
	"usage: sluice purge DIR [--keep-bytes SIZE] [--keep-age AGE] [--force] [--dry-run]\n"
	"\n"
	"Removes the oldest sealed segments that every registered consumer (DIR/consumers/,\n"
	"written by replay) has passed. The newest segment is never removed.\n"
	"  --keep-bytes SIZE   keep at least this much of the newest segments (e.g. 10G)\n"
	"  --keep-age AGE      keep segments whose last commit is younger (e.g. 90m, 12h, 7d)\n"
	"  --force             ignore the consumers (the policy still applies)\n"
	"  --dry-run           print what would be removed\n";

int cmd_purge(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "keep-age", required_argument, NULL, 'a' },
		{ "keep-bytes", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct seg_purge_opts o = { 0 };
	struct seg_purge_result res;
	struct sl_err err = SL_ERR_INIT;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (sl_parse_age(optarg, &o.keep_age_s))
				return cmd_usage_error("purge", usage, "bad --keep-age '%s'", optarg);
			break;
		case 'b':
			if (sl_parse_size(optarg, &o.keep_bytes))
				return cmd_usage_error("purge", usage, "bad --keep-bytes '%s'", optarg);
			break;
		case 'f': o.force = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'n': o.dry_run = 1; break;
		default:
			return cmd_usage_error("purge", usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("purge", usage, "exactly one stream directory is needed");
	if (seg_purge(argv[optind], &o, &res, &err))
		return cmd_fail("purge", &err);
	printf("%s %" PRIu64 " segments (%" PRIu64 " bytes); kept %" PRIu64 " (%" PRIu64
	       " bytes) from segment %" PRIu64 ": %s\n", o.dry_run ? "would remove" : "removed",
	       res.removed, res.removed_bytes, res.kept, res.kept_bytes, res.first_kept_seq, res.why);
	return 0;
}
