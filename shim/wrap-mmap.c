/*
 * wrap-mmap.c - mmap, mmap64, munmap, mremap.
 *
 * These forward with the raw system call: no symbol lookup, so no dlsym
 * that could allocate and come back here.  Private mappings (which is what
 * malloc, stdio and the loader make, when they come through the PLT at all)
 * take the fast path: one test, the system call, a per-thread counter.
 * mprotect and madvise are not recorded: they are hooked only to keep the
 * trace region out of their reach.
 */
#include "real.h"
#include "recorder.h"
#include "track.h"
#include "object.h"

#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static void *mmap_traced(void *addr, size_t len, int prot, int flags, int fd,
			 off_t off)
{
	struct rec_ctx c;
	int on = rec_begin(&c);
	void *ret = raw_mmap(addr, len, prot, flags, fd, off);
	if (!on)
		return ret;
	int err = ret == MAP_FAILED ? errno : 0;
	struct rec_event ev = {
		.call = SHMT_CALL_MMAP, .ret = (int64_t)(intptr_t)ret, .err = err,
		.args = { [SHMT_ARG_MMAP_ADDR] = (uintptr_t)addr,
			  [SHMT_ARG_MMAP_LENGTH] = len,
			  [SHMT_ARG_MMAP_PROT] = (uint32_t)prot,
			  [SHMT_ARG_MMAP_FLAGS] = (uint32_t)flags,
			  [SHMT_ARG_MMAP_FD] = (uint64_t)(int64_t)fd,
			  [SHMT_ARG_MMAP_OFFSET] = (uint64_t)off },
	};
	/* a descriptor the shim did not see made: what it names, for the
	 * object record after the event (the rare path: fstat, readlink) */
	struct object_info oi;
	int inspected = 0;
	if (flags & MAP_ANONYMOUS) {
		ev.obj = (flags & MAP_SHARED) ? SHMT_OBJ_ANON : SHMT_OBJ_NONE;
	} else if (!track_fd_get(fd, &ev.obj, &ev.args[SHMT_ARG_MMAP_ORIGIN])) {
		inspected = 1;
		object_inspect(fd, flags & MAP_SHARED, &oi);
		ev.obj = object_mmap_kind(&oi);
		ev.args[SHMT_ARG_MMAP_INODE] = oi.inode;
	}
	struct track_taken replaced;
	if (!err && (flags & MAP_FIXED))	/* replaced what was there */
		track_map_take((uintptr_t)ret, len, &replaced);
	if (!err && (flags & MAP_SHARED))
		track_map_add((uintptr_t)ret, len);
	uint64_t seq = rec_end(&c, &ev);
	if (inspected && (flags & MAP_SHARED))
		object_note(&oi, fd, seq);
	return ret;
}

SHIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	uint32_t obj;
	uint64_t origin;
	int shared = (flags & MAP_SHARED) ||
		     (!(flags & MAP_ANONYMOUS) && track_fd_get(fd, &obj, &origin));
	int fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	/* MAP_FIXED_NOREPLACE over the region fails (EEXIST), nothing lost */
	if ((flags & MAP_FIXED) && rec_overlaps_region((uintptr_t)addr, len)) {
		int suspended = rec_suspend();
		void *ret = raw_mmap(addr, len, prot, flags, fd, off);
		rec_suspend_end(suspended, ret == MAP_FAILED, "mapped over");
		return ret;
	}
	if (shared || (fixed && track_map_overlaps((uintptr_t)addr, len)))
		return mmap_traced(addr, len, prot, flags, fd, off);
	rec_count_passthrough();
	return raw_mmap(addr, len, prot, flags, fd, off);
}

/* mmap64 is the same function under a second name (_FILE_OFFSET_BITS=64
 * callers bind to it). */
SHIM_EXPORT extern __typeof__(mmap) mmap64 __attribute__((alias("mmap")));

/* munmap of a range that holds the trace region: tracing stops first (the
 * next event would fault), and goes on if the call fails. */
static int munmap_region(void *addr, size_t len)
{
	int suspended = rec_suspend();
	int ret = (int)syscall(SYS_munmap, addr, len);
	rec_suspend_end(suspended, ret != 0, "unmapped");
	return ret;
}

