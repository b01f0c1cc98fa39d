/*
 * sysv-server.c - the classic System V shared memory "server".
 *
 *   sysv-server [--remove] [--wait-client SECONDS] [PATH]
 *
 * Derives a key with ftok(PATH, 'S') (PATH defaults to "/tmp"), creates a
 * 4 KiB segment with shmget(key, 4096, IPC_CREAT|0666), attaches it and
 * writes a message into it, the way most textbook examples do.
 *
 * By default it then exits while still attached and never removes the
 * segment: the kernel detaches it at exit, but the segment itself stays in
 * /proc/sysvipc/shm until someone runs IPC_RMID (the classic leak that
 * shmtrace is meant to expose).  With --remove it detaches with shmdt and
 * removes the segment with shmctl(IPC_RMID) like a well-behaved program.
 *
 * With --wait-client N it waits up to N seconds for a client
 * (sysv-client --ack) to set the `acked` flag in the segment.
 *
 * Output is deterministic (no pids, addresses or times) so that a run under
 * the tracer can be compared byte for byte with a bare run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>

/* The segment's layout; sysv-client.c declares the same. */
#define SYSV_DEMO_PROJ 'S'
#define SYSV_DEMO_SIZE 4096
#define SYSV_DEMO_MESSAGE "hello from sysv-server"
struct sysv_demo {
	int ready;      /* set once msg is written */
	int acked;      /* set by "sysv-client --ack" */
	char msg[256];
};

static void usage(void)
{
	fprintf(stderr, "usage: sysv-server [--remove] [--wait-client SECONDS] [PATH]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = "/tmp";
	int remove_it = 0;
	long wait_secs = -1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--remove") == 0) {
			remove_it = 1;
		} else if (strcmp(argv[i], "--wait-client") == 0) {
			char *end;
			if (++i >= argc)
				usage();
			wait_secs = strtol(argv[i], &end, 10);
			if (*end || wait_secs < 0)
				usage();
		} else if (argv[i][0] == '-') {
			usage();
		} else {
			path = argv[i];
		}
	}

	key_t key = ftok(path, SYSV_DEMO_PROJ);
	if (key == -1) {
		fprintf(stderr, "sysv-server: ftok(%s): %s\n", path, strerror(errno));
		return 1;
	}

	/* Create the segment (or reuse an existing one with this key). */
	int shmid = shmget(key, SYSV_DEMO_SIZE, IPC_CREAT | 0666);
	if (shmid == -1) {
		fprintf(stderr, "sysv-server: shmget: %s\n", strerror(errno));
		return 1;
	}

	struct sysv_demo *seg = shmat(shmid, NULL, 0);
	if (seg == (void *)-1) {
		fprintf(stderr, "sysv-server: shmat: %s\n", strerror(errno));
		return 1;
	}

	seg->acked = 0;
	snprintf(seg->msg, sizeof seg->msg, "%s", SYSV_DEMO_MESSAGE);
	__atomic_store_n(&seg->ready, 1, __ATOMIC_RELEASE);
	printf("server: wrote \"%s\"\n", seg->msg);
	fflush(stdout);

	if (wait_secs >= 0) {
		/* Poll every 10 ms for the client's acknowledgement. */
		struct timespec tick = { 0, 10 * 1000 * 1000 };
		long polls = wait_secs * 100;
		int acked = 0;
		for (long n = 0; n <= polls; n++) {
			if (__atomic_load_n(&seg->acked, __ATOMIC_ACQUIRE)) {
				acked = 1;
				break;
			}
			nanosleep(&tick, NULL);
		}
		if (acked) {
			printf("server: client acknowledged\n");
		} else {
			printf("server: no client within %ld s\n", wait_secs);
			fflush(stdout);
			if (remove_it) {
				shmdt(seg);
				shmctl(shmid, IPC_RMID, NULL);
			}
			return 1;
		}
	}

	if (!remove_it) {
		/* The leak: still attached, never IPC_RMID'd. */
		printf("server: exiting attached, segment left behind\n");
		return 0;
	}

	if (shmdt(seg) == -1) {
		fprintf(stderr, "sysv-server: shmdt: %s\n", strerror(errno));
		return 1;
	}
	if (shmctl(shmid, IPC_RMID, NULL) == -1) {
		fprintf(stderr, "sysv-server: shmctl(IPC_RMID): %s\n", strerror(errno));
		return 1;
	}
	printf("server: detached and removed the segment\n");
	return 0;
}
