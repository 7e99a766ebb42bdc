/* rep_load.c - one snapshot chunk into the destination: LOAD DATA LOCAL INFILE fed from memory, or multi-row INSERTs, in one transaction with its `sluice`.`snapshot_chunks` row. */
#include "rep.h"
#include "rep_snap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>
#include "banned.h"

void rep__chunk_release(struct rep_chunk *c)
{
	if (c->td)
		sluice__table_def__free_unpacked(c->td, NULL);
	free(c->raw);
	free(c->off);
	free(c->drop);
	free(c->db);
	free(c->table);
	memset(c, 0, sizeof(*c));
}

void rep__chunk_add(struct rep_chunk *c, const uint8_t *body, size_t len)
{
	if (c->n + 2 > c->off_cap) {
		c->off_cap = c->off_cap ? 2 * c->off_cap : 1024;
		c->off = sl_xrealloc(c->off, c->off_cap * sizeof(*c->off));
	}
	if (len > c->raw_cap - c->raw_len) {
		size_t cap = c->raw_cap ? c->raw_cap : (size_t)64 << 10;

		while (cap - c->raw_len < len)
			cap *= 2;
		c->raw = sl_xrealloc(c->raw, cap);
		c->raw_cap = cap;
	}
	memcpy(c->raw + c->raw_len, body, len);
	c->off[c->n] = c->raw_len;
	c->raw_len += len;
	c->off[++c->n] = c->raw_len;
	c->bytes = c->raw_cap + c->off_cap * sizeof(*c->off);
}

void rep__rowdec_init(struct rep_rowdec *d)
{
	memset(&d->view, 0, sizeof(d->view));
	fmt_arena_init(&d->arena);
}

void rep__rowdec_release(struct rep_rowdec *d)
{
	fmt_rowview_release(&d->view);
	fmt_arena_release(&d->arena);
}

int rep__chunk_row(const struct rep_chunk *c, size_t r, struct rep_rowdec *d,
		   const Sluice__Row **row, struct sl_err *err)
{
	const uint8_t *p = c->raw + c->off[r];
	size_t len = c->off[r + 1] - c->off[r];
	struct sl_err e = SL_ERR_INIT;
	Sluice__Record *rec;

	if (!fmt_rowview_decode(&d->view, p, len, row))
		return 0;
	fmt_arena_reset(&d->arena);
	if (fmt_record_decode(p, len, &d->arena, &rec, &e) || rec->body_case != SLUICE__RECORD__BODY_ROW)
		return sl_err_set(err, -SL_ECORRUPT, "chunk %" PRIu64 " of `%s`.`%s`: row %zu does "
				  "not decode", c->index, c->db, c->table, r);
	*row = rec->row->after;
	return 0;
}

/* ---- the LOAD DATA text (rep_snap.h) ---- */

static enum rep_lcol kind_mode(const Sluice__Value *v)
{
	switch (v->kind) {
	case SLUICE__VALUE__KIND__BIT:
		return RL_UNSIGNED;
	case SLUICE__VALUE__KIND__ENUM:
	case SLUICE__VALUE__KIND__SET:
		return v->has_b ? RL_DIRECT : RL_UNSIGNED;
	case SLUICE__VALUE__KIND__JSON:
		return RL_JSON;
	case SLUICE__VALUE__KIND__GEOMETRY:
		return RL_VAR;
	default:
		return RL_DIRECT;
	}
}

void rep__load_plan_init(const Sluice__TableDef *td, const uint8_t *drop, enum rep_lcol *plan,
			 uint8_t *seen)
{
	for (size_t i = 0; i < td->n_columns; i++) {
		plan[i] = drop && drop[i] ? RL_DISCARD : RL_DIRECT;
		seen[i] = 0;
	}
}

