/* cap_stmt.c - what capture does with a statement by its kind (formats/fmt.h fmt_stmt_classify()). */
/*
 * The decoder (cap_decode.c, on_query) classifies every QUERY event once:
 *   transaction control    opens, commits or is ignored (decoder state)
 *   ACCOUNT                never written: a Heartbeat at the position after
 *                          it, account_statements = 1 (cap__left_out_write)
 *   DML                    an error naming the binlog position: a row change
 *                          logged as a statement cannot be applied without its
 *                          context (INSERT_ID, RAND seeds, user variables)
 *   TRIGGER, OTHER         a Ddl record (replay skips TRIGGER)
 */
#include <stdio.h>
#include <string.h>

#include "cap_int.h"
#include "banned.h"

int cap__left_out_write(const struct cap_sink *sink, Sluice__Position *pos, uint64_t time,
			const struct cap_left_out *n, struct sl_err *err)
{
	Sluice__Record rec = SLUICE__RECORD__INIT;
	Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
	int rc;

	if (!n->accounts && !n->replayed_txns && !n->replayed_ddls)
		return 0;
	hb.position = pos;
	hb.time = time;
	hb.account_statements = n->accounts;
	hb.replayed_transactions = n->replayed_txns;
	hb.replayed_ddls = n->replayed_ddls;
	rec.body_case = SLUICE__RECORD__BODY_HEARTBEAT;
	rec.heartbeat = &hb;
	rc = sink->record(sink->ctx, &rec, err);
	if (rc == 0)
		rc = sink->txn_end(sink->ctx, pos, time, err);
	return rc;
}
