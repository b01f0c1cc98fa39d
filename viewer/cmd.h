/*
 * cmd.h - the subcommands of shmview, one file each (cmd-<name>.c).
 *
 * Each entry takes the arguments after "shmview" (argv[0] is the command
 * name) and returns the process exit status: 0 success, 1 failure (after
 * printing why), 2 usage error.  `shmview CMD --help` prints its usage on
 * stdout and returns 0; so does `shmview CMD --version` with the version
 * (main.c answers it when it comes first, for every command).
 */
#ifndef SHMVIEW_CMD_H
#define SHMVIEW_CMD_H

#define EXIT_USAGE 2

int cmd_dump(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_audit(int argc, char **argv);

#endif /* SHMVIEW_CMD_H */
