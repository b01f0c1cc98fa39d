/*
 * rely.c - the corner cases a tracer must survive unchanged, one per mode
 * (tests/e2e/reliability.py runs each bare and traced and compares).
 *
 *   rely errno KEY NAME     errno after successful "open or create" calls
 *                           of an existing SysV key and POSIX name
 *   rely settls             a child made by clone(CLONE_VM|CLONE_VFORK|
 *                           CLONE_SETTLS) with a zeroed TLS block maps
 *                           shared memory and calls _exit (as Chromium's
 *                           sandbox helper does)
 *   rely settls exec        the same child execs /bin/true instead
 *   rely rawfork            children made by syscall(SYS_fork) and by
 *                           clone(SIGCHLD) each map a shared page
 *   rely altstack BYTES     a signal handler running on an alternate stack
 *                           of BYTES bytes attaches and detaches a segment
 *   rely protect            mprotect(PROT_READ) and madvise(MADV_DONTFORK)
 *                           over the trace region (found in /proc/self/maps;
 *                           a page of ours when untraced), then a fork
 *                           child and the parent make a SysV segment each
 *   rely bigenv             a thread with a 256 KiB stack vforks and execs
 *                           "rely envchild" with a 50,000-entry environment
 *                           that lacks LD_PRELOAD (which a tracer must put
 *                           back)
 *   rely longjmp N KEY      N times a hooked call (shm_open of a name on a
 *                           PROT_NONE page) faults and the SIGSEGV handler
 *                           leaves it with siglongjmp; then a segment of
 *                           KEY is made and left behind (a leak)
 *   rely spawnargs N NAME   N children spawned with a 4000-byte argument
 *                           (to fill a small trace's string arena), then a
 *                           POSIX object NAME made and left behind (a leak)
 *   rely mapover            over the trace region (a page of ours when
 *                           untraced): a MAP_FIXED_NOREPLACE mmap and a
 *                           misaligned munmap, which fail, a segment, then
 *                           a MAP_FIXED mmap, which replaces it, a segment
 *   rely dlswap LIBA LIBB   dlopen LIBA, call its make() (a shmget), dlclose
 *                           it, then the same with LIBB, which the loader
 *                           usually puts at LIBA's address; says whether
 *                           it did on stderr
 *   rely seccomp            a seccomp filter forbids gettid (EPERM), then a
 *                           new thread makes a segment: the first call a
 *                           tracer needs gettid for
 *   rely stackuse           how many bytes of stack that handler uses, the
 *                           signal frame alone, and shmat+shmdt outside a
 *                           handler (on stderr: it differs from machine to
 *                           machine; below 1 KiB reads as 1024)
 *
 * Each mode prints only facts that do not depend on timing or addresses,
 * and exits 0 when every call behaved as it does without a tracer.
 */
#include <dlfcn.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAGIC_ERRNO 12345

/* errno must be left alone by a call that succeeds (C11 7.5p3), here by
 * open-or-create calls of objects that already exist. */
static int mode_errno(key_t key, const char *name)
{
	int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (id < 0 || fd < 0) {
		perror("rely errno: create");
		return 1;
	}
	close(fd);
	errno = MAGIC_ERRNO;
	int again = shmget(key, 4096, IPC_CREAT | 0600);
	printf("shmget IPC_CREAT: %s, errno %d\n", again == id ? "same id" : "other",
	       errno);
	errno = MAGIC_ERRNO;
	fd = shm_open(name, O_RDWR | O_CREAT, 0600);
	printf("shm_open O_CREAT: %s, errno %d\n", fd >= 0 ? "ok" : "failed", errno);
	close(fd);
	errno = MAGIC_ERRNO;
	fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	printf("shm_open O_CREAT|O_TRUNC: %s, errno %d\n", fd >= 0 ? "ok" : "failed",
	       errno);
	close(fd);
	shmctl(id, IPC_RMID, NULL);
	shm_unlink(name);
	return 0;
}

