/* cmd_migrate.c - `sluice migrate`: the whole migration as one command, or with --follow the long-running task. */
#include "cmd.h"
#include "mig.h"
#include "sl_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "banned.h"

/* --metrics-dir MDIR: the children's files must be writable there. */
static int metrics_dir_check(const char *mdir, struct sl_err *err)
{
	char *f = sl_xasprintf("%s/replay.prom", mdir);
	int rc = sl_metrics_path_check(f, err);

	free(f);
	return rc;
}

static const char about[] =
	"Moves a live database: precheck (a failed check stops it), then capture from\n"
	"the binlog's end now (P0), a consistent snapshot into DIR/snapshot (P1 >= P0),\n"
	"replay loading the snapshot while it is written and then the changes since P0,\n"
	"and once replay has caught up, verify of every migrated table. Each runs as a\n"
	"child process (their lines on stderr are prefixed with [capture], [snapshot],\n"
	"[replay], [verify]); passwords reach them only through their environment.\n"
	"On a terminal it draws progress bars, else it logs a progress line every 10 s.\n"
	"It ends with a summary: exit 0 when verify finds both sides equal, 1 when it\n"
	"finds differences, 2 on an error. With --follow it then keeps capture and\n"
	"replay running (restarting one that dies) until SIGTERM or SIGINT, and exits 0.\n"
	"Run the same command again after a crash or a signal: it continues where it\n"
	"stopped (DIR/migrate.state; a second migrate on one DIR is refused).\n";

int cmd_migrate(int argc, char **argv)
{
	struct mig_opts o = { 0 };
	struct mig_summary s;
	struct sl_err err = SL_ERR_INIT;
	int rc, progress = 0, no_progress = 0;
	struct sl_opt opts[] = {
		CMD_OPT_SOURCE(o.source_url, 0),
		{ "dest", SL_OPT_STR, SL_OPT_TARGET(o.dest_url), .arg = "URL",
		  .flags = SL_OPT_REQUIRED | SL_OPT_URL,
		  .help = "the destination (password from SLUICE_DEST_PASSWORD)" },
		{ "dir", SL_OPT_STR, SL_OPT_TARGET(o.dir), .arg = "DIR", .flags = SL_OPT_REQUIRED,
		  .help = "the stream directory: changes in DIR, the snapshot in DIR/snapshot" },
		{ "threads", SL_OPT_UINT, SL_OPT_TARGET(o.threads), .min = 1, .max = 64,
		  .def_text = "each command's own",
		  .help = "snapshot readers, replay's workers and verify's threads" },
		CMD_OPT_INCLUDE(o.include, 0),
		CMD_OPT_EXCLUDE(o.exclude, 0),
		CMD_OPT_DEST_DIALECT(o.dest_dialect),
		{ "follow", SL_OPT_FLAG, SL_OPT_TARGET(o.follow),
		  .help = "after verify keep capture and replay running until SIGTERM/SIGINT" },
		{ "bidirectional", SL_OPT_FLAG, SL_OPT_TARGET(o.bidirectional), .needs = "follow",
		  .help = "once following, replay the destination's own changes into the\n"
			  "source as well (a fall-back window; both sides may be written)" },
		{ "reverse-dir", SL_OPT_STR, SL_OPT_TARGET(o.reverse_dir), .arg = "RDIR",
		  .needs = "bidirectional", .help = "the reverse stream of --bidirectional" },
		{ "metrics-dir", SL_OPT_STR, SL_OPT_TARGET(o.metrics_dir), .arg = "MDIR",
		  .check = metrics_dir_check,
		  .help = "the capture and replay children write --metrics files\n"
			  "MDIR/capture.prom and MDIR/replay.prom (reverse sync:\n"
			  "reverse-capture.prom, reverse-replay.prom; README \"Metrics\")" },
		{ "retry-for", SL_OPT_DURATION, SL_OPT_TARGET(o.retry_for_ms), .def = "10m",
		  .arg = "DURATION",
		  .help = "capture and replay wait out a lost connection, a server\n"
			  "restart, read_only or a deadlock this long, then the task\n"
			  "stops with the error, exit 2 (0: do not retry)" },
		{ "progress", SL_OPT_FLAG, SL_OPT_TARGET(progress), .group = 1,
		  .help = "draw progress bars even when stderr is not a terminal" },
		{ "no-progress", SL_OPT_FLAG, SL_OPT_TARGET(no_progress), .group = 1,
		  .help = "plain log lines even on a terminal" },
	};
	struct sl_opt_cmd cmd = { .name = "migrate", .about = about, .opts = opts, .n = SL_OPT_COUNT(opts) };

	if ((rc = cmd_parse(&cmd, argc, argv)) != CMD_GO_ON)
		goto out;
	if (cmd.args_given.n) {
		rc = cmd_unexpected(&cmd);
		goto out;
	}
	if (o.bidirectional && !o.reverse_dir) {
		rc = cmd_usage_error("migrate", "--bidirectional needs --reverse-dir RDIR");
		goto out;
	}
	o.progress = progress || (!no_progress && isatty(2));
	rc = mig_run(&o, &s, &err);
	if (rc) {
		rc = cmd_fail("migrate", &err);
		goto out;
	}
	mig_summary_print(&s, stdout);
	rc = s.verify == 1 ? 1 : 0;
out:
	sl_opt_release(&cmd);
	return rc;
}
