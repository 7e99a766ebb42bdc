/* rep_worker.c - one destination connection: its multi-statement query, sending and checking it, and the worker threads that do so in parallel. */
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

#define REP_Q_MAX ((size_t)4 << 20)	/* flush statements at 4 MiB */
#define REP_RETRIES 10			/* deadlock / lock wait timeout */

/* The server's reason first, then the destination, then what was running
 * (a statement or a description, abbreviated): rep__stmt_error(). */
int rep__db_error(struct rep_worker *w, const char *what, struct sl_err *err)
{
	char reason[600], ctx[300];

	db_reason(mysql_error(w->db), mysql_errno(w->db), reason, sizeof(reason));
	snprintf(ctx, sizeof(ctx), "on destination %s", w->dest);
	return rep__stmt_error(err, db_code(w->db), reason, ctx, what, strlen(what));
}

static void drain(MYSQL *db)
{
	while (mysql_next_result(db) == 0) {
		MYSQL_RES *res = mysql_store_result(db);

		if (res)
			mysql_free_result(res);
	}
}

int rep__exec(struct rep_worker *w, const char *sql, struct sl_err *err)
{
	int st;

	if (mysql_real_query(w->db, sql, strlen(sql)))
		return rep__db_error(w, sql, err);
	do {
		MYSQL_RES *res = mysql_store_result(w->db);

		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(w->db))
			return rep__db_error(w, sql, err);
	} while ((st = mysql_next_result(w->db)) == 0);
	if (st > 0)
		return rep__db_error(w, sql, err);
	return 0;
}

char *rep__ddl_marked(const char *sql)
{
	size_t m = strlen(FMT_REPLAY_MARK), n = strlen(sql);
	char *s = sl_xmalloc(m + n + 1);

	memcpy(s, FMT_REPLAY_MARK, m);
	memcpy(s + m, sql, n + 1);
	return s;
}

int rep__ddl_beacon(struct rep_worker *w, struct sl_err *err)
{
	return rep__exec(w, FMT_REPLAY_BEACON, err);
}

void rep__rollback(struct rep_worker *w)
{
	struct sl_err ignored = SL_ERR_INIT;

	drain(w->db);
	if (rep__exec(w, "ROLLBACK", &ignored))
		sl_log(SL_WARN, "replay", "%s", ignored.msg);
	w->txn_open = 0;
}

int rep__conn_open(struct rep_worker *w, const char *url, struct sl_err *err)
{
	struct sl_dsn dsn = { 0 };
	struct db_opts dbo = { 0 };
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	unsigned long long map = 0;
	int rc;

	if ((rc = sl_dsn_parse(&dsn, url, "SLUICE_DEST_PASSWORD", err)))
		return rc;
	sl_dsn_redacted(&dsn, w->dest, sizeof(w->dest));
	/* the worker with id 0 is the control connection (DDL, checkpoint) */
	dbo.role = w->load ? DB_ROLE_REPLAY_LOAD : w->id ? DB_ROLE_REPLAY_WORKER :
		   DB_ROLE_REPLAY_CONTROL;
	dbo.sql_mode = REP_SESSION_SQL_MODE;
	if ((rc = db_connect(&w->db, &dsn, &dbo, err)))
		goto out;
	w->session = mysql_thread_id(w->db);
	w->dest_mariadb = strstr(mysql_get_server_info(w->db), "MariaDB") != NULL;
	if (mysql_real_query(w->db, "SELECT @@max_allowed_packet", 27) ||
	    !(res = mysql_store_result(w->db))) {
		rc = rep__db_error(w, "SELECT @@max_allowed_packet", err);
		goto out;
	}
	if ((row = mysql_fetch_row(res)) && row[0])
		map = strtoull(row[0], NULL, 10);
	if (map < 64 << 10)
		map = 1 << 20;
	w->max_packet = (size_t)map;
	w->stmt_max = (size_t)map - 4096;
	w->q_max = w->stmt_max < REP_Q_MAX ? w->stmt_max : REP_Q_MAX;
	sl_buf_init(&w->q, w->stmt_max);
	sl_buf_init(&w->open_shape, 1 << 16);
out:
	if (res)
		mysql_free_result(res);
	sl_dsn_release(&dsn);
	return rc;
}

