/*
 * procseen.c - what the kernel shows that the shim cannot: glibc's own
 * mmap (gconv, nss), raw syscall(), a static part.  On every copy-out tick
 * the launcher reads /proc/PID/maps of each traced process still alive and
 * records each shared mapping it has not recorded for that process before
 * (SHMT_CALL_PROC_SEEN: no stack, the tick's time).  The viewer keeps the
 * ones no traced call explains, flagged "seen in /proc only".
 */
#include "launcher.h"
#include "clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct seen {
	int32_t pid;
	uint64_t lo, hi, ino;
};

static struct {
	int32_t *pids;			/* traced and not reaped */
	size_t npids, pid_cap;
	int32_t *reaped;		/* gone: a fork event read late must
					   not bring one back */
	size_t nreaped, reaped_cap;
	struct seen *maps;		/* recorded already */
	size_t nmaps, map_cap;
	uint64_t scanned;		/* slots looked at for pids */
	uint64_t region_ino;		/* the trace region: never recorded */
} S;

static void *grow(void *p, size_t *cap, size_t elem)
{
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(p, *cap * elem);
	if (!p) {
		error("out of memory");
		exit(EXIT_SETUP);
	}
	return p;
}

static void add_pid(int32_t pid)
{
	for (size_t i = 0; i < S.npids; i++)
		if (S.pids[i] == pid)
			return;
	if (S.npids == S.pid_cap)
		S.pids = grow(S.pids, &S.pid_cap, sizeof(*S.pids));
	S.pids[S.npids++] = pid;
}

static int was_reaped(int32_t pid)
{
	for (size_t i = 0; i < S.nreaped; i++)
		if (S.reaped[i] == pid)
			return 1;
	return 0;
}

void procseen_reaped(pid_t pid)
{
	if (!was_reaped(pid)) {
		if (S.nreaped == S.reaped_cap)
			S.reaped = grow(S.reaped, &S.reaped_cap, sizeof(*S.reaped));
		S.reaped[S.nreaped++] = pid;
	}
	for (size_t i = 0; i < S.npids; i++)
		if (S.pids[i] == pid) {
			S.pids[i] = S.pids[--S.npids];
			break;
		}
	for (size_t i = 0; i < S.nmaps;)
		if (S.maps[i].pid == pid)
			S.maps[i] = S.maps[--S.nmaps];
		else
			i++;
}

/* The processes that recorded events since the last tick, and the
 * children their fork and spawn events name. */
static void learn_pids(struct live *L)
{
	uint64_t head = used_slots(L);
	pid_t self = getpid();
	for (; S.scanned < head; S.scanned++) {
		const struct shmt_event *ev = region_slot(L->h, &L->layout, S.scanned);
		if (__atomic_load_n(&ev->commit, __ATOMIC_ACQUIRE) != S.scanned + 1)
			break;	/* still being written: next tick */
		if (ev->pid != self && ev->pid > 0 && ev->call != SHMT_CALL_PROC_SEEN)
			add_pid(ev->pid);
		/* a child that records nothing itself is traced all the same,
		 * unless it is gone already (its pid may be another's now) */
		int32_t child = 0;
		if ((ev->call == SHMT_CALL_FORK || ev->call == SHMT_CALL_VFORK) &&
		    !(ev->flags & SHMT_EVF_CHILD) && ev->ret > 0)
			child = (int32_t)ev->ret;
		if (ev->call == SHMT_CALL_POSIX_SPAWN && ev->ret == 0)
			child = (int32_t)ev->args[SHMT_ARG_SPAWN_PID];
		if (child > 0 && !was_reaped(child))
			add_pid(child);
	}
}

static int known(int32_t pid, uint64_t lo, uint64_t hi, uint64_t ino)
{
	for (size_t i = 0; i < S.nmaps; i++)
		if (S.maps[i].pid == pid && S.maps[i].lo == lo &&
		    S.maps[i].hi == hi && S.maps[i].ino == ino)
			return 1;
	if (S.nmaps == S.map_cap)
		S.maps = grow(S.maps, &S.map_cap, sizeof(*S.maps));
	S.maps[S.nmaps++] = (struct seen){ pid, lo, hi, ino };
	return 0;
}

static uint64_t stamp(const struct live *L)
{
	return L->tsc ? clock_ticks() : clock_now_ns();
}

/* The mapping read from the maps that began to be read at `t0`: it was
 * there at some moment between t0 and now, which the event's time and
 * duration say (the viewer explains it by a traced mapping live at any
 * moment of that span). */
