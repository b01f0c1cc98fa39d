/*
 * live-ui.c - the terminal side of `shmview live` (see live.h): ncurses
 * drawing of a struct live_view, and the keys.
 *
 *  shmview live  n.trace  running 2.0s   segments 1 live, 1 pending, ...
 *  STATE   KIND    IDENTITY             SIZE  ATT |12163              |...
 *  sorted by order                                |nginx-zone         |...
 *  live    anon    from pid 12164       1.0M    3 |                   |...
 *  pending sysv    shmid 9567 IPC_PRIVATE 1.0M  4 |0x7fa507212000 rw  |...
 *  q quit  ? help  Enter details  p process  ...        row 1/2 col 1/8
 *
 * Only the rows and columns on screen are drawn, so a frame costs the
 * same with ten segments or ten thousand.  Every write goes through put(),
 * which clips to the screen and replaces any control byte: a narrow or
 * resized terminal cuts cells, it never breaks a line.
 */
#include <curses.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live.h"
#include "util.h"
#include "words.h"

#define CELL_W 20            /* a process column, its separator included */
#define MIN_ID_W 10
#define MAX_ID_W 48

enum { PAIR_LIVE = 1, PAIR_PENDING, PAIR_LEAKED, PAIR_REMOVED, PAIR_HEADER,
       PAIR_ERROR, PAIR_FRAME, PAIR_RUNNING };

static SCREEN *screen;

/* The line being typed after f or /. */
static struct {
	enum { PROMPT_NONE, PROMPT_FILTER, PROMPT_SEARCH } kind;
	char buf[LIVE_INPUT_MAX];
	size_t len;
} prompt;

/* --- the terminal ------------------------------------------------------------ */

static bool want_color = true;

void live_ui_set_color(bool color)
{
	want_color = color;
}

static bool colored(void)
{
	return want_color && has_colors();
}

static void init_colors(void)
{
	if (!colored())
		return;
	start_color();
	use_default_colors();
	init_pair(PAIR_LIVE, COLOR_GREEN, -1);
	init_pair(PAIR_PENDING, COLOR_YELLOW, -1);
	init_pair(PAIR_LEAKED, COLOR_RED, -1);
	init_pair(PAIR_REMOVED, COLOR_BLUE, -1);
	init_pair(PAIR_HEADER, COLOR_BLACK, COLOR_CYAN);
	init_pair(PAIR_ERROR, COLOR_WHITE, COLOR_RED);
	init_pair(PAIR_FRAME, COLOR_CYAN, -1);
	init_pair(PAIR_RUNNING, COLOR_BLACK, COLOR_GREEN);
}

int live_ui_start(void)
{
	const char *term = getenv("TERM");

	if (screen)
		return 0;
	screen = newterm(NULL, stdout, stdin);
	if (!screen)
		return error("live: cannot drive this terminal (TERM=%s)",
			     term ? term : "unset");
	set_term(screen);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	intrflush(stdscr, FALSE);
	set_escdelay(25);
	curs_set(0);
	init_colors();
	return 0;
}

void live_ui_stop(void)
{
	if (!screen)
		return;
	endwin();
	delscreen(screen);
	screen = NULL;
}

/* --- drawing primitives ---------------------------------------------------------- */

/* A color pair, or without color what stands out the same way: the
 * header, the running badge and errors in reverse video. */
static chtype pair(int p)
{
	if (colored())
		return COLOR_PAIR(p);
	return p == PAIR_HEADER || p == PAIR_RUNNING || p == PAIR_ERROR ?
		A_REVERSE : 0;
}

static chtype style_attr(enum live_style s)
{
	switch (s) {
	case LIVE_STYLE_HEADING: return A_BOLD;
	case LIVE_STYLE_DIM: return A_DIM;
	case LIVE_STYLE_FRAME: return pair(PAIR_FRAME);
	case LIVE_STYLE_LIVE: return pair(PAIR_LIVE);
	case LIVE_STYLE_PENDING: return pair(PAIR_PENDING) | A_BOLD;
	case LIVE_STYLE_REMOVED: return pair(PAIR_REMOVED) | A_DIM;
	case LIVE_STYLE_LEAKED: return pair(PAIR_LEAKED) | A_BOLD;
	case LIVE_STYLE_ERROR: return pair(PAIR_ERROR) | A_BOLD;
	default: return A_NORMAL;
	}
}

static chtype state_attr(enum seg_state s)
{
	static const enum live_style styles[SEG_STATE_COUNT] = {
		[SEG_LIVE] = LIVE_STYLE_LIVE, [SEG_PENDING] = LIVE_STYLE_PENDING,
		[SEG_REMOVED] = LIVE_STYLE_REMOVED, [SEG_LEAKED] = LIVE_STYLE_LEAKED,
		[SEG_ENDED] = LIVE_STYLE_REMOVED };
	return style_attr(s < SEG_STATE_COUNT ? styles[s] : LIVE_STYLE_TEXT);
}

