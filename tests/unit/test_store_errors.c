/* test_store_errors.c - CUnit suite for store/ messages that must name the cause: a stray segment file, a consumer that applied nothing. */
#include <CUnit/Basic.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seg.h"
#include "seg_int.h"
#define TDIR_TAG "store-errors"
#include "test_tdir.h"
#include "banned.h"

/* ---- a small stream: transactions of one 2 KB row each ---- */

static void set_pos(Sluice__Position *p, uint64_t t)
{
	sluice__position__init(p);
	p->flavor = "mariadb";
	p->file = "bin.000001";
	p->offset = t * 100;
}

static int write_txn(struct seg_writer *w, uint64_t t, struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__TxnBegin b = SLUICE__TXN_BEGIN__INIT;
	Sluice__TxnCommit c = SLUICE__TXN_COMMIT__INIT;
	Sluice__RowChange rc = SLUICE__ROW_CHANGE__INIT;
	Sluice__Row row = SLUICE__ROW__INIT;
	Sluice__Value v, *vp = &v;
	Sluice__Position p;
	uint8_t data[2048];
	uint64_t s = t;
	int e;

	for (size_t i = 0; i < sizeof(data); i++) {	/* barely compressible */
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		data[i] = (uint8_t)(s >> 56);
	}
	b.time = 1000 + t;
	r.body_case = SLUICE__RECORD__BODY_BEGIN;
	r.begin = &b;
	if ((e = seg_writer_append(w, &r, err)))
		return e;
	sluice__value__init(&v);
	v.kind = SLUICE__VALUE__KIND__BYTES;
	v.b.data = data;
	v.b.len = sizeof(data);
	row.n_values = 1;
	row.values = &vp;
	rc.table_ref = 1;
	rc.after = &row;
	r.body_case = SLUICE__RECORD__BODY_ROW;
	r.row = &rc;
	if ((e = seg_writer_append(w, &r, err)))
		return e;
	set_pos(&p, t);
	c.position = &p;
	c.time = 1000 + t;
	c.rows = 1;
	r.body_case = SLUICE__RECORD__BODY_COMMIT;
	r.commit = &c;
	if ((e = seg_writer_append(w, &r, err)))
		return e;
	return seg_writer_txn_end(w, &p, 1000 + t, err);
}

/* A stream in t->dir of at least 3 segments; its writer, the newest
 * segment open (seg_writer_close() seals it). */
static struct seg_writer *make_stream(const struct tdir *t)
{
	struct seg_writer_opts o;
	struct seg_writer *w = NULL;
	struct sl_err err = SL_ERR_INIT;
	uint64_t tx = 1;

	memset(&o, 0, sizeof(o));
	o.dir = t->dir;
	o.source = "mariadb:server_id=1:test";
	o.frame_bytes = 4096;
	o.segment_size = 16 << 10;
	CU_ASSERT_FATAL(seg_writer_open(&w, &o, &err) == 0);
	for (;;) {
		char *p = seg__path(t->dir, seg_writer_seq(w), 0);
		int open_ = access(p, F_OK) == 0;

		free(p);
		if (seg_writer_seq(w) >= 3 && tx > 40 && open_)
			break;
		CU_ASSERT_FATAL(write_txn(w, tx, &err) == 0);
		tx++;
	}
	return w;
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	uint8_t buf[8192];
	ssize_t k = 0;
	int rc = in < 0 || out < 0 ? -1 : 0;

	while (!rc && (k = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)k) != k)
			rc = -1;
	if (k < 0)
		rc = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* A copy of segment 2 named 22 (and a lone 22 next to an open newest
 * segment) breaks the sequence: every reader of DIR names that file, not
 * a neighbour it makes look wrong ("segment 3 is open but not the newest"). */
