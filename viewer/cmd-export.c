/*
 * cmd-export.c - `shmview export --format chrome TRACE`: reads the trace,
 * builds and reconciles the model, and hands it to the timeline renderer
 * (export-chrome.c).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "render.h"
#include "decode.h"
#include "json.h"
#include "kernel.h"
#include "model.h"
#include "report.h"
#include "trace.h"
#include "util.h"

static const char export_usage[] =
"usage: shmview export --format chrome TRACE > timeline.json\n"
"\n"
"Write TRACE as a timeline in Chrome's trace-event JSON (open it in\n"
"Perfetto or chrome://tracing): segment lifetimes, attach intervals per\n"
"process, failed calls as instant events.\n"
"\n"
"  --format chrome   the only format so far (and the default)\n"
"  -h, --help        show this help\n"
"  -V, --version     print the version\n";

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(export_usage, stdout);
			return 0;
		}
		if (c == 'V') {
			printf("%s %s\n", SHMVIEW_NAME, SHMVIEW_VERSION);
			return 0;
		}
		if (c == 'f' && strcmp(optarg, "chrome") == 0)
			continue;
		if (c == 'f')
			error("export: unknown format '%s' (only 'chrome')", optarg);
		else
			bad_option("export", argv, longopts);
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		error("export: %s (see 'shmview export --help')",
		      optind >= argc ? "missing TRACE" : "one TRACE only");
		return EXIT_USAGE;
	}
	struct trace t;
	if (trace_open(argv[optind], &t))
		return 1;
	struct model m;
	struct kernel_view k = { 0 };
	model_build(&m, &t, UINT64_MAX);
	kernel_read(&k);
	model_reconcile(&m, &k);
	export_chrome(stdout, &m);
	kernel_free(&k);
	model_free(&m);
	trace_close(&t);
	return 0;
}
