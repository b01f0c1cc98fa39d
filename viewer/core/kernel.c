/*
 * kernel.c - what the kernel says about shared memory now (see kernel.h).
 *
 * Everything read here is untrusted text (a /proc file whose format the
 * kernel may extend, a directory anyone may write to): every field is
 * parsed with its range checked, and a line that does not parse is skipped
 * rather than guessed at.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kernel.h"
#include "util.h"

#define SYSV_PATH "/proc/sysvipc/shm"
#define POSIX_DIR "/dev/shm"
#define SHM_DEST_BIT 01000u

/* Columns of /proc/sysvipc/shm we need (rss and swap may follow). */
enum sysv_col {
	COL_KEY, COL_SHMID, COL_PERMS, COL_SIZE, COL_CPID, COL_LPID,
	COL_NATTCH, COL_UID, COL_GID, COL_CUID, COL_CGID, COL_ATIME,
	COL_DTIME, COL_CTIME, COL_NEEDED
};

/* One whitespace-separated field as a signed number in `base`, within
 * [min, max].  Returns 0, or -1 when it is not one. */
static int parse_field(const char *s, int base, int64_t min, int64_t max,
		       int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, base);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_ufield(const char *s, int base, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

/* Split `line` in place into at most `max` fields; returns how many. */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t\n", &save); tok && n < max;
	     tok = strtok_r(NULL, " \t\n", &save))
		fields[n++] = tok;
	return n;
}

