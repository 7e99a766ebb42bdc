/* cap_decode.c - turn raw binlog events into TxnBegin/RowChange/TxnCommit/Ddl records. */
/*
 * Transaction state (one decoder, events in binlog order):
 *
 *   IDLE --GTID(162, not standalone) / BEGIN / XA START / first rows event--> TXN
 *   TXN  --first row of a kept table: TxnBegin sent-------------------------> TXN(begun)
 *   TXN  --XID / COMMIT / XA PREPARE: TxnCommit + txn_end when begun-------> IDLE
 *   TXN  --ROLLBACK: as COMMIT when rows were sent (they were changes to
 *          non-transactional tables, which stay), else dropped------------> IDLE
 *   IDLE --other QUERY: Ddl + txn_end (unless it only touches a skipped schema)
 *
 * A GTID with FL_STANDALONE (MariaDB) or a MySQL GTID only names the next
 * transaction or statement. MariaDB 10.x writes no BEGIN query after a
 * transactional GTID; older servers and MySQL do, and a BEGIN inside an
 * already open, still empty transaction changes nothing.
 * Table maps (table_id -> ref) live until the statement ends (STMT_END_F)
 * or the transaction does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "cap_int.h"
#include "banned.h"

#define HDR_LEN 19
#define LOG_EVENT_BINLOG_IN_USE_F 0x1
#define STMT_END_F 0x1
#define MAX_TMAPS 65536
#define MAX_UNCOMPRESSED ((size_t)1 << 30)	/* max_allowed_packet's ceiling */

/* MariaDB GTID flags. */
#define FL_STANDALONE 1
#define FL_GROUP_COMMIT_ID 2

/* Column types needed here (cap_value.c has the full list). */
enum {
	T_OLD_DECIMAL = 0, T_TINY = 1, T_SHORT = 2, T_LONG = 3, T_FLOAT = 4, T_DOUBLE = 5, T_LONGLONG = 8,
	T_INT24 = 9, T_YEAR = 13, T_VARCHAR = 15, T_BIT = 16, T_TIMESTAMP2 = 17, T_DATETIME2 = 18,
	T_TIME2 = 19, T_VECTOR = 242, T_JSON = 245, T_NEWDECIMAL = 246, T_ENUM = 247, T_SET = 248,
	T_TINY_BLOB = 249, T_MEDIUM_BLOB = 250, T_LONG_BLOB = 251, T_BLOB = 252,
	T_VAR_STRING = 253, T_STRING = 254, T_GEOMETRY = 255,
};

/* TABLE_MAP optional metadata kinds. */
enum {
	OM_SIGNEDNESS = 1, OM_DEFAULT_CHARSET, OM_COLUMN_CHARSET, OM_COLUMN_NAME,
	OM_SET_STR_VALUE, OM_ENUM_STR_VALUE, OM_GEOMETRY_TYPE, OM_SIMPLE_PRIMARY_KEY,
	OM_PRIMARY_KEY_WITH_PREFIX, OM_ENUM_AND_SET_DEFAULT_CHARSET,
	OM_ENUM_AND_SET_COLUMN_CHARSET,
};

static const char *const default_skip[] = {
	"mysql", "sys", "performance_schema", "information_schema", "sluice", NULL
};

struct tmap {
	uint64_t table_id;
	uint32_t ref;		/* 0 when skipped */
};

struct def {
	Sluice__TableDef *t;	/* fmt_tabledef_dup() copy */
	uint8_t *key;		/* TABLE_MAP body from db_len to the end */
	size_t key_len;
	uint32_t hash;
};

struct image {
	Sluice__Value *v;
	Sluice__Value **vp;
	size_t *off;		/* offset of v[i].b in scratch, or SIZE_MAX */
};

struct cap_decoder {
	char *flavor, *origin;
	char **skip;
	size_t n_skip;

	char *file;
	uint64_t ev_off;		/* offset of the event being decoded */
	int have_fde, crc;
	int maria;			/* the server is MariaDB (FDE; else the flavor) */
	uint8_t post_len[256];

	Sluice__Position pos;		/* after the last event; pos.gtid last committed */

	int in_txn, begun;
	uint64_t rows, txn_time;
	uint32_t txn_server;
	char gtid[96];			/* GTID of the open transaction / next statement */
	int gtid_pending;		/* gtid names the next transaction or statement */

	struct tmap *maps;
	size_t n_maps, cap_maps;
	struct def *defs;		/* ref = index + 1 */
	size_t n_defs, cap_defs;
	uint32_t *htab;			/* open addressing: ref or 0 */
	size_t hcap;

	struct sl_buf unz, scratch, text;
	struct image img[2];
	size_t img_cap;
};

/* ---- small readers ---- */

/* Length-encoded integer (net_field_length). 0 when bad or short. */
static size_t packed_int(const uint8_t *p, size_t n, uint64_t *v)
{
	if (n < 1)
		return 0;
	if (p[0] < 251) {
		*v = p[0];
		return 1;
	}
	if (p[0] == 252 && n >= 3) {
		*v = sl_le16(p + 1);
		return 3;
	}
	if (p[0] == 253 && n >= 4) {
		*v = sl_le24(p + 1);
		return 4;
	}
	if (p[0] == 254 && n >= 9) {
		*v = sl_le64(p + 1);
		return 9;
	}
	return 0;
}

static const char *where_file(const struct cap_decoder *d)
{
	return d->file ? d->file : "?";
}

/* Every decoder error names the origin, binlog file and event offset. */
#define EV_ERR(d, err, code, fmt, ...)                                             \
	sl_err_set((err), (code), "%s%sbinlog '%s' at offset %llu: " fmt,           \
		   (d)->origin ? (d)->origin : "", (d)->origin ? ": " : "",          \
		   where_file(d), (unsigned long long)(d)->ev_off, __VA_ARGS__)

/* ---- life cycle ---- */

struct cap_decoder *cap_decoder_new(const struct cap_decoder_opts *o)
{
	struct cap_decoder *d = sl_xcalloc(1, sizeof(*d));
	const char *const *skip = o && o->skip_schemas ? o->skip_schemas : default_skip;
	size_t n = 0;

