/*
 * capacity.c - the capacity model (see capacity.h): the rule for full,
 * the figures now, and a traced run's peaks and SIGBUS deaths.
 */
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capacity.h"
#include "util.h"

#define SHM_MOUNT "/dev/shm"
#define INODE_SEARCH_LIMIT 20000u

bool capacity_is_full(uint64_t size, uint64_t used, uint64_t inodes,
		      uint64_t inodes_used)
{
	if (size && (used >= size || size - used < CAPACITY_PAGE))
		return true;
	return inodes && inodes_used >= inodes;
}

unsigned capacity_percent(uint64_t used, uint64_t size)
{
	if (!size)
		return 0;
	if (used >= size)
		return 100;
	return (unsigned)((double)used * 100.0 / (double)size);
}

/* --- now ----------------------------------------------------------------- */

int capacity_parse_u64(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*text < '0' || *text > '9')
		return -1;
	v = strtoull(text, &end, 10);
	if (*end && *end != '\n')
		return -1;
	*out = v;
	return 0;
}

uint64_t capacity_sysv_pages(uint64_t size, uint64_t page_size)
{
	return page_size ? size / page_size + !!(size % page_size) : 0;
}

static int read_proc_u64(const char *path, uint64_t *out)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	int rc = -1;

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		rc = capacity_parse_u64(buf, out);
	fclose(f);
	return rc;
}

static void read_sysv_limits(struct sysv_limits *s, const struct kernel_view *k)
{
	long page = sysconf(_SC_PAGESIZE);

	memset(s, 0, sizeof(*s));
	s->page_size = page > 0 ? (uint64_t)page : CAPACITY_PAGE;
	s->ok = read_proc_u64("/proc/sys/kernel/shmmax", &s->shmmax) == 0 &&
		read_proc_u64("/proc/sys/kernel/shmall", &s->shmall) == 0 &&
		read_proc_u64("/proc/sys/kernel/shmmni", &s->shmmni) == 0;
	for (size_t i = 0; k && i < k->nsysv; i++) {
		s->segments++;
		s->bytes += k->sysv[i].size;
		s->pages += capacity_sysv_pages(k->sysv[i].size, s->page_size);
	}
}

void capacity_read_now(struct capacity_now *c, const struct kernel_view *k,
		       const struct kernel_scan *scan)
{
	memset(c, 0, sizeof(*c));
	c->shm = -1;
	c->tmpfs_ok = tmpfs_list_read(&c->tmpfs) == 0;
	for (unsigned i = 0; i < c->tmpfs.n; i++) {
		const struct tmpfs_fs *fs = &c->tmpfs.fs[i];

		if (!strcmp(fs->mount, SHM_MOUNT)) {
			c->shm = (int)i;
			c->holds[i] = fs->ok;
		}
		for (size_t d = 0; scan && d < scan->nshared_devs; d++)
			if (scan->shared_devs[d] == fs->dev)
				c->holds[i] = fs->ok;
	}
	read_sysv_limits(&c->sysv, k);
	cgroup_mem_find(&c->cgroup);
}

int capacity_shm_now(struct tmpfs_fs *fs)
{
	memset(fs, 0, sizeof(*fs));
	snprintf(fs->mount, sizeof(fs->mount), "%s", SHM_MOUNT);
	return tmpfs_stat(fs);
}

/* --- during a traced run ------------------------------------------------- */

static char *event_string(const struct trace_event *ev)
{
	return xstrndup(ev->str ? ev->str : "", ev->str ? ev->str_len : 0);
}

static int fs_by_dev(const struct run_capacity *rc, uint64_t dev)
{
	for (size_t i = 0; i < rc->nfs; i++)
		if (rc->fs[i].dev == dev)
			return (int)i;
	return -1;
}

