/* got.c - patch and restore GOT slots (see got.h). */
#include "got.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct {
	void **slot;
	void *old;
	int relro;		/* read-only outside our writes */
} got_log[GOT_LOG_MAX];
static unsigned got_nlog;

/* A dynamic-section pointer: glibc relocates most of them in place to
 * absolute addresses; some loaders (and read-only dynamic sections) leave
 * them relative to the load bias. */
static uintptr_t dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) p)
{
	return p < info->dlpi_addr ? info->dlpi_addr + p : p;
}

struct module_relocs {
	const ElfW(Sym) *symtab;
	const char *strtab;
	const ElfW(Rela) *jmprel, *rela;
	size_t njmprel, nrela;
	uintptr_t relro_lo, relro_hi;
};

static int read_dynamic(const struct dl_phdr_info *info, struct module_relocs *r)
{
	const ElfW(Dyn) *dyn = NULL;
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		if (ph->p_type == PT_GNU_RELRO) {
			r->relro_lo = info->dlpi_addr + ph->p_vaddr;
			r->relro_hi = r->relro_lo + ph->p_memsz;
		}
	}
	if (!dyn)
		return 0;
	size_t pltrelsz = 0, relasz = 0;
	int pltrel_is_rela = 1;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB: r->symtab = (const ElfW(Sym) *)dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_STRTAB: r->strtab = (const char *)dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_JMPREL: r->jmprel = (const ElfW(Rela) *)dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_PLTRELSZ: pltrelsz = dyn->d_un.d_val; break;
		case DT_PLTREL: pltrel_is_rela = dyn->d_un.d_val == DT_RELA; break;
		case DT_RELA: r->rela = (const ElfW(Rela) *)dyn_ptr(info, dyn->d_un.d_ptr); break;
		case DT_RELASZ: relasz = dyn->d_un.d_val; break;
		}
	}
	if (!r->symtab || !r->strtab || !pltrel_is_rela)
		return 0;
	r->njmprel = r->jmprel ? pltrelsz / sizeof(ElfW(Rela)) : 0;
	r->nrela = r->rela ? relasz / sizeof(ElfW(Rela)) : 0;
	return 1;
}

static int is_got_reloc(unsigned type)
{
#if defined(__x86_64__)
	return type == R_X86_64_JUMP_SLOT || type == R_X86_64_GLOB_DAT;
#elif defined(__aarch64__)
	return type == R_AARCH64_JUMP_SLOT || type == R_AARCH64_GLOB_DAT;
#else
	(void)type;
	return 0;
#endif
}

static const struct got_symbol *wanted(const char *name,
				       const struct got_symbol *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, table[i].name) == 0)
			return &table[i];
	return NULL;
}

static void write_slot(void **slot, void *value, int ro)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)slot & ~(uintptr_t)(page - 1);
	if (ro)
		syscall(SYS_mprotect, lo, (size_t)page, PROT_READ | PROT_WRITE);
	__atomic_store_n(slot, value, __ATOMIC_RELEASE);
	if (ro)
		syscall(SYS_mprotect, lo, (size_t)page, PROT_READ);
}

static unsigned patch_relocs(const struct dl_phdr_info *info,
			     const struct module_relocs *r,
			     const ElfW(Rela) *rel, size_t nrel,
			     const struct got_symbol *table, size_t n,
			     unsigned *skipped)
{
	unsigned done = 0;
	for (size_t i = 0; i < nrel; i++) {
		if (!is_got_reloc(ELF64_R_TYPE(rel[i].r_info)))
			continue;
		size_t symi = ELF64_R_SYM(rel[i].r_info);
		if (!symi)
			continue;
		const struct got_symbol *g =
			wanted(r->strtab + r->symtab[symi].st_name, table, n);
		if (!g)
			continue;
		void **slot = (void **)(info->dlpi_addr + rel[i].r_offset);
		if (*slot == g->replacement)
			continue;
		if (got_nlog >= GOT_LOG_MAX) {
			if (skipped)
				(*skipped)++;
			continue;
		}
		int ro = (uintptr_t)slot >= r->relro_lo && (uintptr_t)slot < r->relro_hi;
		got_log[got_nlog].slot = slot;
		got_log[got_nlog].old = *slot;
		got_log[got_nlog].relro = ro;
		got_nlog++;
		write_slot(slot, g->replacement, ro);
		done++;
	}
	return done;
}

unsigned got_patch_module(const struct dl_phdr_info *info,
			  const struct got_symbol *table, size_t n,
			  unsigned *skipped)
{
	struct module_relocs r;
	int saved = errno;
	unsigned done = 0;
	if (read_dynamic(info, &r)) {
		done += patch_relocs(info, &r, r.jmprel, r.njmprel, table, n, skipped);
		done += patch_relocs(info, &r, r.rela, r.nrela, table, n, skipped);
	}
	errno = saved;
	return done;
}

unsigned got_restore_all(void)
{
	int saved = errno;
	unsigned n = got_nlog;
	while (got_nlog) {
		got_nlog--;
		write_slot(got_log[got_nlog].slot, got_log[got_nlog].old,
			   got_log[got_nlog].relro);
	}
	errno = saved;
	return n;
}

unsigned got_patched(void)
{
	return got_nlog;
}
