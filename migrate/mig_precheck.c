/* mig_precheck.c - ask the source, the destination and DIR's file system what a migration needs; mig_rules.c decides. */
#include "mig.h"
#include "mig_int.h"
#include "db.h"
#include "ddl.h"
#include "fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include "banned.h"

/* A table (or view) the migration takes. */
struct tbl {
	char *db, *name;
	int view, keyed, on_dest;
	uint64_t bytes;
};

struct side {
	struct sl_dsn dsn;
	MYSQL *m;
	char who[600];
	struct db_server srv;
};

static void side_close(struct side *s)
{
	if (s->m)
		mysql_close(s->m);
	sl_dsn_release(&s->dsn);
}

static int side_open(struct side *s, const char *role_name, const char *url, const char *env,
		     enum db_role role, struct sl_err *err)
{
	struct db_opts o = { .role = role };
	char red[512];
	int rc;

	if ((rc = sl_dsn_parse(&s->dsn, url, env, err)))
		return sl_err_prefix(err, "%s URL", role_name);
	snprintf(s->who, sizeof(s->who), "%s %s", role_name, sl_dsn_redacted(&s->dsn, red, sizeof(red)));
	if ((rc = db_connect(&s->m, &s->dsn, &o, err)))
		return rc;
	/* definitions are read the way snapshot reads them (db.h DB_READ_SQL_MODE) */
	if ((rc = db_exec(s->m, s->who, "SET SESSION sql_mode = '" DB_READ_SQL_MODE "'", err)))
		return rc;
	return db_server_detect(s->m, s->who, &s->srv, err);
}

/* Every row of sql: fn(ctx, row, lengths). */
static int each_row(struct side *s, const char *sql, int (*fn)(void *, MYSQL_ROW, unsigned long *),
		    void *ctx, struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = 0;

	if (mysql_query(s->m, sql) || !(res = mysql_store_result(s->m)))
		return db_stmt_error(err, s->m, s->who, sql, strlen(sql));
	while (!rc && (row = mysql_fetch_row(res)))
		rc = fn(ctx, row, mysql_fetch_lengths(res));
	mysql_free_result(res);
	return rc;
}

struct strs {
	char **v;
	size_t n;
};

static int add_str(void *ctx, MYSQL_ROW row, unsigned long *len)
{
	struct strs *l = ctx;

	l->v = sl_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = row[0] ? sl_xstrndup(row[0], len[0]) : sl_xstrdup("");
	return 0;
}

static void strs_release(struct strs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct tbls {
	struct tbl *v;
	size_t n;
	const struct mig_precheck_opts *o;
};

static int add_tbl(void *ctx, MYSQL_ROW row, unsigned long *len)
{
	struct tbls *l = ctx;
	struct tbl *t;

	(void)len;
	if (!sl_table_selected(l->o->include, l->o->exclude, row[0], row[1]))
		return 0;
	l->v = sl_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	t = &l->v[l->n++];
	memset(t, 0, sizeof(*t));
	t->db = sl_xstrdup(row[0]);
	t->name = sl_xstrdup(row[1]);
	t->view = !strcmp(row[2], "VIEW");
	t->bytes = row[3] ? strtoull(row[3], NULL, 10) : 0;
	t->keyed = row[4] && strcmp(row[4], "0");
	return 0;
}

static void tbls_release(struct tbls *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].db);
		free(l->v[i].name);
	}
	free(l->v);
}

/* The server checks table (db/db_checks.c): binlog on, ROW, FULL image and
 * metadata, server_id. */
static int source_variables(struct side *s, struct mig_report *r, struct sl_err *err)
{
	struct db_check_result res[16];
	char *days = NULL, *secs = NULL;
	int rc;

	if (db_source_nchecks > sizeof(res) / sizeof(res[0]))
		sl_bug("more source checks than room for their results");
	if ((rc = db_checks_run(s->m, s->who, db_source_checks, db_source_nchecks, res, err)))
		return rc;
	for (size_t i = 0; i < db_source_nchecks; i++) {
		const struct db_check *c = res[i].check;
		enum mig_outcome o = res[i].outcome == DB_PASS ? MIG_PASS :
				     res[i].outcome == DB_WARNED ? MIG_WARN : MIG_FAIL;
		const char *v = res[i].value[0] ? res[i].value : "not available";

		if (o == MIG_PASS)
			mig_report_add(r, "source", c->name, o, NULL, "%s", v);
		else
			mig_report_add(r, "source", c->name, o, c->fix, "%s is %s, %s be %s%s", c->variable,
				       v, o == MIG_FAIL ? "must" : "should",
				       c->expected[0] == '!' ? "other than " : "",
				       c->expected + (c->expected[0] == '!'));
	}
	if ((rc = db_variable(s->m, s->who, "expire_logs_days", &days, err)) ||
	    (rc = db_variable(s->m, s->who, "binlog_expire_logs_seconds", &secs, err)))
		goto out;
	mig_retention_decide(r, days, secs);
out:
	free(days);
	free(secs);
	return rc;
}

