/* snap_run.c - snap_run(): connections, the consistent snapshot, definitions, then the readers and the writer until every table is in DIR/snapshot. */
#include "snap_int.h"
#include "ddl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "banned.h"

static int cmp_size(const void *a, const void *b)
{
	const struct snap_table *x = a, *y = b;

	/* largest first, so every reader starts on the big tables */
	if (x->dt->est_rows != y->dt->est_rows)
		return x->dt->est_rows > y->dt->est_rows ? -1 : 1;
	return 0;
}

static int connect_all(const struct sl_dsn *dsn, MYSQL **m, size_t n, struct sl_err *err)
{
	struct db_opts dbo = { .role = DB_ROLE_SNAPSHOT };

	for (size_t i = 0; i < n; i++) {
		int rc = db_connect(&m[i], dsn, &dbo, err);

		if (rc)
			return rc;
	}
	return 0;
}

struct run {
	struct snap_ctx c;
	struct sl_dsn dsn;
	char who[600];
	MYSQL *ctl, **m;
	size_t n;
	struct db_server srv;
	char identity[256];
	Sluice__Position p1;
	char *file, *gtid, *sdir;
	struct db_objects objs;
	struct snap_prev prev;
	struct snap_reader *rd;
	struct snap_probe probe;
};

static void run_release(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->m && r->m[i])
			mysql_close(r->m[i]);
	free(r->m);
	if (r->ctl)
		mysql_close(r->ctl);
	for (size_t i = 0; i < r->c.nt; i++)
		snap__table_release(&r->c.t[i]);
	free(r->c.t);
	free(r->rd);
	free(r->file);
	free(r->gtid);
	free(r->sdir);
	free(r->p1.flavor);
	db_objects_release(&r->objs);
	snap__prev_release(&r->prev);
	sl_dsn_release(&r->dsn);
	pthread_mutex_destroy(&r->c.mu);
	pthread_cond_destroy(&r->c.cv_ready);
	pthread_cond_destroy(&r->c.cv_written);
}

/* The tables this run reads: not finished by an earlier run; after run 1,
 * only tables that have their definition in the stream. */
static void plan_tables(struct run *r, int mariadb)
{
	struct snap_ctx *c = &r->c;

	c->t = sl_xcalloc(r->objs.ntables ? r->objs.ntables : 1, sizeof(*c->t));
	for (size_t i = 0; i < r->objs.ntables; i++) {
		const struct db_table *dt = &r->objs.tables[i];
		const struct snap_prev_table *pt = snap__prev_table(&r->prev, dt->db, dt->name);
		struct snap_table *t;

		if (r->prev.has_begin &&
		    !snap__prev_has_object(&r->prev, SLUICE__SCHEMA_OBJECT__KIND__TABLE, dt->db, dt->name, "")) {
			sl_log(SL_WARN, "snapshot", "table `%s`.`%s` is newer than the snapshot's first run: "
			       "not in this snapshot", dt->db, dt->name);
			continue;
		}
		if (pt && pt->done) {
			c->st->chunks_kept += pt->next_index;
			c->st->tables++;
			continue;
		}
		t = &c->t[c->nt];
		snap__table_init(t, dt, (uint32_t)c->nt + 1, mariadb);
		c->nt++;
		if (pt) {
			c->st->chunks_kept += pt->next_index;
			t->next_index = pt->next_index;
			if (!t->key.n && pt->had_chunks) {
				t->restart = 1;
				sl_log(SL_WARN, "snapshot", "table %s has no key: it cannot resume mid-table and "
				       "is read again from its start", t->qname);
			} else {
				t->rows_total = pt->rows;
				snap__table_resume(t, pt->next_key, pt->next_len, pt->nkey);
			}
		} else if (!t->key.n) {
			sl_log(SL_WARN, "snapshot", "table %s has no primary or unique NOT NULL key: it is "
			       "read whole, and an interrupted snapshot reads it again from its start",
			       t->qname);
		}
	}
	qsort(c->t, c->nt, sizeof(*c->t), cmp_size);
	for (size_t i = 0; i < c->nt; i++) {	/* refs follow the order; keys point back at their table */
		c->t[i].ref = (uint32_t)i + 1;
		c->t[i].def.ref = (uint32_t)i + 1;
		c->t[i].key.arg = &c->t[i];
	}
}

