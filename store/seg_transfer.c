/* seg_transfer.c - air-gapped transfer of one stream: pack its sealed segments and a manifest into a bundle directory, check one whole and add it (seg_bundle.c puts DIR and DIR/snapshot together). */
#include "seg_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "banned.h"

#define MANIFEST "MANIFEST"
#define MANIFEST_MAX ((size_t)1 << 20)
#define KEY_MIN 16
#define KEY_MAX 4096
#define COPY_CHUNK ((size_t)1 << 20)

struct bfile {
	uint64_t seq, size;
	uint8_t sha[SEG_HASH_LEN];
};

struct manifest {
	uint8_t stream_id[16];
	char *source;
	uint64_t first, last;
	int has_prev, has_snapshot;
	uint8_t prev[SEG_HASH_LEN], last_footer[SEG_HASH_LEN];
	uint8_t snapshot[SEG_HASH_LEN];	/* SHA-256 of snapshot/MANIFEST */
	struct bfile *files;
	size_t n;
};

static void manifest_release(struct manifest *m)
{
	free(m->source);
	free(m->files);
	memset(m, 0, sizeof(*m));
}

int seg__load_key(const char *path, struct sl_buf *key, struct sl_err *err)
{
	struct stat st;
	uint64_t size = 0;
	int fd = -1, rc;

	if ((rc = seg__open_regular(path, 0, &fd, &size, err)))
		return sl_err_prefix(err, "key file");
	if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
		rc = sl_err_set(err, -SL_EINVAL_ARG,
				"key file '%s' is readable by group or others (chmod 600 it)", path);
		goto out;
	}
	if (size < KEY_MIN || size > KEY_MAX) {
		rc = sl_err_set(err, -SL_EINVAL_ARG, "key file '%s' must hold %d to %d bytes, not %llu",
				path, KEY_MIN, KEY_MAX, (unsigned long long)size);
		goto out;
	}
	sl_buf_reset(key);
	if ((rc = sl_buf_reserve(key, size)) || (rc = seg__pread_full(fd, key->data, size, 0))) {
		rc = sl_err_set(err, rc, "cannot read key file '%s': %s", path, sl_strerror(rc));
		goto out;
	}
	key->len = size;
out:
	close(fd);
	return rc;
}

static void hmac(const struct sl_buf *key, const void *p, size_t n, uint8_t out[SEG_HASH_LEN])
{
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), key->data, (int)key->len, p, n, out, &len) || len != SEG_HASH_LEN)
		sl_bug("hmac-sha256 failed");
}

int seg__hash_copy(int from, const char *fpath, uint64_t n, int to, const char *tpath,
		     uint8_t sha[SEG_HASH_LEN], struct sl_err *err)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t *buf = sl_xmalloc(COPY_CHUNK), extra;
	uint64_t off = 0;
	unsigned int hl = 0;
	int rc = 0;

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL))
		sl_bug("sha-256 init failed");
	while (off < n) {
		size_t k = n - off < COPY_CHUNK ? (size_t)(n - off) : COPY_CHUNK;

		if ((rc = seg__pread_full(from, buf, k, off))) {
			rc = sl_err_set(err, rc == -SL_ETORN ? -SL_ECORRUPT : rc,
					"'%s': %s at offset %llu", fpath,
					rc == -SL_ETORN ? "shorter than its manifest says" : sl_strerror(rc),
					(unsigned long long)off);
			goto out;
		}
		if (!EVP_DigestUpdate(c, buf, k))
			sl_bug("sha-256 update failed");
		if (to >= 0) {
			ssize_t w = pwrite(to, buf, k, (off_t)off);

			if (w != (ssize_t)k) {
				int e = w < 0 ? errno : ENOSPC;
				rc = sl_err_set(err, -e, "cannot write '%s' at offset %llu: %s", tpath,
						(unsigned long long)off, strerror(e));
				goto out;
			}
		}
		off += k;
	}
	if (pread(from, &extra, 1, (off_t)n) != 0) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': longer than its manifest says (%llu bytes)",
				fpath, (unsigned long long)n);
		goto out;
	}
	if (!EVP_DigestFinal_ex(c, sha, &hl))
		sl_bug("sha-256 final failed");
	if (to >= 0 && fsync(to) < 0) {
		int e = errno;
		rc = sl_err_set(err, -e, "cannot fsync '%s': %s", tpath, strerror(e));
	}
