/*
 * parse-options.h - the command line of the launcher and of every viewer
 * command, from one table, in the spirit of git's parse-options.
 *
 * A command describes itself once (struct parse_command: its name, usage
 * lines, description, positional arguments) and lists its options in a
 * table that points at its own result struct:
 *
 *	struct parse_opt opts[] = {
 *		OPT_BOOL(0, "json", &o->json, "one JSON object instead of text"),
 *		OPT_INT(0, "leak-exit", &o->leak_exit, "N", 0, 255, "0 to 255",
 *			"exit with status N when a segment leaked"),
 *		OPT_END(),
 *	};
 *	rc = parse_cmdline(&report_cmdline, opts, argc, argv, &args);
 *
 * The same table drives getopt_long, -h/--help and -V/--version (every
 * command has both), the messages for a missing value, a bad value, an
 * unknown option and a wrong number of arguments (one style:
 * "shmview: dump: unknown option '-x' (see 'shmview dump --help')"), and
 * the usage text that --help prints.
 *
 * Linked into the launcher and the viewer, not into the shim.
 */
#ifndef SHMTRACE_PARSE_OPTIONS_H
#define SHMTRACE_PARSE_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

enum parse_opt_kind {
	PARSE_OPT_END,
	PARSE_OPT_BOOL,		/* bool *: set to true */
	PARSE_OPT_FLAG,		/* int *: set to 1 */
	PARSE_OPT_STRING,	/* const char **: the value as given */
	PARSE_OPT_INT,		/* int *: a decimal number in [min, max] */
	PARSE_OPT_CALLBACK,	/* parse(value, target) */
	PARSE_OPT_COUNT,	/* int *: one more each time it is given
				   (-t, -tt, -ttt) */
};

/*
 * One option.  An option with a value_name takes a value ("--at TIME",
 * "--at=TIME", "-o FILE", "-oFILE"); one without takes none.  `want` ends
 * the message for a value the option refuses: "bad --at 'x': want <want>".
 */
struct parse_opt {
	enum parse_opt_kind kind;
	int short_name;		/* 'o', or 0 for none */
	const char *long_name;	/* "output", or NULL for none */
	void *target;
	const char *value_name;	/* "FILE": the value's name in the usage */
	const char *help;	/* '\n' starts a continuation line */
	int min, max;		/* PARSE_OPT_INT */
	const char *want;
	/* PARSE_OPT_CALLBACK: 0 with *target set, or -1 (without a message:
	 * the parser says "bad --x 'value': want ...") */
	int (*parse)(const char *value, void *target);
};

#define OPT_END() { .kind = PARSE_OPT_END }
#define OPT_BOOL(s, l, t, h) \
	{ .kind = PARSE_OPT_BOOL, .short_name = (s), .long_name = (l), \
	  .target = (t), .help = (h) }
#define OPT_FLAG(s, l, t, h) \
	{ .kind = PARSE_OPT_FLAG, .short_name = (s), .long_name = (l), \
	  .target = (t), .help = (h) }
#define OPT_COUNT(s, l, t, h) \
	{ .kind = PARSE_OPT_COUNT, .short_name = (s), .long_name = (l), \
	  .target = (t), .help = (h) }
#define OPT_STRING(s, l, t, v, h) \
	{ .kind = PARSE_OPT_STRING, .short_name = (s), .long_name = (l), \
	  .target = (t), .value_name = (v), .help = (h) }
#define OPT_INT(s, l, t, v, lo, hi, w, h) \
	{ .kind = PARSE_OPT_INT, .short_name = (s), .long_name = (l), \
	  .target = (t), .value_name = (v), .min = (lo), .max = (hi), \
	  .want = (w), .help = (h) }
#define OPT_CALLBACK(s, l, t, v, fn, w, h) \
	{ .kind = PARSE_OPT_CALLBACK, .short_name = (s), .long_name = (l), \
	  .target = (t), .value_name = (v), .parse = (fn), .want = (w), \
	  .help = (h) }

/* How many positional arguments parse_cmdline() takes at most when it
 * takes any number. */
#define PARSE_ARGS_ANY (-1)

/*
 * What a command says about itself, apart from its options.  Messages
 * start with "<program>: <name>: " ("shmview: dump: "), or "<program>: "
 * without a name; they end with "(see '<program> [<name>] --help')".
 */
struct parse_command {
	const char *program;	/* "shmview", "shmtrace" */
	const char *name;	/* "dump", or NULL for the program itself */
	const char *version;	/* what -V prints: "shmview 0.1.0" */
	const char *usage;	/* usage lines, '\n' between, without "usage: " */
	const char *description;	/* a paragraph, or NULL */
	const char *epilogue;	/* after the options, or NULL */
	const char *args_name;	/* "TRACE": for "missing TRACE" */
	int min_args, max_args;	/* max: PARSE_ARGS_ANY for no limit */
	const char *missing;	/* instead of "missing <args_name>", or NULL */
	/* the first positional argument ends the options (the launcher:
	 * what follows PROG is PROG's own) */
	bool stop_at_arg;
};

/*
 * Parses argv[1..argc) (argv[0] names the command; argv[argc] is NULL, as
 * main() gets it) by `opts`, which ends with OPT_END(), setting each
 * option's target as it comes.  Options and arguments may be mixed unless
 * cmd->stop_at_arg; "--" ends the options.
 *
 * Returns 0 with *args set to the positional arguments (NULL-terminated,
 * their count checked against cmd's), 1 after printing the usage (-h,
 * --help) or the version (-V, --version) on stdout, or -1 after printing
 * one line on stderr for a usage error.  argv is permuted.
 */
int parse_cmdline(const struct parse_command *cmd, const struct parse_opt *opts,
		  int argc, char **argv, char ***args);

/* The usage text --help prints: the usage lines, the description, the
 * options aligned in two columns (-h and -V last), the epilogue. */
void parse_cmdline_usage(FILE *out, const struct parse_command *cmd,
			 const struct parse_opt *opts);

/*
 * Prints a usage error in the parser's style, for a rule between options
 * that only the command knows ("--children goes with --pid"): one line on
 * stderr, "<program>: <name>: <message> (see '<program> <name> --help')".
 * Returns -1.
 */
int parse_cmdline_error(const struct parse_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The end of main(): flushes and closes stdout, and when that fails (a
 * full disk, a closed pipe's EIO...) prints "<program>: write error on
 * standard output: <reason>" on stderr.  Returns `rc`, or 1 when stdout
 * failed and rc was 0.
 */
int finish_stdout(const char *program, int rc);

#endif /* SHMTRACE_PARSE_OPTIONS_H */
