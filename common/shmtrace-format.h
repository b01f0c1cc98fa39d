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
#define SHMT_VERSION 1u
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
	char reserved1[SHMT_HEADER_SIZE - 424];
};

/* Event flags (shmt_event.flags). */
#define SHMT_EVF_NESTED      0x01u /* re-entered hook: no backtrace taken */
#define SHMT_EVF_STR_TRUNC   0x02u /* the string was cut or lost */
#define SHMT_EVF_CHILD       0x04u /* fork seen from the child (daemon etc.) */
#define SHMT_EVF_STAT        0x08u /* shmctl: args[3..7] hold segment info */
#define SHMT_EVF_STACK_TRUNC 0x10u /* deeper than max_depth */
#define SHMT_EVF_START       0x20u /* exec: recorded by the new image */
#define SHMT_EVF_CREATED     0x40u /* shmget/shm_open: this call created the
                                      object (not just opened it) */

/*
 * Calls.  Numbers are part of the format: append, never renumber.
 * The comment gives what args[] hold; `str` is the event's arena string.
 */
enum shmt_call {
	SHMT_CALL_NONE = 0,
	SHMT_CALL_SHMGET = 1,   /* key, size, shmflg */
	SHMT_CALL_SHMAT = 2,    /* shmid, shmaddr, shmflg; [6] segment size
	                           (0 if unknown) */
	SHMT_CALL_SHMDT = 3,    /* shmaddr */
	SHMT_CALL_SHMCTL = 4,   /* shmid, cmd, buf; with SHMT_EVF_STAT:
	                           [3] key [4] mode [5] cpid [6] size [7] nattch */
	SHMT_CALL_MMAP = 5,     /* addr, length, prot, flags, fd, offset;
	                           [6] origin seq+1 of fd (0 none), [7] inode;
	                           obj = SHMT_OBJ_* */
	SHMT_CALL_MUNMAP = 6,   /* addr, length */
	SHMT_CALL_MREMAP = 7,   /* old_address, old_size, new_size, flags,
	                           new_address */
	SHMT_CALL_SHM_OPEN = 8, /* str name; [1] oflag, [2] mode; [7] inode
	                           (0: not recorded, it costs a syscall) */
	SHMT_CALL_SHM_UNLINK = 9, /* str name */
	SHMT_CALL_MEMFD_CREATE = 10, /* str name; [1] flags; [7] inode (0) */
	SHMT_CALL_FTRUNCATE = 11, /* fd, length; [6] origin seq+1 */
	SHMT_CALL_CLOSE = 12,   /* fd; [6] origin seq+1 (tracked fds only) */
	SHMT_CALL_FORK = 13,    /* ret child pid; SHMT_EVF_CHILD: [0] ppid */
	SHMT_CALL_VFORK = 14,   /* ret child pid */
	SHMT_CALL_POSIX_SPAWN = 15, /* str path\0argv...; [0] child pid,
	                               [1] argc, [2] 1 for posix_spawnp;
	                               ret is the returned error number */
	SHMT_CALL_EXEC = 16,    /* str path\0argv...; [0] ppid, [1] argc,
	                           [2] SHMT_EXEC_* variant; SHMT_EVF_START when
	                           written by the new image (ret 0) */
	SHMT_CALL_EXIT = 17,    /* [0] status, [1] 1 for _exit/_Exit */
	SHMT_CALL_THREAD_START = 18, /* [0] start routine */
	SHMT_CALL_THREAD_EXIT = 19,  /* [0] return value */
	SHMT_CALL_MODULE = 20,  /* str path; [0] load bias, [1] lowest address,
	                           [2] highest address, [3] build-id length,
	                           [4..7] build-id bytes (at most 32) */
	SHMT_CALL_WAIT = 21,    /* a child reaped: [0] its pid, [1] wait status
	                           (as waitpid gives it), [2] SHMT_WAIT_*;
	                           ret as the call returned.  The launcher
	                           records what it reaps as SHMT_WAIT_REAPER. */
	SHMT_CALL_COUNT
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
	SHMT_OBJ_COUNT
};

/* Which exec function was called (args[2] of SHMT_CALL_EXEC). */
enum shmt_exec_variant {
	SHMT_EXEC_EXECVE = 0, SHMT_EXEC_EXECV, SHMT_EXEC_EXECVP,
	SHMT_EXEC_EXECVPE, SHMT_EXEC_EXECL, SHMT_EXEC_EXECLP, SHMT_EXEC_EXECLE,
	SHMT_EXEC_FEXECVE, SHMT_EXEC_EXECVEAT, SHMT_EXEC_COUNT
};

/* Which wait function reaped (args[2] of SHMT_CALL_WAIT). */
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
	uint64_t args[8];      /*  64 see enum shmt_call */
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
