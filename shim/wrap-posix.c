/*
 * wrap-posix.c - POSIX shared memory and memfd: shm_open, shm_unlink,
 * memfd_create, and the descriptor calls that matter for the descriptors
 * they return (ftruncate, close, close_range, dup*).  Calls on other
 * descriptors forward at once.
 */
#include "real.h"
#include "recorder.h"
#include "track.h"
#include "object.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Records a call that returns a new descriptor of kind `obj` named `name`
 * and starts tracking that descriptor.  shm_open and memfd_create keep
 * their flags in the same slot. */
_Static_assert(SHMT_ARG_SHM_OPEN_OFLAG == SHMT_ARG_MEMFD_FLAGS,
	       "one slot for the flags of both");
static void note_new_fd(struct rec_ctx *c, uint16_t call, uint32_t obj, int fd,
			const char *name, uint64_t a1, uint64_t a2, int created)
{
	int err = fd < 0 ? errno : 0;
	struct rec_event ev = {
		.call = call, .ret = fd, .err = err,
		.flags = created ? SHMT_EVF_CREATED : 0,
		.str = name, .str_len = name ? strlen(name) : 0,
		.args = { [SHMT_ARG_SHM_OPEN_OFLAG] = a1,
			  [SHMT_ARG_SHM_OPEN_MODE] = a2 },
	};
	struct object_info oi;
	if (fd >= 0) {
		/* its (dev, inode), which a mapping anywhere joins it by: a
		 * descriptor passed on, opened by path or through /proc (one
		 * fstat; the name is known, no readlink) */
		object_inspect(fd, 0, &oi);
		oi.kind = obj;
		_Static_assert(SHMT_ARG_MEMFD_INODE == SHMT_ARG_SHM_OPEN_INODE,
			       "one slot for the inode of both");
		ev.args[SHMT_ARG_MEMFD_INODE] = oi.inode;
	}
	uint64_t seq = rec_end(c, &ev);
	if (fd >= 0) {
		track_fd_set(fd, obj, seq);
		object_note(&oi, fd, seq);
	}
}

/* As shmget_observed (wrap-sysv.c): O_CREAT without O_EXCL is tried with
 * O_EXCL first, so the trace knows whether this call created the object. */
static int shm_open_observed(__typeof__(&shm_open) real, const char *name,
			     int oflag, mode_t mode, int *created)
{
	int fd;
	if ((oflag & (O_CREAT | O_EXCL)) == O_CREAT) {
		int saved = errno;
		fd = real(name, oflag | O_EXCL, mode);
		if (fd >= 0 || errno != EEXIST) {
			*created = fd >= 0;
			return fd;
		}
		*created = 0;
		errno = saved;	/* the probe's EEXIST is not the program's */
		return real(name, oflag, mode);
	}
	fd = real(name, oflag, mode);
	*created = fd >= 0 && (oflag & O_CREAT);
	return fd;
}

SHIM_EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
	REAL_OR(shm_open, -1);
	struct rec_ctx c;
	if (!rec_begin(&c))
		return real_shm_open(name, oflag, mode);
	int created;
	int fd = shm_open_observed(real_shm_open, name, oflag, mode, &created);
	note_new_fd(&c, SHMT_CALL_SHM_OPEN, SHMT_OBJ_POSIX, fd, name,
		    (uint32_t)oflag, mode, created);
	return fd;
}

SHIM_EXPORT int memfd_create(const char *name, unsigned int flags)
{
	REAL_OR(memfd_create, -1);
	struct rec_ctx c;
	int on = rec_begin(&c);
	int fd = real_memfd_create(name, flags);
	if (on)
		note_new_fd(&c, SHMT_CALL_MEMFD_CREATE, SHMT_OBJ_MEMFD, fd, name,
			    flags, 0, fd >= 0);
	return fd;
}

