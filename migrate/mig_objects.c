/* mig_objects.c - switchover step 7: the deferred foreign keys and triggers created on the destination, its AUTO_INCREMENT counters raised to the source's, the source's triggers parked in RDIR and restored. */
/*
 * What the migration left for switchover is what DIR/snapshot records: its
 * SchemaObjects (every one before the first SnapshotBegin), TABLE for the
 * migrated tables, FOREIGN_KEY and TRIGGER marked deferred, in creation
 * order. Each function here is idempotent, so the state machine that calls
 * them may crash and call them again: an object already there is counted
 * and skipped, a counter already high enough is left alone, a saved file is
 * kept.
 *
 * Binlog: the statements run on the destination (ALTER TABLE ... ADD
 * CONSTRAINT, CREATE TRIGGER, ALTER TABLE ... AUTO_INCREMENT) are not what
 * the application wrote there, and the reverse capture reads the
 * destination's binlog from step 3 on: replayed on the source, an ADD
 * CONSTRAINT the source already has would stop the reverse replay. So they
 * run with the session's sql_log_bin off (BINLOG ADMIN or SUPER on MariaDB,
 * SYSTEM_VARIABLES_ADMIN or SUPER on MySQL), set back afterwards. On the
 * source, DROP TRIGGER and CREATE TRIGGER stay in its binlog: replay never
 * runs a trigger statement (replay/rep_ddl.c), so no consumer acts on them.
 *
 * RDIR/source-triggers (written whole by sl_write_file_atomic()): text, a
 * comment header, then "sluice-source-triggers 1", "triggers N", N groups of
 * the fields below in that order, and "end". Each field is "<name> <bytes>",
 * a newline, exactly that many bytes, a newline, so a trigger body is kept
 * byte for byte. Restored, the file is renamed source-triggers.restored.
 */
#include "mig_int.h"
#include "db.h"
#include "fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "banned.h"

#define MIG_TRIGGERS_FILE "source-triggers"
#define MIG_TRIGGERS_MAX ((size_t)256 << 20)	/* a saved file we read at most */

/* "source 127.0.0.1:3306": how messages name a server (never a password). */
static const char *who_of(MYSQL *m, const char *side, char *out, size_t n)
{
	snprintf(out, n, "%s %s:%u", side, m->host ? m->host : "localhost", m->port);
	return out;
}

/* ---- what DIR/snapshot recorded ---- */

struct snap_objs {
	Sluice__Record **v;	/* SCHEMA records, in stream order */
	size_t n;
	struct tab_key { const char *db, *name; } *tabs;	/* TABLE objects, sorted */
	size_t ntabs;
};

static int tab_cmp(const void *a, const void *b)
{
	const struct tab_key *x = a, *y = b;
	int c = strcmp(x->db, y->db);

	return c ? c : strcmp(x->name, y->name);
}

static int migrated(const struct snap_objs *o, const char *db, const char *name)
{
	struct tab_key k = { db, name };

	return o->ntabs && bsearch(&k, o->tabs, o->ntabs, sizeof(k), tab_cmp) != NULL;
}

static void snap_objs_release(struct snap_objs *o)
{
	for (size_t i = 0; i < o->n; i++)
		fmt_record_free(o->v[i]);
	free(o->v);
	free(o->tabs);
	memset(o, 0, sizeof(*o));
}

/* Every SchemaObject of DIR/snapshot: they all come before the first
 * SnapshotBegin (a resumed run writes none), so the reading stops there and
 * never decompresses a row. A stream that ends before it is incomplete. */
