/* sl_log.c - one-line logging on stderr with levels and per-module tracing. */
#include "sl.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include "banned.h"

int sl_log_level = SL_INFO;
static char trace_modules[256];
atomic_int sl_stop_requested;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag is written in a signal handler");

static const char *level_name[] = { "debug", "info", "warn", "error" };

void sl_log_init(void)
{
	const char *l = getenv("SLUICE_LOG"), *t = getenv("SLUICE_TRACE");

	if (l) {
		for (int i = 0; i < 4; i++)
			if (!strcmp(l, level_name[i]))
				sl_log_level = i;
	}
	if (t)
		snprintf(trace_modules, sizeof(trace_modules), ",%s,", t);
}

int sl_log_enabled(enum sl_level lvl, const char *module)
{
	char key[64];

	if (lvl != SL_DEBUG || !trace_modules[0])
		return 0;
	snprintf(key, sizeof(key), ",%s,", module);
	return strstr(trace_modules, key) != NULL;
}

void sl__log(enum sl_level lvl, const char *module, const char *fmt, ...)
{
	char line[1024], ts[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s.%03ldZ %-5s %-7s %s\n", ts, (long)(tv.tv_usec / 1000),
		level_name[lvl], module, line);
}

static atomic_int stop_fd = -1;

static void on_stop(int sig)
{
	int fd = atomic_load(&stop_fd);

	(void)sig;
	sl_stop_requested = 1;
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);	/* async-signal-safe */
}

void sl_stop_interrupts(int fd)
{
	atomic_store(&stop_fd, fd);
}

void sl_install_stop_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void sl_block_stop_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}
