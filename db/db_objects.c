/* db_objects.c - what to migrate from a source: databases, tables with their columns, keys and statistics, views in dependency order, triggers. */
#include "db.h"
#include "fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

#define SYSDBS "('mysql','information_schema','performance_schema','sys','sluice')"

static int query(MYSQL *m, const char *who, const char *sql, MYSQL_RES **res, struct sl_err *err)
{
	if (mysql_real_query(m, sql, strlen(sql)) || !(*res = mysql_store_result(m)))
		return db_stmt_error(err, m, who, sql, strlen(sql));
	return 0;
}

static char *dup_field(MYSQL_ROW row, const unsigned long *len, unsigned i)
{
	return row[i] ? sl_xstrndup(row[i], len[i]) : NULL;
}

static void lower(char *s)
{
	for (; s && *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Column `col` (0-based) of SHOW CREATE <what> `db`.`name` (name NULL or
 * "": the database), malloc'd; with mode, column 1 too (a stored program's
 * sql_mode), malloc'd. */
static int show_create(MYSQL *m, const char *who, const char *what, const char *db,
		       const char *name, unsigned col, char **out, char **mode, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	*out = NULL;
	if (mode)
		*mode = NULL;
	sl_buf_addf(&q, "SHOW CREATE %s ", what);
	fmt_sql_ident(&q, db);
	if (name && !name[0])
		name = NULL;
	if (name) {
		sl_buf_addc(&q, '.');
		fmt_sql_ident(&q, name);
	}
	if ((rc = query(m, who, sl_buf_cstr(&q), &res, err)))
		goto out;
	if (!(row = mysql_fetch_row(res)) || mysql_num_fields(res) <= col || !row[col]) {
		rc = sl_err_set(err, -SL_EDB, "%s: SHOW CREATE %s `%s`%s%s%s gave no statement "
				"(missing privilege?)", who, what, db, name ? ".`" : "", name ? name : "",
				name ? "`" : "");
		goto out;
	}
	*out = dup_field(row, mysql_fetch_lengths(res), col);
	if (mode)
		*mode = sl_xstrdup(row[1] ? row[1] : "");
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	return rc;
}

/* SHOW CREATE <what> of each of v[0..n) into its create (column col); what
 * NULL: each object's table field names it (routines: PROCEDURE, FUNCTION).
 * Stored programs (col >= 2: triggers, routines, events) say their sql_mode
 * in column 1: into sql_mode. */
static int show_create_each(MYSQL *m, const char *who, const char *what, unsigned col,
			    struct db_object *v, size_t n, struct sl_err *err)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++)
		rc = show_create(m, who, what ? what : v[i].table, v[i].db, v[i].name, col, &v[i].create,
				 col >= 2 ? &v[i].sql_mode : NULL, err);
	return rc;
}

/* A new object at the end of *v (*n of them): kind, db, name and table (may
 * be NULL) copied, no statement yet. */
static struct db_object *add_object(struct db_object **v, size_t *n, enum db_obj_kind kind,
				    const char *db, const char *name, const char *table)
{
	struct db_object *d;

	*v = sl_xrealloc(*v, (*n + 1) * sizeof(**v));
	d = &(*v)[(*n)++];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->db = sl_xstrdup(db);
	d->name = sl_xstrdup(name);
	d->table = table ? sl_xstrdup(table) : NULL;
	return d;
}

static void obj_release(struct db_object *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].db);
		free(v[i].name);
		free(v[i].table);
		free(v[i].create);
		free(v[i].sql_mode);
	}
	free(v);
}

static struct db_table *find_table(struct db_objects *o, const char *db, const char *name)
{
	for (size_t i = 0; i < o->ntables; i++)	/* sorted: a binary search would do */
		if (!strcmp(o->tables[i].db, db) && !strcmp(o->tables[i].name, name))
			return &o->tables[i];
	return NULL;
}

static int db_selected(const char *include, const char *exclude, const char *db)
{
	/* a database as a whole: "db" or "db.%" patterns; tables decide the rest */
	return sl_table_selected(include, exclude, db, "");
}

