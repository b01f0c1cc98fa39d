/*
 * words.c - the phrases shared by shmview's text outputs (see words.h).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "capacity.h"
#include "util.h"
#include "words.h"

/* --- escaping -------------------------------------------------------------- */

#define ESCAPE_MAX 5    /* the longest escape, "\xNN", and its NUL */

/* The one rule: byte c as it is shown, into e (ESCAPE_MAX bytes). */
static const char *escape_byte(unsigned char c, char e[ESCAPE_MAX])
{
	switch (c) {
	case '"':  return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\t': return "\\t";
	case '\r': return "\\r";
	}
	if (c < 0x20 || c >= 0x7f) {
		snprintf(e, ESCAPE_MAX, "\\x%02x", c);
		return e;
	}
	e[0] = (char)c;
	e[1] = '\0';
	return e;
}

void words_put_escaped(FILE *out, const char *s, size_t n)
{
	char e[ESCAPE_MAX];

	for (size_t i = 0; i < n; i++)
		fputs(escape_byte((unsigned char)s[i], e), out);
}

void words_put_safe(FILE *out, const char *s)
{
	words_put_escaped(out, s, strlen(s));
}

void words_put_cstring(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	words_put_escaped(out, s, n);
	fputc('"', out);
}

void words_put_quoted(FILE *out, const char *s)
{
	words_put_cstring(out, s, strlen(s));
}

/* Append s escaped to buf[*len..size), whole escapes only; keeps buf
 * NUL-terminated (*len < size on entry). */
static void append_escaped(char *buf, size_t size, size_t *len, const char *s)
{
	char e[ESCAPE_MAX];

	for (; s && *s; s++) {
		const char *esc = escape_byte((unsigned char)*s, e);
		size_t n = strlen(esc);

		if (*len + n >= size)
			break;
		memcpy(buf + *len, esc, n);
		*len += n;
	}
	buf[*len] = '\0';
}

char *words_escape(const char *s, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	append_escaped(buf, size, &len, s);
	return buf;
}

/* --- small words ------------------------------------------------------------ */

const char *words_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

char *words_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, size, "%" PRIu64 " byte%s", n, words_plural(n));
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

void words_put_fill(FILE *out, uint64_t used, uint64_t size, uint64_t inodes,
		    uint64_t inodes_used)
{
	char a[32], b[32];

	fputs(words_bytes(used, a, sizeof(a)), out);
	if (!size) {
		fputs(", no size limit", out);
		return;
	}
	fprintf(out, " of %s (%u%%)", words_bytes(size, b, sizeof(b)),
		capacity_percent(used, size));
	if (inodes && inodes_used >= inodes)
		fprintf(out, ", every inode (%" PRIu64 ") taken", inodes);
	if (capacity_is_full(size, used, inodes, inodes_used))
		fputs(", FULL", out);
}

const char *words_base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	if (!path)
		return "?";
	return slash && slash[1] ? slash + 1 : path;
}

void words_put_time(FILE *out, uint64_t ns)
{
	fprintf(out, "+%" PRIu64 ".%06" PRIu64 "s", ns / 1000000000u,
		ns % 1000000000u / 1000u);
}

/* --- processes and the run ---------------------------------------------------- */

char *words_signal(int sig, char *buf, size_t size)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, size, "signal %d (SIG%s)", sig, abbrev);
	else
		snprintf(buf, size, "signal %d", sig);
	return buf;
}

const char *words_process_state(const struct process *p)
{
	return p->ended ? "ended" : "alive";
}

void words_put_process_end(FILE *out, const struct process *p)
{
	char buf[32];

	if (!p->ended) {
		fputs(words_process_state(p), out);
		return;
	}
	words_put_time(out, p->end_ns);
	if (p->signal)
		fprintf(out, ", killed by %s",
			words_signal(p->signal, buf, sizeof(buf)));
	else if (p->exit_status >= 0)
		fprintf(out, ", exit %d", p->exit_status);
}

void words_put_pid(FILE *out, int32_t pid, const struct process *p)
{
	fprintf(out, "pid %" PRId32, pid);
	if (p && p->exe) {
		fputs(" (", out);
		words_put_safe(out, words_base_name(p->exe));
		fputc(')', out);
	}
}

