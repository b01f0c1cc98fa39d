/*
 * fd-pass.c - one object, many routes: what today's programs do.
 *
 *   fd-pass TAG FILE [--leave] [--pause]
 *
 * The parent makes a memfd ("shmt-id-pool", 64 KiB), a POSIX object /TAG
 * (8 KiB), a named semaphore /TAG-sem and a regular file FILE (4 KiB),
 * maps each of them and forks a child that gets to them by every other
 * route there is:
 *   - the memfd received over a unix socket (SCM_RIGHTS), and again
 *     through /proc/PPID/fd/N; the POSIX object's descriptor too, with
 *     sendmmsg/recvmmsg (received and closed unused);
 *   - the POSIX object opened by its path /dev/shm/TAG, while the parent
 *     maps it through a descriptor dup'ed with fcntl(F_DUPFD);
 *   - the semaphore opened by name and posted, which the parent waits for;
 *   - FILE opened and mapped 50 times, one mapping per "request".
 * A pipe and an eventfd are mapped too (the kernel refuses: ENODEV), and
 * a descriptor that is not open (EBADF).
 *
 * --pause: once everything is mapped, the parent prints "paused PID CHILD"
 * and waits for a line on stdin before the two unmap anything (a test
 * freezes both there and reads /proc).  --leave: /TAG, /TAG-sem and FILE
 * stay behind; otherwise all three are removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define POOL_SIZE 65536
#define OBJ_SIZE 8192
#define FILE_SIZE 4096
#define REQUESTS 50

static void die(const char *what)
{
	fprintf(stderr, "fd-pass: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *map(int fd, size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static void send_fd(int sock, int fd)
{
	char byte = 'F';
	struct iovec iov = { &byte, 1 };
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (sendmsg(sock, &msg, 0) != 1)
		die("sendmsg");
}

/* The same with sendmmsg/recvmmsg, one message. */
static void send_fd_mmsg(int sock, int fd)
{
	char byte = 'M';
	struct iovec iov = { &byte, 1 };
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct mmsghdr m = { .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf) } };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m.msg_hdr);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (sendmmsg(sock, &m, 1, 0) != 1)
		die("sendmmsg");
}

static int recv_fd_mmsg(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct mmsghdr m = { .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf) } };
	if (recvmmsg(sock, &m, 1, 0, NULL) != 1)
		die("recvmmsg");
	struct cmsghdr *h = CMSG_FIRSTHDR(&m.msg_hdr);
	if (!h || h->cmsg_type != SCM_RIGHTS)
		die("recvmmsg: no descriptor");
	int fd;
	memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	if (recvmsg(sock, &msg, 0) != 1)
		die("recvmsg");
	struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
	if (!h || h->cmsg_type != SCM_RIGHTS)
		die("recvmsg: no descriptor");
	int fd;
	memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}

/* A word over the socket, to step the two processes together. */
static void say(int sock, char c)
{
	if (write(sock, &c, 1) != 1)
		die("write");
}

static void hear(int sock)
{
	char c;
	if (read(sock, &c, 1) != 1)
		die("read");
}

/* Mappings the kernel refuses, of descriptors that are no file. */
static void map_non_files(void)
{
	int p[2];
	if (pipe(p) == 0) {
		if (mmap(NULL, 4096, PROT_READ, MAP_SHARED, p[0], 0) != MAP_FAILED)
			die("mmap of a pipe worked");
		close(p[0]);
		close(p[1]);
	}
	int e = eventfd(0, 0);
	if (e >= 0) {
		if (mmap(NULL, 4096, PROT_READ, MAP_SHARED, e, 0) != MAP_FAILED)
			die("mmap of an eventfd worked");
		close(e);
	}
	/* a descriptor that is not open: EBADF, as without the tracer */
	if (mmap(NULL, 4096, PROT_READ, MAP_SHARED, 987, 0) != MAP_FAILED ||
	    errno != EBADF)
		die("mmap of a closed descriptor did not fail with EBADF");
}

