/*
 * test_store_util.h - what the store suites (test_store.c, test_store_retain.c)
 * share: a writer over a throw-away directory, numbered transactions of
 * rows_of(t) rows, a model of the stream a reader must deliver. Everything is
 * static inline so a suite that does not use a helper does not warn.
 * Include after seg.h, seg_int.h and test_tdir.h (with TDIR_TAG defined).
 */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#define SOURCE "mariadb:server_id=1:test"

/* ---- helpers ---- */

static inline char *seg_file(const struct tdir *t, uint64_t seq, int sealed)
{
	return seg__path(t->dir, seq, sealed);
}

static inline uint64_t fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : (uint64_t)-1;
}

static inline int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Rows of transaction t: most are small, every 10th is large, so with a
 * small frame_bytes it spans several frames. */
static inline unsigned rows_of(uint64_t t)
{
	return t % 10 == 7 ? 60 : (unsigned)(t % 4);
}

static inline void fill(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)((seed >> 60) + 'a');	/* compressible a little */
	}
}

static inline void set_pos(Sluice__Position *p, uint64_t t)
{
	sluice__position__init(p);
	p->flavor = "mariadb";
	p->file = "bin.000001";
	p->offset = t * 100;
}

static inline int append_begin(struct seg_writer *w, uint64_t t, struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__TxnBegin b = SLUICE__TXN_BEGIN__INIT;

	b.time = 1000 + t;
	r.body_case = SLUICE__RECORD__BODY_BEGIN;
	r.begin = &b;
	return seg_writer_append(w, &r, err);
}

static inline int append_row(struct seg_writer *w, uint64_t t, unsigned i, struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__RowChange rc = SLUICE__ROW_CHANGE__INIT;
	Sluice__Row row = SLUICE__ROW__INIT;
	Sluice__Value v[2], *vp[2] = { &v[0], &v[1] };
	uint8_t data[300];

	sluice__value__init(&v[0]);
	sluice__value__init(&v[1]);
	v[0].kind = SLUICE__VALUE__KIND__INT;
	v[0].i = (int64_t)(t * 100000 + i);
	v[1].kind = SLUICE__VALUE__KIND__BYTES;
	fill(data, sizeof(data), t * 7919 + i);
	v[1].b.data = data;
	v[1].b.len = sizeof(data);
	row.n_values = 2;
	row.values = vp;
	rc.table_ref = 1;
	rc.after = &row;
	r.body_case = SLUICE__RECORD__BODY_ROW;
	r.row = &rc;
	return seg_writer_append(w, &r, err);
}

static inline int append_commit(struct seg_writer *w, uint64_t t, struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__TxnCommit c = SLUICE__TXN_COMMIT__INIT;
	Sluice__Position p;

	set_pos(&p, t);
	c.position = &p;
	c.time = 1000 + t;
	c.rows = rows_of(t);
	r.body_case = SLUICE__RECORD__BODY_COMMIT;
	r.commit = &c;
	return seg_writer_append(w, &r, err);
}

/* Transaction t: begin, rows_of(t) rows, commit, txn_end. */
static inline int write_txn(struct seg_writer *w, uint64_t t, struct sl_err *err)
{
	Sluice__Position p;
	int rc;

	if ((rc = append_begin(w, t, err)))
		return rc;
	for (unsigned i = 0; i < rows_of(t); i++)
		if ((rc = append_row(w, t, i, err)))
			return rc;
	if ((rc = append_commit(w, t, err)))
		return rc;
	set_pos(&p, t);
	return seg_writer_txn_end(w, &p, 1000 + t, err);
}

static inline struct seg_writer_opts opts_for(const struct tdir *t)
{
	struct seg_writer_opts o;

	memset(&o, 0, sizeof(o));
	o.dir = t->dir;
	o.source = SOURCE;
	o.frame_bytes = 4096;
	return o;
}

static inline struct seg_writer *open_writer(const struct seg_writer_opts *o)
{
	struct sl_err err = SL_ERR_INIT;
	struct seg_writer *w = NULL;
	int rc = seg_writer_open(&w, o, &err);

	if (rc)
		fprintf(stderr, "\n  seg_writer_open: %s\n", err.msg);
	CU_ASSERT_FATAL(rc == 0);
	return w;
}