/*
 * Write at most `w` columns of s at (y, x), clipped to the screen, with
 * attribute a; control bytes become '?'.  Returns the columns written.
 */
static int put(int y, int x, int w, const char *s, chtype a)
{
	char buf[1024];
	int n = 0;

	if (y < 0 || y >= LINES || x < 0 || x >= COLS)
		return 0;
	if (w > COLS - x)
		w = COLS - x;
	for (; s[n] && n < w && n < (int)sizeof(buf) - 1; n++)
		buf[n] = (unsigned char)s[n] < 0x20 || (unsigned char)s[n] >= 0x7f ?
			'?' : s[n];
	buf[n] = '\0';
	attrset(a);
	mvaddnstr(y, x, buf, n);
	attrset(A_NORMAL);
	return n;
}

/* Paint w columns of (y, x) blank with attribute a. */
static void fill(int y, int x, int w, chtype a)
{
	if (y < 0 || y >= LINES || x < 0 || x >= COLS)
		return;
	if (w > COLS - x)
		w = COLS - x;
	attrset(a);
	mvhline(y, x, ' ', w);
	attrset(A_NORMAL);
}

static int putf(int y, int x, int w, chtype a, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int putf(int y, int x, int w, chtype a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return put(y, x, w, buf, a);
}

static void human_size(uint64_t n, char *buf, size_t size)
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, size, "%" PRIu64, n);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, v < 100 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

/* Keep *sel in [0, n) and on screen: *top moves so that it shows. */
static void keep_visible(size_t *sel, size_t *top, size_t n, size_t rows)
{
	if (*sel >= n)
		*sel = n ? n - 1 : 0;
	if (!rows)
		rows = 1;
	if (*top > *sel)
		*top = *sel;
	if (*sel >= *top + rows)
		*top = *sel - rows + 1;
	if (*top + rows > n)
		*top = n > rows ? n - rows : 0;
}

/* --- the header and the status line ---------------------------------------------- */

/* Put field `text` at *x on line y if it fits whole before `limit`
 * (nothing is cut mid-word: a field that does not fit is left out). */
static bool put_field(int y, int *x, int limit, chtype a, const char *text)
{
	int w = (int)strlen(text);

	if (*x + w > limit)
		return false;
	*x += put(y, *x, w, text, a);
	return true;
}

/* "/dev/shm 8.0K/23.5G 0%", " FULL" once it is full (capacity_is_full);
 * "" when it could not be read.  Returns whether it is full. */
static bool shm_text(const struct live_view *v, char *buf, size_t size)
{
	const struct tmpfs_fs *fs = &v->shm;
	char used[16], total[16];
	bool full = capacity_is_full(fs->size, fs->used, fs->inodes,
				     fs->inodes_used);

	buf[0] = '\0';
	if (!v->shm_known)
		return false;
	human_size(fs->used, used, sizeof(used));
	human_size(fs->size, total, sizeof(total));
	if (fs->size)
		snprintf(buf, size, " /dev/shm %s/%s %u%%%s ", used, total,
			 capacity_percent(fs->used, fs->size), full ? " FULL" : "");
	else
		snprintf(buf, size, " /dev/shm %s ", used);
	return full;
}

/* Where /dev/shm's use went: the header's right end when it fits after
 * the counters, else the status line (the counters come first). */
static bool shm_in_header;

static void draw_shm(const struct live_view *v, int x)
{
	char buf[64];
	bool full = shm_text(v, buf, sizeof(buf));
	int len = (int)strlen(buf);

	shm_in_header = len && x + len <= COLS;
	if (shm_in_header)
		put(0, COLS - len, len, buf, full ? pair(PAIR_ERROR) | A_BOLD :
		    pair(PAIR_HEADER));
}

