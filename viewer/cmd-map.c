/*
 * cmd-map.c - `shmview map`: the attach map of a trace as a snapshot, at
 * its end (reconciled with what the kernel says now) or as it stood at a
 * given moment (from the trace alone), as text or JSON; or, with --pid,
 * the map of a running process (tree) that was never traced, rebuilt from
 * /proc (procmap.h): no history, no backtraces.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "kernel.h"
#include "render.h"
#include "model.h"
#include "procmap.h"
#include "trace.h"
#include "util.h"

static const char map_usage[] =
"usage: shmview map [--json] [--at TIME] TRACE\n"
"       shmview map --pid PID [--children] [--json]\n"
"\n"
"Show which process has which segment attached, where, in what state:\n"
"at the end of TRACE (or now, for a run still going), or at TIME.\n"
"With --pid, the same for a running process that was never traced, read\n"
"from /proc now: no history, no backtraces.\n"
"\n"
"  --json          one JSON object instead of text\n"
"  --at TIME       the map as it stood TIME after the trace started:\n"
"                  nanoseconds, or with a unit: 1.5s, 200ms, 30us\n"
"  --pid PID       the map of process PID from /proc, without a trace\n"
"  --children      with --pid: its descendants too\n"
"  -h, --help      show this help\n"
"  -V, --version   print the version\n";

struct map_options {
	bool json;
	bool at_set;
	uint64_t at_ns;
	pid_t pid;              /* 0: no --pid */
	bool children;
};

static int parse_pid(const char *s, pid_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > INT_MAX)
		return error("map: bad --pid '%s': want a process id", s);
	*out = (pid_t)v;
	return 0;
}

/* Returns 0 with *o and *path set, 1 after --help/--version, -1 on a
 * usage error. */
static int parse_options(int argc, char **argv, struct map_options *o,
			 const char **path)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "at", required_argument, NULL, 'a' },
		{ "pid", required_argument, NULL, 'p' },
		{ "children", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 'a':
			if (parse_time_ns(optarg, &o->at_ns))
				return error("map: bad --at '%s': want a time like "
					     "1.5s, 200ms or nanoseconds", optarg);
			o->at_set = true;
			break;
		case 'p':
			if (parse_pid(optarg, &o->pid))
				return -1;
			break;
		case 'c': o->children = true; break;
		case 'h': fputs(map_usage, stdout); return 1;
		case 'V': printf("%s %s\n", SHMVIEW_NAME, SHMVIEW_VERSION); return 1;
		default:
			return bad_option("map", argv, longopts);
		}
	}
	if (o->pid) {
		if (o->at_set)
			return error("map: --at is for a trace: /proc knows only "
				     "the present (see 'shmview map --help')");
		if (optind != argc)
			return error("map: --pid takes no TRACE (see 'shmview map "
				     "--help')");
		return 0;
	}
	if (o->children)
		return error("map: --children goes with --pid (see 'shmview map "
			     "--help')");
	if (optind != argc - 1)
		return error("map: %s (see 'shmview map --help')",
			     optind >= argc ? "missing TRACE" : "one TRACE only");
	*path = argv[optind];
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
	if (fflush(stdout) != 0 || ferror(stdout))
		return error("write error on standard output"), 1;
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
