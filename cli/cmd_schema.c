/* cmd_schema.c - `sluice schema --dir DIR --print`: the definitions a snapshot recorded (DIR/snapshot), as runnable SQL or JSON lines. */
#include "cmd.h"
#include "fmt.h"
#include "seg.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static const char about[] =
	"Prints every schema object (database, table, view, trigger, foreign key,\n"
	"routine, event) that the snapshot recorded in DIR/snapshot, in creation\n"
	"order. Text is SQL a client runs as is (mariadb < file): USE before the\n"
	"objects of each database, statements ended with \";\", DELIMITER around\n"
	"triggers, routines and events. Objects created only at switchover (foreign\n"
	"keys, triggers) are marked \"-- deferred to switchover\"; each dialect\n"
	"conversion made is a \"-- conversion:\" comment above its statement, with\n"
	"the source's original statement. Exit 2 when DIR has no snapshot stream.\n";

int cmd_schema(int argc, char **argv)
{
	struct fmt_render o;
	struct seg_reader *r = NULL;
	struct sl_err err = SL_ERR_INIT;
	const char *dir = NULL;
	char *snap = NULL;
	int rc, print = 0, json = 0;
	unsigned long long n = 0, deferred = 0;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		{ "dir", SL_OPT_STR, SL_OPT_TARGET(dir), .arg = "DIR", .flags = SL_OPT_REQUIRED,
		  .help = "the stream directory (its snapshot stream is DIR/snapshot)" },
		{ "print", SL_OPT_FLAG, SL_OPT_TARGET(print),
		  .help = "print every recorded schema object" },
		{ "json", SL_OPT_FLAG, SL_OPT_TARGET(json),
		  .help = "one JSON object per line:\n"
			  "{\"type\":\"schema\",\"kind\":\"table\",\"order\":N,\"db\":...,\"name\":...,\n"
			  " \"deferred\":\"switchover\" (when deferred),\"statement\":...,\n"
			  " \"source_statement\":... (when converted),\"conversions\":[...]}" },
	};
	struct sl_opt_cmd cmd = { .name = "schema", .args = "", .about = about, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	rc = cmd_parse(&cmd, argc, argv);
	if (rc == CMD_GO_ON && cmd.args_given.n)
		rc = cmd_unexpected(&cmd);
	if (rc == CMD_GO_ON && !print)
		rc = cmd_usage_error("schema", "nothing to do: give --print");
	if (rc != CMD_GO_ON) {
		sl_opt_release(&cmd);
		return rc;
	}
	signal(SIGPIPE, SIG_DFL);	/* | head just ends us */
	fmt_render_init(&o, json);
	rc = seg_snapshot_exists(dir, &err);
	snap = seg_snapshot_path(dir);
	if (rc == 0)
		rc = sl_err_set(&err, -ENOENT, "'%s': no snapshot stream (sluice snapshot or capture "
				"--snapshot writes it)", snap);
	if (rc < 0 || (rc = seg_reader_open(&r, snap, &err)))
		goto out;
	if (!json)
		printf("-- schema recorded in '%s'\n", snap);
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;

		rc = seg_reader_next(r, &rec, &cur, &err);
		if (rc <= 0)
			break;
		/* every SchemaObject comes before the first SnapshotBegin: stop there */
		if (rec->body_case != SLUICE__RECORD__BODY_SCHEMA) {
			fmt_record_free(rec);
			rc = 0;
			break;
		}
		n++;
		deferred += rec->schema->deferred ? 1 : 0;
		if (json) {
			fmt_render_record(&o, rec, cur.seq, cur.offset);
		} else {
			sl_buf_addc(&o.b, '\n');
			fmt_render_schema_sql(&o, rec->schema);
		}
		fmt_record_free(rec);
		fwrite(o.b.data, 1, o.b.len, stdout);
		sl_buf_reset(&o.b);
	}
	if (!rc && !json)
		printf("\n-- %llu objects, %llu deferred to switchover\n", n, deferred);
out:
	seg_reader_close(r);
	fmt_render_release(&o);
	free(snap);
	sl_opt_release(&cmd);	/* dir points into argv */
	return rc < 0 ? cmd_fail("schema", &err) : 0;
}
