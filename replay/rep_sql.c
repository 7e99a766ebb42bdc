/* rep_sql.c - SQL text for row changes, sql_mode names and error helpers (no server needed). */
#include "rep_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "banned.h"

int rep__sql_table(struct sl_buf *out, const Sluice__TableDef *td)
{
	int rc = 0;

	if (td->db && td->db[0]) {
		if ((rc = fmt_sql_ident(out, td->db)) || (rc = sl_buf_addc(out, '.')))
			return rc;
	}
	return fmt_sql_ident(out, td->name ? td->name : "");
}

static int check_row(const Sluice__TableDef *td, const Sluice__Row *row)
{
	if (!row || row->n_values != td->n_columns)
		return -SL_EINVAL_ARG;
	return 0;
}

/* Column i of row is in its image (row NULL: every column is). */
static int present(const Sluice__Row *row, size_t i)
{
	return !row || !fmt_value_absent(row->values[i]);
}

int rep__row_shape(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row)
{
	size_t nb = (td->n_columns + 7) / 8;
	int rc;

	if (check_row(td, row))
		return -SL_EINVAL_ARG;
	if (fmt_row_full(row))
		return 0;
	if ((rc = sl_buf_reserve(out, nb)))
		return rc;
	memset(out->data + out->len, 0, nb);
	for (size_t i = 0; i < td->n_columns; i++)
		if (present(row, i))
			out->data[out->len + i / 8] |= (uint8_t)(1u << (i % 8));
	out->len += nb;
	return 0;
}

int rep__row_missing_key(const Sluice__TableDef *td, const Sluice__Row *before)
{
	if (check_row(td, before))
		return -1;
	for (size_t i = 0; i < td->n_primary_key; i++)
		if (td->primary_key[i] < td->n_columns && !present(before, td->primary_key[i]))
			return (int)td->primary_key[i];
	return -1;
}

int rep__sql_insert_head_row(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row)
{
	int rc, first = 1;

	if (row && (rc = check_row(td, row)))
		return rc;
	if ((rc = sl_buf_adds(out, "INSERT INTO ")) || (rc = rep__sql_table(out, td)) ||
	    (rc = sl_buf_adds(out, " (")))
		return rc;
	for (size_t i = 0; i < td->n_columns; i++) {
		if (!present(row, i))
			continue;
		if (!first && (rc = sl_buf_addc(out, ',')))
			return rc;
		first = 0;
		if ((rc = fmt_sql_ident(out, td->columns[i]->name)))
			return rc;
	}
	return sl_buf_adds(out, ") VALUES ");
}

int rep__sql_insert_head(struct sl_buf *out, const Sluice__TableDef *td)
{
	return rep__sql_insert_head_row(out, td, NULL);
}

int rep__sql_row_tuple(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row)
{
	int rc, first = 1;

	if ((rc = check_row(td, row)) || (rc = sl_buf_addc(out, '(')))
		return rc;
	for (size_t i = 0; i < td->n_columns; i++) {
		if (!present(row, i))
			continue;
		if (!first && (rc = sl_buf_addc(out, ',')))
			return rc;
		first = 0;
		if ((rc = fmt_value_sql(row->values[i], td->columns[i], out)))
			return rc;
	}
	return sl_buf_addc(out, ')');
}

/* The literal a WHERE clause compares with: exact, also for FLOAT (see rep_int.h). */
static int where_literal(struct sl_buf *out, const Sluice__Value *v, const Sluice__ColumnDef *c)
{
	if (v->kind == SLUICE__VALUE__KIND__FLOAT && isfinite(v->f) && v->f != 0)
		return sl_buf_addf(out, "%.17g", (double)v->f);
	return fmt_value_sql(v, c, out);
}

