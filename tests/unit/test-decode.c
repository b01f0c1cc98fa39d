/*
 * test-decode.c - the flag, command and errno decoders, the call table,
 * the string splitting of exec events, and the escaping of JSON strings
 * (control characters, quotes, invalid UTF-8, an ESC in a name); the text
 * escaping is test-words.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "check.h"
#include "decode.h"
#include "json.h"

static char buf[DECODE_FLAGS_MAX];

#define FLAGS(fam, v, want) \
	CHECK_STR(decode_flags(fam, v, buf), want, #fam " %s", want)

static void test_shmget_flags(void)
{
	FLAGS(DECODE_F_SHMGET, IPC_CREAT | 0666, "IPC_CREAT|0666");
	FLAGS(DECODE_F_SHMGET, IPC_CREAT | IPC_EXCL | 0666,
	      "IPC_CREAT|IPC_EXCL|0666");
	FLAGS(DECODE_F_SHMGET, 0600, "0600");
	FLAGS(DECODE_F_SHMGET, 0, "0");
	FLAGS(DECODE_F_SHMGET, IPC_CREAT, "IPC_CREAT|0");
	FLAGS(DECODE_F_SHMGET, 0x40000000 | IPC_CREAT | 0600,
	      "IPC_CREAT|0x40000000|0600");
	FLAGS(DECODE_F_SHMGET, SHM_HUGETLB | SHM_NORESERVE | IPC_CREAT | 0640,
	      "IPC_CREAT|SHM_HUGETLB|SHM_NORESERVE|0640");
	FLAGS(DECODE_F_SHMGET, SHM_HUGETLB | (21u << 26) | 0600,
	      "SHM_HUGETLB|SHM_HUGE_2MB|0600");
	/* A negative int widened with its sign: only 32 bits count. */
	FLAGS(DECODE_F_SHMGET, (uint64_t)(int64_t)(int32_t)0x80000000u,
	      "0x80000000|0");
}

static void test_shmat_shmctl(void)
{
	FLAGS(DECODE_F_SHMAT, 0, "0");
	FLAGS(DECODE_F_SHMAT, SHM_RDONLY, "SHM_RDONLY");
	FLAGS(DECODE_F_SHMAT, SHM_RDONLY | SHM_RND | SHM_REMAP | SHM_EXEC,
	      "SHM_RDONLY|SHM_RND|SHM_REMAP|SHM_EXEC");
	FLAGS(DECODE_F_SHMAT, SHM_RND | 0x1, "SHM_RND|0x1");

	FLAGS(DECODE_F_SHMCTL_CMD, IPC_RMID, "IPC_RMID");
	FLAGS(DECODE_F_SHMCTL_CMD, IPC_SET, "IPC_SET");
	FLAGS(DECODE_F_SHMCTL_CMD, IPC_STAT, "IPC_STAT");
	FLAGS(DECODE_F_SHMCTL_CMD, IPC_INFO, "IPC_INFO");
	FLAGS(DECODE_F_SHMCTL_CMD, SHM_INFO, "SHM_INFO");
	FLAGS(DECODE_F_SHMCTL_CMD, SHM_STAT, "SHM_STAT");
	FLAGS(DECODE_F_SHMCTL_CMD, 15, "SHM_STAT_ANY");
	FLAGS(DECODE_F_SHMCTL_CMD, SHM_LOCK, "SHM_LOCK");
	FLAGS(DECODE_F_SHMCTL_CMD, SHM_UNLOCK, "SHM_UNLOCK");
	FLAGS(DECODE_F_SHMCTL_CMD, 0x100 | IPC_STAT, "IPC_64|IPC_STAT");
	FLAGS(DECODE_F_SHMCTL_CMD, 99, "99");
	FLAGS(DECODE_F_SHMCTL_CMD, (uint64_t)-1, "-1");
}

