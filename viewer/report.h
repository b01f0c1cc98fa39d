/*
 * report.h - what `shmview report` hands its renderers, and the few
 * phrases `shmview clean` shares with them.
 *
 * cmd-report.c reads the trace, builds and reconciles the model and
 * symbolizes the stacks worth showing (who created, who removed each
 * segment); the renderers (report-text.c: the audit and the exit summary,
 * report-json.c) only render a struct report.
 */
#ifndef SHMVIEW_REPORT_H
#define SHMVIEW_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "symbolize.h"
#include "trace.h"

/* A symbolized backtrace of one event.  `frames` is owned by the report. */
struct report_stack {
	bool known;               /* the event was found again in the trace */
	unsigned nframes;
	bool truncated;           /* deeper frames were not recorded */
	struct sym_frame *frames;
};

/* Per segment (same index as model.segments): its two stacks. */
struct report_seg {
	struct report_stack created;   /* seg->creator's event */
	struct report_stack removed;   /* seg->remover's event */
};

/* Counts over the reconciled segments. */
struct report_totals {
	uint64_t segments, by_state[SEG_STATE_COUNT];
	uint64_t created;              /* created by the trace ... */
	uint64_t created_removed;      /* ... and removed since */
	uint64_t leaked;               /* ... and leaked (report_is_leak) */
};

struct report {
	const char *path;              /* the trace file, as given */
	const struct trace *trace;
	const struct model *model;     /* built and reconciled */
	struct report_seg *segs;       /* model->nsegments entries */
	struct report_totals totals;
	struct trace_counters counters;
	int32_t main_pid;              /* the traced program, 0 if unknown */
};

/* Whether `s` is a leak this trace is answerable for: it created it and
 * it outlived every traced process. */
bool report_is_leak(const struct segment *s);

/*
 * Symbolizing the stacks worth showing (report-stack.c), for `report` and
 * `audit --trace`: with a table from sym_learn_trace(t),
 * report_resolve_stack() fills *out with the symbolized backtrace of the
 * event `ref` of model m (built from t); out->known is false when there
 * is no such event.  The caller frees out->frames.
 */
void report_resolve_stack(const struct model *m, struct sym_table *st,
			  const struct model_ref *ref, struct report_stack *out);

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

#endif /* SHMVIEW_REPORT_H */