static int snap_objs_read(const char *dir, struct snap_objs *o, struct sl_err *err)
{
	struct seg_reader *r = NULL;
	char *snap = seg_snapshot_path(dir);
	int rc, begun = 0;

	memset(o, 0, sizeof(*o));
	rc = seg_snapshot_exists(dir, err);
	if (rc == 0)
		rc = sl_err_set(err, -ENOENT, "'%s': no snapshot stream: nothing records what was "
				"migrated", snap);
	if (rc < 0 || (rc = seg_reader_open(&r, snap, err)))
		goto out;
	while (!begun) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;

		if ((rc = seg_reader_next(r, &rec, &cur, err)) < 0)
			goto out;
		if (rc == 0) {
			rc = sl_err_set(err, -SL_EEOF, "'%s': the snapshot's definitions end before "
					"its first run began: it is incomplete", snap);
			goto out;
		}
		if (rec->body_case != SLUICE__RECORD__BODY_SCHEMA) {
			begun = 1;
			fmt_record_free(rec);
			break;
		}
		o->v = sl_xrealloc(o->v, (o->n + 1) * sizeof(*o->v));
		o->v[o->n++] = rec;
		if (rec->schema->kind == SLUICE__SCHEMA_OBJECT__KIND__TABLE) {
			o->tabs = sl_xrealloc(o->tabs, (o->ntabs + 1) * sizeof(*o->tabs));
			o->tabs[o->ntabs].db = rec->schema->db;
			o->tabs[o->ntabs++].name = rec->schema->name;
		}
	}
	if (o->ntabs)
		qsort(o->tabs, o->ntabs, sizeof(*o->tabs), tab_cmp);
	rc = 0;
out:
	seg_reader_close(r);
	free(snap);
	if (rc)
		snap_objs_release(o);
	return rc;
}

/* ---- small statements ---- */

static int query(MYSQL *m, const char *who, const char *sql, size_t len, MYSQL_RES **res,
		 struct sl_err *err)
{
	*res = NULL;
	if (mysql_real_query(m, sql, len) || !(*res = mysql_store_result(m)))
		return db_stmt_error(err, m, who, sql, len);
	return 0;
}

static int run(MYSQL *m, const char *who, const char *sql, size_t len, struct sl_err *err)
{
	if (mysql_real_query(m, sql, len))
		return db_stmt_error(err, m, who, sql, len);
	return 0;
}

static int run_buf(MYSQL *m, const char *who, struct sl_buf *q, struct sl_err *err)
{
	return run(m, who, sl_buf_cstr(q), q->len, err);
}

/* "USE `db`" */
static int use_db(MYSQL *m, const char *who, const char *db, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	sl_buf_adds(&q, "USE ");
	fmt_sql_ident(&q, db);
	rc = run_buf(m, who, &q, err);
	sl_buf_release(&q);
	return rc;
}

/* 1 when q returns a row, 0 when none, < 0 on error. */
static int any_row(MYSQL *m, const char *who, struct sl_buf *q, struct sl_err *err)
{
	MYSQL_RES *res;
	int rc = query(m, who, sl_buf_cstr(q), q->len, &res, err);

	if (rc)
		return rc;
	rc = mysql_fetch_row(res) != NULL;
	mysql_free_result(res);
	return rc;
}

static int trigger_exists(MYSQL *m, const char *who, const char *db, const char *name,
			  struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	sl_buf_adds(&q, "SELECT 1 FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA=");
	fmt_sql_str(&q, db);
	sl_buf_adds(&q, " AND TRIGGER_NAME=");
	fmt_sql_str(&q, name);
	rc = any_row(m, who, &q, err);
	sl_buf_release(&q);
	return rc;
}

static int fk_exists(MYSQL *m, const char *who, const char *db, const char *table,
		     const char *name, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	sl_buf_adds(&q, "SELECT 1 FROM information_schema.TABLE_CONSTRAINTS WHERE "
		    "CONSTRAINT_TYPE='FOREIGN KEY' AND CONSTRAINT_SCHEMA=");
	fmt_sql_str(&q, db);
	sl_buf_adds(&q, " AND TABLE_NAME=");
	fmt_sql_str(&q, table);
	sl_buf_adds(&q, " AND CONSTRAINT_NAME=");
	fmt_sql_str(&q, name);
	rc = any_row(m, who, &q, err);
	sl_buf_release(&q);
	return rc;
}

/* sql_log_bin off for this session (the file's comment says why); *was
 * is what to set back with binlog_restore(). */
static int binlog_off(MYSQL *m, const char *who, int *was, struct sl_err *err)
{
	static const char get[] = "SELECT @@SESSION.sql_log_bin", off[] = "SET SESSION sql_log_bin=0";
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc;

	*was = 0;
	if ((rc = query(m, who, get, sizeof(get) - 1, &res, err)))
		return rc;
	row = mysql_fetch_row(res);
	*was = row && row[0] && strcmp(row[0], "0");
	mysql_free_result(res);
	if (*was && (rc = run(m, who, off, sizeof(off) - 1, err)))
		sl_err_prefix(err, "objects made at switchover stay out of the reverse stream");
	return rc;
}

