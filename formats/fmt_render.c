/* fmt_render.c - records as inspect prints them: mysqlbinlog-style text or one JSON object per transaction, DDL, heartbeat, schema object, snapshot chunk, snapshot begin or end. */
#include "fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banned.h"

void fmt_render_init(struct fmt_render *o, int json)
{
	memset(o, 0, sizeof(*o));
	o->json = json;
	sl_buf_init(&o->b, SL_BUF_UNLIMITED);
	fmt_tables_init(&o->tables);
}

void fmt_render_release(struct fmt_render *o)
{
	sl_buf_release(&o->b);
	fmt_tables_release(&o->tables);
	free(o->use_db);
	o->use_db = NULL;
}

static void put_time(struct sl_buf *b, uint64_t t)
{
	char ts[32];
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sl_buf_adds(b, ts);
}

static void put_position_json(struct sl_buf *b, const Sluice__Position *p)
{
	if (!p) {
		sl_buf_adds(b, "null");
		return;
	}
	sl_buf_adds(b, "{\"file\":");
	fmt_json_str(b, p->file, strlen(p->file));
	sl_buf_addf(b, ",\"offset\":%llu,\"gtid\":", (unsigned long long)p->offset);
	fmt_json_str(b, p->gtid, strlen(p->gtid));
	sl_buf_addf(b, ",\"server_id\":%u}", p->server_id);
}

/* Columns absent from a partial image (binlog_row_image=MINIMAL/NOBLOB)
 * are left out: no key in JSON, no line in text, where the others keep
 * their @N (as mysqlbinlog -vv prints them). */
static void put_row_json(struct sl_buf *b, const Sluice__TableDef *t, const Sluice__Row *r)
{
	int first = 1;

	sl_buf_addc(b, '{');
	for (size_t i = 0; r && i < r->n_values; i++) {
		const Sluice__ColumnDef *c = t && i < t->n_columns ? t->columns[i] : NULL;
		char name[32];

		if (fmt_value_absent(r->values[i]))
			continue;
		if (!first)
			sl_buf_addc(b, ',');
		first = 0;
		if (c)
			fmt_json_str(b, c->name, strlen(c->name));
		else {
			snprintf(name, sizeof(name), "@%zu", i + 1);
			fmt_json_str(b, name, strlen(name));
		}
		sl_buf_addc(b, ':');
		fmt_value_json(r->values[i], c, b);
	}
	sl_buf_addc(b, '}');
}

static void put_row_text(struct sl_buf *b, const Sluice__TableDef *t, const Sluice__Row *r)
{
	for (size_t i = 0; r && i < r->n_values; i++) {
		const Sluice__ColumnDef *c = t && i < t->n_columns ? t->columns[i] : NULL;

		if (fmt_value_absent(r->values[i]))
			continue;
		sl_buf_addf(b, "###   @%zu=", i + 1);
		fmt_value_text(r->values[i], c, b);
		if (c) {
			sl_buf_adds(b, " /* ");
			fmt_sql_ident(b, c->name);
			sl_buf_adds(b, " */");
		}
		sl_buf_addc(b, '\n');
	}
}

static void print_row(struct fmt_render *o, const Sluice__RowChange *rc)
{
	static const char *ops[] = { "insert", "update", "delete" };
	const Sluice__TableDef *t = fmt_tables_get(&o->tables, rc->table_ref);
	const char *db = t ? t->db : "?", *name = t ? t->name : "?";
	unsigned op = (unsigned)rc->op <= 2 ? (unsigned)rc->op : 0;

	if (o->json) {
		if (o->nchanges++)
			sl_buf_addc(&o->b, ',');
		sl_buf_addf(&o->b, "{\"op\":\"%s\",\"db\":", ops[op]);
		fmt_json_str(&o->b, db, strlen(db));
		sl_buf_adds(&o->b, ",\"table\":");
		fmt_json_str(&o->b, name, strlen(name));
		if (rc->before) {
			sl_buf_adds(&o->b, ",\"before\":");
			put_row_json(&o->b, t, rc->before);
		}
		if (rc->after) {
			sl_buf_adds(&o->b, ",\"after\":");
			put_row_json(&o->b, t, rc->after);
		}
		sl_buf_addc(&o->b, '}');
	} else {
		static const char *verbs[] = { "INSERT INTO", "UPDATE", "DELETE FROM" };

		sl_buf_addf(&o->b, "### %s ", verbs[op]);
		fmt_sql_ident(&o->b, db);
		sl_buf_addc(&o->b, '.');
		fmt_sql_ident(&o->b, name);
		sl_buf_addc(&o->b, '\n');
		if (rc->before) {
			sl_buf_adds(&o->b, "### WHERE\n");
			put_row_text(&o->b, t, rc->before);
		}
		if (rc->after) {
			sl_buf_adds(&o->b, "### SET\n");
			put_row_text(&o->b, t, rc->after);
		}
	}
	o->nchanges += o->json ? 0 : 1;
}

