/*
 * region-file.c - the system part of a trace region: creating its file,
 * mapping it, and the run's random token.  The pure part (layout, header,
 * checks) is region-layout.c.
 *
 * This file is linked into the shim too, which exports its own close,
 * ftruncate and mmap: calling those through libc here would go through
 * the shim's wrappers (and their dlsym on first use).  Every call the shim
 * interposes is made as a raw system call instead; the unit test
 * test-shim-self-calls checks that no call of the shim binds to the shim.
 */
#include "region.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Removes what sits at `path` so a new file can take its place, refusing
 * to remove a directory. */
static int remove_existing(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	return unlink(path);
}

int region_create_file(const char *path, uint64_t size, int force)
{
	if (force && remove_existing(path) != 0)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0600);
	if (fd < 0)
		return -1;
	int err = posix_fallocate(fd, 0, (off_t)size);
	if (err == EOPNOTSUPP || err == EINVAL)	/* fs without fallocate */
		err = syscall(SYS_ftruncate, fd, (off_t)size) ? errno : 0;
	if (err) {
		unlink(path);
		syscall(SYS_close, fd);
		errno = err;
		return -1;
	}
	return fd;
}

void *region_map(int fd, uint64_t size)
{
	long p = syscall(SYS_mmap, NULL, (size_t)size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0L);
	return p == -1 ? NULL : (void *)p;
}

uint64_t region_token(void)
{
	uint64_t t;
	if (getrandom(&t, sizeof(t), GRND_NONBLOCK) == (ssize_t)sizeof(t))
		return t;
	return clock_now_ns() * 0x9e3779b97f4a7c15u ^ (uint64_t)getpid();
}
