/* cmd_inspect.c - `sluice inspect`: print every record of a DIR or a segment, as text or JSON lines. */
#include "cmd.h"
#include "mig.h"
#include "fmt.h"
#include "seg.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "banned.h"

static const char about[] =
	"Prints every complete record, in order: transactions with their row\n"
	"changes (column values by name), DDL statements and heartbeats.\n"
	"Columns a partial row image (binlog_row_image=MINIMAL) left out are\n"
	"not printed (no key in JSON): they are not NULL, just unknown.\n"
	"In JSON, text is UTF-8 (converted from its column's charset) and bytes\n"
	"that are not text (binary columns, geometry, invalid text) are\n"
	"{\"hex\":\"C3A9\"}.\n"
	"A CREATE/DROP TRIGGER is marked \"kind\":\"trigger\",\"deferred\":\"switchover\"\n"
	"(replay does not run it). An account statement (CREATE USER, GRANT ...)\n"
	"is never printed: capture does not write them, and one in an older stream\n"
	"shows as \"account statement redacted\". A heartbeat that stands for account\n"
	"statements capture left out says how many (\"account_statements_left_out\").\n"
	"A snapshot stream (DIR/snapshot: schema objects, snapshot runs, chunks of\n"
	"rows as INSERTs, the end) is printed with --snapshot, or as inspect\n"
	"DIR/snapshot; inspect DIR says in its first line (text) that it is there.\n";

struct out {
	struct fmt_render r;		/* the rendering and its buffer (formats/fmt_render.c) */
	int json;
};

static void flush_out(struct out *o)
{
	fwrite(o->r.b.data, 1, o->r.b.len, stdout);
	sl_buf_reset(&o->r.b);
}

int cmd_inspect(int argc, char **argv)
{
	struct out o;
	struct seg_reader *r = NULL;
	struct sl_err err = SL_ERR_INIT;
	const char *path;
	char *snap = NULL;
	int rc, snapshot = 0;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		{ "json", SL_OPT_FLAG, SL_OPT_TARGET(o.json),
		  .help = "one JSON object per line:\n"
			  "{\"type\":\"transaction\",\"gtid\":...,\"time\":...,\"changes\":[{\"op\":\"insert\",\n"
			  " \"db\":...,\"table\":...,\"before\":{...},\"after\":{...}}],\"position\":{...}}\n"
			  "{\"type\":\"ddl\",\"db\":...,\"statement\":...,\"position\":{...}}\n"
			  "{\"type\":\"heartbeat\",\"position\":{...}}\n"
			  "snapshot streams: {\"type\":\"schema\",...}, {\"type\":\"snapshot_begin\",...},\n"
			  "{\"type\":\"chunk\",...,\"changes\":[...],\"rows\":N,...}, {\"type\":\"snapshot_end\",...}" },
		{ "snapshot", SL_OPT_FLAG, SL_OPT_TARGET(snapshot),
		  .help = "print DIR's snapshot stream (DIR/snapshot) instead of DIR" },
	};
	struct sl_opt_cmd cmd = { .name = "inspect", .args = "DIR|SEGMENT", .about = about, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	memset(&o, 0, sizeof(o));
	rc = cmd_parse(&cmd, argc, argv);
	if (rc == CMD_GO_ON && cmd.args_given.n != 1)
		rc = cmd_usage_error("inspect", "expected one DIR or SEGMENT");
	if (rc != CMD_GO_ON) {
		sl_opt_release(&cmd);
		return rc;
	}
	path = cmd.args_given.v[0];
	/* no database connection here: a reader that stops early (| head) just ends us */
	signal(SIGPIPE, SIG_DFL);
	fmt_render_init(&o.r, o.json);
	if (snapshot) {
		rc = seg_snapshot_exists(path, &err);
		snap = seg_snapshot_path(path);
		if (rc == 0)
			rc = sl_err_set(&err, -ENOENT, "'%s': no snapshot stream", snap);
		if (rc < 0)
			goto out;
		path = snap;
	} else if (!o.json && seg_snapshot_exists(path, NULL) == 1) {
		printf("# '%s/%s' holds a snapshot stream (schema and existing rows): "
		       "sluice inspect --snapshot %s\n", path, SEG_SNAPSHOT_DIR, path);
	}
	if (!snapshot && !o.json) {
		char pair[1200];

		if (mig_switch_pair(path, pair, sizeof(pair)))
			printf("# switchover: %s\n", pair);
	}
	if ((rc = seg_reader_open(&r, path, &err)))
		goto out;
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;

		rc = seg_reader_next(r, &rec, &cur, &err);
		if (rc <= 0)
			break;
		fmt_render_record(&o.r, rec, cur.seq, cur.offset);
		fmt_record_free(rec);
		if (o.r.b.len > (1u << 16))
			flush_out(&o);
	}
	flush_out(&o);
out:
	seg_reader_close(r);
	fmt_render_release(&o.r);
	free(snap);
	rc = rc < 0 ? cmd_fail("inspect", &err) : 0;
	sl_opt_release(&cmd);	/* path points into argv, not into cmd */
	return rc;
}
