/* test_store.c - CUnit suite for store/: segment writer, recovery, reader, follow mode and faults. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seg.h"
#include "seg_int.h"
#define TDIR_TAG "store"
#include "test_tdir.h"
#include "test_store_util.h"
#include "banned.h"


static void round_trip(int no_uring)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	char *p;

	tdir_new(&t);
	o = opts_for(&t);
	o.no_uring = no_uring;
	w = open_writer(&o);
	CU_ASSERT(seg_writer_position(w) == NULL);
	CU_ASSERT_EQUAL(seg_writer_seq(w), 1);
	write_txns(w, 1, 300);
	CU_ASSERT_EQUAL(writer_txn(w), 300);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	p = seg_file(&t, 1, 0);
	CU_ASSERT(exists(p));
	{
		struct stat st;

		CU_ASSERT(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
		CU_ASSERT(stat(t.dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	}
	check_stream(t.dir, 300);
	check_stream(p, 300);		/* one segment file on its own */
	/* reopen: position survives, appends continue */
	w = open_writer(&o);
	CU_ASSERT_EQUAL(writer_txn(w), 300);
	write_txns(w, 301, 310);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	check_stream(t.dir, 310);
	free(p);
	tdir_free(&t);
}

static void test_store__round_trip_uring(void)
{
	round_trip(0);
}

static void test_store__round_trip_pwrite(void)
{
	round_trip(1);
}

/* FORMAT.md: body_hash is the CRC32C of the frame headers before the footer. */
static void check_body_hash(int fd, const char *path, const Sluice__SegmentFooter *f)
{
	struct sl_err err = SL_ERR_INIT;
	struct sl_buf payload = SL_BUF_INIT(SEG_PAYLOAD_MAX);
	Sluice__SegmentHeader *h = NULL;
	uint32_t hl = 0, crc = 0;
	uint64_t off, size = fsize(path);

	CU_ASSERT_FATAL(seg__header_read(fd, path, size, &h, &hl, &err) == 1);
	for (off = hl; off < hl + f->body_bytes;) {
		struct seg_frame fr;

		CU_ASSERT_FATAL(seg__frame_read(fd, path, off, size, &fr, &payload, &err) == 1);
		CU_ASSERT(fr.type == SEG_FRAME_DATA);
		crc = sl_crc32c(crc, fr.hdr, SEG_FRAME_HDR);
		off = fr.end;
	}
	CU_ASSERT_EQUAL(off, hl + f->body_bytes);
	CU_ASSERT(f->body_hash.len == 4 && sl_le32(f->body_hash.data) == crc);
	CU_ASSERT(h->start != NULL);
	sluice__segment_header__free_unpacked(h, NULL);
	sl_buf_release(&payload);
}

static void test_store__seal_on_size(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	uint64_t seq, total_txn = 0, total_rows = 0;
	char *src = NULL;
	uint8_t id[16], id0[16] = { 0 };

	tdir_new(&t);
	CU_ASSERT(seg_dir_identity(t.dir, &src, id, &err) < 0);
	o = opts_for(&t);
	o.segment_size = 16 << 10;
	w = open_writer(&o);
	write_txns(w, 1, 400);
	seq = seg_writer_seq(w);
	CU_ASSERT(seq > 3);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	/* every segment but possibly the newest is sealed; footers add up */
	for (uint64_t s = 1; s <= seq; s++) {
		char *sealed = seg_file(&t, s, 1), *open_ = seg_file(&t, s, 0);

		if (s < seq)
			CU_ASSERT(exists(sealed));
		if (exists(sealed)) {
			Sluice__SegmentFooter *f = NULL;
			int fd = open(sealed, O_RDONLY);

			CU_ASSERT(seg__footer_read(fd, sealed, fsize(sealed), s, &f, NULL, &err) == 0);
			if (f)
				check_body_hash(fd, sealed, f);
			if (f) {
				CU_ASSERT(f->end != NULL);
				CU_ASSERT(f->body_hash.len == 4);
				CU_ASSERT(f->first_time <= f->last_time);
				total_txn += f->transactions;
				total_rows += f->rows;
				sluice__segment_footer__free_unpacked(f, NULL);
			}
			close(fd);
		}
		free(sealed);
		free(open_);
	}
	CU_ASSERT(total_txn > 0 && total_txn <= 400);
	CU_ASSERT(total_rows > 0);
	check_stream(t.dir, 400);
	CU_ASSERT(seg_dir_identity(t.dir, &src, id, &err) == 0);
	CU_ASSERT(src && !strcmp(src, SOURCE));
	CU_ASSERT(memcmp(id, id0, 16) != 0);
	free(src);
	tdir_free(&t);
}

