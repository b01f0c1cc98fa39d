/*
 * test-reader.c - the reader core against synthetic traces: good ones,
 * broken ones (each must be refused or skipped, never crash), a file that
 * grows while it is read, symbolization of this very test binary, and the
 * exact text and JSON lines of `shmview dump`.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cmd.h"
#include "shmtrace-format.h"
#include "symbolize.h"
#include "trace.h"

#include "tracegen.h"

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static const char *write_file(const char *name, const void *data, size_t n)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "wb");

	if (n)
		fwrite(data, 1, n, f);
	fclose(f);
	return path;
}

/* Redirect stderr into a temporary file until capture_end(). */
struct capture {
	FILE *file;
	int saved;
};

static void capture_begin(struct capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	c->saved = dup(2);
	dup2(fileno(c->file), 2);
}

/* Restore stderr; copy what was written to msg (NUL-terminated). */
static void capture_end(struct capture *c, char *msg, size_t size)
{
	size_t n;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	rewind(c->file);
	n = fread(msg, 1, size - 1, c->file);
	msg[n] = '\0';
	fclose(c->file);
}

/* Run trace_open with stderr captured into msg; returns its result. */
static int open_quiet(const char *path, struct trace *t, char *msg,
		      size_t size)
{
	struct capture c;
	int rc;

	capture_begin(&c);
	rc = trace_open(path, t);
	capture_end(&c, msg, size);
	return rc;
}

/* Expect trace_open() to refuse the bytes, with `why` in its message. */
static void expect_refused(const char *what, const void *data, size_t n,
			   const char *why)
{
	const char *path = write_file("bad.trace", data, n);
	struct trace t;
	char msg[512];
	int rc = open_quiet(path, &t, msg, sizeof(msg));

	CHECK(rc == -1, "refuse %s", what);
	CHECK(strstr(msg, "shmview: cannot read '") && strstr(msg, why) &&
	      strchr(msg, '\n') == msg + strlen(msg) - 1,
	      "one-line message for %s says '%s' (got: %.*s)", what, why,
	      (int)strcspn(msg, "\n"), msg);
	if (rc == 0)
		trace_close(&t);
}

/* Run `shmview dump ARGS TRACE` in-process; return its stdout. */
static char *run_dump(const char *trace, const char *opt1, const char *opt2,
		      int *rc)
{
	char *argv[5] = { "dump" };
	int argc = 1, saved = dup(1), saved_err = dup(2);
	FILE *cap = tmpfile(), *null = fopen("/dev/null", "w");
	char *out;
	long n;

	if (opt1)
		argv[argc++] = (char *)opt1;
	if (opt2)
		argv[argc++] = (char *)opt2;
	argv[argc++] = (char *)trace;
	fflush(stdout);
	dup2(fileno(cap), 1);
	dup2(fileno(null), 2);
	*rc = cmd_dump(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, 1);
	dup2(saved_err, 2);
	close(saved);
	close(saved_err);
	fclose(null);
	n = lseek(fileno(cap), 0, SEEK_END);
	out = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	if (n > 0 && pread(fileno(cap), out, (size_t)n, 0) != n)
		out[0] = '\0';
	fclose(cap);
	return out;
}

/* --- good traces ---------------------------------------------------------- */

static void build_sample(struct tb *b)
{
	struct shmt_event *e;

	tb_init(b);
	e = tb_add(b, SHMT_CALL_SHMGET, 4242);
	e->args[SHMT_ARG_SHMGET_KEY] = 0x1234;
	e->args[SHMT_ARG_SHMGET_SIZE] = 10240;
	e->args[SHMT_ARG_SHMGET_FLAGS] = IPC_CREAT | 0666;
	e->ret = 3;
	e = tb_add(b, SHMT_CALL_SHM_OPEN, 4242);
	tb_str(b, e, "/demo", 5);
	e->args[SHMT_ARG_SHM_OPEN_OFLAG] = 0102;
	e->args[SHMT_ARG_SHM_OPEN_MODE] = 0600;
	e->ret = 3;
	e = tb_add(b, SHMT_CALL_EXEC, 4245);
	tb_str(b, e, "/bin/true\0true", 14);
	e->args[SHMT_ARG_EXEC_PPID] = 4242;
	e->args[SHMT_ARG_EXEC_ARGC] = 1;
	e->flags = SHMT_EVF_START;
}