static int read_tables(MYSQL *m, const char *who, const char *include, const char *exclude,
		       struct db_objects *o, struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc;

	if ((rc = query(m, who, "SELECT TABLE_SCHEMA, TABLE_NAME, IFNULL(TABLE_ROWS,0), "
			"IFNULL(AVG_ROW_LENGTH,0) FROM information_schema.TABLES "
			"WHERE TABLE_TYPE IN ('BASE TABLE','SYSTEM VERSIONED') AND TABLE_SCHEMA NOT IN "
			SYSDBS " ORDER BY TABLE_SCHEMA, TABLE_NAME", &res, err)))
		return rc;
	while ((row = mysql_fetch_row(res))) {
		struct db_table *t;

		if (!sl_table_selected(include, exclude, row[0], row[1]))
			continue;
		o->tables = sl_xrealloc(o->tables, (o->ntables + 1) * sizeof(*o->tables));
		t = &o->tables[o->ntables++];
		memset(t, 0, sizeof(*t));
		t->db = sl_xstrdup(row[0]);
		t->name = sl_xstrdup(row[1]);
		t->est_rows = strtoull(row[2], NULL, 10);
		t->avg_row_len = strtoull(row[3], NULL, 10);
	}
	mysql_free_result(res);
	return 0;
}

static int read_columns(MYSQL *m, const char *who, struct db_objects *o, struct sl_err *err)
{
	static const char sql[] =
		 "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, LOWER(c.DATA_TYPE), c.COLUMN_TYPE, "
		 "c.IS_NULLABLE, c.CHARACTER_SET_NAME, c.COLLATION_NAME, "
		 "(SELECT MIN(co.ID) FROM information_schema.COLLATIONS co WHERE co.COLLATION_NAME = c.COLLATION_NAME), "
		 "IFNULL(c.NUMERIC_PRECISION, 0), IFNULL(c.NUMERIC_SCALE, 0), IFNULL(c.DATETIME_PRECISION, 0), "
		 "IFNULL(c.CHARACTER_MAXIMUM_LENGTH, 0), IFNULL(c.CHARACTER_OCTET_LENGTH, 0) "
		 "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
		 "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
		 "WHERE t.TABLE_TYPE IN ('BASE TABLE','SYSTEM VERSIONED') AND c.TABLE_SCHEMA NOT IN "
		 SYSDBS " ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION";
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc;

	if ((rc = query(m, who, sql, &res, err)))
		return rc;
	while ((row = mysql_fetch_row(res))) {
		unsigned long *len = mysql_fetch_lengths(res);
		struct db_table *t = find_table(o, row[0], row[1]);
		struct db_column *c;

		if (!t)
			continue;
		t->cols = sl_xrealloc(t->cols, (t->ncols + 1) * sizeof(*t->cols));
		c = &t->cols[t->ncols++];
		memset(c, 0, sizeof(*c));
		c->name = dup_field(row, len, 2);
		c->data_type = dup_field(row, len, 3);
		c->column_type = dup_field(row, len, 4);
		lower(c->data_type);
		c->nullable = row[5] && !strcmp(row[5], "YES");
		c->charset = dup_field(row, len, 6);
		c->collation = dup_field(row, len, 7);
		c->collation_id = row[8] ? (uint32_t)strtoul(row[8], NULL, 10) : 0;
		c->is_unsigned = c->column_type && strstr(c->column_type, "unsigned") != NULL;
		c->precision = (unsigned)strtoul(row[9], NULL, 10);
		c->scale = (unsigned)strtoul(row[10], NULL, 10);
		if (row[11] && strtoul(row[11], NULL, 10))
			c->precision = (unsigned)strtoul(row[11], NULL, 10);
		c->max_len = strtoull(row[12], NULL, 10);
		c->octet_len = strtoull(row[13], NULL, 10);
		if (!strcmp(c->data_type, "bit"))	/* "bit(10)": its width */
			c->max_len = c->precision ? c->precision
				     : strtoull(c->column_type + strcspn(c->column_type, "(") + 1, NULL, 10);
	}
	mysql_free_result(res);
	return 0;
}

