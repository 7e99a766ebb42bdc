/* rep_grants.c - before replay writes anything: the destination account holds every privilege it needs. */
#include "rep_int.h"
#include "db.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

/*
 * What replay runs on the destination (README "Privileges"): rows (SELECT,
 * INSERT, UPDATE, DELETE, also on `sluice`.*), its `sluice` schema and the
 * snapshot's tables (CREATE), the stream's DDL and the snapshot's views and
 * deferred indexes (DROP, ALTER, INDEX, CREATE VIEW). Without one the server
 * refuses only when that statement comes, after the snapshot's tables or
 * earlier transactions were applied; so replay checks SHOW GRANTS once at
 * start and refuses before writing anything, naming what is missing.
 * Only an account whose grants are all global (ON *.*) is judged: database-
 * or table-level grants and roles cannot be weighed against a stream whose
 * tables are not known yet, and are left to the server.
 */
static const char *const rep_needs[] = { "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP",
					 "ALTER", "INDEX", "CREATE VIEW", NULL };

/* 1 when a line grants something on less than *.* (USAGE is nothing) */
static int narrower_grants(const char *const *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *on = strstr(g[i], " ON ");

		if (strncasecmp(g[i], "GRANT ", 6) || !on || !strncmp(on + 4, "*.* ", 4))
			continue;
		if (!strncasecmp(g[i] + 6, "USAGE ON ", 9))
			continue;
		return 1;
	}
	return 0;
}

int rep__grants_check(struct rep_worker *w, struct sl_err *err)
{
	struct sl_err e2 = SL_ERR_INIT;
	char **g, missing[160] = "";
	size_t n, len = 0;
	int rc = 0;

	if (db_grants_read(w->db, w->dest, &g, &n, &e2)) {
		sl_log(SL_DEBUG, "replay", "destination %s: grants not checked: %s", w->dest, e2.msg);
		return 0;
	}
	if (db_grants_roles((const char *const *)g, n) || narrower_grants((const char *const *)g, n))
		goto out;
	for (int i = 0; rep_needs[i]; i++)
		if (!db_grants_have((const char *const *)g, n, rep_needs[i], NULL) && len < sizeof(missing))
			len += (size_t)snprintf(missing + len, sizeof(missing) - len, "%s%s", len ? ", " : "",
						rep_needs[i]);
	if (len)
		rc = sl_err_set(err, -SL_ECONFIG,
				"destination %s: the account lacks %s on *.*, which replay needs before it writes "
				"anything (GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, "
				"CREATE VIEW ON *.* TO it)", w->dest, missing);
out:
	db_grants_free(g, n);
	return rc;
}
