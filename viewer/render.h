/*
 * render.h - output backends of `shmview dump`.
 *
 * A renderer only renders: cmd-dump.c reads, filters and symbolizes, then
 * hands each event to the ops of the chosen format (uftrace style: a new
 * format is one file with one `struct dump_ops`).
 */
#ifndef SHMVIEW_RENDER_H
#define SHMVIEW_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "json.h"
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

#endif /* SHMVIEW_RENDER_H */