static int open_snapshot(struct run *r, const struct snap_opts *o, struct sl_err *err)
{
	char *sid = NULL;
	int locked = 0, rc;
	uint64_t pos = 0, t0 = sl_now_ms();

	if ((rc = db_snapshot_open(r->ctl, r->m, r->n, r->who, &r->srv, &r->file, &pos, &r->gtid,
				   &locked, err)))
		return rc;
	if ((rc = db_variable(r->ctl, r->who, "server_id", &sid, err)))
		return rc;
	sluice__position__init(&r->p1);
	r->p1.flavor = sl_xstrdup(db_binlog_flavor(&r->srv));
	r->p1.file = r->file;
	r->p1.offset = pos;
	r->p1.gtid = r->gtid;
	r->p1.server_id = sid ? (uint32_t)strtoul(sid, NULL, 10) : 0;
	free(sid);
	sl_log(SL_INFO, "snapshot", "consistent snapshot at %s:%llu%s%s on %zu connection%s (%s, %llu ms)",
	       r->file, (unsigned long long)pos, r->gtid[0] ? " gtid " : "", r->gtid, r->n,
	       r->n == 1 ? "" : "s", locked ? "FLUSH TABLES WITH READ LOCK while they opened" : "no lock",
	       (unsigned long long)(sl_now_ms() - t0));
	(void)o;
	return 0;
}

static int write_end(struct run *r, struct sl_err *err)
{
	Sluice__SnapshotEnd e = SLUICE__SNAPSHOT_END__INIT;
	Sluice__Record rec = SLUICE__RECORD__INIT;
	uint64_t rows = 0;

	for (size_t i = 0; i < r->prev.ntables; i++) {
		const struct snap_prev_table *pt = &r->prev.tables[i];
		int here = 0;

		for (size_t j = 0; j < r->c.nt && !here; j++)
			here = !strcmp(r->c.t[j].dt->db, pt->db) && !strcmp(r->c.t[j].dt->name, pt->name);
		if (!here && pt->done)
			rows += pt->rows;
	}
	for (size_t j = 0; j < r->c.nt; j++)
		rows += r->c.t[j].rows_total;
	e.position = r->prev.max_p1 && snap__pos_cmp(r->prev.max_p1, &r->p1) > 0 ? r->prev.max_p1 : &r->p1;
	e.time = (uint64_t)time(NULL);
	e.tables = (uint32_t)(r->c.st->tables + r->c.nt);
	e.rows = rows;
	rec.body_case = SLUICE__RECORD__BODY_SNAPSHOT_END;
	rec.snapshot_end = &e;
	r->c.st->tables = e.tables;
	return snap__write_unit(&r->c, &rec, err);
}

static int run_readers(struct run *r, struct sl_err *err)
{
	struct snap_ctx *c = &r->c;
	int rc, prc;

	if (c->o->max_threads_running) {
		r->probe.c = c;
		r->probe.m = r->ctl;
		r->probe.who = r->who;
		if (snap__probe_once(&r->probe) == 0 &&
		    pthread_create(&r->probe.th, NULL, snap__probe_main, &r->probe) == 0)
			r->probe.started = 1;
	}
	r->rd = sl_xcalloc(r->n, sizeof(*r->rd));
	for (size_t i = 0; i < r->n; i++) {
		r->rd[i].c = c;
		r->rd[i].m = r->m[i];
		r->rd[i].who = r->who;
		pthread_mutex_lock(&c->mu);
		c->readers++;
		pthread_mutex_unlock(&c->mu);
		if ((prc = pthread_create(&r->rd[i].th, NULL, snap__reader_main, &r->rd[i]))) {
			pthread_mutex_lock(&c->mu);
			c->readers--;
			pthread_mutex_unlock(&c->mu);
			break;
		}
		r->rd[i].started = 1;
	}
	rc = snap__writer_loop(c, err);
	for (size_t i = 0; i < r->n; i++)
		if (r->rd[i].started)
			pthread_join(r->rd[i].th, NULL);
	c->finished = 1;
	if (r->probe.started)
		pthread_join(r->probe.th, NULL);
	return rc;
}

