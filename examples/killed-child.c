/*
 * killed-child.c - a child killed with SIGKILL while attached.
 *
 *   killed-child
 *
 * The parent creates an IPC_PRIVATE segment and attaches it, then forks a
 * child, which inherits the attachment, tells the parent it is ready
 * through a pipe and sleeps.  The parent kills it with SIGKILL, reaps it,
 * and only then detaches and removes the segment.
 *
 * A process killed with SIGKILL records nothing at its end: the tracer
 * learns of it from the parent's waitpid (and the launcher's own reaping),
 * and must drop the child's attachment then, as the kernel does.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static int nattch(int shmid)
{
	struct shmid_ds ds;

	if (shmctl(shmid, IPC_STAT, &ds) == -1)
		return -1;
	return (int)ds.shm_nattch;
}

/* The child: stays attached (inherited) until it is killed. */
static void child(int ready_fd)
{
	char c = 'r';

	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

int main(void)
{
	int shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (shmid == -1) {
		fprintf(stderr, "killed-child: shmget: %s\n", strerror(errno));
		return 1;
	}
	char *p = shmat(shmid, NULL, 0);
	if (p == (void *)-1) {
		fprintf(stderr, "killed-child: shmat: %s\n", strerror(errno));
		shmctl(shmid, IPC_RMID, NULL);
		return 1;
	}
	printf("parent: attached\n");
	fflush(stdout);

	int fds[2];
	char c;
	if (pipe(fds) == -1) {
		fprintf(stderr, "killed-child: pipe: %s\n", strerror(errno));
		return 1;
	}
	pid_t pid = fork();
	if (pid == -1) {
		fprintf(stderr, "killed-child: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0)
		child(fds[1]);
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1) {          /* the child is attached */
		fprintf(stderr, "killed-child: the child did not start\n");
		return 1;
	}
	printf("parent: child attached, nattch %d\n", nattch(shmid));

	int status;
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid) {
		fprintf(stderr, "killed-child: waitpid: %s\n", strerror(errno));
		return 1;
	}
	int killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	/* Not its nattch now: the kernel drops the child's attach when its
	 * address space goes, which something else (a reader of /proc) may
	 * delay past the wait. */
	printf("parent: child %s\n", killed ? "killed by SIGKILL" : "ended otherwise");

	if (shmdt(p) == -1 || shmctl(shmid, IPC_RMID, NULL) == -1) {
		fprintf(stderr, "killed-child: shmdt/IPC_RMID: %s\n",
			strerror(errno));
		return 1;
	}
	printf("parent: detached and removed\n");
	return killed ? 0 : 1;
}
