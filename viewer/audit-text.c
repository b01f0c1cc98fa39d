/*
 * audit-text.c - `shmview audit` as text (see audit.h):
 *
 *   [1] sysv shmid 32805 key 0x5e001234, 1048576 bytes: ORPHANED, STALE
 *       owner alice, perms 0600, 0 attached
 *       created by pid 4242 (gone); last shmdt 3h 2m ago by pid 4243 (gone)
 *       remove it with: ipcrm -m 32805
 *
 * Likely leaks first, the biggest first; then the other objects; then the
 * processes that could not be inspected, and the totals.  Every string a
 * process chose (names, commands) is escaped: no control byte reaches the
 * terminal.
 */
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "render.h"
#include "report.h"
#include "util.h"
#include "words.h"

/* How the text audit writes each flag after an object's identity (JSON
 * uses audit_flag_name()). */
static const struct { unsigned bit; const char *text; } flag_texts[] = {
	{ AUDIT_ORPHANED, "ORPHANED" },
	{ AUDIT_STALE, "STALE" },
	{ AUDIT_PENDING, "PENDING (marked for removal, still held)" },
	{ AUDIT_UNSEEN, "attached by processes not inspected" },
};
#define NFLAGS (sizeof(flag_texts) / sizeof(flag_texts[0]))

/* "3h 2m", "5m 10s", "42s", "2d 3h": the two largest units. */
static void put_span(FILE *out, int64_t s)
{
	static const struct { int64_t secs; const char *unit; } units[] = {
		{ 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" } };

	if (s < 0)
		s = 0;
	for (size_t i = 0; i < 4; i++) {
		if (s < units[i].secs && i < 3)
			continue;
		fprintf(out, "%" PRId64 "%s", s / units[i].secs, units[i].unit);
		if (i < 3 && s % units[i].secs >= units[i + 1].secs)
			fprintf(out, " %" PRId64 "%s",
				s % units[i].secs / units[i + 1].secs,
				units[i + 1].unit);
		return;
	}
}

static void put_ago(FILE *out, int64_t now, int64_t t)
{
	if (!t) {
		fputs("never", out);
		return;
	}
	put_span(out, now - t);
	fputs(" ago", out);
}

static void put_user(FILE *out, uint32_t uid)
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name)
		words_put_safe(out, pw->pw_name);
	else
		fprintf(out, "%" PRIu32, uid);
}

/* "pid 4242 (sysv-server)", "pid 4242 (gone)", or the pid's new owner. */
static void put_who(FILE *out, const struct audit_pid *w)
{
	fprintf(out, "pid %" PRId32 " (", w->pid);
	if (w->alive) {
		words_put_safe(out, w->comm ? w->comm : "?");
	} else if (w->reused) {
		fputs("gone; the pid is ", out);
		words_put_safe(out, w->comm ? w->comm : "?");
		fputs("'s now", out);
	} else {
		fputs("gone", out);
	}
	fputc(')', out);
}

/* A segment as the report's phrases want it: identity and removal. */
static void as_segment(const struct audit_obj *o, struct segment *s)
{
	memset(s, 0, sizeof(*s));
	if (o->family == AUDIT_SYSV) {
		s->kind = SEG_SYSV;
		s->shmid = o->sysv->shmid;
		s->key = o->key;
	} else {
		s->kind = SEG_POSIX;
		s->shmid = -1;
		s->name = o->posix->name;
	}
}

static void put_title(FILE *out, size_t i, const struct audit_obj *o,
		      const struct segment *s)
{
	bool first = true;

	fprintf(out, "[%zu] ", i + 1);
	if (o->family == AUDIT_POSIX && o->posix->semaphore) {
		fputs("posix semaphore ", out);
		words_put_quoted(out, o->posix->name);
	} else {
		words_put_identity(out, s);
	}
	fprintf(out, ", %" PRIu64 " bytes", o->size);
	for (size_t f = 0; f < NFLAGS; f++) {
		if (!(o->flags & flag_texts[f].bit))
			continue;
		fputs(first ? ": " : ", ", out);
		fputs(flag_texts[f].text, out);
		first = false;
	}
	fputc('\n', out);
}

static void put_sysv_facts(FILE *out, const struct audit *a,
			   const struct audit_obj *o)
{
	const struct kernel_sysv *k = o->sysv;

	fputs("    owner ", out);
	put_user(out, k->uid);
	fprintf(out, ", perms %04o, %" PRIu32 " attached", k->perms & 0777,
		k->nattch);
	if (o->unseen)
		fprintf(out, " (%" PRIu32 " by processes not inspected)",
			o->unseen);
	if (k->dest)
		fputs(", marked for removal", out);
	fputs("\n    created by ", out);
	put_who(out, &o->creator);
	fputs("; last shmat ", out);
	put_ago(out, a->now, k->atime);
	fputs(", last shmdt ", out);
	put_ago(out, a->now, k->dtime);
	if (k->atime || k->dtime) {
		fputs(", by ", out);
		put_who(out, &o->last);
	}
	fputc('\n', out);
}

