/*
 * profile.c - the calls of a trace counted by name (see profile.h).
 */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "profile.h"

static struct profile_row *row_of(struct call_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->rows[i].name == name || strcmp(p->rows[i].name, name) == 0)
			return &p->rows[i];
	if (p->n == PROFILE_MAX_ROWS)	/* cannot happen: the names are few */
		return NULL;
	p->rows[p->n].name = name;
	return &p->rows[p->n++];
}

static void count(struct profile_row *r, const struct trace_event *ev,
		  bool failed)
{
	r->calls++;
	r->errors += failed;
	r->total_ns += ev->duration_ns;
	if (ev->duration_ns > r->max_ns)
		r->max_ns = ev->duration_ns;
}

void profile_add(struct call_profile *p, const struct trace_event *ev)
{
	struct decode_view v;
	struct profile_row *r;

	if (decode_is_record(ev->call))	/* not a call: the tracer's own note */
		return;
	decode_event(ev, &v);
	r = row_of(p, v.name);
	if (!r)
		return;
	count(r, ev, v.failed);
	p->total.name = "total";
	count(&p->total, ev, v.failed);
}

static int row_cmp(const void *a, const void *b)
{
	const struct profile_row *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	return strcmp(x->name, y->name);
}

void profile_sort(struct call_profile *p)
{
	qsort(p->rows, p->n, sizeof(p->rows[0]), row_cmp);
}

double profile_share(const struct call_profile *p, const struct profile_row *r)
{
	return p->total.total_ns ?
		100.0 * (double)r->total_ns / (double)p->total.total_ns : 0;
}

uint64_t profile_avg_ns(const struct profile_row *r)
{
	return r->calls ? r->total_ns / r->calls : 0;
}
