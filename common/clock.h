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

/* The CPU's time-stamp counter: a few ns to read where clock_gettime costs
 * tens on a VM.  Only meaningful when clock_tsc_usable(); 0 elsewhere. */
static inline uint64_t clock_ticks(void)
{
#if defined(__x86_64__)
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
#else
	return 0;
#endif
}

/* 1 when the kernel itself keeps time with the TSC (so it is invariant
 * and in step across CPUs): then events may be stamped with clock_ticks()
 * and converted afterwards. */
int clock_tsc_usable(void);

/* Converts a tick count (or a tick difference, with base 0) to ns with
 * two calibration points (tsc0, ns0), (tsc1, ns1). */
uint64_t clock_ticks_to_ns(uint64_t ticks, uint64_t tsc0, uint64_t ns0,
			   uint64_t tsc1, uint64_t ns1);
uint64_t clock_ticks_span_ns(uint64_t dticks, uint64_t tsc0, uint64_t ns0,
			     uint64_t tsc1, uint64_t ns1);

#endif