/* The key: PRIMARY, else the first unique key on NOT NULL whole columns. */
static int read_keys(MYSQL *m, const char *who, struct db_objects *o, struct sl_err *err)
{
	static const char sql[] =
		 "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME, SUB_PART "
		 "FROM information_schema.STATISTICS WHERE NON_UNIQUE = 0 AND TABLE_SCHEMA NOT IN " SYSDBS
		 " ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX";
	MYSQL_RES *res;
	MYSQL_ROW row;
	char cur_db[256] = "", cur_t[256] = "", cur_idx[256] = "";
	size_t cand[64], ncand = 0;
	int bad = 0, rc;
	struct db_table *t = NULL;

	if ((rc = query(m, who, sql, &res, err)))
		return rc;
	for (;;) {
		row = mysql_fetch_row(res);
		if (!row || strcmp(row[0], cur_db) || strcmp(row[1], cur_t) || strcmp(row[2], cur_idx)) {
			/* the index before ends: take it when the table has none yet */
			if (t && !t->nkey && !bad && ncand) {
				t->key = sl_xcalloc(ncand, sizeof(size_t));
				memcpy(t->key, cand, ncand * sizeof(size_t));
				t->nkey = ncand;
			}
			if (!row)
				break;
			snprintf(cur_db, sizeof(cur_db), "%s", row[0]);
			snprintf(cur_t, sizeof(cur_t), "%s", row[1]);
			snprintf(cur_idx, sizeof(cur_idx), "%s", row[2]);
			t = find_table(o, row[0], row[1]);
			ncand = 0;
			bad = 0;
		}
		if (!t || bad)
			continue;
		{
			size_t i;

			for (i = 0; i < t->ncols; i++)
				if (!strcasecmp(t->cols[i].name, row[3]))
					break;
			if (i == t->ncols || t->cols[i].nullable || row[4] || ncand == 64)
				bad = 1;
			else
				cand[ncand++] = i;
		}
	}
	mysql_free_result(res);
	return 0;
}

void db_views_order(size_t n, const char *const *db, const char *const *name,
		    const char *const *def, size_t *order)
{
	char *done = sl_xcalloc(n ? n : 1, 1);
	size_t k = 0;

	while (k < n) {
		size_t before = k;

		for (size_t i = 0; i < n; i++) {
			int ready = 1;

			if (done[i])
				continue;
			for (size_t j = 0; j < n && ready; j++) {
				char *q1, *q2;

				if (j == i || done[j])
					continue;
				q1 = sl_xasprintf("`%s`.`%s`", db[j], name[j]);
				q2 = sl_xasprintf("`%s`", name[j]);
				if (strstr(def[i], q1) || (!strcmp(db[i], db[j]) && strstr(def[i], q2)))
					ready = 0;
				free(q1);
				free(q2);
			}
			if (ready) {
				done[i] = 1;
				order[k++] = i;
			}
		}
		if (k == before)	/* a cycle (or a name in a string): keep their order */
			for (size_t i = 0; i < n; i++)
				if (!done[i]) {
					done[i] = 1;
					order[k++] = i;
					break;
				}
	}
	free(done);
}

static int read_views(MYSQL *m, const char *who, const char *include, const char *exclude,
		      struct db_objects *o, struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	struct db_object *v = NULL;
	char **defs = NULL;
	size_t n = 0, *order;
	int rc;

	if ((rc = query(m, who, "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM "
			"information_schema.VIEWS WHERE TABLE_SCHEMA NOT IN " SYSDBS
			" ORDER BY TABLE_SCHEMA, TABLE_NAME", &res, err)))
		return rc;
	while ((row = mysql_fetch_row(res))) {
		if (!sl_table_selected(include, exclude, row[0], row[1]))
			continue;
		defs = sl_xrealloc(defs, (n + 1) * sizeof(*defs));
		defs[n] = sl_xstrdup(row[2] ? row[2] : "");
		add_object(&v, &n, DB_OBJ_VIEW, row[0], row[1], NULL);
	}
	mysql_free_result(res);
	rc = show_create_each(m, who, "VIEW", 1, v, n, err);
	if (!rc && n) {
		const char **dbs = sl_xcalloc(n, sizeof(char *)), **names = sl_xcalloc(n, sizeof(char *));

		for (size_t i = 0; i < n; i++) {
			dbs[i] = v[i].db;
			names[i] = v[i].name;
		}
		order = sl_xcalloc(n, sizeof(size_t));
		db_views_order(n, dbs, names, (const char *const *)defs, order);
		o->views = sl_xcalloc(n, sizeof(*o->views));
		for (size_t i = 0; i < n; i++)
			o->views[i] = v[order[i]];
		o->nviews = n;
		free(order);
		free(dbs);
		free(names);
		free(v);
		v = NULL;
	}
	for (size_t i = 0; i < n; i++)
		free(defs[i]);
	free(defs);
	if (v)	/* failed: give back what is not in o */
		obj_release(v, n);
	return rc;
}

static int read_triggers(MYSQL *m, const char *who, const char *include, const char *exclude,
			 struct db_objects *o, struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc;

	if ((rc = query(m, who, "SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE FROM "
			"information_schema.TRIGGERS WHERE TRIGGER_SCHEMA NOT IN " SYSDBS
			" ORDER BY TRIGGER_SCHEMA, EVENT_OBJECT_TABLE, ACTION_ORDER, TRIGGER_NAME", &res,
			err)))
		return rc;
	while ((row = mysql_fetch_row(res)))
		if (sl_table_selected(include, exclude, row[0], row[2]))
			add_object(&o->triggers, &o->ntriggers, DB_OBJ_TRIGGER, row[0], row[1], row[2]);
	mysql_free_result(res);
	return show_create_each(m, who, "TRIGGER", 2, o->triggers, o->ntriggers, err);
}

