/*
 * got.h - redirect a loaded module's calls by patching its GOT, and undo
 * it: the way heaptrack reaches code the preload does not (a library
 * dlopen'ed with RTLD_DEEPBIND binds mmap, shm_open... to libc before it
 * looks at the preloaded shim; `shmtrace -p` attaches to a process whose
 * modules were all bound long before).
 *
 * Contract:
 *   - got_patch_module() walks one module's dynamic relocations
 *     (DT_JMPREL and DT_RELA: JUMP_SLOT and GLOB_DAT entries) and, for each
 *     whose symbol is named in `table`, saves the GOT slot's address and old
 *     value in the patch log, then writes the table's replacement.  A slot
 *     inside PT_GNU_RELRO (read-only after relocation) is made writable for
 *     the write and read-only again.  A slot already holding its
 *     replacement is left alone and not logged.
 *   - got_restore_all() writes back every logged old value, newest first
 *     (a slot patched twice ends with its first value), and empties the log.
 *   - The log holds GOT_LOG_MAX entries; a patch that does not fit is not
 *     made (got_patch_module counts it in *skipped), so every patch made can
 *     be undone.
 *   - No allocation, no lock of its own: the caller serialises patching and
 *     restoring (the shim does both under the loader's lock, inside
 *     dl_iterate_phdr, or from one thread).  Raw mprotect; errno preserved.
 */
#ifndef SHMTRACE_GOT_H
#define SHMTRACE_GOT_H

#include <link.h>
#include <stddef.h>

#define GOT_LOG_MAX 4096

struct got_symbol {
	const char *name;	/* the symbol, as the module imports it */
	void *replacement;	/* what its GOT slot should hold */
};

/* Patches the GOT slots of module `info` whose symbol is one of the `n`
 * entries of `table`.  Returns the slots patched; *skipped (may be NULL)
 * gets the slots the log had no room for. */
unsigned got_patch_module(const struct dl_phdr_info *info,
			  const struct got_symbol *table, size_t n,
			  unsigned *skipped);

/* Writes every logged slot's old value back.  Returns how many. */
unsigned got_restore_all(void);

/* Slots patched and not restored. */
unsigned got_patched(void);

#endif
