/*
 * nginx-zone.c - an nginx-style master sharing a zone with its workers.
 *
 *   nginx-zone [--hold SECONDS] anon|devzero|sysv [WORKERS]
 *
 * The master allocates a 1 MiB zone the three ways nginx's ngx_shm_alloc()
 * (src/os/unix/ngx_shmem.c) does, depending on what the platform has:
 *
 *   anon     mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_ANON|MAP_SHARED, -1, 0)
 *   devzero  open("/dev/zero"), mmap(..., MAP_SHARED, fd, 0), close(fd)
 *   sysv     shmget(IPC_PRIVATE, size, SHM_R|SHM_W|IPC_CREAT), shmat, and at
 *            once shmctl(IPC_RMID): the segment lives on while attached
 *
 * then forks WORKERS workers (default 4).  Each worker adds to a counter in
 * the zone with atomic increments, records its pid in its own slot, and
 * exits (after sleeping --hold SECONDS, so a live view can watch them).  The
 * master waits for them all, checks the slots against the pids fork()
 * returned, prints the total and frees the zone like ngx_shm_free()
 * (munmap, or shmdt for sysv).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ZONE_SIZE (1024 * 1024)
#define MAX_WORKERS 64
#define INCREMENTS 1000

struct zone {
	long counter;               /* bumped with atomic adds */
	int slot[MAX_WORKERS];      /* each worker's pid */
};

enum kind { ANON, DEVZERO, SYSV };

static void *shm_alloc(enum kind kind)
{
	void *addr;

	switch (kind) {
	case ANON:
		addr = mmap(NULL, ZONE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_ANON | MAP_SHARED, -1, 0);
		if (addr == MAP_FAILED) {
			fprintf(stderr, "nginx-zone: mmap(MAP_ANON|MAP_SHARED): %s\n",
				strerror(errno));
			return NULL;
		}
		return addr;

	case DEVZERO: {
		int fd = open("/dev/zero", O_RDWR);
		if (fd == -1) {
			fprintf(stderr, "nginx-zone: open(/dev/zero): %s\n",
				strerror(errno));
			return NULL;
		}
		addr = mmap(NULL, ZONE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			    fd, 0);
		if (addr == MAP_FAILED)
			fprintf(stderr, "nginx-zone: mmap(/dev/zero): %s\n",
				strerror(errno));
		if (close(fd) == -1)
			fprintf(stderr, "nginx-zone: close(/dev/zero): %s\n",
				strerror(errno));
		return addr == MAP_FAILED ? NULL : addr;
	}

	case SYSV: {
		int id = shmget(IPC_PRIVATE, ZONE_SIZE, SHM_R | SHM_W | IPC_CREAT);
		if (id == -1) {
			fprintf(stderr, "nginx-zone: shmget: %s\n", strerror(errno));
			return NULL;
		}
		addr = shmat(id, NULL, 0);
		if (addr == (void *)-1)
			fprintf(stderr, "nginx-zone: shmat: %s\n", strerror(errno));
		/* Mark for removal now: it goes away with the last detach. */
		if (shmctl(id, IPC_RMID, NULL) == -1)
			fprintf(stderr, "nginx-zone: shmctl(IPC_RMID): %s\n",
				strerror(errno));
		return addr == (void *)-1 ? NULL : addr;
	}
	}
	return NULL;
}

static int shm_free(enum kind kind, void *addr)
{
	if (kind == SYSV) {
		if (shmdt(addr) == -1) {
			fprintf(stderr, "nginx-zone: shmdt: %s\n", strerror(errno));
			return -1;
		}
	} else if (munmap(addr, ZONE_SIZE) == -1) {
		fprintf(stderr, "nginx-zone: munmap: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void worker(struct zone *z, int index, unsigned hold)
{
	for (int i = 0; i < INCREMENTS; i++)
		__atomic_fetch_add(&z->counter, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&z->slot[index], (int)getpid(), __ATOMIC_RELEASE);
	if (hold) {
		struct timespec ts = { (time_t)hold, 0 };
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	exit(0);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: nginx-zone [--hold SECONDS] anon|devzero|sysv [WORKERS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *kind_name = NULL;
	enum kind kind = ANON;
	long workers = 4;
	unsigned hold = 0;
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--hold") == 0) {
			if (++i >= argc)
				usage();
			long h = strtol(argv[i], &end, 10);
			if (*end || h < 0 || h > 3600)
				usage();
			hold = (unsigned)h;
		} else if (npos == 0) {
			kind_name = argv[i];
			npos++;
		} else if (npos == 1) {
			workers = strtol(argv[i], &end, 10);
			if (*end || workers < 1 || workers > MAX_WORKERS)
				usage();
			npos++;
		} else {
			usage();
		}
	}
	if (!kind_name)
		usage();
	if (strcmp(kind_name, "anon") == 0)
		kind = ANON;
	else if (strcmp(kind_name, "devzero") == 0)
		kind = DEVZERO;
	else if (strcmp(kind_name, "sysv") == 0)
		kind = SYSV;
	else
		usage();

	struct zone *z = shm_alloc(kind);
	if (!z)
		return 1;
	printf("master: %s zone of %d bytes\n", kind_name, ZONE_SIZE);

	pid_t pids[MAX_WORKERS];
	fflush(stdout);                 /* nothing buffered is copied to workers */
	for (long i = 0; i < workers; i++) {
		pids[i] = fork();
		if (pids[i] == -1) {
			fprintf(stderr, "nginx-zone: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pids[i] == 0)
			worker(z, (int)i, hold);
	}

	int failed = 0;
	for (long i = 0; i < workers; i++) {
		int status;
		if (waitpid(pids[i], &status, 0) == -1) {
			fprintf(stderr, "nginx-zone: waitpid: %s\n", strerror(errno));
			return 1;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}

	int slots_ok = 1;
	for (long i = 0; i < workers; i++)
		if (__atomic_load_n(&z->slot[i], __ATOMIC_ACQUIRE) != (int)pids[i])
			slots_ok = 0;

	long total = __atomic_load_n(&z->counter, __ATOMIC_ACQUIRE);
	printf("master: %ld workers done, %d failed, slots %s\n", workers, failed,
	       slots_ok ? "ok" : "WRONG");
	printf("master: total %ld (expected %ld)\n", total, workers * INCREMENTS);

	if (shm_free(kind, z) == -1)
		return 1;
	printf("master: zone freed\n");
	return (failed || !slots_ok || total != workers * INCREMENTS) ? 1 : 0;
}
