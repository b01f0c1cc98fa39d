/*
 * workload.c - the benchmark workloads of `make bench` (bench/run.py).
 *
 *   workload MODE ARGS...
 *
 *   sysv N        shmget(IPC_PRIVATE)/shmat/touch/shmdt/shmctl(IPC_RMID)
 *   posix N       shm_open/ftruncate/mmap/touch/munmap/close/shm_unlink
 *   anon N        mmap(MAP_SHARED|MAP_ANONYMOUS)/touch/munmap
 *   private N     mmap(MAP_PRIVATE|MAP_ANONYMOUS)/touch/munmap (pass-through)
 *   file N        mmap(MAP_SHARED) of one regular file (a temporary one,
 *                 opened once)/touch/munmap: the shim's rare path, an
 *                 fstat per mapping (the object record; the readlink that
 *                 names the file is made once per object)
 *   malloc N      16 malloc/free of 16 B..4 KiB, and one 256 KiB block every
 *                 64 iterations (glibc's own mmap: never intercepted)
 *   fail N        shmctl(-1, IPC_STAT, &buf): fails with EINVAL, cheapest
 *                 intercepted call there is
 *   deep D N      recurse D frames, then N failing shmctl calls down there
 *   threads T N   T threads at once, N failing shmctl calls each
 *   procs P N     P processes at once, N failing shmctl calls each
 *   tp P T N      P processes x T threads, N failing shmctl calls each
 *   gen S         S SysV segments, ten calls each (shmget, 3 x shmat/shmdt,
 *                 IPC_STAT, IPC_SET, IPC_RMID): a trace of 10*S events
 *   hold K PREFIX K POSIX objects /PREFIX-i, created, sized and mapped, all
 *                 at once; then all unlinked: a trace with K live segments
 *                 just before its first shm_unlink
 *
 * The loop times itself with CLOCK_MONOTONIC and prints one line
 *
 *   iters=I calls=C loop_ns=T ns_per_iter=X cpu_ns=U minflt=F
 *
 * where calls counts the intercepted calls the loop made, so the time of
 * starting the process (and the tracer's set-up and write-out) stays out of
 * the per-call figures; U is the CPU time (user + system, every thread, and
 * the children of procs and tp) the loop took, which time spent waiting
 * for the other programs of a busy machine does not inflate; F is the minor
 * page faults taken during the loop (children included).  Exits non-zero if any call misbehaves.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process (all threads) and of its waited-for children:
 * what the loop cost, minus whatever else the machine ran meanwhile. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	struct rusage kids;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec +
	       ((uint64_t)kids.ru_utime.tv_sec + (uint64_t)kids.ru_stime.tv_sec) *
	       1000000000u +
	       ((uint64_t)kids.ru_utime.tv_usec + (uint64_t)kids.ru_stime.tv_usec) *
	       1000u;
}

static long minflt(void)
{
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return self.ru_minflt + kids.ru_minflt;
}

static void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long count(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (*end || n < 0) {
		fprintf(stderr, "workload: bad count '%s'\n", s);
		exit(2);
	}
	return n;
}

/* --- the loops ----------------------------------------------------------- */

static void loop_sysv(long n)
{
	for (long i = 0; i < n; i++) {
		int id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
		if (id == -1)
			die("shmget");
		char *p = shmat(id, NULL, 0);
		if (p == (void *)-1) {
			shmctl(id, IPC_RMID, NULL);
			die("shmat");
		}
		p[0] = (char)i;
		if (shmdt(p) == -1)
			die("shmdt");
		if (shmctl(id, IPC_RMID, NULL) == -1)
			die("shmctl");
	}
}

static void loop_posix(long n)
{
	char name[64];
	/* the name the churn example uses: tests/e2e/harness.py knows it is not its
	 * own leak when a benchmark runs beside the tests */
	snprintf(name, sizeof name, "/shmtrace-churn-%ld", (long)getpid());
	for (long i = 0; i < n; i++) {
		int fd = shm_open(name, O_CREAT | O_RDWR, 0600);
		if (fd == -1)
			die("shm_open");
		if (ftruncate(fd, PAGE) == -1) {
			shm_unlink(name);
			die("ftruncate");
		}
		char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			shm_unlink(name);
			die("mmap");
		}
		p[0] = (char)i;
		if (munmap(p, PAGE) == -1 || close(fd) == -1) {
			shm_unlink(name);
			die("munmap/close");
		}
		if (shm_unlink(name) == -1)
			die("shm_unlink");
	}
}