out:
	EVP_MD_CTX_free(c);
	free(buf);
	return rc;
}

/* Write bytes to dir/name atomically (common/sl_file.c). */
static int write_atomic(const char *dir, const char *name, const void *p, size_t n,
			struct sl_err *err)
{
	char *path = sl_xasprintf("%s/%s", dir, name);
	int rc = sl_write_file_atomic(path, p, n, 0600, err);

	free(path);
	return rc;
}

/* ---- pack ---- */

/* A stream at rest is packed whole: when DIR's newest segment is open and
 * no writer holds DIR/LOCK (a capture that was killed, or one older than
 * seal-at-exit), recover and seal it as the writer would. A writer at work
 * (-EBUSY) keeps its segment; it goes into a later bundle. Failing to seal
 * is not an error of pack: what is sealed is still packed. */
static void seal_at_rest(const char *dir, const struct seg_list *l)
{
	struct seg_writer_opts wo = { 0 };
	struct seg_writer *w = NULL;
	struct sl_err e = SL_ERR_INIT;
	uint8_t sid[16];
	char *source = NULL;
	int rc;

	if (!l->n || l->v[l->n - 1].sealed)
		return;
	if ((rc = seg_dir_identity(dir, &source, sid, &e)))
		goto out;
	wo.dir = dir;
	wo.source = source;
	wo.no_uring = 1;
	if ((rc = seg_writer_open(&w, &wo, &e)))
		goto out;
	rc = seg_writer_seal(w, &e);
	if (!rc)
		sl_log(SL_INFO, "store", "'%s': sealed segment %llu, which no writer held, to pack it",
		       dir, (unsigned long long)l->v[l->n - 1].seq);
	{
		struct sl_err ce = SL_ERR_INIT;
		int crc = seg_writer_close(w, &ce);

		if (crc && !rc) {
			rc = crc;
			e = ce;
		}
	}
out:
	if (rc == -EBUSY)
		sl_log(SL_INFO, "store", "'%s': segment %llu is open and a capture is writing it: it goes into a later bundle",
		       dir, (unsigned long long)l->v[l->n - 1].seq);
	else if (rc)
		sl_log(SL_WARN, "store", "'%s': open segment %llu not sealed, so not packed: %s", dir,
		       (unsigned long long)l->v[l->n - 1].seq, e.msg);
	free(source);
}

int seg__bundle_out(const char *out, struct sl_err *err)
{
	if (mkdir(out, 0700) < 0) {
		int e = errno;
		DIR *d = e == EEXIST ? opendir(out) : NULL;
		struct dirent *de;
		int empty = d != NULL;

		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				empty = 0;
		if (d)
			closedir(d);
		if (!empty)
			return sl_err_set(err, -(e == EEXIST ? EEXIST : e), "cannot use '%s' as a new bundle: %s",
					  out, e == EEXIST ? "it exists and is not an empty directory" : strerror(e));
	}
	return 0;
}

int seg__pack_stream(const struct seg_pack_opts *o, const struct sl_buf *keyp,
		     const uint8_t *snapshot_sha, uint8_t manifest_sha[SEG_HASH_LEN],
		     struct seg_transfer_result *res, struct sl_err *err)
{
	struct sl_buf man = SL_BUF_INIT(MANIFEST_MAX);
	struct seg_list l = { 0 };
	uint8_t prev_hash[SEG_HASH_LEN], first_prev[SEG_HASH_LEN], sid[16];
	Sluice__Position *prev_end = NULL;
	char *source = NULL, hx[2 * SEG_HASH_LEN + 1];
	int rc, has_first_prev = 0;
	size_t i, from = 0, to = 0;

