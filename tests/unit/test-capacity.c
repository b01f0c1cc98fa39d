/*
 * test-capacity.c - the capacity probes and model: tmpfs mounts from
 * mountinfo text, cgroup limits, the rule for full, a traced run's peaks
 * and a death by SIGBUS set against the level of its tmpfs (core/
 * capacity.c); the one verdict per object and the metrics sums
 * (core/audit.c, core/metrics.c); the Prometheus writer (core/prom.c).
 */
#define TB_CAP 64u
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "audit.h"
#include "capacity.h"
#include "check.h"
#include "metrics.h"
#include "modelgen.h"
#include "prom.h"
#include "tmpfs.h"
#include "tracegen.h"

static const char mountinfo[] =
	"24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=123k\n"
	"25 24 0:23 / /dev/shm rw,relatime shared:5 - tmpfs tmpfs rw,size=64m\n"
	"30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=1m\n"
	"31 23 0:28 / /run/with\\040space rw master:1 shared:2 - tmpfs none rw\n"
	"32 23 8:1 / / rw - ext4 /dev/sda1 rw\n"
	"garbage line\n"
	"33 23 0:29 / /short rw - tmpfs\n";

static void test_mountinfo(void)
{
	FILE *f = fmemopen((void *)mountinfo, sizeof(mountinfo) - 1, "r");
	struct tmpfs_list l;

	CHECK(f && tmpfs_parse_mountinfo(f, &l) == 0, "mountinfo parses");
	if (f)
		fclose(f);
	CHECK(l.n == 2, "two tmpfs mount points (ext4, devtmpfs and malformed "
	      "lines skipped, /dev/shm mounted over counted once): %u", l.n);
	const struct tmpfs_fs *shm = tmpfs_find_mount(&l, "/dev/shm");
	CHECK(shm && shm->dev == makedev(0, 27),
	      "the mount on top wins (0:27, listed last)");
	CHECK(tmpfs_find_mount(&l, "/run/with space") &&
	      tmpfs_find_dev(&l, makedev(0, 28)) ==
	      tmpfs_find_mount(&l, "/run/with space"),
	      "\\040 in a mount point is a space; optional fields are skipped");
	CHECK(!tmpfs_find_mount(&l, "/short"),
	      "a line without its source and options is malformed");
}

static void test_limits(void)
{
	uint64_t v = 0;

	CHECK(cgroup_parse_limit("max\n", &v) == 0 && v == TMPFS_NO_LIMIT,
	      "v2 \"max\" is no limit");
	CHECK(cgroup_parse_limit("9223372036854771712\n", &v) == 0 &&
	      v == TMPFS_NO_LIMIT, "v1's 2^63 less a page is no limit");
	CHECK(cgroup_parse_limit("67108864\n", &v) == 0 && v == 67108864,
	      "a number is a limit in bytes");
	CHECK(cgroup_parse_limit("-1", &v) < 0 && cgroup_parse_limit("12x", &v) < 0,
	      "anything else is not a limit");
	CHECK(capacity_parse_u64("18446744073692774399\n", &v) == 0 &&
	      v == 18446744073692774399ull, "shmall's default parses");
	CHECK(capacity_sysv_pages(1, 4096) == 1 && capacity_sysv_pages(4096, 4096) == 1 &&
	      capacity_sysv_pages(4097, 4096) == 2, "SysV pages round up");
}

static void test_full_rule(void)
{
	CHECK(!capacity_is_full(0, 1 << 30, 0, 0), "no size limit is never full");
	CHECK(capacity_is_full(65536, 65536, 0, 0), "every byte used is full");
	CHECK(capacity_is_full(65536, 65536 - 4095, 0, 0),
	      "less than a page left is full: the next page faults");
	CHECK(!capacity_is_full(65536, 65536 - 4096, 0, 0), "a page left is not");
	CHECK(capacity_is_full(65536, 0, 10, 10), "every inode taken is full");
	CHECK(capacity_percent(1, 3) == 33 && capacity_percent(5, 5) == 100 &&
	      capacity_percent(9, 0) == 0, "percent rounds down; 0 of no limit");
}

/* --- a run: tmpfs records, a SIGBUS death ---------------------------------- */