/* `c`=v or `c`<=>v, joined by " AND ". */
static int where_col(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row,
		     size_t col, int nullsafe, int first)
{
	int rc;

	if (!first && (rc = sl_buf_adds(out, " AND ")))
		return rc;
	if ((rc = fmt_sql_ident(out, td->columns[col]->name)))
		return rc;
	if (nullsafe || row->values[col]->kind == SLUICE__VALUE__KIND__NULL)
		rc = sl_buf_adds(out, "<=>");
	else
		rc = sl_buf_addc(out, '=');
	return rc ? rc : where_literal(out, row->values[col], td->columns[col]);
}

static int check_pk(const Sluice__TableDef *td)
{
	for (size_t i = 0; i < td->n_primary_key; i++)
		if (td->primary_key[i] >= td->n_columns)
			return -SL_EINVAL_ARG;
	return 0;
}

/* " WHERE <key>" for one row: the PK with = (every key column must be in
 * the before image, else -SL_ECONFIG), or, without a PK, every column
 * present in the before image with <=> and LIMIT 1 (none: -SL_ECONFIG). */
static int where_row(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *before)
{
	int rc, first = 1;

	if ((rc = check_pk(td)))
		return rc;
	if (td->n_primary_key) {
		if (rep__row_missing_key(td, before) >= 0)
			return -SL_ECONFIG;
		if ((rc = sl_buf_adds(out, " WHERE ")))
			return rc;
		for (size_t i = 0; i < td->n_primary_key; i++)
			if ((rc = where_col(out, td, before, td->primary_key[i], 0, i == 0)))
				return rc;
		return 0;
	}
	if (td->n_columns && fmt_row_full(before) == 0) {
		size_t i = 0;

		while (i < td->n_columns && !present(before, i))
			i++;
		if (i == td->n_columns)
			return -SL_ECONFIG;
	}
	if ((rc = sl_buf_adds(out, " WHERE ")))
		return rc;
	for (size_t i = 0; i < td->n_columns; i++) {
		if (!present(before, i))
			continue;
		if ((rc = where_col(out, td, before, i, 1, first)))
			return rc;
		first = 0;
	}
	if (!td->n_columns && (rc = sl_buf_adds(out, "1")))
		return rc;
	return sl_buf_adds(out, " LIMIT 1");
}

/* The column an UPDATE whose after image is empty sets to itself, so that
 * the statement stays valid and still matches (counts) its row: the first
 * key column, else the first column present in the before image. */
static int value_eq(const Sluice__Value *a, const Sluice__Value *b)
{
	if (!a || !b)
		return a == b;
	return a->kind == b->kind && a->i == b->i && a->u == b->u && a->usec == b->usec &&
	       !memcmp(&a->f, &b->f, sizeof(a->f)) && !memcmp(&a->d, &b->d, sizeof(a->d)) &&
	       a->b.len == b->b.len && (!a->b.len || !memcmp(a->b.data, b->b.data, a->b.len));
}

/* TIMESTAMP and DATETIME columns may be ON UPDATE CURRENT_TIMESTAMP on the
 * destination: always set them, so the destination keeps the source's value. */
static int may_auto_update(const Sluice__ColumnDef *c)
{
	return c->type == FMT_TYPE_TIMESTAMP || c->type == FMT_TYPE_DATETIME ||
	       c->type == FMT_TYPE_TIMESTAMP2 || c->type == FMT_TYPE_DATETIME2;
}

/* An UPDATE sets only the columns whose value changed: less to parse and to
 * compare on the destination, same result. */
static int unchanged(const Sluice__TableDef *td, const Sluice__Row *before,
		     const Sluice__Row *after, size_t i)
{
	return present(before, i) && !may_auto_update(td->columns[i]) &&
	       value_eq(before->values[i], after->values[i]);
}

static size_t noop_col(const Sluice__TableDef *td, const Sluice__Row *before)
{
	if (td->n_primary_key)
		return td->primary_key[0];
	for (size_t i = 0; i < td->n_columns; i++)
		if (present(before, i))
			return i;
	return 0;
}

