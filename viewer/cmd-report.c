/*
 * cmd-report.c - `shmview report`: the leak audit of a trace.
 *
 * Builds the model of the whole trace, reconciles it with what the kernel
 * says now (a segment still there once every traced process has ended is
 * a leak), symbolizes the stacks of the events that created and removed
 * each segment, and hands the result to one renderer: the full text audit,
 * one JSON object, or the short valgrind-like summary the launcher prints
 * at exit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "filter.h"
#include "model.h"
#include "parse-options.h"
#include "profile.h"
#include "render.h"
#include "report.h"
#include "suppress.h"
#include "symbolize.h"
#include "trace.h"
#include "util.h"
#include "words.h"

static const struct parse_command report_cmdline = {
	SHMVIEW_COMMAND("report"),
	.usage = "shmview report [--json | --summary] [--error-exitcode=N]\n"
		 "               [--suppressions=FILE]... [FILTER...] TRACE\n"
		 "shmview report --gen-suppressions [FILTER...] TRACE",
	.description =
		"Audit TRACE: every segment with its lifetime and attachments, the\n"
		"process tree, a profile of the calls, and the segments the run leaked\n"
		"(checked against /proc/sysvipc/shm and /dev/shm now).",
	.args_name = "TRACE", .min_args = 1, .max_args = 1,
};

enum report_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_SUMMARY, FORMAT_SUPP };

struct report_options {
	enum report_format format;
	int error_exitcode;     /* 0: leaks do not change the status */
	struct filter filter;
	const char **supp_files;
	size_t nsupp, supp_cap;
};

static int add_supp_file(const char *s, void *target)
{
	struct report_options *o = target;

	XGROW(o->supp_files, o->nsupp, o->supp_cap, 4);
	o->supp_files[o->nsupp++] = s;
	return 0;
}

/* Returns 0 with *o and *path set, 1 after --help, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct report_options *o,
			 const char **path)
{
	bool json = false, summary = false, gen = false;
	const struct parse_opt opts[] = {
		OPT_BOOL(0, "json", &json, "one JSON object instead of text"),
		OPT_BOOL(0, "summary", &summary,
			 "only the short summary the launcher prints at exit"),
		OPT_INT(0, "error-exitcode", &o->error_exitcode, "N", 1, 255,
			"1 to 255", "exit with status N when a segment leaked\n"
			"(one a suppression matched does not count)"),
		OPT_INT(0, "leak-exit", &o->error_exitcode, "N", 1, 255,
			"1 to 255", "the old name of --error-exitcode"),
		OPT_CALLBACK(0, "suppressions", o, "FILE", add_supp_file,
			     "a file", "leaks FILE suppresses do not count\n"
			     "(may be given again; the format: shmview(1))"),
		OPT_BOOL(0, "gen-suppressions", &gen,
			 "print a suppression for each leak, ready to paste"),
		FILTER_OPTIONS(&o->filter),
		OPT_END(),
	};
	char **args;
	int rc = parse_cmdline(&report_cmdline, opts, argc, argv, &args);

	if (rc)
		return rc;
	if (json + summary + gen > 1)
		return parse_cmdline_error(&report_cmdline, "--json, --summary "
					   "and --gen-suppressions exclude each other");
	if (filter_check(&o->filter))
		return parse_cmdline_error(&report_cmdline, "%s",
					   filter_check(&o->filter));
	o->format = json ? FORMAT_JSON : summary ? FORMAT_SUMMARY :
		    gen ? FORMAT_SUPP : FORMAT_TEXT;
	*path = args[0];
	return 0;
}

/* --- symbolizing the stacks worth showing ------------------------------- */

/* The stacks of the leaks, which suppressions match, now; the others'
 * when they are rendered (report_seg).  The summary shows the stacks of
 * leaks only: with no leak, no ELF file is opened at all. */
static void resolve_stacks(struct report *r, struct sym_table *st,
			   bool leaks_only)
{
	const struct model *m = r->model;

	r->segs = xcalloc(m->nsegments, sizeof(*r->segs));
	r->syms = st;
	r->scratch = leaks_only ? NULL : xcalloc(1, sizeof(*r->scratch));
	for (size_t i = 0; i < m->nsegments; i++) {
		const struct segment *s = m->segments[i];

		if (!model_is_leak(s))
			continue;
		report_resolve_stack(m, st, &s->creator, &r->segs[i].created);
		if (s->marked)
			report_resolve_stack(m, st, &s->remover,
					     &r->segs[i].removed);
	}
}

static void free_stack_pair(struct report_seg *rs)
{
	free(rs->created.frames);
	free(rs->removed.frames);
}

static void free_stacks(struct report *r)
{
	for (size_t i = 0; r->segs && i < r->model->nsegments; i++)
		free_stack_pair(&r->segs[i]);
	if (r->scratch)
		free_stack_pair(&r->scratch->seg);
	free(r->scratch);
	free(r->segs);
}

/* --- the report ---------------------------------------------------------- */

/*
 * The traced program: under the launcher, the process the launcher
 * started (its exec names the launcher as parent); preloaded by hand, the
 * first traced process, which created the trace.
 */
static int32_t main_pid(const struct model *m, const struct trace *t)
{
	const struct process *p;

	for (size_t i = 0; i < m->nprocesses; i++) {
		p = m->processes[i];
		if ((t->flags & SHMT_HF_LAUNCHER) &&
		    (uint64_t)p->ppid == t->creator_pid)
			return p->pid;
	}
	p = model_process(m, (int32_t)t->creator_pid);
	if (p && p->traced)
		return p->pid;
	return m->nprocesses ? m->processes[0]->pid : 0;
}

