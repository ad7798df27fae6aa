/* table.c - aligned text tables; see table.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "xalloc.h"

void
table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

void
table_add(struct table *t, const char *cell)
{
	t->cells = xgrowarray(t->cells, &t->alloc, t->ncells + 1,
		sizeof(*t->cells));
	t->cells[t->ncells++] = xstrdup(cell ? cell : "");
}

void
table_addf(struct table *t, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	table_add(t, b.ptr);
	buf_release(&b);
}

/* Width in characters: UTF-8 continuation bytes do not count. */
static size_t
width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

void
table_render(const struct table *t, struct buf *out)
{
	size_t *w, i, c, pad;

	if (t->ncols == 0)
		return;
	w = xcalloc(t->ncols, sizeof(*w));
	for (i = 0; i < t->ncells; i++)
		if (width(t->cells[i]) > w[i % t->ncols])
			w[i % t->ncols] = width(t->cells[i]);
	for (i = 0; i < t->ncells; i++) {
		c = i % t->ncols;
		pad = w[c] - width(t->cells[i]);
		if (c < 16 && t->right[c])
			while (pad--)
				buf_addch(out, ' ');
		buf_adds(out, t->cells[i]);
		if (c + 1 == t->ncols || i + 1 == t->ncells) {
			while (out->len && out->ptr[out->len - 1] == ' ')
				buf_truncate(out, out->len - 1);
			buf_addch(out, '\n');
			continue;
		}
		if (!(c < 16 && t->right[c]))
			while (pad--)
				buf_addch(out, ' ');
		buf_adds(out, "  ");
	}
	free(w);
}

void
table_release(struct table *t)
{
	size_t i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