void rep__conn_close(struct rep_worker *w)
{
	if (w->db)
		mysql_close(w->db);
	w->db = NULL;
	sl_buf_release(&w->q);
	sl_buf_release(&w->open_shape);
	free(w->parts);
	free(w->txns);
	w->parts = NULL;
	w->txns = NULL;
	w->nparts = w->capparts = w->ntxns = w->captxns = 0;
}

int rep__conn_lock(struct rep_worker *w, const char *consumer, unsigned i, int timeout_s, int keep,
		   struct sl_err *err)
{
	struct sl_buf q = SL_BUF_INIT(1024);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int rc, got;

	if ((rc = sl_buf_adds(&q, "SELECT GET_LOCK(CONCAT('sluice:',LEFT(SHA1(_utf8mb4 ")) ||
	    (rc = fmt_sql_hex(&q, consumer, strlen(consumer))) ||
	    (rc = sl_buf_addf(&q, "),24),':%u'),%d)", i, timeout_s))) {
		sl_buf_release(&q);
		return sl_err_set(err, rc, "cannot build a lock statement: %s", sl_strerror(rc));
	}
	if (mysql_real_query(w->db, (const char *)q.data, q.len) || !(res = mysql_store_result(w->db))) {
		unsigned e = mysql_errno(w->db);

		if (e == 1305 || e == 1064 || e == 1235) {	/* no GET_LOCK/SHA1 there */
			static int warned;

			if (!warned++)
				sl_log(SL_WARN, "replay", "destination %s has no GET_LOCK (%s): a replay "
				       "restarted right after a crash may fail once on the queries of "
				       "the one that died; run it again", w->dest, mysql_error(w->db));
			rc = 0;
			goto out;
		}
		rc = rep__db_error(w, "taking the consumer lock", err);
		goto out;
	}
	row = mysql_fetch_row(res);
	got = row && row[0] && !strcmp(row[0], "1");
	if (!got) {
		rc = sl_err_set(err, -SL_EDB, "destination %s: consumer '%s' is in use (lock %u held "
				"for %d s): another replay is running, or the queries of one that "
				"died are still running", w->dest, consumer, i, timeout_s);
		goto out;
	}
	if (!keep) {
		sl_buf_reset(&q);
		mysql_free_result(res);
		res = NULL;
		if ((rc = sl_buf_adds(&q, "DO RELEASE_LOCK(CONCAT('sluice:',LEFT(SHA1(_utf8mb4 ")) ||
		    (rc = fmt_sql_hex(&q, consumer, strlen(consumer))) ||
		    (rc = sl_buf_addf(&q, "),24),':%u'))", i)) ||
		    (rc = rep__exec(w, sl_buf_cstr(&q), err)))
			goto out;
	}
	rc = 0;
out:
	if (res)
		mysql_free_result(res);
	sl_buf_release(&q);
	return rc;
}

/* ---- building q ---- */

void rep__txn_meta(struct rep_worker *w, uint64_t tno, const char *gtid, const char *after,
		   int starts)
{
	struct rep_txn_meta *m;

	if (w->ntxns == w->captxns) {
		w->captxns = w->captxns ? w->captxns * 2 : 16;
		w->txns = sl_xrealloc(w->txns, w->captxns * sizeof(*w->txns));
	}
	m = &w->txns[w->ntxns++];
	m->tno = tno;
	snprintf(m->gtid, sizeof(m->gtid), "%s", gtid ? gtid : "");
	snprintf(m->after, sizeof(m->after), "%s", after ? after : "");
	w->next_first = starts;
}

