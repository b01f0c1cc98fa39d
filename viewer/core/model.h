/*
 * model.h - what a trace means: segments, their lifetimes and attachments,
 * and the process tree, derived from the events.
 *
 * The model replays a trace's events in the order they took effect and
 * keeps, per process, the address ranges it has attached.  Calls that
 * failed stay in the history (they are in the profile) but never change
 * the model.  model_reconcile() then compares the model with what the
 * kernel says now (kernel.h) and decides each segment's state:
 *
 *   removed  gone, as it should be
 *   leaked   still exists after every traced process ended
 *   live     still in use by a traced process that is still running
 *   pending  marked for removal (IPC_RMID, shm_unlink) but still attached
 *
 * The renderers (report, map, live, export) only read a model.
 */
#ifndef SHMVIEW_MODEL_H
#define SHMVIEW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

struct kernel_view;
struct model_index;

enum seg_kind {
	SEG_SYSV,    /* shmget: identified by shmid (and key) */
	SEG_POSIX,   /* shm_open: by name; one segment per object, so a name
	                unlinked and created again is two segments */
	SEG_ANON,    /* mmap(MAP_SHARED|MAP_ANONYMOUS), shared through fork */
	SEG_DEVZERO, /* mmap of /dev/zero, MAP_SHARED */
	SEG_MEMFD,   /* memfd_create */
	SEG_FILE,    /* MAP_SHARED mapping of a regular file, by (dev, inode) */
	SEG_SEM,     /* a POSIX named semaphore (sem_open): /dev/shm/sem.NAME,
	                by inode; name is the sem_open name "/NAME" */
	SEG_KIND_COUNT
};

enum seg_state {
	SEG_LIVE, SEG_PENDING, SEG_REMOVED, SEG_LEAKED,
	SEG_ENDED,   /* a file's mappings all ended; the file remains (it is
	                no leak: a file is meant to stay) */
	SEG_STATE_COUNT
};

/* Notes on a segment: what the trace alone cannot explain. */
#define SEG_NOTE_PREEXISTING     0x01u /* existed before the trace saw it */
#define SEG_NOTE_REMOVED_OUTSIDE 0x02u /* gone, but no traced process
                                          removed it */
#define SEG_NOTE_ATTACHED_OUTSIDE 0x04u /* the kernel counts attaches the
                                           trace did not see */
#define SEG_NOTE_NAME_REUSED     0x08u /* /dev/shm/NAME now is another
                                          object than the one traced */
#define SEG_NOTE_UNKNOWN_ORIGIN  0x10u /* mapped from a descriptor whose
                                          opening event was dropped */
#define SEG_NOTE_FILE_UNLINKED   0x20u /* a file unlinked during the run
                                          (mapped as "(deleted)", or its
                                          path now names another file) */
#define SEG_NOTE_SEEN_IN_PROC    0x40u /* attached in a way the trace did
                                          not see: found in /proc/PID/maps
                                          by the launcher */

enum attach_how { ATTACH_SHMAT, ATTACH_MMAP, ATTACH_FORK };

/* An event of the trace, by its process and slot: enough to find it again
 * (for its backtrace) with model_event(). */
struct model_ref {
	int32_t pid;
	uint64_t seq;        /* MODEL_NO_SEQ when there is none */
};
#define MODEL_NO_SEQ UINT64_MAX

struct segment;
struct process;

/* One mapping of a segment into one process.  A partial munmap splits an
 * attachment in two, as the kernel splits the mapping (and, for SysV,
 * counts each piece in shm_nattch). */
struct attachment {
	struct segment *seg;
	struct process *proc;
	uint64_t addr, length;
	uint64_t origin_addr;  /* where the attach began: shmdt finds every
	                          piece of an attach by it */
	bool readonly;         /* SHM_RDONLY, or mapped without PROT_WRITE */
	bool private_map;      /* MAP_PRIVATE mapping of a shared object */
	enum attach_how how;
	uint64_t attached_ns;  /* since the trace's start */
	uint64_t detached_ns;  /* valid when !live */
	bool live;
	bool proc_only;        /* seen in /proc only: no call, no stack */
	int32_t received_from; /* the process got the object's descriptor
	                          from this pid over a socket; 0 if not */
	uint64_t seq;          /* the event that made it (fork: the fork) */
};

