/*
 * rss.c - run a command and print its peak resident set size in KiB
 * (from wait4's rusage), then exit with the command's status.
 *   rss [-o FILE] [-i FILE] COMMAND [ARG...]
 * -o sends the command's stdout to FILE, -i reads stdin from FILE.
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	const char *out = NULL, *in = NULL;
	struct rusage ru;
	pid_t pid;
	int status, i = 1, fd;

	while (i + 1 < argc && argv[i][0] == '-' && argv[i][2] == '\0') {
		if (argv[i][1] == 'o')
			out = argv[i + 1];
		else if (argv[i][1] == 'i')
			in = argv[i + 1];
		else
			break;
		i += 2;
	}
	if (i >= argc) {
		fputs("usage: rss [-o file] [-i file] command [arg ...]\n",
			stderr);
		return 64;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 71;
	}
	if (pid == 0) {
		if (out && (fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0)
			dup2(fd, 1);
		if (in && (fd = open(in, O_RDONLY)) >= 0)
			dup2(fd, 0);
		execvp(argv[i], argv + i);
		perror(argv[i]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 71;
	}
	printf("%ld\n", ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
