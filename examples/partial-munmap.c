/*
 * partial-munmap.c - munmap the middle of a SysV attach.
 *
 *   partial-munmap
 *
 * Attaches a 3-page IPC_PRIVATE segment and munmaps its middle page.  The
 * kernel splits the mapping in two and counts each piece as an attach:
 * shm_nattch reads 2.  shmdt at the original address then detaches both
 * pieces (every mapping of the segment that began with that attach), and
 * shm_nattch is 0 again.  A tracer has to model it the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

static int nattch(int shmid)
{
	struct shmid_ds ds;

	if (shmctl(shmid, IPC_STAT, &ds) == -1)
		return -1;
	return (int)ds.shm_nattch;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	int shmid = shmget(IPC_PRIVATE, 3 * page, IPC_CREAT | 0600);
	if (shmid == -1) {
		fprintf(stderr, "partial-munmap: shmget: %s\n", strerror(errno));
		return 1;
	}
	char *p = shmat(shmid, NULL, 0);
	if (p == (void *)-1) {
		fprintf(stderr, "partial-munmap: shmat: %s\n", strerror(errno));
		shmctl(shmid, IPC_RMID, NULL);
		return 1;
	}
	printf("attached 3 pages, nattch %d\n", nattch(shmid));

	if (munmap(p + page, page) == -1) {      /* the middle page */
		fprintf(stderr, "partial-munmap: munmap: %s\n", strerror(errno));
		return 1;
	}
	printf("after munmap of the middle page, nattch %d\n", nattch(shmid));

	int r = shmdt(p);                        /* both pieces go */
	printf("shmdt %d, nattch %d\n", r, nattch(shmid));

	if (shmctl(shmid, IPC_RMID, NULL) == -1) {
		fprintf(stderr, "partial-munmap: IPC_RMID: %s\n", strerror(errno));
		return 1;
	}
	printf("removed\n");
	return r == 0 ? 0 : 1;
}
