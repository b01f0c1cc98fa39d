/*
 * cmd-live.c - `shmview live`: the attach map in the terminal, refreshed
 * from the trace while the traced run goes on (see live.h).
 *
 * The reader side of the UI.  Every refresh reads the trace file's header
 * with pread; only when it changed (size, inode, slots and strings used,
 * counters, flags: not its mtime, which the launcher bumps every 100 ms
 * even when nothing happened) is the file opened, mapped, modelled,
 * reconciled with the kernel and closed again.  A compact file of a run
 * still going, shown whole and unfiltered, stays open instead: what it
 * gained is replayed onto the model (trace_refresh, model_extend), and
 * only an event out of order, the run's end or a replaced file make it
 * read all again.  No mapping is kept between
 * refreshes: at its end the launcher renames the complete trace over the
 * live file (or, when it cannot, rewrites it in place, smaller), and a read
 * that meets such a cut (SIGBUS) is abandoned and done again at the next
 * refresh, keeping the last good model on screen.  The model is then
 * self-contained (its strings are copies); only a detail view needs the
 * events again, and it is written while the trace is open.
 *
 * Diagnostics would scribble over the screen: while the UI runs, stderr is
 * a pipe whose last line becomes the status line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capacity.h"
#include "cmd.h"
#include "kernel.h"
#include "live.h"
#include "model.h"
#include "parse-options.h"
#include "procmap.h"
#include "filter.h"
#include "trace.h"
#include "util.h"

#define DEFAULT_INTERVAL_MS 250    /* four refreshes a second */
#define SLOW_REFRESH_NS 1000000000u /* kernel re-check, detail rewrite */

static const struct parse_command live_cmdline = {
	SHMVIEW_COMMAND("live"),
	.usage = "shmview live [--interval MS] [--timing] [--color=WHEN] [FILTER...] [TRACE]\n"
		 "shmview live --pid PID [--children] [--interval MS]",
	.description =
		"Watch the attach map of TRACE in the terminal while the traced run goes\n"
		"on, or look around a finished trace: segments as rows, processes as\n"
		"columns, in each cell where that process has the segment attached.\n"
		"Enter shows a segment's backtraces and events; press ? for every key.\n"
		"Without TRACE: the *.trace of the current directory, or a list to pick\n"
		"from (newest first) when there are several.  With --pid: the attach\n"
		"map of a running, untraced process (and its descendants), rebuilt from\n"
		"/proc at each refresh, without history or backtraces.",
	.args_name = "TRACE", .min_args = 0, .max_args = 1,
};

struct live_options {
	int interval_ms;
	bool timing;
	int color;                 /* COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER */
	int32_t pid;               /* --pid without TRACE: from /proc */
	bool children;
	struct filter filter;      /* with a TRACE */
};

/* What tells that the trace file changed, read without mapping it. */
struct live_sig {
	uint64_t dev, ino, size;
	uint64_t token, head, arena_head, dropped, strings_dropped, end_ns;
	uint64_t flags;            /* 64 bits: no padding for memcmp() */
};

struct live {
	struct live_view v;
	const char *path;
	int interval_ms;
	int32_t pid;               /* --pid: the model comes from /proc */
	bool children;
	struct filter *filter;     /* of the command line, for a trace */
	struct model model;        /* the last good one; trace == NULL */
	bool have_model;
	/* the compact file of a run still going, kept open after the model
	 * of all of it was built without a filter: what it gains is replayed
	 * onto the model (trace_refresh, model_extend), not all of it again */
	struct trace kept;
	bool have_kept;
	struct live_sig sig;       /* of the file the model was built from */
	struct trace times;        /* the clock fields of that file only */
	uint64_t last_read_ns, last_reconcile_ns, last_detail_ns;
	bool detail_stale;         /* the model changed under the detail */
};

/* --- options ------------------------------------------------------------- */

enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

static int parse_color(const char *s, void *target)
{
	static const char *const words[] = { "auto", "always", "never" };

	for (int i = 0; i < 3; i++)
		if (strcmp(s, words[i]) == 0) {
			*(int *)target = i;
			return 0;
		}
	return -1;
}

