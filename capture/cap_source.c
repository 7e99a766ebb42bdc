/* cap_source.c - capture from a live server: connect, check, stream the binlog into segments. */
#include "cap.h"
#include "cap_int.h"
#include "db.h"
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
 *          -> between transactions: retention (cap_retain.c, opt-in)
 *     -> stop: binlog end as of start (batch) or a signal (follow)
 *     -> seal the open segment -> retention once more -> seg_writer_close (partial transaction in
 *        hand is discarded)
 *
 * cap_run() runs that loop again after a transient failure (sl.h "retrying
 * what passes": a lost connection, a server restart, a read timeout, an
 * event damaged in transit that fails its CRC32): the writer is closed as
 * after a stop, its partial transaction discarded, and the next round
 * resumes at the end of the last complete transaction in DIR, so nothing is
 * lost or written twice. A failure before the first connection of the
 * process is retried only with --follow (a service; a one-shot command
 * with a mistyped host should fail now).
 *
 * The source's heartbeat (@master_heartbeat_period) wakes the loop when the
 * source is idle, so the writer can flush and a stop request is seen.
 */

struct cap_ctx {
	const struct cap_opts *o;
	struct cap_stats *st;
	struct seg_writer *w;
	struct cap_decoder *d;
	struct cap_seg_sink sk;		/* cap_sink.c: TableDef once per segment */
	struct cap_retain rt;		/* cap_retain.c: --retain-bytes/--retain-age */
	struct cap_metrics mt;		/* cap_metrics.c: --metrics FILE */
	struct sl_retry *retry;		/* told when the dump runs again */
};

/* ---- the source connection ---- */

