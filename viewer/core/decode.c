/*
 * decode.c - the call table and the flag, command and errno decoders.
 *
 * The values decoded here were recorded on this kind of machine (Linux,
 * the same ABI), so the system headers give the constants; the fallbacks
 * cover names newer than the build host's glibc.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "decode.h"

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif
#ifndef SHM_NORESERVE
#define SHM_NORESERVE 010000
#endif
#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x1u
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x2u
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x4u
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x8u
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x10u
#endif
#ifndef IPC_64
#define IPC_64 0x100
#endif

/* The kernel's O_LARGEFILE; glibc defines it as 0 on 64-bit targets. */
#define KERNEL_O_LARGEFILE 0100000
/* Huge page size: log2(size) in bits 26..31 (SHM_, MAP_, MFD_HUGE_SHIFT). */
#define HUGE_SHIFT 26
#define HUGE_MASK 0x3fu

/* --- a bounded string builder ----------------------------------------- */

struct sbuf {
	char *buf;
	size_t len;
	size_t cap;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len + 1 >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n < b->cap - b->len ? (size_t)n
						      : b->cap - b->len - 1;
}

/* Append one '|'-separated item. */
__attribute__((format(printf, 2, 3)))
static void sb_item(struct sbuf *b, const char *fmt, ...)
{
	char item[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(item, sizeof(item), fmt, ap);
	va_end(ap);
	sb_printf(b, "%s%s", b->len ? "|" : "", item);
}

/* --- flag families ------------------------------------------------------ */

struct flag_name {
	uint32_t bits;
	const char *name;
};

#define F(x) { (uint32_t)(x), #x }

/*
 * Emit the name of every entry whose bits are all set and clear them from
 * *v.  Composite values (O_SYNC contains O_DSYNC) come first in a table so
 * they win over their parts.
 */
static void put_names(struct sbuf *b, uint32_t *v,
		      const struct flag_name *tab, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (tab[i].bits && (*v & tab[i].bits) == tab[i].bits) {
			sb_item(b, "%s", tab[i].name);
			*v &= ~tab[i].bits;
		}
	}
}

static void put_leftover(struct sbuf *b, uint32_t v)
{
	if (v)
		sb_item(b, "0x%" PRIx32, v);
}

/* MAP_HUGE_2MB and friends: only meaningful with the HUGETLB flag set. */
static void put_huge(struct sbuf *b, uint32_t *v, const char *prefix)
{
	static const struct { unsigned shift; const char *size; } sizes[] = {
		{ 16, "64KB" }, { 19, "512KB" }, { 20, "1MB" }, { 21, "2MB" },
		{ 23, "8MB" }, { 24, "16MB" }, { 25, "32MB" }, { 28, "256MB" },
		{ 29, "512MB" }, { 30, "1GB" }, { 31, "2GB" }, { 34, "16GB" },
	};
	unsigned shift = (*v >> HUGE_SHIFT) & HUGE_MASK;

	for (size_t i = 0; shift && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i].shift == shift) {
			sb_item(b, "%sHUGE_%s", prefix, sizes[i].size);
			*v &= ~(HUGE_MASK << HUGE_SHIFT);
			return;
		}
	}
}

#define N(tab) (sizeof(tab) / sizeof((tab)[0]))

static void flags_shmget(struct sbuf *b, uint32_t v)
{
	static const struct flag_name tab[] = {
		F(IPC_CREAT), F(IPC_EXCL), F(SHM_HUGETLB), F(SHM_NORESERVE),
	};
	uint32_t perms = v & 0777;
	bool huge = v & SHM_HUGETLB;

	v &= ~0777u;
	put_names(b, &v, tab, N(tab));
	if (huge)
		put_huge(b, &v, "SHM_");
	put_leftover(b, v);
	/* Permissions always show, even 0: creating a segment nobody may
	 * attach is a classic bug worth seeing. */
	sb_item(b, "%#o", perms);
}

static void flags_plain(struct sbuf *b, uint32_t v,
			const struct flag_name *tab, size_t n)
{
	put_names(b, &v, tab, n);
	put_leftover(b, v);
	if (!b->len)
		sb_printf(b, "0");
}

static void flags_shmat(struct sbuf *b, uint32_t v)
{
	static const struct flag_name tab[] = {
		F(SHM_RDONLY), F(SHM_RND), F(SHM_REMAP), F(SHM_EXEC),
	};
	flags_plain(b, v, tab, N(tab));
}

