/*
 * report-text.c - the text renderers of `shmview report`: the full audit,
 * and the short valgrind-like summary the launcher prints at exit.
 *
 *   [1] sysv shmid 42 key 0x53001234, 4096 bytes: LEAKED
 *       created    +0.000412s by pid 4242 (sysv-server)
 *           #0 0x000055d0c3a1b2c4 main+0x24 (/path/server) sysv-server.c:76
 *       attachments:
 *         pid 4242 (sysv-server)
 *           0x7f1e2c000000-0x7f1e2c001000 rw shmat  +0.000415s .. +0.000433s
 *       remove it with: ipcrm -m 42
 *
 * Times are seconds since the trace started.  Every string that comes from
 * a traced program or an ELF file is escaped: no control byte reaches the
 * terminal.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "decode.h"
#include "profile.h"
#include "render.h"
#include "report.h"
#include "util.h"
#include "words.h"

#define SUMMARY_FRAMES 12   /* valgrind's --num-callers default */

/* --- small pieces -------------------------------------------------------- */

/* A duration: "0.012345s". */
static void put_duration(FILE *out, uint64_t ns)
{
	fprintf(out, "%" PRIu64 ".%06" PRIu64 "s", ns / 1000000000u,
		ns % 1000000000u / 1000u);
}

/* "pid 4242 (sysv-server)", or "pid 4242" when its image is unknown. */
static void put_pid(FILE *out, const struct model *m, int32_t pid)
{
	words_put_pid(out, pid, model_process(m, pid));
}

/* --- the audit: segments ------------------------------------------------- */

static void put_stack(FILE *out, const struct report_stack *st)
{
	words_put_frames(out, "          ", st->frames, st->nframes,
			 st->truncated);
}

static void put_seg_title(FILE *out, const struct report *r,
			  const struct segment *s)
{
	fprintf(out, "[%u] ", s->index + 1);
	words_put_identity(out, s);
	if (s->size)
		fprintf(out, ", %" PRIu64 " bytes", s->size);
	else
		fputs(", size unknown", out);
	fprintf(out, ": %s", words_state(s));
	if (r->segs[s->index].suppressed)
		fprintf(out, " (suppressed: %s)", r->segs[s->index].suppressed);
	fputc('\n', out);
}

static void put_lifetime(FILE *out, const struct report *r,
			 const struct segment *s, const struct report_seg *rs)
{
	fprintf(out, "    %-10s ", s->created ? "created" : "first seen");
	words_put_time(out, s->created_ns);
	fputs(" by ", out);
	put_pid(out, r->model, s->creator.pid);
	fputc('\n', out);
	put_stack(out, &rs->created);
	if (s->marked && s->remover.seq != MODEL_NO_SEQ) {
		fprintf(out, "    %-10s ", "removal");
		words_put_time(out, s->marked_ns);
		fputs(" asked by ", out);
		put_pid(out, r->model, s->remover.pid);
		fputc('\n', out);
		put_stack(out, &rs->removed);
	}
	if (s->destroyed) {
		fprintf(out, "    %-10s ", "destroyed");
		words_put_time(out, s->destroyed_ns);
		fputc('\n', out);
	}
}

struct att_ref {
	const struct attachment *a;
	size_t pos;
};

/* By process (in order of appearance), then in attach order. */
static int att_cmp(const void *x, const void *y)
{
	const struct att_ref *a = x, *b = y;
	unsigned pa = a->a->proc->index, pb = b->a->proc->index;

	if (pa != pb)
		return pa < pb ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static void put_attachment(FILE *out, const struct model *m,
			   const struct attachment *a)
{
	fprintf(out, "        0x%" PRIx64 "-0x%" PRIx64 " %s %-5s ", a->addr,
		a->addr + a->length, a->readonly ? "ro" : "rw",
		model_how_name(a->how));
	words_put_time(out, a->attached_ns);
	if (a->live) {
		fputs(" .. still attached", out);
	} else {
		fputs(" .. ", out);
		words_put_time(out, a->detached_ns);
	}
	if (a->private_map)
		fputs(" (private copy)", out);
	words_put_att_origin(out, m, a);
	fputc('\n', out);
}

/* A process's attachments, the first few and the last few, with a line
 * for what lies between: 5000 per-request mappings of one file read as
 * one run. */
#define ATT_HEAD 4
#define ATT_TAIL 2
static void put_process_attachments(FILE *out, const struct model *m,
				    const struct att_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (n > ATT_HEAD + ATT_TAIL + 1 && i == ATT_HEAD) {
			size_t skip = n - ATT_HEAD - ATT_TAIL;
			fprintf(out, "        ... %zu more attachments, ", skip);
			words_put_time(out, refs[i].a->attached_ns);
			fputs(" .. ", out);
			words_put_time(out, refs[i + skip - 1].a->live ?
				       m->until_ns : refs[i + skip - 1].a->detached_ns);
			fputc('\n', out);
			i += skip - 1;
			continue;
		}
		put_attachment(out, m, refs[i].a);
	}
}

