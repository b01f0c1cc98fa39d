/*
 * run.c - the region and the environment of a traced run, starting the
 * program, and waiting for it and every descendant (the launcher is their
 * subreaper).
 */
#include "launcher.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int setup_region(const struct options *o, const char *output,
		 struct live *L)
{
	struct region_layout l;
	if (region_layout(o->size, o->depth, &l))
		return error("bad --size %llu: want at least %u bytes",
			     (unsigned long long)o->size, REGION_MIN_SIZE);
	L->file_fd = region_create_file(output, o->size, o->force);
	if (L->file_fd < 0) {
		if (errno == EEXIST)
			return error("cannot create '%s': it exists (use --force to overwrite)",
				     output);
		if (errno == ENOSPC || errno == EDQUOT)
			return error("cannot create '%s': the disk cannot hold %llu MiB (use --size)",
				     output, (unsigned long long)(o->size >> 20));
		return error("cannot create '%s': %s", output, strerror(errno));
	}
	L->mem_fd = memfd_create("shmtrace-region", MFD_CLOEXEC);
	if (L->mem_fd < 0 || ftruncate(L->mem_fd, (off_t)o->size))
		return error("cannot make the trace region: %s", strerror(errno));
	L->h = region_map(L->mem_fd, o->size);
	if (!L->h)
		return error("cannot map the trace region: %s", strerror(errno));
	L->layout = l;
	region_init_header(L->h, &l, SHMT_HF_LAUNCHER);
	start_clock(L);
	L->h->launcher_fd = (uint64_t)L->mem_fd;
	L->stuck_since = clock_now_ns();
	populate_ahead(L, 0, POPULATE_FIRST);
	sync_live(L);
	return 0;
}

int setup_env(const char *shim, int mem_fd)
{
	char buf[PATH_MAX * 2];
	const char *old = getenv("LD_PRELOAD");
	snprintf(buf, sizeof(buf), "%s%s%s", shim, old && *old ? ":" : "",
		 old ? old : "");
	if (setenv("LD_PRELOAD", buf, 1))
		return -1;
	snprintf(buf, sizeof(buf), "/proc/%d/fd/%d", (int)getpid(), mem_fd);
	unsetenv("SHMTRACE_OUTPUT");
	return setenv("SHMTRACE_REGION", buf, 1);
}

pid_t start_program(const char *path, char **argv, const sigset_t *old)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sigprocmask(SIG_SETMASK, old, NULL);
	execv(path, argv);
	error("cannot run '%s': %s", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Waits for every descendant (we are their subreaper), copying the region
 * out as it goes and passing on termination signals sent to us alone.
 * Returns the main program's wait status. */
int wait_all(struct live *L, pid_t main_pid, const sigset_t *set)
{
	int main_status = 0, main_done = 0;
	struct timespec period = { 0, WAKE_PERIOD_NS };
	uint64_t last_sync = clock_now_ns();
	for (;;) {
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			record_reaped(L, p, st);
			procseen_reaped(p);
			if (p == main_pid) {
				main_status = st;
				main_done = 1;
			}
		}
		if (p < 0 && errno == ECHILD)
			break;
		siginfo_t si;
		int sig = sigtimedwait(set, &si, &period);
		if (sig > 0 && sig != SIGCHLD && si.si_code != SI_KERNEL && !main_done)
			kill(main_pid, sig);	/* a tty's signal reached it already */
		if (sig >= 0)
			continue;
		populate_ahead(L, used_slots(L), POPULATE_AHEAD);
		if (clock_now_ns() - last_sync >= SYNC_PERIOD_NS) {
			procseen_tick(L);
			sync_live(L);
			last_sync = clock_now_ns();
		}
	}
	return main_status;
}

int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_SETUP;
}
