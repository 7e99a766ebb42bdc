/* fmt_filter.c - filters and renames of records: which tables, columns and operations pass, and under which names (fmt.h). */
#include "fmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

/* What the filter decided for one table_ref, from its newest TableDef. */
struct ftable {
	int known;		/* a TableDef with this ref was seen */
	int keep;
	char *db, *name;	/* new names (keep) */
	size_t *cols;		/* kept column indexes, in order */
	size_t ncols, nsrc;	/* kept, and columns of the source's TableDef */
	uint32_t *pk;		/* primary key, renumbered */
	size_t npk;
	int cut;		/* some column left out */
};

struct fmt_filter {
	struct fmt_filter_opts o;
	unsigned ops;
	fmt_filter_ddl_fn ddl;
	struct ftable *t;	/* by ref */
	size_t nt;
	uint64_t rows_in, rows_kept;	/* in the transaction in hand */
	/* the views handed out (valid until the next call) */
	Sluice__Record rec;
	Sluice__TableDef def;
	Sluice__ColumnDef **colv;
	size_t colv_cap;
	Sluice__RowChange row;
	Sluice__Row before, after;
	Sluice__Value **bv, **av;
	size_t bv_cap, av_cap;
	Sluice__TxnCommit commit;
	Sluice__Ddl ddlv;
	struct sl_buf stmt;
	char *ddl_db;
};

static int parse_ops(const char *s, unsigned *ops, struct sl_err *err)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "insert", FMT_OP_INSERT }, { "update", FMT_OP_UPDATE },
		{ "delete", FMT_OP_DELETE }, { "ddl", FMT_OP_DDL },
	};
	const char *p = s;

	*ops = 0;
	while (*p) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && !strncasecmp(p, names[i].name, n))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return sl_err_set(err, -SL_EINVAL_ARG, "bad operation '%.*s' in --ops: use a "
					  "comma-separated list of insert, update, delete, ddl", (int)n, p);
		*ops |= names[i].bit;
		p += n;
		p += *p == ',';
	}
	if (!*ops)
		return sl_err_set(err, -SL_EINVAL_ARG, "--ops names no operation: use a "
				  "comma-separated list of insert, update, delete, ddl");
	return 0;
}

static int check_columns(const char *s, struct sl_err *err)
{
	const char *p = s;

	while (*p) {
		size_t n = strcspn(p, ","), dots = 0;

		for (size_t i = 0; i < n; i++)
			dots += p[i] == '.';
		if (dots != 2 || p[0] == '.' || p[n - 1] == '.' || memmem(p, n, "..", 2))
			return sl_err_set(err, -SL_EINVAL_ARG, "bad column pattern '%.*s' in "
					  "--exclude-columns: use db.table.column (with %% * _ ? "
					  "wildcards)", (int)n, p);
		p += n;
		p += *p == ',';
	}
	return 0;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

int fmt_filter_open(struct fmt_filter **out, const struct fmt_filter_opts *o, fmt_filter_ddl_fn ddl,
		    struct sl_err *err)
{
	struct fmt_filter *f;
	unsigned ops = FMT_OP_ALL;
	int rc;

	*out = NULL;
	if ((rc = sl_map_check(o->map, err)))
		return rc;
	if (o->exclude_columns && (rc = check_columns(o->exclude_columns, err)))
		return rc;
	if (o->ops && (rc = parse_ops(o->ops, &ops, err)))
		return rc;
	if (!nonempty(o->include) && !nonempty(o->exclude) && !nonempty(o->map) &&
	    !nonempty(o->exclude_columns) && ops == FMT_OP_ALL)
		return 0;
	f = sl_xcalloc(1, sizeof(*f));
	f->o.include = nonempty(o->include);
	f->o.exclude = nonempty(o->exclude);
	f->o.map = nonempty(o->map);
	f->o.exclude_columns = nonempty(o->exclude_columns);
	f->ops = ops;
	f->ddl = ddl;
	sl_buf_init(&f->stmt, FMT_RECORD_MAX);
	*out = f;
	return 0;
}

static void ftable_release(struct ftable *t)
{
	free(t->db);
	free(t->name);
	free(t->cols);
	free(t->pk);
	memset(t, 0, sizeof(*t));
}

void fmt_filter_close(struct fmt_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nt; i++)
		ftable_release(&f->t[i]);
	free(f->t);
	free(f->colv);
	free(f->bv);
	free(f->av);
	sl_buf_release(&f->stmt);
	free(f->ddl_db);
	free(f);
}

int fmt_filter_renames(const struct fmt_filter *f)
{
	return f && f->o.map;
}

