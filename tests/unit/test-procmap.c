/*
 * test-procmap.c - /proc/PID/maps lines (fixtures: every kind of shared
 * mapping the kernel names, names with spaces and newlines, private and
 * malformed lines), the attach map built from maps text (one segment per
 * object across processes, sizes and states from a /proc/sysvipc/shm
 * fixture), and the same from this process's own /proc: procmap_build on
 * itself and a forked child, kernel_scan finding its mappers and holders.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "kernel.h"
#include "model.h"
#include "procmap.h"

/* --- one line at a time --------------------------------------------------- */

static int parse(const char *text, struct kernel_map *m, char *buf,
		 size_t size)
{
	snprintf(buf, size, "%s", text);
	return kernel_parse_map_line(buf, m);
}

static void test_lines(void)
{
	struct kernel_map m;
	char buf[512];

	CHECK(parse("7f217c3ba000-7f217c3bb000 r--s 00000000 00:01 416776213"
		    "                  /SYSV1234abcd (deleted)\n", &m, buf,
		    sizeof(buf)) == 0 && m.kind == KMAP_SYSV &&
	      m.key == 0x1234abcd && m.inode == 416776213 && m.deleted &&
	      m.shared && m.readable && !m.writable &&
	      m.start == 0x7f217c3ba000 && m.end == 0x7f217c3bb000 &&
	      m.dev_major == 0 && m.dev_minor == 1,
	      "maps: a read-only SysV attach: key from the name, shmid = inode");
	CHECK(parse("7f217b791000-7f217b792000 rw-s 00000000 00:1b 2019937"
		    "                    /dev/shm/tst x (deleted)", &m, buf,
		    sizeof(buf)) == 0 && m.kind == KMAP_POSIX && m.deleted &&
	      m.writable && !strcmp(m.name, "/tst x") && m.dev_minor == 0x1b,
	      "maps: an unlinked POSIX object, a space in its name");
	CHECK(parse("7f2100000000-7f2100004000 rw-s 00002000 00:1b 77 "
		    "/dev/shm/live", &m, buf, sizeof(buf)) == 0 &&
	      m.kind == KMAP_POSIX && !m.deleted && m.offset == 0x2000 &&
	      !strcmp(m.name, "/live") && !strcmp(m.path, "/dev/shm/live"),
	      "maps: a POSIX object, an offset");
	CHECK(parse("7f217b792000-7f217b793000 rw-s 00000000 00:01 6882147"
		    "                    /memfd:hello world (deleted)", &m, buf,
		    sizeof(buf)) == 0 && m.kind == KMAP_MEMFD &&
	      !strcmp(m.name, "hello world"), "maps: a memfd and its name");
	CHECK(parse("7f217c3bb000-7f217c3bc000 rw-s 00000000 00:01 6882145"
		    "                    /dev/zero (deleted)", &m, buf,
		    sizeof(buf)) == 0 && m.kind == KMAP_ANON &&
	      m.inode == 6882145, "maps: shared anonymous memory is /dev/zero "
	      "(deleted)");
	CHECK(parse("7f0000000000-7f0000001000 rw-s 00000000 00:01 5 "
		    "[anon_shmem:ring]", &m, buf, sizeof(buf)) == 0 &&
	      m.kind == KMAP_ANON && !strcmp(m.name, "ring"),
	      "maps: a prctl-named shared anonymous region");
	CHECK(parse("7f217c3e5000-7f217c3ec000 r--s 00000000 fe:00 332280"
		    "                     /usr/lib/gconv/gconv-modules.cache",
		    &m, buf, sizeof(buf)) == 0 && m.kind == KMAP_FILE &&
	      m.dev_major == 0xfe && !strcmp(m.path,
	      "/usr/lib/gconv/gconv-modules.cache"), "maps: a shared file");
	CHECK(parse("7f217bae7000-7f217bb3e000 r--p 00000000 fe:00 320475"
		    "                     /usr/lib/locale/C.utf8/LC_CTYPE", &m,
		    buf, sizeof(buf)) == 0 && m.kind == KMAP_PRIVATE &&
	      !m.shared, "maps: a private file mapping is not ours");
	CHECK(parse("7f217b599000-7f217b6cc000 rw-p 00000000 00:00 0 \n", &m,
		    buf, sizeof(buf)) == 0 && m.kind == KMAP_PRIVATE &&
	      !strcmp(m.path, ""), "maps: private anonymous memory, no path");
	CHECK(parse("7ffd1c1f5000-7ffd1c216000 rw-p 00000000 00:00 0 "
		    "                         [stack]", &m, buf, sizeof(buf)) == 0 &&
	      m.kind == KMAP_PRIVATE, "maps: [stack]");
	CHECK(parse("7f0000000000-7f0000001000 rw-s 00000000 00:1b 9 "
		    "/dev/shm/a\\012b", &m, buf, sizeof(buf)) == 0 &&
	      m.kind == KMAP_POSIX && !strcmp(m.name, "/a\nb"),
	      "maps: a newline the kernel wrote as \\012 comes back");
	CHECK(parse("7f0000000000-7f0000001000 rw-s 00000000 00:01 9 "
		    "/SYSV1234abc (deleted)", &m, buf, sizeof(buf)) == 0 &&
	      m.kind == KMAP_FILE, "maps: /SYSV with 7 hex digits is a file");
	CHECK(parse("7f0000000000-7f0000001000 rw-s 00000000 00:01 9 "
		    "/SYSV1234abcd", &m, buf, sizeof(buf)) == 0 &&
	      m.kind == KMAP_FILE, "maps: /SYSV not deleted is a file");

	static const char *const bad[] = {
		"",
		"7f00-7e00 rw-s 00000000 00:01 9 /x",       /* end < start */
		"7f00-7f10 rw-s 00000000 00:01",            /* no inode */
		"7f00 rw-s 00000000 00:01 9 /x",            /* no range */
		"7f00-7f10 rw-s 0000zz00 00:01 9 /x",       /* offset */
		"7f00-7f10 rw-sx 00000000 00:01 9 /x",      /* perms */
		"7f00-7f10 rw-s 00000000 00:01 9x /x",      /* inode */
		"garbage\x1b[2J",
	};
	bool all = true;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		all = all && parse(bad[i], &m, buf, sizeof(buf)) < 0;
	CHECK(all, "maps: malformed lines are refused");
}

