/*
 * cmd-finish.c - `shmview finish [-o OUT] TRACE`: turns a trace that was
 * never finished (its launcher killed, or a region the shim made without
 * one, full size) into a finished compact file (common/records.h), and
 * says what it could not know.
 *
 * Every valid event is kept with its slot (seq), time, stack and string;
 * what the reader had to skip (abandoned or corrupt slots, damaged
 * records) becomes loss records, so the viewer's verdicts say it.  The
 * new file is written beside the target and renamed over it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "parse-options.h"
#include "records-writer.h"
#include "trace.h"
#include "util.h"

static const struct parse_command finish_cmdline = {
	SHMVIEW_COMMAND("finish"),
	.usage = "shmview finish [-o OUT] TRACE",
	.description =
		"Finish TRACE, a trace whose launcher stopped before the run ended\n"
		"(or a region the shim made without a launcher): write it as a\n"
		"finished compact file, in place or to OUT, and say what was lost.",
	.args_name = "TRACE", .min_args = 1, .max_args = 1,
};

/* Appends every valid event of t; *last gets the latest time. */
static void copy_events(const struct trace *t, struct records_writer *w,
			struct trace_iter *it, uint64_t *last)
{
	const struct trace_event *ev;
	trace_iter_init(it, t);
	while ((ev = trace_iter_next(it))) {
		int64_t rel = trace_event_reltime(t, ev);
		struct records_event r = {
			.seq = ev->seq, .call = ev->call, .flags = ev->flags,
			.err = ev->err, .obj = ev->obj, .pid = ev->pid, .tid = ev->tid,
			.time_ns = rel > 0 ? (uint64_t)rel : 0,
			.duration_ns = ev->duration_ns, .ret = ev->ret,
		};
		memcpy(r.args, ev->args, sizeof(r.args));
		if (r.time_ns > *last)
			*last = r.time_ns;
		records_writer_event(w, &r, ev->frames, ev->nframes, ev->str,
				     ev->str_len);
	}
}

/* The loss records of t, then what the pass skipped beyond them. */
static void copy_losses(const struct trace *t, struct records_writer *w,
			const struct trace_iter *it, uint64_t last)
{
	size_t n;
	const struct trace_loss *l = trace_losses(t, &n);
	uint64_t abandoned = 0, corrupt = 0;
	for (size_t i = 0; i < n; i++) {
		records_writer_loss(w, l[i].cause, l[i].count, l[i].pid, l[i].from_ns,
				    l[i].to_ns);
		abandoned += l[i].cause == RECORDS_LOSS_ABANDONED ? l[i].count : 0;
		corrupt += l[i].cause == RECORDS_LOSS_CORRUPT ? l[i].count : 0;
	}
	if (it->abandoned > abandoned)
		records_writer_loss(w, RECORDS_LOSS_ABANDONED, it->abandoned - abandoned,
				    0, 0, last);
	if (it->corrupt > corrupt)
		records_writer_loss(w, RECORDS_LOSS_CORRUPT, it->corrupt - corrupt, 0, 0,
				    last);
}

/* Writes the finished file for t into fd.  Returns 0, or -1 with errno. */
static int write_finished(const struct trace *t, int fd, uint64_t *events,
			  uint64_t *last)
{
	struct records_writer w;
	struct trace_iter it;
	struct shmt_header h;
	memcpy(&h, t->hdr, sizeof(h));	/* the counters, as they stand */
	h.start_ns = t->start_ns;
	h.start_realtime_ns = t->start_realtime_ns;
	if (records_writer_open(&w, fd, &h) < 0)
		return -1;
	*last = 0;
	copy_events(t, &w, &it, last);
	copy_losses(t, &w, &it, *last);
	if (!(t->flags & SHMT_HF_FINAL)) {	/* the end we know of */
		h.end_ns = t->start_ns + *last;
		h.exit_status = -1;
	}
	h.flags |= SHMT_HF_FINAL;
	*events = w.events;
	int rc = records_writer_flush(&w) || records_writer_header(&w, &h) ||
		 fsync(fd) ? -1 : 0;
	if (w.error)
		errno = w.error;
	records_writer_free(&w);
	return rc;
}

static int finish(const char *path, const char *out)
{
	struct trace t;
	if (trace_open(path, &t))
		return 1;
	const char *target = out ? out : path;
	if ((t.flags & SHMT_HF_FINAL) && t.rec && !out) {
		printf("%s is finished already\n", path);
		trace_close(&t);
		return 0;
	}
	char tmp[4096];
	const char *slash = strrchr(target, '/');
	snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", slash ? (int)(slash - target + 1) : 0,
		 target, slash ? slash + 1 : target);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		error("cannot write beside '%s': %s", target, strerror(errno));
		trace_close(&t);
		return 1;
	}
	uint64_t events = 0, last = 0;
	int was_final = (t.flags & SHMT_HF_FINAL) != 0;
	uint64_t was = t.size;
	int rc = write_finished(&t, fd, &events, &last);
	trace_close(&t);
	struct stat st;
	if (rc == 0 && (fstat(fd, &st) || rename(tmp, target)))
		rc = -1;
	if (rc) {
		error("cannot write '%s': %s", target, strerror(errno));
		unlink(tmp);
		close(fd);
		return 1;
	}
	close(fd);
	printf("%s: %" PRIu64 " event%s, %lld bytes (was %" PRIu64 ")", target,
	       events, events == 1 ? "" : "s", (long long)st.st_size, was);
	if (!was_final)
		printf("; the run's end was not recorded: the trace stops at "
		       "+%" PRIu64 ".%06" PRIu64 "s", last / 1000000000u,
		       last % 1000000000u / 1000u);
	putchar('\n');
	return 0;
}

int cmd_finish(int argc, char **argv)
{
	const char *out = NULL;
	const struct parse_opt opts[] = {
		OPT_STRING('o', "output", &out, "OUT",
			   "write the finished trace to OUT, not over TRACE"),
		OPT_END(),
	};
	char **args;
	int rc = parse_cmdline(&finish_cmdline, opts, argc, argv, &args);
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	return finish(args[0], out);
}
