/*
 * cmd-dump.c - `shmview dump`: print every event of a trace.
 *
 * Streams: one pass to learn the modules when stacks are symbolized, one
 * pass to render; memory stays constant apart from the module tables and
 * the symbol caches.  After the events, every kind of loss the trace
 * records is reported on stderr, so nothing is lost silently.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "annotate.h"
#include "decode.h"
#include "filter.h"
#include "model.h"
#include "parse-options.h"
#include "profile.h"
#include "render.h"
#include "report.h"
#include "symbolize.h"
#include "trace.h"
#include "util.h"
#include "words.h"

static const struct parse_command dump_cmdline = {
	SHMVIEW_COMMAND("dump"),
	.usage = "shmview dump [--json] [--stack] [--modules] [-T] [-t|-tt|-ttt] [-r] [-y]\n"
		 "             [FILTER...] TRACE\n"
		 "shmview dump -c [--json] [FILTER...] TRACE",
	.description = "Print the events of TRACE, one line each, strace-like.",
	.args_name = "TRACE", .min_args = 1, .max_args = 1,
};

static int parse_options(int argc, char **argv, struct dump_options *o,
			 struct filter *f, const char **path)
{
	const struct parse_opt opts[] = {
		OPT_BOOL(0, "json", &o->json,
			 "one JSON object per line (stacks always symbolized)"),
		OPT_BOOL(0, "stack", &o->stack,
			 "show the symbolized backtrace under each event"),
		OPT_BOOL(0, "modules", &o->modules,
			 "also show the module (loaded library) events"),
		OPT_BOOL('T', NULL, &o->timing,
			 "append the time spent in each call, in seconds"),
		OPT_COUNT('t', NULL, &o->clock,
			  "prefix the time of day; -tt: with microseconds;\n"
			  "-ttt: seconds since the epoch (as strace)"),
		OPT_BOOL('r', NULL, &o->relative,
			 "prefix the time since the previous line"),
		OPT_BOOL('y', NULL, &o->objects,
			 "show the object behind each fd and address:\n"
			 "fd=5</dev/shm/name>, shmaddr=0x..<shmid 3 key 0x1234>"),
		OPT_BOOL('c', NULL, &o->summary,
			 "count calls, errors and time per call (strace -c)\n"
			 "instead of printing the events; with --json, one object"),
		FILTER_OPTIONS(f),
		OPT_END(),
	};
	char **args;
	int rc = parse_cmdline(&dump_cmdline, opts, argc, argv, &args);

	if (rc)
		return rc;
	if (filter_check(f))
		return parse_cmdline_error(&dump_cmdline, "%s", filter_check(f));
	if (o->summary && (o->stack || o->clock || o->relative || o->objects ||
			   o->timing))
		return parse_cmdline_error(&dump_cmdline, "-c prints a table: "
			"no --stack, -t, -r, -y or -T with it");
	*path = args[0];
	return 0;
}

static void resolve_frames(struct sym_table *st, const struct trace_event *ev,
			   struct sym_frame *frames)
{
	for (unsigned i = 0; i < ev->nframes; i++)
		sym_resolve(st, ev->pid, ev->seq, ev->frames[i], &frames[i]);
}

/* Pass 2: render each event; returns the iterator's loss counts in *it. */
static void render_events(const struct trace *t, struct sym_table *st,
			  const struct dump_ops *ops, struct dump_ctx *ctx,
			  const struct filter *f, struct trace_iter *it)
{
	struct sym_frame frames[SHMT_MAX_DEPTH];
	const struct trace_event *ev;

	trace_iter_init(it, t);
	while ((ev = trace_iter_next(it))) {
		if (decode_is_record(ev->call) && !ctx->opts->modules)
			continue;
		if (!filter_event(f, t, ev))
			continue;
		if (st)
			resolve_frames(st, ev, frames);
		ops->event(ctx, ev, st ? frames : NULL);
	}
}