#define REDACTED "account statement redacted"

/* ---- snapshot streams ---- */

const char *fmt_schema_kind_name(int kind)
{
	static const char *names[] = { "database", "table", "view", "trigger", "foreign_key",
				       "routine", "event" };

	return kind >= 0 && (size_t)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

char *fmt_schema_object_label(int kind, const char *db, const char *name, const char *table)
{
	const char *word = kind == SLUICE__SCHEMA_OBJECT__KIND__FOREIGN_KEY ? "foreign key"
			   : fmt_schema_kind_name(kind);

	if (kind == SLUICE__SCHEMA_OBJECT__KIND__DATABASE)
		return sl_xasprintf("database `%s`", db);
	if (table && table[0])
		return sl_xasprintf("%s `%s`.`%s` on `%s`", word, db, name, table);
	return sl_xasprintf("%s `%s`.`%s`", word, db, name);
}

/* Each line of s as a "-- " comment line (after prefix on the first). */
static void put_comment_lines(struct sl_buf *b, const char *prefix, const char *s)
{
	const char *p = s;

	sl_buf_addf(b, "-- %s", prefix);
	while (*p) {
		const char *nl = strpbrk(p, "\r\n");	/* every line break opens a new comment */
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		sl_buf_add(b, p, n);
		if (!nl)
			break;
		sl_buf_adds(b, "\n--   ");
		p = nl + 1;
	}
	sl_buf_addc(b, '\n');
}

/* The statement without the white space and ";" it may end with. */
static size_t stmt_len(const char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == ';' || s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' ||
		     s[n - 1] == '\r'))
		n--;
	return n;
}

/* The object's name for a "-- " comment line: a line break in a quoted
 * name would end the comment and run the rest, so it becomes a space. */
static void put_schema_name(struct sl_buf *b, const Sluice__SchemaObject *so)
{
	size_t from = b->len;

	fmt_sql_ident(b, so->db);
	if (so->name[0]) {
		sl_buf_addc(b, '.');
		fmt_sql_ident(b, so->name);
	}
	if (so->table[0]) {
		sl_buf_adds(b, " on ");
		fmt_sql_ident(b, so->table);
	}
	for (size_t i = from; i < b->len; i++)
		if (b->data[i] == '\n' || b->data[i] == '\r')
			b->data[i] = ' ';
}

/* sql_mode names MariaDB has and MySQL 8 (and OceanBase's MySQL mode) does not. */
static const char *const mariadb_only_modes[] = {
	"POSTGRESQL", "ORACLE", "MSSQL", "DB2", "MAXDB", "NO_KEY_OPTIONS", "NO_TABLE_OPTIONS",
	"NO_FIELD_OPTIONS", "MYSQL323", "MYSQL40", "NO_AUTO_CREATE_USER", "EMPTY_STRING_IS_NULL",
	"SIMULTANEOUS_ASSIGNMENT", "TIME_ROUND_FRACTIONAL",
};

/* SET ... sql_mode for a stored program: its recorded mode, without the
 * names a MySQL-dialect destination would refuse (the SET would stop a
 * client running the printed schema). Names only: printed as is. */
