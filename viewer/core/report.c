/*
 * report.c - what a report computes from a reconciled model: its totals,
 * and the symbolized backtraces of the events worth showing (who created,
 * who removed a segment), shared by `shmview report` and `shmview audit
 * --trace` (see report.h).
 */
#include <string.h>

#include "report.h"
#include "util.h"

void report_resolve_stack(const struct model *m, struct sym_table *st,
			  const struct model_ref *ref, struct report_stack *out)
{
	const struct trace_event *ev;
	struct trace_iter it;

	memset(out, 0, sizeof(*out));
	ev = model_event(m, ref->seq, &it);
	if (!ev)
		return;
	out->known = true;
	out->nframes = ev->nframes;
	out->truncated = ev->flags & SHMT_EVF_STACK_TRUNC;
	out->frames = xcalloc(ev->nframes, sizeof(*out->frames));
	for (unsigned i = 0; i < ev->nframes; i++)
		sym_resolve(st, ev->pid, ev->seq, ev->frames[i],
			    &out->frames[i]);
}

void report_count_totals(const struct model *m, struct report_totals *tot)
{
	memset(tot, 0, sizeof(*tot));
	for (size_t i = 0; i < m->nsegments; i++) {
		const struct segment *s = m->segments[i];

		tot->segments++;
		if (s->state < SEG_STATE_COUNT)
			tot->by_state[s->state]++;
		if (!s->created)
			continue;
		tot->created++;
		tot->created_removed += s->state == SEG_REMOVED;
		tot->leaked += model_is_leak(s);
	}
}
