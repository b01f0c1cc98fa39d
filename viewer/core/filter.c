/*
 * filter.c - the filter every command that reads a trace shares (see
 * filter.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "filter.h"
#include "util.h"

/* --- parsing ------------------------------------------------------------- */

static bool ids_has(const struct filter_ids *ids, int32_t v)
{
	for (size_t i = 0; i < ids->n; i++)
		if (ids->v[i] == v)
			return true;
	return false;
}

static void ids_add(struct filter_ids *ids, int32_t v)
{
	if (ids_has(ids, v))
		return;
	XGROW(ids->v, ids->n, ids->cap, 8);
	ids->v[ids->n++] = v;
}

/*
 * Calls fn(piece, target) for each comma-separated piece of s; -1 when s
 * is empty, a piece is empty, or fn refuses one.
 */
static int each_piece(const char *s, int (*fn)(const char *, void *),
		      void *target)
{
	char *copy, *p, *save = NULL;
	int rc = 0;

	if (!*s || s[strlen(s) - 1] == ',' || *s == ',' || strstr(s, ",,"))
		return -1;
	copy = xstrdup(s);
	for (p = strtok_r(copy, ",", &save); p && !rc;
	     p = strtok_r(NULL, ",", &save))
		rc = fn(p, target);
	free(copy);
	return rc;
}

static int parse_id(const char *s, int32_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > INT_MAX || *s == '+')
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int add_pid(const char *s, void *target)
{
	struct filter *f = target;
	int32_t v;

	if (parse_id(s, &v))
		return -1;
	ids_add(&f->pids, v);
	return 0;
}

static int add_tid(const char *s, void *target)
{
	struct filter *f = target;
	int32_t v;

	if (parse_id(s, &v))
		return -1;
	ids_add(&f->tids, v);
	return 0;
}

int filter_parse_pids(const char *s, void *f)
{
	return each_piece(s, add_pid, f);
}

int filter_parse_tids(const char *s, void *f)
{
	return each_piece(s, add_tid, f);
}

static int add_call(const char *s, void *target)
{
	struct filter *f = target;
	bool family;
	int call = decode_call_by_name(s, &family);

	if (call < 0)
		return -1;
	f->calls_set = true;
	if (family) {
		f->calls[call] = true;
		return 0;
	}
	XGROW(f->names, f->nnames, f->names_cap, 4);
	f->names[f->nnames++] = xstrdup(s);
	return 0;
}

int filter_parse_calls(const char *s, void *f)
{
	return each_piece(s, add_call, f);
}

int filter_parse_trace(const char *s, void *f)
{
	/* strace takes "-e trace=shmget" and "-e shmget" alike */
	if (strncmp(s, "trace=", 6) == 0)
		s += 6;
	return filter_parse_calls(s, f);
}

bool filter_call_known(const char *name)
{
	bool family;

	return decode_call_by_name(name, &family) >= 0;
}

static int add_kind(const char *s, void *target)
{
	struct filter *f = target;

	for (unsigned k = 0; k < SEG_KIND_COUNT; k++) {
		if (strcmp(s, model_kind_name(k)) != 0)
			continue;
		f->kinds |= 1u << k;
		/* a shared mapping of /dev/zero is an anonymous one to the
		 * kernel */
		if (k == SEG_ANON)
			f->kinds |= 1u << SEG_DEVZERO;
		return 0;
	}
	return -1;
}

int filter_parse_kinds(const char *s, void *f)
{
	return each_piece(s, add_kind, f);
}

int filter_parse_segment(const char *s, void *target)
{
	struct filter *f = target;

	if (!*s)
		return -1;
	XGROW(f->segments, f->nsegments, f->segments_cap, 4);
	f->segments[f->nsegments++] = xstrdup(s);
	return 0;
}

int filter_parse_since(const char *s, void *target)
{
	struct filter *f = target;

	if (parse_time_ns(s, &f->since_ns))
		return -1;
	f->since_set = true;
	return 0;
}

int filter_parse_until(const char *s, void *target)
{
	struct filter *f = target;

	if (parse_time_ns(s, &f->until_ns))
		return -1;
	f->until_set = true;
	return 0;
}

bool filter_active(const struct filter *f)
{
	return f->pids.n || f->tids.n || f->calls_set || f->kinds ||
	       f->nsegments || f->since_set || f->until_set;
}

const char *filter_check(const struct filter *f)
{
	if (f->children && !f->pids.n)
		return "--children goes with -p/--pid";
	if (f->since_set && f->until_set && f->since_ns > f->until_ns)
		return "--since is after --until";
	return NULL;
}

/* --- resolving ----------------------------------------------------------- */

struct edge {
	int32_t parent, child;
};