static void test_good(void)
{
	const struct trace_event *ev;
	struct trace_iter it;
	struct trace t;
	struct tb b;
	int n = 0;

	build_sample(&b);
	CHECK(trace_open(write_file("good.trace", b.buf, b.size), &t) == 0,
	      "open a good trace");
	CHECK(t.capacity == TB_CAP && t.max_depth == TB_DEPTH,
	      "layout copied from the header");
	trace_iter_init(&it, &t);
	while ((ev = trace_iter_next(&it))) {
		if (n == 0)
			CHECK(ev->call == SHMT_CALL_SHMGET && ev->seq == 0 &&
			      ev->pid == 4242 &&
			      ev->args[SHMT_ARG_SHMGET_KEY] == 0x1234 &&
			      ev->ret == 3, "event 0 is the shmget");
		if (n == 1)
			CHECK(ev->seq == 1 && ev->str_len == 5 &&
			      memcmp(ev->str, "/demo", 5) == 0,
			      "event 1 carries its string");
		if (n == 2)
			CHECK(ev->str_len == 14 && ev->flags == SHMT_EVF_START &&
			      trace_event_reltime(&t, ev) == 3000,
			      "event 2 is the exec, 3 us after the start");
		n++;
	}
	CHECK(n == 3, "three events (got %d)", n);
	CHECK(it.abandoned == 0 && it.corrupt == 0, "nothing lost");
	trace_close(&t);
	tb_free(&b);
}

static void test_abandoned_and_full(void)
{
	const struct trace_event *ev;
	struct trace_counters c;
	struct trace_iter it;
	struct trace t;
	struct tb b;
	int n = 0;

	build_sample(&b);
	tb_slot(&b, 1)->commit = 0;     /* a producer died mid-write */
	tb_slot(&b, 2)->commit = 7;     /* a stale commit word */
	b.h->head = TB_CAP + 17;        /* passed the capacity */
	b.h->dropped = 17;
	trace_open(write_file("abandoned.trace", b.buf, b.size), &t);
	trace_iter_init(&it, &t);
	while ((ev = trace_iter_next(&it)))
		n++;
	/* Slots 3..31 were never committed either. */
	CHECK(n == 1 && it.abandoned == TB_CAP - 1,
	      "abandoned slots skipped and counted (%d events, %llu "
	      "abandoned)", n, (unsigned long long)it.abandoned);
	trace_counters(&t, &c);
	CHECK(c.dropped == 17 && c.head == TB_CAP + 17,
	      "header counters exposed");
	trace_close(&t);
	tb_free(&b);
}

/* --- broken files ----------------------------------------------------------- */

static void test_refused_files(void)
{
	struct shmt_header saved;
	struct trace t;
	char msg[512];
	struct tb b;

	CHECK(open_quiet(tmp_path("missing.trace"), &t, msg, sizeof(msg)) == -1
	      && strstr(msg, "No such file or directory"), "missing file");
	CHECK(open_quiet(tmpdir, &t, msg, sizeof(msg)) == -1 &&
	      strstr(msg, "directory"), "a directory");
	CHECK(open_quiet("/dev/null", &t, msg, sizeof(msg)) == -1 &&
	      strstr(msg, "not a regular file"), "/dev/null");
	expect_refused("an empty file", "", 0, "empty file");

	build_sample(&b);
	saved = *b.h;
	expect_refused("3 bytes", b.buf, 3, "bad magic");
	expect_refused("the magic alone", b.buf, 8, "truncated");
	expect_refused("half a header", b.buf, 2048, "truncated");
	expect_refused("a header without slots", b.buf, SHMT_HEADER_SIZE,
		       "truncated");
	expect_refused("a cut in the slots", b.buf, SHMT_HEADER_SIZE + 300,
		       "truncated");
	expect_refused("a cut in the arena", b.buf, b.size - 1, "truncated");

#define MUTATE(what, stmt, why)                                        \
	do {                                                           \
		*b.h = saved;                                          \
		stmt;                                                  \
		expect_refused(what, b.buf, b.size, why);              \
	} while (0)

	MUTATE("bad magic", memcpy(b.h->magic, "SHMTRACX", 8), "bad magic");
	MUTATE("an ELF file", memcpy(b.h->magic, "\177ELF\2\1\1\0", 8),
	       "not a shmtrace file");
	MUTATE("version 3", b.h->version = 3, "unsupported format version 3");
	MUTATE("version 2 without records", b.h->version = 2,
	       "corrupted header (version 2 with flags");
	MUTATE("swapped endian", b.h->endian = 0x04030201,
	       "other byte order");
	MUTATE("garbage endian", b.h->endian = 0xdeadbeef, "endian");
	MUTATE("wrong header_size", b.h->header_size = 1024, "header_size");
	MUTATE("slot_size lies", b.h->slot_size = 256, "slot_size");
	MUTATE("slot_size below the event", b.h->slot_size = 64, "slot_size");
	MUTATE("max_depth too big",
	       (b.h->max_depth = 1000, b.h->slot_size = shmt_slot_size(1000)),
	       "max_depth");
	MUTATE("misaligned slots", b.h->slot_offset = SHMT_HEADER_SIZE + 4,
	       "slot_offset");
	MUTATE("slots inside the header", b.h->slot_offset = 64,
	       "slot_offset");
	MUTATE("capacity overflow", b.h->slot_capacity = UINT64_MAX / 64,
	       "overflows");
	MUTATE("capacity past the file", b.h->slot_capacity = TB_CAP * 2,
	       "overlaps");
	MUTATE("arena size overflow", b.h->arena_size = UINT64_MAX - 100,
	       "overflows");
	MUTATE("arena past total_size", b.h->arena_size = TB_ARENA * 2,
	       "total_size");
	MUTATE("total_size past the file", b.h->total_size = b.size + 4096,
	       "truncated");
	MUTATE("arena at an absurd offset",
	       (b.h->arena_offset = UINT64_MAX - 10), "overflows");
#undef MUTATE
	tb_free(&b);
}