int rep__sql_update(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *before,
		    const Sluice__Row *after)
{
	int rc, first = 1;

	if ((rc = check_row(td, before)) || (rc = check_row(td, after)) || (rc = check_pk(td)))
		return rc;
	if (td->n_columns == 0)
		return -SL_EINVAL_ARG;
	if (rep__row_missing_key(td, before) >= 0)
		return -SL_ECONFIG;
	if ((rc = sl_buf_adds(out, "UPDATE ")) || (rc = rep__sql_table(out, td)) ||
	    (rc = sl_buf_adds(out, " SET ")))
		return rc;
	for (size_t i = 0; i < td->n_columns; i++) {
		if (!present(after, i) || unchanged(td, before, after, i))
			continue;
		if (!first && (rc = sl_buf_addc(out, ',')))
			return rc;
		first = 0;
		if ((rc = fmt_sql_ident(out, td->columns[i]->name)) || (rc = sl_buf_addc(out, '=')) ||
		    (rc = fmt_value_sql(after->values[i], td->columns[i], out)))
			return rc;
	}
	if (first) {
		const char *name = td->columns[noop_col(td, before)]->name;

		if ((rc = fmt_sql_ident(out, name)) || (rc = sl_buf_addc(out, '=')) ||
		    (rc = fmt_sql_ident(out, name)))
			return rc;
	}
	return where_row(out, td, before);
}

int rep__sql_delete_one(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *before)
{
	int rc;

	if ((rc = check_row(td, before)) || (rc = sl_buf_adds(out, "DELETE FROM ")) ||
	    (rc = rep__sql_table(out, td)))
		return rc;
	return where_row(out, td, before);
}

int rep__sql_delete_in_head(struct sl_buf *out, const Sluice__TableDef *td)
{
	int rc;

	if (!td->n_primary_key || check_pk(td))
		return -SL_EINVAL_ARG;
	if ((rc = sl_buf_adds(out, "DELETE FROM ")) || (rc = rep__sql_table(out, td)) ||
	    (rc = sl_buf_adds(out, td->n_primary_key > 1 ? " WHERE (" : " WHERE ")))
		return rc;
	for (size_t i = 0; i < td->n_primary_key; i++) {
		if (i && (rc = sl_buf_addc(out, ',')))
			return rc;
		if ((rc = fmt_sql_ident(out, td->columns[td->primary_key[i]]->name)))
			return rc;
	}
	return sl_buf_adds(out, td->n_primary_key > 1 ? ") IN (" : " IN (");
}

int rep__sql_pk_tuple(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row)
{
	int rc;

	if (!td->n_primary_key || (rc = check_pk(td)))
		return -SL_EINVAL_ARG;
	if ((rc = check_row(td, row)))
		return rc;
	if (rep__row_missing_key(td, row) >= 0)
		return -SL_ECONFIG;
	if (td->n_primary_key > 1 && (rc = sl_buf_addc(out, '(')))
		return rc;
	for (size_t i = 0; i < td->n_primary_key; i++) {
		uint32_t k = td->primary_key[i];

		if (i && (rc = sl_buf_addc(out, ',')))
			return rc;
		if ((rc = where_literal(out, row->values[k], td->columns[k])))
			return rc;
	}
	return td->n_primary_key > 1 ? sl_buf_addc(out, ')') : 0;
}

/* MariaDB's sql_mode bits (sql_class.h MODE_*); MySQL differs at bit 4
 * (unused), bits 8-17 (removed in 8.0), 28 (removed in 8.0) and 32
 * (TIME_TRUNCATE_FRACTIONAL). */