/* Retention removing segments this reader has not reached yet (it is
 * reading segment 1 when 1 and 2 go) is an error naming the segment, not an
 * endless "not written yet". */
static void test_store__missing_segment_is_an_error(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct seg_reader *r = NULL;
	struct sl_err err = SL_ERR_INIT;
	int rc, n = 0;

	tdir_new(&t);
	o = opts_for(&t);
	o.segment_size = 16 << 10;
	w = open_writer(&o);
	write_txns(w, 1, 400);
	CU_ASSERT(seg_writer_seq(w) > 3);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	CU_ASSERT_FATAL(seg_reader_open(&r, t.dir, &err) == 0);
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;

		rc = seg_reader_next(r, &rec, &cur, &err);
		if (rc <= 0)
			break;
		CU_ASSERT(cur.seq == 1);
		fmt_record_free(rec);
		if (n++ == 0) {
			for (uint64_t s = 1; s <= 2; s++) {
				char *gone = seg_file(&t, s, 1);

				CU_ASSERT(unlink(gone) == 0);
				free(gone);
			}
		}
	}
	CU_ASSERT(rc < 0);
	CU_ASSERT(strstr(err.msg, "segment 2 is missing") != NULL);
	seg_reader_close(r);
	tdir_free(&t);
}

/* Records appended without txn_end are never delivered; close drops them. */
static void test_store__only_complete_transactions(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct seg_reader *r;
	struct sl_err err = SL_ERR_INIT;
	struct model m = { .txn = 1 };

	tdir_new(&t);
	o = opts_for(&t);
	o.frame_bytes = 1024;
	w = open_writer(&o);
	write_txns(w, 1, 5);
	/* transaction 6 spans frames that reach the disk, without its end */
	CU_ASSERT(append_begin(w, 6, &err) == 0);
	for (unsigned i = 0; i < 30; i++)
		CU_ASSERT(append_row(w, 6, i, &err) == 0);
	CU_ASSERT(seg_writer_flush(w, &err) == 0);
	CU_ASSERT(seg_reader_open(&r, t.dir, &err) == 0);
	CU_ASSERT(drain(r, &m, &err) == 0);
	CU_ASSERT_EQUAL(m.txn, 6);
	CU_ASSERT(!m.in_txn && m.bad == 0);
	CU_ASSERT(drain(r, &m, &err) == 0);	/* still nothing */
	CU_ASSERT_EQUAL(m.txn, 6);
	seg_reader_close(r);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	sl_log_level = SL_ERROR;	/* the cut of transaction 6 is expected */
	w = open_writer(&o);
	sl_log_level = SL_INFO;
	CU_ASSERT_EQUAL(writer_txn(w), 5);
	write_txns(w, 6, 8);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	check_stream(t.dir, 8);
	tdir_free(&t);
}

/* Group commit: txn_end does not write before the interval; flush does. */
static void test_store__group_commit(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct seg_reader *r;
	struct sl_err err = SL_ERR_INIT;
	struct model m = { .txn = 1 };

	tdir_new(&t);
	o = opts_for(&t);
	o.frame_bytes = 1 << 20;
	o.commit_interval_ms = 60000;
	w = open_writer(&o);
	write_txns(w, 1, 6);
	CU_ASSERT(seg_reader_open(&r, t.dir, &err) == 0);
	CU_ASSERT(drain(r, &m, &err) == 0);
	CU_ASSERT_EQUAL(m.records, 0);
	CU_ASSERT(seg_writer_flush(w, &err) == 0);
	CU_ASSERT(drain(r, &m, &err) == 0);
	CU_ASSERT_EQUAL(m.txn, 7);
	seg_reader_close(r);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	tdir_free(&t);
}

