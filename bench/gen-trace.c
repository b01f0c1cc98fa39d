/*
 * gen-trace.c - writes a synthetic but realistic compact trace (format
 * version 2, common/records.h) for the viewer benchmarks: `nprocs`
 * processes forked by one parent, each churning SysV, POSIX and anonymous
 * shared memory with backtraces, interleaved in time the way a busy
 * machine interleaves them (slots are reserved when a call returns, so
 * event times are a little out of order in the file).  Writing 10M
 * events this way takes seconds, where tracing a real run that long
 * takes minutes.
 *
 *   gen-trace OUT EVENTS NPROCS [--running]
 *
 * --running leaves the trace unfinished (no SHMT_HF_FINAL), as a live
 * run's file is (live's refresh benchmark copies such a file piece by
 * piece into a growing one).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include "records-writer.h"
#include "shmtrace-format.h"

#define ROOT_PID 100
#define STEPS 12          /* events of one churn cycle */
#define NSTACKS 64
#define DEPTH 12
#define LEAK_EVERY 500    /* cycles: one SysV segment left behind */

struct gen {
	struct records_writer w;
	uint64_t seq, t;
	uint64_t stacks[NSTACKS][DEPTH];
	uint64_t *open_seq;    /* per process: seq of its shm_open */
	int32_t *shmid;
	unsigned nprocs;
};

static void emit(struct gen *g, struct records_event *e, const char *str)
{
	unsigned k = (e->call * 7u + (unsigned)e->pid) % NSTACKS;
	/* slots are reserved at return: the start times wobble a little */
	uint64_t jitter = (g->seq * 2654435761u) % 3000u;
	e->seq = g->seq++;
	e->tid = e->pid;
	e->time_ns = g->t > jitter ? g->t - jitter : 0;
	e->duration_ns = 400 + jitter / 4;
	g->t += 200;
	records_writer_event(&g->w, e, g->stacks[k], DEPTH, str, str ? strlen(str) : 0);
}

/* Step `step` of process i's churn, cycle `cycle`. */
static void churn_step(struct gen *g, unsigned i, uint64_t cycle, unsigned step)
{
	int32_t pid = ROOT_PID + 1 + (int32_t)i;
	uint64_t addr = 0x7f0000000000ull + ((uint64_t)i << 24) +
		(step < 4 ? 0 : step < 10 ? 1 : 2) * 0x100000;	/* sysv, posix, anon */
	char name[64];
	struct records_event e = { .pid = pid };
	snprintf(name, sizeof(name), "/shmt-scl-%u-%llu", i, (unsigned long long)cycle);
	switch (step) {
	case 0:
		g->shmid[i] = (int32_t)((cycle * g->nprocs + i) & 0x7fffffff);
		e.call = SHMT_CALL_SHMGET; e.flags = SHMT_EVF_CREATED; e.ret = g->shmid[i];
		e.args[SHMT_ARG_SHMGET_KEY] = 0x7e130000u + (i & 0xffffu);
		e.args[SHMT_ARG_SHMGET_SIZE] = 65536;
		e.args[SHMT_ARG_SHMGET_FLAGS] = IPC_CREAT | 0600;
		break;
	case 1:
		e.call = SHMT_CALL_SHMAT; e.ret = (int64_t)addr;
		e.args[SHMT_ARG_SHMAT_SHMID] = (uint64_t)g->shmid[i];
		e.args[SHMT_ARG_SHMAT_SEGSZ] = 65536;
		break;
	case 2:
		e.call = SHMT_CALL_SHMDT; e.args[SHMT_ARG_SHMDT_ADDR] = addr;
		break;
	case 3:
		e.call = SHMT_CALL_SHMCTL;
		e.args[SHMT_ARG_SHMCTL_SHMID] = (uint64_t)g->shmid[i];
		e.args[SHMT_ARG_SHMCTL_CMD] = cycle % LEAK_EVERY == LEAK_EVERY - 1 ?
			IPC_STAT : IPC_RMID;
		break;
	case 4:
		g->open_seq[i] = g->seq;
		e.call = SHMT_CALL_SHM_OPEN; e.flags = SHMT_EVF_CREATED; e.ret = 5;
		e.args[SHMT_ARG_SHM_OPEN_OFLAG] = O_CREAT | O_RDWR;
		e.args[SHMT_ARG_SHM_OPEN_MODE] = 0600;
		emit(g, &e, name);
		return;
	case 5:
		e.call = SHMT_CALL_FTRUNCATE;
		e.args[SHMT_ARG_FTRUNCATE_FD] = 5;
		e.args[SHMT_ARG_FTRUNCATE_LENGTH] = 8192;
		e.args[SHMT_ARG_FTRUNCATE_ORIGIN] = g->open_seq[i] + 1;
		break;
	case 6:
	case 10:
		e.call = SHMT_CALL_MMAP; e.ret = (int64_t)addr;
		e.obj = step == 6 ? SHMT_OBJ_POSIX : SHMT_OBJ_ANON;
		e.args[SHMT_ARG_MMAP_LENGTH] = 8192;
		e.args[SHMT_ARG_MMAP_PROT] = PROT_READ | PROT_WRITE;
		e.args[SHMT_ARG_MMAP_FLAGS] = MAP_SHARED | (step == 10 ? MAP_ANONYMOUS : 0);
		e.args[SHMT_ARG_MMAP_FD] = step == 6 ? 5 : (uint64_t)-1;
		e.args[SHMT_ARG_MMAP_ORIGIN] = step == 6 ? g->open_seq[i] + 1 : 0;
		break;
	case 7:
		e.call = SHMT_CALL_CLOSE; e.args[SHMT_ARG_CLOSE_FD] = 5;
		e.args[SHMT_ARG_CLOSE_ORIGIN] = g->open_seq[i] + 1;
		break;
	case 8:
	case 11:
		e.call = SHMT_CALL_MUNMAP;
		e.args[SHMT_ARG_MUNMAP_ADDR] = addr;
		e.args[SHMT_ARG_MUNMAP_LENGTH] = 8192;
		break;
	case 9:
		e.call = SHMT_CALL_SHM_UNLINK;
		emit(g, &e, name);
		return;
	}
	emit(g, &e, NULL);
}

