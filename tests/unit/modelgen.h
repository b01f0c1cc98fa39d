/*
 * modelgen.h - synthetic traces for the tests of the model and its rules:
 * events at a given time, written to a file, opened, modelled and
 * reconciled.  Include after tracegen.h (and TB_CAP); call modelgen_init()
 * first and modelgen_done() last.
 */
#ifndef SHMTRACE_MODELGEN_H
#define SHMTRACE_MODELGEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kernel.h"
#include "model.h"
#include "trace.h"
#include "tracegen.h"

static char modelgen_dir[] = "/tmp/test-model-XXXXXX";

/* An event of pid at `us` microseconds since the trace's start. */
static inline struct shmt_event *ev(struct tb *b, uint16_t call, int32_t pid,
				    uint64_t us, int64_t ret)
{
	struct shmt_event *e = tb_add(b, call, pid);
	e->time_ns = b->h->start_ns + us * 1000;
	e->duration_ns = 100;
	e->ret = ret;
	return e;
}

/* The sequence number of the event added last. */
static inline uint64_t last_seq(const struct tb *b)
{
	return b->h->head - 1;
}

/* pid starts /bin/prog, child of ppid. */
static inline void start(struct tb *b, int32_t pid, int32_t ppid, uint64_t us)
{
	struct shmt_event *e = ev(b, SHMT_CALL_EXEC, pid, us, 0);
	e->flags = SHMT_EVF_START;
	e->args[SHMT_ARG_EXEC_PPID] = (uint64_t)ppid;
	e->args[SHMT_ARG_EXEC_ARGC] = 1;
	tb_str(b, e, "/bin/prog\0prog", 14);
}

static inline struct shmt_event *shmget_ev(struct tb *b, int32_t pid,
					   uint64_t us, int shmid,
					   uint32_t key, uint64_t size)
{
	struct shmt_event *e = ev(b, SHMT_CALL_SHMGET, pid, us, shmid);
	e->flags = SHMT_EVF_CREATED;
	e->args[SHMT_ARG_SHMGET_KEY] = key;
	e->args[SHMT_ARG_SHMGET_SIZE] = size;
	return e;
}

static inline struct shmt_event *shmat_ev(struct tb *b, int32_t pid,
					  uint64_t us, int shmid,
					  uint64_t addr, uint64_t size)
{
	struct shmt_event *e = ev(b, SHMT_CALL_SHMAT, pid, us, (int64_t)addr);
	e->args[SHMT_ARG_SHMAT_SHMID] = (uint64_t)shmid;
	e->args[SHMT_ARG_SHMAT_SEGSZ] = size;
	return e;
}

static inline struct shmt_event *shmctl_ev(struct tb *b, int32_t pid,
					   uint64_t us, int shmid, int cmd)
{
	struct shmt_event *e = ev(b, SHMT_CALL_SHMCTL, pid, us, 0);
	e->args[SHMT_ARG_SHMCTL_SHMID] = (uint64_t)shmid;
	e->args[SHMT_ARG_SHMCTL_CMD] = (uint64_t)cmd;
	return e;
}

static inline struct shmt_event *anon_mmap(struct tb *b, int32_t pid,
					   uint64_t us, uint64_t addr,
					   uint64_t len)
{
	struct shmt_event *e = ev(b, SHMT_CALL_MMAP, pid, us, (int64_t)addr);
	e->args[SHMT_ARG_MMAP_LENGTH] = len;
	e->args[SHMT_ARG_MMAP_PROT] = PROT_READ | PROT_WRITE;
	e->args[SHMT_ARG_MMAP_FLAGS] = MAP_SHARED | MAP_ANONYMOUS;
	e->obj = SHMT_OBJ_ANON;
	return e;
}

static inline struct shmt_event *posix_open(struct tb *b, int32_t pid,
					    uint64_t us, const char *name,
					    int fd, int created)
{
	struct shmt_event *e = ev(b, SHMT_CALL_SHM_OPEN, pid, us, fd);
	e->flags = created ? SHMT_EVF_CREATED : 0;
	tb_str(b, e, name, strlen(name));
	return e;
}

/* A call that failed with errno err. */
static inline struct shmt_event *failed(struct shmt_event *e, int err)
{
	e->ret = -1;
	e->err = err;
	return e;
}

static inline void modelgen_init(void)
{
	if (!mkdtemp(modelgen_dir))
		exit(1);
}

/* Write b to NAME in the test's directory, open it as *t, model it into
 * *m and reconcile it with k (NULL: the trace alone). */
static inline int build_with(struct tb *b, struct trace *t, struct model *m,
			     const char *name, const struct kernel_view *k)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", modelgen_dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fwrite(b->buf, 1, b->size, f);
	fclose(f);
	if (trace_open(path, t) != 0)
		return -1;
	model_build(m, t, UINT64_MAX);
	model_reconcile(m, k);
	return 0;
}

static inline int build(struct tb *b, struct trace *t, struct model *m,
			const char *name)
{
	return build_with(b, t, m, name, NULL);
}

/* Removes the directory; 0 when it went. */
static inline int modelgen_done(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", modelgen_dir);
	return system(cmd);
}

#endif
