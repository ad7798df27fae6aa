/* test-prompt.c - unit tests of lib/prompt: arguments, standard input,
 * both, "-", and prompt files. */
#define _XOPEN_SOURCE 700 /* posix_openpt */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "prompt.h"
#include "tap.h"

static char dir[] = "/tmp/test-prompt-XXXXXX";
static struct buf prompt = BUF_INIT, err = BUF_INIT;

/* Make stdin a file holding n bytes of s. */
static void
stdin_from(const char *s, size_t n)
{
	FILE *fp = fopen("in", "wb");

	if (fp == NULL || fwrite(s, 1, n, fp) != n || fclose(fp) != 0)
		abort();
	if (freopen("in", "rb", stdin) == NULL)
		abort();
}

static void
stdin_str(const char *s)
{
	stdin_from(s, strlen(s));
}

/* prompt_read with argv; the status, the prompt in prompt, the message
 * in err. */
static enum llm_status
run(int argc, const char **argv)
{
	char *v[8];
	int i;

	for (i = 0; i < argc; i++)
		v[i] = (char *)argv[i];
	buf_reset(&prompt);
	buf_reset(&err);
	return prompt_read(argc, v, &prompt, &err);
}

static const char empty_msg[] =
	"empty prompt: give it as arguments or on standard input";

int
main(void)
{
	const char *say_hi[] = { "Say", "hi" };
	const char *summ[] = { "Summarise", "this:" };
	const char *dash[] = { "-" };
	const char *x_dash[] = { "x", "-" };
	const char *blank[] = { " ", "\t" };
	struct buf big = BUF_INIT, out = BUF_INIT;
	int master, i;

	if (mkdtemp(dir) == NULL || chdir(dir) != 0) {
		perror(dir);
		return 1;
	}

	/* Arguments only: stdin is empty (cron's </dev/null). */
	if (freopen("/dev/null", "r", stdin) == NULL)
		abort();
	is_int(run(2, say_hi), LLM_OK, "args with an empty stdin");
	is_str(prompt.ptr, "Say hi", "the arguments joined by spaces");
	is_str(err.ptr, "", "no message");

	/* Arguments only: stdin is a terminal, and is not read. */
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0 &&
		freopen(ptsname(master), "r", stdin) != NULL && isatty(0)) {
		is_int(run(2, say_hi), LLM_OK, "args with stdin a terminal");
		is_str(prompt.ptr, "Say hi", "only the arguments");
		is_int(run(0, NULL), LLM_ERR_USAGE,
			"no args and stdin a terminal: usage error");
		is_str(err.ptr, empty_msg, "its message");
	} else {
		for (i = 0; i < 4; i++)
			ok(1, "# SKIP no pseudo-terminal");
	}
	if (master >= 0)
		close(master);

	stdin_str("hello\nworld\n\n\r\n");
	is_int(run(0, NULL), LLM_OK, "stdin only");
	is_str(prompt.ptr, "hello\nworld", "trailing line ends are dropped");

	stdin_str("  indented  \nlast  \n");
	run(0, NULL);
	is_str(prompt.ptr, "  indented  \nlast  ",
		"spaces are kept, inside and at the ends of lines");

	stdin_str("the text\r\n");
	is_int(run(2, summ), LLM_OK, "args and stdin");
	is_str(prompt.ptr, "Summarise this:\n\nthe text",
		"ARGS, a blank line, then stdin");

	stdin_str("from stdin\n");
	is_int(run(1, dash), LLM_OK, "'-' alone");
	is_str(prompt.ptr, "from stdin", "'-' alone means stdin only");

	stdin_str("in\n");
	is_int(run(2, x_dash), LLM_OK, "'-' among other args");
	is_str(prompt.ptr, "x -\n\nin", "is an ordinary argument");

	stdin_str(" \n\t\n");
	is_int(run(2, say_hi), LLM_OK, "args and a blank stdin");
	is_str(prompt.ptr, "Say hi", "a blank stdin adds no blank line");

	stdin_str("\n\n \t \r\n");
	is_int(run(0, NULL), LLM_ERR_USAGE, "whitespace-only stdin");
	is_str(err.ptr, empty_msg, "its message");

	if (freopen("/dev/null", "r", stdin) == NULL)
		abort();
	is_int(run(2, blank), LLM_ERR_USAGE, "whitespace-only args");
	is_str(err.ptr, empty_msg, "its message");
	if (freopen("/dev/null", "r", stdin) == NULL)
		abort();
	is_int(run(0, NULL), LLM_ERR_USAGE, "nothing at all");
	is_str(err.ptr, empty_msg, "its message");
	if (freopen("/dev/null", "r", stdin) == NULL)
		abort();
	is_int(run(1, dash), LLM_ERR_USAGE, "'-' with an empty stdin");

	for (i = 0; i < 20000; i++)
		buf_addf(&big, "line %05d\n", i);
	stdin_from(big.ptr, big.len);
	is_int(run(0, NULL), LLM_OK, "a large stdin");
	is_int((long long)prompt.len, (long long)big.len - 1,
		"is read whole (200 KB, less the last newline)");
	ok(prompt.len == big.len - 1 &&
			memcmp(prompt.ptr, big.ptr, prompt.len) == 0,
		"byte for byte");

	/* A stdin that cannot be read is an I/O error. */
	close(STDIN_FILENO);
	clearerr(stdin);
	is_int(run(1, dash), LLM_ERR_IO, "an unreadable stdin");
	is_str(err.ptr, "cannot read standard input: Bad file descriptor",
		"its message");

	/* prompt_read_file */
	buf_reset(&err);
	is_int(prompt_read_file("x", &out, &err), LLM_ERR_USAGE,
		"a missing file is a usage error");
	is_str(err.ptr, "cannot read 'x': No such file or directory",
		"its message");
	is_str(out.ptr, "", "nothing is read");

	stdin_str("Be terse.\n\n");
	buf_reset(&err);
	is_int(prompt_read_file("in", &out, &err), LLM_OK, "a file");
	is_str(out.ptr, "Be terse.\n\n", "is read as it is");
	buf_reset(&out);
	stdin_str("sys from stdin\n");
	is_int(prompt_read_file("-", &out, &err), LLM_OK, "'-'");
	is_str(out.ptr, "sys from stdin\n", "is stdin");
	buf_reset(&out);

	if (mkdir("d", 0700) == 0) {
		buf_reset(&err);
		is_int(prompt_read_file("d", &out, &err), LLM_ERR_USAGE,
			"a directory is a usage error");
		is_str(err.ptr, "cannot read 'd': Is a directory",
			"its message");
		rmdir("d");
	} else {
		ok(0, "mkdir d");
		ok(0, "mkdir d");
	}

	if (freopen("/dev/null", "r", stdin) == NULL)
		abort();
	unlink("in");
	if (chdir("/") != 0 || rmdir(dir) != 0)
		perror(dir);
	buf_release(&big);
	buf_release(&out);
	buf_release(&prompt);
	buf_release(&err);
	return tap_done();
}