/* Read all records of dir, remembering their cursors. */
static size_t cursors_of(const char *dir, struct seg_cursor *cur, size_t max)
{
	struct sl_err err = SL_ERR_INIT;
	struct seg_reader *r;
	size_t n = 0;

	CU_ASSERT_FATAL(seg_reader_open(&r, dir, &err) == 0);
	for (;;) {
		Sluice__Record *rec;
		struct seg_cursor c;

		if (seg_reader_next(r, &rec, &c, &err) <= 0)
			break;
		if (n < max)
			cur[n++] = c;
		fmt_record_free(rec);
	}
	seg_reader_close(r);
	return n;
}

static void flip_byte(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(pread(fd, &b, 1, (off_t)off) == 1);
	b ^= 0x20;
	CU_ASSERT(pwrite(fd, &b, 1, (off_t)off) == 1);
	close(fd);
}

static void test_store__flipped_byte_is_reported(void)
{
	static struct seg_cursor cur[4096];
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct seg_reader *r;
	struct sl_err err = SL_ERR_INIT;
	struct model m = { .txn = 1 };
	uint64_t bad_off = 0;
	char want[256], *p;
	size_t n;
	int rc;

	tdir_new(&t);
	o = opts_for(&t);
	o.segment_size = 16 << 10;
	w = open_writer(&o);
	write_txns(w, 1, 100);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	n = cursors_of(t.dir, cur, 4096);
	CU_ASSERT_FATAL(n > 100);
	/* the frame of the 20th record, in segment 1 */
	CU_ASSERT_FATAL(cur[20].seq == 1);
	bad_off = cur[20].offset;
	p = seg_file(&t, 1, 1);
	flip_byte(p, bad_off + SEG_FRAME_HDR + 3);
	CU_ASSERT(seg_reader_open(&r, t.dir, &err) == 0);
	rc = drain(r, &m, &err);
	CU_ASSERT(rc == -SL_ECORRUPT);
	snprintf(want, sizeof(want), "'%s': bad frame crc at offset %llu", p,
		 (unsigned long long)bad_off);
	CU_ASSERT(strstr(err.msg, want) != NULL);
	if (!strstr(err.msg, want))
		fprintf(stderr, "\n  got [%s] want [%s]\n", err.msg, want);
	/* a sealed segment is checked whole before its first record is delivered */
	CU_ASSERT(m.bad == 0 && m.records == 0);
	seg_reader_close(r);
	free(p);
	/* in the middle of the open segment it is an error too, not "not yet" */
	CU_ASSERT_FATAL(cur[n - 1].seq > 1);
	for (size_t i = n - 1; i > 0 && cur[i].seq == cur[n - 1].seq; i--)
		if (cur[i].offset != cur[n - 1].offset)
			bad_off = cur[i].offset;	/* the first frame of the newest segment */
	p = seg_file(&t, cur[n - 1].seq, 0);
	CU_ASSERT_FATAL(exists(p) && bad_off < cur[n - 1].offset);
	flip_byte(p, bad_off + SEG_FRAME_HDR + 1);
	CU_ASSERT(seg_reader_open(&r, p, &err) == 0);
	memset(&m, 0, sizeof(m));
	CU_ASSERT(drain(r, &m, &err) == -SL_ECORRUPT);
	snprintf(want, sizeof(want), "'%s': bad frame crc at offset %llu", p,
		 (unsigned long long)bad_off);
	CU_ASSERT(strstr(err.msg, want) != NULL);
	seg_reader_close(r);
	free(p);
	tdir_free(&t);
}

/* A crash after the footer's fdatasync but before the rename: reopening
 * finishes the seal. */
