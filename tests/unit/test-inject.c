/*
 * test-inject.c - calling into a running process by ptrace (launcher/
 * inject.c): a library loaded with dlopen and its entry point called in a
 * child that is blocked in read(2) while another of its threads sleeps in
 * a loop; neither sees EINTR or any other change, and the child's reads
 * go on as before.  A library that cannot be loaded is one true error and
 * leaves the child as it was.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "inject.h"

#define PROBE "build/tests/inject-probe.so"

static volatile int sleeper_eintr;

/* The other thread: short sleeps, counting any that were cut short. */
static void *sleeper(void *arg)
{
	for (;;) {
		struct timespec t = { 0, 1000000 };
		if (nanosleep(&t, NULL) < 0 && errno == EINTR)
			sleeper_eintr++;
	}
	return arg;
}

/* The target: echoes every byte from `in` to `out` until EOF, then exits
 * with 0, or 1 when a read or a sleep saw EINTR, or 2 when the probe is
 * not loaded, or 3 if it was loaded but its constructor did not run. */
static int child_main(int in, int out)
{
	pthread_t t;
	pthread_create(&t, NULL, sleeper, NULL);
	char c;
	for (;;) {
		ssize_t n = read(in, &c, 1);
		if (n < 0 && errno == EINTR)
			return 1;
		if (n <= 0)
			break;
		if (write(out, &c, 1) != 1)
			return 4;
	}
	if (sleeper_eintr)
		return 1;
	void *h = dlopen(PROBE, RTLD_NOW | RTLD_NOLOAD);
	if (!h)
		return 2;
	int *mark = dlsym(h, "probe_constructed");
	return mark && *mark ? 0 : 3;
}

static int echo(int to, int from, char c)
{
	char back = 0;
	return write(to, &c, 1) == 1 && read(from, &back, 1) == 1 && back == c;
}

/* /proc says the child's main thread waits in read(2) */
static void wait_blocked(pid_t pid)
{
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	for (int i = 0; i < 100000; i++) {
		FILE *f = fopen(path, "r");
		long nr = -1;
		if (f) {
			if (fgets(buf, sizeof(buf), f))
				nr = strtol(buf, NULL, 10);
			fclose(f);
		}
		if (nr == 0)	/* SYS_read */
			return;
		usleep(100);
	}
}

int main(void)
{
	int down[2], up[2];
	if (pipe(down) || pipe(up))
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(down[1]);
		close(up[0]);
		_exit(child_main(down[0], up[1]));
	}
	close(down[0]);
	close(up[1]);
	CHECK(echo(down[1], up[0], 'a'), "the child echoes before the attach");
	wait_blocked(pid);

	uint64_t mine = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "getpid");
	CHECK(inject_symbol(pid, "/libc.so.6", "getpid") == mine,
	      "inject_symbol finds libc's getpid where fork left it");
	CHECK(inject_symbol(pid, "/libc.so.6", "no_such_symbol_here") == 0 &&
	      inject_symbol(pid, "/no-such-module.so", "getpid") == 0,
	      "inject_symbol: no symbol, no module: 0");

	char why[256] = "";
	int64_t ret = 0;
	int rc = inject_library(pid, "/nonexistent/libnothing.so", "probe_entry",
				"x", &ret, why, sizeof(why));
	CHECK(rc < 0 && strstr(why, "dlopen in process") && strstr(why, "libnothing.so"),
	      "a library that cannot be loaded: one true error (%s)", why);
	CHECK(echo(down[1], up[0], 'b'), "the child echoes after a failed attach");

	char probe[4096];
	if (!realpath(PROBE, probe))
		snprintf(probe, sizeof(probe), "%s", PROBE);
	wait_blocked(pid);
	rc = inject_library(pid, probe, "probe_entry", "shared memory", &ret, why,
			    sizeof(why));
	CHECK(rc == 0 && ret == 13 * 7, "the probe is loaded and its entry returns "
	      "what it computed (rc %d, ret %ld, %s)", rc, (long)ret, why);
	CHECK(echo(down[1], up[0], 'c'), "the child echoes after the attach");

	close(down[1]);
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the child saw no EINTR and has the probe loaded, constructed "
	      "(status 0x%x)", st);
	return check_exit();
}
