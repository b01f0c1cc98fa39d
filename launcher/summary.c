/*
 * summary.c - the valgrind-like leak summary at exit, printed by
 * `shmview report --summary` run beside the launcher, and the closing line
 * that names the trace.
 */
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the viewer's child: the environment the launcher was given (no shim,
 * no region) and its output where the summary goes. */
static void viewer_child(const char *viewer, char **args, const char *preload,
			 int quiet, const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
	if (preload)
		setenv("LD_PRELOAD", preload, 1);
	else
		unsetenv("LD_PRELOAD");
	unsetenv("SHMTRACE_REGION");
	int null = quiet ? open("/dev/null", O_WRONLY) : -1;
	if (quiet && (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0))
		_exit(126);
	if (!quiet && dup2(2, 1) < 0)	/* the summary goes to stderr */
		_exit(126);
	execv(viewer, args);
	error("cannot run '%s': %s", viewer, strerror(errno));
	_exit(126);
}

/*
 * Runs `shmview report --summary --leak-exit 99 OUTPUT` (output discarded
 * when quiet).  Returns 1 when it says something leaked, 0 when not, -1
 * when it could not tell (it said why, or we do).
 */
int report_leaks(const struct options *o, const char *output,
		 const char *preload, const sigset_t *old)
{
	char viewer[PATH_MAX], code[16];
	if (find_viewer(viewer, sizeof(viewer))) {
		error("no leak summary: cannot find shmview beside the launcher "
		      "(set SHMTRACE_VIEWER)");
		return -1;
	}
	snprintf(code, sizeof(code), "%d", VIEWER_LEAK_EXIT);
	char *args[] = { viewer, "report", "--summary", "--leak-exit", code,
			 "--", (char *)output, NULL };
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		error("no leak summary: cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		viewer_child(viewer, args, preload, o->quiet, old);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == VIEWER_LEAK_EXIT)
		return 1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

void summarize(const struct options *o, const char *output,
	       const struct live *L)
{
	const struct shmt_header *h = L->h;
	if (o->quiet)
		return;
	uint64_t used = used_slots(L);
	fprintf(stderr, "shmtrace: %llu events recorded", (unsigned long long)used);
	if (h->dropped)
		fprintf(stderr, ", %llu DROPPED (region full: use --size)",
			(unsigned long long)h->dropped);
	if (h->strings_dropped)
		fprintf(stderr, ", %llu strings LOST (string arena full: use --size)",
			(unsigned long long)h->strings_dropped);
	if (h->disabled)
		fprintf(stderr, ", tracing turned OFF in %llu process%s",
			(unsigned long long)h->disabled, h->disabled == 1 ? "" : "es");
	fprintf(stderr, "; trace in %s (read it with: shmview dump %s)\n",
		output, output);
}
