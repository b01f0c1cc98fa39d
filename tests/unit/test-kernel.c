/*
 * test-kernel.c - the kernel's view: /proc/sysvipc/shm text (fixtures:
 * signed keys, octal perms with SHM_DEST, extra columns, malformed and
 * hostile lines), a /dev/shm-like directory (objects, semaphores, and the
 * symlinks and directories that are not objects), and whether a process
 * is alive (running, zombie, gone).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "kernel.h"

#define HEADER "       key      shmid perms                  size  cpid  lpid " \
	"nattch   uid   gid  cuid  cgid      atime      dtime      ctime " \
	"                  rss                  swap\n"

static int parse(const char *text, struct kernel_view *k)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	memset(k, 0, sizeof(*k));
	if (!f)
		return -1;
	rc = kernel_parse_sysv(f, k);
	fclose(f);
	return rc;
}

static void test_sysv_lines(void)
{
	struct kernel_view k;
	const struct kernel_sysv *s;
	const char *text = HEADER
		"1392559386 1047035910   666                  4096 19783 19784"
		"      0     0     0     0     0 1795455161 1795455162 1795455163"
		"                  4096                     0\n"
		"         0         32  1600               1048576   100   101"
		"      3  1000  1000  1000  1000          0          0 1700000000"
		"                     0                     0\n"
		"        -1          7   600           68719476736     5     5"
		"      1     0     0     0     0          0          0          0\n";

	CHECK(parse(text, &k) == 0 && k.nsysv == 3, "sysv: three segments parsed");
	s = kernel_find_shmid(&k, 1047035910);
	CHECK(s && s->key == 1392559386u && s->perms == 0666 && !s->dest &&
	      s->size == 4096 && s->cpid == 19783 && s->lpid == 19784 &&
	      s->nattch == 0 && s->ctime == 1795455163 && s->dtime == 1795455162,
	      "sysv: fields of a plain segment (perms read as octal)");
	s = kernel_find_shmid(&k, 32);
	CHECK(s && s->key == 0 && s->perms == 01600 && s->dest &&
	      s->nattch == 3 && s->uid == 1000 && s->cuid == 1000,
	      "sysv: perms 1600 is SHM_DEST|0600: marked for removal");
	s = kernel_find_shmid(&k, 7);
	CHECK(s && s->key == 0xffffffffu && s->size == 68719476736ull,
	      "sysv: key -1 reads 0xffffffff, a 64 GiB size fits, no rss/swap ok");
	CHECK(kernel_find_shmid(&k, 8) == NULL, "sysv: unknown shmid is NULL");
	kernel_free(&k);
	CHECK(k.sysv == NULL && k.nsysv == 0, "sysv: kernel_free empties the view");
}

static void test_sysv_bad(void)
{
	struct kernel_view k;
	const char *text = HEADER
		"1 2 666 4096 10 10 0 0 0 0 0 0 0\n"             /* 13 fields */
		"x 3 666 4096 10 10 0 0 0 0 0 0 0 0\n"           /* key */
		"1 -4 666 4096 10 10 0 0 0 0 0 0 0 0\n"          /* shmid < 0 */
		"1 5 689 4096 10 10 0 0 0 0 0 0 0 0\n"           /* not octal */
		"1 6 666 -4096 10 10 0 0 0 0 0 0 0 0\n"          /* size < 0 */
		"1 7 666 4096 99999999999 10 0 0 0 0 0 0 0 0\n"  /* pid > int */
		"1 8 666 99999999999999999999999 1 1 0 0 0 0 0 0 0 0\n"
		"4294967296 9 666 4096 1 1 0 0 0 0 0 0 0 0\n"    /* key > int */
		"1 10 666 4096 1 1 0 0 0 0 0 0 0 0\x1b[2J\n"    /* junk */
		"\n"
		"1 11 666 4096 1 1 0 0 0 0 0 0 0 0\n";          /* the good one */

	CHECK(parse(text, &k) == 0 && k.nsysv == 1 && k.sysv[0].shmid == 11,
	      "sysv: malformed and out-of-range lines are skipped, the good "
	      "one kept");
	kernel_free(&k);
	CHECK(parse("", &k) == 0 && k.nsysv == 0, "sysv: empty text, no "
	      "segment");
	kernel_free(&k);
	CHECK(parse(HEADER, &k) == 0 && k.nsysv == 0, "sysv: header alone, "
	      "no segment");
	kernel_free(&k);
}

