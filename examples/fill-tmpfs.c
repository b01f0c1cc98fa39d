/*
 * fill-tmpfs.c - write into a shared mapping until its tmpfs is full.
 *
 *   fill-tmpfs [--child] FILE BYTES    a file (on a tmpfs), mapped MAP_SHARED
 *   fill-tmpfs [--child] /NAME BYTES   a POSIX object (shm_open: on /dev/shm)
 *
 * Sizes the object to BYTES with ftruncate (which succeeds past what the
 * tmpfs holds: the file is sparse), maps it and writes one byte a page.
 * When the tmpfs has no page left, the write that needs one raises
 * SIGBUS and the program dies of it - what a PyTorch DataLoader or a
 * Chrome renderer does on a full /dev/shm.  If BYTES fit, it says so and
 * exits 0, leaving the object in place.  With --child a forked child does
 * the writing and the program reaps it, as a DataLoader's main process
 * reaps its workers: it says how the child ended and exits 1 when a
 * signal killed it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int fill(char **argv);

int main(int argc, char **argv)
{
	int child = argc == 4 && !strcmp(argv[1], "--child"), status;

	if (argc != 3 + child) {
		fprintf(stderr, "usage: fill-tmpfs [--child] FILE|/NAME BYTES\n");
		return 2;
	}
	if (!child)
		return fill(argv);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fill-tmpfs: fork");
		return 1;
	}
	if (pid == 0)
		_exit(fill(argv + 1));
	if (waitpid(pid, &status, 0) != pid) {
		perror("fill-tmpfs: waitpid");
		return 1;
	}
	if (WIFSIGNALED(status)) {
		printf("fill-tmpfs: child %d killed by signal %d\n", (int)pid,
		       WTERMSIG(status));
		return 1;
	}
	return WEXITSTATUS(status);
}

static int fill(char **argv)
{
	char *end;
	int fd;

	size_t size = strtoull(argv[2], &end, 0);
	if (*end || !size) {
		fprintf(stderr, "fill-tmpfs: bad size '%s'\n", argv[2]);
		return 2;
	}
	/* "/NAME" with no other slash is a POSIX object's name */
	if (argv[1][0] == '/' && !strchr(argv[1] + 1, '/'))
		fd = shm_open(argv[1], O_CREAT | O_RDWR, 0600);
	else
		fd = open(argv[1], O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		fprintf(stderr, "fill-tmpfs: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "fill-tmpfs: mmap: %s\n", strerror(errno));
		return 1;
	}
	printf("fill-tmpfs: mapped %zu bytes of %s, writing\n", size, argv[1]);
	fflush(stdout);
	long page = sysconf(_SC_PAGESIZE);
	for (size_t off = 0; off < size; off += (size_t)page)
		p[off] = 1;	/* SIGBUS here once the tmpfs is full */
	printf("fill-tmpfs: all %zu bytes fit\n", size);
	return 0;
}
