/*
 * model.c - replay a trace into segments, attachments and processes.
 *
 * Events are replayed in the order they took effect, not in slot order: a
 * slot is reserved when a call returns, so a fork's child can record its
 * first events before the parent records the fork.  Sorting by the time a
 * call began restores causality (whatever a process learned from another's
 * call, it learned after that call began); a wait is ordered by when it
 * returned, since that is when it learned the child had ended.
 *
 * The address-space rules follow the kernel: attachments are inherited by
 * fork, dropped by exec and exit, cut or split by munmap, mremap and
 * MAP_FIXED; shmdt detaches every piece of the attach at that address; a
 * SysV segment marked with IPC_RMID is destroyed when its last attachment
 * goes, a POSIX object when it is unlinked and neither mapped nor open.
 *
 * While it replays, the model notes in each segment's history (history.h)
 * every event that made, named, attached, detached, cut, moved or removed
 * it: it alone knows which segment an event touched.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <uthash.h>

#include "clock.h"
#include "decode.h"
#include "history.h"
#include "kernel.h"
#include "model.h"
#include "util.h"

#define PAGE 4096u
#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif

struct pid_entry {
	int32_t pid;
	struct process *proc;
	UT_hash_handle hh;
};

struct u64_entry {		/* shmid, inode or origin seq -> segment */
	uint64_t key;
	struct segment *seg;
	UT_hash_handle hh;
};

struct name_entry {		/* POSIX name -> its current object */
	struct segment *seg;
	UT_hash_handle hh;	/* keyed by seg->name */
};

/* What an object record said of the descriptor behind one event. */
struct objinfo {
	uint32_t kind;			/* enum shmt_obj */
	uint64_t dev, ino, size;
	char *path;			/* without " (deleted)"; "" when unknown */
	bool deleted;			/* the link ended in " (deleted)" */
};

struct objinfo_entry {		/* described event's seq -> objinfo */
	uint64_t of;
	struct objinfo info;
	UT_hash_handle hh;
};

struct obj_key {
	uint64_t dev, ino;
};

struct obj_entry {		/* (dev, inode) -> the segment of that object */
	struct obj_key key;
	struct segment *seg;
	UT_hash_handle hh;
};

struct model_index {
	struct pid_entry *pids;
	struct objinfo_entry *objinfo;	/* object records, by event */
	struct obj_entry *objects;	/* every fd-backed object by identity */
	struct u64_entry *shmids;	/* SysV segments not yet destroyed */
	struct u64_entry *origins;	/* shm_open/memfd event seq -> object */
	struct u64_entry *inodes;	/* mapped files */
	struct name_entry *names;	/* POSIX objects not unlinked */
	/* where the replay stands, for model_extend(): the order of the
	 * last event replayed, the latest time replayed, the first seq not
	 * read yet */
	uint64_t done_when, done_seq, last_rel, next_seq;
	bool any_done;
	uint64_t replaying;		/* the event being replayed, or
					   MODEL_NO_SEQ: what a change is
					   noted in the history as */
};

/* --- small containers ---------------------------------------------------- */

#define GROW(arr, n, cap) XGROW(arr, n, cap, 8)

static struct u64_entry *u64_find(struct u64_entry *h, uint64_t key)
{
	struct u64_entry *e;
	HASH_FIND(hh, h, &key, sizeof(key), e);
	return e;
}

static void u64_put(struct u64_entry **h, uint64_t key, struct segment *seg)
{
	struct u64_entry *e = u64_find(*h, key);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		e->key = key;
		HASH_ADD(hh, *h, key, sizeof(e->key), e);
	}
	e->seg = seg;
}

static void u64_del(struct u64_entry **h, uint64_t key, struct segment *seg)
{
	struct u64_entry *e = u64_find(*h, key);
	if (e && e->seg == seg) {
		HASH_DEL(*h, e);
		free(e);
	}
}

static void u64_clear(struct u64_entry **h)
{
	struct u64_entry *e, *tmp;
	HASH_ITER(hh, *h, e, tmp) {
		HASH_DEL(*h, e);
		free(e);
	}
}

static struct segment *name_find(struct model *m, const char *name)
{
	struct name_entry *e;
	HASH_FIND_STR(m->idx->names, name, e);
	return e ? e->seg : NULL;
}

static void name_set(struct model *m, struct segment *seg)
{
	struct name_entry *e;
	HASH_FIND_STR(m->idx->names, seg->name, e);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		e->seg = seg;
		HASH_ADD_KEYPTR(hh, m->idx->names, seg->name, strlen(seg->name), e);
	}
	e->seg = seg;
	/* the key points into the segment now holding the name */
	e->hh.key = seg->name;
}

static void name_drop(struct model *m, struct segment *seg)
{
	struct name_entry *e;
	if (!seg->name)
		return;
	HASH_FIND_STR(m->idx->names, seg->name, e);
	if (e && e->seg == seg) {
		HASH_DEL(m->idx->names, e);
		free(e);
	}
}

/* --- objects by identity (dev, inode) ------------------------------------ */

static const struct objinfo *info_of(const struct model *m, uint64_t seq)
{
	struct objinfo_entry *e;
	HASH_FIND(hh, m->idx->objinfo, &seq, sizeof(seq), e);
	return e ? &e->info : NULL;
}

/* An object record, kept for the event it describes (read before the
 * replay: the record follows its event). */
static void info_put(struct model *m, const struct trace_event *ev)
{
	static const char deleted[] = " (deleted)";
	uint64_t of = ev->args[SHMT_ARG_OBJECT_OF];
	if (!of || info_of(m, of - 1))
		return;
	struct objinfo_entry *e = xcalloc(1, sizeof(*e));
	e->of = of - 1;
	e->info.kind = ev->obj;
	e->info.dev = ev->args[SHMT_ARG_OBJECT_DEV];
	e->info.ino = ev->args[SHMT_ARG_OBJECT_INODE];
	e->info.size = ev->args[SHMT_ARG_OBJECT_SIZE];
	size_t n = strnlen(ev->str, ev->str_len), d = sizeof(deleted) - 1;
	if (n >= d && memcmp(ev->str + n - d, deleted, d) == 0) {
		e->info.deleted = true;
		n -= d;
	}
	e->info.path = xstrndup(ev->str, n);
	HASH_ADD(hh, m->idx->objinfo, of, sizeof(e->of), e);
}

static struct segment *obj_find(const struct model *m, uint64_t dev, uint64_t ino)
{
	struct obj_key k = { dev, ino };
	struct obj_entry *e;
	HASH_FIND(hh, m->idx->objects, &k, sizeof(k), e);
	return e ? e->seg : NULL;
}

/* s is the object (dev, ino) from now on.  Kept while the model lives: a
 * descriptor the trace did not see (received, inherited by an untraced
 * process) can map it again after its last known holder let go. */
static void obj_identify(struct model *m, struct segment *s, uint64_t dev,
			 uint64_t ino)
{
	if (!ino)
		return;
	s->dev = dev;
	s->inode = ino;
	struct obj_key k = { dev, ino };
	struct obj_entry *e;
	HASH_FIND(hh, m->idx->objects, &k, sizeof(k), e);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		e->key = k;
		HASH_ADD(hh, m->idx->objects, key, sizeof(e->key), e);
	}
	e->seg = s;
}

/* --- the history of each segment ---------------------------------------------- */

/* The event being replayed touched s: once in its history, however many
 * of its pieces it touched. */
static void touch(struct model *m, struct segment *s)
{
	uint64_t seq = m->idx->replaying;

	if (seq == MODEL_NO_SEQ || (s->nhist && s->hist[s->nhist - 1] == seq))
		return;
	XGROW(s->hist, s->nhist, s->hist_cap, 4);	/* a churned one: 4 to 6 */
	s->hist[s->nhist++] = seq;
}

static struct model_index *index_new(void)
{
	struct model_index *idx = xcalloc(1, sizeof(*idx));

	idx->replaying = MODEL_NO_SEQ;
	return idx;
}

/* --- processes ------------------------------------------------------------------ */

struct process *model_process(const struct model *m, int32_t pid)
{
	struct pid_entry *e;
	HASH_FIND(hh, m->idx->pids, &pid, sizeof(pid), e);
	return e ? e->proc : NULL;
}

static struct process *proc_new(struct model *m, int32_t pid, uint64_t t)
{
	struct process *p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->exit_status = -1;
	p->start_ns = t;
	p->index = (unsigned)m->nprocesses;
	GROW(m->processes, m->nprocesses, m->proc_cap);
	m->processes[m->nprocesses++] = p;
	struct pid_entry *e;
	HASH_FIND(hh, m->idx->pids, &pid, sizeof(pid), e);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		e->pid = pid;
		HASH_ADD(hh, m->idx->pids, pid, sizeof(e->pid), e);
	}
	e->proc = p;	/* a reused pid names its latest process */
	return p;
}

/* The process of `pid`, made when unknown. */
static struct process *proc_get(struct model *m, int32_t pid, uint64_t t)
{
	struct process *p = model_process(m, pid);
	return p ? p : proc_new(m, pid, t);
}

/* The process that starts now as `pid` (a fork's or spawn's child, an
 * image that records its own start): a new one when the pid's last
 * process has ended, since the kernel reuses pids.  Other events of an
 * ended pid (a library's destructor after exit) stay with it. */