static void check_stray(const struct tdir *t, uint64_t newest)
{
	struct sl_err err = SL_ERR_INIT;
	struct seg_status st;
	struct seg_reader *r = NULL;
	char *two = seg__path(t->dir, 2, 1), *stray = seg__path(t->dir, newest + 19, 1);

	CU_ASSERT_FATAL(copy_file(two, stray) == 0);
	CU_ASSERT(seg_status(t->dir, &st, &err) < 0);
	CU_ASSERT(strstr(err.msg, stray) != NULL);
	CU_ASSERT(strstr(err.msg, "breaks the sequence") != NULL);
	CU_ASSERT(strstr(err.msg, "not the newest") == NULL);
	if (!strstr(err.msg, stray))
		fprintf(stderr, "\n  status: %s\n", err.msg);

	err = (struct sl_err)SL_ERR_INIT;
	CU_ASSERT(seg_reader_open(&r, t->dir, &err) < 0);
	CU_ASSERT(strstr(err.msg, stray) != NULL);
	seg_reader_close(r);

	/* the stray removed: all is well again */
	CU_ASSERT(unlink(stray) == 0);
	err = (struct sl_err)SL_ERR_INIT;
	CU_ASSERT(seg_status(t->dir, &st, &err) == 0);
	seg_status_release(&st);
	free(two);
	free(stray);
}

static void test_store_errors__stray_segment_named(void)
{
	struct tdir t;
	struct sl_err err = SL_ERR_INIT;
	struct seg_writer *w;
	uint64_t newest;
	char *p;

	tdir_new(&t);
	w = make_stream(&t);
	newest = seg_writer_seq(w);
	p = seg__path(t.dir, newest, 0);
	CU_ASSERT_FATAL(access(p, F_OK) == 0);	/* open, as while capture runs */
	free(p);
	check_stray(&t, newest);
	CU_ASSERT_FATAL(seg_writer_close(w, &err) == 0);	/* sealed at rest */
	check_stray(&t, newest);
	tdir_free(&t);
}

/* status reports a consumer "gone" only when the segment it needs next was
 * removed: one that applied nothing (seq 0) needs segment 1, one at a
 * cursor needs that cursor's segment. */
static void test_store_errors__status_gone_only_when_removed(void)
{
	struct tdir t;
	struct sl_err err = SL_ERR_INIT;
	struct seg_status st;
	struct seg_cursor zero = { 0 }, at1 = { .seq = 1 }, at2 = { .seq = 2, .offset = 64 };
	char *one;

	tdir_new(&t);
	CU_ASSERT_FATAL(seg_writer_close(make_stream(&t), &err) == 0);
	CU_ASSERT_FATAL(seg_consumer_update(t.dir, "fresh", &zero, 0, &err) == 0);
	CU_ASSERT_FATAL(seg_consumer_update(t.dir, "first", &at1, 0, &err) == 0);
	CU_ASSERT_FATAL(seg_consumer_update(t.dir, "second", &at2, 0, &err) == 0);
	CU_ASSERT_FATAL(seg_status(t.dir, &st, &err) == 0);
	CU_ASSERT_FATAL(st.nconsumers == 3);
	for (size_t k = 0; k < st.nconsumers; k++) {
		CU_ASSERT(!st.consumers[k].gone);
		if (st.consumers[k].gone)
			fprintf(stderr, "\n  '%s' reported gone with segment 1 present\n",
				st.consumers[k].c.name);
	}
	/* the fresh consumer is behind by the whole stream */
	CU_ASSERT_EQUAL(st.consumers[1].txns, st.transactions);	/* "fresh" */
	seg_status_release(&st);

	/* segment 1 removed: the fresh and the first consumer lost it */
	one = seg__path(t.dir, 1, 1);
	CU_ASSERT_FATAL(unlink(one) == 0);
	free(one);
	CU_ASSERT_FATAL(seg_status(t.dir, &st, &err) == 0);
	CU_ASSERT_FATAL(st.nconsumers == 3);
	CU_ASSERT(st.consumers[0].gone);	/* first */
	CU_ASSERT(st.consumers[1].gone);	/* fresh */
	CU_ASSERT(!st.consumers[2].gone);	/* second */
	seg_status_release(&st);
	tdir_free(&t);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("store_errors", NULL, NULL);
	CU_add_test(s, "a stray segment file is named", test_store_errors__stray_segment_named);
	CU_add_test(s, "status: gone only when removed", test_store_errors__status_gone_only_when_removed);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
