/*
 * sysv-detach-twice.c - a double shmdt.
 *
 *   sysv-detach-twice
 *
 * Attaches an IPC_PRIVATE segment, detaches it, then detaches the same
 * address again: the second shmdt fails with EINVAL (nothing is attached
 * there any more), a bug the tracer should make obvious.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(void)
{
	int shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (shmid == -1) {
		fprintf(stderr, "sysv-detach-twice: shmget: %s\n", strerror(errno));
		return 1;
	}
	void *p = shmat(shmid, NULL, 0);
	if (p == (void *)-1) {
		fprintf(stderr, "sysv-detach-twice: shmat: %s\n", strerror(errno));
		shmctl(shmid, IPC_RMID, NULL);
		return 1;
	}

	int r1 = shmdt(p);
	printf("first shmdt: %d\n", r1);

	errno = 0;
	int r2 = shmdt(p);               /* the bug: already detached */
	int e2 = errno;
	printf("second shmdt: %d %s\n", r2, e2 == EINVAL ? "EINVAL" : strerror(e2));

	if (shmctl(shmid, IPC_RMID, NULL) == -1) {
		fprintf(stderr, "sysv-detach-twice: IPC_RMID: %s\n", strerror(errno));
		return 1;
	}
	printf("removed\n");
	return (r1 == 0 && r2 == -1 && e2 == EINVAL) ? 0 : 1;
}
