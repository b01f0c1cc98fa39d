/*
 * tmpfs.c - the tmpfs mounts and the memory cgroup, read from /proc and
 * statvfs (see tmpfs.h).  Everything read is untrusted text: a line that
 * does not parse is skipped.
 */
#include "tmpfs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#define MOUNTINFO "/proc/self/mountinfo"
#define CGROUP_FILE "/proc/self/cgroup"
/* v1 writes "no limit" as PAGE_COUNTER_MAX pages: about 2^63 bytes */
#define V1_NO_LIMIT (UINT64_C(1) << 62)

/* The kernel escapes space, tab, newline and backslash in mountinfo as
 * three octal digits (\040); turn them back into `out`, cut to size. */
static void unescape_octal(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			out[n++] = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
					  (s[3] - '0'));
			s += 3;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

/* The fields of one mountinfo line that we use: "ID PARENT MAJ:MIN ROOT
 * POINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS".  Points into
 * `line`, which is cut in place.  Returns 0, or -1 when malformed. */
struct mount_line {
	unsigned maj, min;
	char *root, *point, *fstype, *superopts;
};

static int split_mount_line(char *line, struct mount_line *m)
{
	char *save = NULL, *f[6], *tok;
	int n = 0;

	while (n < 6 && (tok = strtok_r(n ? NULL : line, " \n", &save)))
		f[n++] = tok;
	if (n < 6 || sscanf(f[2], "%u:%u", &m->maj, &m->min) != 2)
		return -1;
	m->root = f[3];
	m->point = f[4];
	while ((tok = strtok_r(NULL, " \n", &save)) && strcmp(tok, "-"))
		;	/* the optional fields end at "-" */
	if (!tok || !(m->fstype = strtok_r(NULL, " \n", &save)) ||
	    !strtok_r(NULL, " \n", &save))
		return -1;
	m->superopts = strtok_r(NULL, " \n", &save);
	if (!m->superopts)
		m->superopts = "";
	return 0;
}

static void keep_tmpfs(struct tmpfs_list *l, const struct mount_line *m)
{
	char point[TMPFS_PATH_MAX];
	struct tmpfs_fs *fs = NULL;

	unescape_octal(m->point, point, sizeof(point));
	for (unsigned i = 0; i < l->n && !fs; i++)
		if (!strcmp(l->fs[i].mount, point))
			fs = &l->fs[i];     /* mounted over: the top one */
	if (!fs && l->n == TMPFS_MAX) {
		l->skipped++;
		return;
	}
	if (!fs)
		fs = &l->fs[l->n++];
	memset(fs, 0, sizeof(*fs));
	memcpy(fs->mount, point, sizeof(point));
	fs->dev = makedev(m->maj, m->min);
}

int tmpfs_parse_mountinfo(FILE *f, struct tmpfs_list *l)
{
	char line[4096];
	struct mount_line m;

	memset(l, 0, sizeof(*l));
	while (fgets(line, sizeof(line), f))
		if (split_mount_line(line, &m) == 0 && !strcmp(m.fstype, "tmpfs"))
			keep_tmpfs(l, &m);
	return ferror(f) ? -1 : 0;
}

int tmpfs_stat(struct tmpfs_fs *fs)
{
	struct statvfs sv;

	fs->ok = statvfs(fs->mount, &sv) == 0;
	if (!fs->ok)
		return -1;
	fs->size = (uint64_t)sv.f_blocks * sv.f_frsize;
	fs->used = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
	fs->inodes = sv.f_files;
	fs->inodes_used = sv.f_files - sv.f_ffree;
	return 0;
}

int tmpfs_list_read(struct tmpfs_list *l)
{
	FILE *f = fopen(MOUNTINFO, "re");
	int rc;

	memset(l, 0, sizeof(*l));
	if (!f)
		return -1;
	rc = tmpfs_parse_mountinfo(f, l);
	fclose(f);
	for (unsigned i = 0; i < l->n; i++)
		tmpfs_stat(&l->fs[i]);
	return rc;
}

const struct tmpfs_fs *tmpfs_find_mount(const struct tmpfs_list *l,
					const char *mount)
{
	for (unsigned i = 0; i < l->n; i++)
		if (!strcmp(l->fs[i].mount, mount))
			return &l->fs[i];
	return NULL;
}

const struct tmpfs_fs *tmpfs_find_dev(const struct tmpfs_list *l,
				      uint64_t dev)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->fs[i].dev == dev)
			return &l->fs[i];
	return NULL;
}

/* --- the memory cgroup ------------------------------------------------- */

