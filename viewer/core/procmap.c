/*
 * procmap.c - the attach map of running processes from /proc (see
 * procmap.h).
 *
 * Each shared line of /proc/PID/maps becomes a live attachment of one
 * segment per kernel object, found again by (kind, device, inode): the
 * kernel gives every SysV segment, POSIX object, memfd and shared
 * anonymous region an inode of its own, and a fork's child shows the same
 * one as its parent.  Nothing here is history: what a process mapped and
 * unmapped before this moment is gone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <uthash.h>

#include "kernel.h"
#include "model.h"
#include "procmap.h"
#include "util.h"

struct obj_key {
	enum seg_kind kind;
	uint64_t dev, inode;
};

struct obj {
	struct obj_key key;
	struct segment *seg;
	uint64_t extent;        /* largest offset + length mapped */
	bool deleted;           /* POSIX: unlinked since */
	char *path;             /* SEG_FILE: the path, to stat it */
	UT_hash_handle hh;
};

struct procmap {
	struct model *m;
	const struct kernel_view *k;
	struct obj *objs;
	struct process *proc;   /* the one procmap_add_maps() is reading */
	int added;
};

struct procmap *procmap_begin(struct model *m, const struct kernel_view *k)
{
	struct procmap *pm = xcalloc(1, sizeof(*pm));

	pm->m = m;
	pm->k = k;
	m->from_proc = true;
	m->running = true;
	return pm;
}

static enum seg_kind seg_kind_of(enum kernel_map_kind k)
{
	switch (k) {
	case KMAP_SYSV:  return SEG_SYSV;
	case KMAP_POSIX: return SEG_POSIX;
	case KMAP_MEMFD: return SEG_MEMFD;
	case KMAP_ANON:  return SEG_ANON;
	default:         return SEG_FILE;
	}
}

/* The segment of the object mapped by `km`, made on first sight. */
static struct obj *object_of(struct procmap *pm, const struct kernel_map *km)
{
	struct obj_key key;
	struct obj *o;

	memset(&key, 0, sizeof(key));
	key.kind = seg_kind_of(km->kind);
	/* /dev/shm/sem.NAME is the named semaphore "/NAME", as a trace has it */
	bool sem = km->kind == KMAP_POSIX && km->name && strncmp(km->name, "/sem.", 5) == 0;
	if (sem)
		key.kind = SEG_SEM;
	key.dev = makedev(km->dev_major, km->dev_minor);
	key.inode = km->inode;
	HASH_FIND(hh, pm->objs, &key, sizeof(key), o);
	if (o)
		return o;
	o = xcalloc(1, sizeof(*o));
	o->key = key;
	o->seg = model_add_segment(pm->m, key.kind);
	o->seg->inode = km->inode;
	o->seg->dev = key.dev;
	switch (km->kind) {
	case KMAP_SYSV:
		o->seg->shmid = (int32_t)km->inode;
		o->seg->key = km->key;
		o->seg->inode = 0;
		break;
	case KMAP_POSIX:
		if (sem) {
			o->seg->name = xstrdup(km->name + 4);	/* "/NAME" */
			o->seg->name[0] = '/';
			break;
		}
		/* fall through */
	case KMAP_MEMFD:
		o->seg->name = xstrdup(km->name);
		break;
	case KMAP_ANON:
		if (km->name && *km->name)
			o->seg->name = xstrdup(km->name);
		break;
	default:
		o->seg->name = xstrdup(km->path);
		o->path = xstrdup(km->path);
		break;
	}
	HASH_ADD(hh, pm->objs, key, sizeof(o->key), o);
	return o;
}

