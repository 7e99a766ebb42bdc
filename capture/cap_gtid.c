/* cap_gtid.c - MySQL GTID sets: text <-> binary, and the COM_BINLOG_DUMP_GTID packet. */
/*
 * Text: "uuid:1-5:7,uuid2[:tag]:1-3" (MySQL 8.4 tags: "uuid:1-5:tag:1-2",
 * a tag applies to the intervals after it until the next tag).
 * Binary (PREVIOUS_GTIDS body, COM_BINLOG_DUMP_GTID data), little-endian:
 *   untagged: n_sids (8 bytes), then per sid: uuid (16), n_intervals (8),
 *             intervals as [start, end) pairs (8 + 8)
 *   tagged:   format byte 1, n_sids (6 bytes), format byte 1, then per
 *             (sid, tag): uuid (16), tag (serialization varlen length * 2
 *             + bytes; length 0 = no tag), n_intervals (8), intervals
 * The tagged form is written only when some GTID has a tag (servers before
 * MySQL 8.3 understand only the untagged one).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap_int.h"
#include "banned.h"

#define GTID_MAX_SIDS 65536
#define GTID_MAX_INTERVALS 1000000
#define TAG_MAX 32

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_uuid(const char *s, size_t n, uint8_t u[16])
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int h, l;

		if (s[i] == '-')
			continue;
		if (k == 16 || i + 1 >= n || (h = hexval(s[i])) < 0 || (l = hexval(s[i + 1])) < 0)
			return -1;
		u[k++] = (uint8_t)(h << 4 | l);
		i++;
	}
	return k == 16 ? 0 : -1;
}

/* One (uuid, tag) group with its intervals, collected while parsing. */
struct group {
	uint8_t uuid[16];
	char tag[TAG_MAX + 1];
	uint64_t (*iv)[2];
	size_t n;
};

static void put64(struct sl_buf *b, uint64_t v)
{
	uint8_t t[8];

	sl_put_le64(t, v);
	sl_buf_add(b, t, 8);
}

int cap_gtid_set_encode(const char *text, struct sl_buf *out, struct sl_err *err)
{
	struct group *g = NULL;
	size_t ng = 0, cap = 0;
	const char *p = text;
	int rc = 0, tagged = 0;

	while (*p) {
		const char *e = p, *c;
		uint8_t uuid[16];
		char tag[TAG_MAX + 1] = "";

		while (*p == ' ' || *p == '\n' || *p == ',')
			p++;
		if (!*p)
			break;
		e = p + strcspn(p, ",");
		c = memchr(p, ':', (size_t)(e - p));
		if (!c || parse_uuid(p, (size_t)(c - p), uuid) < 0) {
			rc = sl_err_set(err, -SL_EINVAL_ARG, "bad GTID set '%s': expected uuid:interval", text);
			goto out;
		}
		p = c + 1;
		while (p < e) {
			const char *f = memchr(p, ':', (size_t)(e - p));
			size_t fl = f ? (size_t)(f - p) : (size_t)(e - p);
			char *end;
			uint64_t a, b;

			if (fl == 0) {
				rc = sl_err_set(err, -SL_EINVAL_ARG, "bad GTID set '%s': empty field", text);
				goto out;
			}
			if (!isdigit((unsigned char)p[0])) {
				/* a tag: letters, digits, '_', at most 32 */
				if (fl > TAG_MAX || !(isalpha((unsigned char)p[0]) || p[0] == '_')) {
					rc = sl_err_set(err, -SL_EINVAL_ARG, "bad GTID tag in '%s'", text);
					goto out;
				}
				for (size_t i = 0; i < fl; i++)
					tag[i] = (char)tolower((unsigned char)p[i]);
				tag[fl] = 0;
				tagged = 1;
			} else {
				struct group *cur = ng ? &g[ng - 1] : NULL;

				a = strtoull(p, &end, 10);
				b = a;
				if (*end == '-')
					b = strtoull(end + 1, &end, 10);
				if (end != p + fl || a == 0 || b < a || b == UINT64_MAX) {
					rc = sl_err_set(err, -SL_EINVAL_ARG, "bad GTID interval in '%s'", text);
					goto out;
				}
				if (!cur || memcmp(cur->uuid, uuid, 16) || strcmp(cur->tag, tag)) {
					if (ng >= GTID_MAX_SIDS) {
						rc = sl_err_set(err, -SL_ETOOBIG, "GTID set has too many sids");
						goto out;
					}
					if (ng == cap) {
						cap = cap ? cap * 2 : 4;
						g = sl_xrealloc(g, cap * sizeof(*g));
					}
					cur = &g[ng++];
					memcpy(cur->uuid, uuid, 16);
					snprintf(cur->tag, sizeof(cur->tag), "%s", tag);
					cur->iv = NULL;
					cur->n = 0;
				}
				if (cur->n >= GTID_MAX_INTERVALS) {
					rc = sl_err_set(err, -SL_ETOOBIG, "GTID set has too many intervals");
					goto out;
				}
				cur->iv = sl_xrealloc(cur->iv, (cur->n + 1) * sizeof(*cur->iv));
				cur->iv[cur->n][0] = a;
				cur->iv[cur->n][1] = b + 1;
				cur->n++;
			}
			p = f ? f + 1 : e;
		}
		p = e;
	}
	if (tagged) {
		uint8_t h[8] = { 1, 0, 0, 0, 0, 0, 0, 1 };

		for (int i = 0; i < 6; i++)
			h[1 + i] = (uint8_t)((uint64_t)ng >> (8 * i));
		sl_buf_add(out, h, 8);
	} else {
		put64(out, ng);
	}
	for (size_t i = 0; i < ng; i++) {
		sl_buf_add(out, g[i].uuid, 16);
		if (tagged) {
			size_t tl = strlen(g[i].tag);

			sl_buf_addc(out, (uint8_t)(tl << 1));	/* tl <= 32: one byte */
			sl_buf_add(out, g[i].tag, tl);
		}
		put64(out, g[i].n);
		for (size_t k = 0; k < g[i].n; k++) {
			put64(out, g[i].iv[k][0]);
			put64(out, g[i].iv[k][1]);
		}
	}
out:
	for (size_t i = 0; i < ng; i++)
		free(g[i].iv);
	free(g);
	return rc;
}

