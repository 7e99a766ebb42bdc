/* sl_fail.c - named crash points armed through SLUICE_FAILPOINT, for tests that kill a process at an exact step. */
#include "sl.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "banned.h"

#ifdef SLUICE_FAILPOINTS
/*
 * The registry: every crash point the code has, in one place. A name armed
 * that is not here is refused (sl_failpoint_check(), exit 2 from main), and
 * a point reached that is not here is a bug, so a test can never arm a point
 * that does not exist. tests/integration/README.md "Failpoints" describes
 * each; scripts/check_failpoints.py keeps the call sites, this table, that
 * list and the tests that exercise them in step.
 */
static const char *const known[] = {
	/* store/seg_pipe.c, store/seg_writer.c: the segment writer */
	"store.frame.before-write",
	"store.frame.after-write",
	"store.sync.after",
	"store.seal.before-rename",
	"store.seal.before-dirsync",
	/* capture/cap_sink.c */
	"capture.txn.before-end",
	/* replay/rep_worker.c, rep_commit.c, rep_ddl.c */
	"replay.batch.before-commit",
	"replay.batch.after-commit",
	"replay.fold.before",
	"replay.fold.after",
	"replay.ddl.after-intent",
	"replay.ddl.after-ddl",
	/* snapshot/snap_write.c, replay/rep_load.c */
	"snapshot.chunk.rows",
	"replay.load.before-commit",
	/* ship/ship_send.c, ship/ship_recv.c */
	"ship.chunk.after-publish",
	"receive.add.before-ack",
	/* migrate/mig_switch.c: "switchover.<step>.before|after" */
	"switchover.confirm.before", "switchover.confirm.after",
	"switchover.precheck.before", "switchover.precheck.after",
	"switchover.reverse-capture.before", "switchover.reverse-capture.after",
	"switchover.freeze-source.before", "switchover.freeze-source.after",
	"switchover.wait-forward.before", "switchover.wait-forward.after",
	"switchover.stop-forward.before", "switchover.stop-forward.after",
	"switchover.objects.before", "switchover.objects.after",
	"switchover.reverse-sync.before", "switchover.reverse-sync.after",
};

#define SL_FAIL_ARMED_MAX 16
#define SL_FAIL_NAME_MAX 64

struct armed {
	char name[SL_FAIL_NAME_MAX];
	uint64_t at;			/* kill on this hit (1: the first) */
	atomic_uint_fast64_t hits;	/* times reached in this process */
};

static pthread_once_t parse_once = PTHREAD_ONCE_INIT;
static struct armed armed[SL_FAIL_ARMED_MAX];
static int narmed;
static struct sl_err parse_err = SL_ERR_INIT;

static int is_known(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == len && !memcmp(known[i], name, len))
			return 1;
	return 0;
}

/* One entry "name" or "name@N" of SLUICE_FAILPOINT. */
static int parse_one(const char *p, size_t len, struct sl_err *err)
{
	const char *at = memchr(p, '@', len);
	size_t nlen = at ? (size_t)(at - p) : len;
	uint64_t n = 1;

	if (at) {
		char num[24], *end;
		size_t dl = len - nlen - 1;

		if (dl == 0 || dl >= sizeof(num) || at[1] < '0' || at[1] > '9')
			return sl_err_set(err, -SL_EINVAL_ARG, "SLUICE_FAILPOINT: bad count in '%.*s' "
					  "(want name@N, N >= 1)", (int)len, p);
		memcpy(num, at + 1, dl);
		num[dl] = 0;
		n = strtoull(num, &end, 10);
		if (*end || n == 0)
			return sl_err_set(err, -SL_EINVAL_ARG, "SLUICE_FAILPOINT: bad count in '%.*s' "
					  "(want name@N, N >= 1)", (int)len, p);
	}
	if (!is_known(p, nlen))
		return sl_err_set(err, -SL_EINVAL_ARG, "SLUICE_FAILPOINT: unknown failpoint '%.*s' "
				  "(the list: tests/integration/README.md)", (int)nlen, p);
	if (narmed == SL_FAIL_ARMED_MAX)
		return sl_err_set(err, -SL_EINVAL_ARG, "SLUICE_FAILPOINT: more than %d failpoints",
				  SL_FAIL_ARMED_MAX);
	memcpy(armed[narmed].name, p, nlen);
	armed[narmed].name[nlen] = 0;
	armed[narmed].at = n;
	atomic_init(&armed[narmed].hits, 0);
	narmed++;
	return 0;
}

/* Once per process: SLUICE_FAILPOINT="name[@N],name[@N]..." into armed[].
 * On an error nothing is armed and parse_err says why. */
static void parse(void)
{
	const char *env = getenv("SLUICE_FAILPOINT");

	for (const char *p = env; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len && parse_one(p, len, &parse_err)) {
			narmed = 0;
			return;
		}
		p = end ? end + 1 : p + len;
	}
}

int sl_failpoint_check(struct sl_err *err)
{
	pthread_once(&parse_once, parse);
	if (parse_err.code) {
		*err = parse_err;
		return parse_err.code;
	}
	return 0;
}

void sl_failpoint(const char *name)
{
	pthread_once(&parse_once, parse);
	if (!narmed) {
		if (parse_err.code)
			sl_bug("%s", parse_err.msg);	/* main checks first: a program that did not */
		return;
	}
	if (!is_known(name, strlen(name)))
		sl_bug("failpoint '%s' is not in the registry (common/sl_fail.c)", name);
	for (int i = 0; i < narmed; i++) {
		uint64_t hit;

		if (strcmp(armed[i].name, name))
			continue;
		hit = atomic_fetch_add(&armed[i].hits, 1) + 1;
		if (hit != armed[i].at)
			continue;
		sl_log(SL_WARN, "failpoint", "%s: killing this process (SLUICE_FAILPOINT, hit %llu)", name,
		       (unsigned long long)hit);
		kill(getpid(), SIGKILL);
		pause();
	}
}
#else
int sl_failpoint_check(struct sl_err *err)
{
	const char *env = getenv("SLUICE_FAILPOINT");

	if (env && *env)
		return sl_err_set(err, -SL_EINVAL_ARG, "SLUICE_FAILPOINT is set but this build has no "
				  "failpoints (cmake -DSLUICE_FAILPOINTS=ON)");
	return 0;
}
#endif
