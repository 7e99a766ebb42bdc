/* cap_files_run.c - capture from binlog files on disk into a stream directory. */
/*
 *   peek first file (server id, flavor) -> open DIR (recovers its tail)
 *     -> new: Heartbeat at (first file, 4) | existing: resume (file, offset)
 *     -> for each file: skip (before resume) | feed (cap_file.c)
 *          -> decoder -> cap_sink.c -> seg_writer
 *          -> after each file: retention (cap_retain.c, opt-in)
 *     -> seal -> retention once more -> seg_writer_close (a transaction not
 *        complete at the end is dropped)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cap.h"
#include "cap_int.h"
#include "seg.h"
#include "banned.h"

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* Binlog names compare by length, then bytes (zero-padded indexes). */
static int name_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

static int path_cmp(const void *a, const void *b)
{
	const char *const *pa = a, *const *pb = b;
	int c = name_cmp(base_name(*pa), base_name(*pb));

	return c ? c : strcmp(*pa, *pb);
}

/* The first event of a binlog file: it must be a format description. */
static int peek(const char *path, uint32_t *server_id, char *flavor, size_t fn, struct sl_err *err)
{
	uint8_t b[4 + 19 + 57];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		int e = errno;

		return sl_err_set(err, -e, "cannot open binlog '%s': %s", path, strerror(e));
	}
	n = pread(fd, b, sizeof(b), 0);
	if (n < 4 || memcmp(b, "\xfe" "bin", 4) != 0) {
		rc = sl_err_set(err, -SL_EFORMAT, "'%s' is not a binlog file (no fe 62 69 6e magic at offset 0)",
				path);
	} else if (n < (ssize_t)sizeof(b) || b[4 + 4] != CAP_EV_FORMAT_DESCRIPTION) {
		rc = sl_err_set(err, -SL_EFORMAT, "binlog '%s': no format description event at offset 4",
				path);
	} else {
		char ver[51];

		*server_id = sl_le32(b + 4 + 5);
		memcpy(ver, b + 4 + 19 + 2, 50);
		ver[50] = 0;
		snprintf(flavor, fn, "%s", strstr(ver, "MariaDB") ? "mariadb" : "mysql");
	}
	close(fd);
	return rc;
}

