/*
 * report-json.c - `shmview report --json`: the audit as one JSON object.
 *
 *   trace        the trace file, as given
 *   running      whether a traced process still runs
 *   segments     [{kind, shmid, key, name, inode, size, state,
 *                  created_ns, marked_ns, destroyed_ns,
 *                  creator {pid, stack} | null,
 *                  removed_by {pid, stack} | null,
 *                  attachments [{pid, addr, length, readonly, attached_ns,
 *                                detached_ns | null, how}],
 *                  notes [..]}]
 *   processes    [{pid, ppid, exe, argv, start_ns, end_ns | null,
 *                  exit_status | null, signal ("SIGKILL") | null}]
 *   leaks        segments the trace created that outlived it
 *   capacity     {samples, tmpfs [{mount, size, start, peak, end, full,
 *                  shown}], cgroup {path, version, limit | null, peak,
 *                  shmem_peak} | null, sigbus [{pid, sampled, by_launcher, mappings
 *                  [{identity..., addr, length, path | null, mount |
 *                  null, internal}], full_mount | null, used, size}]}, or
 *                  null for a trace the launcher did not sample
 *
 * Same conventions as dump's JSON: addresses and keys are "0x.." strings,
 * times nanoseconds since the trace's start, stack frames written by the
 * same code as dump's.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "json-model.h"
#include "json.h"
#include "render.h"
#include "report.h"
#include "words.h"

static void nullable_uint(struct json_writer *w, const char *key, bool set,
			  uint64_t v)
{
	json_key(w, key);
	if (set)
		json_uint(w, v);
	else
		json_null(w);
}

/* {"pid": N, "stack": [...]} or null when there is no such event. */
static void put_actor(struct json_writer *w, const char *key, bool present,
		      const struct model_ref *ref, const struct report_stack *st)
{
	json_key(w, key);
	if (!present) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_member_int(w, "pid", ref->pid);
	json_model_stack(w, st);
	json_end_object(w);
}

static void put_times(struct json_writer *w, const struct segment *s)
{
	json_member_uint(w, "created_ns", s->created_ns);
	nullable_uint(w, "marked_ns", s->marked, s->marked_ns);
	nullable_uint(w, "destroyed_ns", s->destroyed, s->destroyed_ns);
}

static void put_attachment(struct json_writer *w, const struct attachment *a)
{
	json_begin_object(w);
	json_model_attachment_where(w, a);
	json_member_uint(w, "attached_ns", a->attached_ns);
	nullable_uint(w, "detached_ns", !a->live, a->detached_ns);
	json_member_string(w, "how", model_how_name(a->how));
	json_end_object(w);
}

static void put_notes(struct json_writer *w, unsigned notes)
{
	json_key(w, "notes");
	json_begin_array(w);
	for (unsigned bit = 1; bit && bit <= notes; bit <<= 1)
		if (notes & bit && words_note_name(bit))
			json_string(w, words_note_name(bit));
	json_end_array(w);
}

static void put_segment(struct json_writer *w, const struct segment *s,
			const struct report_seg *rs)
{
	json_begin_object(w);
	json_model_identity(w, s);
	put_times(w, s);
	put_actor(w, "creator", s->created, &s->creator, &rs->created);
	put_actor(w, "removed_by", s->marked && s->remover.seq != MODEL_NO_SEQ,
		  &s->remover, &rs->removed);
	json_key(w, "attachments");
	json_begin_array(w);
	for (size_t i = 0; i < s->natt; i++)
		put_attachment(w, s->att[i]);
	json_end_array(w);
	put_notes(w, s->notes);
	json_key(w, "suppressed");
	if (rs->suppressed)
		json_string(w, rs->suppressed);
	else
		json_null(w);
	json_end_object(w);
}

static void put_argv(struct json_writer *w, char *const *argv)
{
	json_key(w, "argv");
	if (!argv) {
		json_null(w);
		return;
	}
	json_begin_array(w);
	for (size_t i = 0; argv[i]; i++)
		json_string(w, argv[i]);
	json_end_array(w);
}

static void put_signal(struct json_writer *w, int sig)
{
	const char *abbrev = sig ? sigabbrev_np(sig) : NULL;
	char buf[32];

	json_key(w, "signal");
	if (!sig) {
		json_null(w);
		return;
	}
	if (abbrev)
		snprintf(buf, sizeof(buf), "SIG%s", abbrev);
	else
		snprintf(buf, sizeof(buf), "SIG%d", sig);   /* never ambiguous */
	json_string(w, buf);
}

