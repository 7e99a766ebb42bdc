/* cmd_pack.c - `sluice pack`: copy sealed segments and a manifest into a bundle for air-gapped transfer. */
#include "cmd.h"
#include "seg.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "banned.h"

static const char usage[] =
	"usage: sluice pack DIR --out BUNDLE_DIR [--from-seq N] [--key FILE]\n"
	"\n"
	"  DIR             the stream directory\n"
	"  --out DIR       the bundle directory to create (must not exist, or be empty)\n"
	"  --from-seq N    first segment to pack (default: the lowest); every sealed\n"
	"                  segment from there on is packed\n"
	"  --key FILE      authenticate the manifest with HMAC-SHA256 under this key\n"
	"                  (16 to 4096 bytes, mode 0600)\n"
	"The bundle holds the segments unchanged and MANIFEST: the stream identity, the\n"
	"sequence range, each file's size and SHA-256 and the predecessor's footer hash.\n";

int cmd_pack(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from-seq", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "key", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct seg_pack_opts o = { 0 };
	struct seg_transfer_result res;
	struct sl_err err = SL_ERR_INIT;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'f':
			o.from_seq = strtoull(optarg, &end, 10);
			if (*end || !o.from_seq)
				return cmd_usage_error("pack", usage, "bad --from-seq '%s'", optarg);
			break;
		case 'h': fputs(usage, stdout); return 0;
		case 'k': o.key_file = optarg; break;
		case 'o': o.out = optarg; break;
		default:
			return cmd_usage_error("pack", usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("pack", usage, "exactly one stream directory is needed");
	o.dir = argv[optind];
	if (!o.out)
		return cmd_usage_error("pack", usage, "--out is required");
	if (seg_pack(&o, &res, &err))
		return cmd_fail("pack", &err);
	printf("packed segments %" PRIu64 "..%" PRIu64 " (%" PRIu64 " files, %" PRIu64 " bytes) into '%s'%s\n",
	       res.first_seq, res.last_seq, res.files, res.bytes, o.out, o.key_file ? " with hmac" : "");
	return 0;
}