static int binlog_restore(MYSQL *m, const char *who, int was, int rc, struct sl_err *err)
{
	static const char on[] = "SET SESSION sql_log_bin=1";
	struct sl_err e2 = SL_ERR_INIT;

	if (was && run(m, who, on, sizeof(on) - 1, &e2) && !rc) {
		*err = e2;
		rc = e2.code;
	}
	return rc;
}

/* Ends the read transaction a session without autocommit keeps open (and
 * its metadata locks). */
static void end_reads(MYSQL *m)
{
	if (mysql_real_query(m, "COMMIT", 6) == 0)
		return;
	sl_log(SL_WARN, "migrate", "COMMIT after reading the catalog: %s", mysql_error(m));
}

/* The session settings the functions change, to set them back. */
struct session {
	char *sql_mode, *cs_client, *coll_conn, *db;	/* db NULL: none chosen */
	int fk_checks;
};

static int session_save(MYSQL *m, const char *who, struct session *ss, struct sl_err *err)
{
	static const char sql[] = "SELECT @@SESSION.sql_mode, @@SESSION.character_set_client, "
				  "@@SESSION.collation_connection, DATABASE(), @@SESSION.foreign_key_checks";
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if ((rc = query(m, who, sql, sizeof(sql) - 1, &res, err)))
		return rc;
	if ((row = mysql_fetch_row(res))) {
		ss->sql_mode = sl_xstrdup(row[0] ? row[0] : "");
		ss->cs_client = sl_xstrdup(row[1] ? row[1] : "utf8mb4");
		ss->coll_conn = sl_xstrdup(row[2] ? row[2] : "utf8mb4_general_ci");
		ss->db = row[3] ? sl_xstrdup(row[3]) : NULL;
		ss->fk_checks = row[4] && strcmp(row[4], "0");
	}
	mysql_free_result(res);
	return ss->sql_mode ? 0 : sl_err_set(err, -SL_EDB, "%s: no session variables", who);
}

/* SET SESSION sql_mode, character_set_client, collation_connection. */
/* The session's sql_mode, character_set_client and collation_connection. */
static int session_set(MYSQL *m, const char *who, const char *mode, const char *cs,
		       const char *coll, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	if ((rc = db_set_sql_mode(m, who, mode, err)))
		return rc;
	sl_buf_adds(&q, "SET SESSION character_set_client=");
	fmt_sql_str(&q, cs);
	sl_buf_adds(&q, ", collation_connection=");
	fmt_sql_str(&q, coll);
	rc = run_buf(m, who, &q, err);
	sl_buf_release(&q);
	return rc;
}

static int session_restore(MYSQL *m, const char *who, struct session *ss, int rc,
			   struct sl_err *err)
{
	struct sl_err e2 = SL_ERR_INIT;
	int rc2 = 0;

	if (ss->sql_mode) {
		const char *fkc = ss->fk_checks ? "SET SESSION foreign_key_checks=1" :
						   "SET SESSION foreign_key_checks=0";

		rc2 = session_set(m, who, ss->sql_mode, ss->cs_client, ss->coll_conn, &e2);
		if (!rc2)
			rc2 = run(m, who, fkc, strlen(fkc), &e2);
		if (!rc2 && ss->db)
			rc2 = use_db(m, who, ss->db, &e2);
	}
	if (rc2 && !rc) {
		*err = e2;
		rc = rc2;
	}
	free(ss->sql_mode);
	free(ss->cs_client);
	free(ss->coll_conn);
	free(ss->db);
	memset(ss, 0, sizeof(*ss));
	return rc;
}

/* ---- deferred objects on the destination ---- */

int mig__deferred_create(const char *dir, MYSQL *dst, const char *who, struct mig_objects_result *r,
			 struct sl_err *err)
{
	static const char fkc_off[] = "SET SESSION foreign_key_checks=0";
	struct snap_objs o;
	struct session ss = { 0 };
	int rc, was = 0;

