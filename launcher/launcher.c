/*
 * launcher.c - build/shmtrace: run a program under the shim.
 *
 *	shmtrace [-o FILE] [--force] [--size BYTES] [--depth N] [-q]
 *		 [--error-exitcode=N] -- PROG ARGS
 *
 * The live region is a memfd (tmpfs: no disk page faults in the traced
 * program's hot path, and no name left behind anywhere).  Traced processes
 * map it through /proc/<launcher>/fd/<n>, named by SHMTRACE_REGION.  The
 * launcher copies what is committed into the trace file every 100 ms, so
 * the file can be read while the run goes on, and writes the complete,
 * compacted trace when the last descendant has ended.  The launcher is a
 * child subreaper: it outlives, and waits for, every descendant.
 *
 * At the end it runs the viewer beside it (`shmview report --summary`) for
 * the valgrind-like leak summary, and with --error-exitcode exits with N
 * when the viewer says something leaked.
 */
#include "region.h"
#include "clock.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

static int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("shmtrace: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

static void usage(FILE *to)
{
	fputs("usage: shmtrace [options] [--] PROG [ARGS...]\n"
	      "Run PROG with every shared-memory call of it and its descendants\n"
	      "recorded into a trace file; exit with PROG's exit status.\n\n"
	      "  -o, --output FILE  trace file (default shmtrace.PROG.PID.trace)\n"
	      "  -f, --force        overwrite FILE if it exists\n"
	      "  -s, --size BYTES   trace region size, with K, M, G or T suffix\n"
	      "                     (default: room for about a million events)\n"
	      "  -d, --depth N      backtrace frames per event, 0 to disable\n"
	      "                     (default 16; also SHMTRACE_DEPTH)\n"
	      "  -q, --quiet        no summary on exit\n"
	      "  --error-exitcode=N exit with N when the program leaked a\n"
	      "                     shared memory segment (1 to 255)\n"
	      "  -h, --help         this help\n"
	      "  -V, --version      print the version\n\n"
	      "On exit a summary of the segments created, removed and leaked\n"
	      "goes to stderr (from shmview, found beside shmtrace or named by\n"
	      "SHMTRACE_VIEWER).\n"
	      "Read the trace with: shmview dump FILE, shmview report FILE\n", to);
}

/* Parses "123", "64K", "256M", "1G".  Returns 0 or -1. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	int shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' || *end == 'B')	/* KiB, MB... */
		end += *end == 'i' ? 1 : 0, end += *end == 'B';
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Parses an exit status for --error-exitcode: 1 to 255.  Returns 0 or -1. */
static int parse_exitcode(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 255)
		return -1;
	*out = (int)v;
	return 0;
}

/* Returns 0 with *o filled, 1 after --help/--version, -1 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "depth", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "error-exitcode", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	const char *env_depth = getenv("SHMTRACE_DEPTH");
	o->depth = SHMT_DEFAULT_DEPTH;
	if (env_depth && *env_depth)
		o->depth = (uint32_t)strtoul(env_depth, NULL, 10);
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:fs:d:qhV", longs, NULL)) != -1) {
		uint64_t v;
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'f': o->force = 1; break;
		case 'q': o->quiet = 1; break;
		case 's':
			if (parse_size(optarg, &o->size))
				return error("bad --size '%s': want a byte count like 256M", optarg);
			break;
		case 'd':
			if (parse_size(optarg, &v) || v > SHMT_MAX_DEPTH)
				return error("bad --depth '%s': want 0 to %u", optarg, SHMT_MAX_DEPTH);
			o->depth = (uint32_t)v;
			break;
		case 'E':
			if (parse_exitcode(optarg, &o->error_exitcode))
				return error("bad --error-exitcode '%s': want 1 to 255",
					     optarg);
			break;
		case 'h': usage(stdout); return 1;
		case 'V': puts("shmtrace 0.1.0"); return 1;
		default:
			if (optopt && strchr("osdE", optopt))
				return error("option '%s' needs a value (see shmtrace --help)",
					     argv[optind - 1]);
			return error("unknown option '%s' (see shmtrace --help)",
				     argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return error("no program to run (see shmtrace --help)");
	o->argv = argv + optind;
	if (o->depth > SHMT_MAX_DEPTH)
		return error("bad SHMTRACE_DEPTH: want 0 to %u", SHMT_MAX_DEPTH);
	if (!o->size)
		o->size = region_default_size(REGION_DEFAULT_EVENTS, o->depth);
	return 0;
}

/* Finds PROG the way execvp would.  Returns 0 with the path in buf, or -1
 * with errno set. */
