/* cap_live.c - what a live binlog dump promises the decoder: the checksum field in every format description, a CRC32 on its events. */
#include "cap_int.h"
#include "db.h"

#include <stdlib.h>
#include <strings.h>
#include "banned.h"

/*
 * The dump announces @master_binlog_checksum = @@global.binlog_checksum
 * (cap_source.c), and the server sends its fake ROTATE with that checksum.
 * Read here just before: should the global change in between, the fake
 * ROTATE fails its check, which is retried like any damaged event, and the
 * next round reads the new value.
 */
int cap__decoder_live(struct cap_decoder *d, MYSQL *m, const char *who, struct sl_err *err)
{
	char *v = NULL;
	int rc = db_variable(m, who, "binlog_checksum", &v, err);

	if (rc)
		return rc;
	cap_decoder_set_live(d, v && !strcasecmp(v, "CRC32"));
	free(v);
	return 0;
}
