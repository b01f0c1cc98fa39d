/*
 * run.c - the region and the environment of a traced run, starting the
 * program, and waiting for it and every descendant (the launcher is their
 * subreaper).
 */
#include "launcher.h"
#include "clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Moves fd to the highest number a program may use (at most 1023, under
 * FD_SETSIZE): the traced processes inherit it there, and programs that
 * arrange their own descriptors (Chromium puts its sockets at 3 and 4)
 * do so at low numbers. */
static int high_fd(int fd)
{
	struct rlimit rl;
	rlim_t top = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < top)
		top = rl.rlim_cur;
	int hi = top > 16 ? fcntl(fd, F_DUPFD_CLOEXEC, (int)top - 1) : -1;
	if (hi < 0)
		return fd;
	close(fd);
	return hi;
}

int setup_region(const struct options *o, const char *output,
		 struct live *L)
{
	struct region_layout l;
	struct stat st;
	if (region_layout(o->size, o->depth, &l))	/* --size was checked */
		return error("cannot lay out a region of %llu bytes",
			     (unsigned long long)o->size);
	if (stat(output, &st) == 0 && S_ISDIR(st.st_mode))
		return error("cannot create '%s': it is a directory (-o names the "
			     "trace file)", output);
	L->file_fd = region_create_file(output, 0, o->force);
	if (L->file_fd < 0) {
		if (errno == EEXIST)
			return error("cannot create '%s': it exists (use --force to overwrite)",
				     output);
		return error("cannot create '%s': %s", output, strerror(errno));
	}
	L->mem_fd = memfd_create("shmtrace-region", MFD_CLOEXEC);
	if (L->mem_fd < 0 || ftruncate(L->mem_fd, (off_t)o->size))
		return error("cannot make the trace region: %s", strerror(errno));
	L->mem_fd = high_fd(L->mem_fd);
	L->h = region_map(L->mem_fd, o->size);
	if (!L->h)
		return error("cannot map the trace region: %s", strerror(errno));
	L->layout = l;
	region_init_header(L->h, &l, SHMT_HF_LAUNCHER);
	start_clock(L);
	L->h->launcher_fd = (uint64_t)L->mem_fd;
	memcpy(&L->own, L->h, sizeof(L->own));	/* start_clock adds to both */
	populate_ahead(L, 0, POPULATE_FIRST);
	if (start_trace(L))
		return -1;
	sync_live(L);
	return 0;
}

/* AddressSanitizer insists on coming first among the preloaded libraries,
 * and the shim must come first: ASan's own switch for that check lets an
 * ASan program (and ASan descendants) run traced.  Kept when set. */
static int let_asan_follow(void)
{
	const char *old = getenv("ASAN_OPTIONS");
	char buf[4096];
	if (old && strstr(old, "verify_asan_link_order"))
		return 0;
	snprintf(buf, sizeof(buf), "%s%sverify_asan_link_order=0", old ? old : "",
		 old && *old ? ":" : "");
	return setenv("ASAN_OPTIONS", buf, 1);
}

int setup_env(const char *shim, int mem_fd)
{
	char buf[PATH_MAX * 2];
	const char *old = getenv("LD_PRELOAD");
	if (let_asan_follow())
		return -1;
	snprintf(buf, sizeof(buf), "%s%s%s", shim, old && *old ? ":" : "",
		 old ? old : "");
	if (setenv("LD_PRELOAD", buf, 1))
		return -1;
	snprintf(buf, sizeof(buf), "/proc/%d/fd/%d", (int)getpid(), mem_fd);
	unsetenv("SHMTRACE_OUTPUT");
	return setenv("SHMTRACE_REGION", buf, 1);
}

pid_t start_program(const char *path, char **argv, const sigset_t *old,
		    int region_fd)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sigprocmask(SIG_SETMASK, old, NULL);
	fcntl(region_fd, F_SETFD, 0);	/* inherited across exec */
	execv(path, argv);
	error("cannot run '%s': %s", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* The parent of `pid` from /proc/PID/stat, or 0. */
pid_t parent_of(pid_t pid, char *comm, size_t size)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	int ppid = 0;
	if (!open || !close || sscanf(close + 1, " %*c %d", &ppid) != 1)
		return 0;
	snprintf(comm, size, "%.*s", (int)(close - open - 1), open + 1);
	return ppid;
}

/* Whether `pid` descends from us, following parents up (bounded). */
static int descends_from_us(pid_t pid)
{
	char comm[64];
	pid_t me = getpid();
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		pid = parent_of(pid, comm, sizeof(comm));
		if (pid == me)
			return 1;
	}
	return 0;
}

/* Says which descendants still run when the launcher stops waiting. */
static void say_still_running(const char *why)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char list[1024] = "", comm[64];
	size_t len = 0;
	unsigned n = 0;
	while (d && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0 || !descends_from_us(pid))
			continue;
		parent_of(pid, comm, sizeof(comm));
		if (len < sizeof(list) - 1)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d (%s)",
						n ? ", " : "", (int)pid, comm);
		n++;
	}
	if (d)
		closedir(d);
	if (len >= sizeof(list))
		strcpy(list + sizeof(list) - 5, "...");
	if (n)
		error("%s; still running, untraced from now on: %s", why, list);
}

int wait_all(struct live *L, pid_t main_pid, const sigset_t *set, int main_only)
{
	int main_status = 0, main_done = 0, stop = 0;
	struct timespec period = { 0, WAKE_PERIOD_NS };
	uint64_t last_sync = clock_now_ns();
	const char *why = "the program ended (--no-wait-daemons)";
	char whybuf[80];
	for (;;) {
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			record_reaped(L, p, st);
			/* the moment of a death by signal (SIGBUS from a
			 * full tmpfs): how full each one is now */
			if (WIFSIGNALED(st))
				capacity_record(L, &L->cap, p);
			else
				capacity_sample(&L->cap);
			procseen_reaped(p);
			if (p == main_pid) {
				main_status = st;
				main_done = 1;
			}
		}
		if (p < 0 && errno == ECHILD)
			break;
		if (main_done && (main_only || stop)) {
			say_still_running(why);
			break;
		}
		siginfo_t si;
		int sig = sigtimedwait(set, &si, &period);
		if (sig > 0 && sig != SIGCHLD) {
			if (si.si_code != SI_KERNEL && !main_done)
				kill(main_pid, sig);	/* a tty's reached it already */
			snprintf(whybuf, sizeof(whybuf), "stopped waiting on SIG%s",
				 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
			why = whybuf;
			if (stop++ && !main_done) {	/* the second: now */
				say_still_running(why);
				main_status = sig;	/* as if killed by it */
				break;
			}
		}
		/* on every wake, signal or not: a storm of SIGCHLD must not
		 * starve the copy */
		populate_ahead(L, used_slots(L), POPULATE_AHEAD);
		if (clock_now_ns() - last_sync >= SYNC_PERIOD_NS) {
			capacity_sample(&L->cap);
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
