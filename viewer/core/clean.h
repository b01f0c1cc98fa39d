/*
 * clean.h - the verdicts of `shmview clean`: whether a segment the trace
 * leaked may be removed now.
 *
 * Only a leak (model_is_leak) of a removable kind (SysV, or POSIX with a
 * name) is a candidate, and each is checked again just before it is
 * removed: ids and names are reused, and a segment someone else made since
 * must never be touched.  A SysV id must still carry the same key, have
 * been created by a pid of the trace, last changed while the trace ran,
 * and keep its size; a POSIX name must still be a regular file in
 * /dev/shm, last changed while the trace ran, with the inode seen when the
 * model was reconciled.
 *
 * The verdicts only decide; cmd-clean.c asks, removes and prints.
 */
#ifndef SHMVIEW_CLEAN_H
#define SHMVIEW_CLEAN_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel.h"
#include "model.h"
#include "trace.h"

enum clean_action {
	CLEAN_REMOVE,     /* still the trace's leak: remove it */
	CLEAN_GONE,       /* no longer there (or marked for removal since) */
	CLEAN_NOT_OURS,   /* leave it alone: see the reason */
};

/* Why a segment is left alone (CLEAN_NOT_OURS); CLEAN_WHY_NONE otherwise. */
enum clean_reason {
	CLEAN_WHY_NONE,
	/* SysV, from /proc/sysvipc/shm */
	CLEAN_WHY_SYSV_UNREADABLE,  /* it cannot be read */
	CLEAN_WHY_OTHER_KEY,        /* the shmid now has another key */
	CLEAN_WHY_OUTSIDE_CREATOR,  /* ... was created by a pid not traced */
	CLEAN_WHY_OLDER_ID,         /* ... was last changed before the trace */
	CLEAN_WHY_ID_CHANGED_AFTER, /* ... after the trace ended */
	CLEAN_WHY_OTHER_SIZE,       /* ... has another size */
	/* POSIX, from lstat of /dev/shm/NAME */
	CLEAN_WHY_NAME_TOO_LONG,    /* the path is longer than PATH_MAX */
	CLEAN_WHY_UNEXAMINABLE,     /* lstat failed, not with ENOENT */
	CLEAN_WHY_NOT_REGULAR,      /* the name is not a regular file now */
	CLEAN_WHY_OLDER_NAME,       /* it was last changed before the trace */
	CLEAN_WHY_NAME_CHANGED_AFTER, /* ... after the trace ended */
	CLEAN_WHY_OTHER_INODE,      /* the name now has another inode */
	CLEAN_REASON_COUNT
};

struct clean_verdict {
	enum clean_action action;
	enum clean_reason why;
};

/*
 * When the trace ran, as CLOCK_REALTIME nanoseconds: an object the trace
 * created was last changed within it, unless someone changed it since.
 * The start is moved back by a margin (the kernel stamps inodes with a
 * coarse clock that lags by up to a tick); `hi` is INT64_MAX when the
 * trace does not say when it ended (not final).
 */
struct clean_window {
	int64_t lo, hi;
};
struct clean_window clean_trace_window(const struct trace *t);

/* What /dev/shm says now about one POSIX name (lstat, never followed). */
struct clean_posix_now {
	bool name_too_long;   /* the path did not fit: nothing else is set */
	int err;              /* 0, or lstat's errno (ENOENT: gone) */
	bool regular;         /* a regular file */
	uint64_t inode;
	int64_t ctime_ns;     /* since the epoch */
};

/* Fill *now for POSIX name `name` ("/NAME" or "NAME") from /dev/shm. */
void clean_stat_posix(const char *name, struct clean_posix_now *now);

/*
 * The verdicts on leaked segment s of model m (built from a trace, and
 * reconciled): clean_check_sysv() with the kernel's view now `k`,
 * clean_check_posix() with what clean_stat_posix() found for s->name.
 * `w` is clean_trace_window() of m's trace.
 */
struct clean_verdict clean_check_sysv(const struct model *m,
				      const struct segment *s,
				      const struct kernel_view *k,
				      struct clean_window w);
struct clean_verdict clean_check_posix(const struct segment *s,
				       const struct clean_posix_now *now,
				       struct clean_window w);

/* The reason as `clean` prints it: "its id now has another key", ... */
const char *clean_reason_text(enum clean_reason why);

#endif /* SHMVIEW_CLEAN_H */