/* The text audit says this in its header; the other formats on stderr. */
static void warn_losses(const struct report *r)
{
	const struct trace_counters *c = &r->counters;
	const struct model *m = r->model;

	if (c->dropped)
		warning("%" PRIu64 " event%s dropped: the trace region was "
			"full, this report may be wrong", c->dropped,
			words_plural(c->dropped));
	if (m->abandoned && m->final)
		warning("%" PRIu64 " slot%s abandoned: %s", m->abandoned,
			words_plural(m->abandoned), words_abandoned_why);
	if (m->corrupt)
		warning("%" PRIu64 " corrupt slot%s skipped", m->corrupt,
			words_plural(m->corrupt));
	if (c->strings_dropped)
		warning("%" PRIu64 " string%s cut or lost: the string arena "
			"was full (use --size)", c->strings_dropped,
			words_plural(c->strings_dropped));
	report_warn_shim_losses(c);
	if (c->capacity_lost)
		warning("%" PRIu64 " capacity record%s of the launcher lost "
			"(the region was full): no tmpfs figures", c->capacity_lost,
			words_plural(c->capacity_lost));
}

/* --gen-suppressions: a block per leak no suppression matched yet. */
static void gen_suppressions(FILE *out, const struct report *r)
{
	const struct model *m = r->model;
	const struct process *p = model_process(m, r->main_pid);
	const char *prog = p && p->exe ? words_base_name(p->exe) : "prog";
	char name[300];
	unsigned n = 0;

	for (size_t i = 0; i < m->nsegments; i++) {
		const struct segment *s = m->segments[i];

		if (!model_is_leak(s) || r->segs[i].suppressed)
			continue;
		snprintf(name, sizeof(name), "%s-%s-leak-%u", prog,
			 model_kind_name(s->kind), ++n);
		suppress_write(out, name, s, &r->segs[i].created);
	}
}

/* Mark the leaks a suppression matches (their stacks resolved). */
static void apply_suppressions(struct report *r, struct suppressions *supp)
{
	const struct model *m = r->model;

	for (size_t i = 0; supp->n && i < m->nsegments; i++) {
		const struct suppression *sp;

		if (!model_is_leak(m->segments[i]))
			continue;
		sp = suppress_match(supp, m->segments[i], &r->segs[i].created);
		if (!sp)
			continue;
		r->segs[i].suppressed = sp->name;
		r->suppressed++;
	}
}

static void render(const struct report *r, enum report_format f)
{
	switch (f) {
	case FORMAT_TEXT:
		report_text(stdout, r);
		break;
	case FORMAT_JSON:
		warn_losses(r);
		report_json(stdout, r);
		break;
	case FORMAT_SUMMARY:
		warn_losses(r);
		report_summary(stdout, r);
		break;
	case FORMAT_SUPP:
		warn_losses(r);
		gen_suppressions(stdout, r);
		break;
	}
}

/* The profile's call table: the events the filter shows. */
static void count_calls(struct report *r, const struct filter *f)
{
	struct trace_iter it;
	const struct trace_event *ev;

	trace_iter_init(&it, r->trace);
	while ((ev = trace_iter_next(&it)))
		if (filter_event(f, r->trace, ev))
			profile_add(&r->calls, ev);
	profile_sort(&r->calls);
}

static int report(const char *path, struct report_options *o)
{
	struct model m = { 0 };
	struct report r = { 0 };
	struct suppressions supp = { 0 };
	struct sym_table *st;
	struct trace t;
	int rc = 0;

	for (size_t i = 0; i < o->nsupp; i++)
		if (suppress_load(&supp, o->supp_files[i]) < 0) {
			suppress_free(&supp);
			return 1;
		}
	if (trace_open(path, &t) < 0) {
		suppress_free(&supp);
		return 1;
	}
	filter_build_model(&o->filter, &m, &t);
	r.path = path;
	r.trace = &t;
	r.model = &m;
	trace_counters(&t, &r.counters);
	r.main_pid = main_pid(&m, &t);
	report_count_totals(&m, &r.totals);
	if (o->format != FORMAT_SUMMARY)
		count_calls(&r, &o->filter);
	run_capacity_build(&r.capacity, &t, &m);
	st = sym_learn_trace(&t);
	resolve_stacks(&r, st, o->format == FORMAT_SUMMARY ||
			   o->format == FORMAT_SUPP);
	apply_suppressions(&r, &supp);
	render(&r, o->format);
	free_stacks(&r);
	run_capacity_free(&r.capacity);
	sym_free(st);
	char lost[256];
	if (rc == 0 && o->error_exitcode && (m.leaks > r.suppressed ||
	    report_lost(&r.counters, &m, lost, sizeof(lost))))
		rc = o->error_exitcode;	/* an unknown verdict is no pass */
	suppress_free(&supp);
	model_free(&m);
	trace_close(&t);
	return rc < 0 ? 1 : rc;
}

int cmd_report(int argc, char **argv)
{
	struct report_options o = { .format = FORMAT_TEXT };
	const char *path = NULL;
	int rc = parse_options(argc, argv, &o, &path);

	if (rc == 0)
		rc = report(path, &o);
	else
		rc = rc > 0 ? 0 : EXIT_USAGE;
	filter_free(&o.filter);
	free(o.supp_files);
	return rc;
}
