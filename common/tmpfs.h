/*
 * tmpfs.h - how full the machine's tmpfs mounts and the memory cgroup
 * are: the probes the launcher samples during a run and the viewer reads
 * now (audit, metrics, live).  Reading only; what the figures mean (full,
 * which object lives where) is the viewer's capacity model
 * (viewer/core/capacity.h).
 *
 *   /proc/self/mountinfo   every tmpfs mount: its point and device
 *   statvfs(2)             its size and use, in bytes and inodes
 *   /proc/self/cgroup      our memory cgroup (v2, or v1's memory
 *                          controller), and in its directory the limit,
 *                          the use and the shmem (tmpfs, memfd, SysV) part
 *
 * No allocation: fixed arrays, so the launcher can sample on its tick
 * without a malloc between the traced program's events.
 */
#ifndef SHMTRACE_TMPFS_H
#define SHMTRACE_TMPFS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TMPFS_MAX 32            /* mounts kept; more are counted, not kept */
#define TMPFS_PATH_MAX 256      /* longer mount points are cut (and marked) */
#define TMPFS_NO_LIMIT UINT64_MAX

struct tmpfs_fs {
	char mount[TMPFS_PATH_MAX];  /* the mount point, unescaped */
	uint64_t dev;                /* st_dev of its files (makedev) */
	uint64_t size, used;         /* bytes; size 0 when unlimited
	                                (size=0) */
	uint64_t inodes, inodes_used;/* inodes 0 when unlimited */
	bool ok;                     /* the last statvfs worked */
};

struct tmpfs_list {
	struct tmpfs_fs fs[TMPFS_MAX];
	unsigned n;
	unsigned skipped;            /* tmpfs mounts past TMPFS_MAX */
};

/*
 * Parse mountinfo text (the format of /proc/self/mountinfo) from `f` into
 * *l: every mount of file system type "tmpfs", one per mount point (the
 * last one listed, which is the one on top, wins), in the order listed.
 * Sizes are not read (see tmpfs_stat).  Returns 0, or -1 with errno when
 * reading fails; malformed lines are skipped.
 */
int tmpfs_parse_mountinfo(FILE *f, struct tmpfs_list *l);

/* The same for /proc/self/mountinfo, then tmpfs_stat() on each.  Returns
 * 0, or -1 with errno when mountinfo cannot be read (l is then empty). */
int tmpfs_list_read(struct tmpfs_list *l);

/* statvfs of fs->mount into its size and use (fs->ok says whether it
 * worked).  Returns 0 or -1 with errno. */
int tmpfs_stat(struct tmpfs_fs *fs);

/* The mount in l at exactly this mount point, or NULL. */
const struct tmpfs_fs *tmpfs_find_mount(const struct tmpfs_list *l,
					const char *mount);

/* The mount in l whose device is dev, or NULL. */
const struct tmpfs_fs *tmpfs_find_dev(const struct tmpfs_list *l,
				      uint64_t dev);

/* --- the memory cgroup ------------------------------------------------- */

struct cgroup_mem {
	bool found;                  /* a memory controller was found */
	int version;                 /* 1 or 2 */
	char path[TMPFS_PATH_MAX];   /* as /proc/self/cgroup names it */
	char dir[512];               /* its directory under the mount */
	unsigned root_len;           /* dir[0..root_len) is the mount point */
	uint64_t limit;              /* bytes, TMPFS_NO_LIMIT when none */
	uint64_t usage;              /* bytes charged now */
	uint64_t shmem;              /* of which shmem (tmpfs, memfd, SysV) */
	bool ok;                     /* the last sample worked */
};

/* Find the memory cgroup of this process (from /proc/self/cgroup and
 * mountinfo) and sample it.  Returns 0, or -1 when there is none to read
 * (c->found false). */
int cgroup_mem_find(struct cgroup_mem *c);

/* Read its limit, usage and shmem again.  Returns 0 or -1. */
int cgroup_mem_sample(struct cgroup_mem *c);

/* The limit as the files write it ("max", v1's "no limit" of 2^63 less a
 * page, a number) in bytes, TMPFS_NO_LIMIT for none.  Returns 0, or -1
 * when it is not a limit. */
int cgroup_parse_limit(const char *text, uint64_t *out);

#endif /* SHMTRACE_TMPFS_H */
