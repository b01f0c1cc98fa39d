/*
 * procmap.h - the attach map of a running, untraced process (tree),
 * rebuilt from /proc: which process has which SysV, POSIX, memfd, shared
 * anonymous (/dev/zero) or shared file mapping, at which address, rw or ro.
 *
 * The result is the struct model a trace replays into, so the renderers
 * of the attach map (map_text, map_json, the live view) work unchanged.
 * From /proc there is no history and there are no backtraces:
 *
 *   - m->from_proc is set and m->trace is NULL (there are no events:
 *     never call model_event() or model_build()-only helpers on it);
 *   - every attachment is live (attached_ns 0, seq MODEL_NO_SEQ; how is
 *     ATTACH_SHMAT for SysV, ATTACH_MMAP otherwise), nothing is detached,
 *     no segment is removed;
 *   - no segment has a creator or remover (created false, seq
 *     MODEL_NO_SEQ), the profile is empty, every process is alive
 *     (ended false, traced false, start_ns 0);
 *   - m->running is true, m->until_ns 0.
 *
 * Segments are one per kernel object: by shmid for SysV (the inode field
 * of /proc/PID/maps), by device and inode for the others, so a region a
 * parent shared with its children through fork is one segment with an
 * attachment in each.  State: `pending` for a SysV segment marked for
 * removal (SHM_DEST in /proc/sysvipc/shm) or a POSIX object unlinked
 * since, `live` otherwise.  Size: the kernel's (/proc/sysvipc/shm,
 * /dev/shm, the mapped file's) where it says, else the extent mapped.
 * A shared mapping of /dev/zero cannot be told from shared anonymous
 * memory (the kernel makes both the same way): both are SEG_ANON.
 */
#ifndef SHMVIEW_PROCMAP_H
#define SHMVIEW_PROCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "kernel.h"
#include "model.h"

struct procmap_stats {
	size_t processes;     /* processes in the model */
	size_t unreadable;    /* descendants whose maps could not be read
	                         (in the model, without attachments) */
	size_t mappings;      /* shared mappings found */
};

/*
 * Build *m from /proc for process `pid` and, with `children`, every
 * descendant of it alive now (found through the ppid in each
 * /proc/PID/stat),
 * root first.  Reads /proc/sysvipc/shm and /dev/shm for the SysV and
 * POSIX objects' sizes and states.  Returns 0, or -1 after one error()
 * line when `pid` does not exist or its maps cannot be read (another
 * user's process); *m is then empty (model_free() is still safe).  A
 * descendant that cannot be read is kept without attachments, silently
 * (see procmap_build_stats() to count them).  Cheap enough to call at
 * each refresh of a live view.  The caller frees m with model_free().
 */
int procmap_build(struct model *m, pid_t pid, bool children);

/* The same, also filling *st (may be NULL). */
int procmap_build_stats(struct model *m, pid_t pid, bool children,
			struct procmap_stats *st);

/*
 * The parts, for tests and for other sources of maps text: begin a build
 * on model `m` (made by model_init()) with sizes and states from the
 * kernel view `k` (NULL: none; it must outlive the build); add the shared
 * mappings in maps text `f` (the format of /proc/PID/maps) as live
 * attachments of process `p` of `m`, one segment per kernel object across
 * every call; end the build (sizes, states, flags; frees `pm`).
 * procmap_add_maps() returns the number of shared mappings added, or -1
 * with errno set when reading `f` fails.
 */
struct procmap;
struct procmap *procmap_begin(struct model *m, const struct kernel_view *k);
int procmap_add_maps(struct procmap *pm, struct process *p, FILE *f);
void procmap_end(struct procmap *pm);

#endif /* SHMVIEW_PROCMAP_H */
