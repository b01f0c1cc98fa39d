/*
 * test-records-file.c - compact trace files (version 2) end to end in the
 * reader core: what records_writer writes, trace_open and the iterator
 * give back, event for event (stacks and strings interned once); a file
 * still growing reads as its whole records; a finished one cut short is
 * refused; damage in the middle keeps what comes before and is counted.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "records-writer.h"
#include "trace.h"

#define START_NS 1000000000000ull
#define NEVENTS 3000
/* the slot of event i: one slot left out (abandoned) every 1000 */
#define SEQ_OF(i) ((uint64_t)(i) + (uint64_t)(i) / 1000u * 1u + 5u)

static char path[64];

static void header(struct shmt_header *h, uint32_t flags)
{
	memset(h, 0, sizeof(*h));
	h->flags = flags;
	h->start_ns = START_NS;
	h->creator_pid = 4242;
	h->depth = 16;
	h->dropped = 7;
}

/* Event i of the synthetic run: three stacks and two strings in turn. */
static void event(unsigned i, struct records_event *e, uint64_t *frames,
		  unsigned *n, const char **str, size_t *len)
{
	static const char *names[] = { "/zone", "exec\0argv0\0argv1" };
	static const size_t lens[] = { 5, 16 };
	memset(e, 0, sizeof(*e));
	e->seq = SEQ_OF(i);
	e->call = (uint16_t)(1 + i % (SHMT_CALL_COUNT - 1));
	e->pid = 100 + (int32_t)(i % 5);
	e->tid = e->pid + (int32_t)(i % 2);
	e->time_ns = 1000ull * i;
	e->duration_ns = i % 17;
	e->ret = i % 3 ? (int64_t)i : -1;
	e->err = i % 3 ? 0 : 22;
	e->args[0] = 0x7f0000000000ull + i;
	e->args[5] = i % 4;
	*n = i % 4 == 3 ? 0 : 4 + i % 3;
	for (unsigned k = 0; k < *n; k++)
		frames[k] = 0x401000u + 16 * k + (i % 3);
	*str = i % 3 ? names[i % 2] : NULL;
	*len = *str ? lens[i % 2] : 0;
}

static size_t write_trace(uint32_t flags)
{
	struct records_writer w;
	struct shmt_header h;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	header(&h, flags);
	records_writer_open(&w, fd, &h);
	for (unsigned i = 0; i < NEVENTS; i++) {
		struct records_event e;
		uint64_t frames[8];
		unsigned n;
		const char *s;
		size_t len;
		event(i, &e, frames, &n, &s, &len);
		records_writer_event(&w, &e, frames, n, s, len);
	}
	records_writer_loss(&w, RECORDS_LOSS_RING_FULL, 99, 101, 5, 6);
	records_writer_flush(&w);
	records_writer_header(&w, &h);
	CHECK(w.nstacks == 3 && w.nstrings == 2,
	      "the writer interns 3 distinct stacks and 2 strings (%llu, %llu)",
	      (unsigned long long)w.nstacks, (unsigned long long)w.nstrings);
	size_t size = (size_t)w.off;
	records_writer_free(&w);
	close(fd);
	return size;
}

/* Events the reader gives back that are exactly what was written. */
static unsigned matching(struct trace *t, uint64_t *seen)
{
	struct trace_iter it;
	const struct trace_event *ev;
	unsigned good = 0;
	*seen = 0;
	trace_iter_init(&it, t);
	while ((ev = trace_iter_next(&it))) {
		struct records_event e;
		uint64_t frames[8];
		unsigned n;
		const char *s;
		size_t len;
		event((unsigned)*seen, &e, frames, &n, &s, &len);
		(*seen)++;
		good += ev->seq == e.seq && ev->call == e.call && ev->pid == e.pid && ev->tid == e.tid &&
			trace_event_reltime(t, ev) == (int64_t)e.time_ns &&
			ev->duration_ns == e.duration_ns && ev->ret == e.ret &&
			ev->err == e.err && !memcmp(ev->args, e.args, sizeof(e.args)) &&
			ev->nframes == n && !memcmp(ev->frames, frames, n * 8) &&
			ev->str_len == len && (!len || !memcmp(ev->str, s, len));
	}
	return good;
}

