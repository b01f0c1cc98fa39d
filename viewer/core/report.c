/*
 * report-stack.c - the symbolized backtraces of the events worth showing
 * (who created, who removed a segment), shared by `shmview report` and
 * `shmview audit --trace` (see report.h).
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
