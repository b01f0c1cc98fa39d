/*
 * attach-target.c - a long-running multi-threaded program to attach to
 * (shmtrace -p; tests/e2e/attach.py).
 *
 *   attach-target NAME KEY THREADS
 *
 * Before anything else it makes the segments that exist "before the
 * trace": POSIX object /NAME (8 pages, mapped), SysV segment KEY (4 pages,
 * attached), and POSIX object /NAME-fd (held open, not mapped), then says
 * "ready".  THREADS threads churn: shm_open/ftruncate/mmap/munmap/close/
 * shm_unlink of /NAME-<thread> and shared anonymous maps, each with a
 * short sleep, counting any call that fails (EINTR among them).  The main
 * thread waits in read(2) on stdin for commands, one a line:
 *
 *   count   prints "count N": the churn iterations so far
 *   fork    a child maps and unlinks /NAME-1000 and exits; prints
 *           "forked" once it is reaped
 *   exec    a child runs `churn posix 3` (beside this program, its
 *           output discarded); prints "execed" once it is reaped
 *   quit    stops the threads, removes its segments, prints
 *           "done errors=E" and exits 0 when E is 0, else 1
 *
 * EOF is quit.  Its output never depends on a tracer.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static const char *name;
static volatile int stop;
static long iterations, errors;

static void count_error(const char *what)
{
	__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "attach-target: %s: %s\n", what, strerror(errno));
}

/* One churn round of thread `t`: a POSIX object and a shared anon map. */
static void round_of(int t)
{
	char path[128];
	snprintf(path, sizeof(path), "/%s-%d", name, t);
	int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return count_error("shm_open");
	if (ftruncate(fd, 2 * PAGE) != 0)
		count_error("ftruncate");
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		count_error("mmap");
	else {
		p[0] = 1;
		munmap(p, 2 * PAGE);
	}
	if (close(fd) != 0)
		count_error("close");
	if (shm_unlink(path) != 0)
		count_error("shm_unlink");
	char *a = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		count_error("mmap anon");
	else
		munmap(a, PAGE);
}

static void *churn(void *arg)
{
	int t = (int)(long)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		round_of(t);
		__atomic_fetch_add(&iterations, 1, __ATOMIC_RELAXED);
		struct timespec nap = { 0, 2000000 };	/* 2 ms */
		while (nanosleep(&nap, &nap) != 0)
			if (errno == EINTR)
				count_error("nanosleep");
	}
	return NULL;
}

static void fork_child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		round_of(1000);
		_exit(0);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		count_error("fork");
	printf("forked\n");
}

static void exec_child(const char *self)
{
	char churn[4096];
	snprintf(churn, sizeof(churn), "%s", self);
	char *slash = strrchr(churn, '/');
	snprintf(slash ? slash + 1 : churn, sizeof(churn) - (slash ? (size_t)(slash + 1 - churn) : 0),
		 "churn");
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execl(churn, "churn", "posix", "3", (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		count_error("exec");
	printf("execed\n");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: attach-target NAME KEY THREADS\n");
		return 2;
	}
	name = argv[1];
	key_t key = (key_t)strtoul(argv[2], NULL, 0);
	int nthreads = atoi(argv[3]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	char path[128], fdpath[128];
	snprintf(path, sizeof(path), "/%s", name);
	snprintf(fdpath, sizeof(fdpath), "/%s-fd", name);
	int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	int held = shm_open(fdpath, O_RDWR | O_CREAT | O_EXCL, 0600);
	int id = shmget(key, 4 * PAGE, IPC_CREAT | IPC_EXCL | 0600);
	if (fd < 0 || held < 0 || id < 0 || ftruncate(fd, 8 * PAGE) ||
	    ftruncate(held, PAGE)) {
		perror("attach-target: setup");
		return 2;
	}
	char *posix = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *sysv = shmat(id, NULL, 0);
	if (posix == MAP_FAILED || sysv == (void *)-1) {
		perror("attach-target: map");
		return 2;
	}
	pthread_t th[64];
	if (nthreads > 64)
		nthreads = 64;
	for (int t = 0; t < nthreads; t++)
		pthread_create(&th[t], NULL, churn, (void *)(long)t);
	printf("ready\n");
	char line[64];
	for (;;) {
		errno = 0;
		if (!fgets(line, sizeof(line), stdin)) {
			if (errno == EINTR) {
				count_error("read");
				clearerr(stdin);
				continue;
			}
			break;
		}
		if (strcmp(line, "count\n") == 0)
			printf("count %ld\n", __atomic_load_n(&iterations, __ATOMIC_RELAXED));
		else if (strcmp(line, "fork\n") == 0)
			fork_child();
		else if (strcmp(line, "exec\n") == 0)
			exec_child(argv[0]);
		else if (strcmp(line, "quit\n") == 0)
			break;
	}
	stop = 1;
	for (int t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	munmap(posix, 8 * PAGE);
	shmdt(sysv);
	shmctl(id, IPC_RMID, NULL);
	close(fd);
	close(held);
	shm_unlink(path);
	shm_unlink(fdpath);
	printf("done errors=%ld\n", errors);
	return errors ? 1 : 0;
}
