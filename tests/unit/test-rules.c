/*
 * test-rules.c - the model's rules: the leak rule (model_is_leak), the
 * report's totals (report_count_totals) and each segment's history
 * (history.h): which events land in which segment's history.
 */
#define TB_CAP 128u
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "check.h"
#include "history.h"
#include "kernel.h"
#include "model.h"
#include "modelgen.h"
#include "report.h"
#include "trace.h"
#include "tracegen.h"

/* Whether s's history is exactly want[0..n), in that order. */
static bool history_is(const struct segment *s, const uint64_t *want, size_t n)
{
	const uint64_t *seqs;
	size_t got = history_of(s, &seqs);

	if (got != n) {
		printf("#   history has %zu events, want %zu:", got, n);
		for (size_t i = 0; i < got; i++)
			printf(" %llu", (unsigned long long)seqs[i]);
		printf("\n");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (seqs[i] != want[i]) {
			printf("#   event %zu is %llu, want %llu\n", i,
			       (unsigned long long)seqs[i],
			       (unsigned long long)want[i]);
			return false;
		}
	return true;
}

#define HISTORY_IS(s, ...)                                                  \
	history_is((s), (const uint64_t[]){ __VA_ARGS__ },                  \
		   sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))

/* --- the leak rule and the totals ----------------------------------------- */

/* One run, over: a segment it made and left (a leak), one it made and
 * removed, one it only found (someone else's). */