	if ((rc = snap_objs_read(dir, &o, err)))
		return rc;
	/* foreign keys added without checking the rows: they are the source's,
	 * which had the keys (and checking makes MariaDB copy the table) */
	if ((rc = session_save(dst, who, &ss, err)) ||
	    (rc = run(dst, who, fkc_off, sizeof(fkc_off) - 1, err)) ||
	    (rc = binlog_off(dst, who, &was, err)))
		goto out;
	for (size_t i = 0; i < o.n && !rc; i++) {
		const Sluice__SchemaObject *so = o.v[i]->schema;
		int fk = so->kind == SLUICE__SCHEMA_OBJECT__KIND__FOREIGN_KEY;
		/* a trigger's body is parsed and runs under the sql_mode it was
		 * created with (a stream older than SchemaObject.sql_mode: the
		 * session's) */
		const char *mode = !fk && so->sql_mode && so->sql_mode[0] ? so->sql_mode : ss.sql_mode;
		char *label;

		if (!so->deferred || (!fk && so->kind != SLUICE__SCHEMA_OBJECT__KIND__TRIGGER))
			continue;
		label = fmt_schema_object_label((int)so->kind, so->db, so->name, so->table);
		rc = fk ? fk_exists(dst, who, so->db, so->table, so->name, err) :
			  trigger_exists(dst, who, so->db, so->name, err);
		if (rc == 1) {
			r->present++;
			rc = 0;
		} else if (rc == 0) {
			/* a trigger's statement names its table alone: in its database */
			if (!(rc = session_set(dst, who, mode, ss.cs_client, ss.coll_conn, err)) &&
			    !(rc = use_db(dst, who, so->db, err)) &&
			    !(rc = run(dst, who, so->statement, strlen(so->statement), err))) {
				r->created++;
				sl_log(SL_INFO, "migrate", "%s created on %s", label, who);
			}
		}
		if (rc)
			sl_err_prefix(err, "%s", label);
		free(label);
	}
	end_reads(dst);
	rc = binlog_restore(dst, who, was, rc, err);
out:
	rc = session_restore(dst, who, &ss, rc, err);
	snap_objs_release(&o);
	return rc;
}

/* ---- AUTO_INCREMENT ---- */

/* The counter after the value text v (MAX of the column): v + 1, 0 for
 * NULL or a negative value, UINT64_MAX stays. A fraction (a FLOAT column)
 * is cut. */
static uint64_t next_after(const char *v)
{
	uint64_t x;

	if (!v || *v == '-' || !*v)
		return 0;
	x = strtoull(v, NULL, 10);
	return x == UINT64_MAX ? x : x + 1;
}

static uint64_t as_u64(const char *v)
{
	return v && *v && *v != '-' ? strtoull(v, NULL, 10) : 0;
}

/* The next value of db.t's counter on m: the larger of TABLES.AUTO_INCREMENT
 * (it may be stale: MySQL caches it) and MAX(col) + 1. *found 0 when m has
 * no such table. */
static int counter_of(MYSQL *m, const char *who, const char *db, const char *t, const char *col,
		      uint64_t *next, int *found, struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	*next = 0;
	*found = 0;
	sl_buf_adds(&q, "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA=");
	fmt_sql_str(&q, db);
	sl_buf_adds(&q, " AND TABLE_NAME=");
	fmt_sql_str(&q, t);
	if ((rc = query(m, who, sl_buf_cstr(&q), q.len, &res, err)))
		goto out;
	if (!(row = mysql_fetch_row(res)))
		goto out;
	*found = 1;
	*next = as_u64(row[0]);
	mysql_free_result(res);
	res = NULL;
	sl_buf_reset(&q);
	sl_buf_adds(&q, "SELECT MAX(");
	fmt_sql_ident(&q, col);
	sl_buf_adds(&q, ") FROM ");
	fmt_sql_ident(&q, db);
	sl_buf_addc(&q, '.');
	fmt_sql_ident(&q, t);
	if ((rc = query(m, who, sl_buf_cstr(&q), q.len, &res, err)))
		goto out;
	if ((row = mysql_fetch_row(res)) && next_after(row[0]) > *next)
		*next = next_after(row[0]);
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	return rc;
}

/* MySQL 8 answers information_schema.TABLES from a cache (a day old by
 * default): read it live. Other servers have no such variable. */
static int stats_live(MYSQL *m, const char *who, struct sl_err *err)
{
	static const char sql[] = "SET SESSION information_schema_stats_expiry=0";

	if (mysql_real_query(m, sql, sizeof(sql) - 1) == 0 || mysql_errno(m) == 1193)
		return 0;	/* 1193: ER_UNKNOWN_SYSTEM_VARIABLE */
	return db_stmt_error(err, m, who, sql, sizeof(sql) - 1);
}

