/*
 * copyout.c - copying the live region into the trace file while the run
 * goes on (every SYNC_PERIOD_NS, pre-faulting ahead of the writers), the
 * launcher's own records (reaps, clock calibration): the trace file is
 * the compact file of records (records.h), appended pass by pass, so it
 * can be read while the run goes on and a launcher killed at any moment
 * leaves it readable up to its last pass.
 */
#include "launcher.h"
#include "clock.h"
#include "records-writer.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct shmt_event *slot_at(struct live *L, uint64_t i)
{
	return region_slot(L->h, &L->layout, i);
}

/* Slots reserved so far (committed or not), at most the capacity. */
uint64_t used_slots(const struct live *L)
{
	uint64_t head = __atomic_load_n(&L->h->head, __ATOMIC_ACQUIRE);
	return head < L->layout.slot_capacity ? head : L->layout.slot_capacity;
}

/* Records that the launcher reaped `pid`: for a process killed by a
 * signal, or orphaned, this is the only news of its end. */
void record_reaped(struct live *L, pid_t pid, int status)
{
	uint64_t i;
	if (!region_reserve(L->h, &L->layout, &i))
		return;
	struct shmt_event *e = slot_at(L, i);
	memset((char *)e + sizeof(e->commit), 0,
	       SHMT_EVENT_FIXED - sizeof(e->commit));
	e->time_ns = L->tsc ? clock_ticks() : clock_now_ns();
	e->pid = e->tid = (int32_t)getpid();
	e->call = SHMT_CALL_WAIT;
	e->ret = pid;
	e->args[SHMT_ARG_WAIT_PID] = (uint64_t)pid;
	e->args[SHMT_ARG_WAIT_STATUS] = (uint64_t)(uint32_t)status;
	e->args[SHMT_ARG_WAIT_VARIANT] = SHMT_WAIT_REAPER;
	region_commit(e, i);
}

/* Pre-faults the region ahead of the writers (up to `ahead` bytes past the
 * head, at most POPULATE_STEP at a time) so their first touch of a page
 * does not allocate and clear it in the traced program's hot path. */
void populate_ahead(struct live *L, uint64_t head, uint64_t ahead)
{
	const struct region_layout *l = &L->layout;
	uint64_t want = l->slot_offset + head * l->slot_size + ahead;
	if (want > L->populated + POPULATE_STEP)
		want = L->populated + POPULATE_STEP;
	if (want > l->arena_offset)
		want = l->arena_offset;
	want &= ~(uint64_t)4095;
	if (want <= L->populated)
		return;
	madvise((char *)L->h + L->populated, want - L->populated,
		MADV_POPULATE_WRITE);
	L->populated = want;
}

/* Moves the later calibration point to now: the longer the span, the
 * more exact the conversion of ticks to ns. */
static void calibrate(struct live *L)
{
	if (!L->tsc)
		return;
	L->own.cal_tsc1 = L->h->cal_tsc1 = clock_ticks();
	L->own.cal_ns1 = L->h->cal_ns1 = clock_now_ns();
}

/* Takes the first calibration point, and a second 2 ms later so a reader
 * can convert from the start; later passes move the second one on. */
void start_clock(struct live *L)
{
	if (!clock_tsc_usable())
		return;
	L->tsc = 1;
	L->h->flags |= SHMT_HF_TSC;
	L->h->cal_tsc0 = clock_ticks();
	L->h->cal_ns0 = clock_now_ns();
	while (clock_now_ns() - L->h->cal_ns0 < 2000000)
		;
	calibrate(L);
}

/* Is the committed slot `e` (a private copy) one the viewer can read:
 * known call and object, frames and string inside the region?  Traced
 * programs can write anywhere in it. */
static int slot_valid(const struct live *L, const struct shmt_event *e,
		      uint64_t arena_used)
{
	return e->call != SHMT_CALL_NONE && e->call < SHMT_CALL_COUNT &&
	       e->obj < SHMT_OBJ_COUNT && e->nframes <= L->layout.depth &&
	       (uint64_t)e->str_off + e->str_len <= arena_used &&
	       e->str_len <= SHMT_MAX_STRING;
}

/* Nanoseconds since the trace's start of a time the region holds (TSC
 * ticks when the run stamps in ticks). */