static void draw_header(const struct live_view *v)
{
	const char *name = strrchr(v->path, '/');
	const char *run = words_run_state(v->running, v->final);
	const struct model *m = v->model;
	char f[256], g[128];
	int x = 0;
	chtype h = pair(PAIR_HEADER);

	fill(0, 0, COLS, h);
	put_field(0, &x, COLS, h | A_BOLD, " shmview live ");
	snprintf(f, sizeof(f), " %s ", name ? name + 1 : v->path);
	put_field(0, &x, COLS, h | A_BOLD, f);
	if (v->at_set)
		snprintf(f, sizeof(f), " at +%" PRIu64 ".%09" PRIu64 "s ",
			 v->at_ns / 1000000000u, v->at_ns % 1000000000u);
	else
		snprintf(f, sizeof(f), " %s %.1fs ", run, (double)v->elapsed_ns / 1e9);
	put_field(0, &x, COLS, (v->running && !v->at_set ? pair(PAIR_RUNNING) : h) |
		  A_BOLD, f);
	if (!m) {
		put_field(0, &x, COLS, h, "  reading...");
		shm_in_header = false;
		return;
	}
	snprintf(f, sizeof(f), "  segments %zu live, %zu pending, %zu leaked, "
		 "%zu removed", v->by_state[SEG_LIVE], v->by_state[SEG_PENDING],
		 v->by_state[SEG_LEAKED], v->by_state[SEG_REMOVED]);
	snprintf(g, sizeof(g), "  %zu live %zu pend %zu leak %zu rm",
		 v->by_state[SEG_LIVE], v->by_state[SEG_PENDING],
		 v->by_state[SEG_LEAKED], v->by_state[SEG_REMOVED]);
	if (!put_field(0, &x, COLS, h, f))
		put_field(0, &x, COLS, h, g);
	snprintf(f, sizeof(f), "  processes %zu/%zu alive", v->alive,
		 m->nprocesses);
	put_field(0, &x, COLS, h, f);
	snprintf(f, sizeof(f), "  events %" PRIu64, m->events);
	put_field(0, &x, COLS, h, f);
	snprintf(f, sizeof(f), "  dropped %" PRIu64 " ", v->counters.dropped);
	put_field(0, &x, COLS, v->counters.dropped ? pair(PAIR_ERROR) | A_BOLD : h, f);
	draw_shm(v, x);
}

static const char *sort_name(enum live_sort s)
{
	static const char *const names[LIVE_SORT_COUNT] = {
		"order", "size", "state", "kind", "attached" };
	return s < LIVE_SORT_COUNT ? names[s] : "?";
}

static void position(const struct live_view *v, char *buf, size_t size)
{
	const struct live_ui_state *u = &v->ui;

	switch (u->mode) {
	case LIVE_MAP:
		snprintf(buf, size, "row %zu/%zu col %zu/%zu", v->nrows ?
			 u->row + 1 : 0, v->nrows, v->ncols ? u->col + 1 : 0,
			 v->ncols);
		break;
	case LIVE_PROCS:
		snprintf(buf, size, "process %zu/%zu", v->nprocs ? u->proc + 1 :
			 0, v->nprocs);
		break;
	case LIVE_SEGMENT: case LIVE_PROCESS:
		snprintf(buf, size, "line %zu/%zu", v->detail.n ? u->line + 1 :
			 0, v->detail.n);
		break;
	default:
		buf[0] = '\0';
	}
	if (v->timing) {
		size_t n = strlen(buf);
		snprintf(buf + n, size - n, "  read %.1fms draw %.1fms",
			 v->read_ms, v->draw_ms);
	}
}

static void draw_status(const struct live_view *v)
{
	const struct live_ui_state *u = &v->ui;
	int y = LINES - 1, right;
	char pos[128];

	fill(y, 0, COLS, A_REVERSE);
	position(v, pos, sizeof(pos));
	if (!shm_in_header && v->shm_known) {	/* the header had no room */
		char shm[64], both[sizeof(pos)];

		shm_text(v, shm, sizeof(shm));
		/* before the position, which ends the line; only with half of
		 * the line left for the hints */
		if (shm[0] && snprintf(both, sizeof(both), "%s %s", shm, pos) <
		    (int)sizeof(both) && (int)strlen(both) < COLS / 2)
			memcpy(pos, both, strlen(both) + 1);
	}
	right = COLS - (int)strlen(pos) - 1;
	if (prompt.kind != PROMPT_NONE) {
		putf(y, 0, COLS, A_REVERSE | A_BOLD, "%s: %s_",
		     prompt.kind == PROMPT_FILTER ? "filter" : "search",
		     prompt.buf);
		return;
	}
	if (right > 0)
		put(y, right, COLS, pos, A_REVERSE);
	if (v->status[0]) {
		put(y, 0, right > 0 ? right - 1 : COLS, v->status,
		    v->status_error ? pair(PAIR_ERROR) | A_BOLD : A_REVERSE | A_BOLD);
		return;
	}
	{
		/* the hints that fit whole, most useful first */
		const char *items[12];
		size_t n = 0;
		char tab[32], sort[32], filter[LIVE_INPUT_MAX + 16];
		int x = 0, limit = right > 0 ? right - 1 : COLS;

		if (u->mode == LIVE_SEGMENT || u->mode == LIVE_PROCESS) {
			items[n++] = " Esc back";
			items[n++] = "  arrows scroll";
			items[n++] = "  / search";
			items[n++] = "  n next";
			items[n++] = "  ? help";
			items[n++] = "  q quit";
		} else {
			snprintf(tab, sizeof(tab), "  Tab %s",
				 u->mode == LIVE_MAP ? "tree" : "map");
			snprintf(sort, sizeof(sort), "  s sort:%s", sort_name(u->sort));
			snprintf(filter, sizeof(filter), "  f filter%s%s",
				 u->filter[0] ? ":" : "", u->filter);
			items[n++] = " q quit";
			items[n++] = "  ? help";
			items[n++] = "  Enter details";
			items[n++] = filter;
			items[n++] = "  [ ] time";
			items[n++] = sort;
			items[n++] = tab;
			items[n++] = "  p process";
			items[n++] = "  / search";
			if (u->show_removed)
				items[n++] = "  a:all";
		}
		for (size_t i = 0; i < n; i++)
			put_field(y, &x, limit, A_REVERSE, items[i]);
	}
}

