/*
 * capacity.c - how full the tmpfs mounts and the memory cgroup got during
 * the run, measured by the launcher: statvfs of every tmpfs mount and the
 * cgroup's usage, sampled before the program starts, on every copy-out
 * tick (SYNC_PERIOD_NS), at every reap, and at the end.  Why sampling
 * here: the shim stays out of it (no system call in the traced program),
 * and the trace alone cannot say how full a tmpfs is (files other programs
 * write count too).  What it can miss: a peak shorter than a tick that is
 * freed before the next sample.
 *
 * The figures go into the trace as SHMT_CALL_TMPFS / SHMT_CALL_CGROUP_MEM
 * records (shmtrace-format.h): one per mount at the end, and one per mount
 * taken the moment the launcher reaps a process a signal killed (or, for
 * a child its traced parent reaped, at the copy-out pass that sees the
 * parent's wait: within a tick), so a SIGBUS can be set against how full
 * each tmpfs was when it struck.
 */
#include "launcher.h"
#include "clock.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void capacity_start(struct capacity_sampler *s)
{
	memset(s, 0, sizeof(*s));
	tmpfs_list_read(&s->fs);
	for (unsigned i = 0; i < s->fs.n; i++)
		s->start[i] = s->peak[i] = s->fs.fs[i].used;
	if (cgroup_mem_find(&s->cg) == 0) {
		s->cg_peak = s->cg.usage;
		s->cg_shmem_peak = s->cg.shmem;
	}
	s->samples = 1;
}

void capacity_sample(struct capacity_sampler *s)
{
	for (unsigned i = 0; i < s->fs.n; i++)
		if (tmpfs_stat(&s->fs.fs[i]) == 0 && s->fs.fs[i].used > s->peak[i])
			s->peak[i] = s->fs.fs[i].used;
	if (cgroup_mem_sample(&s->cg) == 0) {
		if (s->cg.usage > s->cg_peak)
			s->cg_peak = s->cg.usage;
		if (s->cg.shmem > s->cg_shmem_peak)
			s->cg_shmem_peak = s->cg.shmem;
	}
	s->samples++;
}

/* Copies `s` into the region's arena for event e (cut when the arena is
 * full, as the shim's strings are). */
static void put_str(struct live *L, struct shmt_event *e, const char *s)
{
	uint64_t len = strlen(s);
	uint64_t at = __atomic_fetch_add(&L->h->arena_head, len, __ATOMIC_RELAXED);

	if (at > L->layout.arena_size || len > L->layout.arena_size - at) {
		__atomic_fetch_add(&L->h->strings_dropped, 1, __ATOMIC_RELAXED);
		e->flags |= SHMT_EVF_STR_TRUNC;
		return;
	}
	memcpy((char *)L->h + L->layout.arena_offset + at, s, len);
	e->str_off = (uint32_t)at;
	e->str_len = (uint32_t)len;
}

/* The next slot, taken only while one is free (a compare-and-swap, never
 * past the capacity as region_reserve's fetch-add may go): a record the
 * region has no room for is counted in capacity_lost, not in the
 * program's `dropped`. */
