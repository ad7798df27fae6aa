/* test-sig.c - unit tests of lib/sig: SIGINT and SIGTERM as data, SIGPIPE
 * ignored. */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "sig.h"
#include "tap.h"

/* Whether fd has something to read right now. */
static int
readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* Read everything pending on fd; the number of bytes. */
static int
drain(int fd)
{
	char tmp[16];
	ssize_t n;
	int total = 0;

	while (readable(fd) && (n = read(fd, tmp, sizeof(tmp))) > 0)
		total += (int)n;
	return total;
}

/* In a child: install, raise signo, and report what was caught. */
static int
child_caught(int signo)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sig_install();
		raise(signo);
		_exit(sig_caught() == signo ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

int
main(void)
{
	struct sigaction sa;
	int fds[2], fd, flags;
	ssize_t w;

	ok(sig_fd() == -1, "no self-pipe before sig_install");
	is_int(sig_caught(), 0, "nothing caught before sig_install");
	is_int(child_caught(SIGTERM), 0, "SIGTERM is caught as SIGTERM");

	sig_install();
	fd = sig_fd();
	ok(fd >= 0, "sig_install makes a self-pipe");
	ok(!readable(fd), "which is empty");
	is_int(sig_caught(), 0, "nothing caught yet");
	flags = fcntl(fd, F_GETFL);
	ok(flags >= 0 && (flags & O_NONBLOCK), "the read end is non-blocking");
	ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "and close-on-exec");

	sigaction(SIGPIPE, NULL, &sa);
	ok(sa.sa_handler == SIG_IGN, "SIGPIPE is ignored");
	if (pipe(fds) == 0) {
		close(fds[0]);
		errno = 0;
		w = write(fds[1], "x", 1);
		ok(w == -1 && errno == EPIPE,
			"a write to a closed pipe gives EPIPE, not death");
		close(fds[1]);
	} else {
		ok(0, "pipe");
	}

	raise(SIGINT);
	is_int(sig_caught(), SIGINT, "raise(SIGINT): sig_caught() == SIGINT");
	ok(readable(fd), "the self-pipe is readable");
	is_int(drain(fd), 1, "one byte per signal");
	ok(!readable(fd), "drained");

	raise(SIGTERM);
	is_int(sig_caught(), SIGINT, "the first signal is kept");
	ok(readable(fd), "a later signal still wakes a poll");
	drain(fd);

	sig_install();
	is_int(sig_fd(), fd, "installing again keeps the same self-pipe");
	return tap_done();
}
