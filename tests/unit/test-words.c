/*
 * test-words.c - the shared vocabulary (words.h) and the model's JSON
 * members (json-model.h): the escaping of text (control bytes, backslash,
 * quotes, UTF-8 shown byte by byte, the buffer variant cut at a whole
 * escape), and each phrase the outputs share.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json-model.h"
#include "words.h"

/* What the statements write to the FILE named out, as a string (static). */
#define WRITTEN(...) ({                                                    \
	static char text_[1024];                                           \
	char *mem_ = NULL;                                                 \
	size_t size_ = 0;                                                  \
	FILE *out = open_memstream(&mem_, &size_);                         \
	__VA_ARGS__;                                                       \
	fclose(out);                                                       \
	snprintf(text_, sizeof(text_), "%s", mem_);                        \
	free(mem_);                                                        \
	text_;                                                             \
})

/* --- escaping -------------------------------------------------------------- */

#define QUOTED(s, want) CHECK_STR(WRITTEN(words_put_cstring(out, s,         \
				  sizeof(s) - 1)), want, "quoted %s", want)
#define SAFE(s, want) CHECK_STR(WRITTEN(words_put_safe(out, s)), want,      \
				"bare %s", want)

static void test_escaping(void)
{
	char buf[8];

	QUOTED("/demo", "\"/demo\"");
	QUOTED("a\"b\\c\n\t\r", "\"a\\\"b\\\\c\\n\\t\\r\"");
	QUOTED("\x1b[2J", "\"\\x1b[2J\"");
	QUOTED("x\0y\x7f\xff", "\"x\\x00y\\x7f\\xff\"");
	QUOTED("caf\xc3\xa9", "\"caf\\xc3\\xa9\"");
	SAFE("nginx-zone", "nginx-zone");
	SAFE("a\\b\"c", "a\\\\b\\\"c");
	SAFE("\x1b]0;title\x07\n", "\\x1b]0;title\\x07\\n");
	SAFE("caf\xc3\xa9 \x7f", "caf\\xc3\\xa9 \\x7f");
	CHECK_STR(WRITTEN(words_put_quoted(out, "a b")), "\"a b\"",
		  "quoted, NUL-terminated");
	CHECK_STR(WRITTEN(words_put_escaped(out, "ab\ncd", 3)), "ab\\n",
		  "escaped: n bytes only");

	CHECK_STR(words_escape("a\x1b\\", buf, sizeof(buf)), "a\\x1b\\\\",
		  "buffer: the same escapes");
	CHECK_STR(words_escape("abcdefghij", buf, sizeof(buf)), "abcdefg",
		  "buffer: cut to size, NUL-terminated");
	CHECK_STR(words_escape("abcd\x01z", buf, sizeof(buf)), "abcd",
		  "buffer: cut before an escape that does not fit whole");
	CHECK_STR(words_escape("abc\x01", buf, sizeof(buf)), "abc\\x01",
		  "buffer: an escape that just fits stays");
	CHECK_STR(words_escape("abc", buf, 1), "", "buffer of 1: empty");
	CHECK_STR(words_escape(NULL, buf, sizeof(buf)), "", "buffer: NULL is empty");
}

/* --- small words ------------------------------------------------------------ */

static void test_small_words(void)
{
	CHECK_STR(words_plural(0), "s", "plural: 0 segments");
	CHECK_STR(words_plural(1), "", "plural: 1 segment");
	CHECK_STR(words_plural(2), "s", "plural: 2 segments");
	CHECK_STR(words_base_name("/usr/bin/nginx"), "nginx", "base name");
	CHECK_STR(words_base_name("nginx"), "nginx", "base name of a bare name");
	CHECK_STR(words_base_name("/tmp/"), "/tmp/", "base name of a directory");
	CHECK_STR(words_base_name(NULL), "?", "base name of nothing");
	CHECK_STR(WRITTEN(words_put_time(out, 1234567891)), "+1.234567s",
		  "time: microseconds, cut");
	CHECK_STR(WRITTEN(words_put_time(out, 0)), "+0.000000s", "time zero");
}

/* --- processes and the run ---------------------------------------------------- */

