/*
 * test-model.c - the lifetime model against synthetic traces: the order
 * events take effect in, inheritance by fork, partial munmap counted as the
 * kernel counts it, shmdt of every piece, pending-then-removed, killed
 * children, POSIX objects and their descriptors, exec, mremap.
 */
#define TB_CAP 128u
#include <stdio.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include "check.h"
#include "model.h"
#include "modelgen.h"
#include "trace.h"
#include "tracegen.h"

/* A master forks a worker; the worker's exit lands in an earlier slot than
 * the fork (slots are taken when calls return), which must not matter. */
static void test_fork_order_and_pending(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	tb_init(&b);
	start(&b, 100, 1, 1);
	struct shmt_event *e = ev(&b, SHMT_CALL_SHMGET, 100, 10, 7);
	e->flags = SHMT_EVF_CREATED;
	e->args[SHMT_ARG_SHMGET_SIZE] = 8192;
	shmat_ev(&b, 100, 20, 7, 0x10000, 8192);
	ev(&b, SHMT_CALL_EXIT, 101, 40, 0);
	ev(&b, SHMT_CALL_FORK, 100, 30, 101);
	e = ev(&b, SHMT_CALL_SHMCTL, 100, 50, 0);
	e->args[SHMT_ARG_SHMCTL_SHMID] = 7;
	e->args[SHMT_ARG_SHMCTL_CMD] = IPC_RMID;
	ev(&b, SHMT_CALL_SHMDT, 100, 60, 0)->args[SHMT_ARG_SHMDT_ADDR] = 0x10000;
	ev(&b, SHMT_CALL_EXIT, 100, 70, 0);
	build(&b, &t, &m, "fork.trace");

	CHECK(m.nsegments == 1 && m.nprocesses == 2, "one segment, two processes");
	struct segment *s = m.segments[0];
	CHECK(s->kind == SEG_SYSV && s->created && s->shmid == 7 && s->size == 8192,
	      "the SysV segment is created with its size");
	CHECK(s->natt == 2 && s->att[1]->proc->pid == 101 &&
	      s->att[1]->how == ATTACH_FORK && s->att[1]->addr == 0x10000,
	      "the worker inherits the attach at the same address");
	CHECK(s->att[1]->detached_ns == 40000, "the worker's exit detaches it");
	CHECK(s->marked && s->marked_ns == 50000 && s->destroyed &&
	      s->destroyed_ns == 60000 && s->remover.pid == 100,
	      "marked at IPC_RMID, destroyed at the last shmdt (pending, then removed)");
	CHECK(s->state == SEG_REMOVED && m.leaks == 0, "state removed, no leak");
	struct process *w = model_process(&m, 101);
	CHECK(w && w->ppid == 100 && w->exit_seen, "the worker's parent is the master");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* munmap of a middle page leaves two mappings; shmdt removes both; a
 * failed shmdt changes nothing. */
static void test_partial_munmap(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	tb_init(&b);
	b.h->flags = 0;		/* still running: the attaches stay */
	start(&b, 100, 1, 1);
	struct shmt_event *e = ev(&b, SHMT_CALL_SHMGET, 100, 10, 9);
	e->flags = SHMT_EVF_CREATED;
	e->args[SHMT_ARG_SHMGET_SIZE] = 3 * 4096;
	shmat_ev(&b, 100, 20, 9, 0x20000, 3 * 4096);
	e = ev(&b, SHMT_CALL_MUNMAP, 100, 30, 0);
	e->args[SHMT_ARG_MUNMAP_ADDR] = 0x21000;
	e->args[SHMT_ARG_MUNMAP_LENGTH] = 4096;
	e = ev(&b, SHMT_CALL_SHMDT, 100, 40, -1);
	e->args[SHMT_ARG_SHMDT_ADDR] = 0x90000;
	e->err = 22;
	build(&b, &t, &m, "munmap.trace");
	struct segment *s = m.segments[0];
	CHECK(s->live_att == 2 && s->natt == 2 && s->att[0]->length == 4096 &&
	      s->att[1]->addr == 0x22000 && s->att[1]->length == 4096,
	      "a middle munmap splits the attach in two, as nattch counts");
	CHECK(m.prof.by_call[SHMT_CALL_SHMDT].failed == 1 && m.prof.by_errno[22] == 1,
	      "a failed shmdt is in the profile but changes nothing");
	model_free(&m);
	trace_close(&t);

	ev(&b, SHMT_CALL_SHMDT, 100, 50, 0)->args[SHMT_ARG_SHMDT_ADDR] = 0x20000;
	b.h->flags = SHMT_HF_FINAL;	/* the run is over */
	build(&b, &t, &m, "munmap2.trace");
	s = m.segments[0];
	CHECK(s->live_att == 0 && !s->destroyed && s->state == SEG_LEAKED &&
	      m.leaks == 1, "shmdt detaches both pieces; never removed: leaked");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* A child killed by SIGKILL records nothing; the launcher's reap does. */
static void test_killed_child(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	tb_init(&b);
	b.h->flags = 0;		/* a live trace: ends come from events */
	start(&b, 100, 1, 1);
	struct shmt_event *e = ev(&b, SHMT_CALL_MMAP, 100, 10, 0x30000);
	e->args[SHMT_ARG_MMAP_LENGTH] = 4096;
	e->args[SHMT_ARG_MMAP_PROT] = PROT_READ | PROT_WRITE;
	e->args[SHMT_ARG_MMAP_FLAGS] = MAP_SHARED | MAP_ANONYMOUS;
	e->obj = SHMT_OBJ_ANON;
	ev(&b, SHMT_CALL_FORK, 100, 20, 101);
	e = ev(&b, SHMT_CALL_WAIT, 1, 30, 101);
	e->args[SHMT_ARG_WAIT_PID] = 101;
	e->args[SHMT_ARG_WAIT_STATUS] = 9;		/* WTERMSIG 9 */
	e->args[SHMT_ARG_WAIT_VARIANT] = SHMT_WAIT_REAPER;
	build(&b, &t, &m, "killed.trace");
	struct process *c = model_process(&m, 101);
	struct segment *s = m.segments[0];
	CHECK(c && c->ended && c->signal == 9 && c->end_ns == 30000,
	      "the reaped child ended, killed by signal 9");
	CHECK(s->kind == SEG_ANON && s->natt == 2 && !s->att[1]->live &&
	      s->att[0]->live, "its attachment is dropped, the parent's stays");
	CHECK(model_process(&m, 1) == NULL, "the launcher is not a traced process");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

static void test_posix(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	tb_init(&b);
	start(&b, 100, 1, 1);
	posix_open(&b, 100, 10, "/kept", 3, 1);
	uint64_t kept = b.h->head;	/* seq + 1 of that shm_open */
	struct shmt_event *e = ev(&b, SHMT_CALL_FTRUNCATE, 100, 20, 0);
	e->args[SHMT_ARG_FTRUNCATE_LENGTH] = 4096;
	e->args[SHMT_ARG_FTRUNCATE_ORIGIN] = kept;
	e = ev(&b, SHMT_CALL_MMAP, 100, 30, 0x40000);
	e->args[SHMT_ARG_MMAP_LENGTH] = 4096;
	e->args[SHMT_ARG_MMAP_PROT] = PROT_READ;
	e->args[SHMT_ARG_MMAP_FLAGS] = MAP_SHARED;
	e->obj = SHMT_OBJ_POSIX;
	e->args[SHMT_ARG_MMAP_ORIGIN] = kept;
	ev(&b, SHMT_CALL_CLOSE, 100, 40, 0)->args[SHMT_ARG_CLOSE_ORIGIN] = kept;
	posix_open(&b, 100, 50, "/gone", 4, 1);
	e = ev(&b, SHMT_CALL_SHM_UNLINK, 100, 60, 0);
	tb_str(&b, e, "/gone", 5);
	ev(&b, SHMT_CALL_EXIT, 100, 70, 0);
	build(&b, &t, &m, "posix.trace");
	CHECK(m.nsegments == 2, "two POSIX objects");
	struct segment *k = m.segments[0], *g = m.segments[1];
	CHECK(k->kind == SEG_POSIX && k->size == 4096 && k->natt == 1 &&
	      k->att[0]->readonly && strcmp(k->name, "/kept") == 0,
	      "ftruncate sizes it; its mmap is found through the descriptor");
	CHECK(k->state == SEG_LEAKED && g->state == SEG_REMOVED && m.leaks == 1,
	      "never unlinked: leaked; unlinked and closed at exit: removed");
	CHECK(g->remover.pid == 100 && g->destroyed_ns == 70000,
	      "an unlinked object lives until its last descriptor closes");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* exec drops inherited mappings; mremap moves one. */
static void test_exec_and_mremap(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	tb_init(&b);
	b.h->flags = 0;
	start(&b, 100, 1, 1);
	struct shmt_event *e = ev(&b, SHMT_CALL_MMAP, 100, 10, 0x50000);
	e->args[SHMT_ARG_MMAP_LENGTH] = 8192;
	e->args[SHMT_ARG_MMAP_PROT] = PROT_READ | PROT_WRITE;
	e->args[SHMT_ARG_MMAP_FLAGS] = MAP_SHARED | MAP_ANONYMOUS;
	e->obj = SHMT_OBJ_ANON;
	ev(&b, SHMT_CALL_FORK, 100, 20, 101);
	start(&b, 101, 100, 30);
	e = ev(&b, SHMT_CALL_MREMAP, 100, 40, 0x80000);
	e->args[SHMT_ARG_MREMAP_OLD_ADDR] = 0x50000;
	e->args[SHMT_ARG_MREMAP_OLD_SIZE] = 8192;
	e->args[SHMT_ARG_MREMAP_NEW_SIZE] = 16384;
	e->args[SHMT_ARG_MREMAP_FLAGS] = MREMAP_MAYMOVE;
	build(&b, &t, &m, "exec.trace");
	struct segment *s = m.segments[0];
	CHECK(s->natt == 2 && !s->att[1]->live && s->att[1]->detached_ns == 30000,
	      "the child's exec drops what it inherited");
	CHECK(s->att[0]->live && s->att[0]->addr == 0x80000 &&
	      s->att[0]->length == 16384, "mremap moves and grows the attachment");
	CHECK(m.prof.peak_bytes == 16384, "peak bytes attached (%llu)",
	      (unsigned long long)m.prof.peak_bytes);
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* The kernel reuses pids: a second child with the pid of one that has
 * ended is a process of its own, and a later shmget of the first one's
 * pid is the second one's.  A fork whose child is the forking process
 * itself (a corrupt trace) changes nothing, and ends. */
static void test_pid_reuse(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	tb_init(&b);
	start(&b, 100, 0, 1);	/* parent unknown: nothing stops do_fork */
	posix_open(&b, 100, 5, "/held", 3, 1);
	ev(&b, SHMT_CALL_FORK, 100, 10, 101);
	shmget_ev(&b, 101, 20, 7, 0x1234, 4096);
	ev(&b, SHMT_CALL_EXIT, 101, 30, 0);
	struct shmt_event *w = ev(&b, SHMT_CALL_WAIT, 100, 40, 101);
	w->args[SHMT_ARG_WAIT_PID] = 101;
	ev(&b, SHMT_CALL_FORK, 100, 50, 101);
	start(&b, 101, 100, 60);
	shmget_ev(&b, 101, 70, 8, 0x5678, 4096);
	ev(&b, SHMT_CALL_FORK, 100, 80, 100);	/* itself: corrupt */
	ev(&b, SHMT_CALL_EXIT, 101, 90, 0);
	ev(&b, SHMT_CALL_EXIT, 100, 95, 0);
	build(&b, &t, &m, "reuse.trace");

	CHECK(m.nprocesses == 3, "pid 101 used twice: three processes, not two");
	struct process *first = m.nprocesses == 3 ? m.processes[1] : NULL;
	struct process *second = model_process(&m, 101);
	CHECK(first && second && first != second && first->pid == 101 &&
	      first->ppid == 100 && second->ppid == 100,
	      "each 101 is a child of 100");
	CHECK(m.nsegments == 3 && m.segments[1]->creator.pid == 101 &&
	      m.segments[2]->creator.pid == 101 && m.segments[1]->natt == 0,
	      "each 101 created one SysV segment");
	struct process *master = model_process(&m, 100);
	CHECK(master && master->ppid == 0 && master->nfds == 0 && master->ended,
	      "the fork of itself left 100 as it was (its descriptor held until exit)");
	CHECK(first && second && first->end_ns == 30000 && second->end_ns == 90000,
	      "the first ended at its exit, the second at its own");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

int main(void)
{
	modelgen_init();
	test_fork_order_and_pending();
	test_partial_munmap();
	test_killed_child();
	test_posix();
	test_exec_and_mremap();
	test_pid_reuse();
	CHECK(modelgen_done() == 0, "cleaned up");
	return check_exit();
}