struct rep_part *rep__part_new(struct rep_worker *w, enum rep_kind kind, uint32_t ref,
			       const struct seg_cursor *cur)
{
	static const struct seg_cursor none;
	struct rep_part *p;

	if (w->nparts == w->capparts) {
		w->capparts = w->capparts ? w->capparts * 2 : 64;
		w->parts = sl_xrealloc(w->parts, w->capparts * sizeof(*w->parts));
	}
	if (!w->ntxns) {	/* statements outside any transaction meta (control connection) */
		rep__txn_meta(w, 0, NULL, NULL, 0);
		w->next_first = 0;
	}
	if (w->q.len && sl_buf_addc(&w->q, ';'))
		sl_bug("no room for a statement separator (callers reserve it)");
	p = &w->parts[w->nparts++];
	p->off = w->q.len;
	p->len = 0;
	p->kind = kind;
	p->ref = ref;
	p->txn = (uint32_t)(w->ntxns - 1);
	p->first = w->next_first;
	w->next_first = 0;
	p->expect = -1;
	p->cur = cur ? *cur : none;
	return p;
}

void rep__part_end(struct rep_worker *w, struct rep_part *p)
{
	p->len = w->q.len - p->off;
}

int rep__add_stmt(struct rep_worker *w, enum rep_kind kind, uint32_t ref,
		  const struct seg_cursor *cur, const void *sql, size_t len, int64_t expect)
{
	struct rep_part *p = rep__part_new(w, kind, ref, cur);
	int rc = sl_buf_add(&w->q, sql, len);

	if (rc)
		return rc;
	p->expect = expect;
	rep__part_end(w, p);
	return 0;
}

int rep__add_guard(struct rep_worker *w, const struct seg_cursor *cur, int64_t n)
{
	if (w->split_commits)
		return 0;	/* the client checks before it sends the COMMIT */
	char g[96];
	/* n < 0 (safe mode: any count): warnings only */
	int len = n < 0 ? snprintf(g, sizeof(g), "SET @sluice_rc=~0+(@@warning_count<>0)") :
		  snprintf(g, sizeof(g), "SET @sluice_rc=~0+(ROW_COUNT()<>%lld OR @@warning_count<>0)",
			   (long long)n);

	return rep__add_stmt(w, K_GUARD, 0, cur, g, (size_t)len, -1);
}

int rep__close_open(struct rep_worker *w)
{
	struct rep_part *p;
	int rc = 0;

	if (!w->open_kind)
		return 0;
	p = &w->parts[w->nparts - 1];
	if (w->open_kind == K_DELETE)
		rc = sl_buf_addc(&w->q, ')');
	rep__part_end(w, p);
	p->expect = w->open_safe ? -1 : w->open_kind == K_REPLACE ? 2 * w->open_rows : w->open_rows;
	/* an INSERT too: its warnings must stop the query before its COMMIT */
	if (!rc)
		rc = rep__add_guard(w, &p->cur, p->expect);
	w->open_kind = 0;
	return rc;
}

void rep__q_reset(struct rep_worker *w)
{
	/* A row near max_allowed_packet grows q to its size, and q kept
	 * that capacity for good: one such row per worker made the resident
	 * size about workers x max_allowed_packet. Give it back. */
	if (w->q.cap > 2 * w->q_max)
		sl_buf_release(&w->q);
	else
		sl_buf_reset(&w->q);
	if (w->capparts > 65536) {
		free(w->parts);
		w->parts = NULL;
		w->capparts = 0;
	}
	w->nparts = 0;
	w->ntxns = 0;
	w->open_kind = 0;
	w->queued_txns = 0;
	w->next_first = 0;
}

/* ---- sending q ---- */

