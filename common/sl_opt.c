/* sl_opt.c - parse a command line against a subcommand's option table, check it, print its help and its effective values. */
#include "sl_opt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

#define HELP_COL 24	/* where an option's help text starts in -h */
#define WRAP_COL 78	/* where synopsis lines wrap */

/* ---- units: conversion and printing of the number types ---- */

int sl_parse_duration_ms(const char *s, uint64_t *ms)
{
	static const struct { const char *sfx; uint64_t mul; } units[] = {
		{ "ms", 1 }, { "", 1000 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 },
	};
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -SL_EINVAL_ARG;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -SL_EINVAL_ARG;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].sfx)) {
			if (v > UINT64_MAX / units[i].mul)
				return -SL_EINVAL_ARG;
			*ms = v * units[i].mul;
			return 0;
		}
	return -SL_EINVAL_ARG;
}

static int parse_decimal(const char *s, uint64_t *v)
{
	char *end;

	if (!s || *s < '0' || *s > '9')	/* no sign, no space: "-1" is not 2^64-1 */
		return -SL_EINVAL_ARG;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end || errno ? -SL_EINVAL_ARG : 0;
}

static int is_number(enum sl_opt_type t)
{
	return t == SL_OPT_UINT || t == SL_OPT_MS || t == SL_OPT_SIZE || t == SL_OPT_AGE ||
	       t == SL_OPT_DURATION;
}

/* The largest value the option's target holds. */
static uint64_t target_max(const struct sl_opt *o)
{
	if (!o->target || o->target_size >= 8)
		return UINT64_MAX;
	return ((uint64_t)1 << (8 * o->target_size)) - 1;
}

static uint64_t opt_max(const struct sl_opt *o)
{
	return o->max ? o->max : target_max(o);
}

struct unit {
	uint64_t mul;
	const char *sfx;
};

