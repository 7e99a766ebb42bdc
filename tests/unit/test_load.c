/* test_load.c - CUnit suite for replay's bulk load (LOAD DATA text, plans, statements) and
 * position order; and, as `test_load mksnap ...`, a writer of snapshot streams for
 * tests/integration/test_load.sh (see mksnap() below). */
#include <CUnit/Basic.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rep_snap.h"
#include "seg.h"
#include "banned.h"

/* ---- unit tests ---- */

static void test_load__pos_cmp(void)
{
	Sluice__Position a = SLUICE__POSITION__INIT, b = SLUICE__POSITION__INIT;

	a.file = "mysql-bin.000009";
	a.offset = 900;
	b.file = "mysql-bin.000010";
	b.offset = 4;
	CU_ASSERT_EQUAL(rep__pos_cmp(&a, &b), -1);	/* file number first, not text */
	CU_ASSERT_EQUAL(rep__pos_cmp(&b, &a), 1);
	b.file = "mysql-bin.000009";
	CU_ASSERT_EQUAL(rep__pos_cmp(&a, &b), 1);	/* then offset */
	b.offset = 900;
	CU_ASSERT_EQUAL(rep__pos_cmp(&a, &b), 0);
	a.file = "mysql-bin.999999";
	b.file = "mysql-bin.1000000";	/* a longer number after a rotation past 999999 */
	CU_ASSERT_EQUAL(rep__pos_cmp(&a, &b), -1);
	a.file = "x";
	b.file = "y";
	CU_ASSERT_EQUAL(rep__pos_cmp(&a, &b), -1);	/* no number: by name */
}

#define NCOL 15
static Sluice__ColumnDef cd[NCOL];
static Sluice__ColumnDef *cdp[NCOL];
static Sluice__Value val[NCOL];
static Sluice__Value *valp[NCOL];
static Sluice__TableDef td = SLUICE__TABLE_DEF__INIT;
static Sluice__Row row = SLUICE__ROW__INIT;

static void setup_row(void)
{
	static const char *names[NCOL] = { "n", "i", "u", "y0", "y", "f", "d", "dec", "s",
					    "dt", "ts0", "ts", "bit", "en", "js" };
	static const uint8_t s[] = { 'a', '\t', 'b', '\n', 'c', '\\', 0, 'd', '\r' };

	for (int i = 0; i < NCOL; i++) {
		Sluice__ColumnDef ci = SLUICE__COLUMN_DEF__INIT;
		Sluice__Value vi = SLUICE__VALUE__INIT;

		cd[i] = ci;
		cd[i].name = (char *)names[i];
		cdp[i] = &cd[i];
		val[i] = vi;
		valp[i] = &val[i];
	}
	td.db = "d";
	td.name = "t";
	td.n_columns = NCOL;
	td.columns = cdp;
	row.n_values = NCOL;
	row.values = valp;
	val[0].kind = SLUICE__VALUE__KIND__NULL;
	val[1].kind = SLUICE__VALUE__KIND__INT, val[1].i = INT64_MIN;
	val[2].kind = SLUICE__VALUE__KIND__UINT, val[2].u = UINT64_MAX;
	val[3].kind = SLUICE__VALUE__KIND__YEAR, val[3].u = 0;
	val[4].kind = SLUICE__VALUE__KIND__YEAR, val[4].u = 2155;
	val[5].kind = SLUICE__VALUE__KIND__FLOAT, val[5].f = 0.1f;
	val[6].kind = SLUICE__VALUE__KIND__DOUBLE, val[6].d = -0.0;
	val[7].kind = SLUICE__VALUE__KIND__DECIMAL, val[7].b.data = (uint8_t *)"-12.3400", val[7].b.len = 8;
	val[8].kind = SLUICE__VALUE__KIND__STRING, val[8].b.data = (uint8_t *)s, val[8].b.len = sizeof(s);
	val[9].kind = SLUICE__VALUE__KIND__DATETIME, val[9].b.data = (uint8_t *)"0000-00-00 00:00:00",
	val[9].b.len = 19;
	val[10].kind = SLUICE__VALUE__KIND__TIMESTAMP;
	val[11].kind = SLUICE__VALUE__KIND__TIMESTAMP, val[11].i = 2147483647, val[11].usec = 5;
	cd[11].precision = 6;
	cd[11].meta = 6;
	val[12].kind = SLUICE__VALUE__KIND__BIT, val[12].u = 5;
	val[13].kind = SLUICE__VALUE__KIND__ENUM, val[13].u = 2, val[13].has_b = 1;
	val[13].b.data = (uint8_t *)"b\tc", val[13].b.len = 3;
	val[14].kind = SLUICE__VALUE__KIND__JSON, val[14].b.data = (uint8_t *)"{\"a\": 1}", val[14].b.len = 8;
}

