/*
 * test_trust_util.h - what the store's trust suites (test_store_trust.c,
 * test_store_transfer.c) share: numbered transactions written into a
 * throw-away directory, counting what a reader and the checker see, byte
 * surgery on segment files. Static inline, so an unused helper does not warn.
 * Include after seg.h, seg_int.h and test_tdir.h (with TDIR_TAG defined).
 */
#ifndef TEST_TRUST_UTIL_H
#define TEST_TRUST_UTIL_H

#define SOURCE "mariadb:server_id=1:trust"

/* ---- helpers ---- */

static inline char *sub(const struct tdir *t, const char *name)
{
	return sl_xasprintf("%s/%s", t->root, name);
}

static inline uint64_t fsize(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (uint64_t)st.st_size : (uint64_t)-1;
}

static inline void set_pos(Sluice__Position *p, uint64_t t)
{
	sluice__position__init(p);
	p->flavor = "mariadb";
	p->file = "bin.000001";
	p->offset = t * 100;
}

static inline int write_txn(struct seg_writer *w, uint64_t t, struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	Sluice__TxnBegin b = SLUICE__TXN_BEGIN__INIT;
	Sluice__TxnCommit c = SLUICE__TXN_COMMIT__INIT;
	Sluice__RowChange rch = SLUICE__ROW_CHANGE__INIT;
	Sluice__Row row = SLUICE__ROW__INIT;
	Sluice__Value v, *vp = &v;
	Sluice__Position p;
	uint8_t data[200];
	int rc;

	b.time = 1000 + t;
	r.body_case = SLUICE__RECORD__BODY_BEGIN;
	r.begin = &b;
	if ((rc = seg_writer_append(w, &r, err)))
		return rc;
	for (unsigned i = 0; i < (unsigned)(t % 3); i++) {
		sluice__value__init(&v);
		v.kind = SLUICE__VALUE__KIND__BYTES;
		for (size_t k = 0; k < sizeof(data); k++)
			data[k] = (uint8_t)((t * 31 + i * 7 + k * k) % 251);
		v.b.data = data;
		v.b.len = sizeof(data);
		row.n_values = 1;
		row.values = &vp;
		rch.table_ref = 1;
		rch.after = &row;
		r.body_case = SLUICE__RECORD__BODY_ROW;
		r.row = &rch;
		if ((rc = seg_writer_append(w, &r, err)))
			return rc;
	}
	set_pos(&p, t);
	c.position = &p;
	c.time = 1000 + t;
	r.body_case = SLUICE__RECORD__BODY_COMMIT;
	r.commit = &c;
	if ((rc = seg_writer_append(w, &r, err)))
		return rc;
	return seg_writer_txn_end(w, &p, 1000 + t, err);
}

static inline struct seg_writer_opts opts_for(const char *dir, uint64_t seg_size)
{
	struct seg_writer_opts o;

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.source = SOURCE;
	o.frame_bytes = 1024;
	o.segment_size = seg_size;
	o.no_uring = 1;
	return o;
}

/* Write transactions from..to into dir and close. */
static inline void fill_dir(const char *dir, uint64_t seg_size, uint64_t from, uint64_t to)
{
	struct seg_writer_opts o = opts_for(dir, seg_size);
	struct seg_writer *w = NULL;
	struct sl_err err = SL_ERR_INIT;
	int rc = seg_writer_open(&w, &o, &err);

	if (rc)
		fprintf(stderr, "\n  open: %s\n", err.msg);
	CU_ASSERT_FATAL(rc == 0);
	for (uint64_t t = from; t <= to; t++) {
		rc = write_txn(w, t, &err);
		if (rc)
			fprintf(stderr, "\n  txn %llu: %s\n", (unsigned long long)t, err.msg);
		CU_ASSERT_FATAL(rc == 0);
	}
	CU_ASSERT_FATAL(seg_writer_close(w, &err) == 0);
}

static inline uint64_t problems_of(const char *dir, unsigned flags)
{
	struct seg_verify_summary s;
	struct sl_err err = SL_ERR_INIT;
	uint64_t n;

	if (seg_verify_dir(dir, flags, NULL, NULL, &s, &err))
		return 1000000;
	n = s.problems;
	seg_verify_summary_release(&s);
	return n;
}

/* Read everything: returns the reader's final code, *n records. */
static inline int drain(const char *path, uint64_t *n, uint64_t *commits)
{
	struct seg_reader *r = NULL;
	struct sl_err err = SL_ERR_INIT;
	int rc;

	*n = 0;
	if (commits)
		*commits = 0;
	if ((rc = seg_reader_open(&r, path, &err)))
		return rc;
	for (;;) {
		Sluice__Record *rec;
		struct seg_cursor c;

		rc = seg_reader_next(r, &rec, &c, &err);
		if (rc <= 0)
			break;
		(*n)++;
		if (commits && rec->body_case == SLUICE__RECORD__BODY_COMMIT)
			(*commits)++;
		fmt_record_free(rec);
	}
	seg_reader_close(r);
	return rc;
}

static inline void flip(const char *path, uint64_t off, uint8_t mask)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(pread(fd, &b, 1, (off_t)off) == 1);
	b ^= mask;
	CU_ASSERT_FATAL(pwrite(fd, &b, 1, (off_t)off) == 1);
	close(fd);
}

static inline void copy_file(const char *from, const char *to, uint64_t len)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	uint8_t buf[65536];
	uint64_t done = 0;

	CU_ASSERT_FATAL(in >= 0 && out >= 0);
	while (done < len) {
		ssize_t n = read(in, buf, len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf));

		CU_ASSERT_FATAL(n > 0);
		CU_ASSERT_FATAL(write(out, buf, (size_t)n) == n);
		done += (uint64_t)n;
	}
	close(in);
	close(out);
}

#endif
