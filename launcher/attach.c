/*
 * attach.c - shmtrace -p PID[,PID...]: trace processes that already run.
 *
 * For each target: the checks that make a refusal one clear line (no such
 * process, another user's, Yama, a tracer already there, static, not
 * glibc); then, by ptrace (inject.h), dlopen of the shim in the target and
 * a call of its shmtrace_attach("/proc/<launcher>/fd/<n>"): the target
 * maps the launcher's memfd region through that path (so the launcher and
 * the target must be the same user), records its start and modules, and
 * points every loaded module's GOT slots of the intercepted functions at
 * the shim's wrappers (shim/wrap-dl.c).  Then every shared mapping the
 * target has is recorded from /proc, flagged as there before the trace
 * (procseen_seed).  Its forked children inherit the patched GOT and the
 * region; its execs get LD_PRELOAD and SHMTRACE_REGION back from the
 * shim's exec hooks, as under the launcher.
 *
 * The copy-out runs as under the launcher until SIGINT/SIGTERM/SIGHUP,
 * --duration, or the end of every traced process; then each one still
 * alive gets a call of shmtrace_detach(): recording stops, the writes in
 * flight end, every patched slot is put back, the region is unmapped.
 * The shim stays loaded in the target, dormant.
 */
#include "launcher.h"
#include "clock.h"
#include "inject.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CALL_MS 2000	/* an entry point that takes longer is stuck */

/* The value of `key` ("Uid:") in /proc/PID/status into buf; -1 when the
 * process is gone or the line missing. */
