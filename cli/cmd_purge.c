/* cmd_purge.c - `sluice purge`: remove old sealed segments every registered consumer has passed. */
#include "cmd.h"
#include "seg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static const char about[] =
	"Removes the oldest sealed segments that every registered consumer (DIR/consumers/,\n"
	"written by replay) has passed. The newest segment is never removed.\n";

int cmd_purge(int argc, char **argv)
{
	struct seg_purge_opts o = { 0 };
	struct seg_purge_result res;
	struct sl_err err = SL_ERR_INIT;
	const char *dir;
	int rc;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		{ "keep-bytes", SL_OPT_SIZE, SL_OPT_TARGET(o.keep_bytes),
		  .help = "keep at least this much of the newest segments (e.g. 10G)" },
		{ "keep-age", SL_OPT_AGE, SL_OPT_TARGET(o.keep_age_s),
		  .help = "keep segments whose last commit is younger (e.g. 90m, 12h, 7d)" },
		{ "force", SL_OPT_FLAG, SL_OPT_TARGET(o.force),
		  .help = "ignore the consumers (the policy still applies)" },
		{ "dry-run", SL_OPT_FLAG, SL_OPT_TARGET(o.dry_run),
		  .help = "print what would be removed" },
	};
	struct sl_opt_cmd cmd = { .name = "purge", .args = "DIR", .about = about, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	rc = cmd_parse(&cmd, argc, argv);
	if (rc == CMD_GO_ON && cmd.args_given.n != 1)
		rc = cmd_usage_error("purge", "exactly one stream directory is needed");
	dir = rc == CMD_GO_ON ? cmd.args_given.v[0] : NULL;
	sl_opt_release(&cmd);
	if (rc != CMD_GO_ON)
		return rc;
	if (seg_purge(dir, &o, &res, &err))
		return cmd_fail("purge", &err);
	printf("%s %" PRIu64 " segments (%" PRIu64 " bytes); kept %" PRIu64 " (%" PRIu64
	       " bytes) from segment %" PRIu64 ": %s\n", o.dry_run ? "would remove" : "removed",
	       res.removed, res.removed_bytes, res.kept, res.kept_bytes, res.first_kept_seq, res.why);
	return 0;
}
