/*
 * inject.c - calling functions inside a running process by ptrace (see
 * inject.h for the contract and why only one thread is stopped).
 *
 * A call is made the way a debugger makes one: the thread's registers
 * are set to the function's address and arguments, with a return address
 * of 0 pushed below the red zone of its stack, and the thread is let run
 * until the return faults on address 0.  That SIGSEGV never reaches the
 * program: it is swallowed when the registers are put back.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "inject.h"

#define SCRATCH_SIZE 4096u
#define RED_ZONE 128u          /* the x86-64 ABI's, below %rsp */
#define STACK_MARGIN 1024u     /* and some more, for a signal frame */
#define LIBC "/libc.so.6"
#define CALL_TIMEOUT_MS 5000

static int fail(struct inject *in, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct inject *in, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(in->why, sizeof(in->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* --- choosing and stopping a thread ------------------------------------ */

/* The system call thread `tid` of `pid` is blocked in, -1 when it runs in
 * user space (or cannot be told). */
static long blocked_in(pid_t pid, pid_t tid)
{
	char path[64], buf[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	long nr = strtol(buf, &end, 10);
	return end == buf ? -1 : nr;
}

/*
 * The thread to make the calls on: the first blocked in a system call
 * other than futex (a thread in futex may be waiting for a lock another
 * one holds, mid-way through the allocator), the main thread otherwise.
 */
static pid_t choose_thread(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	pid_t best = pid;
	long best_nr = blocked_in(pid, pid);
	if (!d)
		return pid;
	for (struct dirent *e; (e = readdir(d)) && (best_nr < 0 || best_nr == SYS_futex);) {
		pid_t tid = (pid_t)atoi(e->d_name);
		long nr = tid > 0 ? blocked_in(pid, tid) : -1;
		if (nr >= 0 && (best_nr < 0 || (best_nr == SYS_futex && nr != SYS_futex))) {
			best = tid;
			best_nr = nr;
		}
	}
	closedir(d);
	return best;
}

/* Waits for a state change of the seized thread for at most `ms`
 * milliseconds: 1 with *status, 0 on timeout, -1 on error. */
static int wait_thread(pid_t tid, int *status, int ms)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)ms * 1000000u;
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL | WNOHANG);
		if (r == tid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (clock_now_ns() >= deadline)
			return 0;
		struct timespec nap = { 0, 50000 };	/* 50 us: a stop is quick */
		nanosleep(&nap, NULL);
	}
}

int inject_begin(struct inject *in, pid_t pid)
{
	memset(in, 0, sizeof(*in));
	in->pid = pid;
	in->tid = choose_thread(pid);
	if (ptrace(PTRACE_SEIZE, in->tid, 0, 0) < 0)
		return fail(in, "cannot attach to process %d: %s", pid, strerror(errno));
	in->seized = true;
	in->asked_ns = clock_now_ns();
	if (ptrace(PTRACE_INTERRUPT, in->tid, 0, 0) < 0)
		return fail(in, "cannot stop thread %d: %s", in->tid, strerror(errno));
	int st, r;
	for (;;) {
		r = wait_thread(in->tid, &st, CALL_TIMEOUT_MS);
		if (r <= 0)
			return fail(in, "thread %d did not stop", in->tid);
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return fail(in, "process %d ended while attaching", pid);
		if (WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP)
			break;
		/* a signal on its way to the thread: keep it for later */
		if (WIFSTOPPED(st) && in->npending < INJECT_MAX_PENDING)
			in->pending[in->npending++] = WSTOPSIG(st);
		ptrace(PTRACE_CONT, in->tid, 0, 0);
	}
	in->stopped_ns = clock_now_ns();
	if (ptrace(PTRACE_GETREGS, in->tid, 0, &in->saved) < 0)
		return fail(in, "cannot read thread %d's registers: %s", in->tid,
			    strerror(errno));
	return 0;
}

/* --- memory of the target ---------------------------------------------- */

static int poke(struct inject *in, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { (void *)buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	if (process_vm_writev(in->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return fail(in, "cannot write to process %d at 0x%" PRIx64 ": %s",
			    in->pid, addr, strerror(errno));
	return 0;
}

int inject_read_string(struct inject *in, uint64_t addr, char *buf, size_t size)
{
	struct iovec local = { buf, size - 1 };
	struct iovec remote = { (void *)(uintptr_t)addr, size - 1 };
	ssize_t n = process_vm_readv(in->pid, &local, 1, &remote, 1, 0);
	if (n <= 0)
		return fail(in, "cannot read process %d at 0x%" PRIx64, in->pid, addr);
	buf[n] = '\0';
	return 0;
}

/* --- calls ----------------------------------------------------------------- */

/* A stop that is not the end of our call: a signal for the program is
 * kept for later (and not delivered now, inside our call). */
static void keep_signal(struct inject *in, int st)
{
	if ((st >> 16) == 0 && in->npending < INJECT_MAX_PENDING)
		in->pending[in->npending++] = WSTOPSIG(st);
}

int inject_call(struct inject *in, uint64_t fn, int nargs,
		const uint64_t *args, uint64_t *ret, int timeout_ms)
{
	struct user_regs_struct r = in->saved;
	uint64_t sp = (in->saved.rsp - RED_ZONE - STACK_MARGIN) & ~(uint64_t)15;
	uint64_t zero = 0;

	sp -= 8;	/* the return address: at entry %rsp + 8 is 16-aligned */
	if (poke(in, sp, &zero, sizeof(zero)) < 0)
		return -1;
	unsigned long long *regs[6] = { &r.rdi, &r.rsi, &r.rdx, &r.rcx, &r.r8, &r.r9 };
	for (int i = 0; i < nargs && i < 6; i++)
		*regs[i] = args[i];
	r.rsp = sp;
	r.rip = fn;
	r.rax = 0;
	r.orig_rax = (unsigned long long)-1;	/* no system call to restart now */
	if (ptrace(PTRACE_SETREGS, in->tid, 0, &r) < 0 ||
	    ptrace(PTRACE_CONT, in->tid, 0, 0) < 0)
		return fail(in, "cannot start a call in thread %d: %s", in->tid,
			    strerror(errno));
	for (;;) {
		int st, w = wait_thread(in->tid, &st, timeout_ms);
		if (w == 0)
			return fail(in, "a call in process %d did not return within %d ms",
				    in->pid, timeout_ms);
		if (w < 0 || WIFEXITED(st) || WIFSIGNALED(st))
			return fail(in, "process %d ended during a call", in->pid);
		if (WSTOPSIG(st) == SIGSEGV && (st >> 16) == 0) {
			struct user_regs_struct done;
			ptrace(PTRACE_GETREGS, in->tid, 0, &done);
			if (done.rip == 0) {
				*ret = done.rax;
				return 0;
			}
			return fail(in, "a call crashed in process %d at 0x%llx",
				    in->pid, done.rip);
		}
		keep_signal(in, st);
		ptrace(PTRACE_CONT, in->tid, 0, 0);
	}
}

/* Calls libc's `name` in the target; 0 when it is not there. */
static int libc_call(struct inject *in, const char *name, int nargs,
		     const uint64_t *args, uint64_t *ret)
{
	uint64_t fn = inject_symbol(in->pid, LIBC, name);
	if (!fn)
		return fail(in, "process %d has no glibc %s (is its libc glibc?)",
			    in->pid, name);
	return inject_call(in, fn, nargs, args, ret, CALL_TIMEOUT_MS);
}

uint64_t inject_string(struct inject *in, size_t at, const char *s)
{
	size_t len = strlen(s) + 1;
	if (at + len > SCRATCH_SIZE)
		return fail(in, "a string of %zu bytes does not fit the scratch page",
			    len), 0;
	if (!in->scratch) {
		uint64_t a[6] = { 0, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0 };
		uint64_t got;
		if (libc_call(in, "mmap", 6, a, &got) < 0)
			return 0;
		if (got == (uint64_t)MAP_FAILED || !got)
			return fail(in, "mmap in process %d failed", in->pid), 0;
		in->scratch = got;
	}
	if (poke(in, in->scratch + at, s, len) < 0)
		return 0;
	return in->scratch + at;
}

uint64_t inject_last_stop_ns;

int inject_end(struct inject *in)
{
	int rc = 0;
	if (!in->seized)
		return 0;
	if (in->scratch) {
		uint64_t a[2] = { in->scratch, SCRATCH_SIZE }, got;
		if (libc_call(in, "munmap", 2, a, &got) < 0)
			rc = -1;
		in->scratch = 0;
	}
	/* the registers as they were: an interrupted system call restarts */
	if (in->stopped_ns && ptrace(PTRACE_SETREGS, in->tid, 0, &in->saved) < 0)
		rc = fail(in, "cannot restore thread %d's registers: %s", in->tid,
			  strerror(errno));
	int first = in->npending ? in->pending[0] : 0;
	if (ptrace(PTRACE_DETACH, in->tid, 0, (void *)(intptr_t)first) < 0 && errno != ESRCH)
		rc = fail(in, "cannot detach from thread %d: %s", in->tid, strerror(errno));
	for (int i = 1; i < in->npending; i++)
		syscall(SYS_tgkill, in->pid, in->tid, in->pending[i]);
	in->seized = false;
	inject_last_stop_ns = clock_now_ns() - in->asked_ns;
	return rc;
}

/* --- symbols ----------------------------------------------------------------- */

/* The lowest mapping of the module whose path ends with `module`, at file
 * offset 0: its start, and a path to open the file by. */
static int find_module(pid_t pid, const char *module, uint64_t *start,
		       char *file, size_t size)
{
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t mlen = strlen(module);
	int found = -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		uint64_t lo, hi, off;
		int name_at = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %n",
			   &lo, &hi, &off, &name_at) < 3 || !name_at)
			continue;
		char *name = line + name_at;
		name[strcspn(name, "\n")] = '\0';
		size_t n = strlen(name);
		if (off != 0 || n < mlen || strcmp(name + n - mlen, module))
			continue;
		*start = lo;
		/* by map_files: right even in another mount namespace */
		snprintf(file, size, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, lo, hi);
		if (access(file, R_OK) < 0)
			snprintf(file, size, "/proc/%d/root%s", pid, name);
		found = 0;
	}
	fclose(f);
	return found;
}

/* The first PT_LOAD's page-aligned vaddr: what the mapping at offset 0
 * was placed for. */
static int first_load(Elf *e, uint64_t *vaddr)
{
	size_t n;
	if (elf_getphdrnum(e, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD) {
			*vaddr = ph.p_vaddr & ~(uint64_t)(ph.p_align ? ph.p_align - 1 : 0);
			return 0;
		}
	}
	return -1;
}

/* The value of the dynamic symbol `sym` (its default version), 0 if none. */
static uint64_t dynsym_value(Elf *e, const char *sym)
{
	Elf_Scn *scn = NULL, *dynsym = NULL, *versym = NULL;
	GElf_Shdr sh, dsh = { 0 };
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh)) {
			if (sh.sh_type == SHT_DYNSYM) {
				dynsym = scn;
				dsh = sh;
			} else if (sh.sh_type == SHT_GNU_versym) {
				versym = scn;
			}
		}
	if (!dynsym || !dsh.sh_entsize)
		return 0;
	Elf_Data *d = elf_getdata(dynsym, NULL);
	Elf_Data *v = versym ? elf_getdata(versym, NULL) : NULL;
	uint64_t found = 0;
	for (size_t i = 0; d && i < dsh.sh_size / dsh.sh_entsize; i++) {
		GElf_Sym s;
		GElf_Versym ver = 0;
		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF || !s.st_value)
			continue;
		const char *name = elf_strptr(e, dsh.sh_link, s.st_name);
		if (!name || strcmp(name, sym))
			continue;
		if (v)
			gelf_getversym(v, (int)i, &ver);
		if (!(ver & 0x8000))	/* not hidden: the default version */
			return s.st_value;
		found = s.st_value;	/* an old version, if nothing better */
	}
	return found;
}