static int db_error(struct sl_err *err, MYSQL *m, const char *who, const char *what)
{
	return sl_err_set(err, db_code(m), "source %s: %s: %s", who, what, mysql_error(m));
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

struct src_info {
	struct db_server srv;		/* flavor and version */
	char identity[256];
	int full_metadata;		/* binlog_row_metadata=FULL: names in every TABLE_MAP */
};

/*
 * Check that the source writes a binlog we can use (db_source_checks: the
 * first that fails ends capture, a warning is logged) and fill in what it
 * is: flavor, version and identity.
 */
static int precheck(MYSQL *m, const char *who, struct src_info *si, struct sl_err *err)
{
	struct db_check_result res[8];
	char subject[560];
	int rc;

	if (db_source_nchecks > sizeof(res) / sizeof(res[0]))
		sl_bug("more source checks than room for their results");
	snprintf(subject, sizeof(subject), "source %s", who);
	if ((rc = db_server_detect(m, subject, &si->srv, err)) ||
	    (rc = db_checks_run(m, subject, db_source_checks, db_source_nchecks, res, err)))
		return rc;
	for (size_t i = 0; i < db_source_nchecks; i++) {
		if (res[i].outcome == DB_FAILED)
			return sl_err_set(err, -SL_ECONFIG, "%s: %s", subject, res[i].message);
		if (res[i].outcome == DB_WARNED)
			sl_log(SL_WARN, "capture", "%s: %s", subject, res[i].message);
		if (!strcmp(res[i].check->name, "binlog_row_metadata"))
			si->full_metadata = res[i].outcome == DB_PASS;
	}
	/* the same identity as the snapshot stream's (db_snapshot.c) */
	return db_source_identity(m, subject, &si->srv, si->identity, sizeof(si->identity), err);
}

/* Without full row metadata: the columns (names and types) of every user
 * table now, the start of the schema history (cap_schema.c) that the DDL in
 * the stream then keeps current. */
static int seed_schema(MYSQL *m, const char *who, struct cap_decoder *d, struct sl_err *err)
{
	static const char sql[] =
		"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, CHARACTER_OCTET_LENGTH "
		"FROM information_schema.COLUMNS "
		"WHERE TABLE_SCHEMA NOT IN ('mysql','sys','performance_schema','information_schema') "
		"ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION";
	MYSQL_RES *res;
	MYSQL_ROW row;
	char db[256] = "", name[256] = "";
	char **cols = NULL, **types = NULL;
	size_t n = 0, tables = 0;

	if (mysql_query(m, sql) || !(res = mysql_use_result(m)))
		return db_error(err, m, who, "cannot read information_schema.COLUMNS");
	for (;;) {
		row = mysql_fetch_row(res);
		if (!row || strcmp(row[0], db) || strcmp(row[1], name)) {
			if (n) {
				cap__schema_set(cap_decoder_schema(d), db, name, (const char *const *)cols,
						(const char *const *)types, n);
				tables++;
			}
			for (size_t i = 0; i < n; i++) {
				free(cols[i]);
				free(types[i]);
			}
			n = 0;
			if (!row)
				break;
			snprintf(db, sizeof(db), "%s", row[0]);
			snprintf(name, sizeof(name), "%s", row[1]);
		}
		cols = sl_xrealloc(cols, (n + 1) * sizeof(*cols));
		types = sl_xrealloc(types, (n + 1) * sizeof(*types));
		cols[n] = sl_xstrdup(row[2] ? row[2] : "");
		types[n++] = row[3] ? cap__coltype_norm(row[3], strlen(row[3]),
							row[4] ? strtoull(row[4], NULL, 10) : 0)
				    : NULL;
	}
	free(cols);
	free(types);
	mysql_free_result(res);
	sl_log(SL_INFO, "capture", "schema history starts with %zu tables from information_schema", tables);
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
	/* digits only: strtoull() would take "-5" for 2^64 - 5 */
	errno = 0;
	*pos = strtoull(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || *pos < 4)
		return sl_err_set(err, -SL_EINVAL_ARG, "bad --from '%s': offset '%s' must be a number >= 4",
				  from, colon + 1);
	*file = sl_xstrndup(from, (size_t)(colon - from));
	return 0;
}

/*
 * --from FILE:POS is checked against the source before anything is recorded
 * in DIR, since the stream's first segment records it for good: FILE must be
 * one of SHOW BINARY LOGS, 4 <= POS <= its size, and an event must start at
 * POS (the binlog's end, POS = size, is a boundary too). MariaDB's SHOW
 * BINLOG EVENTS ... FROM POS refuses an offset inside an event ("Wrong
 * offset or I/O error", or with binlog_checksum NONE "Invalid input pos"),
 * and where a server answers anyway the event it shows must start at POS.
 */
static int check_from(MYSQL *m, const char *who, const char *from, const char *file, uint64_t pos,
		      struct sl_err *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char sql[600], esc[2 * 256 + 1];
	uint64_t size = 0;
	size_t n = strlen(file);
	int rc = 0, found = 0;

	if (mysql_query(m, "SHOW BINARY LOGS") || !(res = mysql_store_result(m)))
		return db_error(err, m, who, "SHOW BINARY LOGS");
	while ((row = mysql_fetch_row(res)))
		if (row[0] && !strcmp(row[0], file)) {
			found = 1;
			size = row[1] ? strtoull(row[1], NULL, 10) : 0;
		}
	mysql_free_result(res);
	if (!found)
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "bad --from '%s': the source has no binlog '%s' (see SHOW BINARY LOGS)",
				  from, file);
	if (pos > size)
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "bad --from '%s': offset %llu is past the end of '%s' (%llu bytes)",
				  from, (unsigned long long)pos, file, (unsigned long long)size);
	if (pos == size)
		return 0;
	if (n > 256)
		return sl_err_set(err, -SL_EINVAL_ARG, "bad --from '%s': binlog name too long", from);
	mysql_real_escape_string(m, esc, file, (unsigned long)n);
	snprintf(sql, sizeof(sql), "SHOW BINLOG EVENTS IN '%s' FROM %llu LIMIT 1", esc,
		 (unsigned long long)pos);
	/* the server's refusal comes with the query or while its rows are read */
	if (mysql_query(m, sql) || !(res = mysql_store_result(m))) {
		/* ER_ERROR_WHEN_EXECUTING_COMMAND: the offset is not an event's start */
		if (mysql_errno(m) == 1220)
			return sl_err_set(err, -SL_EINVAL_ARG,
					  "bad --from '%s': offset %llu of '%s' is not the start of an event (source: %s)",
					  from, (unsigned long long)pos, file, mysql_error(m));
		return db_error(err, m, who, "SHOW BINLOG EVENTS (checking --from)");
	}
	row = mysql_fetch_row(res);
	if (!row || mysql_num_fields(res) < 2 || !row[1] || strtoull(row[1], NULL, 10) != pos)
		rc = sl_err_set(err, -SL_EINVAL_ARG,
				"bad --from '%s': offset %llu of '%s' is not the start of an event",
				from, (unsigned long long)pos, file);
	mysql_free_result(res);
	return rc;
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

