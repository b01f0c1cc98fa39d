/*
 * symbolize.c - offline symbolization with elfutils libdwfl (see
 * symbolize.h).
 *
 * The model: a process (pid) runs a sequence of images, one per exec.
 * Each image has the modules it recorded and may have a parent image it
 * inherited its address space from (fork, vfork).  An event belongs to
 * the last image of its pid that began at or before it.
 *
 * Each ELF file is opened once, in a Dwfl of its own, at bias 0: a
 * library mapped at different addresses in different processes is then
 * parsed once, and an address is looked up as (ip - recorded bias).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>

#include "decode.h"
#include "symbolize.h"
#include "util.h"

#define uthash_malloc(sz) xmalloc(sz)
#include <uthash.h>

/* Longest parent chain followed; the chain comes from untrusted data. */
#define MAX_ANCESTRY 64
/* Modules kept per image: the shim records at most 1024; the bound keeps
 * a hostile trace from making the duplicate check quadratic. */
#define MAX_MODULES 4096

/* One ELF file on disk, keyed by build-id and path. */
struct sym_file {
	char *key;                 /* "<hex build-id>|<path>" */
	const char *path;          /* inside key */
	Dwfl *dwfl;                /* NULL when the file is unusable */
	Dwfl_Module *mod;
	UT_hash_handle hh;
};

/* A module as one image mapped it. */
struct sym_module {
	uint64_t bias;             /* dlpi_addr */
	uint64_t low, high;        /* mapped address range */
	char *path;                /* NULL when recorded empty */
	unsigned char build_id[SHMT_BUILD_ID_MAX];
	size_t id_len;
	char id_hex[2 * SHMT_BUILD_ID_MAX + 1];	/* "" when none */
	struct sym_file *file;     /* resolved on first use */
	bool file_tried;
	uint64_t seq;              /* the event that recorded it */
	uint64_t gone_seq;         /* the event that said it was unloaded,
	                              UINT64_MAX while loaded */
};

/* One process image: what a pid ran between two execs. */
struct sym_image {
	uint64_t first_seq;        /* events from here on belong to it */
	bool from_exec;            /* began with an exec START event */
	bool ended;                /* its process exited */
	struct sym_image *parent;  /* inherited modules (fork), or NULL */
	struct sym_module *mods;
	size_t nmods, cap;
};

struct sym_proc {
	int32_t pid;
	struct sym_image **images; /* in first_seq order */
	size_t n, cap;
	UT_hash_handle hh;
};

/* Resolved (file, address) pairs: most frames repeat. */
struct sym_cache_key {
	struct sym_file *file;
	uint64_t rel;
};

struct sym_cache {
	struct sym_cache_key key;
	char *symbol;              /* owned, without "@VERSION" */
	uint64_t offset;
	const char *srcfile;       /* owned by the file's Dwfl */
	int line;
	UT_hash_handle hh;
};

struct sym_table {
	struct sym_proc *procs;
	struct sym_file *files;
	struct sym_cache *cache;
};

static char *debuginfo_path;

/* Offline: the modules are reported by hand; separate debug info is
 * found the standard way (build-id under /usr/lib/debug, debuglink). */
static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct sym_table *sym_new(void)
{
	if (!getenv("SHMTRACE_DEBUGINFOD"))
		unsetenv("DEBUGINFOD_URLS");
	return xcalloc(1, sizeof(struct sym_table));
}

static void free_procs(struct sym_table *st)
{
	struct sym_proc *p, *tmp;

	HASH_ITER(hh, st->procs, p, tmp) {
		HASH_DEL(st->procs, p);
		for (size_t i = 0; i < p->n; i++) {
			struct sym_image *img = p->images[i];

			for (size_t j = 0; j < img->nmods; j++)
				free(img->mods[j].path);
			free(img->mods);
			free(img);
		}
		free(p->images);
		free(p);
	}
}

