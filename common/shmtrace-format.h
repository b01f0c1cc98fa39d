/*
 * shmtrace-format.h - the layout of a shmtrace trace region.
 *
 * This is the one header shared by the shim (the producer, preloaded into
 * every traced process) and the viewer (the reader).  The same bytes serve
 * as the live region, mapped MAP_SHARED by every traced process of a run,
 * and as the trace file left on disk afterwards.
 *
 *   +--------------------+ 0
 *   | struct shmt_header |   SHMT_HEADER_SIZE bytes, versioned
 *   +--------------------+ slot_offset
 *   | event slots        |   slot_capacity slots of slot_size bytes
 *   +--------------------+ arena_offset
 *   | string arena       |   arena_size bytes: names, paths, argv
 *   +--------------------+ total_size
 *
 * Only fixed-width fields, offsets (never pointers: every process maps the
 * region at its own address), little-endian as written by the producer and
 * checked through `endian`.  tests/unit/test-layout.c pins every offset.
 *
 * Producers (see shim/recorder.c) reserve a slot by fetch-add on `head`,
 * fill it, then publish it with a release-store of `commit = index + 1`.
 * Readers load-acquire `commit`; a slot whose commit differs was abandoned
 * by a producer that died mid-write (or is still being written) and is
 * skipped, so one dead producer never wedges or corrupts the others.
 * Strings are carved from the arena by fetch-add on `arena_head`.
 */
#ifndef SHMTRACE_FORMAT_H
#define SHMTRACE_FORMAT_H

#include <stdint.h>

#define SHMT_MAGIC "SHMTRACE"          /* 8 bytes, no NUL stored */
#define SHMT_VERSION 1u                /* the live region, and slot files */
#define SHMT_VERSION_RECORDS 2u        /* the compact file (records.h) */
#define SHMT_ENDIAN_TAG 0x01020304u    /* reads 0x04030201 when swapped */
#define SHMT_HEADER_SIZE 4096u
#define SHMT_EVENT_FIXED 128u          /* bytes of an event before its frames */
#define SHMT_MAX_DEPTH 256u            /* deepest backtrace a slot may hold */
#define SHMT_DEFAULT_DEPTH 16u
#define SHMT_MAX_STRING 4096u          /* longest string one event stores */
#define SHMT_BUILD_ID_MAX 32u           /* bytes of build-id kept */

/* Header flags (shmt_header.flags). */
#define SHMT_HF_LAUNCHER 0x1u /* created by the launcher; live copy in memory */
#define SHMT_HF_FINAL    0x2u /* the run ended and this file is complete */
#define SHMT_HF_COMPACT  0x4u /* unused slots cut off: capacity == used */
#define SHMT_HF_TSC      0x8u /* events' time_ns and duration_ns are TSC
                                 ticks: readers convert them with the
                                 calibration points cal_* */
#define SHMT_HF_DAMAGED  0x20u /* version 2: the traced program wrote over
                                 the live region's header (the launcher
                                 kept its own copy; counters and events
                                 may be missing) */
#define SHMT_HF_RECORDS  0x10u /* version 2: records follow the header
                                 (records.h), no slots, no arena */

/*
 * The header.  Counters written by producers are 8-byte lock-free atomics,
 * each on its own cache line where producers contend.
 */
