/* cmd_unpack.c - `sluice unpack`: check a bundle whole, then add its new segments to a stream directory. */
#include "cmd.h"
#include "seg.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include "banned.h"

static const char usage[] =
	"usage: sluice unpack BUNDLE_DIR --into DIR [--key FILE]\n"
	"\n"
	"  BUNDLE_DIR   a bundle written by sluice pack\n"
	"  --into DIR   the stream directory to extend (created when missing)\n"
	"  --key FILE   the key the bundle was packed with (required for a bundle with an hmac)\n"
	"Checks the manifest (and its hmac), every file's size and SHA-256, every segment\n"
	"whole and the chain to DIR's newest segment before adding a single file.\n"
	"Refuses tampering, truncation, a foreign stream, a gap, a bundle older than DIR\n"
	"and files the manifest does not name. Running it twice changes nothing.\n";

int cmd_unpack(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "into", required_argument, NULL, 'i' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct seg_unpack_opts o = { 0 };
	struct seg_transfer_result res;
	struct sl_err err = SL_ERR_INIT;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(usage, stdout); return 0;
		case 'i': o.into = optarg; break;
		case 'k': o.key_file = optarg; break;
		default:
			return cmd_usage_error("unpack", usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error("unpack", usage, "exactly one bundle directory is needed");
	o.bundle = argv[optind];
	if (!o.into)
		return cmd_usage_error("unpack", usage, "--into is required");
	if (seg_unpack(&o, &res, &err))
		return cmd_fail("unpack", &err);
	printf("bundle segments %" PRIu64 "..%" PRIu64 " checked; %" PRIu64 " added to '%s'%s\n",
	       res.first_seq, res.last_seq, res.added, o.into, res.added ? "" : " (already there)");
	return 0;
}
