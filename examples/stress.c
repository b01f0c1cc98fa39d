/*
 * stress.c - many threads churning every shared-memory call family while
 * a timer signal's handler maps and unmaps shared memory too; or a fork
 * storm of children inheriting an attachment; or a child killed by
 * SIGKILL in the middle of its calls.
 *
 *   stress threads THREADS ITERATIONS
 *   stress forks CHILDREN
 *   stress kill-child MILLISECONDS
 *
 * stdout is deterministic (what was asked and whether every call
 * succeeded); the exact number of calls made, which depends on timing (the
 * signal handler's), goes to stderr as "calls: NAME=N ..." so a test can
 * compare it with what the tracer recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* Calls made, by kind, across all threads and the signal handler. */
static long n_shmget, n_shmat, n_shmdt, n_shmctl, n_mmap, n_munmap;
static long n_shm_open, n_shm_unlink, n_memfd, n_ftruncate, n_close;
static long failures;

#define COUNT(c) __atomic_fetch_add(&(c), 1, __ATOMIC_RELAXED)

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	COUNT(n_mmap);
	if (p == MAP_FAILED) {
		COUNT(failures);
	} else {
		*(volatile char *)p = 1;
		munmap(p, 4096);
		COUNT(n_munmap);
	}
	errno = saved;
}

static void sysv_round(void)
{
	int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	COUNT(n_shmget);
	if (id < 0) {
		COUNT(failures);
		return;
	}
	char *p = shmat(id, NULL, 0);
	COUNT(n_shmat);
	if (p != (void *)-1) {
		p[0] = 1;
		shmdt(p);
		COUNT(n_shmdt);
	} else {
		COUNT(failures);
	}
	shmctl(id, IPC_RMID, NULL);
	COUNT(n_shmctl);
}

/* What both POSIX and memfd rounds do with their new descriptor: size it,
 * map it shared, unmap it, close it. */
static void size_map_close(int fd)
{
	if (ftruncate(fd, 4096))
		COUNT(failures);
	COUNT(n_ftruncate);
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	COUNT(n_mmap);
	if (p != MAP_FAILED) {
		munmap(p, 4096);
		COUNT(n_munmap);
	}
	close(fd);
	COUNT(n_close);
}

static void posix_round(long tag, long i)
{
	char name[64];
	snprintf(name, sizeof(name), "/shmtrace-stress-%d-%ld-%ld", (int)getpid(),
		 tag, i);
	int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	COUNT(n_shm_open);
	if (fd < 0) {
		COUNT(failures);
		return;
	}
	size_map_close(fd);
	shm_unlink(name);
	COUNT(n_shm_unlink);
}

static void memfd_round(void)
{
	int fd = memfd_create("shmtrace-stress", MFD_CLOEXEC);
	COUNT(n_memfd);
	if (fd < 0) {
		COUNT(failures);
		return;
	}
	size_map_close(fd);
}

static long iterations;

static void *churn(void *arg)
{
	long tag = (long)arg;
	for (long i = 0; i < iterations; i++) {
		sysv_round();
		posix_round(tag, i);
		memfd_round();
	}
	return NULL;
}

static void print_counts(void)
{
	fprintf(stderr, "calls: shmget=%ld shmat=%ld shmdt=%ld shmctl=%ld mmap=%ld "
		"munmap=%ld shm_open=%ld shm_unlink=%ld memfd_create=%ld "
		"ftruncate=%ld close=%ld\n", n_shmget, n_shmat, n_shmdt,
		n_shmctl, n_mmap, n_munmap, n_shm_open, n_shm_unlink, n_memfd,
		n_ftruncate, n_close);
}

static int threads_mode(int nthreads, long iters)
{
	pthread_t t[64];
	if (nthreads < 1 || nthreads > 64)
		return 2;
	iterations = iters;
	signal(SIGALRM, on_alarm);
	struct itimerval it = { { 0, 500 }, { 0, 500 } };
	setitimer(ITIMER_REAL, &it, NULL);
	for (long i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, churn, (void *)i);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	print_counts();
	printf("threads %d x %ld rounds: %s\n", nthreads, iters,
	       failures ? "SOME CALLS FAILED" : "every call succeeded");
	return failures ? 1 : 0;
}

/* A fork storm: every child inherits the attach, detaches it, exits. */
static int forks_mode(int children)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	char *p = shmat(id, NULL, 0);
	if (id < 0 || p == (void *)-1)
		return 1;
	shmctl(id, IPC_RMID, NULL);
	int ok = 0;
	for (int i = 0; i < children; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			__atomic_fetch_add((long *)p, 1, __ATOMIC_RELAXED);
			_exit(shmdt(p) == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < children; i++) {
		int st;
		if (wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	printf("forks: %d of %d children detached, counter %ld\n", ok, children,
	       *(long *)p);
	shmdt(p);
	return ok == children ? 0 : 1;
}

/* A child churning calls is killed by SIGKILL, wherever it is. */
static int kill_mode(int ms)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			sysv_round();
	}
	usleep((useconds_t)ms * 1000);
	kill(pid, SIGKILL);
	int st;
	waitpid(pid, &st, 0);
	printf("child killed by %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ?
	       "SIGKILL" : "something else");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "threads") == 0)
		return threads_mode(atoi(argv[2]), atol(argv[3]));
	if (argc == 3 && strcmp(argv[1], "forks") == 0)
		return forks_mode(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "kill-child") == 0)
		return kill_mode(atoi(argv[2]));
	fprintf(stderr, "usage: stress threads N ITERATIONS | forks N | "
		"kill-child MILLISECONDS\n");
	return 2;
}
