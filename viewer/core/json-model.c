/* json-model.c - the model's things as JSON members (see json-model.h). */
#include "json-model.h"
#include "profile.h"

void json_model_identity(struct json_writer *w, const struct segment *s)
{
	bool sysv = s->kind == SEG_SYSV;

	json_member_string(w, "kind", model_kind_name(s->kind));
	json_key(w, "shmid");
	if (sysv)
		json_int(w, s->shmid);
	else
		json_null(w);
	json_key(w, "key");
	if (sysv)
		json_hex(w, s->key);
	else
		json_null(w);
	json_member_string(w, "name", s->name);
	json_key(w, "inode");
	if (s->inode)
		json_uint(w, s->inode);
	else
		json_null(w);
	json_key(w, "dev");
	if (s->dev)
		json_uint(w, s->dev);
	else
		json_null(w);
	json_member_uint(w, "size", s->size);
	json_member_string(w, "state", model_state_name(s->state));
}

void json_model_process(struct json_writer *w, const struct process *p)
{
	json_member_int(w, "pid", p->pid);
	json_member_int(w, "ppid", p->ppid);
	json_member_string(w, "exe", p->exe);
}

void json_model_attachment_where(struct json_writer *w,
				 const struct attachment *a)
{
	json_member_int(w, "pid", a->proc->pid);
	json_member_hex(w, "addr", a->addr);
	json_member_uint(w, "length", a->length);
	json_member_bool(w, "readonly", a->readonly);
	json_key(w, "received_from");	/* a pid, 0 for "unknown", or null */
	if (a->received_from)
		json_int(w, a->received_from > 0 ? a->received_from : 0);
	else
		json_null(w);
	json_member_bool(w, "proc_only", a->proc_only);
}

void json_model_frame(struct json_writer *w, uint64_t ip,
		      const struct sym_frame *f)
{
	json_begin_object(w);
	json_member_hex(w, "ip", ip);
	json_member_string(w, "module", f ? f->module : NULL);
	json_member_string(w, "symbol", f ? f->symbol : NULL);
	json_key(w, "offset");
	if (f && f->symbol)
		json_uint(w, f->offset);
	else
		json_null(w);
	json_member_string(w, "file", f ? f->file : NULL);
	json_key(w, "line");
	if (f && f->file && f->line > 0)
		json_int(w, f->line);
	else
		json_null(w);
	json_key(w, "module_offset");
	if (f && f->module)
		json_hex(w, f->module_offset);
	else
		json_null(w);
	json_member_string(w, "build_id", f ? f->build_id : NULL);
	json_end_object(w);
}

void json_model_stack(struct json_writer *w, const struct report_stack *st)
{
	json_key(w, "stack");
	json_begin_array(w);
	for (unsigned i = 0; i < st->nframes; i++)
		json_model_frame(w, st->frames[i].ip, &st->frames[i]);
	json_end_array(w);
}

static void profile_row(struct json_writer *w, const struct call_profile *p,
			const struct profile_row *r)
{
	json_begin_object(w);
	json_member_string(w, "call", r->name);
	json_member_uint(w, "calls", r->calls);
	json_member_uint(w, "errors", r->errors);
	json_member_uint(w, "total_ns", r->total_ns);
	json_member_uint(w, "avg_ns", profile_avg_ns(r));
	json_member_uint(w, "max_ns", r->max_ns);
	json_key(w, "share");
	json_fixed3(w, profile_share(p, r));
	json_end_object(w);
}

void json_model_profile(struct json_writer *w, const struct call_profile *p)
{
	struct profile_row total = p->total;

	json_key(w, "calls");
	json_begin_array(w);
	for (size_t i = 0; i < p->n; i++)
		profile_row(w, p, &p->rows[i]);
	json_end_array(w);
	total.name = "total";
	json_key(w, "total");
	profile_row(w, p, &total);
}

void json_model_trace_start(struct json_writer *w, const struct trace *t)
{
	json_key(w, "start_epoch_ns");
	if (t && t->start_realtime_ns)
		json_uint(w, t->start_realtime_ns);
	else
		json_null(w);
}
