/* rep_snapshot.c - replay's snapshot phase: schema objects, then the chunks of DIR/snapshot loaded on several connections while the stream is still written, deferred indexes, and the SnapshotEnd that hands over to the change stream. */
#include "rep.h"
#include "rep_snap.h"
#include "ddl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <mysql.h>
#include "banned.h"

/*
 * One reader (the caller's thread) walks DIR/snapshot in order: the schema
 * objects first (applied on the control connection when the first
 * SnapshotBegin comes), then chunks. A chunk is buffered whole (the
 * snapshot bounds one to about 8 MiB of rows) and queued; loader threads
 * (up to REP_LOAD_WORKERS connections) take chunks of any table in any
 * order. The reader keeps a chunk's rows as the packed records they are
 * (rep_snap.h struct rep_chunk): it decodes only the other records, and
 * each loader reads its chunk's rows one at a time (fmt_rowview.c),
 * renders and drops them, so the decoding runs on the loaders in parallel,
 * no row is allocated, and the memory bound counts the bytes held. Chunk
 * buffers go back to a pool for the next chunks (no fresh pages each
 * time). Per table the reader counts chunks handed out and the loaders
 * count them done: after the table's last chunk (table_done) is done, the
 * loader that finished it adds the deferred indexes.
 *
 * Exactly once: a chunk commits with its row in `sluice`.`snapshot_chunks`
 * (rep_load.c); the rows recorded for this stream are read at the start
 * and their chunks skipped. A keyless table read again from its start
 * (SnapshotChunk.restart) is loaded alone: the reader waits until no chunk
 * of it is in flight, and chunks of it before a recorded restart are
 * skipped too. The deferred indexes are recorded the same way (chunk_index
 * DB_CHUNK_INDEXES); an ALTER that ran but was not recorded fails with
 * "duplicate key name" on a rerun, which counts as done.
 *
 * Big rows load alone. InnoDB writes a row's off-page (BLOB) columns while
 * it holds the latch of the clustered index page the row went to, a page
 * changed at the start of that write. Until the write ends that page cannot
 * be flushed, so no checkpoint passes it: when the other loaders (and an
 * index build) fill the redo log meanwhile, every writer waits for a
 * checkpoint that never comes, and the server hangs for good (LOAD DATA in
 * "Reading file", an ALTER in "Committing alter table to storage engine";
 * even KILL does not end them). So a chunk with a row of REP_LOAD_BIG_ROW
 * or more waits until no other chunk or ALTER runs and runs alone (the
 * gate below: writers share it, a big chunk takes it whole, and a waiting
 * big chunk stops new writers from starting), and it starts by writing
 * out its table's dirty pages (flush_table()): the page its row goes to
 * may hold rows of an earlier chunk, changed long ago and not flushed
 * yet (an idle page cleaner leaves them), which would hold the checkpoint
 * back by all the redo written since. A row that is more than
 * half of the destination's redo log (innodb_redo_log_capacity, or
 * innodb_log_file_size) would hang the server even alone: it is refused,
 * naming the table, the chunk and the variable to raise. And a load
 * connection waits for the server at most DB_ROLE_REPLAY_LOAD's read
 * timeout, so a server stuck anyway ends in an error naming the chunk; the
 * deferred indexes, which may take hours, run on a connection of their own.
 */

#define REP_LOAD_WORKERS 4
#define REP_LOAD_QUEUE_BYTES ((uint64_t)32 << 20)	/* held by queued chunks (packed rows) */
#define REP_LOAD_BIG_ROW ((uint64_t)1 << 20)		/* packed; loads alone (above) */
#define REP_POOL_MAX 16				/* chunk buffers kept for reuse */
#define REP_POOL_BUF ((size_t)32 << 20)		/* and at most this big each */

struct snap_table {
	char *db, *name;
	unsigned inflight;		/* chunks queued or loading */
	unsigned loading;		/* chunks loading now */
	int done_read;			/* its table_done chunk was read */
	int indexed;			/* indexes added, recorded, or none to add */
	int exclusive;			/* a restart seen: one chunk at a time */
	char *index_sql;		/* ddl_table_split()'s ALTER, or NULL */
	int64_t restart_recorded;	/* highest recorded restart chunk, -1: none */
	uint32_t run;			/* the run of its chunks (see one_run) */
	int one_run, any_chunk, keyless;
	/* the reader's only: what the destination computes (rep__dest_cols()) */
	uint8_t *drop;			/* NULL: nothing */
	size_t cols_n;			/* columns of the definition it was asked for; 0: not yet */
	uint32_t cols_ref;
};

struct snap_done {			/* a recorded chunk (or mark, db.h) */
	char *db, *name;
	uint64_t index;
	int restart;
	char *position;			/* marks: "offset:file" */
};

struct snap_job {
	struct rep_chunk c;
	struct snap_table *t;
};

struct snap {
	struct rep_ctx *x;
	char path[4096];
	char sid[33];
	struct ddl_target target;

	struct snap_table **tables;
	size_t ntables;
	struct snap_done *done;
	size_t ndone;

	pthread_mutex_t mu;
	pthread_cond_t cv;		/* a job queued or finished, or failed */
	struct snap_job *q;		/* ring of queued jobs */
	size_t qhead, qn, qcap;
	size_t qmax;			/* queued chunks at most: one per loader and one */
	uint64_t qbytes;
	int reading;			/* the reader may still queue jobs */
	int failed;
	struct sl_err err;		/* the first failure of a loader */
	int no_local;
	uint64_t chunks, rows, skipped;
	unsigned writing;		/* the gate: chunks and ALTERs running */
	unsigned big_waiting;		/* big chunks waiting to run alone */
	int big_running;		/* a big chunk runs alone */
	int binlog_off;			/* the load sessions run with sql_log_bin=0 */
	int flush_warned;		/* flush_table() refused, said once */
	uint64_t redo_cap;		/* the destination's redo log bytes, 0: unknown */

	struct rep_loader *ld;
	pthread_t *th;
	unsigned nld, started;

	Sluice__SchemaObject **objs;	/* until the first SnapshotBegin */
	size_t nobjs;
	int schema_done;
	Sluice__Position **p1;		/* by run - 1 */
	size_t np1;
	Sluice__Position *end;
	struct fmt_tables tds;
	struct rep_chunk cur;
	int in_chunk;
	struct snap_mem {		/* buffers of loaded chunks, for the next ones */
		uint8_t *raw;
		size_t raw_cap;
		size_t *off;
		size_t off_cap;
	} pool[REP_POOL_MAX];
	size_t npool;			/* guarded by mu */
	size_t raw_hint, off_hint;	/* the reader's: the largest chunk so far */
};

