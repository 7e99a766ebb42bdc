/* test_store_trust.c - CUnit suite for issue 3: exhaustive damage, chain, fault loop, transfer, hostile dirs, retention. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "seg.h"
#include "seg_int.h"
#define TDIR_TAG "trust"
#include "test_tdir.h"
#include "test_trust_util.h"
#include "banned.h"


static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- B1: every byte of a sealed segment ---- */

static void test_trust__byte_flip_exhaustive(void)
{
	struct tdir t;
	char *p;
	uint64_t size, n, missed_v = 0, missed_r = 0, delivered = 0;

	tdir_new(&t);
	fill_dir(t.dir, 6000, 1, 60);
	p = seg__path(t.dir, 1, 1);
	size = fsize(p);
	CU_ASSERT_FATAL(size > 1000 && size < 20000);
	CU_ASSERT_FATAL(problems_of(t.dir, 0) == 0);
	for (uint64_t off = 0; off < size; off++) {
		flip(p, off, 0xff);
		if (problems_of(t.dir, 0) == 0)
			missed_v++;
		if (drain(t.dir, &n, NULL) >= 0)
			missed_r++;
		delivered += n;
		flip(p, off, 0xff);
	}
	/* random multi-byte damage */
	for (int k = 0; k < 1000; k++) {
		uint64_t offs[8];
		uint8_t masks[8];
		int m = 2 + (int)(rnd() % 7);

		for (int i = 0; i < m; i++) {
			offs[i] = rnd() % size;
			masks[i] = (uint8_t)(1 + rnd() % 255);
			flip(p, offs[i], masks[i]);
		}
		if (problems_of(t.dir, 0) == 0)
			missed_v++;
		if (drain(t.dir, &n, NULL) >= 0)
			missed_r++;
		delivered += n;
		for (int i = m - 1; i >= 0; i--)
			flip(p, offs[i], masks[i]);
	}
	if (missed_v || missed_r || delivered)
		fprintf(stderr, "\n  missed by verify %llu, by reader %llu, records delivered %llu\n",
			(unsigned long long)missed_v, (unsigned long long)missed_r,
			(unsigned long long)delivered);
	CU_ASSERT(missed_v == 0);
	CU_ASSERT(missed_r == 0);
	CU_ASSERT(delivered == 0);	/* nothing from a damaged sealed segment */
	CU_ASSERT(problems_of(t.dir, SEG_VERIFY_DEEP) == 0);
	free(p);
	tdir_free(&t);
}

/* ---- B2: truncation at every offset ---- */

/* Ends of the TXN_END frames of a segment file. */
static size_t txn_ends(const char *path, uint64_t *ends, size_t max, uint64_t *hl_out)
{
	struct sl_buf payload = SL_BUF_INIT(SEG_PAYLOAD_MAX);
	struct sl_err err = SL_ERR_INIT;
	Sluice__SegmentHeader *h = NULL;
	uint64_t size = fsize(path), off;
	uint32_t hl = 0;
	size_t n = 0;
	int fd = open(path, O_RDONLY);

	CU_ASSERT_FATAL(seg__header_read(fd, path, size, &h, &hl, &err) == 1);
	sluice__segment_header__free_unpacked(h, NULL);
	*hl_out = hl;
	for (off = hl;;) {
		struct seg_frame f;

		if (seg__frame_read(fd, path, off, size, &f, &payload, &err) != 1 || f.type != SEG_FRAME_DATA)
			break;
		if ((f.flags & SEG_FRAME_TXN_END) && n < max)
			ends[n++] = f.end;
		off = f.end;
	}
	close(fd);
	sl_buf_release(&payload);
	return n;
}

