/* cmd_capture.c - `sluice capture`: options, then cap_run(). */
#include "cap.h"
#include "cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static const char usage[] =
	"usage: sluice capture --source URL --dir DIR [--follow] [--from-start | --from FILE:POS |\n"
	"                      --from-gtid SET] [--server-id N] [--segment-size SIZE]\n"
	"                      [--commit-interval MS] [--allow-positional]\n"
	"                      [--retain-bytes SIZE] [--retain-age AGE]\n"
	"       sluice capture --binlog-files FILE... --dir DIR [--sort-files] [--allow-positional]\n"
	"                      [--segment-size SIZE] [--retain-bytes SIZE] [--retain-age AGE]\n"
	"\n"
	"  --source URL          the source server, mysql://user@host:port/ (password from\n"
	"                        SLUICE_SOURCE_PASSWORD, ?password-file=PATH or the URL)\n"
	"  --dir DIR             the stream directory (created when missing)\n"
	"  --follow              keep streaming until SIGTERM/SIGINT (default: stop at the\n"
	"                        binlog end as of the start)\n"
	"  --from FILE:POS       a new DIR starts at this binlog position\n"
	"  --from-gtid SET       a new DIR starts after this MySQL GTID set (COM_BINLOG_DUMP_GTID;\n"
	"                        MySQL and the OceanBase binlog service)\n"
	"  --from-start          a new DIR starts at the oldest binlog the source has\n"
	"                        (default for a new DIR: the source's binlog end now; an\n"
	"                        existing DIR always resumes after its last transaction)\n"
	"  --server-id N         replica server id to register with (default: derived from the pid)\n"
	"  --segment-size SIZE   seal segments at this size, e.g. 64M (default 64M)\n"
	"  --segment-age AGE     also seal a segment once it is this old, at a transaction\n"
	"                        boundary: 500ms, 30s, 15m, 1h (default: never)\n"
	"  --commit-interval MS  group commit: fdatasync at most this late (default 10)\n"
	"  --binlog-files FILE...  read binlog files from disk instead of a server, in the\n"
	"                        order given (every argument that is not an option; the\n"
	"                        option may repeat); positions are the files' own names\n"
	"                        and offsets; an existing DIR resumes after its last\n"
	"                        transaction and skips files wholly before it\n"
	"  --sort-files          read the --binlog-files sorted by name\n"
	"  --allow-positional    name columns @1, @2... when neither the binlog (FULL row\n"
	"                        metadata) nor a schema history that fits the binlog's\n"
	"                        column types gives their names\n"
	"  --retain-bytes SIZE   automatic retention, like `sluice purge --keep-bytes`: while\n"
	"                        capture runs (after a segment is sealed, at least every 3 s)\n"
	"                        and at its end, remove the oldest sealed segments that every\n"
	"                        registered consumer (replay --consumer) has passed, keeping\n"
	"                        at least SIZE of segments (0: no floor); never the open or\n"
	"                        the newest sealed segment. With no registered consumer\n"
	"                        nothing is removed (logged once). Removals are logged.\n"
	"  --retain-age AGE      retention too (either option turns it on): keep segments\n"
	"                        whose last commit is younger than AGE: 30s, 15m, 12h, 7d\n";

/* "500ms", "30s", "15m", "1h" (a bare number is seconds) into milliseconds. */
static int parse_age_ms(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10), mul;

	if (end == s)
		return -1;
	if (!strcmp(end, "ms"))
		mul = 1;
	else if (!*end || !strcmp(end, "s"))
		mul = 1000;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else if (!strcmp(end, "h"))
		mul = 3600000;
	else
		return -1;
	if (!v || v > UINT32_MAX / mul)
		return -1;
	*out = (uint32_t)(v * mul);
	return 0;
}

/* --binlog-files values; freed by cmd_capture() whatever capture_main() returns. */
static const char **files;