static int add_map(const struct kernel_map *km, void *arg)
{
	struct procmap *pm = arg;
	struct obj *o;
	uint64_t end;

	if (km->kind == KMAP_PRIVATE || !pm->proc)
		return 0;
	o = object_of(pm, km);
	end = km->offset + (km->end - km->start);
	if (end > o->extent)
		o->extent = end;
	if (km->kind == KMAP_POSIX && km->deleted)  /* sem.NAME too */
		o->deleted = true;
	model_add_attachment(pm->m, o->seg, pm->proc, km->start,
			     km->end - km->start, !km->writable,
			     km->kind == KMAP_SYSV ? ATTACH_SHMAT : ATTACH_MMAP);
	pm->added++;
	return 0;
}

int procmap_add_maps(struct procmap *pm, struct process *p, FILE *f)
{
	pm->proc = p;
	pm->added = 0;
	if (kernel_parse_maps(f, add_map, pm))
		return -1;
	return pm->added;
}

/* Size and state from the kernel where it knows them. */
static void settle(struct procmap *pm, struct obj *o)
{
	struct segment *s = o->seg;
	const struct kernel_view *k = pm->k;
	const struct kernel_sysv *ks;
	const struct kernel_posix *kp;
	struct stat st;

	s->size = o->extent;
	s->state = SEG_LIVE;
	switch (s->kind) {
	case SEG_SYSV:
		ks = k && k->sysv_ok ? kernel_find_shmid(k, s->shmid) : NULL;
		if (!ks)
			break;
		s->size = ks->size;
		s->in_kernel = true;
		s->k_nattch = ks->nattch;
		s->k_cpid = ks->cpid;
		s->marked = ks->dest;
		s->state = ks->dest ? SEG_PENDING : SEG_LIVE;
		break;
	case SEG_POSIX:
	case SEG_SEM: {
		char kname[4096];
		if (o->deleted) {
			s->marked = true;
			s->state = SEG_PENDING;
			break;
		}
		kp = k && k->posix_ok ?
			kernel_find_posix(k, model_shm_name(s, kname, sizeof(kname))) : NULL;
		if (!kp || kp->inode != s->inode)
			break;
		s->size = kp->size;
		s->in_kernel = true;
		if (s->kind == SEG_POSIX) {
			free(s->name);          /* the exact bytes of the name */
			s->name = xstrdup(kp->name);
		}
		break;
	}
	case SEG_FILE:
		if (o->path && stat(o->path, &st) == 0 &&
		    (uint64_t)st.st_ino == s->inode &&
		    (uint64_t)st.st_dev == o->key.dev && S_ISREG(st.st_mode))
			s->size = (uint64_t)st.st_size;
		break;
	default:
		break;
	}
}

void procmap_end(struct procmap *pm)
{
	struct obj *o, *tmp;

	HASH_ITER(hh, pm->objs, o, tmp) {
		settle(pm, o);
		HASH_DEL(pm->objs, o);
		free(o->path);
		free(o);
	}
	free(pm);
}

/* --- processes ------------------------------------------------------------ */

/* argv from /proc/PID/cmdline: NUL-separated, maybe without the last NUL. */
static char **read_argv(int32_t pid)
{
	size_t len, n = 0, i = 0;
	char *buf = kernel_proc_read(pid, "cmdline", &len);
	char **argv;

	if (!buf || !len) {
		free(buf);
		return NULL;
	}
	for (size_t j = 0; j < len; j++)
		n += buf[j] == '\0';
	if (buf[len - 1] != '\0')
		n++;
	argv = xcalloc(n + 1, sizeof(*argv));
	for (size_t j = 0; j < len && i < n; j += strlen(buf + j) + 1)
		argv[i++] = xstrdup(buf + j);
	free(buf);
	return argv;
}

/* Name the process: its executable, else argv[0], else "[comm]" (a
 * kernel thread's way, and what another user's process leaves us). */
static void describe(struct process *p, const struct kernel_proc *kp)
{
	p->ppid = kp->ppid;
	p->argv = read_argv(p->pid);
	p->exe = kernel_proc_read(p->pid, "exe", NULL);
	if (!p->exe && p->argv && p->argv[0] && *p->argv[0])
		p->exe = xstrdup(p->argv[0]);
	if (!p->exe) {
		size_t n = strlen(kp->comm);

		p->exe = xmalloc(n + 3);
		snprintf(p->exe, n + 3, "[%s]", kp->comm);
	}
}