static void test_round_trip(void)
{
	size_t size = write_trace(SHMT_HF_FINAL);
	struct trace t;
	uint64_t seen;
	CHECK(trace_open(path, &t) == 0, "a finished compact file opens");
	CHECK(matching(&t, &seen) == NEVENTS && seen == NEVENTS,
	      "all %d events read back as written, stacks and strings included", NEVENTS);
	size_t nl;
	const struct trace_loss *l = trace_losses(&t, &nl);
	CHECK(nl == 1 && l[0].cause == RECORDS_LOSS_RING_FULL && l[0].count == 99 &&
	      l[0].pid == 101, "its loss record is there, with cause, count and pid");
	struct trace_iter it;
	const struct trace_event *ev;
	int found = 1;
	for (unsigned i = 0; i < NEVENTS; i += 7) {
		trace_iter_init_at(&it, &t, SEQ_OF(i));
		ev = trace_iter_next(&it);
		found &= ev && ev->seq == SEQ_OF(i);
	}
	trace_iter_init_at(&it, &t, SEQ_OF(999) + 1);	/* a slot left out */
	ev = trace_iter_next(&it);
	found &= ev && ev->seq == SEQ_OF(1000);
	trace_iter_init_at(&it, &t, 0);	/* before the first */
	ev = trace_iter_next(&it);
	found &= ev && ev->seq == SEQ_OF(0);
	CHECK(found, "a pass started at a seq finds that event, or the next one "
	      "when its slot was left out");
	struct trace_counters c;
	trace_counters(&t, &c);
	CHECK(c.dropped == 7 && c.head == NEVENTS,
	      "the header's counters: dropped as given, head = events written");
	CHECK(size < NEVENTS * 40, "%d events take %zu bytes (slots: %d)", NEVENTS,
	      size, NEVENTS * 256);
	trace_close(&t);

	truncate(path, (off_t)(size - 10));
	CHECK(trace_open(path, &t) == -1, "a finished file cut short is refused");
}

static void test_growing(void)
{
	size_t size = write_trace(0);	/* not final: still being written */
	int all = 1;
	uint64_t last = 0;
	for (size_t cut = size; cut > SHMT_HEADER_SIZE && all; cut -= 997) {
		truncate(path, (off_t)cut);
		struct trace t;
		uint64_t seen;
		if (trace_open(path, &t) < 0) {
			all = 0;
			break;
		}
		all &= matching(&t, &seen) == seen && (last == 0 || seen <= last);
		struct trace_iter it;
		trace_iter_init(&it, &t);
		while (trace_iter_next(&it))
			;
		all &= it.corrupt == 0;
		last = seen;
		trace_close(&t);
	}
	CHECK(all, "a growing file cut anywhere reads as its whole records, none corrupt");
}

static void test_damage(void)
{
	size_t size = write_trace(SHMT_HF_FINAL);
	int fd = open(path, O_RDWR);
	unsigned char junk[12];
	memset(junk, 0xff, sizeof(junk));	/* varints that never end */
	pwrite(fd, junk, sizeof(junk), (off_t)(SHMT_HEADER_SIZE + size) / 2);
	close(fd);
	struct trace t;
	uint64_t seen;
	CHECK(trace_open(path, &t) == 0, "a file damaged in the middle still opens");
	unsigned good = matching(&t, &seen);
	struct trace_iter it;
	trace_iter_init(&it, &t);
	while (trace_iter_next(&it))
		;
	CHECK(good > NEVENTS / 4 && good < NEVENTS && it.corrupt > 0,
	      "the events before the damage read right (%u), the damage is counted "
	      "(%llu)", good, (unsigned long long)it.corrupt);
	trace_close(&t);
}

/* A slot that commits after later ones (a process stopped mid-write) is
 * written late, out of slot order: a pass started at any seq still finds
 * its event. */
static void test_late(void)
{
	static const uint64_t seqs[] = { 0, 1, 2, 4, 5, 3, 6, 9, 7 };
	struct records_writer w;
	struct shmt_header h;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	header(&h, SHMT_HF_FINAL);
	records_writer_open(&w, fd, &h);
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		struct records_event e = { .seq = seqs[i], .call = SHMT_CALL_SHMDT,
					   .pid = 7, .tid = 7, .time_ns = 10 * i };
		records_writer_event(&w, &e, NULL, 0, NULL, 0);
	}
	records_writer_flush(&w);
	records_writer_header(&w, &h);
	records_writer_free(&w);
	close(fd);
	struct trace t;
	int all = trace_open(path, &t) == 0;
	for (uint64_t seq = 0; all && seq < 10; seq++) {
		struct trace_iter it;
		trace_iter_init_at(&it, &t, seq);
		const struct trace_event *ev = trace_iter_next(&it);
		int there = seq != 8;
		all &= there ? ev && ev->seq == seq : !ev || ev->seq != seq;
	}
	CHECK(all, "events written late (seq 3 after 5, 7 after 9) are found by "
	      "their seq; a seq no event has (8) is not");
	if (all)
		trace_close(&t);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/test-records-file.%d", (int)getpid());
	test_round_trip();
	test_growing();
	test_damage();
	test_late();
	unlink(path);
	return check_exit();
}