/* A bound in the option's unit, as a user would write it: 4K, 64M, 90s, 7d. */
static void put_amount(struct sl_buf *b, enum sl_opt_type t, uint64_t v)
{
	static const struct unit sizes[] = { { 1ull << 40, "T" }, { 1ull << 30, "G" }, { 1ull << 20, "M" },
					     { 1ull << 10, "K" }, { 1, "" } },
		ages[] = { { 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" } },
		durations[] = { { 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" } },
		plain[] = { { 1, "" } };
	const struct unit *u = t == SL_OPT_SIZE ? sizes : t == SL_OPT_AGE ? ages :
			       t == SL_OPT_DURATION ? durations : plain;

	while (v && v % u->mul)	/* each table ends with mul 1 */
		u++;
	sl_buf_addf(b, "%llu%s", (unsigned long long)(v ? v / u->mul : 0), v ? u->sfx :
		    t == SL_OPT_AGE ? "s" : t == SL_OPT_DURATION ? "ms" : "");
}

/* In a sentence ("wants a size ..."): "from 1 to 60000", "of at least 4K";
 * in -h: "1 to 60000", "at least 4K"; nothing when any value is allowed. */
static void put_range(struct sl_buf *b, const struct sl_opt *o, int sentence)
{
	uint64_t max = opt_max(o);

	if (o->min == 0 && max == UINT64_MAX)
		return;
	if (max == UINT64_MAX) {
		sl_buf_adds(b, sentence ? "of at least " : "at least ");
		put_amount(b, o->type, o->min);
		return;
	}
	if (sentence)
		sl_buf_adds(b, "from ");
	put_amount(b, o->type, o->min);
	sl_buf_adds(b, " to ");
	put_amount(b, o->type, max);
}

/* What a value of the type is, and examples ("" for none). */
static const char *type_what(enum sl_opt_type t, const char **like)
{
	*like = "";
	switch (t) {
	case SL_OPT_UINT: return "a whole number";
	case SL_OPT_MS: return "milliseconds";
	case SL_OPT_SIZE: *like = " (like 4096, 512K, 64M, 1G)"; return "a size";
	case SL_OPT_AGE: *like = " (like 90, 30s, 15m, 12h, 7d)"; return "an age";
	case SL_OPT_DURATION: *like = " (like 500ms, 30s, 15m, 1h)"; return "a duration";
	default: return "a value";
	}
}

static const char *type_arg(const struct sl_opt *o)
{
	if (o->arg)
		return o->arg;
	switch (o->type) {
	case SL_OPT_FLAG: return NULL;
	case SL_OPT_UINT: return "N";
	case SL_OPT_MS: return "MS";
	case SL_OPT_SIZE: return "SIZE";
	case SL_OPT_AGE: case SL_OPT_DURATION: return "AGE";
	default: return "VALUE";
	}
}

/* ---- storing values ---- */

static void store_uint(struct sl_opt *o, uint64_t v)
{
	switch (o->target ? o->target_size : 0) {
	case 0: break;
	case 1: *(uint8_t *)o->target = (uint8_t)v; break;
	case 2: *(uint16_t *)o->target = (uint16_t)v; break;
	case 4: *(uint32_t *)o->target = (uint32_t)v; break;
	case 8: *(uint64_t *)o->target = v; break;
	default: sl_bug("option '--%s': a number target of %zu bytes", o->name, o->target_size);
	}
}

static int bad_value(const struct sl_opt *o, const char *value, struct sl_err *err)
{
	struct sl_buf range = SL_BUF_INIT(SL_ERR_LEN), shown = SL_BUF_INIT(SL_ERR_LEN);
	const char *like, *what = type_what(o->type, &like);
	int rc;

	put_range(&range, o, 1);
	if (!(o->flags & SL_OPT_SECRET)) {	/* a secret is never quoted; a URL without its password */
		sl_buf_adds(&shown, ", not '");
		sl_opt_put_redacted(&shown, value);
		sl_buf_addc(&shown, '\'');
	}
	rc = sl_err_set(err, -SL_EINVAL_ARG, "option '--%s' wants %s%s%s%s%s", o->name, what,
			range.len ? " " : "", sl_buf_cstr(&range), like, sl_buf_cstr(&shown));
	sl_buf_release(&range);
	sl_buf_release(&shown);
	return rc;
}

/* Convert value and store it in o's target; o->text keeps the text. */
static int set_value(struct sl_opt *o, const char *value, struct sl_err *err)
{
	uint64_t v = 0;
	int rc = 0;

	switch (o->type) {
	case SL_OPT_FLAG:
		if (o->target)
			*(int *)o->target = 1;
		break;
	case SL_OPT_STR:
	case SL_OPT_LIST:
		if (!*value)
			return sl_err_set(err, -SL_EINVAL_ARG, "option '--%s' has an empty value", o->name);
		if (o->type == SL_OPT_STR && o->target)
			*(const char **)o->target = value;
		if (o->type == SL_OPT_LIST && o->target) {
			struct sl_opt_list *l = o->target;

			l->v = sl_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
			l->v[l->n++] = value;
		}
		break;
	case SL_OPT_UINT:
	case SL_OPT_MS:
		rc = parse_decimal(value, &v);
		break;
	case SL_OPT_SIZE:
		rc = sl_parse_size(value, &v);
		break;
	case SL_OPT_AGE:
		rc = sl_parse_age(value, &v);
		break;
	case SL_OPT_DURATION:
		rc = sl_parse_duration_ms(value, &v);
		break;
	}
	if (is_number(o->type)) {
		if (rc || v < o->min || v > opt_max(o))
			return bad_value(o, value, err);
		store_uint(o, v);
	}
	if (o->check && (rc = o->check(value, err)))
		return sl_err_prefix(err, "option '--%s'", o->name);
	o->text = value;
	return 0;
}

/* ---- the table ---- */

static struct sl_opt *find(struct sl_opt_cmd *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->n; i++)
		if (strlen(c->opts[i].name) == len && !memcmp(c->opts[i].name, name, len))
			return &c->opts[i];
	return NULL;
}

struct sl_opt *sl_opt_find(struct sl_opt_cmd *c, const char *name)
{
	struct sl_opt *o = find(c, name, strlen(name));

	if (!o)
		sl_bug("sluice %s has no option '--%s'", c->name, name);
	return o;
}

int sl_opt_given(struct sl_opt_cmd *c, const char *name)
{
	return sl_opt_find(c, name)->given > 0;
}

/* Calls fn for each name of "a|b|c"; stops at the first nonzero result. */
static int each_name(const char *list, int (*fn)(void *ctx, const char *name, size_t len), void *ctx)
{
	int rc = 0;

	while (list && *list && !rc) {
		size_t len = strcspn(list, "|");

		rc = fn(ctx, list, len);
		list += len + (list[len] == '|');
	}
	return rc;
}

static int name_exists(void *ctx, const char *name, size_t len)
{
	if (!find(ctx, name, len))
		sl_bug("sluice %s: the table names an unknown option '--%.*s'", ((struct sl_opt_cmd *)ctx)->name,
		       (int)len, name);
	return 0;
}

static int name_given(void *ctx, const char *name, size_t len)
{
	struct sl_opt *o = find(ctx, name, len);

	return o && o->given ? 1 : 0;
}

static void check_table(struct sl_opt_cmd *c)
{
	static const size_t size_of[] = {
		[SL_OPT_FLAG] = sizeof(int), [SL_OPT_STR] = sizeof(const char *),
		[SL_OPT_LIST] = sizeof(struct sl_opt_list),
	};

	for (size_t i = 0; i < c->n; i++) {
		struct sl_opt *o = &c->opts[i];

		if (!o->name || !strcmp(o->name, "help") || find(c, o->name, strlen(o->name)) != o)
			sl_bug("sluice %s: option %zu has a reserved or repeated name", c->name, i);
		if (o->target && o->type <= SL_OPT_LIST && o->target_size != size_of[o->type])
			sl_bug("option '--%s': target of %zu bytes", o->name, o->target_size);
		if (is_number(o->type) && (opt_max(o) > target_max(o) || o->min > opt_max(o)))
			sl_bug("option '--%s': bounds do not fit its target", o->name);
		if ((o->flags & SL_OPT_MODE) && (!o->modes || (o->modes & (o->modes - 1))))
			sl_bug("option '--%s': a mode option needs exactly one mode bit", o->name);
		each_name(o->needs, name_exists, c);
		each_name(o->conflicts, name_exists, c);
	}
}

static void reset(struct sl_opt_cmd *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct sl_opt *o = &c->opts[i];

		o->given = 0;
		o->text = NULL;
		if (o->type == SL_OPT_LIST && o->target) {
			struct sl_opt_list *l = o->target;

			free(l->v);
			l->v = NULL;
			l->n = 0;
		}
	}
	free(c->args_given.v);
	c->args_given.v = NULL;
	c->args_given.n = 0;
	c->mode = 1;
}

void sl_opt_release(struct sl_opt_cmd *c)
{
	if (c)
		reset(c);
}

/* ---- reading argv ---- */

static int read_option(struct sl_opt_cmd *c, int argc, char **argv, int *i, struct sl_err *err)
{
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '='), *value;
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	struct sl_opt *o = find(c, arg, len);
	int rc;

	if (!o) /* the name only: what follows '=' may be a secret */
		return sl_err_set(err, -SL_EINVAL_ARG, "unknown option '--%.*s' (see 'sluice %s -h')",
				  (int)len, arg, c->name);
	if (o->type == SL_OPT_FLAG) {
		if (eq)
			return sl_err_set(err, -SL_EINVAL_ARG, "option '--%s' takes no value", o->name);
		value = "";
	} else if (eq) {
		value = eq + 1;
	} else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) && strcmp(argv[*i + 1], "-h")) {
		value = argv[++*i];
	} else {
		return sl_err_set(err, -SL_EINVAL_ARG, "option '--%s' needs a value", o->name);
	}
	if ((rc = set_value(o, value, err)))
		return rc;
	o->given++;
	return 0;
}

