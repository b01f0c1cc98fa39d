/*
 * test-records.c - the records of the compact trace file (common/
 * records.c): every kind round-trips, extreme values included; a buffer
 * cut anywhere reads as "not yet" and never as a record; damage reads as
 * damage; random bytes never crash the reader; a typical event is small.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "records.h"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* A value of any magnitude: small ones are the common case. */
static uint64_t any(void)
{
	return rnd() >> (rnd() % 64);
}

static void random_event(struct records_event *e)
{
	memset(e, 0, sizeof(*e));
	e->seq = any();
	e->call = (uint16_t)any();
	e->flags = (uint16_t)any();
	e->err = (uint16_t)any();
	e->obj = (uint32_t)any();
	e->pid = (int32_t)any();
	e->tid = (int32_t)any();
	e->time_ns = any();
	e->duration_ns = any();
	e->ret = (int64_t)any() * (rnd() & 1 ? -1 : 1);
	for (unsigned i = 0; i < SHMT_ARG_COUNT; i++)
		e->args[i] = rnd() & 1 ? any() : 0;
	e->stack_id = any();
	e->str_id = any();
}

static int same_event(const struct records_event *a, const struct records_event *b)
{
	return a->seq == b->seq && a->call == b->call && a->flags == b->flags && a->err == b->err &&
	       a->obj == b->obj && a->pid == b->pid && a->tid == b->tid &&
	       a->time_ns == b->time_ns && a->duration_ns == b->duration_ns &&
	       a->ret == b->ret && !memcmp(a->args, b->args, sizeof(a->args)) &&
	       a->stack_id == b->stack_id && a->str_id == b->str_id;
}

static void test_event_round_trip(void)
{
	unsigned char buf[RECORDS_EVENT_MAX];
	int same = 1, sized = 1;
	for (int i = 0; i < 20000 && same; i++) {
		struct records_event e, d;
		random_event(&e);
		if (i == 0) {	/* the extremes */
			memset(&e, 0xff, sizeof(e));
			e.ret = INT64_MIN;
			e.pid = INT32_MIN;
			e.tid = INT32_MAX;
		}
		uint64_t place = any();
		size_t n = records_put_event(buf, &e, place);
		struct records_frame f;
		sized &= n <= RECORDS_EVENT_MAX;
		same &= records_next(buf, n, &f) == 1 && f.size == n &&
			f.type == RECORDS_EVENT && records_get_event(&f, place, &d) == 0 &&
			records_get_seq(&f, place) == e.seq &&
			same_event(&e, &d);
	}
	CHECK(same, "20000 events of any values decode as they were encoded");
	CHECK(sized, "no event record exceeds RECORDS_EVENT_MAX");
}

static void test_stack_string_loss(void)
{
	unsigned char buf[RECORDS_STACK_MAX(SHMT_MAX_DEPTH) + RECORDS_STRING_MAX(5000)];
	uint64_t frames[SHMT_MAX_DEPTH], got[SHMT_MAX_DEPTH], id;
	unsigned n;
	struct records_frame f;
	for (unsigned i = 0; i < SHMT_MAX_DEPTH; i++)
		frames[i] = i % 3 ? 0x7f0000001000ull + rnd() % 100000 : rnd();
	size_t sz = records_put_stack(buf, 77, frames, SHMT_MAX_DEPTH);
	CHECK(records_next(buf, sz, &f) == 1 && f.type == RECORDS_STACK &&
	      records_get_stack(&f, &id, got, SHMT_MAX_DEPTH, &n) == 0 && id == 77 &&
	      n == SHMT_MAX_DEPTH && !memcmp(frames, got, sizeof(frames)),
	      "a stack of the deepest depth, frames anywhere, round-trips");
	CHECK(records_get_stack(&f, &id, got, 16, &n) == -1,
	      "a stack deeper than the reader's room is refused, not overrun");

	char s[5000];
	for (size_t i = 0; i < sizeof(s); i++)
		s[i] = (char)(i % 7 ? 'a' + i % 26 : 0);	/* NULs inside */
	sz = records_put_string(buf, 5, s, sizeof(s));
	const unsigned char *gs;
	size_t gn;
	CHECK(records_next(buf, sz, &f) == 1 && f.type == RECORDS_STRING &&
	      records_get_string(&f, &id, &gs, &gn) == 0 && id == 5 &&
	      gn == sizeof(s) && !memcmp(gs, s, gn),
	      "a 5000-byte string with NULs inside round-trips");

	sz = records_put_loss(buf, RECORDS_LOSS_RING_FULL, 151434, 4242, 10, 4000000000ull);
	unsigned cause;
	uint64_t count, from, to;
	int32_t pid;
	CHECK(records_next(buf, sz, &f) == 1 && f.type == RECORDS_LOSS &&
	      records_get_loss(&f, &cause, &count, &pid, &from, &to) == 0 &&
	      cause == RECORDS_LOSS_RING_FULL && count == 151434 && pid == 4242 &&
	      from == 10 && to == 4000000000ull,
	      "a loss record keeps its cause, count, pid and time range");
}

