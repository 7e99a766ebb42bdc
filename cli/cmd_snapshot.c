/* cmd_snapshot.c - `sluice snapshot`: options, then snap_run(). */
#include "cmd.h"
#include "snap.h"

#include <stdio.h>
#include "banned.h"

static const char about[] =
	"Reads every selected table of the source at one consistent binlog position into\n"
	"DIR/snapshot: definitions first, then rows in key-ordered chunks on --threads\n"
	"connections. An interrupted snapshot resumes at its first unfinished chunk; a\n"
	"finished one makes a rerun a no-op. Exit status 0 when the snapshot is complete.\n";

int cmd_snapshot(int argc, char **argv)
{
	struct snap_opts o = { 0 };
	struct snap_stats st;
	struct sl_err err = SL_ERR_INIT;
	int rc;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		CMD_OPT_SOURCE(o.source_url, 0),
		{ "dir", SL_OPT_STR, SL_OPT_TARGET(o.dir), .arg = "DIR", .flags = SL_OPT_REQUIRED,
		  .help = "the stream directory; the snapshot goes into DIR/snapshot" },
		{ "threads", SL_OPT_UINT, SL_OPT_TARGET(o.threads), .min = 1, .max = 64, .def = "2",
		  .help = "reader connections (one consistent view)" },
		CMD_OPT_INCLUDE(o.include, 0),
		CMD_OPT_EXCLUDE(o.exclude, 0),
		{ "max-threads-running", SL_OPT_UINT, SL_OPT_TARGET(o.max_threads_running), .min = 1,
		  .def_text = "no limit",
		  .help = "pause the readers while the source's Threads_running is\n"
			  "above N (the readers' own queries count too)" },
		{ "dest-dialect", SL_OPT_STR, SL_OPT_TARGET(o.dest_dialect), .arg = "D",
		  .check = cmd_dialect_check, .help = "convert definitions for mariadb, mysql or oceanbase\n"
			  "(default: as the source gives them)" },
		{ "chunk-ms", SL_OPT_MS, SL_OPT_TARGET(o.chunk_ms), .min = 1, .max = 600000, .def = "500",
		  .help = "target reading time of one chunk" },
		{ "segment-size", SL_OPT_SIZE, SL_OPT_TARGET(o.segment_size), .min = 4096, .def = "64M",
		  .help = "seal segments at this size" },
	};
	struct sl_opt_cmd cmd = { .name = "snapshot", .about = about, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	if ((rc = cmd_parse(&cmd, argc, argv)) != CMD_GO_ON)
		goto out;
	if (cmd.args_given.n) {
		rc = cmd_unexpected(&cmd);
		goto out;
	}
	rc = snap_run(&o, &st, &err) ? cmd_fail("snapshot", &err) : 0;
out:
	sl_opt_release(&cmd);
	return rc;
}