/* --- broken events ---------------------------------------------------------- */

static void test_corrupt_events(void)
{
	const struct trace_event *ev;
	struct shmt_event *e;
	struct trace_iter it;
	struct trace t;
	struct tb b;
	int n = 0, ok = 1;

	tb_init(&b);
	tb_add(&b, SHMT_CALL_SHMDT, 1);                      /* 0: good */
	e = tb_add(&b, SHMT_CALL_SHM_UNLINK, 1);             /* 1: off past */
	e->str_off = TB_ARENA + 100;
	e->str_len = 4;
	e = tb_add(&b, SHMT_CALL_SHM_UNLINK, 1);             /* 2: wraps */
	e->str_off = UINT32_MAX - 1;
	e->str_len = 8;
	e = tb_add(&b, SHMT_CALL_SHM_UNLINK, 1);             /* 3: unused */
	e->str_off = 0;
	e->str_len = 100;                 /* arena_head is still 0 */
	e = tb_add(&b, SHMT_CALL_SHMDT, 1);                  /* 4: frames */
	e->nframes = TB_DEPTH + 1;
	e = tb_add(&b, SHMT_CALL_SHMDT, 1);                  /* 5: frames */
	e->nframes = UINT16_MAX;
	tb_add(&b, SHMT_CALL_COUNT, 1);                      /* 6: call */
	tb_add(&b, 0xffff, 1);                               /* 7: call */
	tb_add(&b, SHMT_CALL_NONE, 1);                       /* 8: call */
	e = tb_add(&b, SHMT_CALL_MMAP, 1);                   /* 9: obj */
	e->obj = SHMT_OBJ_COUNT;
	e = tb_add(&b, SHMT_CALL_SHMDT, 1);                  /* 10: good */
	e->nframes = TB_DEPTH;
	for (unsigned i = 0; i < TB_DEPTH; i++)
		e->frames[i] = 0x1000 + i;
	trace_open(write_file("corrupt.trace", b.buf, b.size), &t);
	trace_iter_init(&it, &t);
	while ((ev = trace_iter_next(&it))) {
		ok &= ev->seq == 0 || ev->seq == 10;
		n++;
	}
	CHECK(n == 2 && ok, "only the two valid events come out (%d)", n);
	CHECK(it.corrupt == 9, "nine corrupt slots counted (%llu)",
	      (unsigned long long)it.corrupt);
	CHECK(it.abandoned == 0, "slots past head are not visited");
	trace_close(&t);
	tb_free(&b);
}

