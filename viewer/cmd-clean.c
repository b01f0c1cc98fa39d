/*
 * cmd-clean.c - `shmview clean`: remove the segments a trace leaked.
 *
 * Only a segment this trace leaked (model_is_leak) is a candidate, and
 * each is checked again just before it is removed, since ids and names
 * are reused: the verdicts are clean.h's.  This asks, removes and says
 * what it did.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include "clean.h"
#include "cmd.h"
#include "kernel.h"
#include "model.h"
#include "parse-options.h"
#include "render.h"
#include "trace.h"
#include "util.h"
#include "words.h"

static const struct parse_command clean_cmdline = {
	SHMVIEW_COMMAND("clean"),
	.usage = "shmview clean [--yes] TRACE",
	.description =
		"Remove the shared memory segments TRACE created and left behind (SysV\n"
		"segments with IPC_RMID, POSIX objects with shm_unlink), after showing\n"
		"them and asking.  A segment the trace did not create is never touched.",
	.args_name = "TRACE", .min_args = 1, .max_args = 1,
};

/* Returns 0 with *yes and *path set, 1 after --help, -1 on a usage error. */
static int parse_options(int argc, char **argv, bool *yes, const char **path)
{
	const struct parse_opt opts[] = {
		OPT_BOOL('y', "yes", yes, "remove without asking"),
		OPT_END(),
	};
	char **args;
	int rc = parse_cmdline(&clean_cmdline, opts, argc, argv, &args);

	if (rc == 0)
		*path = args[0];
	return rc;
}

/* The leaks that can be removed by name or id: SysV and POSIX. */
static size_t find_leaks(const struct model *m, const struct segment ***out)
{
	const struct segment **leaks = xcalloc(m->nsegments, sizeof(*leaks));
	size_t n = 0;

	for (size_t i = 0; i < m->nsegments; i++) {
		const struct segment *s = m->segments[i];

		if (model_is_leak(s) &&
		    (s->kind == SEG_SYSV ||
		     ((s->kind == SEG_POSIX || s->kind == SEG_SEM) && s->name)))
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

/* --- checking again (clean.h), then removing ------------------------------ */

static struct clean_verdict check(const struct model *m,
				  const struct segment *s,
				  const struct kernel_view *k)
{
	struct clean_window w = clean_trace_window(m->trace);
	struct clean_posix_now now;

	char name[4096];
	if (s->kind == SEG_SYSV)
		return clean_check_sysv(m, s, k, w);
	clean_stat_posix(model_shm_name(s, name, sizeof(name)), &now);
	return clean_check_posix(s, &now, w);
}

static int remove_one(const struct segment *s)
{
	char name[4096];
	int rc = s->kind == SEG_SYSV ? shmctl(s->shmid, IPC_RMID, NULL) :
		 shm_unlink(model_shm_name(s, name, sizeof(name)));

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
	struct clean_verdict v = check(m, s, k);

	if (v.action != CLEAN_REMOVE) {
		fputs(v.action == CLEAN_GONE ? "already gone: " : "left alone: ",
		      stdout);
		words_put_identity(stdout, s);
		if (v.action == CLEAN_NOT_OURS)
			printf(" (%s)", clean_reason_text(v.why));
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
	int rc = 0;

	if (trace_open(path, &t) < 0)
		return 1;
	model_build_now(&m, &t);
	if (m.running)
		rc = error("clean: the traced program is still running");
	if (rc == 0)
		rc = clean_leaks(&m, yes);
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
