/* cap_txn.c - the decoder state every event family shares: transactions, positions, skipped schemas, compressed bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "cap_int.h"
#include "banned.h"

void cap__set_str(char **dst, const char *s)
{
	char *n = sl_xstrdup(s);

	free(*dst);
	*dst = n;
}

void cap_decoder_set_live(struct cap_decoder *d, int crc)
{
	d->live = 1;
	d->live_crc = crc;
}

void cap_decoder_set_file(struct cap_decoder *d, const char *file)
{
	cap__set_str(&d->file, file);
	cap__set_str(&d->pos.file, file);
}

unsigned cap__post_len(const struct cap_decoder *d, unsigned type, unsigned dflt)
{
	return d->have_fde && d->post_len[type] ? d->post_len[type] : dflt;
}

int cap__dec_skipped(const struct cap_decoder *d, const char *db, size_t len)
{
	for (size_t i = 0; i < d->n_skip; i++)
		if (strlen(d->skip[i]) == len && strncasecmp(d->skip[i], db, len) == 0)
			return 1;
	return 0;
}

/* ---- transactions ---- */

void cap__txn_reset(struct cap_decoder *d)
{
	d->in_txn = 0;
	d->begun = 0;
	d->implicit = 0;
	d->rows = 0;
	d->row_seen = d->replayed = d->warned_mark = 0;
	d->gtid_pending = 0;
	d->gtid[0] = 0;
	d->n_maps = 0;
}

void cap__txn_open(struct cap_decoder *d, uint32_t ts, uint32_t server_id)
{
	d->in_txn = 1;
	d->begun = 0;
	d->implicit = 0;
	d->rows = 0;
	d->row_seen = d->replayed = d->warned_mark = 0;
	d->txn_time = ts;
	d->txn_server = server_id;
	if (!d->gtid_pending)
		d->gtid[0] = 0;
	d->gtid_pending = 0;
}

void cap__fill_pos(struct cap_decoder *d, Sluice__Position *p, uint64_t log_pos,
		     uint32_t server_id)
{
	sluice__position__init(p);
	p->flavor = d->flavor;
	p->file = d->file ? d->file : (char *)"";
	p->offset = log_pos;
	p->gtid = d->gtid;
	p->server_id = server_id;
}

/* What was left out up to log_pos (account statements, sluice replay's
 * transactions and DDL): one heartbeat there. */
int cap__left_out_flush(struct cap_decoder *d, uint32_t ts, uint64_t log_pos, uint32_t server_id,
			const struct cap_sink *sink, struct sl_err *err)
{
	struct cap_left_out n = { d->accounts, d->replayed_txns, d->replayed_ddls };
	Sluice__Position p;
	int rc;

	if (!n.accounts && !n.replayed_txns && !n.replayed_ddls) {
		if (!d->in_txn)
			d->gtid_pending = 0;	/* its GTID named what was left out */
		return 0;
	}
	if (!d->in_txn && !d->gtid_pending)
		d->gtid[0] = 0;
	cap__fill_pos(d, &p, log_pos, server_id);
	rc = cap__left_out_write(sink, &p, ts, &n, err);
	if (rc == 0) {
		d->accounts = d->replayed_txns = d->replayed_ddls = 0;
		cap__set_str(&d->pos.gtid, d->gtid);
	}
	if (!d->in_txn)
		d->gtid_pending = 0;
	return rc;
}

int cap__txn_commit(struct cap_decoder *d, uint32_t ts, uint64_t xid, uint64_t log_pos,
		      uint32_t server_id, const struct cap_sink *sink, struct sl_err *err)
{
	int rc = 0;

	if (d->begun) {
		Sluice__Record rec = SLUICE__RECORD__INIT;
		Sluice__TxnCommit c = SLUICE__TXN_COMMIT__INIT;
		Sluice__Position p;

		cap__fill_pos(d, &p, log_pos, server_id);
		c.position = &p;
		c.time = ts;
		c.rows = d->rows;
		c.xid = xid;
		rec.body_case = SLUICE__RECORD__BODY_COMMIT;
		rec.commit = &c;
		cap__set_str(&d->pos.gtid, d->gtid);
		rc = sink->record(sink->ctx, &rec, err);
		if (rc == 0)
			rc = sink->txn_end(sink->ctx, &p, ts, err);
	}
	if (d->replayed)
		d->replayed_txns++;	/* left out whole: only its end moves the stream */
	if (rc == 0)	/* left out inside it: counted after it, at its position */
		rc = cap__left_out_flush(d, ts, log_pos, server_id, sink, err);
	cap__txn_reset(d);
	return rc;
}

/* ---- MariaDB event compression ---- */

/* One byte (0x80 | alg << 4 | lenlen), lenlen bytes of big-endian
 * uncompressed length, then a zlib stream. The result goes to d->unz. */
int cap__maria_uncompress(struct cap_decoder *d, const uint8_t *p, size_t n, struct sl_err *err)
{
	unsigned lenlen;
	uint64_t ulen = 0;
	uLongf got;
	int zrc;

	if (n < 1 || (p[0] & 0x80) == 0)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "%s", "compressed event has no compression header");
	if ((p[0] >> 4 & 7) != 0)
		return CAP_EV_ERR(d, err, -SL_EFORMAT, "unknown compression algorithm %u", p[0] >> 4 & 7);
	lenlen = p[0] & 7;
	if (lenlen < 1 || lenlen > 4 || n < 1 + lenlen)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "bad compressed length size %u", lenlen);
	for (unsigned i = 0; i < lenlen; i++)
		ulen = ulen << 8 | p[1 + i];
	if (ulen > CAP_MAX_UNCOMPRESSED)
		return CAP_EV_ERR(d, err, -SL_ETOOBIG, "compressed event expands to %llu bytes",
			      (unsigned long long)ulen);
	sl_buf_reset(&d->unz);
	if (sl_buf_reserve(&d->unz, ulen + 1) < 0)
		return CAP_EV_ERR(d, err, -SL_ETOOBIG, "compressed event expands to %llu bytes",
			      (unsigned long long)ulen);
	got = (uLongf)ulen;
	zrc = uncompress(d->unz.data, &got, p + 1 + lenlen, (uLong)(n - 1 - lenlen));
	if (zrc != Z_OK || got != ulen)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "cannot uncompress event (zlib %d, %lu of %llu bytes)",
			      zrc, (unsigned long)got, (unsigned long long)ulen);
	d->unz.len = (size_t)ulen;
	return 0;
}
