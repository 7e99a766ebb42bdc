/* sl_err.c - error codes, one-line error messages and sl_bug(). */
#include "sl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

const char *sl_strerror(int code)
{
	int c = code < 0 ? -code : code;

	switch (c) {
#define SL_X_(name, val, text) case val: return text;
		SL_ERRNO_MAP(SL_X_)
#undef SL_X_
	default:
		return strerror(c);
	}
}

int sl_err_set(struct sl_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	err->code = code;
	return code;
}

int sl_err_prefix(struct sl_err *err, const char *fmt, ...)
{
	char pre[SL_ERR_LEN], old[SL_ERR_LEN];
	va_list ap;

	if (!err)
		return -SL_EBUG;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", pre, old);
	return err->code;
}

void sl__bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sluice: BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
