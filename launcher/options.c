/*
 * options.c - the launcher's command line: the options, the usage text,
 * and the error style every part of the launcher uses.
 */
#include "launcher.h"

#include <errno.h>
#include <getopt.h>
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

void usage(FILE *to)
{
	fputs("usage: shmtrace [options] [--] PROG [ARGS...]\n"
	      "Run PROG with every shared-memory call of it and its descendants\n"
	      "recorded into a trace file; exit with PROG's exit status.\n\n"
	      "  -o, --output FILE  trace file (default shmtrace.PROG.PID.trace)\n"
	      "  -f, --force        overwrite FILE if it exists\n"
	      "  -s, --size BYTES   trace region size, with K, M, G or T suffix\n"
	      "                     (default: room for about a million events)\n"
	      "  -d, --depth N      backtrace frames per event, 0 to disable\n"
	      "                     (default 16; also SHMTRACE_DEPTH)\n"
	      "  -q, --quiet        no summary on exit\n"
	      "  --error-exitcode=N exit with N when the program leaked a\n"
	      "                     shared memory segment (1 to 255)\n"
	      "  -h, --help         this help\n"
	      "  -V, --version      print the version\n\n"
	      "On exit a summary of the segments created, removed and leaked\n"
	      "goes to stderr (from shmview, found beside shmtrace or named by\n"
	      "SHMTRACE_VIEWER).\n"
	      "Read the trace with: shmview dump FILE, shmview report FILE\n", to);
}

/* Parses "123", "64K", "256M", "1G".  Returns 0 or -1. */
static int parse_size(const char *s, uint64_t *out)
{
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

/* Parses an exit status for --error-exitcode: 1 to 255.  Returns 0 or -1. */
static int parse_exitcode(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 255)
		return -1;
	*out = (int)v;
	return 0;
}

/* Returns 0 with *o filled, 1 after --help/--version, -1 on a usage error. */
int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "depth", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "error-exitcode", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	const char *env_depth = getenv("SHMTRACE_DEPTH");
	o->depth = SHMT_DEFAULT_DEPTH;
	if (env_depth && *env_depth)
		o->depth = (uint32_t)strtoul(env_depth, NULL, 10);
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:fs:d:qhV", longs, NULL)) != -1) {
		uint64_t v;
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'f': o->force = 1; break;
		case 'q': o->quiet = 1; break;
		case 's':
			if (parse_size(optarg, &o->size))
				return error("bad --size '%s': want a byte count like 256M", optarg);
			break;
		case 'd':
			if (parse_size(optarg, &v) || v > SHMT_MAX_DEPTH)
				return error("bad --depth '%s': want 0 to %u", optarg, SHMT_MAX_DEPTH);
			o->depth = (uint32_t)v;
			break;
		case 'E':
			if (parse_exitcode(optarg, &o->error_exitcode))
				return error("bad --error-exitcode '%s': want 1 to 255",
					     optarg);
			break;
		case 'h': usage(stdout); return 1;
		case 'V': puts("shmtrace 0.1.0"); return 1;
		default:
			if (optopt && strchr("osdE", optopt))
				return error("option '%s' needs a value (see shmtrace --help)",
					     argv[optind - 1]);
			return error("unknown option '%s' (see shmtrace --help)",
				     argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return error("no program to run (see shmtrace --help)");
	o->argv = argv + optind;
	if (o->depth > SHMT_MAX_DEPTH)
		return error("bad SHMTRACE_DEPTH: want 0 to %u", SHMT_MAX_DEPTH);
	if (!o->size)
		o->size = region_default_size(REGION_DEFAULT_EVENTS, o->depth);
	return 0;
}

/* Finds PROG the way execvp would.  Returns 0 with the path in buf, or -1
 * with errno set. */