static void put_posix_facts(FILE *out, const struct audit *a,
			    const struct audit_obj *o)
{
	const struct kernel_posix *k = o->posix;

	if (o->unlinked) {
		fputs("    unlinked from /dev/shm, still mapped (size: the "
		      "part mapped)\n", out);
		return;
	}
	fputs("    owner ", out);
	put_user(out, k->uid);
	fprintf(out, ", perms %04o, modified ", k->mode & 0777);
	put_ago(out, a->now, k->mtime_ns / 1000000000);
	if (!o->nmappers && !o->nholders)
		fputs(o->complete ? "; nobody maps it or holds it open" :
		      "; no process inspected maps it or holds it open", out);
	fputc('\n', out);
}

static void put_mappers(FILE *out, const struct audit_obj *o)
{
	if (!o->nmappers)
		return;
	fputs(o->flags & AUDIT_PENDING ? "    held by:\n" : "    mapped by:\n",
	      out);
	for (size_t i = 0; i < o->nmappers; i++) {
		const struct audit_mapper *m = &o->mappers[i];

		fprintf(out, "      pid %-7" PRId32 " 0x%012" PRIx64 "-0x%012"
			PRIx64 " %s ", m->pid, m->addr, m->addr + m->length,
			m->readonly ? "ro" : "rw");
		words_put_safe(out, m->comm ? m->comm : "?");
		fputc('\n', out);
	}
}

/* "open in: pid 4242 (server) fd 3, 4; pid 4250 (client) fd 5" */
static void put_holders(FILE *out, const struct audit_obj *o)
{
	for (size_t i = 0; i < o->nholders; i++) {
		const struct audit_holder *h = &o->holders[i];

		if (i && h->pid == o->holders[i - 1].pid) {
			fprintf(out, ", %d", h->fd);
			continue;
		}
		fputs(i ? "; " : "    open in: ", out);
		fprintf(out, "pid %" PRId32 " (", h->pid);
		words_put_safe(out, h->comm ? h->comm : "?");
		fprintf(out, ") fd %d", h->fd);
	}
	if (o->nholders)
		fputc('\n', out);
}

static void put_traced(FILE *out, const struct audit *a,
		       const struct audit_obj *o)
{
	const struct audit_traced *t = o->traced;

	if (!t)
		return;
	fputs("    created in the trace ", out);
	words_put_safe(out, a->trace_path);
	fputs(" by ", out);
	words_put_pid(out, t->seg->creator.pid, t->creator);
	fputs(" at ", out);
	words_put_time(out, t->seg->created_ns);
	fputc('\n', out);
	words_put_frames(out, "        ", t->stack.frames, t->stack.nframes,
			 t->stack.truncated);
}

