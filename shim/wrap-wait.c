/*
 * wrap-wait.c - wait, waitpid, wait3, wait4, waitid: a parent reaping a
 * child is how the trace learns that a child killed by a signal (which
 * records nothing at its end) has ended, and how.
 *
 * Only a call that reaped (or reported) a child is recorded.  The hook is
 * not held open across the blocking call: a signal handler that maps
 * shared memory while the program waits is recorded with its backtrace.
 */
#include "real.h"
#include "recorder.h"
#include "clock.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void note_wait(uint64_t t0, int variant, pid_t ret, pid_t child,
		      int status)
{
	struct rec_ctx c;
	if (child <= 0 || !rec_begin(&c))
		return;
	c.t0 = t0;
	struct rec_event ev = {
		.call = SHMT_CALL_WAIT, .ret = ret,
		.args = { [SHMT_ARG_WAIT_PID] = (uint64_t)child,
			  [SHMT_ARG_WAIT_STATUS] = (uint64_t)(uint32_t)status,
			  [SHMT_ARG_WAIT_VARIANT] = (uint64_t)variant },
	};
	rec_end(&c, &ev);
}

/* Turns waitid's siginfo back into a waitpid-style status. */
static int status_of(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED: return (si->si_status & 0xff) << 8;
	case CLD_KILLED: return si->si_status & 0x7f;
	case CLD_DUMPED: return (si->si_status & 0x7f) | 0x80;
	case CLD_STOPPED:
	case CLD_TRAPPED: return ((si->si_status & 0xff) << 8) | 0x7f;
	case CLD_CONTINUED: return 0xffff;
	default: return 0;
	}
}

SHIM_EXPORT pid_t waitpid(pid_t pid, int *wstatus, int options)
{
	REAL_OR(waitpid, -1);
	int local;
	int *st = wstatus ? wstatus : &local;
	uint64_t t0 = rec_now();
	pid_t ret = real_waitpid(pid, st, options);
	if (ret > 0)
		note_wait(t0, SHMT_WAIT_WAITPID, ret, ret, *st);
	return ret;
}

SHIM_EXPORT pid_t wait(int *wstatus)
{
	REAL_OR(wait, -1);
	int local;
	int *st = wstatus ? wstatus : &local;
	uint64_t t0 = rec_now();
	pid_t ret = real_wait(st);
	if (ret > 0)
		note_wait(t0, SHMT_WAIT_WAIT, ret, ret, *st);
	return ret;
}

SHIM_EXPORT pid_t wait3(int *wstatus, int options, struct rusage *ru)
{
	REAL_OR(wait3, -1);
	int local;
	int *st = wstatus ? wstatus : &local;
	uint64_t t0 = rec_now();
	pid_t ret = real_wait3(st, options, ru);
	if (ret > 0)
		note_wait(t0, SHMT_WAIT_WAIT3, ret, ret, *st);
	return ret;
}

SHIM_EXPORT pid_t wait4(pid_t pid, int *wstatus, int options, struct rusage *ru)
{
	REAL_OR(wait4, -1);
	int local;
	int *st = wstatus ? wstatus : &local;
	uint64_t t0 = rec_now();
	pid_t ret = real_wait4(pid, st, options, ru);
	if (ret > 0)
		note_wait(t0, SHMT_WAIT_WAIT4, ret, ret, *st);
	return ret;
}

SHIM_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	REAL_OR(waitid, -1);
	uint64_t t0 = rec_now();
	int ret = real_waitid(idtype, id, info, options);
	if (ret == 0 && info && info->si_pid > 0)
		note_wait(t0, SHMT_WAIT_WAITID, ret, info->si_pid, status_of(info));
	return ret;
}
