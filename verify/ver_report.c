/* ver_report.c - the human summary and the JSON report of a verification. */
#include "ver_int.h"
#include "fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static const char *const kind_json[] = {
#define VER_X_(name, json, text) json,
	VER_KIND_MAP(VER_X_)
#undef VER_X_
};
static const char *const kind_text[] = {
#define VER_X_(name, json, text) text,
	VER_KIND_MAP(VER_X_)
#undef VER_X_
};

const char *ver_kind_name(enum ver_kind k)
{
	return (unsigned)k < VER_NKINDS ? kind_json[k] : "?";
}

void ver__report_human(const struct ver_opts *o, const struct ver_stats *st,
		       const struct ver_diffs *diffs, const struct ver_tables *tt)
{
	FILE *f = o->out;
	unsigned show = o->show ? o->show : 50, shown = 0;

	(void)tt;
	if (!f)
		return;
	for (size_t i = 0; i < diffs->n && shown < show; i++) {
		const struct ver_diff *d = &diffs->v[i];

		if (d->resolved)
			continue;
		shown++;
		if (d->kind == VER_SCHEMA || d->kind == VER_MISSING_TABLE || d->kind == VER_EXTRA_TABLE)
			fprintf(f, "%-13s %s: %s\n", kind_json[d->kind], d->t->sq, d->detail ? d->detail : "");
		else
			fprintf(f, "%-13s %s %s\n", kind_json[d->kind], d->t->sq, d->human ? d->human : "");
	}
	if (st->differences > shown)
		fprintf(f, "... %" PRIu64 " more differences (see --json)\n", st->differences - shown);
	fprintf(f, "verify: %" PRIu64 " tables, %" PRIu64 " rows in the source, %" PRIu64
		" in the destination, %" PRIu64 " chunks (%" PRIu64 " differing), %.2f s, %.0f rows/s\n",
		st->tables, st->rows_source, st->rows_dest, st->chunks, st->chunks_differing, st->seconds,
		st->seconds > 0 ? (double)(st->rows_source + st->rows_dest) / st->seconds : 0.0);
	for (int k = 0; k < VER_NKINDS; k++)
		if (st->by_kind[k])
			fprintf(f, "  %" PRIu64 " %s\n", st->by_kind[k], kind_text[k]);
	if (st->rechecks_done)
		fprintf(f, "  %" PRIu64 " found in the first pass, %u recheck%s\n", st->found_first_pass,
			st->rechecks_done, st->rechecks_done == 1 ? "" : "s");
	if (st->fix_statements)
		fprintf(f, "  %" PRIu64 " correction statements%s\n", st->fix_statements,
			st->fix_applied ? " applied" : "");
	if (diffs->dropped)
		fprintf(f, "  (%" PRIu64 " differences beyond the first %d only counted)\n", diffs->dropped,
			VER_MAX_KEPT_DIFFS);
	fprintf(f, "%s\n", st->differences ? "DIFFERENT" : "EQUAL");
}

int ver__report_json(const struct ver_opts *o, const struct ver_stats *st,
		     const struct ver_diffs *diffs, const struct ver_tables *tt,
		     struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	FILE *f;
	int rc = 0, first = 1;

	if (!o->json_path)
		return 0;
	if (!(f = fopen(o->json_path, "w")))
		return sl_err_set(err, -errno, "cannot create '%s': %s", o->json_path, strerror(errno));
	fprintf(f, "{\"equal\":%s,\"tables\":%" PRIu64 ",\"rows_source\":%" PRIu64 ",\"rows_dest\":%" PRIu64
		",\"chunks\":%" PRIu64 ",\"chunks_differing\":%" PRIu64 ",\"seconds\":%.3f,\"rows_per_second\":%.0f"
		",\"row_hash\":\"%s\",\"rechecks\":%u,\"found_first_pass\":%" PRIu64
		",\"fix_statements\":%" PRIu64 ",\"fix_applied\":%" PRIu64 ",\"differences_by_kind\":{",
		st->differences ? "false" : "true", st->tables, st->rows_source, st->rows_dest, st->chunks,
		st->chunks_differing, st->seconds,
		st->seconds > 0 ? (double)(st->rows_source + st->rows_dest) / st->seconds : 0.0,
		st->hash_crc ? "crc32+crc32c" : "md5", st->rechecks_done, st->found_first_pass,
		st->fix_statements, st->fix_applied);
	for (int k = 0; k < VER_NKINDS; k++)
		fprintf(f, "%s\"%s\":%" PRIu64, k ? "," : "", kind_json[k], st->by_kind[k]);
	fprintf(f, "},\"differences_not_listed\":%" PRIu64 ",\"table_list\":[", diffs->dropped);
	for (size_t i = 0; i < tt->n; i++) {
		const struct ver_table *t = &tt->v[i];

		sl_buf_reset(&b);
		sl_buf_addf(&b, "%s{\"source\":", i ? "," : "");
		fmt_json_str(&b, t->sq, strlen(t->sq));
		sl_buf_adds(&b, ",\"dest\":");
		fmt_json_str(&b, t->dq, strlen(t->dq));
		sl_buf_addf(&b, ",\"table_checksum\":%s", t->by_table_checksum ? "true" : "false");
		sl_buf_addf(&b, ",\"keyed\":%s,\"rows_source\":%" PRIu64 ",\"rows_dest\":%" PRIu64
			    ",\"chunks\":%" PRIu64 ",\"chunks_differing\":%" PRIu64 "}",
			    t->nkey ? "true" : "false", t->rows_src, t->rows_dst, t->chunks, t->chunks_diff);
		fwrite(b.data, 1, b.len, f);
	}
	fputs("],\"differences\":[", f);
	for (size_t i = 0; i < diffs->n; i++) {
		const struct ver_diff *d = &diffs->v[i];

		if (d->resolved)
			continue;
		sl_buf_reset(&b);
		sl_buf_addf(&b, "%s\n{\"kind\":\"%s\",\"table\":", first ? "" : ",", kind_json[d->kind]);
		first = 0;
		fmt_json_str(&b, d->t->sq, strlen(d->t->sq));
		sl_buf_adds(&b, ",\"dest_table\":");
		fmt_json_str(&b, d->t->dq, strlen(d->t->dq));
		if (d->kind == VER_SCHEMA || d->kind == VER_MISSING_TABLE || d->kind == VER_EXTRA_TABLE) {
			sl_buf_adds(&b, ",\"detail\":");
			fmt_json_str(&b, d->detail ? d->detail : "", d->detail ? strlen(d->detail) : 0);
		} else {
			sl_buf_addf(&b, ",\"keyless\":%s,\"row\":%s", d->keyless ? "true" : "false",
				    d->detail ? d->detail : "{}");
		}
		sl_buf_addc(&b, '}');
		fwrite(b.data, 1, b.len, f);
	}
	fputs("\n]}\n", f);
	if (ferror(f) | fclose(f))
		rc = sl_err_set(err, -EIO, "cannot write '%s': %s", o->json_path, strerror(errno));
	sl_buf_release(&b);
	return rc;
}