int mig__autoinc_sync(const char *dir, MYSQL *src, MYSQL *dst, struct mig_objects_result *r,
		      struct sl_err *err)
{
	static const char cols[] =
		"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
		"WHERE EXTRA LIKE '%auto_increment%' ORDER BY TABLE_SCHEMA, TABLE_NAME";
	char sw[300], dw[300];
	struct snap_objs o;
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc, was = 0;

	who_of(src, "source", sw, sizeof(sw));
	who_of(dst, "destination", dw, sizeof(dw));
	if ((rc = snap_objs_read(dir, &o, err)))
		return rc;
	if ((rc = stats_live(src, sw, err)) || (rc = stats_live(dst, dw, err)) ||
	    (rc = query(src, sw, cols, sizeof(cols) - 1, &res, err)))
		goto out;
	if ((rc = binlog_off(dst, dw, &was, err)))
		goto out;
	while (!rc && (row = mysql_fetch_row(res))) {
		uint64_t s_next, d_next;
		int found;

		if (!row[0] || !row[1] || !row[2] || !migrated(&o, row[0], row[1]))
			continue;
		if ((rc = counter_of(src, sw, row[0], row[1], row[2], &s_next, &found, err)))
			break;
		if (!found)
			continue;	/* dropped meanwhile */
		if ((rc = counter_of(dst, dw, row[0], row[1], row[2], &d_next, &found, err)))
			break;
		if (!found) {
			rc = sl_err_set(err, -SL_ECONFIG, "table `%s`.`%s`: on the source, not on the "
					"%s: its AUTO_INCREMENT cannot follow", row[0], row[1], dw);
			break;
		}
		if (d_next >= s_next) {	/* never lower it */
			r->present++;
			continue;
		}
		sl_buf_reset(&q);
		sl_buf_adds(&q, "ALTER TABLE ");
		fmt_sql_ident(&q, row[0]);
		sl_buf_addc(&q, '.');
		fmt_sql_ident(&q, row[1]);
		sl_buf_addf(&q, " AUTO_INCREMENT=%" PRIu64, s_next);
		if ((rc = run_buf(dst, dw, &q, err))) {
			sl_err_prefix(err, "table `%s`.`%s`", row[0], row[1]);
			break;
		}
		sl_log(SL_INFO, "migrate", "table `%s`.`%s`: AUTO_INCREMENT %" PRIu64 " -> %" PRIu64
		       " (the source's)", row[0], row[1], d_next, s_next);
		r->changed++;
	}
	end_reads(src);
	end_reads(dst);
	rc = binlog_restore(dst, dw, was, rc, err);
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	snap_objs_release(&o);
	return rc;
}

/* ---- the source's triggers: RDIR/source-triggers ---- */

enum { T_DB, T_TABLE, T_NAME, T_SQL_MODE, T_CS_CLIENT, T_COLL_CONN, T_DB_COLL, T_TEXT_CS, T_STMT,
       T_NF };
static const char *const tfield[T_NF] = {
	"db", "table", "name", "sql_mode", "character_set_client", "collation_connection",
	"database_collation", "text_charset", "statement",
};

struct saved_trigger {
	char *f[T_NF];		/* NUL-terminated copies */
	size_t len[T_NF];
};

struct saved_triggers {
	struct saved_trigger *v;
	size_t n;
};