/* One warning per kind of loss: the user must know the dump is partial. */
static void report_losses(const struct trace *t, const struct trace_iter *it,
			  const struct dump_options *o)
{
	struct trace_counters c;

	trace_counters(t, &c);
	if (c.dropped)
		warning("%" PRIu64 " event%s dropped: the trace region was "
			"full (use --size)", c.dropped, words_plural(c.dropped));
	if (c.strings_dropped)
		warning("%" PRIu64 " string%s cut or lost: the string arena "
			"was full (use --size)", c.strings_dropped,
			words_plural(c.strings_dropped));
	if (it->abandoned && !(t->flags & SHMT_HF_FINAL))
		warning("%" PRIu64 " slot%s not committed: still being "
			"written, or their process died", it->abandoned,
			words_plural(it->abandoned));
	else if (it->abandoned)
		warning("%" PRIu64 " slot%s abandoned: %s", it->abandoned,
			words_plural(it->abandoned), words_abandoned_why);
	if (it->corrupt)
		warning("%" PRIu64 " corrupt slot%s skipped", it->corrupt,
			words_plural(it->corrupt));
	if (c.stack_errors && (o->stack || o->json))
		warning("%" PRIu64 " backtrace%s failed: those events have "
			"no stack", c.stack_errors, words_plural(c.stack_errors));
	report_warn_shim_losses(&c);
}

/* The processes with several threads (an event whose thread is not the
 * process's first): sorted, for dump-text's bsearch. */
static int32_t *threaded_pids(const struct trace *t, size_t *n)
{
	int32_t *v = NULL;
	size_t cap = 0;
	struct trace_iter it;
	const struct trace_event *ev;

	*n = 0;
	trace_iter_init(&it, t);
	while ((ev = trace_iter_next(&it))) {
		bool known = false;

		if (ev->tid == ev->pid || ev->call == SHMT_CALL_WAIT)
			continue;
		for (size_t i = 0; i < *n && !known; i++)
			known = v[i] == ev->pid;
		if (known)
			continue;
		XGROW(v, *n, cap, 8);
		v[(*n)++] = ev->pid;
	}
	for (size_t i = 1; i < *n; i++)	/* few: insertion sort */
		for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			int32_t x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	return v;
}

/* dump -c: the calls of the events the filter shows, in one table. */
static int summarize(const struct trace *t, const struct dump_options *o,
		     const struct filter *f, struct trace_iter *it)
{
	struct call_profile p = { 0 };
	const struct trace_event *ev;

	trace_iter_init(it, t);
	while ((ev = trace_iter_next(it)))
		if (filter_event(f, t, ev))
			profile_add(&p, ev);
	profile_sort(&p);
	if (o->json)
		dump_summary_json(stdout, &p);
	else
		dump_summary_text(stdout, &p);
	return 0;
}

static int dump(const char *path, const struct dump_options *o,
		struct filter *f)
{
	const struct dump_ops *ops = o->json ? &dump_json_ops : &dump_text_ops;
	struct sym_table *st = NULL;
	struct dump_ctx ctx;
	struct trace_iter it = { 0 };
	struct annotate objects;
	struct model m;
	int32_t *threaded;
	struct trace t;

	/* one pass in order, unless -y builds the model (which looks
	 * events up by seq) */
	bool model = o->objects && !o->json && !o->summary;
	if ((model ? trace_open : trace_open_sequential)(path, &t) < 0)
		return 1;
	filter_resolve(f, &t, NULL);
	if (o->summary) {
		summarize(&t, o, f, &it);
		report_losses(&t, &it, o);
		trace_close(&t);
		return 0;
	}
	/* JSON always carries symbolized stacks: scripts want them. */
	if (o->json || o->stack)
		st = sym_learn_trace(&t);
	memset(&ctx, 0, sizeof(ctx));
	ctx.out = stdout;
	ctx.trace = &t;
	ctx.opts = o;
	if (o->objects && !o->json) {
		model_build(&m, &t, UINT64_MAX);
		annotate_init(&objects, &m);
		ctx.objects = &objects;
	}
	ctx.threaded = threaded = threaded_pids(&t, &ctx.nthreaded);
	if (ops->begin)
		ops->begin(&ctx);
	render_events(&t, st, ops, &ctx, f, &it);
	if (ops->end)
		ops->end(&ctx);
	report_losses(&t, &it, o);
	if (ctx.objects) {
		annotate_free(&objects);
		model_free(&m);
	}
	free(threaded);
	sym_free(st);
	trace_close(&t);
	return 0;
}

int cmd_dump(int argc, char **argv)
{
	struct dump_options o = { 0 };
	struct filter f = { 0 };
	const char *path = NULL;
	int rc = parse_options(argc, argv, &o, &f, &path);

	if (rc == 0)
		rc = dump(path, &o, &f);
	else
		rc = rc > 0 ? 0 : EXIT_USAGE;
	filter_free(&f);
	return rc;
}
