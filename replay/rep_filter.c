/* rep_filter.c - replay's filters and renames: each record read passes fmt_filter (formats/fmt.h) before it is applied. */
#include "rep_int.h"
#include "fmt.h"
#include "rep.h"

#include <stdio.h>
#include "banned.h"

int rep__filter(struct rep_ctx *x, const Sluice__Record *in, const Sluice__Record **out,
		const struct seg_cursor *cur, struct sl_err *err)
{
	char wh[REP_WHERE_LEN];
	int rc;

	*out = in;
	if (!x->o->filter)
		return 0;
	if ((rc = fmt_filter_record(x->o->filter, in, out, err))) {
		struct sl_err e = *err;

		return sl_err_set(err, rc, "%s (%s)", e.msg, rep__where_str(x, cur, wh, sizeof(wh)));
	}
	if (!*out)
		x->st->filtered++;
	return 0;
}
