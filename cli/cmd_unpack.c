/* cmd_unpack.c - `sluice unpack`: check a bundle whole, then add its new segments to a stream directory. */
#include "cmd.h"
#include "seg.h"

#include <inttypes.h>
#include <stdio.h>
#include "banned.h"

static const char about[] =
	"BUNDLE_DIR is a bundle written by sluice pack. Checks the manifest (and its\n"
	"hmac), every file's size and SHA-256, every segment whole and the chain to DIR's\n"
	"newest segment before adding a single file. Refuses tampering, truncation, a\n"
	"foreign stream, a gap, a bundle older than DIR and files the manifest does not\n"
	"name. Running it twice changes nothing. A bundle with a snapshot/ part (the\n"
	"snapshot stream, FORMAT.md \"Bundle\") rebuilds DIR/snapshot too: both parts\n"
	"and both directories are checked before either gets a file.\n";

int cmd_unpack(int argc, char **argv)
{
	struct seg_unpack_opts o = { 0 };
	struct seg_transfer_result res;
	struct sl_err err = SL_ERR_INIT;
	int rc;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		{ "into", SL_OPT_STR, SL_OPT_TARGET(o.into), .arg = "DIR", .flags = SL_OPT_REQUIRED,
		  .help = "the stream directory to extend (created when missing)" },
		{ "key", SL_OPT_STR, SL_OPT_TARGET(o.key_file), .arg = "FILE",
		  .help = "the key the bundle was packed with (required for a bundle\n"
			  "with an hmac)" },
	};
	struct sl_opt_cmd cmd = { .name = "unpack", .args = "BUNDLE_DIR", .about = about, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	rc = cmd_parse(&cmd, argc, argv);
	if (rc == CMD_GO_ON && cmd.args_given.n != 1)
		rc = cmd_usage_error("unpack", "exactly one bundle directory is needed");
	o.bundle = rc == CMD_GO_ON ? cmd.args_given.v[0] : NULL;
	sl_opt_release(&cmd);
	if (rc != CMD_GO_ON)
		return rc;
	if (seg_unpack(&o, &res, &err))
		return cmd_fail("unpack", &err);
	printf("bundle segments %" PRIu64 "..%" PRIu64 " checked; %" PRIu64 " added to '%s'%s\n",
	       res.first_seq, res.last_seq, res.added, o.into, res.added ? "" : " (already there)");
	if (res.snapshot.present)
		printf("snapshot segments %" PRIu64 "..%" PRIu64 " checked; %" PRIu64 " added to '%s/snapshot'%s\n",
		       res.snapshot.first_seq, res.snapshot.last_seq, res.snapshot.added, o.into,
		       res.snapshot.added ? "" : " (already there)");
	return 0;
}