static int find_program(const char *prog, char *buf, size_t size)
{
	if (strchr(prog, '/')) {
		snprintf(buf, size, "%s", prog);
		return access(buf, X_OK);
	}
	const char *path = getenv("PATH");
	int err = ENOENT;
	for (const char *p = path ? path : "/usr/bin:/bin"; ; p++) {
		size_t len = strcspn(p, ":");
		snprintf(buf, size, "%.*s%s%s", (int)len, p, len ? "/" : "", prog);
		struct stat st;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(buf, X_OK) == 0)
				return 0;
			err = EACCES;
		}
		p += len;
		if (!*p)
			break;
	}
	errno = err;
	return -1;
}

/* The first of `places` (printf formats taking the launcher's directory)
 * that exists with access `mode`, into buf; or the path in environment
 * variable `env` when it is set.  Returns 0 or -1. */
static int find_beside(const char *env_name, const char *const *places,
		       unsigned nplaces, int mode, char *buf, size_t size)
{
	const char *env = getenv(env_name);
	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return access(buf, mode);
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	*strrchr(self, '/') = 0;
	for (unsigned i = 0; i < nplaces; i++) {
		int n = snprintf(buf, size, places[i], self);
		if (n > 0 && (size_t)n < size && access(buf, mode) == 0)
			return 0;
	}
	return -1;
}

/* Why LD_PRELOAD cannot reach the program at `path`, or NULL: the loader
 * ignores it for a setuid/setgid program that changes our identity, and a
 * statically linked program has no loader at all. */
static const char *untraceable(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return NULL;
	if ((st.st_mode & S_ISUID) && st.st_uid != geteuid())
		return "is setuid: the loader drops LD_PRELOAD for it";
	if ((st.st_mode & S_ISGID) && st.st_gid != getegid())
		return "is setgid: the loader drops LD_PRELOAD for it";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	Elf64_Ehdr eh;
	const char *why = NULL;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
		why = "is statically linked: no dynamic loader, so no LD_PRELOAD";
		for (unsigned i = 0; i < eh.e_phnum && i < 256; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
			    (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC) {
				why = NULL;
				break;
			}
		}
	}
	close(fd);
	return why;
}

/* The shim beside the launcher (build/), in an install's lib dir
 * (PREFIX/bin/shmtrace finds PREFIX/lib/shmtrace/libshmtrace.so), or
 * SHMTRACE_LIB; as an absolute path without "..", since LD_PRELOAD must
 * still name it after the program changes directory.  The loader splits
 * LD_PRELOAD at spaces and colons, so a path with one cannot be used. */
