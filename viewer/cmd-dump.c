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
#include "decode.h"
#include "parse-options.h"
#include "render.h"
#include "report.h"
#include "symbolize.h"
#include "trace.h"
#include "util.h"
#include "words.h"

static const struct parse_command dump_cmdline = {
	SHMVIEW_COMMAND("dump"),
	.usage = "shmview dump [--json] [--stack] [--modules] [-T] TRACE",
	.description = "Print the events of TRACE, one line each, strace-like.",
	.args_name = "TRACE", .min_args = 1, .max_args = 1,
};

static int parse_options(int argc, char **argv, struct dump_options *o,
			 const char **path)
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
		OPT_END(),
	};
	char **args;
	int rc = parse_cmdline(&dump_cmdline, opts, argc, argv, &args);

	if (rc == 0)
		*path = args[0];
	return rc;
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
			  struct trace_iter *it)
{
	struct sym_frame frames[SHMT_MAX_DEPTH];
	const struct trace_event *ev;

	trace_iter_init(it, t);
	while ((ev = trace_iter_next(it))) {
		if (ev->call == SHMT_CALL_MODULE && !ctx->opts->modules)
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

static int dump(const char *path, const struct dump_options *o)
{
	const struct dump_ops *ops = o->json ? &dump_json_ops : &dump_text_ops;
	struct sym_table *st = NULL;
	struct dump_ctx ctx;
	struct trace_iter it;
	struct trace t;

	if (trace_open(path, &t) < 0)
		return 1;
	/* JSON always carries symbolized stacks: scripts want them. */
	if (o->json || o->stack)
		st = sym_learn_trace(&t);
	memset(&ctx, 0, sizeof(ctx));
	ctx.out = stdout;
	ctx.trace = &t;
	ctx.opts = o;
	if (ops->begin)
		ops->begin(&ctx);
	render_events(&t, st, ops, &ctx, &it);
	if (ops->end)
		ops->end(&ctx);
	report_losses(&t, &it, o);
	sym_free(st);
	trace_close(&t);
	return 0;
}

int cmd_dump(int argc, char **argv)
{
	struct dump_options o = { 0 };
	const char *path = NULL;
	int rc = parse_options(argc, argv, &o, &path);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	return dump(path, &o);
}
