/* rep_skip.c - replay --skip: the list of transactions to leave out (GTID or SEG:OFFSET[:RECORD]), matching one, and its `sluice`.`skipped` row. */
#include "rep.h"
#include "rep_hist.h"
#include "rep_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>
#include "db.h"
#include "banned.h"

static int parse_cursor(const char *s, struct seg_cursor *c)
{
	char *e;
	unsigned long long v[3] = { 0, 0, 0 };
	int n = 0;

	for (const char *p = s;; p = e + 1) {
		if (n == 3 || *p < '0' || *p > '9')
			return -1;
		v[n++] = strtoull(p, &e, 10);
		if (!*e)
			break;
		if (*e != ':')
			return -1;
	}
	if (n < 2 || !v[0] || v[2] > UINT32_MAX)
		return -1;
	c->seq = v[0];
	c->offset = v[1];
	c->index = (uint32_t)v[2];
	return 0;
}

static int add_item(struct rep_skip *s, const char *p, size_t len, struct sl_err *err)
{
	struct rep_skip_item it = { 0 };

	if (!len || len >= sizeof(it.text))
		return sl_err_set(err, -SL_EINVAL_ARG, "%s value (a GTID, or SEG:OFFSET[:RECORD] "
				  "as replay's messages print it)", len ? "too long a" : "an empty");
	memcpy(it.text, p, len);
	if (!rep__gtid_parse(it.text, &it.gtid))
		it.by_gtid = 1;
	else if (parse_cursor(it.text, &it.at))
		return sl_err_set(err, -SL_EINVAL_ARG, "'%s': not a GTID (D-S-N or UUID:N) nor "
				  "SEG:OFFSET[:RECORD] (\"segment S offset O record I\" in replay's messages)",
				  it.text);
	s->v = sl_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = it;
	return 0;
}

int rep__skip_parse(struct rep_skip *s, const char *const *values, size_t n, struct sl_err *err)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		const char *p = values[i];

		for (;;) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);

			if ((rc = add_item(s, p, len, err)))
				return rc;
			if (!comma)
				break;
			p = comma + 1;
		}
	}
	return 0;
}

