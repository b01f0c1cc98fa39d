/* track.c - per-process tables of shared mappings, segment sizes, fds. */
#include "track.h"

#define MAP_SLOTS 4096
#define SEGSZ_SLOTS 256
#define FD_SLOTS 4096
#define END_CLAIMED UINTPTR_MAX	/* slot taken, start not written yet */

/* --- shared mappings ----------------------------------------------------------
 * Slots claimed by CAS on `end`, filled from the lowest index so that a scan
 * stops at the high-water mark.  `lo`/`hi` bound every range ever added, so
 * the common case (a private munmap far from any shared mapping) costs two
 * compares.  When the table is full, everything overlaps. */
static struct {
	uintptr_t start, end;
} maps[MAP_SLOTS];
static unsigned map_hiwater;
static uintptr_t map_lo = UINTPTR_MAX, map_hi;
static int map_overflow;

static void widen(uintptr_t start, uintptr_t end)
{
	uintptr_t cur = __atomic_load_n(&map_lo, __ATOMIC_RELAXED);
	while (start < cur && !__atomic_compare_exchange_n(&map_lo, &cur, start, 1,
				__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	cur = __atomic_load_n(&map_hi, __ATOMIC_RELAXED);
	while (end > cur && !__atomic_compare_exchange_n(&map_hi, &cur, end, 1,
				__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void track_map_add(uintptr_t addr, size_t len)
{
	uintptr_t end = addr + (len ? len : 1);
	widen(addr, end);
	for (unsigned i = 0; i < MAP_SLOTS; i++) {
		uintptr_t free_end = 0;
		if (!__atomic_compare_exchange_n(&maps[i].end, &free_end, END_CLAIMED,
						 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&maps[i].start, addr, __ATOMIC_RELAXED);
		__atomic_store_n(&maps[i].end, end, __ATOMIC_RELEASE);
		unsigned hw = __atomic_load_n(&map_hiwater, __ATOMIC_RELAXED);
		while (i + 1 > hw && !__atomic_compare_exchange_n(&map_hiwater, &hw,
					i + 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
		return;
	}
	__atomic_store_n(&map_overflow, 1, __ATOMIC_RELAXED);
}

/* Frees slot i if it still holds [start, end).  Returns 1 if it did. */
static int take_slot(unsigned i, uintptr_t start, uintptr_t end,
		     struct track_taken *t)
{
	if (!__atomic_compare_exchange_n(&maps[i].end, &end, 0, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return 0;
	if (t->n < TRACK_TAKE_MAX) {
		t->r[t->n].start = start;
		t->r[t->n].end = end;
	}
	t->n++;
	return 1;
}

/* Takes the ranges for which keep(start, end) says so. */
static void take_where(uintptr_t a, uintptr_t b, int exact_start,
		       struct track_taken *t)
{
	t->n = 0;
	unsigned hw = __atomic_load_n(&map_hiwater, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < hw; i++) {
		uintptr_t e = __atomic_load_n(&maps[i].end, __ATOMIC_ACQUIRE);
		if (e == 0 || e == END_CLAIMED)
			continue;
		uintptr_t s = __atomic_load_n(&maps[i].start, __ATOMIC_RELAXED);
		/* a partial unmap keeps the whole range: over-approximation */
		if (exact_start ? s == a : (s >= a && e <= b))
			take_slot(i, s, e, t);
	}
}

void track_map_take(uintptr_t addr, size_t len, struct track_taken *t)
{
	take_where(addr, addr + len, 0, t);
}

void track_map_take_at(uintptr_t start, struct track_taken *t)
{
	take_where(start, 0, 1, t);
}

void track_map_put_back(const struct track_taken *t)
{
	if (t->n > TRACK_TAKE_MAX)	/* lost some: assume the worst */
		__atomic_store_n(&map_overflow, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < t->n && i < TRACK_TAKE_MAX; i++)
		track_map_add(t->r[i].start, t->r[i].end - t->r[i].start);
}

int track_map_overlaps(uintptr_t addr, size_t len)
{
	uintptr_t end = addr + (len ? len : 1);
	if (end <= __atomic_load_n(&map_lo, __ATOMIC_RELAXED) ||
	    addr >= __atomic_load_n(&map_hi, __ATOMIC_RELAXED))
		return 0;
	if (__atomic_load_n(&map_overflow, __ATOMIC_RELAXED))
		return 1;
	unsigned hw = __atomic_load_n(&map_hiwater, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < hw; i++) {
		uintptr_t e = __atomic_load_n(&maps[i].end, __ATOMIC_ACQUIRE);
		if (e == 0)
			continue;
		if (e == END_CLAIMED)
			return 1;	/* being added: assume it overlaps */
		uintptr_t s = __atomic_load_n(&maps[i].start, __ATOMIC_RELAXED);
		if (addr < e && end > s)
			return 1;
	}
	return 0;
}

/* --- SysV segment sizes ----------------------------------------------------------
 * A small direct-mapped cache.  A writer invalidates the key before
 * changing the value; a reader trusts the value only if the key read before
 * and after it is the one it wants. */
static struct {
	int64_t key;		/* shmid + 1, 0 = empty */
	uint64_t size;
} segsz[SEGSZ_SLOTS];

void track_segsz_put(int shmid, uint64_t size)
{
	unsigned i = (unsigned)shmid % SEGSZ_SLOTS;
	__atomic_store_n(&segsz[i].key, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&segsz[i].size, size, __ATOMIC_RELEASE);
	__atomic_store_n(&segsz[i].key, (int64_t)shmid + 1, __ATOMIC_RELEASE);
}

uint64_t track_segsz_get(int shmid)
{
	unsigned i = (unsigned)shmid % SEGSZ_SLOTS;
	int64_t want = (int64_t)shmid + 1;
	if (__atomic_load_n(&segsz[i].key, __ATOMIC_ACQUIRE) != want)
		return 0;
	uint64_t size = __atomic_load_n(&segsz[i].size, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&segsz[i].key, __ATOMIC_ACQUIRE) != want)
		return 0;
	return size;
}

/* --- descriptors ----------------------------------------------------------------
 * One word per fd: kind in the top byte, origin below.  Descriptors past
 * FD_SLOTS are not tracked (their mappings are still recorded, as files). */
static uint64_t fds[FD_SLOTS];

void track_fd_set(int fd, uint32_t obj, uint64_t origin)
{
	if (fd >= 0 && fd < FD_SLOTS)
		__atomic_store_n(&fds[fd], ((uint64_t)obj << 56) |
				 (origin & ((UINT64_C(1) << 56) - 1)), __ATOMIC_RELAXED);
}

int track_fd_get(int fd, uint32_t *obj, uint64_t *origin)
{
	if (fd < 0 || fd >= FD_SLOTS)
		return 0;
	uint64_t v = __atomic_load_n(&fds[fd], __ATOMIC_RELAXED);
	if (!v)
		return 0;
	*obj = (uint32_t)(v >> 56);
	*origin = v & ((UINT64_C(1) << 56) - 1);
	return 1;
}

void track_fd_clear(int fd)
{
	if (fd >= 0 && fd < FD_SLOTS)
		__atomic_store_n(&fds[fd], 0, __ATOMIC_RELAXED);
}

void track_fd_clear_range(unsigned first, unsigned last)
{
	for (unsigned fd = first; fd < FD_SLOTS && fd <= last; fd++)
		__atomic_store_n(&fds[fd], 0, __ATOMIC_RELAXED);
}

void track_fd_dup(int oldfd, int newfd)
{
	uint32_t obj;
	uint64_t origin;
	if (track_fd_get(oldfd, &obj, &origin))
		track_fd_set(newfd, obj, origin);
	else
		track_fd_clear(newfd);
}
