/* map-text.c - the attach map as text, for pipes and logs (render.h). */
#include <inttypes.h>

#include "render.h"
#include "report.h"
#include "words.h"

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

static void text_attachment(FILE *out, const struct model *m,
			    const struct attachment *a)
{
	fprintf(out, "    pid %-7d 0x%012" PRIx64 "-0x%012" PRIx64 " %s %-5s ",
		a->proc->pid, a->addr, a->addr + a->length,
		a->readonly ? "ro" : "rw", model_how_name(a->how));
	words_put_safe(out, words_base_name(a->proc->exe));
	words_put_att_origin(out, m, a);
	fputc('\n', out);
}

static void text_segment(FILE *out, const struct model *m,
			 const struct segment *s)
{
	fputs("  ", out);
	words_put_identity(out, s);
	fprintf(out, ", %" PRIu64 " bytes, %s, %u attached\n", s->size,
		model_state_name(s->state), s->live_att);
	for (size_t i = 0; i < s->natt; i++)
		if (s->att[i]->live)
			text_attachment(out, m, s->att[i]);
}

static void text_process(FILE *out, const struct process *p)
{
	fprintf(out, "  %-7d ppid %-7d %s ", p->pid, p->ppid,
		words_process_state(p));
	words_put_safe(out, p->exe ? p->exe : "?");
	fputc('\n', out);
}

void map_text(FILE *out, const struct model *m, const char *path)
{
	size_t nseg = shown_segments(m);
	fputs("attach map of ", out);
	words_put_safe(out, path);
	if (m->from_proc) {
		fprintf(out, " from /proc now (no history, no backtraces): %zu "
			"segment%s, %zu process%s\n", nseg, words_plural(nseg),
			m->nprocesses, m->nprocesses == 1 ? "" : "es");
	} else {
		fputs(" at ", out);
		words_put_time(out, m->until_ns);
		fprintf(out, " (%s): %zu segment%s, %zu of %zu process%s "
			"alive\n", words_run_state(m->running, m->final), nseg,
			words_plural(nseg), alive_processes(m), m->nprocesses,
			m->nprocesses == 1 ? "" : "es");
	}
	for (size_t i = 0; i < m->nsegments; i++)
		if (map_shows(m->segments[i]))
			text_segment(out, m, m->segments[i]);
	fputs("processes:\n", out);
	for (size_t i = 0; i < m->nprocesses; i++)
		text_process(out, m->processes[i]);
}