/* A SysV segment's key and creator from /proc/sysvipc/shm; 0 when not
 * listed. */
static int sysv_identity(uint64_t shmid, uint64_t *key, int64_t *cpid)
{
	char line[512];
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	int found = 0;
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		long long k;
		unsigned long long id;
		int cp;
		if (sscanf(line, "%lld %llu %*o %*u %d", &k, &id, &cp) == 3 &&
		    id == shmid) {
			*key = (uint64_t)(uint32_t)k;
			*cpid = cp;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

static void record(struct live *L, int32_t pid, uint64_t lo, uint64_t hi,
		   const char *perms, uint64_t off, unsigned maj, unsigned mnr,
		   uint64_t ino, const char *path, uint64_t t0, int before)
{
	uint64_t i;
	if (!region_reserve(L->h, &L->layout, &i))
		return;
	struct shmt_event *e = region_slot(L->h, &L->layout, i);
	memset((char *)e + sizeof(e->commit), 0, SHMT_EVENT_FIXED - sizeof(e->commit));
	e->time_ns = t0;
	e->duration_ns = stamp(L) - t0;
	e->pid = e->tid = pid;
	e->call = SHMT_CALL_PROC_SEEN;
	e->args[SHMT_ARG_PROC_SEEN_ADDR] = lo;
	e->args[SHMT_ARG_PROC_SEEN_LENGTH] = hi - lo;
	e->args[SHMT_ARG_PROC_SEEN_PROT] = (perms[0] == 'r' ? PROT_READ : 0) |
		(perms[1] == 'w' ? PROT_WRITE : 0) | (perms[2] == 'x' ? PROT_EXEC : 0);
	e->args[SHMT_ARG_PROC_SEEN_DEV] = makedev(maj, mnr);
	e->args[SHMT_ARG_PROC_SEEN_OFFSET] = off;
	e->args[SHMT_ARG_PROC_SEEN_INODE] = ino;
	e->args[SHMT_ARG_PROC_SEEN_BEFORE] = (uint64_t)before;
	if (before && strncmp(path, "/SYSV", 5) == 0)
		sysv_identity(ino, &e->args[SHMT_ARG_PROC_SEEN_KEY], &e->ret);
	size_t len = strlen(path);
	if (len > SHMT_MAX_STRING)
		len = SHMT_MAX_STRING;
	uint64_t at = __atomic_fetch_add(&L->h->arena_head, len, __ATOMIC_RELAXED);
	if (len && at <= L->layout.arena_size && len <= L->layout.arena_size - at) {
		memcpy((char *)L->h + L->layout.arena_offset + at, path, len);
		e->str_off = (uint32_t)at;
		e->str_len = (uint32_t)len;
	}
	__atomic_fetch_add(&L->h->proc_seen, 1, __ATOMIC_RELAXED);
	region_commit(e, i);
}

static void sample(struct live *L, int32_t pid, int before)
{
	char path[64], line[4096 + 256];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	uint64_t t0 = stamp(L);
	FILE *f = fopen(path, "re");
	if (!f)
		return;	/* gone: its reaping will say so */
	while (fgets(line, sizeof(line), f)) {
		uint64_t lo, hi, off, ino;
		unsigned maj, mnr;
		char perms[8];
		int n = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 "%n",
			   &lo, &hi, perms, &off, &maj, &mnr, &ino, &n) < 7 ||
		    strlen(perms) < 4 || perms[3] != 's' || ino == S.region_ino)
			continue;
		char *p = line + n;
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, "\n")] = '\0';
		if (!known(pid, lo, hi, ino))
			record(L, pid, lo, hi, perms, off, maj, mnr, ino, p, t0,
			       before);
	}
	fclose(f);
}

static void know_region(struct live *L)
{
	if (!S.region_ino) {
		struct stat st;
		if (fstat(L->mem_fd, &st) == 0)
			S.region_ino = st.st_ino;
	}
}

void procseen_tick(struct live *L)
{
	know_region(L);
	learn_pids(L);
	for (size_t i = 0; i < S.npids; i++)
		sample(L, S.pids[i], 0);
}

void procseen_seed(struct live *L, pid_t pid)
{
	know_region(L);
	add_pid(pid);
	sample(L, pid, 1);
}

size_t procseen_pids(struct live *L, const int32_t **pids)
{
	learn_pids(L);
	*pids = S.pids;
	return S.npids;
}
