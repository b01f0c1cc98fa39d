/*
 * records-writer.h - appending records to a compact trace file (format in
 * records.h).  One writer per file, in one thread: the launcher.
 *
 * Records are buffered and written in large pieces at the file's end, so
 * the file only ever grows by whole records (a reader of a growing file
 * sees at most one torn record at its end, and drops it).  Each distinct
 * backtrace and string is written once, as a STACK or STRING record
 * before the first event that uses it.
 */
#ifndef SHMTRACE_RECORDS_WRITER_H
#define SHMTRACE_RECORDS_WRITER_H

#include "records.h"

struct interned;

struct records_writer {
	int fd;
	uint64_t off;                  /* bytes of the file written */
	unsigned char *buf;            /* records not yet written */
	size_t used;
	struct interned *stacks, *strings;
	uint64_t nstacks, nstrings;    /* ids given so far */
	uint64_t events, event_bytes;  /* events appended, their bytes */
	int error;                     /* errno of the first failed write */
};

/*
 * Starts a compact file on `fd` (empty, or to be overwritten): writes `h`
 * as its header (version, flags and layout fields set for records; the
 * rest, counters included, as given).  Returns 0, or -1 with errno (out
 * of memory) or w->error set.  Free with records_writer_free().
 */
int records_writer_open(struct records_writer *w, int fd,
			const struct shmt_header *h);

/*
 * Appends one event with its backtrace and string (the ids in `e` are
 * ignored: they are found or made here).  Events are appended in the
 * order of their seq, which only grows.  Returns 0, or -1 once a write
 * failed (w->error; later records are dropped, the caller reports it).
 */
int records_writer_event(struct records_writer *w, const struct records_event *e,
			 const uint64_t *frames, unsigned nframes,
			 const void *str, size_t str_len);

/* Appends a LOSS record.  Returns as records_writer_event(). */
int records_writer_loss(struct records_writer *w, enum records_loss cause,
			uint64_t count, int32_t pid, uint64_t from_ns, uint64_t to_ns);

/* Writes the buffered records.  Returns 0, or -1 with w->error set. */
int records_writer_flush(struct records_writer *w);

/* Rewrites the header from `h` as records_writer_open() does, with `head`
 * set to the events appended and total_size to the bytes so far.  Call
 * after records_writer_flush() so the header never claims unwritten
 * bytes. */
int records_writer_header(struct records_writer *w, const struct shmt_header *h);

/* Frees the buffer and the interning tables (not the descriptor). */
void records_writer_free(struct records_writer *w);

#endif /* SHMTRACE_RECORDS_WRITER_H */
