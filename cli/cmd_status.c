/* cmd_status.c - `sluice status`: a stream directory's identity, head, size and consumers' lag. */
#include "cmd.h"
#include "mig.h"
#include "rep.h"
#include "seg.h"
#include "ship.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banned.h"

static const char about[] =
	"Prints the stream identity, the head position (after the last complete\n"
	"transaction), the segments' count and bytes, and for each registered consumer\n"
	"(DIR/consumers/) its checkpoint, its lag in transactions, bytes and seconds (the\n"
	"head's newest source time minus that of its last applied transaction; 0 when\n"
	"nothing is left to apply) and how long ago it wrote its file (a running replay\n"
	"does about once a second). Rates: replay --metrics FILE.\n"
	"\"accounts\" counts the account statements (CREATE USER, GRANT, SET PASSWORD ...)\n"
	"capture left out of the stream: they may carry passwords and are never written.\n"
	"\"replayed\" counts the transactions and DDL statements sluice replay wrote on the\n"
	"captured server, which capture left out (loop prevention; capture --keep-replayed).\n"
	"When DIR/snapshot holds a snapshot stream, \"snapshot\" shows its progress:\n"
	"finished (SnapshotEnd written) or in progress, runs, chunks, rows, tables done,\n"
	"schema objects, and its segments (a finished snapshot is all sealed).\n"
	"\"skipped\": the transactions replay --skip left out are recorded on the\n"
	"destination, in `sluice`.`skipped`: with --dest, status lists them.\n"
	"\"capture\" and \"replay NAME\": what the last capture and each consumer's replay\n"
	"said of themselves (DIR/capture.state, DIR/replay-NAME.state): running,\n"
	"reconnecting (with the attempt and the last error), stopped, or failed (with\n"
	"the error); \"gone\" when the process that wrote \"running\" is no longer there.\n";

/* DIR/snapshot's progress, when there is one: 0, or 2 after an error line. */
static int print_snapshot(const char *dir)
{
	struct seg_snapshot_status ss;
	struct sl_err err = SL_ERR_INIT;
	char pos[256], *snap;
	int rc = seg_snapshot_exists(dir, &err);

	if (rc <= 0)
		return rc < 0 ? cmd_fail("status", &err) : 0;
	snap = seg_snapshot_path(dir);
	rc = seg_snapshot_status(snap, &ss, &err);
	free(snap);
	if (rc)
		return cmd_fail("status", &err);
	if (ss.ends)
		printf("snapshot:  finished, changes up to %s apply in safe mode\n",
		       ss.position ? fmt_position_str(ss.position, pos, sizeof(pos)) : "-");
	else
		printf("snapshot:  in progress (run %" PRIu64 " at %s)\n", ss.runs,
		       ss.position ? fmt_position_str(ss.position, pos, sizeof(pos)) : "-");
	printf("           %" PRIu64 " runs, %" PRIu64 " chunks, %" PRIu64 " rows, %" PRIu64
	       " tables done, %" PRIu64 " schema objects\n", ss.runs, ss.chunks, ss.rows,
	       ss.tables_done, ss.schema_objects);
	printf("           %" PRIu64 " segments (%" PRIu64 " sealed), %" PRIu64 " bytes\n", ss.segments,
	       ss.sealed, ss.bytes);
	seg_snapshot_status_release(&ss);
	return 0;
}

static int status(const char *dir, const char *dest);

/* One service's line from its state file (sl.h "retrying what passes"). */
static void print_service(const char *label, const char *path, uint64_t now)
{
	struct sl_retry_state s;
	uint64_t ago;
	int alive;

	if (sl_retry_state_read(path, &s))
		return;
	ago = now > (uint64_t)s.since ? now - (uint64_t)s.since : 0;
	alive = s.pid > 0 && (kill((pid_t)s.pid, 0) == 0 || errno == EPERM);
	if (!strcmp(s.state, "reconnecting") && alive)
		printf("%-10s reconnecting for %" PRIu64 " s (attempt %lld, pid %lld): %s\n", label, ago,
		       s.attempt, s.pid, s.error);
	else if (!strcmp(s.state, "running") && alive)
		printf("%-10s running for %" PRIu64 " s (pid %lld)%s%s\n", label, ago, s.pid,
		       s.error[0] ? "; last error: " : "", s.error);
	else if (!strcmp(s.state, "failed"))
		printf("%-10s failed %" PRIu64 " s ago: %s\n", label, ago, s.error);
	else if (!strcmp(s.state, "stopped"))
		printf("%-10s stopped %" PRIu64 " s ago\n", label, ago);
	else
		printf("%-10s gone (pid %lld, %s %" PRIu64 " s ago, ended without a word: killed?)\n",
		       label, s.pid, s.state, ago);
}

