/*
 * parse-options.c - one option table drives getopt_long, the messages and
 * the usage text (see parse-options.h).
 *
 * getopt_long does the scanning (bundled short options, "--x=v" and
 * "--x v", unique prefixes of long names, "--", permuting); this file
 * builds its tables from ours and turns what it reports into our
 * messages.  Each long option's getopt value is LONG_BASE + its index in
 * the table, each short option's its letter, so whatever getopt returns
 * (or puts in optopt when it refuses something) names the entry and the
 * form the user typed.
 */
#include "parse-options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#define LONG_BASE 256	/* above every short option letter */

/* The parse in progress: the command's table with -h and -V after it. */
struct parser {
	const struct parse_command *cmd;
	const struct parse_opt *opts;
	size_t n;
	bool help, version;
};

static size_t count_opts(const struct parse_opt *opts)
{
	size_t n = 0;

	while (opts[n].kind != PARSE_OPT_END)
		n++;
	return n;
}

/* The command's options, then -h and -V, into all[] (n + 3 entries). */
static void join_builtins(struct parser *p, const struct parse_opt *opts,
			  struct parse_opt *all)
{
	const struct parse_opt builtins[] = {
		OPT_BOOL('h', "help", &p->help, "show this help"),
		OPT_BOOL('V', "version", &p->version, "print the version"),
		OPT_END(),
	};
	size_t n = count_opts(opts);

	memcpy(all, opts, n * sizeof(*all));
	memcpy(all + n, builtins, sizeof(builtins));
	p->opts = all;
	p->n = n + 2;
}

static void vsay(const struct parse_command *cmd, const char *fmt, va_list ap)
{
	/* our results first, when both streams go to one terminal */
	fflush(stdout);
	fprintf(stderr, "%s: ", cmd->program);
	if (cmd->name)
		fprintf(stderr, "%s: ", cmd->name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see '%s%s%s --help')\n", cmd->program,
		cmd->name ? " " : "", cmd->name ? cmd->name : "");
}

int parse_cmdline_error(const struct parse_command *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(cmd, fmt, ap);
	va_end(ap);
	return -1;
}

#define say(p, ...) parse_cmdline_error((p)->cmd, __VA_ARGS__)

/* --- the tables getopt_long wants ------------------------------------------ */

static void build_longopts(const struct parser *p, struct option *longopts)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct parse_opt *o = &p->opts[i];

		if (!o->long_name)
			continue;
		longopts[k++] = (struct option){
			o->long_name,
			o->value_name ? required_argument : no_argument,
			NULL, LONG_BASE + (int)i,
		};
	}
	longopts[k] = (struct option){ 0 };
}

/* "+:o:fs:..." - the leading ':' makes getopt report a missing value as
 * ':' and print nothing; '+' stops at the first positional argument. */
static void build_optstring(const struct parser *p, char *s)
{
	if (p->cmd->stop_at_arg)
		*s++ = '+';
	*s++ = ':';
	for (size_t i = 0; i < p->n; i++) {
		if (!p->opts[i].short_name)
			continue;
		*s++ = (char)p->opts[i].short_name;
		if (p->opts[i].value_name)
			*s++ = ':';
	}
	*s = '\0';
}

/* The entry getopt's value `c` names, or NULL. */
static const struct parse_opt *entry_of(const struct parser *p, int c)
{
	if (c >= LONG_BASE)
		return (size_t)(c - LONG_BASE) < p->n ? &p->opts[c - LONG_BASE]
						      : NULL;
	for (size_t i = 0; i < p->n && c > 0; i++)
		if (p->opts[i].short_name == c)
			return &p->opts[i];
	return NULL;
}

/* How the user wrote it: "--at" for a long form, "-o" for a short one. */
static const char *typed_name(const struct parse_opt *o, int c, char *buf,
			      size_t size)
{
	if (c >= LONG_BASE)
		snprintf(buf, size, "--%s", o->long_name);
	else
		snprintf(buf, size, "-%c", o->short_name);
	return buf;
}

