/*
 * wrap-sem.c - POSIX named semaphores: sem_open, sem_close, sem_unlink.
 *
 * A named semaphore is a file /dev/shm/sem.NAME that glibc maps shared
 * (with its internal mmap, which the shim does not see); glibc makes a
 * new one under a temporary name and links it into place, so the object
 * is known by its inode, which an object record after sem_open carries.
 */
#include "real.h"
#include "recorder.h"
#include "object.h"

#include <fcntl.h>
#include <semaphore.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What stat says of /dev/shm/sem.NAME (glibc's place for NAME, leading
 * slashes dropped), in the shape of an object record. */
static void sem_inspect(const char *name, struct object_info *o)
{
	static const char dir[] = "/dev/shm/sem.";
	struct stat st;
	int saved = errno;
	memset(o, 0, sizeof(*o));
	o->kind = SHMT_OBJ_SEM;
	while (*name == '/')
		name++;
	size_t n = strnlen(name, sizeof(o->path) - sizeof(dir));
	memcpy(o->path, dir, sizeof(dir) - 1);
	memcpy(o->path + sizeof(dir) - 1, name, n);
	o->path_len = (uint32_t)(sizeof(dir) - 1 + n);
	o->path[o->path_len] = '\0';
	if (syscall(SYS_newfstatat, AT_FDCWD, o->path, &st, 0) != 0) {
		o->fstat_err = errno;
	} else {
		o->dev = st.st_dev;
		o->inode = st.st_ino;
		o->size = (uint64_t)st.st_size;
		o->mode = st.st_mode;
	}
	errno = saved;
}

/* As shm_open_observed (wrap-posix.c): O_CREAT alone is tried with O_EXCL
 * first, so the trace knows whether this call made the semaphore. */
static sem_t *sem_open_observed(__typeof__(&sem_open) real, const char *name,
				int oflag, mode_t mode, unsigned value,
				int *created)
{
	sem_t *s;
	if ((oflag & (O_CREAT | O_EXCL)) == O_CREAT) {
		s = real(name, oflag | O_EXCL, mode, value);
		if (s != SEM_FAILED || errno != EEXIST) {
			*created = s != SEM_FAILED;
			return s;
		}
		*created = 0;
		return real(name, oflag, mode, value);
	}
	s = real(name, oflag, mode, value);
	*created = s != SEM_FAILED && (oflag & O_CREAT);
	return s;
}

SHIM_EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
	mode_t mode = 0;
	unsigned value = 0;
	if (oflag & O_CREAT) {	/* the two arguments exist only then */
		va_list ap;
		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		value = va_arg(ap, unsigned);
		va_end(ap);
	}
	REAL_OR(sem_open, SEM_FAILED);
	struct rec_ctx c;
	if (!rec_begin(&c))
		return real_sem_open(name, oflag, mode, value);
	int created;
	sem_t *s = sem_open_observed(real_sem_open, name, oflag, mode, value,
				     &created);
	int err = s == SEM_FAILED ? errno : 0;
	struct object_info oi;
	if (!err)
		sem_inspect(name, &oi);
	struct rec_event ev = {
		.call = SHMT_CALL_SEM_OPEN, .err = err,
		.ret = s == SEM_FAILED ? -1 : (int64_t)(uintptr_t)s,
		.obj = SHMT_OBJ_SEM, .flags = created ? SHMT_EVF_CREATED : 0,
		.str = name, .str_len = strlen(name),
		.args = { [SHMT_ARG_SEM_OPEN_OFLAG] = (uint32_t)oflag,
			  [SHMT_ARG_SEM_OPEN_MODE] = mode,
			  [SHMT_ARG_SEM_OPEN_VALUE] = value,
			  [SHMT_ARG_INODE] = err ? 0 : oi.inode },
	};
	uint64_t seq = rec_end(&c, &ev);
	if (!err)
		object_note(&oi, -1, seq);
	return s;
}

SHIM_EXPORT int sem_close(sem_t *sem)
{
	REAL_OR(sem_close, -1);
	struct rec_ctx c;
	int on = rec_begin(&c);
	int ret = real_sem_close(sem);
	if (on) {
		struct rec_event ev = {
			.call = SHMT_CALL_SEM_CLOSE, .ret = ret,
			.err = ret < 0 ? errno : 0, .obj = SHMT_OBJ_SEM,
			.args = { [SHMT_ARG_SEM_CLOSE_ADDR] = (uintptr_t)sem },
		};
		rec_end(&c, &ev);
	}
	return ret;
}

SHIM_EXPORT int sem_unlink(const char *name)
{
	REAL_OR(sem_unlink, -1);
	struct rec_ctx c;
	int on = rec_begin(&c);
	int ret = real_sem_unlink(name);
	if (on) {
		struct rec_event ev = {
			.call = SHMT_CALL_SEM_UNLINK, .ret = ret,
			.err = ret < 0 ? errno : 0, .obj = SHMT_OBJ_SEM,
			.str = name, .str_len = strlen(name),
		};
		rec_end(&c, &ev);
	}
	return ret;
}
