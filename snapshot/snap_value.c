/* snap_value.c - a column from information_schema as capture's ColumnDef, and a text-protocol value as capture's Value. */
#include "snap.h"
#include "db.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static int is(const char *t, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(t, *names))
			return 1;
	return 0;
}

/* ENUM/SET labels of COLUMN_TYPE "enum('a','b''c')". */
static void parse_labels(struct snap_col *c, const char *ct)
{
	const char *p = strchr(ct ? ct : "", '(');

	if (!p)
		return;
	p++;
	while (*p == '\'') {
		struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
		size_t n;

		for (p++; *p; p++) {
			if (*p == '\'' && p[1] == '\'') {
				sl_buf_addc(&b, '\'');
				p++;
			} else if (*p == '\'') {
				p++;
				break;
			} else {
				sl_buf_addc(&b, (uint8_t)*p);
			}
		}
		c->labels = sl_xrealloc(c->labels, (c->nlabels + 1) * sizeof(*c->labels));
		c->labels[c->nlabels].data = sl_buf_detach(&b, &n);
		c->labels[c->nlabels].len = n;
		c->nlabels++;
		if (*p == ',')
			p++;
	}
}

void snap_col_init(struct snap_col *c, const struct db_column *dc, int mariadb)
{
	static const char *const ints[] = { "tinyint", "smallint", "mediumint", "int", "integer", "bigint", NULL };
	static const char *const texts[] = { "tinytext", "text", "mediumtext", "longtext",
					     "tinyblob", "blob", "mediumblob", "longblob", "json", NULL };
	static const char *const geoms[] = { "geometry", "point", "linestring", "polygon", "multipoint",
					     "multilinestring", "multipolygon", "geometrycollection",
					     "geomcollection", NULL };
	const char *t = dc->data_type;
	Sluice__ColumnDef *d = &c->def;
	int binary = !dc->charset || !strcmp(dc->charset, "binary");

	memset(c, 0, sizeof(*c));
	sluice__column_def__init(d);
	c->name = sl_xstrdup(dc->name);
	c->charset = sl_xstrdup(binary ? "binary" : dc->charset);
	d->name = c->name;
	d->charset = (char *)"";
	d->nullable = dc->nullable;
	d->is_unsigned = dc->is_unsigned;
	c->key_lit = SNAP_LIT_NONE;
	if (is(t, ints)) {
		d->type = !strcmp(t, "tinyint") ? FMT_TYPE_TINY : !strcmp(t, "smallint") ? FMT_TYPE_SHORT
			: !strcmp(t, "mediumint") ? FMT_TYPE_INT24 : !strcmp(t, "bigint") ? FMT_TYPE_LONGLONG
			: FMT_TYPE_LONG;
		c->kind = dc->is_unsigned ? SNAP_V_UINT : SNAP_V_INT;
		c->key_lit = SNAP_LIT_NUM;
	} else if (!strcmp(t, "decimal") || !strcmp(t, "numeric")) {
		d->type = FMT_TYPE_NEWDECIMAL;
		d->precision = dc->precision;
		d->scale = dc->scale;
		d->meta = dc->precision << 8 | dc->scale;
		c->kind = SNAP_V_DECIMAL;
		c->key_lit = SNAP_LIT_NUM;
	} else if (!strcmp(t, "float")) {
		d->type = FMT_TYPE_FLOAT;
		d->meta = 4;
		c->kind = SNAP_V_FLOAT;
	} else if (!strcmp(t, "double") || !strcmp(t, "real") || !strcmp(t, "double precision")) {
		d->type = FMT_TYPE_DOUBLE;
		d->meta = 8;
		c->kind = SNAP_V_DOUBLE;
	} else if (!strcmp(t, "date")) {
		d->type = FMT_TYPE_DATE;
		c->kind = SNAP_V_DATE;
		c->key_lit = SNAP_LIT_TEMPORAL;
	} else if (!strcmp(t, "time")) {
		d->type = FMT_TYPE_TIME2;
		d->meta = d->precision = dc->precision;
		c->kind = SNAP_V_TIME;
		c->key_lit = SNAP_LIT_TEMPORAL;
	} else if (!strcmp(t, "datetime")) {
		d->type = FMT_TYPE_DATETIME2;
		d->meta = d->precision = dc->precision;
		c->kind = SNAP_V_DATETIME;
		c->key_lit = SNAP_LIT_TEMPORAL;
	} else if (!strcmp(t, "timestamp")) {
		d->type = FMT_TYPE_TIMESTAMP2;
		d->meta = d->precision = dc->precision;
		c->kind = SNAP_V_TIMESTAMP;
		c->key_lit = SNAP_LIT_TEMPORAL;
	} else if (!strcmp(t, "year")) {
		d->type = FMT_TYPE_YEAR;
		c->kind = SNAP_V_YEAR;
		c->key_lit = SNAP_LIT_NUM;
	} else if (!strcmp(t, "bit")) {
		d->type = FMT_TYPE_BIT;
		d->meta = (uint32_t)(dc->max_len / 8) << 8 | (uint32_t)(dc->max_len % 8);
		c->kind = SNAP_V_BIT;
	} else if (!strcmp(t, "enum") || !strcmp(t, "set")) {
		int set = t[0] == 's';

		parse_labels(c, dc->column_type);
		d->type = FMT_TYPE_STRING;
		d->meta = (uint32_t)(set ? FMT_TYPE_SET : FMT_TYPE_ENUM) << 8 |
			  (uint32_t)(set ? (c->nlabels + 7) / 8 : c->nlabels > 255 ? 2 : 1);
		if (set && (d->meta & 0xff) > 4)
			d->meta = (d->meta & ~0xffu) | 8;
		d->enum_values = c->labels;
		d->n_enum_values = c->nlabels;
		c->kind = set ? SNAP_V_SET : SNAP_V_ENUM;
	} else if (!strcmp(t, "char") || !strcmp(t, "binary")) {
		uint32_t len = (uint32_t)(dc->octet_len ? dc->octet_len : dc->max_len);

		d->type = FMT_TYPE_STRING;
		d->meta = (uint32_t)(FMT_TYPE_STRING ^ ((len & 0x300) >> 4)) << 8 | (len & 0xff);
		c->kind = binary ? SNAP_V_BYTES : SNAP_V_STRING;
		c->key_lit = binary ? SNAP_LIT_BIN : SNAP_LIT_STR;
	} else if (!strcmp(t, "varchar") || !strcmp(t, "varbinary")) {
		d->type = FMT_TYPE_VARCHAR;
		d->meta = (uint32_t)(dc->octet_len ? dc->octet_len : dc->max_len);
		c->kind = binary ? SNAP_V_BYTES : SNAP_V_STRING;
		c->key_lit = binary ? SNAP_LIT_BIN : SNAP_LIT_STR;
	} else if (is(t, texts)) {
		int mysql_json = !strcmp(t, "json") && !mariadb;

		d->type = mysql_json ? FMT_TYPE_JSON : FMT_TYPE_BLOB;
		d->meta = t[0] == 't' ? 1 : t[0] == 'm' ? 3 : t[0] == 'l' || t[0] == 'j' ? 4 : 2;
		c->kind = mysql_json ? SNAP_V_JSON : binary ? SNAP_V_BYTES : SNAP_V_STRING;
		c->key_lit = binary ? SNAP_LIT_BIN : SNAP_LIT_STR;
	} else if (is(t, geoms)) {
		d->type = FMT_TYPE_GEOMETRY;
		d->meta = 4;
		c->kind = SNAP_V_GEOMETRY;
	} else {
		/* inet6, uuid, vector...: their text, which the type reads back */
		d->type = FMT_TYPE_VARCHAR;
		d->meta = 255;
		free(c->charset);
		c->charset = sl_xstrdup("utf8mb4");
		binary = 0;
		c->kind = SNAP_V_STRING;
	}
	if (c->kind == SNAP_V_STRING || c->kind == SNAP_V_ENUM || c->kind == SNAP_V_SET ||
	    c->kind == SNAP_V_BYTES) {
		d->charset = c->charset;
		d->collation = binary ? 63 : dc->collation_id;
	} else if (c->kind == SNAP_V_JSON) {
		d->charset = (char *)"utf8mb4";
	}
}

