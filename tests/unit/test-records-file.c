/*
 * test-records-file.c - compact trace files (version 2) end to end in the
 * reader core: what records_writer writes, trace_open and the iterator
 * give back, event for event (stacks and strings interned once); a file
 * still growing reads as its whole records; a finished one cut short is
 * refused; damage in the middle keeps what comes before and is counted;
 * a live reader's trace_refresh() takes in what a growing file gained.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "model.h"
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
	trace_close(&t);
	CHECK(trace_open_sequential(path, &t) == 0 &&
	      matching(&t, &seen) == NEVENTS && seen == NEVENTS,
	      "opened for one pass in order (no per-event index), every event "
	      "reads back as written");
	found = 1;
	for (unsigned i = 0; i < NEVENTS; i += 13) {
		trace_iter_init_at(&it, &t, SEQ_OF(i));
		ev = trace_iter_next(&it);
		found &= ev && ev->seq == SEQ_OF(i);
	}
	CHECK(found, "... and a pass started at a seq still finds its event");
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

/* The whole file as written, to feed to a growing one piece by piece. */
static unsigned char *slurp(size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	fstat(fd, &st);
	unsigned char *b = malloc((size_t)st.st_size);
	*size = (size_t)pread(fd, b, (size_t)st.st_size, 0);
	close(fd);
	return b;
}

/* A live reader: the file grows by pieces that end anywhere (a torn
 * record waits for the rest), trace_refresh() takes each one in. */
static void test_refresh(void)
{
	write_trace(0);
	size_t size;
	unsigned char *all = slurp(&size);
	int fd = open(path, O_RDWR | O_TRUNC);
	size_t have = SHMT_HEADER_SIZE + 100;	/* the header, two events and
						   a torn tail */
	pwrite(fd, all, have, 0);
	struct trace t;
	CHECK(trace_open(path, &t) == 0, "a growing compact file opens");
	uint64_t events = t.capacity, seen;
	struct trace_iter it;
	trace_iter_init(&it, &t);
	trace_iter_next(&it);
	const struct trace_event *second = trace_iter_next(&it);	/* "exec..." */
	const char *early = second ? second->str : "";
	int grew_right = 1;
	while (have < size) {
		size_t piece = size - have < 997 ? size - have : 997;
		pwrite(fd, all + have, piece, (off_t)have);
		have += piece;
		long more = trace_refresh(&t);
		grew_right &= more >= 0 && t.capacity == events + (uint64_t)more;
		events = t.capacity;
	}
	CHECK(grew_right, "each refresh adds the events of the whole records appended");
	CHECK(events == NEVENTS && matching(&t, &seen) == NEVENTS && seen == NEVENTS,
	      "after the last piece every event reads back as written (%llu)",
	      (unsigned long long)events);
	trace_iter_init(&it, &t);
	while (trace_iter_next(&it))
		;
	CHECK(it.corrupt == 0, "no torn tail was counted as damage");
	CHECK(!memcmp(early, "exec", 4),
	      "a string read before the refreshes is still valid");
	CHECK(trace_refresh(&t) == 0, "a refresh with nothing new adds nothing");

	ftruncate(fd, (off_t)(size - 100));
	CHECK(trace_refresh(&t) == -1, "a file cut shorter asks to be opened again");
	close(fd);
	trace_close(&t);

	write_trace(0);
	CHECK(trace_open(path, &t) == 0, "the file opens again");
	char other[80];
	snprintf(other, sizeof(other), "%s.new", path);
	fd = open(other, O_RDWR | O_CREAT | O_TRUNC, 0600);
	pwrite(fd, all, size, 0);
	close(fd);
	rename(other, path);
	CHECK(trace_refresh(&t) == -1, "a file replaced by another asks to be opened again");
	trace_close(&t);
	free(all);
}

/* What two models say, compared where an extended one must equal one
 * built at once. */
static bool same_model(const struct model *a, const struct model *b)
{
	if (a->nsegments != b->nsegments || a->nprocesses != b->nprocesses ||
	    a->events != b->events || a->until_ns != b->until_ns)
		return false;
	for (size_t i = 0; i < a->nsegments; i++) {
		const struct segment *x = a->segments[i], *y = b->segments[i];
		if (x->kind != y->kind || x->natt != y->natt ||
		    x->live_att != y->live_att || x->nhist != y->nhist ||
		    x->destroyed != y->destroyed)
			return false;
	}
	return true;
}

/* live: a model built on part of a growing file, extended by what the
 * file gains, is the model of the whole file; an appended event that
 * took effect before the last one replayed asks for a rebuild. */