static void test_processes(void)
{
	struct process p = { .pid = 42, .exe = "/usr/bin/srv",
			     .exit_status = -1 };
	char buf[32], want[32], small[9];
	int rt = SIGRTMIN + 2;

	CHECK_STR(words_signal(SIGKILL, buf, sizeof(buf)), "signal 9 (SIGKILL)",
		  "signal: number and name");
	snprintf(want, sizeof(want), "signal %d", rt);
	if (!sigabbrev_np(rt))
		CHECK_STR(words_signal(rt, buf, sizeof(buf)), want,
			  "signal without a name: the number");
	CHECK_STR(words_signal(SIGKILL, small, sizeof(small)), "signal 9",
		  "signal: cut to the buffer");

	CHECK_STR(words_process_state(&p), "alive", "a process going is alive");
	CHECK_STR(WRITTEN(words_put_process_end(out, &p)), "alive",
		  "end of a process going");
	p.ended = true;
	p.end_ns = 250000000;
	CHECK_STR(words_process_state(&p), "ended", "a process gone is ended");
	CHECK_STR(WRITTEN(words_put_process_end(out, &p)), "+0.250000s",
		  "end without a status: the time alone");
	p.exit_status = 3;
	CHECK_STR(WRITTEN(words_put_process_end(out, &p)), "+0.250000s, exit 3",
		  "end by exit");
	p.signal = SIGKILL;
	CHECK_STR(WRITTEN(words_put_process_end(out, &p)),
		  "+0.250000s, killed by signal 9 (SIGKILL)", "end by a signal");

	CHECK_STR(WRITTEN(words_put_pid(out, 42, &p)), "pid 42 (srv)",
		  "pid with its image");
	CHECK_STR(WRITTEN(words_put_pid(out, 42, NULL)), "pid 42",
		  "pid unknown to the model");
	p.exe = NULL;
	CHECK_STR(WRITTEN(words_put_pid(out, 42, &p)), "pid 42",
		  "pid before its exec");
	p.exe = "/tmp/\x1b[31mred";
	CHECK_STR(WRITTEN(words_put_pid(out, 42, &p)), "pid 42 (\\x1b[31mred)",
		  "pid: the image escaped");

	CHECK_STR(words_run_state(true, false), "running", "run: running");
	CHECK_STR(words_run_state(false, true), "finished", "run: finished");
	CHECK_STR(words_run_state(false, false), "stopped",
		  "run: ended, trace not completed");
}

/* --- segments --------------------------------------------------------------- */

static struct segment seg(enum seg_kind kind)
{
	struct segment s;

	memset(&s, 0, sizeof(s));
	s.kind = kind;
	s.shmid = -1;
	s.creator.seq = MODEL_NO_SEQ;
	s.remover.seq = MODEL_NO_SEQ;
	return s;
}

#define IDENTITY(s, want) \
	CHECK_STR(WRITTEN(words_put_identity(out, &s)), want, "identity %s", want)
#define SHORT(s, want) do {                                                \
		char id_[64];                                              \
		words_short_identity(&s, id_, sizeof(id_));                \
		CHECK_STR(id_, want, "short identity %s", want);           \
	} while (0)

static void test_identity(void)
{
	struct segment s = seg(SEG_SYSV);
	char buf[12];

	s.shmid = 42;
	s.key = 0x53001234;
	IDENTITY(s, "sysv shmid 42 key 0x53001234");
	SHORT(s, "shmid 42 key 0x53001234");
	CHECK_STR(words_identity(&s, buf, sizeof(buf)), "sysv shmid ",
		  "identity in a buffer: cut to size");
	s.key = 0;
	IDENTITY(s, "sysv shmid 42 key IPC_PRIVATE");
	SHORT(s, "shmid 42 IPC_PRIVATE");

	s = seg(SEG_POSIX);
	s.name = "/a\"b\x1b";
	IDENTITY(s, "posix \"/a\\\"b\\x1b\"");
	SHORT(s, "/a\\\"b\\x1b");
	s.name = NULL;
	IDENTITY(s, "posix \"\"");
	SHORT(s, "?");

	s = seg(SEG_MEMFD);
	s.name = "ring";
	IDENTITY(s, "memfd:\"ring\"");
	SHORT(s, "memfd:ring");
	words_short_identity(&s, buf, 5);
	CHECK_STR(buf, "memf", "short identity: cut to size");

	s = seg(SEG_ANON);
	s.inode = 77;
	IDENTITY(s, "anonymous shared mapping");
	SHORT(s, "inode 77");
	s.creator.seq = 3;
	s.creator.pid = 4242;
	SHORT(s, "from pid 4242");
	s = seg(SEG_DEVZERO);
	IDENTITY(s, "shared mapping of /dev/zero");

	s = seg(SEG_FILE);
	s.inode = 12;
	IDENTITY(s, "file inode 12");
	SHORT(s, "inode 12");
	s.name = "/srv/db";
	IDENTITY(s, "file \"/srv/db\" inode 12");
	SHORT(s, "/srv/db");

	s = seg(SEG_SEM);
	s.name = "/mp-1";
	IDENTITY(s, "semaphore \"/mp-1\"");
	SHORT(s, "/mp-1");
}

