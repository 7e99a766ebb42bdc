/* seg_retain.c - consumers' registered checkpoints, retention (purge) and the status of a stream directory. */
#include "seg_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "banned.h"

#define SEG_CONSUMERS "consumers"

/* A consumer file is one line:
 *   sluice-consumer 1 seq=N offset=N index=N txn_time=N updated=N\n */
int seg_consumer_update(const char *dir, const char *name, const struct seg_cursor *cur,
			uint64_t txn_time, struct sl_err *err)
{
	char *cdir = NULL, *path = NULL, line[256];
	int rc = 0, n;

	if ((rc = sl_consumer_name_check(name, err)))
		return rc;
	cdir = sl_xasprintf("%s/%s", dir, SEG_CONSUMERS);
	if (mkdir(cdir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		rc = sl_err_set(err, -e, "cannot create '%s': %s", cdir, strerror(e));
		goto out;
	}
	path = sl_xasprintf("%s/%s", cdir, name);
	n = snprintf(line, sizeof(line),
		     "sluice-consumer 1 seq=%" PRIu64 " offset=%" PRIu64 " index=%u txn_time=%" PRIu64
		     " updated=%" PRIu64 "\n", cur->seq, cur->offset, cur->index, txn_time,
		     (uint64_t)time(NULL));
	rc = sl_write_file_atomic(path, line, (size_t)n, 0600, err);
out:
	free(cdir);
	free(path);
	return rc;
}

static int read_consumer(const char *cdir, const char *name, struct seg_consumer *c,
			 struct sl_err *err)
{
	char *path = sl_xasprintf("%s/%s", cdir, name), buf[256];
	uint64_t size = 0;
	ssize_t n;
	int fd = -1, rc;

	memset(c, 0, sizeof(*c));
	if ((rc = seg__open_regular(path, 0, &fd, &size, err)))
		goto out;
	n = size < sizeof(buf) ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0 || buf[n - 1] != '\n') {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': not a consumer file", path);
		goto out;
	}
	buf[n] = 0;
	if (sscanf(buf, "sluice-consumer 1 seq=%" SCNu64 " offset=%" SCNu64 " index=%u txn_time=%" SCNu64
		   " updated=%" SCNu64, &c->cur.seq, &c->cur.offset, &c->cur.index, &c->txn_time,
		   &c->updated) != 5) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': not a consumer file", path);
		goto out;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static int cons_cmp(const void *a, const void *b)
{
	return strcmp(((const struct seg_consumer *)a)->name, ((const struct seg_consumer *)b)->name);
}

int seg_consumer_list(const char *dir, struct seg_consumer **v, size_t *np, struct sl_err *err)
{
	char *cdir = sl_xasprintf("%s/%s", dir, SEG_CONSUMERS);
	DIR *d = opendir(cdir);
	struct dirent *de;
	size_t n = 0, cap = 0;
	int rc = 0;

	*v = NULL;
	*np = 0;
	if (!d) {
		int e = errno;

		free(cdir);
		return e == ENOENT ? 0 : sl_err_set(err, -e, "cannot open '%s/%s': %s", dir,
						    SEG_CONSUMERS, strerror(e));
	}
	while ((de = readdir(d))) {
		if (sl_consumer_name_check(de->d_name, NULL))
			continue;	/* ".", "..", temp files */
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			*v = sl_xrealloc(*v, cap * sizeof(**v));
		}
		if ((rc = read_consumer(cdir, de->d_name, &(*v)[n], err)))
			break;
		n++;
	}
	closedir(d);
	free(cdir);
	if (rc) {
		free(*v);
		*v = NULL;
		return rc;
	}
	if (n)
		qsort(*v, n, sizeof(**v), cons_cmp);
	*np = n;
	return 0;
}

/* ---- per-segment facts, from footers (sealed) or a scan (open) ---- */

struct seg_fact {
	uint64_t seq, size, transactions, last_time, account_statements;
	uint64_t replayed_transactions, replayed_ddls;
	int sealed;
};

static int facts(const char *dir, struct seg_fact **fv, size_t *fn, struct seg_status *st,
		 struct sl_err *err)
{
	struct seg_list l;
	int rc;

