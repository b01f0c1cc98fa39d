/*
 * find.c - finding what the launcher runs: the program (as execvp would),
 * the shim and the viewer beside the launcher, and whether the program can
 * be traced at all.
 */
#include "launcher.h"

#include <stdbool.h>


#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int find_program(const char *prog, char *buf, size_t size)
{
	if (strchr(prog, '/')) {
		struct stat st;
		snprintf(buf, size, "%s", prog);
		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) {
			errno = EISDIR;	/* root may "execute" a directory */
			return -1;
		}
		return access(buf, X_OK);
	}
	const char *path = getenv("PATH");
	int err = ENOENT;
	for (const char *p = path ? path : "/usr/bin:/bin"; ; p++) {
		size_t len = strcspn(p, ":");
		snprintf(buf, size, "%.*s%s%s", (int)len, p, len ? "/" : "", prog);
		struct stat st;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(buf, X_OK) == 0)
				return 0;
			err = EACCES;
		}
		p += len;
		if (!*p)
			break;
	}
	errno = err;
	return -1;
}

/* The first of `places` (printf formats taking the launcher's directory)
 * that exists with access `mode`, into buf; or the path in environment
 * variable `env` when it is set.  Returns 0 or -1. */
static int find_beside(const char *env_name, const char *const *places,
		       unsigned nplaces, int mode, char *buf, size_t size)
{
	const char *env = getenv(env_name);
	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return access(buf, mode);
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	*strrchr(self, '/') = 0;
	for (unsigned i = 0; i < nplaces; i++) {
		int n = snprintf(buf, size, places[i], self);
		if (n > 0 && (size_t)n < size && access(buf, mode) == 0)
			return 0;
	}
	return -1;
}

/* Why LD_PRELOAD cannot reach the program at `path`, or NULL: the loader
 * ignores it for a setuid/setgid program that changes our identity, and a
 * statically linked program has no loader at all. */
const char *untraceable(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return NULL;
	if ((st.st_mode & S_ISUID) && st.st_uid != geteuid())
		return "is setuid: the loader drops LD_PRELOAD for it";
	if ((st.st_mode & S_ISGID) && st.st_gid != getegid())
		return "is setgid: the loader drops LD_PRELOAD for it";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	Elf64_Ehdr eh;
	const char *why = NULL;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
		why = "is statically linked: no dynamic loader, so no LD_PRELOAD";
		for (unsigned i = 0; i < eh.e_phnum && i < 256; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
			    (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC) {
				why = NULL;
				break;
			}
		}
	}
	close(fd);
	return why;
}

/* The shim beside the launcher (build/), in an install's lib dir
 * (PREFIX/bin/shmtrace finds PREFIX/lib/shmtrace/libshmtrace.so), or
 * SHMTRACE_LIB; as an absolute path without "..", since LD_PRELOAD must
 * still name it after the program changes directory.  The loader splits
 * LD_PRELOAD at spaces and colons, so a path with one cannot be used. */
#if defined(__x86_64__)
#define EM_NATIVE EM_X86_64
#define SHIM_MACHINE_NAME "x86-64"
#elif defined(__aarch64__)
#define EM_NATIVE EM_AARCH64
#define SHIM_MACHINE_NAME "aarch64"
#else
#define EM_NATIVE eh.e_machine	/* no check of the machine elsewhere */
#define SHIM_MACHINE_NAME "64-bit"
#endif

/* Whether `path` is an ELF shared object of our class and machine: the
 * loader ignores any other file in LD_PRELOAD, and the program would run
 * untraced. */
static bool is_our_shared_object(const char *path)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
		  memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
		  eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_type == ET_DYN &&
		  eh.e_machine == EM_NATIVE;
	close(fd);
	return ok;
}

int find_shim(char *buf, size_t size)
{
	static const char *const places[] = { "%s/libshmtrace.so",
		"%s/../lib/shmtrace/libshmtrace.so" };
	char found[PATH_MAX], real[PATH_MAX];
	const char *env = getenv("SHMTRACE_LIB");
	if (env && *env && access(env, R_OK) != 0) {
		error("cannot use SHMTRACE_LIB '%s': %s", env, strerror(errno));
		return -1;
	}
	if (find_beside("SHMTRACE_LIB", places, 2, R_OK, found, sizeof(found)) ||
	    !realpath(found, real)) {
		error("cannot find libshmtrace.so beside the launcher nor in "
		      "../lib/shmtrace/ (set SHMTRACE_LIB)");
		return -1;
	}
	if (!is_our_shared_object(real)) {
		error("'%s' is not an ELF shared library for %s: the loader would "
		      "ignore it and the program run untraced", real,
		      SHIM_MACHINE_NAME);
		return -1;
	}
	if (strpbrk(real, " :")) {
		error("the shim's path '%s' has a space or a colon, which "
		      "LD_PRELOAD cannot carry", real);
		return -1;
	}
	int n = snprintf(buf, size, "%s", real);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The viewer beside the launcher (build/ or an install's bin dir, where
 * PREFIX/bin/shmtrace finds PREFIX/bin/shmview), or SHMTRACE_VIEWER. */
int find_viewer(char *buf, size_t size)
{
	static const char *const places[] = { "%s/shmview", "%s/../bin/shmview" };
	char found[PATH_MAX];
	if (find_beside("SHMTRACE_VIEWER", places, 2, X_OK, found, sizeof(found)))
		return -1;
	char *real = realpath(found, NULL);
	int n = snprintf(buf, size, "%s", real ? real : found);
	free(real);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

void viewer_hint(const char *self, char *buf, size_t size)
{
	char viewer[PATH_MAX], onpath[PATH_MAX], typed[PATH_MAX];
	struct stat a, b;
	snprintf(buf, size, "shmview");
	if (find_viewer(viewer, sizeof(viewer)) || stat(viewer, &a) != 0)
		return;
	/* as the user reached us: "build/shmtrace" -> "build/shmview" */
	const char *slash = self ? strrchr(self, '/') : NULL;
	if (slash) {
		snprintf(typed, sizeof(typed), "%.*s/shmview", (int)(slash - self), self);
		if (stat(typed, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			snprintf(buf, size, "%s", typed);
			return;
		}
	}
	if (find_program("shmview", onpath, sizeof(onpath)) == 0 &&
	    stat(onpath, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return;	/* "shmview" is this one */
	snprintf(buf, size, "%s", viewer);
}

void default_output(const struct options *o, char *buf, size_t size)
{
	if (!o->argv[0]) {	/* -p: the first target's name */
		char comm[64] = "pid";
		parent_of(o->pids[0], comm, sizeof(comm));
		for (char *c = comm; *c; c++)
			if (*c == '/' || *c == ' ')
				*c = '_';
		snprintf(buf, size, "shmtrace.%s.%d.trace", comm, (int)o->pids[0]);
		return;
	}
	const char *base = strrchr(o->argv[0], '/');
	snprintf(buf, size, "shmtrace.%s.%d.trace", base ? base + 1 : o->argv[0],
		 (int)getpid());
}