static void test_store__sealed_not_renamed(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	uint64_t k = 0;
	char *sealed, *open_;
	int log_level = sl_log_level;

	tdir_new(&t);
	o = opts_for(&t);
	o.segment_size = 8 << 10;
	w = open_writer(&o);
	while (seg_writer_seq(w) == 1) {
		k++;
		write_txns(w, k, k);
	}
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	sealed = seg_file(&t, 1, 1);
	open_ = seg_file(&t, 1, 0);
	{
		char *next = seg_file(&t, 2, 0);

		CU_ASSERT(!exists(next));
		free(next);
	}
	CU_ASSERT_FATAL(exists(sealed));
	CU_ASSERT(rename(sealed, open_) == 0);
	sl_log_level = SL_ERROR;
	w = open_writer(&o);
	sl_log_level = log_level;
	CU_ASSERT(exists(sealed) && !exists(open_));
	CU_ASSERT_EQUAL(seg_writer_seq(w), 2);
	CU_ASSERT_EQUAL(writer_txn(w), k);
	write_txns(w, k + 1, k + 5);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	check_stream(t.dir, k + 5);
	free(sealed);
	free(open_);
	tdir_free(&t);
}

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

/* header_len (offset 12) of a segment file. */
static uint64_t header_len_of(const char *path)
{
	uint8_t b[16];
	int fd = open(path, O_RDONLY);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pread(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b));
	close(fd);
	return sl_le32(b + 12);
}

/* Cut the open segment at many offsets: reopening recovers exactly the
 * transactions whose TXN_END frame is complete. */
static void test_store__truncated_open_segment_recovers(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	uint64_t end[41] = { 0 }, size, hdr_len;
	char *p, saved[128];
	int log_level = sl_log_level;

	Sluice__Position start;

	tdir_new(&t);
	o = opts_for(&t);
	set_pos(&start, 0);
	o.start = &start;	/* a segment without frames is at transaction 0 */
	w = open_writer(&o);
	p = seg_file(&t, 1, 0);
	for (uint64_t k = 1; k <= 40; k++) {
		write_txns(w, k, k);
		end[k] = fsize(p);	/* each txn_end writes and syncs (interval 0) */
	}
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	size = fsize(p);
	CU_ASSERT_FATAL(size == end[40]);
	snprintf(saved, sizeof(saved), "%s/saved", t.root);
	CU_ASSERT_FATAL(copy_file(p, saved, size) == 0);
	/* the first txn_end writes the header and the first frame */
	hdr_len = header_len_of(p);
	sl_log_level = SL_ERROR;	/* the cuts are expected */
	for (uint64_t cut = 0; cut <= size; cut += (cut < 2 * hdr_len ? 7 : 97)) {
		uint64_t want = 0;

		for (uint64_t k = 1; k <= 40; k++)
			if (end[k] <= cut)
				want = k;
		CU_ASSERT_FATAL(copy_file(saved, p, cut) == 0);
		if (cut < hdr_len) {
			/* the only segment's header is torn: refused, left in place */
			w = NULL;
			CU_ASSERT(seg_writer_open(&w, &o, &err) == -SL_ECORRUPT);
			CU_ASSERT(w == NULL && strstr(err.msg, p) && strstr(err.msg, "torn header"));
			CU_ASSERT(fsize(p) == cut);
			continue;
		}
		w = open_writer(&o);
		CU_ASSERT_EQUAL(writer_txn(w), want);
		if (writer_txn(w) != want)
			fprintf(stderr, "\n  cut at %llu: position %llu, want %llu\n",
				(unsigned long long)cut, (unsigned long long)writer_txn(w),
				(unsigned long long)want);
		CU_ASSERT(seg_writer_close(w, &err) == 0);
		CU_ASSERT(want == 0 || fsize(p) == end[want]);
		check_stream(t.dir, want);
		CU_ASSERT(exists(p));
	}
	/* every frame boundary +-1 */
	for (uint64_t k = 1; k <= 40; k++) {
		for (int d = -1; d <= 1; d++) {
			uint64_t cut = end[k] + (uint64_t)d;

			if (cut > size)
				continue;
			CU_ASSERT_FATAL(copy_file(saved, p, cut) == 0);
			w = open_writer(&o);
			CU_ASSERT_EQUAL(writer_txn(w), d < 0 ? k - 1 : k);
			CU_ASSERT(seg_writer_close(w, &err) == 0);
		}
	}
	sl_log_level = log_level;
	free(p);
	tdir_free(&t);
}

