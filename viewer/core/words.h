/*
 * words.h - what shmview says, said once: the phrases its text outputs
 * (report and the exit summary, map, audit, live, dump's frames, clean)
 * share, and the one escaping of a string for a terminal.  Each function
 * writes to the FILE or the buffer it is given, never to stdout.
 *
 * Where the outputs had drifted apart, the wording kept is the one a user
 * of strace, valgrind and ps reads without a second look:
 *
 *   - A process still going is "alive", one gone "ended"; "running" and
 *     "finished" are said of the run (the traced program as a whole, the
 *     trace still being written).  ps(1) says "running" of a process on a
 *     CPU (state R), so a sleeping worker would read as not running; and
 *     the JSON already says "alive" of a process, "running" of the run.
 *   - A signal is "signal 9 (SIGKILL)": the number, which kill -9 and the
 *     shell's $? (128 + 9) speak, with the name, as valgrind puts it
 *     ("terminating with default action of signal 9 (SIGKILL)").  A signal
 *     glibc has no name for (SIGRTMIN+n) is just "signal 34".
 *   - A segment gone that no traced process removed "was removed by a
 *     process outside the trace": what happened, not only what did not.
 *   - A string from a traced program or an ELF file is escaped the way
 *     strace prints strings: \\ \" \n \t \r, and \xNN for every other
 *     byte outside printable ASCII.  UTF-8 is shown byte by byte too: a
 *     terminal is never asked to decode what a program chose.  A name
 *     reads the same quoted or bare, in every output, so it can be
 *     searched for.  (JSON has its own escaping, in json.c.)
 *
 * The one-word names of kinds, states and attach methods, which the JSON
 * uses as values too, are the model's: model_kind_name() and friends.
 */
#ifndef SHMVIEW_WORDS_H
#define SHMVIEW_WORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "symbolize.h"

/* --- escaping -------------------------------------------------------------- */

/* Write `n` bytes of `s` escaped (see above), without quotes. */
void words_put_escaped(FILE *out, const char *s, size_t n);

/* The same for the NUL-terminated `s`: a bare name, a path. */
void words_put_safe(FILE *out, const char *s);

/* `n` bytes of `s` as a double-quoted C string: "a\"b\n". */
void words_put_cstring(FILE *out, const char *s, size_t n);

/* The same for the NUL-terminated `s`. */
void words_put_quoted(FILE *out, const char *s);

/*
 * `s` (NULL: "") escaped into buf, NUL-terminated, for curses and fixed
 * cells.  When it does not fit it is cut before the first escape that
 * would not fit whole, so a cut never leaves half an escape.  `size` must
 * be at least 1.  Returns buf.
 */
char *words_escape(const char *s, char *buf, size_t size);

/* --- small words ------------------------------------------------------------ */

/* "s" unless n is 1: "%" PRIu64 " segment%s", n, words_plural(n). */
const char *words_plural(uint64_t n);

/* The last component of `path` ("?" for NULL); `path` itself when it
 * ends in '/'. */
const char *words_base_name(const char *path);

/* A size for people: "512 bytes", "8.0 KiB", "23.5 GiB", into buf.
 * Returns buf. */
char *words_bytes(uint64_t n, char *buf, size_t size);

/* How full a tmpfs is: "8.0 KiB of 64.0 MiB (0%)", "1.0 MiB of 1.0 MiB
 * (100%), FULL" (capacity_is_full's rule), or "8.0 KiB, no size limit"
 * when size is 0. */
void words_put_fill(FILE *out, uint64_t used, uint64_t size, uint64_t inodes,
		    uint64_t inodes_used);

/* A time since the trace's start: "+0.012345s" (microseconds, cut). */
void words_put_time(FILE *out, uint64_t ns);

/* --- processes and the run ---------------------------------------------------- */

/* "signal 9 (SIGKILL)", or "signal 34" for a signal without a name, into
 * buf (cut to size).  Returns buf. */
char *words_signal(int sig, char *buf, size_t size);

/* A process: "alive" or "ended". */
const char *words_process_state(const struct process *p);

/*
 * How process p ended: "alive", or the end's time and how:
 * "+0.250000s, killed by signal 9 (SIGKILL)", "+0.250000s, exit 0", or
 * the time alone when the trace does not say.
 */
void words_put_process_end(FILE *out, const struct process *p);

/* "pid 4242 (sysv-server)": the pid and, when `p` (the process of that
 * pid, or NULL) knows its image, the image's base name. */
void words_put_pid(FILE *out, int32_t pid, const struct process *p);

/* The run: "running" while a traced process is alive, "finished" once the
 * trace is complete, "stopped" when it ended without being completed. */
const char *words_run_state(bool running, bool final);

/* Why a complete trace has slots never committed: "a process died, or a
 * signal handler jumped out (siglongjmp) of a call, while recording". */
extern const char words_abandoned_why[];

/* --- segments --------------------------------------------------------------- */

/*
 * A segment's identity, escaped:
 *   sysv shmid 42 key 0x53001234 / sysv shmid 42 key IPC_PRIVATE /
 *   posix "/name" / memfd:"name" / semaphore "/name" /
 *   anonymous shared mapping / shared mapping of /dev/zero /
 *   file inode 12 / file "/path" inode 12
 */
void words_put_identity(FILE *out, const struct segment *s);

/* The same phrase in buf (cut to size, NUL-terminated), for track names
 * and curses.  Returns buf. */
char *words_identity(const struct segment *s, char *buf, size_t size);

/*
 * The short identity of a row of the live map, whose kind is in the next
 * column, escaped into buf (cut to size): "shmid 42 key 0x1234",
 * "shmid 42 IPC_PRIVATE", "/name", "memfd:name", "from pid 42" (an
 * anonymous mapping the trace saw made), "/path" (a file), "inode 1234".
 */
void words_short_identity(const struct segment *s, char *buf, size_t size);

/*
 * The segment's state as the text report's title says it: "LEAKED" (a
 * leak of this trace), "left in place (the trace did not create it)",
 * "PENDING (marked for removal, still attached)", "ended (the mappings
 * ended; the file remains)" or "... the file was unlinked)", else its
 * state's name.
 */
const char *words_state(const struct segment *s);

/* The sentence and the JSON name of the SEG_NOTE_* bit `bit`: "it was
 * removed by a process outside the trace", "removed_outside".  NULL for a
 * bit that is no note. */
const char *words_note_text(unsigned bit);
const char *words_note_name(unsigned bit);

/*
 * The command that removes s: "ipcrm -m 42", or "rm /dev/shm/NAME" with
 * the path one shell word (quoted when it needs it, $'...' when it holds
 * control bytes).  Writes nothing and returns false for the kinds that
 * cannot outlive their processes.
 */
bool words_put_remove_cmd(FILE *out, const struct segment *s);

/*
 * How an attachment came to be, beyond its method, with a space first:
 * " received from pid 42 (server) over a socket" (SCM_RIGHTS),
 * " seen in /proc only"; nothing for the ordinary ones.  `m` (or NULL)
 * names the sender's image.
 */
void words_put_att_origin(FILE *out, const struct model *m,
			  const struct attachment *a);

/* --- backtraces ----------------------------------------------------------- */

/*
 * `n` frames, one a line, then "<indent>... (deeper frames not recorded)"
 * when `truncated`:
 *   <indent>#0 0x000055d0c3a1b2c4 main+0x24 (/path/server) server.c:76
 * "??" for a frame without a symbol; the module and file only when known.
 */
void words_put_frames(FILE *out, const char *indent,
		      const struct sym_frame *frames, unsigned n,
		      bool truncated);

#endif /* SHMVIEW_WORDS_H */
