/* cmd_inspect.c - `sluice inspect`: print every record of a DIR or a segment, as text or JSON lines. */
#include "cmd.h"
#include "fmt.h"
#include "seg.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banned.h"

static const char usage[] =
	"usage: sluice inspect DIR|SEGMENT [--json]\n"
	"\n"
	"  Prints every complete record, in order: transactions with their row\n"
	"  changes (column values by name), DDL statements and heartbeats.\n"
	"  Columns a partial row image (binlog_row_image=MINIMAL) left out are\n"
	"  not printed (no key in JSON): they are not NULL, just unknown.\n"
	"  --json   one JSON object per line:\n"
	"           {\"type\":\"transaction\",\"gtid\":...,\"time\":...,\"changes\":[{\"op\":\"insert\",\n"
	"            \"db\":...,\"table\":...,\"before\":{...},\"after\":{...}}],\"position\":{...}}\n"
	"           {\"type\":\"ddl\",\"db\":...,\"statement\":...,\"position\":{...}}\n"
	"           {\"type\":\"heartbeat\",\"position\":{...}}\n"
	"  A CREATE/DROP TRIGGER is marked \"kind\":\"trigger\",\"deferred\":\"switchover\"\n"
	"  (replay does not run it). An account statement (CREATE USER, GRANT ...)\n"
	"  is never printed: capture does not write them, and one in an older stream\n"
	"  shows as \"account statement redacted\". A heartbeat that stands for account\n"
	"  statements capture left out says how many (\"account_statements_left_out\").\n";

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
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct out o;
	struct seg_reader *r = NULL;
	struct sl_err err = SL_ERR_INIT;
	const char *path;
	int c, rc;

	opterr = 0;
	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(usage, stdout); return 0;
		case 'j': o.json = 1; break;
		default:
			return cmd_usage_error("inspect", usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error("inspect", usage, "expected one DIR or SEGMENT");
	path = argv[optind];
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
	if (rc < 0)
		return cmd_fail("inspect", &err);
	return 0;
}
