/* csv.c - RFC 4180 rows; see csv.h. */
#include <stdarg.h>
#include <string.h>

#include "csv.h"

/*
 * Every field is written followed by a comma; csv_end_row() replaces the
 * row's last comma by CRLF.  A field never ends in a bare comma (one
 * that holds a comma is quoted), so the byte before the row's end tells.
 */
void
csv_field(struct buf *out, const char *s, size_t n)
{
	size_t i;

	if (s == NULL)
		n = 0;
	for (i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			break;
	if (i == n) {
		buf_add(out, s ? s : "", n);
	} else {
		buf_addch(out, '"');
		for (i = 0; i < n; i++) {
			if (s[i] == '"')
				buf_addch(out, '"');
			buf_addch(out, s[i]);
		}
		buf_addch(out, '"');
	}
	buf_addch(out, ',');
}

void
csv_str(struct buf *out, const char *s)
{
	csv_field(out, s, s ? strlen(s) : 0);
}

void
csv_fieldf(struct buf *out, const char *fmt, ...)
{
	struct buf f = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&f, fmt, ap);
	va_end(ap);
	csv_field(out, f.ptr, f.len);
	buf_release(&f);
}

void
csv_end_row(struct buf *out)
{
	if (out->len && out->ptr[out->len - 1] == ',')
		buf_truncate(out, out->len - 1);
	buf_add(out, "\r\n", 2);
}
