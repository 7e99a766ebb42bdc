/* ver_conn.c - verify's two connections (opened through db/) and running a query on one. */
#include "ver_int.h"
#include "fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

int ver__db_error(struct ver_conn *c, const char *what, struct sl_err *err)
{
	return sl_err_set(err, -SL_EDB, "%s: %s (%u) in: %.200s", c->side, mysql_error(c->db),
			  mysql_errno(c->db), what);
}

int ver__conn_open(struct ver_conn *c, const struct sl_dsn *d, const char *side,
		   struct sl_err *err)
{
	struct db_opts o = { 0 };

	c->side = side;
	o.role = strcmp(side, "source") ? DB_ROLE_VERIFY_DEST : DB_ROLE_VERIFY_SOURCE;
	return db_connect(&c->db, d, &o, err);
}

void ver__conn_close(struct ver_conn *c)
{
	if (c && c->db) {
		mysql_close(c->db);
		c->db = NULL;
	}
}

int ver__exec(struct ver_conn *c, const char *sql, size_t len, struct sl_err *err)
{
	int st;

	if (mysql_real_query(c->db, sql, len))
		return ver__db_error(c, sql, err);
	do {
		MYSQL_RES *res = mysql_store_result(c->db);

		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(c->db))
			return ver__db_error(c, sql, err);
	} while ((st = mysql_next_result(c->db)) == 0);
	if (st > 0)
		return ver__db_error(c, sql, err);
	return 0;
}

int ver__query(struct ver_conn *c, const char *sql, MYSQL_RES **res, struct sl_err *err)
{
	if (mysql_real_query(c->db, sql, strlen(sql)) || !(*res = mysql_store_result(c->db)))
		return ver__db_error(c, sql, err);
	return 0;
}