static void test_cut_and_damage(void)
{
	unsigned char buf[RECORDS_STRING_MAX(300)];
	char s[300];
	memset(s, 'x', sizeof(s));
	size_t sz = records_put_string(buf, 1, s, sizeof(s));
	struct records_frame f;
	int all_wait = 1;
	for (size_t cut = 0; cut < sz; cut++)
		all_wait &= records_next(buf, cut, &f) == 0;
	CHECK(all_wait, "a record cut at any of its %zu bytes reads as not there yet", sz);

	unsigned char zero[16] = { 0 };
	CHECK(records_next(zero, sizeof(zero), &f) == -1, "zeroes are damage, not a record");
	unsigned char longlen[16] = { RECORDS_EVENT, 0xff, 0xff, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
	CHECK(records_next(longlen, sizeof(longlen), &f) == -1,
	      "a length varint over 10 bytes is damage");
	unsigned char unknown[4] = { 200, 2, 9, 9 };
	CHECK(records_next(unknown, sizeof(unknown), &f) == 1 && f.type == 200 &&
	      f.size == 4, "a record of an unknown type is framed, so it can be skipped");
	unsigned char shortev[3] = { RECORDS_EVENT, 1, 5 };
	struct records_event e;
	CHECK(records_next(shortev, sizeof(shortev), &f) == 1 &&
	      records_get_event(&f, 0, &e) == -1, "an event payload cut short is refused");
}

static void test_random_bytes(void)
{
	unsigned char buf[256];
	int fine = 1;
	for (int i = 0; i < 100000; i++) {
		size_t n = 1 + rnd() % sizeof(buf);
		for (size_t j = 0; j < n; j++)
			buf[j] = (unsigned char)rnd();
		buf[0] = (unsigned char)(1 + rnd() % 4);
		struct records_frame f;
		int r = records_next(buf, n, &f);
		if (r == 1) {
			fine &= f.size <= n;
			struct records_event e;
			uint64_t id, frames[16], c, a, b;
			unsigned k, cause;
			int32_t pid;
			const unsigned char *s;
			size_t len;
			records_get_event(&f, 3, &e);
			records_get_stack(&f, &id, frames, 16, &k);
			if (records_get_string(&f, &id, &s, &len) == 0)
				fine &= s + len <= f.payload + f.len;
			records_get_loss(&f, &cause, &c, &pid, &a, &b);
		}
	}
	CHECK(fine, "100000 random records decode within their bounds");
}

/* A churn event as the shim records it: shmget of a private key, its
 * stack and no string. */
static void test_size(void)
{
	struct records_event e = {
		.seq = 1000000, .call = SHMT_CALL_SHMGET, .flags = SHMT_EVF_CREATED,
		.pid = 123456,
		.tid = 123456, .time_ns = 3600ull * 1000000000ull, .duration_ns = 2100,
		.ret = 98347, .stack_id = 40, .args = { [SHMT_ARG_SHMGET_SIZE] = 65536,
		[SHMT_ARG_SHMGET_FLAGS] = 01600 },
	};
	unsigned char buf[RECORDS_EVENT_MAX];
	size_t n = records_put_event(buf, &e, 999990);	/* 10 slots left out */
	CHECK(n <= 32, "a churn event an hour into the run takes %zu bytes (a slot: 256)", n);
}

int main(void)
{
	test_event_round_trip();
	test_stack_string_loss();
	test_cut_and_damage();
	test_random_bytes();
	test_size();
	return check_exit();
}