static uint64_t rel_ns(const struct live *L, uint64_t t)
{
	const struct shmt_header *h = &L->own;
	if (L->tsc)
		t = clock_ticks_to_ns(t, h->cal_tsc0, h->cal_ns0, h->cal_tsc1, h->cal_ns1);
	return t > h->start_ns ? t - h->start_ns : 0;
}

static uint64_t span_ns(const struct live *L, uint64_t d)
{
	const struct shmt_header *h = &L->own;
	return L->tsc ? clock_ticks_span_ns(d, h->cal_tsc0, h->cal_ns0, h->cal_tsc1,
					    h->cal_ns1) : d;
}

/* Appends slot `e` (a private copy; its frames follow it in `slot`) as an
 * event record. */
static void append_slot(struct live *L, struct records_writer *w,
			const struct shmt_event *e, const unsigned char *slot)
{
	uint64_t frames[SHMT_MAX_DEPTH];
	struct records_event r = {
		.seq = e->commit - 1, .call = e->call, .flags = e->flags, .err = e->err, .obj = e->obj,
		.pid = e->pid, .tid = e->tid, .time_ns = rel_ns(L, e->time_ns),
		.duration_ns = span_ns(L, e->duration_ns), .ret = e->ret,
	};
	memcpy(r.args, e->args, sizeof(r.args));
	memcpy(frames, slot + SHMT_EVENT_FIXED, e->nframes * sizeof(*frames));
	records_writer_event(w, &r, frames, e->nframes,
			     (char *)L->h + L->layout.arena_offset + e->str_off,
			     e->str_len);
}

/* Looks at slot i: appends it when committed (and valid).  Returns 1
 * when it was committed. */
/* The used part of the arena now, at most its size. */
static uint64_t arena_used_now(const struct live *L)
{
	uint64_t used = __atomic_load_n(&L->h->arena_head, __ATOMIC_ACQUIRE);
	return used < L->layout.arena_size ? used : L->layout.arena_size;
}

static int take_slot(struct live *L, uint64_t i, uint64_t *arena_used,
		     uint64_t *corrupt)
{
	const unsigned char *slot = (const unsigned char *)slot_at(L, i);
	struct shmt_event e;
	memcpy(&e, slot, sizeof(e));	/* copy, then check the copy */
	if (__atomic_load_n(&((const struct shmt_event *)slot)->commit,
			    __ATOMIC_ACQUIRE) != i + 1 || e.commit != i + 1)
		return 0;
	/* a string carved after our look at the arena (its slot committed
	 * since) is there by now: look again before calling it corrupt */
	if (!slot_valid(L, &e, *arena_used))
		*arena_used = arena_used_now(L);
	if (slot_valid(L, &e, *arena_used)) {
		append_slot(L, &L->w, &e, slot);
		capacity_saw(&L->cap, &e);
	} else {
		(*corrupt)++;
	}
	return 1;
}

static void keep_hole(struct live *L, uint64_t i)
{
	if (L->nholes == HOLES_MAX) {
		L->abandoned++;	/* no room to look at it again */
		return;
	}
	if (L->nholes == L->holes_cap) {
		size_t cap = L->holes_cap ? 2 * L->holes_cap : 64;
		uint64_t *h = realloc(L->holes, cap * sizeof(*h));
		if (!h) {
			L->abandoned++;
			return;
		}
		L->holes = h;
		L->holes_cap = cap;
	}
	L->holes[L->nholes++] = i;
}

/* Appends the slots committed since the last pass: the holes a pass found
 * still being written and committed since (a process stopped mid-write
 * by SIGSTOP commits when it goes on), then the new slots from L->done
 * on, each hole kept for the next pass.  Past `head` too while slots are
 * committed: a program that reset the head (writing over the header)
 * does not hide what it wrote before.  `last` (the run is over) gives up
 * on the holes: their writers died mid-write. */
