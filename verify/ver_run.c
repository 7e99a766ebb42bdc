/* ver_run.c - one verification: connections, workers over the tables, rechecks, fix, reports. */
#include "ver_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "banned.h"

struct run {
	const struct ver_opts *o;
	struct sl_dsn sd, dd;
	struct ver_tables tt;
	struct ver_diffs diffs;
	pthread_mutex_t mu;
	size_t next, done;
	int crc, table_checksum;
	pthread_cond_t ready_cv;
	int ready;		/* under mu: tables, crc, table_checksum are set */
	int stop;		/* ver__stopped()/ver__stop() */
	struct sl_err first;	/* the first worker error */
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *worker(void *arg)
{
	struct run *r = arg;
	struct ver_conn src = { 0 }, dst = { 0 };
	struct ver_ctx x;

	sl_block_stop_signals();
	struct sl_err err = SL_ERR_INIT;
	int rc;

	/* connect while the main thread reads the schemas, then wait for them */
	if ((rc = ver__conn_open(&src, &r->sd, "source", &err)) ||
	    (rc = ver__conn_open(&dst, &r->dd, "destination", &err)))
		goto out;
	pthread_mutex_lock(&r->mu);
	while (!r->ready && !ver__stopped(&r->stop))
		pthread_cond_wait(&r->ready_cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	x = (struct ver_ctx){ r->o, &r->diffs, r->crc, r->table_checksum, &r->stop };
	for (;;) {
		size_t i;

		pthread_mutex_lock(&r->mu);
		i = r->next < r->tt.n && !ver__stopped(&r->stop) ? r->next++ : (size_t)-1;
		pthread_mutex_unlock(&r->mu);
		if (i == (size_t)-1)
			break;
		if ((rc = ver__table_check(&x, &r->tt.v[i], &src, &dst, &err))) {
			sl_err_prefix(&err, "%s", r->tt.v[i].sq);
			goto out;
		}
		__atomic_add_fetch(&r->done, 1, __ATOMIC_RELAXED);
	}
out:
	if (rc) {
		pthread_mutex_lock(&r->mu);
		if (!r->first.code)
			r->first = err;
		ver__stop(&r->stop);
		pthread_mutex_unlock(&r->mu);
	}
	ver__conn_close(&src);
	ver__conn_close(&dst);
	return NULL;
}

struct opener {
	struct ver_conn *c;
	const struct sl_dsn *d;
	int rc;
	struct sl_err err;
};

static void *open_dest(void *arg)
{
	struct opener *op = arg;

	op->rc = ver__conn_open(op->c, op->d, "destination", &op->err);
	return NULL;
}

/* Opens both connections at the same time (the destination's on a thread). */
static int open_both(struct run *r, struct ver_conn *src, struct ver_conn *dst, struct sl_err *err)
{
	struct opener op = { dst, &r->dd, 0, SL_ERR_INIT };
	pthread_t th;
	int threaded = !pthread_create(&th, NULL, open_dest, &op), rc;

	if (!threaded)
		open_dest(&op);
	rc = ver__conn_open(src, &r->sd, "source", err);
	if (threaded)
		pthread_join(th, NULL);
	if (!rc && op.rc) {
		*err = op.err;
		rc = op.rc;
	}
	return rc;
}

/* Lets the workers start on the tables (or stop, when stop is set). */
static void set_ready(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	r->ready = 1;
	pthread_cond_broadcast(&r->ready_cv);
	pthread_mutex_unlock(&r->mu);
}

/* 1 when the server has CRC32C (MariaDB 10.8+) and computes the row hash's
 * crc form as written (ver_hash_check_sql()), else 0: MD5. */
static int detect_crc(struct ver_conn *c)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ok = 0;

	ver_hash_check_sql(&q);
	if (!mysql_real_query(c->db, sl_buf_cstr(&q), q.len) && (res = mysql_store_result(c->db))) {
		ok = (row = mysql_fetch_row(res)) && row[0] && !strcmp(row[0], "3");
		mysql_free_result(res);
	}
	sl_buf_release(&q);
	return ok;
}

/* Same flavor (MariaDB or not) and the same major.minor: CHECKSUM TABLE sums compare. */
static int same_server(struct ver_conn *a, struct ver_conn *b)
{
	const char *va = mysql_get_server_info(a->db), *vb = mysql_get_server_info(b->db);
	const char *da, *db;

	if (!va || !vb || (strstr(va, "MariaDB") != NULL) != (strstr(vb, "MariaDB") != NULL))
		return 0;
	da = strchr(va, '.');
	db = strchr(vb, '.');
	if (!da || !db || !(da = strchr(da + 1, '.')) || !(db = strchr(db + 1, '.')))
		return 0;
	return da - va == db - vb && !strncmp(va, vb, (size_t)(da - va));
}

static void progress(struct run *r, uint64_t t0, int final)
{
	uint64_t rows = 0, chunks = 0;

	for (size_t i = 0; i < r->tt.n; i++) {
		rows += __atomic_load_n(&r->tt.v[i].rows_src, __ATOMIC_RELAXED);
		chunks += __atomic_load_n(&r->tt.v[i].chunks, __ATOMIC_RELAXED);
	}
	fprintf(stderr, "\rverify: tables %zu/%zu  chunks %" PRIu64 "  rows %" PRIu64 "  differences %zu  %.1fs   %s",
		__atomic_load_n(&r->done, __ATOMIC_RELAXED), r->tt.n, chunks, rows, ver__diffs_count(&r->diffs),
		(double)(sl_now_ms() - t0) / 1000.0, final ? "\n" : "");
	fflush(stderr);
}

static long binlog_num(const char *f)
{
	const char *dot = strrchr(f, '.');

	return dot ? strtol(dot + 1, NULL, 10) : 0;
}

/* --dir: wait until replay's checkpoint has passed the source's current binlog position. */
static int wait_checkpoint(struct run *r, struct ver_conn *src, struct ver_conn *dst,
			   struct sl_err *err)
{
	const struct ver_opts *o = r->o;
	MYSQL_RES *res;
	MYSQL_ROW row;
	char file[256] = "";
	uint64_t pos = 0, deadline = sl_now_ms() + 1000ULL * (o->checkpoint_wait_s ? o->checkpoint_wait_s : 120);
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	{
		struct db_server srv;
		char *f = NULL;

		if ((rc = db_server_detect(src->db, src->side, &srv, err)))
			return rc;
		struct sl_err e = SL_ERR_INIT;

		rc = db_binlog_status(src->db, src->side, &srv, &f, &pos, &e);
		if (rc == -SL_ECONFIG)
			return 0;	/* no binary log: nothing to wait for */
		if (rc)
			return sl_err_set(err, rc, "%s", e.msg);
		snprintf(file, sizeof(file), "%s", f);
		free(f);
	}
	sl_buf_adds(&q, "SELECT source_file, source_offset FROM `sluice`.`checkpoint`");
	if (o->consumer) {
		sl_buf_adds(&q, " WHERE consumer = ");
		ver_sql_literal(&q, VER_LIT_STR, "utf8mb4", o->consumer, strlen(o->consumer));
	}
	for (;;) {
		int passed = 0;

		if ((rc = ver__query(dst, sl_buf_cstr(&q), &res, err)))
			break;
		while ((row = mysql_fetch_row(res)))
			if (row[0] && row[1] && (binlog_num(row[0]) > binlog_num(file) ||
			    (binlog_num(row[0]) == binlog_num(file) && strtoull(row[1], NULL, 10) >= pos)))
				passed = 1;
		mysql_free_result(res);
		if (passed)
			break;
		if (sl_now_ms() > deadline || sl_stop_requested) {
			sl_log(SL_WARN, "verify", "replay's checkpoint did not pass %s:%" PRIu64
			       " in time; rechecking anyway", file, pos);
			break;
		}
		sleep_ms(100);
	}
	sl_buf_release(&q);
	return rc;
}

static size_t unresolved_rows(struct run *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->diffs.n; i++) {
		struct ver_diff *d = &r->diffs.v[i];

		if (!d->resolved && d->kind != VER_SCHEMA && d->kind != VER_MISSING_TABLE &&
		    d->kind != VER_EXTRA_TABLE)
			n++;
	}
	return n;
}

