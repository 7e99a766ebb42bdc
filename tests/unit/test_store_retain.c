/* test_store_retain.c - unit suite for store/: retention by bytes, age and consumers, and the account-statement counts of footers and status. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seg.h"
#include "seg_int.h"
#define TDIR_TAG "retain"
#include "test_tdir.h"
#include "test_store_util.h"
#include "banned.h"


static void count_problem(void *ctx, const char *path, const char *msg)
{
	(void)path;
	fprintf(stderr, "\n  problem: %s\n", msg);
	(*(int *)ctx)++;
}

static uint64_t dir_bytes(const struct tdir *t, uint64_t from, uint64_t to, uint64_t open_seq)
{
	uint64_t n = 0;

	for (uint64_t s = from; s <= to; s++) {
		char *p = seg_file(t, s, s != open_seq);

		n += fsize(p);
		free(p);
	}
	return n;
}

/* seg_retain() removes nothing without a consumer; only what every consumer
 * has passed; honours the byte and age floors; keeps the newest sealed
 * segment while the newest is open. The purged prefix stays a valid DIR for
 * verify, status, a consumer's reader past it and the writer, also when a
 * crash tore the open segment's header. */
static void test_store__retain(void)
{
	struct tdir t;
	struct seg_writer_opts o;
	struct seg_writer *w;
	struct sl_err err = SL_ERR_INIT;
	struct seg_purge_result res;
	struct seg_verify_summary vs;
	struct seg_status st;
	struct seg_reader *r;
	struct seg_cursor far = { 0 }, c, mid = { 0 };
	struct model m = { 0 };
	size_t ncons = 99;
	uint64_t last, t_next = 401, midtxn = 0, total;
	int problems = 0;
	char *p;

	tdir_new(&t);
	o = opts_for(&t);
	o.segment_size = 16 << 10;
	w = open_writer(&o);
	write_txns(w, 1, 400);
	for (;;) {	/* make sure the newest segment is open, as while capture runs */
		p = seg_file(&t, seg_writer_seq(w), 0);
		int open_ = exists(p);

		free(p);
		if (open_)
			break;
		write_txns(w, t_next, t_next);
		t_next++;
	}
	last = seg_writer_seq(w);
	CU_ASSERT_FATAL(last >= 8);

	/* no consumer: nothing goes */
	CU_ASSERT(seg_retain(t.dir, 0, 0, &res, &ncons, &err) == 0);
	CU_ASSERT_EQUAL(ncons, 0);
	CU_ASSERT_EQUAL(res.removed, 0);
	p = seg_file(&t, 1, 1);
	CU_ASSERT(exists(p));
	free(p);

	/* the last commit of segment last - 1: where consumer "late" stands */
	CU_ASSERT_FATAL(seg_reader_open(&r, t.dir, &err) == 0);
	for (;;) {
		Sluice__Record *rec;

		if (seg_reader_next(r, &rec, &c, &err) <= 0)
			break;
		if (rec->body_case == SLUICE__RECORD__BODY_COMMIT && c.seq == last - 1) {
			mid = c;
			midtxn = rec->commit->position->offset / 100;
		}
		fmt_record_free(rec);
	}
	seg_reader_close(r);
	CU_ASSERT_FATAL(mid.seq == last - 1 && midtxn > 0);

	/* consumers: the slowest one (at segment 3) holds everything from 3 on */
	far.seq = last;
	far.offset = 100;
	CU_ASSERT(seg_consumer_update(t.dir, "fast", &far, 0, &err) == 0);
	c = mid;
	c.seq = 3;
	CU_ASSERT(seg_consumer_update(t.dir, "late", &c, 0, &err) == 0);
	CU_ASSERT(seg_retain(t.dir, 0, 0, &res, &ncons, &err) == 0);
	CU_ASSERT_EQUAL(ncons, 2);
	CU_ASSERT_EQUAL(res.removed, 2);
	CU_ASSERT_EQUAL(res.first_kept_seq, 3);
	CU_ASSERT(!strcmp(res.why, "a consumer has not passed the next segment"));
	for (uint64_t s = 1; s <= 3; s++) {
		p = seg_file(&t, s, 1);
		CU_ASSERT_EQUAL(exists(p), s == 3);
		free(p);
	}

	/* floors: age (every commit here is from 1970, keep younger than now
	 * + 1970) and bytes (keep all but exactly segment 3) */
	CU_ASSERT(seg_consumer_update(t.dir, "late", &mid, 0, &err) == 0);
	CU_ASSERT(seg_retain(t.dir, 0, (uint64_t)time(NULL), &res, &ncons, &err) == 0);
	CU_ASSERT_EQUAL(res.removed, 0);
	CU_ASSERT(!strcmp(res.why, "--keep-age keeps the rest"));
	total = dir_bytes(&t, 3, last, last);
	CU_ASSERT(seg_retain(t.dir, total - dir_bytes(&t, 3, 3, last), 0, &res, &ncons, &err) == 0);
	CU_ASSERT_EQUAL(res.removed, 1);
	CU_ASSERT_EQUAL(res.removed_bytes, total - res.kept_bytes);
	CU_ASSERT(!strcmp(res.why, "--keep-bytes keeps the rest"));

	/* both consumers in the open segment: all but the newest two go */
	CU_ASSERT(seg_consumer_update(t.dir, "late", &far, 0, &err) == 0);
	CU_ASSERT(seg_retain(t.dir, 0, 0, &res, &ncons, &err) == 0);
	CU_ASSERT_EQUAL(res.first_kept_seq, last - 1);
	CU_ASSERT_EQUAL(res.kept, 2);
	CU_ASSERT(!strcmp(res.why, "the open segment chains to the newest sealed one"));
	p = seg_file(&t, last - 1, 1);
	CU_ASSERT(exists(p));
	free(p);

	/* the purged prefix: verify, status, a reader past it */
	memset(&vs, 0, sizeof(vs));
	CU_ASSERT(seg_verify_dir(t.dir, SEG_VERIFY_DEEP, count_problem, &problems, &vs, &err) == 0);
	CU_ASSERT_EQUAL(problems, 0);
	CU_ASSERT_EQUAL(vs.problems, 0);
	CU_ASSERT_EQUAL(vs.first_seq, last - 1);
	seg_verify_summary_release(&vs);
	CU_ASSERT(seg_status(t.dir, &st, &err) == 0);
	CU_ASSERT_EQUAL(st.first_seq, last - 1);
	CU_ASSERT_EQUAL(st.nconsumers, 2);
	for (size_t k = 0; k < st.nconsumers; k++)
		CU_ASSERT(!st.consumers[k].gone);
	seg_status_release(&st);
	CU_ASSERT_FATAL(seg_reader_open(&r, t.dir, &err) == 0);
	CU_ASSERT(seg_reader_seek_after(r, &mid, &err) == 0);
	m.txn = midtxn + 1;
	m.records = 0;
	CU_ASSERT(drain(r, &m, &err) == 0);
	CU_ASSERT(m.bad == 0 && !m.in_txn);
	CU_ASSERT_EQUAL(m.txn, t_next);
	seg_reader_close(r);

	/* a crash that tore the open segment's header: the writer resumes after
	 * the newest sealed segment, in the same stream */
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	p = seg_file(&t, last, 0);
	CU_ASSERT(truncate(p, 10) == 0);
	free(p);
	/* status reads it as snapshot status does (seg__summary): an open segment
	 * without its header holds nothing, the sealed one before is the head */
	CU_ASSERT(seg_status(t.dir, &st, &err) == 0);
	CU_ASSERT_PTR_NOT_NULL(st.head);
	CU_ASSERT_EQUAL(st.segments, 2);
	seg_status_release(&st);
	w = open_writer(&o);
	CU_ASSERT_EQUAL(seg_writer_seq(w), last);
	CU_ASSERT_EQUAL(writer_txn(w), midtxn);
	write_txns(w, midtxn + 1, midtxn + 50);
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	memset(&vs, 0, sizeof(vs));
	CU_ASSERT(seg_verify_dir(t.dir, 0, count_problem, &problems, &vs, &err) == 0);
	CU_ASSERT_EQUAL(problems, 0);
	CU_ASSERT_EQUAL(vs.first_seq, last - 1);
	seg_verify_summary_release(&vs);
	tdir_free(&t);
}