/* A shared page mapped and unmapped; 0 when both worked. */
static int map_shared_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	*(volatile char *)p = 1;
	return munmap(p, 4096) != 0;
}

static int settls_child(void *arg)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	if (arg)	/* "settls exec": the helper execs instead */
		execve("/bin/true", argv, envp);
	_exit(map_shared_page() ? 1 : 7);
}

static int mode_settls(int exec)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	static char tls[16384] __attribute__((aligned(64)));	/* all zero */
	pid_t pid = clone(settls_child, stack + sizeof(stack),
			  CLONE_VM | CLONE_VFORK | CLONE_SETTLS | SIGCHLD,
			  exec ? "exec" : NULL, NULL, tls, NULL);
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		perror("rely settls");
		return 1;
	}
	printf("settls child: %s %d\n", WIFEXITED(st) ? "exit" : "signal",
	       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}

static int clone_child(void *arg)
{
	(void)arg;
	return map_shared_page() ? 1 : 5;
}

static int mode_rawfork(void)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	pid_t kids[2];
	kids[0] = (pid_t)syscall(SYS_fork);
	if (kids[0] == 0)
		_exit(map_shared_page() ? 1 : 4);
	kids[1] = clone(clone_child, stack + sizeof(stack), SIGCHLD, NULL);
	for (int i = 0; i < 2; i++) {
		int st = 0;
		if (kids[i] < 0 || waitpid(kids[i], &st, 0) != kids[i]) {
			perror("rely rawfork");
			return 1;
		}
		printf("%s child: exit %d\n", i ? "clone" : "SYS_fork",
		       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return 0;
}

static int alt_shmid = -1;
static volatile sig_atomic_t alt_result;

static void on_usr1(int sig)
{
	(void)sig;
	if (alt_shmid < 0)
		return;		/* measuring the signal frame alone */
	void *p = shmat(alt_shmid, NULL, 0);
	alt_result = p != (void *)-1 && shmdt(p) == 0 ? 1 : -1;
}

/* Raises SIGUSR1 with its handler on `stack` (`size` bytes). */
static void raise_on(char *stack, size_t size)
{
	stack_t ss = { .ss_sp = stack, .ss_size = size };
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
	sigaltstack(&ss, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
}

static int mode_altstack(size_t size)
{
	char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	alt_shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (stack == MAP_FAILED || alt_shmid < 0) {
		perror("rely altstack");
		return 1;
	}
	raise_on(stack, size);
	shmctl(alt_shmid, IPC_RMID, NULL);
	printf("altstack %zu: shmat in the handler %s\n", size,
	       alt_result > 0 ? "ok" : "failed");
	return alt_result > 0 ? 0 : 1;
}

/* Bytes of a painted stack a handler touched. */
static size_t handler_use(char *stack, size_t size)
{
	memset(stack, 0xa5, size);
	raise_on(stack, size);
	size_t low = 0;
	while (low < size && (unsigned char)stack[low] == 0xa5)
		low++;
	return size - low;
}

/* One shmat and shmdt of alt_shmid, out of line. */
__attribute__((noinline)) static void attach_detach(void)
{
	void *p = shmat(alt_shmid, NULL, 0);
	if (p != (void *)-1)
		shmdt(p);
}

/* Bytes of stack below this frame that attach_detach touches, outside
 * any signal handler: the area below is painted first, then scanned. */
__attribute__((noinline)) static size_t call_use(void)
{
	volatile unsigned char *sp = __builtin_frame_address(0);
	volatile unsigned char *low = sp - 65536;
	for (volatile unsigned char *q = low; q < sp - 1024; q++)
		*q = 0xa5;
	attach_detach();
	while (low < sp - 1024 && *low == 0xa5)
		low++;
	return (size_t)(sp - low);
}

static int mode_stackuse(void)
{
	static char stack[256 * 1024];
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id < 0)
		return 1;
	alt_shmid = -1;
	size_t frame = handler_use(stack, sizeof(stack));
	alt_shmid = id;
	handler_use(stack, sizeof(stack));	/* first calls resolve symbols */
	size_t call = handler_use(stack, sizeof(stack));
	shmctl(id, IPC_RMID, NULL);
	call_use();		/* first calls resolve symbols */
	fprintf(stderr, "signal frame %zu bytes, with shmat+shmdt %zu bytes; "
		"shmat+shmdt outside a handler %zu bytes\n", frame, call, call_use());
	return alt_result > 0 ? 0 : 1;
}

/* The trace region's range from /proc/self/maps; 0 when untraced. */
static int find_region(unsigned long *lo, unsigned long *hi)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, "shmtrace-region") &&
			sscanf(line, "%lx-%lx", lo, hi) == 2;
	if (f)
		fclose(f);
	return found;
}

