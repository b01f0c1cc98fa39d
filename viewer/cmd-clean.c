/*
 * cmd-clean.c - `shmview clean`: remove the segments a trace leaked.
 *
 * Only a segment this trace created and that outlived every traced
 * process is a candidate, and each is checked again just before it is
 * removed: ids and names are reused, and a segment someone else made since
 * must never be touched.  A SysV id must still carry the same key, have
 * been created by a pid of the trace and last changed while the trace ran;
 * a POSIX name must still be a regular file in /dev/shm, last changed
 * while the trace ran, with the inode seen when the model was reconciled.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "kernel.h"
#include "model.h"
#include "render.h"
#include "report.h"
#include "trace.h"
#include "util.h"
#include "words.h"

static const char clean_usage[] =
"usage: shmview clean [--yes] TRACE\n"
"\n"
"Remove the shared memory segments TRACE created and left behind (SysV\n"
"segments with IPC_RMID, POSIX objects with shm_unlink), after showing\n"
"them and asking.  A segment the trace did not create is never touched.\n"
"\n"
"  -y, --yes      remove without asking\n"
"  -h, --help     show this help\n"
"  -V, --version  print the version\n";

/* Returns 0 with *yes and *path set, 1 after --help, -1 on a usage error. */
static int parse_options(int argc, char **argv, bool *yes, const char **path)
{
	static const struct option longopts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "yhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'y': *yes = true; break;
		case 'h': fputs(clean_usage, stdout); return 1;
		case 'V': printf("%s %s\n", SHMVIEW_NAME, SHMVIEW_VERSION); return 1;
		default:
			return bad_option("clean", argv, longopts);
		}
	}
	if (optind != argc - 1)
		return error(optind == argc ? "clean: missing the trace file "
			     "(see 'shmview clean --help')" : "clean: too many "
			     "arguments (see 'shmview clean --help')");
	*path = argv[optind];
	return 0;
}

/* The leaks that can be removed by name or id: SysV and POSIX. */
static size_t find_leaks(const struct model *m, const struct segment ***out)
{
	const struct segment **leaks = xcalloc(m->nsegments, sizeof(*leaks));
	size_t n = 0;

	for (size_t i = 0; i < m->nsegments; i++) {
		const struct segment *s = m->segments[i];

		if (report_is_leak(s) &&
		    (s->kind == SEG_SYSV || (s->kind == SEG_POSIX && s->name)))
			leaks[n++] = s;
	}
	*out = leaks;
	return n;
}

static void put_leak(const struct segment *s)
{
	fputs("  ", stdout);
	words_put_identity(stdout, s);
	if (s->size)
		printf(", %" PRIu64 " bytes", s->size);
	printf(", created by pid %" PRId32 "\n", s->creator.pid);
}

/* Ask on the terminal (the question on stderr, so it shows even when the
 * list goes to a file); true for "y" or "yes". */
static bool confirm(size_t n)
{
	char *line = NULL;
	size_t len = 0;
	bool yes = false;

	fflush(stdout);
	if (n == 1)
		fprintf(stderr, "remove this segment? [y/N] ");
	else
		fprintf(stderr, "remove these %zu segments? [y/N] ", n);
	if (getline(&line, &len, stdin) > 0) {
		line[strcspn(line, " \t\r\n")] = '\0';
		yes = !strcasecmp(line, "y") || !strcasecmp(line, "yes");
	}
	free(line);
	return yes;
}

/* --- checking again, then removing --------------------------------------- */

enum verdict { REMOVE, GONE, NOT_OURS };

static enum verdict not_ours(const char **why, const char *reason)
{
	*why = reason;
	return NOT_OURS;
}

/*
 * When the trace ran, as CLOCK_REALTIME nanoseconds.  An object created
 * by the trace was last changed within it, unless someone changed it
 * since; one changed later is left alone, since it may be another object
 * under the same name.  The kernel stamps inodes with a coarse clock that
 * lags by up to a tick, so the start is moved back by a margin; the end
 * needs none (a stamp is never ahead of the time).  `hi` is INT64_MAX
 * when the trace does not say when it ended.
 */
#define TICK_MARGIN_NS 50000000  /* 50 ms: several ticks at HZ=100 */

struct window {
	int64_t lo, hi;
};

static struct window trace_window(const struct trace *t)
{
	struct window w = { (int64_t)t->start_realtime_ns - TICK_MARGIN_NS,
			    INT64_MAX };

	if ((t->flags & SHMT_HF_FINAL) && t->end_ns >= t->start_ns)
		w.hi = (int64_t)(t->start_realtime_ns +
				 (t->end_ns - t->start_ns));
	return w;
}

