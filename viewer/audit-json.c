/*
 * audit-json.c - `shmview audit --json`: one object (see audit.h).
 *
 *   schema         the vocabulary's version (docs/json.md)
 *   source         "kernel": no history; backtraces only with --trace
 *   time_epoch_ns  when, in ns since the epoch
 *   uid            who ran the audit
 *   stale_ns       --stale
 *   trace          the --trace file, or null
 *   sysv           [{shmid, key, owner {uid, user}, creator_uid, perms,
 *                    size, nattch, marked, creator {pid, alive, reused,
 *                    comm}, last {...}, attach_epoch_ns,
 *                    detach_epoch_ns, change_epoch_ns, unseen, complete,
 *                    leak, attachments [{pid, comm, addr, length,
 *                    readonly}], flags [..], waste, trace}]
 *   posix          [{name, semaphore, unlinked, inode, owner, perms,
 *                    size, mtime_epoch_ns, complete, leak, attachments,
 *                    holders [{pid, comm, fd}], flags, waste, trace}]
 *   unreadable     [{pid, comm, uid}]: processes not inspected
 *   totals         {sysv, posix, semaphores, bytes, leaks, waste,
 *                   orphaned, stale, pending, unseen, unreadable}
 *   capacity       {tmpfs [{mount, size, used, inodes, inodes_used, full,
 *                   posix}], sysv {shmmax, shmall, shmmni, segments,
 *                   pages} or null, cgroup {path, version, limit (null:
 *                   none), usage, shmem} or null}: the limits now
 *
 * complete is false when the mappers may miss some: a SysV segment the
 * kernel counts more attaches of, a POSIX object while some processes
 * could not be inspected.  leak is the verdict: orphaned,
 * stale or pending.  Both lists biggest waste first, as the text.  Times
 * are ns since the epoch (*_epoch_ns), null for never; keys and addresses "0x.." strings, perms an
 * octal string.  trace is {pid, exe, created_ns, stack [frames as dump
 * writes them]} for an object the trace created, else null.
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "json-model.h"
#include "json.h"
#include "render.h"

/* An absolute time, seconds since the epoch, as "*_epoch_ns" (null for
 * never): the vocabulary's one way to say a time of day. */
static void put_time(struct json_writer *w, const char *key, int64_t t)
{
	json_key(w, key);
	if (t > 0)
		json_int(w, t * 1000000000);
	else
		json_null(w);
}

static void put_perms(struct json_writer *w, uint32_t mode)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%04o", mode & 0777);
	json_member_string(w, "perms", buf);
}

static void put_owner(struct json_writer *w, uint32_t uid)
{
	struct passwd *pw = getpwuid(uid);

	json_key(w, "owner");
	json_begin_object(w);
	json_member_uint(w, "uid", uid);
	json_member_string(w, "user", pw ? pw->pw_name : NULL);
	json_end_object(w);
}

static void put_who(struct json_writer *w, const char *key,
		    const struct audit_pid *p)
{
	json_key(w, key);
	json_begin_object(w);
	json_member_int(w, "pid", p->pid);
	json_member_bool(w, "alive", p->alive);
	json_member_bool(w, "reused", p->reused);
	json_member_string(w, "comm", p->alive ? p->comm : NULL);
	json_end_object(w);
}

static void put_flags(struct json_writer *w, unsigned flags)
{
	json_key(w, "flags");
	json_begin_array(w);
	for (unsigned bit = 1; bit <= AUDIT_UNSEEN; bit <<= 1)
		if (flags & bit)
			json_string(w, audit_flag_name(bit));
	json_end_array(w);
}

static void put_mappers(struct json_writer *w, const struct audit_obj *o)
{
	json_key(w, "attachments");	/* the word map and report use */
	json_begin_array(w);
	for (size_t i = 0; i < o->nmappers; i++) {
		const struct audit_mapper *m = &o->mappers[i];

		json_begin_object(w);
		json_member_int(w, "pid", m->pid);
		json_member_string(w, "comm", m->comm);
		json_member_hex(w, "addr", m->addr);
		json_member_uint(w, "length", m->length);
		json_member_bool(w, "readonly", m->readonly);
		json_end_object(w);
	}
	json_end_array(w);
}

