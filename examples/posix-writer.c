/*
 * posix-writer.c - create a POSIX shared memory object and write into it.
 *
 *   posix-writer [--unlink] [NAME]        NAME defaults to "/shmtrace-demo"
 *
 * shm_open(NAME, O_CREAT|O_RDWR, 0600), ftruncate to 4 KiB, mmap it
 * MAP_SHARED, write a message, munmap, close.  The object then lives on in
 * /dev/shm until someone calls shm_unlink: by default nobody does (the
 * leak; posix-reader --unlink cleans up), with --unlink the writer does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define OBJ_SIZE 4096
#define MESSAGE "hello from posix-writer"

int main(int argc, char **argv)
{
	const char *name = "/shmtrace-demo";
	int do_unlink = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--unlink") == 0)
			do_unlink = 1;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: posix-writer [--unlink] [NAME]\n");
			return 2;
		} else
			name = argv[i];
	}

	int fd = shm_open(name, O_CREAT | O_RDWR, 0600);
	if (fd == -1) {
		fprintf(stderr, "posix-writer: shm_open(%s): %s\n", name,
			strerror(errno));
		return 1;
	}
	if (ftruncate(fd, OBJ_SIZE) == -1) {
		fprintf(stderr, "posix-writer: ftruncate: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	char *p = mmap(NULL, OBJ_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "posix-writer: mmap: %s\n", strerror(errno));
		close(fd);
		return 1;
	}

	memset(p, 0, OBJ_SIZE);
	memcpy(p, MESSAGE, sizeof MESSAGE);
	printf("writer: wrote \"%s\" (%d bytes object)\n", MESSAGE, OBJ_SIZE);

	if (munmap(p, OBJ_SIZE) == -1) {
		fprintf(stderr, "posix-writer: munmap: %s\n", strerror(errno));
		return 1;
	}
	if (close(fd) == -1) {
		fprintf(stderr, "posix-writer: close: %s\n", strerror(errno));
		return 1;
	}
	if (do_unlink) {
		if (shm_unlink(name) == -1) {
			fprintf(stderr, "posix-writer: shm_unlink: %s\n",
				strerror(errno));
			return 1;
		}
		printf("writer: unlinked\n");
	} else {
		printf("writer: object left in place\n");
	}
	return 0;
}
