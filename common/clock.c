/* clock.c - wall-clock time for the trace header. */
#include "clock.h"

#include <stdio.h>
#include <string.h>

/* Returns CLOCK_REALTIME in ns since the epoch. */
uint64_t clock_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int clock_tsc_usable(void)
{
#if defined(__x86_64__)
	char buf[16] = { 0 };
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/"
			"current_clocksource", "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	return n >= 3 && strncmp(buf, "tsc", 3) == 0;
#else
	return 0;
#endif
}

uint64_t clock_ticks_span_ns(uint64_t dticks, uint64_t tsc0, uint64_t ns0,
			     uint64_t tsc1, uint64_t ns1)
{
	if (tsc1 <= tsc0 || ns1 <= ns0)
		return dticks;
	return (uint64_t)((unsigned __int128)dticks * (ns1 - ns0) / (tsc1 - tsc0));
}

uint64_t clock_ticks_to_ns(uint64_t ticks, uint64_t tsc0, uint64_t ns0,
			   uint64_t tsc1, uint64_t ns1)
{
	if (ticks >= tsc0)
		return ns0 + clock_ticks_span_ns(ticks - tsc0, tsc0, ns0, tsc1, ns1);
	uint64_t back = clock_ticks_span_ns(tsc0 - ticks, tsc0, ns0, tsc1, ns1);
	return back < ns0 ? ns0 - back : 0;
}