/* --- a model from fixture text ------------------------------------------------ */

#define SYSV_HEADER "       key      shmid perms                  size  cpid  lpid " \
	"nattch   uid   gid  cuid  cgid      atime      dtime      ctime " \
	"                  rss                  swap\n"

static const char parent_maps[] =
	"55d0c3a00000-55d0c3a01000 r--p 00000000 fe:00 12 /usr/bin/server\n"
	"7f0000000000-7f0000100000 rw-s 00000000 00:01 32769 /SYSV5300c51a (deleted)\n"
	"7f0000200000-7f0000202000 rw-s 00000000 00:01 900 /dev/zero (deleted)\n"
	"7f0000300000-7f0000301000 rw-s 00000000 00:1b 41 /dev/shm/zone\n"
	"7f0000400000-7f0000401000 r--s 00000000 00:1b 42 /dev/shm/old (deleted)\n"
	"7f0000500000-7f0000502000 rw-s 00000000 00:01 950 /memfd:ring (deleted)\n"
	"7f0000600000-7f0000601000 rw-s 00000000 00:01 77 /SYSV00000000 (deleted)\n"
	"not a maps line\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n";

static const char child_maps[] =
	"7f0000000000-7f0000100000 r--s 00000000 00:01 32769 /SYSV5300c51a (deleted)\n"
	"7f0000200000-7f0000202000 rw-s 00000000 00:01 900 /dev/zero (deleted)\n"
	"7f0000700000-7f0000702000 rw-s 00000000 00:01 901 /dev/zero (deleted)\n";

