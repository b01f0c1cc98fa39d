/*
 * shmt-deepbind.c - a library that shares memory on its own, for
 * examples/deepbind.c to load with RTLD_DEEPBIND (as php-fpm loads
 * opcache): its mmap and shm_open bind to libc before the preloaded shim.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Makes POSIX object `name` (4096 bytes) and a 64 KiB anonymous shared
 * zone, writes into both, unmaps and unlinks them.  Returns 0 on success.
 * Static: a stripped copy of the library keeps no name for it. */
static __attribute__((noinline)) int share_and_remove(const char *name)
{
	int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return -1;
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *z = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || z == MAP_FAILED)
		return -1;
	strcpy(p, "deepbind");
	strcpy(z, "zone");
	munmap(z, 65536);
	munmap(p, 4096);
	close(fd);
	return shm_unlink(name);
}

int shmt_deepbind_work(const char *name)
{
	int r = share_and_remove(name);
	__asm__ volatile("" ::: "memory");	/* not a tail call: a frame */
	return r;
}
