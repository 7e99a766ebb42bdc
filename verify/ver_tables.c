/* ver_tables.c - table selection and pairing, schema introspection and comparison. */
#include "ver_int.h"
#include "fmt.h"

#include <stdlib.h>
#include <string.h>
#include "banned.h"

static const char sysdbs[] = "('mysql','information_schema','performance_schema','sys','sluice')";


/* ---- patterns and maps ---- */

/* the matcher is common/sl_name.c's, shared with snapshot and migrate */
int ver_pattern_match(const char *pattern, const char *schema, const char *table)
{
	return sl_pattern_match(pattern, schema, table);
}

int ver_patterns_match(const char *list, const char *schema, const char *table)
{
	return sl_patterns_match(list, schema, table);
}

int ver_table_selected(const char *include, const char *exclude, const char *schema,
		       const char *table)
{
	return sl_table_selected(include, exclude, schema, table);
}

void ver_map_name(const char *map, const char *schema, const char *table, char **dschema,
		  char **dtable)
{
	sl_map_name(map, 0, schema, table, dschema, dtable);
}

/* ---- schema ---- */

static int add_strlit(struct sl_buf *b, const char *s)
{
	return ver_sql_literal(b, VER_LIT_STR, "utf8mb4", s, strlen(s));
}

enum ver_enc ver_enc_of(const char *t)
{
	static const char *const num[] = { "tinyint", "smallint", "mediumint", "int", "integer",
		"bigint", "decimal", "numeric", "year", NULL };
	static const char *const tmp[] = { "date", "time", "datetime", "timestamp", NULL };
	static const char *const str[] = { "char", "varchar", "enum", "set", NULL };
	static const char *const bin[] = { "binary", "varbinary", "bit", NULL };

	for (int i = 0; num[i]; i++)
		if (!strcmp(t, num[i]))
			return VER_ENC_NUM;
	if (!strcmp(t, "float") || !strcmp(t, "double") || !strcmp(t, "real"))
		return VER_ENC_FLOAT;
	for (int i = 0; tmp[i]; i++)
		if (!strcmp(t, tmp[i]))
			return VER_ENC_TEMPORAL;
	for (int i = 0; str[i]; i++)
		if (!strcmp(t, str[i]))
			return VER_ENC_STR;
	for (int i = 0; bin[i]; i++)
		if (!strcmp(t, bin[i]))
			return VER_ENC_BIN;
	return VER_ENC_BIG;
}

static enum ver_lit lit_of(const struct ver_col *c)
{
	static const char *const geo[] = { "geometry", "point", "linestring", "polygon",
		"multipoint", "multilinestring", "multipolygon", "geometrycollection",
		"geomcollection", NULL };

	for (int i = 0; geo[i]; i++)
		if (!strcmp(c->data_type, geo[i]))
			return VER_LIT_GEOM;
	if (!strcmp(c->data_type, "json"))
		return VER_LIT_JSON;
	switch (c->enc) {
	case VER_ENC_NUM: return VER_LIT_NUM;
	case VER_ENC_FLOAT: return VER_LIT_FLOAT;
	case VER_ENC_TEMPORAL: return VER_LIT_TEMPORAL;
	case VER_ENC_STR: return VER_LIT_STR;
	case VER_ENC_BIN: return VER_LIT_BIN;
	case VER_ENC_BIG: return c->charset ? VER_LIT_STR : VER_LIT_BIN;
	}
	return VER_LIT_BIN;
}

struct side_def {
	struct ver_col *cols;
	size_t ncols;
	char **idx;		/* "name: UNIQUE (a,b(10))" */
	size_t nidx;
	char **keycols;		/* the chosen key's column names */
	size_t nkey;
};

static char *dupn(const char *s)
{
	return s ? sl_xstrdup(s) : NULL;
}

