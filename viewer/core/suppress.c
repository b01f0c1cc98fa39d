/*
 * suppress.c - leak suppressions (see suppress.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suppress.h"
#include "util.h"
#include "words.h"

/* --- reading -------------------------------------------------------------- */

struct parse_state {
	const char *path;
	unsigned line;
	struct suppression *cur;    /* inside a block */
	bool named;
};

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void add_frame(struct suppression *sp, enum supp_frame_kind kind,
		      const char *glob)
{
	sp->frames = xrealloc(sp->frames, (sp->nframes + 1) * sizeof(*sp->frames));
	sp->frames[sp->nframes].kind = kind;
	sp->frames[sp->nframes].glob = glob ? xstrdup(glob) : NULL;
	sp->nframes++;
}

/* One line inside a block, after its name. */
static int block_line(struct parse_state *ps, char *l)
{
	static const struct { const char *prefix; enum supp_frame_kind kind; }
	frames[] = { { "fun:", SUPP_FUN }, { "src:", SUPP_SRC },
		     { "obj:", SUPP_OBJ } };
	struct suppression *sp = ps->cur;
	char **field = NULL;

	if (strcmp(l, "...") == 0) {
		add_frame(sp, SUPP_ANY, NULL);
		return 0;
	}
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		if (strncmp(l, frames[i].prefix, 4) == 0) {
			add_frame(sp, frames[i].kind, trim(l + 4));
			return 0;
		}
	if (strncmp(l, "kind:", 5) == 0)
		field = &sp->kind, l += 5;
	else if (strncmp(l, "key:", 4) == 0)
		field = &sp->key, l += 4;
	else if (strncmp(l, "name:", 5) == 0)
		field = &sp->seg_name, l += 5;
	else if (strcmp(l, "shmtrace:leak") == 0)	/* valgrind's "tool:kind" */
		return 0;
	if (!field)
		return error("%s:%u: unknown line '%s' (want kind:, key:, name:, "
			     "fun:, src:, obj:, ... or })", ps->path, ps->line, l);
	free(*field);
	*field = xstrdup(trim(l));
	return 0;
}

static int one_line(struct suppressions *s, struct parse_state *ps, char *l)
{
	l = trim(l);
	if (!*l || *l == '#')
		return 0;
	if (!ps->cur) {
		if (strcmp(l, "{") != 0)
			return error("%s:%u: want '{' to start a suppression, "
				     "got '%s'", ps->path, ps->line, l);
		XGROW(s->v, s->n, s->cap, 8);
		ps->cur = &s->v[s->n++];
		memset(ps->cur, 0, sizeof(*ps->cur));
		ps->named = false;
		return 0;
	}
	if (strcmp(l, "}") == 0) {
		if (!ps->named)
			return error("%s:%u: a suppression without a name",
				     ps->path, ps->line);
		ps->cur = NULL;
		return 0;
	}
	if (strcmp(l, "{") == 0)
		return error("%s:%u: '{' inside a suppression (a '}' is missing)",
			     ps->path, ps->line);
	if (!ps->named) {
		ps->cur->name = xstrdup(l);
		ps->named = true;
		return 0;
	}
	return block_line(ps, l);
}

int suppress_parse(struct suppressions *s, const char *text, const char *path)
{
	struct parse_state ps = { .path = path };
	char *copy = xstrdup(text), *line, *save = NULL;
	int rc = 0;

	/* strtok_r would skip empty lines and so miscount */
	for (line = copy; line && rc == 0; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		ps.line++;
		rc = one_line(s, &ps, line);
	}
	if (rc == 0 && ps.cur)
		rc = error("%s:%u: the last suppression has no '}'", path, ps.line);
	free(copy);
	return rc;
}

int suppress_load(struct suppressions *s, const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!f)
		return error("cannot read suppressions '%s': %s", path,
			     strerror(errno));
	{
		char buf[4096];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			text = xrealloc(text, len + n + 1);
			memcpy(text + len, buf, n);
			len += n;
		}
	}
	if (ferror(f)) {
		fclose(f);
		free(text);
		return error("cannot read suppressions '%s': %s", path,
			     strerror(errno));
	}
	fclose(f);
	if (!text)
		text = xstrdup("");
	text[len] = '\0';
	rc = suppress_parse(s, text, path);
	free(text);
	return rc;
}

