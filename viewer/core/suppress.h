/*
 * suppress.h - leak suppressions: segments a program leaves on purpose,
 * so CI fails only on new leaks (valgrind's idea, in its file shape).
 *
 * A suppressions file holds blocks; '#' starts a comment line:
 *
 *   {
 *      nginx-zone-keeps-its-cache        the name (any words), first
 *      kind:sysv                         sysv posix memfd anon devzero
 *                                        file sem, or a glob
 *      key:0x5300*                       SysV key as 0x%x, a glob
 *      name:/demo-*                      POSIX / memfd name, a glob
 *      fun:main                          the creation stack, from its
 *      src:sysv-server.c:*               innermost frame: fun: (function)
 *      obj:*\/sysv-server                src: (file:line) obj: (module),
 *      ...                               "..." any number of frames
 *   }
 *
 * Every line given must match (a block with only a name matches every
 * leak).  The frame lines are a sequence matched against the creation
 * stack from frame #0, one frame each, "..." standing for any frames;
 * the stack may go on after the last line.  Globs are fnmatch(3)'s
 * ('*', '?', '[...]'), '/' included.  `shmview report --gen-suppressions`
 * writes one block per leak, ready to paste.
 */
#ifndef SHMVIEW_SUPPRESS_H
#define SHMVIEW_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "model.h"
#include "report.h"

enum supp_frame_kind { SUPP_FUN, SUPP_SRC, SUPP_OBJ, SUPP_ANY };

struct supp_frame {
	enum supp_frame_kind kind;
	char *glob;                  /* NULL for SUPP_ANY */
};

struct suppression {
	char *name;
	char *kind, *key, *seg_name;     /* globs, NULL when not given */
	struct supp_frame *frames;
	size_t nframes;
	unsigned long used;              /* leaks it suppressed */
};

struct suppressions {
	struct suppression *v;
	size_t n, cap;
};

/*
 * Read the suppressions file at `path` into *s (adding to what it holds).
 * Returns 0, or prints one line, "shmview: PATH:LINE: what is wrong", and
 * returns -1.
 */
int suppress_load(struct suppressions *s, const char *path);

/* Parse the text of a suppressions file (for suppress_load and the unit
 * test); `path` names it in messages. */
int suppress_parse(struct suppressions *s, const char *text,
		   const char *path);

/*
 * The suppression that matches leaked segment `seg` created with the
 * symbolized stack `created` (known false: no stack), or NULL.  Counts
 * the use.
 */
struct suppression *suppress_match(struct suppressions *s,
				   const struct segment *seg,
				   const struct report_stack *created);

/* Write the block that suppresses `seg` (created with `created`): its
 * kind, key or name, and a fun: line per frame ("obj:" where the function
 * is unknown). `name` names the block. */
void suppress_write(FILE *out, const char *name, const struct segment *seg,
		    const struct report_stack *created);

void suppress_free(struct suppressions *s);

#endif /* SHMVIEW_SUPPRESS_H */
