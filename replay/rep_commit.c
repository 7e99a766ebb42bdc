/* rep_commit.c - replay's commit stage: what committed (the low-water mark), the checkpoint row folded to it, and read back with the applied set at the start. */
#include "rep.h"
#include "rep_int.h"
#include "db.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mysql.h>
#include "banned.h"

/* ---- the checkpoint row ---- */

/* Move the checkpoint row to the low-water mark (and mark a DDL pending or
 * not), deleting the applied rows it covers; one transaction on ctl. */
int rep__fold(struct rep_ctx *x, const struct seg_cursor *pending, struct sl_err *err)
{
	struct sl_buf u = SL_BUF_INIT(8192);
	Sluice__Position pos = SLUICE__POSITION__INIT;
	const struct seg_cursor *to = &x->lwm.cur;
	int rc;

	x->fold_ms = sl_now_ms();
	/* a DDL marked pending stays so until the mark moves past it */
	if (!pending && rep__cursor_eq(to, &x->folded))
		return 0;
	pos.file = x->lwm.file;
	pos.offset = x->lwm.offset;
	pos.gtid = x->lwm.gtid;
	rc = rep__sql_checkpoint_update(&u, x->consumer, &x->folded, to, x->lwm.file[0] ? &pos : NULL,
					pending);
	if (!rc)
		rc = rep__add_stmt(&x->ctl, K_CHECKPOINT, 0, to, u.data, u.len, 1);
	if (!rc)
		rc = rep__add_guard(&x->ctl, to, 1);
	sl_buf_reset(&u);
	if (!rc)
		rc = rep__sql_applied_delete(&u, x->consumer, to);
	if (!rc)
		rc = rep__add_stmt(&x->ctl, K_OTHER, 0, to, u.data, u.len, -1);
	if (!rc)
		rc = rep__add_stmt(&x->ctl, K_COMMIT, 0, to, "COMMIT", 6, -1);
	sl_buf_release(&u);
	if (rc) {
		rep__q_reset(&x->ctl);
		return sl_err_set(err, rc, "cannot build the checkpoint update: %s", sl_strerror(rc));
	}
	sl_failpoint("replay.fold.before");	/* batches committed, checkpoint not moved */
	if (rep__run_q(&x->ctl)) {
		rc = rep__fail_message(x, &x->ctl, err);
		rep__q_reset(&x->ctl);
		return rc;
	}
	sl_failpoint("replay.fold.after");
	x->folded = *to;
	x->cp.ddl_pending = pending != NULL;
	if (pending)
		x->cp.ddl_cur = *pending;
	return 0;
}

/* ---- start: checkpoint, applied set, table definitions ---- */

/* Another consumer of stream sid on this destination: an error naming it.
 * 0 when there is none. */
static int other_consumer(struct rep_ctx *x, const uint8_t sid[16], struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(4096);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	if ((rc = rep__sql_checkpoint_others(&b, x->consumer, sid))) {
		rc = sl_err_set(err, rc, "cannot build the consumer lookup: %s", sl_strerror(rc));
		goto out;
	}
	if (mysql_real_query(x->ctl.db, (const char *)b.data, b.len) ||
	    !(res = mysql_store_result(x->ctl.db))) {
		rc = rep__db_error(&x->ctl, "looking up the consumers of the stream", err);
		goto out;
	}
	if ((row = mysql_fetch_row(res)) && row[0])
		rc = sl_err_set(err, -SL_ESTREAM, "destination %s already holds the stream in '%s' "
				"under consumer '%s': consumer '%s' would apply it a second time; "
				"replay with --consumer %s", x->ctl.dest, x->o->dir, row[0],
				x->consumer, row[0]);
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&b);
	return rc;
}

