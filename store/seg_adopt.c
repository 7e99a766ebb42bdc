/* seg_adopt.c - one sealed segment at a time: read for shipping, check and
 * add at the receiving site (seg.h "one segment at a time"). */
#include "seg_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "banned.h"

int seg_sealed_range(const char *dir, uint64_t *lowest, uint64_t *last_sealed, struct sl_err *err)
{
	struct seg_list l = { 0 };
	int rc = seg__dir_scan(dir, &l, err);

	*lowest = *last_sealed = 0;
	if (rc == -ENOENT) {
		if (err)
			*err = (struct sl_err)SL_ERR_INIT;
		return 0;
	}
	if (rc)
		return rc;
	if (l.n)
		*lowest = l.v[0].seq;
	for (size_t i = 0; i < l.n && l.v[i].sealed && l.v[i].seq == l.v[0].seq + i; i++)
		*last_sealed = l.v[i].seq;
	seg__list_release(&l);
	return 0;
}

int seg_sealed_open(const char *dir, uint64_t seq, int *fd, uint64_t *size, struct sl_err *err)
{
	char *path = seg__path(dir, seq, 1);
	int rc = seg__open_regular(path, 0, fd, size, err);

	free(path);
	return rc;
}

int seg_sealed_time(const char *dir, uint64_t seq, uint64_t *last_time, struct sl_err *err)
{
	Sluice__SegmentFooter *f = NULL;
	int rc = seg__sealed_footer(dir, seq, &f, NULL, NULL, err);

	*last_time = rc ? 0 : f->last_time;
	if (f)
		sluice__segment_footer__free_unpacked(f, NULL);
	return rc;
}

struct seg_adopter {
	char *into;
	int lock_fd;
	uint64_t head;			/* newest sealed segment, 0: none */
	char *source;			/* into's stream, NULL: none yet */
	uint8_t stream_id[16];
	uint8_t head_hash[SEG_HASH_LEN];	/* footer hash of head */
	Sluice__Position *head_end;	/* where head's footer says it ends */
};

/* Segment seq (checked whole into fi) is into's newest now: what the chain
 * of the next one needs, and into's stream when it had none. */
static void set_head(struct seg_adopter *a, uint64_t seq, const struct seg_file_info *fi)
{
	a->head = seq;
	if (!a->source) {
		a->source = sl_xstrdup(fi->hdr->source);
		memcpy(a->stream_id, fi->hdr->stream_id.data, 16);
	}
	memcpy(a->head_hash, fi->footer_hash, SEG_HASH_LEN);
	fmt_position_free(a->head_end);
	a->head_end = fmt_position_dup(fi->footer->end);
}

