/*
 * check.h - the assertion macros of the unit tests.
 *
 * Each CHECK prints one TAP-like line, "ok - what" or "not ok - what: why",
 * which tests/run-tests.sh counts.  A test program returns check_exit():
 * non-zero when any check failed.
 */
#ifndef SHMTRACE_CHECK_H
#define SHMTRACE_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (cond) {                                                \
			printf("ok - ");                                   \
			printf(__VA_ARGS__);                               \
			printf("\n");                                      \
		} else {                                                   \
			check_failures++;                                  \
			printf("not ok - ");                               \
			printf(__VA_ARGS__);                               \
			printf(": %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
		}                                                          \
		fflush(stdout);                                            \
	} while (0)

#define CHECK_STR(got, want, ...)                                          \
	do {                                                               \
		const char *g_ = (got), *w_ = (want);                      \
		int same_ = g_ && w_ && strcmp(g_, w_) == 0;               \
		CHECK(same_, __VA_ARGS__);                                 \
		if (!same_)                                                \
			printf("#   got  \"%s\"\n#   want \"%s\"\n",       \
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)");    \
	} while (0)

static inline int check_exit(void)
{
	return check_failures ? 1 : 0;
}

#endif