static void append_bytes(const char *path, const void *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, b, n) == (ssize_t)n);
	close(fd);
}

static void test_store__appended_garbage_is_cut(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	uint8_t junk[1000];
	uint64_t size;
	char *p;
	int log_level = sl_log_level;

	tdir_new(&t);
	o = opts_for(&t);
	w = open_writer(&o);
	write_txns(w, 1, 10);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	p = seg_file(&t, 1, 0);
	size = fsize(p);
	fill(junk, sizeof(junk), 42);
	append_bytes(p, junk, sizeof(junk));
	sl_log_level = SL_ERROR;
	w = open_writer(&o);
	sl_log_level = log_level;
	CU_ASSERT_EQUAL(writer_txn(w), 10);
	CU_ASSERT_EQUAL(fsize(p), size);
	write_txns(w, 11, 15);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	check_stream(t.dir, 15);
	free(p);
	tdir_free(&t);
}

/* A frame with a valid CRC that declares 4 GiB of raw data is refused
 * before anything is allocated for it. */
static void test_store__huge_raw_len_refused(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct seg_reader *r;
	struct sl_err err = SL_ERR_INIT;
	struct model m = { .txn = 1 };
	uint8_t frame[SEG_FRAME_HDR + 8] = { 0 };
	uint64_t size;
	char *p, want[256];
	int log_level = sl_log_level;

	tdir_new(&t);
	o = opts_for(&t);
	w = open_writer(&o);
	write_txns(w, 1, 3);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	p = seg_file(&t, 1, 0);
	size = fsize(p);
	memcpy(frame + SEG_FRAME_HDR, "\x28\xb5\x2f\xfd\0\0\0\0", 8);
	seg__frame_header(frame, 8, 0xfffffff0u, SEG_FRAME_DATA, SEG_FRAME_TXN_END,
			  frame + SEG_FRAME_HDR);
	append_bytes(p, frame, sizeof(frame));
	/* and bytes after it, so it is not at the very end */
	append_bytes(p, frame, sizeof(frame));
	CU_ASSERT(seg_reader_open(&r, t.dir, &err) == 0);
	CU_ASSERT(drain(r, &m, &err) == -SL_ECORRUPT);
	CU_ASSERT_EQUAL(m.txn, 4);
	snprintf(want, sizeof(want), "frame at offset %llu declares a raw length of 4294967280",
		 (unsigned long long)size);
	CU_ASSERT(strstr(err.msg, want) != NULL);
	if (!strstr(err.msg, want))
		fprintf(stderr, "\n  got [%s]\n", err.msg);
	seg_reader_close(r);
	sl_log_level = SL_ERROR;
	w = open_writer(&o);
	sl_log_level = log_level;
	CU_ASSERT_EQUAL(writer_txn(w), 3);
	CU_ASSERT_EQUAL(fsize(p), size);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	free(p);
	tdir_free(&t);
}

/* A reader that reached the end sees later transactions, the seal, and the
 * next segments; a reader of the open file keeps it across the rename. */
