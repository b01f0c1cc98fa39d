/*
 * clean.c - whether a leaked segment may be removed now (see clean.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "clean.h"

#define TICK_MARGIN_NS 50000000  /* 50 ms: several ticks at HZ=100 */

static const struct clean_verdict remove_it = { CLEAN_REMOVE, CLEAN_WHY_NONE };
static const struct clean_verdict gone = { CLEAN_GONE, CLEAN_WHY_NONE };

static struct clean_verdict not_ours(enum clean_reason why)
{
	return (struct clean_verdict){ CLEAN_NOT_OURS, why };
}

struct clean_window clean_trace_window(const struct trace *t)
{
	struct clean_window w = {
		(int64_t)t->start_realtime_ns - TICK_MARGIN_NS, INT64_MAX };

	if ((t->flags & SHMT_HF_FINAL) && t->end_ns >= t->start_ns)
		w.hi = (int64_t)(t->start_realtime_ns +
				 (t->end_ns - t->start_ns));
	return w;
}

/* /proc/sysvipc/shm stamps whole seconds: the window is compared in them */
struct clean_verdict clean_check_sysv(const struct model *m,
				      const struct segment *s,
				      const struct kernel_view *k,
				      struct clean_window w)
{
	const struct kernel_sysv *ks = kernel_find_shmid(k, s->shmid);

	if (!k->sysv_ok)
		return not_ours(CLEAN_WHY_SYSV_UNREADABLE);
	if (!ks)
		return gone;
	if (ks->key != s->key)
		return not_ours(CLEAN_WHY_OTHER_KEY);
	if (!model_process(m, ks->cpid))
		return not_ours(CLEAN_WHY_OUTSIDE_CREATOR);
	if (ks->ctime < w.lo / 1000000000)
		return not_ours(CLEAN_WHY_OLDER_ID);
	if (w.hi != INT64_MAX && ks->ctime > w.hi / 1000000000)
		return not_ours(CLEAN_WHY_ID_CHANGED_AFTER);
	if (s->size && ks->size != s->size)
		return not_ours(CLEAN_WHY_OTHER_SIZE);
	if (ks->dest)
		return gone;    /* someone removed it meanwhile */
	return remove_it;
}

void clean_stat_posix(const char *name, struct clean_posix_now *now)
{
	char path[PATH_MAX];
	struct stat st;

	*now = (struct clean_posix_now){ 0 };
	while (*name == '/')
		name++;
	if ((size_t)snprintf(path, sizeof(path), "/dev/shm/%s", name) >=
	    sizeof(path)) {
		now->name_too_long = true;
		return;
	}
	if (lstat(path, &st) < 0) {
		now->err = errno;
		return;
	}
	now->regular = S_ISREG(st.st_mode);
	now->inode = st.st_ino;
	now->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 +
			st.st_ctim.tv_nsec;
}

struct clean_verdict clean_check_posix(const struct segment *s,
				       const struct clean_posix_now *now,
				       struct clean_window w)
{
	if (now->name_too_long)
		return not_ours(CLEAN_WHY_NAME_TOO_LONG);
	if (now->err)
		return now->err == ENOENT ? gone :
		       not_ours(CLEAN_WHY_UNEXAMINABLE);
	if (!now->regular)
		return not_ours(CLEAN_WHY_NOT_REGULAR);
	if (now->ctime_ns < w.lo)
		return not_ours(CLEAN_WHY_OLDER_NAME);
	if (now->ctime_ns > w.hi)
		return not_ours(CLEAN_WHY_NAME_CHANGED_AFTER);
	if (s->inode && now->inode != s->inode)
		return not_ours(CLEAN_WHY_OTHER_INODE);
	return remove_it;
}

const char *clean_reason_text(enum clean_reason why)
{
	static const char *const text[CLEAN_REASON_COUNT] = {
		[CLEAN_WHY_NONE] = "",
		[CLEAN_WHY_SYSV_UNREADABLE] = "/proc/sysvipc/shm cannot be read",
		[CLEAN_WHY_OTHER_KEY] = "its id now has another key",
		[CLEAN_WHY_OUTSIDE_CREATOR] = "its id now belongs to a segment "
					      "made outside the trace",
		[CLEAN_WHY_OLDER_ID] = "its id now belongs to an older segment",
		[CLEAN_WHY_ID_CHANGED_AFTER] = "it was changed after the trace "
					       "ended",
		[CLEAN_WHY_OTHER_SIZE] = "its id now has another size",
		[CLEAN_WHY_NAME_TOO_LONG] = "its name is too long",
		[CLEAN_WHY_UNEXAMINABLE] = "it cannot be examined",
		[CLEAN_WHY_NOT_REGULAR] = "it is not a regular file any more",
		[CLEAN_WHY_OLDER_NAME] = "its name belongs to an older object",
		[CLEAN_WHY_NAME_CHANGED_AFTER] = "the object of that name was "
						 "changed after the trace ended",
		[CLEAN_WHY_OTHER_INODE] = "its name now belongs to another "
					  "object",
	};

	return why < CLEAN_REASON_COUNT ? text[why] : "?";
}
