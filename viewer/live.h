/*
 * live.h - `shmview live`: the attach map as a terminal UI, refreshed from
 * the trace while the traced run goes on.
 *
 *   cmd-live.c     options, finding the trace, the refresh loop: reads the
 *                  trace when it changed, builds and reconciles the model,
 *                  answers the UI's requests
 *   live-list.c    what the map lists: rows, columns, the process tree,
 *                  filtered and sorted; search
 *   live-detail.c  the text of the detail views (one segment, one
 *                  process), written while the trace is open
 *   live-ui.c      ncurses: draws a struct live_view and turns keys into
 *                  changes of its UI state plus a request; it never reads
 *                  the trace
 *
 * Every string in a live_view that came from a traced program is already
 * escaped, and the UI replaces any control byte it still meets.
 */
#ifndef SHMVIEW_LIVE_H
#define SHMVIEW_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capacity.h"
#include "model.h"
#include "trace.h"

#define LIVE_INPUT_MAX 64          /* filter and search text, NUL included */

enum live_mode {
	LIVE_MAP,        /* segments as rows, processes as columns */
	LIVE_PROCS,      /* the process tree */
	LIVE_SEGMENT,    /* one segment: stacks, attachments, events */
	LIVE_PROCESS,    /* one process: attachments, calls */
	LIVE_HELP,
};

enum live_sort {
	LIVE_SORT_ORDER,   /* as the trace made them */
	LIVE_SORT_SIZE,    /* largest first */
	LIVE_SORT_STATE,   /* leaked, pending, live, removed */
	LIVE_SORT_KIND,    /* sysv, posix, anon, devzero, memfd, file */
	LIVE_SORT_ATTACH,  /* most attached first */
	LIVE_SORT_COUNT
};

/* What a key asks of the reader, beyond the UI state it changed. */
enum live_request {
	LIVE_REQ_NONE,      /* nothing: draw again */
	LIVE_REQ_QUIT,
	LIVE_REQ_RELIST,    /* sort, filter or a toggle changed */
	LIVE_REQ_DETAIL,    /* open the detail of ui.seg_key / ui.pid */
	LIVE_REQ_SEARCH,    /* move to the next (ui.search_dir) match */
	LIVE_REQ_RELOAD,    /* read the trace again now */
	LIVE_REQ_TIME,      /* step through time: ui.time_dir (-1 [, +1 ])
	                       to the previous or next event */
};

/* How a line of a detail view is drawn. */
enum live_style {
	LIVE_STYLE_TEXT, LIVE_STYLE_HEADING, LIVE_STYLE_DIM, LIVE_STYLE_FRAME,
	LIVE_STYLE_LIVE, LIVE_STYLE_PENDING, LIVE_STYLE_REMOVED,
	LIVE_STYLE_LEAKED, LIVE_STYLE_ERROR,
};

struct live_line {
	char *text;                /* owned, printable ASCII */
	unsigned char style;       /* enum live_style */
};

/* The lines of a detail view. */
struct live_text {
	struct live_line *lines;
	size_t n, cap;
};

/* A row of the process tree. */
struct live_proc_row {
	const struct process *p;
	unsigned depth;            /* 0 for a process without a known parent */
};

/* The UI's own state: selections, scroll positions, sort and filter.
 * Indexes refer to the lists of the live_view; the reader keeps the
 * selections on the same segment and process when it rebuilds them. */
struct live_ui_state {
	enum live_mode mode;
	enum live_mode back;        /* where Esc goes from a detail */
	enum live_sort sort;
	bool show_removed;          /* list removed segments too */
	bool hide_ended;            /* no columns for ended processes */
	char filter[LIVE_INPUT_MAX];
	char search[LIVE_INPUT_MAX];
	int search_dir;             /* +1 (n) or -1 (N) */
	size_t row, top;            /* map: selected row, first row shown */
	size_t col, left;           /* map: selected column, first shown */
	size_t proc, ptop;          /* process tree: selected, first shown */
	size_t line, hscroll;       /* detail: first line, columns scrolled */
	size_t body;                /* rows the last draw had for a list */
	size_t cells;               /* map columns it showed whole */
	uint64_t seg_key;           /* the detailed segment: live_seg_key() */
	int32_t pid;                /* the detailed process */
	int time_dir;               /* LIVE_REQ_TIME: -1 or +1 */
};