	memset(res, 0, sizeof(*res));
	if ((rc = seg__dir_scan(o->dir, &l, err)))
		goto out;
	if (l.n && !l.v[l.n - 1].sealed) {
		seal_at_rest(o->dir, &l);
		seg__list_release(&l);
		if ((rc = seg__dir_scan(o->dir, &l, err)))
			goto out;
	}
	for (i = 0; i < l.n && (l.v[i].seq < o->from_seq || !l.v[i].sealed); i++)
		;
	from = i;
	for (to = from; to < l.n && l.v[to].sealed; to++)
		;
	if (from >= to) {
		rc = sl_err_set(err, -ENOENT, "'%s' holds no sealed segment%s to pack", o->dir,
				o->from_seq ? " from that sequence number" : "");
		goto out;
	}
	if (o->from_seq && l.v[from].seq != o->from_seq) {
		rc = sl_err_set(err, -ENOENT, "'%s' holds no sealed segment %llu", o->dir,
				(unsigned long long)o->from_seq);
		goto out;
	}
	for (i = from; i < to; i++) {
		char *path = seg__path(o->dir, l.v[i].seq, 1), name[SEG_NAME_LEN], *dst, *tmp;
		struct seg_file_info fi;
		uint8_t sha[SEG_HASH_LEN];
		uint64_t size = 0;
		int fd = -1, out_fd = -1;

		seg__name(name, l.v[i].seq, 1);
		dst = sl_xasprintf("%s/%s", o->out, name);
		tmp = sl_xasprintf("%s/.%s.tmp", o->out, name);
		memset(&fi, 0, sizeof(fi));
		rc = seg__open_regular(path, 0, &fd, &size, err);
		if (!rc)
			rc = seg__check_file(fd, path, size, SEG_CHECK_SEALED, &fi, err);
		if (!rc && source && (strcmp(source, fi.hdr->source) || memcmp(sid, fi.hdr->stream_id.data, 16)))
			rc = sl_err_set(err, -SL_ESTREAM, "'%s': segment of another stream", path);
		if (!rc && i > from)
			rc = seg__chain_check(path, fi.hdr, l.v[i - 1].seq, prev_hash, prev_end, err);
		if (!rc) {
			out_fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (out_fd < 0) {
				int e = errno;
				rc = sl_err_set(err, -e, "cannot create '%s': %s", tmp, strerror(e));
			}
		}
		if (!rc)
			rc = seg__hash_copy(fd, path, size, out_fd, tmp, sha, err);
		if (out_fd >= 0 && close(out_fd) < 0 && !rc)
			rc = sl_err_set(err, -errno, "cannot write '%s'", tmp);
		if (!rc && rename(tmp, dst) < 0) {
			int e = errno;
			rc = sl_err_set(err, -e, "cannot rename '%s': %s", tmp, strerror(e));
		}
		if (rc)
			(void)unlink(tmp);
		if (!rc) {
			if (!source) {
				source = sl_xstrdup(fi.hdr->source);
				memcpy(sid, fi.hdr->stream_id.data, 16);
				if (fi.hdr->prev_footer_hash.len == SEG_HASH_LEN) {
					memcpy(first_prev, fi.hdr->prev_footer_hash.data, SEG_HASH_LEN);
					has_first_prev = 1;
				}
				if (strpbrk(source, "\n\r")) {
					rc = sl_err_set(err, -SL_ECORRUPT, "'%s': source identity has a line break", path);
				} else {
					sl_hex(hx, sid, 16);
					sl_buf_addf(&man, "sluice-bundle 1\nstream %s\nsource %s\nfirst %" PRIu64
						    "\nlast %" PRIu64 "\n", hx, source, l.v[from].seq, l.v[to - 1].seq);
					if (has_first_prev)
						sl_hex(hx, first_prev, SEG_HASH_LEN);
					sl_buf_addf(&man, "prev %s\n", has_first_prev ? hx : "-");
				}
			}
			sl_hex(hx, sha, SEG_HASH_LEN);
			sl_buf_addf(&man, "file %s %" PRIu64 " %s\n", name, size, hx);
			memcpy(prev_hash, fi.footer_hash, SEG_HASH_LEN);
			fmt_position_free(prev_end);
			prev_end = fmt_position_dup(fi.footer->end);
			res->files++;
			res->bytes += size;
		}
		seg__file_info_release(&fi);
		if (fd >= 0)
			close(fd);
		free(path);
		free(dst);
		free(tmp);
		if (rc)
			goto out;
	}
	sl_hex(hx, prev_hash, SEG_HASH_LEN);
	sl_buf_addf(&man, "last_footer %s\n", hx);
	if (snapshot_sha) {
		sl_hex(hx, snapshot_sha, SEG_HASH_LEN);
		sl_buf_addf(&man, "snapshot %s\n", hx);
	}
	if (keyp) {
		uint8_t mac[SEG_HASH_LEN];

		hmac(keyp, man.data, man.len, mac);
		sl_hex(hx, mac, SEG_HASH_LEN);
		sl_buf_addf(&man, "hmac %s\n", hx);
	}
	if ((rc = write_atomic(o->out, MANIFEST, man.data, man.len, err)) ||
	    (rc = seg__fsync_dir(o->out, err)))
		goto out;
	seg__sha256(man.data, man.len, NULL, 0, manifest_sha);
	res->first_seq = l.v[from].seq;
	res->last_seq = l.v[to - 1].seq;
out:
	fmt_position_free(prev_end);
	free(source);
	seg__list_release(&l);
	sl_buf_release(&man);
	return rc;
}

