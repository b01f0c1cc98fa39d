/*
 * decode.h - what each recorded call means: names, arguments, flags.
 *
 * One table describes every call: its name and its arguments, each with
 * the man page's parameter name, the args[] slot it lives in and how its
 * value reads (an address, a key, a size, a descriptor, decoded flags of a
 * given family, the event's string...).  The text and JSON renderers both
 * walk that description, so the two formats cannot drift apart.
 */
#ifndef SHMVIEW_DECODE_H
#define SHMVIEW_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

/* How an argument's value reads. */
enum decode_kind {
	DECODE_PTR,      /* address; text shows 0 as NULL, JSON as "0x0" */
	DECODE_HEX,      /* value always in hex ("0x0" included) */
	DECODE_KEY,      /* System V key_t: 32-bit hex */
	DECODE_SIZE,     /* unsigned decimal */
	DECODE_INT,      /* C int (fd, shmid, pid, status): low 32 bits,
	                    signed, so -1 reads -1 however it was widened */
	DECODE_OFF,      /* off_t: signed 64-bit decimal */
	DECODE_FLAGS,    /* symbolic, through decode_flags(family) */
	DECODE_STRING,   /* the event's string (for exec and spawn: the path,
	                    its first NUL-terminated piece) */
	DECODE_ARGV,     /* exec and spawn: the argv pieces of the string */
	DECODE_BUILD_ID, /* module: build-id bytes (SHMT_ARG_MODULE_BUILD_ID*) */
};

/* Flag and command families, for DECODE_FLAGS. */
enum decode_family {
	DECODE_F_NONE = 0,
	DECODE_F_SHMGET,     /* IPC_CREAT|IPC_EXCL|SHM_HUGETLB|...|0666 */
	DECODE_F_SHMAT,      /* SHM_RDONLY|SHM_RND|SHM_REMAP|SHM_EXEC */
	DECODE_F_SHMCTL_CMD, /* IPC_STAT, IPC_RMID, SHM_LOCK... */
	DECODE_F_PROT,       /* PROT_READ|PROT_WRITE, PROT_NONE */
	DECODE_F_MAP,        /* MAP_SHARED|MAP_ANONYMOUS... */
	DECODE_F_MREMAP,     /* MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP */
	DECODE_F_OPEN,       /* O_RDWR|O_CREAT|O_EXCL... */
	DECODE_F_MODE,       /* 0600 */
	DECODE_F_MEMFD,      /* MFD_CLOEXEC|MFD_ALLOW_SEALING... */
	DECODE_F_WSTATUS,    /* a wait status, strace's way:
	                        [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}] */
	DECODE_F_COUNT
};

/* Where an argument is shown (some go to a text suffix instead). */
#define DECODE_IN_TEXT 0x1u
#define DECODE_IN_JSON 0x2u
#define DECODE_IN_BOTH (DECODE_IN_TEXT | DECODE_IN_JSON)

struct decode_arg {
	const char *name;     /* man-page parameter name, the JSON key */
	uint8_t kind;         /* enum decode_kind */
	uint8_t family;       /* enum decode_family, for DECODE_FLAGS */
	uint8_t slot;         /* index into args[] */
	uint8_t where;        /* DECODE_IN_* */
	uint8_t cond;         /* when it applies (decode.c's COND_*) */
};

/* How the return value reads. */
enum decode_ret {
	DECODE_RET_INT,    /* a number; -1 with errno on failure */
	DECODE_RET_ADDR,   /* an address on success (shmat, mmap, mremap) */
	DECODE_RET_ERRNUM, /* the error number itself (posix_spawn) */
	DECODE_RET_NONE,   /* the call does not return: "= ?", JSON null */
	DECODE_RET_HIDDEN, /* not a call (module): no "= ...", JSON null */
};

/* A note appended to the text line after the return value. */
enum decode_note {
	DECODE_NOTE_NONE,
	DECODE_NOTE_CHILD_OF,  /* " (child of N)": fork seen by the child */
	DECODE_NOTE_PID,       /* " (pid N)": posix_spawn's child */
};

#define DECODE_MAX_ARGS 8