static void test_store__follow(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct seg_reader *r, *rf = NULL;
	struct sl_err err = SL_ERR_INIT;
	struct model m = { .txn = 1 }, mf = { .txn = 1 };
	char *p1;
	int rc;

	tdir_new(&t);
	CU_ASSERT(mkdir(t.dir, 0700) == 0);
	CU_ASSERT(seg_reader_open(&r, t.dir, &err) == 0);
	CU_ASSERT(drain(r, &m, &err) == 0);	/* empty DIR: nothing yet */
	o = opts_for(&t);
	o.segment_size = 16 << 10;
	w = open_writer(&o);
	write_txns(w, 1, 3);
	CU_ASSERT(drain(r, &m, &err) == 0);
	CU_ASSERT_EQUAL(m.txn, 4);
	p1 = seg_file(&t, 1, 0);
	CU_ASSERT(seg_reader_open(&rf, p1, &err) == 0);
	CU_ASSERT(drain(rf, &mf, &err) == 0);
	CU_ASSERT_EQUAL(mf.txn, 4);
	for (uint64_t k = 4; k <= 200; k += 7) {
		write_txns(w, k, k + 6);
		rc = drain(r, &m, &err);
		if (rc)
			fprintf(stderr, "\n  follow: %s\n", err.msg);
		CU_ASSERT(rc == 0);
		CU_ASSERT_EQUAL(m.txn, k + 7);
	}
	CU_ASSERT(m.bad == 0);
	CU_ASSERT(seg_writer_seq(w) > 2);
	/* the single-file reader reads segment 1 to its footer and stops */
	CU_ASSERT(drain(rf, &mf, &err) == 0);
	CU_ASSERT(mf.bad == 0 && mf.txn > 4 && mf.last.seq == 1);
	CU_ASSERT(seg_reader_header(rf) && seg_reader_header(rf)->seq == 1);
	CU_ASSERT(seg_reader_header(r) && seg_reader_header(r)->seq == m.last.seq);
	seg_reader_close(rf);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	seg_reader_close(r);
	free(p1);
	tdir_free(&t);
}

static void test_store__seek_after(void)
{
	static struct seg_cursor cur[8192];
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	size_t n, picks[8];
	int np = 0;

	tdir_new(&t);
	o = opts_for(&t);
	o.segment_size = 16 << 10;
	o.frame_bytes = 2048;
	w = open_writer(&o);
	write_txns(w, 1, 120);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	n = cursors_of(t.dir, cur, 8192);
	CU_ASSERT_FATAL(n > 200 && n < 8192);
	picks[np++] = 0;
	picks[np++] = 5;
	picks[np++] = n / 2;
	picks[np++] = n - 2;
	picks[np++] = n - 1;
	for (size_t i = 0; i + 1 < n && np < 7; i++)	/* the last record of segment 1 */
		if (cur[i + 1].seq != cur[i].seq)
			picks[np++] = i;
	for (size_t i = 0; i + 1 < n && np < 8; i++)	/* the middle of a spanning txn */
		if (cur[i + 1].offset != cur[i].offset && cur[i + 1].seq == cur[i].seq && i > n / 3)
			picks[np++] = i;
	for (int k = 0; k < np; k++) {
		struct seg_reader *r;
		size_t i = picks[k], got = 0;
		int rc;

		CU_ASSERT_FATAL(seg_reader_open(&r, t.dir, &err) == 0);
		rc = seg_reader_seek_after(r, &cur[i], &err);
		if (rc)
			fprintf(stderr, "\n  seek: %s\n", err.msg);
		CU_ASSERT_FATAL(rc == 0);
		for (;;) {
			Sluice__Record *rec;
			struct seg_cursor c;

			rc = seg_reader_next(r, &rec, &c, &err);
			if (rc <= 0)
				break;
			CU_ASSERT(i + 1 + got < n && c.seq == cur[i + 1 + got].seq &&
				  c.offset == cur[i + 1 + got].offset &&
				  c.index == cur[i + 1 + got].index);
			got++;
			fmt_record_free(rec);
		}
		CU_ASSERT(rc == 0);
		CU_ASSERT_EQUAL(got, n - i - 1);
		seg_reader_close(r);
	}
	/* a cursor past the records of its frame is an error */
	{
		struct seg_reader *r;
		struct seg_cursor c = cur[0];

		c.index = 100000;
		CU_ASSERT_FATAL(seg_reader_open(&r, t.dir, &err) == 0);
		CU_ASSERT(seg_reader_seek_after(r, &c, &err) < 0);
		seg_reader_close(r);
	}
	tdir_free(&t);
}

