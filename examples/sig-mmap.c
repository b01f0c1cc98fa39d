/*
 * sig-mmap.c - shared mappings made from a signal handler while threads
 * churn SysV segments.
 *
 *   sig-mmap [ITERATIONS]          default 200
 *
 * An ITIMER_REAL timer fires SIGALRM every millisecond; the handler maps
 * and unmaps a shared anonymous page (mmap and munmap are async-signal-safe
 * system calls, so a tracer's hooks must be too).  Meanwhile the main thread
 * does ITERATIONS rounds of shmget/shmat/touch/shmdt/IPC_RMID and two more
 * threads do the same until at least 0.3 s have passed.
 *
 * Only timing-independent facts are printed; exit status 0 means every call
 * succeeded (in the handler too).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define RUN_NS 300000000LL

static volatile sig_atomic_t handler_failures;
static volatile sig_atomic_t handler_calls;
static int stop_threads;            /* accessed with __atomic builtins */
static int thread_failures;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		handler_failures = handler_failures + 1;
	} else {
		*(volatile char *)p = 1;
		if (munmap(p, 4096) == -1)
			handler_failures = handler_failures + 1;
	}
	handler_calls = handler_calls + 1;
	errno = saved;
}

/* One round of the SysV life cycle; returns 0 when every call worked. */
static int sysv_round(void)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id == -1)
		return -1;
	int rc = 0;
	char *p = shmat(id, NULL, 0);
	if (p == (void *)-1) {
		rc = -1;
	} else {
		p[0] = 'x';
		if (shmdt(p) == -1)
			rc = -1;
	}
	if (shmctl(id, IPC_RMID, NULL) == -1)
		rc = -1;
	return rc;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *churner(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop_threads, __ATOMIC_ACQUIRE))
		if (sysv_round() != 0)
			__atomic_fetch_add(&thread_failures, 1, __ATOMIC_RELAXED);
	return NULL;
}

int main(int argc, char **argv)
{
	long iterations = 200;
	if (argc > 2) {
		fprintf(stderr, "usage: sig-mmap [ITERATIONS]\n");
		return 2;
	}
	if (argc == 2) {
		char *end;
		iterations = strtol(argv[1], &end, 10);
		if (*end || iterations < 0) {
			fprintf(stderr, "sig-mmap: bad iteration count %s\n", argv[1]);
			return 2;
		}
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == -1) {
		fprintf(stderr, "sig-mmap: sigaction: %s\n", strerror(errno));
		return 1;
	}

	long long start = now_ns();
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	if (setitimer(ITIMER_REAL, &it, NULL) == -1) {
		fprintf(stderr, "sig-mmap: setitimer: %s\n", strerror(errno));
		return 1;
	}

	pthread_t t[2];
	for (int i = 0; i < 2; i++) {
		int err = pthread_create(&t[i], NULL, churner, NULL);
		if (err) {
			fprintf(stderr, "sig-mmap: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}

	long main_failures = 0;
	for (long i = 0; i < iterations; i++)
		if (sysv_round() != 0)
			main_failures++;
	/* Keep the timer and the threads going for at least RUN_NS. */
	while (now_ns() - start < RUN_NS) {
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}

	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	__atomic_store_n(&stop_threads, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);

	int tf = __atomic_load_n(&thread_failures, __ATOMIC_RELAXED);
	int ok = main_failures == 0 && tf == 0 && handler_failures == 0 &&
		 handler_calls > 0;
	printf("sig-mmap: %ld main-loop iterations, %s\n", iterations,
	       ok ? "ok" : "FAILED");
	if (!ok)
		fprintf(stderr, "sig-mmap: %ld main, %d thread, %d handler failures, "
			"%d handler calls\n", main_failures, tf,
			(int)handler_failures, (int)handler_calls);
	return ok ? 0 : 1;
}