static void col_release(struct ver_col *c)
{
	free(c->name);
	free(c->data_type);
	free(c->column_type);
	free(c->charset);
	free(c->collation);
	free(c->dflt);
	free(c->extra);
}

static void side_release(struct side_def *s)
{
	for (size_t i = 0; i < s->ncols; i++)
		col_release(&s->cols[i]);
	free(s->cols);
	for (size_t i = 0; i < s->nidx; i++)
		free(s->idx[i]);
	free(s->idx);
	for (size_t i = 0; i < s->nkey; i++)
		free(s->keycols[i]);
	free(s->keycols);
	memset(s, 0, sizeof(*s));
}

static int is_period(char **period, size_t n, const char *name)
{
	for (size_t i = 0; i < n && name; i++)
		if (!strcmp(period[i], name))
			return 1;
	return 0;
}

static int load_side(struct ver_conn *c, const char *db, const char *tbl, struct side_def *s,
		     struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(SL_BUF_UNLIMITED), where = SL_BUF_INIT(SL_BUF_UNLIMITED);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;
	char *cur = NULL, *sig = NULL;
	int cur_unique = 0, cur_ok = 0, have_key = 0;
	size_t cur_start = 0;
	char **names = NULL, **period = NULL;
	size_t nnames = 0, nperiod = 0;

	memset(s, 0, sizeof(*s));
	if ((rc = sl_buf_adds(&where, " WHERE table_schema = ")) || (rc = add_strlit(&where, db)) ||
	    (rc = sl_buf_adds(&where, " AND table_name = ")) || (rc = add_strlit(&where, tbl)))
		goto out;
	/* A system-versioned table (MariaDB) is compared by its current rows,
	 * which a SELECT returns: not by its ROW START / ROW END columns, the
	 * times each side made the row current (replay applies current rows,
	 * README). Implicit ones (row_start, row_end) are not listed here at
	 * all; named ones are, with these generation expressions. */
	sl_buf_addf(&q, "SELECT column_name, data_type, column_type, character_set_name, "
		    "collation_name, column_default, is_nullable, extra, "
		    "IFNULL(character_maximum_length, 0), "
		    "IFNULL(generation_expression, '') IN ('ROW START', 'ROW END') "
		    "FROM information_schema.columns%s ORDER BY ordinal_position", sl_buf_cstr(&where));
	if ((rc = ver__query(c, sl_buf_cstr(&q), &res, err)))
		goto out;
	s->cols = sl_xcalloc(mysql_num_rows(res) + 1, sizeof(*s->cols));
	while ((row = mysql_fetch_row(res))) {
		struct ver_col *col;

		if (row[9] && !strcmp(row[9], "1")) {
			period = sl_xrealloc(period, (nperiod + 1) * sizeof(*period));
			period[nperiod++] = sl_xstrdup(row[0]);
			continue;
		}
		col = &s->cols[s->ncols++];

		col->name = dupn(row[0]);
		col->data_type = dupn(row[1]);
		col->column_type = dupn(row[2]);
		col->charset = dupn(row[3]);
		col->collation = dupn(row[4]);
		col->dflt = dupn(row[5]);
		col->has_default = row[5] != NULL;
		col->nullable = row[6] && !strcmp(row[6], "YES");
		col->extra = dupn(row[7] ? row[7] : "");
		col->maxlen = strtoul(row[8] ? row[8] : "0", NULL, 10);
		col->enc = ver_enc_of(col->data_type);
		col->lit = lit_of(col);
	}
	mysql_free_result(res);
	res = NULL;
	sl_buf_reset(&q);
	sl_buf_addf(&q, "SELECT index_name, non_unique, column_name, sub_part "
		    "FROM information_schema.statistics%s ORDER BY index_name = 'PRIMARY' DESC, "
		    "index_name, seq_in_index", sl_buf_cstr(&where));
	if ((rc = ver__query(c, sl_buf_cstr(&q), &res, err)))
		goto out;
	s->idx = sl_xcalloc(mysql_num_rows(res) + 1, sizeof(char *));
	for (;;) {
		row = mysql_fetch_row(res);
		if (cur && (!row || strcmp(row[0], cur))) {
			/* close the index: keep it as the key if it is the first usable one */
			s->idx[s->nidx++] = sl_xasprintf("%s)", sig);
			free(sig);
			sig = NULL;
			if (!have_key && cur_unique && cur_ok) {
				have_key = 1;
				s->keycols = names;
				s->nkey = nnames;
			} else {
				for (size_t i = 0; i < nnames; i++)
					free(names[i]);
				free(names);
			}
			names = NULL;
			nnames = 0;
			free(cur);
			cur = NULL;
		}
		if (!row)
			break;
		if (is_period(period, nperiod, row[2]))
			continue;	/* ROW END in the key: unique among current rows without it */
		if (!cur) {
			cur = sl_xstrdup(row[0]);
			cur_unique = row[1] && !strcmp(row[1], "0");
			cur_ok = 1;
			sig = sl_xasprintf("%s %s(", cur, cur_unique ? "UNIQUE " : "");
			cur_start = 1;
		}
		{
			char *n = sl_xasprintf("%s%s%s%s%s%s", sig, cur_start ? "" : ",", row[2] ? row[2] : "?",
					       row[3] ? "(" : "", row[3] ? row[3] : "", row[3] ? ")" : "");
			free(sig);
			sig = n;
		}
		cur_start = 0;
		if (row[3] || !row[2])
			cur_ok = 0;
		else {
			for (size_t i = 0; i < s->ncols; i++)
				if (!strcmp(s->cols[i].name, row[2]) && s->cols[i].nullable)
					cur_ok = 0;
		}
		names = sl_xrealloc(names, (nnames + 1) * sizeof(char *));
		names[nnames++] = sl_xstrdup(row[2] ? row[2] : "");
	}
out:
	if (res)
		mysql_free_result(res);
	free(cur);
	free(sig);
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	for (size_t i = 0; i < nperiod; i++)
		free(period[i]);
	free(period);
	sl_buf_release(&q);
	sl_buf_release(&where);
	return rc;
}