static void put_sql_mode(struct sl_buf *b, const Sluice__SchemaObject *so)
{
	int mysql = !strcmp(so->dest_dialect, "mysql") || !strcmp(so->dest_dialect, "oceanbase");
	char *names = sl_xstrdup(so->sql_mode), *p = names;
	struct sl_buf m = SL_BUF_INIT(SL_BUF_UNLIMITED);

	while (p) {
		char *comma = strchr(p, ',');
		int drop = 0;

		if (comma)
			*comma = 0;
		for (size_t i = 0; mysql && i < sizeof(mariadb_only_modes) / sizeof(char *); i++)
			drop |= !strcmp(p, mariadb_only_modes[i]);
		if (*p && !drop) {
			if (m.len)
				sl_buf_addc(&m, ',');
			sl_buf_adds(&m, p);
		}
		p = comma ? comma + 1 : NULL;
	}
	sl_buf_adds(b, "SET @sluice_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = ");
	if (strspn(sl_buf_cstr(&m), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789_,") == m.len)
		sl_buf_addf(b, "'%s'", sl_buf_cstr(&m));
	else
		fmt_sql_str(b, sl_buf_cstr(&m));
	sl_buf_adds(b, ";\n");
	sl_buf_release(&m);
	free(names);
}

void fmt_render_schema_sql(struct fmt_render *o, const Sluice__SchemaObject *so)
{
	static const char *delims[] = { ";;", "$$", "//", "@@@@" };
	struct sl_buf *b = &o->b;
	size_t n = stmt_len(so->statement);
	const char *delim = NULL;

	sl_buf_addf(b, "-- %u. %s ", so->order, fmt_schema_kind_name(so->kind));
	put_schema_name(b, so);
	if (so->dest_dialect[0])
		sl_buf_addf(b, " (for %s)", so->dest_dialect);
	sl_buf_addc(b, '\n');
	if (so->deferred)
		sl_buf_adds(b, "-- deferred to switchover\n");
	for (size_t i = 0; i < so->n_conversions; i++)
		put_comment_lines(b, "conversion: ", so->conversions[i]);
	if (so->source_statement[0])
		put_comment_lines(b, "source: ", so->source_statement);
	if (so->kind != SLUICE__SCHEMA_OBJECT__KIND__DATABASE && so->db[0] &&
	    (!o->use_db || strcmp(o->use_db, so->db))) {
		sl_buf_adds(b, "USE ");
		fmt_sql_ident(b, so->db);
		sl_buf_adds(b, ";\n");
		free(o->use_db);
		o->use_db = sl_xstrdup(so->db);
	}
	if (so->kind == SLUICE__SCHEMA_OBJECT__KIND__TRIGGER ||
	    so->kind == SLUICE__SCHEMA_OBJECT__KIND__ROUTINE ||
	    so->kind == SLUICE__SCHEMA_OBJECT__KIND__EVENT) {
		/* a body holds ";": end the statement with a delimiter it does not hold */
		for (size_t i = 0; i < sizeof(delims) / sizeof(delims[0]) && !delim; i++)
			if (!memmem(so->statement, n, delims[i], strlen(delims[i])))
				delim = delims[i];
	}
	/* a stored program is parsed under its own sql_mode (|| under
	 * PIPES_AS_CONCAT): set for it alone, the client's set back after */
	if (delim && so->sql_mode && so->sql_mode[0])
		put_sql_mode(b, so);
	if (delim) {
		sl_buf_addf(b, "DELIMITER %s\n", delim);
		sl_buf_add(b, so->statement, n);
		sl_buf_addf(b, "%s\nDELIMITER ;\n", delim);
		if (so->sql_mode && so->sql_mode[0])
			sl_buf_adds(b, "SET SESSION sql_mode = @sluice_sql_mode;\n");
	} else {
		sl_buf_add(b, so->statement, n);
		sl_buf_adds(b, ";\n");
	}
}

static void put_json_field(struct sl_buf *b, const char *key, const char *s)
{
	sl_buf_addf(b, ",\"%s\":", key);
	fmt_json_str(b, s, strlen(s));
}

static void render_schema(struct fmt_render *o, const Sluice__SchemaObject *so, uint64_t seq,
			  uint64_t offset)
{
	struct sl_buf *b = &o->b;

	if (!o->json) {
		sl_buf_addf(b, "# segment %llu offset %llu\n", (unsigned long long)seq,
			    (unsigned long long)offset);
		fmt_render_schema_sql(o, so);
		return;
	}
	sl_buf_addf(b, "{\"type\":\"schema\",\"kind\":\"%s\",\"order\":%u",
		    fmt_schema_kind_name(so->kind), so->order);
	put_json_field(b, "db", so->db);
	put_json_field(b, "name", so->name);
	if (so->table[0])
		put_json_field(b, "table", so->table);
	if (so->deferred)
		sl_buf_adds(b, ",\"deferred\":\"switchover\"");
	if (so->dest_dialect[0])
		put_json_field(b, "dest_dialect", so->dest_dialect);
	if (so->sql_mode && so->sql_mode[0])
		put_json_field(b, "sql_mode", so->sql_mode);
	put_json_field(b, "statement", so->statement);
	if (so->source_statement[0])
		put_json_field(b, "source_statement", so->source_statement);
	sl_buf_adds(b, ",\"conversions\":[");
	for (size_t i = 0; i < so->n_conversions; i++) {
		if (i)
			sl_buf_addc(b, ',');
		fmt_json_str(b, so->conversions[i], strlen(so->conversions[i]));
	}
	sl_buf_addf(b, "],\"segment\":%llu,\"offset\":%llu}\n", (unsigned long long)seq,
		    (unsigned long long)offset);
}

static void render_chunk(struct fmt_render *o, const Sluice__SnapshotChunk *c, uint64_t seq,
			 uint64_t offset)
{
	struct sl_buf *b = &o->b;

	o->in_txn = 1;
	o->nchanges = 0;
	if (o->json) {
		sl_buf_adds(b, "{\"type\":\"chunk\"");
		put_json_field(b, "db", c->db);
		put_json_field(b, "table", c->table);
		sl_buf_addf(b, ",\"index\":%llu,\"run\":%u", (unsigned long long)c->index, c->run);
		put_json_field(b, "where", c->where);
		if (c->restart)
			sl_buf_adds(b, ",\"restart\":true");
		sl_buf_addf(b, ",\"segment\":%llu,\"offset\":%llu,\"changes\":[",
			    (unsigned long long)seq, (unsigned long long)offset);
	} else {
		sl_buf_addf(b, "# segment %llu offset %llu\n# chunk %llu of ", (unsigned long long)seq,
			    (unsigned long long)offset, (unsigned long long)c->index);
		fmt_sql_ident(b, c->db);
		sl_buf_addc(b, '.');
		fmt_sql_ident(b, c->table);
		sl_buf_addf(b, " (run %u%s) WHERE %s\n", c->run,
			    c->restart ? ", the table read again from its start" : "", c->where);
	}
}

static void render_chunk_end(struct fmt_render *o, const Sluice__SnapshotChunkEnd *e)
{
	struct sl_buf *b = &o->b;

	if (o->json) {
		sl_buf_addf(b, "],\"rows\":%llu,\"bytes\":%llu,\"table_done\":%s",
			    (unsigned long long)e->rows, (unsigned long long)e->bytes,
			    e->table_done ? "true" : "false");
		put_json_field(b, "next_where", e->next_where);
		sl_buf_adds(b, "}\n");
	} else {
		sl_buf_addf(b, "# chunk end: %llu rows, %llu bytes", (unsigned long long)e->rows,
			    (unsigned long long)e->bytes);
		if (e->table_done)
			sl_buf_adds(b, ", table done\n");
		else if (e->next_where[0])
			sl_buf_addf(b, ", next WHERE %s\n", e->next_where);
		else
			sl_buf_addc(b, '\n');
	}
	o->in_txn = 0;
}

static void render_snapshot_begin(struct fmt_render *o, const Sluice__SnapshotBegin *sb,
				  uint64_t seq, uint64_t offset)
{
	struct sl_buf *b = &o->b;
	char pos[512];

	if (o->json) {
		sl_buf_addf(b, "{\"type\":\"snapshot_begin\",\"run\":%u,\"tables\":%u,"
			    "\"estimated_rows\":%llu,\"time\":%llu,\"segment\":%llu,\"offset\":%llu,"
			    "\"position\":", sb->run, sb->tables, (unsigned long long)sb->estimated_rows,
			    (unsigned long long)sb->time, (unsigned long long)seq,
			    (unsigned long long)offset);
		put_position_json(b, sb->position);
		sl_buf_adds(b, "}\n");
	} else {
		sl_buf_addf(b, "# segment %llu offset %llu\n# snapshot run %u at %s, ",
			    (unsigned long long)seq, (unsigned long long)offset, sb->run,
			    fmt_position_str(sb->position, pos, sizeof(pos)));
		put_time(b, sb->time);
		sl_buf_addf(b, ": %u tables, about %llu rows\n", sb->tables,
			    (unsigned long long)sb->estimated_rows);
	}
}

static void render_snapshot_end(struct fmt_render *o, const Sluice__SnapshotEnd *se,
				uint64_t seq, uint64_t offset)
{
	struct sl_buf *b = &o->b;
	char pos[512];

	if (o->json) {
		sl_buf_addf(b, "{\"type\":\"snapshot_end\",\"tables\":%u,\"rows\":%llu,\"time\":%llu,"
			    "\"segment\":%llu,\"offset\":%llu,\"position\":", se->tables,
			    (unsigned long long)se->rows, (unsigned long long)se->time,
			    (unsigned long long)seq, (unsigned long long)offset);
		put_position_json(b, se->position);
		sl_buf_adds(b, "}\n");
	} else {
		sl_buf_addf(b, "# segment %llu offset %llu\n# snapshot end at %s, ",
			    (unsigned long long)seq, (unsigned long long)offset,
			    fmt_position_str(se->position, pos, sizeof(pos)));
		put_time(b, se->time);
		sl_buf_addf(b, ": %u tables, %llu rows; changes up to here are applied in safe mode\n",
			    se->tables, (unsigned long long)se->rows);
	}
}

void fmt_render_record(struct fmt_render *o, const Sluice__Record *r, uint64_t seq, uint64_t offset)
{
	char pos[512];
	struct sl_buf *b = &o->b;
	enum fmt_stmt_kind kind;
	const char *stmt;

	switch (r->body_case) {
	case SLUICE__RECORD__BODY_BEGIN:
		o->in_txn = 1;
		o->nchanges = 0;
		if (o->json) {
			sl_buf_adds(b, "{\"type\":\"transaction\",\"gtid\":");
			fmt_json_str(b, r->begin->gtid, strlen(r->begin->gtid));
			sl_buf_addf(b, ",\"time\":%llu,\"server_id\":%u,\"segment\":%llu,\"offset\":%llu,\"changes\":[",
				    (unsigned long long)r->begin->time, r->begin->server_id,
				    (unsigned long long)seq, (unsigned long long)offset);
		} else {
			sl_buf_addf(b, "# segment %llu offset %llu\nBEGIN /* gtid %s, ",
				    (unsigned long long)seq, (unsigned long long)offset,
				    r->begin->gtid[0] ? r->begin->gtid : "-");
			put_time(b, r->begin->time);
			sl_buf_adds(b, " */\n");
		}
		break;
	case SLUICE__RECORD__BODY_TABLE:
		fmt_tables_put(&o->tables, r->table);
		break;
	case SLUICE__RECORD__BODY_ROW:
		print_row(o, r->row);
		break;
	case SLUICE__RECORD__BODY_COMMIT:
		if (o->json) {
			sl_buf_addf(b, "],\"rows\":%llu,\"position\":", (unsigned long long)r->commit->rows);
			put_position_json(b, r->commit->position);
			sl_buf_adds(b, "}\n");
		} else {
			sl_buf_addf(b, "COMMIT /* %llu rows, end %s */\n",
				    (unsigned long long)r->commit->rows,
				    fmt_position_str(r->commit->position, pos, sizeof(pos)));
		}
		o->in_txn = 0;
		break;
	case SLUICE__RECORD__BODY_DDL:
		kind = fmt_stmt_classify(r->ddl->statement, strlen(r->ddl->statement));
		/* an account statement from an older capture: never printed */
		stmt = kind == FMT_STMT_ACCOUNT ? REDACTED : r->ddl->statement;
		if (o->json) {
			sl_buf_adds(b, "{\"type\":\"ddl\",\"db\":");
			fmt_json_str(b, r->ddl->db, strlen(r->ddl->db));
			sl_buf_adds(b, ",\"statement\":");
			fmt_json_str(b, stmt, strlen(stmt));
			if (kind == FMT_STMT_TRIGGER)
				sl_buf_adds(b, ",\"kind\":\"trigger\",\"deferred\":\"switchover\"");
			else if (kind == FMT_STMT_ACCOUNT)
				sl_buf_adds(b, ",\"kind\":\"account\",\"redacted\":true");
			else if (kind == FMT_STMT_DML)
				sl_buf_adds(b, ",\"kind\":\"statement_dml\"");
			sl_buf_addf(b, ",\"time\":%llu,\"segment\":%llu,\"offset\":%llu,\"position\":",
				    (unsigned long long)r->ddl->time, (unsigned long long)seq,
				    (unsigned long long)offset);
			put_position_json(b, r->ddl->position);
			sl_buf_adds(b, "}\n");
		} else {
			sl_buf_addf(b, "# segment %llu offset %llu, ", (unsigned long long)seq,
				    (unsigned long long)offset);
			put_time(b, r->ddl->time);
			sl_buf_addf(b, ", end %s\n", fmt_position_str(r->ddl->position, pos, sizeof(pos)));
			if (kind == FMT_STMT_TRIGGER)
				sl_buf_adds(b, "# trigger: deferred to switchover, not run by replay\n");
			else if (kind == FMT_STMT_ACCOUNT || kind == FMT_STMT_DML)
				sl_buf_addf(b, "# %s: replay refuses it\n", fmt_stmt_kind_name(kind));
			if (r->ddl->db[0]) {
				sl_buf_adds(b, "USE ");
				fmt_sql_ident(b, r->ddl->db);
				sl_buf_adds(b, ";\n");
			}
			if (kind == FMT_STMT_ACCOUNT)
				sl_buf_addf(b, "/* %s */\n", stmt);
			else
				sl_buf_addf(b, "%s;\n", stmt);
		}
		break;
	case SLUICE__RECORD__BODY_HEARTBEAT:
		if (o->json) {
			sl_buf_addf(b, "{\"type\":\"heartbeat\",\"time\":%llu,",
				    (unsigned long long)r->heartbeat->time);
			if (r->heartbeat->account_statements)
				sl_buf_addf(b, "\"account_statements_left_out\":%llu,",
					    (unsigned long long)r->heartbeat->account_statements);
			if (r->heartbeat->replayed_transactions)
				sl_buf_addf(b, "\"replayed_transactions_left_out\":%llu,",
					    (unsigned long long)r->heartbeat->replayed_transactions);
			if (r->heartbeat->replayed_ddls)
				sl_buf_addf(b, "\"replayed_ddls_left_out\":%llu,",
					    (unsigned long long)r->heartbeat->replayed_ddls);
			sl_buf_adds(b, "\"position\":");
			put_position_json(b, r->heartbeat->position);
			sl_buf_adds(b, "}\n");
		} else {
			sl_buf_addf(b, "# heartbeat at %s, ",
				    fmt_position_str(r->heartbeat->position, pos, sizeof(pos)));
			put_time(b, r->heartbeat->time);
			if (r->heartbeat->account_statements)
				sl_buf_addf(b, ", %llu account statement(s) left out (never written)",
					    (unsigned long long)r->heartbeat->account_statements);
			if (r->heartbeat->replayed_transactions || r->heartbeat->replayed_ddls)
				sl_buf_addf(b, ", %llu transaction(s) and %llu DDL written by sluice "
					    "replay left out",
					    (unsigned long long)r->heartbeat->replayed_transactions,
					    (unsigned long long)r->heartbeat->replayed_ddls);
			sl_buf_addc(b, '\n');
		}
		break;
	case SLUICE__RECORD__BODY_SCHEMA:
		render_schema(o, r->schema, seq, offset);
		break;
	case SLUICE__RECORD__BODY_SNAPSHOT_BEGIN:
		render_snapshot_begin(o, r->snapshot_begin, seq, offset);
		break;
	case SLUICE__RECORD__BODY_CHUNK:
		render_chunk(o, r->chunk, seq, offset);
		break;
	case SLUICE__RECORD__BODY_CHUNK_END:
		render_chunk_end(o, r->chunk_end);
		break;
	case SLUICE__RECORD__BODY_SNAPSHOT_END:
		render_snapshot_end(o, r->snapshot_end, seq, offset);
		break;
	default:
		break;
	}
}
