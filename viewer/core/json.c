/*
 * json.c - a tiny streaming JSON writer (see json.h).
 */
#include <inttypes.h>
#include <string.h>

#include "json.h"

void json_init(struct json_writer *w, FILE *out)
{
	w->out = out;
	w->depth = 0;
	w->after_key = false;
	for (unsigned i = 0; i < JSON_MAX_DEPTH; i++)
		w->has_items[i] = false;
}

/* Emit the comma a new item needs, unless it is the value of a key. */
static void before_value(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && w->depth <= JSON_MAX_DEPTH) {
		if (w->has_items[w->depth - 1])
			fputc(',', w->out);
		w->has_items[w->depth - 1] = true;
	}
}

static void open_container(struct json_writer *w, char c)
{
	before_value(w);
	fputc(c, w->out);
	if (w->depth < JSON_MAX_DEPTH)
		w->has_items[w->depth] = false;
	w->depth++;
}

static void close_container(struct json_writer *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	fputc(c, w->out);
}

void json_begin_object(struct json_writer *w) { open_container(w, '{'); }
void json_end_object(struct json_writer *w) { close_container(w, '}'); }
void json_begin_array(struct json_writer *w) { open_container(w, '['); }
void json_end_array(struct json_writer *w) { close_container(w, ']'); }

void json_key(struct json_writer *w, const char *key)
{
	before_value(w);
	json_put_string(w->out, key, strlen(key));
	fputc(':', w->out);
	w->after_key = true;
}

void json_string(struct json_writer *w, const char *s)
{
	json_string_n(w, s, strlen(s));
}

void json_string_n(struct json_writer *w, const char *s, size_t n)
{
	before_value(w);
	json_put_string(w->out, s, n);
}

void json_int(struct json_writer *w, int64_t v)
{
	before_value(w);
	fprintf(w->out, "%" PRId64, v);
}

void json_uint(struct json_writer *w, uint64_t v)
{
	before_value(w);
	fprintf(w->out, "%" PRIu64, v);
}

void json_fixed3(struct json_writer *w, double v)
{
	before_value(w);
	fprintf(w->out, "%.3f", v);
}

void json_hex(struct json_writer *w, uint64_t v)
{
	before_value(w);
	fprintf(w->out, "\"0x%" PRIx64 "\"", v);
}

void json_bool(struct json_writer *w, bool v)
{
	before_value(w);
	fputs(v ? "true" : "false", w->out);
}

void json_null(struct json_writer *w)
{
	before_value(w);
	fputs("null", w->out);
}

void json_newline(struct json_writer *w)
{
	fputc('\n', w->out);
}

/* Is c a continuation byte within [lo, hi]? */
static bool cont(unsigned char c, unsigned char lo, unsigned char hi)
{
	return c >= lo && c <= hi;
}

size_t json_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	/* Table 3-7 of the Unicode standard: the well-formed sequences. */
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && cont(s[1], 0x80, 0xbf) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
		unsigned char hi = c == 0xed ? 0x9f : 0xbf;

		return n >= 3 && cont(s[1], lo, hi) && cont(s[2], 0x80, 0xbf)
			? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;

		return n >= 4 && cont(s[1], lo, hi) &&
		       cont(s[2], 0x80, 0xbf) && cont(s[3], 0x80, 0xbf) ? 4 : 0;
	}
	return 0;
}

static void put_escaped_byte(FILE *out, unsigned char c)
{
	switch (c) {
	case '"':  fputs("\\\"", out); break;
	case '\\': fputs("\\\\", out); break;
	case '\n': fputs("\\n", out); break;
	case '\r': fputs("\\r", out); break;
	case '\t': fputs("\\t", out); break;
	case '\b': fputs("\\b", out); break;
	case '\f': fputs("\\f", out); break;
	default:
		/* DEL is legal JSON but escaping it keeps the output
		 * terminal-safe, like the other control characters. */
		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
}

void json_put_string(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	fputc('"', out);
	while (i < n) {
		size_t len = json_utf8_len(p + i, n - i);

		if (len == 1) {
			put_escaped_byte(out, p[i]);
		} else if (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			/* C1 controls (U+0080..U+009F): valid, but some
			 * terminals act on them, so escape them too. */
			fprintf(out, "\\u%04x", p[i + 1]);
		} else if (len > 1) {
			fwrite(p + i, 1, len, out);
		} else {
			/* Not UTF-8: keep the byte's value visible. */
			fprintf(out, "\\u%04x", p[i]);
			len = 1;
		}
		i += len;
	}
	fputc('"', out);
}

void json_member_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	if (s)
		json_string(w, s);
	else
		json_null(w);
}

void json_member_int(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_int(w, v);
}

void json_member_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_uint(w, v);
}

void json_member_hex(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_hex(w, v);
}

void json_member_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
}

void json_begin_document(struct json_writer *w, FILE *out)
{
	json_init(w, out);
	json_begin_object(w);
	json_member_int(w, "schema", JSON_SCHEMA);
}

void json_end_document(struct json_writer *w)
{
	json_end_object(w);
	json_newline(w);
}
