/* cmd_filter.c - the filter and rename options capture and replay share (not a subcommand): checked, joined and opened as one fmt_filter. */
#include "cmd.h"
#include "ddl.h"
#include "fmt.h"

#include <stdlib.h>
#include <string.h>
#include "banned.h"

int cmd_filter_open(struct cmd_filter *cf, struct fmt_filter **f, struct sl_err *err)
{
	struct fmt_filter_opts o = { .include = cf->include, .exclude = cf->exclude,
				     .exclude_columns = cf->exclude_columns, .ops = cf->ops };
	struct sl_buf b;

	sl_buf_init(&b, SL_BUF_UNLIMITED);
	for (size_t i = 0; i < cf->map.n; i++) {
		if (i)
			sl_buf_addc(&b, ',');
		sl_buf_adds(&b, cf->map.v[i]);
	}
	free(cf->map_joined);
	cf->map_joined = cf->map.n ? sl_xstrdup(sl_buf_cstr(&b)) : NULL;
	sl_buf_release(&b);
	o.map = cf->map_joined;
	return fmt_filter_open(f, &o, ddl_filter_stmt, err);
}

int cmd_filter_rewrites(const struct cmd_filter *cf)
{
	return cf->map.n || cf->exclude_columns || cf->ops;
}

void cmd_filter_release(struct cmd_filter *cf)
{
	free(cf->map_joined);
	cf->map_joined = NULL;
}
