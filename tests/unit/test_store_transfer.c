/* test_store_transfer.c - unit suite for store/: air-gapped transfer (pack, unpack, manifests, keys) and a stream at rest sealed whole. */
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
#define TDIR_TAG "transfer"
#include "test_tdir.h"
#include "test_trust_util.h"
#include "banned.h"


static int unpack(const char *bundle, const char *into, const char *key, struct sl_err *err)
{
	struct seg_unpack_opts u = { bundle, into, key };
	struct seg_transfer_result r;

	*err = (struct sl_err)SL_ERR_INIT;
	return seg_unpack(&u, &r, err);
}

static int pack(const char *dir, const char *out, uint64_t from, const char *key)
{
	struct seg_pack_opts p = { .dir = dir, .out = out, .key_file = key, .from_seq = from };
	struct seg_transfer_result r;
	struct sl_err err = SL_ERR_INIT;
	int rc = seg_pack(&p, &r, &err);

	if (rc)
		fprintf(stderr, "\n  pack: %s\n", err.msg);
	return rc;
}

static void rewrite_manifest(const char *bundle, const char *from, const char *to)
{
	char *m = sl_xasprintf("%s/MANIFEST", bundle), buf[65536], *at, out[65536];
	int fd = open(m, O_RDONLY);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	close(fd);
	CU_ASSERT_FATAL(n > 0);
	buf[n] = 0;
	at = strstr(buf, from);
	CU_ASSERT_FATAL(at != NULL);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - buf), buf, to, at + strlen(from));
	fd = open(m, O_WRONLY | O_TRUNC);
	CU_ASSERT(write(fd, out, strlen(out)) == (ssize_t)strlen(out));
	close(fd);
	free(m);
}