struct shmt_header {
	char magic[8];                 /*   0 SHMT_MAGIC */
	uint32_t version;              /*   8 SHMT_VERSION */
	uint32_t header_size;          /*  12 SHMT_HEADER_SIZE */
	uint32_t endian;               /*  16 SHMT_ENDIAN_TAG */
	uint32_t slot_size;            /*  20 bytes per event slot */
	uint32_t max_depth;            /*  24 frames a slot can hold */
	uint32_t flags;                /*  28 SHMT_HF_* */
	uint64_t slot_offset;          /*  32 */
	uint64_t slot_capacity;        /*  40 */
	uint64_t arena_offset;         /*  48 */
	uint64_t arena_size;           /*  56 */
	uint64_t total_size;           /*  64 bytes of the whole region */
	uint64_t owner_uid;            /*  72 euid of the creator */
	uint64_t creator_pid;          /*  80 launcher or first shim */
	uint64_t start_ns;             /*  88 CLOCK_MONOTONIC at creation */
	uint64_t start_realtime_ns;    /*  96 CLOCK_REALTIME at creation */
	uint64_t end_ns;               /* 104 CLOCK_MONOTONIC when the run ended */
	uint64_t token;                /* 112 random, identifies this run */
	int64_t exit_status;           /* 120 the main program's wait status */
	uint64_t depth;                /* 128 backtrace depth asked for */
	uint64_t launcher_fd;          /* 136 memfd number in the launcher */
	uint64_t cal_tsc0, cal_ns0;    /* 144 a TSC reading and CLOCK_MONOTONIC
	                                      at the same moment (SHMT_HF_TSC) */
	uint64_t cal_tsc1, cal_ns1;    /* 160 a later pair, moved on as the run
	                                      goes; ns = ns0 + (tsc - tsc0) *
	                                      (ns1 - ns0) / (tsc1 - tsc0) */
	char reserved0[80];            /* 176 */
	uint64_t head;                 /* 256 next slot index, may pass capacity */
	char pad1[56];
	uint64_t arena_head;           /* 320 next free arena byte */
	char pad2[56];
	uint64_t dropped;              /* 384 events lost: no free slot */
	uint64_t strings_dropped;      /* 392 strings cut or lost: arena full */
	uint64_t nested;               /* 400 events recorded without a stack
	                                      because the hook was re-entered */
	uint64_t passthrough;          /* 408 private mappings passed through */
	uint64_t stack_errors;         /* 416 backtraces that failed */
	uint64_t nest_lost;            /* 424 hooks left without returning
	                                      (siglongjmp out of a signal
	                                      handler), found and reset */
	uint64_t disabled;             /* 432 processes that turned tracing
	                                      off: the program unmapped, mapped
	                                      over or remapped the region */
	uint64_t stacks_no_room;       /* 440 backtraces left out: too little
	                                      stack (a small signal stack) */
	uint64_t untraced;             /* 448 processes that run untraced: the
	                                      region was out of their reach */
	char reserved_rely[56];        /* 456 kept for more loss counters */
	uint64_t proc_seen;            /* 512 mappings the launcher found in
	                                      /proc/PID/maps that no event
	                                      explains (SHMT_CALL_PROC_SEEN) */
	char reserved1[680 - 520];
	uint64_t capacity_lost;        /* 680 the launcher's capacity records
	                                      (SHMT_CALL_TMPFS, _CGROUP_MEM)
	                                      lost to a full region; never in
	                                      `dropped`, which counts the
	                                      program's events */
	char reserved2[760 - 688];
	/* shmtrace -p: the attach window, in the events' clock (0: not an
	 * attach), and the longest stop of a target's thread (ns) */
	uint64_t attached_at;          /* 760 the first target attached
	                                      (CLOCK_MONOTONIC ns, as start_ns;
	                                      0: not an attach) */
	uint64_t detached_at;          /* 768 the last target detached */
	uint64_t attach_stop_ns;       /* 776 the longest attach stop */
	uint64_t detach_stop_ns;       /* 784 the longest detach stop */
	uint64_t attach_failed;        /* 792 targets that could not be
	                                      attached or detached */
	char reserved3[SHMT_HEADER_SIZE - 800];
};

/* Event flags (shmt_event.flags). */
#define SHMT_EVF_NESTED      0x01u /* re-entered hook: no backtrace taken */
#define SHMT_EVF_STR_TRUNC   0x02u /* the string was cut or lost */
#define SHMT_EVF_CHILD       0x04u /* fork seen from the child (daemon etc.) */
#define SHMT_EVF_STAT        0x08u /* shmctl: SHMT_ARG_SHMCTL_KEY..NATTCH
                                      hold segment info */
