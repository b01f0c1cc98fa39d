/*
 * test-audit.c - the audit builder (core/audit.c) on a hand-made kernel
 * view: the flags orphaned, stale, pending and unseen, who is who
 * (alive, gone, a reused pid), objects unlinked but still mapped, the
 * order, the totals, and --trace matching an object to the trace's
 * segment.
 */
#define TB_CAP 64u
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/shm.h>

#include "audit.h"
#include "check.h"
#include "kernel.h"
#include "modelgen.h"
#include "tracegen.h"

#define NOW 1700000000
#define HOUR 3600

/* Processes 10 (alive since long ago), 20 (started late: any pid of an
 * older object it carries is reused), 30 (its maps unreadable). */
static struct kernel_proc procs[] = {
	{ .pid = 10, .state = 'S', .comm = "server", .start_time = NOW - 10 * HOUR,
	  .maps_read = true },
	{ .pid = 20, .state = 'S', .comm = "late", .start_time = NOW - 60,
	  .maps_read = true },
	{ .pid = 30, .state = 'S', .comm = "other", .start_time = NOW - HOUR,
	  .maps_errno = EACCES },
};

/* SysV (by shmid): 1 orphaned and stale, 2 pending, 3 unseen, 4 in use,
 * 5 orphaned (its creator's pid reused), recent.  POSIX: /old orphaned
 * and stale, /held held open, and one unlinked (inode 77) still mapped. */
static struct kernel_sysv sysv[] = {
	{ .shmid = 1, .key = 0x11, .size = 1000, .cpid = 99, .lpid = 99,
	  .ctime = NOW - 5 * HOUR, .atime = NOW - 4 * HOUR, .dtime = NOW - 3 * HOUR },
	{ .shmid = 2, .key = 0, .size = 2000, .cpid = 10, .nattch = 1, .dest = true,
	  .ctime = NOW - 2 * HOUR },
	{ .shmid = 3, .key = 0x33, .size = 3000, .cpid = 10, .nattch = 2,
	  .ctime = NOW - 2 * HOUR, .atime = NOW - 2 * HOUR },
	{ .shmid = 4, .key = 0x44, .size = 4000, .cpid = 10, .nattch = 1,
	  .ctime = NOW - 2 * HOUR, .atime = NOW - 2 * HOUR },
	{ .shmid = 5, .key = 0x55, .size = 500, .cpid = 20, .ctime = NOW - HOUR,
	  .atime = NOW - 600 },
};

static struct kernel_posix posix[] = {
	{ .name = "/old", .size = 8000, .inode = 70, .mtime_ns = (NOW - 2 * HOUR) * 1000000000LL },
	{ .name = "/held", .size = 6000, .inode = 71, .mtime_ns = (NOW - 2 * HOUR) * 1000000000LL },
};

/* sorted by kind, inode, pid, addr */
static struct kernel_mapper maps[] = {
	{ .pid = 10, .kind = KMAP_SYSV, .inode = 2, .key = 0x22, .addr = 0x1000,
	  .length = 2000 },
	{ .pid = 10, .kind = KMAP_SYSV, .inode = 3, .key = 0x33, .addr = 0x2000,
	  .length = 3000 },
	{ .pid = 10, .kind = KMAP_SYSV, .inode = 4, .key = 0x44, .addr = 0x3000,
	  .length = 4000, .readonly = true },
	{ .pid = 10, .kind = KMAP_POSIX, .inode = 77, .addr = 0x4000,
	  .length = 4096, .deleted = true, .name = "/gone" },
	{ .pid = 20, .kind = KMAP_POSIX, .inode = 77, .addr = 0x5000,
	  .length = 8192, .deleted = true, .name = "/gone" },
};

static struct kernel_holder fds[] = {
	{ .pid = 20, .fd = 5, .inode = 71 },
};

static void view(struct kernel_view *k, struct kernel_scan *scan)
{
	*k = (struct kernel_view){ sysv, 5, true, posix, 2, true };
	*scan = (struct kernel_scan){ procs, 3, maps, 5, fds, 1, 1, 0, { 0 }, 0 };
}