static void test_mmap_flags(void)
{
	FLAGS(DECODE_F_PROT, PROT_NONE, "PROT_NONE");
	FLAGS(DECODE_F_PROT, PROT_READ | PROT_WRITE, "PROT_READ|PROT_WRITE");
	FLAGS(DECODE_F_PROT, PROT_READ | PROT_WRITE | PROT_EXEC,
	      "PROT_READ|PROT_WRITE|PROT_EXEC");
	FLAGS(DECODE_F_PROT, PROT_READ | 0x10, "PROT_READ|0x10");

	FLAGS(DECODE_F_MAP, MAP_SHARED | MAP_ANONYMOUS,
	      "MAP_SHARED|MAP_ANONYMOUS");
	FLAGS(DECODE_F_MAP, MAP_PRIVATE | MAP_FIXED, "MAP_PRIVATE|MAP_FIXED");
	FLAGS(DECODE_F_MAP, MAP_SHARED_VALIDATE | MAP_SYNC,
	      "MAP_SHARED_VALIDATE|MAP_SYNC");
	FLAGS(DECODE_F_MAP, MAP_SHARED | MAP_FIXED_NOREPLACE,
	      "MAP_SHARED|MAP_FIXED_NOREPLACE");
	FLAGS(DECODE_F_MAP, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
	      MAP_POPULATE | MAP_LOCKED | MAP_GROWSDOWN | MAP_STACK |
	      MAP_NONBLOCK,
	      "MAP_PRIVATE|MAP_ANONYMOUS|MAP_GROWSDOWN|MAP_LOCKED|"
	      "MAP_NORESERVE|MAP_POPULATE|MAP_NONBLOCK|MAP_STACK");
	FLAGS(DECODE_F_MAP, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB |
	      (21u << 26), "MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_2MB");
	FLAGS(DECODE_F_MAP, MAP_SHARED | 0x200000, "MAP_SHARED|0x200000");
	FLAGS(DECODE_F_MAP, 0x5, "0x5");
	FLAGS(DECODE_F_MAP, 0, "0");

	FLAGS(DECODE_F_MREMAP, 0, "0");
	FLAGS(DECODE_F_MREMAP, MREMAP_MAYMOVE, "MREMAP_MAYMOVE");
	FLAGS(DECODE_F_MREMAP, MREMAP_MAYMOVE | MREMAP_FIXED,
	      "MREMAP_MAYMOVE|MREMAP_FIXED");
	FLAGS(DECODE_F_MREMAP, MREMAP_MAYMOVE | 4,
	      "MREMAP_MAYMOVE|MREMAP_DONTUNMAP");
	FLAGS(DECODE_F_MREMAP, 8, "0x8");
}

static void test_open_mode_memfd(void)
{
	FLAGS(DECODE_F_OPEN, O_RDONLY, "O_RDONLY");
	FLAGS(DECODE_F_OPEN, O_RDWR | O_CREAT, "O_RDWR|O_CREAT");
	FLAGS(DECODE_F_OPEN, O_RDWR | O_CREAT | O_EXCL | O_TRUNC,
	      "O_RDWR|O_CREAT|O_EXCL|O_TRUNC");
	FLAGS(DECODE_F_OPEN, O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
	      "O_WRONLY|O_NOFOLLOW|O_CLOEXEC");
	FLAGS(DECODE_F_OPEN, O_RDONLY | O_SYNC, "O_RDONLY|O_SYNC");
	FLAGS(DECODE_F_OPEN, O_RDONLY | O_DSYNC, "O_RDONLY|O_DSYNC");
	FLAGS(DECODE_F_OPEN, O_RDWR | 0x80000000u, "O_RDWR|0x80000000");
	FLAGS(DECODE_F_OPEN, 3, "0x3");

	FLAGS(DECODE_F_MODE, 0600, "0600");
	FLAGS(DECODE_F_MODE, 0, "0");
	FLAGS(DECODE_F_MODE, 04755, "04755");

	FLAGS(DECODE_F_MEMFD, 0, "0");
	FLAGS(DECODE_F_MEMFD, 1 | 2, "MFD_CLOEXEC|MFD_ALLOW_SEALING");
	FLAGS(DECODE_F_MEMFD, 4 | (30u << 26), "MFD_HUGETLB|MFD_HUGE_1GB");
	FLAGS(DECODE_F_MEMFD, 8 | 1, "MFD_CLOEXEC|MFD_NOEXEC_SEAL");
	FLAGS(DECODE_F_MEMFD, 0x10, "MFD_EXEC");
	FLAGS(DECODE_F_MEMFD, 0x100, "0x100");
	FLAGS(DECODE_F_WSTATUS, 3 << 8, "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]");
	FLAGS(DECODE_F_WSTATUS, 9, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]");
	FLAGS(DECODE_F_WSTATUS, 11 | 0x80,
	      "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]");
}

static void test_errno(void)
{
	CHECK_STR(decode_errno_name(EEXIST), "EEXIST", "errno EEXIST");
	CHECK_STR(decode_errno_msg(EEXIST), "File exists", "strerror EEXIST");
	CHECK_STR(decode_errno_name(ENOENT), "ENOENT", "errno ENOENT");
	CHECK(decode_errno_name(0) == NULL, "errno 0 has no name");
	CHECK(decode_errno_name(99999) == NULL, "unknown errno has no name");
	CHECK(decode_errno_msg(99999) != NULL, "unknown errno has a message");
	CHECK_STR(decode_obj_name(SHMT_OBJ_MEMFD), "memfd", "object memfd");
	CHECK(decode_obj_name(SHMT_OBJ_NONE) == NULL, "no object name");
	CHECK(decode_obj_name(1000) == NULL, "object out of range");
}

