/*
 * trace.h - the reader core: open, validate and iterate a trace file.
 *
 * A trace file is untrusted input.  trace_open() validates the header and
 * the layout once against the real file size; the iterator validates every
 * event before handing it out, so the code above this layer may index
 * args[], frames[] and the string without further bounds checks.
 *
 * The file may still be written while it is read (a live run): the mapping
 * is MAP_SHARED, `head` is snapshot once per pass, and each slot's commit
 * word is load-acquired before its contents are read.
 */
#ifndef SHMVIEW_TRACE_H
#define SHMVIEW_TRACE_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shmtrace-format.h"

/*
 * An open trace.  The layout fields are copies validated by trace_open();
 * they are never re-read from the file, so a writer changing the header
 * later cannot move a bound under the reader.
 */
struct trace {
	char *path;                     /* owned copy, for messages */
	const unsigned char *base;      /* read-only mapping of the file */
	size_t size;                    /* bytes readable: the file's size
	                                   at open (or at trace_refresh) */
	size_t map_len;                 /* bytes mapped: more for a compact
	                                   file still being written */
	uint64_t dev, ino;              /* the file, for trace_refresh */
	const struct shmt_header *hdr;  /* live view, for the counters only */

	uint32_t version;
	uint32_t slot_size;
	uint32_t max_depth;
	uint32_t flags;                 /* SHMT_HF_* as read at open */
	uint64_t slot_offset;
	uint64_t capacity;              /* slots */
	uint64_t arena_offset;
	uint64_t arena_size;
	uint64_t start_ns;              /* CLOCK_MONOTONIC origin of time_ns */
	uint64_t start_realtime_ns;
	uint64_t end_ns;
	uint64_t creator_pid;
	uint64_t owner_uid;
	uint64_t token;
	uint64_t depth;
	int64_t exit_status;
	uint64_t cal_tsc0, cal_ns0;     /* SHMT_HF_TSC: event times are ticks, */
	uint64_t cal_tsc1, cal_ns1;     /* converted to ns when read */
	struct trace_records *rec;      /* a compact file (version 2): its
	                                   records' index; NULL for slots */
};

/* What a compact file says it lost (its LOSS records, records.h). */
struct trace_loss {
	unsigned cause;                 /* enum records_loss */
	uint64_t count;
	int32_t pid;                    /* 0: unknown */
	uint64_t from_ns, to_ns;        /* since the trace's start */
};

/* Producer counters from the header, read at one moment. */
struct trace_counters {
	uint64_t dropped;          /* events lost: no free slot */
	uint64_t strings_dropped;  /* strings cut or lost: arena full */
	uint64_t nested;           /* events recorded without a stack */
	uint64_t passthrough;      /* private mappings passed through */
	uint64_t stack_errors;     /* backtraces that failed */
	uint64_t nest_lost;        /* hooks left by siglongjmp, reset */
	uint64_t disabled;         /* processes that turned tracing off */
	uint64_t stacks_no_room;   /* backtraces left out: small stack */
	uint64_t untraced;         /* processes the region was out of reach of */
	uint64_t head;             /* slots reserved, may exceed capacity */
	uint64_t capacity_lost;    /* the launcher's capacity records lost */
	bool damaged;              /* SHMT_HF_DAMAGED: the program wrote over
	                              the live region's header */
};

/*
 * One validated event.  `str` and `frames` point into the mapping or into
 * the iterator; both stay valid until the next trace_iter_next() call on
 * the same iterator (frames) or until trace_close() (str).
 */
struct trace_event {
	uint64_t seq;          /* slot index; in a compact file, the event's
	                          position among its events */
	uint64_t time_ns;      /* CLOCK_MONOTONIC, as recorded */
	uint64_t duration_ns;
	int64_t ret;
	int32_t pid;
	int32_t tid;
	uint16_t call;         /* < SHMT_CALL_COUNT, never SHMT_CALL_NONE */
	uint16_t nframes;      /* <= the trace's max_depth */
	uint16_t flags;        /* SHMT_EVF_* */
	uint16_t err;          /* errno, 0 on success */
	uint32_t obj;          /* < SHMT_OBJ_COUNT */
	uint64_t args[SHMT_ARG_COUNT];
	const char *str;       /* str_len bytes, not NUL-terminated, may hold
	                          NULs (exec: path\0argv...) */
	uint32_t str_len;
	const uint64_t *frames;
};

/*
 * An iteration pass over the slots [next, end).  `end` is the snapshot of
 * min(head, capacity) taken when the pass started.  The counts cover the
 * slots this pass has visited.
 */