static void put_process(struct json_writer *w, const struct process *p)
{
	json_begin_object(w);
	json_model_process(w, p);
	put_argv(w, p->argv);
	json_member_uint(w, "start_ns", p->start_ns);
	nullable_uint(w, "end_ns", p->ended, p->end_ns);
	json_key(w, "exit_status");
	if (p->exit_status >= 0 && !p->signal)
		json_int(w, p->exit_status);
	else
		json_null(w);
	put_signal(w, p->signal);
	json_end_object(w);
}

static void put_run_tmpfs(struct json_writer *w, const struct run_tmpfs *fs)
{
	json_begin_object(w);
	json_member_string(w, "mount", fs->mount);
	json_member_uint(w, "size", fs->size);
	json_member_uint(w, "start", fs->start);
	json_member_uint(w, "peak", fs->peak);
	json_member_uint(w, "end", fs->end);
	json_member_bool(w, "full", capacity_is_full(fs->size, fs->peak, 0, 0));
	json_member_bool(w, "shown", fs->shown);
	json_end_object(w);
}

static void put_cgroup(struct json_writer *w, const struct run_capacity *c)
{
	json_key(w, "cgroup");
	if (!c->cgroup) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_member_string(w, "path", c->cgroup_path);
	json_member_int(w, "version", c->cgroup_version);
	json_key(w, "limit");
	if (c->cgroup_limit == TMPFS_NO_LIMIT)
		json_null(w);
	else
		json_uint(w, c->cgroup_limit);
	json_member_uint(w, "peak", c->cgroup_peak);
	json_member_uint(w, "shmem_peak", c->cgroup_shmem_peak);
	json_end_object(w);
}

static void put_sigbus(struct json_writer *w, const struct run_capacity *c,
		       const struct sigbus_death *d)
{
	json_begin_object(w);
	json_member_int(w, "pid", d->proc->pid);
	json_member_bool(w, "sampled", d->sampled);
	json_member_bool(w, "by_launcher", d->by_launcher);
	json_key(w, "mappings");
	json_begin_array(w);
	for (size_t i = 0; i < d->nmaps; i++) {
		const struct sigbus_map *sm = &d->maps[i];

		json_begin_object(w);
		json_model_identity(w, sm->seg);
		json_member_hex(w, "addr", sm->addr);
		json_member_uint(w, "length", sm->length);
		json_member_string(w, "path", sm->path);
		json_member_string(w, "mount", sm->fs >= 0 ? c->fs[sm->fs].mount : NULL);
		json_member_bool(w, "internal", sm->internal);
		json_end_object(w);
	}
	json_end_array(w);
	json_member_string(w, "full_mount",
			   d->full_fs >= 0 ? c->fs[d->full_fs].mount : NULL);
	json_member_uint(w, "used", d->full_used);
	json_member_uint(w, "size", d->full_size);
	json_end_object(w);
}

static void put_capacity(struct json_writer *w, const struct run_capacity *c)
{
	json_key(w, "capacity");
	if (!c->recorded) {
		json_null(w);
		return;
	}
	json_begin_object(w);
	json_member_uint(w, "samples", c->samples);
	json_key(w, "tmpfs");
	json_begin_array(w);
	for (size_t i = 0; i < c->nfs; i++)
		put_run_tmpfs(w, &c->fs[i]);
	json_end_array(w);
	put_cgroup(w, c);
	json_key(w, "sigbus");
	json_begin_array(w);
	for (size_t i = 0; i < c->nsigbus; i++)
		put_sigbus(w, c, &c->sigbus[i]);
	json_end_array(w);
	json_end_object(w);
}

void report_json(FILE *out, const struct report *r)
{
	const struct model *m = r->model;
	struct json_writer w;

	json_begin_document(&w, out);
	json_member_string(&w, "trace", r->path);
	json_model_trace_start(&w, r->trace);
	json_member_uint(&w, "events", m->events);
	json_member_bool(&w, "running", m->running);
	json_key(&w, "segments");
	json_begin_array(&w);
	for (size_t i = 0; i < m->nsegments; i++)
		put_segment(&w, m->segments[i], report_seg(r, i));
	json_end_array(&w);
	json_key(&w, "processes");
	json_begin_array(&w);
	for (size_t i = 0; i < m->nprocesses; i++)
		put_process(&w, m->processes[i]);
	json_end_array(&w);
	json_member_uint(&w, "leaks", m->leaks);
	json_member_uint(&w, "suppressed", r->suppressed);
	json_key(&w, "profile");
	json_begin_object(&w);
	json_model_profile(&w, &r->calls);
	json_end_object(&w);
	put_capacity(&w, &r->capacity);
	char buf[256];
	const char *lost = report_lost(&r->counters, m, buf, sizeof(buf));
	json_member_bool(&w, "leaks_known", !lost);
	if (lost)	/* what the trace lost, as the text report says it */
		json_member_string(&w, "lost", lost);
	json_end_document(&w);
}
