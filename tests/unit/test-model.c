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

/* An object record after event `of` (its seq) of pid: (dev, ino), size,
 * the path its descriptor links to. */
static void object_rec(struct tb *b, int32_t pid, uint64_t us, uint64_t of,
		       uint32_t kind, uint64_t ino, uint64_t size, const char *path)
{
	struct shmt_event *e = ev(b, SHMT_CALL_OBJECT, pid, us, 0);
	e->obj = kind;
	e->args[SHMT_ARG_OBJECT_DEV] = 1;
	e->args[SHMT_ARG_OBJECT_INODE] = ino;
	e->args[SHMT_ARG_OBJECT_SIZE] = size;
	e->args[SHMT_ARG_OBJECT_OF] = of + 1;
	if (path)
		tb_str(b, e, path, strlen(path));
}

static struct shmt_event *fd_mmap(struct tb *b, int32_t pid, uint64_t us,
				  uint64_t addr, uint64_t len, uint32_t obj)
{
	struct shmt_event *e = ev(b, SHMT_CALL_MMAP, pid, us, (int64_t)addr);
	e->obj = obj;
	e->args[SHMT_ARG_MMAP_LENGTH] = len;
	e->args[SHMT_ARG_MMAP_PROT] = PROT_READ | PROT_WRITE;
	e->args[SHMT_ARG_MMAP_FLAGS] = MAP_SHARED;
	e->args[SHMT_ARG_MMAP_FD] = 5;
	return e;
}

/* One object, many routes: a memfd passed over a socket and mapped by
 * the receiver; a POSIX object mapped through a descriptor opened by path
 * (joined by name); one file mapped 3 times (one segment, ended); a
 * semaphore opened twice by inode; a mapping seen in /proc only. */
