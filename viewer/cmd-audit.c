/*
 * cmd-audit.c - `shmview audit`: the shared memory of the whole machine
 * now, from the kernel's own records, without a trace.
 *
 * Tracing cannot go back in time, but the kernel still knows a lot: every
 * SysV segment with its creator, last user, attach count and times
 * (/proc/sysvipc/shm), every POSIX object with its owner and times
 * (/dev/shm), and who maps or holds each one now (/proc/PID/maps and
 * /proc/PID/fd of every process this user may inspect).  This reads them,
 * has the core build the audit from them (audit.h: which objects look
 * leaked, sorted by the memory they waste; with --trace, the objects that
 * trace created, with its creation backtrace), and hands the result to a
 * renderer.
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

/* --- the command ---------------------------------------------------------------- */

static int audit(const struct audit_options *o)
{
	struct audit a = { 0 };
	struct kernel_view k;
	struct kernel_scan scan;
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
	audit_build(&a, &k, &scan);
	if (o->trace)
		st = audit_annotate(&a, &m, &t, o->trace);
	if (o->json)
		audit_json(stdout, &a);
	else
		audit_text(stdout, &a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		error("write error on standard output");
		rc = 1;
	}
	audit_free(&a);
	sym_free(st);
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