/* The file is written in place while we read it (a live run). */
static void test_growing_file(void)
{
	const struct trace_event *ev;
	struct trace_iter it, it2;
	struct trace t;
	struct tb b;
	int n = 0, fd;
	const char *path;

	build_sample(&b);
	b.h->head = 2;                      /* the exec is not there yet */
	path = write_file("live.trace", b.buf, b.size);
	trace_open(path, &t);
	trace_iter_init(&it, &t);
	/* The producer publishes slot 2 and moves head after our snapshot. */
	b.h->head = 3;
	fd = open(path, O_WRONLY);
	CHECK(pwrite(fd, b.buf, b.size, 0) == (ssize_t)b.size,
	      "rewrite the file in place");
	close(fd);
	while ((ev = trace_iter_next(&it)))
		n++;
	CHECK(n == 2, "a pass keeps its head snapshot (%d)", n);
	trace_iter_init(&it2, &t);
	n = 0;
	while ((ev = trace_iter_next(&it2)))
		n++;
	CHECK(n == 3, "a new pass sees the new event (%d)", n);
	trace_close(&t);
	tb_free(&b);
}

/* Random event fields; most in range, some just out of it. */
static void randomize_slot(struct shmt_event *e, unsigned *seed)
{
	unsigned char *raw = (unsigned char *)e;

	for (size_t i = 8; i < SHMT_EVENT_FIXED + TB_DEPTH * 8; i++)
		raw[i] = (unsigned char)(rand_r(seed) >> 7);
	e->call = (uint16_t)(rand_r(seed) % (SHMT_CALL_COUNT + 2));
	e->nframes = (uint16_t)(rand_r(seed) % (TB_DEPTH + 2));
	e->obj = (uint32_t)(rand_r(seed) % (SHMT_OBJ_COUNT + 1));
	e->str_off = (uint32_t)(rand_r(seed) % (TB_ARENA + 64));
	e->str_len = (uint32_t)(rand_r(seed) % 300);
	if (rand_r(seed) % 4 == 0)
		e->ret = -1;
	if (rand_r(seed) % 4 == 0)
		e->args[SHMT_ARG_ARGC] = (uint64_t)(rand_r(seed) % 8);   /* argc */
}

/* Random garbage past a valid header must never crash the iterator, the
 * decoders or the renderers. */
static void test_fuzz_slots(void)
{
	const struct trace_event *ev;
	struct trace_iter it;
	struct trace t;
	struct tb b;
	unsigned seed = 12345;
	int events = 0, rc1, rc2;
	char *out1, *out2;

	build_sample(&b);
	for (size_t i = b.h->arena_offset; i < b.size; i++)
		b.buf[i] = (unsigned char)(rand_r(&seed) >> 7);
	for (uint64_t i = 0; i < TB_CAP; i++) {
		randomize_slot(tb_slot(&b, i), &seed);
		/* Commit words that match: validation is what is tested. */
		tb_slot(&b, i)->commit = i + 1;
	}
	b.h->head = TB_CAP;
	b.h->arena_head = TB_ARENA / 2;
	trace_open(write_file("fuzz.trace", b.buf, b.size), &t);
	trace_iter_init(&it, &t);
	while ((ev = trace_iter_next(&it))) {
		volatile unsigned char sink = 0;

		for (uint32_t i = 0; i < ev->str_len; i++)
			sink ^= (unsigned char)ev->str[i];
		for (unsigned i = 0; i < ev->nframes; i++)
			sink ^= (unsigned char)ev->frames[i];
		(void)sink;
		events++;
	}
	CHECK(events > 0 && it.corrupt > 0 && events + it.corrupt == TB_CAP,
	      "random slots: %d valid, %llu corrupt, no crash", events,
	      (unsigned long long)it.corrupt);
	out1 = run_dump(tmp_path("fuzz.trace"), "--stack", "--modules", &rc1);
	out2 = run_dump(tmp_path("fuzz.trace"), "--json", "-T", &rc2);
	CHECK(rc1 == 0 && rc2 == 0 && strlen(out1) > 0 && strlen(out2) > 0,
	      "random events render as text and JSON");
	for (const unsigned char *p = (unsigned char *)out1; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p >= 0x7f) {
			CHECK(0, "no raw control or high byte in the text dump");
			break;
		}
	free(out1);
	free(out2);
	trace_close(&t);
	tb_free(&b);
}

/* --- symbolization of this binary ------------------------------------------ */

__attribute__((noinline, used)) int some_function(int x)
{
	volatile int y = x;

	y = y * 3 + 1;
	y = y ^ 0x55;
	return y + x;
}

struct self_module {
	uint64_t bias, low, high;
	unsigned char id[SHMT_BUILD_ID_MAX];
	size_t id_len;
};

static void find_build_id(struct dl_phdr_info *info, const ElfW(Phdr) *ph,
			  struct self_module *m)
{
	const unsigned char *p = (const unsigned char *)(info->dlpi_addr +
							 ph->p_vaddr);
	const unsigned char *end = p + ph->p_memsz;

