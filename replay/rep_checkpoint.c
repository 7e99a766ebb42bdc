/* rep_checkpoint.c - the `sluice`.`checkpoint` and `applied` rows: the statements that read and move them (their DDL: db/db_schema.c). */
#include "rep_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"


static int add_stream_id(struct sl_buf *out, const uint8_t stream_id[16])
{
	int rc = sl_buf_addc(out, '\'');

	for (int i = 0; i < 16 && !rc; i++)
		rc = sl_buf_addf(out, "%02x", stream_id[i]);
	return rc ? rc : sl_buf_addc(out, '\'');
}

int rep__sql_checkpoint_others(struct sl_buf *out, const char *consumer, const uint8_t stream_id[16])
{
	int rc;

	if ((rc = sl_buf_adds(out, "SELECT `consumer` FROM `sluice`.`checkpoint` WHERE `stream_id`=")) ||
	    (rc = add_stream_id(out, stream_id)) || (rc = sl_buf_adds(out, " AND `consumer`<>")) ||
	    (rc = fmt_sql_str(out, consumer)))
		return rc;
	return sl_buf_adds(out, " ORDER BY `consumer` LIMIT 1");
}

static int where_consumer(struct sl_buf *out, const char *consumer)
{
	int rc = sl_buf_adds(out, " WHERE `consumer`=");

	return rc ? rc : fmt_sql_str(out, consumer);
}

int rep__sql_checkpoint_select(struct sl_buf *out, const char *consumer)
{
	int rc = sl_buf_adds(out, "SELECT `stream_id`,`seq`,`frame_offset`,`record_index`,"
			     "`ddl_pending_seq`,`ddl_pending_offset`,`ddl_pending_index`,"
			     "`source_file`,`source_offset`,`gtid` FROM `sluice`.`checkpoint`");

	return rc ? rc : where_consumer(out, consumer);
}

int rep__sql_checkpoint_insert(struct sl_buf *out, const char *consumer,
			       const uint8_t stream_id[16])
{
	int rc;

	if ((rc = sl_buf_adds(out, "INSERT IGNORE INTO `sluice`.`checkpoint` (`consumer`,"
			      "`stream_id`,`seq`,`frame_offset`,`record_index`) VALUES (")) ||
	    (rc = fmt_sql_str(out, consumer)) || (rc = sl_buf_addc(out, ',')) ||
	    (rc = add_stream_id(out, stream_id)))
		return rc;
	return sl_buf_adds(out, ",0,0,0)");
}

int rep__sql_checkpoint_update(struct sl_buf *out, const char *consumer,
			       const struct seg_cursor *prev, const struct seg_cursor *cur,
			       const Sluice__Position *pos, const struct seg_cursor *pending)
{
	int rc;

	if ((rc = sl_buf_addf(out, "UPDATE `sluice`.`checkpoint` SET `seq`=%" PRIu64
			      ",`frame_offset`=%" PRIu64 ",`record_index`=%" PRIu32,
			      cur->seq, cur->offset, cur->index)))
		return rc;
	if (pos) {
		if ((rc = sl_buf_adds(out, ",`source_file`=")) || (rc = fmt_sql_str(out, pos->file)) ||
		    (rc = sl_buf_addf(out, ",`source_offset`=%" PRIu64 ",`gtid`=", pos->offset)) ||
		    (rc = fmt_sql_str(out, pos->gtid)))
			return rc;
	}
	if (pending)
		rc = sl_buf_addf(out, ",`ddl_pending_seq`=%" PRIu64 ",`ddl_pending_offset`=%" PRIu64
				 ",`ddl_pending_index`=%" PRIu32, pending->seq, pending->offset,
				 pending->index);
	else
		rc = sl_buf_adds(out, ",`ddl_pending_seq`=NULL,`ddl_pending_offset`=NULL,"
				 "`ddl_pending_index`=NULL");
	if (rc || (rc = sl_buf_adds(out, ",`updated_at`=NOW(6)")) ||
	    (rc = where_consumer(out, consumer)))
		return rc;
	return sl_buf_addf(out, " AND `seq`=%" PRIu64 " AND `frame_offset`=%" PRIu64
			   " AND `record_index`=%" PRIu32, prev->seq, prev->offset, prev->index);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	*v = strtoull(s, &end, 10);
	return *end ? -1 : 0;
}