/* ---- unpack ---- */

static int bad_manifest(struct sl_err *err, const char *bundle, unsigned line, const char *what)
{
	return sl_err_set(err, -SL_ECORRUPT, "'%s/%s': %s at line %u", bundle, MANIFEST, what, line);
}

/* Parse (and authenticate) the manifest text, NUL-terminated in buf. */
static int parse_manifest(const char *bundle, char *buf, size_t len, const struct sl_buf *key,
			  struct manifest *m, struct sl_err *err)
{
	char *line = buf, *nl;
	unsigned no = 0;
	int state = 0, have_mac = 0;
	uint64_t want_seq = 0;
	size_t body_len = len;

	memset(m, 0, sizeof(*m));
	if (!len || buf[len - 1] != '\n' || strlen(buf) != len)
		return bad_manifest(err, bundle, 1, "not a manifest (binary or unterminated)");
	for (; *line; line = nl + 1) {
		char *arg;

		nl = strchr(line, '\n');
		*nl = 0;
		no++;
		if (have_mac)
			return bad_manifest(err, bundle, no, "text after the hmac");
		arg = strchr(line, ' ');
		if (!arg)
			return bad_manifest(err, bundle, no, "malformed line");
		*arg++ = 0;
		if (state == 0) {
			if (strcmp(line, "sluice-bundle") || strcmp(arg, "1"))
				return bad_manifest(err, bundle, no, "not a sluice bundle manifest of version 1");
			state = 1;
		} else if (state == 1 && !strcmp(line, "stream")) {
			if (sl_unhex(arg, m->stream_id, 16))
				return bad_manifest(err, bundle, no, "bad stream id");
			state = 2;
		} else if (state == 2 && !strcmp(line, "source")) {
			m->source = sl_xstrdup(arg);
			state = 3;
		} else if (state == 3 && !strcmp(line, "first")) {
			char *end;

			m->first = strtoull(arg, &end, 10);
			if (*end || !m->first)
				return bad_manifest(err, bundle, no, "bad first sequence number");
			state = 4;
		} else if (state == 4 && !strcmp(line, "last")) {
			char *end;

			m->last = strtoull(arg, &end, 10);
			if (*end || m->last < m->first || m->last - m->first >= 1000000)
				return bad_manifest(err, bundle, no, "bad last sequence number");
			m->files = sl_xcalloc(m->last - m->first + 1, sizeof(*m->files));
			want_seq = m->first;
			state = 5;
		} else if (state == 5 && !strcmp(line, "prev")) {
			m->has_prev = strcmp(arg, "-") != 0;
			if (m->has_prev ? sl_unhex(arg, m->prev, SEG_HASH_LEN) != 0 : m->first != 1)
				return bad_manifest(err, bundle, no, "bad predecessor footer hash");
			state = 6;
		} else if (state == 6 && !strcmp(line, "file")) {
			char name[64], shx[65];
			uint64_t size, seq;
			int sealed;
			struct bfile *f;

			/* names are segment names or nothing: no '/', no "..", no absolute path */
			if (sscanf(arg, "%63s %" SCNu64 " %64s", name, &size, shx) != 3 ||
			    !seg__parse_name(name, &seq, &sealed) || !sealed)
				return bad_manifest(err, bundle, no, "file entry is not a sealed segment name");
			if (seq != want_seq || seq > m->last)
				return bad_manifest(err, bundle, no, "file entries out of sequence");
			f = &m->files[m->n++];
			f->seq = seq;
			f->size = size;
			if (sl_unhex(shx, f->sha, SEG_HASH_LEN))
				return bad_manifest(err, bundle, no, "bad sha-256");
			want_seq++;
		} else if (state == 6 && !strcmp(line, "last_footer")) {
			if (want_seq != m->last + 1)
				return bad_manifest(err, bundle, no, "files missing from the manifest");
			if (sl_unhex(arg, m->last_footer, SEG_HASH_LEN))
				return bad_manifest(err, bundle, no, "bad last footer hash");
			state = 7;
			body_len = (size_t)(nl + 1 - buf);
		} else if (state == 7 && !strcmp(line, "snapshot")) {
			/* FORMAT.md "Bundle": the snapshot stream's own bundle, snapshot/ */
			if (sl_unhex(arg, m->snapshot, SEG_HASH_LEN))
				return bad_manifest(err, bundle, no, "bad snapshot manifest hash");
			m->has_snapshot = 1;
			state = 8;
			body_len = (size_t)(nl + 1 - buf);
		} else if ((state == 7 || state == 8) && !strcmp(line, "hmac")) {
			uint8_t want[SEG_HASH_LEN], got[SEG_HASH_LEN];

			if (!key)
				return sl_err_set(err, -SL_EINVAL_ARG,
						  "'%s/%s' is authenticated: give --key to check it", bundle, MANIFEST);
			if (sl_unhex(arg, got, SEG_HASH_LEN))
				return bad_manifest(err, bundle, no, "bad hmac");
			hmac(key, buf, body_len, want);
			/* the text was split in place: recompute over the original bytes */
			if (CRYPTO_memcmp(want, got, SEG_HASH_LEN))
				return sl_err_set(err, -SL_ECORRUPT,
						  "'%s/%s': hmac does not match (tampered bundle or wrong key)",
						  bundle, MANIFEST);
			have_mac = 1;
		} else {
			return bad_manifest(err, bundle, no, "unexpected line");
		}
		*nl = '\n';	/* keep the original text for the hmac */
		arg[-1] = ' ';
	}
	if (state != 7 && state != 8)
		return bad_manifest(err, bundle, no, "manifest is incomplete");
	if (key && !have_mac)
		return sl_err_set(err, -SL_ECORRUPT, "'%s/%s' has no hmac but --key was given (stripped?)",
				  bundle, MANIFEST);
	return 0;
}