	while (p + sizeof(ElfW(Nhdr)) <= end) {
		const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
		size_t name = (nh->n_namesz + 3) & ~3u;
		size_t desc = (nh->n_descsz + 3) & ~3u;
		const unsigned char *d = p + sizeof(*nh) + name;

		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
		    memcmp(p + sizeof(*nh), "GNU", 4) == 0) {
			m->id_len = nh->n_descsz < SHMT_BUILD_ID_MAX ?
				nh->n_descsz : SHMT_BUILD_ID_MAX;
			memcpy(m->id, d, m->id_len);
			return;
		}
		p = d + desc;
	}
}

static int first_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct self_module *m = arg;

	(void)size;
	m->bias = info->dlpi_addr;
	m->low = UINT64_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint64_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD) {
			if (start < m->low)
				m->low = start;
			if (start + ph->p_memsz > m->high)
				m->high = start + ph->p_memsz;
		} else if (ph->p_type == PT_NOTE && !m->id_len) {
			find_build_id(info, ph, m);
		}
	}
	return 1;   /* the main program comes first */
}

static void add_self_module(struct tb *b, int32_t pid, const char *exe,
			    const struct self_module *m, bool bad_id)
{
	struct shmt_event *e = tb_add(b, SHMT_CALL_MODULE, pid);

	tb_str(b, e, exe, strlen(exe));
	e->args[SHMT_ARG_MODULE_BIAS] = m->bias;
	e->args[SHMT_ARG_MODULE_LO] = m->low;
	e->args[SHMT_ARG_MODULE_HI] = m->high;
	e->args[SHMT_ARG_MODULE_BUILD_ID_LEN] = m->id_len;
	memcpy(&e->args[SHMT_ARG_MODULE_BUILD_ID], m->id, m->id_len);
	if (bad_id)
		((unsigned char *)&e->args[SHMT_ARG_MODULE_BUILD_ID])[0] ^= 0xff;
}

static struct shmt_event *add_with_frame(struct tb *b, uint16_t call,
					 int32_t pid, uint64_t ip)
{
	struct shmt_event *e = tb_add(b, call, pid);

	e->nframes = 1;
	e->frames[0] = ip;
	return e;
}

static void check_frame(const struct sym_frame *f, const char *exe,
			const char *what)
{
	CHECK(f->symbol && strcmp(f->symbol, "some_function") == 0 &&
	      f->offset == 5, "%s: some_function+5 (got %s+%llu)", what,
	      f->symbol ? f->symbol : "(null)",
	      (unsigned long long)f->offset);
	CHECK(f->module && strcmp(f->module, exe) == 0, "%s: module path",
	      what);
	if (f->file)
		CHECK(strstr(f->file, "test-reader.c") && f->line > 0,
		      "%s: file:line %s:%d", what, f->file, f->line);
	else
		printf("ok - %s: no line info (built without -g) # skip\n",
		       what);
}

