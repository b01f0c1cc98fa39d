/*
 * wrap-proc.c - following the program: process start, fork, vfork,
 * posix_spawn, the exec family, exit, threads.
 *
 * Every process records an exec event with SHMT_EVF_START from its
 * constructor (its path, argv and parent), whichever way it was made, so
 * the viewer can build the process tree even for children made by paths
 * the shim cannot hook (system(), popen(), daemon()).  The exec hooks put
 * LD_PRELOAD and SHMTRACE_REGION back into an environment that lost them.
 */
#include "real.h"
#include "recorder.h"
#include "clock.h"

#include <alloca.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

/* Set while our fork wrapper runs the real fork, so the child's atfork
 * handler knows the parent records the fork. */
static __thread int in_fork_hook;

/* --- argv and environment ------------------------------------------------------ */

/* Packs "path\0argv[0]\0argv[1]..." into buf (no trailing NUL).  Returns
 * the length; sets *argc and flags SHMT_EVF_STR_TRUNC when cut. */
static size_t pack_argv(char *buf, size_t cap, const char *path,
			char *const argv[], uint64_t *argc, uint16_t *flags)
{
	size_t len = 0;
	*argc = 0;
	for (long i = -1; i < 0 || (argv && argv[i]); i++) {
		const char *s = i < 0 ? (path ? path : "") : argv[i];
		size_t n = strlen(s) + (i >= 0);	/* a NUL before each arg */
		if (i >= 0)
			++*argc;
		if (len + n > cap) {
			*flags |= SHMT_EVF_STR_TRUNC;
			continue;	/* keep counting argc */
		}
		if (i >= 0)
			buf[len++] = 0;
		memcpy(buf + len, s, n - (i >= 0));
		len += n - (i >= 0);
	}
	return len;
}

/* How an exec's environment must change for the new image to be traced. */
struct env_fix {
	size_t n;		/* entries in envp */
	long preload_at;	/* index of LD_PRELOAD=, or -1 */
	long pid_at;		/* index of SHMTRACE_PID=, or -1 */
	int need_preload, need_region, need_pid;
};

static int list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ": ");
		if (len == n && memcmp(p, item, n) == 0)
			return 1;
		p += len;
		p += *p != 0;
	}
	return 0;
}

/* Returns 1 when envp lacks what tracing needs, filling *f. */
static int env_check(char *const *envp, struct env_fix *f)
{
	const char *shim = rec_shim_path();
	const char *pid = rec_env_pid();
	memset(f, 0, sizeof(*f));
	f->preload_at = f->pid_at = -1;
	if (!shim || !rec_env_region())
		return 0;
	int has_shim = 0, has_region = 0, has_pid = !pid;
	for (; envp && envp[f->n]; f->n++) {
		const char *e = envp[f->n];
		if (strncmp(e, "LD_PRELOAD=", 11) == 0) {
			f->preload_at = (long)f->n;
			has_shim = list_has(e + 11, shim);
		} else if (strncmp(e, "SHMTRACE_REGION=", 16) == 0) {
			has_region = 1;
		} else if (strncmp(e, "SHMTRACE_PID=", 13) == 0) {
			f->pid_at = (long)f->n;
			has_pid = pid && strcmp(e, pid) == 0;
		}
	}
	f->need_preload = !has_shim;
	f->need_region = !has_region;
	f->need_pid = !has_pid;
	return f->need_preload || f->need_region || f->need_pid;
}

/* Bytes env_build needs: the new array and the new LD_PRELOAD string. */
static size_t env_bytes(char *const *envp, const struct env_fix *f)
{
	size_t n = (f->n + 4) * sizeof(char *) + 11 + strlen(rec_shim_path()) + 1;
	if (f->preload_at >= 0)
		n += strlen(envp[f->preload_at] + 11) + 1;
	return n;
}

/* Writes the fixed environment into mem (env_bytes): the array first, then
 * the new LD_PRELOAD string, ours first, the program's after; and this
 * process's SHMTRACE_PID (see recorder.c) in place of an ancestor's. */
static char **env_build(char *const *envp, const struct env_fix *f, void *mem)
{
	char **out = mem;
	char *buf = (char *)(out + f->n + 4);
	size_t k = 0;
	char *p = stpcpy(stpcpy(buf, "LD_PRELOAD="), rec_shim_path());
	if (f->preload_at >= 0 && envp[f->preload_at][11])
		stpcpy(stpcpy(p, ":"), envp[f->preload_at] + 11);
	for (size_t i = 0; i < f->n; i++)
		out[k++] = (long)i == f->preload_at && f->need_preload ? buf :
			   (long)i == f->pid_at && f->need_pid ?
			   (char *)rec_env_pid() : envp[i];
	if (f->need_preload && f->preload_at < 0)
		out[k++] = buf;
	if (f->need_region)
		out[k++] = (char *)rec_env_region();
	if (f->need_pid && f->pid_at < 0)
		out[k++] = (char *)rec_env_pid();
	out[k] = NULL;
	return out;
}