const char *words_run_state(bool running, bool final)
{
	return running ? "running" : final ? "finished" : "stopped";
}

const char words_abandoned_why[] = "a process died, or a signal handler "
	"jumped out (siglongjmp) of a call, while recording";

/* --- segments --------------------------------------------------------------- */

void words_put_identity(FILE *out, const struct segment *s)
{
	switch (s->kind) {
	case SEG_SYSV:
		fprintf(out, "sysv shmid %" PRId32, s->shmid);
		if (s->key)
			fprintf(out, " key 0x%" PRIx32, s->key);
		else
			fputs(" key IPC_PRIVATE", out);
		break;
	case SEG_POSIX:
		fputs("posix ", out);
		words_put_quoted(out, s->name ? s->name : "");
		break;
	case SEG_MEMFD:
		fputs("memfd:", out);
		words_put_quoted(out, s->name ? s->name : "");
		break;
	case SEG_ANON:
		fputs("anonymous shared mapping", out);
		break;
	case SEG_DEVZERO:
		fputs("shared mapping of /dev/zero", out);
		break;
	case SEG_SEM:
		fputs("semaphore ", out);
		words_put_quoted(out, s->name ? s->name : "");
		break;
	case SEG_FILE:
		if (s->name) {         /* the object record's, or /proc's */
			fputs("file ", out);
			words_put_quoted(out, s->name);
			fprintf(out, " inode %" PRIu64, s->inode);
		} else {
			fprintf(out, "file inode %" PRIu64, s->inode);
		}
		break;
	default:
		fputs("segment", out);
	}
}

char *words_identity(const struct segment *s, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");

	if (!f) {
		snprintf(buf, size, "%s", model_kind_name(s->kind));
		return buf;
	}
	words_put_identity(f, s);
	fclose(f);	/* fmemopen NUL-terminates, cutting if need be */
	return buf;
}

void words_short_identity(const struct segment *s, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	switch (s->kind) {
	case SEG_SYSV:
		if (s->key)
			snprintf(buf, size, "shmid %" PRId32 " key 0x%" PRIx32,
				 s->shmid, s->key);
		else
			snprintf(buf, size, "shmid %" PRId32 " IPC_PRIVATE",
				 s->shmid);
		return;
	case SEG_MEMFD:
		len = (size_t)snprintf(buf, size, "memfd:");
		if (len >= size)
			return;
		/* fall through */
	case SEG_POSIX:
	case SEG_SEM:
		append_escaped(buf, size, &len, s->name ? s->name : "?");
		return;
	case SEG_FILE:
		if (s->name)
			append_escaped(buf, size, &len, s->name);
		else
			snprintf(buf, size, "inode %" PRIu64, s->inode);
		return;
	default:	/* anonymous: who made it, when the trace says */
		if (s->creator.seq != MODEL_NO_SEQ)
			snprintf(buf, size, "from pid %" PRId32, s->creator.pid);
		else
			snprintf(buf, size, "inode %" PRIu64, s->inode);
	}
}

const char *words_state(const struct segment *s)
{
	switch (s->state) {
	case SEG_LEAKED:
		return s->created ? "LEAKED" :
		       "left in place (the trace did not create it)";
	case SEG_PENDING:
		return "PENDING (marked for removal, still attached)";
	case SEG_ENDED:
		return s->notes & SEG_NOTE_FILE_UNLINKED ?
		       "ended (the mappings ended; the file was unlinked)" :
		       "ended (the mappings ended; the file remains)";
	default:
		return model_state_name(s->state);
	}
}

