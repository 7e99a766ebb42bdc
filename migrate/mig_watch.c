/* mig_watch.c - follow DIR/snapshot as the snapshot child writes it: runs, chunks, rows, the estimate, its end. */
#include "mig_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

void mig__hex_id(const uint8_t id[16], char out[33])
{
	sl_hex(out, id, 16);
}

void mig__snapwatch_init(struct mig_snapwatch *w, const char *dir)
{
	memset(w, 0, sizeof(*w));
	w->path = sl_xasprintf("%s/snapshot", dir);
}

void mig__snapwatch_release(struct mig_snapwatch *w)
{
	if (w->r)
		seg_reader_close(w->r);
	for (size_t i = 0; i < w->ntabs; i++)
		free(w->tabs[i].name);
	free(w->tabs);
	free(w->path);
	memset(w, 0, sizeof(*w));
}

static struct mig_tab *tab(struct mig_snapwatch *w, const char *name)
{
	for (size_t i = 0; i < w->ntabs; i++)
		if (!strcmp(w->tabs[i].name, name))
			return &w->tabs[i];
	w->tabs = sl_xrealloc(w->tabs, (w->ntabs + 1) * sizeof(*w->tabs));
	memset(&w->tabs[w->ntabs], 0, sizeof(*w->tabs));
	w->tabs[w->ntabs].name = sl_xstrdup(name);
	return &w->tabs[w->ntabs++];
}

static void record(struct mig_snapwatch *w, const Sluice__Record *rec)
{
	struct mig_tab *t;

	switch (rec->body_case) {
	case SLUICE__RECORD__BODY_SCHEMA:
		w->schema_objects++;
		break;
	case SLUICE__RECORD__BODY_SNAPSHOT_BEGIN:
		w->runs++;
		w->est_rows = w->rows + rec->snapshot_begin->estimated_rows;
		break;
	case SLUICE__RECORD__BODY_CHUNK:
		snprintf(w->cur, sizeof(w->cur), "%s.%s", rec->chunk->db ? rec->chunk->db : "",
			 rec->chunk->table ? rec->chunk->table : "");
		w->in_chunk = 1;
		if (rec->chunk->restart) {	/* a keyless table read again: what it had is gone */
			t = tab(w, w->cur);
			w->rows -= t->rows;
			w->bytes -= t->bytes;
			w->chunks -= t->chunks;
			t->rows = t->bytes = t->chunks = 0;
		}
		break;
	case SLUICE__RECORD__BODY_CHUNK_END:
		if (!w->in_chunk)
			break;
		t = tab(w, w->cur);
		t->chunks++;
		t->rows += rec->chunk_end->rows;
		t->bytes += rec->chunk_end->bytes;
		w->chunks++;
		w->rows += rec->chunk_end->rows;
		w->bytes += rec->chunk_end->bytes;
		w->tables_done += rec->chunk_end->table_done;
		w->in_chunk = 0;
		if (w->rows > w->est_rows)
			w->est_rows = w->rows;
		break;
	case SLUICE__RECORD__BODY_SNAPSHOT_END:
		w->ended = 1;
		w->est_rows = w->rows;
		break;
	default:
		break;
	}
}

int mig__snapwatch_poll(struct mig_snapwatch *w, struct sl_err *err)
{
	int rc;

	if (!w->r) {
		struct sl_err e = SL_ERR_INIT;
		char *source = NULL;

		if (seg_dir_identity(w->path, &source, w->stream_id, &e))
			return 0;	/* not written yet */
		free(source);
		w->have_id = 1;
		if (seg_reader_open(&w->r, w->path, &e))
			return 0;
	}
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur;
		const uint8_t *body;
		size_t len;

		rc = seg_reader_next_raw(w->r, &body, &len, &cur, err);
		if (rc <= 0)
			return rc;
		/* rows are most of the stream and say nothing the chunk ends do not */
		if (fmt_record_peek(body, len) == SLUICE__RECORD__BODY_ROW)
			continue;
		if ((rc = fmt_record_decode(body, len, NULL, &rec, err)))
			return sl_err_prefix(err, "'%s' segment %" PRIu64 " offset %" PRIu64 " record %"
					     PRIu32, w->path, cur.seq, cur.offset, cur.index);
		record(w, rec);
		fmt_record_free(rec);
	}
}