void snap_col_release(struct snap_col *c)
{
	for (size_t i = 0; i < c->nlabels; i++)
		free(c->labels[i].data);
	free(c->labels);
	free(c->name);
	free(c->charset);
	memset(c, 0, sizeof(*c));
}

int snap_select_expr(const struct snap_col *c, const char *ident, struct sl_buf *out, int *extra)
{
	*extra = c->kind == SNAP_V_ENUM || c->kind == SNAP_V_SET;
	if (c->kind == SNAP_V_FLOAT)	/* FLOAT text has 6 digits; the DOUBLE of it is exact */
		return sl_buf_addf(out, "CAST(%s AS DOUBLE)", ident);
	return sl_buf_adds(out, ident);
}

/* strtod() sets ERANGE for a subnormal result too (4.9e-324, the least
 * DOUBLE a server prints), which it still returns correctly rounded; only
 * an overflow (an infinity) is a bad value. */
static int underflow(enum snap_vkind kind, const Sluice__Value *v)
{
	if (kind == SNAP_V_DOUBLE)
		return isfinite(v->d);
	if (kind == SNAP_V_FLOAT)
		return isfinite(v->f);
	return 0;
}

static int bad(const struct snap_col *c, const char *t, unsigned long len, struct sl_err *err)
{
	return sl_err_set(err, -SL_EFORMAT, "column `%s`: unexpected value '%.*s' for its type",
			  c->name, (int)(len > 40 ? 40 : len), t);
}

