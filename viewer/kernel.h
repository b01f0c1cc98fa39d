/*
 * kernel.h - what the kernel says about shared memory now: the truth the
 * model is reconciled against.
 *
 *   /proc/sysvipc/shm  every SysV segment: key shmid perms size cpid lpid
 *                      nattch uid gid cuid cgid atime dtime ctime ...
 *                      (perms carries SHM_DEST, 01000, once IPC_RMID'd)
 *   /dev/shm           every POSIX object (sem.* are semaphores)
 *   /proc/PID          whether a process still runs
 */
#ifndef SHMVIEW_KERNEL_H
#define SHMVIEW_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kernel_sysv {
	int32_t shmid;
	uint32_t key;
	uint32_t perms;        /* mode bits, SHM_DEST (01000) included */
	uint64_t size;
	int32_t cpid, lpid;    /* creator, last shmat/shmdt */
	uint32_t nattch;
	uint32_t uid, cuid;
	int64_t atime, dtime, ctime;  /* seconds since the epoch */
	bool dest;             /* marked for removal */
};

struct kernel_posix {
	char *name;            /* "/NAME", as shm_open takes it (owned) */
	uint64_t size;
	uint64_t inode;
	uint32_t uid;
	uint32_t mode;
	int64_t mtime_ns, ctime_ns;  /* since the epoch */
	bool semaphore;        /* sem.NAME */
};

struct kernel_view {
	struct kernel_sysv *sysv;
	size_t nsysv;
	bool sysv_ok;          /* /proc/sysvipc/shm could be read */
	struct kernel_posix *posix;
	size_t nposix;
	bool posix_ok;         /* /dev/shm could be read */
};

/* Read the kernel's view now.  Returns 0; what cannot be read is left
 * empty with its _ok flag false (a warning says so).  The caller frees the
 * view with kernel_free(). */
int kernel_read(struct kernel_view *k);
void kernel_free(struct kernel_view *k);

/*
 * The two halves of kernel_read(), with their source as a parameter so
 * tests can feed them fixtures.  kernel_parse_sysv() reads text in the
 * format of /proc/sysvipc/shm (a header line, then one segment a line)
 * from `f` and appends to k->sysv; malformed lines are skipped.
 * kernel_list_posix() appends the regular files of directory `dir` (as
 * /dev/shm holds them) to k->posix, never following a symlink.  Both
 * return 0, or -1 after printing why (nothing is appended then for
 * kernel_list_posix; kernel_parse_sysv keeps what it parsed).
 */
int kernel_parse_sysv(FILE *f, struct kernel_view *k);
int kernel_list_posix(const char *dir, struct kernel_view *k);

/* The SysV segment with this id, or NULL. */
const struct kernel_sysv *kernel_find_shmid(const struct kernel_view *k,
					    int32_t shmid);

/* The POSIX object "/NAME" (name as shm_open takes it), or NULL. */
const struct kernel_posix *kernel_find_posix(const struct kernel_view *k,
					     const char *name);

/* Whether process pid exists and is not a zombie. */
bool kernel_pid_alive(int32_t pid);

#endif