static void add_tmpfs(struct run_capacity *rc, size_t *cap,
		      const struct trace_event *ev)
{
	struct run_tmpfs *fs;

	XGROW(rc->fs, rc->nfs, *cap, 8);
	fs = &rc->fs[rc->nfs++];
	memset(fs, 0, sizeof(*fs));
	fs->mount = event_string(ev);
	fs->dev = ev->args[SHMT_ARG_TMPFS_DEV];
	fs->size = ev->args[SHMT_ARG_TMPFS_SIZE];
	fs->start = ev->args[SHMT_ARG_TMPFS_START];
	fs->peak = ev->args[SHMT_ARG_TMPFS_PEAK];
	fs->end = ev->args[SHMT_ARG_TMPFS_USED];
	fs->inodes = ev->args[SHMT_ARG_TMPFS_INODES];
	fs->inodes_used = ev->args[SHMT_ARG_TMPFS_INODES_USED];
}

static void add_cgroup(struct run_capacity *rc, const struct trace_event *ev)
{
	rc->cgroup = true;
	free(rc->cgroup_path);
	rc->cgroup_path = event_string(ev);
	rc->cgroup_limit = ev->args[SHMT_ARG_CGROUP_LIMIT];
	rc->cgroup_peak = ev->args[SHMT_ARG_CGROUP_PEAK];
	rc->cgroup_shmem_peak = ev->args[SHMT_ARG_CGROUP_SHMEM_PEAK];
	rc->cgroup_version = (int)ev->args[SHMT_ARG_CGROUP_VERSION];
}

/* The end-of-run records (pid 0) first, then the samples at deaths,
 * which name their mount by device. */
static void read_records(struct run_capacity *rc, const struct trace *t)
{
	struct trace_iter it;
	const struct trace_event *ev;
	size_t cap = 0, dcap = 0, rcap = 0;

	trace_iter_init(&it, t);
	while ((ev = trace_iter_next(&it))) {
		if (ev->call == SHMT_CALL_TMPFS && !ev->args[SHMT_ARG_TMPFS_PID])
			add_tmpfs(rc, &cap, ev);
		else if (ev->call == SHMT_CALL_CGROUP_MEM &&
			 !ev->args[SHMT_ARG_CGROUP_PID])
			add_cgroup(rc, ev);
		else
			continue;
		rc->recorded = true;
		if ((uint64_t)ev->ret > rc->samples)
			rc->samples = (uint64_t)ev->ret;
	}
	trace_iter_init(&it, t);
	while ((ev = trace_iter_next(&it))) {
		struct run_at_death *d;

		if (ev->call == SHMT_CALL_WAIT &&
		    ev->args[SHMT_ARG_WAIT_VARIANT] == SHMT_WAIT_REAPER) {
			XGROW(rc->reaped, rc->nreaped, rcap, 16);
			rc->reaped[rc->nreaped++] = (int32_t)ev->args[SHMT_ARG_WAIT_PID];
		}
		if (ev->call != SHMT_CALL_TMPFS || !ev->args[SHMT_ARG_TMPFS_PID])
			continue;
		XGROW(rc->deaths, rc->ndeaths, dcap, 8);
		d = &rc->deaths[rc->ndeaths++];
		d->pid = (int32_t)ev->args[SHMT_ARG_TMPFS_PID];
		d->fs = fs_by_dev(rc, ev->args[SHMT_ARG_TMPFS_DEV]);
		d->used = ev->args[SHMT_ARG_TMPFS_USED];
		d->size = ev->args[SHMT_ARG_TMPFS_SIZE];
		d->inodes = ev->args[SHMT_ARG_TMPFS_INODES];
		d->inodes_used = ev->args[SHMT_ARG_TMPFS_INODES_USED];
	}
}

/* nftw has no argument for its callback: the walk's state. */
static struct {
	uint64_t dev;
	const uint64_t *inodes;         /* sorted */
	size_t n, found;
	unsigned left;
	char **paths;
} walk;

static int inode_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int walk_entry(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	uint64_t ino = (uint64_t)st->st_ino;
	const uint64_t *hit;

	if (!walk.left--)
		return 1;
	if (type != FTW_F || (uint64_t)st->st_dev != walk.dev)
		return 0;
	hit = bsearch(&ino, walk.inodes, walk.n, sizeof(ino), inode_cmp);
	if (hit && !walk.paths[hit - walk.inodes]) {
		walk.paths[hit - walk.inodes] = xstrdup(path);
		walk.found++;
	}
	return walk.found == walk.n;	/* all found: stop */
}