static void test_identity(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	tb_init(&b);
	start(&b, 100, 1, 1);
	start(&b, 101, 100, 2);
	struct shmt_event *e = ev(&b, SHMT_CALL_MEMFD_CREATE, 100, 10, 5);
	tb_str(&b, e, "pool", 4);
	object_rec(&b, 100, 11, last_seq(&b), SHMT_OBJ_MEMFD, 77, 0, NULL);
	e = ev(&b, SHMT_CALL_FD_SEND, 100, 12, 1);
	object_rec(&b, 100, 13, last_seq(&b), SHMT_OBJ_MEMFD, 77, 4096, "/memfd:pool (deleted)");
	ev(&b, SHMT_CALL_FD_RECV, 101, 14, 1);
	object_rec(&b, 101, 15, last_seq(&b), SHMT_OBJ_MEMFD, 77, 4096, "/memfd:pool (deleted)");
	fd_mmap(&b, 101, 16, 0x20000, 4096, SHMT_OBJ_FILE);
	object_rec(&b, 101, 17, last_seq(&b), SHMT_OBJ_MEMFD, 77, 4096, "");
	posix_open(&b, 100, 20, "/obj", 6, SHMT_EVF_CREATED);
	fd_mmap(&b, 101, 21, 0x30000, 8192, SHMT_OBJ_FILE);
	object_rec(&b, 101, 22, last_seq(&b), SHMT_OBJ_POSIX, 88, 8192, "/dev/shm/obj");
	for (int i = 0; i < 3; i++) {
		fd_mmap(&b, 101, 30 + 3 * (uint64_t)i, 0x40000, 4096, SHMT_OBJ_FILE);
		object_rec(&b, 101, 31 + 3 * (uint64_t)i, last_seq(&b), SHMT_OBJ_FILE, 99, 13,
			   i ? "" : "/srv/index.html");
		e = ev(&b, SHMT_CALL_MUNMAP, 101, 32 + 3 * (uint64_t)i, 0);
		e->args[SHMT_ARG_MUNMAP_ADDR] = 0x40000;
		e->args[SHMT_ARG_MUNMAP_LENGTH] = 4096;
	}
	for (int32_t pid = 100; pid <= 101; pid++) {
		e = ev(&b, SHMT_CALL_SEM_OPEN, pid, 50 + (uint64_t)pid - 100, 0x50000);
		e->flags = pid == 100 ? SHMT_EVF_CREATED : 0;
		tb_str(&b, e, "/s", 2);
		object_rec(&b, pid, 52, last_seq(&b), SHMT_OBJ_SEM, 66, 32, "/dev/shm/sem.s");
	}
	e = ev(&b, SHMT_CALL_PROC_SEEN, 101, 60, 0);
	e->args[SHMT_ARG_PROC_SEEN_ADDR] = 0x60000;
	e->args[SHMT_ARG_PROC_SEEN_LENGTH] = 8192;
	e->args[SHMT_ARG_PROC_SEEN_DEV] = 1;
	e->args[SHMT_ARG_PROC_SEEN_INODE] = 55;
	tb_str(&b, e, "/usr/lib/gconv.cache", 20);
	e = ev(&b, SHMT_CALL_PROC_SEEN, 101, 61, 0);	/* explained: no new one */
	e->args[SHMT_ARG_PROC_SEEN_ADDR] = 0x20000;
	e->args[SHMT_ARG_PROC_SEEN_LENGTH] = 4096;
	e->args[SHMT_ARG_PROC_SEEN_DEV] = 1;
	e->args[SHMT_ARG_PROC_SEEN_INODE] = 77;
	build_with(&b, &t, &m, "identity.trace", NULL);

	CHECK(m.nsegments == 5, "5 objects, 5 segments (%zu)", m.nsegments);
	struct segment *pool = m.segments[0], *obj = m.segments[1], *file = m.segments[2];
	struct segment *sem = m.segments[3], *seen = m.nsegments > 4 ? m.segments[4] : NULL;
	CHECK(pool->kind == SEG_MEMFD && pool->inode == 77 && pool->dev == 1 &&
	      pool->natt == 1 && pool->att[0]->proc->pid == 101 &&
	      pool->att[0]->received_from == 100 && pool->nxfers == 1 &&
	      pool->xfers[0].from == 100 && pool->xfers[0].to == 101,
	      "memfd: the receiver's mapping joins it, received from the sender");
	CHECK(obj->kind == SEG_POSIX && obj->natt == 1 && obj->inode == 88 &&
	      obj->created, "posix: a mapping by path joins by name and gives its inode");
	CHECK(file->kind == SEG_FILE && file->natt == 3 && file->name &&
	      strcmp(file->name, "/srv/index.html") == 0 && file->size == 13 &&
	      file->state == SEG_ENDED && !model_is_leak(file),
	      "file: three mappings, one segment with path and size, ended, no leak");
	CHECK(sem->kind == SEG_SEM && sem->natt == 2 && sem->created &&
	      sem->state == SEG_LEAKED && model_is_leak(sem),
	      "semaphore: opened twice, one segment; never unlinked: leaked");
	CHECK(seen && seen->kind == SEG_FILE && seen->natt == 1 && seen->att[0]->proc_only &&
	      (seen->notes & SEG_NOTE_SEEN_IN_PROC),
	      "a mapping seen in /proc only, and one the trace explains ignored");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* The launcher reads /proc/PID/maps over a span (the event's time and
 * duration): a traced mapping unmapped while it read still explains what
 * it saw; one that was gone before it began to read does not. */
static void test_proc_seen_window(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	tb_init(&b);
	start(&b, 100, 1, 1);
	anon_mmap(&b, 100, 10, 0x70000, 4096);
	struct shmt_event *e = ev(&b, SHMT_CALL_MUNMAP, 100, 12, 0);
	e->args[SHMT_ARG_MUNMAP_ADDR] = 0x70000;
	e->args[SHMT_ARG_MUNMAP_LENGTH] = 4096;
	for (int late = 0; late < 2; late++) {
		/* read from +11us (+13us) for 5 us: the munmap at +12 falls in
		 * the first read, before the second */
		e = ev(&b, SHMT_CALL_PROC_SEEN, 100, late ? 13 : 11, 0);
		e->duration_ns = 5000;
		e->args[SHMT_ARG_PROC_SEEN_ADDR] = 0x70000;
		e->args[SHMT_ARG_PROC_SEEN_LENGTH] = 4096;
		e->args[SHMT_ARG_PROC_SEEN_PROT] = PROT_READ | PROT_WRITE;
		e->args[SHMT_ARG_PROC_SEEN_DEV] = 1;
		e->args[SHMT_ARG_PROC_SEEN_INODE] = 4242 + (uint64_t)late;
		tb_str(&b, e, "/dev/zero (deleted)", 19);
	}
	build_with(&b, &t, &m, "procwindow.trace", NULL);
	CHECK(m.nsegments == 2 && m.segments[0]->kind == SEG_ANON &&
	      m.segments[1]->natt == 1 && m.segments[1]->att[0]->proc_only,
	      "a /proc sighting during the read of a mapping unmapped meanwhile is "
	      "explained; one after it is seen in /proc only (%zu segments)",
	      m.nsegments);
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
	test_identity();
	test_proc_seen_window();
	CHECK(modelgen_done() == 0, "cleaned up");
	return check_exit();
}
