/* cmd_ship.c - `sluice ship`: publish a stream directory's sealed segments to NATS JetStream. */
#include "cmd.h"
#include "ship.h"

#include <inttypes.h>
#include <stdio.h>
#include "banned.h"

static const char about[] =
	"Publishes DIR's sealed segments, and DIR/snapshot's, into the JetStream stream\n"
	"NAME (file storage; created when missing, with --replicas, --max-age and\n"
	"--max-bytes), one message per chunk of a segment file, in order. How far it got\n"
	"is the consumer ship-NAME of DIR, so retention keeps what is not shipped yet;\n"
	"a new run resumes after the last chunk the stream holds, so nothing is\n"
	"published twice. Refuses a stream that holds another directory's segments and\n"
	"a segment removed from DIR before it was shipped. The NATS password of\n"
	"nats://USER@... comes from SLUICE_NATS_PASSWORD only. sluice receive rebuilds\n"
	"the segments at another site.\n";

int cmd_ship(int argc, char **argv)
{
	struct ship_opts o = { 0 };
	struct ship_stats st;
	struct sl_err err = SL_ERR_INIT;
	uint32_t poll_ms = 200;
	int rc;
	struct sl_opt opts[] = {
		{ "to", SL_OPT_STR, SL_OPT_TARGET(o.url), .arg = "URL", .flags = SL_OPT_REQUIRED,
		  .help = "nats://[USER@]HOST:PORT[,HOST:PORT...]/NAME: the JetStream\n"
			  "stream (NAME: 1 to 59 of A-Z a-z 0-9 _ -)" },
		{ "follow", SL_OPT_FLAG, SL_OPT_TARGET(o.follow),
		  .help = "keep publishing each newly sealed segment until\n"
			  "SIGTERM/SIGINT (default: ship what is sealed and exit)" },
		{ "poll", SL_OPT_MS, SL_OPT_TARGET(poll_ms), .def = "200", .min = 10, .max = 60000, .needs = "follow",
		  .help = "--follow wakes when capture seals a segment (inotify) and\n"
			  "looks this often anyway (ms)" },
		{ "replicas", SL_OPT_UINT, SL_OPT_TARGET(o.replicas), .min = 1, .max = 5,
		  .def_text = "3 with 3 servers or more in the URL, else 1",
		  .help = "replicas of a stream ship creates" },
		{ "max-age", SL_OPT_AGE, SL_OPT_TARGET(o.max_age_s), .arg = "AGE",
		  .help = "a stream ship creates drops messages older than this\n"
			  "(a receiver that falls further behind meets a gap)" },
		{ "max-bytes", SL_OPT_SIZE, SL_OPT_TARGET(o.max_bytes), .arg = "SIZE",
		  .help = "a stream ship creates drops its oldest messages beyond\n"
			  "this size" },
		{ "retry-for", SL_OPT_DURATION, SL_OPT_TARGET(o.retry_for_ms), .def = "10m", .arg = "DURATION",
		  .help = "retry a lost connection, a cluster without a leader or a\n"
			  "timeout this long, resuming after the stream's last chunk;\n"
			  "then exit 2 (0: do not retry)" },
	};
	struct sl_opt_cmd cmd = { .name = "ship", .args = "DIR", .about = about, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	rc = cmd_parse(&cmd, argc, argv);
	if (rc == CMD_GO_ON && cmd.args_given.n != 1)
		rc = cmd_usage_error("ship", "exactly one stream directory is needed");
	o.dir = rc == CMD_GO_ON ? cmd.args_given.v[0] : NULL;
	o.poll_ms = poll_ms;
	sl_opt_release(&cmd);
	if (rc != CMD_GO_ON)
		return rc;
	rc = ship_run(&o, &st, &err);
	ship_library_close();
	if (rc)
		return cmd_fail("ship", &err);
	for (int k = 0; k < 2; k++) {
		const struct ship_part_stats *p = &st.part[k];

		if (!p->segments && k)
			continue;
		if (!p->segments)
			printf("nothing to ship: '%s' holds no sealed segment the stream lacks\n", o.dir);
		else
			printf("shipped %ssegments %" PRIu64 "..%" PRIu64 " (%" PRIu64 " bytes in %" PRIu64
			       " messages) to %s\n", k ? "snapshot " : "", p->first_seq, p->last_seq, p->bytes,
			       p->messages, o.url);
	}
	return 0;
}
