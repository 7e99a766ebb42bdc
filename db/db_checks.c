/* db_checks.c - server requirements as a table: what is read, what passes, how to fix it. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

/*
 * What a capture source needs, in the order they are checked. A binlog in
 * ROW format with full row images everywhere; full row metadata where it
 * exists (MySQL 8.0.1+, MariaDB 10.5+) or else column names from the schema
 * history; the OceanBase binlog service (which answers as MySQL 5.7) has no
 * binlog_row_image or binlog_row_metadata and always writes full images.
 * Keep db_source_nchecks and capture's use of the row_metadata row in step.
 */
const struct db_check db_source_checks[] = {
	{ "log_bin", "log_bin", "ON|1", 0, DB_FAIL,
	  "the binary log is off: start the server with --log-bin (OceanBase: connect to its binlog service)" },
	{ "binlog_format", "binlog_format", "ROW", 0, DB_FAIL,
	  "SET GLOBAL binlog_format='ROW' and set it in the server's configuration" },
	{ "binlog_row_image", "binlog_row_image", "FULL", 1, DB_FAIL,
	  "SET GLOBAL binlog_row_image='FULL' and set it in the server's configuration" },
	{ "binlog_row_metadata", "binlog_row_metadata", "FULL", 0, DB_WARN,
	  "column names come from information_schema at start and the stream's DDL after it; "
	  "SET GLOBAL binlog_row_metadata='FULL' (MySQL 8.0.1+, MariaDB 10.5+) to have them in every event" },
	{ "server_id", "server_id", "!0", 0, DB_FAIL,
	  "a server with server_id 0 writes no usable binlog and refuses replicas: "
	  "set server_id to a unique nonzero number in the server's configuration" },
};
const size_t db_source_nchecks = sizeof(db_source_checks) / sizeof(db_source_checks[0]);

int db_check_passes(const struct db_check *c, const char *value)
{
	const char *p = c->expected;

	if (!value)
		return c->absent_passes;
	if (*p == '!') {	/* "!a|b": anything but these */
		struct db_check not = *c;

		not.expected = p + 1;
		return !db_check_passes(&not, value);
	}
	while (*p) {
		size_t n = strcspn(p, "|");

		if (strlen(value) == n && !strncasecmp(value, p, n))
			return 1;
		p += n;
		if (*p == '|')
			p++;
	}
	return 0;
}

int db_checks_run(MYSQL *m, const char *who, const struct db_check *checks, size_t n,
		  struct db_check_result *res, struct sl_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const struct db_check *c = &checks[i];
		struct db_check_result *r = &res[i];
		char *v = NULL, want[64];
		int rc;

		memset(r, 0, sizeof(*r));
		r->check = c;
		if ((rc = db_variable(m, who, c->variable, &v, err)))
			return rc;
		snprintf(r->value, sizeof(r->value), "%s", v ? v : "");
		if (db_check_passes(c, v)) {
			r->outcome = DB_PASS;
			snprintf(r->message, sizeof(r->message), "%s is %s", c->name,
				 v ? v : "not available");
		} else {
			if (c->expected[0] == '!')
				snprintf(want, sizeof(want), "other than %.*s",
					 (int)strcspn(c->expected + 1, "|"), c->expected + 1);
			else
				snprintf(want, sizeof(want), "%.*s", (int)strcspn(c->expected, "|"),
					 c->expected);
			r->outcome = c->severity == DB_FAIL ? DB_FAILED : DB_WARNED;
			snprintf(r->message, sizeof(r->message), "%s is %s, %s be %s (%s)", c->name,
				 v ? v : "not available", c->severity == DB_FAIL ? "must" : "should", want,
				 c->fix);
		}
		free(v);
	}
	return 0;
}
