/*
 * cmd-map.c - `shmview map`: the attach map of a trace as a snapshot, at
 * its end (reconciled with what the kernel says now) or as it stood at a
 * given moment (from the trace alone), as text or JSON; or, with --pid,
 * the map of a running process (tree) that was never traced, rebuilt from
 * /proc (procmap.h): no history, no backtraces.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "kernel.h"
#include "render.h"
#include "filter.h"
#include "model.h"
#include "parse-options.h"
#include "procmap.h"
#include "trace.h"
#include "util.h"

static const struct parse_command map_cmdline = {
	SHMVIEW_COMMAND("map"),
	.usage = "shmview map [--json] [--at TIME] [FILTER...] TRACE\n"
		 "shmview map --pid PID [--children] [--json] [--kind KIND,...]",
	.description =
		"Show which process has which segment attached, where, in what state:\n"
		"at the end of TRACE (or now, for a run still going), or at TIME.\n"
		"With --pid and no TRACE, the same for a running process that was never\n"
		"traced, read from /proc now: no history, no backtraces.",
	.args_name = "TRACE", .min_args = 0, .max_args = 1,
};

struct map_options {
	bool json;
	bool at_set;
	uint64_t at_ns;
	struct filter filter;	/* with a TRACE; without, -p is --pid's */
};

static int parse_at(const char *s, void *target)
{
	struct map_options *o = target;

	if (parse_time_ns(s, &o->at_ns))
		return -1;
	o->at_set = true;
	return 0;
}

/* Returns 0 with *o and *path set, 1 after --help/--version, -1 on a
 * usage error. */
static int parse_options(int argc, char **argv, struct map_options *o,
			 const char **path)
{
	struct filter *f = &o->filter;
	const struct parse_opt opts[] = {
		OPT_BOOL(0, "json", &o->json, "one JSON object instead of text"),
		OPT_CALLBACK(0, "at", o, "TIME", parse_at, TIME_SYNTAX,
			     "the map as it stood TIME after the trace started:\n"
			     "seconds (1.5), or with a unit: 200ms, 30us, 1h"),
		FILTER_OPTIONS(f),
		OPT_END(),
	};
	char **args;
	int rc = parse_cmdline(&map_cmdline, opts, argc, argv, &args);

	if (rc)
		return rc;
	if (filter_check(f))
		return parse_cmdline_error(&map_cmdline, "%s", filter_check(f));
	if (o->at_set && f->until_set)
		return parse_cmdline_error(&map_cmdline,
					   "--at and --until are one moment: give one");
	if (o->at_set) {
		f->until_set = true;
		f->until_ns = o->at_ns;
	}
	if (!args[0] && f->pids.n) {
		if (o->at_set || f->until_set || f->since_set)
			return parse_cmdline_error(&map_cmdline, "--at is for a "
				"trace: /proc knows only the present");
		if (f->pids.n > 1)
			return parse_cmdline_error(&map_cmdline, "--pid without "
				"TRACE takes one PID (--children for its tree)");
		return 0;
	}
	if (!args[0])
		return parse_cmdline_error(&map_cmdline, "missing TRACE");
	*path = args[0];
	return 0;
}

/* The map of a running process (tree) from /proc. */
static int map_pid(struct map_options *o)
{
	struct filter *f = &o->filter;
	pid_t pid = f->pids.v[0];
	bool children = f->children;
	struct procmap_stats st;
	struct model m;
	char label[64];

	if (procmap_build_stats(&m, pid, children, &st)) {
		model_free(&m);
		return 1;
	}
	if (st.unreadable)
		warning("%zu of the %zu processes could not be inspected "
			"(permission): shown without their mappings",
			st.unreadable, st.processes);
	/* the tree is procmap's; the rest of the filter applies as to a
	 * trace */
	f->pids.n = 0;
	f->children = false;
	filter_resolve(f, NULL, &m);
	filter_model(f, &m);
	snprintf(label, sizeof(label), "pid %d%s", (int)pid,
		 children ? " and its descendants" : "");
	if (o->json)
		map_json(stdout, &m);
	else
		map_text(stdout, &m, label);
	model_free(&m);
	return 0;
}

static int map_trace(const char *path, struct map_options *o)
{
	struct trace t;
	struct model m;

	if (trace_open(path, &t))
		return 1;
	/* --at is --until: the kernel knows the present, not a past moment */
	filter_build_model(&o->filter, &m, &t);
	if (o->json)
		map_json(stdout, &m);
	else
		map_text(stdout, &m, path);
	model_free(&m);
	trace_close(&t);
	return 0;
}

int cmd_map(int argc, char **argv)
{
	struct map_options o = { 0 };
	const char *path = NULL;
	int rc = parse_options(argc, argv, &o, &path);

	if (rc == 0)
		rc = path ? map_trace(path, &o) : map_pid(&o);
	else
		rc = rc > 0 ? 0 : EXIT_USAGE;
	filter_free(&o.filter);
	return rc;
}
