/*
 * scribble.c - a program that writes over the tracer's region: it leaks
 * one SysV segment (key from argv[1]), then finds the trace region among
 * its own mappings (/proc/self/maps) and zeroes its header.  Untraced it
 * finds none.  Prints what it did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: scribble KEY\n");
		return 2;
	}
	key_t key = (key_t)strtoul(argv[1], NULL, 16);
	if (shmget(key, 4096, IPC_CREAT | 0600) < 0) {
		perror("scribble: shmget");
		return 1;
	}
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	unsigned long lo = 0, hi;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "shmtrace-region") &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
		else
			lo = 0;
	if (f)
		fclose(f);
	if (lo) {
		memset((void *)lo, 0, 4096);
		printf("scribble: zeroed the region's header\n");
	} else {
		printf("scribble: no region\n");
	}
	return 0;
}
