/*
 * json-model.h - the model's things as JSON members, written the same by
 * every JSON output: a segment's identity (report, map), a process's
 * (report, map), where an attachment is (report, map), a stack frame and a stack (dump, report,
 * audit).  So a segment or a frame has one shape whatever command wrote
 * it.  They write into the object or array the caller has open; json.c
 * stays a writer that knows nothing of the model.
 */
#ifndef SHMVIEW_JSON_MODEL_H
#define SHMVIEW_JSON_MODEL_H

#include <stdint.h>

#include "json.h"
#include "model.h"
#include "report.h"
#include "symbolize.h"

/* A segment's identity and state as members: kind, shmid, key, name,
 * inode, dev, size, state (null where they do not apply). */
void json_model_identity(struct json_writer *w, const struct segment *s);

/* A process's identity as members: pid, ppid, exe (null when unknown).
 * The map's processes add whether they are alive; the report's their
 * argv and how they ended. */
void json_model_process(struct json_writer *w, const struct process *p);

/* Where an attachment is, as members: pid, addr, length, readonly,
 * received_from (the pid that passed its descriptor over a socket, 0 when
 * not known, null when none did) and proc_only (seen in /proc only).  The
 * map's attachments are these; the report's add their lifetime. */
void json_model_attachment_where(struct json_writer *w,
				 const struct attachment *a);

/*
 * One stack frame as an array element:
 *   {"ip":"0x..","module":..,"symbol":..,"offset":..,"file":..,"line":..}
 * with null members where `f` (NULL: nothing resolved) knows nothing.
 */
void json_model_frame(struct json_writer *w, uint64_t ip,
		      const struct sym_frame *f);

/* The member "stack": the frames of st, as json_model_frame() writes
 * them. */
void json_model_stack(struct json_writer *w, const struct report_stack *st);

/* The member "start_epoch_ns": when trace t started, in nanoseconds since
 * the Unix epoch (the one absolute time of a trace's documents; every
 * other time is "*_ns" since then), null without a trace. */
void json_model_trace_start(struct json_writer *w, const struct trace *t);

struct call_profile;

/* A call profile (profile.h) as the members "calls": [{call, calls,
 * errors, total_ns, avg_ns, max_ns, share (percent of the total time)}]
 * and "total": {the same, call "total"}: dump -c --json and report. */
void json_model_profile(struct json_writer *w, const struct call_profile *p);

#endif /* SHMVIEW_JSON_MODEL_H */
