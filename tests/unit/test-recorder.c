/*
 * test-recorder.c - the shim's recorder core and region code, tested
 * directly (no preloading), the way heaptrack tests its core.
 */
#include "check.h"
#include "recorder.h"
#include "region.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char dir[] = "/tmp/shmtrace-test-XXXXXX";

static void path_in_dir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void test_layout(void)
{
	struct region_layout l;
	CHECK(region_layout(1000, 16, &l) == -1, "a region below the minimum is refused");
	CHECK(region_layout(1 << 20, SHMT_MAX_DEPTH + 1, &l) == -1, "too deep is refused");
	uint64_t def = region_default_size(REGION_DEFAULT_EVENTS, 16);
	CHECK(region_layout(def, 16, &l) == 0 && l.slot_capacity >= REGION_DEFAULT_EVENTS,
	      "the default size holds a million events (%llu)",
	      (unsigned long long)l.slot_capacity);
	CHECK(l.arena_offset == l.slot_offset + l.slot_capacity * l.slot_size &&
	      l.arena_offset + l.arena_size == l.total_size,
	      "header, slots and arena tile the region");
}

static void test_create_file(void)
{
	char p[512], target[512], link_path[512];
	struct stat st;
	path_in_dir(p, sizeof(p), "a.trace");
	int fd = region_create_file(p, 1 << 16, 0);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600 &&
	      st.st_size == 1 << 16, "a new trace file is 0600 and sized");
	close(fd);
	errno = 0;
	CHECK(region_create_file(p, 1 << 16, 0) < 0 && errno == EEXIST,
	      "an existing file is not overwritten");
	fd = region_create_file(p, 1 << 16, 1);
	CHECK(fd >= 0, "--force overwrites an existing file");
	close(fd);

	path_in_dir(target, sizeof(target), "target");
	path_in_dir(link_path, sizeof(link_path), "link.trace");
	close(open(target, O_CREAT | O_WRONLY, 0644));
	CHECK(symlink(target, link_path) == 0, "made a symlink");
	errno = 0;
	CHECK(region_create_file(link_path, 1 << 16, 0) < 0 && errno == EEXIST,
	      "a symlink is never followed");
	fd = region_create_file(link_path, 1 << 16, 1);
	CHECK(fd >= 0 && lstat(link_path, &st) == 0 && S_ISREG(st.st_mode) &&
	      stat(target, &st) == 0 && st.st_size == 0,
	      "--force replaces the link itself, the target is untouched");
	close(fd);
	errno = 0;
	CHECK(region_create_file(dir, 1 << 16, 1) < 0 && errno == EISDIR,
	      "--force does not remove a directory");
}

static void test_check_header(void)
{
	struct region_layout l;
	region_layout(1 << 16, 4, &l);
	struct shmt_header *h = calloc(1, 1 << 16);
	char why[160];
	region_init_header(h, &l, 0);
	CHECK(region_check_header(h, 1 << 16, why, sizeof(why)) == 0, "a fresh header checks");
	CHECK(region_check_header(h, 1 << 15, why, sizeof(why)) != 0 && strstr(why, "truncated"), "a truncated region is refused");
	h->version = 99;
	CHECK(region_check_header(h, 1 << 16, why, sizeof(why)) != 0, "a wrong version is refused");
	h->version = SHMT_VERSION;
	h->magic[0] = 'X';
	CHECK(region_check_header(h, 1 << 16, why, sizeof(why)) != 0, "a bad magic is refused");
	h->magic[0] = 'S';
	h->slot_capacity = UINT64_MAX / 8;
	CHECK(region_check_header(h, 1 << 16, why, sizeof(why)) != 0, "an overflowing capacity is refused");
	free(h);
}

/* --- the recorder, on a small region of its own --------------------------- */

static struct shmt_header *H;

static struct shmt_event *slot(uint64_t seq1)
{
	return (struct shmt_event *)((char *)H + H->slot_offset +
				     (seq1 - 1) * H->slot_size);
}

