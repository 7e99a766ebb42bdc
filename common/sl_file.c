/* sl_file.c - the one atomic file writer: temp file, write all, fsync, rename, fsync the directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl.h"
#include "banned.h"

int sl_fsync_dir(const char *dir, struct sl_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;

		rc = sl_err_set(err, -e, "cannot fsync directory '%s': %s", dir, strerror(e));
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Write all n bytes, going on after a short write; a write that makes no
 * progress is an error (-ENOSPC when the system call did not say why). */
static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -ENOSPC;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int sl_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
			 struct sl_err *err)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? sl_xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : sl_xstrdup(".");
	char *tmp = slash ? sl_xasprintf("%.*s/.%s.tmp", (int)(slash - path), path, slash + 1)
			  : sl_xasprintf(".%s.tmp", path);
	int fd, rc = 0;

	(void)unlink(tmp);	/* a leftover of a crash; O_EXCL below */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		int e = errno;

		rc = sl_err_set(err, -e, "cannot create '%s': %s", tmp, strerror(e));
		goto out;
	}
	if ((rc = write_all(fd, data, len)) || (fsync(fd) < 0 && (rc = -errno))) {
		rc = sl_err_set(err, rc, "cannot write '%s': %s", tmp, strerror(-rc));
		close(fd);
		goto out_unlink;
	}
	if (close(fd) < 0) {
		int e = errno;

		rc = sl_err_set(err, -e, "cannot write '%s': %s", tmp, strerror(e));
		goto out_unlink;
	}
	if (rename(tmp, path) < 0) {
		int e = errno;

		rc = sl_err_set(err, -e, "cannot rename '%s' to '%s': %s", tmp, path, strerror(e));
		goto out_unlink;
	}
	rc = sl_fsync_dir(dir, err);
	goto out;
out_unlink:
	(void)unlink(tmp);
out:
	free(dir);
	free(tmp);
	return rc;
}
