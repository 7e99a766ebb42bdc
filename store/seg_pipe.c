/* seg_pipe.c - the segment writer's second thread: zstd, frame CRC and the frame's write (and fdatasync) in submission order. */
/*
 * The caller (seg_writer.c, the decode thread) packs records into a raw
 * frame buffer and hands it over with seg__pipe_frame(); it gets an empty
 * buffer from a small pool back at once and goes on packing while this
 * thread compresses, builds the frame header (CRC32C) and writes the frame
 * through the segment's struct seg_io at the open segment's end. Jobs run one
 * at a time in the order they were submitted, so frames reach the file in
 * order and an fdatasync covers every frame submitted before it.
 *
 *   caller:  [pack] -> frame(buf) -> [pack] -> frame(buf) -> ... -> wait()
 *                        |  queue (at most SEG_PIPE_DEPTH jobs)      ^
 *   thread:              +-> zstd -> header+CRC -> io->write(sync) --+ done
 *
 * Memory: SEG_PIPE_DEPTH raw buffers (each at most frame_bytes plus one
 * record; one grown past buf_keep by a huge record is freed when it comes
 * back) plus one compressed buffer: never a whole segment.
 * Errors: the first failed write/fdatasync is recorded (code, what, offset)
 * and every later job is dropped unwritten; seg__pipe_failed() tells the
 * caller without a lock, seg__pipe_wait() returns it. The caller formats the
 * message, so it reads exactly as when the write happened in its thread.
 * Locking: one mutex guards the queue, the pool and the segment cursor (off,
 * frames, body_crc); the thread holds it only to take and finish a job.
 * The caller may use the struct seg_io itself only while the pipe is idle
 * (after seg__pipe_wait()): header, footer, seal.
 */
#include "seg_int.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include "banned.h"

enum { JOB_FRAME = 1, JOB_SYNC = 2 };

struct pipe_job {
	int kind;
	struct sl_buf raw;		/* JOB_FRAME: raw.data[0, len) is the frame */
	size_t len;
	uint8_t flags;
	int sync;
	uint64_t bound;			/* upper bound of the bytes it adds to the file */
};

struct seg_pipe {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;		/* a job was queued, or stop */
	pthread_cond_t done;		/* a job finished (a buffer came back) */
	struct seg_io *io;		/* not owned */
	ZSTD_CCtx *cctx;		/* the thread's */
	struct sl_buf out;		/* the thread's: frame header + payload */

	struct pipe_job q[SEG_PIPE_DEPTH];	/* ring: head, n jobs; q[head] runs */
	unsigned head, n;
	struct sl_buf pool[SEG_PIPE_DEPTH];	/* empty raw buffers */
	unsigned nfree;
	size_t buf_keep;		/* a returned buffer larger than this is freed */
	int stop;

	/* the open segment: where the next frame goes */
	int fd;
	uint64_t off, frames, bound;	/* bound: sum of the queued jobs' bounds */
	uint32_t body_crc;

	atomic_int failed;		/* set once by the thread */
	int err_code;
	const char *err_what;
	uint64_t err_off;
};

/* Compress job's raw bytes into p->out as one DATA frame. */
static void build_frame(struct seg_pipe *p, const struct pipe_job *j)
{
	size_t cap = ZSTD_compressBound(j->len), n;

	sl_buf_reset(&p->out);
	if (sl_buf_reserve(&p->out, SEG_FRAME_HDR + cap))
		sl_bug("frame buffer limit");
	n = ZSTD_compress2(p->cctx, p->out.data + SEG_FRAME_HDR, cap, j->raw.data, j->len);
	if (ZSTD_isError(n))
		sl_bug("zstd compression failed: %s", ZSTD_getErrorName(n));
	seg__frame_header(p->out.data, (uint32_t)n, (uint32_t)j->len, SEG_FRAME_DATA, j->flags,
			  p->out.data + SEG_FRAME_HDR);
	p->out.len = SEG_FRAME_HDR + n;
}

