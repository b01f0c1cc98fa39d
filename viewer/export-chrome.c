/*
 * export-chrome.c - the renderer of `shmview export --format chrome`: a
 * model as Chrome's trace-event JSON, which Perfetto and chrome://tracing
 * open.
 *
 *   one track per segment for its lifetime (synthetic process "shared
 *   memory segments", one thread per segment),
 *   per process: its lifetime, and one track per segment it attached
 *   holding its attach intervals,
 *   an instant event for every failed call, on the thread that made it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "filter.h"
#include "json.h"
#include "model.h"
#include "json-model.h"
#include "render.h"
#include "report.h"
#include "util.h"
#include "words.h"

#define SEGMENTS_PID 0x7fffffff     /* the synthetic process of segments */
#define LANE_BASE 1000000000        /* tid of a process's segment lane */

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void event_head(struct json_writer *w, const char *ph, const char *name,
		       int64_t pid, int64_t tid)
{
	json_begin_object(w);
	json_member_string(w, "ph", ph);
	json_member_string(w, "name", name);
	json_member_int(w, "pid", pid);
	json_member_int(w, "tid", tid);
}

/* Chrome's times are microseconds; keep the nanoseconds as decimals. */
static void put_ts(struct json_writer *w, const char *key, uint64_t ns)
{
	json_key(w, key);
	json_fixed3(w, us(ns));
}

static void metadata(struct json_writer *w, const char *what, int64_t pid,
		     int64_t tid, const char *name)
{
	event_head(w, "M", what, pid, tid);
	json_key(w, "args");
	json_begin_object(w);
	json_member_string(w, "name", name);
	json_end_object(w);
	json_end_object(w);
}

static void span(struct json_writer *w, const char *name, int64_t pid,
		 int64_t tid, uint64_t from, uint64_t to)
{
	event_head(w, "X", name, pid, tid);
	put_ts(w, "ts", from);
	put_ts(w, "dur", to > from ? to - from : 0);
}

static void segment_track(struct json_writer *w, const struct model *m,
			  const struct segment *s)
{
	char name[256];
	words_identity(s, name, sizeof(name));
	metadata(w, "thread_name", SEGMENTS_PID, s->index + 1, name);
	uint64_t end = s->destroyed ? s->destroyed_ns : m->until_ns;
	span(w, name, SEGMENTS_PID, s->index + 1, s->created_ns, end);
	json_key(w, "args");
	json_begin_object(w);
	json_member_string(w, "state", model_state_name(s->state));
	json_member_uint(w, "size", s->size);
	json_member_int(w, "creator_pid", s->creator.pid);
	json_end_object(w);
	json_end_object(w);
	if (s->marked) {
		event_head(w, "i", "marked for removal", SEGMENTS_PID, s->index + 1);
		put_ts(w, "ts", s->marked_ns);
		json_member_string(w, "s", "t");
		json_end_object(w);
	}
}

static void attach_span(struct json_writer *w, const struct model *m,
			const struct attachment *a)
{
	char name[300], id[256];
	words_identity(a->seg, id, sizeof(id));
	snprintf(name, sizeof(name), "%s %s", a->readonly ? "ro" : "rw", id);
	span(w, name, a->proc->pid, LANE_BASE + a->seg->index,
	     a->attached_ns, a->live ? m->until_ns : a->detached_ns);
	json_key(w, "args");
	json_begin_object(w);
	json_member_hex(w, "addr", a->addr);
	json_member_uint(w, "length", a->length);
	json_member_string(w, "how", model_how_name(a->how));
	json_end_object(w);
	json_end_object(w);
}

/*
 * Every attachment of the run grouped by process, each group in segment
 * order: one pass over the segments, so the export stays linear in the
 * attachments however many processes the run had.
 */
struct attach_index {
	size_t *first;                    /* per process index, +1 at the end */
	const struct attachment **att;
};

/* Is `p` one of the processes shown (filter_model() moves the others
 * past nprocesses, their index stale)? */