/* Take what the chain needs from into's newest segment. */
static int adopt_head(struct seg_adopter *a, uint64_t seq, struct sl_err *err)
{
	char *path = seg__path(a->into, seq, 1);
	struct seg_file_info fi;
	uint64_t size = 0;
	int fd = -1, rc;

	memset(&fi, 0, sizeof(fi));
	if (!(rc = seg__open_regular(path, 0, &fd, &size, err)) &&
	    !(rc = seg__check_file(fd, path, size, SEG_CHECK_SEALED, &fi, err)))
		set_head(a, seq, &fi);
	seg__file_info_release(&fi);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

int seg_adopt_open(struct seg_adopter **ap, const char *into, struct sl_err *err)
{
	struct seg_adopter *a = sl_xcalloc(1, sizeof(*a));
	struct seg_list l = { 0 };
	int rc;

	*ap = NULL;
	a->into = sl_xstrdup(into);
	a->lock_fd = -1;
	if ((rc = seg__dir_lock(into, &a->lock_fd, err)) || (rc = seg__dir_scan(into, &l, err)))
		goto out;
	if (l.n && !l.v[l.n - 1].sealed) {
		rc = sl_err_set(err, -EBUSY, "'%s' has an open segment %llu (a capture writes here?): refused",
				into, (unsigned long long)l.v[l.n - 1].seq);
		goto out;
	}
	if (l.n)
		rc = adopt_head(a, l.v[l.n - 1].seq, err);
out:
	seg__list_release(&l);
	if (rc)
		seg_adopt_close(a);
	else
		*ap = a;
	return rc;
}

uint64_t seg_adopt_head(const struct seg_adopter *a, const char **source, const uint8_t **stream_id)
{
	if (source)
		*source = a->source;
	if (stream_id)
		*stream_id = a->source ? a->stream_id : NULL;
	return a->head;
}

char *seg_adopt_tmp(const struct seg_adopter *a, uint64_t seq)
{
	char nm[SEG_NAME_LEN];

	seg__name(nm, seq, 1);
	return sl_xasprintf("%s/.receive-%s.tmp", a->into, nm);
}

/* Every check of tmp (holding segment seq) before it is added. */
static int adopt_check(struct seg_adopter *a, const char *tmp, uint64_t seq, uint64_t want_size,
		       const uint8_t want_sha[SEG_HASH_LEN], struct seg_file_info *fi, struct sl_err *err)
{
	uint8_t sha[SEG_HASH_LEN];
	uint64_t size = 0;
	int fd = -1, rc;

	if (a->head && seq != a->head + 1)
		return sl_err_set(err, -SL_ESTREAM, "segment %llu does not follow '%s', which ends at %llu (gap)",
				  (unsigned long long)seq, a->into, (unsigned long long)a->head);
	if ((rc = seg__open_regular(tmp, 0, &fd, &size, err)))
		return rc;
	if (size != want_size) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s' holds %llu bytes of segment %llu, its sender says %llu", tmp,
				(unsigned long long)size, (unsigned long long)seq, (unsigned long long)want_size);
		goto out;
	}
	if ((rc = seg__hash_copy(fd, tmp, size, -1, NULL, sha, err)))
		goto out;
	if (memcmp(sha, want_sha, SEG_HASH_LEN)) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': sha-256 of segment %llu differs from its sender's", tmp,
				(unsigned long long)seq);
		goto out;
	}
	if ((rc = seg__check_file(fd, tmp, size, SEG_CHECK_SEALED, fi, err)))
		goto out;
	if (fi->hdr->seq != seq) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': its header says segment %llu, not %llu", tmp,
				(unsigned long long)fi->hdr->seq, (unsigned long long)seq);
		goto out;
	}
	if (a->source && (strcmp(fi->hdr->source, a->source) || fi->hdr->stream_id.len != 16 ||
			  memcmp(fi->hdr->stream_id.data, a->stream_id, 16))) {
		rc = sl_err_set(err, -SL_ESTREAM, "segment %llu belongs to another stream (source '%s') than '%s' (source '%s')",
				(unsigned long long)seq, fi->hdr->source, a->into, a->source);
		goto out;
	}
	if (a->head)
		rc = seg__chain_check(tmp, fi->hdr, a->head, a->head_hash, a->head_end, err);
	else
		rc = seg__chain_self_check(tmp, fi->hdr, err);
out:
	close(fd);
	return rc;
}

int seg_adopt_add(struct seg_adopter *a, uint64_t seq, uint64_t size, const uint8_t sha[SEG_SHA_LEN],
		  struct sl_err *err)
{
	char *tmp = seg_adopt_tmp(a, seq), *dst = seg__path(a->into, seq, 1);
	struct seg_file_info fi;
	int rc, fd;

	memset(&fi, 0, sizeof(fi));
	if ((rc = adopt_check(a, tmp, seq, size, sha, &fi, err)))
		goto out;
	/* durable before it has its name, the name durable before it counts */
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fsync(fd) < 0) {
		int e = errno;
		rc = sl_err_set(err, -e, "cannot fsync '%s': %s", tmp, strerror(e));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (rename(tmp, dst) < 0) {
		int e = errno;
		rc = sl_err_set(err, -e, "cannot rename '%s' to '%s': %s", tmp, dst, strerror(e));
		goto out;
	}
	if ((rc = seg__fsync_dir(a->into, err)))
		goto out;
	set_head(a, seq, &fi);
out:
	if (rc)
		(void)unlink(tmp);
	seg__file_info_release(&fi);
	free(tmp);
	free(dst);
	return rc;
}

void seg_adopt_close(struct seg_adopter *a)
{
	if (!a)
		return;
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	fmt_position_free(a->head_end);
	free(a->source);
	free(a->into);
	free(a);
}
