/* cap_schema_file.c - the schema history across capture runs: DIR/capture-schema. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cap_int.h"
#include "banned.h"

/* ---- the history across runs: DIR/capture-schema ---- */
/*
 * A capture that names columns from the history saves it at its end, with
 * the stream position it is valid for; the next run over the same DIR loads
 * it when that position is where the stream resumes, so a resumed run names
 * past events by the schema of their time, never by the live one. Format,
 * text: "sluice-schema-history 2\tFILE\tOFFSET\n", then one line per table,
 * "db\ttable\tcol\ttype\tcol\ttype...\n" (type: the column's descriptor,
 * empty when unknown) with '\\', '\t' and '\n' escaped as \\ \t \n.
 * Version 1 files (names only, "db\ttable\tcol\tcol...") still load, their
 * types unknown.
 * Written by sl_write_file_atomic() (common/sl_file.c). The store
 * ignores files that are not segments.
 */
#define HISTORY_FILE "capture-schema"
#define HISTORY_MAX ((size_t)256 << 20)

static void put_esc(struct sl_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			sl_buf_adds(b, "\\\\");
		else if (*s == '\t')
			sl_buf_adds(b, "\\t");
		else if (*s == '\n')
			sl_buf_adds(b, "\\n");
		else
			sl_buf_addc(b, (uint8_t)*s);
	}
}

int cap__schema_save(const struct cap_schema *s, const char *dir, const char *file, uint64_t off,
		     struct sl_err *err)
{
	struct sl_buf b;
	char path[4096];
	const char *db, *name;
	const char *const *cols, *const *types;
	size_t n;
	int rc = 0;

	sl_buf_init(&b, HISTORY_MAX);
	sl_buf_adds(&b, "sluice-schema-history 2\t");
	put_esc(&b, file);
	sl_buf_addf(&b, "\t%llu\n", (unsigned long long)off);
	for (size_t i = 0; cap__schema_table(s, i, &db, &name, &cols, &types, &n); i++) {
		put_esc(&b, db);
		sl_buf_addc(&b, '\t');
		put_esc(&b, name);
		for (size_t k = 0; k < n; k++) {
			sl_buf_addc(&b, '\t');
			put_esc(&b, cols[k]);
			sl_buf_addc(&b, '\t');
			put_esc(&b, types[k] ? types[k] : "");
		}
		if (sl_buf_addc(&b, '\n') < 0) {
			rc = sl_err_set(err, -SL_ETOOBIG, "schema history exceeds %zu bytes", b.max);
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE);
	rc = sl_write_file_atomic(path, b.data, b.len, 0644, err);
out:
	sl_buf_release(&b);
	return rc;
}

/* Split a line in place on tabs, unescaping; returns the field count. */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *w = line, *r = line;

	f[n++] = w;
	for (; *r; r++) {
		if (*r == '\t') {
			*w++ = 0;
			if (n == max)
				return n;
			f[n++] = w;
		} else if (*r == '\\' && r[1]) {
			r++;
			*w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
	return n;
}

int cap__schema_load(struct cap_schema *s, const char *dir, const char *file, uint64_t off,
		     int *loaded, struct sl_err *err)
{
	char path[4096], *text = NULL, *line, *next_line;
	char **f = NULL, **names = NULL, **types = NULL;
	struct stat st;
	ssize_t got;
	int fd, rc = 0, version;

	*loaded = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, HISTORY_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : sl_err_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || (size_t)st.st_size > HISTORY_MAX) {
		close(fd);
		return sl_err_set(err, -SL_ETOOBIG, "'%s' is unreadable or too large", path);
	}
	text = sl_xmalloc((size_t)st.st_size + 1);
	got = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		rc = sl_err_set(err, -SL_ETORN, "'%s': short read", path);
		goto out;
	}
	text[got] = 0;
	f = sl_xcalloc(2 * CAP_SCHEMA_MAX_COLS + 2, sizeof(char *));
	names = sl_xcalloc(CAP_SCHEMA_MAX_COLS, sizeof(char *));
	types = sl_xcalloc(CAP_SCHEMA_MAX_COLS, sizeof(char *));
	next_line = strchr(text, '\n');
	if (!next_line) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': no header line", path);
		goto out;
	}
	*next_line++ = 0;
	if (split(text, f, 3) != 3 || (strcmp(f[0], "sluice-schema-history 1") &&
					strcmp(f[0], "sluice-schema-history 2"))) {
		rc = sl_err_set(err, -SL_ECORRUPT, "'%s': bad header", path);
		goto out;
	}
	version = f[0][strlen(f[0]) - 1] - '0';
	if (strcmp(f[1], file) || strtoull(f[2], NULL, 10) != off)
		goto out;	/* saved for another position: not valid here */
	for (line = next_line; line && *line; line = next_line) {
		size_t n;

		next_line = strchr(line, '\n');
		if (next_line)
			*next_line++ = 0;
		n = split(line, f, 2 * CAP_SCHEMA_MAX_COLS + 2);
		if (n < 3)
			continue;
		if (version == 1) {
			cap__schema_set(s, f[0], f[1], (const char *const *)(f + 2), NULL, n - 2);
			continue;
		}
		if ((n - 2) % 2) {
			rc = sl_err_set(err, -SL_ECORRUPT, "'%s': table `%s`.`%s`: a column without its type",
					path, f[0], f[1]);
			goto out;
		}
		for (size_t k = 0; k < (n - 2) / 2; k++) {
			names[k] = f[2 + 2 * k];
			types[k] = f[3 + 2 * k];
		}
		cap__schema_set(s, f[0], f[1], (const char *const *)names, (const char *const *)types,
				(n - 2) / 2);
	}
	*loaded = 1;
out:
	free(f);
	free(names);
	free(types);
	free(text);
	return rc;
}
