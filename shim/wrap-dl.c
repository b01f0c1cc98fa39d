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

/* The shim's own wrappers, looked up in the shim's own handle (a
 * reference to them from here would be a relocation against the shim's
 * exports, which the shim never makes: tests/unit/test-shim-self-calls.c).
 * Outside any hook's recording path: dlsym may allocate. */
static const struct got_symbol *intercepted(__typeof__(&dlopen) open_real,
					    size_t *n)
{
	static const char *const names[] = {
		"shmget", "shmat", "shmdt", "shmctl", "mmap", "mmap64", "munmap",
		"mremap", "shm_open", "shm_unlink", "memfd_create", "ftruncate",
		"ftruncate64", "close", "dup", "dup2", "dup3", "sendmsg", "recvmsg",
		"sem_open", "sem_close", "sem_unlink",
	};
	static struct got_symbol table[sizeof(names) / sizeof(names[0])];
	static size_t count;
	const char *self = rec_shim_path();
	void *h = count || !self ? NULL : open_real(self, RTLD_LAZY | RTLD_NOLOAD);
	for (size_t i = 0; h && i < sizeof(names) / sizeof(names[0]); i++) {
		void *fn = dlsym(h, names[i]);
		if (fn)
			table[count++] = (struct got_symbol){ names[i], fn };
	}
	*n = count;
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

static int patch_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *s = arg;
	(void)size;
	if (s->index++ >= s->first_new)
		s->patched += got_patch_module(info, s->table, s->n, &s->skipped);
	return 0;
}

SHIM_EXPORT void *dlopen(const char *file, int mode)
{
	REAL_OR(dlopen, NULL);
	if (!(mode & RTLD_DEEPBIND) || !file || !strchr(file, '/') ||
	    strchr(file, '$') || !rec_enabled())
		return real_dlopen(file, mode);	/* a tail call */
	struct scan before = { 0 };
	dl_iterate_phdr(count_module, &before);
	void *h = real_dlopen(file, mode);
	if (h) {
		struct scan after = { .first_new = before.index };
		after.table = intercepted(real_dlopen, &after.n);
		dl_iterate_phdr(patch_module, &after);
		rec_note_modules();
	}
	return h;
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