/* --- the map ------------------------------------------------------------------ */

struct layout {
	int id_w;          /* identity column */
	int left;          /* where the process cells begin */
	size_t full;       /* process columns that show whole */
	size_t ncells;     /* that show at all: the last one may be cut */
};

static void map_layout(const struct live_view *v, struct layout *l)
{
	/* " STATE   KIND    IDENTITY  SIZE   ATT |" */
	int fixed = 1 + 8 + 8 + 1 + 7 + 5 + 2;
	size_t room = v->ui.left < v->ncols ? v->ncols - v->ui.left : 0;

	/* as wide as the widest identity, leaving room for one cell */
	l->id_w = v->id_len < MAX_ID_W ? (int)v->id_len : MAX_ID_W;
	if (l->id_w > COLS - fixed - CELL_W)
		l->id_w = COLS - fixed - CELL_W;
	if (l->id_w < MIN_ID_W)
		l->id_w = MIN_ID_W;
	l->left = fixed + l->id_w;
	l->full = COLS > l->left ? (size_t)(COLS - l->left) / CELL_W : 0;
	l->ncells = COLS > l->left ? (size_t)(COLS - l->left + CELL_W - 1) /
		CELL_W : 0;
	if (l->full > room)
		l->full = room;
	if (l->ncells > room)
		l->ncells = room;
}

/* Scroll the columns so that the selected one shows whole (or at least
 * first, on a screen too narrow for one). */
static void scroll_columns(struct live_view *v, struct layout *l)
{
	struct live_ui_state *u = &v->ui;
	size_t full = COLS > l->left ? (size_t)(COLS - l->left) / CELL_W : 0;

	if (u->col >= v->ncols)
		u->col = v->ncols ? v->ncols - 1 : 0;
	if (u->left > u->col)
		u->left = u->col;
	if (!full)
		u->left = u->col;
	else if (u->col >= u->left + full)
		u->left = u->col - full + 1;
	if (full && u->left + full > v->ncols)	/* no blank room at the end */
		u->left = v->ncols > full ? v->ncols - full : 0;
	if (u->left > u->col)
		u->left = u->col;
	map_layout(v, l);
}

static void left_part(const struct layout *l, int y, const struct segment *s,
		      bool sel)
{
	char id[256], size[16];
	chtype a = sel ? A_REVERSE : A_NORMAL;
	int x = 1;

	fill(y, 0, l->left, a);
	words_short_identity(s, id, sizeof(id));
	human_size(s->size, size, sizeof(size));
	x += putf(y, x, 8, (sel ? A_REVERSE : 0) | state_attr(s->state),
		  "%-8s", model_state_name(s->state));
	x += putf(y, x, 8, a, "%-8s", model_kind_name(s->kind));
	x += putf(y, x, l->id_w + 1, a, "%-*.*s ", l->id_w, l->id_w, id);
	putf(y, x, 7 + 5 + 2, a, "%7s %4u |", s->size ? size : "?",
	     s->live_att);
}

/* Where process p has segment s attached: the first piece, and how many
 * more (a partial munmap splits an attachment). */
static const struct attachment *cell_of(const struct segment *s,
					const struct process *p, unsigned *more)
{
	const struct attachment *first = NULL;

	*more = 0;
	if (s->natt <= p->nlive) {
		for (size_t i = 0; i < s->natt; i++)
			if (s->att[i]->live && s->att[i]->proc == p) {
				*more += first != NULL;
				first = first ? first : s->att[i];
			}
		return first;
	}
	for (size_t i = 0; i < p->nlive; i++)
		if (p->live[i]->seg == s) {
			*more += first != NULL;
			first = first ? first : p->live[i];
		}
	return first;
}