/*
 * One event from either dump loop (n bytes at p, the event header first):
 * decode it; on a heartbeat (either version: MySQL 8.0.26+ sends v2 on
 * either protocol) between transactions move the head to the decoder's
 * position when events were left out since, and make what we hold durable; let
 * retention run; without --follow, stop at the binlog end seen at start.
 * Returns <0 an error, 1 stop here, 0 go on.
 */
static int on_event(struct cap_ctx *c, const struct cap_sink *sink, const uint8_t *p, size_t n,
		    const char *end_file, uint64_t end_pos, struct sl_err *err)
{
	const Sluice__Position *at;
	int rc;

	c->st->events++;
	c->st->binlog_bytes += n;
	if ((rc = cap_decoder_event(c->d, p, n, sink, err)) == -SL_ECORRUPT) {
		/* the source's binlog passed its own checks when written: bytes
		 * that fail now most likely changed on the way; fetch again */
		sl_err_prefix(err, "%s", "an event failed its checks (damaged in transit?), fetching it again");
		return err->code = -SL_ETRANSIENT;
	}
	if (rc)
		return rc;
	if (cap_decoder_in_txn(c->d))
		return 0;
	/* idle source: the head at its binlog end, durable now */
	if ((p[4] == CAP_EV_HEARTBEAT || p[4] == CAP_EV_HEARTBEAT_V2) &&
	    ((rc = cap__seg_sink_catch_up(&c->sk, err)) || (rc = seg_writer_flush(c->w, err))))
		return rc;
	if (p[4] == CAP_EV_HEARTBEAT || p[4] == CAP_EV_HEARTBEAT_V2)
		c->mt.idle_at = sl_wall_us() / 1000000;
	cap__metrics_tick(&c->mt, c->st, &c->sk, 0, err);
	cap__retain_tick(&c->rt, c->w, 0);
	at = cap_decoder_position(c->d);
	return !c->o->follow && at->file && at->file[0] &&
	       pos_cmp(at->file, at->offset, end_file, end_pos) >= 0;
}

/*
 * "FILE:OFFSET" of where the dump is, for messages: the decoder's position
 * once an event has set it, else where the dump started. (The decoder learns
 * the start file from cap_decoder_set_file(), which leaves its offset 0 until
 * the first event: a dump refused at once said "after FILE:0".)
 */
static const char *dump_at(const struct cap_ctx *c, const char *file, uint64_t start, char *buf,
			   size_t n)
{
	const Sluice__Position *at = cap_decoder_position(c->d);

	if (at->file && at->file[0] && at->offset >= 4)
		snprintf(buf, n, "%s:%llu", at->file, (unsigned long long)at->offset);
	else
		snprintf(buf, n, "%s:%llu", file, (unsigned long long)start);
	return buf;
}

/* Between transactions a stop need not wait for the source's next event:
 * the dump's socket is handed to the stop handler (sl_stop_interrupts()),
 * and taken back while a transaction is read, which a stop lets finish.
 * *armed: what the handler holds now; told only when it changes (every
 * event comes here). */
static void stop_arm(struct cap_ctx *c, MYSQL *m, int *armed)
{
	int fd = cap_decoder_in_txn(c->d) ? -1 : (int)mysql_get_socket(m);

	if (fd != *armed)
		sl_stop_interrupts(*armed = fd);
}