static void put_attachments(FILE *out, const struct report *r,
			    const struct segment *s)
{
	struct att_ref *refs;
	const struct process *last = NULL;

	if (!s->natt) {
		fputs("    never attached\n", out);
		return;
	}
	refs = xcalloc(s->natt, sizeof(*refs));
	for (size_t i = 0; i < s->natt; i++)
		refs[i] = (struct att_ref){ s->att[i], i };
	qsort(refs, s->natt, sizeof(*refs), att_cmp);
	fprintf(out, "    attachments (%zu):\n", s->natt);
	for (size_t i = 0, first = 0; i <= s->natt; i++) {
		if (i < s->natt && refs[i].a->proc == last)
			continue;
		if (last)
			put_process_attachments(out, r->model, refs + first, i - first);
		if (i == s->natt)
			break;
		last = refs[i].a->proc;
		first = i;
		fputs("      ", out);
		put_pid(out, r->model, last->pid);
		fputc('\n', out);
	}
	free(refs);
}

static void put_notes(FILE *out, const struct segment *s)
{
	for (unsigned bit = 1; bit && bit <= s->notes; bit <<= 1)
		if (s->notes & bit && words_note_text(bit))
			fprintf(out, "    note: %s\n", words_note_text(bit));
	if (s->in_kernel && s->kind == SEG_SYSV)
		fprintf(out, "    kernel: %" PRIu32 " attached now, creator pid "
			"%" PRId32 "\n", s->k_nattch, s->k_cpid);
}

