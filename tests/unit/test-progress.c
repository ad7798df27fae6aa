/* test-progress.c - unit tests of lib/progress (lines redrawn in place). */
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"
#include "tap.h"

/* What has been written to the stream since the last call. */
static const char *
written(FILE *fp, char **mem, size_t *len, size_t *seen)
{
	static struct buf b = BUF_INIT;

	fflush(fp);
	buf_reset(&b);
	buf_add(&b, *mem + *seen, *len - *seen);
	*seen = *len;
	return b.ptr;
}

int
main(void)
{
	struct progress p = PROGRESS_INIT;
	struct buf out = BUF_INIT;
	char *mem = NULL;
	size_t len = 0, seen = 0;
	FILE *fp = open_memstream(&mem, &len);

	progress_init(&p, NULL, 3);
	progress_label(&p, 0, "fake/echo");
	progress_label(&p, 1, "a");
	progress_label(&p, 2, "groq/llama");
	progress_set(&p, 1, PROGRESS_STREAMING, 120, 0, NULL);
	progress_set(&p, 2, PROGRESS_DONE, 0, 312, NULL);
	progress_render(&p, &out);
	is_str(out.ptr,
		"fake/echo   waiting\n"
		"a           streaming, 120 bytes\n"
		"groq/llama  done in 312 ms\n",
		"one line per item, labels padded to the widest");

	buf_reset(&out);
	progress_set(&p, 0, PROGRESS_FAILED, 0, 10, "fake: HTTP 500:\nbad");
	progress_set(&p, 2, PROGRESS_FAILED, 0, 10, NULL);
	progress_render(&p, &out);
	is_str(out.ptr,
		"fake/echo   failed: fake: HTTP 500: bad\n"
		"a           streaming, 120 bytes\n"
		"groq/llama  failed\n",
		"failures with their note, control bytes as spaces");

	buf_reset(&out);
	p.width = 20;
	progress_label(&p, 1, "h\xC3\xA9llo");
	progress_render(&p, &out);
	is_str(out.ptr,
		"fake/echo   failed:\n"
		"h\xC3\xA9llo       streami\n"
		"groq/llama  failed\n",
		"lines cut to width - 1 characters, UTF-8 counted once");
	p.width = 80;

	buf_reset(&out);
	p.max_lines = 2;
	progress_render(&p, &out);
	is_str(out.ptr, "0 of 3 done, 2 failed, 1 streaming\n",
		"more items than lines: one summary line");
	progress_set(&p, 0, PROGRESS_DONE, 0, 5, NULL);
	progress_set(&p, 2, PROGRESS_WAITING, 0, 0, NULL);
	buf_reset(&out);
	progress_render(&p, &out);
	is_str(out.ptr, "1 of 3 done, 1 streaming, 1 waiting\n",
		"the summary counts each state");
	p.max_lines = 0;

	/* Drawing. */
	progress_init(&p, fp, 2);
	progress_label(&p, 0, "m1");
	progress_label(&p, 1, "m2");
	progress_draw(&p, 1000, false);
	is_str(written(fp, &mem, &len, &seen),
		"\r\033[Km1  waiting\n\r\033[Km2  waiting\n",
		"the first draw: each line erased and written");
	ok(p.drawn == 2, "two lines are on the screen");
	progress_set(&p, 1, PROGRESS_STREAMING, 7, 0, NULL);
	progress_draw(&p, 1050, false);
	is_str(written(fp, &mem, &len, &seen), "",
		"no redraw within 100 ms");
	progress_draw(&p, 1100, false);
	is_str(written(fp, &mem, &len, &seen),
		"\033[2A\r\033[Km1  waiting\n\r\033[Km2  streaming, 7 bytes\n",
		"then the cursor goes up and the lines are redrawn");
	progress_draw(&p, 1500, false);
	is_str(written(fp, &mem, &len, &seen), "",
		"nothing changed: nothing drawn");
	progress_draw(&p, 1501, true);
	ok(*written(fp, &mem, &len, &seen) != '\0', "forced: drawn anyway");
	progress_clear(&p);
	is_str(written(fp, &mem, &len, &seen), "\033[2A\r\033[J",
		"clear: up over the lines, erase to the end of the screen");
	ok(p.drawn == 0, "nothing is on the screen");
	progress_clear(&p);
	is_str(written(fp, &mem, &len, &seen), "", "clearing twice: nothing");
	progress_draw(&p, 1502, false);
	is_str(written(fp, &mem, &len, &seen),
		"\r\033[Km1  waiting\n\r\033[Km2  streaming, 7 bytes\n",
		"after a clear the next draw puts the lines back at once");

	progress_init(&p, fp, 1);
	progress_label(&p, 0, "judge");
	progress_draw(&p, 5000, true);
	is_str(written(fp, &mem, &len, &seen),
		"\033[2A\r\033[Kjudge  waiting\n\033[J",
		"fewer lines than before: the rest is erased");

	progress_init(&p, NULL, 1);
	progress_draw(&p, 9000, true);
	progress_clear(&p);
	is_str(written(fp, &mem, &len, &seen), "", "no stream: nothing drawn");

	progress_release(&p);
	progress_release(&p);
	ok(p.n == 0 && p.items == NULL, "release twice is safe");
	buf_release(&out);
	fclose(fp);
	free(mem);
	return tap_done();
}
