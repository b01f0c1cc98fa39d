/*
 * recorder.h - the recorder core: the small API every wrapper goes through.
 *
 * A wrapper has one shape (heaptrack's): begin, call the real function,
 * describe the call, end.
 *
 *	struct rec_ctx c;
 *	int on = rec_begin(&c);
 *	int ret = real_shmget(key, size, shmflg);
 *	if (on) {
 *		struct rec_event ev = { .call = SHMT_CALL_SHMGET, ... };
 *		rec_end(&c, &ev);
 *	}
 *	return ret;
 *
 * The core owns every piece of state: the mapped region, the cached pid,
 * the per-thread nesting counter, the backtrace.  It never takes a lock,
 * never makes a system call on the recording path once warm, never calls
 * malloc, and preserves errno.
 */
#ifndef SHMTRACE_RECORDER_H
#define SHMTRACE_RECORDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "shmtrace-format.h"

/* Per-call state kept on the wrapper's stack between begin and end. */
struct rec_ctx {
	uint64_t t0;
	int nested;	/* the hook was re-entered: record without a stack */
};

/* What a wrapper knows of one call.  Unset fields stay zero. */
struct rec_event {
	uint16_t call;		/* enum shmt_call */
	uint16_t flags;		/* SHMT_EVF_* the wrapper knows */
	int err;		/* errno of a failed call, else 0 */
	int64_t ret;
	uint32_t obj;		/* enum shmt_obj */
	uint64_t args[SHMT_ARG_COUNT];
	const char *str;	/* name/path; may hold NULs (argv) */
	size_t str_len;
	pid_t pid, tid;		/* 0: the cached ones; set by exec and _exit
				   hooks, which may run in a vfork child */
};

/* The recorder's clock: TSC ticks when the region says SHMT_HF_TSC (a few
 * ns to read), else CLOCK_MONOTONIC ns.  For a wrapper that must take its
 * start time before rec_begin (exec, wait); rec_begin takes its own. */
uint64_t rec_now(void);

/* Starts recording a call.  Returns 1 when the call is to be recorded
 * (then rec_end or rec_cancel must follow on this thread), 0 when tracing
 * is off or not ready; the wrapper then just forwards.  Safe before the
 * library constructor ran and inside signal handlers. */
int rec_begin(struct rec_ctx *c);

/* Records `ev` for the call begun with `c`, with a backtrace unless
 * nested.  Preserves errno.  Returns the event's seq + 1, or 0 when it was
 * dropped (region full: counted in the header). */
uint64_t rec_end(struct rec_ctx *c, const struct rec_event *ev);

/* Ends a begun call without recording it (a fork child's copy of the
 * parent's call). */
void rec_cancel(struct rec_ctx *c);

/* Records an event that belongs to no intercepted call (module loads,
 * process start, thread start/exit) with a fresh timestamp and no stack
 * unless `with_stack`.  Returns seq + 1 or 0. */
uint64_t rec_note(const struct rec_event *ev, int with_stack);

/* Records every loaded module not recorded yet by this process, one
 * SHMT_CALL_MODULE event each (modules.h enumerates them).  Takes the
 * loader's lock: for the constructor and rare paths. */
void rec_note_modules(void);

/* After a dlclose: records each module no longer loaded as a
 * SHMT_CALL_MODULE event with an empty range (LO == HI), and forgets it,
 * so a library loaded at its address later is recorded again. */
void rec_forget_modules(void);

/* 1 when tracing is on in this process (forces initialisation). */
int rec_enabled(void);

/* Counts a private mapping passed straight through (cheap, batched per
 * thread). */
void rec_count_passthrough(void);

/* Publishes this thread's batched counters; at thread and process exit. */
void rec_flush_counters(void);

/* Must run in a fork child before it records anything: refreshes the
 * cached pid and tids.  Async-signal-safe. */
void rec_after_fork_child(void);

/* The cached pid of this process, as the launcher's pid namespace sees
 * it (NSpid) when known; rec_inner_pid() is getpid() when that differs
 * (a pid namespace), else 0.  rec_env_pid() is the entry an exec must
 * carry for the new image to know it ("SHMTRACE_PID=<outer>:<inner>"), or
 * NULL. */
pid_t rec_pid(void);
pid_t rec_inner_pid(void);

/* The pid to record, asked of the kernel (for hooks that may run in a
 * vfork child, whose memory, cache included, is its parent's): the cached
 * one when the kernel's is ours, else the kernel's. */
pid_t rec_kernel_pid(void);
const char *rec_env_pid(void);

/* Lets the constructor turn backtraces on once libunwind is set up, and
 * warms this thread's unwind cache outside of any signal handler. */
void rec_stacks_ready(void);
void rec_warm_thread(void);

/* 1 when [addr, addr+len) overlaps the trace region mapped in this process:
 * the hooks refuse to let the program unmap or map over it, so a program
 * that tears down its whole address space cannot crash in the tracer. */
int rec_overlaps_region(uintptr_t addr, size_t len);

/* The region's descriptor inherited from the launcher, which the shim
 * keeps open for descendants (close and close_range leave it alone), or
 * -1.  rec_region_fd_lost: the program put another file at its number
 * (dup2): descendants find the region by its path. */
int rec_region_fd(void);
void rec_region_fd_lost(void);

/* The trace region's range in this process ([*lo, *hi), both 0 when none
 * is mapped). */
void rec_region_range(uintptr_t *lo, uintptr_t *hi);

/* Turns tracing off in this process before a call that may take the
 * region away (unmap, map or remap over it), and counts it (the header's
 * `disabled`).  Returns 1 when it did, 0 when tracing was off already.
 * rec_suspend_end then turns it back on when the call failed (nothing
 * changed), or says in one line that this process runs untraced from now
 * on, `what` naming the call ("unmapped"). */
int rec_suspend(void);
void rec_suspend_end(int suspended, int failed, const char *what);

/* What a traced exec must carry in its environment: the entry
 * "SHMTRACE_REGION=<path>" and the shim's own path for LD_PRELOAD.
 * NULL when tracing is off or the path is unknown. */
const char *rec_env_region(void);
const char *rec_shim_path(void);

/* --- attach mode (shmtrace -p PID; shim/attach.c) --- */

/* Set when the shim was loaded by dlopen into a process nobody traces:
 * hooks resolve their real functions in the global scope (RTLD_NEXT
 * finds nothing after a library loaded late). */
extern int shim_attach_mode __attribute__((visibility("hidden")));

/* Keeps the recorder off until rec_attach (the constructor of a shim
 * loaded late, with no SHMTRACE_REGION and not in LD_PRELOAD): a hook
 * called before then forwards and makes nothing. */
void rec_go_dormant(void);

/* Maps the launcher's region at `path` (/proc/<launcher>/fd/<n>) and turns
 * recording on; execs from here carry SHMTRACE_REGION=path.  Returns 0,
 * or -1 with the recorder still dormant. */
int rec_attach(const char *path);

/* Turns recording off and waits up to `wait_ms` for writes in flight to
 * end.  Returns 0, 1 when some were still in flight, -1 when not on. */
int rec_detach_stop(unsigned wait_ms);

/* Puts an empty anonymous reservation over the region (no file stays
 * mapped; a late write lands there harmlessly). */
void rec_detach_unmap(void);

/* wrap-proc.c: records this image's start (path, argv, parent) and its
 * modules, turns backtraces on and, once, hooks fork and exit: the
 * constructor's work, which shmtrace_attach does late. */
void shim_proc_start(void) __attribute__((visibility("hidden")));

#endif
