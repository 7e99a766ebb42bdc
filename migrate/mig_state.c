/* mig_state.c - DIR/migrate.lock (one migrate per DIR) and DIR/migrate.state (where a run got to, its children). */
#include "mig_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "banned.h"

static const char *const roles[6] = { "capture", "snapshot", "replay", "verify", "rcapture", "rreplay" };
#define NROLES (sizeof(roles) / sizeof(roles[0]))

int mig__lock(const char *dir, int *fd, struct sl_err *err)
{
	char *path = sl_xasprintf("%s/migrate.lock", dir), pid[32], other[32] = "";
	int f, rc = 0;

	*fd = -1;
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0) {
		int e = errno;

		rc = sl_err_set(err, -e, "cannot open '%s': %s", path, strerror(e));
		goto out;
	}
	if (flock(f, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		ssize_t n = pread(f, other, sizeof(other) - 1, 0);

		other[n > 0 ? n : 0] = 0;
		other[strcspn(other, "\n")] = 0;
		close(f);
		if (e == EWOULDBLOCK)
			rc = sl_err_set(err, -SL_ECONFIG, "another sluice migrate (pid %s) is running on '%s'",
					other[0] ? other : "?", dir);
		else
			rc = sl_err_set(err, -e, "cannot lock '%s': %s", path, strerror(e));
		goto out;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(f, 0) < 0 || pwrite(f, pid, strlen(pid), 0) < 0)
		sl_log(SL_WARN, "migrate", "cannot write our pid into '%s': %s", path, strerror(errno));
	*fd = f;
out:
	free(path);
	return rc;
}

int mig__state_read(const char *dir, struct mig_state *s, struct sl_err *err)
{
	char *path = sl_xasprintf("%s/migrate.state", dir), line[256];
	FILE *f = fopen(path, "re");
	int rc = 1;

	memset(s, 0, sizeof(*s));
	s->verify = -1;
	if (!f) {
		int e = errno;

		rc = e == ENOENT ? 0 : sl_err_set(err, -e, "cannot read '%s': %s", path, strerror(e));
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq++ = 0;
		eq[strcspn(eq, "\n")] = 0;
		if (!strcmp(line, "phase"))
			snprintf(s->phase, sizeof(s->phase), "%s", eq);
		else if (!strcmp(line, "runs"))
			s->runs = strtoull(eq, NULL, 10);
		else if (!strcmp(line, "first_started"))
			s->first_started = strtoull(eq, NULL, 10);
		else if (!strcmp(line, "verify"))
			s->verify = atoi(eq);
		for (size_t i = 0; i < NROLES; i++)
			if (!strncmp(line, "pid.", 4) && !strcmp(line + 4, roles[i]))
				s->pids[i] = (pid_t)atoi(eq);
	}
	fclose(f);
out:
	free(path);
	return rc;
}

int mig__state_write(const char *dir, const struct mig_state *s, struct sl_err *err)
{
	char *path = sl_xasprintf("%s/migrate.state", dir);
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	sl_buf_addf(&b, "# sluice migrate: where the migration in this directory got to\n"
		    "phase=%s\nruns=%" PRIu64 "\nfirst_started=%" PRIu64 "\nverify=%d\n", s->phase,
		    s->runs, s->first_started, s->verify);
	for (size_t i = 0; i < NROLES; i++)
		sl_buf_addf(&b, "pid.%s=%d\n", roles[i], (int)s->pids[i]);
	rc = sl_write_file_atomic(path, b.data, b.len, 0600, err);
	sl_buf_release(&b);
	free(path);
	return rc;
}

/* Is pid a sluice child working on dir or rdir (its argv holds "--dir" and one of them)? */
static int ours(pid_t pid, const char *dir, const char *rdir)
{
	char path[64], buf[8192];
	ssize_t n;
	int fd, prev_dir = 0, found = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
		if (prev_dir && (!strcmp(p, dir) || (rdir && !strcmp(p, rdir))))
			found = 1;
		prev_dir = !strcmp(p, "--dir");
	}
	return found;
}

void mig__state_reap_old(const char *dir, const char *rdir, const struct mig_state *s,
			 unsigned timeout_ms)
{
	uint64_t deadline = sl_now_ms() + timeout_ms;

	for (size_t i = 0; i < NROLES; i++) {
		pid_t pid = s->pids[i];

		if (pid <= 0 || pid == getpid() || !ours(pid, dir, rdir))
			continue;
		sl_log(SL_INFO, "migrate", "waiting for %s (pid %d) of the earlier run to end", roles[i],
		       (int)pid);
		kill(pid, SIGTERM);
		while (ours(pid, dir, rdir) && sl_now_ms() < deadline)
			usleep(100 * 1000);
		if (ours(pid, dir, rdir)) {
			sl_log(SL_WARN, "migrate", "%s (pid %d) of the earlier run is still there: killing it",
			       roles[i], (int)pid);
			kill(pid, SIGKILL);
			usleep(200 * 1000);
		}
	}
}