static void put_holders(struct json_writer *w, const struct audit_obj *o)
{
	json_key(w, "holders");
	json_begin_array(w);
	for (size_t i = 0; i < o->nholders; i++) {
		json_begin_object(w);
		json_member_int(w, "pid", o->holders[i].pid);
		json_member_string(w, "comm", o->holders[i].comm);
		json_member_int(w, "fd", o->holders[i].fd);
		json_end_object(w);
	}
	json_end_array(w);
}

static void put_traced(struct json_writer *w, const struct audit_obj *o)
{
	const struct audit_traced *t = o->traced;

	json_key(w, "trace");
	if (!t) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_member_int(w, "pid", t->seg->creator.pid);
	json_member_string(w, "exe", t->creator ? t->creator->exe : NULL);
	json_member_uint(w, "created_ns", t->seg->created_ns);
	json_model_stack(w, &t->stack);
	json_end_object(w);
}

static void put_common_tail(struct json_writer *w, const struct audit_obj *o)
{
	json_member_bool(w, "complete", o->complete);
	/* the verdict, so a consumer need not re-derive it from flags */
	json_member_bool(w, "leak", o->flags & AUDIT_LEAK_FLAGS);
	put_mappers(w, o);
	if (o->family == AUDIT_POSIX)
		put_holders(w, o);
	put_flags(w, o->flags);
	json_member_uint(w, "waste", o->waste);
	put_traced(w, o);
}

static void put_sysv(struct json_writer *w, const struct audit_obj *o)
{
	const struct kernel_sysv *k = o->sysv;

	json_begin_object(w);
	json_member_int(w, "shmid", k->shmid);
	json_member_hex(w, "key", o->key);
	put_owner(w, k->uid);
	json_member_uint(w, "creator_uid", k->cuid);
	put_perms(w, k->perms);
	json_member_uint(w, "size", k->size);
	json_member_uint(w, "nattch", k->nattch);
	json_member_bool(w, "marked", k->dest);
	put_who(w, "creator", &o->creator);
	put_who(w, "last", &o->last);
	put_time(w, "attach_epoch_ns", k->atime);
	put_time(w, "detach_epoch_ns", k->dtime);
	put_time(w, "change_epoch_ns", k->ctime);
	json_member_uint(w, "unseen", o->unseen);
	put_common_tail(w, o);
	json_end_object(w);
}

static void put_posix(struct json_writer *w, const struct audit_obj *o)
{
	const struct kernel_posix *k = o->posix;

	json_begin_object(w);
	json_member_string(w, "name", k->name);
	json_member_bool(w, "semaphore", k->semaphore);
	json_member_bool(w, "unlinked", o->unlinked);
	json_member_uint(w, "inode", k->inode);
	if (o->unlinked) {
		json_key(w, "owner");
		json_null(w);
		json_key(w, "perms");
		json_null(w);
	} else {
		put_owner(w, k->uid);
		put_perms(w, k->mode);
	}
	json_member_uint(w, "size", o->size);
	json_key(w, "mtime_epoch_ns");
	if (o->unlinked || !k->mtime_ns)
		json_null(w);
	else
		json_uint(w, k->mtime_ns);
	put_common_tail(w, o);
	json_end_object(w);
}

static void put_unreadable(struct json_writer *w, const struct audit *a)
{
	json_key(w, "unreadable");
	json_begin_array(w);
	for (size_t i = 0; i < a->nunreadable; i++) {
		const struct kernel_proc *p = a->unreadable[i];

		json_begin_object(w);
		json_member_int(w, "pid", p->pid);
		json_member_string(w, "comm", p->comm);
		json_member_uint(w, "uid", p->uid);
		json_end_object(w);
	}
	json_end_array(w);
}