static void put_object(FILE *out, const struct audit *a, size_t i)
{
	const struct audit_obj *o = &a->objs[i];
	struct segment s;

	as_segment(o, &s);
	put_title(out, i, o, &s);
	if (o->family == AUDIT_SYSV)
		put_sysv_facts(out, a, o);
	else
		put_posix_facts(out, a, o);
	put_mappers(out, o);
	put_holders(out, o);
	put_traced(out, a, o);
	if (o->flags & (AUDIT_ORPHANED | AUDIT_STALE) && !o->unlinked) {
		fputs("    remove it with: ", out);
		words_put_remove_cmd(out, &s);
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* "sshd (3), postgres (5), cron" : names with their counts, by name. */
static void put_unreadable(FILE *out, const struct audit *a)
{
	bool *done;

	if (!a->nunreadable)
		return;
	done = xcalloc(a->nunreadable, sizeof(*done));
	fprintf(out, "could not inspect %zu process%s (permission denied): ",
		a->nunreadable, a->nunreadable == 1 ? "" : "es");
	for (size_t i = 0, shown = 0; i < a->nunreadable; i++) {
		size_t n = 0;

		if (done[i])
			continue;
		for (size_t j = i; j < a->nunreadable; j++)
			if (!done[j] && !strcmp(a->unreadable[j]->comm,
						a->unreadable[i]->comm)) {
				done[j] = true;
				n++;
			}
		fputs(shown++ ? ", " : "", out);
		words_put_safe(out, a->unreadable[i]->comm);
		if (n > 1)
			fprintf(out, " (%zu)", n);
	}
	fputs("\n  (a SysV attach by one of them is counted as \"not "
	      "inspected\"; a POSIX object\n  one of them maps may be shown "
	      "as orphaned", out);
	fputs(a->uid ? ": run as root to see everything)\n\n" : ")\n\n", out);
	free(done);
}

static void put_bytes(FILE *out, uint64_t n)
{
	char human[32];

	fprintf(out, "%" PRIu64 " bytes", n);
	if (n >= 1024)
		fprintf(out, " (%s)", words_bytes(n, human, sizeof(human)));
}

static void put_totals(FILE *out, const struct audit *a)
{
	const struct audit_totals *t = &a->totals;

	fprintf(out, "totals: %" PRIu64 " SysV segment%s, %" PRIu64
		" POSIX object%s, %" PRIu64 " semaphore%s: ", t->sysv,
		words_plural(t->sysv), t->posix, words_plural(t->posix),
		t->semaphores, words_plural(t->semaphores));
	put_bytes(out, t->bytes);
	fprintf(out, "\nlikely leaks: %" PRIu64 " object%s, ", t->leaks,
		words_plural(t->leaks));
	put_bytes(out, t->waste);
	fprintf(out, ": %" PRIu64 " orphaned, %" PRIu64 " stale, %" PRIu64
		" pending\n", t->orphaned, t->stale, t->pending);
}

static void put_heading(FILE *out, const struct audit *a)
{
	char when[64];
	time_t now = (time_t)a->now;
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
		 localtime_r(&now, &tm));
	fprintf(out, "shared memory on this machine at %s, seen by ", when);
	put_user(out, a->uid);
	fprintf(out, " (uid %" PRIu32 ")%s\n", a->uid,
		a->uid ? ": only its own processes' mappings" : "");
	fputs("from the kernel (/proc/sysvipc/shm, /dev/shm, /proc/PID/maps): "
	      "no history, ", out);
	if (a->trace_path) {
		fputs("backtraces\nof what the trace ", out);
		words_put_safe(out, a->trace_path);
		fputs(" made; ", out);
	} else {
		fputs("no backtraces;\n", out);
	}
	fputs("stale means unused for over ", out);
	put_span(out, a->stale_after);
	fputc('\n', out);
	if (!a->sysv_ok)
		fputs("warning: /proc/sysvipc/shm could not be read: no SysV "
		      "segment is listed\n", out);
	if (!a->posix_ok)
		fputs("warning: /dev/shm could not be read: no POSIX object "
		      "is listed\n", out);
	fputc('\n', out);
}

/* How full each tmpfs holding shared memory is, the SysV limits, the
 * memory cgroup: what the next allocation runs into. */
static void put_capacity(FILE *out, const struct capacity_now *c)
{
	const struct sysv_limits *l = &c->sysv;
	char a[32], b[32];

	fputs("capacity now:\n", out);
	for (unsigned i = 0; i < c->tmpfs.n; i++) {
		const struct tmpfs_fs *fs = &c->tmpfs.fs[i];

		if (!c->holds[i])
			continue;
		fputs("  tmpfs ", out);
		words_put_safe(out, fs->mount);
		fputs((int)i == c->shm ? " (POSIX objects): " :
		      " (shared file mappings): ", out);
		words_put_fill(out, fs->used, fs->size, fs->inodes, fs->inodes_used);
		fputc('\n', out);
	}
	if (c->shm < 0)
		fputs("  /dev/shm: not a tmpfs mount here\n", out);
	if (l->ok)
		fprintf(out, "  SysV: %" PRIu64 " of %" PRIu64 " segments (shmmni), "
			"%" PRIu64 " of %" PRIu64 " pages (shmall), at most %s "
			"a segment (shmmax)\n", l->segments, l->shmmni, l->pages,
			l->shmall, words_bytes(l->shmmax, a, sizeof(a)));
	if (c->cgroup.found && c->cgroup.ok) {
		fputs("  memory cgroup ", out);
		words_put_safe(out, c->cgroup.path);
		fprintf(out, ": %s used, %s of it shmem (tmpfs, memfd, SysV); ",
			words_bytes(c->cgroup.usage, a, sizeof(a)),
			words_bytes(c->cgroup.shmem, b, sizeof(b)));
		if (c->cgroup.limit == TMPFS_NO_LIMIT)
			fputs("no limit\n", out);
		else
			fprintf(out, "limit %s (%u%%)\n",
				words_bytes(c->cgroup.limit, a, sizeof(a)),
				capacity_percent(c->cgroup.usage, c->cgroup.limit));
	}
	fputc('\n', out);
}

void audit_text(FILE *out, const struct audit *a)
{
	const struct audit_totals *t = &a->totals;
	size_t i = 0;

	put_heading(out, a);
	if (a->capacity)
		put_capacity(out, a->capacity);
	fprintf(out, "likely leaks (%" PRIu64 "):\n", t->leaks);
	if (!t->leaks)
		fputs("  none\n", out);
	fputc('\n', out);
	for (; i < a->nobjs && a->objs[i].flags & AUDIT_LEAK_FLAGS; i++)
		put_object(out, a, i);
	fprintf(out, "other objects (%zu):\n", a->nobjs - i);
	if (i == a->nobjs)
		fputs("  none\n", out);
	fputc('\n', out);
	for (; i < a->nobjs; i++)
		put_object(out, a, i);
	put_unreadable(out, a);
	put_totals(out, a);
}
