/*
 * test-filter.c - the one filter of dump, report, map, export and live
 * (filter.h), and the one time syntax (parse_time_ns, util.h).
 */
#define TB_CAP 64u
#include <errno.h>
#include <stdio.h>
#include <sys/shm.h>

#include "check.h"
#include "filter.h"
#include "model.h"
#include "modelgen.h"
#include "trace.h"
#include "tracegen.h"
#include "util.h"

static void test_time_syntax(void)
{
	static const struct { const char *s; uint64_t ns; } good[] = {
		{ "1.5", 1500000000ull }, { "2", 2000000000ull },
		{ "10ns", 10 }, { "30us", 30000 }, { "200ms", 200000000ull },
		{ "1.5s", 1500000000ull }, { "2m", 120000000000ull },
		{ "1h", 3600000000000ull }, { "1d", 86400000000000ull },
		{ "0", 0 }, { ".5s", 500000000ull },
	};
	static const char *const bad[] = {
		"", "-1", "+1", "1x", "inf", "nan", "0x10", " 5", "1.2.3",
		"1 s", "s", ".", "1e3", NULL,
	};
	uint64_t ns;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(parse_time_ns(good[i].s, &ns) == 0 && ns == good[i].ns,
		      "time '%s' is %llu ns", good[i].s,
		      (unsigned long long)good[i].ns);
	for (size_t i = 0; bad[i]; i++)
		CHECK(parse_time_ns(bad[i], &ns) == -1, "time '%s' refused",
		      bad[i]);
	CHECK(parse_time_ns(NULL, &ns) == -1, "no time refused");
}

static void test_parse(void)
{
	struct filter f = { 0 };

	CHECK(filter_parse_pids("12,13", &f) == 0 && f.pids.n == 2,
	      "-p 12,13: two pids");
	CHECK(filter_parse_pids("12,", &f) == -1 &&
	      filter_parse_pids("x", &f) == -1 && filter_parse_pids("0", &f) == -1,
	      "-p refuses an empty piece, a word, 0");
	CHECK(filter_parse_trace("trace=shmget,execve", &f) == 0 &&
	      f.calls[SHMT_CALL_SHMGET] && !f.calls[SHMT_CALL_EXEC] &&
	      f.nnames == 1, "-e trace=shmget,execve: a family and a variant");
	CHECK(filter_parse_trace("trace=nosuchcall", &f) == -1,
	      "-e trace= refuses an unknown call");
	CHECK(filter_parse_kinds("sysv,anon,sem", &f) == 0 &&
	      (f.kinds & (1u << SEG_SYSV)) && (f.kinds & (1u << SEG_DEVZERO)) &&
	      (f.kinds & (1u << SEG_SEM)) && !(f.kinds & (1u << SEG_POSIX)),
	      "--kind sysv,anon,sem (anon takes /dev/zero too)");
	CHECK(filter_parse_kinds("sysv,bogus", &f) == -1,
	      "--kind refuses an unknown kind");
	CHECK(filter_check(&f) == NULL, "the options hold together");
	f.children = true;
	filter_free(&f);
	f.children = true;
	CHECK(filter_check(&f) != NULL, "--children without -p is refused");
	filter_free(&f);
	CHECK(filter_parse_since("2", &f) == 0 &&
	      filter_parse_until("1", &f) == 0 && filter_check(&f) != NULL,
	      "--since after --until is refused");
	filter_free(&f);
}

/*
 * pid 100 makes sysv 7 (key 0x1111) and forks 101, which makes posix
 * "/a"; pid 200 (unrelated) makes sysv 8.  Times in microseconds.
 */
static void make_trace(struct tb *b)
{
	struct shmt_event *e;

	tb_init(b);
	start(b, 100, 1, 1);
	shmget_ev(b, 100, 10, 7, 0x1111, 4096);       /* seq 1 */
	e = ev(b, SHMT_CALL_FORK, 100, 20, 101);      /* seq 2 */
	start(b, 200, 1, 25);                         /* seq 3 */
	posix_open(b, 101, 30, "/a", 5, 1);           /* seq 4 */
	e = shmget_ev(b, 200, 40, 8, 0x2222, 8192);   /* seq 5 */
	e->tid = 201;
	shmctl_ev(b, 100, 3000000, 7, IPC_RMID);      /* seq 6, at 3 s */
	(void)e;
}