/* ---- chunk memory: reused, so the rows of every chunk do not land in
 * fresh pages (page faults) ---- */

/* c's buffers into the pool (or freed), then c released: with s->mu held. */
static void chunk_recycle_locked(struct snap *s, struct rep_chunk *c)
{
	if (c->raw && s->npool < REP_POOL_MAX && c->raw_cap <= REP_POOL_BUF &&
	    c->off_cap * sizeof(*c->off) <= REP_POOL_BUF) {
		s->pool[s->npool++] = (struct snap_mem){ .raw = c->raw, .raw_cap = c->raw_cap,
							 .off = c->off, .off_cap = c->off_cap };
		c->raw = NULL;
		c->off = NULL;
	}
	rep__chunk_release(c);
}

/* A new chunk in s->cur takes the largest buffers of the pool, else new
 * ones at the size of the largest chunk so far (not grown from small by
 * copies). */
static void chunk_mem(struct snap *s)
{
	struct rep_chunk *c = &s->cur;

	pthread_mutex_lock(&s->mu);
	if (s->npool) {
		size_t best = 0;

		for (size_t i = 1; i < s->npool; i++)
			if (s->pool[i].raw_cap > s->pool[best].raw_cap)
				best = i;
		c->raw = s->pool[best].raw;
		c->raw_cap = s->pool[best].raw_cap;
		c->off = s->pool[best].off;
		c->off_cap = s->pool[best].off_cap;
		s->pool[best] = s->pool[--s->npool];
	}
	pthread_mutex_unlock(&s->mu);
	if (!c->raw && s->raw_hint) {
		c->raw = sl_xmalloc(s->raw_hint);
		c->raw_cap = s->raw_hint;
		c->off = sl_xmalloc(s->off_hint * sizeof(*c->off));
		c->off_cap = s->off_hint;
	}
	c->raw_len = c->n = 0;
	c->bytes = c->raw_cap + c->off_cap * sizeof(*c->off);
}

/* ---- tables and recorded chunks ---- */

static struct snap_table *table_get(struct snap *s, const char *db, const char *name)
{
	struct snap_table *t;

	for (size_t i = 0; i < s->ntables; i++)
		if (!strcmp(s->tables[i]->db, db) && !strcmp(s->tables[i]->name, name))
			return s->tables[i];
	t = sl_xcalloc(1, sizeof(*t));
	t->db = sl_xstrdup(db);
	t->name = sl_xstrdup(name);
	t->restart_recorded = -1;
	t->one_run = 1;
	for (size_t i = 0; i < s->ndone; i++) {
		const struct snap_done *d = &s->done[i];

		if (strcmp(d->db, db) || strcmp(d->name, name))
			continue;
		if (d->index == DB_CHUNK_INDEXES)
			t->indexed = 1;
		else if (d->restart && (int64_t)d->index > t->restart_recorded)
			t->restart_recorded = (int64_t)d->index;
	}
	if (s->ntables % 64 == 0)
		s->tables = sl_xrealloc(s->tables, (s->ntables + 64) * sizeof(*s->tables));
	s->tables[s->ntables++] = t;
	return t;
}

static int chunk_recorded(const struct snap *s, const struct snap_table *t, uint64_t index)
{
	if (t->restart_recorded >= 0 && index <= (uint64_t)t->restart_recorded)
		return 1;	/* the restart, or a chunk it dropped */
	for (size_t i = 0; i < s->ndone; i++)
		if (s->done[i].index == index && !strcmp(s->done[i].db, t->db) &&
		    !strcmp(s->done[i].name, t->name))
			return 1;
	return 0;
}

static int read_done(struct snap *s, struct sl_err *err)
{
	struct rep_worker *w = &s->x->ctl;
	char sql[256];
	MYSQL_RES *res;
	MYSQL_ROW row;

	snprintf(sql, sizeof(sql), "SELECT `db`,`tbl`,`chunk_index`,`restart`,`position` FROM "
		 "`sluice`.`snapshot_chunks` WHERE `stream_id`='%s'", s->sid);
	if (mysql_real_query(w->db, sql, strlen(sql)) || !(res = mysql_store_result(w->db)))
		return rep__db_error(w, sql, err);
	while ((row = mysql_fetch_row(res))) {
		struct snap_done *d;

		if (s->ndone % 256 == 0)
			s->done = sl_xrealloc(s->done, (s->ndone + 256) * sizeof(*s->done));
		d = &s->done[s->ndone++];
		d->db = sl_xstrdup(row[0] ? row[0] : "");
		d->name = sl_xstrdup(row[1] ? row[1] : "");
		d->index = strtoull(row[2] ? row[2] : "0", NULL, 10);
		d->restart = row[3] && row[3][0] == '1';
		d->position = sl_xstrdup(row[4] ? row[4] : "");
	}
	mysql_free_result(res);
	/* the ctl connection runs with autocommit=0: end the snapshot read */
	return rep__exec(w, "COMMIT", err);
}

/* ---- schema objects ---- */

static void note_conv(void *ctx, const char *rule, const char *object, const char *what)
{
	(void)ctx;
	sl_log(SL_WARN, "replay", "%s: rule %s: %s", object, rule, what);
}

static int is_exists_error(unsigned e)
{
	/* database, table/view, routine, event exists already (a rerun) */
	return e == 1007 || e == 1050 || e == 1304 || e == 1537;
}

static int run_ddl(struct snap *s, const char *db, const char *object, const char *sql,
		   struct sl_err *err)
{
	struct rep_worker *w = &s->x->ctl;
	struct sl_buf use = SL_BUF_INIT(1024);
	char *marked = NULL;
	int rc = 0;

	if (db && db[0]) {
		if ((rc = sl_buf_adds(&use, "USE ")) || (rc = fmt_sql_ident(&use, db)) ||
		    (rc = rep__exec(w, sl_buf_cstr(&use), err)))
			goto out;
	}
	marked = rep__ddl_marked(sql);
	if ((rc = rep__ddl_beacon(w, err)))
		goto out;
	if (mysql_real_query(w->db, marked, strlen(marked))) {
		if (is_exists_error(mysql_errno(w->db))) {
			sl_log(SL_INFO, "replay", "%s exists already: kept", object);
			goto out;
		}
		rc = rep__db_error(w, sql, err);
		sl_err_prefix(err, "%s", object);
		goto out;
	}
	rc = rep__exec(w, "COMMIT", err);
out:
	free(marked);
	sl_buf_release(&use);
	return rc;
}

