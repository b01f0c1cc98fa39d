/* clock.c - wall-clock time for the trace header. */
#include "clock.h"

/* Returns CLOCK_REALTIME in ns since the epoch. */
uint64_t clock_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
