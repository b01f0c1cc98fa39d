/*
 * sigbus.c - shmview's one SIGBUS handler: the program's half of the
 * reader's SIGBUS guard (see core/trace.h).
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sigbus.h"
#include "trace.h"
#include "util.h"

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	static const char msg[] =
		SHMVIEW_NAME ": fatal: the trace file shrank while being read\n";
	ssize_t unused;

	(void)uc;
	if (!trace_holds_address(si->si_addr)) {
		/* not ours: die of it, as without a handler (re-raised, so a
		 * signal sent by kill() does too) */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	trace_section_escape();
	/* A read that cannot start again: say why instead of a bare
	 * "Bus error". */
	unused = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)unused;
	_exit(1);
}

void sigbus_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}
