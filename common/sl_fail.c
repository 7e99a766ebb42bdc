/* sl_fail.c - named crash points armed through SLUICE_FAILPOINT, for tests that kill a process at an exact step. */
#include "sl.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "banned.h"

#ifdef SLUICE_FAILPOINTS
void sl_failpoint(const char *name)
{
	const char *armed = getenv("SLUICE_FAILPOINT");
	size_t n = strlen(name);

	for (const char *p = armed; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !memcmp(p, name, n)) {
			sl_log(SL_WARN, "failpoint", "%s: killing this process (SLUICE_FAILPOINT)", name);
			kill(getpid(), SIGKILL);
			pause();
		}
		p = end ? end + 1 : p + len;
	}
}
#endif
