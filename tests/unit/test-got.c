/*
 * test-got.c - the GOT patcher (shim/got.h): this program's own call of
 * getppid through its GOT is pointed elsewhere, then restored; a second
 * patch of a patched slot, and restoring, end with the first value.
 */
#include "check.h"
#include "got.h"

#include <link.h>
#include <string.h>
#include <unistd.h>

static pid_t fake_getppid(void) { return -42; }
static pid_t other_getppid(void) { return -43; }

/* The call goes through the GOT (the function pointer is read at the
 * call), so the compiler cannot fold it. */
static pid_t (*volatile call_it)(void);

struct want {
	const struct got_symbol *table;
	unsigned patched;
};

static int patch_main(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct want *w = arg;
	(void)size;
	if (info->dlpi_name[0] == '\0')	/* the main program */
		w->patched += got_patch_module(info, w->table, 1, NULL);
	return 0;
}

static pid_t through_plt(void)
{
	return getppid();
}

int main(void)
{
	pid_t real = getppid();
	call_it = through_plt;
	struct got_symbol fake = { "getppid", (void *)fake_getppid };
	struct want w = { &fake, 0 };
	dl_iterate_phdr(patch_main, &w);
	CHECK(w.patched >= 1 && call_it() == -42 && got_patched() == w.patched,
	      "the main program's getppid slot patched (%u), calls go to the replacement",
	      w.patched);
	w.patched = 0;
	dl_iterate_phdr(patch_main, &w);
	CHECK(w.patched == 0, "a slot holding its replacement is not patched again");
	struct got_symbol other = { "getppid", (void *)other_getppid };
	w.table = &other;
	dl_iterate_phdr(patch_main, &w);
	CHECK(call_it() == -43, "patched twice: the second replacement holds");
	unsigned n = got_restore_all();
	CHECK(n >= 2 && got_patched() == 0 && call_it() == real,
	      "restore_all: every slot back to its first value (%u restored)", n);
	struct got_symbol none = { "no_such_symbol_here", (void *)fake_getppid };
	w.table = &none;
	w.patched = 0;
	dl_iterate_phdr(patch_main, &w);
	CHECK(w.patched == 0 && call_it() == real, "a symbol the module does not import: nothing");
	return check_exit();
}
