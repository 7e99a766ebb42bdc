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
 *   any  --account statement: never written; a Heartbeat counting it + txn_end
 *          (after the commit when inside a transaction)
 *   any  --statement-format DML (INSERT ... as a QUERY): an error, nothing of
 *          its transaction written (cap_stmt.c)
 *
 * A GTID with CAP_FL_STANDALONE (MariaDB) or a MySQL GTID only names the next
 * transaction or statement. MariaDB 10.x writes no BEGIN query after a
 * transactional GTID; older servers and MySQL do, and a BEGIN inside an
 * already open, still empty transaction changes nothing.
 * Table maps (table_id -> ref) live until the statement ends (CAP_STMT_END_F)
 * or the transaction does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

#include "cap_int.h"
#include "banned.h"

#define LOG_EVENT_IGNORABLE_F 0x80

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
	sl_buf_init(&d->unz, CAP_MAX_UNCOMPRESSED);
	sl_buf_init(&d->scratch, FMT_RECORD_MAX);
	sl_buf_init(&d->text, CAP_MAX_UNCOMPRESSED);
	sl_buf_init(&d->pay, CAP_PAYLOAD_MAX);
	d->allow_positional = o ? o->allow_positional : 0;
	d->schema = cap__schema_new();
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
	sl_buf_release(&d->pay);
	cap__schema_free(d->schema);
	for (int i = 0; i < 2; i++) {
		free(d->img[i].v);
		free(d->img[i].vp);
		free(d->img[i].off);
	}
	free(d);
}

void cap__set_str(char **dst, const char *s)
{
	char *n = sl_xstrdup(s);

	free(*dst);
	*dst = n;
}

void cap_decoder_set_file(struct cap_decoder *d, const char *file)
{
	cap__set_str(&d->file, file);
	cap__set_str(&d->pos.file, file);
}

void cap_decoder_set_offset(struct cap_decoder *d, uint64_t off)
{
	d->file_mode = 1;
	d->next_off = off;
}

int cap_decoder_in_use(const struct cap_decoder *d)
{
	return d->in_use;
}

uint32_t cap_decoder_server_id(const struct cap_decoder *d)
{
	return d->fde_server_id;
}

void cap_decoder_freeze_schema(struct cap_decoder *d, int frozen)
{
	d->schema_frozen = frozen;
}

