/* seg_dir.c - stream directory: segment names, scan, writer lock, header/trailer codecs, identity. */
#include "seg_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "banned.h"

void seg__name(char *out, uint64_t seq, int sealed)
{
	snprintf(out, SEG_NAME_LEN, "%020llu.%s", (unsigned long long)seq,
		 sealed ? "seg" : "open");
}

char *seg__path(const char *dir, uint64_t seq, int sealed)
{
	char name[SEG_NAME_LEN];

	seg__name(name, seq, sealed);
	return sl_xasprintf("%s/%s", dir, name);
}

/* "<20 digits>.seg" or "<20 digits>.open": 1 and seq, sealed set, else 0. */
int seg__parse_name(const char *name, uint64_t *seq, int *sealed)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (!strcmp(name + 20, ".seg"))
		*sealed = 1;
	else if (!strcmp(name + 20, ".open"))
		*sealed = 0;
	else
		return 0;
	if (v == 0)
		return 0;
	*seq = v;
	return 1;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct seg_entry *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->sealed - y->sealed;
}

void seg__list_release(struct seg_list *l)
{
	if (!l)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int seg__open_entry(const char *dir, struct seg_entry *e, char **path, int *fd, uint64_t *size,
		    struct sl_err *err)
{
	int rc;

	*path = seg__path(dir, e->seq, e->sealed);
	rc = seg__open_regular(*path, 0, fd, size, err);
	if (rc == -ENOENT && !e->sealed) {
		free(*path);
		*path = seg__path(dir, e->seq, 1);
		if (err)
			*err = (struct sl_err)SL_ERR_INIT;
		if (!(rc = seg__open_regular(*path, 0, fd, size, err)))
			e->sealed = 1;
	}
	return rc;
}

/*
 * One pass of readdir. Capture seals a segment by renaming NNN.open to
 * NNN.seg and retention unlinks old segments while others read the
 * directory, and readdir is no snapshot: a pass may list a name that is
 * gone by the time it is stat'ed, see a segment under both names, or under
 * neither. *racy is set for each of these; the caller reads the directory
 * again, and only what a second look still shows is an error.
 */
static int scan_once(const char *dir, struct seg_list *l, int *racy, struct sl_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;
	int rc = 0;

	l->v = NULL;
	l->n = 0;
	if (!d) {
		int e = errno;
		return sl_err_set(err, -e, "cannot open directory '%s': %s", dir, strerror(e));
	}
	while ((errno = 0, de = readdir(d))) {
		struct seg_entry e;

		struct stat st;

		if (!seg__parse_name(de->d_name, &e.seq, &e.sealed))
			continue;
		/* Never follow or read what only looks like a segment. */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			int er = errno;

			if (er == ENOENT) {	/* sealed or purged since readdir */
				*racy = 1;
				continue;
			}
			rc = sl_err_set(err, -er, "cannot stat '%s/%s': %s", dir, de->d_name, strerror(er));
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			rc = sl_err_set(err, -SL_ECORRUPT, "'%s/%s' is not a regular file (%s): refused",
					dir, de->d_name, S_ISLNK(st.st_mode) ? "a symlink" :
					S_ISFIFO(st.st_mode) ? "a fifo" : S_ISDIR(st.st_mode) ? "a directory" :
					"a device or socket");
			goto out;
		}
		if (l->n == cap) {
			cap = cap ? cap * 2 : 16;
			l->v = sl_xrealloc(l->v, cap * sizeof(*l->v));
		}
		l->v[l->n++] = e;
	}
	if (errno) {
		int e = errno;
		rc = sl_err_set(err, -e, "cannot read directory '%s': %s", dir, strerror(e));
		goto out;
	}
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
	/* The sequence first: a file that breaks it (a stray copy, a segment
	 * of another stream) is named itself, before any judgement of its
	 * neighbours that only it makes wrong ("3 is open but not the newest"). */
	for (size_t i = 1; i < l->n; i++) {
		char a[SEG_NAME_LEN], b[SEG_NAME_LEN];

		if (l->v[i].seq == l->v[i - 1].seq || l->v[i].seq == l->v[i - 1].seq + 1)
			continue;
		*racy = 1;
		seg__name(a, l->v[i - 1].seq, l->v[i - 1].sealed);
		seg__name(b, l->v[i].seq, l->v[i].sealed);
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s/%s' breaks the sequence of segments: it "
				"follows '%s' (segments %llu to %llu are missing; a stray file, or "
				"segments removed by hand?)", dir, b, a,
				(unsigned long long)l->v[i - 1].seq + 1,
				(unsigned long long)l->v[i].seq - 1);
		goto out;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0 && l->v[i].seq == l->v[i - 1].seq) {
			*racy = 1;
			rc = sl_err_set(err, -SL_ECORRUPT,
					"'%s': segment %llu is both open and sealed",
					dir, (unsigned long long)l->v[i].seq);
			goto out;
		}
		if (!l->v[i].sealed && i + 1 < l->n) {
			char a[SEG_NAME_LEN], b[SEG_NAME_LEN];

			*racy = 1;
			seg__name(a, l->v[i].seq, 0);
			seg__name(b, l->v[i + 1].seq, l->v[i + 1].sealed);
			rc = sl_err_set(err, -SL_ECORRUPT, "'%s/%s' follows the open segment '%s': "
					"only the newest segment may be open", dir, b, a);
			goto out;
		}
	}