int rep__checkpoint_parse(struct rep_checkpoint *cp, char **row, unsigned nfields,
			  struct sl_err *err)
{
	uint64_t idx, pidx = 0;

	memset(cp, 0, sizeof(*cp));
	if (nfields < 9 || !row[0] || sl_unhex(row[0], cp->stream_id, 16))
		goto bad;
	if (parse_u64(row[1], &cp->cur.seq) || parse_u64(row[2], &cp->cur.offset) ||
	    parse_u64(row[3], &idx) || idx > UINT32_MAX)
		goto bad;
	cp->cur.index = (uint32_t)idx;
	if (row[4] || row[5] || row[6]) {
		if (parse_u64(row[4], &cp->ddl_cur.seq) || parse_u64(row[5], &cp->ddl_cur.offset) ||
		    parse_u64(row[6], &pidx) || pidx > UINT32_MAX)
			goto bad;
		cp->ddl_cur.index = (uint32_t)pidx;
		cp->ddl_pending = 1;
	}
	snprintf(cp->source_file, sizeof(cp->source_file), "%s", row[7] ? row[7] : "");
	if (row[8] && parse_u64(row[8], &cp->source_offset))
		goto bad;
	/* the position's GTID too: a run resumed here names positions (and
	 * moves the checkpoint) as the run that read this commit did */
	snprintf(cp->source_gtid, sizeof(cp->source_gtid), "%s", nfields > 9 && row[9] ? row[9] : "");
	cp->found = 1;
	return 0;
bad:
	return sl_err_set(err, -SL_ECORRUPT, "destination table `sluice`.`checkpoint` has a malformed row");
}

int rep__sql_applied_tuple(struct sl_buf *out, const char *consumer, const struct seg_cursor *begin)
{
	int rc;

	if ((rc = sl_buf_addc(out, '(')) || (rc = fmt_sql_str(out, consumer)))
		return rc;
	return sl_buf_addf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu32 ")", begin->seq, begin->offset,
			   begin->index);
}

int rep__sql_applied_insert(struct sl_buf *out, const char *consumer, const struct seg_cursor *begin)
{
	int rc = sl_buf_adds(out, REP_APPLIED_INSERT);

	return rc ? rc : rep__sql_applied_tuple(out, consumer, begin);
}

int rep__sql_applied_delete(struct sl_buf *out, const char *consumer, const struct seg_cursor *upto)
{
	int rc;

	if ((rc = sl_buf_adds(out, "DELETE FROM `sluice`.`applied`")) ||
	    (rc = where_consumer(out, consumer)))
		return rc;
	/* spelled out rather than a row comparison, so the range uses the key */
	return sl_buf_addf(out, " AND (`seq`<%" PRIu64 " OR (`seq`=%" PRIu64 " AND (`frame_offset`<%"
			   PRIu64 " OR (`frame_offset`=%" PRIu64 " AND `record_index`<=%" PRIu32 "))))",
			   upto->seq, upto->seq, upto->offset, upto->offset, upto->index);
}

int rep__sql_applied_select(struct sl_buf *out, const char *consumer)
{
	int rc = sl_buf_adds(out, "SELECT `seq`,`frame_offset`,`record_index` FROM `sluice`.`applied`");

	if (!rc)
		rc = where_consumer(out, consumer);
	return rc ? rc : sl_buf_adds(out, " ORDER BY `seq`,`frame_offset`,`record_index`");
}
