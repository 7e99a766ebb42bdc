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
 *   TXN  --first rows event on `sluice`.`applied`/`snapshot_chunks`: sluice
 *          replay's, left out whole; at its end a Heartbeat counting it
 *          (cap_loop.c; a DDL marked by replay alike)
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
#include <zlib.h>
#include <zstd.h>

#include "cap_int.h"
#include "banned.h"

#define LOG_EVENT_IGNORABLE_F 0x80

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
	d->keep_replayed = o ? o->keep_replayed : 0;
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
		/* Every event, heartbeats too: the CRC covers the type byte, and a
		 * corrupt event that reads as a heartbeat would be skipped whole. */
		crc = cap__crc32(0, ev, n - 4);
		if (crc != sl_le32(ev + n - 4))
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "bad CRC32 of event type %u (%08x, computed %08x)",
				      type, sl_le32(ev + n - 4), crc);
		bl -= 4;
	} else if (!d->have_fde && type == CAP_EV_ROTATE && d->live_crc) {
		/* the dump's fake ROTATE carries the checksum the dump announced */
		if (bl < 8 + 4 || cap__crc32(0, ev, n - 4) != sl_le32(ev + n - 4))
			return CAP_EV_ERR(d, err, -SL_ECORRUPT, "bad CRC32 of the rotate event that opens the dump (%08x)",
				      bl >= 4 ? sl_le32(ev + n - 4) : 0);
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
