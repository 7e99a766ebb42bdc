/* db_binlogs.c - is a stream's position still in the source's binary logs (purged, or the source behind it)? */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

/* Binlog files compare by name length, then name: same base, zero-padded
 * index (mysql-bin.000009 < mysql-bin.000010 < mysql-bin.1000000). */
static int name_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

/* The part before the last '.': "mysql-bin" of "mysql-bin.000042". */
static size_t base_len(const char *f)
{
	const char *dot = strrchr(f, '.');

	return dot ? (size_t)(dot - f) : strlen(f);
}

static int same_base(const char *a, const char *b)
{
	size_t n = base_len(a);

	return n == base_len(b) && !memcmp(a, b, n);
}

int db_binlog_has(MYSQL *m, const char *who, const char *file, uint64_t pos, struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *oldest = NULL, *newest = NULL;
	uint64_t size = 0;
	int found = 0, rc = 0;

	if (!file || !file[0])
		return 0;
	if (mysql_query(m, "SHOW BINARY LOGS") || !(res = mysql_store_result(m))) {
		/* a server that does not list its binlogs (a binlog service, a
		 * missing grant) leaves the answer to the dump; a lost
		 * connection (client errors, 2000 and up) is an error */
		if (mysql_errno(m) && mysql_errno(m) < 2000)
			return 0;
		return db_stmt_error(err, m, who, "SHOW BINARY LOGS", 16);
	}
	while ((row = mysql_fetch_row(res))) {
		if (!row[0])
			continue;
		if (!oldest)
			oldest = sl_xstrdup(row[0]);
		free(newest);
		newest = sl_xstrdup(row[0]);
		if (!strcmp(row[0], file)) {
			found = 1;
			size = row[1] ? strtoull(row[1], NULL, 10) : 0;
		}
	}
	mysql_free_result(res);
	if (found && pos > size)
		rc = sl_err_set(err, -SL_EPURGED,
				"%s: the stream is at %s:%llu but binlog '%s' ends at %llu: the source lost "
				"binlog data it had sent (crash without sync_binlog=1, restore?); nothing was skipped",
				who, file, (unsigned long long)pos, file, (unsigned long long)size);
	else if (found)
		rc = 0;
	else if (!oldest)
		rc = sl_err_set(err, -SL_EPURGED,
				"%s: the stream is at %s:%llu but the source lists no binary logs; nothing was skipped",
				who, file, (unsigned long long)pos);
	else if (same_base(file, oldest) && name_cmp(file, oldest) < 0)
		rc = sl_err_set(err, -SL_EPURGED,
				"%s: binlog '%s' was purged: the stream is at %s:%llu and the oldest binlog left is "
				"'%s'; nothing was skipped (restore the purged binlogs, or start a new stream "
				"with a snapshot)",
				who, file, file, (unsigned long long)pos, oldest);
	else if (same_base(file, newest) && name_cmp(file, newest) > 0)
		rc = sl_err_set(err, -SL_EPURGED,
				"%s: the stream is at %s:%llu, past the source's newest binlog '%s': the source "
				"lost binlogs it had sent (RESET MASTER, restore?); nothing was skipped",
				who, file, (unsigned long long)pos, newest);
	else
		rc = sl_err_set(err, -SL_EPURGED,
				"%s: the stream is at %s:%llu but the source has no binlog '%s' (it has '%s' to "
				"'%s'); nothing was skipped",
				who, file, (unsigned long long)pos, file, oldest, newest);
	free(oldest);
	free(newest);
	return rc;
}