static void take_slots(struct live *L, int last, uint64_t *corrupt)
{
	uint64_t head = used_slots(L);
	uint64_t arena_used = arena_used_now(L);
	size_t kept = 0;
	for (size_t k = 0; k < L->nholes; k++)
		if (!take_slot(L, L->holes[k], &arena_used, corrupt))
			L->holes[kept++] = L->holes[k];
	L->nholes = kept;
	for (; L->done < L->layout.slot_capacity; L->done++) {
		if (take_slot(L, L->done, &arena_used, corrupt))
			continue;
		if (L->done >= head)
			break;	/* nothing reserved there yet */
		keep_hole(L, L->done);
	}
	if (last) {
		L->abandoned += L->nholes;
		L->nholes = 0;
	}
}

/* Loss records for what the region dropped (full) and what was corrupt
 * since the last pass: the report can say when. */
static void note_losses(struct live *L, uint64_t corrupt, uint64_t now)
{
	uint64_t dropped = __atomic_load_n(&L->h->dropped, __ATOMIC_ACQUIRE);
	if (dropped > L->seen_dropped)
		records_writer_loss(&L->w, RECORDS_LOSS_RING_FULL,
				    dropped - L->seen_dropped, 0, L->last_pass_ns, now);
	if (dropped > L->seen_dropped)
		L->seen_dropped = dropped;
	if (corrupt)
		records_writer_loss(&L->w, RECORDS_LOSS_CORRUPT, corrupt, 0,
				    L->last_pass_ns, now);
	L->last_pass_ns = now;
}

/* Has the traced program written over the region's header?  What only
 * the launcher writes there must still be what it wrote, and the head
 * must not have gone back. */
static int header_damaged(const struct live *L)
{
	const struct shmt_header *h = L->h, *o = &L->own;
	return memcmp(h->magic, o->magic, sizeof(o->magic)) || h->token != o->token ||
	       h->start_ns != o->start_ns || h->creator_pid != o->creator_pid ||
	       h->launcher_fd != o->launcher_fd ||
	       __atomic_load_n(&h->head, __ATOMIC_RELAXED) < L->done;
}

/* The header as the file carries it: ours (identity, clock), with the
 * region's counters, which only the programs write; the flags given, and
 * SHMT_HF_DAMAGED once the program wrote over the region's header (the
 * writer sets the layout). */
static void write_header(struct live *L, uint32_t more_flags)
{
	struct shmt_header out;
	memcpy(&out, L->h, sizeof(out));	/* the counters */
	memcpy(&out, &L->own, offsetof(struct shmt_header, head));
	out.flags |= more_flags | (L->damaged ? SHMT_HF_DAMAGED : 0);
	records_writer_header(&L->w, &out);
}

int start_trace(struct live *L)
{
	if (records_writer_open(&L->w, L->file_fd, L->h) < 0)
		return error("cannot write '%s': %s", L->output,
			     strerror(L->w.error ? L->w.error : errno));
	return 0;
}

/* One pass (see launcher.h); `last` gives up on the slots still open. */
static void pass(struct live *L, int last)
{
	uint64_t corrupt = 0;
	calibrate(L);
	if (!L->damaged && header_damaged(L))
		L->damaged = 1;	/* said in the summary and the file's header */
	take_slots(L, last, &corrupt);
	capacity_record_pending(L, &L->cap);	/* taken out next pass */
	note_losses(L, corrupt, rel_ns(L, L->tsc ? clock_ticks() : clock_now_ns()));
	if (records_writer_flush(&L->w) == 0)
		write_header(L, 0);
}

void sync_live(struct live *L)
{
	pass(L, 0);
}

int write_final(struct live *L, int status)
{
	struct shmt_header *h = &L->own;
	L->h->end_ns = h->end_ns = clock_now_ns();
	L->h->exit_status = h->exit_status = status;
	pass(L, 1);
	if (L->abandoned)	/* never committed: their writers died mid-write */
		records_writer_loss(&L->w, RECORDS_LOSS_ABANDONED, L->abandoned, 0, 0,
				    h->end_ns - h->start_ns);
	/* a file that could not be written whole is not final: a reader
	 * takes its whole records and drops the torn one */
	write_header(L, records_writer_flush(&L->w) == 0 ? SHMT_HF_FINAL : 0);
	int err = L->w.error;
	records_writer_free(&L->w);
	if (err)
		return error("cannot write the trace: %s", strerror(err));
	h->flags |= SHMT_HF_FINAL;
	L->h->flags |= SHMT_HF_FINAL;
	return 0;
}