/* --- the call table ------------------------------------------------------ */

static struct trace_event make_event(uint16_t call, const char *str,
				     uint32_t len)
{
	struct trace_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.call = call;
	ev.str = str;
	ev.str_len = len;
	return ev;
}

static const char *arg_names(const struct decode_view *v, unsigned where)
{
	static char names[256];

	names[0] = '\0';
	for (unsigned i = 0; i < v->nargs; i++)
		if (v->args[i]->where & where)
			snprintf(names + strlen(names),
				 sizeof(names) - strlen(names), "%s%s",
				 names[0] ? "," : "", v->args[i]->name);
	return names;
}

static void test_call_table(void)
{
	struct trace_event ev = make_event(SHMT_CALL_MREMAP, "", 0);
	struct decode_view v;

	decode_event(&ev, &v);
	CHECK_STR(v.name, "mremap", "mremap name");
	CHECK_STR(arg_names(&v, DECODE_IN_JSON),
		  "old_address,old_size,new_size,flags", "mremap args");
	ev.args[SHMT_ARG_MREMAP_FLAGS] = MREMAP_MAYMOVE | MREMAP_FIXED;
	decode_event(&ev, &v);
	CHECK_STR(arg_names(&v, DECODE_IN_JSON),
		  "old_address,old_size,new_size,flags,new_address",
		  "mremap new_address with MREMAP_FIXED");

	ev = make_event(SHMT_CALL_EXEC, "", 0);
	ev.args[SHMT_ARG_EXEC_VARIANT] = SHMT_EXEC_EXECLP;
	ev.ret = -1;
	ev.err = ENOENT;
	decode_event(&ev, &v);
	CHECK_STR(v.name, "execlp", "exec variant name");
	CHECK_STR(arg_names(&v, DECODE_IN_BOTH), "file,argv",
		  "execlp takes a file");
	CHECK(v.failed && v.errnum == ENOENT, "failed exec");
	ev.args[SHMT_ARG_EXEC_VARIANT] = 99;
	ev.flags = SHMT_EVF_START;
	ev.ret = 0;
	decode_event(&ev, &v);
	CHECK_STR(v.name, "exec", "unknown exec variant");
	CHECK_STR(arg_names(&v, DECODE_IN_JSON), "path,argv,ppid",
		  "exec start has ppid in JSON");
	CHECK_STR(arg_names(&v, DECODE_IN_TEXT), "path,argv",
		  "but not in text");

	ev = make_event(SHMT_CALL_POSIX_SPAWN, "", 0);
	ev.args[SHMT_ARG_SPAWN_SEARCH] = 1;
	ev.ret = ENOENT;
	decode_event(&ev, &v);
	CHECK_STR(v.name, "posix_spawnp", "posix_spawnp name");
	CHECK(v.failed && v.errnum == ENOENT && v.note == DECODE_NOTE_NONE,
	      "posix_spawn returns the error number");
	CHECK_STR(arg_names(&v, DECODE_IN_JSON), "file,argv",
		  "failed spawn has no child pid");

	ev = make_event(SHMT_CALL_EXIT, "", 0);
	ev.args[SHMT_ARG_EXIT_RAW] = 1;
	ev.ret = -1;
	decode_event(&ev, &v);
	CHECK(strcmp(v.name, "_exit") == 0 && v.ret_kind == DECODE_RET_NONE &&
	      !v.failed, "_exit does not return");

	ev = make_event(SHMT_CALL_MMAP, "", 0);
	ev.ret = -1;
	ev.err = ENOMEM;
	decode_event(&ev, &v);
	CHECK(v.ret_kind == DECODE_RET_ADDR && v.failed && v.errnum == ENOMEM,
	      "MAP_FAILED is a failure");
	ev.ret = 0x7f0000000000;
	ev.err = EINTR;     /* stale errno on success: ignored */
	decode_event(&ev, &v);
	CHECK(!v.failed && v.errnum == 0, "success ignores errno");
	CHECK(decode_call_name(SHMT_CALL_COUNT) == NULL &&
	      strcmp(decode_call_name(SHMT_CALL_SHMGET), "shmget") == 0,
	      "decode_call_name");
}