static const char sysv_text[] = SYSV_HEADER
	"1392559386      32769   600               1048576   100   101"
	"      2     0     0     0     0          0          0 1700000000\n"
	"         0         77  1600                  4096   100   100"
	"      1     0     0     0     0          0          0 1700000000\n";

static struct segment *find_seg(const struct model *m, enum seg_kind kind,
				uint64_t id)
{
	for (size_t i = 0; i < m->nsegments; i++) {
		struct segment *s = m->segments[i];
		if (s->kind != kind)
			continue;
		if (kind == SEG_SYSV ? (uint64_t)s->shmid == id : s->inode == id)
			return s;
	}
	return NULL;
}

static int add_text(struct procmap *pm, struct process *p, const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int n = procmap_add_maps(pm, p, f);

	fclose(f);
	return n;
}

static void test_model_from_text(void)
{
	struct kernel_view k;
	struct model m;
	struct segment *s;
	FILE *f = fmemopen((void *)sysv_text, strlen(sysv_text), "r");

	memset(&k, 0, sizeof(k));
	CHECK(kernel_parse_sysv(f, &k) == 0 && k.nsysv == 2, "fixture: sysv");
	fclose(f);
	k.sysv_ok = true;

	model_init(&m);
	struct procmap *pm = procmap_begin(&m, &k);
	struct process *parent = model_add_process(&m, 100);
	struct process *child = model_add_process(&m, 101);
	child->ppid = 100;
	CHECK(add_text(pm, parent, parent_maps) == 6, "procmap: the parent's 6 "
	      "shared mappings (private and bad lines skipped)");
	CHECK(add_text(pm, child, child_maps) == 3, "procmap: the child's 3");
	procmap_end(pm);

	CHECK(m.from_proc && m.running && !m.trace && m.nprocesses == 2 &&
	      m.nsegments == 7, "procmap: 7 objects, 2 processes, from /proc");
	s = find_seg(&m, SEG_SYSV, 32769);
	CHECK(s && s->natt == 2 && s->live_att == 2 && s->key == 0x5300c51a &&
	      s->size == 1048576 && s->state == SEG_LIVE && s->in_kernel &&
	      s->k_nattch == 2 && s->att[0]->how == ATTACH_SHMAT &&
	      !s->att[0]->readonly && s->att[1]->readonly &&
	      s->att[1]->proc == child && s->creator.seq == MODEL_NO_SEQ &&
	      !s->created,
	      "procmap: one SysV segment in both, size from the kernel, rw/ro");
	s = find_seg(&m, SEG_SYSV, 77);
	CHECK(s && s->state == SEG_PENDING && s->marked && s->size == 4096,
	      "procmap: a SysV segment marked for removal is pending");
	s = find_seg(&m, SEG_ANON, 900);
	CHECK(s && s->natt == 2 && s->size == 8192 &&
	      s->att[0]->addr == 0x7f0000200000 && s->att[1]->proc == child &&
	      s->att[0]->how == ATTACH_MMAP,
	      "procmap: shared anonymous memory inherited: one segment, two "
	      "attachments, size the extent mapped");
	s = find_seg(&m, SEG_ANON, 901);
	CHECK(s && s->natt == 1, "procmap: the child's own region is another");
	s = find_seg(&m, SEG_POSIX, 41);
	CHECK(s && s->name && !strcmp(s->name, "/zone") &&
	      s->state == SEG_LIVE, "procmap: a POSIX object, live");
	s = find_seg(&m, SEG_POSIX, 42);
	CHECK(s && s->state == SEG_PENDING && s->att[0]->readonly,
	      "procmap: an unlinked POSIX object still mapped is pending");
	s = find_seg(&m, SEG_MEMFD, 950);
	CHECK(s && s->name && !strcmp(s->name, "ring") && s->size == 8192,
	      "procmap: a memfd with its name");
	CHECK(parent->nlive == 6 && child->nlive == 3 && !parent->ended,
	      "procmap: every attachment is live");
	model_free(&m);
	kernel_free(&k);
}

/* --- this process, for real -------------------------------------------------- */

