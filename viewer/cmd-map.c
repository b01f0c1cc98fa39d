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
#include "model.h"
#include "parse-options.h"
#include "procmap.h"
#include "trace.h"
#include "util.h"

static const struct parse_command map_cmdline = {
	SHMVIEW_COMMAND("map"),
	.usage = "shmview map [--json] [--at TIME] TRACE\n"
		 "shmview map --pid PID [--children] [--json]",
	.description =
		"Show which process has which segment attached, where, in what state:\n"
		"at the end of TRACE (or now, for a run still going), or at TIME.\n"
		"With --pid, the same for a running process that was never traced, read\n"
		"from /proc now: no history, no backtraces.",
	.args_name = "TRACE", .min_args = 0, .max_args = 1,
};

struct map_options {
	bool json;
	bool at_set;
	uint64_t at_ns;
	pid_t pid;              /* 0: no --pid */
	bool children;
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
	_Static_assert(sizeof(pid_t) == sizeof(int), "--pid is an int");
	const struct parse_opt opts[] = {
		OPT_BOOL(0, "json", &o->json, "one JSON object instead of text"),
		OPT_CALLBACK(0, "at", o, "TIME", parse_at,
			     "a time like 1.5s, 200ms or nanoseconds",
			     "the map as it stood TIME after the trace started:\n"
			     "nanoseconds, or with a unit: 1.5s, 200ms, 30us"),
		OPT_INT(0, "pid", &o->pid, "PID", 1, INT_MAX, "a process id",
			"the map of process PID from /proc, without a trace"),
		OPT_BOOL(0, "children", &o->children,
			 "with --pid: its descendants too"),
		OPT_END(),
	};
	char **args;
	int rc = parse_cmdline(&map_cmdline, opts, argc, argv, &args);

	if (rc)
		return rc;
	if (o->pid) {
		if (o->at_set)
			return parse_cmdline_error(&map_cmdline, "--at is for a "
				"trace: /proc knows only the present");
		if (args[0])
			return parse_cmdline_error(&map_cmdline,
						   "--pid takes no TRACE");
		return 0;
	}
	if (o->children)
		return parse_cmdline_error(&map_cmdline,
					   "--children goes with --pid");
	if (!args[0])
		return parse_cmdline_error(&map_cmdline, "missing TRACE");
	*path = args[0];
	return 0;
}

/* The map of a running process (tree) from /proc. */
static int map_pid(const struct map_options *o)
{
	struct procmap_stats st;
	struct model m;
	char label[64];

	if (procmap_build_stats(&m, o->pid, o->children, &st)) {
		model_free(&m);
		return 1;
	}
	if (st.unreadable)
		warning("%zu of the %zu processes could not be inspected "
			"(permission): shown without their mappings",
			st.unreadable, st.processes);
	snprintf(label, sizeof(label), "pid %d%s", (int)o->pid,
		 o->children ? " and its descendants" : "");
	if (o->json)
		map_json(stdout, &m);
	else
		map_text(stdout, &m, label);
	model_free(&m);
	return 0;
}

int cmd_map(int argc, char **argv)
{
	struct map_options o = { 0 };
	const char *path = NULL;
	int r = parse_options(argc, argv, &o, &path);
	if (r)
		return r > 0 ? 0 : EXIT_USAGE;
	if (o.pid)
		return map_pid(&o);
	struct trace t;
	if (trace_open(path, &t))
		return 1;
	struct model m;
	struct kernel_view k = { 0 };
	model_build(&m, &t, o.at_set ? o.at_ns : UINT64_MAX);
	/* the kernel knows the present, not a past moment */
	bool now = !o.at_set;
	if (now)
		kernel_read(&k);
	model_reconcile(&m, now ? &k : NULL);
	if (o.json)
		map_json(stdout, &m);
	else
		map_text(stdout, &m, path);
	kernel_free(&k);
	model_free(&m);
	trace_close(&t);
	return 0;
}