static void test_symbolize(void)
{
	uint64_t ip = (uint64_t)(uintptr_t)&some_function + 5;
	struct self_module m = { 0 };
	const struct trace_event *ev;
	struct sym_frame f[8];
	struct trace_iter it;
	struct sym_table *st;
	char exe[4096];
	struct trace t;
	struct tb b;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct shmt_event *e;
	struct capture cap;
	char msg[1024], *warn;
	int nf = 0;

	exe[n > 0 ? n : 0] = '\0';
	dl_iterate_phdr(first_module, &m);
	CHECK(m.id_len > 0 && m.low <= ip && ip < m.high,
	      "found this binary's build-id and range");
	tb_init(&b);
	/* pid 100 records an event before its module events (slot order). */
	add_with_frame(&b, SHMT_CALL_SHMDT, 100, ip);
	add_self_module(&b, 100, exe, &m, false);
	/* pid 101 is its fork child, seen from the child. */
	e = add_with_frame(&b, SHMT_CALL_FORK, 101, ip);
	e->flags = SHMT_EVF_CHILD;
	e->args[SHMT_ARG_FORK_PPID] = 100;
	add_with_frame(&b, SHMT_CALL_SHMDT, 101, ip);
	/* pid 101 execs: the new image has no modules. */
	e = tb_add(&b, SHMT_CALL_EXEC, 101);
	e->flags = SHMT_EVF_START;
	add_with_frame(&b, SHMT_CALL_SHMDT, 101, ip);
	/* pid 102 recorded a build-id that differs from the file. */
	add_self_module(&b, 102, exe, &m, true);
	add_with_frame(&b, SHMT_CALL_SHMDT, 102, ip);
	/* pid 103's child 104, announced by the parent after the child's
	 * first event. */
	add_self_module(&b, 103, exe, &m, false);
	add_with_frame(&b, SHMT_CALL_SHMDT, 104, ip);
	tb_add(&b, SHMT_CALL_FORK, 103)->ret = 104;

	trace_open(write_file("sym.trace", b.buf, b.size), &t);
	st = sym_new();
	trace_iter_init(&it, &t);
	while ((ev = trace_iter_next(&it)))
		sym_learn(st, ev);
	trace_iter_init(&it, &t);
	capture_begin(&cap);
	while ((ev = trace_iter_next(&it)) && nf < 8)
		if (ev->nframes && ev->call == SHMT_CALL_SHMDT)
			sym_resolve(st, ev->pid, ev->seq, ev->frames[0],
				    &f[nf++]);
	/* Resolve the mismatching module once more: still one warning. */
	sym_resolve(st, 102, UINT64_MAX, ip, &f[7]);
	capture_end(&cap, msg, sizeof(msg));
	warn = strstr(msg, "build-id differs");
	CHECK(warn && !strstr(warn + 1, "build-id differs") &&
	      strncmp(msg, "shmview: warning: '", 19) == 0,
	      "one warning for the file whose build-id differs");
	CHECK(nf == 5, "five frames to resolve (%d)", nf);
	check_frame(&f[0], exe, "an event before its module event");
	check_frame(&f[1], exe, "a fork child inherits the modules");
	CHECK(!f[2].module && !f[2].symbol, "after exec the modules are gone");
	CHECK(f[3].module && !f[3].symbol,
	      "build-id mismatch: module kept, symbol refused");
	check_frame(&f[4], exe, "a child announced late by its parent");
	sym_resolve(st, 999, 0, ip, &f[0]);
	CHECK(!f[0].module && !f[0].symbol && f[0].ip == ip,
	      "an unknown process resolves to nothing");
	sym_free(st);
	trace_close(&t);
	tb_free(&b);
}

/* --- the dump's exact output ------------------------------------------------ */