static void set_fail(struct rep_worker *w, size_t part, int count, uint64_t aff)
{
	w->fail.part = part;
	w->fail.count = count;
	w->fail.aff = aff;
	w->fail.warnings = 0;
	w->fail.errnum = count ? 0 : mysql_errno(w->db);
	w->fail.qlen = w->q.len;
	snprintf(w->fail.msg, sizeof(w->fail.msg), "%s", count ? "" : mysql_error(w->db));
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Index of the first statement of the transaction holding part i, when
 * that start is in q at or after from; SIZE_MAX otherwise. */
static size_t txn_start(const struct rep_worker *w, size_t i, size_t from)
{
	for (size_t j = i + 1; j-- > from;)
		if (w->parts[j].first)
			return j;
	return SIZE_MAX;
}

static int row_kind(enum rep_kind k)
{
	return k == K_INSERT || k == K_UPDATE || k == K_DELETE || k == K_REPLACE;
}

/*
 * Statement i raised warnings, and its transaction was rolled back. The
 * warnings of a statement in the middle of a multi-statement query are
 * gone by the time the client may ask (the statements after it cleared
 * them), so run its transaction again up to it, one statement at a time,
 * read the first warning, and roll back. Only on this failure path; when
 * the run does not raise it again, the message keeps the count alone.
 */
static void explain_warning(struct rep_worker *w, size_t i, size_t from)
{
	size_t s = txn_start(w, i, from);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;

	if (s == SIZE_MAX)
		s = from;
	for (size_t j = s; j <= i; j++) {
		const struct rep_part *p = &w->parts[j];

		if (p->kind == K_GUARD || p->kind == K_COMMIT || p->kind == K_CHECKPOINT)
			continue;
		if (mysql_real_query(w->db, (const char *)w->q.data + p->off, p->len))
			goto out;
		if ((res = mysql_store_result(w->db)))
			mysql_free_result(res);
		res = NULL;
		drain(w->db);
	}
	if (!mysql_warning_count(w->db) || mysql_real_query(w->db, "SHOW WARNINGS", 13) ||
	    !(res = mysql_store_result(w->db)))
		goto out;
	if ((row = mysql_fetch_row(res)) && mysql_num_fields(res) >= 3)
		snprintf(w->fail.msg, sizeof(w->fail.msg), "%s %s: %s", row[0] ? row[0] : "",
			 row[1] ? row[1] : "", row[2] ? row[2] : "");
out:
	if (res)
		mysql_free_result(res);
	rep__rollback(w);
}

/* Send statements [from, to) of q as one query and check every result.
 * 0, or -SL_EAPPLY with w->fail set and the transaction rolled back. */
static int send_range(struct rep_worker *w, size_t from, size_t to)
{
	size_t i, end = w->parts[to - 1].off + w->parts[to - 1].len;
	int tries = 0, st;

again:
	i = from;
	if (mysql_real_query(w->db, (const char *)w->q.data + w->parts[from].off,
			     end - w->parts[from].off))
		goto server_error;
	for (;;) {
		MYSQL_RES *res = mysql_store_result(w->db);
		my_ulonglong aff;

		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(w->db))
			goto server_error;
		aff = mysql_affected_rows(w->db);
		if (i >= to)
			sl_bug("more results than statements (%zu)", to);
		if (w->parts[i].expect >= 0 && aff != (my_ulonglong)w->parts[i].expect) {
			set_fail(w, i, 1, aff);
			goto failed;
		}
		/* A value the destination truncated, rounded or converted: never
		 * commit it (free: the count is in the statement's OK packet).
		 * With guards, the guard after it stops the query on the server. */
		if (row_kind(w->parts[i].kind) && mysql_warning_count(w->db)) {
			unsigned nw = mysql_warning_count(w->db);

			set_fail(w, i, 0, 0);
			w->fail.warnings = nw;
			rep__rollback(w);
			explain_warning(w, i, from);
			return -SL_EAPPLY;
		}
		if (w->parts[i].kind == K_COMMIT)
			w->txn_open = 0;
		st = mysql_next_result(w->db);
		if (st < 0)
			break;
		i++;
		if (st > 0)
			goto server_error;
	}
	if (i + 1 != to)
		sl_bug("%zu results for %zu statements", i + 1 - from, to - from);
	return 0;
server_error:
	if (i >= to) {
		set_fail(w, SIZE_MAX, 0, 0);
		goto failed;
	}
	{
		unsigned e = mysql_errno(w->db);
		size_t s = txn_start(w, i, from);

		/* A deadlock or lock wait timeout against another worker: the
		 * transaction is rolled back; run it again from its start. */
		if ((e == 1213 || e == 1205) && s != SIZE_MAX && tries < REP_RETRIES) {
			rep__rollback(w);
			sl_log(SL_WARN, "replay", "worker %d: %s (error %u): its transaction runs again in "
			       "%u ms (attempt %d of %d)", w->id, mysql_error(w->db), e, 5u << tries,
			       tries + 1, REP_RETRIES);
			sleep_ms(5u << tries);
			tries++;
			from = s;
			goto again;
		}
		set_fail(w, i, 0, 0);
	}
failed:
	rep__rollback(w);
	return -SL_EAPPLY;
}