static struct process *proc_born(struct model *m, int32_t pid, uint64_t t)
{
	struct process *p = model_process(m, pid);
	return p && !p->ended ? p : proc_new(m, pid, t);
}

static bool starts_process(const struct trace_event *ev)
{
	return (ev->call == SHMT_CALL_EXEC && (ev->flags & SHMT_EVF_START)) ||
	       (ev->call == SHMT_CALL_FORK && (ev->flags & SHMT_EVF_CHILD));
}

/* --- segments ---------------------------------------------------------------------- */

static struct segment *seg_new(struct model *m, enum seg_kind kind,
			       const struct trace_event *ev, uint64_t t)
{
	struct segment *s = xcalloc(1, sizeof(*s));
	s->index = (unsigned)m->nsegments;
	s->kind = kind;
	s->shmid = -1;
	s->creator.pid = ev->pid;
	s->creator.seq = ev->seq;
	s->remover.seq = MODEL_NO_SEQ;
	s->created_ns = t;
	GROW(m->segments, m->nsegments, m->seg_cap);
	m->segments[m->nsegments++] = s;
	touch(m, s);
	return s;
}

static void seg_name(struct segment *s, const struct trace_event *ev)
{
	size_t n = strnlen(ev->str, ev->str_len);
	s->name = xstrndup(ev->str, n);
}

/* Gone for good: marked (or never named) and nothing holds it. */
static void maybe_destroy(struct model *m, struct segment *s, uint64_t t)
{
	if (s->destroyed || s->live_att || s->open_fds)
		return;
	if ((s->kind == SEG_SYSV || s->kind == SEG_POSIX || s->kind == SEG_SEM) &&
	    !s->marked)
		return;
	if (s->kind == SEG_FILE)	/* a file stays: its mappings end */
		return;
	s->destroyed = true;
	s->destroyed_ns = t;
	if (s->kind == SEG_SYSV)
		u64_del(&m->idx->shmids, (uint32_t)s->shmid, s);
}

/* --- attachments -------------------------------------------------------------------- */

static void bytes_changed(struct model *m, int64_t delta, uint64_t t)
{
	struct model_profile *p = &m->prof;
	p->cur_bytes += (uint64_t)delta;
	if (p->cur_bytes > p->peak_bytes) {
		p->peak_bytes = p->cur_bytes;
		p->peak_ns = t;
	}
}

struct attach_spec {
	uint64_t addr, length, origin;
	bool readonly, private_map;
	enum attach_how how;
	uint64_t attached_ns, seq;
};

static struct attachment *attach(struct model *m, struct segment *s,
				 struct process *p, const struct attach_spec *a)
{
	struct attachment *at = xcalloc(1, sizeof(*at));
	at->seg = s;
	at->proc = p;
	at->addr = a->addr;
	at->length = a->length;
	at->origin_addr = a->origin;
	at->readonly = a->readonly;
	at->private_map = a->private_map;
	at->how = a->how;
	at->attached_ns = a->attached_ns;
	at->seq = a->seq;
	at->live = true;
	XGROW(s->att, s->natt, s->att_cap, 2);	/* most have one or two */
	s->att[s->natt++] = at;
	s->live_att++;
	touch(m, s);
	GROW(p->live, p->nlive, p->live_cap);
	p->live[p->nlive++] = at;
	bytes_changed(m, (int64_t)a->length, a->attached_ns);
	return at;
}

/* From the end: detach_all() takes the last one, which keeps ending a
 * process with thousands of attachments linear. */
static void unlist(struct process *p, struct attachment *at)
{
	for (size_t i = p->nlive; i-- > 0;)
		if (p->live[i] == at) {
			p->live[i] = p->live[--p->nlive];
			return;
		}
}

static void detach(struct model *m, struct attachment *at, uint64_t t)
{
	struct model_profile *pr = &m->prof;
	uint64_t d = t >= at->attached_ns ? t - at->attached_ns : 0;
	at->live = false;
	at->detached_ns = t;
	unlist(at->proc, at);
	at->proc->last_ended[at->proc->last_ended_at++ % 8] = at;
	at->seg->live_att--;
	touch(m, at->seg);
	bytes_changed(m, -(int64_t)at->length, t);
	if (!pr->attach_count || d < pr->attach_min_ns)
		pr->attach_min_ns = d;
	if (d > pr->attach_max_ns)
		pr->attach_max_ns = d;
	pr->attach_total_ns += d;
	pr->attach_count++;
	maybe_destroy(m, at->seg, t);
}

static void detach_all(struct model *m, struct process *p, uint64_t t)
{
	while (p->nlive)
		detach(m, p->live[p->nlive - 1], t);
}

/* Unmaps [lo, hi) from p: attachments inside it end, those across an end
 * are trimmed, one spanning it is split in two (two mappings, as the
 * kernel sees it). */
static void cut_range(struct model *m, struct process *p, uint64_t lo,
		      uint64_t hi, uint64_t t)
{
	for (size_t i = 0; i < p->nlive;) {
		struct attachment *at = p->live[i];
		uint64_t a = at->addr, b = at->addr + at->length;
		if (b <= lo || a >= hi) {
			i++;
			continue;
		}
		if (a >= lo && b <= hi) {
			detach(m, at, t);	/* reorders p->live: recheck i */
			continue;
		}
		touch(m, at->seg);
		if (a < lo && b > hi) {
			struct attach_spec right = {
				hi, b - hi, at->origin_addr, at->readonly,
				at->private_map, at->how, at->attached_ns, at->seq };
			at->length = lo - a;
			bytes_changed(m, -(int64_t)(b - lo), t);
			attach(m, at->seg, p, &right);
		} else if (a < lo) {
			at->length = lo - a;
			bytes_changed(m, -(int64_t)(b - lo), t);
		} else {
			at->addr = hi;
			at->length = b - hi;
			bytes_changed(m, -(int64_t)(hi - a), t);
		}
		i++;
	}
}