/* Heartbeats standing for account statements capture left out (FORMAT.md):
 * summed in each footer, by the scan of the open segment, kept across a
 * reopen (recovery), checked by verify --deep and reported by status. */
static void test_store__account_counts(void)
{
	struct sl_err err = SL_ERR_INIT;
	struct seg_verify_summary vs;
	struct seg_status st;
	struct seg_writer *w;
	struct seg_writer_opts o;
	struct tdir t;
	uint64_t problems = 0, tx = 1;

	tdir_new(&t);
	o = opts_for(&t);
	o.segment_size = 4096;
	w = open_writer(&o);
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 5; k++) {
			Sluice__Record r = SLUICE__RECORD__INIT;
			Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
			Sluice__Position p;

			write_txns(w, tx, tx + 9);
			tx += 10;
			set_pos(&p, tx++);
			hb.position = &p;
			hb.time = 1000 + tx;
			hb.account_statements = 2;
			r.body_case = SLUICE__RECORD__BODY_HEARTBEAT;
			r.heartbeat = &hb;
			CU_ASSERT_FATAL(seg_writer_append(w, &r, &err) == 0);
			CU_ASSERT_FATAL(seg_writer_txn_end(w, &p, hb.time, &err) == 0);
		}
		if (round == 1) {	/* a reopen recovers the open segment's counts */
			CU_ASSERT(seg_writer_close(w, &err) == 0);
			w = open_writer(&o);
		}
	}
	CU_ASSERT(seg_writer_close(w, &err) == 0);
	CU_ASSERT(seg_status(t.dir, &st, &err) == 0);
	CU_ASSERT_EQUAL(st.account_statements, 30);
	CU_ASSERT(st.sealed >= 1);		/* footers and the open scan both count */
	CU_ASSERT(st.segments > st.sealed);
	seg_status_release(&st);
	memset(&vs, 0, sizeof(vs));
	CU_ASSERT(seg_verify_dir(t.dir, SEG_VERIFY_DEEP, count_problem, &problems, &vs, &err) == 0);
	CU_ASSERT_EQUAL(problems, 0);
	seg_verify_summary_release(&vs);
	tdir_free(&t);
}

