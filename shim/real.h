/*
 * real.h - the next definition of an interposed function.
 *
 * Resolved lazily with dlsym(RTLD_NEXT) on first use and kept; a race
 * resolves twice to the same pointer, which is harmless.  In attach mode
 * (shmtrace -p) the lookup is RTLD_DEFAULT's, not RTLD_NEXT's.  mmap, munmap and
 * mremap never come here: they forward with the raw system call, because a
 * dlsym that allocates may call mmap (docs/DESIGN.md, "Interposition
 * traps").
 */
#ifndef SHMTRACE_REAL_H
#define SHMTRACE_REAL_H

#include <dlfcn.h>
#include <errno.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* 1 when this thread has a usable TLS: the thread control block's pointer
 * to itself (%fs:0 on x86_64) is set.  A thread made by clone(CLONE_SETTLS)
 * with a zeroed TLS block, as Chromium's sandbox makes its chroot helper,
 * has none: errno and every __thread variable are out of reach there, so
 * the hooks forward without touching either.  One load. */
static inline int shim_tls_ok(void)
{
#if defined(__x86_64__)
	void *self;
	__asm__ volatile("movq %%fs:0, %0" : "=r"(self));
	return self != 0;
#else
	return 1;
#endif
}

/* The next definition of `name`, resolved into *slot once.  NULL when there
 * is none, or when it is not resolved yet and this thread has no TLS
 * (dlsym needs it). */
extern int shim_attach_mode __attribute__((visibility("hidden")));

static inline void *real_resolve(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!p && shim_tls_ok()) {
		int saved = errno;
		/* loaded late by dlopen (shmtrace -p), the shim is in no
		 * global scope: the first definition there is the one the
		 * program was bound to */
		p = dlsym(__atomic_load_n(&shim_attach_mode, __ATOMIC_RELAXED) ?
			  RTLD_DEFAULT : RTLD_NEXT, name);
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
		if (shim_tls_ok())                                         \
			errno = ENOSYS;                                    \
		return fail;                                               \
	}

#endif
