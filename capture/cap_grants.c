/* cap_grants.c - before a stream is started or continued: the source account may read the binlog. */
#include "cap_int.h"
#include "db.h"

#include "banned.h"

/*
 * REPLICATION SLAVE is a global privilege, so SHOW GRANTS tells exactly
 * whether the account has it (unless a role may give it: then the server
 * decides at the dump). Without it the dump is refused, but only once
 * streaming starts: a new stream would be created first (DIR with its first
 * segment, a start position nothing can read from). So capture refuses
 * before DIR is touched, naming the privilege. The binlog position's
 * privilege (BINLOG MONITOR / REPLICATION CLIENT) needs no such check: the
 * position is asked for before DIR is opened, and the server's refusal
 * names it. A source that cannot answer SHOW GRANTS (a binlog service) is
 * left to the server.
 */
int cap__grants_check(struct st_mysql *m, const char *who, struct sl_err *err)
{
	struct sl_err e2 = SL_ERR_INIT;
	char **g;
	size_t n;
	int rc = 0;

	if (db_grants_read(m, who, &g, &n, &e2)) {
		sl_log(SL_DEBUG, "capture", "source %s: grants not checked: %s", who, e2.msg);
		return 0;
	}
	if (!db_grants_have((const char *const *)g, n, "REPLICATION SLAVE", NULL) &&
	    !db_grants_roles((const char *const *)g, n))
		rc = sl_err_set(err, -SL_ECONFIG,
				"source %s: the account lacks the REPLICATION SLAVE privilege, which capture needs "
				"to read the binlog as a replica (GRANT REPLICATION SLAVE ON *.* TO it)", who);
	db_grants_free(g, n);
	return rc;
}
