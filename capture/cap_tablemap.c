/* cap_tablemap.c - TABLE_MAP events: column definitions from the map and its optional metadata, de-duplicated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cap_int.h"
#include "banned.h"

/* TABLE_MAP optional metadata kinds. */
enum {
	OM_SIGNEDNESS = 1, OM_DEFAULT_CHARSET, OM_COLUMN_CHARSET, OM_COLUMN_NAME,
	OM_SET_STR_VALUE, OM_ENUM_STR_VALUE, OM_GEOMETRY_TYPE, OM_SIMPLE_PRIMARY_KEY,
	OM_PRIMARY_KEY_WITH_PREFIX, OM_ENUM_AND_SET_DEFAULT_CHARSET,
	OM_ENUM_AND_SET_COLUMN_CHARSET,
};

/* ---- TABLE_MAP ---- */

/* Columns with a SIGNEDNESS bit. MariaDB counts YEAR (a Field_tiny) too. */
static int is_numeric(uint32_t t, int maria)
{
	return (maria && (t == FMT_TYPE_YEAR || t == FMT_TYPE_DECIMAL)) || t == FMT_TYPE_TINY ||
	       t == FMT_TYPE_SHORT || t == FMT_TYPE_INT24 || t == FMT_TYPE_LONG ||
	       t == FMT_TYPE_LONGLONG || t == FMT_TYPE_FLOAT || t == FMT_TYPE_DOUBLE ||
	       t == FMT_TYPE_NEWDECIMAL;
}

static uint32_t real_type(const Sluice__ColumnDef *c)
{
	if (c->type == FMT_TYPE_STRING) {
		uint32_t b0 = c->meta >> 8 & 0xff;

		if (b0 == FMT_TYPE_ENUM || b0 == FMT_TYPE_SET)
			return b0;
		return FMT_TYPE_STRING;
	}
	return c->type;
}

/* Columns with a charset in DEFAULT_CHARSET/COLUMN_CHARSET. MariaDB's
 * GEOMETRY is a BLOB and has one (binary); MySQL's has none. MySQL 9's
 * VECTOR has one (binary). */
static int is_character(uint32_t rt, int maria)
{
	return (maria && rt == FMT_TYPE_GEOMETRY) || rt == FMT_TYPE_VECTOR || rt == FMT_TYPE_STRING || rt == FMT_TYPE_VAR_STRING || rt == FMT_TYPE_VARCHAR || rt == FMT_TYPE_BLOB ||
	       rt == FMT_TYPE_TINY_BLOB || rt == FMT_TYPE_MEDIUM_BLOB || rt == FMT_TYPE_LONG_BLOB;
}

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(0L, p, (uInt)n) * 2654435761u;
}

/* The hash slot of the definition with this TABLE_MAP key, or SIZE_MAX. */
static size_t def_slot(const struct cap_decoder *d, const uint8_t *key, size_t n, uint32_t h)
{
	if (!d->hcap)
		return SIZE_MAX;
	for (size_t i = h & (d->hcap - 1);; i = (i + 1) & (d->hcap - 1)) {
		uint32_t ref = d->htab[i];
		const struct cap_dec_def *df;

		if (!ref)
			return SIZE_MAX;
		df = &d->defs[ref - 1];
		if (df->hash == h && df->key_len == n && memcmp(df->key, key, n) == 0)
			return i;
	}
}

#define GEN_POSITIONAL UINT64_MAX

/* The schema-history generation that names db.name now (0: unknown). */
static uint64_t history_gen(const struct cap_decoder *d, const char *db, const char *name)
{
	size_t n;
	uint64_t gen = 0;

	if (!cap__schema_columns(d->schema, db, name, &n, &gen))
		return 0;
	return gen;
}

static void htab_put(struct cap_decoder *d, uint32_t ref)
{
	size_t i;

	if ((d->n_defs + 1) * 2 > d->hcap) {
		size_t ncap = d->hcap ? d->hcap * 2 : 64;
		uint32_t *nt = sl_xcalloc(ncap, sizeof(uint32_t));

		for (size_t k = 0; k < d->hcap; k++) {
			uint32_t r = d->htab[k];

			if (!r)
				continue;
			for (i = d->defs[r - 1].hash & (ncap - 1); nt[i]; i = (i + 1) & (ncap - 1))
				;
			nt[i] = r;
		}
		free(d->htab);
		d->htab = nt;
		d->hcap = ncap;
	}
	for (i = d->defs[ref - 1].hash & (d->hcap - 1); d->htab[i]; i = (i + 1) & (d->hcap - 1))
		;
	d->htab[i] = ref;
}

