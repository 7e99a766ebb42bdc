/* sl_harden.c - process hardening at start: no core dumps, no same-user debugger reads. */
#include "sl.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include "banned.h"

/*
 * A core dump would hold the passwords sluice keeps in memory for its
 * reconnects (the URL's, the environment's, the password file's) and the rows
 * in flight. RLIMIT_CORE 0 stops the kernel from writing one (for a pipe
 * core_pattern too: the kernel still hands it the dump unless the process is
 * not dumpable), and PR_SET_DUMPABLE 0 stops that as well, and makes
 * /proc/PID/environ, mem and maps unreadable to other processes of the same
 * user that are not root (ptrace access mode). Both are reset by execve(),
 * so every sluice process (migrate's children are sluice too) calls this
 * first thing in main(). Inherited by fork() without exec.
 */
int sl_harden_process(struct sl_err *err)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none)) {
		int e = errno;

		return sl_err_set(err, -e, "cannot turn off core dumps (RLIMIT_CORE): %s", strerror(e));
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		int e = errno;

		return sl_err_set(err, -e, "cannot turn off core dumps (PR_SET_DUMPABLE): %s", strerror(e));
	}
	return 0;
}
