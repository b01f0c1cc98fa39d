/*
 * rely.c - the corner cases a tracer must survive unchanged, one per mode
 * (tests/e2e/reliability.py runs each bare and traced and compares).
 *
 *   rely errno KEY NAME     errno after successful "open or create" calls
 *                           of an existing SysV key and POSIX name
 *
 * Each mode prints only facts that do not depend on timing or addresses,
 * and exits 0 when every call behaved as it does without a tracer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
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

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "errno") && argc == 4)
		return mode_errno((key_t)strtoul(argv[2], NULL, 0), argv[3]);
	fprintf(stderr, "usage: rely MODE ARGS (see the source)\n");
	return 2;
}
