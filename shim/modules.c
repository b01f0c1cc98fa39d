/* modules.c - enumerate the loaded ELF modules of a traced process. */
#include "modules.h"

#include <elf.h>
#include <link.h>
#include <limits.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MODULES_MAX 1024

/* The modules this process has reported.  A fork child inherits the table
 * with the modules it inherits; an exec starts afresh.  Appended under the
 * scanning flag only, read without it. */
static struct {
	uintptr_t lo, hi, bias;
	int present;		/* seen by the running modules_forget_gone */
} known[MODULES_MAX];
static unsigned nknown;
static int scanning;
static uintptr_t last_lo, last_hi;	/* the last module asked about */

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static int is_known(uintptr_t lo)
{
	unsigned n = __atomic_load_n(&nknown, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++)
		if (known[i].lo == lo)
			return 1;
	return 0;
}

/* Finds the GNU build-id note among a module's program headers.  Returns
 * its length (0 if none) and copies at most SHMT_BUILD_ID_MAX bytes. */
static size_t find_build_id(const struct dl_phdr_info *info, uint8_t *out)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		const char *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof(*nh);
			const char *desc = name + ((nh->n_namesz + 3) & ~3u);
			p = desc + ((nh->n_descsz + 3) & ~3u);
			if (p > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0) {
				size_t n = nh->n_descsz;
				memcpy(out, desc, n < SHMT_BUILD_ID_MAX ? n : SHMT_BUILD_ID_MAX);
				return n < SHMT_BUILD_ID_MAX ? n : SHMT_BUILD_ID_MAX;
			}
		}
	}
	return 0;
}

static void extent(const struct dl_phdr_info *info, uintptr_t *lo, uintptr_t *hi)
{
	*lo = UINTPTR_MAX;
	*hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < *lo)
			*lo = a;
		if (a + ph->p_memsz > *hi)
			*hi = a + ph->p_memsz;
	}
}

static int report_one(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	void (*const *found)(const struct module_info *) = data;
	uintptr_t lo, hi;
	extent(info, &lo, &hi);
	if (hi == 0 || is_known(lo) || nknown >= MODULES_MAX)
		return 0;
	char exe[PATH_MAX];
	const char *path = info->dlpi_name;
	if (!path || !*path) {	/* the main program */
		long n = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = 0;
		path = exe;
	}
	struct module_info m = {
		.path = path, .bias = info->dlpi_addr, .lo = lo, .hi = hi,
	};
	m.build_id_len = (uint32_t)find_build_id(info, m.build_id);
	(*found)(&m);
	known[nknown].lo = lo;
	known[nknown].hi = hi;
	known[nknown].bias = info->dlpi_addr;
	__atomic_store_n(&nknown, nknown + 1, __ATOMIC_RELEASE);
	return 0;
}

void modules_scan_new(void (*found)(const struct module_info *m))
{
	if (__atomic_exchange_n(&scanning, 1, __ATOMIC_ACQUIRE))
		return;		/* another thread, or we re-entered */
	dl_iterate_phdr(report_one, &found);
	__atomic_store_n(&scanning, 0, __ATOMIC_RELEASE);
}

static int mark_present(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	uintptr_t lo, hi;
	extent(info, &lo, &hi);
	for (unsigned i = 0; i < nknown; i++)
		if (known[i].lo == lo && known[i].hi == hi &&
		    known[i].bias == info->dlpi_addr)
			known[i].present = 1;
	return 0;
}

void modules_forget_gone(void (*gone)(const struct module_info *m))
{
	if (__atomic_exchange_n(&scanning, 1, __ATOMIC_ACQUIRE))
		return;
	for (unsigned i = 0; i < nknown; i++)
		known[i].present = 0;
	dl_iterate_phdr(mark_present, NULL);
	unsigned keep = 0;
	for (unsigned i = 0; i < nknown; i++) {
		if (known[i].present) {
			known[keep++] = known[i];
			continue;
		}
		struct module_info m = { .path = "", .bias = known[i].bias,
					 .lo = known[i].lo, .hi = known[i].hi };
		gone(&m);
	}
	/* readers racing with this only see a spurious unknown ip (a scan) */
	__atomic_store_n(&nknown, keep, __ATOMIC_RELEASE);
	__atomic_store_n(&last_lo, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&last_hi, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&scanning, 0, __ATOMIC_RELEASE);
}

int modules_unknown_ip(uintptr_t ip)
{
	if (ip >= __atomic_load_n(&last_lo, __ATOMIC_RELAXED) &&
	    ip < __atomic_load_n(&last_hi, __ATOMIC_RELAXED))
		return 0;
	unsigned n = __atomic_load_n(&nknown, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++) {
		if (ip >= known[i].lo && ip < known[i].hi) {
			/* racy pair, benign: a mismatch only costs a lookup */
			__atomic_store_n(&last_lo, known[i].lo, __ATOMIC_RELAXED);
			__atomic_store_n(&last_hi, known[i].hi, __ATOMIC_RELAXED);
			return 0;
		}
	}
	return n != 0;		/* before the constructor's scan: leave it */
}

struct self_query {
	char *buf;
	size_t size;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct self_query *q = data;
	uintptr_t lo, hi, me = (uintptr_t)__ehdr_start;
	extent(info, &lo, &hi);
	if (me < lo || me >= hi || !info->dlpi_name)
		return 0;
	size_t n = strlen(info->dlpi_name);
	if (n < q->size)
		memcpy(q->buf, info->dlpi_name, n + 1);
	return 1;
}

void modules_self_path(char *buf, size_t size)
{
	char rel[PATH_MAX];
	struct self_query q = { rel, sizeof(rel) };
	rel[0] = buf[0] = 0;
	dl_iterate_phdr(find_self, &q);
	if (!rel[0])
		return;
	/* absolute, so an exec after chdir still finds it */
	size_t at = 0;
	if (rel[0] != '/' && syscall(SYS_getcwd, buf, size) > 0) {
		at = strlen(buf);
		if (at + 1 < size)
			buf[at++] = '/';
	}
	if (at + strlen(rel) < size)
		strcpy(buf + at, rel);
	else
		buf[0] = 0;
}

void modules_reset(void)
{
	__atomic_store_n(&nknown, 0, __ATOMIC_RELEASE);
	last_lo = last_hi = 0;
}
