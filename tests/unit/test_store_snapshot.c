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
		seg_verify_summary_release(&s);
	}
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

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	sl_log_init();
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("store/snapshot", NULL, NULL);
	CU_add_test(s, "round trip and counts", test_snapshot__round_trip_and_counts);
	CU_add_test(s, "torn tail recovers", test_snapshot__torn_tail_recovers);
	CU_add_test(s, "footer counts checked", test_snapshot__footer_counts_checked);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
