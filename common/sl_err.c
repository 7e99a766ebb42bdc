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
	char old[SL_ERR_LEN];
	va_list ap;
	int n;

	if (!err)
		return -SL_EBUG;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n + 2 < sizeof(err->msg)) {
		size_t room = sizeof(err->msg) - (size_t)n - 2, ol = strlen(old);

		memcpy(err->msg + n, ": ", 2);
		if (ol > room - 1)
			ol = room - 1;
		memcpy(err->msg + n + 2, old, ol);
		err->msg[(size_t)n + 2 + ol] = 0;
	}
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
