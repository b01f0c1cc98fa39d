/*
 * region-layout.c - the pure part of a trace region: its layout, a fresh
 * header (stamped with the clock, the owner and the creator's pid), and
 * the one check of a header.  The file part (create, map, token) is
 * region-file.c.
 */
#include "region.h"
#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/* Strings are rare (names, paths, argv, modules): a sixteenth of the
 * region holds them. */
#define ARENA_SHARE 16u

uint64_t region_default_size(uint64_t events, uint32_t depth)
{
	uint64_t slot = shmt_slot_size(depth);
	uint64_t total = SHMT_HEADER_SIZE + events * slot;
	total += total / (ARENA_SHARE - 1);
	struct region_layout l;
	while (region_layout(total, depth, &l) == 0 && l.slot_capacity < events)
		total += slot * 2;	/* rounding in the split: grow to fit */
	return total;
}

int region_layout(uint64_t total, uint32_t depth, struct region_layout *out)
{
	if (depth > SHMT_MAX_DEPTH || total < REGION_MIN_SIZE)
		return -1;
	if (total > (UINT64_C(1) << 46))	/* 64 TiB: beyond any sane trace */
		return -1;
	memset(out, 0, sizeof(*out));
	out->total_size = total;
	out->depth = depth;
	out->slot_size = shmt_slot_size(depth);
	out->arena_size = total / ARENA_SHARE;
	if (out->arena_size > UINT32_MAX)	/* str_off is 32 bits */
		out->arena_size = UINT32_MAX;
	out->slot_offset = SHMT_HEADER_SIZE;
	out->slot_capacity =
		(total - SHMT_HEADER_SIZE - out->arena_size) / out->slot_size;
	if (out->slot_capacity == 0)
		return -1;
	out->arena_offset = out->slot_offset + out->slot_capacity * out->slot_size;
	out->arena_size = total - out->arena_offset;
	if (out->arena_size > UINT32_MAX)
		out->arena_size = UINT32_MAX;
	return 0;
}

void region_layout_of(const struct shmt_header *h, struct region_layout *out)
{
	out->total_size = h->total_size;
	out->slot_size = h->slot_size;
	out->depth = h->max_depth;
	out->slot_offset = h->slot_offset;
	out->slot_capacity = h->slot_capacity;
	out->arena_offset = h->arena_offset;
	out->arena_size = h->arena_size;
}

void region_set_layout(struct shmt_header *h, const struct region_layout *l)
{
	h->slot_size = l->slot_size;
	h->max_depth = l->depth;
	h->slot_offset = l->slot_offset;
	h->slot_capacity = l->slot_capacity;
	h->arena_offset = l->arena_offset;
	h->arena_size = l->arena_size;
	h->total_size = l->total_size;
}

void region_init_header(struct shmt_header *h, const struct region_layout *l,
			uint32_t flags)
{
	memcpy(h->magic, SHMT_MAGIC, sizeof(h->magic));
	h->version = SHMT_VERSION;
	h->header_size = SHMT_HEADER_SIZE;
	h->endian = SHMT_ENDIAN_TAG;
	h->flags = flags;
	region_set_layout(h, l);
	h->owner_uid = geteuid();
	h->creator_pid = (uint64_t)getpid();
	h->start_ns = clock_now_ns();
	h->start_realtime_ns = clock_realtime_ns();
	h->depth = l->depth;
	h->token = region_token();
}