/* days since 1970-01-01 of a civil date (Howard Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int snap_utc_seconds(const char *t, size_t len, int64_t *sec, uint32_t *usec)
{
	char buf[40];
	unsigned y, mo, d, h, mi, s;
	int n = 0;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, t, len);
	buf[len] = 0;
	if (sscanf(buf, "%4u-%2u-%2u %2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
		return -1;
	*usec = 0;
	if (buf[n] == '.') {
		unsigned mult = 100000;

		for (const char *p = buf + n + 1; *p >= '0' && *p <= '9' && mult; p++, mult /= 10)
			*usec += (uint32_t)(*p - '0') * mult;
	}
	if (y == 0 && mo == 0 && d == 0) {	/* the zero timestamp */
		*sec = 0;
		*usec = 0;
		return 0;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	*sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

/* A server's integer text (digits, a leading '-' when signed) short enough
 * that it cannot overflow: 1 with its value; else 0 and strtoll()/strtoull()
 * decide (and find what is wrong with it). */
static int small_int(const char *t, unsigned long len, int sign, uint64_t *u, int *neg)
{
	unsigned long i = sign && len && t[0] == '-';
	uint64_t x = 0;

	if (len == i || len - i > 18)	/* 10^18 - 1 fits either type */
		return 0;
	*neg = i;
	for (; i < len; i++) {
		unsigned d = (unsigned)(unsigned char)t[i] - '0';

		if (d > 9)
			return 0;
		x = x * 10 + d;
	}
	*u = x;
	return 1;
}

