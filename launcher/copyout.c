/*
 * copyout.c - copying the live region into the trace file while the run
 * goes on (every SYNC_PERIOD_NS, pre-faulting ahead of the writers), the
 * launcher's own records (reaps, clock calibration), and the final,
 * compacted trace renamed into place.
 */
#include "launcher.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int pwrite_all(int fd, const void *buf, uint64_t len, uint64_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

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

/* Copies the string of a committed event into the file, bounds-checked:
 * traced programs can write anywhere in the region. */
static void copy_string(struct live *L, const struct shmt_event *ev)
{
	const struct region_layout *l = &L->layout;
	uint64_t off = ev->str_off, len = ev->str_len;
	if (!len || off > l->arena_size || len > l->arena_size - off)
		return;
	pwrite_all(L->file_fd, (char *)L->h + l->arena_offset + off, len,
		   l->arena_offset + off);
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
	L->h->cal_tsc1 = clock_ticks();
	L->h->cal_ns1 = clock_now_ns();
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

/* One pass: slots committed since the last pass, their strings, the
 * header.  A slot never committed (its writer died) holds `done` back for
 * at most ABANDON_AFTER_NS, then is passed over. */
void sync_live(struct live *L)
{
	const struct region_layout *l = &L->layout;
	uint64_t head = used_slots(L), first_open = head;
	for (uint64_t i = L->done; i < head; i++) {
		const struct shmt_event *ev = slot_at(L, i);
		if (__atomic_load_n(&ev->commit, __ATOMIC_ACQUIRE) != i + 1) {
			if (first_open == head)
				first_open = i;
			continue;
		}
		copy_string(L, ev);
		capacity_saw(&L->cap, ev);
	}
	if (head > L->done)
		pwrite_all(L->file_fd, slot_at(L, L->done),
			   (head - L->done) * l->slot_size,
			   l->slot_offset + L->done * l->slot_size);
	calibrate(L);
	pwrite_all(L->file_fd, L->h, SHMT_HEADER_SIZE, 0);
	capacity_record_pending(L, &L->cap);	/* copied out next pass */
	uint64_t now = clock_now_ns();
	if (first_open != L->done) {
		L->done = first_open;
		L->stuck_since = now;
	} else if (first_open < head && now - L->stuck_since > ABANDON_AFTER_NS) {
		L->done = first_open + 1;
	}
}

/* Writes a compacted trace with header `out` into fd: used slots, then the
 * used arena right after them, then the header last. */
static int write_compact(struct live *L, int fd, const struct shmt_header *out)
{
	const struct region_layout *l = &L->layout;
	return pwrite_all(fd, slot_at(L, 0), out->slot_capacity * l->slot_size,
			  l->slot_offset) ||
	       pwrite_all(fd, (char *)L->h + l->arena_offset, out->arena_size,
			  out->arena_offset) ||
	       pwrite_all(fd, out, sizeof(*out), 0) ||
	       ftruncate(fd, (off_t)out->total_size) ? -1 : 0;
}

/* Puts the final trace in place: written to a new file renamed over the
 * live one, so a viewer still reading the live file keeps valid pages; in
 * place (shrinking it) only when the new file cannot be made. */
static int replace_trace(struct live *L, const struct shmt_header *out)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(L->output, '/');
	int dirlen = slash ? (int)(slash - L->output + 1) : 0;
	snprintf(tmp, sizeof(tmp), "%.*s.%s.%d.tmp", dirlen, L->output,
		 slash ? slash + 1 : L->output, (int)getpid());
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0 && write_compact(L, fd, out) == 0 && rename(tmp, L->output) == 0) {
		close(L->file_fd);
		L->file_fd = fd;
		return 0;
	}
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	return write_compact(L, L->file_fd, out);
}

/* Writes the complete trace: header, used slots, used arena right after
 * them, nothing more. */
int write_final(struct live *L, int status)
{
	struct shmt_header *h = L->h;
	const struct region_layout *l = &L->layout;
	calibrate(L);
	h->end_ns = clock_now_ns();
	h->exit_status = status;
	struct shmt_header out;
	memcpy(&out, h, sizeof(out));
	/* layout from our copy, whatever a traced program wrote there */
	memcpy(out.magic, SHMT_MAGIC, sizeof(out.magic));
	region_set_layout(&out, l);
	out.flags |= SHMT_HF_FINAL | SHMT_HF_COMPACT;
	uint64_t used = used_slots(L);
	uint64_t arena_used = __atomic_load_n(&h->arena_head, __ATOMIC_ACQUIRE);
	if (arena_used > l->arena_size)
		arena_used = l->arena_size;
	out.slot_capacity = used;
	out.arena_offset = l->slot_offset + used * l->slot_size;
	out.arena_size = arena_used;
	out.total_size = out.arena_offset + arena_used;
	if (replace_trace(L, &out))
		return error("cannot write the trace: %s", strerror(errno));
	h->flags |= SHMT_HF_FINAL;
	return 0;
}