static void draw_cell(int y, int x, const struct segment *s,
		      const struct process *p, bool sel)
{
	unsigned more;
	const struct attachment *a = cell_of(s, p, &more);
	chtype attr = sel ? A_REVERSE | A_BOLD : A_NORMAL;
	char text[64];

	if (!a)
		text[0] = '\0';
	else if (more)
		snprintf(text, sizeof(text), "0x%" PRIx64 " %s+%u", a->addr,
			 a->readonly ? "ro" : "rw", more);
	else
		snprintf(text, sizeof(text), "0x%" PRIx64 " %s", a->addr,
			 a->readonly ? "ro" : "rw");
	putf(y, x, CELL_W, attr, "%-*.*s", CELL_W - 1, CELL_W - 1, text);
	put(y, x + CELL_W - 1, 1, "|", A_NORMAL);
}

static void draw_col_heads(const struct live_view *v, const struct layout *l)
{
	char cmd[64];

	putf(1, 0, l->left, A_BOLD, " %-8s%-8s%-*s %7s %4s |", "STATE", "KIND",
	     l->id_w, "IDENTITY", "SIZE", "ATT");
	putf(2, 0, l->left, A_DIM, " sorted by %s%*s|", sort_name(v->ui.sort),
	     l->left - 12 - (int)strlen(sort_name(v->ui.sort)), "");
	for (size_t c = 0; c < l->ncells; c++) {
		const struct process *p = v->cols[v->ui.left + c];
		int x = l->left + (int)c * CELL_W;
		chtype a = (v->ui.left + c == v->ui.col ? A_REVERSE : 0) |
			(p->ended ? A_DIM : A_BOLD);

		live_command(p, cmd, sizeof(cmd));
		putf(1, x, CELL_W - 1, a, "%-7" PRId32 " %-11s", p->pid,
		     p->ended ? "ended" : "");
		putf(2, x, CELL_W - 1, a, "%-*.*s", CELL_W - 1, CELL_W - 1, cmd);
		put(1, x + CELL_W - 1, 1, "|", A_NORMAL);
		put(2, x + CELL_W - 1, 1, "|", A_NORMAL);
	}
}

static void draw_empty_map(const struct live_view *v, int y)
{
	if (v->ui.filter[0])
		putf(y, 2, COLS, A_DIM, "no segment matches the filter '%s' "
		     "(f then Enter clears it)", v->ui.filter);
	else if (!v->ui.show_removed && v->by_state[SEG_REMOVED])
		putf(y, 2, COLS, A_DIM, "no segment exists %s: [ and ] step "
		     "through time, a lists the %zu removed",
		     v->at_set ? "then" : "now", v->by_state[SEG_REMOVED]);
	else
		put(y, 2, COLS, "no segment in the trace (yet)", A_DIM);
}

static void draw_map(struct live_view *v)
{
	struct live_ui_state *u = &v->ui;
	size_t body = LINES > 4 ? (size_t)LINES - 4 : 0;
	struct layout l;

	u->body = body;
	keep_visible(&u->row, &u->top, v->nrows, body);
	map_layout(v, &l);
	scroll_columns(v, &l);
	u->cells = l.full;
	draw_col_heads(v, &l);
	if (!v->nrows)
		draw_empty_map(v, 3);
	for (size_t r = 0; r < body && u->top + r < v->nrows; r++) {
		const struct segment *s = v->rows[u->top + r];
		bool sel = u->top + r == u->row;
		int y = 3 + (int)r;

		left_part(&l, y, s, sel);
		for (size_t c = 0; c < l.ncells; c++)
			draw_cell(y, l.left + (int)c * CELL_W, s,
				  v->cols[u->left + c],
				  sel && u->left + c == u->col);
	}
}

/* --- the process tree ------------------------------------------------------------ */

static void draw_proc_row(int y, const struct live_proc_row *r, bool sel)
{
	const struct process *p = r->p;
	char cmd[128], arg[128], line[1024];
	size_t len;
	unsigned depth = r->depth < 20 ? r->depth : 20;
	chtype a = (sel ? A_REVERSE : 0) | (p->ended ? A_DIM : 0);

	live_command(p, cmd, sizeof(cmd));
	len = (size_t)snprintf(line, sizeof(line), " %-8" PRId32 " %-8" PRId32
			       " %-6s %8zu  %*s%s", p->pid, p->ppid,
			       words_process_state(p), p->nlive,
			       (int)depth * 2, "", cmd);
	for (size_t i = 1; p->argv && p->argv[0] && p->argv[i] &&
	     len + 2 < sizeof(line); i++) {
		words_escape(p->argv[i], arg, sizeof(arg));
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", arg);
	}
	fill(y, 0, COLS, a);
	put(y, 0, COLS, line, a);
}