#define SHMT_EVF_STACK_TRUNC 0x10u /* deeper than max_depth */
#define SHMT_EVF_START       0x20u /* exec: recorded by the new image */
#define SHMT_EVF_CREATED     0x40u /* shmget/shm_open: this call created the
                                      object (not just opened it) */

/*
 * Calls.  Numbers are part of the format: append, never renumber.
 * SHMT_ARG_<CALL>_* below say what args[] hold; `str` is the event's arena
 * string.
 */
enum shmt_call {
	SHMT_CALL_NONE = 0,
	SHMT_CALL_SHMGET = 1,
	SHMT_CALL_SHMAT = 2,
	SHMT_CALL_SHMDT = 3,
	SHMT_CALL_SHMCTL = 4,
	SHMT_CALL_MMAP = 5,     /* obj = SHMT_OBJ_* */
	SHMT_CALL_MUNMAP = 6,
	SHMT_CALL_MREMAP = 7,
	SHMT_CALL_SHM_OPEN = 8, /* str name */
	SHMT_CALL_SHM_UNLINK = 9, /* str name; no args */
	SHMT_CALL_MEMFD_CREATE = 10, /* str name */
	SHMT_CALL_FTRUNCATE = 11,
	SHMT_CALL_CLOSE = 12,
	SHMT_CALL_FORK = 13,    /* ret child pid */
	SHMT_CALL_VFORK = 14,   /* ret child pid; no args */
	SHMT_CALL_POSIX_SPAWN = 15, /* str path\0argv...; ret is the returned
	                               error number */
	SHMT_CALL_EXEC = 16,    /* str path\0argv...; SHMT_EVF_START when
	                           written by the new image (ret 0) */
	SHMT_CALL_EXIT = 17,
	SHMT_CALL_THREAD_START = 18,
	SHMT_CALL_THREAD_EXIT = 19,
	SHMT_CALL_MODULE = 20,  /* str path; an empty range (LO == HI) with
	                           no path: the module loaded at BIAS with
	                           that LO was unloaded (dlclose) */
	SHMT_CALL_WAIT = 21,    /* a child reaped; ret as the call returned.
	                           The launcher records what it reaps as
	                           SHMT_WAIT_REAPER. */
	/* 22..29: objects behind descriptors (issue 12) */
	SHMT_CALL_OBJECT = 22,  /* what the descriptor of the event OBJECT_OF
	                           names (no call of its own; no stack): obj
	                           its kind, str the path /proc/self/fd/N
	                           links to (may be empty: see OBJECT_ERRORS) */
	SHMT_CALL_SEM_OPEN = 23, /* str name; ret the sem_t address, -1 on
	                            failure (SEM_FAILED); an object record
	                            follows */
	SHMT_CALL_SEM_CLOSE = 24, /* ret as the call returned */
	SHMT_CALL_SEM_UNLINK = 25, /* str name */
	SHMT_CALL_FD_SEND = 26, /* one descriptor passed with SCM_RIGHTS by
	                           sendmsg or sendmmsg: one event per
	                           descriptor; ret the call's bytes sent */
	SHMT_CALL_FD_RECV = 27, /* one descriptor received by recvmsg or
	                           recvmmsg */
	SHMT_CALL_PROC_SEEN = 28, /* a shared mapping the launcher saw in
	                             /proc/PID/maps that no event explains:
	                             str the path, pid the process's; no stack;
	                             time_ns when the launcher began to read the
	                             maps, duration_ns until it read this line:
	                             the mapping was there at some moment of
	                             that span */
	/* 40..44: the launcher's capacity samples (not calls; pid is the
	 * launcher's).  Recorded at the end of the run, one per mount, and
	 * when the launcher reaps a process that a signal killed, one per
	 * mount again with that pid (SHMT_ARG_*_PID). */
	SHMT_CALL_TMPFS = 40,   /* str mount point; ret samples taken */
	SHMT_CALL_CGROUP_MEM = 41, /* str cgroup path; ret samples taken */
	SHMT_CALL_COUNT
};