SHIM_EXPORT int shm_unlink(const char *name)
{
	REAL_OR(shm_unlink, -1);
	struct rec_ctx c;
	int on = rec_begin(&c);
	int ret = real_shm_unlink(name);
	if (on) {
		struct rec_event ev = {
			.call = SHMT_CALL_SHM_UNLINK, .ret = ret,
			.err = ret < 0 ? errno : 0,
			.str = name, .str_len = name ? strlen(name) : 0,
		};
		rec_end(&c, &ev);
	}
	return ret;
}

SHIM_EXPORT int ftruncate(int fd, off_t length)
{
	REAL_OR(ftruncate, -1);
	uint32_t obj;
	uint64_t origin;
	struct rec_ctx c;
	if (!track_fd_get(fd, &obj, &origin) || !rec_begin(&c))
		return real_ftruncate(fd, length);
	int ret = real_ftruncate(fd, length);
	struct rec_event ev = {
		.call = SHMT_CALL_FTRUNCATE, .ret = ret, .err = ret < 0 ? errno : 0,
		.obj = obj,
		.args = { [SHMT_ARG_FTRUNCATE_FD] = (uint64_t)fd,
			  [SHMT_ARG_FTRUNCATE_LENGTH] = (uint64_t)length,
			  [SHMT_ARG_FTRUNCATE_ORIGIN] = origin },
	};
	rec_end(&c, &ev);
	return ret;
}

SHIM_EXPORT extern __typeof__(ftruncate) ftruncate64
	__attribute__((alias("ftruncate")));

SHIM_EXPORT int close(int fd)
{
	REAL_OR(close, -1);
	uint32_t obj;
	uint64_t origin;
	struct rec_ctx c;
	if (fd >= 0 && fd == rec_region_fd())
		return 0;	/* the region's, for descendants (as if closed) */
	if (!track_fd_get(fd, &obj, &origin))
		return real_close(fd);
	track_fd_clear(fd);	/* gone whatever close returns (Linux) */
	if (!rec_begin(&c))
		return real_close(fd);
	int ret = real_close(fd);
	struct rec_event ev = {
		.call = SHMT_CALL_CLOSE, .ret = ret, .err = ret < 0 ? errno : 0,
		.obj = obj,
		.args = { [SHMT_ARG_CLOSE_FD] = (uint64_t)fd,
			  [SHMT_ARG_CLOSE_ORIGIN] = origin },
	};
	rec_end(&c, &ev);
	return ret;
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	REAL_OR(close_range, -1);
	int keep = rec_region_fd();
	if (keep >= 0 && first <= (unsigned)keep && (unsigned)keep <= last) {
		/* around the region's descriptor, kept for descendants */
		int ret = first < (unsigned)keep ?
			real_close_range(first, (unsigned)keep - 1, flags) : 0;
		if (ret == 0 && (unsigned)keep < last)
			ret = real_close_range((unsigned)keep + 1, last, flags);
		if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
			track_fd_clear_range(first, last);
		return ret;
	}
	int ret = real_close_range(first, last, flags);
	if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		track_fd_clear_range(first, last);
	return ret;
}

SHIM_EXPORT int dup(int oldfd)
{
	REAL_OR(dup, -1);
	int ret = real_dup(oldfd);
	if (ret >= 0)
		track_fd_dup(oldfd, ret);
	return ret;
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	REAL_OR(dup2, -1);
	int ret = real_dup2(oldfd, newfd);
	if (ret >= 0 && newfd == rec_region_fd() && oldfd != newfd)
		rec_region_fd_lost();
	if (ret >= 0)
		track_fd_dup(oldfd, ret);
	return ret;
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	REAL_OR(dup3, -1);
	int ret = real_dup3(oldfd, newfd, flags);
	if (ret >= 0 && newfd == rec_region_fd())
		rec_region_fd_lost();
	if (ret >= 0)
		track_fd_dup(oldfd, ret);
	return ret;
}