struct cap_schema *cap_decoder_schema(struct cap_decoder *d)
{
	return d->schema;
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

/* The account statements left out up to log_pos: one heartbeat there. */
int cap__account_flush(struct cap_decoder *d, uint32_t ts, uint64_t log_pos, uint32_t server_id,
			 const struct cap_sink *sink, struct sl_err *err)
{
	Sluice__Position p;
	int rc;

	if (!d->accounts)
		return 0;
	if (!d->in_txn && !d->gtid_pending)
		d->gtid[0] = 0;
	cap__fill_pos(d, &p, log_pos, server_id);
	rc = cap__account_skipped(sink, &p, ts, d->accounts, err);
	if (rc == 0) {
		d->accounts = 0;
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
	if (rc == 0)	/* left out inside it: counted after it, at its position */
		rc = cap__account_flush(d, ts, log_pos, server_id, sink, err);
	cap__txn_reset(d);
	return rc;
}

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
	d->maria = strstr(ver, "MariaDB") != NULL;
	if (d->maria)
		has_alg = t[0] > 5 || (t[0] == 5 && t[1] >= 3);
	else
		has_alg = t[0] > 5 || (t[0] == 5 && (t[1] > 6 || (t[1] == 6 && t[2] >= 1)));
	npl = bl - 57;
	if (has_alg) {
		if (npl < 5)
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "format description of '%s' has no checksum field", ver);
		alg = ev[n - 5];
		npl -= 5;
		if (alg == 1) {
			uint8_t flags0 = ev[17] & (uint8_t)~CAP_LOG_EVENT_BINLOG_IN_USE_F;
			uint32_t crc = (uint32_t)crc32(0L, ev, 17);

			crc = (uint32_t)crc32(crc, &flags0, 1);
			crc = (uint32_t)crc32(crc, ev + 18, (uInt)(n - 4 - 18));
			if (crc != sl_le32(ev + n - 4))
				return CAP_EV_ERR(d, err, -SL_ECORRUPT, "bad CRC32 of the format description event (%08x, computed %08x)",
					      sl_le32(ev + n - 4), crc);
		} else if (alg != 0 && alg != 255) {
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

unsigned cap__post_len(const struct cap_decoder *d, unsigned type, unsigned dflt)
{
	return d->have_fde && d->post_len[type] ? d->post_len[type] : dflt;
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

int cap__on_query(struct cap_decoder *d, int compressed, const uint8_t *b, size_t bl,
		    uint32_t ts, uint32_t server_id, uint64_t log_pos, const struct cap_sink *sink,
		    struct sl_err *err)
{
	unsigned ph = cap__post_len(d, compressed ? CAP_EV_MARIA_QUERY_COMPRESSED : CAP_EV_QUERY, 13);
	struct qinfo q = { 0, 0, 0 };
	size_t status_len = 0, db_len, off;
	const uint8_t *qp;
	size_t qn;
	char db[256];
	const char *s;
	enum fmt_stmt_kind kind;
	int rc;

	if (ph < 11 || bl < ph)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "query event too short (%zu bytes)", bl);
	db_len = b[8];
	if (ph >= 13)
		status_len = sl_le16(b + 11);
	off = ph;
	if (status_len > bl - off)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "query status block of %zu bytes overruns the event",
			      status_len);
	parse_status(b + off, status_len, &q);
	off += status_len;
	if (db_len + 1 > bl - off)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "query database name of %zu bytes overruns the event",
			      db_len);
	memcpy(db, b + off, db_len);
	db[db_len] = 0;
	off += db_len + 1;
	qp = b + off;
	qn = bl - off;
	if (compressed) {
		rc = cap__maria_uncompress(d, qp, qn, err);
		if (rc < 0)
			return rc;
		qp = d->unz.data;
		qn = d->unz.len;
	}
	sl_buf_reset(&d->text);
	if (sl_buf_add(&d->text, qp, qn) < 0)
		return CAP_EV_ERR(d, err, -SL_ETOOBIG, "statement of %zu bytes", qn);
	s = sl_buf_cstr(&d->text);
	while (qn && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')) {
		s++;
		qn--;
	}

	/* One classifier for capture, replay and inspect (cap_stmt.c says what each kind becomes). */
	kind = fmt_stmt_classify(s, qn);
	if (kind == FMT_STMT_BEGIN) {
		if (!d->in_txn || d->begun)
			cap__txn_open(d, ts, server_id);
		return 0;
	}
	if (kind == FMT_STMT_COMMIT)
		return cap__txn_commit(d, ts, 0, log_pos, server_id, sink, err);
	if (kind == FMT_STMT_ROLLBACK) {
		/* Rows already in the binlog were changes to non-transactional
		 * tables: the source kept them, so they are committed here too. */
		if (d->begun)
			sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: ROLLBACK after %llu row changes to non-transactional tables; keeping them",
			       cap__dec_file(d), (unsigned long long)d->ev_off, (unsigned long long)d->rows);
		return cap__txn_commit(d, ts, 0, log_pos, server_id, sink, err);
	}
	if (kind == FMT_STMT_TXN_OTHER)
		return 0;
	if (kind == FMT_STMT_ACCOUNT) {
		/* Never written, never logged (it may hold a password): counted. */
		if (!d->warned_account)
			sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: account statement left out "
			       "of the stream (it may carry a password); such statements are only counted "
			       "(sluice status)", cap__dec_file(d), (unsigned long long)d->ev_off);
		d->warned_account = 1;
		d->accounts++;
		if (d->in_txn && d->begun)
			return 0;	/* the heartbeat follows the commit */
		return cap__account_flush(d, ts, log_pos, server_id, sink, err);
	}
	if (kind == FMT_STMT_DML && (d->in_txn && d->begun ? 1 :
				     !(db_len && cap__dec_skipped(d, db, db_len) && !memchr(s, '.', qn))))
		return CAP_EV_ERR(d, err, -SL_ECONFIG, "statement-format DML in transaction %s (its session "
			      "ran with binlog_format=STATEMENT or MIXED): it cannot be applied without "
			      "its INSERT_ID, RAND and variable context, so capture stops here and records "
			      "nothing of that transaction; write it with binlog_format=ROW",
			      d->gtid[0] ? d->gtid : "(no gtid)");
	if (d->in_txn && d->begun) {
		sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: statement inside a transaction skipped: %.80s",
		       cap__dec_file(d), (unsigned long long)d->ev_off, s);
		return 0;
	}
	/* The schema history follows every table DDL, in stream order. */
	if (!d->schema_frozen)
		cap__schema_apply(d->schema, db, s, qn);
	/* Statements in a skipped schema that name no other (no qualified names). */
	if (db_len && cap__dec_skipped(d, db, db_len) && !memchr(s, '.', qn)) {
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
		cap__fill_pos(d, &p, log_pos, server_id);
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
			cap__set_str(&d->pos.gtid, d->gtid);
		if (!d->in_txn)
			d->gtid_pending = 0;
		return rc;
	}
}

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

