/*
 * capacity.h - how close shared memory is to its limits: the tmpfs each
 * object lives on against that tmpfs' size, the SysV limits, the memory
 * cgroup; now (audit, metrics, live) and during a traced run (report and
 * the launcher's summary), with the one rule for "full" and the diagnosis
 * of a death by SIGBUS.
 *
 * Where objects live.  A POSIX object (shm_open) is a file of /dev/shm.
 * memfds, SysV segments and MAP_SHARED|MAP_ANONYMOUS memory live on the
 * kernel's internal tmpfs, which has no size limit: only memory (and the
 * memory cgroup's limit) bounds them.  A MAP_SHARED file mapping lives on
 * whatever holds the file; the trace keeps its inode, not its device, so
 * it is placed by finding that inode on the tmpfs mounts that grew during
 * the run, when the file is still there.
 *
 * A death by SIGBUS.  The launcher sees it in the wait status of the
 * process it reaps and samples every tmpfs at that moment (the records of
 * shmtrace-format.h's SHMT_CALL_TMPFS with that pid); for a child its
 * traced parent reaps, it samples when its copy-out pass sees the parent's
 * wait in the trace (within a tick).  What cannot be known without a handler
 * in the program, which the shim never installs: the faulting address
 * (si_addr reaches only a handler), so every tmpfs-backed mapping the
 * process had is a candidate; and whether the fault was a full tmpfs
 * rather than an access past the end of the file - the fill level at the
 * reap tells them apart.
 */
#ifndef SHMVIEW_CAPACITY_H
#define SHMVIEW_CAPACITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel.h"
#include "model.h"
#include "tmpfs.h"
#include "trace.h"

#define CAPACITY_PAGE 4096u     /* tmpfs allocates pages */

/* The rule, for every output: a tmpfs is full when less than a page is
 * left (the next page a write faults in raises SIGBUS, or ENOSPC for
 * write(2)), or every inode is taken.  size 0 (no limit) is never full. */
bool capacity_is_full(uint64_t size, uint64_t used, uint64_t inodes,
		      uint64_t inodes_used);

/* used of size in whole percent, rounded down; 0 when size is 0. */
unsigned capacity_percent(uint64_t used, uint64_t size);

/* --- now ----------------------------------------------------------------- */

struct sysv_limits {
	bool ok;                     /* /proc/sys/kernel/shm* could be read */
	uint64_t shmmax;             /* bytes, one segment at most */
	uint64_t shmall;             /* pages, all segments together */
	uint64_t shmmni;             /* segments */
	uint64_t page_size;
	uint64_t segments, bytes, pages;   /* in use now (the view's) */
};

struct capacity_now {
	struct tmpfs_list tmpfs;     /* every tmpfs mount */
	bool holds[TMPFS_MAX];       /* the ones shown: /dev/shm, and those
	                                holding a shared mapping of a file */
	int shm;                     /* index of /dev/shm, -1 when none */
	struct sysv_limits sysv;
	struct cgroup_mem cgroup;    /* this process's */
	bool tmpfs_ok;               /* mountinfo could be read */
};

/*
 * Read the capacity figures now: every tmpfs mount (statvfs), the SysV
 * limits with the use of view `k`, the memory cgroup.  `scan` (may be
 * NULL) marks the tmpfs holding shared file mappings as shown.  Cannot
 * fail: what cannot be read is marked so.
 */
void capacity_read_now(struct capacity_now *c, const struct kernel_view *k,
		       const struct kernel_scan *scan);

/* /dev/shm alone, now (statvfs): for a view refreshed often.  Returns 0
 * with *fs filled, or -1 when it cannot be read. */
int capacity_shm_now(struct tmpfs_fs *fs);

/* Parse "N\n" as /proc/sys/kernel/shm* write it.  Returns 0 or -1. */
int capacity_parse_u64(const char *text, uint64_t *out);

/* The SysV pages a segment of `size` bytes takes. */
uint64_t capacity_sysv_pages(uint64_t size, uint64_t page_size);

/* --- during a traced run ------------------------------------------------- */

/* One tmpfs mount as the launcher sampled it. */
struct run_tmpfs {
	char *mount;                 /* owned */
	uint64_t dev, size, start, peak, end;
	uint64_t inodes, inodes_used;
	bool shown;                  /* it holds the run's objects, or was
	                                full at some sample */
};

/* The level of one mount at the moment a process was reaped dead by a
 * signal. */
struct run_at_death {
	int32_t pid;
	int fs;                      /* index in run_capacity.fs, -1 none */
	uint64_t used, size, inodes, inodes_used;
};

/* One mapping a process had when SIGBUS killed it. */
struct sigbus_map {
	const struct segment *seg;
	uint64_t addr, length;
	int fs;                      /* the tmpfs it lives on, -1 none/unknown */
	const char *path;            /* a file: where it was found, or NULL */
	bool internal;               /* on the kernel's internal tmpfs (memfd,
	                                SysV, anon): no size limit */
};

struct sigbus_death {
	const struct process *proc;
	struct sigbus_map *maps;     /* owned */
	size_t nmaps;
	bool sampled;                /* the launcher sampled for this death */
	bool by_launcher;            /* it reaped it (sampled at that moment);
	                                else its parent did, and the sample
	                                came within a copy-out tick */
	int full_fs;                 /* a mount it mapped that was full then
	                                (or at its peak when not sampled), -1 */
	uint64_t full_used, full_size;
};

struct run_capacity {
	bool recorded;               /* the trace has the launcher's samples */
	uint64_t samples;
	struct run_tmpfs *fs;        /* the end-of-run records */
	size_t nfs;
	struct run_at_death *deaths;
	size_t ndeaths;
	int32_t *reaped;             /* pids the launcher reaped (owned) */
	size_t nreaped;
	bool cgroup;                 /* a memory cgroup was sampled */
	int cgroup_version;
	char *cgroup_path;           /* owned */
	uint64_t cgroup_limit, cgroup_peak, cgroup_shmem_peak;
	bool memfd;                  /* the run made memfds (shown with the
	                                cgroup's limit) */
	int *seg_fs;                 /* per model segment: its tmpfs, -1 */
	char **seg_path;             /* per model segment: the file found by
	                                its inode, or NULL (owned) */
	size_t nsegments;            /* of seg_fs and seg_path */
	struct sigbus_death *sigbus;
	size_t nsigbus;
};

/*
 * Build the run's capacity from trace t's launcher records and model m
 * (built from t): each mount's peak, which mounts hold the run's objects
 * (POSIX on /dev/shm, files found by inode on the mounts that grew), and
 * every process SIGBUS killed with its mappings then and whether one of
 * their tmpfs was full.  Free with run_capacity_free().
 */
void run_capacity_build(struct run_capacity *rc, const struct trace *t,
			const struct model *m);
void run_capacity_free(struct run_capacity *rc);

/*
 * Find the files with these inodes (sorted, n of them) on the tmpfs
 * mounted at `mount` (device `dev`), in one walk that does not leave it
 * and looks at most at `limit` entries: paths[i] gets a new string (the
 * caller frees it) for each inodes[i] found; entries already set are
 * kept.
 */
void capacity_find_inodes(const char *mount, uint64_t dev,
			  const uint64_t *inodes, size_t n, unsigned limit,
			  char **paths);

#endif /* SHMVIEW_CAPACITY_H */