static void add_arg(struct sl_opt_cmd *c, const char *a)
{
	c->args_given.v = sl_xrealloc(c->args_given.v, (c->args_given.n + 1) * sizeof(*c->args_given.v));
	c->args_given.v[c->args_given.n++] = a;
}

static const char *mode_phrase(const struct sl_opt_cmd *c, unsigned bit)
{
	for (unsigned i = 0; c->modes && c->modes[i]; i++)
		if (bit == 1u << i)
			return c->modes[i];
	return "in this mode";
}

/* "--a or --b" (joiner "or") from "a|b" */
static void put_names(struct sl_buf *b, const char *list, const char *joiner)
{
	int first = 1;

	while (list && *list) {
		size_t len = strcspn(list, "|");

		if (!first)
			sl_buf_addf(b, list[len] ? ", " : " %s ", joiner);
		sl_buf_addf(b, "--%.*s", (int)len, list);
		first = 0;
		list += len + (list[len] == '|');
	}
}

static int check_effect(struct sl_opt_cmd *c, struct sl_opt *o, struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(SL_ERR_LEN);
	int rc = 0;

	if (o->modes && !(o->modes & c->mode)) {
		rc = sl_err_set(err, -SL_EINVAL_ARG, "option '--%s' has no effect %s", o->name,
				mode_phrase(c, c->mode));
	} else if (o->needs && !each_name(o->needs, name_given, c)) {
		put_names(&b, o->needs, "or");
		rc = sl_err_set(err, -SL_EINVAL_ARG, "option '--%s' has no effect without %s", o->name,
				sl_buf_cstr(&b));
	} else if (o->conflicts && each_name(o->conflicts, name_given, c)) {
		for (const char *p = o->conflicts; *p;) {
			size_t len = strcspn(p, "|");

			if (name_given(c, p, len)) {
				rc = sl_err_set(err, -SL_EINVAL_ARG, "option '--%s' has no effect with --%.*s",
						o->name, (int)len, p);
				break;
			}
			p += len + (p[len] == '|');
		}
	}
	sl_buf_release(&b);
	return rc;
}