void capacity_find_inodes(const char *mount, uint64_t dev,
			  const uint64_t *inodes, size_t n, unsigned limit,
			  char **paths)
{
	walk.dev = dev;
	walk.inodes = inodes;
	walk.n = n;
	walk.left = limit;
	walk.paths = paths;
	walk.found = 0;
	for (size_t i = 0; i < n; i++)
		walk.found += paths[i] != NULL;
	if (n && walk.found < n)
		nftw(mount, walk_entry, 16, FTW_PHYS | FTW_MOUNT);
}

/* The inodes of the model's file segments, sorted, without repeats. */
static uint64_t *file_inodes(const struct model *m, size_t *n)
{
	uint64_t *out = xcalloc(m->nsegments + 1, sizeof(*out));
	size_t k = 0;

	for (size_t i = 0; i < m->nsegments; i++)
		if (m->segments[i]->kind == SEG_FILE && m->segments[i]->inode)
			out[k++] = m->segments[i]->inode;
	qsort(out, k, sizeof(*out), inode_cmp);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (!*n || out[*n - 1] != out[i])
			out[(*n)++] = out[i];
	return out;
}

/* A file segment's tmpfs: one walk of each mount that grew during the run
 * (or was full) looks for every file inode at once; the first mount to
 * hold an inode wins (the trace has no device to tell two apart). */
static void place_files(struct run_capacity *rc, const struct model *m)
{
	size_t n;
	uint64_t *inodes = file_inodes(m, &n);
	char **paths = xcalloc(n + 1, sizeof(*paths));
	int *where = xcalloc(n + 1, sizeof(*where));

	for (size_t f = 0; f < rc->nfs && n; f++) {
		const struct run_tmpfs *fs = &rc->fs[f];
		size_t before = 0;

		if (fs->peak <= fs->start &&
		    !capacity_is_full(fs->size, fs->peak, 0, 0))
			continue;
		for (size_t i = 0; i < n; i++)
			before += paths[i] != NULL;
		if (before == n)
			break;
		for (size_t i = 0; i < n; i++)
			if (!paths[i])
				where[i] = (int)f;
		capacity_find_inodes(fs->mount, fs->dev, inodes, n,
				     INODE_SEARCH_LIMIT, paths);
	}
	for (size_t i = 0; i < m->nsegments; i++) {
		const struct segment *s = m->segments[i];
		const uint64_t *hit = s->kind == SEG_FILE && s->inode ?
			bsearch(&s->inode, inodes, n, sizeof(*inodes), inode_cmp) : NULL;

		if (!hit || !paths[hit - inodes])
			continue;
		rc->seg_fs[i] = where[hit - inodes];
		rc->seg_path[i] = xstrdup(paths[hit - inodes]);
	}
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(where);
	free(inodes);
}

/* The tmpfs each segment lives on: POSIX objects on /dev/shm, files where
 * their inode is found; shown, with every mount that was full. */
static void place_segments(struct run_capacity *rc, const struct model *m)
{
	int shm = -1;

	for (size_t i = 0; i < rc->nfs; i++)
		if (!strcmp(rc->fs[i].mount, SHM_MOUNT))
			shm = (int)i;
	rc->seg_fs = xcalloc(m->nsegments + 1, sizeof(*rc->seg_fs));
	rc->seg_path = xcalloc(m->nsegments + 1, sizeof(*rc->seg_path));
	rc->nsegments = m->nsegments;
	for (size_t i = 0; i < m->nsegments; i++) {
		rc->seg_fs[i] = m->segments[i]->kind == SEG_POSIX ? shm : -1;
		rc->memfd |= m->segments[i]->kind == SEG_MEMFD;
	}
	place_files(rc, m);
	for (size_t i = 0; i < m->nsegments; i++)
		if (rc->seg_fs[i] >= 0)
			rc->fs[rc->seg_fs[i]].shown = true;
	for (size_t f = 0; f < rc->nfs; f++)
		if (capacity_is_full(rc->fs[f].size, rc->fs[f].peak, 0, 0))
			rc->fs[f].shown = true;
}