SHIM_EXPORT int munmap(void *addr, size_t len)
{
	if (rec_overlaps_region((uintptr_t)addr, len))
		return munmap_region(addr, len);
	if (!track_map_overlaps((uintptr_t)addr, len))
		return (int)syscall(SYS_munmap, addr, len);
	struct track_taken taken;
	track_map_take((uintptr_t)addr, len, &taken);
	struct rec_ctx c;
	int on = rec_begin(&c);
	int ret = (int)syscall(SYS_munmap, addr, len);
	if (ret != 0)
		track_map_put_back(&taken);
	if (!on)
		return ret;
	struct rec_event ev = {
		.call = SHMT_CALL_MUNMAP, .ret = ret, .err = ret < 0 ? errno : 0,
		.args = { [SHMT_ARG_MUNMAP_ADDR] = (uintptr_t)addr,
			  [SHMT_ARG_MUNMAP_LENGTH] = len },
	};
	rec_end(&c, &ev);
	return ret;
}

SHIM_EXPORT void *mremap(void *old, size_t old_size, size_t new_size,
			 int flags, ...)
{
	void *want = NULL;
	if (flags & MREMAP_FIXED) {	/* the fifth argument exists only then */
		va_list ap;
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	if (rec_overlaps_region((uintptr_t)old, old_size) ||
	    (want && rec_overlaps_region((uintptr_t)want, new_size))) {
		int suspended = rec_suspend();
		void *ret = (void *)syscall(SYS_mremap, old, old_size, new_size,
					    flags, want);
		rec_suspend_end(suspended, ret == MAP_FAILED, "remapped");
		return ret;
	}
	int tracked = track_map_overlaps((uintptr_t)old, old_size) ||
		      (want && track_map_overlaps((uintptr_t)want, new_size));
	if (!tracked)
		return (void *)syscall(SYS_mremap, old, old_size, new_size, flags, want);
	struct track_taken taken = { 0 };
	if (!(flags & MREMAP_DONTUNMAP))
		track_map_take((uintptr_t)old, old_size, &taken);
	struct rec_ctx c;
	int on = rec_begin(&c);
	void *ret = (void *)syscall(SYS_mremap, old, old_size, new_size, flags, want);
	int err = ret == MAP_FAILED ? errno : 0;
	if (err)
		track_map_put_back(&taken);
	else
		track_map_add((uintptr_t)ret, new_size);
	if (!on)
		return ret;
	struct rec_event ev = {
		.call = SHMT_CALL_MREMAP, .ret = (int64_t)(intptr_t)ret, .err = err,
		.args = { [SHMT_ARG_MREMAP_OLD_ADDR] = (uintptr_t)old,
			  [SHMT_ARG_MREMAP_OLD_SIZE] = old_size,
			  [SHMT_ARG_MREMAP_NEW_SIZE] = new_size,
			  [SHMT_ARG_MREMAP_FLAGS] = (uint32_t)flags,
			  [SHMT_ARG_MREMAP_NEW_ADDR] = (uintptr_t)want },
	};
	rec_end(&c, &ev);
	return ret;
}

/*
 * mprotect and madvise over a range that holds the trace region apply to
 * the rest of the range only: the region is the tracer's, not the
 * program's, and PROT_READ or MADV_DONTFORK (or MADV_REMOVE) on it would
 * crash the next event, or a child's first.  A misaligned start fails as
 * it would anyway, so it goes through untouched.
 */
static long around_region(long nr, void *addr, size_t len, long arg)
{
	uintptr_t a = (uintptr_t)addr, e = a + len, lo, hi;
	rec_region_range(&lo, &hi);
	hi = (hi + 4095) & ~(uintptr_t)4095;	/* the mapping's last page */
	if ((a & 4095) || !rec_overlaps_region(a, len))
		return syscall(nr, addr, len, arg);
	long r = 0;
	if (a < lo)
		r = syscall(nr, addr, lo - a, arg);
	if (r == 0 && e > hi)
		r = syscall(nr, hi, e - hi, arg);
	return r;
}

SHIM_EXPORT int mprotect(void *addr, size_t len, int prot)
{
	return (int)around_region(SYS_mprotect, addr, len, prot);
}

SHIM_EXPORT int madvise(void *addr, size_t len, int advice)
{
	return (int)around_region(SYS_madvise, addr, len, advice);
}