	while (skip[n])
		n++;
	d->skip = sl_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		d->skip[i] = sl_xstrdup(skip[i]);
	d->n_skip = n;
	d->flavor = sl_xstrdup(o && o->flavor ? o->flavor : "mariadb");
	d->origin = o && o->origin ? sl_xstrdup(o->origin) : NULL;
	d->maria = strcmp(d->flavor, "mysql") != 0;
	sluice__position__init(&d->pos);
	d->pos.flavor = d->flavor;
	d->pos.file = sl_xstrdup("");
	d->pos.gtid = sl_xstrdup("");
	sl_buf_init(&d->unz, MAX_UNCOMPRESSED);
	sl_buf_init(&d->scratch, FMT_RECORD_MAX);
	sl_buf_init(&d->text, MAX_UNCOMPRESSED);
	return d;
}

void cap_decoder_free(struct cap_decoder *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_skip; i++)
		free(d->skip[i]);
	free(d->skip);
	free(d->flavor);
	free(d->origin);
	free(d->file);
	free(d->pos.file);
	free(d->pos.gtid);
	free(d->maps);
	for (size_t i = 0; i < d->n_defs; i++) {
		sluice__table_def__free_unpacked(d->defs[i].t, NULL);
		free(d->defs[i].key);
	}
	free(d->defs);
	free(d->htab);
	sl_buf_release(&d->unz);
	sl_buf_release(&d->scratch);
	sl_buf_release(&d->text);
	for (int i = 0; i < 2; i++) {
		free(d->img[i].v);
		free(d->img[i].vp);
		free(d->img[i].off);
	}
	free(d);
}

static void set_str(char **dst, const char *s)
{
	char *n = sl_xstrdup(s);

	free(*dst);
	*dst = n;
}

void cap_decoder_set_file(struct cap_decoder *d, const char *file)
{
	set_str(&d->file, file);
	set_str(&d->pos.file, file);
}

const Sluice__TableDef *cap_decoder_table(const struct cap_decoder *d, uint32_t ref)
{
	if (ref == 0 || ref > d->n_defs)
		return NULL;
	return d->defs[ref - 1].t;
}

const Sluice__Position *cap_decoder_position(const struct cap_decoder *d)
{
	return &d->pos;
}

int cap_decoder_in_txn(const struct cap_decoder *d)
{
	return d->in_txn;
}

static int is_skipped(const struct cap_decoder *d, const char *db, size_t len)
{
	for (size_t i = 0; i < d->n_skip; i++)
		if (strlen(d->skip[i]) == len && strncasecmp(d->skip[i], db, len) == 0)
			return 1;
	return 0;
}

/* ---- transactions ---- */

static void txn_reset(struct cap_decoder *d)
{
	d->in_txn = 0;
	d->begun = 0;
	d->rows = 0;
	d->gtid_pending = 0;
	d->gtid[0] = 0;
	d->n_maps = 0;
}

static void txn_open(struct cap_decoder *d, uint32_t ts, uint32_t server_id)
{
	d->in_txn = 1;
	d->begun = 0;
	d->rows = 0;
	d->txn_time = ts;
	d->txn_server = server_id;
	if (!d->gtid_pending)
		d->gtid[0] = 0;
	d->gtid_pending = 0;
}

static void fill_pos(struct cap_decoder *d, Sluice__Position *p, uint64_t log_pos,
		     uint32_t server_id)
{
	sluice__position__init(p);
	p->flavor = d->flavor;
	p->file = d->file ? d->file : (char *)"";
	p->offset = log_pos;
	p->gtid = d->gtid;
	p->server_id = server_id;
}

static int txn_commit(struct cap_decoder *d, uint32_t ts, uint64_t xid, uint64_t log_pos,
		      uint32_t server_id, const struct cap_sink *sink, struct sl_err *err)
{
	int rc = 0;

	if (d->begun) {
		Sluice__Record rec = SLUICE__RECORD__INIT;
		Sluice__TxnCommit c = SLUICE__TXN_COMMIT__INIT;
		Sluice__Position p;

		fill_pos(d, &p, log_pos, server_id);
		c.position = &p;
		c.time = ts;
		c.rows = d->rows;
		c.xid = xid;
		rec.body_case = SLUICE__RECORD__BODY_COMMIT;
		rec.commit = &c;
		set_str(&d->pos.gtid, d->gtid);
		rc = sink->record(sink->ctx, &rec, err);
		if (rc == 0)
			rc = sink->txn_end(sink->ctx, &p, ts, err);
	}
	txn_reset(d);
	return rc;
}

/* ---- format description, rotate, gtid ---- */

static void version_triple(const char *v, unsigned t[3])
{
	t[0] = t[1] = t[2] = 0;
	sscanf(v, "%u.%u.%u", &t[0], &t[1], &t[2]);
}

