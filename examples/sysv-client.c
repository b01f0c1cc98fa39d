/*
 * sysv-client.c - the reader side of sysv-server.
 *
 *   sysv-client [--remove] [--ack] [PATH]
 *
 * Finds the server's segment with the same key, ftok(PATH, 'S'), through
 * shmget(key, 0, 0) (size 0 and no flags: look up, never create), attaches
 * it read-only with SHM_RDONLY, prints the message and detaches.
 *
 * --ack attaches read-write instead (shmflg 0) and sets the segment's
 * `acked` flag, which "sysv-server --wait-client N" waits for.
 * --remove also removes the segment with shmctl(IPC_RMID) afterwards,
 * cleaning up after a server that leaked it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

/* The segment's layout; sysv-server.c declares the same. */
#define SYSV_DEMO_PROJ 'S'
struct sysv_demo {
	int ready;      /* set once msg is written */
	int acked;      /* set by "sysv-client --ack" */
	char msg[256];
};

int main(int argc, char **argv)
{
	const char *path = "/tmp";
	int remove_it = 0, ack = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--remove") == 0) {
			remove_it = 1;
		} else if (strcmp(argv[i], "--ack") == 0) {
			ack = 1;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "usage: sysv-client [--remove] [--ack] [PATH]\n");
			return 2;
		} else {
			path = argv[i];
		}
	}

	key_t key = ftok(path, SYSV_DEMO_PROJ);
	if (key == -1) {
		fprintf(stderr, "sysv-client: ftok(%s): %s\n", path, strerror(errno));
		return 1;
	}

	/* Size 0, no IPC_CREAT: only find an existing segment. */
	int shmid = shmget(key, 0, 0);
	if (shmid == -1) {
		fprintf(stderr, "sysv-client: shmget: %s\n", strerror(errno));
		return 1;
	}

	struct sysv_demo *seg = shmat(shmid, NULL, ack ? 0 : SHM_RDONLY);
	if (seg == (void *)-1) {
		fprintf(stderr, "sysv-client: shmat: %s\n", strerror(errno));
		return 1;
	}

	if (!__atomic_load_n(&seg->ready, __ATOMIC_ACQUIRE)) {
		fprintf(stderr, "sysv-client: the server has not written yet\n");
		shmdt(seg);
		return 1;
	}
	printf("client: read \"%.*s\"\n", (int)sizeof seg->msg, seg->msg);
	if (ack) {
		__atomic_store_n(&seg->acked, 1, __ATOMIC_RELEASE);
		printf("client: acknowledged\n");
	}

	if (shmdt(seg) == -1) {
		fprintf(stderr, "sysv-client: shmdt: %s\n", strerror(errno));
		return 1;
	}
	if (remove_it) {
		if (shmctl(shmid, IPC_RMID, NULL) == -1) {
			fprintf(stderr, "sysv-client: shmctl(IPC_RMID): %s\n",
				strerror(errno));
			return 1;
		}
		printf("client: removed the segment\n");
	}
	return 0;
}