static void *pipe_main(void *arg)
{
	struct seg_pipe *p = arg;

	sl_block_stop_signals();
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct pipe_job *j;
		const char *what = NULL;
		uint64_t off;
		int fd, rc = 0, failed;

		while (p->n == 0 && !p->stop)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->n == 0)
			break;
		j = &p->q[p->head];
		fd = p->fd;
		off = p->off;
		failed = atomic_load_explicit(&p->failed, memory_order_relaxed);
		pthread_mutex_unlock(&p->mu);

		if (!failed && j->kind == JOB_FRAME) {
			build_frame(p, j);
			sl_failpoint("store.frame.before-write");
			rc = p->io->write(p->io, fd, p->out.data, p->out.len, off, j->sync);
			what = j->sync ? "frame write and fdatasync" : "frame write";
		} else if (!failed) {
			rc = p->io->sync(p->io, fd);
			what = "fdatasync";
		}
		/* in the file, not synced yet / synced, not yet reported to the writer */
		if (!failed && !rc)
			sl_failpoint(j->kind == JOB_FRAME && !j->sync ? "store.frame.after-write" :
				     "store.sync.after");

		pthread_mutex_lock(&p->mu);
		if (rc) {
			p->err_code = rc;
			p->err_what = what;
			p->err_off = off;
			atomic_store_explicit(&p->failed, 1, memory_order_release);
		} else if (!failed && j->kind == JOB_FRAME) {
			p->body_crc = sl_crc32c(p->body_crc, p->out.data, SEG_FRAME_HDR);
			p->off += p->out.len;
			p->frames++;
		}
		p->bound -= j->bound;
		if (j->kind == JOB_FRAME) {
			if (j->raw.cap > p->buf_keep)
				sl_buf_release(&j->raw);
			sl_buf_reset(&j->raw);
			p->pool[p->nfree++] = j->raw;
		}
		memset(j, 0, sizeof(*j));
		p->head = (p->head + 1) % SEG_PIPE_DEPTH;
		p->n--;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int seg__pipe_start(struct seg_pipe **pp, struct seg_io *io, int level, size_t buf_max,
		    size_t buf_keep)
{
	struct seg_pipe *p = sl_xcalloc(1, sizeof(*p));
	int rc;

	p->io = io;
	p->fd = -1;
	p->cctx = ZSTD_createCCtx();
	if (!p->cctx)
		sl_bug("ZSTD_createCCtx failed");
	ZSTD_CCtx_setParameter(p->cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(p->cctx, ZSTD_c_contentSizeFlag, 1);
	sl_buf_init(&p->out, SL_BUF_UNLIMITED);
	for (unsigned i = 0; i < SEG_PIPE_DEPTH; i++)
		sl_buf_init(&p->pool[i], buf_max);
	p->nfree = SEG_PIPE_DEPTH;
	p->buf_keep = buf_keep;
	atomic_init(&p->failed, 0);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	if ((rc = pthread_create(&p->thread, NULL, pipe_main, p))) {
		pthread_cond_destroy(&p->done);
		pthread_cond_destroy(&p->work);
		pthread_mutex_destroy(&p->mu);
		for (unsigned i = 0; i < SEG_PIPE_DEPTH; i++)
			sl_buf_release(&p->pool[i]);
		sl_buf_release(&p->out);
		ZSTD_freeCCtx(p->cctx);
		free(p);
		*pp = NULL;
		return -rc;
	}
	*pp = p;
	return 0;
}

void seg__pipe_stop(struct seg_pipe *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);	/* runs (or drops) what is queued first */
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	for (unsigned i = 0; i < p->nfree; i++)
		sl_buf_release(&p->pool[i]);
	sl_buf_release(&p->out);
	ZSTD_freeCCtx(p->cctx);
	free(p);
}

void seg__pipe_segment(struct seg_pipe *p, int fd, uint64_t off, uint64_t frames,
		       uint32_t body_crc)
{
	pthread_mutex_lock(&p->mu);
	assert(p->n == 0);
	p->fd = fd;
	p->off = off;
	p->frames = frames;
	p->body_crc = body_crc;
	pthread_mutex_unlock(&p->mu);
}

/* Queue j (the lock held); waits for a free slot. */
static void enqueue(struct seg_pipe *p, struct pipe_job *j)
{
	while (p->n == SEG_PIPE_DEPTH)
		pthread_cond_wait(&p->done, &p->mu);
	p->q[(p->head + p->n) % SEG_PIPE_DEPTH] = *j;
	p->n++;
	p->bound += j->bound;
	pthread_cond_signal(&p->work);
}

void seg__pipe_frame(struct seg_pipe *p, struct sl_buf *buf, size_t len, uint8_t flags,
		     int sync)
{
	struct pipe_job j = { .kind = JOB_FRAME, .len = len, .flags = flags, .sync = sync };
	struct sl_buf nb;

	assert(len > 0 && len <= buf->len && len <= SEG_RAW_MAX);
	j.bound = SEG_FRAME_HDR + ZSTD_compressBound(len);
	pthread_mutex_lock(&p->mu);
	while (p->nfree == 0)
		pthread_cond_wait(&p->done, &p->mu);
	nb = p->pool[--p->nfree];
	pthread_mutex_unlock(&p->mu);
	/* The unfinished transaction's records stay with the caller. */
	if (len < buf->len) {
		if (sl_buf_add(&nb, buf->data + len, buf->len - len))
			sl_bug("frame buffer limit");
	}
	j.raw = *buf;
	*buf = nb;
	pthread_mutex_lock(&p->mu);
	enqueue(p, &j);
	pthread_mutex_unlock(&p->mu);
}

void seg__pipe_sync(struct seg_pipe *p)
{
	struct pipe_job j = { .kind = JOB_SYNC };

	pthread_mutex_lock(&p->mu);
	enqueue(p, &j);
	pthread_mutex_unlock(&p->mu);
}

void seg__pipe_where(struct seg_pipe *p, uint64_t *off, uint64_t *bound)
{
	pthread_mutex_lock(&p->mu);
	*off = p->off;
	*bound = p->bound;
	pthread_mutex_unlock(&p->mu);
}

int seg__pipe_failed(struct seg_pipe *p)
{
	return atomic_load_explicit(&p->failed, memory_order_acquire);
}

int seg__pipe_wait(struct seg_pipe *p, struct seg_pipe_state *st)
{
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	while (p->n > 0)
		pthread_cond_wait(&p->done, &p->mu);
	st->off = p->off;
	st->frames = p->frames;
	st->body_crc = p->body_crc;
	st->what = p->err_what;
	st->err_off = p->err_off;
	if (atomic_load_explicit(&p->failed, memory_order_relaxed))
		rc = p->err_code ? p->err_code : -EIO;
	pthread_mutex_unlock(&p->mu);
	return rc;
}
