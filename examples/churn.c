/*
 * churn.c - one workload, N times, for benchmarks and stress tests.
 *
 *   churn sysv|posix|anon|private|fail N
 *
 *   sysv     shmget(IPC_PRIVATE)/shmat/touch/shmdt/shmctl(IPC_RMID)
 *   posix    shm_open/ftruncate/mmap/touch/munmap/close/shm_unlink
 *   anon     mmap(MAP_SHARED|MAP_ANONYMOUS)/touch/munmap
 *   private  mmap(MAP_PRIVATE|MAP_ANONYMOUS)/touch/munmap (not traced)
 *   fail     shmctl(-1, IPC_STAT, &buf), which fails with EINVAL
 *
 * Prints only "churn MODE: N iterations" at the end; exits non-zero if a
 * call that should work did not (or if a "fail" call did not fail).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define PAGE 4096

static int die(const char *what)
{
	fprintf(stderr, "churn: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: churn sysv|posix|anon|private|fail N\n");
		return 2;
	}
	const char *mode = argv[1];
	char *end;
	long n = strtol(argv[2], &end, 10);
	if (*end || n < 0) {
		fprintf(stderr, "churn: bad count %s\n", argv[2]);
		return 2;
	}

	char name[64];
	snprintf(name, sizeof name, "/shmtrace-churn-%ld", (long)getpid());

	if (strcmp(mode, "sysv") == 0) {
		for (long i = 0; i < n; i++) {
			int id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
			if (id == -1)
				return die("shmget");
			char *p = shmat(id, NULL, 0);
			if (p == (void *)-1) {
				shmctl(id, IPC_RMID, NULL);
				return die("shmat");
			}
			p[0] = (char)i;
			if (shmdt(p) == -1)
				return die("shmdt");
			if (shmctl(id, IPC_RMID, NULL) == -1)
				return die("shmctl");
		}
	} else if (strcmp(mode, "posix") == 0) {
		for (long i = 0; i < n; i++) {
			int fd = shm_open(name, O_CREAT | O_RDWR, 0600);
			if (fd == -1)
				return die("shm_open");
			if (ftruncate(fd, PAGE) == -1) {
				shm_unlink(name);
				return die("ftruncate");
			}
			char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, 0);
			if (p == MAP_FAILED) {
				shm_unlink(name);
				return die("mmap");
			}
			p[0] = (char)i;
			if (munmap(p, PAGE) == -1 || close(fd) == -1) {
				shm_unlink(name);
				return die("munmap/close");
			}
			if (shm_unlink(name) == -1)
				return die("shm_unlink");
		}
	} else if (strcmp(mode, "anon") == 0 || strcmp(mode, "private") == 0) {
		int flags = (mode[0] == 'a' ? MAP_SHARED : MAP_PRIVATE) |
			    MAP_ANONYMOUS;
		for (long i = 0; i < n; i++) {
			char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, flags,
				       -1, 0);
			if (p == MAP_FAILED)
				return die("mmap");
			p[0] = (char)i;
			if (munmap(p, PAGE) == -1)
				return die("munmap");
		}
	} else if (strcmp(mode, "fail") == 0) {
		for (long i = 0; i < n; i++) {
			struct shmid_ds buf;
			if (shmctl(-1, IPC_STAT, &buf) != -1 || errno != EINVAL) {
				fprintf(stderr, "churn: shmctl(-1) did not fail "
					"with EINVAL\n");
				return 1;
			}
		}
	} else {
		fprintf(stderr, "churn: unknown mode %s\n", mode);
		return 2;
	}

	printf("churn %s: %ld iterations\n", mode, n);
	return 0;
}
