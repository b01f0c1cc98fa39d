/*
 * annotate.c - the object behind a descriptor or an address (see
 * annotate.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotate.h"
#include "history.h"
#include "util.h"
#include "words.h"

static int pair_cmp(const void *a, const void *b)
{
	const struct annotate_pair *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->seg->index < y->seg->index ? -1 : x->seg->index > y->seg->index;
}

void annotate_init(struct annotate *a, const struct model *m)
{
	size_t total = 0;

	memset(a, 0, sizeof(*a));
	a->m = m;
	for (size_t i = 0; i < m->nsegments; i++)
		total += m->segments[i]->nhist;
	a->pairs = xcalloc(total + 1, sizeof(*a->pairs));
	for (size_t i = 0; i < m->nsegments; i++) {
		const uint64_t *seqs;
		size_t n = history_of(m->segments[i], &seqs);

		for (size_t j = 0; j < n; j++)
			a->pairs[a->n++] = (struct annotate_pair){
				seqs[j], m->segments[i] };
	}
	qsort(a->pairs, a->n, sizeof(*a->pairs), pair_cmp);
}

void annotate_free(struct annotate *a)
{
	free(a->pairs);
	memset(a, 0, sizeof(*a));
}

/* The first pair of event seq, or NULL. */
static const struct annotate_pair *first_of(const struct annotate *a,
					    uint64_t seq)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->pairs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->n && a->pairs[lo].seq == seq ? &a->pairs[lo] : NULL;
}

static void describe(const struct segment *s, char *buf, size_t size)
{
	char id[256];

	words_short_identity(s, id, sizeof(id));
	switch (s->kind) {
	case SEG_SYSV:
	case SEG_MEMFD:
		snprintf(buf, size, "%s", id);
		return;
	case SEG_POSIX:		/* the name the file system shows */
		snprintf(buf, size, "/dev/shm%s%s", id[0] == '/' ? "" : "/", id);
		return;
	default:
		snprintf(buf, size, "%s %s", model_kind_name(s->kind), id);
	}
}

bool annotate_fd(const struct annotate *a, const struct trace_event *ev,
		 char *buf, size_t size)
{
	const struct annotate_pair *p;
	uint64_t origin = 0;

	buf[0] = '\0';
	switch (ev->call) {
	case SHMT_CALL_SHM_OPEN:
	case SHMT_CALL_MEMFD_CREATE:	/* the descriptor it returns */
		origin = ev->seq + 1;
		break;
	case SHMT_CALL_MMAP:
	case SHMT_CALL_FTRUNCATE:
	case SHMT_CALL_CLOSE:
		origin = ev->args[SHMT_ARG_ORIGIN];
		break;
	}
	if (ev->call == SHMT_CALL_MMAP && ev->obj == SHMT_OBJ_DEVZERO) {
		snprintf(buf, size, "/dev/zero");
		return true;
	}
	p = origin ? first_of(a, origin - 1) : NULL;
	if (!p)
		return false;
	describe(p->seg, buf, size);
	return true;
}

/* Whether s was attached at addr in ev's process, by what the model kept
 * (every piece, with where its attach began). */
static bool attached_at(const struct segment *s, int32_t pid, uint64_t addr)
{
	for (size_t i = 0; i < s->natt; i++) {
		const struct attachment *at = s->att[i];

		if (at->proc->pid != pid)
			continue;
		if (at->origin_addr == addr ||
		    (addr >= at->addr && addr - at->addr < at->length))
			return true;
	}
	return false;
}

bool annotate_addr(const struct annotate *a, const struct trace_event *ev,
		   uint64_t addr, char *buf, size_t size)
{
	const struct annotate_pair *p = first_of(a, ev->seq), *q;

	buf[0] = '\0';
	if (!p || !addr)
		return false;
	for (q = p; q < a->pairs + a->n && q->seq == ev->seq; q++)
		if (attached_at(q->seg, ev->pid, addr)) {
			describe(q->seg, buf, size);
			return true;
		}
	return false;
}