static int grants(struct side *s, struct strs *g, struct sl_err *err)
{
	return each_row(s, "SHOW GRANTS FOR CURRENT_USER()", add_str, g, err);
}

struct notes {
	struct mig_report *r;
	size_t n;
};

static void on_note(void *ctx, const char *rule, const char *object, const char *what)
{
	struct notes *nt = ctx;

	nt->n++;
	mig_report_add(nt->r, "source", "conversion", MIG_WARN,
		       "none needed if the change is acceptable; otherwise alter the object on the source",
		       "%s: rule %s: %s", object, rule, what);
}

/* One definition (SHOW CREATE DATABASE/TABLE/VIEW) through the destination
 * dialect's rules: conversions become warnings (on_note), a refusal a
 * failure. name NULL: the database itself. */
static int convert_one(struct side *s, const struct ddl_target *t, const char *db, const char *name,
		       int view, struct notes *nt, size_t *refused, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED), out = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct sl_err e = SL_ERR_INIT;
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *object = fmt_schema_object_label(!name ? SLUICE__SCHEMA_OBJECT__KIND__DATABASE
					       : view ? SLUICE__SCHEMA_OBJECT__KIND__VIEW
					       : SLUICE__SCHEMA_OBJECT__KIND__TABLE, db, name, NULL);
	int rc = 0;

	sl_buf_adds(&q, !name ? "SHOW CREATE DATABASE " : view ? "SHOW CREATE VIEW " : "SHOW CREATE TABLE ");
	fmt_sql_ident(&q, db);
	if (name) {
		sl_buf_adds(&q, ".");
		fmt_sql_ident(&q, name);
	}
	if (mysql_real_query(s->m, (const char *)q.data, q.len) || !(res = mysql_store_result(s->m))) {
		rc = db_stmt_error(err, s->m, s->who, (const char *)q.data, q.len);
		goto out;
	}
	row = mysql_fetch_row(res);
	if (row && row[1] && ddl_convert(t, object, row[1], mysql_fetch_lengths(res)[1], &out, on_note,
					 nt, &e)) {
		(*refused)++;
		mig_report_add(nt->r, "source", "definitions", MIG_FAIL,
			       "alter the object on the source, or leave it out with --exclude", "%s", e.msg);
	}
	mysql_free_result(res);
out:
	sl_buf_release(&q);
	sl_buf_release(&out);
	free(object);
	return rc;
}

/* Every database, table and view through the destination dialect's rules
 * (ddl/ddl.h): l is sorted by database, each database before its tables. */
static int conversions(struct side *s, const struct ddl_target *t, const struct tbls *l,
		       struct mig_report *r, struct sl_err *err)
{
	struct notes nt = { .r = r };
	size_t refused = 0;
	int rc = 0;

	for (size_t i = 0; i < l->n && !rc; i++) {
		const struct tbl *tb = &l->v[i];

		if (i == 0 || strcmp(l->v[i - 1].db, tb->db))
			rc = convert_one(s, t, tb->db, NULL, 0, &nt, &refused, err);
		if (!rc)
			rc = convert_one(s, t, tb->db, tb->name, tb->view, &nt, &refused, err);
	}
	if (!rc && !refused)
		mig_report_add(r, "source", "definitions", MIG_PASS, NULL,
			       "%zu tables and views convert for %s (%zu conversions)", l->n,
			       ddl_dialect_name(t->dialect), nt.n);
	return rc;
}