static int on_fde(struct cap_decoder *d, const uint8_t *ev, size_t n, struct sl_err *err)
{
	const uint8_t *b = ev + HDR_LEN;
	size_t bl = n - HDR_LEN, npl;
	char ver[51];
	unsigned t[3];
	int has_alg, alg = 0;

	if (bl < 2 + 50 + 4 + 1)
		return EV_ERR(d, err, -SL_ECORRUPT, "format description event too short (%zu bytes)", n);
	memcpy(ver, b + 2, 50);
	ver[50] = 0;
	version_triple(ver, t);
	d->maria = strstr(ver, "MariaDB") != NULL;
	if (d->maria)
		has_alg = t[0] > 5 || (t[0] == 5 && t[1] >= 3);
	else
		has_alg = t[0] > 5 || (t[0] == 5 && (t[1] > 6 || (t[1] == 6 && t[2] >= 1)));
	npl = bl - 57;
	if (has_alg) {
		if (npl < 5)
			return EV_ERR(d, err, -SL_ECORRUPT, "format description of '%s' has no checksum field", ver);
		alg = ev[n - 5];
		npl -= 5;
		if (alg == 1) {
			uint8_t flags0 = ev[17] & (uint8_t)~LOG_EVENT_BINLOG_IN_USE_F;
			uint32_t crc = (uint32_t)crc32(0L, ev, 17);

			crc = (uint32_t)crc32(crc, &flags0, 1);
			crc = (uint32_t)crc32(crc, ev + 18, (uInt)(n - 4 - 18));
			if (crc != sl_le32(ev + n - 4))
				return EV_ERR(d, err, -SL_ECORRUPT, "bad CRC32 of the format description event (%08x, computed %08x)",
					      sl_le32(ev + n - 4), crc);
		} else if (alg != 0 && alg != 255) {
			return EV_ERR(d, err, -SL_EFORMAT, "unknown binlog checksum algorithm %d", alg);
		}
	}
	if (b[56] != HDR_LEN)
		return EV_ERR(d, err, -SL_EFORMAT, "common header length %u (only %d is supported)", b[56], HDR_LEN);
	memset(d->post_len, 0, sizeof(d->post_len));
	for (size_t i = 0; i < npl && i < 255; i++)
		d->post_len[i + 1] = b[57 + i];
	d->crc = alg == 1;
	d->have_fde = 1;
	sl_log(SL_DEBUG, "capture", "binlog '%s': server %s, checksum %s", where_file(d), ver,
	       d->crc ? "CRC32" : "none");
	return 0;
}

static unsigned post_len(const struct cap_decoder *d, unsigned type, unsigned dflt)
{
	return d->have_fde && d->post_len[type] ? d->post_len[type] : dflt;
}

static int on_rotate(struct cap_decoder *d, const uint8_t *b, size_t bl, uint32_t ts,
		     uint32_t log_pos, struct sl_err *err)
{
	unsigned ph = post_len(d, CAP_EV_ROTATE, 8);
	uint64_t pos = 4;
	char name[512];

	if (bl < ph || bl - ph >= sizeof(name) || bl == ph)
		return EV_ERR(d, err, -SL_ECORRUPT, "bad rotate event (%zu bytes)", bl);
	if (ph >= 8)
		pos = sl_le64(b);
	memcpy(name, b + ph, bl - ph);
	name[bl - ph] = 0;
	if (memchr(name, 0, bl - ph))
		return EV_ERR(d, err, -SL_ECORRUPT, "%s", "rotate event file name holds a NUL byte");
	sl_log(SL_DEBUG, "capture", "rotate to %s:%llu%s", name, (unsigned long long)pos,
	       ts == 0 && log_pos == 0 ? " (start of dump)" : "");
	cap_decoder_set_file(d, name);
	d->pos.offset = pos;
	return 0;
}

static int on_maria_gtid(struct cap_decoder *d, const uint8_t *b, size_t bl, uint32_t ts,
			 uint32_t server_id, struct sl_err *err)
{
	uint64_t seq;
	uint32_t domain;
	uint8_t flags;

	if (bl < 13)
		return EV_ERR(d, err, -SL_ECORRUPT, "GTID event too short (%zu bytes)", bl);
	if (d->in_txn && d->begun)
		return EV_ERR(d, err, -SL_ECORRUPT, "GTID event inside transaction %s, which has no commit",
			      d->gtid[0] ? d->gtid : "(no gtid)");
	seq = sl_le64(b);
	domain = sl_le32(b + 8);
	flags = b[12];
	txn_reset(d);
	snprintf(d->gtid, sizeof(d->gtid), "%u-%u-%llu", domain, server_id, (unsigned long long)seq);
	d->gtid_pending = 1;
	if (!(flags & FL_STANDALONE))
		txn_open(d, ts, server_id);
	return 0;
}

