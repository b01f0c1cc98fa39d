/*
 * audit.c - the audit of the machine's shared memory now, from the
 * kernel's view (see audit.h): who is who, the flags of each object, the
 * order, the totals, and with a trace the objects it made.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "util.h"

/* --- who is who ------------------------------------------------------------ */

static const char *comm_of(const struct kernel_scan *scan, int32_t pid)
{
	const struct kernel_proc *p = kernel_scan_proc(scan, pid);

	return p ? p->comm : NULL;
}

/*
 * pid as the kernel recorded it at time `since` (seconds since the epoch,
 * 0 unknown): alive, gone, or alive but started after `since`, so another
 * process that got the same pid since.
 */
static struct audit_pid who(const struct kernel_scan *scan, int32_t pid,
			    int64_t since)
{
	const struct kernel_proc *p = pid > 0 ? kernel_scan_proc(scan, pid) : NULL;
	struct audit_pid w = { pid, false, false, NULL };

	if (!p || p->state == 'Z' || p->state == 'X')
		return w;
	w.comm = p->comm;
	/* start times are whole seconds (of clock ticks since boot): leave
	 * a second of slack either way */
	if (since > 0 && p->start_time > since + 1)
		w.reused = true;
	else
		w.alive = true;
	return w;
}

static void add_mappers(struct audit_obj *o, const struct kernel_scan *scan,
			const struct kernel_mapper *km, size_t n)
{
	o->mappers = xcalloc(n ? n : 1, sizeof(*o->mappers));
	o->nmappers = n;
	for (size_t i = 0; i < n; i++)
		o->mappers[i] = (struct audit_mapper){ km[i].pid,
			comm_of(scan, km[i].pid), km[i].addr, km[i].length,
			km[i].readonly };
}

static void add_holders(struct audit_obj *o, const struct kernel_scan *scan,
			uint64_t inode)
{
	size_t n;
	const struct kernel_holder *h = kernel_scan_holders(scan, inode, &n);

	o->holders = xcalloc(n ? n : 1, sizeof(*o->holders));
	o->nholders = n;
	for (size_t i = 0; i < n; i++)
		o->holders[i] = (struct audit_holder){ h[i].pid,
			comm_of(scan, h[i].pid), h[i].fd };
}

static int64_t max3(int64_t a, int64_t b, int64_t c)
{
	int64_t m = a > b ? a : b;
	return m > c ? m : c;
}

/* --- the objects and their flags ------------------------------------------------------------ */

static void audit_sysv(struct audit *a, struct audit_obj *o,
		       const struct kernel_sysv *ks)
{
	size_t n;
	const struct kernel_mapper *km = kernel_scan_sysv(a->scan, ks->shmid, &n);

	o->family = AUDIT_SYSV;
	o->sysv = ks;
	o->size = ks->size;
	o->key = ks->key;
	/* marked for removal, the kernel shows IPC_PRIVATE; the mappings
	 * still carry the key it was made with */
	if (ks->dest && !ks->key && n)
		o->key = km[0].key;
	add_mappers(o, a->scan, km, n);
	o->unseen = ks->nattch > n ? ks->nattch - (uint32_t)n : 0;
	o->complete = !o->unseen;
	o->last_used = max3(ks->atime, ks->dtime, ks->ctime);
	o->creator = who(a->scan, ks->cpid, ks->ctime);
	o->last = who(a->scan, ks->lpid, ks->atime > ks->dtime ? ks->atime :
		      ks->dtime);
	if (ks->dest && ks->nattch)
		o->flags |= AUDIT_PENDING;
	if (!ks->nattch && !ks->dest && !o->creator.alive)
		o->flags |= AUDIT_ORPHANED;
	if (!ks->nattch && o->last_used && a->now - o->last_used > a->stale_after)
		o->flags |= AUDIT_STALE;
	if (o->unseen)
		o->flags |= AUDIT_UNSEEN;
}

static void audit_posix(struct audit *a, struct audit_obj *o,
			const struct kernel_posix *kp, bool unlinked)
{
	size_t n;
	const struct kernel_mapper *km = kernel_scan_posix(a->scan, kp->inode, &n);

	o->family = AUDIT_POSIX;
	o->posix = kp;
	o->unlinked = unlinked;
	o->size = kp->size;
	o->last_used = kp->mtime_ns / 1000000000;
	o->complete = a->scan->nunreadable == 0;
	add_mappers(o, a->scan, km, n);
	add_holders(o, a->scan, kp->inode);
	if (unlinked) {
		o->flags |= AUDIT_PENDING;
		return;
	}
	if (n || o->nholders)
		return;
	o->flags |= AUDIT_ORPHANED;
	if (a->now - o->last_used > a->stale_after)
		o->flags |= AUDIT_STALE;
}