static bool shown(const struct model *m, const struct process *p)
{
	return p->index < m->nprocesses && m->processes[p->index] == p;
}

static void attach_index_build(struct attach_index *ix, const struct model *m)
{
	size_t total = 0;
	ix->first = xcalloc(m->nprocesses + 1, sizeof(*ix->first));
	for (size_t i = 0; i < m->nsegments; i++)
		for (size_t j = 0; j < m->segments[i]->natt; j++)
			if (shown(m, m->segments[i]->att[j]->proc)) {
				ix->first[m->segments[i]->att[j]->proc->index + 1]++;
				total++;
			}
	for (size_t p = 0; p < m->nprocesses; p++)
		ix->first[p + 1] += ix->first[p];
	size_t *fill = xcalloc(m->nprocesses + 1, sizeof(*fill));
	memcpy(fill, ix->first, (m->nprocesses + 1) * sizeof(*fill));
	ix->att = xcalloc(total ? total : 1, sizeof(*ix->att));
	for (size_t i = 0; i < m->nsegments; i++)
		for (size_t j = 0; j < m->segments[i]->natt; j++) {
			const struct attachment *a = m->segments[i]->att[j];
			if (shown(m, a->proc))
				ix->att[fill[a->proc->index]++] = a;
		}
	free(fill);
}

static void attach_index_free(struct attach_index *ix)
{
	free(ix->first);
	free(ix->att);
}

static void process_tracks(struct json_writer *w, const struct model *m,
			   const struct attach_index *ix, const struct process *p)
{
	char name[512];
	snprintf(name, sizeof(name), "%s (%d)", words_base_name(p->exe), p->pid);
	metadata(w, "process_name", p->pid, p->pid, name);
	metadata(w, "thread_name", p->pid, p->pid, "lifetime and failed calls");
	span(w, name, p->pid, p->pid, p->start_ns, p->ended ? p->end_ns : m->until_ns);
	json_end_object(w);
	/* one lane per segment this process attached */
	const struct segment *named = NULL;
	for (size_t k = ix->first[p->index]; k < ix->first[p->index + 1]; k++) {
		const struct attachment *a = ix->att[k];
		if (a->seg != named) {
			char id[256];
			words_identity(a->seg, id, sizeof(id));
			metadata(w, "thread_name", p->pid, LANE_BASE + a->seg->index, id);
			named = a->seg;
		}
		attach_span(w, m, a);
	}
}

static void failed_calls(struct json_writer *w, const struct model *m,
			 const struct filter *f)
{
	struct trace_iter it;
	const struct trace_event *ev;
	trace_iter_init(&it, m->trace);
	while ((ev = trace_iter_next(&it))) {
		struct decode_view v;
		char name[128];
		decode_event(ev, &v);
		if (!v.failed || (f && !filter_event(f, m->trace, ev)))
			continue;
		const char *e = decode_errno_name(v.errnum);
		snprintf(name, sizeof(name), "%s failed: %s", v.name, e ? e : "?");
		event_head(w, "i", name, ev->pid, ev->tid);
		put_ts(w, "ts", (uint64_t)trace_event_reltime(m->trace, ev));
		json_member_string(w, "s", "t");
		json_end_object(w);
	}
}

void export_chrome(FILE *out, const struct model *m, const struct filter *f)
{
	struct json_writer w;
	json_begin_document(&w, out);
	json_model_trace_start(&w, m->trace);
	json_member_string(&w, "displayTimeUnit", "ns");
	json_key(&w, "traceEvents");
	json_begin_array(&w);
	metadata(&w, "process_name", SEGMENTS_PID, 0, "shared memory segments");
	for (size_t i = 0; i < m->nsegments; i++)
		segment_track(&w, m, m->segments[i]);
	struct attach_index ix;
	attach_index_build(&ix, m);
	for (size_t i = 0; i < m->nprocesses; i++)
		process_tracks(&w, m, &ix, m->processes[i]);
	attach_index_free(&ix);
	failed_calls(&w, m, f);
	json_end_array(&w);
	json_end_document(&w);
}