static void put_segment(FILE *out, const struct report *r,
			const struct segment *s)
{
	put_seg_title(out, r, s);
	put_lifetime(out, r, s, report_seg(r, s->index));
	put_attachments(out, r, s);
	put_notes(out, s);
	if (model_is_leak(s)) {
		fputs("    remove it with: ", out);
		if (!words_put_remove_cmd(out, s))
			fputs("(nothing: it goes with its last process)", out);
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* --- the audit: processes ------------------------------------------------ */

static void put_argv(FILE *out, char *const *argv)
{
	fputc('[', out);
	for (size_t i = 0; argv && argv[i]; i++) {
		fputs(i ? ", " : "", out);
		words_put_quoted(out, argv[i]);
	}
	fputc(']', out);
}

static void put_process(FILE *out, const struct process *p, unsigned depth)
{
	fprintf(out, "  %*s%" PRId32 " ", (int)(2 * depth), "", p->pid);
	if (p->exe) {
		words_put_quoted(out, p->exe);
		fputc(' ', out);
		put_argv(out, p->argv);
	} else {
		fputs("(image unknown)", out);
	}
	fputs("  ", out);
	words_put_time(out, p->start_ns);
	fputs(" .. ", out);
	words_put_process_end(out, p);
	fputc('\n', out);
}

#define NO_PROC SIZE_MAX
#define MAX_INDENT 32        /* deeper descendants are shown at this depth */

/* The process tree as index links: children in order of appearance. */
struct proc_tree {
	size_t *first_child, *next_sibling, *parent;
	bool *shown;
};

/* p's parent in the model, by index; NO_PROC when unknown (or itself). */
static size_t parent_index(const struct model *m, const struct process *p)
{
	const struct process *pp = p->ppid ? model_process(m, p->ppid) : NULL;

	return pp && pp != p ? pp->index : NO_PROC;
}

static void tree_build(const struct model *m, struct proc_tree *t)
{
	size_t n = m->nprocesses;

	t->first_child = xmalloc(n * sizeof(size_t));
	t->next_sibling = xmalloc(n * sizeof(size_t));
	t->parent = xmalloc(n * sizeof(size_t));
	t->shown = xcalloc(n, sizeof(bool));
	for (size_t i = 0; i < n; i++)
		t->first_child[i] = t->next_sibling[i] = NO_PROC;
	for (size_t i = n; i-- > 0;) {
		size_t pp = parent_index(m, m->processes[i]);

		t->parent[i] = pp;
		if (pp != NO_PROC) {
			t->next_sibling[i] = t->first_child[pp];
			t->first_child[pp] = i;
		}
	}
}

static void tree_free(struct proc_tree *t)
{
	free(t->first_child);
	free(t->next_sibling);
	free(t->parent);
	free(t->shown);
}

/* Depth-first from `root` without recursion (fork chains can be deep);
 * `shown` also stops the cycles reused pids can make. */
static void put_tree(FILE *out, const struct model *m, struct proc_tree *t,
		     size_t root)
{
	size_t i = root;
	unsigned depth = 0;

	for (;;) {
		t->shown[i] = true;
		put_process(out, m->processes[i],
			    depth < MAX_INDENT ? depth : MAX_INDENT);
		size_t next = t->first_child[i];
		while (next != NO_PROC && t->shown[next])
			next = t->next_sibling[next];
		if (next != NO_PROC) {        /* down */
			i = next;
			depth++;
			continue;
		}
		for (;;) {                    /* up until a sibling is left */
			if (i == root)
				return;
			next = t->next_sibling[i];
			while (next != NO_PROC && t->shown[next])
				next = t->next_sibling[next];
			if (next != NO_PROC)
				break;
			i = t->parent[i];
			depth--;
		}
		i = next;
	}
}

static void put_processes(FILE *out, const struct model *m)
{
	struct proc_tree t;

	tree_build(m, &t);
	fprintf(out, "processes (%zu):\n", m->nprocesses);
	for (size_t i = 0; i < m->nprocesses; i++)
		if (t.parent[i] == NO_PROC)
			put_tree(out, m, &t, i);
	for (size_t i = 0; i < m->nprocesses; i++)   /* a cycle's members */
		if (!t.shown[i])
			put_tree(out, m, &t, i);
	fputc('\n', out);
	tree_free(&t);
}

/* --- the audit: profile -------------------------------------------------- */

/* The calls as dump -c counts them (profile.h), with dump's names. */
static void put_calls(FILE *out, const struct call_profile *p)
{
	fprintf(out, "  %-14s %8s %8s %12s %12s %12s %7s\n", "call", "calls",
		"errors", "total", "avg", "max", "share");
	for (size_t i = 0; i < p->n; i++) {
		const struct profile_row *r = &p->rows[i];

		fprintf(out, "  %-14s %8" PRIu64 " %8" PRIu64 "   ", r->name,
			r->calls, r->errors);
		put_duration(out, r->total_ns);
		fputs("   ", out);
		put_duration(out, profile_avg_ns(r));
		fputs("   ", out);
		put_duration(out, r->max_ns);
		fprintf(out, " %6.2f%%\n", profile_share(p, r));
	}
}

static void put_errnos(FILE *out, const struct model_profile *pr)
{
	bool any = false;

	for (int e = 1; e < 256; e++) {
		const char *name = decode_errno_name(e);

		if (!pr->by_errno[e])
			continue;
		fputs(any ? ", " : "  failed calls by errno: ", out);
		if (name)
			fprintf(out, "%s %" PRIu64, name, pr->by_errno[e]);
		else
			fprintf(out, "%d %" PRIu64, e, pr->by_errno[e]);
		any = true;
	}
	fputs(any ? "\n" : "  no call failed\n", out);
}

static void put_profile(FILE *out, const struct report *r)
{
	const struct model_profile *pr = &r->model->prof;

	fputs("profile:\n", out);
	put_calls(out, &r->calls);
	put_errnos(out, pr);
	fprintf(out, "  peak attached: %" PRIu64 " bytes", pr->peak_bytes);
	if (pr->peak_bytes) {
		fputs(" at ", out);
		words_put_time(out, pr->peak_ns);
	}
	fputc('\n', out);
	if (!pr->attach_count) {
		fputs("  attachments ended: 0\n", out);
		return;
	}
	fprintf(out, "  attachments ended: %" PRIu64 ", lasting min ",
		pr->attach_count);
	put_duration(out, pr->attach_min_ns);
	fputs(" avg ", out);
	put_duration(out, pr->attach_total_ns / pr->attach_count);
	fputs(" max ", out);
	put_duration(out, pr->attach_max_ns);
	fputc('\n', out);
}

/* --- the audit: header and totals ---------------------------------------- */

static void put_program(FILE *out, const struct report *r)
{
	const struct process *p = model_process(r->model, r->main_pid);

	fputs("program: ", out);
	if (!p) {
		fputs("unknown\n", out);
		return;
	}
	fprintf(out, "pid %" PRId32 " ", p->pid);
	if (p->exe) {
		words_put_quoted(out, p->exe);
		fputc(' ', out);
		put_argv(out, p->argv);
	}
	fputc('\n', out);
}

/* A trace of `shmtrace -p`: the window it saw, since the trace's start. */
static void put_attach_window(FILE *out, const struct trace *t)
{
	const struct shmt_header *h = t->hdr;
	uint64_t a = __atomic_load_n(&h->attached_at, __ATOMIC_RELAXED);
	uint64_t d = __atomic_load_n(&h->detached_at, __ATOMIC_RELAXED);
	if (!a || a < t->start_ns)
		return;
	fputs("; attached at +", out);
	put_duration(out, a - t->start_ns);
	if (d >= a) {
		fputs(", detached at +", out);
		put_duration(out, d - t->start_ns);
	}
}

static void put_run(FILE *out, const struct report *r)
{
	const struct model *m = r->model;
	int64_t st = r->trace->exit_status;
	char buf[32];

	fputs("run: ", out);
	if (m->running)
		fputs("running", out);
	else if (!m->final)
		fputs("ended, but the trace was not finished", out);
	else if (WIFSIGNALED((int)st))
		fprintf(out, "finished, killed by %s",
			words_signal(WTERMSIG((int)st), buf, sizeof(buf)));
	else
		fprintf(out, "finished, exit %d", WEXITSTATUS((int)st));
	fprintf(out, "; %" PRIu64 " event%s over ", m->events,
		words_plural(m->events));
	put_duration(out, m->until_ns);
	put_attach_window(out, r->trace);
	fputc('\n', out);
}

static void put_losses(FILE *out, const struct report *r)
{
	const struct trace_counters *c = &r->counters;
	const struct model *m = r->model;

	if (c->dropped)
		fprintf(out, "warning: %" PRIu64 " event%s dropped (the trace "
			"region was full): this report may be wrong\n",
			c->dropped, words_plural(c->dropped));
	if (m->abandoned && m->final)
		fprintf(out, "warning: %" PRIu64 " slot%s abandoned: %s\n",
			m->abandoned, words_plural(m->abandoned),
			words_abandoned_why);
	else if (m->abandoned)
		fprintf(out, "warning: %" PRIu64 " slot%s not committed yet\n",
			m->abandoned, words_plural(m->abandoned));
	if (m->corrupt)
		fprintf(out, "warning: %" PRIu64 " corrupt slot%s skipped\n",
			m->corrupt, words_plural(m->corrupt));
	if (c->strings_dropped)
		fprintf(out, "warning: %" PRIu64 " string%s cut or lost\n",
			c->strings_dropped, words_plural(c->strings_dropped));
	if (c->capacity_lost)
		fprintf(out, "warning: %" PRIu64 " capacity record%s of the "
			"launcher lost (the region was full)\n", c->capacity_lost,
			words_plural(c->capacity_lost));
}

/* "N leaked", or, when the trace lost what the verdict needs, "leaks
 * unknown (the trace lost ...)" or "at least N leaked (the trace lost ...)". */
static void put_leaked(FILE *out, const struct report *r)
{
	char buf[256];
	const char *lost = report_lost(&r->counters, r->model, buf, sizeof(buf));
	uint64_t n = r->totals.leaked;

	if (!lost)
		fprintf(out, "%" PRIu64 " leaked", n);
	else if (!n)
		fprintf(out, "leaks unknown (the trace lost %s)", lost);
	else
		fprintf(out, "at least %" PRIu64 " leaked (the trace lost %s)",
			n, lost);
}

static void put_totals(FILE *out, const struct report *r)
{
	const struct report_totals *t = &r->totals;

	uint64_t left = t->by_state[SEG_LEAKED] - t->leaked;

	fprintf(out, "%" PRIu64 " segment%s: %" PRIu64 " removed, ", t->segments,
		words_plural(t->segments), t->by_state[SEG_REMOVED]);
	put_leaked(out, r);
	fprintf(out, ", %" PRIu64 " live, %" PRIu64 " pending",
		t->by_state[SEG_LIVE], t->by_state[SEG_PENDING]);
	if (r->suppressed)
		fprintf(out, " (%" PRIu64 " leak%s suppressed)", r->suppressed,
			words_plural(r->suppressed));
	if (left)    /* still there, as they were before the trace */
		fprintf(out, ", %" PRIu64 " left in place", left);
	if (t->by_state[SEG_ENDED])	/* files whose mappings ended */
		fprintf(out, ", %" PRIu64 " file%s ended", t->by_state[SEG_ENDED],
			words_plural(t->by_state[SEG_ENDED]));
	fputc('\n', out);
}

/* --- capacity: the run's tmpfs peaks, a death by SIGBUS ---------------- */

/* Each line of the capacity part starts with `pre` ("==PID==    " in the
 * summary, "  " in the report). */
static void put_tmpfs_peaks(FILE *out, const struct report *r, const char *pre)
{
	const struct run_capacity *c = &r->capacity;
	char a[32], b[32];

	for (size_t i = 0; i < c->nfs; i++) {
		const struct run_tmpfs *fs = &c->fs[i];

		if (!fs->shown)
			continue;
		fprintf(out, "%stmpfs ", pre);
		words_put_safe(out, fs->mount);
		fputs(": peak ", out);
		words_put_fill(out, fs->peak, fs->size, 0, 0);
		fprintf(out, "; %s before the run\n",
			words_bytes(fs->start, a, sizeof(a)));
	}
	if (!c->cgroup || (!c->memfd && c->cgroup_limit == TMPFS_NO_LIMIT))
		return;
	fprintf(out, "%s%smemory cgroup ", pre, c->memfd ?
		"memfds (no tmpfs limit, bounded by memory): " : "");
	words_put_safe(out, c->cgroup_path);
	fprintf(out, ": peak %s used, %s shmem; ",
		words_bytes(c->cgroup_peak, a, sizeof(a)),
		words_bytes(c->cgroup_shmem_peak, b, sizeof(b)));
	if (c->cgroup_limit == TMPFS_NO_LIMIT)
		fputs("no limit\n", out);
	else
		fprintf(out, "limit %s (%u%%)\n",
			words_bytes(c->cgroup_limit, a, sizeof(a)),
			capacity_percent(c->cgroup_peak, c->cgroup_limit));
}

static void put_sigbus_map(FILE *out, const struct run_capacity *c,
			   const struct sigbus_map *sm, const char *pre)
{
	char a[32];

	fprintf(out, "%s  ", pre);
	words_put_identity(out, sm->seg);
	fprintf(out, " at 0x%" PRIx64 "-0x%" PRIx64 " (%s)", sm->addr,
		sm->addr + sm->length, words_bytes(sm->length, a, sizeof(a)));
	if (sm->path && !(sm->seg->name && !strcmp(sm->seg->name, sm->path))) {
		fputs(", ", out);	/* unless the identity says it already */
		words_put_safe(out, sm->path);
	}
	if (sm->fs >= 0) {
		fputs(" on tmpfs ", out);
		words_put_safe(out, c->fs[sm->fs].mount);
	} else if (sm->internal) {
		fputs(" (kernel's internal tmpfs: no size limit)", out);
	} else if (sm->seg->kind == SEG_FILE || sm->seg->kind == SEG_POSIX) {
		fputs(" (its file system is not known)", out);
	}
	fputc('\n', out);
}

/* The first line starts with `head`, the others with `pre`. */
static void put_sigbus(FILE *out, const struct report *r,
		       const struct sigbus_death *d, const char *head,
		       const char *pre)
{
	const struct run_capacity *c = &r->capacity;
	char a[32], b[32];

	fputs(head, out);
	put_pid(out, r->model, d->proc->pid);
	fprintf(out, " was killed by SIGBUS with %zu shared mapping%s:\n",
		d->nmaps, words_plural(d->nmaps));
	for (size_t i = 0; i < d->nmaps; i++)
		put_sigbus_map(out, c, &d->maps[i], pre);
	if (d->full_fs >= 0) {
		fprintf(out, "%s  tmpfs ", pre);
		words_put_safe(out, c->fs[d->full_fs].mount);
		fprintf(out, " was full %s (%s of %s used)", !d->sampled ?
			"at the run's peak" : d->by_launcher ? "when it died" :
			"when its parent reaped it",
			words_bytes(d->full_used, a, sizeof(a)),
			words_bytes(d->full_size, b, sizeof(b)));
		fprintf(out, "\n%s  the likely cause: a write to a page a full "
			"tmpfs cannot provide raises SIGBUS\n", pre);
	} else if (d->nmaps) {
		fprintf(out, "%s  no tmpfs it mapped was full %s: the SIGBUS "
			"more likely came from an access past the end of a "
			"mapped file\n", pre, !d->sampled ? "at any sample" :
			d->by_launcher ? "when it died" : "when its parent reaped it");
	} else {
		fprintf(out, "%s  it had no traced shared mapping: the SIGBUS "
			"does not come from shared memory the trace saw\n", pre);
	}
	fprintf(out, "%s  (the faulting address reaches only a signal handler, "
		"which the tracer does not install)\n", pre);
}

static bool capacity_shown(const struct run_capacity *c)
{
	for (size_t i = 0; i < c->nfs; i++)
		if (c->fs[i].shown)
			return true;
	return c->cgroup && (c->memfd || c->cgroup_limit != TMPFS_NO_LIMIT);
}

static void put_capacity(FILE *out, const struct report *r)
{
	const struct run_capacity *c = &r->capacity;

	if (!c->recorded && !c->nsigbus)
		return;
	fputs("\ncapacity", out);
	if (c->recorded)
		fprintf(out, " (%" PRIu64 " samples by the launcher):\n",
			c->samples);
	else
		fputs(" (not sampled: traced without the launcher):\n", out);
	if (!capacity_shown(c) && !c->nsigbus)
		fputs("  no tmpfs holds the run's objects\n", out);
	put_tmpfs_peaks(out, r, "  ");
	for (size_t i = 0; i < c->nsigbus; i++)
		put_sigbus(out, r, &c->sigbus[i], "  ", "  ");
}

void report_text(FILE *out, const struct report *r)
{
	const struct model *m = r->model;

	fputs("trace: ", out);
	words_put_safe(out, r->path);
	fputc('\n', out);
	put_program(out, r);
	put_run(out, r);
	put_losses(out, r);
	fprintf(out, "\nsegments (%zu):\n", m->nsegments);
	if (!m->nsegments)
		fputs("  none\n", out);
	fputc('\n', out);
	for (size_t i = 0; i < m->nsegments; i++)
		put_segment(out, r, m->segments[i]);
	put_processes(out, m);
	put_capacity(out, r);
	put_profile(out, r);
	fputc('\n', out);
	put_totals(out, r);
}

/* --- the exit summary ------------------------------------------------------ */

/* valgrind's frame: "at 0x4005BD: main (server.c:76)" or "(in /lib)". */
static void put_summary_frame(FILE *out, int32_t pid, unsigned i,
			      const struct sym_frame *f)
{
	fprintf(out, "==%" PRId32 "==    %s 0x%" PRIx64 ": ", pid,
		i ? "by" : "at", f->ip);
	words_put_safe(out, f->symbol ? f->symbol : "???");
	if (f->file) {
		fputs(" (", out);
		words_put_safe(out, words_base_name(f->file));
		fprintf(out, ":%d)", f->line);
	} else if (f->module) {
		fputs(" (in ", out);
		words_put_safe(out, f->module);
		fputc(')', out);
	}
	fputc('\n', out);
}

static void put_summary_leak(FILE *out, const struct report *r,
			     const struct segment *s)
{
	const struct report_stack *st = &r->segs[s->index].created;
	int32_t pid = r->main_pid;

	fprintf(out, "==%" PRId32 "== \n==%" PRId32 "== leaked: ", pid, pid);
	words_put_identity(out, s);
	if (s->size)
		fprintf(out, ", %" PRIu64 " bytes", s->size);
	fputs(", created by ", out);
	put_pid(out, r->model, s->creator.pid);
	fputc('\n', out);
	for (unsigned i = 0; i < st->nframes && i < SUMMARY_FRAMES; i++)
		put_summary_frame(out, pid, i, &st->frames[i]);
	fprintf(out, "==%" PRId32 "==    remove it with: ", pid);
	if (!words_put_remove_cmd(out, s))
		fputs("(nothing to remove)", out);
	fputc('\n', out);
}

/* The run's tmpfs peaks when its objects live on one, and every death
 * by SIGBUS. */
static void put_summary_capacity(FILE *out, const struct report *r)
{
	const struct run_capacity *c = &r->capacity;
	char pre[40], head[40];

	snprintf(pre, sizeof(pre), "==%" PRId32 "==    ", r->main_pid);
	snprintf(head, sizeof(head), "==%" PRId32 "== ", r->main_pid);
	if (capacity_shown(c)) {
		fprintf(out, "==%" PRId32 "== \n==%" PRId32 "== capacity "
			"during the run (%" PRIu64 " samples):\n", r->main_pid,
			r->main_pid, c->samples);
		put_tmpfs_peaks(out, r, pre);
	}
	for (size_t i = 0; i < c->nsigbus; i++) {
		fprintf(out, "==%" PRId32 "== \n", r->main_pid);
		put_sigbus(out, r, &c->sigbus[i], head, pre);
	}
}

/* How many mappings the kernel showed that no traced call made, and of
 * which objects (the first few): the tracer's blind spots, said. */
static void put_summary_proc_only(FILE *out, const struct report *r)
{
	const struct model *m = r->model;
	uint64_t total = 0;
	unsigned shown = 0;

	for (size_t i = 0; i < m->nsegments; i++)
		for (size_t j = 0; j < m->segments[i]->natt; j++)
			total += m->segments[i]->att[j]->proc_only;
	if (!total)
		return;
	fprintf(out, "==%" PRId32 "== shmtrace: %" PRIu64 " mapping%s seen in "
		"/proc only (made by no call the shim saw; no stack):",
		r->main_pid, total, words_plural(total));
	for (size_t i = 0; i < m->nsegments; i++) {
		const struct segment *s = m->segments[i];
		uint64_t n = 0;
		for (size_t j = 0; j < s->natt; j++)
			n += s->att[j]->proc_only;
		if (!n)
			continue;
		if (shown++ == 5) {
			fputs(" ...", out);
			break;
		}
		fputs(shown > 1 ? ", " : " ", out);
		if (s->name && s->kind == SEG_FILE)
			words_put_safe(out, words_base_name(s->name));
		else
			words_put_identity(out, s);
		fprintf(out, " (%" PRIu64 ")", n);
	}
	fputc('\n', out);
}

void report_summary(FILE *out, const struct report *r)
{
	const struct report_totals *t = &r->totals;
	const struct model *m = r->model;
	const struct process *p = model_process(m, r->main_pid);

	if (!p || !p->traced) {	/* a static program, a shim not loaded */
		fputs("shmtrace: no event came from the program: it ran "
		      "untraced, so nothing is known of its segments\n", out);
		return;
	}
	fprintf(out, "==%" PRId32 "== shmtrace: %" PRIu64 " segment%s "
		"created, %" PRIu64 " removed, ", r->main_pid, t->created,
		words_plural(t->created), t->created_removed);
	put_leaked(out, r);
	if (r->suppressed)
		fprintf(out, " (%" PRIu64 " suppressed)", r->suppressed);
	put_attach_window(out, r->trace);
	fputc('\n', out);
	for (size_t i = 0; i < m->nsegments; i++)
		if (model_is_leak(m->segments[i]) && !r->segs[i].suppressed)
			put_summary_leak(out, r, m->segments[i]);
	put_summary_capacity(out, r);
	put_summary_proc_only(out, r);
}