/* The columns of a table being built from a TABLE_MAP; freed after dup. */
struct build {
	Sluice__TableDef t;
	Sluice__ColumnDef *cols;
	Sluice__ColumnDef **colp;
	char **names;
	ProtobufCBinaryData **labels;	/* per column */
	uint32_t *pk;
};

static void build_release(struct build *bd, size_t ncols)
{
	for (size_t i = 0; i < ncols; i++) {
		free(bd->names ? bd->names[i] : NULL);
		free(bd->labels ? bd->labels[i] : NULL);
	}
	free(bd->names);
	free(bd->labels);
	free(bd->cols);
	free(bd->colp);
	free(bd->pk);
}

/* Walk list over columns selected by pred, calling back with the k-th one. */
static int nth_col(struct build *bd, size_t ncols, int (*pred)(const Sluice__ColumnDef *),
		   uint64_t k)
{
	for (size_t i = 0; i < ncols; i++)
		if (pred(&bd->cols[i]) && k-- == 0)
			return (int)i;
	return -1;
}

static int pred_char_mysql(const Sluice__ColumnDef *c)
{
	return is_character(real_type(c), 0);
}

static int pred_char_maria(const Sluice__ColumnDef *c)
{
	return is_character(real_type(c), 1);
}

static int pred_enumset(const Sluice__ColumnDef *c)
{
	uint32_t rt = real_type(c);

	return rt == FMT_TYPE_ENUM || rt == FMT_TYPE_SET;
}

static int pred_enum(const Sluice__ColumnDef *c)
{
	return real_type(c) == FMT_TYPE_ENUM;
}

static int pred_set(const Sluice__ColumnDef *c)
{
	return real_type(c) == FMT_TYPE_SET;
}

static int pred_geom(const Sluice__ColumnDef *c)
{
	return c->type == FMT_TYPE_GEOMETRY;
}

