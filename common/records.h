/*
 * records.h - the compact trace file (format version 2): what the launcher
 * appends while it drains the live rings, and what the viewer reads.
 *
 *   +--------------------+ 0
 *   | struct shmt_header |   version SHMT_VERSION_RECORDS, flag
 *   |                    |   SHMT_HF_RECORDS; the counters are the run's
 *   +--------------------+ header_size
 *   | record             |   [u8 type][varint n][n bytes of payload]
 *   | record             |   ... appended, never rewritten
 *   +--------------------+ end of file
 *
 * A record is written once, whole, by one writer (the launcher), so a file
 * cut anywhere (a launcher killed mid-write) is every record before the
 * cut plus at most one torn record, which the reader drops.  No traced
 * process can reach the file: what it scribbles over is its own ring.
 *
 * Why it is small (about 40 bytes an event where a slot takes 256):
 * numbers are LEB128 varints, signed ones zigzag-coded; an event names
 * only its non-zero arguments (a mask); its backtrace and its string are
 * ids of STACK and STRING records written once, before their first use,
 * so a stack taken a million times is stored once (heaptrack's trace
 * tree, flattened).  Ids count from 1; 0 means none.  Times are
 * nanoseconds since the header's start_ns, already converted from TSC
 * ticks by the launcher.
 *
 * Payloads (fields in order):
 *   EVENT   zz (seq - n), call, flags, err, obj, zz pid, zz (tid - pid),
 *           time, duration, zz ret, u8 argmask, args[i] for each set bit,
 *           stack id, str id; n is the event's place among the file's
 *           events, seq its slot in the region, which events refer to
 *           each other by (SHMT_ARG_ORIGIN, SHMT_ARG_OBJECT_OF): events
 *           are written in slot order, so seq - n only grows, by the slots
 *           left out (abandoned, corrupt)
 *   STACK   id, n, frame[0], zz (frame[i] - frame[i-1]) for i > 0
 *   STRING  id, n, n raw bytes (may hold NULs: exec's path\0argv...)
 *   LOSS    cause (enum records_loss), count, zz pid, from, to: `count`
 *           events or strings of process `pid` (0: unknown) were lost
 *           between times `from` and `to`
 * A reader skips a record of a type it does not know, and the fields a
 * payload holds beyond those it knows: both may be added later.
 */
#ifndef SHMTRACE_RECORDS_H
#define SHMTRACE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "shmtrace-format.h"

enum records_type {
	RECORDS_EVENT = 1,
	RECORDS_STACK = 2,
	RECORDS_STRING = 3,
	RECORDS_LOSS = 4,
};

/* Why something recorded was lost (RECORDS_LOSS). */
enum records_loss {
	RECORDS_LOSS_RING_FULL = 1,    /* the drain fell behind */
	RECORDS_LOSS_ABANDONED = 2,    /* a producer died mid-write */
	RECORDS_LOSS_CORRUPT = 3,      /* a slot failed validation */
	RECORDS_LOSS_STRING = 4,       /* a string cut or lost */
};

#define RECORDS_VARINT_MAX 10u
/* The most an EVENT record takes, framing included. */
#define RECORDS_EVENT_MAX (2u + 2u + (17u + SHMT_ARG_COUNT) * RECORDS_VARINT_MAX)
/* The most a STACK record of n frames takes, framing included. */
#define RECORDS_STACK_MAX(n) (1u + (3u + (n)) * RECORDS_VARINT_MAX)
/* The most a STRING record of n bytes takes, framing included. */
#define RECORDS_STRING_MAX(n) (1u + 3u * RECORDS_VARINT_MAX + (n))

/* One event as a record holds it. */
struct records_event {
	uint64_t seq;           /* its slot in the region */
	uint16_t call, flags, err;
	uint32_t obj;
	int32_t pid, tid;
	uint64_t time_ns;       /* since the trace's start */
	uint64_t duration_ns;
	int64_t ret;
	uint64_t args[SHMT_ARG_COUNT];
	uint64_t stack_id;      /* 0: no backtrace */
	uint64_t str_id;        /* 0: no string */
};

/* A record found in a buffer. */
struct records_frame {
	unsigned type;          /* enum records_type, or one not known */
	const unsigned char *payload;
	size_t len;             /* of the payload */
	size_t size;            /* of the whole record */
};

/* --- writing: each puts one whole record into buf, returns its size ---- */

/* buf holds at least RECORDS_EVENT_MAX bytes; `n` is the event's place
 * among the file's events. */
size_t records_put_event(unsigned char *buf, const struct records_event *e,
			 uint64_t n);
/* buf holds at least RECORDS_STACK_MAX(n) bytes. */
size_t records_put_stack(unsigned char *buf, uint64_t id, const uint64_t *frames,
			 unsigned n);
/* buf holds at least RECORDS_STRING_MAX(n) bytes. */
size_t records_put_string(unsigned char *buf, uint64_t id, const void *s, size_t n);
/* buf holds at least RECORDS_EVENT_MAX bytes. */
size_t records_put_loss(unsigned char *buf, enum records_loss cause, uint64_t count,
			int32_t pid, uint64_t from_ns, uint64_t to_ns);

/* --- reading: untrusted input, every length checked ------------------- */

/*
 * The record at p, of the `avail` bytes there.  Returns 1 with *f filled,
 * 0 when the bytes end inside the record (a torn or still-growing tail),
 * -1 when the framing itself is malformed.
 */
int records_next(const unsigned char *p, size_t avail, struct records_frame *f);

/* Decode an EVENT/STACK/STRING/LOSS payload (an event as the n-th of the
 * file).  Return 0, or -1 when it is malformed (truncated, a varint too
 * long, too many frames). */
int records_get_event(const struct records_frame *f, uint64_t n,
		      struct records_event *e);
/* Only the seq of the n-th event, from its first field; UINT64_MAX when
 * malformed. */
uint64_t records_get_seq(const struct records_frame *f, uint64_t n);
int records_get_stack(const struct records_frame *f, uint64_t *id,
		      uint64_t *frames, unsigned max, unsigned *n);
int records_get_string(const struct records_frame *f, uint64_t *id,
		       const unsigned char **s, size_t *n);
int records_get_loss(const struct records_frame *f, unsigned *cause,
		     uint64_t *count, int32_t *pid, uint64_t *from_ns,
		     uint64_t *to_ns);

#endif /* SHMTRACE_RECORDS_H */
