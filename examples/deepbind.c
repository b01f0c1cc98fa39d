/*
 * deepbind.c - load a library with RTLD_DEEPBIND and let it share memory.
 *
 *   deepbind /NAME [LIBRARY]
 *
 * Opens LIBRARY (default: libshmt-deepbind.so beside this program) with
 * RTLD_NOW | RTLD_DEEPBIND and calls its shmt_deepbind_work(NAME): a
 * POSIX object and an anonymous shared zone made, used and removed
 * inside the library, whose calls bind to libc first.
 */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char self[PATH_MAX], lib[PATH_MAX + 32];
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: deepbind /NAME [LIBRARY]\n");
		return 2;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 1;
	self[n] = '\0';
	if (argc == 3)
		snprintf(lib, sizeof(lib), "%s", argv[2]);
	else
		snprintf(lib, sizeof(lib), "%s/libshmt-deepbind.so", dirname(self));
	void *h = dlopen(lib, RTLD_NOW | RTLD_DEEPBIND);
	if (!h) {
		fprintf(stderr, "deepbind: %s\n", dlerror());
		return 1;
	}
	int (*work)(const char *) = (int (*)(const char *))dlsym(h, "shmt_deepbind_work");
	if (!work || work(argv[1]) != 0) {
		fprintf(stderr, "deepbind: the library's work failed\n");
		return 1;
	}
	printf("deepbind: the library shared and removed %s\n", argv[1]);
	return 0;
}