/* Parse the optional metadata of a TABLE_MAP into bd. */
static int parse_optmeta(struct cap_decoder *d, struct build *bd, size_t ncols, const uint8_t *p,
			 size_t n, int *have_names, struct sl_err *err)
{
	int (*pred_char)(const Sluice__ColumnDef *) = d->maria ? pred_char_maria : pred_char_mysql;
	size_t i = 0;

	while (i < n) {
		uint8_t kind = p[i++];
		uint64_t len, v;
		size_t k, e, j;

		k = cap__packed_int(p + i, n - i, &len);
		if (!k || len > n - i - k)
			goto bad;
		i += k;
		e = i + (size_t)len;
		j = i;
		switch (kind) {
		case OM_SIGNEDNESS: {
			size_t bit = 0;

			for (size_t c = 0; c < ncols; c++) {
				if (!is_numeric(bd->cols[c].type, d->maria))
					continue;
				if (bit / 8 >= len)
					goto bad;
				bd->cols[c].is_unsigned = (p[j + bit / 8] >> (7 - bit % 8)) & 1;
				bit++;
			}
			break;
		}
		case OM_DEFAULT_CHARSET:
		case OM_ENUM_AND_SET_DEFAULT_CHARSET: {
			int (*pred)(const Sluice__ColumnDef *) =
				kind == OM_DEFAULT_CHARSET ? pred_char : pred_enumset;
			uint64_t idx, coll;

			if (!(k = cap__packed_int(p + j, e - j, &coll)))
				goto bad;
			j += k;
			for (size_t c = 0; c < ncols; c++)
				if (pred(&bd->cols[c]))
					bd->cols[c].collation = (uint32_t)coll;
			while (j < e) {
				int c;

				if (!(k = cap__packed_int(p + j, e - j, &idx)))
					goto bad;
				j += k;
				if (!(k = cap__packed_int(p + j, e - j, &coll)))
					goto bad;
				j += k;
				if ((c = nth_col(bd, ncols, pred, idx)) < 0)
					goto bad;
				bd->cols[c].collation = (uint32_t)coll;
			}
			break;
		}
		case OM_COLUMN_CHARSET:
		case OM_ENUM_AND_SET_COLUMN_CHARSET: {
			int (*pred)(const Sluice__ColumnDef *) =
				kind == OM_COLUMN_CHARSET ? pred_char : pred_enumset;

			for (size_t c = 0; c < ncols && j < e; c++) {
				if (!pred(&bd->cols[c]))
					continue;
				if (!(k = cap__packed_int(p + j, e - j, &v)))
					goto bad;
				j += k;
				bd->cols[c].collation = (uint32_t)v;
			}
			break;
		}
		case OM_COLUMN_NAME:
			for (size_t c = 0; c < ncols; c++) {
				if (!(k = cap__packed_int(p + j, e - j, &v)) || v > e - j - k)
					goto bad;
				j += k;
				free(bd->names[c]);
				bd->names[c] = sl_xstrndup((const char *)p + j, (size_t)v);
				bd->cols[c].name = bd->names[c];
				j += (size_t)v;
			}
			*have_names = 1;
			break;
		case OM_SET_STR_VALUE:
		case OM_ENUM_STR_VALUE: {
			int (*pred)(const Sluice__ColumnDef *) =
				kind == OM_SET_STR_VALUE ? pred_set : pred_enum;

			for (size_t c = 0; c < ncols && j < e; c++) {
				uint64_t cnt;

				if (!pred(&bd->cols[c]))
					continue;
				if (!(k = cap__packed_int(p + j, e - j, &cnt)) || cnt > e - j)
					goto bad;
				j += k;
				free(bd->labels[c]);
				bd->labels[c] = sl_xcalloc(cnt ? (size_t)cnt : 1, sizeof(ProtobufCBinaryData));
				for (uint64_t m = 0; m < cnt; m++) {
					if (!(k = cap__packed_int(p + j, e - j, &v)) || v > e - j - k)
						goto bad;
					j += k;
					bd->labels[c][m].data = (uint8_t *)(uintptr_t)(p + j);
					bd->labels[c][m].len = (size_t)v;
					j += (size_t)v;
				}
				bd->cols[c].enum_values = bd->labels[c];
				bd->cols[c].n_enum_values = (size_t)cnt;
			}
			break;
		}
		case OM_GEOMETRY_TYPE:
			for (size_t c = 0; c < ncols && j < e; c++) {
				if (!pred_geom(&bd->cols[c]))
					continue;
				if (!(k = cap__packed_int(p + j, e - j, &v)))
					goto bad;
				j += k;
				bd->cols[c].geometry_type = (uint32_t)v;
			}
			break;
		case OM_SIMPLE_PRIMARY_KEY:
		case OM_PRIMARY_KEY_WITH_PREFIX:
			while (j < e) {
				if (!(k = cap__packed_int(p + j, e - j, &v)) || v >= ncols)
					goto bad;
				j += k;
				if (kind == OM_PRIMARY_KEY_WITH_PREFIX) {
					uint64_t prefix;

					if (!(k = cap__packed_int(p + j, e - j, &prefix)))
						goto bad;
					j += k;
				}
				if (bd->t.n_primary_key >= ncols)
					goto bad;
				bd->pk[bd->t.n_primary_key++] = (uint32_t)v;
			}
			break;
		default:
			break;	/* COLUMN_VISIBILITY, VECTOR_DIMENSIONALITY, ...: not needed */
		}
		i = e;
	}
	return 0;
bad:
	return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: bad optional metadata", bd->t.db,
		      bd->t.name);
}

/* Build, de-duplicate and store the definition in a TABLE_MAP body
 * (key: from db_len to the end of the body). Returns the ref or < 0. */
