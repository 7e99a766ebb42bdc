/* db_snapshot.c - a consistent snapshot on n connections and its binlog position; Threads_running; the source's identity. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

#define DB_SNAPSHOT_TRIES 5	/* lock-free attempts on MariaDB before the global lock */

/* A one-row answer: column col of the first row, malloc'd (NULL: no row). */
static int one_value(MYSQL *m, const char *who, const char *sql, unsigned col, char **out,
		     struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	*out = NULL;
	if (mysql_query(m, sql) || !(res = mysql_store_result(m)))
		return db_stmt_error(err, m, who, sql, strlen(sql));
	if ((row = mysql_fetch_row(res)) && mysql_num_fields(res) > col && row[col])
		*out = sl_xstrndup(row[col], mysql_fetch_lengths(res)[col]);
	mysql_free_result(res);
	return 0;
}

/* MariaDB: binlog_snapshot_file/_position of the transaction open on m. */
static int maria_snapshot_pos(MYSQL *m, const char *who, char **file, uint64_t *pos,
			      struct sl_err *err)
{
	static const char sql[] = "SHOW STATUS LIKE 'binlog_snapshot_%'";
	MYSQL_RES *res;
	MYSQL_ROW row;

	*file = NULL;
	*pos = 0;
	if (mysql_query(m, sql) || !(res = mysql_store_result(m)))
		return db_stmt_error(err, m, who, sql, strlen(sql));
	while ((row = mysql_fetch_row(res))) {
		if (!row[0] || !row[1])
			continue;
		if (!strcmp(row[0], "Binlog_snapshot_file")) {
			free(*file);
			*file = sl_xstrdup(row[1]);
		} else if (!strcmp(row[0], "Binlog_snapshot_position")) {
			*pos = strtoull(row[1], NULL, 10);
		}
	}
	mysql_free_result(res);
	if (!*file || !**file) {
		free(*file);
		*file = NULL;
		return sl_err_set(err, -SL_ECONFIG, "%s: no binlog_snapshot_file (is the binary log on?)",
				  who);
	}
	return 0;
}

static int start_all(MYSQL **m, size_t n, const char *who, struct sl_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int rc = db_exec(m[i], who, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", err);

		if (rc)
			return rc;
	}
	return 0;
}

static void rollback_all(MYSQL **m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mysql_query(m[i], "ROLLBACK");
}

static int gtid_of(MYSQL *m, const char *who, const struct db_server *s, const char *file,
		   uint64_t pos, char **gtid, struct sl_err *err)
{
	char sql[600];
	int rc;

	*gtid = NULL;
	if (s->flavor != DB_MARIADB || strchr(file, '\''))
		goto none;
	snprintf(sql, sizeof(sql), "SELECT BINLOG_GTID_POS('%s', %llu)", file, (unsigned long long)pos);
	if ((rc = one_value(m, who, sql, 0, gtid, err)))
		return rc;
none:
	if (!*gtid)
		*gtid = sl_xstrdup("");
	return 0;
}

int db_snapshot_open(MYSQL *ctl, MYSQL **m, size_t n, const char *who, const struct db_server *s,
		     char **file, uint64_t *pos, char **gtid, int *locked, struct sl_err *err)
{
	int rc;

	*file = NULL;
	*gtid = NULL;
	*locked = 0;
	/* SLUICE_SNAPSHOT_LOCK=1 (tests): MariaDB takes the MySQL path */
	if (s->flavor == DB_MARIADB && !getenv("SLUICE_SNAPSHOT_LOCK")) {
		for (int attempt = 0; attempt < DB_SNAPSHOT_TRIES; attempt++) {
			int same = 1;

			if ((rc = start_all(m, n, who, err)) ||
			    (rc = maria_snapshot_pos(m[0], who, file, pos, err)))
				goto fail;
			for (size_t i = 1; i < n && same; i++) {
				char *f = NULL;
				uint64_t p = 0;

				if ((rc = maria_snapshot_pos(m[i], who, &f, &p, err)))
					goto fail;
				same = !strcmp(f, *file) && p == *pos;
				free(f);
			}
			if (same)
				return gtid_of(m[0], who, s, *file, *pos, gtid, err);
			rollback_all(m, n);
			free(*file);
			*file = NULL;
		}
		sl_log(SL_INFO, "snapshot", "%s: the source is busy: %zu connections did not see one "
		       "position in %d attempts; taking FLUSH TABLES WITH READ LOCK while they open",
		       who, n, DB_SNAPSHOT_TRIES);
	}
	if ((rc = db_exec(ctl, who, "FLUSH TABLES WITH READ LOCK", err)))
		goto fail;
	*locked = 1;
	if ((rc = start_all(m, n, who, err)))
		goto unlock;
	if (s->flavor == DB_MARIADB) {
		rc = maria_snapshot_pos(m[0], who, file, pos, err);
	} else {
		rc = db_binlog_status(ctl, who, s, file, pos, err);
		/* MySQL: the GTID set at P1, read while writes still wait */
		if (!rc && (rc = one_value(ctl, who, "SELECT @@GLOBAL.gtid_executed", 0, gtid, err)))
			sl_log(SL_DEBUG, "snapshot", "%s: no gtid_executed: %s", who, err->msg);
		rc = rc == -SL_EDB ? 0 : rc;
	}
unlock:
	{
		struct sl_err e2 = SL_ERR_INIT;
		int urc = db_exec(ctl, who, "UNLOCK TABLES", rc ? &e2 : err);

		if (!rc)
			rc = urc;
	}
	if (rc)
		goto fail;
	if (*gtid)
		return 0;
	return gtid_of(m[0], who, s, *file, *pos, gtid, err);
fail:
	rollback_all(m, n);
	free(*file);
	*file = NULL;
	return rc;
}

int db_threads_running(MYSQL *m, const char *who, uint64_t *out, struct sl_err *err)
{
	char *v = NULL;
	int rc = one_value(m, who, "SHOW GLOBAL STATUS LIKE 'Threads_running'", 1, &v, err);

	*out = v ? strtoull(v, NULL, 10) : 0;
	free(v);
	return rc;
}

int db_source_identity(MYSQL *m, const char *who, const struct db_server *s, char *out,
		       size_t n, struct sl_err *err)
{
	static const char *const names[] = { "server_id", "hostname", "port" };
	char *v[3] = { 0 };
	int rc = 0;

	for (int i = 0; i < 3 && rc == 0; i++)
		rc = db_variable(m, who, names[i], &v[i], err);
	if (rc == 0)
		snprintf(out, n, "%s:server_id=%s:host=%s:port=%s",
			 s->flavor == DB_OCEANBASE ? "oceanbase" : db_binlog_flavor(s),
			 v[0] ? v[0] : "?", v[1] ? v[1] : "?", v[2] ? v[2] : "?");
	for (int i = 0; i < 3; i++)
		free(v[i]);
	return rc;
}
