/*
 * spawn-exec.c - process creation the tracer has to follow.
 *
 *   spawn-exec [NAME]          NAME: a POSIX shm name for the first child,
 *                              default "/shmtrace-spawn-<pid>"
 *
 * In order, waiting for each child before the next step:
 *   1. fork + execv of itself as "--child-shm NAME": the new image does
 *      shm_open(NAME, O_CREAT|O_RDWR, 0600) + shm_unlink(NAME);
 *   2. vfork + execve of itself as "--child-noenv" with an environment of
 *      only PATH, so LD_PRELOAD is gone: a tracer must put it back to keep
 *      following the child, which maps and unmaps a shared anonymous page;
 *   3. posix_spawn of /bin/true;
 *   4. execv of a path that does not exist: it fails with ENOENT and the
 *      program carries on;
 *   5. a thread that creates and removes an IPC_PRIVATE SysV segment.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#define MISSING_PROGRAM "/nonexistent/shmtrace-no-such-program"

extern char **environ;

/* Child mode 1: a POSIX shm object created and removed by the new image. */
static int child_shm(const char *name)
{
	int fd = shm_open(name, O_CREAT | O_RDWR, 0600);
	if (fd == -1) {
		fprintf(stderr, "spawn-exec: child shm_open(%s): %s\n", name,
			strerror(errno));
		return 1;
	}
	close(fd);
	if (shm_unlink(name) == -1) {
		fprintf(stderr, "spawn-exec: child shm_unlink: %s\n", strerror(errno));
		return 1;
	}
	printf("child-shm: created and unlinked a POSIX object\n");
	return 0;
}

/* Child mode 2: started with a sanitised environment. */
static int child_noenv(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "spawn-exec: child mmap: %s\n", strerror(errno));
		return 1;
	}
	munmap(p, 4096);
	printf("child-noenv: mapped and unmapped a shared page\n");
	return 0;
}

static int wait_child(pid_t pid, const char *what)
{
	int status;
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "spawn-exec: waitpid: %s\n", strerror(errno));
			return 1;
		}
	}
	if (WIFEXITED(status)) {
		printf("%s: exit %d\n", what, WEXITSTATUS(status));
		return WEXITSTATUS(status) != 0;
	}
	printf("%s: killed by signal %d\n", what, WTERMSIG(status));
	return 1;
}

static void *thread_main(void *arg)
{
	int *failed = arg;
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id == -1 || shmctl(id, IPC_RMID, NULL) == -1) {
		fprintf(stderr, "spawn-exec: thread shm: %s\n", strerror(errno));
		*failed = 1;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--child-shm") == 0)
		return child_shm(argv[2]);
	if (argc == 2 && strcmp(argv[1], "--child-noenv") == 0)
		return child_noenv();

	char name[NAME_MAX];
	if (argc == 2 && argv[1][0] == '/')
		snprintf(name, sizeof name, "%s", argv[1]);
	else if (argc == 1)
		snprintf(name, sizeof name, "/shmtrace-spawn-%ld", (long)getpid());
	else {
		fprintf(stderr, "usage: spawn-exec [/NAME]\n");
		return 2;
	}

	static char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		fprintf(stderr, "spawn-exec: readlink(/proc/self/exe): %s\n",
			strerror(errno));
		return 1;
	}
	self[n] = '\0';
	int failed = 0;

	/* 1. fork + execv */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == -1) {
		fprintf(stderr, "spawn-exec: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		char *cargv[] = { self, "--child-shm", name, NULL };
		execv(self, cargv);
		_exit(127);
	}
	failed |= wait_child(pid, "fork+execv");

	/* 2. vfork + execve with an environment lacking LD_PRELOAD.  Everything
	 * the child touches is prepared before vfork. */
	static char *vargv[] = { NULL, "--child-noenv", NULL };
	static char *venvp[] = { "PATH=/usr/bin:/bin", NULL };
	vargv[0] = self;
	fflush(stdout);
	pid = vfork();
	if (pid == -1) {
		fprintf(stderr, "spawn-exec: vfork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execve(self, vargv, venvp);
		_exit(127);
	}
	failed |= wait_child(pid, "vfork+execve");

	/* 3. posix_spawn */
	char *sargv[] = { "true", NULL };
	fflush(stdout);
	int err = posix_spawn(&pid, "/bin/true", NULL, NULL, sargv, environ);
	if (err != 0) {
		fprintf(stderr, "spawn-exec: posix_spawn: %s\n", strerror(err));
		return 1;
	}
	failed |= wait_child(pid, "posix_spawn");

	/* 4. an exec that fails: the program goes on */
	char *margv[] = { MISSING_PROGRAM, NULL };
	execv(MISSING_PROGRAM, margv);
	printf("execv of a missing program: %s\n",
	       errno == ENOENT ? "ENOENT" : strerror(errno));
	if (errno != ENOENT)
		failed = 1;

	/* 5. a thread making and removing a SysV segment */
	pthread_t t;
	int tfailed = 0;
	err = pthread_create(&t, NULL, thread_main, &tfailed);
	if (err != 0) {
		fprintf(stderr, "spawn-exec: pthread_create: %s\n", strerror(err));
		return 1;
	}
	pthread_join(t, NULL);
	printf("thread: SysV segment %s\n", tfailed ? "FAILED" : "created and removed");
	failed |= tfailed;

	printf("spawn-exec: %s\n", failed ? "FAILED" : "done");
	return failed ? 1 : 0;
}