/* Every entry of the bundle directory must be MANIFEST or a listed file,
 * and a regular file (never a symlink, FIFO or device). */
static int check_bundle_entries(const char *bundle, const struct manifest *m, struct sl_err *err)
{
	DIR *d = opendir(bundle);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		int e = errno;
		return sl_err_set(err, -e, "cannot open bundle '%s': %s", bundle, strerror(e));
	}
	while (!rc && (de = readdir(d))) {
		struct stat st;
		uint64_t seq;
		int sealed;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (m->has_snapshot && !strcmp(de->d_name, SEG_SNAPSHOT_DIR)) {
			/* the snapshot stream's bundle: a real directory, checked on its own */
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
				rc = sl_err_set(err, -SL_ECORRUPT, "bundle '%s': '%s' is not a directory", bundle,
						de->d_name);
			continue;
		}
		if (strcmp(de->d_name, MANIFEST) &&
		    !(seg__parse_name(de->d_name, &seq, &sealed) && sealed &&
		      seq >= m->first && seq <= m->last)) {
			rc = sl_err_set(err, -SL_ECORRUPT, "bundle '%s' holds '%s', which its manifest does not name",
					bundle, de->d_name);
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			rc = sl_err_set(err, -SL_ECORRUPT, "bundle '%s': '%s' is not a regular file", bundle,
					de->d_name);
	}
	closedir(d);
	return rc;
}

/* Check bundle file f whole: size, sha-256, structure, stream, chain. */
static int check_bundle_file(const char *bundle, const struct manifest *m, const struct bfile *f,
			     uint8_t prev_hash[SEG_HASH_LEN], Sluice__Position **prev_end,
			     struct sl_err *err)
{
	char name[SEG_NAME_LEN], *path;
	struct seg_file_info fi;
	uint8_t sha[SEG_HASH_LEN];
	uint64_t size = 0;
	int fd = -1, rc;