static int status_field(pid_t pid, const char *key, char *buf, size_t size)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int rc = -1;
	size_t n = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0) {
			char *p = line + n;
			p += strspn(p, " \t");
			p[strcspn(p, "\n")] = 0;
			snprintf(buf, size, "%s", p);
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

/* /proc/sys/kernel/yama/ptrace_scope, or -1 without Yama. */
static int yama_scope(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	int v = -1;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int descends_from_me(pid_t pid)
{
	char comm[64];
	for (int depth = 0; pid > 1 && depth < 64; depth++)
		if ((pid = parent_of(pid, comm, sizeof(comm))) == getpid())
			return 1;
	return 0;
}

/* What Yama says of our attaching to `pid`, or NULL when it allows it. */
static const char *yama_refuses(pid_t pid)
{
	int scope = yama_scope();
	if (scope == 3)
		return "Yama ptrace_scope is 3 (no attaching at all): only a "
		       "reboot lowers it";
	if (geteuid() == 0)
		return NULL;
	if (scope == 2)
		return "Yama ptrace_scope is 2 (admin only): run shmtrace as "
		       "root";
	if (scope == 1 && !descends_from_me(pid))
		return "Yama ptrace_scope is 1 (only a parent may attach): run "
		       "shmtrace as root, or lower it with "
		       "'sysctl kernel.yama.ptrace_scope=0'";
	return NULL;
}

/* The mapped module of `pid` whose file name starts with `prefix`
 * ("libc.so", "ld-"), into buf; 0 when none, -1 when the maps cannot be
 * read. */
static int mapped_module(pid_t pid, const char *prefix, char *buf, size_t size)
{
	char path[64], line[PATH_MAX + 128];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int found = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/');
		if (!file)
			continue;
		file[strcspn(file, "\n")] = 0;
		const char *base = strrchr(file, '/') + 1;
		if (strncmp(base, prefix, strlen(prefix)) == 0) {
			snprintf(buf, size, "%s", file);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* Why `pid` cannot be attached to, in one line into why; 0 when it can
 * (as far as we can tell before trying). */
static int check_target(pid_t pid, char *why, size_t n)
{
	char uid[128], tracer[32], comm[64], mod[PATH_MAX];
	if (kill(pid, 0) != 0 && errno == ESRCH) {
		snprintf(why, n, "cannot attach to process %d: no such process", pid);
		return -1;
	}
	parent_of(pid, comm, sizeof(comm));
	unsigned ruid = 0, euid = 0;
	if (status_field(pid, "Uid:", uid, sizeof(uid)) ||
	    sscanf(uid, "%u %u", &ruid, &euid) != 2) {
		snprintf(why, n, "cannot attach to process %d: no such process", pid);
		return -1;
	}
	if (euid != geteuid() || ruid != geteuid()) {
		snprintf(why, n, "cannot attach to process %d (%s): it belongs to "
			 "uid %u, not to you (uid %u); run shmtrace as that user",
			 pid, comm, euid, (unsigned)geteuid());
		return -1;
	}
	if (status_field(pid, "TracerPid:", tracer, sizeof(tracer)) == 0 &&
	    atoi(tracer) != 0) {
		char tcomm[64] = "?";
		parent_of(atoi(tracer), tcomm, sizeof(tcomm));
		snprintf(why, n, "cannot attach to process %d (%s): it is already "
			 "traced by process %s (%s); a process has one tracer at "
			 "a time", pid, comm, tracer, tcomm);
		return -1;
	}
	const char *yama = yama_refuses(pid);
	if (yama) {
		snprintf(why, n, "cannot attach to process %d (%s): %s", pid, comm,
			 yama);
		return -1;
	}
	int libc = mapped_module(pid, "libc.so.6", mod, sizeof(mod));
	if (libc == 1)
		return 0;
	if (mapped_module(pid, "ld-", mod, sizeof(mod)) == 1 ||
	    mapped_module(pid, "libc.", mod, sizeof(mod)) == 1)
		snprintf(why, n, "cannot attach to process %d (%s): its C library "
			 "is not glibc (%.200s): the tracer needs glibc's dlopen",
			 pid, comm, mod);
	else
		snprintf(why, n, "cannot attach to process %d (%s): it is "
			 "statically linked: there is no loader to load the "
			 "tracer into", pid, comm);
	return -1;
}

/* A failed PTRACE_SEIZE's EPERM, where the checks saw nothing: a seccomp
 * filter or a container (no CAP_SYS_PTRACE, a ptrace-blocking profile). */
static void explain(char *why, size_t n)
{
	if (!strstr(why, "cannot attach") || !strstr(why, strerror(EPERM)))
		return;
	char buf[768];
	snprintf(buf, sizeof(buf), "%.500s (a seccomp filter or the container "
		 "forbids ptrace: run with CAP_SYS_PTRACE, or --cap-add "
		 "SYS_PTRACE / a profile allowing ptrace)", why);
	snprintf(why, n, "%.*s", (int)n - 1, buf);
}

/* --tree: every live descendant of targets[0..n), appended. */
static size_t add_descendants(pid_t *targets, size_t n)
{
	for (int pass = 0; pass < 64; pass++) {	/* one generation a pass */
		size_t before = n;
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && (e = readdir(d)) && n < ATTACH_MAX) {
			pid_t pid = (pid_t)atoi(e->d_name);
			char comm[64];
			pid_t ppid = pid > 0 ? parent_of(pid, comm, sizeof(comm)) : 0;
			int is_child = 0, known = 0;
			for (size_t i = 0; i < n; i++) {
				known |= targets[i] == pid;
				is_child |= targets[i] == ppid;
			}
			if (is_child && !known)
				targets[n++] = pid;
		}
		if (d)
			closedir(d);
		if (n == before)
			break;
	}
	return n;
}

/* Alive and not a zombie. */
static int alive(pid_t pid)
{
	char state[64];
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 0;
	return status_field(pid, "State:", state, sizeof(state)) == 0 &&
	       state[0] != 'Z' && state[0] != 'X';
}

/* shmtrace_detach() in `pid`, if the shim is mapped there.  Returns 0, or
 * -1 after saying why. */
static int detach_one(struct live *L, pid_t pid, const char *shim_base)
{
	uint64_t fn = inject_symbol(pid, shim_base, "shmtrace_detach");
	if (!fn)
		return 0;	/* never loaded there (an exec gone untraced) */
	struct inject in;
	uint64_t ret = 0;
	int rc = inject_begin(&in, pid);
	if (rc == 0)
		rc = inject_call(&in, fn, 0, NULL, &ret, CALL_MS);
	char why[sizeof(in.why)];
	snprintf(why, sizeof(why), "%s", in.why);
	if (inject_end(&in) < 0 && rc == 0)
		rc = -1;
	if (inject_last_stop_ns > L->h->detach_stop_ns)
		L->h->detach_stop_ns = inject_last_stop_ns;
	if (rc < 0 && alive(pid)) {
		error("cannot detach from process %d: %s", pid, why[0] ? why : in.why);
		L->h->attach_failed++;
		return -1;
	}
	return 0;
}

/* Detaches from every traced process still alive, again while the
 * events name new ones (a fork just before the detach). */
static void detach_all(struct live *L, const char *shim_base)
{
	pid_t done[ATTACH_MAX * 4];
	size_t ndone = 0;
	for (int pass = 0; pass < 8; pass++) {
		const int32_t *pids;
		size_t n = procseen_pids(L, &pids), fresh = 0;
		for (size_t i = 0; i < n; i++) {
			int seen = 0;
			for (size_t k = 0; k < ndone; k++)
				seen |= done[k] == pids[i];
			if (seen || ndone == sizeof(done) / sizeof(done[0]))
				continue;
			done[ndone++] = pids[i];
			fresh++;
			if (alive(pids[i]))
				detach_one(L, pids[i], shim_base);
		}
		if (!fresh)
			break;
	}
}

/* Attaches to `pid`.  Returns 0, or -1 after saying why. */
static int attach_one(struct live *L, const char *shim, const char *region,
		      pid_t pid)
{
	char why[512];
	int64_t ret = 0;
	if (check_target(pid, why, sizeof(why)))
		return error("%s", why);
	/* first, so the trace holds them from its first instant; what is
	 * mapped between this read and the attach the next tick sees */
	if (!L->h->attached_at)	/* CLOCK_MONOTONIC ns, as the header's times */
		L->h->attached_at = clock_now_ns();
	procseen_seed(L, pid);
	int rc = inject_library(pid, shim, "shmtrace_attach", region, &ret, why,
				sizeof(why));
	if (inject_last_stop_ns > L->h->attach_stop_ns)
		L->h->attach_stop_ns = inject_last_stop_ns;
	if (rc < 0) {
		explain(why, sizeof(why));
		return error("%s", why);
	}
	if (ret == -2)
		return error("cannot attach to process %d: the tracer is attached "
			     "to it already", pid);
	if (ret < 0)
		return error("cannot attach to process %d: it cannot map the trace "
			     "region %s", pid, region);
	return 0;
}

/* Whether every traced process has ended (forgetting those that did). */
static int all_ended(struct live *L)
{
	const int32_t *pids;
	size_t n = procseen_pids(L, &pids);
	for (size_t i = 0; i < n;) {
		if (alive(pids[i])) {
			i++;
			continue;
		}
		procseen_reaped(pids[i]);	/* moves the last one here */
		n = procseen_pids(L, &pids);
	}
	return n == 0;
}

/* Whether a traced process has recorded an event of its own yet (not one
 * of ours, from /proc). */
static int has_target_event(struct live *L)
{
	uint64_t head = used_slots(L);
	for (uint64_t i = 0; i < head; i++) {
		const struct shmt_event *ev = region_slot(L->h, &L->layout, i);
		if (__atomic_load_n(&ev->commit, __ATOMIC_ACQUIRE) == i + 1 &&
		    ev->pid != getpid() && ev->call != SHMT_CALL_PROC_SEEN)
			return 1;
	}
	return 0;
}

/* The copy-out loop; returns why it stopped.  *first_ns: when the first
 * event of a target came, if it had not yet. */
static const char *record_until_done(struct live *L, const struct options *o,
				     const sigset_t *set, uint64_t *first_ns)
{
	static char whybuf[64];
	struct timespec period = { 0, WAKE_PERIOD_NS };
	uint64_t start = clock_now_ns(), last_sync = start;
	for (;;) {
		siginfo_t si;
		int sig = sigtimedwait(set, &si, &period);
		if (sig > 0 && sig != SIGCHLD) {
			snprintf(whybuf, sizeof(whybuf), "SIG%s",
				 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
			return whybuf;
		}
		populate_ahead(L, used_slots(L), POPULATE_AHEAD);
		uint64_t now = clock_now_ns();
		if (!*first_ns && has_target_event(L))
			*first_ns = now;
		if (o->duration_ms && now - start >= o->duration_ms * 1000000u)
			return "--duration";
		if (now - last_sync >= SYNC_PERIOD_NS) {
			capacity_sample(&L->cap);
			procseen_tick(L);
			sync_live(L);
			last_sync = clock_now_ns();
			if (all_ended(L))
				return "the end of the traced processes";
		}
	}
}

int attach_run(const struct options *o, const char *shim, const char *output,
	       const sigset_t *set, const sigset_t *old, const char *preload)
{
	uint64_t t_cmd = clock_now_ns(), first_ns = 0;
	pid_t targets[ATTACH_MAX];
	size_t n = o->npids;
	memcpy(targets, o->pids, n * sizeof(*targets));
	char why[512];
	for (size_t i = 0; i < n; i++)	/* refuse before making anything */
		if (check_target(targets[i], why, sizeof(why)))
			return error("%s", why), EXIT_SETUP;
	if (o->tree)
		n = add_descendants(targets, n);
	struct live L = { .file_fd = -1, .output = output };
	if (setup_region(o, output, &L)) {
		if (L.file_fd >= 0)
			unlink(output);
		return EXIT_SETUP;
	}
	char region[64];
	snprintf(region, sizeof(region), "/proc/%d/fd/%d", (int)getpid(), L.mem_fd);
	capacity_start(&L.cap);
	size_t attached = 0;
	for (size_t i = 0; i < n; i++) {
		/* a descendant may have ended since --tree listed it */
		if (i >= o->npids && !alive(targets[i]))
			continue;
		if (attach_one(&L, shim, region, targets[i]) == 0)
			attached++;
		else
			L.h->attach_failed++;
	}
	const char *shim_base = strrchr(shim, '/');
	shim_base = shim_base ? shim_base : shim;
	if (!attached) {
		detach_all(&L, shim_base);	/* none: nothing to undo */
		unlink(output);
		return EXIT_SETUP;
	}
	if (!o->quiet)
		fprintf(stderr, "shmtrace: attached to %zu process%s (stopped "
			"%.1f ms at most); recording until SIGINT%s\n", attached,
			attached == 1 ? "" : "es", L.h->attach_stop_ns / 1e6,
			o->duration_ms ? ", --duration" : "");
	if (has_target_event(&L))
		first_ns = clock_now_ns();
	const char *stopped = record_until_done(&L, o, set, &first_ns);
	detach_all(&L, shim_base);
	L.h->detached_at = clock_now_ns();
	sync_live(&L);
	capacity_record(&L, &L.cap, 0);
	if (write_final(&L, 0))
		return EXIT_SETUP;
	if (!o->quiet)
		fprintf(stderr, "shmtrace: detached (on %s; stopped %.1f ms at "
			"most); the first event came %.1f ms after the start\n",
			stopped, L.h->detach_stop_ns / 1e6,
			first_ns ? (first_ns - t_cmd) / 1e6 : -1.0);
	int leaked = 0;
	if (!o->quiet || o->error_exitcode)
		leaked = report_leaks(o, output, preload, old, 2);
	summarize(o, output, &L, 2);
	return leaked > 0 && o->error_exitcode ? o->error_exitcode : 0;
}
