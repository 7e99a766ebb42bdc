/*
 * test_tdir.h - a throw-away directory for the store suites: root is a fresh
 * mkdtemp() directory named after TDIR_TAG, dir its "s" subdirectory (the
 * stream directory, created by the writer); tdir_free() removes it all.
 * Define TDIR_TAG before including.
 */
#ifndef TEST_TDIR_H
#define TEST_TDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

struct tdir {
	char root[64];
	char dir[96];		/* root/s: the stream directory (created by the writer) */
};

static int tdir_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void tdir_new(struct tdir *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/sluice-" TDIR_TAG "-XXXXXX");
	if (!mkdtemp(t->root))
		abort();
	snprintf(t->dir, sizeof(t->dir), "%s/s", t->root);
}

static void tdir_free(struct tdir *t)
{
	nftw(t->root, tdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
