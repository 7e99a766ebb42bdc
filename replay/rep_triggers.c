/* rep_triggers.c - triggers on the destination would fire again on replayed rows: find them before a table's first row. */
/*
 * The rows a source trigger wrote are in the binlog as row events of their
 * own, so a trigger on the destination table would write them a second time
 * (an audit row doubled, a BEFORE UPDATE applied twice, a duplicate key in
 * an AUTO_INCREMENT log table). Replay never runs CREATE TRIGGER from the
 * stream (rep_ddl.c), and refuses a destination table that already has one
 * before it applies the table's first row, unless --allow-dest-triggers.
 * rep_dest_trigger() is the lookup (db_table_trigger() in db/, which
 * precheck uses too).
 */
#include "rep.h"
#include "rep_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>
#include "banned.h"

/* The lookup itself lives in db/ (db_table_trigger()), where precheck uses it too. */
int rep_dest_trigger(MYSQL *db, const char *schema, const char *table, char *name, size_t n,
		     struct sl_err *err)
{
	return db_table_trigger(db, schema, table, name, n, err);
}

/* Seen tables by their rep__deps_table_key(): open addressing, 0 empty. */
static int seen_add(struct rep_ctx *x, uint64_t key)
{
	size_t i;

	key = key ? key : 1;
	if ((x->trig_n + 1) * 2 > x->trig_cap) {
		size_t cap = x->trig_cap ? x->trig_cap * 2 : 256;
		uint64_t *v = sl_xcalloc(cap, sizeof(*v));

		for (size_t k = 0; k < x->trig_cap; k++) {
			if (!x->trig_seen[k])
				continue;
			for (i = x->trig_seen[k] & (cap - 1); v[i]; i = (i + 1) & (cap - 1))
				;
			v[i] = x->trig_seen[k];
		}
		free(x->trig_seen);
		x->trig_seen = v;
		x->trig_cap = cap;
	}
	for (i = key & (x->trig_cap - 1); x->trig_seen[i]; i = (i + 1) & (x->trig_cap - 1))
		if (x->trig_seen[i] == key)
			return 0;
	x->trig_seen[i] = key;
	x->trig_n++;
	return 1;
}

int rep__check_triggers(struct rep_ctx *x, const Sluice__TableDef *td, struct sl_err *err)
{
	char trg[256];
	int rc;

	if (!td->db || !td->name || !seen_add(x, rep__deps_table_key(td->db, td->name)))
		return 0;
	rc = rep_dest_trigger(x->ctl.db, td->db, td->name, trg, sizeof(trg), err);
	if (rc >= 0) {
		/* end the read-only transaction (autocommit is off) and its metadata locks */
		int rc2 = rep__exec(&x->ctl, "COMMIT", err);

		if (rc2)
			return rc2;
	}
	if (rc <= 0)
		return rc;
	if (x->o->allow_dest_triggers) {
		sl_log(SL_WARN, "replay", "destination table `%s`.`%s` has trigger `%s`: it fires again "
		       "on every replayed row (--allow-dest-triggers)", td->db, td->name, trg);
		return 0;
	}
	return sl_err_set(err, -SL_ECONFIG, "destination table `%s`.`%s` has trigger `%s`: it would "
			  "fire again on every replayed row (the rows it wrote on the source are in the "
			  "stream already); drop it until switchover or pass --allow-dest-triggers",
			  td->db, td->name, trg);
}

void rep__triggers_release(struct rep_ctx *x)
{
	free(x->trig_seen);
	x->trig_seen = NULL;
	x->trig_cap = x->trig_n = 0;
}