int rep__load_plan_row(const Sluice__TableDef *td, const Sluice__Row *row, enum rep_lcol *plan,
		       uint8_t *seen)
{
	if (!row || row->n_values != td->n_columns)
		return -SL_EFORMAT;
	for (size_t i = 0; i < td->n_columns; i++) {
		const Sluice__Value *v = row->values[i];
		enum rep_lcol m;

		if (plan[i] == RL_DISCARD || v->kind == SLUICE__VALUE__KIND__NULL)
			continue;
		if (fmt_value_absent(v))
			return -SL_EFORMAT;
		m = kind_mode(v);
		if (seen[i] && plan[i] != m)
			return -SL_EFORMAT;	/* an ENUM by label here, by number there */
		seen[i] = 1;
		plan[i] = m;
	}
	return 0;
}

int rep__load_stmt(struct sl_buf *out, const Sluice__TableDef *td, const enum rep_lcol *plan)
{
	int rc, vars = 0;

	if ((rc = sl_buf_adds(out, "LOAD DATA LOCAL INFILE 'sluice-chunk' INTO TABLE ")) ||
	    (rc = rep__sql_table(out, td)) ||
	    (rc = sl_buf_adds(out, " CHARACTER SET binary FIELDS TERMINATED BY '\\t' ENCLOSED BY '' "
			      "ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' STARTING BY '' (")))
		return rc;
	for (size_t i = 0; i < td->n_columns; i++) {
		if (i && (rc = sl_buf_addc(out, ',')))
			return rc;
		if (plan[i] == RL_DIRECT)
			rc = fmt_sql_ident(out, td->columns[i]->name);
		else if (plan[i] == RL_DISCARD)	/* the destination computes it */
			rc = sl_buf_adds(out, "@discard");
		else
			rc = sl_buf_addf(out, "@v%zu", i);
		if (rc)
			return rc;
		vars |= plan[i] != RL_DIRECT && plan[i] != RL_DISCARD;
	}
	if ((rc = sl_buf_addc(out, ')')))
		return rc;
	for (size_t i = 0, n = 0; vars && i < td->n_columns; i++) {
		if (plan[i] == RL_DIRECT || plan[i] == RL_DISCARD)
			continue;
		if ((rc = sl_buf_adds(out, n++ ? "," : " SET ")) ||
		    (rc = fmt_sql_ident(out, td->columns[i]->name)))
			return rc;
		switch (plan[i]) {
		case RL_UNSIGNED:
			rc = sl_buf_addf(out, "=CAST(@v%zu AS UNSIGNED)", i);
			break;
		case RL_JSON:
			rc = sl_buf_addf(out, "=CONVERT(@v%zu USING utf8mb4)", i);
			break;
		default:
			rc = sl_buf_addf(out, "=@v%zu", i);
			break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* What follows the backslash for a byte that needs one; 0: none. */
static const uint8_t esc_char[256] = { ['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', [0] = '0' };

/* Non-zero when a byte of w is c (the "has zero byte" test on w ^ c...c). */
static inline uint64_t has_byte(uint64_t w, uint8_t c)
{
	uint64_t x = w ^ (0x0101010101010101ULL * c);

	return (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
}

/* Raw bytes with \ TAB LF NUL escaped: runs without them copied whole. */
static int add_escaped(struct sl_buf *out, const uint8_t *p, size_t n)
{
	int rc = sl_buf_reserve(out, 2 * n);
	uint8_t *o;
	size_t i = 0;

	if (rc)
		return rc;
	o = out->data + out->len;
	while (i < n) {
		size_t j = i;

		/* eight bytes at a time while none of them is NUL TAB LF or \ */
		while (n - j >= 8) {
			uint64_t w;

			memcpy(&w, p + j, 8);
			if (has_byte(w, 0) | has_byte(w, '\t') | has_byte(w, '\n') | has_byte(w, '\\'))
				break;
			j += 8;
		}
		while (j < n && !esc_char[p[j]])
			j++;
		memcpy(o, p + i, j - i);
		o += j - i;
		if (j == n)
			break;
		*o++ = '\\';
		*o++ = esc_char[p[j]];
		i = j + 1;
	}
	out->len = (size_t)(o - out->data);
	return 0;
}

/* Decimal digits of v (after a '-' when neg), without printf. */
static int add_u64(struct sl_buf *out, uint64_t v, int neg)
{
	char tmp[24], *end = tmp + sizeof(tmp), *q = end;

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		*--q = '-';
	return sl_buf_add(out, q, (size_t)(end - q));
}

static int add_i64(struct sl_buf *out, int64_t v)
{
	return v < 0 ? add_u64(out, -(uint64_t)v, 1) : add_u64(out, (uint64_t)v, 0);
}

/* fmt_value_sql()'s literal as a field: quotes dropped, NULL as \N. */
static int add_literal(struct sl_buf *out, const Sluice__Value *v, const Sluice__ColumnDef *c)
{
	size_t start = out->len, n;
	int rc = fmt_value_sql(v, c, out);

	if (rc)
		return rc;
	n = out->len - start;
	if (n == 4 && !memcmp(out->data + start, "NULL", 4)) {
		out->len = start;
		return sl_buf_adds(out, "\\N");
	}
	if (n >= 2 && out->data[start] == '\'' && out->data[out->len - 1] == '\'') {
		memmove(out->data + start, out->data + start + 1, n - 2);
		out->len -= 2;
	}
	return 0;
}

static int add_field(struct sl_buf *out, const Sluice__Value *v, const Sluice__ColumnDef *c)
{
	switch (v->kind) {
	case SLUICE__VALUE__KIND__NULL:
		return sl_buf_adds(out, "\\N");
	case SLUICE__VALUE__KIND__INT:
		return add_i64(out, v->i);
	case SLUICE__VALUE__KIND__UINT:
	case SLUICE__VALUE__KIND__BIT:
		return add_u64(out, v->u, 0);
	case SLUICE__VALUE__KIND__YEAR:
		/* the text "0" would be the year 2000 */
		return v->u ? add_u64(out, v->u, 0) : sl_buf_adds(out, "0000");
	case SLUICE__VALUE__KIND__ENUM:
	case SLUICE__VALUE__KIND__SET:
		if (!v->has_b)
			return add_u64(out, v->u, 0);
		return add_escaped(out, v->b.data, v->b.len);
	case SLUICE__VALUE__KIND__STRING:
	case SLUICE__VALUE__KIND__BYTES:
	case SLUICE__VALUE__KIND__GEOMETRY:
	case SLUICE__VALUE__KIND__JSON:
		return add_escaped(out, v->b.data, v->b.len);
	case SLUICE__VALUE__KIND__ABSENT:
		return -SL_EINVAL_ARG;
	default:	/* numbers and temporal values: exact text */
		return add_literal(out, v, c);
	}
}

int rep__load_text(struct sl_buf *out, const Sluice__TableDef *td, const enum rep_lcol *plan,
		   const Sluice__Row *row)
{
	int rc;

	if (!row || row->n_values != td->n_columns)
		return -SL_EINVAL_ARG;
	for (size_t i = 0; i < td->n_columns; i++) {
		if (i && (rc = sl_buf_addc(out, '\t')))
			return rc;
		if (plan && plan[i] == RL_DISCARD)
			rc = sl_buf_adds(out, "\\N");
		else
			rc = add_field(out, row->values[i], td->columns[i]);
		if (rc)
			return rc;
	}
	return sl_buf_addc(out, '\n');
}

/* ---- the connection ---- */

static int infile_init(void **ptr, const char *name, void *arg)
{
	struct rep_loader *l = arg;

	(void)name;
	l->feed_off = 0;
	*ptr = l;
	return 0;
}

static int infile_read(void *ptr, char *buf, unsigned n)
{
	struct rep_loader *l = ptr;
	size_t left = l->feed_len - l->feed_off;

	if (left > n)
		left = n;
	memcpy(buf, l->feed + l->feed_off, left);
	l->feed_off += left;
	return (int)left;
}

static void infile_end(void *ptr)
{
	(void)ptr;
}

static int infile_error(void *ptr, char *msg, unsigned n)
{
	(void)ptr;
	snprintf(msg, n, "sluice chunk feed failed");
	return 2000;
}

int rep__loader_open(struct rep_loader *l, const char *url, const char *consumer, unsigned id,
		     struct sl_err *err)
{
	int rc;

	l->w.id = (int)id;
	l->w.load = 1;
	sl_buf_init(&l->text, (size_t)1 << 30);
	sl_buf_init(&l->sql, (size_t)1 << 30);
	rep__rowdec_init(&l->dec);
	if ((rc = rep__conn_open(&l->w, url, err)) ||
	    (rc = rep__conn_lock(&l->w, consumer, id, 10, 1, err)))
		return rc;
	mysql_set_local_infile_handler(l->w.db, infile_init, infile_read, infile_end, infile_error, l);
	return 0;
}

void rep__loader_close(struct rep_loader *l)
{
	rep__conn_close(&l->w);
	sl_buf_release(&l->text);
	sl_buf_release(&l->sql);
	rep__rowdec_release(&l->dec);
}

/* The error and the first warning of the last statement as err. */
static int load_error(struct rep_loader *l, const struct rep_chunk *c, const char *what,
		      struct sl_err *err)
{
	char reason[600], ctx[400];

	db_reason(mysql_error(l->w.db), mysql_errno(l->w.db), reason, sizeof(reason));
	snprintf(ctx, sizeof(ctx), "loading chunk %" PRIu64 " of `%s`.`%s` (run %" PRIu32
		 ") on destination %s", c->index, c->db, c->table, c->run, l->w.dest);
	return rep__stmt_error(err, db_code(l->w.db), reason, ctx, what, strlen(what));
}

static int check_result(struct rep_loader *l, const struct rep_chunk *c, uint64_t expect,
			const char *what, struct sl_err *err)
{
	my_ulonglong aff = mysql_affected_rows(l->w.db);
	unsigned nw = mysql_warning_count(l->w.db);
	char warn[400] = "";

	if (nw) {
		MYSQL_RES *res;
		MYSQL_ROW row;

		if (!mysql_real_query(l->w.db, "SHOW WARNINGS LIMIT 1", 21) &&
		    (res = mysql_store_result(l->w.db))) {
			if ((row = mysql_fetch_row(res)) && mysql_num_fields(res) >= 3)
				snprintf(warn, sizeof(warn), "%s %s: %s", row[0] ? row[0] : "",
					 row[1] ? row[1] : "", row[2] ? row[2] : "");
			mysql_free_result(res);
		}
		return sl_err_set(err, -SL_EAPPLY, "%u warnings (%s) loading chunk %" PRIu64
				  " of `%s`.`%s` on destination %s: a value was changed on the way, "
				  "nothing of the chunk is committed", nw, warn, c->index, c->db,
				  c->table, l->w.dest);
	}
	if (aff != expect)
		return sl_err_set(err, -SL_EAPPLY, "%s took %llu rows of chunk %" PRIu64 " of `%s`.`%s` "
				  "where %" PRIu64 " were sent, on destination %s", what,
				  (unsigned long long)aff, c->index, c->db, c->table, expect, l->w.dest);
	return 0;
}

static int is_local_refused(unsigned e)
{
	/* MariaDB 1148 / 4166, MySQL 3948, the client 2068 */
	return e == 1148 || e == 3948 || e == 4166 || e == 2068;
}

/* Each row of c decoded (l->dec, one at a time), folded into the
 * plan and rendered as LOAD DATA text, then the statement. 2: the rows do
 * not fit one plan (the INSERT way); 1: the server refused LOAD DATA LOCAL
 * (nothing loaded); 0 loaded; <0. */
static int load_data(struct rep_loader *l, const struct rep_chunk *c, enum rep_lcol *plan,
		     struct sl_err *err)
{
	uint8_t *seen = sl_xcalloc(c->td->n_columns + 1, 1);
	int rc = 0;

	sl_buf_reset(&l->text);
	sl_buf_reset(&l->sql);
	/* the text is about as long as the packed rows: one allocation, not doublings */
	if ((rc = sl_buf_reserve(&l->text, c->raw_len + c->raw_len / 4)))
		goto out;
	rep__load_plan_init(c->td, c->drop, plan, seen);
	for (size_t r = 0; r < c->n; r++) {
		const Sluice__Row *row;

		if ((rc = rep__chunk_row(c, r, &l->dec, &row, err)))
			goto out;
		if (rep__load_plan_row(c->td, row, plan, seen)) {
			rc = 2;
			goto out;
		}
		if ((rc = rep__load_text(&l->text, c->td, plan, row))) {
			rc = sl_err_set(err, rc, "chunk %" PRIu64 " of `%s`.`%s`: row %zu cannot be "
					"rendered (%s)", c->index, c->db, c->table, r, sl_strerror(rc));
			goto out;
		}
	}
	if ((rc = rep__load_stmt(&l->sql, c->td, plan))) {
		rc = sl_err_set(err, rc, "chunk %" PRIu64 " of `%s`.`%s`: LOAD DATA statement: %s",
				c->index, c->db, c->table, sl_strerror(rc));
		goto out;
	}
	l->feed = l->text.data;
	l->feed_len = l->text.len;
	if (mysql_real_query(l->w.db, (const char *)l->sql.data, l->sql.len)) {
		if (is_local_refused(mysql_errno(l->w.db)))
			rc = 1;
		else
			rc = load_error(l, c, sl_buf_cstr(&l->sql), err);
		goto out;
	}
	rc = check_result(l, c, c->n, "LOAD DATA", err);
out:
	fmt_arena_reset(&l->dec.arena);
	free(seen);
	return rc;
}

/* Row r of c decoded (l->dec), without the columns the
 * destination computes (c->drop: into *tmp and vals): valid until the
 * next call. */
static int row_of(struct rep_loader *l, const struct rep_chunk *c, size_t r, Sluice__Row *tmp,
		  Sluice__Value **vals, const Sluice__Row **row, struct sl_err *err)
{
	int rc;

	if ((rc = rep__chunk_row(c, r, &l->dec, row, err)))
		return rc;
	if (c->drop && *row && (*row)->n_values == c->td->n_columns)
		*row = rep__row_strip(*row, c->drop, tmp, vals);
	/* else a mismatch: rep_sql.c says so */
	return 0;
}

/* Multi-row INSERTs of at most half of max_allowed_packet each, without
 * the columns the destination computes. */
static int load_inserts(struct rep_loader *l, const struct rep_chunk *c, struct sl_err *err)
{
	size_t limit = l->w.max_packet / 2, r = 0;
	const Sluice__TableDef *td = c->td;
	Sluice__TableDef *stripped = NULL;
	Sluice__Value **vals = NULL;
	Sluice__Row srow;
	int rc = 0, key_lost;

	if (c->drop) {
		td = stripped = rep__def_strip(c->td, c->drop, &key_lost);
		vals = sl_xcalloc(c->td->n_columns + 1, sizeof(*vals));
	}
	while (r < c->n) {
		const Sluice__Row *row;
		uint64_t n = 0;

		sl_buf_reset(&l->sql);
		if ((rc = row_of(l, c, r, &srow, vals, &row, err)))
			goto out;
		if ((rc = rep__sql_insert_head_row(&l->sql, td, row)))
			goto render;
		while (r < c->n) {
			size_t mark = l->sql.len;

			if ((rc = row_of(l, c, r, &srow, vals, &row, err)))
				goto out;

			/* rows of one INSERT name the same columns (partial images) */
			if (n && !fmt_row_full(row))
				break;
			if ((n && (rc = sl_buf_addc(&l->sql, ','))) ||
			    (rc = rep__sql_row_tuple(&l->sql, td, row)))
				goto render;
			if (n && l->sql.len > limit) {
				l->sql.len = mark;
				break;
			}
			n++;
			r++;
			if (!fmt_row_full(row))
				break;
		}
		if (mysql_real_query(l->w.db, (const char *)l->sql.data, l->sql.len)) {
			rc = load_error(l, c, sl_buf_cstr(&l->sql), err);
			goto out;
		}
		if ((rc = check_result(l, c, n, "INSERT", err)))
			goto out;
	}
	goto out;
render:
	rc = sl_err_set(err, rc, "chunk %" PRIu64 " of `%s`.`%s`: row %zu cannot be rendered (%s)",
			c->index, c->db, c->table, r, sl_strerror(rc));
out:
	fmt_arena_reset(&l->dec.arena);
	rep__def_strip_free(stripped);
	free(vals);
	return rc;
}

static int exec_sql(struct rep_loader *l, const struct rep_chunk *c, struct sl_err *err)
{
	if (mysql_real_query(l->w.db, (const char *)l->sql.data, l->sql.len))
		return load_error(l, c, sl_buf_cstr(&l->sql), err);
	return 0;
}

/* "WHERE stream_id=.. AND db=.. AND tbl=.." */
static int chunk_where(struct sl_buf *b, const struct rep_loader *l, const struct rep_chunk *c)
{
	int rc;

	if ((rc = sl_buf_addf(b, " WHERE `stream_id`='%s' AND `db`=", l->sid)) ||
	    (rc = fmt_sql_str(b, c->db)) || (rc = sl_buf_adds(b, " AND `tbl`=")) ||
	    (rc = fmt_sql_str(b, c->table)))
		return rc;
	return 0;
}

/*
 * The chunk's `sluice`.`snapshot_chunks` row (and, for a keyless table read
 * again, the forgetting of its earlier chunks) is the first statement of
 * the chunk's transaction: when the load goes to the destination's binlog,
 * its first row event marks the transaction as sluice replay's, and a
 * capture of the destination leaves it out whole (capture/cap_loop.c).
 * 1 when a session of an earlier replay loaded the chunk already.
 */
static int mark_chunk(struct rep_loader *l, const struct rep_chunk *c, unsigned *errnum,
		      struct sl_err *err)
{
	int rc;

	sl_buf_reset(&l->sql);
	if (c->restart &&
	    ((rc = sl_buf_adds(&l->sql, "DELETE FROM `sluice`.`snapshot_chunks`")) ||
	     (rc = chunk_where(&l->sql, l, c)) ||
	     (rc = sl_buf_addf(&l->sql, " AND `chunk_index`<%" PRIu64 ";", c->index))))
		return rc;
	if ((rc = sl_buf_addf(&l->sql, "INSERT INTO `sluice`.`snapshot_chunks` (`stream_id`,`db`,`tbl`,"
			      "`chunk_index`,`run`,`rows`,`restart`) VALUES ('%s',", l->sid)) ||
	    (rc = fmt_sql_str(&l->sql, c->db)) || (rc = sl_buf_addc(&l->sql, ',')) ||
	    (rc = fmt_sql_str(&l->sql, c->table)) ||
	    (rc = sl_buf_addf(&l->sql, ",%" PRIu64 ",%" PRIu32 ",%zu,%d)", c->index, c->run,
			      c->n, c->restart ? 1 : 0)))
		return rc;
	if ((rc = rep__exec(&l->w, sl_buf_cstr(&l->sql), err))) {
		*errnum = mysql_errno(l->w.db);
		rep__rollback(&l->w);
		if (*errnum == 1062) {
			/* a session of an earlier replay loaded it meanwhile */
			*err = (struct sl_err)SL_ERR_INIT;
			return 1;
		}
	}
	return rc;
}

static int load_chunk_once(struct rep_loader *l, const struct rep_chunk *c, unsigned *errnum,
			   struct sl_err *err)
{
	enum rep_lcol *plan = sl_xcalloc(c->td->n_columns + 1, sizeof(*plan));
	int rc, no_local;

	if (c->restart) {
		/* a keyless table read again: drop what its earlier chunks loaded
		 * (TRUNCATE commits by itself; the forgetting of their rows commits
		 * with this chunk, so a crash in between truncates again) */
		sl_buf_reset(&l->sql);
		if ((rc = sl_buf_adds(&l->sql, FMT_REPLAY_MARK "TRUNCATE TABLE ")) ||
		    (rc = rep__sql_table(&l->sql, c->td)))
			goto out;
		if ((rc = exec_sql(l, c, err)))
			goto fail;
		sl_log(SL_INFO, "replay", "`%s`.`%s`: read again from its start (no key): earlier "
		       "chunks dropped", c->db, c->table);
	}
	if ((rc = mark_chunk(l, c, errnum, err)))
		goto marked;
	pthread_mutex_lock(l->mu);
	no_local = *l->no_local;
	pthread_mutex_unlock(l->mu);
	if (!c->n)
		rc = 0;		/* an empty table's chunk: only its record */
	else
		rc = no_local ? 2 : load_data(l, c, plan, err);
	if (rc == 1) {
		/* the server refused LOAD DATA LOCAL: once for every loader */
		rep__rollback(&l->w);
		pthread_mutex_lock(l->mu);
		if (!*l->no_local)
			sl_log(SL_WARN, "replay", "destination %s refuses LOAD DATA LOCAL INFILE "
			       "(local_infile=OFF?): loading with multi-row INSERTs instead, which is "
			       "slower", l->w.dest);
		*l->no_local = 1;
		pthread_mutex_unlock(l->mu);
		/* the rollback took the mark too: first again */
		if ((rc = mark_chunk(l, c, errnum, err)))
			goto marked;
		rc = 2;
	}
	if (rc == 2)
		rc = load_inserts(l, c, err);
	if (rc)
		goto fail;
	sl_failpoint("replay.load.before-commit");	/* the chunk's mark and rows, uncommitted */
	if ((rc = rep__exec(&l->w, "COMMIT", err))) {
		*errnum = mysql_errno(l->w.db);
		rep__rollback(&l->w);
	}
	goto out;
marked:
	if (rc > 0 || err->code)
		goto out;	/* loaded already (1), or err says why */
fail:
	*errnum = mysql_errno(l->w.db);
	if (!err->code)
		rc = sl_err_set(err, rc, "chunk %" PRIu64 " of `%s`.`%s`: %s", c->index, c->db,
				c->table, sl_strerror(rc));
	rep__rollback(&l->w);
out:
	free(plan);
	return rc;
}

/*
 * Chunks of one table load at the same time, and InnoDB may pick one of
 * them as a deadlock victim (MariaDB takes a table lock for a transaction
 * that inserts into an empty table with unique and foreign key checks off,
 * its bulk-insert mode). The transaction was rolled back whole: load the
 * chunk again, a few times.
 */
int rep__load_chunk(struct rep_loader *l, const struct rep_chunk *c, struct sl_err *err)
{
	for (unsigned tries = 1;; tries++) {
		unsigned e = 0;
		int rc = load_chunk_once(l, c, &e, err);

		if (rc >= 0 || (e != 1213 && e != 1205) || tries >= 8)
			return rc;
		sl_log(SL_INFO, "replay", "chunk %" PRIu64 " of `%s`.`%s`: %s; loading it again",
		       c->index, c->db, c->table, e == 1213 ? "deadlock" : "lock wait timeout");
		*err = (struct sl_err)SL_ERR_INIT;
	}
}