/* The signed 32-bit columns: key (printed signed), shmid, pids. */
static int parse_i32(const char *s, int32_t *out)
{
	int64_t v;

	if (parse_field(s, 10, INT32_MIN, INT32_MAX, &v))
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int parse_u32(const char *s, int base, uint32_t *out)
{
	uint64_t v;

	if (parse_ufield(s, base, &v) || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_time(const char *s, int64_t *out)
{
	return parse_field(s, 10, 0, INT64_MAX, out);
}

/* Parse one segment line into *seg.  Returns 0, or -1 when malformed. */
static int parse_sysv_line(char *line, struct kernel_sysv *seg)
{
	char *f[COL_NEEDED];
	int32_t key;

	if (split_fields(line, f, COL_NEEDED) < COL_NEEDED)
		return -1;
	memset(seg, 0, sizeof(*seg));
	if (parse_i32(f[COL_KEY], &key) ||
	    parse_i32(f[COL_SHMID], &seg->shmid) || seg->shmid < 0 ||
	    parse_u32(f[COL_PERMS], 8, &seg->perms) ||     /* printed %o */
	    parse_ufield(f[COL_SIZE], 10, &seg->size) ||
	    parse_i32(f[COL_CPID], &seg->cpid) ||
	    parse_i32(f[COL_LPID], &seg->lpid) ||
	    parse_u32(f[COL_NATTCH], 10, &seg->nattch) ||
	    parse_u32(f[COL_UID], 10, &seg->uid) ||
	    parse_u32(f[COL_CUID], 10, &seg->cuid) ||
	    parse_time(f[COL_ATIME], &seg->atime) ||
	    parse_time(f[COL_DTIME], &seg->dtime) ||
	    parse_time(f[COL_CTIME], &seg->ctime))
		return -1;
	seg->key = (uint32_t)key;
	seg->dest = (seg->perms & SHM_DEST_BIT) != 0;
	return 0;
}

static void add_sysv(struct kernel_view *k, size_t *cap,
		     const struct kernel_sysv *seg)
{
	XGROW(k->sysv, k->nsysv, *cap, 16);
	k->sysv[k->nsysv++] = *seg;
}

int kernel_parse_sysv(FILE *f, struct kernel_view *k)
{
	size_t cap = k->nsysv, len = 0, bad = 0;
	struct kernel_sysv seg;
	char *line = NULL;
	bool header = true;

	while (getline(&line, &len, f) >= 0) {
		if (header) {   /* "       key      shmid perms ..." */
			header = false;
			continue;
		}
		if (parse_sysv_line(line, &seg) == 0)
			add_sysv(k, &cap, &seg);
		else if (strspn(line, " \t\n") != strlen(line))
			bad++;
	}
	free(line);
	if (ferror(f))
		return error("cannot read %s: %s", SYSV_PATH, strerror(errno));
	if (bad)
		warning("%zu line%s of %s not understood, skipped", bad,
			bad == 1 ? "" : "s", SYSV_PATH);
	return 0;
}

static int read_sysv(struct kernel_view *k, bool quiet)
{
	FILE *f = fopen(SYSV_PATH, "re");
	int rc;

	if (!f) {
		if (quiet)
			return -1;
		warning("cannot read %s: %s (SysV segments not checked)",
			SYSV_PATH, strerror(errno));
		return -1;
	}
	rc = kernel_parse_sysv(f, k);
	fclose(f);
	return rc;
}

/* --- /dev/shm ------------------------------------------------------------ */

static void stat_to_posix(const char *name, const struct stat *st,
			  struct kernel_posix *p)
{
	size_t n = strlen(name);

	p->name = xmalloc(n + 2);
	p->name[0] = '/';
	memcpy(p->name + 1, name, n + 1);
	p->size = (uint64_t)st->st_size;
	p->inode = (uint64_t)st->st_ino;
	p->uid = (uint32_t)st->st_uid;
	p->mode = (uint32_t)(st->st_mode & 07777);
	p->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
		      st->st_mtim.tv_nsec;
	p->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 +
		      st->st_ctim.tv_nsec;
	p->semaphore = strncmp(name, "sem.", 4) == 0;
}

/* When the object was made (tmpfs keeps it on recent kernels): tells an
 * object from another made later under the same name. */
static int64_t birth_ns(int dirfd, const char *name)
{
	struct statx stx;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &stx) != 0 ||
	    !(stx.stx_mask & STATX_BTIME))
		return 0;
	return (int64_t)stx.stx_btime.tv_sec * 1000000000 + stx.stx_btime.tv_nsec;
}

static void add_posix(struct kernel_view *k, size_t *cap, const char *name,
		      const struct stat *st)
{
	XGROW(k->posix, k->nposix, *cap, 16);
	stat_to_posix(name, st, &k->posix[k->nposix++]);
}

static int list_posix(const char *dir, struct kernel_view *k, bool quiet)
{
	size_t cap = k->nposix;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return quiet ? -1 : error("cannot list %s: %s", dir,
					  strerror(errno));
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* An entry gone since readdir, or not a plain object (a
		 * symlink, a directory): not something shm_open made. */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		add_posix(k, &cap, de->d_name, &st);
		k->posix[k->nposix - 1].btime_ns = birth_ns(dirfd(d), de->d_name);
	}
	if (errno) {
		int err = errno;

		closedir(d);
		return quiet ? -1 : error("cannot list %s: %s", dir,
					  strerror(err));
	}
	closedir(d);
	return 0;
}

int kernel_list_posix(const char *dir, struct kernel_view *k)
{
	return list_posix(dir, k, false);
}

static int read_view(struct kernel_view *k, bool quiet)
{
	memset(k, 0, sizeof(*k));
	k->sysv_ok = read_sysv(k, quiet) == 0;
	if (list_posix(POSIX_DIR, k, quiet) == 0) {
		k->posix_ok = true;
	} else {
		for (size_t i = 0; i < k->nposix; i++)
			free(k->posix[i].name);
		k->nposix = 0;
		if (!quiet)
			warning("POSIX objects not checked");
	}
	return 0;
}

int kernel_read(struct kernel_view *k)
{
	return read_view(k, false);
}

int kernel_read_quiet(struct kernel_view *k)
{
	return read_view(k, true);
}

void kernel_free(struct kernel_view *k)
{
	for (size_t i = 0; i < k->nposix; i++)
		free(k->posix[i].name);
	free(k->posix);
	free(k->sysv);
	memset(k, 0, sizeof(*k));
}

const struct kernel_sysv *kernel_find_shmid(const struct kernel_view *k,
					    int32_t shmid)
{
	for (size_t i = 0; i < k->nsysv; i++)
		if (k->sysv[i].shmid == shmid)
			return &k->sysv[i];
	return NULL;
}

