/* ddl_rules.c - placeholder until the rule table lands: every statement
 * passes unchanged and nothing is split. Replaced by the ddl/ work of issue 11. */
#include "ddl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

void ddl_target_from_version(struct ddl_target *t, const char *version, const char *comment)
{
	memset(t, 0, sizeof(*t));
	if ((version && strstr(version, "OceanBase")) || (comment && strstr(comment, "OceanBase")))
		t->dialect = DDL_OCEANBASE;
	else if (version && strstr(version, "MariaDB"))
		t->dialect = DDL_MARIADB;
	else
		t->dialect = DDL_MYSQL;
}

int ddl_convert(const struct ddl_target *t, const char *object, const char *stmt, size_t len,
		struct sl_buf *out, ddl_note_fn note, void *ctx, struct sl_err *err)
{
	(void)t; (void)object; (void)note; (void)ctx;
	if (sl_buf_add(out, stmt, len))
		return sl_err_set(err, -SL_ETOOBIG, "statement too large");
	return 0;
}

void ddl_list_release(struct ddl_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int ddl_table_split(const char *create, size_t len, const char *table, struct sl_buf *base,
		    struct ddl_list *indexes, struct ddl_list *fks, struct sl_err *err)
{
	(void)table;
	indexes->n = fks->n = 0;
	indexes->v = fks->v = NULL;
	if (sl_buf_add(base, create, len))
		return sl_err_set(err, -SL_ETOOBIG, "statement too large");
	return 0;
}