static const struct { unsigned bit; const char *name, *text; } notes[] = {
	{ SEG_NOTE_PREEXISTING, "preexisting",
	  "it existed before the trace saw it" },
	{ SEG_NOTE_REMOVED_OUTSIDE, "removed_outside",
	  "it was removed by a process outside the trace" },
	{ SEG_NOTE_ATTACHED_OUTSIDE, "attached_outside",
	  "the kernel counts attaches the trace did not see" },
	{ SEG_NOTE_NAME_REUSED, "name_reused",
	  "its name now belongs to another object" },
	{ SEG_NOTE_UNKNOWN_ORIGIN, "unknown_origin",
	  "mapped from a descriptor whose opening was not recorded" },
	{ SEG_NOTE_FILE_UNLINKED, "file_unlinked",
	  "the file was unlinked during the run" },
	{ SEG_NOTE_SEEN_IN_PROC, "seen_in_proc",
	  "attached where the trace saw no call (seen in /proc only)" },
};

const char *words_note_text(unsigned bit)
{
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		if (notes[i].bit == bit)
			return notes[i].text;
	return NULL;
}

const char *words_note_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		if (notes[i].bit == bit)
			return notes[i].name;
	return NULL;
}

/* Whether c may stand unquoted in a shell word. */
static bool shell_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("_.,:+=@%/-", c);
}

/* `word` as one shell word: plain, '...', or $'...' for control bytes
 * (the shell's quoting, not words_put_escaped(): the command must run
 * when pasted). */
static void put_shell_word(FILE *out, const char *word)
{
	bool plain = *word != '\0', printable = true;

	for (const char *p = word; *p; p++) {
		plain = plain && shell_plain((unsigned char)*p);
		printable = printable && *p >= 0x20 && *p < 0x7f;
	}
	if (plain) {
		fputs(word, out);
		return;
	}
	fputs(printable ? "'" : "$'", out);
	for (const char *p = word; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\'')
			fputs(printable ? "'\\''" : "\\'", out);
		else if (!printable && c == '\\')
			fputs("\\\\", out);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('\'', out);
}

bool words_put_remove_cmd(FILE *out, const struct segment *s)
{
	const char *name = s->name;
	char *path;

	if (s->kind == SEG_SYSV) {
		fprintf(out, "ipcrm -m %" PRId32, s->shmid);
		return true;
	}
	if ((s->kind != SEG_POSIX && s->kind != SEG_SEM) || !name)
		return false;
	while (*name == '/')    /* shm_open("/x") is /dev/shm/x */
		name++;
	path = xmalloc(strlen(name) + sizeof("/dev/shm/sem."));
	strcpy(path, s->kind == SEG_SEM ? "/dev/shm/sem." : "/dev/shm/");
	strcat(path, name);
	fputs("rm ", out);
	put_shell_word(out, path);
	free(path);
	return true;
}

void words_put_att_origin(FILE *out, const struct model *m,
			  const struct attachment *a)
{
	if (a->received_from > 0) {
		fputs(" received from ", out);
		words_put_pid(out, a->received_from,
			      m ? model_process(m, a->received_from) : NULL);
		fputs(" over a socket", out);
	} else if (a->received_from < 0) {
		fputs(" received over a socket", out);
	}
	if (a->proc_only)
		fputs(" seen in /proc only", out);
}

/* --- backtraces ----------------------------------------------------------- */

static void put_frame(FILE *out, const char *indent, unsigned i,
		      const struct sym_frame *f)
{
	fprintf(out, "%s#%u 0x%016" PRIx64 " ", indent, i, f->ip);
	if (f->symbol) {
		words_put_safe(out, f->symbol);
		fprintf(out, "+0x%" PRIx64, f->offset);
	} else if (f->module) {	/* stripped: where, for eu-addr2line */
		words_put_safe(out, words_base_name(f->module));
		fprintf(out, "+0x%" PRIx64, f->module_offset);
	} else {
		fputs("??", out);
	}
	if (f->module) {
		fputs(" (", out);
		words_put_safe(out, f->module);
		fputc(')', out);
	}
	if (f->file) {
		fputc(' ', out);
		words_put_safe(out, words_base_name(f->file));
		fprintf(out, ":%d", f->line);
	}
	fputc('\n', out);
}

void words_put_frames(FILE *out, const char *indent,
		      const struct sym_frame *frames, unsigned n,
		      bool truncated)
{
	for (unsigned i = 0; i < n; i++)
		put_frame(out, indent, i, &frames[i]);
	if (truncated)
		fprintf(out, "%s... (deeper frames not recorded)\n", indent);
}
