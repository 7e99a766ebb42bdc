/* seg_snap.c - the snapshot stream beside a stream directory (DIR/snapshot): where it is, whether it is there, its progress. */
#include "seg_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "banned.h"

char *seg_snapshot_path(const char *dir)
{
	return sl_xasprintf("%s/%s", dir, SEG_SNAPSHOT_DIR);
}

int seg_snapshot_exists(const char *dir, struct sl_err *err)
{
	char *snap = seg_snapshot_path(dir);
	struct seg_list l;
	struct stat st;
	int rc;

	if (lstat(snap, &st) < 0) {
		int e = errno;

		rc = e == ENOENT ? 0 : sl_err_set(err, -e, "cannot stat '%s': %s", snap, strerror(e));
		free(snap);
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s' is not a directory", snap);
		free(snap);
		return rc;
	}
	rc = seg__dir_scan(snap, &l, err);
	free(snap);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rc = l.n > 0;
	seg__list_release(&l);
	return rc;
}

int seg_snapshot_status(const char *dir, struct seg_snapshot_status *st, struct sl_err *err)
{
	struct seg_list l;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = seg__dir_scan(dir, &l, err)))
		return rc;
	if (!l.n) {
		seg__list_release(&l);
		return sl_err_set(err, -ENOENT, "'%s' holds no segment", dir);
	}
	for (size_t i = 0; i < l.n && !rc; i++) {
		struct seg_file_info fi;

		if ((rc = seg__summary(dir, &l.v[i], i > 0, &fi, err)))
			break;
		if (!st->source && fi.hdr)
			st->source = sl_xstrdup(fi.hdr->source);
		st->segments++;
		st->sealed += l.v[i].sealed ? 1 : 0;
		st->bytes += fi.size;
		st->schema_objects += fi.n.schema_objects;
		st->runs += fi.n.snapshot_runs;
		st->chunks += fi.n.chunks;
		st->rows += fi.n.rows;
		st->tables_done += fi.n.tables_done;
		st->ends += fi.n.snapshot_ends;
		if (fi.hdr && fi.last_pos) {
			fmt_position_free(st->position);
			st->position = fmt_position_dup(fi.last_pos);
		}
		seg__file_info_release(&fi);
	}
	seg__list_release(&l);
	if (rc)
		seg_snapshot_status_release(st);
	return rc;
}

void seg_snapshot_status_release(struct seg_snapshot_status *st)
{
	if (!st)
		return;
	free(st->source);
	fmt_position_free(st->position);
	memset(st, 0, sizeof(*st));
}