static void test_trust__pack_unpack(void)
{
	struct tdir t;
	struct sl_err err = SL_ERR_INIT;
	char *b1, *b2, *bk, *bold, *into, *into2, *key, *key2, *x, *other, *bo, *keyw;
	uint64_t n1, n2;
	int fd;

	tdir_new(&t);
	fill_dir(t.dir, 3000, 1, 60);
	b1 = sub(&t, "b1");
	bold = sub(&t, "bold");
	into = sub(&t, "into");
	into2 = sub(&t, "into2");
	CU_ASSERT_FATAL(pack(t.dir, bold, 0, NULL) == 0);
	fill_dir(t.dir, 3000, 61, 120);
	CU_ASSERT_FATAL(pack(t.dir, b1, 0, NULL) == 0);
	CU_ASSERT(pack(t.dir, b1, 0, NULL) != 0);	/* not over an existing bundle */
	CU_ASSERT(unpack(b1, into, NULL, &err) == 0);
	CU_ASSERT(unpack(b1, into, NULL, &err) == 0);	/* twice: no change */
	CU_ASSERT(problems_of(into, SEG_VERIFY_DEEP) == 0);
	drain(into, &n1, NULL);
	CU_ASSERT(n1 > 0);
	/* older bundle than DIR */
	CU_ASSERT(unpack(bold, into, NULL, &err) != 0 && strstr(err.msg, "older") != NULL);
	/* a bundle starting later: incremental; then a gap */
	{
		char *b3 = sub(&t, "b3"), *b4 = sub(&t, "b4");
		struct seg_list l;

		fill_dir(t.dir, 3000, 121, 200);
		CU_ASSERT(seg__dir_scan(into, &l, &err) == 0);
		CU_ASSERT_FATAL(pack(t.dir, b3, l.v[l.n - 1].seq + 1, NULL) == 0);
		CU_ASSERT_FATAL(pack(t.dir, b4, l.v[l.n - 1].seq + 3, NULL) == 0);
		CU_ASSERT(unpack(b4, into, NULL, &err) != 0 && strstr(err.msg, "gap") != NULL);
		CU_ASSERT(unpack(b3, into, NULL, &err) == 0);
		CU_ASSERT(unpack(b4, into, NULL, &err) == 0);	/* overlaps, same bytes */
		CU_ASSERT(problems_of(into, 0) == 0);
		seg__list_release(&l);
		free(b3);
		free(b4);
	}
	/* tampering: a flipped byte in a segment */
	x = seg__path(b1, 2, 1);
	flip(x, 100, 1);
	CU_ASSERT(unpack(b1, into2, NULL, &err) != 0 && strstr(err.msg, "sha-256") != NULL);
	flip(x, 100, 1);
	/* truncation */
	CU_ASSERT(truncate(x, (off_t)fsize(x) - 1) == 0);
	CU_ASSERT(unpack(b1, into2, NULL, &err) != 0);
	free(x);
	/* ... nothing was added by the refused runs */
	{
		struct seg_list l;

		int rc = seg__dir_scan(into2, &l, &err);

		CU_ASSERT(rc == -ENOENT || (rc == 0 && l.n == 0));
		if (!rc)
			seg__list_release(&l);
	}
	/* extra file, symlink, path traversal in the manifest */
	b2 = sub(&t, "b2");
	CU_ASSERT_FATAL(pack(t.dir, b2, 0, NULL) == 0);
	x = sl_xasprintf("%s/extra", b2);
	fd = open(x, O_CREAT | O_WRONLY, 0600);
	close(fd);
	CU_ASSERT(unpack(b2, into2, NULL, &err) != 0 && strstr(err.msg, "does not name") != NULL);
	unlink(x);
	free(x);
	rewrite_manifest(b2, "file 00000000000000000002.seg", "file ../00000000000000000002.seg");
	CU_ASSERT(unpack(b2, into2, NULL, &err) != 0);
	rewrite_manifest(b2, "file ../00000000000000000002.seg", "file /tmp/00000000000000000002.seg");
	CU_ASSERT(unpack(b2, into2, NULL, &err) != 0);
	rewrite_manifest(b2, "file /tmp/00000000000000000002.seg", "file 00000000000000000002.seg");
	CU_ASSERT(unpack(b2, into2, NULL, &err) == 0);
	/* foreign stream */
	other = sub(&t, "other");
	bo = sub(&t, "bo");
	fill_dir(other, 3000, 1, 200);
	CU_ASSERT_FATAL(pack(other, bo, 0, NULL) == 0);
	CU_ASSERT(unpack(bo, into, NULL, &err) != 0 && strstr(err.msg, "another stream") != NULL);
	/* hmac */
	key = sub(&t, "key");
	key2 = sub(&t, "key2");
	keyw = sub(&t, "keyw");
	fd = open(key, O_CREAT | O_WRONLY, 0600);
	CU_ASSERT(write(fd, "0123456789abcdef-secret", 23) == 23);
	close(fd);
	fd = open(key2, O_CREAT | O_WRONLY, 0600);
	CU_ASSERT(write(fd, "0123456789abcdef-SECRET", 23) == 23);
	close(fd);
	fd = open(keyw, O_CREAT | O_WRONLY, 0644);
	CU_ASSERT(write(fd, "0123456789abcdef-secret", 23) == 23);
	close(fd);
	chmod(keyw, 0644);
	bk = sub(&t, "bk");
	CU_ASSERT(pack(t.dir, bk, 0, keyw) != 0);	/* world-readable key refused */
	CU_ASSERT_FATAL(pack(t.dir, bk, 0, key) == 0);
	{
		char k[128];

		snprintf(k, sizeof(k), "%s/k1", t.root);
		CU_ASSERT(unpack(bk, k, NULL, &err) != 0 && strstr(err.msg, "--key") != NULL);
		CU_ASSERT(unpack(bk, k, key2, &err) != 0 && strstr(err.msg, "hmac") != NULL);
		rewrite_manifest(bk, "first 1", "first 2");
		CU_ASSERT(unpack(bk, k, key, &err) != 0);
		rewrite_manifest(bk, "first 2", "first 1");
		rewrite_manifest(bk, "\nhmac ", "\nhmaX ");
		CU_ASSERT(unpack(bk, k, key, &err) != 0);	/* stripped/garbled hmac */
		rewrite_manifest(bk, "\nhmaX ", "\nhmac ");
		CU_ASSERT(unpack(bk, k, key, &err) == 0);
		drain(k, &n2, NULL);
		CU_ASSERT(n2 > n1);
	}
	tdir_free(&t);
	free(b1);
	free(b2);
	free(bk);
	free(bold);
	free(into);
	free(into2);
	free(key);
	free(key2);
	free(keyw);
	free(other);
	free(bo);
}

