/*
 * memfd-share.c - share an anonymous memfd with a forked child.
 *
 *   memfd-share
 *
 * memfd_create("shmtrace-memfd", MFD_CLOEXEC), ftruncate, mmap MAP_SHARED;
 * the parent writes a message, forks, and the child reads it through the
 * mapping it inherited.  The parent waits, then munmaps and closes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MEMFD_SIZE 4096
#define MESSAGE "hello through a memfd"

int main(void)
{
	int fd = memfd_create("shmtrace-memfd", MFD_CLOEXEC);
	if (fd == -1) {
		fprintf(stderr, "memfd-share: memfd_create: %s\n", strerror(errno));
		return 1;
	}
	if (ftruncate(fd, MEMFD_SIZE) == -1) {
		fprintf(stderr, "memfd-share: ftruncate: %s\n", strerror(errno));
		return 1;
	}
	char *p = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "memfd-share: mmap: %s\n", strerror(errno));
		return 1;
	}
	memcpy(p, MESSAGE, sizeof MESSAGE);
	printf("parent: wrote \"%s\"\n", MESSAGE);
	fflush(stdout);

	pid_t child = fork();
	if (child == -1) {
		fprintf(stderr, "memfd-share: fork: %s\n", strerror(errno));
		return 1;
	}
	if (child == 0) {
		/* Same physical pages: the parent's write is visible here. */
		int same = strncmp(p, MESSAGE, MEMFD_SIZE) == 0;
		printf("child: read \"%.*s\"\n", (int)strnlen(p, MEMFD_SIZE), p);
		strcpy(p + 1024, "child was here");
		exit(same ? 0 : 1);
	}

	int status;
	if (waitpid(child, &status, 0) == -1) {
		fprintf(stderr, "memfd-share: waitpid: %s\n", strerror(errno));
		return 1;
	}
	int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		 strcmp(p + 1024, "child was here") == 0;
	printf("parent: child %s\n", ok ? "ok" : "FAILED");

	if (munmap(p, MEMFD_SIZE) == -1 || close(fd) == -1) {
		fprintf(stderr, "memfd-share: cleanup: %s\n", strerror(errno));
		return 1;
	}
	return ok ? 0 : 1;
}