/* --- refusals -------------------------------------------------------------- */

/* An unknown long option, or a prefix of several: `word` is "--x[=v]". */
static int unknown_long(const struct parser *p, const char *word)
{
	const char *name = word + 2;
	size_t len = strcspn(name, "=");
	char cands[256] = "";
	int matches = 0;

	for (size_t i = 0; i < p->n; i++) {
		const char *l = p->opts[i].long_name;

		if (!l || strncmp(l, name, len) != 0)
			continue;
		matches++;
		snprintf(cands + strlen(cands), sizeof(cands) - strlen(cands),
			 "%s--%s", matches > 1 ? ", " : "", l);
	}
	if (matches > 1)
		return say(p, "ambiguous option '--%.*s': %s", (int)len, name,
			   cands);
	return say(p, "unknown option '--%.*s'", (int)len, name);
}

/* What getopt refused: it returned ':' or '?' and set optopt. */
static int refused(const struct parser *p, int c, char **argv)
{
	const struct parse_opt *o = entry_of(p, optopt);
	char buf[128];

	if (c == ':' && o)
		return say(p, "%s needs a value",
			   typed_name(o, optopt, buf, sizeof(buf)));
	if (optopt >= LONG_BASE && o)
		return say(p, "--%s takes no value", o->long_name);
	if (optopt == 0 && optind > 0 && !strncmp(argv[optind - 1], "--", 2))
		return unknown_long(p, argv[optind - 1]);
	return say(p, "unknown option '-%c'", optopt);
}

/* --- values ---------------------------------------------------------------- */

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int bad_value(const struct parser *p, const struct parse_opt *o,
		     const char *value)
{
	if (o->long_name)
		return say(p, "bad --%s '%s': want %s", o->long_name, value,
			   o->want);
	return say(p, "bad -%c '%s': want %s", o->short_name, value, o->want);
}

/* Sets the target of `o` from `value` (NULL for an option without one). */
static int apply(const struct parser *p, const struct parse_opt *o,
		 const char *value)
{
	switch (o->kind) {
	case PARSE_OPT_BOOL:
		*(bool *)o->target = true;
		return 0;
	case PARSE_OPT_FLAG:
		*(int *)o->target = 1;
		return 0;
	case PARSE_OPT_COUNT:
		++*(int *)o->target;
		return 0;
	case PARSE_OPT_STRING:
		*(const char **)o->target = value;
		return 0;
	case PARSE_OPT_INT:
		if (parse_int(value, o->min, o->max, o->target))
			return bad_value(p, o, value);
		return 0;
	case PARSE_OPT_CALLBACK:
		if (o->parse(value, o->target))
			return bad_value(p, o, value);
		return 0;
	case PARSE_OPT_END:
		break;
	}
	return -1;
}

/* --- positional arguments -------------------------------------------------- */

static int check_args(const struct parser *p, int n, char **args)
{
	const struct parse_command *cmd = p->cmd;

	if (n < cmd->min_args)
		return cmd->missing ? say(p, "%s", cmd->missing)
				    : say(p, "missing %s", cmd->args_name);
	if (cmd->max_args == PARSE_ARGS_ANY || n <= cmd->max_args)
		return 0;
	if (cmd->max_args == 0)
		return say(p, "no argument expected, got '%s'", args[0]);
	if (cmd->max_args == 1)
		return say(p, "one %s only", cmd->args_name);
	return say(p, "too many arguments");
}

/* --- the usage text -------------------------------------------------------- */

/* "-o, --output FILE", "--json", "-T" into buf; returns its length. */
static int opt_spec(const struct parse_opt *o, char *buf, size_t size)
{
	int n = 0;

	if (o->short_name)
		n += snprintf(buf + n, size - n, "-%c%s", o->short_name,
			      o->long_name ? ", " : "");
	if (o->long_name)
		n += snprintf(buf + n, size - n, "--%s", o->long_name);
	if (o->value_name)
		n += snprintf(buf + n, size - n, " %s", o->value_name);
	return n;
}

