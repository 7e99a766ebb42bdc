/* test_store_adopt.c - unit suite for store/seg_adopt.c: one sealed segment at a
 * time, read for shipping and checked whole before a receiving DIR adds it. */
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
#define TDIR_TAG "adopt"
#include "test_tdir.h"
#include "test_trust_util.h"
#include "banned.h"

/* Read all of a file (size in *n). */
static uint8_t *slurp(const char *path, uint64_t *n)
{
	uint64_t size = fsize(path);
	uint8_t *p = sl_xmalloc(size ? size : 1);
	int fd = open(path, O_RDONLY);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pread(fd, p, size, 0) == (ssize_t)size);
	close(fd);
	*n = size;
	return p;
}

static void put(const char *path, const uint8_t *p, uint64_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

/* Offer segment seq of from (bytes p, n; sha of the bytes given) to a. */
static int offer(struct seg_adopter *a, uint64_t seq, const uint8_t *p, uint64_t n, const uint8_t *sha,
		 struct sl_err *err)
{
	char *tmp = seg_adopt_tmp(a, seq);
	int rc;

	put(tmp, p, n);
	*err = (struct sl_err)SL_ERR_INIT;
	rc = seg_adopt_add(a, seq, n, sha, err);
	if (rc)
		CU_ASSERT(access(tmp, F_OK) < 0);	/* a refused file is not left behind */
	free(tmp);
	return rc;
}

static void test_adopt__whole_chain(void)
{
	struct tdir t;
	struct sl_err err = SL_ERR_INIT;
	struct seg_adopter *a = NULL;
	char *into = NULL, *other = NULL;
	uint64_t lowest, last, n, on;
	uint8_t sha[SEG_SHA_LEN];

	tdir_new(&t);
	fill_dir(t.dir, 3000, 1, 80);
	into = sub(&t, "into");
	other = sub(&t, "other");
	fill_dir(other, 3000, 1, 80);	/* another stream (its own id) */
	CU_ASSERT(seg_sealed_range(t.dir, &lowest, &last, &err) == 0);
	CU_ASSERT(lowest == 1 && last >= 4);
	CU_ASSERT(seg_sealed_range(into, &lowest, &n, &err) == 0 && lowest == 0 && n == 0);

	CU_ASSERT_FATAL(seg_adopt_open(&a, into, &err) == 0);
	CU_ASSERT(seg_adopt_head(a, NULL, NULL) == 0);
	for (uint64_t s = 1; s <= last; s++) {
		char *path = seg__path(t.dir, s, 1), *got;
		uint8_t *p = slurp(path, &n), *q;

		seg__sha256(p, n, NULL, 0, sha);
		if (s == 2) {
			uint8_t bad[SEG_SHA_LEN];
			char *opath = seg__path(other, 2, 1);
			uint8_t *o = slurp(opath, &on);

			/* a sha that is not the file's */
			memcpy(bad, sha, sizeof(bad));
			bad[0] ^= 1;
			CU_ASSERT(offer(a, s, p, n, bad, &err) == -SL_ECORRUPT);
			/* a short file */
			CU_ASSERT(offer(a, s, p, n - 1, sha, &err) == -SL_ECORRUPT);
			/* damage the sender hashed: the frame CRC finds it */
			p[n / 2] ^= 0x40;
			seg__sha256(p, n, NULL, 0, bad);
			CU_ASSERT(offer(a, s, p, n, bad, &err) == -SL_ECORRUPT);
			p[n / 2] ^= 0x40;
			/* a gap: segment 3 before 2 */
			CU_ASSERT(offer(a, 3, p, n, sha, &err) == -SL_ESTREAM);
			/* another stream's segment 2 */
			seg__sha256(o, on, NULL, 0, bad);
			CU_ASSERT(offer(a, 2, o, on, bad, &err) == -SL_ESTREAM);
			CU_ASSERT(strstr(err.msg, "another stream") != NULL);
			free(o);
			free(opath);
			CU_ASSERT(seg_adopt_head(a, NULL, NULL) == 1);
		}
		CU_ASSERT_FATAL(offer(a, s, p, n, sha, &err) == 0);
		CU_ASSERT(seg_adopt_head(a, NULL, NULL) == s);
		got = seg__path(into, s, 1);
		q = slurp(got, &on);
		CU_ASSERT(on == n && !memcmp(p, q, n));
		free(q);
		free(got);
		free(p);
		free(path);
	}
	/* the same segment again: it is not the next one */
	{
		char *path = seg__path(t.dir, last, 1);
		uint8_t *p = slurp(path, &n);

		seg__sha256(p, n, NULL, 0, sha);
		CU_ASSERT(offer(a, last, p, n, sha, &err) == -SL_ESTREAM);
		free(p);
		free(path);
	}
	seg_adopt_close(a);
	a = NULL;
	CU_ASSERT(problems_of(into, SEG_VERIFY_DEEP) == 0);

	/* a reopened DIR knows its head and stream; a foreign start is refused */
	CU_ASSERT_FATAL(seg_adopt_open(&a, into, &err) == 0);
	{
		const char *src = NULL;
		const uint8_t *sid = NULL;
		uint8_t want[16];
		char *s0 = NULL;

		CU_ASSERT(seg_adopt_head(a, &src, &sid) == last);
		CU_ASSERT(seg_dir_identity(t.dir, &s0, want, &err) == 0);
		CU_ASSERT(src && s0 && !strcmp(src, s0));
		CU_ASSERT(sid && !memcmp(sid, want, 16));
		free(s0);
	}
	/* a second receiver of the same DIR is locked out */
	{
		struct seg_adopter *b = NULL;

		CU_ASSERT(seg_adopt_open(&b, into, &err) != 0);
		CU_ASSERT(b == NULL);
	}
	seg_adopt_close(a);
	free(into);
	free(other);
	tdir_free(&t);
}

static void test_adopt__open_segment_refused(void)
{
	struct tdir t;
	struct sl_err err = SL_ERR_INIT;
	struct seg_adopter *a = NULL;
	uint64_t lowest, last, t_last = 0;

	tdir_new(&t);
	fill_dir(t.dir, 1 << 20, 1, 5);	/* one open segment, nothing sealed */
	CU_ASSERT(seg_sealed_range(t.dir, &lowest, &last, &err) == 0);
	CU_ASSERT(lowest == 1 && last == 0);
	CU_ASSERT(seg_adopt_open(&a, t.dir, &err) == -EBUSY);
	CU_ASSERT(strstr(err.msg, "open segment") != NULL);
	CU_ASSERT(seg_sealed_time(t.dir, 1, &t_last, &err) != 0);	/* not sealed */
	tdir_free(&t);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("store/adopt", NULL, NULL);
	CU_add_test(s, "whole chain", test_adopt__whole_chain);
	CU_add_test(s, "open segment refused", test_adopt__open_segment_refused);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
