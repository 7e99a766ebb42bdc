/* sl_name.c - the rule for consumer names, shared by the store (DIR/consumers/NAME), replay and verify (`sluice`.`checkpoint`). */
#include "sl.h"

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