static size_t count_events(const struct filter *f, const struct trace *t)
{
	struct trace_iter it;
	const struct trace_event *e;
	size_t n = 0;

	trace_iter_init(&it, t);
	while ((e = trace_iter_next(&it)))
		n += filter_event(f, t, e);
	return n;
}

static void test_events(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	struct filter f = { 0 };

	make_trace(&b);
	if (build(&b, &t, &m, "filter.trace")) {
		CHECK(0, "the trace opens");
		return;
	}
	filter_resolve(&f, &t, NULL);
	CHECK(count_events(&f, &t) == 7, "no filter: every event");
	filter_parse_pids("100", &f);
	filter_resolve(&f, &t, NULL);
	CHECK(count_events(&f, &t) == 4, "-p 100: its four events");
	f.children = true;
	filter_resolve(&f, &t, NULL);
	CHECK(count_events(&f, &t) == 5, "-p 100 --children: and its child's");
	filter_free(&f);

	filter_parse_tids("201", &f);
	filter_resolve(&f, &t, NULL);
	CHECK(count_events(&f, &t) == 1, "--tid 201: one event");
	filter_free(&f);

	filter_parse_calls("shmget", &f);
	filter_resolve(&f, &t, NULL);
	CHECK(count_events(&f, &t) == 2, "--call shmget: two events");
	filter_free(&f);

	filter_parse_trace("trace=execve", &f);
	filter_resolve(&f, &t, NULL);
	CHECK(count_events(&f, &t) == 2, "-e trace=execve: the two starts");
	filter_free(&f);

	filter_parse_since("1", &f);
	filter_resolve(&f, &t, NULL);
	CHECK(count_events(&f, &t) == 1, "--since 1: the one event after 1 s");
	filter_free(&f);
	filter_parse_until("35us", &f);
	filter_resolve(&f, &t, NULL);
	CHECK(count_events(&f, &t) == 5, "--until 35us: the first five");
	filter_free(&f);

	filter_parse_kinds("posix", &f);
	filter_resolve(&f, &t, &m);
	CHECK(count_events(&f, &t) == 1, "--kind posix: the shm_open");
	filter_free(&f);

	filter_parse_segment("7", &f);
	filter_resolve(&f, &t, NULL);	/* it builds its own model */
	CHECK(count_events(&f, &t) == 2, "--segment 7: its shmget and shmctl");
	filter_free(&f);
	filter_parse_segment("0x2222", &f);
	filter_resolve(&f, &t, &m);
	CHECK(count_events(&f, &t) == 1, "--segment 0x2222: by key");
	filter_free(&f);
	filter_parse_segment("a", &f);
	filter_resolve(&f, &t, &m);
	CHECK(count_events(&f, &t) == 1, "--segment a: /a by its name");
	filter_free(&f);

	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

static void test_model(void)
{
	struct tb b;
	struct trace t;
	struct model m;
	struct filter f = { 0 };

	make_trace(&b);
	if (build(&b, &t, &m, "filter-model.trace")) {
		CHECK(0, "the trace opens");
		return;
	}
	filter_parse_pids("100", &f);
	f.children = true;
	filter_resolve(&f, &t, &m);
	filter_model(&f, &m);
	CHECK(m.nsegments == 2 && m.segments[0]->shmid == 7 &&
	      m.segments[1]->kind == SEG_POSIX,
	      "-p 100 --children: sysv 7 and /a, not sysv 8");
	CHECK(m.nprocesses == 2 && model_process(&m, 200) != NULL,
	      "-p 100 --children: two processes shown, the other still found");
	CHECK(m.leaks == 1, "the leaks counted are the ones shown (/a)");
	filter_free(&f);
	model_free(&m);	/* frees the hidden ones too (ASan checks) */
	trace_close(&t);

	if (build(&b, &t, &m, "filter-model2.trace")) {
		CHECK(0, "the trace opens again");
		return;
	}
	filter_parse_kinds("sysv", &f);
	filter_parse_since("4", &f);
	filter_resolve(&f, &t, &m);
	filter_model(&f, &m);
	CHECK(m.nsegments == 1 && m.segments[0]->shmid == 8,
	      "--kind sysv --since 4: sysv 8 (7 was gone at 3 s)");
	filter_free(&f);
	model_free(&m);
	trace_close(&t);
	tb_free(&b);
}

int main(void)
{
	modelgen_init();
	test_time_syntax();
	test_parse();
	test_events();
	test_model();
	CHECK(modelgen_done() == 0, "the test's files are removed");
	return check_exit();
}