static void cmd_shmctl(struct sbuf *b, uint32_t v)
{
	static const struct flag_name tab[] = {
		F(IPC_RMID), F(IPC_SET), F(IPC_STAT), F(IPC_INFO),
		F(SHM_LOCK), F(SHM_UNLOCK), F(SHM_STAT), F(SHM_INFO),
		F(SHM_STAT_ANY),
	};
	uint32_t cmd = v & ~(uint32_t)IPC_64;

	/* IPC_64 is a modifier bit the C library may add to a command;
	 * anything else unknown reads best as the plain number. */
	for (size_t i = 0; i < N(tab); i++) {
		if (tab[i].bits == cmd) {
			if (v & IPC_64)
				sb_item(b, "IPC_64");
			sb_item(b, "%s", tab[i].name);
			return;
		}
	}
	sb_item(b, "%" PRId32, (int32_t)v);
}

static void flags_prot(struct sbuf *b, uint32_t v)
{
	static const struct flag_name tab[] = {
		F(PROT_READ), F(PROT_WRITE), F(PROT_EXEC), F(PROT_SEM),
		F(PROT_GROWSDOWN), F(PROT_GROWSUP),
	};
	if (!v) {
		sb_printf(b, "PROT_NONE");
		return;
	}
	flags_plain(b, v, tab, N(tab));
}

static void flags_map(struct sbuf *b, uint32_t v)
{
	static const struct flag_name types[] = {
		F(MAP_SHARED), F(MAP_PRIVATE), F(MAP_SHARED_VALIDATE),
	};
	static const struct flag_name tab[] = {
		F(MAP_FIXED), F(MAP_ANONYMOUS), F(MAP_32BIT), F(MAP_GROWSDOWN),
		F(MAP_DENYWRITE), F(MAP_EXECUTABLE), F(MAP_LOCKED),
		F(MAP_NORESERVE), F(MAP_POPULATE), F(MAP_NONBLOCK),
		F(MAP_STACK), F(MAP_HUGETLB), F(MAP_SYNC),
		F(MAP_FIXED_NOREPLACE),
	};
	static const struct flag_name uninit[] = { F(MAP_UNINITIALIZED) };
	uint32_t type = v & MAP_TYPE;
	bool huge = v & MAP_HUGETLB;

	/* The type is a 4-bit number, not a set of bits; an unknown one
	 * stays in v and shows as hex. */
	for (size_t i = 0; type && i < N(types); i++) {
		if (types[i].bits == type) {
			sb_item(b, "%s", types[i].name);
			v &= ~(uint32_t)MAP_TYPE;
			break;
		}
	}
	put_names(b, &v, tab, N(tab));
	/* Bits 26..31 give the page size with MAP_HUGETLB; without it,
	 * bit 26 is MAP_UNINITIALIZED. */
	if (huge)
		put_huge(b, &v, "MAP_");
	else
		put_names(b, &v, uninit, N(uninit));
	put_leftover(b, v);
	if (!b->len)
		sb_printf(b, "0");
}

static void flags_mremap(struct sbuf *b, uint32_t v)
{
	static const struct flag_name tab[] = {
		F(MREMAP_MAYMOVE), F(MREMAP_FIXED), F(MREMAP_DONTUNMAP),
	};
	flags_plain(b, v, tab, N(tab));
}

static void flags_open(struct sbuf *b, uint32_t v)
{
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR" };
	static const struct flag_name tab[] = {
		F(O_SYNC), F(O_TMPFILE),      /* composites before parts */
		F(O_CREAT), F(O_EXCL), F(O_NOCTTY), F(O_TRUNC), F(O_APPEND),
		F(O_NONBLOCK), F(O_DSYNC), F(O_ASYNC), F(O_DIRECT),
		{ KERNEL_O_LARGEFILE, "O_LARGEFILE" },
		F(O_DIRECTORY), F(O_NOFOLLOW), F(O_NOATIME), F(O_CLOEXEC),
		F(O_PATH),
	};
	uint32_t mode = v & O_ACCMODE;

	if (mode < 3)
		sb_item(b, "%s", acc[mode]);
	else
		sb_item(b, "0x%" PRIx32, mode);
	v &= ~(uint32_t)O_ACCMODE;
	put_names(b, &v, tab, N(tab));
	put_leftover(b, v);
}

