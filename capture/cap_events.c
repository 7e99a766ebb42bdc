/* cap_events.c - the events that frame a stream: FORMAT_DESCRIPTION, ROTATE, GTIDs, PREVIOUS_GTIDS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cap_int.h"
#include "banned.h"

/* ---- format description, rotate, gtid ---- */

static void version_triple(const char *v, unsigned t[3])
{
	t[0] = t[1] = t[2] = 0;
	sscanf(v, "%u.%u.%u", &t[0], &t[1], &t[2]);
}

int cap__on_fde(struct cap_decoder *d, const uint8_t *ev, size_t n, struct sl_err *err)
{
	const uint8_t *b = ev + CAP_HDR_LEN;
	size_t bl = n - CAP_HDR_LEN, npl;
	char ver[51];
	unsigned t[3];
	int has_alg, alg = 0;

	if (bl < 2 + 50 + 4 + 1)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "format description event too short (%zu bytes)", n);
	memcpy(ver, b + 2, 50);
	ver[50] = 0;
	version_triple(ver, t);
	/* "created" is set in the first binlog of a server start: its
	 * connection (thread) ids start again */
	if (sl_le32(b + 52))
		cap__loop_restart(d);
	d->maria = strstr(ver, "MariaDB") != NULL;
	if (d->maria)
		has_alg = t[0] > 5 || (t[0] == 5 && t[1] >= 3);
	else
		has_alg = t[0] > 5 || (t[0] == 5 && (t[1] > 6 || (t[1] == 6 && t[2] >= 1)));
	npl = bl - 57;
	if (!has_alg && d->live)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT,
			      "format description from a live source without a checksum field (server version '%s'): "
			      "damaged on the way?", ver);
	if (has_alg) {
		if (npl < 5)
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "format description of '%s' has no checksum field", ver);
		alg = ev[n - 5];
		npl -= 5;
		/* Checked whatever alg says: a server that writes the field always
		 * checksums the FD event (MySQL "FD is always checksummed"; MariaDB
		 * and MySQL write a valid CRC32 with NONE too), and alg itself is
		 * covered: a byte flipped from CRC32 to NONE would turn every later
		 * check off (issue 14, faultproxy's aimed flip). */
		{
			uint8_t flags0 = ev[17] & (uint8_t)~CAP_LOG_EVENT_BINLOG_IN_USE_F;
			uint32_t crc = (uint32_t)crc32(0L, ev, 17);

			crc = (uint32_t)crc32(crc, &flags0, 1);
			crc = (uint32_t)crc32(crc, ev + 18, (uInt)(n - 4 - 18));
			if (crc != sl_le32(ev + n - 4))
				return CAP_EV_ERR(d, err, -SL_ECORRUPT, "bad CRC32 of the format description event (%08x, computed %08x)",
					      sl_le32(ev + n - 4), crc);
		}
		if (alg != 0 && alg != 1 && alg != 255) {
			return CAP_EV_ERR(d, err, -SL_EFORMAT, "unknown binlog checksum algorithm %d", alg);
		}
	}
	if (b[56] != CAP_HDR_LEN)
		return CAP_EV_ERR(d, err, -SL_EFORMAT, "common header length %u (only %d is supported)", b[56], CAP_HDR_LEN);
	if (d->in_txn && d->begun)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT,
			      "format description event inside transaction %s, which has no commit (the source restarted mid-transaction?)",
			      d->gtid[0] ? d->gtid : "(no gtid)");
	if (d->in_txn)
		cap__txn_reset(d);	/* an empty open transaction of a restarted source */
	d->in_use = (sl_le16(ev + 17) & CAP_LOG_EVENT_BINLOG_IN_USE_F) != 0;
	if (!d->have_fde)
		d->fde_server_id = sl_le32(ev + 5);
	memset(d->post_len, 0, sizeof(d->post_len));
	for (size_t i = 0; i < npl && i < 255; i++)
		d->post_len[i + 1] = b[57 + i];
	d->crc = alg == 1;
	d->have_fde = 1;
	sl_log(SL_DEBUG, "capture", "binlog '%s': server %s, checksum %s", cap__dec_file(d), ver,
	       d->crc ? "CRC32" : "none");
	return 0;
}

