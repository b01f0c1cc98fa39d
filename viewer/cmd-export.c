/*
 * cmd-export.c - `shmview export --format chrome TRACE`: reads the trace,
 * builds and reconciles the model, and hands it to the timeline renderer
 * (export-chrome.c).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "model.h"
#include "parse-options.h"
#include "render.h"
#include "trace.h"
#include "util.h"

static const struct parse_command export_cmdline = {
	SHMVIEW_COMMAND("export"),
	.usage = "shmview export --format chrome TRACE > timeline.json",
	.description =
		"Write TRACE as a timeline in Chrome's trace-event JSON (open it in\n"
		"Perfetto or chrome://tracing): segment lifetimes, attach intervals per\n"
		"process, failed calls as instant events.",
	.args_name = "TRACE", .min_args = 1, .max_args = 1,
};

static int parse_format(const char *s, void *unused)
{
	return strcmp(s, "chrome") == 0 ? 0 : -1;
}

/* Returns 0 with *path set, 1 after --help/--version, -1 on a usage
 * error. */
static int parse_options(int argc, char **argv, const char **path)
{
	const struct parse_opt opts[] = {
		OPT_CALLBACK(0, "format", NULL, "chrome", parse_format,
			     "chrome, the only format so far",
			     "the only format so far (and the default)"),
		OPT_END(),
	};
	char **args;
	int rc = parse_cmdline(&export_cmdline, opts, argc, argv, &args);

	if (rc == 0)
		*path = args[0];
	return rc;
}

int cmd_export(int argc, char **argv)
{
	const char *path = NULL;
	int rc = parse_options(argc, argv, &path);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	struct trace t;
	if (trace_open(path, &t))
		return 1;
	struct model m;
	model_build_now(&m, &t);
	export_chrome(stdout, &m);
	model_free(&m);
	trace_close(&t);
	return 0;
}