static void draw_procs(struct live_view *v)
{
	struct live_ui_state *u = &v->ui;
	size_t body = LINES > 3 ? (size_t)LINES - 3 : 0;

	u->body = body;
	keep_visible(&u->proc, &u->ptop, v->nprocs, body);
	putf(1, 0, COLS, A_BOLD, " %-8s %-8s %-6s %8s  %s", "PID", "PPID",
	     "STATE", "ATTACHED", "COMMAND (tree)");
	if (!v->nprocs)
		put(2, 2, COLS, v->ui.filter[0] ? "no process matches the filter" :
		    "no process in the trace (yet)", A_DIM);
	for (size_t r = 0; r < body && u->ptop + r < v->nprocs; r++)
		draw_proc_row(2 + (int)r, &v->procs[u->ptop + r],
			      u->ptop + r == u->proc);
}

/* --- detail and help ------------------------------------------------------------------ */

static void draw_detail(struct live_view *v)
{
	struct live_ui_state *u = &v->ui;
	size_t body = LINES > 3 ? (size_t)LINES - 3 : 0;

	u->body = body;
	if (u->line + body > v->detail.n)
		u->line = v->detail.n > body ? v->detail.n - body : 0;
	fill(1, 0, COLS, A_REVERSE);
	putf(1, 0, COLS, A_REVERSE | A_BOLD, " %s  (Esc: back)",
	     u->mode == LIVE_SEGMENT ? "segment" : "process");
	for (size_t r = 0; r < body && u->line + r < v->detail.n; r++) {
		const struct live_line *ln = &v->detail.lines[u->line + r];
		size_t len = strlen(ln->text);

		if (u->hscroll < len)
			put(2 + (int)r, 0, COLS, ln->text + u->hscroll,
			    style_attr(ln->style));
	}
}

static const char *const help_lines[] = {
	"shmview live: the attach map of a trace, read again 4 times a second",
	"",
	"map (segments as rows, processes as columns; a cell: where that",
	"process has the segment attached, rw or ro)",
	"  Up Down j k       select a segment",
	"  Left Right h l    select a process column (the columns scroll)",
	"  { } < >           a page of columns left, right; first, last column",
	"  [ ]               step through time: the map at the previous, next",
	"                    event (as map --at); ] past the last: now again",
	"  PgUp PgDn Home End  page, first, last",
	"  Enter             the segment: backtraces, attachments, events",
	"  p                 the selected column's process: attachments, calls",
	"  Tab               the process tree (Enter: a process), Tab again: map",
	"  s                 sort: order, size, state, kind, attached",
	"  f                 filter by name, kind, state or pid (a number is a",
	"                    pid or shmid), replacing the last; f Enter clears it",
	"  / n N             search, next match, previous match",
	"  a                 list removed segments too",
	"  e                 hide the columns of ended processes",
	"  r                 read the trace again now",
	"  Esc               back (or clear the filter)",
	"  q                 quit",
	"",
	"states: live (green), pending removal (yellow), leaked (red),",
	"removed (blue).  Ended processes are dim, marked 'ended'.",
	"",
	"press any key to go back",
};

static void draw_help(void)
{
	size_t n = sizeof(help_lines) / sizeof(help_lines[0]);

	for (size_t i = 0; i < n && (int)i + 1 < LINES - 1; i++)
		put(1 + (int)i, 1, COLS, help_lines[i], i == 0 ? A_BOLD : A_NORMAL);
}

void live_ui_draw(struct live_view *v)
{
	if (!screen)
		return;
	erase();
	if (LINES >= 1)
		draw_header(v);
	if (LINES >= 3 && v->model) {
		switch (v->ui.mode) {
		case LIVE_MAP: draw_map(v); break;
		case LIVE_PROCS: draw_procs(v); break;
		case LIVE_SEGMENT: case LIVE_PROCESS: draw_detail(v); break;
		case LIVE_HELP: draw_help(); break;
		}
	}
	if (LINES >= 2)
		draw_status(v);
	refresh();
}

/* --- keys ---------------------------------------------------------------------------- */

#define KEY_ESC 27
#define KEY_TAB '\t'

static bool is_enter(int ch)
{
	return ch == '\n' || ch == '\r' || ch == KEY_ENTER;
}

/* Move *at by a key's step through n items; returns whether it was one. */
static bool move_key(int ch, size_t *at, size_t n, size_t page)
{
	size_t last = n ? n - 1 : 0;

	if (!page)
		page = 1;
	switch (ch) {
	case KEY_UP: case 'k': *at = *at ? *at - 1 : 0; break;
	case KEY_DOWN: case 'j': *at = *at < last ? *at + 1 : last; break;
	case KEY_PPAGE: *at = *at > page ? *at - page : 0; break;
	case KEY_NPAGE: case ' ': *at = *at + page < last ? *at + page : last; break;
	case KEY_HOME: case 'g': *at = 0; break;
	case KEY_END: case 'G': *at = last; break;
	default: return false;
	}
	return true;
}

