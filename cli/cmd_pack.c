/* cmd_pack.c - `sluice pack`: copy sealed segments and a manifest into a bundle for air-gapped transfer. */
#include "cmd.h"
#include "seg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "banned.h"

static const char about[] =
	"DIR is the stream directory. The bundle holds the segments unchanged and\n"
	"MANIFEST: the stream identity, the sequence range, each file's size and\n"
	"SHA-256 and the predecessor's footer hash. The snapshot stream DIR/snapshot\n"
	"(schema and existing rows) travels too, as the bundle's snapshot/ with a\n"
	"manifest of its own that MANIFEST names; only its sealed segments (a\n"
	"finished snapshot is all sealed).\n";

int cmd_pack(int argc, char **argv)
{
	struct seg_pack_opts o = { 0 };
	struct seg_transfer_result res;
	struct sl_err err = SL_ERR_INIT;
	int rc;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		{ "out", SL_OPT_STR, SL_OPT_TARGET(o.out), .arg = "BUNDLE_DIR", .flags = SL_OPT_REQUIRED,
		  .help = "the bundle directory to create (must not exist, or be empty)" },
		{ "from-seq", SL_OPT_UINT, SL_OPT_TARGET(o.from_seq), .min = 1, .def_text = "the lowest",
		  .help = "first segment to pack; every sealed segment from there on\n"
			  "is packed" },
		{ "no-snapshot", SL_OPT_FLAG, SL_OPT_TARGET(o.no_snapshot),
		  .help = "leave DIR/snapshot out (a later bundle of the changes only)" },
		{ "snapshot-from-seq", SL_OPT_UINT, SL_OPT_TARGET(o.snapshot_from_seq), .min = 1,
		  .def_text = "the lowest",
		  .help = "first segment of DIR/snapshot to pack" },
		{ "key", SL_OPT_STR, SL_OPT_TARGET(o.key_file), .arg = "FILE",
		  .help = "authenticate the manifest with HMAC-SHA256 under this key\n"
			  "(16 to 4096 bytes, mode 0600)" },
	};
	struct sl_opt_cmd cmd = { .name = "pack", .args = "DIR", .about = about, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	rc = cmd_parse(&cmd, argc, argv);
	if (rc == CMD_GO_ON && cmd.args_given.n != 1)
		rc = cmd_usage_error("pack", "exactly one stream directory is needed");
	o.dir = rc == CMD_GO_ON ? cmd.args_given.v[0] : NULL;
	sl_opt_release(&cmd);
	if (rc == CMD_GO_ON && o.no_snapshot && o.snapshot_from_seq)
		rc = cmd_usage_error("pack", "--snapshot-from-seq has no effect with --no-snapshot");
	if (rc != CMD_GO_ON)
		return rc;
	if (seg_pack(&o, &res, &err))
		return cmd_fail("pack", &err);
	printf("packed segments %" PRIu64 "..%" PRIu64 " (%" PRIu64 " files, %" PRIu64 " bytes) into '%s'%s\n",
	       res.first_seq, res.last_seq, res.files, res.bytes, o.out, o.key_file ? " with hmac" : "");
	if (res.snapshot.present)
		printf("packed snapshot segments %" PRIu64 "..%" PRIu64 " (%" PRIu64 " files, %" PRIu64
		       " bytes) into '%s/snapshot'\n", res.snapshot.first_seq, res.snapshot.last_seq,
		       res.snapshot.files, res.snapshot.bytes, o.out);
	return 0;
}
