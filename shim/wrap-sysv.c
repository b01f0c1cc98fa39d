/* wrap-sysv.c - SysV shared memory: shmget, shmat, shmdt, shmctl. */
#include "real.h"
#include "recorder.h"
#include "track.h"

#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNKNOWN_SEGMENT_SPAN (UINT64_C(1) << 30)	/* see shmat */

/*
 * "Open or create" (IPC_CREAT without IPC_EXCL) does not say which it did,
 * and the leak audit must know who created a segment.  So it is asked
 * first with IPC_EXCL: a success is the creation the program would have
 * made; EEXIST means it exists, and the program's own call then does
 * exactly what it would have done.  For a key that does not exist, both
 * forms fail or succeed alike.
 */
static int shmget_observed(__typeof__(&shmget) real, key_t key, size_t size,
			   int shmflg, int *created)
{
	int ret;
	if (key != IPC_PRIVATE && (shmflg & (IPC_CREAT | IPC_EXCL)) == IPC_CREAT) {
		int saved = errno;
		ret = real(key, size, shmflg | IPC_EXCL);
		if (ret >= 0 || errno != EEXIST) {
			*created = ret >= 0;
			return ret;
		}
		*created = 0;
		errno = saved;	/* the probe's EEXIST is not the program's */
		return real(key, size, shmflg);
	}
	ret = real(key, size, shmflg);
	*created = ret >= 0 && (key == IPC_PRIVATE || (shmflg & IPC_EXCL));
	return ret;
}

SHIM_EXPORT int shmget(key_t key, size_t size, int shmflg)
{
	REAL_OR(shmget, -1);
	struct rec_ctx c;
	if (!rec_begin(&c))
		return real_shmget(key, size, shmflg);
	int created;
	int ret = shmget_observed(real_shmget, key, size, shmflg, &created);
	struct rec_event ev = {
		.call = SHMT_CALL_SHMGET, .ret = ret, .err = ret < 0 ? errno : 0,
		.flags = created ? SHMT_EVF_CREATED : 0,
		.args = { [SHMT_ARG_SHMGET_KEY] = (uint32_t)key,
			  [SHMT_ARG_SHMGET_SIZE] = size,
			  [SHMT_ARG_SHMGET_FLAGS] = (uint32_t)shmflg },
	};
	rec_end(&c, &ev);
	if (created)	/* only a creation is sure to have exactly this size */
		track_segsz_put(ret, size);
	return ret;
}

/* The size of a segment: known from creating it or a past IPC_STAT, else
 * asked of the kernel with a raw call that is not recorded.  0 if unknown. */
static uint64_t segment_size(int shmid)
{
	uint64_t size = track_segsz_get(shmid);
	if (size)
		return size;
	struct shmid_ds ds;
	int saved = errno;
	if (syscall(SYS_shmctl, shmid, IPC_STAT, &ds) == 0) {
		size = ds.shm_segsz;
		track_segsz_put(shmid, size);
	}
	errno = saved;
	return size;
}

SHIM_EXPORT void *shmat(int shmid, const void *shmaddr, int shmflg)
{
	REAL_OR(shmat, (void *)-1);
	if ((shmflg & SHM_REMAP) && rec_overlaps_region((uintptr_t)shmaddr, 1)) {
		int suspended = rec_suspend();
		void *ret = real_shmat(shmid, shmaddr, shmflg);
		rec_suspend_end(suspended, ret == (void *)-1, "attached a segment over");
		return ret;
	}
	struct rec_ctx c;
	int on = rec_begin(&c);
	void *ret = real_shmat(shmid, shmaddr, shmflg);
	if (!on)
		return ret;
	int err = ret == (void *)-1 ? errno : 0;
	uint64_t size = err ? 0 : segment_size(shmid);
	if (!err)	/* unknown size: assume a wide span, over-approximate */
		track_map_add((uintptr_t)ret, size ? size : UNKNOWN_SEGMENT_SPAN);
	struct rec_event ev = {
		.call = SHMT_CALL_SHMAT, .ret = (int64_t)(intptr_t)ret, .err = err,
		.args = { [SHMT_ARG_SHMAT_SHMID] = (uint64_t)shmid,
			  [SHMT_ARG_SHMAT_ADDR] = (uintptr_t)shmaddr,
			  [SHMT_ARG_SHMAT_FLAGS] = (uint32_t)shmflg,
			  [SHMT_ARG_SHMAT_SEGSZ] = size },
	};
	rec_end(&c, &ev);
	return ret;
}

SHIM_EXPORT int shmdt(const void *shmaddr)
{
	REAL_OR(shmdt, -1);
	struct track_taken taken;
	track_map_take_at((uintptr_t)shmaddr, &taken);
	struct rec_ctx c;
	int on = rec_begin(&c);
	int ret = real_shmdt(shmaddr);
	if (ret != 0)
		track_map_put_back(&taken);
	if (!on)
		return ret;
	struct rec_event ev = {
		.call = SHMT_CALL_SHMDT, .ret = ret, .err = ret < 0 ? errno : 0,
		.args = { [SHMT_ARG_SHMDT_ADDR] = (uintptr_t)shmaddr },
	};
	rec_end(&c, &ev);
	return ret;
}

static int is_stat_cmd(int cmd)
{
	cmd &= ~0x100;	/* IPC_64 */
	return cmd == IPC_STAT || cmd == SHM_STAT || cmd == SHM_STAT_ANY;
}

SHIM_EXPORT int shmctl(int shmid, int cmd, struct shmid_ds *buf)
{
	REAL_OR(shmctl, -1);
	struct rec_ctx c;
	int on = rec_begin(&c);
	int ret = real_shmctl(shmid, cmd, buf);
	if (!on)
		return ret;
	struct rec_event ev = {
		.call = SHMT_CALL_SHMCTL, .ret = ret, .err = ret < 0 ? errno : 0,
		.args = { [SHMT_ARG_SHMCTL_SHMID] = (uint64_t)shmid,
			  [SHMT_ARG_SHMCTL_CMD] = (uint32_t)cmd,
			  [SHMT_ARG_SHMCTL_BUF] = (uintptr_t)buf },
	};
	if (ret >= 0 && buf && is_stat_cmd(cmd)) {
		ev.flags |= SHMT_EVF_STAT;
		ev.args[SHMT_ARG_SHMCTL_KEY] = (uint32_t)buf->shm_perm.__key;
		ev.args[SHMT_ARG_SHMCTL_MODE] = buf->shm_perm.mode;
		ev.args[SHMT_ARG_SHMCTL_CPID] = (uint64_t)buf->shm_cpid;
		ev.args[SHMT_ARG_SHMCTL_SEGSZ] = buf->shm_segsz;
		ev.args[SHMT_ARG_SHMCTL_NATTCH] = buf->shm_nattch;
		track_segsz_put((cmd & ~0x100) == IPC_STAT ? shmid : ret,
				buf->shm_segsz);
	}
	rec_end(&c, &ev);
	return ret;
}
