/*
 * real.h - the next definition of an interposed function.
 *
 * Resolved lazily with dlsym(RTLD_NEXT) on first use and kept; a race
 * resolves twice to the same pointer, which is harmless.  mmap, munmap and
 * mremap never come here: they forward with the raw system call, because a
 * dlsym that allocates may call mmap (docs/DESIGN.md, "Interposition
 * traps").
 */
#ifndef SHMTRACE_REAL_H
#define SHMTRACE_REAL_H

#include <dlfcn.h>
#include <errno.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

static inline void *real_resolve(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!p) {
		int saved = errno;
		p = dlsym(RTLD_NEXT, name);
		errno = saved;
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	}
	return p;
}

/* Declares real_<fn>, the next <fn>, in the calling wrapper; when there is
 * none, the wrapper fails the way a missing function would: ENOSYS. */
#define REAL_OR(fn, fail)                                                  \
	static void *real_slot_##fn;                                       \
	__typeof__(&fn) real_##fn = (__typeof__(&fn))real_resolve(         \
		&real_slot_##fn, #fn);                                     \
	if (!real_##fn) {                                                  \
		errno = ENOSYS;                                            \
		return fail;                                               \
	}

#endif