/*
 * The argument slots: the index into shmt_event.args[] of each value a
 * call records, named SHMT_ARG_<CALL>_<VALUE>.  A slot a call does not
 * name holds 0.  Slots 0-5 follow the C call's own parameters where there
 * are some; slots 6 and 7 hold what the shim learnt beside the call.  The
 * numbers are part of the format (tests/unit/test-layout.c pins them).
 */
enum shmt_arg {
	SHMT_ARG_COUNT = 8,             /* slots in an event */

	/* Slots several calls share, for code reading one across calls: */
	SHMT_ARG_ADDR = 0,              /* shmdt, mmap, munmap, mremap: the
	                                   start of the range */
	SHMT_ARG_LENGTH = 1,            /* mmap, munmap, mremap: its length */
	SHMT_ARG_SHMID = 0,             /* shmat, shmctl */
	SHMT_ARG_ARGC = 1,              /* exec, posix_spawn: the pieces of
	                                   argv after the path in the string */
	SHMT_ARG_ORIGIN = 6,            /* mmap, ftruncate, close: seq + 1 of
	                                   the event that made the descriptor,
	                                   0 when none is known */
	SHMT_ARG_INODE = 7,             /* mmap, shm_open, memfd_create: the
	                                   object's inode, 0 when not recorded */

	SHMT_ARG_SHMGET_KEY = 0,
	SHMT_ARG_SHMGET_SIZE = 1,
	SHMT_ARG_SHMGET_FLAGS = 2,      /* shmflg */

	SHMT_ARG_SHMAT_SHMID = SHMT_ARG_SHMID,
	SHMT_ARG_SHMAT_ADDR = 1,        /* shmaddr */
	SHMT_ARG_SHMAT_FLAGS = 2,       /* shmflg */
	SHMT_ARG_SHMAT_SEGSZ = 6,       /* the segment's size, 0 if unknown */

	SHMT_ARG_SHMDT_ADDR = SHMT_ARG_ADDR, /* shmaddr */

	SHMT_ARG_SHMCTL_SHMID = SHMT_ARG_SHMID,
	SHMT_ARG_SHMCTL_CMD = 1,
	SHMT_ARG_SHMCTL_BUF = 2,
	/* with SHMT_EVF_STAT, what the call read of the segment: */
	SHMT_ARG_SHMCTL_KEY = 3,
	SHMT_ARG_SHMCTL_MODE = 4,
	SHMT_ARG_SHMCTL_CPID = 5,
	SHMT_ARG_SHMCTL_SEGSZ = 6,
	SHMT_ARG_SHMCTL_NATTCH = 7,

	SHMT_ARG_MMAP_ADDR = SHMT_ARG_ADDR,
	SHMT_ARG_MMAP_LENGTH = SHMT_ARG_LENGTH,
	SHMT_ARG_MMAP_PROT = 2,
	SHMT_ARG_MMAP_FLAGS = 3,
	SHMT_ARG_MMAP_FD = 4,
	SHMT_ARG_MMAP_OFFSET = 5,
	SHMT_ARG_MMAP_ORIGIN = SHMT_ARG_ORIGIN, /* of fd */
	SHMT_ARG_MMAP_INODE = SHMT_ARG_INODE,   /* of fd, when not tracked */

	SHMT_ARG_MUNMAP_ADDR = SHMT_ARG_ADDR,
	SHMT_ARG_MUNMAP_LENGTH = SHMT_ARG_LENGTH,

	SHMT_ARG_MREMAP_OLD_ADDR = SHMT_ARG_ADDR,     /* old_address */
	SHMT_ARG_MREMAP_OLD_SIZE = SHMT_ARG_LENGTH,
	SHMT_ARG_MREMAP_NEW_SIZE = 2,
	SHMT_ARG_MREMAP_FLAGS = 3,
	SHMT_ARG_MREMAP_NEW_ADDR = 4,   /* new_address (MREMAP_FIXED) */