struct trace_iter {
	const struct trace *trace;
	uint64_t next;
	uint64_t end;
	uint64_t arena_used;   /* snapshot of min(arena_head, arena_size),
	                          refreshed when a string lies beyond it */
	uint64_t abandoned;    /* slots whose commit word is not index + 1 */
	uint64_t corrupt;      /* committed slots that failed validation */
	uint64_t rec_n, rec_off;  /* a compact file: where event rec_n's
	                             record starts (0: not known) */
	uint64_t released;     /* the mapping given back up to here */
	struct trace_event ev;
	uint64_t frames[SHMT_MAX_DEPTH];
};

/*
 * Open and validate the trace file at `path` into `*t`.  Returns 0, or
 * prints one "shmview: cannot read 'PATH': why" line and returns -1 (then
 * `*t` holds nothing to close).  The caller releases a success with
 * trace_close().
 */
int trace_open(const char *path, struct trace *t);

/*
 * For a compact file still being written (a live run): reads what the
 * file grew by since trace_open() or the last call, and indexes its whole
 * records (the torn one at its end waits for the next call).  Pointers
 * into the trace stay valid; iterators started before see only the
 * events they saw.  Takes the header's end (SHMT_HF_FINAL, end_ns,
 * exit_status) once the run is over.  Returns the number of new events,
 * 0 for a slot file (its iterator reads the live head), or -1 when the
 * file was replaced, cut shorter or outgrew the mapping: then
 * trace_close() and trace_open() it again.
 */
long trace_refresh(struct trace *t);

/*
 * As trace_open(), for a reader that goes through the events in order
 * (dump): a finished compact file's index then keeps one offset per 4096
 * events instead of 4 bytes an event, so its memory does not grow with
 * the trace; a pass started at a seq walks from its block's start.
 */
int trace_open_sequential(const char *path, struct trace *t);

/* The LOSS records of a compact file, in file order (none for slots). */
const struct trace_loss *trace_losses(const struct trace *t, size_t *n);

/* Unmap and free what trace_open() acquired.  Safe on a zeroed trace. */
void trace_close(struct trace *t);

/*
 * The SIGBUS guard.  A trace file cut shorter while it is mapped (at the
 * end of a live run the launcher may rewrite it in place, smaller) turns
 * the next read of a lost page into SIGBUS.  The reader installs no
 * handler; it offers what the program's handler needs (lttng-ust's split):
 * trace_holds_address() says whether a fault lies in a trace open now, and
 * trace_section_escape() jumps back out of the read section the fault
 * interrupted, if any.  The program installs its handler once, before it
 * opens a trace (shmview: sigbus_install() in viewer/sigbus.h).
 *
 * At most TRACE_OPEN_MAX traces are open at once (trace_open refuses
 * more): the handler reads their ranges from a fixed table, without a lock
 * and without allocating.
 */
#define TRACE_OPEN_MAX 16

/* Does `addr` lie inside the mapping of a trace open now?
 * Async-signal-safe. */
bool trace_holds_address(const void *addr);

/*
 * A read section: code that touches trace mappings and can give up
 * halfway (live's refresh, which reads again later).  Use:
 *
 *	struct trace_section s;
 *	if (sigsetjmp(s.env, 1)) {
 *		// cut under the read: the section is left already;
 *		// close the trace, forget what the read half built
 *	}
 *	trace_section_enter(&s);
 *	... read ...
 *	trace_section_leave(&s);
 *
 * Sections nest (the innermost one is escaped) and are per thread.
 */
struct trace_section {
	sigjmp_buf env;
	struct trace_section *outer;
};

void trace_section_enter(struct trace_section *s);
void trace_section_leave(struct trace_section *s);

/* For the program's SIGBUS handler, once trace_holds_address() said yes:
 * leaves this thread's innermost read section and siglongjmp()s to it.
 * Returns only when no section is open (the fault cannot be survived). */
void trace_section_escape(void);

/* Read the header counters now (atomically, field by field). */
void trace_counters(const struct trace *t, struct trace_counters *c);

/*
 * Start a pass at slot `first` (0 for the whole trace), snapshotting the
 * head now: slots reserved later are not visited by this pass.
 */
void trace_iter_init(struct trace_iter *it, const struct trace *t);
void trace_iter_init_at(struct trace_iter *it, const struct trace *t,
			uint64_t first);

/*
 * Return the next committed, valid event of the pass, or NULL at the end.
 * Abandoned and corrupt slots are skipped and counted in *it.  The event
 * is owned by the iterator and overwritten by the next call.
 */
const struct trace_event *trace_iter_next(struct trace_iter *it);

/* Give back the resident pages of the mapping (they stay in the page
 * cache; pointers into the trace stay valid).  For passes that read in
 * another order than slot order. */
void trace_release_pages(const struct trace *t);

/* Nanoseconds between the trace's start and the event (may be < 0 for a
 * clock that went odd; never undefined behaviour). */
int64_t trace_event_reltime(const struct trace *t,
			    const struct trace_event *ev);

#endif /* SHMVIEW_TRACE_H */