	seg__name(name, f->seq, 1);
	path = sl_xasprintf("%s/%s", bundle, name);
	memset(&fi, 0, sizeof(fi));
	if ((rc = seg__open_regular(path, 0, &fd, &size, err)))
		goto out;
	if (size != f->size) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s' holds %llu bytes, its manifest says %llu", path,
				(unsigned long long)size, (unsigned long long)f->size);
		goto out;
	}
	if ((rc = seg__hash_copy(fd, path, size, -1, NULL, sha, err)))
		goto out;
	if (memcmp(sha, f->sha, SEG_HASH_LEN)) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': sha-256 does not match the manifest (tampered)", path);
		goto out;
	}
	if ((rc = seg__check_file(fd, path, size, SEG_CHECK_SEALED, &fi, err)))
		goto out;
	if (fi.hdr->seq != f->seq || strcmp(fi.hdr->source, m->source) ||
	    memcmp(fi.hdr->stream_id.data, m->stream_id, 16)) {
		rc = sl_err_set(err, -SL_ESTREAM, "'%s': segment does not belong to the manifest's stream", path);
		goto out;
	}
	if (f->seq == m->first) {
		if (m->has_prev && (fi.hdr->prev_footer_hash.len != SEG_HASH_LEN ||
				    memcmp(fi.hdr->prev_footer_hash.data, m->prev, SEG_HASH_LEN))) {
			rc = sl_err_set(err, -SL_ECORRUPT, "'%s': predecessor hash differs from the manifest's", path);
			goto out;
		}
	} else if ((rc = seg__chain_check(path, fi.hdr, f->seq - 1, prev_hash, *prev_end, err))) {
		goto out;
	}
	memcpy(prev_hash, fi.footer_hash, SEG_HASH_LEN);
	fmt_position_free(*prev_end);
	*prev_end = fmt_position_dup(fi.footer->end);
out:
	seg__file_info_release(&fi);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