/*
 * POSIX objects unlinked from /dev/shm but still mapped: in no listing,
 * only in the maps (" (deleted)").  Their size is what is mapped of them.
 */
static struct kernel_posix *find_unlinked(const struct kernel_scan *scan,
					  const struct kernel_view *k,
					  size_t *count)
{
	struct kernel_posix *out = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < scan->nmaps; i++) {
		const struct kernel_mapper *m = &scan->maps[i];
		bool listed = false;

		if (m->kind != KMAP_POSIX || !m->deleted ||
		    (n && out[n - 1].inode == m->inode)) {
			if (n && out[n - 1].inode == m->inode &&
			    m->length > out[n - 1].size)
				out[n - 1].size = m->length;
			continue;
		}
		for (size_t j = 0; j < k->nposix && !listed; j++)
			listed = k->posix[j].inode == m->inode;
		if (listed)
			continue;
		XGROW(out, n, cap, 8);
		memset(&out[n], 0, sizeof(out[n]));
		out[n].name = xstrdup(m->name ? m->name : "/?");
		out[n].inode = m->inode;
		out[n].size = m->length;
		out[n].semaphore = !strncmp(out[n].name, "/sem.", 5);
		n++;
	}
	*count = n;
	return out;
}

/* Likely leaks first, biggest waste first; then biggest; SysV before POSIX; by id or name. */
static int obj_cmp(const void *x, const void *y)
{
	const struct audit_obj *a = x, *b = y;
	bool la = a->flags & AUDIT_LEAK_FLAGS, lb = b->flags & AUDIT_LEAK_FLAGS;

	if (la != lb)
		return la ? -1 : 1;
	if (a->waste != b->waste)
		return a->waste > b->waste ? -1 : 1;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	if (a->family != b->family)
		return a->family == AUDIT_SYSV ? -1 : 1;
	if (a->family == AUDIT_SYSV)
		return (a->sysv->shmid > b->sysv->shmid) -
		       (a->sysv->shmid < b->sysv->shmid);
	return strcmp(a->posix->name, b->posix->name);
}

static void count(struct audit *a)
{
	struct audit_totals *t = &a->totals;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < a->nobjs; i++) {
		const struct audit_obj *o = &a->objs[i];

		if (o->family == AUDIT_SYSV)
			t->sysv++;
		else if (o->posix->semaphore)
			t->semaphores++;
		else
			t->posix++;
		t->bytes += o->size;
		t->leaks += !!(o->flags & AUDIT_LEAK_FLAGS);
		t->waste += o->waste;
		t->orphaned += !!(o->flags & AUDIT_ORPHANED);
		t->stale += !!(o->flags & AUDIT_STALE);
		t->pending += !!(o->flags & AUDIT_PENDING);
		t->unseen += !!(o->flags & AUDIT_UNSEEN);
	}
}

static void collect(struct audit *a, const struct kernel_view *k,
		    const struct kernel_posix *unlinked, size_t nunlinked)
{
	size_t n = 0;

	a->objs = xcalloc(k->nsysv + k->nposix + nunlinked + 1,
			  sizeof(*a->objs));
	for (size_t i = 0; i < k->nsysv; i++)
		audit_sysv(a, &a->objs[n++], &k->sysv[i]);
	for (size_t i = 0; i < k->nposix; i++)
		audit_posix(a, &a->objs[n++], &k->posix[i], false);
	for (size_t i = 0; i < nunlinked; i++)
		audit_posix(a, &a->objs[n++], &unlinked[i], true);
	a->nobjs = n;
	for (size_t i = 0; i < n; i++)
		if (a->objs[i].flags & AUDIT_LEAK_FLAGS)
			a->objs[i].waste = a->objs[i].size;
	qsort(a->objs, n, sizeof(*a->objs), obj_cmp);
	count(a);
}

static void list_unreadable(struct audit *a)
{
	const struct kernel_scan *s = a->scan;

	a->unreadable = xcalloc(s->nunreadable + 1, sizeof(*a->unreadable));
	for (size_t i = 0; i < s->nprocs; i++)
		if (!s->procs[i].maps_read && s->procs[i].maps_errno)
			a->unreadable[a->nunreadable++] = &s->procs[i];
}

void audit_build(struct audit *a, const struct kernel_view *k,
		 const struct kernel_scan *scan)
{
	a->sysv_ok = k->sysv_ok;
	a->posix_ok = k->posix_ok;
	a->scan = scan;
	a->unlinked = find_unlinked(scan, k, &a->nunlinked);
	collect(a, k, a->unlinked, a->nunlinked);
	list_unreadable(a);
}

