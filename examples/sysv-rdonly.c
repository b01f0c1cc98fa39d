/*
 * sysv-rdonly.c - one segment, a writer attachment and a reader attachment.
 *
 *   sysv-rdonly
 *
 * Creates an IPC_PRIVATE segment, attaches it read-write and fills it,
 * attaches it a second time with SHM_RDONLY and reads the data back through
 * that second mapping, then detaches both and removes the segment.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#define RD_SIZE 8192

int main(void)
{
	int shmid = shmget(IPC_PRIVATE, RD_SIZE, IPC_CREAT | 0600);
	if (shmid == -1) {
		fprintf(stderr, "sysv-rdonly: shmget: %s\n", strerror(errno));
		return 1;
	}

	unsigned char *w = shmat(shmid, NULL, 0);
	if (w == (void *)-1) {
		fprintf(stderr, "sysv-rdonly: shmat: %s\n", strerror(errno));
		shmctl(shmid, IPC_RMID, NULL);
		return 1;
	}
	/* Fill every byte with a pattern the reader can verify. */
	for (size_t i = 0; i < RD_SIZE; i++)
		w[i] = (unsigned char)(i * 7 + 3);
	printf("writer: filled %d bytes\n", RD_SIZE);

	const unsigned char *r = shmat(shmid, NULL, SHM_RDONLY);
	if (r == (void *)-1) {
		fprintf(stderr, "sysv-rdonly: shmat(SHM_RDONLY): %s\n",
			strerror(errno));
		shmdt(w);
		shmctl(shmid, IPC_RMID, NULL);
		return 1;
	}
	size_t bad = 0;
	unsigned sum = 0;
	for (size_t i = 0; i < RD_SIZE; i++) {
		if (r[i] != (unsigned char)(i * 7 + 3))
			bad++;
		sum += r[i];
	}
	printf("reader: %zu mismatches, checksum %u\n", bad, sum);

	int rc = 0;
	if (shmdt(r) == -1 || shmdt(w) == -1) {
		fprintf(stderr, "sysv-rdonly: shmdt: %s\n", strerror(errno));
		rc = 1;
	}
	if (shmctl(shmid, IPC_RMID, NULL) == -1) {
		fprintf(stderr, "sysv-rdonly: IPC_RMID: %s\n", strerror(errno));
		rc = 1;
	}
	if (rc == 0)
		printf("detached both, removed\n");
	return bad ? 1 : rc;
}