/* One event as the renderers see it, filled by decode_event(). */
struct decode_view {
	const char *name;      /* "shmget", "execvp", "_exit", "module" */
	const struct decode_arg *args[DECODE_MAX_ARGS]; /* those that apply */
	unsigned nargs;
	enum decode_ret ret_kind;
	bool failed;           /* the call reported failure */
	int errnum;            /* errno to show; 0 when none is known */
	enum decode_note note;
	int64_t note_value;
};

/* Longest text decode_flags() produces, NUL included. */
#define DECODE_FLAGS_MAX 512

/*
 * Describe event `ev` (validated by the reader) into `*v`: the call's
 * display name, which arguments apply to this particular event (they can
 * depend on flags, e.g. mremap's new_address only with MREMAP_FIXED), how
 * to read the return value, and whether the call failed.  Never fails.
 * The pointers in *v refer to static tables.
 */
void decode_event(const struct trace_event *ev, struct decode_view *v);

/* The raw value of an argument of `ev` (args[arg->slot]). */
uint64_t decode_value(const struct trace_event *ev,
		      const struct decode_arg *arg);

/*
 * Render `value` of `family` symbolically into buf (at least
 * DECODE_FLAGS_MAX bytes) and return buf.  Bits without a name are kept as
 * hex ("IPC_CREAT|0x40000000|0600"); nothing is ever dropped.
 */
const char *decode_flags(enum decode_family family, uint64_t value,
			 char *buf);

/* Symbolic errno name ("EEXIST"), or NULL when unknown. */
const char *decode_errno_name(int errnum);

/* strerror() text ("File exists"); never NULL. */
const char *decode_errno_msg(int errnum);

/* The name of an enum shmt_obj ("anon", "posix", ...), NULL for NONE. */
const char *decode_obj_name(uint32_t obj);

/* The name of a call id as used by JSON's "call" for the plain variant
 * ("shmget", "exec" for SHMT_CALL_EXEC), or NULL when out of range. */
const char *decode_call_name(unsigned call);

/* Whether events of this call are records beside the program's calls
 * (a loaded module, the launcher's tmpfs and cgroup samples), which dump
 * shows only with --modules and the model does not replay. */
bool decode_is_record(unsigned call);

/*
 * The call id a name stands for: a family ("shmget", "exec", "wait",
 * "exit": *family set) or a name dump prints for one variant ("execvp",
 * "waitpid", "_exit", "posix_spawnp", "reap": *family cleared).  -1 when
 * no call has that name.
 */
int decode_call_by_name(const char *name, bool *family);

/* The name dump prints for event `ev` (decode_event()'s v.name). */
const char *decode_display_name(const struct trace_event *ev);

/*
 * A piece of the event's string: the whole string, the exec path, or one
 * argv element.  `last` is true when no piece follows it, which is where
 * a truncated string (SHMT_EVF_STR_TRUNC) was cut.
 */
struct decode_piece {
	const char *s;
	size_t len;
	bool last;
};

/*
 * Walk the pieces of an event's string.  For exec and posix_spawn the
 * string is "path\0argv0\0argv1..." bounded by argc (SHMT_ARG_ARGC); for every
 * other call it is one piece.
 */
struct decode_strings {
	const char *p;
	const char *end;
	uint64_t argv_left;   /* argv pieces still expected */
	bool after_nul;       /* the previous piece ended at a NUL */
	bool split;           /* exec/spawn form */
	bool started;
};

void decode_strings_begin(struct decode_strings *it,
			  const struct trace_event *ev);

/* The string argument (first piece); *out->s may be "" (len 0). */
void decode_strings_first(struct decode_strings *it,
			  struct decode_piece *out);

/* The next argv piece; false when there is none. */
bool decode_strings_next(struct decode_strings *it, struct decode_piece *out);

/* The string argument of `ev` alone: decode_strings_first() of a walk
 * begun at ev, for a caller that wants no argv. */
void decode_string_arg(const struct trace_event *ev, struct decode_piece *out);

/*
 * Write the build-id of module event `ev` as lowercase hex into buf (at
 * least 2 * SHMT_BUILD_ID_MAX + 1 bytes); returns buf ("" when none).
 */
const char *decode_build_id(const struct trace_event *ev, char *buf);

/* The bytes of that build-id: returns the length (<= SHMT_BUILD_ID_MAX). */
size_t decode_build_id_bytes(const struct trace_event *ev,
			     unsigned char *bytes);

#endif /* SHMVIEW_DECODE_H */