void sym_free(struct sym_table *st)
{
	struct sym_file *f, *ftmp;
	struct sym_cache *c, *ctmp;

	if (!st)
		return;
	HASH_ITER(hh, st->cache, c, ctmp) {
		HASH_DEL(st->cache, c);
		free(c->symbol);
		free(c);
	}
	HASH_ITER(hh, st->files, f, ftmp) {
		HASH_DEL(st->files, f);
		if (f->dwfl)
			dwfl_end(f->dwfl);
		free(f->key);
		free(f);
	}
	free_procs(st);
	free(st);
}

/* --- pass 1: the process model ------------------------------------------ */

static struct sym_proc *get_proc(struct sym_table *st, int32_t pid)
{
	struct sym_proc *p;

	HASH_FIND(hh, st->procs, &pid, sizeof(pid), p);
	if (!p) {
		p = xcalloc(1, sizeof(*p));
		p->pid = pid;
		HASH_ADD(hh, st->procs, pid, sizeof(p->pid), p);
	}
	return p;
}

static struct sym_image *latest(const struct sym_proc *p)
{
	return p->n ? p->images[p->n - 1] : NULL;
}

static struct sym_image *new_image(struct sym_proc *p, uint64_t seq)
{
	struct sym_image *img = xcalloc(1, sizeof(*img));

	XGROW(p->images, p->n, p->cap, 2);
	img->first_seq = seq;
	p->images[p->n++] = img;
	return img;
}

/* The image `pid` runs at `seq`: its latest, or a new one if it has none
 * or the latest ended (the pid was reused). */
static struct sym_image *current_image(struct sym_table *st, int32_t pid,
				       uint64_t seq)
{
	struct sym_proc *p = get_proc(st, pid);
	struct sym_image *img = latest(p);

	return img && !img->ended ? img : new_image(p, seq);
}

/* Link img to parent unless that would make a cycle (hostile input). */
static void set_parent(struct sym_image *img, struct sym_image *parent)
{
	const struct sym_image *a = parent;

	for (int depth = 0; a && depth < MAX_ANCESTRY; depth++, a = a->parent)
		if (a == img)
			return;
	if (img != parent)
		img->parent = parent;
}

/*
 * Child pid `child` was forked from `parent`.  The child may have
 * recorded events (even exec'd) before the parent recorded the fork, so
 * look for its newest image that was not started by an exec and still
 * lacks a parent; stop at an ended image, an earlier process of that pid.
 */
static void adopt(struct sym_table *st, int32_t child,
		  struct sym_image *parent, uint64_t seq)
{
	struct sym_proc *p = get_proc(st, child);
	struct sym_image *last = latest(p);

	for (size_t i = p->n; i-- > 0;) {
		struct sym_image *img = p->images[i];

		if (img->ended)
			break;
		if (!img->from_exec) {
			if (!img->parent)
				set_parent(img, parent);
			return;
		}
	}
	if (!last || last->ended)
		set_parent(new_image(p, seq), parent);
}

static bool same_module(const struct sym_module *m, const struct sym_module *n)
{
	return m->bias == n->bias && m->low == n->low && m->high == n->high &&
	       m->id_len == n->id_len &&
	       memcmp(m->build_id, n->build_id, m->id_len) == 0 &&
	       ((!m->path && !n->path) ||
		(m->path && n->path && strcmp(m->path, n->path) == 0));
}

/* An empty range without a path: the shim saw the module at that bias
 * and low address unloaded (dlclose). */
static void module_gone(struct sym_image *img, const struct trace_event *ev)
{
	for (size_t i = img->nmods; i-- > 0;) {
		struct sym_module *m = &img->mods[i];

		if (m->bias == ev->args[SHMT_ARG_MODULE_BIAS] &&
		    m->low == ev->args[SHMT_ARG_MODULE_LO] &&
		    m->gone_seq == UINT64_MAX) {
			m->gone_seq = ev->seq;
			return;
		}
	}
}