	/* shm_open: the name is the string, slot 0 stays 0 */
	SHMT_ARG_SHM_OPEN_OFLAG = 1,
	SHMT_ARG_SHM_OPEN_MODE = 2,
	SHMT_ARG_SHM_OPEN_INODE = SHMT_ARG_INODE, /* 0: unknown (an object
	                                             record follows too) */

	/* memfd_create: the name is the string, slot 0 stays 0 */
	SHMT_ARG_MEMFD_FLAGS = 1,
	SHMT_ARG_MEMFD_INODE = SHMT_ARG_INODE,    /* from fstat; an object
	                                             record follows */

	SHMT_ARG_FTRUNCATE_FD = 0,
	SHMT_ARG_FTRUNCATE_LENGTH = 1,
	SHMT_ARG_FTRUNCATE_ORIGIN = SHMT_ARG_ORIGIN,

	SHMT_ARG_CLOSE_FD = 0,
	SHMT_ARG_CLOSE_ORIGIN = SHMT_ARG_ORIGIN,  /* tracked fds only */

	SHMT_ARG_FORK_PPID = 0,         /* with SHMT_EVF_CHILD */

	SHMT_ARG_SPAWN_PID = 0,         /* the child's */
	SHMT_ARG_SPAWN_ARGC = SHMT_ARG_ARGC,
	SHMT_ARG_SPAWN_SEARCH = 2,      /* 1 for posix_spawnp */

	SHMT_ARG_EXEC_PPID = 0,
	SHMT_ARG_EXEC_ARGC = SHMT_ARG_ARGC,
	SHMT_ARG_EXEC_VARIANT = 2,      /* enum shmt_exec_variant */
	SHMT_ARG_EXEC_INNER_PID = 3,    /* with SHMT_EVF_START: the pid inside
	                                   its pid namespace (getpid()) when it
	                                   differs from the event's pid, which
	                                   is the launcher's view (NSpid);
	                                   else 0 */

	SHMT_ARG_EXIT_STATUS = 0,
	SHMT_ARG_EXIT_RAW = 1,          /* 1 for _exit/_Exit */

	SHMT_ARG_THREAD_START_ROUTINE = 0,
	SHMT_ARG_THREAD_EXIT_RETVAL = 0,

	SHMT_ARG_MODULE_BIAS = 0,       /* load bias */
	SHMT_ARG_MODULE_LO = 1,         /* lowest address */
	SHMT_ARG_MODULE_HI = 2,         /* highest address */
	SHMT_ARG_MODULE_BUILD_ID_LEN = 3,
	SHMT_ARG_MODULE_BUILD_ID = 4,   /* 4..7: the build-id bytes in memory
	                                   order, at most SHMT_BUILD_ID_MAX */

	SHMT_ARG_WAIT_PID = 0,          /* the child reaped */
	SHMT_ARG_WAIT_STATUS = 1,       /* wait status, as waitpid gives it */
	SHMT_ARG_WAIT_VARIANT = 2,      /* enum shmt_wait_variant */

	/* An object record: what fstat and readlink said of a descriptor. */
	SHMT_ARG_OBJECT_DEV = 0,        /* st_dev */
	SHMT_ARG_OBJECT_INODE = 1,      /* st_ino */
	SHMT_ARG_OBJECT_SIZE = 2,       /* st_size */
	SHMT_ARG_OBJECT_MODE = 3,       /* st_mode (type and permissions) */
	SHMT_ARG_OBJECT_FD = 4,         /* the descriptor */
	SHMT_ARG_OBJECT_OF = 6,         /* seq + 1 of the event it describes
	                                   (mmap, memfd_create, sem_open,
	                                   fd send/receive); 0 when dropped */
	SHMT_ARG_OBJECT_ERRORS = 7,     /* fstat's errno | readlink's << 16;
	                                   0 when both worked */