int snap_run(const struct snap_opts *o, struct snap_stats *st, struct sl_err *err)
{
	struct run r;
	struct snap_ctx *c = &r.c;
	struct seg_writer_opts wo = { 0 };
	uint64_t t0 = sl_now_ms(), est = 0;
	int rc, all_done = 1;

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv_ready, NULL);
	pthread_cond_init(&c->cv_written, NULL);
	c->o = o;
	c->st = st;
	c->chunk_ms = o->chunk_ms ? o->chunk_ms : SNAP_DEFAULT_CHUNK_MS;
	r.sdir = sl_xasprintf("%s/snapshot", o->dir);
	if (o->dest_dialect) {	/* a bad name before anything is opened */
		enum ddl_dialect d;

		if ((rc = ddl_dialect_parse(o->dest_dialect, &d, err)))
			goto out;
	}
	if ((rc = snap__prev_read(r.sdir, &r.prev, err)))
		goto out;
	if (r.prev.has_end) {
		char at[300];

		st->already_complete = 1;
		sl_log(SL_INFO, "snapshot", "the snapshot in '%s' is complete (%u run%s, position %s): "
		       "nothing to do", r.sdir, r.prev.last_run, r.prev.last_run == 1 ? "" : "s",
		       r.prev.max_p1 ? fmt_position_str(r.prev.max_p1, at, sizeof(at)) : "?");
		goto out;
	}
	if ((rc = sl_dsn_parse(&r.dsn, o->source_url, "SLUICE_SOURCE_PASSWORD", err)))
		goto out;
	{
		char red[512];

		sl_dsn_redacted(&r.dsn, red, sizeof(red));
		snprintf(r.who, sizeof(r.who), "source %s", red);
	}
	r.n = o->threads ? o->threads : SNAP_DEFAULT_THREADS;
	r.m = sl_xcalloc(r.n, sizeof(MYSQL *));
	if ((rc = connect_all(&r.dsn, &r.ctl, 1, err)) || (rc = connect_all(&r.dsn, r.m, r.n, err)) ||
	    (rc = db_server_detect(r.ctl, r.who, &r.srv, err)) ||
	    (rc = db_source_identity(r.ctl, r.who, &r.srv, r.identity, sizeof(r.identity), err)) ||
	    (rc = open_snapshot(&r, o, err)) ||
	    (rc = db_objects_read(r.ctl, r.who, o->include, o->exclude, &r.objs, err)))
		goto out;
	if (mkdir(o->dir, 0700) && errno != EEXIST) {
		rc = sl_err_set(err, -errno, "cannot create '%s': %s", o->dir, strerror(errno));
		goto out;
	}
	wo.dir = r.sdir;
	wo.source = r.identity;
	wo.start = &r.p1;
	wo.segment_size = o->segment_size;
	wo.commit_interval_ms = 0;	/* each chunk durable before it is logged as read */
	if ((rc = seg_writer_open(&c->w, &wo, err)))
		goto out;
	c->p1 = &r.p1;
	c->run = r.prev.last_run + 1;
	st->run = c->run;
	if (!r.prev.has_begin &&
	    (rc = snap__schema_write(c, &r.objs, &r.prev, &st->schema_objects, err)))
		goto out;
	plan_tables(&r, r.srv.flavor == DB_MARIADB);
	if (getenv("SLUICE_SNAPSHOT_CHUNK_ROWS"))	/* tests: many small chunks */
		c->fixed_rows = strtoull(getenv("SLUICE_SNAPSHOT_CHUNK_ROWS"), NULL, 10);
	for (size_t i = 0; i < c->nt && c->fixed_rows; i++)
		c->t[i].chunk_rows = c->fixed_rows;
	for (size_t i = 0; i < c->nt; i++)
		est += c->t[i].dt->est_rows;
	{
		Sluice__SnapshotBegin b = SLUICE__SNAPSHOT_BEGIN__INIT;
		Sluice__Record rec = SLUICE__RECORD__INIT;

		b.position = &r.p1;
		b.time = (uint64_t)time(NULL);
		b.run = c->run;
		b.tables = (uint32_t)c->nt;
		b.estimated_rows = est;
		rec.body_case = SLUICE__RECORD__BODY_SNAPSHOT_BEGIN;
		rec.snapshot_begin = &b;
		if ((rc = snap__write_unit(c, &rec, err)))
			goto out;
	}
	sl_log(SL_INFO, "snapshot", "run %u: %zu table%s to read (about %llu rows), %llu chunk%s kept "
	       "from earlier runs, %zu reader%s", c->run, c->nt, c->nt == 1 ? "" : "s",
	       (unsigned long long)est, (unsigned long long)st->chunks_kept,
	       st->chunks_kept == 1 ? "" : "s", r.n, r.n == 1 ? "" : "s");
	st->tables_read = c->nt;
	if ((rc = run_readers(&r, err)))
		goto out;
	for (size_t i = 0; i < c->nt; i++)
		all_done &= c->t[i].done;
	if (!all_done && !sl_stop_requested) {
		for (size_t i = 0; i < c->nt; i++)
			if (!c->t[i].done)
				rc = sl_err_set(err, -SL_EBUG, "table %s: the readers ended before its last "
						"chunk (a bug; a rerun continues it)", c->t[i].qname);
		goto out;
	}
	if (!all_done) {
		rc = sl_err_set(err, -SL_EINTR_STOP, "stopped by signal with %llu chunk%s of this run "
				"written: run it again to continue", (unsigned long long)st->chunks,
				st->chunks == 1 ? "" : "s");
		goto out;
	}
	if ((rc = write_end(&r, err)) || (rc = seg_writer_seal(c->w, err)))
		goto out;
	st->seconds = (double)(sl_now_ms() - t0) / 1000.0;
	sl_log(SL_INFO, "snapshot", "snapshot complete: %llu tables, run %u read %llu rows (%.1f MB) in "
	       "%llu chunks in %.2fs", (unsigned long long)st->tables, c->run,
	       (unsigned long long)st->rows, (double)st->bytes / 1e6, (unsigned long long)st->chunks,
	       st->seconds);
out:
	if (c->w) {
		struct sl_err cerr = SL_ERR_INIT;
		int crc = seg_writer_close(c->w, rc ? &cerr : err);

		if (!rc)
			rc = crc;
	}
	run_release(&r);
	return rc;
}