/* --- matching ------------------------------------------------------------- */

static bool glob(const char *pattern, const char *s)
{
	return s && fnmatch(pattern, s, 0) == 0;
}

static bool frame_matches(const struct supp_frame *sf, const struct sym_frame *f)
{
	char src[512];

	switch (sf->kind) {
	case SUPP_FUN:
		return glob(sf->glob, f->symbol);
	case SUPP_OBJ:
		return glob(sf->glob, f->module);
	case SUPP_SRC:
		if (!f->file)
			return false;
		snprintf(src, sizeof(src), "%s:%d", words_base_name(f->file), f->line);
		if (glob(sf->glob, src))
			return true;
		snprintf(src, sizeof(src), "%s:%d", f->file, f->line);
		return glob(sf->glob, src);
	case SUPP_ANY:
		return true;
	}
	return false;
}

/* Do frame lines [i, n) match frames [j, nframes)?  "..." takes any
 * number; the stack may go on past the last line. */
static bool frames_match(const struct supp_frame *sf, size_t i, size_t n,
			 const struct sym_frame *f, size_t j, size_t nframes)
{
	if (i == n)
		return true;
	if (sf[i].kind == SUPP_ANY) {
		for (size_t k = j; k <= nframes; k++)
			if (frames_match(sf, i + 1, n, f, k, nframes))
				return true;
		return false;
	}
	return j < nframes && frame_matches(&sf[i], &f[j]) &&
	       frames_match(sf, i + 1, n, f, j + 1, nframes);
}

static bool matches(const struct suppression *sp, const struct segment *seg,
		    const struct report_stack *st)
{
	char key[16];

	if (sp->kind && !glob(sp->kind, model_kind_name(seg->kind)))
		return false;
	if (sp->key) {
		if (seg->kind != SEG_SYSV)
			return false;
		snprintf(key, sizeof(key), "0x%" PRIx32, seg->key);
		if (!glob(sp->key, key))
			return false;
	}
	if (sp->seg_name && !glob(sp->seg_name, seg->name))
		return false;
	if (!sp->nframes)
		return true;
	if (!st || !st->known)
		return false;
	return frames_match(sp->frames, 0, sp->nframes, st->frames, 0,
			    st->nframes);
}

struct suppression *suppress_match(struct suppressions *s,
				   const struct segment *seg,
				   const struct report_stack *created)
{
	for (size_t i = 0; i < s->n; i++)
		if (matches(&s->v[i], seg, created)) {
			s->v[i].used++;
			return &s->v[i];
		}
	return NULL;
}

/* --- writing -------------------------------------------------------------- */

void suppress_write(FILE *out, const char *name, const struct segment *seg,
		    const struct report_stack *created)
{
	fprintf(out, "{\n   %s\n   kind:%s\n", name, model_kind_name(seg->kind));
	if (seg->kind == SEG_SYSV && seg->key)
		fprintf(out, "   key:0x%" PRIx32 "\n", seg->key);
	if (seg->name) {
		fputs("   name:", out);
		words_put_safe(out, seg->name);
		fputc('\n', out);
	}
	for (unsigned i = 0; created && created->known && i < created->nframes; i++) {
		const struct sym_frame *f = &created->frames[i];

		if (f->symbol) {
			fputs("   fun:", out);
			words_put_safe(out, f->symbol);
		} else if (f->module) {
			fputs("   obj:", out);
			words_put_safe(out, f->module);
		} else {
			fputs("   ...", out);
		}
		fputc('\n', out);
	}
	fputs("}\n", out);
}

void suppress_free(struct suppressions *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct suppression *sp = &s->v[i];

		free(sp->name);
		free(sp->kind);
		free(sp->key);
		free(sp->seg_name);
		for (size_t j = 0; j < sp->nframes; j++)
			free(sp->frames[j].glob);
		free(sp->frames);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
