/* cmd_replay.c - `sluice replay`: options, then rep_run(). */
#include "cmd.h"
#include "fmt.h"
#include "sl_metrics.h"
#include "rep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "banned.h"

int cmd_replay(int argc, char **argv)
{
	struct rep_opts o = { 0 };
	struct cmd_filter cf = { 0 };
	struct fmt_filter *filter = NULL;
	struct sl_opt_list skip = { 0 };
	int defer_indexes = 0;
	struct rep_stats st;
	struct sl_err err = SL_ERR_INIT;
	int rc;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		{ "dir", SL_OPT_STR, SL_OPT_TARGET(o.dir), .arg = "DIR", .flags = SL_OPT_REQUIRED,
		  .help = "the stream directory written by capture" },
		{ "dest", SL_OPT_STR, SL_OPT_TARGET(o.dest_url), .arg = "URL",
		  .flags = SL_OPT_REQUIRED | SL_OPT_URL,
		  .help = "the destination, mysql://user@host:port/ (password from\n"
			  "SLUICE_DEST_PASSWORD, ?password-file=PATH or the URL)" },
		{ "follow", SL_OPT_FLAG, SL_OPT_TARGET(o.follow),
		  .help = "keep applying new transactions until SIGTERM/SIGINT\n"
			  "(default: apply every complete transaction in DIR, then exit)" },
		{ "retry-for", SL_OPT_DURATION, SL_OPT_TARGET(o.retry_for_ms), .def = "10m",
		  .arg = "DURATION",
		  .help = "retry a lost connection, a destination restart, read_only,\n"
			  "a deadlock or lock wait timeout this long, resuming from\n"
			  "the checkpoint; then exit 2 (0: do not retry)" },
		{ "consumer", SL_OPT_STR, SL_OPT_TARGET(o.consumer), .arg = "NAME", .def = "default",
		  .check = sl_consumer_name_check,
		  .help = "checkpoint name in `sluice`.`checkpoint` and DIR/consumers/:\n"
			  "1 to 64 of A-Z a-z 0-9 _ . -, not starting with '.'" },
		{ "poll", SL_OPT_MS, SL_OPT_TARGET(o.poll_ms), .min = 1, .max = 60000, .def = "20",
		  .needs = "follow", .help = "how often to look for new frames, in ms" },
		{ "workers", SL_OPT_UINT, SL_OPT_TARGET(o.workers), .min = 1, .max = 64,
		  .def_text = "2 per CPU here, 2 to 16",
		  .help = "parallel destination connections. Transactions touching a\n"
			  "common row always commit in source order; independent ones\n"
			  "may commit in any order. 1 keeps the source's commit order\n"
			  "for every transaction. A snapshot (DIR/snapshot) loads on\n"
			  "at most 4 of them." },
		{ "batch-txns", SL_OPT_UINT, SL_OPT_TARGET(o.batch_txns), .arg = "N", .min = 1,
		  .max = 4096, .def = "100",
		  .help = "under a backlog, apply up to N consecutive source\n"
			  "transactions as one destination transaction (each still\n"
			  "recorded in `sluice`.`applied` with it: exactly once holds).\n"
			  "1: one destination transaction per source transaction" },
		{ "batch-bytes", SL_OPT_SIZE, SL_OPT_TARGET(o.batch_bytes), .arg = "SIZE", .min = 1,
		  .def = "1M", .help = "... and close a batch once its row changes reach SIZE" },
		{ "allow-dest-triggers", SL_OPT_FLAG, SL_OPT_TARGET(o.allow_dest_triggers),
		  .help = "apply rows to destination tables that have triggers (they\n"
			  "fire again on every replayed row: the rows a source trigger\n"
			  "wrote are in the stream already). Without it such a table\n"
			  "stops replay before its first row." },
		{ "defer-indexes", SL_OPT_FLAG, SL_OPT_TARGET(defer_indexes),
		  .help = "snapshot tables: create them with their primary key only and\n"
			  "add the secondary indexes after their last chunk (the default)" },
		{ "no-defer-indexes", SL_OPT_FLAG, SL_OPT_TARGET(o.no_defer_indexes),
		  .help = "snapshot tables: create them with every index before loading" },
		{ "dest-dialect", SL_OPT_STR, SL_OPT_TARGET(o.dest_dialect), .arg = "D",
		  .check = cmd_dialect_check, .def_text = "from the destination's version()",
		  .help = "mariadb, mysql or oceanbase: the rules DDL from the stream\n"
			  "is converted by (README \"Dialect rules\"); each conversion\n"
			  "is logged, a statement a rule refuses stops replay" },
		CMD_OPT_FILTERS(cf, 0, "applied"),
		{ "until", SL_OPT_STR, SL_OPT_TARGET(o.until), .arg = "POINT", .check = rep_until_check,
		  .help = "stop at a point in time and exit 0, the checkpoint there:\n"
			  "a GTID (D-S-N or UUID:N: up to and including it), FILE:POS\n"
			  "(transactions ending at or before POS of binlog FILE) or\n"
			  "'YYYY-MM-DD HH:MM:SS[+HH:MM|Z]' (committed before that\n"
			  "time, as mysqlbinlog --stop-datetime; no zone: local time).\n"
			  "Not in DIR yet: apply what is there (with --follow: wait)" },
		{ "from", SL_OPT_UINT, SL_OPT_TARGET(o.from), .arg = "SEQ", .min = 1,
		  .help = "a destination without a checkpoint starts at the first\n"
			  "record of segment SEQ: it must hold the source as it was at\n"
			  "that segment's start (`sluice inspect` prints it)" },
		{ "skip", SL_OPT_LIST, SL_OPT_TARGET(skip), .arg = "TXN", .check = rep_skip_check,
		  .help = "leave out exactly this transaction: a GTID, or SEG:OFFSET[:RECORD]\n"
			  "(any record of it, as replay's messages print it); repeat or\n"
			  "comma-separate. Each is recorded in `sluice`.`skipped`" },
		{ "metrics", SL_OPT_STR, SL_OPT_TARGET(o.metrics), .arg = "FILE",
		  .check = sl_metrics_path_check,
		  .help = "write Prometheus text metrics to FILE (replaced atomically\n"
			  "every 2 s and at exit): applied transactions, rows, bytes,\n"
			  "the source time applied up to, and the lag in seconds\n"
			  "(README \"Metrics\")" },
	};
	struct sl_opt_cmd cmd = {
		.name = "replay", .opts = opts, .n = SL_OPT_COUNT(opts),
		.about = "CREATE/DROP TRIGGER statements in the stream are not run (triggers are\n"
			 "created at switchover). An account statement (CREATE USER, GRANT ...) or a\n"
			 "statement-format DML found in a stream stops replay at its position.\n"
			 "--include/--exclude/--map/--exclude-columns/--ops filter and rename what is\n"
			 "applied (README \"Filters and renames\"); a transaction they empty still\n"
			 "moves the checkpoint.",
	};

	if ((rc = cmd_parse(&cmd, argc, argv)) != CMD_GO_ON)
		goto out;
	if (cmd.args_given.n) {
		rc = cmd_unexpected(&cmd);
		goto out;
	}
	if (defer_indexes && o.no_defer_indexes) {
		rc = cmd_usage_error("replay", "--defer-indexes and --no-defer-indexes exclude each other");
		goto out;
	}
	if (cmd_filter_open(&cf, &filter, &err)) {
		rc = cmd_fail("replay", &err);
		goto out;
	}
	if (filter) {
		/* a snapshot's definitions and chunks are not filtered here */
		struct stat sb;
		char *sdir = sl_xasprintf("%s/snapshot", o.dir);
		int has = stat(sdir, &sb) == 0 || errno != ENOENT;

		free(sdir);
		if (has) {
			rc = cmd_usage_error("replay", "'%s' holds a snapshot (DIR/snapshot): --include, "
					     "--exclude, --map, --exclude-columns and --ops apply to a "
					     "change stream only; filter at capture (--include/--exclude "
					     "with --snapshot)", o.dir);
			goto out;
		}
	}
	o.filter = filter;
	o.skip = skip.v;
	o.nskip = skip.n;
	rc = rep_run(&o, &st, &err) ? cmd_fail("replay", &err) : 0;
out:
	fmt_filter_close(filter);
	cmd_filter_release(&cf);
	sl_opt_release(&cmd);
	return rc;
}