/* The binlog dump (COM_BINLOG_DUMP) from FILE:START, or, given gtid (a
 * MariaDB GTID list: a failover, see failover_check()), from just after it
 * by @slave_connect_state: the server finds the file and offset itself and
 * refuses (error 1236) when its binlog does not hold that GTID. */
static int stream(struct cap_ctx *c, MYSQL *m, const char *who, const char *file, uint64_t start,
		  const char *gtid, const char *end_file, uint64_t end_pos, struct sl_err *err)
{
	const struct cap_opts *o = c->o;
	struct cap_sink sink;
	MARIADB_RPL *rpl = NULL;
	MARIADB_RPL_EVENT *ev = NULL;
	char at[600];
	uint32_t server_id = o->server_id ? o->server_id : 0x53000000u + ((uint32_t)getpid() & 0xffffff);
	uint32_t hb_ms = o->heartbeat_ms ? o->heartbeat_ms : 200;
	char sql[128];
	int rc = 0, armed = -1;	/* the stop handler's socket (stop_arm()) */

	cap__seg_sink_init(&c->sk, c->w, c->d, c->st, o->filter, &sink);
	if (mysql_query(m, "SET @master_binlog_checksum=@@global.binlog_checksum") ||
	    mysql_query(m, "SET @mariadb_slave_capability=4"))
		return db_error(err, m, who, "cannot set up the binlog dump");
	snprintf(sql, sizeof(sql), "SET @master_heartbeat_period=%llu",
		 (unsigned long long)hb_ms * 1000000ull);
	if (mysql_query(m, sql))
		return db_error(err, m, who, "cannot set the heartbeat period");
	if (gtid) {
		struct sl_buf q = SL_BUF_INIT(4096);

		rc = sl_buf_adds(&q, "SET @slave_connect_state=") || fmt_sql_str(&q, gtid) ? -SL_ETOOBIG : 0;
		if (!rc && (mysql_real_query(m, (const char *)q.data, q.len) ||
			    mysql_query(m, "SET @slave_gtid_strict_mode=1")))
			rc = db_error(err, m, who, "cannot start the binlog dump by GTID");
		else if (rc)
			rc = sl_err_set(err, rc, "source %s: GTID list too long: %s", who, gtid);
		sl_buf_release(&q);
		if (rc)
			return rc;
		file = "";
		start = 4;
	}
	rpl = mariadb_rpl_init(m);
	if (!rpl)
		return db_error(err, m, who, "cannot start replication");
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, file, strlen(file));
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, (unsigned long)start);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, server_id);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS,
			     o->follow ? 0 : MARIADB_RPL_BINLOG_DUMP_NON_BLOCK);
	if (mariadb_rpl_open(rpl)) {
		rc = gtid ? sl_err_set(err, db_code(m), "source %s: cannot start the binlog dump after GTID %s: %s",
				       who, gtid, mysql_error(m)) :
			    sl_err_set(err, db_code(m), "source %s: cannot start the binlog dump at %s:%llu: %s",
				       who, file, (unsigned long long)start, mysql_error(m));
		goto out;
	}
	cap_decoder_set_file(c->d, file);
	sl_retry_up(c->retry);
	if (gtid)
		sl_log(SL_INFO, "capture", "streaming from %s after GTID %s%s", who, gtid,
		       o->follow ? " (follow)" : "");
	else
		sl_log(SL_INFO, "capture", "streaming from %s at %s:%llu%s", who, file,
		       (unsigned long long)start, o->follow ? " (follow)" : "");
	for (;;) {
		const uint8_t *p;
		size_t n;

		if (sl_stop_requested && !cap_decoder_in_txn(c->d))
			break;
		stop_arm(c, m, &armed);
		ev = mariadb_rpl_fetch(rpl, ev);
		if (!ev) {
			if (sl_stop_requested)
				break;
			if (mysql_errno(m)) {
				rc = cap__dump_error(m, who, dump_at(c, file, start, at, sizeof(at)), err);
				goto out;
			}
			break;	/* end of binlog (non-blocking dump) */
		}
		if (event_bytes(ev, &p, &n)) {
			rc = sl_err_set(err, -SL_ETRANSIENT, "source %s: malformed replication packet after %s",
					who, dump_at(c, file, start, at, sizeof(at)));
			goto out;
		}
		if ((rc = on_event(c, &sink, p, n, end_file, end_pos, err)) != 0) {
			rc = rc < 0 ? rc : 0;
			goto out;
		}
	}