/* A fixed environment too big for the stack lives in pages mapped with the
 * raw system call (no malloc: an exec may run in a vfork child).  Unmapped
 * after a failed exec or spawn; the pages a vfork child left behind when it
 * exec'd are in its parent's memory, which unmaps them when it resumes. */
#define ENV_ON_STACK 16384
static struct { void *p; size_t len; } env_spill;

static void *env_spill_map(size_t len)
{
	long p = syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
	if (p == -1)
		return NULL;
	env_spill.p = (void *)p;
	env_spill.len = len;
	return (void *)p;
}

static void env_spill_release(void)
{
	if (env_spill.p)
		syscall(SYS_munmap, env_spill.p, env_spill.len);
	env_spill.p = NULL;
}

/* Declares `env`: envp, or a fixed copy, on this function's stack when
 * small (alloca: an exec may run in a vfork child, where malloc is not
 * allowed), else spilled to pages of its own; a copy that cannot be made
 * leaves envp as it is. */
#define ENV_FIXED(env, envp)                                               \
	char *const *env = (envp);                                         \
	struct env_fix env_fix_;                                           \
	if (rec_enabled() && env_check((envp), &env_fix_)) {               \
		size_t need_ = env_bytes((envp), &env_fix_);               \
		void *mem_ = need_ <= ENV_ON_STACK ? alloca(need_)          \
						    : env_spill_map(need_);   \
		if (mem_)                                                  \
			env = env_build((envp), &env_fix_, mem_);          \
	}

/* --- exec ---------------------------------------------------------------------- */

static int call_exec(int variant, int dirfd, const char *path,
		     char *const argv[], char *const env[], int flags)
{
	switch (variant) {
	case SHMT_EXEC_EXECVP: case SHMT_EXEC_EXECVPE: case SHMT_EXEC_EXECLP: {
		REAL_OR(execvpe, -1);
		return real_execvpe(path, argv, env);
	}
	case SHMT_EXEC_FEXECVE: {
		REAL_OR(fexecve, -1);
		return real_fexecve(dirfd, argv, env);
	}
	case SHMT_EXEC_EXECVEAT: {
		REAL_OR(execveat, -1);
		return real_execveat(dirfd, path, argv, env, flags);
	}
	default: {
		REAL_OR(execve, -1);
		return real_execve(path, argv, env);
	}
	}
}

/* Records a failed exec.  Identity comes from the kernel, not the cache:
 * this may be a vfork child, which shares the parent's memory. */
static void note_exec_failure(int variant, uint64_t t0, const char *path,
			      char *const argv[], int err)
{
	struct rec_ctx c;
	if (!rec_begin(&c))
		return;
	char buf[SHMT_MAX_STRING];
	struct rec_event ev = {
		.call = SHMT_CALL_EXEC, .ret = -1, .err = err,
		.pid = rec_kernel_pid(), .tid = (pid_t)syscall(SYS_gettid),
	};
	ev.str = buf;
	ev.str_len = pack_argv(buf, sizeof(buf), path, argv,
			       &ev.args[SHMT_ARG_EXEC_ARGC], &ev.flags);
	ev.args[SHMT_ARG_EXEC_VARIANT] = (uint64_t)variant;
	c.t0 = t0;
	rec_end(&c, &ev);
}

/* Every exec variant comes here: fix the environment, exec, and record
 * only a failure (a success is recorded by the new image). */