int seg__sealed_footer(const char *dir, uint64_t seq, Sluice__SegmentFooter **f, uint8_t *fhash,
		       uint8_t *sha, struct sl_err *err)
{
	char *path = seg__path(dir, seq, 1);
	uint64_t size = 0;
	int fd = -1, rc;

	*f = NULL;
	if (!(rc = seg__open_regular(path, 0, &fd, &size, err)) &&
	    !(rc = seg__footer_read(fd, path, size, seq, f, fhash, err)) && sha)
		rc = seg__hash_copy(fd, path, size, -1, NULL, sha, err);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* The footer hash and end of DIR's sealed segment seq, and its file's sha-256. */
static int dir_segment(const char *dir, uint64_t seq, uint8_t fhash[SEG_HASH_LEN],
		       Sluice__Position **end, uint8_t sha[SEG_HASH_LEN], struct sl_err *err)
{
	Sluice__SegmentFooter *f = NULL;
	int rc = seg__sealed_footer(dir, seq, &f, fhash, sha, err);

	if (!rc && end)
		*end = fmt_position_dup(f->end);
	if (f)
		sluice__segment_footer__free_unpacked(f, NULL);
	return rc;
}

/* One stream's unpack, between its check and its add (seg_int.h). */
struct seg_unpack_state {
	char *bundle, *into;
	struct manifest m;
	struct seg_list l;
	uint64_t head;
	int lock_fd;
};

void seg__unpack_free(struct seg_unpack_state *u)
{
	if (!u)
		return;
	if (u->lock_fd >= 0)
		close(u->lock_fd);
	manifest_release(&u->m);
	seg__list_release(&u->l);
	free(u->bundle);
	free(u->into);
	free(u);
}

const char *seg__unpack_source(const struct seg_unpack_state *u)
{
	return u->m.source;
}

int seg__unpack_snapshot(const struct seg_unpack_state *u, uint8_t sha[SEG_HASH_LEN])
{
	if (u->m.has_snapshot)
		memcpy(sha, u->m.snapshot, SEG_HASH_LEN);
	return u->m.has_snapshot;
}

int seg__unpack_check(const char *bundle, const char *into, const struct sl_buf *key,
		      const uint8_t *manifest_sha, int lazy, struct seg_unpack_state **up,
		      struct seg_transfer_result *res, struct sl_err *err)
{
	struct seg_unpack_state *u = sl_xcalloc(1, sizeof(*u));
	Sluice__Position *prev_end = NULL, *dir_end = NULL;
	uint8_t prev_hash[SEG_HASH_LEN], dir_hash[SEG_HASH_LEN];
	char *mpath = sl_xasprintf("%s/%s", bundle, MANIFEST), *buf = NULL;
	uint64_t msize = 0, low = 0;
	int fd = -1, rc;
	struct manifest *m = &u->m;
	struct stat st;

	*up = NULL;
	memset(res, 0, sizeof(*res));
	u->lock_fd = -1;
	u->bundle = sl_xstrdup(bundle);
	u->into = sl_xstrdup(into);
	/* 1. the manifest */
	if ((rc = seg__open_regular(mpath, 0, &fd, &msize, err)))
		goto out;
	if (msize == 0 || msize > MANIFEST_MAX) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': %llu bytes is not a manifest", mpath,
				(unsigned long long)msize);
		goto out;
	}
	buf = sl_xmalloc(msize + 1);
	if ((rc = seg__pread_full(fd, buf, msize, 0))) {
		rc = sl_err_set(err, rc, "cannot read '%s': %s", mpath, sl_strerror(rc));
		goto out;
	}
	buf[msize] = 0;
	if (manifest_sha) {
		/* a snapshot bundle: named by the SHA-256 its parent manifest gives */
		uint8_t sha[SEG_HASH_LEN];

		seg__sha256(buf, msize, NULL, 0, sha);
		if (memcmp(sha, manifest_sha, SEG_HASH_LEN)) {
			rc = sl_err_set(err, -SL_ECORRUPT, "'%s': sha-256 does not match the bundle's manifest (tampered)",
					mpath);
			goto out;
		}
	}
	if ((rc = parse_manifest(bundle, buf, msize, key, m, err)))
		goto out;
	if (manifest_sha && m->has_snapshot) {
		rc = bad_manifest(err, bundle, 1, "a snapshot bundle names a snapshot of its own");
		goto out;
	}
	if ((rc = check_bundle_entries(bundle, m, err)))
		goto out;
	/* 2. every file, whole, before anything is added */
	for (size_t i = 0; i < m->n; i++)
		if ((rc = check_bundle_file(bundle, m, &m->files[i], prev_hash, &prev_end, err)))
			goto out;
	if (memcmp(prev_hash, m->last_footer, SEG_HASH_LEN)) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': last footer hash does not match segment %llu",
				mpath, (unsigned long long)m->last);
		goto out;
	}
	/* 3. the receiving directory: same stream, no gap, not older. lazy:
	 * a directory that does not exist yet is created only by the add. */
	if (!(lazy && lstat(into, &st) < 0 && errno == ENOENT) &&
	    ((rc = seg__dir_lock(into, &u->lock_fd, err)) || (rc = seg__dir_scan(into, &u->l, err))))
		goto out;
	res->first_seq = m->first;
	res->last_seq = m->last;
	res->files = m->n;
	if (u->l.n) {
		struct seg_list *l = &u->l;
		char *source = NULL;
		uint8_t sid[16];

		u->head = l->v[l->n - 1].seq;
		low = l->v[0].seq;
		if (!l->v[l->n - 1].sealed) {
			rc = sl_err_set(err, -EBUSY, "'%s' has an open segment %llu (a capture writes here?): refused",
					into, (unsigned long long)u->head);
			goto out;
		}
		if ((rc = seg_dir_identity(into, &source, sid, err)))
			goto out;
		if (strcmp(source, m->source) || memcmp(sid, m->stream_id, 16)) {
			rc = sl_err_set(err, -SL_ESTREAM, "bundle '%s' holds another stream than '%s' (source '%s')",
					bundle, into, m->source);
			free(source);
			goto out;
		}
		free(source);
		if (m->last < u->head) {
			rc = sl_err_set(err, -SL_ESTREAM,
					"bundle '%s' (segments %llu-%llu) is older than '%s', which holds up to %llu",
					bundle, (unsigned long long)m->first, (unsigned long long)m->last,
					into, (unsigned long long)u->head);
			goto out;
		}
		if (m->first > u->head + 1) {
			rc = sl_err_set(err, -SL_ESTREAM, "bundle '%s' starts at segment %llu: '%s' ends at %llu (gap)",
					bundle, (unsigned long long)m->first, into, (unsigned long long)u->head);
			goto out;
		}
		/* what both hold must be the same bytes */
		for (uint64_t s = m->first > low ? m->first : low; s <= u->head; s++) {
			uint8_t sha[SEG_HASH_LEN];

			if ((rc = dir_segment(into, s, dir_hash, NULL, sha, err)))
				goto out;
			if (memcmp(sha, m->files[s - m->first].sha, SEG_HASH_LEN)) {
				rc = sl_err_set(err, -SL_ESTREAM, "segment %llu of bundle '%s' differs from the one in '%s'",
						(unsigned long long)s, bundle, into);
				goto out;
			}
		}
		/* the first new segment must chain to DIR's newest */
		if (m->last > u->head) {
			char nm[SEG_NAME_LEN], *p;
			Sluice__SegmentHeader *h = NULL;
			uint64_t size;
			uint32_t hl;
			int f2 = -1;

			if ((rc = dir_segment(into, u->head, dir_hash, &dir_end, NULL, err)))
				goto out;
			seg__name(nm, u->head + 1, 1);
			p = sl_xasprintf("%s/%s", bundle, nm);
			rc = seg__open_regular(p, 0, &f2, &size, err);
			if (!rc)
				rc = seg__header_read(f2, p, size, &h, &hl, err) == 1 ? 0 :
				     sl_err_set(err, -SL_ECORRUPT, "'%s': bad header", p);
			if (!rc)
				rc = seg__chain_check(p, h, u->head, dir_hash, dir_end, err);
			if (h)
				sluice__segment_header__free_unpacked(h, NULL);
			if (f2 >= 0)
				close(f2);
			free(p);
			if (rc)
				goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	fmt_position_free(prev_end);
	fmt_position_free(dir_end);
	free(buf);
	free(mpath);
	if (rc)
		seg__unpack_free(u);
	else
		*up = u;
	return rc;
}

int seg__unpack_add(struct seg_unpack_state *u, struct seg_transfer_result *res, struct sl_err *err)
{
	const struct manifest *m = &u->m;
	uint64_t add_from;
	char **tmps = NULL;
	size_t ntmp = 0;
	int rc = 0;

	if (u->lock_fd < 0) {
		/* lazy: the directory did not exist at the check; it must be new now */
		if ((rc = seg__dir_lock(u->into, &u->lock_fd, err)) || (rc = seg__dir_scan(u->into, &u->l, err)))
			return rc;
		if (u->l.n)
			return sl_err_set(err, -EBUSY, "'%s' got segments while the bundle was checked: refused",
					  u->into);
	}
	add_from = u->l.n ? u->head + 1 : m->first;
	/* 4. copy to temp names, re-hashing (the bundle may change under us) */
	tmps = sl_xcalloc(m->n + 1, sizeof(*tmps));
	for (uint64_t s = add_from; s <= m->last; s++) {
		const struct bfile *f = &m->files[s - m->first];
		char nm[SEG_NAME_LEN], *src;
		uint8_t sha[SEG_HASH_LEN];
		uint64_t size = 0;
		int in = -1, out_fd;

		seg__name(nm, s, 1);
		src = sl_xasprintf("%s/%s", u->bundle, nm);
		tmps[ntmp] = sl_xasprintf("%s/.unpack-%s.tmp", u->into, nm);
		(void)unlink(tmps[ntmp]);
		out_fd = open(tmps[ntmp], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		ntmp++;
		if (out_fd < 0) {
			int e = errno;
			rc = sl_err_set(err, -e, "cannot create '%s': %s", tmps[ntmp - 1], strerror(e));
		}
		if (!rc)
			rc = seg__open_regular(src, 0, &in, &size, err);
		if (!rc)
			rc = seg__hash_copy(in, src, f->size, out_fd, tmps[ntmp - 1], sha, err);
		if (!rc && memcmp(sha, f->sha, SEG_HASH_LEN))
			rc = sl_err_set(err, -SL_ECORRUPT, "'%s' changed while it was unpacked", src);
		if (out_fd >= 0 && close(out_fd) < 0 && !rc)
			rc = sl_err_set(err, -EIO, "cannot write '%s'", tmps[ntmp - 1]);
		if (in >= 0)
			close(in);
		free(src);
		if (rc)
			goto out;
		res->bytes += f->size;
	}
	/* 5. in order, so DIR never has a gap; then make the names durable */
	for (size_t i = 0; i < ntmp; i++) {
		char *dst = seg__path(u->into, add_from + i, 1);

		if (rename(tmps[i], dst) < 0) {
			int e = errno;
			rc = sl_err_set(err, -e, "cannot rename '%s' to '%s': %s", tmps[i], dst, strerror(e));
			free(dst);
			goto out;
		}
		free(dst);
		free(tmps[i]);
		tmps[i] = NULL;
		res->added++;
	}
	rc = seg__fsync_dir(u->into, err);
out:
	for (size_t i = 0; tmps && i < ntmp; i++) {
		if (tmps[i])
			(void)unlink(tmps[i]);
		free(tmps[i]);
	}
	free(tmps);
	return rc;
}
