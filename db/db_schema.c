/* db_schema.c - the `sluice` schema on a destination: its tables and their migrations. */
#include "db.h"
#include "fmt.h"

#include <string.h>
#include "banned.h"

/* Each statement marked as sluice's (FMT_REPLAY_MARK): a capture of this
 * server leaves them out.
 * One stream, one consumer per destination: a second consumer name would
 * apply every transaction again, so `stream_id` is a unique key. */
const char db_sql_sluice_schema[] =
	FMT_REPLAY_MARK "CREATE DATABASE IF NOT EXISTS `sluice`;"
	FMT_REPLAY_MARK "CREATE TABLE IF NOT EXISTS `sluice`.`checkpoint` ("
	"`consumer` VARCHAR(64) NOT NULL,"
	"`stream_id` CHAR(32) NOT NULL,"
	"`seq` BIGINT UNSIGNED NOT NULL,"
	"`frame_offset` BIGINT UNSIGNED NOT NULL,"
	"`record_index` INT UNSIGNED NOT NULL,"
	"`source_file` VARCHAR(255) NOT NULL DEFAULT '',"
	"`source_offset` BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	"`gtid` VARCHAR(255) NOT NULL DEFAULT '',"
	"`ddl_pending_seq` BIGINT UNSIGNED NULL,"
	"`ddl_pending_offset` BIGINT UNSIGNED NULL,"
	"`ddl_pending_index` INT UNSIGNED NULL,"
	"`updated_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
	"PRIMARY KEY (`consumer`),"
	"UNIQUE KEY `one_consumer_per_stream` (`stream_id`)) ENGINE=InnoDB;"
	FMT_REPLAY_MARK "CREATE TABLE IF NOT EXISTS `sluice`.`applied` ("
	"`consumer` VARCHAR(64) NOT NULL,"
	"`seq` BIGINT UNSIGNED NOT NULL,"
	"`frame_offset` BIGINT UNSIGNED NOT NULL,"
	"`record_index` INT UNSIGNED NOT NULL,"
	"PRIMARY KEY (`consumer`,`seq`,`frame_offset`,`record_index`)) ENGINE=InnoDB;"
	/* snapshot chunks loaded by replay (rep_snapshot.c), each row committed
	 * with the chunk's rows; chunk_index 2^64-1: deferred indexes created
	 * (db.h says what the other marks are) */
	FMT_REPLAY_MARK "CREATE TABLE IF NOT EXISTS `sluice`.`snapshot_chunks` ("
	"`stream_id` CHAR(32) NOT NULL,"
	"`db` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
	"`tbl` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
	"`chunk_index` BIGINT UNSIGNED NOT NULL,"
	"`run` INT UNSIGNED NOT NULL,"
	"`rows` BIGINT UNSIGNED NOT NULL,"
	"`restart` TINYINT NOT NULL DEFAULT 0,"
	"`position` VARCHAR(512) NOT NULL DEFAULT '',"
	"`loaded_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
	"PRIMARY KEY (`stream_id`,`db`,`tbl`,`chunk_index`)) ENGINE=InnoDB;"
	/* the destination's schema fingerprint when a DDL was marked pending
	 * (replay/rep_ddl_seen.c): a restart tells whether it ran */
	FMT_REPLAY_MARK "CREATE TABLE IF NOT EXISTS `sluice`.`ddl_intent` ("
	"`consumer` VARCHAR(64) NOT NULL,"
	"`seq` BIGINT UNSIGNED NOT NULL,"
	"`frame_offset` BIGINT UNSIGNED NOT NULL,"
	"`record_index` INT UNSIGNED NOT NULL,"
	"`schema_md5` CHAR(32) NOT NULL,"
	"`noted_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
	"PRIMARY KEY (`consumer`)) ENGINE=InnoDB;"
	/* transactions replay --skip left out on purpose (replay/rep_skip.c):
	 * where (the cursors of its TxnBegin and TxnCommit, its GTID and source
	 * position), what (its row count, its commit time on the source), who
	 * (OS user@host of the replay) and when; the row commits with the
	 * `applied` row that makes a restart leave it out too */
	FMT_REPLAY_MARK "CREATE TABLE IF NOT EXISTS `sluice`.`skipped` ("
	"`consumer` VARCHAR(64) NOT NULL,"
	"`stream_id` CHAR(32) NOT NULL,"
	"`seq` BIGINT UNSIGNED NOT NULL,"
	"`frame_offset` BIGINT UNSIGNED NOT NULL,"
	"`record_index` INT UNSIGNED NOT NULL,"
	"`commit_seq` BIGINT UNSIGNED NOT NULL,"
	"`commit_offset` BIGINT UNSIGNED NOT NULL,"
	"`commit_index` INT UNSIGNED NOT NULL,"
	"`gtid` VARCHAR(255) NOT NULL DEFAULT '',"
	"`source_position` VARCHAR(512) NOT NULL DEFAULT '',"
	"`row_count` BIGINT UNSIGNED NOT NULL,"
	"`source_time` TIMESTAMP NULL,"
	"`skipped_by` VARCHAR(320) NOT NULL,"
	"`given` VARCHAR(160) NOT NULL,"
	"`skipped_at` TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
	"PRIMARY KEY (`stream_id`,`seq`,`frame_offset`,`record_index`)) ENGINE=InnoDB";

/* Migration: the unique key on `stream_id` (a table made by an older sluice
 * lacks it). 1061 (duplicate key name) when another replay added it first. */
static const char key_exists[] =
	"SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='sluice' AND "
	"TABLE_NAME='checkpoint' AND INDEX_NAME='one_consumer_per_stream'";
static const char key_add[] =
	FMT_REPLAY_MARK "ALTER TABLE `sluice`.`checkpoint` ADD UNIQUE KEY `one_consumer_per_stream` (`stream_id`)";

static int ensure_stream_key(MYSQL *m, const char *who, struct sl_err *err)
{
	MYSQL_RES *res;
	int has;

	if (mysql_real_query(m, key_exists, strlen(key_exists)) || !(res = mysql_store_result(m)))
		return db_stmt_error(err, m, who, key_exists, strlen(key_exists));
	has = mysql_num_rows(res) > 0;
	mysql_free_result(res);
	if (has)
		return 0;
	if (mysql_real_query(m, key_add, strlen(key_add))) {
		unsigned e = mysql_errno(m);

		if (e == 1061)	/* ER_DUP_KEYNAME: another replay added it */
			return 0;
		if (e == 1062)	/* two consumers of one stream already: an older sluice */
			return sl_err_set(err, -SL_ESTREAM, "%s: `sluice`.`checkpoint` "
					  "has two consumers of one stream (an older sluice allowed "
					  "it, and the second applied the stream again): compare the "
					  "destination with its source, then delete the row of the "
					  "consumer that is not used", who);
		return db_stmt_error(err, m, who, key_add, strlen(key_add));
	}
	sl_log(SL_INFO, "db", "%s: `sluice`.`checkpoint` now allows one consumer per stream", who);
	return 0;
}

int db_sluice_schema_ensure(MYSQL *m, const char *who, struct sl_err *err)
{
	int rc = db_exec(m, who, db_sql_sluice_schema, err);

	return rc ? rc : ensure_stream_key(m, who, err);
}
