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