	/* sem_open: the name is the string */
	SHMT_ARG_SEM_OPEN_OFLAG = 1,
	SHMT_ARG_SEM_OPEN_MODE = 2,
	SHMT_ARG_SEM_OPEN_VALUE = 3,
	SHMT_ARG_SEM_CLOSE_ADDR = 0,    /* the sem_t */

	/* an fd sent or received over a unix socket (SCM_RIGHTS); an object
	 * record (OBJECT_OF this event) says what it is */
	SHMT_ARG_FD_SOCKET = 0,         /* the socket */
	SHMT_ARG_FD_FD = 1,             /* the descriptor, in this process */
	SHMT_ARG_FD_PEER = 2,           /* the pid of the other end, 0 when
	                                   unknown (the shim leaves it 0: a
	                                   sandbox may trap SO_PEERCRED) */
	SHMT_ARG_FD_INDEX = 3,          /* its place among the message's fds */
	SHMT_ARG_FD_INODE = SHMT_ARG_INODE, /* its inode, 0 when unknown */

	/* a mapping seen in /proc only (SHMT_CALL_PROC_SEEN) */
	SHMT_ARG_PROC_SEEN_ADDR = SHMT_ARG_ADDR,
	SHMT_ARG_PROC_SEEN_LENGTH = SHMT_ARG_LENGTH,
	SHMT_ARG_PROC_SEEN_PROT = 2,    /* PROT_* from the perms column */
	SHMT_ARG_PROC_SEEN_DEV = 3,     /* makedev(major, minor) */
	SHMT_ARG_PROC_SEEN_OFFSET = 5,
	SHMT_ARG_PROC_SEEN_INODE = SHMT_ARG_INODE,
	SHMT_ARG_PROC_SEEN_BEFORE = 6,  /* 1: seeded at `shmtrace -p`: there
	                                   before the trace began */
	SHMT_ARG_PROC_SEEN_KEY = 4,     /* seeded SysV: its key from
	                                   /proc/sysvipc/shm (the event's ret:
	                                   its creator's pid, 0: unknown) */
	/* tmpfs: one mount as statvfs saw it (bytes; size 0: unlimited) */
	SHMT_ARG_TMPFS_DEV = 0,         /* st_dev of its files */
	SHMT_ARG_TMPFS_SIZE = 1,
	SHMT_ARG_TMPFS_USED = 2,        /* at this sample */
	SHMT_ARG_TMPFS_PEAK = 3,        /* the most of every sample so far */
	SHMT_ARG_TMPFS_START = 4,       /* before the program started */
	SHMT_ARG_TMPFS_PID = 5,         /* sampled when reaping this pid; 0:
	                                   at the end of the run */
	SHMT_ARG_TMPFS_INODES = 6,      /* 0: unlimited */
	SHMT_ARG_TMPFS_INODES_USED = 7,

	/* cgroup_mem: the launcher's memory cgroup (bytes) */
	SHMT_ARG_CGROUP_LIMIT = 0,      /* UINT64_MAX: no limit */
	SHMT_ARG_CGROUP_USAGE = 1,      /* at this sample */
	SHMT_ARG_CGROUP_PEAK = 2,       /* the most of every sample */
	SHMT_ARG_CGROUP_SHMEM = 3,      /* of the usage, shmem (tmpfs, memfd,
	                                   SysV), at this sample */
	SHMT_ARG_CGROUP_SHMEM_PEAK = 4,
	SHMT_ARG_CGROUP_PID = 5,        /* as SHMT_ARG_TMPFS_PID */
	SHMT_ARG_CGROUP_VERSION = 6,    /* 1 or 2 */
};

