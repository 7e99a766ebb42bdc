/* cmd_capture.c - `sluice capture`: options, then cap_run() or cap_run_files(). */
#include "cap.h"
#include "cmd.h"
#include "fmt.h"
#include "sl_metrics.h"
#include "seg.h"
#include "snap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "banned.h"

/* modes: the option table's mode bits (common/sl_opt.h) */
#define SERVER 0x1u	/* --source: a server's binlog */
#define FILES 0x2u	/* --binlog-files: binlog files on disk */

static const char *const modes[] = { "without --binlog-files", "with --binlog-files", NULL };

static const char about[] =
	"Writes every committed transaction and DDL of the source into DIR. An existing\n"
	"DIR always resumes after its last transaction; --from, --from-start and\n"
	"--from-gtid only choose where a new DIR starts (default: the source's binlog\n"
	"end now).\n"
	"With --snapshot (full migration): a new DIR records where it starts (P0), then\n"
	"every selected table is read at one consistent position P1 >= P0 into\n"
	"DIR/snapshot (as `sluice snapshot` does), then capture streams from P0. A rerun\n"
	"resumes an unfinished snapshot first.\n"
	"--include/--exclude/--map/--exclude-columns/--ops filter the change stream\n"
	"itself: what they leave out never reaches DIR (--include/--exclude also choose\n"
	"the --snapshot's tables; the others do not combine with --snapshot).\n";

/* capture --snapshot: P0 recorded, the snapshot (or its resumption), then the stream. */
static int with_snapshot(struct cap_opts *o, struct snap_opts *so, struct cap_stats *st,
			 struct sl_err *err)
{
	struct snap_stats ss;
	char *sdir = sl_xasprintf("%s/snapshot", o->dir), *src = NULL;
	uint8_t sid[16];
	struct stat sb;
	int rc, has_stream = seg_dir_identity(o->dir, &src, sid, err) == 0;

	free(src);
	err->code = 0;
	err->msg[0] = 0;
	if (has_stream && stat(sdir, &sb) && errno == ENOENT) {
		rc = sl_err_set(err, -SL_EINVAL_ARG, "'%s' already holds a stream without a snapshot: "
				"--snapshot starts a new directory (or resumes its own snapshot)", o->dir);
		goto out;
	}
	o->start_only = 1;
	if ((rc = cap_run(o, st, err)))
		goto out;
	o->start_only = 0;
	so->source_url = o->source_url;
	so->dir = o->dir;
	so->segment_size = o->segment_size;
	if ((rc = snap_run(so, &ss, err)))
		goto out;
	rc = cap_run(o, st, err);
out:
	free(sdir);
	return rc;
}

