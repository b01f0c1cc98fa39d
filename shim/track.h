/*
 * track.h - what one traced process knows of its own shared memory, so the
 * hooks can tell cheaply which calls concern shared memory at all.
 *
 * All of it is process-private (a fork child inherits a copy, which is
 * right: it inherits the mappings and descriptors too), lock-free, and
 * safe in signal handlers.  It may over-approximate (then a call is
 * recorded that did not need to be), never under-approximate.
 */
#ifndef SHMTRACE_TRACK_H
#define SHMTRACE_TRACK_H

#include <stddef.h>
#include <stdint.h>

/* Shared mappings: a munmap or mremap is recorded only when it overlaps
 * one. */
void track_map_add(uintptr_t addr, size_t len);
int track_map_overlaps(uintptr_t addr, size_t len);

/* Ranges taken out of the table before the call that unmaps them: taking
 * them after would race with another thread's mmap reusing the address.
 * If the call fails, track_map_put_back restores them. */
#define TRACK_TAKE_MAX 8
struct track_taken {
	unsigned n;		/* ranges taken (may exceed TRACK_TAKE_MAX) */
	struct { uintptr_t start, end; } r[TRACK_TAKE_MAX];
};
/* Takes every range wholly inside [addr, addr+len). */
void track_map_take(uintptr_t addr, size_t len, struct track_taken *t);
/* Takes the range starting at `start` (shmdt). */
void track_map_take_at(uintptr_t start, struct track_taken *t);
void track_map_put_back(const struct track_taken *t);

/* SysV segment sizes this process learned from creating them or from
 * IPC_STAT, so shmat need not ask the kernel.  0 means unknown. */
void track_segsz_put(int shmid, uint64_t size);
uint64_t track_segsz_get(int shmid);

/* Descriptors returned by shm_open and memfd_create: their object kind
 * (enum shmt_obj) and origin (seq + 1 of the creating event, 0 if it was
 * dropped).  Returns 1 from track_fd_get when fd is tracked. */
void track_fd_set(int fd, uint32_t obj, uint64_t origin);
int track_fd_get(int fd, uint32_t *obj, uint64_t *origin);
void track_fd_clear(int fd);
void track_fd_clear_range(unsigned first, unsigned last);
void track_fd_dup(int oldfd, int newfd);

#endif
