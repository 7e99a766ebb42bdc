/* cap_source.c - capture from a live server: connect, check, stream the binlog into segments. */
#include "cap.h"
#include "cap_int.h"
#include "seg.h"

#include <errno.h>
#include <mysql.h>
#include <mariadb_rpl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "banned.h"

/*
 * The loop (one thread):
 *
 *   connect -> precheck -> open DIR (recovers its tail) -> choose start
 *     -> register as replica (COM_BINLOG_DUMP) -> fetch event -> decoder
 *          -> sink: TableDef (once per segment) / records -> seg_writer
 *          -> txn_end -> seg_writer_txn_end (group commit, seal)
 *     -> stop: binlog end as of start (batch) or a signal (follow)
 *     -> seg_writer_close (partial transaction in hand is discarded)
 *
 * The source's heartbeat (@master_heartbeat_period) wakes the loop when the
 * source is idle, so the writer can flush and a stop request is seen.
 */

struct cap_ctx {
	const struct cap_opts *o;
	struct cap_stats *st;
	struct seg_writer *w;
	struct cap_decoder *d;
	uint64_t *emitted_seq;		/* by table_ref: the segment its def was last written to */
	size_t emitted_cap;
	uint64_t last_write_ms;
};

static int sink_record(void *ctx, const Sluice__Record *rec, struct sl_err *err)
{
	struct cap_ctx *c = ctx;
	int rc;

	if (rec->body_case == SLUICE__RECORD__BODY_ROW) {
		uint32_t ref = rec->row->table_ref;
		uint64_t seq = seg_writer_seq(c->w);

		if (ref >= c->emitted_cap) {
			size_t cap = c->emitted_cap ? c->emitted_cap : 64;

			while (cap <= ref)
				cap *= 2;
			c->emitted_seq = sl_xrealloc(c->emitted_seq, cap * sizeof(*c->emitted_seq));
			memset(c->emitted_seq + c->emitted_cap, 0,
			       (cap - c->emitted_cap) * sizeof(*c->emitted_seq));
			c->emitted_cap = cap;
		}
		if (c->emitted_seq[ref] != seq) {
			Sluice__Record tr = SLUICE__RECORD__INIT;
			const Sluice__TableDef *def = cap_decoder_table(c->d, ref);

			if (!def)
				return sl_err_set(err, -SL_EBUG, "no table definition for ref %u", ref);
			tr.body_case = SLUICE__RECORD__BODY_TABLE;
			tr.table = (Sluice__TableDef *)def;
			if ((rc = seg_writer_append(c->w, &tr, err)))
				return rc;
			c->emitted_seq[ref] = seq;
		}
		c->st->rows++;
	} else if (rec->body_case == SLUICE__RECORD__BODY_COMMIT) {
		c->st->transactions++;
	} else if (rec->body_case == SLUICE__RECORD__BODY_DDL) {
		c->st->ddls++;
	}
	return seg_writer_append(c->w, rec, err);
}

static int sink_txn_end(void *ctx, const Sluice__Position *pos, uint64_t t, struct sl_err *err)
{
	struct cap_ctx *c = ctx;

	c->last_write_ms = sl_now_ms();
	return seg_writer_txn_end(c->w, pos, t, err);
}

/* ---- the source connection ---- */

static int db_error(struct sl_err *err, MYSQL *m, const char *who, const char *what)
{
	return sl_err_set(err, -SL_EDB, "source %s: %s: %s", who, what, mysql_error(m));
}

/* Run a query returning one row; copy up to ncol string columns into out
 * (malloc'd, NULL for SQL NULL). 0, or -SL_EEOF when there is no row. */
static int query_row(MYSQL *m, const char *who, const char *sql, char **out, unsigned ncol,
		     struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned long *len;
	int rc = 0;

	if (mysql_query(m, sql))
		return db_error(err, m, who, sql);
	res = mysql_store_result(m);
	if (!res)
		return db_error(err, m, who, sql);
	row = mysql_fetch_row(res);
	if (!row || mysql_num_fields(res) < ncol) {
		rc = -SL_EEOF;
		goto out;
	}
	len = mysql_fetch_lengths(res);
	for (unsigned i = 0; i < ncol; i++)
		out[i] = row[i] ? sl_xstrndup(row[i], len[i]) : NULL;
out:
	mysql_free_result(res);
	return rc;
}