/* glibc's shm_open strips leading slashes: "x", "/x" and "//x" are one
 * object, /dev/shm/x. */
static const char *bare_name(const char *name)
{
	while (*name == '/')
		name++;
	return name;
}

const struct kernel_posix *kernel_find_posix(const struct kernel_view *k,
					     const char *name)
{
	const char *want = bare_name(name);

	for (size_t i = 0; i < k->nposix; i++)
		if (!strcmp(bare_name(k->posix[i].name), want))
			return &k->posix[i];
	return NULL;
}

/*
 * /proc/PID/stat reads "PID (COMM) S ...": COMM may hold spaces and ')'
 * but is at most 16 bytes, so the state is the byte after the last ") ".
 */
bool kernel_file_is(const char *path, uint64_t dev, uint64_t ino,
		    uint64_t *size)
{
	struct stat st;
	if (stat(path, &st) != 0 || st.st_ino != ino || (dev && st.st_dev != dev))
		return false;
	if (size)
		*size = (uint64_t)st.st_size;
	return true;
}

bool kernel_pid_alive(int32_t pid)
{
	char path[32], buf[256];
	const char *paren;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%" PRId32 "/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	if (!paren || paren[1] != ' ' || !paren[2])
		return false;
	return paren[2] != 'Z' && paren[2] != 'X' && paren[2] != 'x';
}

/* --- /proc/PID/maps ------------------------------------------------------- */

#define DELETED_SUFFIX " (deleted)"

/* The kernel escapes a newline in a path as \012 (seq_file's mangle_path,
 * octal); turn it back, in place. */
static void unescape_path(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && !strncmp(s + 1, "012", 3)) {
			*out++ = '\n';
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* "/SYSV" and exactly 8 hex digits: the key, as sysvipc/shm.c names it. */
static bool sysv_name(const char *path, uint32_t *key)
{
	uint64_t v;
	char hex[9];

	if (strncmp(path, "/SYSV", 5) || strlen(path) != 13)
		return false;
	memcpy(hex, path + 5, 8);
	hex[8] = '\0';
	if (strspn(hex, "0123456789abcdefABCDEF") != 8 ||
	    parse_ufield(hex, 16, &v))
		return false;
	*key = (uint32_t)v;
	return true;
}

static void classify_map(struct kernel_map *m)
{
	const char *p = m->path;

	m->kind = KMAP_PRIVATE;
	m->name = NULL;
	if (!m->shared)
		return;
	if (m->deleted && sysv_name(p, &m->key)) {
		m->kind = KMAP_SYSV;
	} else if (!strncmp(p, "/dev/shm/", 9) && p[9]) {
		m->kind = KMAP_POSIX;
		m->name = p + 8;            /* "/NAME" */
	} else if (!strncmp(p, "/memfd:", 7) && m->deleted) {
		m->kind = KMAP_MEMFD;
		m->name = p + 7;
	} else if (!strcmp(p, "/dev/zero") && m->deleted) {
		m->kind = KMAP_ANON;
		m->name = "";
	} else if (!strncmp(p, "[anon_shmem:", 12)) {
		m->kind = KMAP_ANON;
		m->name = p + 12;           /* up to the ']', cut below */
	} else if (*p) {
		m->kind = KMAP_FILE;
	}
}

/* Fields: START-END PERMS OFFSET MAJ:MIN INODE [PATH].  PATH is the rest
 * of the line after the blanks that pad it (a name may hold spaces). */
int kernel_parse_map_line(char *line, struct kernel_map *m)
{
	char perms[5], *path, *end;
	unsigned long long start, stop, off, ino;
	unsigned maj, min;
	int n = -1;
	size_t len;

	memset(m, 0, sizeof(*m));
	len = strlen(line);
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';
	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu%n", &start, &stop,
		   perms, &off, &maj, &min, &ino, &n) != 7 || n < 0 ||
	    (line[n] && line[n] != ' ' && line[n] != '\t') ||
	    strlen(perms) != 4 || stop < start)
		return -1;
	path = line + n;
	path += strspn(path, " \t");
	m->start = start;
	m->end = stop;
	m->offset = off;
	m->dev_major = maj;
	m->dev_minor = min;
	m->inode = ino;
	m->readable = perms[0] == 'r';
	m->writable = perms[1] == 'w';
	m->shared = perms[3] == 's';
	len = strlen(path);
	if (len > strlen(DELETED_SUFFIX) &&
	    !strcmp(path + len - strlen(DELETED_SUFFIX), DELETED_SUFFIX)) {
		m->deleted = true;
		path[len - strlen(DELETED_SUFFIX)] = '\0';
	}
	unescape_path(path);
	m->path = path;
	classify_map(m);
	if (m->kind == KMAP_ANON && m->name && *m->name &&
	    (end = strrchr(path, ']')) && end[1] == '\0')
		*end = '\0';
	return 0;
}