static void test_leak_rule_final(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	struct report_totals tot;

	tb_init(&b);
	start(&b, 100, 1, 1);
	shmget_ev(&b, 100, 10, 7, 0x1111, 4096);
	shmat_ev(&b, 100, 20, 7, 0x10000, 4096);
	shmget_ev(&b, 100, 30, 8, 0x2222, 4096);
	shmctl_ev(&b, 100, 40, 8, IPC_RMID);
	shmat_ev(&b, 100, 50, 9, 0x20000, 8192);	/* made before the trace */
	ev(&b, SHMT_CALL_EXIT, 100, 60, 0);
	build(&b, &t, &m, "leak.trace");
	CHECK(m.nsegments == 3, "three segments");
	const struct segment *left = m.segments[0], *gone = m.segments[1],
		*found = m.segments[2];
	CHECK(left->state == SEG_LEAKED && model_is_leak(left),
	      "leak: created by the trace, outlived every process");
	CHECK(gone->state == SEG_REMOVED && !model_is_leak(gone),
	      "no leak: created and removed");
	CHECK(found->state == SEG_LEAKED && !found->created &&
	      (found->notes & SEG_NOTE_PREEXISTING) && !model_is_leak(found),
	      "no leak: still there, but it existed before the trace");
	CHECK(m.leaks == 1, "the model counts one leak");

	report_count_totals(&m, &tot);
	CHECK(tot.segments == 3 && tot.by_state[SEG_LEAKED] == 2 &&
	      tot.by_state[SEG_REMOVED] == 1 && tot.by_state[SEG_LIVE] == 0 &&
	      tot.by_state[SEG_PENDING] == 0,
	      "totals: every segment, by state");
	CHECK(tot.created == 2 && tot.created_removed == 1 && tot.leaked == 1,
	      "totals: created by the trace, removed since, leaked");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* A run still going: what it still uses is live, what it marked while
 * attached is pending; neither is a leak (yet). */
static void test_leak_rule_running(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	struct report_totals tot;

	tb_init(&b);
	b.h->flags = 0;
	start(&b, 100, 1, 1);
	shmget_ev(&b, 100, 10, 7, 0x1111, 4096);
	shmat_ev(&b, 100, 20, 7, 0x10000, 4096);
	shmget_ev(&b, 100, 30, 8, 0x2222, 4096);
	shmat_ev(&b, 100, 40, 8, 0x20000, 4096);
	shmctl_ev(&b, 100, 50, 8, IPC_RMID);
	build(&b, &t, &m, "running.trace");
	const struct segment *used = m.segments[0], *marked = m.segments[1];
	CHECK(m.running && used->state == SEG_LIVE && !model_is_leak(used),
	      "no leak: in use by a process still running");
	CHECK(marked->state == SEG_PENDING && !model_is_leak(marked),
	      "no leak: pending (IPC_RMID while attached)");
	report_count_totals(&m, &tot);
	CHECK(tot.segments == 2 && tot.by_state[SEG_LIVE] == 1 &&
	      tot.by_state[SEG_PENDING] == 1 && tot.created == 2 &&
	      tot.created_removed == 0 && tot.leaked == 0 && m.leaks == 0,
	      "totals of a running trace: one live, one pending, no leak");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* Against the kernel's view: a leak is one the kernel still has; one it
 * lost, or marked since, is not. */
static void test_leak_rule_kernel(void)
{
	struct kernel_sysv sysv[] = {
		{ .shmid = 7, .key = 0x1111, .size = 4096 },
		{ .shmid = 9, .key = 0, .size = 4096, .dest = true, .nattch = 1 },
	};
	struct kernel_view k = { .sysv = sysv, .nsysv = 2, .sysv_ok = true };
	struct tb b;
	struct trace t;
	struct model m;

	tb_init(&b);
	start(&b, 100, 1, 1);
	shmget_ev(&b, 100, 10, 7, 0x1111, 4096);
	shmget_ev(&b, 100, 20, 8, 0x2222, 4096);
	shmget_ev(&b, 100, 30, 9, 0x3333, 4096);
	ev(&b, SHMT_CALL_EXIT, 100, 60, 0);
	build_with(&b, &t, &m, "kernel.trace", &k);
	CHECK(model_is_leak(m.segments[0]) && m.segments[0]->in_kernel,
	      "leak: the kernel still has it, unchanged");
	CHECK(m.segments[1]->state == SEG_REMOVED &&
	      (m.segments[1]->notes & SEG_NOTE_REMOVED_OUTSIDE) &&
	      !model_is_leak(m.segments[1]),
	      "no leak: the kernel no longer has it (removed outside)");
	CHECK(m.segments[2]->state == SEG_PENDING && !model_is_leak(m.segments[2]),
	      "no leak: the kernel says it is marked for removal");
	CHECK(m.leaks == 1, "one leak counted");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* --- the history of each segment ------------------------------------------ */

/* A fork's inherited attachment is the fork's; the child's exit drops it;
 * a failed shmat names it; IPC_RMID, then the last shmdt removes it.  The
 * master's exit, with nothing attached any more, is not in it; neither is
 * anything about another segment. */
static void test_history_fork(void)
{
	struct tb b;
	struct trace t;
	struct model m;

	tb_init(&b);
	start(&b, 100, 1, 1);
	shmget_ev(&b, 100, 10, 7, 0x1111, 8192);
	uint64_t get = last_seq(&b);
	shmat_ev(&b, 100, 20, 7, 0x10000, 8192);
	uint64_t at = last_seq(&b);
	ev(&b, SHMT_CALL_EXIT, 101, 40, 0);	/* the worker's, slot first */
	uint64_t child_exit = last_seq(&b);
	ev(&b, SHMT_CALL_FORK, 100, 30, 101);
	uint64_t fork = last_seq(&b);
	failed(shmat_ev(&b, 100, 45, 7, 0, 8192), EINVAL);
	uint64_t bad_at = last_seq(&b);
	shmget_ev(&b, 100, 47, 8, 0x2222, 4096);
	uint64_t other = last_seq(&b);
	shmctl_ev(&b, 100, 50, 7, IPC_RMID);
	uint64_t rmid = last_seq(&b);
	ev(&b, SHMT_CALL_SHMDT, 100, 60, 0)->args[SHMT_ARG_SHMDT_ADDR] = 0x10000;
	uint64_t dt = last_seq(&b);
	ev(&b, SHMT_CALL_EXIT, 100, 70, 0);
	build(&b, &t, &m, "hist-fork.trace");
	CHECK(HISTORY_IS(m.segments[0], get, at, fork, child_exit, bad_at, rmid, dt),
	      "history: shmget, shmat, the fork, the child's exit, the failed "
	      "shmat, IPC_RMID, the shmdt, in the order they took effect");
	CHECK(HISTORY_IS(m.segments[1], other),
	      "history: another segment's shmget is its own");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* A middle munmap splits the attach (once in the history), a munmap
 * elsewhere and a failed shmdt elsewhere are not in it, the shmdt that
 * takes both pieces is in it once. */
static void test_history_munmap_split(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	struct shmt_event *e;

	tb_init(&b);
	start(&b, 100, 1, 1);
	shmget_ev(&b, 100, 10, 9, 0x1111, 3 * 4096);
	uint64_t get = last_seq(&b);
	shmat_ev(&b, 100, 20, 9, 0x20000, 3 * 4096);
	uint64_t at = last_seq(&b);
	e = ev(&b, SHMT_CALL_MUNMAP, 100, 30, 0);
	e->args[SHMT_ARG_MUNMAP_ADDR] = 0x21000;
	e->args[SHMT_ARG_MUNMAP_LENGTH] = 4096;
	uint64_t split = last_seq(&b);
	e = ev(&b, SHMT_CALL_MUNMAP, 100, 35, 0);
	e->args[SHMT_ARG_MUNMAP_ADDR] = 0x90000;
	e->args[SHMT_ARG_MUNMAP_LENGTH] = 4096;
	e = failed(ev(&b, SHMT_CALL_SHMDT, 100, 40, 0), EINVAL);
	e->args[SHMT_ARG_SHMDT_ADDR] = 0x90000;
	ev(&b, SHMT_CALL_SHMDT, 100, 50, 0)->args[SHMT_ARG_SHMDT_ADDR] = 0x20000;
	uint64_t dt = last_seq(&b);
	ev(&b, SHMT_CALL_EXIT, 100, 60, 0);
	build(&b, &t, &m, "hist-munmap.trace");
	CHECK(m.segments[0]->natt == 2, "the munmap split the attach in two");
	CHECK(HISTORY_IS(m.segments[0], get, at, split, dt),
	      "history: shmget, shmat, the splitting munmap, one shmdt for "
	      "both pieces; not a munmap or a failed shmdt elsewhere");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* IPC_RMID while attached: pending, with IPC_RMID in the history; the
 * segment's IPC_STAT and a failed IPC_SET are in it, IPC_INFO (which
 * names no segment) is not. */
static void test_history_pending(void)
{
	struct tb b;
	struct trace t;
	struct model m;

	tb_init(&b);
	b.h->flags = 0;
	start(&b, 100, 1, 1);
	shmget_ev(&b, 100, 10, 0, 0x1111, 4096);
	uint64_t get = last_seq(&b);
	shmat_ev(&b, 100, 20, 0, 0x10000, 4096);
	uint64_t at = last_seq(&b);
	shmctl_ev(&b, 100, 25, 0, IPC_INFO);
	failed(shmctl_ev(&b, 100, 27, 0, IPC_SET), EPERM);
	uint64_t set = last_seq(&b);
	shmctl_ev(&b, 100, 30, 0, IPC_RMID);
	uint64_t rmid = last_seq(&b);
	build(&b, &t, &m, "hist-pending.trace");
	CHECK(m.segments[0]->state == SEG_PENDING, "marked while attached: pending");
	CHECK(HISTORY_IS(m.segments[0], get, at, set, rmid),
	      "history: shmget, shmat, the failed IPC_SET, IPC_RMID; not "
	      "IPC_INFO");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* exec drops what a child inherited, mremap moves an attachment, exit
 * drops the rest: each in the history; an exec with nothing attached is
 * not. */
static void test_history_exec_exit(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	struct shmt_event *e;

	tb_init(&b);
	start(&b, 100, 1, 1);
	anon_mmap(&b, 100, 10, 0x50000, 8192);
	uint64_t map = last_seq(&b);
	ev(&b, SHMT_CALL_FORK, 100, 20, 101);
	uint64_t fork = last_seq(&b);
	start(&b, 101, 100, 30);
	uint64_t exec = last_seq(&b);
	e = ev(&b, SHMT_CALL_MREMAP, 100, 40, 0x80000);
	e->args[SHMT_ARG_MREMAP_OLD_ADDR] = 0x50000;
	e->args[SHMT_ARG_MREMAP_OLD_SIZE] = 8192;
	e->args[SHMT_ARG_MREMAP_NEW_SIZE] = 16384;
	e->args[SHMT_ARG_MREMAP_FLAGS] = MREMAP_MAYMOVE;
	uint64_t moved = last_seq(&b);
	ev(&b, SHMT_CALL_EXIT, 101, 45, 0);
	ev(&b, SHMT_CALL_EXIT, 100, 50, 0);
	uint64_t exit = last_seq(&b);
	build(&b, &t, &m, "hist-exec.trace");
	CHECK(HISTORY_IS(m.segments[0], map, fork, exec, moved, exit),
	      "history: the mmap, the fork, the child's exec, the mremap, the "
	      "exit; not the child's exit (nothing attached then)");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* A POSIX object's history: by name and by descriptor; a failed
 * shm_open of its name is in it; another object's events are not, and
 * neither is the exit that only drops a descriptor. */
static void test_history_posix(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	struct shmt_event *e;

	tb_init(&b);
	start(&b, 100, 1, 1);
	posix_open(&b, 100, 10, "/obj", 3, 1);
	uint64_t open = last_seq(&b);
	e = ev(&b, SHMT_CALL_FTRUNCATE, 100, 20, 0);
	e->args[SHMT_ARG_FTRUNCATE_LENGTH] = 4096;
	e->args[SHMT_ARG_FTRUNCATE_ORIGIN] = open + 1;
	uint64_t trunc = last_seq(&b);
	e = ev(&b, SHMT_CALL_MMAP, 100, 30, 0x40000);
	e->args[SHMT_ARG_MMAP_LENGTH] = 4096;
	e->args[SHMT_ARG_MMAP_PROT] = PROT_READ;
	e->args[SHMT_ARG_MMAP_FLAGS] = MAP_SHARED;
	e->obj = SHMT_OBJ_POSIX;
	e->args[SHMT_ARG_MMAP_ORIGIN] = open + 1;
	uint64_t map = last_seq(&b);
	ev(&b, SHMT_CALL_CLOSE, 100, 40, 0)->args[SHMT_ARG_CLOSE_ORIGIN] = open + 1;
	uint64_t close = last_seq(&b);
	failed(posix_open(&b, 100, 45, "/obj", -1, 1), EEXIST);
	uint64_t excl = last_seq(&b);
	posix_open(&b, 100, 50, "/other", 4, 1);
	uint64_t other = last_seq(&b);
	e = ev(&b, SHMT_CALL_SHM_UNLINK, 100, 60, 0);
	tb_str(&b, e, "/obj", 4);
	uint64_t unlink = last_seq(&b);
	e = ev(&b, SHMT_CALL_MUNMAP, 100, 70, 0);
	e->args[SHMT_ARG_MUNMAP_ADDR] = 0x40000;
	e->args[SHMT_ARG_MUNMAP_LENGTH] = 4096;
	uint64_t unmap = last_seq(&b);
	ev(&b, SHMT_CALL_EXIT, 100, 80, 0);
	build(&b, &t, &m, "hist-posix.trace");
	CHECK(HISTORY_IS(m.segments[0], open, trunc, map, close, excl, unlink,
			 unmap),
	      "history: shm_open, ftruncate, mmap, close, the failed shm_open, "
	      "shm_unlink, munmap");
	CHECK(m.segments[0]->destroyed && m.segments[0]->destroyed_ns == 70000,
	      "unlinked, closed and unmapped: gone at the munmap");
	CHECK(HISTORY_IS(m.segments[1], other),
	      "history of the other object: its shm_open (an exit dropping a "
	      "descriptor, nothing attached, is not in it)");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* The histories of some segments as a set, for filters. */
static void test_history_set(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	struct history_set hs;

	tb_init(&b);
	start(&b, 100, 1, 1);
	uint64_t exec = last_seq(&b);
	shmget_ev(&b, 100, 10, 7, 0x1111, 4096);
	uint64_t a = last_seq(&b);
	shmget_ev(&b, 100, 20, 8, 0x2222, 4096);
	uint64_t c = last_seq(&b);
	shmget_ev(&b, 100, 30, 9, 0x3333, 4096);
	uint64_t d = last_seq(&b);
	ev(&b, SHMT_CALL_EXIT, 100, 60, 0);
	build(&b, &t, &m, "hist-set.trace");
	const struct segment *two[] = { m.segments[2], m.segments[0] };
	history_set_init(&hs, two, 2);
	CHECK(hs.n == 2 && hs.seqs[0] == a && hs.seqs[1] == d,
	      "a set holds the events of its segments, sorted");
	CHECK(history_set_has(&hs, a) && history_set_has(&hs, d) &&
	      !history_set_has(&hs, c) && !history_set_has(&hs, exec),
	      "history_set_has: theirs yes, another's or none's no");
	history_set_free(&hs);
	history_set_init(&hs, NULL, 0);
	CHECK(hs.n == 0 && !history_set_has(&hs, a), "an empty set has nothing");
	history_set_free(&hs);
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* A model built from elsewhere (/proc) has no history. */
static void test_history_none(void)
{
	struct model m;
	const uint64_t *seqs;

	model_init(&m);
	struct segment *s = model_add_segment(&m, SEG_SYSV);
	model_add_attachment(&m, s, model_add_process(&m, 42), 0x1000, 4096,
			     false, ATTACH_SHMAT);
	CHECK(history_of(s, &seqs) == 0, "a model from /proc has no history");
	model_free(&m);
}

int main(void)
{
	modelgen_init();
	test_leak_rule_final();
	test_leak_rule_running();
	test_leak_rule_kernel();
	test_history_fork();
	test_history_munmap_split();
	test_history_pending();
	test_history_exec_exit();
	test_history_posix();
	test_history_set();
	test_history_none();
	CHECK(modelgen_done() == 0, "cleaned up");
	return check_exit();
}