/* The plan of a chunk of one row (row), as a loader makes it: the row's
 * record packed into the chunk, decoded back as a loader does. */
static int plan_of(const uint8_t *drop, enum rep_lcol *plan)
{
	Sluice__RowChange rc = SLUICE__ROW_CHANGE__INIT;
	Sluice__Record rec = SLUICE__RECORD__INIT;
	struct rep_chunk c = { 0 };
	struct sl_err e = SL_ERR_INIT;
	const Sluice__Row *r = NULL;
	struct rep_rowdec a;
	uint8_t *buf, seen[NCOL];
	size_t n;
	int ret;

	rc.after = &row;
	rec.body_case = SLUICE__RECORD__BODY_ROW;
	rec.row = &rc;
	n = sluice__record__get_packed_size(&rec);
	buf = sl_xmalloc(n);
	sluice__record__pack(&rec, buf);
	rep__chunk_add(&c, buf, n);
	free(buf);
	CU_ASSERT_EQUAL(c.n, 1);
	CU_ASSERT_EQUAL(c.raw_len, n);
	rep__rowdec_init(&a);
	ret = rep__chunk_row(&c, 0, &a, &r, &e);
	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT_PTR_NOT_NULL(r);
	if (!ret && r) {
		CU_ASSERT_EQUAL(r->n_values, NCOL);
		rep__load_plan_init(&td, drop, plan, seen);
		ret = rep__load_plan_row(&td, r, plan, seen);
	}
	rep__rowdec_release(&a);
	rep__chunk_release(&c);
	return ret;
}

static void test_load__text_every_kind(void)
{
	struct sl_buf out = SL_BUF_INIT(1 << 20);
	enum rep_lcol plan[NCOL] = { 0 };
	static const char want[] =
		"\\N\t-9223372036854775808\t18446744073709551615\t0000\t2155\t0.1\t-0e0\t-12.3400\t"
		"a\\tb\\nc\\\\\\0d\r\t0000-00-00 00:00:00\t0000-00-00 00:00:00\t"
		"2038-01-19 03:14:07.000005\t5\tb\\tc\t{\"a\": 1}\n";

	setup_row();
	CU_ASSERT_EQUAL(rep__load_text(&out, &td, plan, &row), 0);
	CU_ASSERT_EQUAL(out.len, sizeof(want) - 1);
	CU_ASSERT(out.len == sizeof(want) - 1 && !memcmp(out.data, want, out.len));
	if (out.len != sizeof(want) - 1 || memcmp(out.data, want, out.len))
		fprintf(stderr, "\ngot  %s\nwant %s", sl_buf_cstr(&out), want);
	sl_buf_release(&out);
}

/* Escaping at every position of strings of every length up to 40 (the
 * escaper looks at eight bytes at a time): the same as byte by byte. */
