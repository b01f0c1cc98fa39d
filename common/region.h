/*
 * region.h - creating, checking and mapping a trace region.
 *
 * Shared by the launcher (which creates the region of a run), the shim
 * (which maps it, or creates one when LD_PRELOAD was set by hand) and the
 * viewer (which checks a trace file's header before trusting it).
 */
#ifndef SHMTRACE_REGION_H
#define SHMTRACE_REGION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "shmtrace-format.h"

#define REGION_DEFAULT_EVENTS (1u << 20)  /* about a million events */
#define REGION_MIN_SIZE (64u * 1024u)

/* Where the parts of a region go for a given size and depth. */
struct region_layout {
	uint64_t total_size;
	uint32_t slot_size;
	uint32_t depth;
	uint64_t slot_offset, slot_capacity;
	uint64_t arena_offset, arena_size;
};

/* Bytes of a region holding `events` events at `depth` frames, with an
 * arena sized for their strings. */
uint64_t region_default_size(uint64_t events, uint32_t depth);

/* The layout a checked header describes. */
void region_layout_of(const struct shmt_header *h, struct region_layout *out);

/* Splits `total` bytes into header, slots and arena for `depth` frames.
 * Returns 0, or -1 when total is too small or depth too large. */
int region_layout(uint64_t total, uint32_t depth, struct region_layout *out);

/* Writes the layout fields of a header from `l`. */
void region_set_layout(struct shmt_header *h, const struct region_layout *l);

/* Writes a fresh header for layout `l` into `h` (which must be zeroed
 * memory of at least SHMT_HEADER_SIZE bytes). */
void region_init_header(struct shmt_header *h, const struct region_layout *l,
			uint32_t flags);

/* Checks a header against the size of the bytes it heads: the one check
 * of a header, for the shim attaching a region and the viewer opening a
 * file alike.  Returns 0 when the header is one shmtrace wrote and every
 * offset, size and count fits inside `size` bytes (header <= slots <=
 * arena <= total <= size); otherwise -1 with what is wrong in `why` ("not a
 * shmtrace file (bad magic)", "unsupported format version 7 ...").  `h`
 * should be a private copy when a writer may be changing it.  Never
 * trusts a field before checking it; overflow-safe; no allocation. */
int region_check_header(const struct shmt_header *h, uint64_t size,
			char *why, size_t why_size);

/* The same for a trace file, which may also be a compact file of records
 * (version SHMT_VERSION_RECORDS, records.h): for it, the identity and the
 * depth, and for a finished one its length; the records are checked one
 * by one as they are read. */
int region_check_file_header(const struct shmt_header *h, uint64_t size,
			     char *w, size_t wn);

/* printf into a fixed "why" buffer of `size` bytes; always returns -1, so
 * a check can `return region_why(why, why_size, ...)`.  No allocation. */
int region_why(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Creates `path` for a new trace: O_EXCL, mode 0600, never through a
 * symlink; with `force`, an existing file or link at `path` is removed
 * first (a directory is not).  Reserves `size` bytes on disk so a full disk
 * is an error now and not a SIGBUS later.  Returns the fd, or -1 with errno
 * set (ENOSPC when the disk cannot hold the trace; the file is removed). */
int region_create_file(const char *path, uint64_t size, int force);

/* Maps `size` bytes of fd shared and read-write with a raw system call (the
 * shim's own mmap must never reach its own hook).  Returns NULL on error. */
void *region_map(int fd, uint64_t size);

/* Random 64 bits identifying a run (getrandom, or time and pid mixed). */
uint64_t region_token(void);

/* The slot of event `seq` (0-based) of a region laid out as `l`.  Writers
 * address slots through their own checked copy of the layout, never
 * through the shared header a traced program could scribble on. */
static inline struct shmt_event *region_slot(void *base,
					     const struct region_layout *l,
					     uint64_t seq)
{
	return (struct shmt_event *)((char *)base + l->slot_offset +
				     seq * l->slot_size);
}

/* Reserves the next slot: one fetch-add, no lock.  Returns 1 with *seq
 * set, or 0 when the region is full (the drop is counted). */
static inline int region_reserve(struct shmt_header *h,
				 const struct region_layout *l, uint64_t *seq)
{
	uint64_t i = __atomic_fetch_add(&h->head, 1, __ATOMIC_RELAXED);
	if (i >= l->slot_capacity) {
		__atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
		return 0;
	}
	*seq = i;
	return 1;
}

/* Publishes a filled slot: readers trust it from now on. */
static inline void region_commit(struct shmt_event *ev, uint64_t seq)
{
	__atomic_store_n(&ev->commit, seq + 1, __ATOMIC_RELEASE);
}

#endif