out:
	if (ev)
		mariadb_free_rpl_event(ev);
	mariadb_rpl_close(rpl);
	return rc;
}

/*
 * COM_BINLOG_DUMP_GTID (MySQL 5.6+, the OceanBase binlog service): start
 * after a GTID set. libmariadb's replication API sends only COM_BINLOG_DUMP,
 * so the packet (cap_gtid.c) goes through the connection's command method
 * and the events are read packet by packet: 00 + event, fe = end (non-
 * blocking dump), ff = error.
 */
static int stream_gtid(struct cap_ctx *c, MYSQL *m, const char *who, const char *gtid_set,
		       const char *end_file, uint64_t end_pos, struct sl_err *err)
{
	const struct cap_opts *o = c->o;
	struct cap_sink sink;
	struct sl_buf pkt;
	uint32_t server_id = o->server_id ? o->server_id : 0x53000000u + ((uint32_t)getpid() & 0xffffff);
	uint32_t hb_ms = o->heartbeat_ms ? o->heartbeat_ms : 200;
	char sql[128];
	int rc, armed = -1;	/* the stop handler's socket (stop_arm()) */

	cap__seg_sink_init(&c->sk, c->w, c->d, c->st, o->filter, &sink);
	if (mysql_query(m, "SET @master_binlog_checksum=@@global.binlog_checksum"))
		return db_error(err, m, who, "cannot set up the binlog dump");
	snprintf(sql, sizeof(sql), "SET @master_heartbeat_period=%llu",
		 (unsigned long long)hb_ms * 1000000ull);
	if (mysql_query(m, sql))
		return db_error(err, m, who, "cannot set the heartbeat period");
	sl_buf_init(&pkt, (size_t)64 << 20);
	rc = cap_gtid_dump_packet(server_id, "", 4, gtid_set, o->follow ? 0 : 1 /* NON_BLOCK */,
				  &pkt, err);
	if (rc == 0 && m->methods->db_command(m, (enum enum_server_command)0x1e, (const char *)pkt.data + 1,
					      pkt.len - 1, 1, NULL))
		rc = db_error(err, m, who, "cannot start the GTID binlog dump");
	sl_buf_release(&pkt);
	if (rc)
		return rc;
	sl_retry_up(c->retry);
	sl_log(SL_INFO, "capture", "streaming from %s after GTID set %s%s", who, gtid_set,
	       o->follow ? " (follow)" : "");
	for (;;) {
		unsigned long len;
		const uint8_t *p;

		if (sl_stop_requested && !cap_decoder_in_txn(c->d))
			break;
		stop_arm(c, m, &armed);
		len = mysql_net_read_packet(m);
		if (len == packet_error || len == 0) {
			if (sl_stop_requested)
				break;
		{
			char at[600];

			snprintf(at, sizeof(at), "GTID set %s, at %s:%llu", gtid_set, cap_decoder_position(c->d)->file,
				 (unsigned long long)cap_decoder_position(c->d)->offset);
			return cap__dump_error(m, who, at, err);
		}
		}
		p = m->net.read_pos;
		if (p[0] == 0xfe && len < 8)
			break;	/* end of binlog (non-blocking dump) */
		if (p[0] != 0 || len < 20 || sl_le32(p + 10) != len - 1)
			return sl_err_set(err, -SL_ETRANSIENT, "source %s: malformed replication packet after %s:%llu",
					  who, cap_decoder_position(c->d)->file,
					  (unsigned long long)cap_decoder_position(c->d)->offset);
		if ((rc = on_event(c, &sink, p + 1, len - 1, end_file, end_pos, err)) != 0)
			return rc < 0 ? rc : 0;
	}
	return 0;
}

