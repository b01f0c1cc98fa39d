/*
 * launcher.h - the parts of the launcher (build/shmtrace), one file each:
 *
 *   main.c      the run from start to end: options, program, region, wait,
 *               trace, summary, exit status
 *   options.c   the command line (its option table), the error style
 *   find.c      finding the program, the shim and the viewer; whether the
 *               program can be traced at all
 *   copyout.c   copying the live region into the trace file while the run
 *               goes on, and the final compacted trace
 *   run.c       the region, the environment, starting and waiting for the
 *               program and every descendant
 *   summary.c   the valgrind-like leak summary (through shmview)
 *   inject.c    calling functions inside a running process by ptrace
 *               (inject.h): loading the shim for `shmtrace -p PID`
 *   capacity.c  how full the tmpfs mounts and the memory cgroup got
 *   procseen.c  shared mappings /proc/PID/maps shows that no call made
 *               (and, at an attach, every one there before the trace)
 *   attach.c    shmtrace -p PID: attach, record, detach
 */
#ifndef SHMTRACE_LAUNCHER_H
#define SHMTRACE_LAUNCHER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "records-writer.h"
#include "region.h"
#include "tmpfs.h"

#define SHMTRACE_VERSION "0.1.0"
#define EXIT_USAGE 2
#define EXIT_SETUP 125	/* the tracer failed, as env(1) and timeout(1) say */
#define SYNC_PERIOD_NS 100000000L
#define WAKE_PERIOD_NS 5000000L	/* pre-faulting keeps pace with writers */
#define POPULATE_AHEAD (32u << 20)
#define POPULATE_STEP (16u << 20)	/* at most this much per wake */
#define POPULATE_FIRST (2u << 20)	/* before the program starts */
#define HOLES_MAX 65536u	/* open slots kept to look at again */
#define VIEWER_LEAK_EXIT 99	/* what we ask `shmview report` to exit with
				   when something leaked */

#define ATTACH_MAX 256	/* -p pids, with --tree their descendants */

struct options {
	const char *output;
	int force, quiet;
	uint64_t size;
	uint32_t depth;
	int error_exitcode;	/* exit status when something leaked, 0: none */
	const char *log_file;	/* --log-file: the summary goes there; %p is
				   the program's pid */
	const char **supp;	/* --suppressions FILE, for the viewer */
	size_t nsupp, supp_cap;
	int no_wait_daemons;	/* stop when PROG ends, not its last descendant */
	char **argv;		/* the program and its arguments */
	pid_t pids[ATTACH_MAX];	/* -p: the processes to attach to */
	size_t npids;
	int tree;		/* --tree: their live descendants too */
	uint64_t duration_ms;	/* --duration, 0: none */
	const char *self;	/* our argv[0], for the viewer hint */
};

#define CAPACITY_PENDING 16
#define CAPACITY_SEEN 64

/* The tmpfs mounts and the memory cgroup, as sampled during the run. */
struct capacity_sampler {
	struct tmpfs_list fs;          /* the mounts, as last sampled */
	uint64_t start[TMPFS_MAX];     /* used before the program started */
	uint64_t peak[TMPFS_MAX];      /* the most any sample saw */
	struct cgroup_mem cg;
	uint64_t cg_peak, cg_shmem_peak;
	uint64_t samples;
	/* deaths by a signal a traced parent reaped, seen in the trace: to
	 * sample (pending), and already sampled (seen, the last ones) */
	int32_t pending[CAPACITY_PENDING], seen[CAPACITY_SEEN];
	unsigned npending, nseen;
};

/* What the launcher keeps of the live region while it copies it out. */
struct live {
	int file_fd, mem_fd;
	const char *output;	/* the trace file's path */
	struct shmt_header *h;
	struct shmt_header own;	/* ours: the header as we made it (identity,
				   clock, calibration); a traced program can
				   write over *h */
	int damaged;		/* *h no longer says what `own` says */
	struct region_layout layout;	/* ours: never re-read from the region */
	struct records_writer w;	/* the trace file, appended as we go */
	uint64_t done;		/* slots before this have been looked at */
	uint64_t *holes;	/* of those, the ones not committed yet */
	size_t nholes, holes_cap;
	uint64_t abandoned;	/* holes given up */
	uint64_t seen_dropped;	/* the region's `dropped` at the last pass */
	uint64_t last_pass_ns;	/* since the start, for loss time ranges */
	uint64_t populated;	/* bytes of the region pre-faulted */
	int tsc;		/* events are stamped in TSC ticks */
	struct capacity_sampler cap;	/* tmpfs and cgroup use (capacity.c) */
};

