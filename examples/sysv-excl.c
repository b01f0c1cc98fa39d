/*
 * sysv-excl.c - IPC_CREAT|IPC_EXCL: create a segment that must not exist.
 *
 *   sysv-excl [KEY]        KEY in hex, default 0x53485445 ("SHTE")
 *
 * The first shmget(key, 4096, IPC_CREAT|IPC_EXCL|0600) creates the segment;
 * the second, with the same key, fails with EEXIST, the way a program
 * notices another instance already running.  Then IPC_STAT reads the
 * segment's size back and IPC_RMID removes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#define EXCL_SIZE 4096

int main(int argc, char **argv)
{
	key_t key = (key_t)0x53485445;

	if (argc > 2) {
		fprintf(stderr, "usage: sysv-excl [HEXKEY]\n");
		return 2;
	}
	if (argc == 2) {
		char *end;
		unsigned long k = strtoul(argv[1], &end, 16);
		if (*end || k == 0 || k > 0xffffffffUL) {
			fprintf(stderr, "sysv-excl: bad key %s\n", argv[1]);
			return 2;
		}
		key = (key_t)(unsigned int)k;
	}

	int shmid = shmget(key, EXCL_SIZE, IPC_CREAT | IPC_EXCL | 0600);
	if (shmid == -1) {
		fprintf(stderr, "sysv-excl: first shmget: %s\n", strerror(errno));
		return 1;
	}
	printf("first shmget: created\n");

	/* The same request again must fail: the key is taken now. */
	int again = shmget(key, EXCL_SIZE, IPC_CREAT | IPC_EXCL | 0600);
	if (again != -1 || errno != EEXIST) {
		fprintf(stderr, "sysv-excl: second shmget did not fail with EEXIST\n");
		if (again != -1)
			shmctl(again, IPC_RMID, NULL);
		shmctl(shmid, IPC_RMID, NULL);
		return 1;
	}
	printf("second shmget: EEXIST\n");

	struct shmid_ds ds;
	if (shmctl(shmid, IPC_STAT, &ds) == -1) {
		fprintf(stderr, "sysv-excl: IPC_STAT: %s\n", strerror(errno));
		shmctl(shmid, IPC_RMID, NULL);
		return 1;
	}
	printf("IPC_STAT: size %zu, mode %04o\n", (size_t)ds.shm_segsz,
	       (unsigned)(ds.shm_perm.mode & 0777));

	if (shmctl(shmid, IPC_RMID, NULL) == -1) {
		fprintf(stderr, "sysv-excl: IPC_RMID: %s\n", strerror(errno));
		return 1;
	}
	printf("IPC_RMID: removed\n");
	return 0;
}
