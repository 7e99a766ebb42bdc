/* mig_binlogs.c - is the stream in DIR still on its source's binary logs? precheck's row and the task's stop rule. */
#include "db.h"
#include "mig_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "banned.h"

int mig__stream_on_source(MYSQL *m, const char *who, const char *dir, struct sl_err *err)
{
	struct seg_status st;
	struct sl_err e = SL_ERR_INIT;
	int rc;

	/* a DIR without a stream (new, missing, unreadable) has no position to lose */
	if (seg_status(dir, &st, &e))
		return 0;
	rc = st.head && st.head->file ? db_binlog_has(m, who, st.head->file, st.head->offset, err) : 0;
	seg_status_release(&st);
	return rc;
}

int mig__stream_lost(const struct sl_dsn *dsn, const char *dir, struct sl_err *err)
{
	struct db_opts dbo = { .role = DB_ROLE_SOURCE_STREAM };
	struct sl_err e = SL_ERR_INIT;
	char who[600], subject[640];
	MYSQL *m = NULL;
	int rc;

	if (!dir || !dir[0])
		return 0;
	sl_dsn_redacted(dsn, who, sizeof(who));
	snprintf(subject, sizeof(subject), "source %s", who);
	/* a source that cannot be reached now may come back: not lost */
	if (db_connect(&m, dsn, &dbo, &e))
		return 0;
	rc = mig__stream_on_source(m, subject, dir, &e);
	mysql_close(m);
	if (rc == -SL_EPURGED)
		return sl_err_set(err, rc, "%s", e.msg);
	return 0;
}

int mig__stream_retention(MYSQL *m, const char *who, const char *dir, struct mig_report *r,
			  struct sl_err *err)
{
	struct seg_status st;
	struct sl_err e = SL_ERR_INIT;
	int rc;

	if (seg_status(dir, &st, &e))
		return 0;
	if (!st.head || !st.head->file || !st.head->file[0]) {
		seg_status_release(&st);
		return 0;
	}
	rc = db_binlog_has(m, who, st.head->file, st.head->offset, &e);
	if (rc == -SL_EPURGED)
		mig_report_add(r, "source", "binlog retention", MIG_FAIL,
			       "restore the missing binlogs on the source, or start over in a new DIR (a new snapshot)",
			       "'%s': %s", dir, e.msg);
	else if (rc == 0)
		mig_report_add(r, "source", "binlog retention", MIG_PASS, NULL,
			       "the stream in '%s' is at %s:%llu, still in the source's binlogs", dir,
			       st.head->file, (unsigned long long)st.head->offset);
	else
		sl_err_set(err, rc, "%s", e.msg);
	seg_status_release(&st);
	return rc == -SL_EPURGED ? 0 : rc;
}
