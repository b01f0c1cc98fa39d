/*
 * live-detail.c - the text of `shmview live`'s detail views (see live.h).
 *
 *   segment  identity, size, state; its creation and removal with their
 *            symbolized backtraces; every attachment; its history (the
 *            events that touched it, history.h), in the order they took
 *            effect
 *   process  image, parent, how it ended; its attachments now and before;
 *            the descriptors it holds; its calls
 *
 * Lines are written with dump's renderer and the shared phrases (words.h)
 * into memory streams, so a detail reads like `shmview dump` and
 * `shmview report`, and every traced string is escaped the same way.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "history.h"
#include "live.h"
#include "render.h"
#include "report.h"
#include "symbolize.h"
#include "util.h"
#include "words.h"

#define EVENTS_MAX 20000   /* lines of history kept: the latest ones */

/* --- lines ------------------------------------------------------------------ */

void live_text_clear(struct live_text *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->lines[i].text);
	x->n = 0;
}

void live_text_free(struct live_text *x)
{
	live_text_clear(x);
	free(x->lines);
	memset(x, 0, sizeof(*x));
}

void live_text_add(struct live_text *x, enum live_style style,
		   const char *text)
{
	char *copy = xstrdup(text);

	for (char *c = copy; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	XGROW(x->lines, x->n, x->cap, 64);
	x->lines[x->n].text = copy;
	x->lines[x->n++].style = (unsigned char)style;
}

/* A memory stream that becomes lines: open, write, then flush_lines(). */
struct pen {
	FILE *f;
	char *buf;
	size_t len;
};

static FILE *pen_open(struct pen *p)
{
	p->buf = NULL;
	p->len = 0;
	p->f = open_memstream(&p->buf, &p->len);
	if (!p->f) {
		error("out of memory");
		exit(1);
	}
	return p->f;
}

/* Close the stream and add each of its lines with `style`, `indent`
 * spaces first; lines that start with "    #" (frames) as frames. */
static void pen_lines(struct pen *p, struct live_text *out,
		      enum live_style style, int indent)
{
	char *line, *save = NULL, *text;

	fclose(p->f);
	for (line = strtok_r(p->buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		bool frame = !strncmp(line, "    #", 5) || !strncmp(line, "    ...", 7);

		if (asprintf(&text, "%*s%s", indent, "", line) < 0) {
			error("out of memory");
			exit(1);
		}
		live_text_add(out, frame ? LIVE_STYLE_FRAME : style, text);
		free(text);
	}
	free(p->buf);
}

static void add_line(struct live_text *out, enum live_style style,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void add_line(struct live_text *out, enum live_style style,
		     const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	live_text_add(out, style, buf);
}

/* "pid 42 (name)" */
static void put_pid(FILE *f, const struct model *m, int32_t pid)
{
	words_put_pid(f, pid, model_process(m, pid));
}

static enum live_style state_style(enum seg_state s)
{
	switch (s) {
	case SEG_LIVE: return LIVE_STYLE_LIVE;
	case SEG_PENDING: return LIVE_STYLE_PENDING;
	case SEG_LEAKED: return LIVE_STYLE_LEAKED;
	default: return LIVE_STYLE_REMOVED;
	}
}

/* --- events ---------------------------------------------------------------------- */

/* One event as dump prints it, "+time " first; with `st`, its frames. */
static void put_event(struct live_text *out, const struct trace *t,
		      const struct trace_event *ev, struct sym_table *st,
		      enum live_style style, int indent)
{
	static const struct dump_options plain = { 0 }, stack = { .stack = true };
	struct sym_frame frames[SHMT_MAX_DEPTH];
	struct dump_ctx ctx;
	struct pen p;

	memset(&ctx, 0, sizeof(ctx));
	ctx.out = pen_open(&p);
	ctx.trace = t;
	ctx.opts = st ? &stack : &plain;
	for (unsigned i = 0; st && i < ev->nframes; i++)
		sym_resolve(st, ev->pid, ev->seq, ev->frames[i], &frames[i]);
	words_put_time(ctx.out, (uint64_t)trace_event_reltime(t, ev));
	fputc(' ', ctx.out);
	dump_text_ops.event(&ctx, ev, st ? frames : NULL);
	pen_lines(&p, out, style, indent);
}

/* A process's calls, picked from the trace, to be put in the order they
 * took effect (as the model replays them: a call when it began, a wait
 * when it returned). */
struct picked {
	struct { uint64_t when, seq; } *e;
	size_t n, cap;
};

static void pick(struct picked *pk, const struct trace_event *ev)
{
	XGROW(pk->e, pk->n, pk->cap, 64);
	pk->e[pk->n].when = ev->time_ns +
		(ev->call == SHMT_CALL_WAIT ? ev->duration_ns : 0);
	pk->e[pk->n++].seq = ev->seq;
}

static int picked_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Sorted, the picked events' sequence numbers (caller frees); frees pk. */
static uint64_t *picked_seqs(struct picked *pk)
{
	uint64_t *seqs = xcalloc(pk->n ? pk->n : 1, sizeof(*seqs));

	if (pk->n)
		qsort(pk->e, pk->n, sizeof(*pk->e), picked_cmp);
	for (size_t i = 0; i < pk->n; i++)
		seqs[i] = pk->e[i].seq;
	free(pk->e);
	return seqs;
}

/* The events seqs[0..n), in the order they took effect. */
static void put_history(struct live_text *out, const struct model *m,
			const uint64_t *seqs, size_t n, const char *what)
{
	const struct trace_event *ev;
	struct trace_iter it;
	size_t first = n > EVENTS_MAX ? n - EVENTS_MAX : 0;

	add_line(out, LIVE_STYLE_HEADING, "%s (%zu):", what, n);
	if (first)
		add_line(out, LIVE_STYLE_DIM, "  ... %zu earlier not shown", first);
	for (size_t i = first; i < n; i++) {
		ev = model_event(m, seqs[i], &it);
		if (ev)
			put_event(out, m->trace, ev, NULL, LIVE_STYLE_TEXT, 2);
	}
}

/* --- the segment view ----------------------------------------------------------------- */

static const struct segment *find_segment(const struct model *m, uint64_t key)
{
	for (size_t i = 0; i < m->nsegments; i++)
		if (live_seg_key(m->segments[i]) == key)
			return m->segments[i];
	return NULL;
}

static void put_notes(struct live_text *out, const struct segment *s)
{
	for (unsigned bit = 1; bit && bit <= s->notes; bit <<= 1)
		if (s->notes & bit && words_note_text(bit))
			add_line(out, LIVE_STYLE_DIM, "  note: %s",
				 words_note_text(bit));
}

static void put_segment_head(struct live_text *out, const struct segment *s)
{
	struct pen p;
	FILE *f = pen_open(&p);

	words_put_identity(f, s);
	if (s->size)
		fprintf(f, ", %" PRIu64 " bytes", s->size);
	fprintf(f, ": %s, %u attached now, %zu attachment%s in all",
		model_state_name(s->state), s->live_att, s->natt,
		words_plural(s->natt));
	if (s->in_kernel && s->kind == SEG_SYSV)
		fprintf(f, " (kernel: nattch %" PRIu32 ")", s->k_nattch);
	pen_lines(&p, out, state_style(s->state), 0);
	put_notes(out, s);
}

/* "created +0.1s by pid 42 (x):" then the event and its stack. */
static void put_stack_event(struct live_text *out, const struct model *m,
			    struct sym_table *st, const char *what,
			    uint64_t ns, const struct model_ref *ref)
{
	const struct trace_event *ev;
	struct trace_iter it;
	struct pen p;
	FILE *f = pen_open(&p);

	fprintf(f, "%s ", what);
	words_put_time(f, ns);
	fputs(" by ", f);
	put_pid(f, m, ref->pid);
	fputc(':', f);
	pen_lines(&p, out, LIVE_STYLE_HEADING, 0);
	ev = model_event(m, ref->seq, &it);
	if (!ev) {
		add_line(out, LIVE_STYLE_DIM, "  (the event is not in the trace)");
		return;
	}
	put_event(out, m->trace, ev, st, LIVE_STYLE_TEXT, 2);
	if (!ev->nframes)
		add_line(out, LIVE_STYLE_DIM, "      (no backtrace recorded)");
}

static void put_removal(struct live_text *out, const struct model *m,
			struct sym_table *st, const struct segment *s)
{
	struct pen p;

	if (s->marked && s->remover.seq != MODEL_NO_SEQ)
		put_stack_event(out, m, st, "removal asked", s->marked_ns,
				&s->remover);
	else if (s->kind == SEG_SYSV || s->kind == SEG_POSIX)
		add_line(out, LIVE_STYLE_HEADING, "removal: never asked for");
	if (!s->destroyed)
		return;
	words_put_time(pen_open(&p), s->destroyed_ns);
	fputs(" gone (nothing attached or open any more)", p.f);
	pen_lines(&p, out, LIVE_STYLE_DIM, 0);
}

/* "0x7f..000-0x7f..000 rw shmat +0.1s .. now": where, how and when. */
static void put_where(FILE *f, const struct attachment *a)
{
	fprintf(f, "0x%012" PRIx64 "-0x%012" PRIx64 " %s%s %-5s ", a->addr,
		a->addr + a->length, a->readonly ? "ro" : "rw",
		a->private_map ? " private" : "", model_how_name(a->how));
	words_put_time(f, a->attached_ns);
	fputs(" .. ", f);
	if (a->live)
		fputs("now", f);
	else
		words_put_time(f, a->detached_ns);
}

static void put_attachment(struct live_text *out, const struct attachment *a)
{
	char cmd[64];
	struct pen p;
	FILE *f = pen_open(&p);

	live_command(a->proc, cmd, sizeof(cmd));
	fprintf(f, "  pid %-7" PRId32 " %-16.16s ", a->proc->pid, cmd);
	put_where(f, a);
	pen_lines(&p, out, a->live ? LIVE_STYLE_TEXT : LIVE_STYLE_DIM, 0);
}

static void put_attachments(struct live_text *out, const struct segment *s)
{
	add_line(out, LIVE_STYLE_HEADING, "attachments (%u live, %zu in all):",
		 s->live_att, s->natt);
	for (size_t i = 0; i < s->natt; i++)
		if (s->att[i]->live)
			put_attachment(out, s->att[i]);
	for (size_t i = 0; i < s->natt; i++)
		if (!s->att[i]->live)
			put_attachment(out, s->att[i]);
}

void live_detail_segment(struct live_text *out, const struct model *m,
			 const struct trace *t, uint64_t seg_key)
{
	const struct segment *s = find_segment(m, seg_key);
	const uint64_t *seqs;
	size_t nseqs;
	struct sym_table *st;

	live_text_clear(out);
	if (!s) {
		live_text_add(out, LIVE_STYLE_ERROR,
			      "this segment is not in the trace any more");
		return;
	}
	put_segment_head(out, s);
	if (!t) {	/* built from /proc */
		live_text_add(out, LIVE_STYLE_DIM, "from /proc now: no history, "
			      "no backtraces");
		put_attachments(out, s);
		return;
	}
	st = sym_learn_trace(t);
	put_stack_event(out, m, st, s->created ? "created" : "first seen",
			s->created_ns, &s->creator);
	put_removal(out, m, st, s);
	sym_free(st);
	put_attachments(out, s);
	nseqs = history_of(s, &seqs);
	put_history(out, m, seqs, nseqs, "events");
}

/* --- the process view -------------------------------------------------------------------- */

static void put_process_head(struct live_text *out, const struct model *m,
			     const struct process *p)
{
	struct pen pen;
	FILE *f = pen_open(&pen);

	put_pid(f, m, p->pid);
	pen_lines(&pen, out, LIVE_STYLE_HEADING, 0);
	f = pen_open(&pen);
	fprintf(f, "  parent %" PRId32 ", started ", p->ppid);
	words_put_time(f, p->start_ns);
	fputs(p->ended ? ", ended " : ", ", f);
	words_put_process_end(f, p);
	fputs("\n  exe: ", f);
	words_put_safe(f, p->exe ? p->exe : "(not seen)");
	fputs("\n  argv:", f);
	for (size_t i = 0; p->argv && p->argv[i]; i++) {
		fputc(' ', f);
		words_put_quoted(f, p->argv[i]);
	}
	pen_lines(&pen, out, LIVE_STYLE_TEXT, 0);
}

static void put_proc_attachment(struct live_text *out,
				const struct attachment *a)
{
	struct pen p;
	FILE *f = pen_open(&p);

	fputs("  ", f);
	put_where(f, a);
	fputs("  ", f);
	words_put_identity(f, a->seg);
	fprintf(f, " (%s)", model_state_name(a->seg->state));
	pen_lines(&p, out, a->live ? state_style(a->seg->state) :
		  LIVE_STYLE_DIM, 0);
}

static void put_proc_attachments(struct live_text *out, const struct model *m,
				 const struct process *p)
{
	size_t before = 0;

	add_line(out, LIVE_STYLE_HEADING, "attachments now (%zu):", p->nlive);
	for (size_t i = 0; i < p->nlive; i++)
		put_proc_attachment(out, p->live[i]);
	for (size_t i = 0; i < m->nsegments; i++)
		for (size_t j = 0; j < m->segments[i]->natt; j++) {
			const struct attachment *a = m->segments[i]->att[j];

			before += a->proc == p && !a->live;
		}
	add_line(out, LIVE_STYLE_HEADING, "earlier attachments (%zu):", before);
	for (size_t i = 0; before && i < m->nsegments; i++)
		for (size_t j = 0; j < m->segments[i]->natt; j++) {
			const struct attachment *a = m->segments[i]->att[j];

			if (a->proc == p && !a->live)
				put_proc_attachment(out, a);
		}
}

static void put_fds(struct live_text *out, const struct process *p)
{
	if (!p->nfds)
		return;
	add_line(out, LIVE_STYLE_HEADING, "descriptors open (%zu):", p->nfds);
	for (size_t i = 0; i < p->nfds; i++) {
		struct pen pen;
		FILE *f = pen_open(&pen);

		fputs("  ", f);
		words_put_identity(f, p->fds[i].seg);
		fprintf(f, " x%u%s", p->fds[i].count,
			p->fds[i].cloexec ? " (close-on-exec)" : "");
		pen_lines(&pen, out, LIVE_STYLE_TEXT, 0);
	}
}

/* Its own events, and the fork and the reap others recorded about it. */
static void pick_process_events(const struct model *m, int32_t pid,
				struct picked *pk)
{
	const struct trace_event *ev;
	struct trace_iter it;

	trace_iter_init(&it, m->trace);
	while ((ev = trace_iter_next(&it))) {
		if (decode_is_record(ev->call))
			continue;
		if (ev->pid == pid ||
		    (ev->call == SHMT_CALL_WAIT &&
		     (int32_t)ev->args[SHMT_ARG_WAIT_PID] == pid) ||
		    (ev->call == SHMT_CALL_FORK && ev->ret == pid))
			pick(pk, ev);
	}
}

void live_detail_process(struct live_text *out, const struct model *m,
			 const struct trace *t, int32_t pid)
{
	const struct process *p = model_process(m, pid);
	struct picked pk = { 0 };
	uint64_t *seqs;

	live_text_clear(out);
	if (!p) {
		add_line(out, LIVE_STYLE_ERROR, "pid %" PRId32 " is not in the "
			 "trace any more", pid);
		return;
	}
	put_process_head(out, m, p);
	put_proc_attachments(out, m, p);
	put_fds(out, p);
	if (!t) {	/* built from /proc */
		live_text_add(out, LIVE_STYLE_DIM, "from /proc now: no history");
		return;
	}
	pick_process_events(m, pid, &pk);
	seqs = picked_seqs(&pk);
	put_history(out, m, seqs, pk.n, "calls");
	free(seqs);
}
