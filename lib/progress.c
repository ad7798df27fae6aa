/* progress.c - progress lines on a terminal; see progress.h. */
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "xalloc.h"

#define REDRAW_MS 100.0
#define LABEL_MAX 40

void
progress_init(struct progress *p, FILE *fp, size_t n)
{
	size_t max_lines = p->max_lines ? p->max_lines : 12;
	size_t width = p->width ? p->width : 80;
	size_t drawn = p->drawn; /* still on the screen */

	progress_release(p);
	p->drawn = drawn;
	p->fp = fp;
	p->n = n;
	p->items = n ? xcalloc(n, sizeof(*p->items)) : NULL;
	p->max_lines = max_lines;
	p->width = width;
	p->dirty = true;
}

void
progress_label(struct progress *p, size_t i, const char *label)
{
	if (i >= p->n)
		return;
	free(p->items[i].label);
	p->items[i].label = xstrdup(label);
	p->dirty = true;
}

void
progress_set(struct progress *p, size_t i, enum progress_state st,
	size_t bytes, long ms, const char *note)
{
	struct progress_item *it;

	if (i >= p->n)
		return;
	it = &p->items[i];
	it->state = st;
	it->bytes = bytes;
	it->ms = ms;
	free(it->note);
	it->note = xstrdup_or_null(note);
	p->dirty = true;
}

/* Characters (not bytes) of UTF-8 text. */
static size_t
width_of(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/* Append s cut to at most cols characters; its control bytes become
 * spaces, so that a message cannot move the cursor. */
static void
add_cut(struct buf *out, const char *s, size_t cols)
{
	size_t w = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c & 0xC0) != 0x80 && w++ == cols)
			break;
		buf_addch(out, c < 0x20 || c == 0x7f ? ' ' : c);
	}
}

static void
add_state(struct buf *line, const struct progress_item *it)
{
	switch (it->state) {
	case PROGRESS_WAITING:
		buf_adds(line, "waiting");
		break;
	case PROGRESS_STREAMING:
		buf_addf(line, "streaming, %zu bytes", it->bytes);
		break;
	case PROGRESS_DONE:
		buf_addf(line, "done in %ld ms", it->ms);
		break;
	case PROGRESS_FAILED:
		buf_adds(line, "failed");
		if (it->note)
			buf_addf(line, ": %s", it->note);
		break;
	}
}

void
progress_render(const struct progress *p, struct buf *out)
{
	struct buf line = BUF_INIT;
	size_t i, w, lw = 0, count[4] = { 0, 0, 0, 0 };

	if (p->n > p->max_lines) {
		for (i = 0; i < p->n; i++)
			count[p->items[i].state]++;
		buf_addf(&line, "%zu of %zu done", count[PROGRESS_DONE], p->n);
		if (count[PROGRESS_FAILED])
			buf_addf(&line, ", %zu failed", count[PROGRESS_FAILED]);
		if (count[PROGRESS_STREAMING])
			buf_addf(&line, ", %zu streaming",
				count[PROGRESS_STREAMING]);
		if (count[PROGRESS_WAITING])
			buf_addf(&line, ", %zu waiting",
				count[PROGRESS_WAITING]);
		add_cut(out, line.ptr, p->width - 1);
		buf_addch(out, '\n');
		buf_release(&line);
		return;
	}
	for (i = 0; i < p->n; i++) {
		w = p->items[i].label ? width_of(p->items[i].label) : 0;
		if (w > lw)
			lw = w;
	}
	if (lw > LABEL_MAX)
		lw = LABEL_MAX;
	for (i = 0; i < p->n; i++) {
		const struct progress_item *it = &p->items[i];

		buf_reset(&line);
		add_cut(&line, it->label ? it->label : "", lw);
		for (w = width_of(line.ptr); w < lw + 2; w++)
			buf_addch(&line, ' ');
		add_state(&line, it);
		add_cut(out, line.ptr, p->width - 1);
		buf_addch(out, '\n');
	}
	buf_release(&line);
}

void
progress_draw(struct progress *p, double now, bool force)
{
	struct buf s = BUF_INIT;
	size_t lines = 0, i;

	if (p->fp == NULL || p->n == 0)
		return;
	/* After a clear the lines come back at once. */
	if (!force && (!p->dirty || (p->drawn && now - p->last < REDRAW_MS)))
		return;
	if (p->drawn)
		buf_addf(&s, "\033[%zuA", p->drawn);
	{
		struct buf body = BUF_INIT;

		progress_render(p, &body);
		for (i = 0; i < body.len; i++) {
			if (i == 0 || body.ptr[i - 1] == '\n')
				buf_adds(&s, "\r\033[K");
			buf_addch(&s, body.ptr[i]);
			if (body.ptr[i] == '\n')
				lines++;
		}
		buf_release(&body);
	}
	if (lines < p->drawn)
		buf_adds(&s, "\033[J");
	fwrite(s.ptr, 1, s.len, p->fp);
	fflush(p->fp);
	p->drawn = lines;
	p->last = now;
	p->dirty = false;
	buf_release(&s);
}

void
progress_clear(struct progress *p)
{
	if (p->fp == NULL || p->drawn == 0)
		return;
	fprintf(p->fp, "\033[%zuA\r\033[J", p->drawn);
	fflush(p->fp);
	p->drawn = 0;
	p->dirty = true;
}

void
progress_release(struct progress *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->items[i].label);
		free(p->items[i].note);
	}
	free(p->items);
	p->items = NULL;
	p->n = 0;
	p->drawn = 0;
	p->dirty = false;
}