uint64_t inject_symbol(pid_t pid, const char *module, const char *sym)
{
	char file[4200];
	uint64_t start, base = 0, value = 0;
	if (find_module(pid, module, &start, file, sizeof(file)) < 0)
		return 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (e && first_load(e, &base) == 0)
		value = dynsym_value(e, sym);
	if (e)
		elf_end(e);
	close(fd);
	return value ? value - base + start : 0;
}

/* --- loading a library ------------------------------------------------------- */

static int load_and_enter(struct inject *in, const char *lib, const char *entry,
			  const char *arg, int64_t *entry_ret)
{
	uint64_t path = inject_string(in, 0, lib), handle, fn, ret;
	if (!path)
		return -1;
	uint64_t a[2] = { path, RTLD_NOW };
	if (libc_call(in, "dlopen", 2, a, &handle) < 0)
		return -1;
	if (!handle) {
		char msg[200] = "";
		uint64_t e;
		if (libc_call(in, "dlerror", 0, NULL, &e) == 0 && e)
			inject_read_string(in, e, msg, sizeof(msg));
		return fail(in, "dlopen in process %d failed: %s", in->pid,
			    msg[0] ? msg : "no reason given");
	}
	uint64_t name = inject_string(in, 2048, entry);
	uint64_t b[2] = { handle, name };
	if (!name || libc_call(in, "dlsym", 2, b, &fn) < 0)
		return -1;
	if (!fn)
		return fail(in, "%s has no %s", lib, entry);
	uint64_t argp = 0;
	if (arg && !(argp = inject_string(in, 2048 + strlen(entry) + 1, arg)))
		return -1;
	uint64_t c[1] = { argp };
	if (inject_call(in, fn, 1, c, &ret, CALL_TIMEOUT_MS) < 0)
		return -1;
	*entry_ret = (int64_t)ret;
	return 0;
}

int inject_library(pid_t pid, const char *lib, const char *entry,
		   const char *arg, int64_t *entry_ret, char *why, size_t n)
{
	struct inject in;
	int rc = inject_begin(&in, pid);
	if (rc == 0)
		rc = load_and_enter(&in, lib, entry, arg, entry_ret);
	char first[sizeof(in.why)];
	snprintf(first, sizeof(first), "%s", in.why);
	if (inject_end(&in) < 0 && rc == 0)
		rc = -1;
	snprintf(why, n, "%s", first[0] ? first : in.why);
	return rc;
}
