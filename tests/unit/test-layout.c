/*
 * test-layout.c - pins the trace format: every field's offset and size.
 * A change here is a format change: bump SHMT_VERSION with it.
 */
#include "check.h"
#include "records.h"
#include "shmtrace-format.h"

#include <stddef.h>
#include <stdatomic.h>

#define PIN(type, field, off, size)                                          \
	CHECK(offsetof(struct type, field) == (off) &&                       \
		      sizeof(((struct type *)0)->field) == (size),           \
	      #type "." #field " at %d, %d bytes", (off), (size))

int main(void)
{
	PIN(shmt_header, magic, 0, 8);
	PIN(shmt_header, version, 8, 4);
	PIN(shmt_header, header_size, 12, 4);
	PIN(shmt_header, endian, 16, 4);
	PIN(shmt_header, slot_size, 20, 4);
	PIN(shmt_header, max_depth, 24, 4);
	PIN(shmt_header, flags, 28, 4);
	PIN(shmt_header, slot_offset, 32, 8);
	PIN(shmt_header, slot_capacity, 40, 8);
	PIN(shmt_header, arena_offset, 48, 8);
	PIN(shmt_header, arena_size, 56, 8);
	PIN(shmt_header, total_size, 64, 8);
	PIN(shmt_header, owner_uid, 72, 8);
	PIN(shmt_header, creator_pid, 80, 8);
	PIN(shmt_header, start_ns, 88, 8);
	PIN(shmt_header, start_realtime_ns, 96, 8);
	PIN(shmt_header, end_ns, 104, 8);
	PIN(shmt_header, token, 112, 8);
	PIN(shmt_header, exit_status, 120, 8);
	PIN(shmt_header, depth, 128, 8);
	PIN(shmt_header, launcher_fd, 136, 8);
	PIN(shmt_header, cal_tsc0, 144, 8);
	PIN(shmt_header, cal_ns0, 152, 8);
	PIN(shmt_header, cal_tsc1, 160, 8);
	PIN(shmt_header, cal_ns1, 168, 8);
	PIN(shmt_header, head, 256, 8);
	PIN(shmt_header, arena_head, 320, 8);
	PIN(shmt_header, dropped, 384, 8);
	PIN(shmt_header, strings_dropped, 392, 8);
	PIN(shmt_header, nested, 400, 8);
	PIN(shmt_header, passthrough, 408, 8);
	PIN(shmt_header, stack_errors, 416, 8);
	PIN(shmt_header, nest_lost, 424, 8);
	PIN(shmt_header, disabled, 432, 8);
	PIN(shmt_header, stacks_no_room, 440, 8);
	PIN(shmt_header, untraced, 448, 8);
	PIN(shmt_header, capacity_lost, 680, 8);
	PIN(shmt_header, proc_seen, 512, 8);
	PIN(shmt_header, attached_at, 760, 8);
	PIN(shmt_header, detached_at, 768, 8);
	PIN(shmt_header, attach_stop_ns, 776, 8);
	PIN(shmt_header, detach_stop_ns, 784, 8);
	PIN(shmt_header, attach_failed, 792, 8);
	CHECK(sizeof(struct shmt_header) == 4096, "header is 4096 bytes");

	PIN(shmt_event, commit, 0, 8);
	PIN(shmt_event, time_ns, 8, 8);
	PIN(shmt_event, duration_ns, 16, 8);
	PIN(shmt_event, ret, 24, 8);
	PIN(shmt_event, pid, 32, 4);
	PIN(shmt_event, tid, 36, 4);
	PIN(shmt_event, call, 40, 2);
	PIN(shmt_event, nframes, 42, 2);
	PIN(shmt_event, flags, 44, 2);
	PIN(shmt_event, err, 46, 2);
	PIN(shmt_event, str_off, 48, 4);
	PIN(shmt_event, str_len, 52, 4);
	PIN(shmt_event, obj, 56, 4);
	PIN(shmt_event, reserved, 60, 4);
	PIN(shmt_event, args, 64, 64);
	CHECK(offsetof(struct shmt_event, frames) == 128, "frames start at 128");
	CHECK(sizeof(struct shmt_event) == 128, "event fixed part is 128 bytes");

	CHECK(shmt_slot_size(0) == 128, "slot of depth 0 is 128 bytes");
	CHECK(shmt_slot_size(16) == 256, "slot of depth 16 is 256 bytes");
	CHECK(shmt_slot_size(17) == 320, "slot of depth 17 rounds up to 320");

	/* the counters producers share across processes must be lock-free:
	 * libatomic's fallback locks are process-local */
	_Atomic uint64_t probe;
	CHECK(atomic_is_lock_free(&probe), "64-bit atomics are lock-free");

	/* call numbers are part of the format */
	CHECK(SHMT_CALL_SHMGET == 1 && SHMT_CALL_MMAP == 5 &&
	      SHMT_CALL_EXEC == 16 && SHMT_CALL_MODULE == 20 &&
	      SHMT_CALL_WAIT == 21 && SHMT_CALL_COUNT == 42, "call numbers unchanged");
	CHECK(SHMT_CALL_TMPFS == 40 && SHMT_CALL_CGROUP_MEM == 41,
	      "the launcher's capacity samples are calls 40 and 41");
	CHECK(SHMT_OBJ_ANON == 1 && SHMT_OBJ_BADFD == 7, "object kinds unchanged");
	CHECK(SHMT_VERSION == 1 && SHMT_VERSION_RECORDS == 2 && SHMT_HF_RECORDS == 0x10,
	      "region version 1, compact file version 2 with flag 0x10");
	CHECK(RECORDS_EVENT == 1 && RECORDS_STACK == 2 && RECORDS_STRING == 3 &&
	      RECORDS_LOSS == 4 && RECORDS_LOSS_RING_FULL == 1 &&
	      RECORDS_LOSS_STRING == 4, "record types and loss causes unchanged");
	CHECK(SHMT_CALL_OBJECT == 22 && SHMT_CALL_SEM_OPEN == 23 &&
	      SHMT_CALL_SEM_CLOSE == 24 && SHMT_CALL_SEM_UNLINK == 25 &&
	      SHMT_CALL_FD_SEND == 26 && SHMT_CALL_FD_RECV == 27 &&
	      SHMT_CALL_PROC_SEEN == 28, "object, semaphore, fd-passing calls");
	CHECK(SHMT_OBJ_SOCKET == 8 && SHMT_OBJ_PIPE == 9 &&
	      SHMT_OBJ_ANON_INODE == 10 && SHMT_OBJ_SEM == 11, "object kinds 8..11");

	/* argument slots are part of the format: where each value lives */
	static const struct { const char *name; unsigned got, want; } slots[] = {
#define SLOT(name, want) { #name, name, want }
		SLOT(SHMT_ARG_ADDR, 0),
		SLOT(SHMT_ARG_LENGTH, 1),
		SLOT(SHMT_ARG_SHMID, 0),
		SLOT(SHMT_ARG_ARGC, 1),
		SLOT(SHMT_ARG_ORIGIN, 6),
		SLOT(SHMT_ARG_INODE, 7),
		SLOT(SHMT_ARG_SHMGET_KEY, 0),
		SLOT(SHMT_ARG_SHMGET_SIZE, 1),
		SLOT(SHMT_ARG_SHMGET_FLAGS, 2),
		SLOT(SHMT_ARG_SHMAT_SHMID, 0),
		SLOT(SHMT_ARG_SHMAT_ADDR, 1),
		SLOT(SHMT_ARG_SHMAT_FLAGS, 2),
		SLOT(SHMT_ARG_SHMAT_SEGSZ, 6),
		SLOT(SHMT_ARG_SHMDT_ADDR, 0),
		SLOT(SHMT_ARG_SHMCTL_SHMID, 0),
		SLOT(SHMT_ARG_SHMCTL_CMD, 1),
		SLOT(SHMT_ARG_SHMCTL_BUF, 2),
		SLOT(SHMT_ARG_SHMCTL_KEY, 3),
		SLOT(SHMT_ARG_SHMCTL_MODE, 4),
		SLOT(SHMT_ARG_SHMCTL_CPID, 5),
		SLOT(SHMT_ARG_SHMCTL_SEGSZ, 6),
		SLOT(SHMT_ARG_SHMCTL_NATTCH, 7),
		SLOT(SHMT_ARG_MMAP_ADDR, 0),
		SLOT(SHMT_ARG_MMAP_LENGTH, 1),
		SLOT(SHMT_ARG_MMAP_PROT, 2),
		SLOT(SHMT_ARG_MMAP_FLAGS, 3),
		SLOT(SHMT_ARG_MMAP_FD, 4),
		SLOT(SHMT_ARG_MMAP_OFFSET, 5),
		SLOT(SHMT_ARG_MMAP_ORIGIN, 6),
		SLOT(SHMT_ARG_MMAP_INODE, 7),
		SLOT(SHMT_ARG_MUNMAP_ADDR, 0),
		SLOT(SHMT_ARG_MUNMAP_LENGTH, 1),
		SLOT(SHMT_ARG_MREMAP_OLD_ADDR, 0),
		SLOT(SHMT_ARG_MREMAP_OLD_SIZE, 1),
		SLOT(SHMT_ARG_MREMAP_NEW_SIZE, 2),
		SLOT(SHMT_ARG_MREMAP_FLAGS, 3),
		SLOT(SHMT_ARG_MREMAP_NEW_ADDR, 4),
		SLOT(SHMT_ARG_SHM_OPEN_OFLAG, 1),
		SLOT(SHMT_ARG_SHM_OPEN_MODE, 2),
		SLOT(SHMT_ARG_SHM_OPEN_INODE, 7),
		SLOT(SHMT_ARG_MEMFD_FLAGS, 1),
		SLOT(SHMT_ARG_MEMFD_INODE, 7),
		SLOT(SHMT_ARG_FTRUNCATE_FD, 0),
		SLOT(SHMT_ARG_FTRUNCATE_LENGTH, 1),
		SLOT(SHMT_ARG_FTRUNCATE_ORIGIN, 6),
		SLOT(SHMT_ARG_CLOSE_FD, 0),
		SLOT(SHMT_ARG_CLOSE_ORIGIN, 6),
		SLOT(SHMT_ARG_FORK_PPID, 0),
		SLOT(SHMT_ARG_SPAWN_PID, 0),
		SLOT(SHMT_ARG_SPAWN_ARGC, 1),
		SLOT(SHMT_ARG_SPAWN_SEARCH, 2),
		SLOT(SHMT_ARG_EXEC_PPID, 0),
		SLOT(SHMT_ARG_EXEC_ARGC, 1),
		SLOT(SHMT_ARG_EXEC_VARIANT, 2),
		SLOT(SHMT_ARG_EXEC_INNER_PID, 3),
		SLOT(SHMT_ARG_EXIT_STATUS, 0),
		SLOT(SHMT_ARG_EXIT_RAW, 1),
		SLOT(SHMT_ARG_THREAD_START_ROUTINE, 0),
		SLOT(SHMT_ARG_THREAD_EXIT_RETVAL, 0),
		SLOT(SHMT_ARG_MODULE_BIAS, 0),
		SLOT(SHMT_ARG_MODULE_LO, 1),
		SLOT(SHMT_ARG_MODULE_HI, 2),
		SLOT(SHMT_ARG_MODULE_BUILD_ID_LEN, 3),
		SLOT(SHMT_ARG_MODULE_BUILD_ID, 4),
		SLOT(SHMT_ARG_WAIT_PID, 0),
		SLOT(SHMT_ARG_WAIT_STATUS, 1),
		SLOT(SHMT_ARG_WAIT_VARIANT, 2),
		SLOT(SHMT_ARG_TMPFS_DEV, 0),
		SLOT(SHMT_ARG_TMPFS_SIZE, 1),
		SLOT(SHMT_ARG_TMPFS_USED, 2),
		SLOT(SHMT_ARG_TMPFS_PEAK, 3),
		SLOT(SHMT_ARG_TMPFS_START, 4),
		SLOT(SHMT_ARG_TMPFS_PID, 5),
		SLOT(SHMT_ARG_TMPFS_INODES, 6),
		SLOT(SHMT_ARG_TMPFS_INODES_USED, 7),
		SLOT(SHMT_ARG_CGROUP_LIMIT, 0),
		SLOT(SHMT_ARG_CGROUP_USAGE, 1),
		SLOT(SHMT_ARG_CGROUP_PEAK, 2),
		SLOT(SHMT_ARG_CGROUP_SHMEM, 3),
		SLOT(SHMT_ARG_CGROUP_SHMEM_PEAK, 4),
		SLOT(SHMT_ARG_CGROUP_PID, 5),
		SLOT(SHMT_ARG_CGROUP_VERSION, 6),
		SLOT(SHMT_ARG_OBJECT_DEV, 0),
		SLOT(SHMT_ARG_OBJECT_INODE, 1),
		SLOT(SHMT_ARG_OBJECT_SIZE, 2),
		SLOT(SHMT_ARG_OBJECT_MODE, 3),
		SLOT(SHMT_ARG_OBJECT_FD, 4),
		SLOT(SHMT_ARG_OBJECT_OF, 6),
		SLOT(SHMT_ARG_OBJECT_ERRORS, 7),
		SLOT(SHMT_ARG_SEM_OPEN_OFLAG, 1),
		SLOT(SHMT_ARG_SEM_OPEN_MODE, 2),
		SLOT(SHMT_ARG_SEM_OPEN_VALUE, 3),
		SLOT(SHMT_ARG_SEM_CLOSE_ADDR, 0),
		SLOT(SHMT_ARG_FD_SOCKET, 0),
		SLOT(SHMT_ARG_FD_FD, 1),
		SLOT(SHMT_ARG_FD_PEER, 2),
		SLOT(SHMT_ARG_FD_INDEX, 3),
		SLOT(SHMT_ARG_FD_INODE, 7),
		SLOT(SHMT_ARG_PROC_SEEN_ADDR, 0),
		SLOT(SHMT_ARG_PROC_SEEN_LENGTH, 1),
		SLOT(SHMT_ARG_PROC_SEEN_PROT, 2),
		SLOT(SHMT_ARG_PROC_SEEN_DEV, 3),
		SLOT(SHMT_ARG_PROC_SEEN_OFFSET, 5),
		SLOT(SHMT_ARG_PROC_SEEN_INODE, 7),
#undef SLOT
	};
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		CHECK(slots[i].got == slots[i].want, "%s is args[%u]", slots[i].name,
		      slots[i].want);
	CHECK(SHMT_ARG_COUNT == sizeof(((struct shmt_event *)0)->args) / 8,
	      "SHMT_ARG_COUNT is the number of slots");
	CHECK(SHMT_ARG_MODULE_BUILD_ID * 8 + SHMT_BUILD_ID_MAX == 64,
	      "a build-id fills the slots from SHMT_ARG_MODULE_BUILD_ID on");
	return check_exit();
}