static int do_exec(int variant, int dirfd, const char *path,
		   char *const argv[], char *const envp[], int flags)
{
	if (!shim_tls_ok()) {	/* forward: no errno, nothing recorded */
		if (variant == SHMT_EXEC_EXECVE || variant == SHMT_EXEC_EXECV ||
		    variant == SHMT_EXEC_EXECL || variant == SHMT_EXEC_EXECLE)
			return (int)syscall(SYS_execve, path, argv, envp);
		return call_exec(variant, dirfd, path, argv, envp, flags);
	}
	ENV_FIXED(env, envp);
	rec_flush_counters();
	uint64_t t0 = rec_now();
	int ret = call_exec(variant, dirfd, path, argv, env, flags);
	int err = errno;
	env_spill_release();
	char fdpath[32];
	if (variant == SHMT_EXEC_FEXECVE) {
		snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", dirfd);
		path = fdpath;
	}
	note_exec_failure(variant, t0, path, argv, err);
	errno = err;
	return ret;
}

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return do_exec(SHMT_EXEC_EXECVE, AT_FDCWD, path, argv, envp, 0);
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	return do_exec(SHMT_EXEC_EXECV, AT_FDCWD, path, argv, environ, 0);
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	return do_exec(SHMT_EXEC_EXECVP, AT_FDCWD, file, argv, environ, 0);
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_exec(SHMT_EXEC_EXECVPE, AT_FDCWD, file, argv, envp, 0);
}

SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	return do_exec(SHMT_EXEC_FEXECVE, fd, "", argv, envp, 0);
}

SHIM_EXPORT int execveat(int dirfd, const char *path, char *const argv[],
			 char *const envp[], int flags)
{
	return do_exec(SHMT_EXEC_EXECVEAT, dirfd, path, argv, envp, flags);
}

/* The execl family: gather the variadic arguments into an argv on the
 * stack; execle's environment follows the terminating NULL. */
#define GATHER_ARGS(argv, arg, last, envp_out)                             \
	size_t argc_ = 1;                                                  \
	va_list ap_;                                                       \
	va_start(ap_, last);                                               \
	while (va_arg(ap_, char *))                                        \
		argc_++;                                                   \
	va_end(ap_);                                                       \
	char **argv = alloca((argc_ + 1) * sizeof(char *));                \
	argv[0] = (char *)(arg);                                           \
	va_start(ap_, last);                                               \
	for (size_t i_ = 1; i_ <= argc_; i_++)                             \
		argv[i_] = va_arg(ap_, char *);                            \
	envp_out = va_arg(ap_, char *const *);                             \
	va_end(ap_);

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	char *const *unused;
	GATHER_ARGS(argv, arg, arg, unused);
	(void)unused;
	return do_exec(SHMT_EXEC_EXECL, AT_FDCWD, path, argv, environ, 0);
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	char *const *unused;
	GATHER_ARGS(argv, arg, arg, unused);
	(void)unused;
	return do_exec(SHMT_EXEC_EXECLP, AT_FDCWD, file, argv, environ, 0);
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	char *const *envp;
	GATHER_ARGS(argv, arg, arg, envp);
	return do_exec(SHMT_EXEC_EXECLE, AT_FDCWD, path, argv, envp, 0);
}

/* --- posix_spawn ------------------------------------------------------------------ */

static int do_spawn(int use_path, pid_t *pid, const char *path,
		    const posix_spawn_file_actions_t *fa,
		    const posix_spawnattr_t *attr, char *const argv[],
		    char *const envp[])
{
	ENV_FIXED(env, envp);
	pid_t local;
	pid_t *pp = pid ? pid : &local;
	struct rec_ctx c;
	int on = rec_begin(&c);
	int ret;
	if (use_path) {
		REAL_OR(posix_spawnp, ENOSYS);
		ret = real_posix_spawnp(pp, path, fa, attr, argv, env);
	} else {
		REAL_OR(posix_spawn, ENOSYS);
		ret = real_posix_spawn(pp, path, fa, attr, argv, env);
	}
	env_spill_release();
	if (!on)
		return ret;
	char buf[SHMT_MAX_STRING];
	struct rec_event ev = {
		.call = SHMT_CALL_POSIX_SPAWN, .ret = ret, .err = ret,
		.args = { [SHMT_ARG_SPAWN_PID] = ret == 0 ? (uint64_t)*pp : 0,
			  [SHMT_ARG_SPAWN_SEARCH] = (uint64_t)use_path },
	};
	ev.str = buf;
	ev.str_len = pack_argv(buf, sizeof(buf), path, argv,
			       &ev.args[SHMT_ARG_SPAWN_ARGC], &ev.flags);
	rec_end(&c, &ev);
	return ret;
}

SHIM_EXPORT int posix_spawn(pid_t *pid, const char *path,
			    const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[],
			    char *const envp[])
{
	return do_spawn(0, pid, path, fa, attr, argv, envp);
}

SHIM_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			     const posix_spawn_file_actions_t *fa,
			     const posix_spawnattr_t *attr, char *const argv[],
			     char *const envp[])
{
	return do_spawn(1, pid, file, fa, attr, argv, envp);
}

/* --- fork and vfork ------------------------------------------------------------------ */