/* Everything one frame shows. */
struct live_view {
	const char *path;           /* the trace, as given */
	const struct model *model;  /* NULL until a read succeeded */
	struct trace_counters counters;
	bool final;                 /* the complete trace was written */
	bool at_set;                /* the map as it stood at at_ns ([ ]), */
	uint64_t at_ns;             /* not now: as `map --at` */
	bool running;               /* a traced process still runs */
	uint64_t elapsed_ns;        /* of the run, up to now or its end */
	size_t by_state[SEG_STATE_COUNT];
	size_t alive;               /* processes not ended */
	struct tmpfs_fs shm;        /* /dev/shm now, when shm_known */
	bool shm_known;

	const struct segment **rows;    /* the map's rows: filtered, sorted */
	size_t nrows, rows_cap;
	size_t id_len;                  /* their widest words_short_identity() */
	const struct process **cols;    /* the map's columns */
	size_t ncols, cols_cap;
	struct live_proc_row *procs;    /* the process tree, filtered */
	size_t nprocs, procs_cap;
	struct live_text detail;        /* the open detail view */

	char status[256];           /* an error or a note; "" for none */
	bool status_error;
	bool timing;                /* --timing: show the costs below */
	double read_ms, draw_ms;

	struct live_ui_state ui;
};

/* --- live-list.c: what the map lists ---------------------------------- */

/* What the selections point at, to find again in rebuilt lists. */
struct live_keys {
	bool row_set, col_set, proc_set;
	uint64_t row;                 /* live_seg_key() of the segment */
	int32_t col, proc;            /* pids */
	size_t row_off, proc_off;     /* distance from the top of the screen */
};

/* Note what v's selections point at (before its model goes away). */
void live_remember(const struct live_view *v, struct live_keys *k);

/* What finds a segment again in a rebuilt model: its creating event in a
 * trace; from /proc (no events), its kind and shmid or inode. */
uint64_t live_seg_key(const struct segment *s);

/*
 * Rebuild v's rows (segments the map shows, or every one with
 * ui.show_removed; filtered by ui.filter, sorted by ui.sort), columns
 * (processes; those the filter names, if it names any) and process tree
 * from model m, then select again what `k` remembered.
 */
void live_list(struct live_view *v, const struct model *m,
	       const struct live_keys *k);

/* Free the lists. */
void live_list_free(struct live_view *v);

/* Move the selection of the current list (or a detail's first line) to
 * the next match of ui.search in direction ui.search_dir, wrapping
 * around; says in v->status when there is none. */
void live_search(struct live_view *v);

/* The last component of a process's executable, escaped, into buf (a
 * row's identity and any other escaped name: words.h). */
void live_command(const struct process *p, char *buf, size_t size);

/* --- live-detail.c -------------------------------------------------------- */

/*
 * Write the detail of the segment whose creator event is `seg_key`
 * (its identity, creation and removal with symbolized backtraces, its
 * attachments, the events that concern it), or of process `pid` (its
 * image, attachments and calls), into *out (emptied first).  `m` must be
 * built from `t`, which must be open.  Never fails: a subject that is not
 * in the model gets a line saying so.
 */
void live_detail_segment(struct live_text *out, const struct model *m,
			 const struct trace *t, uint64_t seg_key);
void live_detail_process(struct live_text *out, const struct model *m,
			 const struct trace *t, int32_t pid);

/* Empty *x, keeping its storage. / Free everything *x owns. */
void live_text_clear(struct live_text *x);
void live_text_free(struct live_text *x);

/* Append one line (copied; control bytes replaced). */
void live_text_add(struct live_text *x, enum live_style style,
		   const char *text);

/* --- live-ui.c ---------------------------------------------------------------- */

/* Whether to draw in color (--color, NO_COLOR); call before the start.
 * Without color, states still differ by bold, dim and reverse. */
void live_ui_set_color(bool color);

/* Take over the terminal.  Returns 0, or -1 after printing why. */
int live_ui_start(void);

/* Give the terminal back.  Safe to call twice, or without a start. */
void live_ui_stop(void);

/* Draw one frame of `v` (fixing scroll positions to fit the screen). */
void live_ui_draw(struct live_view *v);

/*
 * Wait at most `timeout_ms` for a key (-1: forever) and apply it to
 * v->ui.  Returns what the reader must do; LIVE_REQ_NONE also after a
 * timeout or a resize.
 */
enum live_request live_ui_key(struct live_view *v, int timeout_ms);

/* A trace file offered by the picker. */
struct live_pick {
	char *path;                 /* owned */
	int64_t mtime;              /* seconds since the epoch */
	uint64_t size;
	bool final;                 /* its run has ended */
};

/* Let the user pick one of `n` traces (newest first).  Returns its index,
 * or -1 when the user quit. */
int live_ui_pick(const struct live_pick *files, size_t n);

#endif /* SHMVIEW_LIVE_H */