int fmt_filter_table(const struct fmt_filter *f, const char *db, const char *t, char **ndb,
		     char **nt)
{
	*ndb = *nt = NULL;
	if (!sl_table_selected(f->o.include, f->o.exclude, db, t))
		return 0;
	sl_map_name(f->o.map, 0, db, t, ndb, nt);
	return 1;
}

int fmt_filter_database(const struct fmt_filter *f, const char *db, char **ndb)
{
	*ndb = NULL;
	if (!sl_database_touched(f->o.include, f->o.exclude, db))
		return 0;
	sl_map_name(f->o.map, 0, db, NULL, ndb, NULL);
	return 1;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = need + need / 2 + 8;
	return sl_xrealloc(p, *cap * size);
}

/* Decide for def (its ref's entry, made again for every TableDef). */
static int learn(struct fmt_filter *f, const Sluice__TableDef *def, struct sl_err *err)
{
	struct ftable *t;
	size_t *pos;

	if (def->ref >= f->nt) {
		size_t n = f->nt;

		f->t = grow(f->t, &f->nt, (size_t)def->ref + 1, sizeof(*f->t));
		memset(f->t + n, 0, (f->nt - n) * sizeof(*f->t));
	}
	t = &f->t[def->ref];
	ftable_release(t);
	t->known = 1;
	t->keep = fmt_filter_table(f, def->db, def->name, &t->db, &t->name);
	if (!t->keep)
		return 0;
	t->nsrc = def->n_columns;
	t->cols = sl_xcalloc(def->n_columns + 1, sizeof(*t->cols));
	pos = sl_xcalloc(def->n_columns + 1, sizeof(*pos));
	for (size_t i = 0; i < def->n_columns; i++) {
		if (f->o.exclude_columns &&
		    sl_column_patterns_match(f->o.exclude_columns, def->db, def->name,
					     def->columns[i]->name)) {
			t->cut = 1;
			pos[i] = SIZE_MAX;
			continue;
		}
		pos[i] = t->ncols;
		t->cols[t->ncols++] = i;
	}
	t->pk = sl_xcalloc(def->n_primary_key + 1, sizeof(*t->pk));
	for (size_t k = 0; k < def->n_primary_key; k++) {
		uint32_t c = def->primary_key[k];

		if (c >= def->n_columns) {
			free(pos);
			return sl_err_set(err, -SL_ECORRUPT, "table `%s`.`%s` (ref %u): primary key "
					  "column %u of %zu columns", def->db, def->name, def->ref, c,
					  def->n_columns);
		}
		if (pos[c] == SIZE_MAX) {
			int rc = sl_err_set(err, -SL_EINVAL_ARG, "--exclude-columns: column `%s` of "
					    "`%s`.`%s` is in its primary key: a key column cannot be "
					    "left out", def->columns[c]->name, def->db, def->name);

			free(pos);
			return rc;
		}
		t->pk[t->npk++] = (uint32_t)pos[c];
	}
	free(pos);
	return 0;
}

static const Sluice__Record *table_view(struct fmt_filter *f, const Sluice__Record *in)
{
	const Sluice__TableDef *d = in->table;
	const struct ftable *t = &f->t[d->ref];

	if (!t->keep)
		return NULL;
	f->def = *d;
	f->def.db = t->db;
	f->def.name = t->name;
	if (t->cut) {
		f->colv = grow(f->colv, &f->colv_cap, t->ncols + 1, sizeof(*f->colv));
		for (size_t i = 0; i < t->ncols; i++)
			f->colv[i] = d->columns[t->cols[i]];
		f->def.columns = f->colv;
		f->def.n_columns = t->ncols;
		f->def.primary_key = t->pk;
		f->def.n_primary_key = t->npk;
	}
	f->rec = *in;
	f->rec.table = &f->def;
	return &f->rec;
}

/* img cut to the kept columns into *dst with the pointer array *v. */
static int cut_row(const struct ftable *t, const Sluice__Row *img, Sluice__Row *dst,
		   Sluice__Value ***v, size_t *cap, uint32_t ref, struct sl_err *err)
{
	if (img->n_values != t->nsrc)
		return sl_err_set(err, -SL_ECORRUPT, "row change of `%s`.`%s` (ref %u) has %zu values, "
				  "its table definition %zu columns", t->db, t->name, ref,
				  img->n_values, t->nsrc);
	*v = grow(*v, cap, t->ncols + 1, sizeof(**v));
	for (size_t i = 0; i < t->ncols; i++)
		(*v)[i] = img->values[t->cols[i]];
	*dst = *img;
	dst->values = *v;
	dst->n_values = t->ncols;
	return 0;
}