int cap_run_files(const struct cap_files_opts *o, struct cap_stats *st, struct sl_err *err)
{
	struct cap_decoder_opts dopts = { 0 };
	struct seg_writer_opts wo = { 0 };
	struct seg_writer *w = NULL;
	struct cap_decoder *d = NULL;
	struct cap_seg_sink sk;
	struct cap_retain rt;
	struct cap_sink sink;
	Sluice__Position start = SLUICE__POSITION__INIT;
	const Sluice__Position *resume;
	const char **files = NULL;
	char identity[64], flavor[16], *rfile = NULL, origin[64];
	uint64_t roff = 0, t0 = sl_now_ms();
	uint32_t server_id = 0;
	int rc = 0, started = 0;

	memset(st, 0, sizeof(*st));
	memset(&sk, 0, sizeof(sk));
	cap__retain_init(&rt, o->dir, o->retain, o->retain_bytes, o->retain_age_s);
	if (o->n_files == 0)
		return sl_err_set(err, -SL_EINVAL_ARG, "no binlog files given");
	files = sl_xcalloc(o->n_files, sizeof(*files));
	memcpy(files, o->files, o->n_files * sizeof(*files));
	if (o->sort)
		qsort(files, o->n_files, sizeof(*files), path_cmp);
	if ((rc = peek(files[0], &server_id, flavor, sizeof(flavor), err)))
		goto out;
	snprintf(identity, sizeof(identity), "binlog-files:server_id=%u", server_id);
	start.flavor = flavor;
	start.file = (char *)(uintptr_t)base_name(files[0]);
	start.offset = 4;
	start.server_id = server_id;

	wo.dir = o->dir;
	wo.source = identity;
	wo.start = &start;
	wo.segment_size = o->segment_size;
	wo.commit_interval_ms = o->commit_interval_ms ? o->commit_interval_ms : 10;
	if ((rc = seg_writer_open(&w, &wo, err)))
		goto out;
	resume = seg_writer_position(w);
	if (!resume) {
		if ((rc = cap__stream_start(w, &start, &resume, err)))
			goto out;
		sl_log(SL_INFO, "capture", "new stream in '%s' starts at %s:4", o->dir, start.file);
	}
	rfile = sl_xstrdup(resume->file ? resume->file : "");
	roff = resume->offset;

	snprintf(origin, sizeof(origin), "binlog files");
	dopts.flavor = flavor;
	dopts.origin = NULL;
	dopts.allow_positional = o->allow_positional;
	dopts.keep_replayed = o->keep_replayed;
	d = cap_decoder_new(&dopts);
	cap__seg_sink_init(&sk, w, d, st, o->filter, &sink);
	{
		/* the column names the stream's DDL gave so far, as of the resume point */
		int loaded = 0;

		if ((rc = cap__schema_load(cap_decoder_schema(d), o->dir, rfile, roff, &loaded, err)))
			goto out;
		if (loaded)
			cap_decoder_freeze_schema(d, 1);
		else if (roff > 4)
			sl_log(SL_DEBUG, "capture", "no schema history saved for %s:%llu", rfile,
			       (unsigned long long)roff);
	}
	for (size_t i = 0; i < o->n_files; i++) {
		const char *bn = base_name(files[i]);
		int c = name_cmp(bn, rfile);
		uint64_t end = 0, skip = c == 0 ? roff : 0;
		struct sl_err ferr = SL_ERR_INIT;
		uint32_t sid = 0;
		char fl[16];

		if (c < 0) {
			sl_log(SL_INFO, "capture", "'%s' lies wholly before the stream's position %s:%llu: skipped",
			       files[i], rfile, (unsigned long long)roff);
			continue;
		}
		if ((rc = peek(files[i], &sid, fl, sizeof(fl), err)))
			goto out;
		if (sid != server_id)
			sl_log(SL_WARN, "capture", "'%s' was written by server id %u, the stream's first file by %u",
			       files[i], sid, server_id);
		if (!started && c > 0 && roff > 4)
			sl_log(SL_WARN, "capture", "the stream ends at %s:%llu but the first file given after it is '%s': make sure nothing lies between",
			       rfile, (unsigned long long)roff, bn);
		started = 1;
		rc = cap_file_feed_from(d, files[i], skip, &sink, &end, &ferr);
		if (rc == -SL_ETORN && i + 1 == o->n_files && cap_decoder_in_use(d)) {
			sl_log(SL_WARN, "capture", "%s: the file is still marked in use (its server was writing it); stopping after the last complete event at offset %llu",
			       ferr.msg, (unsigned long long)end);
			rc = 0;
		} else if (rc == 0 && cap_decoder_in_use(d) && i + 1 < o->n_files) {
			sl_log(SL_WARN, "capture", "'%s' is still marked in use (copied while its server wrote it)",
			       files[i]);
		}
		if (rc) {
			*err = ferr;
			goto out;
		}
		st->binlog_bytes += end;
		if (c == 0 && end < roff) {
			rc = sl_err_set(err, -SL_ECORRUPT,
					"binlog '%s' ends at offset %llu, before the stream's position %llu: not the file this stream was captured from",
					files[i], (unsigned long long)end, (unsigned long long)roff);
			goto out;
		}
		if (cap_decoder_in_txn(d))
			sl_log(SL_DEBUG, "capture", "'%s' ends inside a transaction: it continues in the next file",
			       files[i]);
		cap__retain_tick(&rt, w, 0);
	}
	if (d && cap_decoder_in_txn(d))
		sl_log(SL_WARN, "capture", "the last file ends inside a transaction: it is not written (a later run with the next file gets it)");
out:
	if (w && rc == 0 && (rc = seg_writer_flush(w, err)) == 0) {
		/* the history as of the stream's end, for the next run */
		const Sluice__Position *at = seg_writer_position(w);

		if (at && at->file)
			rc = cap__schema_save(cap_decoder_schema(d), o->dir, at->file, at->offset, err);
	}
	/* sealed at rest, so pack takes it whole; not when the last file ends
	 * inside a transaction: the next run completes it in this segment */
	if (w && rc == 0 && !(d && cap_decoder_in_txn(d)))
		rc = seg_writer_seal(w, err);
	if (w && rc == 0)
		cap__retain_tick(&rt, w, 1);
	if (w) {
		struct sl_err cerr = SL_ERR_INIT;
		int crc = seg_writer_close(w, rc ? &cerr : err);

		if (!rc)
			rc = crc;
		else if (crc)
			sl_log(SL_ERROR, "capture", "%s", cerr.msg);
	}
	if (!rc)
		sl_log(SL_INFO, "capture",
		       "captured %llu transactions, %llu rows, %llu ddls from %.1f MB of binlog files in %.2fs; "
		       "%llu transactions and %llu DDL written by sluice replay left out%s",
		       (unsigned long long)st->transactions, (unsigned long long)st->rows,
		       (unsigned long long)st->ddls, (double)st->binlog_bytes / 1e6,
		       (double)(sl_now_ms() - t0) / 1000.0, (unsigned long long)st->replayed_txns,
		       (unsigned long long)st->replayed_ddls, o->keep_replayed ? " (--keep-replayed: none)" : "");
	(void)origin;
	cap_decoder_free(d);
	cap__seg_sink_release(&sk);
	free(rfile);
	free(files);
	return rc;
}