static int recheck_all(struct run *r, struct ver_conn *src, struct ver_conn *dst,
		       struct sl_err *err)
{
	struct ver_ctx x = { r->o, &r->diffs, r->crc, 0, &r->stop };
	int rc = 0;

	for (size_t i = 0; i < r->diffs.n && !rc; i++)
		if (!r->diffs.v[i].resolved)
			rc = ver__recheck_one(&x, &r->diffs.v[i], src, dst, err);
	return rc;
}

static void count(struct run *r, struct ver_stats *st)
{
	memset(st->by_kind, 0, sizeof(st->by_kind));
	st->differences = 0;
	for (size_t i = 0; i < r->diffs.n; i++) {
		struct ver_diff *d = &r->diffs.v[i];
		uint64_t n = d->keyless ? (uint64_t)(d->count < 0 ? -d->count : d->count) : 1;

		if (d->resolved)
			continue;
		st->by_kind[d->kind] += n;
		st->differences += n;
	}
	st->differences += r->diffs.dropped;
}

int ver_run(const struct ver_opts *o, struct ver_stats *st, struct sl_err *err)
{
	struct run r;
	struct ver_conn src = { 0 }, dst = { 0 };
	pthread_t *th = NULL;
	unsigned nth = o->threads ? o->threads : 4, started = 0;
	uint64_t t0 = sl_now_ms();
	int rc;

	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	if (o->consumer && (rc = sl_consumer_name_check(o->consumer, err)))
		return rc;
	r.o = o;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.ready_cv, NULL);
	pthread_mutex_init(&r.diffs.mu, NULL);
	if (o->dir) {
		struct stat sb;

		if (stat(o->dir, &sb) || !S_ISDIR(sb.st_mode)) {
			rc = sl_err_set(err, -SL_EINVAL_ARG, "'%s' is not a stream directory", o->dir);
			goto out_nodsn;
		}
	}
	if ((rc = sl_dsn_parse(&r.sd, o->source_url, "SLUICE_SOURCE_PASSWORD", err)))
		goto out_nodsn;
	if ((rc = sl_dsn_parse(&r.dd, o->dest_url, "SLUICE_DEST_PASSWORD", err))) {
		sl_dsn_release(&r.sd);
		goto out_nodsn;
	}
	if ((rc = open_both(&r, &src, &dst, err)))
		goto out;
	/* the workers connect while the schemas are read (they wait for set_ready()) */
	th = sl_xcalloc(nth, sizeof(*th));
	for (int e; started < nth; started++)
		if ((e = pthread_create(&th[started], NULL, worker, &r))) {
			if (!started) {	/* fewer threads only make it slower */
				rc = sl_err_set(err, -e, "cannot start a verify thread: %s", strerror(e));
				goto out;
			}
			break;
		}
	r.crc = detect_crc(&src) && detect_crc(&dst);
	st->hash_crc = r.crc;
	r.table_checksum = !o->no_table_checksum && same_server(&src, &dst);
	if ((rc = ver__tables_load(o, &src, &dst, r.crc, &r.tt, &r.diffs, err))) {
		ver__stop(&r.stop);
		set_ready(&r);
		for (unsigned i = 0; i < started; i++)
			pthread_join(th[i], NULL);
		started = 0;
		goto out;
	}
	set_ready(&r);
	if (o->progress) {
		while (__atomic_load_n(&r.done, __ATOMIC_RELAXED) < r.tt.n && !ver__stopped(&r.stop)) {
			progress(&r, t0, 0);
			for (int i = 0; i < 5 && !ver__stopped(&r.stop); i++) {
				sleep_ms(50);
				if (sl_stop_requested)
					ver__stop(&r.stop);
			}
		}
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (o->progress)
		progress(&r, t0, 1);
	if (r.first.code) {
		*err = r.first;
		rc = err->code;
		goto out;
	}
	if (sl_stop_requested) {
		rc = sl_err_set(err, -SL_EINTR_STOP, "stopped by signal");
		goto out;
	}
	count(&r, st);
	st->found_first_pass = st->differences;
	for (unsigned k = 0; k < o->recheck && unresolved_rows(&r); k++) {
		if (o->dir)
			rc = wait_checkpoint(&r, &src, &dst, err);
		else
			sleep_ms(o->recheck_delay_ms ? o->recheck_delay_ms : 1000);
		if (rc || (rc = recheck_all(&r, &src, &dst, err)))
			goto out;
		st->rechecks_done++;
	}
	if (o->fix_sql_path || o->apply_fix) {
		if ((rc = ver__fix(o, &r.diffs, r.crc, &src, &dst, st, err)))
			goto out;
		if (o->apply_fix && (rc = recheck_all(&r, &src, &dst, err)))
			goto out;
	}
	for (size_t i = 0; i < r.diffs.n; i++)
		if (r.diffs.v[i].keyless && !r.diffs.v[i].resolved &&
		    (rc = ver__describe_keyless(&r.diffs.v[i], &src, &dst, err)))
			goto out;
	count(&r, st);
	st->tables = r.tt.n;
	for (size_t i = 0; i < r.tt.n; i++) {
		st->rows_source += r.tt.v[i].rows_src;
		st->rows_dest += r.tt.v[i].rows_dst;
		st->chunks += r.tt.v[i].chunks;
		st->chunks_differing += r.tt.v[i].chunks_diff;
	}
	st->seconds = (double)(sl_now_ms() - t0) / 1000.0;
	ver__report_human(o, st, &r.diffs, &r.tt);
	rc = ver__report_json(o, st, &r.diffs, &r.tt, err);
out:
	free(th);
	ver__conn_close(&src);
	ver__conn_close(&dst);
	ver__diffs_release(&r.diffs);
	ver__tables_release(&r.tt);
	sl_dsn_release(&r.sd);
	sl_dsn_release(&r.dd);
out_nodsn:
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.ready_cv);
	pthread_mutex_destroy(&r.diffs.mu);
	return rc;
}