/* Procedures, functions and events: one list query, then SHOW CREATE each. */
static int read_routines(MYSQL *m, const char *who, const char *include, const char *exclude,
			 struct db_objects *o, struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc;

	if ((rc = query(m, who, "SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE, 0 FROM "
			"information_schema.ROUTINES WHERE ROUTINE_SCHEMA NOT IN " SYSDBS
			" AND ROUTINE_TYPE IN ('PROCEDURE','FUNCTION') UNION ALL SELECT EVENT_SCHEMA, "
			"EVENT_NAME, 'EVENT', 1 FROM information_schema.EVENTS WHERE EVENT_SCHEMA NOT IN "
			SYSDBS " ORDER BY 4, 1, 2", &res, err)))
		return rc;
	while ((row = mysql_fetch_row(res))) {
		if (!sl_table_selected(include, exclude, row[0], row[1]))
			continue;
		if (row[3][0] == '1')
			add_object(&o->events, &o->nevents, DB_OBJ_EVENT, row[0], row[1], NULL);
		else
			add_object(&o->routines, &o->nroutines, DB_OBJ_ROUTINE, row[0], row[1], row[2]);
	}
	mysql_free_result(res);
	/* the statement: "Create Procedure"/"Create Function" is column 2, "Create Event" 3 */
	if ((rc = show_create_each(m, who, NULL, 2, o->routines, o->nroutines, err)))
		return rc;
	return show_create_each(m, who, "EVENT", 3, o->events, o->nevents, err);
}

static int read_dbs(MYSQL *m, const char *who, const char *include, const char *exclude,
		    struct db_objects *o, struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc;

	if ((rc = query(m, who, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
			"WHERE SCHEMA_NAME NOT IN " SYSDBS " ORDER BY SCHEMA_NAME", &res, err)))
		return rc;
	while ((row = mysql_fetch_row(res))) {
		int used = db_selected(include, exclude, row[0]);

		for (size_t i = 0; i < o->ntables && !used; i++)
			used = !strcmp(o->tables[i].db, row[0]);
		for (size_t i = 0; i < o->nviews && !used; i++)
			used = !strcmp(o->views[i].db, row[0]);
		if (used)
			add_object(&o->dbs, &o->ndbs, DB_OBJ_DATABASE, row[0], "", NULL);
	}
	mysql_free_result(res);
	return show_create_each(m, who, "DATABASE", 1, o->dbs, o->ndbs, err);
}

int db_objects_read(MYSQL *m, const char *who, const char *include, const char *exclude,
		    struct db_objects *o, struct sl_err *err)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = read_tables(m, who, include, exclude, o, err)) ||
	    (rc = read_columns(m, who, o, err)) || (rc = read_keys(m, who, o, err)))
		goto fail;
	for (size_t i = 0; i < o->ntables; i++)
		if ((rc = show_create(m, who, "TABLE", o->tables[i].db, o->tables[i].name, 1,
				      &o->tables[i].create, NULL, err)))
			goto fail;
	if ((rc = read_views(m, who, include, exclude, o, err)) ||
	    (rc = read_triggers(m, who, include, exclude, o, err)) ||
	    (rc = read_routines(m, who, include, exclude, o, err)) ||
	    (rc = read_dbs(m, who, include, exclude, o, err)))
		goto fail;
	return 0;
fail:
	db_objects_release(o);
	return rc;
}

void db_objects_release(struct db_objects *o)
{
	for (size_t i = 0; i < o->ntables; i++) {
		struct db_table *t = &o->tables[i];

		for (size_t j = 0; j < t->ncols; j++) {
			free(t->cols[j].name);
			free(t->cols[j].data_type);
			free(t->cols[j].column_type);
			free(t->cols[j].charset);
			free(t->cols[j].collation);
		}
		free(t->cols);
		free(t->key);
		free(t->db);
		free(t->name);
		free(t->create);
	}
	free(o->tables);
	obj_release(o->dbs, o->ndbs);
	obj_release(o->views, o->nviews);
	obj_release(o->triggers, o->ntriggers);
	obj_release(o->routines, o->nroutines);
	obj_release(o->events, o->nevents);
	memset(o, 0, sizeof(*o));
}