/* A reader lists DIR while capture seals (renames NNN.open to NNN.seg) and
 * retention unlinks the oldest segment: readdir is no snapshot, and a name
 * listed may be gone when it is looked at. A scan must never report that
 * as a broken directory (replay --follow died of it: "cannot stat"). A
 * child process plays writer and retention as fast as it can. */
static void test_store__scan_while_sealing(void)
{
	struct tdir t;
	struct seg_list l = { 0 };
	struct sl_err err = SL_ERR_INIT;
	unsigned scans = 0, bad = 0;
	pid_t pid;
	int st = 0;

	tdir_new(&t);
	CU_ASSERT_FATAL(mkdir(t.dir, 0700) == 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		char a[200], b[200];
		int fd;

		/* the writer's order (seg_writer.c): seal k, then open k + 1 */
		for (uint64_t k = 1; k <= 20000; k++) {
			snprintf(a, sizeof(a), "%s/%020llu.open", t.dir, (unsigned long long)k);
			snprintf(b, sizeof(b), "%s/%020llu.seg", t.dir, (unsigned long long)k);
			if (k > 1 && rename(a, b) < 0)
				_exit(1);
			snprintf(a, sizeof(a), "%s/%020llu.open", t.dir, (unsigned long long)k + 1);
			if ((fd = open(a, O_CREAT | O_WRONLY, 0600)) < 0)
				_exit(1);
			close(fd);
			if (k > 4) {
				snprintf(b, sizeof(b), "%s/%020llu.seg", t.dir, (unsigned long long)k - 3);
				if (unlink(b) < 0)
					_exit(1);
			}
		}
		_exit(0);
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		int rc = seg__dir_scan(t.dir, &l, &err);

		scans++;
		if (rc) {
			if (!bad++)
				fprintf(stderr, "\n  scan %u: %s\n", scans, err.msg);
			err = (struct sl_err)SL_ERR_INIT;
		} else {
			seg__list_release(&l);
		}
	}
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT(scans > 100);
	CU_ASSERT_EQUAL(bad, 0);
	tdir_free(&t);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	sl_log_init();
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("store/retain", NULL, NULL);
	CU_add_test(s, "account statement counts: footers, open scan, status", test_store__account_counts);
	CU_add_test(s, "retain", test_store__retain);
	CU_add_test(s, "scan while segments are sealed and purged", test_store__scan_while_sealing);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