static void loop_mmap(long n, int flags)
{
	for (long i = 0; i < n; i++) {
		char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			       flags | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		p[0] = (char)i;
		if (munmap(p, PAGE) == -1)
			die("munmap");
	}
}

static void loop_file(long n)
{
	char path[] = "/tmp/shmtrace-bench-file-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, PAGE) < 0)
		die("mkstemp");
	for (long i = 0; i < n; i++) {
		volatile char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		(void)p[0];
		if (munmap((void *)p, PAGE) == -1)
			die("munmap");
	}
	close(fd);
	unlink(path);
}

static volatile long sink;

static void loop_malloc(long n)
{
	void *b[16];
	for (long i = 0; i < n; i++) {
		for (int k = 0; k < 16; k++) {
			b[k] = malloc(16u << (k % 9));	/* 16 B .. 4 KiB */
			if (!b[k])
				die("malloc");
			((char *)b[k])[0] = (char)k;
		}
		for (int k = 15; k >= 0; k--) {
			sink += ((char *)b[k])[0];
			free(b[k]);
		}
		if (i % 64 == 0) {
			char *big = malloc(256 * 1024);
			if (!big)
				die("malloc");
			big[0] = 1;
			sink += big[0];
			free(big);
		}
	}
}

static void loop_fail(long n)
{
	for (long i = 0; i < n; i++) {
		struct shmid_ds buf;
		if (shmctl(-1, IPC_STAT, &buf) != -1 || errno != EINVAL) {
			fprintf(stderr, "workload: shmctl(-1) did not fail with EINVAL\n");
			exit(1);
		}
	}
}

/* Recurses d frames, then runs the loop: every frame stays on the stack
 * (noinline, a live local, work after the call: no sibling call). */
__attribute__((noinline)) static long descend(int d, long n)
{
	volatile char frame[16];
	frame[0] = (char)d;
	if (d == 0) {
		loop_fail(n);
		return frame[0];
	}
	long r = descend(d - 1, n);
	__asm__ volatile("" : : "r"(r) : "memory");
	return r + frame[0];
}

/* --- several at once ------------------------------------------------------ */

static pthread_barrier_t start_line;
static long per_thread;

static void *thread_main(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start_line);
	loop_fail(per_thread);
	return NULL;
}

/* T threads (the caller included when T is 1), N calls each. */
static void run_threads(int t, long n)
{
	if (t <= 1) {
		loop_fail(n);
		return;
	}
	pthread_t tid[256];
	per_thread = n;
	pthread_barrier_init(&start_line, NULL, (unsigned)t);
	for (int i = 0; i < t; i++)
		if ((errno = pthread_create(&tid[i], NULL, thread_main, NULL)))
			die("pthread_create");
	for (int i = 0; i < t; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start_line);
}

