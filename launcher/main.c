/*
 * main.c - build/shmtrace: run a program under the shim.
 *
 *	shmtrace [-o FILE] [--force] [--size BYTES] [--depth N] [-q]
 *		 [--error-exitcode=N] [--log-file=FILE] [--suppressions=FILE]
 *		 -- PROG ARGS
 *
 * The live region is a memfd (tmpfs: no disk page faults in the traced
 * program's hot path, and no name left behind anywhere).  Traced processes
 * inherit its descriptor n, or map it through /proc/<launcher>/fd/<n>,
 * named by SHMTRACE_REGION.  The
 * launcher copies what is committed into the trace file every 100 ms, so
 * the file can be read while the run goes on, and writes the complete,
 * compacted trace when the last descendant has ended.  The launcher is a
 * child subreaper: it outlives, and waits for, every descendant.
 *
 * At the end it runs the viewer beside it (`shmview report --summary`) for
 * the valgrind-like leak summary, and with --error-exitcode exits with N
 * when the viewer says something leaked.
 */
#include "launcher.h"
#include "clock.h"
#include "parse-options.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* --log-file: its directory must exist and take files, before the run. */
static int log_dir_writable(const char *pattern)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", pattern);
	char *slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK | X_OK) != 0)
		return error("cannot write --log-file '%s': %s: %s", pattern, dir,
			     strerror(errno));
	return 0;
}

/* The log file, %p being the program's pid; stderr when it cannot be
 * made (said once). */
static int open_log(const char *pattern, pid_t pid)
{
	char path[PATH_MAX];
	if (log_file_name(pattern, pid, path, sizeof(path))) {
		error("--log-file '%s' is too long; the summary goes to stderr",
		      pattern);
		return 2;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		error("cannot write '%s': %s; the summary goes to stderr", path,
		      strerror(errno));
		return 2;
	}
	return fd;
}

/* The signals the launcher waits for, blocked; the old mask into *old. */
static void block_signals(sigset_t *set, sigset_t *old)
{
	sigemptyset(set);
	int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(set, sigs[i]);
	sigprocmask(SIG_BLOCK, set, old);
}

/* shmtrace -p (attach.c).  Returns the exit status. */
static int attach(struct options *o, char *shim, char *outbuf)
{
	if (find_shim(shim, PATH_MAX))	/* it said why */
		return EXIT_SETUP;
	const char *output = o->output;
	if (!output) {
		default_output(o, outbuf, PATH_MAX);
		output = outbuf;
	}
	const char *preload = getenv("LD_PRELOAD");
	sigset_t set, old;
	block_signals(&set, &old);
	signal(SIGXFSZ, SIG_IGN);
	return attach_run(o, shim, output, &set, &old, preload);
}

/* The run, up to the exit status; stdout not yet checked. */
static int shmtrace(int argc, char **argv)
{
	struct options o = { 0 };
	int r = parse_options(argc, argv, &o);
	if (r)
		return r > 0 ? 0 : EXIT_USAGE;
	char prog[PATH_MAX], shim[PATH_MAX], outbuf[PATH_MAX];
	if (o.npids)
		return attach(&o, shim, outbuf);
	if (find_program(o.argv[0], prog, sizeof(prog))) {
		error("cannot run '%s': %s", o.argv[0], strerror(errno));
		return errno == ENOENT ? 127 : 126;
	}
	const char *why = untraceable(prog);
	if (why)
		error("'%s' %s; it runs untraced", o.argv[0], why);
	if (find_shim(shim, sizeof(shim)))	/* it said why */
		return EXIT_SETUP;
	for (size_t i = 0; i < o.nsupp; i++)
		if (access(o.supp[i], R_OK) != 0) {
			error("cannot read suppressions '%s': %s", o.supp[i],
			      strerror(errno));
			return EXIT_USAGE;
		}
	if (o.log_file && log_dir_writable(o.log_file))
		return EXIT_USAGE;
	const char *output = o.output;
	if (!output) {
		default_output(&o, outbuf, sizeof(outbuf));
		output = outbuf;
	}
	/* the viewer runs in the environment we were given */
	const char *preload_env = getenv("LD_PRELOAD");
	char *preload = preload_env ? strdup(preload_env) : NULL;
	struct live L = { .file_fd = -1, .output = output };
	if (setup_region(&o, output, &L) || setup_env(shim, L.mem_fd)) {
		if (L.file_fd >= 0)
			unlink(output);
		return EXIT_SETUP;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigset_t set, old;
	block_signals(&set, &old);
	capacity_start(&L.cap);
	pid_t pid = start_program(prog, o.argv, &old, L.mem_fd);
	if (pid < 0) {
		error("cannot fork: %s", strerror(errno));
		unlink(output);
		return EXIT_SETUP;
	}
	/* a trace file over RLIMIT_FSIZE is a write error we report, not a
	 * signal that kills us (set after the fork: the program keeps its own
	 * disposition) */
	signal(SIGXFSZ, SIG_IGN);
	int log = o.log_file && !o.quiet ? open_log(o.log_file, pid) : 2;
	int status = wait_all(&L, pid, &set, o.no_wait_daemons);
	sync_live(&L);	/* a death its parent reaped last: sampled too */
	capacity_record(&L, &L.cap, 0);
	if (write_final(&L, status))
		return EXIT_SETUP;
	int leaked = 0;
	if (!o.quiet || o.error_exitcode)
		leaked = report_leaks(&o, output, preload, &old, log);
	summarize(&o, output, &L, log);
	if (log != 2)
		close(log);
	free(preload);
	free(o.supp);
	if (leaked > 0 && o.error_exitcode)
		return o.error_exitcode;
	return exit_code(status);
}

int main(int argc, char **argv)
{
	return finish_stdout("shmtrace", shmtrace(argc, argv));
}