/* ---- one event ---- */

static int decode_event(struct cap_decoder *d, const uint8_t *ev, size_t n, uint64_t end,
			const struct cap_sink *sink, struct sl_err *err);

/* TRANSACTION_PAYLOAD (40): (type, length, value) fields in packed
 * integers up to an end mark (0), then the compressed events. Field 1:
 * compressed size, 2: compression (0 zstd, 255 none), 3: uncompressed
 * size. The inner events have no checksum; their positions are the end of
 * the payload event. */
static int on_payload(struct cap_decoder *d, const uint8_t *b, size_t bl, uint64_t end,
		      const struct cap_sink *sink, struct sl_err *err)
{
	uint64_t ctype = 0, usize = 0, csize = UINT64_MAX, t, len, v;
	size_t i = 0, k, off;
	uint64_t outer_off = d->ev_off;
	int rc = 0;

	if (d->in_payload)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "%s", "transaction payload inside a transaction payload");
	for (;;) {
		if (!(k = cap__packed_int(b + i, bl - i, &t)))
			goto bad;
		i += k;
		if (t == 0)
			break;
		if (!(k = cap__packed_int(b + i, bl - i, &len)) || len > bl - i - k)
			goto bad;
		i += k;
		if (len > 0 && cap__packed_int(b + i, (size_t)len, &v)) {
			if (t == 1)
				csize = v;
			else if (t == 2)
				ctype = v;
			else if (t == 3)
				usize = v;
		}
		i += (size_t)len;
	}
	if (csize != UINT64_MAX && csize != bl - i)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "transaction payload says %llu compressed bytes, event has %zu",
			      (unsigned long long)csize, bl - i);
	if (usize > CAP_PAYLOAD_MAX)
		return CAP_EV_ERR(d, err, -SL_ETOOBIG, "transaction payload expands to %llu bytes (limit %zu)",
			      (unsigned long long)usize, CAP_PAYLOAD_MAX);
	sl_buf_reset(&d->pay);
	if (ctype == 255) {
		if (sl_buf_add(&d->pay, b + i, bl - i) < 0)
			return CAP_EV_ERR(d, err, -SL_ETOOBIG, "%s", "transaction payload too large");
	} else if (ctype == 0) {
		ZSTD_DStream *z = ZSTD_createDStream();
		ZSTD_inBuffer in = { b + i, bl - i, 0 };
		size_t zr = 1;

		if (!z)
			sl_bug("cannot allocate a zstd stream");
		ZSTD_initDStream(z);
		while (in.pos < in.size || zr != 0) {
			ZSTD_outBuffer out;
			size_t before = in.pos, room = 1 << 16;

			if (sl_buf_reserve(&d->pay, room) < 0) {
				ZSTD_freeDStream(z);
				return CAP_EV_ERR(d, err, -SL_ETOOBIG, "transaction payload expands past %zu bytes",
					      CAP_PAYLOAD_MAX);
			}
			out.dst = d->pay.data + d->pay.len;
			out.size = room;
			out.pos = 0;
			zr = ZSTD_decompressStream(z, &out, &in);
			if (ZSTD_isError(zr)) {
				ZSTD_freeDStream(z);
				return CAP_EV_ERR(d, err, -SL_ECORRUPT, "cannot decompress transaction payload: %s",
					      ZSTD_getErrorName(zr));
			}
			d->pay.len += out.pos;
			if (out.pos == 0 && in.pos == before) {
				if (zr != 0) {
					ZSTD_freeDStream(z);
					return CAP_EV_ERR(d, err, -SL_ECORRUPT, "%s", "transaction payload's zstd frame is truncated");
				}
				break;
			}
		}
		ZSTD_freeDStream(z);
	} else {
		return CAP_EV_ERR(d, err, -SL_EFORMAT, "unknown transaction payload compression %llu",
			      (unsigned long long)ctype);
	}
	if (usize && d->pay.len != usize)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "transaction payload expands to %zu bytes, header says %llu",
			      d->pay.len, (unsigned long long)usize);
	/* The inner events decode out of d->pay, which nothing else uses. */
	d->in_payload = 1;
	for (off = 0; off < d->pay.len;) {
		uint32_t sz;

		d->ev_off = outer_off;
		if (d->pay.len - off < CAP_HDR_LEN || (sz = sl_le32(d->pay.data + off + 9)) < CAP_HDR_LEN ||
		    sz > d->pay.len - off) {
			rc = CAP_EV_ERR(d, err, -SL_ECORRUPT, "transaction payload: bad inner event at payload offset %zu",
				    off);
			break;
		}
		rc = decode_event(d, d->pay.data + off, sz, end, sink, err);
		if (rc < 0)
			break;
		off += sz;
	}
	d->in_payload = 0;
	d->ev_off = outer_off;
	return rc;
