/*
 * inject.h - calling functions inside a running process, by ptrace: the
 * mechanism under `shmtrace -p PID` (load the shim into the target with
 * dlopen, call its entry point, later call its exit point).
 *
 * Only one thread of the target is ever stopped: the one that makes the
 * calls.  The others run on, so a lock one of them holds is released as
 * usual and the call cannot deadlock on it.  The calling thread is chosen
 * blocked in a system call where one is (a server's main loop waits in
 * epoll_wait, accept, poll...), which is the one moment a thread holds no
 * allocator or loader lock of its own.  Its registers are saved when it is
 * stopped and put back exactly when it is let go, so an interrupted
 * system call restarts as the kernel restarts it after any ptrace stop
 * (-ERESTARTSYS and its kin), and the program sees no EINTR.  A signal
 * that arrives for that thread during a call is kept and delivered when
 * the thread is let go.
 *
 * x86-64 only.
 */
#ifndef SHMTRACE_INJECT_H
#define SHMTRACE_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#define INJECT_MAX_PENDING 8

struct inject {
	pid_t pid;                 /* the process */
	pid_t tid;                 /* the thread that makes the calls */
	bool seized;
	struct user_regs_struct saved;  /* its registers when stopped */
	uint64_t scratch;          /* a private page in the target, or 0 */
	int pending[INJECT_MAX_PENDING]; /* signals kept for the thread */
	int npending;
	uint64_t asked_ns;         /* when it was asked to stop */
	uint64_t stopped_ns;       /* when the thread was stopped */
	char why[256];             /* what failed, for the one-line error */
};

/*
 * Stops one thread of process `pid` (PTRACE_SEIZE + PTRACE_INTERRUPT),
 * preferring one blocked in a system call, and saves its registers.
 * Returns 0, or -1 with in->why set and the process left as it was.
 */
int inject_begin(struct inject *in, pid_t pid);

/*
 * Calls the function at `fn` in the target with up to 6 integer
 * arguments, on the stopped thread, below its stack's red zone, and
 * waits at most `timeout_ms` for it to return.  Returns 0 with its return
 * value in *ret, or -1 with in->why set.  After a timeout the call is
 * still running in the target: the caller must not go on with others.
 */
int inject_call(struct inject *in, uint64_t fn, int nargs,
		const uint64_t *args, uint64_t *ret, int timeout_ms);

/*
 * Copies `s` with its NUL into the target's scratch page (mapped on first
 * use with the target's own libc mmap) at byte `at`, and returns its
 * address in the target, or 0 with in->why set.
 */
uint64_t inject_string(struct inject *in, size_t at, const char *s);

/* Reads a NUL-terminated string of at most size-1 bytes from the target. */
int inject_read_string(struct inject *in, uint64_t addr, char *buf, size_t size);

/*
 * The address in process `pid` of the dynamic symbol `sym` of the mapped
 * module whose path ends with `module` (e.g. "/libc.so.6"), taken from
 * /proc/PID/maps and the module's own dynamic symbol table (its default
 * version where there are several).  Returns 0 when it is not found.
 */
uint64_t inject_symbol(pid_t pid, const char *module, const char *sym);

/*
 * Unmaps the scratch page, puts the saved registers back, delivers the
 * signals kept during the calls and lets the thread go.  Returns 0, or -1
 * with in->why set.  Safe to call after a failed inject_begin().
 */
int inject_end(struct inject *in);

/* How long the last inject_end()ed thread was stopped, from the
 * PTRACE_INTERRUPT to its release, in ns (for shmtrace -p's figures). */
extern uint64_t inject_last_stop_ns;

/*
 * dlopen(`lib`, RTLD_NOW) in process `pid`, then `entry`(`arg`) from it
 * (arg NULL: entry()), all in one stop.  Returns 0 with entry's return
 * value in *entry_ret, or -1 with `why` set; a failure before the
 * library is loaded leaves the process as it was.
 */
int inject_library(pid_t pid, const char *lib, const char *entry,
		   const char *arg, int64_t *entry_ret, char *why, size_t n);

#endif /* SHMTRACE_INJECT_H */
