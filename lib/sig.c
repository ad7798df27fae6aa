/* sig.c - signals as data; see sig.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sig.h"

static volatile sig_atomic_t caught;
static int pipefd[2] = { -1, -1 };

static void
on_signal(int signo)
{
	int saved = errno;
	char c = 1;

	if (!caught)
		caught = signo;
	if (pipefd[1] >= 0 && write(pipefd[1], &c, 1) < 0) {
		/* Nothing to do: the flag is set. */
	}
	errno = saved;
}

static void
make_pipe(void)
{
	int i;

	if (pipe(pipefd) < 0) {
		pipefd[0] = pipefd[1] = -1;
		return;
	}
	for (i = 0; i < 2; i++) {
		fcntl(pipefd[i], F_SETFL, fcntl(pipefd[i], F_GETFL) | O_NONBLOCK);
		fcntl(pipefd[i], F_SETFD, FD_CLOEXEC);
	}
}

void
sig_install(void)
{
	struct sigaction sa;

	if (pipefd[0] < 0)
		make_pipe();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int
sig_fd(void)
{
	return pipefd[0];
}

int
sig_caught(void)
{
	return caught;
}

void
sig_forked(void)
{
	if (pipefd[0] < 0)
		return;
	close(pipefd[0]);
	close(pipefd[1]);
	make_pipe();
}