static void add_schema_diff(struct ver_diffs *diffs, struct ver_table *t, enum ver_kind kind,
			    char *detail)
{
	struct ver_diff d;

	memset(&d, 0, sizeof(d));
	d.kind = kind;
	d.t = t;
	d.detail = detail;
	ver__diffs_add(diffs, &d);
}

static int streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

#define S(x) ((x) ? (x) : "NULL")

static void compare_schema(struct ver_table *t, struct side_def *a, struct side_def *b,
			   struct ver_diffs *diffs)
{
	for (size_t i = 0; i < a->ncols; i++) {
		struct ver_col *x = &a->cols[i], *y = NULL;
		size_t j;

		for (j = 0; j < b->ncols; j++)
			if (!strcmp(b->cols[j].name, x->name)) {
				y = &b->cols[j];
				break;
			}
		if (!y) {
			add_schema_diff(diffs, t, VER_SCHEMA,
					sl_xasprintf("column `%s` %s only in the source", x->name, x->column_type));
			continue;
		}
		if (i != j)
			add_schema_diff(diffs, t, VER_SCHEMA, sl_xasprintf(
				"column `%s`: position %zu vs %zu", x->name, i + 1, j + 1));
		if (strcmp(x->column_type, y->column_type))
			add_schema_diff(diffs, t, VER_SCHEMA, sl_xasprintf(
				"column `%s`: type %s vs %s", x->name, x->column_type, y->column_type));
		if (x->nullable != y->nullable)
			add_schema_diff(diffs, t, VER_SCHEMA, sl_xasprintf(
				"column `%s`: %s vs %s", x->name, x->nullable ? "NULL" : "NOT NULL",
				y->nullable ? "NULL" : "NOT NULL"));
		if (!streq(x->dflt, y->dflt))
			add_schema_diff(diffs, t, VER_SCHEMA, sl_xasprintf(
				"column `%s`: default %s vs %s", x->name, S(x->dflt), S(y->dflt)));
		if (!streq(x->charset, y->charset) || !streq(x->collation, y->collation))
			add_schema_diff(diffs, t, VER_SCHEMA, sl_xasprintf(
				"column `%s`: charset/collation %s/%s vs %s/%s", x->name, S(x->charset),
				S(x->collation), S(y->charset), S(y->collation)));
		if (!streq(x->extra, y->extra))
			add_schema_diff(diffs, t, VER_SCHEMA, sl_xasprintf(
				"column `%s`: extra '%s' vs '%s'", x->name, x->extra, y->extra));
	}
	for (size_t j = 0; j < b->ncols; j++) {
		size_t i;

		for (i = 0; i < a->ncols; i++)
			if (!strcmp(a->cols[i].name, b->cols[j].name))
				break;
		if (i == a->ncols)
			add_schema_diff(diffs, t, VER_SCHEMA, sl_xasprintf(
				"column `%s` %s only in the destination", b->cols[j].name,
				b->cols[j].column_type));
	}
	for (size_t i = 0; i < a->nidx; i++) {
		size_t j;

		for (j = 0; j < b->nidx; j++)
			if (!strcmp(a->idx[i], b->idx[j]))
				break;
		if (j == b->nidx)
			add_schema_diff(diffs, t, VER_SCHEMA,
					sl_xasprintf("index %s only in the source (or different)", a->idx[i]));
	}
	for (size_t j = 0; j < b->nidx; j++) {
		size_t i;

		for (i = 0; i < a->nidx; i++)
			if (!strcmp(a->idx[i], b->idx[j]))
				break;
		if (i == a->nidx)
			add_schema_diff(diffs, t, VER_SCHEMA,
					sl_xasprintf("index %s only in the destination (or different)", b->idx[j]));
	}
}

