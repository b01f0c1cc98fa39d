/*
 * report.h - what `shmview report` hands its renderers: the reconciled
 * model with the stacks worth showing (who created, who removed each
 * segment) symbolized, and its totals.
 *
 * cmd-report.c reads the trace and fills a struct report (its totals with
 * report_count_totals()); the renderers
 * (render.h: report-text.c for the audit and the exit summary,
 * report-json.c) only render it.
 */
#ifndef SHMVIEW_REPORT_H
#define SHMVIEW_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capacity.h"
#include "model.h"
#include "profile.h"
#include "symbolize.h"
#include "trace.h"

/* A symbolized backtrace of one event.  `frames` is owned by the report. */
struct report_stack {
	bool known;               /* the event was found again in the trace */
	unsigned nframes;
	bool truncated;           /* deeper frames were not recorded */
	struct sym_frame *frames;
};

/* Per segment (same index as model.segments): its two stacks. */
struct report_seg {
	struct report_stack created;   /* seg->creator's event */
	struct report_stack removed;   /* seg->remover's event */
	const char *suppressed;        /* a leak: the suppression (suppress.h)
	                                  that matched it, or NULL */
};

/* Counts over the reconciled segments. */
struct report_totals {
	uint64_t segments, by_state[SEG_STATE_COUNT];
	uint64_t created;              /* created by the trace ... */
	uint64_t created_removed;      /* ... and removed since */
	uint64_t leaked;               /* ... and leaked (model_is_leak) */
};

struct report {
	const char *path;              /* the trace file, as given */
	const struct trace *trace;
	const struct model *model;     /* built and reconciled */
	struct report_seg *segs;       /* model->nsegments entries */
	struct report_totals totals;
	struct trace_counters counters;
	int32_t main_pid;              /* the traced program, 0 if unknown */
	uint64_t suppressed;           /* leaks a suppression matched */
	struct call_profile calls;     /* the events the filter shows, by
	                                  call name, sorted */
	struct run_capacity capacity;  /* tmpfs peaks, SIGBUS deaths */
	/* the stacks of a segment that is no leak are resolved when it is
	 * rendered (report_seg), into one scratch entry: a million segments
	 * never hold a million symbolized stacks at once */
	struct sym_table *syms;
	struct report_scratch *scratch;
};

struct report_scratch {
	struct report_seg seg;
	uint64_t resolved;             /* segments resolved into it */
};

/*
 * The stacks of segment i of r->model: a leak's (and every segment's
 * when r->scratch is NULL) as resolved before rendering, the others
 * resolved now into r->scratch, valid until the next call.
 */
const struct report_seg *report_seg(const struct report *r, size_t i);

/*
 * Whether the trace holds what a leak verdict needs.  Returns NULL when it
 * does; otherwise what it lost, as words for "the trace lost ..." in buf
 * ("3 events, 12 strings"): events dropped, strings cut or lost, slots
 * abandoned, processes that turned tracing off or could not reach the
 * region.  A report then says its leaks are unknown, never "0 leaked".
 */
const char *report_lost(const struct trace_counters *c, const struct model *m,
			char *buf, size_t size);

/* One warning on stderr per loss the shim counts beside the slots
 * (tracing turned off, processes untraced, calls left by siglongjmp,
 * backtraces left out), for dump and report alike. */
void report_warn_shim_losses(const struct trace_counters *c);

/* Fill *tot with the counts over the segments of reconciled model m. */
void report_count_totals(const struct model *m, struct report_totals *tot);

/*
 * Symbolizing the stacks worth showing (report.c), for `report` and
 * `audit --trace`: with a table from sym_learn_trace(t),
 * report_resolve_stack() fills *out with the symbolized backtrace of the
 * event `ref` of model m (built from t); out->known is false when there
 * is no such event.  The caller frees out->frames.
 */
void report_resolve_stack(const struct model *m, struct sym_table *st,
			  const struct model_ref *ref, struct report_stack *out);

#endif /* SHMVIEW_REPORT_H */
