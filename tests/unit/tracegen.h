/*
 * tracegen.h - builds synthetic traces in memory for the unit tests: a
 * header, committed events one by one, strings in the arena.  A test then
 * writes the buffer to a file and opens it with trace_open().
 */
#ifndef SHMTRACE_TRACEGEN_H
#define SHMTRACE_TRACEGEN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shmtrace-format.h"

/* --- a trace builder ------------------------------------------------------ */

struct tb {
	unsigned char *buf;
	size_t size;
	struct shmt_header *h;
};

#define TB_DEPTH 4u
#ifndef TB_CAP
#define TB_CAP 32u
#endif
#define TB_ARENA 4096u

static inline void tb_init(struct tb *b)
{
	uint32_t slot = shmt_slot_size(TB_DEPTH);

	b->size = SHMT_HEADER_SIZE + (size_t)TB_CAP * slot + TB_ARENA;
	b->buf = calloc(1, b->size);
	b->h = (struct shmt_header *)b->buf;
	memcpy(b->h->magic, SHMT_MAGIC, 8);
	b->h->version = SHMT_VERSION;
	b->h->header_size = SHMT_HEADER_SIZE;
	b->h->endian = SHMT_ENDIAN_TAG;
	b->h->slot_size = slot;
	b->h->max_depth = TB_DEPTH;
	b->h->flags = SHMT_HF_FINAL;
	b->h->slot_offset = SHMT_HEADER_SIZE;
	b->h->slot_capacity = TB_CAP;
	b->h->arena_offset = SHMT_HEADER_SIZE + (uint64_t)TB_CAP * slot;
	b->h->arena_size = TB_ARENA;
	b->h->total_size = b->size;
	b->h->start_ns = 1000000000;
	b->h->depth = TB_DEPTH;
}

static inline struct shmt_event *tb_slot(struct tb *b, uint64_t i)
{
	return (struct shmt_event *)(b->buf + b->h->slot_offset +
				     i * b->h->slot_size);
}

/* Reserve and commit the next slot; the caller fills in the rest. */
static inline struct shmt_event *tb_add(struct tb *b, uint16_t call, int32_t pid)
{
	uint64_t i = b->h->head++;
	struct shmt_event *e = tb_slot(b, i);

	e->commit = i + 1;
	e->call = call;
	e->pid = pid;
	e->tid = pid;
	e->time_ns = b->h->start_ns + 1000 * (i + 1);
	e->duration_ns = 12000;
	return e;
}

static inline void tb_str(struct tb *b, struct shmt_event *e, const char *s,
		   size_t n)
{
	memcpy(b->buf + b->h->arena_offset + b->h->arena_head, s, n);
	e->str_off = (uint32_t)b->h->arena_head;
	e->str_len = (uint32_t)n;
	b->h->arena_head += n;
}

static inline void tb_free(struct tb *b)
{
	free(b->buf);
}

#endif