/* "--a, --b and --c" of the options of one group, or of the required ones missing. */
static void put_members(struct sl_buf *b, const struct sl_opt_cmd *c, int (*pick)(const struct sl_opt_cmd *,
			const struct sl_opt *, int), int arg, size_t *count)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < c->n; i++)
		n += pick(c, &c->opts[i], arg) ? 1 : 0;
	for (size_t i = 0; i < c->n; i++) {
		if (!pick(c, &c->opts[i], arg))
			continue;
		if (k)
			sl_buf_adds(b, k + 1 == n ? " and " : ", ");
		sl_buf_addf(b, "--%s", c->opts[i].name);
		k++;
	}
	*count = n;
}

static int in_group(const struct sl_opt_cmd *c, const struct sl_opt *o, int group)
{
	(void)c;
	return o->group == group;
}

static int applies(const struct sl_opt_cmd *c, const struct sl_opt *o)
{
	return !o->modes || (o->modes & c->mode);
}

static int missing(const struct sl_opt_cmd *c, const struct sl_opt *o, int unused)
{
	(void)unused;
	return (o->flags & SL_OPT_REQUIRED) && applies(c, o) && !o->given;
}

static int check_line(struct sl_opt_cmd *c, struct sl_err *err)
{
	struct sl_buf b = SL_BUF_INIT(SL_ERR_LEN);
	size_t n;
	int rc = 0;

	for (size_t i = 0; i < c->n; i++)
		if ((c->opts[i].flags & SL_OPT_MODE) && c->opts[i].given)
			c->mode = c->opts[i].modes;
	for (size_t i = 0; i < c->n && !rc; i++)
		if (c->opts[i].given)
			rc = check_effect(c, &c->opts[i], err);
	for (size_t i = 0; i < c->n && !rc; i++) {
		size_t given = 0;
		int g = c->opts[i].group;

		if (!g || !c->opts[i].given)
			continue;
		for (size_t j = 0; j < c->n; j++)
			given += c->opts[j].group == g && c->opts[j].given;
		if (given > 1) {
			put_members(&b, c, in_group, g, &n);
			rc = sl_err_set(err, -SL_EINVAL_ARG, "%s exclude each other", sl_buf_cstr(&b));
		}
	}
	if (!rc) {
		put_members(&b, c, missing, 0, &n);
		if (n)
			rc = sl_err_set(err, -SL_EINVAL_ARG, "%s %s required", sl_buf_cstr(&b), n > 1 ? "are" : "is");
	}
	sl_buf_release(&b);
	return rc;
}

