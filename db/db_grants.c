/* db_grants.c - what SHOW GRANTS says an account may do: read the lines, match a privilege. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

int db_grants_read(MYSQL *m, const char *who, char ***out, size_t *n, struct sl_err *err)
{
	static const char sql[] = "SHOW GRANTS FOR CURRENT_USER()";
	MYSQL_RES *res;
	MYSQL_ROW row;
	char **v = NULL;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (mysql_query(m, sql) || !(res = mysql_store_result(m)))
		return db_stmt_error(err, m, who, sql, sizeof(sql) - 1);
	while ((row = mysql_fetch_row(res))) {
		unsigned long *len = mysql_fetch_lengths(res);

		v = sl_xrealloc(v, (k + 1) * sizeof(*v));
		v[k++] = row[0] ? sl_xstrndup(row[0], len[0]) : sl_xstrdup("");
	}
	mysql_free_result(res);
	*out = v;
	*n = k;
	return 0;
}

void db_grants_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int db_grants_roles(const char *const *grants, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strncasecmp(grants[i], "GRANT ", 6) && !strstr(grants[i], " ON ") &&
		    strstr(grants[i], " TO "))
			return 1;
	return 0;
}

/* Is the grant's object (text between " ON " and " TO ") *.* or `db`.* ? */
static int on_target(const char *on, size_t len, const char *db)
{
	char want[300];

	if (len == 3 && !memcmp(on, "*.*", 3))
		return 1;
	if (!db)
		return 0;
	snprintf(want, sizeof(want), "`%s`.*", db);
	return strlen(want) == len && !memcmp(on, want, len);
}

/* One privilege name as written (trimmed) against the wanted one. */
static int priv_is(const char *p, size_t n, const char *want)
{
	static const char *const client_aliases[] = { "BINLOG MONITOR", "REPLICA MONITOR",
						       "SLAVE MONITOR", NULL };

	if (n == 14 && !strncasecmp(p, "ALL PRIVILEGES", n))
		return 1;
	if (strlen(want) == n && !strncasecmp(p, want, n))
		return 1;
	if (!strcasecmp(want, "REPLICATION CLIENT") || !strcasecmp(want, "BINLOG MONITOR")) {
		for (int i = 0; client_aliases[i]; i++)
			if (strlen(client_aliases[i]) == n && !strncasecmp(p, client_aliases[i], n))
				return 1;
		if (n == 18 && !strncasecmp(p, "REPLICATION CLIENT", n))
			return 1;
	}
	if (!strcasecmp(want, "REPLICATION SLAVE") && n == 19 && !strncasecmp(p, "REPLICATION REPLICA", n))
		return 1;
	return 0;
}

int db_grants_have(const char *const *grants, size_t n, const char *priv, const char *db)
{
	for (size_t i = 0; i < n; i++) {
		const char *g = grants[i], *on, *to, *p;
		int depth = 0;

		if (strncasecmp(g, "GRANT ", 6) || !(on = strstr(g, " ON ")) || !(to = strstr(on + 4, " TO ")))
			continue;
		if (!on_target(on + 4, (size_t)(to - on - 4), db))
			continue;
		/* privileges: comma-separated, a column list in parentheses
		 * ("SELECT (a, b)") is column-level and gives no table access */
		for (p = g + 6; p < on;) {
			const char *s = p, *e;
			int cols = 0;

			while (p < on && (*p != ',' || depth)) {
				depth += *p == '(';
				depth -= *p == ')';
				cols |= *p == '(';
				p++;
			}
			e = p;
			while (s < e && *s == ' ')
				s++;
			while (e > s && e[-1] == ' ')
				e--;
			if (!cols && priv_is(s, (size_t)(e - s), priv))
				return 1;
			if (p < on)
				p++;
		}
	}
	return 0;
}

const char *db_grant_name(const char *priv, const struct db_server *s)
{
	if (!strcasecmp(priv, "REPLICATION CLIENT") && s->flavor == DB_MARIADB &&
	    (s->major > 10 || (s->major == 10 && s->minor >= 5)))
		return "BINLOG MONITOR";
	return priv;
}
