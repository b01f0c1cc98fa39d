/*
 * modules.h - which ELF modules a traced process has loaded, recorded as
 * SHMT_CALL_MODULE events (path, load bias, extent, build-id) so the viewer
 * can symbolize backtraces offline, after the process is gone.
 */
#ifndef SHMTRACE_MODULES_H
#define SHMTRACE_MODULES_H

#include <stddef.h>
#include <stdint.h>

/* Records every loaded module not recorded yet by this process.  Walks
 * dl_iterate_phdr, so it takes the loader's (recursive) lock: call it from
 * the constructor and from rare paths, never from a hot one. */
void modules_record_all(void);

/* Notes that a backtrace reached `ip`: when no recorded module holds it (a
 * library was dlopen'ed since), records the new modules.  Cheap when `ip`
 * is in the last module it was asked about. */
void modules_note_ip(uintptr_t ip);

/* Copies the path of the shim library itself into buf (empty string when
 * unknown). */
void modules_self_path(char *buf, size_t size);

#endif