/* ---- issue 9, item 10: verify --segments rejects what the reader rejects ---- */

static void test_trust__seal_at_rest(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w = NULL, *w2 = NULL;
	struct sl_err err = SL_ERR_INIT;
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__TxnBegin b = SLUICE__TXN_BEGIN__INIT;
	char *b1, *b2, *b3, *into, *s1, *s2;
	uint64_t n, commits;
	int lvl = sl_log_level;

	tdir_new(&t);
	b1 = sub(&t, "b1");
	b2 = sub(&t, "b2");
	b3 = sub(&t, "b3");
	into = sub(&t, "into");
	s1 = seg__path(t.dir, 1, 1);
	s2 = seg__path(t.dir, 2, 1);
	o = opts_for(t.dir, 1 << 20);
	/* seg_writer_seal(): at a transaction end only; then the stream is sealed */
	CU_ASSERT_FATAL(seg_writer_open(&w, &o, &err) == 0);
	CU_ASSERT(seg_writer_seal(w, &err) == 0);	/* nothing open: nothing done */
	for (uint64_t k = 1; k <= 5; k++)
		CU_ASSERT_FATAL(write_txn(w, k, &err) == 0);
	b.time = 1;
	r.body_case = SLUICE__RECORD__BODY_BEGIN;
	r.begin = &b;
	CU_ASSERT_FATAL(seg_writer_append(w, &r, &err) == 0);
	CU_ASSERT(seg_writer_seal(w, &err) == -SL_EINVAL_ARG);
	CU_ASSERT(seg_writer_close(w, &err) == 0);	/* the half transaction is dropped */
	CU_ASSERT_FATAL(seg_writer_open(&w, &o, &err) == 0);
	CU_ASSERT(seg_writer_seal(w, &err) == 0);
	CU_ASSERT(fsize(s1) != (uint64_t)-1);
	CU_ASSERT(seg_writer_seq(w) == 2);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	CU_ASSERT(problems_of(t.dir, SEG_VERIFY_DEEP) == 0);
	/* one sealed segment: one whole bundle */
	CU_ASSERT_FATAL(pack(t.dir, b1, 0, NULL) == 0);
	CU_ASSERT_FATAL(unpack(b1, into, NULL, &err) == 0);
	CU_ASSERT(drain(into, &n, &commits) == 0 && commits == 5);
	/* the next writer continues in segment 2, chained to 1 */
	CU_ASSERT_FATAL(seg_writer_open(&w, &o, &err) == 0);
	CU_ASSERT(seg_writer_seq(w) == 2);
	CU_ASSERT(seg_writer_position(w) && seg_writer_position(w)->offset == 500);
	for (uint64_t k = 6; k <= 9; k++)
		CU_ASSERT_FATAL(write_txn(w, k, &err) == 0);
	/* while a writer holds DIR its open segment is left alone */
	sl_log_level = SL_ERROR;
	CU_ASSERT(pack(t.dir, b2, 2, NULL) != 0);
	CU_ASSERT(fsize(s2) == (uint64_t)-1);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	/* a writer that stopped without sealing (killed): pack seals it */
	CU_ASSERT_FATAL(pack(t.dir, b3, 2, NULL) == 0);
	sl_log_level = lvl;
	CU_ASSERT(fsize(s2) != (uint64_t)-1);
	CU_ASSERT_FATAL(unpack(b3, into, NULL, &err) == 0);
	CU_ASSERT(drain(into, &n, &commits) == 0 && commits == 9);
	CU_ASSERT(problems_of(into, SEG_VERIFY_DEEP) == 0);
	/* and a writer opens after that seal in segment 3 */
	CU_ASSERT_FATAL(seg_writer_open(&w2, &o, &err) == 0);
	CU_ASSERT(seg_writer_seq(w2) == 3);
	CU_ASSERT(seg_writer_close(w2, &err) == 0);
	free(b1);
	free(b2);
	free(b3);
	free(into);
	free(s1);
	free(s2);
	tdir_free(&t);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("store/transfer", NULL, NULL);
	CU_add_test(s, "pack unpack", test_trust__pack_unpack);
	CU_add_test(s, "seal at rest", test_trust__seal_at_rest);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