static void build_dump_sample(struct tb *b)
{
	struct shmt_event *e;

	tb_init(b);
	e = tb_add(b, SHMT_CALL_SHMGET, 4242);
	e->args[SHMT_ARG_SHMGET_KEY] = 0x1234;
	e->args[SHMT_ARG_SHMGET_SIZE] = 10240;
	e->args[SHMT_ARG_SHMGET_FLAGS] = IPC_CREAT | 0666;
	e->ret = 3;
	e = tb_add(b, SHMT_CALL_SHMGET, 4242);
	e->args[SHMT_ARG_SHMGET_KEY] = 0x1234;
	e->args[SHMT_ARG_SHMGET_SIZE] = 10240;
	e->args[SHMT_ARG_SHMGET_FLAGS] = IPC_CREAT | IPC_EXCL | 0666;
	e->ret = -1; e->err = EEXIST;
	e = tb_add(b, SHMT_CALL_SHMAT, 4242);
	e->args[SHMT_ARG_SHMAT_SHMID] = 3;
	e->args[SHMT_ARG_SHMAT_FLAGS] = SHM_RDONLY;
	e->args[SHMT_ARG_SHMAT_SEGSZ] = 10240;
	e->ret = 0x7f12a4b3c000;
	e = tb_add(b, SHMT_CALL_SHMCTL, 4242);
	e->args[SHMT_ARG_SHMCTL_SHMID] = 3;
	e->args[SHMT_ARG_SHMCTL_CMD] = IPC_RMID;
	e = tb_add(b, SHMT_CALL_MMAP, 4242);
	e->args[SHMT_ARG_MMAP_LENGTH] = 4096;
	e->args[SHMT_ARG_MMAP_PROT] = PROT_READ | PROT_WRITE;
	e->args[SHMT_ARG_MMAP_FLAGS] = MAP_SHARED | MAP_ANONYMOUS;
	e->args[SHMT_ARG_MMAP_FD] = (uint64_t)-1;
	e->obj = SHMT_OBJ_ANON; e->ret = 0x7f0000001000;
	e = tb_add(b, SHMT_CALL_SHM_OPEN, 4242);
	tb_str(b, e, "/demo", 5);
	e->args[SHMT_ARG_SHM_OPEN_OFLAG] = O_RDWR | O_CREAT;
	e->args[SHMT_ARG_SHM_OPEN_MODE] = 0600; e->ret = 3;
	tb_add(b, SHMT_CALL_FORK, 4242)->ret = 4243;
	e = tb_add(b, SHMT_CALL_FORK, 4243);
	e->flags = SHMT_EVF_CHILD; e->args[SHMT_ARG_FORK_PPID] = 4242;
	e = tb_add(b, SHMT_CALL_POSIX_SPAWN, 4242);
	tb_str(b, e, "/bin/true\0true", 14);
	e->args[SHMT_ARG_SPAWN_PID] = 4245; e->args[SHMT_ARG_SPAWN_ARGC] = 1;
	e = tb_add(b, SHMT_CALL_EXEC, 4245);
	tb_str(b, e, "/bin/true\0true", 14);
	e->args[SHMT_ARG_EXEC_PPID] = 4242; e->args[SHMT_ARG_EXEC_ARGC] = 1;
	e->flags = SHMT_EVF_START;
	e = tb_add(b, SHMT_CALL_EXEC, 4242);
	tb_str(b, e, "nope\0nope", 9);
	e->args[SHMT_ARG_EXEC_ARGC] = 1;
	e->args[SHMT_ARG_EXEC_VARIANT] = SHMT_EXEC_EXECVP;
	e->ret = -1; e->err = ENOENT;
	e = tb_add(b, SHMT_CALL_EXIT, 4242);
	e = tb_add(b, SHMT_CALL_EXIT, 4243);
	e->args[SHMT_ARG_EXIT_STATUS] = 1; e->args[SHMT_ARG_EXIT_RAW] = 1;
	e = tb_add(b, SHMT_CALL_THREAD_START, 4242);
	e->args[SHMT_ARG_THREAD_START_ROUTINE] = 0x55d0c3a1b000;
	tb_add(b, SHMT_CALL_THREAD_EXIT, 4242);
	e = tb_add(b, SHMT_CALL_MODULE, 4242);
	tb_str(b, e, "/lib/x86_64-linux-gnu/libc.so.6", 31);
	e->args[SHMT_ARG_MODULE_BIAS] = 0x7f0000000000;
	e->args[SHMT_ARG_MODULE_BUILD_ID_LEN] = 2;
	memcpy(&e->args[SHMT_ARG_MODULE_BUILD_ID], "\xab\x12", 2);
	e = tb_add(b, SHMT_CALL_SHM_OPEN, 4242);
	tb_str(b, e, "/a\x1b[2J\n\"", 8);
	e->args[SHMT_ARG_SHM_OPEN_OFLAG] = O_RDONLY;
	e->flags = SHMT_EVF_STR_TRUNC | SHMT_EVF_NESTED;
	e->ret = -1; e->err = ENOENT;
}

static void test_dump_text(void)
{
	static const char *const want[] = {
"[pid 4242] shmget(key=0x1234, size=10240, shmflg=IPC_CREAT|0666) = 3",
"[pid 4242] shmget(key=0x1234, size=10240, shmflg=IPC_CREAT|IPC_EXCL|0666) = -1 EEXIST (File exists)",
"[pid 4242] shmat(shmid=3, shmaddr=NULL, shmflg=SHM_RDONLY) = 0x7f12a4b3c000",
"[pid 4242] shmctl(shmid=3, cmd=IPC_RMID, buf=NULL) = 0",
"[pid 4242] mmap(addr=NULL, length=4096, prot=PROT_READ|PROT_WRITE, flags=MAP_SHARED|MAP_ANONYMOUS, fd=-1, offset=0) = 0x7f0000001000",
"[pid 4242] shm_open(name=\"/demo\", oflag=O_RDWR|O_CREAT, mode=0600) = 3",
"[pid 4242] fork() = 4243",
"[pid 4243] fork() = 0 (child of 4242)",
"[pid 4242] posix_spawn(path=\"/bin/true\", argv=[\"true\"]) = 0 (pid 4245)",
"[pid 4245] execve(path=\"/bin/true\", argv=[\"true\"]) = 0",
"[pid 4242] execvp(file=\"nope\", argv=[\"nope\"]) = -1 ENOENT (No such file or directory)",
"[pid 4242] exit(status=0) = ?",
"[pid 4243] _exit(status=1) = ?",
"[pid 4242] thread_start(start_routine=0x55d0c3a1b000) = 0",
"[pid 4242] thread_exit(retval=0x0) = ?",
"[pid 4242] shm_open(name=\"/a\\x1b[2J\\n\\\"\"..., oflag=O_RDONLY, mode=0) = -1 ENOENT (No such file or directory) <nested>",
	};
	char path[512], *out, *line, *save = NULL;
	size_t i = 0;
	struct tb b;
	int rc;

	build_dump_sample(&b);
	snprintf(path, sizeof(path), "%s", write_file("dump.trace", b.buf,
						       b.size));
	out = run_dump(path, NULL, NULL, &rc);
	CHECK(rc == 0, "dump exits 0");
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), i++)
		if (i < sizeof(want) / sizeof(want[0]))
			CHECK_STR(line, want[i], "text line %zu", i);
	CHECK(i == sizeof(want) / sizeof(want[0]), "%zu text lines", i);
	free(out);

	out = run_dump(path, "--modules", "-T", &rc);
	CHECK(strstr(out, "[pid 4242] module(path=\"/lib/x86_64-linux-gnu/"
		     "libc.so.6\", base=0x7f0000000000, build_id=\"ab12\")\n"),
	      "--modules shows the module event");
	CHECK(strstr(out, "shmget(key=0x1234, size=10240, shmflg=IPC_CREAT|"
		     "0666) = 3 <0.000012>\n"), "-T appends the duration");
	free(out);
	tb_free(&b);
}

