/*
 * audit.h - what `shmview audit` hands its renderers: every SysV segment
 * and every POSIX object on the machine now, who has each mapped, and
 * which look leaked.
 *
 * cmd-audit.c reads the kernel's view (/proc/sysvipc/shm, /dev/shm, the
 * maps and descriptors of every process it may inspect, kernel.h);
 * audit_build() decides the flags, sorts and counts, and with --trace
 * audit_annotate() finds the objects a trace created and symbolizes their
 * creation stacks; the renderers (render.h: audit-text.c, audit-json.c)
 * only render a struct audit.
 *
 * Flags (an object may have several):
 *   orphaned   nothing has it attached (SysV: nattch 0) and its creator is
 *              gone (SysV); for a POSIX object, which has no recorded
 *              creator: no process maps it or holds it open
 *   stale      unused for longer than --stale: nothing attached and the
 *              last attach, detach or change (SysV) or the last
 *              modification (POSIX) is older
 *   pending    marked for removal (SysV IPC_RMID, POSIX unlinked) but
 *              still held by the processes listed
 *   unseen     attached by processes this user cannot inspect (SysV:
 *              the kernel counts more attaches than the maps show)
 * The first three make an object a likely leak, and its size waste.
 */
#ifndef SHMVIEW_AUDIT_H
#define SHMVIEW_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capacity.h"
#include "kernel.h"
#include "model.h"
#include "report.h"

#define AUDIT_ORPHANED 0x1u
#define AUDIT_STALE    0x2u
#define AUDIT_PENDING  0x4u
#define AUDIT_UNSEEN   0x8u
#define AUDIT_LEAK_FLAGS (AUDIT_ORPHANED | AUDIT_STALE | AUDIT_PENDING)

#define AUDIT_DEFAULT_STALE 3600     /* seconds */

enum audit_family { AUDIT_SYSV, AUDIT_POSIX };

/* A process as the audit names it. */
struct audit_pid {
	int32_t pid;
	bool alive;
	bool reused;              /* alive, but started after the object was
	                             created or changed: not its creator */
	const char *comm;         /* NULL when gone or unknown */
};

/* One mapping of the object in one process now. */
struct audit_mapper {
	int32_t pid;
	const char *comm;
	uint64_t addr, length;
	bool readonly;
};

/* A descriptor open on a POSIX object (mapped or not). */
struct audit_holder {
	int32_t pid;
	const char *comm;
	int fd;
};

/* What the trace given with --trace says about the object. */
struct audit_traced {
	const struct segment *seg;      /* in the audit's model */
	const struct process *creator;  /* or NULL */
	struct report_stack stack;      /* the creation backtrace (owned) */
};

struct audit_obj {
	enum audit_family family;
	const struct kernel_sysv *sysv;   /* AUDIT_SYSV */
	const struct kernel_posix *posix; /* AUDIT_POSIX */
	unsigned flags;                   /* AUDIT_* */
	uint64_t size;
	uint64_t waste;                   /* size when a likely leak, else 0 */
	uint32_t key;                     /* SysV: as created (the kernel shows
	                                     IPC_PRIVATE once it is marked;
	                                     the mappings still name it) */
	int64_t last_used;                /* seconds since the epoch, 0 never */
	struct audit_pid creator, last;   /* SysV: cpid, lpid */
	struct audit_mapper *mappers;
	size_t nmappers;
	struct audit_holder *holders;     /* POSIX */
	size_t nholders;
	uint32_t unseen;                  /* SysV: attaches not in any maps */
	bool complete;                    /* mappers lists every mapping: SysV
	                                     when none is unseen, POSIX when
	                                     every process was inspected */
	bool unlinked;                    /* POSIX: gone from /dev/shm, still
	                                     mapped (owner and mode unknown) */
	struct audit_traced *traced;      /* with --trace, when it made it */
};

struct audit_totals {
	uint64_t sysv, posix, semaphores;
	uint64_t bytes;
	uint64_t leaks, waste;             /* likely leaks, their bytes */
	uint64_t orphaned, stale, pending, unseen;
};

