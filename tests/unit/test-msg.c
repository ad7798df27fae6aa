/* test-msg.c - unit tests of lib/msg: the lines on stderr, -q, -v. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "msg.h"
#include "tap.h"

static char path[] = "/tmp/test-msg-XXXXXX";
static int saved_fd = -1, file_fd = -1;
static struct buf got = BUF_INIT;

/* Send fd 2 to an empty temporary file. */
static void
capture(void)
{
	fflush(stderr);
	if (ftruncate(file_fd, 0) != 0 || lseek(file_fd, 0, SEEK_SET) != 0)
		abort();
	saved_fd = dup(2);
	dup2(file_fd, 2);
}

/* Restore fd 2 and return what was written to it. */
static const char *
captured(void)
{
	char tmp[512];
	ssize_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	buf_reset(&got);
	lseek(file_fd, 0, SEEK_SET);
	while ((n = read(file_fd, tmp, sizeof(tmp))) > 0)
		buf_add(&got, tmp, (size_t)n);
	return got.ptr;
}

int
main(void)
{
	file_fd = mkstemp(path);
	if (file_fd < 0) {
		perror(path);
		return 1;
	}

	is_str(msg_progname(), "llm", "the default name is llm");
	is_int(msg_quiet(), 0, "not quiet by default");
	is_int(msg_verbosity(), 0, "verbosity 0 by default");

	msg_init("llm-test");
	is_str(msg_progname(), "llm-test", "msg_init sets the name");

	capture();
	msg_error("cannot open '%s': %s", "q.txt", "No such file");
	is_str(captured(), "llm-test: error: cannot open 'q.txt': No such file\n",
		"msg_error: one line, prefixed");

	capture();
	msg_warn("%d retries left", 2);
	is_str(captured(), "llm-test: warning: 2 retries left\n", "msg_warn");

	capture();
	msg_debug(1, "hidden");
	is_str(captured(), "", "msg_debug(1) is silent at verbosity 0");

	msg_set_quiet(1);
	is_int(msg_quiet(), 1, "msg_set_quiet");
	capture();
	msg_warn("muted");
	msg_error("still shown");
	is_str(captured(), "llm-test: error: still shown\n",
		"-q mutes warnings but not errors");
	msg_set_quiet(0);

	msg_set_verbosity(1);
	is_int(msg_verbosity(), 1, "msg_set_verbosity");
	capture();
	msg_debug(1, "level %d", 1);
	msg_debug(2, "level %d", 2);
	is_str(captured(), "llm-test: debug: level 1\n",
		"-v shows level 1, not level 2");

	msg_set_verbosity(2);
	capture();
	msg_debug(1, "a");
	msg_debug(2, "b");
	msg_debug(3, "c");
	is_str(captured(), "llm-test: debug: a\nllm-test: debug: b\n",
		"-vv shows levels 1 and 2");

	msg_set_quiet(1);
	capture();
	msg_debug(1, "debug under -q");
	is_str(captured(), "llm-test: debug: debug under -q\n",
		"-q does not mute debug lines asked for with -v");
	msg_set_quiet(0);
	msg_set_verbosity(0);

	capture();
	msg_error("%s", "100% sure");
	is_str(captured(), "llm-test: error: 100% sure\n",
		"arguments are not formats");

	/* stdout is flushed first, so that the two streams interleave in
	 * the order they were written: send fd 1 to the same file. */
	{
		int out_fd;

		fflush(stdout);
		out_fd = dup(1);
		capture();
		dup2(file_fd, 1);
		fputs("data;", stdout); /* buffered: fd 1 is not a tty */
		msg_warn("x");
		fputs("more", stdout);
		fflush(stdout);
		dup2(out_fd, 1);
		close(out_fd);
		is_str(captured(), "data;llm-test: warning: x\nmore",
			"pending stdout is flushed before the message");
	}

	close(file_fd);
	unlink(path);
	buf_release(&got);
	return tap_done();
}