int kernel_parse_maps(FILE *f, kernel_map_fn fn, void *arg)
{
	struct kernel_map m;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	errno = 0;
	while (getline(&line, &cap, f) >= 0) {
		if (kernel_parse_map_line(line, &m) == 0 && fn(&m, arg)) {
			rc = 0;
			goto out;
		}
	}
	if (ferror(f))
		rc = -1;
out:
	free(line);
	return rc;
}

int kernel_read_maps(int32_t pid, kernel_map_fn fn, void *arg)
{
	char path[40];
	FILE *f;
	int rc, err;

	snprintf(path, sizeof(path), "/proc/%" PRId32 "/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	rc = kernel_parse_maps(f, fn, arg);
	err = errno;
	fclose(f);
	errno = err;
	return rc;
}

/* --- processes ------------------------------------------------------------ */

/* When the machine booted, in seconds since the epoch (/proc/stat btime). */
static int64_t boot_time(void)
{
	static int64_t btime = -1;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (btime >= 0)
		return btime;
	btime = 0;
	f = fopen("/proc/stat", "re");
	if (!f)
		return 0;
	while (getline(&line, &cap, f) >= 0) {
		long long v;

		if (sscanf(line, "btime %lld", &v) == 1 && v > 0) {
			btime = v;
			break;
		}
	}
	free(line);
	fclose(f);
	return btime;
}

/*
 * /proc/PID/stat: "PID (COMM) S PPID ..." with COMM up to 16 bytes that
 * may hold spaces and ')': it ends at the last ") ".  starttime is field
 * 22, in clock ticks since boot.
 */
static int parse_stat(const char *buf, struct kernel_proc *p)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	char *f[20];
	char *rest;
	size_t n;
	int64_t ppid;
	uint64_t ticks;
	long hz = sysconf(_SC_CLK_TCK);

	if (!open || !close || close < open || close[1] != ' ')
		return -1;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(p->comm))
		n = sizeof(p->comm) - 1;
	memcpy(p->comm, open + 1, n);
	p->comm[n] = '\0';
	rest = xstrdup(close + 2);
	n = split_fields(rest, f, 20);
	/* f[0] state, f[1] ppid, ..., f[19] starttime (field 22) */
	if (n < 20 || parse_field(f[1], 10, 0, INT32_MAX, &ppid)) {
		free(rest);
		return -1;
	}
	p->state = f[0][0];
	p->ppid = (int32_t)ppid;
	if (hz > 0 && parse_ufield(f[19], 10, &ticks) == 0 && boot_time())
		p->start_time = boot_time() + (int64_t)(ticks / (uint64_t)hz);
	free(rest);
	return 0;
}