static int64_t build_def(struct cap_decoder *d, const uint8_t *key, size_t kn, struct sl_err *err)
{
	struct build bd;
	const uint8_t *p = key, *end = key + kn, *types, *meta, *nullbits;
	char db[256], name[256];
	uint64_t ncols, mlen;
	size_t k, mi = 0;
	uint32_t h = hash_bytes(key, kn), ref;
	size_t slot = def_slot(d, key, kn, h);
	uint64_t gen = 0;
	int have_names = 0;
	int64_t rc;

	memset(&bd, 0, sizeof(bd));
	sluice__table_def__init(&bd.t);
	/* bounds were checked by the caller for the names */
	memcpy(db, p + 1, p[0]);
	db[p[0]] = 0;
	p += 1 + p[0] + 1;
	memcpy(name, p + 1, p[0]);
	name[p[0]] = 0;
	p += 1 + p[0] + 1;
	if (slot != SIZE_MAX) {
		/* The same TABLE_MAP again: the same definition, unless its names
		 * came from the schema history and a DDL changed them since. */
		const struct cap_dec_def *df = &d->defs[d->htab[slot] - 1];
		uint64_t now = df->gen ? history_gen(d, db, name) : 0;

		if (df->gen == 0 || df->gen == now || (df->gen == GEN_POSITIONAL && now == 0))
			return d->htab[slot];
	}
	bd.t.db = db;
	bd.t.name = name;
	if (!(k = cap__packed_int(p, (size_t)(end - p), &ncols)) || ncols == 0 ||
	    ncols > (size_t)(end - p) - k)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: bad column count", db, name);
	p += k;
	types = p;
	p += ncols;
	if (!(k = cap__packed_int(p, (size_t)(end - p), &mlen)) || mlen > (size_t)(end - p) - k)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: bad metadata length", db, name);
	p += k;
	meta = p;
	p += mlen;
	if ((size_t)(end - p) < (ncols + 7) / 8)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: null bitmap overruns the event",
			      db, name);
	nullbits = p;
	p += (ncols + 7) / 8;

	bd.cols = sl_xcalloc((size_t)ncols, sizeof(*bd.cols));
	bd.colp = sl_xcalloc((size_t)ncols, sizeof(*bd.colp));
	bd.names = sl_xcalloc((size_t)ncols, sizeof(char *));
	bd.labels = sl_xcalloc((size_t)ncols, sizeof(*bd.labels));
	bd.pk = sl_xcalloc((size_t)ncols, sizeof(uint32_t));
	bd.t.columns = bd.colp;
	bd.t.n_columns = (size_t)ncols;
	bd.t.primary_key = bd.pk;
	for (size_t i = 0; i < ncols; i++) {
		Sluice__ColumnDef *c = &bd.cols[i];
		unsigned mb;

		sluice__column_def__init(c);
		bd.colp[i] = c;
		c->type = types[i];
		c->nullable = (nullbits[i / 8] >> (i % 8)) & 1;
		switch (c->type) {
		case FMT_TYPE_FLOAT: case FMT_TYPE_DOUBLE: case FMT_TYPE_BLOB: case FMT_TYPE_TINY_BLOB: case FMT_TYPE_MEDIUM_BLOB:
		case FMT_TYPE_LONG_BLOB: case FMT_TYPE_GEOMETRY: case FMT_TYPE_JSON: case FMT_TYPE_TIMESTAMP2:
		case FMT_TYPE_DATETIME2: case FMT_TYPE_TIME2: case FMT_TYPE_VECTOR:
			mb = 1;
			break;
		case FMT_TYPE_VARCHAR: case FMT_TYPE_VAR_STRING: case FMT_TYPE_BIT: case FMT_TYPE_NEWDECIMAL:
		case FMT_TYPE_STRING: case FMT_TYPE_ENUM: case FMT_TYPE_SET:
			mb = 2;
			break;
		default:
			mb = 0;
			break;
		}
		if (mi + mb > mlen) {
			rc = CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: column metadata overruns its block",
				    db, name);
			goto out;
		}
		if (mb == 1)
			c->meta = meta[mi];
		else if (mb == 2 && (c->type == FMT_TYPE_VARCHAR || c->type == FMT_TYPE_VAR_STRING))
			c->meta = sl_le16(meta + mi);
		else if (mb == 2 && c->type == FMT_TYPE_BIT)
			c->meta = (uint32_t)meta[mi + 1] << 8 | meta[mi];
		else if (mb == 2)
			c->meta = (uint32_t)meta[mi] << 8 | meta[mi + 1];
		mi += mb;
		if (c->type == FMT_TYPE_NEWDECIMAL) {
			c->precision = c->meta >> 8;
			c->scale = c->meta & 0xff;
		} else if (c->type == FMT_TYPE_TIME2 || c->type == FMT_TYPE_DATETIME2 || c->type == FMT_TYPE_TIMESTAMP2) {
			c->precision = c->meta;
		}
		c->name = (char *)"";
		c->charset = (char *)"";
	}
	rc = parse_optmeta(d, &bd, (size_t)ncols, p, (size_t)(end - p), &have_names, err);
	if (rc < 0)
		goto out;
	if (!have_names) {
		/* names from the schema history, only where it has the shape of
		 * this TABLE_MAP (cap_coltype.c); the map is the authority */
		size_t hn = 0;
		const char *const *hc = cap__schema_columns(d->schema, db, name, &hn, &gen);
		const char *const *ht = hc ? cap__schema_types(d->schema, db, name) : NULL;
		char why[400] = "no definition in the schema history";

		if (hc && cap__tablemap_check(&bd.t, hc, ht, hn, d->maria, why, sizeof(why)) == 0) {
			for (size_t i = 0; i < ncols; i++) {
				bd.cols[i].name = (char *)(uintptr_t)hc[i];
				/* no charset metadata: the history says which are binary */
				if (bd.cols[i].collation == 0 && ht && cap__coltype_is_binary(ht[i]))
					bd.cols[i].collation = 63;
			}
		} else if (d->allow_positional) {
			for (size_t i = 0; i < ncols; i++) {
				bd.names[i] = sl_xasprintf("@%zu", i + 1);
				bd.cols[i].name = bd.names[i];
			}
			gen = hc ? gen : GEN_POSITIONAL;
			sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: table `%s`.`%s`: positional column names @1..@%llu (%s)",
			       cap__dec_file(d), (unsigned long long)d->ev_off, db, name, (unsigned long long)ncols, why);
		} else if (hc) {
			rc = CAP_EV_ERR(d, err, -SL_ECONFIG,
				    "table `%s`.`%s` does not match its schema history (definitions at capture start, then the stream's DDL): %s; set binlog_row_metadata=FULL or use --allow-positional",
				    db, name, why);
			goto out;
		} else {
			rc = CAP_EV_ERR(d, err, -SL_ECONFIG,
				    "table `%s`.`%s` has no column names in the binlog (set binlog_row_metadata=FULL) and no CREATE TABLE for it was seen; use --allow-positional for @1, @2... names",
				    db, name);
			goto out;
		}
	}
	for (size_t i = 0; i < ncols; i++) {
		Sluice__ColumnDef *c = &bd.cols[i];
		uint32_t rt = real_type(c);

		if (is_character(rt, d->maria) || rt == FMT_TYPE_ENUM || rt == FMT_TYPE_SET) {
			const char *cs = cap_charset_of_collation(c->collation);

			c->charset = (char *)(uintptr_t)(cs ? cs : "");
		}
	}
	if (d->n_defs == d->cap_defs) {
		d->cap_defs = d->cap_defs ? d->cap_defs * 2 : 16;
		d->defs = sl_xrealloc(d->defs, d->cap_defs * sizeof(*d->defs));
	}
	ref = (uint32_t)d->n_defs + 1;
	bd.t.ref = ref;
	d->defs[d->n_defs].t = fmt_tabledef_dup(&bd.t);
	d->defs[d->n_defs].key = sl_xmalloc(kn);
	memcpy(d->defs[d->n_defs].key, key, kn);
	d->defs[d->n_defs].key_len = kn;
	d->defs[d->n_defs].hash = h;
	d->defs[d->n_defs].gen = gen;
	d->n_defs++;
	if (slot != SIZE_MAX)
		d->htab[slot] = ref;	/* the newer definition replaces the stale one */
	else
		htab_put(d, ref);
	rc = ref;