static void map_region(void)
{
	char p[512];
	struct region_layout l;
	path_in_dir(p, sizeof(p), "region");
	region_layout(256 * 1024, 8, &l);
	int fd = region_create_file(p, l.total_size, 0);
	H = region_map(fd, l.total_size);
	close(fd);
	region_init_header(H, &l, 0);
	setenv("SHMTRACE_REGION", p, 1);
}

static uint64_t record(uint16_t call, int64_t ret, int err, const char *s)
{
	struct rec_ctx c;
	if (!rec_begin(&c))
		return 0;
	struct rec_event ev = { .call = call, .ret = ret, .err = err,
				.args = { 1, 2, 3, 4, 5, 6, 7, 8 },
				.str = s, .str_len = s ? strlen(s) : 0 };
	return rec_end(&c, &ev);
}

static void test_record(void)
{
	CHECK(rec_enabled(), "the recorder attaches to SHMTRACE_REGION");
	rec_stacks_ready();
	errno = 42;
	uint64_t seq = record(SHMT_CALL_SHM_OPEN, 3, 0, "/name");
	CHECK(errno == 42, "recording preserves errno");
	struct shmt_event *e = slot(seq);
	CHECK(seq && e->commit == seq && e->call == SHMT_CALL_SHM_OPEN &&
	      e->ret == 3 && e->pid == getpid() &&
	      e->tid == (pid_t)syscall(SYS_gettid) &&
	      e->args[SHMT_ARG_COUNT - 1] == 8,
	      "an event is committed with its fields");
	CHECK(e->str_len == 5 && memcmp((char *)H + H->arena_offset + e->str_off,
					"/name", 5) == 0, "its string is in the arena");
	CHECK(e->nframes > 0 && e->nframes <= 8, "it has a backtrace (%u frames)",
	      e->nframes);

	struct rec_ctx outer, inner;
	rec_begin(&outer);
	rec_begin(&inner);
	struct rec_event ev = { .call = SHMT_CALL_MMAP };
	uint64_t in = rec_end(&inner, &ev);
	uint64_t out = rec_end(&outer, &ev);
	CHECK(slot(in)->nframes == 0 && (slot(in)->flags & SHMT_EVF_NESTED) &&
	      H->nested == 1, "a nested call is recorded without a stack, and counted");
	CHECK(slot(out)->nframes > 0, "the outer call keeps its stack");
}

#define THREADS 4
#define PER_THREAD 100

static void *thread_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		record(SHMT_CALL_SHMCTL, -1, EINVAL, NULL);
	return NULL;
}

static void test_threads(void)
{
	uint64_t before = H->head;
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, thread_main, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	uint64_t ok = 0;
	for (uint64_t s = before + 1; s <= H->head; s++)
		ok += slot(s)->commit == s && slot(s)->err == EINVAL;
	CHECK(H->head - before == THREADS * PER_THREAD && ok == THREADS * PER_THREAD,
	      "%d threads: every event has its own committed slot", THREADS);
}

static void test_full(void)
{
	/* strings are cut when the arena is full, and counted */
	H->arena_head = H->arena_size - 2;
	uint64_t sd = H->strings_dropped;
	uint64_t seq = record(SHMT_CALL_SHM_UNLINK, 0, 0, "/too-long-for-the-arena");
	CHECK(H->strings_dropped == sd + 1 && (slot(seq)->flags & SHMT_EVF_STR_TRUNC) &&
	      slot(seq)->str_len == 0, "a string that does not fit is counted and flagged");

	uint64_t attempts = 0, recorded = 0, start = H->head;
	while (H->dropped < 50) {
		attempts++;
		recorded += record(SHMT_CALL_SHMGET, 1, 0, NULL) != 0;
	}
	CHECK(start + recorded == H->slot_capacity && recorded + H->dropped == attempts,
	      "a full region drops and counts exactly (%llu kept, %llu dropped)",
	      (unsigned long long)recorded, (unsigned long long)H->dropped);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_layout();
	test_create_file();
	test_check_header();
	map_region();
	test_record();
	test_threads();
	test_full();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0, "cleaned up");
	return check_exit();
}
