/*
 * history.h - the history of each segment: the events that touched it.
 *
 * The model notes them while it replays a trace (model.c), since it alone
 * knows which segment an event touched: the event that created it (or in
 * which the trace first saw it), every call that named it (shmget, shmat,
 * shmctl by its shmid; shm_open, shm_unlink by its name; ftruncate, close
 * and mmap by a descriptor opened on it), every attach (a fork's
 * inherited attachments are the fork's), every munmap, mremap, MAP_FIXED
 * or SHM_REMAP that cut, split or moved one of its attachments, and the
 * exec, exit or reap that dropped them.  A call that failed changed
 * nothing but is in the history of the segment it named.  Ends the trace
 * does not record (a final trace's last processes, a process the kernel
 * says is gone) are in no history.
 *
 * `live` shows a segment's history; filters by segment use a history set.
 */
#ifndef SHMVIEW_HISTORY_H
#define SHMVIEW_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/*
 * The events of segment s's history, each once, in the order they took
 * effect (the model's replay order), as sequence numbers for
 * model_event(): *seqs gets the first (valid until model_free()), the
 * count is returned.  None for a model built from /proc.
 */
size_t history_of(const struct segment *s, const uint64_t **seqs);

/* The events of some segments' histories, as a set (for filters). */
struct history_set {
	uint64_t *seqs;         /* sorted, each once */
	size_t n;
};

/* Fill *hs with the union of the histories of the n segments segs[]. */
void history_set_init(struct history_set *hs,
		      const struct segment *const *segs, size_t n);

/* Whether event seq is in the set. */
bool history_set_has(const struct history_set *hs, uint64_t seq);

void history_set_free(struct history_set *hs);

#endif /* SHMVIEW_HISTORY_H */
