/*
 * fuzz-trace.c - the trace reader against hostile input.
 *
 * One input is one trace file.  It goes through everything shmview does
 * with a trace short of opening the ELF files it names: open and validate,
 * iterate and decode every event, render it as text and JSON, build and
 * reconcile the model, render the attach map.  Built two ways:
 *
 *   make fuzz               libFuzzer (clang), seeded with real traces
 *   build/tests/test-fuzz-regressions
 *                           a plain program (gcc) that replays every file
 *                           under tests/fuzz/regressions: what the fuzzer
 *                           once found stays fixed
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decode.h"
#include "render.h"
#include "model.h"
#include "render.h"
#include "trace.h"

int fuzz_one(const uint8_t *data, size_t size);

static FILE *sink(void)
{
	static FILE *null;
	if (!null)
		null = fopen("/dev/null", "w");
	return null;
}

static void render_events(const struct trace *t)
{
	struct dump_options opts = { 0 };
	struct dump_ctx text = { .out = sink(), .trace = t, .opts = &opts };
	struct dump_ctx json = { .out = sink(), .trace = t, .opts = &opts };
	struct trace_iter it;
	const struct trace_event *ev;
	json_init(&json.json, sink());
	trace_iter_init(&it, t);
	while ((ev = trace_iter_next(&it))) {
		struct decode_view v;
		decode_event(ev, &v);
		dump_text_ops.event(&text, ev, NULL);
		dump_json_ops.event(&json, ev, NULL);
	}
}

/* Runs one input; always returns 0 (libFuzzer's convention). */
int fuzz_one(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-trace", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct trace t;
	if (trace_open(path, &t) == 0) {
		struct model m;
		render_events(&t);
		model_build(&m, &t, UINT64_MAX);
		model_reconcile(&m, NULL);
		map_json(sink(), &m);
		map_text(sink(), &m, path);
		model_free(&m);
		trace_close(&t);
	}
	close(fd);
	return 0;
}

#ifdef FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one(data, size);
}
#endif