static const struct audit_obj *find_sysv(const struct audit *a, int32_t shmid)
{
	for (size_t i = 0; i < a->nobjs; i++)
		if (a->objs[i].family == AUDIT_SYSV &&
		    a->objs[i].sysv->shmid == shmid)
			return &a->objs[i];
	return NULL;
}

static const struct audit_obj *find_posix(const struct audit *a,
					  const char *name)
{
	for (size_t i = 0; i < a->nobjs; i++)
		if (a->objs[i].family == AUDIT_POSIX &&
		    !strcmp(a->objs[i].posix->name, name))
			return &a->objs[i];
	return NULL;
}

static void built(struct audit *a, struct kernel_view *k,
		  struct kernel_scan *scan)
{
	view(k, scan);
	*a = (struct audit){ .now = NOW, .stale_after = HOUR, .uid = 1000 };
	audit_build(a, k, scan);
}

static void test_sysv_flags(void)
{
	struct kernel_view k;
	struct kernel_scan scan;
	struct audit a;

	built(&a, &k, &scan);
	const struct audit_obj *o1 = find_sysv(&a, 1), *o2 = find_sysv(&a, 2),
		*o3 = find_sysv(&a, 3), *o4 = find_sysv(&a, 4),
		*o5 = find_sysv(&a, 5);
	CHECK(o1 && o2 && o3 && o4 && o5, "every SysV segment is an object");
	if (!(o1 && o2 && o3 && o4 && o5))
		return;
	CHECK(o1->flags == (AUDIT_ORPHANED | AUDIT_STALE) && o1->waste == 1000 &&
	      !o1->creator.alive && !o1->creator.comm &&
	      o1->last_used == NOW - 3 * HOUR,
	      "orphaned and stale: nothing attached, creator gone, unused for "
	      "longer than --stale (its last detach)");
	CHECK(o2->flags == AUDIT_PENDING && o2->waste == 2000 &&
	      o2->key == 0x22 && o2->nmappers == 1 && o2->complete,
	      "pending: marked for removal, still attached; its key from the "
	      "mapping (the kernel shows IPC_PRIVATE)");
	CHECK(o3->flags == AUDIT_UNSEEN && o3->unseen == 1 && !o3->complete &&
	      o3->waste == 0,
	      "unseen: the kernel counts an attach no maps show; not a leak");
	CHECK(o4->flags == 0 && o4->creator.alive &&
	      !strcmp(o4->creator.comm, "server") && o4->nmappers == 1 &&
	      o4->mappers[0].readonly && !strcmp(o4->mappers[0].comm, "server"),
	      "in use: no flag; its creator alive, its mapper named");
	CHECK(o5->flags == AUDIT_ORPHANED && o5->creator.reused &&
	      !o5->creator.alive,
	      "orphaned: the creator's pid now belongs to a later process; "
	      "used recently: not stale");
	audit_free(&a);
}

static void test_posix_flags(void)
{
	struct kernel_view k;
	struct kernel_scan scan;
	struct audit a;

	built(&a, &k, &scan);
	const struct audit_obj *old = find_posix(&a, "/old"),
		*held = find_posix(&a, "/held"), *gone = find_posix(&a, "/gone");
	CHECK(old && old->flags == (AUDIT_ORPHANED | AUDIT_STALE) &&
	      old->waste == 8000 && !old->complete,
	      "POSIX orphaned and stale: nobody maps or holds it, modified "
	      "long ago (incomplete: a process could not be inspected)");
	CHECK(held && held->flags == 0 && held->nholders == 1 &&
	      held->holders[0].pid == 20 && held->holders[0].fd == 5,
	      "POSIX held open by a descriptor: no flag");
	CHECK(gone && gone->unlinked && gone->flags == AUDIT_PENDING &&
	      gone->size == 8192 && gone->nmappers == 2,
	      "unlinked but still mapped: pending, sized by its largest mapping");
	CHECK(a.nunreadable == 1 && a.unreadable[0]->pid == 30,
	      "the process whose maps could not be read is listed");
	audit_free(&a);
}