static int is_nopad(const char *coll)
{
	return coll && (strstr(coll, "nopad") || strstr(coll, "_0900_"));
}

/* Builds the pair's column list (common columns), key and SQL pieces. */
static int prepare(struct ver_table *t, struct side_def *a, struct side_def *b, int crc,
		   struct sl_err *err)
{
	struct sl_buf sel = SL_BUF_INIT(SL_BUF_UNLIMITED), h = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct ver_hash_col *hc;
	int rc = 0;

	(void)err;
	t->cols = sl_xcalloc(a->ncols + 1, sizeof(*t->cols));
	hc = sl_xcalloc(a->ncols + 1, sizeof(*hc));
	for (size_t i = 0; i < a->ncols; i++) {
		struct ver_col *y = NULL;

		for (size_t j = 0; j < b->ncols; j++)
			if (!strcmp(b->cols[j].name, a->cols[i].name))
				y = &b->cols[j];
		if (!y)
			continue;
		t->cols[t->ncols] = a->cols[i];
		memset(&a->cols[i], 0, sizeof(a->cols[i]));	/* moved */
		{
			struct ver_col *c = &t->cols[t->ncols];

			c->convert = !streq(c->charset, y->charset) && c->charset && y->charset;
			c->nullable = c->nullable || y->nullable;
			hc[t->ncols].name = c->name;
			hc[t->ncols].enc = c->enc;
			hc[t->ncols].nullable = c->nullable;
			hc[t->ncols].convert = c->convert;
			hc[t->ncols].maxlen = c->maxlen;
			hc[t->ncols].utf8 = c->charset && (!strncmp(c->charset, "utf8", 4) ||
							   !strcmp(c->charset, "ascii"));
		}
		t->ncols++;
	}
	/* the key: the source's, if every column is common and the destination has the same */
	if (a->nkey && a->nkey == b->nkey) {
		t->key = sl_xcalloc(a->nkey, sizeof(size_t));
		for (size_t k = 0; k < a->nkey; k++) {
			size_t i;

			for (i = 0; i < t->ncols; i++)
				if (!strcmp(t->cols[i].name, a->keycols[k]))
					break;
			if (i == t->ncols || strcmp(a->keycols[k], b->keycols[k])) {
				free(t->key);
				t->key = NULL;
				break;
			}
			t->key[k] = i;
		}
		if (t->key)
			t->nkey = a->nkey;
	}
	if (t->nkey == 1) {
		struct ver_col *c = &t->cols[t->key[0]];

		t->int_key = c->enc == VER_ENC_NUM && strcmp(c->data_type, "decimal") &&
			     strcmp(c->data_type, "numeric");
		t->unsigned_key = t->int_key && strstr(c->column_type, "unsigned") != NULL;
	}
	{
		static const char *const var[] = { "varchar", "varbinary", "tinyblob", "blob",
			"mediumblob", "longblob", "tinytext", "text", "mediumtext", "longtext", "json",
			"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
			"multipolygon", "geometrycollection", NULL };
		size_t nvar = 0;

		/* the common columns: with others the schemas differ and CHECKSUM TABLE is not tried */
		for (size_t i = 0; i < t->ncols; i++)
			for (size_t k = 0; var[k]; k++)
				if (!strcmp(t->cols[i].data_type, var[k]))
					nvar++;
		t->checksum_exact = nvar < 2;
	}
	if ((rc = ver_hash_sql(&h, hc, t->ncols, t->nkey ? crc : 0)))
		goto out;
	sl_buf_cstr(&h);
	t->hash_expr = (char *)sl_buf_detach(&h, NULL);
	/* the diff select list: sort keys, values, previews */
	t->cmp = sl_xcalloc(t->nkey + 1, sizeof(*t->cmp));
	t->big = sl_xcalloc(t->ncols + 1, sizeof(size_t));
	for (size_t k = 0; k < t->nkey; k++) {
		struct ver_col *c = &t->cols[t->key[k]];
		struct sl_buf id = SL_BUF_INIT(4096);

		fmt_sql_ident(&id, c->name);
		if (k)
			sl_buf_addc(&sel, ',');
		switch (c->enc) {
		case VER_ENC_NUM:
			t->cmp[k] = strcmp(c->data_type, "decimal") && strcmp(c->data_type, "numeric")
				? VER_CMP_INT : VER_CMP_DEC;
			sl_buf_adds(&sel, sl_buf_cstr(&id));
			break;
		case VER_ENC_FLOAT:
			t->cmp[k] = VER_CMP_FLOAT;
			sl_buf_adds(&sel, sl_buf_cstr(&id));
			break;
		case VER_ENC_STR:
			t->cmp[k] = VER_CMP_BYTES;
			if (is_nopad(c->collation) || !c->maxlen)
				sl_buf_addf(&sel, "WEIGHT_STRING(%s)", sl_buf_cstr(&id));
			else
				sl_buf_addf(&sel, "WEIGHT_STRING(%s AS CHAR(%lu))", sl_buf_cstr(&id), c->maxlen);
			break;
		default:
			t->cmp[k] = VER_CMP_BYTES;
			sl_buf_adds(&sel, sl_buf_cstr(&id));
			break;
		}
		sl_buf_release(&id);
	}
	for (size_t i = 0; i < t->ncols; i++) {
		struct ver_col *c = &t->cols[i];
		struct sl_buf id = SL_BUF_INIT(4096);

		fmt_sql_ident(&id, c->name);
		if (t->nkey || i)
			sl_buf_addc(&sel, ',');
		if (c->enc == VER_ENC_BIG) {
			sl_buf_addf(&sel, "CONCAT(LENGTH(%s),':',MD5(%s))", sl_buf_cstr(&id), sl_buf_cstr(&id));
			t->big[t->nbig++] = i;
		} else if (c->enc == VER_ENC_FLOAT) {
			sl_buf_addf(&sel, "CAST(%s AS DOUBLE)", sl_buf_cstr(&id));
		} else if (c->convert) {
			sl_buf_addf(&sel, "CONVERT(%s USING utf8mb4)", sl_buf_cstr(&id));
		} else {
			sl_buf_adds(&sel, sl_buf_cstr(&id));
		}
		sl_buf_release(&id);
	}
	for (size_t b2 = 0; b2 < t->nbig; b2++) {
		struct sl_buf id = SL_BUF_INIT(4096);

		fmt_sql_ident(&id, t->cols[t->big[b2]].name);
		sl_buf_addf(&sel, ",LEFT(CAST(%s AS BINARY),48)", sl_buf_cstr(&id));
		sl_buf_release(&id);
	}
	sl_buf_cstr(&sel);
	t->select_list = (char *)sl_buf_detach(&sel, NULL);
out:
	free(hc);
	sl_buf_release(&sel);
	sl_buf_release(&h);
	return rc;
}