/* The level of mount fs when the launcher reaped pid, or NULL. */
static const struct run_at_death *at_death(const struct run_capacity *rc,
					   int32_t pid, int fs)
{
	for (size_t i = 0; i < rc->ndeaths; i++)
		if (rc->deaths[i].pid == pid && rc->deaths[i].fs == fs)
			return &rc->deaths[i];
	return NULL;
}

static bool internal_kind(enum seg_kind k)
{
	return k == SEG_MEMFD || k == SEG_SYSV || k == SEG_ANON ||
	       k == SEG_DEVZERO;
}

/* Its mappings when it died: the attachments its end detached. */
static void death_maps(struct run_capacity *rc, const struct model *m,
		       struct sigbus_death *d)
{
	size_t cap = 0;

	for (size_t i = 0; i < m->nsegments; i++) {
		const struct segment *s = m->segments[i];

		for (size_t a = 0; a < s->natt; a++) {
			const struct attachment *at = s->att[a];
			struct sigbus_map *sm;

			if (at->proc != d->proc ||
			    (!at->live && at->detached_ns != d->proc->end_ns))
				continue;
			XGROW(d->maps, d->nmaps, cap, 4);
			sm = &d->maps[d->nmaps++];
			sm->seg = s;
			sm->addr = at->addr;
			sm->length = at->length;
			sm->fs = rc->seg_fs[i];
			sm->path = rc->seg_path[i];
			sm->internal = internal_kind(s->kind);
		}
	}
}

/* Whether a mount it mapped was full when it died: at the reap's sample,
 * or at the run's peak when the launcher did not reap it itself. */
static void judge_death(const struct run_capacity *rc, struct sigbus_death *d)
{
	d->full_fs = -1;
	for (size_t i = 0; i < d->nmaps && d->full_fs < 0; i++) {
		int f = d->maps[i].fs;
		const struct run_at_death *ad;
		uint64_t used, size, in, inu;

		if (f < 0)
			continue;
		ad = at_death(rc, d->proc->pid, f);
		d->sampled = d->sampled || ad;
		used = ad ? ad->used : rc->fs[f].peak;
		size = ad ? ad->size : rc->fs[f].size;
		in = ad ? ad->inodes : 0;
		inu = ad ? ad->inodes_used : 0;
		if (capacity_is_full(size, used, in, inu)) {
			d->full_fs = f;
			d->full_used = used;
			d->full_size = size;
		}
	}
	for (size_t i = 0; i < rc->ndeaths && !d->sampled; i++)
		d->sampled = rc->deaths[i].pid == d->proc->pid;
	for (size_t i = 0; i < rc->nreaped && !d->by_launcher; i++)
		d->by_launcher = rc->reaped[i] == d->proc->pid;
}

static void find_sigbus(struct run_capacity *rc, const struct model *m)
{
	size_t cap = 0;

	for (size_t i = 0; i < m->nprocesses; i++) {
		const struct process *p = m->processes[i];
		struct sigbus_death *d;

		if (p->signal != SIGBUS)
			continue;
		XGROW(rc->sigbus, rc->nsigbus, cap, 2);
		d = &rc->sigbus[rc->nsigbus++];
		memset(d, 0, sizeof(*d));
		d->proc = p;
		death_maps(rc, m, d);
		judge_death(rc, d);
	}
}

void run_capacity_build(struct run_capacity *rc, const struct trace *t,
			const struct model *m)
{
	memset(rc, 0, sizeof(*rc));
	read_records(rc, t);
	place_segments(rc, m);
	find_sigbus(rc, m);
}

void run_capacity_free(struct run_capacity *rc)
{
	for (size_t i = 0; i < rc->nfs; i++)
		free(rc->fs[i].mount);
	free(rc->fs);
	free(rc->deaths);
	free(rc->reaped);
	free(rc->cgroup_path);
	for (size_t i = 0; i < rc->nsegments; i++)
		free(rc->seg_path[i]);
	free(rc->seg_path);
	free(rc->seg_fs);
	for (size_t i = 0; i < rc->nsigbus; i++)
		free(rc->sigbus[i].maps);
	free(rc->sigbus);
	memset(rc, 0, sizeof(*rc));
}
