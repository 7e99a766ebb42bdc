/* cmd_verify.c - `sluice verify`: options, then ver_run(); `--segments DIR` goes to cmd_verify_segments(). */
#include "cmd.h"
#include "ver.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "banned.h"

static const char usage[] =
	"usage: sluice verify --source URL --dest URL [options]\n"
	"       sluice verify --segments DIR            (integrity of a stream directory)\n"
	"\n"
	"  --source URL        the source, mysql://user@host:port/ (SLUICE_SOURCE_PASSWORD)\n"
	"  --dest URL          the destination (SLUICE_DEST_PASSWORD)\n"
	"  --include PATS      comma-separated db, db.table, with % * _ ? wildcards\n"
	"  --exclude PATS      the same, to leave out\n"
	"  --map SRC=DST       rename: db=db2 or db.t=db2.t2 (comma-separated)\n"
	"  --threads N         tables compared in parallel (default 4)\n"
	"  --no-table-checksum skip the CHECKSUM TABLE fast path (same server version\n"
	"                      on both sides): every range gets the 64-bit row hash\n"
	"  --chunk-rows N      rows per checksum range (default 10000)\n"
	"  --json FILE         write the JSON report\n"
	"  --fix-sql FILE      write correction SQL (REPLACE for missing/changed rows)\n"
	"  --fix-extra         also DELETE rows that exist only in the destination\n"
	"  --apply-fix         run the correction on the destination, then recheck\n"
	"  --progress          draw the progress line even when stderr is not a terminal\n"
	"  --recheck N         re-read differing rows up to N times; report what persists\n"
	"  --recheck-delay MS  wait before each recheck (default 1000)\n"
	"  --dir DIR           the stream directory replay follows: before each recheck,\n"
	"                      wait until replay's checkpoint passes the source position\n"
	"  --consumer NAME     the checkpoint row to wait for (default: any)\n"
	"\n"
	"Exit status: 0 equal, 1 differences remain, 2 an error.\n";

static int parse_u(const char *name, const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return cmd_usage_error("verify", usage, "bad %s '%s'", name, s);
	*v = strtoull(s, &end, 10);
	if (*end || *v > max)
		return cmd_usage_error("verify", usage, "bad %s '%s'", name, s);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "apply-fix", no_argument, NULL, 'A' },
		{ "chunk-rows", required_argument, NULL, 'c' },
		{ "consumer", required_argument, NULL, 'n' },
		{ "dest", required_argument, NULL, 'D' },
		{ "dir", required_argument, NULL, 'd' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "fix-extra", no_argument, NULL, 'E' },
		{ "fix-sql", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "include", required_argument, NULL, 'i' },
		{ "json", required_argument, NULL, 'j' },
		{ "map", required_argument, NULL, 'm' },
		{ "no-table-checksum", no_argument, NULL, 'N' },
		{ "progress", no_argument, NULL, 'P' },
		{ "recheck", required_argument, NULL, 'r' },
		{ "recheck-delay", required_argument, NULL, 'R' },
		{ "source", required_argument, NULL, 'S' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct ver_opts o = { 0 };
	struct ver_stats st;
	struct sl_err err = SL_ERR_INIT;
	uint64_t v = 0;
	int c, progress = 0;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--segments") || !strncmp(argv[i], "--segments=", 11))
			return cmd_verify_segments(argc, argv);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'A': o.apply_fix = 1; break;
		case 'c':
			if (parse_u("--chunk-rows", optarg, UINT64_MAX, &v) || !v)
				return 2;
			o.chunk_rows = v;
			break;
		case 'n': o.consumer = optarg; break;
		case 'D': o.dest_url = optarg; break;
		case 'd': o.dir = optarg; break;
		case 'x': o.exclude = optarg; break;
		case 'E': o.fix_extra = 1; break;
		case 'F': o.fix_sql_path = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'i': o.include = optarg; break;
		case 'j': o.json_path = optarg; break;
		case 'm': o.map = optarg; break;
		case 'N': o.no_table_checksum = 1; break;
		case 'P': progress = 1; break;
		case 'r':
			if (parse_u("--recheck", optarg, 1000, &v))
				return 2;
			o.recheck = (unsigned)v;
			break;
		case 'R':
			if (parse_u("--recheck-delay", optarg, 3600000, &v))
				return 2;
			o.recheck_delay_ms = v ? (unsigned)v : 1;
			break;
		case 'S': o.source_url = optarg; break;
		case 't':
			if (parse_u("--threads", optarg, 256, &v) || !v)
				return cmd_usage_error("verify", usage, "bad --threads '%s'", optarg);
			o.threads = (unsigned)v;
			break;
		default:
			return cmd_usage_error("verify", usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error("verify", usage, "unexpected argument '%s'", argv[optind]);
	if (!o.source_url || !o.dest_url)
		return cmd_usage_error("verify", usage, "--source and --dest are required");
	o.progress = progress || isatty(STDERR_FILENO);
	o.out = stdout;
	if (ver_run(&o, &st, &err))
		return cmd_fail("verify", &err);
	return st.differences ? 1 : 0;
}