/* Prints "shmtrace: <message>" on stderr and returns -1, so a caller can
 * `return error(...)`.  A macro over launcher_error(), not a function
 * named error, which would interpose glibc's error(3). */
int launcher_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define error(...) launcher_error(__VA_ARGS__)

/* --- options.c --- */

/* Parses the command line (parse-options.h) up to PROG, which o->argv
 * points to.  Returns 0 with *o filled, 1 after --help/--version, -1 on a
 * usage error. */
int parse_options(int argc, char **argv, struct options *o);

/* --- find.c --- */

/* Finds PROG the way execvp would.  Returns 0 with the path in buf, or -1
 * with errno set. */
int find_program(const char *prog, char *buf, size_t size);

/* Why LD_PRELOAD cannot reach the program at `path`, or NULL: the loader
 * ignores it for a setuid/setgid program that changes our identity, and a
 * statically linked program has no loader at all. */
const char *untraceable(const char *path);

/* The shim beside the launcher (build/), in an install's lib dir
 * (PREFIX/bin/shmtrace finds PREFIX/lib/shmtrace/libshmtrace.so), or
 * SHMTRACE_LIB; as an absolute path without "..", since LD_PRELOAD must
 * still name it after the program changes directory.  The loader splits
 * LD_PRELOAD at spaces and colons, so a path with one cannot be used. */
int find_shim(char *buf, size_t size);

/* The viewer beside the launcher (build/ or an install's bin dir, where
 * PREFIX/bin/shmtrace finds PREFIX/bin/shmview), or SHMTRACE_VIEWER. */
int find_viewer(char *buf, size_t size);

/* How the user runs the viewer from here, into buf: beside the launcher
 * as they typed it ("build/shmtrace": "build/shmview"), else "shmview"
 * when PATH finds this one, else its absolute path.  `self` is argv[0]. */
void viewer_hint(const char *self, char *buf, size_t size);

/* The default trace file name, shmtrace.PROG.PID.trace, into buf. */
void default_output(const struct options *o, char *buf, size_t size);

/* --- copyout.c --- */

/* Slots reserved so far (committed or not), at most the capacity. */
uint64_t used_slots(const struct live *L);

/* Records that the launcher reaped `pid`: for a process killed by a
 * signal, or orphaned, this is the only news of its end. */
void record_reaped(struct live *L, pid_t pid, int status);

/* Pre-faults the region ahead of the writers (up to `ahead` bytes past the
 * head, at most POPULATE_STEP at a time) so their first touch of a page
 * does not allocate and clear it in the traced program's hot path. */
void populate_ahead(struct live *L, uint64_t head, uint64_t ahead);

/* Takes the first calibration point, and a second 2 ms later so a reader
 * can convert from the start; later passes move the second one on. */
void start_clock(struct live *L);

/* Starts the trace file (records.h) on L->file_fd with the region's
 * header.  Returns 0, or -1 after saying why. */
int start_trace(struct live *L);

/* One pass: appends the slots committed since the last pass to the trace
 * file as records (a slot still being written when a pass looks at it is
 * appended by the pass after it commits), a loss record for what the
 * region dropped or held corrupt since, then the header.  Every
 * SYNC_PERIOD_NS. */
void sync_live(struct live *L);

/* Ends the trace: a last pass, the slots never committed as abandoned,
 * the header saying the run is final.  Returns 0, or -1 after saying
 * why. */
int write_final(struct live *L, int status);

/* --- procseen.c --- */
/* Reads /proc/PID/maps of every traced process alive and records each
 * shared mapping not recorded for it before (SHMT_CALL_PROC_SEEN). */
void procseen_tick(struct live *L);
/* Forgets a reaped process (its pid may come back as another). */
void procseen_reaped(pid_t pid);
/* shmtrace -p: records every shared mapping `pid` has now, flagged as
 * there before the trace (SHMT_ARG_PROC_SEEN_BEFORE), and traces it. */
void procseen_seed(struct live *L, pid_t pid);
/* The traced processes known so far (those attached, and every one their
 * events name since); *pids is valid until the next procseen call. */