static void print_services(const char *dir, uint64_t now)
{
	char *path = sl_xasprintf("%s/capture.state", dir);
	DIR *d = opendir(dir);
	struct dirent *de;

	print_service("capture:", path, now);
	free(path);
	path = sl_xasprintf("%s/receive.state", dir);
	print_service("receive:", path, now);
	free(path);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char label[96];
		int ship = !strncmp(de->d_name, "ship-", 5);

		if (n <= (ship ? 11u : 13u) || (strncmp(de->d_name, "replay-", 7) && !ship) || strcmp(de->d_name + n - 6, ".state"))
			continue;
		/* DIR/replay-NAME.state, DIR/ship-NAME.state */
		snprintf(label, sizeof(label), "%s %.*s:", ship ? "ship" : "replay", (int)(n - (ship ? 11 : 13)),
			 de->d_name + (ship ? 5 : 7));
		path = sl_xasprintf("%s/%s", dir, de->d_name);
		print_service(label, path, now);
		free(path);
	}
	if (d)
		closedir(d);
}

int cmd_status(int argc, char **argv)
{
	const char *dir, *dest = NULL, *nats = NULL;
	int rc;
	struct sl_opt opts[] = {
		{ "nats", SL_OPT_STR, SL_OPT_TARGET(nats), .arg = "URL",
		  .help = "also show the JetStream stream sluice ship writes\n"
			  "(nats://HOST:PORT[,...]/NAME): its size, limits, the\n"
			  "segment shipped last and each receiver's acked segment" },
		{ "dest", SL_OPT_STR, SL_OPT_TARGET(dest), .arg = "URL", .flags = SL_OPT_URL,
		  .help = "also list the transactions replay --skip left out on this\n"
			  "destination (password from SLUICE_DEST_PASSWORD)" },
	};
	struct sl_opt_cmd cmd = { .name = "status", .args = "DIR", .about = about, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	rc = cmd_parse(&cmd, argc, argv);
	if (rc == CMD_GO_ON && cmd.args_given.n != 1)
		rc = cmd_usage_error("status", "exactly one stream directory is needed");
	dir = rc == CMD_GO_ON ? cmd.args_given.v[0] : NULL;
	if (rc != CMD_GO_ON) {
		sl_opt_release(&cmd);
		return rc;
	}
	rc = status(dir, dest);
	if (!rc && nats) {
		struct sl_err err = SL_ERR_INIT;

		rc = ship_status_print(stdout, nats, &err);
		ship_library_close();
		if (rc)
			rc = cmd_fail("status", &err);
	}
	sl_opt_release(&cmd);
	return rc;
}
static int status(const char *dir, const char *dest)
{
	struct seg_status st;
	struct sl_err err = SL_ERR_INIT;
	char pos[256], sid[33];
	uint8_t id[16];
	uint64_t now;

	if (seg_status(dir, &st, &err))
		return cmd_fail("status", &err);
	memcpy(id, st.stream_id, 16);
	now = (uint64_t)time(NULL);
	sl_hex(sid, st.stream_id, 16);
	printf("stream:    %s (id %s)\n", st.source ? st.source : "(no segment)", st.source ? sid : "-");
	printf("head:      %s\n", st.head ? fmt_position_str(st.head, pos, sizeof(pos)) : "-");
	printf("segments:  %" PRIu64 " (%" PRIu64 " sealed), seq %" PRIu64 "..%" PRIu64 ", %" PRIu64
	       " bytes, %" PRIu64 " transactions\n", st.segments, st.sealed, st.first_seq, st.last_seq,
	       st.bytes, st.transactions);
	printf("accounts:  %" PRIu64 " account statements left out by capture (never written)\n",
	       st.account_statements);
	printf("replayed:  %" PRIu64 " transactions and %" PRIu64 " DDL written by sluice replay "
	       "left out by capture\n", st.replayed_transactions, st.replayed_ddls);
	printf("consumers: %zu\n", st.nconsumers);
	for (size_t i = 0; i < st.nconsumers; i++) {
		const struct seg_consumer_lag *l = &st.consumers[i];

		printf("  %-16s at seq %" PRIu64 " offset %" PRIu64 " record %u; ", l->c.name,
		       l->c.cur.seq, l->c.cur.offset, l->c.cur.index);
		if (l->gone)
			printf("behind retention (its segment was removed)");
		else
			printf("lag %" PRIu64 " transactions, %" PRIu64 " bytes, %" PRIu64 " s",
			       l->txns, l->bytes, l->secs);
		/* a running replay writes its file about once a second */
		if (l->c.updated)
			printf("; written %" PRIu64 " s ago\n", now > l->c.updated ? now - l->c.updated : 0);
		else
			printf("\n");
	}
	seg_status_release(&st);
	print_services(dir, now);
	if (!dest)
		printf("skipped:   recorded on the destination in `sluice`.`skipped` "
		       "(status --dest URL lists them)\n");
	else if (rep_skipped_print(dest, id, stdout, &err))
		return cmd_fail("status", &err);
	{
		char pair[1200];

		if (mig_switch_pair(dir, pair, sizeof(pair)))
			printf("switchover: %s\n", pair);
	}
	return print_snapshot(dir);
}
