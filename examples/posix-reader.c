/*
 * posix-reader.c - read what posix-writer left in a POSIX shm object.
 *
 *   posix-reader [--unlink] [NAME]        NAME defaults to "/shmtrace-demo"
 *
 * shm_open(NAME, O_RDONLY, 0), fstat for the size, mmap(PROT_READ,
 * MAP_SHARED), print the message, munmap, close; --unlink then removes the
 * object with shm_unlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *name = "/shmtrace-demo";
	int do_unlink = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--unlink") == 0)
			do_unlink = 1;
		else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: posix-reader [--unlink] [NAME]\n");
			return 2;
		} else
			name = argv[i];
	}

	int fd = shm_open(name, O_RDONLY, 0);
	if (fd == -1) {
		fprintf(stderr, "posix-reader: shm_open(%s): %s\n", name,
			strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) == -1) {
		fprintf(stderr, "posix-reader: fstat: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	if (st.st_size <= 0) {
		fprintf(stderr, "posix-reader: the object is empty\n");
		close(fd);
		return 1;
	}
	size_t size = (size_t)st.st_size;
	const char *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "posix-reader: mmap: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	printf("reader: %zu bytes, read \"%.*s\"\n", size,
	       (int)strnlen(p, size), p);

	if (munmap((void *)p, size) == -1) {
		fprintf(stderr, "posix-reader: munmap: %s\n", strerror(errno));
		return 1;
	}
	if (close(fd) == -1) {
		fprintf(stderr, "posix-reader: close: %s\n", strerror(errno));
		return 1;
	}
	if (do_unlink) {
		if (shm_unlink(name) == -1) {
			fprintf(stderr, "posix-reader: shm_unlink: %s\n",
				strerror(errno));
			return 1;
		}
		printf("reader: unlinked\n");
	}
	return 0;
}