static int apply_table(struct snap *s, const Sluice__SchemaObject *o, const char *object,
		       const char *stmt, size_t len, struct sl_err *err)
{
	struct sl_buf base = SL_BUF_INIT((size_t)64 << 20), qname = SL_BUF_INIT(1024);
	struct ddl_list idx = { 0 }, fks = { 0 };
	struct snap_table *t;
	int rc;

	if (s->x->o->no_defer_indexes) {
		if ((rc = sl_buf_add(&base, stmt, len)))
			goto out;
		pthread_mutex_lock(&s->mu);	/* the loaders walk s->tables */
		table_get(s, o->db, o->name)->indexed = 1;
		pthread_mutex_unlock(&s->mu);
	} else {
		if ((rc = fmt_sql_ident(&qname, o->db)) || (rc = sl_buf_addc(&qname, '.')) ||
		    (rc = fmt_sql_ident(&qname, o->name)))
			goto out;
		if ((rc = ddl_table_split(stmt, len, sl_buf_cstr(&qname), &base, &idx, &fks, err)))
			goto out;
		pthread_mutex_lock(&s->mu);
		t = table_get(s, o->db, o->name);
		if (idx.n && !t->indexed) {
			free(t->index_sql);
			t->index_sql = sl_xstrdup(idx.v[0]);
		} else if (!idx.n) {
			t->indexed = 1;
		}
		pthread_mutex_unlock(&s->mu);
		if (fks.n)
			sl_log(SL_INFO, "replay", "%s: %zu foreign keys left for switchover", object, fks.n);
	}
	rc = run_ddl(s, o->db, object, sl_buf_cstr(&base), err);
out:
	if (rc && !err->code)
		rc = sl_err_set(err, rc, "%s: %s", object, sl_strerror(rc));
	ddl_list_release(&idx);
	ddl_list_release(&fks);
	sl_buf_release(&base);
	sl_buf_release(&qname);
	return rc;
}

static int apply_object(struct snap *s, const Sluice__SchemaObject *o, struct sl_err *err)
{
	struct sl_buf conv = SL_BUF_INIT((size_t)64 << 20);
	char *object = fmt_schema_object_label(o->kind, o->db, o->name, o->table);
	int rc;

	if ((rc = ddl_convert(&s->target, object, o->statement, strlen(o->statement), &conv,
			      note_conv, NULL, err)))
		goto out;
	if (o->kind == SLUICE__SCHEMA_OBJECT__KIND__TABLE) {
		rc = apply_table(s, o, object, (const char *)conv.data, conv.len, err);
	} else if (o->sql_mode && o->sql_mode[0]) {
		/* a routine's body is parsed and runs under the sql_mode it was
		 * created with (|| concatenates under PIPES_AS_CONCAT) */
		struct sl_err e2 = SL_ERR_INIT;
		int rc2;

		rc = db_set_sql_mode(s->x->ctl.db, s->x->ctl.dest, o->sql_mode, err);
		if (!rc)
			rc = run_ddl(s, o->db, object, sl_buf_cstr(&conv), err);
		rc2 = rep__exec(&s->x->ctl, "SET SESSION sql_mode='" REP_SESSION_SQL_MODE "'", &e2);
		if (rc2 && !rc) {
			*err = e2;
			rc = rc2;
		}
	} else {
		rc = run_ddl(s, o->kind == SLUICE__SCHEMA_OBJECT__KIND__DATABASE ? NULL : o->db, object,
			     sl_buf_cstr(&conv), err);
	}
out:
	sl_buf_release(&conv);
	free(object);
	return rc;
}

/* Databases, tables, routines, then views (after every table), each group
 * in the stream's creation order. Deferred objects and events wait for
 * switchover. */
static int apply_schema(struct snap *s, struct sl_err *err)
{
	static const Sluice__SchemaObject__Kind pass[] = {
		SLUICE__SCHEMA_OBJECT__KIND__DATABASE, SLUICE__SCHEMA_OBJECT__KIND__TABLE,
		SLUICE__SCHEMA_OBJECT__KIND__ROUTINE, SLUICE__SCHEMA_OBJECT__KIND__VIEW,
	};
	size_t deferred = 0, n = 0;
	int rc;

	s->schema_done = 1;
	for (size_t p = 0; p < sizeof(pass) / sizeof(pass[0]); p++) {
		/* by order (stable: objects with equal order keep stream order) */
		for (;;) {
			const Sluice__SchemaObject *best = NULL;
			size_t bi = 0;

			for (size_t i = 0; i < s->nobjs; i++) {
				const Sluice__SchemaObject *o = s->objs[i];

				if (!o || o->kind != pass[p] || o->deferred)
					continue;
				if (!best || o->order < best->order) {
					best = o;
					bi = i;
				}
			}
			if (!best)
				break;
			if ((rc = apply_object(s, best, err)))
				return rc;
			sluice__schema_object__free_unpacked(s->objs[bi], NULL);
			s->objs[bi] = NULL;
			n++;
		}
	}
	for (size_t i = 0; i < s->nobjs; i++) {
		if (!s->objs[i])
			continue;
		if (s->objs[i]->deferred || s->objs[i]->kind == SLUICE__SCHEMA_OBJECT__KIND__EVENT)
			deferred++;
		sluice__schema_object__free_unpacked(s->objs[i], NULL);
		s->objs[i] = NULL;
	}
	s->nobjs = 0;
	sl_log(SL_INFO, "replay", "snapshot schema: %zu objects applied, %zu left for switchover "
	       "(foreign keys, triggers, events)", n, deferred);
	return 0;
}

/* ---- loaders ---- */

/* On a connection of its own (the control role's read timeout: an index
 * build may take hours, a load connection gives up much sooner). */