static void keyless(const struct tbls *l, struct mig_report *r)
{
	char names[400] = "";
	size_t n = 0, len = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].view || l->v[i].keyed)
			continue;
		if (len < sizeof(names))
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s`%s`.`%s`", n ? ", " : "",
						l->v[i].db, l->v[i].name);
		n++;
	}
	if (!n)
		mig_report_add(r, "source", "keys", MIG_PASS, NULL,
			       "every table has a primary or unique key");
	else
		mig_report_add(r, "source", "keys", MIG_WARN,
			       "add a primary key to each (an invisible AUTO_INCREMENT column will do)",
			       "%zu table%s without a primary or unique key: read whole (a resumed snapshot "
			       "reads them again from the start) and slower to replay: %s", n,
			       n == 1 ? "" : "s", names);
}

struct dest_tables {
	struct tbls *l;
	size_t found;
};

static int mark_on_dest(void *ctx, MYSQL_ROW row, unsigned long *len)
{
	struct dest_tables *d = ctx;

	(void)len;
	for (size_t i = 0; i < d->l->n; i++)
		if (!strcmp(d->l->v[i].db, row[0]) && !strcmp(d->l->v[i].name, row[1])) {
			d->l->v[i].on_dest = 1;
			d->found++;
		}
	return 0;
}

static int destination(struct side *s, struct tbls *l, int resuming, struct mig_report *r,
		       struct sl_err *err)
{
	struct strs g = { 0 };
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct dest_tables d = { .l = l };
	char *infile = NULL, names[400] = "", trg[256];
	size_t len = 0, shown = 0, triggers = 0;
	int rc;

	if ((rc = grants(s, &g, err)))
		goto out;
	mig_dest_grants_decide(r, (const char *const *)g.v, g.n);
	if ((rc = db_variable(s->m, s->who, "local_infile", &infile, err)))
		goto out;
	mig_local_infile_decide(r, infile);
	sl_buf_adds(&q, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
			"WHERE TABLE_SCHEMA IN (''");
	for (size_t i = 0; i < l->n; i++) {
		sl_buf_adds(&q, ",");
		fmt_sql_str(&q, l->v[i].db);
	}
	sl_buf_adds(&q, ")");
	if ((rc = each_row(s, sl_buf_cstr(&q), mark_on_dest, &d, err)))
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		if (!l->v[i].on_dest)
			continue;
		if (len < sizeof(names) && shown < 8) {
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s`%s`.`%s`", shown ? ", " : "",
						l->v[i].db, l->v[i].name);
			shown++;
		}
		if (l->v[i].view)
			continue;
		if ((rc = db_table_trigger(s->m, l->v[i].db, l->v[i].name, trg, sizeof(trg), err)) < 0)
			goto out;
		if (rc == 1) {
			triggers++;
			mig_report_add(r, "destination", "triggers", MIG_FAIL,
				       "drop it until switchover: the source's trigger rows are in the stream "
				       "already (switchover creates the triggers)",
				       "table `%s`.`%s` has trigger `%s`: it would fire again on every "
				       "replayed row", l->v[i].db, l->v[i].name, trg);
		}
		rc = 0;
	}
	if (!triggers)
		mig_report_add(r, "destination", "triggers", MIG_PASS, NULL,
			       "no trigger on a table the migration writes");
	if (!d.found)
		mig_report_add(r, "destination", "tables", MIG_PASS, NULL,
			       "none of the %zu tables and views exists yet", l->n);
	else if (resuming)
		mig_report_add(r, "destination", "tables", MIG_PASS, NULL,
			       "%zu tables and views from the earlier run of this migration (it continues)",
			       d.found);
	else
		mig_report_add(r, "destination", "tables", MIG_FAIL,
			       "drop them, or migrate into an empty destination (--exclude leaves tables out)",
			       "%zu tables and views already exist and would be in the way: %s%s", d.found,
			       names, d.found > shown ? ", ..." : "");
out:
	free(infile);
	strs_release(&g);
	sl_buf_release(&q);
	return rc;
}

/* Free bytes on the file system DIR is (or will be) on: the nearest
 * existing directory at or above it. */
static int disk_free(const char *dir, uint64_t *avail, struct sl_err *err)
{
	char path[PATH_MAX];
	struct statvfs sv;

	snprintf(path, sizeof(path), "%s", dir);
	for (;;) {
		char *slash;

		if (!statvfs(path, &sv)) {
			*avail = (uint64_t)sv.f_bavail * sv.f_frsize;
			return 0;
		}
		if (errno != ENOENT)
			break;
		slash = strrchr(path, '/');
		if (!slash) {
			snprintf(path, sizeof(path), ".");
			continue;
		}
		if (slash == path) {
			path[1] = 0;
			continue;
		}
		*slash = 0;
	}
	{
		int e = errno;

		return sl_err_set(err, -e, "cannot look at the file system of '%s': %s", dir, strerror(e));
	}
}

