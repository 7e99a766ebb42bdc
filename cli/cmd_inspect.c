/* cmd_inspect.c - `sluice inspect`: print every record of a DIR or a segment, as text or JSON lines. */
#include "cmd.h"
#include "fmt.h"
#include "seg.h"

#include <signal.h>
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
	"statements capture left out says how many (\"account_statements_left_out\").\n";

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
	int rc;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		{ "json", SL_OPT_FLAG, SL_OPT_TARGET(o.json),
		  .help = "one JSON object per line:\n"
			  "{\"type\":\"transaction\",\"gtid\":...,\"time\":...,\"changes\":[{\"op\":\"insert\",\n"
			  " \"db\":...,\"table\":...,\"before\":{...},\"after\":{...}}],\"position\":{...}}\n"
			  "{\"type\":\"ddl\",\"db\":...,\"statement\":...,\"position\":{...}}\n"
			  "{\"type\":\"heartbeat\",\"position\":{...}}" },
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
	rc = rc < 0 ? cmd_fail("inspect", &err) : 0;
	sl_opt_release(&cmd);	/* path points into argv, not into cmd */
	return rc;
}