static int connect_source(MYSQL **mp, const struct sl_dsn *d, const char *who, struct sl_err *err)
{
	MYSQL *m = mysql_init(NULL);
	unsigned timeout = 10;
	my_bool yes = 1;

	if (!m)
		return sl_err_set(err, -ENOMEM, "source %s: cannot allocate a connection", who);
	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (d->ssl_ca || d->ssl_cert || d->ssl_key) {
		mysql_ssl_set(m, d->ssl_key, d->ssl_cert, d->ssl_ca, NULL, NULL);
		mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
	}
	if (!mysql_real_connect(m, d->host, d->user, d->password ? d->password : "", NULL,
				d->port, d->socket, 0)) {
		int rc = sl_err_set(err, -SL_EDB, "cannot connect to source %s: %s", who, mysql_error(m));

		mysql_close(m);
		return rc;
	}
	*mp = m;
	return 0;
}

struct src_info {
	char flavor[16];
	char identity[256];
	char version[64];
};

/* Check that the source writes a binlog we can use: ROW format with full
 * images and full metadata. Fills the source's identity. */
static int precheck(MYSQL *m, const char *who, struct src_info *si, struct sl_err *err)
{
	static const char sql[] =
		"SELECT @@global.log_bin, @@global.binlog_format, @@global.binlog_row_image, "
		"@@global.binlog_row_metadata, @@global.server_id, @@version, @@hostname, @@port, "
		"@@global.binlog_checksum";
	char *v[9] = { 0 };
	int rc = query_row(m, who, sql, v, 9, err);

	if (rc == -SL_EEOF)
		rc = sl_err_set(err, -SL_EDB, "source %s: no answer to the variable check", who);
	if (rc)
		goto out;
	snprintf(si->flavor, sizeof(si->flavor), "%s",
		 v[5] && strstr(v[5], "MariaDB") ? "mariadb" : "mysql");
	snprintf(si->version, sizeof(si->version), "%s", v[5] ? v[5] : "?");
	if (!v[0] || strcmp(v[0], "1")) {
		rc = sl_err_set(err, -SL_ECONFIG, "source %s: binary log is off (start the server with --log-bin)", who);
		goto out;
	}
	if (!v[1] || strcasecmp(v[1], "ROW")) {
		rc = sl_err_set(err, -SL_ECONFIG, "source %s: binlog_format is %s, must be ROW", who,
				v[1] ? v[1] : "NULL");
		goto out;
	}
	if (!v[2] || strcasecmp(v[2], "FULL")) {
		rc = sl_err_set(err, -SL_ECONFIG, "source %s: binlog_row_image is %s, must be FULL", who,
				v[2] ? v[2] : "NULL");
		goto out;
	}
	if (!v[3] || strcasecmp(v[3], "FULL")) {
		rc = sl_err_set(err, -SL_ECONFIG, "source %s: binlog_row_metadata is %s, must be FULL", who,
				v[3] ? v[3] : "NULL");
		goto out;
	}
	snprintf(si->identity, sizeof(si->identity), "%s:server_id=%s:host=%s:port=%s", si->flavor,
		 v[4] ? v[4] : "?", v[6] ? v[6] : "?", v[7] ? v[7] : "?");
out:
	for (int i = 0; i < 9; i++)
		free(v[i]);
	return rc;
}

/* The source's binlog end now: SHOW MASTER STATUS. */
static int binlog_end(MYSQL *m, const char *who, char **file, uint64_t *pos, struct sl_err *err)
{
	char *v[2] = { 0 };
	int rc = query_row(m, who, "SHOW MASTER STATUS", v, 2, err);

	if (rc == -SL_EEOF)
		return sl_err_set(err, -SL_ECONFIG, "source %s: SHOW MASTER STATUS is empty (binary log off?)", who);
	if (rc)
		return rc;
	*file = v[0];
	*pos = v[1] ? strtoull(v[1], NULL, 10) : 4;
	free(v[1]);
	return 0;
}

static int first_binlog(MYSQL *m, const char *who, char **file, struct sl_err *err)
{
	char *v[1] = { 0 };
	int rc = query_row(m, who, "SHOW BINARY LOGS", v, 1, err);

	if (rc == -SL_EEOF)
		return sl_err_set(err, -SL_ECONFIG, "source %s: SHOW BINARY LOGS is empty", who);
	*file = v[0];
	return rc;
}

/* Binlog positions compare by file name (same base, zero-padded index), then offset. */
static int pos_cmp(const char *fa, uint64_t oa, const char *fb, uint64_t ob)
{
	size_t la = strlen(fa), lb = strlen(fb);
	int c = la != lb ? (la < lb ? -1 : 1) : strcmp(fa, fb);

	if (c)
		return c;
	return oa < ob ? -1 : oa > ob;
}