static int sysv_round(void)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id < 0)
		return 1;
	char *p = shmat(id, NULL, 0);
	int bad = p == (void *)-1 || (p[0] = 1, shmdt(p) != 0);
	return shmctl(id, IPC_RMID, NULL) != 0 || bad;
}

static int mode_protect(void)
{
	unsigned long lo, hi;
	if (!find_region(&lo, &hi)) {
		lo = (unsigned long)mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		hi = lo + 4096;
	}
	int r1 = mprotect((void *)lo, hi - lo, PROT_READ);
	int r2 = madvise((void *)lo, hi - lo, MADV_DONTFORK);
	printf("mprotect %d, madvise %d\n", r1, r2);
	pid_t pid = fork();
	if (pid == 0)
		_exit(sysv_round());
	int st = 0;
	waitpid(pid, &st, 0);
	printf("child: %s, parent: %s\n",
	       WIFEXITED(st) && !WEXITSTATUS(st) ? "ok" : "failed",
	       sysv_round() ? "failed" : "ok");
	return 0;
}

static sigjmp_buf jump_back;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(jump_back, 1);
}

static int mode_longjmp(int n, key_t key)
{
	char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
	sigaction(SIGSEGV, &sa, NULL);
	volatile int jumps = 0;
	for (volatile int i = 0; i < n; i++) {
		if (sigsetjmp(jump_back, 1) == 0)
			shm_open(bad, O_RDONLY, 0);
		else
			jumps++;
	}
	signal(SIGSEGV, SIG_DFL);
	int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	printf("longjmp: %d jumps, segment %s\n", jumps, id >= 0 ? "left" : "failed");
	return id < 0;
}

extern char **environ;

static int mode_spawnargs(int n, const char *name)
{
	static char big[4001];
	memset(big, 'x', sizeof(big) - 1);
	char *argv[] = { "true", big, NULL };
	for (int i = 0; i < n; i++) {
		pid_t pid;
		int st;
		if (posix_spawnp(&pid, "true", NULL, NULL, argv, environ) ||
		    waitpid(pid, &st, 0) != pid)
			return 1;
	}
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	printf("spawnargs: %d children, object %s\n", n, fd >= 0 ? "left" : "failed");
	return fd < 0;
}

#define BIGENV_N 50000

static void *bigenv_thread(void *self)
{
	static char *env[BIGENV_N + 1];
	static char vars[BIGENV_N][16];
	for (int i = 0; i < BIGENV_N; i++) {
		snprintf(vars[i], sizeof(vars[i]), "V%d=%d", i, i);
		env[i] = vars[i];
	}
	char *argv[] = { self, "envchild", NULL };
	pid_t pid = vfork();
	if (pid == 0) {
		execve(self, argv, env);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return (void *)(long)(WIFEXITED(st) ? WEXITSTATUS(st) : 128);
}

static int mode_bigenv(char *self)
{
	pthread_attr_t a;
	pthread_t t;
	void *rc;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256 * 1024);
	if (pthread_create(&t, &a, bigenv_thread, self) || pthread_join(t, &rc))
		return 1;
	printf("bigenv child: exit %ld\n", (long)rc);
	return 0;
}