static void note_fork(struct rec_ctx *c, uint16_t call, pid_t ret)
{
	struct rec_event ev = {
		.call = call, .ret = ret, .err = ret < 0 ? errno : 0,
	};
	rec_end(c, &ev);
}

SHIM_EXPORT pid_t fork(void)
{
	REAL_OR(fork, -1);
	struct rec_ctx c;
	int on = rec_begin(&c);
	in_fork_hook = 1;
	pid_t ret = real_fork();
	in_fork_hook = 0;
	if (on && ret == 0)
		rec_cancel(&c);		/* the parent records this fork */
	else if (on)
		note_fork(&c, SHMT_CALL_FORK, ret);
	return ret;
}

/* glibc's _Fork runs no atfork handlers: refresh the child here. */
SHIM_EXPORT pid_t _Fork(void)
{
	REAL_OR(_Fork, -1);
	struct rec_ctx c;
	int on = rec_begin(&c);
	pid_t ret = real__Fork();
	if (ret == 0) {
		rec_after_fork_child();
		if (on)
			rec_cancel(&c);
	} else if (on) {
		note_fork(&c, SHMT_CALL_FORK, ret);
	}
	return ret;
}

/* Runs in every fork child (fork, daemon, ...).  A fork our wrapper did not
 * see is recorded from the child's side, with its parent. */
static void after_fork_child(void)
{
	rec_after_fork_child();
	if (in_fork_hook)
		return;
	struct rec_event ev = {
		.call = SHMT_CALL_FORK, .flags = SHMT_EVF_CHILD,
		.args = { [SHMT_ARG_FORK_PPID] = (uint64_t)getppid() },
	};
	rec_note(&ev, 1);
}

/*
 * vfork cannot be wrapped in C: the child runs on the parent's stack and
 * would return through, and clobber, the wrapper's frame.  So the wrapper
 * keeps the return address in a register across the system call (as
 * glibc's own vfork does), returns straight to the caller in the child,
 * and only in the parent tail-calls the C side that records the result.
 */
long shim_vfork_parent(long raw) __attribute__((visibility("hidden"), used));

long shim_vfork_parent(long raw)
{
	long ret = raw;
	env_spill_release();	/* what the child's exec left in our memory */
	if (raw < 0 && raw > -4096) {
		errno = (int)-raw;
		ret = -1;
	}
	struct rec_event ev = {
		.call = SHMT_CALL_VFORK, .ret = ret, .err = ret < 0 ? errno : 0,
	};
	rec_note(&ev, 1);
	return ret;
}

#if defined(__x86_64__)
__asm__(".text\n"
	".globl vfork\n"
	".type vfork,@function\n"
	"vfork:\n"
	"	popq %rdi\n"			/* return address, kept in rdi */
	"	movl $" "58" ", %eax\n"		/* SYS_vfork */
	"	syscall\n"
	"	pushq %rdi\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"			/* child: touch nothing */
	"	movq %rax, %rdi\n"
	"	jmp shim_vfork_parent\n"	/* parent (or error) */
	"1:	ret\n"
	".size vfork, .-vfork\n");
_Static_assert(SYS_vfork == 58, "vfork system call number");
#endif

/* --- exit ------------------------------------------------------------------------------ */

/* Records a process exit.  Identity from the kernel: _exit is what a vfork
 * child calls when its exec fails. */
static void note_exit(int status, int raw)
{
	rec_flush_counters();
	struct rec_event ev = {
		.call = SHMT_CALL_EXIT,
		.args = { [SHMT_ARG_EXIT_STATUS] = (uint64_t)(uint32_t)status,
			  [SHMT_ARG_EXIT_RAW] = (uint64_t)raw },
		.pid = rec_kernel_pid(), .tid = (pid_t)syscall(SYS_gettid),
	};
	rec_note(&ev, 1);
}

/* on_exit handler: exit() and return from main. */
static void at_exit(int status, void *unused)
{
	(void)unused;
	note_exit(status, 0);
}

/* Leave through the real `name` (_exit or _Exit), resolved into *slot; the
 * raw exit_group if it cannot be found.  The exit was noted by the caller,
 * so the stack recorded is the program's own. */