int snap_value_from_text(const struct snap_col *c, const char *t, unsigned long len,
			 const char *num, Sluice__Value *v, struct sl_err *err)
{
	char buf[96], *end;
	uint64_t x;
	int neg;

	*v = (Sluice__Value)SLUICE__VALUE__INIT;
	if (!t) {
		v->kind = SLUICE__VALUE__KIND__NULL;
		return 0;
	}
	v->b.data = (uint8_t *)(uintptr_t)t;
	v->b.len = len;
	switch (c->kind) {
	case SNAP_V_INT:
		if (small_int(t, len, 1, &x, &neg)) {
			v->kind = SLUICE__VALUE__KIND__INT;
			v->i = neg ? -(int64_t)x : (int64_t)x;
			v->b.data = NULL;
			v->b.len = 0;
			return 0;
		}
		/* fall through */
	case SNAP_V_UINT:
	case SNAP_V_YEAR:
		if (c->kind != SNAP_V_INT && small_int(t, len, 0, &x, &neg)) {
			v->kind = c->kind == SNAP_V_YEAR ? SLUICE__VALUE__KIND__YEAR
							 : SLUICE__VALUE__KIND__UINT;
			v->u = x;
			v->b.data = NULL;
			v->b.len = 0;
			return 0;
		}
		/* fall through */
	case SNAP_V_FLOAT:
	case SNAP_V_DOUBLE:
		if (len == 0 || len >= sizeof(buf))
			return bad(c, t, len, err);
		memcpy(buf, t, len);
		buf[len] = 0;
		errno = 0;
		v->b.data = NULL;
		v->b.len = 0;
		if (c->kind == SNAP_V_INT) {
			v->kind = SLUICE__VALUE__KIND__INT;
			v->i = strtoll(buf, &end, 10);
		} else if (c->kind == SNAP_V_UINT || c->kind == SNAP_V_YEAR) {
			v->kind = c->kind == SNAP_V_YEAR ? SLUICE__VALUE__KIND__YEAR : SLUICE__VALUE__KIND__UINT;
			if (buf[0] == '-')
				return bad(c, t, len, err);
			v->u = strtoull(buf, &end, 10);
		} else if (c->kind == SNAP_V_FLOAT) {
			v->kind = SLUICE__VALUE__KIND__FLOAT;
			v->f = (float)strtod(buf, &end);
		} else {
			v->kind = SLUICE__VALUE__KIND__DOUBLE;
			v->d = strtod(buf, &end);
		}
		if (*end || (errno == ERANGE && !underflow(c->kind, v)))
			return bad(c, t, len, err);
		return 0;
	case SNAP_V_DECIMAL:
		v->kind = SLUICE__VALUE__KIND__DECIMAL;
		return 0;
	case SNAP_V_STRING:
		v->kind = SLUICE__VALUE__KIND__STRING;
		return 0;
	case SNAP_V_BYTES:
		v->kind = SLUICE__VALUE__KIND__BYTES;
		return 0;
	case SNAP_V_DATE:
		v->kind = SLUICE__VALUE__KIND__DATE;
		return 0;
	case SNAP_V_TIME:
		v->kind = SLUICE__VALUE__KIND__TIME;
		return 0;
	case SNAP_V_DATETIME:
		v->kind = SLUICE__VALUE__KIND__DATETIME;
		return 0;
	case SNAP_V_TIMESTAMP: {
		int64_t sec;
		uint32_t us;

		if (snap_utc_seconds(t, len, &sec, &us))
			return bad(c, t, len, err);
		v->kind = SLUICE__VALUE__KIND__TIMESTAMP;
		v->i = sec;
		v->usec = us;
		v->b.data = NULL;
		v->b.len = 0;
		return 0;
	}
	case SNAP_V_BIT:
		if (len > 8)
			return bad(c, t, len, err);
		v->kind = SLUICE__VALUE__KIND__BIT;
		v->u = 0;
		for (unsigned long i = 0; i < len; i++)
			v->u = v->u << 8 | (uint8_t)t[i];
		v->b.data = NULL;
		v->b.len = 0;
		return 0;
	case SNAP_V_ENUM:
	case SNAP_V_SET:
		v->kind = c->kind == SNAP_V_ENUM ? SLUICE__VALUE__KIND__ENUM : SLUICE__VALUE__KIND__SET;
		v->has_b = 1;
		if (!num || !*num)
			return bad(c, t, len, err);
		v->u = strtoull(num, &end, 10);
		if (*end)
			return bad(c, num, strlen(num), err);
		if (v->kind == SLUICE__VALUE__KIND__ENUM && v->u == 0) {
			v->b.data = NULL;	/* the '' error value, as capture has it */
			v->b.len = 0;
		}
		return 0;
	case SNAP_V_JSON:
		v->kind = SLUICE__VALUE__KIND__JSON;
		return 0;
	case SNAP_V_GEOMETRY:
		v->kind = SLUICE__VALUE__KIND__GEOMETRY;
		return 0;
	}
	return bad(c, t, len, err);
}

int snap_key_literal(const struct snap_col *c, struct sl_buf *out, const char *v,
		     unsigned long len)
{
	int rc;

	if (!v)
		return sl_buf_adds(out, "NULL");
	switch (c->key_lit) {
	case SNAP_LIT_NUM:
		for (unsigned long i = 0; i < len; i++)
			if (!strchr("0123456789.-+eE", v[i]))
				return -SL_EFORMAT;
		return len ? sl_buf_add(out, v, len) : -SL_EFORMAT;
	case SNAP_LIT_TEMPORAL:
		for (unsigned long i = 0; i < len; i++)
			if (!strchr("0123456789-:. ", v[i]))
				return -SL_EFORMAT;
		if ((rc = sl_buf_addc(out, '\'')) || (rc = sl_buf_add(out, v, len)))
			return rc;
		return sl_buf_addc(out, '\'');
	case SNAP_LIT_STR:
		/* an introducer's literal is coercible: the column's collation wins */
		if ((rc = sl_buf_addf(out, "_%s ", c->charset)))
			return rc;
		return len ? fmt_sql_hex(out, v, len) : sl_buf_adds(out, "''");
	case SNAP_LIT_BIN:
		return len ? fmt_sql_hex(out, v, len) : sl_buf_adds(out, "''");
	default:
		return -SL_EFORMAT;
	}
}