size_t procseen_pids(struct live *L, const int32_t **pids);

/* --- attach.c --- */
/* shmtrace -p: attaches to o->pids (with --tree their descendants),
 * records into `output` until a signal in `set`, --duration or their end,
 * detaches, writes the trace and the summary (the viewer run with
 * LD_PRELOAD `preload` and the signal mask `old`).  Returns the exit
 * status: 0, --error-exitcode's on a leak, EXIT_SETUP when no target
 * could be attached (said why). */
int attach_run(const struct options *o, const char *shim, const char *output,
	       const sigset_t *set, const sigset_t *old, const char *preload);

/* --- run.c --- */

/* Creates the trace file `output` and the in-memory region (a memfd)
 * of the size and depth in `o`, maps it, and fills *L.  Returns 0, or -1
 * after saying why. */
int setup_region(const struct options *o, const char *output,
		 struct live *L);

/* Puts the shim into LD_PRELOAD and names the region for the traced
 * processes (SHMTRACE_REGION: /proc/<launcher>/fd/<mem_fd>); lets ASan
 * programs run with the shim first (ASAN_OPTIONS verify_asan_link_order=0
 * unless set).  Returns 0 or -1 with errno set. */
int setup_env(const char *shim, int mem_fd);

/* The parent of `pid` from /proc/PID/stat, its name into comm, or 0. */
pid_t parent_of(pid_t pid, char *comm, size_t size);

/* Forks and execs `path` with `argv`, the signal mask `old` restored in
 * the child, which inherits `region_fd` (the memfd, at the number
 * SHMTRACE_REGION ends with): a process that leaves the launcher's pid,
 * mount or user namespace, or chroots, still reaches the region through
 * it.  Returns its pid, or -1 after saying why. */
pid_t start_program(const char *path, char **argv, const sigset_t *old,
		    int region_fd);

/* Waits for every descendant (we are their subreaper), copying the region
 * out as it goes and passing on termination signals sent to us alone.
 * Stops early when the main program has ended and either `main_only` is
 * set or a termination signal came (a second one stops it at once), and
 * then says which descendants still run.  Returns the main program's wait
 * status (128+N style status of the signal when it has not ended). */
int wait_all(struct live *L, pid_t main_pid, const sigset_t *set, int main_only);

/* The launcher's exit status for the program's wait status: its exit
 * code, or 128+N when signal N killed it. */
int exit_code(int status);

/* --- capacity.c --- */

/* Lists the tmpfs mounts and finds the memory cgroup, and takes the first
 * sample (before the program starts: the use it found). */
void capacity_start(struct capacity_sampler *s);

/* One more sample of every mount and of the cgroup: keeps the peaks. */
void capacity_sample(struct capacity_sampler *s);

/* Samples now and records every mount and the cgroup into the region
 * (SHMT_CALL_TMPFS, SHMT_CALL_CGROUP_MEM) with `pid`: the process just
 * reaped that a signal killed, or 0 at the end of the run. */
void capacity_record(struct live *L, struct capacity_sampler *s, pid_t pid);

/* A committed event the copy-out pass sees: a traced parent's wait that
 * reaped a child a signal killed is noted, so the next
 * capacity_record_pending() samples the tmpfs mounts for it (within a
 * tick of the death, where the launcher's own reaps are sampled at
 * once). */
void capacity_saw(struct capacity_sampler *s, const struct shmt_event *ev);
void capacity_record_pending(struct live *L, struct capacity_sampler *s);

/* --- summary.c --- */

/*
 * Runs `shmview report --summary --error-exitcode=99 [--suppressions=F]...
 * OUTPUT` with its output on `log` (discarded when quiet).  Returns 1
 * when it says something leaked (and no suppression matched it), 0 when
 * not, -1 when it could not tell (it said why, or we do).
 */
int report_leaks(const struct options *o, const char *output,
		 const char *preload, const sigset_t *old, int log);

/* Prints on `log` the line that names the trace file and how many events
 * it holds (and what was dropped), and how to read it, unless quiet. */
void summarize(const struct options *o, const char *output,
	       struct live *L, int log);

/* --log-file with %p replaced by pid (%% by %), into buf.  Returns 0, or
 * -1 when it does not fit. */
int log_file_name(const char *pattern, pid_t pid, char *buf, size_t size);

#endif /* SHMTRACE_LAUNCHER_H */
