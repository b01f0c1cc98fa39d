/*
 * cmd.h - the subcommands of shmview, one file each (cmd-<name>.c).
 *
 * Each entry takes the arguments after "shmview" (argv[0] is the command
 * name) and returns the process exit status: 0 success, 1 failure (after
 * printing why), 2 usage error.  Each parses its options with
 * parse_cmdline() (parse-options.h), so `shmview CMD --help` prints its
 * usage and `shmview CMD --version` the version, on stdout, returning 0.
 * A command writes its results to stdout and leaves it open: main.c
 * flushes and checks it once for every command.
 */
#ifndef SHMVIEW_CMD_H
#define SHMVIEW_CMD_H

#define EXIT_USAGE 2

/* The start of each command's struct parse_command: the program, the
 * command's name, the version (util.h has SHMVIEW_NAME and _VERSION). */
#define SHMVIEW_COMMAND(name_) \
	.program = SHMVIEW_NAME, .name = (name_), \
	.version = SHMVIEW_NAME " " SHMVIEW_VERSION

int cmd_dump(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_finish(int argc, char **argv);

/* --stale of audit and metrics: "3600", "90s", "30m", "12h", "2d" as
 * seconds into the int64_t at target (an OPT_CALLBACK).  Returns 0, or
 * -1 when it is not such a span. */
int cmd_parse_stale(const char *s, void *target);

#endif /* SHMVIEW_CMD_H */
