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
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "capacity.h"
#include "cmd.h"
#include "kernel.h"
#include "model.h"
#include "parse-options.h"
#include "render.h"
#include "report.h"
#include "symbolize.h"
#include "trace.h"
#include "util.h"

static const struct parse_command audit_cmdline = {
	SHMVIEW_COMMAND("audit"),
	.usage = "shmview audit [--json] [--stale SECONDS] [--trace TRACE] [--error-exitcode=N]",
	.description =
		"Audit the shared memory of this machine now, from the kernel's records\n"
		"(no trace needed): every SysV segment and POSIX object, which processes\n"
		"have each mapped, and the likely leaks (orphaned, stale, pending),\n"
		"biggest waste first, with totals; first, how full /dev/shm (and any\n"
		"tmpfs holding shared file mappings), the SysV limits and the memory\n"
		"cgroup are.  As an ordinary user it says which processes it could not\n"
		"inspect.",
	.min_args = 0, .max_args = 0,
};

struct audit_options {
	bool json;
	int64_t stale;
	const char *trace;
	int error_exitcode;     /* with likely leaks, 0: none */
};

/* --stale: a span in the one time syntax (util.h), into whole seconds
 * (audit and metrics). */
int cmd_parse_stale(const char *s, void *target)
{
	uint64_t ns;

	if (parse_time_ns(s, &ns))
		return -1;
	*(int64_t *)target = (int64_t)(ns / 1000000000u);
	return 0;
}

/* Returns 0 with *o set, 1 after --help/--version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct audit_options *o)
{
	const struct parse_opt opts[] = {
		OPT_BOOL(0, "json", &o->json, "one JSON object instead of text"),
		OPT_CALLBACK(0, "stale", &o->stale, "SECONDS", cmd_parse_stale,
			     TIME_SYNTAX,
			     "unused for longer than this is stale (default 3600;\n"
			     "or with a unit: 90s, 30m, 12h, 2d)"),
		OPT_STRING(0, "trace", &o->trace, "TRACE",
			   "show the creation backtrace of each object TRACE made"),
		OPT_INT(0, "error-exitcode", &o->error_exitcode, "N", 1, 255,
			"1 to 255", "exit with status N when there are likely leaks"),
		OPT_END(),
	};
	char **args;

	return parse_cmdline(&audit_cmdline, opts, argc, argv, &args);
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
	int rc;
	struct capacity_now cap;

	/* a bad trace is an error before any work */
	if (o->trace) {
		if (trace_open(o->trace, &t) < 0) {
			trace_close(&t);
			return 1;
		}
		model_build(&m, &t, UINT64_MAX);
	}
	if (audit_read(&a, &k, &scan, o->stale)) {
		kernel_free(&k);
		model_free(&m);
		trace_close(&t);
		return 1;
	}
	if (o->trace) {	/* the model decides which object is the trace's */
		model_reconcile(&m, &k);
		st = audit_annotate(&a, &m, &t, o->trace);
	}
	capacity_read_now(&cap, &k, &scan);
	a.capacity = &cap;
	if (o->json)
		audit_json(stdout, &a);
	else
		audit_text(stdout, &a);
	rc = a.totals.leaks && o->error_exitcode ? o->error_exitcode : 0;
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
	struct audit_options o = { .stale = AUDIT_DEFAULT_STALE };
	int rc = parse_options(argc, argv, &o);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	return audit(&o);
}
