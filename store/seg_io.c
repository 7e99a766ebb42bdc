/* seg_io.c - the writer's I/O backends (writes, fdatasync, rename, directory fsync): io_uring, plain pwrite, and a fault injector for tests. */
#include "seg_int.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "banned.h"

/* ---- plain pwrite + fdatasync ---- */

static int pw_write(struct seg_io *io, int fd, const void *buf, size_t n,
		    uint64_t off, int sync)
{
	const uint8_t *p = buf;

	(void)io;
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -SL_ETORN;
		p += w;
		off += (uint64_t)w;
		n -= (size_t)w;
	}
	if (sync && fdatasync(fd) < 0)
		return -errno;
	return 0;
}

static int pw_sync(struct seg_io *io, int fd)
{
	(void)io;
	return fdatasync(fd) < 0 ? -errno : 0;
}

/* rename and directory fsync: plain system calls for both backends. */
static int sys_rename(struct seg_io *io, const char *from, const char *to)
{
	(void)io;
	return rename(from, to) < 0 ? -errno : 0;
}

static int sys_sync_dir(struct seg_io *io, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	(void)io;
	if (fd < 0 || fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	return rc;
}

static void pw_close(struct seg_io *io)
{
	free(io);
}

struct seg_io *seg__io_pwrite(void)
{
	struct seg_io *io = sl_xcalloc(1, sizeof(*io));

	io->name = "pwrite";
	io->write = pw_write;
	io->sync = pw_sync;
	io->rename = sys_rename;
	io->sync_dir = sys_sync_dir;
	io->close = pw_close;
	return io;
}

/* ---- io_uring: a write SQE linked to an fdatasync SQE ---- */

struct uring_io {
	struct seg_io io;	/* first: the struct seg_io * is a struct uring_io * */
	struct io_uring ring;
};

enum { URING_WRITE = 1, URING_SYNC = 2 };

/* Submit what is queued and reap exactly nr completions. */
static int uring_run(struct uring_io *u, unsigned nr, int *wres, int *sres)
{
	int rc = io_uring_submit_and_wait(&u->ring, nr);

	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < nr; i++) {
		struct io_uring_cqe *cqe;

		while ((rc = io_uring_wait_cqe(&u->ring, &cqe)) == -EINTR)
			;
		if (rc < 0)
			return rc;
		if (cqe->user_data == URING_WRITE)
			*wres = cqe->res;
		else
			*sres = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
	}
	return 0;
}

static int uring_write(struct seg_io *io, int fd, const void *buf, size_t n,
		       uint64_t off, int sync)
{
	struct uring_io *u = (struct uring_io *)io;
	const uint8_t *p = buf;
	int rc;

	if (n > (size_t)INT32_MAX)	/* cqe->res is an int */
		return -EINVAL;
	/* A short write (a full disk fills part of it) breaks the link: the
	 * fsync completes -ECANCELED, and the rest is written again so that the
	 * error returned is the real cause (ENOSPC), not "torn". */
	while (n > 0) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
		int wres = 0, sres = 0;

		if (!sqe)
			return -EBUSY;
		io_uring_prep_write(sqe, fd, p, (unsigned)n, off);
		sqe->user_data = URING_WRITE;
		if (sync) {
			sqe->flags |= IOSQE_IO_LINK;
			sqe = io_uring_get_sqe(&u->ring);
			if (!sqe)
				return -EBUSY;
			io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
			sqe->user_data = URING_SYNC;
		}
		rc = uring_run(u, sync ? 2 : 1, &wres, &sres);
		if (rc < 0)
			return rc;
		if (wres < 0)
			return wres;
		if (wres == 0)
			return -SL_ETORN;
		if ((size_t)wres == n)
			return sync && sres < 0 ? sres : 0;
		p += wres;
		off += (uint64_t)wres;
		n -= (size_t)wres;
	}
	return 0;
}

static int uring_sync(struct seg_io *io, int fd)
{
	struct uring_io *u = (struct uring_io *)io;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	int wres = 0, sres = 0, rc;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	sqe->user_data = URING_SYNC;
	rc = uring_run(u, 1, &wres, &sres);
	return rc < 0 ? rc : sres < 0 ? sres : 0;
}

