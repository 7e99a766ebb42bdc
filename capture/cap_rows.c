/* cap_rows.c - rows events: row images decoded into RowChange records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap_int.h"
#include "banned.h"

/* ---- rows events ---- */

static void images_reserve(struct cap_decoder *d, size_t ncols)
{
	if (ncols <= d->img_cap)
		return;
	for (int i = 0; i < 2; i++) {
		d->img[i].v = sl_xrealloc(d->img[i].v, ncols * sizeof(Sluice__Value));
		d->img[i].vp = sl_xrealloc(d->img[i].vp, ncols * sizeof(Sluice__Value *));
		d->img[i].off = sl_xrealloc(d->img[i].off, ncols * sizeof(size_t));
	}
	d->img_cap = ncols;
}

/* A JSON column of a PARTIAL_UPDATE_ROWS after image: diffs applied to
 * the before image's text (in scratch at before_off). */
static int partial_json(struct cap_decoder *d, const Sluice__TableDef *t, size_t col,
			const Sluice__Value *bv, size_t before_off, const uint8_t *p, size_t n,
			size_t *used, Sluice__Value *v, size_t *off, struct sl_err *err)
{
	const Sluice__ColumnDef *c = t->columns[col];
	unsigned lb = c->meta ? c->meta : 4;
	uint64_t len = 0;
	char *before, why[160];
	size_t bn;
	int rc;

	if (lb > 4 || n < lb)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s` column %zu: partial JSON length overruns the row",
			      t->db, t->name, col + 1);
	for (unsigned k = lb; k > 0; k--)
		len = len << 8 | p[k - 1];
	if (len > n - lb)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s` column %zu: partial JSON diffs overrun the row",
			      t->db, t->name, col + 1);
	if (bv->kind != SLUICE__VALUE__KIND__JSON || before_off == SIZE_MAX)
		return CAP_EV_ERR(d, err, -SL_ECONFIG,
			      "table `%s`.`%s` column %zu: partial JSON update (binlog_row_value_options=PARTIAL_JSON) whose before image %s: the new document cannot be computed (the source needs binlog_row_image=FULL with PARTIAL_JSON)",
			      t->db, t->name, col + 1,
			      bv->kind == SLUICE__VALUE__KIND__ABSENT ? "lacks the column (binlog_row_image is not FULL)"
								     : "holds no JSON document");
	/* scratch may move while the result is appended: work on a copy */
	bn = bv->b.len;
	before = sl_xmalloc(bn + 1);
	memcpy(before, d->scratch.data + before_off, bn);
	*off = d->scratch.len;
	rc = cap_json_apply_diffs(before, bn, p + lb, (size_t)len, &d->scratch, why, sizeof(why));
	free(before);
	if (rc)
		return CAP_EV_ERR(d, err, rc, "table `%s`.`%s` column %zu: %s", t->db, t->name, col + 1, why);
	v->kind = SLUICE__VALUE__KIND__JSON;
	v->b.len = d->scratch.len - *off;
	*used = lb + (size_t)len;
	return 0;
}

static int bit_set(const uint8_t *bits, size_t i)
{
	return (bits[i / 8] >> (i % 8)) & 1;
}

/* One row image at p (n bytes): null bitmap then the non-null values.
 * present: the event's columns-present bitmap for this image; a column not
 * in it is ABSENT (binlog_row_image MINIMAL/NOBLOB) and has neither a null
 * bit nor a value: the null bitmap counts present columns only.
 * pbits (PARTIAL_UPDATE_ROWS after images): one bit per JSON column of the
 * table, present or not: the column's value is a list of diffs against
 * the same column of before. */
static int decode_image(struct cap_decoder *d, const Sluice__TableDef *t, struct cap_dec_image *im,
			const uint8_t *present, const uint8_t *p, size_t n, size_t *used,
			const uint8_t *pbits, const struct cap_dec_image *before, struct sl_err *err)
{
	size_t nc = t->n_columns, npresent = 0, nb, pos, jidx = 0, k = 0;
	int rc;

	for (size_t i = 0; i < nc; i++)
		npresent += (size_t)bit_set(present, i);
	nb = (npresent + 7) / 8;
	pos = nb;
	if (n < nb)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: row null bitmap overruns the event",
			      t->db, t->name);
	for (size_t i = 0; i < nc; i++) {
		Sluice__Value *v = &im->v[i];
		size_t u = 0, before_len = d->scratch.len;
		int is_partial = 0;

		sluice__value__init(v);
		im->vp[i] = v;
		im->off[i] = SIZE_MAX;
		if (pbits && t->columns[i]->type == FMT_TYPE_JSON) {
			is_partial = bit_set(pbits, jidx);
			jidx++;
		}
		if (!bit_set(present, i)) {
			v->kind = SLUICE__VALUE__KIND__ABSENT;
			continue;
		}
		if (bit_set(p, k++))
			continue;	/* NULL */
		if (is_partial) {
			size_t off = SIZE_MAX;

			rc = partial_json(d, t, i, &before->v[i], before->off[i], p + pos, n - pos, &u, v,
					  &off, err);
			if (rc < 0)
				return rc;
			im->off[i] = off;
			pos += u;
			continue;
		}
		rc = cap_value_decode(t->columns[i], p + pos, n - pos, &u, v, &d->scratch, err);
		if (rc < 0) {
			char why[SL_ERR_LEN];

			snprintf(why, sizeof(why), "%s", err ? err->msg : "bad value");
			return CAP_EV_ERR(d, err, rc, "table `%s`.`%s` column %zu: %s", t->db, t->name,
				      i + 1, why);
		}
		if (d->scratch.len > before_len)
			im->off[i] = before_len;
		pos += u;
	}
	*used = pos;
	return 0;
}