bad:
	return CAP_EV_ERR(d, err, -SL_ECORRUPT, "%s", "malformed transaction payload header");
}

/* Event types that carry no change for us and are skipped silently. */
static int is_known_skip(unsigned type)
{
	switch (type) {
	case CAP_EV_START_V3: case CAP_EV_STOP: case CAP_EV_INTVAR: case CAP_EV_RAND:
	case CAP_EV_USER_VAR: case CAP_EV_ROWS_QUERY: case CAP_EV_MARIA_ANNOTATE_ROWS:
	case CAP_EV_MARIA_BINLOG_CHECKPOINT: case CAP_EV_MARIA_GTID_LIST:
	case 7: case 8: case 9: case 11: case 17:	/* LOAD DATA's file blocks */
	case 28:	/* IGNORABLE */
	case 36: case 37: case 38:	/* TRANSACTION_CONTEXT, VIEW_CHANGE, XA_PREPARE */
		return 1;
	default:
		return 0;
	}
}

static int decode_event(struct cap_decoder *d, const uint8_t *ev, size_t n, uint64_t end,
			const struct cap_sink *sink, struct sl_err *err)
{
	uint32_t ts, server_id, size;
	uint16_t flags;
	unsigned type;
	size_t bl;
	int rc = 0;

	ts = sl_le32(ev);
	type = ev[4];
	server_id = sl_le32(ev + 5);
	size = sl_le32(ev + 9);
	flags = sl_le16(ev + 17);
	if (size != n)
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "event length %u in the header, %zu bytes given", size, n);
	bl = n - CAP_HDR_LEN;
	d->cur_end = end;

	if (type == CAP_EV_FORMAT_DESCRIPTION) {
		if (d->in_payload)
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "%s", "format description inside a transaction payload");
		rc = cap__on_fde(d, ev, n, err);
		goto out;
	}
	if (d->crc && !d->in_payload) {
		uint32_t crc;

		if (bl < 4)
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "event of %zu bytes has no room for its checksum", n);
		crc = cap__crc32(0, ev, n - 4);
		if (crc != sl_le32(ev + n - 4) && type != CAP_EV_HEARTBEAT && type != CAP_EV_HEARTBEAT_V2)
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "bad CRC32 of event type %u (%08x, computed %08x)",
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
		rc = cap__on_rotate(d, ev + CAP_HDR_LEN, bl, ts, end, err);
		if (d->file_mode)
			goto out;
		return rc;	/* the new file's position is set; don't overwrite it */
	case CAP_EV_MARIA_GTID:
		rc = cap__on_maria_gtid(d, ev + CAP_HDR_LEN, bl, ts, server_id, err);
		break;
	case CAP_EV_GTID:
		rc = cap__on_mysql_gtid(d, ev + CAP_HDR_LEN, bl, err);
		break;
	case CAP_EV_GTID_TAGGED:
		rc = cap__on_tagged_gtid(d, ev + CAP_HDR_LEN, bl, err);
		break;
	case CAP_EV_ANONYMOUS_GTID:
		if (!(d->in_txn && d->begun))
			d->gtid_pending = 0;
		break;
	case CAP_EV_PREVIOUS_GTIDS:
		rc = cap__on_previous_gtids(d, ev + CAP_HDR_LEN, bl, err);
		break;
	case CAP_EV_TRANSACTION_PAYLOAD:
		rc = on_payload(d, ev + CAP_HDR_LEN, bl, end, sink, err);
		break;
	case CAP_EV_QUERY:
	case CAP_EV_MARIA_QUERY_COMPRESSED:
		rc = cap__on_query(d, type == CAP_EV_MARIA_QUERY_COMPRESSED, ev + CAP_HDR_LEN, bl, ts, server_id,
			      end, sink, err);
		break;
	case CAP_EV_XID:
		if (bl < 8)
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "xid event too short (%zu bytes)", bl);
		rc = cap__txn_commit(d, ts, sl_le64(ev + CAP_HDR_LEN), end, server_id, sink, err);
		break;
	case CAP_EV_TABLE_MAP:
		rc = cap__on_table_map(d, ev + CAP_HDR_LEN, bl, err);
		break;
	case 20: case 21: case 22:	/* pre-GA rows events: the v1 layout */
		rc = cap__on_rows(d, type + 3, ev + CAP_HDR_LEN, bl, ts, server_id, sink, err);
		break;
	case CAP_EV_WRITE_ROWS_V1: case CAP_EV_UPDATE_ROWS_V1: case CAP_EV_DELETE_ROWS_V1:
	case CAP_EV_WRITE_ROWS: case CAP_EV_UPDATE_ROWS: case CAP_EV_DELETE_ROWS:
	case CAP_EV_PARTIAL_UPDATE_ROWS:
	case CAP_EV_MARIA_WRITE_ROWS_COMPRESSED_V1: case CAP_EV_MARIA_UPDATE_ROWS_COMPRESSED_V1:
	case CAP_EV_MARIA_DELETE_ROWS_COMPRESSED_V1: case CAP_EV_MARIA_WRITE_ROWS_COMPRESSED:
	case CAP_EV_MARIA_UPDATE_ROWS_COMPRESSED: case CAP_EV_MARIA_DELETE_ROWS_COMPRESSED:
		rc = cap__on_rows(d, type, ev + CAP_HDR_LEN, bl, ts, server_id, sink, err);
		break;
	case CAP_EV_INCIDENT: {
		unsigned code = bl >= 2 ? sl_le16(ev + CAP_HDR_LEN) : 0;
		unsigned ml = bl >= 3 ? ev[CAP_HDR_LEN + 2] : 0;

		if (ml > bl - 3)
			ml = bl >= 3 ? (unsigned)(bl - 3) : 0;
		return CAP_EV_ERR(d, err, -SL_ECORRUPT,
			      "incident event %u from the source: changes may be missing from the binlog here (%.*s)",
			      code, (int)ml, ml ? (const char *)ev + CAP_HDR_LEN + 3 : "");
	}
	case CAP_EV_HEARTBEAT:
	case CAP_EV_HEARTBEAT_V2:
		return 0;	/* its log_pos belongs to the source's file, not ours */
	case 6: case 10: case 12: case 18:	/* LOAD, EXEC_LOAD, NEW_LOAD, EXECUTE_LOAD_QUERY */
		return CAP_EV_ERR(d, err, -SL_ECONFIG, "statement-format DML (LOAD DATA, event type %u) "
			      "in transaction %s: it cannot be applied from the stream, so capture "
			      "stops here and records nothing of that transaction; write it with "
			      "binlog_format=ROW", type, d->gtid[0] ? d->gtid : "(no gtid)");
	default:
		if (is_known_skip(type)) {
			sl_log(SL_DEBUG, "capture", "binlog '%s' at offset %llu: event type %u skipped",
			       cap__dec_file(d), (unsigned long long)d->ev_off, type);
		} else if (d->n_maps > 0 && !(flags & LOG_EVENT_IGNORABLE_F)) {
			return CAP_EV_ERR(d, err, -SL_EFORMAT,
				      "unknown event type %u after a table map: it may carry rows, cannot skip it",
				      type);
		} else {
			sl_log(SL_WARN, "capture", "binlog '%s' at offset %llu: unknown event type %u (%u bytes) skipped",
			       cap__dec_file(d), (unsigned long long)d->ev_off, type, size);
		}
		break;
	}
out:
	if (rc == 0 && end != 0 && !d->in_payload) {
		d->pos.offset = end;
		if (d->file && strcmp(d->pos.file, d->file) != 0)
			cap__set_str(&d->pos.file, d->file);
	}
	return rc;
}

int cap_decoder_event(struct cap_decoder *d, const uint8_t *ev, size_t n,
		      const struct cap_sink *sink, struct sl_err *err)
{
	uint64_t end;

	if (d->file_mode) {
		d->ev_off = d->next_off;
		end = d->next_off + n;
		d->next_off = end;
	}
	if (n < CAP_HDR_LEN) {
		if (!d->file_mode)
			d->ev_off = d->pos.offset;
		return CAP_EV_ERR(d, err, -SL_ECORRUPT, "event of %zu bytes is shorter than its header", n);
	}
	if (!d->file_mode) {
		uint32_t size = sl_le32(ev + 9), log_pos = sl_le32(ev + 13);

		d->ev_off = log_pos >= size ? log_pos - size : d->pos.offset;
		end = log_pos;
	}
	return decode_event(d, ev, n, end, sink, err);
}
