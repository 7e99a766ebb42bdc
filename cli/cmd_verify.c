/* cmd_verify.c - `sluice verify`: options, then ver_run(), or cmd_verify_segments() with --segments. */
#include "cmd.h"
#include "ver.h"

#include <stdio.h>
#include <unistd.h>
#include "banned.h"

/* modes: the option table's mode bits (common/sl_opt.h) */
#define COMPARE 0x1u	/* --source and --dest: compare the databases */
#define SEGMENTS 0x2u	/* --segments DIR: check a stream directory */

static const char *const modes[] = { "without --segments", "with --segments", NULL };

static const char about[] =
	"Compares every selected table of the source and the destination by ranges of\n"
	"checksums, then row by row where they differ; exit status 0 equal, 1\n"
	"differences remain, 2 an error.\n"
	"With --segments, checks the integrity of a stream directory instead and prints a\n"
	"summary and one line per problem (file and offset); exit status 0 clean, 1 a\n"
	"problem was found, 2 an error (DIR unreadable, usage).\n";

int cmd_verify(int argc, char **argv)
{
	struct ver_opts o = { 0 };
	struct ver_stats st;
	struct sl_err err = SL_ERR_INIT;
	const char *segments = NULL;
	int progress = 0, deep = 0, rc;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		CMD_OPT_SOURCE(o.source_url, COMPARE),
		{ "dest", SL_OPT_STR, SL_OPT_TARGET(o.dest_url), .arg = "URL", .modes = COMPARE,
		  .flags = SL_OPT_REQUIRED | SL_OPT_URL,
		  .help = "the destination (SLUICE_DEST_PASSWORD)" },
		CMD_OPT_INCLUDE(o.include, COMPARE),
		CMD_OPT_EXCLUDE(o.exclude, COMPARE),
		{ "map", SL_OPT_STR, SL_OPT_TARGET(o.map), .arg = "SRC=DST", .modes = COMPARE, .check = sl_map_check,
		  .help = "rename: db=db2 or db.t=db2.t2 (comma-separated)" },
		{ "threads", SL_OPT_UINT, SL_OPT_TARGET(o.threads), .min = 1, .max = 256, .def = "4",
		  .modes = COMPARE, .help = "tables compared in parallel" },
		{ "no-table-checksum", SL_OPT_FLAG, SL_OPT_TARGET(o.no_table_checksum), .modes = COMPARE,
		  .help = "skip the CHECKSUM TABLE fast path (same server version\n"
			  "on both sides): every range gets the 64-bit row hash" },
		{ "chunk-rows", SL_OPT_UINT, SL_OPT_TARGET(o.chunk_rows), .min = 1, .def = "10000",
		  .modes = COMPARE, .help = "rows per checksum range" },
		{ "json", SL_OPT_STR, SL_OPT_TARGET(o.json_path), .arg = "FILE", .modes = COMPARE,
		  .help = "write the JSON report" },
		{ "fix-sql", SL_OPT_STR, SL_OPT_TARGET(o.fix_sql_path), .arg = "FILE", .modes = COMPARE,
		  .help = "write correction SQL (REPLACE for missing/changed rows)" },
		{ "fix-extra", SL_OPT_FLAG, SL_OPT_TARGET(o.fix_extra), .modes = COMPARE,
		  .needs = "fix-sql|apply-fix",
		  .help = "also DELETE rows that exist only in the destination" },
		{ "apply-fix", SL_OPT_FLAG, SL_OPT_TARGET(o.apply_fix), .modes = COMPARE,
		  .help = "run the correction on the destination, then recheck" },
		{ "progress", SL_OPT_FLAG, SL_OPT_TARGET(progress), .modes = COMPARE,
		  .help = "draw the progress line even when stderr is not a terminal" },
		{ "recheck", SL_OPT_UINT, SL_OPT_TARGET(o.recheck), .max = 1000, .def = "0",
		  .modes = COMPARE, .help = "re-read differing rows up to N times; report what persists" },
		{ "recheck-delay", SL_OPT_MS, SL_OPT_TARGET(o.recheck_delay_ms), .min = 1, .max = 3600000,
		  .def = "1000", .modes = COMPARE, .needs = "recheck", .conflicts = "dir",
		  .help = "wait this many ms before each recheck" },
		{ "dir", SL_OPT_STR, SL_OPT_TARGET(o.dir), .arg = "DIR", .modes = COMPARE, .needs = "recheck",
		  .help = "the stream directory replay follows: before each recheck,\n"
			  "wait until replay's checkpoint passes the source position" },
		{ "consumer", SL_OPT_STR, SL_OPT_TARGET(o.consumer), .arg = "NAME", .modes = COMPARE,
		  .needs = "dir", .check = sl_consumer_name_check, .def_text = "any",
		  .help = "the checkpoint row to wait for" },
		{ "segments", SL_OPT_STR, SL_OPT_TARGET(segments), .arg = "DIR", .modes = SEGMENTS,
		  .flags = SL_OPT_REQUIRED | SL_OPT_MODE,
		  .help = "check every segment of DIR: each frame's CRC32C and zstd frame\n"
			  "header, each footer (body hash, counts, trailer), the chain of\n"
			  "segments (sequence, predecessor's footer hash, positions)" },
		{ "deep", SL_OPT_FLAG, SL_OPT_TARGET(deep), .modes = SEGMENTS,
		  .help = "also decompress every frame and decode its records, and check\n"
			  "the footers' transaction and row counts against them" },
	};
	struct sl_opt_cmd cmd = { .name = "verify", .about = about, .modes = modes, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	if ((rc = cmd_parse(&cmd, argc, argv)) != CMD_GO_ON)
		goto out;
	if (cmd.args_given.n) {
		rc = cmd_unexpected(&cmd);
		goto out;
	}
	if (cmd.mode == SEGMENTS) {
		rc = cmd_verify_segments(segments, deep);
		goto out;
	}
	o.progress = progress || isatty(STDERR_FILENO);
	o.out = stdout;
	if (ver_run(&o, &st, &err))
		rc = cmd_fail("verify", &err);
	else
		rc = st.differences ? 1 : 0;
out:
	sl_opt_release(&cmd);
	return rc;
}
