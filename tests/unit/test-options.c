/*
 * test-options.c - the option parser (common/parse-options.h): flags and
 * values in every form getopt knows (--x=v, --x v, -xv, -x v, bundles),
 * each refusal and its one message (missing value, value not taken, bad
 * value, unknown long and short option, ambiguous prefix), positional
 * counts, "--", the launcher's stop at the first argument, -h and -V, the
 * usage text generated from the table; and finish_stdout() on a full
 * disk and a closed stdout, in a child process each.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "parse-options.h"

/* --- a command to parse for ------------------------------------------------- */

struct result {
	bool json, stack, summary;
	int force, quiet;
	const char *output;
	int level;
	long size;
};

static int parse_size(const char *s, void *target)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || (*end && strcmp(end, "K")))
		return -1;
	*(long *)target = *end ? v << 10 : v;
	return 0;
}

static const struct parse_command test_cmd = {
	.program = "prog", .name = "cmd", .version = "prog 1.2.3",
	.usage = "prog cmd [--json] TRACE\nprog cmd --level N",
	.description = "Do the thing to TRACE.\nA second line.",
	.epilogue = "See also: nothing.",
	.args_name = "TRACE", .min_args = 1, .max_args = 1,
};

/* What one parse did: its status, stdout, stderr, the arguments left. */
struct outcome {
	int rc;
	char out[4096], err[1024];
	char **args;
	struct result r;
};

static void slurp(FILE *f, char *buf, size_t size)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Runs parse_cmdline with stdout and stderr captured; argv gets "cmd" in
 * front and NULL at the end, as main() would pass it. */
static struct outcome run_cmd(const struct parse_command *cmd, char **words)
{
	static char *argv[32];
	struct outcome o = { 0 };
	const struct parse_opt opts[] = {
		OPT_BOOL(0, "json", &o.r.json, "one JSON object"),
		OPT_BOOL(0, "stack", &o.r.stack, "the stack too"),
		OPT_BOOL(0, "summary", &o.r.summary, "only the summary"),
		OPT_FLAG('f', "force", &o.r.force, "overwrite FILE"),
		OPT_FLAG('q', NULL, &o.r.quiet, "quiet"),
		OPT_STRING('o', "output", &o.r.output, "FILE", "write to FILE"),
		OPT_INT('l', "level", &o.r.level, "N", 0, 9, "0 to 9",
			"the level,\nfrom 0 to 9"),
		OPT_CALLBACK(0, "size", &o.r.size, "BYTES", parse_size,
			     "a byte count", "how big"),
		OPT_END(),
	};
	FILE *out = tmpfile(), *err = tmpfile();
	int argc = 0, saved_out, saved_err;

	argv[argc++] = "cmd";
	while (*words)
		argv[argc++] = *words++;
	argv[argc] = NULL;
	fflush(stdout);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	o.rc = parse_cmdline(cmd, opts, argc, argv, &o.args);
	fflush(stdout);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	slurp(out, o.out, sizeof(o.out));
	slurp(err, o.err, sizeof(o.err));
	return o;
}

#define WORDS(...) ((char *[]){ __VA_ARGS__, NULL })
#define RUN(...) run_cmd(&test_cmd, WORDS(__VA_ARGS__))

/* The parse failed with one line, `msg` after the prefix, before the hint. */
static bool refused_with(const struct outcome *o, const char *msg)
{
	char want[512];

	snprintf(want, sizeof(want), "prog: cmd: %s (see 'prog cmd --help')\n",
		 msg);
	if (o->rc == -1 && !strcmp(o->err, want) && !o->out[0])
		return true;
	printf("#   rc %d, stderr \"%s\"\n#   want \"%s\"\n", o->rc, o->err, want);
	return false;
}

/* --- the tests -------------------------------------------------------------- */

static void test_flags_and_values(void)
{
	struct outcome o = RUN("--json", "-f", "t.trace");

	CHECK(o.rc == 0 && o.r.json && o.r.force == 1 && !o.r.stack &&
	      !o.err[0], "a long and a short flag");
	CHECK_STR(o.args[0], "t.trace", "the positional argument is left");
	CHECK(o.args[1] == NULL, "the arguments left end with NULL");

	o = RUN("--output=a", "--level", "7", "t");
	CHECK(o.rc == 0 && o.r.output && !strcmp(o.r.output, "a") &&
	      o.r.level == 7, "--x=value and --x value");
	o = RUN("-ob", "-l", "3", "t");
	CHECK(o.rc == 0 && o.r.output && !strcmp(o.r.output, "b") &&
	      o.r.level == 3, "-xvalue and -x value");
	o = RUN("-fq", "t");
	CHECK(o.rc == 0 && o.r.force == 1 && o.r.quiet == 1,
	      "bundled short flags");
	o = RUN("-fqoout", "t");
	CHECK(o.rc == 0 && o.r.force && o.r.quiet && o.r.output &&
	      !strcmp(o.r.output, "out"), "a bundle ending with a value");
	o = RUN("--size", "2K", "t");
	CHECK(o.rc == 0 && o.r.size == 2048, "a callback's value");
	o = RUN("--jso", "t");
	CHECK(o.rc == 0 && o.r.json, "a unique prefix of a long option");
	o = RUN("t", "--json");
	CHECK(o.rc == 0 && o.r.json && !strcmp(o.args[0], "t"),
	      "an option after the argument");
}

