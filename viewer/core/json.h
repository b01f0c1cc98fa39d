/*
 * json.h - a tiny streaming JSON writer.
 *
 * The writer tracks nesting and commas so callers only say what comes
 * next.  Strings are escaped so that any bytes, including the invalid
 * UTF-8 and control characters a traced program may put in a name, give
 * valid JSON: control characters as \u00XX, '"' and '\\' escaped, and each
 * byte that is not part of a valid UTF-8 sequence as \u00XX of its value.
 */
#ifndef SHMVIEW_JSON_H
#define SHMVIEW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	FILE *out;
	unsigned depth;
	bool after_key;                    /* the next value follows a key */
	bool has_items[JSON_MAX_DEPTH];    /* container at depth not empty */
};

/* Start writing JSON to `out` (not owned). */
void json_init(struct json_writer *w, FILE *out);

/* Containers.  Nesting deeper than JSON_MAX_DEPTH is a caller bug; the
 * output then stays well-formed but commas may be missing. */
void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);

/* An object member's key; the value call that follows completes it. */
void json_key(struct json_writer *w, const char *key);

/* Values. */
void json_string(struct json_writer *w, const char *s);        /* NUL-term */
void json_string_n(struct json_writer *w, const char *s, size_t n);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
void json_hex(struct json_writer *w, uint64_t v);  /* "0x1f" as a string */
void json_fixed3(struct json_writer *w, double v); /* 12.345: 3 decimals */
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/* A member `key`: the string s, or null when s is NULL. */
void json_member_string(struct json_writer *w, const char *key, const char *s);

/* A member `key` with a value: json_key() and the value call in one. */
void json_member_int(struct json_writer *w, const char *key, int64_t v);
void json_member_uint(struct json_writer *w, const char *key, uint64_t v);
void json_member_hex(struct json_writer *w, const char *key, uint64_t v);
void json_member_bool(struct json_writer *w, const char *key, bool v);

/*
 * A JSON output is one top-level object ended by a newline (a document,
 * or a line of JSON Lines).  json_begin_document() starts writing to
 * `out` (not owned) and opens that object with its first member,
 * "schema": JSON_SCHEMA, the version of the vocabulary docs/json.md
 * describes (raised when a member changes meaning or goes away, not when
 * one is added); json_end_document() closes it and ends the line.
 */
#define JSON_SCHEMA 2
void json_begin_document(struct json_writer *w, FILE *out);
void json_end_document(struct json_writer *w);

/* End a top-level value with a newline (JSON Lines). */
void json_newline(struct json_writer *w);

/*
 * Write `n` bytes of `s` as a quoted, escaped JSON string to `out`.
 * Exposed for tests and for renderers that build JSON by hand.
 */
void json_put_string(FILE *out, const char *s, size_t n);

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0
 * if the bytes there are not one (overlong forms, surrogates and code
 * points past U+10FFFF count as not well-formed).
 */
size_t json_utf8_len(const unsigned char *s, size_t n);

#endif /* SHMVIEW_JSON_H */
