/* seg_bundle.c - sluice pack / unpack: a stream directory and its snapshot stream (DIR/snapshot) in one bundle, checked whole before anything is added. */
#include "seg_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "banned.h"

#define KEY_MAX 4096

static void key_release(struct sl_buf *key)
{
	if (key->data)
		OPENSSL_cleanse(key->data, key->cap);
	sl_buf_release(key);
}

int seg_pack(const struct seg_pack_opts *o, struct seg_transfer_result *res, struct sl_err *err)
{
	struct sl_buf key = SL_BUF_INIT(KEY_MAX);
	struct seg_transfer_result sr;
	uint8_t msha[SEG_HASH_LEN], ssha[SEG_HASH_LEN];
	char *snap_dir = seg_snapshot_path(o->dir), *snap_out = NULL;
	int rc, has_snap = 0;

	memset(res, 0, sizeof(*res));
	if (o->key_file && (rc = seg__load_key(o->key_file, &key, err)))
		goto out;
	if (!o->no_snapshot && (rc = seg_snapshot_exists(o->dir, err)) < 0)
		goto out;
	has_snap = !o->no_snapshot && rc == 1;
	if ((rc = seg__bundle_out(o->out, err)))
		goto out;
	if (has_snap) {
		struct seg_pack_opts so = { .dir = snap_dir, .from_seq = o->snapshot_from_seq };
		char *source = NULL;
		uint8_t sid[16];

		snap_out = sl_xasprintf("%s/%s", o->out, SEG_SNAPSHOT_DIR);
		so.out = snap_out;
		/* the snapshot of this stream's source, never another one */
		if ((rc = seg_dir_identity(o->dir, &source, sid, err)) == 0) {
			char *ssource = NULL;

			rc = seg_dir_identity(snap_dir, &ssource, sid, err);
			if (!rc && strcmp(source, ssource))
				rc = sl_err_set(err, -SL_ESTREAM, "'%s' is a snapshot of source '%s', not of '%s'",
						snap_dir, ssource, source);
			free(ssource);
		}
		free(source);
		if (rc)
			goto out;
		if ((rc = seg__bundle_out(snap_out, err)))
			goto out;
		rc = seg__pack_stream(&so, o->key_file ? &key : NULL, NULL, ssha, &sr, err);
		if (rc == -ENOENT && !o->snapshot_from_seq) {
			/* nothing of it sealed yet (a snapshot being written): a later bundle */
			sl_log(SL_INFO, "store", "'%s': no sealed segment yet, not packed", snap_dir);
			(void)remove(snap_out);
			has_snap = 0;
			rc = 0;
		} else if (rc) {
			goto out;
		}
	}
	if ((rc = seg__pack_stream(o, o->key_file ? &key : NULL, has_snap ? ssha : NULL, msha, res, err)))
		goto out;
	if (has_snap) {
		res->snapshot.present = 1;
		res->snapshot.first_seq = sr.first_seq;
		res->snapshot.last_seq = sr.last_seq;
		res->snapshot.files = sr.files;
		res->snapshot.bytes = sr.bytes;
	}
out:
	key_release(&key);
	free(snap_dir);
	free(snap_out);
	return rc;
}

int seg_unpack(const struct seg_unpack_opts *o, struct seg_transfer_result *res, struct sl_err *err)
{
	struct sl_buf key = SL_BUF_INIT(KEY_MAX);
	struct seg_unpack_state *u = NULL, *su = NULL;
	struct seg_transfer_result sr;
	uint8_t ssha[SEG_HASH_LEN];
	char *snap_bundle = NULL, *snap_into = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&sr, 0, sizeof(sr));
	if (o->key_file && (rc = seg__load_key(o->key_file, &key, err)))
		goto out;
	/* every check of both parts first ... */
	if ((rc = seg__unpack_check(o->bundle, o->into, o->key_file ? &key : NULL, NULL, 0, &u, res, err)))
		goto out;
	if (seg__unpack_snapshot(u, ssha)) {
		snap_bundle = sl_xasprintf("%s/%s", o->bundle, SEG_SNAPSHOT_DIR);
		snap_into = seg_snapshot_path(o->into);
		if ((rc = seg__unpack_check(snap_bundle, snap_into, o->key_file ? &key : NULL, ssha, 1, &su,
					    &sr, err)))
			goto out;
		if (strcmp(seg__unpack_source(su), seg__unpack_source(u))) {
			rc = sl_err_set(err, -SL_ESTREAM, "bundle '%s': the snapshot is of source '%s', not of '%s'",
					o->bundle, seg__unpack_source(su), seg__unpack_source(u));
			goto out;
		}
	}
	/* ... then the snapshot (replay starts the changes only after it), then DIR */
	if (su && (rc = seg__unpack_add(su, &sr, err)))
		goto out;
	rc = seg__unpack_add(u, res, err);
out:
	if (su) {
		res->snapshot.present = 1;
		res->snapshot.first_seq = sr.first_seq;
		res->snapshot.last_seq = sr.last_seq;
		res->snapshot.files = sr.files;
		res->snapshot.bytes = sr.bytes;
		res->snapshot.added = sr.added;
	}
	seg__unpack_free(su);
	seg__unpack_free(u);
	key_release(&key);
	free(snap_bundle);
	free(snap_into);
	return rc;
}
