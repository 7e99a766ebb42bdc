/* sl_metrics.c - the Prometheus text file of --metrics: families, labels, atomic rewrites. */
#include "sl_metrics.h"
#include "sl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "banned.h"

void sl_metrics_init(struct sl_metrics *m, const char *path, uint64_t period_ms)
{
	memset(m, 0, sizeof(*m));
	m->path = path && path[0] ? sl_xstrdup(path) : NULL;
	m->period_ms = period_ms ? period_ms : SL_METRICS_PERIOD_MS;
}

static int name_ok(const char *s, int metric)
{
	if (metric && strncmp(s, "sluice_", 7))
		return 0;
	if (!s[0] || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static void misuse(const char *what, const char *name)
{
	fprintf(stderr, "sluice: internal error: metrics %s '%s'\n", what, name);
	abort();
}

void sl_metrics_label(struct sl_metrics *m, const char *name, const char *value)
{
	if (!m->path)
		return;
	if (!name_ok(name, 0) || m->nlabels == SL_METRICS_LABELS)
		misuse("label", name);
	m->label_name[m->nlabels] = sl_xstrdup(name);
	m->label_value[m->nlabels++] = sl_xstrdup(value ? value : "");
}

void sl_metrics_set(struct sl_metrics *m, enum sl_metric_type type, const char *name,
		    const char *help, double value)
{
	struct sl_metric *f = NULL;
	size_t nl = strlen(name);

	if (!m->path)
		return;
	for (unsigned i = 0; i < m->n && !f; i++)
		if (!strcmp(m->m[i].name, name))
			f = &m->m[i];
	if (!f) {
		/* counters end in _total, and nothing else does (Prometheus naming) */
		int total = nl > 6 && !strcmp(name + nl - 6, "_total");

		if (!name_ok(name, 1) || nl >= sizeof(f->name) || m->n == SL_METRICS_MAX ||
		    total != (type == SL_METRIC_COUNTER))
			misuse("name", name);
		f = &m->m[m->n++];
		memcpy(f->name, name, nl + 1);
		f->help = sl_xstrdup(help);
		f->type = type;
		f->value = value;
	} else if (f->type != type) {
		misuse("type of", name);
	}
	if (!isfinite(value) || (type == SL_METRIC_COUNTER && (value < f->value || value < 0)))
		return;
	f->value = value;
}

int sl_metrics_due(const struct sl_metrics *m, uint64_t now_ms)
{
	return m->path && (!m->written_ms || now_ms - m->written_ms >= m->period_ms);
}

/* HELP text: backslash and newline escaped; label values: double quote too. */
static void add_escaped(struct sl_buf *b, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			sl_buf_adds(b, "\\\\");
		else if (*s == '\n')
			sl_buf_adds(b, "\\n");
		else if (quote && *s == '"')
			sl_buf_adds(b, "\\\"");
		else
			sl_buf_addc(b, (uint8_t)*s);
	}
}

size_t sl_metrics_render(const struct sl_metrics *m, char **out)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	size_t n;

	for (unsigned i = 0; i < m->n; i++) {
		const struct sl_metric *f = &m->m[i];

		sl_buf_addf(&b, "# HELP %s ", f->name);
		add_escaped(&b, f->help, 0);
		sl_buf_addf(&b, "\n# TYPE %s %s\n%s", f->name,
			    f->type == SL_METRIC_COUNTER ? "counter" : "gauge", f->name);
		for (unsigned k = 0; k < m->nlabels; k++) {
			sl_buf_addf(&b, "%s%s=\"", k ? "," : "{", m->label_name[k]);
			add_escaped(&b, m->label_value[k], 1);
			sl_buf_adds(&b, k + 1 == m->nlabels ? "\"}" : "\"");
		}
		if (f->value == floor(f->value) && fabs(f->value) < 9007199254740992.0)
			sl_buf_addf(&b, " %.0f\n", f->value);
		else
			sl_buf_addf(&b, " %.6f\n", f->value);
	}
	sl_buf_addc(&b, 0);
	n = b.len - 1;
	*out = (char *)b.data;
	return n;
}

int sl_metrics_write(struct sl_metrics *m, uint64_t now_ms, struct sl_err *err)
{
	char *text;
	size_t n;
	int rc;

	if (!m->path)
		return 0;
	n = sl_metrics_render(m, &text);
	rc = sl_write_file_atomic(m->path, text, n, 0644, err);
	free(text);
	m->written_ms = now_ms ? now_ms : 1;
	return rc;
}

void sl_metrics_release(struct sl_metrics *m)
{
	for (unsigned i = 0; i < m->n; i++)
		free(m->m[i].help);
	for (unsigned k = 0; k < m->nlabels; k++) {
		free(m->label_name[k]);
		free(m->label_value[k]);
	}
	free(m->path);
	memset(m, 0, sizeof(*m));
}

int sl_metrics_path_check(const char *path, struct sl_err *err)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? sl_xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : sl_xstrdup(".");
	struct stat st;
	int rc = 0;

	if (!path[0] || (slash && !slash[1]) || (!stat(path, &st) && S_ISDIR(st.st_mode)))
		rc = sl_err_set(err, -SL_EINVAL_ARG, "metrics file '%s' names a directory, not a file", path);
	else if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		rc = sl_err_set(err, -SL_EINVAL_ARG, "metrics file '%s': its directory '%s' does not exist",
				path, dir);
	else if (access(dir, W_OK | X_OK))
		rc = sl_err_set(err, -SL_EINVAL_ARG, "metrics file '%s': cannot write in '%s': %s", path,
				dir, strerror(errno));
	free(dir);
	return rc;
}