static void test_order_and_totals(void)
{
	struct kernel_view k;
	struct kernel_scan scan;
	struct audit a;
	bool sorted = true;

	built(&a, &k, &scan);
	CHECK(a.nobjs == 8, "5 SysV, 2 POSIX, 1 unlinked: 8 objects");
	for (size_t i = 1; i < a.nobjs; i++) {
		const struct audit_obj *p = &a.objs[i - 1], *o = &a.objs[i];
		bool pl = p->flags & AUDIT_LEAK_FLAGS, ol = o->flags & AUDIT_LEAK_FLAGS;

		if ((!pl && ol) || (pl == ol && p->waste < o->waste))
			sorted = false;
	}
	CHECK(sorted && a.objs[0].posix && !strcmp(a.objs[0].posix->name, "/gone") &&
	      a.objs[1].posix && !strcmp(a.objs[1].posix->name, "/old"),
	      "likely leaks first, biggest waste first");
	CHECK(a.objs[5].family == AUDIT_POSIX &&
	      !strcmp(a.objs[5].posix->name, "/held") &&
	      a.objs[6].family == AUDIT_SYSV && a.objs[6].sysv->shmid == 4 &&
	      a.objs[7].family == AUDIT_SYSV && a.objs[7].sysv->shmid == 3,
	      "then the rest, biggest first");
	const struct audit_totals *t = &a.totals;
	CHECK(t->sysv == 5 && t->posix == 3 && t->semaphores == 0 &&
	      t->bytes == 1000 + 2000 + 3000 + 4000 + 500 + 8000 + 6000 + 8192,
	      "totals: objects by family, bytes");
	CHECK(t->leaks == 5 && t->waste == 1000 + 2000 + 500 + 8000 + 8192 &&
	      t->orphaned == 3 && t->stale == 2 && t->pending == 2 &&
	      t->unseen == 1,
	      "totals: likely leaks, their waste, each flag");
	audit_free(&a);
}

/* --trace: the trace created shmid 1 with key 0x11 and shmid 4 with
 * another key than the kernel's now: only the first is the trace's. */
static void test_trace_matching(void)
{
	struct kernel_view k;
	struct kernel_scan scan;
	struct audit a;
	struct tb b;
	struct trace t;
	struct model m;

	tb_init(&b);
	start(&b, 99, 1, 1);
	shmget_ev(&b, 99, 10, 1, 0x11, 1000);
	shmget_ev(&b, 99, 20, 4, 0x99, 4000);
	ev(&b, SHMT_CALL_EXIT, 99, 30, 0);
	modelgen_init();
	built(&a, &k, &scan);
	build_with(&b, &t, &m, "audit.trace", &k);
	struct sym_table *st = audit_annotate(&a, &m, &t, "audit.trace");
	const struct audit_obj *o1 = find_sysv(&a, 1), *o4 = find_sysv(&a, 4);
	CHECK(o1 && o1->traced && o1->traced->seg == m.segments[0] &&
	      o1->traced->creator && o1->traced->creator->pid == 99 &&
	      o1->traced->stack.known,
	      "--trace: the object with the trace's shmid and key is its, with "
	      "its creator and creation stack");
	CHECK(o4 && !o4->traced, "--trace: same shmid, another key: not its");
	CHECK(a.model == &m && !strcmp(a.trace_path, "audit.trace"),
	      "--trace: the audit names the trace");
	audit_free(&a);
	sym_free(st);
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
	CHECK(modelgen_done() == 0, "cleaned up");
}

/* The flag names JSON consumers read: part of the output's contract. */
static void test_flag_names(void)
{
	CHECK(!strcmp(audit_flag_name(AUDIT_ORPHANED), "orphaned") &&
	      !strcmp(audit_flag_name(AUDIT_STALE), "stale") &&
	      !strcmp(audit_flag_name(AUDIT_PENDING), "pending") &&
	      !strcmp(audit_flag_name(AUDIT_UNSEEN), "unseen"),
	      "each flag bit has its JSON name");
	CHECK(!strcmp(audit_flag_name(0x100u), "?"), "an unknown bit is \"?\"");
}

int main(void)
{
	test_flag_names();
	test_sysv_flags();
	test_posix_flags();
	test_order_and_totals();
	test_trace_matching();
	return check_exit();
}