static void test_store__other_source_refused(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;

	tdir_new(&t);
	o = opts_for(&t);
	w = open_writer(&o);
	write_txns(w, 1, 2);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	o.source = "mysql:server_id=9:other";
	CU_ASSERT(seg_writer_open(&w, &o, &err) == -SL_ESTREAM);
	CU_ASSERT(w == NULL);
	CU_ASSERT(strstr(err.msg, t.dir) && strstr(err.msg, SOURCE) &&
		  strstr(err.msg, "mysql:server_id=9:other"));
	tdir_free(&t);
}

static void test_store__second_writer_locked_out(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w, *w2 = NULL;
	struct sl_err err = SL_ERR_INIT;

	tdir_new(&t);
	o = opts_for(&t);
	w = open_writer(&o);
	CU_ASSERT(seg_writer_open(&w2, &o, &err) == -EBUSY);
	CU_ASSERT(w2 == NULL);
	CU_ASSERT(strstr(err.msg, "another writer") && strstr(err.msg, "LOCK"));
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	w2 = open_writer(&o);
	CU_ASSERT(seg_writer_close(w2, &err) == 0);
	tdir_free(&t);
}

/* The fault backend fails (and tears) the Nth write: the writer refuses
 * every later call; a reopen recovers the transactions written before. */
static void fault_case(unsigned fail_write, unsigned fail_sync, int tear, int uring)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	struct seg_io *io = NULL;
	uint64_t ok = 0;
	int rc = 0, log_level = sl_log_level;
	Sluice__Position start;

	tdir_new(&t);
	o = opts_for(&t);
	o.segment_size = 8 << 10;
	set_pos(&start, 0);
	o.start = &start;
	if (!uring || seg__io_uring(&io))
		io = seg__io_pwrite();
	CU_ASSERT_FATAL(seg__writer_open_io(&w, &o, seg__io_fault(io, fail_write, fail_sync, tear), &err) == 0);
	for (uint64_t k = 1; k <= 200 && !rc; k++) {
		rc = write_txn(w, k, &err);
		if (!rc)
			ok = k;
	}
	CU_ASSERT(rc == -EIO);
	CU_ASSERT(write_txn(w, ok + 1, &err) == -EIO);
	CU_ASSERT(strstr(err.msg, "earlier i/o error") != NULL);
	CU_ASSERT(seg_writer_flush(w, &err) == -EIO);
	CU_ASSERT(seg_writer_close(w, &err) == -EIO);
	sl_log_level = SL_ERROR;
	if (fail_write == 1 && tear) {
		/* segment 1's header is torn: where the stream starts is unknown */
		char *p = seg_file(&t, 1, 0);

		w = NULL;
		CU_ASSERT(seg_writer_open(&w, &o, &err) == -SL_ECORRUPT && w == NULL);
		CU_ASSERT(strstr(err.msg, p) && strstr(err.msg, "torn header"));
		CU_ASSERT(unlink(p) == 0);	/* what the operator does */
		free(p);
	}
	w = open_writer(&o);
	sl_log_level = log_level;
	/* a failed fdatasync leaves the outcome unknown: either is right */
	CU_ASSERT(writer_txn(w) == ok || (fail_sync && writer_txn(w) == ok + 1));
	if (!(writer_txn(w) == ok || (fail_sync && writer_txn(w) == ok + 1)))
		fprintf(stderr, "\n  fault %u/%u/%d/%d: position %llu, ok %llu\n", fail_write,
			fail_sync, tear, uring, (unsigned long long)writer_txn(w), (unsigned long long)ok);
	ok = writer_txn(w);
	write_txns(w, ok + 1, ok + 20);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	check_stream(t.dir, ok + 20);
	tdir_free(&t);
}

static void test_store__fault_backend(void)
{
	fault_case(5, 0, 1, 0);		/* header, 3 frames, then a torn frame */
	fault_case(1, 0, 1, 0);		/* the header itself is torn */
	fault_case(2, 0, 0, 1);
	fault_case(40, 0, 1, 1);	/* across seals */
	fault_case(0, 7, 0, 0);		/* an fdatasync fails */
	fault_case(0, 30, 0, 1);
}