static void start_prompt(int kind, const char *init)
{
	prompt.kind = kind;
	snprintf(prompt.buf, sizeof(prompt.buf), "%s", init);
	prompt.len = strlen(prompt.buf);
}

static enum live_request prompt_key(struct live_view *v, int ch)
{
	struct live_ui_state *u = &v->ui;
	int kind = prompt.kind;

	if (ch == KEY_ESC) {
		prompt.kind = PROMPT_NONE;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (prompt.len)
			prompt.buf[--prompt.len] = '\0';
	} else if (is_enter(ch)) {
		prompt.kind = PROMPT_NONE;
		if (kind == PROMPT_FILTER) {
			memcpy(u->filter, prompt.buf, sizeof(u->filter));
			return LIVE_REQ_RELIST;
		}
		memcpy(u->search, prompt.buf, sizeof(u->search));
		u->search_dir = 1;
		return u->search[0] ? LIVE_REQ_SEARCH : LIVE_REQ_NONE;
	} else if (ch >= 0x20 && ch < 0x7f && prompt.len + 1 < sizeof(prompt.buf)) {
		prompt.buf[prompt.len++] = (char)ch;
		prompt.buf[prompt.len] = '\0';
	}
	return LIVE_REQ_NONE;
}

/* Keys that work the same in the map and the tree. */
static enum live_request list_key(struct live_view *v, int ch)
{
	struct live_ui_state *u = &v->ui;

	switch (ch) {
	case 's': u->sort = (u->sort + 1) % LIVE_SORT_COUNT; return LIVE_REQ_RELIST;
	/* a new filter replaces the old one (Esc clears it) */
	case 'f': start_prompt(PROMPT_FILTER, ""); return LIVE_REQ_NONE;
	case '[': case ']':
		u->time_dir = ch == '[' ? -1 : 1;
		return LIVE_REQ_TIME;
	case '/': start_prompt(PROMPT_SEARCH, ""); return LIVE_REQ_NONE;
	case 'a': u->show_removed = !u->show_removed; return LIVE_REQ_RELIST;
	case 'e': u->hide_ended = !u->hide_ended; return LIVE_REQ_RELIST;
	case KEY_TAB:
		u->mode = u->mode == LIVE_MAP ? LIVE_PROCS : LIVE_MAP;
		return LIVE_REQ_NONE;
	case KEY_ESC:
		if (!u->filter[0])
			return LIVE_REQ_NONE;
		u->filter[0] = '\0';
		return LIVE_REQ_RELIST;
	default:
		return LIVE_REQ_NONE;
	}
}

static enum live_request open_process(struct live_view *v, int32_t pid)
{
	v->ui.back = v->ui.mode;
	v->ui.mode = LIVE_PROCESS;
	v->ui.pid = pid;
	return LIVE_REQ_DETAIL;
}

/* The column keys: Left Right, { } a page of columns, < > first, last. */
static bool column_key(struct live_view *v, int ch)
{
	static const struct { int key, as; } keys[] = {
		{ KEY_LEFT, KEY_UP }, { 'h', KEY_UP }, { KEY_RIGHT, KEY_DOWN },
		{ 'l', KEY_DOWN }, { '{', KEY_PPAGE }, { KEY_SLEFT, KEY_PPAGE },
		{ '}', KEY_NPAGE }, { KEY_SRIGHT, KEY_NPAGE }, { '<', KEY_HOME },
		{ '>', KEY_END },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].key == ch)
			return move_key(keys[i].as, &v->ui.col, v->ncols,
					v->ui.cells);
	return false;
}

static enum live_request map_key(struct live_view *v, int ch)
{
	struct live_ui_state *u = &v->ui;

	if (move_key(ch, &u->row, v->nrows, u->body))
		return LIVE_REQ_NONE;
	if (column_key(v, ch))
		return LIVE_REQ_NONE;
	switch (ch) {
	case 'p':
		return v->ncols ? open_process(v, v->cols[u->col]->pid) :
			LIVE_REQ_NONE;
	default:
		if (!is_enter(ch))
			return list_key(v, ch);
		if (!v->nrows)
			return LIVE_REQ_NONE;
		u->back = LIVE_MAP;
		u->mode = LIVE_SEGMENT;
		u->seg_key = live_seg_key(v->rows[u->row]);
		return LIVE_REQ_DETAIL;
	}
}