int region_why(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_identity(const struct shmt_header *h, uint64_t size,
			  bool records_too, char *w, size_t wn)
{
	if (size < sizeof(h->magic) ||
	    memcmp(h->magic, SHMT_MAGIC, sizeof(h->magic)) != 0)
		return region_why(w, wn, "not a shmtrace file (bad magic)");
	if (size < sizeof(*h))
		return region_why(w, wn, "truncated (%llu bytes, the header alone needs %u)",
			   (unsigned long long)size, SHMT_HEADER_SIZE);
	if (h->endian == __builtin_bswap32(SHMT_ENDIAN_TAG))
		return region_why(w, wn, "written with the other byte order "
			   "(endian tag 0x%08x)", h->endian);
	if (h->endian != SHMT_ENDIAN_TAG)
		return region_why(w, wn, "corrupted header (bad endian tag 0x%08x)",
			   h->endian);
	if (records_too && h->version == SHMT_VERSION_RECORDS)
		; /* the compact file */
	else if (h->version == SHMT_VERSION_RECORDS)
		return region_why(w, wn, "a finished trace (records), not a live "
			   "region: the run it belongs to has ended");
	else if (h->version != SHMT_VERSION)
		return region_why(w, wn, "unsupported format version %u (this build "
			   "reads versions %u and %u)", h->version, SHMT_VERSION,
			   SHMT_VERSION_RECORDS);
	if ((h->version == SHMT_VERSION_RECORDS) != !!(h->flags & SHMT_HF_RECORDS))
		return region_why(w, wn, "corrupted header (version %u with flags 0x%x)",
			   h->version, h->flags);
	if (h->header_size != SHMT_HEADER_SIZE)
		return region_why(w, wn, "corrupted header (header_size %u, expected %u)",
			   h->header_size, SHMT_HEADER_SIZE);
	return 0;
}

static int check_slots(const struct shmt_header *h, char *w, size_t wn)
{
	if (h->max_depth > SHMT_MAX_DEPTH)
		return region_why(w, wn, "corrupted header (max_depth %u exceeds %u)",
			   h->max_depth, SHMT_MAX_DEPTH);
	if (h->slot_size != shmt_slot_size(h->max_depth))
		return region_why(w, wn, "corrupted header (slot_size %u does not "
			   "fit max_depth %u)", h->slot_size, h->max_depth);
	/* slots must be 8-aligned for the atomic commit word */
	if (h->slot_offset < SHMT_HEADER_SIZE || h->slot_offset % 8 != 0)
		return region_why(w, wn, "corrupted header (slot_offset %llu)",
			   (unsigned long long)h->slot_offset);
	return 0;
}

static int check_extent(const struct shmt_header *h, uint64_t size,
			char *w, size_t wn)
{
	uint64_t slot_bytes, slot_end, arena_end;
	if (__builtin_mul_overflow(h->slot_capacity, (uint64_t)h->slot_size,
				   &slot_bytes) ||
	    __builtin_add_overflow(h->slot_offset, slot_bytes, &slot_end))
		return region_why(w, wn, "corrupted header (slot_capacity %llu overflows)",
			   (unsigned long long)h->slot_capacity);
	if (h->arena_offset < slot_end)
		return region_why(w, wn, "corrupted header (arena at %llu overlaps the "
			   "slots ending at %llu)", (unsigned long long)h->arena_offset,
			   (unsigned long long)slot_end);
	if (__builtin_add_overflow(h->arena_offset, h->arena_size, &arena_end))
		return region_why(w, wn, "corrupted header (arena_size %llu overflows)",
			   (unsigned long long)h->arena_size);
	if (h->arena_size > UINT32_MAX)	/* string offsets are 32 bits */
		return region_why(w, wn, "corrupted header (arena_size %llu exceeds 4 GiB)",
			   (unsigned long long)h->arena_size);
	if (h->total_size < arena_end)
		return region_why(w, wn, "corrupted header (total_size %llu is less than "
			   "the arena's end %llu)", (unsigned long long)h->total_size,
			   (unsigned long long)arena_end);
	if (h->total_size > size)
		return region_why(w, wn, "truncated (%llu bytes, the header says %llu)",
			   (unsigned long long)size,
			   (unsigned long long)h->total_size);
	return 0;
}

static int check_clock(const struct shmt_header *h, char *w, size_t wn)
{
	if ((h->flags & SHMT_HF_TSC) &&
	    (h->cal_tsc1 <= h->cal_tsc0 || h->cal_ns1 <= h->cal_ns0))
		return region_why(w, wn, "corrupted header (clock calibration)");
	return 0;
}

int region_check_header(const struct shmt_header *h, uint64_t size,
			char *w, size_t wn)
{
	if (check_identity(h, size, false, w, wn) || check_slots(h, w, wn) ||
	    check_extent(h, size, w, wn) || check_clock(h, w, wn))
		return -1;
	return 0;
}

int region_check_file_header(const struct shmt_header *h, uint64_t size,
			     char *w, size_t wn)
{
	if (h->version != SHMT_VERSION_RECORDS || size < sizeof(h->magic) ||
	    memcmp(h->magic, SHMT_MAGIC, sizeof(h->magic)) != 0)
		return region_check_header(h, size, w, wn);
	if (check_identity(h, size, true, w, wn))
		return -1;
	if (h->max_depth > SHMT_MAX_DEPTH)
		return region_why(w, wn, "corrupted header (max_depth %u exceeds %u)",
			   h->max_depth, SHMT_MAX_DEPTH);
	/* a finished file knows its length; a growing one may end torn */
	if ((h->flags & SHMT_HF_FINAL) && h->total_size > size)
		return region_why(w, wn, "truncated (%llu bytes, the header says %llu)",
			   (unsigned long long)size,
			   (unsigned long long)h->total_size);
	return 0;
}