static void test_store__record_too_big_and_no_start(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	Sluice__Position start;

	tdir_new(&t);
	o = opts_for(&t);
	o.frame_bytes = 512;
	w = open_writer(&o);
	/* a new DIR without opts.start cannot write a frame before a txn_end */
	CU_ASSERT(append_begin(w, 1, &err) == 0);
	{
		int rc = 0;

		for (unsigned i = 0; i < 5 && !rc; i++)
			rc = append_row(w, 1, i, &err);
		CU_ASSERT(rc == -SL_EINVAL_ARG);
	}
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	set_pos(&start, 0);
	o.start = &start;
	w = open_writer(&o);
	write_txns(w, 1, 20);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	check_stream(t.dir, 20);
	tdir_free(&t);
}

/* seg_dir_identity() while a writer seals: the open segment the scan found
 * may be renamed to .seg before it is opened (ship --follow read a stream's
 * identity every poll while capture sealed every 50 ms, and exited 2 with
 * "cannot open '....open': No such file or directory"). A child seals after
 * every transaction for a second; every identity read must succeed. */
static void test_store__identity_while_sealing(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	unsigned long calls = 0, fails = 0;
	int status = -1;
	pid_t pid;

	tdir_new(&t);
	o = opts_for(&t);
	w = open_writer(&o);
	write_txns(w, 1, 3);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct timespec t0, now;
		uint64_t tx = 4;

		if (seg_writer_open(&w, &o, &err))
			_exit(1);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			if (write_txn(w, tx++, &err) || seg_writer_seal(w, &err))
				_exit(1);
			clock_gettime(CLOCK_MONOTONIC, &now);
		} while ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
		_exit(seg_writer_close(w, &err) ? 1 : 0);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		char *source = NULL;
		uint8_t sid[16];
		struct sl_err e = SL_ERR_INIT;

		calls++;
		if (seg_dir_identity(t.dir, &source, sid, &e)) {
			if (!fails++)
				fprintf(stderr, "\n  seg_dir_identity: %s\n", e.msg);
		} else {
			CU_ASSERT_STRING_EQUAL(source, SOURCE);
		}
		free(source);
	}
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT(calls > 100);
	CU_ASSERT_EQUAL(fails, 0);
	tdir_free(&t);
}

/* ---- automatic retention (seg_retain) ---- */

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	sl_log_init();
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("store/seg", NULL, NULL);
	CU_add_test(s, "round trip (io_uring)", test_store__round_trip_uring);
	CU_add_test(s, "round trip (pwrite)", test_store__round_trip_pwrite);
	CU_add_test(s, "seal on size", test_store__seal_on_size);
	CU_add_test(s, "only complete transactions", test_store__only_complete_transactions);
	CU_add_test(s, "group commit", test_store__group_commit);
	CU_add_test(s, "flipped byte is reported", test_store__flipped_byte_is_reported);
	CU_add_test(s, "sealed but not renamed", test_store__sealed_not_renamed);
	CU_add_test(s, "truncated open segment recovers", test_store__truncated_open_segment_recovers);
	CU_add_test(s, "appended garbage is cut", test_store__appended_garbage_is_cut);
	CU_add_test(s, "identity while sealing", test_store__identity_while_sealing);
	CU_add_test(s, "huge raw_len refused", test_store__huge_raw_len_refused);
	CU_add_test(s, "follow", test_store__follow);
	CU_add_test(s, "seek after", test_store__seek_after);
	CU_add_test(s, "other source refused", test_store__other_source_refused);
	CU_add_test(s, "second writer locked out", test_store__second_writer_locked_out);
	CU_add_test(s, "fault backend", test_store__fault_backend);
	CU_add_test(s, "record limits and start", test_store__record_too_big_and_no_start);
	CU_add_test(s, "missing segment is an error", test_store__missing_segment_is_an_error);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