static void add_module(struct sym_image *img, const struct trace_event *ev)
{
	struct sym_module m = { 0 };

	if (ev->args[SHMT_ARG_MODULE_LO] == ev->args[SHMT_ARG_MODULE_HI] &&
	    !ev->str_len) {
		module_gone(img, ev);
		return;
	}
	if (img->nmods >= MAX_MODULES)
		return;
	m.seq = ev->seq;
	m.gone_seq = UINT64_MAX;
	m.bias = ev->args[SHMT_ARG_MODULE_BIAS];
	m.low = ev->args[SHMT_ARG_MODULE_LO];
	m.high = ev->args[SHMT_ARG_MODULE_HI];
	m.id_len = decode_build_id_bytes(ev, m.build_id);
	for (size_t i = 0; i < m.id_len; i++)
		sprintf(m.id_hex + 2 * i, "%02x", m.build_id[i]);
	/* A path with a NUL in it cannot name a file; keep what precedes. */
	if (ev->str_len && ev->str[0])
		m.path = xstrndup(ev->str, ev->str_len);
	/* The shim re-records the module list after each dlopen. */
	for (size_t i = 0; i < img->nmods; i++) {
		if (img->mods[i].gone_seq == UINT64_MAX &&
		    same_module(&img->mods[i], &m)) {
			free(m.path);
			return;
		}
	}
	XGROW(img->mods, img->nmods, img->cap, 16);
	img->mods[img->nmods++] = m;
}

static int32_t as_pid(uint64_t v)
{
	return (int32_t)(uint32_t)v;
}

static void learn_fork(struct sym_table *st, const struct trace_event *ev)
{
	struct sym_image *mine;

	if (ev->flags & SHMT_EVF_CHILD) {
		/* Recorded by the child: the parent is in SHMT_ARG_FORK_PPID.  Its latest
		 * image is the right one even if it already ended: a daemon's
		 * parent exits right after the fork. */
		int32_t ppid = as_pid(ev->args[SHMT_ARG_FORK_PPID]);
		struct sym_image *parent = latest(get_proc(st, ppid));

		if (!parent)
			parent = current_image(st, ppid, ev->seq);
		adopt(st, ev->pid, parent, ev->seq);
		return;
	}
	mine = current_image(st, ev->pid, ev->seq);
	if (ev->ret > 0)
		adopt(st, as_pid((uint64_t)ev->ret), mine, ev->seq);
}

void sym_learn(struct sym_table *st, const struct trace_event *ev)
{
	switch (ev->call) {
	case SHMT_CALL_FORK:
	case SHMT_CALL_VFORK:
		learn_fork(st, ev);
		return;
	case SHMT_CALL_EXEC:
		if (ev->flags & SHMT_EVF_START) {
			new_image(get_proc(st, ev->pid), ev->seq)->from_exec =
				true;
			return;
		}
		break;
	case SHMT_CALL_MODULE:
		add_module(current_image(st, ev->pid, ev->seq), ev);
		return;
	case SHMT_CALL_EXIT:
		current_image(st, ev->pid, ev->seq)->ended = true;
		return;
	default:
		break;
	}
	/* posix_spawn's child execs at once and records its own modules;
	 * nothing to inherit.  Every other event just marks its image. */
	current_image(st, ev->pid, ev->seq);
}

/* --- pass 2: resolving --------------------------------------------------- */

static struct sym_image *image_at(struct sym_table *st, int32_t pid,
				  uint64_t seq)
{
	struct sym_proc *p;
	size_t lo = 0, hi;

	HASH_FIND(hh, st->procs, &pid, sizeof(pid), p);
	if (!p || !p->n)
		return NULL;
	/* The last image with first_seq <= seq (binary search). */
	hi = p->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->images[mid]->first_seq <= seq)
			lo = mid;
		else
			hi = mid;
	}
	return p->images[lo];
}

/*
 * The module holding `ip` for the event `seq`: of those loaded then (not
 * unloaded before it), the newest recorded before it; else the first
 * recorded after it (the event that met a new library records it, after
 * its own slot).  A later dlopen may reuse a closed library's range.
 */
