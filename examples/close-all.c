/*
 * close-all.c - a program that closes every descriptor it has (as daemons
 * and sandboxes do), then runs a command in a child and exits with the
 * child's status.  The tracer must keep following: the child still finds
 * the trace region.
 *
 *	close-all PROG [ARGS...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: close-all PROG [ARGS...]\n");
		return 2;
	}
	/* close_range(2) where it exists, else one by one */
	if (close_range(0, ~0U, 0) != 0)
		for (int fd = 0; fd < 1024; fd++)
			close(fd);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