static int add_indexes(struct snap *s, struct snap_table *t, struct sl_err *err)
{
	struct sl_buf sql = SL_BUF_INIT((size_t)1 << 20);
	struct rep_worker w = { 0 };
	uint64_t t0 = sl_now_ms();
	char *marked = NULL;
	int rc;

	if ((rc = rep__conn_open(&w, s->x->o->dest_url, err))) {
		sl_err_prefix(err, "deferred indexes of `%s`.`%s`", t->db, t->name);
		goto out;
	}
	if (s->binlog_off && (rc = rep__exec(&w, "SET SESSION sql_log_bin=0", err)))
		goto out;
	marked = rep__ddl_marked(t->index_sql);
	if (mysql_real_query(w.db, marked, strlen(marked))) {
		if (mysql_errno(w.db) != 1061) {	/* ER_DUP_KEYNAME: ran, not recorded */
			rc = rep__db_error(&w, t->index_sql, err);
			sl_err_prefix(err, "deferred indexes of `%s`.`%s`", t->db, t->name);
			goto out;
		}
	}
	if ((rc = sl_buf_addf(&sql, "INSERT IGNORE INTO `sluice`.`snapshot_chunks` (`stream_id`,`db`,"
			      "`tbl`,`chunk_index`,`run`,`rows`) VALUES ('%s',", s->sid)) ||
	    (rc = fmt_sql_str(&sql, t->db)) || (rc = sl_buf_addc(&sql, ',')) ||
	    (rc = fmt_sql_str(&sql, t->name)) ||
	    (rc = sl_buf_addf(&sql, ",%" PRIu64 ",0,0);COMMIT", (uint64_t)DB_CHUNK_INDEXES)))
		goto out;
	rc = rep__exec(&w, sl_buf_cstr(&sql), err);
	if (!rc)
		sl_log(SL_INFO, "replay", "`%s`.`%s`: deferred indexes added in %.2f s", t->db, t->name,
		       (double)(sl_now_ms() - t0) / 1000.0);
out:
	free(marked);
	rep__conn_close(&w);
	sl_buf_release(&sql);
	return rc;
}

/* Before a big chunk (alone): the table's dirty pages written out (FLUSH
 * TABLES .. FOR EXPORT), so the page its row goes to was changed no
 * earlier than the row itself and the checkpoint can follow the row's
 * writing. Without the privilege (RELOAD, LOCK TABLES) it says so once and
 * goes on. */
static void flush_table(struct snap *s, struct rep_loader *l, const struct rep_chunk *c)
{
	struct sl_buf q = SL_BUF_INIT(1024);
	struct sl_err e = SL_ERR_INIT;

	if (sl_buf_adds(&q, "FLUSH TABLES ") || rep__sql_table(&q, c->td) ||
	    sl_buf_adds(&q, " FOR EXPORT"))
		goto out;
	if (rep__exec(&l->w, sl_buf_cstr(&q), &e)) {
		pthread_mutex_lock(&s->mu);
		if (!s->flush_warned)
			sl_log(SL_WARN, "replay", "cannot write out the pages of `%s`.`%s` before its "
			       "rows of %" PRIu64 " bytes and more (%s): with a small redo log the "
			       "destination may stall on them (grant RELOAD and LOCK TABLES)", c->db,
			       c->table, (uint64_t)REP_LOAD_BIG_ROW, e.msg);
		s->flush_warned = 1;
		pthread_mutex_unlock(&s->mu);
		goto out;
	}
	if (rep__exec(&l->w, "UNLOCK TABLES", &e))
		sl_log(SL_WARN, "replay", "%s", e.msg);
out:
	sl_buf_release(&q);
}

/* ---- the gate (above): with s->mu held ---- */

static int is_big(const struct rep_chunk *c)
{
	return c->maxrow >= REP_LOAD_BIG_ROW;
}

/* 0 when in; -1 when the load failed meanwhile (not in). */
static int gate_enter(struct snap *s, int big)
{
	if (big) {
		s->big_waiting++;
		while (!s->failed && (s->writing || s->big_running))
			pthread_cond_wait(&s->cv, &s->mu);
		s->big_waiting--;
		if (s->failed) {
			pthread_cond_broadcast(&s->cv);
			return -1;
		}
		s->big_running = 1;
		return 0;
	}
	while (!s->failed && (s->big_running || s->big_waiting))
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->failed)
		return -1;
	s->writing++;
	return 0;
}

static void gate_leave(struct snap *s, int big)
{
	if (big)
		s->big_running = 0;
	else
		s->writing--;
	pthread_cond_broadcast(&s->cv);
}

/* With s->mu held: the table's indexes are due now (and claimed). */
static int index_due(struct snap_table *t)
{
	if (t->indexed || !t->done_read || t->inflight || !t->index_sql)
		return 0;
	t->indexed = 1;
	return 1;
}

static void fail_locked(struct snap *s, const struct sl_err *e)
{
	if (!s->failed) {
		s->failed = 1;
		s->err = *e;
	}
	pthread_cond_broadcast(&s->cv);
}

struct loader_arg {
	struct snap *s;
	struct rep_loader *l;
};

/* Builds t's deferred indexes, called with s->mu held and the gate entered
 * (gate_enter(s, 0)): the ALTER runs without the lock, then the gate is
 * left and the other loaders are woken. */
static void index_locked(struct snap *s, struct snap_table *t)
{
	struct sl_err e = SL_ERR_INIT;
	int rc;

	pthread_mutex_unlock(&s->mu);
	rc = add_indexes(s, t, &e);
	pthread_mutex_lock(&s->mu);
	gate_leave(s, 0);
	if (rc)
		fail_locked(s, &e);
	pthread_cond_broadcast(&s->cv);
}

/*
 * With s->mu held and a job queued: the next job for a loader, the first
 * queued one of a table no loader is loading, else the oldest. Two sessions
 * inserting into one InnoDB table take hardly less time than one (they
 * queue on the index's latches at every page split), so the loaders keep to
 * different tables while the queue offers them (the snapshot's readers
 * interleave the tables in the stream for that). Chunks of a table load in
 * any order.
 */
static void take_job(struct snap *s, struct snap_job *j)
{
	size_t pick = 0;

	for (size_t k = 0; k < s->qn; k++)
		if (!s->q[(s->qhead + k) % s->qcap].t->loading) {
			pick = k;
			break;
		}
	if (pick) {
		struct snap_job *a = &s->q[s->qhead], *b = &s->q[(s->qhead + pick) % s->qcap], tmp = *a;

		*a = *b;
		*b = tmp;
	}
	*j = s->q[s->qhead];
	s->qhead = (s->qhead + 1) % s->qcap;
}