static int parse_from(const char *from, char **file, uint64_t *pos, struct sl_err *err)
{
	const char *colon = strrchr(from, ':');
	char *end;

	if (!colon || colon == from || !colon[1])
		return sl_err_set(err, -SL_EINVAL_ARG, "bad --from '%s': expected FILE:POS", from);
	*pos = strtoull(colon + 1, &end, 10);
	if (*end || *pos < 4)
		return sl_err_set(err, -SL_EINVAL_ARG, "bad --from '%s': position must be a number >= 4", from);
	*file = sl_xstrndup(from, (size_t)(colon - from));
	return 0;
}

/* The event bytes of a fetched replication event (without the OK byte). */
static int event_bytes(const MARIADB_RPL_EVENT *ev, const uint8_t **p, size_t *n)
{
	const uint8_t *b = ev->raw_data;
	size_t len = ev->raw_data_size;

	if (!b || len < 19)
		return -1;
	if (len >= 20 && b[0] == 0 && sl_le32(b + 10) == len - 1) {
		b++;
		len--;
	}
	if (sl_le32(b + 9) != len)
		return -1;
	*p = b;
	*n = len;
	return 0;
}

static int stream(struct cap_ctx *c, MYSQL *m, const char *who, const char *file, uint64_t start,
		  const char *end_file, uint64_t end_pos, struct sl_err *err)
{
	const struct cap_opts *o = c->o;
	struct cap_sink sink = { c, sink_record, sink_txn_end };
	MARIADB_RPL *rpl = NULL;
	MARIADB_RPL_EVENT *ev = NULL;
	uint32_t server_id = o->server_id ? o->server_id : 0x53000000u + ((uint32_t)getpid() & 0xffffff);
	uint32_t hb_ms = o->heartbeat_ms ? o->heartbeat_ms : 200;
	char sql[128];
	int rc = 0;

	if (mysql_query(m, "SET @master_binlog_checksum=@@global.binlog_checksum") ||
	    mysql_query(m, "SET @mariadb_slave_capability=4"))
		return db_error(err, m, who, "cannot set up the binlog dump");
	snprintf(sql, sizeof(sql), "SET @master_heartbeat_period=%llu",
		 (unsigned long long)hb_ms * 1000000ull);
	if (mysql_query(m, sql))
		return db_error(err, m, who, "cannot set the heartbeat period");
	rpl = mariadb_rpl_init(m);
	if (!rpl)
		return db_error(err, m, who, "cannot start replication");
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file, strlen(file));
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, (unsigned long)start);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, server_id);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS,
			     o->follow ? 0 : MARIADB_RPL_BINLOG_DUMP_NON_BLOCK);
	if (mariadb_rpl_open(rpl)) {
		rc = sl_err_set(err, -SL_EDB, "source %s: cannot start the binlog dump at %s:%llu: %s",
				who, file, (unsigned long long)start, mysql_error(m));
		goto out;
	}
	cap_decoder_set_file(c->d, file);
	sl_log(SL_INFO, "capture", "streaming from %s at %s:%llu%s", who, file,
	       (unsigned long long)start, o->follow ? " (follow)" : "");
	for (;;) {
		const uint8_t *p;
		size_t n;
		const Sluice__Position *at;

		if (sl_stop_requested && !cap_decoder_in_txn(c->d))
			break;
		ev = mariadb_rpl_fetch(rpl, ev);
		if (!ev) {
			if (sl_stop_requested)
				break;
			if (mysql_errno(m)) {
				rc = sl_err_set(err, -SL_EDB, "source %s: binlog dump failed after %s:%llu: %s", who,
						cap_decoder_position(c->d)->file,
						(unsigned long long)cap_decoder_position(c->d)->offset,
						mysql_error(m));
				goto out;
			}
			break;	/* end of binlog (non-blocking dump) */
		}
		if (event_bytes(ev, &p, &n)) {
			rc = sl_err_set(err, -SL_ECORRUPT, "source %s: malformed replication packet after %s:%llu",
					who, cap_decoder_position(c->d)->file,
					(unsigned long long)cap_decoder_position(c->d)->offset);
			goto out;
		}
		c->st->events++;
		c->st->binlog_bytes += n;
		if ((rc = cap_decoder_event(c->d, p, n, &sink, err)))
			goto out;
		if (p[4] == CAP_EV_HEARTBEAT && !cap_decoder_in_txn(c->d)) {
			/* idle source: make what we have durable now */
			if ((rc = seg_writer_flush(c->w, err)))
				goto out;
		}
		at = cap_decoder_position(c->d);
		if (!o->follow && !cap_decoder_in_txn(c->d) && at->file && at->file[0] &&
		    pos_cmp(at->file, at->offset, end_file, end_pos) >= 0)
			break;
	}
out:
	if (ev)
		mariadb_free_rpl_event(ev);
	mariadb_rpl_close(rpl);
	return rc;
}