int cgroup_parse_limit(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!strncmp(text, "max", 3) && (!text[3] || text[3] == '\n')) {
		*out = TMPFS_NO_LIMIT;
		return 0;
	}
	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || (*end && *end != '\n'))
		return -1;
	*out = v >= V1_NO_LIMIT ? TMPFS_NO_LIMIT : v;
	return 0;
}

/* The first line of dir/name as a limit or a number. */
static int read_number(const char *dir, const char *name, uint64_t *out)
{
	char path[600], buf[64];
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		rc = cgroup_parse_limit(buf, out);
	fclose(f);
	return rc;
}

/* "KEY N" of dir/memory.stat; 0 when absent. */
static uint64_t stat_field(const char *dir, const char *key)
{
	char path[600], line[256];
	size_t klen = strlen(key);
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			v = strtoull(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* v2: the tightest memory.max from the cgroup up to the mount's root. */
static uint64_t v2_limit(const char *dir, size_t root_len)
{
	char d[512];
	uint64_t best = TMPFS_NO_LIMIT, v;
	char *slash;

	snprintf(d, sizeof(d), "%s", dir);
	for (;;) {
		if (read_number(d, "memory.max", &v) == 0 && v < best)
			best = v;
		slash = strrchr(d, '/');
		if (!slash || (size_t)(slash - d) < root_len)
			return best;
		*slash = '\0';
	}
}

int cgroup_mem_sample(struct cgroup_mem *c)
{
	uint64_t v;

	c->ok = false;
	if (!c->found)
		return -1;
	if (c->version == 2) {
		if (read_number(c->dir, "memory.current", &c->usage))
			return -1;
		c->limit = v2_limit(c->dir, c->root_len);
		c->shmem = stat_field(c->dir, "shmem");
	} else {
		if (read_number(c->dir, "memory.usage_in_bytes", &c->usage) ||
		    read_number(c->dir, "memory.limit_in_bytes", &c->limit))
			return -1;
		v = stat_field(c->dir, "hierarchical_memory_limit");
		if (v && v < V1_NO_LIMIT && v < c->limit)
			c->limit = v;
		c->shmem = stat_field(c->dir, "total_shmem");
		if (!c->shmem)
			c->shmem = stat_field(c->dir, "shmem");
	}
	c->ok = true;
	return 0;
}

/* Does the comma-separated list `opts` hold `word`? */
static bool has_option(const char *opts, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = opts; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, word, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

/* Our cgroup path for the memory controller, from /proc/self/cgroup:
 * v1's "N:...memory...:/path" first (a hybrid machine's memory is there),
 * else v2's "0::/path". */
static int cgroup_path(struct cgroup_mem *c)
{
	char line[1024], v2[TMPFS_PATH_MAX] = "";
	FILE *f = fopen(CGROUP_FILE, "re");

	if (!f)
		return -1;
	c->version = 0;
	while (fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;

		if (!path)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (!strcmp(ctl + 1, "") && !strcmp(line, "0")) {
			snprintf(v2, sizeof(v2), "%s", path);
		} else if (has_option(ctl + 1, "memory")) {
			snprintf(c->path, sizeof(c->path), "%s", path);
			c->version = 1;
		}
	}
	fclose(f);
	if (!c->version && *v2) {
		snprintf(c->path, sizeof(c->path), "%s", v2);
		c->version = 2;
	}
	return c->version ? 0 : -1;
}

/* The directory of our cgroup: its hierarchy's mount point, and the path
 * below the mount's root. */
static int cgroup_dir(struct cgroup_mem *c)
{
	char line[4096], point[TMPFS_PATH_MAX], root[TMPFS_PATH_MAX];
	struct mount_line m;
	FILE *f = fopen(MOUNTINFO, "re");
	bool found = false;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		if (split_mount_line(line, &m))
			continue;
		found = c->version == 2 ? !strcmp(m.fstype, "cgroup2") :
			!strcmp(m.fstype, "cgroup") && has_option(m.superopts, "memory");
	}
	fclose(f);
	if (!found)
		return -1;
	unescape_octal(m.point, point, sizeof(point));
	unescape_octal(m.root, root, sizeof(root));
	const char *below = c->path;
	size_t rl = strlen(root);
	if (strcmp(root, "/") && !strncmp(below, root, rl))
		below += rl;
	snprintf(c->dir, sizeof(c->dir), "%s%s", point,
		 strcmp(below, "/") ? below : "");
	c->root_len = (unsigned)strlen(point);
	return 0;
}

int cgroup_mem_find(struct cgroup_mem *c)
{
	memset(c, 0, sizeof(*c));
	if (cgroup_path(c) || cgroup_dir(c))
		return -1;
	c->found = true;
	if (cgroup_mem_sample(c)) {
		c->found = false;
		return -1;
	}
	return 0;
}