struct audit {
	int64_t now;                       /* seconds since the epoch */
	int64_t stale_after;               /* --stale, seconds */
	uint32_t uid;                      /* who ran it */
	bool sysv_ok, posix_ok;            /* the sources could be read */
	struct audit_obj *objs;            /* biggest waste first */
	size_t nobjs;
	const struct kernel_scan *scan;    /* processes and their mappings */
	const struct kernel_proc **unreadable;  /* by pid */
	size_t nunreadable;
	struct audit_totals totals;
	const char *trace_path;            /* --trace, or NULL */
	const struct model *model;         /* of that trace, or NULL */
	struct kernel_posix *unlinked;     /* POSIX objects in no listing,
	                                      only in the maps (owned) */
	size_t nunlinked;
	const struct capacity_now *capacity; /* the limits now, or NULL */
};

/*
 * Build the audit *a (zeroed, with now, stale_after and uid set) from the
 * kernel's view `k` and the scan of every process `scan`, which must
 * outlive it: one object per SysV segment and per POSIX object of k, and
 * per POSIX object unlinked but still mapped (found in the scan), each
 * with its mappers, holders and flags; likely leaks first, biggest waste
 * first; the totals, and the processes that could not be inspected.
 * Free it with audit_free().
 */
void audit_build(struct audit *a, const struct kernel_view *k,
		 const struct kernel_scan *scan);

/*
 * --trace: mark the objects the trace made (model m of trace t, built and
 * reconciled against the same view; `path` as given), with the creation
 * backtrace of each.  SysV objects are matched by shmid and key, POSIX
 * ones by name and inode (without one, by the model's in_kernel); the
 * last match wins when the trace saw an id or a name used twice.
 * Returns the symbol table the frames' strings live in (NULL when no
 * object matched), for the caller to free with sym_free() after
 * rendering.
 */
struct sym_table *audit_annotate(struct audit *a, const struct model *m,
				 const struct trace *t, const char *path);

/*
 * Read the kernel's view into *k and scan every process into *scan (the
 * caller frees both, after the audit), then audit_build() *a with
 * stale_after and the time and user now.  Returns 0, or -1 after saying
 * why when /proc cannot be listed (k is read, scan and a are empty).
 */
int audit_read(struct audit *a, struct kernel_view *k,
	       struct kernel_scan *scan, int64_t stale_after);

/*
 * One verdict per object, for counts that add up (metrics): pending
 * (marked for removal, still held) before orphaned (nothing attached,
 * creator gone) before stale (nothing attached for over --stale, its
 * creator may live), else ok.  The flags above decide; this only ranks
 * them.
 */
enum audit_verdict {
	AUDIT_VERDICT_OK, AUDIT_VERDICT_ORPHANED, AUDIT_VERDICT_STALE,
	AUDIT_VERDICT_PENDING, AUDIT_VERDICT_COUNT
};
enum audit_verdict audit_verdict(const struct audit_obj *o);
/* "ok", "orphaned", "stale", "pending" */
const char *audit_verdict_name(enum audit_verdict v);

/* What an object is, for counts: a SysV segment, a POSIX object, or a
 * POSIX semaphore (sem.NAME in /dev/shm). */
enum audit_kind { AUDIT_KIND_SYSV, AUDIT_KIND_POSIX, AUDIT_KIND_SEM,
		  AUDIT_KIND_COUNT };
enum audit_kind audit_kind_of(const struct audit_obj *o);
/* "sysv", "posix", "sem" */
const char *audit_kind_name(enum audit_kind k);

/* The owner's uid of an object; false when unknown (a POSIX object
 * unlinked but still mapped). */
bool audit_owner(const struct audit_obj *o, uint32_t *uid);

/* Free what the audit owns (not the view, the scan or the model). */
void audit_free(struct audit *a);

/* The flag names, in JSON and text: "orphaned", "stale", "pending",
 * "unseen" for bit 0x1, 0x2, 0x4, 0x8. */
const char *audit_flag_name(unsigned bit);

#endif /* SHMVIEW_AUDIT_H */