int cap_run(const struct cap_opts *o, struct cap_stats *st, struct sl_err *err)
{
	struct sl_dsn dsn;
	char who[512];
	MYSQL *m = NULL;
	struct src_info si;
	struct cap_ctx c;
	struct cap_decoder_opts dopts = { 0 };
	struct seg_writer_opts wo = { 0 };
	Sluice__Position start = SLUICE__POSITION__INIT;
	const Sluice__Position *resume;
	char *end_file = NULL, *start_file = NULL, origin[600];
	uint64_t end_pos = 0, start_pos = 0, t0 = sl_now_ms();
	int rc;

	memset(st, 0, sizeof(*st));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.st = st;
	if ((rc = sl_dsn_parse(&dsn, o->source_url, "SLUICE_SOURCE_PASSWORD", err)))
		return rc;
	sl_dsn_redacted(&dsn, who, sizeof(who));
	if ((rc = connect_source(&m, &dsn, who, err)))
		goto out;
	if ((rc = precheck(m, who, &si, err)))
		goto out;
	if ((rc = binlog_end(m, who, &end_file, &end_pos, err)))
		goto out;

	/* Where a new stream would start. */
	if (o->from) {
		if ((rc = parse_from(o->from, &start_file, &start_pos, err)))
			goto out;
	} else if (o->from_start) {
		if ((rc = first_binlog(m, who, &start_file, err)))
			goto out;
		start_pos = 4;
	} else {
		start_file = sl_xstrdup(end_file);
		start_pos = end_pos;
	}
	start.flavor = si.flavor;
	start.file = start_file;
	start.offset = start_pos;

	wo.dir = o->dir;
	wo.source = si.identity;
	wo.start = &start;
	wo.segment_size = o->segment_size;
	wo.commit_interval_ms = o->commit_interval_ms ? o->commit_interval_ms : 10;
	if ((rc = seg_writer_open(&c.w, &wo, err)))
		goto out;
	resume = seg_writer_position(c.w);
	if (resume && (o->from || o->from_start)) {
		rc = sl_err_set(err, -SL_EINVAL_ARG,
				"'%s' already holds a stream: --from and --from-start are only for a new directory",
				o->dir);
		goto out;
	}
	if (!resume) {
		/* A new stream: record where it starts, durably, before anything else. */
		Sluice__Record r = SLUICE__RECORD__INIT;
		Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;

		hb.position = &start;
		hb.time = sl_wall_us() / 1000000;
		r.body_case = SLUICE__RECORD__BODY_HEARTBEAT;
		r.heartbeat = &hb;
		if ((rc = seg_writer_append(c.w, &r, err)) ||
		    (rc = seg_writer_txn_end(c.w, &start, hb.time, err)) ||
		    (rc = seg_writer_flush(c.w, err)))
			goto out;
		resume = seg_writer_position(c.w);
		sl_log(SL_INFO, "capture", "new stream in '%s' starts at %s:%llu", o->dir, start_file,
		       (unsigned long long)start_pos);
	}

	snprintf(origin, sizeof(origin), "source %s", who);
	dopts.flavor = si.flavor;
	dopts.origin = origin;
	c.d = cap_decoder_new(&dopts);
	if (!o->follow && pos_cmp(resume->file, resume->offset, end_file, end_pos) >= 0) {
		sl_log(SL_INFO, "capture", "nothing new: the stream is at the binlog end %s:%llu",
		       end_file, (unsigned long long)end_pos);
		goto out;
	}
	{
		/* the writer's position moves while we stream: keep a copy */
		char *rfile = sl_xstrdup(resume->file);

		rc = stream(&c, m, who, rfile, resume->offset, end_file, end_pos, err);
		free(rfile);
	}
out:
	if (c.w) {
		struct sl_err cerr = SL_ERR_INIT;
		int crc = seg_writer_close(c.w, rc ? &cerr : err);

		if (!rc)
			rc = crc;
		else if (crc)
			sl_log(SL_ERROR, "capture", "%s", cerr.msg);
	}
	if (!rc) {
		double secs = (double)(sl_now_ms() - t0) / 1000.0;

		sl_log(SL_INFO, "capture",
		       "captured %llu transactions, %llu rows, %llu ddls from %llu events (%.1f MB of binlog) in %.2fs",
		       (unsigned long long)st->transactions, (unsigned long long)st->rows,
		       (unsigned long long)st->ddls, (unsigned long long)st->events,
		       (double)st->binlog_bytes / 1e6, secs);
	}
	cap_decoder_free(c.d);
	free(c.emitted_seq);
	free(end_file);
	free(start_file);
	if (m)
		mysql_close(m);
	sl_dsn_release(&dsn);
	return rc;
}
