/*
 * cmd-map.c - `shmview map`: the attach map of a trace as a snapshot, at
 * its end (reconciled with what the kernel says now) or as it stood at a
 * given moment (from the trace alone), as text or JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "kernel.h"
#include "map.h"
#include "model.h"
#include "trace.h"
#include "util.h"

static const char map_usage[] =
"usage: shmview map [--json] [--at TIME] TRACE\n"
"\n"
"Show which process has which segment attached, where, in what state:\n"
"at the end of TRACE (or now, for a run still going), or at TIME.\n"
"\n"
"  --json      one JSON object instead of text\n"
"  --at TIME   the map as it stood TIME after the trace started:\n"
"              nanoseconds, or with a unit: 1.5s, 200ms, 30us\n"
"  -h, --help  show this help\n";

struct map_options {
	bool json;
	bool at_set;
	uint64_t at_ns;
};

/* Returns 0 with *o and *path set, 1 after --help, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct map_options *o,
			 const char **path)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "at", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 'a':
			if (parse_time_ns(optarg, &o->at_ns))
				return error("map: bad --at '%s': want a time like "
					     "1.5s, 200ms or nanoseconds", optarg);
			o->at_set = true;
			break;
		case 'h': fputs(map_usage, stdout); return 1;
		default:
			return error("map: unknown option '%s' (see 'shmview map "
				     "--help')", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return error("map: %s (see 'shmview map --help')",
			     optind >= argc ? "missing TRACE" : "one TRACE only");
	*path = argv[optind];
	return 0;
}

int cmd_map(int argc, char **argv)
{
	struct map_options o = { 0 };
	const char *path = NULL;
	int r = parse_options(argc, argv, &o, &path);
	if (r)
		return r > 0 ? 0 : EXIT_USAGE;
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