int kernel_proc_info(int32_t pid, struct kernel_proc *p)
{
	char path[40], buf[1024];
	struct stat st;
	ssize_t n;
	int fd;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%" PRId32 "/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0)
		p->uid = (uint32_t)st.st_uid;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		errno = ESRCH;
		return -1;
	}
	buf[n] = '\0';
	if (parse_stat(buf, p)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int pid_cmp(const void *a, const void *b)
{
	const struct kernel_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

int kernel_list_procs(struct kernel_proc **out, size_t *n)
{
	struct kernel_proc *procs = NULL;
	size_t cap = 0, count = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return error("cannot list /proc: %s", strerror(errno));
	while ((de = readdir(d))) {
		int64_t pid;

		if (parse_field(de->d_name, 10, 1, INT32_MAX, &pid))
			continue;
		XGROW(procs, count, cap, 256);
		if (kernel_proc_info((int32_t)pid, &procs[count]) == 0)
			count++;    /* else it ended since readdir */
	}
	closedir(d);
	if (count)
		qsort(procs, count, sizeof(*procs), pid_cmp);
	*out = procs;
	*n = count;
	return 0;
}

char *kernel_proc_read(int32_t pid, const char *what, size_t *len)
{
	char path[64];
	size_t cap = 4096, used = 0;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "/proc/%" PRId32 "/%s", pid, what);
	if (!strcmp(what, "exe")) {
		char target[PATH_MAX];
		ssize_t r = readlink(path, target, sizeof(target) - 1);

		if (r < 0)
			return NULL;
		target[r] = '\0';
		if (len)
			*len = (size_t)r;
		return xstrdup(target);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, buf + used, cap - used);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;

			free(buf);
			close(fd);
			errno = err;
			return NULL;
		}
		if (r == 0)
			break;
		used += (size_t)r;
		if (used == cap && cap < (1u << 20)) {
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		} else if (used == cap) {
			break;      /* a megabyte of cmdline is plenty */
		}
	}
	close(fd);
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
}

/* --- every process at once ------------------------------------------------- */

struct scan_ctx {
	struct kernel_scan *s;
	size_t map_cap;
	int32_t pid;
};

/* A device holding a file some process maps MAP_SHARED (a tmpfs there
 * is shown beside /dev/shm by the capacity figures). */
static void note_shared_dev(struct kernel_scan *s, uint64_t dev)
{
	for (size_t i = 0; i < s->nshared_devs; i++)
		if (s->shared_devs[i] == dev)
			return;
	if (s->nshared_devs < KERNEL_SHARED_DEVS)
		s->shared_devs[s->nshared_devs++] = dev;
}

static int scan_map(const struct kernel_map *m, void *arg)
{
	struct scan_ctx *c = arg;
	struct kernel_scan *s = c->s;
	uint64_t dev = makedev(m->dev_major, m->dev_minor);
	struct kernel_mapper *k;
	bool posix = m->kind == KMAP_POSIX ||
		     (m->shared && s->shm_dev && dev == s->shm_dev);

	if (m->kind == KMAP_FILE)
		note_shared_dev(s, dev);
	if (m->kind != KMAP_SYSV && !posix)
		return 0;
	/* /dev/shm/NAME is only a POSIX object when it is on /dev/shm's
	 * file system (a bind mount or a chroot may say otherwise) */
	if (posix && s->shm_dev && dev != s->shm_dev)
		return 0;
	XGROW(s->maps, s->nmaps, c->map_cap, 64);
	k = &s->maps[s->nmaps++];
	memset(k, 0, sizeof(*k));
	k->pid = c->pid;
	k->kind = m->kind == KMAP_SYSV ? KMAP_SYSV : KMAP_POSIX;
	k->dev = dev;
	k->inode = m->inode;
	k->key = m->key;
	k->addr = m->start;
	k->length = m->end - m->start;
	k->readonly = !m->writable;
	k->deleted = m->deleted;
	if (k->kind == KMAP_POSIX) {
		const char *slash = strrchr(m->path, '/');

		k->name = xstrdup(m->name ? m->name : slash ? slash : m->path);
	}
	return 0;
}

