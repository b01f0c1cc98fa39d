/*
 * main.c - shmview: look at what a traced program did with shared memory.
 *
 * A dispatch table of subcommands, git style; each lives in cmd-<name>.c.
 * This is the only place that turns a failure into an exit status, and
 * the one place that checks stdout (a full disk, a file system error).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "parse-options.h"
#include "sigbus.h"
#include "util.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "dump", cmd_dump, "print the events of a trace, strace-like or JSON" },
	{ "report", cmd_report, "the leak audit: segments, processes, profile" },
	{ "clean", cmd_clean, "remove the segments a trace leaked" },
	{ "map", cmd_map, "the attach map: who has which segment, where" },
	{ "export", cmd_export, "a timeline for Perfetto / chrome://tracing" },
	{ "live", cmd_live, "the attach map in the terminal, while the run goes on" },
	{ "audit", cmd_audit, "every segment on this machine now, and the likely leaks" },
	{ "metrics", cmd_metrics, "the same as Prometheus metrics, for node_exporter" },
	{ "finish", cmd_finish, "finish a trace whose launcher stopped before the run ended" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fputs("usage: shmview <command> [options] [TRACE]\n"
	      "       shmview --help | --version\n\ncommands:\n", out);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fputs("\nRun 'shmview <command> --help' for its options.\n", out);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* `shmview help [COMMAND]` */
static int help(int argc, char **argv)
{
	const struct command *cmd;
	char *args[] = { NULL, "--help", NULL };

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		error("unknown command '%s' (see 'shmview --help')", argv[1]);
		return EXIT_USAGE;
	}
	args[0] = argv[1];
	return cmd->run(2, args);
}

/* `shmview ...` up to the command's exit status; stdout not yet checked */
static int run(int argc, char **argv)
{
	const struct command *cmd;
	const char *name = argc > 1 ? argv[1] : NULL;

	sigbus_install();
	if (!name) {
		error("missing command (see 'shmview --help')");
		return EXIT_USAGE;
	}
	if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("%s %s\n", SHMVIEW_NAME, SHMVIEW_VERSION);
		return 0;
	}
	if (!strcmp(name, "help"))
		return help(argc - 1, argv + 1);
	if (name[0] == '-') {
		error("unknown option '%s' (see 'shmview --help')", name);
		return EXIT_USAGE;
	}
	cmd = find_command(name);
	if (!cmd) {
		error("unknown command '%s' (see 'shmview --help')", name);
		return EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	return finish_stdout(SHMVIEW_NAME, run(argc, argv));
}