int mig_precheck(const struct mig_precheck_opts *o, struct mig_report *r, struct sl_err *err)
{
	static const char tables_sql[] =
		"SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.TABLE_TYPE, "
		"COALESCE(t.DATA_LENGTH,0)+COALESCE(t.INDEX_LENGTH,0), "
		"(SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS c "
		"WHERE c.TABLE_SCHEMA=t.TABLE_SCHEMA AND c.TABLE_NAME=t.TABLE_NAME "
		"AND c.CONSTRAINT_TYPE IN ('PRIMARY KEY','UNIQUE')) "
		"FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA NOT IN "
		"('mysql','sys','performance_schema','information_schema','sluice') "
		"AND t.TABLE_TYPE IN ('BASE TABLE','VIEW') ORDER BY 1, 2";
	struct side src = { 0 }, dst = { 0 };
	struct strs g = { 0 };
	struct tbls l = { .o = o };
	struct ddl_target target;
	int rc, have_target = 0, src_readable = 1;
	uint64_t need = 0;

	if ((rc = side_open(&src, "source", o->source_url, "SLUICE_SOURCE_PASSWORD",
			    DB_ROLE_SOURCE_STREAM, err)))
		goto out;
	mig_report_add(r, "source", "server", MIG_PASS, NULL, "%s %s", db_flavor_name(src.srv.flavor),
		       src.srv.version);
	if ((rc = source_variables(&src, r, err)) ||
	    (o->dir && (rc = mig__stream_retention(src.m, src.who, o->dir, r, err))) ||
	    (rc = grants(&src, &g, err)))
		goto out;
	if ((rc = each_row(&src, tables_sql, add_tbl, &l, err)))
		goto out;
	{
		size_t views = 0;

		for (size_t i = 0; i < l.n; i++)
			views += l.v[i].view != 0;
		mig_source_grants_decide(r, (const char *const *)g.v, g.n, src.srv.flavor == DB_MYSQL,
					 !strcmp(db_grant_name("REPLICATION CLIENT", &src.srv), "BINLOG MONITOR"),
					 views);
		src_readable = db_grants_roles((const char *const *)g.v, g.n) ||
			       (mig_grants_have((const char *const *)g.v, g.n, "SELECT", NULL) &&
				(!views || mig_grants_have((const char *const *)g.v, g.n, "SHOW VIEW", NULL)));
	}
	for (size_t i = 0; i < l.n; i++)
		need += l.v[i].bytes;
	keyless(&l, r);

	if (o->dest_url) {
		if ((rc = side_open(&dst, "destination", o->dest_url, "SLUICE_DEST_PASSWORD",
				    DB_ROLE_VERIFY_DEST, err)))
			goto out;
		mig_report_add(r, "destination", "server", MIG_PASS, NULL, "%s %s",
			       db_flavor_name(dst.srv.flavor), dst.srv.version);
		ddl_target_from_version(&target, dst.srv.version, dst.srv.comment);
		have_target = 1;
	}
	if (o->dest_dialect && o->dest_dialect[0]) {
		/* the rule replay converts by: the version only when the server is of that dialect */
		if (!have_target)
			memset(&target, 0, sizeof(target));
		if ((rc = ddl_target_override(&target, o->dest_dialect, err)))
			goto out;
		have_target = 1;
	}
	if (have_target && !src_readable) {
		/* SHOW CREATE would be refused: the missing grant is a FAIL above */
		mig_report_add(r, "source", "definitions", MIG_WARN, "grant what the privileges line says",
			       "not checked: the account cannot read the definitions");
	} else if (have_target) {
		if ((rc = conversions(&src, &target, &l, r, err)))
			goto out;
	} else {
		mig_report_add(r, "source", "definitions", MIG_WARN, "give --dest or --dest-dialect",
			       "not checked: no destination dialect known");
	}
	if (o->dest_url && (rc = destination(&dst, &l, o->resuming, r, err)))
		goto out;
	if (o->dir) {
		uint64_t avail = 0;

		if ((rc = disk_free(o->dir, &avail, err)))
			goto out;
		mig_disk_decide(r, o->dir, avail, need);
	}
out:
	strs_release(&g);
	tbls_release(&l);
	side_close(&src);
	side_close(&dst);
	return rc;
}
