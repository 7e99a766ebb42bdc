/* snap_resume.c - what earlier runs left in DIR/snapshot: definitions written, runs, and each table's finished chunks. */
#include "snap_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "banned.h"

static char *obj_key(int kind, const char *db, const char *name, const char *table)
{
	return sl_xasprintf("%d\t%s\t%s\t%s", kind, db ? db : "", name ? name : "", table ? table : "");
}

int snap__prev_has_object(const struct snap_prev *p, int kind, const char *db, const char *name,
			  const char *table)
{
	char *k = obj_key(kind, db, name, table);
	int found = 0;

	for (size_t i = 0; i < p->nobjects && !found; i++)
		found = !strcmp(p->objects[i], k);
	free(k);
	return found;
}

static struct snap_prev_table *table_of(struct snap_prev *p, const char *db, const char *name)
{
	struct snap_prev_table *t;

	for (size_t i = 0; i < p->ntables; i++)
		if (!strcmp(p->tables[i].db, db) && !strcmp(p->tables[i].name, name))
			return &p->tables[i];
	p->tables = sl_xrealloc(p->tables, (p->ntables + 1) * sizeof(*p->tables));
	t = &p->tables[p->ntables++];
	memset(t, 0, sizeof(*t));
	t->db = sl_xstrdup(db);
	t->name = sl_xstrdup(name);
	return t;
}

const struct snap_prev_table *snap__prev_table(const struct snap_prev *p, const char *db,
					       const char *name)
{
	for (size_t i = 0; i < p->ntables; i++)
		if (!strcmp(p->tables[i].db, db) && !strcmp(p->tables[i].name, name))
			return &p->tables[i];
	return NULL;
}

static void clear_key(struct snap_prev_table *t)
{
	for (size_t i = 0; i < t->nkey; i++)
		free(t->next_key[i]);
	free(t->next_key);
	free(t->next_len);
	t->next_key = NULL;
	t->next_len = NULL;
	t->nkey = 0;
}

int snap__prev_read(const char *sdir, struct snap_prev *p, struct sl_err *err)
{
	struct seg_reader *r = NULL;
	struct snap_prev_table *cur = NULL;
	struct stat sb;
	int rc;

	memset(p, 0, sizeof(*p));
	if (stat(sdir, &sb) && errno == ENOENT)
		return 0;
	rc = seg_reader_open(&r, sdir, err);
	if (rc == -ENOENT) {
		err->code = 0;
		err->msg[0] = 0;
		return 0;
	}
	if (rc)
		return rc;
	for (;;) {
		Sluice__Record *rec = NULL;
		struct seg_cursor cur_pos;

		rc = seg_reader_next(r, &rec, &cur_pos, err);
		if (rc <= 0)
			break;
		p->exists = 1;
		switch (rec->body_case) {
		case SLUICE__RECORD__BODY_SCHEMA: {
			const Sluice__SchemaObject *s = rec->schema;

			p->objects = sl_xrealloc(p->objects, (p->nobjects + 1) * sizeof(char *));
			p->objects[p->nobjects++] = obj_key((int)s->kind, s->db, s->name, s->table);
			break;
		}
		case SLUICE__RECORD__BODY_SNAPSHOT_BEGIN: {
			const Sluice__SnapshotBegin *b = rec->snapshot_begin;

			p->has_begin = 1;
			if (b->run > p->last_run)
				p->last_run = b->run;
			if (b->position && (!p->max_p1 || snap__pos_cmp(b->position, p->max_p1) > 0)) {
				fmt_position_free(p->max_p1);
				p->max_p1 = fmt_position_dup(b->position);
			}
			break;
		}
		case SLUICE__RECORD__BODY_CHUNK: {
			const Sluice__SnapshotChunk *ch = rec->chunk;

			cur = table_of(p, ch->db, ch->table);
			if (ch->restart)
				cur->rows = 0;
			if (ch->index + 1 > cur->next_index)
				cur->next_index = ch->index + 1;
			cur->had_chunks = 1;
			break;
		}
		case SLUICE__RECORD__BODY_CHUNK_END: {
			const Sluice__SnapshotChunkEnd *e = rec->chunk_end;

			if (!cur)
				break;
			cur->rows += e->rows;
			cur->done = e->table_done;
			clear_key(cur);
			if (e->n_next_key) {
				cur->nkey = e->n_next_key;
				cur->next_key = sl_xcalloc(cur->nkey, sizeof(char *));
				cur->next_len = sl_xcalloc(cur->nkey, sizeof(unsigned long));
				for (size_t i = 0; i < cur->nkey; i++) {
					cur->next_key[i] = sl_xstrndup((const char *)e->next_key[i].data,
								       e->next_key[i].len);
					cur->next_len[i] = e->next_key[i].len;
				}
			}
			cur = NULL;
			break;
		}
		case SLUICE__RECORD__BODY_SNAPSHOT_END:
			p->has_end = 1;
			break;
		default:
			break;
		}
		fmt_record_free(rec);
	}
	seg_reader_close(r);
	if (rc < 0)
		snap__prev_release(p);
	return rc < 0 ? rc : 0;
}

void snap__prev_release(struct snap_prev *p)
{
	for (size_t i = 0; i < p->nobjects; i++)
		free(p->objects[i]);
	free(p->objects);
	for (size_t i = 0; i < p->ntables; i++) {
		clear_key(&p->tables[i]);
		free(p->tables[i].db);
		free(p->tables[i].name);
	}
	free(p->tables);
	fmt_position_free(p->max_p1);
	memset(p, 0, sizeof(*p));
}