/* Object behind a mapping's descriptor (shmt_event.obj). */
enum shmt_obj {
	SHMT_OBJ_NONE = 0,
	SHMT_OBJ_ANON = 1,    /* MAP_SHARED|MAP_ANONYMOUS */
	SHMT_OBJ_POSIX = 2,   /* fd from shm_open */
	SHMT_OBJ_MEMFD = 3,   /* fd from memfd_create */
	SHMT_OBJ_DEVZERO = 4, /* /dev/zero */
	SHMT_OBJ_FILE = 5,    /* a regular file (or an fd opened by path) */
	SHMT_OBJ_OTHER = 6,   /* another kind of descriptor */
	SHMT_OBJ_BADFD = 7,   /* the descriptor could not be inspected */
	SHMT_OBJ_SOCKET = 8,  /* a socket (object records) */
	SHMT_OBJ_PIPE = 9,    /* a pipe or FIFO (object records) */
	SHMT_OBJ_ANON_INODE = 10, /* eventfd, timerfd... (anon_inode:[...]) */
	SHMT_OBJ_SEM = 11,    /* a POSIX named semaphore, /dev/shm/sem.NAME */
	SHMT_OBJ_COUNT
};

/* Which exec function was called (SHMT_ARG_EXEC_VARIANT). */
enum shmt_exec_variant {
	SHMT_EXEC_EXECVE = 0, SHMT_EXEC_EXECV, SHMT_EXEC_EXECVP,
	SHMT_EXEC_EXECVPE, SHMT_EXEC_EXECL, SHMT_EXEC_EXECLP, SHMT_EXEC_EXECLE,
	SHMT_EXEC_FEXECVE, SHMT_EXEC_EXECVEAT, SHMT_EXEC_COUNT
};

/* Which wait function reaped (SHMT_ARG_WAIT_VARIANT). */
enum shmt_wait_variant {
	SHMT_WAIT_WAIT = 0, SHMT_WAIT_WAITPID, SHMT_WAIT_WAIT3, SHMT_WAIT_WAIT4,
	SHMT_WAIT_WAITID, SHMT_WAIT_REAPER, SHMT_WAIT_COUNT
};

/*
 * One event slot.  The fixed part is SHMT_EVENT_FIXED bytes; `max_depth`
 * return addresses follow (the traced program's frames, innermost first,
 * the shim's own frames removed).
 */
struct shmt_event {
	uint64_t commit;       /*   0 slot index + 1 once complete */
	uint64_t time_ns;      /*   8 CLOCK_MONOTONIC at entry */
	uint64_t duration_ns;  /*  16 time spent in the real call */
	int64_t ret;           /*  24 return value as the program saw it */
	int32_t pid;           /*  32 */
	int32_t tid;           /*  36 */
	uint16_t call;         /*  40 enum shmt_call */
	uint16_t nframes;      /*  42 frames stored */
	uint16_t flags;        /*  44 SHMT_EVF_* */
	uint16_t err;          /*  46 errno, 0 on success */
	uint32_t str_off;      /*  48 arena offset of the string */
	uint32_t str_len;      /*  52 its length in bytes (no NUL) */
	uint32_t obj;          /*  56 enum shmt_obj */
	uint32_t reserved;     /*  60 */
	uint64_t args[SHMT_ARG_COUNT]; /* 64 see enum shmt_arg */
	uint64_t frames[];     /* 128 */
};

_Static_assert(sizeof(struct shmt_header) == SHMT_HEADER_SIZE,
	       "header size is part of the format");
_Static_assert(sizeof(struct shmt_event) == SHMT_EVENT_FIXED,
	       "event fixed part is part of the format");

/* Bytes a slot needs for `depth` frames: fixed part plus frames, rounded
 * up to a multiple of 64 so slots do not share cache lines needlessly. */
static inline uint32_t shmt_slot_size(uint32_t depth)
{
	uint32_t raw = SHMT_EVENT_FIXED + depth * 8u;
	return (raw + 63u) & ~63u;
}

#endif /* SHMTRACE_FORMAT_H */