static void *loader_main(void *arg)
{
	struct loader_arg *a = arg;
	struct snap *s = a->s;
	struct rep_loader *l = a->l;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct snap_job j;
		struct sl_err e = SL_ERR_INIT;
		int rc, due = 0, big;

		/* a chunk; else an index that is due (a table's last chunk was
		 * skipped, or done by a loader that is gone); else wait */
		while (!s->failed && !s->qn) {
			for (size_t i = 0; !due && i < s->ntables; i++)
				if (index_due(s->tables[i])) {
					due = 1;
					j.t = s->tables[i];
				}
			if (due || !s->reading)
				break;
			pthread_cond_wait(&s->cv, &s->mu);
		}
		if (due) {
			if (!gate_enter(s, 0))
				index_locked(s, j.t);
			continue;
		}
		if (s->failed || !s->qn)
			break;
		take_job(s, &j);
		s->qn--;
		s->qbytes -= j.c.bytes;
		pthread_cond_broadcast(&s->cv);
		big = is_big(&j.c);
		if (gate_enter(s, big)) {
			j.t->inflight--;
			chunk_recycle_locked(s, &j.c);
			continue;
		}
		j.t->loading++;
		pthread_mutex_unlock(&s->mu);

		if (big)
			flush_table(s, l, &j.c);
		rc = rep__load_chunk(l, &j.c, &e);

		pthread_mutex_lock(&s->mu);
		gate_leave(s, big);
		j.t->loading--;
		j.t->inflight--;
		if (rc < 0) {
			fail_locked(s, &e);
		} else {
			s->chunks += rc == 0;
			s->rows += rc == 0 ? j.c.n : 0;
			s->skipped += rc == 1;
			due = index_due(j.t);
		}
		pthread_cond_broadcast(&s->cv);
		chunk_recycle_locked(s, &j.c);
		if (due && !gate_enter(s, 0))
			index_locked(s, j.t);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int start_loaders(struct snap *s, struct loader_arg *args, struct sl_err *err)
{
	const struct rep_opts *o = s->x->o;
	unsigned n = o->workers ? o->workers : REP_LOAD_WORKERS;
	int rc;

	if (n > REP_LOAD_WORKERS)
		n = REP_LOAD_WORKERS;
	s->ld = sl_xcalloc(n, sizeof(*s->ld));
	s->th = sl_xcalloc(n, sizeof(*s->th));
	s->nld = n;
	/* a chunk ready for each loader when it finishes one, and a choice of
	 * tables (take_job()): more queued would only hold memory (the reader
	 * is the faster side) */
	s->qmax = 2 * n < s->qcap ? 2 * n : s->qcap;
	for (unsigned i = 0; i < n; i++) {
		struct rep_loader *l = &s->ld[i];

		memcpy(l->sid, s->sid, sizeof(l->sid));
		l->no_local = &s->no_local;
		l->mu = &s->mu;
		if ((rc = rep__loader_open(l, o->dest_url, s->x->consumer, i + 1, err)))
			return rc;
	}
	/* the load skips the destination's binlog when the account may */
	if (mysql_real_query(s->ld[0].w.db, "SET SESSION sql_log_bin=0", 25)) {
		sl_log(SL_WARN, "replay", "cannot turn the binary log off for the load (%s): the loaded "
		       "rows go to the destination's binlog too (grant SUPER or BINLOG ADMIN to skip it)",
		       mysql_error(s->ld[0].w.db));
	} else {
		for (unsigned i = 1; i < n; i++)
			if (mysql_real_query(s->ld[i].w.db, "SET SESSION sql_log_bin=0", 25))
				return rep__db_error(&s->ld[i].w, "SET SESSION sql_log_bin=0", err);
		s->binlog_off = 1;
		sl_log(SL_INFO, "replay", "load sessions skip the destination's binlog (sql_log_bin=0): "
		       "replicas of the destination do not get the loaded rows");
	}
	for (unsigned i = 0; i < n; i++) {
		args[i].s = s;
		args[i].l = &s->ld[i];
		if ((rc = pthread_create(&s->th[i], NULL, loader_main, &args[i])))
			return sl_err_set(err, -rc, "cannot start a load thread: %s", strerror(rc));
		s->started++;
	}
	return 0;
}

static void stop_loaders(struct snap *s)
{
	pthread_mutex_lock(&s->mu);
	s->reading = 0;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (unsigned i = 0; i < s->started; i++)
		pthread_join(s->th[i], NULL);
	for (unsigned i = 0; i < s->nld; i++)
		rep__loader_close(&s->ld[i]);
	free(s->ld);
	free(s->th);
	s->ld = NULL;
	s->th = NULL;
	s->nld = s->started = 0;
}

/* ---- reading DIR/snapshot ---- */

/* Hand the chunk in s->cur to the loaders (or skip it). */
static int queue_chunk(struct snap *s, struct sl_err *err)
{
	struct rep_chunk *c = &s->cur;
	struct snap_table *t;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	t = table_get(s, c->db, c->table);
	if (t->any_chunk && t->run != c->run)
		t->one_run = 0;
	if (c->restart)
		t->one_run = 1;		/* read whole again by this run */
	t->run = c->run;
	t->any_chunk = 1;
	t->keyless = !c->td->n_primary_key;
	if (c->table_done)
		t->done_read = 1;
	if (chunk_recorded(s, t, c->index)) {
		s->skipped++;
		pthread_cond_broadcast(&s->cv);	/* maybe an index is due */
		chunk_recycle_locked(s, c);
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	if (s->redo_cap && c->maxrow > s->redo_cap / 2) {
		rc = sl_err_set(err, -SL_EAPPLY, "chunk %" PRIu64 " of `%s`.`%s` holds a row of %" PRIu64
				" bytes, more than half of the destination's redo log (%" PRIu64 " bytes): "
				"InnoDB cannot checkpoint while it writes such a row and the server would "
				"hang; raise innodb_redo_log_capacity (MySQL) or innodb_log_file_size "
				"(MariaDB) on the destination", c->index, c->db, c->table, c->maxrow,
				s->redo_cap);
		pthread_mutex_unlock(&s->mu);
		rep__chunk_release(c);
		return rc;
	}
	if (c->restart)
		t->exclusive = 1;
	/* bounded memory; a restarted table one chunk at a time */
	while (!s->failed && (s->qn >= s->qmax || (s->qn && s->qbytes + c->bytes > REP_LOAD_QUEUE_BYTES) ||
			      (t->exclusive && t->inflight)))
		pthread_cond_wait(&s->cv, &s->mu);
	if (s->failed) {
		*err = s->err;
		rc = err->code ? err->code : -SL_EAPPLY;
		pthread_mutex_unlock(&s->mu);
		rep__chunk_release(c);
		return rc;
	}
	s->q[(s->qhead + s->qn) % s->qcap] = (struct snap_job){ .c = *c, .t = t };
	s->qn++;
	s->qbytes += c->bytes;
	t->inflight++;
	memset(c, 0, sizeof(*c));
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* The columns of s->cur's table the destination computes (generated
 * columns): asked once per table definition, on the control connection
 * (the reader's; the table exists since the schema was applied). */
static int chunk_drop(struct snap *s, struct sl_err *err)
{
	struct rep_chunk *c = &s->cur;
	struct snap_table *t;
	int32_t start, end;
	int n;

	pthread_mutex_lock(&s->mu);
	t = table_get(s, c->db, c->table);
	pthread_mutex_unlock(&s->mu);
	if (t->cols_n != c->td->n_columns + 1 || t->cols_ref != c->td->ref) {
		free(t->drop);
		t->drop = sl_xcalloc(c->td->n_columns + 1, 1);
		n = rep__dest_cols(&s->x->ctl, c->db, c->table, c->td, t->drop, &start, &end, err);
		if (n < 0)
			return n;
		if (!n) {
			free(t->drop);
			t->drop = NULL;
		} else {
			sl_log(SL_INFO, "replay", "`%s`.`%s`: %d columns the destination computes "
			       "(generated or period columns) left out of the load", c->db, c->table, n);
		}
		t->cols_n = c->td->n_columns + 1;
		t->cols_ref = c->td->ref;
	}
	if (t->drop) {
		c->drop = sl_xcalloc(c->td->n_columns + 1, 1);
		memcpy(c->drop, t->drop, c->td->n_columns);
	}
	return 0;
}

/* A record other than a row (snap_row()), decoded: kept where it says. */
static int snap_record(struct snap *s, Sluice__Record *rec, const struct seg_cursor *cur,
		       struct sl_err *err)
{
	char where[4400];

	snprintf(where, sizeof(where), "'%s' segment %" PRIu64 " offset %" PRIu64 " record %" PRIu32,
		 s->path, cur->seq, cur->offset, cur->index);
	switch (rec->body_case) {
	case SLUICE__RECORD__BODY_SCHEMA:
		if (s->schema_done)
			return sl_err_set(err, -SL_ECORRUPT, "schema object after the first snapshot "
					  "run at %s", where);
		if (s->nobjs % 64 == 0)
			s->objs = sl_xrealloc(s->objs, (s->nobjs + 64) * sizeof(*s->objs));
		s->objs[s->nobjs++] = rec->schema;
		rec->schema = NULL;
		rec->body_case = SLUICE__RECORD__BODY__NOT_SET;
		return 0;
	case SLUICE__RECORD__BODY_SNAPSHOT_BEGIN: {
		const Sluice__SnapshotBegin *b = rec->snapshot_begin;
		int rc;

		if (!s->schema_done && (rc = apply_schema(s, err)))
			return rc;
		if (b->run >= 1 && b->run <= 100000 && b->position) {
			if (b->run > s->np1) {
				s->p1 = sl_xrealloc(s->p1, b->run * sizeof(*s->p1));
				memset(s->p1 + s->np1, 0, (b->run - s->np1) * sizeof(*s->p1));
				s->np1 = b->run;
			}
			if (s->p1[b->run - 1])
				fmt_position_free(s->p1[b->run - 1]);
			s->p1[b->run - 1] = fmt_position_dup(b->position);
		}
		return 0;
	}
	case SLUICE__RECORD__BODY_TABLE:
		fmt_tables_put(&s->tds, rec->table);
		return 0;
	case SLUICE__RECORD__BODY_CHUNK: {
		const Sluice__SnapshotChunk *ch = rec->chunk;
		const Sluice__TableDef *td = fmt_tables_get(&s->tds, ch->table_ref);

		if (s->in_chunk)
			return sl_err_set(err, -SL_ECORRUPT, "chunk inside a chunk at %s", where);
		if (!td)
			return sl_err_set(err, -SL_ECORRUPT, "chunk of unknown table ref %" PRIu32
					  " at %s", ch->table_ref, where);
		if (!s->schema_done)
			return sl_err_set(err, -SL_ECORRUPT, "chunk before any snapshot run at %s", where);
		s->cur.td = fmt_tabledef_dup(td);
		s->cur.db = sl_xstrdup(ch->db && ch->db[0] ? ch->db : td->db);
		s->cur.table = sl_xstrdup(ch->table && ch->table[0] ? ch->table : td->name);
		s->cur.index = ch->index;
		s->cur.run = ch->run;
		s->cur.restart = ch->restart;
		s->in_chunk = 1;
		chunk_mem(s);
		return chunk_drop(s, err);
	}
	case SLUICE__RECORD__BODY_CHUNK_END:
		if (!s->in_chunk)
			return sl_err_set(err, -SL_ECORRUPT, "chunk end outside a chunk at %s", where);
		s->in_chunk = 0;
		if (s->cur.raw_len > s->raw_hint && s->cur.raw_len <= REP_POOL_BUF)
			s->raw_hint = s->cur.raw_len + s->cur.raw_len / 8;
		if (s->cur.n + 2 > s->off_hint && (s->cur.n + 2) * sizeof(size_t) <= REP_POOL_BUF)
			s->off_hint = s->cur.n + 2 + s->cur.n / 8;
		s->cur.table_done = rec->chunk_end->table_done;
		s->cur.rows = rec->chunk_end->rows;
		if (s->cur.rows != s->cur.n)
			return sl_err_set(err, -SL_ECORRUPT, "chunk %" PRIu64 " of `%s`.`%s` says %"
					  PRIu64 " rows but holds %zu, at %s", s->cur.index, s->cur.db,
					  s->cur.table, s->cur.rows, s->cur.n, where);
		return queue_chunk(s, err);
	case SLUICE__RECORD__BODY_SNAPSHOT_END:
		if (rec->snapshot_end->position)
			s->end = fmt_position_dup(rec->snapshot_end->position);
		else
			s->end = sl_xcalloc(1, sizeof(*s->end)), sluice__position__init(s->end);
		return 0;
	default:
		return 0;	/* heartbeats and the like */
	}
}

/* A row record, packed: checked (an insert into the chunk's table) and
 * kept as it is, for a loader to decode. */
static int snap_row(struct snap *s, const uint8_t *body, size_t len, const struct seg_cursor *cur,
		    struct sl_err *err)
{
	struct rep_chunk *c = &s->cur;
	uint32_t ref;
	int op;
	uint64_t sz;
	size_t k;

	if (fmt_row_peek(body, len, &ref, &op))
		return sl_err_set(err, -SL_ECORRUPT, "row record does not decode at '%s' segment %"
				  PRIu64 " offset %" PRIu64 " record %" PRIu32, s->path, cur->seq,
				  cur->offset, cur->index);
	if (!s->in_chunk || op != SLUICE__ROW_CHANGE__OP__INSERT || ref != c->td->ref)
		return sl_err_set(err, -SL_ECORRUPT, "row outside its chunk, or not an insert of the "
				  "chunk's table, at '%s' segment %" PRIu64 " offset %" PRIu64 " record %"
				  PRIu32, s->path, cur->seq, cur->offset, cur->index);
	rep__chunk_add(c, body, len);
	/* the RowChange's size: the record less its tag and length */
	k = fmt_varint_get(body + 1, len - 1, &sz);
	sz = len - 1 - k;
	if (sz > c->maxrow)
		c->maxrow = sz;
	return 0;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR && !sl_stop_requested)
		;
}

static int read_stream(struct snap *s, struct sl_err *err)
{
	struct seg_reader *r = NULL;
	int rc;

	if ((rc = seg_reader_open(&r, s->path, err)))
		return rc;
	while (!s->end && !sl_stop_requested) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;
		const uint8_t *body;
		size_t len;

		rc = seg_reader_next_raw(r, &body, &len, &cur, err);
		if (rc < 0)
			break;
		if (rc == 0) {
			rc = 0;
			pthread_mutex_lock(&s->mu);
			if (s->failed) {
				*err = s->err;
				rc = err->code ? err->code : -SL_EAPPLY;
			}
			pthread_mutex_unlock(&s->mu);
			if (rc || !s->x->o->follow || sl_stop_requested)
				break;
			sleep_ms(s->x->o->poll_ms ? s->x->o->poll_ms : 20);
			continue;
		}
		/* rows stay packed (the loaders decode them); the rest is decoded */
		if (fmt_record_peek(body, len) == SLUICE__RECORD__BODY_ROW) {
			if ((rc = snap_row(s, body, len, &cur, err)))
				break;
			continue;
		}
		if ((rc = fmt_record_decode(body, len, NULL, &rec, err))) {
			sl_err_prefix(err, "'%s' segment %" PRIu64 " offset %" PRIu64 " record %" PRIu32,
				      s->path, cur.seq, cur.offset, cur.index);
			break;
		}
		rc = snap_record(s, rec, &cur, err);
		fmt_record_free(rec);
		if (rc)
			break;
	}
	seg_reader_close(r);
	return rc;
}

/* ---- a snapshot loaded whole: marks, so a rerun does not read it again ---- */

static int add_pos_mark(struct sl_buf *b, const char *sid, const char *db, const char *tbl,
			uint64_t index, const Sluice__Position *p)
{
	char pos[600];
	int rc;

	snprintf(pos, sizeof(pos), "%" PRIu64 ":%s", p->offset, p->file ? p->file : "");
	if ((rc = sl_buf_addf(b, "%s('%s',", b->len ? "," : "INSERT IGNORE INTO `sluice`.`snapshot_chunks` "
			      "(`stream_id`,`db`,`tbl`,`chunk_index`,`run`,`rows`,`position`) VALUES ", sid)) ||
	    (rc = fmt_sql_str(b, db)) || (rc = sl_buf_addc(b, ',')) || (rc = fmt_sql_str(b, tbl)) ||
	    (rc = sl_buf_addf(b, ",%" PRIu64 ",0,0,", index)) || (rc = fmt_sql_str(b, pos)) ||
	    (rc = sl_buf_addc(b, ')')))
		return rc;
	return 0;
}

/* The end, and each keyless table's position, in one transaction. */
static int mark_complete(struct snap *s, const struct rep_safe *safe, struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT((size_t)64 << 20);
	int rc = add_pos_mark(&b, s->sid, "", "", DB_CHUNK_INDEXES, safe->end);

	for (size_t i = 0; !rc && i < safe->nkeyless; i++)
		rc = add_pos_mark(&b, s->sid, safe->keyless[i].db, safe->keyless[i].name,
				  DB_CHUNK_KEYLESS, safe->keyless[i].p1);
	if (!rc)
		rc = sl_buf_adds(&b, ";COMMIT");
	rc = rc ? sl_err_set(err, rc, "recording the loaded snapshot: %s", sl_strerror(rc)) :
		  rep__exec(&s->x->ctl, sl_buf_cstr(&b), err);
	sl_buf_release(&b);
	return rc;
}

static Sluice__Position *parse_pos(const char *text)
{
	Sluice__Position *p = sl_xcalloc(1, sizeof(*p));
	const char *colon = strchr(text, ':');

	sluice__position__init(p);
	p->offset = strtoull(text, NULL, 10);
	p->file = sl_xstrdup(colon ? colon + 1 : "");
	return p;
}

/* 1 when the destination holds the whole snapshot already: x->safe from the marks. */
static int loaded_before(struct snap *s)
{
	struct rep_safe *safe = NULL;
	uint64_t chunks = 0;

	for (size_t i = 0; i < s->ndone; i++) {
		const struct snap_done *d = &s->done[i];

		if (d->index == DB_CHUNK_INDEXES && !d->db[0] && !d->name[0]) {
			safe = sl_xcalloc(1, sizeof(*safe));
			safe->end = parse_pos(d->position);
		} else if (d->index < DB_CHUNK_KEYLESS) {
			chunks++;
		}
	}
	if (!safe)
		return 0;
	for (size_t i = 0; i < s->ndone; i++) {
		const struct snap_done *d = &s->done[i];
		struct rep_safe_table *k;

		if (d->index != DB_CHUNK_KEYLESS)
			continue;
		safe->keyless = sl_xrealloc(safe->keyless, (safe->nkeyless + 1) * sizeof(*safe->keyless));
		k = &safe->keyless[safe->nkeyless++];
		k->db = sl_xstrdup(d->db);
		k->name = sl_xstrdup(d->name);
		k->p1 = parse_pos(d->position);
	}
	s->x->safe = safe;
	s->x->st->chunks_skipped += chunks;
	sl_log(SL_INFO, "replay", "snapshot '%s' was loaded whole before (%" PRIu64 " chunks, end at "
	       "%s:%" PRIu64 "): not read again", s->path, chunks, safe->end->file, safe->end->offset);
	return 1;
}

/* The destination's redo log size (s->redo_cap), 0 when it has none to
 * tell (not InnoDB, or the variable is hidden). */
static void read_redo_cap(struct snap *s)
{
	static const char *const q[] = {
		"SELECT @@innodb_redo_log_capacity",	/* MySQL 8.0.30 and later */
		"SELECT @@innodb_log_file_size * @@innodb_log_files_in_group",	/* older MySQL */
		"SELECT @@innodb_log_file_size",	/* MariaDB: one file */
	};
	MYSQL *m = s->x->ctl.db;

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]) && !s->redo_cap; i++) {
		MYSQL_RES *res;
		MYSQL_ROW row;

		if (mysql_real_query(m, q[i], strlen(q[i])) || !(res = mysql_store_result(m)))
			continue;
		if ((row = mysql_fetch_row(res)) && row[0])
			s->redo_cap = strtoull(row[0], NULL, 10);
		mysql_free_result(res);
	}
}

