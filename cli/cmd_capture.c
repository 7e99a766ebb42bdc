/* cmd_capture.c - `sluice capture`: options, then cap_run(). */
#include "cap.h"
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static const char usage[] =
	"usage: sluice capture --source URL --dir DIR [--follow] [--from-start | --from FILE:POS]\n"
	"                      [--server-id N] [--segment-size SIZE] [--commit-interval MS]\n"
	"\n"
	"  --source URL          the source server, mysql://user@host:port/ (password from\n"
	"                        SLUICE_SOURCE_PASSWORD, ?password-file=PATH or the URL)\n"
	"  --dir DIR             the stream directory (created when missing)\n"
	"  --follow              keep streaming until SIGTERM/SIGINT (default: stop at the\n"
	"                        binlog end as of the start)\n"
	"  --from FILE:POS       a new DIR starts at this binlog position\n"
	"  --from-start          a new DIR starts at the oldest binlog the source has\n"
	"                        (default for a new DIR: the source's binlog end now; an\n"
	"                        existing DIR always resumes after its last transaction)\n"
	"  --server-id N         replica server id to register with (default: derived from the pid)\n"
	"  --segment-size SIZE   seal segments at this size, e.g. 64M (default 64M)\n"
	"  --commit-interval MS  group commit: fdatasync at most this late (default 10)\n";

int cmd_capture(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "commit-interval", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "follow", no_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'F' },
		{ "from-start", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "segment-size", required_argument, NULL, 'z' },
		{ "server-id", required_argument, NULL, 'i' },
		{ "source", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct cap_opts o = { 0 };
	struct cap_stats st;
	struct sl_err err = SL_ERR_INIT;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'c':
			o.commit_interval_ms = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || !*optarg)
				return cmd_usage_error("capture", usage, "bad --commit-interval '%s'", optarg);
			break;
		case 'd': o.dir = optarg; break;
		case 'f': o.follow = 1; break;
		case 'F': o.from = optarg; break;
		case 'S': o.from_start = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'i':
			o.server_id = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || !o.server_id)
				return cmd_usage_error("capture", usage, "bad --server-id '%s'", optarg);
			break;
		case 's': o.source_url = optarg; break;
		case 'z':
			if (sl_parse_size(optarg, &o.segment_size) || o.segment_size < 4096)
				return cmd_usage_error("capture", usage, "bad --segment-size '%s'", optarg);
			break;
		default:
			return cmd_usage_error("capture", usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error("capture", usage, "unexpected argument '%s'", argv[optind]);
	if (!o.source_url || !o.dir)
		return cmd_usage_error("capture", usage, "--source and --dir are required");
	if (o.from && o.from_start)
		return cmd_usage_error("capture", usage, "--from and --from-start exclude each other");
	if (cap_run(&o, &st, &err))
		return cmd_fail("capture", &err);
	return 0;
}