static int child(int sock, pid_t parent, int pool_fd_in_parent,
		 const char *tag, const char *file, int pause_)
{
	char path[256];
	int pool = recv_fd(sock);
	close(recv_fd_mmsg(sock));
	char *p = map(pool, POOL_SIZE);
	strcpy(p + 100, "child was here");

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)parent, pool_fd_in_parent);
	int again = open(path, O_RDWR);
	if (again < 0)
		die("open /proc/PID/fd");
	char *q = map(again, POOL_SIZE);

	snprintf(path, sizeof(path), "/dev/shm/%s", tag + 1);
	int obj = open(path, O_RDWR);
	if (obj < 0)
		die("open /dev/shm");
	char *o = map(obj, OBJ_SIZE);
	strcpy(o, "object by path");

	snprintf(path, sizeof(path), "%s-sem", tag);
	sem_t *sem = sem_open(path, 0);
	if (sem == SEM_FAILED)
		die("sem_open");
	sem_post(sem);

	for (int i = 0; i < REQUESTS; i++) {
		int f = open(file, O_RDONLY);
		if (f < 0)
			die("open FILE");
		char *r = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, f, 0);
		if (r == MAP_FAILED)
			die("mmap FILE");
		if (i < REQUESTS - 1)
			munmap(r, FILE_SIZE);
		close(f);
	}
	map_non_files();
	if (pause_) {
		say(sock, 'r');
		hear(sock);
	}
	munmap(q, POOL_SIZE);
	munmap(p, POOL_SIZE);
	munmap(o, OBJ_SIZE);
	sem_close(sem);
	return 0;
}

/* The pool's maker, under a C++ name (shmt::pool::create(), as a C++
 * program would have it) so the viewer's demangling shows. */
int make_pool(void) __asm__("_ZN4shmt4pool6createEv");
int make_pool(void)
{
	int fd = memfd_create("shmt-id-pool", 0);
	if (fd < 0 || ftruncate(fd, POOL_SIZE) < 0)
		die("memfd_create");
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: fd-pass /TAG FILE [--leave] [--pause]\n");
		return 2;
	}
	const char *tag = argv[1], *file = argv[2];
	int leave = 0, pause_ = 0;
	for (int i = 3; i < argc; i++) {
		leave |= strcmp(argv[i], "--leave") == 0;
		pause_ |= strcmp(argv[i], "--pause") == 0;
	}
	char sem_name[256];
	snprintf(sem_name, sizeof(sem_name), "%s-sem", tag);

	int pool = make_pool();
	char *p = map(pool, POOL_SIZE);
	int obj = shm_open(tag, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (obj < 0 || ftruncate(obj, OBJ_SIZE) < 0)
		die("shm_open");
	sem_t *sem = sem_open(sem_name, O_CREAT | O_EXCL, 0600, 0);
	if (sem == SEM_FAILED)
		die("sem_open");
	int f = open(file, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (f < 0 || ftruncate(f, FILE_SIZE) < 0)
		die("open FILE");
	char *fm = map(f, FILE_SIZE);
	close(f);
	memcpy(fm, "file", 4);

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		die("socketpair");
	fflush(stdout);
	pid_t kid = fork();
	if (kid < 0)
		die("fork");
	if (kid == 0) {
		close(sv[0]);
		_exit(child(sv[1], getppid(), pool, tag, file, pause_));
	}
	close(sv[1]);
	send_fd(sv[0], pool);
	send_fd_mmsg(sv[0], obj);

	int dup_fd = fcntl(obj, F_DUPFD, 100);
	if (dup_fd < 0)
		die("fcntl");
	char *o = map(dup_fd, OBJ_SIZE);
	close(dup_fd);
	while (sem_wait(sem) < 0 && errno == EINTR)
		;
	if (pause_) {
		hear(sv[0]);
		printf("paused %d %d\n", (int)getpid(), (int)kid);
		fflush(stdout);
		char line[16];
		if (!fgets(line, sizeof(line), stdin))
			line[0] = '\0';
		say(sv[0], 'g');
	}
	int status;
	if (waitpid(kid, &status, 0) < 0)
		die("waitpid");
	printf("memfd: \"%s\"; object: \"%s\"; semaphore posted\n", p + 100, o);
	munmap(p, POOL_SIZE);
	munmap(o, OBJ_SIZE);
	munmap(fm, FILE_SIZE);
	close(pool);
	close(obj);
	sem_close(sem);
	if (!leave) {
		shm_unlink(tag);
		sem_unlink(sem_name);
		unlink(file);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
