/*
 * test-fuzz-regressions.c - replays every input under
 * tests/fuzz/regressions (crashes and hangs the fuzzer once found, and
 * hand-made hostile traces) through the fuzz target: each must run to the
 * end.  A crash kills this program, which run-tests.sh counts as failed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int fuzz_one(const unsigned char *data, size_t size);

static int replay(const char *dir, const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	if (!buf)
		return -1;
	fuzz_one(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/fuzz/regressions";
	DIR *d = opendir(dir);
	CHECK(d != NULL, "the regression corpus %s exists", dir);
	if (!d)
		return check_exit();
	struct dirent *e;
	unsigned n = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		CHECK(replay(dir, e->d_name) == 0, "fuzz regression %s runs to the end",
		      e->d_name);
		n++;
	}
	closedir(d);
	CHECK(n > 0, "the regression corpus is not empty (%u inputs)", n);
	return check_exit();
}
