/*
 * kernel.h - what the kernel says about shared memory now: the truth the
 * model is reconciled against.
 *
 *   /proc/sysvipc/shm  every SysV segment: key shmid perms size cpid lpid
 *                      nattch uid gid cuid cgid atime dtime ctime ...
 *                      (perms carries SHM_DEST, 01000, once IPC_RMID'd)
 *   /dev/shm           every POSIX object (sem.* are semaphores)
 *   /proc/PID          whether a process still runs
 *   /proc/PID/maps     what each process has mapped now (and fd/, what
 *                      it holds open): the mappers of each object
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
	int64_t btime_ns;      /* creation, since the epoch; 0 when the
	                          filesystem does not say (statx) */
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
/* The same without a word on stderr (for a view refreshed many times a
 * second): the _ok flags alone say what could not be read. */
int kernel_read_quiet(struct kernel_view *k);
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

/* Whether `path` names the file (dev, ino) now (dev 0: any device);
 * then *size (may be NULL) gets its size. */
bool kernel_file_is(const char *path, uint64_t dev, uint64_t ino,
		    uint64_t *size);

/* --- /proc/PID/maps: who has what mapped now ------------------------------
 *
 * A line of /proc/PID/maps is "START-END PERMS OFFSET MAJ:MIN INODE PATH";
 * the 's' in PERMS means shared.  How the kernel names shared memory:
 *
 *   /SYSV<key, 8 hex digits> (deleted)   a SysV attach; INODE is the shmid
 *   /dev/shm/NAME                        a POSIX object (" (deleted)" once
 *                                        unlinked)
 *   /memfd:NAME (deleted)                a memfd
 *   /dev/zero (deleted)                  MAP_SHARED|MAP_ANONYMOUS memory,
 *                                        and a shared mapping of /dev/zero,
 *                                        which the kernel makes the same way
 *   [anon_shmem:NAME]                    the same, named with prctl
 *   any other path                       a shared mapping of that file
 *
 * The kernel writes a newline in PATH as \012; the parser turns it back.
 */
enum kernel_map_kind {
	KMAP_PRIVATE,   /* not shared (MAP_PRIVATE, or no file): not ours */
	KMAP_SYSV,
	KMAP_POSIX,
	KMAP_MEMFD,
	KMAP_ANON,
	KMAP_FILE,
};

struct kernel_map {
	uint64_t start, end, offset;
	uint32_t dev_major, dev_minor;
	uint64_t inode;          /* SysV: the shmid */
	bool readable, writable, shared;
	bool deleted;            /* PATH ended in " (deleted)" (cut off) */
	enum kernel_map_kind kind;
	uint32_t key;            /* KMAP_SYSV: from the name */
	const char *path;        /* PATH without " (deleted)"; "" when none */
	const char *name;        /* KMAP_POSIX: "/NAME"; KMAP_MEMFD: "NAME";
	                            KMAP_ANON: the prctl name or ""; else NULL */
};

/*
 * Parse one line of /proc/PID/maps (with or without its newline) into *m,
 * in place: m->path and m->name point into `line`, which is modified.
 * Returns 0, or -1 when the line is malformed.
 */
int kernel_parse_map_line(char *line, struct kernel_map *m);

/*
 * Parse maps text from `f`, calling fn(m, arg) for each well-formed line
 * (private ones too; m is valid during the call only).  Stops early when
 * fn returns non-zero.  Returns 0, or -1 with errno set when reading
 * fails (no message: the caller knows what it was reading).
 */
typedef int (*kernel_map_fn)(const struct kernel_map *m, void *arg);
int kernel_parse_maps(FILE *f, kernel_map_fn fn, void *arg);

/* The same for /proc/PID/maps.  Returns -1 with errno set when it cannot
 * be read: EACCES for another user's process, ENOENT when it is gone. */
int kernel_read_maps(int32_t pid, kernel_map_fn fn, void *arg);

/* --- processes ----------------------------------------------------------- */