/* A descriptor of a segment passed over a unix socket (SCM_RIGHTS). */
struct transfer {
	int32_t from, to;      /* to is 0 until it is received */
	uint64_t sent_ns, received_ns;
};

struct segment {
	unsigned index;          /* position in model.segments */
	enum seg_kind kind;
	enum seg_state state;    /* set by model_reconcile() */
	unsigned notes;          /* SEG_NOTE_* */

	int32_t shmid;           /* SysV; -1 otherwise */
	uint32_t key;            /* SysV */
	char *name;              /* POSIX / memfd name (owned), or NULL */
	uint64_t inode;          /* file (and POSIX when known), else 0 */
	uint64_t dev;            /* its device, 0 when unknown: (dev, inode)
	                            is the identity of every fd-backed object */
	uint64_t size;           /* bytes, 0 when unknown */

	bool created;            /* the trace saw its creation */
	struct model_ref creator;   /* creating event (or first seen) */
	struct model_ref remover;   /* IPC_RMID / shm_unlink, or none */
	bool marked;             /* removal asked for */
	bool destroyed;          /* gone per the trace: marked (or unnamed)
	                            and nothing attached or open */
	uint64_t created_ns, marked_ns, destroyed_ns;

	struct attachment **att; /* every attachment ever, in order */
	size_t natt, att_cap;
	unsigned live_att;       /* attachments live now */
	unsigned open_fds;       /* POSIX/memfd descriptors open now */

	/* filled by model_reconcile() from the kernel's view */
	bool in_kernel;
	uint32_t k_nattch;
	int32_t k_cpid;

	struct transfer *xfers;  /* passed over sockets, in order */
	size_t nxfers, xfer_cap;

	/* its history, read with history_of() (history.h) */
	uint64_t *hist;
	size_t nhist, hist_cap;
};

struct process {
	int32_t pid, ppid;       /* ppid 0 when unknown */
	char *exe;               /* owned; NULL before its exec is seen */
	char **argv;             /* owned, NULL-terminated; may be NULL */
	uint64_t start_ns, end_ns;
	bool ended;
	bool exit_seen;          /* it recorded its own exit */
	int exit_status;         /* exit(N); -1 when unknown */
	int signal;              /* killing signal, 0 when none/unknown */
	bool traced;             /* it recorded events itself */
	struct attachment **live;/* its attachments live now */
	size_t nlive, live_cap;
	struct attachment *last_ended[8]; /* its last attachments to end, newest
	                            at last_ended_at - 1 (mod 8): a /proc sighting
	                            they explain may come a little after */
	unsigned last_ended_at;
	struct fd_hold *fds;     /* descriptors it holds on segments */
	size_t nfds, fds_cap;
	struct received *recvd;  /* objects it received over a socket */
	size_t nrecvd, recvd_cap;
	unsigned index;          /* position in model.processes */
};

struct received {
	struct segment *seg;
	int32_t from;
};

struct fd_hold {
	struct segment *seg;
	unsigned count;
	bool cloexec;
};

/* The IPC profile of a run. */
struct model_call_stats {
	uint64_t calls, failed, total_ns;
};

struct model_profile {
	struct model_call_stats by_call[SHMT_CALL_COUNT];
	uint64_t by_errno[256];       /* failed calls by errno (< 256) */
	uint64_t peak_bytes;          /* most bytes attached at one time */
	uint64_t peak_ns;             /* when */
	uint64_t cur_bytes;
	uint64_t attach_count;        /* attachments that ended */
	uint64_t attach_min_ns, attach_max_ns, attach_total_ns;
};

struct model {
	const struct trace *trace;
	struct segment **segments;
	size_t nsegments, seg_cap;
	struct process **processes;   /* in order of appearance */
	size_t nprocesses, proc_cap;
	/* filter_model() (filter.h) keeps what it hides past nsegments and
	 * nprocesses, for model_free() */
	size_t hidden_segments, hidden_processes;
	struct model_index *idx;      /* lookups, private to model.c */

	uint64_t until_ns;            /* replayed up to here (since start);
	                                 for a running trace reconciled with
	                                 the kernel, the present */
	bool to_end;                  /* replayed to the trace's end */
	uint64_t events;              /* events replayed: every committed,
	                                 valid one up to until_ns, module
	                                 and reap events included */
	bool final;                   /* the trace file is complete */
	bool running;                 /* set by model_reconcile() */
	bool from_proc;               /* built from /proc by procmap.c: no
	                                 trace (trace is NULL), no history,
	                                 no backtraces */
	uint64_t leaks;               /* segments leaked (model_is_leak) */
	uint64_t abandoned, corrupt;  /* slots skipped by the reader */
	struct model_profile prof;
};