static const char *const mariadb_modes[] = {
	"REAL_AS_FLOAT", "PIPES_AS_CONCAT", "ANSI_QUOTES", "IGNORE_SPACE",
	"IGNORE_BAD_TABLE_OPTIONS", "ONLY_FULL_GROUP_BY", "NO_UNSIGNED_SUBTRACTION",
	"NO_DIR_IN_CREATE", "POSTGRESQL", "ORACLE", "MSSQL", "DB2", "MAXDB",
	"NO_KEY_OPTIONS", "NO_TABLE_OPTIONS", "NO_FIELD_OPTIONS", "MYSQL323", "MYSQL40",
	"ANSI", "NO_AUTO_VALUE_ON_ZERO", "NO_BACKSLASH_ESCAPES", "STRICT_TRANS_TABLES",
	"STRICT_ALL_TABLES", "NO_ZERO_IN_DATE", "NO_ZERO_DATE", "ALLOW_INVALID_DATES",
	"ERROR_FOR_DIVISION_BY_ZERO", "TRADITIONAL", "NO_AUTO_CREATE_USER",
	"HIGH_NOT_PRECEDENCE", "NO_ENGINE_SUBSTITUTION", "PAD_CHAR_TO_FULL_LENGTH",
	"EMPTY_STRING_IS_NULL", "SIMULTANEOUS_ASSIGNMENT", "TIME_ROUND_FRACTIONAL",
};

int rep__sql_mode_names(struct sl_buf *out, uint64_t bits, int src_mysql, int dest_mariadb)
{
	size_t n = sizeof(mariadb_modes) / sizeof(mariadb_modes[0]);
	int rc, first = 1;

	for (unsigned b = 0; b < 64; b++) {
		const char *name;

		if (!(bits >> b & 1))
			continue;
		if (src_mysql) {
			/* Bit 4 is unused; the combination modes 8-12, 16-18 and 27
			 * only name bits that are set anyway, and MariaDB's ORACLE
			 * would switch the parser. Bit 32 means something else. */
			if (b == 4 || (b >= 8 && b <= 12) || (b >= 16 && b <= 18) || b == 27 ||
			    b >= 32)
				continue;
		}
		if (!dest_mariadb && (b == 4 || (b >= 8 && b <= 17) || b == 28 || b >= 32))
			continue;
		if (b >= n)
			continue;
		name = mariadb_modes[b];
		if ((!first && (rc = sl_buf_addc(out, ','))) || (rc = sl_buf_adds(out, name)))
			return rc;
		first = 0;
	}
	return 0;
}

int rep__ddl_already_done(unsigned errnum)
{
	switch (errnum) {
	case 1007:	/* ER_DB_CREATE_EXISTS */
	case 1008:	/* ER_DB_DROP_EXISTS */
	case 1050:	/* ER_TABLE_EXISTS_ERROR */
	case 1051:	/* ER_BAD_TABLE_ERROR */
	case 1054:	/* ER_BAD_FIELD_ERROR (column already dropped or renamed) */
	case 1060:	/* ER_DUP_FIELDNAME */
	case 1061:	/* ER_DUP_KEYNAME */
	case 1091:	/* ER_CANT_DROP_FIELD_OR_KEY */
	case 1146:	/* ER_NO_SUCH_TABLE (drop, rename already done) */
	case 1304:	/* ER_SP_ALREADY_EXISTS */
	case 1305:	/* ER_SP_DOES_NOT_EXIST */
	case 1359:	/* ER_TRG_ALREADY_EXISTS */
	case 1360:	/* ER_TRG_DOES_NOT_EXIST */
	case 1396:	/* ER_CANNOT_USER */
	case 1826:	/* ER_FK_DUP_NAME */
		return 1;
	default:
		return 0;
	}
}

int rep__stmt_error(struct sl_err *err, int code, const char *cause, const char *ctx,
		    const char *sql, size_t len)
{
	char snip[REP_SNIPPET + 8];

	db_sql_snippet(sql ? sql : "", sql ? len : 0, REP_SNIPPET, snip, sizeof(snip));
	return sl_err_set(err, code, "%s%s%s: %s", cause, ctx && ctx[0] ? " " : "", ctx ? ctx : "",
			  snip);
}

int rep__packet_too_big(unsigned errnum, size_t qlen, size_t max_packet)
{
	if (errnum == 1153)	/* ER_NET_PACKET_TOO_LARGE */
		return 1;
	if (errnum != 2006 && errnum != 2013)	/* CR_SERVER_GONE_ERROR, CR_SERVER_LOST */
		return 0;
	return qlen >= ((size_t)1 << 20) || (max_packet && qlen > max_packet / 2);
}