/* The parent-child pair event ev records, if any. */
static bool edge_of(const struct trace_event *ev, struct edge *e)
{
	switch (ev->call) {
	case SHMT_CALL_FORK:
		if (ev->flags & SHMT_EVF_CHILD) {
			*e = (struct edge){ (int32_t)ev->args[SHMT_ARG_FORK_PPID],
					    ev->pid };
			return true;
		}
		/* fall through */
	case SHMT_CALL_VFORK:
		*e = (struct edge){ ev->pid, (int32_t)ev->ret };
		return ev->ret > 0;
	case SHMT_CALL_POSIX_SPAWN:
		*e = (struct edge){ ev->pid,
				    (int32_t)ev->args[SHMT_ARG_SPAWN_PID] };
		return ev->ret == 0 && e->child > 0;
	case SHMT_CALL_EXEC:
		*e = (struct edge){ (int32_t)ev->args[SHMT_ARG_EXEC_PPID],
				    ev->pid };
		return (ev->flags & SHMT_EVF_START) && e->parent > 0;
	default:
		return false;
	}
}

/* -p and every descendant: the closure of the trace's parent-child
 * pairs (slots are taken when calls return, so a child's events may come
 * before its parent's fork: collect first, then close). */
static void expand_children(struct filter *f, const struct trace *t)
{
	struct edge *edges = NULL, e;
	size_t n = 0, cap = 0;
	struct trace_iter it;
	const struct trace_event *ev;
	bool grew = true;

	trace_iter_init(&it, t);
	while ((ev = trace_iter_next(&it)))
		if (edge_of(ev, &e)) {
			XGROW(edges, n, cap, 64);
			edges[n++] = e;
		}
	while (grew) {
		grew = false;
		for (size_t i = 0; i < n; i++)
			if (ids_has(&f->procs, edges[i].parent) &&
			    !ids_has(&f->procs, edges[i].child)) {
				ids_add(&f->procs, edges[i].child);
				grew = true;
			}
	}
	free(edges);
}

static bool name_matches(const char *want, const char *name)
{
	if (!name)
		return false;
	if (strcmp(want, name) == 0)
		return true;
	/* "/name" and "name" are one POSIX object */
	return (want[0] == '/' && strcmp(want + 1, name) == 0) ||
	       (name[0] == '/' && strcmp(name + 1, want) == 0);
}

/* --segment VALUE: a shmid, a key, or a name. */
static bool segment_matches(const char *want, const struct segment *s)
{
	char *end;
	unsigned long long v;

	if (strncmp(want, "0x", 2) == 0 || strncmp(want, "0X", 2) == 0) {
		errno = 0;
		v = strtoull(want + 2, &end, 16);
		if (!errno && end != want + 2 && !*end)
			return s->kind == SEG_SYSV && s->key == v;
	}
	if (want[strspn(want, "0123456789")] == '\0')
		return s->kind == SEG_SYSV && s->shmid == atoi(want);
	return name_matches(want, s->name);
}

/* Kind, identity and time: what a segment is, apart from who used it. */
static bool segment_itself(const struct filter *f, const struct segment *s)
{
	bool any = !f->nsegments;

	if (f->kinds && !(f->kinds & (1u << s->kind)))
		return false;
	for (size_t i = 0; i < f->nsegments && !any; i++)
		any = segment_matches(f->segments[i], s);
	if (!any)
		return false;
	if (f->since_set && s->destroyed && s->destroyed_ns < f->since_ns)
		return false;
	return !(f->until_set && s->created_ns > f->until_ns);
}

static void gather_history(struct filter *f, const struct model *m)
{
	const struct segment **chosen = xcalloc(m->nsegments + 1,
						sizeof(*chosen));
	size_t n = 0;

	for (size_t i = 0; i < m->nsegments; i++)
		if (segment_itself(f, m->segments[i]))
			chosen[n++] = m->segments[i];
	history_set_init(&f->hist, chosen, n);
	free(chosen);
}

void filter_resolve(struct filter *f, const struct trace *t,
		    const struct model *m)
{
	f->procs.n = 0;
	history_set_free(&f->hist);	/* live resolves at each refresh */
	if (f->have_own) {
		model_free(&f->own);
		f->have_own = false;
	}
	for (size_t i = 0; i < f->pids.n; i++)
		ids_add(&f->procs, f->pids.v[i]);
	if (f->children && t)
		expand_children(f, t);
	f->by_history = f->kinds || f->nsegments;
	if (!f->by_history)
		return;
	if (!m && t) {
		model_build(&f->own, t, UINT64_MAX);
		f->have_own = true;
		m = &f->own;
	}
	if (m)
		gather_history(f, m);
}

/* --- deciding ------------------------------------------------------------ */