void rep__skip_release(struct rep_skip *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

struct rep_skip_item *rep__skip_match(struct rep_skip *s, const char *gtid,
				      const struct seg_cursor *begin, const struct seg_cursor *commit)
{
	struct rep_gtid g;
	int have = !rep__gtid_parse(gtid, &g);

	for (size_t i = 0; i < s->n; i++) {
		struct rep_skip_item *it = &s->v[i];

		if (it->by_gtid) {
			if (have && g.mysql == it->gtid.mysql && g.seq == it->gtid.seq &&
			    (g.mysql ? !strcmp(g.uuid, it->gtid.uuid) :
				       g.domain == it->gtid.domain && g.server == it->gtid.server))
				return it;
		} else if (rep__cursor_cmp(begin, &it->at) <= 0 && rep__cursor_cmp(&it->at, commit) <= 0) {
			return it;
		}
	}
	return NULL;
}

int rep__skip_sql(struct sl_buf *out, const struct rep_skip_row *r)
{
	char pos[300] = "";
	int rc;

	if (r->end)
		fmt_position_str(r->end, pos, sizeof(pos));
	if ((rc = sl_buf_adds(out, FMT_REPLAY_MARK "INSERT IGNORE INTO `sluice`.`skipped` (`consumer`,"
			      "`stream_id`,`seq`,`frame_offset`,`record_index`,`commit_seq`,"
			      "`commit_offset`,`commit_index`,`gtid`,`source_position`,`row_count`,"
			      "`source_time`,`skipped_by`,`given`) VALUES (")) ||
	    (rc = fmt_sql_str(out, r->consumer)) ||
	    (rc = sl_buf_adds(out, ",'")))
		return rc;
	for (int i = 0; i < 16; i++)
		if ((rc = sl_buf_addf(out, "%02x", r->stream_id[i])))
			return rc;
	if ((rc = sl_buf_addf(out, "',%" PRIu64 ",%" PRIu64 ",%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",%"
			      PRIu32 ",", r->begin.seq, r->begin.offset, r->begin.index, r->commit.seq,
			      r->commit.offset, r->commit.index)) ||
	    (rc = fmt_sql_str(out, r->gtid)) || (rc = sl_buf_addc(out, ',')) ||
	    (rc = fmt_sql_str(out, pos)) ||
	    (rc = sl_buf_addf(out, ",%" PRIu64 ",", r->rows)) ||
	    (rc = r->time ? sl_buf_addf(out, "FROM_UNIXTIME(%" PRIu64 "),", r->time) :
			    sl_buf_adds(out, "NULL,")) ||
	    (rc = fmt_sql_str(out, r->who)) || (rc = sl_buf_addc(out, ',')) ||
	    (rc = fmt_sql_str(out, r->given)) || (rc = sl_buf_adds(out, ");")))
		return rc;
	return rep__sql_applied_insert(out, r->consumer, &r->begin);
}

int rep_skip_check(const char *value, struct sl_err *err)
{
	struct rep_skip s = { 0 };
	int rc = rep__skip_parse(&s, &value, 1, err);

	rep__skip_release(&s);
	return rc;
}

int rep_skipped_print(const char *dest_url, const uint8_t sid[16], FILE *out, struct sl_err *err)
{
	static const char exists[] = "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA='sluice' "
				     "AND TABLE_NAME='skipped'";
	struct sl_dsn d;
	struct db_opts o = { .role = DB_ROLE_VERIFY_DEST };
	struct sl_buf q = SL_BUF_INIT(4096);
	MYSQL *m = NULL;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char who[300], red[256];
	int rc;

	memset(&d, 0, sizeof(d));
	if ((rc = sl_dsn_parse(&d, dest_url, "SLUICE_DEST_PASSWORD", err)))
		return rc;
	snprintf(who, sizeof(who), "destination %s", sl_dsn_redacted(&d, red, sizeof(red)));
	if ((rc = db_connect(&m, &d, &o, err)))
		goto out;
	if (mysql_real_query(m, exists, sizeof(exists) - 1) || !(res = mysql_store_result(m))) {
		rc = db_stmt_error(err, m, who, exists, sizeof(exists) - 1);
		goto out;
	}
	if (!mysql_num_rows(res)) {
		fprintf(out, "skipped:   none on %s (no `sluice`.`skipped` there)\n", who + 12);
		goto out;
	}
	mysql_free_result(res);
	res = NULL;
	if ((rc = sl_buf_adds(&q, "SELECT `consumer`,`gtid`,`seq`,`frame_offset`,`record_index`,"
			      "`source_position`,`row_count`,`skipped_by`,"
			      "DATE_FORMAT(`skipped_at`,'%Y-%m-%d %H:%i:%s'),`given` "
			      "FROM `sluice`.`skipped` WHERE `stream_id`='")))
		goto build;
	for (int i = 0; i < 16; i++)
		if ((rc = sl_buf_addf(&q, "%02x", sid[i])))
			goto build;
	if ((rc = sl_buf_adds(&q, "' ORDER BY `seq`,`frame_offset`,`record_index`")))
		goto build;
	if (mysql_real_query(m, (const char *)q.data, q.len) || !(res = mysql_store_result(m))) {
		rc = db_stmt_error(err, m, who, (const char *)q.data, q.len);
		goto out;
	}
	fprintf(out, "skipped:   %llu transactions left out by replay --skip on %s\n",
		(unsigned long long)mysql_num_rows(res), who + 12);
	while ((row = mysql_fetch_row(res)))
		fprintf(out, "  %-16s %s%sat seq %s offset %s record %s, source position %s, %s rows; "
			"by %s at %s UTC (--skip %s)\n", row[0] ? row[0] : "", row[1] && row[1][0] ? row[1] : "",
			row[1] && row[1][0] ? " " : "", row[2] ? row[2] : "", row[3] ? row[3] : "",
			row[4] ? row[4] : "", row[5] && row[5][0] ? row[5] : "-", row[6] ? row[6] : "",
			row[7] ? row[7] : "", row[8] ? row[8] : "", row[9] ? row[9] : "");
	goto out;
build:
	rc = sl_err_set(err, rc, "cannot build the skipped query: %s", sl_strerror(rc));
out:
	if (res)
		mysql_free_result(res);
	if (m)
		mysql_close(m);
	sl_buf_release(&q);
	sl_dsn_release(&d);
	return rc;
}