static void test_trust__truncate_every_offset(void)
{
	struct tdir t;
	char *p, *cut_dir, *open_path, *sealed_copy;
	uint64_t ends[256], hl, size, n, bad_sealed = 0, bad_open = 0;
	size_t ne;

	tdir_new(&t);
	fill_dir(t.dir, 5000, 1, 40);
	p = seg__path(t.dir, 1, 1);
	size = fsize(p);
	ne = txn_ends(p, ends, 256, &hl);
	CU_ASSERT_FATAL(ne > 2);
	cut_dir = sub(&t, "cut");
	CU_ASSERT_FATAL(mkdir(cut_dir, 0700) == 0);
	open_path = seg__path(cut_dir, 1, 0);
	sealed_copy = seg__path(cut_dir, 1, 1);
	for (uint64_t k = 0; k < size; k++) {
		struct seg_writer_opts o = opts_for(cut_dir, 5000);
		struct seg_writer *w = NULL;
		struct sl_err err = SL_ERR_INIT;
		uint64_t want = 0;

		/* sealed: any cut is refused by verify and by the reader */
		copy_file(p, sealed_copy, k);
		if (problems_of(cut_dir, 0) == 0 || drain(sealed_copy, &n, NULL) >= 0)
			bad_sealed++;
		unlink(sealed_copy);
		/* open (a crash): recovery keeps exactly the complete transactions */
		copy_file(p, open_path, k);
		for (size_t i = 0; i < ne; i++)
			if (ends[i] <= k)
				want = ends[i];
		if (seg_writer_open(&w, &o, &err)) {
			/* a torn header of the only segment: refused, left as it is */
			if (k >= hl || fsize(open_path) != k || !strstr(err.msg, "torn header")) {
				bad_open++;
				fprintf(stderr, "\n  cut %llu: %s\n", (unsigned long long)k, err.msg);
			}
		} else {
			seg_writer_close(w, &err);
			if (k < hl || fsize(open_path) != (want ? want : hl))
				bad_open++;
			if (problems_of(cut_dir, 0))
				bad_open++;
		}
		unlink(open_path);
	}
	CU_ASSERT(bad_sealed == 0);
	CU_ASSERT(bad_open == 0);
	if (bad_sealed || bad_open)
		fprintf(stderr, "\n  sealed accepted %llu, open misrecovered %llu\n",
			(unsigned long long)bad_sealed, (unsigned long long)bad_open);
	free(p);
	free(cut_dir);
	free(open_path);
	free(sealed_copy);
	tdir_free(&t);
}

/* ---- B3: garbage appended to the open segment ---- */

static void test_trust__garbage_appended(void)
{
	struct tdir t;
	char *p;
	uint64_t size, bad = 0;

	tdir_new(&t);
	fill_dir(t.dir, 1 << 20, 1, 30);
	p = seg__path(t.dir, 1, 0);
	size = fsize(p);
	for (int k = 0; k < 200; k++) {
		uint8_t g[4096];
		size_t len = 1 + rnd() % sizeof(g);
		struct seg_writer_opts o = opts_for(t.dir, 1 << 20);
		struct seg_writer *w = NULL;
		struct sl_err err = SL_ERR_INIT;
		int fd = open(p, O_WRONLY | O_APPEND);

		for (size_t i = 0; i < len; i++)
			g[i] = (uint8_t)rnd();
		if (k % 3 == 0 && len >= 16)	/* a plausible frame header */
			seg__frame_header(g, (uint32_t)(len - 16), 10, SEG_FRAME_DATA, 1, g + 16);
		CU_ASSERT_FATAL(write(fd, g, len) == (ssize_t)len);
		close(fd);
		if (seg_writer_open(&w, &o, &err) == 0)
			seg_writer_close(w, &err);
		if (fsize(p) != size)
			bad++;
	}
	CU_ASSERT(bad == 0);
	CU_ASSERT(problems_of(t.dir, SEG_VERIFY_DEEP) == 0);
	free(p);
	tdir_free(&t);
}

/* ---- B4: a zstd frame that declares a huge size ---- */