/*
 * A source failover: DIR holds the stream of another server (its identity,
 * store/seg.h, names server id, host and port). A MariaDB server with the
 * same GTID history (a promoted replica, or the same one behind a new
 * address) continues the stream by GTID: the stream keeps its identity,
 * later positions are the new server's files and offsets, and the dump
 * starts after the stream's last GTID (stream()), which the server refuses
 * when it does not have it. *failover: 1 and *dsrc the stream's identity,
 * 0 when DIR is new or of this server; <0 another server we cannot follow.
 */
static int failover_check(const struct cap_opts *o, const struct src_info *si, const char *who,
			  char **dsrc, int *failover, struct sl_err *err)
{
	uint8_t sid[16];
	struct sl_err e = SL_ERR_INIT;

	*failover = 0;
	*dsrc = NULL;
	if (seg_dir_identity(o->dir, dsrc, sid, &e) || !strcmp(*dsrc, si->identity))
		return 0;
	if (si->srv.flavor != DB_MARIADB || strncmp(*dsrc, "mariadb:", 8))
		return sl_err_set(err, -SL_ESTREAM, "'%s' holds the stream of source '%s', not of %s (%s): "
				  "a failover continues by GTID from MariaDB to MariaDB only", o->dir, *dsrc,
				  who, si->identity);
	*failover = 1;
	return 0;
}

/* One round of the loop at the top, from connect to seg_writer_close. */
static int capture_once(const struct cap_opts *o, const struct sl_dsn *dsn, const char *who,
			struct cap_stats *st, struct sl_retry *retry, int *connected, struct sl_err *err)
{
	MYSQL *m = NULL;
	struct src_info si;
	struct db_opts dbo = { 0 };
	struct cap_ctx c;
	struct cap_decoder_opts dopts = { 0 };
	struct seg_writer_opts wo = { 0 };
	Sluice__Position start = SLUICE__POSITION__INIT;
	const Sluice__Position *resume;
	char *end_file = NULL, *start_file = NULL, *dsrc = NULL, origin[600];
	uint64_t end_pos = 0, start_pos = 0, t0 = sl_now_ms();
	int rc, failover = 0;

	memset(&c, 0, sizeof(c));
	memset(&si, 0, sizeof(si));
	c.o = o;
	c.st = st;
	c.retry = retry;
	cap__retain_init(&c.rt, o->dir, o->retain, o->retain_bytes, o->retain_age_s);
	cap__metrics_init(&c.mt, o->start_only ? NULL : o->metrics, o->dir);
	/* a FILE that cannot be written stops capture before it starts */
	if ((rc = cap__metrics_tick(&c.mt, st, &c.sk, 0, err)))
		goto out;
	dbo.role = DB_ROLE_SOURCE_STREAM;
	dbo.heartbeat_ms = o->heartbeat_ms;
	if ((rc = db_connect(&m, dsn, &dbo, err)))
		goto out;
	*connected = 1;
	if ((rc = precheck(m, who, &si, err)) || (rc = cap__grants_check(m, who, err)))
		goto out;
	snprintf(origin, sizeof(origin), "source %s", who);
	if ((rc = db_binlog_status(m, origin, &si.srv, &end_file, &end_pos, err)))
		goto out;

	/* Where a new stream would start. */
	if (o->from) {
		/* before DIR is opened: a refused --from leaves it as it was */
		if ((rc = parse_from(o->from, &start_file, &start_pos, err)) ||
		    (rc = check_from(m, who, o->from, start_file, start_pos, err)))
			goto out;
	} else if (o->from_start) {
		if ((rc = first_binlog(m, who, &start_file, err)))
			goto out;
		start_pos = 4;
	} else {
		start_file = sl_xstrdup(end_file);
		start_pos = end_pos;
	}
	start.flavor = (char *)(uintptr_t)db_binlog_flavor(&si.srv);
	start.file = start_file;
	start.offset = start_pos;
	if (o->from_gtid) {
		/* the file and offset are known only once the dump starts */
		start.file = (char *)"";
		start.offset = 4;
		start.gtid = (char *)(uintptr_t)o->from_gtid;
	}

