/* render-map.c - the attach map as text and as JSON (see map.h). */
#include <inttypes.h>
#include <string.h>

#include "json.h"
#include "map.h"
#include "report.h"

bool map_shows(const struct segment *s)
{
	return s->state != SEG_REMOVED;
}

static size_t shown_segments(const struct model *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nsegments; i++)
		n += map_shows(m->segments[i]);
	return n;
}

static size_t alive_processes(const struct model *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->nprocesses; i++)
		n += !m->processes[i]->ended;
	return n;
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path ? path : "?";
}

static void text_attachment(FILE *out, const struct attachment *a)
{
	fprintf(out, "    pid %-7d 0x%012" PRIx64 "-0x%012" PRIx64 " %s %-5s ",
		a->proc->pid, a->addr, a->addr + a->length,
		a->readonly ? "ro" : "rw", model_how_name(a->how));
	report_put_safe(out, base_name(a->proc->exe));
	fputc('\n', out);
}

static void text_segment(FILE *out, const struct segment *s)
{
	fputs("  ", out);
	report_put_identity(out, s);
	fprintf(out, ", %" PRIu64 " bytes, %s, %u attached\n", s->size,
		model_state_name(s->state), s->live_att);
	for (size_t i = 0; i < s->natt; i++)
		if (s->att[i]->live)
			text_attachment(out, s->att[i]);
}

static void text_process(FILE *out, const struct process *p)
{
	fprintf(out, "  %-7d ppid %-7d %s ", p->pid, p->ppid,
		p->ended ? "ended" : "alive");
	report_put_safe(out, p->exe ? p->exe : "?");
	fputc('\n', out);
}

void map_text(FILE *out, const struct model *m, const char *path)
{
	size_t nseg = shown_segments(m);
	const char *plural = nseg == 1 ? "" : "s";
	fputs("attach map of ", out);
	report_put_safe(out, path);
	if (m->from_proc)
		fprintf(out, " from /proc now (no history, no backtraces): %zu "
			"segment%s, %zu processes\n", nseg, plural, m->nprocesses);
	else
		fprintf(out, " at +%.6fs (%s): %zu segment%s, %zu of %zu "
			"processes alive\n", (double)m->until_ns / 1e9,
			m->running ? "running" : "finished", nseg, plural,
			alive_processes(m), m->nprocesses);
	for (size_t i = 0; i < m->nsegments; i++)
		if (map_shows(m->segments[i]))
			text_segment(out, m->segments[i]);
	fputs("processes:\n", out);
	for (size_t i = 0; i < m->nprocesses; i++)
		text_process(out, m->processes[i]);
}

/* --- JSON ------------------------------------------------------------------ */

static void json_segment(struct json_writer *w, const struct segment *s)
{
	json_begin_object(w);
	report_json_identity(w, s);
	json_key(w, "attachments");
	json_begin_array(w);
	for (size_t i = 0; i < s->natt; i++) {
		const struct attachment *a = s->att[i];
		if (!a->live)
			continue;
		json_begin_object(w);
		report_json_attachment_where(w, a);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
}

static void json_process(struct json_writer *w, const struct process *p)
{
	json_begin_object(w);
	json_key(w, "pid");
	json_int(w, p->pid);
	json_key(w, "ppid");
	json_int(w, p->ppid);
	json_member_string(w, "exe", p->exe);
	json_key(w, "alive");
	json_bool(w, !p->ended);
	json_end_object(w);
}

void map_json(FILE *out, const struct model *m)
{
	struct json_writer w;
	json_init(&w, out);
	json_begin_object(&w);
	/* "proc": rebuilt from /proc, without history or backtraces */
	json_key(&w, "source");
	json_string(&w, m->from_proc ? "proc" : "trace");
	json_key(&w, "time_ns");
	json_uint(&w, m->until_ns);
	json_key(&w, "running");
	json_bool(&w, m->running);
	json_key(&w, "segments");
	json_begin_array(&w);
	for (size_t i = 0; i < m->nsegments; i++)
		if (map_shows(m->segments[i]))
			json_segment(&w, m->segments[i]);
	json_end_array(&w);
	json_key(&w, "processes");
	json_begin_array(&w);
	for (size_t i = 0; i < m->nprocesses; i++)
		json_process(&w, m->processes[i]);
	json_end_array(&w);
	json_end_object(&w);
	json_newline(&w);
}