/* --color=auto (the default) draws in color unless NO_COLOR is set to
 * something (no-color.org); always and never decide alone. */
static bool use_color(int color)
{
	const char *no = getenv("NO_COLOR");

	if (color != COLOR_AUTO)
		return color == COLOR_ALWAYS;
	return !(no && *no);
}

/* Returns 0 with *o and *path set (NULL: none given), 1 after --help, -1
 * on a usage error. */
static int parse_options(int argc, char **argv, struct live_options *o,
			 const char **path)
{
	struct filter *f = &o->filter;
	const struct parse_opt opts[] = {
		OPT_INT(0, "interval", &o->interval_ms, "MS", 20, 60000,
			"20 to 60000 milliseconds",
			"read the trace again every MS milliseconds (default 250)"),
		OPT_BOOL(0, "timing", &o->timing,
			 "show how long reading and drawing take"),
		OPT_CALLBACK(0, "color", &o->color, "WHEN", parse_color,
			     "auto, always or never",
			     "color: auto (unless NO_COLOR is set), always, never"),
		FILTER_OPTIONS(f),
		OPT_END(),
	};
	char **args;
	int rc = parse_cmdline(&live_cmdline, opts, argc, argv, &args);

	if (rc)
		return rc;
	if (filter_check(f))
		return parse_cmdline_error(&live_cmdline, "%s", filter_check(f));
	*path = args[0];
	if (args[0] || !f->pids.n)
		return 0;
	/* --pid without TRACE: the process (tree) from /proc */
	if (f->pids.n > 1 || filter_active(&(struct filter){
		.tids = f->tids, .calls_set = f->calls_set, .kinds = f->kinds,
		.nsegments = f->nsegments, .since_set = f->since_set,
		.until_set = f->until_set }))
		return parse_cmdline_error(&live_cmdline, "--pid without TRACE "
			"takes one PID and no other filter (--children for its tree)");
	o->pid = f->pids.v[0];
	o->children = f->children;
	return 0;
}

/* --- small helpers -------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_status(struct live *L, bool is_error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_status(struct live *L, bool is_error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(L->v.status, sizeof(L->v.status), fmt, ap);
	va_end(ap);
	L->v.status_error = is_error;
}

/* --- reading the trace ----------------------------------------------------------- */

static int saved_stderr = -1, err_pipe = -1;

/* While the UI runs, diagnostics go into a pipe, not over the screen. */
static void capture_stderr(void)
{
	int p[2];

	fflush(stderr);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved_stderr < 0 || dup2(p[1], STDERR_FILENO) < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	close(p[1]);
	err_pipe = p[0];
}

static void release_stderr(void)
{
	if (saved_stderr >= 0) {
		fflush(stderr);
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	if (err_pipe >= 0)
		close(err_pipe);
	err_pipe = -1;
}

/* Put the last line written to stderr since the last call (without the
 * "shmview: " prefix) in the status line. */
static void drain_stderr(struct live *L)
{
	static char cur[256];
	static size_t len;
	char chunk[4096];
	ssize_t n;

	while (err_pipe >= 0 && (n = read(err_pipe, chunk, sizeof(chunk))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] != '\n') {
				if (len + 1 < sizeof(cur))
					cur[len++] = chunk[i];
				continue;
			}
			cur[len] = '\0';
			const char *msg = cur;
			if (!strncmp(msg, SHMVIEW_NAME ": ", strlen(SHMVIEW_NAME) + 2))
				msg += strlen(SHMVIEW_NAME) + 2;
			set_status(L, true, "%s", msg);
			len = 0;
		}
}

static void on_exit_restore(void)
{
	live_ui_stop();
	release_stderr();
}

