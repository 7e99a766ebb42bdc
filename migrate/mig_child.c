/* mig_child.c - run capture, snapshot, replay and verify as children of our own binary; copy their output, prefixed. */
#include "mig_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "banned.h"

char *mig__url_without_password(const char *url)
{
	size_t off, len;
	char *out = sl_xstrdup(url);

	if (sl_dsn_secret_span(url, &off, &len) && off > 0 && url[off - 1] == ':') {
		/* "user:secret@host" -> "user@host" */
		memmove(out + off - 1, out + off + len, strlen(out + off + len) + 1);
	}
	return out;
}

void mig__child_init(struct mig_child *c, const char *role)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->role, sizeof(c->role), "%s", role);
	c->fd = -1;
}

void mig__child_set_argv(struct mig_child *c, struct mig_argv *a)
{
	mig__argv_release(&c->argv);
	c->argv = *a;
	memset(a, 0, sizeof(*a));
}

void mig__argv_add(struct mig_argv *a, const char *s)
{
	a->v = sl_xrealloc(a->v, (a->n + 2) * sizeof(*a->v));
	a->v[a->n++] = sl_xstrdup(s);
	a->v[a->n] = NULL;
}

void mig__argv_release(struct mig_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int mig__child_start(struct mig_child *c, const struct mig_env *env, struct sl_err *err)
{
	int p[2];
	pid_t pid, parent = getpid();

	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;
		return sl_err_set(err, -e, "cannot start %s: pipe: %s", c->role, strerror(e));
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		return sl_err_set(err, -e, "cannot start %s: fork: %s", c->role, strerror(e));
	}
	if (pid == 0) {
		sigset_t none;

		/* Ends with us, kill -9 included; its own process group, so a
		 * terminal's ^C reaches migrate alone and migrate stops it in order. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(2);
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		dup2(p[1], 1);
		dup2(p[1], 2);
		close_range(3, ~0U, 0);	/* no connection or lock of ours leaks into it */
		if (env->source_password)
			setenv("SLUICE_SOURCE_PASSWORD", env->source_password, 1);
		if (env->dest_password)
			setenv("SLUICE_DEST_PASSWORD", env->dest_password, 1);
		execv(env->self, c->argv.v);
		dprintf(2, "cannot run '%s': %s\n", env->self, strerror(errno));
		_exit(2);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	c->pid = pid;
	c->fd = p[0];
	c->len = 0;
	c->exited = 0;
	c->status = 0;
	c->started_ms = sl_now_ms();
	c->last[0] = 0;
	sl_log(SL_INFO, "migrate", "started %s (pid %d)", c->role, (int)pid);
	return 0;
}

/* One complete line of c's output. */
static void emit(struct mig_child *c, char *line, mig_line_fn out, void *ctx)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		line[--n] = 0;
	if (!n)
		return;
	snprintf(c->last, sizeof(c->last), "%s", line);
	out(ctx, c->role, line);
}

/* Reads what c has written; at EOF closes the pipe. */
static void drain(struct mig_child *c, mig_line_fn out, void *ctx)
{
	for (;;) {
		ssize_t r = read(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
				if (c->len) {
					c->line[c->len] = 0;
					emit(c, c->line, out, ctx);
					c->len = 0;
				}
				close(c->fd);
				c->fd = -1;
			}
			return;
		}
		c->len += (size_t)r;
		c->line[c->len] = 0;
		for (;;) {
			char *nl = memchr(c->line, '\n', c->len);
			size_t used;

			if (!nl) {
				if (c->len == sizeof(c->line) - 1) {	/* a very long line: cut it */
					emit(c, c->line, out, ctx);
					c->len = 0;
				}
				break;
			}
			*nl = 0;
			emit(c, c->line, out, ctx);
			used = (size_t)(nl + 1 - c->line);
			memmove(c->line, nl + 1, c->len - used);
			c->len -= used;
			c->line[c->len] = 0;
		}
	}
}

void mig__children_pump(struct mig_child *const *v, size_t n, int timeout_ms, mig_line_fn out,
			void *ctx)
{
	struct pollfd pf[8];
	size_t k = 0, idx[8];

	for (size_t i = 0; i < n && k < 8; i++)
		if (v[i]->fd >= 0) {
			pf[k].fd = v[i]->fd;
			pf[k].events = POLLIN;
			pf[k].revents = 0;
			idx[k++] = i;
		}
	if (!k) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return;
	}
	if (poll(pf, k, timeout_ms) <= 0)
		return;
	for (size_t j = 0; j < k; j++)
		if (pf[j].revents)
			drain(v[idx[j]], out, ctx);
}

int mig__child_reap(struct mig_child *c, mig_line_fn out, void *ctx)
{
	int st;
	pid_t r;

	if (!c->pid)
		return 0;
	r = waitpid(c->pid, &st, WNOHANG);
	if (r != c->pid)
		return 0;
	if (c->fd >= 0)
		drain(c, out, ctx);	/* what it wrote last */
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->pid = 0;
	c->exited = 1;
	c->status = st;
	return 1;
}

int mig__child_code(const struct mig_child *c)
{
	if (WIFEXITED(c->status))
		return WEXITSTATUS(c->status);
	return -(WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 1);
}

char *mig__child_how(const struct mig_child *c, char *out, size_t n)
{
	if (WIFEXITED(c->status))
		snprintf(out, n, "exited %d", WEXITSTATUS(c->status));
	else if (WIFSIGNALED(c->status))
		snprintf(out, n, "was killed by signal %d", WTERMSIG(c->status));
	else
		snprintf(out, n, "ended");
	return out;
}

int mig__child_stop(struct mig_child *c, unsigned timeout_ms, mig_line_fn out, void *ctx)
{
	uint64_t deadline;

	if (!c->pid)
		return 0;
	kill(c->pid, SIGTERM);
	deadline = sl_now_ms() + timeout_ms;
	while (c->pid) {
		struct mig_child *one = c;

		/* short: a stop is waited for, and its output is at EOF */
		mig__children_pump(&one, 1, 10, out, ctx);
		if (mig__child_reap(c, out, ctx))
			break;
		if (sl_now_ms() > deadline) {
			sl_log(SL_WARN, "migrate", "%s (pid %d) did not stop within %u s of SIGTERM: killing it",
			       c->role, (int)c->pid, timeout_ms / 1000);
			kill(c->pid, SIGKILL);
			deadline = UINT64_MAX;
		}
	}
	return mig__child_code(c);
}

void mig__child_release(struct mig_child *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	mig__argv_release(&c->argv);
}
