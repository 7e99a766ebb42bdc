/* cmd_switchover.c - `sluice switchover`: ask the running migrate task to switch the application's writes to the destination, with reverse sync. */
#include "cmd.h"
#include "mig.h"

#include <stdio.h>
#include "banned.h"

/* modes: the option table's mode bits (common/sl_opt.h) */
#define SWITCH 0x1u	/* walk the steps */
#define STATUS 0x2u	/* --status: print the journal */
#define ROLLBACK 0x4u	/* --rollback: undo one under way */

static const char *const modes[] = { "to switch over", "with --status", "with --rollback", NULL };

static const char about[] =
	"Switches the application's writes from the source to the destination while\n"
	"the migrate task (`sluice migrate ... --dir DIR --follow`) runs: the task walks\n"
	"the steps and journals each in DIR/switchover.journal, this command asks for it\n"
	"and prints the steps as they end. Steps: confirm, precheck (replay lag, replay\n"
	"errors, last verify, the destination's binlog, the source account's grants),\n"
	"capture of the destination into RDIR, freeze of the source (--freeze-source:\n"
	"read_only=1; else its binlog must stand still for --quiet-seconds), forward\n"
	"replay reaching the source's final position (else, after --timeout, the freeze\n"
	"is undone and forward sync goes on), forward sync stopped, objects (deferred\n"
	"foreign keys and triggers created on the destination, AUTO_INCREMENT raised,\n"
	"the source's triggers saved in RDIR and dropped), reverse replay of RDIR into\n"
	"the source. Exit 0 when reverse sync runs, 2 when the switchover failed or was\n"
	"rolled back (the reason on stderr). Killed, run it again: it follows the\n"
	"switchover under way.\n";

int cmd_switchover(int argc, char **argv)
{
	struct mig_switch_opts o = { 0 };
	struct sl_err err = SL_ERR_INIT;
	int rc, status = 0, json = 0;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		{ "dir", SL_OPT_STR, SL_OPT_TARGET(o.dir), .arg = "DIR", .modes = SWITCH | STATUS | ROLLBACK,
		  .flags = SL_OPT_REQUIRED, .help = "the stream directory of the running migrate task" },
		CMD_OPT_SOURCE(o.source_url, SWITCH),
		{ "dest", SL_OPT_STR, SL_OPT_TARGET(o.dest_url), .arg = "URL", .modes = SWITCH,
		  .flags = SL_OPT_REQUIRED | SL_OPT_URL,
		  .help = "the destination: both must be the task's" },
		{ "reverse-dir", SL_OPT_STR, SL_OPT_TARGET(o.reverse_dir), .arg = "RDIR", .modes = SWITCH,
		  .flags = SL_OPT_REQUIRED, .help = "the reverse stream: the destination's changes" },
		{ "yes", SL_OPT_FLAG, SL_OPT_TARGET(o.yes), .modes = SWITCH,
		  .help = "confirmed: do not ask" },
		{ "freeze-source", SL_OPT_FLAG, SL_OPT_TARGET(o.freeze), .modes = SWITCH,
		  .help = "SET GLOBAL read_only=1 on the source (undone on a rollback)" },
		{ "quiet-seconds", SL_OPT_UINT, SL_OPT_TARGET(o.quiet_s), .min = 1, .max = 3600, .def = "3",
		  .modes = SWITCH, .conflicts = "freeze-source",
		  .help = "without --freeze-source: the source's binlog must stand still this long" },
		{ "max-lag", SL_OPT_UINT, SL_OPT_TARGET(o.max_lag_s), .max = 86400, .def = "5", .modes = SWITCH,
		  .help = "seconds forward replay may be behind when the switchover starts" },
		{ "timeout", SL_OPT_UINT, SL_OPT_TARGET(o.timeout_s), .min = 1, .max = 86400, .def = "30",
		  .modes = SWITCH, .help = "seconds forward replay has to reach the source's final\n"
					   "position once frozen; then the switchover rolls back" },
		{ "skip-verify", SL_OPT_FLAG, SL_OPT_TARGET(o.skip_verify), .modes = SWITCH,
		  .help = "go on though the task's last verify was not clean" },
		{ "status", SL_OPT_FLAG, SL_OPT_TARGET(status), .modes = STATUS,
		  .flags = SL_OPT_REQUIRED | SL_OPT_MODE, .help = "print every step with its times and outcome" },
		{ "json", SL_OPT_FLAG, SL_OPT_TARGET(json), .modes = STATUS, .help = "as one JSON object" },
		{ "rollback", SL_OPT_FLAG, SL_OPT_TARGET(o.rollback), .modes = ROLLBACK,
		  .flags = SL_OPT_REQUIRED | SL_OPT_MODE,
		  .help = "undo the switchover under way (before forward sync is stopped)" },
	};
	struct sl_opt_cmd cmd = { .name = "switchover", .about = about, .modes = modes, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	if ((rc = cmd_parse(&cmd, argc, argv)) != CMD_GO_ON)
		goto out;
	if (cmd.args_given.n) {
		rc = cmd_unexpected(&cmd);
		goto out;
	}
	if (cmd.mode == STATUS)
		rc = mig_switch_status(o.dir, json, stdout, &err);
	else
		rc = mig_switchover(&o, &err);
	rc = rc ? cmd_fail("switchover", &err) : 0;
out:
	sl_opt_release(&cmd);
	return rc;
}
