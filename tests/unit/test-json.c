/*
 * test-json.c - the JSON writer's member and document helpers (json.h):
 * each writes what its json_key() and value calls wrote, commas included.
 */
#include <stdlib.h>

#include "check.h"
#include "json.h"

/* What `write` makes of a fresh writer, as a string the caller frees. */
static char *written(void (*write)(struct json_writer *w, FILE *out))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct json_writer w;

	write(&w, out);
	fclose(out);
	return buf;
}

static void members(struct json_writer *w, FILE *out)
{
	json_begin_document(w, out);
	json_member_int(w, "i", -42);
	json_member_uint(w, "u", UINT64_MAX);
	json_member_hex(w, "h", 0x1f);
	json_member_bool(w, "t", true);
	json_member_bool(w, "f", false);
	json_member_string(w, "s", "x\"y");
	json_member_string(w, "n", NULL);
	json_end_document(w);
}

static void by_hand(struct json_writer *w, FILE *out)
{
	json_init(w, out);
	json_begin_object(w);
	json_key(w, "schema");
	json_int(w, JSON_SCHEMA);
	json_key(w, "i");
	json_int(w, -42);
	json_key(w, "u");
	json_uint(w, UINT64_MAX);
	json_key(w, "h");
	json_hex(w, 0x1f);
	json_key(w, "t");
	json_bool(w, true);
	json_key(w, "f");
	json_bool(w, false);
	json_key(w, "s");
	json_string(w, "x\"y");
	json_key(w, "n");
	json_null(w);
	json_end_object(w);
	json_newline(w);
}

/* Two documents in a row, as dump --json writes its lines. */
static void two_lines(struct json_writer *w, FILE *out)
{
	for (int i = 0; i < 2; i++) {
		json_begin_document(w, out);
		json_member_int(w, "seq", i);
		json_key(w, "a");
		json_begin_array(w);
		json_uint(w, 1);
		json_uint(w, 2);
		json_end_array(w);
		json_end_document(w);
	}
}

static void empty(struct json_writer *w, FILE *out)
{
	json_begin_document(w, out);
	json_end_document(w);
}

int main(void)
{
	char *got = written(members), *want = written(by_hand);

	CHECK_STR(got, "{\"schema\":2,\"i\":-42,\"u\":18446744073709551615,\"h\":\"0x1f\","
		  "\"t\":true,\"f\":false,\"s\":\"x\\\"y\",\"n\":null}\n",
		  "json: the member helpers write key and value, one document");
	CHECK_STR(got, want, "json: the helpers write what the calls they "
		  "replace wrote");
	free(got);
	free(want);
	got = written(two_lines);
	CHECK_STR(got, "{\"schema\":2,\"seq\":0,\"a\":[1,2]}\n"
		  "{\"schema\":2,\"seq\":1,\"a\":[1,2]}\n",
		  "json: each document starts afresh: no comma between lines");
	free(got);
	got = written(empty);
	CHECK_STR(got, "{\"schema\":2}\n",
		  "json: an empty document holds the schema alone, and a newline");
	free(got);
	return check_exit();
}
