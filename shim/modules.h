/*
 * modules.h - which ELF modules a traced process has loaded (path, load
 * bias, extent, build-id), so the viewer can symbolize backtraces offline,
 * after the process is gone.  This part only enumerates; the recorder
 * writes what it finds as SHMT_CALL_MODULE events (rec_note_modules).
 */
#ifndef SHMTRACE_MODULES_H
#define SHMTRACE_MODULES_H

#include <stddef.h>
#include <stdint.h>
#include "shmtrace-format.h"

/* One loaded module.  `path` is valid during the callback only. */
struct module_info {
	const char *path;
	uintptr_t bias;		/* load bias */
	uintptr_t lo, hi;	/* lowest and highest address of its segments */
	uint32_t build_id_len;
	uint8_t build_id[SHMT_BUILD_ID_MAX];	/* zero-filled past the length */
};

/* Calls `found` for every loaded module not reported yet in this process
 * (a fork child inherits what its parent reported, an exec starts afresh),
 * then counts it as reported.  Returns at once when another scan runs
 * (another thread, or `found` re-entered it).  Walks dl_iterate_phdr, so
 * it takes the loader's (recursive) lock: call it from the constructor and
 * from rare paths, never from a hot one.  No allocation. */
void modules_scan_new(void (*found)(const struct module_info *m));

/* Calls `gone` for every reported module no longer loaded (after a
 * dlclose) and forgets it, so a library loaded later at its address is
 * reported again.  `gone` gets bias, lo and hi (no path).  Same locking as
 * modules_scan_new. */
void modules_forget_gone(void (*gone)(const struct module_info *m));

/* 1 when a backtrace reaching `ip` calls for a new scan: no reported
 * module holds it (a library was dlopen'ed since) and the first scan has
 * run.  Cheap when `ip` is in the last module it was asked about. */
int modules_unknown_ip(uintptr_t ip);

/* Copies the path of the shim library itself into buf (empty string when
 * unknown). */
void modules_self_path(char *buf, size_t size);

/* Forgets every module reported (a new trace region after an attach:
 * shmtrace -p reports them all again).  From one thread, not while a scan
 * runs. */
void modules_reset(void);

#endif
