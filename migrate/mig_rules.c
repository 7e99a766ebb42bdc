/* mig_rules.c - precheck's decisions from what the servers answered: pure, so unit tests give any answer. */
#include "mig.h"
#include "db.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "banned.h"

void mig_report_add(struct mig_report *r, const char *side, const char *name,
		    enum mig_outcome o, const char *fix, const char *fmt, ...)
{
	struct mig_check *c;
	va_list ap;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		r->v = sl_xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	c = &r->v[r->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->side, sizeof(c->side), "%s", side);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->outcome = o;
	snprintf(c->fix, sizeof(c->fix), "%s", o == MIG_PASS || !fix ? "" : fix);
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

size_t mig_report_count(const struct mig_report *r, enum mig_outcome o)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->v[i].outcome == o;
	return n;
}

const char *mig_outcome_name(enum mig_outcome o)
{
	return o == MIG_PASS ? "pass" : o == MIG_WARN ? "warn" : "FAIL";
}

void mig_report_print(const struct mig_report *r, FILE *f)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct mig_check *c = &r->v[i];

		fprintf(f, "%-4s  %-11s  %s: %s\n", mig_outcome_name(c->outcome), c->side, c->name,
			c->detail);
		if (c->fix[0])
			fprintf(f, "      %-11s  fix: %s\n", "", c->fix);
	}
	fprintf(f, "precheck: %zu passed, %zu warnings, %zu failed\n", mig_report_count(r, MIG_PASS),
		mig_report_count(r, MIG_WARN), mig_report_count(r, MIG_FAIL));
}