static int capture_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow-positional", no_argument, NULL, 'P' },
		{ "binlog-files", required_argument, NULL, 'B' },
		{ "commit-interval", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'd' },
		{ "follow", no_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'F' },
		{ "from-gtid", required_argument, NULL, 'G' },
		{ "from-start", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "retain-age", required_argument, NULL, 'R' },
		{ "retain-bytes", required_argument, NULL, 'r' },
		{ "segment-age", required_argument, NULL, 'a' },
		{ "segment-size", required_argument, NULL, 'z' },
		{ "server-id", required_argument, NULL, 'i' },
		{ "sort-files", no_argument, NULL, 'O' },
		{ "source", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct cap_opts o = { 0 };
	struct cap_files_opts fo = { 0 };
	struct cap_stats st;
	struct sl_err err = SL_ERR_INIT;
	size_t nfiles = 0;
	int c, use_files = 0, sort_files = 0, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'a':
			if (parse_age_ms(optarg, &o.segment_age_ms))
				return cmd_usage_error("capture", usage, "bad --segment-age '%s'", optarg);
			break;
		case 'c':
			o.commit_interval_ms = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || !*optarg)
				return cmd_usage_error("capture", usage, "bad --commit-interval '%s'", optarg);
			break;
		case 'd': o.dir = optarg; break;
		case 'f': o.follow = 1; break;
		case 'F': o.from = optarg; break;
		case 'G': o.from_gtid = optarg; break;
		case 'B':
			use_files = 1;
			files = sl_xrealloc(files, (nfiles + 1) * sizeof(*files));
			files[nfiles++] = optarg;
			break;
		case 'O': sort_files = 1; break;
		case 'r':
			if (sl_parse_size(optarg, &o.retain_bytes))
				return cmd_usage_error("capture", usage, "bad --retain-bytes '%s'", optarg);
			o.retain = 1;
			break;
		case 'R':
			if (sl_parse_age(optarg, &o.retain_age_s))
				return cmd_usage_error("capture", usage, "bad --retain-age '%s'", optarg);
			o.retain = 1;
			break;
		case 'P': o.allow_positional = 1; break;
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
	if (use_files) {
		/* --binlog-files takes every remaining non-option argument too */
		for (; optind < argc; optind++) {
			files = sl_xrealloc(files, (nfiles + 1) * sizeof(*files));
			files[nfiles++] = argv[optind];
		}
		if (o.source_url || o.from || o.from_start || o.from_gtid || o.follow || o.server_id)
			return cmd_usage_error("capture", usage,
					       "--binlog-files excludes --source, --from, --from-start, --from-gtid, --follow and --server-id");
		if (!o.dir)
			return cmd_usage_error("capture", usage, "--dir is required");
		fo.dir = o.dir;
		fo.files = files;
		fo.n_files = nfiles;
		fo.sort = sort_files;
		fo.allow_positional = o.allow_positional;
		fo.segment_size = o.segment_size;
		fo.commit_interval_ms = o.commit_interval_ms;
		fo.retain = o.retain;
		fo.retain_bytes = o.retain_bytes;
		fo.retain_age_s = o.retain_age_s;
		rc = cap_run_files(&fo, &st, &err);
		return rc ? cmd_fail("capture", &err) : 0;
	}
	if (optind < argc)
		return cmd_usage_error("capture", usage, "unexpected argument '%s'", argv[optind]);
	if (sort_files)
		return cmd_usage_error("capture", usage, "--sort-files needs --binlog-files");
	if (!o.source_url || !o.dir)
		return cmd_usage_error("capture", usage, "--source and --dir are required");
	if (!!o.from + !!o.from_start + !!o.from_gtid > 1)
		return cmd_usage_error("capture", usage, "--from, --from-start and --from-gtid exclude each other");
	if (cap_run(&o, &st, &err))
		return cmd_fail("capture", &err);
	return 0;
}

int cmd_capture(int argc, char **argv)
{
	int rc = capture_main(argc, argv);

	free(files);
	files = NULL;
	return rc;
}