static void test_trust__zstd_huge_declared_size(void)
{
	struct tdir t;
	char *p;
	uint8_t fr[SEG_FRAME_HDR + 12];
	/* zstd frame: single segment, 4-byte content size 0xF0000000, one raw block of 1 byte */
	static const uint8_t z[12] = { 0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0x00, 0x00, 0x00, 0xf0,
				       0x09, 0x00, 0x00 };
	uint64_t size, n;
	int fd;

	tdir_new(&t);
	fill_dir(t.dir, 1 << 20, 1, 3);
	p = seg__path(t.dir, 1, 0);
	size = fsize(p);
	/* raw_len small and honest-looking, the zstd header says 4 GiB */
	memcpy(fr + SEG_FRAME_HDR, z, sizeof(z));
	fr[SEG_FRAME_HDR + 11] = 'x';
	seg__frame_header(fr, sizeof(z), 100, SEG_FRAME_DATA, SEG_FRAME_TXN_END, fr + SEG_FRAME_HDR);
	fd = open(p, O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(write(fd, fr, sizeof(fr)) == (ssize_t)sizeof(fr));
	close(fd);
	CU_ASSERT(problems_of(t.dir, SEG_VERIFY_DEEP) == 1);
	CU_ASSERT(drain(t.dir, &n, NULL) == -SL_ECORRUPT);
	/* raw_len itself huge: refused from the frame header */
	CU_ASSERT(truncate(p, (off_t)size) == 0);
	seg__frame_header(fr, sizeof(z), 0xF0000000u, SEG_FRAME_DATA, SEG_FRAME_TXN_END, fr + SEG_FRAME_HDR);
	fd = open(p, O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(write(fd, fr, sizeof(fr)) == (ssize_t)sizeof(fr));
	/* more bytes follow: not a write in progress at the end of the file */
	CU_ASSERT_FATAL(write(fd, fr, sizeof(fr)) == (ssize_t)sizeof(fr));
	close(fd);
	CU_ASSERT(problems_of(t.dir, 0) == 1);
	CU_ASSERT(drain(t.dir, &n, NULL) == -SL_ECORRUPT);
	free(p);
	tdir_free(&t);
}

/* ---- B5: the chain ---- */

static void test_trust__chain(void)
{
	struct tdir t;
	char *a2, *a3, *a4, *tmp, *fork, *f4, *other, *o2;
	uint64_t n;

	tdir_new(&t);
	fill_dir(t.dir, 3000, 1, 80);
	a2 = seg__path(t.dir, 2, 1);
	a3 = seg__path(t.dir, 3, 1);
	a4 = seg__path(t.dir, 4, 1);
	tmp = sub(&t, "tmp");
	CU_ASSERT_FATAL(fsize(a4) != (uint64_t)-1);
	CU_ASSERT(problems_of(t.dir, 0) == 0);
	/* a fork: same stream up to 3, different afterwards */
	fork = sub(&t, "fork");
	CU_ASSERT_FATAL(mkdir(fork, 0700) == 0);
	for (uint64_t s = 1; s <= 3; s++) {
		char *from = seg__path(t.dir, s, 1), *to = seg__path(fork, s, 1);

		copy_file(from, to, fsize(from));
		free(from);
		free(to);
	}
	fill_dir(fork, 3000, 1000, 1040);
	f4 = seg__path(fork, 4, 1);
	/* swapped */
	CU_ASSERT(rename(a2, tmp) == 0 && rename(a3, a2) == 0 && rename(tmp, a3) == 0);
	CU_ASSERT(problems_of(t.dir, 0) > 0);
	CU_ASSERT(drain(t.dir, &n, NULL) < 0);
	CU_ASSERT(rename(a2, tmp) == 0 && rename(a3, a2) == 0 && rename(tmp, a3) == 0);
	CU_ASSERT(problems_of(t.dir, 0) == 0);
	/* missing */
	CU_ASSERT(rename(a3, tmp) == 0);
	CU_ASSERT(problems_of(t.dir, 0) > 0);
	CU_ASSERT(drain(t.dir, &n, NULL) < 0);
	CU_ASSERT(rename(tmp, a3) == 0);
	/* duplicated: 3 copied over 4 */
	CU_ASSERT(rename(a4, tmp) == 0);
	copy_file(a3, a4, fsize(a3));
	CU_ASSERT(problems_of(t.dir, 0) > 0);
	CU_ASSERT(drain(t.dir, &n, NULL) < 0);
	CU_ASSERT(rename(tmp, a4) == 0);
	/* from the fork: same stream id, wrong predecessor */
	CU_ASSERT(rename(a4, tmp) == 0);
	copy_file(f4, a4, fsize(f4));
	CU_ASSERT(problems_of(t.dir, 0) > 0);
	CU_ASSERT(drain(t.dir, &n, NULL) < 0);
	{
		struct seg_writer_opts o = opts_for(t.dir, 3000);
		struct seg_writer *w = NULL;
		struct sl_err err = SL_ERR_INIT;

		CU_ASSERT(seg_writer_open(&w, &o, &err) == -SL_ECORRUPT);
		CU_ASSERT(strstr(err.msg, "footer hash") != NULL);
	}
	CU_ASSERT(rename(tmp, a4) == 0);
	/* foreign: another stream's segment 2 */
	other = sub(&t, "other");
	fill_dir(other, 3000, 1, 30);
	o2 = seg__path(other, 2, 1);
	CU_ASSERT(rename(a2, tmp) == 0);
	copy_file(o2, a2, fsize(o2));
	CU_ASSERT(problems_of(t.dir, 0) > 0);
	CU_ASSERT(drain(t.dir, &n, NULL) < 0);
	CU_ASSERT(rename(tmp, a2) == 0);
	CU_ASSERT(problems_of(t.dir, SEG_VERIFY_DEEP) == 0);
	CU_ASSERT(drain(t.dir, &n, NULL) == 0 && n > 0);
	free(a2);
	free(a3);
	free(a4);
	free(tmp);
	free(fork);
	free(f4);
	free(other);
	free(o2);
	tdir_free(&t);
}

/* ---- E2: fault loop ----
 * The k-th write (mode 0), torn write (1), fdatasync (2), rename (3: not
 * done, 4: done but reported failed) or directory fsync (5) fails, and so
 * does every later call. Then a restart on a disk whose first rename or
 * directory fsync fails (recovery finishing a seal, removing a torn header)
 * must fail cleanly or succeed; a restart on a good disk recovers: nothing
 * sealed is corrupt, every acknowledged transaction is there. */

static struct seg_io *fault_io(unsigned mode, unsigned k)
{
	struct seg_io *io = seg__io_fault(seg__io_pwrite(), mode < 2 ? k : 0, mode == 2 ? k : 0,
					  mode == 1);

	if (mode >= 3)
		seg__io_fault_dir(io, mode == 3 || mode == 4 ? k : 0, mode == 4, mode == 5 ? k : 0);
	return io;
}

static void test_trust__fault_loop(void)
{
	/* 80 transactions make 5 seals (5 renames) and 11 directory fsyncs */
	static const unsigned kmax[6] = { 60, 60, 60, 5, 5, 11 };
	unsigned crashes_bad = 0, runs = 0, dir_faults = 0;

	for (unsigned mode = 0; mode < 6; mode++) {
		for (unsigned k = 1; k <= kmax[mode]; k++) {
			struct tdir t;
			struct seg_writer_opts o;
			struct seg_writer *w = NULL;
			struct sl_err err = SL_ERR_INIT;
			uint64_t acked = 0, n = 0, commits = 0;
			int rc = 0;

			tdir_new(&t);
			o = opts_for(t.dir, 4000);
			if (seg__writer_open_io(&w, &o, fault_io(mode, k), &err) == 0) {
				for (uint64_t tx = 1; tx <= 80 && !rc; tx++) {
					rc = write_txn(w, tx, &err);
					if (!rc && tx % 5 == 0)
						rc = seg_writer_flush(w, &err);
					if (!rc && tx % 5 == 0)
						acked = tx;	/* durable: flushed */
				}
				if (rc && mode >= 3)
					dir_faults++;
				seg_writer_close(w, &err);
			}
			runs++;
			/* restart on a disk whose first rename / directory fsync fails */
			for (unsigned m = 3; m <= 5; m++) {
				struct seg_writer_opts o3 = opts_for(t.dir, 4000);
				struct seg_writer *w3 = NULL;

				if (seg__writer_open_io(&w3, &o3, fault_io(m, 1), &err) == 0)
					seg_writer_close(w3, &err);
			}
			/* restart with a good disk: recover, nothing sealed is corrupt,
			 * every acknowledged transaction is there, then continue */
			{
				struct seg_writer_opts o2 = opts_for(t.dir, 4000);
				struct seg_writer *w2 = NULL;

				if (seg_writer_open(&w2, &o2, &err)) {
					char *p1 = seg__path(t.dir, 1, 0);

					/* the first write is segment 1's header: torn, the
					 * stream's start is unknown and DIR is refused; it held
					 * nothing, so the operator removes it */
					if (mode < 2 && k == 1 && strstr(err.msg, "torn header") &&
					    unlink(p1) == 0) {
						free(p1);
						goto checked;
					}
					free(p1);
					crashes_bad++;
					fprintf(stderr, "\n  mode %u k %u: reopen: %s\n", mode, k, err.msg);
				} else {
					seg_writer_close(w2, &err);
				}
			}
checked:
			if (problems_of(t.dir, SEG_VERIFY_DEEP)) {
				crashes_bad++;
				fprintf(stderr, "\n  mode %u k %u: verify found problems\n", mode, k);
			}
			if (access(t.dir, F_OK) == 0 && drain(t.dir, &n, &commits) != 0) {
				crashes_bad++;
				fprintf(stderr, "\n  mode %u k %u: reader failed\n", mode, k);
			}
			if (commits < acked) {
				crashes_bad++;
				fprintf(stderr, "\n  mode %u k %u: %llu commits < %llu acknowledged\n", mode, k,
					(unsigned long long)commits, (unsigned long long)acked);
			}
			tdir_free(&t);
		}
	}
	CU_ASSERT(runs == 201);
	CU_ASSERT(dir_faults == 21);	/* every rename / directory fsync fault was hit */
	CU_ASSERT(crashes_bad == 0);
}

/* ---- S6: hostile directories ---- */

static void test_trust__hostile_dir(void)
{
	struct tdir t;
	char *s3, *target;
	uint64_t n;
	struct seg_writer_opts o;
	struct seg_writer *w = NULL;
	struct sl_err err = SL_ERR_INIT;

	tdir_new(&t);
	fill_dir(t.dir, 3000, 1, 50);
	target = sub(&t, "secret");
	copy_file("/etc/hostname", target, fsize("/etc/hostname"));
	/* find the newest, replace the next name with a symlink / fifo */
	for (uint64_t s = 1;; s++) {
		char *x = seg__path(t.dir, s, 1), *y = seg__path(t.dir, s, 0);
		int here = fsize(x) != (uint64_t)-1 || fsize(y) != (uint64_t)-1;

		free(x);
		free(y);
		if (!here) {
			s3 = seg__path(t.dir, s, 1);
			break;
		}
	}
	/* the stream's open segment must be sealed for s3 not to be "after open" */
	CU_ASSERT(symlink(target, s3) == 0);
	CU_ASSERT(problems_of(t.dir, 0) > 0);
	CU_ASSERT(drain(t.dir, &n, NULL) < 0);
	o = opts_for(t.dir, 3000);
	CU_ASSERT(seg_writer_open(&w, &o, &err) < 0);
	CU_ASSERT(strstr(err.msg, "not a regular file") != NULL);
	unlink(s3);
	CU_ASSERT(mkfifo(s3, 0600) == 0);
	CU_ASSERT(problems_of(t.dir, 0) > 0);	/* and no hang */
	CU_ASSERT(seg_writer_open(&w, &o, &err) < 0);
	unlink(s3);
	/* a single-file open of a symlink or fifo is refused too */
	CU_ASSERT(symlink(target, s3) == 0);
	CU_ASSERT(drain(s3, &n, NULL) < 0);
	unlink(s3);
	CU_ASSERT(mkfifo(s3, 0600) == 0);
	CU_ASSERT(drain(s3, &n, NULL) < 0);
	unlink(s3);
	/* names that are not segment names are ignored, never read */
	{
		char *junk = sl_xasprintf("%s/00000000000000000001.seg.bak", t.dir);

		CU_ASSERT(symlink(target, junk) == 0);
		CU_ASSERT(problems_of(t.dir, 0) == 0);
		free(junk);
	}
	/* modes */
	{
		struct stat st;
		char *p1 = seg__path(t.dir, 1, 1);

		CU_ASSERT(stat(t.dir, &st) == 0 && (st.st_mode & 0777) == 0700);
		CU_ASSERT(stat(p1, &st) == 0 && (st.st_mode & 0777) == 0600);
		free(p1);
	}
	free(s3);
	free(target);
	tdir_free(&t);
}

/* ---- retention ---- */

static void test_trust__consumers_and_purge(void)
{
	struct tdir t;
	struct seg_purge_opts po = { 0 };
	struct seg_purge_result pr;
	struct seg_consumer *cv = NULL;
	struct seg_status st;
	struct seg_cursor c = { 3, 40, 0 };
	struct sl_err err = SL_ERR_INIT;
	size_t cn = 0;
	char *p1, *p3;
	uint64_t n;

	tdir_new(&t);
	fill_dir(t.dir, 3000, 1, 120);
	p1 = seg__path(t.dir, 1, 1);
	p3 = seg__path(t.dir, 3, 1);
	/* nobody registered: nothing goes */
	CU_ASSERT(seg_purge(t.dir, &po, &pr, &err) == 0 && pr.removed == 0);
	CU_ASSERT(seg_consumer_update(t.dir, "../evil", &c, 0, &err) == -SL_EINVAL_ARG);
	CU_ASSERT(seg_consumer_update(t.dir, "a", &c, 1005, &err) == 0);
	c.seq = 5;
	CU_ASSERT(seg_consumer_update(t.dir, "b", &c, 1010, &err) == 0);
	CU_ASSERT(seg_consumer_list(t.dir, &cv, &cn, &err) == 0 && cn == 2);
	CU_ASSERT(cn == 2 && cv[0].cur.seq == 3 && cv[1].cur.seq == 5 && cv[0].txn_time == 1005);
	free(cv);
	CU_ASSERT(seg_status(t.dir, &st, &err) == 0);
	CU_ASSERT(st.nconsumers == 2 && st.consumers[0].txns > st.consumers[1].txns);
	CU_ASSERT(st.head && st.head->offset == 12000 && st.transactions == 120);
	seg_status_release(&st);
	/* the slowest consumer (a, in 3) holds 3 back */
	CU_ASSERT(seg_purge(t.dir, &po, &pr, &err) == 0);
	CU_ASSERT(pr.removed == 2 && fsize(p1) == (uint64_t)-1 && fsize(p3) != (uint64_t)-1);
	CU_ASSERT(problems_of(t.dir, 0) == 0);
	CU_ASSERT(drain(t.dir, &n, NULL) == 0 && n > 0);
	/* force ignores consumers, never the newest; keep-bytes is a floor */
	po.force = 1;
	po.keep_bytes = 6000;
	CU_ASSERT(seg_purge(t.dir, &po, &pr, &err) == 0);
	CU_ASSERT(pr.kept_bytes >= 6000 && pr.removed > 0);
	po.keep_bytes = 0;
	CU_ASSERT(seg_purge(t.dir, &po, &pr, &err) == 0);
	CU_ASSERT(pr.kept == 1);
	CU_ASSERT(problems_of(t.dir, 0) == 0);
	/* the writer continues after the purge */
	fill_dir(t.dir, 3000, 121, 130);
	CU_ASSERT(problems_of(t.dir, SEG_VERIFY_DEEP) == 0);
	CU_ASSERT(seg_status(t.dir, &st, &err) == 0);
	CU_ASSERT(st.nconsumers == 2 && st.consumers[0].gone);
	seg_status_release(&st);
	free(p1);
	free(p3);
	tdir_free(&t);
}

/* ---- segment age ---- */

static void test_trust__segment_age(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w = NULL;
	struct sl_err err = SL_ERR_INIT;
	char *p1;

	tdir_new(&t);
	o = opts_for(t.dir, 1 << 30);
	o.segment_age_ms = 50;
	CU_ASSERT_FATAL(seg_writer_open(&w, &o, &err) == 0);
	CU_ASSERT(write_txn(w, 1, &err) == 0);
	usleep(80000);
	CU_ASSERT(seg_writer_flush(w, &err) == 0);	/* idle: sealed on age */
	p1 = seg__path(t.dir, 1, 1);
	CU_ASSERT(fsize(p1) != (uint64_t)-1);
	CU_ASSERT(write_txn(w, 2, &err) == 0);
	usleep(80000);
	CU_ASSERT(write_txn(w, 3, &err) == 0);		/* at a boundary: sealed */
	CU_ASSERT(seg_writer_seq(w) == 3);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	CU_ASSERT(problems_of(t.dir, SEG_VERIFY_DEEP) == 0);
	free(p1);
	tdir_free(&t);
}

/* ---- S7: pack / unpack ---- */

struct found {
	unsigned n;
	char msg[SL_ERR_LEN];
};

static void on_problem(void *ctx, const char *path, const char *msg)
{
	struct found *f = ctx;

	(void)path;
	if (!f->n++)
		snprintf(f->msg, sizeof(f->msg), "%s", msg);
}

static unsigned verify_msg(const char *dir, unsigned flags, struct found *f)
{
	struct seg_verify_summary s;
	struct sl_err err = SL_ERR_INIT;

	memset(f, 0, sizeof(*f));
	CU_ASSERT_FATAL(seg_verify_dir(dir, flags, on_problem, f, &s, &err) == 0);
	seg_verify_summary_release(&s);
	return f->n;
}

/* Append a DATA frame (TXN_END) holding raw[0, n) as its records: valid
 * framing (zstd, CRC), whatever the records are. Returns its offset. */
static uint64_t append_frame(const char *path, const uint8_t *raw, size_t n)
{
	size_t cap = ZSTD_compressBound(n), zn;
	uint8_t *buf = malloc(SEG_FRAME_HDR + cap);
	uint64_t off = fsize(path);
	int fd;

	CU_ASSERT_FATAL(buf != NULL);
	zn = ZSTD_compress(buf + SEG_FRAME_HDR, cap, raw, n, 1);
	CU_ASSERT_FATAL(!ZSTD_isError(zn));
	seg__frame_header(buf, (uint32_t)zn, (uint32_t)n, SEG_FRAME_DATA, SEG_FRAME_TXN_END,
			  buf + SEG_FRAME_HDR);
	fd = open(path, O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, buf, SEG_FRAME_HDR + zn) == (ssize_t)(SEG_FRAME_HDR + zn));
	close(fd);
	free(buf);
	return off;
}

static void test_trust__verify_rejects_what_replay_rejects(void)
{
	struct tdir t;
	struct found f;
	struct seg_writer_opts o;
	struct seg_writer *w = NULL;
	struct sl_err err = SL_ERR_INIT;
	char *p, want[64];
	uint64_t n, size, off;
	/* a record whose first field (begin) claims 5 bytes and has 1: protobuf refuses it */
	static const uint8_t bad[] = { 4, 0x0a, 0x05, 0x08, 0x01 };
	int lvl = sl_log_level;

	/* 1: the open segment's last frame damaged (a payload byte flipped) */
	tdir_new(&t);
	fill_dir(t.dir, 1 << 20, 1, 6);
	p = seg__path(t.dir, 1, 0);
	size = fsize(p);
	flip(p, size - 1, 0x40);
	CU_ASSERT(drain(t.dir, &n, NULL) == -SL_ECORRUPT);	/* replay refuses it */
	CU_ASSERT(verify_msg(t.dir, 0, &f) == 1);		/* and so does verify */
	CU_ASSERT(strstr(f.msg, p) && strstr(f.msg, "crc") && strstr(f.msg, "offset"));
	CU_ASSERT(verify_msg(t.dir, SEG_VERIFY_DEEP, &f) == 1);
	/* a frame still being written (incomplete) is not a problem for either */
	flip(p, size - 1, 0x40);
	CU_ASSERT_FATAL(truncate(p, (off_t)(size - 3)) == 0);
	CU_ASSERT(drain(t.dir, &n, NULL) == 0);
	CU_ASSERT(verify_msg(t.dir, SEG_VERIFY_DEEP, &f) == 0);
	free(p);
	tdir_free(&t);

	/* 2: CRC and zstd right, the record inside does not decode */
	tdir_new(&t);
	fill_dir(t.dir, 1 << 20, 1, 4);
	p = seg__path(t.dir, 1, 0);
	off = append_frame(p, bad, sizeof(bad));
	snprintf(want, sizeof(want), "offset %llu", (unsigned long long)off);
	CU_ASSERT(drain(t.dir, &n, NULL) == -SL_ECORRUPT);
	CU_ASSERT(verify_msg(t.dir, SEG_VERIFY_DEEP, &f) == 1);
	CU_ASSERT(strstr(f.msg, p) && strstr(f.msg, want) && strstr(f.msg, "record 0"));
	if (!strstr(f.msg, want))
		fprintf(stderr, "\n  deep verify: '%s', want '%s'\n", f.msg, want);
	/* sealed behind it: still found by --deep, refused by the reader */
	o = opts_for(t.dir, 4000);
	sl_log_level = SL_ERROR;
	CU_ASSERT_FATAL(seg_writer_open(&w, &o, &err) == 0);
	for (uint64_t k = 5; k <= 40; k++)
		CU_ASSERT_FATAL(write_txn(w, k, &err) == 0);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	sl_log_level = lvl;
	free(p);
	p = seg__path(t.dir, 1, 1);
	CU_ASSERT_FATAL(fsize(p) != (uint64_t)-1);
	CU_ASSERT(drain(t.dir, &n, NULL) == -SL_ECORRUPT);
	CU_ASSERT(verify_msg(t.dir, SEG_VERIFY_DEEP, &f) == 1);
	CU_ASSERT(strstr(f.msg, p) && strstr(f.msg, want));
	free(p);
	tdir_free(&t);

	/* 3: a record of no known type (an empty record) */
	tdir_new(&t);
	fill_dir(t.dir, 1 << 20, 1, 2);
	p = seg__path(t.dir, 1, 0);
	{
		static const uint8_t empty[] = { 0 };

		off = append_frame(p, empty, sizeof(empty));
	}
	CU_ASSERT(drain(t.dir, &n, NULL) == -SL_ECORRUPT);
	CU_ASSERT(verify_msg(t.dir, SEG_VERIFY_DEEP, &f) == 1);
	CU_ASSERT(strstr(f.msg, p) && strstr(f.msg, "no known type"));
	free(p);
	tdir_free(&t);
}

/* ---- issue 9, item 9: a torn header of the stream's only segment ---- */

static void truncate_to(const char *path, off_t len)
{
	CU_ASSERT_FATAL(truncate(path, len) == 0);
}

static void test_trust__torn_only_segment(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w = NULL;
	struct sl_err err = SL_ERR_INIT;
	Sluice__Position later;
	char *p1, *s1;
	int lvl = sl_log_level;

	tdir_new(&t);
	o = opts_for(t.dir, 1 << 20);
	set_pos(&later, 900);
	o.start = &later;	/* what a capture passes: the source's binlog end now */
	fill_dir(t.dir, 1 << 20, 1, 10);
	p1 = seg__path(t.dir, 1, 0);
	s1 = seg__path(t.dir, 1, 1);
	truncate_to(p1, 10);
	/* the only segment: its start is unknown, so DIR is refused, not restarted */
	sl_log_level = SL_ERROR;
	CU_ASSERT(seg_writer_open(&w, &o, &err) == -SL_ECORRUPT);
	CU_ASSERT(w == NULL);
	CU_ASSERT(strstr(err.msg, p1) && strstr(err.msg, "torn header") && strstr(err.msg, "--from"));
	CU_ASSERT(fsize(p1) == 10);	/* left for the operator to look at */
	CU_ASSERT(seg_writer_open(&w, &o, &err) == -SL_ECORRUPT);	/* and again */
	CU_ASSERT(problems_of(t.dir, 0) == 1);
	/* removed by the operator: a new stream at the chosen position */
	CU_ASSERT_FATAL(unlink(p1) == 0);
	w = NULL;
	CU_ASSERT_FATAL(seg_writer_open(&w, &o, &err) == 0);
	CU_ASSERT(seg_writer_position(w) == NULL);
	seg_writer_close(w, &err);
	tdir_free(&t);

	/* after a sealed segment the torn one is removed: the footer says where */
	tdir_new(&t);
	free(s1);
	s1 = seg__path(t.dir, 1, 1);
	fill_dir(t.dir, 1500, 1, 12);
	CU_ASSERT_FATAL(fsize(s1) != (uint64_t)-1);
	{
		struct seg_list l;

		CU_ASSERT_FATAL(seg__dir_scan(t.dir, &l, &err) == 0);
		/* make the newest segment an open one with a torn header */
		if (l.v[l.n - 1].sealed) {
			char *a = seg__path(t.dir, l.v[l.n - 1].seq, 1);
			char *b = seg__path(t.dir, l.v[l.n - 1].seq + 1, 0);

			copy_file(a, b, 20);
			free(a);
			free(b);
		} else {
			char *a = seg__path(t.dir, l.v[l.n - 1].seq, 0);

			truncate_to(a, 20);
			free(a);
		}
		seg__list_release(&l);
	}
	w = NULL;
	CU_ASSERT(seg_writer_open(&w, &o, &err) == 0);
	if (w) {
		const Sluice__Position *pos = seg_writer_position(w);

		CU_ASSERT(pos != NULL && pos->offset > 0 && pos->offset < 900 * 100);
		seg_writer_close(w, &err);
	}
	CU_ASSERT(problems_of(t.dir, 0) == 0);
	sl_log_level = lvl;
	free(p1);
	free(s1);
	tdir_free(&t);
}

/* ---- issue 9, item 13: a stream at rest is packed whole ---- */

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("store/trust", NULL, NULL);
	CU_add_test(s, "byte flip exhaustive", test_trust__byte_flip_exhaustive);
	CU_add_test(s, "truncate every offset", test_trust__truncate_every_offset);
	CU_add_test(s, "garbage appended", test_trust__garbage_appended);
	CU_add_test(s, "zstd huge declared size", test_trust__zstd_huge_declared_size);
	CU_add_test(s, "chain", test_trust__chain);
	CU_add_test(s, "fault loop", test_trust__fault_loop);
	CU_add_test(s, "hostile dir", test_trust__hostile_dir);
	CU_add_test(s, "consumers and purge", test_trust__consumers_and_purge);
	CU_add_test(s, "segment age", test_trust__segment_age);
	CU_add_test(s, "torn only segment", test_trust__torn_only_segment);
	CU_add_test(s, "verify rejects what replay rejects", test_trust__verify_rejects_what_replay_rejects);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