static char *qname(const char *db, const char *tbl)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);

	fmt_sql_ident(&b, db);
	sl_buf_addc(&b, '.');
	fmt_sql_ident(&b, tbl);
	sl_buf_cstr(&b);
	return (char *)sl_buf_detach(&b, NULL);
}

static int list_tables(struct ver_conn *c, MYSQL_RES **res, struct sl_err *err)
{
	char q[512];

	snprintf(q, sizeof(q), "SELECT table_schema, table_name FROM information_schema.tables "
		 "WHERE table_type IN ('BASE TABLE', 'SYSTEM VERSIONED') AND table_schema NOT IN %s ORDER BY 1, 2", sysdbs);
	return ver__query(c, q, res, err);
}

/* The destination's definitions of the paired tables (a thread of ver__tables_load()). */
struct dest_load {
	struct ver_conn *c;
	const struct ver_tables *tt;
	struct side_def *defs;	/* tt->n entries */
	int rc;
	struct sl_err err;
};

static void *load_dest(void *arg)
{
	struct dest_load *l = arg;

	for (size_t i = 0; i < l->tt->n && !l->rc; i++) {
		const struct ver_table *t = &l->tt->v[i];

		if (!t->only_src && !t->only_dst)
			l->rc = load_side(l->c, t->ddb, t->dtbl, &l->defs[i], &l->err);
	}
	return NULL;
}