static void test_refusals(void)
{
	struct outcome o = RUN("t", "--output");

	CHECK(refused_with(&o, "--output needs a value"),
	      "missing value, long form");
	o = RUN("t", "-o");
	CHECK(refused_with(&o, "-o needs a value"), "missing value, short form");
	o = RUN("--force=yes", "t");
	CHECK(refused_with(&o, "--force takes no value"),
	      "a value for a flag");
	o = RUN("--bogus", "t");
	CHECK(refused_with(&o, "unknown option '--bogus'"), "unknown long option");
	o = RUN("--bogus=1", "t");
	CHECK(refused_with(&o, "unknown option '--bogus'"),
	      "unknown long option with a value: named without it");
	o = RUN("-x", "t");
	CHECK(refused_with(&o, "unknown option '-x'"), "unknown short option");
	o = RUN("-tt", "t");
	CHECK(refused_with(&o, "unknown option '-t'"),
	      "unknown short option in a bundle: the letter, not a neighbour");
	o = RUN("-fxq", "t");
	CHECK(refused_with(&o, "unknown option '-x'"),
	      "unknown short option inside a bundle");
	o = RUN("--s", "t");
	CHECK(refused_with(&o, "ambiguous option '--s': --stack, --summary, "
			   "--size"), "an ambiguous prefix names the candidates");
	o = RUN("--level", "10", "t");
	CHECK(refused_with(&o, "bad --level '10': want 0 to 9"),
	      "a number out of range");
	o = RUN("-l", "3x", "t");
	CHECK(refused_with(&o, "bad --level '3x': want 0 to 9"),
	      "not a number (the message uses the long name)");
	o = RUN("--size", "lots", "t");
	CHECK(refused_with(&o, "bad --size 'lots': want a byte count"),
	      "a callback refuses a value");
	o = RUN("t", "-f", "-x");
	CHECK(refused_with(&o, "unknown option '-x'") && o.r.force == 1,
	      "options before the refusal are applied");
}

static void test_positionals(void)
{
	struct parse_command any = test_cmd, none = test_cmd, two = test_cmd,
			     named = test_cmd;
	struct outcome o = RUN("--json");

	CHECK(refused_with(&o, "missing TRACE"), "too few arguments");
	o = RUN("a", "b");
	CHECK(refused_with(&o, "one TRACE only"), "one argument at most");
	none.min_args = none.max_args = 0;
	o = run_cmd(&none, WORDS("x"));
	CHECK(refused_with(&o, "no argument expected, got 'x'"), "no argument");
	two.max_args = 2;
	o = run_cmd(&two, WORDS("a", "b", "c"));
	CHECK(refused_with(&o, "too many arguments"), "more than two");
	any.max_args = PARSE_ARGS_ANY;
	o = run_cmd(&any, WORDS("a", "b", "c", "d"));
	CHECK(o.rc == 0 && !strcmp(o.args[3], "d") && !o.args[4],
	      "any number of arguments");
	named.missing = "no program to run";
	o = run_cmd(&named, WORDS("-f"));
	CHECK(refused_with(&o, "no program to run"), "the command's own "
	      "message for a missing argument");

	o = RUN("--", "-x");
	CHECK(o.rc == 0 && !strcmp(o.args[0], "-x"), "\"--\" ends the options");
	two.max_args = PARSE_ARGS_ANY;
	o = run_cmd(&two, WORDS("-f", "--", "--json", "-q"));
	CHECK(o.rc == 0 && o.r.force && !o.r.json && !o.r.quiet &&
	      !strcmp(o.args[0], "--json") && !strcmp(o.args[1], "-q"),
	      "what follows \"--\" is arguments");
}

static void test_stop_at_arg(void)
{
	struct parse_command launcher = test_cmd;
	struct outcome o;

	launcher.name = NULL;
	launcher.max_args = PARSE_ARGS_ANY;
	launcher.stop_at_arg = true;
	o = run_cmd(&launcher, WORDS("-f", "prog", "-x", "--json", "a"));
	CHECK(o.rc == 0 && o.r.force && !o.r.json && !strcmp(o.args[0], "prog")
	      && !strcmp(o.args[1], "-x") && !strcmp(o.args[2], "--json")
	      && !strcmp(o.args[3], "a") && !o.args[4],
	      "stop at the program: its options stay its own, in order");
	o = run_cmd(&launcher, WORDS("-q", "--", "-prog", "-f"));
	CHECK(o.rc == 0 && o.r.quiet && !o.r.force &&
	      !strcmp(o.args[0], "-prog") && !strcmp(o.args[1], "-f"),
	      "stop at the program after \"--\"");
	o = run_cmd(&launcher, WORDS("-xq"));
	CHECK(o.rc == -1 && !strcmp(o.err, "prog: unknown option '-x' "
				    "(see 'prog --help')\n"),
	      "a program without a command name: 'prog: ...' (see 'prog "
	      "--help')");
}