static inline void write_txns(struct seg_writer *w, uint64_t from, uint64_t to)
{
	struct sl_err err = SL_ERR_INIT;

	for (uint64_t t = from; t <= to; t++) {
		int rc = write_txn(w, t, &err);

		if (rc)
			fprintf(stderr, "\n  write_txn %llu: %s\n", (unsigned long long)t, err.msg);
		CU_ASSERT_FATAL(rc == 0);
	}
}

/* The stream invariant (proto): TxnBegin, rows, TxnCommit, with our numbering. */
struct model {
	uint64_t txn;			/* next transaction expected */
	unsigned row;
	int in_txn;
	uint64_t records, bad;
	struct seg_cursor last;
};

static inline void model_feed(struct model *m, const Sluice__Record *r, const struct seg_cursor *c)
{
	int ok = 1;

	switch (r->body_case) {
	case SLUICE__RECORD__BODY_BEGIN:
		ok = !m->in_txn && r->begin->time == 1000 + m->txn;
		m->in_txn = 1;
		m->row = 0;
		break;
	case SLUICE__RECORD__BODY_ROW:
		ok = m->in_txn && r->row->after && r->row->after->n_values == 2 &&
		     r->row->after->values[0]->i == (int64_t)(m->txn * 100000 + m->row) &&
		     r->row->after->values[1]->b.len == 300;
		m->row++;
		break;
	case SLUICE__RECORD__BODY_COMMIT:
		ok = m->in_txn && m->row == rows_of(m->txn) && r->commit->position &&
		     r->commit->position->offset == m->txn * 100;
		m->in_txn = 0;
		m->txn++;
		break;
	default:
		ok = 0;
	}
	if (m->records && (c->seq < m->last.seq ||
			   (c->seq == m->last.seq && (c->offset < m->last.offset ||
			    (c->offset == m->last.offset && c->index != m->last.index + 1)))))
		ok = 0;
	m->last = *c;
	m->records++;
	if (!ok)
		m->bad++;
}

/* Read with r until next returns <= 0; that return is the result. */
static inline int drain(struct seg_reader *r, struct model *m, struct sl_err *err)
{
	for (;;) {
		Sluice__Record *rec;
		struct seg_cursor c;
		int rc = seg_reader_next(r, &rec, &c, err);

		if (rc <= 0)
			return rc;
		model_feed(m, rec, &c);
		fmt_record_free(rec);
	}
}

/* Read all of path from the start; transactions 1..want must come, complete. */
static inline void check_stream(const char *path, uint64_t want)
{
	struct sl_err err = SL_ERR_INIT;
	struct seg_reader *r;
	struct model m = { .txn = 1 };
	int rc = seg_reader_open(&r, path, &err);

	CU_ASSERT_FATAL(rc == 0);
	rc = drain(r, &m, &err);
	if (rc)
		fprintf(stderr, "\n  reader: %s\n", err.msg);
	CU_ASSERT(rc == 0);
	CU_ASSERT(m.bad == 0);
	CU_ASSERT(!m.in_txn);
	CU_ASSERT_EQUAL(m.txn - 1, want);
	if (m.txn - 1 != want)
		fprintf(stderr, "\n  read %llu transactions, want %llu\n",
			(unsigned long long)(m.txn - 1), (unsigned long long)want);
	seg_reader_close(r);
}

static inline uint64_t writer_txn(const struct seg_writer *w)
{
	const Sluice__Position *p = seg_writer_position(w);

	return p ? p->offset / 100 : 0;
}

/* ---- a snapshot stream (FORMAT.md "Snapshot streams") ----
 * Units, each ended by seg_writer_txn_end() at the run's P1: nschema
 * SchemaObjects, SnapshotBegin (run), then per table and chunk: TableDef,
 * SnapshotChunk, rows_per_chunk INSERTs, SnapshotChunkEnd; SnapshotEnd when
 * end is set. P1 of run r is set_pos(p, 5000 * r). */
#define SNAP_P1(run) ((uint64_t)5000 * (run))

static inline int snap_unit_end(struct seg_writer *w, uint32_t run, struct sl_err *err)
{
	Sluice__Position p;

	set_pos(&p, SNAP_P1(run));
	return seg_writer_txn_end(w, &p, 2000 + run, err);
}

