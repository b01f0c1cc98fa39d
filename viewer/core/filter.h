/*
 * filter.h - the one filter of dump, report, map, export and live: which
 * events, segments and processes a command shows.
 *
 *   -p, --pid PID,...     these processes (with --children: and every
 *                         process they started, by fork, vfork, spawn)
 *   --tid TID,...         events of these threads
 *   -e trace=CALL,...     these calls (strace's spelling; --call CALL,...):
 *                         a name as dump prints it ("execve", "waitpid",
 *                         "_exit") or the family ("exec", "wait", "exit")
 *   --kind KIND,...       sysv, posix, memfd, anon (and devzero), file,
 *                         sem (semaphores: none recorded yet)
 *   --segment ID|KEY|NAME a segment by shmid (decimal), key (0x hex) or
 *                         name ("/name" or "name"; a memfd's name)
 *   --since T, --until T  from / up to T after the trace started, in the
 *                         one time syntax (util.h: bare seconds, or ns,
 *                         us, ms, s, m, h, d)
 *
 * An event is shown when it passes every option given: its pid, its
 * thread, its call, its time, and (with --kind or --segment) it is in the
 * history of a chosen segment (history.h).  A segment is shown when its
 * kind and identity are chosen, it existed during [since, until], and
 * (with -p, --tid or -e) an event of its history passes those or a chosen
 * process has it attached.  A process is shown when -p chose it.
 *
 * A command puts FILTER_OPTIONS(&f) in its option table, calls
 * filter_check() after parsing, filter_resolve() once the trace (and the
 * model, when it builds one) is at hand, then asks filter_event() of each
 * event, or prunes its model with filter_model().
 */
#ifndef SHMVIEW_FILTER_H
#define SHMVIEW_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "model.h"
#include "parse-options.h"
#include "trace.h"
#include "util.h"

struct filter_ids {
	int32_t *v;
	size_t n, cap;
};

struct filter {
	/* as given */
	struct filter_ids pids, tids;
	bool children;
	bool calls_set;
	bool calls[SHMT_CALL_COUNT];     /* a whole family ("exec") */
	const char **names;              /* display names ("execvp") */
	size_t nnames, names_cap;
	unsigned kinds;                  /* 1u << seg_kind; 0: every kind */
	char **segments;                 /* --segment values */
	size_t nsegments, segments_cap;
	bool since_set, until_set;
	uint64_t since_ns, until_ns;

	/* filled by filter_resolve() */
	struct filter_ids procs;         /* -p with --children expanded */
	bool by_history;                 /* --kind / --segment chose events */
	struct history_set hist;
	struct model own;                /* the model dump had built for it */
	bool have_own;
};

/* The parse-options callbacks behind FILTER_OPTIONS (target: the filter). */
int filter_parse_pids(const char *s, void *f);
int filter_parse_tids(const char *s, void *f);
int filter_parse_trace(const char *s, void *f);
int filter_parse_calls(const char *s, void *f);
int filter_parse_kinds(const char *s, void *f);
int filter_parse_segment(const char *s, void *f);
int filter_parse_since(const char *s, void *f);
int filter_parse_until(const char *s, void *f);

/* The filter's entries of an option table (a comma-separated list of
 * entries, to put before OPT_END()). */
#define FILTER_OPTIONS(f) \
	OPT_CALLBACK('p', "pid", (f), "PID,...", filter_parse_pids, \
		     "process ids, separated by commas", \
		     "only these processes"), \
	OPT_BOOL(0, "children", &(f)->children, \
		 "with -p: the processes they started too"), \
	OPT_CALLBACK(0, "tid", (f), "TID,...", filter_parse_tids, \
		     "thread ids, separated by commas", \
		     "only the events of these threads"), \
	OPT_CALLBACK('e', NULL, (f), "trace=CALL,...", filter_parse_trace, \
		     "trace=CALL,... with calls dump prints (shmget, execve...)", \
		     "only these calls (strace's -e trace=)"), \
	OPT_CALLBACK(0, "call", (f), "CALL,...", filter_parse_calls, \
		     "calls dump prints (shmget, execve...), separated by commas", \
		     "only these calls (the long form of -e trace=)"), \
	OPT_CALLBACK(0, "kind", (f), "KIND,...", filter_parse_kinds, \
		     "sysv, posix, memfd, anon, devzero, file or sem, separated by commas", \
		     "only segments of these kinds: sysv, posix, memfd,\n" \
		     "anon, devzero, file, sem"), \
	OPT_CALLBACK(0, "segment", (f), "ID|KEY|NAME", filter_parse_segment, \
		     "a shmid, a 0x key or a name", \
		     "only this segment: a shmid, a key (0x...) or a name"), \
	OPT_CALLBACK(0, "since", (f), "TIME", filter_parse_since, \
		     TIME_SYNTAX, \
		     "only from TIME after the start (1.5 = 1.5s, 200ms...)"), \
	OPT_CALLBACK(0, "until", (f), "TIME", filter_parse_until, \
		     TIME_SYNTAX, "only up to TIME after the start")

/* Whether any filter option was given. */
bool filter_active(const struct filter *f);

/* The rule between the options ("--children goes with -p", since after
 * until): NULL when they hold together, else the message. */
const char *filter_check(const struct filter *f);

/*
 * Make `f` ready for trace `t`: expand -p by --children from the trace's
 * fork, vfork, spawn and exec events; with --kind or --segment, gather
 * the histories of the chosen segments of model `m` (NULL: filter builds
 * its own model of `t`, freed by filter_free()).  Never fails.
 */
void filter_resolve(struct filter *f, const struct trace *t,
		    const struct model *m);

/* Whether event `ev` of trace `t` is shown (after filter_resolve()). */
bool filter_event(const struct filter *f, const struct trace *t,
		  const struct trace_event *ev);

/* Whether process `pid` is shown (true without -p). */
bool filter_pid(const struct filter *f, int32_t pid);

/* Whether segment `s` of `m` is shown (after filter_resolve()). */
bool filter_segment(const struct filter *f, const struct model *m,
		    const struct segment *s);

/*
 * Keep in `m` only the segments and processes `f` shows (they are moved
 * past m->nsegments and m->nprocesses, still freed by model_free()), and
 * recount m->leaks.  Lookups by pid still find every process.
 */
void filter_model(const struct filter *f, struct model *m);

/*
 * The model a command shows: all of `t` reconciled with the kernel now
 * (model_build_now()), or with --until the trace up to then, from the
 * trace alone (the kernel knows only the present); then resolved and
 * pruned by `f` (filter_model()).  Freed with model_free().
 */
void filter_build_model(struct filter *f, struct model *m,
			const struct trace *t);

/* Whether call name `name` (as dump prints it, or a family) is known. */
bool filter_call_known(const char *name);

void filter_free(struct filter *f);

#endif /* SHMVIEW_FILTER_H */