static void flags_memfd(struct sbuf *b, uint32_t v)
{
	static const struct flag_name tab[] = {
		F(MFD_CLOEXEC), F(MFD_ALLOW_SEALING), F(MFD_HUGETLB),
		F(MFD_NOEXEC_SEAL), F(MFD_EXEC),
	};
	bool huge = v & MFD_HUGETLB;

	put_names(b, &v, tab, N(tab));
	if (huge)
		put_huge(b, &v, "MFD_");
	put_leftover(b, v);
	if (!b->len)
		sb_printf(b, "0");
}

static void wait_status(struct sbuf *b, uint32_t s)
{
	int st = (int)s;
	if (WIFEXITED(st))
		sb_printf(b, "[{WIFEXITED(s) && WEXITSTATUS(s) == %d}]",
			  WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		sb_printf(b, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIG%s%s}]",
			  sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?",
			  WCOREDUMP(st) ? " && WCOREDUMP(s)" : "");
	else if (WIFSTOPPED(st))
		sb_printf(b, "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIG%s}]",
			  sigabbrev_np(WSTOPSIG(st)) ? sigabbrev_np(WSTOPSIG(st)) : "?");
	else if (WIFCONTINUED(st))
		sb_printf(b, "[{WIFCONTINUED(s)}]");
	else
		sb_printf(b, "%#x", s);
}

const char *decode_flags(enum decode_family family, uint64_t value,
			 char *buf)
{
	struct sbuf b = { buf, 0, DECODE_FLAGS_MAX };
	/* Every family is a C int or mode_t: the upper half is only ever
	 * sign extension from the recorder. */
	uint32_t v = (uint32_t)value;

	buf[0] = '\0';
	switch (family) {
	case DECODE_F_SHMGET:     flags_shmget(&b, v); break;
	case DECODE_F_SHMAT:      flags_shmat(&b, v); break;
	case DECODE_F_SHMCTL_CMD: cmd_shmctl(&b, v); break;
	case DECODE_F_PROT:       flags_prot(&b, v); break;
	case DECODE_F_MAP:        flags_map(&b, v); break;
	case DECODE_F_MREMAP:     flags_mremap(&b, v); break;
	case DECODE_F_OPEN:       flags_open(&b, v); break;
	case DECODE_F_MODE:       sb_printf(&b, "%#o", v); break;
	case DECODE_F_MEMFD:      flags_memfd(&b, v); break;
	case DECODE_F_WSTATUS:    wait_status(&b, v); break;
	default:                  sb_printf(&b, "0x%" PRIx64, value); break;
	}
	return buf;
}

/* --- errno and object names ------------------------------------------- */

const char *decode_errno_name(int errnum)
{
	return errnum > 0 ? strerrorname_np(errnum) : NULL;
}

const char *decode_errno_msg(int errnum)
{
	return strerror(errnum);
}

const char *decode_obj_name(uint32_t obj)
{
	static const char *const names[SHMT_OBJ_COUNT] = {
		[SHMT_OBJ_ANON] = "anon",     [SHMT_OBJ_POSIX] = "posix",
		[SHMT_OBJ_MEMFD] = "memfd",   [SHMT_OBJ_DEVZERO] = "devzero",
		[SHMT_OBJ_FILE] = "file",     [SHMT_OBJ_OTHER] = "other",
		[SHMT_OBJ_BADFD] = "badfd",   [SHMT_OBJ_SOCKET] = "socket",
		[SHMT_OBJ_PIPE] = "pipe",     [SHMT_OBJ_ANON_INODE] = "anon_inode",
		[SHMT_OBJ_SEM] = "sem",
	};
	return obj < SHMT_OBJ_COUNT ? names[obj] : NULL;
}

/* --- the call table ------------------------------------------------------ */

/* When an argument applies to an event. */
enum cond {
	COND_ALWAYS = 0,
	COND_MREMAP_FIXED, /* mremap's fifth argument */
	COND_CHILD,        /* fork recorded by the child */
	COND_START,        /* exec recorded by the new image */
	COND_SPAWN_OK,     /* posix_spawn that created a child */
	COND_PATH,         /* exec/spawn variant taking a path */
	COND_FILE,         /* variant searching PATH for a file */
	COND_INNER_PID,    /* exec start inside a pid namespace */
};