static enum verdict check_sysv(const struct model *m, const struct segment *s,
			       const struct kernel_view *k, const char **why)
{
	const struct kernel_sysv *ks = kernel_find_shmid(k, s->shmid);
	struct window w = trace_window(m->trace);

	if (!k->sysv_ok)
		return not_ours(why, "/proc/sysvipc/shm cannot be read");
	if (!ks)
		return GONE;
	if (ks->key != s->key)
		return not_ours(why, "its id now has another key");
	if (!model_process(m, ks->cpid))
		return not_ours(why, "its id now belongs to a segment made "
				"outside the trace");
	if (ks->ctime < w.lo / 1000000000)
		return not_ours(why, "its id now belongs to an older segment");
	if (w.hi != INT64_MAX && ks->ctime > w.hi / 1000000000)
		return not_ours(why, "it was changed after the trace ended");
	if (s->size && ks->size != s->size)
		return not_ours(why, "its id now has another size");
	if (ks->dest)
		return GONE;    /* someone removed it meanwhile */
	return REMOVE;
}

static enum verdict check_posix(const struct model *m, const struct segment *s,
				const char **why)
{
	struct window w = trace_window(m->trace);
	const char *name = s->name;
	char path[PATH_MAX];
	struct stat st;
	int64_t ctime_ns;

	while (*name == '/')
		name++;
	if ((size_t)snprintf(path, sizeof(path), "/dev/shm/%s", name) >=
	    sizeof(path))
		return not_ours(why, "its name is too long");
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? GONE :
		       not_ours(why, "it cannot be examined");
	if (!S_ISREG(st.st_mode))
		return not_ours(why, "it is not a regular file any more");
	ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	if (ctime_ns < w.lo)
		return not_ours(why, "its name belongs to an older object");
	if (ctime_ns > w.hi)
		return not_ours(why, "the object of that name was changed "
				"after the trace ended");
	if (s->inode && st.st_ino != s->inode)
		return not_ours(why, "its name now belongs to another object");
	return REMOVE;
}

static int remove_one(const struct segment *s)
{
	int rc = s->kind == SEG_SYSV ? shmctl(s->shmid, IPC_RMID, NULL) :
		 shm_unlink(s->name);

	if (rc < 0)
		return -1;
	fputs("removed ", stdout);
	words_put_identity(stdout, s);
	fputc('\n', stdout);
	return 0;
}

static int cannot_remove(const struct segment *s, int err)
{
	char *what = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&what, &len);

	if (!f)
		return error("cannot remove a segment: %s", strerror(err));
	words_put_identity(f, s);
	fclose(f);
	error("cannot remove %s: %s", what, strerror(err));
	free(what);
	return -1;
}

/* Returns 0, or -1 when the removal was tried and failed. */
static int clean_one(const struct model *m, const struct segment *s,
		     const struct kernel_view *k)
{
	const char *why = NULL;
	enum verdict v = s->kind == SEG_SYSV ? check_sysv(m, s, k, &why) :
			 check_posix(m, s, &why);

	if (v != REMOVE) {
		fputs(v == GONE ? "already gone: " : "left alone: ", stdout);
		words_put_identity(stdout, s);
		if (v == NOT_OURS)
			printf(" (%s)", why);
		putchar('\n');
		return 0;
	}
	if (remove_one(s) == 0)
		return 0;
	return cannot_remove(s, errno);
}

static int remove_all(const struct model *m, const struct segment **leaks,
		      size_t n)
{
	struct kernel_view k;
	int rc = 0;

	kernel_read(&k);        /* again: time may have passed at the prompt */
	for (size_t i = 0; i < n; i++)
		if (clean_one(m, leaks[i], &k) < 0)
			rc = -1;
	kernel_free(&k);
	return rc;
}

static int build(struct model *m, const struct trace *t)
{
	struct kernel_view k;

	if (model_build(m, t, UINT64_MAX) < 0)
		return -1;
	kernel_read(&k);
	model_reconcile(m, &k);
	kernel_free(&k);
	return 0;
}

static int clean_leaks(const struct model *m, bool yes)
{
	const struct segment **leaks;
	size_t n = find_leaks(m, &leaks);
	int rc = 0;

	if (!n) {
		printf("nothing to clean: the trace left no segment behind\n");
	} else if (!yes && !isatty(STDIN_FILENO)) {
		rc = error("clean: not removing %zu segment%s without asking, "
			   "and standard input is not a terminal (use --yes)",
			   n, n == 1 ? "" : "s");
	} else {
		printf("this trace left %zu segment%s behind:\n", n,
		       n == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++)
			put_leak(leaks[i]);
		if (yes || confirm(n))
			rc = remove_all(m, leaks, n);
		else
			printf("nothing removed\n");
	}
	free(leaks);
	return rc;
}

static int clean(const char *path, bool yes)
{
	struct model m = { 0 };
	struct trace t;
	int rc;

	if (trace_open(path, &t) < 0)
		return 1;
	rc = build(&m, &t);
	if (rc == 0 && m.running)
		rc = error("clean: the traced program is still running");
	if (rc == 0)
		rc = clean_leaks(&m, yes);
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = error("write error on standard output");
	model_free(&m);
	trace_close(&t);
	return rc < 0 ? 1 : 0;
}

int cmd_clean(int argc, char **argv)
{
	const char *path = NULL;
	bool yes = false;
	int rc = parse_options(argc, argv, &yes, &path);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	return clean(path, yes);
}