int sl_opt_parse(struct sl_opt_cmd *c, int argc, char **argv, struct sl_err *err)
{
	int rc, dashdash = 0;

	check_table(c);
	reset(c);
	for (size_t i = 0; i < c->n; i++) {
		struct sl_opt *o = &c->opts[i];
		struct sl_err e = SL_ERR_INIT;

		if (o->def && o->type != SL_OPT_FLAG && set_value(o, o->def, &e))
			sl_bug("option '--%s': bad default '%s': %s", o->name, o->def, e.msg);
	}
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return SL_OPT_HELP;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (dashdash || a[0] != '-' || !a[1]) {
			add_arg(c, a);
		} else if (!strcmp(a, "--")) {
			dashdash = 1;
		} else if (a[1] == '-') {
			if ((rc = read_option(c, argc, argv, &i, err)))
				return rc;
		} else {
			return sl_err_set(err, -SL_EINVAL_ARG, "unknown option '%.2s' (see 'sluice %s -h')",
					  a, c->name);
		}
	}
	return check_line(c, err);
}

/* ---- -h ---- */

static void put_token(struct sl_buf *line, FILE *f, const char *tok, size_t indent)
{
	if (line->len + 1 + strlen(tok) > WRAP_COL && line->len > indent) {
		fprintf(f, "%s\n", sl_buf_cstr(line));
		sl_buf_reset(line);
		sl_buf_addf(line, "%*s", (int)indent - 1, "");
	}
	sl_buf_addf(line, " %s", tok);
}

static void synopsis(const struct sl_opt_cmd *c, FILE *f, unsigned mode, int first)
{
	struct sl_buf line = SL_BUF_INIT(SL_BUF_UNLIMITED), tok = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct sl_opt_cmd view = *c;
	size_t indent;

	view.mode = mode;
	sl_buf_addf(&line, "%s sluice %s", first ? "usage:" : "      ", c->name);
	indent = line.len + 1;
	if (c->args)
		put_token(&line, f, c->args, indent);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->n; i++) {
			const struct sl_opt *o = &c->opts[i];
			int req = (o->flags & SL_OPT_REQUIRED) != 0;

			if (!applies(&view, o) || req != !pass)
				continue;
			if (o->group) {
				size_t j;

				for (j = 0; j < i && c->opts[j].group != o->group; j++)
					;
				if (j < i)
					continue;	/* the group was written at its first member */
			}
			sl_buf_reset(&tok);
			if (!req)
				sl_buf_addc(&tok, '[');
			for (size_t j = i; j < c->n; j++) {
				const struct sl_opt *m = &c->opts[j];

				if (j != i && (!o->group || m->group != o->group || !applies(&view, m)))
					continue;
				if (j != i)
					sl_buf_adds(&tok, " | ");
				sl_buf_addf(&tok, "--%s", m->name);
				if (type_arg(m))
					sl_buf_addf(&tok, " %s", type_arg(m));
				if (!o->group)
					break;
			}
			if (!req)
				sl_buf_addc(&tok, ']');
			put_token(&line, f, sl_buf_cstr(&tok), indent);
		}
	}
	fprintf(f, "%s\n", sl_buf_cstr(&line));
	sl_buf_release(&line);
	sl_buf_release(&tok);
}

/* "(1 to 64; default 16; needs --follow)" under an option's help; the
 * synopsis lines show which options each mode takes. */
