/*
 * trace.c - the reader core: open, validate and iterate a trace file.
 *
 * Everything read from the file is treated as hostile: sizes are checked
 * with overflow-safe arithmetic against the size of the mapping, and each
 * event is copied out of its slot before it is validated, so a concurrent
 * writer cannot change a checked field under us.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "records.h"
#include "region.h"
#include "trace.h"
#include "util.h"

#define WHY_MAX 160

/* --- the SIGBUS guard (see trace.h) ------------------------------------ */

/* The mappings of the open traces, [lo, hi).  Written by trace_open and
 * trace_close, read by a signal handler: every access is atomic.  lo is
 * FREE for an unused entry, CLAIMED while trace_open fills it in; an entry
 * is complete before its mapping is first read. */
#define FREE 0u
#define CLAIMED 1u

static struct {
	uintptr_t lo, hi;
} open_maps[TRACE_OPEN_MAX];

static _Thread_local struct trace_section *innermost;

static int guard_add(const void *base, size_t size)
{
	for (size_t i = 0; i < TRACE_OPEN_MAX; i++) {
		uintptr_t expect = FREE;

		if (!__atomic_compare_exchange_n(&open_maps[i].lo, &expect,
						 CLAIMED, false, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&open_maps[i].hi, (uintptr_t)base + size,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&open_maps[i].lo, (uintptr_t)base,
				 __ATOMIC_RELEASE);
		return 0;
	}
	return -1;
}

static void guard_remove(const void *base)
{
	for (size_t i = 0; i < TRACE_OPEN_MAX; i++)
		if (__atomic_load_n(&open_maps[i].lo, __ATOMIC_RELAXED) ==
		    (uintptr_t)base)
			__atomic_store_n(&open_maps[i].lo, FREE, __ATOMIC_RELEASE);
}

bool trace_holds_address(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	for (size_t i = 0; i < TRACE_OPEN_MAX; i++) {
		uintptr_t lo = __atomic_load_n(&open_maps[i].lo, __ATOMIC_ACQUIRE);

		if (lo > CLAIMED && a >= lo &&
		    a < __atomic_load_n(&open_maps[i].hi, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

void trace_section_enter(struct trace_section *s)
{
	s->outer = innermost;
	/* the handler must see the whole section once it sees the pointer */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	innermost = s;
}

void trace_section_leave(struct trace_section *s)
{
	innermost = s->outer;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void trace_section_escape(void)
{
	struct trace_section *s = innermost;

	if (!s)
		return;
	trace_section_leave(s);
	siglongjmp(s->env, 1);
}

static void copy_layout(struct trace *t, const struct shmt_header *h)
{
	t->version = h->version;
	t->slot_size = h->slot_size;
	t->max_depth = h->max_depth;
	t->flags = h->flags;
	t->slot_offset = h->slot_offset;
	t->capacity = h->slot_capacity;
	t->arena_offset = h->arena_offset;
	t->arena_size = h->arena_size;
	t->start_ns = h->start_ns;
	t->start_realtime_ns = h->start_realtime_ns;
	t->end_ns = h->end_ns;
	t->creator_pid = h->creator_pid;
	t->owner_uid = h->owner_uid;
	t->token = h->token;
	t->depth = h->depth;
	t->exit_status = h->exit_status;
	t->cal_tsc0 = h->cal_tsc0;
	t->cal_ns0 = h->cal_ns0;
	t->cal_tsc1 = h->cal_tsc1;
	t->cal_ns1 = h->cal_ns1;
}

/*
 * Validate a copy of the header, not the mapping: a live writer could
 * otherwise change a field between its check and its use.
 */
static int validate(struct trace *t, char *w, size_t wn)
{
	struct shmt_header h;

	memset(&h, 0, sizeof(h));
	memcpy(&h, t->base, t->size < sizeof(h) ? t->size : sizeof(h));
	if (region_check_file_header(&h, t->size, w, wn) < 0)
		return -1;
	copy_layout(t, &h);
	return 0;
}

/* Slots a pass keeps mapped behind it: the pages of a big trace are
 * given back as a pass moves on, so reading a million events does not
 * hold a quarter of a GiB resident.  They stay in the page cache, and the
 * mapping stays valid: touching them again faults them back in.  A
 * compact file's pass gives back every RELEASE_BYTES it read. */
#define RELEASE_WINDOW 65536u
#define RELEASE_BYTES (4u << 20)

static void release_range(const struct trace *t, uint64_t from, uint64_t to)
{
	uintptr_t page = 4096;
	uintptr_t a = ((uintptr_t)t->base + from + page - 1) & ~(page - 1);
	uintptr_t b = ((uintptr_t)t->base + to) & ~(page - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/* --- compact files (version 2, records.h) ------------------------------ */

/*
 * The index of a compact file, built by one pass over its records at
 * open: where each event, stack and string record starts.  Ids are dense
 * from 1 in the order their records appear; a record that breaks that is
 * damage and counted.  The pass stops at a torn tail (a launcher killed
 * mid-write) or at damage: what lies before stays readable.
 */
struct seq_jump {
	uint64_t from;                  /* the first event (its place n) */
	int64_t offset;                 /* seq - n from there on */
};

/* An event written after later slots (it committed late): its seq. */
struct seq_late {
	uint64_t seq, n;
};

/* Where EVENT records start, 4 bytes an event: a block of EVENT_BLOCK
 * events has the offset of its first record, each event its distance
 * from there (a block spans less than 4 GiB: what lies between two
 * events is at most a stack and a string record, and the launcher's
 * few LOSS records). */
#define EVENT_BLOCK 4096u

struct trace_records {
	uint64_t *blocks;               /* [n / EVENT_BLOCK]: the offset of
	                                   the block's first EVENT record */
	uint32_t *deltas;               /* [n]: offset - its block's */
	size_t nevents, events_cap, blocks_cap;
	uint64_t end;                   /* where the next record starts:
	                                   trace_refresh() reads on from there */
	/* Most events come in slot order, seq - n changing only where slots
	 * were left out or came late: where it changes (jumps), and the
	 * late ones apart, sorted by seq, so a seq finds its event
	 * (trace_iter_init_at). */
	struct seq_jump *jumps;
	size_t njumps, jumps_cap;
	uint64_t last_seq;              /* of the last in-order event */
	struct seq_late *late;          /* sorted by seq once indexed */
	size_t nlate, late_cap;
	uint64_t *stacks, *strings;     /* [id - 1]: offsets */
	size_t nstacks, stacks_cap, nstrings, strings_cap;
	struct trace_loss *losses;
	size_t nlosses, losses_cap;
	uint64_t damaged;               /* records that broke the rules */
	bool sparse;                    /* no deltas: trace_open_sequential */
	bool stopped;                   /* framing damage: nothing after it
	                                   is read */
};

/* Notes the seq of the next event: in order, or late (a slot that
 * committed after later ones were written).  False when malformed. */
static bool index_seq(struct trace_records *r, uint64_t seq)
{
	uint64_t n = r->nevents;
	if (seq == UINT64_MAX)
		return false;
	if (r->njumps && seq <= r->last_seq) {	/* late */
		XGROW(r->late, r->nlate, r->late_cap, 16);
		r->late[r->nlate++] = (struct seq_late){ seq, n };
		return true;
	}
	int64_t offset = (int64_t)(seq - n);
	if (!r->njumps || offset != r->jumps[r->njumps - 1].offset) {
		XGROW(r->jumps, r->njumps, r->jumps_cap, 16);
		r->jumps[r->njumps++] = (struct seq_jump){ n, offset };
	}
	r->last_seq = seq;
	return true;
}

static int late_cmp(const void *a, const void *b)
{
	const struct seq_late *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The place of the event whose seq is `seq`; for a seq no event has, the
 * place of an in-order event with a greater one (or the end). */
static uint64_t place_of_seq(const struct trace_records *r, uint64_t seq)
{
	if (r->nlate) {
		size_t lo = 0, hi = r->nlate;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (r->late[mid].seq < seq)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < r->nlate && r->late[lo].seq == seq)
			return r->late[lo].n;
	}
	if (!r->njumps)
		return r->nevents;
	if (seq < r->jumps[0].from + (uint64_t)r->jumps[0].offset)
		return r->jumps[0].from;
	size_t lo = 0, hi = r->njumps;	/* the last jump starting at or below */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (r->jumps[mid].from + (uint64_t)r->jumps[mid].offset <= seq)
			lo = mid;
		else
			hi = mid;
	}
	uint64_t n = seq - (uint64_t)r->jumps[lo].offset;
	if (lo + 1 < r->njumps && n >= r->jumps[lo + 1].from)
		n = r->jumps[lo + 1].from;	/* a seq left out: the next one */
	return n;
}

/* Notes where the next event's record starts; false when it lies 4 GiB
 * or more past its block's first (damage: no launcher writes that). */
static bool index_event(struct trace_records *r, uint64_t off)
{
	size_t n = r->nevents;
	if (n % EVENT_BLOCK == 0) {
		size_t b = n / EVENT_BLOCK;
		XGROW(r->blocks, b, r->blocks_cap, 16);
		r->blocks[b] = off;
	}
	uint64_t delta = off - r->blocks[n / EVENT_BLOCK];
	if (delta > UINT32_MAX)
		return false;
	if (!r->sparse) {
		XGROW(r->deltas, r->nevents, r->events_cap, 1024);
		r->deltas[n] = (uint32_t)delta;
	}
	r->nevents++;
	return true;
}

/* Where the first EVENT record at or after `off` starts (the end of the
 * indexed records when none does). */
static uint64_t next_event_at(const struct trace *t, uint64_t off)
{
	struct records_frame f;
	while (off < t->rec->end &&
	       records_next(t->base + off, t->size - off, &f) == 1 &&
	       f.type != RECORDS_EVENT)
		off += f.size;
	return off;
}

/* Where the n-th EVENT record starts; a sparse index walks from its
 * block's first (it holds no damaged event: see index_records). */
static uint64_t event_offset(const struct trace *t, uint64_t n)
{
	const struct trace_records *r = t->rec;
	if (!r->sparse)
		return r->blocks[n / EVENT_BLOCK] + r->deltas[n];
	uint64_t off = r->blocks[n / EVENT_BLOCK];
	struct records_frame f;
	for (uint64_t k = n / EVENT_BLOCK * EVENT_BLOCK; k < n; k++) {
		records_next(t->base + off, t->size - off, &f);
		off = next_event_at(t, off + f.size);
	}
	return off;
}

static void index_record(struct trace_records *r, const struct records_frame *f,
			 uint64_t off)
{
	uint64_t id;
	unsigned n;
	const unsigned char *str;
	size_t len;
	uint64_t frames[SHMT_MAX_DEPTH];
	struct trace_loss l;

	switch (f->type) {
	case RECORDS_EVENT:
		if (!index_seq(r, records_get_seq(f, r->nevents)) ||
		    !index_event(r, off)) {
			r->damaged++;
			break;
		}
		break;
	case RECORDS_STACK:
		if (records_get_stack(f, &id, frames, SHMT_MAX_DEPTH, &n) < 0 ||
		    id != r->nstacks + 1) {
			r->damaged++;
			break;
		}
		XGROW(r->stacks, r->nstacks, r->stacks_cap, 64);
		r->stacks[r->nstacks++] = off;
		break;
	case RECORDS_STRING:
		if (records_get_string(f, &id, &str, &len) < 0 ||
		    id != r->nstrings + 1) {
			r->damaged++;
			break;
		}
		XGROW(r->strings, r->nstrings, r->strings_cap, 64);
		r->strings[r->nstrings++] = off;
		break;
	case RECORDS_LOSS:
		if (records_get_loss(f, &l.cause, &l.count, &l.pid, &l.from_ns,
				     &l.to_ns) < 0) {
			r->damaged++;
			break;
		}
		XGROW(r->losses, r->nlosses, r->losses_cap, 8);
		r->losses[r->nlosses++] = l;
		break;
	default:	/* a later kind of record: skipped */
		break;
	}
}

/* Indexes the records from r->end to the end of the mapping.  A torn
 * tail is left for a later call (the file may still grow); damage ends
 * the index for good (r->stopped). */
static void index_more(struct trace *t, struct trace_records *r)
{
	uint64_t off = r->end;
	struct records_frame f;
	int got = 1;

	while (!r->stopped && off < t->size &&
	       (got = records_next(t->base + off, t->size - off, &f)) == 1) {
		index_record(r, &f, off);
		off += f.size;
		/* the index pass reads each page once: give them back */
		if (off - r->end >= RELEASE_BYTES) {
			release_range(t, r->end, off);
			r->end = off;
		}
	}
	if (off < t->size && got < 0) {
		r->damaged++;
		r->stopped = true;
	}
	release_range(t, r->end, off);
	r->end = off;
	if (r->nlate)	/* a refresh may have added some */
		qsort(r->late, r->nlate, sizeof(*r->late), late_cmp);
	t->capacity = r->nevents;
}

static void free_records(struct trace_records *r);

/* A sparse index finds an event by walking its block's records, which
 * only holds while every EVENT record there is indexed: with damage, or
 * once the file grew (trace_refresh), it is the full index. */
static void index_records(struct trace *t, bool sparse)
{
	struct trace_records *r = xcalloc(1, sizeof(*r));

	r->end = t->hdr->header_size;	/* checked: SHMT_HEADER_SIZE */
	r->sparse = sparse && (t->flags & SHMT_HF_FINAL);
	t->rec = r;
	index_more(t, r);
	if (r->sparse && r->damaged) {
		free_records(r);
		index_records(t, false);
	}
}

static void free_records(struct trace_records *r)
{
	if (!r)
		return;
	free(r->blocks);
	free(r->deltas);
	free(r->jumps);
	free(r->late);
	free(r->stacks);
	free(r->strings);
	free(r->losses);
	free(r);
}

/* The slots the launcher found abandoned or corrupt when it wrote the
 * file, and the records damaged since (counted as corrupt). */
static void records_counts(const struct trace_records *r, uint64_t *abandoned,
			   uint64_t *corrupt)
{
	*corrupt = r->damaged;
	for (size_t i = 0; i < r->nlosses; i++)
		if (r->losses[i].cause == RECORDS_LOSS_ABANDONED)
			*abandoned += r->losses[i].count;
		else if (r->losses[i].cause == RECORDS_LOSS_CORRUPT)
			*corrupt += r->losses[i].count;
}

const struct trace_loss *trace_losses(const struct trace *t, size_t *n)
{
	*n = t->rec ? t->rec->nlosses : 0;
	return t->rec ? t->rec->losses : NULL;
}

/* The frame of the record at `off`, which the index already read. */
static void frame_at(const struct trace *t, uint64_t off, struct records_frame *f)
{
	records_next(t->base + off, t->size - off, f);
}

/* Decodes the n-th event of a compact file into it->ev; false when the
 * record breaks the rules (then counted corrupt). */
static bool fill_record_event(struct trace_iter *it, uint64_t n, uint64_t off)
{
	const struct trace *t = it->trace;
	const struct trace_records *r = t->rec;
	struct trace_event *ev = &it->ev;
	struct records_frame f;
	struct records_event e;
	unsigned nframes = 0;
	uint64_t id;

	frame_at(t, off, &f);
	if (records_get_event(&f, n, &e) < 0 || e.call == SHMT_CALL_NONE ||
	    e.call >= SHMT_CALL_COUNT || e.obj >= SHMT_OBJ_COUNT ||
	    e.stack_id > r->nstacks || e.str_id > r->nstrings)
		return false;
	if (e.stack_id) {
		frame_at(t, r->stacks[e.stack_id - 1], &f);
		if (records_get_stack(&f, &id, it->frames, t->max_depth, &nframes) < 0)
			return false;
	}
	ev->str = "";
	ev->str_len = 0;
	if (e.str_id) {
		const unsigned char *str;
		size_t len;
		frame_at(t, r->strings[e.str_id - 1], &f);
		records_get_string(&f, &id, &str, &len);
		if (len > SHMT_MAX_STRING)
			return false;
		ev->str = (const char *)str;
		ev->str_len = (uint32_t)len;
	}
	ev->seq = e.seq;
	ev->time_ns = t->start_ns + e.time_ns;
	ev->duration_ns = e.duration_ns;
	ev->ret = e.ret;
	ev->pid = e.pid;
	ev->tid = e.tid;
	ev->call = e.call;
	ev->nframes = (uint16_t)nframes;
	ev->flags = e.flags;
	ev->err = e.err;
	ev->obj = e.obj;
	memcpy(ev->args, e.args, sizeof(ev->args));
	ev->frames = it->frames;
	return true;
}

/* A compact file still being written is mapped this far past its end
 * (address space only, nothing is reserved), so trace_refresh() reads
 * what it grew by at the same addresses: pointers into the mapping stay
 * valid.  Pages past the file's end are never read (they would fault). */
#define GROWTH_ROOM (64ull << 30)

static int map_file(int fd, struct trace *t, char *w, size_t wn)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0)
		return region_why(w, wn, "%s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return region_why(w, wn, "is a directory");
	if (!S_ISREG(st.st_mode))
		return region_why(w, wn, "not a regular file");
	if (st.st_size == 0)
		return region_why(w, wn, "empty file");
	if ((uint64_t)st.st_size > SIZE_MAX)
		return region_why(w, wn, "file too large to map");
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return region_why(w, wn, "cannot map: %s", strerror(errno));
	if (guard_add(p, (size_t)st.st_size) < 0) {
		munmap(p, (size_t)st.st_size);
		return region_why(w, wn, "more than %d traces open at once",
			   TRACE_OPEN_MAX);
	}
	t->base = p;
	t->size = t->map_len = (size_t)st.st_size;
	t->hdr = p;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	return 0;
}

/* Maps an unfinished compact file again with room to grow (GROWTH_ROOM);
 * keeps the first mapping when the address space is short (then
 * trace_refresh() asks for a new open once the file outgrows it). */
static void map_with_room(int fd, struct trace *t)
{
	size_t len = t->size + GROWTH_ROOM;
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		return;
	guard_remove(t->base);
	munmap((void *)t->base, t->map_len);
	if (guard_add(p, len) < 0) {	/* the entry just freed: cannot fail */
		munmap(p, len);
		t->base = NULL;
		return;
	}
	t->base = p;
	t->hdr = p;
	t->map_len = len;
}

static int open_trace(const char *path, struct trace *t, bool sequential)
{
	char w[WHY_MAX];
	int fd, rc;

	memset(t, 0, sizeof(*t));
	/* O_NONBLOCK: opening a FIFO given by mistake must not hang. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return error("cannot read '%s': %s", path, strerror(errno));
	rc = map_file(fd, t, w, sizeof(w));
	if (rc == 0)
		rc = validate(t, w, sizeof(w));
	if (rc == 0 && t->version == SHMT_VERSION_RECORDS &&
	    !(t->flags & SHMT_HF_FINAL)) {
		map_with_room(fd, t);
		if (!t->base)
			rc = region_why(w, sizeof(w), "cannot map again");
	}
	close(fd);
	if (rc < 0) {
		trace_close(t);
		return error("cannot read '%s': %s", path, w);
	}
	if (t->version == SHMT_VERSION_RECORDS)
		index_records(t, sequential);
	t->path = xstrdup(path);
	return 0;
}

int trace_open(const char *path, struct trace *t)
{
	return open_trace(path, t, false);
}

int trace_open_sequential(const char *path, struct trace *t)
{
	return open_trace(path, t, true);
}

long trace_refresh(struct trace *t)
{
	struct stat st;
	struct shmt_header h;

	if (!t->rec)	/* a slot file: the iterator reads its head */
		return 0;
	if (stat(t->path, &st) < 0 || st.st_dev != t->dev || st.st_ino != t->ino ||
	    (uint64_t)st.st_size < t->size || (uint64_t)st.st_size > t->map_len)
		return -1;
	uint64_t before = t->rec->nevents;
	t->size = (size_t)st.st_size;
	memcpy(&h, t->base, sizeof(h));	/* a copy: the writer may go on */
	if (h.flags & SHMT_HF_FINAL) {
		t->flags |= SHMT_HF_FINAL;
		t->end_ns = h.end_ns;
		t->exit_status = h.exit_status;
	}
	index_more(t, t->rec);
	return (long)(t->rec->nevents - before);
}

void trace_close(struct trace *t)
{
	if (t->base) {
		guard_remove(t->base);
		munmap((void *)t->base, t->map_len);
	}
	free_records(t->rec);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

void trace_counters(const struct trace *t, struct trace_counters *c)
{
	const struct shmt_header *h = t->hdr;

	c->dropped = load(&h->dropped);
	c->strings_dropped = load(&h->strings_dropped);
	c->nested = load(&h->nested);
	c->passthrough = load(&h->passthrough);
	c->stack_errors = load(&h->stack_errors);
	c->nest_lost = load(&h->nest_lost);
	c->disabled = load(&h->disabled);
	c->stacks_no_room = load(&h->stacks_no_room);
	c->untraced = load(&h->untraced);
	c->head = load(&h->head);
	c->capacity_lost = load(&h->capacity_lost);
	c->damaged = __atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & SHMT_HF_DAMAGED;
}

static uint64_t arena_used(const struct trace *t)
{
	uint64_t used = load(&t->hdr->arena_head);

	return used < t->arena_size ? used : t->arena_size;
}

void trace_iter_init_at(struct trace_iter *it, const struct trace *t,
			uint64_t first)
{
	uint64_t head = t->rec ? t->rec->nevents : load(&t->hdr->head);

	memset(it, 0, offsetof(struct trace_iter, frames));
	it->trace = t;
	it->end = head < t->capacity ? head : t->capacity;
	if (t->rec)	/* `first` is a seq: its place among the events */
		first = place_of_seq(t->rec, first);
	it->next = first < it->end ? first : it->end;
	it->arena_used = t->rec ? 0 : arena_used(t);
	if (t->rec && first == 0)	/* what the launcher found when it wrote */
		records_counts(t->rec, &it->abandoned, &it->corrupt);
}

void trace_iter_init(struct trace_iter *it, const struct trace *t)
{
	trace_iter_init_at(it, t, 0);
}

/*
 * Is [off, off+len) inside the used part of the arena?  A string may have
 * been carved after our snapshot of arena_head (live run): refresh once
 * before calling it corrupt.  The arena itself lies in the mapping
 * (checked at open), so this also bounds the string by the file.
 */
static bool string_in_arena(struct trace_iter *it, uint32_t off, uint32_t len)
{
	uint64_t end = (uint64_t)off + len;

	if (end <= it->arena_used)
		return true;
	it->arena_used = arena_used(it->trace);
	return end <= it->arena_used;
}

static bool event_valid(struct trace_iter *it, const struct shmt_event *e)
{
	if (e->call == SHMT_CALL_NONE || e->call >= SHMT_CALL_COUNT)
		return false;
	if (e->nframes > it->trace->max_depth)
		return false;
	if (e->obj >= SHMT_OBJ_COUNT)
		return false;
	return e->str_len == 0 || string_in_arena(it, e->str_off, e->str_len);
}

static void fill_event(struct trace_iter *it, const struct shmt_event *e,
		       const unsigned char *slot, uint64_t seq)
{
	const struct trace *t = it->trace;
	struct trace_event *ev = &it->ev;

	ev->seq = seq;
	ev->time_ns = e->time_ns;
	ev->duration_ns = e->duration_ns;
	if (t->flags & SHMT_HF_TSC) {	/* stamped in ticks: to ns */
		ev->time_ns = clock_ticks_to_ns(e->time_ns, t->cal_tsc0, t->cal_ns0,
						t->cal_tsc1, t->cal_ns1);
		ev->duration_ns = clock_ticks_span_ns(e->duration_ns, t->cal_tsc0,
						      t->cal_ns0, t->cal_tsc1,
						      t->cal_ns1);
	}
	ev->ret = e->ret;
	ev->pid = e->pid;
	ev->tid = e->tid;
	ev->call = e->call;
	ev->nframes = e->nframes;
	ev->flags = e->flags;
	ev->err = e->err;
	ev->obj = e->obj;
	memcpy(ev->args, e->args, sizeof(ev->args));
	ev->str_len = e->str_len;
	ev->str = e->str_len ?
		(const char *)t->base + t->arena_offset + e->str_off : "";
	memcpy(it->frames, slot + SHMT_EVENT_FIXED,
	       (size_t)e->nframes * sizeof(uint64_t));
	ev->frames = it->frames;
}


void trace_release_pages(const struct trace *t)
{
	release_range(t, 0, t->size);
}

const struct trace_event *trace_iter_next(struct trace_iter *it)
{
	const struct trace *t = it->trace;

	while (t->rec && it->next < it->end) {
		uint64_t n = it->next++;
		/* in order: the next event's record follows this one's */
		bool sparse = t->rec->sparse;
		uint64_t off = sparse && it->rec_off && it->rec_n == n ?
			it->rec_off : event_offset(t, n);
		if (n && n % RELEASE_WINDOW == 0 && off > it->released) {
			release_range(t, it->released, off);	/* read: behind */
			it->released = off;
		}
		if (sparse) {
			struct records_frame f;
			frame_at(t, off, &f);
			it->rec_n = n + 1;
			it->rec_off = n + 1 < it->end ?
				next_event_at(t, off + f.size) : 0;
		}
		if (fill_record_event(it, n, off))
			return &it->ev;
		it->corrupt++;
	}
	while (it->next < it->end) {
		uint64_t seq = it->next++;
		if (seq && seq % RELEASE_WINDOW == 0)
			release_range(t, t->slot_offset + (seq - RELEASE_WINDOW) *
				      t->slot_size, t->slot_offset + seq * t->slot_size);
		const unsigned char *slot =
			t->base + t->slot_offset + seq * t->slot_size;
		struct shmt_event e;

		if (load((const uint64_t *)slot) != seq + 1) {
			it->abandoned++;
			continue;
		}
		/* Copy first, then validate the copy (see the file comment). */
		memcpy(&e, slot, sizeof(e));
		if (!event_valid(it, &e)) {
			it->corrupt++;
			continue;
		}
		fill_event(it, &e, slot, seq);
		return &it->ev;
	}
	return NULL;
}

int64_t trace_event_reltime(const struct trace *t,
			    const struct trace_event *ev)
{
	/* Unsigned difference then conversion: wraps instead of overflowing. */
	return (int64_t)(ev->time_ns - t->start_ns);
}
