/*
 * records.c - encoding and decoding the records of the compact trace file
 * (records.h says the format and why it is shaped so).
 */
#include <string.h>

#include "records.h"

/* --- varints -------------------------------------------------------------- */

static size_t put_u(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static size_t put_s(unsigned char *p, int64_t v)
{
	return put_u(p, zigzag(v));
}

/* A cursor over a payload: a read past its end or a varint over 10 bytes
 * sets `bad`, and every later read gives 0. */
struct cursor {
	const unsigned char *p, *end;
	int bad;
};

static uint64_t get_u(struct cursor *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (c->bad || c->p >= c->end) {
			c->bad = 1;
			return 0;
		}
		unsigned char b = *c->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad = 1;
	return 0;
}

static int64_t get_s(struct cursor *c)
{
	return unzigzag(get_u(c));
}

static struct cursor cursor_of(const struct records_frame *f)
{
	struct cursor c = { f->payload, f->payload + f->len, 0 };
	return c;
}

/* --- framing -------------------------------------------------------------- */

/* Wraps the payload already written at buf + 1 + RECORDS_VARINT_MAX into a
 * record at buf: the type, the payload's length, the payload moved down. */
static size_t frame(unsigned char *buf, unsigned type, size_t len)
{
	unsigned char head[1 + RECORDS_VARINT_MAX];
	head[0] = (unsigned char)type;
	size_t h = 1 + put_u(head + 1, len);
	memmove(buf + h, buf + 1 + RECORDS_VARINT_MAX, len);
	memcpy(buf, head, h);
	return h + len;
}

#define PAYLOAD(buf) ((buf) + 1 + RECORDS_VARINT_MAX)

size_t records_put_event(unsigned char *buf, const struct records_event *e,
			 uint64_t n)
{
	unsigned char *p = PAYLOAD(buf), *q = p;
	q += put_s(q, (int64_t)(e->seq - n));
	q += put_u(q, e->call);
	q += put_u(q, e->flags);
	q += put_u(q, e->err);
	q += put_u(q, e->obj);
	q += put_s(q, e->pid);
	q += put_s(q, (int64_t)e->tid - e->pid);
	q += put_u(q, e->time_ns);
	q += put_u(q, e->duration_ns);
	q += put_s(q, e->ret);
	unsigned char mask = 0;
	for (unsigned i = 0; i < SHMT_ARG_COUNT; i++)
		if (e->args[i])
			mask |= (unsigned char)(1u << i);
	*q++ = mask;
	for (unsigned i = 0; i < SHMT_ARG_COUNT; i++)
		if (e->args[i])
			q += put_u(q, e->args[i]);
	q += put_u(q, e->stack_id);
	q += put_u(q, e->str_id);
	return frame(buf, RECORDS_EVENT, (size_t)(q - p));
}

size_t records_put_stack(unsigned char *buf, uint64_t id, const uint64_t *frames,
			 unsigned n)
{
	unsigned char *p = PAYLOAD(buf), *q = p;
	q += put_u(q, id);
	q += put_u(q, n);
	for (unsigned i = 0; i < n; i++)
		q += i ? put_s(q, (int64_t)(frames[i] - frames[i - 1]))
		       : put_u(q, frames[0]);
	return frame(buf, RECORDS_STACK, (size_t)(q - p));
}

size_t records_put_string(unsigned char *buf, uint64_t id, const void *s, size_t n)
{
	unsigned char *p = PAYLOAD(buf), *q = p;
	q += put_u(q, id);
	q += put_u(q, n);
	memcpy(q, s, n);
	q += n;
	return frame(buf, RECORDS_STRING, (size_t)(q - p));
}

size_t records_put_loss(unsigned char *buf, enum records_loss cause, uint64_t count,
			int32_t pid, uint64_t from_ns, uint64_t to_ns)
{
	unsigned char *p = PAYLOAD(buf), *q = p;
	q += put_u(q, cause);
	q += put_u(q, count);
	q += put_s(q, pid);
	q += put_u(q, from_ns);
	q += put_u(q, to_ns);
	return frame(buf, RECORDS_LOSS, (size_t)(q - p));
}

/* --- reading -------------------------------------------------------------- */

int records_next(const unsigned char *p, size_t avail, struct records_frame *f)
{
	uint64_t len = 0;
	size_t h = 1;
	if (avail && p[0] == 0)	/* no record has type 0: damage */
		return -1;
	for (unsigned shift = 0;; shift += 7) {
		if (h >= avail)
			return 0;	/* the length runs past the bytes we have */
		if (h > RECORDS_VARINT_MAX)
			return -1;
		unsigned char b = p[h++];
		len |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	if (len > avail - h)
		return 0;
	f->type = p[0];
	f->payload = p + h;
	f->len = (size_t)len;
	f->size = h + (size_t)len;
	return 1;
}

uint64_t records_get_seq(const struct records_frame *f, uint64_t n)
{
	struct cursor c = cursor_of(f);
	uint64_t seq = n + (uint64_t)get_s(&c);
	return c.bad ? UINT64_MAX : seq;
}

int records_get_event(const struct records_frame *f, uint64_t n,
		      struct records_event *e)
{
	struct cursor c = cursor_of(f);
	memset(e, 0, sizeof(*e));
	e->seq = n + (uint64_t)get_s(&c);
	e->call = (uint16_t)get_u(&c);
	e->flags = (uint16_t)get_u(&c);
	e->err = (uint16_t)get_u(&c);
	e->obj = (uint32_t)get_u(&c);
	e->pid = (int32_t)get_s(&c);
	e->tid = (int32_t)(e->pid + get_s(&c));
	e->time_ns = get_u(&c);
	e->duration_ns = get_u(&c);
	e->ret = get_s(&c);
	unsigned mask = c.p < c.end ? *c.p++ : (c.bad = 1, 0u);
	for (unsigned i = 0; i < SHMT_ARG_COUNT; i++)
		if (mask & (1u << i))
			e->args[i] = get_u(&c);
	e->stack_id = get_u(&c);
	e->str_id = get_u(&c);
	return c.bad ? -1 : 0;
}

int records_get_stack(const struct records_frame *f, uint64_t *id,
		      uint64_t *frames, unsigned max, unsigned *n)
{
	struct cursor c = cursor_of(f);
	*id = get_u(&c);
	uint64_t count = get_u(&c);
	if (c.bad || count > max)
		return -1;
	for (unsigned i = 0; i < count; i++)
		frames[i] = i ? frames[i - 1] + (uint64_t)get_s(&c) : get_u(&c);
	*n = (unsigned)count;
	return c.bad ? -1 : 0;
}

int records_get_string(const struct records_frame *f, uint64_t *id,
		       const unsigned char **s, size_t *n)
{
	struct cursor c = cursor_of(f);
	*id = get_u(&c);
	uint64_t len = get_u(&c);
	if (c.bad || len > (uint64_t)(c.end - c.p))
		return -1;
	*s = c.p;
	*n = (size_t)len;
	return 0;
}

int records_get_loss(const struct records_frame *f, unsigned *cause,
		     uint64_t *count, int32_t *pid, uint64_t *from_ns,
		     uint64_t *to_ns)
{
	struct cursor c = cursor_of(f);
	*cause = (unsigned)get_u(&c);
	*count = get_u(&c);
	*pid = (int32_t)get_s(&c);
	*from_ns = get_u(&c);
	*to_ns = get_u(&c);
	return c.bad ? -1 : 0;
}