bool filter_pid(const struct filter *f, int32_t pid)
{
	return !f->pids.n || ids_has(&f->procs, pid);
}

static bool call_chosen(const struct filter *f, const struct trace_event *ev)
{
	if (!f->calls_set || f->calls[ev->call])
		return true;
	for (size_t i = 0; i < f->nnames; i++)
		if (strcmp(f->names[i], decode_display_name(ev)) == 0)
			return true;
	return false;
}

/* Who, which call and when: everything but the segment. */
static bool event_itself(const struct filter *f, const struct trace *t,
			 const struct trace_event *ev)
{
	int64_t rel;

	if (!filter_pid(f, ev->pid))
		return false;
	if (f->tids.n && !ids_has(&f->tids, ev->tid))
		return false;
	if (!call_chosen(f, ev))
		return false;
	if (!f->since_set && !f->until_set)
		return true;
	rel = trace_event_reltime(t, ev);
	if (f->since_set && (rel < 0 || (uint64_t)rel < f->since_ns))
		return false;
	return !(f->until_set && rel > 0 && (uint64_t)rel > f->until_ns);
}

bool filter_event(const struct filter *f, const struct trace *t,
		  const struct trace_event *ev)
{
	if (!event_itself(f, t, ev))
		return false;
	return !f->by_history || history_set_has(&f->hist, ev->seq);
}

/* With -p, --tid or -e: did a chosen process or call touch it? */
static bool segment_used(const struct filter *f, const struct model *m,
			 const struct segment *s)
{
	const uint64_t *seqs;
	size_t n = history_of(s, &seqs);
	struct trace_iter it;

	if (!f->pids.n && !f->tids.n && !f->calls_set)
		return true;
	for (size_t i = 0; f->pids.n && !f->tids.n && !f->calls_set &&
			   i < s->natt; i++)
		if (ids_has(&f->procs, s->att[i]->proc->pid))
			return true;
	for (size_t i = 0; m->trace && i < n; i++) {
		const struct trace_event *ev = model_event(m, seqs[i], &it);

		if (ev && event_itself(f, m->trace, ev))
			return true;
	}
	return false;
}

bool filter_segment(const struct filter *f, const struct model *m,
		    const struct segment *s)
{
	return segment_itself(f, s) && segment_used(f, m, s);
}

/* Keep the chosen ones first, in order; the others after n. */
static size_t partition(void **v, size_t n, const bool *keep)
{
	void **tmp = xcalloc(n + 1, sizeof(*tmp));
	size_t k = 0, h = 0, kept = 0;

	for (size_t i = 0; i < n; i++)
		kept += keep[i];
	for (size_t i = 0; i < n; i++)
		tmp[keep[i] ? k++ : kept + h++] = v[i];
	memcpy(v, tmp, n * sizeof(*v));
	free(tmp);
	return kept;
}

void filter_model(const struct filter *f, struct model *m)
{
	size_t ns = m->nsegments, np = m->nprocesses;
	bool *keep = xcalloc((ns > np ? ns : np) + 1, sizeof(*keep));

	if (!filter_active(f)) {
		free(keep);
		return;
	}
	m->leaks = 0;
	for (size_t i = 0; i < ns; i++) {
		keep[i] = filter_segment(f, m, m->segments[i]);
		m->leaks += keep[i] && model_is_leak(m->segments[i]);
	}
	m->nsegments = partition((void **)m->segments, ns, keep);
	m->hidden_segments += ns - m->nsegments;
	for (size_t i = 0; i < m->nsegments; i++)
		m->segments[i]->index = (unsigned)i;
	for (size_t i = 0; i < np; i++)
		keep[i] = filter_pid(f, m->processes[i]->pid);
	m->nprocesses = partition((void **)m->processes, np, keep);
	m->hidden_processes += np - m->nprocesses;
	for (size_t i = 0; i < m->nprocesses; i++)
		m->processes[i]->index = (unsigned)i;
	free(keep);
}

void filter_build_model(struct filter *f, struct model *m,
			const struct trace *t)
{
	if (f->until_set) {
		model_build(m, t, f->until_ns);
		model_reconcile(m, NULL);
	} else {
		model_build_now(m, t);
	}
	filter_resolve(f, t, m);
	filter_model(f, m);
}

void filter_free(struct filter *f)
{
	free(f->pids.v);
	free(f->tids.v);
	free(f->procs.v);
	for (size_t i = 0; i < f->nnames; i++)
		free((char *)f->names[i]);
	free(f->names);
	for (size_t i = 0; i < f->nsegments; i++)
		free(f->segments[i]);
	free(f->segments);
	history_set_free(&f->hist);
	if (f->have_own)
		model_free(&f->own);
	memset(f, 0, sizeof(*f));
}