int cap__on_rotate(struct cap_decoder *d, const uint8_t *b, size_t bl, uint32_t ts,
		     uint64_t log_pos, struct sl_err *err)
{
	unsigned ph = cap__post_len(d, CAP_EV_ROTATE, 8);
	uint64_t pos = 4;
	char name[512];

	if (bl < ph || bl - ph >= sizeof(name) || bl == ph)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "bad rotate event (%zu bytes)", bl);
	if (ph >= 8)
		pos = sl_le64(b);
	memcpy(name, b + ph, bl - ph);
	name[bl - ph] = 0;
	if (memchr(name, 0, bl - ph))
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "%s", "rotate event file name holds a NUL byte");
	sl_log(SL_DEBUG, "capture", "rotate to %s:%llu%s", name, (unsigned long long)pos,
	       ts == 0 && log_pos == 0 ? " (start of dump)" : "");
	if (d->file_mode)
		return 0;	/* positions are this file's own offsets */
	cap_decoder_set_file(d, name);
	d->pos.offset = pos;
	return 0;
}

int cap__on_maria_gtid(struct cap_decoder *d, const uint8_t *b, size_t bl, uint32_t ts,
			 uint32_t server_id, struct sl_err *err)
{
	uint64_t seq;
	uint32_t domain;
	uint8_t flags;

	if (bl < 13)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "GTID event too short (%zu bytes)", bl);
	if (d->in_txn && d->begun)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "GTID event inside transaction %s, which has no commit",
			      d->gtid[0] ? d->gtid : "(no gtid)");
	seq = sl_le64(b);
	domain = sl_le32(b + 8);
	flags = b[12];
	cap__txn_reset(d);
	snprintf(d->gtid, sizeof(d->gtid), "%u-%u-%llu", domain, server_id, (unsigned long long)seq);
	d->gtid_pending = 1;
	if (!(flags & CAP_FL_STANDALONE))
		cap__txn_open(d, ts, server_id);
	return 0;
}

int cap__on_mysql_gtid(struct cap_decoder *d, const uint8_t *b, size_t bl, struct sl_err *err)
{
	static const char hex[] = "0123456789abcdef";
	char *o = d->gtid;

	if (bl < 25)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "GTID event too short (%zu bytes)", bl);
	if (d->in_txn && d->begun)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "GTID event inside transaction %s, which has no commit",
			      d->gtid[0] ? d->gtid : "(no gtid)");
	cap__txn_reset(d);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[b[1 + i] >> 4];
		*o++ = hex[b[1 + i] & 15];
	}
	snprintf(o, sizeof(d->gtid) - (size_t)(o - d->gtid), ":%llu",
		 (unsigned long long)sl_le64(b + 17));
	d->gtid_pending = 1;
	return 0;
}

/* ---- MySQL GTIDs ---- */

static void put_uuid(char *o, const uint8_t *u)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[u[i] >> 4];
		*o++ = hex[u[i] & 15];
	}
	*o = 0;
}

/* MySQL serialization library integers (libs/mysql/serialization): the
 * number of trailing one bits of the first byte says how many bytes
 * follow; the value is the little-endian whole shifted right by that
 * count + 1 (a first byte of 0xff: the next 8 bytes are the value). */
static size_t ser_uint(const uint8_t *p, size_t n, uint64_t *v)
{
	unsigned extra = 0;
	uint64_t x = 0;

	if (n < 1)
		return 0;
	while (extra < 8 && (p[0] >> extra & 1))
		extra++;
	if (n < 1 + (size_t)extra)
		return 0;
	if (extra == 8) {
		*v = sl_le64(p + 1);
		return 9;
	}
	for (unsigned i = 0; i <= extra; i++)
		x |= (uint64_t)p[i] << (8 * i);
	*v = x >> (extra + 1);
	return 1 + extra;
}

