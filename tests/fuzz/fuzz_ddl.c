/* fuzz_ddl.c - libFuzzer target: the DDL lexer, the dialect rules and the table split. */
/*
 * Input: any bytes, as one statement. For every destination dialect,
 * ddl_convert() must end in a text or an error, and when it gives a text:
 * a text changed only with a note (a statement no rule touches comes out
 * byte for byte), and converting it again changes nothing and notes
 * nothing (idempotent); an error may not be "the dialect rules do not
 * settle" (rules that undo each other, or one that rewrites its own
 * output without end). ddl_table_split() and ddl_describe() must end in a
 * text or an error. A violation aborts, so libFuzzer keeps the input.
 * Seeds: SHOW CREATE TABLE/VIEW texts and captured statements, and every
 * input this target stopped on (tests/regress/fuzz-ddl-*; tests/fuzz/run.sh
 * writes them). Built by CMake with -DSLUICE_FUZZ=ON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddl.h"

static unsigned notes;

/* how ddl_convert()'s error for rules that never settle starts, for object "x" */
#define UNSETTLED "x: " DDL_UNSETTLED

static void count(void *ctx, const char *rule, const char *object, const char *what)
{
	(void)ctx;
	(void)rule;
	(void)object;
	(void)what;
	notes++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ddl_target targets[] = {
		{ DDL_MARIADB, 10, 11, 6 }, { DDL_MARIADB, 11, 4, 5 }, { DDL_MYSQL, 8, 0, 36 },
		{ DDL_MYSQL, 5, 7, 44 }, { DDL_OCEANBASE, 4, 2, 1 },
	};
	const char *s = (const char *)data;
	struct sl_err err = SL_ERR_INIT;
	struct sl_buf a = SL_BUF_INIT(SL_BUF_UNLIMITED), b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct ddl_list idx, fks;
	char what[256];

	if (size > 65536)
		return 0;
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		sl_buf_reset(&a);
		sl_buf_reset(&b);
		notes = 0;
		if (ddl_convert(&targets[i], "x", s, size, &a, count, NULL, &err)) {
			/* the message's start, not anywhere in it: a refusal quotes
			 * the statement's names, and libFuzzer, which sees the
			 * strings compared, soon writes "do not settle" into one */
			if (!strncmp(err.msg, UNSETTLED, strlen(UNSETTLED)))
				abort();	/* a rule that never stops changing it */
			continue;
		}
		if (!notes && (a.len != size || (size && memcmp(a.data, data, size))))
			abort();	/* changed without a note */
		notes = 0;
		if (ddl_convert(&targets[i], "x", (const char *)a.data, a.len, &b, count, NULL, &err) ||
		    notes || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
			abort();	/* not idempotent */
	}
	sl_buf_reset(&a);
	if (!ddl_table_split(s, size, "`t`", &a, &idx, &fks, &err)) {
		ddl_list_release(&idx);
		ddl_list_release(&fks);
	}
	ddl_describe(s, size, "d", what, sizeof(what));
	sl_buf_release(&a);
	sl_buf_release(&b);
	return 0;
}