static enum live_request procs_key(struct live_view *v, int ch)
{
	struct live_ui_state *u = &v->ui;

	if (move_key(ch, &u->proc, v->nprocs, u->body))
		return LIVE_REQ_NONE;
	if ((is_enter(ch) || ch == 'p') && v->nprocs)
		return open_process(v, v->procs[u->proc].p->pid);
	if (ch == KEY_ESC && !u->filter[0]) {
		u->mode = LIVE_MAP;
		return LIVE_REQ_NONE;
	}
	return list_key(v, ch);
}

static enum live_request detail_key(struct live_view *v, int ch)
{
	struct live_ui_state *u = &v->ui;
	size_t page = u->body ? u->body : 1;
	size_t last = v->detail.n > page ? v->detail.n - page : 0;

	if (move_key(ch, &u->line, last + 1, page))
		return LIVE_REQ_NONE;
	switch (ch) {
	case KEY_LEFT: case 'h':
		u->hscroll = u->hscroll > 8 ? u->hscroll - 8 : 0;
		break;
	case KEY_RIGHT: case 'l':
		u->hscroll += 8;
		break;
	case KEY_ESC: case KEY_BACKSPACE: case 127: case 8:
		u->mode = u->back == LIVE_PROCS ? LIVE_PROCS : LIVE_MAP;
		break;
	case '/':
		start_prompt(PROMPT_SEARCH, "");
		break;
	}
	return LIVE_REQ_NONE;
}

enum live_request live_ui_key(struct live_view *v, int timeout_ms)
{
	struct live_ui_state *u = &v->ui;
	int ch;

	if (!screen)
		return LIVE_REQ_QUIT;
	timeout(timeout_ms);
	ch = getch();
	if (ch == ERR || ch == KEY_RESIZE)
		return LIVE_REQ_NONE;
	if (prompt.kind != PROMPT_NONE)
		return prompt_key(v, ch);
	if (u->mode != LIVE_HELP && v->status[0] && !v->status_error)
		v->status[0] = '\0';	/* a note lasts until a key */
	if (ch == 'q')
		return LIVE_REQ_QUIT;
	if (u->mode == LIVE_HELP) {
		u->mode = u->back;
		return LIVE_REQ_NONE;
	}
	switch (ch) {
	case '?': u->back = u->mode; u->mode = LIVE_HELP; return LIVE_REQ_NONE;
	case 'r': return LIVE_REQ_RELOAD;
	case 12: clearok(curscr, TRUE); return LIVE_REQ_NONE;	/* ^L */
	case 'n': case 'N':
		u->search_dir = ch == 'n' ? 1 : -1;
		return LIVE_REQ_SEARCH;
	}
	switch (u->mode) {
	case LIVE_MAP: return map_key(v, ch);
	case LIVE_PROCS: return procs_key(v, ch);
	default: return detail_key(v, ch);
	}
}

/* --- the picker ---------------------------------------------------------------------------- */

static void draw_pick(const struct live_pick *files, size_t n, size_t sel,
		      size_t *top)
{
	size_t body = LINES > 3 ? (size_t)LINES - 3 : 1;
	time_t now = time(NULL);
	char size[16], name[512];

	erase();
	fill(0, 0, COLS, pair(PAIR_HEADER));
	put(0, 0, COLS, " shmview live: which trace? (newest first)",
	    pair(PAIR_HEADER) | A_BOLD);
	keep_visible(&sel, top, n, body);
	for (size_t r = 0; r < body && *top + r < n; r++) {
		const struct live_pick *f = &files[*top + r];
		chtype a = *top + r == sel ? A_REVERSE : A_NORMAL;
		long age = (long)(now - f->mtime);

		human_size(f->size, size, sizeof(size));
		words_escape(f->path, name, sizeof(name));
		fill(2 + (int)r, 0, COLS, a);
		putf(2 + (int)r, 0, COLS, a, " %8lds ago %7s  %-8s  %s",
		     age > 0 ? age : 0, size, f->final ? "finished" : "running",
		     name);
	}
	fill(LINES - 1, 0, COLS, A_REVERSE);
	put(LINES - 1, 0, COLS, " Enter open  Up/Down choose  q quit", A_REVERSE);
	refresh();
}

int live_ui_pick(const struct live_pick *files, size_t n)
{
	size_t sel = 0, top = 0;
	int ch;

	if (!screen || !n)
		return -1;
	for (;;) {
		draw_pick(files, n, sel, &top);
		timeout(-1);
		ch = getch();
		if (ch == 'q' || ch == KEY_ESC)
			return -1;
		if (is_enter(ch))
			return (int)sel;
		move_key(ch, &sel, n, LINES > 3 ? (size_t)LINES - 3 : 1);
	}
}
