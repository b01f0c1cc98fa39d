/*
 * dump-json.c - the JSON Lines dump: one object per event, fixed field
 * names, for scripts.  Each line holds, in this order:
 *
 *   schema       the vocabulary's version (docs/json.md)
 *   start_epoch_ns  when the trace started, ns since the epoch
 *   seq          slot index of the event
 *   time_ns      nanoseconds since the trace's start_ns
 *   pid, tid
 *   call         "shmget", "execvp", "_exit", "module", ...
 *   args         object keyed by the man page's parameter names (the call
 *                table in decode.c): addresses and keys as "0x.." strings,
 *                flags and commands decoded ("IPC_CREAT|0666"), sizes,
 *                ids and descriptors as numbers, argv as an array
 *   ret          the number the call returned (an address too), absent
 *                for exit, _exit, thread_exit and module
 *   errno        "EEXIST" when the call failed (absent otherwise)
 *   duration_ns
 *   stack        [{ip, module, symbol, offset, file, line}], null members
 *                when unknown, [] when no frames were recorded
 *   info         only when there is something to say: shmat segsz,
 *                shmctl's IPC_STAT result, the object behind a mapping's
 *                fd, truncated, nested; an object record's kind and
 *                of_seq, the event it describes
 */
#include <inttypes.h>
#include <stdio.h>

#include "decode.h"
#include "json-model.h"
#include "profile.h"
#include "render.h"

static void json_piece(struct json_writer *w, const struct decode_piece *p)
{
	json_string_n(w, p->s, p->len);
}

static void json_argv(struct json_writer *w, const struct trace_event *ev)
{
	struct decode_strings it;
	struct decode_piece p;

	decode_strings_begin(&it, ev);
	json_begin_array(w);
	while (decode_strings_next(&it, &p))
		json_piece(w, &p);
	json_end_array(w);
}

static void json_value(struct json_writer *w, const struct trace_event *ev,
		       const struct decode_arg *a)
{
	uint64_t v = decode_value(ev, a);
	char buf[DECODE_FLAGS_MAX];
	struct decode_piece p;

	switch (a->kind) {
	case DECODE_PTR:
	case DECODE_HEX:    json_hex(w, v); break;
	case DECODE_KEY:    json_hex(w, (uint32_t)v); break;
	case DECODE_SIZE:   json_uint(w, v); break;
	case DECODE_INT:    json_int(w, (int32_t)(uint32_t)v); break;
	case DECODE_OFF:    json_int(w, (int64_t)v); break;
	case DECODE_FLAGS:  json_string(w, decode_flags(a->family, v, buf)); break;
	case DECODE_STRING:
		decode_string_arg(ev, &p);
		json_piece(w, &p);
		break;
	case DECODE_ARGV:   json_argv(w, ev); break;
	case DECODE_BUILD_ID: json_string(w, decode_build_id(ev, buf)); break;
	}
}

static void json_args(struct json_writer *w, const struct trace_event *ev,
		      const struct decode_view *v)
{
	json_key(w, "args");
	json_begin_object(w);
	for (unsigned i = 0; i < v->nargs; i++) {
		if (!(v->args[i]->where & DECODE_IN_JSON))
			continue;
		json_key(w, v->args[i]->name);
		json_value(w, ev, v->args[i]);
	}
	json_end_object(w);
}

static void json_ret(struct json_writer *w, const struct trace_event *ev,
		     const struct decode_view *v)
{
	char num[16];
	const char *name;

	/* always the number the call returned (an address too); absent
	 * for what does not return */
	if (v->ret_kind == DECODE_RET_NONE || v->ret_kind == DECODE_RET_HIDDEN)
		return;
	json_member_int(w, "ret", ev->ret);
	if (!v->failed || !v->errnum)
		return;
	name = decode_errno_name(v->errnum);
	if (!name) {
		snprintf(num, sizeof(num), "%d", v->errnum);
		name = num;
	}
	json_member_string(w, "errno", name);
}

static void json_stack(struct json_writer *w, const struct trace_event *ev,
		       const struct sym_frame *frames)
{
	json_key(w, "stack");
	json_begin_array(w);
	for (unsigned i = 0; i < ev->nframes; i++)
		json_model_frame(w, ev->frames[i], frames ? &frames[i] : NULL);
	json_end_array(w);
}

/* "info" appears only when there is something in it: open it lazily. */
static void info_key(struct json_writer *w, bool *open, const char *key)
{
	if (!*open) {
		json_key(w, "info");
		json_begin_object(w);
		*open = true;
	}
	json_key(w, key);
}