/* Join the pieces of an exec string as  path|a|b  with '$' after a last. */
static const char *pieces(const char *s, uint32_t len, uint64_t argc)
{
	static char out[256];
	struct trace_event ev = make_event(SHMT_CALL_EXEC, s, len);
	struct decode_strings it;
	struct decode_piece p;

	ev.args[SHMT_ARG_EXEC_ARGC] = argc;
	decode_strings_begin(&it, &ev);
	decode_strings_first(&it, &p);
	snprintf(out, sizeof(out), "%.*s%s", (int)p.len, p.s, p.last ? "$" : "");
	while (decode_strings_next(&it, &p))
		snprintf(out + strlen(out), sizeof(out) - strlen(out),
			 "|%.*s%s", (int)p.len, p.s, p.last ? "$" : "");
	return out;
}

static void test_strings(void)
{
	CHECK_STR(pieces("/bin/ls\0ls\0-l", 13, 2), "/bin/ls|ls|-l$",
		  "path and two args");
	CHECK_STR(pieces("/bin/ls\0ls\0-l\0", 14, 2), "/bin/ls|ls|-l$",
		  "a trailing NUL is not an argument");
	CHECK_STR(pieces("/bin/x\0x\0", 9, 2), "/bin/x|x|$",
		  "an empty last argument");
	CHECK_STR(pieces("/bin/x\0x\0\0y", 11, 3), "/bin/x|x||y$",
		  "an empty middle argument");
	CHECK_STR(pieces("/bin/x\0x\0y\0z", 12, 2), "/bin/x|x|y$",
		  "argc bounds the pieces");
	CHECK_STR(pieces("/bin/x\0ar", 9, 3), "/bin/x|ar$",
		  "a cut string ends early");
	CHECK_STR(pieces("/bin/longpa", 11, 2), "/bin/longpa$",
		  "cut inside the path");
	CHECK_STR(pieces("", 0, 0), "$", "empty string");
}

/* --- escaping ----------------------------------------------------------- */

static char *json_of(const char *s, size_t n)
{
	static char out[512];
	size_t size;
	char *mem;
	FILE *f = open_memstream(&mem, &size);

	json_put_string(f, s, n);
	fclose(f);
	snprintf(out, sizeof(out), "%s", mem);
	free(mem);
	return out;
}

#define JSON(s, want) \
	CHECK_STR(json_of(s, sizeof(s) - 1), want, "json %s", want)

static void test_json_escaping(void)
{
	JSON("plain", "\"plain\"");
	JSON("a\"b\\c", "\"a\\\"b\\\\c\"");
	JSON("\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"");
	JSON("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	JSON("x\0y", "\"x\\u0000y\"");
	JSON("/shm\x1b[31mred\x1b[0m", "\"/shm\\u001b[31mred\\u001b[0m\"");
	JSON("caf\xc3\xa9", "\"caf\xc3\xa9\"");                 /* é */
	JSON("\xe2\x82\xac", "\"\xe2\x82\xac\"");               /* € */
	JSON("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");       /* 4 bytes */
	JSON("\xff\xfe", "\"\\u00ff\\u00fe\"");
	JSON("\xc0\xaf", "\"\\u00c0\\u00af\"");                 /* overlong */
	JSON("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");      /* surrogate */
	JSON("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""); /* >10FFFF */
	JSON("a\xe2\x82", "\"a\\u00e2\\u0082\"");               /* cut */
	JSON("\xe2x", "\"\\u00e2x\"");
	JSON("\xc2\x85", "\"\\u0085\"");                        /* C1 NEL */
}

static void test_json_writer(void)
{
	struct json_writer w;
	size_t size;
	char *mem;
	FILE *f = open_memstream(&mem, &size);

	json_init(&w, f);
	json_begin_object(&w);
	json_key(&w, "a");
	json_int(&w, -1);
	json_key(&w, "b");
	json_begin_array(&w);
	json_hex(&w, 0);
	json_hex(&w, 0x7f00);
	json_begin_object(&w);
	json_end_object(&w);
	json_null(&w);
	json_end_array(&w);
	json_key(&w, "c\"");
	json_bool(&w, true);
	json_key(&w, "d");
	json_uint(&w, UINT64_MAX);
	json_end_object(&w);
	json_newline(&w);
	fclose(f);
	CHECK_STR(mem, "{\"a\":-1,\"b\":[\"0x0\",\"0x7f00\",{},null],"
		  "\"c\\\"\":true,\"d\":18446744073709551615}\n",
		  "JSON writer commas and nesting");
	free(mem);
}

int main(void)
{
	test_shmget_flags();
	test_shmat_shmctl();
	test_mmap_flags();
	test_open_mode_memfd();
	test_errno();
	test_call_table();
	test_strings();
	test_json_escaping();
	test_json_writer();
	return check_exit();
}
