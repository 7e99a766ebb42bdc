/* db_triggers.c - the triggers on a table: replay refuses a destination table with one, precheck reports it. */
#include "db.h"
#include "fmt.h"

#include <stdio.h>
#include <string.h>
#include "banned.h"

int db_table_trigger(MYSQL *m, const char *schema, const char *table, char *name, size_t n,
		     struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(16384);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc = 0;

	if (n)
		name[0] = 0;
	if (sl_buf_adds(&q, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
			"WHERE EVENT_OBJECT_SCHEMA=") || fmt_sql_str(&q, schema) ||
	    sl_buf_adds(&q, " AND EVENT_OBJECT_TABLE=") || fmt_sql_str(&q, table) ||
	    sl_buf_adds(&q, " ORDER BY ACTION_TIMING, EVENT_MANIPULATION, "
			"ACTION_ORDER LIMIT 1")) {
		rc = sl_err_set(err, -SL_ETOOBIG, "table name of %zu bytes", strlen(schema) + strlen(table));
		goto out;
	}
	if (mysql_real_query(m, (const char *)q.data, q.len) || !(res = mysql_store_result(m))) {
		rc = sl_err_set(err, db_code(m), "cannot list the destination's triggers on `%s`.`%s`: %s (%u)",
				schema, table, mysql_error(m), mysql_errno(m));
		goto out;
	}
	if ((row = mysql_fetch_row(res)) && row[0]) {
		snprintf(name, n, "%s", row[0]);
		rc = 1;
	}
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	return rc;
}