static void put_totals(struct json_writer *w, const struct audit *a)
{
	const struct audit_totals *t = &a->totals;

	json_key(w, "totals");
	json_begin_object(w);
	json_member_uint(w, "sysv", t->sysv);
	json_member_uint(w, "posix", t->posix);
	json_member_uint(w, "semaphores", t->semaphores);
	json_member_uint(w, "bytes", t->bytes);
	json_member_uint(w, "leaks", t->leaks);
	json_member_uint(w, "waste", t->waste);
	json_member_uint(w, "orphaned", t->orphaned);
	json_member_uint(w, "stale", t->stale);
	json_member_uint(w, "pending", t->pending);
	json_member_uint(w, "unseen", t->unseen);
	json_member_uint(w, "unreadable", a->nunreadable);
	json_member_uint(w, "processes", a->scan->nprocs);
	json_end_object(w);
}

static void put_capacity(struct json_writer *w, const struct capacity_now *c)
{
	const struct sysv_limits *l = &c->sysv;

	json_key(w, "capacity");
	json_begin_object(w);
	json_key(w, "tmpfs");
	json_begin_array(w);
	for (unsigned i = 0; i < c->tmpfs.n; i++) {
		const struct tmpfs_fs *fs = &c->tmpfs.fs[i];

		if (!c->holds[i])
			continue;
		json_begin_object(w);
		json_member_string(w, "mount", fs->mount);
		json_member_uint(w, "size", fs->size);
		json_member_uint(w, "used", fs->used);
		json_member_uint(w, "inodes", fs->inodes);
		json_member_uint(w, "inodes_used", fs->inodes_used);
		json_member_bool(w, "full", capacity_is_full(fs->size, fs->used,
				 fs->inodes, fs->inodes_used));
		json_member_bool(w, "posix", (int)i == c->shm);
		json_end_object(w);
	}
	json_end_array(w);
	json_key(w, "sysv");
	if (l->ok) {
		json_begin_object(w);
		json_member_uint(w, "shmmax", l->shmmax);
		json_member_uint(w, "shmall", l->shmall);
		json_member_uint(w, "shmmni", l->shmmni);
		json_member_uint(w, "segments", l->segments);
		json_member_uint(w, "pages", l->pages);
		json_end_object(w);
	} else {
		json_null(w);
	}
	json_key(w, "cgroup");
	if (c->cgroup.found && c->cgroup.ok) {
		json_begin_object(w);
		json_member_string(w, "path", c->cgroup.path);
		json_member_int(w, "version", c->cgroup.version);
		json_key(w, "limit");
		if (c->cgroup.limit == TMPFS_NO_LIMIT)
			json_null(w);
		else
			json_uint(w, c->cgroup.limit);
		json_member_uint(w, "usage", c->cgroup.usage);
		json_member_uint(w, "shmem", c->cgroup.shmem);
		json_end_object(w);
	} else {
		json_null(w);
	}
	json_end_object(w);
}

void audit_json(FILE *out, const struct audit *a)
{
	struct json_writer w;

	json_begin_document(&w, out);
	json_member_string(&w, "source", "kernel");
	json_member_int(&w, "time_epoch_ns", a->now * 1000000000);
	json_member_uint(&w, "uid", a->uid);
	json_member_int(&w, "stale_ns", a->stale_after * 1000000000);
	json_member_bool(&w, "sysv_ok", a->sysv_ok);
	json_member_bool(&w, "posix_ok", a->posix_ok);
	json_member_string(&w, "trace", a->trace_path);
	json_key(&w, "sysv");
	json_begin_array(&w);
	for (size_t i = 0; i < a->nobjs; i++)
		if (a->objs[i].family == AUDIT_SYSV)
			put_sysv(&w, &a->objs[i]);
	json_end_array(&w);
	json_key(&w, "posix");
	json_begin_array(&w);
	for (size_t i = 0; i < a->nobjs; i++)
		if (a->objs[i].family == AUDIT_POSIX)
			put_posix(&w, &a->objs[i]);
	json_end_array(&w);
	put_unreadable(&w, a);
	put_totals(&w, a);
	if (a->capacity)
		put_capacity(&w, a->capacity);
	json_end_document(&w);
}