static void test_load__escape_every_position(void)
{
	static const uint8_t special[] = { 0, '\t', '\n', '\\', 'x' };
	struct sl_buf out = SL_BUF_INIT(1 << 20), want = SL_BUF_INIT(1 << 20);
	Sluice__ColumnDef c = SLUICE__COLUMN_DEF__INIT, *cp = &c;
	Sluice__Value v = SLUICE__VALUE__INIT, *vp = &v;
	Sluice__TableDef t = SLUICE__TABLE_DEF__INIT;
	Sluice__Row r = SLUICE__ROW__INIT;
	uint8_t s[48];
	int bad = 0;

	c.name = "s";
	t.n_columns = 1;
	t.columns = &cp;
	r.n_values = 1;
	r.values = &vp;
	v.kind = SLUICE__VALUE__KIND__BYTES;
	v.b.data = s;
	for (size_t len = 0; len <= 40; len++) {
		for (size_t k = 0; k < len; k++) {
			for (size_t x = 0; x < sizeof(special); x++) {
				for (size_t i = 0; i < len; i++)
					s[i] = (uint8_t)(0x20 + (i * 7 + len) % 0x5c + (i % 3 == 0 ? 0x80 : 0));
				s[k] = special[x];
				if (k + 9 < len)
					s[k + 9] = special[(x + 1) % sizeof(special)];
				v.b.len = len;
				sl_buf_reset(&out);
				sl_buf_reset(&want);
				CU_ASSERT_EQUAL(rep__load_text(&out, &t, NULL, &r), 0);
				for (size_t i = 0; i < len; i++) {
					const char *e = s[i] == 0 ? "\\0" : s[i] == '\t' ? "\\t" :
							s[i] == '\n' ? "\\n" : s[i] == '\\' ? "\\\\" : NULL;

					if (e)
						sl_buf_adds(&want, e);
					else
						sl_buf_addc(&want, s[i]);
				}
				sl_buf_addc(&want, '\n');
				bad += out.len != want.len || memcmp(out.data, want.data, out.len);
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	sl_buf_release(&out);
	sl_buf_release(&want);
}

static void test_load__plan_and_statement(void)
{
	struct sl_buf out = SL_BUF_INIT(1 << 20);
	enum rep_lcol plan[NCOL];
	static const char want[] =
		"LOAD DATA LOCAL INFILE 'sluice-chunk' INTO TABLE `d`.`t` CHARACTER SET binary "
		"FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
		"STARTING BY '' (`n`,`i`,`u`,`y0`,`y`,`f`,`d`,`dec`,`s`,`dt`,`ts0`,`ts`,@v12,`en`,@v14) "
		"SET `bit`=CAST(@v12 AS UNSIGNED),`js`=CONVERT(@v14 USING utf8mb4)";

	setup_row();
	CU_ASSERT_EQUAL(plan_of(NULL, plan), 0);
	CU_ASSERT_EQUAL(plan[12], RL_UNSIGNED);
	CU_ASSERT_EQUAL(plan[13], RL_DIRECT);	/* an ENUM by label */
	CU_ASSERT_EQUAL(plan[14], RL_JSON);
	CU_ASSERT_EQUAL(rep__load_stmt(&out, &td, plan), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&out), want);
	/* an ENUM given by number: through a variable */
	val[13].has_b = 0;
	CU_ASSERT_EQUAL(plan_of(NULL, plan), 0);
	CU_ASSERT_EQUAL(plan[13], RL_UNSIGNED);
	/* a partial image cannot be loaded: the INSERT way */
	val[3].kind = SLUICE__VALUE__KIND__ABSENT;
	CU_ASSERT_EQUAL(plan_of(NULL, plan), -SL_EFORMAT);
	sl_buf_release(&out);
}

/* Generated columns: LOAD DATA reads them into @discard from \N (also when
 * their values would not fit a plan), INSERTs and the stripped definition
 * leave them out, a key with one is dropped, a period column just leaves it. */
static void test_load__generated(void)
{
	struct sl_buf out = SL_BUF_INIT(1 << 20);
	enum rep_lcol plan[NCOL];
	uint8_t drop[NCOL] = { 0 };
	uint32_t pk[2] = { 1, 14 };
	Sluice__TableDef *st;
	Sluice__Row srow;
	Sluice__Value *svals[NCOL];
	int lost;

	setup_row();
	drop[1] = drop[12] = REP_DROP_GENERATED;
	val[12].kind = SLUICE__VALUE__KIND__ABSENT;	/* not even in the image */
	CU_ASSERT_EQUAL(plan_of(drop, plan), 0);
	CU_ASSERT_EQUAL(plan[1], RL_DISCARD);
	CU_ASSERT_EQUAL(plan[12], RL_DISCARD);
	CU_ASSERT_EQUAL(rep__load_stmt(&out, &td, plan), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_buf_cstr(&out), "(`n`,@discard,`u`,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_buf_cstr(&out), "`ts`,@discard,`en`,@v14) SET `js`="));
	CU_ASSERT_PTR_NULL(strstr(sl_buf_cstr(&out), "`bit`"));
	sl_buf_reset(&out);
	CU_ASSERT_EQUAL(rep__load_text(&out, &td, plan, &row), 0);
	CU_ASSERT_EQUAL(strncmp(sl_buf_cstr(&out), "\\N\t\\N\t18446744073709551615\t", 27), 0);
	/* the INSERT way: stripped definition and row */
	td.primary_key = pk;
	td.n_primary_key = 1;
	st = rep__def_strip(&td, drop, &lost);
	CU_ASSERT_EQUAL(lost, 1);	/* key column 1 is generated: no key */
	CU_ASSERT_EQUAL(st->n_columns, NCOL - 2);
	CU_ASSERT_EQUAL(st->n_primary_key, 0);
	rep__def_strip_free(st);
	drop[1] = 0;
	drop[13] = REP_DROP_PERIOD;
	td.n_primary_key = 2;
	st = rep__def_strip(&td, drop, &lost);
	CU_ASSERT_EQUAL(lost, 0);
	CU_ASSERT_EQUAL(st->n_primary_key, 2);
	CU_ASSERT(st->n_primary_key == 2 && st->primary_key[0] == 1 && st->primary_key[1] == 12);
	CU_ASSERT_PTR_NOT_NULL(rep__row_strip(&row, drop, &srow, svals));
	CU_ASSERT_EQUAL(srow.n_values, NCOL - 2);
	sl_buf_reset(&out);
	CU_ASSERT_EQUAL(rep__sql_insert_head_row(&out, st, &srow), 0);
	CU_ASSERT_PTR_NULL(strstr(sl_buf_cstr(&out), "`bit`"));
	CU_ASSERT_PTR_NULL(strstr(sl_buf_cstr(&out), "`en`"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_buf_cstr(&out), "`ts`,`js`)"));
	rep__def_strip_free(st);
	td.primary_key = NULL;
	td.n_primary_key = 0;
	sl_buf_release(&out);
}

/* ---- mksnap: a snapshot stream from a change stream, for test_load.sh ----
 *
 * test_load mksnap SOURCE_URL FROM_DIR TO_DIR CHUNK_ROWS CUT END RUNS OBJECT...
 * writes TO_DIR/snapshot: the SchemaObjects named (D:db, T:db.t, V:db.v,
 * K:db.t a deferred foreign key's table: recorded, never to be created),
 * read from the source with SHOW CREATE; then the INSERT rows of the first
 * CUT transactions of FROM_DIR, CHUNK_ROWS per chunk, in chunks of the
 * tables named T:. RUNS 2 puts every table's first chunk in run 1 (P1: the
 * commit of transaction CUT) and the rest in run 2 (P1: commit END); a
 * keyless table is read again whole in run 2 (a restart chunk). SnapshotEnd
 * at the commit of transaction END, unless MKSNAP_NO_END is set.
 * MKSNAP_SLEEP_MS: pause after each chunk (a snapshot still being written).
 */

struct mk_table {
	char db[65], name[65];
	Sluice__TableDef *td;
	Sluice__Record **rows;
	size_t n;
};

static int die(const char *what, const struct sl_err *e)
{
	fprintf(stderr, "mksnap: %s: %s\n", what, e ? e->msg : "");
	exit(2);
}

static char *show_create(MYSQL *m, const char *what, const char *name)
{
	char sql[400];
	MYSQL_RES *res;
	MYSQL_ROW mr;
	char *s;

	snprintf(sql, sizeof(sql), "SHOW CREATE %s %s", what, name);
	if (mysql_query(m, sql) || !(res = mysql_store_result(m)) || !(mr = mysql_fetch_row(res)))
		die(sql, NULL);
	s = sl_xstrdup(mr[1]);
	mysql_free_result(res);
	return s;
}

static void put(struct seg_writer *w, Sluice__Record *r, const Sluice__Position *end)
{
	struct sl_err e = SL_ERR_INIT;

	if (seg_writer_append(w, r, &e))
		die("append", &e);
	(void)end;
}

static void unit_end(struct seg_writer *w, const Sluice__Position *p)
{
	struct sl_err e = SL_ERR_INIT;

	if (seg_writer_txn_end(w, p, (uint64_t)time(NULL), &e))
		die("txn end", &e);
}

static void emit_chunk(struct seg_writer *w, struct mk_table *t, uint64_t index, uint32_t run,
		       size_t from, size_t to, int restart, int done, const Sluice__Position *p)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__SnapshotChunk ch = SLUICE__SNAPSHOT_CHUNK__INIT;
	Sluice__SnapshotChunkEnd ce = SLUICE__SNAPSHOT_CHUNK_END__INIT;
	const char *sleep_ms = getenv("MKSNAP_SLEEP_MS");

	r.body_case = SLUICE__RECORD__BODY_TABLE;
	r.table = t->td;
	put(w, &r, p);
	ch.table_ref = t->td->ref;
	ch.db = t->db;
	ch.table = t->name;
	ch.index = index;
	ch.where = "1";
	ch.restart = restart;
	ch.run = run;
	r.body_case = SLUICE__RECORD__BODY_CHUNK;
	r.chunk = &ch;
	put(w, &r, p);
	for (size_t i = from; i < to; i++)
		put(w, t->rows[i], p);
	ce.rows = to - from;
	ce.table_done = done;
	r.body_case = SLUICE__RECORD__BODY_CHUNK_END;
	r.chunk_end = &ce;
	put(w, &r, p);
	unit_end(w, p);
	if (sleep_ms) {
		struct timespec ts = { 0, atol(sleep_ms) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

static int mksnap(int argc, char **argv)
{
	struct sl_err e = SL_ERR_INIT;
	struct sl_dsn dsn = { 0 };
	struct db_opts dbo = { .role = DB_ROLE_VERIFY_SOURCE };
	MYSQL *m;
	struct seg_reader *r;
	struct seg_writer *w;
	struct seg_writer_opts wo = { 0 };
	struct mk_table tabs[16];
	size_t ntabs = 0, chunk_rows = strtoul(argv[5], NULL, 10);
	unsigned long cut = strtoul(argv[6], NULL, 10), endn = strtoul(argv[7], NULL, 10), ntx = 0;
	unsigned runs = (unsigned)strtoul(argv[8], NULL, 10);
	Sluice__Position *pcut = NULL, *pend = NULL;
	Sluice__Record rr = SLUICE__RECORD__INIT;
	char path[4096];
	struct fmt_tables tds;
	uint32_t order = 0;

	if (sl_dsn_parse(&dsn, argv[2], "SLUICE_SOURCE_PASSWORD", &e) || db_connect(&m, &dsn, &dbo, &e))
		die("connect", &e);
	/* the rows: INSERTs of the first cut transactions */
	fmt_tables_init(&tds);
	memset(tabs, 0, sizeof(tabs));
	for (int i = 9; i < argc; i++) {
		if (argv[i][0] != 'T')
			continue;
		sscanf(argv[i] + 2, "%64[^.].%64s", tabs[ntabs].db, tabs[ntabs].name);
		ntabs++;
	}
	if (seg_reader_open(&r, argv[3], &e))
		die("open FROM_DIR", &e);
	for (;;) {
		Sluice__Record *rec;
		struct seg_cursor cur;
		int rc = seg_reader_next(r, &rec, &cur, &e), keep = 0;

		if (rc < 0)
			die("read", &e);
		if (!rc)
			break;
		if (rec->body_case == SLUICE__RECORD__BODY_TABLE)
			fmt_tables_put(&tds, rec->table);
		if (rec->body_case == SLUICE__RECORD__BODY_COMMIT) {
			ntx++;
			if (ntx == cut)
				pcut = fmt_position_dup(rec->commit->position);
			if (ntx == endn)
				pend = fmt_position_dup(rec->commit->position);
		}
		if (rec->body_case == SLUICE__RECORD__BODY_ROW && ntx < cut &&
		    rec->row->op == SLUICE__ROW_CHANGE__OP__INSERT) {
			const Sluice__TableDef *d = fmt_tables_get(&tds, rec->row->table_ref);

			for (size_t t = 0; d && t < ntabs; t++) {
				if (strcmp(d->db, tabs[t].db) || strcmp(d->name, tabs[t].name))
					continue;
				if (!tabs[t].td)
					tabs[t].td = fmt_tabledef_dup(d);
				rec->row->table_ref = tabs[t].td->ref;
				tabs[t].rows = sl_xrealloc(tabs[t].rows, (tabs[t].n + 1) * sizeof(*tabs[t].rows));
				tabs[t].rows[tabs[t].n++] = rec;
				keep = 1;
			}
		}
		if (!keep)
			fmt_record_free(rec);
	}
	seg_reader_close(r);
	if (!pcut || !pend) {
		fprintf(stderr, "mksnap: the stream has %lu transactions (cut %lu end %lu)\n", ntx, cut, endn);
		return 2;
	}
	for (size_t t = 0; t < ntabs; t++)
		if (!tabs[t].td) {	/* a table without rows: its definition from the stream */
			for (size_t k = 0; k < tds.cap; k++)
				if (tds.defs[k] && !strcmp(tds.defs[k]->db, tabs[t].db) &&
				    !strcmp(tds.defs[k]->name, tabs[t].name))
					tabs[t].td = fmt_tabledef_dup(tds.defs[k]);
			if (!tabs[t].td) {	/* never written to: a definition without columns */
				Sluice__TableDef d = SLUICE__TABLE_DEF__INIT;

				d.ref = 60000 + (uint32_t)t;
				d.db = tabs[t].db;
				d.name = tabs[t].name;
				tabs[t].td = fmt_tabledef_dup(&d);
			}
		}
	snprintf(path, sizeof(path), "%s/snapshot", argv[4]);
	wo.dir = path;
	wo.source = "mksnap";
	wo.start = pcut;
	wo.segment_size = 256 << 10;	/* several segments */
	if (seg_writer_open(&w, &wo, &e))
		die("open TO_DIR/snapshot", &e);
	for (int i = 9; i < argc; i++) {
		Sluice__SchemaObject o = SLUICE__SCHEMA_OBJECT__INIT;
		char db[65] = "", name[65] = "", q[200];
		char *stmt;

		sscanf(argv[i] + 2, "%64[^.].%64s", db, name);
		o.db = db;
		o.name = name;
		o.order = ++order;
		o.dest_dialect = "mariadb";
		switch (argv[i][0]) {
		case 'D':
			o.kind = SLUICE__SCHEMA_OBJECT__KIND__DATABASE;
			o.name = "";
			snprintf(q, sizeof(q), "`%s`", db);
			stmt = show_create(m, "DATABASE", q);
			break;
		case 'V':
			o.kind = SLUICE__SCHEMA_OBJECT__KIND__VIEW;
			snprintf(q, sizeof(q), "`%s`.`%s`", db, name);
			stmt = show_create(m, "VIEW", q);
			break;
		case 'K':	/* deferred: never created by replay */
			o.kind = SLUICE__SCHEMA_OBJECT__KIND__FOREIGN_KEY;
			o.deferred = 1;
			o.table = name;
			stmt = sl_xasprintf("ALTER TABLE `%s`.`%s` ADD CONSTRAINT `fk_never` FOREIGN KEY "
					    "(`nope`) REFERENCES `nowhere` (`id`)", db, name);
			break;
		default:
			o.kind = SLUICE__SCHEMA_OBJECT__KIND__TABLE;
			snprintf(q, sizeof(q), "`%s`.`%s`", db, name);
			stmt = show_create(m, "TABLE", q);
			break;
		}
		o.statement = stmt;
		rr.body_case = SLUICE__RECORD__BODY_SCHEMA;
		rr.schema = &o;
		put(w, &rr, pcut);
		unit_end(w, pcut);
		free(stmt);
	}
	for (unsigned run = 1; run <= runs; run++) {
		Sluice__SnapshotBegin b = SLUICE__SNAPSHOT_BEGIN__INIT;
		const Sluice__Position *p = run == runs ? pend : pcut;

		b.position = (Sluice__Position *)p;
		b.run = run;
		b.time = (uint64_t)time(NULL);
		rr.body_case = SLUICE__RECORD__BODY_SNAPSHOT_BEGIN;
		rr.snapshot_begin = &b;
		put(w, &rr, p);
		unit_end(w, p);
		for (size_t t = 0; t < ntabs; t++) {
			struct mk_table *mt = &tabs[t];
			size_t per = chunk_rows ? chunk_rows : 1000, nchunks = (mt->n + per - 1) / per;
			int keyless = !mt->td->n_primary_key;

			if (!nchunks)
				nchunks = 1;
			if (runs == 1) {
				for (size_t k = 0; k < nchunks; k++)
					emit_chunk(w, mt, k, 1, k * per, k + 1 == nchunks ? mt->n : (k + 1) * per,
						   0, k + 1 == nchunks, p);
			} else if (keyless) {
				/* run 1 reads some of it, run 2 all of it again */
				if (run == 1)
					emit_chunk(w, mt, 0, 1, 0, mt->n / 2, 0, 0, p);
				else
					emit_chunk(w, mt, 1, 2, 0, mt->n, 1, 1, p);
			} else if (run == 1) {
				emit_chunk(w, mt, 0, 1, 0, nchunks == 1 ? mt->n : per, 0, nchunks == 1, p);
			} else {
				for (size_t k = 1; k < nchunks; k++)
					emit_chunk(w, mt, k, 2, k * per, k + 1 == nchunks ? mt->n : (k + 1) * per,
						   0, k + 1 == nchunks, p);
			}
		}
	}
	if (!getenv("MKSNAP_NO_END")) {
		Sluice__SnapshotEnd se = SLUICE__SNAPSHOT_END__INIT;

		se.position = pend;
		se.tables = (uint32_t)ntabs;
		rr.body_case = SLUICE__RECORD__BODY_SNAPSHOT_END;
		rr.snapshot_end = &se;
		put(w, &rr, pend);
		unit_end(w, pend);
	}
	if (seg_writer_close(w, &e))
		die("close", &e);
	for (size_t t = 0; t < ntabs; t++) {
		for (size_t i = 0; i < tabs[t].n; i++)
			fmt_record_free(tabs[t].rows[i]);
		free(tabs[t].rows);
		sluice__table_def__free_unpacked(tabs[t].td, NULL);
	}
	fmt_tables_release(&tds);
	fmt_position_free(pcut);
	fmt_position_free(pend);
	mysql_close(m);
	sl_dsn_release(&dsn);
	return 0;
}

int main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned failed;

	if (argc >= 10 && !strcmp(argv[1], "mksnap"))
		return mksnap(argc, argv);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("replay/load", NULL, NULL);
	CU_add_test(s, "positions: file number, then offset", test_load__pos_cmp);
	CU_add_test(s, "LOAD DATA text of every value kind", test_load__text_every_kind);
	CU_add_test(s, "escapes at every position, eight bytes at a time", test_load__escape_every_position);
	CU_add_test(s, "plan and LOAD DATA statement", test_load__plan_and_statement);
	CU_add_test(s, "generated columns left out of the load", test_load__generated);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
