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

/* The shim's own definitions: the first in the global scope, so these
 * are the wrappers. */
static const struct got_symbol *intercepted(size_t *n)
{
	static struct got_symbol table[32];
	static size_t count;
	if (!count) {
#define S(fn) table[count++] = (struct got_symbol){ #fn, (void *)&fn }
		S(shmget); S(shmat); S(shmdt); S(shmctl);
		S(mmap); S(mmap64); S(munmap); S(mremap);
		S(shm_open); S(shm_unlink); S(memfd_create);
		S(ftruncate); S(ftruncate64); S(close); S(dup); S(dup2); S(dup3);
		S(sendmsg); S(recvmsg); S(sem_open); S(sem_close); S(sem_unlink);
#undef S
	}
	*n = count;
	return table;
}

struct scan {
	unsigned index, first_new;	/* modules seen, the first to patch */
	unsigned patched, skipped;
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
	size_t n;
	const struct got_symbol *t = intercepted(&n);
	(void)size;
	if (s->index++ >= s->first_new)
		s->patched += got_patch_module(info, t, n, &s->skipped);
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
		dl_iterate_phdr(patch_module, &after);
		rec_note_modules();
	}
	return h;
}