static int read_sig(const char *path, struct live_sig *s)
{
	struct shmt_header h;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	memset(s, 0, sizeof(*s));
	if (fd < 0)
		return error("cannot read '%s': %s", path, strerror(errno));
	memset(&h, 0, sizeof(h));
	if (fstat(fd, &st) < 0 || pread(fd, &h, sizeof(h), 0) < 0) {
		error("cannot read '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = (uint64_t)st.st_size;
	s->token = h.token;
	s->head = h.head;
	s->arena_head = h.arena_head;
	s->dropped = h.dropped;
	s->strings_dropped = h.strings_dropped;
	s->end_ns = h.end_ns;
	s->flags = h.flags;
	return 0;
}

static bool same_sig(const struct live_sig *a, const struct live_sig *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* What one read produces, moved into struct live when it succeeded. */
struct live_read {
	struct trace t;
	struct model m;
	struct trace_counters counters;
	struct live_text detail;
	bool with_detail;
	struct trace times;        /* clock fields and flags, no mapping */
	bool keep;                 /* t stays open: it becomes L->kept */
};

static uint64_t elapsed(const struct trace *t)
{
	struct timespec ts;
	uint64_t now;

	if (t->flags & SHMT_HF_FINAL)
		return t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return now > t->start_realtime_ns ? now - t->start_realtime_ns : 0;
}

static void write_detail(const struct live_view *v, const struct model *m,
			 const struct trace *t, struct live_text *out)
{
	if (v->ui.mode == LIVE_PROCESS ||
	    (v->ui.mode == LIVE_HELP && v->ui.back == LIVE_PROCESS))
		live_detail_process(out, m, t, v->ui.pid);
	else
		live_detail_segment(out, m, t, v->ui.seg_key);
}

/* Open, model, reconcile, (detail), close.  Touches the mapping: runs
 * under the SIGBUS guard. */
static int read_all(struct live *L, struct live_read *r)
{
	struct filter *f = L->filter;
	bool until_set = f->until_set;
	uint64_t until_ns = f->until_ns;

	if (trace_open(L->path, &r->t) < 0)
		return -1;
	if (L->v.at_set) {	/* [ ]: the map then, as map --at builds it */
		f->until_set = true;
		f->until_ns = L->v.at_ns;
	}
	filter_build_model(f, &r->m, &r->t);
	f->until_set = until_set;
	f->until_ns = until_ns;
	trace_counters(&r->t, &r->counters);
	if (r->with_detail)
		write_detail(&L->v, &r->m, &r->t, &r->detail);
	r->times.flags = r->t.flags;
	r->times.start_ns = r->t.start_ns;
	r->times.end_ns = r->t.end_ns;
	r->times.start_realtime_ns = r->t.start_realtime_ns;
	r->keep = r->t.rec && !(r->t.flags & SHMT_HF_FINAL) && !L->v.at_set &&
		  !filter_active(f);
	if (!r->keep)
		trace_close(&r->t);
	r->m.trace = NULL;
	return 0;
}

static void drop_kept(struct live *L)
{
	if (L->have_kept)
		trace_close(&L->kept);
	L->have_kept = false;
}

/* Write the open detail view from the same file the model came from,
 * without building the model again. */
static int read_detail(struct live *L, struct live_read *r)
{
	if (trace_open(L->path, &r->t) < 0)
		return -1;
	L->model.trace = &r->t;
	write_detail(&L->v, &L->model, &r->t, &r->detail);
	L->model.trace = NULL;
	trace_close(&r->t);
	return 0;
}

/* Run a read as a trace read section: when the file is cut under it
 * (SIGBUS) the read is abandoned; the caller's *r is what survives the
 * jump back (its half-built model is leaked: it may hold freed pointers). */
static int guarded(struct live *L, struct live_read *r,
		   int (*fn)(struct live *L, struct live_read *r))
{
	struct trace_section s;
	int rc;

	if (sigsetjmp(s.env, 1)) {
		memset(&r->m, 0, sizeof(r->m));
		L->model.trace = NULL;
		live_text_free(&r->detail);
		trace_close(&r->t);
		set_status(L, true, "the trace file was cut while being read "
			   "(the run ended?): reading it again");
		return -1;
	}
	trace_section_enter(&s);
	rc = fn(L, r);
	trace_section_leave(&s);
	return rc;
}

static void count(struct live *L)
{
	const struct model *m = &L->model;

	memset(L->v.by_state, 0, sizeof(L->v.by_state));
	for (size_t i = 0; i < m->nsegments; i++)
		if (m->segments[i]->state < SEG_STATE_COUNT)
			L->v.by_state[m->segments[i]->state]++;
	L->v.alive = 0;
	for (size_t i = 0; i < m->nprocesses; i++)
		L->v.alive += !m->processes[i]->ended;
	L->v.running = !L->v.final && m->running;
	L->v.shm_known = capacity_shm_now(&L->v.shm) == 0;
}

static void relist(struct live *L)
{
	struct live_keys k;

	live_remember(&L->v, &k);
	live_list(&L->v, &L->model, &k);
}

/* Read the trace into a new model (and the open detail view's text);
 * keeps the last good one when that fails. */
static int reread(struct live *L, const struct live_sig *sig, bool detail)
{
	struct live_read r;
	struct live_keys k;
	uint64_t t0 = now_ns();

	memset(&r, 0, sizeof(r));
	r.with_detail = detail;
	if (guarded(L, &r, read_all) < 0) {
		drain_stderr(L);
		memset(&L->sig, 0, sizeof(L->sig));	/* try again next time */
		return -1;
	}
	live_remember(&L->v, &k);
	model_free(&L->model);
	L->model = r.m;
	L->have_model = true;
	L->v.model = &L->model;
	drop_kept(L);
	if (r.keep) {
		L->kept = r.t;
		L->have_kept = true;
	}
	L->v.counters = r.counters;
	L->times = r.times;
	L->v.final = r.times.flags & SHMT_HF_FINAL;
	L->v.elapsed_ns = elapsed(&L->times);
	L->sig = *sig;
	if (detail) {
		live_text_free(&L->v.detail);
		L->v.detail = r.detail;
		L->last_detail_ns = now_ns();
	}
	if (L->v.status_error)
		L->v.status[0] = '\0';
	count(L);
	live_list(&L->v, &L->model, &k);
	L->last_read_ns = L->last_reconcile_ns = now_ns();
	L->v.read_ms = (double)(now_ns() - t0) / 1e6;
	return 0;
}

/* Replays what the kept trace gained onto the model, and reconciles it.
 * Returns -1 when the model must be built again (then it is as it was,
 * or, cut under the read, gone). */
static int extend_kept(struct live *L)
{
	struct trace_section sec;
	struct kernel_view k;
	bool ok;

	if (!L->have_kept || !L->have_model || L->v.at_set)
		return -1;
	if (sigsetjmp(sec.env, 1)) {	/* half replayed: forget the model */
		memset(&L->model, 0, sizeof(L->model));	/* leaked, as in
							   guarded() */
		L->have_model = false;
		drop_kept(L);	/* out of the read now: unmapping is safe */
		return -1;
	}
	trace_section_enter(&sec);
	ok = trace_refresh(&L->kept) >= 0 && model_extend(&L->model, &L->kept);
	if (ok) {
		trace_counters(&L->kept, &L->v.counters);
		kernel_read(&k);
		model_reconcile(&L->model, &k);
		kernel_free(&k);
	}
	trace_section_leave(&sec);
	L->model.trace = NULL;
	return ok ? 0 : -1;
}

/* The run went on: the model extended by what the file gained. */
static int reread_tail(struct live *L, const struct live_sig *sig)
{
	struct live_keys k;
	uint64_t t0 = now_ns();

	live_remember(&L->v, &k);
	if (extend_kept(L) < 0)
		return -1;
	drain_stderr(L);
	L->v.elapsed_ns = elapsed(&L->times);
	L->sig = *sig;
	count(L);
	live_list(&L->v, &L->model, &k);
	L->last_read_ns = L->last_reconcile_ns = now_ns();
	L->v.read_ms = (double)(now_ns() - t0) / 1e6;
	return 0;
}

/* The trace did not change, but the kernel may have: a segment removed
 * from outside, a process killed without a trace of it. */
static void reconcile_again(struct live *L)
{
	struct kernel_view k;

	kernel_read(&k);
	model_reconcile(&L->model, &k);
	kernel_free(&k);
	drain_stderr(L);
	count(L);
	relist(L);
	L->last_reconcile_ns = now_ns();
}

static bool in_detail(const struct live_view *v)
{
	return v->ui.mode == LIVE_SEGMENT || v->ui.mode == LIVE_PROCESS;
}

static int detail_only(struct live *L)
{
	struct live_read r;
	uint64_t t0 = now_ns();

	memset(&r, 0, sizeof(r));
	if (guarded(L, &r, read_detail) < 0) {
		drain_stderr(L);
		return -1;
	}
	live_text_free(&L->v.detail);
	L->v.detail = r.detail;
	L->last_detail_ns = now_ns();
	L->v.read_ms = (double)(now_ns() - t0) / 1e6;
	return 0;
}

/* One refresh of a --pid view: the model built again from /proc; the
 * last good one stays when the process cannot be read (it ended). */
static void refresh_proc(struct live *L, bool detail)
{
	struct model m;
	struct live_keys k;
	uint64_t t0 = now_ns();

	if (procmap_build(&m, L->pid, L->children) < 0) {
		model_free(&m);
		drain_stderr(L);
		L->v.final = true;
		count(L);
		return;
	}
	live_remember(&L->v, &k);
	model_free(&L->model);
	L->model = m;
	L->have_model = true;
	L->v.model = &L->model;
	count(L);
	live_list(&L->v, &L->model, &k);
	if (in_detail(&L->v) && (detail || now_ns() - L->last_detail_ns >=
				 SLOW_REFRESH_NS)) {
		live_text_free(&L->v.detail);
		write_detail(&L->v, &L->model, NULL, &L->v.detail);
		L->last_detail_ns = now_ns();
	}
	L->v.read_ms = (double)(now_ns() - t0) / 1e6;
}

/*
 * One refresh: read the trace again if it changed (or, with `detail`,
 * write the open detail view now).  Slots still being written when the
 * model was built are looked at again once a second, as is the kernel.
 */
static void refresh(struct live *L, bool detail)
{
	struct live_sig sig;
	uint64_t now = now_ns();
	bool stale;

	if (L->pid) {
		refresh_proc(L, detail);
		return;
	}
	if (read_sig(L->path, &sig) < 0) {
		drain_stderr(L);
		memset(&L->sig, 0, sizeof(L->sig));	/* read it all when back */
		return;
	}
	stale = !L->have_model || !same_sig(&sig, &L->sig) ||
		(L->model.abandoned && !L->v.final &&
		 now - L->last_read_ns >= SLOW_REFRESH_NS);
	/* a detail is costly (symbolizing): rewritten once a second at most */
	if (!in_detail(&L->v))
		detail = false;
	else if ((stale || L->detail_stale) &&
		 now - L->last_detail_ns >= SLOW_REFRESH_NS)
		detail = true;
	if (stale && reread_tail(L, &sig) == 0) {
		if (detail && detail_only(L) == 0)
			L->detail_stale = false;
		else if (in_detail(&L->v))
			L->detail_stale = true;
		return;
	}
	if (stale) {	/* a detail of the old model would not fit the file */
		if (reread(L, &sig, detail) == 0)
			L->detail_stale = in_detail(&L->v) && !detail;
		return;
	}
	if (detail && detail_only(L) == 0)
		L->detail_stale = false;
	/* the kernel knows the present, not the moment [ ] chose */
	if (!L->v.at_set && now - L->last_reconcile_ns >= SLOW_REFRESH_NS)
		reconcile_again(L);
	if (!L->v.final)
		L->v.elapsed_ns = elapsed(&L->times);
}

/* [ and ]: the time of the event before or after the moment shown (the
 * end when none was chosen); past the last one, the present again. */
static int step_time(struct live *L, struct live_read *r)
{
	uint64_t cur = L->v.at_set ? L->v.at_ns : L->model.until_ns, best = 0;
	bool found = false;
	struct trace_iter it;
	const struct trace_event *ev;
	int dir = L->v.ui.time_dir;

	if (trace_open(L->path, &r->t) < 0)
		return -1;
	trace_iter_init(&it, &r->t);
	while ((ev = trace_iter_next(&it))) {
		int64_t rel = trace_event_reltime(&r->t, ev);
		uint64_t t = rel > 0 ? (uint64_t)rel : 0;

		if (ev->call == SHMT_CALL_MODULE || !filter_event(L->filter, &r->t, ev))
			continue;
		if (dir < 0 ? t < cur && (!found || t > best) :
			      t > cur && (!found || t < best)) {
			best = t;
			found = true;
		}
	}
	trace_close(&r->t);
	if (found) {
		L->v.at_set = true;
		L->v.at_ns = best;
	} else if (dir > 0) {
		L->v.at_set = false;	/* after the last event: now */
	} else {
		set_status(L, false, "no event before +%.6fs", (double)cur / 1e9);
	}
	return 0;
}

#define GROW(arr, n, cap) XGROW(arr, n, cap, 16)

/* --- finding the trace -------------------------------------------------------------- */

static bool is_trace_name(const char *name)
{
	size_t n = strlen(name);

	return n > 6 && !strcmp(name + n - 6, ".trace");
}

/* Whether `path` starts like a trace; *final says if its run ended. */
static bool peek_trace(const char *path, bool *final)
{
	struct shmt_header h;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return false;
	n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	if (n < (ssize_t)offsetof(struct shmt_header, head) ||
	    memcmp(h.magic, SHMT_MAGIC, sizeof(h.magic)))
		return false;
	*final = h.flags & SHMT_HF_FINAL;
	return true;
}

static int pick_cmp(const void *a, const void *b)
{
	const struct live_pick *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime > y->mtime ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* The traces of the current directory, newest first. */
static size_t list_traces(struct live_pick **out)
{
	struct live_pick *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir = opendir(".");

	while (dir && (d = readdir(dir))) {
		struct stat st;
		bool final;

		if (!is_trace_name(d->d_name) || stat(d->d_name, &st) < 0 ||
		    !S_ISREG(st.st_mode) || !peek_trace(d->d_name, &final))
			continue;
		GROW(list, n, cap);
		list[n++] = (struct live_pick){ xstrdup(d->d_name),
			(int64_t)st.st_mtime, (uint64_t)st.st_size, final };
	}
	if (dir)
		closedir(dir);
	if (n)
		qsort(list, n, sizeof(*list), pick_cmp);
	*out = list;
	return n;
}

static void free_picks(struct live_pick *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i].path);
	free(list);
}

/*
 * The trace to watch when none was given: the only one here (said in
 * *note), or the one the user picks (the UI is started for that).
 * Returns a path to free, NULL after printing why, or NULL with *quit
 * when the user quit the picker.
 */
static char *find_trace(bool *quit, char *note, size_t note_size)
{
	struct live_pick *list;
	size_t n = list_traces(&list);
	char *path = NULL;
	int i = 0;

	*quit = false;
	if (n == 0) {
		error("live: no trace in the current directory (give TRACE; "
		      "traces are made with 'shmtrace -o FILE -- PROG')");
		return NULL;
	}
	if (n == 1)
		snprintf(note, note_size, "the only trace here: %s",
			 list[0].path);
	else if (live_ui_start() < 0)
		i = -2;
	else
		*quit = (i = live_ui_pick(list, n)) == -1;
	if (i >= 0)
		path = xstrdup(list[i].path);
	free_picks(list, n);
	return path;
}

/* --- the loop ---------------------------------------------------------------------- */

static int next_wait_ms(uint64_t next)
{
	uint64_t now = now_ns();

	return next > now ? (int)((next - now) / 1000000u) + 1 : 0;
}

static void handle(struct live *L, enum live_request r, uint64_t *next)
{
	switch (r) {
	case LIVE_REQ_RELIST:
		if (L->have_model)
			relist(L);
		break;
	case LIVE_REQ_DETAIL:
		L->v.ui.line = L->v.ui.hscroll = 0;
		live_text_clear(&L->v.detail);
		live_text_add(&L->v.detail, LIVE_STYLE_DIM, "reading...");
		refresh(L, true);
		break;
	case LIVE_REQ_SEARCH:
		live_search(&L->v);
		break;
	case LIVE_REQ_RELOAD:
		memset(&L->sig, 0, sizeof(L->sig));
		*next = 0;
		break;
	case LIVE_REQ_TIME: {
		struct live_read rd;

		if (L->pid) {
			set_status(L, false, "from /proc there is only now");
			break;
		}
		memset(&rd, 0, sizeof(rd));
		if (guarded(L, &rd, step_time) == 0) {
			memset(&L->sig, 0, sizeof(L->sig));	/* build it again */
			*next = 0;
		}
		break;
	}
	default:
		break;
	}
}

static int run(struct live *L)
{
	uint64_t next = 0, interval = (uint64_t)L->interval_ms * 1000000u;

	for (;;) {
		if (now_ns() >= next) {
			uint64_t t0 = now_ns();
			refresh(L, false);
			/* a slow read must not starve the keys */
			uint64_t took = now_ns() - t0;
			next = now_ns() + (took > interval ? took : interval);
		}
		uint64_t d0 = now_ns();
		live_ui_draw(&L->v);
		L->v.draw_ms = (double)(now_ns() - d0) / 1e6;
		enum live_request r = live_ui_key(&L->v, next_wait_ms(next));
		if (r == LIVE_REQ_QUIT)
			return 0;
		handle(L, r, &next);
	}
}

static int live(const char *path, const struct live_options *o,
		const char *note)
{
	struct live L;
	struct trace t;
	int rc;

	/* fail before the screen is taken when it cannot work at all */
	live_ui_stop();
	memset(&L, 0, sizeof(L));
	if (o->pid) {
		struct model m;
		int bad = procmap_build(&m, o->pid, o->children);
		model_free(&m);
		if (bad)
			return 1;
		L.pid = o->pid;
		L.children = o->children;
	} else {
		if (trace_open(path, &t) < 0)
			return 1;
		trace_close(&t);
	}
	L.path = path;
	L.filter = (struct filter *)&o->filter;
	L.interval_ms = o->interval_ms;
	L.v.path = path;
	L.v.timing = o->timing;
	if (note[0])
		set_status(&L, false, "%s", note);
	if (live_ui_start() < 0)
		return 1;
	atexit(on_exit_restore);
	capture_stderr();
	rc = run(&L);
	live_ui_stop();
	release_stderr();
	model_free(&L.model);
	drop_kept(&L);
	live_text_free(&L.v.detail);
	live_list_free(&L.v);
	return rc;
}

int cmd_live(int argc, char **argv)
{
	struct live_options o = { .interval_ms = DEFAULT_INTERVAL_MS };
	const char *path = NULL;
	char *found = NULL, note[300] = "";
	bool quit;
	int rc = parse_options(argc, argv, &o, &path);

	if (rc) {
		filter_free(&o.filter);
		return rc > 0 ? 0 : EXIT_USAGE;
	}
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		error("live needs a terminal; use 'shmview map'");
		filter_free(&o.filter);
		return 1;
	}
	live_ui_set_color(use_color(o.color));
	if (o.pid) {
		snprintf(note, sizeof(note), "pid %d%s from /proc: no history, "
			 "no backtraces", (int)o.pid, o.children ? " and children" : "");
		rc = live(note, &o, note);
		filter_free(&o.filter);
		return rc;
	}
	if (!path) {
		found = find_trace(&quit, note, sizeof(note));
		if (!found) {
			live_ui_stop();
			return quit ? 0 : 1;
		}
		path = found;
	}
	rc = live(path, &o, note);
	free(found);
	filter_free(&o.filter);
	return rc;
}
