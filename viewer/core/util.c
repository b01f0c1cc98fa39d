/*
 * util.c - diagnostics and allocation helpers (see util.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	/* Flush our own results first so a message lands after the output
	 * it concerns when both streams go to one terminal. */
	fflush(stdout);
	fprintf(stderr, "%s: %s", SHMVIEW_NAME, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int util_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return -1;
}

void util_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

static void *check_alloc(void *p)
{
	if (!p) {
		fprintf(stderr, "%s: fatal: out of memory\n", SHMVIEW_NAME);
		exit(1);
	}
	return p;
}

void *xmalloc(size_t size)
{
	return check_alloc(malloc(size ? size : 1));
}

void *xcalloc(size_t nmemb, size_t size)
{
	return check_alloc(calloc(nmemb ? nmemb : 1, size ? size : 1));
}

void *xrealloc(void *ptr, size_t size)
{
	return check_alloc(realloc(ptr, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return check_alloc(strdup(s));
}

char *xstrndup(const char *s, size_t n)
{
	return check_alloc(strndup(s, n));
}

int parse_time_ns(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		double ns;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		      { "m", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 },
		      { "", 1e9 } };	/* a bare number: seconds */
	char *end;
	size_t digits = s ? strspn(s, "0123456789.") : 0;
	/* strtod alone would take "inf", "0x10", " 5" and "-1" too */
	if (!digits || strchr(s, '.') != strrchr(s, '.'))
		return -1;
	double v = strtod(s, &end);
	if (end != s + digits)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		double ns = v * units[i].ns;
		if (!(ns >= 0 && ns < 1.8e19))
			return -1;
		*out = (uint64_t)(ns + 0.5);
		return 0;
	}
	return -1;
}