static void uring_close(struct seg_io *io)
{
	struct uring_io *u = (struct uring_io *)io;

	io_uring_queue_exit(&u->ring);
	free(u);
}

int seg__io_uring(struct seg_io **io)
{
	struct uring_io *u = sl_xcalloc(1, sizeof(*u));
	int rc = io_uring_queue_init(8, &u->ring, 0);

	if (rc < 0) {
		free(u);
		return rc;
	}
	u->io.name = "io_uring";
	u->io.write = uring_write;
	u->io.sync = uring_sync;
	u->io.rename = sys_rename;
	u->io.sync_dir = sys_sync_dir;
	u->io.close = uring_close;
	*io = &u->io;
	return 0;
}

/* ---- fault injection (sqlite test6.c, curl torture) ---- */

struct fault_io {
	struct seg_io io;
	struct seg_io *inner;
	unsigned fail_write, fail_sync, nwrite, nsync;
	unsigned fail_rename, nrename, fail_dir, ndir;
	int tear, rename_done, dead;
};

static int fault_write(struct seg_io *io, int fd, const void *buf, size_t n,
		       uint64_t off, int sync)
{
	struct fault_io *f = (struct fault_io *)io;
	int rc;

	if (f->dead)
		return -EIO;
	if (++f->nwrite == f->fail_write) {
		f->dead = 1;
		if (f->tear && n / 2)
			f->inner->write(f->inner, fd, buf, n / 2, off, 0);
		return -EIO;
	}
	if (sync && ++f->nsync == f->fail_sync) {
		f->dead = 1;
		/* The data reached the page cache; its durability is unknown. */
		f->inner->write(f->inner, fd, buf, n, off, 0);
		return -EIO;
	}
	rc = f->inner->write(f->inner, fd, buf, n, off, sync);
	if (rc)
		f->dead = 1;
	return rc;
}

static int fault_sync(struct seg_io *io, int fd)
{
	struct fault_io *f = (struct fault_io *)io;

	if (f->dead)
		return -EIO;
	if (++f->nsync == f->fail_sync) {
		f->dead = 1;
		return -EIO;
	}
	return f->inner->sync(f->inner, fd);
}

static int fault_rename(struct seg_io *io, const char *from, const char *to)
{
	struct fault_io *f = (struct fault_io *)io;
	int rc;

	if (f->dead)
		return -EIO;
	if (++f->nrename == f->fail_rename) {
		f->dead = 1;
		if (f->rename_done)
			f->inner->rename(f->inner, from, to);
		return -EIO;
	}
	if ((rc = f->inner->rename(f->inner, from, to)))
		f->dead = 1;
	return rc;
}

static int fault_sync_dir(struct seg_io *io, const char *dir)
{
	struct fault_io *f = (struct fault_io *)io;
	int rc;

	if (f->dead)
		return -EIO;
	if (++f->ndir == f->fail_dir) {
		f->dead = 1;
		return -EIO;
	}
	if ((rc = f->inner->sync_dir(f->inner, dir)))
		f->dead = 1;
	return rc;
}

static void fault_close(struct seg_io *io)
{
	struct fault_io *f = (struct fault_io *)io;

	f->inner->close(f->inner);
	free(f);
}

struct seg_io *seg__io_fault(struct seg_io *inner, unsigned fail_write,
			     unsigned fail_sync, int tear)
{
	struct fault_io *f = sl_xcalloc(1, sizeof(*f));

	f->io.name = "fault";
	f->io.write = fault_write;
	f->io.sync = fault_sync;
	f->io.rename = fault_rename;
	f->io.sync_dir = fault_sync_dir;
	f->io.close = fault_close;
	f->inner = inner;
	f->fail_write = fail_write;
	f->fail_sync = fail_sync;
	f->tear = tear;
	return &f->io;
}

void seg__io_fault_dir(struct seg_io *io, unsigned fail_rename, int rename_done,
		       unsigned fail_dir)
{
	struct fault_io *f = (struct fault_io *)io;

	if (io->write != fault_write)
		sl_bug("seg__io_fault_dir() on the '%s' backend", io->name);
	f->fail_rename = fail_rename;
	f->rename_done = rename_done;
	f->fail_dir = fail_dir;
}
