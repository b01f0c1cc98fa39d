/*
 * test-suppress.c - leak suppressions (suppress.h): the file format, its
 * errors with their line, matching by kind, key, name and stack frames
 * ("..." included), and that what suppress_write() writes matches back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "suppress.h"

static const struct sym_frame frames[] = {
	{ 0x1000, "/usr/bin/server", "make_zone", 0x10, "zone.c", 31, 0x1000, NULL },
	{ 0x2000, "/usr/bin/server", "main", 0x20, "/src/server.c", 76, 0x2000, NULL },
	{ 0x3000, "/lib/libc.so.6", "__libc_start_main", 0x30, NULL, 0, 0x3000, NULL },
};

static struct report_stack stack(void)
{
	struct report_stack st = { .known = true, .nframes = 3,
				   .frames = (struct sym_frame *)frames };
	return st;
}

static bool hits(const char *block, const struct segment *seg)
{
	struct suppressions s = { 0 };
	struct report_stack st = stack();
	char text[512];
	bool hit;

	snprintf(text, sizeof(text), "{\n  x\n%s\n}\n", block);
	if (suppress_parse(&s, text, "t.supp") < 0) {
		printf("#   did not parse: %s\n", block);
		return false;
	}
	hit = suppress_match(&s, seg, &st) != NULL;
	suppress_free(&s);
	return hit;
}

static void test_matching(void)
{
	struct segment sysv = { .kind = SEG_SYSV, .shmid = 3, .key = 0x5300c51a };
	struct segment posix = { .kind = SEG_POSIX, .shmid = -1, .name = "/cache-1" };

	CHECK(hits("", &sysv), "a block with a name only matches every leak");
	CHECK(hits("kind:sysv\nkey:0x5300*", &sysv) && !hits("kind:posix", &sysv),
	      "kind: and key: globs");
	CHECK(!hits("key:0x1*", &sysv) && !hits("key:*", &posix),
	      "key: refuses another key, and a segment without one");
	CHECK(hits("name:/cache-*", &posix) && !hits("name:/other*", &posix),
	      "name: glob");
	CHECK(hits("fun:make_zone\nfun:main", &sysv) && !hits("fun:main", &sysv),
	      "frames match from the innermost one, in order");
	CHECK(hits("...\nfun:main", &sysv) && hits("...\nfun:__libc_start_main", &sysv) &&
	      !hits("...\nfun:nothing", &sysv), "... stands for any frames");
	CHECK(hits("fun:*\n...\nobj:*libc.so*", &sysv), "fun: then ... then obj:");
	CHECK(hits("src:zone.c:31", &sysv) && hits("...\nsrc:server.c:7?", &sysv) &&
	      hits("...\nsrc:/src/server.c:*", &sysv) && !hits("src:zone.c:32", &sysv),
	      "src: by base name or as DWARF names it, with its line");
	CHECK(!hits("fun:make_zone\nfun:main\nfun:__libc_start_main\nfun:more", &sysv),
	      "more frame lines than frames do not match");
}

static void test_errors(void)
{
	static const struct { const char *text; const char *why; } bad[] = {
		{ "x\n", "text outside a block" },
		{ "{\n}\n", "a block without a name" },
		{ "{\n n\n", "a block without its }" },
		{ "{\n n\n{\n", "{ inside a block" },
		{ "# c\n\n{\n n\n bogus:1\n}\n", "an unknown line" },
	};
	struct suppressions s = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(suppress_parse(&s, bad[i].text, "t.supp") == -1, "refused: %s",
		      bad[i].why);
		suppress_free(&s);
	}
	CHECK(suppress_parse(&s, "# only comments\n\n", "t.supp") == 0 && s.n == 0,
	      "comments and blank lines alone: no suppression");
	CHECK(suppress_parse(&s, "{\n a\n}\n{\n b\n kind:posix\n}\n", "t.supp") == 0 &&
	      s.n == 2 && !strcmp(s.v[1].name, "b") && !strcmp(s.v[1].kind, "posix"),
	      "two blocks");
	suppress_free(&s);
}

static void test_round_trip(void)
{
	struct segment seg = { .kind = SEG_SYSV, .shmid = 3, .key = 0x5300c51a };
	struct segment other = { .kind = SEG_SYSV, .shmid = 4, .key = 0x1234 };
	struct report_stack st = stack();
	struct suppressions s = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	suppress_write(f, "server-leak-1", &seg, &st);
	fclose(f);
	CHECK(strstr(text, "kind:sysv\n") && strstr(text, "key:0x5300c51a\n") &&
	      strstr(text, "fun:make_zone\n   fun:main\n"), "suppress_write: kind, key, frames");
	CHECK(suppress_parse(&s, text, "gen.supp") == 0 && s.n == 1 &&
	      suppress_match(&s, &seg, &st) && !suppress_match(&s, &other, &st) &&
	      s.v[0].used == 1, "what it writes matches that leak back, not another");
	suppress_free(&s);
	free(text);
}

int main(void)
{
	test_matching();
	test_errors();
	test_round_trip();
	return check_exit();
}