int rep__load_checkpoint(struct rep_ctx *x, const uint8_t sid[16], struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(4096);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc;

	{
		char who[sizeof(x->ctl.dest) + 16];

		snprintf(who, sizeof(who), "destination %s", x->ctl.dest);
		if ((rc = db_sluice_schema_ensure(x->ctl.db, who, err)))
			goto out;
	}
	if ((rc = other_consumer(x, sid, err)))
		goto out;
	if ((rc = rep__sql_checkpoint_insert(&b, x->consumer, sid)) ||
	    (rc = sl_buf_adds(&b, ";COMMIT")))
		goto out;
	if ((rc = rep__exec(&x->ctl, sl_buf_cstr(&b), err)))
		goto out;
	sl_buf_reset(&b);
	if ((rc = rep__sql_checkpoint_select(&b, x->consumer)))
		goto out;
	if (mysql_real_query(x->ctl.db, (const char *)b.data, b.len) ||
	    !(res = mysql_store_result(x->ctl.db))) {
		rc = rep__db_error(&x->ctl, "reading the checkpoint", err);
		goto out;
	}
	if (!(row = mysql_fetch_row(res))) {
		/* the unique key ignored our row: another consumer came first */
		if ((rc = other_consumer(x, sid, err)))
			goto out;
		rc = sl_err_set(err, -SL_EDB, "destination %s: checkpoint row of '%s' is missing",
				x->ctl.dest, x->consumer);
		goto out;
	}
	if ((rc = rep__checkpoint_parse(&x->cp, row, mysql_num_fields(res), err)))
		goto out;
	if (memcmp(x->cp.stream_id, sid, 16)) {
		char a[33], d[33];

		sl_hex(a, x->cp.stream_id, 16);
		sl_hex(d, sid, 16);
		rc = sl_err_set(err, -SL_ESTREAM, "destination checkpoint '%s' belongs to another stream: "
				"it applied stream %s, '%s' holds stream %s (captured again from "
				"another start, or another directory?)", x->consumer, a, x->o->dir, d);
		goto out;
	}
	mysql_free_result(res);
	res = NULL;
	/* transactions committed after the checkpoint by parallel workers */
	sl_buf_reset(&b);
	if ((rc = rep__sql_applied_select(&b, x->consumer)))
		goto out;
	if (mysql_real_query(x->ctl.db, (const char *)b.data, b.len) ||
	    !(res = mysql_store_result(x->ctl.db))) {
		rc = rep__db_error(&x->ctl, "reading the applied transactions", err);
		goto out;
	}
	x->napplied = 0;
	x->applied = sl_xcalloc((size_t)mysql_num_rows(res) + 1, sizeof(*x->applied));
	while ((row = mysql_fetch_row(res))) {
		struct seg_cursor *c = &x->applied[x->napplied];

		if (!row[0] || !row[1] || !row[2])
			continue;
		c->seq = strtoull(row[0], NULL, 10);
		c->offset = strtoull(row[1], NULL, 10);
		c->index = (uint32_t)strtoul(row[2], NULL, 10);
		if (rep__cursor_cmp(c, &x->cp.cur) > 0)
			x->napplied++;
	}
	if (x->napplied)
		sl_log(SL_INFO, "replay", "%zu transactions after the checkpoint were committed "
		       "before a restart; they are skipped", x->napplied);
	x->folded = x->cp.cur;
	x->lwm.cur = x->cp.cur;
	snprintf(x->lwm.file, sizeof(x->lwm.file), "%s", x->cp.source_file);
	snprintf(x->lwm.gtid, sizeof(x->lwm.gtid), "%s", x->cp.source_gtid);
	x->lwm.offset = x->cp.source_offset;
	if (x->cp.source_file[0]) {
		/* as fmt_position_str() prints the commit's position */
		Sluice__Position pos = SLUICE__POSITION__INIT;

		pos.file = x->cp.source_file;
		pos.offset = x->cp.source_offset;
		pos.gtid = x->cp.source_gtid;
		fmt_position_str(&pos, x->last_pos, sizeof(x->last_pos));
	}
	mysql_free_result(res);
	res = NULL;
	rc = rep__exec(&x->ctl, "COMMIT", err);	/* end the read-only transaction */
out:
	if (res)
		mysql_free_result(res);
	if (rc && !err->code)
		rc = sl_err_set(err, rc, "cannot build checkpoint statements: %s", sl_strerror(rc));
	sl_buf_release(&b);
	return rc;
}

/* The checkpoint in DIR/consumers/ (store/seg.h) is advisory, for retention:
 * it trails the destination's checkpoint row. A failure only warns. */
void rep__register_consumer(struct rep_ctx *x)
{
	struct sl_err e = SL_ERR_INIT;

	if (seg_consumer_update(x->o->dir, x->consumer, &x->folded, x->lwm.time, &e))
		sl_log(SL_WARN, "replay", "cannot register consumer '%s' for retention: %s", x->consumer, e.msg);
}

int rep__committed_locked(struct rep_ctx *x, uint64_t t)
{
	const struct rep_inflight *e;

	if (t < x->ring_lo)
		return 1;
	e = &x->ring[t % REP_RING];
	return e->closed && (!e->w || e->w->done_tno >= t);
}

/* Move the low-water mark over every transaction now committed. */
void rep__advance_lwm(struct rep_ctx *x)
{
	pthread_mutex_lock(&x->pool.mu);
	while (x->ring_lo < x->next_tno && rep__committed_locked(x, x->ring_lo)) {
		x->lwm = x->ring[x->ring_lo % REP_RING];
		x->ring_lo++;
	}
	pthread_mutex_unlock(&x->pool.mu);
}