static void images_rebase(struct cap_decoder *d, struct cap_dec_image *im, size_t nc)
{
	for (size_t i = 0; i < nc; i++) {
		Sluice__Value *v = &im->v[i];

		if (im->off[i] != SIZE_MAX)
			v->b.data = d->scratch.data + im->off[i];
		else if (v->b.len == 0)
			v->b.data = NULL;
	}
}

static int emit_begin(struct cap_decoder *d, const struct cap_sink *sink, struct sl_err *err)
{
	Sluice__Record rec = SLUICE__RECORD__INIT;
	Sluice__TxnBegin b = SLUICE__TXN_BEGIN__INIT;

	b.gtid = d->gtid;
	b.time = d->txn_time;
	b.server_id = d->txn_server;
	rec.body_case = SLUICE__RECORD__BODY_BEGIN;
	rec.begin = &b;
	d->begun = 1;
	return sink->record(sink->ctx, &rec, err);
}

int cap__on_rows(struct cap_decoder *d, unsigned type, const uint8_t *b, size_t bl,
		   uint32_t ts, uint32_t server_id, const struct cap_sink *sink, struct sl_err *err)
{
	int partial = type == CAP_EV_PARTIAL_UPDATE_ROWS;
	int v2 = (type >= CAP_EV_WRITE_ROWS && type <= CAP_EV_DELETE_ROWS) || partial ||
		 (type >= CAP_EV_MARIA_WRITE_ROWS_COMPRESSED);
	int compressed = type >= CAP_EV_MARIA_WRITE_ROWS_COMPRESSED_V1;
	unsigned base = type >= CAP_EV_MARIA_WRITE_ROWS_COMPRESSED ? CAP_EV_MARIA_WRITE_ROWS_COMPRESSED
			: type >= CAP_EV_MARIA_WRITE_ROWS_COMPRESSED_V1 ? CAP_EV_MARIA_WRITE_ROWS_COMPRESSED_V1
			: partial ? CAP_EV_PARTIAL_UPDATE_ROWS - 1
			: type >= CAP_EV_WRITE_ROWS ? CAP_EV_WRITE_ROWS : CAP_EV_WRITE_ROWS_V1;
	unsigned op = type - base;	/* 0 write, 1 update, 2 delete */
	unsigned ph = cap__post_len(d, type, v2 ? 10 : 8);
	const Sluice__TableDef *t = NULL;
	const uint8_t *p, *end = b + bl;
	uint64_t table_id, width;
	uint16_t flags;
	const uint8_t *present[2] = { NULL, NULL };
	size_t k, nb, i;
	uint32_t ref = 0;
	unsigned mark = 0;
	int found = 0, rc = 0;

	if ((ph != 6 && ph != 8 && ph != 10) || bl < ph)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "rows event too short (%zu bytes)", bl);
	table_id = ph == 6 ? sl_le32(b) : (sl_le32(b) | (uint64_t)sl_le16(b + 4) << 32);
	flags = sl_le16(b + (ph == 6 ? 4 : 6));
	p = b + (ph == 6 ? 6 : 8);
	if (ph == 10) {
		uint16_t extra = sl_le16(p);

		if (extra < 2 || extra > (size_t)(end - p))
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "rows event extra data of %u bytes overruns the event",
				      extra);
		p += extra;
	}
	for (i = 0; i < d->n_maps; i++)
		if (d->maps[i].table_id == table_id) {
			found = 1;
			ref = d->maps[i].ref;
			mark = d->maps[i].mark;
			break;
		}
	if (!(k = cap__packed_int(p, (size_t)(end - p), &width)) || width > 4096)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "%s", "rows event: bad column count");
	p += k;
	if (!found) {
		if (width == 0)
			goto stmt_end;	/* a dummy event that only carries CAP_STMT_END_F */
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "rows event for table id %llu, which no table map named",
			      (unsigned long long)table_id);
	}
	if (!d->in_txn) {
		/* rows with no BEGIN before them (non-transactional tables of
		 * old servers): the statement is the transaction */
		cap__txn_open(d, ts, server_id);
		d->implicit = 1;
	}
	if (cap__loop_rows(d, mark))
		goto stmt_end;	/* sluice replay's transaction: left out whole */
	if (ref == 0)
		goto stmt_end;	/* a skipped schema */
	t = d->defs[ref - 1].t;
	if (width != t->n_columns)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: rows event has %llu columns, table map %zu",
			      t->db, t->name, (unsigned long long)width, t->n_columns);
	/* columns-present bitmaps: one image (WRITE: after, DELETE: before),
	 * or two for UPDATE (before, then after); partial images leave columns out */
	nb = (size_t)(width + 7) / 8;
	for (unsigned img = 0; img < (op == 1 ? 2u : 1u); img++) {
		if ((size_t)(end - p) < nb)
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: column bitmap overruns the event",
				      t->db, t->name);
		present[img] = p;
		p += nb;
		if (!d->file_mode && !d->warned_partial) {
			for (i = 0; i < width && bit_set(present[img], i); i++)
				;
			if (i < width) {
				/* the source's global binlog_row_image was checked; a session may differ */
				sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: table `%s`.`%s`: partial row image (column %zu left out): a session with binlog_row_image other than FULL?",
				       cap__dec_file(d), (unsigned long long)d->ev_off, t->db, t->name, i + 1);
				d->warned_partial = 1;
			}
		}
	}
	if (compressed) {
		rc = cap__maria_uncompress(d, p, (size_t)(end - p), err);
		if (rc < 0)
			return rc;
		p = d->unz.data;
		end = d->unz.data + d->unz.len;
	}
	images_reserve(d, t->n_columns);
	while (p < end) {
		Sluice__Record rec = SLUICE__RECORD__INIT;
		Sluice__RowChange rc_ = SLUICE__ROW_CHANGE__INIT;
		Sluice__Row r0 = SLUICE__ROW__INIT, r1 = SLUICE__ROW__INIT;
		const uint8_t *row_start = p;
		size_t used;

		const uint8_t *pbits = NULL;

		sl_buf_reset(&d->scratch);
		rc = decode_image(d, t, &d->img[0], present[0], p, (size_t)(end - p), &used, NULL, NULL,
				  err);
		if (rc < 0)
			return rc;
		p += used;
		if (partial) {
			/* value_options, then with PARTIAL_JSON_UPDATES (1) one bit per
			 * JSON column: its after value is a list of diffs */
			uint64_t vopts;
			size_t nj = 0;

			if (!(k = cap__packed_int(p, (size_t)(end - p), &vopts)))
				return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: bad partial update options",
					      t->db, t->name);
			p += k;
			if (vopts & 1) {
				for (i = 0; i < t->n_columns; i++)
					nj += t->columns[i]->type == FMT_TYPE_JSON;
				if ((size_t)(end - p) < (nj + 7) / 8)
					return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: partial JSON bitmap overruns the event",
						      t->db, t->name);
				pbits = p;
				p += (nj + 7) / 8;
			}
		}
		if (op == 1) {
			rc = decode_image(d, t, &d->img[1], present[1], p, (size_t)(end - p), &used, pbits,
					  &d->img[0], err);
			if (rc < 0)
				return rc;
			p += used;
			images_rebase(d, &d->img[1], t->n_columns);
		}
		if (p == row_start)	/* no column in any image: rows of 0 bytes */
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: rows event whose images hold no column has row data",
				      t->db, t->name);
		images_rebase(d, &d->img[0], t->n_columns);
		r0.n_values = t->n_columns;
		r0.values = d->img[0].vp;
		r1.n_values = t->n_columns;
		r1.values = d->img[1].vp;
		rc_.table_ref = ref;
		rc_.no_fk_checks = (flags & 0x0002) != 0;	/* NO_FOREIGN_KEY_CHECKS_F */
		switch (op) {
		case 0:
			rc_.op = SLUICE__ROW_CHANGE__OP__INSERT;
			rc_.after = &r0;
			break;
		case 1:
			rc_.op = SLUICE__ROW_CHANGE__OP__UPDATE;
			rc_.before = &r0;
			rc_.after = &r1;
			break;
		default:
			rc_.op = SLUICE__ROW_CHANGE__OP__DELETE;
			rc_.before = &r0;
			break;
		}
		if (!d->begun && (rc = emit_begin(d, sink, err)) < 0)
			return rc;
		rec.body_case = SLUICE__RECORD__BODY_ROW;
		rec.row = &rc_;
		rc = sink->record(sink->ctx, &rec, err);
		if (rc < 0)
			return rc;
		d->rows++;
	}
stmt_end:
	if (flags & CAP_STMT_END_F) {
		d->n_maps = 0;
		if (d->implicit && !d->in_payload)
			return cap__txn_commit(d, ts, 0, d->cur_end, server_id, sink, err);
	}
	return 0;
}
