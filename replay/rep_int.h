/*
 * rep_int.h - shared by the .c files of replay/ only: SQL text generation (rep_sql.c),
 *             the checkpoint table (rep_checkpoint.c) and the applier
 *             (rep_apply.c).
 *
 * The SQL builders append to a struct sl_buf and never talk to a server, so
 * tests/unit/test_replay.c checks them without a database. They return 0 or
 * a negative code (-SL_ETOOBIG when the buffer's limit is hit, -SL_EFORMAT
 * for a value that cannot be rendered, -SL_EINVAL_ARG for a row that does
 * not match its TableDef).
 *
 * Statement shapes (identifiers always quoted, values from fmt_value_sql()):
 *   INSERT INTO `db`.`t` (`a`,`b`) VALUES (1,2),(3,4)
 *   UPDATE `db`.`t` SET `a`=1,`b`=2 WHERE `a`=1                  (with a PK)
 *   UPDATE `db`.`t` SET ... WHERE `a`<=>1 AND `b`<=>2 LIMIT 1    (no PK)
 *   DELETE FROM `db`.`t` WHERE `a` IN (1,3)          (one-column PK, batched)
 *   DELETE FROM `db`.`t` WHERE (`a`,`b`) IN ((1,2),(3,4))  (composite PK)
 *   DELETE FROM `db`.`t` WHERE `a`<=>1 AND `b`<=>2 LIMIT 1       (no PK)
 * FLOAT columns in a WHERE clause are compared with the exact double value
 * of the float ("%.17g"): the column is widened to double for the
 * comparison, so the 9-digit form would not match.
 */
#ifndef REP_INT_H
#define REP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fmt.h"
#include "seg.h"
#include "sl.h"

/* `db`.`table` */
int rep__sql_table(struct sl_buf *out, const Sluice__TableDef *td);
/* "INSERT INTO `db`.`t` (`a`,`b`) VALUES " */
int rep__sql_insert_head(struct sl_buf *out, const Sluice__TableDef *td);
/* "(1,2)": every column of row, in TableDef order. */
int rep__sql_row_tuple(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row);
/* The whole UPDATE statement for one row change (before and after images). */
int rep__sql_update(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *before,
		    const Sluice__Row *after);
/* The whole single-row DELETE statement (any table; used for tables without PK). */
int rep__sql_delete_one(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *before);
/* Batched DELETE by primary key: head "DELETE FROM `t` WHERE (`a`,`b`) IN (",
 * then one key per row ("(1,2)" or "1" for a one-column key) joined by ',',
 * then ")". Only for tables with a primary key. */
int rep__sql_delete_in_head(struct sl_buf *out, const Sluice__TableDef *td);
int rep__sql_pk_tuple(struct sl_buf *out, const Sluice__TableDef *td, const Sluice__Row *row);

/* sql_mode bit set (as the binlog stores it) to a comma-joined name list.
 * src_mysql: the bits come from MySQL (bit 4 and bits 32+ differ from
 * MariaDB's); dest_mariadb: drop names the destination does not know. */
int rep__sql_mode_names(struct sl_buf *out, uint64_t bits, int src_mysql, int dest_mariadb);

/* 1 when error number errnum from the destination means "this DDL already
 * ran" (table exists, unknown table on DROP, duplicate column, ...). */
int rep__ddl_already_done(unsigned errnum);

/* Copy at most max bytes of sql into out (size n) as one printable line,
 * with "..." when cut: for error messages. Returns out. */
char *rep__sql_snippet(const char *sql, size_t len, size_t max, char *out, size_t n);

/* ---- the checkpoint table (rep_checkpoint.c) ---- */
struct rep_checkpoint {
	int found;			/* 0: no row for this consumer yet */
	uint8_t stream_id[16];
	struct seg_cursor cur;		/* seq 0: nothing applied yet */
	int ddl_pending;		/* 1: a DDL at ddl_cur may or may not have run */
	struct seg_cursor ddl_cur;
	char source_file[256];
	uint64_t source_offset;
};

/* CREATE DATABASE / TABLE statements (one multi-statement string). */
extern const char rep__sql_checkpoint_ddl[];
/* "UPDATE `sluice`.`checkpoint` SET ... WHERE consumer=... AND seq=.. AND
 * frame_offset=.. AND record_index=.." moving prev to cur with the source
 * position pos (may be NULL: kept) and ddl_pending set to pending (NULL:
 * cleared). The WHERE clause on the old cursor makes a second replay on
 * the same consumer match no row instead of applying twice. */
int rep__sql_checkpoint_update(struct sl_buf *out, const char *consumer,
			       const struct seg_cursor *prev, const struct seg_cursor *cur,
			       const Sluice__Position *pos, const struct seg_cursor *pending);
/* "INSERT IGNORE INTO ... VALUES (consumer, stream_id, 0, 0, 0, ...)" */
int rep__sql_checkpoint_insert(struct sl_buf *out, const char *consumer,
			       const uint8_t stream_id[16]);
/* "SELECT ... FROM `sluice`.`checkpoint` WHERE consumer=..." */
int rep__sql_checkpoint_select(struct sl_buf *out, const char *consumer);
/* Fill cp from the row of rep__sql_checkpoint_select (fields as strings,
 * NULL for SQL NULL). -SL_ECORRUPT when a field does not parse. */
int rep__checkpoint_parse(struct rep_checkpoint *cp, char **row, unsigned nfields,
			  struct sl_err *err);

#endif