static int on_mysql_gtid(struct cap_decoder *d, const uint8_t *b, size_t bl, struct sl_err *err)
{
	static const char hex[] = "0123456789abcdef";
	char *o = d->gtid;

	if (bl < 25)
		return EV_ERR(d, err, -SL_ECORRUPT, "GTID event too short (%zu bytes)", bl);
	if (d->in_txn && d->begun)
		return EV_ERR(d, err, -SL_ECORRUPT, "GTID event inside transaction %s, which has no commit",
			      d->gtid[0] ? d->gtid : "(no gtid)");
	txn_reset(d);
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

/* ---- MariaDB event compression ---- */

/* One byte (0x80 | alg << 4 | lenlen), lenlen bytes of big-endian
 * uncompressed length, then a zlib stream. The result goes to d->unz. */
static int maria_uncompress(struct cap_decoder *d, const uint8_t *p, size_t n, struct sl_err *err)
{
	unsigned lenlen;
	uint64_t ulen = 0;
	uLongf got;
	int zrc;

	if (n < 1 || (p[0] & 0x80) == 0)
		return EV_ERR(d, err, -SL_ECORRUPT, "%s", "compressed event has no compression header");
	if ((p[0] >> 4 & 7) != 0)
		return EV_ERR(d, err, -SL_EFORMAT, "unknown compression algorithm %u", p[0] >> 4 & 7);
	lenlen = p[0] & 7;
	if (lenlen < 1 || lenlen > 4 || n < 1 + lenlen)
		return EV_ERR(d, err, -SL_ECORRUPT, "bad compressed length size %u", lenlen);
	for (unsigned i = 0; i < lenlen; i++)
		ulen = ulen << 8 | p[1 + i];
	if (ulen > MAX_UNCOMPRESSED)
		return EV_ERR(d, err, -SL_ETOOBIG, "compressed event expands to %llu bytes",
			      (unsigned long long)ulen);
	sl_buf_reset(&d->unz);
	if (sl_buf_reserve(&d->unz, ulen + 1) < 0)
		return EV_ERR(d, err, -SL_ETOOBIG, "compressed event expands to %llu bytes",
			      (unsigned long long)ulen);
	got = (uLongf)ulen;
	zrc = uncompress(d->unz.data, &got, p + 1 + lenlen, (uLong)(n - 1 - lenlen));
	if (zrc != Z_OK || got != ulen)
		return EV_ERR(d, err, -SL_ECORRUPT, "cannot uncompress event (zlib %d, %lu of %llu bytes)",
			      zrc, (unsigned long)got, (unsigned long long)ulen);
	d->unz.len = (size_t)ulen;
	return 0;
}

/* ---- QUERY ---- */

struct qinfo {
	uint64_t sql_mode;
	int has_sql_mode;
	uint32_t client_cs;
};

/* Status variables, as far as they can be parsed: an unknown code stops
 * the walk (the server does the same), and only sql_mode and the client
 * charset, which come first, are needed. */
static void parse_status(const uint8_t *p, size_t n, struct qinfo *q)
{
	size_t i = 0;

	while (i < n) {
		uint8_t code = p[i++];
		size_t need;

		switch (code) {
		case 0: need = 4; break;			/* Q_FLAGS2 */
		case 1:						/* Q_SQL_MODE */
			if (i + 8 > n)
				return;
			q->sql_mode = sl_le64(p + i);
			q->has_sql_mode = 1;
			need = 8;
			break;
		case 2: need = i < n ? 1u + p[i] + 1 : 1; break;	/* Q_CATALOG */
		case 3: need = 4; break;			/* Q_AUTO_INCREMENT */
		case 4:						/* Q_CHARSET */
			if (i + 6 > n)
				return;
			q->client_cs = sl_le16(p + i);
			need = 6;
			break;
		case 5:						/* Q_TIME_ZONE */
		case 6: need = i < n ? 1u + p[i] : 1; break;	/* Q_CATALOG_NZ */
		case 7: need = 2; break;			/* Q_LC_TIME_NAMES */
		case 8: need = 2; break;			/* Q_CHARSET_DATABASE */
		case 9: need = 8; break;			/* Q_TABLE_MAP_FOR_UPDATE */
		case 10: need = 4; break;			/* Q_MASTER_DATA_WRITTEN */
		case 11: {					/* Q_INVOKER */
			size_t u;

			if (i >= n)
				return;
			u = 1u + p[i];
			if (i + u >= n)
				return;
			need = u + 1u + p[i + u];
			break;
		}
		case 12: {					/* Q_UPDATED_DB_NAMES */
			size_t j;
			unsigned cnt;

			if (i >= n)
				return;
			cnt = p[i];
			j = i + 1;
			if (cnt != 254)
				for (unsigned k = 0; k < cnt; k++) {
					while (j < n && p[j])
						j++;
					j++;
				}
			need = j - i;
			break;
		}
		case 13: need = 3; break;			/* Q_MICROSECONDS */
		case 16: need = 1; break;			/* Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP */
		case 17: need = 8; break;			/* Q_DDL_LOGGED_WITH_XID */
		case 18: need = 2; break;			/* Q_DEFAULT_COLLATION_FOR_UTF8MB4 */
		case 19: need = 1; break;			/* Q_SQL_REQUIRE_PRIMARY_KEY */
		case 20: need = 1; break;			/* Q_DEFAULT_TABLE_ENCRYPTION */
		case 128: need = 3; break;			/* Q_HRNOW (MariaDB) */
		case 129: need = 8; break;			/* Q_XID (MariaDB) */
		default:
			return;
		}
		if (need > n - i)
			return;
		i += need;
	}
}

/* Does the statement start with word (case-insensitive, then a space or the end)? */
static int starts_word(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && strncasecmp(s, word, w) == 0 && (n == w || s[w] == ' ' || s[w] == '\t' ||
							  s[w] == '\n' || s[w] == '\r' || s[w] == ';');
}

static int is_word(const char *s, size_t n, const char *word)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == ';' || s[n - 1] == '\n' || s[n - 1] == '\t' ||
		     s[n - 1] == '\r'))
		n--;
	return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

static int on_query(struct cap_decoder *d, int compressed, const uint8_t *b, size_t bl,
		    uint32_t ts, uint32_t server_id, uint32_t log_pos, const struct cap_sink *sink,
		    struct sl_err *err)
{
	unsigned ph = post_len(d, compressed ? CAP_EV_MARIA_QUERY_COMPRESSED : CAP_EV_QUERY, 13);
	struct qinfo q = { 0, 0, 0 };
	size_t status_len = 0, db_len, off;
	const uint8_t *qp;
	size_t qn;
	char db[256];
	const char *s;
	int rc;

	if (ph < 11 || bl < ph)
		return EV_ERR(d, err, -SL_ECORRUPT, "query event too short (%zu bytes)", bl);
	db_len = b[8];
	if (ph >= 13)
		status_len = sl_le16(b + 11);
	off = ph;
	if (status_len > bl - off)
		return EV_ERR(d, err, -SL_ECORRUPT, "query status block of %zu bytes overruns the event",
			      status_len);
	parse_status(b + off, status_len, &q);
	off += status_len;
	if (db_len + 1 > bl - off)
		return EV_ERR(d, err, -SL_ECORRUPT, "query database name of %zu bytes overruns the event",
			      db_len);
	memcpy(db, b + off, db_len);
	db[db_len] = 0;
	off += db_len + 1;
	qp = b + off;
	qn = bl - off;
	if (compressed) {
		rc = maria_uncompress(d, qp, qn, err);
		if (rc < 0)
			return rc;
		qp = d->unz.data;
		qn = d->unz.len;
	}
	sl_buf_reset(&d->text);
	if (sl_buf_add(&d->text, qp, qn) < 0)
		return EV_ERR(d, err, -SL_ETOOBIG, "statement of %zu bytes", qn);
	s = sl_buf_cstr(&d->text);
	while (qn && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')) {
		s++;
		qn--;
	}