/* One SchemaObject unit of any kind (conv: one conversion or NULL). */
static inline int snap_object(struct seg_writer *w, Sluice__SchemaObject__Kind kind, const char *db,
			      const char *name, const char *table, const char *stmt, const char *source_stmt,
			      const char *conv, int deferred, uint32_t order, struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__SchemaObject o = SLUICE__SCHEMA_OBJECT__INIT;
	char *convs[1] = { (char *)conv };
	int rc;

	o.kind = kind;
	o.db = (char *)db;
	o.name = (char *)name;
	o.table = (char *)table;
	o.statement = (char *)stmt;
	o.source_statement = (char *)source_stmt;
	o.deferred = deferred;
	o.order = order;
	o.dest_dialect = "mariadb";
	if (conv) {
		o.n_conversions = 1;
		o.conversions = convs;
	}
	r.body_case = SLUICE__RECORD__BODY_SCHEMA;
	r.schema = &o;
	if ((rc = seg_writer_append(w, &r, err)))
		return rc;
	return snap_unit_end(w, 1, err);
}

static inline int snap_schema(struct seg_writer *w, uint32_t i, uint32_t run, struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__SchemaObject o = SLUICE__SCHEMA_OBJECT__INIT;
	char name[32], stmt[96];
	int rc;

	snprintf(name, sizeof(name), "t%u", i);
	snprintf(stmt, sizeof(stmt), "CREATE TABLE `t%u` (`id` int NOT NULL, `b` blob, PRIMARY KEY (`id`))", i);
	o.kind = SLUICE__SCHEMA_OBJECT__KIND__TABLE;
	o.db = "d";
	o.name = name;
	o.statement = stmt;
	o.order = i;
	o.dest_dialect = "mariadb";
	r.body_case = SLUICE__RECORD__BODY_SCHEMA;
	r.schema = &o;
	if ((rc = seg_writer_append(w, &r, err)))
		return rc;
	return snap_unit_end(w, run, err);
}

static inline int snap_begin(struct seg_writer *w, uint32_t run, uint32_t tables, struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__SnapshotBegin b = SLUICE__SNAPSHOT_BEGIN__INIT;
	Sluice__Position p;
	int rc;

	set_pos(&p, SNAP_P1(run));
	b.position = &p;
	b.time = 2000 + run;
	b.run = run;
	b.tables = tables;
	r.body_case = SLUICE__RECORD__BODY_SNAPSHOT_BEGIN;
	r.snapshot_begin = &b;
	if ((rc = seg_writer_append(w, &r, err)))
		return rc;
	return snap_unit_end(w, run, err);
}

/* One chunk of table tbl: its rows are append_row(w, tbl * 1000 + index, i). */
static inline int snap_chunk(struct seg_writer *w, uint32_t run, uint32_t tbl, uint64_t index,
			     unsigned rows, int done, struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__TableDef td = SLUICE__TABLE_DEF__INIT;
	Sluice__ColumnDef c[2], *cp[2] = { &c[0], &c[1] };
	Sluice__SnapshotChunk ch = SLUICE__SNAPSHOT_CHUNK__INIT;
	Sluice__SnapshotChunkEnd ce = SLUICE__SNAPSHOT_CHUNK_END__INIT;
	uint32_t pk = 0;
	char name[32], where[64], next[64];
	int rc;

	snprintf(name, sizeof(name), "t%u", tbl);
	snprintf(where, sizeof(where), "`id` >= %llu", (unsigned long long)index * 100);
	snprintf(next, sizeof(next), "`id` >= %llu", (unsigned long long)(index + 1) * 100);
	sluice__column_def__init(&c[0]);
	sluice__column_def__init(&c[1]);
	c[0].name = "id";
	c[0].type = 3;		/* MYSQL_TYPE_LONG */
	c[1].name = "b";
	c[1].type = 252;	/* MYSQL_TYPE_BLOB */
	c[1].meta = 2;
	c[1].nullable = 1;
	c[1].collation = 63;
	c[1].charset = "binary";
	td.ref = 1;
	td.db = "d";
	td.name = name;
	td.n_columns = 2;
	td.columns = cp;
	td.n_primary_key = 1;
	td.primary_key = &pk;
	r.body_case = SLUICE__RECORD__BODY_TABLE;
	r.table = &td;
	if ((rc = seg_writer_append(w, &r, err)))
		return rc;
	ch.table_ref = 1;
	ch.db = "d";
	ch.table = name;
	ch.index = index;
	ch.where = where;
	ch.run = run;
	r.body_case = SLUICE__RECORD__BODY_CHUNK;
	r.chunk = &ch;
	if ((rc = seg_writer_append(w, &r, err)))
		return rc;
	for (unsigned i = 0; i < rows; i++)
		if ((rc = append_row(w, (uint64_t)tbl * 1000 + index, i, err)))
			return rc;
	ce.rows = rows;
	ce.bytes = rows * 304;
	ce.table_done = done;
	ce.next_where = done ? "" : next;
	r.body_case = SLUICE__RECORD__BODY_CHUNK_END;
	r.chunk_end = &ce;
	if ((rc = seg_writer_append(w, &r, err)))
		return rc;
	return snap_unit_end(w, run, err);
}