int cmd_capture(int argc, char **argv)
{
	struct cap_opts o = { 0 };
	struct snap_opts so = { 0 };
	int snapshot = 0;
	struct cap_files_opts fo = { 0 };
	struct cmd_filter cf = { 0 };
	struct fmt_filter *filter = NULL;
	struct sl_opt_list files = { 0 };
	struct cap_stats st;
	struct sl_err err = SL_ERR_INIT;
	int sort_files = 0, rc;
	/* One line per option, in the order -h lists them. */
	struct sl_opt opts[] = {
		{ "source", SL_OPT_STR, SL_OPT_TARGET(o.source_url), .arg = "URL", .modes = SERVER,
		  .flags = SL_OPT_REQUIRED | SL_OPT_URL,
		  .help = "the source server, mysql://user@host:port/ (password from\n"
			  "SLUICE_SOURCE_PASSWORD, ?password-file=PATH or the URL)" },
		{ "binlog-files", SL_OPT_LIST, SL_OPT_TARGET(files), .arg = "FILE...", .modes = FILES,
		  .flags = SL_OPT_REQUIRED | SL_OPT_MODE,
		  .help = "read binlog files from disk instead of a server, in the\n"
			  "order given (every argument that is not an option);\n"
			  "positions are the files' own names and offsets; an\n"
			  "existing DIR resumes after its last transaction and skips\n"
			  "files wholly before it" },
		{ "dir", SL_OPT_STR, SL_OPT_TARGET(o.dir), .arg = "DIR", .flags = SL_OPT_REQUIRED,
		  .help = "the stream directory (created when missing)" },
		{ "follow", SL_OPT_FLAG, SL_OPT_TARGET(o.follow), .modes = SERVER,
		  .help = "keep streaming until SIGTERM/SIGINT (default: stop at the\n"
			  "binlog end as of the start)" },
		{ "retry-for", SL_OPT_DURATION, SL_OPT_TARGET(o.retry_for_ms), .modes = SERVER,
		  .def = "10m", .arg = "DURATION",
		  .help = "retry a lost connection, a server restart or an event\n"
			  "damaged in transit this long, resuming after the last\n"
			  "complete transaction; then exit 2 (0: do not retry)" },
		{ "from-start", SL_OPT_FLAG, SL_OPT_TARGET(o.from_start), .modes = SERVER, .group = 1,
		  .help = "a new DIR starts at the oldest binlog the source has" },
		{ "from", SL_OPT_STR, SL_OPT_TARGET(o.from), .arg = "FILE:POS", .modes = SERVER, .group = 1,
		  .help = "a new DIR starts at this binlog position" },
		{ "from-gtid", SL_OPT_STR, SL_OPT_TARGET(o.from_gtid), .arg = "SET", .modes = SERVER, .group = 1,
		  .help = "a new DIR starts after this MySQL GTID set (COM_BINLOG_DUMP_GTID;\n"
			  "MySQL and the OceanBase binlog service)" },
		{ "server-id", SL_OPT_UINT, SL_OPT_TARGET(o.server_id), .min = 1, .modes = SERVER,
		  .def_text = "derived from the pid",
		  .help = "replica server id to register with" },
		{ "sort-files", SL_OPT_FLAG, SL_OPT_TARGET(sort_files), .modes = FILES,
		  .help = "read the --binlog-files sorted by name" },
		{ "segment-size", SL_OPT_SIZE, SL_OPT_TARGET(o.segment_size), .min = 4096, .def = "64M",
		  .help = "seal segments at this size" },
		{ "segment-age", SL_OPT_DURATION, SL_OPT_TARGET(o.segment_age_ms), .min = 1,
		  .max = 49 * 86400000ull, .modes = SERVER, .def_text = "never",
		  .help = "also seal a segment once it is this old, at a transaction\n"
			  "boundary" },
		{ "commit-interval", SL_OPT_MS, SL_OPT_TARGET(o.commit_interval_ms), .min = 1, .max = 60000,
		  .def = "10", .help = "group commit: fdatasync at most this many ms late" },
		{ "allow-positional", SL_OPT_FLAG, SL_OPT_TARGET(o.allow_positional),
		  .help = "name columns @1, @2... when neither the binlog (FULL row\n"
			  "metadata) nor a schema history that fits the binlog's\n"
			  "column types gives their names" },
		{ "keep-replayed", SL_OPT_FLAG, SL_OPT_TARGET(o.keep_replayed),
		  .help = "keep the transactions and DDL that sluice replay wrote on\n"
			  "this server (default: left out and counted, so changes\n"
			  "never go back where they came from)" },
		{ "retain-bytes", SL_OPT_SIZE, SL_OPT_TARGET(o.retain_bytes),
		  .help = "automatic retention, like `sluice purge --keep-bytes`: while\n"
			  "capture runs (after a segment is sealed, at least every 3 s)\n"
			  "and at its end, remove the oldest sealed segments that every\n"
			  "registered consumer (replay --consumer) has passed, keeping\n"
			  "at least SIZE of segments (0: no floor); never the open or\n"
			  "the newest sealed segment. With no registered consumer\n"
			  "nothing is removed (logged once). Removals are logged." },
		{ "snapshot", SL_OPT_FLAG, SL_OPT_TARGET(snapshot), .modes = SERVER,
		  .help = "full migration: record the start, read every selected\n"
			  "table at one consistent position into DIR/snapshot, then\n"
			  "stream from the start (see `sluice snapshot`)" },
		{ "threads", SL_OPT_UINT, SL_OPT_TARGET(so.threads), .min = 1, .max = 64, .def = "2",
		  .modes = SERVER, .needs = "snapshot", .help = "snapshot reader connections" },
		{ "max-threads-running", SL_OPT_UINT, SL_OPT_TARGET(so.max_threads_running), .min = 1,
		  .modes = SERVER, .needs = "snapshot", .def_text = "no limit",
		  .help = "pause the snapshot's readers while Threads_running > N" },
		{ "dest-dialect", SL_OPT_STR, SL_OPT_TARGET(so.dest_dialect), .arg = "D", .modes = SERVER,
		  .check = cmd_dialect_check, .needs = "snapshot", .help = "convert definitions for mariadb, mysql or oceanbase" },
		{ "chunk-ms", SL_OPT_MS, SL_OPT_TARGET(so.chunk_ms), .min = 1, .max = 600000, .def = "500",
		  .modes = SERVER, .needs = "snapshot", .help = "target reading time of a snapshot chunk" },
		{ "retain-age", SL_OPT_AGE, SL_OPT_TARGET(o.retain_age_s),
		  .help = "retention too (either option turns it on): keep segments\n"
			  "whose last commit is younger than AGE" },
		CMD_OPT_FILTERS(cf, 0, "captured"),
		{ "metrics", SL_OPT_STR, SL_OPT_TARGET(o.metrics), .arg = "FILE", .modes = SERVER,
		  .check = sl_metrics_path_check,
		  .help = "write Prometheus text metrics to FILE (replaced atomically\n"
			  "every 2 s and at exit): captured transactions, rows, bytes,\n"
			  "the source time the stream is complete up to, and the lag\n"
			  "(README \"Metrics\")" },
	};
	struct sl_opt_cmd cmd = { .name = "capture", .about = about, .modes = modes, .opts = opts,
				  .n = SL_OPT_COUNT(opts) };

	if ((rc = cmd_parse(&cmd, argc, argv)) != CMD_GO_ON)
		goto out;
	o.retain = sl_opt_given(&cmd, "retain-bytes") || sl_opt_given(&cmd, "retain-age");
	if (snapshot && cmd_filter_rewrites(&cf)) {
		/* the snapshot's definitions and chunks are not rewritten: one
		 * consistent stream or none */
		rc = cmd_usage_error("capture", "--map, --exclude-columns and --ops do not apply to "
				     "--snapshot: take the snapshot with --include/--exclude only");
		goto out;
	}
	if (cmd_filter_open(&cf, &filter, &err)) {
		rc = cmd_fail("capture", &err);
		goto out;
	}
	o.filter = fo.filter = filter;
	so.include = cf.include;
	so.exclude = cf.exclude;
	if (cmd.mode == FILES) {
		/* --binlog-files takes every argument that is not an option too */
		for (size_t i = 0; i < cmd.args_given.n; i++) {
			files.v = sl_xrealloc(files.v, (files.n + 1) * sizeof(*files.v));
			files.v[files.n++] = cmd.args_given.v[i];
		}
		fo.dir = o.dir;
		fo.files = files.v;
		fo.n_files = files.n;
		fo.sort = sort_files;
		fo.allow_positional = o.allow_positional;
		fo.keep_replayed = o.keep_replayed;
		fo.segment_size = o.segment_size;
		fo.commit_interval_ms = o.commit_interval_ms;
		fo.retain = o.retain;
		fo.retain_bytes = o.retain_bytes;
		fo.retain_age_s = o.retain_age_s;
		rc = cap_run_files(&fo, &st, &err) ? cmd_fail("capture", &err) : 0;
		goto out;
	}
	if (cmd.args_given.n) {
		rc = cmd_unexpected(&cmd);
		goto out;
	}
	if (snapshot)
		rc = with_snapshot(&o, &so, &st, &err) ? cmd_fail("capture", &err) : 0;
	else
		rc = cap_run(&o, &st, &err) ? cmd_fail("capture", &err) : 0;
out:
	fmt_filter_close(filter);
	cmd_filter_release(&cf);
	sl_opt_release(&cmd);	/* frees the --binlog-files list too */
	return rc;
}
