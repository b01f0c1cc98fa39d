/*
 * cmd-export.c - `shmview export --format chrome TRACE`: reads the trace,
 * builds and reconciles the model, and hands it to the timeline renderer
 * (export-chrome.c).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "filter.h"
#include "model.h"
#include "parse-options.h"
#include "render.h"
#include "trace.h"
#include "util.h"

static const struct parse_command export_cmdline = {
	SHMVIEW_COMMAND("export"),
	.usage = "shmview export --format chrome [FILTER...] TRACE > timeline.json",
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
static int parse_options(int argc, char **argv, struct filter *f,
			 const char **path)
{
	const struct parse_opt opts[] = {
		OPT_CALLBACK(0, "format", NULL, "chrome", parse_format,
			     "chrome, the only format so far",
			     "the only format so far (and the default)"),
		FILTER_OPTIONS(f),
		OPT_END(),
	};
	char **args;
	int rc = parse_cmdline(&export_cmdline, opts, argc, argv, &args);

	if (rc)
		return rc;
	if (filter_check(f))
		return parse_cmdline_error(&export_cmdline, "%s", filter_check(f));
	*path = args[0];
	return 0;
}

static int export(const char *path, struct filter *f)
{
	struct trace t;
	struct model m;

	if (trace_open(path, &t))
		return 1;
	filter_build_model(f, &m, &t);
	export_chrome(stdout, &m, f);
	model_free(&m);
	trace_close(&t);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct filter f = { 0 };
	const char *path = NULL;
	int rc = parse_options(argc, argv, &f, &path);

	if (rc == 0)
		rc = export(path, &f);
	else
		rc = rc > 0 ? 0 : EXIT_USAGE;
	filter_free(&f);
	return rc;
}