	if (is_word(s, qn, "BEGIN") || starts_word(s, qn, "XA START") ||
	    is_word(s, qn, "START TRANSACTION")) {
		if (!d->in_txn || d->begun)
			txn_open(d, ts, server_id);
		return 0;
	}
	if (is_word(s, qn, "COMMIT") || starts_word(s, qn, "XA PREPARE"))
		return txn_commit(d, ts, 0, log_pos, server_id, sink, err);
	if (is_word(s, qn, "ROLLBACK")) {
		/* Rows already in the binlog were changes to non-transactional
		 * tables: the source kept them, so they are committed here too. */
		if (d->begun)
			sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: ROLLBACK after %llu row changes to non-transactional tables; keeping them",
			       where_file(d), (unsigned long long)d->ev_off, (unsigned long long)d->rows);
		return txn_commit(d, ts, 0, log_pos, server_id, sink, err);
	}
	if (starts_word(s, qn, "SAVEPOINT") || starts_word(s, qn, "ROLLBACK") ||
	    starts_word(s, qn, "RELEASE") || starts_word(s, qn, "XA"))
		return 0;
	if (d->in_txn && d->begun) {
		if (starts_word(s, qn, "INSERT") || starts_word(s, qn, "UPDATE") ||
		    starts_word(s, qn, "DELETE") || starts_word(s, qn, "REPLACE") ||
		    starts_word(s, qn, "LOAD"))
			return EV_ERR(d, err, -SL_ECONFIG, "statement-based change inside transaction %s (binlog_format is not ROW): %.80s",
				      d->gtid[0] ? d->gtid : "(no gtid)", s);
		sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: statement inside a transaction skipped: %.80s",
		       where_file(d), (unsigned long long)d->ev_off, s);
		return 0;
	}
	/* Statements in a skipped schema that name no other (no qualified names). */
	if (db_len && is_skipped(d, db, db_len) && !memchr(s, '.', qn)) {
		sl_log(SL_DEBUG, "capture", "statement in skipped schema %s: %.60s", db, s);
		if (!d->in_txn)
			d->gtid_pending = 0;
		return 0;
	}
	{
		Sluice__Record rec = SLUICE__RECORD__INIT;
		Sluice__Ddl ddl = SLUICE__DDL__INIT;
		Sluice__Position p;
		const char *cs = q.client_cs ? cap_charset_of_collation(q.client_cs) : NULL;

		if (!d->in_txn && !d->gtid_pending)
			d->gtid[0] = 0;
		fill_pos(d, &p, log_pos, server_id);
		ddl.position = &p;
		ddl.time = ts;
		ddl.db = db;
		ddl.statement = (char *)(uintptr_t)s;
		ddl.sql_mode = q.sql_mode;
		ddl.has_sql_mode = q.has_sql_mode;
		ddl.charset = (char *)(uintptr_t)(cs ? cs : "");
		rec.body_case = SLUICE__RECORD__BODY_DDL;
		rec.ddl = &ddl;
		rc = sink->record(sink->ctx, &rec, err);
		if (rc == 0)
			rc = sink->txn_end(sink->ctx, &p, ts, err);
		if (rc == 0)
			set_str(&d->pos.gtid, d->gtid);
		if (!d->in_txn)
			d->gtid_pending = 0;
		return rc;
	}
}

/* ---- TABLE_MAP ---- */

/* Columns with a SIGNEDNESS bit. MariaDB counts YEAR (a Field_tiny) too. */
static int is_numeric(uint32_t t, int maria)
{
	return (maria && (t == T_YEAR || t == T_OLD_DECIMAL)) || t == T_TINY || t == T_SHORT || t == T_INT24 || t == T_LONG || t == T_LONGLONG ||
	       t == T_FLOAT || t == T_DOUBLE || t == T_NEWDECIMAL;
}

static uint32_t real_type(const Sluice__ColumnDef *c)
{
	if (c->type == T_STRING) {
		uint32_t b0 = c->meta >> 8 & 0xff;

		if (b0 == T_ENUM || b0 == T_SET)
			return b0;
		return T_STRING;
	}
	return c->type;
}

/* Columns with a charset in DEFAULT_CHARSET/COLUMN_CHARSET. MariaDB's
 * GEOMETRY is a BLOB and has one (binary); MySQL's has none. MySQL 9's
 * VECTOR has one (binary). */
static int is_character(uint32_t rt, int maria)
{
	return (maria && rt == T_GEOMETRY) || rt == T_VECTOR || rt == T_STRING || rt == T_VAR_STRING || rt == T_VARCHAR || rt == T_BLOB ||
	       rt == T_TINY_BLOB || rt == T_MEDIUM_BLOB || rt == T_LONG_BLOB;
}

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(0L, p, (uInt)n) * 2654435761u;
}

static uint32_t def_find(const struct cap_decoder *d, const uint8_t *key, size_t n, uint32_t h)
{
	if (!d->hcap)
		return 0;
	for (size_t i = h & (d->hcap - 1);; i = (i + 1) & (d->hcap - 1)) {
		uint32_t ref = d->htab[i];
		const struct def *df;

		if (!ref)
			return 0;
		df = &d->defs[ref - 1];
		if (df->hash == h && df->key_len == n && memcmp(df->key, key, n) == 0)
			return ref;
	}
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

	return rt == T_ENUM || rt == T_SET;
}

static int pred_enum(const Sluice__ColumnDef *c)
{
	return real_type(c) == T_ENUM;
}

static int pred_set(const Sluice__ColumnDef *c)
{
	return real_type(c) == T_SET;
}

