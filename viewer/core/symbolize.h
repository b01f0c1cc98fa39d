/*
 * symbolize.h - offline symbolization of recorded return addresses.
 *
 * The trace holds raw frames and, as SHMT_CALL_MODULE events, each
 * process's modules (path, load bias, address range, build-id).  A
 * symbol table is built in two passes over the trace:
 *
 *   1. sym_learn() on every event, in slot order: it tracks which process
 *      image (a pid between two execs) recorded what, which modules each
 *      image has, and which image a forked child inherited its modules
 *      from.  A process's first events may precede its module events,
 *      which is why this is a pass of its own.
 *   2. sym_resolve() for each frame: module, function+offset from the
 *      ELF symbol table, file:line from DWARF (elfutils libdwfl).
 *
 * A file on disk is only trusted when its build-id matches the recorded
 * one.  Results are cached per ELF file and per address.
 */
#ifndef SHMVIEW_SYMBOLIZE_H
#define SHMVIEW_SYMBOLIZE_H

#include <stdint.h>

#include "trace.h"

struct sym_table;

/* One resolved frame.  The strings belong to the sym_table and stay valid
 * until sym_free(). */
struct sym_frame {
	uint64_t ip;           /* the recorded return address */
	const char *module;    /* path of the module holding ip, or NULL */
	const char *symbol;    /* function name, or NULL when unknown */
	uint64_t offset;       /* ip - function start; meaningful with symbol */
	const char *file;      /* source file (as DWARF names it), or NULL */
	int line;              /* source line, 0 when unknown */
	uint64_t module_offset;/* ip - the module's load bias, with module:
	                          what eu-addr2line -e MODULE takes */
	const char *build_id;  /* the module's recorded build-id in hex, or
	                          NULL: for debuginfod when it is stripped */
};

/*
 * Create an empty table.  Never fails (allocation failure exits).  As a
 * side effect, unsets DEBUGINFOD_URLS unless SHMTRACE_DEBUGINFOD is set:
 * an offline viewer must not stall on the network behind the user's back.
 */
struct sym_table *sym_new(void);

/* Free the table, its caches and every ELF file it opened.  NULL is ok. */
void sym_free(struct sym_table *st);

/*
 * Pass 1: account for event `ev` (module, fork, vfork, posix_spawn, exec
 * and exit events change the model; every event marks its process as
 * seen).  Call it on the events of a whole pass in slot order.
 */
void sym_learn(struct sym_table *st, const struct trace_event *ev);

/*
 * Pass 1 in one call: a new table that has learned every event of `t`
 * (the caller frees it with sym_free()).
 */
struct sym_table *sym_learn_trace(const struct trace *t);

/*
 * Pass 2: resolve `ip`, recorded by process `pid` in event `seq`, into
 * *out.  Unknown parts are NULL / 0; never fails.  A build-id mismatch is
 * reported once per file with warning().
 */
void sym_resolve(struct sym_table *st, int32_t pid, uint64_t seq,
		 uint64_t ip, struct sym_frame *out);

#endif /* SHMVIEW_SYMBOLIZE_H */
