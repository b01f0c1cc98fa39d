/*
 * annotate.h - what `dump -y` prints behind a descriptor or an address:
 * the object it stands for, "fd=5</dev/shm/name>",
 * "shmaddr=0x7f..<shmid 3 key 0x1234>", as strace -y does for paths.
 *
 * It asks the model (built from the whole trace), which alone knows which
 * segment each event touched (history.h): a descriptor is the segment of
 * the event that opened it (SHMT_ARG_ORIGIN), an address the segment of
 * this event that the process had attached there.
 */
#ifndef SHMVIEW_ANNOTATE_H
#define SHMVIEW_ANNOTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "trace.h"

struct annotate_pair {
	uint64_t seq;
	const struct segment *seg;
};

struct annotate {
	const struct model *m;
	struct annotate_pair *pairs;    /* sorted by seq */
	size_t n;
};

/* Index the histories of model m (which must outlive *a). */
void annotate_init(struct annotate *a, const struct model *m);
void annotate_free(struct annotate *a);

/*
 * The object behind descriptor argument or result of `ev` (for a call
 * whose descriptor came from shm_open or memfd_create: the one it
 * names), or behind address `addr` of `ev` (an argument or the result),
 * escaped into buf: "/dev/shm/name", "memfd:name", "shmid 3 key 0x1234",
 * "anon from pid 42".  false (buf "") when the trace does not say.
 */
bool annotate_fd(const struct annotate *a, const struct trace_event *ev,
		 char *buf, size_t size);
bool annotate_addr(const struct annotate *a, const struct trace_event *ev,
		   uint64_t addr, char *buf, size_t size);

#endif /* SHMVIEW_ANNOTATE_H */
