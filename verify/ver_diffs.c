/* ver_diffs.c - the list of differences all workers add to (guarded by its mutex). */
#include "ver_int.h"
#include "fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

void ver__diff_release(struct ver_diff *x)
{
	if (x->key) {
		for (size_t k = 0; x->t && k < x->t->nkey; k++)
			free(x->key[k]);
		free(x->key);
	}
	free(x->keylen);
	free(x->detail);
	free(x->human);
	memset(x, 0, sizeof(*x));
}

void ver__diffs_add(struct ver_diffs *d, struct ver_diff *x)
{
	pthread_mutex_lock(&d->mu);
	if (d->n >= VER_MAX_KEPT_DIFFS) {
		d->dropped++;
		pthread_mutex_unlock(&d->mu);
		ver__diff_release(x);
		return;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 64;
		d->v = sl_xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n++] = *x;
	pthread_mutex_unlock(&d->mu);
	memset(x, 0, sizeof(*x));
}

size_t ver__diffs_count(struct ver_diffs *d)
{
	size_t n;

	pthread_mutex_lock(&d->mu);
	n = d->n;
	pthread_mutex_unlock(&d->mu);
	return n;
}

void ver__diffs_release(struct ver_diffs *d)
{
	for (size_t i = 0; i < d->n; i++)
		ver__diff_release(&d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}