int rep__run_q(struct rep_worker *w)
{
	size_t a = 0;
	int rc = 0;

	if (!w->q.len) {
		rep__q_reset(w);
		return 0;
	}
	if (!w->split_commits) {
		rc = send_range(w, 0, w->nparts);
	} else {
		/* no guards in q: each COMMIT goes alone, after the client has
		 * checked every statement of its transaction */
		for (size_t i = 0; i < w->nparts && !rc; i++) {
			if (w->parts[i].kind != K_COMMIT)
				continue;
			if (i > a)
				rc = send_range(w, a, i);
			if (!rc)
				sl_failpoint("replay.batch.before-commit");
			if (!rc)
				rc = send_range(w, i, i + 1);
			a = i + 1;
		}
		if (!rc && a < w->nparts)
			rc = send_range(w, a, w->nparts);
	}
	if (rc)
		return rc;
	/* open: a statement after the last COMMIT (a session SET does not count) */
	w->txn_open = 0;
	for (size_t i = w->nparts; i-- > 0 && w->parts[i].kind != K_COMMIT;)
		w->txn_open |= w->parts[i].kind != K_OTHER;
	if (w->txn_open) {
		/* the open transaction goes on in the next q: keep its meta, and
		 * its next statement is not its first (no retry from there) */
		struct rep_txn_meta m = w->txns[w->ntxns - 1];

		rep__q_reset(w);
		w->txns[0] = m;
		w->ntxns = 1;
		return 0;
	}
	rep__q_reset(w);
	return 0;
}

/* ---- threads ---- */

static void *worker_main(void *arg)
{
	struct rep_worker *w = arg;
	struct rep_pool *p = w->pool;

	sl_block_stop_signals();
	mysql_thread_init();
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (w->state != W_BUSY && !p->quit)
			pthread_cond_wait(&w->go, &p->mu);
		if (w->state != W_BUSY)
			break;
		pthread_mutex_unlock(&p->mu);
		uint64_t q_tno = w->q_tno;
		int rc = rep__run_q(w);

		if (!rc)
			sl_failpoint("replay.batch.after-commit");
		pthread_mutex_lock(&p->mu);
		if (rc) {
			w->state = W_FAILED;
		} else {
			if (q_tno > w->done_tno)
				w->done_tno = q_tno;
			w->state = W_IDLE;
		}
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	mysql_thread_end();
	return NULL;
}

int rep__pool_start(struct rep_pool *p, unsigned n, const char *url, const char *consumer,
		    struct sl_err *err)
{
	int rc;

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->w = sl_xcalloc(n, sizeof(*p->w));
	for (unsigned i = 0; i < n; i++) {
		struct rep_worker *w = &p->w[i];

		w->id = (int)i + 1;
		w->pool = p;
		w->split_commits = p->split_commits;
		pthread_cond_init(&w->go, NULL);
		p->n = i + 1;
		if ((rc = rep__conn_open(w, url, err)) ||
		    (rc = rep__conn_lock(w, consumer, w->id, 10, 1, err)))
			return rc;
		if ((rc = pthread_create(&w->thread, NULL, worker_main, w)))
			return sl_err_set(err, -rc, "cannot start replay worker %u: %s", i + 1,
					  strerror(rc));
		w->has_thread = 1;
	}
	return 0;
}

void rep__pool_stop(struct rep_pool *p)
{
	if (!p->w)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	for (unsigned i = 0; i < p->n; i++)
		pthread_cond_signal(&p->w[i].go);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n; i++) {
		if (p->w[i].has_thread)
			pthread_join(p->w[i].thread, NULL);
		if (p->w[i].db && p->w[i].txn_open)
			rep__rollback(&p->w[i]);
		rep__conn_close(&p->w[i]);
		pthread_cond_destroy(&p->w[i].go);
	}
	free(p->w);
	p->w = NULL;
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
}
