/* cap_dump_err.c - name why the source ended a binlog dump: purged (stop for good) or a database error (retry may help). */
#include "cap_int.h"
#include "db.h"

#include <mysql.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

/* ER_MASTER_FATAL_ERROR_READING_BINLOG: the dump thread's own refusals. */
#define ER_FATAL_READING_BINLOG 1236

/*
 * 1236 covers many reasons; these mean the event the stream needs next is
 * gone from the source (MariaDB and MySQL texts, stable since 5.x):
 *   "Could not find first log file name in binary log index file"
 *   "Could not find GTID state requested by slave in any binlog files.
 *    Probably the slave state is too old and required binlog files have
 *    been purged."
 *   "... the master has purged binary logs containing GTIDs that the slave
 *    requires."
 *   "Client requested master to start replication from position > file size"
 * Others (a duplicate server id, a read error) stay database errors,
 * transient ones (a lost connection) retried (db_code()).
 */
static int gone(const char *msg)
{
	static const char *const marks[] = {
		"could not find first log file name",
		"purged",
		"position > file size",
		"could not find gtid state",
	};
	size_t n = strlen(msg);

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		size_t k = strlen(marks[i]);

		for (size_t j = 0; j + k <= n; j++)
			if (!strncasecmp(msg + j, marks[i], k))
				return 1;
	}
	return 0;
}

int cap__dump_error(struct st_mysql *m, const char *who, const char *at, struct sl_err *err)
{
	const char *msg = mysql_error(m);

	if (mysql_errno(m) == ER_FATAL_READING_BINLOG && gone(msg))
		return sl_err_set(err, -SL_EPURGED,
				  "source %s: binlog dump refused after %s: the source no longer has the "
				  "stream's next event (%s); nothing was skipped", who, at, msg);
	return sl_err_set(err, db_code(m), "source %s: binlog dump failed after %s: %s", who, at, msg);
}
