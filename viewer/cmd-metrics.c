/*
 * cmd-metrics.c - `shmview metrics`: the machine's shared memory as
 * Prometheus metrics, for node_exporter's textfile collector.
 *
 * The same kernel views and verdicts as `audit` (audit_read, audit.h),
 * summed by kind, verdict and owner (metrics.h), with how full each
 * tmpfs holding shared memory is and the SysV and cgroup limits
 * (capacity.h).  With -o FILE the exposition is written to a temporary
 * file in FILE's directory and renamed over FILE, so the collector never
 * reads half a file; the temporary name starts with a dot and does not
 * end in .prom, so the collector never reads it either.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "capacity.h"
#include "clock.h"
#include "cmd.h"
#include "kernel.h"
#include "metrics.h"
#include "parse-options.h"
#include "render.h"
#include "util.h"

static const struct parse_command metrics_cmdline = {
	SHMVIEW_COMMAND("metrics"),
	.usage = "shmview metrics [-o FILE] [--per-object] [--stale SECONDS]",
	.description =
		"Print the shared memory of this machine as Prometheus metrics (text\n"
		"format): bytes and objects by kind and audit verdict, by owner, how\n"
		"full /dev/shm is, the SysV limits, the collection's health.  With -o the\n"
		"file is replaced atomically, for node_exporter's textfile collector;\n"
		"run it from cron or a systemd timer.",
	.min_args = 0, .max_args = 0,
};

struct metrics_options {
	const char *output;
	bool per_object;
	int64_t stale;
};

/* Returns 0 with *o set, 1 after --help/--version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct metrics_options *o)
{
	const struct parse_opt opts[] = {
		OPT_STRING('o', "output", &o->output, "FILE",
			   "write FILE atomically (temporary file + rename)"),
		OPT_BOOL(0, "per-object", &o->per_object,
			 "one series per object too (for small hosts: cardinality)"),
		OPT_CALLBACK(0, "stale", &o->stale, "SECONDS", cmd_parse_stale,
			     TIME_SYNTAX,
			     "unused for longer than this is stale (default 3600)"),
		OPT_END(),
	};
	char **args;

	return parse_cmdline(&metrics_cmdline, opts, argc, argv, &args);
}

/* Write mt to `path` through a temporary file in the same directory,
 * then rename it into place.  Returns 0, or -1 after saying why (the
 * temporary file is gone then, and `path` untouched). */
static int write_atomically(const char *path, const struct metrics *mt)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	int fd, err;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", dirlen, path,
		     slash ? slash + 1 : path) >= (int)sizeof(tmp))
		return error("cannot write '%s': name too long", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return error("cannot write '%s': %s", path, strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		err = errno;
		close(fd);
		unlink(tmp);
		return error("cannot write '%s': %s", path, strerror(err));
	}
	metrics_prom(f, mt);
	/* readable by the collector, which often runs as another user */
	if (fflush(f) || ferror(f) || fchmod(fd, 0644) || fsync(fd)) {
		err = errno ? errno : EIO;
		fclose(f);
		unlink(tmp);
		return error("cannot write '%s': %s", path, strerror(err));
	}
	if (fclose(f) || rename(tmp, path)) {
		err = errno;
		unlink(tmp);
		return error("cannot write '%s': %s", path, strerror(err));
	}
	return 0;
}

static int metrics(const struct metrics_options *o)
{
	struct audit a = { 0 };
	struct kernel_view k;
	struct kernel_scan scan;
	struct capacity_now cap;
	struct metrics mt = { 0 };
	uint64_t t0 = clock_now_ns();
	int rc = 0;

	if (audit_read(&a, &k, &scan, o->stale)) {
		kernel_free(&k);
		return 1;
	}
	capacity_read_now(&cap, &k, &scan);
	metrics_build(&mt, &a, &cap);
	mt.per_object = o->per_object;
	mt.time = (int64_t)time(NULL);
	mt.duration_seconds = (double)(clock_now_ns() - t0) / 1e9;
	if (o->output)
		rc = write_atomically(o->output, &mt) ? 1 : 0;
	else
		metrics_prom(stdout, &mt);
	metrics_free(&mt);
	audit_free(&a);
	kernel_scan_free(&scan);
	kernel_free(&k);
	return rc;
}

int cmd_metrics(int argc, char **argv)
{
	struct metrics_options o = { NULL, false, AUDIT_DEFAULT_STALE };
	int rc = parse_options(argc, argv, &o);

	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	return metrics(&o);
}