static struct shmt_event *tmpfs_rec(struct tb *b, uint64_t us, const char *mount,
				    uint64_t dev, uint64_t size, uint64_t used,
				    uint64_t peak, int32_t pid)
{
	struct shmt_event *e = ev(b, SHMT_CALL_TMPFS, 1, us, 7);

	e->args[SHMT_ARG_TMPFS_DEV] = dev;
	e->args[SHMT_ARG_TMPFS_SIZE] = size;
	e->args[SHMT_ARG_TMPFS_USED] = used;
	e->args[SHMT_ARG_TMPFS_PEAK] = peak;
	e->args[SHMT_ARG_TMPFS_PID] = (uint64_t)pid;
	tb_str(b, e, mount, strlen(mount));
	return e;
}

/* pid 100 maps POSIX object /big and dies of SIGBUS; the launcher (pid 1)
 * reaps it and samples /dev/shm full at that moment, then /dev/shm has
 * room again at the end (the object was removed). */
static void test_sigbus_run(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	struct run_capacity rc;

	tb_init(&b);
	b.h->flags |= SHMT_HF_LAUNCHER;
	b.h->creator_pid = 1;
	start(&b, 100, 1, 1);
	posix_open(&b, 100, 10, "/big", 3, 1);
	uint64_t made = b.h->head;
	struct shmt_event *e = ev(&b, SHMT_CALL_MMAP, 100, 20, 0x40000);
	e->args[SHMT_ARG_MMAP_LENGTH] = 1 << 20;
	e->args[SHMT_ARG_MMAP_PROT] = PROT_READ | PROT_WRITE;
	e->args[SHMT_ARG_MMAP_FLAGS] = MAP_SHARED;
	e->obj = SHMT_OBJ_POSIX;
	e->args[SHMT_ARG_MMAP_ORIGIN] = made;
	e = ev(&b, SHMT_CALL_WAIT, 1, 30, 100);
	e->args[SHMT_ARG_WAIT_PID] = 100;
	e->args[SHMT_ARG_WAIT_STATUS] = SIGBUS;     /* WIFSIGNALED */
	e->args[SHMT_ARG_WAIT_VARIANT] = SHMT_WAIT_REAPER;
	tmpfs_rec(&b, 31, "/dev/shm", 27, 1 << 20, 1 << 20, 1 << 20, 100);
	tmpfs_rec(&b, 32, "/other", 28, 1 << 20, 0, 0, 100);
	tmpfs_rec(&b, 40, "/dev/shm", 27, 1 << 20, 8192, 1 << 20, 0);
	tmpfs_rec(&b, 41, "/other", 28, 1 << 20, 0, 0, 0);
	CHECK(build(&b, &t, &m, "sigbus.trace") == 0, "the SIGBUS trace builds");
	run_capacity_build(&rc, &t, &m);
	CHECK(rc.recorded && rc.samples == 7 && rc.nfs == 2 && rc.ndeaths == 2,
	      "the launcher's records: two mounts, two samples at the death, "
	      "7 samples in all");
	CHECK(rc.nfs == 2 && rc.fs[0].shown && !rc.fs[1].shown &&
	      rc.fs[0].peak == 1 << 20 && rc.fs[0].end == 8192,
	      "/dev/shm is shown (it holds the run's POSIX object), with its "
	      "peak and its end; an idle tmpfs is not");
	CHECK(rc.nsigbus == 1, "one process died of SIGBUS");
	if (rc.nsigbus == 1) {
		const struct sigbus_death *d = &rc.sigbus[0];

		CHECK(d->proc->pid == 100 && d->nmaps == 1 &&
		      d->maps[0].seg->kind == SEG_POSIX && d->maps[0].fs == 0 &&
		      d->maps[0].length == 1 << 20,
		      "its mapping then: the POSIX object, on /dev/shm");
		CHECK(d->sampled && d->by_launcher && d->full_fs == 0 &&
		      d->full_used == 1 << 20,
		      "/dev/shm was full at the reap's sample, not only at the "
		      "peak; the launcher reaped it");
	}
	run_capacity_free(&rc);
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* The same death with /dev/shm far from full: not the tmpfs. */
static void test_sigbus_not_full(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	struct run_capacity rc;

	tb_init(&b);
	start(&b, 100, 1, 1);
	posix_open(&b, 100, 10, "/small", 3, 1);
	uint64_t made = b.h->head;
	struct shmt_event *e = ev(&b, SHMT_CALL_MMAP, 100, 20, 0x40000);
	e->args[SHMT_ARG_MMAP_LENGTH] = 8192;
	e->args[SHMT_ARG_MMAP_FLAGS] = MAP_SHARED;
	e->obj = SHMT_OBJ_POSIX;
	e->args[SHMT_ARG_MMAP_ORIGIN] = made;
	e = ev(&b, SHMT_CALL_WAIT, 1, 30, 100);
	e->args[SHMT_ARG_WAIT_PID] = 100;
	e->args[SHMT_ARG_WAIT_STATUS] = SIGBUS;
	e->args[SHMT_ARG_WAIT_VARIANT] = SHMT_WAIT_REAPER;
	tmpfs_rec(&b, 31, "/dev/shm", 27, 1 << 20, 4096, 4096, 100);
	tmpfs_rec(&b, 40, "/dev/shm", 27, 1 << 20, 4096, 4096, 0);
	CHECK(build(&b, &t, &m, "sigbus2.trace") == 0, "the second trace builds");
	run_capacity_build(&rc, &t, &m);
	CHECK(rc.nsigbus == 1 && rc.sigbus[0].nmaps == 1 &&
	      rc.sigbus[0].sampled && rc.sigbus[0].full_fs == -1,
	      "SIGBUS with /dev/shm nearly empty: no full tmpfs is blamed");
	run_capacity_free(&rc);
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

/* Two files found by inode in one walk; one inode that is not there. */
static void test_find_inodes(void)
{
	char dir[300], a[320], b[320];
	struct stat sa, sb, sd;
	uint64_t inodes[3];
	char *paths[3] = { NULL, NULL, NULL };

	snprintf(dir, sizeof(dir), "%s/walk", modelgen_dir);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/sub/b", dir);
	mkdir(dir, 0700);
	snprintf(b, sizeof(b), "%s/sub", dir);
	mkdir(b, 0700);
	snprintf(b, sizeof(b), "%s/sub/b", dir);
	fclose(fopen(a, "w"));
	fclose(fopen(b, "w"));
	stat(a, &sa);
	stat(b, &sb);
	stat(dir, &sd);
	inodes[0] = sa.st_ino < sb.st_ino ? sa.st_ino : sb.st_ino;
	inodes[1] = sa.st_ino < sb.st_ino ? sb.st_ino : sa.st_ino;
	inodes[2] = inodes[1] + 1000000;	/* sorted, and nowhere */
	capacity_find_inodes(dir, sd.st_dev, inodes, 3, 1000, paths);
	CHECK(paths[0] && paths[1] && !paths[2] &&
	      !strcmp(paths[sa.st_ino < sb.st_ino ? 0 : 1], a) &&
	      !strcmp(paths[sa.st_ino < sb.st_ino ? 1 : 0], b),
	      "one walk finds each file by inode, in subdirectories too; an "
	      "inode that is not there stays NULL");
	for (int i = 0; i < 3; i++)
		free(paths[i]);
}

/* --- verdicts and metrics ---------------------------------------------------- */

static void test_verdicts(void)
{
	struct audit_obj o = { 0 };

	o.flags = AUDIT_ORPHANED | AUDIT_STALE;
	CHECK(audit_verdict(&o) == AUDIT_VERDICT_ORPHANED,
	      "orphaned and stale: orphaned (the creator is gone)");
	o.flags = AUDIT_STALE | AUDIT_UNSEEN;
	CHECK(audit_verdict(&o) == AUDIT_VERDICT_STALE, "stale alone: stale");
	o.flags = AUDIT_PENDING | AUDIT_STALE;
	CHECK(audit_verdict(&o) == AUDIT_VERDICT_PENDING, "pending first");
	o.flags = AUDIT_UNSEEN;
	CHECK(audit_verdict(&o) == AUDIT_VERDICT_OK, "unseen is not a leak: ok");
	CHECK_STR(audit_verdict_name(AUDIT_VERDICT_STALE), "stale", "verdict names");
	CHECK_STR(audit_kind_name(AUDIT_KIND_SEM), "sem", "kind names");
}

static void test_metrics(void)
{
	static struct kernel_sysv sysv[] = {
		{ .shmid = 1, .size = 1000, .cpid = 99, .uid = 0 },       /* orphaned */
		{ .shmid = 2, .size = 2000, .cpid = 99, .uid = 1000, .nattch = 1,
		  .dest = true },                                      /* pending */
	};
	static struct kernel_posix posix[] = {
		{ .name = "/a", .size = 4096, .inode = 5, .uid = 1000,
		  .mtime_ns = 1700000000LL * 1000000000 },             /* orphaned */
		{ .name = "/sem.x", .size = 32, .inode = 6, .uid = 1000,
		  .mtime_ns = 1700000000LL * 1000000000, .semaphore = true },
	};
	struct kernel_view k = { sysv, 2, true, posix, 2, true };
	struct kernel_scan scan = { 0 };
	struct audit a = { .now = 1700000010, .stale_after = 3600, .uid = 0 };
	struct capacity_now c = { .shm = -1 };
	struct metrics mt = { 0 };

	audit_build(&a, &k, &scan);
	metrics_build(&mt, &a, &c);
	CHECK(mt.cells[AUDIT_KIND_SYSV][AUDIT_VERDICT_ORPHANED].bytes == 1000 &&
	      mt.cells[AUDIT_KIND_SYSV][AUDIT_VERDICT_PENDING].objects == 1 &&
	      mt.cells[AUDIT_KIND_POSIX][AUDIT_VERDICT_ORPHANED].bytes == 4096 &&
	      mt.cells[AUDIT_KIND_SEM][AUDIT_VERDICT_ORPHANED].objects == 1 &&
	      mt.cells[AUDIT_KIND_SYSV][AUDIT_VERDICT_OK].objects == 0,
	      "bytes and objects by kind and the audit's verdict");
	CHECK(mt.nowners == 4 && mt.owners[0].uid == 0 &&
	      mt.owners[0].cell.bytes == 1000 && mt.owners[1].uid == 1000 &&
	      mt.owners[1].kind == AUDIT_KIND_SYSV && mt.owners[2].kind == AUDIT_KIND_POSIX &&
	      mt.owners[2].cell.bytes == 4096,
	      "owners by uid, then kind");
	metrics_free(&mt);
	audit_free(&a);
}

static char *prom_of(const char *value)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	prom_label_value(f, value);
	fclose(f);
	return buf;
}

static void test_prom(void)
{
	char *s = prom_of("a\"b\\c\nd\x01" "e\xff" "f\xc3\xa9");
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	CHECK_STR(s, "a\\\"b\\\\c\\nd\\\\x01e\\\\xfff\xc3\xa9",
		  "label values: quote, backslash, newline escaped; a control "
		  "byte and a byte that is not UTF-8 as the text \\xNN; UTF-8 kept");
	free(s);
	f = open_memstream(&buf, &n);
	const char *labels[] = { "kind", "sysv", "verdict", "ok", NULL };
	prom_family(f, "shmtrace_bytes", "Bytes.");
	prom_sample_u64(f, "shmtrace_bytes", labels, 18446744073692774399ull);
	prom_sample(f, "x_seconds", NULL, 0.25);
	fclose(f);
	CHECK_STR(buf, "# HELP shmtrace_bytes Bytes.\n# TYPE shmtrace_bytes gauge\n"
		  "shmtrace_bytes{kind=\"sysv\",verdict=\"ok\"} 18446744073692774399\n"
		  "x_seconds 0.25\n",
		  "a family, a sample with labels (integers exact), one without");
	free(buf);
}

int main(void)
{
	modelgen_init();
	test_mountinfo();
	test_limits();
	test_full_rule();
	test_sigbus_run();
	test_sigbus_not_full();
	test_find_inodes();
	test_verdicts();
	test_metrics();
	test_prom();
	CHECK(modelgen_done() == 0, "the test's files are gone");
	return check_exit();
}
