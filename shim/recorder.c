/*
 * recorder.c - the recorder core: maps the trace region and writes events.
 *
 * Recording path: reserve a slot by fetch-add on the region's head, fill
 * it, take the backtrace straight into it, publish it with a release-store
 * of its commit word.  No lock (a signal handler may interrupt any point of
 * it), no system call once the thread is warm, no malloc.  See
 * common/shmtrace-format.h for the protocol and docs/DESIGN.md
 * ("Interposition traps") for the traps this file steps around.
 */
#define UNW_LOCAL_ONLY
#include "recorder.h"
#include "clock.h"
#include "region.h"
#include "modules.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <libunwind.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ST_DORMANT: loaded by dlopen into a process nobody traces (`shmtrace
 * -p` loads us so, then calls shmtrace_attach): every hook forwards and
 * nothing is made until the attach; after a detach the state is again
 * ST_DORMANT. */
enum rec_state { ST_NEW, ST_INIT, ST_ON, ST_OFF, ST_DORMANT };

/* Attach mode (set by rec_attach, never cleared): hooks resolve the real
 * functions in the global scope (RTLD_NEXT finds nothing after a library
 * loaded late), and every write into the region counts itself in
 * `writers`, so a detach can wait for the last one before the region goes
 * away.  Launcher mode never touches the counter. */
int shim_attach_mode __attribute__((visibility("hidden")));
static int writers;

/* Everything the process knows of its region, set once by rec_init. */
static struct {
	int state;			/* enum rec_state, atomic */
	struct shmt_header *hdr;
	struct region_layout layout;	/* checked copy: never re-read */
	char *arena;
	uint32_t depth;
	uintptr_t lo, hi;		/* the mapping, to protect it */
	int stacks;			/* libunwind is set up */
	int inherited_fd1;		/* the region's descriptor + 1, inherited
					   from the launcher and kept open for
					   descendants; 0 when none */
	int tsc;			/* stamp events with clock_ticks() */
} R;

/* Identity: cached because getpid() is a real system call (about 1 us on
 * this kind of machine).  The cache lives on a page the kernel zeroes in
 * every child made without CLONE_VM (MADV_WIPEONFORK): fork, and also raw
 * clone(SIGCHLD) and syscall(SYS_fork), which run no atfork handler.  So
 * one load tells a new process, which then asks the kernel (cur_pid()).
 * Before the page exists, or where madvise refuses, a static cell (and
 * only the atfork handler) serves.  fork_gen invalidates every thread's
 * cached tid in a child. */
static pid_t pid_fallback;
static pid_t *pid_cell = &pid_fallback;
static unsigned fork_gen = 1;

/* Initial-exec TLS: touching it never calls malloc (global-dynamic TLS in
 * a preloaded library may, on first touch). */
static __thread struct {
	int nest;		/* > 0 while inside a hook on this thread */
	pid_t tid;
	unsigned gen;
	uint32_t passthrough;	/* not yet added to the header */
	uintptr_t nest_sp;	/* the outermost hook's frame */
	uintptr_t stk_lo, stk_hi;	/* this thread's stack, 0 if unknown */
} tls;

/* Stack a backtrace needs below the frame that takes it: unw_backtrace's
 * own frame is 3 KiB (libunwind 1.6), and the whole of it measured 5.2 KiB
 * (examples/rely stackuse); a cold cache goes deeper. */
#define STACK_FOR_BACKTRACE 8192

static char env_region[PATH_MAX + 32];	/* "SHMTRACE_REGION=..." */
static char shim_path[PATH_MAX];

/* Frames of the shim itself, dropped from backtraces: from our ELF header
 * to the end of our text.  Both symbols come from the linker. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char etext[] __attribute__((visibility("hidden")));

/* --- small helpers that must not allocate or recurse ---------------------- */

/* One warning line on stderr from the NULL-terminated parts, built first
 * and written raw in one go: stdio may be locked, and a line written in
 * pieces could interleave with the program's own output. */
static void say(const char *first, ...)
{
	char line[PATH_MAX + 256];
	char *p = stpcpy(line, "shmtrace: ");
	char *end = line + sizeof(line) - 2;
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		for (; *s && p < end; s++)
			*p++ = *s;
	va_end(ap);
	*p++ = '\n';
	syscall(SYS_write, 2, line, (size_t)(p - line));
}

static uint64_t parse_u64(const char *s, uint64_t fallback)
{
	uint64_t v = 0;
	if (!s || !*s)
		return fallback;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return fallback;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	return v;
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	*p = 0;
	return p;
}

static uint64_t write_event(const struct rec_event *ev, uint64_t t0,
			    uint64_t t1, int with_stack, uint16_t flags);
static void slow_path_denied(const char *call);

/* Makes the wiped-on-fork pid page; the static cell stays when it fails. */
static void make_pid_cell(pid_t pid)
{
	long p = syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
	pid_fallback = pid;
	if (p == -1)
		return;
	if (syscall(SYS_madvise, p, 4096, MADV_WIPEONFORK) != 0) {
		syscall(SYS_munmap, p, 4096);
		return;
	}
	*(pid_t *)p = pid;
	__atomic_store_n(&pid_cell, (pid_t *)p, __ATOMIC_RELEASE);
}

/*
 * pids as the launcher sees them.  In a pid namespace getpid() gives the
 * inner pid; /proc/self/status's NSpid lists the pid in every namespace
 * from the one of the /proc mounted, outermost first.  A fork child still
 * sees its parent's /proc (unshare -pf --mount-proc mounts a new one only
 * later), so it learns its outer pid there, and hands it on to its next
 * image in SHMTRACE_PID=<outer>:<inner> (the exec hooks put it in), which
 * that image trusts while getpid() still says <inner>.
 */
static pid_t inner_pid;			/* getpid(), when it differs */
static char env_pid[48];		/* "SHMTRACE_PID=<outer>:<inner>" */

/* The outermost pid /proc/self/status knows for us, or 0. */
static pid_t nspid_outer(void)
{
	char buf[2048];
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/status",
			      O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	long n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strstr(buf, "\nNSpid:");
	if (!p)
		return 0;
	p += 7;
	while (*p == ' ' || *p == '\t')
		p++;
	uint64_t v = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return (pid_t)v;
}

/* The pid to record for the process whose getpid() is `pid`. */
static pid_t outer_of(pid_t pid, int after_exec)
{
	pid_t outer = nspid_outer();
	const char *e = getenv("SHMTRACE_PID");
	if ((!outer || outer == pid) && after_exec && e) {	/* from our parent */
		const char *colon = strchr(e, ':');
		if (colon && parse_u64(colon + 1, 0) == (uint64_t)pid) {
			char num[24];
			size_t n = (size_t)(colon - e);
			memcpy(num, e, n < sizeof(num) ? n : sizeof(num) - 1);
			num[n < sizeof(num) ? n : sizeof(num) - 1] = 0;
			outer = (pid_t)parse_u64(num, 0);
		}
	}
	inner_pid = outer && outer != pid ? pid : 0;
	env_pid[0] = 0;
	if (inner_pid) {
		char *p = put_u64(stpcpy(env_pid, "SHMTRACE_PID="), (uint64_t)outer);
		put_u64(stpcpy(p, ":"), (uint64_t)pid);
	}
	return inner_pid ? outer : pid;
}

/* The inode of our pid namespace, from /proc/self/ns/pid; 0 if unknown. */
static uint64_t pidns_inode(void)
{
	char buf[64];
	long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/ns/pid", buf,
			 sizeof(buf) - 1);
	if (n <= 5 || memcmp(buf, "pid:[", 5))
		return 0;
	buf[n - 1] = 0;		/* the closing bracket */
	return parse_u64(buf + 5, 0);
}

static uint64_t my_pidns;	/* pidns_inode() when it was last read */

/* In a fork child: whether it is in the pid namespace of a parent that
 * was in none of its own (then its pid is the launcher's view too, and
 * NSpid need not be read: a readlink instead of a /proc file). */
static int same_pidns(void)
{
	uint64_t parent = my_pidns;
	my_pidns = pidns_inode();
	return parent && my_pidns == parent && !inner_pid;
}

/* Sets the cache in a new process from the kernel's word. */
static pid_t refresh_pid(void)
{
	long k = syscall(SYS_getpid);
	if (k <= 0) {
		slow_path_denied("getpid");
		return 0;
	}
	pid_t pid = same_pidns() ? (pid_t)k : outer_of((pid_t)k, 0);
	*pid_cell = pid;
	pid_fallback = pid;
	__atomic_fetch_add(&fork_gen, 1, __ATOMIC_RELAXED);
	tls.passthrough = 0;	/* the parent will publish its own count */
	return pid;
}

/* This process's pid.  A zeroed cell means a child the atfork handler did
 * not see (raw clone, syscall(SYS_fork)): it is recorded as a fork seen
 * from the child, with its parent, at `t0`, so its events are its own and
 * the viewer knows where it came from. */
static pid_t cur_pid(uint64_t t0)
{
	pid_t pid = *pid_cell;
	if (__builtin_expect(pid != 0, 1))
		return pid;
	pid = refresh_pid();
	if (!pid)
		return 0;	/* denied */
	struct rec_event ev = {
		.call = SHMT_CALL_FORK, .flags = SHMT_EVF_CHILD,
		.args = { [SHMT_ARG_FORK_PPID] = (uint64_t)syscall(SYS_getppid) },
	};
	write_event(&ev, t0, t0, 0, 0);
	return pid;
}

/* A call of the slow path failed where it cannot (a seccomp filter that
 * forbids it, as sandboxes install): this process goes on untraced, and
 * says so once and counts it (the header's `untraced`). */
static void slow_path_denied(const char *call)
{
	int on = ST_ON;
	if (!__atomic_compare_exchange_n(&R.state, &on, ST_OFF, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	__atomic_fetch_add(&R.hdr->untraced, 1, __ATOMIC_RELAXED);
	say("a seccomp filter (or the like) forbids ", call,
	    "; this process runs untraced from here (counted)", NULL);
}

/* This thread's id, cached; 0 when the kernel refuses to say. */
static pid_t my_tid(void)
{
	unsigned gen = __atomic_load_n(&fork_gen, __ATOMIC_RELAXED);
	if (tls.gen != gen) {
		long t = syscall(SYS_gettid);
		if (t <= 0) {
			slow_path_denied("gettid");
			return 0;
		}
		tls.tid = (pid_t)t;
		tls.gen = gen;
	}
	return tls.tid;
}

/* --- attaching the region ------------------------------------------------- */

/* Adopts a mapped region after checking it is ours to write: one we
 * inherited the descriptor of is, whatever our user id says now (a user
 * namespace maps it). */
static int adopt(struct shmt_header *h, uint64_t size, const char *path,
		 int inherited)
{
	char buf[160];
	const char *why = NULL;
	if (region_check_header(h, size, buf, sizeof(buf)))
		why = buf;
	else if (!inherited && h->owner_uid != (uint64_t)geteuid())
		why = "owned by another user";
	else if (h->flags & SHMT_HF_FINAL)
		why = "the run it belongs to has ended";
	if (why) {
		say("ignoring trace region '", path, "': ", why,
		    "; this process runs untraced", NULL);
		syscall(SYS_munmap, h, size);
		return -1;
	}
	R.hdr = h;
	R.tsc = (h->flags & SHMT_HF_TSC) != 0;
	region_layout_of(h, &R.layout);
	R.arena = (char *)h + h->arena_offset;
	R.depth = (uint32_t)(h->depth < h->max_depth ? h->depth : h->max_depth);
	R.lo = (uintptr_t)h;
	R.hi = (uintptr_t)h + size;
	return 0;
}

/* The launcher's region as the descriptor SHMTRACE_REGION's path ends with
 * ("/proc/<launcher>/fd/<n>"), inherited from it: reachable after a change
 * of pid, mount or user namespace or a chroot, where the path is not.
 * Returns 0 when descriptor n is that region (its header names the same
 * launcher and number), else -1 with nothing changed. */
static int attach_inherited(const char *path)
{
	uint64_t launcher, fd;
	const char *p = path + 6, *f = strstr(path, "/fd/");
	if (strncmp(path, "/proc/", 6) || !f)
		return -1;
	char num[24];
	size_t n = (size_t)(f - p);
	if (n >= sizeof(num))
		return -1;
	memcpy(num, p, n);
	num[n] = 0;
	launcher = parse_u64(num, 0);
	fd = parse_u64(f + 4, UINT64_MAX);
	struct stat st;
	if (!launcher || fd > INT_MAX || syscall(SYS_fstat, (int)fd, &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_size < SHMT_HEADER_SIZE)
		return -1;
	struct shmt_header *h = region_map((int)fd, (uint64_t)st.st_size);
	if (!h)
		return -1;
	if (memcmp(h->magic, SHMT_MAGIC, 8) || h->creator_pid != launcher ||
	    h->launcher_fd != fd) {
		syscall(SYS_munmap, h, st.st_size);
		return -1;
	}
	if (adopt(h, (uint64_t)st.st_size, path, 1))
		return -1;
	R.inherited_fd1 = (int)fd + 1;
	return 0;
}

/* Maps the region at `path`, opened by its name. */
static int attach_path(const char *path)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		say("cannot open trace region '", path,
		    "'; this process runs untraced", NULL);
		return -1;
	}
	struct stat st;
	void *h = NULL;
	if (syscall(SYS_fstat, fd, &st) == 0 && st.st_size >= SHMT_HEADER_SIZE)
		h = region_map(fd, (uint64_t)st.st_size);
	syscall(SYS_close, fd);
	if (!h) {
		say("cannot map trace region '", path,
		    "'; this process runs untraced", NULL);
		return -1;
	}
	return adopt(h, (uint64_t)st.st_size, path, 0);
}

/* Maps the region a launcher or an ancestor made (SHMTRACE_REGION). */
static int attach_region(const char *path)
{
	return attach_inherited(path) == 0 ? 0 : attach_path(path);
}

/* No launcher: the first traced process makes the region itself, as a file
 * (SHMTRACE_OUTPUT, or shmtrace.PID.trace in the working directory). */
static int create_region(void)
{
	char path[PATH_MAX];
	const char *out = getenv("SHMTRACE_OUTPUT");
	char *p = path;
	if (!out || !*out) {
		p = stpcpy(path, "shmtrace.");
		p = put_u64(p, (uint64_t)pid_fallback);
		strcpy(p, ".trace");
		out = path;
	}
	uint32_t depth = (uint32_t)parse_u64(getenv("SHMTRACE_DEPTH"),
					     SHMT_DEFAULT_DEPTH);
	if (depth > SHMT_MAX_DEPTH)
		depth = SHMT_MAX_DEPTH;
	uint64_t size = parse_u64(getenv("SHMTRACE_SIZE"),
				  region_default_size(REGION_DEFAULT_EVENTS, depth));
	struct region_layout l;
	if (region_layout(size, depth, &l) != 0) {
		say("bad SHMTRACE_SIZE or SHMTRACE_DEPTH; running untraced", NULL);
		return -1;
	}
	int fd = region_create_file(out, size, 0);
	if (fd < 0) {
		say("cannot create trace file '", out, "': ", strerror(errno),
		    "; running untraced", NULL);
		return -1;
	}
	struct shmt_header *h = region_map(fd, size);
	syscall(SYS_close, fd);
	if (!h)
		return -1;
	region_init_header(h, &l, 0);
	/* absolute, for descendants that chdir */
	char *e = stpcpy(env_region, "SHMTRACE_REGION=");
	if (out[0] != '/' && syscall(SYS_getcwd, e, PATH_MAX - 1) > 0)
		e = stpcpy(e + strlen(e), "/");
	if (strlen(out) + (size_t)(e - env_region) < sizeof(env_region))
		strcpy(e, out);
	return adopt(h, size, out, 0);
}

/* One-time set-up, on the first hook or the constructor, whichever comes
 * first.  Never allocates. */
static void rec_init(void)
{
	make_pid_cell(outer_of((pid_t)syscall(SYS_getpid), 1));
	my_pidns = pidns_inode();
	char *region = getenv("SHMTRACE_REGION");
	int ok;
	if (region && *region) {
		ok = attach_region(region) == 0;
		if (ok && strlen(region) + 17 < sizeof(env_region))
			strcpy(stpcpy(env_region, "SHMTRACE_REGION="), region);
		else if (!ok)	/* in place, so envp copies see it too */
			region[0] = 0;	/* descendants: untraced, silently */
	} else if (region) {
		ok = 0;		/* set but empty: untraced, no file made */
	} else {
		ok = create_region() == 0;
	}
	modules_self_path(shim_path, sizeof(shim_path));
	__atomic_store_n(&R.state, ok ? ST_ON : ST_OFF, __ATOMIC_RELEASE);
}

static int ensure_init(void)
{
	int s = __atomic_load_n(&R.state, __ATOMIC_ACQUIRE);
	if (s == ST_ON)
		return 1;
	if (s != ST_NEW)
		return 0;	/* off, or being set up (we re-entered it) */
	int expect = ST_NEW;
	if (!__atomic_compare_exchange_n(&R.state, &expect, ST_INIT, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;
	int saved = errno;
	rec_init();
	errno = saved;
	return __atomic_load_n(&R.state, __ATOMIC_ACQUIRE) == ST_ON;
}

/* --- writing events --------------------------------------------------------- */

static int in_shim(uintptr_t ip)
{
	return ip >= (uintptr_t)__ehdr_start && ip < (uintptr_t)etext;
}

/* Whether a backtrace fits below here.  On the thread's own stack it does;
 * elsewhere (a signal handler on an alternate stack, a coroutine) the
 * kernel says whether this is the alternate stack and where it ends, one
 * system call on that rare path; an unknown stack is trusted. */
static int room_for_backtrace(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (sp >= tls.stk_lo && sp < tls.stk_hi)
		return 1;
	stack_t ss;
	if (syscall(SYS_sigaltstack, NULL, &ss) != 0 || !(ss.ss_flags & SS_ONSTACK))
		return 1;
	return sp - (uintptr_t)ss.ss_sp >= STACK_FOR_BACKTRACE;
}

/* Takes the caller's backtrace, minus the shim's own frames, into out[].
 * Returns the number of frames kept. */
static uint16_t take_stack(uint64_t *out, uint16_t *flags)
{
	void *buf[R.depth + 8];
	int n = unw_backtrace(buf, (int)R.depth + 8);
	if (n <= 0) {
		__atomic_fetch_add(&R.hdr->stack_errors, 1, __ATOMIC_RELAXED);
		return 0;
	}
	uint16_t k = 0;
	for (int i = 0; i < n; i++) {
		uintptr_t ip = (uintptr_t)buf[i];
		if (in_shim(ip))
			continue;
		if (k == R.depth) {
			*flags |= SHMT_EVF_STACK_TRUNC;
			break;
		}
		out[k++] = ip;
	}
	if (n == (int)R.depth + 8 && k < R.depth)
		*flags |= SHMT_EVF_STACK_TRUNC;
	if (k && modules_unknown_ip(out[0]))
		rec_note_modules();
	return k;
}

/* Copies a string into the arena.  Returns 0 and sets *off, or -1 when the
 * arena is full (counted). */
static int put_string(const char *s, size_t len, uint32_t *off, uint32_t *out_len,
		      uint16_t *flags)
{
	if (len > SHMT_MAX_STRING) {
		len = SHMT_MAX_STRING;
		*flags |= SHMT_EVF_STR_TRUNC;
	}
	uint64_t at = __atomic_fetch_add(&R.hdr->arena_head, len, __ATOMIC_RELAXED);
	if (at > R.layout.arena_size || len > R.layout.arena_size - at) {
		__atomic_fetch_add(&R.hdr->strings_dropped, 1, __ATOMIC_RELAXED);
		*flags |= SHMT_EVF_STR_TRUNC;
		return -1;
	}
	memcpy(R.arena + at, s, len);
	*off = (uint32_t)at;
	*out_len = (uint32_t)len;
	return 0;
}

/* Reserves, fills and publishes one slot.  Returns seq + 1, or 0 when the
 * region is full. */
static uint64_t write_event(const struct rec_event *ev, uint64_t t0,
			    uint64_t t1, int with_stack, uint16_t flags)
{
	uint64_t i;
	pid_t pid = ev->pid ? ev->pid : cur_pid(t0);
	pid_t tid = ev->tid ? ev->tid : my_tid();
	if (pid <= 0 || tid <= 0)
		return 0;	/* denied: untraced from now on, counted */
	if (!region_reserve(R.hdr, &R.layout, &i))
		return 0;
	struct shmt_event *s = region_slot(R.hdr, &R.layout, i);
	/* Read before writing: a read fault on the in-memory region maps a
	 * whole run of pages at once (fault-around), a write fault one page;
	 * measured: 31 faults per 1000 events down to 2. */
	(void)__atomic_load_n(&s->commit, __ATOMIC_RELAXED);
	flags |= ev->flags;
	s->time_ns = t0;
	s->duration_ns = t1 - t0;
	s->ret = ev->ret;
	s->pid = pid;
	s->tid = tid;
	s->call = ev->call;
	s->err = (uint16_t)ev->err;
	s->obj = ev->obj;
	s->reserved = 0;
	memcpy(s->args, ev->args, sizeof(s->args));
	s->str_off = s->str_len = 0;
	if (ev->str && ev->str_len)
		put_string(ev->str, ev->str_len, &s->str_off, &s->str_len, &flags);
	s->nframes = 0;
	if (with_stack && R.depth && R.stacks) {
		if (room_for_backtrace())
			s->nframes = take_stack(s->frames, &flags);
		else
			__atomic_fetch_add(&R.hdr->stacks_no_room, 1, __ATOMIC_RELAXED);
	}
	s->flags = flags;
	region_commit(s, i);
	return i + 1;
}

/* A write into the region begins: in attach mode counted, so a detach
 * (which first turns the state off, then waits for `writers` to drop to
 * 0) never takes the region from under it.  Returns what writing_end
 * needs. */
static inline int writing_begin(void)
{
	if (__builtin_expect(!__atomic_load_n(&shim_attach_mode, __ATOMIC_RELAXED), 1))
		return 0;
	__atomic_fetch_add(&writers, 1, __ATOMIC_SEQ_CST);
	return 1;
}

static inline void writing_end(int counted)
{
	if (counted)
		__atomic_fetch_sub(&writers, 1, __ATOMIC_RELEASE);
}

uint64_t rec_now(void)
{
	return R.tsc ? clock_ticks() : clock_now_ns();
}

/* Enters a hook on this thread; returns 1 when another hook is active on
 * it.  `sp` is the hook's frame (its wrapper's, so one depth for every
 * wrapper called from one place).  A hook whose frame lies at or below
 * ours on the same stack was left without returning (a signal handler
 * that interrupted it jumped out with siglongjmp): its count is stale,
 * reset and counted, or every later event of the thread would lose its
 * stack.  A real nested call runs deeper. */
static int nest_enter(uintptr_t sp)
{
	if (tls.nest > 0 && sp >= tls.nest_sp && tls.nest_sp >= tls.stk_lo &&
	    sp < tls.stk_hi) {
		tls.nest = 0;
		__atomic_fetch_add(&R.hdr->nest_lost, 1, __ATOMIC_RELAXED);
	}
	if (tls.nest++ > 0)
		return 1;
	tls.nest_sp = sp;
	return 0;
}

int rec_begin(struct rec_ctx *c)
{
	if (!shim_tls_ok() || !ensure_init())
		return 0;
	/* the shim keeps frame pointers: ours holds the wrapper's */
	c->nested = nest_enter(*(uintptr_t *)__builtin_frame_address(0));
	c->t0 = rec_now();
	return 1;
}

uint64_t rec_end(struct rec_ctx *c, const struct rec_event *ev)
{
	int saved = errno;
	uint64_t t1 = rec_now();
	uint64_t seq = 0;
	int attached = writing_begin();
	if (__atomic_load_n(&R.state, __ATOMIC_SEQ_CST) == ST_ON) {
		if (c->nested)
			__atomic_fetch_add(&R.hdr->nested, 1, __ATOMIC_RELAXED);
		seq = write_event(ev, c->t0, t1, !c->nested,
				  c->nested ? SHMT_EVF_NESTED : 0);
	}
	writing_end(attached);
	tls.nest--;
	errno = saved;
	return seq;
}

void rec_cancel(struct rec_ctx *c)
{
	(void)c;
	tls.nest--;
}

uint64_t rec_note(const struct rec_event *ev, int with_stack)
{
	if (!shim_tls_ok() || !ensure_init())
		return 0;
	int saved = errno;
	int nested = nest_enter(*(uintptr_t *)__builtin_frame_address(0));
	uint64_t now = rec_now();
	int attached = writing_begin();
	uint64_t seq = 0;
	if (__atomic_load_n(&R.state, __ATOMIC_SEQ_CST) == ST_ON)
		seq = write_event(ev, now, now, with_stack && !nested, 0);
	writing_end(attached);
	tls.nest--;
	errno = saved;
	return seq;
}

_Static_assert(SHMT_BUILD_ID_MAX <= (SHMT_ARG_COUNT - SHMT_ARG_MODULE_BUILD_ID) *
	       sizeof(uint64_t), "a build-id fits in the slots after its length");

static void write_module(const struct module_info *m)
{
	struct rec_event ev = {
		.call = SHMT_CALL_MODULE,
		.str = m->path,
		.str_len = strlen(m->path),
		.args = { [SHMT_ARG_MODULE_BIAS] = m->bias,
			  [SHMT_ARG_MODULE_LO] = m->lo,
			  [SHMT_ARG_MODULE_HI] = m->hi,
			  [SHMT_ARG_MODULE_BUILD_ID_LEN] = m->build_id_len },
	};
	memcpy(&ev.args[SHMT_ARG_MODULE_BUILD_ID], m->build_id,
	       sizeof(m->build_id));
	rec_note(&ev, 0);
}

void rec_note_modules(void)
{
	modules_scan_new(write_module);
}

static void write_module_gone(const struct module_info *m)
{
	struct rec_event ev = {
		.call = SHMT_CALL_MODULE,
		.args = { [SHMT_ARG_MODULE_BIAS] = m->bias,
			  [SHMT_ARG_MODULE_LO] = m->lo,
			  [SHMT_ARG_MODULE_HI] = m->lo },
	};
	rec_note(&ev, 0);
}

void rec_forget_modules(void)
{
	if (rec_enabled())
		modules_forget_gone(write_module_gone);
}

int rec_enabled(void)
{
	return shim_tls_ok() && ensure_init();
}

void rec_count_passthrough(void)
{
	if (shim_tls_ok() && ++tls.passthrough >= 256)
		rec_flush_counters();
}

void rec_flush_counters(void)
{
	if (!shim_tls_ok())
		return;
	int attached = writing_begin();
	if (tls.passthrough && __atomic_load_n(&R.state, __ATOMIC_SEQ_CST) == ST_ON)
		__atomic_fetch_add(&R.hdr->passthrough, tls.passthrough,
				   __ATOMIC_RELAXED);
	writing_end(attached);
	tls.passthrough = 0;
}

void rec_after_fork_child(void)
{
	refresh_pid();
}

pid_t rec_kernel_pid(void)
{
	pid_t k = (pid_t)syscall(SYS_getpid);
	return k == inner_pid || k == rec_pid() ? rec_pid() : k;
}

pid_t rec_inner_pid(void)
{
	return inner_pid;
}

const char *rec_env_pid(void)
{
	return env_pid[0] ? env_pid : NULL;
}

pid_t rec_pid(void)
{
	return *pid_cell ? *pid_cell : pid_fallback;
}

void rec_stacks_ready(void)
{
	if (!ensure_init())
		return;
	/* per-thread caches: no lock shared between threads, which a
	 * signal handler could find held */
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	R.stacks = 1;
	rec_warm_thread();
}

/* Notes this thread's stack bounds, for room_for_backtrace and
 * nest_enter.  Outside signal handlers only (it may allocate). */
extern void *__libc_stack_end;

static void learn_stack(void)
{
	pthread_attr_t a;
	void *lo;
	size_t size;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t top = (uintptr_t)__libc_stack_end;
	struct rlimit rl;
	/* the main thread: below where the process started, at most its
	 * rlimit (pthread_getattr_np would read /proc/self/maps for it) */
	if (top > sp && syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &rl) == 0) {
		uint64_t max = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1ull << 30) ?
			       1ull << 30 : rl.rlim_cur;
		if (top - sp < max && top > max) {
			tls.stk_lo = top - max;
			tls.stk_hi = top + 1;
			return;
		}
	}
	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	if (pthread_attr_getstack(&a, &lo, &size) == 0) {
		tls.stk_lo = (uintptr_t)lo;
		tls.stk_hi = (uintptr_t)lo + size;
	}
	pthread_attr_destroy(&a);
}

void rec_warm_thread(void)
{
	void *buf[4];
	if (!shim_tls_ok())
		return;
	if (!tls.stk_hi)
		learn_stack();
	if (R.stacks && R.depth) {
		tls.nest++;	/* libunwind mmaps its caches through our hook */
		unw_backtrace(buf, 4);
		tls.nest--;
	}
	my_tid();
}

int rec_overlaps_region(uintptr_t addr, size_t len)
{
	return R.hi && addr < R.hi && addr + len > R.lo;
}

int rec_region_fd(void)
{
	return R.inherited_fd1 - 1;
}

void rec_region_fd_lost(void)
{
	R.inherited_fd1 = 0;
}

void rec_region_range(uintptr_t *lo, uintptr_t *hi)
{
	*lo = R.lo;
	*hi = R.hi;
}

int rec_suspend(void)
{
	int on = ST_ON;
	if (!__atomic_compare_exchange_n(&R.state, &on, ST_OFF, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return 0;
	__atomic_fetch_add(&R.hdr->disabled, 1, __ATOMIC_RELAXED);
	return 1;
}

void rec_suspend_end(int suspended, int failed, const char *what)
{
	if (!suspended)
		return;
	if (failed) {	/* nothing changed: tracing goes on */
		__atomic_fetch_sub(&R.hdr->disabled, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&R.state, ST_ON, __ATOMIC_RELEASE);
		return;
	}
	char pid[24];
	put_u64(pid, (uint64_t)rec_pid());
	say("pid ", pid, ": the program ", what,
	    " the trace region; it runs untraced from here (counted)", NULL);
}

const char *rec_env_region(void)
{
	return env_region[0] ? env_region : NULL;
}

const char *rec_shim_path(void)
{
	return shim_path[0] ? shim_path : NULL;
}

/* --- attach and detach (shmtrace -p) ---------------------------------------- */

void rec_go_dormant(void)
{
	int expect = ST_NEW;
	__atomic_compare_exchange_n(&R.state, &expect, ST_DORMANT, 0,
				    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

int rec_attach(const char *path)
{
	int expect = ST_DORMANT;
	if (!path || strlen(path) + 17 >= sizeof(env_region) ||
	    !__atomic_compare_exchange_n(&R.state, &expect, ST_INIT, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -1;
	__atomic_store_n(&shim_attach_mode, 1, __ATOMIC_SEQ_CST);
	pid_t pid = outer_of((pid_t)syscall(SYS_getpid), 0);
	if (pid_cell == &pid_fallback)
		make_pid_cell(pid);
	else
		*pid_cell = pid_fallback = pid;
	__atomic_fetch_add(&fork_gen, 1, __ATOMIC_RELAXED);
	modules_reset();	/* a new region: every module again */
	my_pidns = pidns_inode();
	R.inherited_fd1 = 0;
	/* the reservation an earlier detach left: nobody writes there now
	 * (dormant since, and no writer in flight) */
	if (R.hi && __atomic_load_n(&writers, __ATOMIC_SEQ_CST) == 0) {
		syscall(SYS_munmap, (void *)R.lo, R.hi - R.lo);
		R.lo = R.hi = 0;
	}
	if (attach_path(path) != 0) {	/* the launcher's fd number is not ours */
		__atomic_store_n(&R.state, ST_DORMANT, __ATOMIC_RELEASE);
		return -1;
	}
	strcpy(stpcpy(env_region, "SHMTRACE_REGION="), path);
	modules_self_path(shim_path, sizeof(shim_path));
	__atomic_store_n(&R.state, ST_ON, __ATOMIC_SEQ_CST);
	return 0;
}

int rec_detach_stop(unsigned wait_ms)
{
	int on = ST_ON;
	if (!__atomic_compare_exchange_n(&R.state, &on, ST_DORMANT, 0,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		int off = ST_OFF;	/* untraced already (seccomp...) */
		if (!__atomic_compare_exchange_n(&R.state, &off, ST_DORMANT, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return -1;
	}
	/* a writer that saw ST_ON has counted itself first: wait for it */
	for (unsigned i = 0; i < wait_ms * 10; i++) {
		if (__atomic_load_n(&writers, __ATOMIC_SEQ_CST) == 0)
			return 0;
		struct timespec nap = { 0, 100000 };
		syscall(SYS_nanosleep, &nap, NULL);
	}
	return 1;
}

void rec_detach_unmap(void)
{
	if (!R.hi)
		return;
	/* An empty private reservation in its place, not a hole: a writer
	 * still inside (only after rec_detach_stop timed out) or a stray
	 * counter update lands in memory nobody reads, never a fault.  No
	 * file stays mapped, and nothing is committed. */
	syscall(SYS_mmap, (void *)R.lo, R.hi - R.lo, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0L);
	R.inherited_fd1 = 0;
	env_region[0] = 0;	/* execs from here on: untraced */
	/* an image exec'ed under the trace has the region's name in its
	 * environment: emptied in place (as rec_init does when it cannot be
	 * reached), its later execs run untraced and silent */
	char *named = getenv("SHMTRACE_REGION");
	if (named)
		named[0] = 0;
}