static void info_stat(struct json_writer *w, bool *open,
		      const struct trace_event *ev)
{
	char mode[16];

	snprintf(mode, sizeof(mode), "0%03" PRIo32,
		 (uint32_t)ev->args[SHMT_ARG_SHMCTL_MODE]);
	info_key(w, open, "key");
	json_hex(w, (uint32_t)ev->args[SHMT_ARG_SHMCTL_KEY]);
	info_key(w, open, "mode");
	json_string(w, mode);
	info_key(w, open, "cpid");
	json_int(w, (int32_t)(uint32_t)ev->args[SHMT_ARG_SHMCTL_CPID]);
	info_key(w, open, "shm_segsz");
	json_uint(w, ev->args[SHMT_ARG_SHMCTL_SEGSZ]);
	info_key(w, open, "shm_nattch");
	json_uint(w, ev->args[SHMT_ARG_SHMCTL_NATTCH]);
}

static void info_object(struct json_writer *w, bool *open,
			const struct trace_event *ev)
{
	const char *obj = decode_obj_name(ev->obj);

	if (obj) {
		info_key(w, open, "object");
		json_string(w, obj);
	}
	if (ev->args[SHMT_ARG_ORIGIN]) {
		info_key(w, open, "origin_seq");
		json_uint(w, ev->args[SHMT_ARG_ORIGIN] - 1);
	}
	if (ev->args[SHMT_ARG_INODE]) {
		info_key(w, open, "inode");
		json_uint(w, ev->args[SHMT_ARG_INODE]);
	}
}

static void json_info(struct json_writer *w, const struct trace_event *ev)
{
	bool open = false;

	switch (ev->call) {
	case SHMT_CALL_SHMAT:
		if (ev->args[SHMT_ARG_SHMAT_SEGSZ]) {
			info_key(w, &open, "segsz");
			json_uint(w, ev->args[SHMT_ARG_SHMAT_SEGSZ]);
		}
		break;
	case SHMT_CALL_SHMCTL:
		if (ev->flags & SHMT_EVF_STAT)
			info_stat(w, &open, ev);
		break;
	case SHMT_CALL_MMAP:
	case SHMT_CALL_FTRUNCATE:
	case SHMT_CALL_CLOSE:
	case SHMT_CALL_SEM_OPEN:
	case SHMT_CALL_FD_SEND:
	case SHMT_CALL_FD_RECV:
		info_object(w, &open, ev);
		break;
	case SHMT_CALL_OBJECT:	/* what it is, and which event it is of */
		info_key(w, &open, "object");
		json_string(w, decode_obj_name(ev->obj) ? decode_obj_name(ev->obj) : "none");
		if (ev->args[SHMT_ARG_OBJECT_OF]) {
			info_key(w, &open, "of_seq");
			json_uint(w, ev->args[SHMT_ARG_OBJECT_OF] - 1);
		}
		break;
	}
	if (ev->flags & SHMT_EVF_STR_TRUNC) {
		info_key(w, &open, "truncated");
		json_bool(w, true);
	}
	if (ev->flags & SHMT_EVF_NESTED) {
		info_key(w, &open, "nested");
		json_bool(w, true);
	}
	if (open)
		json_end_object(w);
}

static void json_event(struct dump_ctx *ctx, const struct trace_event *ev,
		       const struct sym_frame *frames)
{
	struct json_writer *w = &ctx->json;
	struct decode_view v;

	decode_event(ev, &v);
	json_begin_document(w, ctx->out);     /* one line per event */
	json_model_trace_start(w, ctx->trace);
	json_member_uint(w, "seq", ev->seq);
	json_member_int(w, "time_ns", trace_event_reltime(ctx->trace, ev));
	json_member_int(w, "pid", ev->pid);
	json_member_int(w, "tid", ev->tid);
	json_member_string(w, "call", v.name);
	json_args(w, ev, &v);
	json_ret(w, ev, &v);
	json_member_uint(w, "duration_ns", ev->duration_ns);
	json_stack(w, ev, frames);
	json_info(w, ev);
	json_end_document(w);
}

/* Each line is a document of its own: nothing comes before or after. */
const struct dump_ops dump_json_ops = {
	.event = json_event,
};

void dump_summary_json(FILE *out, const struct call_profile *p)
{
	struct json_writer w;

	json_begin_document(&w, out);
	json_model_profile(&w, p);
	json_end_document(&w);
}
