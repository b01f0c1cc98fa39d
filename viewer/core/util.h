/*
 * util.h - diagnostics and allocation helpers shared by the viewer.
 *
 * The git idiom: library code reports a failure with
 *     return error("cannot open '%s'", path);
 * which prints "shmview: cannot open 'x'" on stderr and returns -1; only
 * main() decides to exit.  Results go to stdout, diagnostics to stderr.
 */
#ifndef SHMVIEW_UTIL_H
#define SHMVIEW_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define SHMVIEW_NAME "shmview"
#define SHMVIEW_VERSION "0.1.0"

/*
 * Print "shmview: <message>" on stderr; always return -1 so a caller can
 * `return error(...)`.  The format is printf's.
 */
int util_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "shmview: warning: <message>" on stderr. */
void util_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * error() and warning() are macros, not functions: a global function named
 * `error` in the executable would interpose glibc's error(3), which libdw
 * calls with a different signature.
 */
#define error(...) util_error(__VA_ARGS__)
#define warning(...) util_warning(__VA_ARGS__)

/*
 * Allocation that cannot fail: on exhaustion print a message and exit(1).
 * The one place outside main() that exits, as in git: there is nothing
 * sensible a caller could do instead.  The caller owns (and frees) the
 * result.
 */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * Make room for one more element in the array `arr` of `n` elements and
 * capacity `cap` (lvalues, updated): when it is full, double the capacity
 * (`first` elements the first time) with xrealloc().
 */
#define XGROW(arr, n, cap, first)                                           \
	do {                                                                \
		if ((n) == (cap)) {                                         \
			(cap) = (cap) ? 2 * (cap) : (first);                \
			(arr) = xrealloc((arr), (cap) * sizeof(*(arr)));    \
		}                                                           \
	} while (0)

/*
 * The one time syntax of every option that takes a time or a span (--at,
 * --since, --until, --stale): a number of seconds ("1.5"), or a number
 * with a unit: "10ns", "30us", "200ms", "1.5s", "30m", "12h", "2d".  Not
 * "inf", "nan", hex or a sign.  Returns 0 with *out set in nanoseconds,
 * or -1 when `s` is not such a time.
 */
int parse_time_ns(const char *s, uint64_t *out);

/* What an option's "want" says of that syntax, for parse-options. */
#define TIME_SYNTAX "seconds, or a number with ns, us, ms, s, m, h or d"

#endif /* SHMVIEW_UTIL_H */
