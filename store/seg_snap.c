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
		char *path = seg__path(dir, l.v[i].seq, l.v[i].sealed);
		struct seg_file_info fi;
		Sluice__SegmentHeader *h = NULL;
		Sluice__SegmentFooter *ft = NULL;
		struct seg_counts c;
		const Sluice__Position *pos = NULL;
		uint64_t size = 0;
		uint32_t hl;
		int fd = -1;

		memset(&fi, 0, sizeof(fi));
		memset(&c, 0, sizeof(c));
		rc = seg__open_regular(path, 0, &fd, &size, err);
		if (!rc && l.v[i].sealed) {
			/* sealed: the footer's counts, without reading the body */
			rc = seg__header_read(fd, path, size, &h, &hl, err);
			rc = rc == 1 ? seg__footer_read(fd, path, size, l.v[i].seq, &ft, NULL, err) :
			     rc == 0 ? sl_err_set(err, -SL_ECORRUPT, "'%s': torn header at offset 0", path) : rc;
			if (!rc) {
				seg__counts_from_footer(&c, ft);
				pos = ft->end;
			}
		} else if (!rc) {
			/* the open segment: its complete units, by a scan; a header
			 * not written yet (just created) holds nothing yet */
			rc = seg__header_read(fd, path, size, &h, &hl, err);
			if (h)
				sluice__segment_header__free_unpacked(h, NULL);
			h = NULL;
			if (rc == 1)
				rc = seg__check_file(fd, path, size, 0, &fi, err);
			else if (rc == 0 && i > 0)
				rc = 0;		/* fi stays empty: nothing counted */
			else if (rc == 0)
				rc = sl_err_set(err, -SL_ECORRUPT, "'%s': torn header at offset 0", path);
			if (!rc && fi.hdr) {
				h = fi.hdr;
				fi.hdr = NULL;
				c = fi.n;
				pos = fi.last_pos;
			}
		}
		if (!rc) {
			if (!st->source && h)
				st->source = sl_xstrdup(h->source);
			st->segments++;
			st->sealed += l.v[i].sealed ? 1 : 0;
			st->bytes += size;
			st->schema_objects += c.schema_objects;
			st->runs += c.snapshot_runs;
			st->chunks += c.chunks;
			st->rows += c.rows;
			st->tables_done += c.tables_done;
			st->ends += c.snapshot_ends;
			if (pos) {
				fmt_position_free(st->position);
				st->position = fmt_position_dup(pos);
			}
		}
		if (ft)
			sluice__segment_footer__free_unpacked(ft, NULL);
		if (h)
			sluice__segment_header__free_unpacked(h, NULL);
		seg__file_info_release(&fi);
		if (fd >= 0)
			close(fd);
		free(path);
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
