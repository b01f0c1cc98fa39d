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
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "decode.h"
#include "render.h"
#include "report.h"
#include "util.h"

#define SUMMARY_FRAMES 12   /* valgrind's --num-callers default */

/* --- small pieces -------------------------------------------------------- */

void report_put_safe(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			fputs("\\\\", out);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void put_quoted(FILE *out, const char *s)
{
	render_text_cstring(out, s, strlen(s));
}

/* Seconds since the trace's start: "+0.012345s". */
static void put_time(FILE *out, uint64_t ns)
{
	fprintf(out, "+%" PRIu64 ".%06" PRIu64 "s", ns / 1000000000u,
		ns % 1000000000u / 1000u);
}

static void put_duration(FILE *out, uint64_t ns)
{
	fprintf(out, "%" PRIu64 ".%06" PRIu64 "s", ns / 1000000000u,
		ns % 1000000000u / 1000u);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

/* "pid 4242 (sysv-server)", or "pid 4242" when its image is unknown. */
static void put_pid(FILE *out, const struct model *m, int32_t pid)
{
	const struct process *p = model_process(m, pid);

	fprintf(out, "pid %" PRId32, pid);
	if (p && p->exe) {
		fputs(" (", out);
		report_put_safe(out, base_name(p->exe));
		fputc(')', out);
	}
}

static const char *signal_name(int sig, char *buf, size_t size)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, size, "SIG%s", abbrev);
	else
		snprintf(buf, size, "signal %d", sig);
	return buf;
}

void report_put_identity(FILE *out, const struct segment *s)
{
	switch (s->kind) {
	case SEG_SYSV:
		fprintf(out, "sysv shmid %" PRId32, s->shmid);
		if (s->key)
			fprintf(out, " key 0x%" PRIx32, s->key);
		else
			fputs(" key IPC_PRIVATE", out);
		break;
	case SEG_POSIX:
		fputs("posix ", out);
		put_quoted(out, s->name ? s->name : "");
		break;
	case SEG_MEMFD:
		fputs("memfd:", out);
		put_quoted(out, s->name ? s->name : "");
		break;
	case SEG_ANON:
		fputs("anonymous shared mapping", out);
		break;
	case SEG_DEVZERO:
		fputs("shared mapping of /dev/zero", out);
		break;
	case SEG_FILE:
		if (s->name) {         /* known from /proc (procmap.c) */
			fputs("file ", out);
			put_quoted(out, s->name);
			fprintf(out, " inode %" PRIu64, s->inode);
		} else {
			fprintf(out, "file inode %" PRIu64, s->inode);
		}
		break;
	default:
		fputs("segment", out);
	}
}

char *report_identity(const struct segment *s, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");
	if (!f) {
		snprintf(buf, size, "%s", model_kind_name(s->kind));
		return buf;
	}
	report_put_identity(f, s);
	fclose(f);	/* fmemopen NUL-terminates, cutting if need be */
	return buf;
}

/* Whether c may stand unquoted in a shell word. */
static bool shell_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("_.,:+=@%/-", c);
}

/* `word` as one shell word: plain, '...', or $'...' for control bytes. */
static void put_shell_word(FILE *out, const char *word)
{
	bool plain = *word != '\0', printable = true;

	for (const char *p = word; *p; p++) {
		plain = plain && shell_plain((unsigned char)*p);
		printable = printable && *p >= 0x20 && *p < 0x7f;
	}
	if (plain) {
		fputs(word, out);
		return;
	}
	fputs(printable ? "'" : "$'", out);
	for (const char *p = word; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\'')
			fputs(printable ? "'\\''" : "\\'", out);
		else if (!printable && c == '\\')
			fputs("\\\\", out);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('\'', out);
}

bool report_put_remove_cmd(FILE *out, const struct segment *s)
{
	const char *name = s->name;
	char *path;

	if (s->kind == SEG_SYSV) {
		fprintf(out, "ipcrm -m %" PRId32, s->shmid);
		return true;
	}
	if (s->kind != SEG_POSIX || !name)
		return false;
	while (*name == '/')    /* shm_open("/x") is /dev/shm/x */
		name++;
	path = xmalloc(strlen(name) + sizeof("/dev/shm/"));
	strcpy(path, "/dev/shm/");
	strcat(path, name);
	fputs("rm ", out);
	put_shell_word(out, path);
	free(path);
	return true;
}

/* --- the audit: segments ------------------------------------------------- */

static void put_frame(FILE *out, const char *indent, unsigned i,
		      const struct sym_frame *f)
{
	fprintf(out, "%s#%u 0x%016" PRIx64 " ", indent, i, f->ip);
	if (f->symbol) {
		report_put_safe(out, f->symbol);
		fprintf(out, "+0x%" PRIx64, f->offset);
	} else {
		fputs("??", out);
	}
	if (f->module) {
		fputs(" (", out);
		report_put_safe(out, f->module);
		fputc(')', out);
	}
	if (f->file) {
		fputc(' ', out);
		report_put_safe(out, base_name(f->file));
		fprintf(out, ":%d", f->line);
	}
	fputc('\n', out);
}

