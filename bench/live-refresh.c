/*
 * live-refresh.c - what `shmview live` does when a growing trace gains
 * events, timed without a terminal: the model of a big unfinished trace
 * built once, then the file grows piece by piece and each piece is
 * taken in as live takes it (trace_refresh, model_extend, a reconcile
 * with the kernel), against building the whole model again as live did
 * before.
 *
 *   live-refresh SOURCE WORK PIECES PIECE_BYTES
 *
 * SOURCE is an unfinished compact trace (gen-trace --running); WORK is
 * written with all of SOURCE but its last PIECES * PIECE_BYTES bytes,
 * which are then appended one piece at a time.  Prints one line of
 * key=value figures (milliseconds).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "model.h"
#include "trace.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void reconcile(struct model *m)
{
	struct kernel_view k;
	kernel_read(&k);
	model_reconcile(m, &k);
	kernel_free(&k);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Copies [from, to) of src to dst at the same offset. */
static void copy(int src, int dst, off_t from, off_t to)
{
	static char buf[1 << 20];
	while (from < to) {
		size_t n = (size_t)(to - from) < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
		ssize_t got = pread(src, buf, n, from);
		if (got <= 0 || pwrite(dst, buf, (size_t)got, from) != got)
			exit(1);
		from += got;
	}
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: live-refresh SOURCE WORK PIECES PIECE_BYTES\n");
		return 2;
	}
	int pieces = atoi(argv[3]);
	off_t piece = atol(argv[4]);
	int src = open(argv[1], O_RDONLY), dst = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct stat st;
	if (src < 0 || dst < 0 || fstat(src, &st) < 0 || pieces < 1 ||
	    st.st_size <= pieces * piece)
		return 1;
	off_t have = st.st_size - pieces * piece;
	copy(src, dst, 0, have);

	struct trace t;
	struct model m;
	double t0 = now_ms();
	if (trace_open(argv[2], &t) < 0)
		return 1;
	model_build(&m, &t, UINT64_MAX);
	reconcile(&m);
	double build = now_ms() - t0;

	double *ms = calloc((size_t)pieces, sizeof(*ms));
	int extended = 0;
	for (int i = 0; i < pieces; i++) {
		copy(src, dst, have, have + piece);
		have += piece;
		t0 = now_ms();
		if (trace_refresh(&t) >= 0 && model_extend(&m, &t)) {
			extended++;
			reconcile(&m);
		}
		ms[i] = now_ms() - t0;
	}
	qsort(ms, (size_t)pieces, sizeof(*ms), cmp);
	printf("events=%llu segments=%zu build_ms=%.1f pieces=%d extended=%d "
	       "refresh_median_ms=%.2f refresh_max_ms=%.2f\n",
	       (unsigned long long)m.events, m.nsegments, build, pieces, extended,
	       ms[pieces / 2], ms[pieces - 1]);
	model_free(&m);
	trace_close(&t);
	close(src);
	close(dst);
	unlink(argv[2]);
	return extended == pieces ? 0 : 1;
}
