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
 *   procseen.c  shared mappings /proc/PID/maps shows that no call made
 */
#ifndef SHMTRACE_LAUNCHER_H
#define SHMTRACE_LAUNCHER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "region.h"

#define SHMTRACE_VERSION "0.1.0"
#define EXIT_USAGE 2
#define EXIT_SETUP 125	/* the tracer failed, as env(1) and timeout(1) say */
#define SYNC_PERIOD_NS 100000000L
#define WAKE_PERIOD_NS 5000000L	/* pre-faulting keeps pace with writers */
#define POPULATE_AHEAD (32u << 20)
#define POPULATE_STEP (16u << 20)	/* at most this much per wake */
#define POPULATE_FIRST (2u << 20)	/* before the program starts */
#define ABANDON_AFTER_NS 2000000000u
#define VIEWER_LEAK_EXIT 99	/* what we ask `shmview report` to exit with
				   when something leaked */

struct options {
	const char *output;
	int force, quiet;
	uint64_t size;
	uint32_t depth;
	int error_exitcode;	/* exit status when something leaked, 0: none */
	char **argv;		/* the program and its arguments */
};

/* What the launcher keeps of the live region while it copies it out. */
struct live {
	int file_fd, mem_fd;
	const char *output;	/* the trace file's path */
	struct shmt_header *h;
	struct region_layout layout;	/* ours: never re-read from the region */
	uint64_t done;		/* slots before this are in the file */
	uint64_t stuck_since;	/* when `done` last stopped moving */
	uint64_t populated;	/* bytes of the region pre-faulted */
	int tsc;		/* events are stamped in TSC ticks */
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

/* One pass: slots committed since the last pass, their strings, the
 * header.  A slot never committed (its writer died) holds `done` back for
 * at most ABANDON_AFTER_NS, then is passed over. */
void sync_live(struct live *L);

/* Writes the complete trace: header, used slots, used arena right after
 * them, nothing more. */
int write_final(struct live *L, int status);

/* --- procseen.c --- */
/* Reads /proc/PID/maps of every traced process alive and records each
 * shared mapping not recorded for it before (SHMT_CALL_PROC_SEEN). */
void procseen_tick(struct live *L);
/* Forgets a reaped process (its pid may come back as another). */
void procseen_reaped(pid_t pid);

/* --- run.c --- */

/* Creates the trace file `output` and the in-memory region (a memfd)
 * of the size and depth in `o`, maps it, and fills *L.  Returns 0, or -1
 * after saying why. */
int setup_region(const struct options *o, const char *output,
		 struct live *L);

/* Puts the shim into LD_PRELOAD and names the region for the traced
 * processes (SHMTRACE_REGION: /proc/<launcher>/fd/<mem_fd>).  Returns 0 or
 * -1 with errno set. */
int setup_env(const char *shim, int mem_fd);

/* Forks and execs `path` with `argv`, the signal mask `old` restored in
 * the child.  Returns its pid, or -1 after saying why. */
pid_t start_program(const char *path, char **argv, const sigset_t *old);

/* Waits for every descendant (we are their subreaper), copying the region
 * out as it goes and passing on termination signals sent to us alone.
 * Returns the main program's wait status. */
int wait_all(struct live *L, pid_t main_pid, const sigset_t *set);

/* The launcher's exit status for the program's wait status: its exit
 * code, or 128+N when signal N killed it. */
int exit_code(int status);

/* --- summary.c --- */

/*
 * Runs `shmview report --summary --leak-exit 99 OUTPUT` (output discarded
 * when quiet).  Returns 1 when it says something leaked, 0 when not, -1
 * when it could not tell (it said why, or we do).
 */
int report_leaks(const struct options *o, const char *output,
		 const char *preload, const sigset_t *old);

/* Prints the line that names the trace file and how many events it holds
 * (and what was dropped), unless quiet. */
void summarize(const struct options *o, const char *output,
	       const struct live *L);

#endif /* SHMTRACE_LAUNCHER_H */
