/*
 * records-writer.c - appending records to a compact trace file: the
 * buffer, and the interning that stores each distinct backtrace and
 * string once (records.h says the format).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#include "records-writer.h"

#define FLUSH_AT (256u * 1024u)   /* bytes buffered before a write */
#define BUF_SIZE (FLUSH_AT + RECORDS_STRING_MAX(SHMT_MAX_STRING) + \
		  RECORDS_STACK_MAX(SHMT_MAX_DEPTH) + RECORDS_EVENT_MAX)

/* A stack or string already written: its bytes are the hash key. */
struct interned {
	UT_hash_handle hh;
	uint64_t id;
	size_t len;
	unsigned char key[];
};

static int write_all(struct records_writer *w, const void *buf, size_t len,
		     uint64_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(w->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!w->error)
				w->error = n < 0 ? errno : EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int records_writer_open(struct records_writer *w, int fd,
			const struct shmt_header *h)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->buf = malloc(BUF_SIZE);
	if (!w->buf)
		return -1;
	w->off = SHMT_HEADER_SIZE;
	return records_writer_header(w, h);
}

int records_writer_flush(struct records_writer *w)
{
	if (w->error) {	/* the file ends at its last whole write */
		w->used = 0;
		return -1;
	}
	if (w->used && write_all(w, w->buf, w->used, w->off) == 0)
		w->off += w->used;
	w->used = 0;
	return w->error ? -1 : 0;
}

static unsigned char *room(struct records_writer *w)
{
	if (w->used >= FLUSH_AT)
		records_writer_flush(w);
	return w->buf + w->used;
}

/* The id of the stack or string `key`, writing its record first if it is
 * new (`put` writes it into the buffer). */
static uint64_t intern(struct records_writer *w, struct interned **table,
		       uint64_t *count, const void *key, size_t len, int is_stack)
{
	struct interned *e;
	HASH_FIND(hh, *table, key, len, e);
	if (e)
		return e->id;
	e = malloc(sizeof(*e) + len);
	if (!e)
		return 0;	/* out of memory: the event goes without it */
	e->id = ++*count;
	e->len = len;
	memcpy(e->key, key, len);
	HASH_ADD_KEYPTR(hh, *table, e->key, len, e);
	unsigned char *p = room(w);
	w->used += is_stack ? records_put_stack(p, e->id, key, (unsigned)(len / 8))
			    : records_put_string(p, e->id, key, len);
	return e->id;
}

int records_writer_event(struct records_writer *w, const struct records_event *e,
			 const uint64_t *frames, unsigned nframes,
			 const void *str, size_t str_len)
{
	struct records_event r = *e;
	if (nframes > SHMT_MAX_DEPTH)
		nframes = SHMT_MAX_DEPTH;
	if (str_len > SHMT_MAX_STRING)
		str_len = SHMT_MAX_STRING;
	r.stack_id = nframes ? intern(w, &w->stacks, &w->nstacks, frames,
				      nframes * sizeof(*frames), 1) : 0;
	r.str_id = str_len ? intern(w, &w->strings, &w->nstrings, str, str_len, 0) : 0;
	unsigned char *p = room(w);
	size_t n = records_put_event(p, &r, w->events);
	w->used += n;
	w->events++;
	w->event_bytes += n;
	return w->error ? -1 : 0;
}

int records_writer_loss(struct records_writer *w, enum records_loss cause,
			uint64_t count, int32_t pid, uint64_t from_ns, uint64_t to_ns)
{
	unsigned char *p = room(w);
	w->used += records_put_loss(p, cause, count, pid, from_ns, to_ns);
	return w->error ? -1 : 0;
}

int records_writer_header(struct records_writer *w, const struct shmt_header *h)
{
	struct shmt_header out = *h;
	memcpy(out.magic, SHMT_MAGIC, sizeof(out.magic));
	out.version = SHMT_VERSION_RECORDS;
	out.header_size = SHMT_HEADER_SIZE;
	out.endian = SHMT_ENDIAN_TAG;
	out.flags = (h->flags & ~(SHMT_HF_TSC | SHMT_HF_COMPACT)) | SHMT_HF_RECORDS;
	out.slot_size = 0;
	out.slot_offset = out.slot_capacity = 0;
	out.arena_offset = out.arena_size = out.arena_head = 0;
	out.max_depth = SHMT_MAX_DEPTH;
	out.head = w->events;
	out.total_size = w->off + w->used;
	return write_all(w, &out, sizeof(out), 0);
}

void records_writer_free(struct records_writer *w)
{
	struct interned *e, *tmp;
	HASH_ITER(hh, w->stacks, e, tmp) {
		HASH_DEL(w->stacks, e);
		free(e);
	}
	HASH_ITER(hh, w->strings, e, tmp) {
		HASH_DEL(w->strings, e);
		free(e);
	}
	free(w->buf);
	w->buf = NULL;
}
