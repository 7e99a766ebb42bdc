/* cmd_replay.c - `sluice replay`: options, then rep_run(). */
#include "cmd.h"
#include "rep.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static const char usage[] =
	"usage: sluice replay --dir DIR --dest URL [--follow] [--consumer NAME] [--workers N]\n"
	"                     [--allow-dest-triggers]\n"
	"\n"
	"  --dir DIR          the stream directory written by capture\n"
	"  --dest URL         the destination, mysql://user@host:port/ (password from\n"
	"                     SLUICE_DEST_PASSWORD, ?password-file=PATH or the URL)\n"
	"  --follow           keep applying new transactions until SIGTERM/SIGINT\n"
	"                     (default: apply every complete transaction in DIR, then exit)\n"
	"  --consumer NAME    checkpoint name in `sluice`.`checkpoint` (default: default)\n"
	"  --poll MS          follow: how often to look for new frames (default 20)\n"
	"  --workers N        parallel destination connections (default 16, at most 64).\n"
	"                     Transactions touching a common row always commit in\n"
	"                     source order; independent ones may commit in any order.\n"
	"                     1 keeps the source's commit order for every transaction.\n"
	"  --allow-dest-triggers  apply rows to destination tables that have triggers\n"
	"                     (they fire again on every replayed row: the rows a source\n"
	"                     trigger wrote are in the stream already). Without it such\n"
	"                     a table stops replay before its first row.\n"
	"\n"
	"CREATE/DROP TRIGGER statements in the stream are not run (triggers are\n"
	"created at switchover). An account statement (CREATE USER, GRANT ...) or a\n"
	"statement-format DML found in a stream stops replay at its position.\n";

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow-dest-triggers", no_argument, NULL, 'T' },
		{ "consumer", required_argument, NULL, 'n' },
		{ "dest", required_argument, NULL, 'D' },
		{ "dir", required_argument, NULL, 'd' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "poll", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct rep_opts o = { 0 };
	struct rep_stats st;
	struct sl_err err = SL_ERR_INIT;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'n': o.consumer = optarg; break;
		case 'T': o.allow_dest_triggers = 1; break;
		case 'D': o.dest_url = optarg; break;
		case 'd': o.dir = optarg; break;
		case 'f': o.follow = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'p':
			o.poll_ms = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || !o.poll_ms)
				return cmd_usage_error("replay", usage, "bad --poll '%s'", optarg);
			break;
		case 'w':
			o.workers = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !o.workers || o.workers > 64)
				return cmd_usage_error("replay", usage, "bad --workers '%s' (1 to 64)", optarg);
			break;
		default:
			return cmd_usage_error("replay", usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error("replay", usage, "unexpected argument '%s'", argv[optind]);
	if (!o.dir || !o.dest_url)
		return cmd_usage_error("replay", usage, "--dir and --dest are required");
	if (rep_run(&o, &st, &err))
		return cmd_fail("replay", &err);
	return 0;
}