static void fork_all(struct gen *g)
{
	for (unsigned i = 0; i < g->nprocs; i++) {
		struct records_event e = { .pid = ROOT_PID, .call = SHMT_CALL_FORK,
					   .ret = ROOT_PID + 1 + (int32_t)i };
		emit(g, &e, NULL);
	}
}

static void exit_all(struct gen *g)
{
	for (unsigned i = 0; i < g->nprocs; i++) {
		struct records_event e = { .pid = ROOT_PID + 1 + (int32_t)i,
					   .call = SHMT_CALL_EXIT };
		emit(g, &e, NULL);
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: gen-trace OUT EVENTS NPROCS [--running]\n");
		return 2;
	}
	uint64_t events = strtoull(argv[2], NULL, 10);
	struct gen g = { .nprocs = (unsigned)strtoul(argv[3], NULL, 10) };
	int running = argc > 4 && !strcmp(argv[4], "--running");
	if (!g.nprocs)
		return 2;
	g.open_seq = calloc(g.nprocs, sizeof(*g.open_seq));
	g.shmid = calloc(g.nprocs, sizeof(*g.shmid));
	for (unsigned k = 0; k < NSTACKS; k++)
		for (unsigned d = 0; d < DEPTH; d++)
			g.stacks[k][d] = 0x555555554000ull + 0x1000 * d + 0x40 * k + d;

	struct shmt_header h;
	memset(&h, 0, sizeof(h));
	int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	h.start_ns = 1000000000ull;
	h.creator_pid = ROOT_PID;
	h.depth = DEPTH;
	if (records_writer_open(&g.w, fd, &h) < 0)
		return 1;
	fork_all(&g);
	uint64_t body = events > 2u * g.nprocs ? events - 2u * g.nprocs : 0;
	for (uint64_t k = 0; k < body; k++) {
		unsigned i = (unsigned)(k % g.nprocs);
		uint64_t round = k / g.nprocs;
		churn_step(&g, i, round / STEPS, (unsigned)(round % STEPS));
	}
	exit_all(&g);
	records_writer_flush(&g.w);
	h.end_ns = h.start_ns + g.t + 1000;
	h.flags = running ? 0 : SHMT_HF_FINAL;
	records_writer_header(&g.w, &h);
	records_writer_free(&g.w);
	close(fd);
	printf("%llu events, %llu bytes of events\n", (unsigned long long)g.w.events,
	       (unsigned long long)g.w.event_bytes);
	return g.w.error ? 1 : 0;
}
