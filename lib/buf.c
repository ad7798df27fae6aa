/* buf.c - growable byte buffer; see buf.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

char buf_empty[1];

int
buf_grow(struct buf *b, size_t n)
{
	size_t want, cap;

	if (n > (size_t)-1 - b->len - 1)
		return -1;
	want = b->len + n + 1;
	if (b->max && b->len + n > b->max)
		return -1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap = cap < ((size_t)-1) / 2 ? cap * 2 : want;
	if (b->cap == 0) {
		b->ptr = xmalloc(cap);
		b->ptr[0] = '\0';
	} else {
		b->ptr = xrealloc(b->ptr, cap);
	}
	b->cap = cap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_grow(b, n) < 0)
		return -1;
	memmove(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addch(struct buf *b, int c)
{
	char ch = (char)c;

	return buf_add(b, &ch, 1);
}

int
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	if (buf_grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

int
buf_setf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	buf_reset(b);
	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
buf_truncate(struct buf *b, size_t n)
{
	if (n >= b->len)
		return;
	b->len = n;
	b->ptr[n] = '\0';
}

void
buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n == 0)
		return;
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->ptr, b->ptr + n, b->len - n);
	b->len -= n;
	b->ptr[b->len] = '\0';
}

void
buf_release(struct buf *b)
{
	if (b->cap)
		free(b->ptr);
	b->ptr = buf_empty;
	b->len = 0;
	b->cap = 0;
}

char *
buf_detach(struct buf *b)
{
	char *p;

	if (b->cap == 0)
		return xstrdup("");
	p = b->ptr;
	b->ptr = buf_empty;
	b->len = 0;
	b->cap = 0;
	return p;
}

void
buf_rtrim(struct buf *b)
{
	while (b->len > 0 && (b->ptr[b->len - 1] == ' ' ||
			b->ptr[b->len - 1] == '\t' ||
			b->ptr[b->len - 1] == '\n' ||
			b->ptr[b->len - 1] == '\r'))
		b->len--;
	b->ptr[b->len] = '\0';
}
