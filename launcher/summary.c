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
			 int quiet, const sigset_t *old, int log)
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
	/* the summary goes to stderr, or all of it to the log */
	if (!quiet && (dup2(log, 1) < 0 || (log != 2 && dup2(log, 2) < 0)))
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
		 const char *preload, const sigset_t *old, int log)
{
	char viewer[PATH_MAX], code[32];
	if (find_viewer(viewer, sizeof(viewer))) {
		error("no leak summary: cannot find shmview beside the launcher "
		      "(set SHMTRACE_VIEWER)");
		return -1;
	}
	snprintf(code, sizeof(code), "--error-exitcode=%d", VIEWER_LEAK_EXIT);
	char **args = calloc(o->nsupp + 8, sizeof(*args));
	if (!args) {
		error("no leak summary: out of memory");
		return -1;
	}
	size_t n = 0;
	args[n++] = viewer;
	args[n++] = "report";
	args[n++] = "--summary";
	args[n++] = code;
	for (size_t i = 0; i < o->nsupp; i++) {
		args[n++] = "--suppressions";
		args[n++] = (char *)o->supp[i];
	}
	args[n++] = "--";
	args[n++] = (char *)output;
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		error("no leak summary: cannot fork: %s", strerror(errno));
		free(args);
		return -1;
	}
	if (pid == 0)
		viewer_child(viewer, args, preload, o->quiet, old, log);
	free(args);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == VIEWER_LEAK_EXIT)
		return 1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

void summarize(const struct options *o, const char *output,
	       struct live *L, int log)
{
	const struct shmt_header *h = L->h;
	char viewer[PATH_MAX];
	if (o->quiet)
		return;
	uint64_t events = L->w.events;	/* in the file: what every reader counts */
	dprintf(log, "shmtrace: %llu event%s recorded", (unsigned long long)events,
		events == 1 ? "" : "s");
	if (h->dropped)
		dprintf(log, ", %llu DROPPED (region full: use --size)",
			(unsigned long long)h->dropped);
	if (h->strings_dropped)
		dprintf(log, ", %llu strings LOST (string arena full: use --size)",
			(unsigned long long)h->strings_dropped);
	if (h->disabled)
		dprintf(log, ", tracing turned OFF in %llu process%s",
			(unsigned long long)h->disabled, h->disabled == 1 ? "" : "es");
	if (L->damaged)
		dprintf(log, ", the region's header OVERWRITTEN by the program");
	viewer_hint(o->self, viewer, sizeof(viewer));
	dprintf(log, "; trace in %s (read it with: %s dump %s)\n",
		output, viewer, output);
}

int log_file_name(const char *pattern, pid_t pid, char *buf, size_t size)
{
	size_t n = 0;
	for (const char *p = pattern; *p; p++) {
		int w;
		if (p[0] == '%' && p[1] == 'p')
			w = snprintf(buf + n, size - n, "%d", (int)pid), p++;
		else if (p[0] == '%' && p[1] == '%')
			w = snprintf(buf + n, size - n, "%%"), p++;
		else
			w = snprintf(buf + n, size - n, "%c", *p);
		if (w < 0 || (size_t)w >= size - n)
			return -1;
		n += (size_t)w;
	}
	if (!n && size)
		buf[0] = '\0';
	return 0;
}