static struct segment *seg_at(const struct model *m, uint64_t addr,
			      int32_t pid)
{
	for (size_t i = 0; i < m->nsegments; i++)
		for (size_t j = 0; j < m->segments[i]->natt; j++) {
			const struct attachment *a = m->segments[i]->att[j];
			if (a->addr == addr && a->proc->pid == pid)
				return m->segments[i];
		}
	return NULL;
}

static void test_self(void)
{
	struct model m;
	struct procmap_stats st;
	int pipefd[2];
	char c;
	void *anon = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int shmid = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	void *sysv = shmid >= 0 ? shmat(shmid, NULL, SHM_RDONLY) : (void *)-1;

	if (shmid >= 0)
		shmctl(shmid, IPC_RMID, NULL);
	CHECK(anon != MAP_FAILED && sysv != (void *)-1, "self: mappings made");
	if (pipe(pipefd))
		return;
	pid_t child = fork();
	if (child == 0) {
		close(pipefd[0]);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1)
		c = 0;
	close(pipefd[0]);

	CHECK(procmap_build_stats(&m, getpid(), false, &st) == 0 &&
	      st.processes == 1 && m.nprocesses == 1, "self: built alone");
	struct segment *s = seg_at(&m, (uint64_t)(uintptr_t)anon, getpid());
	CHECK(s && s->kind == SEG_ANON && s->natt == 1 &&
	      s->att[0]->length == 3 * 4096 && !s->att[0]->readonly,
	      "self: the shared anonymous region, at its address");
	s = seg_at(&m, (uint64_t)(uintptr_t)sysv, getpid());
	CHECK(s && s->kind == SEG_SYSV && s->shmid == shmid &&
	      s->state == SEG_PENDING && s->att[0]->readonly && s->size == 8192,
	      "self: the SysV segment, read-only, marked so pending");
	model_free(&m);

	CHECK(procmap_build_stats(&m, getpid(), true, &st) == 0 &&
	      st.processes == 2 && model_process(&m, child) &&
	      model_process(&m, child)->ppid == getpid(),
	      "self: --children finds the forked child");
	s = seg_at(&m, (uint64_t)(uintptr_t)anon, child);
	CHECK(s && s->natt == 2 && seg_at(&m, (uint64_t)(uintptr_t)anon,
					  getpid()) == s,
	      "self: the region the child inherited is the same segment");
	model_free(&m);

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK(procmap_build(&m, child, false) < 0 && m.nsegments == 0,
	      "self: a reaped child is an error, the model empty");
	model_free(&m);
	munmap(anon, 3 * 4096);
	if (sysv != (void *)-1)
		shmdt(sysv);
}

static void test_scan(void)
{
	struct kernel_scan s;
	char name[64], path[80];
	size_t n;
	struct stat st;

	snprintf(name, sizeof(name), "/shmtrace-unit-procmap-%d", (int)getpid());
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0 || ftruncate(fd, 4096) || fstat(fd, &st)) {
		CHECK(0, "scan: shm_open");
		return;
	}
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(kernel_scan(&s) == 0 && s.nprocs > 0 && kernel_scan_proc(&s, getpid()),
	      "scan: this process is seen");
	const struct kernel_mapper *km = kernel_scan_posix(&s, st.st_ino, &n);
	CHECK(km && n == 1 && km->pid == getpid() && km->readonly &&
	      km->addr == (uint64_t)(uintptr_t)p && !strcmp(km->name, name),
	      "scan: its POSIX mapping, by inode");
	const struct kernel_holder *h = kernel_scan_holders(&s, st.st_ino, &n);
	CHECK(h && n == 1 && h->pid == getpid() && h->fd == fd,
	      "scan: its descriptor on the object");
	CHECK(kernel_scan_proc(&s, getpid())->maps_read, "scan: its maps read");
	kernel_scan_free(&s);
	munmap(p, 4096);
	close(fd);
	shm_unlink(name);
}

int main(void)
{
	test_lines();
	test_model_from_text();
	test_self();
	test_scan();
	return check_exit();
}