void report_put_stack(FILE *out, const char *indent,
		      const struct report_stack *st)
{
	for (unsigned i = 0; i < st->nframes; i++)
		put_frame(out, indent, i, &st->frames[i]);
	if (st->truncated)
		fprintf(out, "%s... (deeper frames not recorded)\n", indent);
}

static void put_stack(FILE *out, const struct report_stack *st)
{
	report_put_stack(out, "          ", st);
}

static void put_state(FILE *out, const struct segment *s)
{
	switch (s->state) {
	case SEG_LEAKED:
		fputs(s->created ? "LEAKED" : "left in place (the trace did "
		      "not create it)", out);
		break;
	case SEG_PENDING: fputs("PENDING (marked for removal, still "
				"attached)", out); break;
	default:          fputs(model_state_name(s->state), out);
	}
}

static void put_seg_title(FILE *out, const struct segment *s)
{
	fprintf(out, "[%u] ", s->index + 1);
	report_put_identity(out, s);
	if (s->size)
		fprintf(out, ", %" PRIu64 " bytes", s->size);
	else
		fputs(", size unknown", out);
	fputs(": ", out);
	put_state(out, s);
	fputc('\n', out);
}

static void put_lifetime(FILE *out, const struct report *r,
			 const struct segment *s, const struct report_seg *rs)
{
	fprintf(out, "    %-10s ", s->created ? "created" : "first seen");
	put_time(out, s->created_ns);
	fputs(" by ", out);
	put_pid(out, r->model, s->creator.pid);
	fputc('\n', out);
	put_stack(out, &rs->created);
	if (s->marked && s->remover.seq != MODEL_NO_SEQ) {
		fprintf(out, "    %-10s ", "removal");
		put_time(out, s->marked_ns);
		fputs(" asked by ", out);
		put_pid(out, r->model, s->remover.pid);
		fputc('\n', out);
		put_stack(out, &rs->removed);
	}
	if (s->destroyed) {
		fprintf(out, "    %-10s ", "destroyed");
		put_time(out, s->destroyed_ns);
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

static void put_attachment(FILE *out, const struct attachment *a)
{
	fprintf(out, "        0x%" PRIx64 "-0x%" PRIx64 " %s %-5s ", a->addr,
		a->addr + a->length, a->readonly ? "ro" : "rw",
		model_how_name(a->how));
	put_time(out, a->attached_ns);
	if (a->live) {
		fputs(" .. still attached", out);
	} else {
		fputs(" .. ", out);
		put_time(out, a->detached_ns);
	}
	if (a->private_map)
		fputs(" (private copy)", out);
	fputc('\n', out);
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
	for (size_t i = 0; i < s->natt; i++) {
		if (refs[i].a->proc != last) {
			last = refs[i].a->proc;
			fputs("      ", out);
			put_pid(out, r->model, last->pid);
			fputc('\n', out);
		}
		put_attachment(out, refs[i].a);
	}
	free(refs);
}

static void put_notes(FILE *out, const struct segment *s)
{
	static const struct { unsigned bit; const char *text; } notes[] = {
		{ SEG_NOTE_PREEXISTING, "it existed before the trace saw it" },
		{ SEG_NOTE_REMOVED_OUTSIDE, "it was removed by a process "
		  "outside the trace" },
		{ SEG_NOTE_ATTACHED_OUTSIDE, "the kernel counts attaches the "
		  "trace did not see" },
		{ SEG_NOTE_NAME_REUSED, "its name now belongs to another "
		  "object" },
		{ SEG_NOTE_UNKNOWN_ORIGIN, "mapped from a descriptor whose "
		  "opening was not recorded" },
	};

	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		if (s->notes & notes[i].bit)
			fprintf(out, "    note: %s\n", notes[i].text);
	if (s->in_kernel && s->kind == SEG_SYSV)
		fprintf(out, "    kernel: %" PRIu32 " attached now, creator pid "
			"%" PRId32 "\n", s->k_nattch, s->k_cpid);
}

static void put_segment(FILE *out, const struct report *r,
			const struct segment *s)
{
	put_seg_title(out, s);
	put_lifetime(out, r, s, &r->segs[s->index]);
	put_attachments(out, r, s);
	put_notes(out, s);
	if (model_is_leak(s)) {
		fputs("    remove it with: ", out);
		if (!report_put_remove_cmd(out, s))
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
		put_quoted(out, argv[i]);
	}
	fputc(']', out);
}

static void put_end(FILE *out, const struct process *p)
{
	char buf[32];

	if (!p->ended) {
		fputs("running", out);
		return;
	}
	put_time(out, p->end_ns);
	if (p->signal)
		fprintf(out, ", killed by %s",
			signal_name(p->signal, buf, sizeof(buf)));
	else if (p->exit_status >= 0)
		fprintf(out, ", exit %d", p->exit_status);
}

static void put_process(FILE *out, const struct process *p, unsigned depth)
{
	fprintf(out, "  %*s%" PRId32 " ", (int)(2 * depth), "", p->pid);
	if (p->exe) {
		put_quoted(out, p->exe);
		fputc(' ', out);
		put_argv(out, p->argv);
	} else {
		fputs("(image unknown)", out);
	}
	fputs("  ", out);
	put_time(out, p->start_ns);
	fputs(" .. ", out);
	put_end(out, p);
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

static void put_calls(FILE *out, const struct model_profile *pr)
{
	fprintf(out, "  %-14s %8s %8s %12s\n", "call", "calls", "failed",
		"time");
	for (unsigned c = 1; c < SHMT_CALL_COUNT; c++) {
		const struct model_call_stats *st = &pr->by_call[c];
		const char *name = decode_call_name(c);

		if (!st->calls || !name)
			continue;
		fprintf(out, "  %-14s %8" PRIu64 " %8" PRIu64 "   ", name,
			st->calls, st->failed);
		put_duration(out, st->total_ns);
		fputc('\n', out);
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

static void put_profile(FILE *out, const struct model *m)
{
	const struct model_profile *pr = &m->prof;

	fputs("profile:\n", out);
	put_calls(out, pr);
	put_errnos(out, pr);
	fprintf(out, "  peak attached: %" PRIu64 " bytes", pr->peak_bytes);
	if (pr->peak_bytes) {
		fputs(" at ", out);
		put_time(out, pr->peak_ns);
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

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

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
		put_quoted(out, p->exe);
		fputc(' ', out);
		put_argv(out, p->argv);
	}
	fputc('\n', out);
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
			signal_name(WTERMSIG((int)st), buf, sizeof(buf)));
	else
		fprintf(out, "finished, exit %d", WEXITSTATUS((int)st));
	fprintf(out, "; %" PRIu64 " event%s over ", m->events, plural(m->events));
	put_duration(out, m->until_ns);
	fputc('\n', out);
}

static void put_losses(FILE *out, const struct report *r)
{
	const struct trace_counters *c = &r->counters;
	const struct model *m = r->model;

	if (c->dropped)
		fprintf(out, "warning: %" PRIu64 " event%s dropped (the trace "
			"region was full): this report may be wrong\n",
			c->dropped, plural(c->dropped));
	if (m->abandoned)
		fprintf(out, "warning: %" PRIu64 " slot%s %s\n", m->abandoned,
			plural(m->abandoned), m->final ? "abandoned: a process "
			"died while recording" : "not committed yet");
	if (m->corrupt)
		fprintf(out, "warning: %" PRIu64 " corrupt slot%s skipped\n",
			m->corrupt, plural(m->corrupt));
	if (c->strings_dropped)
		fprintf(out, "warning: %" PRIu64 " string%s cut or lost\n",
			c->strings_dropped, plural(c->strings_dropped));
}

static void put_totals(FILE *out, const struct report *r)
{
	const struct report_totals *t = &r->totals;

	uint64_t left = t->by_state[SEG_LEAKED] - t->leaked;

	fprintf(out, "%" PRIu64 " segment%s: %" PRIu64 " removed, %" PRIu64
		" leaked, %" PRIu64 " live, %" PRIu64 " pending", t->segments,
		plural(t->segments), t->by_state[SEG_REMOVED], t->leaked,
		t->by_state[SEG_LIVE], t->by_state[SEG_PENDING]);
	if (left)    /* still there, as they were before the trace */
		fprintf(out, ", %" PRIu64 " left in place", left);
	fputc('\n', out);
}

void report_text(FILE *out, const struct report *r)
{
	const struct model *m = r->model;

	fputs("trace: ", out);
	report_put_safe(out, r->path);
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
	put_profile(out, m);
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
	report_put_safe(out, f->symbol ? f->symbol : "???");
	if (f->file) {
		fputs(" (", out);
		report_put_safe(out, base_name(f->file));
		fprintf(out, ":%d)", f->line);
	} else if (f->module) {
		fputs(" (in ", out);
		report_put_safe(out, f->module);
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
	report_put_identity(out, s);
	if (s->size)
		fprintf(out, ", %" PRIu64 " bytes", s->size);
	fputs(", created by ", out);
	put_pid(out, r->model, s->creator.pid);
	fputc('\n', out);
	for (unsigned i = 0; i < st->nframes && i < SUMMARY_FRAMES; i++)
		put_summary_frame(out, pid, i, &st->frames[i]);
	fprintf(out, "==%" PRId32 "==    remove it with: ", pid);
	if (!report_put_remove_cmd(out, s))
		fputs("(nothing to remove)", out);
	fputc('\n', out);
}

void report_summary(FILE *out, const struct report *r)
{
	const struct report_totals *t = &r->totals;
	const struct model *m = r->model;

	fprintf(out, "==%" PRId32 "== shmtrace: %" PRIu64 " segment%s "
		"created, %" PRIu64 " removed, %" PRIu64 " leaked\n",
		r->main_pid, t->created, plural(t->created),
		t->created_removed, t->leaked);
	for (size_t i = 0; i < m->nsegments; i++)
		if (model_is_leak(m->segments[i]))
			put_summary_leak(out, r, m->segments[i]);
}
