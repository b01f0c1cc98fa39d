/*
 * rely.c - the corner cases a tracer must survive unchanged, one per mode
 * (tests/e2e/reliability.py runs each bare and traced and compares).
 *
 *   rely errno KEY NAME     errno after successful "open or create" calls
 *                           of an existing SysV key and POSIX name
 *   rely settls             a child made by clone(CLONE_VM|CLONE_VFORK|
 *                           CLONE_SETTLS) with a zeroed TLS block maps
 *                           shared memory and calls _exit (as Chromium's
 *                           sandbox helper does)
 *   rely rawfork            children made by syscall(SYS_fork) and by
 *                           clone(SIGCHLD) each map a shared page
 *
 * Each mode prints only facts that do not depend on timing or addresses,
 * and exits 0 when every call behaved as it does without a tracer.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAGIC_ERRNO 12345

/* errno must be left alone by a call that succeeds (C11 7.5p3), here by
 * open-or-create calls of objects that already exist. */
static int mode_errno(key_t key, const char *name)
{
	int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (id < 0 || fd < 0) {
		perror("rely errno: create");
		return 1;
	}
	close(fd);
	errno = MAGIC_ERRNO;
	int again = shmget(key, 4096, IPC_CREAT | 0600);
	printf("shmget IPC_CREAT: %s, errno %d\n", again == id ? "same id" : "other",
	       errno);
	errno = MAGIC_ERRNO;
	fd = shm_open(name, O_RDWR | O_CREAT, 0600);
	printf("shm_open O_CREAT: %s, errno %d\n", fd >= 0 ? "ok" : "failed", errno);
	close(fd);
	errno = MAGIC_ERRNO;
	fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	printf("shm_open O_CREAT|O_TRUNC: %s, errno %d\n", fd >= 0 ? "ok" : "failed",
	       errno);
	close(fd);
	shmctl(id, IPC_RMID, NULL);
	shm_unlink(name);
	return 0;
}

/* A shared page mapped and unmapped; 0 when both worked. */
static int map_shared_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	*(volatile char *)p = 1;
	return munmap(p, 4096) != 0;
}

static int settls_child(void *arg)
{
	(void)arg;
	_exit(map_shared_page() ? 1 : 7);
}

static int mode_settls(void)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	static char tls[16384] __attribute__((aligned(64)));	/* all zero */
	pid_t pid = clone(settls_child, stack + sizeof(stack),
			  CLONE_VM | CLONE_VFORK | CLONE_SETTLS | SIGCHLD,
			  NULL, NULL, tls, NULL);
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		perror("rely settls");
		return 1;
	}
	printf("settls child: %s %d\n", WIFEXITED(st) ? "exit" : "signal",
	       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}

static int clone_child(void *arg)
{
	(void)arg;
	return map_shared_page() ? 1 : 5;
}

static int mode_rawfork(void)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	pid_t kids[2];
	kids[0] = (pid_t)syscall(SYS_fork);
	if (kids[0] == 0)
		_exit(map_shared_page() ? 1 : 4);
	kids[1] = clone(clone_child, stack + sizeof(stack), SIGCHLD, NULL);
	for (int i = 0; i < 2; i++) {
		int st = 0;
		if (kids[i] < 0 || waitpid(kids[i], &st, 0) != kids[i]) {
			perror("rely rawfork");
			return 1;
		}
		printf("%s child: exit %d\n", i ? "clone" : "SYS_fork",
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "errno") && argc == 4)
		return mode_errno((key_t)strtoul(argv[2], NULL, 0), argv[3]);
	if (!strcmp(mode, "settls"))
		return mode_settls();
	if (!strcmp(mode, "rawfork"))
		return mode_rawfork();
	fprintf(stderr, "usage: rely MODE ARGS (see the source)\n");
	return 2;
}