static int find_shim(char *buf, size_t size)
{
	static const char *const places[] = { "%s/libshmtrace.so",
		"%s/../lib/shmtrace/libshmtrace.so" };
	char found[PATH_MAX], real[PATH_MAX];
	if (find_beside("SHMTRACE_LIB", places, 2, R_OK, found, sizeof(found)) ||
	    !realpath(found, real))
		return -1;
	if (strpbrk(real, " :")) {
		error("the shim's path '%s' has a space or a colon, which "
		      "LD_PRELOAD cannot carry", real);
		return -1;
	}
	int n = snprintf(buf, size, "%s", real);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The viewer beside the launcher (build/ or an install's bin dir, where
 * PREFIX/bin/shmtrace finds PREFIX/bin/shmview), or SHMTRACE_VIEWER. */
static int find_viewer(char *buf, size_t size)
{
	static const char *const places[] = { "%s/shmview", "%s/../bin/shmview" };
	char found[PATH_MAX];
	if (find_beside("SHMTRACE_VIEWER", places, 2, X_OK, found, sizeof(found)))
		return -1;
	char *real = realpath(found, NULL);
	int n = snprintf(buf, size, "%s", real ? real : found);
	free(real);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static void default_output(const struct options *o, char *buf, size_t size)
{
	const char *base = strrchr(o->argv[0], '/');
	snprintf(buf, size, "shmtrace.%s.%d.trace", base ? base + 1 : o->argv[0],
		 (int)getpid());
}

/* --- copying the live region out ---------------------------------------------- */

static int pwrite_all(int fd, const void *buf, uint64_t len, uint64_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static struct shmt_event *slot_at(struct live *L, uint64_t i)
{
	return region_slot(L->h, &L->layout, i);
}

/* Slots reserved so far (committed or not), at most the capacity. */
static uint64_t used_slots(const struct live *L)
{
	uint64_t head = __atomic_load_n(&L->h->head, __ATOMIC_ACQUIRE);
	return head < L->layout.slot_capacity ? head : L->layout.slot_capacity;
}

/* Records that the launcher reaped `pid`: for a process killed by a
 * signal, or orphaned, this is the only news of its end. */
static void record_reaped(struct live *L, pid_t pid, int status)
{
	uint64_t i;
	if (!region_reserve(L->h, &L->layout, &i))
		return;
	struct shmt_event *e = slot_at(L, i);
	memset((char *)e + sizeof(e->commit), 0,
	       SHMT_EVENT_FIXED - sizeof(e->commit));
	e->time_ns = L->tsc ? clock_ticks() : clock_now_ns();
	e->pid = e->tid = (int32_t)getpid();
	e->call = SHMT_CALL_WAIT;
	e->ret = pid;
	e->args[0] = (uint64_t)pid;
	e->args[1] = (uint64_t)(uint32_t)status;
	e->args[2] = SHMT_WAIT_REAPER;
	region_commit(e, i);
}

/* Copies the string of a committed event into the file, bounds-checked:
 * traced programs can write anywhere in the region. */
static void copy_string(struct live *L, const struct shmt_event *ev)
{
	const struct region_layout *l = &L->layout;
	uint64_t off = ev->str_off, len = ev->str_len;
	if (!len || off > l->arena_size || len > l->arena_size - off)
		return;
	pwrite_all(L->file_fd, (char *)L->h + l->arena_offset + off, len,
		   l->arena_offset + off);
}

/* Pre-faults the region ahead of the writers (up to `ahead` bytes past the
 * head, at most POPULATE_STEP at a time) so their first touch of a page
 * does not allocate and clear it in the traced program's hot path. */
static void populate_ahead(struct live *L, uint64_t head, uint64_t ahead)
{
	const struct region_layout *l = &L->layout;
	uint64_t want = l->slot_offset + head * l->slot_size + ahead;
	if (want > L->populated + POPULATE_STEP)
		want = L->populated + POPULATE_STEP;
	if (want > l->arena_offset)
		want = l->arena_offset;
	want &= ~(uint64_t)4095;
	if (want <= L->populated)
		return;
	madvise((char *)L->h + L->populated, want - L->populated,
		MADV_POPULATE_WRITE);
	L->populated = want;
}

/* Moves the later calibration point to now: the longer the span, the
 * more exact the conversion of ticks to ns. */
static void calibrate(struct live *L)
{
	if (!L->tsc)
		return;
	L->h->cal_tsc1 = clock_ticks();
	L->h->cal_ns1 = clock_now_ns();
}

/* Takes the first calibration point, and a second 2 ms later so a reader
 * can convert from the start; later passes move the second one on. */
static void start_clock(struct live *L)
{
	if (!clock_tsc_usable())
		return;
	L->tsc = 1;
	L->h->flags |= SHMT_HF_TSC;
	L->h->cal_tsc0 = clock_ticks();
	L->h->cal_ns0 = clock_now_ns();
	while (clock_now_ns() - L->h->cal_ns0 < 2000000)
		;
	calibrate(L);
}

/* One pass: slots committed since the last pass, their strings, the
 * header.  A slot never committed (its writer died) holds `done` back for
 * at most ABANDON_AFTER_NS, then is passed over. */
static void sync_live(struct live *L)
{
	const struct region_layout *l = &L->layout;
	uint64_t head = used_slots(L), first_open = head;
	for (uint64_t i = L->done; i < head; i++) {
		const struct shmt_event *ev = slot_at(L, i);
		if (__atomic_load_n(&ev->commit, __ATOMIC_ACQUIRE) != i + 1) {
			if (first_open == head)
				first_open = i;
			continue;
		}
		copy_string(L, ev);
	}
	if (head > L->done)
		pwrite_all(L->file_fd, slot_at(L, L->done),
			   (head - L->done) * l->slot_size,
			   l->slot_offset + L->done * l->slot_size);
	calibrate(L);
	pwrite_all(L->file_fd, L->h, SHMT_HEADER_SIZE, 0);
	uint64_t now = clock_now_ns();
	if (first_open != L->done) {
		L->done = first_open;
		L->stuck_since = now;
	} else if (first_open < head && now - L->stuck_since > ABANDON_AFTER_NS) {
		L->done = first_open + 1;
	}
}

/* Writes a compacted trace with header `out` into fd: used slots, then the
 * used arena right after them, then the header last. */
static int write_compact(struct live *L, int fd, const struct shmt_header *out)
{
	const struct region_layout *l = &L->layout;
	return pwrite_all(fd, slot_at(L, 0), out->slot_capacity * l->slot_size,
			  l->slot_offset) ||
	       pwrite_all(fd, (char *)L->h + l->arena_offset, out->arena_size,
			  out->arena_offset) ||
	       pwrite_all(fd, out, sizeof(*out), 0) ||
	       ftruncate(fd, (off_t)out->total_size) ? -1 : 0;
}

/* Puts the final trace in place: written to a new file renamed over the
 * live one, so a viewer still reading the live file keeps valid pages; in
 * place (shrinking it) only when the new file cannot be made. */
static int replace_trace(struct live *L, const struct shmt_header *out)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(L->output, '/');
	int dirlen = slash ? (int)(slash - L->output + 1) : 0;
	snprintf(tmp, sizeof(tmp), "%.*s.%s.%d.tmp", dirlen, L->output,
		 slash ? slash + 1 : L->output, (int)getpid());
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0 && write_compact(L, fd, out) == 0 && rename(tmp, L->output) == 0) {
		close(L->file_fd);
		L->file_fd = fd;
		return 0;
	}
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	return write_compact(L, L->file_fd, out);
}

/* Writes the complete trace: header, used slots, used arena right after
 * them, nothing more. */
static int write_final(struct live *L, int status)
{
	struct shmt_header *h = L->h;
	const struct region_layout *l = &L->layout;
	calibrate(L);
	h->end_ns = clock_now_ns();
	h->exit_status = status;
	struct shmt_header out;
	memcpy(&out, h, sizeof(out));
	/* layout from our copy, whatever a traced program wrote there */
	memcpy(out.magic, SHMT_MAGIC, sizeof(out.magic));
	region_set_layout(&out, l);
	out.flags |= SHMT_HF_FINAL | SHMT_HF_COMPACT;
	uint64_t used = used_slots(L);
	uint64_t arena_used = __atomic_load_n(&h->arena_head, __ATOMIC_ACQUIRE);
	if (arena_used > l->arena_size)
		arena_used = l->arena_size;
	out.slot_capacity = used;
	out.arena_offset = l->slot_offset + used * l->slot_size;
	out.arena_size = arena_used;
	out.total_size = out.arena_offset + arena_used;
	if (replace_trace(L, &out))
		return error("cannot write the trace: %s", strerror(errno));
	h->flags |= SHMT_HF_FINAL;
	return 0;
}

/* --- running the program ------------------------------------------------------ */

static int setup_region(const struct options *o, const char *output,
			struct live *L)
{
	struct region_layout l;
	if (region_layout(o->size, o->depth, &l))
		return error("bad --size %llu: want at least %u bytes",
			     (unsigned long long)o->size, REGION_MIN_SIZE);
	L->file_fd = region_create_file(output, o->size, o->force);
	if (L->file_fd < 0) {
		if (errno == EEXIST)
			return error("cannot create '%s': it exists (use --force to overwrite)",
				     output);
		if (errno == ENOSPC || errno == EDQUOT)
			return error("cannot create '%s': the disk cannot hold %llu MiB (use --size)",
				     output, (unsigned long long)(o->size >> 20));
		return error("cannot create '%s': %s", output, strerror(errno));
	}
	L->mem_fd = memfd_create("shmtrace-region", MFD_CLOEXEC);
	if (L->mem_fd < 0 || ftruncate(L->mem_fd, (off_t)o->size))
		return error("cannot make the trace region: %s", strerror(errno));
	L->h = region_map(L->mem_fd, o->size);
	if (!L->h)
		return error("cannot map the trace region: %s", strerror(errno));
	L->layout = l;
	region_init_header(L->h, &l, SHMT_HF_LAUNCHER);
	start_clock(L);
	L->h->launcher_fd = (uint64_t)L->mem_fd;
	L->stuck_since = clock_now_ns();
	populate_ahead(L, 0, POPULATE_FIRST);
	sync_live(L);
	return 0;
}

static int setup_env(const char *shim, int mem_fd)
{
	char buf[PATH_MAX * 2];
	const char *old = getenv("LD_PRELOAD");
	snprintf(buf, sizeof(buf), "%s%s%s", shim, old && *old ? ":" : "",
		 old ? old : "");
	if (setenv("LD_PRELOAD", buf, 1))
		return -1;
	snprintf(buf, sizeof(buf), "/proc/%d/fd/%d", (int)getpid(), mem_fd);
	unsetenv("SHMTRACE_OUTPUT");
	return setenv("SHMTRACE_REGION", buf, 1);
}

static pid_t start_program(const char *path, char **argv, const sigset_t *old)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	sigprocmask(SIG_SETMASK, old, NULL);
	execv(path, argv);
	error("cannot run '%s': %s", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Waits for every descendant (we are their subreaper), copying the region
 * out as it goes and passing on termination signals sent to us alone.
 * Returns the main program's wait status. */
static int wait_all(struct live *L, pid_t main_pid, const sigset_t *set)
{
	int main_status = 0, main_done = 0;
	struct timespec period = { 0, WAKE_PERIOD_NS };
	uint64_t last_sync = clock_now_ns();
	for (;;) {
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			record_reaped(L, p, st);
			if (p == main_pid) {
				main_status = st;
				main_done = 1;
			}
		}
		if (p < 0 && errno == ECHILD)
			break;
		siginfo_t si;
		int sig = sigtimedwait(set, &si, &period);
		if (sig > 0 && sig != SIGCHLD && si.si_code != SI_KERNEL && !main_done)
			kill(main_pid, sig);	/* a tty's signal reached it already */
		if (sig >= 0)
			continue;
		populate_ahead(L, used_slots(L), POPULATE_AHEAD);
		if (clock_now_ns() - last_sync >= SYNC_PERIOD_NS) {
			sync_live(L);
			last_sync = clock_now_ns();
		}
	}
	return main_status;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_SETUP;
}

/* --- the leak summary ------------------------------------------------------------ */

/* In the viewer's child: the environment the launcher was given (no shim,
 * no region) and its output where the summary goes. */
static void viewer_child(const char *viewer, char **args, const char *preload,
			 int quiet, const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
	if (preload)
		setenv("LD_PRELOAD", preload, 1);
	else
		unsetenv("LD_PRELOAD");
	unsetenv("SHMTRACE_REGION");
	int null = quiet ? open("/dev/null", O_WRONLY) : -1;
	if (quiet && (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0))
		_exit(126);
	if (!quiet && dup2(2, 1) < 0)	/* the summary goes to stderr */
		_exit(126);
	execv(viewer, args);
	error("cannot run '%s': %s", viewer, strerror(errno));
	_exit(126);
}

/*
 * Runs `shmview report --summary --leak-exit 99 OUTPUT` (output discarded
 * when quiet).  Returns 1 when it says something leaked, 0 when not, -1
 * when it could not tell (it said why, or we do).
 */
static int report_leaks(const struct options *o, const char *output,
			const char *preload, const sigset_t *old)
{
	char viewer[PATH_MAX], code[16];
	if (find_viewer(viewer, sizeof(viewer))) {
		error("no leak summary: cannot find shmview beside the launcher "
		      "(set SHMTRACE_VIEWER)");
		return -1;
	}
	snprintf(code, sizeof(code), "%d", VIEWER_LEAK_EXIT);
	char *args[] = { viewer, "report", "--summary", "--leak-exit", code,
			 "--", (char *)output, NULL };
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		error("no leak summary: cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		viewer_child(viewer, args, preload, o->quiet, old);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == VIEWER_LEAK_EXIT)
		return 1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void summarize(const struct options *o, const char *output,
		      const struct live *L)
{
	const struct shmt_header *h = L->h;
	if (o->quiet)
		return;
	uint64_t used = used_slots(L);
	fprintf(stderr, "shmtrace: %llu events recorded", (unsigned long long)used);
	if (h->dropped)
		fprintf(stderr, ", %llu DROPPED (region full: use --size)",
			(unsigned long long)h->dropped);
	fprintf(stderr, "; trace in %s (read it with: shmview dump %s)\n",
		output, output);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	int r = parse_options(argc, argv, &o);
	if (r)
		return r > 0 ? 0 : EXIT_USAGE;
	char prog[PATH_MAX], shim[PATH_MAX], outbuf[PATH_MAX];
	if (find_program(o.argv[0], prog, sizeof(prog))) {
		error("cannot run '%s': %s", o.argv[0], strerror(errno));
		return errno == ENOENT ? 127 : 126;
	}
	const char *why = untraceable(prog);
	if (why)
		error("'%s' %s; it runs untraced", o.argv[0], why);
	if (find_shim(shim, sizeof(shim))) {
		error("cannot find libshmtrace.so beside the launcher (set SHMTRACE_LIB)");
		return EXIT_SETUP;
	}
	const char *output = o.output;
	if (!output) {
		default_output(&o, outbuf, sizeof(outbuf));
		output = outbuf;
	}
	/* the viewer runs in the environment we were given */
	const char *preload_env = getenv("LD_PRELOAD");
	char *preload = preload_env ? strdup(preload_env) : NULL;
	struct live L = { .file_fd = -1, .output = output };
	if (setup_region(&o, output, &L) || setup_env(shim, L.mem_fd)) {
		if (L.file_fd >= 0)
			unlink(output);
		return EXIT_SETUP;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigset_t set, old;
	sigemptyset(&set);
	int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid_t pid = start_program(prog, o.argv, &old);
	if (pid < 0) {
		error("cannot fork: %s", strerror(errno));
		unlink(output);
		return EXIT_SETUP;
	}
	int status = wait_all(&L, pid, &set);
	if (write_final(&L, status))
		return EXIT_SETUP;
	int leaked = 0;
	if (!o.quiet || o.error_exitcode)
		leaked = report_leaks(&o, output, preload, &old);
	summarize(&o, output, &L);
	free(preload);
	if (leaked > 0 && o.error_exitcode)
		return o.error_exitcode;
	return exit_code(status);
}
