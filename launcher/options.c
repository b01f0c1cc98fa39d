/*
 * options.c - the launcher's command line (its option table, which also
 * makes the usage text) and the error style every part of the launcher
 * uses.
 */
#include "launcher.h"
#include "parse-options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int launcher_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("shmtrace: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

static const struct parse_command shmtrace_cmdline = {
	.program = "shmtrace",
	.version = "shmtrace " SHMTRACE_VERSION,
	.usage = "shmtrace [options] [--] PROG [ARGS...]\n"
		 "   or: shmtrace -p PID[,PID...] [--tree] [--duration S] [options]",
	.description =
		"Run PROG with every shared-memory call of it and its descendants\n"
		"recorded into a trace file; exit with PROG's exit status.\n"
		"With -p, attach to running processes instead, record until\n"
		"SIGINT/SIGTERM, --duration or their end, then detach.",
	.epilogue =
		"On exit a summary of the segments created, removed and leaked\n"
		"goes to stderr (from shmview, found beside shmtrace or named by\n"
		"SHMTRACE_VIEWER).\n"
		"Read the trace with: shmview dump FILE, shmview report FILE",
	.args_name = "PROG", .min_args = 0, .max_args = PARSE_ARGS_ANY,
	.missing = "no program to run",
	.stop_at_arg = true,	/* what follows PROG is PROG's */
};

/* Parses "123", "64K", "256M", "1G" into a uint64_t.  Returns 0 or -1. */
static int parse_size(const char *s, void *target)
{
	uint64_t *out = target;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	int shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' || *end == 'B')	/* KiB, MB... */
		end += *end == 'i' ? 1 : 0, end += *end == 'B';
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* --size: a byte count the region can be laid out in, 64K to 64T (the
 * layout's bounds, region_layout()); 0 is no size, not the default. */
static int parse_region_size(const char *s, void *target)
{
	uint64_t v;
	if (parse_size(s, &v) || v < REGION_MIN_SIZE || v > (UINT64_C(1) << 46))
		return -1;
	*(uint64_t *)target = v;
	return 0;
}

/* Parses --depth, 0 to SHMT_MAX_DEPTH, into a uint32_t.  Returns 0 or -1. */
static int parse_depth(const char *s, void *target)
{
	uint64_t v;

	if (parse_size(s, &v) || v > SHMT_MAX_DEPTH)
		return -1;
	*(uint32_t *)target = (uint32_t)v;
	return 0;
}

static int add_supp(const char *s, void *target)
{
	struct options *o = target;
	if (o->nsupp == o->supp_cap) {
		o->supp_cap = o->supp_cap ? 2 * o->supp_cap : 4;
		o->supp = realloc(o->supp, o->supp_cap * sizeof(*o->supp));
		if (!o->supp)
			return -1;
	}
	o->supp[o->nsupp++] = s;
	return 0;
}

/* -p 12,34: appended to o->pids. */
static int add_pids(const char *s, void *target)
{
	struct options *o = target;
	while (*s) {
		char *end;
		errno = 0;
		long v = strtol(s, &end, 10);
		if (errno || end == s || v <= 0 || v > INT32_MAX ||
		    (*end && *end != ','))
			return -1;
		if (o->npids == ATTACH_MAX)
			return -1;
		o->pids[o->npids++] = (pid_t)v;
		s = *end ? end + 1 : end;
	}
	return o->npids ? 0 : -1;
}

/* --duration 2.5: milliseconds, at least 1. */
static int parse_seconds(const char *s, void *target)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e7)
		return -1;
	*(uint64_t *)target = (uint64_t)(v * 1000.0 + 0.5) ? (uint64_t)(v * 1000.0 + 0.5) : 1;
	return 0;
}

/* Returns 0 with *o filled, 1 after --help/--version, -1 on a usage error. */
int parse_options(int argc, char **argv, struct options *o)
{
	_Static_assert(SHMT_MAX_DEPTH == 256, "the --depth message says 256");
	const struct parse_opt opts[] = {
		OPT_STRING('o', "output", &o->output, "FILE",
			   "trace file (default shmtrace.PROG.PID.trace)"),
		OPT_FLAG('f', "force", &o->force, "overwrite FILE if it exists"),
		OPT_CALLBACK('s', "size", &o->size, "BYTES", parse_region_size,
			     "64K to 64T, a byte count like 256M",
			     "trace region size, with K, M, G or T suffix\n"
			     "(default: room for about a million events)"),
		OPT_CALLBACK('d', "depth", &o->depth, "N", parse_depth, "0 to 256",
			     "backtrace frames per event, 0 to disable\n"
			     "(default 16; also SHMTRACE_DEPTH)"),
		OPT_FLAG('q', "quiet", &o->quiet, "no summary on exit"),
		OPT_INT(0, "error-exitcode", &o->error_exitcode, "N", 1, 255,
			"1 to 255", "exit with N when the program leaked a\n"
			"shared memory segment (1 to 255)"),
		OPT_STRING(0, "log-file", &o->log_file, "FILE",
			   "write the summary to FILE, not stderr (%p: the\n"
			   "program's pid, %%: a %)"),
		OPT_CALLBACK(0, "suppressions", o, "FILE", add_supp, "a file",
			     "leaks FILE suppresses do not count (may be given\n"
			     "again; the format: shmview(1), SUPPRESSIONS)"),
		OPT_FLAG(0, "no-wait-daemons", &o->no_wait_daemons,
			 "end when PROG ends: do not wait for the\n"
			 "processes it leaves running (daemons)"),
		OPT_CALLBACK('p', "pid", o, "PID[,PID...]", add_pids,
			     "process ids, comma separated",
			     "attach to these running processes (and the\n"
			     "processes they fork from now on)"),
		OPT_FLAG(0, "tree", &o->tree,
			 "with -p: also every live descendant of them"),
		OPT_CALLBACK(0, "duration", &o->duration_ms, "SECONDS",
			     parse_seconds, "a number of seconds",
			     "with -p: detach after this long"),
		OPT_END(),
	};
	const char *env_depth = getenv("SHMTRACE_DEPTH");
	int rc;

	o->self = argv[0];
	o->depth = SHMT_DEFAULT_DEPTH;
	if (env_depth && *env_depth)
		o->depth = (uint32_t)strtoul(env_depth, NULL, 10);
	rc = parse_cmdline(&shmtrace_cmdline, opts, argc, argv, &o->argv);
	if (rc)
		return rc;
	if (o->npids && o->argv[0])
		return parse_cmdline_error(&shmtrace_cmdline,
					   "-p takes no program to run");
	if (!o->npids && !o->argv[0])
		return parse_cmdline_error(&shmtrace_cmdline,
					   "no program to run (or -p PID)");
	if (!o->npids && (o->tree || o->duration_ms))
		return parse_cmdline_error(&shmtrace_cmdline,
					   "--tree and --duration go with -p");
	if (o->depth > SHMT_MAX_DEPTH)
		return error("bad SHMTRACE_DEPTH: want 0 to %u", SHMT_MAX_DEPTH);
	if (!o->size)
		o->size = region_default_size(REGION_DEFAULT_EVENTS, o->depth);
	return 0;
}

/* Finds PROG the way execvp would.  Returns 0 with the path in buf, or -1
 * with errno set. */