/* P processes of T threads; the children start together on a pipe. */
static void run_procs(int p, int t, long n)
{
	int go[2];
	if (pipe(go))
		die("pipe");
	pid_t kids[256];
	for (int i = 0; i < p; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			die("fork");
		if (kids[i] == 0) {
			char c;
			close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(3);
			run_threads(t, n);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);		/* EOF: everyone starts */
	int bad = 0;
	for (int i = 0; i < p; i++) {
		int st;
		if (waitpid(kids[i], &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			bad = 1;
	}
	if (bad) {
		fprintf(stderr, "workload: a child failed\n");
		exit(1);
	}
}

/* --- trace generators ------------------------------------------------------- */

static void gen(long segs)
{
	for (long i = 0; i < segs; i++) {
		int id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
		if (id == -1)
			die("shmget");
		for (int k = 0; k < 3; k++) {
			char *p = shmat(id, NULL, k == 2 ? SHM_RDONLY : 0);
			if (p == (void *)-1) {
				shmctl(id, IPC_RMID, NULL);
				die("shmat");
			}
			if (k < 2)
				p[0] = (char)i;
			if (shmdt(p) == -1)
				die("shmdt");
		}
		struct shmid_ds ds;
		if (shmctl(id, IPC_STAT, &ds) == -1 || shmctl(id, IPC_SET, &ds) == -1 ||
		    shmctl(id, IPC_RMID, NULL) == -1)
			die("shmctl");
	}
}

static void hold(long k, const char *prefix)
{
	char name[256];
	for (long i = 0; i < k; i++) {
		snprintf(name, sizeof name, "/%s-%ld", prefix, i);
		int fd = shm_open(name, O_CREAT | O_RDWR, 0600);
		if (fd == -1)
			die("shm_open");
		if (ftruncate(fd, PAGE) == -1)
			die("ftruncate");
		char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		p[0] = 1;
		close(fd);
	}
	for (long i = 0; i < k; i++) {
		snprintf(name, sizeof name, "/%s-%ld", prefix, i);
		if (shm_unlink(name) == -1)
			die("shm_unlink");
	}
}

/* --- main ------------------------------------------------------------------- */

static void usage(void)
{
	fputs("usage: workload sysv|posix|anon|private|malloc|fail N\n"
	      "       workload deep D N | threads T N | procs P N | tp P T N\n"
	      "       workload gen SEGMENTS | hold K PREFIX\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	const char *m = argv[1];
	long iters, calls;
	long f0 = minflt();
	uint64_t c0 = cpu_ns();
	uint64_t t0 = now_ns();
	if (!strcmp(m, "sysv") && argc == 3) {
		iters = count(argv[2]), calls = 5 * iters;
		c0 = cpu_ns(), t0 = now_ns();
		loop_sysv(iters);
	} else if (!strcmp(m, "posix") && argc == 3) {
		iters = count(argv[2]), calls = 6 * iters;
		c0 = cpu_ns(), t0 = now_ns();
		loop_posix(iters);
	} else if ((!strcmp(m, "anon") || !strcmp(m, "private")) && argc == 3) {
		iters = count(argv[2]), calls = 2 * iters;
		c0 = cpu_ns(), t0 = now_ns();
		loop_mmap(iters, m[0] == 'a' ? MAP_SHARED : MAP_PRIVATE);
	} else if (!strcmp(m, "file") && argc == 3) {
		iters = count(argv[2]), calls = 2 * iters;
		c0 = cpu_ns(), t0 = now_ns();
		loop_file(iters);
	} else if (!strcmp(m, "malloc") && argc == 3) {
		iters = count(argv[2]), calls = 0;
		c0 = cpu_ns(), t0 = now_ns();
		loop_malloc(iters);
	} else if (!strcmp(m, "fail") && argc == 3) {
		iters = calls = count(argv[2]);
		c0 = cpu_ns(), t0 = now_ns();
		loop_fail(iters);
	} else if (!strcmp(m, "deep") && argc == 4) {
		int d = (int)count(argv[2]);
		iters = calls = count(argv[3]);
		c0 = cpu_ns(), t0 = now_ns();
		sink = descend(d, iters);
	} else if (!strcmp(m, "threads") && argc == 4) {
		int t = (int)count(argv[2]);
		if (t < 1 || t > 256)
			usage();
		iters = count(argv[3]), calls = t * iters;
		c0 = cpu_ns(), t0 = now_ns();
		run_threads(t, iters);
	} else if (!strcmp(m, "procs") && argc == 4) {
		int p = (int)count(argv[2]);
		if (p < 1 || p > 256)
			usage();
		iters = count(argv[3]), calls = p * iters;
		c0 = cpu_ns(), t0 = now_ns();
		run_procs(p, 1, iters);
	} else if (!strcmp(m, "tp") && argc == 5) {
		int p = (int)count(argv[2]), t = (int)count(argv[3]);
		if (p < 1 || p > 256 || t < 1 || t > 256)
			usage();
		iters = count(argv[4]), calls = (long)p * t * iters;
		c0 = cpu_ns(), t0 = now_ns();
		run_procs(p, t, iters);
	} else if (!strcmp(m, "gen") && argc == 3) {
		iters = count(argv[2]), calls = 10 * iters;
		c0 = cpu_ns(), t0 = now_ns();
		gen(iters);
	} else if (!strcmp(m, "hold") && argc == 4) {
		iters = count(argv[2]), calls = 5 * iters;
		c0 = cpu_ns(), t0 = now_ns();
		hold(iters, argv[3]);
	} else {
		usage();
	}
	uint64_t dt = now_ns() - t0;
	uint64_t cpu = cpu_ns() - c0;
	long faults = minflt() - f0;
	printf("iters=%ld calls=%ld loop_ns=%llu ns_per_iter=%.1f cpu_ns=%llu "
	       "minflt=%ld\n", iters, calls, (unsigned long long)dt,
	       iters ? (double)dt / (double)iters : 0.0, (unsigned long long)cpu,
	       faults);
	return 0;
}