int audit_read(struct audit *a, struct kernel_view *k,
	       struct kernel_scan *scan, int64_t stale_after)
{
	kernel_read(k);
	if (kernel_scan(scan))
		return -1;
	a->now = (int64_t)time(NULL);
	a->stale_after = stale_after;
	a->uid = (uint32_t)getuid();
	audit_build(a, k, scan);
	return 0;
}

/* --- one verdict, one kind ------------------------------------------------------ */

enum audit_verdict audit_verdict(const struct audit_obj *o)
{
	if (o->flags & AUDIT_PENDING)
		return AUDIT_VERDICT_PENDING;
	if (o->flags & AUDIT_ORPHANED)
		return AUDIT_VERDICT_ORPHANED;
	if (o->flags & AUDIT_STALE)
		return AUDIT_VERDICT_STALE;
	return AUDIT_VERDICT_OK;
}

const char *audit_verdict_name(enum audit_verdict v)
{
	static const char *const names[AUDIT_VERDICT_COUNT] = {
		"ok", "orphaned", "stale", "pending" };

	return v < AUDIT_VERDICT_COUNT ? names[v] : "?";
}

enum audit_kind audit_kind_of(const struct audit_obj *o)
{
	if (o->family == AUDIT_SYSV)
		return AUDIT_KIND_SYSV;
	return o->posix->semaphore ? AUDIT_KIND_SEM : AUDIT_KIND_POSIX;
}

const char *audit_kind_name(enum audit_kind k)
{
	static const char *const names[AUDIT_KIND_COUNT] = {
		"sysv", "posix", "sem" };

	return k < AUDIT_KIND_COUNT ? names[k] : "?";
}

bool audit_owner(const struct audit_obj *o, uint32_t *uid)
{
	if (o->family == AUDIT_SYSV) {
		*uid = o->sysv->uid;
		return true;
	}
	*uid = o->posix->uid;
	return !o->unlinked;
}

/* --- --trace: which of these the trace made ------------------------------------ */

static bool same_name(const char *a, const char *b)
{
	while (*a == '/')
		a++;
	while (*b == '/')
		b++;
	return !strcmp(a, b);
}

/* The trace's segment that is this object: SysV by shmid and key, POSIX
 * by name and inode, or, without an inode, by the reconciled model's
 * judgement (in_kernel: not a name unlinked and made again since).  The
 * last one, when the trace saw an id or a name used twice. */
static const struct segment *traced_segment(const struct model *m,
					    const struct audit_obj *o)
{
	const struct segment *found = NULL;

	for (size_t i = 0; i < m->nsegments; i++) {
		const struct segment *s = m->segments[i];

		if (!s->created)
			continue;
		if (o->family == AUDIT_SYSV && s->kind == SEG_SYSV &&
		    s->shmid == o->sysv->shmid &&
		    (s->key == o->key || (o->sysv->dest && !o->key)))
			found = s;
		char name[4096];
		if (o->family == AUDIT_POSIX &&
		    model_shm_name(s, name, sizeof(name)) &&
		    same_name(name, o->posix->name) &&
		    (s->inode ? s->inode == o->posix->inode : s->in_kernel))
			found = s;
	}
	return found;
}

struct sym_table *audit_annotate(struct audit *a, const struct model *m,
				 const struct trace *t, const char *path)
{
	struct sym_table *st = NULL;

	a->trace_path = path;
	a->model = m;
	for (size_t i = 0; i < a->nobjs; i++) {
		struct audit_obj *o = &a->objs[i];
		const struct segment *s = traced_segment(m, o);

		if (!s)
			continue;
		if (!st)        /* no ELF file is opened unless needed */
			st = sym_learn_trace(t);
		o->traced = xcalloc(1, sizeof(*o->traced));
		o->traced->seg = s;
		o->traced->creator = model_process(m, s->creator.pid);
		report_resolve_stack(m, st, &s->creator, &o->traced->stack);
	}
	return st;
}

void audit_free(struct audit *a)
{
	for (size_t i = 0; i < a->nobjs; i++) {
		struct audit_obj *o = &a->objs[i];

		free(o->mappers);
		free(o->holders);
		if (o->traced)
			free(o->traced->stack.frames);
		free(o->traced);
	}
	free(a->objs);
	free(a->unreadable);
	for (size_t i = 0; i < a->nunlinked; i++)
		free(a->unlinked[i].name);
	free(a->unlinked);
}

const char *audit_flag_name(unsigned bit)
{
	switch (bit) {
	case AUDIT_ORPHANED: return "orphaned";
	case AUDIT_STALE: return "stale";
	case AUDIT_PENDING: return "pending";
	case AUDIT_UNSEEN: return "unseen";
	default: return "?";
	}
}
