/*
 * wrap-dl.c - libraries that bind past the preload.
 *
 * A library dlopen'ed with RTLD_DEEPBIND (php-fpm loads its extensions,
 * opcache among them, so) looks its symbols up in itself and its own
 * dependencies first: its mmap is libc's, not the shim's, and its shared
 * memory would go unseen.  The shim does not take the flag away (that
 * would change the program's binding); it lets the load happen, then
 * points the GOT slots of the intercepted functions in every module the
 * load brought in at the shim's wrappers (got.h), which forward to libc as
 * they do for everyone else.
 *
 * dlopen looks at its caller (the caller's RUNPATH and $ORIGIN): a call the
 * shim does not need to see again forwards as a tail call, so the caller
 * stays the program's; a DEEPBIND load is intercepted only when the file
 * is a path without '$' (then no search and no $ORIGIN depend on the
 * caller); any other load forwards as it is.
 */
#include "real.h"
#include "recorder.h"
#include "got.h"

#include <dlfcn.h>
#include <link.h>
#include <semaphore.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

/* What DEEPBIND loads get patched for: the memory calls. */
static const char *const memory_names[] = {
	"shmget", "shmat", "shmdt", "shmctl", "mmap", "mmap64", "munmap",
	"mremap", "shm_open", "shm_unlink", "memfd_create", "ftruncate",
	"ftruncate64", "close", "dup", "dup2", "dup3", "sendmsg", "recvmsg",
	"sem_open", "sem_close", "sem_unlink",
};

/* And after an attach, every other export too (exports.map): processes,
 * threads, exits, waits and loads, as under the preload. */
static const char *const process_names[] = {
	"close_range", "fork", "_Fork", "vfork", "posix_spawn", "posix_spawnp",
	"execve", "execv", "execvp", "execvpe", "execl", "execlp", "execle",
	"fexecve", "execveat", "_exit", "_Exit", "pthread_create",
	"pthread_exit", "wait", "waitpid", "wait3", "wait4", "waitid",
	"mprotect", "madvise", "dlclose", "sendmmsg", "recvmmsg", "dlopen",
};

#define NMEMORY (sizeof(memory_names) / sizeof(memory_names[0]))
#define NPROCESS (sizeof(process_names) / sizeof(process_names[0]))

/* The shim's own wrappers, looked up in the shim's own handle (a
 * reference to them from here would be a relocation against the shim's
 * exports, which the shim never makes: tests/unit/test-shim-self-calls.c).
 * The memory ones first, so the first NMEMORY entries (or fewer) are
 * DEEPBIND's table and all of them attach's.  Outside any hook's
 * recording path: dlsym may allocate. */
static const struct got_symbol *intercepted(int all, size_t *n)
{
	static struct got_symbol table[NMEMORY + NPROCESS];
	static size_t count, nmemory;
	static void *open_slot;
	__typeof__(&dlopen) open_real = (__typeof__(&dlopen))real_resolve(
		&open_slot, "dlopen");
	const char *self = rec_shim_path();
	void *h = count || !self || !open_real ? NULL :
		  open_real(self, RTLD_LAZY | RTLD_NOLOAD);
	for (size_t i = 0; h && i < NMEMORY + NPROCESS; i++) {
		const char *name = i < NMEMORY ? memory_names[i] :
				   process_names[i - NMEMORY];
		void *fn = dlsym(h, name);
		if (fn)
			table[count++] = (struct got_symbol){ name, fn };
		if (i == NMEMORY - 1)
			nmemory = count;
	}
	*n = all ? count : nmemory;
	return table;
}

struct scan {
	unsigned index, first_new;	/* modules seen, the first to patch */
	unsigned patched, skipped;
	const struct got_symbol *table;
	size_t n;
};

static int count_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)info;
	(void)size;
	((struct scan *)arg)->index++;
	return 0;
}

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

/* Under the loader's lock (dl_iterate_phdr holds it): never the shim
 * itself, whose calls are its own; in attach mode only while recording,
 * so a detach that turned it off first is never undone by a late load. */
static int patch_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *s = arg;
	(void)size;
	if (s->index++ < s->first_new ||
	    info->dlpi_addr == (ElfW(Addr))__ehdr_start ||
	    (shim_attach_mode && !rec_enabled()))
		return 0;
	s->patched += got_patch_module(info, s->table, s->n, &s->skipped);
	return 0;
}

/* Patches the modules past the first `first_new` for the table of `all`. */
static unsigned patch_modules(unsigned first_new, int all, unsigned *skipped)
{
	struct scan s = { .first_new = first_new };
	s.table = intercepted(all, &s.n);
	dl_iterate_phdr(patch_module, &s);
	if (skipped)
		*skipped = s.skipped;
	return s.patched;
}

SHIM_EXPORT void *dlopen(const char *file, int mode)
{
	REAL_OR(dlopen, NULL);
	/* after an attach nobody else sends a new module's calls to us; a
	 * load by bare name forwards as it is (its search may depend on
	 * the caller's RUNPATH), and is not patched (man/shmtrace.1) */
	int attached = shim_attach_mode && rec_enabled();
	if ((!(mode & RTLD_DEEPBIND) && !attached) || !file || !strchr(file, '/') ||
	    strchr(file, '$') || !rec_enabled())
		return real_dlopen(file, mode);	/* a tail call */
	struct scan before = { 0 };
	dl_iterate_phdr(count_module, &before);
	void *h = real_dlopen(file, mode);
	if (h) {
		patch_modules(before.index, attached, NULL);
		rec_note_modules();
	}
	return h;
}

/* Restores every slot, under the loader's lock (so no load patches at
 * the same time); the first module is enough to hold it. */
static int restore_locked(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)info;
	(void)size;
	*(unsigned *)arg = got_restore_all();
	return 1;
}

/*
 * shmtrace -p calls these in the target by ptrace (launcher/attach.c),
 * after dlopen of the shim, on one stopped thread while the others run.
 *
 * shmtrace_attach(region): maps the launcher's region (its path,
 * /proc/<launcher>/fd/<n>), records the process's start and modules, and
 * points every loaded module's GOT slots of the intercepted functions at
 * the wrappers.  Returns the slots patched (>= 0), or -1 when the region
 * could not be mapped (nothing changed), -2 when it is attached already.
 *
 * shmtrace_detach(): stops recording, waits (at most 100 ms) for the
 * writes in flight, puts every patched slot back and unmaps the region.
 * The library stays loaded, dormant: a later attach can use it again.
 * Returns the slots restored, or -1 when it was not attached.
 */
SHIM_EXPORT long shmtrace_attach(const char *region)
{
	if (rec_enabled())
		return -2;
	if (rec_attach(region))
		return -1;
	shim_proc_start();
	unsigned skipped = 0;
	long patched = (long)patch_modules(0, 1, &skipped);
	return patched;
}

SHIM_EXPORT long shmtrace_detach(void)
{
	if (rec_detach_stop(100) < 0)
		return -1;
	unsigned restored = 0;
	dl_iterate_phdr(restore_locked, &restored);
	rec_detach_unmap();
	return (long)restored;
}

/* dlclose: a library unloaded is forgotten, so one loaded at its address
 * later is recorded (and symbolized) as itself. */
SHIM_EXPORT int dlclose(void *handle)
{
	REAL_OR(dlclose, -1);
	int ret = real_dlclose(handle);
	if (ret == 0)
		rec_forget_modules();
	return ret;
}