static int reserve_record(struct live *L, uint64_t *index)
{
	uint64_t head = __atomic_load_n(&L->h->head, __ATOMIC_RELAXED);

	while (head < L->layout.slot_capacity)
		if (__atomic_compare_exchange_n(&L->h->head, &head, head + 1, 0,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			*index = head;
			return 1;
		}
	__atomic_fetch_add(&L->h->capacity_lost, 1, __ATOMIC_RELAXED);
	return 0;
}

/* A launcher record: a reserved slot, zeroed, stamped.  NULL when the
 * region is full (counted in capacity_lost). */
static struct shmt_event *new_record(struct live *L, uint16_t call,
				     uint64_t *index)
{
	if (!reserve_record(L, index))
		return NULL;
	struct shmt_event *e = region_slot(L->h, &L->layout, *index);
	memset((char *)e + sizeof(e->commit), 0,
	       SHMT_EVENT_FIXED - sizeof(e->commit));
	e->time_ns = L->tsc ? clock_ticks() : clock_now_ns();
	e->pid = e->tid = (int32_t)getpid();
	e->call = call;
	return e;
}

static void record_tmpfs(struct live *L, const struct capacity_sampler *s,
			 unsigned i, pid_t pid)
{
	const struct tmpfs_fs *fs = &s->fs.fs[i];
	uint64_t index;
	struct shmt_event *e = new_record(L, SHMT_CALL_TMPFS, &index);

	if (!e)
		return;
	e->ret = (int64_t)s->samples;
	e->args[SHMT_ARG_TMPFS_DEV] = fs->dev;
	e->args[SHMT_ARG_TMPFS_SIZE] = fs->size;
	e->args[SHMT_ARG_TMPFS_USED] = fs->used;
	e->args[SHMT_ARG_TMPFS_PEAK] = s->peak[i];
	e->args[SHMT_ARG_TMPFS_START] = s->start[i];
	e->args[SHMT_ARG_TMPFS_PID] = (uint64_t)pid;
	e->args[SHMT_ARG_TMPFS_INODES] = fs->inodes;
	e->args[SHMT_ARG_TMPFS_INODES_USED] = fs->inodes_used;
	put_str(L, e, fs->mount);
	region_commit(e, index);
}

static void record_cgroup(struct live *L, const struct capacity_sampler *s,
			  pid_t pid)
{
	uint64_t index;
	struct shmt_event *e;

	if (!s->cg.found || !(e = new_record(L, SHMT_CALL_CGROUP_MEM, &index)))
		return;
	e->ret = (int64_t)s->samples;
	e->args[SHMT_ARG_CGROUP_LIMIT] = s->cg.limit;
	e->args[SHMT_ARG_CGROUP_USAGE] = s->cg.usage;
	e->args[SHMT_ARG_CGROUP_PEAK] = s->cg_peak;
	e->args[SHMT_ARG_CGROUP_SHMEM] = s->cg.shmem;
	e->args[SHMT_ARG_CGROUP_SHMEM_PEAK] = s->cg_shmem_peak;
	e->args[SHMT_ARG_CGROUP_PID] = (uint64_t)pid;
	e->args[SHMT_ARG_CGROUP_VERSION] = (uint64_t)s->cg.version;
	put_str(L, e, s->cg.path);
	region_commit(e, index);
}

void capacity_record(struct live *L, struct capacity_sampler *s, pid_t pid)
{
	capacity_sample(s);
	for (unsigned i = 0; i < s->fs.n; i++)
		if (s->fs.fs[i].ok)
			record_tmpfs(L, s, i, pid);
	record_cgroup(L, s, pid);
}

void capacity_saw(struct capacity_sampler *s, const struct shmt_event *ev)
{
	int status = (int)(uint32_t)ev->args[SHMT_ARG_WAIT_STATUS];
	int32_t pid = (int32_t)ev->args[SHMT_ARG_WAIT_PID];

	if (ev->call != SHMT_CALL_WAIT || ev->ret <= 0 ||
	    ev->args[SHMT_ARG_WAIT_VARIANT] == SHMT_WAIT_REAPER ||
	    !WIFSIGNALED(status) || s->npending == CAPACITY_PENDING)
		return;
	for (unsigned i = 0; i < s->nseen && i < CAPACITY_SEEN; i++)
		if (s->seen[i] == pid)
			return;		/* a slot the pass saw again */
	for (unsigned i = 0; i < s->npending; i++)
		if (s->pending[i] == pid)
			return;
	s->pending[s->npending++] = pid;
}

void capacity_record_pending(struct live *L, struct capacity_sampler *s)
{
	for (unsigned i = 0; i < s->npending; i++) {
		capacity_record(L, s, s->pending[i]);
		s->seen[s->nseen++ % CAPACITY_SEEN] = s->pending[i];
	}
	s->npending = 0;
}
