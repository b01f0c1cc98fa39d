/* object.c - fstat and readlink of a descriptor, as an object record. */
#include "object.h"
#include "recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "/proc/self/fd/<fd>" without snprintf (async-signal-safe). */
static void fd_link_path(int fd, char *buf)
{
	char digits[12];
	int n = 0;
	unsigned v = (unsigned)fd;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 11);
	strcpy(buf, "/proc/self/fd/");
	char *p = buf + strlen(buf);
	while (n)
		*p++ = digits[--n];
	*p = '\0';
}

/* Objects this process has named already: a readlink of /proc/self/fd
 * costs about 3 us (a /proc lookup), ten times the fstat, and a server
 * maps one file per request.  Once an object's path is in the trace, its
 * later records carry (dev, inode) alone, which the viewer joins by.  A
 * direct-mapped table of hashes, lock-free: a lost race costs one more
 * readlink; a fork child inherits it with the trace that explains it. */
#define SEEN_SLOTS 256
static uint64_t seen[SEEN_SLOTS];

/* A slot holds the hash of (dev, inode, change time) above its low byte,
 * and the kind the link said (0x80 | kind) in it.  The change time tells
 * an inode number a freed file gave to a new one (its path must be read
 * again), at the price of one more readlink after a file was written. */
static uint64_t seen_hash(const struct object_info *o)
{
	uint64_t h = (o->dev * 0x9e3779b97f4a7c15ull) ^ o->inode ^
		     (o->ctime_ns * 0x94d049bb133111ebull);
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (h ^ (h >> 32)) & ~0xffull;
}

static uint64_t *seen_slot(const struct object_info *o)
{
	return &seen[(seen_hash(o) >> 8) % SEEN_SLOTS];
}

/* The kind recorded with o's path before, or 0 when there was none. */
static uint32_t seen_kind(const struct object_info *o)
{
	uint64_t v = __atomic_load_n(seen_slot(o), __ATOMIC_RELAXED);
	return (v & ~0xffull) == seen_hash(o) && (v & 0x80) ? (uint32_t)(v & 0x7f) : 0;
}

static void seen_note(const struct object_info *o)
{
	__atomic_store_n(seen_slot(o), seen_hash(o) | 0x80 | o->kind,
			 __ATOMIC_RELAXED);
}

static void read_link(int fd, struct object_info *o)
{
	char link[32];
	fd_link_path(fd, link);
	long n = syscall(SYS_readlinkat, AT_FDCWD, link, o->path,
			 sizeof(o->path) - 1);
	if (n < 0) {
		o->link_err = errno;
		n = 0;
	}
	o->path_cut = n == (long)sizeof(o->path) - 1;
	o->path[n] = '\0';
	o->path_len = (uint32_t)n;
}

/* The kind the type and the link say together. */
static uint32_t refine(const struct object_info *o)
{
	mode_t m = (mode_t)o->mode;
	if (o->fstat_err)
		return SHMT_OBJ_BADFD;
	if (S_ISREG(m)) {
		if (starts_with(o->path, "/memfd:"))
			return SHMT_OBJ_MEMFD;
		if (starts_with(o->path, "/dev/shm/sem."))
			return SHMT_OBJ_SEM;
		if (starts_with(o->path, "/dev/shm/"))
			return SHMT_OBJ_POSIX;
		return SHMT_OBJ_FILE;
	}
	if (S_ISSOCK(m))
		return SHMT_OBJ_SOCKET;
	if (S_ISFIFO(m))
		return SHMT_OBJ_PIPE;
	if (starts_with(o->path, "anon_inode:"))
		return SHMT_OBJ_ANON_INODE;
	return SHMT_OBJ_OTHER;
}

void object_inspect(int fd, int want_path, struct object_info *o)
{
	struct stat st;
	int saved = errno;
	memset(o, 0, offsetof(struct object_info, path));
	o->path[0] = '\0';
	o->path_len = 0;
	o->path_cut = 0;
	int linked = 0;
	if (syscall(SYS_fstat, fd, &st) != 0) {
		o->fstat_err = errno;
	} else {
		linked = st.st_nlink > 0;
		o->dev = st.st_dev;
		o->inode = st.st_ino;
		o->size = (uint64_t)st.st_size;
		o->mode = st.st_mode;
		o->ctime_ns = (uint64_t)st.st_ctim.tv_sec * 1000000000u +
			      (uint64_t)st.st_ctim.tv_nsec;
		if (S_ISCHR(st.st_mode))
			o->size = st.st_rdev;	/* which device: /dev/zero is 1,5 */
	}
	/* an unlinked file is looked at again: its link says "(deleted)" */
	uint32_t known = want_path && linked ? seen_kind(o) : 0;
	if (known) {
		o->kind = known;
	} else {
		if (want_path && !o->fstat_err)
			read_link(fd, o);
		o->kind = refine(o);
		if (want_path && linked && o->path_len)
			seen_note(o);
	}
	errno = saved;
}

uint32_t object_mmap_kind(const struct object_info *o)
{
	mode_t m = (mode_t)o->mode;
	if (o->fstat_err)
		return SHMT_OBJ_BADFD;
	if (S_ISREG(m))
		return SHMT_OBJ_FILE;
	if (S_ISCHR(m) && o->size == makedev(1, 5))
		return SHMT_OBJ_DEVZERO;
	return SHMT_OBJ_OTHER;
}

void object_note(const struct object_info *o, int fd, uint64_t of)
{
	struct rec_event ev = {
		.call = SHMT_CALL_OBJECT, .obj = o->kind,
		.flags = o->path_cut ? SHMT_EVF_STR_TRUNC : 0,
		.str = o->path, .str_len = o->path_len,
		.args = { [SHMT_ARG_OBJECT_DEV] = o->dev,
			  [SHMT_ARG_OBJECT_INODE] = o->inode,
			  [SHMT_ARG_OBJECT_SIZE] = o->size,
			  [SHMT_ARG_OBJECT_MODE] = o->mode,
			  [SHMT_ARG_OBJECT_FD] = (uint64_t)(int64_t)fd,
			  [SHMT_ARG_OBJECT_OF] = of,
			  [SHMT_ARG_OBJECT_ERRORS] = (uint64_t)(o->fstat_err & 0xffff) |
				  ((uint64_t)(o->link_err & 0xffff) << 16) },
	};
	rec_note(&ev, 0);
}
