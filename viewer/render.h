/*
 * render.h - the renderers of shmview, one file per command and format
 * (dump-text.c, dump-json.c, report-text.c, report-json.c, map-text.c,
 * map-json.c, audit-text.c, audit-json.c, metrics-prom.c, export-chrome.c;
 * live's are in live.h).
 *
 * A renderer only renders: the command (cmd-*.c) reads, filters, builds
 * the model with the core (core/), then hands the result to the renderer
 * of the chosen format, which writes it to the FILE it is given.  dump
 * renders event by event through ops (uftrace style: a new format is one
 * file with one `struct dump_ops`).
 *
 * What several renderers say about the same thing is said once in the
 * core: the phrases and the escaping of text in words.h, the model's JSON
 * members in json-model.h.  This header declares only the renderers.
 */
#ifndef SHMVIEW_RENDER_H
#define SHMVIEW_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "audit.h"
#include "json.h"
#include "metrics.h"
#include "model.h"
#include "report.h"
#include "symbolize.h"
#include "trace.h"

struct dump_options {
	bool json;      /* --json: one JSON object per line */
	bool stack;     /* --stack: frames under each text line */
	bool modules;   /* --modules: show module events too */
	bool timing;    /* -T: append the call's duration */
	int clock;      /* -t: time of day, -tt: with microseconds, -ttt:
	                   seconds since the epoch (strace's) */
	bool relative;  /* -r: time since the previous line */
	bool objects;   /* -y: the object behind each fd and address */
	bool summary;   /* -c: the call table (profile.h) instead of events */
};

struct annotate;

struct dump_ctx {
	FILE *out;
	const struct trace *trace;
	const struct dump_options *opts;
	struct json_writer json;   /* the JSON renderer's state */
	const struct annotate *objects;  /* -y (text), else NULL */
	const int32_t *threaded;   /* sorted pids with several threads */
	size_t nthreaded;
	int64_t prev_ns;           /* -r: the previous line's time */
	bool have_prev;
};

struct dump_ops {
	/* Called once before the first event and once after the last;
	 * NULL when the format has nothing to write there. */
	void (*begin)(struct dump_ctx *ctx);
	void (*end)(struct dump_ctx *ctx);
	/*
	 * Render one event.  `frames` holds ev->nframes resolved frames, or
	 * is NULL when the caller did not symbolize (text without --stack).
	 */
	void (*event)(struct dump_ctx *ctx, const struct trace_event *ev,
		      const struct sym_frame *frames);
};

extern const struct dump_ops dump_text_ops;
extern const struct dump_ops dump_json_ops;

struct call_profile;

/* dump -c: the strace -c table (dump-text.c), or one JSON object
 * (dump-json.c): {schema, calls: [{call, calls, errors, total_ns,
 * avg_ns, max_ns, share}], total: {...}}; rows in profile_sort() order. */
void dump_summary_text(FILE *out, const struct call_profile *p);
void dump_summary_json(FILE *out, const struct call_profile *p);

/* --- report (report-text.c, report-json.c) --- */

/* The renderers.  Each writes the whole report to `out`. */
void report_text(FILE *out, const struct report *r);
void report_summary(FILE *out, const struct report *r);
void report_json(FILE *out, const struct report *r);

/* --- map (map-text.c) --- */

/* The map as text for pipes and logs: a heading, each segment with its
 * attachments by process, then the processes.  `path` names what the map
 * is of (the trace file, or "pid N" for a map from /proc). */
void map_text(FILE *out, const struct model *m, const char *path);

/* The map as one JSON object:
 * { "source" ("trace", or "proc" for a model procmap.c built: no history,
 *   no backtraces), "time_ns", "running", "segments": [ { "kind", "shmid", "key", "name",
 *   "size", "state", "attachments": [ { "pid", "addr", "length",
 *   "readonly" } ] } ], "processes": [ { "pid", "ppid", "exe", "alive" } ] } */
void map_json(FILE *out, const struct model *m);


/* --- audit (audit-text.c, audit-json.c) --- */

/* The renderers: the whole audit to `out`. */
void audit_text(FILE *out, const struct audit *a);
void audit_json(FILE *out, const struct audit *a);

/* --- metrics (metrics-prom.c) --- */

/* The metrics as the Prometheus text format (0.0.4): every family a
 * gauge with HELP and TYPE, for node_exporter's textfile collector. */
void metrics_prom(FILE *out, const struct metrics *mt);

/* --- export (export-chrome.c) --- */

struct filter;

/* The model as one Chrome trace-event JSON document: a track per segment
 * for its lifetime, per process its lifetime and its attach intervals per
 * segment, failed calls as instant events (those filter `f` shows; NULL:
 * all). */
void export_chrome(FILE *out, const struct model *m, const struct filter *f);

#endif /* SHMVIEW_RENDER_H */
