/*
 * wrap-socket.c - descriptors passed over unix sockets (SCM_RIGHTS):
 * sendmsg, recvmsg, sendmmsg and recvmmsg.  A server's hot path goes through these, so a call
 * without ancillary data (msg_controllen == 0) forwards after one test;
 * only a message that carries descriptors is looked at, and each one
 * passed is recorded (SHMT_CALL_FD_SEND / FD_RECV) with an object record
 * saying what it names, so the viewer knows who shared what with whom.
 */
#include "real.h"
#include "recorder.h"
#include "object.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Records every descriptor of msg's SCM_RIGHTS messages as `call`. */
static void note_rights(struct rec_ctx *c, uint16_t call, int sock,
			const struct msghdr *msg, ssize_t ret)
{
	int saved = errno, first = 1, index = 0;
	/* No getsockopt(SO_PEERCRED) for the peer: a sandbox's seccomp filter
	 * may trap it (Chromium's renderers crash on it, SIGSYS), and the
	 * viewer matches sender and receiver from both ends' events anyway. */
	const int32_t peer = 0;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(msg); h; h = CMSG_NXTHDR((struct msghdr *)msg, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
		    h->cmsg_len < CMSG_LEN(0))
			continue;
		size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *data = CMSG_DATA(h);
		for (size_t i = 0; i < n; i++, index++) {
			int fd;
			memcpy(&fd, data + i * sizeof(int), sizeof(fd));
			struct object_info oi;
			object_inspect(fd, 1, &oi);
			struct rec_event ev = {
				.call = call, .ret = ret, .obj = oi.kind,
				.args = { [SHMT_ARG_FD_SOCKET] = (uint64_t)sock,
					  [SHMT_ARG_FD_FD] = (uint64_t)(int64_t)fd,
					  [SHMT_ARG_FD_PEER] = (uint64_t)peer,
					  [SHMT_ARG_FD_INDEX] = (uint64_t)index,
					  [SHMT_ARG_FD_INODE] = oi.inode },
			};
			/* the first under the call's own begin (its stack),
			 * the rest as notes */
			uint64_t seq = first ? rec_end(c, &ev) : rec_note(&ev, 0);
			first = 0;
			object_note(&oi, fd, seq);
		}
	}
	if (first)
		rec_cancel(c);
	errno = saved;
}

SHIM_EXPORT ssize_t sendmsg(int sock, const struct msghdr *msg, int flags)
{
	REAL_OR(sendmsg, -1);
	struct rec_ctx c;
	if (!msg || msg->msg_controllen == 0 || !msg->msg_control || !rec_begin(&c))
		return real_sendmsg(sock, msg, flags);
	ssize_t ret = real_sendmsg(sock, msg, flags);
	if (ret < 0) {	/* nothing was passed */
		rec_cancel(&c);
		return ret;
	}
	note_rights(&c, SHMT_CALL_FD_SEND, sock, msg, ret);
	return ret;
}

SHIM_EXPORT ssize_t recvmsg(int sock, struct msghdr *msg, int flags)
{
	REAL_OR(recvmsg, -1);
	struct rec_ctx c;
	if (!msg || msg->msg_controllen == 0 || !msg->msg_control || !rec_begin(&c))
		return real_recvmsg(sock, msg, flags);
	ssize_t ret = real_recvmsg(sock, msg, flags);
	if (ret < 0 || msg->msg_controllen == 0) {
		rec_cancel(&c);
		return ret;
	}
	note_rights(&c, SHMT_CALL_FD_RECV, sock, msg, ret);
	return ret;
}

/* Whether any of the `n` messages carries ancillary data. */
static int any_control(const struct mmsghdr *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i].msg_hdr.msg_controllen && v[i].msg_hdr.msg_control)
			return 1;
	return 0;
}

/* The descriptors of the first `n` messages, each message's under a
 * begin of its own (the first one's with the call's stack). */
static void note_mmsg(uint16_t call, int sock, const struct mmsghdr *v, int n)
{
	for (int i = 0; i < n; i++) {
		struct rec_ctx c;
		if (v[i].msg_hdr.msg_controllen && rec_begin(&c))
			note_rights(&c, call, sock, &v[i].msg_hdr, (ssize_t)v[i].msg_len);
	}
}

SHIM_EXPORT int sendmmsg(int sock, struct mmsghdr *v, unsigned int n, int flags)
{
	REAL_OR(sendmmsg, -1);
	if (!v || !any_control(v, n))
		return real_sendmmsg(sock, v, n, flags);
	int ret = real_sendmmsg(sock, v, n, flags);
	if (ret > 0)
		note_mmsg(SHMT_CALL_FD_SEND, sock, v, ret);
	return ret;
}

SHIM_EXPORT int recvmmsg(int sock, struct mmsghdr *v, unsigned int n, int flags,
			 struct timespec *timeout)
{
	REAL_OR(recvmmsg, -1);
	if (!v || !any_control(v, n))
		return real_recvmmsg(sock, v, n, flags, timeout);
	int ret = real_recvmmsg(sock, v, n, flags, timeout);
	if (ret > 0)
		note_mmsg(SHMT_CALL_FD_RECV, sock, v, ret);
	return ret;
}