static void test_state_and_notes(void)
{
	struct segment s = seg(SEG_SYSV);

	s.state = SEG_LEAKED;
	s.created = true;
	CHECK_STR(words_state(&s), "LEAKED", "state: a leak of the trace");
	s.created = false;
	CHECK_STR(words_state(&s), "left in place (the trace did not create it)",
		  "state: left in place");
	s.state = SEG_PENDING;
	CHECK_STR(words_state(&s), "PENDING (marked for removal, still attached)",
		  "state: pending");
	s.state = SEG_LIVE;
	CHECK_STR(words_state(&s), "live", "state: live");
	s.state = SEG_REMOVED;
	CHECK_STR(words_state(&s), "removed", "state: removed");
	s.state = SEG_ENDED;
	CHECK_STR(words_state(&s), "ended (the mappings ended; the file remains)",
		  "state: a file's mappings ended");
	s.notes = SEG_NOTE_FILE_UNLINKED;
	CHECK_STR(words_state(&s), "ended (the mappings ended; the file was unlinked)",
		  "state: ended, the file unlinked");
	s.notes = 0;

	CHECK_STR(words_note_text(SEG_NOTE_REMOVED_OUTSIDE),
		  "it was removed by a process outside the trace",
		  "note: removed outside, one sentence everywhere");
	CHECK_STR(words_note_name(SEG_NOTE_REMOVED_OUTSIDE), "removed_outside",
		  "note: its JSON name");
	for (unsigned bit = SEG_NOTE_PREEXISTING; bit <= SEG_NOTE_UNKNOWN_ORIGIN;
	     bit <<= 1)
		CHECK(words_note_text(bit) && words_note_name(bit),
		      "note 0x%02x has a sentence and a name", bit);
	CHECK(!words_note_text(0x80) && !words_note_name(0x80),
	      "no sentence for a bit that is no note");
}

#define REMOVE(s, want) \
	CHECK_STR(WRITTEN(words_put_remove_cmd(out, &s)), want, "remove: %s", want)

static void test_remove_cmd(void)
{
	struct segment s = seg(SEG_SYSV);

	s.shmid = 42;
	REMOVE(s, "ipcrm -m 42");
	s = seg(SEG_POSIX);
	s.name = "/demo";
	REMOVE(s, "rm /dev/shm/demo");
	s.name = "//a b";
	REMOVE(s, "rm '/dev/shm/a b'");
	s.name = "/it's";
	REMOVE(s, "rm '/dev/shm/it'\\''s'");
	s.name = "/\x1b\\'x";
	REMOVE(s, "rm $'/dev/shm/\\x1b\\\\\\'x'");
	s = seg(SEG_SEM);
	s.name = "/mp-1";
	REMOVE(s, "rm /dev/shm/sem.mp-1");
	s = seg(SEG_ANON);
	CHECK(!words_put_remove_cmd(stdout, &s),
	      "remove: nothing for what goes with its last process");
	CHECK_STR(WRITTEN(words_put_remove_cmd(out, &s)), "",
		  "remove: and writes nothing");
}

/* --- backtraces ----------------------------------------------------------- */

