/* db_server.c - which server: flavor and version, and the binary-log status statement it knows. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

const char *db_flavor_name(enum db_flavor f)
{
	switch (f) {
	case DB_MARIADB: return "mariadb";
	case DB_OCEANBASE: return "oceanbase";
	case DB_MYSQL: break;
	}
	return "mysql";
}

const char *db_binlog_flavor(const struct db_server *s)
{
	return s->flavor == DB_MARIADB ? "mariadb" : "mysql";
}

/* Digits at *p into *v; moves p past them. 0 when there were none. */
static int number(const char **p, unsigned *v)
{
	unsigned long n = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9' && n < 100000)
		n = n * 10 + (unsigned long)(*s++ - '0');
	*v = (unsigned)n;
	*p = s;
	return 1;
}

void db_server_parse(struct db_server *s, const char *version, const char *comment)
{
	const char *p = version ? version : "";

	memset(s, 0, sizeof(*s));
	snprintf(s->version, sizeof(s->version), "%s", p);
	snprintf(s->comment, sizeof(s->comment), "%s", comment ? comment : "");
	if (strstr(p, "OceanBase") || (comment && strstr(comment, "OceanBase")))
		s->flavor = DB_OCEANBASE;
	else if (strstr(p, "MariaDB"))
		s->flavor = DB_MARIADB;
	else
		s->flavor = DB_MYSQL;
	/* MariaDB before 11 announces itself to old replicas as 5.5.5-10.x */
	if (s->flavor == DB_MARIADB && !strncmp(p, "5.5.5-", 6))
		p += 6;
	if (!number(&p, &s->major))
		return;
	if (*p == '.' && (p++, number(&p, &s->minor)) && *p == '.') {
		p++;
		number(&p, &s->patch);
	}
}

const char *db_binlog_status_sql(const struct db_server *s)
{
	/* MySQL 8.2 added SHOW BINARY LOG STATUS and 8.4 removed SHOW MASTER
	 * STATUS; MariaDB and the OceanBase binlog service (which answers as
	 * MySQL 5.7) know the old name. */
	if (s->flavor == DB_MYSQL && (s->major > 8 || (s->major == 8 && s->minor >= 2)))
		return "SHOW BINARY LOG STATUS";
	return "SHOW MASTER STATUS";
}

int db_server_detect(MYSQL *m, const char *who, struct db_server *s, struct sl_err *err)
{
	char *version = NULL, *comment = NULL;
	int rc;

	if ((rc = db_variable(m, who, "version", &version, err)) ||
	    (rc = db_variable(m, who, "version_comment", &comment, err)))
		goto out;
	db_server_parse(s, version ? version : mysql_get_server_info(m), comment);
out:
	free(version);
	free(comment);
	return rc;
}

int db_binlog_status(MYSQL *m, const char *who, const struct db_server *s, char **file,
		     uint64_t *pos, struct sl_err *err)
{
	const char *sql = db_binlog_status_sql(s);
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = 0;

	*file = NULL;
	*pos = 0;
	if (mysql_query(m, sql) || !(res = mysql_store_result(m)))
		return db_stmt_error(err, m, who, sql, strlen(sql));
	row = mysql_fetch_row(res);
	if (!row || mysql_num_fields(res) < 2 || !row[0])
		rc = sl_err_set(err, -SL_ECONFIG, "%s: %s is empty (binary log off?)", who, sql);
	else {
		*file = sl_xstrdup(row[0]);
		*pos = row[1] ? strtoull(row[1], NULL, 10) : 4;
	}
	mysql_free_result(res);
	return rc;
}