struct call_desc {
	const char *name;
	uint8_t ret;                             /* enum decode_ret */
	struct decode_arg args[DECODE_MAX_ARGS]; /* ends at name == NULL */
};

#define A(n, k, s)     { n, DECODE_##k, DECODE_F_NONE, s, DECODE_IN_BOTH, 0 }
#define FL(n, fam, s)  { n, DECODE_FLAGS, DECODE_F_##fam, s, DECODE_IN_BOTH, 0 }
#define AC(n, k, s, where, c) \
	{ n, DECODE_##k, DECODE_F_NONE, s, DECODE_IN_##where, COND_##c }

static const struct call_desc calls[SHMT_CALL_COUNT] = {
	[SHMT_CALL_SHMGET] = { "shmget", DECODE_RET_INT, {
		A("key", KEY, SHMT_ARG_SHMGET_KEY),
		A("size", SIZE, SHMT_ARG_SHMGET_SIZE),
		FL("shmflg", SHMGET, SHMT_ARG_SHMGET_FLAGS) } },
	[SHMT_CALL_SHMAT] = { "shmat", DECODE_RET_ADDR, {
		A("shmid", INT, SHMT_ARG_SHMAT_SHMID),
		A("shmaddr", PTR, SHMT_ARG_SHMAT_ADDR),
		FL("shmflg", SHMAT, SHMT_ARG_SHMAT_FLAGS) } },
	[SHMT_CALL_SHMDT] = { "shmdt", DECODE_RET_INT, {
		A("shmaddr", PTR, SHMT_ARG_SHMDT_ADDR) } },
	[SHMT_CALL_SHMCTL] = { "shmctl", DECODE_RET_INT, {
		A("shmid", INT, SHMT_ARG_SHMCTL_SHMID),
		FL("cmd", SHMCTL_CMD, SHMT_ARG_SHMCTL_CMD),
		A("buf", PTR, SHMT_ARG_SHMCTL_BUF) } },
	[SHMT_CALL_MMAP] = { "mmap", DECODE_RET_ADDR, {
		A("addr", PTR, SHMT_ARG_MMAP_ADDR),
		A("length", SIZE, SHMT_ARG_MMAP_LENGTH),
		FL("prot", PROT, SHMT_ARG_MMAP_PROT),
		FL("flags", MAP, SHMT_ARG_MMAP_FLAGS),
		A("fd", INT, SHMT_ARG_MMAP_FD),
		A("offset", OFF, SHMT_ARG_MMAP_OFFSET) } },
	[SHMT_CALL_MUNMAP] = { "munmap", DECODE_RET_INT, {
		A("addr", PTR, SHMT_ARG_MUNMAP_ADDR),
		A("length", SIZE, SHMT_ARG_MUNMAP_LENGTH) } },
	[SHMT_CALL_MREMAP] = { "mremap", DECODE_RET_ADDR, {
		A("old_address", PTR, SHMT_ARG_MREMAP_OLD_ADDR),
		A("old_size", SIZE, SHMT_ARG_MREMAP_OLD_SIZE),
		A("new_size", SIZE, SHMT_ARG_MREMAP_NEW_SIZE),
		FL("flags", MREMAP, SHMT_ARG_MREMAP_FLAGS),
		AC("new_address", PTR, SHMT_ARG_MREMAP_NEW_ADDR, BOTH, MREMAP_FIXED) } },
	[SHMT_CALL_SHM_OPEN] = { "shm_open", DECODE_RET_INT, {
		A("name", STRING, 0), FL("oflag", OPEN, SHMT_ARG_SHM_OPEN_OFLAG),
		FL("mode", MODE, SHMT_ARG_SHM_OPEN_MODE) } },
	[SHMT_CALL_SHM_UNLINK] = { "shm_unlink", DECODE_RET_INT, {
		A("name", STRING, 0) } },
	[SHMT_CALL_MEMFD_CREATE] = { "memfd_create", DECODE_RET_INT, {
		A("name", STRING, 0), FL("flags", MEMFD, SHMT_ARG_MEMFD_FLAGS) } },
	[SHMT_CALL_FTRUNCATE] = { "ftruncate", DECODE_RET_INT, {
		A("fd", INT, SHMT_ARG_FTRUNCATE_FD),
		A("length", OFF, SHMT_ARG_FTRUNCATE_LENGTH) } },
	[SHMT_CALL_CLOSE] = { "close", DECODE_RET_INT, {
		A("fd", INT, SHMT_ARG_CLOSE_FD) } },
	[SHMT_CALL_FORK] = { "fork", DECODE_RET_INT, {
		AC("ppid", INT, SHMT_ARG_FORK_PPID, JSON, CHILD) } },
	[SHMT_CALL_VFORK] = { "vfork", DECODE_RET_INT, { { 0 } } },
	[SHMT_CALL_POSIX_SPAWN] = { "posix_spawn", DECODE_RET_ERRNUM, {
		AC("path", STRING, 0, BOTH, PATH),
		AC("file", STRING, 0, BOTH, FILE),
		A("argv", ARGV, SHMT_ARG_SPAWN_ARGC),
		AC("pid", INT, SHMT_ARG_SPAWN_PID, JSON, SPAWN_OK) } },
	[SHMT_CALL_EXEC] = { "exec", DECODE_RET_INT, {
		AC("path", STRING, 0, BOTH, PATH),
		AC("file", STRING, 0, BOTH, FILE),
		A("argv", ARGV, SHMT_ARG_EXEC_ARGC),
		AC("ppid", INT, SHMT_ARG_EXEC_PPID, JSON, START),
		AC("inner_pid", INT, SHMT_ARG_EXEC_INNER_PID, BOTH, INNER_PID) } },
	[SHMT_CALL_EXIT] = { "exit", DECODE_RET_NONE, {
		A("status", INT, SHMT_ARG_EXIT_STATUS) } },
	[SHMT_CALL_THREAD_START] = { "thread_start", DECODE_RET_INT, {
		A("start_routine", PTR, SHMT_ARG_THREAD_START_ROUTINE) } },
	[SHMT_CALL_THREAD_EXIT] = { "thread_exit", DECODE_RET_NONE, {
		A("retval", HEX, SHMT_ARG_THREAD_EXIT_RETVAL) } },
	[SHMT_CALL_MODULE] = { "module", DECODE_RET_HIDDEN, {
		A("path", STRING, 0), A("base", HEX, SHMT_ARG_MODULE_BIAS),
		AC("start", HEX, SHMT_ARG_MODULE_LO, JSON, ALWAYS),
		AC("end", HEX, SHMT_ARG_MODULE_HI, JSON, ALWAYS),
		A("build_id", BUILD_ID, SHMT_ARG_MODULE_BUILD_ID_LEN) } },
	[SHMT_CALL_WAIT] = { "wait", DECODE_RET_INT, {
		A("pid", INT, SHMT_ARG_WAIT_PID),
		FL("status", WSTATUS, SHMT_ARG_WAIT_STATUS) } },
	[SHMT_CALL_OBJECT] = { "object", DECODE_RET_HIDDEN, {
		A("fd", INT, SHMT_ARG_OBJECT_FD), A("path", STRING, 0),
		A("dev", HEX, SHMT_ARG_OBJECT_DEV),
		A("inode", SIZE, SHMT_ARG_OBJECT_INODE),
		A("size", SIZE, SHMT_ARG_OBJECT_SIZE),
		FL("mode", MODE, SHMT_ARG_OBJECT_MODE),
		AC("errors", HEX, SHMT_ARG_OBJECT_ERRORS, JSON, ALWAYS) } },
	[SHMT_CALL_SEM_OPEN] = { "sem_open", DECODE_RET_ADDR, {
		A("name", STRING, 0), FL("oflag", OPEN, SHMT_ARG_SEM_OPEN_OFLAG),
		FL("mode", MODE, SHMT_ARG_SEM_OPEN_MODE),
		A("value", SIZE, SHMT_ARG_SEM_OPEN_VALUE) } },
	[SHMT_CALL_SEM_CLOSE] = { "sem_close", DECODE_RET_INT, {
		A("sem", PTR, SHMT_ARG_SEM_CLOSE_ADDR) } },
	[SHMT_CALL_SEM_UNLINK] = { "sem_unlink", DECODE_RET_INT, {
		A("name", STRING, 0) } },
	[SHMT_CALL_FD_SEND] = { "sendmsg", DECODE_RET_INT, {
		A("sockfd", INT, SHMT_ARG_FD_SOCKET), A("fd", INT, SHMT_ARG_FD_FD),
		A("peer", INT, SHMT_ARG_FD_PEER) } },
	[SHMT_CALL_FD_RECV] = { "recvmsg", DECODE_RET_INT, {
		A("sockfd", INT, SHMT_ARG_FD_SOCKET), A("fd", INT, SHMT_ARG_FD_FD),
		A("peer", INT, SHMT_ARG_FD_PEER) } },
	[SHMT_CALL_PROC_SEEN] = { "seen_in_proc", DECODE_RET_HIDDEN, {
		A("path", STRING, 0), A("addr", PTR, SHMT_ARG_PROC_SEEN_ADDR),
		A("length", SIZE, SHMT_ARG_PROC_SEEN_LENGTH),
		FL("prot", PROT, SHMT_ARG_PROC_SEEN_PROT),
		A("inode", SIZE, SHMT_ARG_PROC_SEEN_INODE) } },
	/* the launcher's capacity samples: shown by dump --modules */
	[SHMT_CALL_TMPFS] = { "tmpfs", DECODE_RET_HIDDEN, {
		A("mount", STRING, 0), A("size", SIZE, SHMT_ARG_TMPFS_SIZE),
		A("used", SIZE, SHMT_ARG_TMPFS_USED),
		A("peak", SIZE, SHMT_ARG_TMPFS_PEAK),
		A("start", SIZE, SHMT_ARG_TMPFS_START),
		A("pid", INT, SHMT_ARG_TMPFS_PID),
		A("inodes", SIZE, SHMT_ARG_TMPFS_INODES),
		A("inodes_used", SIZE, SHMT_ARG_TMPFS_INODES_USED) } },
	[SHMT_CALL_CGROUP_MEM] = { "cgroup_mem", DECODE_RET_HIDDEN, {
		A("path", STRING, 0), A("limit", SIZE, SHMT_ARG_CGROUP_LIMIT),
		A("usage", SIZE, SHMT_ARG_CGROUP_USAGE),
		A("peak", SIZE, SHMT_ARG_CGROUP_PEAK),
		A("shmem", SIZE, SHMT_ARG_CGROUP_SHMEM),
		A("shmem_peak", SIZE, SHMT_ARG_CGROUP_SHMEM_PEAK),
		A("pid", INT, SHMT_ARG_CGROUP_PID),
		A("version", INT, SHMT_ARG_CGROUP_VERSION) } },
};

static const char *const wait_names[SHMT_WAIT_COUNT] = {
	[SHMT_WAIT_WAIT] = "wait",       [SHMT_WAIT_WAITPID] = "waitpid",
	[SHMT_WAIT_WAIT3] = "wait3",     [SHMT_WAIT_WAIT4] = "wait4",
	[SHMT_WAIT_WAITID] = "waitid",
	[SHMT_WAIT_REAPER] = "reap",	/* the launcher, as subreaper */
};

static const char *const exec_names[SHMT_EXEC_COUNT] = {
	[SHMT_EXEC_EXECVE] = "execve",   [SHMT_EXEC_EXECV] = "execv",
	[SHMT_EXEC_EXECVP] = "execvp",   [SHMT_EXEC_EXECVPE] = "execvpe",
	[SHMT_EXEC_EXECL] = "execl",     [SHMT_EXEC_EXECLP] = "execlp",
	[SHMT_EXEC_EXECLE] = "execle",   [SHMT_EXEC_FEXECVE] = "fexecve",
	[SHMT_EXEC_EXECVEAT] = "execveat",
};

const char *decode_call_name(unsigned call)
{
	return call < SHMT_CALL_COUNT ? calls[call].name : NULL;
}

int decode_call_by_name(const char *name, bool *family)
{
	static const struct { const char *name; unsigned call; } others[] = {
		{ "_exit", SHMT_CALL_EXIT },
		{ "posix_spawnp", SHMT_CALL_POSIX_SPAWN },
	};

	*family = true;
	for (unsigned c = 1; c < SHMT_CALL_COUNT; c++)
		if (calls[c].name && strcmp(calls[c].name, name) == 0)
			return (int)c;
	*family = false;
	for (unsigned i = 0; i < SHMT_EXEC_COUNT; i++)
		if (exec_names[i] && strcmp(exec_names[i], name) == 0)
			return SHMT_CALL_EXEC;
	for (unsigned i = 0; i < SHMT_WAIT_COUNT; i++)
		if (wait_names[i] && strcmp(wait_names[i], name) == 0)
			return SHMT_CALL_WAIT;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (strcmp(others[i].name, name) == 0)
			return (int)others[i].call;
	return -1;
}

bool decode_is_record(unsigned call)
{
	return call == SHMT_CALL_MODULE || call == SHMT_CALL_TMPFS ||
	       call == SHMT_CALL_CGROUP_MEM;
}

/* Does the variant search PATH (execvp, execvpe, execlp, posix_spawnp)? */
static bool searches_path(const struct trace_event *ev)
{
	if (ev->call == SHMT_CALL_POSIX_SPAWN)
		return ev->args[SHMT_ARG_SPAWN_SEARCH] == 1;
	return ev->args[SHMT_ARG_EXEC_VARIANT] == SHMT_EXEC_EXECVP ||
	       ev->args[SHMT_ARG_EXEC_VARIANT] == SHMT_EXEC_EXECVPE ||
	       ev->args[SHMT_ARG_EXEC_VARIANT] == SHMT_EXEC_EXECLP;
}

static bool cond_holds(const struct trace_event *ev, unsigned cond)
{
	switch (cond) {
	case COND_MREMAP_FIXED: return ev->args[SHMT_ARG_MREMAP_FLAGS] & MREMAP_FIXED;
	case COND_CHILD:        return ev->flags & SHMT_EVF_CHILD;
	case COND_START:        return ev->flags & SHMT_EVF_START;
	case COND_SPAWN_OK:     return ev->ret == 0;
	case COND_PATH:         return !searches_path(ev);
	case COND_FILE:         return searches_path(ev);
	case COND_INNER_PID:    return (ev->flags & SHMT_EVF_START) &&
				       ev->args[SHMT_ARG_EXEC_INNER_PID];
	default:                return true;
	}
}

/* The name the program called: the exec variant, _exit, posix_spawnp. */
static const char *display_name(const struct trace_event *ev)
{
	switch (ev->call) {
	case SHMT_CALL_EXEC:
		return ev->args[SHMT_ARG_EXEC_VARIANT] < SHMT_EXEC_COUNT ?
			exec_names[ev->args[SHMT_ARG_EXEC_VARIANT]] : "exec";
	case SHMT_CALL_EXIT:
		return ev->args[SHMT_ARG_EXIT_RAW] == 1 ? "_exit" : "exit";
	case SHMT_CALL_POSIX_SPAWN:
		return ev->args[SHMT_ARG_SPAWN_SEARCH] == 1 ?
			"posix_spawnp" : "posix_spawn";
	case SHMT_CALL_WAIT:
		return ev->args[SHMT_ARG_WAIT_VARIANT] < SHMT_WAIT_COUNT ?
			wait_names[ev->args[SHMT_ARG_WAIT_VARIANT]] : "wait";
	default:
		return calls[ev->call].name;
	}
}

const char *decode_display_name(const struct trace_event *ev)
{
	return display_name(ev);
}

static void decide_failure(const struct trace_event *ev,
			   struct decode_view *v)
{
	switch (v->ret_kind) {
	case DECODE_RET_NONE:
	case DECODE_RET_HIDDEN:
		return;
	case DECODE_RET_ERRNUM:
		/* posix_spawn returns the error number instead of -1. */
		v->failed = ev->ret != 0;
		if (v->failed)
			v->errnum = ev->err ? ev->err :
				ev->ret > 0 && ev->ret < 4096 ? (int)ev->ret : 0;
		return;
	default:
		/* -1 covers MAP_FAILED and shmat's (void *)-1 too.  errno is
		 * only meaningful when the call failed. */
		v->failed = ev->ret == -1;
		if (v->failed)
			v->errnum = ev->err;
	}
}

static void choose_note(const struct trace_event *ev, struct decode_view *v)
{
	if (ev->call == SHMT_CALL_FORK && (ev->flags & SHMT_EVF_CHILD)) {
		v->note = DECODE_NOTE_CHILD_OF;
		v->note_value = (int32_t)(uint32_t)ev->args[SHMT_ARG_FORK_PPID];
	} else if (ev->call == SHMT_CALL_POSIX_SPAWN && ev->ret == 0) {
		v->note = DECODE_NOTE_PID;
		v->note_value = (int32_t)(uint32_t)ev->args[SHMT_ARG_SPAWN_PID];
	}
}

void decode_event(const struct trace_event *ev, struct decode_view *v)
{
	const struct call_desc *d;

	memset(v, 0, sizeof(*v));
	if (ev->call == SHMT_CALL_NONE || ev->call >= SHMT_CALL_COUNT) {
		/* The reader never hands these out; stay total anyway. */
		v->name = "unknown";
		v->ret_kind = DECODE_RET_INT;
		return;
	}
	d = &calls[ev->call];
	v->name = display_name(ev);
	v->ret_kind = d->ret;
	for (unsigned i = 0; i < DECODE_MAX_ARGS && d->args[i].name; i++)
		if (cond_holds(ev, d->args[i].cond))
			v->args[v->nargs++] = &d->args[i];
	decide_failure(ev, v);
	choose_note(ev, v);
}

uint64_t decode_value(const struct trace_event *ev,
		      const struct decode_arg *arg)
{
	return ev->args[arg->slot % SHMT_ARG_COUNT];
}

/* --- strings: whole, or path + argv -------------------------------------- */

void decode_strings_begin(struct decode_strings *it,
			  const struct trace_event *ev)
{
	memset(it, 0, sizeof(*it));
	it->p = ev->str;
	it->end = ev->str + ev->str_len;
	it->split = ev->call == SHMT_CALL_EXEC ||
		    ev->call == SHMT_CALL_POSIX_SPAWN;
	it->argv_left = it->split ? ev->args[SHMT_ARG_ARGC] : 0;
}

/* Is there another argv piece?  An empty last argument shows as a NUL
 * right at the end, which is why `after_nul` matters. */
static bool more_pieces(const struct decode_strings *it)
{
	return it->split && it->argv_left > 0 &&
	       (it->p < it->end || it->after_nul);
}

/* Cut the next piece at a NUL (split form) or take everything. */
static void take_piece(struct decode_strings *it, struct decode_piece *out)
{
	const char *nul = it->split ?
		memchr(it->p, '\0', (size_t)(it->end - it->p)) : NULL;

	out->s = it->p;
	if (nul) {
		out->len = (size_t)(nul - it->p);
		it->p = nul + 1;
		it->after_nul = true;
	} else {
		out->len = (size_t)(it->end - it->p);
		it->p = it->end;
		it->after_nul = false;
	}
}

void decode_strings_first(struct decode_strings *it,
			  struct decode_piece *out)
{
	take_piece(it, out);
	it->started = true;
	out->last = !more_pieces(it);
}

void decode_string_arg(const struct trace_event *ev, struct decode_piece *out)
{
	struct decode_strings it;

	decode_strings_begin(&it, ev);
	decode_strings_first(&it, out);
}

bool decode_strings_next(struct decode_strings *it, struct decode_piece *out)
{
	if (!it->started) {
		struct decode_piece path;

		decode_strings_first(it, &path);
	}
	if (!more_pieces(it))
		return false;
	take_piece(it, out);
	it->argv_left--;
	out->last = !more_pieces(it);
	return true;
}

/* --- module build-id ----------------------------------------------------- */

size_t decode_build_id_bytes(const struct trace_event *ev,
			     unsigned char *bytes)
{
	uint64_t n = ev->args[SHMT_ARG_MODULE_BUILD_ID_LEN];
	size_t len = n < SHMT_BUILD_ID_MAX ? (size_t)n : SHMT_BUILD_ID_MAX;

	/* the slots from SHMT_ARG_MODULE_BUILD_ID on hold the bytes in memory
	 * order: 4 x 8 = 32 bytes */
	memcpy(bytes, &ev->args[SHMT_ARG_MODULE_BUILD_ID], len);
	return len;
}

const char *decode_build_id(const struct trace_event *ev, char *buf)
{
	unsigned char bytes[SHMT_BUILD_ID_MAX];
	size_t len = decode_build_id_bytes(ev, bytes);

	for (size_t i = 0; i < len; i++)
		sprintf(buf + 2 * i, "%02x", bytes[i]);
	buf[2 * len] = '\0';
	return buf;
}
