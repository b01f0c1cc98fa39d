/*
 * history.c - reading the segments' histories the model noted (see
 * history.h).
 */
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "util.h"

size_t history_of(const struct segment *s, const uint64_t **seqs)
{
	*seqs = s->hist;
	return s->nhist;
}

static int seq_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void history_set_init(struct history_set *hs,
		      const struct segment *const *segs, size_t n)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		total += segs[i]->nhist;
	hs->seqs = xcalloc(total ? total : 1, sizeof(*hs->seqs));
	for (size_t i = 0; i < n; i++) {
		if (segs[i]->nhist)
			memcpy(hs->seqs + k, segs[i]->hist,
			       segs[i]->nhist * sizeof(*hs->seqs));
		k += segs[i]->nhist;
	}
	if (total)
		qsort(hs->seqs, total, sizeof(*hs->seqs), seq_cmp);
	hs->n = 0;
	for (size_t i = 0; i < total; i++)
		if (!hs->n || hs->seqs[hs->n - 1] != hs->seqs[i])
			hs->seqs[hs->n++] = hs->seqs[i];
}

bool history_set_has(const struct history_set *hs, uint64_t seq)
{
	return hs->n && bsearch(&seq, hs->seqs, hs->n, sizeof(*hs->seqs),
				seq_cmp) != NULL;
}

void history_set_free(struct history_set *hs)
{
	free(hs->seqs);
	memset(hs, 0, sizeof(*hs));
}