/* The child of bigenv: it sees the last variable, and makes one segment so
 * a trace shows whether it ran traced. */
static int mode_envchild(void)
{
	const char *v = getenv("V49999");
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	return v && !strcmp(v, "49999") && id >= 0 ? 3 : 1;
}

static int mode_mapover(void)
{
	unsigned long lo, hi;
	if (!find_region(&lo, &hi)) {
		lo = (unsigned long)mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		hi = lo + 4096;
	}
	void *p = mmap((void *)lo, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_FIXED_NOREPLACE, -1, 0);
	printf("MAP_FIXED_NOREPLACE: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
	printf("misaligned munmap: %s\n",
	       munmap((char *)lo + 1, 4096) ? strerror(errno) : "done");
	int a = sysv_round();
	p = mmap((void *)lo, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		 MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	printf("MAP_FIXED: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
	int b = sysv_round();
	printf("segments: %s, %s\n", a ? "failed" : "ok", b ? "failed" : "ok");
	return 0;
}

/* Loads lib, calls its make(), removes the segment, unloads lib.  Returns
 * the library's base (make's address) or NULL. */
static void *load_call_unload(const char *lib)
{
	void *h = dlopen(lib, RTLD_NOW);
	int (*make)(void) = h ? (int (*)(void))dlsym(h, "make") : NULL;
	if (!make)
		return NULL;
	int id = make();
	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	dlclose(h);
	return id >= 0 ? (void *)make : NULL;
}

static int mode_dlswap(const char *a, const char *b)
{
	void *pa = load_call_unload(a), *pb = load_call_unload(b);
	fprintf(stderr, "dlswap: %s address\n", pa == pb ? "same" : "other");
	printf("dlswap: %s\n", pa && pb ? "both made a segment" : "failed");
	return !(pa && pb);
}

static void *seccomp_thread(void *unused)
{
	(void)unused;
	return (void *)(long)sysv_round();
}

static int mode_seccomp(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_gettid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	int before = sysv_round();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("rely seccomp");
		return 1;
	}
	pthread_t t;
	void *rc = (void *)1L;
	if (pthread_create(&t, NULL, seccomp_thread, NULL) == 0)
		pthread_join(t, &rc);
	printf("seccomp: segment before %s, in the thread after %s\n",
	       before ? "failed" : "ok", rc ? "failed" : "ok");
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "errno") && argc == 4)
		return mode_errno((key_t)strtoul(argv[2], NULL, 0), argv[3]);
	if (!strcmp(mode, "settls"))
		return mode_settls(argc > 2 && !strcmp(argv[2], "exec"));
	if (!strcmp(mode, "rawfork"))
		return mode_rawfork();
	if (!strcmp(mode, "longjmp") && argc == 4)
		return mode_longjmp(atoi(argv[2]), (key_t)strtoul(argv[3], NULL, 0));
	if (!strcmp(mode, "spawnargs") && argc == 4)
		return mode_spawnargs(atoi(argv[2]), argv[3]);
	if (!strcmp(mode, "dlswap") && argc == 4)
		return mode_dlswap(argv[2], argv[3]);
	if (!strcmp(mode, "bigenv"))
		return mode_bigenv(argv[0]);
	if (!strcmp(mode, "envchild"))
		return mode_envchild();
	if (!strcmp(mode, "mapover"))
		return mode_mapover();
	if (!strcmp(mode, "seccomp"))
		return mode_seccomp();
	if (!strcmp(mode, "protect"))
		return mode_protect();
	if (!strcmp(mode, "altstack") && argc == 3)
		return mode_altstack(strtoul(argv[2], NULL, 0));
	if (!strcmp(mode, "stackuse"))
		return mode_stackuse();
	fprintf(stderr, "usage: rely MODE ARGS (see the source)\n");
	return 2;
}
