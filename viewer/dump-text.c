/*
 * dump-text.c - the strace-like text dump:
 *
 *   [pid 4242] shmget(key=0x1234, size=10240, shmflg=IPC_CREAT|0666) = 3
 *       #0 0x000055d0c3a1b2c4 create_segment+0x24 (/path/server) server.c:31
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "annotate.h"
#include "decode.h"
#include "profile.h"
#include "render.h"
#include "words.h"

/* -y: "<object>" after a descriptor or an address, when the trace says. */
static void put_fd_object(const struct dump_ctx *ctx,
			  const struct trace_event *ev)
{
	char buf[300];

	if (ctx->objects && annotate_fd(ctx->objects, ev, buf, sizeof(buf)))
		fprintf(ctx->out, "<%s>", buf);
}

static void put_addr_object(const struct dump_ctx *ctx,
			    const struct trace_event *ev, uint64_t addr)
{
	char buf[300];

	if (ctx->objects &&
	    annotate_addr(ctx->objects, ev, addr, buf, sizeof(buf)))
		fprintf(ctx->out, "<%s>", buf);
}

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

static void put_value(const struct dump_ctx *ctx, const struct trace_event *ev,
		      const struct decode_arg *a)
{
	FILE *out = ctx->out;
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
	case DECODE_HEX:
		fprintf(out, "0x%" PRIx64, v);
		if (a->kind == DECODE_PTR)
			put_addr_object(ctx, ev, v);
		break;
	case DECODE_KEY:   fprintf(out, "0x%" PRIx32, (uint32_t)v); break;
	case DECODE_SIZE:  fprintf(out, "%" PRIu64, v); break;
	case DECODE_INT:
		fprintf(out, "%" PRId32, (int32_t)(uint32_t)v);
		if (strcmp(a->name, "fd") == 0)
			put_fd_object(ctx, ev);
		break;
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

static void put_ret(const struct dump_ctx *ctx, const struct trace_event *ev,
		    const struct decode_view *v)
{
	FILE *out = ctx->out;

	switch (v->ret_kind) {
	case DECODE_RET_HIDDEN:
		return;
	case DECODE_RET_NONE:
		fputs(" = ?", out);
		return;
	case DECODE_RET_ADDR:
		if (!v->failed) {
			fprintf(out, " = 0x%" PRIx64, (uint64_t)ev->ret);
			put_addr_object(ctx, ev, (uint64_t)ev->ret);
			return;
		}
		/* fall through */
	default:
		fprintf(out, " = %" PRId64, ev->ret);
		if (!v->failed && (ev->call == SHMT_CALL_SHM_OPEN ||
				   ev->call == SHMT_CALL_MEMFD_CREATE))
			put_fd_object(ctx, ev);
	}
	if (v->failed && v->errnum)
		put_errno(out, v->errnum);
	if (v->note == DECODE_NOTE_CHILD_OF)
		fprintf(out, " (child of %" PRId64 ")", v->note_value);
	else if (v->note == DECODE_NOTE_PID)
		fprintf(out, " (pid %" PRId64 ")", v->note_value);
}

static int pid_cmp(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* "[pid 42] ", or "[pid 42 tid 43] " in a process with several threads. */
static void put_who(const struct dump_ctx *ctx, const struct trace_event *ev)
{
	if (ctx->nthreaded && bsearch(&ev->pid, ctx->threaded, ctx->nthreaded,
				      sizeof(*ctx->threaded), pid_cmp))
		fprintf(ctx->out, "[pid %" PRId32 " tid %" PRId32 "] ",
			ev->pid, ev->tid);
	else
		fprintf(ctx->out, "[pid %" PRId32 "] ", ev->pid);
}

/* strace's -t, -tt, -ttt (the wall clock: the trace's start plus the
 * event's time since), and -r (since the previous line). */
static void put_clock(struct dump_ctx *ctx, const struct trace_event *ev)
{
	int64_t rel = trace_event_reltime(ctx->trace, ev);
	uint64_t wall = ctx->trace->start_realtime_ns + (uint64_t)(rel > 0 ? rel : 0);
	time_t secs = (time_t)(wall / 1000000000u);
	unsigned usec = (unsigned)(wall % 1000000000u / 1000u);
	struct tm tm;
	char hms[16];

	if (ctx->opts->relative) {
		int64_t d = ctx->have_prev ? rel - ctx->prev_ns : 0;

		if (d < 0)
			d = 0;
		fprintf(ctx->out, "%6" PRId64 ".%06" PRId64 " ",
			d / 1000000000, d % 1000000000 / 1000);
		ctx->prev_ns = rel;
		ctx->have_prev = true;
	}
	if (!ctx->opts->clock)
		return;
	if (ctx->opts->clock >= 3) {
		fprintf(ctx->out, "%lld.%06u ", (long long)secs, usec);
		return;
	}
	localtime_r(&secs, &tm);
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	if (ctx->opts->clock == 2)
		fprintf(ctx->out, "%s.%06u ", hms, usec);
	else
		fprintf(ctx->out, "%s ", hms);
}

static void text_event(struct dump_ctx *ctx, const struct trace_event *ev,
		       const struct sym_frame *frames)
{
	FILE *out = ctx->out;
	struct decode_view v;

	decode_event(ev, &v);
	put_who(ctx, ev);
	put_clock(ctx, ev);
	fprintf(out, "%s(", v.name);
	for (unsigned i = 0, shown = 0; i < v.nargs; i++) {
		if (!(v.args[i]->where & DECODE_IN_TEXT))
			continue;
		fprintf(out, "%s%s=", shown++ ? ", " : "", v.args[i]->name);
		put_value(ctx, ev, v.args[i]);
	}
	fputc(')', out);
	put_ret(ctx, ev, &v);
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

/* strace -c's table, with the longest call and a max column:
 *   % time     seconds  usecs/call   max usecs     calls    errors call */
void dump_summary_text(FILE *out, const struct call_profile *p)
{
	static const char rule[] = "------ ----------- ----------- ----------- "
				   "--------- --------- ----------------\n";

	fprintf(out, "%6s %11s %11s %11s %9s %9s %s\n", "% time", "seconds",
		"usecs/call", "max usecs", "calls", "errors", "call");
	fputs(rule, out);
	for (size_t i = 0; i < p->n; i++) {
		const struct profile_row *r = &p->rows[i];

		fprintf(out, "%6.2f %4" PRIu64 ".%06" PRIu64 " %11" PRIu64
			" %11" PRIu64 " %9" PRIu64 " ", profile_share(p, r),
			r->total_ns / 1000000000u, r->total_ns % 1000000000u / 1000u,
			profile_avg_ns(r) / 1000u, r->max_ns / 1000u, r->calls);
		if (r->errors)
			fprintf(out, "%9" PRIu64 " %s\n", r->errors, r->name);
		else
			fprintf(out, "%9s %s\n", "", r->name);
	}
	fputs(rule, out);
	fprintf(out, "%6.2f %4" PRIu64 ".%06" PRIu64 " %11" PRIu64 " %11" PRIu64
		" %9" PRIu64 " %9" PRIu64 " total\n", p->total.total_ns ? 100.0 : 0.0,
		p->total.total_ns / 1000000000u, p->total.total_ns % 1000000000u / 1000u,
		profile_avg_ns(&p->total) / 1000u, p->total.max_ns / 1000u,
		p->total.calls, p->total.errors);
}

const struct dump_ops dump_text_ops = {
	.event = text_event,
};