	*fv = NULL;
	*fn = 0;
	if ((rc = seg__dir_scan(dir, &l, err)))
		return rc;
	*fv = sl_xcalloc(l.n ? l.n : 1, sizeof(**fv));
	for (size_t i = 0; i < l.n; i++) {
		struct seg_fact *f = &(*fv)[*fn];
		struct seg_file_info fi;

		if ((rc = seg__summary(dir, &l.v[i], i > 0, &fi, err)))
			break;
		f->seq = l.v[i].seq;
		f->sealed = fi.sealed;	/* sealed since the scan: under its new name */
		f->size = fi.size;
		/* a sealed one's from its footer, the open one's complete transactions */
		f->transactions = fi.n.transactions;
		f->last_time = fi.last_time;
		f->account_statements = fi.n.account_statements;
		f->replayed_transactions = fi.n.replayed_transactions;
		f->replayed_ddls = fi.n.replayed_ddls;
		if (st && fi.hdr) {
			if (!st->source) {
				st->source = sl_xstrdup(fi.hdr->source);
				memcpy(st->stream_id, fi.hdr->stream_id.data, 16);
			}
			fmt_position_free(st->head);
			st->head = fi.last_pos ? fmt_position_dup(fi.last_pos) : NULL;
			if (f->last_time)
				st->head_time = f->last_time;
		}
		seg__file_info_release(&fi);
		(*fn)++;
	}
	seg__list_release(&l);
	if (rc) {
		free(*fv);
		*fv = NULL;
		*fn = 0;
	}
	return rc;
}

/* seg_purge() and seg_retain(): with keep_chain, also keep the newest sealed
 * segment while the segment after it is open (seg.h says why). *ncons: how
 * many consumers are registered. */
static int purge(const char *dir, const struct seg_purge_opts *o, int keep_chain,
		 struct seg_purge_result *res, size_t *ncons, struct sl_err *err)
{
	struct seg_consumer *cv = NULL;
	struct seg_fact *fv = NULL;
	size_t cn = 0, fn = 0, i;
	uint64_t total = 0, limit = UINT64_MAX, now = (uint64_t)time(NULL);
	int rc;

	memset(res, 0, sizeof(*res));
	*ncons = 0;
	res->why = "nothing to remove";
	if ((rc = seg_consumer_list(dir, &cv, &cn, err)))
		goto out;
	*ncons = cn;
	if (!cn && keep_chain) {
		/* nothing can go: spare the footer reads (capture asks often) */
		res->why = "no consumer is registered";
		goto out;
	}
	if ((rc = facts(dir, &fv, &fn, NULL, err)))
		goto out;
	if (!cn && !o->force) {
		res->why = "no consumer is registered (use --force to purge anyway)";
		goto count;
	}
	if (!o->force)
		for (i = 0; i < cn; i++)
			if (cv[i].cur.seq < limit)
				limit = cv[i].cur.seq;	/* segments below it are passed */
	for (i = 0; i < fn; i++)
		total += fv[i].size;
	for (i = 0; i + 1 < fn; i++) {	/* never the newest */
		const struct seg_fact *f = &fv[i];
		char *path;

		if (!f->sealed) {
			res->why = "the next segment is open";
			break;
		}
		if (keep_chain && i + 2 == fn && !fv[fn - 1].sealed) {
			res->why = "the open segment chains to the newest sealed one";
			break;
		}
		if (f->seq >= limit) {
			res->why = "a consumer has not passed the next segment";
			break;
		}
		if (o->keep_bytes && total - f->size < o->keep_bytes) {
			res->why = "--keep-bytes keeps the rest";
			break;
		}
		if (o->keep_age_s && f->last_time + o->keep_age_s > now) {
			res->why = "--keep-age keeps the rest";
			break;
		}
		path = seg__path(dir, f->seq, 1);
		if (!o->dry_run && unlink(path) < 0) {
			int e = errno;
			rc = sl_err_set(err, -e, "cannot remove '%s': %s", path, strerror(e));
			free(path);
			break;
		}
		sl_log(SL_INFO, "store", "%s '%s' (%" PRIu64 " bytes)", o->dry_run ? "would remove" : "removed",
		       path, f->size);
		free(path);
		res->removed++;
		res->removed_bytes += f->size;
		total -= f->size;
	}
	if (i + 1 >= fn && fn)
		res->why = "only the newest segment is left";
	if (res->removed && !o->dry_run) {
		int rc2 = seg__fsync_dir(dir, rc ? NULL : err);

		if (!rc)
			rc = rc2;
	}
count:
	for (i = res->removed; i < fn; i++) {
		res->kept++;
		res->kept_bytes += fv[i].size;
		if (!res->first_kept_seq)
			res->first_kept_seq = fv[i].seq;
	}
out:
	free(cv);
	free(fv);
	return rc;
}

