/* prompt.c - reading prompts; see prompt.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "prompt.h"

static int
read_fp(FILE *fp, struct buf *out)
{
	char tmp[8192];
	size_t n;

	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		buf_add(out, tmp, n);
	return ferror(fp) ? -1 : 0;
}

enum llm_status
prompt_read_file(const char *path, struct buf *out, struct buf *err)
{
	FILE *fp;
	int r;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL) {
		buf_setf(err, "cannot read '%s': %s", path, strerror(errno));
		return LLM_ERR_USAGE;
	}
	r = read_fp(fp, out);
	if (r < 0)
		buf_setf(err, "cannot read '%s': %s", path, strerror(errno));
	if (fp != stdin)
		fclose(fp);
	return r < 0 ? LLM_ERR_USAGE : LLM_OK;
}

static int
blank(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (b->ptr[i] != ' ' && b->ptr[i] != '\t' &&
			b->ptr[i] != '\n' && b->ptr[i] != '\r')
			return 0;
	return 1;
}

enum llm_status
prompt_read(int argc, char **argv, struct buf *prompt, struct buf *err)
{
	struct buf in = BUF_INIT;
	enum llm_status st = LLM_OK;
	int i, want_stdin;

	want_stdin = (argc == 1 && strcmp(argv[0], "-") == 0);
	if (want_stdin)
		argc = 0;
	for (i = 0; i < argc; i++) {
		if (i)
			buf_addch(prompt, ' ');
		buf_adds(prompt, argv[i]);
	}
	if (want_stdin || !isatty(STDIN_FILENO)) {
		if (read_fp(stdin, &in) < 0) {
			buf_setf(err, "cannot read standard input: %s",
				strerror(errno));
			st = LLM_ERR_IO;
			goto out;
		}
		while (in.len && (in.ptr[in.len - 1] == '\n' ||
				in.ptr[in.len - 1] == '\r'))
			buf_truncate(&in, in.len - 1);
		if (in.len && !blank(&in)) {
			if (prompt->len)
				buf_adds(prompt, "\n\n");
			buf_add(prompt, in.ptr, in.len);
		}
	}
	if (blank(prompt)) {
		buf_setf(err, "empty prompt: give it as arguments or on "
			      "standard input");
		st = LLM_ERR_USAGE;
	}
out:
	buf_release(&in);
	return st;
}
