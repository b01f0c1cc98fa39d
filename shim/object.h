/*
 * object.h - what kernel object a descriptor names, for the object records
 * (SHMT_CALL_OBJECT) that let the viewer join every route into one object:
 * a file or /dev/shm object opened by path, a descriptor received over a
 * socket, inherited, dup'ed or opened through /proc/PID/fd.
 *
 * One fstat and one readlink of /proc/self/fd/N, both raw system calls
 * with errno preserved: only on rare paths (a shared mapping of a
 * descriptor the shim did not see made, memfd_create, a descriptor passed
 * over a socket), never on a hot one.  No allocation, no lock.
 */
#ifndef SHMTRACE_OBJECT_H
#define SHMTRACE_OBJECT_H

#include <stdint.h>

#define OBJECT_PATH_MAX 512	/* longer links are cut (SHMT_EVF_STR_TRUNC) */

struct object_info {
	uint32_t kind;		/* enum shmt_obj, refined by the link */
	uint64_t dev, inode, size, mode;
	uint64_t ctime_ns;	/* st_ctim: tells a reused inode number apart */
	int fstat_err, link_err;	/* errno of a failed call, else 0 */
	char path[OBJECT_PATH_MAX];	/* NUL-terminated; "" when unknown */
	uint32_t path_len;
	int path_cut;
};

/* Fills *o from fstat(fd) and, when `want_path`, readlink of
 * /proc/self/fd/<fd>.  Never fails: what could not be learnt is recorded
 * as unknown (kind SHMT_OBJ_BADFD when fstat failed) with its errno. */
void object_inspect(int fd, int want_path, struct object_info *o);

/* The kind an mmap event records for o (the format's older, coarser
 * classes: FILE, DEVZERO, OTHER, BADFD). */
uint32_t object_mmap_kind(const struct object_info *o);

/* Writes the object record of o for the event `of` (its seq + 1, as
 * rec_end returned it) and descriptor fd.  No stack. */
void object_note(const struct object_info *o, int fd, uint64_t of);

#endif