out:
	closedir(d);
	if (rc)
		seg__list_release(l);
	return rc;
}

int seg__dir_scan(const char *dir, struct seg_list *l, struct sl_err *err)
{
	for (int tries = 0;; tries++) {
		int racy = 0, rc = scan_once(dir, l, &racy, err);

		if (!racy || tries == 20)
			return rc;
		if (!rc)
			seg__list_release(l);
		*err = (struct sl_err)SL_ERR_INIT;
		/* a writer between rename and the next entry: give it a moment */
		if (tries >= 2)
			usleep(1000);
	}
}

int seg__open_regular(const char *path, int rw, int *fdp, uint64_t *size, struct sl_err *err)
{
	struct stat st;
	int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), e;

	*fdp = -1;
	if (fd < 0) {
		e = errno;
		if (e == ELOOP)
			return sl_err_set(err, -SL_ECORRUPT, "'%s' is a symlink: refused", path);
		return sl_err_set(err, -e, "cannot open '%s': %s", path, strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		return sl_err_set(err, -e, "cannot stat '%s': %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sl_err_set(err, -SL_ECORRUPT, "'%s' is not a regular file: refused", path);
	}
	/* O_NONBLOCK only served to not hang on a FIFO; regular files ignore it. */
	*fdp = fd;
	*size = (uint64_t)st.st_size;
	return 0;
}

void seg__sha256(const void *a, size_t na, const void *b, size_t nb,
		 uint8_t out[SEG_HASH_LEN])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL) || !EVP_DigestUpdate(c, a, na) ||
	    (b && nb && !EVP_DigestUpdate(c, b, nb)) || !EVP_DigestFinal_ex(c, out, &n) ||
	    n != SEG_HASH_LEN)
		sl_bug("sha-256 failed");
	EVP_MD_CTX_free(c);
}

int seg__pos_equal(const Sluice__Position *a, const Sluice__Position *b)
{
	size_t na, nb;
	uint8_t *pa, *pb;
	int eq;

	if (!a || !b)
		return a == b;
	na = sluice__position__get_packed_size(a);
	nb = sluice__position__get_packed_size(b);
	if (na != nb)
		return 0;
	pa = sl_xmalloc(na + 1);
	pb = sl_xmalloc(nb + 1);
	sluice__position__pack(a, pa);
	sluice__position__pack(b, pb);
	eq = !memcmp(pa, pb, na);
	free(pa);
	free(pb);
	return eq;
}

