/*
 * metrics.h - what `shmview metrics` hands its renderer: the audit of the
 * machine (audit.h: the same kernel views, flags and verdicts) summed into
 * gauges of bounded cardinality, with the capacity figures now
 * (capacity.h) and the collection's own health.
 *
 * cmd-metrics.c reads the kernel (audit_read), the capacity
 * (capacity_read_now) and builds this; metrics-prom.c renders it as the
 * Prometheus text format.
 */
#ifndef SHMVIEW_METRICS_H
#define SHMVIEW_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "capacity.h"

struct metrics_cell {
	uint64_t objects, bytes;
};

/* The objects of one owner and kind. */
struct metrics_owner {
	uint32_t uid;
	bool known;              /* false: unlinked POSIX objects, owner
	                            unknown */
	enum audit_kind kind;
	struct metrics_cell cell;
};

struct metrics {
	const struct audit *audit;          /* every object, for --per-object */
	const struct capacity_now *capacity;
	struct metrics_cell cells[AUDIT_KIND_COUNT][AUDIT_VERDICT_COUNT];
	struct metrics_owner *owners;       /* by uid, then kind (owned) */
	size_t nowners;
	bool per_object;                    /* --per-object */
	double duration_seconds;            /* of the collection */
	int64_t time;                       /* seconds since the epoch */
};

/* Sum audit a (built) into *mt, beside capacity c; per_object, duration
 * and time are the caller's to set.  Free with metrics_free(). */
void metrics_build(struct metrics *mt, const struct audit *a,
		   const struct capacity_now *c);
void metrics_free(struct metrics *mt);

#endif /* SHMVIEW_METRICS_H */