/*
 * Build the model of trace `t` from its events that began at most
 * `until_ns` after the trace's start (UINT64_MAX: all of them), replayed
 * in the order they took effect.  It cannot fail: bad events were already
 * skipped by the reader, and running out of memory ends the program
 * (xmalloc).  Every segment's state is provisional until
 * model_reconcile().  The caller frees the model with model_free(); `t`
 * must outlive it.
 */
void model_build(struct model *m, const struct trace *t, uint64_t until_ns);

/*
 * For a live reader, after trace_refresh(t) (t: the trace m was built
 * from, or the same file open again): replays the events t gained since
 * m was built or last extended, when m was built to the end of an
 * unfinished trace and the new events take effect after the last one
 * replayed, or at most 1 ms before it (a call under way when the
 * launcher drained; see model.c), and each new object record describes a
 * new event.  Returns true when m now holds them (reconcile it again); false
 * when m is as it was and must be built again (model_free, model_build):
 * an event came out of order, or the run ended.  A process that a
 * reconcile ended as gone from the kernel stays ended if its last events
 * come later.
 */
bool model_extend(struct model *m, const struct trace *t);

/*
 * Decide each segment's state against the kernel's view `k` (NULL: the
 * trace alone, as for a trace of another machine or a past moment), ends
 * the processes the kernel says are gone, and counts the leaks
 * (model_is_leak) in m->leaks.
 */
void model_reconcile(struct model *m, const struct kernel_view *k);

/* The model of all of trace `t`, reconciled with what the kernel says now
 * (model_build() then model_reconcile() with kernel_read()): what report,
 * clean, export and live show.  Freed with model_free(). */
void model_build_now(struct model *m, const struct trace *t);

/* Free everything the model owns.  Safe on a zeroed model. */
void model_free(struct model *m);

/*
 * Building a model from another source than a trace (procmap.c builds one
 * from /proc): an empty model, then its processes, segments and live
 * attachments.  model_init() leaves m->trace NULL; the caller sets each
 * segment's state and the model's flags itself (model_reconcile() is for
 * replayed traces).  model_add_process() returns the existing process
 * when pid is already there.  A new segment has shmid -1, no creator and
 * no remover (seq MODEL_NO_SEQ); a new attachment is live, made by `how`.
 * model_free() frees it all.
 */
void model_init(struct model *m);
struct process *model_add_process(struct model *m, int32_t pid);
struct segment *model_add_segment(struct model *m, enum seg_kind kind);
struct attachment *model_add_attachment(struct model *m, struct segment *s,
					struct process *p, uint64_t addr,
					uint64_t length, bool readonly,
					enum attach_how how);

/* The process with this pid, or NULL. */
struct process *model_process(const struct model *m, int32_t pid);

/* Find event `seq` again: fills *it and returns its event, or NULL. */
const struct trace_event *model_event(const struct model *m, uint64_t seq,
				      struct trace_iter *it);

/* Names for JSON and text: "sysv", "posix", "anon", "devzero", "memfd",
 * "file", "sem"; "live", "pending", "removed", "leaked", "ended";
 * "shmat", "mmap", "fork". */
const char *model_kind_name(enum seg_kind kind);
const char *model_state_name(enum seg_state state);
const char *model_how_name(enum attach_how how);

/*
 * The leak rule, for every command and renderer: whether reconciled
 * segment `s` is a leak this trace is answerable for.  The trace created
 * it (one it only found, SEG_NOTE_PREEXISTING, is someone else's) and it
 * outlived every traced process (state SEG_LEAKED: not removed, not
 * pending, and no traced process still runs to use it).
 */
bool model_is_leak(const struct segment *s);

/* The name of s's file in /dev/shm as shm_open takes it, "/NAME" for a
 * POSIX object, "/sem.NAME" for a semaphore, in buf (cut to size);
 * NULL for the other kinds and for a segment without a name. */
const char *model_shm_name(const struct segment *s, char *buf, size_t size);

/* Whether segment s belongs on the map: it still exists then (live,
 * pending or leaked), removed ones and files whose mappings all ended are
 * history. */
bool map_shows(const struct segment *s);

#endif /* SHMVIEW_MODEL_H */