/* Every line of `text` after "\n", indented by `indent`. */
static void put_indented(FILE *out, const char *text, int indent)
{
	const char *nl;

	while ((nl = strchr(text, '\n'))) {
		fprintf(out, "%.*s\n%*s", (int)(nl - text), text, indent, "");
		text = nl + 1;
	}
	fprintf(out, "%s\n", text);
}

static void put_options(FILE *out, const struct parse_opt *opts, size_t n)
{
	char spec[128];
	int width = 0;

	for (size_t i = 0; i < n; i++) {
		int len = opt_spec(&opts[i], spec, sizeof(spec));

		if (len > width)
			width = len;
	}
	for (size_t i = 0; i < n; i++) {
		opt_spec(&opts[i], spec, sizeof(spec));
		fprintf(out, "  %-*s  ", width, spec);
		put_indented(out, opts[i].help, width + 4);
	}
}

/* The usage of `p`, whose table holds -h and -V already. */
static void put_usage(FILE *out, const struct parser *p)
{
	fputs("usage: ", out);
	put_indented(out, p->cmd->usage, 7);
	if (p->cmd->description)
		fprintf(out, "\n%s\n", p->cmd->description);
	fputc('\n', out);
	put_options(out, p->opts, p->n);
	if (p->cmd->epilogue)
		fprintf(out, "\n%s\n", p->cmd->epilogue);
}

void parse_cmdline_usage(FILE *out, const struct parse_command *cmd,
			 const struct parse_opt *opts)
{
	struct parser p = { .cmd = cmd };
	struct parse_opt all[count_opts(opts) + 3];

	join_builtins(&p, opts, all);
	put_usage(out, &p);
}

/* --- the parse ------------------------------------------------------------- */

/* -h or -V just seen: print, and tell the caller to stop. */
static int answer_builtin(const struct parser *p)
{
	if (p->help)
		put_usage(stdout, p);
	else
		printf("%s\n", p->cmd->version);
	return 1;
}

int parse_cmdline(const struct parse_command *cmd, const struct parse_opt *opts,
		  int argc, char **argv, char ***args)
{
	struct parser p = { .cmd = cmd };
	struct parse_opt all[count_opts(opts) + 3];
	struct option longopts[sizeof(all) / sizeof(all[0])];
	char optstring[2 * sizeof(all) / sizeof(all[0]) + 3];
	int c;

	join_builtins(&p, opts, all);
	build_longopts(&p, longopts);
	build_optstring(&p, optstring);
	opterr = 0;
	optind = 0;	/* a full reset: glibc keeps state between calls */
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		const struct parse_opt *o = entry_of(&p, c);

		if (c == ':' || c == '?' || !o)
			return refused(&p, c, argv);
		if (apply(&p, o, optarg))
			return -1;
		if (p.help || p.version)
			return answer_builtin(&p);
	}
	if (check_args(&p, argc - optind, argv + optind))
		return -1;
	*args = argv + optind;
	return 0;
}

/* --- stdout ---------------------------------------------------------------- */

int finish_stdout(const char *program, int rc)
{
	bool pending = __fpending(stdout) != 0;
	bool failed = ferror(stdout);
	int err;

	errno = 0;
	if (fclose(stdout) == 0 && !failed)
		return rc;
	err = errno;
	/* stdout closed before we started, and nothing was written to it */
	if (!failed && !pending && err == EBADF)
		return rc;
	if (err)
		fprintf(stderr, "%s: write error on standard output: %s\n",
			program, strerror(err));
	else	/* an earlier flush failed; its errno is gone */
		fprintf(stderr, "%s: write error on standard output\n", program);
	return rc ? rc : 1;
}
