/* clock.h - the one clock every timestamp of a trace comes from. */
#ifndef SHMTRACE_CLOCK_H
#define SHMTRACE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds.  Goes through the vDSO (about 30 ns
 * here), so it is cheap enough for the recording path. */
static inline uint64_t clock_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CLOCK_REALTIME in nanoseconds: only for the header's wall-clock start. */
uint64_t clock_realtime_ns(void);

#endif
