/* rep_ddl_seen.c - did a DDL marked pending run before a crash: the destination's schema fingerprint at its intent, in `sluice`.`ddl_intent`, against the schema now. */
#include "rep_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <mysql.h>
#include "banned.h"

/*
 * A DDL cannot commit with the checkpoint (it commits by itself), so
 * rep_ddl.c marks it pending first and done after. A crash between the two
 * leaves it pending, and a restart used to run it again, trusting the
 * server to refuse a second run (table exists, duplicate column...). Not
 * every DDL is refused: ALTER TABLE t ADD INDEX (c) adds a second index
 * c_2. So before the mark, the fingerprint of the destination's schema
 * (tables and views, columns, indexes of every database but the system ones
 * and `sluice`) is stored with the DDL's cursor in its own committed row;
 * a restart that finds the DDL pending compares: a schema changed since
 * means the DDL ran (nothing else changes the destination's schema while
 * replay owns it), an unchanged one that it did not. A DDL that changes
 * none of that (a table option, TRUNCATE) runs again, which is harmless, as
 * no transaction after it was applied. Without a row (a crash before it was
 * written, or an older replay) the server's refusal decides, as before.
 */

#define FP_SCOPE "table_schema NOT IN ('mysql','information_schema','performance_schema','sys','sluice')"

/* Per view, order-free and without a string of the whole schema: the
 * count, the sum and the xor of two CRC32s of each row's text. */
#define FP_AGG(row) "CONCAT_WS(':',COUNT(*),SUM(CRC32(" row ")),BIT_XOR(CRC32(CONCAT('#'," row "))))"

static const char fp_sql[] =
	"SELECT MD5(CONCAT_WS('|',"
	"(SELECT " FP_AGG("CONCAT_WS(',',table_schema,table_name,table_type,IFNULL(engine,''),table_comment)")
	" FROM information_schema.TABLES WHERE " FP_SCOPE "),"
	"(SELECT " FP_AGG("CONCAT_WS(',',table_schema,table_name,ordinal_position,column_name,column_type,"
			  "is_nullable,IFNULL(column_default,'~'),extra,IFNULL(collation_name,''))")
	" FROM information_schema.COLUMNS WHERE " FP_SCOPE "),"
	"(SELECT " FP_AGG("CONCAT_WS(',',table_schema,table_name,index_name,seq_in_index,column_name,"
			  "non_unique,IFNULL(sub_part,''))")
	" FROM information_schema.STATISTICS WHERE " FP_SCOPE ")))";

/* The fingerprint into fp (33 bytes: 32 hex digits). */
static int fingerprint(struct rep_ctx *x, char fp[33], struct sl_err *err)
{
	struct rep_worker *c = &x->ctl;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;

	if (mysql_real_query(c->db, fp_sql, sizeof(fp_sql) - 1) || !(res = mysql_store_result(c->db)))
		return rep__db_error(c, "reading the destination's schema fingerprint", err);
	row = mysql_fetch_row(res);
	snprintf(fp, 33, "%s", row && row[0] ? row[0] : "");
	mysql_free_result(res);
	return rep__exec(c, "COMMIT", err);	/* end the read (autocommit is off) */
}

static int where_cursor(struct sl_buf *b, const char *consumer, const struct seg_cursor *cur)
{
	int rc = sl_buf_adds(b, " WHERE `consumer`=");

	if (!rc)
		rc = fmt_sql_str(b, consumer);
	return rc ? rc : sl_buf_addf(b, " AND `seq`=%" PRIu64 " AND `frame_offset`=%" PRIu64
				     " AND `record_index`=%" PRIu32, cur->seq, cur->offset, cur->index);
}

int rep__ddl_intent_note(struct rep_ctx *x, const struct seg_cursor *cur, struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(4096);
	char fp[33];
	int rc;

	if ((rc = fingerprint(x, fp, err)))
		return rc;
	if ((rc = sl_buf_adds(&b, FMT_REPLAY_MARK "REPLACE INTO `sluice`.`ddl_intent` (`consumer`,`seq`,"
			      "`frame_offset`,`record_index`,`schema_md5`) VALUES (")) ||
	    (rc = fmt_sql_str(&b, x->consumer)) ||
	    (rc = sl_buf_addf(&b, ",%" PRIu64 ",%" PRIu64 ",%" PRIu32 ",'%s');COMMIT", cur->seq,
			      cur->offset, cur->index, fp))) {
		sl_buf_release(&b);
		return sl_err_set(err, rc, "cannot build the ddl intent row: %s", sl_strerror(rc));
	}
	rc = rep__exec(&x->ctl, sl_buf_cstr(&b), err);
	sl_buf_release(&b);
	return rc;
}

int rep__ddl_intent_ran(struct rep_ctx *x, const struct seg_cursor *cur, int *ran,
			struct sl_err *err)
{
	struct rep_worker *c = &x->ctl;
	struct sl_buf b = SL_BUF_INIT(4096);
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char then[33] = "", now[33];
	int rc;

	*ran = 0;
	if ((rc = sl_buf_adds(&b, "SELECT `schema_md5` FROM `sluice`.`ddl_intent`")) ||
	    (rc = where_cursor(&b, x->consumer, cur))) {
		sl_buf_release(&b);
		return sl_err_set(err, rc, "cannot build the ddl intent lookup: %s", sl_strerror(rc));
	}
	if (mysql_real_query(c->db, (const char *)b.data, b.len) || !(res = mysql_store_result(c->db))) {
		rc = rep__db_error(c, "reading the ddl intent", err);
		goto out;
	}
	if ((row = mysql_fetch_row(res)) && row[0])
		snprintf(then, sizeof(then), "%s", row[0]);
	mysql_free_result(res);
	if ((rc = rep__exec(c, "COMMIT", err)) || !then[0])
		goto out;	/* no row: the server's refusal decides */
	if ((rc = fingerprint(x, now, err)))
		goto out;
	*ran = strcmp(then, now) != 0;
out:
	sl_buf_release(&b);
	return rc;
}
