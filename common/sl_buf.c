/* sl_buf.c - allocation that aborts on OOM, bounded growable buffers, clocks and size/age parsing. */
#include "sl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banned.h"

static void oom(size_t n)
{
	fprintf(stderr, "sluice: out of memory allocating %zu bytes\n", n);
	abort();
}

void *sl_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *sl_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *sl_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *sl_xstrdup(const char *s)
{
	return sl_xstrndup(s, strlen(s));
}

char *sl_xstrndup(const char *s, size_t n)
{
	char *p = sl_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *sl_xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *p;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	p = sl_xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

void sl_buf_init(struct sl_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

int sl_buf_reserve(struct sl_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;

	if (extra > b->max || b->len + extra > b->max)
		return -SL_ETOOBIG;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap * 2;
	b->data = sl_xrealloc(b->data, cap);
	b->cap = cap;
	return 0;
}

int sl_buf_add(struct sl_buf *b, const void *p, size_t n)
{
	int rc = sl_buf_reserve(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int sl_buf_addc(struct sl_buf *b, uint8_t c)
{
	if (b->len + 1 >= b->cap || b->len + 1 > b->max) {
		int rc = sl_buf_reserve(b, 1);

		if (rc)
			return rc;
	}
	b->data[b->len++] = c;
	return 0;
}

int sl_buf_adds(struct sl_buf *b, const char *s)
{
	return sl_buf_add(b, s, strlen(s));
}

int sl_buf_addf(struct sl_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	int n, rc;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	rc = n < 0 ? -SL_EINVAL_ARG : sl_buf_reserve(b, (size_t)n);
	if (!rc) {
		vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
	return rc;
}

const char *sl_buf_cstr(struct sl_buf *b)
{
	if (!b->data || b->len + 1 > b->cap)
		b->data = sl_xrealloc(b->data, b->cap = b->len + 1);
	b->data[b->len] = 0;
	return (const char *)b->data;
}

void sl_buf_reset(struct sl_buf *b)
{
	b->len = 0;
}

void sl_buf_release(struct sl_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

uint8_t *sl_buf_detach(struct sl_buf *b, size_t *len)
{
	uint8_t *p = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

uint64_t sl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t sl_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The leading unsigned decimal of s; *end after it. -1 when there is none. */
static int leading_number(const char *s, unsigned long long *v, char **end)
{
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*v = strtoull(s, end, 10);
	return *end == s || errno ? -1 : 0;
}

int sl_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (leading_number(s, &v, &end))
		return -SL_EINVAL_ARG;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	default: return -SL_EINVAL_ARG;
	}
	if ((*end == 'b' || *end == 'B') && mul > 1)
		end++;
	if (*end || (v && mul > UINT64_MAX / v))
		return -SL_EINVAL_ARG;
	*out = v * mul;
	return 0;
}

int sl_parse_age(const char *s, uint64_t *seconds)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (leading_number(s, &v, &end))
		return -SL_EINVAL_ARG;
	if (!strcmp(end, "d"))
		mul = 86400;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (!strcmp(end, "m"))
		mul = 60;
	else if (*end && strcmp(end, "s"))
		return -SL_EINVAL_ARG;
	if (v && mul > UINT64_MAX / v)
		return -SL_EINVAL_ARG;
	*seconds = v * mul;
	return 0;
}
