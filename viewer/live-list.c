/*
 * live-list.c - what `shmview live` lists (see live.h): the map's rows
 * (segments, filtered and sorted), its columns (processes), the process
 * tree, and the search through them; plus the escaped command names they
 * show.
 *
 * A filter or search text that is a number means a pid (or a shmid)
 * exactly; any other text is a case-insensitive substring of a kind, a
 * state, an identity or a command.  A segment also matches through the
 * processes attached to it, so filtering by a worker's pid keeps the
 * segments it uses and its column only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "render.h"
#include "util.h"
#include "words.h"

void live_command(const struct process *p, char *buf, size_t size)
{
	words_escape(words_base_name(p->exe), buf, size);
}

/* --- filter and search ------------------------------------------------------ */

/* A filter or search text: a number means a pid (or shmid) exactly,
 * anything else a case-insensitive substring of the names shown. */
struct matcher {
	const char *text;
	bool numeric;
	int64_t num;
};

static void matcher_init(struct matcher *mt, const char *text)
{
	char *end;

	mt->text = text;
	mt->num = strtoll(text, &end, 10);
	mt->numeric = *text && !*end && end != text;
}

static bool proc_matches(const struct process *p, const struct matcher *mt)
{
	char cmd[256];

	if (mt->numeric)
		return p->pid == mt->num;
	live_command(p, cmd, sizeof(cmd));
	return strcasestr(cmd, mt->text) != NULL;
}

static bool seg_text_matches(const struct segment *s, const struct matcher *mt)
{
	char id[256];

	if (strcasestr(model_kind_name(s->kind), mt->text) ||
	    strcasestr(model_state_name(s->state), mt->text))
		return true;
	words_short_identity(s, id, sizeof(id));
	return strcasestr(id, mt->text) != NULL;
}

/* A segment matches by its kind, state or identity, or through a process
 * that has (or had) it attached. */
static bool seg_matches(const struct segment *s, const struct matcher *mt)
{
	if (mt->numeric && s->kind == SEG_SYSV && s->shmid == mt->num)
		return true;
	if (!mt->numeric && seg_text_matches(s, mt))
		return true;
	for (size_t i = 0; i < s->natt; i++)
		if ((s->att[i]->live || mt->numeric) &&
		    proc_matches(s->att[i]->proc, mt))
			return true;
	return false;
}

/* --- the lists the map shows ---------------------------------------------------- */

#define GROW(arr, n, cap) XGROW(arr, n, cap, 64)

static int state_rank(enum seg_state s)
{
	static const int rank[SEG_STATE_COUNT] = {
		[SEG_LEAKED] = 0, [SEG_PENDING] = 1, [SEG_LIVE] = 2,
		[SEG_REMOVED] = 3, [SEG_ENDED] = 3 };
	return s < SEG_STATE_COUNT ? rank[s] : 4;
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b;
}