int seg__chain_self_check(const char *path, const Sluice__SegmentHeader *h,
			  struct sl_err *err)
{
	if (h->seq == 1 ? (h->prev_seq != 0 || h->prev_footer_hash.len != 0) :
	    (h->prev_seq != h->seq - 1 || h->prev_footer_hash.len != SEG_HASH_LEN))
		return sl_err_set(err, -SL_ECORRUPT,
				  "'%s': header of segment %llu names predecessor %llu with a %zu-byte footer hash (offset %d)",
				  path, (unsigned long long)h->seq, (unsigned long long)h->prev_seq,
				  h->prev_footer_hash.len, SEG_HDR_FIXED);
	if (!h->start)
		return sl_err_set(err, -SL_ECORRUPT, "'%s': header has no start position (offset %d)",
				  path, SEG_HDR_FIXED);
	return 0;
}

int seg__chain_check(const char *path, const Sluice__SegmentHeader *h, uint64_t prev_seq,
		     const uint8_t prev_hash[SEG_HASH_LEN], const Sluice__Position *prev_end,
		     struct sl_err *err)
{
	int rc;

	if ((rc = seg__chain_self_check(path, h, err)))
		return rc;
	if (h->prev_seq != prev_seq)
		return sl_err_set(err, -SL_ECORRUPT,
				  "'%s': segment %llu follows segment %llu, but its header names %llu (offset %d)",
				  path, (unsigned long long)h->seq, (unsigned long long)prev_seq,
				  (unsigned long long)h->prev_seq, SEG_HDR_FIXED);
	if (memcmp(h->prev_footer_hash.data, prev_hash, SEG_HASH_LEN))
		return sl_err_set(err, -SL_ECORRUPT,
				  "'%s': predecessor's footer hash does not match segment %llu (swapped, replaced or foreign segment; offset %d)",
				  path, (unsigned long long)prev_seq, SEG_HDR_FIXED);
	if (!seg__pos_equal(h->start, prev_end))
		return sl_err_set(err, -SL_ECORRUPT,
				  "'%s': start position is not where segment %llu ends (offset %d)",
				  path, (unsigned long long)prev_seq, SEG_HDR_FIXED);
	return 0;
}

int seg__fsync_dir(const char *dir, struct sl_err *err)
{
	return sl_fsync_dir(dir, err);
}

int seg__dir_lock(const char *dir, int *lock_fd, struct sl_err *err)
{
	char *path = NULL;
	int fd = -1, rc = 0;

	*lock_fd = -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		return sl_err_set(err, -e, "cannot create directory '%s': %s", dir, strerror(e));
	}
	path = sl_xasprintf("%s/LOCK", dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		rc = sl_err_set(err, -e, "cannot open lock file '%s': %s", path, strerror(e));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e == EWOULDBLOCK)
			rc = sl_err_set(err, -EBUSY,
					"'%s' is in use by another writer (lock '%s' is held)",
					dir, path);
		else
			rc = sl_err_set(err, -e, "cannot lock '%s': %s", path, strerror(e));
		goto out;
	}
	*lock_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* ---- header ---- */

static uint32_t header_crc(const uint8_t *h, size_t len)
{
	uint32_t c = sl_crc32c(0, h, 24);

	return sl_crc32c(c, h + 28, len - 28);
}

