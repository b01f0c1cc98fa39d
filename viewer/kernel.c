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
	if (k->nsysv == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		k->sysv = xrealloc(k->sysv, *cap * sizeof(*k->sysv));
	}
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

static int read_sysv(struct kernel_view *k)
{
	FILE *f = fopen(SYSV_PATH, "re");
	int rc;

	if (!f) {
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

static void add_posix(struct kernel_view *k, size_t *cap, const char *name,
		      const struct stat *st)
{
	if (k->nposix == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		k->posix = xrealloc(k->posix, *cap * sizeof(*k->posix));
	}
	stat_to_posix(name, st, &k->posix[k->nposix++]);
}

int kernel_list_posix(const char *dir, struct kernel_view *k)
{
	size_t cap = k->nposix;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return error("cannot list %s: %s", dir, strerror(errno));
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* An entry gone since readdir, or not a plain object (a
		 * symlink, a directory): not something shm_open made. */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		add_posix(k, &cap, de->d_name, &st);
	}
	if (errno) {
		int err = errno;

		closedir(d);
		return error("cannot list %s: %s", dir, strerror(err));
	}
	closedir(d);
	return 0;
}

int kernel_read(struct kernel_view *k)
{
	memset(k, 0, sizeof(*k));
	k->sysv_ok = read_sysv(k) == 0;
	if (kernel_list_posix(POSIX_DIR, k) == 0) {
		k->posix_ok = true;
	} else {
		for (size_t i = 0; i < k->nposix; i++)
			free(k->posix[i].name);
		k->nposix = 0;
		warning("POSIX objects not checked");
	}
	return 0;
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