static uint64_t page_round(uint64_t n)
{
	return (n + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

/* --- descriptors held on POSIX objects and memfds --------------------------------- */

static void fd_hold(struct process *p, struct segment *s, bool cloexec)
{
	for (size_t i = 0; i < p->nfds; i++)
		if (p->fds[i].seg == s) {
			p->fds[i].count++;
			s->open_fds++;
			return;
		}
	GROW(p->fds, p->nfds, p->fds_cap);
	p->fds[p->nfds++] = (struct fd_hold){ s, 1, cloexec };
	s->open_fds++;
}

static void fd_release(struct model *m, struct process *p, size_t i, unsigned n,
		       uint64_t t)
{
	struct segment *s = p->fds[i].seg;
	if (n > p->fds[i].count)
		n = p->fds[i].count;
	p->fds[i].count -= n;
	s->open_fds -= n;
	if (!p->fds[i].count)
		p->fds[i] = p->fds[--p->nfds];
	maybe_destroy(m, s, t);
}

static void fd_close(struct model *m, struct process *p, struct segment *s,
		     uint64_t t)
{
	for (size_t i = 0; i < p->nfds; i++)
		if (p->fds[i].seg == s) {
			fd_release(m, p, i, 1, t);
			return;
		}
}

/* exit drops every descriptor; exec only the close-on-exec ones */
static void fd_drop_all(struct model *m, struct process *p, bool only_cloexec,
			uint64_t t)
{
	for (size_t i = p->nfds; i-- > 0;)
		if (!only_cloexec || p->fds[i].cloexec)
			fd_release(m, p, i, p->fds[i].count, t);
}

/* --- process events ------------------------------------------------------------------- */

static void proc_end(struct model *m, struct process *p, uint64_t t)
{
	if (p->ended)
		return;
	p->ended = true;
	p->end_ns = t;
	detach_all(m, p, t);
	fd_drop_all(m, p, false, t);
}

/* A fork: the child inherits the parent's attachments and descriptors. */
static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static void do_fork(struct model *m, struct process *parent, int32_t child_pid,
		    uint64_t t, uint64_t seq)
{
	if (child_pid == parent->pid)
		return;		/* corrupt: a process is not its own child */
	struct process *c = proc_born(m, child_pid, t);
	if (c->ppid)
		return;		/* already known: two records of one fork */
	c->ppid = parent->pid;
	c->start_ns = t;
	free(c->exe);
	c->exe = parent->exe ? xstrdup(parent->exe) : NULL;
	free_argv(c->argv);	/* a start the trace had already given it */
	c->argv = NULL;
	if (parent->argv) {
		size_t n = 0;
		while (parent->argv[n])
			n++;
		c->argv = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			c->argv[i] = xstrdup(parent->argv[i]);
	}
	size_t n = parent->nlive;
	for (size_t i = 0; i < n; i++) {
		struct attachment *a = parent->live[i];
		struct attach_spec s = { a->addr, a->length, a->origin_addr,
					 a->readonly, a->private_map, ATTACH_FORK,
					 t, seq };
		attach(m, a->seg, c, &s);
	}
	for (size_t i = 0; i < parent->nfds; i++)
		for (unsigned k = 0; k < parent->fds[i].count; k++)
			fd_hold(c, parent->fds[i].seg, parent->fds[i].cloexec);
}

/* A new image: path and argv from the exec record; an image replacing
 * another (or a fork child's copy) drops its mappings. */
static void do_exec_start(struct model *m, struct process *p,
			  const struct trace_event *ev, uint64_t t)
{
	if (p->exe || p->ppid) {
		detach_all(m, p, t);
		fd_drop_all(m, p, true, t);
	}
	if (!p->ppid)
		p->ppid = (int32_t)ev->args[SHMT_ARG_EXEC_PPID];
	if (!p->exe)
		p->start_ns = t;
	free(p->exe);
	free_argv(p->argv);
	struct decode_strings it;
	struct decode_piece piece;
	decode_strings_begin(&it, ev);
	decode_strings_first(&it, &piece);
	p->exe = xstrndup(piece.s, piece.len);
	size_t n = 0, cap = 0;
	p->argv = NULL;
	while (decode_strings_next(&it, &piece)) {
		GROW(p->argv, n, cap);
		p->argv[n++] = xstrndup(piece.s, piece.len);
	}
	GROW(p->argv, n, cap);
	p->argv[n] = NULL;
}

static void do_wait(struct model *m, const struct trace_event *ev, uint64_t t)
{
	int st = (int)(uint32_t)ev->args[SHMT_ARG_WAIT_STATUS];
	struct process *c = model_process(m, (int32_t)ev->args[SHMT_ARG_WAIT_PID]);
	if (!c || !(WIFEXITED(st) || WIFSIGNALED(st)))
		return;
	if (WIFSIGNALED(st))
		c->signal = WTERMSIG(st);
	else if (c->exit_status < 0)
		c->exit_status = WEXITSTATUS(st);
	proc_end(m, c, t);
}

/* --- SysV ---------------------------------------------------------------------------------- */

static struct segment *sysv_seg(struct model *m, int32_t shmid,
				const struct trace_event *ev, uint64_t t)
{
	struct u64_entry *e = u64_find(m->idx->shmids, (uint32_t)shmid);
	if (e)
		return e->seg;
	struct segment *s = seg_new(m, SEG_SYSV, ev, t);
	s->shmid = shmid;
	s->notes |= SEG_NOTE_PREEXISTING;
	u64_put(&m->idx->shmids, (uint32_t)shmid, s);
	return s;
}

static void do_shmget(struct model *m, const struct trace_event *ev, uint64_t t)
{
	int32_t shmid = (int32_t)ev->ret;
	struct u64_entry *e = u64_find(m->idx->shmids, (uint32_t)shmid);
	if (ev->flags & SHMT_EVF_CREATED) {
		if (e) {	/* the id came back: the old one went unseen */
			e->seg->notes |= SEG_NOTE_REMOVED_OUTSIDE;
			touch(m, e->seg);
		}
		struct segment *s = seg_new(m, SEG_SYSV, ev, t);
		s->shmid = shmid;
		s->key = (uint32_t)ev->args[SHMT_ARG_SHMGET_KEY];
		s->size = ev->args[SHMT_ARG_SHMGET_SIZE];
		s->created = true;
		u64_put(&m->idx->shmids, (uint32_t)shmid, s);
		return;
	}
	struct segment *s = sysv_seg(m, shmid, ev, t);
	s->key = (uint32_t)ev->args[SHMT_ARG_SHMGET_KEY];
	touch(m, s);
}

static void do_shmat(struct model *m, struct process *p,
		     const struct trace_event *ev, uint64_t t)
{
	struct segment *s = sysv_seg(m, (int32_t)ev->args[SHMT_ARG_SHMAT_SHMID], ev, t);
	if (ev->args[SHMT_ARG_SHMAT_SEGSZ])
		s->size = ev->args[SHMT_ARG_SHMAT_SEGSZ];
	uint64_t addr = (uint64_t)ev->ret, len = page_round(s->size);
	if (ev->args[SHMT_ARG_SHMAT_FLAGS] & SHM_REMAP)
		cut_range(m, p, addr, addr + len, t);
	struct attach_spec a = { addr, len, addr,
				 (ev->args[SHMT_ARG_SHMAT_FLAGS] & SHM_RDONLY) != 0,
				 false, ATTACH_SHMAT, t, ev->seq };
	attach(m, s, p, &a);
}

/* shmdt: every live SysV piece of the attach made at that address */
static void do_shmdt(struct model *m, struct process *p,
		     const struct trace_event *ev, uint64_t t)
{
	for (size_t i = 0; i < p->nlive;) {
		struct attachment *a = p->live[i];
		if (a->seg->kind == SEG_SYSV && a->origin_addr == ev->args[SHMT_ARG_SHMDT_ADDR])
			detach(m, a, t);
		else
			i++;
	}
}

static int shmctl_cmd(const struct trace_event *ev)
{
	return (int)(ev->args[SHMT_ARG_SHMCTL_CMD] & ~0x100u);	/* IPC_64 */
}

/* Whether shmctl's first argument is a shmid (SHM_STAT's is an index,
 * the INFO commands ignore it). */
static bool names_shmid(int cmd)
{
	return cmd != IPC_INFO && cmd != SHM_INFO && cmd != SHM_STAT &&
	       cmd != SHM_STAT_ANY;
}

/* The SysV segment a call names by its first argument, if the model has
 * it (none is made up for a call that changes nothing). */
static struct segment *named_sysv(struct model *m, const struct trace_event *ev)
{
	struct u64_entry *e = u64_find(m->idx->shmids, (uint32_t)ev->args[SHMT_ARG_SHMID]);
	return e ? e->seg : NULL;
}

static void do_shmctl(struct model *m, const struct trace_event *ev, uint64_t t)
{
	int cmd = shmctl_cmd(ev);
	if (cmd == IPC_RMID) {
		struct segment *s = sysv_seg(m, (int32_t)ev->args[SHMT_ARG_SHMCTL_SHMID], ev, t);
		touch(m, s);
		if (!s->marked) {
			s->marked = true;
			s->marked_ns = t;
			s->remover.pid = ev->pid;
			s->remover.seq = ev->seq;
		}
		maybe_destroy(m, s, t);
	} else if (ev->flags & SHMT_EVF_STAT) {
		int32_t id = cmd == IPC_STAT ?
			(int32_t)ev->args[SHMT_ARG_SHMCTL_SHMID] : (int32_t)ev->ret;
		struct segment *s = sysv_seg(m, id, ev, t);
		s->key = (uint32_t)ev->args[SHMT_ARG_SHMCTL_KEY];
		s->size = ev->args[SHMT_ARG_SHMCTL_SEGSZ];
		touch(m, s);
	} else if (names_shmid(cmd)) {
		struct segment *s = named_sysv(m, ev);
		if (s)
			touch(m, s);
	}
}

/* --- POSIX, memfd ------------------------------------------------------------------------------ */

static void do_shm_open(struct model *m, struct process *p,
			const struct trace_event *ev, uint64_t t)
{
	char *name = xstrndup(ev->str, strnlen(ev->str, ev->str_len));
	struct segment *s = name_find(m, name);
	uint64_t inode = ev->args[SHMT_ARG_SHM_OPEN_INODE];
	bool replaced = s && s->inode && inode && s->inode != inode;
	if ((ev->flags & SHMT_EVF_CREATED) || !s || replaced) {
		if (s) {	/* unlinked (and made again) unseen */
			touch(m, s);
			s->notes |= SEG_NOTE_REMOVED_OUTSIDE;
			name_drop(m, s);
			s->marked = true;
			maybe_destroy(m, s, t);
		}
		s = seg_new(m, SEG_POSIX, ev, t);
		s->name = name;
		s->inode = inode;
		name = NULL;
		s->created = ev->flags & SHMT_EVF_CREATED;
		if (!s->created)
			s->notes |= SEG_NOTE_PREEXISTING;
		name_set(m, s);
	}
	free(name);
	const struct objinfo *o = info_of(m, ev->seq);
	if (o && o->ino) {	/* a mapping by path or a passed descriptor joins */
		obj_identify(m, s, o->dev, o->ino);
		if (!s->inode)
			s->inode = o->ino;
	}
	touch(m, s);
	u64_put(&m->idx->origins, ev->seq, s);
	fd_hold(p, s, true);	/* shm_open sets O_CLOEXEC */
}

static void do_shm_unlink(struct model *m, const struct trace_event *ev, uint64_t t)
{
	char *name = xstrndup(ev->str, strnlen(ev->str, ev->str_len));
	struct segment *s = name_find(m, name);
	if (!s) {	/* an object made before the trace */
		s = seg_new(m, SEG_POSIX, ev, t);
		s->name = name;
		name = NULL;
		s->notes |= SEG_NOTE_PREEXISTING;
	}
	free(name);
	touch(m, s);
	name_drop(m, s);
	s->marked = true;
	s->marked_ns = t;
	s->remover.pid = ev->pid;
	s->remover.seq = ev->seq;
	maybe_destroy(m, s, t);
}

static void do_memfd(struct model *m, struct process *p,
		     const struct trace_event *ev, uint64_t t)
{
	struct segment *s = seg_new(m, SEG_MEMFD, ev, t);
	seg_name(s, ev);
	s->inode = ev->args[SHMT_ARG_MEMFD_INODE];
	const struct objinfo *o = info_of(m, ev->seq);
	if (o)
		obj_identify(m, s, o->dev, o->ino);
	s->created = true;
	u64_put(&m->idx->origins, ev->seq, s);
	fd_hold(p, s, ev->args[SHMT_ARG_MEMFD_FLAGS] & 1u /* MFD_CLOEXEC */);
}

/* The object an event's descriptor came from (SHMT_ARG_ORIGIN: origin
 * seq + 1), which the event touches. */
static struct segment *origin_seg(struct model *m, const struct trace_event *ev)
{
	struct u64_entry *e = ev->args[SHMT_ARG_ORIGIN] ?
		u64_find(m->idx->origins, ev->args[SHMT_ARG_ORIGIN] - 1) : NULL;
	if (e)
		touch(m, e->seg);
	return e ? e->seg : NULL;
}

static void do_ftruncate(struct model *m, const struct trace_event *ev)
{
	struct segment *s = origin_seg(m, ev);
	if (s)
		s->size = ev->args[SHMT_ARG_FTRUNCATE_LENGTH];
}

static void do_close(struct model *m, struct process *p,
		     const struct trace_event *ev, uint64_t t)
{
	struct segment *s = origin_seg(m, ev);
	if (s)
		fd_close(m, p, s, t);
}

/* --- objects named by an object record ------------------------------------------------------ */

/* The latest segment of `kind` called `name` that may be inode `ino`
 * (its inode unknown or that one): a POSIX object or semaphore a
 * descriptor opened by path, dup'ed or passed on leads back to. */
static struct segment *named_object(struct model *m, enum seg_kind kind,
				    const char *name, uint64_t ino)
{
	struct segment *s = kind == SEG_POSIX ? name_find(m, name) : NULL;
	if (s && (!s->inode || s->inode == ino))
		return s;
	for (size_t i = m->nsegments; i-- > 0;) {
		s = m->segments[i];
		if (s->kind == kind && s->name && strcmp(s->name, name) == 0 &&
		    (!s->inode || s->inode == ino))
			return s;
	}
	return NULL;
}

/* A segment the trace did not see made, for the object o names. */
static struct segment *found_object(struct model *m, const struct objinfo *o,
				    const struct trace_event *ev, uint64_t t)
{
	struct segment *s;
	const char *p = o->path;
	switch (o->kind) {
	case SHMT_OBJ_MEMFD:	/* "/memfd:NAME" */
		s = seg_new(m, SEG_MEMFD, ev, t);
		s->name = xstrdup(p + strlen("/memfd:"));
		s->marked = true;	/* nameless: nothing to unlink */
		break;
	case SHMT_OBJ_POSIX:	/* "/dev/shm/NAME" */
	case SHMT_OBJ_SEM: {	/* "/dev/shm/sem.NAME" */
		enum seg_kind kind = o->kind == SHMT_OBJ_SEM ? SEG_SEM : SEG_POSIX;
		char *name = xmalloc(strlen(p) + 2);
		name[0] = '/';
		strcpy(name + 1, p + strlen(kind == SEG_SEM ? "/dev/shm/sem." : "/dev/shm/"));
		s = named_object(m, kind, name, o->ino);
		if (s) {
			free(name);
			return s;
		}
		s = seg_new(m, kind, ev, t);
		s->name = name;
		if (o->deleted)
			s->marked = true;
		else if (kind == SEG_POSIX)
			name_set(m, s);
		break;
	}
	default:		/* a file, or a device that maps: its making is
				   no call the trace is about */
		s = seg_new(m, SEG_FILE, ev, t);
		if (*p)
			s->name = xstrdup(p);
		return s;
	}
	s->notes |= SEG_NOTE_PREEXISTING;
	return s;
}

/* The segment of the object o describes, found by identity (or by name,
 * for a /dev/shm object the trace knows no inode of), made when new.  A
 * segment the model had destroyed lives on: a descriptor the trace did
 * not see held it. */
static struct segment *object_seg(struct model *m, const struct objinfo *o,
				  const struct trace_event *ev, uint64_t t)
{
	struct segment *s = o->ino ? obj_find(m, o->dev, o->ino) : NULL;
	/* a file's inode, freed by an unlink, names another file now: a new
	 * object (the shim names an object again when its change time moved) */
	if (s && s->kind == SEG_FILE && o->kind == SHMT_OBJ_FILE && o->path &&
	    o->path[0] && s->name && strcmp(s->name, o->path) != 0)
		s = NULL;
	if (!s)
		s = found_object(m, o, ev, t);
	if (s->destroyed && s->kind != SEG_SYSV) {
		s->destroyed = false;
		if (s->kind == SEG_POSIX && !s->marked)
			name_set(m, s);
	}
	obj_identify(m, s, o->dev, o->ino);
	if (o->size && (s->kind == SEG_FILE || !s->size))
		s->size = o->size;
	if (o->deleted && s->kind == SEG_FILE)
		s->notes |= SEG_NOTE_FILE_UNLINKED;
	touch(m, s);
	return s;
}

/* --- descriptors passed over sockets ------------------------------------------------------------ */

static void do_fd_send(struct model *m, struct process *p,
		       const struct trace_event *ev, uint64_t t)
{
	const struct objinfo *o = info_of(m, ev->seq);
	if (!o || !o->ino || ev->obj == SHMT_OBJ_SOCKET || ev->obj == SHMT_OBJ_PIPE)
		return;
	struct segment *s = object_seg(m, o, ev, t);
	XGROW(s->xfers, s->nxfers, s->xfer_cap, 4);
	s->xfers[s->nxfers++] = (struct transfer){ p->pid, 0, t, 0 };
}

/* The sender is the first process whose send of this object is not
 * received yet; the socket's peer when the trace saw no send. */
static void do_fd_recv(struct model *m, struct process *p,
		       const struct trace_event *ev, uint64_t t)
{
	const struct objinfo *o = info_of(m, ev->seq);
	if (!o || !o->ino || ev->obj == SHMT_OBJ_SOCKET || ev->obj == SHMT_OBJ_PIPE)
		return;
	struct segment *s = object_seg(m, o, ev, t);
	int32_t from = 0;
	for (size_t i = 0; i < s->nxfers && !from; i++)
		if (!s->xfers[i].to && s->xfers[i].from != p->pid) {
			s->xfers[i].to = p->pid;
			s->xfers[i].received_ns = t;
			from = s->xfers[i].from;
		}
	if (!from) {
		from = (int32_t)ev->args[SHMT_ARG_FD_PEER];
		if (from == p->pid)
			from = 0;
		XGROW(s->xfers, s->nxfers, s->xfer_cap, 4);
		s->xfers[s->nxfers++] = (struct transfer){ from, p->pid, t, t };
	}
	XGROW(p->recvd, p->nrecvd, p->recvd_cap, 4);
	p->recvd[p->nrecvd++] = (struct received){ s, from };
}

/* The pid p received s from, 0 when it did not. */
static int32_t received_from(const struct process *p, const struct segment *s)
{
	for (size_t i = p->nrecvd; i-- > 0;)
		if (p->recvd[i].seg == s)
			return p->recvd[i].from ? p->recvd[i].from : -1;
	return 0;
}

/* --- named semaphores ------------------------------------------------------------------------------ */

static void do_sem_open(struct model *m, struct process *p,
			const struct trace_event *ev, uint64_t t)
{
	const struct objinfo *o = info_of(m, ev->seq);
	uint64_t addr = (uint64_t)ev->ret;
	struct segment *s = o && o->ino ? obj_find(m, o->dev, o->ino) : NULL;
	if (!s || (ev->flags & SHMT_EVF_CREATED)) {
		s = seg_new(m, SEG_SEM, ev, t);
		seg_name(s, ev);
		s->created = ev->flags & SHMT_EVF_CREATED;
		if (!s->created)
			s->notes |= SEG_NOTE_PREEXISTING;
	}
	if (o)
		obj_identify(m, s, o->dev, o->ino);
	if (!s->size)
		s->size = o && o->size ? o->size : 32;	/* sizeof(sem_t) */
	touch(m, s);
	for (size_t i = 0; i < p->nlive; i++)	/* glibc maps it once */
		if (p->live[i]->seg == s && p->live[i]->addr == addr)
			return;
	struct attach_spec a = { addr, PAGE, addr, false, false, ATTACH_MMAP, t,
				 ev->seq };
	attach(m, s, p, &a);
}

static void do_sem_close(struct model *m, struct process *p,
			 const struct trace_event *ev, uint64_t t)
{
	uint64_t addr = ev->args[SHMT_ARG_SEM_CLOSE_ADDR];
	for (size_t i = 0; i < p->nlive; i++)
		if (p->live[i]->seg->kind == SEG_SEM && p->live[i]->addr == addr) {
			detach(m, p->live[i], t);
			return;
		}
}

static void do_sem_unlink(struct model *m, const struct trace_event *ev, uint64_t t)
{
	char *name = xstrndup(ev->str, strnlen(ev->str, ev->str_len));
	struct segment *s = NULL;
	for (size_t i = m->nsegments; i-- > 0 && !s;)
		if (m->segments[i]->kind == SEG_SEM && !m->segments[i]->marked &&
		    strcmp(m->segments[i]->name, name) == 0)
			s = m->segments[i];
	if (!s) {	/* one made before the trace */
		s = seg_new(m, SEG_SEM, ev, t);
		s->name = name;
		name = NULL;
		s->notes |= SEG_NOTE_PREEXISTING;
	}
	free(name);
	touch(m, s);
	s->marked = true;
	s->marked_ns = t;
	s->remover.pid = ev->pid;
	s->remover.seq = ev->seq;
	maybe_destroy(m, s, t);
}

/* --- mappings seen in /proc only -------------------------------------------------------------- */

/* A shared mapping the launcher found in /proc/PID/maps: kept when no
 * live attachment of the process explains it, as an attachment without a
 * call to the object the maps line names: a SysV segment by its shmid
 * ("/SYSV%08x", the inode), an anonymous one by its inode ("/dev/zero
 * (deleted)"), anything else as an object record would name it. */
static void do_proc_seen(struct model *m, struct process *p,
			 const struct trace_event *ev, uint64_t t)
{
	uint64_t addr = ev->args[SHMT_ARG_PROC_SEEN_ADDR];
	uint64_t len = ev->args[SHMT_ARG_PROC_SEEN_LENGTH];
	/* The launcher read the maps from t - duration to t (replayed at the
	 * read's end): a traced mapping live at any moment of the read
	 * explains it, even one unmapped before the read ended. */
	uint64_t from = t > ev->duration_ns ? t - ev->duration_ns : 0;
	for (size_t i = 0; i < p->nlive; i++)
		if (p->live[i]->addr <= addr &&
		    addr < p->live[i]->addr + p->live[i]->length)
			return;
	for (unsigned i = 0; i < 8; i++) {
		const struct attachment *a = p->last_ended[i];
		if (a && a->detached_ns >= from && a->addr <= addr &&
		    addr < a->addr + a->length)
			return;
	}
	struct objinfo o = { SHMT_OBJ_FILE, ev->args[SHMT_ARG_PROC_SEEN_DEV],
			     ev->args[SHMT_ARG_PROC_SEEN_INODE], 0, NULL, false };
	static const char deleted[] = " (deleted)";
	size_t n = strnlen(ev->str, ev->str_len), d = sizeof(deleted) - 1;
	if (n >= d && memcmp(ev->str + n - d, deleted, d) == 0) {
		o.deleted = true;
		n -= d;
	}
	o.path = xstrndup(ev->str, n);
	struct segment *s = NULL;
	bool before = ev->args[SHMT_ARG_PROC_SEEN_BEFORE] != 0; /* shmtrace -p */
	if (strncmp(o.path, "/SYSV", 5) == 0) {
		struct u64_entry *e = u64_find(m->idx->shmids, (uint32_t)o.ino);
		s = e ? e->seg : sysv_seg(m, (int32_t)o.ino, ev, t);
		if (before && !e) {
			s->key = (uint32_t)ev->args[SHMT_ARG_PROC_SEEN_KEY];
			s->size = len;
		}
	} else if (strcmp(o.path, "/dev/zero") == 0 && o.deleted) {
		s = o.ino ? obj_find(m, o.dev, o.ino) : NULL;
		if (!s) {
			s = seg_new(m, SEG_ANON, ev, t);
			s->size = len;
			obj_identify(m, s, o.dev, o.ino);
		}
	} else {
		if (strncmp(o.path, "/memfd:", 7) == 0)
			o.kind = SHMT_OBJ_MEMFD;
		else if (strncmp(o.path, "/dev/shm/sem.", 13) == 0)
			o.kind = SHMT_OBJ_SEM;
		else if (strncmp(o.path, "/dev/shm/", 9) == 0)
			o.kind = SHMT_OBJ_POSIX;
		s = object_seg(m, &o, ev, t);
	}
	free(o.path);
	/* seeded at an attach: made before the trace, not a blind spot */
	s->notes |= before ? SEG_NOTE_PREEXISTING : SEG_NOTE_SEEN_IN_PROC;
	struct attach_spec a = { addr, len, addr,
				 !(ev->args[SHMT_ARG_PROC_SEEN_PROT] & PROT_WRITE), false,
				 ATTACH_MMAP, t, ev->seq };
	attach(m, s, p, &a)->proc_only = !before;
}

/* --- mappings ---------------------------------------------------------------------------------- */

/* The segment a successful mmap maps, or NULL for one that maps none (a
 * private mapping recorded because it replaced a shared one). */
static struct segment *mmap_seg(struct model *m, const struct trace_event *ev,
				uint64_t t)
{
	bool shared = ev->args[SHMT_ARG_MMAP_FLAGS] & MAP_SHARED;
	struct segment *s;
	switch (ev->obj) {
	case SHMT_OBJ_ANON:
		s = seg_new(m, SEG_ANON, ev, t);
		break;
	case SHMT_OBJ_DEVZERO:
		if (!shared)
			return NULL;
		s = seg_new(m, SEG_DEVZERO, ev, t);
		break;
	case SHMT_OBJ_POSIX:
	case SHMT_OBJ_MEMFD:
		s = origin_seg(m, ev);
		if (s)
			return s;
		s = seg_new(m, ev->obj == SHMT_OBJ_POSIX ? SEG_POSIX : SEG_MEMFD, ev, t);
		s->notes |= SEG_NOTE_UNKNOWN_ORIGIN;
		s->marked = true;	/* nameless: nothing to unlink */
		return s;
	case SHMT_OBJ_FILE:
	case SHMT_OBJ_OTHER:
		if (!shared)
			return NULL;
		if (info_of(m, ev->seq))	/* what the object record names */
			return object_seg(m, info_of(m, ev->seq), ev, t);
		if (ev->args[SHMT_ARG_MMAP_INODE]) {
			struct u64_entry *e =
				u64_find(m->idx->inodes, ev->args[SHMT_ARG_MMAP_INODE]);
			if (e)
				return e->seg;
		}
		s = seg_new(m, SEG_FILE, ev, t);
		s->inode = ev->args[SHMT_ARG_MMAP_INODE];
		if (s->inode)
			u64_put(&m->idx->inodes, s->inode, s);
		return s;
	default:
		return NULL;
	}
	s->created = true;
	s->size = ev->args[SHMT_ARG_MMAP_LENGTH];
	return s;
}

static void do_mmap(struct model *m, struct process *p,
		    const struct trace_event *ev, uint64_t t)
{
	uint64_t addr = (uint64_t)ev->ret, len = page_round(ev->args[SHMT_ARG_MMAP_LENGTH]);
	if (ev->args[SHMT_ARG_MMAP_FLAGS] & (MAP_FIXED | MAP_FIXED_NOREPLACE))
		cut_range(m, p, addr, addr + len, t);
	struct segment *s = mmap_seg(m, ev, t);
	if (!s)
		return;
	struct attach_spec a = { addr, len, addr, !(ev->args[SHMT_ARG_MMAP_PROT] & PROT_WRITE),
				 !(ev->args[SHMT_ARG_MMAP_FLAGS] & MAP_SHARED), ATTACH_MMAP, t,
				 ev->seq };
	attach(m, s, p, &a)->received_from = received_from(p, s);
}

static void do_munmap(struct model *m, struct process *p,
		      const struct trace_event *ev, uint64_t t)
{
	uint64_t addr = ev->args[SHMT_ARG_MUNMAP_ADDR];
	cut_range(m, p, addr, addr + page_round(ev->args[SHMT_ARG_MUNMAP_LENGTH]), t);
}

/* mremap moves (or resizes) the attachment holding old_address; whatever
 * else the old range held is unmapped. */
static void do_mremap(struct model *m, struct process *p,
		      const struct trace_event *ev, uint64_t t)
{
	uint64_t old = ev->args[SHMT_ARG_MREMAP_OLD_ADDR];
	uint64_t old_end = old + page_round(ev->args[SHMT_ARG_MREMAP_OLD_SIZE]);
	struct attachment *moved = NULL;
	for (size_t i = 0; i < p->nlive; i++) {
		struct attachment *a = p->live[i];
		if (old >= a->addr && old < a->addr + a->length) {
			moved = a;
			break;
		}
	}
	if (!moved) {
		cut_range(m, p, old, old_end, t);
		return;
	}
	unlist(p, moved);	/* keep it out of the cut */
	cut_range(m, p, old, old_end, t);
	GROW(p->live, p->nlive, p->live_cap);
	p->live[p->nlive++] = moved;
	touch(m, moved->seg);
	uint64_t len = page_round(ev->args[SHMT_ARG_MREMAP_NEW_SIZE]);
	bytes_changed(m, (int64_t)len - (int64_t)moved->length, t);
	moved->addr = (uint64_t)ev->ret;
	moved->length = len;
	moved->origin_addr = moved->addr;
}

/* --- replay ---------------------------------------------------------------------------------------- */

static bool is_reaper(const struct trace_event *ev)
{
	return ev->call == SHMT_CALL_WAIT && ev->args[SHMT_ARG_WAIT_VARIANT] == SHMT_WAIT_REAPER;
}

static void profile(struct model *m, const struct trace_event *ev,
		    const struct decode_view *v)
{
	struct model_call_stats *c = &m->prof.by_call[ev->call];
	c->calls++;
	c->total_ns += ev->duration_ns;
	if (v->failed) {
		c->failed++;
		if (v->errnum > 0 && v->errnum < 256)
			m->prof.by_errno[v->errnum]++;
	}
}

/* The live attachments of p that [lo, hi) meets. */
static void touch_range(struct model *m, struct process *p, uint64_t lo,
			uint64_t hi)
{
	for (size_t i = 0; i < p->nlive; i++)
		if (p->live[i]->addr < hi &&
		    p->live[i]->addr + p->live[i]->length > lo)
			touch(m, p->live[i]->seg);
}

/* A failed call changes nothing, but it belongs to the history of the
 * segment it named: by id, by name, by descriptor or by address. */
static void touch_failed(struct model *m, struct process *p,
			 const struct trace_event *ev)
{
	struct segment *s = NULL;

	switch (ev->call) {
	case SHMT_CALL_SHMAT:
		s = named_sysv(m, ev);
		break;
	case SHMT_CALL_SHMCTL:
		if (names_shmid(shmctl_cmd(ev)))
			s = named_sysv(m, ev);
		break;
	case SHMT_CALL_SHM_OPEN:
	case SHMT_CALL_SHM_UNLINK: {
		char *name = xstrndup(ev->str, strnlen(ev->str, ev->str_len));
		s = name_find(m, name);
		free(name);
		break;
	}
	case SHMT_CALL_FTRUNCATE:
	case SHMT_CALL_CLOSE:
	case SHMT_CALL_MMAP:
		origin_seg(m, ev);	/* touches it */
		break;
	case SHMT_CALL_SHMDT:
		for (size_t i = 0; i < p->nlive; i++)
			if (p->live[i]->seg->kind == SEG_SYSV &&
			    p->live[i]->origin_addr == ev->args[SHMT_ARG_SHMDT_ADDR])
				touch(m, p->live[i]->seg);
		break;
	case SHMT_CALL_MUNMAP:
	case SHMT_CALL_MREMAP:
		touch_range(m, p, ev->args[SHMT_ARG_ADDR],
			    ev->args[SHMT_ARG_ADDR] +
			    page_round(ev->args[SHMT_ARG_LENGTH] ?
				       ev->args[SHMT_ARG_LENGTH] : 1));
		break;
	default:
		break;
	}
	if (s)
		touch(m, s);
}

/* Applies one event.  Failed calls only count in the profile (and in the
 * history of the segment they named). */
static void replay(struct model *m, const struct trace_event *ev)
{
	uint64_t t = (uint64_t)trace_event_reltime(m->trace, ev);
	struct decode_view v;
	if (decode_is_record(ev->call) || ev->call == SHMT_CALL_OBJECT)
		return;
	if (is_reaper(ev)) {	/* the launcher's, not the program's */
		do_wait(m, ev, t);
		return;
	}
	if (ev->call == SHMT_CALL_PROC_SEEN) {	/* the launcher's, no call */
		struct process *q = proc_get(m, ev->pid, t);
		if (!q->ended)	/* at the read's end: see do_proc_seen */
			do_proc_seen(m, q, ev, t + ev->duration_ns);
		return;
	}
	decode_event(ev, &v);
	profile(m, ev, &v);
	struct process *p = starts_process(ev) ? proc_born(m, ev->pid, t) :
					       proc_get(m, ev->pid, t);
	p->traced = true;
	if (v.failed) {
		touch_failed(m, p, ev);
		return;
	}
	switch (ev->call) {
	case SHMT_CALL_SHMGET:       do_shmget(m, ev, t); break;
	case SHMT_CALL_SHMAT:        do_shmat(m, p, ev, t); break;
	case SHMT_CALL_SHMDT:        do_shmdt(m, p, ev, t); break;
	case SHMT_CALL_SHMCTL:       do_shmctl(m, ev, t); break;
	case SHMT_CALL_MMAP:         do_mmap(m, p, ev, t); break;
	case SHMT_CALL_MUNMAP:       do_munmap(m, p, ev, t); break;
	case SHMT_CALL_MREMAP:       do_mremap(m, p, ev, t); break;
	case SHMT_CALL_SHM_OPEN:     do_shm_open(m, p, ev, t); break;
	case SHMT_CALL_SHM_UNLINK:   do_shm_unlink(m, ev, t); break;
	case SHMT_CALL_MEMFD_CREATE: do_memfd(m, p, ev, t); break;
	case SHMT_CALL_FTRUNCATE:    do_ftruncate(m, ev); break;
	case SHMT_CALL_CLOSE:        do_close(m, p, ev, t); break;
	case SHMT_CALL_SEM_OPEN:     do_sem_open(m, p, ev, t); break;
	case SHMT_CALL_SEM_CLOSE:    do_sem_close(m, p, ev, t); break;
	case SHMT_CALL_SEM_UNLINK:   do_sem_unlink(m, ev, t); break;
	case SHMT_CALL_FD_SEND:      do_fd_send(m, p, ev, t); break;
	case SHMT_CALL_FD_RECV:      do_fd_recv(m, p, ev, t); break;
	case SHMT_CALL_FORK:
		if (ev->flags & SHMT_EVF_CHILD) {
			struct process *parent =
				proc_get(m, (int32_t)ev->args[SHMT_ARG_FORK_PPID], t);
			do_fork(m, parent, p->pid, t, ev->seq);
		} else if (ev->ret > 0) {
			do_fork(m, p, (int32_t)ev->ret, t, ev->seq);
		}
		break;
	case SHMT_CALL_VFORK:
	case SHMT_CALL_POSIX_SPAWN: {
		int32_t child = ev->call == SHMT_CALL_VFORK ? (int32_t)ev->ret :
			(int32_t)ev->args[SHMT_ARG_SPAWN_PID];
		struct process *c = child > 0 && child != p->pid ?
			proc_born(m, child, t) : NULL;
		if (c && !c->ppid)
			c->ppid = p->pid;
		break;
	}
	case SHMT_CALL_EXEC:
		if (ev->flags & SHMT_EVF_START)
			do_exec_start(m, p, ev, t);
		break;
	case SHMT_CALL_EXIT:
		if (p->exit_status < 0)
			p->exit_status = (int)(ev->args[SHMT_ARG_EXIT_STATUS] & 0xff);
		p->exit_seen = true;
		proc_end(m, p, t);
		break;
	case SHMT_CALL_WAIT:
		do_wait(m, ev, t);
		break;
	default:
		break;
	}
}

/* When an event took effect, for ordering: a call's start, a wait's end. */
struct order {
	uint64_t when, seq;
};

static int order_cmp(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Calls that take effect when they return, not when they are entered:
 * a wait (it blocked until the child ended), a receive (it blocked until
 * the sender sent), the launcher's /proc read (see do_proc_seen). */
static bool takes_effect_at_end(unsigned call)
{
	return call == SHMT_CALL_WAIT || call == SHMT_CALL_FD_RECV ||
	       call == SHMT_CALL_PROC_SEEN;
}

static uint64_t effect_time(const struct trace_event *ev)
{
	return ev->time_ns + (takes_effect_at_end(ev->call) ? ev->duration_ns : 0);
}

/* Whether the event counts (m->events) and whether it is replayed: every
 * event the trace holds up to until_ns, as the launcher and dump
 * --modules count them; module and object records and clocks gone odd
 * are not replayed. */
static bool counts(const struct model *m, const struct trace_event *ev,
		   uint64_t until_ns, bool *replayed)
{
	int64_t rel = trace_event_reltime(m->trace, ev);
	if (rel > 0 && (uint64_t)rel > until_ns)
		return false;
	*replayed = ev->call != SHMT_CALL_MODULE && ev->call != SHMT_CALL_OBJECT &&
		    rel >= 0;
	return true;
}

/* Notes that the event was read (model_extend reads on after it). */
static void note_read(struct model *m, const struct trace_event *ev)
{
	if (ev->seq >= m->idx->next_seq)
		m->idx->next_seq = ev->seq + 1;
}

static struct order *collect(struct model *m, uint64_t until_ns, size_t *n)
{
	struct trace_iter it;
	const struct trace_event *ev;
	struct order *o = NULL;
	size_t cap = 0;
	bool replayed;
	*n = 0;
	trace_iter_init(&it, m->trace);
	while ((ev = trace_iter_next(&it))) {
		note_read(m, ev);
		if (ev->call == SHMT_CALL_OBJECT)	/* what an earlier event's
							   descriptor was */
			info_put(m, ev);
		if (!counts(m, ev, until_ns, &replayed))
			continue;
		m->events++;
		if (!replayed)
			continue;
		GROW(o, *n, cap);
		o[*n].when = effect_time(ev);
		o[(*n)++].seq = ev->seq;
	}
	m->abandoned = it.abandoned;
	m->corrupt = it.corrupt;
	return o;
}

const struct trace_event *model_event(const struct model *m, uint64_t seq,
				      struct trace_iter *it)
{
	if (seq == MODEL_NO_SEQ)
		return NULL;
	trace_iter_init_at(it, m->trace, seq);
	const struct trace_event *ev = trace_iter_next(it);
	return ev && ev->seq == seq ? ev : NULL;
}

/* A trace of `shmtrace -p` ends at the detach, not with its processes:
 * final, but they may live on (the header's attach window). */
static bool detached_trace(const struct trace *t)
{
	return t && t->hdr && __atomic_load_n(&t->hdr->attached_at, __ATOMIC_RELAXED);
}

/* Replays the event of `seq`; *last: the latest time replayed. */
static void replay_seq(struct model *m, uint64_t seq, uint64_t *last)
{
	struct trace_iter it;
	const struct trace_event *ev = model_event(m, seq, &it);
	if (!ev)
		return;
	m->idx->done_when = effect_time(ev);
	m->idx->done_seq = ev->seq;
	m->idx->any_done = true;
	m->idx->replaying = ev->seq;
	replay(m, ev);
	uint64_t rel = (uint64_t)trace_event_reltime(m->trace, ev);
	if (rel > *last)
		*last = rel;
}

/* The whole trace's order at once: every event collected, sorted. */
static void replay_sorted(struct model *m, uint64_t until_ns, uint64_t *last)
{
	size_t n;
	struct order *o = collect(m, until_ns, &n);
	if (n)	/* qsort(NULL, 0) is undefined: a trace with no event yet */
		qsort(o, n, sizeof(*o), order_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && i % 65536 == 0)	/* bound the resident trace pages */
			trace_release_pages(m->trace);
		replay_seq(m, o[i].seq, last);
	}
	free(o);
}

/*
 * The file is nearly in order already: a slot is reserved when its call
 * returns, so an event lies at most a few calls' durations away from its
 * place.  A min-heap of the last ORDER_WINDOW events read then gives the
 * events in their sorted order with 1 MiB where the sort holds every
 * event, in one pass.  When an event comes more than that out of place
 * (or an object record after its event was replayed), the order broke:
 * replay_windowed() says so, and the model is built again by the sort.
 */
#define ORDER_WINDOW 65536u

struct order_heap {
	struct order *a;
	size_t n;
};

static bool order_less(const struct order *x, const struct order *y)
{
	return order_cmp(x, y) < 0;
}

static void heap_push(struct order_heap *h, struct order o)
{
	size_t i = h->n++;
	while (i && order_less(&o, &h->a[(i - 1) / 2])) {
		h->a[i] = h->a[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->a[i] = o;
}

static struct order heap_pop(struct order_heap *h)
{
	struct order top = h->a[0], x = h->a[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && order_less(&h->a[c + 1], &h->a[c]))
			c++;
		if (!order_less(&h->a[c], &x))
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	if (h->n)
		h->a[i] = x;
	return top;
}

struct window {
	struct order_heap heap;
	struct order done;     /* the last one replayed */
	bool any, broken;
	uint64_t pushed;
};

/* Replays the smallest event of the window; notes a break of the order. */
static void window_pop(struct model *m, struct window *w, uint64_t *last)
{
	struct order o = heap_pop(&w->heap);
	if (w->any && order_less(&o, &w->done))
		w->broken = true;
	w->done = o;
	w->any = true;
	if (!w->broken)
		replay_seq(m, o.seq, last);
}

/* An object record must come before its event is replayed. */
static void window_object(struct model *m, struct window *w,
			  const struct trace_event *ev)
{
	uint64_t of = ev->args[SHMT_ARG_OBJECT_OF];
	struct trace_iter it;
	const struct trace_event *d = of ? model_event(m, of - 1, &it) : NULL;
	if (d && w->any) {
		struct order o = { effect_time(d), d->seq };
		if (!order_less(&w->done, &o))
			w->broken = true;
	}
	info_put(m, ev);
}

static bool replay_windowed(struct model *m, uint64_t until_ns, uint64_t *last)
{
	struct window w = { .heap.a = xmalloc((ORDER_WINDOW + 1) * sizeof(struct order)) };
	struct trace_iter it;
	const struct trace_event *ev;
	bool replayed;
	trace_iter_init(&it, m->trace);
	while (!w.broken && (ev = trace_iter_next(&it))) {
		note_read(m, ev);
		if (ev->call == SHMT_CALL_OBJECT)
			window_object(m, &w, ev);
		if (!counts(m, ev, until_ns, &replayed))
			continue;
		m->events++;
		if (!replayed)
			continue;
		if (++w.pushed % 65536 == 0)	/* bound the resident pages */
			trace_release_pages(m->trace);
		heap_push(&w.heap, (struct order){ effect_time(ev), ev->seq });
		if (w.heap.n > ORDER_WINDOW)
			window_pop(m, &w, last);
	}
	while (!w.broken && w.heap.n)
		window_pop(m, &w, last);
	free(w.heap.a);
	m->abandoned = it.abandoned;
	m->corrupt = it.corrupt;
	return !w.broken;
}

static void model_start(struct model *m, const struct trace *t)
{
	memset(m, 0, sizeof(*m));
	m->trace = t;
	m->idx = index_new();
	m->final = t->flags & SHMT_HF_FINAL;
}

void model_build(struct model *m, const struct trace *t, uint64_t until_ns)
{
	uint64_t last = 0;
	model_start(m, t);
	if (!replay_windowed(m, until_ns, &last)) {
		model_free(m);
		model_start(m, t);
		last = 0;
		replay_sorted(m, until_ns, &last);
	}
	m->idx->replaying = MODEL_NO_SEQ;	/* the ends below have no event */
	m->idx->last_rel = last;
	m->until_ns = until_ns == UINT64_MAX ? last : until_ns;
	m->to_end = until_ns == UINT64_MAX;
	if (m->final && until_ns == UINT64_MAX && !detached_trace(t)) {
		/* the launcher waited for every process: all have ended */
		uint64_t end = t->end_ns > t->start_ns ? t->end_ns - t->start_ns : last;
		m->until_ns = end;
		for (size_t i = 0; i < m->nprocesses; i++)
			proc_end(m, m->processes[i], end);
	}
}

/*
 * An append may hold events stamped a little before the last one
 * replayed: a slot is reserved when its call returns, so the calls that
 * were under way when the launcher drained come in the next piece.  They
 * are replayed after the model as it stands when they began at most
 * EXTEND_SLACK_NS before the last event replayed (a thread's own calls
 * never overlap, so only events of different threads a few microseconds
 * apart change order; a full build restores the exact order).
 */
#define EXTEND_SLACK_NS 1000000u

/* Whether the events from m->idx->next_seq on can be replayed after the
 * model as it stands: in order, or within EXTEND_SLACK_NS of it, and each
 * object record describes an event not read yet.  *n: how many are
 * replayed. */
static bool extends_in_order(struct model *m, struct order **out, size_t *n)
{
	const struct model_index *x = m->idx;
	struct order done = { x->done_when, x->done_seq }, *o = NULL;
	struct trace_iter it;
	const struct trace_event *ev;
	size_t cap = 0;
	bool replayed, ok = true;
	*n = 0;
	trace_iter_init_at(&it, m->trace, x->next_seq);
	while (ok && (ev = trace_iter_next(&it))) {
		if (ev->call == SHMT_CALL_OBJECT) {
			uint64_t of = ev->args[SHMT_ARG_OBJECT_OF];
			struct trace_iter di;
			const struct trace_event *d = of ? model_event(m, of - 1, &di) : NULL;
			ok = !d || d->seq >= x->next_seq;	/* not read yet */
		}
		if (!counts(m, ev, UINT64_MAX, &replayed) || !replayed)
			continue;
		GROW(o, *n, cap);
		o[*n].when = effect_time(ev);
		o[(*n)++].seq = ev->seq;
	}
	if (ok && *n)
		qsort(o, *n, sizeof(*o), order_cmp);
	ok = ok && (!*n || !x->any_done || order_less(&done, &o[0]) ||
		    o[0].when + EXTEND_SLACK_NS >= done.when);
	*out = o;
	return ok;
}

bool model_extend(struct model *m, const struct trace *t)
{
	struct order *o = NULL;
	size_t n;
	m->trace = t;
	if (!m->to_end || m->final || (t->flags & SHMT_HF_FINAL) ||
	    !extends_in_order(m, &o, &n)) {
		free(o);
		return false;
	}
	/* the object records and the count first, as model_build does */
	struct trace_iter it;
	const struct trace_event *ev;
	bool replayed;
	trace_iter_init_at(&it, t, m->idx->next_seq);
	while ((ev = trace_iter_next(&it))) {
		note_read(m, ev);
		if (ev->call == SHMT_CALL_OBJECT)
			info_put(m, ev);
		m->events += counts(m, ev, UINT64_MAX, &replayed);
	}
	m->corrupt += it.corrupt;
	uint64_t last = m->idx->last_rel;
	for (size_t i = 0; i < n; i++)
		replay_seq(m, o[i].seq, &last);
	free(o);
	m->idx->replaying = MODEL_NO_SEQ;
	m->idx->last_rel = last;
	m->until_ns = last;
	return true;
}

/* --- reconciliation -------------------------------------------------------------------------------- */

static bool any_alive(const struct model *m)
{
	for (size_t i = 0; i < m->nprocesses; i++)
		if (!m->processes[i]->ended)
			return true;
	return false;
}

static enum seg_state sysv_state(struct model *m, struct segment *s,
				 const struct kernel_view *k)
{
	if (!k || !k->sysv_ok) {
		if (s->destroyed)
			return SEG_REMOVED;
		if (s->marked)
			return SEG_PENDING;
		return m->running ? SEG_LIVE : SEG_LEAKED;
	}
	const struct kernel_sysv *ks = kernel_find_shmid(k, s->shmid);
	/* the id was reused for another segment; but the kernel shows a
	 * segment marked for removal while attached as IPC_PRIVATE */
	if (ks && s->key && ks->key != s->key && !(ks->dest && !ks->key))
		ks = NULL;
	if (!ks || (s->destroyed && !ks->dest)) {
		if (!s->marked)
			s->notes |= SEG_NOTE_REMOVED_OUTSIDE;
		return SEG_REMOVED;
	}
	s->in_kernel = true;
	s->k_nattch = ks->nattch;
	s->k_cpid = ks->cpid;
	if (ks->nattch > s->live_att)
		s->notes |= SEG_NOTE_ATTACHED_OUTSIDE;
	if (ks->dest)
		return SEG_PENDING;
	return m->running ? SEG_LIVE : SEG_LEAKED;
}

/* Whether /dev/shm's object was made at another moment than the one the
 * trace saw created: then it is another object under the same name.  The
 * shim records no inode (that would cost a system call per shm_open), so
 * the creation time stands in for it where the filesystem keeps one. */
static bool born_elsewhen(const struct model *m, const struct segment *s,
			  const struct kernel_posix *kp)
{
	const int64_t slack = 100000000;	/* 100 ms: two clocks, one moment */
	if (!s->created || !kp->btime_ns || !m->trace)
		return false;
	int64_t made = (int64_t)(m->trace->start_realtime_ns + s->created_ns);
	int64_t d = kp->btime_ns - made;
	return d > slack || d < -slack;
}

/* A POSIX object or semaphore, which /dev/shm calls `kname`. */
static enum seg_state posix_state(struct model *m, struct segment *s,
				  const struct kernel_view *k, const char *kname)
{
	const struct kernel_posix *kp = k && k->posix_ok && kname ?
		kernel_find_posix(k, kname) : NULL;
	if (s->marked) {
		if (kp && (s->kind != SEG_POSIX || name_find(m, s->name) == NULL))
			s->notes |= SEG_NOTE_NAME_REUSED;
		return s->destroyed ? SEG_REMOVED : SEG_PENDING;
	}
	if (kp && (s->inode ? kp->inode != s->inode : born_elsewhen(m, s, kp))) {
		/* the name now names another object: ours went unseen */
		s->notes |= SEG_NOTE_REMOVED_OUTSIDE | SEG_NOTE_NAME_REUSED;
		return SEG_REMOVED;
	}
	if (k && k->posix_ok && !kp) {
		s->notes |= SEG_NOTE_REMOVED_OUTSIDE;
		return SEG_REMOVED;
	}
	s->in_kernel = kp != NULL;
	if (kp && !s->inode)
		s->inode = kp->inode;
	return m->running ? SEG_LIVE : SEG_LEAKED;
}

/* A file's mappings end, the file stays; unless it was unlinked, which
 * the trace saw ("(deleted)") or the kernel says now (its path names no
 * file or another one).  Its size is the file's now, when it is there. */
static enum seg_state file_state(struct segment *s, const struct kernel_view *k)
{
	if (k && s->name && s->inode && s->name[0] == '/' &&
	    !kernel_file_is(s->name, s->dev, s->inode, &s->size))
		s->notes |= SEG_NOTE_FILE_UNLINKED;
	return s->live_att ? SEG_LIVE : SEG_ENDED;
}

void model_reconcile(struct model *m, const struct kernel_view *k)
{
	/* processes the kernel says are gone have ended, unseen */
	for (size_t i = 0; k && (!m->final || detached_trace(m->trace)) &&
	     i < m->nprocesses; i++) {
		struct process *p = m->processes[i];
		if (!p->ended && !kernel_pid_alive(p->pid))
			proc_end(m, p, m->until_ns);
	}
	/* a final trace replayed to its end has every process ended */
	m->running = any_alive(m);
	/* A run still going, seen against the kernel, is seen now and not at
	 * its last event: a quiet second into the run reads +1s.  Both clocks
	 * are this machine's CLOCK_MONOTONIC, since one of its processes is
	 * alive here.  A model replayed to a past instant is left there. */
	uint64_t now = clock_now_ns(), start = m->trace ? m->trace->start_ns : 0;
	if (k && m->running && m->to_end && now > start && !detached_trace(m->trace) &&
	    now - start > m->until_ns)
		m->until_ns = now - start;
	m->leaks = 0;
	for (size_t i = 0; i < m->nsegments; i++) {
		struct segment *s = m->segments[i];
		switch (s->kind) {
		case SEG_SYSV:
			s->state = sysv_state(m, s, k);
			break;
		case SEG_POSIX:
			s->state = posix_state(m, s, k, s->name);
			break;
		case SEG_SEM: {	/* /dev/shm/sem.NAME */
			char kname[4096];
			s->state = posix_state(m, s, k,
					       model_shm_name(s, kname, sizeof(kname)));
			break;
		}
		case SEG_FILE:
			s->state = file_state(s, k);
			break;
		default:
			s->state = s->destroyed ? SEG_REMOVED : SEG_LIVE;
			break;
		}
		m->leaks += model_is_leak(s);
	}
}

void model_build_now(struct model *m, const struct trace *t)
{
	struct kernel_view k;

	model_build(m, t, UINT64_MAX);
	kernel_read(&k);
	model_reconcile(m, &k);
	kernel_free(&k);
}

/* --- freeing and names ---------------------------------------------------------------------------------- */

void model_free(struct model *m)
{
	for (size_t i = 0; i < m->nsegments + m->hidden_segments; i++) {
		struct segment *s = m->segments[i];
		for (size_t j = 0; j < s->natt; j++)
			free(s->att[j]);
		free(s->att);
		free(s->hist);
		free(s->xfers);
		free(s->name);
		free(s);
	}
	for (size_t i = 0; i < m->nprocesses + m->hidden_processes; i++) {
		struct process *p = m->processes[i];
		free(p->exe);
		free_argv(p->argv);
		free(p->live);
		free(p->fds);
		free(p->recvd);
		free(p);
	}
	free(m->segments);
	free(m->processes);
	if (m->idx) {
		struct pid_entry *pe, *ptmp;
		HASH_ITER(hh, m->idx->pids, pe, ptmp) {
			HASH_DEL(m->idx->pids, pe);
			free(pe);
		}
		struct name_entry *ne, *ntmp;
		HASH_ITER(hh, m->idx->names, ne, ntmp) {
			HASH_DEL(m->idx->names, ne);
			free(ne);
		}
		u64_clear(&m->idx->shmids);
		u64_clear(&m->idx->origins);
		u64_clear(&m->idx->inodes);
		struct objinfo_entry *oe, *otmp;
		HASH_ITER(hh, m->idx->objinfo, oe, otmp) {
			HASH_DEL(m->idx->objinfo, oe);
			free(oe->info.path);
			free(oe);
		}
		struct obj_entry *be, *btmp;
		HASH_ITER(hh, m->idx->objects, be, btmp) {
			HASH_DEL(m->idx->objects, be);
			free(be);
		}
		free(m->idx);
	}
	memset(m, 0, sizeof(*m));
}

/* --- models from elsewhere (procmap.c) ------------------------------------------------------------------ */

void model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	m->idx = index_new();
}

struct process *model_add_process(struct model *m, int32_t pid)
{
	return proc_get(m, pid, 0);
}

struct segment *model_add_segment(struct model *m, enum seg_kind kind)
{
	struct segment *s = xcalloc(1, sizeof(*s));
	s->index = (unsigned)m->nsegments;
	s->kind = kind;
	s->shmid = -1;
	s->creator.seq = MODEL_NO_SEQ;
	s->remover.seq = MODEL_NO_SEQ;
	GROW(m->segments, m->nsegments, m->seg_cap);
	m->segments[m->nsegments++] = s;
	return s;
}

struct attachment *model_add_attachment(struct model *m, struct segment *s,
					struct process *p, uint64_t addr,
					uint64_t length, bool readonly,
					enum attach_how how)
{
	struct attach_spec a = { addr, length, addr, readonly, false, how, 0,
				 MODEL_NO_SEQ };
	return attach(m, s, p, &a);
}

const char *model_kind_name(enum seg_kind kind)
{
	static const char *const names[SEG_KIND_COUNT] = {
		"sysv", "posix", "anon", "devzero", "memfd", "file", "sem" };
	return kind < SEG_KIND_COUNT ? names[kind] : "?";
}

const char *model_state_name(enum seg_state state)
{
	static const char *const names[SEG_STATE_COUNT] = {
		"live", "pending", "removed", "leaked", "ended" };
	return state < SEG_STATE_COUNT ? names[state] : "?";
}

const char *model_how_name(enum attach_how how)
{
	static const char *const names[] = { "shmat", "mmap", "fork" };
	return how <= ATTACH_FORK ? names[how] : "?";
}

bool model_is_leak(const struct segment *s)
{
	return s->created && s->state == SEG_LEAKED;
}

const char *model_shm_name(const struct segment *s, char *buf, size_t size)
{
	if (!s->name || (s->kind != SEG_POSIX && s->kind != SEG_SEM))
		return NULL;
	const char *n = s->name;
	while (*n == '/')
		n++;
	snprintf(buf, size, "/%s%s", s->kind == SEG_SEM ? "sem." : "", n);
	return buf;
}

bool map_shows(const struct segment *s)
{
	return s->state != SEG_REMOVED && s->state != SEG_ENDED;
}