/* GTID_TAGGED (42): version byte, payload size, last non-ignorable field id,
 * then (field id, value) pairs: 0 flags, 1 sid (16 integers), 2 gno
 * (zig-zag signed), 3 tag (length + bytes), then fields not needed here. */
int cap__on_tagged_gtid(struct cap_decoder *d, const uint8_t *b, size_t bl, struct sl_err *err)
{
	uint8_t sid[16];
	char tag[65] = "", uuid[40];
	uint64_t v, gno = 0, fid;
	size_t i = 1, k;
	int have_sid = 0, have_gno = 0;

	if (d->in_txn && d->begun)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "GTID event inside transaction %s, which has no commit",
			      d->gtid[0] ? d->gtid : "(no gtid)");
	if (bl < 1 || !(k = ser_uint(b + i, bl - i, &v)))
		goto bad;
	i += k;
	if (!(k = ser_uint(b + i, bl - i, &v)))	/* last non-ignorable field id */
		goto bad;
	i += k;
	while (i < bl && !(have_sid && have_gno && tag[0])) {
		if (!(k = ser_uint(b + i, bl - i, &fid)))
			goto bad;
		i += k;
		if (fid == 0) {
			if (!(k = ser_uint(b + i, bl - i, &v)))
				goto bad;
			i += k;
		} else if (fid == 1) {
			for (int j = 0; j < 16; j++) {
				if (!(k = ser_uint(b + i, bl - i, &v)) || v > 255)
					goto bad;
				sid[j] = (uint8_t)v;
				i += k;
			}
			have_sid = 1;
		} else if (fid == 2) {
			if (!(k = ser_uint(b + i, bl - i, &v)))
				goto bad;
			i += k;
			gno = (v & 1) ? 0 : v >> 1;	/* zig-zag; a gno is never negative */
			have_gno = 1;
		} else if (fid == 3) {
			if (!(k = ser_uint(b + i, bl - i, &v)) || v > 32 || v > bl - i - k)
				goto bad;
			i += k;
			memcpy(tag, b + i, (size_t)v);
			tag[v] = 0;
			i += (size_t)v;
			break;
		} else {
			break;	/* the fields after the tag are not needed */
		}
	}
	if (!have_sid || !have_gno)
		goto bad;
	cap__txn_reset(d);
	put_uuid(uuid, sid);
	if (tag[0])
		snprintf(d->gtid, sizeof(d->gtid), "%s:%s:%llu", uuid, tag, (unsigned long long)gno);
	else
		snprintf(d->gtid, sizeof(d->gtid), "%s:%llu", uuid, (unsigned long long)gno);
	d->gtid_pending = 1;
	return 0;
bad:
	return CAP_EV_ERR(d, err, -SL_ECORRUPT, "%s", "malformed tagged GTID event");
}

/* PREVIOUS_GTIDS (35): checked and logged; positions carry per-transaction GTIDs. */
int cap__on_previous_gtids(struct cap_decoder *d, const uint8_t *b, size_t bl, struct sl_err *err)
{
	struct sl_buf text;
	struct sl_err e = SL_ERR_INIT;
	int rc;

	sl_buf_init(&text, 1 << 20);
	rc = cap_gtid_set_decode(b, bl, &text, &e);
	if (rc == 0)
		sl_log(SL_DEBUG, "capture", "binlog '%s': previous GTIDs '%s'", cap__dec_file(d),
		       sl_buf_cstr(&text));
	sl_buf_release(&text);
	if (rc < 0)
		return CAP_EV_ERR(d, err, rc, "previous GTIDs event: %s", e.msg);
	return 0;
}