/* ---- the phase ---- */

static void keyless_tables(struct snap *s, struct rep_safe *safe)
{
	for (size_t i = 0; i < s->ntables; i++) {
		struct snap_table *t = s->tables[i];
		struct rep_safe_table *k;

		if (!t->keyless || !t->any_chunk || !t->one_run || !t->run || t->run > s->np1 ||
		    !s->p1[t->run - 1])
			continue;
		safe->keyless = sl_xrealloc(safe->keyless, (safe->nkeyless + 1) * sizeof(*safe->keyless));
		k = &safe->keyless[safe->nkeyless++];
		k->db = sl_xstrdup(t->db);
		k->name = sl_xstrdup(t->name);
		k->p1 = fmt_position_dup(s->p1[t->run - 1]);
	}
}

static void snap_release(struct snap *s)
{
	for (size_t i = 0; i < s->ntables; i++) {
		free(s->tables[i]->db);
		free(s->tables[i]->name);
		free(s->tables[i]->index_sql);
		free(s->tables[i]->drop);
		free(s->tables[i]);
	}
	free(s->tables);
	for (size_t i = 0; i < s->ndone; i++) {
		free(s->done[i].db);
		free(s->done[i].name);
		free(s->done[i].position);
	}
	free(s->done);
	for (size_t i = 0; i < s->nobjs; i++)
		if (s->objs[i])
			sluice__schema_object__free_unpacked(s->objs[i], NULL);
	free(s->objs);
	for (size_t i = 0; i < s->np1; i++)
		if (s->p1[i])
			fmt_position_free(s->p1[i]);
	free(s->p1);
	if (s->end)
		fmt_position_free(s->end);
	while (s->qn) {
		rep__chunk_release(&s->q[s->qhead].c);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qn--;
	}
	free(s->q);
	rep__chunk_release(&s->cur);
	for (size_t i = 0; i < s->npool; i++) {
		free(s->pool[i].raw);
		free(s->pool[i].off);
	}
	fmt_tables_release(&s->tds);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
}

