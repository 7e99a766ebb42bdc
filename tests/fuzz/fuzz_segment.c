/* fuzz_segment.c - libFuzzer target: the segment reader and the integrity checker. */
/*
 * Input: the bytes of one segment file. It is written into a fresh stream
 * directory, once as a sealed segment (.seg) and once as the open one
 * (.open), and read back both ways: every record through seg_reader_next()
 * and the whole directory through seg_verify_dir(SEG_VERIFY_DEEP). Every path
 * must end in records, the end, or an error naming file and offset: never a
 * crash, a leak, an out-of-bounds read or an endless wait.
 * Seeds: real segments written by `sluice capture --binlog-files` from the
 * binlog fixtures (tests/fuzz/run.sh). Built by CMake with -DSLUICE_FUZZ=ON.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seg.h"

static char dir[64];

static void problem(void *ctx, const char *path, const char *msg)
{
	(void)ctx;
	(void)path;
	(void)msg;
}

static void one(const uint8_t *data, size_t size, const char *name)
{
	char path[128];
	struct seg_reader *r = NULL;
	struct seg_verify_summary s;
	struct sl_err err = SL_ERR_INIT;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (seg_reader_open(&r, path, &err) == 0) {
		Sluice__Record *rec;
		struct seg_cursor cur;

		/* a bound on records, not on time: a loop here is a bug */
		for (int i = 0; i < 1000000 && seg_reader_next(r, &rec, &cur, &err) == 1; i++)
			fmt_record_free(rec);
		seg_reader_close(r);
	}
	memset(&s, 0, sizeof(s));
	seg_verify_dir(dir, SEG_VERIFY_DEEP, problem, NULL, &s, &err);
	seg_verify_summary_release(&s);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		const char *t = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/fuzzseg.XXXXXX", t && strlen(t) < 40 ? t : "/tmp");
		if (!mkdtemp(dir))
			abort();
		chmod(dir, 0700);
	}
	one(data, size, "00000000000000000001.seg");
	one(data, size, "00000000000000000001.open");
	return 0;
}