static void test_dump_json(void)
{
	char path[512], *out;
	struct tb b;
	int rc;

	build_dump_sample(&b);
	snprintf(path, sizeof(path), "%s", write_file("dump.trace", b.buf,
						       b.size));
	out = run_dump(path, "--json", NULL, &rc);
	CHECK(rc == 0, "dump --json exits 0");
	CHECK(strstr(out, "{\"schema\":2,\"start_epoch_ns\":null,"
		     "\"seq\":0,\"time_ns\":1000,\"pid\":4242,\"tid\":4242,"
		     "\"call\":\"shmget\",\"args\":{\"key\":\"0x1234\",\"size\":"
		     "10240,\"shmflg\":\"IPC_CREAT|0666\"},\"ret\":3,"
		     "\"duration_ns\":12000,\"stack\":[]}\n") == out,
	      "first JSON line exact");
	CHECK(strstr(out, "\"ret\":-1,\"errno\":\"EEXIST\""), "errno name");
	CHECK(strstr(out, "\"call\":\"shmat\",\"args\":{\"shmid\":3,\"shmaddr\":"
		     "\"0x0\",\"shmflg\":\"SHM_RDONLY\"},\"ret\":"
		     "139718049382400,"), "shmat address as a number, as every ret");
	CHECK(strstr(out, "\"info\":{\"segsz\":10240}"), "shmat info");
	CHECK(strstr(out, "\"fd\":-1,\"offset\":0},\"ret\":139637976731648"
		     ",\"duration_ns\":12000,\"stack\":[],\"info\":{\"object\":"
		     "\"anon\"}"), "mmap info object");
	CHECK(strstr(out, "\"call\":\"fork\",\"args\":{\"ppid\":4242},\"ret\":0"),
	      "fork child has ppid in args");
	CHECK(strstr(out, "\"call\":\"posix_spawn\",\"args\":{\"path\":"
		     "\"/bin/true\",\"argv\":[\"true\"],\"pid\":4245},\"ret\":0"),
	      "posix_spawn args");
	CHECK(strstr(out, "\"call\":\"execve\",\"args\":{\"path\":\"/bin/true\","
		     "\"argv\":[\"true\"],\"ppid\":4242}"), "exec start args");
	CHECK(strstr(out, "\"call\":\"_exit\",\"args\":{\"status\":1},"
		     "\"duration_ns\""), "_exit: no ret");
	CHECK(strstr(out, "\"name\":\"/a\\u001b[2J\\n\\\"\""),
	      "JSON string escaped");
	CHECK(strstr(out, "\"info\":{\"truncated\":true,\"nested\":true}"),
	      "truncated and nested flags");
	CHECK(!strstr(out, "\"module\""), "modules hidden by default");
	free(out);
	tb_free(&b);
}

static void cleanup_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			unlink(tmp_path(de->d_name));
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-reader.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_good();
	test_abandoned_and_full();
	test_refused_files();
	test_corrupt_events();
	test_growing_file();
	test_fuzz_slots();
	test_symbolize();
	test_dump_text();
	test_dump_json();
	cleanup_tmpdir();
	return check_exit();
}