static void notes(const struct sl_opt *o, struct sl_buf *b)
{
	size_t start = b->len;

#define SEP() sl_buf_adds(b, b->len > start ? "; " : "(")
	if (is_number(o->type) && (o->min != 0 || opt_max(o) != UINT64_MAX)) {
		SEP();
		put_range(b, o, 0);
	}
	if (o->def) {
		SEP();
		sl_buf_addf(b, o->type == SL_OPT_STR ? "default '%s'" : "default %s", o->def);
	} else if (o->def_text) {
		SEP();
		sl_buf_addf(b, "default: %s", o->def_text);
	}
	if (o->needs) {
		SEP();
		sl_buf_adds(b, "needs ");
		put_names(b, o->needs, "or");
	}
	if (o->conflicts) {
		SEP();
		sl_buf_adds(b, "not with ");
		put_names(b, o->conflicts, "or");
	}
	if (o->type == SL_OPT_LIST) {
		SEP();
		sl_buf_adds(b, "may repeat");
	}
#undef SEP
	if (b->len > start)
		sl_buf_addc(b, ')');
}

void sl_opt_help(const struct sl_opt_cmd *c, FILE *f)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);

	if (c->modes && c->modes[0])
		for (unsigned i = 0; c->modes[i]; i++)
			synopsis(c, f, 1u << i, i == 0);
	else
		synopsis(c, f, 1, 1);
	if (c->about)
		fprintf(f, "\n%s", c->about);
	fprintf(f, "\n");
	for (size_t i = 0; i < c->n; i++) {
		const struct sl_opt *o = &c->opts[i];
		const char *h = o->help ? o->help : "";
		int w;

		sl_buf_reset(&b);
		w = fprintf(f, "  --%s%s%s", o->name, type_arg(o) ? " " : "", type_arg(o) ? type_arg(o) : "");
		if (w >= HELP_COL - 1) {
			fputc('\n', f);
			w = 0;
		}
		notes(o, &b);
		while (*h) {
			size_t len = strcspn(h, "\n");

			fprintf(f, "%*s%.*s\n", HELP_COL - w, "", (int)len, h);
			w = 0;
			h += len + (h[len] == '\n');
		}
		for (const char *p = sl_buf_cstr(&b); *p;) {	/* wrap the notes after a "; " */
			size_t len = strlen(p), room = WRAP_COL + 2 - HELP_COL;

			if (len > room)
				for (len = room; len > 2 && strncmp(p + len - 2, "; ", 2); len--)
					;
			if (len <= 2)
				len = strlen(p);
			fprintf(f, "%*s%.*s\n", HELP_COL - w, "", (int)(len - (p[len] ? 1 : 0)), p);
			w = 0;
			p += len;
		}
		if (w)
			fputc('\n', f);
	}
	fprintf(f, "  -h, --help%*sprint this help\n", HELP_COL - 12, "");
	sl_buf_release(&b);
}

/* ---- the effective options ---- */

void sl_opt_put_redacted(struct sl_buf *out, const char *text)
{
	const char *u;
	size_t off, len;

	if (!text)
		return;
	u = strstr(text, "mysql://");
	if (u && sl_dsn_secret_span(u, &off, &len))
		sl_buf_addf(out, "%.*sxxx%s", (int)(u - text + off), text, u + off + len);
	else
		sl_buf_adds(out, text);
}

static void put_value(struct sl_buf *out, const struct sl_opt *o, const char *v)
{
	sl_buf_addf(out, "%s--%s", out->len ? " " : "", o->name);
	if (o->type == SL_OPT_FLAG)
		return;
	sl_buf_addc(out, '=');
	if (o->flags & SL_OPT_SECRET)
		sl_buf_adds(out, "(secret)");
	else if (o->flags & SL_OPT_URL)
		sl_opt_put_redacted(out, v);
	else
		sl_buf_adds(out, v);
}

void sl_opt_format(const struct sl_opt_cmd *c, struct sl_buf *out)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct sl_opt *o = &c->opts[i];

		if (o->type == SL_OPT_FLAG) {
			if (o->given)
				put_value(out, o, NULL);
		} else if (o->type == SL_OPT_LIST && o->target) {
			const struct sl_opt_list *l = o->target;

			for (size_t k = 0; k < l->n; k++)
				put_value(out, o, l->v[k]);
		} else if (o->text) {
			put_value(out, o, o->text);
		}
	}
}
