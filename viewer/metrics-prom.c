/*
 * metrics-prom.c - `shmview metrics`: the Prometheus text format (see
 * metrics.h, prom.h).  Every family is a gauge; every kind x verdict
 * pair is written, zeros included, so a series never vanishes between two
 * collections; per-object series only with --per-object.
 */
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>

#include "metrics.h"
#include "prom.h"
#include "render.h"

static void put_verdicts(FILE *out, const struct metrics *mt, bool bytes)
{
	const char *name = bytes ? "shmtrace_bytes" : "shmtrace_objects";

	prom_family(out, name, bytes ?
		    "Bytes of shared memory on this host, by kind (sysv, posix, sem) and audit verdict." :
		    "Shared memory objects on this host, by kind (sysv, posix, sem) and audit verdict.");
	for (int k = 0; k < AUDIT_KIND_COUNT; k++)
		for (int v = 0; v < AUDIT_VERDICT_COUNT; v++) {
			const char *labels[] = { "kind", audit_kind_name(k),
				"verdict", audit_verdict_name(v), NULL };
			const struct metrics_cell *c = &mt->cells[k][v];

			prom_sample_u64(out, name, labels,
					bytes ? c->bytes : c->objects);
		}
}

/* The owner's name, or the uid as a number when it has none. */
static const char *user_name(bool known, uint32_t uid, char *buf, size_t size)
{
	struct passwd *pw = known ? getpwuid(uid) : NULL;

	if (!known)
		return "unknown";
	if (pw && pw->pw_name)
		return pw->pw_name;
	snprintf(buf, size, "%" PRIu32, uid);
	return buf;
}

static void put_owners(FILE *out, const struct metrics *mt, bool bytes)
{
	const char *name = bytes ? "shmtrace_owner_bytes" : "shmtrace_owner_objects";
	char buf[16];

	prom_family(out, name, bytes ? "Bytes of shared memory by owner and kind." :
		    "Shared memory objects by owner and kind.");
	for (size_t i = 0; i < mt->nowners; i++) {
		const struct metrics_owner *o = &mt->owners[i];
		const char *labels[] = { "user", user_name(o->known, o->uid, buf,
				sizeof(buf)), "kind", audit_kind_name(o->kind), NULL };

		prom_sample_u64(out, name, labels,
				bytes ? o->cell.bytes : o->cell.objects);
	}
}

static void put_tmpfs(FILE *out, const struct capacity_now *c)
{
	static const struct { const char *name, *help; } fams[] = {
		{ "shmtrace_tmpfs_size_bytes", "Size of a tmpfs holding shared memory (/dev/shm, or shared file mappings); 0 when unlimited." },
		{ "shmtrace_tmpfs_used_bytes", "Bytes used on a tmpfs holding shared memory." },
		{ "shmtrace_tmpfs_inodes", "Inodes of a tmpfs holding shared memory; 0 when unlimited." },
		{ "shmtrace_tmpfs_inodes_used", "Inodes used on a tmpfs holding shared memory." },
		{ "shmtrace_tmpfs_full", "1 when less than a page (or no inode) is left on the tmpfs: the next page written raises SIGBUS." },
	};

	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		prom_family(out, fams[f].name, fams[f].help);
		for (unsigned i = 0; i < c->tmpfs.n; i++) {
			const struct tmpfs_fs *fs = &c->tmpfs.fs[i];
			const char *labels[] = { "mount", fs->mount, NULL };
			uint64_t v[] = { fs->size, fs->used, fs->inodes,
				fs->inodes_used, capacity_is_full(fs->size,
				fs->used, fs->inodes, fs->inodes_used) };

			if (c->holds[i])
				prom_sample_u64(out, fams[f].name, labels, v[f]);
		}
	}
}

static void put_one(FILE *out, const char *name, const char *help, uint64_t v)
{
	prom_family(out, name, help);
	prom_sample_u64(out, name, NULL, v);
}