static void saved_release(struct saved_triggers *s)
{
	for (size_t i = 0; i < s->n; i++)
		for (int k = 0; k < T_NF; k++)
			free(s->v[i].f[k]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static struct saved_trigger *saved_add(struct saved_triggers *s)
{
	s->v = sl_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	return &s->v[s->n++];
}

static void put_field(struct sl_buf *b, const char *name, const char *v, size_t len)
{
	sl_buf_addf(b, "%s %zu\n", name, len);
	sl_buf_add(b, v, len);
	sl_buf_addc(b, '\n');
}

static int saved_write(const char *path, const struct saved_triggers *s, struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	sl_buf_adds(&b, "# sluice switchover: the source's triggers on the migrated tables, saved and\n"
		    "# dropped at step 7 (reverse replay carries the rows they would write); sluice\n"
		    "# switchover --rollback or a switch back creates them again. Each field is\n"
		    "# \"<name> <bytes>\", a newline, those bytes, a newline.\n");
	sl_buf_addf(&b, "sluice-source-triggers 1\ntriggers %zu\n", s->n);
	for (size_t i = 0; i < s->n; i++)
		for (int k = 0; k < T_NF; k++)
			put_field(&b, tfield[k], s->v[i].f[k], s->v[i].len[k]);
	sl_buf_adds(&b, "end\n");
	rc = sl_write_file_atomic(path, b.data, b.len, 0600, err);
	sl_buf_release(&b);
	return rc;
}

/* A line of p (from *pos): its text into line[n] without the newline. */
static int get_line(const char *p, size_t len, size_t *pos, char *line, size_t n)
{
	const char *nl = memchr(p + *pos, '\n', len - *pos);
	size_t l;

	if (!nl || (l = (size_t)(nl - (p + *pos))) >= n)
		return -1;
	memcpy(line, p + *pos, l);
	line[l] = 0;
	*pos += l + 1;
	return 0;
}

static int saved_parse(const char *path, const char *p, size_t len, struct saved_triggers *s,
		       struct sl_err *err)
{
	char line[128], *end;
	size_t pos = 0, at;
	unsigned long long n;

	memset(s, 0, sizeof(*s));
	while (pos < len && p[pos] == '#') {
		const char *nl = memchr(p + pos, '\n', len - pos);

		if (!nl)
			break;
		pos = (size_t)(nl - p) + 1;
	}
	at = pos;
	if (get_line(p, len, &pos, line, sizeof(line)) || strcmp(line, "sluice-source-triggers 1"))
		goto bad;
	at = pos;
	if (get_line(p, len, &pos, line, sizeof(line)) || strncmp(line, "triggers ", 9))
		goto bad;
	n = strtoull(line + 9, &end, 10);
	if (*end || n > len)
		goto bad;
	for (unsigned long long i = 0; i < n; i++) {
		struct saved_trigger *t = saved_add(s);

		for (int k = 0; k < T_NF; k++) {
			size_t nl = strlen(tfield[k]);
			unsigned long long fl;

			at = pos;
			if (get_line(p, len, &pos, line, sizeof(line)) || strncmp(line, tfield[k], nl) ||
			    line[nl] != ' ')
				goto bad_field;
			fl = strtoull(line + nl + 1, &end, 10);
			if (*end || fl > len - pos || len - pos - fl < 1 || p[pos + fl] != '\n')
				goto bad_field;
			t->f[k] = sl_xstrndup(p + pos, (size_t)fl);
			t->len[k] = (size_t)fl;
			pos += (size_t)fl + 1;
			continue;
bad_field:
			saved_release(s);
			return sl_err_set(err, -SL_ECORRUPT, "'%s': offset %zu: trigger %llu: field '%s' "
					  "expected", path, at, i + 1, tfield[k]);
		}
	}
	at = pos;
	if (get_line(p, len, &pos, line, sizeof(line)) || strcmp(line, "end") || pos != len)
		goto bad;
	return 0;
bad:
	saved_release(s);
	return sl_err_set(err, -SL_ECORRUPT, "'%s': offset %zu: not a saved-triggers file of this "
			  "version", path, at);
}

/* 1 and s filled when path is there, 0 when not. */
static int saved_read(const char *path, struct saved_triggers *s, struct sl_err *err)
{
	FILE *f = fopen(path, "re");
	struct sl_buf b = SL_BUF_INIT(MIG_TRIGGERS_MAX);
	char chunk[65536];
	size_t n;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!f) {
		int e = errno;

		return e == ENOENT ? 0 : sl_err_set(err, -e, "cannot read '%s': %s", path, strerror(e));
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (sl_buf_add(&b, chunk, n)) {
			rc = sl_err_set(err, -SL_ETOOBIG, "'%s': larger than %zu bytes", path,
					(size_t)MIG_TRIGGERS_MAX);
			goto out;
		}
	if (ferror(f)) {
		rc = sl_err_set(err, -EIO, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	rc = saved_parse(path, b.data ? (const char *)b.data : "", b.len, s, err);
	rc = rc ? rc : 1;
out:
	fclose(f);
	sl_buf_release(&b);
	return rc;
}

/* The source's triggers on migrated tables, in the order each table fires
 * them, with what SHOW CREATE TRIGGER says of each. */
static int source_triggers(MYSQL *src, const char *who, const struct snap_objs *o,
			   struct saved_triggers *s, struct sl_err *err)
{
	static const char list[] =
		"SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
		"ORDER BY EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, "
		"ACTION_ORDER";
	static const char cs[] = "SELECT IFNULL(@@SESSION.character_set_results, @@character_set_system)";
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL_RES *res = NULL, *one = NULL;
	MYSQL_ROW row;
	char *text_cs = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	/* SHOW CREATE TRIGGER's text comes in the session's result charset */
	if ((rc = query(src, who, cs, sizeof(cs) - 1, &res, err)))
		goto out;
	row = mysql_fetch_row(res);
	text_cs = sl_xstrdup(row && row[0] ? row[0] : "utf8mb3");
	mysql_free_result(res);
	if ((rc = query(src, who, list, sizeof(list) - 1, &res, err)))
		goto out;
	while ((row = mysql_fetch_row(res))) {
		struct saved_trigger *t;
		MYSQL_ROW c;
		unsigned long *len;
		/* SHOW CREATE TRIGGER: Trigger, sql_mode, SQL Original Statement,
		 * character_set_client, collation_connection, Database Collation */
		static const int col[T_NF] = { -1, -1, -1, 1, 3, 4, 5, -1, 2 };

		if (!row[0] || !row[1] || !row[2] || !migrated(o, row[0], row[2]))
			continue;
		sl_buf_reset(&q);
		sl_buf_adds(&q, "SHOW CREATE TRIGGER ");
		fmt_sql_ident(&q, row[0]);
		sl_buf_addc(&q, '.');
		fmt_sql_ident(&q, row[1]);
		if ((rc = query(src, who, sl_buf_cstr(&q), q.len, &one, err))) {
			sl_err_prefix(err, "trigger `%s`.`%s`", row[0], row[1]);
			goto out;
		}
		if (!(c = mysql_fetch_row(one)) || mysql_num_fields(one) < 6 || !c[2]) {
			rc = sl_err_set(err, -SL_EDB, "trigger `%s`.`%s`: SHOW CREATE TRIGGER on %s gave "
					"no statement", row[0], row[1], who);
			goto out;
		}
		len = mysql_fetch_lengths(one);
		t = saved_add(s);
		t->f[T_DB] = sl_xstrdup(row[0]);
		t->f[T_TABLE] = sl_xstrdup(row[2]);
		t->f[T_NAME] = sl_xstrdup(row[1]);
		t->f[T_TEXT_CS] = sl_xstrdup(text_cs);
		for (int k = 0; k < T_NF; k++) {
			if (col[k] >= 0)
				t->f[k] = sl_xstrndup(c[col[k]] ? c[col[k]] : "",
						      c[col[k]] ? len[col[k]] : 0);
			t->len[k] = strlen(t->f[k]);
		}
		t->len[T_STMT] = len[2];	/* the body as is, even past a NUL */
		mysql_free_result(one);
		one = NULL;
	}
out:
	if (one)
		mysql_free_result(one);
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	free(text_cs);
	if (rc)
		saved_release(s);
	return rc;
}

static char *triggers_path(const char *rdir)
{
	return sl_xasprintf("%s/%s", rdir, MIG_TRIGGERS_FILE);
}

int mig__source_triggers_park(const char *dir, const char *rdir, MYSQL *src,
			      struct mig_objects_result *r, struct sl_err *err)
{
	char sw[300], *path = triggers_path(rdir);
	struct saved_triggers s = { 0 };
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	who_of(src, "source", sw, sizeof(sw));
	if ((rc = saved_read(path, &s, err)) < 0)
		goto out;
	if (rc == 0) {	/* the first time: save them, durably, before any is dropped */
		struct snap_objs o;

		if ((rc = snap_objs_read(dir, &o, err)))
			goto out;
		rc = source_triggers(src, sw, &o, &s, err);
		snap_objs_release(&o);
		if (rc)
			goto out;
		if (mkdir(rdir, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			rc = sl_err_set(err, -e, "cannot create '%s': %s", rdir, strerror(e));
			goto out;
		}
		if ((rc = saved_write(path, &s, err)))
			goto out;
		r->saved += s.n;
	}
	rc = 0;
	for (size_t i = 0; i < s.n && !rc; i++) {
		const struct saved_trigger *t = &s.v[i];

		rc = trigger_exists(src, sw, t->f[T_DB], t->f[T_NAME], err);
		if (rc == 1) {
			sl_buf_reset(&q);
			sl_buf_adds(&q, "DROP TRIGGER ");
			fmt_sql_ident(&q, t->f[T_DB]);
			sl_buf_addc(&q, '.');
			fmt_sql_ident(&q, t->f[T_NAME]);
			if (!(rc = run_buf(src, sw, &q, err))) {
				r->dropped++;
				sl_log(SL_INFO, "migrate", "trigger `%s`.`%s` on `%s` dropped on %s (saved in "
				       "'%s')", t->f[T_DB], t->f[T_NAME], t->f[T_TABLE], sw, path);
			}
		}
		if (rc < 0)
			sl_err_prefix(err, "trigger `%s`.`%s`", t->f[T_DB], t->f[T_NAME]);
	}
	end_reads(src);
out:
	saved_release(&s);
	sl_buf_release(&q);
	free(path);
	return rc;
}

static int ascii_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/* CREATE TRIGGER t as it was saved: its sql_mode, its character set (the
 * client's as saved when the text reads the same in it; else the text's
 * own, which keeps every character and changes only what SHOW CREATE
 * TRIGGER reports), in its database, with its definer. */
static int create_saved(MYSQL *src, const char *who, const struct saved_trigger *t,
			struct sl_err *err)
{
	const char *cs = t->f[T_CS_CLIENT];
	int rc;

	if (strcmp(cs, t->f[T_TEXT_CS]) && !ascii_only(t->f[T_STMT], t->len[T_STMT])) {
		sl_log(SL_WARN, "migrate", "trigger `%s`.`%s`: created with character_set_client %s "
		       "(its text's; it had %s)", t->f[T_DB], t->f[T_NAME], t->f[T_TEXT_CS], cs);
		cs = t->f[T_TEXT_CS];
	}
	if ((rc = session_set(src, who, t->f[T_SQL_MODE], cs, t->f[T_COLL_CONN], err)) ||
	    (rc = use_db(src, who, t->f[T_DB], err)))
		return rc;
	return run(src, who, t->f[T_STMT], t->len[T_STMT], err);
}

int mig__source_triggers_restore(const char *rdir, MYSQL *src, struct mig_objects_result *r,
				 struct sl_err *err)
{
	char sw[300], *path = triggers_path(rdir), *done = NULL;
	struct saved_triggers s = { 0 };
	struct session ss = { 0 };
	int rc;

	who_of(src, "source", sw, sizeof(sw));
	if ((rc = saved_read(path, &s, err)) <= 0)
		goto out;
	if ((rc = session_save(src, sw, &ss, err)))
		goto out;
	rc = 0;
	for (size_t i = 0; i < s.n && !rc; i++) {
		const struct saved_trigger *t = &s.v[i];

		rc = trigger_exists(src, sw, t->f[T_DB], t->f[T_NAME], err);
		if (rc == 1) {
			r->present++;
			rc = 0;
		} else if (rc == 0 && !(rc = create_saved(src, sw, t, err))) {
			r->restored++;
			sl_log(SL_INFO, "migrate", "trigger `%s`.`%s` on `%s` created again on %s",
			       t->f[T_DB], t->f[T_NAME], t->f[T_TABLE], sw);
		}
		if (rc)
			sl_err_prefix(err, "trigger `%s`.`%s` (saved in '%s')", t->f[T_DB], t->f[T_NAME],
				      path);
	}
	end_reads(src);
	if ((rc = session_restore(src, sw, &ss, rc, err)))
		goto out;
	done = sl_xasprintf("%s.restored", path);
	if (rename(path, done) < 0) {
		int e = errno;

		rc = sl_err_set(err, -e, "cannot rename '%s' to '%s': %s", path, done, strerror(e));
		goto out;
	}
	rc = sl_fsync_dir(rdir, err);
out:
	session_restore(src, sw, &ss, rc, err);
	saved_release(&s);
	free(path);
	free(done);
	return rc;
}