static void test_extend(void)
{
	write_trace(0);
	size_t size;
	unsigned char *all = slurp(&size);
	int fd = open(path, O_RDWR | O_TRUNC);
	size_t have = size / 3;
	pwrite(fd, all, have, 0);
	struct trace t, whole;
	struct model m, ref;
	CHECK(trace_open(path, &t) == 0, "the first third opens");
	model_build(&m, &t, UINT64_MAX);
	uint64_t first = m.events;
	int extended = 1;
	while (have < size) {
		size_t piece = size - have < 4999 ? size - have : 4999;
		pwrite(fd, all + have, piece, (off_t)have);
		have += piece;
		extended &= trace_refresh(&t) >= 0 && model_extend(&m, &t);
	}
	CHECK(extended && first < m.events,
	      "each append extends the model (%llu events, then %llu)",
	      (unsigned long long)first, (unsigned long long)m.events);
	CHECK(trace_open(path, &whole) == 0, "the whole file opens");
	model_build(&ref, &whole, UINT64_MAX);
	CHECK(same_model(&m, &ref), "the extended model is the model of the whole "
	      "file (%zu segments, %llu events)", ref.nsegments,
	      (unsigned long long)ref.events);
	model_free(&ref);
	trace_close(&whole);

	/* an event stamped before the last one replayed */
	struct records_writer w;
	struct shmt_header h;
	header(&h, 0);
	records_writer_open(&w, fd, &h);
	w.off = size;	/* append after what is there (its ids go on) */
	w.nstacks = 3;
	w.nstrings = 2;
	w.events = NEVENTS;
	struct records_event e = { .seq = SEQ_OF(NEVENTS), .call = SHMT_CALL_SHMDT,
				   .pid = 100, .tid = 100, .time_ns = 5 };
	records_writer_event(&w, &e, NULL, 0, NULL, 0);
	records_writer_flush(&w);
	records_writer_free(&w);
	uint64_t before = m.events;
	CHECK(trace_refresh(&t) == 1 && !model_extend(&m, &t) && m.events == before,
	      "an event out of order is not replayed: the model asks to be built again");
	model_free(&m);
	close(fd);
	trace_close(&t);
	free(all);
}

/* An event more than the replay's window (64Ki events) out of place: the
 * model is built by the full sort, and the shmget stamped first is
 * replayed before the shmat that comes 70000 events earlier in the file. */
static void test_far_out_of_order(void)
{
	struct records_writer w;
	struct shmt_header h;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	header(&h, SHMT_HF_FINAL);
	records_writer_open(&w, fd, &h);
	const unsigned n = 70000;
	for (unsigned i = 0; i < n; i++) {
		struct records_event e = { .seq = i, .pid = 100, .tid = 100,
					   .call = SHMT_CALL_CLOSE,
					   .time_ns = 10000 + 10ull * i };
		if (i == 10) {
			e.call = SHMT_CALL_SHMAT;
			e.args[SHMT_ARG_SHMAT_SHMID] = 7;
			e.ret = 0x7f0000000000;
		} else if (i == n - 1) {	/* stamped before everything */
			e.call = SHMT_CALL_SHMGET;
			e.flags = SHMT_EVF_CREATED;
			e.ret = 7;
			e.args[SHMT_ARG_SHMGET_SIZE] = 4096;
			e.time_ns = 1000;
		}
		records_writer_event(&w, &e, NULL, 0, NULL, 0);
	}
	records_writer_flush(&w);
	records_writer_header(&w, &h);
	records_writer_free(&w);
	close(fd);
	struct trace t;
	struct model m;
	CHECK(trace_open(path, &t) == 0, "a file with an event 70000 places out "
	      "of order opens");
	model_build(&m, &t, UINT64_MAX);
	CHECK(m.nsegments == 1 && m.segments[0]->created &&
	      !(m.segments[0]->notes & SEG_NOTE_PREEXISTING) &&
	      m.segments[0]->natt == 1 && m.events == n,
	      "the model replays it in time order: one segment, created by the "
	      "trace, then attached (%zu segments)", m.nsegments);
	model_free(&m);
	trace_close(&t);
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
	uint64_t seen2;
	CHECK(trace_open_sequential(path, &t) == 0 && matching(&t, &seen2) == good &&
	      seen2 == seen, "opened for one pass, the damaged file reads the same");
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
	test_refresh();
	test_extend();
	test_far_out_of_order();
	test_damage();
	test_late();
	unlink(path);
	return check_exit();
}