static void put_limits(FILE *out, const struct capacity_now *c)
{
	const struct sysv_limits *l = &c->sysv;
	const struct cgroup_mem *cg = &c->cgroup;

	if (l->ok) {
		put_one(out, "shmtrace_sysv_shmmax_bytes", "SysV limit: the largest segment (kernel.shmmax).", l->shmmax);
		put_one(out, "shmtrace_sysv_shmall_pages", "SysV limit: pages of all segments together (kernel.shmall).", l->shmall);
		put_one(out, "shmtrace_sysv_shmmni", "SysV limit: segments on the host (kernel.shmmni).", l->shmmni);
	}
	put_one(out, "shmtrace_sysv_segments", "SysV segments now (against shmmni).", l->segments);
	put_one(out, "shmtrace_sysv_pages", "Pages of all SysV segments now (against shmall).", l->pages);
	if (!cg->found || !cg->ok)
		return;
	if (cg->limit != TMPFS_NO_LIMIT)
		put_one(out, "shmtrace_memory_cgroup_limit_bytes", "Memory limit of the collector's cgroup, which tmpfs, memfd and SysV pages are charged to.", cg->limit);
	put_one(out, "shmtrace_memory_cgroup_usage_bytes", "Memory charged to the collector's cgroup.", cg->usage);
	put_one(out, "shmtrace_memory_cgroup_shmem_bytes", "Of that memory, shmem (tmpfs, memfd, SysV).", cg->shmem);
}

static void put_per_object(FILE *out, const struct audit *a)
{
	char id[24], key[16], buf[16];

	prom_family(out, "shmtrace_object_bytes", "Size of one shared memory object (--per-object).");
	for (size_t i = 0; i < a->nobjs; i++) {
		const struct audit_obj *o = &a->objs[i];
		uint32_t uid = 0;
		bool known = audit_owner(o, &uid);
		const char *user = user_name(known, uid, buf, sizeof(buf));
		const char *kind = audit_kind_name(audit_kind_of(o));
		const char *verdict = audit_verdict_name(audit_verdict(o));

		if (o->family == AUDIT_SYSV) {
			snprintf(id, sizeof(id), "%" PRId32, o->sysv->shmid);
			snprintf(key, sizeof(key), "0x%08" PRIx32, o->key);
			const char *labels[] = { "kind", kind, "shmid", id, "key",
				key, "verdict", verdict, "user", user, NULL };
			prom_sample_u64(out, "shmtrace_object_bytes", labels, o->size);
		} else {
			const char *labels[] = { "kind", kind, "name",
				o->posix->name, "verdict", verdict, "user", user, NULL };
			prom_sample_u64(out, "shmtrace_object_bytes", labels, o->size);
		}
	}
}

static void put_health(FILE *out, const struct metrics *mt)
{
	const struct audit *a = mt->audit;
	const struct capacity_now *c = mt->capacity;
	const struct { const char *source; bool ok; } sources[] = {
		{ "sysv", a->sysv_ok }, { "posix", a->posix_ok },
		{ "processes", a->scan != NULL }, { "tmpfs", c->tmpfs_ok },
	};

	put_one(out, "shmtrace_processes", "Processes the collector found.", a->scan ? a->scan->nprocs : 0);
	put_one(out, "shmtrace_processes_unreadable", "Processes whose mappings the collector could not read (permission): their attaches are not seen.", a->nunreadable);
	prom_family(out, "shmtrace_collect_success", "1 when the source could be read.");
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		const char *labels[] = { "source", sources[i].source, NULL };

		prom_sample_u64(out, "shmtrace_collect_success", labels, sources[i].ok);
	}
	prom_family(out, "shmtrace_collect_duration_seconds", "How long the collection took.");
	prom_sample(out, "shmtrace_collect_duration_seconds", NULL, mt->duration_seconds);
	put_one(out, "shmtrace_collect_timestamp_seconds", "When the collection ran, in seconds since the epoch.", (uint64_t)mt->time);
}

void metrics_prom(FILE *out, const struct metrics *mt)
{
	put_verdicts(out, mt, true);
	put_verdicts(out, mt, false);
	put_owners(out, mt, true);
	put_owners(out, mt, false);
	put_tmpfs(out, mt->capacity);
	put_limits(out, mt->capacity);
	if (mt->per_object)
		put_per_object(out, mt->audit);
	put_health(out, mt);
}