int cap_gtid_set_decode(const uint8_t *p, size_t n, struct sl_buf *text, struct sl_err *err)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t nsids;
	size_t i = 8;
	int tagged;
	uint8_t prev[16];
	int have_prev = 0;

	if (n < 8)
		return sl_err_set(err, -SL_ECORRUPT, "GTID set of %zu bytes is too short", n);
	tagged = p[0] == 1 && p[7] == 1;
	if (tagged) {
		nsids = 0;
		for (int k = 0; k < 6; k++)
			nsids |= (uint64_t)p[1 + k] << (8 * k);
	} else {
		nsids = sl_le64(p);
	}
	if (nsids > (n - 8) / 24)
		return sl_err_set(err, -SL_ECORRUPT, "GTID set says %llu sids in %zu bytes",
				  (unsigned long long)nsids, n);
	for (uint64_t s = 0; s < nsids; s++) {
		uint64_t niv;
		const uint8_t *tag = NULL;
		size_t tl = 0;

		if (n - i < 16)
			goto bad;
		if (!have_prev || memcmp(prev, p + i, 16)) {
			char u[37], *o = u;

			for (int k = 0; k < 16; k++) {
				if (k == 4 || k == 6 || k == 8 || k == 10)
					*o++ = '-';
				*o++ = hex[p[i + k] >> 4];
				*o++ = hex[p[i + k] & 15];
			}
			*o = 0;
			if (have_prev && sl_buf_addc(text, ',') < 0)
				goto big;
			if (sl_buf_adds(text, u) < 0)
				goto big;
			memcpy(prev, p + i, 16);
			have_prev = 1;
		}
		i += 16;
		if (tagged) {
			if (n - i < 1 || (p[i] & 1))
				goto bad;	/* a tag is at most 32 bytes: a one-byte length */
			tl = p[i] >> 1;
			i++;
			if (tl > TAG_MAX || n - i < tl)
				goto bad;
			tag = p + i;
			i += tl;
		}
		if (tl && (sl_buf_addc(text, ':') < 0 || sl_buf_add(text, tag, tl) < 0))
			goto big;
		if (n - i < 8)
			goto bad;
		niv = sl_le64(p + i);
		i += 8;
		if (niv > (n - i) / 16)
			goto bad;
		for (uint64_t k = 0; k < niv; k++) {
			uint64_t a = sl_le64(p + i), b = sl_le64(p + i + 8);

			i += 16;
			if (b <= a)
				goto bad;
			if ((b - 1 == a ? sl_buf_addf(text, ":%llu", (unsigned long long)a)
					: sl_buf_addf(text, ":%llu-%llu", (unsigned long long)a,
						      (unsigned long long)(b - 1))) < 0)
				goto big;
		}
	}
	return 0;
bad:
	return sl_err_set(err, -SL_ECORRUPT, "malformed GTID set at byte %zu", i);
big:
	return sl_err_set(err, -SL_ETOOBIG, "GTID set text exceeds %zu bytes", text->max);
}

/* COM_BINLOG_DUMP_GTID (0x1e): command, flags (2), server_id (4),
 * name length (4), name, position (8), and with BINLOG_THROUGH_GTID (4)
 * in flags the GTID set: its length (4) and binary form. */
int cap_gtid_dump_packet(uint32_t server_id, const char *file, uint64_t pos,
			 const char *gtid_set, uint16_t flags, struct sl_buf *out,
			 struct sl_err *err)
{
	struct sl_buf set;
	size_t fl = file ? strlen(file) : 0;
	uint8_t h[16];
	int rc = 0;

	sl_buf_init(&set, (size_t)64 << 20);
	if (gtid_set && (rc = cap_gtid_set_encode(gtid_set, &set, err)) < 0)
		goto out;
	if (gtid_set)
		flags |= 0x04;
	h[0] = 0x1e;
	h[1] = (uint8_t)flags;
	h[2] = (uint8_t)(flags >> 8);
	sl_put_le32(h + 3, server_id);
	sl_put_le32(h + 7, (uint32_t)fl);
	if (sl_buf_add(out, h, 11) < 0 || sl_buf_add(out, file ? file : "", fl) < 0)
		goto big;
	sl_put_le64(h, pos);
	if (sl_buf_add(out, h, 8) < 0)
		goto big;
	if (flags & 0x04) {
		sl_put_le32(h, (uint32_t)set.len);
		if (sl_buf_add(out, h, 4) < 0 || sl_buf_add(out, set.data, set.len) < 0)
			goto big;
	}
	goto out;
big:
	rc = sl_err_set(err, -SL_ETOOBIG, "binlog dump packet exceeds %zu bytes", out->max);
out:
	sl_buf_release(&set);
	return rc;
}