	if ((rc = failover_check(o, &si, who, &dsrc, &failover, err)))
		goto out;
	wo.dir = o->dir;
	wo.source = failover ? dsrc : si.identity;
	wo.start = &start;
	wo.segment_size = o->segment_size;
	wo.segment_age_ms = o->segment_age_ms;
	wo.commit_interval_ms = o->commit_interval_ms ? o->commit_interval_ms : 10;
	if ((rc = seg_writer_open(&c.w, &wo, err)))
		goto out;
	resume = seg_writer_position(c.w);
	if (resume && (o->from || o->from_start || o->from_gtid)) {
		rc = sl_err_set(err, -SL_EINVAL_ARG,
				"'%s' already holds a stream: --from and --from-start are only for a new directory",
				o->dir);
		goto out;
	}
	if (!resume) {
		if ((rc = cap__stream_start(c.w, &start, &resume, err)))
			goto out;
		sl_log(SL_INFO, "capture", "new stream in '%s' starts at %s:%llu", o->dir, start_file,
		       (unsigned long long)start_pos);
	}
	if (o->start_only)
		goto out;
	if (failover) {
		if (!resume->gtid || !resume->gtid[0]) {
			rc = sl_err_set(err, -SL_ESTREAM, "'%s' holds the stream of source '%s', not of %s (%s), "
					"and its position %s:%llu has no GTID to continue from", o->dir, dsrc,
					who, si.identity, resume->file ? resume->file : "",
					(unsigned long long)resume->offset);
			goto out;
		}
		sl_log(SL_WARN, "capture", "source failover: the stream of '%s' continues from %s (%s) "
		       "after GTID %s", dsrc, who, si.identity, resume->gtid);
	}
	/* a purged (or lost) resume point stops here, before anything is read
	 * (after a failover the position is the old server's: the dump by
	 * GTID is the check) */
	if (!failover && (rc = db_binlog_has(m, origin, resume->file, resume->offset, err)))
		goto out;