int rep__snapshot_phase(struct rep_ctx *x, struct sl_err *err)
{
	struct snap s = { 0 };
	struct loader_arg args[REP_LOAD_WORKERS];
	struct stat st;
	uint8_t sid[16];
	char *source = NULL;
	uint64_t t0 = sl_now_ms();
	double secs;
	int rc;

	snprintf(s.path, sizeof(s.path), "%s/snapshot", x->o->dir);
	if (stat(s.path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;	/* no snapshot: the change stream alone */
	s.x = x;
	for (;;) {
		rc = seg_dir_identity(s.path, &source, sid, err);
		free(source);
		source = NULL;
		if (rc != -ENOENT)
			break;
		if (!x->o->follow || sl_stop_requested) {
			*err = (struct sl_err)SL_ERR_INIT;
			sl_log(SL_WARN, "replay", "snapshot '%s' holds nothing yet: snapshot incomplete, "
			       "no change applied", s.path);
			x->st->snapshot_incomplete = 1;
			return 0;
		}
		sleep_ms(x->o->poll_ms ? x->o->poll_ms : 20);
	}
	if (rc)
		return rc;
	*err = (struct sl_err)SL_ERR_INIT;
	sl_hex(s.sid, sid, 16);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	fmt_tables_init(&s.tds);
	s.reading = 1;
	s.qcap = REP_LOAD_WORKERS * 2;
	s.q = sl_xcalloc(s.qcap, sizeof(*s.q));
	if ((rc = db_sluice_schema_ensure(x->ctl.db, x->ctl.dest, err)) || (rc = read_done(&s, err)))
		goto out;
	if (loaded_before(&s))
		goto out;
	read_redo_cap(&s);
	if ((rc = rep__dest_target(s.x, &s.target, err)) || (rc = start_loaders(&s, args, err)))
		goto out;
	rc = read_stream(&s, err);
	if (!rc && !s.schema_done)
		rc = apply_schema(&s, err);	/* only schema objects so far */
	/* let the loaders finish what is queued, and the indexes due */
	pthread_mutex_lock(&s.mu);
	s.reading = 0;
	pthread_cond_broadcast(&s.cv);
	pthread_mutex_unlock(&s.mu);
	stop_loaders(&s);
	if (!rc && s.failed) {
		*err = s.err;
		rc = err->code ? err->code : -SL_EAPPLY;
	}
	if (rc)
		goto out;
	x->st->chunks += s.chunks;
	x->st->chunk_rows += s.rows;
	x->st->chunks_skipped += s.skipped;
	secs = (double)(sl_now_ms() - t0) / 1000.0;
	sl_log(SL_INFO, "replay", "snapshot: loaded %" PRIu64 " chunks, %" PRIu64 " rows in %.2f s "
	       "(%.0f rows/s, %u connections, %s); %" PRIu64 " chunks loaded before, skipped",
	       s.chunks, s.rows, secs, secs > 0 ? (double)s.rows / secs : 0.0,
	       x->o->workers < REP_LOAD_WORKERS && x->o->workers ? x->o->workers : REP_LOAD_WORKERS,
	       s.no_local ? "INSERT" : "LOAD DATA LOCAL", s.skipped);
	if (!s.end && sl_stop_requested) {
		sl_log(SL_INFO, "replay", "stopped during the snapshot load: every chunk loaded is "
		       "recorded, a rerun continues after them");
		x->st->snapshot_incomplete = 1;
		goto out;
	}
	if (!s.end) {
		sl_log(SL_WARN, "replay", "snapshot '%s' has no end yet (the snapshot is still running "
		       "or was interrupted): snapshot incomplete, loaded what is there, no change applied; "
		       "run replay again (or with --follow) once the snapshot is done", s.path);
		x->st->snapshot_incomplete = 1;
		goto out;
	}
	for (size_t i = 0; i < s.ntables; i++)
		if (!s.tables[i]->indexed && s.tables[i]->index_sql)
			sl_log(SL_WARN, "replay", "`%s`.`%s`: deferred indexes not added (its last chunk "
			       "was not in the snapshot)", s.tables[i]->db, s.tables[i]->name);
	x->safe = sl_xcalloc(1, sizeof(*x->safe));
	x->safe->end = s.end;
	s.end = NULL;
	keyless_tables(&s, x->safe);
	if ((rc = mark_complete(&s, x->safe, err)))
		goto out;
	{
		char pos[300];

		sl_log(SL_INFO, "replay", "snapshot complete at source position %s: changes up to it "
		       "apply in safe mode, strictly after it", fmt_position_str(x->safe->end, pos,
										 sizeof(pos)));
	}
out:
	if (s.ld)
		stop_loaders(&s);
	snap_release(&s);
	return rc;
}