int seg__header_encode(const Sluice__SegmentHeader *h, struct sl_buf *out)
{
	size_t body = sluice__segment_header__get_packed_size(h);
	size_t len = SEG_HDR_FIXED + body;
	uint8_t *p;
	int rc;

	if (len > SEG_HDR_MAX)
		return -SL_ETOOBIG;
	sl_buf_reset(out);
	if ((rc = sl_buf_reserve(out, len)))
		return rc;
	p = out->data;
	memset(p, 0, SEG_HDR_FIXED);
	memcpy(p, SEG_MAGIC, 8);
	sl_put_le32(p + 8, SEG_VERSION);
	sl_put_le32(p + 12, (uint32_t)len);
	sl_put_le64(p + 16, h->seq);
	sluice__segment_header__pack(h, p + SEG_HDR_FIXED);
	sl_put_le32(p + 24, header_crc(p, len));
	out->len = len;
	return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int seg__header_read(int fd, const char *path, uint64_t size,
		     Sluice__SegmentHeader **h, uint32_t *len, struct sl_err *err)
{
	uint8_t fixed[SEG_HDR_FIXED], *buf = NULL;
	uint32_t hl;
	int rc;

	*h = NULL;
	if (size < SEG_HDR_FIXED)
		return 0;
	if ((rc = seg__pread_full(fd, fixed, sizeof(fixed), 0)))
		return rc == -SL_ETORN ? 0 :
		       sl_err_set(err, rc, "cannot read '%s': %s", path, sl_strerror(rc));
	if (all_zero(fixed, sizeof(fixed))) {
		/* Torn only if nothing but zeros follows: frames are written after
		 * the header is durable, so a zeroed header before data is damage. */
		if (size > SEG_HDR_MAX)
			return sl_err_set(err, -SL_ECORRUPT, "'%s': zeroed header at offset 0", path);
		buf = sl_xmalloc(size);
		rc = seg__pread_full(fd, buf, size, 0);
		if (rc && rc != -SL_ETORN)
			rc = sl_err_set(err, rc, "cannot read '%s': %s", path, sl_strerror(rc));
		else if (!rc && !all_zero(buf, size))
			rc = sl_err_set(err, -SL_ECORRUPT, "'%s': zeroed header at offset 0", path);
		else
			rc = 0;
		free(buf);
		return rc;
	}
	if (memcmp(fixed, SEG_MAGIC, 8))
		return sl_err_set(err, -SL_ECORRUPT, "'%s': not a segment file (bad magic at offset 0)", path);
	if (sl_le32(fixed + 8) != SEG_VERSION)
		return sl_err_set(err, -SL_EFORMAT,
				  "'%s': segment format version %u is not supported (this sluice reads version %d) at offset 8",
				  path, sl_le32(fixed + 8), SEG_VERSION);
	hl = sl_le32(fixed + 12);
	if (hl < SEG_HDR_FIXED || hl > SEG_HDR_MAX)
		return sl_err_set(err, -SL_ECORRUPT, "'%s': bad header length %u at offset 12", path, hl);
	if (size < hl)
		return 0;
	buf = sl_xmalloc(hl);
	if ((rc = seg__pread_full(fd, buf, hl, 0))) {
		rc = rc == -SL_ETORN ? 0 : sl_err_set(err, rc, "cannot read '%s': %s", path, sl_strerror(rc));
		goto out;
	}
	if (header_crc(buf, hl) != sl_le32(buf + 24)) {
		/* A header whose file ends with it was being written when we looked
		 * (or when the writer crashed); anything after it means corruption. */
		rc = size == hl ? 0 : sl_err_set(err, -SL_ECORRUPT, "'%s': bad header crc at offset 0", path);
		goto out;
	}
	*h = sluice__segment_header__unpack(NULL, hl - SEG_HDR_FIXED, buf + SEG_HDR_FIXED);
	if (!*h) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': header does not decode at offset %d", path, SEG_HDR_FIXED);
		goto out;
	}
	if ((*h)->seq != sl_le64(buf + 16) || (*h)->stream_id.len != 16) {
		sluice__segment_header__free_unpacked(*h, NULL);
		*h = NULL;
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': inconsistent header at offset 0", path);
		goto out;
	}
	*len = hl;
	rc = 1;
out:
	free(buf);
	return rc;
}

/* ---- trailer ---- */

void seg__trailer_encode(uint8_t out[SEG_TRAILER_LEN], uint64_t footer_off,
			 uint32_t footer_len)
{
	memcpy(out, SEG_TRAILER_MAGIC, 8);
	sl_put_le64(out + 8, footer_off);
	sl_put_le32(out + 16, footer_len);
	sl_put_le32(out + 20, sl_crc32c(0, out, 20));
}