int seg_purge(const char *dir, const struct seg_purge_opts *o, struct seg_purge_result *res,
	      struct sl_err *err)
{
	size_t n;

	return purge(dir, o, 0, res, &n, err);
}

int seg_retain(const char *dir, uint64_t keep_bytes, uint64_t keep_age_s,
	       struct seg_purge_result *res, size_t *consumers, struct sl_err *err)
{
	struct seg_purge_opts o = { .keep_bytes = keep_bytes, .keep_age_s = keep_age_s };

	return purge(dir, &o, 1, res, consumers, err);
}

int seg_status(const char *dir, struct seg_status *st, struct sl_err *err)
{
	struct seg_consumer *cv = NULL;
	struct seg_fact *fv = NULL;
	size_t cn = 0, fn = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = facts(dir, &fv, &fn, st, err)) || (rc = seg_consumer_list(dir, &cv, &cn, err)))
		goto out;
	for (size_t i = 0; i < fn; i++) {
		st->segments++;
		st->sealed += fv[i].sealed;
		st->bytes += fv[i].size;
		st->transactions += fv[i].transactions;
		st->account_statements += fv[i].account_statements;
		st->replayed_transactions += fv[i].replayed_transactions;
		st->replayed_ddls += fv[i].replayed_ddls;
		if (!st->first_seq)
			st->first_seq = fv[i].seq;
		st->last_seq = fv[i].seq;
	}
	st->consumers = sl_xcalloc(cn ? cn : 1, sizeof(*st->consumers));
	st->nconsumers = cn;
	for (size_t k = 0; k < cn; k++) {
		struct seg_consumer_lag *lg = &st->consumers[k];

		lg->c = cv[k];
		lg->secs = st->head_time > cv[k].txn_time && cv[k].txn_time ? st->head_time - cv[k].txn_time : 0;
		/* gone: the segment it needs next was removed. A consumer that
		 * applied nothing (seq 0) needs segment 1; one at a cursor needs
		 * that cursor's segment (replay reads on from there). */
		if (!fn || (cv[k].cur.seq ? cv[k].cur.seq : 1) < fv[0].seq) {
			lg->gone = fn > 0;
			continue;
		}
		for (size_t i = 0; i < fn; i++) {
			/* offset 0 stands before segment seq's first record (ship's cursor) */
			if (fv[i].seq > cv[k].cur.seq || (fv[i].seq == cv[k].cur.seq && !cv[k].cur.offset)) {
				lg->txns += fv[i].transactions;
				lg->bytes += fv[i].size;
			} else if (fv[i].seq == cv[k].cur.seq) {
				char *path = seg__path(dir, fv[i].seq, fv[i].sealed);
				uint64_t size = 0, n = 0, t = 0;
				int fd = -1;
				struct sl_err e = SL_ERR_INIT;

				if (!seg__open_regular(path, 0, &fd, &size, &e) &&
				    !seg__count_after(fd, path, size, cv[k].cur.offset, cv[k].cur.index,
						      &n, &t, &e))
					lg->txns += n;
				lg->bytes += size > cv[k].cur.offset ? size - cv[k].cur.offset : 0;
				if (fd >= 0)
					close(fd);
				free(path);
			}
		}
		/* nothing left to apply: no lag, however far the head's time has
		 * moved on (capture writes a heartbeat every 2 s on an idle source) */
		if (!lg->txns)
			lg->secs = 0;
	}
out:
	free(cv);
	free(fv);
	if (rc)
		seg_status_release(st);
	return rc;
}

void seg_status_release(struct seg_status *st)
{
	if (!st)
		return;
	free(st->source);
	fmt_position_free(st->head);
	free(st->consumers);
	memset(st, 0, sizeof(*st));
}