__attribute__((noreturn))
static void exit_through(void **slot, const char *name, int status)
{
	void (*real)(int) = (void (*)(int))real_resolve(slot, name);
	if (real)
		real(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

SHIM_EXPORT void _exit(int status)
{
	static void *slot;
	note_exit(status, 1);
	exit_through(&slot, "_exit", status);
}

SHIM_EXPORT void _Exit(int status)
{
	static void *slot;
	note_exit(status, 1);
	exit_through(&slot, "_Exit", status);
}

/* --- threads ------------------------------------------------------------------------------ */

struct thread_start {
	void *(*fn)(void *);
	void *arg;
};

/* The start routine and the return value share their slot. */
_Static_assert(SHMT_ARG_THREAD_START_ROUTINE == SHMT_ARG_THREAD_EXIT_RETVAL,
	       "one slot for a thread's start and exit");

static void note_thread(uint16_t call, uint64_t arg)
{
	if (call == SHMT_CALL_THREAD_EXIT)
		rec_flush_counters();
	struct rec_event ev = {
		.call = call, .args = { [SHMT_ARG_THREAD_START_ROUTINE] = arg },
	};
	rec_note(&ev, 0);
}

/* Every thread made through pthread_create starts here: its unwind cache is
 * warmed outside any signal handler, and its start and end are recorded. */
static void *thread_trampoline(void *p)
{
	struct thread_start t = *(struct thread_start *)p;
	free(p);
	rec_warm_thread();
	note_thread(SHMT_CALL_THREAD_START, (uintptr_t)t.fn);
	void *ret = t.fn(t.arg);
	note_thread(SHMT_CALL_THREAD_EXIT, (uintptr_t)ret);
	return ret;
}

SHIM_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			       void *(*fn)(void *), void *arg)
{
	REAL_OR(pthread_create, EAGAIN);
	struct thread_start *t = rec_enabled() ? malloc(sizeof(*t)) : NULL;
	if (!t)
		return real_pthread_create(thread, attr, fn, arg);
	t->fn = fn;
	t->arg = arg;
	int ret = real_pthread_create(thread, attr, thread_trampoline, t);
	if (ret)
		free(t);
	return ret;
}

SHIM_EXPORT void pthread_exit(void *retval)
{
	static void *slot;
	note_thread(SHMT_CALL_THREAD_EXIT, (uintptr_t)retval);
	void (*real)(void *) = (void (*)(void *))real_resolve(&slot, "pthread_exit");
	if (real)
		real(retval);
	syscall(SYS_exit, 0);
	__builtin_unreachable();
}

/* --- start ---------------------------------------------------------------------------------- */

/* Records this image's start: path, argv, parent. */
static void note_start(int argc, char **argv)
{
	char exe[PATH_MAX], buf[SHMT_MAX_STRING];
	long n = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	struct rec_event ev = {
		.call = SHMT_CALL_EXEC, .flags = SHMT_EVF_START,
		.args = { [SHMT_ARG_EXEC_PPID] = (uint64_t)getppid(),
			  [SHMT_ARG_EXEC_VARIANT] = SHMT_EXEC_EXECVE,
			  [SHMT_ARG_EXEC_INNER_PID] = (uint64_t)rec_inner_pid() },
	};
	ev.str = buf;
	ev.str_len = pack_argv(buf, sizeof(buf), exe, argc > 0 ? argv : NULL,
			       &ev.args[SHMT_ARG_EXEC_ARGC], &ev.flags);
	rec_note(&ev, 0);
}

static int start_argc;
static char **start_argv;

void shim_proc_start(void)
{
	static int hooked;
	note_start(start_argc, start_argv);
	rec_note_modules();
	rec_stacks_ready();
	if (!hooked) {		/* once, whatever the attaches */
		hooked = 1;
		pthread_atfork(NULL, NULL, after_fork_child);
		on_exit(at_exit, NULL);
	}
}

/* Whether this shim was loaded late, by dlopen (shmtrace -p), not by the
 * launcher or a preload: no SHMTRACE_REGION, and LD_PRELOAD names no
 * libshmtrace.  Then it stays inert until shmtrace_attach. */
static int loaded_late(void)
{
	const char *pre = getenv("LD_PRELOAD");
	return !getenv("SHMTRACE_REGION") && (!pre || !strstr(pre, "libshmtrace"));
}

/* glibc passes argc, argv and envp to the constructors of every object
 * (to those of a library loaded by dlopen too). */
__attribute__((constructor)) static void shim_start(int argc, char **argv,
						    char **envp)
{
	(void)envp;
	start_argc = argc;
	start_argv = argv;
	if (loaded_late()) {
		rec_go_dormant();
		return;
	}
	if (!rec_enabled())
		return;
	/* made the region ourselves: descendants must find it */
	if (!getenv("SHMTRACE_REGION") && rec_env_region())
		putenv((char *)rec_env_region());
	shim_proc_start();
}
