/* cmd_receive.c - `sluice receive`: rebuild shipped segments in a stream directory. */
#include "cmd.h"
#include "ship.h"

#include <inttypes.h>
#include <stdio.h>
#include "banned.h"

static const char about[] =
	"URL is nats://[USER@]HOST:PORT[,HOST:PORT...]/NAME, a JetStream stream sluice\n"
	"ship writes. Reads it through a durable reader kept for DIR (DIR/receiver), and\n"
	"rebuilds the segment files byte for byte: each is added to DIR only when it is\n"
	"whole, its SHA-256 matches the sender's and it passes every check unpack makes\n"
	"(frame CRCs, footer, the chain to DIR's newest segment). DIR/snapshot is\n"
	"rebuilt too. Refuses a stream that holds another stream than DIR, and a gap\n"
	"(messages removed by the stream's limits before they were received). After a\n"
	"crash it resumes with no gap and no duplicate. Then sluice replay --dir DIR.\n";

int cmd_receive(int argc, char **argv)
{
	struct receive_opts o = { 0 };
	struct receive_stats st;
	struct sl_err err = SL_ERR_INIT;
	int rc;
	struct sl_opt opts[] = {
		{ "into", SL_OPT_STR, SL_OPT_TARGET(o.into), .arg = "DIR", .flags = SL_OPT_REQUIRED,
		  .help = "the stream directory to extend (created when missing)" },
		{ "follow", SL_OPT_FLAG, SL_OPT_TARGET(o.follow),
		  .help = "keep receiving until SIGTERM/SIGINT (default: what the\n"
			  "stream holds at the start, then exit)" },
		{ "reader", SL_OPT_STR, SL_OPT_TARGET(o.reader), .arg = "NAME",
		  .help = "the durable reader's name (default: one made for DIR at\n"
			  "its first receive and kept in DIR/receiver)" },
		{ "retry-for", SL_OPT_DURATION, SL_OPT_TARGET(o.retry_for_ms), .def = "10m", .arg = "DURATION",
		  .help = "retry a lost connection, a cluster without a leader or a\n"
			  "timeout this long; then exit 2 (0: do not retry)" },
	};
	struct sl_opt_cmd cmd = { .name = "receive", .args = "URL", .about = about, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	rc = cmd_parse(&cmd, argc, argv);
	if (rc == CMD_GO_ON && cmd.args_given.n != 1)
		rc = cmd_usage_error("receive", "exactly one nats://HOST:PORT/NAME url is needed");
	o.url = rc == CMD_GO_ON ? cmd.args_given.v[0] : NULL;
	sl_opt_release(&cmd);
	if (rc != CMD_GO_ON)
		return rc;
	rc = receive_run(&o, &st, &err);
	ship_library_close();
	if (rc)
		return cmd_fail("receive", &err);
	for (int k = 0; k < 2; k++) {
		const struct receive_part_stats *p = &st.part[k];

		if (k && !p->messages)
			continue;
		if (!p->added)
			printf("received %" PRIu64 " messages: nothing new for '%s%s'\n", p->messages, o.into,
			       k ? "/snapshot" : "");
		else
			printf("received segments %" PRIu64 "..%" PRIu64 " into '%s%s' (%" PRIu64 " added, %" PRIu64
			       " bytes, %" PRIu64 " messages)\n", p->first_seq, p->last_seq, o.into,
			       k ? "/snapshot" : "", p->added, p->bytes, p->messages);
	}
	return 0;
}