static const char want_usage[] =
"usage: prog cmd [--json] TRACE\n"
"       prog cmd --level N\n"
"\n"
"Do the thing to TRACE.\n"
"A second line.\n"
"\n"
"  --json             one JSON object\n"
"  --stack            the stack too\n"
"  --summary          only the summary\n"
"  -f, --force        overwrite FILE\n"
"  -q                 quiet\n"
"  -o, --output FILE  write to FILE\n"
"  -l, --level N      the level,\n"
"                     from 0 to 9\n"
"  --size BYTES       how big\n"
"  -h, --help         show this help\n"
"  -V, --version      print the version\n"
"\n"
"See also: nothing.\n";

static void test_help_version(void)
{
	struct parse_command bare = test_cmd;
	struct outcome o = RUN("--help");
	char buf[4096] = "";
	FILE *f;

	CHECK(o.rc == 1 && !o.err[0], "--help: status 1 (done), no error");
	CHECK_STR(o.out, want_usage, "--help: the usage text from the table");
	o = RUN("-h", "--bogus");
	CHECK(o.rc == 1 && !strcmp(o.out, want_usage) && !o.err[0],
	      "-h stops the parse: what follows is not looked at");
	o = RUN("-V");
	CHECK(o.rc == 1 && !strcmp(o.out, "prog 1.2.3\n") && !o.err[0],
	      "-V prints the version");
	o = RUN("t", "--version");
	CHECK(o.rc == 1 && !strcmp(o.out, "prog 1.2.3\n"),
	      "--version after an argument");
	o = RUN("--bogus", "--help");
	CHECK(refused_with(&o, "unknown option '--bogus'"),
	      "an error before -h is an error");

	bare.description = bare.epilogue = NULL;
	bare.usage = "prog cmd";
	f = tmpfile();
	parse_cmdline_usage(f, &bare, (struct parse_opt[]){ OPT_END() });
	slurp(f, buf, sizeof(buf));
	CHECK_STR(buf, "usage: prog cmd\n\n"
		  "  -h, --help     show this help\n"
		  "  -V, --version  print the version\n",
		  "the usage of a command without options, description or "
		  "epilogue");
}

static void test_reparse(void)
{
	struct outcome o = RUN("-fxq", "t");

	o = RUN("-q", "t");
	CHECK(o.rc == 0 && o.r.quiet && !o.r.force && !strcmp(o.args[0], "t"),
	      "a parse after one that stopped inside a bundle starts afresh");
}

/* --- finish_stdout, in a child: it closes stdout ---------------------------- */

/* Runs finish_stdout(rc) in a child whose stdout is `path` (NULL: closed)
 * after printing `text`; returns the exit status, stderr in err. */
static int child_finish(const char *path, const char *text, int rc,
			char *err, size_t size)
{
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	fflush(stdout);
	if (pipe(pipefd) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int fd = path ? open(path, O_WRONLY) : -1;

		dup2(pipefd[1], 2);
		if (fd >= 0)
			dup2(fd, 1);
		else
			close(1);
		fputs(text, stdout);
		_exit(finish_stdout("prog", rc));
	}
	close(pipefd[1]);
	n = read(pipefd[0], err, size - 1);
	err[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_finish_stdout(void)
{
	static const char full[] =
		"prog: write error on standard output: No space left on device\n";
	char err[512];
	int rc;

	rc = child_finish("/dev/null", "fine\n", 0, err, sizeof(err));
	CHECK(rc == 0 && !err[0], "stdout written in full: the status stays 0");
	rc = child_finish("/dev/full", "lost\n", 0, err, sizeof(err));
	CHECK(rc == 1 && !strcmp(err, full),
	      "a full disk: one line with the reason, status 1");
	rc = child_finish("/dev/full", "lost\n", 3, err, sizeof(err));
	CHECK(rc == 3 && !strcmp(err, full),
	      "a full disk after a failure: the line, the command's status");
	rc = child_finish("/dev/full", "", 0, err, sizeof(err));
	CHECK(rc == 0 && !err[0], "nothing written to a full disk: no error");
	rc = child_finish(NULL, "", 0, err, sizeof(err));
	CHECK(rc == 0 && !err[0], "stdout closed and nothing written: no error");
	rc = child_finish(NULL, "lost\n", 0, err, sizeof(err));
	CHECK(rc == 1 && !strcmp(err, "prog: write error on standard output: "
				 "Bad file descriptor\n"),
	      "stdout closed and something written: an error");
}

int main(void)
{
	test_flags_and_values();
	test_refusals();
	test_positionals();
	test_stop_at_arg();
	test_help_version();
	test_reparse();
	test_finish_stdout();
	return check_exit();
}
