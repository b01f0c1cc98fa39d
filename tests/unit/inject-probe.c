/*
 * inject-probe.c - the library test-inject loads into a running process:
 * its constructor and its entry point leave marks the target can check.
 */
#include <string.h>

int probe_constructed;

__attribute__((constructor)) static void construct(void)
{
	probe_constructed = 1;
}

/* The entry point test-inject calls: a result it can check. */
long probe_entry(const char *arg)
{
	return arg ? (long)strlen(arg) * 7 : -1;
}