void mig_report_release(struct mig_report *r)
{
	if (!r)
		return;
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* ---- grants ---- */

int mig_grants_have(const char *const *grants, size_t n, const char *priv, const char *db)
{
	return db_grants_have(grants, n, priv, db);
}

static void need(struct mig_report *r, const char *side, const char *const *grants, size_t n,
		 const char *priv, enum mig_outcome missing, const char *why, const char *fix)
{
	if (mig_grants_have(grants, n, priv, NULL))
		mig_report_add(r, side, "privileges", MIG_PASS, NULL, "%s on *.*", priv);
	else
		mig_report_add(r, side, "privileges", missing, fix, "%s on *.* is missing: %s", priv, why);
}

void mig_source_grants_decide(struct mig_report *r, const char *const *grants, size_t n, int ftwrl,
			      int mariadb, size_t views)
{
	/* MariaDB 10.5+ calls REPLICATION CLIENT BINLOG MONITOR: name what to grant */
	const char *client = mariadb ? "BINLOG MONITOR" : "REPLICATION CLIENT";
	char fix[200];

	snprintf(fix, sizeof(fix), "GRANT REPLICATION SLAVE, %s, SELECT, SHOW VIEW%s ON *.* TO the migration account",
		 client, ftwrl ? ", RELOAD" : "");
	need(r, "source", grants, n, "REPLICATION SLAVE", MIG_FAIL, "capture reads the binlog", fix);
	need(r, "source", grants, n, client, MIG_FAIL,
	     "capture and the snapshot ask for the binlog position", fix);
	need(r, "source", grants, n, "SELECT", MIG_FAIL, "the snapshot reads every table", fix);
	if (views)
		need(r, "source", grants, n, "SHOW VIEW", MIG_FAIL,
		     "the snapshot reads the definitions of the views it migrates", fix);
	if (ftwrl)
		need(r, "source", grants, n, "RELOAD", MIG_FAIL,
		     "the snapshot takes FLUSH TABLES WITH READ LOCK for a moment on MySQL", fix);
}

void mig_dest_grants_decide(struct mig_report *r, const char *const *grants, size_t n)
{
	static const char *const privs[] = { "CREATE", "DROP", "ALTER", "INDEX", "INSERT", "UPDATE",
					     "DELETE", "SELECT", "CREATE VIEW", NULL };
	char missing[256] = "";
	size_t len = 0;

	for (int i = 0; privs[i]; i++)
		if (!mig_grants_have(grants, n, privs[i], NULL))
			len += (size_t)snprintf(missing + len, len < sizeof(missing) ? sizeof(missing) - len : 0,
						"%s%s", len ? ", " : "", privs[i]);
	if (len)
		mig_report_add(r, "destination", "privileges", MIG_FAIL,
			       "GRANT CREATE, DROP, ALTER, INDEX, INSERT, UPDATE, DELETE, SELECT, CREATE VIEW "
			       "ON *.* TO the migration account",
			       "%s on *.* missing: the load creates tables and views and replay writes rows",
			       missing);
	else
		mig_report_add(r, "destination", "privileges", MIG_PASS, NULL,
			       "create, load and change rows on *.*");
	if (mig_grants_have(grants, n, "SUPER", NULL) || mig_grants_have(grants, n, "BINLOG ADMIN", NULL))
		mig_report_add(r, "destination", "binlog skip", MIG_PASS, NULL,
			       "the load may skip the destination's binlog (sql_log_bin=0)");
	else
		mig_report_add(r, "destination", "binlog skip", MIG_WARN,
			       "GRANT SUPER (MySQL) or BINLOG ADMIN (MariaDB) ON *.* for a faster load",
			       "no SUPER or BINLOG ADMIN: the load is written to the destination's binlog");
}

/* ---- variables, disk ---- */

void mig_retention_decide(struct mig_report *r, const char *expire_days, const char *expire_secs)
{
	static const char fix[] = "SET GLOBAL binlog_expire_logs_seconds=604800 (or expire_logs_days=7) "
				  "so the binlog outlives the migration";
	double days = expire_days ? strtod(expire_days, NULL) : 0;
	uint64_t secs = expire_secs ? strtoull(expire_secs, NULL, 10) : 0;
	const char *which = "binlog_expire_logs_seconds";

	if (!secs && days > 0) {
		secs = (uint64_t)(days * 86400.0);
		which = "expire_logs_days";
	}
	if (!secs)
		mig_report_add(r, "source", "binlog retention", MIG_PASS, NULL,
			       "binary logs are never purged automatically");
	else if (secs < MIG_RETENTION_MIN_S)
		mig_report_add(r, "source", "binlog retention", MIG_WARN, fix,
			       "%s keeps binary logs %" PRIu64 " s only: a migration that takes longer "
			       "cannot catch up", which, secs);
	else
		mig_report_add(r, "source", "binlog retention", MIG_PASS, NULL,
			       "binary logs kept %" PRIu64 " h (%s)", secs / 3600, which);
}

void mig_disk_decide(struct mig_report *r, const char *dir, uint64_t avail, uint64_t need)
{
	uint64_t mib = 1024 * 1024;

	if (avail >= need)
		mig_report_add(r, "disk", "space", MIG_PASS, NULL,
			       "'%s': %" PRIu64 " MiB free, the source's tables take %" PRIu64 " MiB",
			       dir, avail / mib, need / mib);
	else if (avail >= need / 4)
		mig_report_add(r, "disk", "space", MIG_WARN, "free space or choose a --dir on a larger file system",
			       "'%s': %" PRIu64 " MiB free, the source's tables take %" PRIu64
			       " MiB (compressed segments usually fit)", dir, avail / mib, need / mib);
	else
		mig_report_add(r, "disk", "space", MIG_FAIL, "free space or choose a --dir on a larger file system",
			       "'%s': %" PRIu64 " MiB free, the source's tables take %" PRIu64
			       " MiB: even compressed they will not fit", dir, avail / mib, need / mib);
}

void mig_local_infile_decide(struct mig_report *r, const char *value)
{
	if (value && (!strcasecmp(value, "ON") || !strcmp(value, "1")))
		mig_report_add(r, "destination", "local_infile", MIG_PASS, NULL,
			       "ON: rows load through LOAD DATA LOCAL INFILE");
	else
		mig_report_add(r, "destination", "local_infile", MIG_WARN,
			       "SET GLOBAL local_infile=ON for the fastest load",
			       "%s: the load falls back to multi-row INSERTs", value ? value : "unknown");
}
