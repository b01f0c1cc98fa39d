/*
 * report.c - what a report computes from a reconciled model: its totals,
 * and the symbolized backtraces of the events worth showing (who created,
 * who removed a segment), shared by `shmview report` and `shmview audit
 * --trace` (see report.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#include <inttypes.h>
#include "util.h"
#include "words.h"

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

const struct report_seg *report_seg(const struct report *r, size_t i)
{
	const struct segment *s = r->model->segments[i];
	struct report_scratch *sc = r->scratch;

	if (!sc || model_is_leak(s))
		return &r->segs[i];
	if (++sc->resolved % 16384 == 0)	/* bound the resident trace pages */
		trace_release_pages(r->trace);
	free(sc->seg.created.frames);
	free(sc->seg.removed.frames);
	memset(&sc->seg, 0, sizeof(sc->seg));
	sc->seg.suppressed = r->segs[i].suppressed;
	report_resolve_stack(r->model, r->syms, &s->creator, &sc->seg.created);
	if (s->marked)
		report_resolve_stack(r->model, r->syms, &s->remover, &sc->seg.removed);
	return &sc->seg;
}

/* Appends ", N what" (N > 0) to buf at *len. */
static void lost_part(char *buf, size_t size, size_t *len, uint64_t n,
		      const char *one, const char *many)
{
	if (!n || *len >= size)
		return;
	int k = snprintf(buf + *len, size - *len, "%s%" PRIu64 " %s",
			 *len ? ", " : "", n, n == 1 ? one : many);
	if (k > 0)
		*len += (size_t)k;
}

const char *report_lost(const struct trace_counters *c, const struct model *m,
			char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = 0;
	lost_part(buf, size, &len, c->dropped, "event", "events");
	lost_part(buf, size, &len, c->strings_dropped, "string", "strings");
	lost_part(buf, size, &len, m->final ? m->abandoned : 0,
		  "abandoned slot", "abandoned slots");
	lost_part(buf, size, &len, c->disabled, "process that turned tracing off",
		  "processes that turned tracing off");
	lost_part(buf, size, &len, c->untraced, "process out of its reach",
		  "processes out of its reach");
	if (c->damaged && len < size) {
		int k = snprintf(buf + len, size - len, "%sthe region's header (a "
				 "program wrote over it)", len ? ", " : "");
		if (k > 0)
			len += (size_t)k;
	}
	return len ? buf : NULL;
}

void report_warn_shim_losses(const struct trace_counters *c)
{
	if (c->damaged)
		warning("a traced program wrote over the trace region's header: "
			"loss counts and events written after it may be missing");
	if (c->disabled)
		warning("%" PRIu64 " process%s turned tracing off (unmapped or "
			"mapped over the trace region): later events lost",
			c->disabled, c->disabled == 1 ? "" : "es");
	if (c->untraced)
		warning("%" PRIu64 " process%s could not reach the trace region "
			"and ran untraced", c->untraced, c->untraced == 1 ? "" : "es");
	if (c->nest_lost)
		warning("%" PRIu64 " call%s left by siglongjmp out of a signal "
			"handler: not recorded", c->nest_lost,
			words_plural(c->nest_lost));
	if (c->stacks_no_room)
		warning("%" PRIu64 " backtrace%s left out: too little stack "
			"(a small signal stack)", c->stacks_no_room,
			words_plural(c->stacks_no_room));
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