int ver__tables_load(const struct ver_opts *o, struct ver_conn *src, struct ver_conn *dst,
		     int crc, struct ver_tables *tt, struct ver_diffs *diffs, struct sl_err *err)
{
	MYSQL_RES *rs = NULL, *rd = NULL;
	MYSQL_ROW row;
	int rc;
	size_t cap;
	struct side_def *a;
	struct dest_load dl = { 0 };
	pthread_t th;
	int threaded;

	memset(tt, 0, sizeof(*tt));
	if ((rc = list_tables(src, &rs, err)) || (rc = list_tables(dst, &rd, err)))
		goto out;
	cap = mysql_num_rows(rs) + mysql_num_rows(rd) + 1;
	tt->v = sl_xcalloc(cap, sizeof(*tt->v));
	while ((row = mysql_fetch_row(rs))) {
		struct ver_table *t;

		if (!ver_table_selected(o->include, o->exclude, row[0], row[1]))
			continue;
		t = &tt->v[tt->n++];
		t->sdb = sl_xstrdup(row[0]);
		t->stbl = sl_xstrdup(row[1]);
		ver_map_name(o->map, t->sdb, t->stbl, &t->ddb, &t->dtbl);
		t->sq = qname(t->sdb, t->stbl);
		t->dq = qname(t->ddb, t->dtbl);
		t->only_src = 1;
	}
	while ((row = mysql_fetch_row(rd))) {
		char *s_db, *s_tb;
		size_t i;

		for (i = 0; i < tt->n; i++)
			if (tt->v[i].only_src != 2 && !strcmp(tt->v[i].ddb, row[0]) &&
			    !strcmp(tt->v[i].dtbl, row[1]))
				break;
		if (i < tt->n) {
			tt->v[i].only_src = 0;
			continue;
		}
		sl_map_name(o->map, 1, row[0], row[1], &s_db, &s_tb);
		for (i = 0; i < tt->n; i++)	/* a source table of that name is mapped elsewhere */
			if (!strcmp(tt->v[i].sdb, s_db) && !strcmp(tt->v[i].stbl, s_tb))
				break;
		if (i == tt->n && ver_table_selected(o->include, o->exclude, s_db, s_tb)) {
			struct ver_table *t = &tt->v[tt->n++];

			t->sdb = s_db;
			t->stbl = s_tb;
			t->ddb = sl_xstrdup(row[0]);
			t->dtbl = sl_xstrdup(row[1]);
			t->sq = qname(t->sdb, t->stbl);
			t->dq = qname(t->ddb, t->dtbl);
			t->only_dst = 1;
			add_schema_diff(diffs, t, VER_EXTRA_TABLE,
					sl_xasprintf("table %s only in the destination", t->dq));
		} else {
			free(s_db);
			free(s_tb);
		}
	}
	/* the two sides' definitions are read at the same time, the destination's on a thread */
	a = sl_xcalloc(tt->n + 1, sizeof(*a));
	dl.c = dst;
	dl.tt = tt;
	dl.defs = sl_xcalloc(tt->n + 1, sizeof(*dl.defs));
	dl.err = (struct sl_err)SL_ERR_INIT;
	threaded = !pthread_create(&th, NULL, load_dest, &dl);
	if (!threaded)
		load_dest(&dl);	/* no thread: one side after the other */
	for (size_t i = 0; i < tt->n && !rc; i++)
		if (!tt->v[i].only_src && !tt->v[i].only_dst)
			rc = load_side(src, tt->v[i].sdb, tt->v[i].stbl, &a[i], err);
	if (threaded)
		pthread_join(th, NULL);
	if (!rc && dl.rc) {
		*err = dl.err;
		rc = dl.rc;
	}
	for (size_t i = 0; i < tt->n && !rc; i++) {
		struct ver_table *t = &tt->v[i];

		if (t->only_dst)
			continue;
		if (t->only_src) {
			add_schema_diff(diffs, t, VER_MISSING_TABLE,
					sl_xasprintf("table %s only in the source", t->sq));
			continue;
		}
		{
			uint64_t before = diffs->n + diffs->dropped;

			compare_schema(t, &a[i], &dl.defs[i], diffs);
			t->schema_same = diffs->n + diffs->dropped == before;
		}
		rc = prepare(t, &a[i], &dl.defs[i], crc, err);
	}
	for (size_t i = 0; i < tt->n; i++) {
		side_release(&a[i]);
		side_release(&dl.defs[i]);
	}
	free(a);
	free(dl.defs);
out:
	if (rs)
		mysql_free_result(rs);
	if (rd)
		mysql_free_result(rd);
	return rc;
}

void ver__tables_release(struct ver_tables *tt)
{
	for (size_t i = 0; i < tt->n; i++) {
		struct ver_table *t = &tt->v[i];

		free(t->sdb);
		free(t->stbl);
		free(t->ddb);
		free(t->dtbl);
		free(t->sq);
		free(t->dq);
		for (size_t c = 0; c < t->ncols; c++)
			col_release(&t->cols[c]);
		free(t->cols);
		free(t->key);
		free(t->hash_expr);
		free(t->select_list);
		free(t->big);
		free(t->cmp);
	}
	free(tt->v);
	memset(tt, 0, sizeof(*tt));
}