/*
 * Read process kp's maps into the build.  Returns 0, or -1 with errno:
 * a process that ended is left out of the model, one whose maps are
 * another user's is in it without attachments.
 */
static int read_process(struct procmap *pm, const struct kernel_proc *kp,
			struct procmap_stats *st)
{
	char path[40];
	struct process *p;
	FILE *f;
	int rc, err;

	snprintf(path, sizeof(path), "/proc/%" PRId32 "/maps", kp->pid);
	f = fopen(path, "re");
	if (!f && errno != EACCES && errno != EPERM)
		return -1;
	err = errno;
	p = model_add_process(pm->m, kp->pid);
	describe(p, kp);
	if (!f) {
		errno = err;
		return -1;
	}
	rc = procmap_add_maps(pm, p, f);
	err = errno;
	fclose(f);
	if (rc < 0) {
		errno = err;
		return -1;
	}
	st->mappings += (size_t)rc;
	return 0;
}

/* The descendants of root in procs[], breadth first, into order[]
 * (indexes into procs[]); returns how many. */
static size_t descendants(const struct kernel_proc *procs, size_t n,
			  int32_t root, size_t *order)
{
	bool *taken = xcalloc(n ? n : 1, sizeof(*taken));
	size_t count = 0;
	int32_t parent = root;

	for (size_t next = 0;;) {
		for (size_t i = 0; i < n; i++)
			if (!taken[i] && procs[i].ppid == parent &&
			    procs[i].pid != root) {
				taken[i] = true;
				order[count++] = i;
			}
		if (next == count)
			break;
		parent = procs[order[next++]].pid;
	}
	free(taken);
	return count;
}

static int root_error(pid_t pid, int err)
{
	if (err == ENOENT || err == ESRCH)
		return error("no process with pid %d", (int)pid);
	if (err == EACCES || err == EPERM)
		return error("cannot read the mappings of pid %d: %s (another "
			     "user's process: run as its owner or as root)",
			     (int)pid, strerror(err));
	return error("cannot read /proc/%d/maps: %s", (int)pid, strerror(err));
}

int procmap_build_stats(struct model *m, pid_t pid, bool children,
			struct procmap_stats *stp)
{
	struct procmap_stats st = { 0 };
	struct kernel_proc root, *procs = NULL;
	struct kernel_view k;
	struct procmap *pm;
	size_t nprocs = 0, *order = NULL, ndesc = 0;
	int rc = 0;

	model_init(m);
	m->from_proc = true;
	if (pid <= 0 || kernel_proc_info((int32_t)pid, &root))
		return root_error(pid, pid <= 0 ? ESRCH : errno);
	if (children && kernel_list_procs(&procs, &nprocs))
		return -1;
	kernel_read_quiet(&k);
	pm = procmap_begin(m, &k);
	if (read_process(pm, &root, &st)) {
		rc = root_error(pid, errno);
		goto out;
	}
	st.processes = 1;
	if (children) {
		order = xcalloc(nprocs ? nprocs : 1, sizeof(*order));
		ndesc = descendants(procs, nprocs, (int32_t)pid, order);
	}
	for (size_t i = 0; i < ndesc; i++) {
		const struct kernel_proc *kp = &procs[order[i]];

		if (read_process(pm, kp, &st) == 0) {
			st.processes++;
		} else if (errno == EACCES || errno == EPERM) {
			st.processes++;
			st.unreadable++;
		}               /* else it ended meanwhile: left out */
	}
out:
	procmap_end(pm);
	kernel_free(&k);
	free(order);
	free(procs);
	if (rc) {
		model_free(m);
		model_init(m);
		m->from_proc = true;
	}
	if (stp)
		*stp = st;
	return rc;
}

int procmap_build(struct model *m, pid_t pid, bool children)
{
	return procmap_build_stats(m, pid, children, NULL);
}