static int pred_geom(const Sluice__ColumnDef *c)
{
	return c->type == T_GEOMETRY;
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

		k = packed_int(p + i, n - i, &len);
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

			if (!(k = packed_int(p + j, e - j, &coll)))
				goto bad;
			j += k;
			for (size_t c = 0; c < ncols; c++)
				if (pred(&bd->cols[c]))
					bd->cols[c].collation = (uint32_t)coll;
			while (j < e) {
				int c;

				if (!(k = packed_int(p + j, e - j, &idx)))
					goto bad;
				j += k;
				if (!(k = packed_int(p + j, e - j, &coll)))
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
				if (!(k = packed_int(p + j, e - j, &v)))
					goto bad;
				j += k;
				bd->cols[c].collation = (uint32_t)v;
			}
			break;
		}
		case OM_COLUMN_NAME:
			for (size_t c = 0; c < ncols; c++) {
				if (!(k = packed_int(p + j, e - j, &v)) || v > e - j - k)
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
				if (!(k = packed_int(p + j, e - j, &cnt)) || cnt > e - j)
					goto bad;
				j += k;
				free(bd->labels[c]);
				bd->labels[c] = sl_xcalloc(cnt ? (size_t)cnt : 1, sizeof(ProtobufCBinaryData));
				for (uint64_t m = 0; m < cnt; m++) {
					if (!(k = packed_int(p + j, e - j, &v)) || v > e - j - k)
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
				if (!(k = packed_int(p + j, e - j, &v)))
					goto bad;
				j += k;
				bd->cols[c].geometry_type = (uint32_t)v;
			}
			break;
		case OM_SIMPLE_PRIMARY_KEY:
		case OM_PRIMARY_KEY_WITH_PREFIX:
			while (j < e) {
				if (!(k = packed_int(p + j, e - j, &v)) || v >= ncols)
					goto bad;
				j += k;
				if (kind == OM_PRIMARY_KEY_WITH_PREFIX) {
					uint64_t prefix;

					if (!(k = packed_int(p + j, e - j, &prefix)))
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
	return EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: bad optional metadata", bd->t.db,
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
	int have_names = 0;
	int64_t rc;

	if ((ref = def_find(d, key, kn, h)) != 0)
		return ref;
	memset(&bd, 0, sizeof(bd));
	sluice__table_def__init(&bd.t);
	/* bounds were checked by the caller for the names */
	memcpy(db, p + 1, p[0]);
	db[p[0]] = 0;
	p += 1 + p[0] + 1;
	memcpy(name, p + 1, p[0]);
	name[p[0]] = 0;
	p += 1 + p[0] + 1;
	bd.t.db = db;
	bd.t.name = name;
	if (!(k = packed_int(p, (size_t)(end - p), &ncols)) || ncols == 0 ||
	    ncols > (size_t)(end - p))
		return EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: bad column count", db, name);
	p += k;
	types = p;
	p += ncols;
	if (!(k = packed_int(p, (size_t)(end - p), &mlen)) || mlen > (size_t)(end - p) - k)
		return EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: bad metadata length", db, name);
	p += k;
	meta = p;
	p += mlen;
	if ((size_t)(end - p) < (ncols + 7) / 8)
		return EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: null bitmap overruns the event",
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
		case T_FLOAT: case T_DOUBLE: case T_BLOB: case T_TINY_BLOB: case T_MEDIUM_BLOB:
		case T_LONG_BLOB: case T_GEOMETRY: case T_JSON: case T_TIMESTAMP2:
		case T_DATETIME2: case T_TIME2: case T_VECTOR:
			mb = 1;
			break;
		case T_VARCHAR: case T_VAR_STRING: case T_BIT: case T_NEWDECIMAL:
		case T_STRING: case T_ENUM: case T_SET:
			mb = 2;
			break;
		default:
			mb = 0;
			break;
		}
		if (mi + mb > mlen) {
			rc = EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: column metadata overruns its block",
				    db, name);
			goto out;
		}
		if (mb == 1)
			c->meta = meta[mi];
		else if (mb == 2 && (c->type == T_VARCHAR || c->type == T_VAR_STRING))
			c->meta = sl_le16(meta + mi);
		else if (mb == 2 && c->type == T_BIT)
			c->meta = (uint32_t)meta[mi + 1] << 8 | meta[mi];
		else if (mb == 2)
			c->meta = (uint32_t)meta[mi] << 8 | meta[mi + 1];
		mi += mb;
		if (c->type == T_NEWDECIMAL) {
			c->precision = c->meta >> 8;
			c->scale = c->meta & 0xff;
		} else if (c->type == T_TIME2 || c->type == T_DATETIME2 || c->type == T_TIMESTAMP2) {
			c->precision = c->meta;
		}
		c->name = (char *)"";
		c->charset = (char *)"";
	}
	rc = parse_optmeta(d, &bd, (size_t)ncols, p, (size_t)(end - p), &have_names, err);
	if (rc < 0)
		goto out;
	if (!have_names) {
		rc = EV_ERR(d, err, -SL_ECONFIG,
			    "table `%s`.`%s` has no column names in the binlog (set binlog_row_metadata=FULL)",
			    db, name);
		goto out;
	}
	for (size_t i = 0; i < ncols; i++) {
		Sluice__ColumnDef *c = &bd.cols[i];
		uint32_t rt = real_type(c);

		if (is_character(rt, d->maria) || rt == T_ENUM || rt == T_SET) {
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
	d->n_defs++;
	htab_put(d, ref);
	rc = ref;
out:
	build_release(&bd, (size_t)ncols);
	return rc;
}

static int on_table_map(struct cap_decoder *d, const uint8_t *b, size_t bl, struct sl_err *err)
{
	unsigned ph = post_len(d, CAP_EV_TABLE_MAP, 8);
	const uint8_t *key = b + ph;
	uint64_t table_id;
	size_t kn, dbl, tl;
	uint32_t ref = 0;
	size_t i;

	if ((ph != 6 && ph != 8) || bl < ph + 4)
		return EV_ERR(d, err, -SL_ECORRUPT, "table map event too short (%zu bytes)", bl);
	table_id = ph == 6 ? sl_le32(b) : (sl_le32(b) | (uint64_t)sl_le16(b + 4) << 32);
	kn = bl - ph;
	dbl = key[0];
	if (dbl + 3 > kn || (tl = key[dbl + 2], dbl + tl + 4 > kn))
		return EV_ERR(d, err, -SL_ECORRUPT, "%s", "table map names overrun the event");
	if (!is_skipped(d, (const char *)key + 1, dbl)) {
		int64_t r = build_def(d, key, kn, err);

		if (r < 0)
			return (int)r;
		ref = (uint32_t)r;
	}
	for (i = 0; i < d->n_maps; i++)
		if (d->maps[i].table_id == table_id)
			break;
	if (i == d->n_maps) {
		if (d->n_maps == MAX_TMAPS)
			return EV_ERR(d, err, -SL_ETOOBIG, "more than %d tables mapped in one statement",
				      MAX_TMAPS);
		if (d->n_maps == d->cap_maps) {
			d->cap_maps = d->cap_maps ? d->cap_maps * 2 : 16;
			d->maps = sl_xrealloc(d->maps, d->cap_maps * sizeof(*d->maps));
		}
		d->n_maps++;
	}
	d->maps[i].table_id = table_id;
	d->maps[i].ref = ref;
	return 0;
}

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

/* One row image at p (n bytes): null bitmap then the non-null values. */
static int decode_image(struct cap_decoder *d, const Sluice__TableDef *t, struct image *im,
			const uint8_t *p, size_t n, size_t *used, struct sl_err *err)
{
	size_t nc = t->n_columns, nb = (nc + 7) / 8, pos = nb;
	int rc;

	if (n < nb)
		return EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: row null bitmap overruns the event",
			      t->db, t->name);
	for (size_t i = 0; i < nc; i++) {
		Sluice__Value *v = &im->v[i];
		size_t u = 0, before = d->scratch.len;

		sluice__value__init(v);
		im->vp[i] = v;
		im->off[i] = SIZE_MAX;
		if ((p[i / 8] >> (i % 8)) & 1)
			continue;
		rc = cap_value_decode(t->columns[i], p + pos, n - pos, &u, v, &d->scratch, err);
		if (rc < 0) {
			char why[SL_ERR_LEN];

			snprintf(why, sizeof(why), "%s", err ? err->msg : "bad value");
			return EV_ERR(d, err, rc, "table `%s`.`%s` column %zu: %s", t->db, t->name,
				      i + 1, why);
		}
		if (d->scratch.len > before)
			im->off[i] = before;
		pos += u;
	}
	*used = pos;
	return 0;
}