out:
	build_release(&bd, (size_t)ncols);
	return rc;
}

int cap__on_table_map(struct cap_decoder *d, const uint8_t *b, size_t bl, struct sl_err *err)
{
	unsigned ph = cap__post_len(d, CAP_EV_TABLE_MAP, 8);
	const uint8_t *key = b + ph;
	uint64_t table_id;
	size_t kn, dbl, tl;
	uint32_t ref = 0;
	size_t i;

	if ((ph != 6 && ph != 8) || bl < ph + 4)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table map event too short (%zu bytes)", bl);
	table_id = ph == 6 ? sl_le32(b) : (sl_le32(b) | (uint64_t)sl_le16(b + 4) << 32);
	kn = bl - ph;
	dbl = key[0];
	if (dbl + 3 > kn || (tl = key[dbl + 2], dbl + tl + 4 > kn))
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "%s", "table map names overrun the event");
	if (!cap__dec_skipped(d, (const char *)key + 1, dbl)) {
		int64_t r = build_def(d, key, kn, err);

		if (r < 0)
			return (int)r;
		ref = (uint32_t)r;
	}
	for (i = 0; i < d->n_maps; i++)
		if (d->maps[i].table_id == table_id)
			break;
	if (i == d->n_maps) {
		if (d->n_maps == CAP_MAX_TMAPS)
			return CAP_EV_ERR(d, err, -SL_ETOOBIG, "more than %d tables mapped in one statement",
				      CAP_MAX_TMAPS);
		if (d->n_maps == d->cap_maps) {
			d->cap_maps = d->cap_maps ? d->cap_maps * 2 : 16;
			d->maps = sl_xrealloc(d->maps, d->cap_maps * sizeof(*d->maps));
		}
		d->n_maps++;
	}
	d->maps[i].table_id = table_id;
	d->maps[i].ref = ref;
	d->maps[i].mark = cap__loop_mark((const char *)key + 1, dbl, (const char *)key + dbl + 3, tl);
	return 0;
}
