/* ddl_target.c - the destination's dialect and version, from --dest-dialect or from the text of version() and @@version_comment. */
#include "ddl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

const char *ddl_dialect_name(enum ddl_dialect d)
{
	return d == DDL_MYSQL ? "mysql" : d == DDL_OCEANBASE ? "oceanbase" : "mariadb";
}

int ddl_dialect_parse(const char *name, enum ddl_dialect *d, struct sl_err *err)
{
	if (!strcasecmp(name, "mariadb"))
		*d = DDL_MARIADB;
	else if (!strcasecmp(name, "mysql"))
		*d = DDL_MYSQL;
	else if (!strcasecmp(name, "oceanbase"))
		*d = DDL_OCEANBASE;
	else
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "unknown dialect '%s' (mariadb, mysql or oceanbase)", name);
	return 0;
}

/* "X.Y.Z" at p into t (missing parts 0); 1 when it had at least X.Y. */
static int parse_triple(struct ddl_target *t, const char *p)
{
	unsigned v[3] = { 0, 0, 0 };
	int k = 0;

	if (!p || !isdigit((unsigned char)*p))
		return 0;
	while (k < 3 && isdigit((unsigned char)*p)) {
		char *e;
		unsigned long n = strtoul(p, &e, 10);

		v[k++] = n > 9999 ? 9999 : (unsigned)n;
		p = e;
		if (*p != '.' || !isdigit((unsigned char)p[1]))
			break;
		p++;
	}
	if (k < 2)
		return 0;
	t->major = v[0];
	t->minor = v[1];
	t->patch = v[2];
	return 1;
}

static const char *find_ci(const char *h, const char *n)
{
	size_t l = strlen(n);

	for (; h && *h; h++)
		if (!strncasecmp(h, n, l))
			return h;
	return NULL;
}

/* OceanBase's own version: "...-OceanBase-v4.2.1.2", "...OceanBase_CE-v4.3.0",
 * or "OceanBase 4.2.1.2 (r...)" / "OceanBase_CE 4.2.1" in the comment. */
static int oceanbase_version(struct ddl_target *t, const char *s)
{
	const char *p = find_ci(s, "OceanBase");

	if (!p)
		return 0;
	p += 9;
	while (*p && !isdigit((unsigned char)*p) && *p != ' ' && *p != '(')
		p++;
	while (*p == ' ')
		p++;
	return parse_triple(t, p);
}

int ddl_target_override(struct ddl_target *t, const char *name, struct sl_err *err)
{
	enum ddl_dialect d = DDL_MARIADB; /* set by ddl_dialect_parse() when it returns 0 */
	int rc;

	if (!name || !name[0])
		return 0;
	if ((rc = ddl_dialect_parse(name, &d, err)))
		return rc;
	if (d != t->dialect) {
		memset(t, 0, sizeof(*t));
		t->dialect = d;
	}
	return 0;
}

void ddl_target_from_version(struct ddl_target *t, const char *version, const char *comment)
{
	memset(t, 0, sizeof(*t));
	if (find_ci(version, "OceanBase") || find_ci(comment, "OceanBase")) {
		t->dialect = DDL_OCEANBASE;
		if (!oceanbase_version(t, version) && !oceanbase_version(t, comment))
			parse_triple(t, version);	/* the MySQL version it speaks */
		return;
	}
	if (find_ci(version, "MariaDB")) {
		const char *p = version;

		t->dialect = DDL_MARIADB;
		if (!strncmp(p, "5.5.5-", 6) && isdigit((unsigned char)p[6]))
			p += 6;	/* the replication prefix older clients needed */
		parse_triple(t, p);
		return;
	}
	t->dialect = DDL_MYSQL;
	parse_triple(t, version);
}
