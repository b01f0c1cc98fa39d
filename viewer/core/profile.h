/*
 * profile.h - the calls of a trace counted by name, strace -c style: what
 * `dump -c` prints and the call table of `report`'s profile.
 *
 * Calls are counted by the name dump prints for them ("execve",
 * "execvp", "waitpid", "_exit"), so the two outputs and dump's lines use
 * one set of names.  Module events (not calls) are not counted.
 */
#ifndef SHMVIEW_PROFILE_H
#define SHMVIEW_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

struct profile_row {
	const char *name;       /* static, from decode.c's tables */
	uint64_t calls, errors;
	uint64_t total_ns, max_ns;
};

/* Room for every call and every variant name decode.c has. */
#define PROFILE_MAX_ROWS 64

struct call_profile {
	struct profile_row rows[PROFILE_MAX_ROWS];
	size_t n;
	struct profile_row total;   /* name "total" */
};

/* Count event `ev` (a module event is ignored). */
void profile_add(struct call_profile *p, const struct trace_event *ev);

/* Sort the rows as strace -c does: most time first, then most calls,
 * then by name. */
void profile_sort(struct call_profile *p);

/* A row's share of the total time, in percent (0 when no time at all). */
double profile_share(const struct call_profile *p, const struct profile_row *r);

/* Its average time per call in ns (0 for no call). */
uint64_t profile_avg_ns(const struct profile_row *r);

#endif /* SHMVIEW_PROFILE_H */
