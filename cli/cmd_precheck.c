/* cmd_precheck.c - `sluice precheck`: what a migration needs, checked on both servers and DIR's disk. */
#include "cmd.h"
#include "mig.h"

#include <stdio.h>
#include "banned.h"

static const char about[] =
	"Checks what `sluice migrate` needs before it starts (migrate runs the same\n"
	"checks first): on the source the binary log (on, ROW, FULL row image, FULL\n"
	"metadata, server_id, retention), the account's privileges, tables without a\n"
	"primary or unique key, and every definition through the destination dialect's\n"
	"rules; on the destination the account's privileges, local_infile, triggers and\n"
	"tables in the way; the free space for DIR. Each check prints pass, warn or FAIL\n"
	"and the fix. Exit status 2 when any check fails, 0 otherwise.\n";

int cmd_precheck(int argc, char **argv)
{
	struct mig_precheck_opts o = { 0 };
	struct mig_report r = { 0 };
	struct sl_err err = SL_ERR_INIT;
	int rc;
	struct sl_opt opts[] = {
		CMD_OPT_SOURCE(o.source_url, 0),
		{ "dest", SL_OPT_STR, SL_OPT_TARGET(o.dest_url), .arg = "URL", .flags = SL_OPT_URL,
		  .help = "the destination (SLUICE_DEST_PASSWORD); without it only the\n"
			  "source (and with --dest-dialect its definitions) is checked" },
		{ "dir", SL_OPT_STR, SL_OPT_TARGET(o.dir), .arg = "DIR",
		  .help = "the stream directory: is there room for the snapshot?" },
		CMD_OPT_INCLUDE(o.include, 0),
		CMD_OPT_EXCLUDE(o.exclude, 0),
		CMD_OPT_DEST_DIALECT(o.dest_dialect),
	};
	struct sl_opt_cmd cmd = { .name = "precheck", .about = about, .opts = opts, .n = SL_OPT_COUNT(opts) };

	if ((rc = cmd_parse(&cmd, argc, argv)) != CMD_GO_ON)
		goto out;
	if (cmd.args_given.n) {
		rc = cmd_unexpected(&cmd);
		goto out;
	}
	if (mig_precheck(&o, &r, &err)) {
		rc = cmd_fail("precheck", &err);
		goto out;
	}
	mig_report_print(&r, stdout);
	if (mig_report_count(&r, MIG_FAIL)) {
		fflush(stdout);
		fprintf(stderr, "sluice precheck: %zu check%s failed (see the fixes above)\n",
			mig_report_count(&r, MIG_FAIL), mig_report_count(&r, MIG_FAIL) == 1 ? "" : "s");
		rc = 2;
	} else {
		rc = 0;
	}
out:
	mig_report_release(&r);
	sl_opt_release(&cmd);
	return rc;
}
