/*
 * test-clean.c - clean's verdicts (core/clean.c): each verdict and each
 * reason, for SysV against a hand-made kernel view and for POSIX against
 * a hand-made lstat result; the trace's window; clean_stat_posix() on a
 * real /dev/shm object.
 */
#define TB_CAP 64u
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "clean.h"
#include "modelgen.h"
#include "tracegen.h"

#define S 1000000000LL      /* ns in a second */
#define T0 (1700000000 * S) /* when the trace began */

static const struct clean_window win = { T0 - 50000000, T0 + 10 * S };

static bool is(struct clean_verdict v, enum clean_action action,
	       enum clean_reason why)
{
	return v.action == action && v.why == why;
}

static void test_window(void)
{
	struct trace t = { 0 };
	struct clean_window w;

	t.start_realtime_ns = (uint64_t)T0;
	t.start_ns = 5 * S;
	t.end_ns = 8 * S;
	w = clean_trace_window(&t);
	CHECK(w.lo == T0 - 50000000 && w.hi == INT64_MAX,
	      "window: from a tick before the start; no end until final");
	t.flags = SHMT_HF_FINAL;
	w = clean_trace_window(&t);
	CHECK(w.hi == T0 + 3 * S, "window: a final trace ends when it ended");
}

/* The trace (pid 100) made shmid 7, key 0x77, 4096 bytes, and left it. */
static void test_sysv(void)
{
	struct kernel_sysv ks = { .shmid = 7, .key = 0x77, .size = 4096,
				  .cpid = 100, .ctime = T0 / S + 1 };
	struct kernel_view k = { .sysv = &ks, .nsysv = 1, .sysv_ok = true };
	struct tb b;
	struct trace t;
	struct model m;

	tb_init(&b);
	start(&b, 100, 1, 1);
	shmget_ev(&b, 100, 10, 7, 0x77, 4096);
	ev(&b, SHMT_CALL_EXIT, 100, 20, 0);
	build(&b, &t, &m, "clean.trace");
	const struct segment *s = m.segments[0];

	CHECK(model_is_leak(s), "the trace leaked shmid 7");
	CHECK(is(clean_check_sysv(&m, s, &k, win), CLEAN_REMOVE, CLEAN_WHY_NONE),
	      "sysv: same id, key, creator, size, changed within the trace: "
	      "remove");
	ks.dest = true;
	CHECK(is(clean_check_sysv(&m, s, &k, win), CLEAN_GONE, CLEAN_WHY_NONE),
	      "sysv: marked for removal since: already gone");
	ks.dest = false;
	k.nsysv = 0;
	CHECK(is(clean_check_sysv(&m, s, &k, win), CLEAN_GONE, CLEAN_WHY_NONE),
	      "sysv: no such id: already gone");
	k.nsysv = 1;
	k.sysv_ok = false;
	CHECK(is(clean_check_sysv(&m, s, &k, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_SYSV_UNREADABLE),
	      "sysv: /proc/sysvipc/shm unreadable: left alone");
	k.sysv_ok = true;
	ks.key = 0x78;
	CHECK(is(clean_check_sysv(&m, s, &k, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_OTHER_KEY), "sysv: another key: left alone");
	ks.key = 0x77;
	ks.cpid = 555;
	CHECK(is(clean_check_sysv(&m, s, &k, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_OUTSIDE_CREATOR),
	      "sysv: created by a pid not in the trace: left alone");
	ks.cpid = 100;
	ks.ctime = T0 / S - 5;
	CHECK(is(clean_check_sysv(&m, s, &k, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_OLDER_ID),
	      "sysv: last changed before the trace: left alone");
	ks.ctime = T0 / S + 11;
	CHECK(is(clean_check_sysv(&m, s, &k, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_ID_CHANGED_AFTER),
	      "sysv: changed after the trace ended: left alone");
	struct clean_window open_end = { win.lo, INT64_MAX };
	CHECK(is(clean_check_sysv(&m, s, &k, open_end), CLEAN_REMOVE,
		 CLEAN_WHY_NONE),
	      "sysv: with no known end, a later change is no reason");
	ks.ctime = T0 / S + 1;
	ks.size = 8192;
	CHECK(is(clean_check_sysv(&m, s, &k, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_OTHER_SIZE), "sysv: another size: left alone");
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

static void test_posix(void)
{
	struct segment s = { .kind = SEG_POSIX, .name = "/obj", .inode = 42 };
	struct clean_posix_now now = { .regular = true, .inode = 42,
				       .ctime_ns = T0 + S };

	CHECK(is(clean_check_posix(&s, &now, win), CLEAN_REMOVE, CLEAN_WHY_NONE),
	      "posix: a regular file, same inode, changed within the trace: "
	      "remove");
	s.inode = 0;
	now.inode = 43;
	CHECK(is(clean_check_posix(&s, &now, win), CLEAN_REMOVE, CLEAN_WHY_NONE),
	      "posix: no inode seen: the times decide");
	s.inode = 42;
	CHECK(is(clean_check_posix(&s, &now, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_OTHER_INODE), "posix: another inode: left alone");
	now.inode = 42;
	now.ctime_ns = T0 - S;
	CHECK(is(clean_check_posix(&s, &now, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_OLDER_NAME),
	      "posix: last changed before the trace: left alone");
	now.ctime_ns = T0 + 11 * S;
	CHECK(is(clean_check_posix(&s, &now, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_NAME_CHANGED_AFTER),
	      "posix: changed after the trace ended: left alone");
	now.ctime_ns = T0 + S;
	now.regular = false;
	CHECK(is(clean_check_posix(&s, &now, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_NOT_REGULAR),
	      "posix: not a regular file any more: left alone");
	now = (struct clean_posix_now){ .err = ENOENT };
	CHECK(is(clean_check_posix(&s, &now, win), CLEAN_GONE, CLEAN_WHY_NONE),
	      "posix: no such name: already gone");
	now.err = EACCES;
	CHECK(is(clean_check_posix(&s, &now, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_UNEXAMINABLE),
	      "posix: cannot be examined: left alone");
	now = (struct clean_posix_now){ .name_too_long = true };
	CHECK(is(clean_check_posix(&s, &now, win), CLEAN_NOT_OURS,
		 CLEAN_WHY_NAME_TOO_LONG), "posix: name too long: left alone");
}

static void test_stat_posix(void)
{
	char name[64], longname[5000];
	struct clean_posix_now now;
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "/test-clean-%d", (int)getpid());
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	CHECK(fd >= 0 && fstat(fd, &st) == 0, "a POSIX object to examine");
	clean_stat_posix(name, &now);
	CHECK(!now.err && now.regular && now.inode == st.st_ino &&
	      now.ctime_ns == (int64_t)st.st_ctim.tv_sec * S + st.st_ctim.tv_nsec,
	      "clean_stat_posix: a regular file, its inode and change time");
	clean_stat_posix(name + 1, &now);
	CHECK(!now.err && now.inode == st.st_ino, "clean_stat_posix: NAME or /NAME");
	shm_unlink(name);
	close(fd);
	clean_stat_posix(name, &now);
	CHECK(now.err == ENOENT && !now.name_too_long,
	      "clean_stat_posix: gone: ENOENT");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	clean_stat_posix(longname, &now);
	CHECK(now.name_too_long, "clean_stat_posix: a name too long for a path");
}

static void test_reasons(void)
{
	bool all = true;

	for (int r = CLEAN_WHY_NONE + 1; r < CLEAN_REASON_COUNT; r++)
		all = all && *clean_reason_text((enum clean_reason)r);
	CHECK(all, "every reason has its text");
	CHECK_STR(clean_reason_text(CLEAN_WHY_OTHER_KEY),
		  "its id now has another key", "a reason as clean prints it");
}

int main(void)
{
	modelgen_init();
	test_window();
	test_sysv();
	test_posix();
	test_stat_posix();
	test_reasons();
	CHECK(modelgen_done() == 0, "cleaned up");
	return check_exit();
}