static inline int snap_end(struct seg_writer *w, uint32_t run, uint32_t tables, uint64_t rows,
			   struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__SnapshotEnd e = SLUICE__SNAPSHOT_END__INIT;
	Sluice__Position p;
	int rc;

	set_pos(&p, SNAP_P1(run));
	e.position = &p;
	e.time = 3000;
	e.tables = tables;
	e.rows = rows;
	r.body_case = SLUICE__RECORD__BODY_SNAPSHOT_END;
	r.snapshot_end = &e;
	if ((rc = seg_writer_append(w, &r, err)))
		return rc;
	return snap_unit_end(w, run, err);
}

/* What a reader of a snapshot stream saw: whole units only, in order. */
struct snap_model {
	uint64_t units, schema, runs, chunks, rows, tables_done, ends, bad;
	uint32_t run;
	int in_chunk;			/* after SnapshotChunk, before its end */
	unsigned chunk_rows;
	uint64_t row_key;		/* tbl * 1000 + index of the open chunk */
};

static inline void snap_model_feed(struct snap_model *m, const Sluice__Record *r)
{
	int ok = 1;

	switch (r->body_case) {
	case SLUICE__RECORD__BODY_SCHEMA:
		ok = !m->in_chunk && !m->runs;
		m->schema++;
		m->units++;
		break;
	case SLUICE__RECORD__BODY_SNAPSHOT_BEGIN:
		ok = !m->in_chunk && r->snapshot_begin->run == m->run + 1 &&
		     r->snapshot_begin->position->offset == SNAP_P1(r->snapshot_begin->run) * 100;
		m->run = r->snapshot_begin->run;
		m->runs++;
		m->units++;
		break;
	case SLUICE__RECORD__BODY_TABLE:
		ok = !m->in_chunk;
		break;
	case SLUICE__RECORD__BODY_CHUNK: {
		unsigned tbl = 0;

		ok = !m->in_chunk && m->runs && r->chunk->run == m->run &&
		     sscanf(r->chunk->table, "t%u", &tbl) == 1;
		m->in_chunk = 1;
		m->chunk_rows = 0;
		m->row_key = (uint64_t)tbl * 1000 + r->chunk->index;
		break;
	}
	case SLUICE__RECORD__BODY_ROW:
		ok = m->in_chunk && r->row->op == SLUICE__ROW_CHANGE__OP__INSERT && r->row->after &&
		     r->row->after->values[0]->i == (int64_t)(m->row_key * 100000 + m->chunk_rows);
		m->chunk_rows++;
		m->rows++;
		break;
	case SLUICE__RECORD__BODY_CHUNK_END:
		ok = m->in_chunk && r->chunk_end->rows == m->chunk_rows;
		m->in_chunk = 0;
		m->chunks++;
		m->tables_done += r->chunk_end->table_done;
		m->units++;
		break;
	case SLUICE__RECORD__BODY_SNAPSHOT_END:
		ok = !m->in_chunk && !m->ends;
		m->ends++;
		m->units++;
		break;
	default:
		ok = 0;
	}
	if (!ok)
		m->bad++;
}

/* Read all of path; 0, or the reader's error. */
static inline int snap_read(const char *path, struct snap_model *m)
{
	struct sl_err err = SL_ERR_INIT;
	struct seg_reader *r;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = seg_reader_open(&r, path, &err)))
		return rc;
	for (;;) {
		Sluice__Record *rec;
		struct seg_cursor c;

		rc = seg_reader_next(r, &rec, &c, &err);
		if (rc <= 0)
			break;
		snap_model_feed(m, rec);
		fmt_record_free(rec);
	}
	if (rc)
		fprintf(stderr, "\n  snapshot reader: %s\n", err.msg);
	seg_reader_close(r);
	return rc;
}

/* ---- tests ---- */

#endif