/* The descriptors of process pid open on /dev/shm objects. */
static void scan_fds(struct kernel_scan *s, size_t *cap, int32_t pid)
{
	char dir[40], path[320], target[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%" PRId32 "/fd", pid);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		int64_t fd;
		ssize_t r;

		if (parse_field(de->d_name, 10, 0, INT32_MAX, &fd))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		r = readlink(path, target, sizeof(target) - 1);
		if (r <= 9)
			continue;
		target[r] = '\0';
		if (strncmp(target, "/dev/shm/", 9) || stat(path, &st) ||
		    !S_ISREG(st.st_mode) ||
		    (s->shm_dev && (uint64_t)st.st_dev != s->shm_dev))
			continue;
		XGROW(s->fds, s->nfds, *cap, 32);
		s->fds[s->nfds++] = (struct kernel_holder){
			pid, (int)fd, (uint64_t)st.st_dev, (uint64_t)st.st_ino };
	}
	closedir(d);
}

static int mapper_cmp(const void *a, const void *b)
{
	const struct kernel_mapper *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

static int holder_cmp(const void *a, const void *b)
{
	const struct kernel_holder *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

int kernel_scan(struct kernel_scan *s)
{
	struct scan_ctx c = { s, 0, 0 };
	size_t fd_cap = 0, kept = 0;
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (stat(POSIX_DIR, &st) == 0)
		s->shm_dev = (uint64_t)st.st_dev;
	if (kernel_list_procs(&s->procs, &s->nprocs))
		return -1;
	for (size_t i = 0; i < s->nprocs; i++) {
		struct kernel_proc *p = &s->procs[i];

		c.pid = p->pid;
		if (kernel_read_maps(p->pid, scan_map, &c) == 0) {
			p->maps_read = true;
			scan_fds(s, &fd_cap, p->pid);
		} else if (errno == ENOENT || errno == ESRCH) {
			continue;           /* ended meanwhile: drop it */
		} else {
			p->maps_errno = errno;
			s->nunreadable++;
		}
		s->procs[kept++] = *p;
	}
	s->nprocs = kept;
	if (s->nmaps)
		qsort(s->maps, s->nmaps, sizeof(*s->maps), mapper_cmp);
	if (s->nfds)
		qsort(s->fds, s->nfds, sizeof(*s->fds), holder_cmp);
	return 0;
}

void kernel_scan_free(struct kernel_scan *s)
{
	for (size_t i = 0; i < s->nmaps; i++)
		free(s->maps[i].name);
	free(s->maps);
	free(s->fds);
	free(s->procs);
	memset(s, 0, sizeof(*s));
}

/* The run of maps[] with this kind and inode. */
static const struct kernel_mapper *find_run(const struct kernel_scan *s,
					    enum kernel_map_kind kind,
					    uint64_t inode, size_t *n)
{
	size_t lo = 0, hi = s->nmaps, end;

	while (lo < hi) {       /* the first not below (kind, inode) */
		size_t mid = lo + (hi - lo) / 2;
		const struct kernel_mapper *m = &s->maps[mid];

		if (m->kind < kind || (m->kind == kind && m->inode < inode))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < s->nmaps && s->maps[end].kind == kind &&
	     s->maps[end].inode == inode; end++)
		;
	*n = end - lo;
	return *n ? &s->maps[lo] : NULL;
}

const struct kernel_mapper *kernel_scan_sysv(const struct kernel_scan *s,
					     int32_t shmid, size_t *n)
{
	return find_run(s, KMAP_SYSV, (uint64_t)(uint32_t)shmid, n);
}

const struct kernel_mapper *kernel_scan_posix(const struct kernel_scan *s,
					      uint64_t inode, size_t *n)
{
	return find_run(s, KMAP_POSIX, inode, n);
}

const struct kernel_holder *kernel_scan_holders(const struct kernel_scan *s,
						uint64_t inode, size_t *n)
{
	size_t lo = 0, hi = s->nfds, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->fds[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < s->nfds && s->fds[end].inode == inode; end++)
		;
	*n = end - lo;
	return *n ? &s->fds[lo] : NULL;
}

const struct kernel_proc *kernel_scan_proc(const struct kernel_scan *s,
					   int32_t pid)
{
	struct kernel_proc key = { .pid = pid };

	return s->nprocs ? bsearch(&key, s->procs, s->nprocs,
				   sizeof(key), pid_cmp) : NULL;
}