static int make_file(const char *dir, const char *name, off_t size)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0640);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, size) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static void remove_dir(const char *dir)
{
	const char *names[] = { "obj", "sem.lock", "link", "sub", "esc\x1b" };
	char path[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) < 0)
			rmdir(path);
	}
	rmdir(dir);
}

static void test_posix_dir(void)
{
	char dir[] = "/tmp/shmtrace-test-kernel.XXXXXX", path[512];
	const struct kernel_posix *p;
	struct kernel_view k = { 0 };
	struct stat st;

	if (!mkdtemp(dir)) {
		CHECK(0, "posix: cannot make a temporary directory");
		return;
	}
	snprintf(path, sizeof(path), "%s/sub", dir);
	CHECK(make_file(dir, "obj", 8192) == 0 &&
	      make_file(dir, "sem.lock", 32) == 0 &&
	      make_file(dir, "esc\x1b", 1) == 0 &&
	      symlink("/etc/passwd", strcat(strcpy(path, dir), "/link")) == 0 &&
	      mkdir(strcat(strcpy(path, dir), "/sub"), 0700) == 0,
	      "posix: fixture directory made");
	CHECK(kernel_list_posix(dir, &k) == 0 && k.nposix == 3,
	      "posix: regular files listed, symlink and directory skipped");
	p = kernel_find_posix(&k, "/obj");
	snprintf(path, sizeof(path), "%s/obj", dir);
	CHECK(p && stat(path, &st) == 0 && p->size == 8192 &&
	      p->inode == (uint64_t)st.st_ino && p->mode == 0640 &&
	      p->uid == (uint32_t)st.st_uid && !p->semaphore &&
	      p->ctime_ns == (int64_t)st.st_ctim.tv_sec * 1000000000 +
			     st.st_ctim.tv_nsec,
	      "posix: size, inode, mode, uid and ctime of an object");
	CHECK(p && strcmp(p->name, "/obj") == 0, "posix: names read /NAME");
	CHECK(kernel_find_posix(&k, "obj") == p &&
	      kernel_find_posix(&k, "//obj") == p,
	      "posix: 'obj', '/obj' and '//obj' are one object, as for "
	      "shm_open");
	p = kernel_find_posix(&k, "/sem.lock");
	CHECK(p && p->semaphore, "posix: sem.* is flagged a semaphore");
	CHECK(kernel_find_posix(&k, "/link") == NULL &&
	      kernel_find_posix(&k, "/sub") == NULL &&
	      kernel_find_posix(&k, "/nope") == NULL,
	      "posix: no object for a symlink, a directory, a missing name");
	CHECK(kernel_find_posix(&k, "/esc\x1b") != NULL,
	      "posix: a name with a control byte is kept as it is");
	kernel_free(&k);
	remove_dir(dir);
	memset(&k, 0, sizeof(k));
	CHECK(kernel_list_posix(dir, &k) < 0 && k.nposix == 0,
	      "posix: a missing directory is an error, nothing listed");
}

static void test_pid_alive(void)
{
	siginfo_t si;
	pid_t child = fork();

	if (child == 0)
		_exit(0);
	CHECK(kernel_pid_alive(getpid()), "pid: this process is alive");
	/* Wait for the exit without reaping: a zombie. */
	CHECK(child > 0 && waitid(P_PID, (id_t)child, &si,
				  WEXITED | WNOWAIT) == 0 &&
	      !kernel_pid_alive(child), "pid: a zombie is not alive");
	waitpid(child, NULL, 0);
	CHECK(!kernel_pid_alive(child), "pid: a reaped process is not alive");
	CHECK(!kernel_pid_alive(0) && !kernel_pid_alive(-1),
	      "pid: 0 and -1 are never alive");
}

static void test_read_now(void)
{
	struct kernel_view k;

	CHECK(kernel_read(&k) == 0 && k.posix_ok, "kernel_read: reads this "
	      "machine's /dev/shm");
	CHECK(k.sysv_ok == (access("/proc/sysvipc/shm", R_OK) == 0),
	      "kernel_read: sysv_ok says whether /proc/sysvipc/shm is there");
	kernel_free(&k);
}

int main(void)
{
	test_sysv_lines();
	test_sysv_bad();
	test_posix_dir();
	test_pid_alive();
	test_read_now();
	return check_exit();
}