struct kernel_proc {
	int32_t pid, ppid;
	uint32_t uid;            /* owner of /proc/PID: the process's euid */
	char state;              /* R, S, D, Z, ... */
	char comm[64];           /* as /proc/PID/stat has it (raw bytes) */
	int64_t start_time;      /* seconds since the epoch, 0 if unknown */
	bool maps_read;          /* kernel_scan() read its maps */
	int maps_errno;          /* why not, when it tried */
};

/* Fill *p from /proc/PID/stat.  Returns 0, or -1 with errno set when the
 * process is gone (or /proc says nothing sensible). */
int kernel_proc_info(int32_t pid, struct kernel_proc *p);

/* Every process in /proc now (thread-group leaders), in pid order, with
 * kernel_proc_info() filled.  Returns 0 with *out (caller frees) and *n
 * set, or -1 after printing why. */
int kernel_list_procs(struct kernel_proc **out, size_t *n);

/*
 * Read "/proc/PID/<what>" ("exe" is read with readlink, "cmdline" with
 * its NULs kept) into a new NUL-terminated buffer; *len gets the length
 * (may be NULL).  Returns the buffer (caller frees) or NULL with errno.
 */
char *kernel_proc_read(int32_t pid, const char *what, size_t *len);

/* --- every process at once: the mappers of each object ------------------- */

/* One shared mapping of a SysV segment or a /dev/shm object. */
struct kernel_mapper {
	int32_t pid;
	enum kernel_map_kind kind;       /* KMAP_SYSV or KMAP_POSIX */
	uint64_t dev, inode;             /* the object (SysV: inode = shmid) */
	uint32_t key;                    /* KMAP_SYSV: from the mapping */
	uint64_t addr, length;
	bool readonly;
	bool deleted;                    /* POSIX: unlinked since */
	char *name;                      /* POSIX: "/NAME" (owned) */
};

/* A descriptor open on a /dev/shm object. */
struct kernel_holder {
	int32_t pid;
	int fd;
	uint64_t dev, inode;
};

#define KERNEL_SHARED_DEVS 16

struct kernel_scan {
	struct kernel_proc *procs;       /* every process, by pid */
	size_t nprocs;
	struct kernel_mapper *maps;      /* sorted by kind, inode, pid, addr */
	size_t nmaps;
	struct kernel_holder *fds;       /* sorted by inode, pid, fd */
	size_t nfds;
	size_t nunreadable;              /* procs whose maps could not be read
	                                    (maps_read false, maps_errno set) */
	uint64_t shm_dev;                /* st_dev of /dev/shm, 0 if unknown */
	uint64_t shared_devs[KERNEL_SHARED_DEVS]; /* devices of the files
	                                    mapped MAP_SHARED (the first
	                                    KERNEL_SHARED_DEVS ones) */
	size_t nshared_devs;
};

/*
 * Read /proc/PID/maps and /proc/PID/fd of every process the caller may
 * inspect, once, keeping the shared mappings of SysV segments and of
 * /dev/shm objects (by /dev/shm's device and inode) and the descriptors
 * open on /dev/shm objects.  A process that cannot be inspected
 * (permission) is counted in nunreadable; one that ended meanwhile is
 * dropped.  Returns 0, or -1 after printing why (/proc unreadable).
 * The caller frees the scan with kernel_scan_free().
 */
int kernel_scan(struct kernel_scan *s);
void kernel_scan_free(struct kernel_scan *s);

/* The mappings of SysV segment `shmid`, or of the POSIX object with that
 * inode: a pointer to the first and their count in *n (NULL, 0 if none). */
const struct kernel_mapper *kernel_scan_sysv(const struct kernel_scan *s,
					     int32_t shmid, size_t *n);
const struct kernel_mapper *kernel_scan_posix(const struct kernel_scan *s,
					      uint64_t inode, size_t *n);

/* The descriptors open on the /dev/shm object with that inode. */
const struct kernel_holder *kernel_scan_holders(const struct kernel_scan *s,
						uint64_t inode, size_t *n);

/* The process with this pid in the scan, or NULL. */
const struct kernel_proc *kernel_scan_proc(const struct kernel_scan *s,
					   int32_t pid);

#endif