static int row_cmp(const void *a, const void *b, void *arg)
{
	const struct segment *x = *(const struct segment *const *)a;
	const struct segment *y = *(const struct segment *const *)b;
	int c = 0;

	switch (*(const enum live_sort *)arg) {
	case LIVE_SORT_SIZE: c = cmp_u64_desc(x->size, y->size); break;
	case LIVE_SORT_STATE:
		c = state_rank(x->state) - state_rank(y->state);
		break;
	case LIVE_SORT_KIND: c = (int)x->kind - (int)y->kind; break;
	case LIVE_SORT_ATTACH: c = cmp_u64_desc(x->live_att, y->live_att); break;
	default: break;
	}
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

static void list_rows(struct live_view *v, const struct model *m,
		      const struct matcher *mt)
{

	v->nrows = 0;
	for (size_t i = 0; i < m->nsegments; i++) {
		const struct segment *s = m->segments[i];

		if (!map_shows(s) && !v->ui.show_removed)
			continue;
		if (mt && !seg_matches(s, mt))
			continue;
		GROW(v->rows, v->nrows, v->rows_cap);
		v->rows[v->nrows++] = s;
	}
	if (v->nrows)
		qsort_r(v->rows, v->nrows, sizeof(*v->rows), row_cmp,
			&v->ui.sort);
}

/* The widest identity of the rows, for the map's identity column. */
static size_t identity_width(const struct live_view *v)
{
	char id[256];
	size_t w = 0;

	for (size_t i = 0; i < v->nrows; i++) {
		words_short_identity(v->rows[i], id, sizeof(id));
		if (strlen(id) > w)
			w = strlen(id);
	}
	return w;
}

/* The columns: every process (alive ones only with hide_ended); with a
 * filter that names processes, just those. */
static void list_cols(struct live_view *v, const struct model *m,
		      const struct matcher *mt)
{
	bool any = false;

	for (size_t i = 0; mt && !any && i < m->nprocesses; i++)
		any = proc_matches(m->processes[i], mt);
	v->ncols = 0;
	for (size_t i = 0; i < m->nprocesses; i++) {
		const struct process *p = m->processes[i];

		if (v->ui.hide_ended && p->ended)
			continue;
		if (any && !proc_matches(p, mt))
			continue;
		GROW(v->cols, v->ncols, v->cols_cap);
		v->cols[v->ncols++] = p;
	}
}

/* The process tree in depth-first order, children in order of
 * appearance.  Iterative: a chain of thousands of processes is fine. */
struct tree {
	size_t *first, *next, *stack;
	unsigned *depth;
	bool *seen;
};

#define NONE SIZE_MAX

static void tree_link(const struct model *m, struct tree *t)
{
	size_t n = m->nprocesses;

	for (size_t i = 0; i < n; i++)
		t->first[i] = NONE;
	for (size_t i = n; i-- > 0;) {
		const struct process *p = m->processes[i];
		const struct process *pp = p->ppid ? model_process(m, p->ppid) : NULL;

		t->next[i] = NONE;
		if (pp && pp != p) {
			t->next[i] = t->first[pp->index];
			t->first[pp->index] = i;
		}
	}
}

static void tree_walk(struct live_view *v, const struct model *m,
		      struct tree *t, size_t root, const struct matcher *mt)
{
	size_t sp = 0;

	t->stack[sp++] = root;
	t->depth[root] = 0;
	t->seen[root] = true;
	while (sp) {
		size_t i = t->stack[--sp], kids = sp;

		if (!mt || proc_matches(m->processes[i], mt)) {
			GROW(v->procs, v->nprocs, v->procs_cap);
			v->procs[v->nprocs++] = (struct live_proc_row){
				m->processes[i], t->depth[i] };
		}
		for (size_t c = t->first[i]; c != NONE; c = t->next[c]) {
			if (t->seen[c])
				continue;
			t->seen[c] = true;
			t->depth[c] = t->depth[i] + 1;
			t->stack[sp++] = c;
		}
		/* pushed in order: reverse them so the first pops first */
		for (size_t a = kids, b = sp; a + 1 < b; a++, b--) {
			size_t tmp = t->stack[a];
			t->stack[a] = t->stack[b - 1];
			t->stack[b - 1] = tmp;
		}
	}
}

static void list_procs(struct live_view *v, const struct model *m,
		       const struct matcher *mt)
{
	size_t n = m->nprocesses;
	struct tree t;

	v->nprocs = 0;
	if (!n)
		return;
	t.first = xcalloc(n, sizeof(*t.first));
	t.next = xcalloc(n, sizeof(*t.next));
	t.stack = xcalloc(n, sizeof(*t.stack));
	t.depth = xcalloc(n, sizeof(*t.depth));
	t.seen = xcalloc(n, sizeof(*t.seen));
	tree_link(m, &t);
	for (size_t i = 0; i < n; i++) {
		const struct process *p = m->processes[i];
		const struct process *pp = p->ppid ? model_process(m, p->ppid) : NULL;

		if (!t.seen[i] && (!pp || pp == p))
			tree_walk(v, m, &t, i, mt);
	}
	for (size_t i = 0; i < n; i++)	/* parents in a cycle (pid reuse) */
		if (!t.seen[i])
			tree_walk(v, m, &t, i, mt);
	free(t.first);
	free(t.next);
	free(t.stack);
	free(t.depth);
	free(t.seen);
}

uint64_t live_seg_key(const struct segment *s)
{
	if (s->creator.seq != MODEL_NO_SEQ)
		return s->creator.seq;
	uint64_t id = s->kind == SEG_SYSV ? (uint32_t)s->shmid : s->inode;
	return UINT64_C(1) << 63 | (uint64_t)s->kind << 48 | (id & 0xffffffffffff);
}

void live_remember(const struct live_view *v, struct live_keys *k)
{
	const struct live_ui_state *u = &v->ui;

	memset(k, 0, sizeof(*k));
	if ((k->row_set = u->row < v->nrows)) {
		k->row = live_seg_key(v->rows[u->row]);
		k->row_off = u->row >= u->top ? u->row - u->top : 0;
	}
	if ((k->col_set = u->col < v->ncols))
		k->col = v->cols[u->col]->pid;
	if ((k->proc_set = u->proc < v->nprocs)) {
		k->proc = v->procs[u->proc].p->pid;
		k->proc_off = u->proc >= u->ptop ? u->proc - u->ptop : 0;
	}
}

static void restore(struct live_view *v, const struct live_keys *k)
{
	struct live_ui_state *u = &v->ui;

	for (size_t i = 0; k->row_set && i < v->nrows; i++)
		if (live_seg_key(v->rows[i]) == k->row) {
			u->row = i;
			u->top = i >= k->row_off ? i - k->row_off : 0;
			break;
		}
	for (size_t i = 0; k->col_set && i < v->ncols; i++)
		if (v->cols[i]->pid == k->col) {
			u->col = i;
			break;
		}
	for (size_t i = 0; k->proc_set && i < v->nprocs; i++)
		if (v->procs[i].p->pid == k->proc) {
			u->proc = i;
			u->ptop = i >= k->proc_off ? i - k->proc_off : 0;
			break;
		}
}

void live_list(struct live_view *v, const struct model *m,
	       const struct live_keys *k)
{
	struct matcher mt;
	const struct matcher *f = NULL;

	if (v->ui.filter[0]) {
		matcher_init(&mt, v->ui.filter);
		f = &mt;
	}
	list_rows(v, m, f);
	v->id_len = identity_width(v);
	list_cols(v, m, f);
	list_procs(v, m, f);
	restore(v, k);
}

void live_list_free(struct live_view *v)
{
	free(v->rows);
	free(v->cols);
	free(v->procs);
	v->rows = NULL;
	v->cols = NULL;
	v->procs = NULL;
	v->nrows = v->ncols = v->nprocs = 0;
	v->rows_cap = v->cols_cap = v->procs_cap = 0;
}

/* --- search ----------------------------------------------------------------- */

static bool item_matches(const struct live_view *v, size_t i,
			 const struct matcher *mt)
{
	switch (v->ui.mode) {
	case LIVE_MAP: return seg_matches(v->rows[i], mt);
	case LIVE_PROCS: return proc_matches(v->procs[i].p, mt);
	default: return strcasestr(v->detail.lines[i].text, mt->text) != NULL;
	}
}

void live_search(struct live_view *v)
{
	struct live_ui_state *u = &v->ui;
	size_t n, *at;
	struct matcher mt;

	switch (u->mode) {
	case LIVE_MAP: n = v->nrows; at = &u->row; break;
	case LIVE_PROCS: n = v->nprocs; at = &u->proc; break;
	case LIVE_SEGMENT: case LIVE_PROCESS:
		n = v->detail.n; at = &u->line; break;
	default: return;
	}
	v->status_error = false;
	if (!u->search[0]) {
		snprintf(v->status, sizeof(v->status), "nothing to search for: "
			 "press / first");
		return;
	}
	matcher_init(&mt, u->search);
	for (size_t k = 1; k <= n; k++) {
		size_t i = u->search_dir < 0 ? (*at + n - k % n) % n :
			(*at + k) % n;

		if (item_matches(v, i, &mt)) {
			*at = i;
			v->status[0] = '\0';
			return;
		}
	}
	snprintf(v->status, sizeof(v->status), "no match for '%s'", u->search);
}
