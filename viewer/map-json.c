/* map-json.c - the attach map as one JSON object (render.h). */
#include "json-model.h"
#include "json.h"
#include "render.h"
#include "report.h"

static void json_segment(struct json_writer *w, const struct segment *s)
{
	json_begin_object(w);
	json_model_identity(w, s);
	json_key(w, "attachments");
	json_begin_array(w);
	for (size_t i = 0; i < s->natt; i++) {
		const struct attachment *a = s->att[i];
		if (!a->live)
			continue;
		json_begin_object(w);
		json_model_attachment_where(w, a);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
}

static void json_process(struct json_writer *w, const struct process *p)
{
	json_begin_object(w);
	json_model_process(w, p);
	json_member_bool(w, "alive", !p->ended);
	json_end_object(w);
}

void map_json(FILE *out, const struct model *m)
{
	struct json_writer w;
	json_begin_document(&w, out);
	/* "proc": rebuilt from /proc, without history or backtraces */
	json_member_string(&w, "source", m->from_proc ? "proc" : "trace");
	json_model_trace_start(&w, m->trace);
	json_member_uint(&w, "time_ns", m->until_ns);
	json_member_uint(&w, "events", m->events);
	json_member_bool(&w, "running", m->running);
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
	json_end_document(&w);
}
