/*
 * dump-text.c - the strace-like text dump:
 *
 *   [pid 4242] shmget(key=0x1234, size=10240, shmflg=IPC_CREAT|0666) = 3
 *       #0 0x000055d0c3a1b2c4 create_segment+0x24 (/path/server) server.c:31
 */
#include <inttypes.h>

#include "decode.h"
#include "render.h"
#include "words.h"

static void put_piece(FILE *out, const struct trace_event *ev,
		      const struct decode_piece *p)
{
	words_put_cstring(out, p->s, p->len);
	/* The cut is at the end of the last piece present. */
	if (p->last && (ev->flags & SHMT_EVF_STR_TRUNC))
		fputs("...", out);
}

static void put_argv(FILE *out, const struct trace_event *ev)
{
	struct decode_strings it;
	struct decode_piece p;
	bool first = true;

	decode_strings_begin(&it, ev);
	fputc('[', out);
	while (decode_strings_next(&it, &p)) {
		fputs(first ? "" : ", ", out);
		put_piece(out, ev, &p);
		first = false;
	}
	fputc(']', out);
}

static void put_value(FILE *out, const struct trace_event *ev,
		      const struct decode_arg *a)
{
	uint64_t v = decode_value(ev, a);
	char buf[DECODE_FLAGS_MAX];
	struct decode_piece p;

	switch (a->kind) {
	case DECODE_PTR:
		if (!v) {
			fputs("NULL", out);
			break;
		}
		/* fall through */
	case DECODE_HEX:   fprintf(out, "0x%" PRIx64, v); break;
	case DECODE_KEY:   fprintf(out, "0x%" PRIx32, (uint32_t)v); break;
	case DECODE_SIZE:  fprintf(out, "%" PRIu64, v); break;
	case DECODE_INT:   fprintf(out, "%" PRId32, (int32_t)(uint32_t)v); break;
	case DECODE_OFF:   fprintf(out, "%" PRId64, (int64_t)v); break;
	case DECODE_FLAGS:
		fputs(decode_flags(a->family, v, buf), out);
		break;
	case DECODE_STRING:
		decode_string_arg(ev, &p);
		put_piece(out, ev, &p);
		break;
	case DECODE_ARGV:
		put_argv(out, ev);
		break;
	case DECODE_BUILD_ID:
		fprintf(out, "\"%s\"", decode_build_id(ev, buf));
		break;
	}
}

static void put_errno(FILE *out, int errnum)
{
	const char *name = decode_errno_name(errnum);

	if (name)
		fprintf(out, " %s (%s)", name, decode_errno_msg(errnum));
	else
		fprintf(out, " %d (%s)", errnum, decode_errno_msg(errnum));
}

static void put_ret(FILE *out, const struct trace_event *ev,
		    const struct decode_view *v)
{
	switch (v->ret_kind) {
	case DECODE_RET_HIDDEN:
		return;
	case DECODE_RET_NONE:
		fputs(" = ?", out);
		return;
	case DECODE_RET_ADDR:
		if (!v->failed) {
			fprintf(out, " = 0x%" PRIx64, (uint64_t)ev->ret);
			return;
		}
		/* fall through */
	default:
		fprintf(out, " = %" PRId64, ev->ret);
	}
	if (v->failed && v->errnum)
		put_errno(out, v->errnum);
	if (v->note == DECODE_NOTE_CHILD_OF)
		fprintf(out, " (child of %" PRId64 ")", v->note_value);
	else if (v->note == DECODE_NOTE_PID)
		fprintf(out, " (pid %" PRId64 ")", v->note_value);
}

static void text_event(struct dump_ctx *ctx, const struct trace_event *ev,
		       const struct sym_frame *frames)
{
	FILE *out = ctx->out;
	struct decode_view v;

	decode_event(ev, &v);
	fprintf(out, "[pid %" PRId32 "] %s(", ev->pid, v.name);
	for (unsigned i = 0, shown = 0; i < v.nargs; i++) {
		if (!(v.args[i]->where & DECODE_IN_TEXT))
			continue;
		fprintf(out, "%s%s=", shown++ ? ", " : "", v.args[i]->name);
		put_value(out, ev, v.args[i]);
	}
	fputc(')', out);
	put_ret(out, ev, &v);
	if (ev->flags & SHMT_EVF_NESTED)
		fputs(" <nested>", out);
	if (ctx->opts->timing && v.ret_kind != DECODE_RET_HIDDEN)
		fprintf(out, " <%" PRIu64 ".%06" PRIu64 ">",
			ev->duration_ns / 1000000000u,
			ev->duration_ns % 1000000000u / 1000u);
	fputc('\n', out);
	if (!ctx->opts->stack || !frames)
		return;
	words_put_frames(out, "    ", frames, ev->nframes,
			 ev->flags & SHMT_EVF_STACK_TRUNC);
}

const struct dump_ops dump_text_ops = {
	.event = text_event,
};