static void test_frames(void)
{
	const struct sym_frame frames[] = {
		{ 0x55d0c3a1b2c4, "/path/server", "main", 0x24, "src/server.c", 76, 0, NULL },
		{ 0x7f0000001000, NULL, NULL, 0, NULL, 0, 0, NULL },
		{ 0x10, "/lib/\x1b.so", "op\"x", 1, NULL, 0, 0, NULL },
		{ 0x7f0000002345, "/usr/lib/libstripped.so", NULL, 0, NULL, 0, 0x2345, "ab12" },
	};

	CHECK_STR(WRITTEN(words_put_frames(out, "  ", frames, 4, true)),
		  "  #0 0x000055d0c3a1b2c4 main+0x24 (/path/server) server.c:76\n"
		  "  #1 0x00007f0000001000 ??\n"
		  "  #2 0x0000000000000010 op\\\"x+0x1 (/lib/\\x1b.so)\n"
		  "  #3 0x00007f0000002345 libstripped.so+0x2345 (/usr/lib/libstripped.so)\n"
		  "  ... (deeper frames not recorded)\n",
		  "frames: symbol, module, file; ?? unknown; escaped; a stripped module's "
		  "module+0xOFFSET; truncated");
	CHECK_STR(WRITTEN(words_put_frames(out, "", frames, 0, false)), "",
		  "no frames, not truncated: nothing");
}

/* --- the JSON members ------------------------------------------------------ */

#define JSON(...) WRITTEN(struct json_writer w_; json_init(&w_, out);       \
			  struct json_writer *w = &w_; __VA_ARGS__;          \
			  json_newline(w))

static void test_json_members(void)
{
	struct segment s = seg(SEG_SYSV);
	struct process p = { .pid = 7 };
	struct attachment a = { .seg = &s, .proc = &p, .addr = 0x1000,
				.length = 4096, .readonly = true };
	struct sym_frame f = { 0x10, "/m", "fn", 4, "a.c", 9, 0x10, "beef" };
	struct report_stack st = { true, 1, false, &f };

	s.shmid = 3;
	s.key = 0x1234;
	s.size = 4096;
	CHECK_STR(JSON(json_begin_object(w); json_model_identity(w, &s);
		       json_end_object(w)),
		  "{\"kind\":\"sysv\",\"shmid\":3,\"key\":\"0x1234\",\"name\":null,"
		  "\"inode\":null,\"dev\":null,\"size\":4096,\"state\":\"live\"}\n",
		  "json identity of a sysv segment");
	s = seg(SEG_POSIX);
	s.name = "/n";
	s.inode = 5;
	s.dev = 27;
	s.state = SEG_LEAKED;
	CHECK_STR(JSON(json_begin_object(w); json_model_identity(w, &s);
		       json_end_object(w)),
		  "{\"kind\":\"posix\",\"shmid\":null,\"key\":null,\"name\":\"/n\","
		  "\"inode\":5,\"dev\":27,\"size\":0,\"state\":\"leaked\"}\n",
		  "json identity of a posix object");
	CHECK_STR(JSON(json_begin_object(w); json_model_attachment_where(w, &a);
		       json_end_object(w)),
		  "{\"pid\":7,\"addr\":\"0x1000\",\"length\":4096,\"readonly\":true,"
		  "\"received_from\":null,\"proc_only\":false}\n",
		  "json attachment: where it is");
	a.received_from = 42;
	a.proc_only = true;
	CHECK_STR(JSON(json_begin_object(w); json_model_attachment_where(w, &a);
		       json_end_object(w)),
		  "{\"pid\":7,\"addr\":\"0x1000\",\"length\":4096,\"readonly\":true,"
		  "\"received_from\":42,\"proc_only\":true}\n",
		  "json attachment: received over a socket, seen in /proc only");
	CHECK_STR(JSON(json_model_frame(w, 0x20, NULL)),
		  "{\"ip\":\"0x20\",\"module\":null,\"symbol\":null,\"offset\":null,"
		  "\"file\":null,\"line\":null,\"module_offset\":null,\"build_id\":null}\n",
		  "json frame resolved to nothing");
	CHECK_STR(JSON(json_begin_object(w); json_model_stack(w, &st);
		       json_end_object(w)),
		  "{\"stack\":[{\"ip\":\"0x10\",\"module\":\"/m\",\"symbol\":\"fn\","
		  "\"offset\":4,\"file\":\"a.c\",\"line\":9,\"module_offset\":\"0x10\","
		  "\"build_id\":\"beef\"}]}\n", "json stack");
}

int main(void)
{
	test_escaping();
	test_small_words();
	test_processes();
	test_identity();
	test_state_and_notes();
	test_remove_cmd();
	test_frames();
	test_json_members();
	return check_exit();
}