int seg__trailer_decode(const uint8_t in[SEG_TRAILER_LEN], uint64_t *footer_off,
			uint32_t *footer_len)
{
	if (memcmp(in, SEG_TRAILER_MAGIC, 8) || sl_crc32c(0, in, 20) != sl_le32(in + 20))
		return 0;
	*footer_off = sl_le64(in + 8);
	*footer_len = sl_le32(in + 16);
	return 1;
}

int seg__footer_read(int fd, const char *path, uint64_t size, uint64_t seq,
		     Sluice__SegmentFooter **f, uint8_t *hash, struct sl_err *err)
{
	uint8_t tr[SEG_TRAILER_LEN];
	struct sl_buf payload = SL_BUF_INIT(SEG_FOOTER_MAX);
	struct seg_frame fr;
	uint64_t foff;
	uint32_t flen;
	int rc;

	*f = NULL;
	if (size < SEG_HDR_FIXED + SEG_FRAME_HDR + SEG_TRAILER_LEN ||
	    seg__pread_full(fd, tr, sizeof(tr), size - SEG_TRAILER_LEN) ||
	    !seg__trailer_decode(tr, &foff, &flen) ||
	    foff + flen + SEG_TRAILER_LEN != size)
		return sl_err_set(err, -SL_ECORRUPT, "'%s': no valid trailer at offset %llu",
				  path, (unsigned long long)(size >= SEG_TRAILER_LEN ? size - SEG_TRAILER_LEN : 0));
	rc = seg__frame_read(fd, path, foff, size - SEG_TRAILER_LEN, &fr, &payload, err);
	if (rc == SEG_FRAME_SHORT)
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': truncated footer frame at offset %llu",
				path, (unsigned long long)foff);
	if (rc < 0)
		goto out;
	if (fr.type != SEG_FRAME_FOOTER || fr.end != foff + flen) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': trailer does not point at a footer frame (offset %llu)",
				path, (unsigned long long)foff);
		goto out;
	}
	if (hash)
		seg__sha256(fr.hdr, SEG_FRAME_HDR, payload.data, payload.len, hash);
	*f = sluice__segment_footer__unpack(NULL, payload.len, payload.data);
	if (!*f || (*f)->seq != seq) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': bad footer at offset %llu",
				path, (unsigned long long)foff);
		goto out;
	}
	rc = 0;
out:
	if (rc && *f) {
		sluice__segment_footer__free_unpacked(*f, NULL);
		*f = NULL;
	}
	sl_buf_release(&payload);
	return rc;
}

/* ---- identity ---- */

int seg_dir_identity(const char *dir, char **source, uint8_t stream_id[16],
		     struct sl_err *err)
{
	struct seg_list l;
	int rc;

	*source = NULL;
	if ((rc = seg__dir_scan(dir, &l, err)))
		return rc;
	rc = sl_err_set(err, -ENOENT, "'%s' holds no segment", dir);
	for (size_t i = l.n; i-- > 0;) {
		char *path;
		Sluice__SegmentHeader *h = NULL;
		uint64_t size = 0;
		uint32_t hl;
		int fd;

		rc = seg__open_entry(dir, &l.v[i], &path, &fd, &size, err);
		if (!rc)
			rc = seg__header_read(fd, path, size, &h, &hl, err);
		if (fd >= 0)
			close(fd);
		free(path);
		if (rc == 1) {
			*source = sl_xstrdup(h->source);
			memcpy(stream_id, h->stream_id.data, 16);
			sluice__segment_header__free_unpacked(h, NULL);
			rc = 0;
			if (err)
				*err = (struct sl_err)SL_ERR_INIT;	/* found: no stale message */
			break;
		}
		if (rc < 0 || l.v[i].sealed)
			break;
		/* a torn header of the open segment: the one before tells */
		rc = sl_err_set(err, -ENOENT, "'%s' holds no segment", dir);
	}
	if (rc > 0 || (rc == 0 && !*source))
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': torn header in a sealed segment", dir);
	seg__list_release(&l);
	return rc;
}
