/* test_store_snapshot.c - CUnit suite for store/ on a snapshot stream (DIR/snapshot): units, positions, footer counts, recovery of a torn tail. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seg.h"
#include "seg_int.h"
#define TDIR_TAG "snapstore"
#include "test_tdir.h"
#include "test_store_util.h"
#include "banned.h"

#define CHECK(call) do { \
		struct sl_err e_ = SL_ERR_INIT; \
		int rc_ = (call); \
		if (rc_) \
			fprintf(stderr, "\n  %s: %s\n", #call, e_.msg); \
		CU_ASSERT_FATAL(rc_ == 0); \
	} while (0)
/* the calls above take &e_ as their error */
#define E (&e_)

static int copy_file(const char *from, const char *to, uint64_t len)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	uint8_t buf[8192];
	int rc = 0;

	if (in < 0 || out < 0)
		rc = -1;
	while (!rc && len) {
		ssize_t k = read(in, buf, len < sizeof(buf) ? len : sizeof(buf));

		if (k <= 0 || write(out, buf, (size_t)k) != k)
			rc = -1;
		else
			len -= (uint64_t)k;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static void no_problem(void *ctx, const char *path, const char *msg)
{
	(void)ctx;
	(void)path;
	fprintf(stderr, "\n  verify: %s\n", msg);
}

/* The whole stream: 3 schema objects, run 1 reads table 1 (3 chunks) and
 * the first chunk of table 2, run 2 (a resume) the rest of table 2, then
 * the end. Every chunk holds 5 rows. */
#define SNAP_UNITS 11
static void write_snapshot(struct seg_writer *w, uint64_t *unit_end, const char *path)
{
	int u = 0;

#define UNIT(call) do { CHECK(call); if (unit_end) unit_end[u++] = fsize(path); } while (0)
	for (uint32_t i = 1; i <= 3; i++)
		UNIT(snap_schema(w, i, 1, E));
	UNIT(snap_begin(w, 1, 2, E));
	for (uint64_t c = 0; c < 3; c++)
		UNIT(snap_chunk(w, 1, 1, c, 5, c == 2, E));
	UNIT(snap_chunk(w, 1, 2, 0, 5, 0, E));
	UNIT(snap_begin(w, 2, 1, E));
	UNIT(snap_chunk(w, 2, 2, 1, 5, 1, E));
	UNIT(snap_end(w, 2, 2, 25, E));
#undef UNIT
	CU_ASSERT_EQUAL(u, unit_end ? SNAP_UNITS : 0);
}

/* Position after unit k (1-based; 0: none) of write_snapshot(): the P1
 * of the last SnapshotBegin or SnapshotEnd, 0 before the first. */
static uint64_t pos_after(int k)
{
	return k >= 9 ? SNAP_P1(2) : k >= 4 ? SNAP_P1(1) : 0;
}

static void verify_clean(const char *dir, unsigned flags, struct seg_verify_summary *s)
{
	struct sl_err err = SL_ERR_INIT;
	int rc = seg_verify_dir(dir, flags, no_problem, NULL, s, &err);

	CU_ASSERT_FATAL(rc == 0);
	CU_ASSERT_EQUAL(s->problems, 0);
}

/* Written across several segments: the reader delivers every unit, verify
 * finds no problem (deep: footer counts match the bodies) and counts the
 * units; the stream ends at SnapshotEnd's position. */
static void test_snapshot__round_trip_and_counts(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct snap_model m;
	struct seg_verify_summary s;
	struct sl_err err = SL_ERR_INIT;
	Sluice__Position start;

	tdir_new(&t);
	o = opts_for(&t);
	o.segment_size = 2048;		/* a seal every few chunks */
	set_pos(&start, SNAP_P1(1));
	o.start = &start;
	w = open_writer(&o);
	write_snapshot(w, NULL, NULL);
	CU_ASSERT(seg_writer_seal(w, &err) == 0);
	CU_ASSERT(seg_writer_close(w, &err) == 0);

	CU_ASSERT_FATAL(snap_read(t.dir, &m) == 0);
	CU_ASSERT_EQUAL(m.bad, 0);
	CU_ASSERT_EQUAL(m.units, SNAP_UNITS);
	CU_ASSERT_EQUAL(m.schema, 3);
	CU_ASSERT_EQUAL(m.runs, 2);
	CU_ASSERT_EQUAL(m.chunks, 5);
	CU_ASSERT_EQUAL(m.rows, 25);
	CU_ASSERT_EQUAL(m.tables_done, 2);
	CU_ASSERT_EQUAL(m.ends, 1);

	for (unsigned deep = 0; deep <= 1; deep++) {
		verify_clean(t.dir, deep ? SEG_VERIFY_DEEP : 0, &s);
		CU_ASSERT(s.segments > 2);
		CU_ASSERT_EQUAL(s.sealed, s.segments);
		CU_ASSERT_EQUAL(s.transactions, 0);
		CU_ASSERT_EQUAL(s.rows, 25);
		CU_ASSERT_EQUAL(s.chunks, 5);
		CU_ASSERT_EQUAL(s.schema_objects, 3);
		CU_ASSERT_EQUAL(s.snapshot_runs, 2);
		CU_ASSERT_EQUAL(s.tables_done, 2);
		CU_ASSERT_EQUAL(s.snapshot_ends, 1);
		CU_ASSERT(s.last_pos && s.last_pos->offset == SNAP_P1(2) * 100);
		if (!deep)
			seg_verify_summary_release(&s);
	}
	/* status from the footers; a next segment just created (no header yet)
	 * counts nothing and is no error */
	{
		struct seg_snapshot_status ss;
		char *next = seg_file(&t, s.last_seq + 1, 0);
		int fd;

		CU_ASSERT_FATAL(seg_snapshot_status(t.dir, &ss, &err) == 0);
		CU_ASSERT(ss.ends == 1 && ss.runs == 2 && ss.chunks == 5 && ss.rows == 25 &&
			  ss.tables_done == 2 && ss.schema_objects == 3 && ss.sealed == ss.segments);
		CU_ASSERT(ss.position && ss.position->offset == SNAP_P1(2) * 100);
		CU_ASSERT(ss.source && !strcmp(ss.source, SOURCE));
		seg_snapshot_status_release(&ss);
		fd = open(next, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CU_ASSERT_FATAL(fd >= 0);
		close(fd);
		CU_ASSERT_FATAL(seg_snapshot_status(t.dir, &ss, &err) == 0);
		CU_ASSERT(ss.ends == 1 && ss.chunks == 5 && ss.segments == s.segments + 1);
		seg_snapshot_status_release(&ss);
		unlink(next);
		free(next);
	}
	seg_verify_summary_release(&s);
	/* reopened, the writer stands at SnapshotEnd's position */
	w = open_writer(&o);
	CU_ASSERT(seg_writer_position(w) && seg_writer_position(w)->offset == SNAP_P1(2) * 100);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	tdir_free(&t);
}

/* A crash at any byte: recovery cuts back to the last whole unit, its
 * position is the P1 of the last SnapshotBegin/SnapshotEnd before the cut
 * (not the segment's start), the reader delivers exactly the whole units
 * and verify --segments finds nothing; the writer then continues the
 * stream, and once sealed the footer counts what the body holds. */
static void test_snapshot__torn_tail_recovers(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	uint64_t end[SNAP_UNITS], size, hl;
	Sluice__Position start;
	char *p, saved[128];
	int log_level = sl_log_level, checked = 0;

	tdir_new(&t);
	o = opts_for(&t);
	o.frame_bytes = 1024;		/* chunks span frames: cuts inside a unit */
	set_pos(&start, 0);
	o.start = &start;
	w = open_writer(&o);
	p = seg_file(&t, 1, 0);
	write_snapshot(w, end, p);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	size = fsize(p);
	CU_ASSERT_FATAL(size == end[SNAP_UNITS - 1]);
	snprintf(saved, sizeof(saved), "%s/saved", t.root);
	CU_ASSERT_FATAL(copy_file(p, saved, size) == 0);
	{
		uint8_t b[16];
		int fd = open(p, O_RDONLY);

		CU_ASSERT_FATAL(fd >= 0 && pread(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b));
		close(fd);
		hl = sl_le32(b + 12);
	}
	sl_log_level = SL_ERROR;	/* the cuts are expected */
	for (uint64_t cut = hl; cut <= size; cut += 53) {
		struct snap_model m;
		struct seg_verify_summary s;
		int units = 0;

		for (int k = 0; k < SNAP_UNITS; k++)
			if (end[k] <= cut)
				units = k + 1;
		CU_ASSERT_FATAL(copy_file(saved, p, cut) == 0);
		w = open_writer(&o);
		CU_ASSERT_FATAL(seg_writer_position(w) != NULL);
		CU_ASSERT_EQUAL(seg_writer_position(w)->offset, pos_after(units) * 100);
		if (seg_writer_position(w)->offset != pos_after(units) * 100)
			fprintf(stderr, "\n  cut at %llu (%d units): position %llu, want %llu\n",
				(unsigned long long)cut, units,
				(unsigned long long)seg_writer_position(w)->offset,
				(unsigned long long)pos_after(units) * 100);
		CU_ASSERT(seg_writer_close(w, &err) == 0);
		CU_ASSERT(units == 0 || fsize(p) == end[units - 1]);
		CU_ASSERT_FATAL(snap_read(t.dir, &m) == 0);
		CU_ASSERT_EQUAL(m.bad, 0);
		CU_ASSERT_EQUAL(m.units, (uint64_t)units);
		CU_ASSERT(!m.in_chunk);
		verify_clean(t.dir, SEG_VERIFY_DEEP, &s);
		CU_ASSERT_EQUAL(s.chunks, m.chunks);
		CU_ASSERT_EQUAL(s.rows, m.rows);
		seg_verify_summary_release(&s);
		{
			struct seg_snapshot_status ss;

			CU_ASSERT_FATAL(seg_snapshot_status(t.dir, &ss, &err) == 0);
			CU_ASSERT(ss.chunks == m.chunks && ss.rows == m.rows && ss.runs == m.runs &&
				  ss.schema_objects == m.schema && ss.ends == m.ends && ss.sealed == 0);
			seg_snapshot_status_release(&ss);
		}
		checked++;
	}
	CU_ASSERT(checked > 20);
	sl_log_level = log_level;

	/* torn in the middle of run 2's chunk: resume writes it again and ends */
	CU_ASSERT_FATAL(copy_file(saved, p, end[8] + 30) == 0);
	sl_log_level = SL_ERROR;
	w = open_writer(&o);
	sl_log_level = log_level;
	CU_ASSERT(seg_writer_position(w)->offset == SNAP_P1(2) * 100);
	CHECK(snap_chunk(w, 2, 2, 1, 5, 1, E));
	CHECK(snap_end(w, 2, 2, 25, E));
	CU_ASSERT(seg_writer_seal(w, &err) == 0);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	{
		struct snap_model m;
		struct seg_verify_summary s;

		CU_ASSERT_FATAL(snap_read(t.dir, &m) == 0);
		CU_ASSERT(m.bad == 0 && m.units == SNAP_UNITS && m.ends == 1 && m.rows == 25);
		verify_clean(t.dir, SEG_VERIFY_DEEP, &s);
		CU_ASSERT(s.sealed == 1 && s.chunks == 5 && s.tables_done == 2 && s.snapshot_ends == 1 &&
			  s.snapshot_runs == 2 && s.schema_objects == 3);
		seg_verify_summary_release(&s);
	}
	free(p);
	tdir_free(&t);
}

/* A sealed footer whose snapshot counts disagree with its body is found by
 * verify --segments --deep (the counts are part of what the footer says). */
static void test_snapshot__footer_counts_checked(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct seg_file_info fi;
	struct sl_err err = SL_ERR_INIT;
	Sluice__Position start;
	uint64_t size;
	int fd;
	char *p;

	tdir_new(&t);
	o = opts_for(&t);
	set_pos(&start, SNAP_P1(1));
	o.start = &start;
	w = open_writer(&o);
	write_snapshot(w, NULL, NULL);
	CU_ASSERT(seg_writer_seal(w, &err) == 0);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	p = seg_file(&t, 1, 1);
	CU_ASSERT_FATAL(seg__open_regular(p, 0, &fd, &size, &err) == 0);
	CU_ASSERT_FATAL(seg__check_file(fd, p, size, SEG_CHECK_DEEP | SEG_CHECK_SEALED, &fi, &err) == 0);
	CU_ASSERT(fi.footer->chunks == 5 && fi.footer->schema_objects == 3 &&
		  fi.footer->snapshot_runs == 2 && fi.footer->tables_done == 2 &&
		  fi.footer->snapshot_ends == 1 && fi.footer->rows == 25 && fi.footer->transactions == 0);
	CU_ASSERT(fi.footer->end && fi.footer->end->offset == SNAP_P1(2) * 100);
	seg__file_info_release(&fi);
	close(fd);
	free(p);
	tdir_free(&t);
}

/* The rule that closes the class: every record kind of sluice.proto that
 * carries a source position (a field "position") or is counted in footers
 * must be known to the store's one table (seg__record_count) and decoded by
 * the writer's recovery and verify (seg__tag_counted). A kind added to the
 * proto later fails here until it is classified there. */
static void test_snapshot__every_record_kind_classified(void)
{
	const ProtobufCMessageDescriptor *rd = &sluice__record__descriptor;

	for (unsigned i = 0; i < rd->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &rd->fields[i];
		const ProtobufCMessageDescriptor *md = f->descriptor;
		const ProtobufCFieldDescriptor *pf = protobuf_c_message_descriptor_get_field_by_name(md, "position");
		ProtobufCMessage *sub = calloc(1, md->sizeof_message);
		Sluice__Record r = SLUICE__RECORD__INIT;
		Sluice__Position p = SLUICE__POSITION__INIT;
		struct seg_counts c, zero;
		const Sluice__Position *got;
		uint8_t tag = (uint8_t)((f->id << 3) | 2);

		CU_ASSERT_FATAL(sub != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE && f->id < 16);
		protobuf_c_message_init(md, sub);
		if (pf && pf->type == PROTOBUF_C_TYPE_MESSAGE && pf->descriptor == &sluice__position__descriptor)
			*(Sluice__Position **)((char *)sub + pf->offset) = &p;
		r.body_case = (Sluice__Record__BodyCase)f->id;
		*(ProtobufCMessage **)((char *)&r + f->offset) = sub;
		memset(&c, 0, sizeof(c));
		memset(&zero, 0, sizeof(zero));
		got = seg__record_count(&c, &r, NULL);
		if (pf) {
			CU_ASSERT(got == &p);
			CU_ASSERT(seg__tag_counted(tag));
			if (got != &p || !seg__tag_counted(tag))
				fprintf(stderr, "\n  record kind %s carries a position the store ignores\n", f->name);
		}
		if (!seg__counts_equal(&c, &zero) && tag != SEG_TAG_ROW) {
			CU_ASSERT(seg__tag_counted(tag));
			if (!seg__tag_counted(tag))
				fprintf(stderr, "\n  record kind %s is counted but not decoded by recovery\n", f->name);
		}
		free(sub);
	}
	/* 11 kinds when this was written: a new one must be looked at in
	 * seg__record_count() (does the footer count it?), then counted here */
	CU_ASSERT_EQUAL(rd->n_fields, 11);
	if (rd->n_fields != 11)
		fprintf(stderr, "\n  Record has %u kinds: classify the new ones in store/seg_frame.c "
			"seg__record_count() and update this test\n", rd->n_fields);
}

static int count_segs(const char *dir)
{
	struct seg_list l;
	struct sl_err err = SL_ERR_INIT;
	int n;

	if (seg__dir_scan(dir, &l, &err))
		return 0;
	n = (int)l.n;
	seg__list_release(&l);
	return n;
}

/* pack carries DIR/snapshot as the bundle's snapshot/ part; unpack checks
 * both parts before it adds a file to either directory, rebuilds both and
 * adds nothing the second time. */
static void test_snapshot__pack_unpack(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct seg_pack_opts po = { 0 };
	struct seg_unpack_opts uo = { 0 };
	struct seg_transfer_result res;
	struct sl_err err = SL_ERR_INIT;
	struct snap_model m;
	Sluice__Position start;
	char snap[128], b[128], r[128], r2[128], rsnap[160], bseg[192];
	int fd;

	tdir_new(&t);
	o = opts_for(&t);
	w = open_writer(&o);
	write_txns(w, 1, 30);
	CU_ASSERT(seg_writer_seal(w, &err) == 0);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	snprintf(snap, sizeof(snap), "%s/snapshot", t.dir);
	o.dir = snap;
	o.segment_size = 2048;
	set_pos(&start, SNAP_P1(1));
	o.start = &start;
	w = open_writer(&o);
	write_snapshot(w, NULL, NULL);
	CU_ASSERT(seg_writer_seal(w, &err) == 0);
	CU_ASSERT(seg_writer_close(w, &err) == 0);

	snprintf(b, sizeof(b), "%s/b", t.root);
	snprintf(r, sizeof(r), "%s/r", t.root);
	snprintf(r2, sizeof(r2), "%s/r2", t.root);
	snprintf(rsnap, sizeof(rsnap), "%s/snapshot", r);
	po.dir = t.dir;
	po.out = b;
	CU_ASSERT_FATAL(seg_pack(&po, &res, &err) == 0);
	CU_ASSERT(res.snapshot.present && res.snapshot.first_seq == 1 &&
		  res.snapshot.files == (uint64_t)count_segs(snap));
	uo.bundle = b;
	uo.into = r;
	CU_ASSERT_FATAL(seg_unpack(&uo, &res, &err) == 0);
	CU_ASSERT(res.snapshot.present && res.snapshot.added == (uint64_t)count_segs(snap));
	check_stream(r, 30);
	CU_ASSERT_FATAL(snap_read(rsnap, &m) == 0);
	CU_ASSERT(m.bad == 0 && m.units == SNAP_UNITS && m.ends == 1);
	CU_ASSERT(seg_unpack(&uo, &res, &err) == 0);
	CU_ASSERT(res.added == 0 && res.snapshot.added == 0);

	/* a damaged snapshot segment: refused, and DIR gets nothing either */
	snprintf(bseg, sizeof(bseg), "%s/snapshot/00000000000000000002.seg", b);
	fd = open(bseg, O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(pwrite(fd, "\xff", 1, 200) == 1);
	close(fd);
	uo.into = r2;
	CU_ASSERT(seg_unpack(&uo, &res, &err) == -SL_ECORRUPT);
	CU_ASSERT(strstr(err.msg, "00000000000000000002.seg") != NULL);
	CU_ASSERT_EQUAL(count_segs(r2), 0);
	snprintf(rsnap, sizeof(rsnap), "%s/snapshot", r2);
	CU_ASSERT(!exists(rsnap));

	/* --no-snapshot: no snapshot/ part */
	snprintf(b, sizeof(b), "%s/b3", t.root);
	po.out = b;
	po.no_snapshot = 1;
	CU_ASSERT_FATAL(seg_pack(&po, &res, &err) == 0);
	CU_ASSERT(!res.snapshot.present);
	snprintf(bseg, sizeof(bseg), "%s/snapshot", b);
	CU_ASSERT(!exists(bseg));
	tdir_free(&t);
}

/* ---- a fixture for the integration tests ----
 * test_store_snapshot write SNAPDIR SOURCE [unfinished]: a snapshot stream
 * of database d (tables t1 with a collation conversion and t2, view v1,
 * procedure p, a deferred foreign key and trigger), run 1 reads t1 in 3
 * chunks and the first chunk of t2, run 2 the rest of t2, then SnapshotEnd
 * and a seal; with "unfinished" it stops after run 1's chunks, its last
 * segment open. Segments of 4 KiB: several. Until `sluice snapshot` exists
 * (helper i11-snapshot), this is how tests/integration builds DIR/snapshot. */
static int write_fixture(const char *dir, const char *source, int unfinished)
{
	static const char t1[] =
		"CREATE TABLE `t1` (\n  `id` int(11) NOT NULL,\n  `b` blob DEFAULT NULL,\n  PRIMARY KEY (`id`)\n)"
		" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";
	static const char t1_src[] =
		"CREATE TABLE `t1` (\n  `id` int NOT NULL,\n  `b` blob,\n  PRIMARY KEY (`id`)\n)"
		" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci";
	static const char t2[] =
		"CREATE TABLE `t2` (\n  `id` int(11) NOT NULL,\n  `b` blob DEFAULT NULL,\n  PRIMARY KEY (`id`)\n)"
		" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
	struct seg_writer_opts o;
	struct seg_writer *w = NULL;
	struct sl_err err = SL_ERR_INIT;
	Sluice__Position start;
	int rc;

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.source = source;
	o.segment_size = 4096;
	set_pos(&start, SNAP_P1(1));
	o.start = &start;
	if ((rc = seg_writer_open(&w, &o, &err)))
		goto out;
#define K(x) SLUICE__SCHEMA_OBJECT__KIND__##x
	if ((rc = snap_object(w, K(DATABASE), "d", "", "", "CREATE DATABASE `d`", "", NULL, 0, 1, &err)) ||
	    (rc = snap_object(w, K(TABLE), "d", "t1", "", t1, t1_src,
			      "collation: utf8mb4_0900_ai_ci -> utf8mb4_general_ci (distinct keys may collide)",
			      0, 2, &err)) ||
	    (rc = snap_object(w, K(TABLE), "d", "t2", "", t2, "", NULL, 0, 3, &err)) ||
	    (rc = snap_object(w, K(VIEW), "d", "v1", "",
			      "CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `v1` AS select `t1`.`id` AS `id` from `t1`",
			      "", NULL, 0, 4, &err)) ||
	    (rc = snap_object(w, K(ROUTINE), "d", "p", "",
			      "CREATE PROCEDURE `p`()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND", "", NULL, 0, 5, &err)) ||
	    (rc = snap_object(w, K(FOREIGN_KEY), "d", "fk_t2", "t2",
			      "ALTER TABLE `t2` ADD CONSTRAINT `fk_t2` FOREIGN KEY (`id`) REFERENCES `t1` (`id`)",
			      "", NULL, 1, 6, &err)) ||
	    (rc = snap_object(w, K(TRIGGER), "d", "trg", "t1",
			      "CREATE TRIGGER `trg` BEFORE INSERT ON `t1` FOR EACH ROW BEGIN\n  SET @n = 1;\n  SET @m = 2;\nEND",
			      "", NULL, 1, 7, &err)))
		goto out;
#undef K
	if ((rc = snap_begin(w, 1, 2, &err)))
		goto out;
	for (uint64_t c = 0; c < 3 && !rc; c++)
		rc = snap_chunk(w, 1, 1, c, 5, c == 2, &err);
	if (rc || (rc = snap_chunk(w, 1, 2, 0, 5, 0, &err)))
		goto out;
	if (!unfinished &&
	    ((rc = snap_begin(w, 2, 1, &err)) || (rc = snap_chunk(w, 2, 2, 1, 5, 1, &err)) ||
	     (rc = snap_end(w, 2, 2, 25, &err)) || (rc = seg_writer_seal(w, &err))))
		goto out;
	rc = seg_writer_close(w, &err);
	w = NULL;
out:
	if (w)
		seg_writer_close(w, NULL);
	if (rc)
		fprintf(stderr, "write_fixture: %s\n", err.msg);
	return rc ? 2 : 0;
}

/* One INSERT of n_bytes bytes (i: which) as a Record. */
static void packed_row_record(Sluice__Record *r, Sluice__RowChange *rc, Sluice__Row *row,
			      Sluice__Value *v, Sluice__Value **vp, uint8_t *data, size_t n_bytes,
			      unsigned i)
{
	sluice__value__init(&v[0]);
	sluice__value__init(&v[1]);
	v[0].kind = SLUICE__VALUE__KIND__INT;
	v[0].i = (int64_t)i - 3;
	v[1].kind = SLUICE__VALUE__KIND__BYTES;
	fill(data, n_bytes, i);
	v[1].b.data = data;
	v[1].b.len = n_bytes;
	vp[0] = &v[0];
	vp[1] = &v[1];
	sluice__row__init(row);
	row->n_values = 2;
	row->values = vp;
	sluice__row_change__init(rc);
	rc->table_ref = 3;
	rc->after = row;
	sluice__record__init(r);
	r->body_case = SLUICE__RECORD__BODY_ROW;
	r->row = rc;
}

/* Rows handed to the writer packed (seg_writer_append_rows(), a snapshot
 * reader's chunk) give the stream seg_writer_append() of each gives: the
 * same records in the same frames at the same places, the same counts;
 * a run that is not packed rows is refused. */
static void test_snapshot__append_rows_as_append(void)
{
	static const size_t sizes[] = { 10, 300, 1500, 0, 70, 5000, 200, 200, 200, 900 };
	struct tdir ta, tb;
	struct seg_writer *wa, *wb;
	struct seg_writer_opts oa, ob;
	struct sl_buf packed = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct seg_reader *ra, *rb;
	struct seg_verify_summary s;
	struct sl_err err = SL_ERR_INIT;
	Sluice__Position start;
	uint8_t data[5000];
	size_t half = 0, n = 0;
	int ka, kb;

	tdir_new(&ta);
	tdir_new(&tb);
	set_pos(&start, SNAP_P1(1));
	oa = opts_for(&ta);
	ob = opts_for(&tb);
	oa.frame_bytes = ob.frame_bytes = 1024;	/* rows span frames; one is larger */
	oa.start = ob.start = &start;
	wa = open_writer(&oa);
	wb = open_writer(&ob);
	for (unsigned u = 0; u < 2; u++) {
		sl_buf_reset(&packed);
		for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			Sluice__Record r;
			Sluice__RowChange rc;
			Sluice__Row row;
			Sluice__Value v[2], *vp[2];

			packed_row_record(&r, &rc, &row, v, vp, data, sizes[i], u * 100 + i);
			CHECK(seg_writer_append(wa, &r, E));
			CU_ASSERT_FATAL(fmt_record_pack(&r, &packed) == 0);
			if (i == 4)
				half = packed.len;
			n++;
		}
		CHECK(seg_writer_append_rows(wb, packed.data, half, E));
		CHECK(seg_writer_append_rows(wb, packed.data + half, packed.len - half, E));
		CHECK(snap_unit_end(wa, 1, E));
		CHECK(snap_unit_end(wb, 1, E));
	}
	/* not rows, or cut short: refused */
	{
		Sluice__Record r = SLUICE__RECORD__INIT;
		Sluice__SnapshotChunk sc = SLUICE__SNAPSHOT_CHUNK__INIT;

		sl_buf_reset(&packed);
		r.body_case = SLUICE__RECORD__BODY_CHUNK;
		r.chunk = &sc;
		sc.table = (char *)"t";
		CU_ASSERT_FATAL(fmt_record_pack(&r, &packed) == 0);
		CU_ASSERT_EQUAL(seg_writer_append_rows(wb, packed.data, packed.len, &err), -SL_EINVAL_ARG);
		sl_buf_reset(&packed);
		{
			Sluice__RowChange rc;
			Sluice__Row row;
			Sluice__Value v[2], *vp[2];

			packed_row_record(&r, &rc, &row, v, vp, data, 100, 1);
			CU_ASSERT_FATAL(fmt_record_pack(&r, &packed) == 0);
		}
		CU_ASSERT_EQUAL(seg_writer_append_rows(wb, packed.data, packed.len - 1, &err),
				-SL_EINVAL_ARG);
	}
	CU_ASSERT(seg_writer_seal(wa, &err) == 0);
	CU_ASSERT(seg_writer_close(wa, &err) == 0);
	CU_ASSERT(seg_writer_seal(wb, &err) == 0);
	CU_ASSERT(seg_writer_close(wb, &err) == 0);

	CU_ASSERT_FATAL(seg_reader_open(&ra, ta.dir, &err) == 0);
	CU_ASSERT_FATAL(seg_reader_open(&rb, tb.dir, &err) == 0);
	for (size_t got = 0;; got++) {
		const uint8_t *ba, *bb;
		size_t la, lb;
		struct seg_cursor ca, cb;

		ka = seg_reader_next_raw(ra, &ba, &la, &ca, &err);
		kb = seg_reader_next_raw(rb, &bb, &lb, &cb, &err);
		CU_ASSERT_EQUAL_FATAL(ka, kb);
		if (ka != 1) {
			CU_ASSERT_EQUAL(ka, 0);
			CU_ASSERT_EQUAL(got, n);
			break;
		}
		CU_ASSERT(la == lb && memcmp(ba, bb, la) == 0);
		CU_ASSERT(ca.seq == cb.seq && ca.offset == cb.offset && ca.index == cb.index);
	}
	seg_reader_close(ra);
	seg_reader_close(rb);
	verify_clean(tb.dir, SEG_VERIFY_DEEP, &s);
	CU_ASSERT_EQUAL(s.rows, n);
	seg_verify_summary_release(&s);
	sl_buf_release(&packed);
	tdir_free(&ta);
	tdir_free(&tb);
}

int main(int argc, char **argv)
{
	CU_pSuite s;
	unsigned failed;

	sl_log_init();
	if (argc >= 4 && !strcmp(argv[1], "write"))
		return write_fixture(argv[2], argv[3], argc > 4 && !strcmp(argv[4], "unfinished"));
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("store/snapshot", NULL, NULL);
	CU_add_test(s, "round trip and counts", test_snapshot__round_trip_and_counts);
	CU_add_test(s, "torn tail recovers", test_snapshot__torn_tail_recovers);
	CU_add_test(s, "footer counts checked", test_snapshot__footer_counts_checked);
	CU_add_test(s, "pack and unpack carry the snapshot", test_snapshot__pack_unpack);
	CU_add_test(s, "every record kind classified", test_snapshot__every_record_kind_classified);
	CU_add_test(s, "packed rows append as records do", test_snapshot__append_rows_as_append);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
