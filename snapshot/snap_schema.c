/* snap_schema.c - the definitions as SchemaObject records: databases, tables (foreign keys split out), views, then deferred triggers and foreign keys. */
#include "snap_int.h"
#include "ddl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

struct notes {
	char **v;
	size_t n;
};

static void note(void *ctx, const char *rule, const char *object, const char *what)
{
	struct notes *ns = ctx;

	sl_log(SL_WARN, "snapshot", "%s: rule %s: %s", object, rule, what);
	ns->v = sl_xrealloc(ns->v, (ns->n + 1) * sizeof(char *));
	ns->v[ns->n++] = sl_xasprintf("%s: %s", rule, what);
}

struct schema_w {
	struct snap_ctx *c;
	const struct snap_prev *prev;
	int convert;
	struct ddl_target target;
	uint32_t order;
	uint64_t written;
};

static int put(struct schema_w *s, Sluice__SchemaObject__Kind kind, const char *db, const char *name,
	       const char *table, const char *stmt, const char *sql_mode, int deferred,
	       struct sl_err *err)
{
	Sluice__SchemaObject so = SLUICE__SCHEMA_OBJECT__INIT;
	Sluice__Record rec = SLUICE__RECORD__INIT;
	struct sl_buf out = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct notes ns = { 0 };
	char *object;
	int rc = 0;

	s->order++;
	if (snap__prev_has_object(s->prev, (int)kind, db, name, table ? table : ""))
		return 0;
	/* how notes and refusals name it: "table `db`.`t`", "foreign key `db`.`fk` on `t`" */
	object = fmt_schema_object_label((int)kind, db, name, table);
	so.kind = kind;
	so.db = (char *)db;
	so.name = (char *)name;
	so.table = (char *)(table ? table : "");
	so.deferred = deferred;
	so.order = s->order;
	so.sql_mode = (char *)(sql_mode ? sql_mode : "");
	if (s->convert) {
		if ((rc = ddl_convert(&s->target, object, stmt, strlen(stmt), &out, note, &ns, err)))
			goto out;
		so.statement = (char *)sl_buf_cstr(&out);
		so.dest_dialect = (char *)ddl_dialect_name(s->target.dialect);
		if (strcmp(so.statement, stmt))
			so.source_statement = (char *)stmt;
	} else {
		so.statement = (char *)stmt;
	}
	so.conversions = ns.v;
	so.n_conversions = ns.n;
	rec.body_case = SLUICE__RECORD__BODY_SCHEMA;
	rec.schema = &so;
	if ((rc = snap__write_unit(s->c, &rec, err)))
		goto out;
	s->written++;
out:
	for (size_t i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	free(object);
	sl_buf_release(&out);
	return rc;
}

/* The name of "CONSTRAINT `name` FOREIGN KEY ..." (in an ALTER TABLE or alone). */
static char *fk_name(const char *clause)
{
	const char *p = strstr(clause, "CONSTRAINT `"), *e;
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	size_t n;

	if (!p)
		return sl_xstrdup("");
	for (e = p + 12; *e; e++) {
		if (*e == '`' && e[1] == '`') {
			sl_buf_addc(&b, '`');
			e++;
		} else if (*e == '`') {
			break;
		} else {
			sl_buf_addc(&b, (uint8_t)*e);
		}
	}
	sl_buf_cstr(&b);
	return (char *)sl_buf_detach(&b, &n);
}

/* The table without its foreign keys (TABLE, with every index: replay
 * defers them), or with fks set its foreign keys (FOREIGN_KEY, deferred,
 * one ALTER TABLE each: they come last). */
static int put_table(struct schema_w *s, const struct db_table *t, int fks_only, struct sl_err *err)
{
	struct sl_buf base = SL_BUF_INIT(SL_BUF_UNLIMITED), qn = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct ddl_list fks = { 0 };
	int rc;

	fmt_sql_ident(&qn, t->db);
	sl_buf_addc(&qn, '.');
	fmt_sql_ident(&qn, t->name);
	if ((rc = ddl_table_without_fks(t->create, strlen(t->create), sl_buf_cstr(&qn), &base, &fks,
					err)))
		goto out;
	if (!fks_only)
		rc = put(s, SLUICE__SCHEMA_OBJECT__KIND__TABLE, t->db, t->name, NULL, sl_buf_cstr(&base),
			 NULL, 0, err);
	for (size_t i = 0; fks_only && i < fks.n && !rc; i++) {
		char *name = fk_name(fks.v[i]);

		rc = put(s, SLUICE__SCHEMA_OBJECT__KIND__FOREIGN_KEY, t->db, name, t->name, fks.v[i], NULL,
			 1, err);
		free(name);
	}
out:
	ddl_list_release(&fks);
	sl_buf_release(&base);
	sl_buf_release(&qn);
	return rc;
}

int snap__schema_write(struct snap_ctx *c, const struct db_objects *objs,
		       const struct snap_prev *prev, uint64_t *written, struct sl_err *err)
{
	struct schema_w s = { .c = c, .prev = prev };
	int rc = 0;

	*written = 0;
	if (c->o->dest_dialect) {
		if ((rc = ddl_dialect_parse(c->o->dest_dialect, &s.target.dialect, err)))
			return rc;
		s.convert = 1;
	}
	for (size_t i = 0; i < objs->ndbs && !rc; i++)
		rc = put(&s, SLUICE__SCHEMA_OBJECT__KIND__DATABASE, objs->dbs[i].db, "", NULL,
			 objs->dbs[i].create, NULL, 0, err);
	for (size_t i = 0; i < objs->ntables && !rc; i++)
		rc = put_table(&s, &objs->tables[i], 0, err);
	/* routines before views (a view may call a function); a routine's body
	 * is only checked when it runs, so the order among them does not matter */
	for (size_t i = 0; i < objs->nroutines && !rc; i++)
		rc = put(&s, SLUICE__SCHEMA_OBJECT__KIND__ROUTINE, objs->routines[i].db,
			 objs->routines[i].name, NULL, objs->routines[i].create,
			 objs->routines[i].sql_mode, 0, err);
	for (size_t i = 0; i < objs->nviews && !rc; i++)
		rc = put(&s, SLUICE__SCHEMA_OBJECT__KIND__VIEW, objs->views[i].db, objs->views[i].name,
			 NULL, objs->views[i].create, NULL, 0, err);
	for (size_t i = 0; i < objs->ntriggers && !rc; i++)
		rc = put(&s, SLUICE__SCHEMA_OBJECT__KIND__TRIGGER, objs->triggers[i].db,
			 objs->triggers[i].name, objs->triggers[i].table, objs->triggers[i].create,
			 objs->triggers[i].sql_mode, 1, err);
	for (size_t i = 0; i < objs->ntables && !rc; i++)
		rc = put_table(&s, &objs->tables[i], 1, err);
	/* events run by themselves on a schedule and would change rows replay
	 * carries: created at switchover, like triggers */
	for (size_t i = 0; i < objs->nevents && !rc; i++)
		rc = put(&s, SLUICE__SCHEMA_OBJECT__KIND__EVENT, objs->events[i].db, objs->events[i].name,
			 NULL, objs->events[i].create, objs->events[i].sql_mode, 1, err);
	*written = s.written;
	return rc;
}
