/*
 * cmd-audit.c - `shmview audit`: the shared memory of the whole machine
 * now, from the kernel's own records, without a trace.
 *
 * Tracing cannot go back in time, but the kernel still knows a lot: every
 * SysV segment with its creator, last user, attach count and times
 * (/proc/sysvipc/shm), every POSIX object with its owner and times
 * (/dev/shm), and who maps or holds each one now (/proc/PID/maps and
 * /proc/PID/fd of every process this user may inspect).  From that this
 * decides which objects look leaked (audit.h), sorts them by the memory
 * they waste, and hands the result to a renderer.  With --trace, the
 * objects that trace created get its creation backtrace.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cmd.h"
#include "kernel.h"
#include "model.h"
#include "render.h"
#include "report.h"
#include "symbolize.h"
#include "trace.h"
#include "util.h"

static const char audit_usage[] =
"usage: shmview audit [--json] [--stale SECONDS] [--trace TRACE]\n"
"\n"
"Audit the shared memory of this machine now, from the kernel's records\n"
"(no trace needed): every SysV segment and POSIX object, which processes\n"
"have each mapped, and the likely leaks (orphaned, stale, pending),\n"
"biggest waste first, with totals.  As an ordinary user it says which\n"
"processes it could not inspect.\n"
"\n"
"  --json            one JSON object instead of text\n"
"  --stale SECONDS   unused for longer than this is stale (default 3600;\n"
"                    or with a unit: 90s, 30m, 12h, 2d)\n"
"  --trace TRACE     show the creation backtrace of each object TRACE made\n"
"  -h, --help        show this help\n"
"  -V, --version     print the version\n";

struct audit_options {
	bool json;
	int64_t stale;
	const char *trace;
};

/* "3600", "90s", "30m", "12h", "2d": seconds. */
static int parse_stale(const char *s, int64_t *out)
{
	static const struct { char unit; int64_t mult; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char *end;
	long long v;
	int64_t mult = 0;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0 || *s == '-')
		return -1;
	if (!*end)
		mult = 1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && *end; i++)
		if (end[0] == units[i].unit && !end[1])
			mult = units[i].mult;
	if (!mult || v > INT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* Returns 0 with *o set, 1 after --help/--version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct audit_options *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "stale", required_argument, NULL, 's' },
		{ "trace", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 's':
			if (parse_stale(optarg, &o->stale))
				return error("audit: bad --stale '%s': want seconds, "
					     "or a number with s, m, h or d", optarg);
			break;
		case 't': o->trace = optarg; break;
		case 'h': fputs(audit_usage, stdout); return 1;
		case 'V': printf("%s %s\n", SHMVIEW_NAME, SHMVIEW_VERSION); return 1;
		default:
			return bad_option("audit", argv, longopts);
		}
	}
	if (optind != argc)
		return error("audit: no argument expected, got '%s' (see "
			     "'shmview audit --help')", argv[optind]);
	return 0;
}

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

/* --- the objects ------------------------------------------------------------ */

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
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			out = xrealloc(out, cap * sizeof(*out));
		}
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
		if (o->family == AUDIT_POSIX && s->kind == SEG_POSIX &&
		    s->name && same_name(s->name, o->posix->name) &&
		    (s->inode ? s->inode == o->posix->inode : s->in_kernel))
			found = s;
	}
	return found;
}

/* The symbol table is returned (NULL when no object matched): its strings
 * are the frames' and must outlive the rendering. */
static struct sym_table *annotate(struct audit *a, const struct model *m,
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

/* --- the command ---------------------------------------------------------------- */

static void free_audit(struct audit *a)
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
}

static int audit(const struct audit_options *o)
{
	struct audit a = { 0 };
	struct kernel_view k;
	struct kernel_scan scan;
	struct kernel_posix *unlinked;
	size_t nunlinked;
	struct model m = { 0 };
	struct trace t = { 0 };
	struct sym_table *st = NULL;
	int rc = 0;

	/* a bad trace is an error before any work */
	if (o->trace) {
		if (trace_open(o->trace, &t) < 0) {
			trace_close(&t);
			return 1;
		}
		model_build(&m, &t, UINT64_MAX);
	}
	kernel_read(&k);
	if (o->trace)	/* the model decides which object is the trace's */
		model_reconcile(&m, &k);
	if (kernel_scan(&scan)) {
		kernel_free(&k);
		model_free(&m);
		trace_close(&t);
		return 1;
	}
	a.now = (int64_t)time(NULL);
	a.stale_after = o->stale;
	a.uid = (uint32_t)getuid();
	a.sysv_ok = k.sysv_ok;
	a.posix_ok = k.posix_ok;
	a.scan = &scan;
	unlinked = find_unlinked(&scan, &k, &nunlinked);
	collect(&a, &k, unlinked, nunlinked);
	list_unreadable(&a);
	if (o->trace)
		st = annotate(&a, &m, &t, o->trace);
	if (o->json)
		audit_json(stdout, &a);
	else
		audit_text(stdout, &a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		error("write error on standard output");
		rc = 1;
	}
	free_audit(&a);
	sym_free(st);
	for (size_t i = 0; i < nunlinked; i++)
		free(unlinked[i].name);
	free(unlinked);
	model_free(&m);
	trace_close(&t);
	kernel_scan_free(&scan);
	kernel_free(&k);
	return rc;
}

int cmd_audit(int argc, char **argv)
{
	struct audit_options o = { false, AUDIT_DEFAULT_STALE, NULL };
	int rc = parse_options(argc, argv, &o);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	return audit(&o);
}
