/*
 * render.h - the renderers of shmview, one file per command and format
 * (dump-text.c, dump-json.c, report-text.c, report-json.c, map-text.c,
 * audit-text.c, audit-json.c, export-chrome.c).
 *
 * A renderer only renders: the command (cmd-*.c) reads, filters, builds
 * the model with the core (core/), then hands the result to the renderer
 * of the chosen format, which writes it to the FILE it is given.  dump
 * renders event by event through ops (uftrace style: a new format is one
 * file with one `struct dump_ops`).
 */
#ifndef SHMVIEW_RENDER_H
#define SHMVIEW_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "audit.h"
#include "json.h"
#include "model.h"
#include "report.h"
#include "symbolize.h"
#include "trace.h"

struct dump_options {
	bool json;      /* --json: one JSON object per line */
	bool stack;     /* --stack: frames under each text line */
	bool modules;   /* --modules: show module events too */
	bool timing;    /* -T: append the call's duration */
};

struct dump_ctx {
	FILE *out;
	const struct trace *trace;
	const struct dump_options *opts;
	struct json_writer json;   /* the JSON renderer's state */
};

struct dump_ops {
	/* Called once before the first event and once after the last. */
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

/*
 * Write `n` bytes of `s` as a double-quoted C string: \n \t \r \\ \" and
 * \xNN for every other byte outside printable ASCII, so no control byte
 * from a traced program reaches the terminal.
 */
void render_text_cstring(FILE *out, const char *s, size_t n);

/*
 * Write one stack frame as dump's JSON does:
 *   {"ip":"0x..","module":..,"symbol":..,"offset":..,"file":..,"line":..}
 * with null members where `f` (NULL: nothing resolved) knows nothing.
 * Shared by every JSON output so frames read the same everywhere.
 */
void render_json_frame(struct json_writer *w, uint64_t ip,
		       const struct sym_frame *f);

/* --- report (report-text.c, report-json.c) --- */

/* A stack as the text report shows it: one frame a line,
 * "<indent>#0 0x... function+0x24 (/path/module) file.c:76". */
void report_put_stack(FILE *out, const char *indent,
		      const struct report_stack *st);

/* The renderers.  Each writes the whole report to `out`. */
void report_text(FILE *out, const struct report *r);
void report_summary(FILE *out, const struct report *r);
void report_json(FILE *out, const struct report *r);

/*
 * Phrases shared with `shmview clean`, escaped for a terminal:
 *   report_put_identity:  sysv shmid 42 key 0x53001234 / posix "/name" /
 *                         memfd:"name" / anon 4096 bytes / file inode 12
 *   report_put_remove_cmd: ipcrm -m 42 / rm /dev/shm/NAME (shell-quoted
 *                         when the name needs it); nothing for the kinds
 *                         that cannot outlive their processes.
 * report_put_remove_cmd returns false when it wrote nothing.
 */
void report_put_identity(FILE *out, const struct segment *s);
/* The same phrase in buf (cut to size), for track names and curses. */
char *report_identity(const struct segment *s, char *buf, size_t size);
bool report_put_remove_cmd(FILE *out, const struct segment *s);

/* A segment's identity and state as JSON members of the object being
 * written: kind, shmid, key, name, inode, size, state (null where they do
 * not apply).  Shared by every JSON output that lists segments. */
struct json_writer;
void report_json_identity(struct json_writer *w, const struct segment *s);

/* Where an attachment is, as JSON members: pid, addr, length, readonly.
 * The map's attachments are these; the report's add their lifetime. */
void report_json_attachment_where(struct json_writer *w,
				  const struct attachment *a);

/* Write a string from a traced program or an ELF file, unquoted, with
 * every byte outside printable ASCII as \xNN (and \\ for a backslash). */
void report_put_safe(FILE *out, const char *s);

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

/* --- export (export-chrome.c) --- */

/* The model as one Chrome trace-event JSON document: a track per segment
 * for its lifetime, per process its lifetime and its attach intervals per
 * segment, failed calls as instant events. */
void export_chrome(FILE *out, const struct model *m);

#endif /* SHMVIEW_RENDER_H */