static void images_rebase(struct cap_decoder *d, struct image *im, size_t nc)
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

static int on_rows(struct cap_decoder *d, unsigned type, const uint8_t *b, size_t bl,
		   uint32_t ts, uint32_t server_id, const struct cap_sink *sink, struct sl_err *err)
{
	int v2 = (type >= CAP_EV_WRITE_ROWS && type <= CAP_EV_DELETE_ROWS) ||
		 (type >= CAP_EV_MARIA_WRITE_ROWS_COMPRESSED);
	int compressed = type >= CAP_EV_MARIA_WRITE_ROWS_COMPRESSED_V1;
	unsigned base = type >= CAP_EV_MARIA_WRITE_ROWS_COMPRESSED ? CAP_EV_MARIA_WRITE_ROWS_COMPRESSED
			: type >= CAP_EV_MARIA_WRITE_ROWS_COMPRESSED_V1 ? CAP_EV_MARIA_WRITE_ROWS_COMPRESSED_V1
			: type >= CAP_EV_WRITE_ROWS ? CAP_EV_WRITE_ROWS : CAP_EV_WRITE_ROWS_V1;
	unsigned op = type - base;	/* 0 write, 1 update, 2 delete */
	unsigned ph = post_len(d, type, v2 ? 10 : 8);
	const Sluice__TableDef *t = NULL;
	const uint8_t *p, *end = b + bl;
	uint64_t table_id, width;
	uint16_t flags;
	size_t k, nb, i;
	uint32_t ref = 0;
	int found = 0, rc = 0;

	if ((ph != 6 && ph != 8 && ph != 10) || bl < ph)
		return EV_ERR(d, err, -SL_ECORRUPT, "rows event too short (%zu bytes)", bl);
	table_id = ph == 6 ? sl_le32(b) : (sl_le32(b) | (uint64_t)sl_le16(b + 4) << 32);
	flags = sl_le16(b + (ph == 6 ? 4 : 6));
	p = b + (ph == 6 ? 6 : 8);
	if (ph == 10) {
		uint16_t extra = sl_le16(p);

		if (extra < 2 || extra > (size_t)(end - p))
			return EV_ERR(d, err, -SL_ECORRUPT, "rows event extra data of %u bytes overruns the event",
				      extra);
		p += extra;
	}
	for (i = 0; i < d->n_maps; i++)
		if (d->maps[i].table_id == table_id) {
			found = 1;
			ref = d->maps[i].ref;
			break;
		}
	if (!(k = packed_int(p, (size_t)(end - p), &width)) || width > 4096)
		return EV_ERR(d, err, -SL_ECORRUPT, "%s", "rows event: bad column count");
	p += k;
	if (!found) {
		if (width == 0)
			goto stmt_end;	/* a dummy event that only carries STMT_END_F */
		return EV_ERR(d, err, -SL_ECORRUPT, "rows event for table id %llu, which no table map named",
			      (unsigned long long)table_id);
	}
	if (!d->in_txn)
		txn_open(d, ts, server_id);
	if (ref == 0)
		goto stmt_end;	/* a skipped schema */
	t = d->defs[ref - 1].t;
	if (width != t->n_columns)
		return EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: rows event has %llu columns, table map %zu",
			      t->db, t->name, (unsigned long long)width, t->n_columns);
	nb = (size_t)(width + 7) / 8;
	for (unsigned img = 0; img < (op == 1 ? 2u : 1u); img++) {
		if ((size_t)(end - p) < nb)
			return EV_ERR(d, err, -SL_ECORRUPT, "table `%s`.`%s`: column bitmap overruns the event",
				      t->db, t->name);
		for (i = 0; i < width; i++)
			if (!((p[i / 8] >> (i % 8)) & 1))
				return EV_ERR(d, err, -SL_ECONFIG,
					      "table `%s`.`%s`: row image lacks column %zu (binlog_row_image is not FULL)",
					      t->db, t->name, i + 1);
		p += nb;
	}
	if (compressed) {
		rc = maria_uncompress(d, p, (size_t)(end - p), err);
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
		size_t used;

		sl_buf_reset(&d->scratch);
		rc = decode_image(d, t, &d->img[0], p, (size_t)(end - p), &used, err);
		if (rc < 0)
			return rc;
		p += used;
		if (op == 1) {
			rc = decode_image(d, t, &d->img[1], p, (size_t)(end - p), &used, err);
			if (rc < 0)
				return rc;
			p += used;
			images_rebase(d, &d->img[1], t->n_columns);
		}
		images_rebase(d, &d->img[0], t->n_columns);
		r0.n_values = t->n_columns;
		r0.values = d->img[0].vp;
		r1.n_values = t->n_columns;
		r1.values = d->img[1].vp;
		rc_.table_ref = ref;
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
	if (flags & STMT_END_F)
		d->n_maps = 0;
	return 0;
}

