/*
 * test-shim-self-calls.c - no call inside the shim goes through the shim's
 * own exported wrappers.
 *
 * The shim exports close, ftruncate, mmap...  Code of the shim that calls
 * one of them by name (the region code linked into it, say) binds, through
 * the PLT, to the shim's wrapper instead of the kernel: the call then runs
 * the recording path and the wrapper's dlsym on first use.  Such a call
 * shows as a dynamic relocation (JUMP_SLOT, GLOB_DAT...) against a symbol
 * the shim itself defines and exports.  This reads build/libshmtrace.so
 * with libelf and wants none.
 *
 *   test-shim-self-calls [SHIM]   (default: libshmtrace.so beside tests/)
 */
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* build/tests/test-shim-self-calls -> build/libshmtrace.so */
static void default_shim(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	snprintf(out, size, "%s/../libshmtrace.so", dirname(self));
}

static Elf_Scn *find_dynsym(Elf *e, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, shdr) && shdr->sh_type == SHT_DYNSYM)
			return scn;
	return NULL;
}

/* A symbol the shim defines and others may bind to. */
static bool exported(const GElf_Sym *sym)
{
	int bind = GELF_ST_BIND(sym->st_info);

	return sym->st_shndx != SHN_UNDEF &&
	       (bind == STB_GLOBAL || bind == STB_WEAK) &&
	       GELF_ST_VISIBILITY(sym->st_other) == STV_DEFAULT &&
	       GELF_ST_TYPE(sym->st_info) == STT_FUNC;
}

struct findings {
	size_t exports, relocs, self_bound;
	bool close_exported;
};

/* Check every relocation of one SHT_RELA/SHT_REL section against dynsym. */
static void check_relocs(Elf *e, Elf_Scn *scn, const GElf_Shdr *shdr,
			 Elf_Data *syms, size_t strtab, struct findings *f)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n = shdr->sh_entsize ? shdr->sh_size / shdr->sh_entsize : 0;

	for (size_t i = 0; data && i < n; i++) {
		GElf_Rela rela;
		GElf_Rel rel;
		GElf_Sym sym;
		uint64_t info;

		if (shdr->sh_type == SHT_RELA) {
			if (!gelf_getrela(data, (int)i, &rela))
				continue;
			info = rela.r_info;
		} else {
			if (!gelf_getrel(data, (int)i, &rel))
				continue;
			info = rel.r_info;
		}
		f->relocs++;
		if (!GELF_R_SYM(info) ||
		    !gelf_getsym(syms, (int)GELF_R_SYM(info), &sym) ||
		    !exported(&sym))
			continue;
		f->self_bound++;
		CHECK(false, "relocation %zu of section %zu binds to the shim's "
		      "own '%s'", i, elf_ndxscn(scn),
		      elf_strptr(e, strtab, sym.st_name));
	}
}

static int scan(const char *path, struct findings *f)
{
	GElf_Shdr dynsym_shdr, shdr;
	Elf_Scn *dynsym, *scn = NULL;
	Elf_Data *syms;
	Elf *e;
	int fd;

	memset(f, 0, sizeof(*f));
	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	e = elf_begin(fd, ELF_C_READ, NULL);
	dynsym = e ? find_dynsym(e, &dynsym_shdr) : NULL;
	syms = dynsym ? elf_getdata(dynsym, NULL) : NULL;
	if (!syms) {
		elf_end(e);
		close(fd);
		return -1;
	}
	for (size_t i = 0; i < dynsym_shdr.sh_size / dynsym_shdr.sh_entsize; i++) {
		GElf_Sym sym;

		if (!gelf_getsym(syms, (int)i, &sym) || !exported(&sym))
			continue;
		f->exports++;
		if (!strcmp(elf_strptr(e, dynsym_shdr.sh_link, sym.st_name), "close"))
			f->close_exported = true;
	}
	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &shdr) ||
		    (shdr.sh_type != SHT_RELA && shdr.sh_type != SHT_REL) ||
		    shdr.sh_link != elf_ndxscn(dynsym))
			continue;
		check_relocs(e, scn, &shdr, syms, dynsym_shdr.sh_link, f);
	}
	elf_end(e);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX + 32];
	struct findings f;

	if (argc > 1)
		snprintf(path, sizeof(path), "%s", argv[1]);
	else
		default_shim(path, sizeof(path));
	CHECK(scan(path, &f) == 0, "read the dynamic symbols of %s", path);
	CHECK(f.exports >= 30 && f.close_exported,
	      "the shim exports its wrappers, close among them (%zu)", f.exports);
	CHECK(f.relocs > 0, "the shim has dynamic relocations to check (%zu)",
	      f.relocs);
	CHECK(f.self_bound == 0,
	      "no call of the shim binds to the shim's own exports (%zu do)",
	      f.self_bound);
	return check_exit();
}