static struct sym_module *module_in(struct sym_image *img, uint64_t ip,
				    uint64_t seq)
{
	struct sym_module *later = NULL;

	for (size_t i = img->nmods; i-- > 0;) {
		struct sym_module *m = &img->mods[i];

		/* [low, high): high is the end of the last PT_LOAD. */
		if (ip < m->low || ip >= m->high || m->gone_seq < seq)
			continue;
		if (m->seq <= seq)
			return m;
		later = m;
	}
	return later;
}

static struct sym_module *find_module(struct sym_image *img, uint64_t ip,
				      uint64_t seq)
{
	for (int depth = 0; img && depth < MAX_ANCESTRY; depth++) {
		struct sym_module *m = module_in(img, ip, seq);

		if (m)
			return m;
		img = img->parent;
	}
	return NULL;
}

static char *file_key(const struct sym_module *m)
{
	char *key = xmalloc(2 * SHMT_BUILD_ID_MAX + 2 + strlen(m->path));
	size_t n = 0;

	for (size_t i = 0; i < m->id_len; i++)
		n += (size_t)sprintf(key + n, "%02x", m->build_id[i]);
	sprintf(key + n, "|%s", m->path);
	return key;
}

/* Does the file's build-id match what the traced process had mapped?  An
 * empty recorded id means the shim could not read it: nothing to check. */
static bool build_id_matches(Dwfl_Module *mod, const struct sym_module *m)
{
	const unsigned char *bits;
	GElf_Addr vaddr, bias;
	int n;

	if (!m->id_len)
		return true;
	dwfl_module_getelf(mod, &bias);
	n = dwfl_module_build_id(mod, &bits, &vaddr);
	if (n <= 0)
		return false;
	/* The trace keeps at most SHMT_BUILD_ID_MAX bytes of the id. */
	if ((size_t)n > SHMT_BUILD_ID_MAX)
		n = SHMT_BUILD_ID_MAX;
	return (size_t)n == m->id_len && memcmp(bits, m->build_id, m->id_len) == 0;
}

/* Open the ELF file; on any failure leave f->dwfl NULL. */
static void open_file(struct sym_file *f, const struct sym_module *m)
{
	struct stat st;
	Dwfl_Module *mod;
	Dwfl *dwfl;
	/* O_NONBLOCK: the path comes from the trace and may name a FIFO. */
	int fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	dwfl = dwfl_begin(&offline_callbacks);
	if (!dwfl) {
		close(fd);
		return;
	}
	dwfl_report_begin(dwfl);
	/* On success the Dwfl owns fd; on failure we still do. */
	mod = dwfl_report_elf(dwfl, m->path, m->path, fd, 0, false);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!mod) {
		close(fd);
		dwfl_end(dwfl);
		return;
	}
	if (!build_id_matches(mod, m)) {
		warning("'%s' is not the file the traced program ran "
			"(build-id differs): its frames stay unsymbolized",
			m->path);
		dwfl_end(dwfl);
		return;
	}
	f->dwfl = dwfl;
	f->mod = mod;
}

static struct sym_file *file_of(struct sym_table *st, struct sym_module *m)
{
	struct sym_file *f;
	char *key;

	if (m->file_tried)
		return m->file;
	m->file_tried = true;
	/* A relative path ("linux-vdso.so.1", a dlopen("./x.so")) was
	 * relative to the traced process, not to us: never open it. */
	if (!m->path || m->path[0] != '/')
		return NULL;
	key = file_key(m);
	HASH_FIND_STR(st->files, key, f);
	if (f) {
		free(key);
	} else {
		f = xcalloc(1, sizeof(*f));
		f->key = key;
		f->path = strchr(key, '|') + 1;
		HASH_ADD_KEYPTR(hh, st->files, f->key, strlen(f->key), f);
		open_file(f, m);
	}
	m->file = f;
	return f;
}

/* libstdc++'s demangler, looked up once at run time so the viewer needs
 * no C++ runtime to build or run: NULL where there is none. */
typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);
static demangle_fn demangler(void)
{
	static demangle_fn fn;
	static bool tried;
	if (!tried) {
		tried = true;
		void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
		if (h)
			fn = (demangle_fn)dlsym(h, "__cxa_demangle");
	}
	return fn;
}

/* "__libc_start_main@@GLIBC_2.34" -> "__libc_start_main": the version
 * is noise to a reader and a C name never holds an '@'.  A C++ name
 * ("_ZN3foo3barEv") is demangled ("foo::bar()") where libstdc++ is.
 * Owned copy. */
static char *plain_name(const char *name)
{
	if (!name)
		return NULL;
	char *plain = xstrndup(name, strcspn(name, "@"));
	demangle_fn d = strncmp(plain, "_Z", 2) == 0 ? demangler() : NULL;
	int status = -1;
	char *nice = d ? d(plain, NULL, NULL, &status) : NULL;
	if (nice && status == 0) {
		free(plain);
		return nice;
	}
	free(nice);
	return plain;
}

/*
 * A return address points just after its call, which may be the last
 * instruction of the function (a call to a noreturn function): both the
 * function and the line are those of ip - 1.  The offset shown is still
 * from the address itself, as recorded.  A signal frame's address is the
 * first byte of the signal trampoline (__restore_rt), not a return
 * address: when ip - 1 lies in no function, try ip itself.
 */
static void resolve_rel(struct sym_cache *c, Dwfl_Module *mod, uint64_t rel)
{
	uint64_t at = rel ? rel - 1 : 0;
	const char *name;
	Dwfl_Line *line;
	GElf_Off off;
	GElf_Sym sym;

	name = dwfl_module_addrinfo(mod, at, &off, &sym, NULL, NULL, NULL);
	if (!name && at != rel) {
		at = rel;
		name = dwfl_module_addrinfo(mod, at, &off, &sym,
					    NULL, NULL, NULL);
	}
	c->symbol = plain_name(name);
	c->offset = c->symbol ? off + (rel - at) : 0;
	line = dwfl_module_getsrc(mod, at);
	if (line)
		c->srcfile = dwfl_lineinfo(line, NULL, &c->line, NULL,
					   NULL, NULL);
	if (!c->srcfile)
		c->line = 0;
}

static struct sym_cache *lookup(struct sym_table *st, struct sym_file *f,
				uint64_t rel)
{
	struct sym_cache_key key;
	struct sym_cache *c;

	memset(&key, 0, sizeof(key));
	key.file = f;
	key.rel = rel;
	HASH_FIND(hh, st->cache, &key, sizeof(key), c);
	if (c)
		return c;
	c = xcalloc(1, sizeof(*c));
	c->key = key;
	resolve_rel(c, f->mod, rel);
	HASH_ADD(hh, st->cache, key, sizeof(c->key), c);
	return c;
}

void sym_resolve(struct sym_table *st, int32_t pid, uint64_t seq,
		 uint64_t ip, struct sym_frame *out)
{
	struct sym_image *img = image_at(st, pid, seq);
	struct sym_module *m = img ? find_module(img, ip, seq) : NULL;
	struct sym_file *f;
	struct sym_cache *c;

	memset(out, 0, sizeof(*out));
	out->ip = ip;
	if (!m)
		return;
	out->module = m->path;
	out->module_offset = ip - m->bias;
	out->build_id = m->id_hex[0] ? m->id_hex : NULL;
	f = file_of(st, m);
	if (!f || !f->dwfl)
		return;
	c = lookup(st, f, ip - m->bias);
	out->symbol = c->symbol;
	out->offset = c->offset;
	out->file = c->srcfile;
	out->line = c->line;
}

struct sym_table *sym_learn_trace(const struct trace *t)
{
	struct sym_table *st = sym_new();
	const struct trace_event *ev;
	struct trace_iter it;

	trace_iter_init(&it, t);
	while ((ev = trace_iter_next(&it)))
		sym_learn(st, ev);
	return st;
}
