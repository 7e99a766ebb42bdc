/* sl_name.c - names: the rule for consumer names (DIR/consumers/NAME, `sluice`.`checkpoint`) and the include/exclude table patterns every command shares. */
#include "sl.h"

#include <stdlib.h>
#include <string.h>
#include "banned.h"

int sl_consumer_name_check(const char *name, struct sl_err *err)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > SL_CONSUMER_NAME_MAX || name[0] == '.')
		goto bad;
	for (const char *s = name; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			goto bad;
	return 0;
bad:
	/* the name is at most quoted up to the limit, so a long one stays one readable line */
	return sl_err_set(err, -SL_EINVAL_ARG, "bad consumer name '%.*s%s': use 1 to %d of A-Z a-z 0-9 _ . -, "
			  "not starting with '.'", SL_CONSUMER_NAME_MAX + 1, name ? name : "",
			  n > SL_CONSUMER_NAME_MAX + 1 ? "..." : "", SL_CONSUMER_NAME_MAX);
}

/* ---- table patterns (sl.h) ---- */

static int glob(const char *p, size_t pn, const char *s)
{
	if (!pn)
		return !*s;
	if (*p == '%' || *p == '*') {
		for (;; s++) {
			if (glob(p + 1, pn - 1, s))
				return 1;
			if (!*s)
				return 0;
		}
	}
	if (!*s)
		return 0;
	if (*p == '_' || *p == '?' || *p == *s)
		return glob(p + 1, pn - 1, s + 1);
	return 0;
}

int sl_pattern_match(const char *pattern, const char *schema, const char *table)
{
	const char *dot = strchr(pattern, '.');

	if (!dot)
		return glob(pattern, strlen(pattern), schema);
	return glob(pattern, (size_t)(dot - pattern), schema) &&
	       glob(dot + 1, strlen(dot + 1), table);
}

int sl_patterns_match(const char *list, const char *schema, const char *table)
{
	const char *p = list;
	int any = 0;

	if (!list || !*list)
		return -1;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *one = sl_xstrndup(p, n);
		int m = n && sl_pattern_match(one, schema, table);

		free(one);
		if (m)
			return 1;
		any = 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return any ? 0 : -1;
}

int sl_table_selected(const char *include, const char *exclude, const char *schema,
		      const char *table)
{
	return sl_patterns_match(include, schema, table) != 0 &&
	       sl_patterns_match(exclude, schema, table) != 1;
}

/* A column pattern "db.table.column", each part with the wildcards above. */
static int column_pattern_match(const char *pattern, const char *schema, const char *table,
				const char *column)
{
	const char *d1 = strchr(pattern, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

	if (!d2)
		return 0;
	return glob(pattern, (size_t)(d1 - pattern), schema) &&
	       glob(d1 + 1, (size_t)(d2 - d1 - 1), table) && glob(d2 + 1, strlen(d2 + 1), column);
}

int sl_column_patterns_match(const char *list, const char *schema, const char *table,
			     const char *column)
{
	const char *p = list;

	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *one = sl_xstrndup(p, n);
		int m = n && column_pattern_match(one, schema, table, column);

		free(one);
		if (m)
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int sl_database_touched(const char *include, const char *exclude, const char *schema)
{
	const char *p;
	int in = !include || !*include, out = 0;

	for (p = include; !in && p && *p;) {
		size_t n = strcspn(p, ",");
		size_t dn = strcspn(p, ".");

		in = n && glob(p, dn < n ? dn : n, schema);
		p += n;
		p += *p == ',';
	}
	for (p = exclude; !out && p && *p;) {
		size_t n = strcspn(p, ",");
		size_t dn = strcspn(p, ".");

		/* "db", "db.%", "db.*": the whole database */
		out = n && glob(p, dn < n ? dn : n, schema) &&
		      (dn >= n || (n - dn == 2 && (p[dn + 1] == '%' || p[dn + 1] == '*')));
		p += n;
		p += *p == ',';
	}
	return in && !out;
}

/* ---- name maps (sl.h) ---- */

/* One "from=to" of a map, split into its database and table parts (t NULL
 * for a database map). 0, or -1 when it is not of that form. */
static int map_split(char *one, char **fd, char **ft, char **td, char **tt)
{
	char *eq = strchr(one, '='), *a, *b;

	if (!eq || eq == one || !eq[1] || strchr(eq + 1, '='))
		return -1;
	*eq = 0;
	a = strchr(one, '.');
	b = strchr(eq + 1, '.');
	if (!a != !b || (a && (strchr(a + 1, '.') || a == one || !a[1])) ||
	    (b && (strchr(b + 1, '.') || b == eq + 1 || !b[1])))
		return -1;
	if (a) {
		*a = 0;
		*b = 0;
	}
	*fd = one;
	*ft = a ? a + 1 : NULL;
	*td = eq + 1;
	*tt = b ? b + 1 : NULL;
	return 0;
}

int sl_map_check(const char *map, struct sl_err *err)
{
	const char *p = map;

	while (p && *p) {
		size_t n = strcspn(p, ",");
		char *one = sl_xstrndup(p, n), *fd, *ft, *td, *tt;
		int bad = map_split(one, &fd, &ft, &td, &tt);

		free(one);
		if (bad)
			return sl_err_set(err, -SL_EINVAL_ARG, "bad map entry '%.*s' (character %zu): "
					  "use SRC=DST with a database on both sides (db=db2) or a "
					  "table on both sides (db.t=db2.t2)", (int)n, p,
					  (size_t)(p - map) + 1);
		p += n;
		p += *p == ',';
	}
	return 0;
}

int sl_map_name(const char *map, int reverse, const char *schema, const char *table, char **ds,
		char **dt)
{
	const char *p = map;
	char *best_s = NULL, *best_t = NULL;
	int best = 0;		/* 1 schema map, 2 table map */

	while (p && *p) {
		size_t n = strcspn(p, ",");
		char *one = sl_xstrndup(p, n), *fd, *ft, *td, *tt;

		if (!map_split(one, &fd, &ft, &td, &tt)) {
			if (reverse) {
				char *s = fd, *t = ft;

				fd = td;
				ft = tt;
				td = s;
				tt = t;
			}
			if (ft && table && !strcmp(fd, schema) && !strcmp(ft, table)) {
				free(best_s);
				free(best_t);
				best_s = sl_xstrdup(td);
				best_t = sl_xstrdup(tt);
				best = 2;
			} else if (!ft && best < 2 && !strcmp(fd, schema)) {
				free(best_s);
				free(best_t);
				best_s = sl_xstrdup(td);
				best_t = table ? sl_xstrdup(table) : NULL;
				best = 1;
			}
		}
		free(one);
		p += n;
		p += *p == ',';
	}
	*ds = best ? best_s : sl_xstrdup(schema);
	if (dt)
		*dt = best ? best_t : table ? sl_xstrdup(table) : NULL;
	else
		free(best_t);
	return best;
}
