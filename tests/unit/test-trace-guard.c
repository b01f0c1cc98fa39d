/*
 * test-trace-guard.c - the SIGBUS guard: the reader's range check and
 * read sections (core/trace.h), and shmview's handler (viewer/sigbus.h)
 * on a trace file really cut shorter under its mapping.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "shmtrace-format.h"
#include "sigbus.h"
#include "trace.h"

#include "tracegen.h"

static char tmpdir[64];

/* A valid trace of TB_CAP committed events at tmpdir/NAME. */
static const char *make_trace(const char *name)
{
	static char path[3][512];
	static int turn;
	char *p = path[turn++ % 3];
	struct tb b;
	FILE *f;

	tb_init(&b);
	for (unsigned i = 0; i < TB_CAP; i++)
		tb_add(&b, SHMT_CALL_CLOSE, 100)->args[SHMT_ARG_CLOSE_FD] = i;
	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	f = fopen(p, "wb");
	fwrite(b.buf, 1, b.size, f);
	fclose(f);
	tb_free(&b);
	return p;
}

/* Cut the file to its header: the slots' pages are gone under a mapping. */
static void cut(const char *path)
{
	if (truncate(path, SHMT_HEADER_SIZE) != 0)
		perror("truncate");
}

static int read_all(const struct trace *t)
{
	struct trace_iter it;
	int n = 0;

	trace_iter_init(&it, t);
	while (trace_iter_next(&it))
		n++;
	return n;
}

static void test_range_check(void)
{
	struct trace a, b;
	int local;

	CHECK(!trace_holds_address(NULL), "no trace open: NULL is not in one");
	CHECK(trace_open(make_trace("a.trace"), &a) == 0 &&
	      trace_open(make_trace("b.trace"), &b) == 0, "open two traces");
	CHECK(trace_holds_address(a.base) &&
	      trace_holds_address(a.base + a.size - 1),
	      "the first and last byte of a mapping are in a trace");
	CHECK(trace_holds_address(b.base + b.size / 2),
	      "the middle of the second trace is in a trace");
	CHECK(!trace_holds_address(&local) && !trace_holds_address(NULL),
	      "the stack and NULL are not");
	CHECK((a.base + a.size == b.base) ||
	      !trace_holds_address(a.base + a.size),
	      "the byte past a mapping is not (unless the next trace's)");
	const unsigned char *a_base = a.base, *b_base = b.base;

	trace_close(&a);
	CHECK(!trace_holds_address(a_base), "a closed trace is not in the table");
	CHECK(trace_holds_address(b_base), "the other one still is");
	trace_close(&b);
	CHECK(!trace_holds_address(b_base), "closing the second empties the table");
}

static void test_table_full(void)
{
	struct trace t[TRACE_OPEN_MAX + 1];
	const char *path = make_trace("many.trace");
	int opened = 0, last;

	for (int i = 0; i < TRACE_OPEN_MAX; i++)
		opened += trace_open(path, &t[i]) == 0;
	CHECK(opened == TRACE_OPEN_MAX, "%d traces open at once (%d)",
	      TRACE_OPEN_MAX, opened);
	fflush(stderr);
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	last = trace_open(path, &t[TRACE_OPEN_MAX]);
	dup2(saved, 2);
	close(saved);
	close(null);
	CHECK(last == -1, "one more is refused, not left unguarded");
	for (int i = 0; i < TRACE_OPEN_MAX; i++)
		trace_close(&t[i]);
	CHECK(trace_open(path, &t[0]) == 0, "closing frees the entries");
	trace_close(&t[0]);
}

/* A cut under a read section jumps back to it; the next read works. */
static void test_section_escape(void)
{
	const char *path = make_trace("cut.trace");
	struct trace_section s;
	struct trace t;
	volatile int escaped = 0, n = -1;

	CHECK(trace_open(path, &t) == 0, "open the trace to cut");
	cut(path);
	if (sigsetjmp(s.env, 1)) {
		escaped = 1;
	} else {
		trace_section_enter(&s);
		n = read_all(&t);
		trace_section_leave(&s);
	}
	trace_close(&t);
	CHECK(escaped && n == -1, "the faulting read jumps back to its section");
	path = make_trace("again.trace");
	CHECK(trace_open(path, &t) == 0 && read_all(&t) == (int)TB_CAP,
	      "a later read of a whole file works (%d events)", (int)TB_CAP);
	trace_close(&t);
}

/* Run fn in a child with stderr on a pipe; its wait status and stderr. */
static int in_child(void (*fn)(void), char *err, size_t size)
{
	int p[2], status = 0;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(p) != 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);	/* a SIGBUS dumps core */
		dup2(p[1], 2);
		close(p[0]);
		fn();
		_exit(0);
	}
	close(p[1]);
	while (got < (ssize_t)size - 1 &&
	       (n = read(p[0], err + got, size - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	return status;
}

static void cut_outside_section(void)
{
	const char *path = make_trace("fatal.trace");
	struct trace t;

	if (trace_open(path, &t) != 0)
		_exit(3);
	cut(path);
	read_all(&t);
	_exit(4);	/* not reached: the read faults */
}

static void bus_elsewhere(void)
{
	raise(SIGBUS);
	_exit(4);
}

static void test_handler(void)
{
	char err[256];
	int st = in_child(cut_outside_section, err, sizeof(err));

	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1,
	      "a cut outside any section: exit status 1 (status %d)", st);
	CHECK_STR(err, "shmview: fatal: the trace file shrank while being read\n",
		  "... and the one clean message");
	st = in_child(bus_elsewhere, err, sizeof(err));
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS && !err[0],
	      "a SIGBUS outside every trace keeps its default action");
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/shmtrace-guard.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	sigbus_install();
	test_range_check();
	test_table_full();
	test_section_escape();
	test_handler();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return check_exit();
}