	snprintf(origin, sizeof(origin), "source %s", who);
	dopts.flavor = db_binlog_flavor(&si.srv);
	dopts.origin = origin;
	dopts.allow_positional = o->allow_positional;
	dopts.keep_replayed = o->keep_replayed;
	c.d = cap_decoder_new(&dopts);
	if ((rc = cap__decoder_live(c.d, m, who, err)))
		goto out;
	if (!si.full_metadata) {
		/* the history as of the resume point: saved by the last run, or
		 * for a stream that starts now, information_schema now */
		int loaded = 0;

		if ((rc = cap__schema_load(cap_decoder_schema(c.d), o->dir, resume->file, resume->offset,
					   &loaded, err)))
			goto out;
		if (!loaded && pos_cmp(resume->file, resume->offset, end_file, end_pos) < 0)
			sl_log(SL_WARN, "capture", "no schema history saved at %s:%llu: names for the events before the binlog end come from today's information_schema (a table whose columns differ from its binlog events stops capture)",
			       resume->file, (unsigned long long)resume->offset);
		if (!loaded && (rc = seed_schema(m, who, c.d, err)))
			goto out;
	}
	if (resume->file && !resume->file[0] && resume->gtid && resume->gtid[0]) {
		/* a new --from-gtid stream that has not seen a transaction yet */
		char *set = sl_xstrdup(resume->gtid);

		rc = stream_gtid(&c, m, who, set, end_file, end_pos, err);
		sl_stop_interrupts(-1);
		free(set);
		goto out;
	}
	if (!o->follow && !failover && pos_cmp(resume->file, resume->offset, end_file, end_pos) >= 0) {
		sl_log(SL_INFO, "capture", "nothing new: the stream is at the binlog end %s:%llu",
		       end_file, (unsigned long long)end_pos);
		goto out;
	}
	{
		/* the writer's position moves while we stream: keep a copy */
		char *rfile = sl_xstrdup(resume->file);

		char *rgtid = failover ? sl_xstrdup(resume->gtid) : NULL;

		rc = stream(&c, m, who, rfile, resume->offset, rgtid, end_file, end_pos, err);
		sl_stop_interrupts(-1);
		free(rgtid);
		free(rfile);
	}
out:
	if (c.w && c.d && !si.full_metadata && (rc == 0 || (rc == -SL_ETRANSIENT && !cap_decoder_in_txn(c.d)))) {
		/* the history as of the end of the last complete transaction, also
		 * for the next round after a transient failure */
		struct sl_err e2 = SL_ERR_INIT, *se = rc ? &e2 : err;
		int src = seg_writer_flush(c.w, se);
		const Sluice__Position *at = seg_writer_position(c.w);

		if (!src && at && at->file)
			src = cap__schema_save(cap_decoder_schema(c.d), o->dir, at->file, at->offset, se);
		if (src && !rc)
			rc = src;
		else if (src)
			sl_log(SL_ERROR, "capture", "%s", e2.msg);
	}
	/* A stream at rest is sealed whole, so pack takes all of it; the next
	 * capture continues in a new segment (FORMAT.md "Writing"). */
	if (c.w && rc == 0 && !(c.d && cap_decoder_in_txn(c.d)))
		rc = seg_writer_seal(c.w, err);
	if (c.w && rc == 0)
		cap__retain_tick(&c.rt, c.w, 1);
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
		       "captured %llu transactions, %llu rows, %llu ddls from %llu events (%.1f MB of binlog) in %.2fs; "
		       "%llu transactions and %llu DDL written by sluice replay left out%s",
		       (unsigned long long)st->transactions, (unsigned long long)st->rows,
		       (unsigned long long)st->ddls, (unsigned long long)st->events,
		       (double)st->binlog_bytes / 1e6, secs, (unsigned long long)st->replayed_txns,
		       (unsigned long long)st->replayed_ddls, o->keep_replayed ? " (--keep-replayed: none)" : "");
	}
	cap__metrics_tick(&c.mt, st, &c.sk, 1, &(struct sl_err)SL_ERR_INIT);	/* the end, complete */
	cap_decoder_free(c.d);
	cap__seg_sink_release(&c.sk);
	free(end_file);
	free(start_file);
	free(dsrc);
	if (m)
		mysql_close(m);
	return rc;
}

/* What a round did, for sl_retry_again(): transactions and DDL, written or left out. */
static uint64_t done_of(const struct cap_stats *st)
{
	return st->transactions + st->ddls + st->replayed_txns + st->replayed_ddls;
}

int cap_run(const struct cap_opts *o, struct cap_stats *st, struct sl_err *err)
{
	struct sl_retry r;
	struct sl_dsn dsn;
	char who[512], what[600], *state;
	uint64_t done;
	int rc, connected = 0;

	memset(st, 0, sizeof(*st));
	if ((rc = sl_dsn_parse(&dsn, o->source_url, "SLUICE_SOURCE_PASSWORD", err)))
		return rc;
	sl_dsn_redacted(&dsn, who, sizeof(who));
	snprintf(what, sizeof(what), "source %s", who);
	state = o->start_only ? NULL : sl_xasprintf("%s/capture.state", o->dir);
	sl_retry_init(&r, "capture", what, o->retry_for_ms, state);
	free(state);
	/* a round that wrote something clears the failures before it: a source
	 * that fails again at once is given up after --retry-for */
	do {
		done = done_of(st);
		rc = capture_once(o, &dsn, who, st, &r, &connected, err);
	} while (sl_retry_again(&r, &rc, done_of(st) != done, connected || o->follow, err));
	sl_retry_end(&r, rc, err);
	sl_retry_release(&r);
	sl_dsn_release(&dsn);
	return rc;
}