/* ---- one event ---- */

int cap_decoder_event(struct cap_decoder *d, const uint8_t *ev, size_t n,
		      const struct cap_sink *sink, struct sl_err *err)
{
	uint32_t ts, server_id, size, log_pos;
	unsigned type;
	size_t bl;
	int rc = 0;

	if (n < HDR_LEN) {
		d->ev_off = d->pos.offset;
		return EV_ERR(d, err, -SL_ECORRUPT, "event of %zu bytes is shorter than its header", n);
	}
	ts = sl_le32(ev);
	type = ev[4];
	server_id = sl_le32(ev + 5);
	size = sl_le32(ev + 9);
	log_pos = sl_le32(ev + 13);
	d->ev_off = log_pos >= size ? log_pos - size : d->pos.offset;
	if (size != n)
		return EV_ERR(d, err, -SL_ECORRUPT, "event length %u in the header, %zu bytes given", size, n);
	bl = n - HDR_LEN;

	if (type == CAP_EV_FORMAT_DESCRIPTION) {
		rc = on_fde(d, ev, n, err);
		goto out;
	}
	if (d->crc) {
		uint32_t crc;

		if (bl < 4)
			return EV_ERR(d, err, -SL_ECORRUPT, "event of %zu bytes has no room for its checksum", n);
		crc = (uint32_t)crc32(0L, ev, (uInt)(n - 4));
		if (crc != sl_le32(ev + n - 4) && type != CAP_EV_HEARTBEAT)
			return EV_ERR(d, err, -SL_ECORRUPT, "bad CRC32 of event type %u (%08x, computed %08x)",
				      type, sl_le32(ev + n - 4), crc);
		bl -= 4;
	} else if (!d->have_fde && type == CAP_EV_ROTATE && bl >= 8 + 4 &&
		   (uint32_t)crc32(0L, ev, (uInt)(n - 4)) == sl_le32(ev + n - 4)) {
		/* The fake ROTATE that opens a network dump comes before any
		 * format description; it carries a checksum when the source uses them. */
		bl -= 4;
	}

	switch (type) {
	case CAP_EV_ROTATE:
		rc = on_rotate(d, ev + HDR_LEN, bl, ts, log_pos, err);
		return rc;	/* the new file's position is set; don't overwrite it */
	case CAP_EV_MARIA_GTID:
		rc = on_maria_gtid(d, ev + HDR_LEN, bl, ts, server_id, err);
		break;
	case CAP_EV_GTID:
		rc = on_mysql_gtid(d, ev + HDR_LEN, bl, err);
		break;
	case CAP_EV_ANONYMOUS_GTID:
		if (!(d->in_txn && d->begun))
			d->gtid_pending = 0;
		break;
	case CAP_EV_QUERY:
	case CAP_EV_MARIA_QUERY_COMPRESSED:
		rc = on_query(d, type == CAP_EV_MARIA_QUERY_COMPRESSED, ev + HDR_LEN, bl, ts, server_id,
			      log_pos, sink, err);
		break;
	case CAP_EV_XID:
		if (bl < 8)
			return EV_ERR(d, err, -SL_ECORRUPT, "xid event too short (%zu bytes)", bl);
		rc = txn_commit(d, ts, sl_le64(ev + HDR_LEN), log_pos, server_id, sink, err);
		break;
	case CAP_EV_TABLE_MAP:
		rc = on_table_map(d, ev + HDR_LEN, bl, err);
		break;
	case CAP_EV_WRITE_ROWS_V1: case CAP_EV_UPDATE_ROWS_V1: case CAP_EV_DELETE_ROWS_V1:
	case CAP_EV_WRITE_ROWS: case CAP_EV_UPDATE_ROWS: case CAP_EV_DELETE_ROWS:
	case CAP_EV_MARIA_WRITE_ROWS_COMPRESSED_V1: case CAP_EV_MARIA_UPDATE_ROWS_COMPRESSED_V1:
	case CAP_EV_MARIA_DELETE_ROWS_COMPRESSED_V1: case CAP_EV_MARIA_WRITE_ROWS_COMPRESSED:
	case CAP_EV_MARIA_UPDATE_ROWS_COMPRESSED: case CAP_EV_MARIA_DELETE_ROWS_COMPRESSED:
		rc = on_rows(d, type, ev + HDR_LEN, bl, ts, server_id, sink, err);
		break;
	case CAP_EV_TRANSACTION_PAYLOAD:
		return EV_ERR(d, err, -SL_EFORMAT, "%s",
			      "MySQL compressed transaction payload is not supported (set binlog_transaction_compression=OFF)");
	case 39:	/* PARTIAL_UPDATE_ROWS */
		return EV_ERR(d, err, -SL_EFORMAT, "%s",
			      "partial JSON row updates are not supported (set binlog_row_value_options='')");
	case 20: case 21: case 22:	/* pre-GA rows events */
		return EV_ERR(d, err, -SL_EFORMAT, "unsupported pre-GA rows event type %u", type);
	case CAP_EV_HEARTBEAT:
		return 0;	/* its log_pos belongs to the source's file, not ours */
	default:
		/* STOP, INTVAR, RAND, USER_VAR, ANNOTATE_ROWS, GTID_LIST,
		 * BINLOG_CHECKPOINT, PREVIOUS_GTIDS, ROWS_QUERY, ... */
		sl_log(SL_DEBUG, "capture", "binlog '%s' at offset %llu: event type %u skipped",
		       where_file(d), (unsigned long long)d->ev_off, type);
		break;
	}
out:
	if (rc == 0 && log_pos != 0) {
		d->pos.offset = log_pos;
		if (d->file && strcmp(d->pos.file, d->file) != 0)
			set_str(&d->pos.file, d->file);
	}
	return rc;
}