static int row_view(struct fmt_filter *f, const Sluice__Record *in, const Sluice__Record **out,
		    struct sl_err *err)
{
	const Sluice__RowChange *r = in->row;
	static const unsigned bit[] = { FMT_OP_INSERT, FMT_OP_UPDATE, FMT_OP_DELETE };
	const struct ftable *t;
	int rc;

	*out = NULL;
	f->rows_in++;
	if (r->table_ref >= f->nt || !f->t[r->table_ref].known)
		return sl_err_set(err, -SL_ECORRUPT, "row change of table ref %u before its table "
				  "definition", r->table_ref);
	t = &f->t[r->table_ref];
	if (!t->keep || (unsigned)r->op > 2 || !(f->ops & bit[r->op]))
		return 0;
	f->rows_kept++;
	if (!t->cut) {
		*out = in;
		return 0;
	}
	f->row = *r;
	if (r->before && (rc = cut_row(t, r->before, &f->before, &f->bv, &f->bv_cap, r->table_ref, err)))
		return rc;
	if (r->after && (rc = cut_row(t, r->after, &f->after, &f->av, &f->av_cap, r->table_ref, err)))
		return rc;
	f->row.before = r->before ? &f->before : NULL;
	f->row.after = r->after ? &f->after : NULL;
	f->rec = *in;
	f->rec.row = &f->row;
	*out = &f->rec;
	return 0;
}

static int ddl_view(struct fmt_filter *f, const Sluice__Record *in, const Sluice__Record **out,
		    struct sl_err *err)
{
	const Sluice__Ddl *d = in->ddl;
	char pos[256];
	int rc;

	*out = NULL;
	if (!(f->ops & FMT_OP_DDL))
		return 0;
	if (!f->ddl) {
		*out = in;
		return 0;
	}
	sl_buf_reset(&f->stmt);
	free(f->ddl_db);
	f->ddl_db = NULL;
	rc = f->ddl(f, d->db ? d->db : "", d->statement ? d->statement : "", &f->stmt, &f->ddl_db, err);
	if (rc < 0) {
		struct sl_err e = *err;

		if (d->position)
			fmt_position_str(d->position, pos, sizeof(pos));
		else
			snprintf(pos, sizeof(pos), "(unknown position)");
		return sl_err_set(err, rc, "ddl at %s: %s", pos, e.msg);
	}
	if (rc == 0)
		return 0;
	f->ddlv = *d;
	f->ddlv.statement = (char *)sl_buf_cstr(&f->stmt);
	f->ddlv.db = f->ddl_db;
	f->rec = *in;
	f->rec.ddl = &f->ddlv;
	*out = &f->rec;
	return 0;
}

int fmt_filter_record(struct fmt_filter *f, const Sluice__Record *in, const Sluice__Record **out,
		      struct sl_err *err)
{
	int rc;

	*out = in;
	switch (in->body_case) {
	case SLUICE__RECORD__BODY_BEGIN:
		f->rows_in = f->rows_kept = 0;
		return 0;
	case SLUICE__RECORD__BODY_TABLE:
		if ((rc = learn(f, in->table, err)))
			return rc;
		*out = table_view(f, in);
		return 0;
	case SLUICE__RECORD__BODY_ROW:
		return row_view(f, in, out, err);
	case SLUICE__RECORD__BODY_COMMIT:
		if (f->rows_kept != f->rows_in) {
			uint64_t gone = f->rows_in - f->rows_kept;

			f->commit = *in->commit;
			f->commit.rows = f->commit.rows > gone ? f->commit.rows - gone : 0;
			f->rec = *in;
			f->rec.commit = &f->commit;
			*out = &f->rec;
		}
		f->rows_in = f->rows_kept = 0;
		return 0;
	case SLUICE__RECORD__BODY_DDL:
		return ddl_view(f, in, out, err);
	default:
		return 0;
	}
}

int fmt_filter_tabledef(struct fmt_filter *f, const Sluice__TableDef *def,
			const Sluice__TableDef **out, struct sl_err *err)
{
	Sluice__Record r = SLUICE__RECORD__INIT;
	const Sluice__Record *v;
	int rc;

	*out = NULL;
	r.body_case = SLUICE__RECORD__BODY_TABLE;
	r.table = (Sluice__TableDef *)def;
	if ((rc = fmt_filter_record(f, &r, &v, err)))
		return rc;
	*out = v ? v->table : NULL;
	return 0;
}
